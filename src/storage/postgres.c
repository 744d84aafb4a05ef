/*
 * postgres.c -- the PostgreSQL storage: Optuna's RDB schema (revision
 * v3.2.0.a) in a PostgreSQL database that Python Optuna workers, loupe workers
 * and dashboards share. The operations follow the SQLite storage (sqlite.c);
 * what differs is concurrency: writers run in READ COMMITTED and take row
 * locks as Optuna does (the study row before numbering a new trial, the trial
 * row before updating it), WAITING trials are claimed with one conditional
 * UPDATE, and transient failures are retried by the connection layer
 * (postgres_conn.c). Schema creation and inspection live in postgres_schema.c;
 * the checks, caches and record building shared with sqlite.c in sql_common.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/distribution.h"
#include "core/errors.h"
#include "core/trial_rec.h"
#include "storage/sql_common.h"
#include "storage/postgres_internal.h"
#include "util/buf.h"
#include "util/timeutil.h"

/* ------------------------------------------------------------ statements */

/* The trials a read selects: the study's trials after a trial_id plus listed ids.
 * $1 = study_id, $2 = after, $3 = ids (an array, may be empty). Parameters
 * compared with integer columns are bigint so that any int64 is accepted. */
#define SEL                                                                                        \
    "SELECT trial_id FROM trials WHERE study_id = $1::bigint AND (trial_id > $2::bigint OR "       \
    "trial_id = ANY($3::bigint[]))"

#define TRIAL_CHILD_DELETE(table)                                                                  \
    "DELETE FROM " table " WHERE trial_id IN (SELECT trial_id FROM trials WHERE study_id = "       \
    "$1::bigint)"

enum {
    ST_STUDY_NAME,
    ST_STUDY_LOCK,
    ST_STUDY_LOCK_DELETE,
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
    ST_STUDY_UATTR_UPSERT,
    ST_STUDY_SATTR_UPSERT,
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
    ST_TRIAL_NUMBER,
    ST_TRIAL_HEAD,
    ST_TRIAL_HEAD_LOCK,
    ST_TRIAL_CLAIM,
    ST_TRIAL_SET_STATE,
    ST_TRIAL_SET_STATE_START,
    ST_TRIAL_SET_STATE_COMPLETE,
    ST_TRIAL_ID_BY_NUMBER,
    ST_FIRST_DIST,
    ST_PARAM_EXISTS,
    ST_PARAM_INSERT,
    ST_TUATTR_UPSERT,
    ST_TSATTR_UPSERT,
    ST_INTER_UPSERT,
    ST_VALUE_UPSERT,
    ST_READ_TRIALS,
    ST_READ_PARAMS,
    ST_READ_VALUES,
    ST_READ_INTER,
    ST_READ_UATTRS,
    ST_READ_SATTRS,
    ST_SNAPSHOT,
    ST_SNAPSHOT_OLD,
    ST_COUNT
};
#define CHILD_AT(st, child) (st == ST_READ_TRIALS + 1 + LOUPE__CHILD_##child)
_Static_assert(CHILD_AT(ST_READ_PARAMS, PARAMS) && CHILD_AT(ST_READ_VALUES, VALUES) &&
                   CHILD_AT(ST_READ_INTER, INTER) && CHILD_AT(ST_READ_UATTRS, UATTRS) &&
                   CHILD_AT(ST_READ_SATTRS, SATTRS),
               "the read statements follow LOUPE__CHILD_* order");
#undef CHILD_AT

static const char *const stmt_sql[ST_COUNT] = {
    [ST_STUDY_NAME] = "SELECT study_name FROM studies WHERE study_id = $1::bigint",
    /* as Optuna's SELECT ... FOR UPDATE on the study row before numbering a trial;
     * NO KEY UPDATE still excludes other trial creators (Python's FOR UPDATE too)
     * but lets attribute inserts check their foreign key meanwhile */
    [ST_STUDY_LOCK] = "SELECT study_id FROM studies WHERE study_id = $1::bigint FOR NO KEY UPDATE",
    [ST_STUDY_LOCK_DELETE] = "SELECT study_id FROM studies WHERE study_id = $1::bigint FOR UPDATE",
    [ST_STUDY_BY_NAME] = "SELECT study_id FROM studies WHERE study_name = $1",
    /* a taken name inserts nothing (and waits for a concurrent insert of the same name) */
    [ST_STUDY_INSERT] =
        "INSERT INTO studies (study_name) VALUES ($1) ON CONFLICT DO NOTHING RETURNING study_id",
    [ST_DIRECTION_INSERT] =
        "INSERT INTO study_directions (direction, study_id, objective) VALUES ($1, $2, $3)",
    [ST_DIRECTIONS] = "SELECT objective, direction FROM study_directions WHERE study_id = "
                      "$1::bigint ORDER BY objective",
    [ST_STUDY_UATTRS] = "SELECT \"key\", value_json FROM study_user_attributes WHERE study_id = "
                        "$1::bigint ORDER BY study_user_attribute_id",
    [ST_STUDY_SATTRS] = "SELECT \"key\", value_json FROM study_system_attributes WHERE study_id = "
                        "$1::bigint ORDER BY study_system_attribute_id",
    [ST_ALL_STUDIES] = "SELECT study_id, study_name FROM studies ORDER BY study_id",
    [ST_ALL_DIRECTIONS] =
        "SELECT study_id, objective, direction FROM study_directions ORDER BY study_id, objective",
    [ST_ALL_UATTRS] = "SELECT study_id, \"key\", value_json FROM study_user_attributes ORDER BY "
                      "study_id, study_user_attribute_id",
    [ST_ALL_SATTRS] = "SELECT study_id, \"key\", value_json FROM study_system_attributes ORDER BY "
                      "study_id, study_system_attribute_id",
    [ST_STUDY_STATS] = "SELECT study_id, count(*), min(datetime_start) FROM trials GROUP BY "
                       "study_id ORDER BY study_id",
    [ST_STUDY_UATTR_UPSERT] =
        "INSERT INTO study_user_attributes (study_id, \"key\", value_json) VALUES ($1, $2, $3) "
        "ON CONFLICT (study_id, \"key\") DO UPDATE SET value_json = EXCLUDED.value_json",
    [ST_STUDY_SATTR_UPSERT] =
        "INSERT INTO study_system_attributes (study_id, \"key\", value_json) VALUES ($1, $2, $3) "
        "ON CONFLICT (study_id, \"key\") DO UPDATE SET value_json = EXCLUDED.value_json",
    [ST_STUDY_UATTR_GET] = "SELECT value_json FROM study_user_attributes WHERE study_id = "
                           "$1::bigint AND \"key\" = $2",
    [ST_STUDY_SATTR_GET] = "SELECT value_json FROM study_system_attributes WHERE study_id = "
                           "$1::bigint AND \"key\" = $2",
    [ST_DEL_PARAMS] = TRIAL_CHILD_DELETE("trial_params"),
    [ST_DEL_VALUES] = TRIAL_CHILD_DELETE("trial_values"),
    [ST_DEL_INTER] = TRIAL_CHILD_DELETE("trial_intermediate_values"),
    [ST_DEL_TUATTRS] = TRIAL_CHILD_DELETE("trial_user_attributes"),
    [ST_DEL_TSATTRS] = TRIAL_CHILD_DELETE("trial_system_attributes"),
    [ST_DEL_HEARTBEATS] = TRIAL_CHILD_DELETE("trial_heartbeats"),
    [ST_DEL_TRIALS] = "DELETE FROM trials WHERE study_id = $1::bigint",
    [ST_DEL_DIRECTIONS] = "DELETE FROM study_directions WHERE study_id = $1::bigint",
    [ST_DEL_SUATTRS] = "DELETE FROM study_user_attributes WHERE study_id = $1::bigint",
    [ST_DEL_SSATTRS] = "DELETE FROM study_system_attributes WHERE study_id = $1::bigint",
    [ST_DEL_STUDY] = "DELETE FROM studies WHERE study_id = $1::bigint",
    [ST_TRIAL_INSERT] = "INSERT INTO trials (number, study_id, state, datetime_start, "
                        "datetime_complete) VALUES (NULL, $1, $2, $3, $4) RETURNING trial_id",
    /* the number: the study's trials before this one, counted under the study lock */
    [ST_TRIAL_NUMBER] = "UPDATE trials SET number = (SELECT count(trial_id) FROM trials WHERE "
                        "study_id = $2 AND trial_id < $1) WHERE trial_id = $1 RETURNING number",
    [ST_TRIAL_HEAD] = "SELECT number, state, study_id FROM trials WHERE trial_id = $1::bigint",
    [ST_TRIAL_HEAD_LOCK] = "SELECT number, state, study_id FROM trials WHERE trial_id = "
                           "$1::bigint FOR NO KEY UPDATE",
    /* one statement: the oldest WAITING trial nobody else is claiming right now */
    [ST_TRIAL_CLAIM] =
        "UPDATE trials SET state = 'RUNNING', datetime_start = $2 WHERE state = 'WAITING' AND "
        "trial_id = (SELECT trial_id FROM trials WHERE study_id = $1::bigint AND state = "
        "'WAITING' ORDER BY number, trial_id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED) RETURNING "
        "trial_id",
    [ST_TRIAL_SET_STATE] = "UPDATE trials SET state = $2 WHERE trial_id = $1",
    [ST_TRIAL_SET_STATE_START] =
        "UPDATE trials SET state = $2, datetime_start = $3 WHERE trial_id = $1",
    [ST_TRIAL_SET_STATE_COMPLETE] =
        "UPDATE trials SET state = $2, datetime_complete = $3 WHERE trial_id = $1",
    [ST_TRIAL_ID_BY_NUMBER] = "SELECT trial_id FROM trials WHERE study_id = $1::bigint AND number "
                              "= $2::bigint ORDER BY trial_id LIMIT 1",
    [ST_FIRST_DIST] = "SELECT p.distribution_json FROM trial_params p JOIN trials t ON t.trial_id "
                      "= p.trial_id WHERE t.study_id = $1::bigint AND p.param_name = $2 ORDER BY "
                      "p.param_id LIMIT 1",
    [ST_PARAM_EXISTS] = "SELECT 1 FROM trial_params WHERE trial_id = $1 AND param_name = $2",
    [ST_PARAM_INSERT] = "INSERT INTO trial_params (trial_id, param_name, param_value, "
                        "distribution_json) VALUES ($1, $2, $3, $4)",
    [ST_TUATTR_UPSERT] =
        "INSERT INTO trial_user_attributes (trial_id, \"key\", value_json) VALUES ($1, $2, $3) "
        "ON CONFLICT (trial_id, \"key\") DO UPDATE SET value_json = EXCLUDED.value_json",
    [ST_TSATTR_UPSERT] =
        "INSERT INTO trial_system_attributes (trial_id, \"key\", value_json) VALUES ($1, $2, $3) "
        "ON CONFLICT (trial_id, \"key\") DO UPDATE SET value_json = EXCLUDED.value_json",
    [ST_INTER_UPSERT] =
        "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
        "intermediate_value_type) VALUES ($1, $2, $3, $4) ON CONFLICT (trial_id, step) DO UPDATE "
        "SET intermediate_value = EXCLUDED.intermediate_value, intermediate_value_type = "
        "EXCLUDED.intermediate_value_type",
    [ST_VALUE_UPSERT] =
        "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES ($1, $2, $3, "
        "$4) ON CONFLICT (trial_id, objective) DO UPDATE SET value = EXCLUDED.value, value_type = "
        "EXCLUDED.value_type",
    [ST_READ_TRIALS] = "SELECT trial_id, number, state, datetime_start, datetime_complete FROM "
                       "trials WHERE study_id = $1::bigint AND (trial_id > $2::bigint OR trial_id "
                       "= ANY($3::bigint[])) ORDER BY trial_id",
    [ST_READ_PARAMS] = "SELECT trial_id, param_name, param_value, distribution_json FROM "
                       "trial_params WHERE trial_id IN (" SEL ") ORDER BY trial_id, param_id",
    [ST_READ_VALUES] = "SELECT trial_id, objective, value, value_type FROM trial_values WHERE "
                       "trial_id IN (" SEL ") ORDER BY trial_id, objective",
    [ST_READ_INTER] = "SELECT trial_id, step, intermediate_value, intermediate_value_type FROM "
                      "trial_intermediate_values WHERE trial_id IN (" SEL ") ORDER BY trial_id, "
                      "step",
    [ST_READ_UATTRS] = "SELECT trial_id, \"key\", value_json FROM trial_user_attributes WHERE "
                       "trial_id IN (" SEL ") ORDER BY trial_id, trial_user_attribute_id",
    [ST_READ_SATTRS] = "SELECT trial_id, \"key\", value_json FROM trial_system_attributes WHERE "
                       "trial_id IN (" SEL ") ORDER BY trial_id, trial_system_attribute_id",
    /* data_version: the set of committed transactions (see pg_data_version) */
    [ST_SNAPSHOT] = "SELECT pg_current_snapshot()::text",
    [ST_SNAPSHOT_OLD] = "SELECT txid_current_snapshot()::text",
};

/* ------------------------------------------------------------ helpers */

static pg_storage *PG(loupe_storage *s) { return (pg_storage *)s; }

static int oom(pg_storage *s) { return loupe__error(&s->base, LOUPE_ENOMEM, "out of memory"); }

static int run(pg_storage *s, int id, const loupe__pgp *p, PGresult **out, const char *what) {
    return loupe__pg_exec(s, id, stmt_sql[id], p, out, what);
}


/* Optuna's stored forms of a float: (value, type) with NULL for inf and NaN. */
static void param_value(loupe__pgp *p, double v, int allow_nan) {
    int null;
    const char *type = loupe__value_type(v, allow_nan, &null);
    if (null)
        loupe__pgp_text(p, NULL);
    else
        loupe__pgp_double(p, v);
    loupe__pgp_text(p, type);
}

/* Reads a timestamp column (ISO datestyle): -1 for NULL, ECORRUPT otherwise unreadable. */
static int column_datetime(pg_storage *s, const PGresult *r, int row, int col, int64_t trial_id,
                           const char *name, int64_t *out) {
    const char *text = loupe__pg_text(r, row, col);
    if (!text) {
        *out = -1;
        return LOUPE_OK;
    }
    if (loupe__parse_datetime(text, out) != 0)
        return loupe__error(&s->base, LOUPE_ECORRUPT,
                            "trials row trial_id=%lld in %s has an unreadable %s '%.60s'",
                            (long long)trial_id, s->where, name, text);
    return LOUPE_OK;
}

/* ------------------------------------------------------------ first distributions */

/* The first stored distribution of name in the study (*out NULL when new). */
static int first_distribution(pg_storage *s, int64_t study_id, const char *name,
                              const loupe_distribution **out) {
    if ((*out = loupe__dist_cache_find(&s->dists, study_id, name))) return LOUPE_OK;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, study_id);
    loupe__pgp_text(&p, name);
    PGresult *r;
    int rc = run(s, ST_FIRST_DIST, &p, &r, "reading the first distribution of a param");
    if (rc) return rc;
    if (PQntuples(r) > 0) {
        const char *json = loupe__pg_text(r, 0, 0);
        rc = loupe__dist_cache_add(&s->base, &s->dists, study_id, name, json ? json : "", out);
    }
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------ studies */

/* Checks that the study exists; with lock, also locks its row (1 = for
 * numbering trials, 2 = for deleting it). */
static int study_exists(pg_storage *s, int64_t study_id, int lock) {
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, study_id);
    PGresult *r;
    int id = lock == 1 ? ST_STUDY_LOCK : lock == 2 ? ST_STUDY_LOCK_DELETE : ST_STUDY_NAME;
    int rc = run(s, id, &p, &r, "looking up a study");
    if (rc) return rc;
    int n = PQntuples(r);
    PQclear(r);
    if (n == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No study with study_id %lld in %s",
                            (long long)study_id, s->where);
    return LOUPE_OK;
}

typedef struct create_study_ctx {
    const char *name;
    size_t n;
    const loupe_direction *dirs;
    int64_t id;
} create_study_ctx;

static int create_study_body(pg_storage *s, void *vctx) {
    create_study_ctx *c = vctx;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_text(&p, c->name);
    PGresult *r;
    int rc = run(s, ST_STUDY_INSERT, &p, &r, "inserting a study");
    if (rc) return rc;
    int n = PQntuples(r);
    c->id = n ? loupe__pg_int(r, 0, 0) : 0;
    PQclear(r);
    if (n == 0)
        return loupe__error(&s->base, LOUPE_EEXISTS, "A study with name '%s' already exists",
                            c->name);
    for (size_t i = 0; i < c->n; i++) {
        loupe__pgp_init(&p);
        loupe__pgp_text(&p, loupe__direction_names[c->dirs[i]]);
        loupe__pgp_int(&p, c->id);
        loupe__pgp_int(&p, (int64_t)i);
        if ((rc = run(s, ST_DIRECTION_INSERT, &p, NULL, "inserting a study direction"))) return rc;
    }
    return LOUPE_OK;
}

static int pg_create_study(loupe_storage *base, const char *name, size_t n_directions,
                           const loupe_direction *directions, int64_t *study_id) {
    pg_storage *s = PG(base);
    int rc = loupe__check_study_args(base, name, n_directions, directions);
    if (rc) return rc;
    create_study_ctx c = {name, n_directions, directions, 0};
    rc = loupe__pg_run_tx(s, 1, create_study_body, &c);
    if (!rc && study_id) *study_id = c.id;
    return rc;
}

static int delete_study_body(pg_storage *s, void *vctx) {
    int64_t id = *(int64_t *)vctx;
    /* the lock waits for trial creators and makes later ones find no study */
    int rc = study_exists(s, id, 2);
    if (rc) return rc;
    static const int order[] = {ST_DEL_PARAMS,  ST_DEL_VALUES,     ST_DEL_INTER,  ST_DEL_TUATTRS,
                                ST_DEL_TSATTRS, ST_DEL_HEARTBEATS, ST_DEL_TRIALS, ST_DEL_DIRECTIONS,
                                ST_DEL_SUATTRS, ST_DEL_SSATTRS,    ST_DEL_STUDY};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (order[i] == ST_DEL_HEARTBEATS && !s->has_heartbeats) continue;
        loupe__pgp p;
        loupe__pgp_init(&p);
        loupe__pgp_int(&p, id);
        if ((rc = run(s, order[i], &p, NULL, "deleting a study"))) return rc;
    }
    return LOUPE_OK;
}

static int pg_delete_study(loupe_storage *base, int64_t study_id) {
    pg_storage *s = PG(base);
    int rc = loupe__pg_run_tx(s, 1, delete_study_body, &study_id);
    if (!rc) loupe__dist_cache_forget_study(&s->dists, study_id);
    return rc;
}

typedef struct find_ctx {
    const char *name;
    int64_t id;
} find_ctx;

static int find_study_body(pg_storage *s, void *vctx) {
    find_ctx *c = vctx;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_text(&p, c->name);
    PGresult *r;
    int rc = run(s, ST_STUDY_BY_NAME, &p, &r, "looking up a study name");
    if (rc) return rc;
    int n = PQntuples(r);
    c->id = n ? loupe__pg_int(r, 0, 0) : 0;
    PQclear(r);
    if (n == 0) return loupe__error(&s->base, LOUPE_ENOTFOUND, "No study named '%s'", c->name);
    return LOUPE_OK;
}

static int pg_find_study(loupe_storage *base, const char *name, int64_t *study_id) {
    if (!name)
        return loupe__error(base, LOUPE_EINVAL, "No study name given; pass the study's name.");
    find_ctx c = {name, 0};
    int rc = loupe__pg_run_tx(PG(base), 0, find_study_body, &c);
    if (!rc && study_id) *study_id = c.id;
    return rc;
}



typedef struct get_study_ctx {
    int64_t id;
    loupe__study_info info;
} get_study_ctx;

static int get_study_body(pg_storage *s, void *vctx) {
    get_study_ctx *c = vctx;
    loupe__study_info_free(&c->info); /* a retried transaction starts over */
    c->info.study_id = c->id;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, c->id);
    PGresult *r;
    int rc = run(s, ST_STUDY_NAME, &p, &r, "reading a study");
    if (rc) return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No study with study_id %lld in %s",
                            (long long)c->id, s->where);
    }
    c->info.name = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!c->info.name) return oom(s);

    if ((rc = run(s, ST_DIRECTIONS, &p, &r, "reading study directions"))) return rc;
    size_t alloc = 0;
    for (int i = 0; !rc && i < PQntuples(r); i++)
        rc = loupe__direction_push(&s->base, s->where, &c->info, &alloc, loupe__pg_int(r, i, 0),
                                   loupe__pg_text(r, i, 1));
    PQclear(r);
    if (rc) return rc;
    for (int sys = 0; sys < 2; sys++) {
        if ((rc = run(s, sys ? ST_STUDY_SATTRS : ST_STUDY_UATTRS, &p, &r,
                      "reading study attributes")))
            return rc;
        loupe_attr **arr = sys ? &c->info.system_attrs : &c->info.user_attrs;
        size_t *n = sys ? &c->info.n_system_attrs : &c->info.n_user_attrs;
        alloc = 0;
        for (int i = 0; !rc && i < PQntuples(r); i++)
            if (loupe__attr_push(arr, n, &alloc, loupe__pg_text(r, i, 0), loupe__pg_text(r, i, 1)))
                rc = oom(s);
        PQclear(r);
        if (rc) return rc;
    }
    return LOUPE_OK;
}

static int pg_get_study(loupe_storage *base, int64_t study_id, loupe__study_info *out) {
    get_study_ctx c;
    memset(&c, 0, sizeof c);
    c.id = study_id;
    int rc = loupe__pg_run_tx(PG(base), 0, get_study_body, &c);
    if (rc) {
        loupe__study_info_free(&c.info);
        return rc;
    }
    *out = c.info;
    return LOUPE_OK;
}

static int list_studies_body(pg_storage *s, void *vctx) {
    loupe__study_scan *c = vctx;
    loupe__study_scan_clear(c);
    PGresult *r;
    int rc = run(s, ST_ALL_STUDIES, NULL, &r, "listing studies");
    if (rc) return rc;
    for (int i = 0; !rc && i < PQntuples(r); i++)
        if (!loupe__study_scan_add(c, loupe__pg_int(r, i, 0), PQgetvalue(r, i, 1))) rc = oom(s);
    PQclear(r);
    if (rc) return rc;

    size_t pos = 0;
    if ((rc = run(s, ST_ALL_DIRECTIONS, NULL, &r, "listing study directions"))) return rc;
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        loupe__study_scan_entry *e = loupe__study_scan_find(c, &pos, loupe__pg_int(r, i, 0));
        if (e)
            rc = loupe__direction_push(&s->base, s->where, &e->info, &e->dir_alloc,
                                       loupe__pg_int(r, i, 1), loupe__pg_text(r, i, 2));
    }
    PQclear(r);
    if (rc) return rc;
    for (int sys = 0; sys < 2; sys++) {
        pos = 0;
        if ((rc = run(s, sys ? ST_ALL_SATTRS : ST_ALL_UATTRS, NULL, &r,
                      "listing study attributes")))
            return rc;
        for (int i = 0; !rc && i < PQntuples(r); i++) {
            loupe__study_scan_entry *e = loupe__study_scan_find(c, &pos, loupe__pg_int(r, i, 0));
            if (e &&
                loupe__study_scan_attr(e, sys, loupe__pg_text(r, i, 1), loupe__pg_text(r, i, 2)))
                rc = oom(s);
        }
        PQclear(r);
        if (rc) return rc;
    }
    if (c->bare) return LOUPE_OK;
    pos = 0;
    if ((rc = run(s, ST_STUDY_STATS, NULL, &r, "counting trials"))) return rc;
    for (size_t i = 0; i < c->n; i++)
        c->e[i].n_trials = 0; /* studies without trials */
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        int64_t sid = loupe__pg_int(r, i, 0);
        loupe__study_scan_entry *e = loupe__study_scan_find(c, &pos, sid);
        if (!e) continue;
        e->n_trials = loupe__pg_int(r, i, 1);
        const char *t = loupe__pg_text(r, i, 2);
        if (t && loupe__parse_datetime(t, &e->start_us) != 0)
            rc = loupe__error(&s->base, LOUPE_ECORRUPT,
                              "a trial of study %lld in %s has an unreadable datetime_start "
                              "'%.60s'",
                              (long long)sid, s->where, t);
    }
    PQclear(r);
    return rc;
}

static int pg_list(loupe_storage *base, int bare, loupe_study_list **out) {
    loupe__study_scan c;
    memset(&c, 0, sizeof c);
    c.bare = bare;
    *out = NULL;
    int rc = loupe__pg_run_tx(PG(base), 0, list_studies_body, &c);
    if (rc) {
        loupe__study_scan_clear(&c);
        return rc;
    }
    return loupe__study_scan_finish(base, &c, out);
}

static int pg_list_studies(loupe_storage *base, loupe_study_list **out) { return pg_list(base, 0, out); }

/* Without the GROUP BY over the trials table: pollers call this every few ms. */
static int pg_list_study_heads(loupe_storage *base, loupe_study_list **out) {
    return pg_list(base, 1, out);
}

static int upsert_attr(pg_storage *s, int id, int64_t owner, const loupe_attr *a,
                       const char *what) {
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, owner);
    loupe__pgp_text(&p, a->key);
    loupe__pgp_text(&p, a->json);
    return run(s, id, &p, NULL, what);
}

typedef struct study_attrs_ctx {
    int64_t id;
    int system;
    size_t n;
    const loupe_attr *attrs;
    const loupe_attr *guard;
} study_attrs_ctx;

/* LOUPE_ECONFLICT unless the guard attribute holds exactly guard->json (NULL:
 * absent). Runs after the study row is locked, so guarded writers of one
 * study take turns and each reads what the previous one committed (READ
 * COMMITTED takes a fresh snapshot per statement). */
static int check_guard(pg_storage *s, const study_attrs_ctx *c) {
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, c->id);
    loupe__pgp_text(&p, c->guard->key);
    PGresult *r;
    int rc = run(s, c->system ? ST_STUDY_SATTR_GET : ST_STUDY_UATTR_GET, &p, &r,
                 "reading a study attribute");
    if (rc) return rc;
    rc = loupe__guard_holds(&s->base, c->guard, PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : NULL);
    PQclear(r);
    return rc;
}

static int set_study_attrs_body(pg_storage *s, void *vctx) {
    study_attrs_ctx *c = vctx;
    int rc = study_exists(s, c->id, c->guard ? 1 : 0);
    if (!rc && c->guard) rc = check_guard(s, c);
    for (size_t i = 0; !rc && i < c->n; i++)
        rc = upsert_attr(s, c->system ? ST_STUDY_SATTR_UPSERT : ST_STUDY_UATTR_UPSERT, c->id,
                         &c->attrs[i], "writing a study attribute");
    return rc;
}

static int pg_set_study_attrs(loupe_storage *base, int64_t study_id, int system, size_t n,
                              const loupe_attr *attrs, const loupe_attr *guard) {
    pg_storage *s = PG(base);
    int rc = loupe__check_attrs(&s->base, system ? "Study system" : "Study user", n, attrs);
    if (rc) return rc;
    if ((rc = loupe__check_guard_arg(base, guard))) return rc;
    study_attrs_ctx c = {study_id, system, n, attrs, guard};
    return loupe__pg_run_tx(s, 1, set_study_attrs_body, &c);
}

/* ------------------------------------------------------------ trial writes */

/* Checks every param against the study's first distribution of its name and
 * that the trial does not have it yet. */
static int params_compatible(pg_storage *s, int64_t study_id, int64_t trial_id, int64_t number,
                             size_t n, const loupe_param *params) {
    for (size_t i = 0; i < n; i++) {
        loupe__pgp p;
        loupe__pgp_init(&p);
        loupe__pgp_int(&p, trial_id);
        loupe__pgp_text(&p, params[i].name);
        PGresult *r;
        int rc = run(s, ST_PARAM_EXISTS, &p, &r, "checking a param");
        if (rc) return rc;
        int exists = PQntuples(r) > 0;
        PQclear(r);
        if (exists) return loupe__param_taken(&s->base, number, params[i].name);
        const loupe_distribution *first;
        if ((rc = first_distribution(s, study_id, params[i].name, &first)) ||
            (rc = loupe__param_compatible(&s->base, &params[i], first)))
            return rc;
    }
    return LOUPE_OK;
}

/* How postgres.c writes the rows of loupe__write_children. */
static int child_param(void *db, int64_t trial_id, const loupe_param *p, const char *dist_json,
                       size_t len) {
    (void)len;
    loupe__pgp q;
    loupe__pgp_init(&q);
    loupe__pgp_int(&q, trial_id);
    loupe__pgp_text(&q, p->name);
    loupe__pgp_double(&q, p->internal);
    loupe__pgp_text(&q, dist_json);
    return run(db, ST_PARAM_INSERT, &q, NULL, "inserting a param");
}

static int child_attr(void *db, int64_t trial_id, int system, const loupe_attr *a,
                      const char *what) {
    return upsert_attr(db, system ? ST_TSATTR_UPSERT : ST_TUATTR_UPSERT, trial_id, a, what);
}

static int child_keyed(void *db, int64_t trial_id, int is_value, int64_t key, double v,
                       const char *what) {
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, trial_id);
    loupe__pgp_int(&p, key);
    param_value(&p, v, !is_value);
    return run(db, is_value ? ST_VALUE_UPSERT : ST_INTER_UPSERT, &p, NULL, what);
}

static const loupe__child_writer child_writer = {child_param, child_attr, child_keyed};

typedef struct create_trial_ctx {
    int64_t study_id;
    const loupe_frozen_trial *tmpl;
    int64_t trial_id, number;
} create_trial_ctx;

static int create_trial_body(pg_storage *s, void *vctx) {
    create_trial_ctx *c = vctx;
    const loupe_frozen_trial *t = c->tmpl;
    /* the study row lock orders trial creators, so numbers are dense and unique */
    int rc = study_exists(s, c->study_id, 1);
    if (rc) return rc;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, c->study_id);
    loupe__pgp_text(&p, loupe__state_names[t ? t->state : LOUPE_RUNNING]);
    loupe__pgp_datetime(&p, t ? t->datetime_start_us : loupe__now_us());
    loupe__pgp_datetime(&p, t ? t->datetime_complete_us : -1);
    PGresult *r;
    if ((rc = run(s, ST_TRIAL_INSERT, &p, &r, "inserting a trial"))) return rc;
    c->trial_id = loupe__pg_int(r, 0, 0);
    PQclear(r);
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, c->trial_id);
    loupe__pgp_int(&p, c->study_id);
    if ((rc = run(s, ST_TRIAL_NUMBER, &p, &r, "numbering a trial"))) return rc;
    c->number = loupe__pg_int(r, 0, 0);
    PQclear(r);
    if (!t) return LOUPE_OK;
    if ((rc = params_compatible(s, c->study_id, c->trial_id, c->number, t->n_params, t->params)))
        return rc;
    return loupe__write_children(&s->base, &child_writer, s, c->trial_id, t, NULL);
}

static int pg_create_trial(loupe_storage *base, int64_t study_id, const loupe_frozen_trial *tmpl,
                           int64_t *trial_id, int64_t *number) {
    pg_storage *s = PG(base);
    int rc = loupe__check_template(base, tmpl);
    if (rc) return rc;
    create_trial_ctx c = {study_id, tmpl, 0, 0};
    rc = loupe__pg_run_tx(s, 1, create_trial_body, &c);
    if (rc) return rc;
    if (trial_id) *trial_id = c.trial_id;
    if (number) *number = c.number;
    return LOUPE_OK;
}

typedef struct claim_ctx {
    int64_t study_id, trial_id;
} claim_ctx;

static int claim_body(pg_storage *s, void *vctx) {
    claim_ctx *c = vctx;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, c->study_id);
    loupe__pgp_datetime(&p, loupe__now_us());
    PGresult *r;
    int rc = run(s, ST_TRIAL_CLAIM, &p, &r, "claiming a WAITING trial");
    if (rc) return rc;
    int n = PQntuples(r);
    c->trial_id = n ? loupe__pg_int(r, 0, 0) : 0;
    PQclear(r);
    if (n == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No WAITING trial in study %lld",
                            (long long)c->study_id);
    return LOUPE_OK;
}

static int pg_claim_waiting_trial(loupe_storage *base, int64_t study_id, int64_t *trial_id) {
    claim_ctx c = {study_id, 0};
    int rc = loupe__pg_run_tx(PG(base), 1, claim_body, &c);
    if (!rc && trial_id) *trial_id = c.trial_id;
    return rc;
}

typedef struct update_ctx {
    const loupe__trial_update *u;
    int changed;
} update_ctx;

static int update_body(pg_storage *s, void *vctx) {
    update_ctx *c = vctx;
    const loupe__trial_update *u = c->u;
    c->changed = 0;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, u->trial_id);
    PGresult *r;
    /* the row lock serializes writers of one trial (Optuna: SELECT ... FOR UPDATE) */
    int rc = run(s, ST_TRIAL_HEAD_LOCK, &p, &r, "reading a trial");
    if (rc) return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No trial with id %lld",
                            (long long)u->trial_id);
    }
    int64_t number = loupe__pg_int(r, 0, 0);
    int64_t study_id = loupe__pg_int(r, 0, 2);
    int state;
    rc = loupe__check_updatable(&s->base, s->where, u->trial_id, number, loupe__pg_text(r, 0, 1),
                                &state);
    PQclear(r);
    if (rc) return rc;
    if ((rc = params_compatible(s, study_id, u->trial_id, number, u->n_params, u->params)))
        return rc;
    if ((rc = loupe__write_children(&s->base, &child_writer, s, u->trial_id, NULL, u))) return rc;
    int kind = u->set_state ? loupe__state_change_kind(u, state) : -1;
    if (kind < 0) return LOUPE_OK;
    int id = kind == 1 ? ST_TRIAL_SET_STATE_START
             : kind == 2 ? ST_TRIAL_SET_STATE_COMPLETE
                         : ST_TRIAL_SET_STATE;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, u->trial_id);
    loupe__pgp_text(&p, loupe__state_names[u->state]);
    if (id != ST_TRIAL_SET_STATE) loupe__pgp_datetime(&p, u->now_us ? u->now_us : loupe__now_us());
    if ((rc = run(s, id, &p, &r, "changing a trial's state"))) return rc;
    PQclear(r);
    c->changed = 1;
    return LOUPE_OK;
}

static int pg_update_trial(loupe_storage *base, const loupe__trial_update *u, int *state_changed) {
    pg_storage *s = PG(base);
    if (state_changed) *state_changed = 0;
    int rc = loupe__check_update(base, u);
    if (rc) return rc;
    update_ctx c = {u, 0};
    rc = loupe__pg_run_tx(s, 1, update_body, &c);
    if (!rc && state_changed) *state_changed = c.changed;
    return rc;
}

/* ------------------------------------------------------------ trial reads */

typedef struct read_ctx {
    int64_t after;
    const char *ids;  /* "{1,2,3}" */
    loupe__rec_read b; /* built here, handed to the caller after the commit */
} read_ctx;

static int read_trial_rows(pg_storage *s, read_ctx *c, const PGresult *r) {
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t tid = loupe__pg_int(r, i, 0);
        loupe__trial_rec *rec;
        int rc = loupe__rec_read_trial(&c->b, tid, !loupe__pg_is_null(r, i, 1),
                                       loupe__pg_int(r, i, 1), loupe__pg_text(r, i, 2), &rec);
        if (rc) return rc;
        if ((rc = column_datetime(s, r, i, 3, tid, "datetime_start", &rec->t.datetime_start_us)) ||
            (rc = column_datetime(s, r, i, 4, tid, "datetime_complete",
                                  &rec->t.datetime_complete_us))) {
            loupe__trial_rec_release(rec);
            return rc;
        }
        if ((rc = loupe__rec_read_push(&c->b, rec))) return rc;
    }
    return LOUPE_OK;
}

/* Hands each row of a child-table read to one loupe__rec_read_* call. */
static int read_child_rows(read_ctx *c, const PGresult *r, int kind) {
    int rc = LOUPE_OK;
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        int64_t tid = loupe__pg_int(r, i, 0);
        switch (kind) {
        case LOUPE__CHILD_PARAMS:
            rc = loupe__rec_read_param(&c->b, tid, loupe__pg_text(r, i, 1),
                                       !loupe__pg_is_null(r, i, 2), loupe__pg_double(r, i, 2),
                                       loupe__pg_text(r, i, 3));
            break;
        case LOUPE__CHILD_VALUES:
            rc = loupe__rec_read_value(&c->b, tid, loupe__pg_int(r, i, 1), loupe__pg_text(r, i, 3),
                                       loupe__pg_is_null(r, i, 2), loupe__pg_double(r, i, 2));
            break;
        case LOUPE__CHILD_INTER:
            rc = loupe__rec_read_intermediate(&c->b, tid, loupe__pg_int(r, i, 1),
                                              loupe__pg_text(r, i, 3), loupe__pg_is_null(r, i, 2),
                                              loupe__pg_double(r, i, 2));
            break;
        default:
            rc = loupe__rec_read_attr(&c->b, kind == LOUPE__CHILD_SATTRS, tid,
                                      loupe__pg_text(r, i, 1), loupe__pg_text(r, i, 2));
        }
    }
    return rc;
}

static int read_body(pg_storage *s, void *vctx) {
    read_ctx *c = vctx;
    loupe__rec_read_reset(&c->b);
    int rc = study_exists(s, c->b.study_id, 0);
    if (rc) return rc;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, c->b.study_id);
    loupe__pgp_int(&p, c->after);
    loupe__pgp_text(&p, c->ids);
    PGresult *r;

    if ((rc = run(s, ST_READ_TRIALS, &p, &r, "reading trials"))) return rc;
    rc = read_trial_rows(s, c, r);
    PQclear(r);
    if (rc || c->b.recs.len == 0) return rc;

    /* the child statements follow ST_READ_TRIALS in LOUPE__CHILD_* order */
    for (int k = 0; k < LOUPE__CHILD_TABLES; k++) {
        if ((rc = run(s, ST_READ_TRIALS + 1 + k, &p, &r, loupe__child_read_what[k]))) return rc;
        rc = read_child_rows(c, r, k);
        PQclear(r);
        if (rc) return rc;
    }
    return LOUPE_OK;
}

static int pg_read_trials(loupe_storage *base, int64_t study_id, int64_t after_trial_id,
                          size_t n_ids, const int64_t *ids, loupe__rec_vec *out) {
    pg_storage *s = PG(base);
    if (n_ids && !ids) return loupe__error(base, LOUPE_EINVAL, "ids array is NULL");
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_putc(&b, '{');
    for (size_t i = 0; i < n_ids; i++) loupe__buf_printf(&b, i ? ",%lld" : "%lld", (long long)ids[i]);
    loupe__buf_putc(&b, '}');
    if (b.failed) {
        loupe__buf_free(&b);
        return oom(s);
    }
    read_ctx c;
    memset(&c, 0, sizeof c);
    c.b.s = base;
    c.b.where = s->where;
    c.b.memo_where = s->where;
    c.b.study_id = study_id;
    c.after = after_trial_id;
    c.ids = b.data;
    int rc = loupe__pg_run_tx(s, 0, read_body, &c);
    loupe__buf_free(&b);
    return loupe__rec_read_finish(&c.b, rc, out);
}

typedef struct trial_study_ctx {
    int64_t trial_id, study_id;
} trial_study_ctx;

static int trial_study_body(pg_storage *s, void *vctx) {
    trial_study_ctx *c = vctx;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, c->trial_id);
    PGresult *r;
    int rc = run(s, ST_TRIAL_HEAD, &p, &r, "reading a trial");
    if (rc) return rc;
    int n = PQntuples(r);
    c->study_id = n ? loupe__pg_int(r, 0, 2) : 0;
    PQclear(r);
    if (n == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No trial with id %lld",
                            (long long)c->trial_id);
    return LOUPE_OK;
}

static int pg_read_trial(loupe_storage *base, int64_t trial_id, loupe__trial_rec **out) {
    pg_storage *s = PG(base);
    *out = NULL;
    trial_study_ctx c = {trial_id, 0};
    int rc = loupe__pg_run_tx(s, 0, trial_study_body, &c);
    if (rc) return rc;
    loupe__rec_vec v;
    memset(&v, 0, sizeof v);
    rc = pg_read_trials(base, c.study_id, INT64_MAX, 1, &trial_id, &v);
    return loupe__rec_read_one(base, rc, &v, trial_id, out);
}

typedef struct by_number_ctx {
    int64_t study_id, number, trial_id;
} by_number_ctx;

static int by_number_body(pg_storage *s, void *vctx) {
    by_number_ctx *c = vctx;
    loupe__pgp p;
    loupe__pgp_init(&p);
    loupe__pgp_int(&p, c->study_id);
    loupe__pgp_int(&p, c->number);
    PGresult *r;
    int rc = run(s, ST_TRIAL_ID_BY_NUMBER, &p, &r, "looking up a trial number");
    if (rc) return rc;
    int n = PQntuples(r);
    c->trial_id = n ? loupe__pg_int(r, 0, 0) : 0;
    PQclear(r);
    if (n == 0)
        return loupe__error(&s->base, LOUPE_ENOTFOUND, "No trial with number %lld in study %lld",
                            (long long)c->number, (long long)c->study_id);
    return LOUPE_OK;
}

static int pg_trial_id_by_number(loupe_storage *base, int64_t study_id, int64_t number,
                                 int64_t *trial_id) {
    by_number_ctx c = {study_id, number, 0};
    int rc = loupe__pg_run_tx(PG(base), 0, by_number_body, &c);
    if (!rc && trial_id) *trial_id = c.trial_id;
    return rc;
}

/*
 * data_version: a 64-bit hash of the server's current snapshot
 * (pg_current_snapshot(): xmin, xmax and the in-progress transaction ids). Any
 * transaction that writes gets a transaction id and changes the snapshot when it
 * commits or aborts, whoever wrote (loupe, Python Optuna, psql), and a snapshot
 * that is unchanged means nothing was committed in between. It reads no table
 * (one round trip to shared memory). Writes to other databases of the same
 * server change it too: a poller then re-reads for nothing, but never misses a
 * write. (pg_current_wal_lsn() would also move on writes, but a commit's WAL
 * record is written before the commit becomes visible, so a poller could read
 * the new LSN and still miss the data.)
 */
static int pg_data_version(loupe_storage *base, uint64_t *version) {
    pg_storage *s = PG(base);
    int rc = LOUPE_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->conn || s->conn_lost || PQstatus(s->conn) != CONNECTION_OK)
            if ((rc = loupe__pg_connect(s))) return rc;
        PGresult *r;
        int id = s->server_version >= 130000 ? ST_SNAPSHOT : ST_SNAPSHOT_OLD;
        rc = run(s, id, NULL, &r, "reading the data version");
        if (!rc) {
            uint64_t h = loupe__str_hash(PQgetvalue(r, 0, 0));
            PQclear(r);
            if (version) *version = h;
            return LOUPE_OK;
        }
        if (!s->conn_lost) break;
    }
    return rc;
}

/* ------------------------------------------------------------ open / close */

static void pg_close(loupe_storage *base) {
    pg_storage *s = PG(base);
    if (!s) return;
    if (s->conn) PQfinish(s->conn);
    loupe__dist_cache_free(&s->dists);
    free(s->conninfo);
    free(s);
}

static const loupe__storage_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .create_study = pg_create_study,
    .delete_study = pg_delete_study,
    .find_study = pg_find_study,
    .get_study = pg_get_study,
    .list_studies = pg_list_studies,
    .list_study_heads = pg_list_study_heads,
    .set_study_attrs = pg_set_study_attrs,
    .create_trial = pg_create_trial,
    .claim_waiting_trial = pg_claim_waiting_trial,
    .update_trial = pg_update_trial,
    .read_trials = pg_read_trials,
    .read_trial = pg_read_trial,
    .trial_id_by_number = pg_trial_id_by_number,
    .data_version = pg_data_version,
};

/* A handle that only carries a message (open failed before the ops are usable). */
static void failed_close(loupe_storage *base) { pg_close(base); }
static const loupe__storage_ops failed_ops = {.name = "postgresql", .close = failed_close};

static int env_int(const char *name, int def, int min) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end || n < min || n > 86400000) ? def : (int)n;
}

static int revision_error(pg_storage *s, const loupe__pg_inspect *in) {
    const char *lib = in->library_version[0] ? in->library_version : "an unknown version";
    if (in->rev_index == -2)
        return loupe__error(&s->base, LOUPE_ESCHEMA,
                            "%s holds Optuna tables without an alembic revision stamp; open it "
                            "once with Python Optuna (RDBStorage) to stamp it",
                            s->where);
    if (in->rev_index < 0)
        return loupe__error(&s->base, LOUPE_ESCHEMA,
                            "%s was written by a newer Optuna (schema revision '%s', set up by "
                            "Optuna %s); this loupe reads revisions up to " LOUPE__SCHEMA_HEAD
                            ". Use a newer loupe, or the Optuna that wrote it.",
                            s->where, in->revision, lib);
    if (in->rev_index == LOUPE__PG_REV_300D)
        return loupe__error(&s->base, LOUPE_ESCHEMA,
                            "%s is an Optuna database at the old schema revision %s (set up by "
                            "Optuna %s); loupe needs " LOUPE__SCHEMA_HEAD
                            ". Run `loupe storage upgrade --storage URL` to upgrade it (Optuna "
                            "3.2 and later open it afterwards; Optuna 3.1 and older no longer "
                            "do), or open it with --skip-schema-check.",
                            s->where, in->revision, lib);
    return loupe__error(&s->base, LOUPE_ESCHEMA,
                        "%s is an Optuna database at the old schema revision %s (set up by "
                        "Optuna %s); loupe needs " LOUPE__SCHEMA_HEAD
                        ". Upgrade it with `optuna storage upgrade --storage URL` (Optuna 3.2 or "
                        "later).",
                        s->where, in->revision, lib);
}

/* Allocates the handle and connects; the caller checks the return code. */
static int pg_handle(const char *url, pg_storage **out) {
    pg_storage *s = calloc(1, sizeof *s);
    *out = s;
    if (!s) return LOUPE_ENOMEM;
    s->base.ops = &failed_ops;
    loupe__error_clear(&s->base);
    snprintf(s->base.schema_revision, sizeof s->base.schema_revision, "%s", LOUPE__SCHEMA_HEAD);
    s->retry_ms = env_int("LOUPE_PG_RETRY_MS", LOUPE__PG_RETRY_MS_DEFAULT, 0);
    s->quiet = env_int("LOUPE_PG_QUIET", 0, 0) != 0;
    s->seed = (unsigned)getpid() ^ (unsigned)loupe__now_us();
    int rc = loupe__pg_parse_url(&s->base, url, &s->conninfo, s->where, sizeof s->where);
    if (rc) return rc;
    /* a server that is starting up or shutting down is waited for; anything
     * else (no server, a wrong password) fails at once with libpq's reason */
    int64_t deadline = loupe__monotonic_us() + (int64_t)s->retry_ms * 1000;
    for (int attempt = 1;; attempt++) {
        rc = loupe__pg_connect(s);
        if (!rc) return LOUPE_OK;
        if (!strstr(s->base.errmsg, "starting up") && !strstr(s->base.errmsg, "shutting down"))
            return rc;
        if (loupe__monotonic_us() >= deadline) return rc;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        (void)attempt;
    }
}

int loupe__pg_storage_open(const char *url, unsigned flags, loupe_storage **out) {
    pg_storage *s;
    *out = NULL;
    int rc = pg_handle(url, &s);
    if (!s) return LOUPE_ENOMEM;
    *out = &s->base;
    if (rc) return rc;

    loupe__pg_inspect in;
    if ((rc = loupe__pg_inspect_db(s, &in))) return rc;
    if (!in.has_studies) {
        int created = 0;
        if ((rc = loupe__pg_create_schema(s, &created))) {
            /* Python may have created it at the same moment: look again */
            loupe__pg_inspect again;
            if (loupe__pg_inspect_db(s, &again) || !again.has_studies) return rc;
        }
        if ((rc = loupe__pg_inspect_db(s, &in))) return rc;
    }
    if (in.rev_index != LOUPE__PG_REV_HEAD &&
        !(in.rev_index == LOUPE__PG_REV_300D && (flags & LOUPE_OPEN_SKIP_SCHEMA_CHECK)))
        return revision_error(s, &in);
    snprintf(s->base.schema_revision, sizeof s->base.schema_revision, "%.39s", in.revision);
    s->has_heartbeats = in.has_heartbeats;
    s->base.ops = &pg_ops;
    loupe__error_clear(&s->base);
    return LOUPE_OK;
}

int loupe__pg_storage_upgrade(const char *url, int *upgraded, char **message) {
    pg_storage *s;
    *upgraded = 0;
    int rc = pg_handle(url, &s);
    if (!s) return LOUPE_ENOMEM;
    loupe__pg_inspect in;
    if (!rc) rc = loupe__pg_inspect_db(s, &in);
    if (!rc && !in.has_studies)
        rc = loupe__error(&s->base, LOUPE_ECORRUPT,
                          "%s has no Optuna tables; there is nothing to upgrade", s->where);
    if (!rc) rc = loupe__pg_upgrade_db(s, upgraded);
    if (message) {
        char buf[1200];
        if (rc)
            snprintf(buf, sizeof buf, "%s", s->base.errmsg);
        else if (*upgraded)
            snprintf(buf, sizeof buf,
                     "Upgraded %s from v3.0.0.d to " LOUPE__SCHEMA_HEAD
                     " (Optuna 3.2 and later open it; Optuna 3.1 and older no longer do).",
                     s->where);
        else
            snprintf(buf, sizeof buf, "This storage is up-to-date.");
        *message = strdup(buf);
    }
    pg_close(&s->base);
    return rc;
}
