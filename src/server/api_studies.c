/*
 * api_studies.c -- the study endpoints of optuna-dashboard's REST API:
 * /api/meta, list, create, detail (?after=N), delete, rename, and the study
 * and trial notes. Reads come from the watcher's snapshots; writes borrow a
 * pooled storage handle and then wait for the watcher, so the next read (and
 * every SSE subscriber) sees them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/http.h"
#include "server/jsonw.h"
#include "util/pyjson.h"

void loupe__api_meta(loupe__req *req, loupe__resp *resp) {
    loupe__server *srv = req->srv;
    loupe__buf_printf(&resp->body,
                      "{\"artifact_is_available\": %s, \"llm_is_available\": false, "
                      "\"plotlypy_is_available\": false, \"allow_unsafe\": false, "
                      "\"read_only\": %s, \"live_updates\": true, \"loupe_version\": ",
                      srv->artifact_dir ? "true" : "false", srv->cfg.read_only ? "true" : "false");
    loupe__jw_string(&resp->body, loupe_version());
    loupe__buf_putc(&resp->body, '}');
    loupe__resp_json(resp, 200);
}

void loupe__api_studies(loupe__req *req, loupe__resp *resp) {
    loupe__blob *b = loupe__views_studies(req->srv->views);
    if (!b) {
        char why[512];
        loupe__views_last_error(req->srv->views, why, sizeof why);
        loupe__resp_error(resp, 503, "The studies could not be read: %s", why[0] ? why : "unknown error");
        return;
    }
    loupe__buf_append(&resp->body, b->data, b->len);
    loupe__blob_release(b);
    loupe__resp_json(resp, 200);
}

/* Parses "directions": a non-empty list of "minimize"/"maximize" (any case). */
static int parse_directions(yyjson_val *arr, loupe_direction **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!arr || !yyjson_is_arr(arr) || yyjson_arr_size(arr) == 0) return -1;
    size_t cnt = yyjson_arr_size(arr);
    loupe_direction *d = malloc(cnt * sizeof *d);
    if (!d) return -1;
    size_t idx, max;
    yyjson_val *v;
    yyjson_arr_foreach(arr, idx, max, v) {
        if (yyjson_is_str(v) && strcasecmp(yyjson_get_str(v), "minimize") == 0) d[idx] = LOUPE_MINIMIZE;
        else if (yyjson_is_str(v) && strcasecmp(yyjson_get_str(v), "maximize") == 0) d[idx] = LOUPE_MAXIMIZE;
        else {
            free(d);
            return -1;
        }
    }
    *out = d;
    *n = cnt;
    return 0;
}

/* The summary of a study that has no trials yet (just created or copied). */
static void summary_of(loupe__buf *b, loupe_study *study) {
    loupe__buf_printf(b, "{\"study_id\": %lld, \"study_name\": ", (long long)loupe_study_id(study));
    loupe__jw_string(b, loupe_study_name(study));
    loupe__buf_puts(b, ", \"directions\": [");
    for (size_t i = 0; i < loupe_study_n_objectives(study); i++)
        loupe__buf_printf(b, "%s\"%s\"", i ? ", " : "",
                          loupe_study_direction(study, i) == LOUPE_MAXIMIZE ? "maximize" : "minimize");
    loupe__buf_puts(b, "], \"user_attrs\": ");
    const loupe_attr *ua = NULL, *sa = NULL;
    size_t nua = 0, nsa = 0;
    loupe_study_user_attrs(study, &ua, &nua);
    loupe__jw_attrs(b, ua, nua);
    loupe_study_system_attrs(study, &sa, &nsa);
    const char *pref = NULL, *names = NULL;
    for (size_t i = 0; i < nsa; i++) {
        if (strcmp(sa[i].key, "preference:is_preferential") == 0) pref = sa[i].json;
        if (strcmp(sa[i].key, "study:metric_names") == 0) names = sa[i].json;
    }
    loupe__buf_printf(b, ", \"is_preferential\": %s", pref ? pref : "false");
    loupe__buf_puts(b, ", \"trial_counts\": {\"running\": 0, \"complete\": 0, \"pruned\": 0, \"fail\": 0, "
                       "\"waiting\": 0}, \"best_values\": null, \"datetime_start\": null, "
                       "\"datetime_last_activity\": null, \"metric_names\": ");
    loupe__buf_puts(b, names ? names : "null");
    loupe__buf_putc(b, '}');
}

void loupe__api_study_create(loupe__req *req, loupe__resp *resp) {
    yyjson_doc *doc = loupe__req_json_object(req, resp);
    if (!doc) return;
    yyjson_val *root = yyjson_doc_get_root(doc);
    yyjson_val *name = yyjson_obj_get(root, "study_name");
    loupe_direction *dirs = NULL;
    size_t nd = 0;
    loupe__slot *slot = NULL;
    loupe_study *study = NULL;
    if (!name || !yyjson_is_str(name) || parse_directions(yyjson_obj_get(root, "directions"), &dirs, &nd)) {
        loupe__resp_error(resp, 400, "You need to set study_name and direction");
        goto cleanup;
    }
    slot = loupe__pool_acquire(req->srv->pool);
    int rc = loupe_study_create(slot->storage, yyjson_get_str(name), nd, dirs, LOUPE_CREATE_DEFAULT, &study);
    if (rc == LOUPE_EEXISTS) {
        loupe__resp_error(resp, 400, "Study name already exists.");
        goto cleanup;
    }
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_storage_errmsg(slot->storage));
        goto cleanup;
    }
    loupe__buf_puts(&resp->body, "{\"study_summary\": ");
    summary_of(&resp->body, study);
    loupe__buf_putc(&resp->body, '}');
    loupe__resp_json(resp, 201);
cleanup:
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    if (slot && resp->status == 201) loupe__views_sync(req->srv->views);
    free(dirs);
    yyjson_doc_free(doc);
}

/* "after" as upstream reads it, with the defects fixed: a non-integer is a 400. */
static int parse_after(const char *s, size_t *out, loupe__resp *resp) {
    *out = 0;
    if (!s) return 0;
    const char *p = s;
    while (*p == ' ') p++;
    int neg = 0;
    if (*p == '-' || *p == '+') neg = *p++ == '-';
    if (!*p) goto bad;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10) goto bad;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    while (*p == ' ') p++;
    if (*p) goto bad;
    if (neg && v > 0) {
        loupe__resp_error(resp, 400, "`after` should be larger or equal 0.");
        return -1;
    }
    *out = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
    return 0;
bad:
    loupe__resp_error(resp, 400, "`after` should be an integer (the number of trials the client already has), not '%.40s'.", s);
    return -1;
}

void loupe__api_study(loupe__req *req, loupe__resp *resp) {
    size_t after;
    if (parse_after(loupe__req_query(req, "after"), &after, resp)) return;
    loupe__snap *snap = loupe__views_study(req->srv->views, req->route.study_id, 1);
    if (!snap || !snap->head) {
        loupe__snap_release(snap);
        loupe__resp_error(resp, 404, "study_id=%lld is not found", (long long)req->route.study_id);
        return;
    }
    resp->kind = LOUPE__RESP_DETAIL;
    resp->snap = snap;
    resp->after = after > snap->n_trials ? snap->n_trials : after;
    resp->ctype = "application/json";
    resp->status = 200;
}

/* Removes the blobs of every live artifact recorded for the study and its
 * trials (the metadata goes away with the study). */
static void remove_all_artifacts(loupe__slot *slot, loupe_study *study) {
    const loupe_attr *attrs;
    size_t n;
    if (loupe_study_system_attrs(study, &attrs, &n) == LOUPE_OK) {
        char **ids = calloc(n ? n : 1, sizeof *ids);
        size_t k = 0;
        for (size_t i = 0; ids && i < n; i++) {
            const char *key = attrs[i].key, *id = NULL;
            if (strncmp(key, "artifacts:", 10) == 0) id = key + 10;
            else if (strncmp(key, "dashboard:artifacts:", 20) == 0) id = strrchr(key, ':') + 1;
            loupe__buf b;
            loupe__buf_init(&b, 0);
            if (id && loupe__jw_artifact_meta(&b, attrs[i].json)) ids[k++] = strdup(id);
            loupe__buf_free(&b);
        }
        for (size_t i = 0; i < k; i++) {
            if (ids[i]) loupe_artifact_store_remove(slot->artifacts, ids[i]);
            free(ids[i]);
        }
        free(ids);
    }
    loupe_trial_list *trials = NULL;
    if (loupe_study_get_trials(study, 0, &trials) != LOUPE_OK) return;
    for (size_t t = 0; t < loupe_trial_list_count(trials); t++) {
        const loupe_frozen_trial *ft = loupe_trial_list_at(trials, t);
        for (size_t i = 0; i < ft->n_system_attrs; i++) {
            if (strncmp(ft->system_attrs[i].key, "artifacts:", 10) != 0) continue;
            loupe__buf b;
            loupe__buf_init(&b, 0);
            if (loupe__jw_artifact_meta(&b, ft->system_attrs[i].json))
                loupe_artifact_store_remove(slot->artifacts, ft->system_attrs[i].key + 10);
            loupe__buf_free(&b);
        }
    }
    loupe_trial_list_free(trials);
}

void loupe__api_study_delete(loupe__req *req, loupe__resp *resp) {
    int remove_artifacts = 1; /* upstream's default when no body is sent */
    yyjson_doc *doc = NULL;
    if (req->body.len) {
        if (!(doc = loupe__req_json_object(req, resp))) return;
        yyjson_val *v = yyjson_obj_get(yyjson_doc_get_root(doc), "remove_associated_artifacts");
        if (v && !yyjson_is_bool(v) && !yyjson_is_null(v)) {
            yyjson_doc_free(doc);
            loupe__resp_error(resp, 400, "remove_associated_artifacts must be true or false.");
            return;
        }
        if (v && yyjson_is_bool(v)) remove_artifacts = yyjson_get_bool(v);
        yyjson_doc_free(doc);
    }
    char *name = loupe__api_study_name(req, req->route.study_id, resp);
    if (!name) return;
    loupe__slot *slot = loupe__pool_acquire(req->srv->pool);
    loupe_study *study = NULL;
    if (loupe__api_load_study(slot, name, req->route.study_id, &study, resp)) goto cleanup;
    if (remove_artifacts && slot->artifacts) remove_all_artifacts(slot, study);
    loupe_study_close(study);
    study = NULL;
    int rc = loupe_storage_delete_study(slot->storage, name);
    if (rc == LOUPE_ENOTFOUND) loupe__resp_error(resp, 404, "study_id=%lld is not found", (long long)req->route.study_id);
    else if (rc) loupe__resp_lib_error(resp, rc, loupe_storage_errmsg(slot->storage));
    else loupe__resp_no_content(resp);
cleanup:
    free(name);
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    if (resp->status == 204) loupe__views_sync(req->srv->views);
}

void loupe__api_study_rename(loupe__req *req, loupe__resp *resp) {
    yyjson_doc *doc = loupe__req_json_object(req, resp);
    if (!doc) return;
    yyjson_val *name = yyjson_obj_get(yyjson_doc_get_root(doc), "study_name");
    if (!name || !yyjson_is_str(name)) {
        yyjson_doc_free(doc);
        loupe__resp_error(resp, 400, "You need to set study_name and direction");
        return;
    }
    loupe__slot *slot = NULL;
    loupe_study *src = NULL, *dst = NULL;
    char *src_name = loupe__api_study_name(req, req->route.study_id, resp);
    if (!src_name) goto cleanup;
    slot = loupe__pool_acquire(req->srv->pool);
    /* a full copy (form widgets, metric names, artifacts and preferences too,
     * which upstream loses), then the old study goes */
    int rc = loupe_study_copy(slot->storage, src_name, yyjson_get_str(name), &dst);
    if (rc == LOUPE_EEXISTS) {
        loupe__resp_error(resp, 400, "Study name already exists.");
        goto cleanup;
    }
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_storage_errmsg(slot->storage));
        goto cleanup;
    }
    rc = loupe_storage_delete_study(slot->storage, src_name);
    if (rc && rc != LOUPE_ENOTFOUND) {
        loupe__resp_lib_error(resp, rc, loupe_storage_errmsg(slot->storage));
        goto cleanup;
    }
    summary_of(&resp->body, dst);
    loupe__resp_json(resp, 201);
cleanup:
    loupe_study_close(src);
    loupe_study_close(dst);
    free(src_name);
    loupe__pool_release(req->srv->pool, slot);
    if (resp->status == 201) loupe__views_sync(req->srv->views);
    yyjson_doc_free(doc);
}

static void note_conflict(loupe__resp *resp, int64_t version, const char *body) {
    loupe__buf_reset(&resp->body);
    loupe__buf_puts(&resp->body,
                    "{\"reason\": \"The text you are editing has changed. Please copy your edits and "
                    "refresh the page.\", \"note\": ");
    loupe__buf_printf(&resp->body, "{\"version\": %lld, \"body\": ", (long long)version);
    loupe__jw_string(&resp->body, body ? body : "");
    loupe__buf_puts(&resp->body, "}}");
    loupe__resp_json(resp, 409);
}

void loupe__api_note(loupe__req *req, loupe__resp *resp) {
    yyjson_doc *doc = loupe__req_json_object(req, resp);
    if (!doc) return;
    yyjson_val *root = yyjson_doc_get_root(doc);
    yyjson_val *ver = yyjson_obj_get(root, "version"), *body = yyjson_obj_get(root, "body");
    loupe__slot *slot = NULL;
    loupe_study *study = NULL;
    char *cur = NULL, *name = NULL;
    if (!ver || !body || !yyjson_is_int(ver) || !yyjson_is_str(body)) {
        loupe__resp_error(resp, 400, "Invalid request.");
        goto cleanup;
    }
    if (strlen(yyjson_get_str(body)) != yyjson_get_len(body)) {
        loupe__resp_error(resp, 400, "The note body must not contain NUL characters.");
        goto cleanup;
    }
    int64_t trial_id = LOUPE_STUDY_NOTE;
    name = loupe__api_study_name(req, req->route.study_id, resp);
    if (!name) goto cleanup;
    if (req->route.id == LOUPE__R_TRIAL_NOTE) {
        int64_t sid, number;
        if (loupe__views_find_trial(req->srv->views, req->route.trial_id, &sid, &number, NULL) ||
            sid != req->route.study_id) {
            loupe__resp_error(resp, 404, "trial_id=%lld is not found in study_id=%lld",
                              (long long)req->route.trial_id, (long long)req->route.study_id);
            goto cleanup;
        }
        trial_id = req->route.trial_id;
    }
    slot = loupe__pool_acquire(req->srv->pool);
    if (loupe__api_load_study(slot, name, req->route.study_id, &study, resp)) goto cleanup;
    int64_t want = yyjson_get_sint(ver), stored = 0;
    if (want < 1) {
        /* the client sends stored + 1, which is at least 1 */
        int rc = loupe_note_get(study, trial_id, &stored, &cur);
        if (rc) loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        else note_conflict(resp, stored, cur);
        goto cleanup;
    }
    int rc = loupe_note_save(study, trial_id, want - 1, yyjson_get_str(body), &stored, &cur);
    if (rc == LOUPE_ECONFLICT) note_conflict(resp, stored, cur);
    else if (rc) loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
    else loupe__resp_no_content(resp);
cleanup:
    free(cur);
    free(name);
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    if (resp->status == 204) loupe__views_sync(req->srv->views);
    yyjson_doc_free(doc);
}
