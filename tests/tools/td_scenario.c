/*
 * td_scenario.c -- the studies loupe writes for the "loupe writes, Python
 * reads" interop test. tests/interop/optuna_peer.py check-loupe-scenario
 * asserts the same facts from Python Optuna 3.1, so keep the two in step:
 *
 *  "loupe-single" (minimize, metric names ["loss"]), trials by number:
 *    0 COMPLETE 1.25, every distribution kind (see suggest_all), user and
 *      system attrs with NaN/inf/unicode/nested values, intermediate values
 *      0: 0.5, 1: inf, 2: nan, 3: -inf, 5: 0.25
 *    1 PRUNED after reports 0: 2.0, 1: 0.75 (so value 0.75)
 *    2 FAIL
 *    3 RUNNING with params f_plain and c_str (flushed, not told)
 *    4 enqueued {"f_plain": 1.5, "c_str": "sgd"} with user attr src="enqueue",
 *      then asked, suggested and told COMPLETE -inf
 *    5 enqueued {"i_plain": 7}, left WAITING
 *  "loupe-multi" (minimize, maximize; metric names ["loss", "acc"]):
 *    0 COMPLETE [1.0, 0.5], 1 COMPLETE [0.5, 0.25], 2 COMPLETE [2.0, 0.75],
 *    3 COMPLETE [-inf, inf], 4 FAIL, 5 RUNNING
 *  "loupe-empty" (maximize): no trials, study user attr {"note": "empty"}.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testdriver.h"

#define STUDY_CHECK(call, study)                                                           \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_) return td_fail(#call, rc_, loupe_study_errmsg(study));                    \
    } while (0)
#define TRIAL_CHECK(call, trial)                                                           \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_) {                                                                         \
            td_fail(#call, rc_, loupe_trial_errmsg(trial));                                \
            loupe_trial_free(trial);                                                       \
            return rc_;                                                                    \
        }                                                                                  \
    } while (0)

/* Study attributes covering Python's json.dumps corner cases. */
static const loupe_attr study_user_attrs[] = {
    {"owner", "\"alice\""},
    {"nan", "NaN"},
    {"inf", "Infinity"},
    {"ninf", "-Infinity"},
    {"unicode", "\"Good \xf0\x9f\x91\x8d caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\""},
    {"nested", "{\"a\": [1, 2.5, null, true], \"b\": {\"c\": \"d\", \"e\": [NaN, -Infinity]}}"},
    {"int", "1"},
    {"float", "1.0"},
    {"big", "1e16"},
    {"small", "0.00001"},
    {"pi", "3.141592653589793"},
    {"max", "1.7976931348623157e308"},
    {"min", "2.2250738585072014e-308"},
    {"none", "null"},
    {"escapes", "\"tab\\tquote\\\"back\\\\slash\\n\""},
};

/* Suggests one param of every distribution kind; all must succeed. */
static int suggest_all(loupe_trial *t) {
    double f;
    int64_t i;
    size_t idx;
    const char *s;
    static const char *const opt[] = {"adam", "sgd", "rmsprop"};
    static const char *const mixed[] = {"\"a\"", "1", "2.5", "null"};
    static const char *const bools[] = {"true", "false"};
    static const char *const floats[] = {"0.5", "1.0", "-2.0"};
    static const char *const unicode[] = {"\"\xc3\xa9t\xc3\xa9\"", "\"\xe2\x9c\x93\""};
    TRIAL_CHECK(loupe_trial_suggest_float(t, "f_plain", -5.0, 5.0, 0, 0, &f), t);
    TRIAL_CHECK(loupe_trial_suggest_float(t, "f_log", 1e-5, 1.0, 0, 1, &f), t);
    TRIAL_CHECK(loupe_trial_suggest_float(t, "f_step", -1.0, 1.0, 0.25, 0, &f), t);
    TRIAL_CHECK(loupe_trial_suggest_float(t, "f_step_adj", 0.0, 1.0, 0.3, 0, &f), t);
    TRIAL_CHECK(loupe_trial_suggest_int(t, "i_plain", 0, 10, 1, 0, &i), t);
    TRIAL_CHECK(loupe_trial_suggest_int(t, "i_step", 5, 15, 3, 0, &i), t);
    TRIAL_CHECK(loupe_trial_suggest_int(t, "i_log", 1, 1024, 1, 1, &i), t);
    TRIAL_CHECK(loupe_trial_suggest_categorical_str(t, "c_str", 3, opt, &s), t);
    TRIAL_CHECK(loupe_trial_suggest_categorical(t, "c_mixed", 4, mixed, &idx), t);
    TRIAL_CHECK(loupe_trial_suggest_categorical(t, "c_bool", 2, bools, &idx), t);
    TRIAL_CHECK(loupe_trial_suggest_categorical(t, "c_float", 3, floats, &idx), t);
    TRIAL_CHECK(loupe_trial_suggest_categorical(t, "c_unicode", 2, unicode, &idx), t);
    return LOUPE_OK;
}

static int new_study(loupe_storage *storage, const char *name, size_t n,
                     const loupe_direction *dirs, loupe_study **out) {
    int rc = loupe_study_create(storage, name, n, dirs, LOUPE_CREATE_DEFAULT, out);
    if (rc) return td_fail("loupe_study_create", rc, loupe_storage_errmsg(storage));
    loupe_sampler *sampler;
    rc = loupe_sampler_random_new(42, &sampler);
    if (rc) return td_fail("loupe_sampler_random_new", rc, "");
    loupe_study_set_sampler(*out, sampler);
    return LOUPE_OK;
}

static int single_trials(loupe_study *st) {
    loupe_trial *t;
    double v;
    const char *s;
    static const char *const opt[] = {"adam", "sgd", "rmsprop"};

    /* 0: COMPLETE with everything */
    STUDY_CHECK(loupe_study_ask(st, &t), st);
    if (suggest_all(t)) return LOUPE_ERROR;
    TRIAL_CHECK(loupe_trial_set_user_attr(t, "nan", "NaN"), t);
    TRIAL_CHECK(loupe_trial_set_user_attr(t, "inf", "Infinity"), t);
    TRIAL_CHECK(loupe_trial_set_user_attr(t, "unicode", "\"\xf0\x9f\x8c\x85 sunset\""), t);
    TRIAL_CHECK(loupe_trial_set_user_attr(t, "nested", "{\"list\": [1, 2.0, \"x\"], \"d\": {}}"), t);
    TRIAL_CHECK(loupe_trial_set_user_attr(t, "overwritten", "1"), t);
    TRIAL_CHECK(loupe_trial_set_user_attr(t, "overwritten", "2"), t);
    TRIAL_CHECK(loupe_trial_set_system_attr(t, "sys:key", "[0.1, 1e-05, 1e+16]"), t);
    TRIAL_CHECK(loupe_trial_report(t, 0.5, 0), t);
    TRIAL_CHECK(loupe_trial_report(t, INFINITY, 1), t);
    TRIAL_CHECK(loupe_trial_report(t, NAN, 2), t);
    TRIAL_CHECK(loupe_trial_report(t, -INFINITY, 3), t);
    TRIAL_CHECK(loupe_trial_report(t, 0.25, 5), t);
    TRIAL_CHECK(loupe_trial_report(t, 99.0, 5), t); /* a repeated step is ignored */
    v = 1.25;
    TRIAL_CHECK(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &v, 0), t);
    loupe_trial_free(t);

    /* 1: PRUNED, value = last intermediate value */
    STUDY_CHECK(loupe_study_ask(st, &t), st);
    if (suggest_all(t)) return LOUPE_ERROR;
    TRIAL_CHECK(loupe_trial_report(t, 2.0, 0), t);
    TRIAL_CHECK(loupe_trial_report(t, 0.75, 1), t);
    TRIAL_CHECK(loupe_trial_tell(t, LOUPE_PRUNED, 0, NULL, 0), t);
    loupe_trial_free(t);

    /* 2: FAIL */
    STUDY_CHECK(loupe_study_ask(st, &t), st);
    if (suggest_all(t)) return LOUPE_ERROR;
    TRIAL_CHECK(loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0), t);
    loupe_trial_free(t);

    /* 3: RUNNING with two params */
    STUDY_CHECK(loupe_study_ask(st, &t), st);
    TRIAL_CHECK(loupe_trial_suggest_float(t, "f_plain", -5.0, 5.0, 0, 0, &v), t);
    TRIAL_CHECK(loupe_trial_suggest_categorical_str(t, "c_str", 3, opt, &s), t);
    TRIAL_CHECK(loupe_trial_flush(t), t);
    loupe_trial_free(t);

    /* 4: enqueued, asked (fixed params), told -inf; 5: enqueued, left WAITING */
    int64_t n4, n5;
    STUDY_CHECK(loupe_study_enqueue_trial(st, "{\"f_plain\": 1.5, \"c_str\": \"sgd\"}",
                                          "{\"src\": \"enqueue\"}", &n4),
                st);
    STUDY_CHECK(loupe_study_ask(st, &t), st);
    if (loupe_trial_number(t) != n4 || n4 != 4) {
        loupe_trial_free(t);
        return td_fail("loupe_study_ask", LOUPE_ERROR, "did not take the enqueued trial 4");
    }
    TRIAL_CHECK(loupe_trial_suggest_float(t, "f_plain", -5.0, 5.0, 0, 0, &v), t);
    TRIAL_CHECK(loupe_trial_suggest_categorical_str(t, "c_str", 3, opt, &s), t);
    if (v != 1.5 || strcmp(s, "sgd") != 0) {
        loupe_trial_free(t);
        return td_fail("suggest on an enqueued trial", LOUPE_ERROR, "fixed params not returned");
    }
    v = -INFINITY;
    TRIAL_CHECK(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &v, 0), t);
    loupe_trial_free(t);
    STUDY_CHECK(loupe_study_enqueue_trial(st, "{\"i_plain\": 7}", NULL, &n5), st);
    if (n5 != 5) return td_fail("loupe_study_enqueue_trial", LOUPE_ERROR, "number is not 5");
    return LOUPE_OK;
}

static int multi_trials(loupe_study *st) {
    static const double vals[4][2] = {{1.0, 0.5}, {0.5, 0.25}, {2.0, 0.75}, {-INFINITY, INFINITY}};
    loupe_trial *t;
    double x;
    for (int k = 0; k < 4; k++) {
        STUDY_CHECK(loupe_study_ask(st, &t), st);
        TRIAL_CHECK(loupe_trial_suggest_float(t, "x", 0.0, 1.0, 0, 0, &x), t);
        TRIAL_CHECK(loupe_trial_set_user_attr(t, "k", k == 1 ? "[1, 2]" : "\"v\""), t);
        TRIAL_CHECK(loupe_trial_tell(t, LOUPE_COMPLETE, 2, vals[k], 0), t);
        loupe_trial_free(t);
    }
    STUDY_CHECK(loupe_study_ask(st, &t), st);
    TRIAL_CHECK(loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0), t);
    loupe_trial_free(t);
    STUDY_CHECK(loupe_study_ask(st, &t), st);
    TRIAL_CHECK(loupe_trial_suggest_float(t, "x", 0.0, 1.0, 0, 0, &x), t);
    TRIAL_CHECK(loupe_trial_flush(t), t);
    loupe_trial_free(t);
    return LOUPE_OK;
}

int td_write_scenario(loupe_storage *storage) {
    loupe_study *single = NULL, *multi = NULL, *empty = NULL;
    loupe_direction min = LOUPE_MINIMIZE, max = LOUPE_MAXIMIZE;
    loupe_direction both[2] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    const char *loss[] = {"loss"}, *loss_acc[] = {"loss", "acc"};
    int rc = new_study(storage, "loupe-single", 1, &min, &single);
    if (rc) goto cleanup;
    rc = LOUPE_ERROR;
    if (loupe_study_set_metric_names(single, 1, loss)) {
        td_fail("loupe_study_set_metric_names", LOUPE_ERROR, loupe_study_errmsg(single));
        goto cleanup;
    }
    for (size_t i = 0; i < sizeof study_user_attrs / sizeof *study_user_attrs; i++) {
        int r = loupe_study_set_user_attr(single, study_user_attrs[i].key, study_user_attrs[i].json);
        if (r) {
            rc = td_fail(study_user_attrs[i].key, r, loupe_study_errmsg(single));
            goto cleanup;
        }
    }
    if (loupe_study_set_system_attr(single, "custom:key", "[1, 2]")) {
        td_fail("loupe_study_set_system_attr", LOUPE_ERROR, loupe_study_errmsg(single));
        goto cleanup;
    }
    if (single_trials(single)) goto cleanup;

    if (new_study(storage, "loupe-multi", 2, both, &multi)) goto cleanup;
    if (loupe_study_set_metric_names(multi, 2, loss_acc)) {
        td_fail("loupe_study_set_metric_names", LOUPE_ERROR, loupe_study_errmsg(multi));
        goto cleanup;
    }
    if (multi_trials(multi)) goto cleanup;

    if (new_study(storage, "loupe-empty", 1, &max, &empty)) goto cleanup;
    if (loupe_study_set_user_attr(empty, "note", "\"empty\"")) {
        td_fail("loupe_study_set_user_attr", LOUPE_ERROR, loupe_study_errmsg(empty));
        goto cleanup;
    }
    rc = LOUPE_OK;
cleanup:
    loupe_study_close(single);
    loupe_study_close(multi);
    loupe_study_close(empty);
    return rc;
}
