/*
 * api_trials.c -- the human-in-the-loop writes on one trial: tell (the
 * objective form and "Fail Trial") and user-attrs (the user-attr form). The
 * storage decides races: when two raters submit the same trial, the second
 * gets 409 with the stored outcome instead of upstream's 500.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/http.h"
#include "server/jsonw.h"
#include "util/pyjson.h"

/* Python's float() of a JSON value: numbers, bools and numeric strings. */
static int to_float(yyjson_val *v, double *out) {
    if (yyjson_is_num(v)) {
        *out = yyjson_get_num(v);
        return 0;
    }
    if (yyjson_is_bool(v)) {
        *out = yyjson_get_bool(v) ? 1.0 : 0.0;
        return 0;
    }
    if (yyjson_is_raw(v)) {
        *out = strtod(yyjson_get_raw(v), NULL);
        return 0;
    }
    if (yyjson_is_str(v)) {
        const char *s = yyjson_get_str(v);
        char *end;
        while (*s == ' ' || *s == '\t' || *s == '\n') s++;
        if (!*s) return -1;
        double d = strtod(s, &end);
        while (*end == ' ' || *end == '\t' || *end == '\n') end++;
        if (*end || strncasecmp(s, "0x", 2) == 0) return -1;
        *out = d;
        return 0;
    }
    return -1;
}

/* Finds the trial: its study's id and name (malloc'd) and its number; fills
 * resp on failure. Done before taking a pool slot (see loupe__api_study_name). */
static char *locate(loupe__req *req, int64_t *sid, int64_t *number, loupe__resp *resp) {
    if (loupe__views_find_trial(req->srv->views, req->route.trial_id, sid, number, NULL)) {
        loupe__resp_error(resp, 404, "trial_id=%lld is not found", (long long)req->route.trial_id);
        return NULL;
    }
    return loupe__api_study_name(req, *sid, resp);
}

/* 409: the trial finished before this request; says how and sends the trial. */
static void already_finished(loupe__req *req, loupe__resp *resp, int64_t sid, int64_t number) {
    char *tj = loupe__views_trial_json(req->srv->views, sid, number);
    loupe__snap *snap = loupe__views_study(req->srv->views, sid, 0);
    loupe__buf how;
    loupe__buf_init(&how, 0);
    const loupe_frozen_trial *t = snap && (size_t)number < loupe_trial_list_count(snap->list)
                                      ? loupe_trial_list_at(snap->list, (size_t)number)
                                      : NULL;
    if (t) {
        loupe__buf_printf(&how, "it is %s", loupe__jw_state_name(t->state));
        if (t->n_values) {
            loupe__buf_puts(&how, " with values [");
            for (size_t i = 0; i < t->n_values; i++) {
                if (i) loupe__buf_puts(&how, ", ");
                loupe__jw_pystr_double(&how, t->values[i]);
            }
            loupe__buf_putc(&how, ']');
        }
    } else {
        loupe__buf_puts(&how, "it has finished");
    }
    char reason[512];
    snprintf(reason, sizeof reason,
             "Trial %lld was already finished by someone else (%s); your input was not saved.",
             (long long)number, how.data ? how.data : "");
    loupe__buf_reset(&resp->body);
    loupe__buf_puts(&resp->body, "{\"reason\": ");
    loupe__jw_string(&resp->body, reason);
    loupe__buf_puts(&resp->body, ", \"trial\": ");
    loupe__buf_puts(&resp->body, tj ? tj : "null");
    loupe__buf_putc(&resp->body, '}');
    loupe__resp_json(resp, 409);
    loupe__buf_free(&how);
    loupe__snap_release(snap);
    free(tj);
}

void loupe__api_tell(loupe__req *req, loupe__resp *resp) {
    yyjson_doc *doc = loupe__req_json_object(req, resp);
    if (!doc) return;
    yyjson_val *root = yyjson_doc_get_root(doc);
    yyjson_val *st = yyjson_obj_get(root, "state");
    double *values = NULL;
    size_t nv = 0;
    loupe__slot *slot = NULL;
    loupe_study *study = NULL;
    char *name = NULL;
    if (!st) {
        loupe__resp_error(resp, 400, "state must be specified.");
        goto cleanup;
    }
    int state = yyjson_is_str(st) ? loupe_trial_state_parse(yyjson_get_str(st)) : -1;
    if (state != LOUPE_COMPLETE && state != LOUPE_FAIL) {
        loupe__resp_error(resp, 400, "state must be either 'Complete' or 'Fail'.");
        goto cleanup;
    }
    if (state == LOUPE_COMPLETE) {
        yyjson_val *vs = yyjson_obj_get(root, "values");
        if (!vs || yyjson_is_null(vs)) {
            loupe__resp_error(resp, 400, "values attribute is required when state is 'Complete'.");
            goto cleanup;
        }
        if (!yyjson_is_arr(vs)) {
            loupe__resp_error(resp, 400, "values attribute must be an array of numbers");
            goto cleanup;
        }
        nv = yyjson_arr_size(vs);
        values = malloc((nv ? nv : 1) * sizeof *values);
        size_t idx, max;
        yyjson_val *v;
        yyjson_arr_foreach(vs, idx, max, v) {
            if (!values || to_float(v, &values[idx])) {
                loupe__resp_error(resp, 400, "values attribute must be an array of numbers");
                goto cleanup;
            }
        }
    }
    int64_t number, sid;
    if (!(name = locate(req, &sid, &number, resp))) goto cleanup;
    slot = loupe__pool_acquire(req->srv->pool);
    if (loupe__api_load_study(slot, name, sid, &study, resp)) goto cleanup;
    if (state == LOUPE_COMPLETE && nv != loupe_study_n_objectives(study)) {
        loupe__resp_error(resp, 400, "values has %zu number(s) but study '%s' has %zu objective(s): send one value per objective.",
                          nv, loupe_study_name(study), loupe_study_n_objectives(study));
        goto cleanup;
    }
    int rc = loupe_study_tell(study, number, (loupe_trial_state)state, nv, values, LOUPE_TELL_DEFAULT);
    if (rc == LOUPE_EFINISHED) {
        loupe_study_close(study);
        study = NULL;
        loupe__pool_release(req->srv->pool, slot);
        slot = NULL;
        loupe__views_sync(req->srv->views);
        already_finished(req, resp, sid, number);
        goto cleanup;
    }
    if (rc) loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
    else loupe__resp_no_content(resp);
cleanup:
    free(name);
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    if (resp->status == 204) loupe__views_sync(req->srv->views);
    free(values);
    yyjson_doc_free(doc);
}

void loupe__api_user_attrs(loupe__req *req, loupe__resp *resp) {
    yyjson_doc *doc = loupe__req_json_object(req, resp);
    if (!doc) return;
    yyjson_val *ua = yyjson_obj_get(yyjson_doc_get_root(doc), "user_attrs");
    loupe__slot *slot = NULL;
    loupe_study *study = NULL;
    loupe_trial *trial = NULL;
    char *name = NULL;
    if (!ua || (yyjson_is_obj(ua) && yyjson_obj_size(ua) == 0) || yyjson_is_null(ua)) {
        loupe__resp_error(resp, 400, "user_attrs must be specified.");
        goto cleanup;
    }
    if (!yyjson_is_obj(ua)) {
        loupe__resp_error(resp, 400, "user_attrs must be an object of key: value pairs.");
        goto cleanup;
    }
    int64_t number, sid;
    if (!(name = locate(req, &sid, &number, resp))) goto cleanup;
    slot = loupe__pool_acquire(req->srv->pool);
    if (loupe__api_load_study(slot, name, sid, &study, resp)) goto cleanup;
    int rc = loupe_study_trial(study, number, &trial);
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    size_t idx, max;
    yyjson_val *k, *v;
    yyjson_obj_foreach(ua, idx, max, k, v) {
        char *json = loupe__json_text(v);
        rc = json ? loupe_trial_set_user_attr(trial, yyjson_get_str(k), json) : LOUPE_ENOMEM;
        free(json);
        if (rc) break;
    }
    if (rc == LOUPE_EFINISHED) {
        loupe_trial_free(trial);
        trial = NULL;
        loupe_study_close(study);
        study = NULL;
        loupe__pool_release(req->srv->pool, slot);
        slot = NULL;
        loupe__views_sync(req->srv->views);
        already_finished(req, resp, sid, number);
        goto cleanup;
    }
    if (rc) loupe__resp_lib_error(resp, rc, loupe_trial_errmsg(trial));
    else loupe__resp_no_content(resp);
cleanup:
    free(name);
    loupe_trial_free(trial);
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    if (resp->status == 204) loupe__views_sync(req->srv->views);
    yyjson_doc_free(doc);
}
