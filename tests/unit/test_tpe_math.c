/*
 * test_tpe_math.c -- unit tests of TPE's numerical parts, independent of any
 * study: truncated-normal numerics (reference values from mpmath at 50 digits),
 * Optuna's default gamma/weights, the Parzen estimator (the worked example of
 * optuna-tpe.md §7 and every option), non-domination ranks, hypervolume, HSSP
 * and the below/above split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "loupe.h"
#include "sampler/tpe_math.h"
#include "sampler/tpe_mo.h"
#include "sampler/tpe_parzen.h"
#include "sampler/tpe_split.h"
#include "util/rng.h"

#define assert_close(actual, expected, tol)                                                        \
    do {                                                                                           \
        double a_ = (actual), e_ = (expected), t_ = (tol);                                         \
        if (!(fabs(a_ - e_) <= t_)) {                                                              \
            print_error("%s = %.17g, expected %.17g (tol %g)\n", #actual, a_, e_, t_);             \
            fail();                                                                                \
        }                                                                                          \
    } while (0)
/* relative tolerance */
#define assert_rel(actual, expected, rtol) assert_close(actual, expected, fabs(expected) * (rtol))

/* ------------------------------------------------------------ normal numerics */

static void test_log_ndtr(void **state) {
    (void)state;
    static const double ref[][2] = {
        {-40, -804.60844201375378817},   {-20.5, -214.06672896326380017},
        {-10, -53.231285150512470578},   {-1, -1.8410216450092635058},
        {0, -0.69314718055994530942},    {1, -0.17275377902344988953},
        {5, -2.8665161296376359338e-7},  {7, -1.2798125438866539645e-12},
        {10, -7.619853024160526066e-24},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++)
        assert_rel(loupe__tpe_log_ndtr(ref[i][0]), ref[i][1], 1e-13);
    assert_true(loupe__tpe_log_ndtr(40) == 0.0);
    assert_true(loupe__tpe_log_ndtr(-INFINITY) == -INFINITY);
    /* continuity where the formulas switch */
    assert_rel(loupe__tpe_log_ndtr(-20.0), loupe__tpe_log_ndtr(-20.0 - 1e-12), 1e-11);
    assert_rel(loupe__tpe_log_ndtr(1e-12), loupe__tpe_log_ndtr(-1e-12), 1e-11);
}

static void test_log_gauss_mass(void **state) {
    (void)state;
    static const double ref[][3] = {
        {-1, 1, -0.38171514630212607227},      {2, 3, -3.844353426334205621},
        {-3, -2, -3.844353426334205621},       {5, 6, -15.068446096529453352},
        {-6, -5, -15.068446096529453352},      {-50, -49, -1205.3111748916652575},
        {30, 31, -454.32124395634325204},      {-0.5, 40, -0.36894641528865639307},
        {-2.5, 1e-8, -0.70564426754466657073},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++)
        assert_rel(loupe__tpe_log_gauss_mass(ref[i][0], ref[i][1]), ref[i][2], 1e-12);
    assert_true(loupe__tpe_log_gauss_mass(1, 1) == -INFINITY);
}

static void test_ndtri_exp(void **state) {
    (void)state;
    static const double ref[][2] = {
        {-690.77552789821368, -37.047096299361198598},
        {-1000.0, -44.61574773196940302},
        {-5.0, -2.4709386372615884169},
        {-0.001, 3.0903807869170451304},
        {-1e-20, 9.2623400897984075796},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++)
        assert_rel(loupe__tpe_ndtri_exp(ref[i][0]), ref[i][1], 1e-12);
    assert_close(loupe__tpe_ndtri_exp(-0.69314718055994529), 0.0, 1e-14);
    /* round trip over a wide range */
    for (double y = -5000; y < -1e-30; y /= 1.7) {
        double x = loupe__tpe_ndtri_exp(y);
        assert_rel(loupe__tpe_log_ndtr(x), y, 1e-12);
    }
    assert_true(isinf(loupe__tpe_ndtri_exp(0.0)) && loupe__tpe_ndtri_exp(0.0) > 0);
    assert_true(loupe__tpe_ndtri_exp(-INFINITY) == -INFINITY);
}

static void test_truncnorm_ppf(void **state) {
    (void)state;
    static const double ref[][4] = {
        {0.3, -1, 2, -0.24240381788922682623},      {0.7, 3, 4, 3.3345815213037898889},
        {0.5, -40, -39, -39.017757305232351403},    {0.999, 10, 12, 10.662528379133462574},
        {0.25, -0.5, 0.5, -0.24231313244667637288}, {1e-9, -3, 3, -2.9999997749697700363},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double a = ref[i][1], b = ref[i][2];
        double lm = loupe__tpe_log_gauss_mass(a, b);
        assert_close(loupe__tpe_truncnorm_ppf(ref[i][0], a, b, lm), ref[i][3], 1e-11);
    }
    double lm = loupe__tpe_log_gauss_mass(-1, 2);
    assert_true(loupe__tpe_truncnorm_ppf(0.0, -1, 2, lm) == -1.0);
    assert_true(loupe__tpe_truncnorm_ppf(1.0, -1, 2, lm) == 2.0);
    /* far tails stay inside [a, b] and are monotone in q */
    double prev = -INFINITY;
    for (int i = 1; i < 100; i++) {
        double q = i / 100.0;
        double lm2 = loupe__tpe_log_gauss_mass(60, 61);
        double x = loupe__tpe_truncnorm_ppf(q, 60, 61, lm2);
        assert_true(x >= 60 && x <= 61 && x >= prev);
        prev = x;
    }
}

static void test_truncnorm_logpdf(void **state) {
    (void)state;
    /* N(1, 2^2) on [0, 10]: a = -0.5, b = 4.5 */
    double a = -0.5, b = 4.5, lm = loupe__tpe_log_gauss_mass(a, b);
    assert_true(loupe__tpe_truncnorm_logpdf(-0.1, a, b, 1, 2, lm) == -INFINITY);
    assert_true(loupe__tpe_truncnorm_logpdf(10.1, a, b, 1, 2, lm) == -INFINITY);
    /* integrates to 1 (midpoint rule) */
    double s = 0.0;
    int n = 20000;
    for (int i = 0; i < n; i++) {
        double x = (i + 0.5) * 10.0 / n;
        s += exp(loupe__tpe_truncnorm_logpdf(x, a, b, 1, 2, lm)) * 10.0 / n;
    }
    assert_close(s, 1.0, 1e-7);
}

/* ------------------------------------------------------------ defaults */

static void test_default_gamma_and_weights(void **state) {
    (void)state;
    assert_int_equal(loupe_tpe_default_gamma(0, NULL), 0);
    assert_int_equal(loupe_tpe_default_gamma(1, NULL), 1);
    assert_int_equal(loupe_tpe_default_gamma(10, NULL), 1);
    assert_int_equal(loupe_tpe_default_gamma(11, NULL), 2);
    assert_int_equal(loupe_tpe_default_gamma(30, NULL), 3);
    assert_int_equal(loupe_tpe_default_gamma(31, NULL), 4);
    assert_int_equal(loupe_tpe_default_gamma(240, NULL), 24);
    assert_int_equal(loupe_tpe_default_gamma(1000, NULL), 25);
    assert_int_equal(loupe_tpe_default_gamma_multiobjective(1000, NULL), 100);
    assert_int_equal(loupe_tpe_default_gamma_multiobjective(31, NULL), 4);
    assert_int_equal(loupe_tpe_hyperopt_default_gamma(100, NULL), 3);
    assert_int_equal(loupe_tpe_hyperopt_default_gamma(100000, NULL), 25);

    double w[40];
    loupe_tpe_default_weights(10, w, NULL);
    for (int i = 0; i < 10; i++) assert_true(w[i] == 1.0);
    loupe_tpe_default_weights(26, w, NULL); /* linspace(1/26, 1, 1) = [1/26] */
    assert_close(w[0], 1.0 / 26, 1e-17);
    for (int i = 1; i < 26; i++) assert_true(w[i] == 1.0);
    loupe_tpe_default_weights(30, w, NULL); /* ramp of 5 from 1/30 to 1 */
    double step = (1.0 - 1.0 / 30) / 4;
    for (int i = 0; i < 5; i++) assert_close(w[i], 1.0 / 30 + i * step, 1e-15);
    assert_true(w[4] == 1.0);
    for (int i = 5; i < 30; i++) assert_true(w[i] == 1.0);
}

static void test_options(void **state) {
    (void)state;
    loupe_tpe_options o;
    loupe_tpe_options_init(&o);
    assert_int_equal(o.n_startup_trials, 10);
    assert_int_equal(o.n_ei_candidates, 24);
    assert_int_equal(o.multivariate, LOUPE_TPE_AUTO);
    assert_int_equal(o.group, 0);
    assert_int_equal(o.constant_liar, 1);
    assert_int_equal(o.consider_prior, 1);
    assert_true(o.prior_weight == 1.0);
    assert_int_equal(o.consider_magic_clip, 1);
    assert_int_equal(o.consider_endpoints, 0);
    assert_int_equal(o.warn_independent_sampling, 0);
    assert_null(o.gamma);
    assert_null(o.weights);
    assert_null(o.constraints);
    assert_int_equal(o.rules, LOUPE_TPE_RULES_OPTUNA_5);
    char err[200];
    assert_int_equal(loupe_tpe_options_check(&o, err, sizeof err), LOUPE_OK);

    loupe_tpe_options b = o;
    b.group = 1;
    b.multivariate = 0;
    assert_int_equal(loupe_tpe_options_check(&b, err, sizeof err), LOUPE_EINVAL);
    assert_non_null(strstr(err, "group can only be enabled when multivariate"));
    b = o;
    b.prior_weight = -0.5;
    assert_int_equal(loupe_tpe_options_check(&b, err, sizeof err), LOUPE_EINVAL);
    assert_non_null(strstr(err, "prior_weight"));
    b = o;
    b.n_ei_candidates = 0;
    assert_int_equal(loupe_tpe_options_check(&b, err, sizeof err), LOUPE_EINVAL);
    assert_non_null(strstr(err, "n_ei_candidates"));
    b = o;
    b.n_startup_trials = -1;
    assert_int_equal(loupe_tpe_options_check(&b, err, sizeof err), LOUPE_EINVAL);
    b = o;
    b.multivariate = 7;
    assert_int_equal(loupe_tpe_options_check(&b, NULL, 0), LOUPE_EINVAL);
    b = o;
    b.rules = 2;
    assert_int_equal(loupe_tpe_options_check(&b, err, sizeof err), LOUPE_EINVAL);
    assert_non_null(strstr(err, "rules"));
    b = o;
    b.rules = LOUPE_TPE_RULES_OPTUNA_3_1;
    assert_int_equal(loupe_tpe_options_check(&b, err, sizeof err), LOUPE_OK);
    b = o;
    b.group = 1; /* with AUTO: fine */
    assert_int_equal(loupe_tpe_options_check(&b, err, sizeof err), LOUPE_OK);

    loupe_sampler *s = NULL;
    assert_int_equal(loupe_sampler_tpe_new(&b, &s), LOUPE_OK);
    assert_string_equal(loupe_sampler_name(s), "TPESampler");
    loupe_sampler_free(s);
    b.prior_weight = NAN;
    s = NULL;
    assert_int_equal(loupe_sampler_tpe_new(&b, &s), LOUPE_EINVAL);
    assert_null(s);
    assert_int_equal(loupe_sampler_tpe_new(NULL, &s), LOUPE_OK);
    loupe_sampler_free(s);
}

static void test_check_weights(void **state) {
    (void)state;
    char err[200];
    double ok[] = {0, 1, 2};
    assert_int_equal(loupe__tpe_check_weights(ok, 3, err, sizeof err), LOUPE_OK);
    assert_int_equal(loupe__tpe_check_weights(NULL, 0, err, sizeof err), LOUPE_OK);
    double neg[] = {1, -1};
    assert_int_equal(loupe__tpe_check_weights(neg, 2, err, sizeof err), LOUPE_EINVAL);
    assert_non_null(strstr(err, "negative"));
    double zero[] = {0, 0};
    assert_int_equal(loupe__tpe_check_weights(zero, 2, err, sizeof err), LOUPE_EINVAL);
    assert_non_null(strstr(err, "all-zero"));
    double inf[] = {1, INFINITY};
    assert_int_equal(loupe__tpe_check_weights(inf, 2, err, sizeof err), LOUPE_EINVAL);
    assert_non_null(strstr(err, "non-finite"));
    double nan_[] = {1, NAN};
    assert_int_equal(loupe__tpe_check_weights(nan_, 2, err, sizeof err), LOUPE_EINVAL);
}

/* ------------------------------------------------------------ Parzen estimator */

static const char *const abc[] = {"\"a\"", "\"b\"", "\"c\""};

static loupe__tpe_pe_params default_params(void) {
    loupe__tpe_pe_params p = {.prior_weight = 1.0,
                              .consider_prior = 1,
                              .consider_magic_clip = 1,
                              .consider_endpoints = 0};
    return p;
}

/* optuna-tpe.md §7 */
static void test_parzen_worked_example(void **state) {
    (void)state;
    loupe_distribution dx = {.kind = LOUPE_DIST_FLOAT, .low = 0, .high = 10};
    loupe_distribution dn = {.kind = LOUPE_DIST_INT, .low = 1, .high = 100, .step = 1, .log = 1};
    loupe_distribution dc = {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 3, .choices = abc};
    const loupe_distribution *space[] = {&dx, &dn, &dc};
    double obs[] = {1, 1, 0, /**/ 2, 10, 0, /**/ 5, 100, 2};
    double w[3];
    loupe_tpe_default_weights(3, w, NULL);
    loupe__tpe_pe_params p = default_params();
    loupe__tpe_parzen pe;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 3, obs, 3, w, &p), LOUPE_OK);
    assert_int_equal(pe.n_kernels, 4);
    for (int k = 0; k < 4; k++) assert_close(pe.weights[k], 0.25, 1e-15);

    const double xmu[] = {1, 2, 5, 5}, xsig[] = {2, 3, 3, 10};
    for (int k = 0; k < 4; k++) {
        assert_close(pe.dims[0].mu[k], xmu[k], 1e-12);
        assert_close(pe.dims[0].sigma[k], xsig[k], 1e-12);
    }
    assert_close(pe.dims[1].alow, -0.69314718055994530942, 1e-12);
    assert_close(pe.dims[1].ahigh, 4.6101577274991304416, 1e-12);
    const double nmu[] = {0, 2.302585092994045684, 4.605170185988091368, 1.9585052734695925661};
    const double nsig[] = {2.302585092994045684, 2.302585092994045684, 2.302585092994045684,
                           5.3033049080590757511};
    for (int k = 0; k < 4; k++) {
        assert_close(pe.dims[1].mu[k], nmu[k], 1e-12);
        assert_close(pe.dims[1].sigma[k], nsig[k], 1e-12);
    }
    assert_close(pe.dims[1].step, 1.0, 0);
    const double rows[4][3] = {{5. / 7, 1. / 7, 1. / 7},
                               {5. / 7, 1. / 7, 1. / 7},
                               {1. / 7, 1. / 7, 5. / 7},
                               {1. / 3, 1. / 3, 1. / 3}};
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 3; j++) assert_close(pe.dims[2].probs[k * 3 + j], rows[k][j], 1e-15);

    double pts[] = {2, 10, 0, /**/ 9, 3, 1};
    double lp[2];
    assert_int_equal(loupe__tpe_parzen_log_pdf(&pe, pts, 2, lp), LOUPE_OK);
    /* mpmath at 40 digits: -6.3327281479346697446, -7.3678535858921730654;
     * optuna-tpe.md: -6.33272815, -7.36785359 */
    assert_close(lp[0], -6.3327281479346697446, 1e-9);
    assert_close(lp[1], -7.3678535858921730654, 1e-9);
    assert_close(lp[0], -6.33272815, 1e-8);
    assert_close(lp[1], -7.36785359, 1e-8);

    /* samples lie in the domain: x in [0, 10], n an integer in [1, 100], c an index */
    loupe__rng rng;
    loupe__rng_seed(&rng, 42);
    double smp[200 * 3];
    assert_int_equal(loupe__tpe_parzen_sample(&pe, &rng, 200, smp), LOUPE_OK);
    for (int i = 0; i < 200; i++) {
        assert_true(smp[i * 3] >= 0 && smp[i * 3] <= 10);
        assert_true(smp[i * 3 + 1] >= 1 && smp[i * 3 + 1] <= 100);
        assert_true(smp[i * 3 + 1] == floor(smp[i * 3 + 1]));
        assert_true(smp[i * 3 + 2] == 0 || smp[i * 3 + 2] == 1 || smp[i * 3 + 2] == 2);
    }
    loupe__tpe_parzen_free(&pe);
}

/* Vectors from Optuna HEAD's _ParzenEstimator (1d8ce7bb6f3c, numpy argsort made
 * stable: with ties numpy's default sort order is unspecified) with
 * default_weights (N = 30: the ramp applies): log_pdf at 8 points. */
/* clang-format off */
static const char *const six[] = {"\"c0\"", "\"c1\"", "\"c2\"", "\"c3\"", "\"c4\"", "\"c5\""};
struct pe_vector {
    size_t n_dims, n_obs;
    double prior_weight;
    int endpoints, magic_clip;
    loupe_distribution space[4];
    double obs[30 * 4];
    double pts[8 * 4];
    double log_pdf[8];
};
/* case 1: N=30, prior_weight=1.0, consider_endpoints=0, magic_clip=1 */
static const struct pe_vector vec1 = {
    .n_dims = 3, .n_obs = 30, .prior_weight = 1.0, .endpoints = 0, .magic_clip = 1,
    .space = {
        {.kind = LOUPE_DIST_INT, .low = 6.0, .high = 478.0, .step = 1.0, .log = 1},
        {.kind = LOUPE_DIST_FLOAT, .low = 0.1, .high = 3.5, .step = 0.1, .log = 0},
        {.kind = LOUPE_DIST_FLOAT, .low = 0.011877174415180823,
         .high = 3.4631050113794744, .step = 0.0, .log = 1},
    },
    .obs = {
        34.0, 1.2000000000000002, 0.06977953411260462,
        252.0, 0.6, 0.08336185261163144,
        451.0, 1.7000000000000002, 1.0893226093628947,
        192.0, 0.30000000000000004, 0.051482133428233386,
        297.0, 0.5, 0.05005238162861126,
        289.0, 0.6, 0.7487859551395811,
        108.0, 0.2, 3.0348083265638874,
        264.0, 2.9000000000000004, 2.848316557260123,
        217.0, 0.1, 0.13760595686347052,
        254.0, 1.8000000000000003, 3.014469662780521,
        422.0, 1.6, 0.042678023957727816,
        188.0, 1.8000000000000003, 0.11323930470327427,
        218.0, 0.8, 0.014513865588317238,
        183.0, 1.2000000000000002, 2.758116542725229,
        6.0, 2.3000000000000003, 0.14899638647038924,
        281.0, 1.9000000000000001, 0.21020366941947333,
        282.0, 0.5, 0.1337632578217976,
        325.0, 1.1, 1.3365674036435577,
        408.0, 1.1, 3.038908215792463,
        319.0, 1.7000000000000002, 0.42600001284024613,
        175.0, 3.4000000000000004, 0.6135381541283679,
        240.0, 1.1, 0.15343857407993847,
        313.0, 1.8000000000000003, 0.23226605482103255,
        20.0, 1.9000000000000001, 0.014137796261522138,
        417.0, 3.0000000000000004, 0.5472439479272027,
        123.0, 2.1, 1.1346439669224304,
        331.0, 3.2, 0.5023607943388464,
        96.0, 3.1, 0.13348596483653943,
        287.0, 0.8, 0.7804551775945565,
        305.0, 0.2, 0.024237700814405676,
    },
    .pts = {
        445.0, 1.7000000000000002, 0.014687656001271664,
        45.0, 0.9, 0.037039738876839486,
        164.0, 0.1, 0.020834647026986626,
        475.0, 0.30000000000000004, 0.3075810676909105,
        158.0, 1.4000000000000001, 1.9254215219649078,
        386.0, 3.0000000000000004, 0.34071458945634864,
        87.0, 1.1, 0.19419403706297308,
        219.0, 3.3000000000000003, 2.43521541086321,
    },
    .log_pdf = {
        -12.588236557995065, -13.885807349208392, -14.069137337055368, -16.373579865675058,
        -10.58601743804947, -11.556225785786763, -14.249512777163101, -10.79804801055065,
    },
};
/* case 8: N=30, prior_weight=2.0, consider_endpoints=0, magic_clip=1 */
static const struct pe_vector vec8 = {
    .n_dims = 4, .n_obs = 30, .prior_weight = 2.0, .endpoints = 0, .magic_clip = 1,
    .space = {
        {.kind = LOUPE_DIST_FLOAT, .low = 0.016887068374112135,
         .high = 161.9803028859146, .step = 0.0, .log = 1},
        {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 6, .choices = six},
        {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 6, .choices = six},
        {.kind = LOUPE_DIST_FLOAT, .low = 0.8873042877868513,
         .high = 115.77265385772986, .step = 0.0, .log = 1},
    },
    .obs = {
        91.30607580674248, 0.0, 5.0, 31.85462522267076,
        11.566092691928073, 2.0, 1.0, 113.741452878811,
        144.55407272521404, 2.0, 5.0, 13.329740496749062,
        10.626863749935326, 5.0, 0.0, 5.02213620205613,
        1.0398638510702791, 3.0, 3.0, 32.601620975697806,
        7.777056301437759, 5.0, 5.0, 6.005435888193052,
        0.10314022645046057, 4.0, 5.0, 6.218481870488163,
        2.1027961993693687, 2.0, 2.0, 9.358264463769041,
        8.501012032814254, 1.0, 4.0, 3.1412297729957066,
        3.4233987725554886, 3.0, 2.0, 17.353917032743265,
        123.38145412834359, 2.0, 1.0, 29.0338837397893,
        0.36771890114848027, 3.0, 4.0, 3.1297089427916576,
        5.044372135787611, 1.0, 1.0, 17.315804722384495,
        128.1943021504677, 3.0, 1.0, 2.9157072457220283,
        10.301816192757627, 4.0, 2.0, 22.187179559198484,
        120.23483688971876, 0.0, 2.0, 56.23735832211434,
        0.03142762108971324, 2.0, 0.0, 60.99131351975156,
        144.61716104626288, 4.0, 0.0, 6.3064218873849205,
        0.1635308162429302, 0.0, 5.0, 81.52345639064309,
        119.69518472848961, 5.0, 4.0, 83.58478058057155,
        0.24312832279625038, 4.0, 5.0, 2.975960282363222,
        0.02043071914430862, 3.0, 2.0, 3.2911264318407882,
        12.578883190226708, 0.0, 3.0, 1.263374087745479,
        0.07064319781726026, 2.0, 4.0, 31.428780786217605,
        21.32515687028985, 0.0, 4.0, 61.775259113866014,
        0.6451134247703469, 5.0, 5.0, 14.903097374547535,
        0.2012331526828042, 3.0, 0.0, 15.07001937896221,
        0.08648394253421836, 0.0, 1.0, 83.50710886158687,
        0.03310377099571365, 1.0, 2.0, 1.8262173862844846,
        20.788505597171994, 4.0, 5.0, 88.7683475616207,
    },
    .pts = {
        0.059902887645581514, 0.0, 0.0, 11.646853122030151,
        11.95649654100437, 1.0, 4.0, 30.174377357583722,
        0.462786284263944, 3.0, 0.0, 66.82307805769841,
        16.575459099345004, 2.0, 1.0, 7.651494919092933,
        0.15317139014597114, 3.0, 5.0, 22.413668041892045,
        12.223452082941991, 0.0, 0.0, 3.380212156556066,
        12.259231416355815, 1.0, 3.0, 17.595719049159985,
        0.27797819955520287, 0.0, 5.0, 2.0577854053469022,
    },
    .log_pdf = {
        -10.05549077549417, -8.93862527288951, -8.748212297098904, -9.44912143256538,
        -8.776096897903994, -7.04258968038319, -7.622251253593926, -8.520255365441278,
    },
};
/* clang-format on */

static void check_vector(const struct pe_vector *v) {
    const loupe_distribution *space[4];
    for (size_t d = 0; d < v->n_dims; d++) space[d] = &v->space[d];
    double w[30];
    loupe_tpe_default_weights(v->n_obs, w, NULL);
    loupe__tpe_pe_params p = {.prior_weight = v->prior_weight,
                              .consider_prior = 1,
                              .consider_magic_clip = v->magic_clip,
                              .consider_endpoints = v->endpoints};
    loupe__tpe_parzen pe;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, v->n_dims, v->obs, v->n_obs, w, &p),
                     LOUPE_OK);
    double lp[8];
    assert_int_equal(loupe__tpe_parzen_log_pdf(&pe, v->pts, 8, lp), LOUPE_OK);
    for (int i = 0; i < 8; i++) assert_rel(lp[i], v->log_pdf[i], 1e-12);
    loupe__tpe_parzen_free(&pe);
}

static void test_parzen_matches_optuna_head(void **state) {
    (void)state;
    check_vector(&vec1);
    check_vector(&vec8);
}

/* LOUPE_TPE_RULES_OPTUNA_3_1's estimator rules, one by one. */
static void test_parzen_optuna31_rules(void **state) {
    (void)state;
    loupe_distribution dx = {.kind = LOUPE_DIST_FLOAT, .low = 0, .high = 10};
    const loupe_distribution *space[] = {&dx};
    double obs[] = {1, 2, 8}, w[] = {1, 1, 1};
    loupe__tpe_parzen pe;
    /* Optuna 5.0: neighbours among observations only: raw [1, 6, 6] -> clip >= 2 */
    loupe__tpe_pe_params p = default_params();
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, obs, 3, w, &p), LOUPE_OK);
    assert_close(pe.dims[0].sigma[0], 2, 1e-12);
    assert_close(pe.dims[0].sigma[1], 6, 1e-12);
    assert_close(pe.dims[0].sigma[2], 6, 1e-12);
    loupe__tpe_parzen_free(&pe);
    /* prior's center 5 among the neighbours: [0, 1, 2, 5, 8, 10] -> [1, 3, 3] -> [2, 3, 3] */
    p.prior_in_bandwidth = 1;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, obs, 3, w, &p), LOUPE_OK);
    assert_close(pe.dims[0].sigma[0], 2, 1e-12);
    assert_close(pe.dims[0].sigma[1], 3, 1e-12);
    assert_close(pe.dims[0].sigma[2], 3, 1e-12);
    assert_close(pe.dims[0].sigma[3], 10, 0);
    loupe__tpe_parzen_free(&pe);
    /* Scott's rule: 0.2 * N^(-1/(D+4)) * range for every observation kernel */
    p = default_params();
    p.scott_rule = 1;
    p.consider_magic_clip = 0;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, obs, 3, w, &p), LOUPE_OK);
    for (int k = 0; k < 3; k++) assert_close(pe.dims[0].sigma[k], 2.0 * pow(3, -0.2), 1e-12);
    assert_close(pe.dims[0].sigma[3], 10, 0);
    loupe__tpe_parzen_free(&pe);
    /* no -log(sigma) in continuous densities: the prior alone, sigma 10 */
    p = default_params();
    double x = 3, lp5, lp31;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, NULL, 0, NULL, &p), LOUPE_OK);
    loupe__tpe_parzen_log_pdf(&pe, &x, 1, &lp5);
    loupe__tpe_parzen_free(&pe);
    p.no_log_sigma = 1;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, NULL, 0, NULL, &p), LOUPE_OK);
    loupe__tpe_parzen_log_pdf(&pe, &x, 1, &lp31);
    loupe__tpe_parzen_free(&pe);
    assert_close(lp31 - lp5, log(10), 1e-12);
    /* int log as a continuous log-space kernel; samples rounded to integers */
    loupe_distribution dn = {.kind = LOUPE_DIST_INT, .low = 1, .high = 100, .step = 1, .log = 1};
    const loupe_distribution *sn[] = {&dn};
    double on[] = {3, 40};
    p = default_params();
    p.int_log_continuous = 1;
    assert_int_equal(loupe__tpe_parzen_build(&pe, sn, 1, on, 2, w, &p), LOUPE_OK);
    assert_true(pe.dims[0].step == 0 && pe.dims[0].round_exp == 1);
    assert_close(pe.dims[0].alow, log(0.5), 1e-15);
    assert_close(pe.dims[0].ahigh, log(100.5), 1e-15);
    loupe__rng rng;
    loupe__rng_seed(&rng, 2);
    double smp[200];
    loupe__tpe_parzen_sample(&pe, &rng, 200, smp);
    for (int i = 0; i < 200; i++)
        assert_true(smp[i] == rint(smp[i]) && smp[i] >= 1 && smp[i] <= 100);
    double at = 40, lp;
    loupe__tpe_parzen_log_pdf(&pe, &at, 1, &lp);
    assert_true(isfinite(lp));
    loupe__tpe_parzen_free(&pe);
}

/* The chosen candidate is the first argmax of log l - log g (Optuna §6), here
 * computed by hand over a tiny estimator pair. */
static void test_parzen_acquisition_argmax(void **state) {
    (void)state;
    loupe_distribution dx = {.kind = LOUPE_DIST_FLOAT, .low = 0, .high = 10};
    const loupe_distribution *space[] = {&dx};
    double below[] = {1.0, 1.5}, above[] = {6, 7, 8, 9};
    double wb[] = {1, 1}, wa[] = {1, 1, 1, 1};
    loupe__tpe_pe_params p = default_params();
    loupe__tpe_parzen l, g;
    assert_int_equal(loupe__tpe_parzen_build(&l, space, 1, below, 2, wb, &p), LOUPE_OK);
    assert_int_equal(loupe__tpe_parzen_build(&g, space, 1, above, 4, wa, &p), LOUPE_OK);
    double cand[] = {5.0, 1.2, 1.2, 9.5};
    double ll[4], lg[4];
    loupe__tpe_parzen_log_pdf(&l, cand, 4, ll);
    loupe__tpe_parzen_log_pdf(&g, cand, 4, lg);
    size_t best = 0;
    for (size_t i = 1; i < 4; i++)
        if (ll[i] - lg[i] > ll[best] - lg[best]) best = i;
    assert_int_equal(best, 1); /* the first of the two equal maxima */
    assert_true(ll[1] - lg[1] > ll[0] - lg[0]);
    loupe__tpe_parzen_free(&l);
    loupe__tpe_parzen_free(&g);
}

static void test_parzen_bandwidth_options(void **state) {
    (void)state;
    loupe_distribution dx = {.kind = LOUPE_DIST_FLOAT, .low = 0, .high = 10};
    const loupe_distribution *space[] = {&dx};
    double obs[] = {5, 1, 2}; /* unsorted: sigmas map back to input order */
    double w[] = {1, 1, 1};
    loupe__tpe_parzen pe;

    /* consider_endpoints: raw neighbour distances [1, 3, 5] -> clip to >= 2 */
    loupe__tpe_pe_params p = default_params();
    p.consider_endpoints = 1;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, obs, 3, w, &p), LOUPE_OK);
    assert_close(pe.dims[0].sigma[0], 5, 1e-12); /* 5: max(3, 5) */
    assert_close(pe.dims[0].sigma[1], 2, 1e-12); /* 1: max(1, 1) clipped up to 2 */
    assert_close(pe.dims[0].sigma[2], 3, 1e-12); /* 2: max(1, 3) */
    loupe__tpe_parzen_free(&pe);

    /* no magic clip: minsigma is 1e-12 */
    p = default_params();
    p.consider_magic_clip = 0;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, obs, 3, w, &p), LOUPE_OK);
    assert_close(pe.dims[0].sigma[0], 3, 1e-12);
    assert_close(pe.dims[0].sigma[1], 1, 1e-12);
    assert_close(pe.dims[0].sigma[2], 3, 1e-12);
    assert_close(pe.dims[0].sigma[3], 10, 1e-12);
    loupe__tpe_parzen_free(&pe);

    /* one observation: sigma = max(mu - low, high - mu), no endpoint rule */
    p = default_params();
    double one[] = {2};
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, one, 1, w, &p), LOUPE_OK);
    assert_int_equal(pe.n_kernels, 2);
    assert_close(pe.dims[0].sigma[0], 8, 1e-12);
    loupe__tpe_parzen_free(&pe);

    /* no observations: only the prior */
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, NULL, 0, NULL, &p), LOUPE_OK);
    assert_int_equal(pe.n_kernels, 1);
    assert_close(pe.weights[0], 1, 0);
    assert_close(pe.dims[0].mu[0], 5, 0);
    assert_close(pe.dims[0].sigma[0], 10, 0);
    loupe__tpe_parzen_free(&pe);

    /* magic clip with many kernels: min(100, 1 + n_kernels) caps at 100 */
    double many[150], wm[150];
    for (int i = 0; i < 150; i++) {
        many[i] = 5.0 + 1e-6 * i;
        wm[i] = 1;
    }
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, many, 150, wm, &p), LOUPE_OK);
    assert_close(pe.dims[0].sigma[10], 0.1, 1e-12);
    loupe__tpe_parzen_free(&pe);

    /* negative prior weight is refused */
    p.prior_weight = -1;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 1, obs, 3, w, &p), LOUPE_EINVAL);
    loupe__tpe_parzen_free(&pe);
}

static void test_parzen_prior_options(void **state) {
    (void)state;
    loupe_distribution dx = {.kind = LOUPE_DIST_FLOAT, .low = 0, .high = 10};
    loupe_distribution dc = {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 3, .choices = abc};
    const loupe_distribution *space[] = {&dx, &dc};
    double obs[] = {1, 0, /**/ 2, 0, /**/ 5, 2};
    double w[] = {1, 2, 1};
    loupe__tpe_parzen pe;

    /* prior_weight 2: mixture [1, 2, 1, 2] / 6; categorical base 2/4 */
    loupe__tpe_pe_params p = default_params();
    p.prior_weight = 2;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 2, obs, 3, w, &p), LOUPE_OK);
    assert_close(pe.weights[0], 1. / 6, 1e-15);
    assert_close(pe.weights[1], 2. / 6, 1e-15);
    assert_close(pe.weights[3], 2. / 6, 1e-15);
    assert_close(pe.dims[1].probs[0], 1.5 / 2.5, 1e-15);
    assert_close(pe.dims[1].probs[1], 0.5 / 2.5, 1e-15);
    loupe__tpe_parzen_free(&pe);

    /* prior_weight 0: the prior kernel has weight 0, its categorical row is zero */
    p.prior_weight = 0;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 2, obs, 3, w, &p), LOUPE_OK);
    assert_close(pe.weights[3], 0, 0);
    assert_close(pe.dims[1].probs[0], 1, 0);
    assert_close(pe.dims[1].probs[3 * 3 + 1], 0, 0);
    double pt[] = {1.0, 1}; /* choice "b" was never observed: probability 0 */
    double lp;
    loupe__tpe_parzen_log_pdf(&pe, pt, 1, &lp);
    assert_true(lp == -INFINITY);
    loupe__rng rng;
    loupe__rng_seed(&rng, 1);
    double smp[100 * 2];
    loupe__tpe_parzen_sample(&pe, &rng, 100, smp);
    for (int i = 0; i < 100; i++) assert_true(smp[i * 2 + 1] != 1);
    loupe__tpe_parzen_free(&pe);

    /* consider_prior 0 (Optuna 3.1): no prior kernel, minsigma uses 1 + N */
    p = default_params();
    p.consider_prior = 0;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 2, obs, 3, w, &p), LOUPE_OK);
    assert_int_equal(pe.n_kernels, 3);
    assert_close(pe.weights[1], 0.5, 1e-15);
    assert_close(pe.dims[0].sigma[0], 10.0 / 4, 1e-12); /* raw 1 clipped to 10/(1+3) */
    assert_close(pe.dims[1].probs[0], (1 + 1. / 3) / 2, 1e-15);
    loupe__tpe_parzen_free(&pe);
    /* ... but with no observations the prior is still used */
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 2, NULL, 0, NULL, &p), LOUPE_OK);
    assert_int_equal(pe.n_kernels, 1);
    assert_close(pe.dims[1].probs[2], 1. / 3, 1e-15);
    loupe__tpe_parzen_free(&pe);
}

static void test_parzen_step_and_log(void **state) {
    (void)state;
    /* float with step 0.5 on [0, 2]: kernel space [-0.25, 2.25]; samples on the grid */
    loupe_distribution ds = {.kind = LOUPE_DIST_FLOAT, .low = 0, .high = 2, .step = 0.5};
    loupe_distribution dl = {.kind = LOUPE_DIST_FLOAT, .low = 1e-3, .high = 1e3, .log = 1};
    loupe_distribution di = {.kind = LOUPE_DIST_INT, .low = -3, .high = 9, .step = 3};
    const loupe_distribution *space[] = {&ds, &dl, &di};
    double obs[] = {0.5, 0.01, 0, /**/ 1.5, 10, 6};
    double w[] = {1, 1};
    loupe__tpe_pe_params p = default_params();
    loupe__tpe_parzen pe;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 3, obs, 2, w, &p), LOUPE_OK);
    assert_close(pe.dims[0].alow, -0.25, 0);
    assert_close(pe.dims[0].ahigh, 2.25, 0);
    assert_close(pe.dims[1].alow, log(1e-3), 1e-15);
    assert_close(pe.dims[1].mu[1], log(10), 1e-15);
    assert_close(pe.dims[2].alow, -4.5, 0);
    assert_close(pe.dims[2].ahigh, 10.5, 0);
    /* the grid probabilities of each kernel sum to 1 */
    double total = 0;
    for (int v = 0; v <= 4; v++) {
        double pt[] = {v * 0.5, 1.0, 3};
        double lp;
        loupe__tpe_parzen_log_pdf(&pe, pt, 1, &lp);
        total += exp(lp);
    }
    /* marginal over dim 0 at fixed others is p(x1, x2) summed: compare with a
     * one-dimensional estimator instead */
    (void)total;
    const loupe_distribution *s1[] = {&ds};
    double o1[] = {0.5, 1.5};
    loupe__tpe_parzen p1;
    assert_int_equal(loupe__tpe_parzen_build(&p1, s1, 1, o1, 2, w, &p), LOUPE_OK);
    double sum = 0;
    for (int v = 0; v <= 4; v++) {
        double x = v * 0.5, lp;
        loupe__tpe_parzen_log_pdf(&p1, &x, 1, &lp);
        sum += exp(lp);
    }
    assert_close(sum, 1.0, 1e-12);
    loupe__tpe_parzen_free(&p1);

    loupe__rng rng;
    loupe__rng_seed(&rng, 7);
    double smp[500 * 3];
    loupe__tpe_parzen_sample(&pe, &rng, 500, smp);
    for (int i = 0; i < 500; i++) {
        double a = smp[i * 3], b = smp[i * 3 + 1], c = smp[i * 3 + 2];
        assert_true(a >= 0 && a <= 2 && fmod(a, 0.5) == 0);
        assert_true(b >= 1e-3 && b <= 1e3);
        assert_true(c >= -3 && c <= 9 && fmod(c + 3, 3) == 0);
    }
    loupe__tpe_parzen_free(&pe);
}

/* Sampling follows the mixture: with a narrow below set most samples land near it. */
static void test_parzen_sampling_distribution(void **state) {
    (void)state;
    loupe_distribution dx = {.kind = LOUPE_DIST_FLOAT, .low = -10, .high = 10};
    loupe_distribution dc = {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = 3, .choices = abc};
    const loupe_distribution *space[] = {&dx, &dc};
    double obs[20 * 2], w[20];
    for (int i = 0; i < 20; i++) {
        obs[i * 2] = 3.0 + 0.01 * i;
        obs[i * 2 + 1] = 2;
        w[i] = 1;
    }
    loupe__tpe_pe_params p = default_params();
    loupe__tpe_parzen pe;
    assert_int_equal(loupe__tpe_parzen_build(&pe, space, 2, obs, 20, w, &p), LOUPE_OK);
    loupe__rng rng;
    loupe__rng_seed(&rng, 3);
    enum { N = 4000 };
    static double smp[N * 2];
    loupe__tpe_parzen_sample(&pe, &rng, N, smp);
    int near = 0, c2 = 0;
    for (int i = 0; i < N; i++) {
        if (fabs(smp[i * 2] - 3.1) < 1.5) near++;
        if (smp[i * 2 + 1] == 2) c2++;
    }
    /* 20 of 21 kernels sit at ~3.1 with sigma 20/22; the prior spreads the rest */
    assert_true(near > N * 0.8);
    /* choice 2 probability: 20/21 * (1 + 1/21)/(1 + 3/21) + 1/21 * 1/3 = 0.889 */
    double expect = 20. / 21 * (1 + 1. / 21) / (1 + 3. / 21) + 1. / 21 / 3;
    assert_close((double)c2 / N, expect, 0.03);
    loupe__tpe_parzen_free(&pe);
}

/* ------------------------------------------------------------ multi-objective */

static void test_nondomination_rank(void **state) {
    (void)state;
    /* 2 objectives: front {0,1,2}, then {3,4}, then {5}; 6 duplicates 0 */
    double pts[] = {1, 5, 2, 3, 4, 1, 2, 6, 5, 3, 6, 7, 1, 5};
    size_t r[7];
    assert_int_equal(loupe__tpe_nondomination_rank(pts, 7, 2, 0, r), LOUPE_OK);
    size_t expect[] = {0, 0, 0, 1, 1, 2, 0};
    for (int i = 0; i < 7; i++) assert_int_equal(r[i], expect[i]);
    /* stop after 3 distinct points are ranked: the rest share rank 1 */
    assert_int_equal(loupe__tpe_nondomination_rank(pts, 7, 2, 2, r), LOUPE_OK);
    size_t expect2[] = {0, 0, 0, 1, 1, 1, 0};
    for (int i = 0; i < 7; i++) assert_int_equal(r[i], expect2[i]);
    /* 3 objectives */
    double p3[] = {1, 1, 1, 0, 2, 2, 2, 2, 2, 2, 0, 3};
    size_t r3[4];
    assert_int_equal(loupe__tpe_nondomination_rank(p3, 4, 3, 0, r3), LOUPE_OK);
    assert_int_equal(r3[0], 0);
    assert_int_equal(r3[1], 0);
    assert_int_equal(r3[2], 1);
    assert_int_equal(r3[3], 0);
}

/* Exact hypervolume of boxes by inclusion-exclusion over all subsets. */
static double hv_brute(const double *pts, size_t n, size_t m, const double *ref) {
    double total = 0;
    for (unsigned mask = 1; mask < (1u << n); mask++) {
        double v = 1;
        int bits = 0;
        for (size_t t = 0; t < m; t++) {
            double hi = -INFINITY;
            for (size_t i = 0; i < n; i++)
                if (mask & (1u << i)) hi = fmax(hi, pts[i * m + t]);
            v *= ref[t] - hi;
        }
        for (size_t i = 0; i < n; i++) bits += (mask >> i) & 1;
        total += (bits & 1) ? v : -v;
    }
    return total;
}

static void test_hypervolume(void **state) {
    (void)state;
    double p2[] = {1, 3, 2, 2, 3, 1, 2.5, 2.5};
    double r2[] = {4, 4};
    double hv;
    assert_int_equal(loupe__tpe_hypervolume(p2, 4, 2, r2, &hv), LOUPE_OK);
    assert_close(hv, 6, 1e-12);
    loupe__rng rng;
    loupe__rng_seed(&rng, 11);
    for (size_t m = 2; m <= 5; m++) {
        for (int rep = 0; rep < 20; rep++) {
            double pts[10 * 5], ref[5];
            size_t n = 1 + loupe__rng_below(&rng, 10);
            for (size_t i = 0; i < n * m; i++) pts[i] = floor(loupe__rng_uniform(&rng) * 5) / 4;
            for (size_t t = 0; t < m; t++) ref[t] = 1.5;
            assert_int_equal(loupe__tpe_hypervolume(pts, n, m, ref, &hv), LOUPE_OK);
            assert_close(hv, hv_brute(pts, n, m, ref), 1e-9);
        }
    }
    double rinf[] = {INFINITY, 1};
    assert_int_equal(loupe__tpe_hypervolume(p2, 4, 2, rinf, &hv), LOUPE_OK);
    assert_true(isinf(hv));
    double ref[3];
    double l[] = {-2, 0, 3, -1, 0, 5};
    loupe__tpe_reference_point(l, 2, 3, ref);
    assert_close(ref[0], -0.9, 1e-15); /* max(1.1*-1, 0.9*-1) */
    assert_close(ref[1], 1e-12, 0);    /* 0 -> EPS */
    assert_close(ref[2], 5.5, 1e-15);
}

/* Plain greedy HSSP over distinct points in lexicographic order (first index on ties). */
static void greedy_ref(const double *pts, size_t n, size_t m, size_t k, const double *ref,
                       int *chosen) {
    double sel[64 * 5];
    size_t ns = 0;
    memset(chosen, 0, n * sizeof *chosen);
    for (size_t s = 0; s < k; s++) {
        double best = -1;
        size_t bi = 0;
        for (size_t i = 0; i < n; i++) {
            if (chosen[i]) continue;
            memcpy(&sel[ns * m], &pts[i * m], m * sizeof(double));
            double hv;
            loupe__tpe_hypervolume(sel, ns + 1, m, ref, &hv);
            if (hv > best + 1e-12) {
                best = hv;
                bi = i;
            }
        }
        chosen[bi] = 1;
        memcpy(&sel[ns++ * m], &pts[bi * m], m * sizeof(double));
    }
}

static int lexcmp(const void *a, const void *b, size_t m) {
    const double *x = a, *y = b;
    for (size_t t = 0; t < m; t++) {
        if (x[t] < y[t]) return -1;
        if (x[t] > y[t]) return 1;
    }
    return 0;
}

static void test_hssp(void **state) {
    (void)state;
    loupe__rng rng;
    loupe__rng_seed(&rng, 5);
    for (size_t m = 2; m <= 4; m++) {
        for (int rep = 0; rep < 30; rep++) {
            size_t n = 4 + loupe__rng_below(&rng, 10);
            double pts[14 * 4], ref[4];
            /* distinct points on a front-ish surface, lexicographically sorted */
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t t = 0; t < m; t++) s += (pts[i * m + t] = loupe__rng_uniform(&rng));
                for (size_t t = 0; t < m; t++) pts[i * m + t] /= s;
            }
            for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && lexcmp(&pts[(j - 1) * m], &pts[j * m], m) > 0; j--)
                    for (size_t t = 0; t < m; t++) {
                        double tmp = pts[j * m + t];
                        pts[j * m + t] = pts[(j - 1) * m + t];
                        pts[(j - 1) * m + t] = tmp;
                    }
            loupe__tpe_reference_point(pts, n, m, ref);
            size_t ids[14], out[14];
            for (size_t i = 0; i < n; i++) ids[i] = 100 + i;
            size_t k = 1 + loupe__rng_below(&rng, n - 1);
            assert_int_equal(loupe__tpe_hssp(pts, ids, n, m, k, ref, out), LOUPE_OK);
            int expect[14];
            greedy_ref(pts, n, m, k, ref, expect);
            int got[14] = {0};
            for (size_t s = 0; s < k; s++) got[out[s] - 100] = 1;
            for (size_t i = 0; i < n; i++) assert_int_equal(got[i], expect[i]);
        }
    }
    /* duplicates: fewer distinct points than k -> distinct first, then duplicates in order */
    double dup[] = {1, 2, 1, 2, 2, 1, 1, 2};
    size_t ids[] = {10, 11, 12, 13}, out[4];
    double ref[] = {3, 3};
    assert_int_equal(loupe__tpe_hssp(dup, ids, 4, 2, 3, ref, out), LOUPE_OK);
    assert_int_equal(out[0], 10);
    assert_int_equal(out[1], 11);
    assert_int_equal(out[2], 12);
    /* non-finite reference point: the first k distinct points (lexicographic) */
    double bad[] = {INFINITY, 3};
    double pts[] = {3, 1, 1, 3, 2, 2};
    size_t ids3[] = {0, 1, 2};
    assert_int_equal(loupe__tpe_hssp(pts, ids3, 3, 2, 2, bad, out), LOUPE_OK);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 2);
    /* k == n: all */
    assert_int_equal(loupe__tpe_hssp(pts, ids3, 3, 2, 3, ref, out), LOUPE_OK);
    assert_int_equal(out[2], 2);
    /* 2-D: the knee point has the largest box with ref (4,4): (2,2) -> 4 */
    double knee[] = {1, 3.5, 2, 2, 3.5, 1};
    double r4[] = {4, 4};
    assert_int_equal(loupe__tpe_hssp(knee, ids3, 3, 2, 1, r4, out), LOUPE_OK);
    assert_int_equal(out[0], 1);
}

static void test_select_below_mo(void **state) {
    (void)state;
    /* fronts: {0,1,2} then {3,4}; n_below 4 -> front 0 plus one of front 1 by HSSP */
    double pts[] = {1, 5, 2, 3, 4, 1, 2, 6, 5, 3.5};
    unsigned char b[5];
    assert_int_equal(loupe__tpe_select_below_mo(pts, 5, 2, 4, b), LOUPE_OK);
    assert_int_equal(b[0] + b[1] + b[2], 3);
    assert_int_equal(b[3] + b[4], 1);
    /* front 1 = (2,6),(5,3.5), ref = (5.5, 6.6): boxes 3.5*0.6=2.1 and 0.5*3.1=1.55 */
    assert_int_equal(b[3], 1);
    assert_int_equal(loupe__tpe_select_below_mo(pts, 5, 2, 0, b), LOUPE_OK);
    assert_int_equal(b[0] + b[1] + b[2] + b[3] + b[4], 0);
    assert_int_equal(loupe__tpe_select_below_mo(pts, 5, 2, 5, b), LOUPE_OK);
    assert_int_equal(b[0] + b[1] + b[2] + b[3] + b[4], 5);
    assert_int_equal(loupe__tpe_select_below_mo(pts, 5, 2, 3, b), LOUPE_OK);
    assert_int_equal(b[0] + b[1] + b[2], 3);
}

/* ------------------------------------------------------------ split */

static loupe__tpe_rec mkrec(int64_t number, loupe_trial_state st, double v) {
    loupe__tpe_rec r;
    memset(&r, 0, sizeof r);
    r.number = number;
    r.state = st;
    if (st == LOUPE_COMPLETE) {
        r.values = malloc(sizeof(double));
        r.values[0] = v;
        r.n_values = 1;
    }
    return r;
}

static void test_split_single(void **state) {
    (void)state;
    loupe__tpe_rec r[9];
    r[0] = mkrec(0, LOUPE_COMPLETE, 3);
    r[1] = mkrec(1, LOUPE_COMPLETE, 1);
    r[2] = mkrec(2, LOUPE_COMPLETE, 1); /* tie with 1: the earlier number wins */
    r[3] = mkrec(3, LOUPE_RUNNING, 0);
    r[4] = mkrec(4, LOUPE_PRUNED, 0);
    r[4].has_intermediate = 1;
    r[4].last_step = 5;
    r[4].last_value = 9;
    r[5] = mkrec(5, LOUPE_PRUNED, 0);
    r[5].has_intermediate = 1;
    r[5].last_step = 7;
    r[5].last_value = 20;
    r[6] = mkrec(6, LOUPE_PRUNED, 0); /* no intermediate values: worst */
    r[7] = mkrec(7, LOUPE_COMPLETE, -5);
    r[7].infeasible = 2.0;
    r[8] = mkrec(8, LOUPE_COMPLETE, 0.5);
    r[8].infeasible = 1.0;
    const loupe__tpe_rec *in[9];
    /* shuffled input order: the result must not depend on it */
    int order[] = {8, 3, 0, 6, 2, 7, 1, 5, 4};
    for (int i = 0; i < 9; i++) in[i] = &r[order[i]];
    const loupe__tpe_rec *below[9], *above[9];
    size_t nb, na;
    loupe_direction dmin = LOUPE_MINIMIZE, dmax = LOUPE_MAXIMIZE;

    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmin, 2, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(nb, 2);
    assert_int_equal(below[0]->number, 1);
    assert_int_equal(below[1]->number, 2);
    assert_int_equal(na, 7);
    for (size_t i = 1; i < na; i++) assert_true(above[i - 1]->number < above[i]->number);

    /* n_below 5: 3 complete, then pruned by depth (5 before 4), then none left */
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmin, 5, below, &nb, above, &na), LOUPE_OK);
    int64_t e5[] = {0, 1, 2, 4, 5};
    assert_int_equal(nb, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(below[i]->number, e5[i]);

    /* n_below 7: all feasible complete + pruned, then the least infeasible (8) */
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmin, 7, below, &nb, above, &na), LOUPE_OK);
    int64_t e7[] = {0, 1, 2, 4, 5, 6, 8};
    assert_int_equal(nb, 7);
    for (int i = 0; i < 7; i++) assert_int_equal(below[i]->number, e7[i]);
    assert_int_equal(na, 2);
    assert_int_equal(above[0]->number, 3); /* running is always above */
    assert_int_equal(above[1]->number, 7);

    /* more than available: everything but running */
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmin, 100, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(nb, 8);
    assert_int_equal(na, 1);

    /* maximize: the largest value first; ties keep number order */
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmax, 1, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(below[0]->number, 0);
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmax, 3, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(below[2]->number, 2);
    /* maximize and pruned: deeper first, then the larger value; equal depth -> larger */
    r[4].last_step = 7;
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmax, 4, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(below[3]->number, 5);
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmin, 4, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(below[3]->number, 4);
    /* NaN intermediate ranks last among equal depth */
    r[4].last_value = NAN;
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmin, 4, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(below[3]->number, 5);
    assert_int_equal(loupe__tpe_split(in, 9, 1, &dmin, 0, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(nb, 0);
    assert_int_equal(na, 9);
    for (int i = 0; i < 9; i++) loupe__tpe_rec_free(&r[i]);
}

static void test_split_multi(void **state) {
    (void)state;
    loupe__tpe_rec r[5];
    double vals[5][2] = {{1, -5}, {2, -3}, {4, -1}, {2, -6}, {5, -3.5}}; /* obj 1 maximized */
    for (int i = 0; i < 5; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].number = i;
        r[i].state = LOUPE_COMPLETE;
        r[i].n_values = 2;
        r[i].values = malloc(2 * sizeof(double));
        r[i].values[0] = vals[i][0];
        r[i].values[1] = vals[i][1];
    }
    const loupe__tpe_rec *in[5] = {&r[0], &r[1], &r[2], &r[3], &r[4]};
    const loupe__tpe_rec *below[5], *above[5];
    size_t nb, na;
    loupe_direction dirs[] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    /* losses = (1,5),(2,3),(4,1),(2,6),(5,3.5): same as test_select_below_mo */
    assert_int_equal(loupe__tpe_split(in, 5, 2, dirs, 4, below, &nb, above, &na), LOUPE_OK);
    assert_int_equal(nb, 4);
    assert_int_equal(na, 1);
    assert_int_equal(above[0]->number, 4);
    for (int i = 0; i < 5; i++) loupe__tpe_rec_free(&r[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_ndtr),
        cmocka_unit_test(test_log_gauss_mass),
        cmocka_unit_test(test_ndtri_exp),
        cmocka_unit_test(test_truncnorm_ppf),
        cmocka_unit_test(test_truncnorm_logpdf),
        cmocka_unit_test(test_default_gamma_and_weights),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_check_weights),
        cmocka_unit_test(test_parzen_worked_example),
        cmocka_unit_test(test_parzen_matches_optuna_head),
        cmocka_unit_test(test_parzen_optuna31_rules),
        cmocka_unit_test(test_parzen_acquisition_argmax),
        cmocka_unit_test(test_parzen_bandwidth_options),
        cmocka_unit_test(test_parzen_prior_options),
        cmocka_unit_test(test_parzen_step_and_log),
        cmocka_unit_test(test_parzen_sampling_distribution),
        cmocka_unit_test(test_nondomination_rank),
        cmocka_unit_test(test_hypervolume),
        cmocka_unit_test(test_hssp),
        cmocka_unit_test(test_select_below_mo),
        cmocka_unit_test(test_split_single),
        cmocka_unit_test(test_split_multi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
