/* pool.c -- the request threads' storage handle pool (see pool.h). */
#include "server/pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct loupe__pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    size_t n;
    loupe__slot *slots;
    int *busy;
    int shared;
};

void loupe__pool_close(loupe__pool *pool) {
    if (!pool) return;
    for (size_t i = 0; i < pool->n; i++) {
        loupe_artifact_store_close(pool->slots[i].artifacts);
        loupe_storage_close(pool->slots[i].storage);
    }
    free(pool->slots);
    free(pool->busy);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->freed);
    free(pool);
}

int loupe__pool_open(const char *url, const char *artifact_dir, size_t n, loupe__pool **out,
                     char *err, size_t errcap) {
    *out = NULL;
    int shared = strcmp(url, ":memory:") == 0;
    if (shared || n == 0) n = 1;
    loupe__pool *p = calloc(1, sizeof *p);
    if (!p) goto oom;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    p->shared = shared;
    p->slots = calloc(n, sizeof *p->slots);
    p->busy = calloc(n, sizeof *p->busy);
    if (!p->slots || !p->busy) {
        loupe__pool_close(p);
        goto oom;
    }
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        /* optuna-dashboard serves v3.0.0.d files without upgrading: so do we */
        int rc = loupe_storage_open(url, LOUPE_OPEN_SKIP_SCHEMA_CHECK, &p->slots[i].storage);
        if (rc) {
            snprintf(err, errcap, "cannot open storage '%s': %s", url,
                     p->slots[i].storage ? loupe_storage_errmsg(p->slots[i].storage)
                                         : loupe_strerror(rc));
            loupe__pool_close(p);
            return rc;
        }
        if (artifact_dir) {
            rc = loupe_artifact_store_fs_open(artifact_dir, &p->slots[i].artifacts);
            if (rc) {
                snprintf(err, errcap, "cannot use --artifact-dir '%s': %s", artifact_dir,
                         p->slots[i].artifacts ? loupe_artifact_store_errmsg(p->slots[i].artifacts)
                                               : loupe_strerror(rc));
                loupe__pool_close(p);
                return rc;
            }
        }
    }
    *out = p;
    return LOUPE_OK;
oom:
    snprintf(err, errcap, "out of memory");
    return LOUPE_ENOMEM;
}

int loupe__pool_is_shared(const loupe__pool *pool) { return pool->shared; }

loupe__slot *loupe__pool_acquire(loupe__pool *pool) {
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        for (size_t i = 0; i < pool->n; i++) {
            if (!pool->busy[i]) {
                pool->busy[i] = 1;
                pthread_mutex_unlock(&pool->lock);
                return &pool->slots[i];
            }
        }
        pthread_cond_wait(&pool->freed, &pool->lock);
    }
}

void loupe__pool_release(loupe__pool *pool, loupe__slot *slot) {
    if (!slot) return;
    pthread_mutex_lock(&pool->lock);
    pool->busy[slot - pool->slots] = 0;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}
