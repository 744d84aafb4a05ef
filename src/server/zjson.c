/*
 * zjson.c -- sealing trial JSON into compressed blocks and reading it back
 * (see zjson.h). Level 1: the text is repetitive (keys, distributions), so
 * the fastest level already shrinks it about tenfold.
 */
#include "server/zjson.h"

#include <string.h>

void loupe__zctx_free(loupe__zctx *c) {
    if (c->ready) deflateEnd(&c->zs);
    loupe__buf_free(&c->text);
    free(c->out);
    memset(c, 0, sizeof *c);
}

loupe__zblock *loupe__zblock_seal(loupe__zctx *c, loupe__blob *const *trials) {
    if (!c->ready) {
        memset(&c->zs, 0, sizeof c->zs);
        /* raw deflate (-15): no zlib header, so blocks splice into gzip */
        if (deflateInit2(&c->zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
        c->ready = 1;
    } else if (deflateReset(&c->zs) != Z_OK) {
        return NULL;
    }
    uint32_t off[LOUPE__ZB + 1];
    loupe__buf_reset(&c->text);
    for (size_t k = 0; k < LOUPE__ZB; k++) {
        off[k] = (uint32_t)c->text.len;
        loupe__buf_append(&c->text, trials[k]->data, trials[k]->len);
        if (k + 1 < LOUPE__ZB) loupe__buf_append(&c->text, ", ", 2);
    }
    if (c->text.failed || c->text.len > UINT32_MAX / 2) return NULL;
    off[LOUPE__ZB] = (uint32_t)c->text.len + 2;
    size_t bound = deflateBound(&c->zs, c->text.len) + 16;
    if (c->out_alloc < bound) {
        free(c->out);
        c->out_alloc = 0;
        if (!(c->out = malloc(bound))) return NULL;
        c->out_alloc = bound;
    }
    c->zs.next_in = (unsigned char *)c->text.data;
    c->zs.avail_in = (uInt)c->text.len;
    c->zs.next_out = c->out;
    c->zs.avail_out = (uInt)c->out_alloc;
    /* a sync flush ends the block on a byte boundary without the final bit */
    if (deflate(&c->zs, Z_SYNC_FLUSH) != Z_OK || c->zs.avail_in != 0 || c->zs.avail_out == 0) return NULL;
    size_t zlen = c->out_alloc - c->zs.avail_out;
    loupe__zblock *b = malloc(sizeof *b + zlen);
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->raw_len = (uint32_t)c->text.len;
    b->crc = (uint32_t)crc32(0L, (const unsigned char *)c->text.data, (uInt)c->text.len);
    b->zlen = (uint32_t)zlen;
    memcpy(b->off, off, sizeof off);
    memcpy(b->z, c->out, zlen);
    return b;
}

void loupe__zread_free(loupe__zread *r) {
    if (r->ready) inflateEnd(&r->zs);
    r->ready = 0;
}

int loupe__zblock_inflate(loupe__zread *r, const loupe__zblock *b, char *out) {
    if (!r->ready) {
        memset(&r->zs, 0, sizeof r->zs);
        if (inflateInit2(&r->zs, -15) != Z_OK) return -1;
        r->ready = 1;
    } else if (inflateReset(&r->zs) != Z_OK) {
        return -1;
    }
    r->zs.next_in = (unsigned char *)b->z;
    r->zs.avail_in = b->zlen;
    r->zs.next_out = (unsigned char *)out;
    r->zs.avail_out = b->raw_len;
    int z = inflate(&r->zs, Z_SYNC_FLUSH);
    if ((z != Z_OK && z != Z_STREAM_END && z != Z_BUF_ERROR) || r->zs.avail_out != 0) return -1;
    return 0;
}

loupe__blob *loupe__zblock_trial(const loupe__zblock *b, size_t k) {
    char *text = malloc(b->raw_len ? b->raw_len : 1);
    loupe__zread r = {0};
    loupe__blob *t = NULL;
    if (text && loupe__zblock_inflate(&r, b, text) == 0)
        t = loupe__blob_new(text + b->off[k], loupe__zblock_trial_len(b, k));
    loupe__zread_free(&r);
    free(text);
    return t;
}
