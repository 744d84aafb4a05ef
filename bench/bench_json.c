/*
 * bench_json.c -- the JSON-lines writer of loupe-bench (SPEC §5): one object
 * per line, numbers with 17 significant digits, strings escaped for JSON.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "bench.h"

static void put_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

void bench_obj_begin(bench_json *j, FILE *out) {
    j->out = out;
    j->need_comma = 0;
    fputc('{', out);
}

void bench_obj_end(bench_json *j) {
    fputs("}\n", j->out);
    fflush(j->out);
}

void bench_key(bench_json *j, const char *key) {
    if (j->need_comma) fputs(", ", j->out);
    j->need_comma = 1;
    if (key) {
        put_string(j->out, key);
        fputs(": ", j->out);
    }
}

void bench_str(bench_json *j, const char *key, const char *value) {
    bench_key(j, key);
    put_string(j->out, value);
}

void bench_num(bench_json *j, const char *key, double value) {
    bench_key(j, key);
    if (!isfinite(value)) { /* SPEC §5: numbers MUST be finite */
        fprintf(stderr, "loupe-bench: warning: %s is not finite; written as null\n",
                key ? key : "(array item)");
        fputs("null", j->out);
        return;
    }
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", value);
    fputs(buf, j->out);
}

void bench_int(bench_json *j, const char *key, int64_t value) {
    bench_key(j, key);
    fprintf(j->out, "%" PRId64, value);
}

void bench_bool(bench_json *j, const char *key, int value) {
    bench_key(j, key);
    fputs(value ? "true" : "false", j->out);
}

void bench_open(bench_json *j, const char *key, char bracket) {
    bench_key(j, key);
    fputc(bracket, j->out);
    j->need_comma = 0;
}

void bench_close(bench_json *j, char bracket) {
    fputc(bracket, j->out);
    j->need_comma = 1;
}

void bench_record_begin(bench_json *j, const bench_sink *sink, const char *suite,
                        const char *function, const char *config) {
    bench_obj_begin(j, sink->out);
    bench_str(j, "record", "result");
    bench_str(j, "suite", suite);
    bench_str(j, "function", function);
    bench_str(j, "config", config);
    bench_str(j, "impl", "loupe");
    bench_str(j, "impl_version", sink->impl_version);
}
