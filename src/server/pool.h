/*
 * pool.h -- a small mutex-protected pool of storage handles (plus one artifact
 * store per handle) for request threads: a loupe_storage is single-threaded,
 * so each write borrows a whole slot. An in-memory storage cannot be shared
 * between handles, so it gets a pool of exactly one slot.
 */
#ifndef LOUPE_SERVER_POOL_H
#define LOUPE_SERVER_POOL_H

#include <stddef.h>

#include "loupe.h"

typedef struct loupe__pool loupe__pool;

typedef struct loupe__slot {
    loupe_storage *storage;
    loupe_artifact_store *artifacts; /* NULL without --artifact-dir */
} loupe__slot;

/*
 * Opens n storage handles on url (1 for ":memory:") and, when artifact_dir is
 * non-NULL, one artifact store on it per handle. On failure returns a status
 * code with a message in err (errcap bytes) and *out NULL.
 */
int loupe__pool_open(const char *url, const char *artifact_dir, size_t n, loupe__pool **out,
                     char *err, size_t errcap);
void loupe__pool_close(loupe__pool *pool);
/* Non-zero when url names a private in-memory storage (one handle for all). */
int loupe__pool_is_shared(const loupe__pool *pool);
/* Blocks until a slot is free and returns it; give it back with release. */
loupe__slot *loupe__pool_acquire(loupe__pool *pool);
void loupe__pool_release(loupe__pool *pool, loupe__slot *slot);

#endif
