/* storage_testutil.h -- shared helpers for the unit tests that drive a storage
 * through its vtable (src/storage/storage.h): opening each backend, creating
 * studies, trials and WAITING trials, reading one trial, the data version and
 * one-purpose updates. The helpers that must succeed end the test with a
 * cmocka failure (printing the storage's message first). */
#ifndef LOUPE_STORAGE_TESTUTIL_H
#define LOUPE_STORAGE_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/trial_rec.h"
#include "storage/storage.h"

/* One backend the storage-contract tests run on: what its handle is named
 * (ops->name), how a fresh, empty storage of it is opened, and whether its
 * data version counts committed writes (grows on each, stays put otherwise)
 * rather than only changing when anything happened. */
typedef struct tu_backend {
    const char *name;
    loupe_storage *(*open_fresh)(void);
    int version_counts_writes;
} tu_backend;

extern const tu_backend TU_MEMORY;
extern const tu_backend TU_SQLITE;   /* a new file under tu_tmpdir() per open */
extern const tu_backend TU_POSTGRES; /* $LOUPE_TEST_PG_URL, emptied per open */

/* Opens a SQLite storage at path with flags; fails the test unless it opens. */
loupe_storage *tu_sqlite_open(const char *path, unsigned flags);

/* A one-objective MINIMIZE study; returns its id. */
int64_t tu_mk_study(loupe_storage *s, const char *name);
/* A new RUNNING trial; returns its id, its number in *number if not NULL. */
int64_t tu_mk_trial(loupe_storage *s, int64_t study, int64_t *number);
/* A new WAITING trial without a start; returns its id. */
int64_t tu_mk_waiting(loupe_storage *s, int64_t study);
/* The stored trial (caller releases it with loupe__trial_rec_release). */
loupe__trial_rec *tu_read_trial(loupe_storage *s, int64_t trial_id);
/* The storage's data version. */
uint64_t tu_data_version(loupe_storage *s);

/* Updates that only set params / only set the state (with n values); they
 * return the storage's status. changed may be NULL. */
int tu_set_params(loupe_storage *s, int64_t trial_id, size_t n, const loupe_param *p);
int tu_set_state(loupe_storage *s, int64_t trial_id, loupe_trial_state st, size_t n,
                 const double *values, int *changed);

#endif
