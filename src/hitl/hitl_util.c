/* hitl_util.c -- small helpers of the HITL layer: errors on a study, attr lookup, UTF-8, attr lists. */
#include "hitl/hitl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

int loupe__hitl_error(loupe_study *study, int code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!study) return code;
    return loupe__error(loupe_study_storage(study), code, "%s", msg);
}

void loupe__hitl_clear(loupe_study *study) {
    if (study) loupe__error_clear(loupe_study_storage(study));
}

const char *loupe__attr_find(const loupe_attr *attrs, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(attrs[i].key, key) == 0) return attrs[i].json;
    return NULL;
}

/* Length of the UTF-8 sequence at s (valid, shortest form, no surrogates), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned cp, min;
    if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n > len) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

int loupe__utf8_valid(const char *s, size_t len, size_t *bad_offset) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0) {
            if (bad_offset) *bad_offset = i;
            return 0;
        }
        i += n;
    }
    return 1;
}

size_t loupe__utf8_prefix(const char *s, size_t len, size_t max_cp) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, cps = 0;
    while (i < len && cps < max_cp) {
        size_t n = utf8_seq(p + i, len - i);
        i += n ? n : 1;
        cps++;
    }
    return i;
}

int loupe__attr_vec_push_owned(loupe__attr_vec *v, char *key, char *json) {
    if (!key || !json) goto fail;
    if (v->len == v->alloc) {
        size_t na = v->alloc ? v->alloc * 2 : 16;
        loupe_attr *ni = realloc(v->items, na * sizeof *ni);
        if (!ni) goto fail;
        v->items = ni;
        v->alloc = na;
    }
    v->items[v->len].key = key;
    v->items[v->len].json = json;
    v->len++;
    return LOUPE_OK;
fail:
    free(key);
    free(json);
    return LOUPE_ENOMEM;
}

int loupe__attr_vec_push(loupe__attr_vec *v, const char *key, const char *json) {
    return loupe__attr_vec_push_owned(v, strdup(key), strdup(json));
}

void loupe__attr_vec_free(loupe__attr_vec *v) {
    for (size_t i = 0; i < v->len; i++) {
        free((char *)v->items[i].key);
        free((char *)v->items[i].json);
    }
    free(v->items);
    memset(v, 0, sizeof *v);
}
