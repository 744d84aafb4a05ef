/*
 * test_postgres.c -- the PostgreSQL storage beyond the generic checklist
 * (which test_storage_checklist.c runs on PostgreSQL too): URL forms, clear
 * errors for bad URLs and unreachable servers, the exact schema facts, the
 * v3.0.0.d upgrade, data_version seeing raw SQL writes, a killed backend
 * reconnected transparently, an outage reported after the retry bound, and
 * PostgreSQL's 32-bit / 512-character column limits, the exact messages for
 * rows a read rejects.
 *
 * The tests need a server: tests/interop/test_postgres_storage.sh starts one
 * and sets LOUPE_TEST_PG_URL (postgresql://user:pw@127.0.0.1:port/db, a
 * superuser) and LOUPE_TEST_PG_SOCK_URL (the unix-socket form); without them
 * every test is skipped.
 *
 * The same binary is the worker of the process-level PostgreSQL tests and of
 * the benchmark (public API only):
 *   test_postgres worker URL STUDY N SEED random|tpe   N ask/suggest/tell loops
 *   test_postgres bench  URL STUDY N SEED random|tpe   the same, prints "<N> <seconds>"
 */
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
#include <libpq-fe.h>

#include "loupe.h"
#include "testutil.h"

/* ---------------------------------------------------------------- worker mode */

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The objective of loupe-testdriver's worker and pg_peer.py's worker, so all
 * three can share a study: (x-2)^2 + y^2 over x, y in [-10, 10]. */
static int worker(const char *url, const char *name, long n, uint64_t seed, const char *kind,
                  int timed) {
    loupe_storage *s = NULL;
    loupe_study *st = NULL;
    int rc = loupe_storage_open(url, 0, &s);
    if (rc) {
        fprintf(stderr, "worker: open failed (%d): %s\n", rc, loupe_storage_errmsg(s));
        loupe_storage_close(s);
        return 1;
    }
    loupe_direction d = LOUPE_MINIMIZE;
    if ((rc = loupe_study_create(s, name, 1, &d, LOUPE_LOAD_IF_EXISTS, &st))) {
        fprintf(stderr, "worker: create study failed (%d): %s\n", rc, loupe_storage_errmsg(s));
        loupe_storage_close(s);
        return 1;
    }
    loupe_sampler *smp = NULL;
    if (strcmp(kind, "tpe") == 0) {
        loupe_tpe_options o;
        loupe_tpe_options_init(&o);
        o.has_seed = 1;
        o.seed = seed;
        o.constant_liar = 1;
        rc = loupe_sampler_tpe_new(&o, &smp);
    } else {
        rc = loupe_sampler_random_new(seed, &smp);
    }
    if (rc) {
        fprintf(stderr, "worker: sampler '%s' failed (%d)\n", kind, rc);
        goto fail;
    }
    loupe_study_set_sampler(st, smp);
    double t0 = mono_s();
    for (long i = 0; i < n; i++) {
        loupe_trial *t = NULL;
        double x, y;
        if ((rc = loupe_study_ask(st, &t))) {
            fprintf(stderr, "worker: ask failed (%d): %s\n", rc, loupe_study_errmsg(st));
            goto fail;
        }
        if ((rc = loupe_trial_suggest_float(t, "x", -10, 10, 0, 0, &x)) ||
            (rc = loupe_trial_suggest_float(t, "y", -10, 10, 0, 0, &y))) {
            fprintf(stderr, "worker: suggest failed (%d): %s\n", rc, loupe_trial_errmsg(t));
            loupe_trial_free(t);
            goto fail;
        }
        double v = (x - 2) * (x - 2) + y * y;
        if ((rc = loupe_trial_tell(t, LOUPE_COMPLETE, 1, &v, 0))) {
            fprintf(stderr, "worker: tell failed (%d): %s\n", rc, loupe_trial_errmsg(t));
            loupe_trial_free(t);
            goto fail;
        }
        loupe_trial_free(t);
    }
    if (timed) printf("%ld %.3f\n", n, mono_s() - t0);
    loupe_study_close(st);
    loupe_storage_close(s);
    return 0;
fail:
    loupe_study_close(st);
    loupe_storage_close(s);
    return 1;
}

/* ---------------------------------------------------------------- helpers */

static const char *base_url(void) { return getenv("LOUPE_TEST_PG_URL"); }

/* base with its database name replaced by db. */
static void url_with_db(char *out, size_t cap, const char *base, const char *db) {
    const char *auth = strstr(base, "://");
    assert_non_null(auth);
    const char *slash = strchr(auth + 3, '/');
    assert_non_null(slash);
    const char *q = strchr(slash, '?');
    snprintf(out, cap, "%.*s/%s%s", (int)(slash - base), base, db, q ? q : "");
}

static void no_notices(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

/* A libpq connection to the test's database (the admin side of the tests). */
static PGconn *admin(const char *db) {
    char url[1200];
    url_with_db(url, sizeof url, base_url(), db ? db : "postgres");
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) print_error("admin connect: %s\n", PQerrorMessage(c));
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQsetNoticeProcessor(c, no_notices, NULL);
    return c;
}

static void sql(PGconn *c, const char *q) {
    PGresult *r = PQexec(c, q);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        print_error("%s: %s\n", q, PQresultErrorMessage(r));
    assert_true(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
    PQclear(r);
}

/* Rows of a query as "a|b\n..." (malloc'd). */
static char *rows(PGconn *c, const char *q) {
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) print_error("%s: %s\n", q, PQresultErrorMessage(r));
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    size_t cap = 64;
    for (int i = 0; i < PQntuples(r); i++)
        for (int j = 0; j < PQnfields(r); j++) cap += (size_t)PQgetlength(r, i, j) + 2;
    char *out = calloc(1, cap);
    assert_non_null(out);
    for (int i = 0; i < PQntuples(r); i++) {
        for (int j = 0; j < PQnfields(r); j++) {
            if (j) strcat(out, "|");
            strcat(out, PQgetisnull(r, i, j) ? "NULL" : PQgetvalue(r, i, j));
        }
        strcat(out, "\n");
    }
    PQclear(r);
    return out;
}

static void assert_rows(PGconn *c, const char *q, const char *expected) {
    char *got = rows(c, q);
    if (strcmp(got, expected) != 0) print_error("%s:\ngot:\n%s\nexpected:\n%s\n", q, got, expected);
    assert_string_equal(got, expected);
    free(got);
}

/* Drops and creates database db; writes its URL (TCP form) into url. */
static void fresh_db(const char *db, char *url, size_t cap) {
    PGconn *c = admin(NULL);
    char q[256];
    snprintf(q, sizeof q, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    sql(c, q);
    snprintf(q, sizeof q, "CREATE DATABASE %s", db);
    sql(c, q);
    PQfinish(c);
    url_with_db(url, cap, base_url(), db);
}

/* Without a server every test is skipped (a setup function may not skip). */
static void t_needs_server(void **state) {
    (void)state;
    print_message("skipped: LOUPE_TEST_PG_URL / LOUPE_TEST_PG_SOCK_URL are not set "
                  "(tests/interop/test_postgres_storage.sh runs these tests against a "
                  "private server)\n");
    skip();
}

static loupe_storage *open_ok(const char *url, unsigned flags) {
    loupe_storage *s = NULL;
    int rc = loupe_storage_open(url, flags, &s);
    if (rc) print_error("open %s: %d %s\n", url, rc, loupe_storage_errmsg(s));
    assert_int_equal(rc, LOUPE_OK);
    return s;
}

static void one_trial(loupe_storage *s, const char *study, double value) {
    loupe_direction d = LOUPE_MINIMIZE;
    loupe_study *st = NULL;
    assert_int_equal(loupe_study_create(s, study, 1, &d, LOUPE_LOAD_IF_EXISTS, &st), LOUPE_OK);
    loupe_trial *t = NULL;
    assert_int_equal(loupe_study_ask(st, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, &value, 0), LOUPE_OK);
    loupe_trial_free(t);
    loupe_study_close(st);
}

static int64_t n_complete(loupe_storage *s, const char *study) {
    loupe_study *st = NULL;
    assert_int_equal(loupe_study_load(s, study, &st), LOUPE_OK);
    int64_t counts[5];
    assert_int_equal(loupe_study_count_trials(st, counts), LOUPE_OK);
    loupe_study_close(st);
    return counts[LOUPE_COMPLETE];
}

/* ---------------------------------------------------------------- tests */

/* The URL forms users write all reach the same database. */
static void t_url_forms(void **state) {
    (void)state;
    char tcp[1200], sock[1200], alchemy[1300], pg[1300];
    fresh_db("loupe_t_urls", tcp, sizeof tcp);
    url_with_db(sock, sizeof sock, getenv("LOUPE_TEST_PG_SOCK_URL"), "loupe_t_urls");
    snprintf(alchemy, sizeof alchemy, "postgresql+psycopg2://%s", strstr(tcp, "://") + 3);
    snprintf(pg, sizeof pg, "postgres://%s", strstr(tcp, "://") + 3);
    const char *urls[] = {tcp, sock, alchemy, pg};
    for (int i = 0; i < 4; i++) {
        loupe_storage *s = open_ok(urls[i], 0);
        assert_string_equal(loupe_storage_schema_revision(s), "v3.2.0.a");
        one_trial(s, "forms", i);
        assert_int_equal(n_complete(s, "forms"), i + 1);
        loupe_storage_close(s);
    }
}

/* Malformed URLs, wrong passwords, missing databases and absent servers fail
 * at open with a message that says what is wrong, never with the password. */
static void t_open_errors(void **state) {
    (void)state;
    loupe_storage *s = NULL;
    char url[1300];
    assert_int_equal(loupe_storage_open("postgresql://u:TopSecret@[::1/db", 0, &s), LOUPE_EURL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "Malformed PostgreSQL URL"));
    assert_non_null(strstr(loupe_storage_errmsg(s), "IPv6"));
    assert_null(strstr(loupe_storage_errmsg(s), "TopSecret"));
    loupe_storage_close(s);

    assert_int_equal(loupe_storage_open("postgresql://u:pw@h/db?nosuchoption=1", 0, &s), LOUPE_EURL);
    assert_non_null(strstr(loupe_storage_errmsg(s), "nosuchoption"));
    loupe_storage_close(s);

    /* a wrong password: the server's reason, and the URL's user but not the password */
    const char *at = strchr(strstr(base_url(), "://") + 3, '@');
    snprintf(url, sizeof url, "postgresql://postgres:WrongPassword42%s", at);
    assert_int_equal(loupe_storage_open(url, 0, &s), LOUPE_EIO);
    assert_non_null(strstr(loupe_storage_errmsg(s), "password authentication failed"));
    assert_null(strstr(loupe_storage_errmsg(s), "WrongPassword42"));
    assert_int_equal(loupe_storage_list_studies(s, &(loupe_study_list *){NULL}), LOUPE_ESTATE);
    loupe_storage_close(s);

    url_with_db(url, sizeof url, base_url(), "loupe_no_such_db");
    assert_int_equal(loupe_storage_open(url, 0, &s), LOUPE_EIO);
    assert_non_null(strstr(loupe_storage_errmsg(s), "loupe_no_such_db"));
    assert_non_null(strstr(loupe_storage_errmsg(s), "does not exist"));
    loupe_storage_close(s);

    /* nobody listens on port 1 */
    assert_int_equal(loupe_storage_open("postgresql://u:secretpw@127.0.0.1:1/db", 0, &s), LOUPE_EIO);
    assert_non_null(strstr(loupe_storage_errmsg(s), "cannot connect to PostgreSQL"));
    assert_non_null(strstr(loupe_storage_errmsg(s), "127.0.0.1:1"));
    assert_null(strstr(loupe_storage_errmsg(s), "secretpw"));
    loupe_storage_close(s);

    /* MySQL is named as unsupported */
    assert_int_equal(loupe_storage_open("mysql://u@h/db", 0, &s), LOUPE_EURL);
    loupe_storage_close(s);
}

/* A fresh database gets Optuna's objects exactly (pg_dump equality with
 * Python's schema is checked by test_postgres_interop.sh); here the rows. */
static void t_fresh_schema(void **state) {
    (void)state;
    char url[1200];
    fresh_db("loupe_t_schema", url, sizeof url);
    loupe_storage *s = open_ok(url, 0);
    loupe_storage_close(s);
    s = open_ok(url, 0); /* a second open finds the schema and keeps it */
    loupe_storage_close(s);
    PGconn *c = admin("loupe_t_schema");
    assert_rows(c, "SELECT * FROM alembic_version", "v3.2.0.a\n");
    assert_rows(c, "SELECT * FROM version_info", "1|12|loupe-" LOUPE_VERSION "\n");
    assert_rows(c,
                "SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM "
                "pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname ORDER BY 1",
                "studydirection|NOT_SET,MINIMIZE,MAXIMIZE\n"
                "trialintermediatevaluetype|FINITE,INF_POS,INF_NEG,NAN\n"
                "trialstate|RUNNING,COMPLETE,PRUNED,FAIL,WAITING\n"
                "trialvaluetype|FINITE,INF_POS,INF_NEG\n");
    assert_rows(c,
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE "
                "'ix_%' ORDER BY 1",
                "ix_studies_study_name\nix_trials_study_id\n");
    /* the CHECK of version_info holds a second row out */
    PGresult *r = PQexec(c, "INSERT INTO version_info VALUES (2, 12, 'x')");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
    PQclear(r);
    PQfinish(c);
}

/* Optuna 3.0/3.1's revision: refused with the upgrade hint, readable with the
 * skip flag, upgraded in place (index trials_study_id_key, as Optuna does). */
static void t_upgrade(void **state) {
    (void)state;
    char url[1200];
    fresh_db("loupe_t_upgrade", url, sizeof url);
    loupe_storage *s = open_ok(url, 0);
    one_trial(s, "old", 1.5);
    loupe_storage_close(s);
    PGconn *c = admin("loupe_t_upgrade");
    sql(c, "DROP INDEX ix_trials_study_id; UPDATE alembic_version SET version_num = 'v3.0.0.d'; "
           "UPDATE version_info SET library_version = '3.1.0'");
    assert_int_equal(loupe_storage_open(url, 0, &s), LOUPE_ESCHEMA);
    assert_non_null(strstr(loupe_storage_errmsg(s), "loupe storage upgrade"));
    assert_non_null(strstr(loupe_storage_errmsg(s), "3.1.0"));
    loupe_storage_close(s);
    s = open_ok(url, LOUPE_OPEN_SKIP_SCHEMA_CHECK);
    assert_string_equal(loupe_storage_schema_revision(s), "v3.0.0.d");
    assert_int_equal(n_complete(s, "old"), 1);
    loupe_storage_close(s);

    int upgraded = -1;
    char *msg = NULL;
    assert_int_equal(loupe_storage_upgrade(url, &upgraded, &msg), LOUPE_OK);
    assert_int_equal(upgraded, 1);
    assert_non_null(strstr(msg, "v3.2.0.a"));
    loupe_free(msg);
    assert_int_equal(loupe_storage_upgrade(url, &upgraded, &msg), LOUPE_OK);
    assert_int_equal(upgraded, 0);
    assert_string_equal(msg, "This storage is up-to-date.");
    loupe_free(msg);
    assert_rows(c, "SELECT * FROM alembic_version", "v3.2.0.a\n");
    assert_rows(c, "SELECT indexdef FROM pg_indexes WHERE indexname = 'trials_study_id_key'",
                "CREATE INDEX trials_study_id_key ON public.trials USING btree (study_id)\n");
    s = open_ok(url, 0);
    one_trial(s, "old", 2.5);
    assert_int_equal(n_complete(s, "old"), 2);
    loupe_storage_close(s);

    /* older revisions are left to Optuna */
    sql(c, "UPDATE alembic_version SET version_num = 'v2.6.0.a'");
    assert_int_equal(loupe_storage_upgrade(url, &upgraded, &msg), LOUPE_ESCHEMA);
    assert_non_null(strstr(msg, "optuna storage upgrade"));
    loupe_free(msg);
    /* a database with an unrelated "studies" table is not Optuna's */
    sql(c, "DROP TABLE trial_params CASCADE");
    sql(c, "UPDATE alembic_version SET version_num = 'v3.2.0.a'");
    assert_int_equal(loupe_storage_open(url, 0, &s), LOUPE_ECORRUPT);
    assert_non_null(strstr(loupe_storage_errmsg(s), "trial_params"));
    loupe_storage_close(s);
    PQfinish(c);
}

/* data_version moves when anyone commits (here: raw SQL, as a Python worker
 * would), and stays put when nobody writes. */
static void t_data_version(void **state) {
    (void)state;
    char url[1200];
    fresh_db("loupe_t_version", url, sizeof url);
    loupe_storage *s = open_ok(url, 0);
    one_trial(s, "dv", 1.0);
    uint64_t v0, v1, v2, v3;
    assert_int_equal(loupe_storage_data_version(s, &v0), LOUPE_OK);
    assert_int_equal(loupe_storage_data_version(s, &v1), LOUPE_OK);
    assert_true(v0 == v1);
    PGconn *c = admin("loupe_t_version");
    sql(c, "UPDATE trials SET datetime_complete = datetime_complete");
    assert_int_equal(loupe_storage_data_version(s, &v2), LOUPE_OK);
    assert_true(v2 != v1);
    one_trial(s, "dv", 2.0); /* the handle's own writes move it too */
    assert_int_equal(loupe_storage_data_version(s, &v3), LOUPE_OK);
    assert_true(v3 != v2);
    PQfinish(c);
    loupe_storage_close(s);
}

static void kill_loupe_backends(PGconn *c) {
    sql(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
           "'loupe' AND datname = current_database() AND pid <> pg_backend_pid()");
}

/* A dropped connection (the backend killed, as a server restart or a network
 * cut does) is reopened and the operation goes on; when the server stays
 * unreachable past LOUPE_PG_RETRY_MS the error says so and why. */
static void t_connection_loss(void **state) {
    (void)state;
    char url[1200];
    fresh_db("loupe_t_conn", url, sizeof url);
    setenv("LOUPE_PG_RETRY_MS", "1500", 1);
    setenv("LOUPE_PG_QUIET", "1", 1);
    loupe_storage *s = open_ok(url, 0);
    one_trial(s, "conn", 1.0);
    PGconn *c = admin(NULL);
    PGconn *in_db = admin("loupe_t_conn");
    kill_loupe_backends(in_db);
    PQfinish(in_db);
    one_trial(s, "conn", 2.0); /* reconnects transparently */
    assert_int_equal(n_complete(s, "conn"), 2);

    /* no new connections: the outage lasts past the bound */
    sql(c, "ALTER DATABASE loupe_t_conn ALLOW_CONNECTIONS false");
    sql(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
           "'loupe' AND datname = 'loupe_t_conn'");
    loupe_study_list *list = NULL;
    int rc = loupe_storage_list_studies(s, &list);
    assert_int_equal(rc, LOUPE_EIO);
    const char *m = loupe_storage_errmsg(s);
    if (!strstr(m, "gave up after retrying")) print_error("message: %s\n", m);
    assert_non_null(strstr(m, "gave up after retrying"));
    assert_non_null(strstr(m, "not currently accepting connections"));
    assert_non_null(strstr(m, "LOUPE_PG_RETRY_MS"));

    /* back again: the same handle works */
    sql(c, "ALTER DATABASE loupe_t_conn ALLOW_CONNECTIONS true");
    assert_int_equal(loupe_storage_list_studies(s, &list), LOUPE_OK);
    assert_int_equal(loupe_study_list_count(list), 1);
    tu_expect_heads_match(s, list); /* the listing without trial aggregates */
    loupe_study_list_free(list);
    PQfinish(c);
    loupe_storage_close(s);
    unsetenv("LOUPE_PG_RETRY_MS");
    unsetenv("LOUPE_PG_QUIET");
}

/* PostgreSQL enforces what SQLite does not: integer columns are 32-bit and
 * names/keys VARCHAR(512). Both are refused with a message, nothing written. */
static void t_column_limits(void **state) {
    (void)state;
    char url[1200];
    fresh_db("loupe_t_limits", url, sizeof url);
    loupe_storage *s = open_ok(url, 0);
    loupe_direction d = LOUPE_MINIMIZE;
    loupe_study *st = NULL;
    assert_int_equal(loupe_study_create(s, "limits", 1, &d, 0, &st), LOUPE_OK);
    loupe_trial *t = NULL;
    assert_int_equal(loupe_study_ask(st, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_report(t, 0.5, (int64_t)1 << 40), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_trial_errmsg(t), "32-bit"));
    char key[700];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    assert_int_equal(loupe_trial_set_user_attr(t, key, "1"), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_trial_errmsg(t), "512"));
    assert_int_equal(loupe_trial_report(t, 0.5, 3), LOUPE_OK);
    const loupe_frozen_trial *f = NULL;
    assert_int_equal(loupe_trial_snapshot(t, &f), LOUPE_OK);
    assert_int_equal(f->n_intermediate, 1);
    assert_int_equal(f->n_user_attrs, 0);
    loupe_trial_free(t);
    loupe_study_close(st);
    loupe_storage_close(s);
}

/* A row a read rejects is named exactly: the row checks are shared with the
 * SQLite storage (sql_common.c), the server is named as everywhere else. */
static void expect_read_error(loupe_storage *s, const char *prefix, const char *suffix) {
    loupe_study *st = NULL;
    loupe_trial_list *list = NULL;
    const char *msg;
    if (loupe_study_load(s, "rows", &st) != LOUPE_OK) {
        msg = loupe_storage_errmsg(s);
    } else {
        assert_int_equal(loupe_study_get_trials(st, ~0u, &list), LOUPE_ECORRUPT);
        msg = loupe_study_errmsg(st);
    }
    const char *in = " in database 'loupe_t_rows' at ";
    char head[512];
    snprintf(head, sizeof head, "%s%s", prefix, in);
    if (strncmp(msg, head, strlen(head)) != 0 || strlen(msg) < strlen(suffix) ||
        strcmp(msg + strlen(msg) - strlen(suffix), suffix) != 0)
        print_error("got: %s\nwanted: %s...%s\n", msg, head, suffix);
    assert_int_equal(strncmp(msg, head, strlen(head)), 0);
    assert_string_equal(msg + strlen(msg) - strlen(suffix), suffix);
    if (list) loupe_trial_list_free(list);
    loupe_study_close(st);
}

static void t_corrupt_rows(void **state) {
    (void)state;
    char url[1200];
    fresh_db("loupe_t_rows", url, sizeof url);
    loupe_storage *s = open_ok(url, 0);
    one_trial(s, "rows", 1.0);
    PGconn *c = admin("loupe_t_rows");
    /* (states and value types are enums here: no unknown text gets in) */
    sql(c, "UPDATE trials SET number = NULL");
    expect_read_error(s, "trials row trial_id=1", " has no number");
    sql(c, "UPDATE trials SET number = 0; UPDATE trial_values SET value_type = 'INF_POS'");
    expect_read_error(s, "trial_values row of trial_id 1 (objective 0)",
                      " is not in Optuna's form (value_type FINITE with a value, or INF_POS / "
                      "INF_NEG with NULL)");
    sql(c, "UPDATE trial_values SET value_type = 'FINITE'; INSERT INTO trial_intermediate_values "
           "(trial_id, step, intermediate_value, intermediate_value_type) VALUES (1, 7, 1.5, "
           "'NAN')");
    expect_read_error(s, "trial_intermediate_values row of trial_id 1 (step 7)",
                      " is not in Optuna's form (type FINITE with a value, or INF_POS / INF_NEG / "
                      "NAN with NULL)");
    PQfinish(c);
    loupe_storage_close(s);
}

int main(int argc, char **argv) {
    if (argc == 7 && (strcmp(argv[1], "worker") == 0 || strcmp(argv[1], "bench") == 0))
        return worker(argv[2], argv[3], atol(argv[4]), strtoull(argv[5], NULL, 10), argv[6],
                      strcmp(argv[1], "bench") == 0);
    if (argc > 1) {
        fprintf(stderr, "usage: test_postgres [worker|bench URL STUDY N SEED random|tpe]\n");
        return 2;
    }
    if (!base_url() || !getenv("LOUPE_TEST_PG_SOCK_URL")) {
        const struct CMUnitTest none[] = {cmocka_unit_test(t_needs_server)};
        return cmocka_run_group_tests(none, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_url_forms),     cmocka_unit_test(t_open_errors),
        cmocka_unit_test(t_fresh_schema),  cmocka_unit_test(t_upgrade),
        cmocka_unit_test(t_data_version),  cmocka_unit_test(t_connection_loss),
        cmocka_unit_test(t_column_limits), cmocka_unit_test(t_corrupt_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
