/*
 * api_artifacts.c -- artifact download, upload and delete.
 *
 * Downloads are streamed from the artifact directory with sendfile
 * (MHD_create_response_from_fd), with the stored Content-Type and
 * Content-Encoding (upstream misspells it "Content-Encodings"), an ETag,
 * Cache-Control, single Range requests, and a sandboxing CSP so an uploaded
 * HTML file cannot run script in the dashboard's origin. The file is opened
 * relative to the directory's descriptor by its UUID, so no path can leave it.
 * A blob missing from disk is a 404, not upstream's 500.
 *
 * Uploads accept upstream's JSON body with a base64 data URI, and loupe's raw
 * body (?filename=NAME), which avoids the 33% inflation.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/http.h"
#include "server/jsonw.h"
#include "util/uuid.h"

static int require_store(loupe__req *req, loupe__resp *resp) {
    if (req->srv->artifact_dir) return 1;
    loupe__resp_error(resp, 400, "Cannot access to the artifacts.");
    return 0;
}

/* The trial's number when trial_id belongs to study sid; -1 otherwise. */
static int64_t trial_number_in(loupe__req *req, int64_t sid, int64_t trial_id) {
    int64_t s, number;
    if (loupe__views_find_trial(req->srv->views, trial_id, &s, &number, NULL) || s != sid) return -1;
    return number;
}

/* Parses a single "bytes=" range against size; 1 = a range, 0 = whole file,
 * -1 = unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len) {
    if (!h || strncasecmp(h, "bytes=", 6) != 0) return 0;
    const char *p = h + 6;
    if (strchr(p, ',')) return 0; /* several ranges: send the whole file (allowed) */
    while (*p == ' ') p++;
    char *end;
    if (*p == '-') {
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (end == p + 1 || *end) return 0;
        if (n == 0) return -1;
        if (n > size) n = size;
        *off = size - n;
        *len = n;
        return size ? 1 : -1;
    }
    if (*p < '0' || *p > '9') return 0;
    unsigned long long a = strtoull(p, &end, 10);
    if (*end != '-') return 0;
    p = end + 1;
    unsigned long long b = size ? size - 1 : 0;
    if (*p) {
        b = strtoull(p, &end, 10);
        if (*end || end == p) return 0;
        if (b < a) return 0;
        if (b >= size) b = size - 1;
    }
    if (a >= size) return -1;
    *off = a;
    *len = b - a + 1;
    return 1;
}

/* Only header-safe text (no CR/LF/control characters) goes into headers. */
static int header_safe(const char *s) {
    if (!s || !*s || strlen(s) > 200) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7f) return 0;
    return 1;
}

void loupe__api_artifact_get(loupe__req *req, loupe__resp *resp) {
    if (!require_store(req, resp)) return;
    if (req->route.bad_id || !loupe__is_uuid(req->route.artifact_id)) {
        loupe__resp_error(resp, 404, "Not Found");
        return;
    }
    int64_t sid = req->route.study_id;
    int is_trial = req->route.id == LOUPE__R_ARTIFACT_TRIAL;
    char *name = loupe__api_study_name(req, sid, resp);
    if (!name) return;
    int64_t number = is_trial ? trial_number_in(req, sid, req->route.trial_id) : -1;
    loupe__snap *snap = is_trial ? loupe__views_study(req->srv->views, sid, 0) : NULL;
    loupe__slot *slot = NULL;
    loupe_study *study = NULL;
    loupe_artifact_list *found = NULL;
    int fd = -1;
    if (is_trial && (number < 0 || !snap || (size_t)number >= loupe_trial_list_count(snap->list))) {
        loupe__resp_error(resp, 404, "Not Found");
        goto cleanup;
    }
    slot = loupe__pool_acquire(req->srv->pool);
    if (loupe__api_load_study(slot, name, sid, &study, resp)) goto cleanup;
    int rc = loupe_artifact_find(study, is_trial ? loupe_trial_list_at(snap->list, (size_t)number) : NULL,
                                 req->route.artifact_id, &found);
    if (rc == LOUPE_ENOTFOUND) {
        loupe__resp_error(resp, 404, "Not Found");
        goto cleanup;
    }
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    const loupe_artifact_meta *m = loupe_artifact_list_at(found, 0);
    fd = openat(req->srv->art_dirfd, req->route.artifact_id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        loupe__resp_error(resp, 404,
                          "Artifact %s (%s) is recorded but its file is missing from the artifact "
                          "directory %s.",
                          req->route.artifact_id, m->filename, req->srv->artifact_dir);
        goto cleanup;
    }
    char etag[96];
    snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", (uint64_t)sb.st_ino,
             (uint64_t)sb.st_size, (uint64_t)sb.st_mtim.tv_sec * 1000000000u + (uint64_t)sb.st_mtim.tv_nsec);
    loupe__resp_header(resp, "ETag", etag);
    loupe__resp_header(resp, "Cache-Control", "private, max-age=86400");
    loupe__resp_header(resp, "Accept-Ranges", "bytes");
    loupe__resp_header(resp, "Content-Security-Policy",
                       "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; "
                       "style-src 'unsafe-inline'");
    loupe__resp_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    const char *enc = m->encoding;
    int browser_enc = enc && (strcmp(enc, "gzip") == 0 || strcmp(enc, "br") == 0 ||
                              strcmp(enc, "deflate") == 0 || strcmp(enc, "compress") == 0);
    snprintf(resp->ctype_buf, sizeof resp->ctype_buf, "%s",
             header_safe(m->mimetype) && (!enc || browser_enc) ? m->mimetype : "application/octet-stream");
    resp->ctype = resp->ctype_buf;
    if (browser_enc) loupe__resp_header(resp, "Content-Encoding", enc);
    const char *inm = loupe__req_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        resp->kind = LOUPE__RESP_STATIC;
        resp->data = "";
        resp->len = 0;
        resp->status = 304;
        goto cleanup;
    }
    uint64_t size = (uint64_t)sb.st_size, off = 0, len = size;
    const char *ifr = loupe__req_header(req, "If-Range");
    int r = (!ifr || strcmp(ifr, etag) == 0) ? parse_range(loupe__req_header(req, "Range"), size, &off, &len) : 0;
    if (r < 0) {
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
        loupe__resp_header(resp, "Content-Range", cr);
        loupe__resp_error(resp, 416, "The requested range is outside the artifact (%" PRIu64 " bytes).", size);
        goto cleanup;
    }
    if (r > 0) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + len - 1, size);
        loupe__resp_header(resp, "Content-Range", cr);
    }
    resp->kind = LOUPE__RESP_FD;
    resp->fd = fd;
    fd = -1; /* MHD closes it */
    resp->off = off;
    resp->flen = len;
    resp->status = r > 0 ? 206 : 200;
cleanup:
    if (fd >= 0) close(fd);
    loupe_artifact_list_free(found);
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    loupe__snap_release(snap);
    free(name);
}

/* Strict base64 (whitespace skipped); returns the decoded length or -1. */
static long b64_decode(const char *in, size_t n, unsigned char *out) {
    static signed char map[256];
    static int init = 0;
    if (!init) {
        memset(map, -1, sizeof map);
        const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; i++) map[(unsigned char)al[i]] = (signed char)i;
        init = 1;
    }
    unsigned acc = 0;
    int bits = 0, pad = 0;
    long o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || map[c] < 0) return -1;
        acc = (acc << 6) | (unsigned)map[c];
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2) return -1;
    return o;
}

/* Writes the artifact list of the trial (or study) as {"artifact_id", "artifacts"}. */
static void upload_answer(loupe__resp *resp, loupe_study *study, const loupe_frozen_trial *ft, const char *id) {
    loupe_artifact_list *list = NULL;
    int rc = loupe_artifact_list_get(study, ft, &list);
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        return;
    }
    loupe__buf *b = &resp->body;
    loupe__buf_printf(b, "{\"artifact_id\": \"%s\", \"artifacts\": [", id);
    for (size_t i = 0; i < loupe_artifact_list_count(list); i++) {
        const loupe_artifact_meta *m = loupe_artifact_list_at(list, i);
        loupe__buf_puts(b, i ? ", {\"artifact_id\": " : "{\"artifact_id\": ");
        loupe__jw_string(b, m->artifact_id);
        loupe__buf_puts(b, ", \"filename\": ");
        loupe__jw_string(b, m->filename);
        loupe__buf_puts(b, ", \"mimetype\": ");
        loupe__jw_string(b, m->mimetype);
        loupe__buf_puts(b, ", \"encoding\": ");
        if (m->encoding) loupe__jw_string(b, m->encoding);
        else loupe__buf_puts(b, "null");
        loupe__buf_putc(b, '}');
    }
    loupe__buf_puts(b, "]}");
    loupe_artifact_list_free(list);
    loupe__resp_json(resp, 201);
}

void loupe__api_artifact_upload(loupe__req *req, loupe__resp *resp) {
    int is_trial = req->route.id == LOUPE__R_UPLOAD_TRIAL;
    int64_t sid = req->route.study_id;
    const char *raw_name = loupe__req_query(req, "filename");
    yyjson_doc *doc = NULL;
    unsigned char *data = NULL;
    const void *bytes = NULL;
    size_t len = 0;
    const char *filename = "", *mimetype = NULL;
    char *name = NULL;
    loupe__slot *slot = NULL;
    loupe_study *study = NULL;
    loupe_trial *trial = NULL;
    int64_t number = -1;
    if (!(name = loupe__api_study_name(req, sid, resp))) return;
    if (is_trial) {
        number = trial_number_in(req, sid, req->route.trial_id);
        if (number < 0) {
            loupe__resp_error(resp, 400, "Invalid study_id or trial_id");
            goto cleanup;
        }
    }
    if (!require_store(req, resp)) goto cleanup;
    if (raw_name) {
        filename = raw_name;
        mimetype = loupe__req_query(req, "mimetype");
        bytes = req->body.data ? req->body.data : "";
        len = req->body.len;
    } else {
        if (!(doc = loupe__req_json_object(req, resp))) goto cleanup;
        yyjson_val *root = yyjson_doc_get_root(doc);
        yyjson_val *file = yyjson_obj_get(root, "file"), *fn = yyjson_obj_get(root, "filename");
        if (!file || yyjson_is_null(file)) {
            loupe__resp_error(resp, 400, "Please specify the 'file' key.");
            goto cleanup;
        }
        const char *uri = yyjson_is_str(file) ? yyjson_get_str(file) : NULL;
        const char *comma = uri ? strchr(uri, ',') : NULL;
        if (!uri || strncmp(uri, "data:", 5) != 0 || !comma) {
            loupe__resp_error(resp, 400, "'file' must be a data URI: data:<mimetype>;base64,<data>.");
            goto cleanup;
        }
        size_t n64 = yyjson_get_len(file) - (size_t)(comma + 1 - uri);
        data = malloc(n64 / 4 * 3 + 4);
        long dl = data ? b64_decode(comma + 1, n64, data) : -1;
        if (dl < 0) {
            loupe__resp_error(resp, 400, "'file' is not valid base64 after the data URI's comma.");
            goto cleanup;
        }
        bytes = data;
        len = (size_t)dl;
        if (fn && yyjson_is_str(fn)) filename = yyjson_get_str(fn);
        else if (fn && !yyjson_is_null(fn)) {
            loupe__resp_error(resp, 400, "'filename' must be a string.");
            goto cleanup;
        }
    }
    if (strlen(filename) > 1024 || strpbrk(filename, "\r\n")) {
        loupe__resp_error(resp, 400, "The file name must be at most 1024 characters on one line.");
        goto cleanup;
    }
    slot = loupe__pool_acquire(req->srv->pool);
    if (loupe__api_load_study(slot, name, sid, &study, resp)) goto cleanup;
    int rc;
    if (is_trial && (rc = loupe_study_trial(study, number, &trial))) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    char id[37];
    rc = loupe_artifact_upload_buffer(slot->artifacts, study, trial, filename, bytes, len, mimetype, NULL, id);
    if (rc == LOUPE_EFINISHED) {
        loupe__resp_error(resp, 400, "The trial is already finished.");
        goto cleanup;
    }
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    const loupe_frozen_trial *ft = NULL;
    if (trial && (rc = loupe_trial_snapshot(trial, &ft))) {
        loupe__resp_lib_error(resp, rc, loupe_trial_errmsg(trial));
        goto cleanup;
    }
    upload_answer(resp, study, ft, id);
cleanup:
    loupe_trial_free(trial);
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    if (resp->status == 201) loupe__views_sync(req->srv->views);
    free(data);
    free(name);
    yyjson_doc_free(doc);
}

void loupe__api_artifact_delete(loupe__req *req, loupe__resp *resp) {
    if (!require_store(req, resp)) return;
    if (req->route.bad_id || !loupe__is_uuid(req->route.artifact_id)) {
        loupe__resp_error(resp, 404, "Artifact is not found.");
        return;
    }
    int is_trial = req->route.id == LOUPE__R_DELETE_ART_TRIAL;
    int64_t sid = req->route.study_id, number = -1;
    char *name = loupe__api_study_name(req, sid, resp);
    if (!name) return;
    loupe__slot *slot = NULL;
    loupe_study *study = NULL;
    loupe_trial *trial = NULL;
    if (is_trial && (number = trial_number_in(req, sid, req->route.trial_id)) < 0) {
        loupe__resp_error(resp, 404, "Artifact is not found.");
        goto cleanup;
    }
    slot = loupe__pool_acquire(req->srv->pool);
    if (loupe__api_load_study(slot, name, sid, &study, resp)) goto cleanup;
    int rc = 0;
    if (is_trial && (rc = loupe_study_trial(study, number, &trial))) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    rc = loupe_artifact_delete(slot->artifacts, study, trial, req->route.artifact_id);
    if (rc == LOUPE_ENOTFOUND) loupe__resp_error(resp, 404, "Artifact is not found.");
    else if (rc) loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
    else loupe__resp_no_content(resp);
cleanup:
    loupe_trial_free(trial);
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    if (resp->status == 204) loupe__views_sync(req->srv->views);
    free(name);
}
