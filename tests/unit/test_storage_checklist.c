/*
 * test_storage_checklist.c -- Optuna's storage behaviour checklist
 * (optuna-storage.md §14: studies, trial creation, state and values, params,
 * intermediate values and attributes, reading; the RDB items that apply to
 * SQLite; the multi-handle "cached storage" items) walked through the PUBLIC
 * API only (loupe.h). Every generic test runs twice: on ":memory:" and on a
 * fresh SQLite file. SQLite files are also closed and reopened to check that
 * what was written is what is read back. sqlite3 is used directly only to
 * inspect files (schema facts, fixture copies).
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
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "loupe.h"
#include "testutil.h"

/* ---------------------------------------------------------------- fixture */

typedef struct ctx {
    int sqlite;
    char url[1100];
    char path[1024];
    loupe_storage *s;
} ctx;

static int file_counter;

static int setup_backend(void **state, int sqlite) {
    ctx *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->sqlite = sqlite;
    if (sqlite) {
        char name[64];
        snprintf(name, sizeof name, "checklist-%d.db", ++file_counter);
        tu_sqlite_url(c->url, sizeof c->url, name);
        tu_path(c->path, sizeof c->path, name);
    } else {
        strcpy(c->url, ":memory:");
    }
    int rc = loupe_storage_open(c->url, LOUPE_OPEN_DEFAULT, &c->s);
    if (rc != LOUPE_OK) {
        print_error("cannot open %s: %d %s\n", c->url, rc, loupe_storage_errmsg(c->s));
        loupe_storage_close(c->s);
        free(c);
        return -1;
    }
    *state = c;
    return 0;
}

static int setup_memory(void **state) { return setup_backend(state, 0); }
static int setup_sqlite(void **state) { return setup_backend(state, 1); }

/* PostgreSQL (only when LOUPE_TEST_PG_URL names a database, as
 * tests/interop/test_postgres_storage.sh does): the URL's database, emptied of
 * studies first. sqlite = 2 makes reopen() open a second handle on it. */
static int setup_pg(void **state) {
    ctx *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->sqlite = 2;
    snprintf(c->url, sizeof c->url, "%s", getenv("LOUPE_TEST_PG_URL"));
    int rc = loupe_storage_open(c->url, LOUPE_OPEN_DEFAULT, &c->s);
    loupe_study_list *list = NULL;
    if (!rc) rc = loupe_storage_list_studies(c->s, &list);
    for (size_t i = 0; !rc && i < loupe_study_list_count(list); i++)
        rc = loupe_storage_delete_study(c->s, loupe_study_list_at(list, i)->name);
    loupe_study_list_free(list);
    if (rc != LOUPE_OK) {
        print_error("cannot open and empty %s: %d %s\n", c->url, rc, loupe_storage_errmsg(c->s));
        loupe_storage_close(c->s);
        free(c);
        return -1;
    }
    *state = c;
    return 0;
}

static int teardown(void **state) {
    ctx *c = *state;
    if (c) {
        loupe_storage_close(c->s);
        free(c);
    }
    return 0;
}

/* Asserts that call returns LOUPE_OK, printing the storage's message if not. */
#define OK(s, call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != LOUPE_OK)                                                                       \
            print_error("%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call, rc_,             \
                        loupe_storage_errmsg(s));                                                  \
        assert_int_equal(rc_, LOUPE_OK);                                                           \
    } while (0)

/* Asserts that call fails with code and leaves a real message. */
#define FAILS(s, code, call)                                                                       \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != (code))                                                                         \
            print_error("%s:%d: %s returned %d, expected %d: %s\n", __FILE__, __LINE__, #call,     \
                        rc_, (int)(code), loupe_storage_errmsg(s));                                \
        assert_int_equal(rc_, code);                                                               \
        assert_string_not_equal(loupe_storage_errmsg(s), "not an error");                          \
        assert_true(strlen(loupe_storage_errmsg(s)) > 5);                                          \
    } while (0)

static int64_t wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static loupe_study *study_new(ctx *c, const char *name, size_t n, const loupe_direction *dirs) {
    loupe_study *st = NULL;
    OK(c->s, loupe_study_create(c->s, name, n, dirs, LOUPE_CREATE_DEFAULT, &st));
    assert_non_null(st);
    loupe_sampler *smp = NULL;
    assert_int_equal(loupe_sampler_random_new(20240601, &smp), LOUPE_OK);
    loupe_study_set_sampler(st, smp);
    return st;
}

static loupe_study *study_min(ctx *c, const char *name) {
    loupe_direction d = LOUPE_MINIMIZE;
    return study_new(c, name, 1, &d);
}

static loupe_study *study_load(loupe_storage *s, const char *name) {
    loupe_study *st = NULL;
    OK(s, loupe_study_load(s, name, &st));
    assert_non_null(st);
    return st;
}

static loupe_trial *ask(ctx *c, loupe_study *st) {
    loupe_trial *t = NULL;
    OK(c->s, loupe_study_ask(st, &t));
    assert_non_null(t);
    return t;
}

static const loupe_frozen_trial *snap(loupe_storage *s, loupe_trial *t) {
    const loupe_frozen_trial *f = NULL;
    OK(s, loupe_trial_snapshot(t, &f));
    assert_non_null(f);
    return f;
}

static loupe_trial_list *get_one(loupe_storage *s, loupe_study *st, int64_t number) {
    loupe_trial_list *l = NULL;
    OK(s, loupe_study_get_trial(st, number, &l));
    assert_int_equal(loupe_trial_list_count(l), 1);
    assert_int_equal(loupe_trial_list_at(l, 0)->number, number);
    return l;
}

static loupe_trial_list *get_all(loupe_storage *s, loupe_study *st, unsigned mask) {
    loupe_trial_list *l = NULL;
    OK(s, loupe_study_get_trials(st, mask, &l));
    assert_non_null(l);
    return l;
}

static void tell1(ctx *c, loupe_trial *t, double v) {
    OK(c->s, loupe_trial_tell(t, LOUPE_COMPLETE, 1, &v, LOUPE_TELL_DEFAULT));
}

/* A second handle on the same SQLite file (NULL for memory, which is private). */
static loupe_storage *reopen(ctx *c) {
    if (!c->sqlite) return NULL;
    loupe_storage *s2 = NULL;
    int rc = loupe_storage_open(c->url, LOUPE_OPEN_DEFAULT, &s2);
    if (rc) print_error("reopen %s: %s\n", c->url, loupe_storage_errmsg(s2));
    assert_int_equal(rc, LOUPE_OK);
    return s2;
}

static int same_double(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0; /* bit-exact, so -0.0 != 0.0 */
}

static void assert_same_double(double a, double b) {
    if (!same_double(a, b)) print_error("%.17g != %.17g\n", a, b);
    assert_true(same_double(a, b));
}

static char *dist_json(const loupe_distribution *d) {
    char *j = loupe_distribution_to_json(d);
    assert_non_null(j);
    return j;
}

static void assert_dist_json(const loupe_distribution *d, const char *expected) {
    char *j = dist_json(d);
    assert_string_equal(j, expected);
    loupe_free(j);
}

static void assert_dist_equal(const loupe_distribution *a, const loupe_distribution *b) {
    char *ja = dist_json(a), *jb = dist_json(b);
    assert_string_equal(ja, jb);
    loupe_free(ja);
    loupe_free(jb);
}

static void assert_attrs_equal(size_t na, const loupe_attr *a, size_t nb, const loupe_attr *b) {
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].key, b[i].key);
        assert_string_equal(a[i].json, b[i].json);
    }
}

/* Every field of two snapshots; with_ids 0 skips trial_id and study_id (a
 * trial created from a template in another study). */
static void assert_frozen_equal_ids(const loupe_frozen_trial *a, const loupe_frozen_trial *b,
                                    int with_ids) {
    if (with_ids) {
        assert_int_equal(a->trial_id, b->trial_id);
        assert_int_equal(a->study_id, b->study_id);
    }
    assert_int_equal(a->number, b->number);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->n_values, b->n_values);
    for (size_t i = 0; i < a->n_values; i++) assert_same_double(a->values[i], b->values[i]);
    assert_int_equal(a->datetime_start_us, b->datetime_start_us);
    assert_int_equal(a->datetime_complete_us, b->datetime_complete_us);
    assert_int_equal(a->n_params, b->n_params);
    for (size_t i = 0; i < a->n_params; i++) {
        assert_string_equal(a->params[i].name, b->params[i].name);
        assert_same_double(a->params[i].internal, b->params[i].internal);
        assert_dist_equal(&a->params[i].dist, &b->params[i].dist);
    }
    assert_attrs_equal(a->n_user_attrs, a->user_attrs, b->n_user_attrs, b->user_attrs);
    assert_attrs_equal(a->n_system_attrs, a->system_attrs, b->n_system_attrs, b->system_attrs);
    assert_int_equal(a->n_intermediate, b->n_intermediate);
    for (size_t i = 0; i < a->n_intermediate; i++) {
        assert_int_equal(a->intermediate[i].step, b->intermediate[i].step);
        assert_same_double(a->intermediate[i].value, b->intermediate[i].value);
    }
}

static void assert_frozen_equal(const loupe_frozen_trial *a, const loupe_frozen_trial *b) {
    assert_frozen_equal_ids(a, b, 1);
}

/* Optuna's float list (pytest_storages) and the text Python's json.dumps writes. */
#define N_FLOATS 9
static const double FLOATS[N_FLOATS] = {0.0,  3.141592653589793, DBL_MAX,   -DBL_MAX, DBL_MIN,
                                        -DBL_MIN, INFINITY,          -INFINITY, NAN};
static const char *const FLOAT_JSON[N_FLOATS] = {
    "0.0",      "3.141592653589793",       "1.7976931348623157e+308", "-1.7976931348623157e+308",
    "2.2250738585072014e-308", "-2.2250738585072014e-308", "Infinity", "-Infinity", "NaN"};

/* JSON inputs and the text Python stores for them (json.dumps(json.loads(x))). */
#define N_NORM 12
static const char *const NORM_IN[N_NORM] = {
    "1E308", "0.10", "1.0", "1", "100000000000000000.0", "1e-5", "0.0001",
    "123456789012345678901234567890", "-0.0", "{\"a\":1,\"b\":[1.5,true,null]}",
    "\"Good \xf0\x9f\x91\x8d\"", "[1,1.0]"};
static const char *const NORM_OUT[N_NORM] = {
    "1e+308", "0.1", "1.0", "1", "1e+17", "1e-05", "0.0001", "123456789012345678901234567890",
    "-0.0", "{\"a\": 1, \"b\": [1.5, true, null]}", "\"Good \\ud83d\\udc4d\"", "[1, 1.0]"};

/* ================================================================ studies */

static int is_uuid4(const char *u) {
    if (strlen(u) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-') return 0;
        } else if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'))) {
            return 0;
        }
    }
    return u[14] == '4' && strchr("89ab", u[19]) != NULL;
}

/* create_new_study: unique ids, "no-name-<uuid4>" names, all listed. */
static void t_study_ids_and_auto_names(void **state) {
    ctx *c = *state;
    loupe_study *st[3];
    for (int i = 0; i < 3; i++) {
        st[i] = study_min(c, NULL);
        const char *name = loupe_study_name(st[i]);
        assert_non_null(name);
        assert_memory_equal(name, "no-name-", 8);
        assert_true(is_uuid4(name + 8));
    }
    assert_true(loupe_study_id(st[0]) != loupe_study_id(st[1]));
    assert_true(loupe_study_id(st[1]) != loupe_study_id(st[2]));
    assert_true(loupe_study_id(st[0]) != loupe_study_id(st[2]));
    assert_string_not_equal(loupe_study_name(st[0]), loupe_study_name(st[1]));

    loupe_study_list *list = NULL;
    OK(c->s, loupe_storage_list_studies(c->s, &list));
    assert_int_equal(loupe_study_list_count(list), 3);
    for (size_t i = 0; i < 3; i++) {
        const loupe_study_summary *sm = loupe_study_list_at(list, i);
        assert_int_equal(sm->study_id, loupe_study_id(st[i])); /* ordered by id */
        assert_string_equal(sm->name, loupe_study_name(st[i]));
        assert_int_equal(sm->n_trials, 0);
        assert_int_equal(sm->datetime_start_us, -1);
    }
    assert_null(loupe_study_list_at(list, 3));
    loupe_study_list_free(list);
    for (int i = 0; i < 3; i++) loupe_study_close(st[i]);
}

/* delete_study: removes the study and its trials; missing or twice -> not found;
 * deleting the middle one of three leaves the other two with their ids. */
static void t_study_delete(void **state) {
    ctx *c = *state;
    loupe_study *s1 = study_min(c, "one"), *s2 = study_min(c, "two"), *s3 = study_min(c, "three");
    int64_t id1 = loupe_study_id(s1), id2 = loupe_study_id(s2), id3 = loupe_study_id(s3);
    loupe_trial *t = ask(c, s2);
    OK(c->s, loupe_trial_set_user_attr(t, "k", "1"));
    tell1(c, t, 1.0);
    loupe_trial_free(t);
    loupe_study_close(s2);

    OK(c->s, loupe_storage_delete_study(c->s, "two"));
    loupe_study_list *list = NULL;
    OK(c->s, loupe_storage_list_studies(c->s, &list));
    assert_int_equal(loupe_study_list_count(list), 2);
    assert_int_equal(loupe_study_list_at(list, 0)->study_id, id1);
    assert_string_equal(loupe_study_list_at(list, 0)->name, "one");
    assert_int_equal(loupe_study_list_at(list, 1)->study_id, id3);
    assert_string_equal(loupe_study_list_at(list, 1)->name, "three");
    loupe_study_list_free(list);

    loupe_study *gone = NULL;
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_load(c->s, "two", &gone));
    assert_null(gone);
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_storage_delete_study(c->s, "two"));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_storage_delete_study(c->s, "never-existed"));

    /* the survivors still work */
    t = ask(c, s3);
    assert_int_equal(loupe_trial_number(t), 0);
    loupe_trial_free(t);

    /* a new study of the deleted name starts empty (no trial of the old one) */
    loupe_study *again = study_min(c, "two");
    (void)id2;
    int64_t counts[5];
    OK(c->s, loupe_study_count_trials(again, counts));
    for (int i = 0; i < 5; i++) assert_int_equal(counts[i], 0);
    loupe_trial_list *l = get_all(c->s, again, 0);
    assert_int_equal(loupe_trial_list_count(l), 0);
    loupe_trial_list_free(l);
    t = ask(c, again);
    assert_int_equal(loupe_trial_number(t), 0);
    const loupe_frozen_trial *f = snap(c->s, t);
    assert_int_equal(f->n_user_attrs, 0);
    loupe_trial_free(t);
    loupe_study_close(again);
    loupe_study_close(s1);
    loupe_study_close(s3);
}

/* Named creation; a duplicate name is refused; LOAD_IF_EXISTS loads it. */
static void t_study_duplicate_name(void **state) {
    ctx *c = *state;
    loupe_study *a = study_min(c, "dup");
    loupe_direction d = LOUPE_MINIMIZE, other = LOUPE_MAXIMIZE;
    loupe_study *b = NULL;
    FAILS(c->s, LOUPE_EEXISTS, loupe_study_create(c->s, "dup", 1, &d, LOUPE_CREATE_DEFAULT, &b));
    assert_null(b);
    assert_non_null(strstr(loupe_storage_errmsg(c->s), "already exists"));
    assert_non_null(strstr(loupe_storage_errmsg(c->s), "dup"));
    OK(c->s, loupe_study_create(c->s, "dup", 1, &d, LOUPE_LOAD_IF_EXISTS, &b));
    assert_int_equal(loupe_study_id(b), loupe_study_id(a));
    loupe_study_close(b);
    b = NULL;
    FAILS(c->s, LOUPE_EINVAL, loupe_study_create(c->s, "dup", 1, &other, LOUPE_LOAD_IF_EXISTS, &b));
    assert_null(b);
    loupe_study_list *list = NULL;
    OK(c->s, loupe_storage_list_studies(c->s, &list));
    assert_int_equal(loupe_study_list_count(list), 1);
    loupe_study_list_free(list);
    loupe_study_close(a);
}

/* get_study_id_from_name / get_study_name_from_id round trip; unknown -> not found. */
static void t_study_name_id_roundtrip(void **state) {
    ctx *c = *state;
    loupe_study *a = study_min(c, "alpha"), *b = study_min(c, "beta");
    loupe_study *lb = study_load(c->s, "beta");
    assert_int_equal(loupe_study_id(lb), loupe_study_id(b));
    assert_string_equal(loupe_study_name(lb), "beta");
    assert_int_equal(loupe_study_n_objectives(lb), 1);
    assert_true(loupe_study_storage(lb) == c->s);
    loupe_study *none = NULL;
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_load(c->s, "gamma", &none));
    assert_non_null(strstr(loupe_storage_errmsg(c->s), "gamma"));
    assert_null(none);
    loupe_study_close(lb);
    loupe_study_close(a);
    loupe_study_close(b);
}

/* get_study_directions: exactly the list given, for 1..3 objectives in any order. */
static void t_study_directions(void **state) {
    ctx *c = *state;
    static const loupe_direction sets[5][3] = {{LOUPE_MINIMIZE},
                                               {LOUPE_MAXIMIZE},
                                               {LOUPE_MINIMIZE, LOUPE_MAXIMIZE},
                                               {LOUPE_MAXIMIZE, LOUPE_MINIMIZE},
                                               {LOUPE_MAXIMIZE, LOUPE_MAXIMIZE, LOUPE_MINIMIZE}};
    static const size_t ns[5] = {1, 1, 2, 2, 3};
    char name[32];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "dirs-%d", i);
        loupe_study *st = study_new(c, name, ns[i], sets[i]);
        assert_int_equal(loupe_study_n_objectives(st), ns[i]);
        for (size_t k = 0; k < ns[i]; k++) assert_int_equal(loupe_study_direction(st, k), sets[i][k]);
        assert_int_equal(loupe_study_direction(st, ns[i]), LOUPE_NOT_SET);
        loupe_study_close(st);
        st = study_load(c->s, name);
        assert_int_equal(loupe_study_n_objectives(st), ns[i]);
        for (size_t k = 0; k < ns[i]; k++) assert_int_equal(loupe_study_direction(st, k), sets[i][k]);
        loupe_study_close(st);
    }
    loupe_direction bad = LOUPE_NOT_SET;
    loupe_study *st = NULL;
    FAILS(c->s, LOUPE_EINVAL, loupe_study_create(c->s, "bad", 1, &bad, 0, &st));
    FAILS(c->s, LOUPE_EINVAL, loupe_study_create(c->s, "bad", 0, &bad, 0, &st));

    loupe_storage *s2 = reopen(c);
    loupe_storage *r = s2 ? s2 : c->s;
    loupe_study_list *list = NULL;
    OK(r, loupe_storage_list_studies(r, &list));
    assert_int_equal(loupe_study_list_count(list), 5);
    for (size_t i = 0; i < 5; i++) {
        const loupe_study_summary *sm = loupe_study_list_at(list, i);
        assert_int_equal(sm->n_directions, ns[i]);
        for (size_t k = 0; k < ns[i]; k++) assert_int_equal(sm->directions[k], sets[i][k]);
    }
    loupe_study_list_free(list);
    if (s2) {
        st = study_load(s2, "dirs-4");
        for (size_t k = 0; k < 3; k++) assert_int_equal(loupe_study_direction(st, k), sets[4][k]);
        loupe_study_close(st);
        loupe_storage_close(s2);
    }
}

static void assert_study_attr(loupe_storage *s, loupe_study *st, int system, const char *key,
                              const char *expected) {
    const char *json = NULL;
    if (system)
        OK(s, loupe_study_system_attr(st, key, &json));
    else
        OK(s, loupe_study_user_attr(st, key, &json));
    assert_non_null(json);
    assert_string_equal(json, expected);
}

/* Study user/system attrs: set, get, overwrite; the kinds are separate; unknown
 * study -> not found on get and set. */
static void t_study_attrs(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "attrs");
    OK(c->s, loupe_study_set_user_attr(st, "dataset", "\"MNIST\""));
    OK(c->s, loupe_study_set_user_attr(st, "none", "null"));
    OK(c->s, loupe_study_set_user_attr(st, "nested", "{\"baseline\": 0.001, \"tags\": [\"a\", 2]}"));
    OK(c->s, loupe_study_set_system_attr(st, "dataset", "\"system-side\""));
    assert_study_attr(c->s, st, 0, "dataset", "\"MNIST\"");
    assert_study_attr(c->s, st, 0, "none", "null");
    assert_study_attr(c->s, st, 0, "nested", "{\"baseline\": 0.001, \"tags\": [\"a\", 2]}");
    assert_study_attr(c->s, st, 1, "dataset", "\"system-side\"");

    /* overwrite keeps the insertion order */
    OK(c->s, loupe_study_set_user_attr(st, "dataset", "\"CIFAR-10\""));
    const loupe_attr *attrs = NULL;
    size_t n = 0;
    OK(c->s, loupe_study_user_attrs(st, &attrs, &n));
    assert_int_equal(n, 3);
    assert_string_equal(attrs[0].key, "dataset");
    assert_string_equal(attrs[0].json, "\"CIFAR-10\"");
    assert_string_equal(attrs[1].key, "none");
    assert_string_equal(attrs[2].key, "nested");
    OK(c->s, loupe_study_system_attrs(st, &attrs, &n));
    assert_int_equal(n, 1);
    assert_string_equal(attrs[0].json, "\"system-side\"");

    const char *json = NULL;
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_user_attr(st, "missing", &json));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_system_attr(st, "none", &json));
    /* bad JSON is refused and writes nothing */
    FAILS(c->s, LOUPE_EINVAL, loupe_study_set_user_attr(st, "broken", "{bad"));
    FAILS(c->s, LOUPE_EINVAL, loupe_study_set_user_attr(st, NULL, "1"));
    OK(c->s, loupe_study_user_attrs(st, &attrs, &n));
    assert_int_equal(n, 3);

    /* another handle (and, for SQLite, another connection) reads the same */
    loupe_study *other = study_load(c->s, "attrs");
    assert_study_attr(c->s, other, 0, "dataset", "\"CIFAR-10\"");
    loupe_study_close(other);
    loupe_storage *s2 = reopen(c);
    if (s2) {
        other = study_load(s2, "attrs");
        OK(s2, loupe_study_user_attrs(other, &attrs, &n));
        assert_int_equal(n, 3);
        assert_string_equal(attrs[2].json, "{\"baseline\": 0.001, \"tags\": [\"a\", 2]}");
        assert_study_attr(s2, other, 1, "dataset", "\"system-side\"");
        loupe_study_close(other);
        loupe_storage_close(s2);
    }

    /* the study is deleted under a live handle */
    OK(c->s, loupe_storage_delete_study(c->s, "attrs"));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_set_user_attr(st, "k", "1"));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_set_system_attr(st, "k", "1"));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_user_attr(st, "dataset", &json));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_system_attr(st, "dataset", &json));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_user_attrs(st, &attrs, &n));
    loupe_study_close(st);
}

/* The float list round-trips exactly in all four attribute kinds, and JSON is
 * stored as Python's json.dumps writes it. */
static void check_float_attrs(loupe_storage *s, loupe_study *st, const loupe_frozen_trial *f) {
    char key[16];
    for (int i = 0; i < N_FLOATS; i++) {
        snprintf(key, sizeof key, "f%d", i);
        assert_study_attr(s, st, 0, key, FLOAT_JSON[i]);
        assert_study_attr(s, st, 1, key, FLOAT_JSON[i]);
        const char *u = loupe_frozen_trial_user_attr(f, key), *y = loupe_frozen_trial_system_attr(f, key);
        assert_non_null(u);
        assert_non_null(y);
        assert_string_equal(u, FLOAT_JSON[i]);
        assert_string_equal(y, FLOAT_JSON[i]);
        /* and the text means the same double */
        double v = strcmp(u, "NaN") == 0 ? NAN
                   : strcmp(u, "Infinity") == 0 ? INFINITY
                   : strcmp(u, "-Infinity") == 0 ? -INFINITY
                                                 : strtod(u, NULL);
        assert_same_double(v, FLOATS[i]);
    }
    for (int i = 0; i < N_NORM; i++) {
        snprintf(key, sizeof key, "n%d", i);
        assert_study_attr(s, st, 0, key, NORM_OUT[i]);
        const char *u = loupe_frozen_trial_user_attr(f, key);
        assert_non_null(u);
        assert_string_equal(u, NORM_OUT[i]);
    }
}

static void t_attr_float_roundtrip(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "floats");
    loupe_trial *t = ask(c, st);
    char key[16];
    for (int i = 0; i < N_FLOATS; i++) {
        snprintf(key, sizeof key, "f%d", i);
        OK(c->s, loupe_study_set_user_attr(st, key, FLOAT_JSON[i]));
        OK(c->s, loupe_study_set_system_attr(st, key, FLOAT_JSON[i]));
        OK(c->s, loupe_trial_set_user_attr(t, key, FLOAT_JSON[i]));
        OK(c->s, loupe_trial_set_system_attr(t, key, FLOAT_JSON[i]));
    }
    for (int i = 0; i < N_NORM; i++) {
        snprintf(key, sizeof key, "n%d", i);
        OK(c->s, loupe_study_set_user_attr(st, key, NORM_IN[i]));
        OK(c->s, loupe_trial_set_user_attr(t, key, NORM_IN[i]));
    }
    loupe_trial_free(t);
    loupe_trial_list *l = get_one(c->s, st, 0);
    check_float_attrs(c->s, st, loupe_trial_list_at(l, 0));
    loupe_trial_list_free(l);
    loupe_study_close(st);

    loupe_storage *s2 = reopen(c);
    if (s2) {
        st = study_load(s2, "floats");
        l = get_one(s2, st, 0);
        check_float_attrs(s2, st, loupe_trial_list_at(l, 0));
        loupe_trial_list_free(l);
        loupe_study_close(st);
        loupe_storage_close(s2);
    }
}

/* ================================================================ trials: creation */

static void t_trial_create(void **state) {
    ctx *c = *state;
    loupe_study *a = study_min(c, "A"), *b = study_min(c, "B");
    int64_t ids[6], nums[6];
    int64_t before = wall_us();
    for (int i = 0; i < 6; i++) {
        loupe_study *st = i % 2 ? b : a;
        loupe_trial *t = ask(c, st);
        int64_t after = wall_us();
        ids[i] = loupe_trial_id(t);
        nums[i] = loupe_trial_number(t);
        assert_true(loupe_trial_study(t) == st);
        const loupe_frozen_trial *f = snap(c->s, t);
        assert_int_equal(f->trial_id, ids[i]);
        assert_int_equal(f->number, nums[i]);
        assert_int_equal(f->study_id, loupe_study_id(st));
        assert_int_equal(f->state, LOUPE_RUNNING);
        assert_int_equal(f->n_params, 0);
        assert_int_equal(f->n_user_attrs, 0);
        assert_int_equal(f->n_system_attrs, 0);
        assert_int_equal(f->n_intermediate, 0);
        assert_int_equal(f->n_values, 0);
        assert_null(f->values);
        assert_true(f->datetime_start_us >= before && f->datetime_start_us <= after);
        assert_int_equal(f->datetime_complete_us, -1);
        loupe_trial_free(t);
        before = after;
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(nums[i], i / 2); /* 0..k-1 within each study */
        for (int j = 0; j < i; j++) assert_true(ids[i] != ids[j]); /* unique across studies */
    }
    /* number <-> id, per study */
    for (int i = 0; i < 6; i++) {
        loupe_trial *t = NULL;
        OK(c->s, loupe_study_trial(i % 2 ? b : a, nums[i], &t));
        assert_int_equal(loupe_trial_id(t), ids[i]);
        loupe_trial_free(t);
        loupe_trial_list *l = get_one(c->s, i % 2 ? b : a, nums[i]);
        assert_int_equal(loupe_trial_list_at(l, 0)->trial_id, ids[i]);
        loupe_trial_list_free(l);
    }
    loupe_trial *t = NULL;
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_trial(a, 3, &t));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_trial(a, -1, &t));
    loupe_trial_list *l = NULL;
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_get_trial(b, 99, &l));

    /* the study disappears under a live handle */
    OK(c->s, loupe_storage_delete_study(c->s, "B"));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_ask(b, &t));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_trial(b, 0, &t));
    loupe_study_close(b);
    /* ...and the other study is untouched */
    t = ask(c, a);
    assert_int_equal(loupe_trial_number(t), 3);
    loupe_trial_free(t);
    loupe_study_close(a);
}

/* enqueue (create_new_trial with a WAITING template) and the ask that takes it. */
static void t_enqueue(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "queue");
    int64_t n0 = -1, n1 = -1;
    OK(c->s, loupe_study_enqueue_trial(st, "{\"x\": 0.5, \"n\": 3, \"c\": \"Meguro\"}",
                                       "{\"origin\": \"human\", \"score\": 1.5}", &n0));
    OK(c->s, loupe_study_enqueue_trial(st, "{\"x\":0.25}", NULL, &n1));
    assert_int_equal(n0, 0);
    assert_int_equal(n1, 1);
    int64_t counts[5];
    OK(c->s, loupe_study_count_trials(st, counts));
    assert_int_equal(counts[LOUPE_WAITING], 2);
    assert_int_equal(counts[LOUPE_RUNNING], 0);

    loupe_trial_list *l = get_one(c->s, st, 0);
    const loupe_frozen_trial *w = loupe_trial_list_at(l, 0);
    assert_int_equal(w->state, LOUPE_WAITING);
    assert_int_equal(w->datetime_start_us, -1);
    assert_int_equal(w->datetime_complete_us, -1);
    assert_int_equal(w->n_params, 0);
    assert_int_equal(w->n_values, 0);
    assert_string_equal(loupe_frozen_trial_system_attr(w, "fixed_params"),
                        "{\"x\": 0.5, \"n\": 3, \"c\": \"Meguro\"}");
    assert_int_equal(w->n_user_attrs, 2);
    assert_string_equal(w->user_attrs[0].key, "origin");
    assert_string_equal(w->user_attrs[0].json, "\"human\"");
    assert_string_equal(w->user_attrs[1].key, "score");
    assert_string_equal(w->user_attrs[1].json, "1.5");
    loupe_trial_list_free(l);
    l = get_one(c->s, st, 1);
    assert_string_equal(loupe_frozen_trial_system_attr(loupe_trial_list_at(l, 0), "fixed_params"),
                        "{\"x\": 0.25}");
    loupe_trial_list_free(l);

    /* the oldest WAITING trial is taken first, with its fixed values */
    int64_t before = wall_us();
    loupe_trial *t = ask(c, st);
    int64_t after = wall_us();
    assert_int_equal(loupe_trial_number(t), 0);
    const loupe_frozen_trial *f = snap(c->s, t);
    assert_int_equal(f->state, LOUPE_RUNNING);
    assert_true(f->datetime_start_us >= before && f->datetime_start_us <= after);
    double x = -1, free_v = -1;
    int64_t nval = -1;
    size_t idx = 99;
    const char *city = NULL;
    static const char *const cities[] = {"Shibuya", "Ebisu", "Meguro"};
    static const char *const cities_json[] = {"\"Shibuya\"", "\"Ebisu\"", "\"Meguro\""};
    OK(c->s, loupe_trial_suggest_float(t, "x", 0.0, 1.0, 0, 0, &x));
    assert_true(x == 0.5);
    OK(c->s, loupe_trial_suggest_int(t, "n", 0, 10, 1, 0, &nval));
    assert_int_equal(nval, 3);
    OK(c->s, loupe_trial_suggest_categorical_str(t, "c", 3, cities, &city));
    assert_string_equal(city, "Meguro");
    OK(c->s, loupe_trial_suggest_categorical(t, "c", 3, cities_json, &idx));
    assert_int_equal(idx, 2);
    OK(c->s, loupe_trial_suggest_float(t, "free", 10.0, 20.0, 0, 0, &free_v));
    assert_true(free_v >= 10.0 && free_v <= 20.0);
    tell1(c, t, 1.0);
    f = snap(c->s, t);
    assert_int_equal(f->n_params, 4);
    const loupe_param *pc = loupe_frozen_trial_param(f, "c");
    assert_non_null(pc);
    assert_true(pc->internal == 2.0);
    char buf[64];
    assert_true(loupe_param_value_json(pc, buf, sizeof buf) > 0);
    assert_string_equal(buf, "\"Meguro\"");
    loupe_trial_free(t);

    t = ask(c, st);
    assert_int_equal(loupe_trial_number(t), 1);
    OK(c->s, loupe_trial_suggest_float(t, "x", 0.0, 1.0, 0, 0, &x));
    assert_true(x == 0.25);
    tell1(c, t, 2.0);
    loupe_trial_free(t);

    t = ask(c, st); /* the queue is empty: a new trial */
    assert_int_equal(loupe_trial_number(t), 2);
    assert_null(loupe_frozen_trial_system_attr(snap(c->s, t), "fixed_params"));
    loupe_trial_free(t);

    /* bad enqueues create nothing */
    FAILS(c->s, LOUPE_EINVAL, loupe_study_enqueue_trial(st, "[1, 2]", NULL, NULL));
    FAILS(c->s, LOUPE_EINVAL, loupe_study_enqueue_trial(st, "{bad", NULL, NULL));
    FAILS(c->s, LOUPE_EINVAL, loupe_study_enqueue_trial(st, "{}", "3", NULL));
    OK(c->s, loupe_study_count_trials(st, counts));
    assert_int_equal(counts[LOUPE_WAITING] + counts[LOUPE_RUNNING] + counts[LOUPE_COMPLETE], 3);
    loupe_study_close(st);
}

/* ================================================================ trials: state and values */

static void t_tell_states(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "states");
    const loupe_trial_state fin[3] = {LOUPE_COMPLETE, LOUPE_PRUNED, LOUPE_FAIL};
    int64_t starts[3];
    for (int i = 0; i < 3; i++) {
        loupe_trial *t = ask(c, st);
        starts[i] = snap(c->s, t)->datetime_start_us;
        double v = 0.5;
        int64_t before = wall_us();
        OK(c->s, loupe_trial_tell(t, fin[i], fin[i] == LOUPE_COMPLETE, &v, 0));
        int64_t after = wall_us();
        loupe_trial_free(t);
        loupe_trial_list *l = get_one(c->s, st, i);
        const loupe_frozen_trial *f = loupe_trial_list_at(l, 0);
        assert_int_equal(f->state, fin[i]);
        assert_int_equal(f->datetime_start_us, starts[i]);
        assert_true(f->datetime_complete_us >= before && f->datetime_complete_us <= after);
        if (fin[i] == LOUPE_COMPLETE) {
            assert_int_equal(f->n_values, 1);
            assert_true(f->values[0] == 0.5);
        } else {
            assert_int_equal(f->n_values, 0);
        }
        loupe_trial_list_free(l);
    }
    /* any tell of a finished trial is refused, by handle or by number */
    for (int i = 0; i < 3; i++) {
        loupe_trial_list *l0 = get_one(c->s, st, i);
        for (int k = 0; k < 3; k++) {
            double v = 9.0;
            loupe_trial *t = NULL;
            OK(c->s, loupe_study_trial(st, i, &t));
            FAILS(c->s, LOUPE_EFINISHED, loupe_trial_tell(t, fin[k], fin[k] == LOUPE_COMPLETE, &v, 0));
            OK(c->s, loupe_trial_tell(t, fin[k], fin[k] == LOUPE_COMPLETE, &v, LOUPE_TELL_SKIP_IF_FINISHED));
            loupe_trial_free(t);
            FAILS(c->s, LOUPE_EFINISHED,
                  loupe_study_tell(st, i, fin[k], fin[k] == LOUPE_COMPLETE, &v, 0));
        }
        loupe_trial_list *l1 = get_one(c->s, st, i);
        assert_frozen_equal(loupe_trial_list_at(l0, 0), loupe_trial_list_at(l1, 0));
        loupe_trial_list_free(l0);
        loupe_trial_list_free(l1);
    }
    /* RUNNING and WAITING are not states one can tell */
    loupe_trial *t = ask(c, st);
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_RUNNING, 0, NULL, 0));
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_WAITING, 0, NULL, 0));
    assert_int_equal(snap(c->s, t)->state, LOUPE_RUNNING);
    loupe_trial_free(t);
    loupe_trial_list *l = get_one(c->s, st, 3);
    assert_int_equal(loupe_trial_list_at(l, 0)->state, LOUPE_RUNNING);
    assert_int_equal(loupe_trial_list_at(l, 0)->datetime_complete_us, -1);
    loupe_trial_list_free(l);
    /* a WAITING trial cannot be told before it is asked */
    int64_t wn;
    OK(c->s, loupe_study_enqueue_trial(st, "{}", NULL, &wn));
    double v = 1.0;
    FAILS(c->s, LOUPE_ESTATE, loupe_study_tell(st, wn, LOUPE_COMPLETE, 1, &v, 0));
    l = get_one(c->s, st, wn);
    assert_int_equal(loupe_trial_list_at(l, 0)->state, LOUPE_WAITING);
    loupe_trial_list_free(l);
    loupe_study_close(st);
}

static void assert_values(loupe_storage *s, loupe_study *st, int64_t number, size_t n,
                          const double *expected) {
    loupe_trial_list *l = get_one(s, st, number);
    const loupe_frozen_trial *f = loupe_trial_list_at(l, 0);
    assert_int_equal(f->n_values, n);
    if (n == 0) assert_null(f->values);
    for (size_t i = 0; i < n; i++) assert_same_double(f->values[i], expected[i]);
    loupe_trial_list_free(l);
}

static void t_tell_validation(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "tell-rules");
    loupe_trial *t = ask(c, st);
    double two[2] = {1.0, 2.0}, nan1 = NAN, one = 1.0;
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_COMPLETE, 0, NULL, 0));
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_COMPLETE, 2, two, 0));
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_COMPLETE, 1, &nan1, 0));
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_FAIL, 1, &one, 0));
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_PRUNED, 1, &one, 0));
    loupe_trial_list *l = get_one(c->s, st, 0);
    assert_int_equal(loupe_trial_list_at(l, 0)->state, LOUPE_RUNNING);
    assert_int_equal(loupe_trial_list_at(l, 0)->n_values, 0);
    loupe_trial_list_free(l);
    double inf = INFINITY;
    OK(c->s, loupe_trial_tell(t, LOUPE_COMPLETE, 1, &inf, 0)); /* inf is a value, NaN is not */
    loupe_trial_free(t);
    assert_values(c->s, st, 0, 1, &inf);

    /* PRUNED keeps the last (largest step) intermediate value as value 0 */
    t = ask(c, st);
    OK(c->s, loupe_trial_report(t, 0.1, 0));
    OK(c->s, loupe_trial_report(t, 0.7, 3));
    OK(c->s, loupe_trial_report(t, 0.3, 1));
    OK(c->s, loupe_trial_tell(t, LOUPE_PRUNED, 0, NULL, 0));
    loupe_trial_free(t);
    double pv = 0.7;
    assert_values(c->s, st, 1, 1, &pv);
    t = ask(c, st); /* no intermediate value: no value */
    OK(c->s, loupe_trial_tell(t, LOUPE_PRUNED, 0, NULL, 0));
    loupe_trial_free(t);
    assert_values(c->s, st, 2, 0, NULL);
    t = ask(c, st); /* the last one is NaN: no value */
    OK(c->s, loupe_trial_report(t, 0.2, 0));
    OK(c->s, loupe_trial_report(t, NAN, 5));
    OK(c->s, loupe_trial_tell(t, LOUPE_PRUNED, 0, NULL, 0));
    loupe_trial_free(t);
    assert_values(c->s, st, 3, 0, NULL);

    /* a number that was never created */
    int rc = loupe_study_tell(st, 999, LOUPE_COMPLETE, 1, &one, 0);
    assert_true(rc == LOUPE_ENOTFOUND || rc == LOUPE_EINVAL);
    assert_non_null(strstr(loupe_storage_errmsg(c->s), "999"));

    /* several objectives: exactly one finite-or-infinite value each */
    loupe_direction dd[2] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    loupe_study *mo = study_new(c, "tell-rules-mo", 2, dd);
    t = ask(c, mo);
    double half[2] = {1.0, NAN};
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_COMPLETE, 1, &one, 0));
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_tell(t, LOUPE_COMPLETE, 2, half, 0));
    OK(c->s, loupe_trial_tell(t, LOUPE_COMPLETE, 2, two, 0));
    loupe_trial_free(t);
    assert_values(c->s, mo, 0, 2, two);
    loupe_study_close(mo);
    loupe_study_close(st);
}

static void t_values_roundtrip(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "values");
    for (int i = 0; i < N_FLOATS - 1; i++) { /* every finite and infinite value */
        loupe_trial *t = ask(c, st);
        tell1(c, t, FLOATS[i]);
        loupe_trial_free(t);
    }
    loupe_direction d3[3] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE, LOUPE_MINIMIZE};
    loupe_study *mo = study_new(c, "values-mo", 3, d3);
    double v3[3] = {0.5, -INFINITY, DBL_MIN};
    loupe_trial *t = ask(c, mo);
    OK(c->s, loupe_trial_tell(t, LOUPE_COMPLETE, 3, v3, 0));
    loupe_trial_free(t);
    for (int i = 0; i < N_FLOATS - 1; i++) assert_values(c->s, st, i, 1, &FLOATS[i]);
    assert_values(c->s, mo, 0, 3, v3);
    loupe_study_close(mo);
    loupe_study_close(st);

    loupe_storage *s2 = reopen(c);
    if (s2) {
        st = study_load(s2, "values");
        mo = study_load(s2, "values-mo");
        for (int i = 0; i < N_FLOATS - 1; i++) assert_values(s2, st, i, 1, &FLOATS[i]);
        assert_values(s2, mo, 0, 3, v3);
        loupe_study_close(mo);
        loupe_study_close(st);
        loupe_storage_close(s2);
    }
}

/* check_trial_is_updatable: RUNNING and WAITING accept writes; finished trials
 * refuse every write (attrs, reports, params) and nothing is stored. */
static void t_updatable(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "updatable");
    int64_t wn = -1;
    OK(c->s, loupe_study_enqueue_trial(st, "{}", NULL, &wn));
    loupe_trial *w = NULL;
    OK(c->s, loupe_study_trial(st, wn, &w));
    OK(c->s, loupe_trial_set_user_attr(w, "on-waiting", "1"));
    OK(c->s, loupe_trial_set_system_attr(w, "on-waiting-sys", "2"));
    loupe_trial_free(w);
    loupe_trial_list *l = get_one(c->s, st, wn);
    assert_string_equal(loupe_frozen_trial_user_attr(loupe_trial_list_at(l, 0), "on-waiting"), "1");
    assert_string_equal(loupe_frozen_trial_system_attr(loupe_trial_list_at(l, 0), "on-waiting-sys"), "2");
    assert_int_equal(loupe_trial_list_at(l, 0)->state, LOUPE_WAITING);
    loupe_trial_list_free(l);
    w = ask(c, st); /* takes the WAITING trial */
    tell1(c, w, 0.0);
    loupe_trial_free(w);

    const loupe_trial_state fin[3] = {LOUPE_COMPLETE, LOUPE_PRUNED, LOUPE_FAIL};
    for (int i = 0; i < 3; i++) {
        loupe_trial *t = ask(c, st);
        int64_t num = loupe_trial_number(t);
        double zero = 0.0;
        OK(c->s, loupe_trial_tell(t, fin[i], fin[i] == LOUPE_COMPLETE, &zero, 0));
        loupe_trial_list *before = get_one(c->s, st, num);
        loupe_trial *again = NULL;
        OK(c->s, loupe_study_trial(st, num, &again));
        loupe_trial *handles[2] = {t, again};
        for (int h = 0; h < 2; h++) {
            loupe_trial *x = handles[h];
            FAILS(c->s, LOUPE_EFINISHED, loupe_trial_set_user_attr(x, "late", "1"));
            FAILS(c->s, LOUPE_EFINISHED, loupe_trial_set_system_attr(x, "late", "1"));
            FAILS(c->s, LOUPE_EFINISHED, loupe_trial_report(x, 1.0, 7));
            double v;
            int rc = loupe_trial_suggest_float(x, "late", 0, 1, 0, 0, &v);
            if (rc == LOUPE_OK) rc = loupe_trial_flush(x); /* suggestions are written lazily */
            assert_int_equal(rc, LOUPE_EFINISHED);
        }
        loupe_trial_free(again);
        loupe_trial_free(t);
        loupe_trial_list *after = get_one(c->s, st, num);
        assert_frozen_equal(loupe_trial_list_at(before, 0), loupe_trial_list_at(after, 0));
        assert_int_equal(loupe_trial_list_at(after, 0)->n_params, 0);
        assert_int_equal(loupe_trial_list_at(after, 0)->n_intermediate, 0);
        loupe_trial_list_free(before);
        loupe_trial_list_free(after);
    }
    loupe_study_close(st);
}

/* ================================================================ trials: params */

static void t_params_basic(void **state) {
    ctx *c = *state;
    loupe_study *a = study_min(c, "params-a"), *b = study_min(c, "params-b");
    OK(c->s, loupe_study_enqueue_trial(a, "{\"location\": \"Meguro\"}", NULL, NULL));
    static const char *const loc[] = {"\"Shibuya\"", "\"Ebisu\"", "\"Meguro\""};
    static const char *const mix[] = {"\"a\"", "1", "2.5", "null", "true"};
    loupe_study *studies[2] = {a, b};
    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < 3; k++) {
            loupe_trial *t = ask(c, studies[s]);
            double lr, w, again;
            int64_t kk, units, y3;
            size_t li, mi;
            OK(c->s, loupe_trial_suggest_float(t, "lr", 0.001, 10.0, 0, 1, &lr));
            assert_true(lr >= 0.001 && lr <= 10.0);
            OK(c->s, loupe_trial_suggest_float(t, "lr", 0.001, 10.0, 0, 1, &again));
            assert_true(again == lr); /* a repeated suggest returns the same value */
            OK(c->s, loupe_trial_suggest_float(t, "w", -1.0, 1.0, 0.25, 0, &w));
            assert_true(w >= -1.0 && w <= 1.0 && (w + 1.0) / 0.25 == floor((w + 1.0) / 0.25));
            OK(c->s, loupe_trial_suggest_int(t, "k", 0, 10, 2, 0, &kk));
            assert_true(kk >= 0 && kk <= 10 && kk % 2 == 0);
            OK(c->s, loupe_trial_suggest_int(t, "units", 1, 1024, 1, 1, &units));
            assert_true(units >= 1 && units <= 1024);
            OK(c->s, loupe_trial_suggest_int(t, "y3", 5, 15, 3, 0, &y3));
            assert_true(y3 == 5 || y3 == 8 || y3 == 11 || y3 == 14);
            OK(c->s, loupe_trial_suggest_categorical(t, "location", 3, loc, &li));
            assert_true(li < 3);
            if (s == 0 && k == 0) assert_int_equal(li, 2); /* the enqueued "Meguro" */
            OK(c->s, loupe_trial_suggest_categorical(t, "mix", 5, mix, &mi));
            assert_true(mi < 5);
            tell1(c, t, (double)k);
            int64_t num = loupe_trial_number(t);
            loupe_trial_free(t);

            loupe_trial_list *l = get_one(c->s, studies[s], num);
            const loupe_frozen_trial *f = loupe_trial_list_at(l, 0);
            assert_int_equal(f->n_params, 7);
            const char *order[7] = {"lr", "w", "k", "units", "y3", "location", "mix"};
            for (int i = 0; i < 7; i++) assert_string_equal(f->params[i].name, order[i]);
            /* internal representations: the float, the int, the choice index */
            assert_true(f->params[0].internal == lr);
            assert_true(f->params[2].internal == (double)kk);
            assert_true(f->params[5].internal == (double)li);
            char buf[64];
            assert_true(loupe_param_value_json(&f->params[5], buf, sizeof buf) > 0);
            assert_string_equal(buf, loc[li]);
            assert_true(loupe_param_value_json(&f->params[3], buf, sizeof buf) > 0);
            char expect[32];
            snprintf(expect, sizeof expect, "%lld", (long long)units);
            assert_string_equal(buf, expect);
            assert_int_equal(loupe_param_value_json(&f->params[3], buf, 1), -1);
            /* distributions exactly as Python writes them (§2.3) */
            assert_dist_json(&f->params[0].dist, "{\"name\": \"FloatDistribution\", \"attributes\": "
                                                 "{\"step\": null, \"low\": 0.001, \"high\": 10.0, \"log\": true}}");
            assert_dist_json(&f->params[1].dist, "{\"name\": \"FloatDistribution\", \"attributes\": "
                                                 "{\"step\": 0.25, \"low\": -1.0, \"high\": 1.0, \"log\": false}}");
            assert_dist_json(&f->params[2].dist, "{\"name\": \"IntDistribution\", \"attributes\": "
                                                 "{\"log\": false, \"step\": 2, \"low\": 0, \"high\": 10}}");
            assert_dist_json(&f->params[3].dist, "{\"name\": \"IntDistribution\", \"attributes\": "
                                                 "{\"log\": true, \"step\": 1, \"low\": 1, \"high\": 1024}}");
            assert_dist_json(&f->params[4].dist, "{\"name\": \"IntDistribution\", \"attributes\": "
                                                 "{\"log\": false, \"step\": 3, \"low\": 5, \"high\": 14}}");
            assert_dist_json(&f->params[6].dist, "{\"name\": \"CategoricalDistribution\", \"attributes\": "
                                                 "{\"choices\": [\"a\", 1, 2.5, null, true]}}");
            assert_int_equal(f->params[5].dist.kind, LOUPE_DIST_CATEGORICAL);
            assert_int_equal(f->params[5].dist.n_choices, 3);
            assert_string_equal(f->params[5].dist.choices[2], "\"Meguro\"");
            assert_null(loupe_frozen_trial_param(f, "absent"));
            loupe_trial_list_free(l);
        }
    }
    loupe_study_close(a);
    loupe_study_close(b);
}

static void t_params_incompatible(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "compat");
    static const char *const abc[] = {"A", "B", "C"}, *const cba[] = {"C", "B", "A"},
                             *const ab[] = {"A", "B"};
    const char *pick;
    double x;
    int64_t xi;
    loupe_trial *t0 = ask(c, st);
    OK(c->s, loupe_trial_suggest_float(t0, "x", 0, 1, 0, 0, &x));
    OK(c->s, loupe_trial_suggest_categorical_str(t0, "city", 3, abc, &pick));
    tell1(c, t0, 0.0);

    loupe_trial *t1 = ask(c, st);
    FAILS(c->s, LOUPE_EINCOMPAT, loupe_trial_suggest_int(t1, "x", 0, 5, 1, 0, &xi));
    FAILS(c->s, LOUPE_EINCOMPAT, loupe_trial_suggest_float(t1, "x", 0.1, 1, 0, 1, &x));
    FAILS(c->s, LOUPE_EINCOMPAT, loupe_trial_suggest_categorical_str(t1, "city", 3, cba, &pick));
    FAILS(c->s, LOUPE_EINCOMPAT, loupe_trial_suggest_categorical_str(t1, "city", 2, ab, &pick));
    OK(c->s, loupe_trial_suggest_float(t1, "x", -5, 5, 0, 0, &x)); /* dynamic range is fine */
    assert_true(x >= -5 && x <= 5);
    OK(c->s, loupe_trial_suggest_float(t1, "step", 0, 1, 0.5, 0, &x));
    tell1(c, t1, 1.0);
    loupe_trial_list *l = get_one(c->s, st, 1);
    const loupe_frozen_trial *f = loupe_trial_list_at(l, 0);
    assert_int_equal(f->n_params, 2);
    assert_string_equal(f->params[0].name, "x");
    assert_true(f->params[0].dist.low == -5 && f->params[0].dist.high == 5);
    loupe_trial_list_free(l);
    /* a float with a step is the same kind as a float without one */
    loupe_trial *t2 = ask(c, st);
    OK(c->s, loupe_trial_suggest_float(t2, "step", 0, 2, 0, 0, &x));
    OK(c->s, loupe_trial_flush(t2));

    /* another study may use the same name differently */
    loupe_study *st2 = study_min(c, "compat-2");
    loupe_trial *o = ask(c, st2);
    OK(c->s, loupe_trial_suggest_categorical_str(o, "city", 3, cba, &pick));
    OK(c->s, loupe_trial_suggest_int(o, "x", 0, 5, 1, 0, &xi));
    OK(c->s, loupe_trial_flush(o));
    loupe_trial_free(o);

    /* a finished trial refuses before the distribution is even compared */
    FAILS(c->s, LOUPE_EFINISHED, loupe_trial_suggest_int(t0, "x", 0, 5, 1, 0, &xi));
    FAILS(c->s, LOUPE_EFINISHED, loupe_trial_suggest_int(t0, "fresh", 0, 5, 1, 0, &xi));
    loupe_trial_free(t0);
    loupe_trial_free(t1);
    l = get_one(c->s, st, 0);
    assert_int_equal(loupe_trial_list_at(l, 0)->n_params, 2);
    loupe_trial_list_free(l);

    /* a trial whose study is gone */
    loupe_study *g = study_min(c, "gone");
    loupe_trial *gt = ask(c, g);
    OK(c->s, loupe_storage_delete_study(c->s, "gone"));
    int rc = loupe_trial_suggest_float(gt, "x", 0, 1, 0, 0, &x);
    if (rc == LOUPE_OK) rc = loupe_trial_flush(gt);
    assert_int_equal(rc, LOUPE_ENOTFOUND);
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_trial_set_user_attr(gt, "k", "1"));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_trial_report(gt, 1.0, 0));
    double one = 1.0;
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_trial_tell(gt, LOUPE_COMPLETE, 1, &one, 0));
    loupe_trial_free(gt);
    loupe_study_close(g);
    loupe_trial_free(t2);
    loupe_study_close(st2);
    loupe_study_close(st);
}

/* Single-value float distributions over the float list, single-choice
 * categoricals, and inf/NaN choices round-trip; the distribution read back
 * equals the one written. */
static void check_single_params(loupe_storage *s, loupe_study *st, char **expect_json, int n) {
    loupe_trial_list *l = get_one(s, st, 0);
    const loupe_frozen_trial *f = loupe_trial_list_at(l, 0);
    assert_int_equal((int)f->n_params, n);
    for (int i = 0; i < n; i++) assert_dist_json(&f->params[i].dist, expect_json[i]);
    for (int i = 0; i < 6; i++) {
        const loupe_param *p = &f->params[i];
        assert_int_equal(p->dist.kind, LOUPE_DIST_FLOAT);
        assert_same_double(p->internal, FLOATS[i]);
        assert_same_double(p->dist.low, FLOATS[i]);
        assert_same_double(p->dist.high, FLOATS[i]);
    }
    loupe_trial_list_free(l);
}

static void t_params_single_values(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "singles");
    loupe_trial *t = ask(c, st);
    char name[16];
    for (int i = 0; i < 6; i++) { /* the finite floats */
        double v = -1;
        snprintf(name, sizeof name, "f%d", i);
        OK(c->s, loupe_trial_suggest_float(t, name, FLOATS[i], FLOATS[i], 0, 0, &v));
        assert_same_double(v, FLOATS[i]);
    }
    for (int i = 0; i < N_FLOATS; i++) { /* categorical (v,) incl. inf and NaN */
        size_t idx = 9;
        snprintf(name, sizeof name, "c%d", i);
        OK(c->s, loupe_trial_suggest_categorical(t, name, 1, &FLOAT_JSON[i], &idx));
        assert_int_equal(idx, 0);
    }
    static const char *const odd[] = {"NaN", "Infinity", "-Infinity", "0.0"};
    size_t idx;
    OK(c->s, loupe_trial_suggest_categorical(t, "odd", 4, odd, &idx));
    assert_true(idx < 4);
    const loupe_frozen_trial *f = snap(c->s, t);
    int n = (int)f->n_params;
    assert_int_equal(n, 6 + N_FLOATS + 1);
    char *expect[6 + N_FLOATS + 1];
    for (int i = 0; i < n; i++) expect[i] = dist_json(&f->params[i].dist);
    assert_string_equal(expect[2], "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, "
                                   "\"low\": 1.7976931348623157e+308, \"high\": 1.7976931348623157e+308, "
                                   "\"log\": false}}");
    assert_string_equal(expect[6 + 8], "{\"name\": \"CategoricalDistribution\", \"attributes\": "
                                       "{\"choices\": [NaN]}}");
    assert_string_equal(expect[n - 1], "{\"name\": \"CategoricalDistribution\", \"attributes\": "
                                       "{\"choices\": [NaN, Infinity, -Infinity, 0.0]}}");
    tell1(c, t, 0.0);
    loupe_trial_free(t);
    check_single_params(c->s, st, expect, n);

    /* the same NaN choices are compatible with what was stored */
    t = ask(c, st);
    OK(c->s, loupe_trial_suggest_categorical(t, "odd", 4, odd, &idx));
    OK(c->s, loupe_trial_suggest_categorical(t, "c8", 1, &FLOAT_JSON[8], &idx));
    tell1(c, t, 0.0);
    loupe_trial_free(t);
    loupe_study_close(st);

    loupe_storage *s2 = reopen(c);
    if (s2) {
        st = study_load(s2, "singles");
        check_single_params(s2, st, expect, n);
        loupe_study_close(st);
        loupe_storage_close(s2);
    }
    for (int i = 0; i < n; i++) loupe_free(expect[i]);
}

/* get_all_trials keeps the parameter insertion order. */
static void t_params_order(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "order");
    double v;
    loupe_trial *t = ask(c, st);
    OK(c->s, loupe_trial_suggest_float(t, "a", 0, 1, 0, 0, &v));
    OK(c->s, loupe_trial_suggest_float(t, "b", 0, 1, 0, 0, &v));
    tell1(c, t, 0);
    loupe_trial_free(t);
    t = ask(c, st);
    OK(c->s, loupe_trial_suggest_float(t, "b", 0, 1, 0, 0, &v));
    OK(c->s, loupe_trial_suggest_float(t, "a", 0, 1, 0, 0, &v));
    tell1(c, t, 0);
    loupe_trial_free(t);
    loupe_storage *s2 = reopen(c);
    loupe_storage *r = s2 ? s2 : c->s;
    loupe_study *rs = s2 ? study_load(s2, "order") : st;
    loupe_trial_list *l = get_all(r, rs, 0);
    assert_int_equal(loupe_trial_list_count(l), 2);
    assert_string_equal(loupe_trial_list_at(l, 0)->params[0].name, "a");
    assert_string_equal(loupe_trial_list_at(l, 0)->params[1].name, "b");
    assert_string_equal(loupe_trial_list_at(l, 1)->params[0].name, "b");
    assert_string_equal(loupe_trial_list_at(l, 1)->params[1].name, "a");
    loupe_trial_list_free(l);
    if (s2) {
        loupe_study_close(rs);
        loupe_storage_close(s2);
    }
    loupe_study_close(st);
}

/* create_new_trial(template) through loupe_study_copy: state, values, params,
 * distributions, attrs, intermediate values and both datetimes are copied;
 * numbers are the new study's own (0..k-1). */
static void assert_copy_equal(loupe_storage *s, loupe_study *src, loupe_study *dst) {
    loupe_trial_list *a = get_all(s, src, 0), *b = get_all(s, dst, 0);
    assert_int_equal(loupe_trial_list_count(a), loupe_trial_list_count(b));
    for (size_t i = 0; i < loupe_trial_list_count(a); i++) {
        const loupe_frozen_trial *x = loupe_trial_list_at(a, i), *y = loupe_trial_list_at(b, i);
        assert_frozen_equal_ids(x, y, 0);
        assert_int_equal(y->study_id, loupe_study_id(dst));
        assert_true(y->trial_id != x->trial_id);
    }
    loupe_trial_list_free(a);
    loupe_trial_list_free(b);
}

static void t_trial_from_template(void **state) {
    ctx *c = *state;
    loupe_study *src = study_min(c, "template-src");
    static const char *const ch[] = {"\"a\"", "NaN", "2"};
    double x;
    size_t k;
    for (int i = 0; i < 5; i++) {
        loupe_trial *t = ask(c, src);
        OK(c->s, loupe_trial_suggest_float(t, "x", -1, 1, 0, 0, &x));
        OK(c->s, loupe_trial_suggest_categorical(t, "c", 3, ch, &k));
        OK(c->s, loupe_trial_set_user_attr(t, "u", FLOAT_JSON[i]));
        OK(c->s, loupe_trial_set_system_attr(t, "s", "{\"i\": [1, 2.5]}"));
        OK(c->s, loupe_trial_report(t, FLOATS[i + 4], 0));
        OK(c->s, loupe_trial_report(t, 0.5, 7));
        if (i == 0) tell1(c, t, INFINITY);
        if (i == 1) OK(c->s, loupe_trial_tell(t, LOUPE_PRUNED, 0, NULL, 0));
        if (i == 2) OK(c->s, loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0));
        if (i == 3) tell1(c, t, -2.5);
        loupe_trial_free(t); /* trial 4 stays RUNNING */
    }
    OK(c->s, loupe_study_enqueue_trial(src, "{\"x\": 0.5}", "{\"who\": \"me\"}", NULL));
    loupe_study *dst = NULL;
    OK(c->s, loupe_study_copy(c->s, "template-src", "template-dst", &dst));
    assert_non_null(dst);
    assert_copy_equal(c->s, src, dst);
    /* the copied WAITING trial is asked like any enqueued one */
    loupe_trial *t = ask(c, dst);
    assert_int_equal(loupe_trial_number(t), 5);
    OK(c->s, loupe_trial_suggest_float(t, "x", -1, 1, 0, 0, &x));
    assert_true(x == 0.5);
    loupe_trial_free(t);
    loupe_study_close(dst);
    loupe_study_close(src);
}

/* ================================================================ intermediate values and attrs */

static void check_intermediate(loupe_storage *s, loupe_study *st) {
    loupe_trial_list *l = get_one(s, st, 0);
    const loupe_frozen_trial *f = loupe_trial_list_at(l, 0);
    static const int64_t steps[7] = {0, 1, 2, 3, 4, 9, 10};
    const double vals[7] = {0.5, INFINITY, NAN, -INFINITY, DBL_MAX, 9.0, 0.25};
    assert_int_equal(f->n_intermediate, 7 + N_FLOATS);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(f->intermediate[i].step, steps[i]);
        assert_same_double(f->intermediate[i].value, vals[i]);
    }
    for (int i = 0; i < N_FLOATS; i++) {
        assert_int_equal(f->intermediate[7 + i].step, 100 + i);
        assert_same_double(f->intermediate[7 + i].value, FLOATS[i]);
    }
    loupe_trial_list_free(l);
}

static void t_intermediate(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "reports");
    loupe_trial *t = ask(c, st);
    OK(c->s, loupe_trial_report(t, 0.5, 0));
    OK(c->s, loupe_trial_report(t, INFINITY, 1));
    OK(c->s, loupe_trial_report(t, NAN, 2));
    OK(c->s, loupe_trial_report(t, -INFINITY, 3));
    OK(c->s, loupe_trial_report(t, DBL_MAX, 4));
    OK(c->s, loupe_trial_report(t, 0.25, 10));
    OK(c->s, loupe_trial_report(t, 9.0, 9)); /* out of order: read back by step */
    OK(c->s, loupe_trial_report(t, 99.0, 0)); /* a reported step is ignored, as Optuna does */
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_report(t, 1.0, -1));
    for (int i = 0; i < N_FLOATS; i++) OK(c->s, loupe_trial_report(t, FLOATS[i], 100 + i));
    tell1(c, t, 0.0);
    FAILS(c->s, LOUPE_EFINISHED, loupe_trial_report(t, 1.0, 50));
    loupe_trial_free(t);
    check_intermediate(c->s, st);

    /* reports belong to single-objective studies */
    loupe_direction d2[2] = {LOUPE_MINIMIZE, LOUPE_MINIMIZE};
    loupe_study *mo = study_new(c, "reports-mo", 2, d2);
    t = ask(c, mo);
    FAILS(c->s, LOUPE_ESTATE, loupe_trial_report(t, 1.0, 0));
    OK(c->s, loupe_trial_flush(t));
    loupe_trial_free(t);
    loupe_trial_list *l = get_one(c->s, mo, 0);
    assert_int_equal(loupe_trial_list_at(l, 0)->n_intermediate, 0);
    loupe_trial_list_free(l);
    loupe_study_close(mo);
    loupe_study_close(st);

    loupe_storage *s2 = reopen(c);
    if (s2) {
        st = study_load(s2, "reports");
        check_intermediate(s2, st);
        loupe_study_close(st);
        loupe_storage_close(s2);
    }
}

static void t_trial_attrs(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "tattrs");
    loupe_trial *t0 = ask(c, st), *t1 = ask(c, st);
    OK(c->s, loupe_trial_set_user_attr(t0, "a", "1"));
    OK(c->s, loupe_trial_set_user_attr(t0, "b", "\"x\""));
    OK(c->s, loupe_trial_set_user_attr(t0, "a", "[1, 2]")); /* overwrite in place */
    OK(c->s, loupe_trial_set_system_attr(t0, "a", "true"));
    OK(c->s, loupe_trial_set_user_attr(t1, "a", "2"));
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_set_user_attr(t0, "c", "{oops"));
    FAILS(c->s, LOUPE_EINVAL, loupe_trial_set_system_attr(t0, NULL, "1"));
    const loupe_frozen_trial *f = snap(c->s, t0);
    assert_int_equal(f->n_user_attrs, 2);
    loupe_trial_free(t0);
    loupe_trial_free(t1);
    loupe_trial_list *l = get_all(c->s, st, 0);
    f = loupe_trial_list_at(l, 0);
    assert_int_equal(f->n_user_attrs, 2);
    assert_string_equal(f->user_attrs[0].key, "a");
    assert_string_equal(f->user_attrs[0].json, "[1, 2]");
    assert_string_equal(f->user_attrs[1].key, "b");
    assert_string_equal(f->user_attrs[1].json, "\"x\"");
    assert_int_equal(f->n_system_attrs, 1);
    assert_string_equal(loupe_frozen_trial_system_attr(f, "a"), "true");
    assert_null(loupe_frozen_trial_user_attr(f, "c"));
    const loupe_frozen_trial *g = loupe_trial_list_at(l, 1);
    assert_int_equal(g->n_user_attrs, 1);
    assert_string_equal(loupe_frozen_trial_user_attr(g, "a"), "2");
    assert_int_equal(g->n_system_attrs, 0);
    loupe_trial_list_free(l);
    loupe_study_close(st);
}

/* ================================================================ reading */

static void t_get_trial_equals_written(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "full");
    loupe_trial *t = ask(c, st);
    double x;
    int64_t n;
    const char *s;
    static const char *const ch[] = {"red", "green"};
    OK(c->s, loupe_trial_suggest_float(t, "x", -1, 1, 0, 0, &x));
    OK(c->s, loupe_trial_suggest_int(t, "n", 1, 100, 1, 1, &n));
    OK(c->s, loupe_trial_suggest_categorical_str(t, "color", 2, ch, &s));
    OK(c->s, loupe_trial_set_user_attr(t, "note", "\"looks fine\""));
    OK(c->s, loupe_trial_set_user_attr(t, "rating", "4"));
    OK(c->s, loupe_trial_set_system_attr(t, "origin", "{\"who\": \"human\"}"));
    OK(c->s, loupe_trial_report(t, 3.0, 0));
    OK(c->s, loupe_trial_report(t, 2.0, 1));
    OK(c->s, loupe_trial_report(t, 1.5, 2));
    tell1(c, t, 1.25);
    const loupe_frozen_trial *mine = snap(c->s, t);
    loupe_trial_list *one = get_one(c->s, st, 0);
    loupe_trial_list *all = get_all(c->s, st, 0);
    assert_frozen_equal(loupe_trial_list_at(one, 0), loupe_trial_list_at(all, 0));
    const loupe_frozen_trial *f = loupe_trial_list_at(one, 0);
    assert_int_equal(f->state, LOUPE_COMPLETE);
    assert_int_equal(f->n_params, 3);
    assert_int_equal(f->n_user_attrs, 2);
    assert_int_equal(f->n_system_attrs, 1);
    assert_int_equal(f->n_intermediate, 3);
    assert_true(f->values[0] == 1.25);
    assert_true(f->datetime_start_us > 0 && f->datetime_complete_us >= f->datetime_start_us);
    loupe_storage *s2 = reopen(c);
    if (s2) {
        loupe_study *rs = study_load(s2, "full");
        loupe_trial_list *back = get_one(s2, rs, 0);
        assert_frozen_equal(loupe_trial_list_at(one, 0), loupe_trial_list_at(back, 0));
        loupe_trial_list_free(back);
        loupe_study_close(rs);
        loupe_storage_close(s2);
    }
    /* the trial handle's own snapshot is "a fresh snapshot of the trial as
     * stored": after tell it shows the stored datetime_complete too */
    assert_frozen_equal(mine, loupe_trial_list_at(one, 0));
    loupe_trial_list_free(one);
    loupe_trial_list_free(all);
    loupe_trial_free(t);
    loupe_trial_list *l = NULL;
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_get_trial(st, 1, &l));
    loupe_study_close(st);
}

static void assert_numbers(loupe_trial_list *l, size_t n, const int64_t *nums) {
    assert_int_equal(loupe_trial_list_count(l), n);
    for (size_t i = 0; i < n; i++) assert_int_equal(loupe_trial_list_at(l, i)->number, nums[i]);
    assert_null(loupe_trial_list_at(l, n));
}

/* get_all_trials: state filters, number order, and returned lists are
 * snapshots that later writes never change. get_n_trials per state. */
static void t_get_trials_filters_snapshots(void **state) {
    ctx *c = *state;
    loupe_study *st = study_min(c, "reading");
    double v = 1.0;
    loupe_trial *t;
    t = ask(c, st);
    tell1(c, t, 1.0);
    loupe_trial_free(t);
    t = ask(c, st);
    OK(c->s, loupe_trial_tell(t, LOUPE_PRUNED, 0, NULL, 0));
    loupe_trial_free(t);
    t = ask(c, st);
    OK(c->s, loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0));
    loupe_trial_free(t);
    loupe_trial *running = ask(c, st);
    OK(c->s, loupe_study_enqueue_trial(st, "{\"x\": 0.5}", NULL, NULL));

    loupe_trial_list *l = NULL;
    const int64_t all5[5] = {0, 1, 2, 3, 4};
    l = get_all(c->s, st, 0);
    assert_numbers(l, 5, all5);
    loupe_trial_list_free(l);
    l = get_all(c->s, st, LOUPE_STATES_ALL);
    assert_numbers(l, 5, all5);
    loupe_trial_list_free(l);
    const loupe_trial_state states[5] = {LOUPE_COMPLETE, LOUPE_PRUNED, LOUPE_FAIL, LOUPE_RUNNING,
                                         LOUPE_WAITING};
    for (int i = 0; i < 5; i++) {
        l = get_all(c->s, st, LOUPE_STATE_BIT(states[i]));
        assert_numbers(l, 1, &all5[i]);
        assert_int_equal(loupe_trial_list_at(l, 0)->state, states[i]);
        loupe_trial_list_free(l);
    }
    const int64_t cf[2] = {0, 2};
    l = get_all(c->s, st, LOUPE_STATE_BIT(LOUPE_COMPLETE) | LOUPE_STATE_BIT(LOUPE_FAIL));
    assert_numbers(l, 2, cf);
    loupe_trial_list_free(l);
    int64_t counts[5];
    OK(c->s, loupe_study_count_trials(st, counts));
    for (int i = 0; i < 5; i++) assert_int_equal(counts[i], 1);

    /* snapshots: take a list, then change trials 3 and 4 */
    loupe_trial_list *old = get_all(c->s, st, 0);
    double x;
    OK(c->s, loupe_trial_set_user_attr(running, "late", "1"));
    OK(c->s, loupe_trial_suggest_float(running, "x", 0, 1, 0, 0, &x));
    OK(c->s, loupe_trial_report(running, 0.5, 0));
    OK(c->s, loupe_trial_tell(running, LOUPE_COMPLETE, 1, &v, 0));
    loupe_trial_free(running);
    t = ask(c, st); /* takes the WAITING trial 4 */
    assert_int_equal(loupe_trial_number(t), 4);
    const loupe_frozen_trial *o3 = loupe_trial_list_at(old, 3), *o4 = loupe_trial_list_at(old, 4);
    assert_int_equal(o3->state, LOUPE_RUNNING);
    assert_int_equal(o3->n_user_attrs, 0);
    assert_int_equal(o3->n_params, 0);
    assert_int_equal(o3->n_intermediate, 0);
    assert_int_equal(o3->n_values, 0);
    assert_int_equal(o3->datetime_complete_us, -1);
    assert_int_equal(o4->state, LOUPE_WAITING);
    assert_int_equal(o4->datetime_start_us, -1);
    loupe_trial_list *now = get_all(c->s, st, 0);
    assert_int_equal(loupe_trial_list_at(now, 3)->state, LOUPE_COMPLETE);
    assert_int_equal(loupe_trial_list_at(now, 3)->n_params, 1);
    assert_int_equal(loupe_trial_list_at(now, 3)->n_user_attrs, 1);
    assert_int_equal(loupe_trial_list_at(now, 4)->state, LOUPE_RUNNING);
    /* the old list stays valid after newer lists are freed */
    loupe_trial_list_free(now);
    assert_int_equal(o3->number, 3);
    loupe_trial_list_free(old);
    loupe_trial_free(t);

    /* no WAITING trial is left: that filter is empty */
    l = get_all(c->s, st, LOUPE_STATE_BIT(LOUPE_WAITING));
    assert_int_equal(loupe_trial_list_count(l), 0);
    loupe_trial_list_free(l);
    OK(c->s, loupe_study_count_trials(st, counts));
    assert_int_equal(counts[LOUPE_COMPLETE], 2);
    assert_int_equal(counts[LOUPE_RUNNING], 1);
    assert_int_equal(counts[LOUPE_WAITING], 0);

    /* reads of a deleted study */
    OK(c->s, loupe_storage_delete_study(c->s, "reading"));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_get_trials(st, 0, &l));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_count_trials(st, counts));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_get_trial(st, 0, &l));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_best_trial(st, &l));
    loupe_study_close(st);
}

static int64_t best_number(ctx *c, loupe_study *st) {
    loupe_trial_list *l = NULL;
    OK(c->s, loupe_study_best_trial(st, &l));
    assert_int_equal(loupe_trial_list_count(l), 1);
    int64_t n = loupe_trial_list_at(l, 0)->number;
    assert_int_equal(loupe_trial_list_at(l, 0)->state, LOUPE_COMPLETE);
    loupe_trial_list_free(l);
    return n;
}

static void tell_values(ctx *c, loupe_study *st, size_t n, const double *vals) {
    for (size_t i = 0; i < n; i++) {
        loupe_trial *t = ask(c, st);
        tell1(c, t, vals[i]);
        loupe_trial_free(t);
    }
}

static void t_best_trial(void **state) {
    ctx *c = *state;
    loupe_study *mn = study_min(c, "best-min");
    loupe_trial_list *l = NULL;
    FAILS(c->s, LOUPE_ENOTRIAL, loupe_study_best_trial(mn, &l));
    loupe_trial *t = ask(c, mn); /* RUNNING, FAIL and PRUNED trials do not count */
    loupe_trial *t2 = ask(c, mn);
    OK(c->s, loupe_trial_tell(t2, LOUPE_FAIL, 0, NULL, 0));
    loupe_trial_free(t2);
    t2 = ask(c, mn);
    OK(c->s, loupe_trial_report(t2, -1000.0, 0));
    OK(c->s, loupe_trial_tell(t2, LOUPE_PRUNED, 0, NULL, 0)); /* has value -1000 */
    loupe_trial_free(t2);
    FAILS(c->s, LOUPE_ENOTRIAL, loupe_study_best_trial(mn, &l));
    loupe_trial_free(t);
    const double vmin[5] = {INFINITY, 2, -INFINITY, 5, -INFINITY};
    tell_values(c, mn, 5, vmin);
    assert_int_equal(best_number(c, mn), 5); /* the first -inf (numbers 0-2 are not COMPLETE) */

    loupe_direction mx = LOUPE_MAXIMIZE;
    loupe_study *ma = study_new(c, "best-max", 1, &mx);
    const double vmax[4] = {-INFINITY, 3, INFINITY, INFINITY};
    tell_values(c, ma, 4, vmax);
    assert_int_equal(best_number(c, ma), 2);
    loupe_study *fin = study_min(c, "best-finite");
    const double vf[4] = {3, 1, 1, 2};
    tell_values(c, fin, 4, vf);
    assert_int_equal(best_number(c, fin), 1); /* a tie: the lowest number */
    loupe_study *ninf = study_min(c, "best-inf");
    const double vi[2] = {INFINITY, INFINITY};
    tell_values(c, ninf, 2, vi);
    assert_int_equal(best_number(c, ninf), 0);

    loupe_direction d2[2] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    loupe_study *mo = study_new(c, "best-mo", 2, d2);
    FAILS(c->s, LOUPE_ESTATE, loupe_study_best_trial(mo, &l));
    t = ask(c, mo);
    double v2[2] = {1, 1};
    OK(c->s, loupe_trial_tell(t, LOUPE_COMPLETE, 2, v2, 0));
    loupe_trial_free(t);
    FAILS(c->s, LOUPE_ESTATE, loupe_study_best_trial(mo, &l));

    loupe_study_close(mo);
    loupe_study_close(ninf);
    loupe_study_close(fin);
    loupe_study_close(ma);
    loupe_study_close(mn);
}

static void assert_front(ctx *c, loupe_study *st, size_t n, const int64_t *nums) {
    loupe_trial_list *l = NULL;
    OK(c->s, loupe_study_best_trials(st, &l));
    assert_numbers(l, n, nums);
    loupe_trial_list_free(l);
}

static void t_best_trials_pareto(void **state) {
    ctx *c = *state;
    loupe_direction mm[2] = {LOUPE_MINIMIZE, LOUPE_MINIMIZE};
    loupe_study *st = study_new(c, "pareto", 2, mm);
    assert_front(c, st, 0, NULL);
    const double pts[5][2] = {{1, 5}, {2, 2}, {5, 1}, {3, 3}, {2, 2}};
    for (int i = 0; i < 5; i++) {
        loupe_trial *t = ask(c, st);
        OK(c->s, loupe_trial_tell(t, LOUPE_COMPLETE, 2, pts[i], 0));
        loupe_trial_free(t);
    }
    loupe_trial *t = ask(c, st);
    OK(c->s, loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0));
    loupe_trial_free(t);
    loupe_trial *running = ask(c, st);
    const int64_t front[4] = {0, 1, 2, 4}; /* equal points do not dominate each other */
    assert_front(c, st, 4, front);
    loupe_trial_free(running);

    loupe_direction xm[2] = {LOUPE_MAXIMIZE, LOUPE_MINIMIZE};
    loupe_study *st2 = study_new(c, "pareto-mixed", 2, xm);
    const double p2[3][2] = {{1, 1}, {2, 2}, {2, 1}};
    for (int i = 0; i < 3; i++) {
        t = ask(c, st2);
        OK(c->s, loupe_trial_tell(t, LOUPE_COMPLETE, 2, p2[i], 0));
        loupe_trial_free(t);
    }
    const int64_t front2[1] = {2};
    assert_front(c, st2, 1, front2);

    loupe_study *single = study_min(c, "pareto-single");
    const double vs[3] = {3, 1, 1};
    tell_values(c, single, 3, vs);
    const int64_t front3[2] = {1, 2};
    assert_front(c, single, 2, front3);
    loupe_study_close(single);
    loupe_study_close(st2);
    loupe_study_close(st);
}

/* ================================================================ several handles (SQLite) */

/* Cached-storage items: writes are visible to another handle at once, unfinished
 * trials are re-read, numbers stay dense across handles, WAITING trials are
 * claimed once, the data version moves, a delete is seen. */
static void t_two_handles(void **state) {
    ctx *c = *state;
    loupe_storage *b = reopen(c);
    loupe_study *sa = study_min(c, "shared");
    loupe_study *sb = study_load(b, "shared");
    assert_int_equal(loupe_study_id(sa), loupe_study_id(sb));

    uint64_t v0 = 0, v1 = 0;
    OK(b, loupe_storage_data_version(b, &v0));
    loupe_trial *ta = ask(c, sa);
    double x;
    OK(c->s, loupe_trial_suggest_float(ta, "x", 0, 1, 0, 0, &x));
    OK(c->s, loupe_trial_set_user_attr(ta, "by", "\"A\""));
    OK(b, loupe_storage_data_version(b, &v1));
    assert_true(v1 != v0);

    loupe_trial_list *l = get_all(b, sb, 0);
    assert_int_equal(loupe_trial_list_count(l), 1);
    const loupe_frozen_trial *f = loupe_trial_list_at(l, 0);
    assert_int_equal(f->state, LOUPE_RUNNING);
    assert_int_equal(f->n_params, 1);
    assert_true(f->params[0].internal == x);
    assert_string_equal(loupe_frozen_trial_user_attr(f, "by"), "\"A\"");
    loupe_trial_list_free(l);

    tell1(c, ta, 0.5); /* B saw the trial RUNNING; it must notice the change */
    loupe_trial_free(ta);
    l = get_all(b, sb, 0);
    f = loupe_trial_list_at(l, 0);
    assert_int_equal(f->state, LOUPE_COMPLETE);
    assert_int_equal(f->n_values, 1);
    assert_true(f->values[0] == 0.5);
    loupe_trial_list_free(l);
    l = NULL;
    OK(b, loupe_study_best_trial(sb, &l));
    assert_int_equal(loupe_trial_list_at(l, 0)->number, 0);
    loupe_trial_list_free(l);

    /* numbers are dense across handles; distributions are checked across them */
    loupe_trial *tb = NULL;
    OK(b, loupe_study_ask(sb, &tb));
    assert_int_equal(loupe_trial_number(tb), 1);
    int64_t xi;
    FAILS(b, LOUPE_EINCOMPAT, loupe_trial_suggest_int(tb, "x", 0, 3, 1, 0, &xi));
    loupe_trial *ta2 = ask(c, sa);
    assert_int_equal(loupe_trial_number(ta2), 2);
    loupe_trial_free(ta2);
    loupe_trial_free(tb);

    /* each WAITING trial is claimed by exactly one handle */
    OK(c->s, loupe_study_enqueue_trial(sa, "{\"x\": 0.1}", NULL, NULL));
    OK(c->s, loupe_study_enqueue_trial(sa, "{\"x\": 0.2}", NULL, NULL));
    loupe_trial *w1 = NULL, *w2 = NULL, *w3 = NULL;
    OK(b, loupe_study_ask(sb, &w1));
    OK(c->s, loupe_study_ask(sa, &w2));
    OK(b, loupe_study_ask(sb, &w3));
    assert_int_equal(loupe_trial_number(w1), 3);
    assert_int_equal(loupe_trial_number(w2), 4);
    assert_int_equal(loupe_trial_number(w3), 5);
    loupe_trial_free(w1);
    loupe_trial_free(w2);
    loupe_trial_free(w3);

    /* a study deleted through one handle is gone for the other */
    OK(b, loupe_storage_delete_study(b, "shared"));
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_get_trials(sa, 0, &l));
    loupe_study *none = NULL;
    FAILS(c->s, LOUPE_ENOTFOUND, loupe_study_load(c->s, "shared", &none));
    loupe_study_close(sb);
    loupe_study_close(sa);
    loupe_storage_close(b);
}

/* ================================================================ RDB-specific (SQLite) */

static sqlite3 *sq_open(const char *path) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) print_error("sqlite3_open %s: %s\n", path, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    return db;
}

/* The rows of a query, fields joined by '|' and rows by '\n'. */
static char *sq_rows(sqlite3 *db, const char *sql) {
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) print_error("%s: %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(stmt); i++) {
            const char *v = (const char *)sqlite3_column_text(stmt, i);
            if (!v) v = "NULL";
            size_t need = len + strlen(v) + 3;
            if (need > cap) {
                cap = need * 2;
                out = realloc(out, cap);
            }
            len += (size_t)sprintf(out + len, "%s%s", i ? "|" : (len ? "\n" : ""), v);
        }
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(stmt);
    return out;
}

static void assert_rows(sqlite3 *db, const char *sql, const char *expected) {
    char *got = sq_rows(db, sql);
    assert_string_equal(got, expected);
    free(got);
}

static void t_fresh_db_facts(void **state) {
    ctx *c = *state;
    assert_string_equal(loupe_storage_schema_revision(c->s), "v3.2.0.a");
    sqlite3 *db = sq_open(c->path);
    assert_rows(db, "SELECT version_num FROM alembic_version", "v3.2.0.a");
    assert_rows(db, "SELECT version_info_id, schema_version, library_version FROM version_info",
                "1|12|loupe-" LOUPE_VERSION);
    assert_rows(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name",
                "alembic_version\nstudies\nstudy_directions\nstudy_system_attributes\n"
                "study_user_attributes\ntrial_heartbeats\ntrial_intermediate_values\ntrial_params\n"
                "trial_system_attributes\ntrial_user_attributes\ntrial_values\ntrials\nversion_info");
    assert_rows(db, "SELECT name FROM sqlite_master WHERE type='index' ORDER BY name",
                "ix_studies_study_name\nix_trials_study_id\nsqlite_autoindex_alembic_version_1\n"
                "sqlite_autoindex_study_directions_1\nsqlite_autoindex_study_system_attributes_1\n"
                "sqlite_autoindex_study_user_attributes_1\nsqlite_autoindex_trial_heartbeats_1\n"
                "sqlite_autoindex_trial_intermediate_values_1\nsqlite_autoindex_trial_params_1\n"
                "sqlite_autoindex_trial_system_attributes_1\nsqlite_autoindex_trial_user_attributes_1\n"
                "sqlite_autoindex_trial_values_1");
    /* columns: name|type|notnull|pk, in order (what readers rely on, §1.6) */
    static const char *const cols[][2] = {
        {"studies", "study_id|INTEGER|1|1\nstudy_name|VARCHAR(512)|1|0"},
        {"version_info",
         "version_info_id|INTEGER|1|1\nschema_version|INTEGER|0|0\nlibrary_version|VARCHAR(256)|0|0"},
        {"study_directions", "study_direction_id|INTEGER|1|1\ndirection|VARCHAR(8)|1|0\n"
                             "study_id|INTEGER|1|0\nobjective|INTEGER|1|0"},
        {"study_user_attributes", "study_user_attribute_id|INTEGER|1|1\nstudy_id|INTEGER|0|0\n"
                                  "key|VARCHAR(512)|0|0\nvalue_json|TEXT|0|0"},
        {"study_system_attributes", "study_system_attribute_id|INTEGER|1|1\nstudy_id|INTEGER|0|0\n"
                                    "key|VARCHAR(512)|0|0\nvalue_json|TEXT|0|0"},
        {"trials", "trial_id|INTEGER|1|1\nnumber|INTEGER|0|0\nstudy_id|INTEGER|0|0\n"
                   "state|VARCHAR(8)|1|0\ndatetime_start|DATETIME|0|0\ndatetime_complete|DATETIME|0|0"},
        {"trial_user_attributes", "trial_user_attribute_id|INTEGER|1|1\ntrial_id|INTEGER|0|0\n"
                                  "key|VARCHAR(512)|0|0\nvalue_json|TEXT|0|0"},
        {"trial_system_attributes", "trial_system_attribute_id|INTEGER|1|1\ntrial_id|INTEGER|0|0\n"
                                    "key|VARCHAR(512)|0|0\nvalue_json|TEXT|0|0"},
        {"trial_params", "param_id|INTEGER|1|1\ntrial_id|INTEGER|0|0\nparam_name|VARCHAR(512)|0|0\n"
                         "param_value|FLOAT|0|0\ndistribution_json|TEXT|0|0"},
        {"trial_values", "trial_value_id|INTEGER|1|1\ntrial_id|INTEGER|1|0\nobjective|INTEGER|1|0\n"
                         "value|FLOAT|0|0\nvalue_type|VARCHAR(7)|1|0"},
        {"trial_intermediate_values",
         "trial_intermediate_value_id|INTEGER|1|1\ntrial_id|INTEGER|1|0\nstep|INTEGER|1|0\n"
         "intermediate_value|FLOAT|0|0\nintermediate_value_type|VARCHAR(7)|1|0"},
        {"trial_heartbeats",
         "trial_heartbeat_id|INTEGER|1|1\ntrial_id|INTEGER|1|0\nheartbeat|DATETIME|1|0"},
        {"alembic_version", "version_num|VARCHAR(32)|1|1"},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('%s')",
                 cols[i][0]);
        assert_rows(db, sql, cols[i][1]);
    }
    /* not WAL: optuna-dashboard's in-browser reader cannot open WAL files (§0.7) */
    char *jm = sq_rows(db, "PRAGMA journal_mode");
    assert_string_not_equal(jm, "wal");
    free(jm);
    /* version_info holds one row at most (the CHECK constraint) */
    char *err = NULL;
    int rc = sqlite3_exec(db, "INSERT INTO version_info VALUES (2, 12, 'x')", NULL, NULL, &err);
    assert_int_equal(rc, SQLITE_CONSTRAINT);
    sqlite3_free(err);
    sqlite3_close(db);
    /* upgrade() on an up-to-date DB is a no-op */
    int upgraded = -1;
    char *msg = NULL;
    OK(c->s, loupe_storage_upgrade(c->url, &upgraded, &msg));
    assert_int_equal(upgraded, 0);
    assert_non_null(msg);
    loupe_free(msg);
    loupe_study *st = study_min(c, "after-noop-upgrade");
    loupe_study_close(st);
}

static void assert_file_unchanged(const char *path, const char *orig, size_t orig_len) {
    size_t len = 0;
    char *now = tu_read_file(path, &len);
    assert_non_null(now);
    assert_int_equal(len, orig_len);
    assert_memory_equal(now, orig, len);
    free(now);
}

/* Copies fixtures/optuna-upgrade-assets/<name>.db into the temp dir; writes
 * the copy's path and URL. */
static void copy_asset(const char *name, const char *tag, char *path, size_t cap, char *url,
                       size_t ucap) {
    char from[1024], file[128];
    snprintf(from, sizeof from, "%s/fixtures/optuna-upgrade-assets/%s.db", tu_datadir(), name);
    snprintf(file, sizeof file, "asset-%s-%s.db", tag, name);
    tu_sqlite_url(url, ucap, file);
    tu_path(path, cap, file);
    if (tu_copy_file(from, path) != 0) print_error("cannot copy %s\n", from);
    assert_int_equal(tu_copy_file(from, path), 0);
}

static const char *const ASSETS[10] = {"0.9.0.a", "1.2.0.a", "1.3.0.a", "2.4.0.a", "2.6.0.a",
                                       "3.0.0.a", "3.0.0.b", "3.0.0.c", "3.0.0.d", "3.2.0.a"};

/* check_table_schema_compatibility: an older revision is refused (and the file
 * is left alone) unless it is v3.0.0.d opened with SKIP_SCHEMA_CHECK; files that
 * are not Optuna databases, or from a newer Optuna, are refused too. */
static void t_old_revisions(void **state) {
    ctx *c = *state;
    (void)c;
    char path[1024], url[1100];
    for (int i = 0; i < 9; i++) { /* every asset but 3.2.0.a is older than the head */
        copy_asset(ASSETS[i], "old", path, sizeof path, url, sizeof url);
        size_t len = 0;
        char *orig = tu_read_file(path, &len);
        assert_non_null(orig);
        loupe_storage *s = NULL;
        int rc = loupe_storage_open(url, LOUPE_OPEN_DEFAULT, &s);
        if (rc != LOUPE_ESCHEMA) print_error("%s: %d %s\n", ASSETS[i], rc, loupe_storage_errmsg(s));
        assert_int_equal(rc, LOUPE_ESCHEMA);
        assert_non_null(s);
        assert_non_null(strstr(loupe_storage_errmsg(s), "upgrade"));
        loupe_storage_close(s);
        assert_file_unchanged(path, orig, len);
        s = NULL;
        rc = loupe_storage_open(url, LOUPE_OPEN_SKIP_SCHEMA_CHECK, &s);
        if (strcmp(ASSETS[i], "3.0.0.d") == 0) {
            if (rc) print_error("3.0.0.d with SKIP: %s\n", loupe_storage_errmsg(s));
            assert_int_equal(rc, LOUPE_OK);
            assert_string_equal(loupe_storage_schema_revision(s), "v3.0.0.d");
            loupe_study *st = study_load(s, "single");
            loupe_trial_list *l = get_one(s, st, 0);
            assert_true(loupe_frozen_trial_param(loupe_trial_list_at(l, 0), "x")->internal ==
                        1.932781531875345);
            loupe_trial_list_free(l);
            loupe_study_close(st);
        } else {
            assert_int_equal(rc, LOUPE_ESCHEMA);
        }
        loupe_storage_close(s);
        free(orig);
    }

    /* not a database at all */
    tu_path(path, sizeof path, "not-a-db.db");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 200; i++) fputs("this is not an SQLite database\n", f);
    fclose(f);
    snprintf(url, sizeof url, "sqlite:///%s", path);
    loupe_storage *s = NULL;
    FAILS(s, LOUPE_ECORRUPT, loupe_storage_open(url, 0, &s));
    loupe_storage_close(s);
    /* an SQLite database of something else */
    tu_path(path, sizeof path, "other-app.db");
    remove(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE songs (id INTEGER PRIMARY KEY, title TEXT)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    snprintf(url, sizeof url, "sqlite:///%s", path);
    s = NULL;
    FAILS(s, LOUPE_ECORRUPT, loupe_storage_open(url, 0, &s));
    loupe_storage_close(s);
    /* a revision from a newer Optuna */
    copy_asset("3.2.0.a", "newer", path, sizeof path, url, sizeof url);
    db = sq_open(path);
    assert_int_equal(sqlite3_exec(db, "UPDATE alembic_version SET version_num='v9.9.9.z'", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    FAILS(s, LOUPE_ESCHEMA, loupe_storage_open(url, 0, &s));
    loupe_storage_close(s);
}

/* The decoded 'single' trial of each asset, with its datetimes (README of the
 * assets; naive text, read as UTC). */
static const struct {
    double x;
    int y, z;
    double value;
    const char *start, *complete;
} SINGLE[10] = {
    {4.904856166548656, 5, 5, 74.05761401453037, "2021-09-01 12:23:35.949090", "2021-09-01 12:23:36.010581"},
    {-1.005166348197295, 2, 0, 5.010359387548286, "2021-09-01 12:23:53.742854", "2021-09-01 12:23:53.835863"},
    {-3.122333768815162, 2, -5, 38.74896816388349, "2021-09-01 12:24:03.461168", "2021-09-01 12:24:03.548125"},
    {-1.3269926083306585, 10, -5, 126.76090938256421, "2022-02-16 15:46:59.211391", "2022-02-16 15:46:59.232018"},
    {2.7017363397859837, 7, -5, 81.29937924972016, "2022-02-16 15:46:42.848130", "2022-02-16 15:46:42.869193"},
    {-2.6232473399624845, 2, 0, 10.88142660662025, "2022-02-23 20:30:55.591691", "2022-02-23 20:30:55.620748"},
    {4.08511950490402, 2, 0, 20.68820136934726, "2022-04-27 16:44:16.685465", "2022-04-27 16:44:16.705778"},
    {2.0803047982367593, 7, 5, 78.32766805356688, "2022-05-31 18:18:17.558286", "2022-05-31 18:18:17.578216"},
    {1.932781531875345, 6, 5, 64.73564444995841, "2022-06-02 21:07:53.051635", "2022-06-02 21:07:53.069650"},
    {-2.4602735870404024, 4, 5, 47.052946123088645, "2023-03-13 13:23:06.481467", "2023-03-13 13:23:06.500233"},
};

/* "YYYY-MM-DD HH:MM:SS.ffffff" read as UTC, in microseconds since the epoch. */
static int64_t utc_us(const char *text) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int us = 0;
    assert_int_equal(sscanf(text, "%d-%d-%d %d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000000 + us;
}

static const char *const Z_CHOICES[3] = {"-5", "0", "5"};

/* Asks one trial of the upgrade test's objective and tells it. */
static void optimize_one(loupe_storage *s, loupe_study *st, size_t n_obj) {
    loupe_trial *t = NULL;
    OK(s, loupe_study_ask(st, &t));
    double x;
    int64_t y;
    size_t zi;
    OK(s, loupe_trial_suggest_float(t, "x", -5, 5, 0, 0, &x));
    OK(s, loupe_trial_suggest_int(t, "y", 0, 10, 1, 0, &y));
    OK(s, loupe_trial_suggest_categorical(t, "z", 3, Z_CHOICES, &zi));
    OK(s, loupe_trial_set_user_attr(t, "b", "1"));
    if (n_obj == 1) OK(s, loupe_trial_report(t, 0.5, 0));
    double z = (double)((int)zi * 5 - 5);
    double vals[2] = {x * x + (double)(y * y) + z * z, 0};
    if (n_obj == 2) {
        vals[1] = vals[0];
        vals[0] = x;
    }
    OK(s, loupe_trial_tell(t, LOUPE_COMPLETE, n_obj, vals, 0));
    loupe_trial_free(t);
}

static void check_xyz(const loupe_frozen_trial *f) {
    const loupe_param *x = loupe_frozen_trial_param(f, "x"), *y = loupe_frozen_trial_param(f, "y"),
                      *z = loupe_frozen_trial_param(f, "z");
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(z);
    assert_int_equal(x->dist.kind, LOUPE_DIST_FLOAT);
    assert_true(x->dist.low == -5 && x->dist.high == 5 && !x->dist.log && x->dist.step == 0);
    assert_int_equal(y->dist.kind, LOUPE_DIST_INT);
    assert_true(y->dist.low == 0 && y->dist.high == 10 && y->dist.step == 1 && !y->dist.log);
    assert_int_equal(z->dist.kind, LOUPE_DIST_CATEGORICAL);
    assert_int_equal(z->dist.n_choices, 3);
    for (int i = 0; i < 3; i++) assert_string_equal(z->dist.choices[i], Z_CHOICES[i]);
    assert_true(x->internal >= -5 && x->internal <= 5);
    assert_true(y->internal >= 0 && y->internal <= 10);
    assert_string_equal(loupe_frozen_trial_user_attr(f, "b"), "1");
}

static int64_t n_trials(loupe_storage *s, loupe_study *st) {
    int64_t counts[5], n = 0;
    OK(s, loupe_study_count_trials(st, counts));
    for (int i = 0; i < 5; i++) n += counts[i];
    return n;
}

/* Upgrade from every asset DB, then read and continue every study (§14 RDB). */
static void t_upgrade_assets(void **state) {
    ctx *c = *state;
    (void)c;
    for (int i = 0; i < 10; i++) {
        char path[1024], url[1100];
        copy_asset(ASSETS[i], "up", path, sizeof path, url, sizeof url);
        int is_head = i == 9, has_multi = i >= 3;
        int upgraded = -1;
        char *msg = NULL;
        int rc = loupe_storage_upgrade(url, &upgraded, &msg);
        if (rc) print_error("upgrade %s: %d %s\n", ASSETS[i], rc, msg ? msg : "(no message)");
        assert_int_equal(rc, LOUPE_OK);
        assert_int_equal(upgraded, is_head ? 0 : 1);
        loupe_free(msg);

        sqlite3 *db = sq_open(path);
        assert_rows(db, "SELECT version_num FROM alembic_version", "v3.2.0.a");
        assert_rows(db, "SELECT schema_version FROM version_info", "12");
        if (!is_head) {
            assert_rows(db, "SELECT library_version FROM version_info", "loupe-" LOUPE_VERSION);
            assert_rows(db, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                            "name='trials_study_id_key'",
                        "1");
        }
        sqlite3_close(db);

        loupe_storage *s = NULL;
        rc = loupe_storage_open(url, LOUPE_OPEN_DEFAULT, &s);
        if (rc) print_error("open upgraded %s: %s\n", ASSETS[i], loupe_storage_errmsg(s));
        assert_int_equal(rc, LOUPE_OK);
        assert_string_equal(loupe_storage_schema_revision(s), "v3.2.0.a");

        /* single: the stored trial, exactly */
        loupe_study *st = study_load(s, "single");
        assert_int_equal(n_trials(s, st), 1);
        loupe_trial_list *l = get_one(s, st, 0);
        const loupe_frozen_trial *f = loupe_trial_list_at(l, 0);
        assert_int_equal(f->state, LOUPE_COMPLETE);
        check_xyz(f);
        assert_true(loupe_frozen_trial_param(f, "x")->internal == SINGLE[i].x);
        assert_true(loupe_frozen_trial_param(f, "y")->internal == SINGLE[i].y);
        assert_string_equal(
            loupe_frozen_trial_param(f, "z")->dist.choices[(int)loupe_frozen_trial_param(f, "z")->internal],
            SINGLE[i].z == -5 ? "-5" : SINGLE[i].z == 0 ? "0" : "5");
        assert_int_equal(f->n_values, 1);
        assert_true(f->values[0] == SINGLE[i].value);
        assert_int_equal(f->n_intermediate, 1);
        assert_int_equal(f->intermediate[0].step, 0);
        assert_true(f->intermediate[0].value == 0.5);
        assert_int_equal(f->n_system_attrs, 1); /* "_number" of old files is migrated away */
        assert_string_equal(f->system_attrs[0].key, "a");
        assert_string_equal(f->system_attrs[0].json, "0");
        assert_int_equal(f->datetime_start_us, utc_us(SINGLE[i].start));
        assert_int_equal(f->datetime_complete_us, utc_us(SINGLE[i].complete));
        loupe_trial_list_free(l);
        assert_study_attr(s, st, 0, "d", "3");
        const loupe_attr *attrs;
        size_t n;
        OK(s, loupe_study_system_attrs(st, &attrs, &n));
        assert_int_equal(n, is_head ? 0 : 1);
        if (!is_head) assert_string_equal(attrs[0].json, "2");
        /* a template with fixed old dates keeps them (the copy of the stored trial) */
        loupe_study *cp = NULL;
        OK(s, loupe_study_copy(s, "single", "single-copy", &cp));
        assert_copy_equal(s, st, cp);
        loupe_study_close(cp);
        optimize_one(s, st, 1);
        assert_int_equal(n_trials(s, st), 2);
        loupe_study_close(st);

        st = study_load(s, "single_empty");
        assert_int_equal(n_trials(s, st), 0);
        optimize_one(s, st, 1);
        assert_int_equal(n_trials(s, st), 1);
        loupe_study_close(st);

        if (has_multi) {
            st = study_load(s, "multi");
            assert_int_equal(loupe_study_n_objectives(st), 2);
            assert_int_equal(loupe_study_direction(st, 1), LOUPE_MINIMIZE);
            l = get_all(s, st, 0);
            assert_int_equal(loupe_trial_list_count(l), 1);
            f = loupe_trial_list_at(l, 0);
            check_xyz(f);
            assert_int_equal(f->n_values, 2);
            assert_true(f->values[0] >= -5 && f->values[0] < 5);
            assert_true(f->values[1] >= 0 && f->values[1] <= 150);
            loupe_trial_list_free(l);
            assert_study_attr(s, st, 0, "d", "3");
            optimize_one(s, st, 2);
            loupe_study_close(st);
            st = study_load(s, "multi_empty");
            assert_int_equal(n_trials(s, st), 0);
            optimize_one(s, st, 2);
            loupe_study_close(st);

            /* legacy distribution names became Float/Int/Categorical */
            st = study_load(s, "schema migration");
            l = get_one(s, st, 0);
            f = loupe_trial_list_at(l, 0);
            static const char *const names[7] = {"x1", "x2", "x3", "y1", "y2", "y3", "z"};
            static const loupe_dist_kind kinds[7] = {LOUPE_DIST_FLOAT, LOUPE_DIST_FLOAT, LOUPE_DIST_FLOAT,
                                                     LOUPE_DIST_INT,   LOUPE_DIST_INT,   LOUPE_DIST_INT,
                                                     LOUPE_DIST_CATEGORICAL};
            static const int logs[7] = {0, 1, 0, 0, 1, 0, 0};
            static const double steps[7] = {0, 0, 2, 1, 1, 3, 0};
            static const double lows[7] = {-5, 1e-05, -6, 0, 1, 5, 0};
            static const double highs[7] = {5, 0.001, 6, 10, 20, 14, 0};
            for (int k = 0; k < 7; k++) {
                const loupe_param *p = loupe_frozen_trial_param(f, names[k]);
                assert_non_null(p);
                assert_int_equal(p->dist.kind, kinds[k]);
                if (kinds[k] == LOUPE_DIST_CATEGORICAL) {
                    assert_int_equal(p->dist.n_choices, 3);
                    continue;
                }
                assert_int_equal(!!p->dist.log, logs[k]);
                assert_true(p->dist.step == steps[k]);
                assert_true(p->dist.low == lows[k] && p->dist.high == highs[k]);
            }
            loupe_trial_list_free(l);
            /* and one more trial with the same distributions */
            loupe_trial *t = NULL;
            OK(s, loupe_study_ask(st, &t));
            double fv;
            int64_t iv;
            size_t zi;
            OK(s, loupe_trial_suggest_float(t, "x1", -5, 5, 0, 0, &fv));
            OK(s, loupe_trial_suggest_float(t, "x2", 1e-5, 1e-3, 0, 1, &fv));
            OK(s, loupe_trial_suggest_float(t, "x3", -6, 6, 2, 0, &fv));
            OK(s, loupe_trial_suggest_int(t, "y1", 0, 10, 1, 0, &iv));
            OK(s, loupe_trial_suggest_int(t, "y2", 1, 20, 1, 1, &iv));
            OK(s, loupe_trial_suggest_int(t, "y3", 5, 15, 3, 0, &iv));
            OK(s, loupe_trial_suggest_categorical(t, "z", 3, Z_CHOICES, &zi));
            double one = 1.0;
            OK(s, loupe_trial_tell(t, LOUPE_COMPLETE, 1, &one, 0));
            loupe_trial_free(t);
            assert_int_equal(n_trials(s, st), 2);
            loupe_study_close(st);
        }

        /* a new study can be created and optimized */
        loupe_direction d = LOUPE_MINIMIZE;
        st = NULL;
        OK(s, loupe_study_create(s, "new-after-upgrade", 1, &d, 0, &st));
        optimize_one(s, st, 1);
        loupe_study_close(st);
        loupe_storage_close(s);

        /* everything persisted */
        s = NULL;
        OK(s, loupe_storage_open(url, LOUPE_OPEN_DEFAULT, &s));
        st = study_load(s, "single");
        assert_int_equal(n_trials(s, st), 2);
        loupe_study_close(st);
        loupe_study_list *list = NULL;
        OK(s, loupe_storage_list_studies(s, &list));
        assert_int_equal(loupe_study_list_count(list), has_multi ? 7 : 4);
        loupe_study_list_free(list);
        loupe_storage_close(s);
    }
}

/* ================================================================ main */

#define BOTH(f)                                                                                    \
    cmocka_unit_test_setup_teardown(f, setup_memory, teardown),                                    \
        cmocka_unit_test_setup_teardown(f, setup_sqlite, teardown)
#define SQLITE_ONLY(f) cmocka_unit_test_setup_teardown(f, setup_sqlite, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        BOTH(t_study_ids_and_auto_names),
        BOTH(t_study_delete),
        BOTH(t_study_duplicate_name),
        BOTH(t_study_name_id_roundtrip),
        BOTH(t_study_directions),
        BOTH(t_study_attrs),
        BOTH(t_attr_float_roundtrip),
        BOTH(t_trial_create),
        BOTH(t_enqueue),
        BOTH(t_tell_states),
        BOTH(t_tell_validation),
        BOTH(t_values_roundtrip),
        BOTH(t_updatable),
        BOTH(t_params_basic),
        BOTH(t_params_incompatible),
        BOTH(t_params_single_values),
        BOTH(t_params_order),
        BOTH(t_trial_from_template),
        BOTH(t_intermediate),
        BOTH(t_trial_attrs),
        BOTH(t_get_trial_equals_written),
        BOTH(t_get_trials_filters_snapshots),
        BOTH(t_best_trial),
        BOTH(t_best_trials_pareto),
        SQLITE_ONLY(t_two_handles),
        SQLITE_ONLY(t_fresh_db_facts),
        SQLITE_ONLY(t_old_revisions),
        SQLITE_ONLY(t_upgrade_assets),
    };
    if (getenv("LOUPE_TEST_PG_URL")) {
#define PG(f) cmocka_unit_test_setup_teardown(f, setup_pg, teardown)
        const struct CMUnitTest pg_tests[] = {
            PG(t_study_ids_and_auto_names), PG(t_study_delete), PG(t_study_duplicate_name),
            PG(t_study_name_id_roundtrip), PG(t_study_directions), PG(t_study_attrs),
            PG(t_attr_float_roundtrip), PG(t_trial_create), PG(t_enqueue), PG(t_tell_states),
            PG(t_tell_validation), PG(t_values_roundtrip), PG(t_updatable), PG(t_params_basic),
            PG(t_params_incompatible), PG(t_params_single_values), PG(t_params_order),
            PG(t_trial_from_template), PG(t_intermediate), PG(t_trial_attrs),
            PG(t_get_trial_equals_written), PG(t_get_trials_filters_snapshots), PG(t_best_trial),
            PG(t_best_trials_pareto), PG(t_two_handles),
        };
        return cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
