/*
 * sqlite.c -- the SQLite storage: Optuna's RDB schema (revision v3.2.0.a) in a
 * file that Python Optuna and optuna-dashboard read and write too. Every write
 * is one BEGIN IMMEDIATE transaction, retried as a whole while another process
 * holds the lock; reads of several statements run in one read transaction.
 * Schema creation, inspection and upgrade live in sqlite_schema.c; the checks,
 * caches and record building shared with postgres.c in sql_common.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/distribution.h"
#include "core/errors.h"
#include "core/trial_rec.h"
#include "storage/sql_common.h"
#include "storage/sqlite_internal.h"
#include "util/buf.h"
#include "util/timeutil.h"

/* ------------------------------------------------------------ statements */

/* The selectors of read_trials: the study's trials after a trial_id, optionally
 * plus the ids listed in the temp table loupe_read_ids. ?1 = study_id, ?2 = after. */
#define SEL_AFTER "SELECT trial_id FROM trials WHERE study_id = ?1 AND trial_id > ?2"
/* Two arms so each uses an index (an OR would scan the whole study). The
 * second is driven by the listed ids (CROSS JOIN fixes the loop order): as
 * "study_id = ?1 AND trial_id IN (...)" SQLite walked the study's whole index. */
#define SEL_AFTER_IDS                                                                              \
    "SELECT trial_id FROM trials WHERE study_id = ?1 AND trial_id > ?2 UNION ALL "                 \
    "SELECT r.trial_id FROM temp.loupe_read_ids AS r CROSS JOIN trials AS t ON t.trial_id = "      \
    "r.trial_id WHERE t.study_id = ?1 AND r.trial_id <= ?2"

#define READ_TRIALS(sel)                                                                           \
    "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials WHERE "         \
    "trial_id IN (" sel ") ORDER BY trial_id"
#define READ_PARAMS(sel)                                                                           \
    "SELECT trial_id, param_name, param_value, distribution_json FROM trial_params WHERE "         \
    "trial_id IN (" sel ") ORDER BY trial_id, param_id"
#define READ_VALUES(sel)                                                                           \
    "SELECT trial_id, objective, value, value_type FROM trial_values WHERE trial_id IN (" sel      \
    ") ORDER BY trial_id, objective"
#define READ_INTER(sel)                                                                            \
    "SELECT trial_id, step, intermediate_value, intermediate_value_type FROM "                     \
    "trial_intermediate_values WHERE trial_id IN (" sel ") ORDER BY trial_id, step"
#define READ_UATTRS(sel)                                                                           \
    "SELECT trial_id, \"key\", value_json FROM trial_user_attributes WHERE trial_id IN (" sel      \
    ") ORDER BY trial_id, trial_user_attribute_id"
#define READ_SATTRS(sel)                                                                           \
    "SELECT trial_id, \"key\", value_json FROM trial_system_attributes WHERE trial_id IN (" sel    \
    ") ORDER BY trial_id, trial_system_attribute_id"

#define TRIAL_CHILD_DELETE(table)                                                                  \
    "DELETE FROM " table " WHERE trial_id IN (SELECT trial_id FROM trials WHERE study_id = ?1)"

enum {
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_DATA_VERSION,
    ST_STUDY_NAME,
    ST_STUDY_BY_NAME,
    ST_STUDY_INSERT,
    ST_DIRECTION_INSERT,
    ST_DIRECTIONS,
    ST_STUDY_UATTRS,
    ST_STUDY_SATTRS,
    ST_ALL_STUDIES,
    ST_ALL_DIRECTIONS,
    ST_ALL_UATTRS,
    ST_ALL_SATTRS,
    ST_STUDY_STATS,
    ST_STUDY_UATTR_UPDATE,
    ST_STUDY_UATTR_INSERT,
    ST_STUDY_SATTR_UPDATE,
    ST_STUDY_SATTR_INSERT,
    ST_STUDY_UATTR_GET,
    ST_STUDY_SATTR_GET,
    ST_DEL_PARAMS,
    ST_DEL_VALUES,
    ST_DEL_INTER,
    ST_DEL_TUATTRS,
    ST_DEL_TSATTRS,
    ST_DEL_HEARTBEATS,
    ST_DEL_TRIALS,
    ST_DEL_DIRECTIONS,
    ST_DEL_SUATTRS,
    ST_DEL_SSATTRS,
    ST_DEL_STUDY,
    ST_TRIAL_INSERT,
    ST_TRIAL_COUNT_PAST,
    ST_TRIAL_SET_NUMBER,
    ST_TRIAL_HEAD,
    ST_TRIAL_WAITING,
    ST_TRIAL_CLAIM,
    ST_TRIAL_SET_STATE,
    ST_TRIAL_SET_STATE_START,
    ST_TRIAL_SET_STATE_COMPLETE,
    ST_TRIAL_ID_BY_NUMBER,
    ST_FIRST_DIST,
    ST_PARAM_EXISTS,
    ST_PARAM_INSERT,
    ST_TUATTR_UPDATE,
    ST_TUATTR_INSERT,
    ST_TSATTR_UPDATE,
    ST_TSATTR_INSERT,
    ST_INTER_UPDATE,
    ST_INTER_INSERT,
    ST_VALUE_UPDATE,
    ST_VALUE_INSERT,
    ST_IDS_CREATE,
    ST_IDS_CLEAR,
    ST_IDS_INSERT,
    ST_READ_TRIALS,
    ST_READ_PARAMS,
    ST_READ_VALUES,
    ST_READ_INTER,
    ST_READ_UATTRS,
    ST_READ_SATTRS,
    ST_READ_TRIALS_IDS,
    ST_READ_PARAMS_IDS,
    ST_READ_VALUES_IDS,
    ST_READ_INTER_IDS,
    ST_READ_UATTRS_IDS,
    ST_READ_SATTRS_IDS,
    ST_COUNT
};
#define CHILD_AT(st, child) (st == ST_READ_TRIALS + 1 + LOUPE__CHILD_##child)
_Static_assert(CHILD_AT(ST_READ_PARAMS, PARAMS) && CHILD_AT(ST_READ_VALUES, VALUES) &&
                   CHILD_AT(ST_READ_INTER, INTER) && CHILD_AT(ST_READ_UATTRS, UATTRS) &&
                   CHILD_AT(ST_READ_SATTRS, SATTRS) &&
                   ST_READ_SATTRS_IDS - ST_READ_TRIALS_IDS == ST_READ_SATTRS - ST_READ_TRIALS,
               "the read statements follow LOUPE__CHILD_* order");
#undef CHILD_AT

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_STUDY_NAME] = "SELECT study_name FROM studies WHERE study_id = ?1",
    [ST_STUDY_BY_NAME] = "SELECT study_id FROM studies WHERE study_name = ?1",
    [ST_STUDY_INSERT] = "INSERT INTO studies (study_name) VALUES (?1)",
    [ST_DIRECTION_INSERT] =
        "INSERT INTO study_directions (direction, study_id, objective) VALUES (?1, ?2, ?3)",
    [ST_DIRECTIONS] =
        "SELECT objective, direction FROM study_directions WHERE study_id = ?1 ORDER BY objective",
    [ST_STUDY_UATTRS] = "SELECT \"key\", value_json FROM study_user_attributes WHERE study_id = ?1 "
                        "ORDER BY study_user_attribute_id",
    [ST_STUDY_SATTRS] = "SELECT \"key\", value_json FROM study_system_attributes WHERE study_id = "
                        "?1 ORDER BY study_system_attribute_id",
    [ST_ALL_STUDIES] = "SELECT study_id, study_name FROM studies ORDER BY study_id",
    [ST_ALL_DIRECTIONS] =
        "SELECT study_id, objective, direction FROM study_directions ORDER BY study_id, objective",
    [ST_ALL_UATTRS] = "SELECT study_id, \"key\", value_json FROM study_user_attributes ORDER BY "
                      "study_id, study_user_attribute_id",
    [ST_ALL_SATTRS] = "SELECT study_id, \"key\", value_json FROM study_system_attributes ORDER BY "
                      "study_id, study_system_attribute_id",
    [ST_STUDY_STATS] = "SELECT study_id, count(*), min(datetime_start) FROM trials GROUP BY "
                       "study_id ORDER BY study_id",
    [ST_STUDY_UATTR_UPDATE] =
        "UPDATE study_user_attributes SET value_json = ?3 WHERE study_id = ?1 AND \"key\" = ?2",
    [ST_STUDY_UATTR_INSERT] =
        "INSERT INTO study_user_attributes (study_id, \"key\", value_json) VALUES (?1, ?2, ?3)",
    [ST_STUDY_SATTR_UPDATE] =
        "UPDATE study_system_attributes SET value_json = ?3 WHERE study_id = ?1 AND \"key\" = ?2",
    [ST_STUDY_SATTR_INSERT] =
        "INSERT INTO study_system_attributes (study_id, \"key\", value_json) VALUES (?1, ?2, ?3)",
    [ST_STUDY_UATTR_GET] =
        "SELECT value_json FROM study_user_attributes WHERE study_id = ?1 AND \"key\" = ?2",
    [ST_STUDY_SATTR_GET] =
        "SELECT value_json FROM study_system_attributes WHERE study_id = ?1 AND \"key\" = ?2",
    [ST_DEL_PARAMS] = TRIAL_CHILD_DELETE("trial_params"),
    [ST_DEL_VALUES] = TRIAL_CHILD_DELETE("trial_values"),
    [ST_DEL_INTER] = TRIAL_CHILD_DELETE("trial_intermediate_values"),
    [ST_DEL_TUATTRS] = TRIAL_CHILD_DELETE("trial_user_attributes"),
    [ST_DEL_TSATTRS] = TRIAL_CHILD_DELETE("trial_system_attributes"),
    [ST_DEL_HEARTBEATS] = TRIAL_CHILD_DELETE("trial_heartbeats"),
    [ST_DEL_TRIALS] = "DELETE FROM trials WHERE study_id = ?1",
    [ST_DEL_DIRECTIONS] = "DELETE FROM study_directions WHERE study_id = ?1",
    [ST_DEL_SUATTRS] = "DELETE FROM study_user_attributes WHERE study_id = ?1",
    [ST_DEL_SSATTRS] = "DELETE FROM study_system_attributes WHERE study_id = ?1",
    [ST_DEL_STUDY] = "DELETE FROM studies WHERE study_id = ?1",
    [ST_TRIAL_INSERT] = "INSERT INTO trials (number, study_id, state, datetime_start, "
                        "datetime_complete) VALUES (NULL, ?1, ?2, ?3, ?4)",
    [ST_TRIAL_COUNT_PAST] =
        "SELECT count(trial_id) FROM trials WHERE study_id = ?1 AND trial_id < ?2",
    [ST_TRIAL_SET_NUMBER] = "UPDATE trials SET number = ?2 WHERE trial_id = ?1",
    [ST_TRIAL_HEAD] = "SELECT number, state, study_id FROM trials WHERE trial_id = ?1",
    [ST_TRIAL_WAITING] = "SELECT trial_id FROM trials WHERE study_id = ?1 AND state = 'WAITING' "
                         "ORDER BY number, trial_id LIMIT 1",
    [ST_TRIAL_CLAIM] = "UPDATE trials SET state = 'RUNNING', datetime_start = ?2 WHERE trial_id = "
                       "?1 AND state = 'WAITING'",
    [ST_TRIAL_SET_STATE] = "UPDATE trials SET state = ?2 WHERE trial_id = ?1",
    [ST_TRIAL_SET_STATE_START] =
        "UPDATE trials SET state = ?2, datetime_start = ?3 WHERE trial_id = ?1",
    [ST_TRIAL_SET_STATE_COMPLETE] =
        "UPDATE trials SET state = ?2, datetime_complete = ?3 WHERE trial_id = ?1",
    [ST_TRIAL_ID_BY_NUMBER] = "SELECT trial_id FROM trials WHERE study_id = ?1 AND number = ?2 "
                              "ORDER BY trial_id LIMIT 1",
    [ST_FIRST_DIST] = "SELECT p.distribution_json FROM trial_params p JOIN trials t ON t.trial_id "
                      "= p.trial_id WHERE t.study_id = ?1 AND p.param_name = ?2 ORDER BY "
                      "p.param_id LIMIT 1",
    [ST_PARAM_EXISTS] = "SELECT 1 FROM trial_params WHERE trial_id = ?1 AND param_name = ?2",
    [ST_PARAM_INSERT] = "INSERT INTO trial_params (trial_id, param_name, param_value, "
                        "distribution_json) VALUES (?1, ?2, ?3, ?4)",
    [ST_TUATTR_UPDATE] =
        "UPDATE trial_user_attributes SET value_json = ?3 WHERE trial_id = ?1 AND \"key\" = ?2",
    [ST_TUATTR_INSERT] =
        "INSERT INTO trial_user_attributes (trial_id, \"key\", value_json) VALUES (?1, ?2, ?3)",
    [ST_TSATTR_UPDATE] =
        "UPDATE trial_system_attributes SET value_json = ?3 WHERE trial_id = ?1 AND \"key\" = ?2",
    [ST_TSATTR_INSERT] =
        "INSERT INTO trial_system_attributes (trial_id, \"key\", value_json) VALUES (?1, ?2, ?3)",
    [ST_INTER_UPDATE] = "UPDATE trial_intermediate_values SET intermediate_value = ?3, "
                        "intermediate_value_type = ?4 WHERE trial_id = ?1 AND step = ?2",
    [ST_INTER_INSERT] = "INSERT INTO trial_intermediate_values (trial_id, step, "
                        "intermediate_value, intermediate_value_type) VALUES (?1, ?2, ?3, ?4)",
    [ST_VALUE_UPDATE] = "UPDATE trial_values SET value = ?3, value_type = ?4 WHERE trial_id = ?1 "
                        "AND objective = ?2",
    [ST_VALUE_INSERT] = "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES "
                        "(?1, ?2, ?3, ?4)",
    /* a connection-private table: listing ids needs no SQL variables (no 999 limit) */
    [ST_IDS_CREATE] =
        "CREATE TEMP TABLE IF NOT EXISTS loupe_read_ids (trial_id INTEGER PRIMARY KEY)",
    [ST_IDS_CLEAR] = "DELETE FROM temp.loupe_read_ids",
    [ST_IDS_INSERT] = "INSERT OR IGNORE INTO temp.loupe_read_ids (trial_id) VALUES (?1)",
    [ST_READ_TRIALS] = READ_TRIALS(SEL_AFTER),
    [ST_READ_PARAMS] = READ_PARAMS(SEL_AFTER),
    [ST_READ_VALUES] = READ_VALUES(SEL_AFTER),
    [ST_READ_INTER] = READ_INTER(SEL_AFTER),
    [ST_READ_UATTRS] = READ_UATTRS(SEL_AFTER),
    [ST_READ_SATTRS] = READ_SATTRS(SEL_AFTER),
    [ST_READ_TRIALS_IDS] = READ_TRIALS(SEL_AFTER_IDS),
    [ST_READ_PARAMS_IDS] = READ_PARAMS(SEL_AFTER_IDS),
    [ST_READ_VALUES_IDS] = READ_VALUES(SEL_AFTER_IDS),
    [ST_READ_INTER_IDS] = READ_INTER(SEL_AFTER_IDS),
    [ST_READ_UATTRS_IDS] = READ_UATTRS(SEL_AFTER_IDS),
    [ST_READ_SATTRS_IDS] = READ_SATTRS(SEL_AFTER_IDS),
};

/* ------------------------------------------------------------ the handle */

typedef struct sq_storage {
    loupe_storage base; /* first: the handle casts both ways */
    sqlite3 *db;
    char *path;
    char *qpath; /* 'path', as the trial reads' messages name the file */
    int busy_ms;
    unsigned seed;        /* backoff jitter */
    uint64_t own_commits; /* this handle's write commits, for data_version */
    int has_heartbeats;   /* trial_heartbeats exists (deleted with the study) */
    sqlite3_stmt *st[ST_COUNT];
    loupe__dist_cache dists; /* first distribution of each param name */
} sq_storage;

static sq_storage *SQ(loupe_storage *s) { return (sq_storage *)s; }

static int fail(sq_storage *s, int rc, const char *what) {
    return loupe__sq_fail(&s->base, s->db, rc, s->path, what);
}

static int oom(sq_storage *s) { return loupe__error(&s->base, LOUPE_ENOMEM, "out of memory"); }

/* The cached statement id, reset and with cleared bindings. */
static int get_st(sq_storage *s, int id, sqlite3_stmt **out) {
    if (!s->st[id]) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->st[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s->st[id]);
            s->st[id] = NULL;
            return fail(s, rc, "preparing a statement (is the schema Optuna's?)");
        }
    }
    sqlite3_reset(s->st[id]);
    sqlite3_clear_bindings(s->st[id]);
    *out = s->st[id];
    return LOUPE_OK;
}

static void reset_all(sq_storage *s) {
    for (int i = 0; i < ST_COUNT; i++)
        if (s->st[i]) sqlite3_reset(s->st[i]);
}

/* Steps a statement that returns no rows. */
static int step_done(sq_storage *s, sqlite3_stmt *st, const char *what) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LOUPE_OK : fail(s, rc, what);
}

/* Steps a statement expecting at most one row: 1 = row (left unreset for the
 * caller to read), 0 = none, <0 = -code. */
static int step_row(sq_storage *s, sqlite3_stmt *st, const char *what) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 1;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -fail(s, rc, what);
}

static void bind_datetime(sqlite3_stmt *st, int i, int64_t us) {
    if (us < 0) {
        sqlite3_bind_null(st, i);
        return;
    }
    char buf[32];
    loupe__format_datetime(us, buf);
    sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
}

typedef int (*tx_body)(sq_storage *s, void *ctx);

/*
 * Runs body in one transaction (BEGIN IMMEDIATE for writes, a deferred read
 * transaction otherwise). A lock held by another process makes each statement
 * wait up to busy_ms; if it still fails, the whole transaction is rolled back
 * and run again until LOUPE__SQ_RETRY_FACTOR * busy_ms have passed, so
 * "database is locked" only surfaces as LOUPE_EBUSY after that long wait.
 */
static int run_tx(sq_storage *s, int write, tx_body body, void *ctx) {
    if (write && s->base.read_only)
        return loupe__error(&s->base, LOUPE_EIO,
                            "'%s' is opened read-only (the file is not writable); check its "
                            "permissions and those of its directory",
                            s->path);
    int64_t deadline = loupe__monotonic_us() + (int64_t)s->busy_ms * 1000 * LOUPE__SQ_RETRY_FACTOR;
    for (int attempt = 1;; attempt++) {
        sqlite3_stmt *st = NULL;
        int rc = get_st(s, write ? ST_BEGIN_IMMEDIATE : ST_BEGIN, &st);
        if (!rc) rc = step_done(s, st, write ? "starting a write transaction" : "starting a read");
        if (!rc) {
            rc = body(s, ctx);
            reset_all(s);
            if (!rc && !(rc = get_st(s, ST_COMMIT, &st)))
                rc = step_done(s, st, write ? "committing a write" : "finishing a read");
            if (!rc) {
                if (write) s->own_commits++;
                return LOUPE_OK;
            }
            if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        }
        if (rc != LOUPE_EBUSY || loupe__monotonic_us() >= deadline) return rc;
        loupe__sq_backoff(&s->seed, attempt);
    }
}

/* ------------------------------------------------------------ enums */


/* Optuna's stored forms of a float: (value, type) with NULL for inf and NaN. */
static void bind_value(sqlite3_stmt *st, int vi, int ti, double v, int allow_nan) {
    int null;
    const char *type = loupe__value_type(v, allow_nan, &null);
    if (null)
        sqlite3_bind_null(st, vi);
    else
        sqlite3_bind_double(st, vi, v);
    sqlite3_bind_text(st, ti, type, -1, SQLITE_STATIC);
}

/* Reads a DATETIME column: -1 for NULL, ECORRUPT on text SQLAlchemy would not write. */
static int column_datetime(sq_storage *s, sqlite3_stmt *st, int col, int64_t trial_id,
                           const char *name, int64_t *out) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        *out = -1;
        return LOUPE_OK;
    }
    const char *text = (const char *)sqlite3_column_text(st, col);
    if (loupe__parse_datetime(text, out) != 0)
        return loupe__error(&s->base, LOUPE_ECORRUPT,
                            "trials row trial_id=%lld in '%s' has an unreadable %s '%.60s' "
                            "(expected 'YYYY-MM-DD HH:MM:SS.ffffff')",
                            (long long)trial_id, s->path, name, text ? text : "");
    return LOUPE_OK;
}

/* ------------------------------------------------------------ first distributions */

/* The first stored distribution of name in the study (*out NULL when the name
 * is new), from the cache or the database. */
static int first_distribution(sq_storage *s, int64_t study_id, const char *name,
                              const loupe_distribution **out) {
    if ((*out = loupe__dist_cache_find(&s->dists, study_id, name))) return LOUPE_OK;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_FIRST_DIST, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, study_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int r = step_row(s, st, "reading the first distribution of a param");
    if (r <= 0) return -r;
    rc = loupe__dist_cache_add(&s->base, &s->dists, study_id, name,
                               (const char *)sqlite3_column_text(st, 0), out);
    sqlite3_reset(st);
    return rc;
}

/* ------------------------------------------------------------ studies */

static int study_exists(sq_storage *s, int64_t study_id) {
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_STUDY_NAME, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, study_id);
    int r = step_row(s, st, "looking up a study");
    sqlite3_reset(st);
    if (r < 0) return -r;
    if (r == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No study with study_id %lld in '%s'",
                            (long long)study_id, s->path);
    return LOUPE_OK;
}

typedef struct create_study_ctx {
    const char *name;
    size_t n;
    const loupe_direction *dirs;
    int64_t id;
} create_study_ctx;

static int create_study_body(sq_storage *s, void *vctx) {
    create_study_ctx *c = vctx;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_STUDY_BY_NAME, &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    int r = step_row(s, st, "looking up a study name");
    sqlite3_reset(st);
    if (r < 0) return -r;
    if (r)
        return loupe__error(&s->base, LOUPE_EEXISTS, "A study with name '%s' already exists",
                            c->name);
    if ((rc = get_st(s, ST_STUDY_INSERT, &st))) return rc;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    if ((rc = step_done(s, st, "inserting a study"))) return rc;
    c->id = sqlite3_last_insert_rowid(s->db);
    for (size_t i = 0; i < c->n; i++) {
        if ((rc = get_st(s, ST_DIRECTION_INSERT, &st))) return rc;
        sqlite3_bind_text(st, 1, loupe__direction_names[c->dirs[i]], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, c->id);
        sqlite3_bind_int64(st, 3, (int64_t)i);
        if ((rc = step_done(s, st, "inserting a study direction"))) return rc;
    }
    return LOUPE_OK;
}

static int sq_create_study(loupe_storage *base, const char *name, size_t n_directions,
                           const loupe_direction *directions, int64_t *study_id) {
    sq_storage *s = SQ(base);
    int rc = loupe__check_study_args(base, name, n_directions, directions);
    if (rc) return rc;
    create_study_ctx c = {name, n_directions, directions, 0};
    rc = run_tx(s, 1, create_study_body, &c);
    if (!rc && study_id) *study_id = c.id;
    return rc;
}

static int delete_study_body(sq_storage *s, void *vctx) {
    int64_t id = *(int64_t *)vctx;
    int rc = study_exists(s, id);
    if (rc) return rc;
    static const int order[] = {ST_DEL_PARAMS,  ST_DEL_VALUES,     ST_DEL_INTER,  ST_DEL_TUATTRS,
                                ST_DEL_TSATTRS, ST_DEL_HEARTBEATS, ST_DEL_TRIALS, ST_DEL_DIRECTIONS,
                                ST_DEL_SUATTRS, ST_DEL_SSATTRS,    ST_DEL_STUDY};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (order[i] == ST_DEL_HEARTBEATS && !s->has_heartbeats) continue;
        sqlite3_stmt *st = NULL;
        if ((rc = get_st(s, order[i], &st))) return rc;
        sqlite3_bind_int64(st, 1, id);
        if ((rc = step_done(s, st, "deleting a study"))) return rc;
    }
    return LOUPE_OK;
}

static int sq_delete_study(loupe_storage *base, int64_t study_id) {
    sq_storage *s = SQ(base);
    int rc = run_tx(s, 1, delete_study_body, &study_id);
    if (!rc) loupe__dist_cache_forget_study(&s->dists, study_id);
    return rc;
}

typedef struct find_ctx {
    const char *name;
    int64_t id;
} find_ctx;

static int find_study_body(sq_storage *s, void *vctx) {
    find_ctx *c = vctx;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_STUDY_BY_NAME, &st);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    int r = step_row(s, st, "looking up a study name");
    if (r < 0) return -r;
    if (r == 0) return loupe__error(&s->base, LOUPE_ENOTFOUND, "No study named '%s'", c->name);
    c->id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LOUPE_OK;
}

static int sq_find_study(loupe_storage *base, const char *name, int64_t *study_id) {
    if (!name)
        return loupe__error(base, LOUPE_EINVAL, "No study name given; pass the study's name.");
    find_ctx c = {name, 0};
    int rc = run_tx(SQ(base), 0, find_study_body, &c);
    if (!rc && study_id) *study_id = c.id;
    return rc;
}



typedef struct get_study_ctx {
    int64_t id;
    loupe__study_info info;
} get_study_ctx;

static int get_study_body(sq_storage *s, void *vctx) {
    get_study_ctx *c = vctx;
    loupe__study_info_free(&c->info); /* a retried transaction starts over */
    c->info.study_id = c->id;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_STUDY_NAME, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->id);
    int r = step_row(s, st, "reading a study");
    if (r < 0) return -r;
    if (r == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No study with study_id %lld in '%s'",
                            (long long)c->id, s->path);
    const char *name = (const char *)sqlite3_column_text(st, 0);
    c->info.name = strdup(name ? name : "");
    sqlite3_reset(st);
    if (!c->info.name) return oom(s);

    if ((rc = get_st(s, ST_DIRECTIONS, &st))) return rc;
    sqlite3_bind_int64(st, 1, c->id);
    size_t alloc = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = loupe__direction_push(&s->base, s->path, &c->info, &alloc, sqlite3_column_int64(st, 0),
                                   (const char *)sqlite3_column_text(st, 1));
        if (rc) return rc;
    }
    if (step != SQLITE_DONE) return fail(s, step, "reading study directions");
    for (int sys = 0; sys < 2; sys++) {
        if ((rc = get_st(s, sys ? ST_STUDY_SATTRS : ST_STUDY_UATTRS, &st))) return rc;
        sqlite3_bind_int64(st, 1, c->id);
        loupe_attr **arr = sys ? &c->info.system_attrs : &c->info.user_attrs;
        size_t *n = sys ? &c->info.n_system_attrs : &c->info.n_user_attrs;
        alloc = 0;
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            if (loupe__attr_push(arr, n, &alloc, (const char *)sqlite3_column_text(st, 0),
                                 (const char *)sqlite3_column_text(st, 1)))
                return oom(s);
        if (step != SQLITE_DONE) return fail(s, step, "reading study attributes");
    }
    return LOUPE_OK;
}

static int sq_get_study(loupe_storage *base, int64_t study_id, loupe__study_info *out) {
    get_study_ctx c;
    memset(&c, 0, sizeof c);
    c.id = study_id;
    int rc = run_tx(SQ(base), 0, get_study_body, &c);
    if (rc) {
        loupe__study_info_free(&c.info);
        return rc;
    }
    *out = c.info;
    return LOUPE_OK;
}

static int list_studies_body(sq_storage *s, void *vctx) {
    loupe__study_scan *c = vctx;
    loupe__study_scan_clear(c);
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_ALL_STUDIES, &st);
    if (rc) return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (!loupe__study_scan_add(c, sqlite3_column_int64(st, 0),
                                   (const char *)sqlite3_column_text(st, 1)))
            return oom(s);
    if (step != SQLITE_DONE) return fail(s, step, "listing studies");

    size_t pos = 0;
    if ((rc = get_st(s, ST_ALL_DIRECTIONS, &st))) return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        loupe__study_scan_entry *e = loupe__study_scan_find(c, &pos, sqlite3_column_int64(st, 0));
        if (!e) continue;
        if ((rc = loupe__direction_push(&s->base, s->path, &e->info, &e->dir_alloc,
                                        sqlite3_column_int64(st, 1),
                                        (const char *)sqlite3_column_text(st, 2))))
            return rc;
    }
    if (step != SQLITE_DONE) return fail(s, step, "listing study directions");
    for (int sys = 0; sys < 2; sys++) {
        pos = 0;
        if ((rc = get_st(s, sys ? ST_ALL_SATTRS : ST_ALL_UATTRS, &st))) return rc;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            loupe__study_scan_entry *e =
                loupe__study_scan_find(c, &pos, sqlite3_column_int64(st, 0));
            if (e && loupe__study_scan_attr(e, sys, (const char *)sqlite3_column_text(st, 1),
                                            (const char *)sqlite3_column_text(st, 2)))
                return oom(s);
        }
        if (step != SQLITE_DONE) return fail(s, step, "listing study attributes");
    }
    if (c->bare) return LOUPE_OK;
    pos = 0;
    if ((rc = get_st(s, ST_STUDY_STATS, &st))) return rc;
    for (size_t i = 0; i < c->n; i++)
        c->e[i].n_trials = 0; /* studies without trials */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t sid = sqlite3_column_int64(st, 0);
        loupe__study_scan_entry *e = loupe__study_scan_find(c, &pos, sid);
        if (!e) continue;
        e->n_trials = sqlite3_column_int64(st, 1);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
            loupe__parse_datetime((const char *)sqlite3_column_text(st, 2), &e->start_us) != 0)
            return loupe__error(&s->base, LOUPE_ECORRUPT,
                                "a trial of study %lld in '%s' has an unreadable datetime_start "
                                "'%.60s'",
                                (long long)sid, s->path, (const char *)sqlite3_column_text(st, 2));
    }
    if (step != SQLITE_DONE) return fail(s, step, "counting trials");
    return LOUPE_OK;
}

static int sq_list(loupe_storage *base, int bare, loupe_study_list **out) {
    loupe__study_scan c;
    memset(&c, 0, sizeof c);
    c.bare = bare;
    *out = NULL;
    int rc = run_tx(SQ(base), 0, list_studies_body, &c);
    if (rc) {
        loupe__study_scan_clear(&c);
        return rc;
    }
    return loupe__study_scan_finish(base, &c, out);
}

static int sq_list_studies(loupe_storage *base, loupe_study_list **out) { return sq_list(base, 0, out); }

/* Without the GROUP BY over the trials table: pollers call this every few ms. */
static int sq_list_study_heads(loupe_storage *base, loupe_study_list **out) {
    return sq_list(base, 1, out);
}

/* Upsert of one attribute row: UPDATE, then INSERT when no row matched. */
static int upsert_attr(sq_storage *s, int upd_id, int ins_id, int64_t owner, const loupe_attr *a,
                       const char *what) {
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, upd_id, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_text(st, 2, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->json, -1, SQLITE_STATIC);
    if ((rc = step_done(s, st, what))) return rc;
    if (sqlite3_changes(s->db) > 0) return LOUPE_OK;
    if ((rc = get_st(s, ins_id, &st))) return rc;
    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_text(st, 2, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->json, -1, SQLITE_STATIC);
    return step_done(s, st, what);
}

typedef struct study_attrs_ctx {
    int64_t id;
    int system;
    size_t n;
    const loupe_attr *attrs;
    const loupe_attr *guard;
} study_attrs_ctx;

/* LOUPE_ECONFLICT unless the guard attribute holds exactly guard->json (NULL: absent). */
static int check_guard(sq_storage *s, const study_attrs_ctx *c) {
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, c->system ? ST_STUDY_SATTR_GET : ST_STUDY_UATTR_GET, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_text(st, 2, c->guard->key, -1, SQLITE_STATIC);
    int r = step_row(s, st, "reading a study attribute");
    rc = r < 0 ? -r
               : loupe__guard_holds(&s->base, c->guard,
                                    r > 0 ? (const char *)sqlite3_column_text(st, 0) : NULL);
    sqlite3_reset(st);
    return rc;
}

static int set_study_attrs_body(sq_storage *s, void *vctx) {
    study_attrs_ctx *c = vctx;
    int rc = study_exists(s, c->id);
    if (!rc && c->guard) rc = check_guard(s, c);
    for (size_t i = 0; !rc && i < c->n; i++)
        rc = upsert_attr(s, c->system ? ST_STUDY_SATTR_UPDATE : ST_STUDY_UATTR_UPDATE,
                         c->system ? ST_STUDY_SATTR_INSERT : ST_STUDY_UATTR_INSERT, c->id,
                         &c->attrs[i], "writing a study attribute");
    return rc;
}

static int sq_set_study_attrs(loupe_storage *base, int64_t study_id, int system, size_t n,
                              const loupe_attr *attrs, const loupe_attr *guard) {
    sq_storage *s = SQ(base);
    int rc = loupe__check_attrs(&s->base, system ? "Study system" : "Study user", n, attrs);
    if (rc) return rc;
    if ((rc = loupe__check_guard_arg(base, guard))) return rc;
    study_attrs_ctx c = {study_id, system, n, attrs, guard};
    return run_tx(s, 1, set_study_attrs_body, &c);
}

/* ------------------------------------------------------------ trial writes */

/* Checks every param against the study's first distribution of its name and
 * that the trial does not have it yet. */
static int params_compatible(sq_storage *s, int64_t study_id, int64_t trial_id, int64_t number,
                             size_t n, const loupe_param *params) {
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = NULL;
        int rc = get_st(s, ST_PARAM_EXISTS, &st);
        if (rc) return rc;
        sqlite3_bind_int64(st, 1, trial_id);
        sqlite3_bind_text(st, 2, params[i].name, -1, SQLITE_STATIC);
        int r = step_row(s, st, "checking a param");
        sqlite3_reset(st);
        if (r < 0) return -r;
        if (r) return loupe__param_taken(&s->base, number, params[i].name);
        const loupe_distribution *first;
        if ((rc = first_distribution(s, study_id, params[i].name, &first)) ||
            (rc = loupe__param_compatible(&s->base, &params[i], first)))
            return rc;
    }
    return LOUPE_OK;
}

/* How sqlite.c writes the rows of loupe__write_children. */
static int child_param(void *db, int64_t trial_id, const loupe_param *p, const char *dist_json,
                       size_t len) {
    sq_storage *s = db;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_PARAM_INSERT, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, p->internal);
    sqlite3_bind_text(st, 4, dist_json, (int)len, SQLITE_STATIC);
    return step_done(s, st, "inserting a param");
}

static int child_attr(void *db, int64_t trial_id, int system, const loupe_attr *a,
                      const char *what) {
    return upsert_attr(db, system ? ST_TSATTR_UPDATE : ST_TUATTR_UPDATE,
                       system ? ST_TSATTR_INSERT : ST_TUATTR_INSERT, trial_id, a, what);
}

/* Upsert of one (trial_id, key) value row: UPDATE, then INSERT when no row matched. */
static int child_keyed(void *db, int64_t trial_id, int is_value, int64_t key, double v,
                       const char *what) {
    sq_storage *s = db;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, is_value ? ST_VALUE_UPDATE : ST_INTER_UPDATE, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int64(st, 2, key);
    bind_value(st, 3, 4, v, !is_value);
    if ((rc = step_done(s, st, what))) return rc;
    if (sqlite3_changes(s->db) > 0) return LOUPE_OK;
    if ((rc = get_st(s, is_value ? ST_VALUE_INSERT : ST_INTER_INSERT, &st))) return rc;
    sqlite3_bind_int64(st, 1, trial_id);
    sqlite3_bind_int64(st, 2, key);
    bind_value(st, 3, 4, v, !is_value);
    return step_done(s, st, what);
}

static const loupe__child_writer child_writer = {child_param, child_attr, child_keyed};

typedef struct create_trial_ctx {
    int64_t study_id;
    const loupe_frozen_trial *tmpl;
    int64_t trial_id, number;
} create_trial_ctx;

static int create_trial_body(sq_storage *s, void *vctx) {
    create_trial_ctx *c = vctx;
    const loupe_frozen_trial *t = c->tmpl;
    int rc = study_exists(s, c->study_id);
    if (rc) return rc;
    sqlite3_stmt *st = NULL;
    if ((rc = get_st(s, ST_TRIAL_INSERT, &st))) return rc;
    sqlite3_bind_int64(st, 1, c->study_id);
    sqlite3_bind_text(st, 2, loupe__state_names[t ? t->state : LOUPE_RUNNING], -1, SQLITE_STATIC);
    bind_datetime(st, 3, t ? t->datetime_start_us : loupe__now_us());
    bind_datetime(st, 4, t ? t->datetime_complete_us : -1);
    if ((rc = step_done(s, st, "inserting a trial"))) return rc;
    c->trial_id = sqlite3_last_insert_rowid(s->db);

    /* the number: trials of the study before this one, counted under the write lock */
    if ((rc = get_st(s, ST_TRIAL_COUNT_PAST, &st))) return rc;
    sqlite3_bind_int64(st, 1, c->study_id);
    sqlite3_bind_int64(st, 2, c->trial_id);
    int r = step_row(s, st, "numbering a trial");
    if (r < 0) return -r;
    c->number = r ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if ((rc = get_st(s, ST_TRIAL_SET_NUMBER, &st))) return rc;
    sqlite3_bind_int64(st, 1, c->trial_id);
    sqlite3_bind_int64(st, 2, c->number);
    if ((rc = step_done(s, st, "numbering a trial"))) return rc;
    if (!t) return LOUPE_OK;

    if ((rc = params_compatible(s, c->study_id, c->trial_id, c->number, t->n_params, t->params)))
        return rc;
    return loupe__write_children(&s->base, &child_writer, s, c->trial_id, t, NULL);
}

static int sq_create_trial(loupe_storage *base, int64_t study_id, const loupe_frozen_trial *tmpl,
                           int64_t *trial_id, int64_t *number) {
    sq_storage *s = SQ(base);
    int rc = loupe__check_template(base, tmpl);
    if (rc) return rc;
    create_trial_ctx c = {study_id, tmpl, 0, 0};
    rc = run_tx(s, 1, create_trial_body, &c);
    if (rc) return rc;
    if (trial_id) *trial_id = c.trial_id;
    if (number) *number = c.number;
    return LOUPE_OK;
}

typedef struct claim_ctx {
    int64_t study_id, trial_id;
} claim_ctx;

static int claim_body(sq_storage *s, void *vctx) {
    claim_ctx *c = vctx;
    for (;;) {
        sqlite3_stmt *st = NULL;
        int rc = get_st(s, ST_TRIAL_WAITING, &st);
        if (rc) return rc;
        sqlite3_bind_int64(st, 1, c->study_id);
        int r = step_row(s, st, "looking for a WAITING trial");
        if (r < 0) return -r;
        if (r == 0)
            return loupe__error(&s->base, LOUPE_ENOTFOUND, "No WAITING trial in study %lld",
                                (long long)c->study_id);
        c->trial_id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        /* conditional: only a trial that is still WAITING is taken */
        if ((rc = get_st(s, ST_TRIAL_CLAIM, &st))) return rc;
        sqlite3_bind_int64(st, 1, c->trial_id);
        bind_datetime(st, 2, loupe__now_us());
        if ((rc = step_done(s, st, "claiming a WAITING trial"))) return rc;
        if (sqlite3_changes(s->db) == 1) return LOUPE_OK;
    }
}

static int sq_claim_waiting_trial(loupe_storage *base, int64_t study_id, int64_t *trial_id) {
    claim_ctx c = {study_id, 0};
    int rc = run_tx(SQ(base), 1, claim_body, &c);
    if (!rc && trial_id) *trial_id = c.trial_id;
    return rc;
}

typedef struct update_ctx {
    const loupe__trial_update *u;
    int changed;
} update_ctx;

static int update_body(sq_storage *s, void *vctx) {
    update_ctx *c = vctx;
    const loupe__trial_update *u = c->u;
    c->changed = 0;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_TRIAL_HEAD, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, u->trial_id);
    int r = step_row(s, st, "reading a trial");
    if (r < 0) return -r;
    if (r == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No trial with id %lld",
                            (long long)u->trial_id);
    int64_t number = sqlite3_column_int64(st, 0);
    int64_t study_id = sqlite3_column_int64(st, 2);
    int state;
    rc = loupe__check_updatable(&s->base, s->qpath, u->trial_id, number,
                                (const char *)sqlite3_column_text(st, 1), &state);
    sqlite3_reset(st);
    if (rc) return rc;
    if ((rc = params_compatible(s, study_id, u->trial_id, number, u->n_params, u->params)))
        return rc;
    if ((rc = loupe__write_children(&s->base, &child_writer, s, u->trial_id, NULL, u))) return rc;
    int kind = u->set_state ? loupe__state_change_kind(u, state) : -1;
    if (kind < 0) return LOUPE_OK;
    int64_t now = u->now_us ? u->now_us : loupe__now_us();
    int id = kind == 1 ? ST_TRIAL_SET_STATE_START
             : kind == 2 ? ST_TRIAL_SET_STATE_COMPLETE
                         : ST_TRIAL_SET_STATE;
    if ((rc = get_st(s, id, &st))) return rc;
    sqlite3_bind_int64(st, 1, u->trial_id);
    sqlite3_bind_text(st, 2, loupe__state_names[u->state], -1, SQLITE_STATIC);
    if (id != ST_TRIAL_SET_STATE) bind_datetime(st, 3, now);
    if ((rc = step_done(s, st, "changing a trial's state"))) return rc;
    c->changed = 1;
    return LOUPE_OK;
}

static int sq_update_trial(loupe_storage *base, const loupe__trial_update *u, int *state_changed) {
    sq_storage *s = SQ(base);
    if (state_changed) *state_changed = 0;
    int rc = loupe__check_update(base, u);
    if (rc) return rc;
    update_ctx c = {u, 0};
    rc = run_tx(s, 1, update_body, &c);
    if (!rc && state_changed) *state_changed = c.changed;
    return rc;
}

/* ------------------------------------------------------------ trial reads */

typedef struct read_ctx {
    int64_t after;
    size_t n_ids;
    const int64_t *ids;
    loupe__rec_read b; /* built here, handed to the caller after the commit */
} read_ctx;

/* Steps a child-table read, handing each row to one loupe__rec_read_* call. */
static int read_rows(sq_storage *s, read_ctx *c, int id, const char *what, int kind) {
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, id, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->b.study_id);
    sqlite3_bind_int64(st, 2, c->after);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t tid = sqlite3_column_int64(st, 0);
        int null2 = sqlite3_column_type(st, 2) == SQLITE_NULL;
        switch (kind) {
        case LOUPE__CHILD_PARAMS:
            rc = loupe__rec_read_param(&c->b, tid, (const char *)sqlite3_column_text(st, 1), !null2,
                                       sqlite3_column_double(st, 2),
                                       (const char *)sqlite3_column_text(st, 3));
            break;
        case LOUPE__CHILD_VALUES:
        case LOUPE__CHILD_INTER: {
            const char *type = (const char *)sqlite3_column_text(st, 3);
            double raw = null2 ? 0 : sqlite3_column_double(st, 2);
            int64_t key = sqlite3_column_int64(st, 1);
            rc = kind == LOUPE__CHILD_VALUES
                     ? loupe__rec_read_value(&c->b, tid, key, type, null2, raw)
                     : loupe__rec_read_intermediate(&c->b, tid, key, type, null2, raw);
            break;
        }
        default:
            rc = loupe__rec_read_attr(&c->b, kind == LOUPE__CHILD_SATTRS, tid,
                                      (const char *)sqlite3_column_text(st, 1),
                                      (const char *)sqlite3_column_text(st, 2));
        }
    }
    if (rc) return rc;
    return step == SQLITE_DONE ? LOUPE_OK : fail(s, step, what);
}

static int read_body(sq_storage *s, void *vctx) {
    read_ctx *c = vctx;
    loupe__rec_read_reset(&c->b);
    int rc = study_exists(s, c->b.study_id);
    if (rc) return rc;
    sqlite3_stmt *st = NULL;
    int with_ids = c->n_ids > 0;
    if (with_ids) {
        /* created inside the transaction: a rolled-back attempt takes it away again */
        if ((rc = get_st(s, ST_IDS_CREATE, &st)) || (rc = step_done(s, st, "preparing a read")) ||
            (rc = get_st(s, ST_IDS_CLEAR, &st)) || (rc = step_done(s, st, "preparing a read")))
            return rc;
        for (size_t i = 0; i < c->n_ids; i++) {
            if ((rc = get_st(s, ST_IDS_INSERT, &st))) return rc;
            sqlite3_bind_int64(st, 1, c->ids[i]);
            if ((rc = step_done(s, st, "preparing a read"))) return rc;
        }
    }
    int base = with_ids ? ST_READ_TRIALS_IDS : ST_READ_TRIALS;
    int step;

    if ((rc = get_st(s, base, &st))) return rc;
    sqlite3_bind_int64(st, 1, c->b.study_id);
    sqlite3_bind_int64(st, 2, c->after);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t tid = sqlite3_column_int64(st, 0);
        int has_number = sqlite3_column_type(st, 1) != SQLITE_NULL;
        loupe__trial_rec *r;
        if ((rc = loupe__rec_read_trial(&c->b, tid, has_number, sqlite3_column_int64(st, 1),
                                        (const char *)sqlite3_column_text(st, 2), &r)))
            return rc;
        if ((rc = column_datetime(s, st, 3, tid, "datetime_start", &r->t.datetime_start_us)) ||
            (rc =
                 column_datetime(s, st, 4, tid, "datetime_complete", &r->t.datetime_complete_us))) {
            loupe__trial_rec_release(r);
            return rc;
        }
        if ((rc = loupe__rec_read_push(&c->b, r))) return rc;
    }
    if (step != SQLITE_DONE) return fail(s, step, "reading trials");
    if (c->b.recs.len == 0) return LOUPE_OK;

    /* the child statements follow ST_READ_TRIALS(_IDS) in LOUPE__CHILD_* order */
    for (int k = 0; k < LOUPE__CHILD_TABLES; k++)
        if ((rc = read_rows(s, c, base + 1 + k, loupe__child_read_what[k], k))) return rc;
    return LOUPE_OK;
}

static int sq_read_trials(loupe_storage *base, int64_t study_id, int64_t after_trial_id,
                          size_t n_ids, const int64_t *ids, loupe__rec_vec *out) {
    sq_storage *s = SQ(base);
    if (n_ids && !ids) return loupe__error(base, LOUPE_EINVAL, "ids array is NULL");
    read_ctx c;
    memset(&c, 0, sizeof c);
    c.b.s = base;
    c.b.where = s->qpath;
    c.b.memo_where = s->path;
    c.b.study_id = study_id;
    c.after = after_trial_id;
    c.n_ids = n_ids;
    c.ids = ids;
    return loupe__rec_read_finish(&c.b, run_tx(s, 0, read_body, &c), out);
}

typedef struct trial_study_ctx {
    int64_t trial_id, study_id;
} trial_study_ctx;

static int trial_study_body(sq_storage *s, void *vctx) {
    trial_study_ctx *c = vctx;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_TRIAL_HEAD, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->trial_id);
    int r = step_row(s, st, "reading a trial");
    if (r < 0) return -r;
    if (r == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No trial with id %lld",
                            (long long)c->trial_id);
    c->study_id = sqlite3_column_int64(st, 2);
    sqlite3_reset(st);
    return LOUPE_OK;
}

static int sq_read_trial(loupe_storage *base, int64_t trial_id, loupe__trial_rec **out) {
    sq_storage *s = SQ(base);
    *out = NULL;
    trial_study_ctx c = {trial_id, 0};
    int rc = run_tx(s, 0, trial_study_body, &c);
    if (rc) return rc;
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    rc = sq_read_trials(base, c.study_id, INT64_MAX, 1, &trial_id, &v);
    return loupe__rec_read_one(base, rc, &v, trial_id, out);
}

typedef struct by_number_ctx {
    int64_t study_id, number, trial_id;
} by_number_ctx;

static int by_number_body(sq_storage *s, void *vctx) {
    by_number_ctx *c = vctx;
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_TRIAL_ID_BY_NUMBER, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, c->study_id);
    sqlite3_bind_int64(st, 2, c->number);
    int r = step_row(s, st, "looking up a trial number");
    if (r < 0) return -r;
    if (r == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No trial with number %lld in study %lld",
                            (long long)c->number, (long long)c->study_id);
    c->trial_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LOUPE_OK;
}

static int sq_trial_id_by_number(loupe_storage *base, int64_t study_id, int64_t number,
                                 int64_t *trial_id) {
    by_number_ctx c = {study_id, number, 0};
    int rc = run_tx(SQ(base), 0, by_number_body, &c);
    if (!rc && trial_id) *trial_id = c.trial_id;
    return rc;
}

static int sq_data_version(loupe_storage *base, uint64_t *version) {
    sq_storage *s = SQ(base);
    sqlite3_stmt *st = NULL;
    int rc = get_st(s, ST_DATA_VERSION, &st);
    if (rc) return rc;
    int r = step_row(s, st, "reading the data version");
    if (r < 0) return -r;
    uint64_t dv = r ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    /* data_version moves on other connections' commits; own commits are counted here */
    if (version) *version = (dv << 32) + (s->own_commits & 0xffffffffu);
    return LOUPE_OK;
}

/* ------------------------------------------------------------ open / close */

static void sq_close(loupe_storage *base) {
    sq_storage *s = SQ(base);
    if (!s) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
    sqlite3_close_v2(s->db);
    loupe__dist_cache_free(&s->dists);
    free(s->path);
    free(s->qpath);
    free(s);
}

static const loupe__storage_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .create_study = sq_create_study,
    .delete_study = sq_delete_study,
    .find_study = sq_find_study,
    .get_study = sq_get_study,
    .list_studies = sq_list_studies,
    .list_study_heads = sq_list_study_heads,
    .set_study_attrs = sq_set_study_attrs,
    .create_trial = sq_create_trial,
    .claim_waiting_trial = sq_claim_waiting_trial,
    .update_trial = sq_update_trial,
    .read_trials = sq_read_trials,
    .read_trial = sq_read_trial,
    .trial_id_by_number = sq_trial_id_by_number,
    .data_version = sq_data_version,
};

/* Creates the schema in an empty file under the write lock. *created = 0 when
 * another process got there first (the file then has tables). */
static int create_fresh(sq_storage *s, int *created) {
    *created = 0;
    int rc = loupe__sq_open_db(&s->base, s->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                               s->busy_ms, &s->db);
    if (rc) return rc;
    int64_t deadline = loupe__monotonic_us() + (int64_t)s->busy_ms * 1000 * LOUPE__SQ_RETRY_FACTOR;
    for (int attempt = 1;; attempt++) {
        int src = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (src == SQLITE_OK) {
            loupe__sq_inspect info;
            rc = loupe__sq_inspect_db(&s->base, s->db, s->path, &info);
            if (!rc && info.n_tables == 0) {
                rc = loupe__sq_create_schema(&s->base, s->db);
                if (!rc) {
                    src = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
                    if (src != SQLITE_OK)
                        rc = fail(s, src, "creating the database");
                    else
                        *created = 1;
                }
            }
            if (!*created) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        } else {
            rc = fail(s, src, "creating the database");
        }
        if (rc != LOUPE_EBUSY || loupe__monotonic_us() >= deadline) break;
        loupe__sq_backoff(&s->seed, attempt);
    }
    if (!*created) {
        sqlite3_close_v2(s->db);
        s->db = NULL;
    }
    /* a failed creation leaves the empty file as it was: nothing was committed */
    return rc;
}

static int revision_error(sq_storage *s, const loupe__sq_inspect *info) {
    char url[1200];
    loupe__sq_url(s->path, url, sizeof url);
    const char *lib = info->library_version[0] ? info->library_version : "an unknown version";
    if (info->rev_index == -2)
        return loupe__error(
            &s->base, LOUPE_ESCHEMA,
            "'%s' is an Optuna database without an alembic revision stamp; run "
            "`loupe storage upgrade --storage %s` to bring it to revision " LOUPE__SCHEMA_HEAD,
            s->path, url);
    if (info->rev_index < 0)
        return loupe__error(&s->base, LOUPE_ESCHEMA,
                            "'%s' was written by a newer Optuna (schema revision '%s', set up by "
                            "Optuna %s); this loupe reads revisions up to " LOUPE__SCHEMA_HEAD
                            ". Use a newer loupe, or the Optuna that wrote the file.",
                            s->path, info->revision, lib);
    return loupe__error(
        &s->base, LOUPE_ESCHEMA,
        "'%s' is an Optuna database at the old schema revision %s (set up by "
        "Optuna %s); loupe needs " LOUPE__SCHEMA_HEAD
        ". Run `loupe storage upgrade --storage %s` to upgrade it (Optuna 3.2 and later "
        "open it afterwards; Optuna 3.1 and older no longer do).",
        s->path, info->revision, lib, url);
}

static int open_file(sq_storage *s, const char *path, unsigned flags) {
    s->busy_ms = loupe__sq_busy_ms_from_env();
    s->seed = (unsigned)getpid() ^ (unsigned)loupe__now_us();
    if (!path || !*path) return loupe__error(&s->base, LOUPE_EINVAL, "No SQLite file path given.");
    if (!(s->path = strdup(path))) return oom(s);
    size_t qlen = strlen(path) + 3;
    if (!(s->qpath = malloc(qlen))) return oom(s);
    snprintf(s->qpath, qlen, "'%s'", path);

    struct stat sb;
    int rc;
    int exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode))
        return loupe__error(&s->base, LOUPE_EIO, "'%s' is a directory, not an SQLite file", path);
    if (!exists && errno != ENOENT)
        return loupe__error(&s->base, LOUPE_EIO, "cannot access '%s': %s", path, strerror(errno));
    if (!exists || sb.st_size == 0) {
        int created;
        if ((rc = create_fresh(s, &created))) return rc;
        if (created) goto ready;
    }

    /* an existing file is inspected read-only first: a foreign or damaged file is never written */
    loupe__sq_inspect info;
    if ((rc = loupe__sq_inspect_file(&s->base, path, s->busy_ms, &info))) return rc;
    if (info.n_tables == 0) {
        /* a valid SQLite file without tables: create the schema, as Optuna does */
        int created;
        if ((rc = create_fresh(s, &created))) return rc;
        if (created) goto ready;
        return loupe__error(&s->base, LOUPE_ERROR, "'%s' changed while it was being opened; retry",
                            path);
    }
    if (info.rev_index != LOUPE__SQ_REV_HEAD &&
        !(info.rev_index == LOUPE__SQ_REV_300D && (flags & LOUPE_OPEN_SKIP_SCHEMA_CHECK))) {
        if (info.revision[0])
            snprintf(s->base.schema_revision, sizeof s->base.schema_revision, "%.39s",
                     info.revision);
        return revision_error(s, &info);
    }
    snprintf(s->base.schema_revision, sizeof s->base.schema_revision, "%.39s", info.revision);
    s->has_heartbeats = info.has_heartbeats;

    if (access(path, W_OK) == 0) {
        rc = loupe__sq_open_db(&s->base, path, SQLITE_OPEN_READWRITE, s->busy_ms, &s->db);
    } else {
        rc = loupe__sq_open_db(&s->base, path, SQLITE_OPEN_READONLY, s->busy_ms, &s->db);
        s->base.read_only = 1;
    }
    if (rc) return rc;
    goto tune;

ready:
    s->has_heartbeats = 1;
tune:
    /* the id list of read_trials lives in a temp table: keep it off the disk */
    sqlite3_exec(s->db, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
    /* durability is the default; NOSYNC skips fsync (safe against process crashes only) */
    if ((flags & LOUPE_OPEN_NOSYNC) &&
        sqlite3_exec(s->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK)
        return loupe__sq_fail(&s->base, s->db, sqlite3_errcode(s->db), path, "setting synchronous=OFF");
    return LOUPE_OK;
}

/* A handle whose open failed: it only carries the message (the core refuses
 * operations on a handle without create_study) and can be closed. */
static const loupe__storage_ops sqlite_failed_ops = {.name = "sqlite", .close = sq_close};

int loupe__sqlite_storage_open(const char *path, unsigned flags, loupe_storage **out) {
    *out = NULL;
    sq_storage *s = calloc(1, sizeof *s);
    if (!s) return LOUPE_ENOMEM;
    s->base.ops = &sqlite_ops;
    loupe__error_clear(&s->base);
    snprintf(s->base.schema_revision, sizeof s->base.schema_revision, "%s", LOUPE__SCHEMA_HEAD);
    *out = &s->base;
    int rc = open_file(s, path, flags);
    if (rc) {
        sqlite3_close_v2(s->db);
        s->db = NULL;
        s->base.ops = &sqlite_failed_ops;
    }
    return rc;
}
