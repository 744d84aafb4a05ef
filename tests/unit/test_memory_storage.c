/*
 * test_memory_storage.c -- the ":memory:" storage through its vtable
 * (storage.h): every op, the error paths with their messages, all-or-nothing
 * updates, WAITING claims, id/number rules and snapshot isolation of reads.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/trial_rec.h"
#include "storage/storage.h"
#include "testutil.h"
#include "util/timeutil.h"

static const char *const ABC[] = {"\"a\"", "\"b\"", "\"c\""};
static const char *const CBA[] = {"\"c\"", "\"b\"", "\"a\""};
static const char *const XY[] = {"\"x\"", "\"y\""};

static loupe_storage *open_mem(void) {
    loupe_storage *s = NULL;
    assert_int_equal(loupe__memory_storage_open(&s), LOUPE_OK);
    assert_non_null(s);
    return s;
}

static int64_t mk_study(loupe_storage *s, const char *name) {
    loupe_direction d = LOUPE_MINIMIZE;
    int64_t id = -1;
    assert_int_equal(s->ops->create_study(s, name, 1, &d, &id), LOUPE_OK);
    return id;
}

static int64_t mk_trial(loupe_storage *s, int64_t study, int64_t *number) {
    int64_t id = -1;
    assert_int_equal(s->ops->create_trial(s, study, NULL, &id, number), LOUPE_OK);
    return id;
}

static uint64_t version(loupe_storage *s) {
    uint64_t v = 0;
    assert_int_equal(s->ops->data_version(s, &v), LOUPE_OK);
    return v;
}

static loupe__trial_rec *read1(loupe_storage *s, int64_t trial_id) {
    loupe__trial_rec *r = NULL;
    assert_int_equal(s->ops->read_trial(s, trial_id, &r), LOUPE_OK);
    assert_non_null(r);
    return r;
}

/* An update that only sets params. */
static int set_params(loupe_storage *s, int64_t trial_id, size_t n, const loupe_param *p) {
    loupe__trial_update u = {0};
    u.trial_id = trial_id;
    u.n_params = n;
    u.params = p;
    return s->ops->update_trial(s, &u, NULL);
}

static int set_state(loupe_storage *s, int64_t trial_id, loupe_trial_state st, size_t n,
                     const double *values, int *changed) {
    loupe__trial_update u = {0};
    u.trial_id = trial_id;
    u.set_state = 1;
    u.state = st;
    u.n_values = n;
    u.values = values;
    return s->ops->update_trial(s, &u, changed);
}

static int64_t now_us(void) { return loupe__now_us(); }

/* ---------------------------------------------------------------- tests */

static void test_open(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    assert_string_equal(s->ops->name, "memory");
    assert_string_equal(s->schema_revision, "v3.2.0.a");
    assert_string_equal(loupe_storage_errmsg(s), "not an error");
    assert_int_equal(s->read_only, 0);
    loupe_study_list *list = NULL;
    assert_int_equal(s->ops->list_studies(s, &list), LOUPE_OK);
    assert_int_equal(loupe_study_list_count(list), 0);
    loupe_study_list_free(list);
    s->ops->close(s);
}

static void test_studies(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    loupe_direction two[2] = {LOUPE_MAXIMIZE, LOUPE_MINIMIZE};
    int64_t a = -1, b = -1, c = -1;
    assert_int_equal(s->ops->create_study(s, "a", 2, two, &a), LOUPE_OK);
    b = mk_study(s, "b");
    assert_true(a >= 1 && b > a);

    /* duplicate name */
    uint64_t v0 = version(s);
    assert_int_equal(s->ops->create_study(s, "a", 2, two, &c), LOUPE_EEXISTS);
    assert_string_equal(loupe_storage_errmsg(s), "A study with name 'a' already exists");
    assert_int_equal(version(s), v0);

    /* bad arguments */
    loupe_direction bad = (loupe_direction)7;
    assert_int_equal(s->ops->create_study(s, NULL, 1, two, &c), LOUPE_EINVAL);
    assert_int_equal(s->ops->create_study(s, "z", 0, two, &c), LOUPE_EINVAL);
    assert_int_equal(s->ops->create_study(s, "z", 1, &bad, &c), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "unknown value 7"));
    assert_int_equal(version(s), v0);

    /* find / get */
    int64_t id = 0;
    assert_int_equal(s->ops->find_study(s, "b", &id), LOUPE_OK);
    assert_int_equal(id, b);
    assert_int_equal(s->ops->find_study(s, "nope", &id), LOUPE_ENOTFOUND);
    assert_non_null(strstr(loupe_storage_errmsg(s), "nope"));
    loupe__study_info info;
    assert_int_equal(s->ops->get_study(s, a, &info), LOUPE_OK);
    assert_int_equal(info.study_id, a);
    assert_string_equal(info.name, "a");
    assert_int_equal(info.n_directions, 2);
    assert_int_equal(info.directions[0], LOUPE_MAXIMIZE);
    assert_int_equal(info.directions[1], LOUPE_MINIMIZE);
    assert_int_equal(info.n_user_attrs, 0);
    assert_int_equal(info.n_system_attrs, 0);
    loupe__study_info_free(&info);
    assert_int_equal(s->ops->get_study(s, 99, &info), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No study with id 99");

    /* delete: the study goes, others stay, ids are never reused */
    c = mk_study(s, "c");
    assert_int_equal(s->ops->delete_study(s, b), LOUPE_OK);
    assert_int_equal(s->ops->find_study(s, "b", &id), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->get_study(s, b, &info), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->delete_study(s, b), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->delete_study(s, 1234), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No study with id 1234");
    assert_int_equal(s->ops->find_study(s, "a", &id), LOUPE_OK);
    assert_int_equal(id, a);
    assert_int_equal(s->ops->find_study(s, "c", &id), LOUPE_OK);
    assert_int_equal(id, c);
    int64_t b2 = mk_study(s, "b"); /* the name is free again */
    assert_true(b2 > c);

    s->ops->close(s);
}

static void test_list_studies(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t a = mk_study(s, "first");
    int64_t b = mk_study(s, "second");
    int64_t c = mk_study(s, "third");
    loupe_attr ua = {"k", "\"v\""};
    assert_int_equal(s->ops->set_study_attrs(s, b, 0, 1, &ua, NULL), LOUPE_OK);
    loupe_attr sa = {"sys", "[1, 2]"};
    assert_int_equal(s->ops->set_study_attrs(s, b, 1, 1, &sa, NULL), LOUPE_OK);
    int64_t before = now_us();
    mk_trial(s, b, NULL);
    int64_t after = now_us();
    mk_trial(s, b, NULL);
    /* a WAITING trial has no start and does not count for the earliest start */
    loupe_frozen_trial w = {0};
    w.state = LOUPE_WAITING;
    w.datetime_start_us = -1;
    w.datetime_complete_us = -1;
    assert_int_equal(s->ops->create_trial(s, c, &w, NULL, NULL), LOUPE_OK);
    assert_int_equal(s->ops->delete_study(s, a), LOUPE_OK);

    loupe_study_list *list = NULL;
    assert_int_equal(s->ops->list_studies(s, &list), LOUPE_OK);
    assert_int_equal(loupe_study_list_count(list), 2);
    const loupe_study_summary *sb = loupe_study_list_at(list, 0);
    const loupe_study_summary *sc = loupe_study_list_at(list, 1);
    assert_int_equal(sb->study_id, b);
    assert_string_equal(sb->name, "second");
    assert_int_equal(sb->n_directions, 1);
    assert_int_equal(sb->directions[0], LOUPE_MINIMIZE);
    assert_int_equal(sb->n_trials, 2);
    assert_true(sb->datetime_start_us >= before && sb->datetime_start_us <= after);
    assert_int_equal(sb->n_user_attrs, 1);
    assert_string_equal(sb->user_attrs[0].key, "k");
    assert_string_equal(sb->user_attrs[0].json, "\"v\"");
    assert_int_equal(sb->n_system_attrs, 1);
    assert_string_equal(sb->system_attrs[0].json, "[1, 2]");
    /* the same listing without the trial aggregates (what the dashboard polls) */
    tu_expect_heads_match(s, list);
    assert_int_equal(sc->study_id, c);
    assert_int_equal(sc->n_trials, 1);
    assert_int_equal(sc->datetime_start_us, -1);
    loupe_study_list_free(list);
    s->ops->close(s);
}

static void test_study_attrs(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t st = mk_study(s, "s");
    loupe_attr first[3] = {{"dataset", "\"MNIST\""}, {"none", "null"}, {"nested", "{\"a\": [1, 2.5]}"}};
    assert_int_equal(s->ops->set_study_attrs(s, st, 0, 3, first, NULL), LOUPE_OK);
    /* overwrite in place + append + the same key twice in one batch (the last wins) */
    loupe_attr second[3] = {{"none", "1"}, {"new", "true"}, {"none", "2"}};
    assert_int_equal(s->ops->set_study_attrs(s, st, 0, 3, second, NULL), LOUPE_OK);
    loupe_attr sys = {"dataset", "\"system\""};
    assert_int_equal(s->ops->set_study_attrs(s, st, 1, 1, &sys, NULL), LOUPE_OK);

    loupe__study_info info;
    assert_int_equal(s->ops->get_study(s, st, &info), LOUPE_OK);
    assert_int_equal(info.n_user_attrs, 4);
    const char *keys[] = {"dataset", "none", "nested", "new"};
    const char *vals[] = {"\"MNIST\"", "2", "{\"a\": [1, 2.5]}", "true"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(info.user_attrs[i].key, keys[i]);
        assert_string_equal(info.user_attrs[i].json, vals[i]);
    }
    assert_int_equal(info.n_system_attrs, 1);
    assert_string_equal(info.system_attrs[0].key, "dataset");
    assert_string_equal(info.system_attrs[0].json, "\"system\"");

    /* all or nothing: one bad attr in a batch writes none of them */
    uint64_t v0 = version(s);
    loupe_attr bad[2] = {{"ok", "1"}, {"broken", NULL}};
    assert_int_equal(s->ops->set_study_attrs(s, st, 0, 2, bad, NULL), LOUPE_EINVAL);
    assert_int_equal(version(s), v0);
    loupe__study_info info2;
    assert_int_equal(s->ops->get_study(s, st, &info2), LOUPE_OK);
    assert_int_equal(info2.n_user_attrs, 4);
    loupe__study_info_free(&info2);

    /* the info is a copy: later writes do not change it */
    loupe_attr over = {"dataset", "\"CIFAR\""};
    assert_int_equal(s->ops->set_study_attrs(s, st, 0, 1, &over, NULL), LOUPE_OK);
    assert_string_equal(info.user_attrs[0].json, "\"MNIST\"");
    loupe__study_info_free(&info);

    assert_int_equal(s->ops->set_study_attrs(s, 77, 0, 1, &over, NULL), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No study with id 77");
    assert_int_equal(s->ops->set_study_attrs(s, 77, 1, 1, &over, NULL), LOUPE_ENOTFOUND);
    s->ops->close(s);
}

static void test_trial_ids_numbers(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t a = mk_study(s, "a"), b = mk_study(s, "b");
    int64_t ids[6], nums[6];
    int64_t before = now_us();
    for (int i = 0; i < 6; i++) ids[i] = mk_trial(s, i % 2 ? b : a, &nums[i]);
    int64_t after = now_us();
    for (int i = 0; i < 6; i++) {
        if (i) assert_true(ids[i] > ids[i - 1]); /* global, increasing */
        assert_int_equal(nums[i], i / 2);       /* dense per study */
        loupe__trial_rec *r = read1(s, ids[i]);
        assert_int_equal(r->t.trial_id, ids[i]);
        assert_int_equal(r->t.number, nums[i]);
        assert_int_equal(r->t.study_id, i % 2 ? b : a);
        assert_int_equal(r->t.state, LOUPE_RUNNING);
        assert_true(r->t.datetime_start_us >= before && r->t.datetime_start_us <= after);
        assert_int_equal(r->t.datetime_complete_us, -1);
        assert_int_equal(r->t.n_values, 0);
        assert_null(r->t.values);
        assert_int_equal(r->t.n_params, 0);
        assert_int_equal(r->t.n_user_attrs, 0);
        assert_int_equal(r->t.n_system_attrs, 0);
        assert_int_equal(r->t.n_intermediate, 0);
        loupe__trial_rec_release(r);
        int64_t tid = 0;
        assert_int_equal(s->ops->trial_id_by_number(s, i % 2 ? b : a, nums[i], &tid), LOUPE_OK);
        assert_int_equal(tid, ids[i]);
    }
    int64_t tid;
    assert_int_equal(s->ops->trial_id_by_number(s, a, 3, &tid), LOUPE_ENOTFOUND);
    assert_non_null(strstr(loupe_storage_errmsg(s), "number 3"));
    assert_int_equal(s->ops->trial_id_by_number(s, a, -1, &tid), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->trial_id_by_number(s, 99, 0, &tid), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No study with id 99");
    assert_int_equal(s->ops->create_trial(s, 99, NULL, &tid, NULL), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No study with id 99");
    loupe__trial_rec *r = NULL;
    assert_int_equal(s->ops->read_trial(s, 4242, &r), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No trial with id 4242");
    assert_null(r);

    /* deleting a study removes its trials; the other study's trials are intact */
    assert_int_equal(s->ops->delete_study(s, a), LOUPE_OK);
    for (int i = 0; i < 6; i++) {
        if (i % 2 == 0) {
            assert_int_equal(s->ops->read_trial(s, ids[i], &r), LOUPE_ENOTFOUND);
            assert_int_equal(set_state(s, ids[i], LOUPE_FAIL, 0, NULL, NULL), LOUPE_ENOTFOUND);
        } else {
            r = read1(s, ids[i]);
            assert_int_equal(r->t.study_id, b);
            loupe__trial_rec_release(r);
        }
    }
    /* new trials never reuse ids */
    int64_t n2;
    int64_t id7 = mk_trial(s, b, &n2);
    assert_true(id7 > ids[5]);
    assert_int_equal(n2, 3);
    s->ops->close(s);
}

static void test_create_from_template(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t st = mk_study(s, "t");
    mk_trial(s, st, NULL);

    loupe__trial_rec *tmpl = loupe__trial_rec_new();
    tmpl->t.number = 42;   /* ignored */
    tmpl->t.trial_id = 42; /* ignored */
    tmpl->t.study_id = 42; /* ignored */
    tmpl->t.state = LOUPE_COMPLETE;
    tmpl->t.datetime_start_us = 1661990400000000LL; /* 2022-09-01 00:00:00 UTC */
    tmpl->t.datetime_complete_us = 1661990400123456LL;
    double vals[2] = {0.5, INFINITY};
    assert_int_equal(loupe__trial_rec_set_values(tmpl, 2, vals), LOUPE_OK);
    loupe_distribution fd = tu_float_dist(-1, 1, 0, 0), cd = tu_cat_dist(3, ABC);
    assert_int_equal(loupe__trial_rec_add_param(tmpl, "x", 0.25, &fd), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_add_param(tmpl, "c", 2, &cd), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_add_user_attr(tmpl, "u", "[1, 2]"), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_add_system_attr(tmpl, "fixed_params", "{\"x\": 0.25}"), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_put_intermediate(tmpl, 3, 0.1), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_put_intermediate(tmpl, 1, NAN), LOUPE_OK);

    int64_t id = -1, num = -1;
    assert_int_equal(s->ops->create_trial(s, st, &tmpl->t, &id, &num), LOUPE_OK);
    assert_int_equal(num, 1);
    loupe__trial_rec *r = read1(s, id);
    assert_int_equal(r->t.trial_id, id);
    assert_int_equal(r->t.number, 1);
    assert_int_equal(r->t.study_id, st);
    assert_int_equal(r->t.state, LOUPE_COMPLETE);
    assert_int_equal(r->t.datetime_start_us, 1661990400000000LL);
    assert_int_equal(r->t.datetime_complete_us, 1661990400123456LL);
    assert_int_equal(r->t.n_values, 2);
    assert_true(r->t.values[0] == 0.5 && isinf(r->t.values[1]) && r->t.values[1] > 0);
    assert_int_equal(r->t.n_params, 2);
    assert_string_equal(r->t.params[0].name, "x");
    assert_true(r->t.params[0].internal == 0.25);
    assert_int_equal(r->t.params[0].dist.kind, LOUPE_DIST_FLOAT);
    assert_true(r->t.params[0].dist.low == -1 && r->t.params[0].dist.high == 1);
    assert_string_equal(r->t.params[1].name, "c");
    assert_int_equal(r->t.params[1].dist.n_choices, 3);
    assert_string_equal(r->t.params[1].dist.choices[2], "\"c\"");
    assert_string_equal(loupe_frozen_trial_user_attr(&r->t, "u"), "[1, 2]");
    assert_string_equal(loupe_frozen_trial_system_attr(&r->t, "fixed_params"), "{\"x\": 0.25}");
    assert_int_equal(r->t.n_intermediate, 2);
    assert_int_equal(r->t.intermediate[0].step, 1);
    assert_true(isnan(r->t.intermediate[0].value));
    assert_int_equal(r->t.intermediate[1].step, 3);
    assert_true(r->t.intermediate[1].value == 0.1);
    loupe__trial_rec_release(r);

    /* the template's distributions count as the study's first ones */
    int64_t t2 = mk_trial(s, st, NULL);
    loupe_param p = {"c", 0, tu_cat_dist(3, CBA)};
    assert_int_equal(set_params(s, t2, 1, &p), LOUPE_EINCOMPAT);

    /* a template whose param is incompatible creates nothing */
    uint64_t v0 = version(s);
    loupe__trial_rec *bad = loupe__trial_rec_new();
    bad->t.state = LOUPE_WAITING;
    loupe_distribution idist = tu_int_dist(0, 10, 1, 0);
    assert_int_equal(loupe__trial_rec_add_param(bad, "x", 3, &idist), LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, st, &bad->t, &id, &num), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_storage_errmsg(s), "'x'"));
    assert_int_equal(version(s), v0);
    int64_t tid;
    assert_int_equal(s->ops->trial_id_by_number(s, st, 3, &tid), LOUPE_ENOTFOUND);
    /* nor does one that names a param twice, or has an unknown state */
    loupe__trial_rec *dup = loupe__trial_rec_new();
    assert_int_equal(loupe__trial_rec_add_param(dup, "y", 1, &fd), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_add_param(dup, "y", 2, &fd), LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, st, &dup->t, &id, &num), LOUPE_EINVAL);
    loupe__trial_rec *badstate = loupe__trial_rec_new();
    badstate->t.state = (loupe_trial_state)9;
    assert_int_equal(s->ops->create_trial(s, st, &badstate->t, &id, &num), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "unknown state 9"));
    loupe__trial_rec_release(badstate);
    assert_int_equal(version(s), v0);
    /* "y" was never stored, so an int "y" is fine now */
    loupe_param py = {"y", 4, idist};
    assert_int_equal(set_params(s, t2, 1, &py), LOUPE_OK);

    loupe__trial_rec_release(dup);
    loupe__trial_rec_release(bad);
    loupe__trial_rec_release(tmpl);
    s->ops->close(s);
}

static int64_t mk_waiting(loupe_storage *s, int64_t study) {
    loupe_frozen_trial w = {0};
    w.state = LOUPE_WAITING;
    w.datetime_start_us = -1;
    w.datetime_complete_us = -1;
    int64_t id = -1;
    assert_int_equal(s->ops->create_trial(s, study, &w, &id, NULL), LOUPE_OK);
    return id;
}

static void test_claim_waiting(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t st = mk_study(s, "w"), other = mk_study(s, "other");
    int64_t tid;
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->claim_waiting_trial(s, 99, &tid), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No study with id 99");

    int64_t r0 = mk_trial(s, st, NULL);
    int64_t w1 = mk_waiting(s, st);
    int64_t w2 = mk_waiting(s, st);
    int64_t ow = mk_waiting(s, other);
    loupe__trial_rec *r = read1(s, w1);
    assert_int_equal(r->t.state, LOUPE_WAITING);
    assert_int_equal(r->t.datetime_start_us, -1);
    loupe__trial_rec_release(r);

    int64_t before = now_us();
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_OK);
    int64_t after = now_us();
    assert_int_equal(tid, w1);
    r = read1(s, w1);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_true(r->t.datetime_start_us >= before && r->t.datetime_start_us <= after);
    loupe__trial_rec_release(r);

    /* a RUNNING trial put back to WAITING is the oldest waiting one again */
    int changed = -1;
    assert_int_equal(set_state(s, r0, LOUPE_WAITING, 0, NULL, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_OK);
    assert_int_equal(tid, r0);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_OK);
    assert_int_equal(tid, w2);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);
    assert_non_null(strstr(loupe_storage_errmsg(s), "WAITING"));

    /* a WAITING trial that is failed is no longer claimable */
    int64_t w3 = mk_waiting(s, st);
    assert_int_equal(set_state(s, w3, LOUPE_FAIL, 0, NULL, NULL), LOUPE_OK);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);

    /* the other study's waiting trial was untouched all along */
    r = read1(s, ow);
    assert_int_equal(r->t.state, LOUPE_WAITING);
    loupe__trial_rec_release(r);
    assert_int_equal(s->ops->claim_waiting_trial(s, other, &tid), LOUPE_OK);
    assert_int_equal(tid, ow);
    s->ops->close(s);
}

static void test_update_trial(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t st = mk_study(s, "u");
    int64_t t0 = mk_trial(s, st, NULL);
    loupe__trial_rec *r = read1(s, t0);
    int64_t start0 = r->t.datetime_start_us;
    loupe__trial_rec_release(r);

    loupe_param params[2] = {{"x", 0.5, tu_float_dist(0, 1, 0, 0)}, {"c", 1, tu_cat_dist(3, ABC)}};
    loupe_attr ua[2] = {{"a", "1"}, {"b", "\"two\""}};
    loupe_attr sa[1] = {{"s", "null"}};
    loupe_intermediate iv[3] = {{5, 0.5}, {1, INFINITY}, {3, NAN}};
    loupe__trial_update u = {0};
    u.trial_id = t0;
    u.n_params = 2;
    u.params = params;
    u.n_user_attrs = 2;
    u.user_attrs = ua;
    u.n_system_attrs = 1;
    u.system_attrs = sa;
    u.n_intermediate = 3;
    u.intermediate = iv;
    int changed = -1;
    assert_int_equal(s->ops->update_trial(s, &u, &changed), LOUPE_OK);
    assert_int_equal(changed, 0);

    /* second batch: overwrite attr "a" in place, overwrite step 3 */
    loupe_attr ua2[2] = {{"c", "3"}, {"a", "[1]"}};
    loupe_intermediate iv2 = {3, -1.5};
    loupe__trial_update u2 = {0};
    u2.trial_id = t0;
    u2.n_user_attrs = 2;
    u2.user_attrs = ua2;
    u2.n_intermediate = 1;
    u2.intermediate = &iv2;
    assert_int_equal(s->ops->update_trial(s, &u2, NULL), LOUPE_OK);

    r = read1(s, t0);
    assert_int_equal(r->t.n_params, 2);
    assert_string_equal(r->t.params[0].name, "x");
    assert_string_equal(r->t.params[1].name, "c");
    assert_true(r->t.params[1].internal == 1);
    assert_int_equal(r->t.n_user_attrs, 3);
    assert_string_equal(r->t.user_attrs[0].key, "a");
    assert_string_equal(r->t.user_attrs[0].json, "[1]");
    assert_string_equal(r->t.user_attrs[1].key, "b");
    assert_string_equal(r->t.user_attrs[2].key, "c");
    assert_int_equal(r->t.n_system_attrs, 1);
    assert_string_equal(r->t.system_attrs[0].json, "null");
    assert_int_equal(r->t.n_intermediate, 3);
    assert_int_equal(r->t.intermediate[0].step, 1);
    assert_true(isinf(r->t.intermediate[0].value));
    assert_int_equal(r->t.intermediate[1].step, 3);
    assert_true(r->t.intermediate[1].value == -1.5);
    assert_int_equal(r->t.intermediate[2].step, 5);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_int_equal(r->t.datetime_start_us, start0);
    loupe__trial_rec_release(r);

    /* RUNNING -> RUNNING: values are upserted, nothing else changes */
    double v1 = 7.0;
    assert_int_equal(set_state(s, t0, LOUPE_RUNNING, 1, &v1, &changed), LOUPE_OK);
    assert_int_equal(changed, 0);
    r = read1(s, t0);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_int_equal(r->t.datetime_start_us, start0);
    assert_int_equal(r->t.datetime_complete_us, -1);
    assert_int_equal(r->t.n_values, 1);
    assert_true(r->t.values[0] == 7.0);
    loupe__trial_rec_release(r);

    /* a param name already on the trial, values without a state, bad state */
    uint64_t v0 = version(s);
    loupe_param again = {"x", 0.7, tu_float_dist(0, 1, 0, 0)};
    assert_int_equal(set_params(s, t0, 1, &again), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "already has a param named 'x'"));
    loupe__trial_update u3 = {0};
    u3.trial_id = t0;
    u3.n_values = 1;
    u3.values = &v1;
    assert_int_equal(s->ops->update_trial(s, &u3, NULL), LOUPE_EINVAL);
    assert_int_equal(set_state(s, t0, (loupe_trial_state)17, 0, NULL, NULL), LOUPE_EINVAL);
    assert_int_equal(s->ops->update_trial(s, &(loupe__trial_update){.trial_id = 999}, NULL),
                     LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No trial with id 999");
    assert_int_equal(version(s), v0);

    /* COMPLETE with two values (the second objective index) */
    double vals[2] = {0.25, -INFINITY};
    int64_t before = now_us();
    assert_int_equal(set_state(s, t0, LOUPE_COMPLETE, 2, vals, &changed), LOUPE_OK);
    int64_t after = now_us();
    assert_int_equal(changed, 1);
    r = read1(s, t0);
    assert_int_equal(r->t.state, LOUPE_COMPLETE);
    assert_int_equal(r->t.datetime_start_us, start0);
    assert_true(r->t.datetime_complete_us >= before && r->t.datetime_complete_us <= after);
    assert_int_equal(r->t.n_values, 2);
    assert_true(r->t.values[0] == 0.25 && isinf(r->t.values[1]) && r->t.values[1] < 0);
    loupe__trial_rec_release(r);

    /* a finished trial refuses every update, before any other check */
    v0 = version(s);
    const loupe_trial_state all[5] = {LOUPE_RUNNING, LOUPE_COMPLETE, LOUPE_PRUNED, LOUPE_FAIL,
                                      LOUPE_WAITING};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(set_state(s, t0, all[i], 0, NULL, &changed), LOUPE_EFINISHED);
        assert_int_equal(changed, 0);
        assert_string_equal(loupe_storage_errmsg(s), "Trial#0 has already finished and can not be updated.");
    }
    loupe_param incompatible = {"x", 1, tu_int_dist(0, 3, 1, 0)};
    assert_int_equal(set_params(s, t0, 1, &incompatible), LOUPE_EFINISHED);
    assert_int_equal(s->ops->update_trial(s, &u2, NULL), LOUPE_EFINISHED);
    assert_int_equal(version(s), v0);

    /* PRUNED and FAIL from RUNNING; WAITING -> RUNNING sets a new start */
    int64_t t1 = mk_trial(s, st, NULL);
    assert_int_equal(set_state(s, t1, LOUPE_PRUNED, 0, NULL, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    r = read1(s, t1);
    assert_int_equal(r->t.state, LOUPE_PRUNED);
    assert_true(r->t.datetime_complete_us >= 0);
    assert_int_equal(r->t.n_values, 0);
    loupe__trial_rec_release(r);
    int64_t t2 = mk_trial(s, st, NULL);
    assert_int_equal(set_state(s, t2, LOUPE_FAIL, 0, NULL, &changed), LOUPE_OK);
    int64_t w = mk_waiting(s, st);
    /* updates of a WAITING trial are allowed */
    loupe_attr wa = {"note", "\"hi\""};
    loupe__trial_update u4 = {.trial_id = w, .n_user_attrs = 1, .user_attrs = &wa};
    assert_int_equal(s->ops->update_trial(s, &u4, NULL), LOUPE_OK);
    before = now_us();
    assert_int_equal(set_state(s, w, LOUPE_RUNNING, 0, NULL, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    r = read1(s, w);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_true(r->t.datetime_start_us >= before);
    assert_int_equal(r->t.datetime_complete_us, -1);
    assert_string_equal(loupe_frozen_trial_user_attr(&r->t, "note"), "\"hi\"");
    loupe__trial_rec_release(r);
    int64_t tid;
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);
    s->ops->close(s);
}

static void test_update_all_or_nothing(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t st = mk_study(s, "aon");
    int64_t t0 = mk_trial(s, st, NULL), t1 = mk_trial(s, st, NULL);
    loupe_param p0 = {"c", 0, tu_cat_dist(3, ABC)};
    assert_int_equal(set_params(s, t0, 1, &p0), LOUPE_OK);

    /* attrs, intermediate values, a good param, a state change and one bad param */
    uint64_t v0 = version(s);
    loupe_param ps[2] = {{"new", 0.5, tu_float_dist(0, 1, 0, 0)}, {"c", 0, tu_cat_dist(3, CBA)}};
    loupe_attr ua = {"k", "1"}, sa = {"s", "2"};
    loupe_intermediate iv = {0, 1.0};
    double val = 3.0;
    loupe__trial_update u = {t1, 2, ps, 1, &ua, 1, &sa, 1, &iv, 1, LOUPE_COMPLETE, 1, &val, 0};
    int changed = -1;
    assert_int_equal(s->ops->update_trial(s, &u, &changed), LOUPE_EINCOMPAT);
    assert_int_equal(changed, 0);
    assert_non_null(strstr(loupe_storage_errmsg(s), "'c'"));
    assert_non_null(strstr(loupe_storage_errmsg(s), "dynamic value space"));
    assert_int_equal(version(s), v0);
    loupe__trial_rec *r = read1(s, t1);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_int_equal(r->t.n_params, 0);
    assert_int_equal(r->t.n_user_attrs, 0);
    assert_int_equal(r->t.n_system_attrs, 0);
    assert_int_equal(r->t.n_intermediate, 0);
    assert_int_equal(r->t.n_values, 0);
    assert_int_equal(r->t.datetime_complete_us, -1);
    loupe__trial_rec_release(r);
    /* the rejected batch did not register "new" as a known distribution */
    loupe_param pint = {"new", 1, tu_int_dist(0, 5, 1, 0)};
    assert_int_equal(set_params(s, t1, 1, &pint), LOUPE_OK);

    /* the same name twice in one batch, a NULL attr key */
    int64_t t2 = mk_trial(s, st, NULL);
    v0 = version(s);
    loupe_param twice[2] = {{"z", 0.1, tu_float_dist(0, 1, 0, 0)}, {"z", 0.2, tu_float_dist(0, 1, 0, 0)}};
    assert_int_equal(set_params(s, t2, 2, twice), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "'z' is given twice"));
    loupe_attr nokey = {NULL, "1"};
    loupe__trial_update u5 = {.trial_id = t2, .n_params = 1, .params = twice, .n_system_attrs = 1,
                              .system_attrs = &nokey};
    assert_int_equal(s->ops->update_trial(s, &u5, NULL), LOUPE_EINVAL);
    assert_int_equal(version(s), v0);
    r = read1(s, t2);
    assert_int_equal(r->t.n_params, 0);
    assert_int_equal(r->t.n_system_attrs, 0);
    loupe__trial_rec_release(r);
    s->ops->close(s);
}

static void test_compatibility(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t st = mk_study(s, "compat"), st2 = mk_study(s, "compat2");
    int64_t t[6];
    for (int i = 0; i < 6; i++) t[i] = mk_trial(s, st, NULL);

    loupe_param f = {"f", 0.5, tu_float_dist(0, 1, 0, 0)};
    assert_int_equal(set_params(s, t[0], 1, &f), LOUPE_OK);
    /* dynamic ranges are fine, a step too (same kind, same log) */
    loupe_param f2 = {"f", 3, tu_float_dist(0, 10, 0.5, 0)};
    assert_int_equal(set_params(s, t[1], 1, &f2), LOUPE_OK);
    /* another kind or another log is not */
    loupe_param flog = {"f", 0.5, tu_float_dist(0.1, 1, 0, 1)};
    assert_int_equal(set_params(s, t[2], 1, &flog), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_storage_errmsg(s), "log"));
    loupe_param fint = {"f", 1, tu_int_dist(0, 1, 1, 0)};
    assert_int_equal(set_params(s, t[2], 1, &fint), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_storage_errmsg(s), "kind"));

    /* categorical: same choices fine; other order, other set, other length not */
    loupe_param c = {"c", 2, tu_cat_dist(3, ABC)};
    assert_int_equal(set_params(s, t[0], 1, &c), LOUPE_OK);
    loupe_param c_same = {"c", 0, tu_cat_dist(3, ABC)};
    assert_int_equal(set_params(s, t[1], 1, &c_same), LOUPE_OK);
    loupe_param c_order = {"c", 0, tu_cat_dist(3, CBA)};
    assert_int_equal(set_params(s, t[2], 1, &c_order), LOUPE_EINCOMPAT);
    loupe_param c_len = {"c", 0, tu_cat_dist(2, XY)};
    assert_int_equal(set_params(s, t[2], 1, &c_len), LOUPE_EINCOMPAT);
    /* the same name with other choices in another study is fine */
    int64_t o = mk_trial(s, st2, NULL);
    assert_int_equal(set_params(s, o, 1, &c_order), LOUPE_OK);

    /* NaN and infinite choices compare NaN-aware */
    const char *const nan_choices[] = {"NaN", "Infinity", "1.5"};
    loupe_param n1 = {"n", 0, tu_cat_dist(3, nan_choices)};
    assert_int_equal(set_params(s, t[3], 1, &n1), LOUPE_OK);
    assert_int_equal(set_params(s, t[4], 1, &n1), LOUPE_OK);
    {
        loupe__trial_rec *r = read1(s, t[4]);
        assert_string_equal(r->t.params[0].dist.choices[0], "NaN");
        assert_string_equal(r->t.params[0].dist.choices[1], "Infinity");
        loupe__trial_rec_release(r);
    }

    /* after the study is deleted, its names are forgotten */
    assert_int_equal(s->ops->delete_study(s, st), LOUPE_OK);
    int64_t st3 = mk_study(s, "compat"); /* same name, new study */
    int64_t t3 = mk_trial(s, st3, NULL);
    assert_int_equal(set_params(s, t3, 1, &fint), LOUPE_OK);
    s->ops->close(s);
}

static void test_read_trials(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t a = mk_study(s, "a"), b = mk_study(s, "b");
    int64_t ta[5], tb[2];
    for (int i = 0; i < 5; i++) {
        ta[i] = mk_trial(s, a, NULL);
        if (i < 2) tb[i] = mk_trial(s, b, NULL);
    }
    loupe__rec_vec out = {0};
    /* everything */
    assert_int_equal(s->ops->read_trials(s, a, 0, 0, NULL, &out), LOUPE_OK);
    assert_int_equal(out.len, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(out.items[i]->t.trial_id, ta[i]);
        assert_int_equal(out.items[i]->t.number, i);
    }
    /* after ta[2], plus listed ids: ta[0] (twice), ta[3] (already included),
     * tb[0] (another study's), 9999 (absent). Output ascending, appended. */
    int64_t ids[5] = {ta[3], ta[0], 9999, tb[0], ta[0]};
    assert_int_equal(s->ops->read_trials(s, a, ta[2], 5, ids, &out), LOUPE_OK);
    assert_int_equal(out.len, 5 + 3);
    assert_int_equal(out.items[5]->t.trial_id, ta[0]);
    assert_int_equal(out.items[6]->t.trial_id, ta[3]);
    assert_int_equal(out.items[7]->t.trial_id, ta[4]);
    loupe__rec_vec_clear(&out);

    /* beyond the last trial: nothing */
    assert_int_equal(s->ops->read_trials(s, b, tb[1], 0, NULL, &out), LOUPE_OK);
    assert_int_equal(out.len, 0);
    assert_int_equal(s->ops->read_trials(s, 99, 0, 0, NULL, &out), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No study with id 99");

    /* returned records are snapshots: later writes do not change them */
    assert_int_equal(s->ops->read_trials(s, b, 0, 0, NULL, &out), LOUPE_OK);
    loupe__trial_rec *single = read1(s, tb[0]);
    loupe_param p = {"x", 0.5, tu_float_dist(0, 1, 0, 0)};
    loupe_attr at = {"k", "1"};
    double v = 1.0;
    loupe__trial_update u = {tb[0], 1, &p, 1, &at, 0, NULL, 0, NULL, 1, LOUPE_COMPLETE, 1, &v, 0};
    assert_int_equal(s->ops->update_trial(s, &u, NULL), LOUPE_OK);
    assert_int_equal(out.items[0]->t.state, LOUPE_RUNNING);
    assert_int_equal(out.items[0]->t.n_params, 0);
    assert_int_equal(out.items[0]->t.n_user_attrs, 0);
    assert_int_equal(out.items[0]->t.n_values, 0);
    assert_int_equal(single->t.state, LOUPE_RUNNING);
    assert_int_equal(single->t.n_params, 0);
    /* and changing a returned record does not change the storage */
    assert_int_equal(loupe__trial_rec_put_user_attr(out.items[1], "mine", "0"), LOUPE_OK);
    loupe__trial_rec *fresh = read1(s, tb[1]);
    assert_int_equal(fresh->t.n_user_attrs, 0);
    loupe__trial_rec_release(fresh);
    fresh = read1(s, tb[0]);
    assert_int_equal(fresh->t.state, LOUPE_COMPLETE);
    assert_int_equal(fresh->t.n_params, 1);
    loupe__trial_rec_release(fresh);
    loupe__trial_rec_release(single);
    loupe__rec_vec_free(&out);
    s->ops->close(s);
}

static void test_data_version(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    uint64_t v = version(s);
    int64_t st = mk_study(s, "dv");
    assert_true(version(s) > v);
    v = version(s);
    loupe_attr a = {"k", "1"};
    assert_int_equal(s->ops->set_study_attrs(s, st, 0, 1, &a, NULL), LOUPE_OK);
    assert_true(version(s) > v);
    v = version(s);
    int64_t t = mk_trial(s, st, NULL);
    assert_true(version(s) > v);
    v = version(s);
    assert_int_equal(set_state(s, t, LOUPE_FAIL, 0, NULL, NULL), LOUPE_OK);
    assert_true(version(s) > v);
    v = version(s);
    /* reads and failed writes leave it alone */
    loupe__trial_rec *r = read1(s, t);
    loupe__trial_rec_release(r);
    int64_t id;
    assert_int_equal(s->ops->find_study(s, "dv", &id), LOUPE_OK);
    assert_int_equal(set_state(s, t, LOUPE_FAIL, 0, NULL, NULL), LOUPE_EFINISHED);
    assert_int_equal(version(s), v);
    mk_waiting(s, st);
    v = version(s);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &id), LOUPE_OK);
    assert_true(version(s) > v);
    v = version(s);
    assert_int_equal(s->ops->delete_study(s, st), LOUPE_OK);
    assert_true(version(s) > v);
    s->ops->close(s);
}

/* Many trials and waiting trials: ids, numbers and claims stay right and fast. */
static void test_many_trials(void **state) {
    (void)state;
    loupe_storage *s = open_mem();
    int64_t a = mk_study(s, "many-a"), b = mk_study(s, "many-b");
    enum { N = 20000 };
    for (int i = 0; i < N; i++) {
        int64_t num;
        if (i % 3 == 0)
            mk_waiting(s, i % 2 ? a : b);
        else
            mk_trial(s, i % 2 ? a : b, &num);
    }
    int64_t prev = -1, tid, count = 0;
    while (s->ops->claim_waiting_trial(s, a, &tid) == LOUPE_OK) {
        assert_true(tid > prev); /* oldest first */
        prev = tid;
        count++;
    }
    /* i odd and i % 3 == 0: i = 3, 9, 15, ... */
    assert_int_equal(count, (N + 3) / 6);
    loupe__trial_rec *r = NULL;
    assert_int_equal(s->ops->trial_id_by_number(s, b, N / 2 - 1, &tid), LOUPE_OK);
    r = read1(s, tid);
    assert_int_equal(r->t.number, N / 2 - 1);
    assert_int_equal(r->t.study_id, b);
    loupe__trial_rec_release(r);
    s->ops->close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open),
        cmocka_unit_test(test_studies),
        cmocka_unit_test(test_list_studies),
        cmocka_unit_test(test_study_attrs),
        cmocka_unit_test(test_trial_ids_numbers),
        cmocka_unit_test(test_create_from_template),
        cmocka_unit_test(test_claim_waiting),
        cmocka_unit_test(test_update_trial),
        cmocka_unit_test(test_update_all_or_nothing),
        cmocka_unit_test(test_compatibility),
        cmocka_unit_test(test_read_trials),
        cmocka_unit_test(test_data_version),
        cmocka_unit_test(test_many_trials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
