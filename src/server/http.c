/*
 * http.c -- the libmicrohttpd daemon and the request pipeline: body
 * collection with size caps, the Host / token / Origin / read-only checks,
 * dispatch to the handlers, turning their loupe__resp into MHD responses, the
 * request log, and server start/stop.
 *
 * libmicrohttpd notes (STACK.md): the access handler is called at least twice
 * per request; queuing the response only on a later call keeps the
 * connection alive (queuing on the first call makes MHD 0.9.75 close it).
 */
#include "server/http.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/security.h"
#include "util/pyjson.h"
#include "util/timeutil.h"

#define DEFAULT_MAX_BODY (1u << 20)
#define DEFAULT_MAX_UPLOAD (128u << 20)

/* Per-request state kept across the access handler's calls. */
typedef struct req_state {
    loupe__req req;
    int too_large;
    int early_done; /* a response was queued on the first call */
    unsigned status;
    uint64_t bytes;
    int64_t t0;
    char method[12];
    char *url;
} req_state;

/* ------------------------------------------------------------ accessors */

const char *loupe__req_header(const loupe__req *req, const char *name) {
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *loupe__req_query(const loupe__req *req, const char *key) {
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

void loupe__resp_header(loupe__resp *resp, const char *name, const char *value) {
    if (resp->nhdr >= LOUPE__MAX_HEADERS) return;
    snprintf(resp->hdr[resp->nhdr].name, sizeof resp->hdr[resp->nhdr].name, "%s", name);
    resp->hdr[resp->nhdr].value = strdup(value);
    if (resp->hdr[resp->nhdr].value) resp->nhdr++;
}

void loupe__resp_error(loupe__resp *resp, unsigned status, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    loupe__buf_reset(&resp->body);
    loupe__buf_puts(&resp->body, "{\"reason\": ");
    loupe__pyjson_string(&resp->body, msg, strlen(msg));
    loupe__buf_putc(&resp->body, '}');
    resp->kind = LOUPE__RESP_BUF;
    resp->ctype = "application/json";
    resp->status = status;
}

void loupe__resp_json(loupe__resp *resp, unsigned status) {
    if (resp->body.failed) {
        loupe__resp_error(resp, 500, "The server ran out of memory while building the response.");
        return;
    }
    resp->kind = LOUPE__RESP_BUF;
    resp->ctype = "application/json";
    resp->status = status;
}

void loupe__resp_no_content(loupe__resp *resp) {
    loupe__buf_reset(&resp->body);
    resp->kind = LOUPE__RESP_BUF;
    resp->ctype = NULL;
    resp->status = 204;
}

yyjson_doc *loupe__req_json_object(const loupe__req *req, loupe__resp *resp) {
    if (req->body.len == 0) {
        loupe__resp_error(resp, 400, "The request body is empty; send a JSON object.");
        return NULL;
    }
    char err[256];
    yyjson_doc *doc = loupe__pyjson_parse(req->body.data, req->body.len, err, sizeof err);
    if (!doc) {
        loupe__resp_error(resp, 400, "The request body is not valid JSON: %s.", err);
        return NULL;
    }
    if (!yyjson_is_obj(yyjson_doc_get_root(doc))) {
        yyjson_doc_free(doc);
        loupe__resp_error(resp, 400, "The request body must be a JSON object.");
        return NULL;
    }
    return doc;
}

/* ------------------------------------------------------------ streamed study detail */

typedef struct detail_stream {
    loupe__snap *snap;
    size_t after;
    int phase;  /* 0 "{", 1 head, 2 ", \"trials\": [", 3 trials, 4 "], ", 5 tail, 6 "}", 7 end */
    size_t idx; /* trial index in phase 3 */
    int sep;    /* phase 3: the ", " before trial idx is pending */
    size_t off; /* bytes of the current piece already sent */
    loupe__zread zr;
    char *text;        /* the inflated text of block text_block - 1 */
    size_t text_block, text_alloc;
} detail_stream;

/* Trial idx from its sealed block, inflating the block once for all its trials. */
static const char *sealed_trial(detail_stream *d, size_t *len) {
    size_t b = d->idx / LOUPE__ZB, k = d->idx % LOUPE__ZB;
    const loupe__zblock *z = d->snap->blocks[b];
    if (d->text_block != b + 1) {
        if (d->text_alloc < z->raw_len) {
            char *p = realloc(d->text, z->raw_len);
            if (!p) return NULL;
            d->text = p;
            d->text_alloc = z->raw_len;
        }
        if (loupe__zblock_inflate(&d->zr, z, d->text)) return NULL;
        d->text_block = b + 1;
    }
    *len = loupe__zblock_trial_len(z, k);
    return d->text + z->off[k];
}

static size_t trial_len(const loupe__snap *s, size_t i) {
    return s->trials[i] ? s->trials[i]->len : loupe__zblock_trial_len(s->blocks[i / LOUPE__ZB], i % LOUPE__ZB);
}

static const char *piece(detail_stream *d, size_t *len) {
    static const char open[] = "{", trials[] = ", \"trials\": [", close_trials[] = "], ", close[] = "}";
    switch (d->phase) {
    case 0: *len = 1; return open;
    case 1: *len = d->snap->head->len; return d->snap->head->data;
    case 2: *len = sizeof trials - 1; return trials;
    case 3:
        if (d->sep) {
            *len = 2;
            return ", ";
        }
        if (!d->snap->trials[d->idx]) return sealed_trial(d, len);
        *len = d->snap->trials[d->idx]->len;
        return d->snap->trials[d->idx]->data;
    case 4: *len = sizeof close_trials - 1; return close_trials;
    case 5: *len = d->snap->tail->len; return d->snap->tail->data;
    case 6: *len = 1; return close;
    default: *len = 0; return NULL;
    }
}

static void next_piece(detail_stream *d) {
    d->off = 0;
    if (d->phase == 2) {
        d->phase = d->after < d->snap->n_trials ? 3 : 4;
        d->idx = d->after;
        d->sep = 0;
    } else if (d->phase == 3) {
        if (d->sep) {
            d->sep = 0;
        } else if (++d->idx < d->snap->n_trials) {
            d->sep = 1;
        } else {
            d->phase = 4;
        }
    } else {
        d->phase++;
    }
}

static ssize_t detail_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    detail_stream *d = cls;
    size_t n = 0;
    while (n < max && d->phase < 7) {
        size_t len = 0;
        const char *p = piece(d, &len);
        if (!p) return n ? (ssize_t)n : MHD_CONTENT_READER_END_WITH_ERROR; /* out of memory */
        size_t take = len - d->off;
        if (take > max - n) take = max - n;
        memcpy(buf + n, p + d->off, take);
        n += take;
        d->off += take;
        if (d->off == len) next_piece(d);
    }
    if (n == 0) return MHD_CONTENT_READER_END_OF_STREAM;
    return (ssize_t)n;
}

static void detail_free(void *cls) {
    detail_stream *d = cls;
    loupe__snap_release(d->snap);
    loupe__zread_free(&d->zr);
    free(d->text);
    free(d);
}

static uint64_t detail_size(const loupe__snap *s, size_t after) {
    uint64_t n = 1 + s->head->len + (sizeof ", \"trials\": [" - 1) + (sizeof "], " - 1) + s->tail->len + 1;
    for (size_t i = after; i < s->n_trials; i++) n += trial_len(s, i) + (i > after ? 2 : 0);
    return n;
}

/* ------------------------------------------------------------ the pipeline */

static int is_api_path(const loupe__req *req) { return strncmp(req->path, "/api/", 5) == 0; }

/* 401 for a missing or wrong token: JSON for the API, a short page otherwise. */
static void unauthorized(loupe__req *req, loupe__resp *resp) {
    if (is_api_path(req) || req->method != LOUPE__M_GET) {
        loupe__resp_error(resp, 401,
                          "This dashboard needs its access token: open the URL that `loupe dashboard` "
                          "printed (it ends with ?token=...), or send 'Authorization: Bearer <token>'.");
        return;
    }
    static const char page[] =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>loupe: token required</title></head>"
        "<body><h1>Access token required</h1><p>This dashboard is protected by an access token. "
        "Open the URL that <code>loupe dashboard</code> printed when it started (it ends with "
        "<code>?token=...</code>).</p></body></html>";
    resp->kind = LOUPE__RESP_STATIC;
    resp->data = page;
    resp->len = sizeof page - 1;
    resp->ctype = "text/html; charset=utf-8";
    resp->status = 401;
}

/* Returns 1 when the request may proceed; otherwise fills resp. */
static int check_token(loupe__req *req, loupe__resp *resp) {
    loupe__server *srv = req->srv;
    if (!srv->token) return 1;
    char given[256];
    char cookie_name[40];
    snprintf(cookie_name, sizeof cookie_name, "loupe_token_%u", (unsigned)srv->port);
    if (loupe__bearer_token(loupe__req_header(req, "Authorization"), given, sizeof given) &&
        loupe__token_equal(given, srv->token))
        return 1;
    if (loupe__cookie_get(loupe__req_header(req, "Cookie"), cookie_name, given, sizeof given) &&
        loupe__token_equal(given, srv->token))
        return 1;
    const char *q = loupe__req_query(req, "token");
    if (q && (req->route.id == LOUPE__R_PAGE || req->route.id == LOUPE__R_ROOT) &&
        loupe__token_equal(q, srv->token)) {
        /* remember it in a cookie and drop it from the address bar */
        char cookie[512], loc[512];
        snprintf(cookie, sizeof cookie, "%s=%s; Path=%s/; HttpOnly; SameSite=Strict", cookie_name,
                 srv->token, srv->base_path);
        int plain = 1; /* the decoded path goes into a header: printable ASCII only */
        for (const unsigned char *p = (const unsigned char *)req->path; *p && plain; p++)
            plain = *p > 0x20 && *p < 0x7f;
        snprintf(loc, sizeof loc, "%s%s", srv->base_path,
                 req->route.id == LOUPE__R_ROOT || !plain ? "/dashboard" : req->path);
        loupe__resp_header(resp, "Set-Cookie", cookie);
        loupe__resp_header(resp, "Location", loc);
        loupe__resp_header(resp, "Cache-Control", "no-store");
        resp->kind = LOUPE__RESP_STATIC;
        resp->data = "";
        resp->len = 0;
        resp->status = 302;
        return 0;
    }
    unauthorized(req, resp);
    return 0;
}

static void not_found(loupe__req *req, loupe__resp *resp) {
    if (req->route.method_not_allowed) {
        loupe__resp_error(resp, 405, "Method %s is not allowed on %s; allowed: %s.",
                          req->method_name, req->path, req->route.allow);
        loupe__resp_header(resp, "Allow", req->route.allow);
        return;
    }
    if (req->route.bad_id) {
        loupe__resp_error(resp, 404, "Artifact ids are UUIDs (36 characters); '%s' is not one.",
                          req->route.artifact_id);
        return;
    }
    loupe__resp_error(resp, 404, "Not found: %s", req->path);
}

static void dispatch(loupe__req *req, loupe__resp *resp) {
    loupe__server *srv = req->srv;
    const char *host = loupe__req_header(req, "Host");
    if (!loupe__host_ok(host, srv->host, (const char *const *)srv->allowed, srv->cfg.n_allowed_hosts)) {
        loupe__resp_error(resp, 403,
                          "Host '%s' is not accepted by this server (protection against DNS "
                          "rebinding). Open http://127.0.0.1:%u%s/ or start loupe dashboard with "
                          "--allow-host NAME.",
                          host ? host : "(none)", (unsigned)srv->port, srv->base_path);
        return;
    }
    if (!req->path) {
        loupe__resp_error(resp, 404, "Not found: the dashboard lives under %s/", srv->base_path);
        return;
    }
    if (!check_token(req, resp)) return;
    loupe__route_id id = req->route.id;
    if (id == LOUPE__R_NONE) {
        not_found(req, resp);
        return;
    }
    if (loupe__route_is_write(id)) {
        if (srv->cfg.read_only) {
            loupe__resp_error(resp, 403,
                              "This dashboard runs with --read-only: every change is refused. "
                              "Restart it without --read-only to allow changes.");
            return;
        }
        if (!loupe__origin_ok(loupe__req_header(req, "Origin"), loupe__req_header(req, "Sec-Fetch-Site"),
                              host)) {
            loupe__resp_error(resp, 403,
                              "Cross-site request refused: the Origin '%s' does not match this "
                              "server (%s).",
                              loupe__req_header(req, "Origin") ? loupe__req_header(req, "Origin") : "(none)",
                              host);
            return;
        }
    }
    switch (id) {
    case LOUPE__R_ROOT: {
        char loc[600];
        snprintf(loc, sizeof loc, "%s/dashboard", srv->base_path);
        loupe__resp_header(resp, "Location", loc);
        resp->kind = LOUPE__RESP_STATIC;
        resp->data = "";
        resp->len = 0;
        resp->status = 302;
        return;
    }
    case LOUPE__R_PAGE: loupe__page(req, resp); return;
    case LOUPE__R_STATIC:
    case LOUPE__R_FAVICON: loupe__static(req, resp); return;
    case LOUPE__R_META: loupe__api_meta(req, resp); return;
    case LOUPE__R_STUDIES: loupe__api_studies(req, resp); return;
    case LOUPE__R_STUDY_CREATE: loupe__api_study_create(req, resp); return;
    case LOUPE__R_STUDY: loupe__api_study(req, resp); return;
    case LOUPE__R_STUDY_DELETE: loupe__api_study_delete(req, resp); return;
    case LOUPE__R_STUDY_RENAME: loupe__api_study_rename(req, resp); return;
    case LOUPE__R_STUDY_NOTE:
    case LOUPE__R_TRIAL_NOTE: loupe__api_note(req, resp); return;
    case LOUPE__R_IMPORTANCES: loupe__api_importances(req, resp); return;
    case LOUPE__R_STUDY_COMPACT: loupe__api_study_compact(req, resp); return;
    case LOUPE__R_PLOT:
    case LOUPE__R_COMPARE_PLOT: loupe__api_plot(req, resp); return;
    case LOUPE__R_PREFERENCE:
    case LOUPE__R_PREF_REMOVE:
    case LOUPE__R_PREF_RESTORE:
    case LOUPE__R_PREF_COMPONENT:
    case LOUPE__R_SKIP: loupe__api_preference(req, resp); return;
    case LOUPE__R_TELL: loupe__api_tell(req, resp); return;
    case LOUPE__R_USER_ATTRS: loupe__api_user_attrs(req, resp); return;
    case LOUPE__R_CSV: loupe__api_csv(req, resp); return;
    case LOUPE__R_ARTIFACT_STUDY:
    case LOUPE__R_ARTIFACT_TRIAL: loupe__api_artifact_get(req, resp); return;
    case LOUPE__R_UPLOAD_STUDY:
    case LOUPE__R_UPLOAD_TRIAL: loupe__api_artifact_upload(req, resp); return;
    case LOUPE__R_DELETE_ART_STUDY:
    case LOUPE__R_DELETE_ART_TRIAL: loupe__api_artifact_delete(req, resp); return;
    case LOUPE__R_EVENTS: loupe__api_events(req, resp); return;
    case LOUPE__R_LLM:
        loupe__resp_error(resp, 400, "No access to the LLM provider.");
        return;
    default: not_found(req, resp); return;
    }
}

static void resp_free(loupe__resp *resp) {
    loupe__buf_free(&resp->body);
    for (size_t i = 0; i < resp->nhdr; i++) free(resp->hdr[i].value);
    resp->nhdr = 0;
}

/* Builds the MHD response for resp (consuming its resources) and queues it. */
static enum MHD_Result queue(struct MHD_Connection *conn, req_state *st, loupe__resp *resp) {
    struct MHD_Response *r = NULL;
    uint64_t bytes = 0;
    switch (resp->kind) {
    case LOUPE__RESP_BUF: {
        size_t len = resp->body.len;
        char *data = loupe__buf_steal(&resp->body);
        r = MHD_create_response_from_buffer(len, data ? data : (char *)"",
                                            data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!r) free(data);
        bytes = len;
        break;
    }
    case LOUPE__RESP_STATIC:
        r = MHD_create_response_from_buffer(resp->len, (void *)resp->data, MHD_RESPMEM_PERSISTENT);
        bytes = resp->len;
        break;
    case LOUPE__RESP_FD:
        r = MHD_create_response_from_fd_at_offset64(resp->flen, resp->fd, resp->off);
        if (!r) close(resp->fd);
        bytes = resp->flen;
        break;
    case LOUPE__RESP_DETAIL: {
        detail_stream *d = calloc(1, sizeof *d);
        if (!d) {
            loupe__snap_release(resp->snap);
            break;
        }
        d->snap = resp->snap;
        d->after = resp->after;
        bytes = detail_size(d->snap, d->after);
        r = MHD_create_response_from_callback(bytes, 256 * 1024, detail_read, d, detail_free);
        if (!r) detail_free(d);
        break;
    }
    case LOUPE__RESP_SSE:
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, loupe__sse_read, resp->sse,
                                              loupe__sse_free);
        if (!r) loupe__sse_free(resp->sse);
        break;
    }
    if (!r) {
        resp_free(resp);
        return MHD_NO;
    }
    if (resp->ctype) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->ctype);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    int has_cache = 0;
    for (size_t i = 0; i < resp->nhdr; i++) {
        MHD_add_response_header(r, resp->hdr[i].name, resp->hdr[i].value);
        if (strcasecmp(resp->hdr[i].name, "Cache-Control") == 0) has_cache = 1;
    }
    if (!has_cache && (resp->ctype == NULL || strncmp(resp->ctype, "application/json", 16) == 0))
        MHD_add_response_header(r, "Cache-Control", "no-store");
    if (resp->close) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    st->status = resp->status;
    st->bytes = bytes;
    enum MHD_Result ret = MHD_queue_response(conn, resp->status, r);
    MHD_destroy_response(r);
    resp_free(resp);
    return ret;
}

/* Strips the base path; NULL when the URL is outside it. */
static const char *below_base(const loupe__server *srv, const char *url) {
    size_t bl = strlen(srv->base_path);
    if (bl == 0) return url;
    if (strncmp(url, srv->base_path, bl) != 0) return NULL;
    if (url[bl] == '\0') return "/";
    if (url[bl] != '/') return NULL;
    return url + bl;
}

static int is_upload_route(loupe__route_id id) {
    return id == LOUPE__R_UPLOAD_STUDY || id == LOUPE__R_UPLOAD_TRIAL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls) {
    (void)version;
    loupe__server *srv = cls;
    req_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        *con_cls = st;
        st->t0 = loupe__monotonic_us();
        snprintf(st->method, sizeof st->method, "%s", method);
        st->url = strdup(url ? url : "");
        loupe__req *req = &st->req;
        req->srv = srv;
        req->conn = conn;
        req->method = loupe__method_parse(method);
        req->method_name = st->method;
        req->path = st->url ? below_base(srv, st->url) : NULL;
        if (req->path) loupe__route_match(req->method, req->path, strlen(req->path), &req->route);
        size_t cap = is_upload_route(req->route.id) ? srv->cfg.max_upload : srv->cfg.max_body;
        loupe__buf_init(&req->body, cap);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > cap) {
            /* refuse before reading the body; MHD closes the connection after */
            loupe__resp resp = {0};
            loupe__resp_error(&resp, 413,
                              "The request body (%s bytes) exceeds this server's limit of %zu bytes%s.",
                              cl, cap,
                              is_upload_route(req->route.id) ? " (set it with --max-upload-mb)" : "");
            resp.close = 1;
            st->early_done = 1;
            return queue(conn, st, &resp);
        }
        return MHD_YES;
    }
    if (st->early_done) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (loupe__buf_append(&st->req.body, upload_data, *upload_data_size)) st->too_large = 1;
        *upload_data_size = 0;
        /* a body without Content-Length (chunked) that passes the cap: drop the connection */
        return st->too_large ? MHD_NO : MHD_YES;
    }
    loupe__resp resp = {0};
    resp.fd = -1;
    dispatch(&st->req, &resp);
    return queue(conn, st, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)conn;
    loupe__server *srv = cls;
    req_state *st = *con_cls;
    if (!st) return;
    if (!srv->cfg.quiet) {
        double ms = (double)(loupe__monotonic_us() - st->t0) / 1000.0;
        pthread_mutex_lock(&srv->log_lock);
        fprintf(stderr, "%s %s %u %llu %.1fms%s\n", st->method, st->url ? st->url : "?", st->status,
                (unsigned long long)st->bytes, ms,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
        pthread_mutex_unlock(&srv->log_lock);
    }
    loupe__buf_free(&st->req.body);
    free(st->url);
    free(st);
    *con_cls = NULL;
}

/* ------------------------------------------------------------ start / stop */

/* libmicrohttpd's own messages; a browser closing a tab mid-stream is normal. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    loupe__server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (strstr(msg, "no longer available") || strstr(msg, "reset by") || strstr(msg, "Broken pipe") ||
        strstr(msg, "closed by") || strstr(msg, "Connection timed out"))
        return;
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    pthread_mutex_lock(&srv->log_lock);
    fprintf(stderr, "loupe dashboard: http: %s\n", msg);
    pthread_mutex_unlock(&srv->log_lock);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void server_free(loupe__server *srv) {
    if (!srv) return;
    loupe__views_stop(srv->views);
    loupe__hub_free(srv->hub);
    loupe__pool_close(srv->pool);
    loupe__imp_cache_free(srv->imp);
    loupe__compact_cache_free(srv->compact);
    if (srv->art_dirfd >= 0) close(srv->art_dirfd);
    free(srv->storage_url);
    free(srv->artifact_dir);
    free(srv->host);
    free(srv->base_path);
    free(srv->token);
    for (size_t i = 0; srv->allowed && i < srv->cfg.n_allowed_hosts; i++) free(srv->allowed[i]);
    free(srv->allowed);
    pthread_mutex_destroy(&srv->log_lock);
    free(srv);
}

static int env_int(const char *name, int def) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

int loupe__server_start(const loupe__server_config *cfg, loupe__server **out, char *err, size_t errcap) {
    *out = NULL;
    int rc = LOUPE_OK;
    loupe__server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errcap, "out of memory");
        return LOUPE_ENOMEM;
    }
    pthread_mutex_init(&srv->log_lock, NULL);
    srv->art_dirfd = -1;
    srv->cfg = *cfg;
    const char *bp = cfg->base_path ? cfg->base_path : "";
    srv->storage_url = dup_or_null(cfg->storage_url);
    srv->artifact_dir = dup_or_null(cfg->artifact_dir);
    srv->host = strdup(cfg->host ? cfg->host : "127.0.0.1");
    srv->base_path = strdup(bp);
    srv->token = cfg->token && *cfg->token ? strdup(cfg->token) : NULL;
    srv->allowed = calloc(cfg->n_allowed_hosts + 1, sizeof *srv->allowed);
    if (!srv->storage_url || !srv->host || !srv->base_path || !srv->allowed ||
        (cfg->artifact_dir && !srv->artifact_dir)) {
        snprintf(err, errcap, "out of memory");
        rc = LOUPE_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < cfg->n_allowed_hosts; i++) srv->allowed[i] = dup_or_null(cfg->allowed_hosts[i]);
    srv->cfg.storage_url = srv->storage_url;
    srv->cfg.artifact_dir = srv->artifact_dir;
    srv->cfg.host = srv->host;
    srv->cfg.base_path = srv->base_path;
    srv->cfg.token = srv->token;
    if (!srv->cfg.max_body) srv->cfg.max_body = DEFAULT_MAX_BODY;
    if (!srv->cfg.max_upload) srv->cfg.max_upload = DEFAULT_MAX_UPLOAD;
    if (!srv->cfg.poll_ms) srv->cfg.poll_ms = env_int("LOUPE_POLL_MS", 25);
    if (!srv->cfg.ping_ms) srv->cfg.ping_ms = env_int("LOUPE_SSE_PING_MS", 15000);
    if (bp[0] && (bp[0] != '/' || bp[strlen(bp) - 1] == '/' || strstr(bp, "//") || strchr(bp, '?'))) {
        snprintf(err, errcap,
                 "--base-path '%s' must start with '/' and not end with one (e.g. /optuna)", bp);
        rc = LOUPE_EINVAL;
        goto fail;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = cfg->threads ? cfg->threads : (size_t)(ncpu > 4 ? 4 : ncpu < 1 ? 1 : ncpu);
    srv->cfg.threads = threads;

    if (cfg->artifact_dir) {
        srv->art_dirfd = open(cfg->artifact_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (srv->art_dirfd < 0) {
            snprintf(err, errcap, "--artifact-dir '%s' cannot be opened: %s (create it first)",
                     cfg->artifact_dir, strerror(errno));
            rc = LOUPE_EIO;
            goto fail;
        }
    }
    if ((rc = loupe__pool_open(srv->storage_url, srv->artifact_dir, threads, &srv->pool, err, errcap)))
        goto fail;
    srv->hub = loupe__hub_new(256, 32u << 20);
    srv->imp = loupe__imp_cache_new();
    srv->compact = loupe__compact_cache_new();
    if (!srv->hub || !srv->imp || !srv->compact) {
        snprintf(err, errcap, "out of memory");
        rc = LOUPE_ENOMEM;
        goto fail;
    }
    loupe__views_config vc = {srv->storage_url, srv->pool,      srv->hub,
                              srv->cfg.poll_ms, srv->cfg.ping_ms, srv->cfg.quiet,
                              srv->cfg.json_budget};
    if ((rc = loupe__views_start(&vc, &srv->views, err, errcap))) goto fail;

    /* resolve the bind address (names like "localhost" too) */
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", cfg->port);
    const char *bind_host = srv->host;
    if (strcmp(bind_host, "[::]") == 0) bind_host = "::";
    int gai = getaddrinfo(loupe__is_wildcard_bind(srv->host) && !strchr(srv->host, ':') ? NULL : bind_host,
                          portstr, &hints, &ai);
    if (gai) {
        snprintf(err, errcap, "cannot resolve --host '%s': %s", srv->host, gai_strerror(gai));
        rc = LOUPE_EINVAL;
        goto fail;
    }
    struct addrinfo *use = ai;
    for (struct addrinfo *p = ai; p; p = p->ai_next)
        if (p->ai_family == AF_INET) {
            use = p;
            break;
        }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (use->ai_family == AF_INET6) flags |= strcmp(bind_host, "::") == 0 ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, use->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!srv->daemon) {
        snprintf(err, errcap,
                 "cannot listen on %s port %d (is another server using it? try --port %d or "
                 "another --host)",
                 srv->host, cfg->port, cfg->port + 1);
        rc = LOUPE_EIO;
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : (uint16_t)cfg->port;
    *out = srv;
    return LOUPE_OK;
fail:
    server_free(srv);
    return rc ? rc : LOUPE_ERROR;
}

uint16_t loupe__server_port(const loupe__server *srv) { return srv->port; }

size_t loupe__server_sse_clients(loupe__server *srv) { return loupe__hub_count(srv->hub); }

void loupe__server_stop(loupe__server *srv) {
    if (!srv) return;
    if (srv->daemon) {
        /* stop accepting, end the event streams (resuming the suspended
         * ones, as MHD_stop_daemon requires), then stop */
        MHD_quiesce_daemon(srv->daemon);
        loupe__hub_close_all(srv->hub);
        loupe__hub_wait_empty(srv->hub, 2000);
        MHD_stop_daemon(srv->daemon);
        srv->daemon = NULL;
    }
    server_free(srv);
}
