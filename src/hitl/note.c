/*
 * note.c -- Markdown notes of studies and trials, stored exactly as
 * optuna-dashboard's _note.py stores them: all in the study's system attrs,
 * a version key ("dashboard:note_ver" or "dashboard:<trial_id>:note_ver", an
 * int) and the body in chunks of 2045 characters ("...note_str:<i>", JSON
 * strings); chunks beyond a shorter body are overwritten with "" (attrs cannot
 * be deleted). Saves check the version optimistically and write in one
 * transaction that re-checks the version key, so two processes saving at
 * once cannot both win.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hitl/hitl.h"
#include "util/buf.h"
#include "util/pyjson.h"

void loupe__note_keys(int64_t trial_id, char ver_key[64], char prefix[64]) {
    if (trial_id < 0) {
        snprintf(ver_key, 64, "dashboard:note_ver");
        snprintf(prefix, 64, "dashboard:note_str:");
    } else {
        snprintf(ver_key, 64, "dashboard:%" PRId64 ":note_ver", trial_id);
        snprintf(prefix, 64, "dashboard:%" PRId64 ":note_str:", trial_id);
    }
}

/* The chunk index in a key suffix, as Python's str(i) writes it; -1 otherwise. */
static long chunk_index(const char *s) {
    if (!*s || (s[0] == '0' && s[1])) return -1;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

size_t loupe__note_chunk_count(const loupe_attr *attrs, size_t n, int64_t trial_id) {
    char ver[64], prefix[64];
    loupe__note_keys(trial_id, ver, prefix);
    size_t plen = strlen(prefix), count = 0, span = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(attrs[i].key, prefix, plen) != 0) continue;
        count++;
        long idx = chunk_index(attrs[i].key + plen);
        if (idx >= 0 && (size_t)idx + 1 > span) span = (size_t)idx + 1;
    }
    /* Beyond Python's count, also cover every index in use, so that blanking
     * up to here also repairs a note with gaps. */
    return count > span ? count : span;
}

/* Python's int(value) for the stored version: an int, a float (truncated) or
 * a decimal string. */
static int parse_version(const char *json, int64_t *out) {
    yyjson_doc *doc = loupe__pyjson_parse(json, strlen(json), NULL, 0);
    if (!doc) return -1;
    yyjson_val *v = yyjson_doc_get_root(doc);
    int rc = 0;
    if (yyjson_is_int(v)) {
        *out = yyjson_get_sint(v);
        if (yyjson_is_uint(v) && yyjson_get_uint(v) > INT64_MAX) rc = -1;
    } else if (yyjson_is_real(v) && isfinite(yyjson_get_real(v)) &&
               fabs(yyjson_get_real(v)) < 9.2e18) {
        *out = (int64_t)yyjson_get_real(v);
    } else if (yyjson_is_str(v)) {
        const char *s = yyjson_get_str(v);
        char *end;
        while (*s == ' ') s++;
        long long x = strtoll(s, &end, 10);
        while (*end == ' ') end++;
        if (end == s || *end) rc = -1;
        else *out = x;
    } else {
        rc = -1;
    }
    yyjson_doc_free(doc);
    return rc;
}

int loupe__note_from_attrs(const loupe_attr *attrs, size_t n, int64_t trial_id, int *found,
                           int64_t *version, char **body, char *err, size_t errcap) {
    char ver_key[64], prefix[64];
    loupe__note_keys(trial_id, ver_key, prefix);
    *found = 0;
    *version = 0;
    *body = NULL;
    const char *ver = loupe__attr_find(attrs, n, ver_key);
    if (!ver) {
        *body = strdup("");
        return *body ? LOUPE_OK : LOUPE_ENOMEM;
    }
    if (parse_version(ver, version) != 0) {
        snprintf(err, errcap, "note version '%s' = %.40s is not an integer", ver_key, ver);
        return LOUPE_ECORRUPT;
    }
    /* Python counts the keys with the prefix and joins chunks 0..count-1. */
    size_t plen = strlen(prefix), count = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(attrs[i].key, prefix, plen) == 0) count++;
    const char **chunks = count ? calloc(count, sizeof *chunks) : NULL;
    if (count && !chunks) return LOUPE_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(attrs[i].key, prefix, plen) != 0) continue;
        long idx = chunk_index(attrs[i].key + plen);
        if (idx >= 0 && (size_t)idx < count) chunks[idx] = attrs[i].json;
    }
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_append(&b, "", 0);
    int rc = LOUPE_OK;
    for (size_t i = 0; i < count && rc == LOUPE_OK; i++) {
        if (!chunks[i]) {
            snprintf(err, errcap, "note chunk '%s%zu' is missing (%zu chunk keys exist)", prefix, i,
                     count);
            rc = LOUPE_ECORRUPT;
            break;
        }
        yyjson_doc *doc = loupe__pyjson_parse(chunks[i], strlen(chunks[i]), NULL, 0);
        yyjson_val *v = doc ? yyjson_doc_get_root(doc) : NULL;
        if (!yyjson_is_str(v)) {
            snprintf(err, errcap, "note chunk '%s%zu' is not a JSON string", prefix, i);
            rc = LOUPE_ECORRUPT;
        } else {
            loupe__buf_append(&b, yyjson_get_str(v), yyjson_get_len(v));
        }
        yyjson_doc_free(doc);
    }
    free(chunks);
    if (rc == LOUPE_OK && b.failed) rc = LOUPE_ENOMEM;
    if (rc) {
        loupe__buf_free(&b);
        return rc;
    }
    *body = loupe__buf_steal(&b);
    *found = 1;
    return LOUPE_OK;
}

int loupe__note_attrs(loupe__attr_vec *out, int64_t trial_id, int64_t version, const char *body,
                      size_t old_chunks) {
    char ver_key[64], prefix[64], key[96], num[32];
    loupe__note_keys(trial_id, ver_key, prefix);
    snprintf(num, sizeof num, "%" PRId64, version);
    int rc = loupe__attr_vec_push(out, ver_key, num);
    size_t len = strlen(body), off = 0, k = 0;
    while (rc == LOUPE_OK && off < len) {
        size_t clen = loupe__utf8_prefix(body + off, len - off, LOUPE__NOTE_CHUNK);
        loupe__buf b;
        loupe__buf_init(&b, 0);
        loupe__pyjson_string(&b, body + off, clen);
        snprintf(key, sizeof key, "%s%zu", prefix, k);
        char *json = loupe__buf_steal(&b);
        rc = loupe__attr_vec_push_owned(out, strdup(key), json);
        off += clen;
        k++;
    }
    for (; rc == LOUPE_OK && k < old_chunks; k++) {
        snprintf(key, sizeof key, "%s%zu", prefix, k);
        rc = loupe__attr_vec_push(out, key, "\"\"");
    }
    return rc;
}

static int check_trial_id(loupe_study *study, int64_t trial_id) {
    if (trial_id < LOUPE_STUDY_NOTE)
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "invalid trial_id %" PRId64 ": pass a trial's trial_id (not its "
                                 "number) or LOUPE_STUDY_NOTE for the study's note",
                                 trial_id);
    return LOUPE_OK;
}

int loupe_note_get(loupe_study *study, int64_t trial_id, int64_t *version, char **body) {
    if (!study || !version || !body) return LOUPE_EINVAL;
    *body = NULL;
    *version = 0;
    loupe__hitl_clear(study);
    int rc = check_trial_id(study, trial_id);
    if (rc) return rc;
    const loupe_attr *attrs;
    size_t n;
    rc = loupe_study_system_attrs(study, &attrs, &n);
    if (rc) return rc;
    int found;
    char err[256] = "";
    rc = loupe__note_from_attrs(attrs, n, trial_id, &found, version, body, err, sizeof err);
    if (rc == LOUPE_ENOMEM) return loupe__hitl_error(study, rc, "out of memory");
    if (rc)
        return loupe__hitl_error(study, rc, "the stored note of study '%s' is damaged: %s; save "
                                 "the note again to repair it",
                                 loupe_study_name(study), err);
    return LOUPE_OK;
}

int loupe_note_save(loupe_study *study, int64_t trial_id, int64_t expected_version,
                    const char *body, int64_t *version, char **current_body) {
    if (!study) return LOUPE_EINVAL;
    if (current_body) *current_body = NULL;
    loupe__hitl_clear(study);
    int rc = check_trial_id(study, trial_id);
    if (rc) return rc;
    if (!body)
        return loupe__hitl_error(study, LOUPE_EINVAL, "note body is NULL: pass \"\" for an empty "
                                                      "note");
    if (expected_version < LOUPE_NOTE_ANY_VERSION)
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "invalid expected version %" PRId64 ": pass the version last "
                                 "read (0 for a note never saved) or LOUPE_NOTE_ANY_VERSION",
                                 expected_version);
    size_t bad;
    if (!loupe__utf8_valid(body, strlen(body), &bad))
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "note body is not valid UTF-8 (bad byte at offset %zu): convert "
                                 "the text to UTF-8",
                                 bad);
    /* Read, check the version, write only if the version key is still what was
     * read (checked inside the write's transaction). Losing that race means
     * another save landed in between: read again, which either reports the
     * conflict (the version moved) or, for LOUPE_NOTE_ANY_VERSION, retries. */
    char ver_key[64], prefix[64];
    loupe__note_keys(trial_id, ver_key, prefix);
    int64_t cur = 0;
    char *cur_body = NULL;
    loupe__attr_vec out = {0};
    for (int attempt = 0;; attempt++) {
        const loupe_attr *attrs;
        size_t n;
        rc = loupe_study_system_attrs(study, &attrs, &n);
        if (rc) goto cleanup;
        int found;
        char err[256] = "";
        cur = 0;
        free(cur_body);
        cur_body = NULL;
        rc = loupe__note_from_attrs(attrs, n, trial_id, &found, &cur, &cur_body, err, sizeof err);
        if (rc == LOUPE_ECORRUPT) {
            /* A damaged note can still be overwritten, but only without a version check. */
            if (expected_version != LOUPE_NOTE_ANY_VERSION) {
                rc = loupe__hitl_error(study, LOUPE_ECORRUPT,
                                       "the stored note is damaged (%s): save it with "
                                       "LOUPE_NOTE_ANY_VERSION to replace it",
                                       err);
                goto cleanup;
            }
            /* cur keeps the stored version when that part was readable (else 0). */
            rc = LOUPE_OK;
        }
        if (rc) {
            rc = loupe__hitl_error(study, rc, "out of memory");
            goto cleanup;
        }
        if (expected_version != LOUPE_NOTE_ANY_VERSION && expected_version != cur) {
            rc = loupe__hitl_error(study, LOUPE_ECONFLICT,
                                   "The text you are editing has changed (the note is at version "
                                   "%" PRId64 ", the save expected %" PRId64 "): reload the "
                                   "note, merge your edits and save again.",
                                   cur, expected_version);
            if (version) *version = cur;
            if (current_body) {
                *current_body = cur_body;
                cur_body = NULL;
            }
            goto cleanup;
        }
        size_t old_chunks = loupe__note_chunk_count(attrs, n, trial_id);
        loupe__attr_vec_free(&out);
        rc = loupe__note_attrs(&out, trial_id, cur + 1, body, old_chunks);
        if (rc) {
            rc = loupe__hitl_error(study, rc, "out of memory");
            goto cleanup;
        }
        /* The guard text must outlive the attrs array, which the write invalidates. */
        const char *seen = loupe__attr_find(attrs, n, ver_key);
        char *guard = seen ? strdup(seen) : NULL;
        if (seen && !guard) {
            rc = loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
            goto cleanup;
        }
        rc = loupe_study_set_system_attrs_if(study, ver_key, guard, out.len, out.items);
        free(guard);
        if (rc != LOUPE_ECONFLICT || attempt >= 16) break;
    }
    if (rc) goto cleanup;
    if (version) *version = cur + 1;
cleanup:
    free(cur_body);
    loupe__attr_vec_free(&out);
    return rc;
}
