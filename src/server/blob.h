/*
 * blob.h -- immutable, reference-counted byte strings shared between the
 * watcher thread (which renders JSON once) and request threads (which send it
 * many times). Retain/release are atomic; the bytes never change after creation.
 */
#ifndef LOUPE_SERVER_BLOB_H
#define LOUPE_SERVER_BLOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct loupe__blob {
    atomic_int refs;
    size_t len;
    char data[]; /* len bytes, then a NUL */
} loupe__blob;

/* A new blob holding a copy of data (refcount 1); NULL when out of memory. */
static inline loupe__blob *loupe__blob_new(const void *data, size_t len) {
    loupe__blob *b = malloc(sizeof *b + len + 1);
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->len = len;
    if (len) memcpy(b->data, data, len);
    b->data[len] = '\0';
    return b;
}

static inline loupe__blob *loupe__blob_retain(loupe__blob *b) {
    if (b) atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

static inline void loupe__blob_release(loupe__blob *b) {
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) free(b);
}

/* Non-zero when both are NULL or hold the same bytes. */
static inline int loupe__blob_equal(const loupe__blob *a, const loupe__blob *b) {
    if (a == b) return 1;
    if (!a || !b) return 0;
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

#endif
