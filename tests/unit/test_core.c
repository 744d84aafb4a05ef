/*
 * test_core.c -- the core's rules through the public API, on the memory and the
 * SQLite storage: suggest (repeats, compatibility, fixed params), the batching
 * of writes, tell validation, report, enqueue, best trial(s), attributes and
 * the errors and messages of each.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loupe.h"
#include "testutil.h"

typedef struct fixture {
    char url[600];
    loupe_storage *storage;
    loupe_study *study;
} fixture;

static int open_fixture(void **state, const char *url, size_t n_dirs, const loupe_direction *dirs) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->url, sizeof f->url, "%s", url);
    assert_int_equal(loupe_storage_open(f->url, 0, &f->storage), LOUPE_OK);
    assert_int_equal(loupe_study_create(f->storage, "core", n_dirs, dirs, 0, &f->study), LOUPE_OK);
    loupe_sampler *s;
    assert_int_equal(loupe_sampler_random_new(7, &s), LOUPE_OK);
    loupe_study_set_sampler(f->study, s);
    *state = f;
    return 0;
}

static int setup_memory(void **state) {
    loupe_direction d = LOUPE_MINIMIZE;
    return open_fixture(state, ":memory:", 1, &d);
}

static int setup_sqlite(void **state) {
    static int n;
    char name[64], url[700];
    snprintf(name, sizeof name, "core-%d.db", n++);
    tu_sqlite_url(url, sizeof url, name);
    loupe_direction d = LOUPE_MINIMIZE;
    return open_fixture(state, url, 1, &d);
}

static int teardown(void **state) {
    fixture *f = *state;
    loupe_study_close(f->study);
    loupe_storage_close(f->storage);
    free(f);
    return 0;
}

/* A second handle on the same storage (SQLite: another connection; memory: none). */
static loupe_study *reopen(fixture *f, loupe_storage **st) {
    if (strcmp(f->url, ":memory:") == 0) {
        *st = NULL;
        return f->study;
    }
    assert_int_equal(loupe_storage_open(f->url, 0, st), LOUPE_OK);
    loupe_study *s;
    assert_int_equal(loupe_study_load(*st, "core", &s), LOUPE_OK);
    return s;
}

static void close_reopened(fixture *f, loupe_storage *st, loupe_study *s) {
    if (s != f->study) loupe_study_close(s);
    loupe_storage_close(st);
}

static void test_suggest_repeat_and_ranges(void **state) {
    fixture *f = *state;
    for (int i = 0; i < 20; i++) {
        loupe_trial *t;
        assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
        assert_int_equal(loupe_trial_number(t), i);
        double x, x2, q, lg;
        int64_t n, n2, k;
        assert_int_equal(loupe_trial_suggest_float(t, "x", -2, 3, 0, 0, &x), LOUPE_OK);
        assert_true(x >= -2 && x <= 3);
        assert_int_equal(loupe_trial_suggest_float(t, "x", -2, 3, 0, 0, &x2), LOUPE_OK);
        assert_true(x == x2);
        assert_int_equal(loupe_trial_suggest_float(t, "q", 0, 1, 0.25, 0, &q), LOUPE_OK);
        assert_true(fmod(q, 0.25) == 0 && q >= 0 && q <= 1);
        assert_int_equal(loupe_trial_suggest_float(t, "lg", 1e-5, 1, 0, 1, &lg), LOUPE_OK);
        assert_true(lg >= 1e-5 && lg <= 1);
        assert_int_equal(loupe_trial_suggest_int(t, "n", 5, 15, 3, 0, &n), LOUPE_OK);
        assert_true(n == 5 || n == 8 || n == 11 || n == 14); /* high lowered to 14 */
        assert_int_equal(loupe_trial_suggest_int(t, "n", 5, 15, 3, 0, &n2), LOUPE_OK);
        assert_int_equal(n, n2);
        assert_int_equal(loupe_trial_suggest_int(t, "k", 1, 1, 1, 0, &k), LOUPE_OK);
        assert_int_equal(k, 1);
        const char *choices[] = {"\"a\"", "1", "2.5", "null", "true"};
        size_t idx;
        assert_int_equal(loupe_trial_suggest_categorical(t, "c", 5, choices, &idx), LOUPE_OK);
        assert_true(idx < 5);
        assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &x, 0), LOUPE_OK);
        loupe_trial_free(t);
    }
    loupe_trial_list *l;
    assert_int_equal(loupe_study_get_trial(f->study, 3, &l), LOUPE_OK);
    const loupe_frozen_trial *t = loupe_trial_list_at(l, 0);
    assert_int_equal(t->n_params, 6);
    const char *order[] = {"x", "q", "lg", "n", "k", "c"};
    for (int i = 0; i < 6; i++) assert_string_equal(t->params[i].name, order[i]);
    const loupe_param *n = loupe_frozen_trial_param(t, "n");
    assert_int_equal((int)n->dist.high, 14);
    char *json = loupe_distribution_to_json(&n->dist);
    assert_string_equal(json, "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 3, \"low\": 5, \"high\": 14}}");
    loupe_free(json);
    json = loupe_distribution_to_json(&loupe_frozen_trial_param(t, "c")->dist);
    assert_string_equal(json, "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [\"a\", 1, 2.5, null, true]}}");
    loupe_free(json);
    json = loupe_distribution_to_json(&loupe_frozen_trial_param(t, "lg")->dist);
    assert_string_equal(json, "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": 1e-05, \"high\": 1.0, \"log\": true}}");
    loupe_free(json);
    loupe_trial_list_free(l);
}

static void test_suggest_errors(void **state) {
    fixture *f = *state;
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    double x;
    int64_t n;
    assert_int_equal(loupe_trial_suggest_float(t, "a", 2, 1, 0, 0, &x), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_trial_errmsg(t), "smaller than or equal"));
    assert_int_equal(loupe_trial_suggest_float(t, "a", 0, 1, 0, 1, &x), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_trial_errmsg(t), "larger than 0 for a log"));
    assert_int_equal(loupe_trial_suggest_float(t, "a", 1, 2, 0.5, 1, &x), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_suggest_float(t, "a", 1, 2, -0.5, 0, &x), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_suggest_float(t, "a", NAN, 2, 0, 0, &x), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_suggest_int(t, "b", 0, 10, 1, 1, &n), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_suggest_int(t, "b", 1, 10, 2, 1, &n), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_suggest_int(t, "b", 1, 10, 0, 0, &n), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_suggest_categorical(t, "c", 0, NULL, NULL), LOUPE_EINVAL);
    const char *bad[] = {"[1]"};
    assert_int_equal(loupe_trial_suggest_categorical(t, "c", 1, bad, NULL), LOUPE_EINVAL);
    const char *notjson[] = {"abc"};
    assert_int_equal(loupe_trial_suggest_categorical(t, "c", 1, notjson, NULL), LOUPE_EINVAL);
    /* incompatible with this trial's own earlier suggestion */
    assert_int_equal(loupe_trial_suggest_float(t, "x", 0, 1, 0, 0, &x), LOUPE_OK);
    assert_int_equal(loupe_trial_suggest_int(t, "x", 0, 1, 1, 0, &n), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_trial_errmsg(t), "different distribution kind"));
    assert_int_equal(loupe_trial_suggest_float(t, "x", 0.5, 1, 0, 1, &x), LOUPE_EINCOMPAT);
    const char *abc[] = {"a", "b", "c"}, *cba[] = {"c", "b", "a"};
    assert_int_equal(loupe_trial_suggest_categorical_str(t, "cat", 3, abc, NULL), LOUPE_OK);
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &x, 0), LOUPE_OK);
    loupe_trial_free(t);
    /* incompatible with the study's earlier trials, also through another handle */
    loupe_storage *st2;
    loupe_study *s2 = reopen(f, &st2);
    assert_int_equal(loupe_study_ask(s2, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_suggest_float(t, "x", 0.1, 1, 0, 1, &x), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_trial_errmsg(t), "different log configuration"));
    assert_int_equal(loupe_trial_suggest_categorical_str(t, "cat", 3, cba, NULL), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_trial_errmsg(t), "dynamic value space"));
    /* a dynamic range is fine */
    assert_int_equal(loupe_trial_suggest_float(t, "x", 10, 20, 0, 0, &x), LOUPE_OK);
    assert_true(x >= 10 && x <= 20);
    assert_int_equal(loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0), LOUPE_OK);
    loupe_trial_free(t);
    close_reopened(f, st2, s2);
}

static void test_writes_are_batched_and_visible(void **state) {
    fixture *f = *state;
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    double x;
    assert_int_equal(loupe_trial_suggest_float(t, "x", 0, 1, 0, 0, &x), LOUPE_OK);
    /* not stored yet */
    loupe_storage *st2;
    loupe_study *s2 = reopen(f, &st2);
    loupe_trial_list *l;
    if (s2 != f->study) {
        assert_int_equal(loupe_study_get_trial(s2, 0, &l), LOUPE_OK);
        assert_int_equal(loupe_trial_list_at(l, 0)->n_params, 0);
        loupe_trial_list_free(l);
    }
    assert_int_equal(loupe_trial_set_user_attr(t, "tag", "\"a\""), LOUPE_OK);
    assert_int_equal(loupe_study_get_trial(s2, 0, &l), LOUPE_OK);
    const loupe_frozen_trial *ft = loupe_trial_list_at(l, 0);
    assert_int_equal(ft->n_params, 1);
    assert_true(ft->params[0].internal == x);
    assert_string_equal(loupe_frozen_trial_user_attr(ft, "tag"), "\"a\"");
    assert_int_equal(ft->state, LOUPE_RUNNING);
    loupe_trial_list_free(l);
    /* flush on free */
    double y;
    assert_int_equal(loupe_trial_suggest_float(t, "y", 0, 1, 0, 0, &y), LOUPE_OK);
    loupe_trial_free(t);
    assert_int_equal(loupe_study_get_trial(s2, 0, &l), LOUPE_OK);
    assert_int_equal(loupe_trial_list_at(l, 0)->n_params, 2);
    loupe_trial_list_free(l);
    close_reopened(f, st2, s2);
}

static void test_tell_rules(void **state) {
    fixture *f = *state;
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    double v[2] = {1.0, 2.0}, nan = NAN;
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 0, NULL, 0), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_trial_errmsg(t), "did not match the number of the objectives"));
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 2, v, 0), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &nan, 0), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_trial_errmsg(t), "nan"));
    assert_int_equal(loupe_trial_tell(t, LOUPE_FAIL, 1, v, 0), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_tell(t, LOUPE_RUNNING, 0, NULL, 0), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_tell(t, LOUPE_WAITING, 0, NULL, 0), LOUPE_EINVAL);
    /* nothing was written by the failed tells */
    const loupe_frozen_trial *snap;
    loupe_trial_list *l;
    assert_int_equal(loupe_study_get_trial(f->study, 0, &l), LOUPE_OK);
    assert_int_equal(loupe_trial_list_at(l, 0)->state, LOUPE_RUNNING);
    assert_int_equal(loupe_trial_list_at(l, 0)->n_values, 0);
    loupe_trial_list_free(l);
    double inf = INFINITY;
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &inf, 0), LOUPE_OK);
    assert_int_equal(loupe_trial_snapshot(t, &snap), LOUPE_OK);
    assert_int_equal(snap->state, LOUPE_COMPLETE);
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, v, 0), LOUPE_EFINISHED);
    assert_non_null(strstr(loupe_trial_errmsg(t), "Cannot tell a COMPLETE trial"));
    assert_int_equal(loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, LOUPE_TELL_SKIP_IF_FINISHED), LOUPE_OK);
    double x;
    assert_int_equal(loupe_trial_suggest_float(t, "x", 0, 1, 0, 0, &x), LOUPE_EFINISHED);
    assert_int_equal(loupe_trial_set_user_attr(t, "k", "1"), LOUPE_EFINISHED);
    assert_non_null(strstr(loupe_trial_errmsg(t), "has already finished and can not be updated"));
    assert_int_equal(loupe_trial_report(t, 1.0, 0), LOUPE_EFINISHED);
    loupe_trial_free(t);
    assert_int_equal(loupe_study_tell(f->study, 99, LOUPE_FAIL, 0, NULL, 0), LOUPE_ENOTFOUND);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "has not been created"));
    assert_int_equal(loupe_study_get_trial(f->study, 0, &l), LOUPE_OK);
    assert_true(isinf(loupe_trial_list_at(l, 0)->values[0]));
    assert_true(loupe_trial_list_at(l, 0)->datetime_complete_us >= loupe_trial_list_at(l, 0)->datetime_start_us);
    loupe_trial_list_free(l);
}

static void test_report_and_pruned(void **state) {
    fixture *f = *state;
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_report(t, 0.5, 0), LOUPE_OK);
    assert_int_equal(loupe_trial_report(t, 0.9, 0), LOUPE_OK); /* ignored repeat */
    assert_int_equal(loupe_trial_report(t, NAN, 1), LOUPE_OK);
    assert_int_equal(loupe_trial_report(t, 0.25, 2), LOUPE_OK);
    assert_int_equal(loupe_trial_report(t, 0.25, -1), LOUPE_EINVAL);
    assert_int_equal(loupe_trial_tell(t, LOUPE_PRUNED, 0, NULL, 0), LOUPE_OK);
    loupe_trial_free(t);
    loupe_trial_list *l;
    assert_int_equal(loupe_study_get_trial(f->study, 0, &l), LOUPE_OK);
    const loupe_frozen_trial *ft = loupe_trial_list_at(l, 0);
    assert_int_equal(ft->state, LOUPE_PRUNED);
    assert_int_equal(ft->n_intermediate, 3);
    assert_true(ft->intermediate[0].value == 0.5);
    assert_true(isnan(ft->intermediate[1].value));
    assert_int_equal(ft->n_values, 1);
    assert_true(ft->values[0] == 0.25);
    loupe_trial_list_free(l);
}

static void test_enqueue(void **state) {
    fixture *f = *state;
    int64_t num = -1;
    assert_int_equal(loupe_study_enqueue_trial(f->study, "{\"x\": 0.5, \"c\": \"b\", \"n\": 7}",
                                               "{\"who\": \"me\"}", &num), LOUPE_OK);
    assert_int_equal(num, 0);
    assert_int_equal(loupe_study_enqueue_trial(f->study, "[1]", NULL, NULL), LOUPE_EINVAL);
    assert_int_equal(loupe_study_enqueue_trial(f->study, "{\"x\": ", NULL, NULL), LOUPE_EINVAL);
    assert_int_equal(loupe_study_tell(f->study, 0, LOUPE_FAIL, 0, NULL, 0), LOUPE_ESTATE);
    int64_t counts[5];
    assert_int_equal(loupe_study_count_trials(f->study, counts), LOUPE_OK);
    assert_int_equal(counts[LOUPE_WAITING], 1);
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_number(t), 0);
    double x;
    int64_t n;
    const char *abc[] = {"a", "b", "c"}, *c;
    assert_int_equal(loupe_trial_suggest_float(t, "x", 0, 1, 0, 0, &x), LOUPE_OK);
    assert_true(x == 0.5);
    assert_int_equal(loupe_trial_suggest_categorical_str(t, "c", 3, abc, &c), LOUPE_OK);
    assert_string_equal(c, "b");
    assert_int_equal(loupe_trial_suggest_int(t, "n", 0, 10, 1, 0, &n), LOUPE_OK);
    assert_int_equal(n, 7);
    const loupe_frozen_trial *snap;
    assert_int_equal(loupe_trial_snapshot(t, &snap), LOUPE_OK);
    assert_string_equal(loupe_frozen_trial_user_attr(snap, "who"), "\"me\"");
    assert_string_equal(loupe_frozen_trial_system_attr(snap, "fixed_params"), "{\"x\": 0.5, \"c\": \"b\", \"n\": 7}");
    assert_true(snap->datetime_start_us > 0);
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &x, 0), LOUPE_OK);
    loupe_trial_free(t);
    /* a fixed categorical value that is no choice is refused */
    assert_int_equal(loupe_study_enqueue_trial(f->study, "{\"c\": \"zzz\"}", NULL, NULL), LOUPE_OK);
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_suggest_categorical_str(t, "c", 3, abc, &c), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_trial_errmsg(t), "zzz"));
    loupe_trial_free(t);
    /* the next ask creates a fresh trial */
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_number(t), 2);
    loupe_trial_free(t);
}

static void tell_value(loupe_study *s, double v) {
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(s, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &v, 0), LOUPE_OK);
    loupe_trial_free(t);
}

static void test_best_trial(void **state) {
    fixture *f = *state;
    loupe_trial_list *l;
    assert_int_equal(loupe_study_best_trial(f->study, &l), LOUPE_ENOTRIAL);
    assert_null(l);
    tell_value(f->study, 3.0);
    tell_value(f->study, INFINITY);
    tell_value(f->study, -1.0);
    tell_value(f->study, -1.0);
    tell_value(f->study, 2.0);
    assert_int_equal(loupe_study_best_trial(f->study, &l), LOUPE_OK);
    assert_int_equal(loupe_trial_list_at(l, 0)->number, 2);
    loupe_trial_list_free(l);
    tell_value(f->study, -INFINITY);
    assert_int_equal(loupe_study_best_trial(f->study, &l), LOUPE_OK);
    assert_int_equal(loupe_trial_list_at(l, 0)->number, 5);
    loupe_trial_list_free(l);
    assert_int_equal(loupe_study_best_trials(f->study, &l), LOUPE_OK);
    assert_int_equal(loupe_trial_list_count(l), 1);
    loupe_trial_list_free(l);
    assert_int_equal(loupe_study_get_trials(f->study, LOUPE_STATE_BIT(LOUPE_COMPLETE), &l), LOUPE_OK);
    assert_int_equal(loupe_trial_list_count(l), 6);
    loupe_trial_list_free(l);
    assert_int_equal(loupe_study_get_trials(f->study, LOUPE_STATE_BIT(LOUPE_FAIL), &l), LOUPE_OK);
    assert_int_equal(loupe_trial_list_count(l), 0);
    loupe_trial_list_free(l);
}

static void test_pareto_front(void **state) {
    fixture *f = *state;
    loupe_direction dirs[2] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    loupe_study *s;
    assert_int_equal(loupe_study_create(f->storage, "mo", 2, dirs, 0, &s), LOUPE_OK);
    double pts[][2] = {{1, 1}, {2, 3}, {0, 0}, {3, 2}, {2, 3}, {5, 5}, {1, 0.5}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        loupe_trial *t;
        assert_int_equal(loupe_study_ask(s, &t), LOUPE_OK);
        assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 2, pts[i], 0), LOUPE_OK);
        loupe_trial_free(t);
    }
    loupe_trial_list *l;
    assert_int_equal(loupe_study_best_trial(s, &l), LOUPE_ESTATE);
    assert_int_equal(loupe_study_best_trials(s, &l), LOUPE_OK);
    /* minimize x, maximize y: front is {1,1}, {2,3}, {0,0}, {2,3}, {5,5} */
    int64_t want[] = {0, 1, 2, 4, 5};
    assert_int_equal(loupe_trial_list_count(l), 5);
    for (size_t i = 0; i < 5; i++) assert_int_equal(loupe_trial_list_at(l, i)->number, want[i]);
    loupe_trial_list_free(l);
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(s, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_report(t, 1.0, 0), LOUPE_ESTATE);
    loupe_trial_free(t);
    loupe_study_close(s);
}

static void test_attrs_and_metric_names(void **state) {
    fixture *f = *state;
    const char *json;
    assert_int_equal(loupe_study_set_user_attr(f->study, "d", "{\"a\":[1,2.0,NaN,-Infinity],\"u\":\"\xc3\xa9\"}"), LOUPE_OK);
    assert_int_equal(loupe_study_user_attr(f->study, "d", &json), LOUPE_OK);
    assert_string_equal(json, "{\"a\": [1, 2.0, NaN, -Infinity], \"u\": \"\\u00e9\"}");
    assert_int_equal(loupe_study_set_user_attr(f->study, "d", "3"), LOUPE_OK);
    assert_int_equal(loupe_study_user_attr(f->study, "d", &json), LOUPE_OK);
    assert_string_equal(json, "3");
    assert_int_equal(loupe_study_system_attr(f->study, "d", &json), LOUPE_ENOTFOUND);
    assert_int_equal(loupe_study_set_user_attr(f->study, "bad", "{"), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "not JSON"));
    char *names;
    assert_int_equal(loupe_study_metric_names(f->study, &names), LOUPE_OK);
    assert_null(names);
    const char *two[] = {"a", "b"}, *one[] = {"Looks like sunset color?"};
    assert_int_equal(loupe_study_set_metric_names(f->study, 2, two), LOUPE_EINVAL);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:objective_names", "[\"legacy\"]"), LOUPE_OK);
    assert_int_equal(loupe_study_metric_names(f->study, &names), LOUPE_OK);
    assert_string_equal(names, "[\"legacy\"]");
    loupe_free(names);
    assert_int_equal(loupe_study_set_metric_names(f->study, 1, one), LOUPE_OK);
    assert_int_equal(loupe_study_metric_names(f->study, &names), LOUPE_OK);
    assert_string_equal(names, "[\"Looks like sunset color?\"]");
    loupe_free(names);
    assert_int_equal(loupe_study_system_attr(f->study, "study:metric_names", &json), LOUPE_OK);
    assert_string_equal(json, "[\"Looks like sunset color?\"]");
}

static void test_study_lifecycle(void **state) {
    fixture *f = *state;
    loupe_direction d = LOUPE_MAXIMIZE, bad = (loupe_direction)7;
    loupe_study *s;
    assert_int_equal(loupe_study_create(f->storage, "core", 1, &d, 0, &s), LOUPE_EEXISTS);
    assert_null(s);
    assert_int_equal(loupe_study_create(f->storage, "core", 1, &d, LOUPE_LOAD_IF_EXISTS, &s), LOUPE_EINVAL);
    d = LOUPE_MINIMIZE;
    assert_int_equal(loupe_study_create(f->storage, "core", 1, &d, LOUPE_LOAD_IF_EXISTS, &s), LOUPE_OK);
    assert_int_equal(loupe_study_id(s), loupe_study_id(f->study));
    loupe_study_close(s);
    assert_int_equal(loupe_study_create(f->storage, "x", 1, &bad, 0, &s), LOUPE_EINVAL);
    assert_int_equal(loupe_study_create(f->storage, "x", 0, &d, 0, &s), LOUPE_EINVAL);
    assert_int_equal(loupe_study_create(f->storage, NULL, 1, &d, 0, &s), LOUPE_OK);
    assert_true(strncmp(loupe_study_name(s), "no-name-", 8) == 0);
    char auto_name[80];
    snprintf(auto_name, sizeof auto_name, "%s", loupe_study_name(s));
    loupe_study_close(s);
    loupe_study_list *list;
    assert_int_equal(loupe_storage_list_studies(f->storage, &list), LOUPE_OK);
    assert_int_equal(loupe_study_list_count(list), 2);
    assert_string_equal(loupe_study_list_at(list, 0)->name, "core");
    assert_string_equal(loupe_study_list_at(list, 1)->name, auto_name);
    loupe_study_list_free(list);
    assert_int_equal(loupe_storage_delete_study(f->storage, auto_name), LOUPE_OK);
    assert_int_equal(loupe_storage_delete_study(f->storage, auto_name), LOUPE_ENOTFOUND);
    assert_int_equal(loupe_study_load(f->storage, auto_name, &s), LOUPE_ENOTFOUND);
}

static void test_bad_urls(void **state) {
    (void)state;
    const char *urls[] = {"", "sqlite://", "sqlite:///", "mysql://x/y",
                          "http://x", "sqlite:///a.db?timeout=3", "memory"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        loupe_storage *s;
        assert_int_equal(loupe_storage_open(urls[i], 0, &s), LOUPE_EURL);
        assert_non_null(s);
        assert_non_null(strstr(loupe_storage_errmsg(s), "sqlite:///"));
        loupe_study *st;
        loupe_direction d = LOUPE_MINIMIZE;
        assert_int_equal(loupe_study_create(s, "x", 1, &d, 0, &st), LOUPE_ESTATE);
        loupe_storage_close(s);
    }
    assert_int_equal(loupe_storage_open(NULL, 0, NULL), LOUPE_EINVAL);
}

#define BOTH(fn)                                                                 \
    cmocka_unit_test_setup_teardown(fn, setup_memory, teardown),                 \
        cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        BOTH(test_suggest_repeat_and_ranges), BOTH(test_suggest_errors),
        BOTH(test_writes_are_batched_and_visible), BOTH(test_tell_rules),
        BOTH(test_report_and_pruned), BOTH(test_enqueue), BOTH(test_best_trial),
        BOTH(test_pareto_front), BOTH(test_attrs_and_metric_names), BOTH(test_study_lifecycle),
        cmocka_unit_test(test_bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
