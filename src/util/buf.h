/* buf.h -- a growable byte buffer with a size cap, for building strings (JSON, SQL, output). */
#ifndef LOUPE_UTIL_BUF_H
#define LOUPE_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A zeroed struct is an empty buffer with no cap. data is always NUL-terminated
 * once anything was appended. On allocation failure or when len would pass cap
 * (cap 0 = unlimited), `failed` is set and later appends do nothing: check it once
 * at the end, like curl's dynbuf. */
typedef struct loupe__buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap;
    int failed;
} loupe__buf;

void loupe__buf_init(loupe__buf *b, size_t cap);
void loupe__buf_free(loupe__buf *b);
void loupe__buf_reset(loupe__buf *b); /* len = 0, keeps memory */
int loupe__buf_append(loupe__buf *b, const void *data, size_t len);
int loupe__buf_puts(loupe__buf *b, const char *s);
int loupe__buf_putc(loupe__buf *b, char c);
int loupe__buf_printf(loupe__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int loupe__buf_vprintf(loupe__buf *b, const char *fmt, va_list ap);
/* Hands the string to the caller (free()), leaving the buffer empty. NULL if failed. */
char *loupe__buf_steal(loupe__buf *b);

#endif
