/*
 * tpe_parzen.h -- Optuna's Parzen estimator for TPE: a mixture over kernels of
 * products of one-dimensional kernels (truncated normal, discretized truncated
 * normal, or categorical rows), built from observations plus a prior kernel;
 * sampling from it and its log density. Pure computation: no study access.
 */
#ifndef LOUPE_SAMPLER_TPE_PARZEN_H
#define LOUPE_SAMPLER_TPE_PARZEN_H

#include <stddef.h>

#include "loupe.h"
#include "util/rng.h"

/* The estimator's settings (Optuna's _ParzenEstimatorParameters). */
typedef struct loupe__tpe_pe_params {
    double prior_weight;     /* >= 0 */
    int consider_prior;      /* 0 reproduces Optuna 3.1's "no prior kernel" (kept when N == 0) */
    int consider_magic_clip; /* lower-bound the bandwidths by range / min(100, 1 + kernels) */
    int consider_endpoints;  /* keep the domain edges in the outermost bandwidths */
    /* Optuna 3.1 rules (loupe_tpe_options.rules == LOUPE_TPE_RULES_OPTUNA_3_1): */
    int prior_in_bandwidth; /* the prior's center is a neighbour in the bandwidth rule */
    int scott_rule;         /* every bandwidth is 0.2 * max(N,1)^(-1/(D+4)) * range */
    int int_log_continuous; /* int log: continuous kernel in log space, then round(exp) */
    int no_log_sigma;       /* continuous densities lack the -log(sigma) term (Optuna < 3.5) */
} loupe__tpe_pe_params;

/* One dimension: per-kernel parameters. */
typedef struct loupe__tpe_kdim {
    int categorical;
    /* numerical (float or int) */
    int is_log;
    int round_exp;      /* sampled values are rounded to integers (Optuna 3.1 int log) */
    double step;        /* 0 for a continuous kernel */
    double low, high;   /* the distribution's bounds */
    double alow, ahigh; /* bounds in the kernel space: half-step widened, then logged */
    double *mu, *sigma; /* n_kernels each, in the kernel space */
    double *a, *b;      /* standardized bounds per kernel: (alow - mu) / sigma, ... */
    double *log_mass;   /* log of each kernel's mass on [a, b] */
    double *log_norm;   /* continuous: -log(sigma) - log_mass - log(sqrt(2 pi)) */
    /* categorical */
    size_t n_choices;
    double *probs;     /* n_kernels rows of n_choices */
    double *log_probs; /* their logs */
} loupe__tpe_kdim;

typedef struct loupe__tpe_parzen {
    size_t n_dims;
    size_t n_kernels;
    size_t n_obs;
    double *weights; /* normalized mixture weights; the prior is the last kernel */
    double *log_weights;
    loupe__tpe_kdim *dims;
} loupe__tpe_parzen;

/*
 * Builds an estimator over the search space space[0..n_dims-1] (no single-value
 * distributions) from n_obs observations obs (row-major n_obs x n_dims internal
 * values: float, int as double, categorical index) with observation weights
 * obs_weights (n_obs values, validated by loupe__tpe_check_weights; unused when
 * n_obs is 0). *pe is overwritten; free it with loupe__tpe_parzen_free, also
 * after a failure. Returns LOUPE_OK, LOUPE_EINVAL (negative prior_weight) or
 * LOUPE_ENOMEM.
 */
int loupe__tpe_parzen_build(loupe__tpe_parzen *pe, const loupe_distribution *const *space,
                            size_t n_dims, const double *obs, size_t n_obs,
                            const double *obs_weights, const loupe__tpe_pe_params *params);
void loupe__tpe_parzen_free(loupe__tpe_parzen *pe);

/* Draws n samples (row-major n x n_dims, internal values) in Optuna's order of
 * random draws: kernel indices, then each categorical dimension, then the
 * quantiles of all numerical dimensions. LOUPE_ENOMEM on allocation failure. */
int loupe__tpe_parzen_sample(const loupe__tpe_parzen *pe, loupe__rng *rng, size_t n, double *out);

/* log p(x) for n points x (row-major n x n_dims) into out[n]. */
int loupe__tpe_parzen_log_pdf(const loupe__tpe_parzen *pe, const double *x, size_t n, double *out);

/* Validates observation weights as Optuna does: none negative, not all zero
 * (when n > 0), all finite. On error writes a message into err. */
int loupe__tpe_check_weights(const double *w, size_t n, char *err, size_t errcap);

#endif
