/*
 * tpe_math.c -- standard-normal numerics for TPE's truncated-normal kernels
 * (see tpe_math.h). The left tail is the accurate side of log Phi, so right-tail
 * quantities are computed by symmetry, as Optuna's _truncnorm (after SciPy) does.
 * Phi comes from the C library's erfc, which keeps relative precision down to
 * ~1e-308; beyond that an asymptotic series takes over.
 */
#include "sampler/tpe_math.h"

#include <float.h>
#include <math.h>

#define SQRT1_2 0.70710678118654752440
#define LOG_SQRT_2PI 0.91893853320467274178 /* log(sqrt(2*pi)) */
#define SQRT3_OVER_PI 0.55132889542179204315

double loupe__tpe_ndtr(double a) { return 0.5 * erfc(-a * SQRT1_2); }

double loupe__tpe_log_ndtr(double a) {
    if (isnan(a)) return a;
    /* Phi > 1/2: log1p of the (small) upper tail keeps full relative precision */
    if (a > 0.0) return log1p(-0.5 * erfc(a * SQRT1_2));
    if (a > -20.0) return log(0.5 * erfc(-a * SQRT1_2));
    if (isinf(a)) return -INFINITY;
    /* Asymptotic expansion of the Mills ratio:
     * Phi(a) = phi(a)/(-a) * (1 - 1/a^2 + 1*3/a^4 - 1*3*5/a^6 + ...). For
     * a <= -20 the terms shrink fast; stop when they no longer change the sum. */
    double log_lhs = -0.5 * a * a - log(-a) - LOG_SQRT_2PI;
    double inv_a2 = 1.0 / (a * a);
    double sum = 1.0, term = 1.0;
    for (int i = 1; i < 100; i++) {
        term *= -(2.0 * i - 1.0) * inv_a2;
        double next = sum + term;
        if (next == sum) break;
        sum = next;
    }
    return log_lhs + log(sum);
}

/* log(exp(lp) - exp(lq)) for lq <= lp. */
static double log_diff(double lp, double lq) {
    if (lq == -INFINITY) return lp;
    return lp + log1p(-exp(lq - lp));
}

double loupe__tpe_log_gauss_mass(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (!(a < b)) return -INFINITY;
    if (b <= 0.0) return log_diff(loupe__tpe_log_ndtr(b), loupe__tpe_log_ndtr(a));
    if (a > 0.0) return log_diff(loupe__tpe_log_ndtr(-a), loupe__tpe_log_ndtr(-b));
    /* The interval holds 0: one minus both tails has no cancellation problem. */
    return log1p(-loupe__tpe_ndtr(a) - loupe__tpe_ndtr(-b));
}

double loupe__tpe_logaddexp(double p, double q) {
    if (isnan(p) || isnan(q)) return NAN;
    if (p == -INFINITY) return q;
    if (q == -INFINITY) return p;
    double m = p > q ? p : q;
    if (isinf(m)) return m;
    return m + log1p(exp(-fabs(p - q)));
}

double loupe__tpe_ndtri_exp(double y) {
    if (isnan(y)) return y;
    if (y >= 0.0) return INFINITY;
    if (y == -INFINITY) return -INFINITY;
    /* Near y = 0 the root is far in the right tail, where log Phi is flat; solve
     * for the mirrored point in the left tail instead: log Phi(-x) = log(1 - e^y). */
    int flipped = y > -1e-2;
    double z = flipped ? log(-expm1(y)) : y;
    double x;
    if (z < -5.0)
        x = -sqrt(-2.0 * (z + LOG_SQRT_2PI)); /* Gaussian tail, log term dropped */
    else
        x = -SQRT3_OVER_PI * log(expm1(-z)); /* logistic approximation of Phi */
    /* Newton on f(x) = log Phi(x) - z, f'(x) = phi(x) / Phi(x). f is increasing
     * and concave, so the iteration converges from either side. */
    for (int it = 0; it < 100; it++) {
        double lnd = loupe__tpe_log_ndtr(x);
        double log_pdf = -0.5 * x * x - LOG_SQRT_2PI;
        double dx = (lnd - z) * exp(lnd - log_pdf);
        if (!isfinite(dx)) break;
        x -= dx;
        if (fabs(dx) <= 1e-8 * fabs(x) + 1e-14) break; /* the next error is ~dx^2 */
    }
    return flipped ? -x : x;
}

double loupe__tpe_truncnorm_ppf(double q, double a, double b, double log_mass) {
    double x;
    if (q <= 0.0) return a;
    if (q >= 1.0) return b;
    if (a < 0.0) {
        /* Phi(x) = Phi(a) + q * mass, in logs. */
        double lp = loupe__tpe_logaddexp(loupe__tpe_log_ndtr(a), log(q) + log_mass);
        x = loupe__tpe_ndtri_exp(lp);
    } else {
        /* Mirror to the left tail: Phi(-x) = Phi(-b) + (1 - q) * mass. */
        double lp = loupe__tpe_logaddexp(loupe__tpe_log_ndtr(-b), log1p(-q) + log_mass);
        x = -loupe__tpe_ndtri_exp(lp);
    }
    /* Rounding can put the root an ulp outside; the kernel lives on [a, b]. */
    if (x < a) x = a;
    if (x > b) x = b;
    return x;
}

double loupe__tpe_truncnorm_logpdf(double x, double a, double b, double loc, double scale,
                                   double log_mass) {
    double z = (x - loc) / scale;
    if (isnan(z)) return NAN;
    if (z < a || z > b) return -INFINITY;
    return -0.5 * z * z - LOG_SQRT_2PI - log_mass - log(scale);
}
