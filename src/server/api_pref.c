/*
 * api_pref.c -- preferential optimization endpoints (optuna-dashboard's
 * "Which trial is the worst?" page): report a ChooseWorst feedback, undo and
 * redo it, skip a trial, choose the feedback component. The keys and values
 * written are exactly upstream's (reference Appendix A); the preference and
 * its history are written in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"
#include "server/jsonw.h"
#include "util/pyjson.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#define PREF_VALUES "preference:values"
#define PREF_HISTORY "preference:history"

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* An integer as Python's int() would take it from JSON (ints and integral floats). */
static int as_int(yyjson_val *v, int64_t *out) {
    if (yyjson_is_int(v)) {
        *out = yyjson_get_sint(v);
        return 0;
    }
    if (yyjson_is_real(v)) {
        double d = yyjson_get_real(v);
        if (d != d || d > 9e15 || d < -9e15) return -1;
        *out = (int64_t)d;
        return 0;
    }
    if (yyjson_is_str(v)) {
        char *end;
        long long x = strtoll(yyjson_get_str(v), &end, 10);
        if (!*yyjson_get_str(v) || *end) return -1;
        *out = x;
        return 0;
    }
    return -1;
}

static void report(loupe__req *req, loupe__resp *resp, loupe__slot *slot, loupe_study *study) {
    yyjson_doc *doc = loupe__req_json_object(req, resp);
    if (!doc) return;
    yyjson_val *root = yyjson_doc_get_root(doc);
    yyjson_val *mode = yyjson_obj_get(root, "mode"), *cands = yyjson_obj_get(root, "candidates"),
               *clicked_v = yyjson_obj_get(root, "clicked");
    int64_t *c = NULL, clicked = -1;
    size_t nc = 0;
    loupe__buf pairs, hist, values;
    loupe__buf_init(&pairs, 0);
    loupe__buf_init(&hist, 0);
    loupe__buf_init(&values, 0);
    char *hist_json = NULL;
    loupe_trial_list *trials = NULL;
    if (cands && !yyjson_is_arr(cands)) goto bad_input;
    nc = cands ? yyjson_arr_size(cands) : 0;
    c = malloc((nc ? nc : 1) * sizeof *c);
    if (!c) goto bad_input;
    size_t idx, max;
    yyjson_val *v;
    if (cands) {
        yyjson_arr_foreach(cands, idx, max, v) {
            if (as_int(v, &c[idx])) goto bad_input;
        }
    }
    if (clicked_v && as_int(clicked_v, &clicked)) goto bad_input;
    if (clicked == -1) {
        loupe__resp_error(resp, 400, "`clicked` should be specified.");
        goto cleanup;
    }
    if (!mode || !yyjson_is_str(mode) || strcmp(yyjson_get_str(mode), "ChooseWorst") != 0) {
        loupe__resp_error(resp, 400, "`mode` should be 'ChooseWorst'.");
        goto cleanup;
    }
    int rc = loupe_study_get_trials(study, 0, &trials);
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    size_t nt = loupe_trial_list_count(trials);
    for (size_t i = 0; i <= nc; i++) {
        int64_t num = i < nc ? c[i] : clicked;
        if (num < 0 || (size_t)num >= nt) {
            loupe__resp_error(resp, 400, "Trial number %lld does not exist in study '%s' (it has %zu trials).",
                              (long long)num, loupe_study_name(study), nt);
            goto cleanup;
        }
    }
    char id[37];
    if (loupe__uuid4(id)) {
        loupe__resp_error(resp, 500, "The OS random source failed; cannot make a history id.");
        goto cleanup;
    }
    loupe__buf_putc(&pairs, '[');
    size_t np = 0;
    for (size_t i = 0; i < nc; i++)
        if (c[i] != clicked)
            loupe__buf_printf(&pairs, "%s[%lld, %lld]", np++ ? ", " : "", (long long)c[i], (long long)clicked);
    loupe__buf_putc(&pairs, ']');
    /* the history value is a JSON string holding JSON, stamped in naive local time as upstream */
    int64_t now = loupe__now_us();
    time_t secs = (time_t)(now / 1000000);
    struct tm tm;
    localtime_r(&secs, &tm);
    int64_t local_us = ((int64_t)timegm(&tm)) * 1000000 + now % 1000000;
    loupe__buf_printf(&hist, "{\"mode\": \"ChooseWorst\", \"id\": \"%s\", \"timestamp\": \"", id);
    loupe__jw_isoformat(&hist, local_us);
    loupe__buf_puts(&hist, "\", \"candidates\": [");
    for (size_t i = 0; i < nc; i++) loupe__buf_printf(&hist, "%s%lld", i ? ", " : "", (long long)c[i]);
    loupe__buf_printf(&hist, "], \"clicked\": %lld, \"preferences\": ", (long long)clicked);
    loupe__buf_append(&hist, pairs.data, pairs.len);
    loupe__buf_putc(&hist, '}');
    if (hist.failed || pairs.failed) {
        loupe__resp_error(resp, 500, "out of memory");
        goto cleanup;
    }
    loupe__jw_string(&values, hist.data);
    hist_json = loupe__buf_steal(&values);
    char kv[64], kh[64];
    snprintf(kv, sizeof kv, PREF_VALUES "%s", id);
    snprintf(kh, sizeof kh, PREF_HISTORY "%s", id);
    loupe_attr attrs[2] = {{kv, pairs.data}, {kh, hist_json}};
    rc = hist_json ? loupe_study_set_system_attrs(study, 2, attrs) : LOUPE_ENOMEM;
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    /* every involved trial that is still open becomes COMPLETE with zeros */
    size_t nobj = loupe_study_n_objectives(study);
    double *zeros = calloc(nobj ? nobj : 1, sizeof *zeros);
    int64_t *nums = malloc((nc + 1) * sizeof *nums);
    if (zeros && nums) {
        memcpy(nums, c, nc * sizeof *nums);
        nums[nc] = clicked;
        qsort(nums, nc + 1, sizeof *nums, cmp_i64);
        for (size_t i = 0; i <= nc; i++) {
            if (i && nums[i] == nums[i - 1]) continue;
            const loupe_frozen_trial *t = loupe_trial_list_at(trials, (size_t)nums[i]);
            if (t->state == LOUPE_RUNNING || t->state == LOUPE_WAITING)
                loupe_study_tell(study, nums[i], LOUPE_COMPLETE, nobj, zeros, LOUPE_TELL_SKIP_IF_FINISHED);
        }
    }
    free(zeros);
    free(nums);
    (void)slot;
    loupe__resp_no_content(resp);
    goto cleanup;
bad_input:
    loupe__resp_error(resp, 400, "`candidates` should be an array of integers and `clicked` should be an integer.");
cleanup:
    loupe_trial_list_free(trials);
    free(hist_json);
    loupe__buf_free(&pairs);
    loupe__buf_free(&hist);
    loupe__buf_free(&values);
    free(c);
    yyjson_doc_free(doc);
}

/* DELETE (soft remove) / POST (restore) of a history entry. */
static void toggle(loupe__req *req, loupe__resp *resp, loupe_study *study, int restore) {
    char kh[LOUPE__ROUTE_NAME_MAX + 32], kv[LOUPE__ROUTE_NAME_MAX + 32];
    snprintf(kh, sizeof kh, PREF_HISTORY "%s", req->route.name);
    snprintf(kv, sizeof kv, PREF_VALUES "%s", req->route.name);
    const char *hist = NULL;
    int rc = loupe_study_system_attr(study, kh, &hist);
    if (rc == LOUPE_ENOTFOUND) {
        loupe__resp_error(resp, 404, "history_id=%s is not found", req->route.name);
        return;
    }
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        return;
    }
    char *prefs = NULL;
    if (restore) {
        yyjson_doc *outer = loupe__pyjson_parse(hist, strlen(hist), NULL, 0), *inner = NULL;
        yyjson_val *s = outer ? yyjson_doc_get_root(outer) : NULL;
        if (s && yyjson_is_str(s)) inner = loupe__pyjson_parse(yyjson_get_str(s), yyjson_get_len(s), NULL, 0);
        yyjson_val *p = inner ? yyjson_obj_get(yyjson_doc_get_root(inner), "preferences") : NULL;
        if (p && yyjson_is_arr(p)) prefs = loupe__json_text(p);
        yyjson_doc_free(inner);
        yyjson_doc_free(outer);
        if (!prefs) {
            loupe__resp_error(resp, 500, "The stored history %s is damaged and cannot be restored.", req->route.name);
            return;
        }
    }
    rc = loupe_study_set_system_attr(study, kv, restore ? prefs : "[]");
    free(prefs);
    if (rc) loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
    else loupe__resp_no_content(resp);
}

static void component(loupe__req *req, loupe__resp *resp, loupe_study *study) {
    yyjson_doc *doc = loupe__req_json_object(req, resp);
    if (!doc) return;
    yyjson_val *root = yyjson_doc_get_root(doc);
    yyjson_val *type = yyjson_obj_get(root, "output_type"), *key = yyjson_obj_get(root, "artifact_key");
    const char *t = type && yyjson_is_str(type) ? yyjson_get_str(type) : "";
    if (strcmp(t, "note") != 0 && strcmp(t, "artifact") != 0) {
        loupe__resp_error(resp, 400, "component_type must be either 'note' or 'artifact'.");
    } else if (key && !yyjson_is_null(key) && !yyjson_is_str(key)) {
        loupe__resp_error(resp, 400, "artifact_key must be a string (a user attr key).");
    } else if (strcmp(t, "artifact") == 0 && (!key || yyjson_is_null(key))) {
        loupe__resp_error(resp, 400, "artifact_key must be specified when output_type is 'artifact'.");
    } else {
        loupe__buf b;
        loupe__buf_init(&b, 0);
        loupe__buf_puts(&b, "{\"output_type\": ");
        loupe__jw_string(&b, t);
        if (key && yyjson_is_str(key)) {
            loupe__buf_puts(&b, ", \"artifact_key\": ");
            loupe__jw_string(&b, yyjson_get_str(key));
        }
        loupe__buf_putc(&b, '}');
        int rc = b.failed ? LOUPE_ENOMEM : loupe_study_set_system_attr(study, "preference:component", b.data);
        loupe__buf_free(&b);
        if (rc) loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        else loupe__resp_no_content(resp);
    }
    yyjson_doc_free(doc);
}

static void skip(loupe__req *req, loupe__resp *resp, loupe_study *study, int trial_ok) {
    const char *pref = NULL;
    int rc = loupe_study_system_attr(study, "preference:is_preferential", &pref);
    if (rc == LOUPE_ENOTFOUND || (rc == LOUPE_OK && strcmp(pref, "true") != 0)) {
        loupe__resp_error(resp, 400, "The study is not preferential.");
        return;
    }
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
        return;
    }
    if (!trial_ok) {
        loupe__resp_error(resp, 404, "trial_id=%lld is not found in study_id=%lld",
                          (long long)req->route.trial_id, (long long)req->route.study_id);
        return;
    }
    char key[64];
    snprintf(key, sizeof key, "preference:skip_trial:%lld", (long long)req->route.trial_id);
    rc = loupe_study_set_system_attr(study, key, "true");
    if (rc) loupe__resp_lib_error(resp, rc, loupe_study_errmsg(study));
    else loupe__resp_no_content(resp);
}

void loupe__api_preference(loupe__req *req, loupe__resp *resp) {
    char *name = loupe__api_study_name(req, req->route.study_id, resp);
    if (!name) return;
    int trial_ok = 0;
    if (req->route.id == LOUPE__R_SKIP) {
        int64_t sid, number;
        trial_ok = loupe__views_find_trial(req->srv->views, req->route.trial_id, &sid, &number, NULL) == 0 &&
                   sid == req->route.study_id;
    }
    loupe__slot *slot = loupe__pool_acquire(req->srv->pool);
    loupe_study *study = NULL;
    if (loupe__api_load_study(slot, name, req->route.study_id, &study, resp) == 0) {
        switch (req->route.id) {
        case LOUPE__R_PREFERENCE: report(req, resp, slot, study); break;
        case LOUPE__R_PREF_REMOVE: toggle(req, resp, study, 0); break;
        case LOUPE__R_PREF_RESTORE: toggle(req, resp, study, 1); break;
        case LOUPE__R_PREF_COMPONENT: component(req, resp, study); break;
        default: skip(req, resp, study, trial_ok); break;
        }
    }
    free(name);
    loupe_study_close(study);
    loupe__pool_release(req->srv->pool, slot);
    if (resp->status == 204) loupe__views_sync(req->srv->views);
}
