/*
 * test_random_sampler.c -- RandomSampler and loupe__sample_uniform_internal:
 * every kind stays in its domain and on its grid, is uniform on its scale
 * (chi-square tests over many draws with fixed seeds), single-value
 * distributions return their value, and the same seed gives the same sequence.
 * Also the sampler handle functions and the param vector of sampler.h.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sampler/sampler.h"
#include "util/rng.h"

enum { DRAWS = 60000 };

static loupe_distribution fdist(double lo, double hi, double step, int log) {
    loupe_distribution d = {LOUPE_DIST_FLOAT, lo, hi, step, log, 0, NULL};
    return d;
}
static loupe_distribution idist(double lo, double hi, double step, int log) {
    loupe_distribution d = {LOUPE_DIST_INT, lo, hi, step, log, 0, NULL};
    return d;
}

/* The 0.1% upper critical value of chi-square with df degrees of freedom
 * (Wilson-Hilferty; z = 3.09). */
static double chi2_crit(int df) {
    double k = df, a = 2.0 / (9.0 * k);
    double c = 1.0 - a + 3.09 * sqrt(a);
    return k * c * c * c;
}

/* Chi-square statistic of counts against expected probabilities p. */
static double chi2(const long *counts, const double *p, int k, long n) {
    double x = 0;
    for (int i = 0; i < k; i++) {
        double e = p[i] * (double)n;
        x += (counts[i] - e) * (counts[i] - e) / e;
    }
    return x;
}

static void assert_uniform_counts(const long *counts, int k, long n) {
    double p[64];
    assert_true(k <= 64);
    for (int i = 0; i < k; i++) p[i] = 1.0 / k;
    double x = chi2(counts, p, k, n);
    if (x >= chi2_crit(k - 1)) print_error("chi2 = %g, critical %g (k = %d)\n", x, chi2_crit(k - 1), k);
    assert_true(x < chi2_crit(k - 1));
}

static void test_float_uniform(void **state) {
    (void)state;
    loupe__rng rng;
    loupe__rng_seed(&rng, 1);
    loupe_distribution d = fdist(-2.0, 3.0, 0, 0);
    long counts[10] = {0};
    for (long i = 0; i < DRAWS; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(v >= -2.0 && v <= 3.0);
        int b = (int)((v + 2.0) / 0.5);
        if (b == 10) b = 9;
        counts[b]++;
    }
    assert_uniform_counts(counts, 10, DRAWS);
}

static void test_float_log(void **state) {
    (void)state;
    loupe__rng rng;
    loupe__rng_seed(&rng, 2);
    loupe_distribution d = fdist(1e-3, 10.0, 0, 1);
    long counts[8] = {0};
    double l0 = log(1e-3), l1 = log(10.0);
    for (long i = 0; i < DRAWS; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(v >= 1e-3 && v <= 10.0);
        int b = (int)((log(v) - l0) / (l1 - l0) * 8);
        if (b == 8) b = 7;
        counts[b]++;
    }
    /* uniform on the log scale, so the 8 log-bins are equally likely */
    assert_uniform_counts(counts, 8, DRAWS);
}

static void test_float_step(void **state) {
    (void)state;
    loupe__rng rng;
    loupe__rng_seed(&rng, 3);
    /* a grid with an inexact step: 0, 0.1, 0.2, 0.3 */
    loupe_distribution d = fdist(0.0, 0.3, 0.1, 0);
    long counts[4] = {0};
    for (long i = 0; i < DRAWS; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(v >= 0.0 && v <= 0.3);
        double k = rint(v / 0.1);
        assert_true(k >= 0 && k <= 3);
        assert_true(v == fmin(k * 0.1, 0.3)); /* exactly on the grid */
        counts[(int)k]++;
    }
    assert_uniform_counts(counts, 4, DRAWS); /* endpoints as likely as inner points */

    loupe_distribution d2 = fdist(-1.0, 1.0, 0.25, 0);
    long c2[9] = {0};
    for (long i = 0; i < DRAWS; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d2);
        double k = (v + 1.0) / 0.25;
        assert_true(k == floor(k) && k >= 0 && k <= 8);
        c2[(int)k]++;
    }
    assert_uniform_counts(c2, 9, DRAWS);
}

static void test_int(void **state) {
    (void)state;
    loupe__rng rng;
    loupe__rng_seed(&rng, 4);
    loupe_distribution d = idist(-3, 4, 1, 0);
    long counts[8] = {0};
    for (long i = 0; i < DRAWS; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(v == floor(v) && v >= -3 && v <= 4);
        counts[(int)v + 3]++;
    }
    assert_uniform_counts(counts, 8, DRAWS);

    /* a step grid: Optuna stores [5, 15] step 3 as high 14 */
    loupe_distribution ds = idist(5, 14, 3, 0);
    long c2[4] = {0};
    for (long i = 0; i < DRAWS; i++) {
        double v = loupe__sample_uniform_internal(&rng, &ds);
        assert_true(v == 5 || v == 8 || v == 11 || v == 14);
        c2[(int)(v - 5) / 3]++;
    }
    assert_uniform_counts(c2, 4, DRAWS);
}

static void test_int_log(void **state) {
    (void)state;
    loupe__rng rng;
    loupe__rng_seed(&rng, 5);
    loupe_distribution d = idist(1, 20, 1, 1);
    long counts[20] = {0};
    for (long i = 0; i < DRAWS; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(v == floor(v) && v >= 1 && v <= 20);
        counts[(int)v - 1]++;
    }
    /* round(exp(U(ln 0.5, ln 20.5))) == k  <=>  exp(U) in [k - 0.5, k + 0.5) */
    double p[20], total = log(20.5) - log(0.5);
    for (int k = 1; k <= 20; k++) p[k - 1] = (log(k + 0.5) - log(k - 0.5)) / total;
    double x = chi2(counts, p, 20, DRAWS);
    assert_true(x < chi2_crit(19));
    /* the small values dominate, as on a log scale */
    assert_true(counts[0] > counts[19] * 10);
}

static void test_categorical(void **state) {
    (void)state;
    loupe__rng rng;
    loupe__rng_seed(&rng, 6);
    const char *const choices[] = {"\"a\"", "1", "null", "true", "2.5"};
    loupe_distribution d = {LOUPE_DIST_CATEGORICAL, 0, 0, 0, 0, 5, choices};
    long counts[5] = {0};
    for (long i = 0; i < DRAWS; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(v == floor(v) && v >= 0 && v <= 4);
        counts[(int)v]++;
    }
    assert_uniform_counts(counts, 5, DRAWS);
}

static void test_single_and_edge(void **state) {
    (void)state;
    loupe__rng rng;
    loupe__rng_seed(&rng, 7);
    loupe_distribution d;
    d = fdist(2.5, 2.5, 0, 0);
    assert_true(loupe__sample_uniform_internal(&rng, &d) == 2.5);
    d = fdist(3.0, 3.0, 0, 1);
    assert_true(loupe__sample_uniform_internal(&rng, &d) == 3.0);
    d = fdist(0.5, 0.5, 0.1, 0);
    assert_true(loupe__sample_uniform_internal(&rng, &d) == 0.5);
    d = fdist(DBL_MAX, DBL_MAX, 0, 0);
    assert_true(loupe__sample_uniform_internal(&rng, &d) == DBL_MAX);
    d = idist(7, 7, 1, 0);
    assert_true(loupe__sample_uniform_internal(&rng, &d) == 7);
    d = idist(9, 9, 1, 1);
    assert_true(loupe__sample_uniform_internal(&rng, &d) == 9);
    const char *const one[] = {"\"only\""};
    loupe_distribution c1 = {LOUPE_DIST_CATEGORICAL, 0, 0, 0, 0, 1, one};
    assert_true(loupe__sample_uniform_internal(&rng, &c1) == 0);

    /* the widest float range does not overflow */
    d = fdist(-DBL_MAX, DBL_MAX, 0, 0);
    int neg = 0, pos = 0;
    for (int i = 0; i < 1000; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(isfinite(v));
        if (v < 0) neg++;
        else pos++;
    }
    assert_true(neg > 400 && pos > 400);
    /* tiny ranges stay inside */
    d = fdist(1.0, nextafter(1.0, 2.0), 0, 0);
    for (int i = 0; i < 100; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(v >= d.low && v <= d.high);
    }
    /* int ranges around large magnitudes */
    d = idist(-1000000000000LL, -999999999998LL, 1, 0);
    for (int i = 0; i < 100; i++) {
        double v = loupe__sample_uniform_internal(&rng, &d);
        assert_true(v == -1000000000000.0 || v == -999999999999.0 || v == -999999999998.0);
    }

    /* invalid distributions give NaN */
    loupe_distribution c0 = {LOUPE_DIST_CATEGORICAL, 0, 0, 0, 0, 0, NULL};
    assert_true(isnan(loupe__sample_uniform_internal(&rng, &c0)));
    d = fdist(2, 1, 0, 0);
    assert_true(isnan(loupe__sample_uniform_internal(&rng, &d)));
    d = fdist(-1, 1, 0, 1);
    assert_true(isnan(loupe__sample_uniform_internal(&rng, &d)));
    loupe_distribution bad = {(loupe_dist_kind)9, 0, 1, 0, 0, 0, NULL};
    assert_true(isnan(loupe__sample_uniform_internal(&rng, &bad)));
}

/* Draws a mixed sequence through the sampler's vtable. */
static void draw_sequence(loupe_sampler *s, double *out, int n) {
    const char *const ch[] = {"\"x\"", "\"y\"", "\"z\""};
    loupe_distribution ds[6] = {
        fdist(0, 1, 0, 0), fdist(1e-4, 1, 0, 1), fdist(0, 10, 0.5, 0),
        idist(0, 100, 1, 0), idist(1, 1000, 1, 1),
        {LOUPE_DIST_CATEGORICAL, 0, 0, 0, 0, 3, ch},
    };
    for (int i = 0; i < n; i++)
        assert_int_equal(s->ops->sample_independent(s, NULL, NULL, "p", &ds[i % 6], &out[i]),
                         LOUPE_OK);
}

static void test_sampler_determinism(void **state) {
    (void)state;
    loupe_sampler *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(loupe_sampler_random_new(42, &a), LOUPE_OK);
    assert_int_equal(loupe_sampler_random_new(42, &b), LOUPE_OK);
    assert_int_equal(loupe_sampler_random_new(43, &c), LOUPE_OK);
    assert_string_equal(loupe_sampler_name(a), "RandomSampler");
    assert_string_equal(a->ops->name, "RandomSampler");
    assert_null(a->ops->sample_relative);
    assert_null(a->ops->after_trial);
    double sa[120], sb[120], sc[120];
    draw_sequence(a, sa, 120);
    draw_sequence(b, sb, 120);
    draw_sequence(c, sc, 120);
    assert_memory_equal(sa, sb, sizeof sa);
    int differ = 0;
    for (int i = 0; i < 120; i++) differ += sa[i] != sc[i];
    assert_true(differ > 60);

    /* an invalid distribution is an error through the vtable */
    loupe_distribution bad = fdist(3, 1, 0, 0);
    double v = 123;
    assert_int_equal(a->ops->sample_independent(a, NULL, NULL, "x", &bad, &v), LOUPE_EINVAL);
    assert_true(v == 123);

    loupe_sampler_free(a);
    loupe_sampler_free(b);
    loupe_sampler_free(c);
    loupe_sampler_free(NULL);
    assert_null(loupe_sampler_name(NULL));
}

static void test_param_vec(void **state) {
    (void)state;
    loupe__param_vec v = {0};
    char name[16] = "alpha";
    char c0[8] = "\"a\"", c1[8] = "\"b\"";
    const char *choices[2] = {c0, c1};
    loupe_distribution cat = {LOUPE_DIST_CATEGORICAL, 0, 0, 0, 0, 2, choices};
    assert_int_equal(loupe__param_vec_push(&v, name, &cat, 1), LOUPE_OK);
    loupe_distribution f = fdist(0, 1, 0, 0);
    f.choices = choices; /* ignored for non-categorical */
    f.n_choices = 2;
    for (int i = 0; i < 20; i++) {
        char n[16];
        snprintf(n, sizeof n, "p%d", i);
        assert_int_equal(loupe__param_vec_push(&v, n, &f, i / 20.0), LOUPE_OK);
    }
    /* the vector owns copies: changing the inputs changes nothing */
    strcpy(name, "zzz");
    strcpy(c0, "\"q\"");
    assert_int_equal(v.len, 21);
    const loupe_param *p = loupe__param_vec_find(&v, "alpha");
    assert_non_null(p);
    assert_true(p->internal == 1);
    assert_int_equal(p->dist.kind, LOUPE_DIST_CATEGORICAL);
    assert_int_equal(p->dist.n_choices, 2);
    assert_string_equal(p->dist.choices[0], "\"a\"");
    assert_string_equal(p->dist.choices[1], "\"b\"");
    p = loupe__param_vec_find(&v, "p19");
    assert_non_null(p);
    assert_true(p->internal == 19 / 20.0);
    assert_int_equal(p->dist.n_choices, 0);
    assert_null(p->dist.choices);
    assert_null(loupe__param_vec_find(&v, "zzz"));
    loupe__param_vec_clear(&v);
    assert_int_equal(v.len, 0);
    assert_null(loupe__param_vec_find(&v, "alpha"));
    /* reusable after clear */
    assert_int_equal(loupe__param_vec_push(&v, "again", &f, 0.5), LOUPE_OK);
    assert_non_null(loupe__param_vec_find(&v, "again"));
    loupe__param_vec_clear(&v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_uniform),  cmocka_unit_test(test_float_log),
        cmocka_unit_test(test_float_step),     cmocka_unit_test(test_int),
        cmocka_unit_test(test_int_log),        cmocka_unit_test(test_categorical),
        cmocka_unit_test(test_single_and_edge), cmocka_unit_test(test_sampler_determinism),
        cmocka_unit_test(test_param_vec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
