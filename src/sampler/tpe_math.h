/*
 * tpe_math.h -- the standard-normal numerics TPE needs: log Phi, the log mass of
 * an interval, the inverse of log Phi, and the truncated normal's quantile and
 * log density. Everything works in the log domain so that kernels far from the
 * search range (the tails) keep full relative precision, as Optuna's _truncnorm.
 *
 * Arguments a, b are standardized bounds ((bound - loc) / scale), a < b.
 */
#ifndef LOUPE_SAMPLER_TPE_MATH_H
#define LOUPE_SAMPLER_TPE_MATH_H

/* log(Phi(a)), Phi the standard normal CDF; accurate in both tails. */
double loupe__tpe_log_ndtr(double a);
/* Phi(a). */
double loupe__tpe_ndtr(double a);
/* log(Phi(b) - Phi(a)) for a <= b (-inf when a == b). */
double loupe__tpe_log_gauss_mass(double a, double b);
/* The x with log(Phi(x)) == y, for y <= 0 (y == 0 gives +inf, -inf gives -inf). */
double loupe__tpe_ndtri_exp(double y);
/* log(exp(p) + exp(q)) without overflow. */
double loupe__tpe_logaddexp(double p, double q);
/* Quantile q in [0, 1] of the standard normal truncated to [a, b], with
 * log_mass = loupe__tpe_log_gauss_mass(a, b) precomputed. The result is kept
 * inside [a, b]. */
double loupe__tpe_truncnorm_ppf(double q, double a, double b, double log_mass);
/* log density at x of N(loc, scale^2) truncated to [a*scale+loc, b*scale+loc];
 * -inf outside. log_mass as above. */
double loupe__tpe_truncnorm_logpdf(double x, double a, double b, double loc, double scale,
                                   double log_mass);

#endif
