/*
 * test_sqlite_upgrade.c -- loupe__sqlite_storage_upgrade on Optuna's own upgrade
 * assets (one per alembic revision v0.9.0.a ... v3.2.0.a): every file reaches
 * v3.2.0.a with the head columns and the contents Optuna's test suite expects,
 * v3.0.0.d changes by exactly Optuna's three edits, the v3.0.0.c/d value rules,
 * refusals that leave the file untouched, and Python Optuna reading the result
 * (skipped without python3-optuna).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/trial_rec.h"
#include "storage/storage.h"
#include "storage_testutil.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

static int upgrade(const char *path, int *upgraded, char **msg) {
    *msg = NULL;
    int rc = loupe__sqlite_storage_upgrade(path, upgraded, msg);
    assert_non_null(*msg);
    return rc;
}

static void upgrade_ok(const char *path, int want_upgraded) {
    int up = -1;
    char *msg;
    int rc = upgrade(path, &up, &msg);
    if (rc != LOUPE_OK) fprintf(stderr, "upgrade %s: %s\n", path, msg);
    assert_int_equal(rc, LOUPE_OK);
    assert_int_equal(up, want_upgraded);
    free(msg);
}

static const char *const HEAD_TABLES[] = {"studies",
                                          "version_info",
                                          "study_directions",
                                          "study_user_attributes",
                                          "study_system_attributes",
                                          "trials",
                                          "trial_user_attributes",
                                          "trial_system_attributes",
                                          "trial_params",
                                          "trial_values",
                                          "trial_intermediate_values",
                                          "trial_heartbeats",
                                          "alembic_version"};

/* Every head table of path has the columns (name, type, NOT NULL, pk) of a fresh file. */
static void expect_head_columns(const char *path) {
    static char fresh[768];
    if (!fresh[0]) {
        tu_fresh_path(fresh, sizeof fresh, "reference-fresh.db");
        loupe_storage *s = tu_sqlite_open(fresh, 0);
        s->ops->close(s);
    }
    for (size_t i = 0; i < sizeof HEAD_TABLES / sizeof HEAD_TABLES[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT name, type, \"notnull\", pk FROM pragma_table_info('%s') ORDER BY cid",
                 HEAD_TABLES[i]);
        char *want = tu_sql_rows(fresh, sql);
        tu_sql_expect(path, sql, want);
        free(want);
    }
}

/* ------------------------------------------------------------ every asset */

typedef struct asset {
    const char *name;
    int multi; /* has multi_empty, multi and schema migration */
    double x;  /* the single trial's params and value */
    int y, z;
    double value;
} asset;

static const asset ASSETS[] = {
    {"0.9.0.a", 0, 4.904856166548656, 5, 5, 74.05761401453037},
    {"1.2.0.a", 0, -1.005166348197295, 2, 0, 5.010359387548286},
    {"1.3.0.a", 0, -3.122333768815162, 2, -5, 38.74896816388349},
    {"2.4.0.a", 1, -1.3269926083306585, 10, -5, 126.76090938256421},
    {"2.6.0.a", 1, 2.7017363397859837, 7, -5, 81.29937924972016},
    {"3.0.0.a", 1, -2.6232473399624845, 2, 0, 10.88142660662025},
    {"3.0.0.b", 1, 4.08511950490402, 2, 0, 20.68820136934726},
    {"3.0.0.c", 1, 2.0803047982367593, 7, 5, 78.32766805356688},
    {"3.0.0.d", 1, 1.932781531875345, 6, 5, 64.73564444995841},
    {"3.2.0.a", 1, -2.4602735870404024, 4, 5, 47.052946123088645},
};
#define N_ASSETS (sizeof ASSETS / sizeof ASSETS[0])

static const char SINGLE_DISTS[] =
    "x|{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": -5.0, \"high\": "
    "5.0, \"log\": false}}\n"
    "y|{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 1, \"low\": 0, "
    "\"high\": 10}}\n"
    "z|{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [-5, 0, 5]}}\n";

static const char MIGRATION_DISTS[] =
    "x1|{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": -5.0, "
    "\"high\": "
    "5.0, \"log\": false}}\n"
    "x2|{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": 1e-05, "
    "\"high\": 0.001, \"log\": true}}\n"
    "x3|{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": 2.0, \"low\": -6.0, \"high\": "
    "6.0, \"log\": false}}\n"
    "y1|{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 1, \"low\": 0, "
    "\"high\": 10}}\n"
    "y2|{\"name\": \"IntDistribution\", \"attributes\": {\"log\": true, \"step\": 1, \"low\": 1, "
    "\"high\": 20}}\n"
    "y3|{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 3, \"low\": 5, "
    "\"high\": 14}}\n"
    "z|{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [-5, 0, 5]}}\n";

static void check_attr(const loupe_attr *a, const char *key, const char *json) {
    assert_string_equal(a->key, key);
    assert_string_equal(a->json, json);
}

/* The contents Optuna's test_upgrade_* expect, read through the storage. */
static void check_contents(const char *path, const asset *as) {
    loupe_storage *s = tu_sqlite_open(path, 0);
    assert_string_equal(s->schema_revision, "v3.2.0.a");
    loupe_study_list *list = NULL;
    assert_int_equal(s->ops->list_studies(s, &list), LOUPE_OK);
    static const char *const names[] = {"single_empty", "single", "multi_empty", "multi",
                                        "schema migration"};
    size_t n = as->multi ? 5 : 2;
    assert_int_equal(loupe_study_list_count(list), n);
    for (size_t i = 0; i < n; i++) {
        const loupe_study_summary *sum = loupe_study_list_at(list, i);
        assert_int_equal(sum->study_id, (int64_t)i + 1);
        assert_string_equal(sum->name, names[i]);
        int multi = i == 2 || i == 3;
        assert_int_equal(sum->n_directions, multi ? 2 : 1);
        for (size_t k = 0; k < sum->n_directions; k++)
            assert_int_equal(sum->directions[k], LOUPE_MINIMIZE);
        assert_int_equal(sum->n_trials, i == 0 || i == 2 ? 0 : 1);
        if (i == 1 || i == 3) {
            assert_int_equal(sum->n_user_attrs, 1);
            check_attr(&sum->user_attrs[0], "d", "3");
            if (strcmp(as->name, "3.2.0.a") == 0) {
                assert_int_equal(sum->n_system_attrs, 0);
            } else {
                assert_int_equal(sum->n_system_attrs, 1);
                check_attr(&sum->system_attrs[0], "c", "2");
            }
        }
    }
    loupe_study_list_free(list);

    /* single: every field of its one trial */
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, 2, -1, 0, NULL, &v), LOUPE_OK);
    assert_int_equal(v.len, 1);
    const loupe_frozen_trial *t = &v.items[0]->t;
    assert_int_equal(t->trial_id, 1);
    assert_int_equal(t->number, 0);
    assert_int_equal(t->state, LOUPE_COMPLETE);
    assert_true(t->datetime_start_us > 0 && t->datetime_complete_us > t->datetime_start_us);
    assert_int_equal(t->n_params, 3);
    assert_string_equal(t->params[0].name, "x");
    assert_true(t->params[0].internal == as->x);
    assert_int_equal(t->params[0].dist.kind, LOUPE_DIST_FLOAT);
    assert_true(t->params[0].dist.low == -5 && t->params[0].dist.high == 5);
    assert_string_equal(t->params[1].name, "y");
    assert_true(t->params[1].internal == (double)as->y);
    assert_int_equal(t->params[1].dist.kind, LOUPE_DIST_INT);
    assert_string_equal(t->params[2].name, "z");
    assert_int_equal(t->params[2].dist.kind, LOUPE_DIST_CATEGORICAL);
    size_t zi = (size_t)t->params[2].internal;
    assert_int_equal(atoi(t->params[2].dist.choices[zi]), as->z);
    assert_int_equal(t->n_values, 1);
    assert_true(t->values[0] == as->value);
    assert_int_equal(t->n_intermediate, 1);
    assert_true(t->intermediate[0].step == 0 && t->intermediate[0].value == 0.5);
    assert_int_equal(t->n_user_attrs, 1);
    check_attr(&t->user_attrs[0], "b", "1");
    assert_int_equal(t->n_system_attrs, 1); /* _number became trials.number */
    check_attr(&t->system_attrs[0], "a", "0");
    loupe__rec_vec_clear(&v);
    tu_sql_expect(path,
             "SELECT param_name, distribution_json FROM trial_params WHERE trial_id = 1 ORDER BY "
             "param_id",
             SINGLE_DISTS);

    if (as->multi) {
        assert_int_equal(s->ops->read_trials(s, 4, -1, 0, NULL, &v), LOUPE_OK);
        assert_int_equal(v.len, 1);
        t = &v.items[0]->t;
        assert_int_equal(t->n_values, 2);
        assert_true(t->values[0] >= -5 && t->values[0] < 5);
        assert_true(t->values[1] >= 0 && t->values[1] <= 150);
        assert_int_equal(t->n_user_attrs, 1);
        check_attr(&t->user_attrs[0], "b", "1");
        assert_int_equal(t->n_system_attrs, 2);
        check_attr(&t->system_attrs[0], "nsga2:generation", "0");
        loupe__rec_vec_clear(&v);
        assert_int_equal(s->ops->read_trials(s, 5, -1, 0, NULL, &v), LOUPE_OK);
        assert_int_equal(v.len, 1);
        t = &v.items[0]->t;
        assert_int_equal(t->n_params, 7);
        static const loupe_dist_kind kinds[7] = {
            LOUPE_DIST_FLOAT, LOUPE_DIST_FLOAT, LOUPE_DIST_FLOAT,      LOUPE_DIST_INT,
            LOUPE_DIST_INT,   LOUPE_DIST_INT,   LOUPE_DIST_CATEGORICAL};
        for (int k = 0; k < 7; k++) assert_int_equal(t->params[k].dist.kind, kinds[k]);
        assert_int_equal(t->params[1].dist.log, 1);
        assert_int_equal(t->params[4].dist.log, 1);
        assert_true(t->params[2].dist.step == 2.0);
        assert_true(t->params[5].dist.step == 3.0 && t->params[5].dist.high == 14.0);
        loupe__rec_vec_clear(&v);
        tu_sql_expect(path,
                 "SELECT param_name, distribution_json FROM trial_params WHERE trial_id = 3 ORDER "
                 "BY param_id",
                 MIGRATION_DISTS);
    }
    loupe__rec_vec_free(&v);

    /* and it keeps working: one more trial in single, a new study */
    int64_t tid, num;
    assert_int_equal(s->ops->create_trial(s, 2, NULL, &tid, &num), LOUPE_OK);
    assert_int_equal(num, 1);
    loupe_param p = {"x", 1.5, {LOUPE_DIST_FLOAT, -5, 5, 0, 0, 0, NULL}};
    double val = 2.25;
    loupe__trial_update u;
    memset(&u, 0, sizeof u);
    u.trial_id = tid;
    u.n_params = 1;
    u.params = &p;
    u.set_state = 1;
    u.state = LOUPE_COMPLETE;
    u.n_values = 1;
    u.values = &val;
    assert_int_equal(s->ops->update_trial(s, &u, NULL), LOUPE_OK);
    loupe_direction d = LOUPE_MAXIMIZE;
    int64_t sid;
    assert_int_equal(s->ops->create_study(s, "after upgrade", 1, &d, &sid), LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, sid, NULL, &tid, &num), LOUPE_OK);
    assert_int_equal(num, 0);
    s->ops->close(s);
}

static void test_every_asset(void **state) {
    (void)state;
    for (size_t i = 0; i < N_ASSETS; i++) {
        const asset *as = &ASSETS[i];
        char rel[128], name[64], path[768];
        snprintf(rel, sizeof rel, "optuna-upgrade-assets/%s.db", as->name);
        snprintf(name, sizeof name, "up-%s.db", as->name);
        tu_copy_fixture(rel, name, path, sizeof path);
        int head = strcmp(as->name, "3.2.0.a") == 0;
        size_t len;
        char *before = tu_read_file(path, &len);
        int up = -1;
        char *msg;
        int rc = upgrade(path, &up, &msg);
        if (rc) fprintf(stderr, "upgrade of %s: %s\n", as->name, msg);
        assert_int_equal(rc, LOUPE_OK);
        if (head) {
            assert_int_equal(up, 0);
            assert_string_equal(msg, "This storage is up-to-date.");
            assert_true(tu_same_bytes(before, len, path));
        } else {
            assert_int_equal(up, 1);
            char want[64];
            snprintf(want, sizeof want, "Upgraded from v%s to v3.2.0.a", as->name);
            if (strncmp(msg, want, strlen(want)) != 0) {
                fprintf(stderr, "message: %s\n", msg);
                fail();
            }
        }
        free(msg);
        free(before);
        tu_sql_expect(path, "SELECT * FROM alembic_version", "v3.2.0.a\n");
        tu_sql_expect(path, "SELECT * FROM version_info",
                 head ? "1|12|3.2.0.a\n" : "1|12|loupe-" LOUPE_VERSION "\n");
        tu_sql_expect(path, "PRAGMA integrity_check", "ok\n");
        tu_sql_expect(path, "PRAGMA foreign_key_check", "");
        tu_sql_expect(path, "PRAGMA journal_mode", "delete\n");
        tu_sql_expect(
            path,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
            head ? "ix_studies_study_name\nix_trials_study_id\n"
                 : "ix_studies_study_name\ntrials_study_id_key\n");
        tu_sql_expect(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%loupe%'", "0\n");
        expect_head_columns(path);
        check_contents(path, as);
        /* a second upgrade is a no-op */
        before = tu_read_file(path, &len);
        upgrade_ok(path, 0);
        assert_true(tu_same_bytes(before, len, path));
        free(before);
    }
}

/* ------------------------------------------------------------ exactness */

/* Everything in a file except version_info, as text: schema entries and rows. */
static char *dump_without_version_info(const char *path) {
    char *schema =
        tu_sql_rows(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name");
    size_t cap = strlen(schema) + 1;
    char *out = malloc(cap);
    strcpy(out, schema);
    free(schema);
    for (size_t i = 0; i < sizeof HEAD_TABLES / sizeof HEAD_TABLES[0]; i++) {
        if (strcmp(HEAD_TABLES[i], "version_info") == 0) continue;
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT '%s', * FROM \"%s\" ORDER BY rowid", HEAD_TABLES[i],
                 HEAD_TABLES[i]);
        if (strcmp(HEAD_TABLES[i], "alembic_version") == 0)
            snprintf(sql, sizeof sql, "SELECT 'alembic_version'");
        char *rows = tu_sql_rows(path, sql);
        cap += strlen(rows);
        out = realloc(out, cap);
        strcat(out, rows);
        free(rows);
    }
    return out;
}

static void test_300d_exact(void **state) {
    (void)state;
    char path[768];
    tu_copy_fixture("optuna-upgrade-assets/3.0.0.d.db", "exact300d.db", path, sizeof path);
    char *before = dump_without_version_info(path);
    upgrade_ok(path, 1);
    char *after = dump_without_version_info(path);
    /* the only other change: one index, created last */
    const char *add =
        "index|trials_study_id_key|trials|CREATE INDEX trials_study_id_key ON trials (study_id)\n";
    char *at = strstr(after, add);
    assert_non_null(at);
    memmove(at, at + strlen(add), strlen(at + strlen(add)) + 1);
    assert_null(strstr(after, add));
    assert_string_equal(after, before);
    tu_sql_expect(path, "SELECT * FROM version_info", "1|12|loupe-" LOUPE_VERSION "\n");
    tu_sql_expect(path,
             "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid DESC LIMIT 1",
             "CREATE INDEX trials_study_id_key ON trials (study_id)\n");
    free(before);
    free(after);
}

/* Upgrading Optuna 3.1's file gives what Optuna 3.2's upgrade gave (the fixture pair). */
static void test_hitl_like_optuna(void **state) {
    (void)state;
    char mine[768], theirs[768];
    tu_copy_fixture("optuna-3.1-hitl.db", "hitl-up.db", mine, sizeof mine);
    tu_copy_fixture("optuna-hitl-v3.2.0.a.db", "hitl-ref.db", theirs, sizeof theirs);
    upgrade_ok(mine, 1);
    char *a = dump_without_version_info(mine);
    char *b = dump_without_version_info(theirs);
    assert_string_equal(a, b);
    free(a);
    free(b);
    static const char schema[] =
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid";
    a = tu_sql_rows(mine, schema);
    tu_sql_expect(theirs, schema, a);
    free(a);
}

/* ------------------------------------------------------------ data rules */

static void test_value_rules(void **state) {
    (void)state;
    char path[768];
    tu_copy_fixture("optuna-upgrade-assets/3.0.0.b.db", "rules.db", path, sizeof path);
    /* what Optuna < 3.0 wrote for infinities: float32 max; NULL meant NaN */
    tu_sql_exec(path,
      "UPDATE trial_intermediate_values SET intermediate_value = 3.4028234663852886e+38 WHERE "
      "trial_id = 1 AND step = 0;"
      "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value) VALUES "
      "(1, 1, NULL), (1, 2, -3.4028234663852886e+38), (1, 3, 2e16), (1, 4, 1e300), (1, 5, 0.25), "
      "(1, 6, 3.4028e38);"
      "UPDATE trial_values SET value = -3.4028234663852886e+38 WHERE trial_id = 2 AND objective = "
      "0;"
      "UPDATE trial_values SET value = 3.4e38 WHERE trial_id = 2 AND objective = 1;"
      "UPDATE trial_values SET value = 1e17 WHERE trial_id = 3;");
    upgrade_ok(path, 1);
    tu_sql_expect(path,
             "SELECT step, intermediate_value, intermediate_value_type FROM "
             "trial_intermediate_values WHERE trial_id = 1 ORDER BY step",
             "0|NULL|INF_POS\n1|NULL|NAN\n2|NULL|INF_NEG\n3|2.0e+16|FINITE\n4|1.0e+300|FINITE\n"
             "5|0.25|FINITE\n6|NULL|INF_POS\n");
    tu_sql_expect(
        path,
        "SELECT trial_id, objective, value, value_type FROM trial_values ORDER BY trial_value_id",
        "1|0|20.6882013693473|FINITE\n2|0|NULL|INF_NEG\n2|1|3.4e+38|FINITE\n3|0|1.0e+17|FINITE\n");
    loupe_storage *s = tu_sqlite_open(path, 0);
    loupe__trial_rec *r = NULL;
    assert_int_equal(s->ops->read_trial(s, 1, &r), LOUPE_OK);
    assert_int_equal(r->t.n_intermediate, 7);
    assert_true(isinf(r->t.intermediate[0].value) && r->t.intermediate[0].value > 0);
    assert_true(isnan(r->t.intermediate[1].value));
    assert_true(isinf(r->t.intermediate[2].value) && r->t.intermediate[2].value < 0);
    loupe__trial_rec_release(r);
    assert_int_equal(s->ops->read_trial(s, 2, &r), LOUPE_OK);
    assert_true(isinf(r->t.values[0]) && r->t.values[0] < 0);
    assert_true(r->t.values[1] == 3.4e38);
    loupe__trial_rec_release(r);
    s->ops->close(s);
}

/* A pre-2.4 file whose trial value is an infinity stored as float32 max. */
static void test_old_value_rules(void **state) {
    (void)state;
    char path[768];
    tu_copy_fixture("optuna-upgrade-assets/1.3.0.a.db", "rules13.db", path, sizeof path);
    tu_sql_exec(path, "UPDATE trials SET value = 3.4028234663852886e+38 WHERE trial_id = 1;"
            "UPDATE trial_values SET value = NULL WHERE trial_id = 1;"
            "INSERT INTO trials (number, study_id, state, value, datetime_start) VALUES "
            "(1, 2, 'RUNNING', NULL, '2021-09-01 12:30:00.000000');");
    upgrade_ok(path, 1);
    tu_sql_expect(path, "SELECT trial_id, objective, value, value_type FROM trial_values",
             "1|0|NULL|INF_POS\n");
    tu_sql_expect(path,
             "SELECT trial_id, step, intermediate_value, intermediate_value_type FROM "
             "trial_intermediate_values",
             "1|0|NULL|NAN\n");
    tu_sql_expect(path, "SELECT trial_id, number, state FROM trials ORDER BY trial_id",
             "1|0|COMPLETE\n2|1|RUNNING\n");
}

/* ------------------------------------------------------------ refusals */

static void expect_refused(const char *path, int code, const char *needle) {
    size_t len;
    char *before = tu_read_file(path, &len);
    int up = -1;
    char *msg;
    assert_int_equal(upgrade(path, &up, &msg), code);
    assert_int_equal(up, 0);
    if (needle && !strstr(msg, needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", msg, needle);
        fail();
    }
    free(msg);
    assert_true(tu_same_bytes(before, len, path));
    free(before);
}

static void test_refusals(void **state) {
    (void)state;
    char path[768];
    tu_fresh_path(path, sizeof path, "absent.db");
    int up = -1;
    char *msg;
    assert_int_equal(upgrade(path, &up, &msg), LOUPE_EIO);
    assert_non_null(strstr(msg, "absent.db"));
    free(msg);
    assert_int_not_equal(access(path, F_OK), 0); /* not created */

    FILE *f = fopen(path, "wb");
    fclose(f);
    expect_refused(path, LOUPE_ECORRUPT, "empty");

    tu_fresh_path(path, sizeof path, "noise.db");
    f = fopen(path, "wb");
    for (int i = 0; i < 5000; i++) fputc((i * 7919) & 0xff, f);
    fclose(f);
    expect_refused(path, LOUPE_ECORRUPT, "not an SQLite database");

    tu_fresh_path(path, sizeof path, "other.db");
    tu_sql_exec(path, "CREATE TABLE t (a)");
    expect_refused(path, LOUPE_ECORRUPT, "not an Optuna storage");

    tu_copy_fixture("optuna-upgrade-assets/3.0.0.d.db", "trunc.db", path, sizeof path);
    assert_int_equal(truncate(path, 40000), 0);
    expect_refused(path, LOUPE_ECORRUPT, "damaged");

    tu_copy_fixture("optuna-upgrade-assets/3.2.0.a.db", "newer.db", path, sizeof path);
    tu_sql_exec(path, "UPDATE alembic_version SET version_num = 'v4.0.0.a'");
    expect_refused(path, LOUPE_ESCHEMA, "newer Optuna");

    /* Optuna's v3.0.0.b refuses a COMPLETE trial without a value; all is rolled back */
    tu_copy_fixture("optuna-upgrade-assets/1.3.0.a.db", "novalue.db", path, sizeof path);
    tu_sql_exec(path, "UPDATE trials SET value = NULL");
    expect_refused(path, LOUPE_ECORRUPT, "COMPLETE");
    tu_copy_fixture("optuna-upgrade-assets/3.0.0.a.db", "novalue3.db", path, sizeof path);
    tu_sql_exec(path,
      "CREATE TABLE tv AS SELECT * FROM trial_values; DROP TABLE trial_values;"
      "CREATE TABLE trial_values (trial_value_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, "
      "objective INTEGER NOT NULL, value FLOAT, PRIMARY KEY (trial_value_id));"
      "INSERT INTO trial_values SELECT * FROM tv; DROP TABLE tv;"
      "UPDATE trial_values SET value = NULL WHERE trial_id = 3");
    expect_refused(path, LOUPE_ECORRUPT, "trial_id 3");
    /* a legacy distribution Optuna cannot convert */
    tu_copy_fixture("optuna-upgrade-assets/2.6.0.a.db", "baddist.db", path, sizeof path);
    tu_sql_exec(path, "UPDATE trial_params SET distribution_json = '{\"name\": \"UniformDistribution\", "
            "\"attributes\": {\"low\": 5.0, \"high\": -5.0}}' WHERE param_id = 7");
    expect_refused(path, LOUPE_ECORRUPT, "trial_params row 7");

    /* a fresh loupe file is up to date */
    tu_fresh_path(path, sizeof path, "fresh-up.db");
    loupe_storage *s = tu_sqlite_open(path, 0);
    s->ops->close(s);
    size_t len;
    char *before = tu_read_file(path, &len);
    assert_int_equal(upgrade(path, &up, &msg), LOUPE_OK);
    assert_string_equal(msg, "This storage is up-to-date.");
    assert_int_equal(up, 0);
    free(msg);
    assert_true(tu_same_bytes(before, len, path));
    free(before);
    /* message may be NULL */
    assert_int_equal(loupe__sqlite_storage_upgrade(path, NULL, NULL), LOUPE_OK);
}

/* A file without an alembic stamp (not what Optuna leaves, but seen in the wild
 * after manual edits): open says so, upgrade infers the revision from the columns. */
static void test_unstamped(void **state) {
    (void)state;
    char path[768];
    tu_copy_fixture("optuna-upgrade-assets/2.6.0.a.db", "unstamped.db", path, sizeof path);
    tu_sql_exec(path, "DROP TABLE alembic_version");
    loupe_storage *s = NULL;
    assert_int_equal(loupe__sqlite_storage_open(path, 0, &s), LOUPE_ESCHEMA);
    assert_non_null(strstr(s->errmsg, "loupe storage upgrade"));
    s->ops->close(s);
    upgrade_ok(path, 1);
    expect_head_columns(path);
    check_contents(path, &ASSETS[4]);
}

/* ------------------------------------------------------------ Python reads the result */

/* Optuna's own test_upgrade_* checks, run by Optuna 3.1 on loupe's result. */
static const char PY_CHECK[] =
    "import sys, warnings, optuna\n"
    "warnings.simplefilter('ignore')\n"
    "optuna.logging.set_verbosity(optuna.logging.ERROR)\n"
    "s = optuna.storages.RDBStorage(sys.argv[1], skip_compatibility_check=True)\n"
    "names = [x.study_name for x in optuna.get_all_study_summaries(s)]\n"
    "def obj(t):\n"
    "    x = t.suggest_float('x', -5, 5); y = t.suggest_int('y', 0, 10)\n"
    "    z = t.suggest_categorical('z', (-5, 0, 5)); t.set_user_attr('b', 1)\n"
    "    return x ** 2 + y ** 2 + z ** 2\n"
    "def mo(t):\n"
    "    v = obj(t); return t.params['x'], v\n"
    "st = optuna.load_study(study_name='single_empty', storage=s)\n"
    "assert len(st.trials) == 0\n"
    "st.optimize(obj, n_trials=1)\n"
    "st = optuna.load_study(study_name='single', storage=s)\n"
    "assert len(st.trials) == 1\n"
    "t = st.trials[0]\n"
    "assert t.user_attrs == {'b': 1} and t.intermediate_values == {0: 0.5}, t\n"
    "assert t.system_attrs == {'a': 0}, t.system_attrs\n"
    "assert -5 <= t.params['x'] <= 5 and 0 <= t.params['y'] <= 10 and t.params['z'] in (-5, 0, 5)\n"
    "assert 0 <= t.value <= 150\n"
    "assert st.user_attrs == {'d': 3}\n"
    "st.optimize(obj, n_trials=1)\n"
    "assert len(st.trials) == 2\n"
    "if 'multi' in names:\n"
    "    m = optuna.load_study(study_name='multi', storage=s)\n"
    "    assert len(m.directions) == 2 and m.user_attrs == {'d': 3}\n"
    "    mt = m.trials[0]\n"
    "    assert mt.user_attrs == {'b': 1} and -5 <= mt.values[0] < 5 and 0 <= mt.values[1] <= 150\n"
    "    m.optimize(mo, n_trials=1)\n"
    "    sm = optuna.load_study(study_name='schema migration', storage=s)\n"
    "    d = sm.trials[0].distributions\n"
    "    D = optuna.distributions\n"
    "    for k in ('x1', 'x2', 'x3'): assert isinstance(d[k], D.FloatDistribution), d\n"
    "    for k in ('y1', 'y2', 'y3'): assert isinstance(d[k], D.IntDistribution), d\n"
    "    assert isinstance(d['z'], D.CategoricalDistribution)\n"
    "    assert d['x2'].log and d['y2'].log and d['x3'].step == 2 and d['y3'].high == 14\n"
    "new = optuna.create_study(storage=s)\n"
    "new.optimize(obj, n_trials=1)\n"
    "print('ok')\n";

static void test_python_reads_upgraded(void **state) {
    (void)state;
    const char *py = tu_python_with_optuna();
    if (!py) {
        fprintf(stderr, "python3 with optuna not found; skipping\n");
        skip();
    }
    char script[768];
    tu_path(script, sizeof script, "check_upgrade.py");
    FILE *f = fopen(script, "w");
    fputs(PY_CHECK, f);
    fclose(f);
    static const char *const which[] = {"0.9.0.a", "1.3.0.a", "2.4.0.a", "3.0.0.c", "3.0.0.d"};
    for (size_t i = 0; i < sizeof which / sizeof which[0]; i++) {
        char rel[128], name[64], path[768], cmd[2000];
        snprintf(rel, sizeof rel, "optuna-upgrade-assets/%s.db", which[i]);
        snprintf(name, sizeof name, "py-%s.db", which[i]);
        tu_copy_fixture(rel, name, path, sizeof path);
        upgrade_ok(path, 1);
        snprintf(cmd, sizeof cmd, "%s %s sqlite:///%s", py, script, path);
        if (system(cmd) != 0) {
            fprintf(stderr, "Python Optuna could not use the upgraded %s\n", which[i]);
            fail();
        }
        /* loupe still opens what Python wrote */
        loupe_storage *s = tu_sqlite_open(path, 0);
        loupe_study_list *list = NULL;
        assert_int_equal(s->ops->list_studies(s, &list), LOUPE_OK);
        loupe_study_list_free(list);
        s->ops->close(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_asset),      cmocka_unit_test(test_300d_exact),
        cmocka_unit_test(test_hitl_like_optuna), cmocka_unit_test(test_value_rules),
        cmocka_unit_test(test_old_value_rules),  cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_unstamped),        cmocka_unit_test(test_python_reads_upgraded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
