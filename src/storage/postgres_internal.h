/*
 * postgres_internal.h -- what the PostgreSQL storage files share: the handle,
 * statement parameters, the connection layer (postgres_conn.c: URL handling,
 * connect, prepared statements, transactions retried over transient errors and
 * dropped connections, error mapping) and the schema functions
 * (postgres_schema.c: Optuna's exact PostgreSQL DDL, inspection, upgrade).
 * Internal to src/storage/postgres*.c.
 */
#ifndef LOUPE_STORAGE_POSTGRES_INTERNAL_H
#define LOUPE_STORAGE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/postgres.h"
#include "storage/sql_common.h"
#include "storage/storage.h"

/* How long one operation keeps retrying transient failures (serialization
 * failures, deadlocks, a server that restarts or a dropped connection) before
 * it gives up. The environment variable LOUPE_PG_RETRY_MS overrides it. */
#define LOUPE__PG_RETRY_MS_DEFAULT 60000
/* connect_timeout (seconds) when the URL gives none. */
#define LOUPE__PG_CONNECT_TIMEOUT "10"
/* The most statements postgres.c prepares (per connection). */
#define LOUPE__PG_MAX_STMTS 96

typedef struct pg_storage {
    loupe_storage base; /* first: the handle casts both ways */
    PGconn *conn;
    char *conninfo;      /* the URL as libpq reads it (driver suffix removed) */
    char where[320];     /* "database 'db' at host:port" for messages; no password */
    int retry_ms;
    unsigned seed;       /* backoff jitter */
    int server_version;  /* PQserverVersion */
    int has_heartbeats;  /* trial_heartbeats exists (deleted with the study) */
    int quiet;           /* LOUPE_PG_QUIET: no notices on stderr about reconnects */
    /* set by loupe__pg_fail for the retry loop */
    int transient;       /* the failure may go away when the transaction is run again */
    int conn_lost;       /* the connection is gone (reconnect before the next try) */
    unsigned char prepared[LOUPE__PG_MAX_STMTS];
    loupe__dist_cache dists; /* first distribution of each param name */
} pg_storage;

/* ------------------------------------------------------------ parameters */

#define LOUPE__PG_MAX_PARAMS 8

/* Text parameters of one statement; numbers are formatted into num[]. */
typedef struct loupe__pgp {
    int n;
    const char *v[LOUPE__PG_MAX_PARAMS];
    int len[LOUPE__PG_MAX_PARAMS];
    char num[LOUPE__PG_MAX_PARAMS][40];
} loupe__pgp;

void loupe__pgp_init(loupe__pgp *p);
void loupe__pgp_int(loupe__pgp *p, int64_t v);
/* Doubles are sent exactly (%.17g; Infinity, -Infinity, NaN spelled as PostgreSQL reads them). */
void loupe__pgp_double(loupe__pgp *p, double v);
void loupe__pgp_text(loupe__pgp *p, const char *v); /* NULL sends SQL NULL */
/* Datetimes as Optuna's text; us < 0 sends NULL. */
void loupe__pgp_datetime(loupe__pgp *p, int64_t us);

/* ------------------------------------------------------------ connection */

/* Builds the libpq connection string from a storage URL (malloc'd) and a
 * password-free description for messages. LOUPE_EURL with the message on s. */
int loupe__pg_parse_url(loupe_storage *s, const char *url, char **conninfo, char *where,
                        size_t where_cap);

/* Connects (or reconnects) s->conn and sets the session up (datestyle, exact
 * floats). On failure the message is on s, s->transient/conn_lost are set. */
int loupe__pg_connect(pg_storage *s);

/* Maps a failed result (res may be NULL: the connection's message is used) to a
 * loupe code and message on s; what names the step. Sets s->transient and
 * s->conn_lost. */
int loupe__pg_fail(pg_storage *s, const PGresult *res, const char *what);

/* Runs a prepared statement (prepared on first use per connection). *out (may
 * be NULL: the result is cleared) receives the result to PQclear. */
int loupe__pg_exec(pg_storage *s, int id, const char *sql, const loupe__pgp *p, PGresult **out,
                   const char *what);
/* Runs SQL text without parameters (may hold several statements). */
int loupe__pg_exec_simple(pg_storage *s, const char *sql, PGresult **out, const char *what);

typedef int (*loupe__pg_tx_body)(pg_storage *s, void *ctx);

/*
 * Runs body in one transaction: READ COMMITTED for writes (row locks decide
 * the order, as Optuna's SELECT ... FOR UPDATE does), REPEATABLE READ READ
 * ONLY for reads of several statements (one consistent snapshot). Transient
 * failures roll back and run the whole body again, with backoff, until
 * s->retry_ms have passed; a dropped connection is reopened. A write learns
 * its transaction id (txid_current_if_assigned) before COMMIT; when the
 * connection drops during COMMIT, the transaction's fate is looked up with
 * txid_status() after reconnecting, so a committed write is never repeated
 * and an aborted one is run again.
 */
int loupe__pg_run_tx(pg_storage *s, int write, loupe__pg_tx_body body, void *ctx);

/* Reads a column as int64 / double / datetime (-1 for NULL). */
int64_t loupe__pg_int(const PGresult *r, int row, int col);
double loupe__pg_double(const PGresult *r, int row, int col);
int loupe__pg_is_null(const PGresult *r, int row, int col);
const char *loupe__pg_text(const PGresult *r, int row, int col); /* NULL for SQL NULL */

/* ------------------------------------------------------------ schema */

#define LOUPE__PG_N_REVISIONS 10
extern const char *const loupe__pg_revisions[LOUPE__PG_N_REVISIONS];
#define LOUPE__PG_REV_300D 8
#define LOUPE__PG_REV_HEAD 9

typedef struct loupe__pg_inspect {
    int has_studies;          /* the studies table exists (else: a database without Optuna) */
    int rev_index;            /* index into loupe__pg_revisions, -1 unknown, -2 no stamp */
    char revision[64];
    char library_version[96];
    int has_heartbeats;
} loupe__pg_inspect;

/* Reads tables, revision and version_info without writing; LOUPE_ECORRUPT when
 * the Optuna tables are incomplete or lack the head revision's columns. */
int loupe__pg_inspect_db(pg_storage *s, loupe__pg_inspect *out);

/* Creates Optuna's v3.2.0.a schema (enum types, tables, sequences, indexes,
 * version_info row, alembic stamp) in one transaction, unless another process
 * created it first (*created = 0 then). */
int loupe__pg_create_schema(pg_storage *s, int *created);

/* v3.0.0.d -> v3.2.0.a in one transaction; *upgraded 0 when already current. */
int loupe__pg_upgrade_db(pg_storage *s, int *upgraded);

#endif
