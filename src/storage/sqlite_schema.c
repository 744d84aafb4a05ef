/*
 * sqlite_schema.c -- Optuna's RDB schema on SQLite for the SQLite storage: the
 * exact DDL of alembic revision v3.2.0.a, inspection of existing files (tables,
 * columns, revision; read-only), creation of a fresh schema, and the upgrade of
 * every older revision (v0.9.0.a ... v3.0.0.d) to v3.2.0.a in one transaction,
 * with the data rules of Optuna's alembic migrations.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/distribution.h"
#include "core/errors.h"
#include "core/trial_rec.h"
#include "storage/sqlite_internal.h"
#include "util/buf.h"
#include "util/pyjson.h"

const char *const loupe__sq_revisions[LOUPE__SQ_N_REVISIONS] = {
    "v0.9.0.a", "v1.2.0.a", "v1.3.0.a", "v2.4.0.a", "v2.6.0.a",
    "v3.0.0.a", "v3.0.0.b", "v3.0.0.c", "v3.0.0.d", "v3.2.0.a"};

enum {
    REV_090A,
    REV_120A,
    REV_130A,
    REV_240A,
    REV_260A,
    REV_300A,
    REV_300B,
    REV_300C,
    REV_300D,
    REV_320A
};

/* ------------------------------------------------------------ head schema */

/* One table of the head schema: its exact DDL as SQLAlchemy 1.4 emits it (tab
 * before each column line, a space after each comma) and its columns. */
typedef struct head_table {
    const char *name;
    const char *ddl;
    const char *const *columns;
    int optional; /* Optuna creates trial_heartbeats lazily; files may lack it */
} head_table;

static const char *const cols_studies[] = {"study_id", "study_name", NULL};
static const char *const cols_version_info[] = {"version_info_id", "schema_version",
                                                "library_version", NULL};
static const char *const cols_study_directions[] = {"study_direction_id", "direction", "study_id",
                                                    "objective", NULL};
static const char *const cols_study_user_attributes[] = {"study_user_attribute_id", "study_id",
                                                         "key", "value_json", NULL};
static const char *const cols_study_system_attributes[] = {"study_system_attribute_id", "study_id",
                                                           "key", "value_json", NULL};
static const char *const cols_trials[] = {
    "trial_id", "number", "study_id", "state", "datetime_start", "datetime_complete", NULL};
static const char *const cols_trial_user_attributes[] = {"trial_user_attribute_id", "trial_id",
                                                         "key", "value_json", NULL};
static const char *const cols_trial_system_attributes[] = {"trial_system_attribute_id", "trial_id",
                                                           "key", "value_json", NULL};
static const char *const cols_trial_params[] = {"param_id",    "trial_id",          "param_name",
                                                "param_value", "distribution_json", NULL};
static const char *const cols_trial_values[] = {"trial_value_id", "trial_id",   "objective",
                                                "value",          "value_type", NULL};
static const char *const cols_trial_intermediate_values[] = {
    "trial_intermediate_value_id", "trial_id", "step", "intermediate_value",
    "intermediate_value_type",     NULL};
static const char *const cols_trial_heartbeats[] = {"trial_heartbeat_id", "trial_id", "heartbeat",
                                                    NULL};
static const char *const cols_alembic_version[] = {"version_num", NULL};

static const head_table head_tables[] = {
    {"studies",
     "CREATE TABLE studies (\n"
     "\tstudy_id INTEGER NOT NULL, \n"
     "\tstudy_name VARCHAR(512) NOT NULL, \n"
     "\tPRIMARY KEY (study_id)\n"
     ")",
     cols_studies, 0},
    {"version_info",
     "CREATE TABLE version_info (\n"
     "\tversion_info_id INTEGER NOT NULL, \n"
     "\tschema_version INTEGER, \n"
     "\tlibrary_version VARCHAR(256), \n"
     "\tPRIMARY KEY (version_info_id), \n"
     "\tCHECK (version_info_id=1)\n"
     ")",
     cols_version_info, 0},
    {"study_directions",
     "CREATE TABLE study_directions (\n"
     "\tstudy_direction_id INTEGER NOT NULL, \n"
     "\tdirection VARCHAR(8) NOT NULL, \n"
     "\tstudy_id INTEGER NOT NULL, \n"
     "\tobjective INTEGER NOT NULL, \n"
     "\tPRIMARY KEY (study_direction_id), \n"
     "\tUNIQUE (study_id, objective), \n"
     "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
     ")",
     cols_study_directions, 0},
    {"study_user_attributes",
     "CREATE TABLE study_user_attributes (\n"
     "\tstudy_user_attribute_id INTEGER NOT NULL, \n"
     "\tstudy_id INTEGER, \n"
     "\t\"key\" VARCHAR(512), \n"
     "\tvalue_json TEXT, \n"
     "\tPRIMARY KEY (study_user_attribute_id), \n"
     "\tUNIQUE (study_id, \"key\"), \n"
     "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
     ")",
     cols_study_user_attributes, 0},
    {"study_system_attributes",
     "CREATE TABLE study_system_attributes (\n"
     "\tstudy_system_attribute_id INTEGER NOT NULL, \n"
     "\tstudy_id INTEGER, \n"
     "\t\"key\" VARCHAR(512), \n"
     "\tvalue_json TEXT, \n"
     "\tPRIMARY KEY (study_system_attribute_id), \n"
     "\tUNIQUE (study_id, \"key\"), \n"
     "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
     ")",
     cols_study_system_attributes, 0},
    {"trials",
     "CREATE TABLE trials (\n"
     "\ttrial_id INTEGER NOT NULL, \n"
     "\tnumber INTEGER, \n"
     "\tstudy_id INTEGER, \n"
     "\tstate VARCHAR(8) NOT NULL, \n"
     "\tdatetime_start DATETIME, \n"
     "\tdatetime_complete DATETIME, \n"
     "\tPRIMARY KEY (trial_id), \n"
     "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
     ")",
     cols_trials, 0},
    {"trial_user_attributes",
     "CREATE TABLE trial_user_attributes (\n"
     "\ttrial_user_attribute_id INTEGER NOT NULL, \n"
     "\ttrial_id INTEGER, \n"
     "\t\"key\" VARCHAR(512), \n"
     "\tvalue_json TEXT, \n"
     "\tPRIMARY KEY (trial_user_attribute_id), \n"
     "\tUNIQUE (trial_id, \"key\"), \n"
     "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
     ")",
     cols_trial_user_attributes, 0},
    {"trial_system_attributes",
     "CREATE TABLE trial_system_attributes (\n"
     "\ttrial_system_attribute_id INTEGER NOT NULL, \n"
     "\ttrial_id INTEGER, \n"
     "\t\"key\" VARCHAR(512), \n"
     "\tvalue_json TEXT, \n"
     "\tPRIMARY KEY (trial_system_attribute_id), \n"
     "\tUNIQUE (trial_id, \"key\"), \n"
     "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
     ")",
     cols_trial_system_attributes, 0},
    {"trial_params",
     "CREATE TABLE trial_params (\n"
     "\tparam_id INTEGER NOT NULL, \n"
     "\ttrial_id INTEGER, \n"
     "\tparam_name VARCHAR(512), \n"
     "\tparam_value FLOAT, \n"
     "\tdistribution_json TEXT, \n"
     "\tPRIMARY KEY (param_id), \n"
     "\tUNIQUE (trial_id, param_name), \n"
     "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
     ")",
     cols_trial_params, 0},
    {"trial_values",
     "CREATE TABLE trial_values (\n"
     "\ttrial_value_id INTEGER NOT NULL, \n"
     "\ttrial_id INTEGER NOT NULL, \n"
     "\tobjective INTEGER NOT NULL, \n"
     "\tvalue FLOAT, \n"
     "\tvalue_type VARCHAR(7) NOT NULL, \n"
     "\tPRIMARY KEY (trial_value_id), \n"
     "\tUNIQUE (trial_id, objective), \n"
     "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
     ")",
     cols_trial_values, 0},
    {"trial_intermediate_values",
     "CREATE TABLE trial_intermediate_values (\n"
     "\ttrial_intermediate_value_id INTEGER NOT NULL, \n"
     "\ttrial_id INTEGER NOT NULL, \n"
     "\tstep INTEGER NOT NULL, \n"
     "\tintermediate_value FLOAT, \n"
     "\tintermediate_value_type VARCHAR(7) NOT NULL, \n"
     "\tPRIMARY KEY (trial_intermediate_value_id), \n"
     "\tUNIQUE (trial_id, step), \n"
     "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
     ")",
     cols_trial_intermediate_values, 0},
    {"trial_heartbeats",
     "CREATE TABLE trial_heartbeats (\n"
     "\ttrial_heartbeat_id INTEGER NOT NULL, \n"
     "\ttrial_id INTEGER NOT NULL, \n"
     "\theartbeat DATETIME NOT NULL, \n"
     "\tPRIMARY KEY (trial_heartbeat_id), \n"
     "\tUNIQUE (trial_id), \n"
     "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
     ")",
     cols_trial_heartbeats, 1},
    {"alembic_version",
     "CREATE TABLE alembic_version (\n"
     "\tversion_num VARCHAR(32) NOT NULL, \n"
     "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n"
     ")",
     cols_alembic_version, 0},
};
#define N_HEAD_TABLES (sizeof head_tables / sizeof head_tables[0])

/* Indexes of a fresh head database, created right after their table. */
static const char ix_studies_study_name[] =
    "CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)";
static const char ix_trials_study_id[] = "CREATE INDEX ix_trials_study_id ON trials (study_id)";
/* The index revision v3.2.0.a adds to an upgraded database. */
static const char trials_study_id_key[] = "CREATE INDEX trials_study_id_key ON trials (study_id)";

/* float32 max: what Optuna < 3.0 stored for +-inf (migrations v3.0.0.c/d map it back). */
#define RDB_MAX_FLOAT 3.4028234663852886e+38

/* ------------------------------------------------------------ small helpers */

void loupe__sq_url(const char *path, char *out, size_t cap) {
    snprintf(out, cap, "sqlite:///%s", path);
}

int loupe__sq_busy_ms_from_env(void) {
    const char *e = getenv("LOUPE_SQLITE_BUSY_TIMEOUT_MS");
    if (e && *e) {
        char *end;
        long v = strtol(e, &end, 10);
        if (*end == '\0' && v >= 0 && v <= 3600000) return (int)v;
    }
    return LOUPE__SQ_BUSY_MS_DEFAULT;
}

void loupe__sq_backoff(unsigned *seed, int attempt) {
    /* 5..50 ms, growing with the attempt, randomized so that writers spread out */
    *seed = *seed * 1103515245u + 12345u;
    long ms = 5 + (long)((*seed >> 16) % (unsigned)(attempt < 10 ? 5 * attempt + 5 : 50));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int loupe__sq_fail(loupe_storage *s, sqlite3 *db, int rc, const char *path, const char *what) {
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (!path) path = "(database)";
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return loupe__error(s, LOUPE_EBUSY,
                            "the database '%s' stayed locked by another process while %s (%s); "
                            "retry later, or stop the process that holds the lock",
                            path, what, msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return loupe__error(
            s, LOUPE_ECORRUPT,
            "the database file '%s' is damaged or not an SQLite database (%s, while "
            "%s); restore it from a backup",
            path, msg, what);
    case SQLITE_NOMEM: return loupe__error(s, LOUPE_ENOMEM, "out of memory while %s", what);
    case SQLITE_READONLY:
        return loupe__error(s, LOUPE_EIO,
                            "cannot write to '%s' while %s (%s); check the permissions of the file "
                            "and of its directory",
                            path, what, msg);
    case SQLITE_CANTOPEN:
        return loupe__error(s, LOUPE_EIO,
                            "cannot open '%s' while %s (%s); check that the directory exists and "
                            "is writable",
                            path, what, msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
        return loupe__error(s, LOUPE_EIO, "I/O error on '%s' while %s (%s); check the disk", path,
                            what, msg);
    default:
        return loupe__error(s, LOUPE_ERROR, "SQLite error on '%s' while %s: %s", path, what, msg);
    }
}

int loupe__sq_open_db(loupe_storage *s, const char *path, int oflags, int busy_ms, sqlite3 **out) {
    sqlite3 *db = NULL;
    *out = NULL;
    int rc = sqlite3_open_v2(path, &db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        int code = loupe__sq_fail(s, db, rc, path, "opening the file");
        sqlite3_close_v2(db);
        return code;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_ms);
    *out = db;
    return LOUPE_OK;
}

/* Runs SQL without results; on error maps it with what. */
static int exec_sql(loupe_storage *s, sqlite3 *db, const char *path, const char *sql,
                    const char *what) {
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LOUPE_OK : loupe__sq_fail(s, db, rc, path, what);
}

static int prepare(loupe_storage *s, sqlite3 *db, const char *path, const char *sql,
                   sqlite3_stmt **st, const char *what) {
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? LOUPE_OK : loupe__sq_fail(s, db, rc, path, what);
}

/* 1 if the table exists, 0 if not, <0 (negated loupe code) on error. */
static int table_exists(loupe_storage *s, sqlite3 *db, const char *path, const char *table) {
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, db, path, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1", &st,
                     "reading the table list");
    if (rc) return -rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int res = step == SQLITE_ROW    ? 1
              : step == SQLITE_DONE ? 0
                                    : -loupe__sq_fail(s, db, step, path, "reading the table list");
    sqlite3_finalize(st);
    return res;
}

/* 1 if table has column, 0 if not, <0 on error. */
static int column_exists(loupe_storage *s, sqlite3 *db, const char *path, const char *table,
                         const char *column) {
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, db, path, "SELECT 1 FROM pragma_table_info(?1) WHERE name=?2", &st,
                     "reading the columns of a table");
    if (rc) return -rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int res = step == SQLITE_ROW ? 1
              : step == SQLITE_DONE
                  ? 0
                  : -loupe__sq_fail(s, db, step, path, "reading the columns of a table");
    sqlite3_finalize(st);
    return res;
}

static int revision_index(const char *rev) {
    for (int i = 0; i < LOUPE__SQ_N_REVISIONS; i++)
        if (strcmp(rev, loupe__sq_revisions[i]) == 0) return i;
    return -1;
}

/* ------------------------------------------------------------ inspection */

/* Checks that every head table (except optional ones) has all head columns. */
static int check_head_columns(loupe_storage *s, sqlite3 *db, const char *path, const char *rev,
                              int *has_heartbeats) {
    for (size_t i = 0; i < N_HEAD_TABLES; i++) {
        const head_table *t = &head_tables[i];
        int ex = table_exists(s, db, path, t->name);
        if (ex < 0) return -ex;
        if (!ex) {
            if (t->optional) continue;
            return loupe__error(s, LOUPE_ECORRUPT,
                                "'%s' claims Optuna schema revision %s but has no table '%s'; the "
                                "file is damaged or was changed by another program",
                                path, rev, t->name);
        }
        if (t->optional) *has_heartbeats = 1;
        for (const char *const *c = t->columns; *c; c++) {
            int ce = column_exists(s, db, path, t->name, *c);
            if (ce < 0) return -ce;
            if (!ce)
                return loupe__error(s, LOUPE_ECORRUPT,
                                    "'%s' claims Optuna schema revision %s but its table '%s' has "
                                    "no column '%s'; the file is damaged or was changed by "
                                    "another program",
                                    path, rev, t->name, *c);
        }
    }
    return LOUPE_OK;
}

int loupe__sq_inspect_db(loupe_storage *s, sqlite3 *db, const char *path, loupe__sq_inspect *out) {
    memset(out, 0, sizeof *out);
    out->rev_index = -2;
    sqlite3_stmt *st = NULL;
    int has_studies = 0, has_trials = 0, has_alembic = 0, has_version_info = 0;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT "
                                "LIKE 'sqlite\\_%' ESCAPE '\\'",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            if (!name) continue;
            out->n_tables++;
            if (strcmp(name, "studies") == 0)
                has_studies = 1;
            else if (strcmp(name, "trials") == 0)
                has_trials = 1;
            else if (strcmp(name, "alembic_version") == 0)
                has_alembic = 1;
            else if (strcmp(name, "version_info") == 0)
                has_version_info = 1;
        }
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_OK) {
        int prim = rc & 0xff;
        if (prim == SQLITE_NOTADB)
            return loupe__error(s, LOUPE_ECORRUPT,
                                "'%s' is not an SQLite database (%s); check the path: a loupe "
                                "storage is an SQLite file written by Optuna or loupe",
                                path, sqlite3_errmsg(db));
        if (prim == SQLITE_CORRUPT)
            return loupe__error(s, LOUPE_ECORRUPT,
                                "'%s' is a damaged SQLite database (%s); restore it from a backup "
                                "(sqlite3's .recover command may salvage its rows)",
                                path, sqlite3_errmsg(db));
        return loupe__sq_fail(s, db, rc, path, "reading the table list");
    }
    if (out->n_tables == 0) return LOUPE_OK;
    if (!has_studies || !has_trials)
        return loupe__error(s, LOUPE_ECORRUPT,
                            "'%s' is an SQLite database but not an Optuna storage (it has no "
                            "table '%s'); use a new file name for a new storage",
                            path, has_studies ? "trials" : "studies");

    int64_t schema_version = -1;
    if (has_version_info) {
        rc =
            prepare(s, db, path, "SELECT schema_version, library_version FROM version_info LIMIT 1",
                    &st, "reading version_info");
        if (rc) return rc;
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) != SQLITE_NULL)
                schema_version = sqlite3_column_int64(st, 0);
            const char *lv = (const char *)sqlite3_column_text(st, 1);
            snprintf(out->library_version, sizeof out->library_version, "%s", lv ? lv : "");
        } else if (step != SQLITE_DONE) {
            rc = loupe__sq_fail(s, db, step, path, "reading version_info");
        }
        sqlite3_finalize(st);
        st = NULL;
        if (rc) return rc;
    }
    if (has_alembic) {
        rc = prepare(s, db, path, "SELECT version_num FROM alembic_version", &st,
                     "reading alembic_version");
        if (rc) return rc;
        int n = 0, step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *v = (const char *)sqlite3_column_text(st, 0);
            if (n++ == 0) snprintf(out->revision, sizeof out->revision, "%s", v ? v : "");
        }
        if (step != SQLITE_DONE) rc = loupe__sq_fail(s, db, step, path, "reading alembic_version");
        sqlite3_finalize(st);
        st = NULL;
        if (rc) return rc;
        if (n > 1)
            return loupe__error(s, LOUPE_ECORRUPT,
                                "'%s' has %d rows in alembic_version (Optuna writes exactly one); "
                                "the file was changed by another program",
                                path, n);
    }
    if (out->revision[0]) {
        out->rev_index = revision_index(out->revision);
    } else if (schema_version >= 0 && schema_version != 12) {
        /* Optuna stamps the base revision on databases made before alembic */
        snprintf(out->revision, sizeof out->revision, "%s", loupe__sq_revisions[REV_090A]);
        out->rev_index = REV_090A;
    }
    if (out->rev_index >= REV_300D) {
        rc = check_head_columns(s, db, path, out->revision, &out->has_heartbeats);
        if (rc) return rc;
    }
    return LOUPE_OK;
}

int loupe__sq_inspect_file(loupe_storage *s, const char *path, int busy_ms,
                           loupe__sq_inspect *out) {
    sqlite3 *db = NULL;
    int rc = loupe__sq_open_db(s, path, SQLITE_OPEN_READONLY, busy_ms, &db);
    if (!rc) rc = loupe__sq_inspect_db(s, db, path, out);
    sqlite3_close_v2(db);
    if (rc == LOUPE_EIO) {
        /* a hot journal left by a crashed writer needs a read-write connection:
         * SQLite rolls it back on open (its own recovery, not a write of ours) */
        db = NULL;
        if (loupe__sq_open_db(s, path, SQLITE_OPEN_READWRITE, busy_ms, &db) == LOUPE_OK) {
            rc = loupe__sq_inspect_db(s, db, path, out);
            sqlite3_close_v2(db);
        }
    }
    return rc;
}

int loupe__sq_create_schema(loupe_storage *s, sqlite3 *db) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    for (size_t i = 0; i < N_HEAD_TABLES; i++) {
        loupe__buf_puts(&b, head_tables[i].ddl);
        loupe__buf_puts(&b, ";\n");
        if (strcmp(head_tables[i].name, "studies") == 0) {
            loupe__buf_puts(&b, ix_studies_study_name);
            loupe__buf_puts(&b, ";\n");
        } else if (strcmp(head_tables[i].name, "trials") == 0) {
            loupe__buf_puts(&b, ix_trials_study_id);
            loupe__buf_puts(&b, ";\n");
        }
    }
    loupe__buf_printf(&b,
                      "INSERT INTO version_info (version_info_id, schema_version, library_version) "
                      "VALUES (1, 12, '%s');\n"
                      "INSERT INTO alembic_version (version_num) VALUES ('%s');\n",
                      LOUPE__LIBRARY_VERSION, LOUPE__SCHEMA_HEAD);
    if (b.failed) {
        loupe__buf_free(&b);
        return loupe__error(s, LOUPE_ENOMEM, "out of memory while creating the schema");
    }
    int rc = exec_sql(s, db, NULL, b.data, "creating Optuna's schema");
    loupe__buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------ upgrade */

typedef struct upgrade_ctx {
    loupe_storage *s; /* a message holder (not a real storage) */
    sqlite3 *db;
    const char *path;
} upgrade_ctx;

static int ux(upgrade_ctx *u, const char *sql, const char *what) {
    return exec_sql(u->s, u->db, u->path, sql, what);
}

static int require_column(upgrade_ctx *u, const char *table, const char *column, const char *rev) {
    int ce = column_exists(u->s, u->db, u->path, table, column);
    if (ce < 0) return -ce;
    if (!ce)
        return loupe__error(u->s, LOUPE_ECORRUPT,
                            "cannot upgrade '%s' from %s: its table '%s' has no column '%s', "
                            "which that revision has; the file was changed by another program",
                            u->path, rev, table, column);
    return LOUPE_OK;
}

/* Guesses the revision of a database without an alembic stamp from its columns
 * (the lowest revision consistent with them; later steps are idempotent). */
static int infer_revision(upgrade_ctx *u, int *rev) {
    int c;
    if ((c = column_exists(u->s, u->db, u->path, "trials", "number")) < 0) return -c;
    if (!c) return *rev = REV_120A, LOUPE_OK;
    if ((c = column_exists(u->s, u->db, u->path, "studies", "direction")) < 0) return -c;
    if (c) return *rev = REV_130A, LOUPE_OK;
    if ((c = column_exists(u->s, u->db, u->path, "trial_intermediate_values",
                           "intermediate_value_type")) < 0)
        return -c;
    if (!c) return *rev = REV_240A, LOUPE_OK;
    if ((c = column_exists(u->s, u->db, u->path, "trial_values", "value_type")) < 0) return -c;
    if (!c) return *rev = REV_300C, LOUPE_OK;
    *rev = REV_300D;
    return LOUPE_OK;
}

static const head_table *find_head_table(const char *name) {
    for (size_t i = 0; i < N_HEAD_TABLES; i++)
        if (strcmp(head_tables[i].name, name) == 0) return &head_tables[i];
    return NULL;
}

/* v1.3.0.a: trials.number from the trial system attr "_number", which is deleted.
 * Trials without it (never written by Optuna) get their position in the study. */
static int step_number(upgrade_ctx *u) {
    int c = column_exists(u->s, u->db, u->path, "trials", "number");
    if (c < 0) return -c;
    int rc;
    if (!c && (rc = ux(u, "ALTER TABLE trials ADD COLUMN number INTEGER", "adding trials.number")))
        return rc;
    if ((rc = ux(u,
                 "UPDATE trials SET number = (SELECT CAST(a.value_json AS INTEGER) FROM "
                 "trial_system_attributes a WHERE a.trial_id = trials.trial_id AND a.\"key\" = "
                 "'_number') WHERE EXISTS (SELECT 1 FROM trial_system_attributes a WHERE "
                 "a.trial_id = trials.trial_id AND a.\"key\" = '_number')",
                 "moving the _number attribute into trials.number")))
        return rc;
    if ((rc = ux(u, "DELETE FROM trial_system_attributes WHERE \"key\" = '_number'",
                 "deleting the _number attributes")))
        return rc;
    return ux(u,
              "UPDATE trials SET number = (SELECT count(*) FROM trials t2 WHERE t2.study_id = "
              "trials.study_id AND t2.trial_id < trials.trial_id) WHERE number IS NULL",
              "numbering trials without a _number attribute");
}

/* v2.4.0.a: directions move to study_directions (objective 0), the old
 * trial_values (intermediate values by step) move to trial_intermediate_values,
 * and trial_values becomes (trial_id, objective, value) filled from trials.value. */
static int step_multi_objective(upgrade_ctx *u, int rev) {
    const char *rv = loupe__sq_revisions[rev];
    int rc;
    if ((rc = require_column(u, "studies", "direction", rv)) ||
        (rc = require_column(u, "trials", "value", rv)) ||
        (rc = require_column(u, "trial_values", "step", rv)))
        return rc;
    int ex = table_exists(u->s, u->db, u->path, "study_directions");
    if (ex < 0) return -ex;
    if (!ex && (rc = ux(u, find_head_table("study_directions")->ddl, "creating study_directions")))
        return rc;
    if ((rc = ux(u,
                 "INSERT INTO study_directions (direction, study_id, objective) SELECT direction, "
                 "study_id, 0 FROM studies ORDER BY study_id",
                 "copying study directions")))
        return rc;
    ex = table_exists(u->s, u->db, u->path, "trial_intermediate_values");
    if (ex < 0) return -ex;
    if (!ex && (rc = ux(u, find_head_table("trial_intermediate_values")->ddl,
                        "creating trial_intermediate_values")))
        return rc;
    int has_type =
        column_exists(u->s, u->db, u->path, "trial_intermediate_values", "intermediate_value_type");
    if (has_type < 0) return -has_type;
    if ((rc = ux(u,
                 has_type
                     ? "INSERT INTO trial_intermediate_values (trial_id, step, "
                       "intermediate_value, intermediate_value_type) SELECT trial_id, step, "
                       "value, 'FINITE' FROM trial_values WHERE trial_id IS NOT NULL AND step "
                       "IS NOT NULL ORDER BY trial_value_id"
                     : "INSERT INTO trial_intermediate_values (trial_id, step, "
                       "intermediate_value) SELECT trial_id, step, value FROM trial_values "
                       "WHERE trial_id IS NOT NULL AND step IS NOT NULL ORDER BY trial_value_id",
                 "moving intermediate values")))
        return rc;

    /* Migration v3.0.0.b refuses COMPLETE trials without a value; check it here,
     * where the value is still trials.value. */
    sqlite3_stmt *st = NULL;
    if ((rc = prepare(u->s, u->db, u->path,
                      "SELECT trial_id FROM trials WHERE state = 'COMPLETE' AND value IS NULL "
                      "ORDER BY trial_id LIMIT 1",
                      &st, "checking trial values")))
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = loupe__error(u->s, LOUPE_ECORRUPT,
                          "cannot upgrade '%s': trial_id %lld is COMPLETE but has no value "
                          "(Optuna's migration v3.0.0.b refuses such trials too); set its value "
                          "or its state with sqlite3, then upgrade again",
                          u->path, (long long)sqlite3_column_int64(st, 0));
    else if (step != SQLITE_DONE)
        rc = loupe__sq_fail(u->s, u->db, step, u->path, "checking trial values");
    sqlite3_finalize(st);
    if (rc) return rc;

    if ((rc = ux(u, "ALTER TABLE trial_values RENAME TO _loupe_old_trial_values",
                 "replacing trial_values")) ||
        (rc = ux(u, find_head_table("trial_values")->ddl, "replacing trial_values")) ||
        (rc = ux(u,
                 "INSERT INTO trial_values (trial_id, objective, value, value_type) SELECT "
                 "trial_id, 0, value, 'FINITE' FROM trials WHERE value IS NOT NULL ORDER BY "
                 "trial_id",
                 "copying objective values")) ||
        (rc = ux(u, "DROP TABLE _loupe_old_trial_values", "replacing trial_values")))
        return rc;
    return LOUPE_OK;
}

/* v3.0.0.a: legacy distribution names (UniformDistribution, ...) and the
 * abbreviated {"type": ...} form become FloatDistribution/IntDistribution JSON. */
typedef struct dist_fix {
    int64_t param_id;
    char *json;
} dist_fix;

static int step_distributions(upgrade_ctx *u) {
    sqlite3_stmt *st = NULL;
    dist_fix *fixes = NULL;
    size_t n_fixes = 0, alloc = 0;
    int rc = prepare(u->s, u->db, u->path,
                     "SELECT param_id, distribution_json FROM trial_params ORDER BY param_id", &st,
                     "reading distributions");
    if (rc) return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *json = (const char *)sqlite3_column_text(st, 1);
        char err[256];
        yyjson_doc *doc = json ? loupe__pyjson_parse(json, strlen(json), err, sizeof err) : NULL;
        if (!doc) {
            rc = loupe__error(u->s, LOUPE_ECORRUPT,
                              "cannot upgrade '%s': trial_params row %lld has no valid "
                              "distribution_json (%s)",
                              u->path, (long long)id, json ? err : "NULL");
            break;
        }
        const char *name = yyjson_get_str(yyjson_obj_get(yyjson_doc_get_root(doc), "name"));
        int current = name && (strcmp(name, "FloatDistribution") == 0 ||
                               strcmp(name, "IntDistribution") == 0 ||
                               strcmp(name, "CategoricalDistribution") == 0);
        yyjson_doc_free(doc);
        if (current) continue;
        loupe_distribution d;
        rc = loupe__distribution_from_json(json, &d, err, sizeof err);
        if (rc == LOUPE_OK) rc = loupe__distribution_check(&d, err, sizeof err);
        if (rc != LOUPE_OK) {
            loupe__distribution_free(&d);
            rc = rc == LOUPE_ENOMEM ? loupe__error(u->s, rc, "out of memory")
                                    : loupe__error(u->s, LOUPE_ECORRUPT,
                                                   "cannot upgrade '%s': trial_params row %lld "
                                                   "has a distribution Optuna cannot convert (%s)",
                                                   u->path, (long long)id, err);
            break;
        }
        loupe__buf b;
        loupe__buf_init(&b, 0);
        loupe__distribution_write_json(&b, &d);
        loupe__distribution_free(&d);
        char *text = loupe__buf_steal(&b);
        if (n_fixes == alloc) {
            size_t na = alloc ? alloc * 2 : 64;
            dist_fix *p = realloc(fixes, na * sizeof *p);
            if (!p) {
                free(text);
                text = NULL;
            } else {
                fixes = p;
                alloc = na;
            }
        }
        if (!text) {
            rc = loupe__error(u->s, LOUPE_ENOMEM, "out of memory while converting distributions");
            break;
        }
        fixes[n_fixes].param_id = id;
        fixes[n_fixes++].json = text;
    }
    if (!rc && step != SQLITE_DONE)
        rc = loupe__sq_fail(u->s, u->db, step, u->path, "reading distributions");
    sqlite3_finalize(st);
    st = NULL;
    if (!rc && n_fixes) {
        rc = prepare(u->s, u->db, u->path,
                     "UPDATE trial_params SET distribution_json = ?2 WHERE param_id = ?1", &st,
                     "rewriting distributions");
        for (size_t i = 0; !rc && i < n_fixes; i++) {
            sqlite3_bind_int64(st, 1, fixes[i].param_id);
            sqlite3_bind_text(st, 2, fixes[i].json, -1, SQLITE_STATIC);
            step = sqlite3_step(st);
            if (step != SQLITE_DONE)
                rc = loupe__sq_fail(u->s, u->db, step, u->path, "rewriting distributions");
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    for (size_t i = 0; i < n_fixes; i++) free(fixes[i].json);
    free(fixes);
    return rc;
}

/* v3.0.0.b: a COMPLETE trial must have values; other NULL values are deleted. */
static int step_null_values(upgrade_ctx *u) {
    sqlite3_stmt *st = NULL;
    int rc =
        prepare(u->s, u->db, u->path,
                "SELECT v.trial_id FROM trial_values v JOIN trials t ON t.trial_id = "
                "v.trial_id WHERE t.state = 'COMPLETE' AND v.value IS NULL ORDER BY v.trial_id "
                "LIMIT 1",
                &st, "checking trial values");
    if (rc) return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = loupe__error(u->s, LOUPE_ECORRUPT,
                          "cannot upgrade '%s': trial_id %lld is COMPLETE but one of its "
                          "trial_values is NULL (Optuna's migration v3.0.0.b refuses this too); "
                          "fix that row with sqlite3, then upgrade again",
                          u->path, (long long)sqlite3_column_int64(st, 0));
    else if (step != SQLITE_DONE)
        rc = loupe__sq_fail(u->s, u->db, step, u->path, "checking trial values");
    sqlite3_finalize(st);
    if (rc) return rc;
    return ux(u, "DELETE FROM trial_values WHERE value IS NULL", "deleting NULL trial values");
}

/* Whether an existing table differs from the head table (columns, types,
 * NOT NULL, primary key) or carries CHECK constraints of old SQLAlchemy enums. */
static int table_differs(upgrade_ctx *u, sqlite3 *head_db, const head_table *t, int *differs) {
    static const char q[] =
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid";
    sqlite3_stmt *a = NULL, *b = NULL;
    int rc = prepare(u->s, u->db, u->path, q, &a, "comparing a table with Optuna's schema");
    if (!rc)
        rc = prepare(u->s, head_db, "(schema)", q, &b, "comparing a table with Optuna's schema");
    *differs = 0;
    if (!rc) {
        sqlite3_bind_text(a, 1, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(b, 1, t->name, -1, SQLITE_STATIC);
        for (;;) {
            int sa = sqlite3_step(a), sb = sqlite3_step(b);
            if (sa != SQLITE_ROW && sa != SQLITE_DONE) {
                rc = loupe__sq_fail(u->s, u->db, sa, u->path,
                                    "comparing a table with Optuna's schema");
                break;
            }
            if (sa != sb) {
                *differs = 1;
                break;
            }
            if (sa == SQLITE_DONE) break;
            for (int c = 0; c < 4; c++) {
                const char *x = (const char *)sqlite3_column_text(a, c);
                const char *y = (const char *)sqlite3_column_text(b, c);
                if (strcasecmp(x ? x : "", y ? y : "") != 0) *differs = 1;
            }
            if (*differs) break;
        }
    }
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    if (rc || *differs || strcmp(t->name, "version_info") == 0) return rc;
    /* enum CHECK constraints left by SQLAlchemy < 1.4 (Optuna never reads them) */
    rc =
        prepare(u->s, u->db, u->path,
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1 AND sql LIKE '%CHECK%'",
                &a, "comparing a table with Optuna's schema");
    if (rc) return rc;
    sqlite3_bind_text(a, 1, t->name, -1, SQLITE_STATIC);
    int step = sqlite3_step(a);
    if (step == SQLITE_ROW)
        *differs = 1;
    else if (step != SQLITE_DONE)
        rc = loupe__sq_fail(u->s, u->db, step, u->path, "comparing a table with Optuna's schema");
    sqlite3_finalize(a);
    return rc;
}

/* Recreates a table with the head DDL and copies its rows (ids kept; columns
 * the old table lacks get NULL, or 'FINITE' for the value-type columns). Its
 * explicit indexes are recreated when their columns still exist. */
static int rebuild_table(upgrade_ctx *u, const head_table *t) {
    loupe__buf sql, cols, exprs;
    loupe__buf_init(&sql, 0);
    loupe__buf_init(&cols, 0);
    loupe__buf_init(&exprs, 0);
    char **indexes = NULL;
    size_t n_indexes = 0;
    sqlite3_stmt *st = NULL;
    int rc = prepare(u->s, u->db, u->path,
                     "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name=?1 AND sql IS "
                     "NOT NULL ORDER BY rowid",
                     &st, "reading indexes");
    if (rc) goto cleanup;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        char **p = realloc(indexes, (n_indexes + 1) * sizeof *p);
        if (!p) {
            rc = loupe__error(u->s, LOUPE_ENOMEM, "out of memory");
            goto cleanup;
        }
        indexes = p;
        indexes[n_indexes] = strdup((const char *)sqlite3_column_text(st, 0));
        if (!indexes[n_indexes++]) {
            rc = loupe__error(u->s, LOUPE_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    if (step != SQLITE_DONE) {
        rc = loupe__sq_fail(u->s, u->db, step, u->path, "reading indexes");
        goto cleanup;
    }
    sqlite3_finalize(st);
    st = NULL;

    for (const char *const *c = t->columns; *c; c++) {
        int ce = column_exists(u->s, u->db, u->path, t->name, *c);
        if (ce < 0) {
            rc = -ce;
            goto cleanup;
        }
        if (c != t->columns) {
            loupe__buf_puts(&cols, ", ");
            loupe__buf_puts(&exprs, ", ");
        }
        loupe__buf_printf(&cols, "\"%s\"", *c);
        if (ce)
            loupe__buf_printf(&exprs, "\"%s\"", *c);
        else if (strcmp(*c, "value_type") == 0 || strcmp(*c, "intermediate_value_type") == 0)
            loupe__buf_puts(&exprs, "'FINITE'");
        else
            loupe__buf_puts(&exprs, "NULL");
    }
    loupe__buf_printf(&sql, "ALTER TABLE \"%s\" RENAME TO \"_loupe_old_%s\";\n%s;\n", t->name,
                      t->name, t->ddl);
    loupe__buf_printf(&sql,
                      "INSERT INTO \"%s\" (%s) SELECT %s FROM \"_loupe_old_%s\" ORDER BY rowid;\n",
                      t->name, cols.data ? cols.data : "", exprs.data ? exprs.data : "", t->name);
    loupe__buf_printf(&sql, "DROP TABLE \"_loupe_old_%s\";\n", t->name);
    if (sql.failed || cols.failed || exprs.failed) {
        rc = loupe__error(u->s, LOUPE_ENOMEM, "out of memory");
        goto cleanup;
    }
    char what[128];
    snprintf(what, sizeof what, "rebuilding table %s with Optuna's current columns", t->name);
    if ((rc = ux(u, sql.data, what))) goto cleanup;
    for (size_t i = 0; i < n_indexes; i++) {
        /* an index on a dropped column cannot come back; that is what alembic does too */
        if (sqlite3_exec(u->db, indexes[i], NULL, NULL, NULL) != SQLITE_OK &&
            sqlite3_errcode(u->db) != SQLITE_ERROR) {
            rc =
                loupe__sq_fail(u->s, u->db, sqlite3_errcode(u->db), u->path, "recreating an index");
            goto cleanup;
        }
    }
cleanup:
    sqlite3_finalize(st);
    for (size_t i = 0; i < n_indexes; i++) free(indexes[i]);
    free(indexes);
    loupe__buf_free(&sql);
    loupe__buf_free(&cols);
    loupe__buf_free(&exprs);
    return rc;
}

/* Brings every head table to the head columns: creates missing tables,
 * rebuilds those that differ (v2.4.0.a drops, v2.6.0.a TEXT types, v3.0.0.b
 * nullability, v3.0.0.c/d type columns). */
static int step_tables(upgrade_ctx *u) {
    sqlite3 *head_db = NULL;
    int rc = loupe__sq_open_db(u->s, ":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 0,
                               &head_db);
    if (rc) return rc;
    for (size_t i = 0; !rc && i < N_HEAD_TABLES; i++) {
        rc = exec_sql(u->s, head_db, "(schema)", head_tables[i].ddl,
                      "building the reference schema");
    }
    for (size_t i = 0; !rc && i < N_HEAD_TABLES; i++) {
        const head_table *t = &head_tables[i];
        int ex = table_exists(u->s, u->db, u->path, t->name);
        if (ex < 0) {
            rc = -ex;
            break;
        }
        if (!ex) {
            char what[96];
            snprintf(what, sizeof what, "creating table %s", t->name);
            rc = ux(u, t->ddl, what);
            if (!rc && strcmp(t->name, "studies") == 0) rc = ux(u, ix_studies_study_name, what);
            continue;
        }
        int differs = 0;
        rc = table_differs(u, head_db, t, &differs);
        if (!rc && differs) rc = rebuild_table(u, t);
    }
    sqlite3_close_v2(head_db);
    return rc;
}

/* Optuna's rule (migrations v3.0.0.c/d) for values written before the type
 * columns existed: float32 max (what old versions stored for inf) or inf
 * becomes INF_POS/INF_NEG with a NULL value; NULL intermediate values are NaN. */
static int isclose(double a, double b) { return fabs(a - b) <= 1e-08 + 1e-05 * fabs(b); }

static int step_value_types(upgrade_ctx *u, int intermediate) {
    const char *sel =
        intermediate
            ? "SELECT trial_intermediate_value_id, intermediate_value FROM "
              "trial_intermediate_values "
              "WHERE intermediate_value > 1e16 OR intermediate_value < -1e16 OR intermediate_value "
              "IS NULL"
            : "SELECT trial_value_id, value FROM trial_values WHERE value > 1e16 OR value < -1e16";
    const char *upd = intermediate
                          ? "UPDATE trial_intermediate_values SET intermediate_value = ?2, "
                            "intermediate_value_type = ?3 WHERE trial_intermediate_value_id = ?1"
                          : "UPDATE trial_values SET value = ?2, value_type = ?3 WHERE "
                            "trial_value_id = ?1";
    const char *what = intermediate ? "typing intermediate values" : "typing trial values";
    typedef struct fix {
        int64_t id;
        double v;
        const char *type;
    } fix;
    fix *fixes = NULL;
    size_t n = 0, alloc = 0;
    sqlite3_stmt *st = NULL;
    int rc = prepare(u->s, u->db, u->path, sel, &st, what);
    if (rc) return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        fix f = {sqlite3_column_int64(st, 0), 0.0, "FINITE"};
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            f.type = "NAN";
        } else {
            double v = sqlite3_column_double(st, 1);
            if (isnan(v))
                f.type = "NAN";
            else if (isclose(v, RDB_MAX_FLOAT) || (isinf(v) && v > 0))
                f.type = "INF_POS";
            else if (isclose(v, -RDB_MAX_FLOAT) || (isinf(v) && v < 0))
                f.type = "INF_NEG";
            else
                f.v = v;
        }
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 16;
            fix *p = realloc(fixes, na * sizeof *p);
            if (!p) {
                rc = loupe__error(u->s, LOUPE_ENOMEM, "out of memory");
                break;
            }
            fixes = p;
            alloc = na;
        }
        fixes[n++] = f;
    }
    if (!rc && step != SQLITE_DONE) rc = loupe__sq_fail(u->s, u->db, step, u->path, what);
    sqlite3_finalize(st);
    st = NULL;
    if (!rc && n) {
        rc = prepare(u->s, u->db, u->path, upd, &st, what);
        for (size_t i = 0; !rc && i < n; i++) {
            sqlite3_bind_int64(st, 1, fixes[i].id);
            if (strcmp(fixes[i].type, "FINITE") == 0)
                sqlite3_bind_double(st, 2, fixes[i].v);
            else
                sqlite3_bind_null(st, 2);
            sqlite3_bind_text(st, 3, fixes[i].type, -1, SQLITE_STATIC);
            step = sqlite3_step(st);
            if (step != SQLITE_DONE) rc = loupe__sq_fail(u->s, u->db, step, u->path, what);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    free(fixes);
    return rc;
}

/* v3.2.0.a: the index on trials(study_id), under the name alembic gives it. */
static int step_index(upgrade_ctx *u) {
    sqlite3_stmt *st = NULL;
    int rc =
        prepare(u->s, u->db, u->path,
                "SELECT 1 FROM sqlite_master WHERE type='index' AND name='trials_study_id_key'",
                &st, "reading indexes");
    if (rc) return rc;
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step == SQLITE_ROW) return LOUPE_OK;
    if (step != SQLITE_DONE) return loupe__sq_fail(u->s, u->db, step, u->path, "reading indexes");
    return ux(u, trials_study_id_key, "creating the index trials_study_id_key");
}

/* The alembic stamp and version_info, as Optuna's upgrade() leaves them. */
static int step_stamp(upgrade_ctx *u) {
    int rc = ux(u, "UPDATE alembic_version SET version_num = '" LOUPE__SCHEMA_HEAD "'",
                "stamping the alembic revision");
    if (!rc && sqlite3_changes(u->db) == 0)
        rc = ux(u, "INSERT INTO alembic_version (version_num) VALUES ('" LOUPE__SCHEMA_HEAD "')",
                "stamping the alembic revision");
    if (rc) return rc;
    rc =
        ux(u,
           "UPDATE version_info SET schema_version = 12, library_version = '" LOUPE__LIBRARY_VERSION
           "'",
           "updating version_info");
    if (!rc && sqlite3_changes(u->db) == 0)
        rc = ux(u,
                "INSERT INTO version_info (version_info_id, schema_version, library_version) "
                "VALUES (1, 12, '" LOUPE__LIBRARY_VERSION "')",
                "writing version_info");
    return rc;
}

/* Runs every migration after rev, inside the caller's transaction. */
static int run_migrations(upgrade_ctx *u, int rev) {
    int rc = LOUPE_OK;
    if (rev < REV_130A && (rc = step_number(u))) return rc;
    if (rev < REV_240A && (rc = step_multi_objective(u, rev))) return rc;
    if (rev < REV_300A && (rc = step_distributions(u))) return rc;
    if (rev < REV_300B && (rc = step_null_values(u))) return rc;
    if ((rc = step_tables(u))) return rc;
    if (rev < REV_300C && (rc = step_value_types(u, 1))) return rc;
    if (rev < REV_300D && (rc = step_value_types(u, 0))) return rc;
    if (rev < REV_320A && (rc = step_index(u))) return rc;
    return step_stamp(u);
}

int loupe__sqlite_storage_upgrade(const char *path, int *upgraded, char **message) {
    loupe_storage msg;
    memset(&msg, 0, sizeof msg);
    loupe__error_clear(&msg);
    int dummy_up;
    if (!upgraded) upgraded = &dummy_up;
    *upgraded = 0;
    if (message) *message = NULL;
    sqlite3 *db = NULL;
    int rc = LOUPE_OK;
    int busy_ms = loupe__sq_busy_ms_from_env();
    struct stat sb;
    loupe__sq_inspect info;
    char done_msg[512] = "";

    if (!path || !*path) {
        rc = loupe__error(&msg, LOUPE_EINVAL, "no SQLite file path given");
        goto cleanup;
    }
    if (stat(path, &sb) != 0) {
        rc = loupe__error(&msg, LOUPE_EIO, "cannot upgrade '%s': %s", path, strerror(errno));
        goto cleanup;
    }
    if (sb.st_size == 0) {
        rc = loupe__error(&msg, LOUPE_ECORRUPT,
                          "cannot upgrade '%s': the file is empty (opening it creates a new "
                          "storage at revision " LOUPE__SCHEMA_HEAD ")",
                          path);
        goto cleanup;
    }
    /* inspect read-only first: a foreign or damaged file is never written */
    if ((rc = loupe__sq_inspect_file(&msg, path, busy_ms, &info))) goto cleanup;
    if (info.n_tables == 0) {
        rc = loupe__error(&msg, LOUPE_ECORRUPT,
                          "cannot upgrade '%s': it is an empty SQLite database, not an Optuna "
                          "storage (opening it creates a new storage)",
                          path);
        goto cleanup;
    }
    if (info.rev_index == -1) {
        rc = loupe__error(&msg, LOUPE_ESCHEMA,
                          "cannot upgrade '%s': it was written by a newer Optuna (schema "
                          "revision '%s', library version %s); this loupe knows revisions up "
                          "to " LOUPE__SCHEMA_HEAD,
                          path, info.revision,
                          info.library_version[0] ? info.library_version : "unknown");
        goto cleanup;
    }
    if (info.rev_index == LOUPE__SQ_REV_HEAD) {
        snprintf(done_msg, sizeof done_msg, "This storage is up-to-date.");
        goto cleanup;
    }

    rc = loupe__sq_open_db(&msg, path, SQLITE_OPEN_READWRITE, busy_ms, &db);
    if (rc) goto cleanup;
    /* keep foreign-key clauses of other tables untouched when a table is renamed */
    if ((rc = exec_sql(&msg, db, path, "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON",
                       "preparing the upgrade")))
        goto cleanup;
    if ((rc = exec_sql(&msg, db, path, "BEGIN IMMEDIATE", "starting the upgrade"))) goto cleanup;
    /* another process may have upgraded the file in between: look again under the lock */
    rc = loupe__sq_inspect_db(&msg, db, path, &info);
    upgrade_ctx u = {&msg, db, path};
    int from = info.rev_index;
    if (!rc && from == LOUPE__SQ_REV_HEAD) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        snprintf(done_msg, sizeof done_msg, "This storage is up-to-date.");
        goto cleanup;
    }
    if (!rc && from == -1)
        rc = loupe__error(&msg, LOUPE_ESCHEMA,
                          "cannot upgrade '%s': it was written by a newer Optuna (schema revision "
                          "'%s')",
                          path, info.revision);
    int unstamped = from == -2;
    if (!rc && unstamped) rc = infer_revision(&u, &from);
    if (!rc) rc = run_migrations(&u, from);
    if (!rc) {
        /* the result must pass the checks every open makes */
        rc = loupe__sq_inspect_db(&msg, db, path, &info);
        if (!rc && info.rev_index != LOUPE__SQ_REV_HEAD)
            rc = loupe__error(&msg, LOUPE_ERROR, "upgrade of '%s' ended at revision '%s'", path,
                              info.revision);
    }
    if (!rc) {
        int c = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (c != SQLITE_OK) rc = loupe__sq_fail(&msg, db, c, path, "committing the upgrade");
    }
    if (rc) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto cleanup;
    }
    *upgraded = 1;
    {
        loupe__buf b;
        loupe__buf_init(&b, 0);
        loupe__buf_printf(&b, "Upgraded from %s%s to " LOUPE__SCHEMA_HEAD " (migrations",
                          loupe__sq_revisions[from],
                          unstamped ? " (no alembic stamp; guessed from the columns)" : "");
        for (int i = from + 1; i < LOUPE__SQ_N_REVISIONS; i++)
            loupe__buf_printf(&b, "%s %s", i == from + 1 ? "" : ",", loupe__sq_revisions[i]);
        loupe__buf_puts(&b, ").");
        snprintf(done_msg, sizeof done_msg, "%s", b.failed ? "Upgraded." : b.data);
        loupe__buf_free(&b);
    }
cleanup:
    sqlite3_close_v2(db);
    if (message) {
        *message = strdup(rc ? msg.errmsg : done_msg);
        if (!*message && rc == LOUPE_OK) rc = LOUPE_ENOMEM;
    }
    return rc;
}
