/* test_util.c -- the utilities: Python-compatible JSON, datetimes, UUIDs, the RNG and buffers. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/pyjson.h"
#include "util/rng.h"
#include "util/timeutil.h"
#include "util/uuid.h"

static void expect_double(double v, const char *want) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__pyjson_double(&b, v);
    assert_false(b.failed);
    assert_string_equal(b.data, want);
    loupe__buf_free(&b);
}

/* Expected strings are Python 3.11's json.dumps output. */
static void test_double_repr(void **state) {
    (void)state;
    expect_double(0.1, "0.1");
    expect_double(1e-05, "1e-05");
    expect_double(1e16, "1e+16");
    expect_double(1e15, "1000000000000000.0");
    expect_double(10.0, "10.0");
    expect_double(-0.0, "-0.0");
    expect_double(0.0, "0.0");
    expect_double(M_PI, "3.141592653589793");
    expect_double(DBL_MAX, "1.7976931348623157e+308");
    expect_double(DBL_MIN, "2.2250738585072014e-308");
    expect_double(5e-324, "5e-324");
    expect_double(123456789012345678.0, "1.2345678901234568e+17");
    expect_double(1.5e-7, "1.5e-07");
    expect_double(0.0001, "0.0001");
    expect_double(-1e100, "-1e+100");
    expect_double(1.0 / 3.0, "0.3333333333333333");
    expect_double(NAN, "NaN");
    expect_double(INFINITY, "Infinity");
    expect_double(-INFINITY, "-Infinity");
}

/* Random doubles: the text reads back to the same value and has as few digits
 * as the shortest printf("%.*e") precision that round-trips. */
static void test_double_repr_random(void **state) {
    (void)state;
    loupe__rng r;
    loupe__rng_seed(&r, 99);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = loupe__rng_next(&r);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v)) continue;
        if (i % 2) v = (double)(loupe__rng_next(&r) % 100000) / 1000.0; /* decimal-looking */
        loupe__buf b;
        loupe__buf_init(&b, 0);
        loupe__pyjson_double(&b, v);
        assert_true(strtod(b.data, NULL) == v);
        int shortest = 17;
        char tmp[40];
        for (int p = 1; p <= 17; p++) {
            snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
            if (strtod(tmp, NULL) == v) {
                shortest = p;
                break;
            }
        }
        int digits = 0, seen_nonzero = 0;
        for (const char *c = b.data; *c && *c != 'e'; c++) {
            if (*c >= '1' && *c <= '9') seen_nonzero = 1;
            if (*c >= '0' && *c <= '9' && seen_nonzero) digits++;
        }
        /* trailing zeros before ".0" in fixed notation are not significant */
        const char *dot = strchr(b.data, '.');
        if (dot && strcmp(dot, ".0") == 0 && !strchr(b.data, 'e')) {
            digits = 0;
            seen_nonzero = 0;
            const char *end = dot;
            while (end > b.data && end[-1] == '0') end--;
            for (const char *c = b.data; c < end; c++)
                if (*c >= '1' && *c <= '9') seen_nonzero = 1, digits++;
                else if (*c == '0' && seen_nonzero) digits++;
        }
        if (v != 0) assert_int_equal(digits, shortest);
        loupe__buf_free(&b);
    }
}

static void expect_norm(const char *in, const char *want) {
    char *out = NULL;
    char err[200];
    assert_int_equal(loupe__pyjson_normalize(in, &out, err, sizeof err), 0);
    assert_string_equal(out, want);
    free(out);
}

static void test_normalize(void **state) {
    (void)state;
    expect_norm("\"Good \xf0\x9f\x91\x8d \xc3\xa9 \x7f\\u0001\\\"\\\\\\n\\t\"",
                "\"Good \\ud83d\\udc4d \\u00e9 \\u007f\\u0001\\\"\\\\\\n\\t\"");
    expect_norm("{\"a\":[1,2.5,null,true],\"b\":NaN,\"c\":Infinity,\"d\":-Infinity,\"e\":12345678901234567890123}",
                "{\"a\": [1, 2.5, null, true], \"b\": NaN, \"c\": Infinity, \"d\": -Infinity, \"e\": 12345678901234567890123}");
    expect_norm("1.0", "1.0");
    expect_norm("1", "1");
    expect_norm("1e5", "100000.0");
    expect_norm("1e400", "Infinity");
    expect_norm("  [ ]  ", "[]");
    expect_norm("{\"z\": 1, \"a\": 2}", "{\"z\": 1, \"a\": 2}"); /* insertion order kept */
}

static void test_normalize_errors(void **state) {
    (void)state;
    char *out = (char *)1;
    char err[200];
    assert_int_equal(loupe__pyjson_normalize("{\"a\": ", &out, err, sizeof err), -1);
    assert_null(out);
    assert_non_null(strstr(err, "invalid JSON"));
    assert_int_equal(loupe__pyjson_normalize("", &out, err, sizeof err), -1);
    assert_int_equal(loupe__pyjson_normalize("[1] x", &out, err, sizeof err), -1);
    assert_int_equal(loupe__pyjson_normalize(NULL, &out, err, sizeof err), -1);
}

static void test_datetime(void **state) {
    (void)state;
    int64_t us;
    assert_int_equal(loupe__parse_datetime("2026-11-28 02:28:49.591161", &us), 0);
    char out[32];
    loupe__format_datetime(us, out);
    assert_string_equal(out, "2026-11-28 02:28:49.591161");
    loupe__format_datetime_iso(us, out);
    assert_string_equal(out, "2026-11-28T02:28:49.591161");
    assert_int_equal(loupe__parse_datetime("2026-11-28 02:28:49", &us), 0);
    loupe__format_datetime(us, out);
    assert_string_equal(out, "2026-11-28 02:28:49.000000");
    assert_int_equal(loupe__parse_datetime("2026-11-28 02:28:49.5", &us), 0);
    assert_int_equal(us % 1000000, 500000);
    assert_int_equal(loupe__parse_datetime("1970-01-01 00:00:00.000000", &us), 0);
    assert_int_equal(us, 0);
    assert_int_equal(loupe__parse_datetime("2026-13-28 02:28:49", &us), -1);
    assert_int_equal(loupe__parse_datetime("yesterday", &us), -1);
    assert_int_equal(loupe__parse_datetime("2026-11-28 02:28:49.1234567890", &us), -1);
    assert_int_equal(loupe__parse_datetime(NULL, &us), -1);
}

static void test_uuid(void **state) {
    (void)state;
    char a[37], b[37];
    assert_int_equal(loupe__uuid4(a), 0);
    assert_int_equal(loupe__uuid4(b), 0);
    assert_true(loupe__is_uuid(a));
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_false(loupe__is_uuid("../etc/passwd"));
    assert_false(loupe__is_uuid("e3e70682-c209-4cac-a29f-6fbed82c07c"));
    assert_false(loupe__is_uuid("e3e70682-c209-4cac-a29f-6fbed82c07cd/"));
    assert_true(loupe__is_uuid("e3e70682-c209-4cac-a29f-6fbed82c07cd"));
}

static void test_rng(void **state) {
    (void)state;
    loupe__rng r1, r2;
    loupe__rng_seed(&r1, 42);
    loupe__rng_seed(&r2, 42);
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double u = loupe__rng_uniform(&r1);
        assert_true(u >= 0 && u < 1);
        assert_true(u == loupe__rng_uniform(&r2));
        sum += u;
    }
    assert_true(fabs(sum / 10000 - 0.5) < 0.02);
    int counts[3] = {0};
    for (int i = 0; i < 30000; i++) counts[loupe__rng_below(&r1, 3)]++;
    for (int i = 0; i < 3; i++) assert_true(abs(counts[i] - 10000) < 600);
}

static void test_buf_cap(void **state) {
    (void)state;
    loupe__buf b;
    loupe__buf_init(&b, 8);
    assert_int_equal(loupe__buf_puts(&b, "12345678"), 0);
    assert_int_equal(loupe__buf_putc(&b, '9'), -1);
    assert_true(b.failed);
    assert_null(loupe__buf_steal(&b));
    loupe__buf_init(&b, 0);
    loupe__buf_printf(&b, "%s-%d", "abc", 12);
    for (int i = 0; i < 100; i++) loupe__buf_printf(&b, "%0300d", i);
    assert_int_equal(b.len, 6 + 100 * 300);
    char *s = loupe__buf_steal(&b);
    assert_memory_equal(s, "abc-12", 6);
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_repr), cmocka_unit_test(test_double_repr_random),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_errors), cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_uuid), cmocka_unit_test(test_rng), cmocka_unit_test(test_buf_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
