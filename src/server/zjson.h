/*
 * zjson.h -- blocks of finished trials' JSON kept deflate-compressed, so a
 * 100,000-trial study's cached detail costs ~11 MB instead of ~115 MB. A
 * block holds LOUPE__ZB consecutive trials joined by ", " as one raw deflate
 * stream ended by a sync flush (byte-aligned, no final bit), so blocks can be
 * inflated on their own and also spliced unchanged into a gzip response.
 * Blocks are immutable and reference-counted like blobs.
 */
#ifndef LOUPE_SERVER_ZJSON_H
#define LOUPE_SERVER_ZJSON_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "server/blob.h"
#include "util/buf.h"

/* Trials per block. */
#define LOUPE__ZB 64

typedef struct loupe__zblock {
    atomic_int refs;
    uint32_t raw_len;             /* bytes of the joined text */
    uint32_t crc;                 /* its crc32, for gzip trailers */
    uint32_t zlen;                /* bytes of z */
    uint32_t off[LOUPE__ZB + 1];  /* trial k is text[off[k], off[k + 1] - 2) */
    unsigned char z[];
} loupe__zblock;

static inline size_t loupe__zblock_trial_len(const loupe__zblock *b, size_t k) {
    return b->off[k + 1] - b->off[k] - 2;
}

static inline loupe__zblock *loupe__zblock_retain(loupe__zblock *b) {
    if (b) atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

static inline void loupe__zblock_release(loupe__zblock *b) {
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) free(b);
}

/* A compressor reused across blocks (one per watcher thread). */
typedef struct loupe__zctx {
    z_stream zs;
    int ready;
    loupe__buf text;
    unsigned char *out;
    size_t out_alloc;
} loupe__zctx;

void loupe__zctx_free(loupe__zctx *c);
/* Compresses trials[0..LOUPE__ZB) (each non-NULL) into a new block; NULL when
 * out of memory. */
loupe__zblock *loupe__zblock_seal(loupe__zctx *c, loupe__blob *const *trials);

/* An inflater reused across blocks (one per response). */
typedef struct loupe__zread {
    z_stream zs;
    int ready;
} loupe__zread;

void loupe__zread_free(loupe__zread *r);
/* Inflates the block's text into out (b->raw_len bytes). 0, or -1 on failure
 * (out of memory; a block is never corrupt, it is only written by seal). */
int loupe__zblock_inflate(loupe__zread *r, const loupe__zblock *b, char *out);
/* Trial k of the block as a new blob (NULL on failure). */
loupe__blob *loupe__zblock_trial(const loupe__zblock *b, size_t k);

#endif
