/* test_distribution.c -- distribution checks, Optuna's step-grid adjustment of high, the
 * compatibility rule and every distribution_json form Python reads. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/distribution.h"
#include "core/trial_rec.h"

static double adjusted_high(double low, double high, double step) {
    loupe_distribution d = {.kind = LOUPE_DIST_FLOAT, .low = low, .high = high, .step = step};
    char err[200];
    assert_int_equal(loupe__distribution_check(&d, err, sizeof err), LOUPE_OK);
    return d.high;
}

/* Expected values are Python Optuna 3.1's FloatDistribution(low, high, step=step).high. */
static void test_float_step_high(void **state) {
    (void)state;
    assert_true(adjusted_high(0, 1, 0.3) == 0.9);
    assert_true(adjusted_high(0, 1, 0.1) == 1.0);
    assert_true(adjusted_high(0.1, 0.75, 0.2) == 0.7);
    assert_true(adjusted_high(-1, 1, 0.25) == 1.0);
    assert_true(adjusted_high(1e-3, 2, 0.7) == 1.401);
    assert_true(adjusted_high(0, 10, 3) == 9.0);
    assert_true(adjusted_high(5, 5, 0.5) == 5.0);
}

static void test_int_high(void **state) {
    (void)state;
    loupe_distribution d = {.kind = LOUPE_DIST_INT, .low = 5, .high = 15, .step = 3};
    char err[200];
    assert_int_equal(loupe__distribution_check(&d, err, sizeof err), LOUPE_OK);
    assert_true(d.high == 14);
    loupe_distribution bad = {.kind = LOUPE_DIST_INT, .low = 1.5, .high = 3, .step = 1};
    assert_int_equal(loupe__distribution_check(&bad, err, sizeof err), LOUPE_EINVAL);
    assert_non_null(strstr(err, "integers"));
}

static void expect_json(const char *json, loupe_dist_kind kind, double low, double high, double step,
                        int log) {
    loupe_distribution d;
    char err[200];
    assert_int_equal(loupe__distribution_from_json(json, &d, err, sizeof err), LOUPE_OK);
    assert_int_equal(d.kind, kind);
    assert_true(d.low == low && d.high == high && d.step == step && !d.log == !log);
    loupe__distribution_free(&d);
}

static void test_json_forms(void **state) {
    (void)state;
    expect_json("{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": 0.001, \"high\": 10.0, \"log\": true}}",
                LOUPE_DIST_FLOAT, 0.001, 10, 0, 1);
    expect_json("{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 2, \"low\": 0, \"high\": 10}}",
                LOUPE_DIST_INT, 0, 10, 2, 0);
    expect_json("{\"name\": \"UniformDistribution\", \"attributes\": {\"low\": -1, \"high\": 1}}",
                LOUPE_DIST_FLOAT, -1, 1, 0, 0);
    expect_json("{\"name\": \"LogUniformDistribution\", \"attributes\": {\"low\": 0.1, \"high\": 1}}",
                LOUPE_DIST_FLOAT, 0.1, 1, 0, 1);
    expect_json("{\"name\": \"DiscreteUniformDistribution\", \"attributes\": {\"low\": 0, \"high\": 1, \"q\": 0.25}}",
                LOUPE_DIST_FLOAT, 0, 1, 0.25, 0);
    expect_json("{\"name\": \"IntUniformDistribution\", \"attributes\": {\"low\": 0, \"high\": 9, \"step\": 3}}",
                LOUPE_DIST_INT, 0, 9, 3, 0);
    expect_json("{\"name\": \"IntLogUniformDistribution\", \"attributes\": {\"low\": 1, \"high\": 64, \"step\": 1}}",
                LOUPE_DIST_INT, 1, 64, 1, 1);
    expect_json("{\"type\": \"int\", \"low\": 2, \"high\": 4}", LOUPE_DIST_INT, 2, 4, 1, 0);
    loupe_distribution d;
    char err[200];
    assert_int_equal(loupe__distribution_from_json(
                         "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [\"a\", 1, 2.5, null, true]}}",
                         &d, err, sizeof err), LOUPE_OK);
    assert_int_equal(d.n_choices, 5);
    assert_string_equal(d.choices[2], "2.5");
    assert_string_equal(d.choices[4], "true");
    loupe__distribution_free(&d);
    const char *bad[] = {"", "{}", "[1]", "{\"name\": \"Nope\", \"attributes\": {}}",
                         "{\"name\": \"FloatDistribution\", \"attributes\": {\"low\": \"x\", \"high\": 1}}",
                         "{\"name\": \"FloatDistribution\"}", "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": 3}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(loupe__distribution_from_json(bad[i], &d, err, sizeof err), LOUPE_ECORRUPT);
}

static void test_compatibility(void **state) {
    (void)state;
    const char *c1[] = {"1", "\"a\""}, *c2[] = {"1.0", "\"a\""}, *c3[] = {"true", "\"a\""},
               *c4[] = {"\"a\"", "1"};
    loupe_distribution a = {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 2, .choices = c1};
    loupe_distribution b = {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 2, .choices = c2};
    loupe_distribution c = {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 2, .choices = c3};
    loupe_distribution e = {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 2, .choices = c4};
    char err[200];
    /* Python: (1, "a") == (1.0, "a") == (True, "a") */
    assert_int_equal(loupe__distribution_compatible(&a, &b, err, sizeof err), LOUPE_OK);
    assert_int_equal(loupe__distribution_compatible(&a, &c, err, sizeof err), LOUPE_OK);
    assert_int_equal(loupe__distribution_compatible(&a, &e, err, sizeof err), LOUPE_EINCOMPAT);
    loupe_distribution f1 = {.kind = LOUPE_DIST_FLOAT, .low = 0, .high = 1};
    loupe_distribution f2 = {.kind = LOUPE_DIST_FLOAT, .low = 5, .high = 9, .step = 1};
    loupe_distribution f3 = {.kind = LOUPE_DIST_FLOAT, .low = 1, .high = 9, .log = 1};
    assert_int_equal(loupe__distribution_compatible(&f1, &f2, err, sizeof err), LOUPE_OK);
    assert_int_equal(loupe__distribution_compatible(&f1, &f3, err, sizeof err), LOUPE_EINCOMPAT);
    assert_int_equal(loupe__distribution_compatible(&f1, &a, err, sizeof err), LOUPE_EINCOMPAT);
    assert_true(loupe__distribution_contains(&f2, 7));
    assert_false(loupe__distribution_contains(&f2, 7.5));
    assert_false(loupe__distribution_contains(&f1, 1.5));
    assert_false(loupe__distribution_contains(&f1, NAN));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_step_high), cmocka_unit_test(test_int_high),
        cmocka_unit_test(test_json_forms), cmocka_unit_test(test_compatibility),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
