/*
 * test_sqlite_storage.c -- the SQLite storage through its vtable (storage.h):
 * the exact Optuna DDL of a fresh file, every op with its error paths, Optuna's
 * value encodings as stored rows, incremental reads, refusal of damaged,
 * foreign and old files without touching them, the Optuna 3.1 fixture read
 * with LOUPE_OPEN_SKIP_SCHEMA_CHECK, several processes writing one file, and
 * Python Optuna reading what loupe wrote (skipped without python3-optuna).
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/trial_rec.h"
#include "storage/storage.h"
#include "storage_testutil.h"
#include "testutil.h"
#include "util/timeutil.h"

/* ------------------------------------------------------------ helpers */

static const char *const ABC[] = {"\"a\"", "\"b\"", "\"c\""};
static const char *const CBA[] = {"\"c\"", "\"b\"", "\"a\""};

static loupe_storage *open_fresh(const char *name, char *path, size_t cap) {
    tu_fresh_path(path, cap, name);
    return tu_sqlite_open(path, 0);
}

static int update(loupe_storage *s, const loupe__trial_update *u) {
    int changed = -1;
    return s->ops->update_trial(s, u, &changed);
}

/* ------------------------------------------------------------ fresh schema */

static const char EXPECTED_DDL[] =
    "CREATE TABLE studies (\n"
    "\tstudy_id INTEGER NOT NULL, \n"
    "\tstudy_name VARCHAR(512) NOT NULL, \n"
    "\tPRIMARY KEY (study_id)\n"
    ");\n"
    "CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);\n"
    "CREATE TABLE version_info (\n"
    "\tversion_info_id INTEGER NOT NULL, \n"
    "\tschema_version INTEGER, \n"
    "\tlibrary_version VARCHAR(256), \n"
    "\tPRIMARY KEY (version_info_id), \n"
    "\tCHECK (version_info_id=1)\n"
    ");\n"
    "CREATE TABLE study_directions (\n"
    "\tstudy_direction_id INTEGER NOT NULL, \n"
    "\tdirection VARCHAR(8) NOT NULL, \n"
    "\tstudy_id INTEGER NOT NULL, \n"
    "\tobjective INTEGER NOT NULL, \n"
    "\tPRIMARY KEY (study_direction_id), \n"
    "\tUNIQUE (study_id, objective), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ");\n"
    "CREATE TABLE study_user_attributes (\n"
    "\tstudy_user_attribute_id INTEGER NOT NULL, \n"
    "\tstudy_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (study_user_attribute_id), \n"
    "\tUNIQUE (study_id, \"key\"), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ");\n"
    "CREATE TABLE study_system_attributes (\n"
    "\tstudy_system_attribute_id INTEGER NOT NULL, \n"
    "\tstudy_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (study_system_attribute_id), \n"
    "\tUNIQUE (study_id, \"key\"), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ");\n"
    "CREATE TABLE trials (\n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\tnumber INTEGER, \n"
    "\tstudy_id INTEGER, \n"
    "\tstate VARCHAR(8) NOT NULL, \n"
    "\tdatetime_start DATETIME, \n"
    "\tdatetime_complete DATETIME, \n"
    "\tPRIMARY KEY (trial_id), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ");\n"
    "CREATE INDEX ix_trials_study_id ON trials (study_id);\n"
    "CREATE TABLE trial_user_attributes (\n"
    "\ttrial_user_attribute_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (trial_user_attribute_id), \n"
    "\tUNIQUE (trial_id, \"key\"), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_system_attributes (\n"
    "\ttrial_system_attribute_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (trial_system_attribute_id), \n"
    "\tUNIQUE (trial_id, \"key\"), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_params (\n"
    "\tparam_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\tparam_name VARCHAR(512), \n"
    "\tparam_value FLOAT, \n"
    "\tdistribution_json TEXT, \n"
    "\tPRIMARY KEY (param_id), \n"
    "\tUNIQUE (trial_id, param_name), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_values (\n"
    "\ttrial_value_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\tobjective INTEGER NOT NULL, \n"
    "\tvalue FLOAT, \n"
    "\tvalue_type VARCHAR(7) NOT NULL, \n"
    "\tPRIMARY KEY (trial_value_id), \n"
    "\tUNIQUE (trial_id, objective), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_intermediate_values (\n"
    "\ttrial_intermediate_value_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\tstep INTEGER NOT NULL, \n"
    "\tintermediate_value FLOAT, \n"
    "\tintermediate_value_type VARCHAR(7) NOT NULL, \n"
    "\tPRIMARY KEY (trial_intermediate_value_id), \n"
    "\tUNIQUE (trial_id, step), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_heartbeats (\n"
    "\ttrial_heartbeat_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\theartbeat DATETIME NOT NULL, \n"
    "\tPRIMARY KEY (trial_heartbeat_id), \n"
    "\tUNIQUE (trial_id), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE alembic_version (\n"
    "\tversion_num VARCHAR(32) NOT NULL, \n"
    "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n"
    ");\n";

/* The schema as `sqlite3 FILE .schema` prints it. */
static const char SCHEMA_SQL[] =
    "SELECT sql || ';' FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid";

static void test_fresh_schema(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("fresh.db", path, sizeof path);
    assert_string_equal(s->schema_revision, "v3.2.0.a");
    assert_int_equal(s->read_only, 0);
    s->ops->close(s);
    tu_sql_expect(path, SCHEMA_SQL, EXPECTED_DDL);
    tu_sql_expect(path, "SELECT * FROM version_info", "1|12|loupe-" LOUPE_VERSION "\n");
    tu_sql_expect(path, "SELECT * FROM alembic_version", "v3.2.0.a\n");
    tu_sql_expect(path, "PRAGMA journal_mode", "delete\n");
    tu_sql_expect(path, "PRAGMA integrity_check", "ok\n");

    /* byte-identical to what Optuna 5 creates (the 3.2.0.a asset) */
    char asset[768];
    tu_copy_fixture("optuna-upgrade-assets/3.2.0.a.db", "asset320.db", asset, sizeof asset);
    tu_sql_expect(asset, SCHEMA_SQL, EXPECTED_DDL);

    /* reopening an existing fresh file changes nothing */
    size_t len;
    char *before = tu_read_file(path, &len);
    s = tu_sqlite_open(path, 0);
    s->ops->close(s);
    assert_true(tu_same_bytes(before, len, path));
    free(before);

    /* a 0-byte file is a new storage too */
    char empty[768];
    tu_fresh_path(empty, sizeof empty, "empty.db");
    FILE *f = fopen(empty, "wb");
    fclose(f);
    s = tu_sqlite_open(empty, 0);
    s->ops->close(s);
    tu_sql_expect(empty, SCHEMA_SQL, EXPECTED_DDL);

    /* a missing directory is an I/O error that says so */
    char bad[800];
    snprintf(bad, sizeof bad, "%s/no-such-dir/x.db", tu_tmpdir());
    s = NULL;
    assert_int_equal(loupe__sqlite_storage_open(bad, 0, &s), LOUPE_EIO);
    assert_non_null(strstr(s->errmsg, "directory"));
    s->ops->close(s);
    /* a directory is not a file */
    s = NULL;
    assert_int_equal(loupe__sqlite_storage_open(tu_tmpdir(), 0, &s), LOUPE_EIO);
    s->ops->close(s);
}

/* ------------------------------------------------------------ studies */

static void test_studies(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("studies.db", path, sizeof path);
    loupe_direction dirs[2] = {LOUPE_MAXIMIZE, LOUPE_MINIMIZE};
    int64_t a = -1, b = -1, c = -1;
    assert_int_equal(s->ops->create_study(s, "alpha", 2, dirs, &a), LOUPE_OK);
    assert_int_equal(s->ops->create_study(s, "beta", 1, dirs + 1, &b), LOUPE_OK);
    assert_int_equal(s->ops->create_study(s, "gamma", 1, dirs, &c), LOUPE_OK);
    assert_true(a != b && b != c && a != c);
    int64_t other;
    assert_int_equal(s->ops->create_study(s, "alpha", 1, dirs, &other), LOUPE_EEXISTS);
    assert_string_equal(s->errmsg, "A study with name 'alpha' already exists");
    assert_int_equal(s->ops->create_study(s, "", 1, dirs, &other), LOUPE_EINVAL);
    loupe_direction bogus = (loupe_direction)7;
    assert_int_equal(s->ops->create_study(s, "delta", 1, &bogus, &other), LOUPE_EINVAL);
    tu_sql_expect(path,
             "SELECT study_direction_id, direction, study_id, objective FROM study_directions",
             "1|MAXIMIZE|1|0\n2|MINIMIZE|1|1\n3|MINIMIZE|2|0\n4|MAXIMIZE|3|0\n");

    int64_t found = -1;
    assert_int_equal(s->ops->find_study(s, "beta", &found), LOUPE_OK);
    assert_int_equal(found, b);
    assert_int_equal(s->ops->find_study(s, "nope", &found), LOUPE_ENOTFOUND);
    assert_non_null(strstr(s->errmsg, "nope"));

    /* attributes: stored as given, overwritten in place, user and system apart */
    loupe_attr ua[3] = {
        {"owner", "\"alice\""}, {"emoji", "\"Good \\ud83d\\udc4d\""}, {"n", "null"}};
    assert_int_equal(s->ops->set_study_attrs(s, a, 0, 3, ua, NULL), LOUPE_OK);
    loupe_attr ua2 = {"owner", "{\"a\": [1, 2.5, null, true]}"};
    assert_int_equal(s->ops->set_study_attrs(s, a, 0, 1, &ua2, NULL), LOUPE_OK);
    loupe_attr sa[2] = {{"study:metric_names", "[\"loss\", \"acc\"]"}, {"x", "NaN"}};
    assert_int_equal(s->ops->set_study_attrs(s, a, 1, 2, sa, NULL), LOUPE_OK);
    assert_int_equal(s->ops->set_study_attrs(s, 999, 0, 1, ua, NULL), LOUPE_ENOTFOUND);
    loupe_attr nokey = {NULL, "1"};
    assert_int_equal(s->ops->set_study_attrs(s, a, 0, 1, &nokey, NULL), LOUPE_EINVAL);
    tu_sql_expect(path, "SELECT study_id, key, value_json FROM study_user_attributes ORDER BY 1, rowid",
             "1|owner|{\"a\": [1, 2.5, null, true]}\n1|emoji|\"Good \\ud83d\\udc4d\"\n1|n|null\n");
    tu_sql_expect(path, "SELECT study_id, key, value_json FROM study_system_attributes",
             "1|study:metric_names|[\"loss\", \"acc\"]\n1|x|NaN\n");

    loupe__study_info info;
    memset(&info, 0, sizeof info);
    assert_int_equal(s->ops->get_study(s, a, &info), LOUPE_OK);
    assert_int_equal(info.study_id, a);
    assert_string_equal(info.name, "alpha");
    assert_int_equal(info.n_directions, 2);
    assert_int_equal(info.directions[0], LOUPE_MAXIMIZE);
    assert_int_equal(info.directions[1], LOUPE_MINIMIZE);
    assert_int_equal(info.n_user_attrs, 3);
    assert_string_equal(info.user_attrs[0].key, "owner");
    assert_string_equal(info.user_attrs[0].json, "{\"a\": [1, 2.5, null, true]}");
    assert_string_equal(info.user_attrs[1].json, "\"Good \\ud83d\\udc4d\"");
    assert_int_equal(info.n_system_attrs, 2);
    assert_string_equal(info.system_attrs[1].json, "NaN");
    loupe__study_info_free(&info);
    assert_int_equal(s->ops->get_study(s, 12345, &info), LOUPE_ENOTFOUND);

    /* list: per study directions, attrs, trial counts and the earliest start */
    loupe__trial_rec *tmpl = loupe__trial_rec_new();
    tmpl->t.state = LOUPE_COMPLETE;
    tmpl->t.datetime_start_us = 1661990400000000LL; /* 2022-09-01 00:00:00 UTC */
    tmpl->t.datetime_complete_us = 1661990401000000LL;
    double v = 1.0;
    assert_int_equal(loupe__trial_rec_set_values(tmpl, 1, &v), LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, b, &tmpl->t, NULL, NULL), LOUPE_OK);
    tu_mk_trial(s, b, NULL);
    loupe__trial_rec_release(tmpl);
    loupe_study_list *list = NULL;
    assert_int_equal(s->ops->list_studies(s, &list), LOUPE_OK);
    assert_int_equal(loupe_study_list_count(list), 3);
    const loupe_study_summary *sum = loupe_study_list_at(list, 0);
    assert_string_equal(sum->name, "alpha");
    assert_int_equal(sum->n_directions, 2);
    assert_int_equal(sum->n_user_attrs, 3);
    assert_int_equal(sum->n_system_attrs, 2);
    assert_int_equal(sum->n_trials, 0);
    assert_int_equal(sum->datetime_start_us, -1);
    sum = loupe_study_list_at(list, 1);
    assert_string_equal(sum->name, "beta");
    assert_int_equal(sum->n_trials, 2);
    assert_int_equal(sum->datetime_start_us, 1661990400000000LL);
    /* the same listing without the trial aggregates (what the dashboard polls) */
    tu_expect_heads_match(s, list);
    loupe_study_list_free(list);

    /* delete the middle study: every child row goes, the others stay */
    loupe_attr tattr = {"k", "1"};
    int64_t t1 = tu_mk_trial(s, b, NULL);
    loupe_intermediate iv = {0, 0.5};
    loupe_param p = {"x", 0.5, tu_float_dist(0, 1, 0, 0)};
    loupe__trial_update u = {.trial_id = t1, .n_user_attrs = 1, .user_attrs = &tattr,
        .n_system_attrs = 1, .system_attrs = &tattr, .n_intermediate = 1, .intermediate = &iv,
        .n_params = 1, .params = &p};
    assert_int_equal(update(s, &u), LOUPE_OK);
    char hb[200];
    snprintf(
        hb, sizeof hb,
        "INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (%lld, '2026-01-01 00:00:00')",
        (long long)t1);
    tu_sql_exec(path, hb);
    loupe_attr sattr = {"s", "2"};
    assert_int_equal(s->ops->set_study_attrs(s, b, 0, 1, &sattr, NULL), LOUPE_OK);
    assert_int_equal(s->ops->set_study_attrs(s, b, 1, 1, &sattr, NULL), LOUPE_OK);
    int64_t ta = tu_mk_trial(s, a, NULL);
    assert_int_equal(s->ops->delete_study(s, b), LOUPE_OK);
    tu_sql_expect(path,
             "SELECT (SELECT count(*) FROM trials WHERE study_id=2), (SELECT count(*) FROM "
             "trial_params), (SELECT count(*) FROM trial_values), (SELECT count(*) FROM "
             "trial_intermediate_values), (SELECT count(*) FROM trial_user_attributes), (SELECT "
             "count(*) FROM trial_system_attributes), (SELECT count(*) FROM trial_heartbeats), "
             "(SELECT count(*) FROM study_directions WHERE study_id=2), (SELECT count(*) FROM "
             "study_user_attributes WHERE study_id=2), (SELECT count(*) FROM "
             "study_system_attributes WHERE study_id=2), (SELECT count(*) FROM studies)",
             "0|0|0|0|0|0|0|0|0|0|2\n");
    assert_int_equal(s->ops->delete_study(s, b), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->find_study(s, "beta", &found), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->find_study(s, "gamma", &found), LOUPE_OK);
    assert_int_equal(found, c);
    loupe__trial_rec *r = tu_read_trial(s, ta);
    assert_int_equal(r->t.number, 0);
    loupe__trial_rec_release(r);
    /* the name is free again */
    assert_int_equal(s->ops->create_study(s, "beta", 1, dirs, &other), LOUPE_OK);
    s->ops->close(s);
}

/* ------------------------------------------------------------ trials */

static void test_numbers_dense(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("numbers.db", path, sizeof path);
    int64_t a = tu_mk_study(s, "a"), b = tu_mk_study(s, "b");
    int64_t ids[20];
    for (int i = 0; i < 20; i++) {
        int64_t n = -1;
        ids[i] = tu_mk_trial(s, i % 3 == 0 ? b : a, &n);
        assert_true(n >= 0);
    }
    tu_sql_expect(path,
             "SELECT study_id, group_concat(number, ',') FROM (SELECT study_id, number FROM trials "
             "ORDER BY trial_id) GROUP BY study_id",
             "1|0,1,2,3,4,5,6,7,8,9,10,11,12\n2|0,1,2,3,4,5,6\n");
    int64_t tid;
    assert_int_equal(s->ops->trial_id_by_number(s, b, 6, &tid), LOUPE_OK);
    assert_int_equal(tid, ids[18]);
    assert_int_equal(s->ops->trial_id_by_number(s, b, 7, &tid), LOUPE_ENOTFOUND);
    /* unknown studies and trials, and a fresh trial as read back:
     * test_storage_contract.c's test_trial_ids_numbers on every backend */

    /* a fresh trial's start as stored: UTC, 6 fractional digits */
    tu_mk_trial(s, a, NULL);
    char *dt = tu_sql_rows(
        path,
        "SELECT datetime_start, length(datetime_start) FROM trials ORDER BY trial_id DESC LIMIT 1");
    assert_int_equal(strlen(dt), 30);
    assert_true(dt[4] == '-' && dt[10] == ' ' && dt[19] == '.');
    assert_string_equal(dt + 26, "|26\n");
    free(dt);
    s->ops->close(s);
}

static void test_update_and_encodings(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("update.db", path, sizeof path);
    loupe_direction dirs[3] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE, LOUPE_MINIMIZE};
    int64_t st;
    assert_int_equal(s->ops->create_study(s, "enc", 3, dirs, &st), LOUPE_OK);
    int64_t t = tu_mk_trial(s, st, NULL);

    loupe_param params[3] = {{"b", 0.25, tu_float_dist(-1, 1, 0.25, 0)},
                             {"a", 4, tu_int_dist(1, 1024, 1, 1)},
                             {"c", 2, tu_cat_dist(3, ABC)}};
    loupe_attr uattrs[2] = {{"note", "\"caf\\u00e9 \\ud83d\\udc4d\""}, {"inf", "Infinity"}};
    loupe_attr sattrs[1] = {{"fixed_params", "{\"x\": 1}"}};
    loupe_intermediate inter[4] = {{3, NAN}, {1, INFINITY}, {2, -INFINITY}, {0, 0.5}};
    loupe__trial_update u = {.trial_id = t, .n_params = 3, .params = params, .n_user_attrs = 2,
        .user_attrs = uattrs, .n_system_attrs = 1, .system_attrs = sattrs, .n_intermediate = 4,
        .intermediate = inter};
    int changed = -1;
    assert_int_equal(s->ops->update_trial(s, &u, &changed), LOUPE_OK);
    assert_int_equal(changed, 0);
    /* overwrite step 0 and an attribute */
    loupe_intermediate again = {0, 0.75};
    loupe_attr uagain = {"inf", "-Infinity"};
    u = (loupe__trial_update){.trial_id = t, .n_intermediate = 1, .intermediate = &again,
        .n_user_attrs = 1, .user_attrs = &uagain};
    assert_int_equal(update(s, &u), LOUPE_OK);

    tu_sql_expect(
        path, "SELECT param_id, param_name, param_value, distribution_json FROM trial_params",
        "1|b|0.25|{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": 0.25, \"low\": "
        "-1.0, \"high\": 1.0, \"log\": false}}\n"
        "2|a|4.0|{\"name\": \"IntDistribution\", \"attributes\": {\"log\": true, \"step\": 1, "
        "\"low\": 1, \"high\": 1024}}\n"
        "3|c|2.0|{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [\"a\", "
        "\"b\", \"c\"]}}\n");
    tu_sql_expect(path, "SELECT typeof(param_value) FROM trial_params LIMIT 1", "real\n");
    tu_sql_expect(path,
             "SELECT step, intermediate_value, intermediate_value_type FROM "
             "trial_intermediate_values ORDER BY step",
             "0|0.75|FINITE\n1|NULL|INF_POS\n2|NULL|INF_NEG\n3|NULL|NAN\n");
    tu_sql_expect(path, "SELECT key, value_json FROM trial_user_attributes",
             "note|\"caf\\u00e9 \\ud83d\\udc4d\"\ninf|-Infinity\n");

    /* complete with +inf, -inf and a finite value */
    double vals[3] = {INFINITY, -INFINITY, -2.5};
    u = (loupe__trial_update){.trial_id = t, .set_state = 1, .state = LOUPE_COMPLETE,
        .n_values = 3, .values = vals};
    int64_t before = loupe__now_us();
    assert_int_equal(s->ops->update_trial(s, &u, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    tu_sql_expect(path, "SELECT objective, value, value_type FROM trial_values ORDER BY objective",
             "0|NULL|INF_POS\n1|NULL|INF_NEG\n2|-2.5|FINITE\n");
    tu_sql_expect(path, "SELECT state, length(datetime_complete) FROM trials", "COMPLETE|26\n");

    loupe__trial_rec *r = tu_read_trial(s, t);
    assert_int_equal(r->t.state, LOUPE_COMPLETE);
    assert_true(r->t.datetime_complete_us >= before - 1);
    assert_int_equal(r->t.n_values, 3);
    assert_true(isinf(r->t.values[0]) && r->t.values[0] > 0);
    assert_true(isinf(r->t.values[1]) && r->t.values[1] < 0);
    assert_true(r->t.values[2] == -2.5);
    assert_int_equal(r->t.n_params, 3);
    assert_string_equal(r->t.params[0].name, "b"); /* suggestion order, not name order */
    assert_string_equal(r->t.params[1].name, "a");
    assert_string_equal(r->t.params[2].name, "c");
    assert_int_equal(r->t.params[0].dist.kind, LOUPE_DIST_FLOAT);
    assert_true(r->t.params[0].dist.step == 0.25 && r->t.params[0].dist.low == -1.0);
    assert_int_equal(r->t.params[1].dist.kind, LOUPE_DIST_INT);
    assert_int_equal(r->t.params[1].dist.log, 1);
    assert_true(r->t.params[1].internal == 4.0);
    assert_int_equal(r->t.params[2].dist.n_choices, 3);
    assert_string_equal(r->t.params[2].dist.choices[2], "\"c\"");
    assert_int_equal(r->t.n_intermediate, 4);
    assert_true(r->t.intermediate[0].step == 0 && r->t.intermediate[0].value == 0.75);
    assert_true(isinf(r->t.intermediate[1].value) && r->t.intermediate[1].value > 0);
    assert_true(isinf(r->t.intermediate[2].value) && r->t.intermediate[2].value < 0);
    assert_true(isnan(r->t.intermediate[3].value));
    assert_int_equal(r->t.n_user_attrs, 2);
    assert_string_equal(r->t.user_attrs[1].json, "-Infinity");
    assert_int_equal(r->t.n_system_attrs, 1);
    assert_string_equal(r->t.system_attrs[0].json, "{\"x\": 1}");
    loupe__trial_rec_release(r);

    /* a finished trial refuses every write, before the distribution check, writing nothing */
    size_t len;
    char *snap = tu_read_file(path, &len);
    loupe_param clash = {"b", 1, tu_int_dist(0, 3, 1, 0)};
    u = (loupe__trial_update){.trial_id = t, .n_params = 1, .params = &clash};
    assert_int_equal(update(s, &u), LOUPE_EFINISHED);
    assert_string_equal(s->errmsg, "Trial#0 has already finished and can not be updated.");
    u = (loupe__trial_update){.trial_id = t, .set_state = 1, .state = LOUPE_RUNNING};
    assert_int_equal(update(s, &u), LOUPE_EFINISHED);
    u = (loupe__trial_update){.trial_id = 777, .n_user_attrs = 1, .user_attrs = uattrs};
    assert_int_equal(update(s, &u), LOUPE_ENOTFOUND);
    assert_true(tu_same_bytes(snap, len, path));
    free(snap);

    /* invalid updates are refused up front */
    int64_t t2 = tu_mk_trial(s, st, NULL);
    double nan_v = NAN;
    u = (loupe__trial_update){.trial_id = t2, .set_state = 1, .state = LOUPE_COMPLETE,
        .n_values = 1, .values = &nan_v};
    assert_int_equal(update(s, &u), LOUPE_EINVAL);
    u = (loupe__trial_update){.trial_id = t2, .n_values = 1, .values = vals};
    assert_int_equal(update(s, &u), LOUPE_EINVAL);
    u = (loupe__trial_update){.trial_id = t2, .set_state = 1, .state = (loupe_trial_state)9};
    assert_int_equal(update(s, &u), LOUPE_EINVAL);

    /* RUNNING on a RUNNING trial: values written, state and start unchanged */
    r = tu_read_trial(s, t2);
    int64_t start = r->t.datetime_start_us;
    loupe__trial_rec_release(r);
    double one = 1.0;
    u = (loupe__trial_update){.trial_id = t2, .set_state = 1, .state = LOUPE_RUNNING,
        .n_values = 1, .values = &one};
    assert_int_equal(s->ops->update_trial(s, &u, &changed), LOUPE_OK);
    assert_int_equal(changed, 0);
    r = tu_read_trial(s, t2);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_int_equal(r->t.datetime_start_us, start);
    assert_int_equal(r->t.n_values, 1);
    loupe__trial_rec_release(r);
    /* PRUNED and FAIL set datetime_complete */
    u = (loupe__trial_update){.trial_id = t2, .set_state = 1, .state = LOUPE_PRUNED};
    assert_int_equal(s->ops->update_trial(s, &u, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    tu_sql_expect(path, "SELECT state, datetime_complete IS NOT NULL FROM trials WHERE trial_id = 2",
             "PRUNED|1\n");
    s->ops->close(s);
}

static void test_compatibility(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("compat.db", path, sizeof path);
    int64_t st = tu_mk_study(s, "c"), other = tu_mk_study(s, "other");
    int64_t t0 = tu_mk_trial(s, st, NULL), t1 = tu_mk_trial(s, st, NULL), t2 = tu_mk_trial(s, st, NULL);
    loupe__trial_update u;
    loupe_param p0[2] = {{"x", 0.5, tu_float_dist(0, 1, 0, 0)}, {"k", 0, tu_cat_dist(3, ABC)}};
    u = (loupe__trial_update){.trial_id = t0, .n_params = 2, .params = p0};
    assert_int_equal(update(s, &u), LOUPE_OK);
    /* a different range is fine (dynamic ranges), a different log is not */
    loupe_param p1 = {"x", 3, tu_float_dist(0, 10, 0, 0)};
    u.trial_id = t1;
    u.n_params = 1;
    u.params = &p1;
    assert_int_equal(update(s, &u), LOUPE_OK);
    loupe_param bad_log = {"x", 3, tu_float_dist(1, 10, 0, 1)};
    u.trial_id = t2;
    u.params = &bad_log;
    assert_int_equal(update(s, &u), LOUPE_EINCOMPAT);
    assert_non_null(strstr(s->errmsg, "'x'"));
    loupe_param bad_kind = {"x", 3, tu_int_dist(0, 10, 1, 0)};
    u.params = &bad_kind;
    assert_int_equal(update(s, &u), LOUPE_EINCOMPAT);
    loupe_param bad_order = {"k", 0, tu_cat_dist(3, CBA)};
    u.params = &bad_order;
    assert_int_equal(update(s, &u), LOUPE_EINCOMPAT);
    /* the whole batch is refused: the compatible param before the bad one is not stored */
    loupe_param batch[2] = {{"y", 1, tu_float_dist(0, 1, 0, 0)}, {"k", 0, tu_cat_dist(3, CBA)}};
    u.n_params = 2;
    u.params = batch;
    assert_int_equal(update(s, &u), LOUPE_EINCOMPAT);
    tu_sql_expect(path, "SELECT count(*) FROM trial_params WHERE trial_id = 3", "0\n");
    /* the same name may differ in another study (and is cached there by a second write) */
    int64_t to = tu_mk_trial(s, other, NULL), to2 = tu_mk_trial(s, other, NULL);
    u.trial_id = to;
    u.n_params = 1;
    u.params = &bad_order;
    assert_int_equal(update(s, &u), LOUPE_OK);
    u.trial_id = to2;
    assert_int_equal(update(s, &u), LOUPE_OK);
    /* a name set twice on one trial */
    u.trial_id = t0;
    u.params = &p1;
    assert_int_equal(update(s, &u), LOUPE_EINVAL);
    loupe_param twice[2] = {{"z", 1, tu_float_dist(0, 1, 0, 0)}, {"z", 1, tu_float_dist(0, 1, 0, 0)}};
    u.trial_id = t2;
    u.n_params = 2;
    u.params = twice;
    assert_int_equal(update(s, &u), LOUPE_EINVAL);
    /* a second handle (another process) checks against the first stored distribution */
    loupe_storage *s2 = tu_sqlite_open(path, 0);
    u.trial_id = t2;
    u.n_params = 1;
    u.params = &bad_log;
    assert_int_equal(update(s2, &u), LOUPE_EINCOMPAT);
    u.params = &p1;
    assert_int_equal(update(s2, &u), LOUPE_OK);
    /* after a study is deleted and recreated (SQLite reuses its id), the old first
     * distributions are forgotten */
    assert_int_equal(s->ops->delete_study(s, other), LOUPE_OK);
    int64_t again = tu_mk_study(s, "other");
    assert_int_equal(again, other);
    int64_t ta = tu_mk_trial(s, again, NULL);
    loupe_param abc = {"k", 0, tu_cat_dist(3, ABC)};
    u.trial_id = ta;
    u.params = &abc;
    assert_int_equal(update(s, &u), LOUPE_OK);
    /* the template path checks too */
    loupe__trial_rec *tmpl = loupe__trial_rec_new();
    tmpl->t.state = LOUPE_WAITING;
    assert_int_equal(loupe__trial_rec_add_param(tmpl, "x", 1, &bad_kind.dist), LOUPE_OK);
    int64_t tid;
    assert_int_equal(s->ops->create_trial(s, st, &tmpl->t, &tid, NULL), LOUPE_EINCOMPAT);
    loupe__trial_rec_release(tmpl);
    tu_sql_expect(path, "SELECT count(*) FROM trials WHERE study_id = 1", "3\n");
    s2->ops->close(s2);
    s->ops->close(s);
}

static void test_template_and_waiting(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("waiting.db", path, sizeof path);
    int64_t st = tu_mk_study(s, "w");
    int64_t tid, num;
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);

    /* an enqueued trial: WAITING, no start, fixed params */
    loupe__trial_rec *tmpl = loupe__trial_rec_new();
    tmpl->t.state = LOUPE_WAITING;
    assert_int_equal(loupe__trial_rec_add_system_attr(tmpl, "fixed_params", "{\"x\": 0.5}"),
                     LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, st, &tmpl->t, &tid, &num), LOUPE_OK);
    assert_int_equal(num, 0);
    int64_t waiting1 = tid;
    assert_int_equal(s->ops->create_trial(s, st, &tmpl->t, &tid, &num), LOUPE_OK);
    assert_int_equal(num, 1);
    int64_t waiting2 = tid;
    loupe__trial_rec_release(tmpl);
    tu_sql_expect(path, "SELECT number, state, datetime_start FROM trials",
             "0|WAITING|NULL\n1|WAITING|NULL\n");

    /* a complete template with fixed dates, values, params, attrs and intermediates */
    tmpl = loupe__trial_rec_new();
    tmpl->t.state = LOUPE_COMPLETE;
    tmpl->t.number = 99; /* ignored */
    tmpl->t.datetime_start_us = 1661990400000000LL;
    tmpl->t.datetime_complete_us = 1661990400123456LL;
    double v[2] = {0.5, INFINITY};
    loupe_distribution fd = tu_float_dist(0, 1, 0, 0);
    assert_int_equal(loupe__trial_rec_set_values(tmpl, 2, v), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_add_param(tmpl, "x", 0.25, &fd), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_add_user_attr(tmpl, "u", "\"v\""), LOUPE_OK);
    assert_int_equal(loupe__trial_rec_put_intermediate(tmpl, 5, NAN), LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, st, &tmpl->t, &tid, &num), LOUPE_OK);
    loupe__trial_rec_release(tmpl);
    assert_int_equal(num, 2);
    tu_sql_expect(
        path,
        "SELECT number, state, datetime_start, datetime_complete FROM trials WHERE trial_id = 3",
        "2|COMPLETE|2022-09-01 00:00:00.000000|2022-09-01 00:00:00.123456\n");
    loupe__trial_rec *r = tu_read_trial(s, tid);
    assert_int_equal(r->t.number, 2);
    assert_int_equal(r->t.datetime_complete_us, 1661990400123456LL);
    assert_int_equal(r->t.n_values, 2);
    assert_true(isinf(r->t.values[1]));
    assert_int_equal(r->t.n_params, 1);
    assert_true(isnan(r->t.intermediate[0].value));
    loupe__trial_rec_release(r);

    /* claims take the lowest number, set the start, and run out */
    int64_t before = loupe__now_us();
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_OK);
    assert_int_equal(tid, waiting1);
    r = tu_read_trial(s, tid);
    assert_int_equal(r->t.state, LOUPE_RUNNING);
    assert_true(r->t.datetime_start_us >= before - 1);
    assert_string_equal(r->t.system_attrs[0].key, "fixed_params");
    loupe__trial_rec_release(r);
    /* RUNNING on a WAITING trial is a state change (what ask does) */
    loupe__trial_update u = {.trial_id = waiting2, .set_state = 1, .state = LOUPE_RUNNING};
    int changed = 0;
    assert_int_equal(s->ops->update_trial(s, &u, &changed), LOUPE_OK);
    assert_int_equal(changed, 1);
    tu_sql_expect(path, "SELECT state, datetime_start IS NOT NULL FROM trials WHERE trial_id = 2",
             "RUNNING|1\n");
    assert_int_equal(s->ops->claim_waiting_trial(s, st, &tid), LOUPE_ENOTFOUND);
    assert_int_equal(s->ops->claim_waiting_trial(s, 555, &tid), LOUPE_ENOTFOUND);
    s->ops->close(s);
}

static void test_read_trials(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("read.db", path, sizeof path);
    int64_t st = tu_mk_study(s, "r"), other = tu_mk_study(s, "o");
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        ids[i] = tu_mk_trial(s, st, NULL);
        tu_mk_trial(s, other, NULL);
        loupe_param p[2] = {{"b", i, tu_int_dist(0, 10, 1, 0)}, {"a", 0.5, tu_float_dist(0, 1, 0, 0)}};
        loupe_attr at = {"i", "1"};
        loupe__trial_update u = {.trial_id = ids[i], .n_params = 2, .params = p, .n_user_attrs = 1,
            .user_attrs = &at};
        if (i < 4) {
            u.set_state = 1;
            u.state = LOUPE_COMPLETE;
            double v = i;
            u.n_values = 1;
            u.values = &v;
            assert_int_equal(update(s, &u), LOUPE_OK);
        } else {
            assert_int_equal(update(s, &u), LOUPE_OK);
        }
    }
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, st, -1, 0, NULL, &v), LOUPE_OK);
    assert_int_equal(v.len, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(v.items[i]->t.trial_id, ids[i]);
        assert_int_equal(v.items[i]->t.number, (int64_t)i);
        assert_int_equal(v.items[i]->t.study_id, st);
        assert_int_equal(v.items[i]->t.n_params, 2);
        assert_string_equal(v.items[i]->t.params[0].name, "b");
        assert_true(v.items[i]->t.params[0].internal == (double)i);
        assert_int_equal(v.items[i]->t.n_user_attrs, 1);
        assert_int_equal(v.items[i]->t.n_values, i < 4 ? 1 : 0);
    }
    loupe__rec_vec_clear(&v);

    /* incremental: after the last trial, plus listed unfinished ones (in id order) */
    int64_t newer = tu_mk_trial(s, st, NULL);
    int64_t listed[3] = {ids[5], ids[4], 9999};
    assert_int_equal(s->ops->read_trials(s, st, ids[5], 3, listed, &v), LOUPE_OK);
    assert_int_equal(v.len, 3);
    assert_int_equal(v.items[0]->t.trial_id, ids[4]);
    assert_int_equal(v.items[1]->t.trial_id, ids[5]);
    assert_int_equal(v.items[2]->t.trial_id, newer);
    assert_int_equal(v.items[2]->t.n_params, 0);
    loupe__rec_vec_clear(&v);
    /* ids of another study are not returned */
    int64_t foreign = ids[0] + 1;
    assert_int_equal(s->ops->read_trials(s, st, INT64_MAX, 1, &foreign, &v), LOUPE_OK);
    assert_int_equal(v.len, 0);
    assert_int_equal(s->ops->read_trials(s, 77, -1, 0, NULL, &v), LOUPE_ENOTFOUND);
    loupe__rec_vec_free(&v);
    s->ops->close(s);
}

static void test_many_ids(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("many.db", path, sizeof path);
    int64_t st = tu_mk_study(s, "many");
    /* one transaction of inserts, then ids past SQLite's old 999-variable limit */
    tu_sql_exec(path,
      "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2499) "
      "INSERT INTO trials (number, study_id, state, datetime_start) SELECT i, 1, 'RUNNING', "
      "'2026-01-01 00:00:00.000000' FROM n;"
      "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) SELECT "
      "trial_id, 'x', trial_id * 0.5, '{\"name\": \"FloatDistribution\", \"attributes\": "
      "{\"step\": "
      "null, \"low\": 0.0, \"high\": 10000.0, \"log\": false}}' FROM trials");
    int64_t *ids = malloc(2500 * sizeof *ids);
    for (int i = 0; i < 2500; i++) ids[i] = i + 1;
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, st, INT64_MAX, 2500, ids, &v), LOUPE_OK);
    assert_int_equal(v.len, 2500);
    for (size_t i = 0; i < v.len; i++) {
        assert_int_equal(v.items[i]->t.number, (int64_t)i);
        assert_int_equal(v.items[i]->t.n_params, 1);
        assert_true(v.items[i]->t.params[0].internal == (double)(i + 1) * 0.5);
    }
    loupe__rec_vec_free(&v);
    free(ids);
    s->ops->close(s);
}

static void test_data_version(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("dv.db", path, sizeof path);
    loupe_storage *s2 = tu_sqlite_open(path, 0);
    uint64_t v0, v1, v2, v3, w;
    assert_int_equal(s->ops->data_version(s, &v0), LOUPE_OK);
    assert_int_equal(s->ops->data_version(s, &v1), LOUPE_OK);
    assert_true(v0 == v1);
    int64_t st = tu_mk_study(s, "dv");
    assert_int_equal(s->ops->data_version(s, &v2), LOUPE_OK);
    assert_true(v2 != v1);
    assert_int_equal(s2->ops->data_version(s2, &w), LOUPE_OK);
    tu_mk_trial(s2, st, NULL);
    assert_int_equal(s->ops->data_version(s, &v3), LOUPE_OK);
    assert_true(v3 != v2);
    /* reads do not move it */
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, st, -1, 0, NULL, &v), LOUPE_OK);
    loupe__rec_vec_free(&v);
    assert_int_equal(s->ops->data_version(s, &v1), LOUPE_OK);
    assert_true(v1 == v3);
    /* a refused write does not either */
    assert_int_equal(s->ops->create_study(s, "dv", 1, (loupe_direction[]){LOUPE_MINIMIZE}, NULL),
                     LOUPE_EEXISTS);
    assert_int_equal(s->ops->data_version(s, &v2), LOUPE_OK);
    assert_true(v2 == v3);
    s2->ops->close(s2);
    s->ops->close(s);
}

/* ------------------------------------------------------------ foreign, damaged, old files */

static void expect_refused(const char *path, unsigned flags, int code, const char *needle) {
    size_t len;
    char *before = tu_read_file(path, &len);
    loupe_storage *s = NULL;
    assert_int_equal(loupe__sqlite_storage_open(path, flags, &s), code);
    assert_non_null(s);
    assert_null(s->ops->create_study); /* a failed handle only carries its message */
    if (needle && !strstr(s->errmsg, needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", s->errmsg, needle);
        fail();
    }
    s->ops->close(s);
    assert_true(tu_same_bytes(before, len, path));
    free(before);
    char journal[800];
    snprintf(journal, sizeof journal, "%s-journal", path);
    assert_int_not_equal(access(journal, F_OK), 0);
}

static void test_corrupt_files(void **state) {
    (void)state;
    char path[768];
    /* random bytes */
    tu_fresh_path(path, sizeof path, "random.db");
    FILE *f = fopen(path, "wb");
    unsigned seed = 12345;
    for (int i = 0; i < 8192; i++) {
        seed = seed * 1103515245u + 12345u;
        fputc((int)(seed >> 16) & 0xff, f);
    }
    fclose(f);
    expect_refused(path, 0, LOUPE_ECORRUPT, "not an SQLite database");
    /* text */
    tu_fresh_path(path, sizeof path, "text.db");
    f = fopen(path, "wb");
    fputs("this is a note, not a database\n", f);
    fclose(f);
    expect_refused(path, 0, LOUPE_ECORRUPT, "not an SQLite database");
    /* an SQLite database of another program */
    tu_fresh_path(path, sizeof path, "foreign.db");
    tu_sql_exec(path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) "
            "VALUES ('hi')");
    expect_refused(path, 0, LOUPE_ECORRUPT, "not an Optuna storage");
    expect_refused(path, LOUPE_OPEN_SKIP_SCHEMA_CHECK, LOUPE_ECORRUPT, "not an Optuna storage");
    /* a truncated Optuna file */
    tu_copy_fixture("optuna-hitl-v3.2.0.a.db", "truncated.db", path, sizeof path);
    assert_int_equal(truncate(path, 50000), 0);
    expect_refused(path, 0, LOUPE_ECORRUPT, "damaged");
    /* a head revision that lacks a column */
    tu_copy_fixture("optuna-hitl-v3.2.0.a.db", "nocol.db", path, sizeof path);
    tu_sql_exec(path, "ALTER TABLE trial_values DROP COLUMN value_type");
    expect_refused(path, 0, LOUPE_ECORRUPT, "value_type");
    /* two revision rows */
    tu_copy_fixture("optuna-hitl-v3.2.0.a.db", "tworevs.db", path, sizeof path);
    tu_sql_exec(path, "INSERT INTO alembic_version VALUES ('v3.0.0.d')");
    expect_refused(path, 0, LOUPE_ECORRUPT, "alembic_version");
}

static void test_revisions(void **state) {
    (void)state;
    char path[768], url[1024];
    /* every old revision is refused with the upgrade command, file untouched */
    static const char *const old[] = {"0.9.0.a", "1.2.0.a", "1.3.0.a", "2.4.0.a", "2.6.0.a",
                                      "3.0.0.a", "3.0.0.b", "3.0.0.c", "3.0.0.d"};
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        char rel[128], name[64];
        snprintf(rel, sizeof rel, "optuna-upgrade-assets/%s.db", old[i]);
        snprintf(name, sizeof name, "old-%s.db", old[i]);
        tu_copy_fixture(rel, name, path, sizeof path);
        snprintf(url, sizeof url, "`loupe storage upgrade --storage sqlite:///%s`", path);
        expect_refused(path, 0, LOUPE_ESCHEMA, url);
        char rev[32];
        snprintf(rev, sizeof rev, "v%s", old[i]);
        expect_refused(path, 0, LOUPE_ESCHEMA, rev);
        if (strcmp(old[i], "3.0.0.d") != 0)
            expect_refused(path, LOUPE_OPEN_SKIP_SCHEMA_CHECK, LOUPE_ESCHEMA, url);
    }
    /* a newer revision */
    tu_copy_fixture("optuna-hitl-v3.2.0.a.db", "newer.db", path, sizeof path);
    tu_sql_exec(path, "UPDATE alembic_version SET version_num = 'v9.9.9.z'; UPDATE version_info SET "
            "library_version = '9.0.0'");
    expect_refused(path, 0, LOUPE_ESCHEMA, "newer Optuna");
    expect_refused(path, 0, LOUPE_ESCHEMA, "9.0.0");
    expect_refused(path, LOUPE_OPEN_SKIP_SCHEMA_CHECK, LOUPE_ESCHEMA, "newer Optuna");

    /* a refused handle names the revision it found */
    tu_copy_fixture("optuna-upgrade-assets/2.6.0.a.db", "rev260.db", path, sizeof path);
    loupe_storage *s = NULL;
    assert_int_equal(loupe__sqlite_storage_open(path, 0, &s), LOUPE_ESCHEMA);
    assert_string_equal(s->schema_revision, "v2.6.0.a");
    s->ops->close(s);

    /* v3.0.0.d with the skip flag: read and write, revision kept */
    tu_copy_fixture("optuna-upgrade-assets/3.0.0.d.db", "skip300d.db", path, sizeof path);
    s = tu_sqlite_open(path, LOUPE_OPEN_SKIP_SCHEMA_CHECK);
    assert_string_equal(s->schema_revision, "v3.0.0.d");
    int64_t single;
    assert_int_equal(s->ops->find_study(s, "single", &single), LOUPE_OK);
    assert_int_equal(single, 2);
    int64_t num;
    tu_mk_trial(s, single, &num);
    assert_int_equal(num, 1);
    s->ops->close(s);
    tu_sql_expect(path, "SELECT * FROM alembic_version", "v3.0.0.d\n");
    tu_sql_expect(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
             "1\n");
}

/* ------------------------------------------------------------ the Optuna 3.1 fixture */

static void test_hitl_fixture(void **state) {
    (void)state;
    char path[768];
    tu_copy_fixture("optuna-3.1-hitl.db", "hitl.db", path, sizeof path);
    size_t len;
    char *before = tu_read_file(path, &len);
    loupe_storage *s = tu_sqlite_open(path, LOUPE_OPEN_SKIP_SCHEMA_CHECK);
    assert_string_equal(s->schema_revision, "v3.0.0.d");

    loupe_study_list *list = NULL;
    assert_int_equal(s->ops->list_studies(s, &list), LOUPE_OK);
    assert_int_equal(loupe_study_list_count(list), 1);
    const loupe_study_summary *sum = loupe_study_list_at(list, 0);
    assert_int_equal(sum->study_id, 1);
    assert_string_equal(sum->name, "Human-in-the-loop Optimization");
    assert_int_equal(sum->n_directions, 1);
    assert_int_equal(sum->directions[0], LOUPE_MINIMIZE);
    assert_int_equal(sum->n_trials, 12);
    int64_t first;
    assert_int_equal(loupe__parse_datetime("2026-11-28 02:28:49.591161", &first), 0);
    assert_int_equal(sum->datetime_start_us, first);
    assert_int_equal(sum->n_user_attrs, 0);
    assert_int_equal(sum->n_system_attrs, 4);
    loupe_study_list_free(list);

    loupe__study_info info;
    memset(&info, 0, sizeof info);
    assert_int_equal(s->ops->get_study(s, 1, &info), LOUPE_OK);
    assert_int_equal(info.n_system_attrs, 4);
    assert_string_equal(info.system_attrs[0].key, "study:metric_names");
    assert_string_equal(info.system_attrs[0].json, "[\"Looks like sunset color?\"]");
    assert_string_equal(info.system_attrs[1].key, "dashboard:form_widgets:v2");
    assert_string_equal(
        info.system_attrs[1].json,
        "{\"output_type\": \"objective\", \"widgets\": [{\"type\": \"choice\", \"description\": "
        "\"Please input your score!\", \"choices\": [\"Good \\ud83d\\udc4d\", "
        "\"So-so\\ud83d\\udc4c\", \"Bad \\ud83d\\udc4e\"], \"values\": [-1, 0, 1], "
        "\"user_attr_key\": null}]}");
    assert_string_equal(info.system_attrs[2].key, "dashboard:10:note_ver");
    assert_string_equal(info.system_attrs[2].json, "1");
    assert_string_equal(info.system_attrs[3].key, "dashboard:10:note_str:0");
    assert_string_equal(info.system_attrs[3].json,
                        "\"## Trial 9\\n\\nr=241, g=133, b=106\\n\\n![color](/artifacts/1/10/"
                        "e3e70682-c209-4cac-a29f-6fbed82c07cd)\\n\"");
    loupe__study_info_free(&info);

    static const struct {
        const char *state;
        int r, g, b;
        const char *value;
        const char *start, *complete;
    } rows[12] = {
        {"COMPLETE", 140, 183, 154, "1.0", "2026-11-28 02:28:49.591161",
         "2026-11-28 02:28:49.618789"},
        {"COMPLETE", 139, 108, 165, "0.0", "2026-11-28 02:28:49.629979",
         "2026-11-28 02:28:49.646545"},
        {"COMPLETE", 112, 228, 246, "1.0", "2026-11-28 02:28:49.653780",
         "2026-11-28 02:28:49.674665"},
        {"COMPLETE", 98, 202, 135, "1.0", "2026-11-28 02:28:49.681794",
         "2026-11-28 02:28:49.696811"},
        {"COMPLETE", 145, 236, 18, "0.0", "2026-11-28 02:28:49.703362",
         "2026-11-28 02:28:49.718823"},
        {"COMPLETE", 22, 5, 213, "1.0", "2026-11-28 02:28:49.725195", "2026-11-28 02:28:49.740617"},
        {"COMPLETE", 199, 222, 250, "1.0", "2026-11-28 02:28:49.747054",
         "2026-11-28 02:28:49.764626"},
        {"COMPLETE", 204, 118, 199, "-1.0", "2026-11-28 02:28:49.774034",
         "2026-11-28 02:28:49.791264"},
        {"FAIL", 30, 163, 36, NULL, "2026-11-28 02:28:49.798600", "2026-11-28 02:28:49.822608"},
        {"RUNNING", 241, 133, 106, NULL, "2026-11-28 02:28:49.831907", NULL},
        {"RUNNING", 67, 198, 116, NULL, "2026-11-28 02:28:49.855516", NULL},
        {"RUNNING", 145, 4, 158, NULL, "2026-11-28 02:28:49.887233", NULL},
    };
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, 1, -1, 0, NULL, &v), LOUPE_OK);
    assert_int_equal(v.len, 12);
    for (size_t i = 0; i < 12; i++) {
        const loupe_frozen_trial *t = &v.items[i]->t;
        assert_int_equal(t->trial_id, (int64_t)i + 1);
        assert_int_equal(t->number, (int64_t)i);
        assert_string_equal(loupe_trial_state_name(t->state), rows[i].state);
        assert_int_equal(t->n_params, 3);
        const char *names[3] = {"r", "g", "b"};
        int want[3] = {rows[i].r, rows[i].g, rows[i].b};
        for (int k = 0; k < 3; k++) {
            assert_string_equal(t->params[k].name, names[k]);
            assert_true(t->params[k].internal == (double)want[k]);
            assert_int_equal(t->params[k].dist.kind, LOUPE_DIST_INT);
            assert_true(t->params[k].dist.low == 0 && t->params[k].dist.high == 255 &&
                        t->params[k].dist.step == 1 && !t->params[k].dist.log);
        }
        if (rows[i].value) {
            assert_int_equal(t->n_values, 1);
            assert_true(t->values[0] == atof(rows[i].value));
        } else {
            assert_int_equal(t->n_values, 0);
        }
        int64_t us;
        assert_int_equal(loupe__parse_datetime(rows[i].start, &us), 0);
        assert_int_equal(t->datetime_start_us, us);
        if (rows[i].complete) {
            assert_int_equal(loupe__parse_datetime(rows[i].complete, &us), 0);
            assert_int_equal(t->datetime_complete_us, us);
        } else {
            assert_int_equal(t->datetime_complete_us, -1);
        }
        assert_int_equal(t->n_user_attrs, 0);
        assert_int_equal(t->n_intermediate, 0);
        if (i == 9) {
            assert_int_equal(t->n_system_attrs, 1);
            assert_string_equal(t->system_attrs[0].key,
                                "artifacts:e3e70682-c209-4cac-a29f-6fbed82c07cd");
            assert_string_equal(
                t->system_attrs[0].json,
                "\"{\\\"artifact_id\\\": \\\"e3e70682-c209-4cac-a29f-6fbed82c07cd\\\", "
                "\\\"filename\\\": \\\"color.png\\\", \\\"mimetype\\\": "
                "\\\"image/png\\\", \\\"encoding\\\": null}\"");
        } else {
            assert_int_equal(t->n_system_attrs, 0);
        }
    }
    loupe__rec_vec_free(&v);
    s->ops->close(s);
    /* reading wrote nothing */
    assert_true(tu_same_bytes(before, len, path));
    free(before);

    /* the upgraded fixture opens by default and reads the same */
    tu_copy_fixture("optuna-hitl-v3.2.0.a.db", "hitl320.db", path, sizeof path);
    before = tu_read_file(path, &len);
    s = tu_sqlite_open(path, 0);
    assert_string_equal(s->schema_revision, "v3.2.0.a");
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, 1, 9, 0, NULL, &v), LOUPE_OK);
    assert_int_equal(v.len, 3);
    assert_int_equal(v.items[0]->t.number, 9);
    loupe__rec_vec_free(&v);
    s->ops->close(s);
    assert_true(tu_same_bytes(before, len, path));
    free(before);
}

static void test_unknown_enum(void **state) {
    (void)state;
    char path[768];
    tu_copy_fixture("optuna-hitl-v3.2.0.a.db", "badenum.db", path, sizeof path);
    tu_sql_exec(path, "UPDATE trials SET state = 'BOGUS' WHERE trial_id = 5");
    loupe_storage *s = tu_sqlite_open(path, 0);
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, 1, -1, 0, NULL, &v), LOUPE_ECORRUPT);
    assert_non_null(strstr(s->errmsg, "trials row trial_id=5"));
    assert_non_null(strstr(s->errmsg, "BOGUS"));
    assert_int_equal(v.len, 0);
    loupe__trial_update u = {.trial_id = 5};
    assert_int_equal(update(s, &u), LOUPE_ECORRUPT);
    s->ops->close(s);

    tu_sql_exec(path, "UPDATE trials SET state = 'COMPLETE' WHERE trial_id = 5; UPDATE trial_values SET "
            "value_type = 'WEIRD' WHERE trial_id = 2");
    s = tu_sqlite_open(path, 0);
    assert_int_equal(s->ops->read_trials(s, 1, -1, 0, NULL, &v), LOUPE_ECORRUPT);
    assert_non_null(strstr(s->errmsg, "trial_values"));
    tu_sql_exec(path, "UPDATE trial_values SET value_type = 'FINITE' WHERE trial_id = 2; UPDATE "
            "study_directions SET direction = 'SIDEWAYS'");
    loupe__study_info info;
    memset(&info, 0, sizeof info);
    assert_int_equal(s->ops->get_study(s, 1, &info), LOUPE_ECORRUPT);
    assert_non_null(strstr(s->errmsg, "SIDEWAYS"));
    tu_sql_exec(path, "UPDATE study_directions SET direction = 'MINIMIZE'; UPDATE trials SET datetime_start "
            "= 'yesterday' WHERE trial_id = 3");
    assert_int_equal(s->ops->read_trials(s, 1, -1, 0, NULL, &v), LOUPE_ECORRUPT);
    assert_non_null(strstr(s->errmsg, "datetime_start"));
    tu_sql_exec(path, "UPDATE trials SET datetime_start = NULL WHERE trial_id = 3; UPDATE trial_params SET "
            "distribution_json = '{\"name\": \"Nope\"}' WHERE param_id = 4");
    assert_int_equal(s->ops->read_trials(s, 1, -1, 0, NULL, &v), LOUPE_ECORRUPT);
    assert_non_null(strstr(s->errmsg, "distribution_json"));
    loupe__rec_vec_free(&v);
    s->ops->close(s);
}

/* The exact messages of rows a read rejects (the row checks are shared with
 * the PostgreSQL storage in sql_common.c; SQLite names the file quoted). */
static void expect_read_error(loupe_storage *s, const char *path, const char *fmt) {
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, 1, -1, 0, NULL, &v), LOUPE_ECORRUPT);
    assert_int_equal(v.len, 0);
    char want[1024];
    snprintf(want, sizeof want, fmt, path);
    assert_string_equal(s->errmsg, want);
    loupe__rec_vec_free(&v);
}

static void test_corrupt_row_messages(void **state) {
    (void)state;
    char path[768];
    tu_copy_fixture("optuna-hitl-v3.2.0.a.db", "badrows.db", path, sizeof path);
    loupe_storage *s = tu_sqlite_open(path, 0);
    tu_sql_exec(path, "UPDATE trials SET state = 'BOGUS' WHERE trial_id = 5");
    expect_read_error(s, path,
                      "trials row trial_id=5 in '%s' has the unknown state 'BOGUS' (Optuna writes "
                      "RUNNING, COMPLETE, PRUNED, FAIL or WAITING)");
    char want[1024];
    loupe__trial_update u = {.trial_id = 5};
    assert_int_equal(update(s, &u), LOUPE_ECORRUPT);
    snprintf(want, sizeof want, "trials row trial_id=5 in '%s' has the unknown state 'BOGUS'", path);
    assert_string_equal(s->errmsg, want);
    tu_sql_exec(path, "UPDATE trials SET state = 'COMPLETE', number = NULL WHERE trial_id = 5");
    expect_read_error(s, path, "trials row trial_id=5 in '%s' has no number");
    tu_sql_exec(path, "UPDATE trials SET number = 4 WHERE trial_id = 5; UPDATE trial_params SET "
                      "param_value = NULL WHERE param_id = 2");
    expect_read_error(s, path, "param 'g' of trial_id 1 in '%s' has no value");
    tu_sql_exec(path, "UPDATE trial_params SET param_value = 1, distribution_json = NULL WHERE "
                      "param_id = 2");
    expect_read_error(s, path, "param 'g' of trial_id 1 in %s has no distribution_json");
    tu_sql_exec(path, "UPDATE trial_params SET distribution_json = (SELECT distribution_json FROM "
                      "trial_params WHERE param_id = 1) WHERE param_id = 2; UPDATE trial_values "
                      "SET value = NULL WHERE trial_id = 3");
    expect_read_error(s, path,
                      "trial_values row of trial_id 3 (objective 0) in '%s' is not in Optuna's "
                      "form (value_type FINITE with a value, or INF_POS / INF_NEG with NULL)");
    tu_sql_exec(path, "UPDATE trial_values SET value_type = 'INF_NEG' WHERE trial_id = 3; INSERT "
                      "INTO trial_intermediate_values (trial_id, step, intermediate_value, "
                      "intermediate_value_type) VALUES (4, 7, 1.5, 'NAN')");
    expect_read_error(s, path,
                      "trial_intermediate_values row of trial_id 4 (step 7) in '%s' is not in "
                      "Optuna's form (type FINITE with a value, or INF_POS / INF_NEG / NAN with "
                      "NULL)");
    /* once repaired the read passes, with the values as stored */
    tu_sql_exec(path, "UPDATE trial_intermediate_values SET intermediate_value = NULL");
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, 1, -1, 0, NULL, &v), LOUPE_OK);
    assert_true(v.len >= 5);
    assert_true(isinf(v.items[2]->t.values[0]) && v.items[2]->t.values[0] < 0);
    loupe__rec_vec_free(&v);
    /* the param rules of a write: a name once per trial, then the first distribution */
    loupe_param r = {"r", 3, {LOUPE_DIST_INT, 0, 255, 1, 0, 0, NULL}};
    u.trial_id = 10;
    u.n_params = 1;
    u.params = &r;
    assert_int_equal(update(s, &u), LOUPE_EINVAL);
    assert_string_equal(s->errmsg, "Trial#9 already has a param named 'r'; a param is set once per "
                                   "trial (suggest it again to read the stored value).");
    tu_sql_exec(path, "UPDATE trial_params SET distribution_json = '[1' WHERE param_id = 1");
    loupe__trial_rec *tmpl = loupe__trial_rec_new();
    assert_int_equal(loupe__trial_rec_add_param(tmpl, "r", 3, &r.dist), LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, 1, &tmpl->t, NULL, NULL), LOUPE_ECORRUPT);
    const char *pre = "the stored distribution of param 'r' in study 1 is unreadable: ";
    assert_int_equal(strncmp(s->errmsg, pre, strlen(pre)), 0);
    loupe__trial_rec_release(tmpl);
    s->ops->close(s);
}

/* ------------------------------------------------------------ several processes */

static void test_processes(void **state) {
    (void)state;
    char path[768];
    loupe_storage *s = open_fresh("procs.db", path, sizeof path);
    int64_t st = tu_mk_study(s, "p");
    /* 20 enqueued trials to be claimed */
    loupe__trial_rec *tmpl = loupe__trial_rec_new();
    tmpl->t.state = LOUPE_WAITING;
    for (int i = 0; i < 20; i++)
        assert_int_equal(s->ops->create_trial(s, st, &tmpl->t, NULL, NULL), LOUPE_OK);
    loupe__trial_rec_release(tmpl);
    s->ops->close(s);

    enum { NPROC = 4, PER = 15 };
    char claims[NPROC][768];
    pid_t pids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        snprintf(claims[p], sizeof claims[p], "%s/claims-%d.txt", tu_tmpdir(), p);
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            loupe_storage *c = NULL;
            if (loupe__sqlite_storage_open(path, 0, &c) != LOUPE_OK) _exit(2);
            FILE *out = fopen(claims[p], "w");
            for (int i = 0; i < PER; i++) {
                int64_t tid;
                if (c->ops->create_trial(c, st, NULL, &tid, NULL) != LOUPE_OK) _exit(3);
                loupe_param prm = {"x", i, tu_int_dist(0, 100, 1, 0)};
                double val = i;
                loupe__trial_update u = {.trial_id = tid, .n_params = 1, .params = &prm,
                    .set_state = 1, .state = LOUPE_COMPLETE, .n_values = 1, .values = &val};
                if (c->ops->update_trial(c, &u, NULL) != LOUPE_OK) _exit(4);
                int rc = c->ops->claim_waiting_trial(c, st, &tid);
                if (rc == LOUPE_OK)
                    fprintf(out, "%lld\n", (long long)tid);
                else if (rc != LOUPE_ENOTFOUND)
                    _exit(5);
            }
            fclose(out);
            c->ops->close(c);
            _exit(0);
        }
    }
    for (int p = 0; p < NPROC; p++) {
        int status = 0;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* numbers dense and unique, every trial complete or claimed */
    tu_sql_expect(path, "SELECT count(*), count(DISTINCT number), min(number), max(number) FROM trials",
             "80|80|0|79\n");
    tu_sql_expect(path, "SELECT state, count(*) FROM trials GROUP BY state ORDER BY state",
             "COMPLETE|60\nRUNNING|20\n");
    tu_sql_expect(path, "SELECT count(*) FROM trial_params", "60\n");
    /* each WAITING trial was claimed exactly once */
    int seen[21] = {0};
    int total = 0;
    for (int p = 0; p < NPROC; p++) {
        FILE *in = fopen(claims[p], "r");
        assert_non_null(in);
        long long id;
        while (fscanf(in, "%lld", &id) == 1) {
            assert_true(id >= 1 && id <= 20);
            seen[id]++;
            total++;
        }
        fclose(in);
    }
    assert_int_equal(total, 20);
    for (int i = 1; i <= 20; i++) assert_int_equal(seen[i], 1);
}

/* Several processes opening a file that does not exist yet: one creates the
 * schema, all of them use it. */
static void test_concurrent_create(void **state) {
    (void)state;
    char path[768];
    tu_fresh_path(path, sizeof path, "race.db");
    enum { NPROC = 4 };
    pid_t pids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            loupe_storage *c = NULL;
            if (loupe__sqlite_storage_open(path, 0, &c) != LOUPE_OK) {
                fprintf(stderr, "child open: %s\n", c ? c->errmsg : "?");
                _exit(2);
            }
            char name[32];
            snprintf(name, sizeof name, "study-%d", p);
            loupe_direction d = LOUPE_MINIMIZE;
            if (c->ops->create_study(c, name, 1, &d, NULL) != LOUPE_OK) _exit(3);
            c->ops->close(c);
            _exit(0);
        }
    }
    for (int p = 0; p < NPROC; p++) {
        int status = 0;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    tu_sql_expect(path, SCHEMA_SQL, EXPECTED_DDL);
    tu_sql_expect(path, "SELECT count(*) FROM studies", "4\n");
    tu_sql_expect(path, "SELECT count(*) FROM version_info", "1\n");
}

static void test_busy(void **state) {
    (void)state;
    char path[768];
    setenv("LOUPE_SQLITE_BUSY_TIMEOUT_MS", "100", 1);
    loupe_storage *s = open_fresh("busy.db", path, sizeof path);
    unsetenv("LOUPE_SQLITE_BUSY_TIMEOUT_MS");
    int64_t st = tu_mk_study(s, "b");
    sqlite3 *locker = NULL;
    assert_int_equal(sqlite3_open(path, &locker), SQLITE_OK);
    assert_int_equal(sqlite3_exec(locker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    int64_t t0 = loupe__monotonic_us();
    int64_t tid;
    assert_int_equal(s->ops->create_trial(s, st, NULL, &tid, NULL), LOUPE_EBUSY);
    int64_t waited = loupe__monotonic_us() - t0;
    assert_true(waited >= 300000 && waited < 10000000); /* retried for ~4 x 100 ms */
    assert_non_null(strstr(s->errmsg, "locked"));
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, st, -1, 0, NULL, &v), LOUPE_EBUSY);
    assert_int_equal(sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(locker);
    /* a lock another process releases while we wait is simply waited for */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        if (sqlite3_open(path, &db) != SQLITE_OK) _exit(2);
        if (sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK) _exit(3);
        if (write(fds[1], "L", 1) != 1) _exit(4);
        usleep(300000);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        _exit(0);
    }
    char ch;
    assert_int_equal(read(fds[0], &ch, 1), 1);
    close(fds[0]);
    close(fds[1]);
    setenv("LOUPE_SQLITE_BUSY_TIMEOUT_MS", "5000", 1);
    loupe_storage *patient = tu_sqlite_open(path, 0);
    unsetenv("LOUPE_SQLITE_BUSY_TIMEOUT_MS");
    assert_int_equal(patient->ops->create_trial(patient, st, NULL, &tid, NULL), LOUPE_OK);
    patient->ops->close(patient);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(s->ops->create_trial(s, st, NULL, &tid, NULL), LOUPE_OK);
    assert_int_equal(s->ops->read_trials(s, st, -1, 0, NULL, &v), LOUPE_OK);
    assert_int_equal(v.len, 2);
    loupe__rec_vec_free(&v);
    s->ops->close(s);
}

/* ------------------------------------------------------------ Python reads loupe's file */

/* A python3 that has optuna, or NULL. */
static const char PY_READ[] =
    "import math, sys, warnings, optuna\n"
    "warnings.simplefilter('ignore')\n"
    "optuna.logging.set_verbosity(optuna.logging.ERROR)\n"
    "s = optuna.storages.RDBStorage(sys.argv[1], skip_compatibility_check=True)\n"
    "st = optuna.load_study(study_name='py', storage=s)\n"
    "assert [d.name for d in st.directions] == ['MINIMIZE', 'MAXIMIZE'], st.directions\n"
    "assert st.user_attrs == {'owner': 'caf\\u00e9 \\U0001F44D'}, st.user_attrs\n"
    "assert st.system_attrs['study:metric_names'] == ['loss', 'acc']\n"
    "t = st.trials\n"
    "assert len(t) == 2 and [x.number for x in t] == [0, 1]\n"
    "a = t[0]\n"
    "assert a.state == optuna.trial.TrialState.COMPLETE, a.state\n"
    "assert a.values == [float('inf'), -2.5], a.values\n"
    "# (Optuna 3.1 lists params by name; the stored order is checked in C)\n"
    "assert a.params == {'lr': 0.001, 'layers': 4, 'opt': 'adam'}, a.params\n"
    "assert a.distributions['lr'] == optuna.distributions.FloatDistribution(1e-05, 0.1, log=True)\n"
    "assert a.distributions['layers'] == optuna.distributions.IntDistribution(1, 8, step=1)\n"
    "assert a.distributions['opt'] == optuna.distributions.CategoricalDistribution(['sgd', "
    "'adam'])\n"
    "assert a.intermediate_values[0] == 0.5 and math.isnan(a.intermediate_values[1])\n"
    "assert a.intermediate_values[2] == float('-inf')\n"
    "assert sorted(a.user_attrs) == ['nan', 'note'] and a.user_attrs['note'] == 'caf\\u00e9'\n"
    "assert math.isnan(a.user_attrs['nan'])\n"
    "assert a.datetime_start is not None and a.datetime_complete is not None\n"
    "b = t[1]\n"
    "assert b.state == optuna.trial.TrialState.WAITING and b.datetime_start is None\n"
    "assert b.system_attrs == {'fixed_params': {'lr': 0.01}}\n"
    "# and Python can keep writing to the file\n"
    "tr = st.ask()\n"
    "assert tr.number == 1, tr.number  # the enqueued trial\n"
    "assert tr.suggest_float('lr', 1e-5, 1e-1, log=True) == 0.01\n"
    "st.tell(tr, [1.0, 2.0])\n"
    "print('ok')\n";

static void test_python_reads(void **state) {
    (void)state;
    const char *py = tu_python_with_optuna();
    if (!py) {
        fprintf(stderr, "python3 with optuna not found; skipping\n");
        skip();
    }
    char path[768];
    loupe_storage *s = open_fresh("py.db", path, sizeof path);
    loupe_direction dirs[2] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    int64_t st;
    assert_int_equal(s->ops->create_study(s, "py", 2, dirs, &st), LOUPE_OK);
    loupe_attr ua = {"owner", "\"caf\\u00e9 \\ud83d\\udc4d\""};
    assert_int_equal(s->ops->set_study_attrs(s, st, 0, 1, &ua, NULL), LOUPE_OK);
    loupe_attr sa = {"study:metric_names", "[\"loss\", \"acc\"]"};
    assert_int_equal(s->ops->set_study_attrs(s, st, 1, 1, &sa, NULL), LOUPE_OK);
    int64_t t = tu_mk_trial(s, st, NULL);
    static const char *const opts[] = {"\"sgd\"", "\"adam\""};
    loupe_param params[3] = {{"lr", 0.001, tu_float_dist(1e-5, 0.1, 0, 1)},
                             {"layers", 4, tu_int_dist(1, 8, 1, 0)},
                             {"opt", 1, tu_cat_dist(2, opts)}};
    loupe_attr tua[2] = {{"note", "\"caf\\u00e9\""}, {"nan", "NaN"}};
    loupe_intermediate inter[3] = {{0, 0.5}, {1, NAN}, {2, -INFINITY}};
    double vals[2] = {INFINITY, -2.5};
    loupe__trial_update u = {.trial_id = t, .n_params = 3, .params = params, .n_user_attrs = 2,
        .user_attrs = tua, .n_intermediate = 3, .intermediate = inter, .set_state = 1,
        .state = LOUPE_COMPLETE, .n_values = 2, .values = vals};
    assert_int_equal(update(s, &u), LOUPE_OK);
    loupe__trial_rec *tmpl = loupe__trial_rec_new();
    tmpl->t.state = LOUPE_WAITING;
    assert_int_equal(loupe__trial_rec_add_system_attr(tmpl, "fixed_params", "{\"lr\": 0.01}"),
                     LOUPE_OK);
    assert_int_equal(s->ops->create_trial(s, st, &tmpl->t, NULL, NULL), LOUPE_OK);
    loupe__trial_rec_release(tmpl);
    s->ops->close(s);

    char script[800], cmd[2400];
    tu_path(script, sizeof script, "read.py");
    FILE *f = fopen(script, "w");
    fputs(PY_READ, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s sqlite:///%s", py, script, path);
    assert_int_equal(system(cmd), 0);
    /* and loupe reads what Python wrote */
    s = tu_sqlite_open(path, 0);
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    assert_int_equal(s->ops->read_trials(s, st, -1, 0, NULL, &v), LOUPE_OK);
    assert_int_equal(v.len, 2);
    assert_int_equal(v.items[1]->t.state, LOUPE_COMPLETE);
    assert_int_equal(v.items[1]->t.n_params, 1);
    assert_true(v.items[1]->t.params[0].internal == 0.01);
    loupe__rec_vec_free(&v);
    s->ops->close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_schema),      cmocka_unit_test(test_studies),
        cmocka_unit_test(test_numbers_dense),     cmocka_unit_test(test_update_and_encodings),
        cmocka_unit_test(test_compatibility),     cmocka_unit_test(test_template_and_waiting),
        cmocka_unit_test(test_read_trials),       cmocka_unit_test(test_many_ids),
        cmocka_unit_test(test_data_version),      cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_revisions),         cmocka_unit_test(test_hitl_fixture),
        cmocka_unit_test(test_unknown_enum),      cmocka_unit_test(test_corrupt_row_messages),
        cmocka_unit_test(test_processes),
        cmocka_unit_test(test_concurrent_create), cmocka_unit_test(test_busy),
        cmocka_unit_test(test_python_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
