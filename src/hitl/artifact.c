/*
 * artifact.c -- artifact metadata as optuna.artifacts and optuna-dashboard keep
 * it: system attr "artifacts:<uuid>" on a trial or study whose value is a JSON
 * string holding {"artifact_id", "filename", "mimetype", "encoding"} (encoded
 * twice), legacy study attrs "dashboard:artifacts:<trial_id>:<uuid>", and JSON
 * "null" strings for deleted artifacts. Upload, list, find, delete, URL paths.
 * Order of writes: the blob before its metadata on upload, the metadata before
 * the blob on delete, so metadata never names a missing or partial blob.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hitl/artifact_store.h"
#include "hitl/hitl.h"
#include "util/buf.h"
#include "util/pyjson.h"
#include "util/uuid.h"

#define ATTR_PREFIX "artifacts:"
#define LEGACY_PREFIX "dashboard:artifacts:"
/* json.dumps(json.dumps(None)): what a deleted artifact's value_json holds. */
#define DELETED_JSON "\"null\""

struct loupe_artifact_list {
    loupe_artifact_meta *items;
    size_t len;
    size_t alloc;
};

/* ---------------------------------------------------------------- list memory */

static void meta_free(loupe_artifact_meta *m) {
    free((char *)m->artifact_id);
    free((char *)m->filename);
    free((char *)m->mimetype);
    free((char *)m->encoding);
    memset(m, 0, sizeof *m);
}

void loupe_artifact_list_free(loupe_artifact_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->len; i++) meta_free(&list->items[i]);
    free(list->items);
    free(list);
}

size_t loupe_artifact_list_count(const loupe_artifact_list *list) { return list ? list->len : 0; }

const loupe_artifact_meta *loupe_artifact_list_at(const loupe_artifact_list *list, size_t i) {
    return list && i < list->len ? &list->items[i] : NULL;
}

static int list_push(loupe_artifact_list *list, loupe_artifact_meta *m) {
    if (list->len == list->alloc) {
        size_t na = list->alloc ? list->alloc * 2 : 8;
        loupe_artifact_meta *ni = realloc(list->items, na * sizeof *ni);
        if (!ni) return LOUPE_ENOMEM;
        list->items = ni;
        list->alloc = na;
    }
    list->items[list->len++] = *m;
    memset(m, 0, sizeof *m);
    return LOUPE_OK;
}

/* ---------------------------------------------------------------- metadata codec */

enum { META_OK = 0, META_DELETED = 1, META_BAD = -1, META_NOMEM = -2 };

static char *dup_str(yyjson_val *v) {
    return strndup(yyjson_get_str(v), yyjson_get_len(v));
}

/* Decodes one stored value (normally a JSON string containing the metadata
 * object; an object stored directly is read too). */
static int meta_decode(const char *value_json, loupe_artifact_meta *m, char *why, size_t whycap) {
    memset(m, 0, sizeof *m);
    int rc = META_BAD;
    yyjson_doc *outer = loupe__pyjson_parse(value_json, strlen(value_json), why, whycap);
    yyjson_doc *inner = NULL;
    if (!outer) return META_BAD;
    yyjson_val *v = yyjson_doc_get_root(outer);
    if (yyjson_is_str(v)) {
        inner = loupe__pyjson_parse(yyjson_get_str(v), yyjson_get_len(v), why, whycap);
        if (!inner) goto done;
        v = yyjson_doc_get_root(inner);
    }
    if (yyjson_is_null(v)) {
        rc = META_DELETED;
        goto done;
    }
    if (!yyjson_is_obj(v)) {
        snprintf(why, whycap, "not an object");
        goto done;
    }
    yyjson_val *id = yyjson_obj_get(v, "artifact_id");
    yyjson_val *fn = yyjson_obj_get(v, "filename");
    yyjson_val *mt = yyjson_obj_get(v, "mimetype");
    yyjson_val *en = yyjson_obj_get(v, "encoding");
    if (!yyjson_is_str(id) || !yyjson_is_str(fn) || !yyjson_is_str(mt) ||
        (en && !yyjson_is_str(en) && !yyjson_is_null(en))) {
        snprintf(why, whycap, "artifact_id, filename and mimetype must be strings and encoding a "
                 "string or null");
        goto done;
    }
    m->artifact_id = dup_str(id);
    m->filename = dup_str(fn);
    m->mimetype = dup_str(mt);
    if (yyjson_is_str(en)) m->encoding = dup_str(en);
    if (!m->artifact_id || !m->filename || !m->mimetype || (yyjson_is_str(en) && !m->encoding)) {
        meta_free(m);
        rc = META_NOMEM;
        goto done;
    }
    rc = META_OK;
done:
    yyjson_doc_free(inner);
    yyjson_doc_free(outer);
    return rc;
}

/* The value_json optuna writes: json.dumps of the json.dumps of the metadata. */
static char *meta_encode(const char *id, const char *filename, const char *mimetype,
                         const char *encoding) {
    loupe__buf in, out;
    loupe__buf_init(&in, 0);
    loupe__buf_init(&out, 0);
    loupe__buf_puts(&in, "{\"artifact_id\": ");
    loupe__pyjson_string(&in, id, strlen(id));
    loupe__buf_puts(&in, ", \"filename\": ");
    loupe__pyjson_string(&in, filename, strlen(filename));
    loupe__buf_puts(&in, ", \"mimetype\": ");
    loupe__pyjson_string(&in, mimetype, strlen(mimetype));
    loupe__buf_puts(&in, ", \"encoding\": ");
    if (encoding) loupe__pyjson_string(&in, encoding, strlen(encoding));
    else loupe__buf_puts(&in, "null");
    loupe__buf_putc(&in, '}');
    if (!in.failed) loupe__pyjson_string(&out, in.data, in.len);
    int failed = in.failed;
    loupe__buf_free(&in);
    if (failed) {
        loupe__buf_free(&out);
        return NULL;
    }
    return loupe__buf_steal(&out);
}

loupe_artifact_list *loupe__artifact_list_new(void) { return calloc(1, sizeof(loupe_artifact_list)); }

int loupe__artifact_list_add(loupe_artifact_list *list, const char *key, const char *json,
                             char *err, size_t errcap) {
    loupe_artifact_meta m;
    char why[200] = "";
    int r = meta_decode(json, &m, why, sizeof why);
    if (r == META_DELETED) return LOUPE_OK;
    if (r == META_NOMEM) {
        snprintf(err, errcap, "out of memory");
        return LOUPE_ENOMEM;
    }
    if (r == META_BAD) {
        snprintf(err, errcap,
                 "system attr '%s' is not artifact metadata (%s): it should be a JSON string "
                 "holding {\"artifact_id\", \"filename\", \"mimetype\", \"encoding\"}; fix or "
                 "null the attr",
                 key, why);
        return LOUPE_ECORRUPT;
    }
    if (list_push(list, &m) != LOUPE_OK) {
        meta_free(&m);
        snprintf(err, errcap, "out of memory");
        return LOUPE_ENOMEM;
    }
    return LOUPE_OK;
}

/* Appends the live entries among attrs whose key starts with prefix. When
 * want_id is set only that artifact is taken. */
static int collect(loupe_study *study, loupe_artifact_list *list, const loupe_attr *attrs,
                   size_t n, const char *prefix, const char *want_id) {
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(attrs[i].key, prefix, plen) != 0) continue;
        if (want_id && strcmp(attrs[i].key + plen, want_id) != 0) continue;
        char err[700];
        int rc = loupe__artifact_list_add(list, attrs[i].key, attrs[i].json, err, sizeof err);
        if (rc) return loupe__hitl_error(study, rc, "%s", err);
    }
    return LOUPE_OK;
}

static int gather(loupe_study *study, const loupe_frozen_trial *trial, const char *want_id,
                  loupe_artifact_list **out) {
    loupe__hitl_clear(study);
    *out = NULL;
    loupe_artifact_list *list = calloc(1, sizeof *list);
    if (!list) return loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
    const loupe_attr *attrs;
    size_t n;
    int rc = loupe_study_system_attrs(study, &attrs, &n);
    if (rc) goto fail;
    if (trial) {
        if (trial->study_id != loupe_study_id(study)) {
            rc = loupe__hitl_error(study, LOUPE_EINVAL,
                                   "trial #%" PRId64 " (trial_id %" PRId64 ") belongs to study "
                                   "id %" PRId64 ", not to study '%s': pass that trial's study",
                                   trial->number, trial->trial_id, trial->study_id,
                                   loupe_study_name(study));
            goto fail;
        }
        char legacy[96];
        snprintf(legacy, sizeof legacy, LEGACY_PREFIX "%" PRId64 ":", trial->trial_id);
        rc = collect(study, list, attrs, n, legacy, want_id);
        if (rc) goto fail;
        rc = collect(study, list, trial->system_attrs, trial->n_system_attrs, ATTR_PREFIX, want_id);
    } else {
        rc = collect(study, list, attrs, n, ATTR_PREFIX, want_id);
    }
    if (rc) goto fail;
    *out = list;
    return LOUPE_OK;
fail:
    loupe_artifact_list_free(list);
    return rc;
}

int loupe_artifact_list_get(loupe_study *study, const loupe_frozen_trial *trial,
                            loupe_artifact_list **out) {
    if (!study || !out) return LOUPE_EINVAL;
    return gather(study, trial, NULL, out);
}

int loupe_artifact_find(loupe_study *study, const loupe_frozen_trial *trial,
                        const char *artifact_id, loupe_artifact_list **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    loupe__hitl_clear(study);
    if (!artifact_id || !loupe__is_uuid(artifact_id))
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "invalid artifact id '%.80s': artifact ids are UUIDs",
                                 artifact_id ? artifact_id : "(null)");
    int rc = gather(study, trial, artifact_id, out);
    if (rc) return rc;
    if ((*out)->len == 0) {
        loupe_artifact_list_free(*out);
        *out = NULL;
        if (trial)
            return loupe__hitl_error(study, LOUPE_ENOTFOUND,
                                     "trial #%" PRId64 " of study '%s' has no artifact %s",
                                     trial->number, loupe_study_name(study), artifact_id);
        return loupe__hitl_error(study, LOUPE_ENOTFOUND, "study '%s' has no artifact %s",
                                 loupe_study_name(study), artifact_id);
    }
    /* Both places may record it (legacy and current): the first one wins, as
     * optuna-dashboard's lookup does. */
    while ((*out)->len > 1) meta_free(&(*out)->items[--(*out)->len]);
    return LOUPE_OK;
}

/* ---------------------------------------------------------------- upload */

/* Checks that trial (if any) belongs to study and may still change. */
static int check_trial(loupe_study *study, loupe_trial *trial, const loupe_frozen_trial **ft,
                       const char *what) {
    *ft = NULL;
    if (!trial) return LOUPE_OK;
    loupe_study *ts = loupe_trial_study(trial);
    if (!ts || loupe_study_id(ts) != loupe_study_id(study))
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "trial #%" PRId64 " does not belong to study '%s': pass the "
                                 "trial's own study",
                                 loupe_trial_number(trial), loupe_study_name(study));
    int rc = loupe_trial_snapshot(trial, ft);
    if (rc) return rc;
    if (loupe_trial_state_is_finished((*ft)->state))
        return loupe__hitl_error(study, LOUPE_EFINISHED,
                                 "Trial#%" PRId64 " has already finished (%s): artifacts can only "
                                 "be %s while a trial is RUNNING or WAITING (attach it to the "
                                 "study instead)",
                                 (*ft)->number, loupe_trial_state_name((*ft)->state), what);
    return LOUPE_OK;
}

static int upload(loupe_artifact_store *store, loupe_study *study, loupe_trial *trial,
                  const char *path, const char *filename, const void *data, size_t len,
                  const char *mimetype, const char *encoding, char artifact_id[37]) {
    if (!study) return LOUPE_EINVAL;
    loupe__hitl_clear(study);
    if (!store)
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "no artifact store: open one with loupe_artifact_store_fs_open");
    const loupe_frozen_trial *ft;
    int rc = check_trial(study, trial, &ft, "uploaded");
    if (rc) return rc;

    char id[37];
    if (loupe__uuid4(id) != 0)
        return loupe__hitl_error(study, LOUPE_ERROR, "cannot make an artifact id: the OS random "
                                                     "source failed");
    const char *gm, *ge;
    loupe__guess_type(filename, &gm, &ge);
    /* Python: `mimetype or guessed or default`, `encoding or guessed`. */
    const char *mt = mimetype && *mimetype ? mimetype : gm ? gm : LOUPE_ARTIFACT_DEFAULT_MIMETYPE;
    const char *en = encoding && *encoding ? encoding : ge;
    char *value = meta_encode(id, filename, mt, en);
    if (!value) return loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");

    /* The blob first: metadata must never name a missing or partial blob. */
    rc = path ? loupe_artifact_store_write_file(store, id, path)
              : loupe_artifact_store_write_buffer(store, id, data, len);
    if (rc) {
        loupe__hitl_error(study, rc, "artifact upload of '%s' failed, nothing was recorded: %s",
                          path ? path : filename, loupe_artifact_store_errmsg(store));
        goto cleanup;
    }
    char key[sizeof ATTR_PREFIX + 37];
    snprintf(key, sizeof key, ATTR_PREFIX "%s", id);
    rc = trial ? loupe_trial_set_system_attr(trial, key, value)
               : loupe_study_set_system_attr(study, key, value);
    if (rc) {
        /* Keep the storage's message; the blob is unreferenced, so drop it. */
        char saved[1024];
        snprintf(saved, sizeof saved, "%s", loupe_study_errmsg(study));
        loupe_artifact_store_remove(store, id);
        loupe__hitl_error(study, rc, "artifact metadata could not be recorded (the uploaded blob "
                          "was removed again): %s", saved);
        goto cleanup;
    }
    if (artifact_id) memcpy(artifact_id, id, sizeof id);
cleanup:
    free(value);
    return rc;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int loupe_artifact_upload_file(loupe_artifact_store *store, loupe_study *study,
                               loupe_trial *trial, const char *path, const char *mimetype,
                               const char *encoding, char artifact_id[37]) {
    if (!study) return LOUPE_EINVAL;
    if (!path) {
        loupe__hitl_clear(study);
        return loupe__hitl_error(study, LOUPE_EINVAL, "file path is NULL: pass the file to upload");
    }
    return upload(store, study, trial, path, base_name(path), NULL, 0, mimetype, encoding,
                  artifact_id);
}

int loupe_artifact_upload_buffer(loupe_artifact_store *store, loupe_study *study,
                                 loupe_trial *trial, const char *filename, const void *data,
                                 size_t len, const char *mimetype, const char *encoding,
                                 char artifact_id[37]) {
    if (!study) return LOUPE_EINVAL;
    if (!filename || (!data && len)) {
        loupe__hitl_clear(study);
        return loupe__hitl_error(study, LOUPE_EINVAL, "%s",
                                 !filename ? "file name is NULL: pass the name to record (its "
                                             "extension selects the mimetype)"
                                           : "data is NULL but len is not 0");
    }
    return upload(store, study, trial, NULL, filename, data ? data : "", len, mimetype, encoding,
                  artifact_id);
}

/* ---------------------------------------------------------------- delete */

/* Whether attrs hold a live (non-null) metadata entry under key. */
static int live_entry(const loupe_attr *attrs, size_t n, const char *key) {
    const char *json = loupe__attr_find(attrs, n, key);
    if (!json) return 0;
    loupe_artifact_meta m;
    char why[64];
    int r = meta_decode(json, &m, why, sizeof why);
    if (r == META_OK) meta_free(&m);
    return r != META_DELETED; /* a damaged entry still names the artifact */
}

int loupe_artifact_delete(loupe_artifact_store *store, loupe_study *study, loupe_trial *trial,
                          const char *artifact_id) {
    if (!study) return LOUPE_EINVAL;
    loupe__hitl_clear(study);
    if (!store)
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "no artifact store: open one with loupe_artifact_store_fs_open");
    if (!artifact_id || !loupe__is_uuid(artifact_id))
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "invalid artifact id '%.80s': artifact ids are UUIDs",
                                 artifact_id ? artifact_id : "(null)");
    char key[sizeof ATTR_PREFIX + 37], legacy[128];
    snprintf(key, sizeof key, ATTR_PREFIX "%s", artifact_id);
    const loupe_attr *attrs;
    size_t n;
    int rc = loupe_study_system_attrs(study, &attrs, &n);
    if (rc) return rc;

    int in_study = 0, in_legacy = 0, in_trial = 0;
    const loupe_frozen_trial *ft = NULL;
    if (trial) {
        loupe_study *ts = loupe_trial_study(trial);
        if (!ts || loupe_study_id(ts) != loupe_study_id(study))
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "trial #%" PRId64 " does not belong to study '%s'",
                                     loupe_trial_number(trial), loupe_study_name(study));
        snprintf(legacy, sizeof legacy, LEGACY_PREFIX "%" PRId64 ":%s", loupe_trial_id(trial),
                 artifact_id);
        in_legacy = live_entry(attrs, n, legacy);
        rc = loupe_trial_snapshot(trial, &ft);
        if (rc) return rc;
        in_trial = live_entry(ft->system_attrs, ft->n_system_attrs, key);
        if (!in_legacy && !in_trial)
            return loupe__hitl_error(study, LOUPE_ENOTFOUND,
                                     "trial #%" PRId64 " of study '%s' has no artifact %s: list "
                                     "the trial's artifacts for the valid ids",
                                     ft->number, loupe_study_name(study), artifact_id);
        if (in_trial && loupe_trial_state_is_finished(ft->state))
            return loupe__hitl_error(study, LOUPE_EFINISHED,
                                     "Trial#%" PRId64 " has already finished (%s): its artifacts "
                                     "can no longer be deleted (a finished trial's attrs cannot "
                                     "change)",
                                     ft->number, loupe_trial_state_name(ft->state));
    } else {
        in_study = live_entry(attrs, n, key);
        if (!in_study)
            return loupe__hitl_error(study, LOUPE_ENOTFOUND,
                                     "study '%s' has no artifact %s: list the study's artifacts "
                                     "for the valid ids",
                                     loupe_study_name(study), artifact_id);
    }
    /* Metadata first, so that no live metadata ever names a removed blob. */
    if (in_legacy) {
        rc = loupe_study_set_system_attr(study, legacy, DELETED_JSON);
        if (rc) return rc;
    }
    if (in_trial) {
        rc = loupe_trial_set_system_attr(trial, key, DELETED_JSON);
        if (rc) return rc;
    }
    if (in_study) {
        rc = loupe_study_set_system_attr(study, key, DELETED_JSON);
        if (rc) return rc;
    }
    rc = loupe_artifact_store_remove(store, artifact_id);
    if (rc == LOUPE_ENOTFOUND) rc = LOUPE_OK; /* already gone: the goal is reached */
    if (rc)
        return loupe__hitl_error(study, rc, "artifact %s was unrecorded but its blob could not "
                                 "be removed: %s",
                                 artifact_id, loupe_artifact_store_errmsg(store));
    return LOUPE_OK;
}

/* ---------------------------------------------------------------- URL path */

int loupe_artifact_path(int64_t study_id, int64_t trial_id, const char *artifact_id, char *buf,
                        size_t cap) {
    if (!buf || !artifact_id || !loupe__is_uuid(artifact_id)) return -1;
    int n = trial_id < 0
                ? snprintf(buf, cap, "/artifacts/%" PRId64 "/%s", study_id, artifact_id)
                : snprintf(buf, cap, "/artifacts/%" PRId64 "/%" PRId64 "/%s", study_id, trial_id,
                           artifact_id);
    if (n < 0 || (size_t)n >= cap) {
        if (cap) buf[0] = '\0';
        return -1;
    }
    return n;
}
