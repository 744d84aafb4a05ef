/*
 * test_storage_contract.c -- the storage contract through the vtable
 * (storage.h), one test body run on every backend (":memory:", a fresh SQLite
 * file, and PostgreSQL when LOUPE_TEST_PG_URL names a database, as
 * tests/interop/test_postgres_storage.sh does): every op, the error paths with their messages, all-or-nothing
 * updates, WAITING claims, id/number rules and snapshot isolation of reads.
 * What only one backend does stays in test_memory_storage.c and
 * test_sqlite_storage.c.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/trial_rec.h"
#include "storage/storage.h"
#include "storage_testutil.h"
#include "testutil.h"
#include "util/timeutil.h"

static const char *const ABC[] = {"\"a\"", "\"b\"", "\"c\""};
static const char *const CBA[] = {"\"c\"", "\"b\"", "\"a\""};
static const char *const XY[] = {"\"x\"", "\"y\""};

/* A fresh, empty storage of the backend the test runs on (its prestate). */
static loupe_storage *open_backend(void **state) {
    const tu_backend *b = *state;
    return b->open_fresh();
}

/* The backends word some messages differently (the SQL ones add the file or
 * database, and do not look the study up first for a number or a claim): on
 * memory the message must be exactly memory_msg, on SQLite and PostgreSQL it
 * must contain sql_part. */
static void expect_msg(void **state, loupe_storage *s, const char *memory_msg,
                       const char *sql_part) {
    const char *msg = loupe_storage_errmsg(s);
    if (*state == &TU_MEMORY) {
        assert_string_equal(msg, memory_msg);
    } else {
        if (!strstr(msg, sql_part)) fprintf(stderr, "message: %s\nwanted: %s\n", msg, sql_part);
        assert_non_null(strstr(msg, sql_part));
    }
}

/* The data version after a write: memory and SQLite count committed writes,
 * so it grows; PostgreSQL's is a hash of the server snapshot, so it differs. */
static void expect_version_moved(void **state, loupe_storage *s, uint64_t before) {
    const tu_backend *b = *state;
    if (b->version_counts_writes)
        assert_true(tu_data_version(s) > before);
    else
        assert_true(tu_data_version(s) != before);
}

/* The data version after reads and refused writes: unchanged where it counts
 * committed writes. PostgreSQL's moves on any ended transaction, aborted ones
 * included (postgres.c, pg_data_version), so it is not checked there. */
static void expect_version_kept(void **state, loupe_storage *s, uint64_t before) {
    const tu_backend *b = *state;
    uint64_t now = tu_data_version(s);
    if (b->version_counts_writes) assert_true(now == before);
}

/* ---------------------------------------------------------------- tests */

static void test_open(void **state) {
    loupe_storage *s = open_backend(state);
    assert_string_equal(s->ops->name, ((const tu_backend *)*state)->name);
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
    loupe_storage *s = open_backend(state);
    loupe_direction two[2] = {LOUPE_MAXIMIZE, LOUPE_MINIMIZE};
    int64_t a = -1, b = -1, c = -1;
    assert_int_equal(s->ops->create_study(s, "a", 2, two, &a), LOUPE_OK);
    b = tu_mk_study(s, "b");
    assert_true(a >= 1 && b > a);

    /* duplicate name */
    uint64_t v0 = tu_data_version(s);
    assert_int_equal(s->ops->create_study(s, "a", 2, two, &c), LOUPE_EEXISTS);
    assert_string_equal(loupe_storage_errmsg(s), "A study with name 'a' already exists");
    expect_version_kept(state, s, v0);

    /* bad arguments */
    loupe_direction bad = (loupe_direction)7;
    assert_int_equal(s->ops->create_study(s, NULL, 1, two, &c), LOUPE_EINVAL);
    assert_int_equal(s->ops->create_study(s, "z", 0, two, &c), LOUPE_EINVAL);
    assert_int_equal(s->ops->create_study(s, "z", 1, &bad, &c), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "unknown value 7"));
    expect_version_kept(state, s, v0);

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
    expect_msg(state, s, "No study with id 99", "No study with study_id 99 in ");

    /* delete: the study goes, others stay, ids are never reused */
    c = tu_mk_study(s, "c");
    assert_int_equal(s->ops->delete_study(s, b), LOUPE_OK);
    assert_int_equal(s->ops->find_study(s, "b", &id), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->get_study(s, b, &info), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->delete_study(s, b), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->delete_study(s, 1234), LOUPE_ENOTFOUND);
    expect_msg(state, s, "No study with id 1234", "No study with study_id 1234 in ");
    assert_int_equal(s->ops->find_study(s, "a", &id), LOUPE_OK);
    assert_int_equal(id, a);
    assert_int_equal(s->ops->find_study(s, "c", &id), LOUPE_OK);
    assert_int_equal(id, c);
    int64_t b2 = tu_mk_study(s, "b"); /* the name is free again */
    assert_true(b2 > c);

    s->ops->close(s);
}

static void test_list_studies(void **state) {
    loupe_storage *s = open_backend(state);
    int64_t a = tu_mk_study(s, "first");
    int64_t b = tu_mk_study(s, "second");
    int64_t c = tu_mk_study(s, "third");
    loupe_attr ua = {"k", "\"v\""};
    assert_int_equal(s->ops->set_study_attrs(s, b, 0, 1, &ua, NULL), LOUPE_OK);
    loupe_attr sa = {"sys", "[1, 2]"};
    assert_int_equal(s->ops->set_study_attrs(s, b, 1, 1, &sa, NULL), LOUPE_OK);
    int64_t before = loupe__now_us();
    tu_mk_trial(s, b, NULL);
    int64_t after = loupe__now_us();
    tu_mk_trial(s, b, NULL);
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
    loupe_storage *s = open_backend(state);
    int64_t st = tu_mk_study(s, "s");
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
    uint64_t v0 = tu_data_version(s);
    loupe_attr bad[2] = {{"ok", "1"}, {"broken", NULL}};
    assert_int_equal(s->ops->set_study_attrs(s, st, 0, 2, bad, NULL), LOUPE_EINVAL);
    expect_version_kept(state, s, v0);
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
    expect_msg(state, s, "No study with id 77", "No study with study_id 77 in ");
    assert_int_equal(s->ops->set_study_attrs(s, 77, 1, 1, &over, NULL), LOUPE_ENOTFOUND);
    s->ops->close(s);
}

static void test_trial_ids_numbers(void **state) {
    loupe_storage *s = open_backend(state);
    int64_t a = tu_mk_study(s, "a"), b = tu_mk_study(s, "b");
    int64_t ids[6], nums[6];
    int64_t before = loupe__now_us();
    for (int i = 0; i < 6; i++) ids[i] = tu_mk_trial(s, i % 2 ? b : a, &nums[i]);
    int64_t after = loupe__now_us();
    for (int i = 0; i < 6; i++) {
        if (i) assert_true(ids[i] > ids[i - 1]); /* global, increasing */
        assert_int_equal(nums[i], i / 2);       /* dense per study */
        loupe__trial_rec *r = tu_read_trial(s, ids[i]);
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
    expect_msg(state, s, "No study with id 99", "No trial with number 0 in study 99");
    assert_int_equal(s->ops->create_trial(s, 99, NULL, &tid, NULL), LOUPE_ENOTFOUND);
    expect_msg(state, s, "No study with id 99", "No study with study_id 99 in ");
    loupe__trial_rec *r = NULL;
    assert_int_equal(s->ops->read_trial(s, 4242, &r), LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No trial with id 4242");
    assert_null(r);

    /* deleting a study removes its trials; the other study's trials are intact */
    assert_int_equal(s->ops->delete_study(s, a), LOUPE_OK);
    for (int i = 0; i < 6; i++) {
        if (i % 2 == 0) {
            assert_int_equal(s->ops->read_trial(s, ids[i], &r), LOUPE_ENOTFOUND);
            assert_int_equal(tu_set_state(s, ids[i], LOUPE_FAIL, 0, NULL, NULL), LOUPE_ENOTFOUND);
        } else {
            r = tu_read_trial(s, ids[i]);
            assert_int_equal(r->t.study_id, b);
            loupe__trial_rec_release(r);
        }
    }
    /* new trials never reuse ids */
    int64_t n2;
    int64_t id7 = tu_mk_trial(s, b, &n2);
    assert_true(id7 > ids[5]);
    assert_int_equal(n2, 3);
    s->ops->close(s);
}

static void test_create_from_template(void **state) {
    loupe_storage *s = open_backend(state);
    int64_t st = tu_mk_study(s, "t");
    tu_mk_trial(s, st, NULL);

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
    loupe__trial_rec *r = tu_read_trial(s, id);
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
    int64_t t2 = tu_mk_trial(s, st, NULL);
    loupe_param p = {"c", 0, tu_cat_dist(3, CBA)};
    assert_int_equal(tu_set_params(s, t2, 1, &p), LOUPE_EINCOMPAT);

    /* a template whose param is incompatible creates nothing */
    uint64_t v0 = tu_data_version(s);
    loupe__trial_rec *bad = loupe__trial_rec_new();
    bad->t.state = LOUPE_WAITING;
    loupe_distribution idist = tu_int_dist(0, 10, 1, 0);
    assert_int_equal(loupe__trial_rec_add_param(bad, "x", 3, &idist), LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, st, &bad->t, &id, &num), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_storage_errmsg(s), "'x'"));
    expect_version_kept(state, s, v0);
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
    assert_non_null(strstr(loupe_storage_errmsg(s),
                           *state == &TU_MEMORY ? "unknown state 9" : "Unknown trial state 9"));
    loupe__trial_rec_release(badstate);
    expect_version_kept(state, s, v0);
    /* "y" was never stored, so an int "y" is fine now */
    loupe_param py = {"y", 4, idist};
    assert_int_equal(tu_set_params(s, t2, 1, &py), LOUPE_OK);

    loupe__trial_rec_release(dup);
    loupe__trial_rec_release(bad);
    loupe__trial_rec_release(tmpl);
    s->ops->close(s);
}

static void test_claim_waiting(void **state) {
    loupe_storage *s = open_backend(state);
    int64_t st = tu_mk_study(s, "w"), other = tu_mk_study(s, "other");
    int64_t tid;
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->claim_waiting_trial(s, 99, &tid), LOUPE_ENOTFOUND);
    expect_msg(state, s, "No study with id 99", "No WAITING trial in study 99");

    int64_t r0 = tu_mk_trial(s, st, NULL);
    int64_t w1 = tu_mk_waiting(s, st);
    int64_t w2 = tu_mk_waiting(s, st);
    int64_t ow = tu_mk_waiting(s, other);
    loupe__trial_rec *r = tu_read_trial(s, w1);
    assert_int_equal(r->t.state, LOUPE_WAITING);
    assert_int_equal(r->t.datetime_start_us, -1);
    loupe__trial_rec_release(r);

    int64_t before = loupe__now_us();
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_OK);
    int64_t after = loupe__now_us();
    assert_int_equal(tid, w1);
    r = tu_read_trial(s, w1);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_true(r->t.datetime_start_us >= before && r->t.datetime_start_us <= after);
    loupe__trial_rec_release(r);

    /* a RUNNING trial put back to WAITING is the oldest waiting one again */
    int changed = -1;
    assert_int_equal(tu_set_state(s, r0, LOUPE_WAITING, 0, NULL, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_OK);
    assert_int_equal(tid, r0);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_OK);
    assert_int_equal(tid, w2);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);
    assert_non_null(strstr(loupe_storage_errmsg(s), "WAITING"));

    /* a WAITING trial that is failed is no longer claimable */
    int64_t w3 = tu_mk_waiting(s, st);
    assert_int_equal(tu_set_state(s, w3, LOUPE_FAIL, 0, NULL, NULL), LOUPE_OK);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);

    /* the other study's waiting trial was untouched all along */
    r = tu_read_trial(s, ow);
    assert_int_equal(r->t.state, LOUPE_WAITING);
    loupe__trial_rec_release(r);
    assert_int_equal(s->ops->claim_waiting_trial(s, other, &tid), LOUPE_OK);
    assert_int_equal(tid, ow);
    s->ops->close(s);
}

static void test_update_trial(void **state) {
    loupe_storage *s = open_backend(state);
    int64_t st = tu_mk_study(s, "u");
    int64_t t0 = tu_mk_trial(s, st, NULL);
    loupe__trial_rec *r = tu_read_trial(s, t0);
    int64_t start0 = r->t.datetime_start_us;
    loupe__trial_rec_release(r);

    loupe_param params[2] = {{"x", 0.5, tu_float_dist(0, 1, 0, 0)}, {"c", 1, tu_cat_dist(3, ABC)}};
    loupe_attr ua[2] = {{"a", "1"}, {"b", "\"two\""}};
    loupe_attr sa[1] = {{"s", "null"}};
    loupe_intermediate iv[3] = {{5, 0.5}, {1, INFINITY}, {3, NAN}};
    loupe__trial_update u = {.trial_id = t0, .n_params = 2, .params = params, .n_user_attrs = 2,
        .user_attrs = ua, .n_system_attrs = 1, .system_attrs = sa, .n_intermediate = 3,
        .intermediate = iv};
    int changed = -1;
    assert_int_equal(s->ops->update_trial(s, &u, &changed), LOUPE_OK);
    assert_int_equal(changed, 0);

    /* second batch: overwrite attr "a" in place, overwrite step 3 */
    loupe_attr ua2[2] = {{"c", "3"}, {"a", "[1]"}};
    loupe_intermediate iv2 = {3, -1.5};
    loupe__trial_update u2 = {.trial_id = t0, .n_user_attrs = 2, .user_attrs = ua2,
        .n_intermediate = 1, .intermediate = &iv2};
    assert_int_equal(s->ops->update_trial(s, &u2, NULL), LOUPE_OK);

    r = tu_read_trial(s, t0);
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
    assert_int_equal(tu_set_state(s, t0, LOUPE_RUNNING, 1, &v1, &changed), LOUPE_OK);
    assert_int_equal(changed, 0);
    r = tu_read_trial(s, t0);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_int_equal(r->t.datetime_start_us, start0);
    assert_int_equal(r->t.datetime_complete_us, -1);
    assert_int_equal(r->t.n_values, 1);
    assert_true(r->t.values[0] == 7.0);
    loupe__trial_rec_release(r);

    /* a param name already on the trial, values without a state, bad state */
    uint64_t v0 = tu_data_version(s);
    loupe_param again = {"x", 0.7, tu_float_dist(0, 1, 0, 0)};
    assert_int_equal(tu_set_params(s, t0, 1, &again), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "already has a param named 'x'"));
    loupe__trial_update u3 = {.trial_id = t0, .n_values = 1, .values = &v1};
    assert_int_equal(s->ops->update_trial(s, &u3, NULL), LOUPE_EINVAL);
    assert_int_equal(tu_set_state(s, t0, (loupe_trial_state)17, 0, NULL, NULL), LOUPE_EINVAL);
    assert_int_equal(s->ops->update_trial(s, &(loupe__trial_update){.trial_id = 999}, NULL),
                     LOUPE_ENOTFOUND);
    assert_string_equal(loupe_storage_errmsg(s), "No trial with id 999");
    expect_version_kept(state, s, v0);

    /* COMPLETE with two values (the second objective index) */
    double vals[2] = {0.25, -INFINITY};
    int64_t before = loupe__now_us();
    assert_int_equal(tu_set_state(s, t0, LOUPE_COMPLETE, 2, vals, &changed), LOUPE_OK);
    int64_t after = loupe__now_us();
    assert_int_equal(changed, 1);
    r = tu_read_trial(s, t0);
    assert_int_equal(r->t.state, LOUPE_COMPLETE);
    assert_int_equal(r->t.datetime_start_us, start0);
    assert_true(r->t.datetime_complete_us >= before && r->t.datetime_complete_us <= after);
    assert_int_equal(r->t.n_values, 2);
    assert_true(r->t.values[0] == 0.25 && isinf(r->t.values[1]) && r->t.values[1] < 0);
    loupe__trial_rec_release(r);

    /* a finished trial refuses every update, before any other check */
    v0 = tu_data_version(s);
    const loupe_trial_state all[5] = {LOUPE_RUNNING, LOUPE_COMPLETE, LOUPE_PRUNED, LOUPE_FAIL,
                                      LOUPE_WAITING};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tu_set_state(s, t0, all[i], 0, NULL, &changed), LOUPE_EFINISHED);
        assert_int_equal(changed, 0);
        assert_string_equal(loupe_storage_errmsg(s), "Trial#0 has already finished and can not be updated.");
    }
    loupe_param incompatible = {"x", 1, tu_int_dist(0, 3, 1, 0)};
    assert_int_equal(tu_set_params(s, t0, 1, &incompatible), LOUPE_EFINISHED);
    assert_int_equal(s->ops->update_trial(s, &u2, NULL), LOUPE_EFINISHED);
    expect_version_kept(state, s, v0);

    /* PRUNED and FAIL from RUNNING; WAITING -> RUNNING sets a new start */
    int64_t t1 = tu_mk_trial(s, st, NULL);
    assert_int_equal(tu_set_state(s, t1, LOUPE_PRUNED, 0, NULL, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    r = tu_read_trial(s, t1);
    assert_int_equal(r->t.state, LOUPE_PRUNED);
    assert_true(r->t.datetime_complete_us >= 0);
    assert_int_equal(r->t.n_values, 0);
    loupe__trial_rec_release(r);
    int64_t t2 = tu_mk_trial(s, st, NULL);
    assert_int_equal(tu_set_state(s, t2, LOUPE_FAIL, 0, NULL, &changed), LOUPE_OK);
    int64_t w = tu_mk_waiting(s, st);
    /* updates of a WAITING trial are allowed */
    loupe_attr wa = {"note", "\"hi\""};
    loupe__trial_update u4 = {.trial_id = w, .n_user_attrs = 1, .user_attrs = &wa};
    assert_int_equal(s->ops->update_trial(s, &u4, NULL), LOUPE_OK);
    before = loupe__now_us();
    assert_int_equal(tu_set_state(s, w, LOUPE_RUNNING, 0, NULL, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    r = tu_read_trial(s, w);
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
    loupe_storage *s = open_backend(state);
    int64_t st = tu_mk_study(s, "aon");
    int64_t t0 = tu_mk_trial(s, st, NULL), t1 = tu_mk_trial(s, st, NULL);
    loupe_param p0 = {"c", 0, tu_cat_dist(3, ABC)};
    assert_int_equal(tu_set_params(s, t0, 1, &p0), LOUPE_OK);

    /* attrs, intermediate values, a good param, a state change and one bad param */
    uint64_t v0 = tu_data_version(s);
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
    expect_version_kept(state, s, v0);
    loupe__trial_rec *r = tu_read_trial(s, t1);
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
    assert_int_equal(tu_set_params(s, t1, 1, &pint), LOUPE_OK);

    /* the same name twice in one batch, a NULL attr key */
    int64_t t2 = tu_mk_trial(s, st, NULL);
    v0 = tu_data_version(s);
    loupe_param twice[2] = {{"z", 0.1, tu_float_dist(0, 1, 0, 0)}, {"z", 0.2, tu_float_dist(0, 1, 0, 0)}};
    assert_int_equal(tu_set_params(s, t2, 2, twice), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "'z' is given twice"));
    loupe_attr nokey = {NULL, "1"};
    loupe__trial_update u5 = {.trial_id = t2, .n_params = 1, .params = twice, .n_system_attrs = 1,
                              .system_attrs = &nokey};
    assert_int_equal(s->ops->update_trial(s, &u5, NULL), LOUPE_EINVAL);
    expect_version_kept(state, s, v0);
    r = tu_read_trial(s, t2);
    assert_int_equal(r->t.n_params, 0);
    assert_int_equal(r->t.n_system_attrs, 0);
    loupe__trial_rec_release(r);
    s->ops->close(s);
}

static void test_compatibility(void **state) {
    loupe_storage *s = open_backend(state);
    int64_t st = tu_mk_study(s, "compat"), st2 = tu_mk_study(s, "compat2");
    int64_t t[6];
    for (int i = 0; i < 6; i++) t[i] = tu_mk_trial(s, st, NULL);

    loupe_param f = {"f", 0.5, tu_float_dist(0, 1, 0, 0)};
    assert_int_equal(tu_set_params(s, t[0], 1, &f), LOUPE_OK);
    /* dynamic ranges are fine, a step too (same kind, same log) */
    loupe_param f2 = {"f", 3, tu_float_dist(0, 10, 0.5, 0)};
    assert_int_equal(tu_set_params(s, t[1], 1, &f2), LOUPE_OK);
    /* another kind or another log is not */
    loupe_param flog = {"f", 0.5, tu_float_dist(0.1, 1, 0, 1)};
    assert_int_equal(tu_set_params(s, t[2], 1, &flog), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_storage_errmsg(s), "log"));
    loupe_param fint = {"f", 1, tu_int_dist(0, 1, 1, 0)};
    assert_int_equal(tu_set_params(s, t[2], 1, &fint), LOUPE_EINCOMPAT);
    assert_non_null(strstr(loupe_storage_errmsg(s), "kind"));

    /* categorical: same choices fine; other order, other set, other length not */
    loupe_param c = {"c", 2, tu_cat_dist(3, ABC)};
    assert_int_equal(tu_set_params(s, t[0], 1, &c), LOUPE_OK);
    loupe_param c_same = {"c", 0, tu_cat_dist(3, ABC)};
    assert_int_equal(tu_set_params(s, t[1], 1, &c_same), LOUPE_OK);
    loupe_param c_order = {"c", 0, tu_cat_dist(3, CBA)};
    assert_int_equal(tu_set_params(s, t[2], 1, &c_order), LOUPE_EINCOMPAT);
    loupe_param c_len = {"c", 0, tu_cat_dist(2, XY)};
    assert_int_equal(tu_set_params(s, t[2], 1, &c_len), LOUPE_EINCOMPAT);
    /* the same name with other choices in another study is fine */
    int64_t o = tu_mk_trial(s, st2, NULL);
    assert_int_equal(tu_set_params(s, o, 1, &c_order), LOUPE_OK);

    /* NaN and infinite choices compare NaN-aware */
    const char *const nan_choices[] = {"NaN", "Infinity", "1.5"};
    loupe_param n1 = {"n", 0, tu_cat_dist(3, nan_choices)};
    assert_int_equal(tu_set_params(s, t[3], 1, &n1), LOUPE_OK);
    assert_int_equal(tu_set_params(s, t[4], 1, &n1), LOUPE_OK);
    {
        loupe__trial_rec *r = tu_read_trial(s, t[4]);
        assert_string_equal(r->t.params[0].dist.choices[0], "NaN");
        assert_string_equal(r->t.params[0].dist.choices[1], "Infinity");
        loupe__trial_rec_release(r);
    }

    /* after the study is deleted, its names are forgotten */
    assert_int_equal(s->ops->delete_study(s, st), LOUPE_OK);
    int64_t st3 = tu_mk_study(s, "compat"); /* same name, new study */
    int64_t t3 = tu_mk_trial(s, st3, NULL);
    assert_int_equal(tu_set_params(s, t3, 1, &fint), LOUPE_OK);
    s->ops->close(s);
}

static void test_read_trials(void **state) {
    loupe_storage *s = open_backend(state);
    int64_t a = tu_mk_study(s, "a"), b = tu_mk_study(s, "b");
    int64_t ta[5], tb[2];
    for (int i = 0; i < 5; i++) {
        ta[i] = tu_mk_trial(s, a, NULL);
        if (i < 2) tb[i] = tu_mk_trial(s, b, NULL);
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
    expect_msg(state, s, "No study with id 99", "No study with study_id 99 in ");

    /* returned records are snapshots: later writes do not change them */
    assert_int_equal(s->ops->read_trials(s, b, 0, 0, NULL, &out), LOUPE_OK);
    loupe__trial_rec *single = tu_read_trial(s, tb[0]);
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
    loupe__trial_rec *fresh = tu_read_trial(s, tb[1]);
    assert_int_equal(fresh->t.n_user_attrs, 0);
    loupe__trial_rec_release(fresh);
    fresh = tu_read_trial(s, tb[0]);
    assert_int_equal(fresh->t.state, LOUPE_COMPLETE);
    assert_int_equal(fresh->t.n_params, 1);
    loupe__trial_rec_release(fresh);
    loupe__trial_rec_release(single);
    loupe__rec_vec_free(&out);
    s->ops->close(s);
}

static void test_data_version(void **state) {
    loupe_storage *s = open_backend(state);
    uint64_t v = tu_data_version(s);
    int64_t st = tu_mk_study(s, "dv");
    expect_version_moved(state, s, v);
    v = tu_data_version(s);
    loupe_attr a = {"k", "1"};
    assert_int_equal(s->ops->set_study_attrs(s, st, 0, 1, &a, NULL), LOUPE_OK);
    expect_version_moved(state, s, v);
    v = tu_data_version(s);
    int64_t t = tu_mk_trial(s, st, NULL);
    expect_version_moved(state, s, v);
    v = tu_data_version(s);
    assert_int_equal(tu_set_state(s, t, LOUPE_FAIL, 0, NULL, NULL), LOUPE_OK);
    expect_version_moved(state, s, v);
    v = tu_data_version(s);
    /* reads and failed writes leave it alone */
    loupe__trial_rec *r = tu_read_trial(s, t);
    loupe__trial_rec_release(r);
    int64_t id;
    assert_int_equal(s->ops->find_study(s, "dv", &id), LOUPE_OK);
    assert_int_equal(tu_set_state(s, t, LOUPE_FAIL, 0, NULL, NULL), LOUPE_EFINISHED);
    expect_version_kept(state, s, v);
    tu_mk_waiting(s, st);
    v = tu_data_version(s);
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &id), LOUPE_OK);
    expect_version_moved(state, s, v);
    v = tu_data_version(s);
    assert_int_equal(s->ops->delete_study(s, st), LOUPE_OK);
    expect_version_moved(state, s, v);
    s->ops->close(s);
}

/* Each test once per backend, named "<backend>: <test>". PostgreSQL needs a
 * server: tests/interop/test_postgres_storage.sh starts one and runs this
 * program with LOUPE_TEST_PG_URL set, and then only the PostgreSQL group runs
 * (the other two run under ctest). */
#define CONTRACT_TESTS(X)                                                                          \
    X(test_open), X(test_studies), X(test_list_studies), X(test_study_attrs),                      \
        X(test_trial_ids_numbers), X(test_create_from_template), X(test_claim_waiting),           \
        X(test_update_trial), X(test_update_all_or_nothing), X(test_compatibility),               \
        X(test_read_trials), X(test_data_version)
#define ON_LOCAL_BACKENDS(f)                                                                       \
    {"memory: " #f, f, NULL, NULL, (void *)&TU_MEMORY}, {"sqlite: " #f, f, NULL, NULL, (void *)&TU_SQLITE}
#define ON_POSTGRES(f) {"postgresql: " #f, f, NULL, NULL, (void *)&TU_POSTGRES}

int main(void) {
    if (getenv("LOUPE_TEST_PG_URL")) {
        const struct CMUnitTest pg_tests[] = {CONTRACT_TESTS(ON_POSTGRES)};
        return cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {CONTRACT_TESTS(ON_LOCAL_BACKENDS)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

