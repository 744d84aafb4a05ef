/* buf.c -- a growable byte buffer with a size cap (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void loupe__buf_init(loupe__buf *b, size_t cap) {
    memset(b, 0, sizeof *b);
    b->cap = cap;
}

void loupe__buf_free(loupe__buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void loupe__buf_reset(loupe__buf *b) {
    b->len = 0;
    b->failed = 0;
    if (b->data) b->data[0] = '\0';
}

static int buf_reserve(loupe__buf *b, size_t extra) {
    if (b->failed) return -1;
    size_t need = b->len + extra + 1;
    if (need < b->len || (b->cap && b->len + extra > b->cap)) {
        b->failed = 1;
        return -1;
    }
    if (need <= b->alloc) return 0;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need) n *= 2;
    char *p = realloc(b->data, n);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->alloc = n;
    return 0;
}

int loupe__buf_append(loupe__buf *b, const void *data, size_t len) {
    if (buf_reserve(b, len)) return -1;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int loupe__buf_puts(loupe__buf *b, const char *s) { return loupe__buf_append(b, s, strlen(s)); }

int loupe__buf_putc(loupe__buf *b, char c) { return loupe__buf_append(b, &c, 1); }

int loupe__buf_vprintf(loupe__buf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof small) return loupe__buf_append(b, small, (size_t)n);
    if (buf_reserve(b, (size_t)n)) return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int loupe__buf_printf(loupe__buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = loupe__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *loupe__buf_steal(loupe__buf *b) {
    if (b->failed) {
        loupe__buf_free(b);
        return NULL;
    }
    char *s = b->data;
    if (!s) s = calloc(1, 1);
    memset(b, 0, sizeof *b);
    return s;
}
