/*
 * sqlite_internal.h -- what the SQLite storage files share: the handle, the
 * mapping of SQLite errors to loupe codes, and the schema functions
 * (sqlite_schema.c: exact Optuna DDL, inspection of existing files, upgrade).
 * Internal to src/storage/sqlite*.c.
 */
#ifndef LOUPE_STORAGE_SQLITE_INTERNAL_H
#define LOUPE_STORAGE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/storage.h"

/* Every alembic revision Optuna has had, oldest first; the last is the head. */
#define LOUPE__SQ_N_REVISIONS 10
extern const char *const loupe__sq_revisions[LOUPE__SQ_N_REVISIONS];
/* Index of v3.0.0.d: the revision of Optuna 3.0/3.1, same tables and columns as the head. */
#define LOUPE__SQ_REV_300D 8
#define LOUPE__SQ_REV_HEAD 9

/* Busy handling: each statement waits up to busy_ms for a lock (sqlite3_busy_timeout);
 * whole transactions are retried until LOUPE__SQ_RETRY_FACTOR * busy_ms has passed.
 * The environment variable LOUPE_SQLITE_BUSY_TIMEOUT_MS overrides busy_ms (tests
 * use it to make lock contention fail fast). */
#define LOUPE__SQ_BUSY_MS_DEFAULT 30000
#define LOUPE__SQ_RETRY_FACTOR 4
int loupe__sq_busy_ms_from_env(void);

/* What inspection of an existing file found. */
typedef struct loupe__sq_inspect {
    int n_tables;             /* user tables; 0 = a valid but empty SQLite file */
    int rev_index;            /* index into loupe__sq_revisions, -1 unknown, -2 no stamp */
    char revision[64];        /* the alembic revision text ("" when absent) */
    char library_version[96]; /* version_info.library_version ("" when absent) */
    int has_heartbeats;       /* trial_heartbeats exists (Optuna creates it lazily) */
} loupe__sq_inspect;

/*
 * Reads the tables, alembic revision and version_info of an open database
 * without writing. LOUPE_ECORRUPT (not SQLite, damaged, not Optuna, or a head
 * revision whose columns are missing) with the message on s. path is for messages.
 */
int loupe__sq_inspect_db(loupe_storage *s, sqlite3 *db, const char *path, loupe__sq_inspect *out);

/* Opens path read-only and inspects it (read-write only when SQLite must first
 * roll back a hot journal), then closes it again. */
int loupe__sq_inspect_file(loupe_storage *s, const char *path, int busy_ms,
                           loupe__sq_inspect *out);

/* Creates the v3.2.0.a schema (exact DDL, version_info row, alembic stamp) on
 * an open database inside the caller's transaction. */
int loupe__sq_create_schema(loupe_storage *s, sqlite3 *db);

/* Maps a failed SQLite call to a loupe code and message on s (what = the step). */
int loupe__sq_fail(loupe_storage *s, sqlite3 *db, int rc, const char *path, const char *what);

/* Opens path with the given sqlite3_open_v2 flags, sets the busy timeout and
 * extended result codes. On error closes and returns a mapped code. */
int loupe__sq_open_db(loupe_storage *s, const char *path, int oflags, int busy_ms, sqlite3 **out);

/* Writes "sqlite:///" + path (the URL that names this file) into out. */
void loupe__sq_url(const char *path, char *out, size_t cap);

/* Sleeps a short random time between transaction retries. */
void loupe__sq_backoff(unsigned *seed, int attempt);

#endif
