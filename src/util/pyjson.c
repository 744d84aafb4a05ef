/* pyjson.c -- JSON text exactly as Python's json.dumps writes it (see pyjson.h). */
#include "pyjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest digits that round-trip, as repr() picks them: returns the digit count,
 * fills digits (no dot, no leading zeros) and *decpt so that v = 0.digits * 10^decpt.
 * v is finite and positive. yyjson's writer finds the shortest digits (~60x faster
 * than trying printf precisions); its spelling ("1e16", "0.001", "1.5E-7") is
 * only parsed here, never copied out. */
static int shortest_digits(double v, char digits[40], int *decpt) {
    char pool[256];
    yyjson_alc alc;
    yyjson_alc_pool_init(&alc, pool, sizeof pool);
    yyjson_val val;
    val.tag = YYJSON_TYPE_NUM | YYJSON_SUBTYPE_REAL;
    val.uni.f64 = v;
    char tmp[48];
    const char *text = yyjson_val_write_opts(&val, 0, &alc, NULL, NULL);
    if (!text) { /* cannot happen with a finite value; stay exact anyway */
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
            if (strtod(tmp, NULL) == v) break;
        }
        text = tmp;
    }
    int n = 0, point = -1, exp10 = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '.') point = n;
        else if (*p >= '0' && *p <= '9') {
            if (n == 0 && *p == '0') { /* leading zeros shift the point */
                if (point >= 0) exp10--;
                continue;
            }
            if (n < 39) digits[n++] = *p;
        } else if (*p == 'e' || *p == 'E') {
            exp10 += atoi(p + 1);
            break;
        }
    }
    int int_digits = point >= 0 ? point : n;
    while (n > 1 && digits[n - 1] == '0') n--;
    digits[n] = '\0';
    *decpt = int_digits + exp10;
    return n;
}

void loupe__pyjson_double(loupe__buf *b, double v) {
    if (isnan(v)) {
        loupe__buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        loupe__buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    if (signbit(v)) {
        loupe__buf_putc(b, '-');
        v = -v;
    }
    if (v == 0.0) {
        loupe__buf_puts(b, "0.0");
        return;
    }
    char digits[40];
    int decpt;
    int n = shortest_digits(v, digits, &decpt);
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            loupe__buf_puts(b, "0.");
            for (int i = 0; i < -decpt; i++) loupe__buf_putc(b, '0');
            loupe__buf_append(b, digits, (size_t)n);
        } else if (decpt >= n) {
            loupe__buf_append(b, digits, (size_t)n);
            for (int i = n; i < decpt; i++) loupe__buf_putc(b, '0');
            loupe__buf_puts(b, ".0");
        } else {
            loupe__buf_append(b, digits, (size_t)decpt);
            loupe__buf_putc(b, '.');
            loupe__buf_append(b, digits + decpt, (size_t)(n - decpt));
        }
    } else {
        loupe__buf_putc(b, digits[0]);
        if (n > 1) {
            loupe__buf_putc(b, '.');
            loupe__buf_append(b, digits + 1, (size_t)(n - 1));
        }
        int e = decpt - 1;
        loupe__buf_printf(b, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
}

/* Decodes one UTF-8 sequence; returns its length, or 0 for an invalid byte. */
static size_t utf8_decode(const unsigned char *s, size_t len, unsigned *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    unsigned min;
    if ((c & 0xE0) == 0xC0) n = 2, c &= 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, c &= 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, c &= 0x07, min = 0x10000;
    else return 0;
    if (n > len) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return n;
}

void loupe__pyjson_string(loupe__buf *b, const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    loupe__buf_putc(b, '"');
    size_t i = 0;
    while (i < len) {
        unsigned cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            cp = 0xFFFD;
            n = 1;
        }
        i += n;
        switch (cp) {
        case '"': loupe__buf_puts(b, "\\\""); continue;
        case '\\': loupe__buf_puts(b, "\\\\"); continue;
        case '\n': loupe__buf_puts(b, "\\n"); continue;
        case '\r': loupe__buf_puts(b, "\\r"); continue;
        case '\t': loupe__buf_puts(b, "\\t"); continue;
        case '\b': loupe__buf_puts(b, "\\b"); continue;
        case '\f': loupe__buf_puts(b, "\\f"); continue;
        default: break;
        }
        if (cp >= 0x20 && cp < 0x7F) {
            loupe__buf_putc(b, (char)cp);
        } else if (cp < 0x10000) {
            loupe__buf_printf(b, "\\u%04x", cp);
        } else {
            unsigned v = cp - 0x10000;
            loupe__buf_printf(b, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        }
    }
    loupe__buf_putc(b, '"');
}

/* A raw number (too big for 64 bits): integers verbatim, reals as Python would
 * read and re-print them. */
static void write_raw_number(loupe__buf *b, const char *raw) {
    if (strpbrk(raw, ".eE")) loupe__pyjson_double(b, strtod(raw, NULL));
    else loupe__buf_puts(b, raw);
}

void loupe__pyjson_value(loupe__buf *b, yyjson_val *v) {
    switch (yyjson_get_type(v)) {
    case YYJSON_TYPE_NULL: loupe__buf_puts(b, "null"); break;
    case YYJSON_TYPE_BOOL: loupe__buf_puts(b, yyjson_get_bool(v) ? "true" : "false"); break;
    case YYJSON_TYPE_NUM:
        if (yyjson_is_uint(v)) loupe__buf_printf(b, "%llu", (unsigned long long)yyjson_get_uint(v));
        else if (yyjson_is_sint(v)) loupe__buf_printf(b, "%lld", (long long)yyjson_get_sint(v));
        else loupe__pyjson_double(b, yyjson_get_real(v));
        break;
    case YYJSON_TYPE_RAW: write_raw_number(b, yyjson_get_raw(v)); break;
    case YYJSON_TYPE_STR: loupe__pyjson_string(b, yyjson_get_str(v), yyjson_get_len(v)); break;
    case YYJSON_TYPE_ARR: {
        loupe__buf_putc(b, '[');
        size_t idx, max;
        yyjson_val *item;
        yyjson_arr_foreach(v, idx, max, item) {
            if (idx) loupe__buf_puts(b, ", ");
            loupe__pyjson_value(b, item);
        }
        loupe__buf_putc(b, ']');
        break;
    }
    case YYJSON_TYPE_OBJ: {
        loupe__buf_putc(b, '{');
        size_t idx, max;
        yyjson_val *key, *val;
        yyjson_obj_foreach(v, idx, max, key, val) {
            if (idx) loupe__buf_puts(b, ", ");
            loupe__pyjson_string(b, yyjson_get_str(key), yyjson_get_len(key));
            loupe__buf_puts(b, ": ");
            loupe__pyjson_value(b, val);
        }
        loupe__buf_putc(b, '}');
        break;
    }
    default: loupe__buf_puts(b, "null"); break;
    }
}

yyjson_doc *loupe__pyjson_parse(const char *text, size_t len, char *err, size_t errcap) {
    yyjson_read_err e;
    yyjson_doc *doc = yyjson_read_opts((char *)text, len, LOUPE__JSON_READ_FLAGS, NULL, &e);
    if (!doc && err && errcap)
        snprintf(err, errcap, "invalid JSON (%s at byte %zu)", e.msg ? e.msg : "syntax error", e.pos);
    return doc;
}

int loupe__pyjson_normalize(const char *text, char **out, char *err, size_t errcap) {
    *out = NULL;
    if (!text) {
        if (err && errcap) snprintf(err, errcap, "invalid JSON (NULL text)");
        return -1;
    }
    yyjson_doc *doc = loupe__pyjson_parse(text, strlen(text), err, errcap);
    if (!doc) return -1;
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__pyjson_value(&b, yyjson_doc_get_root(doc));
    yyjson_doc_free(doc);
    *out = loupe__buf_steal(&b);
    return *out ? 0 : -2;
}
