/*
 * postgres_schema.c -- Optuna's RDB schema on PostgreSQL for the PostgreSQL
 * storage: the DDL that SQLAlchemy 1.4 emits for Optuna's models (native enum
 * types, SERIAL keys, unnamed UNIQUE constraints, so PostgreSQL gives every
 * object the name it gives Python's), checked against `pg_dump --schema-only`
 * of a database created by Python Optuna; inspection of an existing database;
 * creation; and the upgrade v3.0.0.d -> v3.2.0.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "storage/postgres_internal.h"

const char *const loupe__pg_revisions[LOUPE__PG_N_REVISIONS] = {
    "v0.9.0.a", "v1.2.0.a", "v1.3.0.a", "v2.4.0.a", "v2.6.0.a",
    "v3.0.0.a", "v3.0.0.b", "v3.0.0.c", "v3.0.0.d", "v3.2.0.a"};

/* Revision v3.2.0.a as Optuna >= 3.2 creates it: create_all (types before the
 * tables that use them, tables in dependency order), then alembic's stamp.
 * Optuna 3.1 creates the same minus ix_trials_study_id, stamped v3.0.0.d. */
static const char *const head_ddl =
    "CREATE TYPE studydirection AS ENUM ('NOT_SET', 'MINIMIZE', 'MAXIMIZE');\n"
    "CREATE TYPE trialstate AS ENUM ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING');\n"
    "CREATE TYPE trialvaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG');\n"
    "CREATE TYPE trialintermediatevaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG', 'NAN');\n"
    "CREATE TABLE studies (\n"
    "\tstudy_id SERIAL NOT NULL, \n"
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
    "\tstudy_direction_id SERIAL NOT NULL, \n"
    "\tdirection studydirection NOT NULL, \n"
    "\tstudy_id INTEGER NOT NULL, \n"
    "\tobjective INTEGER NOT NULL, \n"
    "\tPRIMARY KEY (study_direction_id), \n"
    "\tUNIQUE (study_id, objective), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ");\n"
    "CREATE TABLE study_user_attributes (\n"
    "\tstudy_user_attribute_id SERIAL NOT NULL, \n"
    "\tstudy_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (study_user_attribute_id), \n"
    "\tUNIQUE (study_id, \"key\"), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ");\n"
    "CREATE TABLE study_system_attributes (\n"
    "\tstudy_system_attribute_id SERIAL NOT NULL, \n"
    "\tstudy_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (study_system_attribute_id), \n"
    "\tUNIQUE (study_id, \"key\"), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ");\n"
    "CREATE TABLE trials (\n"
    "\ttrial_id SERIAL NOT NULL, \n"
    "\tnumber INTEGER, \n"
    "\tstudy_id INTEGER, \n"
    "\tstate trialstate NOT NULL, \n"
    "\tdatetime_start TIMESTAMP WITHOUT TIME ZONE, \n"
    "\tdatetime_complete TIMESTAMP WITHOUT TIME ZONE, \n"
    "\tPRIMARY KEY (trial_id), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ");\n"
    "CREATE INDEX ix_trials_study_id ON trials (study_id);\n"
    "CREATE TABLE trial_user_attributes (\n"
    "\ttrial_user_attribute_id SERIAL NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (trial_user_attribute_id), \n"
    "\tUNIQUE (trial_id, \"key\"), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_system_attributes (\n"
    "\ttrial_system_attribute_id SERIAL NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (trial_system_attribute_id), \n"
    "\tUNIQUE (trial_id, \"key\"), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_params (\n"
    "\tparam_id SERIAL NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\tparam_name VARCHAR(512), \n"
    "\tparam_value FLOAT(53), \n"
    "\tdistribution_json TEXT, \n"
    "\tPRIMARY KEY (param_id), \n"
    "\tUNIQUE (trial_id, param_name), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_values (\n"
    "\ttrial_value_id SERIAL NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\tobjective INTEGER NOT NULL, \n"
    "\tvalue FLOAT(53), \n"
    "\tvalue_type trialvaluetype NOT NULL, \n"
    "\tPRIMARY KEY (trial_value_id), \n"
    "\tUNIQUE (trial_id, objective), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_intermediate_values (\n"
    "\ttrial_intermediate_value_id SERIAL NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\tstep INTEGER NOT NULL, \n"
    "\tintermediate_value FLOAT(53), \n"
    "\tintermediate_value_type trialintermediatevaluetype NOT NULL, \n"
    "\tPRIMARY KEY (trial_intermediate_value_id), \n"
    "\tUNIQUE (trial_id, step), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE trial_heartbeats (\n"
    "\ttrial_heartbeat_id SERIAL NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\theartbeat TIMESTAMP WITHOUT TIME ZONE NOT NULL, \n"
    "\tPRIMARY KEY (trial_heartbeat_id), \n"
    "\tUNIQUE (trial_id), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ");\n"
    "CREATE TABLE alembic_version (\n"
    "\tversion_num VARCHAR(32) NOT NULL, \n"
    "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n"
    ");\n"
    "INSERT INTO version_info (version_info_id, schema_version, library_version) "
    "VALUES (1, 12, '" LOUPE__LIBRARY_VERSION "');\n"
    "INSERT INTO alembic_version (version_num) VALUES ('" LOUPE__SCHEMA_HEAD "');\n";

/* The tables every Optuna database has (trial_heartbeats is created lazily). */
#define REQUIRED_TABLES                                                                            \
    "'studies', 'version_info', 'study_directions', 'study_user_attributes', "                     \
    "'study_system_attributes', 'trials', 'trial_user_attributes', 'trial_system_attributes', "    \
    "'trial_params', 'trial_values', 'trial_intermediate_values'"

/* One arbitrary key for pg_advisory_xact_lock: loupe processes creating the
 * schema of one database at the same time take turns. */
#define SCHEMA_LOCK_KEY "7311984220475633"

static int inspect_body(pg_storage *s, void *vctx) {
    loupe__pg_inspect *in = vctx;
    memset(in, 0, sizeof *in);
    in->rev_index = -2;
    PGresult *r = NULL;
    int rc = loupe__pg_exec_simple(
        s,
        "SELECT to_regclass('studies') IS NOT NULL, to_regclass('alembic_version') IS NOT NULL, "
        "to_regclass('trial_heartbeats') IS NOT NULL, "
        "(SELECT string_agg(n, ', ' ORDER BY n) FROM unnest(ARRAY[" REQUIRED_TABLES
        "]) AS t(n) WHERE to_regclass(n) IS NULL), "
        "(SELECT count(*) FROM pg_attribute WHERE NOT attisdropped AND ((attrelid = "
        "to_regclass('trial_values') AND attname = 'value_type') OR (attrelid = "
        "to_regclass('trial_intermediate_values') AND attname = 'intermediate_value_type')))",
        &r, "inspecting the database");
    if (rc) return rc;
    in->has_studies = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    int has_alembic = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    in->has_heartbeats = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
    char missing[300];
    snprintf(missing, sizeof missing, "%s", PQgetisnull(r, 0, 3) ? "" : PQgetvalue(r, 0, 3));
    int type_columns = (int)loupe__pg_int(r, 0, 4);
    PQclear(r);
    if (!in->has_studies) return LOUPE_OK;
    if (missing[0])
        return loupe__error(&s->base, LOUPE_ECORRUPT,
                            "%s has a 'studies' table but lacks Optuna's tables %s; it is not an "
                            "Optuna database (use another database, or complete it with Python "
                            "Optuna's RDBStorage)",
                            s->where, missing);
    if (has_alembic) {
        if ((rc = loupe__pg_exec_simple(s, "SELECT version_num FROM alembic_version", &r,
                                        "reading the schema revision")))
            return rc;
        if (PQntuples(r) > 1) {
            PQclear(r);
            return loupe__error(&s->base, LOUPE_ECORRUPT,
                                "%s has several rows in alembic_version (Optuna writes one)",
                                s->where);
        }
        if (PQntuples(r) == 1) {
            snprintf(in->revision, sizeof in->revision, "%s", PQgetvalue(r, 0, 0));
            in->rev_index = -1;
            for (int i = 0; i < LOUPE__PG_N_REVISIONS; i++)
                if (strcmp(in->revision, loupe__pg_revisions[i]) == 0) in->rev_index = i;
        }
        PQclear(r);
    }
    if ((rc = loupe__pg_exec_simple(s, "SELECT library_version FROM version_info LIMIT 1", &r,
                                    "reading version_info")))
        return rc;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        snprintf(in->library_version, sizeof in->library_version, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (in->rev_index >= LOUPE__PG_REV_300D && type_columns != 2)
        return loupe__error(&s->base, LOUPE_ECORRUPT,
                            "%s is stamped %s but trial_values.value_type or "
                            "trial_intermediate_values.intermediate_value_type is missing; the "
                            "schema is damaged",
                            s->where, in->revision);
    return LOUPE_OK;
}

int loupe__pg_inspect_db(pg_storage *s, loupe__pg_inspect *out) {
    return loupe__pg_run_tx(s, 0, inspect_body, out);
}

static int create_body(pg_storage *s, void *vctx) {
    int *created = vctx;
    *created = 0;
    PGresult *r = NULL;
    int rc = loupe__pg_exec_simple(s,
                                   "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY
                                   "), to_regclass('studies') IS NOT NULL",
                                   &r, "locking the database to create the schema");
    if (rc) return rc;
    int exists = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    if (exists) return LOUPE_OK; /* another process created it meanwhile */
    if ((rc = loupe__pg_exec_simple(s, head_ddl, NULL, "creating Optuna's schema"))) return rc;
    *created = 1;
    return LOUPE_OK;
}

int loupe__pg_create_schema(pg_storage *s, int *created) {
    return loupe__pg_run_tx(s, 1, create_body, created);
}

static int upgrade_body(pg_storage *s, void *vctx) {
    int *upgraded = vctx;
    *upgraded = 0;
    PGresult *r = NULL;
    int rc = loupe__pg_exec_simple(s, "SELECT version_num FROM alembic_version FOR UPDATE", &r,
                                   "reading the schema revision");
    if (rc) return rc;
    char rev[64] = "";
    if (PQntuples(r) == 1) snprintf(rev, sizeof rev, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (strcmp(rev, LOUPE__SCHEMA_HEAD) == 0) return LOUPE_OK;
    if (strcmp(rev, loupe__pg_revisions[LOUPE__PG_REV_300D]) != 0)
        return loupe__error(&s->base, LOUPE_ESCHEMA,
                            "%s is at schema revision '%s'; loupe upgrades PostgreSQL databases "
                            "only from v3.0.0.d (Optuna 3.0/3.1). Run `optuna storage upgrade "
                            "--storage URL` with Optuna 3.2 or later.",
                            s->where, rev[0] ? rev : "(none)");
    rc = loupe__pg_exec_simple(
        s,
        "CREATE INDEX trials_study_id_key ON trials (study_id);\n"
        "UPDATE alembic_version SET version_num = '" LOUPE__SCHEMA_HEAD "';\n"
        "UPDATE version_info SET schema_version = 12, library_version = '" LOUPE__LIBRARY_VERSION
        "';\n"
        "INSERT INTO version_info (version_info_id, schema_version, library_version) SELECT 1, 12, "
        "'" LOUPE__LIBRARY_VERSION "' WHERE NOT EXISTS (SELECT 1 FROM version_info)",
        NULL, "upgrading the schema to " LOUPE__SCHEMA_HEAD);
    if (!rc) *upgraded = 1;
    return rc;
}

int loupe__pg_upgrade_db(pg_storage *s, int *upgraded) {
    return loupe__pg_run_tx(s, 1, upgrade_body, upgraded);
}
