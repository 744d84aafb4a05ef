/* storage_testutil.c -- the shared vtable-level storage helpers of
 * storage_testutil.h: backend openers, study/trial makers, reads and
 * one-purpose updates, each failing the test when the storage refuses. */
#include "storage_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "storage/postgres.h"
#include "testutil.h"

static loupe_storage *open_memory(void) {
    loupe_storage *s = NULL;
    assert_int_equal(loupe__memory_storage_open(&s), LOUPE_OK);
    assert_non_null(s);
    return s;
}

loupe_storage *tu_sqlite_open(const char *path, unsigned flags) {
    loupe_storage *s = NULL;
    int rc = loupe__sqlite_storage_open(path, flags, &s);
    if (rc != LOUPE_OK) fprintf(stderr, "open %s: %s\n", path, s ? s->errmsg : "(no handle)");
    assert_int_equal(rc, LOUPE_OK);
    assert_non_null(s);
    return s;
}

/* Each open gets its own file, so tests never see each other's rows. */
static loupe_storage *open_sqlite(void) {
    static unsigned n;
    char name[64], path[768];
    snprintf(name, sizeof name, "contract-%u.db", n++);
    tu_fresh_path(path, sizeof path, name);
    return tu_sqlite_open(path, 0);
}

/* The database of $LOUPE_TEST_PG_URL, emptied of studies first so each test
 * starts from nothing (the database itself is created by the test script). */
static loupe_storage *open_postgres(void) {
    const char *url = getenv("LOUPE_TEST_PG_URL");
    assert_non_null(url);
    loupe_storage *s = NULL;
    int rc = loupe__pg_storage_open(url, 0, &s);
    if (rc != LOUPE_OK) fprintf(stderr, "open %s: %s\n", url, s ? s->errmsg : "(no handle)");
    assert_int_equal(rc, LOUPE_OK);
    loupe_study_list *list = NULL;
    assert_int_equal(s->ops->list_studies(s, &list), LOUPE_OK);
    for (size_t i = 0; i < loupe_study_list_count(list); i++)
        assert_int_equal(s->ops->delete_study(s, loupe_study_list_at(list, i)->study_id), LOUPE_OK);
    loupe_study_list_free(list);
    return s;
}

const tu_backend TU_MEMORY = {"memory", open_memory, 1};
const tu_backend TU_SQLITE = {"sqlite", open_sqlite, 1};
const tu_backend TU_POSTGRES = {"postgresql", open_postgres, 0};

int64_t tu_mk_study(loupe_storage *s, const char *name) {
    loupe_direction d = LOUPE_MINIMIZE;
    int64_t id = -1;
    int rc = s->ops->create_study(s, name, 1, &d, &id);
    if (rc) fprintf(stderr, "create_study: %s\n", s->errmsg);
    assert_int_equal(rc, LOUPE_OK);
    return id;
}

int64_t tu_mk_trial(loupe_storage *s, int64_t study, int64_t *number) {
    int64_t id = -1;
    int rc = s->ops->create_trial(s, study, NULL, &id, number);
    if (rc) fprintf(stderr, "create_trial: %s\n", s->errmsg);
    assert_int_equal(rc, LOUPE_OK);
    return id;
}

int64_t tu_mk_waiting(loupe_storage *s, int64_t study) {
    loupe_frozen_trial w = {0};
    w.state = LOUPE_WAITING;
    w.datetime_start_us = -1;
    w.datetime_complete_us = -1;
    int64_t id = -1;
    int rc = s->ops->create_trial(s, study, &w, &id, NULL);
    if (rc) fprintf(stderr, "create_trial (WAITING): %s\n", s->errmsg);
    assert_int_equal(rc, LOUPE_OK);
    return id;
}

loupe__trial_rec *tu_read_trial(loupe_storage *s, int64_t trial_id) {
    loupe__trial_rec *r = NULL;
    int rc = s->ops->read_trial(s, trial_id, &r);
    if (rc) fprintf(stderr, "read_trial: %s\n", s->errmsg);
    assert_int_equal(rc, LOUPE_OK);
    assert_non_null(r);
    return r;
}

uint64_t tu_data_version(loupe_storage *s) {
    uint64_t v = 0;
    assert_int_equal(s->ops->data_version(s, &v), LOUPE_OK);
    return v;
}

int tu_set_params(loupe_storage *s, int64_t trial_id, size_t n, const loupe_param *p) {
    loupe__trial_update u = {0};
    u.trial_id = trial_id;
    u.n_params = n;
    u.params = p;
    return s->ops->update_trial(s, &u, NULL);
}

int tu_set_state(loupe_storage *s, int64_t trial_id, loupe_trial_state st, size_t n,
                 const double *values, int *changed) {
    loupe__trial_update u = {0};
    u.trial_id = trial_id;
    u.set_state = 1;
    u.state = st;
    u.n_values = n;
    u.values = values;
    return s->ops->update_trial(s, &u, changed);
}
