/*
 * tpe_defaults.c -- Optuna's default gamma and weights functions for TPE, and
 * the TPE options' defaults and validation (public API, see loupe.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "loupe.h"

int64_t loupe_tpe_default_gamma(size_t n, void *user_data) {
    (void)user_data;
    /* ceil of the double product 0.1 * n, as Python computes it */
    double g = ceil(0.1 * (double)n);
    return g < 25.0 ? (int64_t)g : 25;
}

int64_t loupe_tpe_default_gamma_multiobjective(size_t n, void *user_data) {
    (void)user_data;
    return (int64_t)ceil(0.1 * (double)n);
}

int64_t loupe_tpe_hyperopt_default_gamma(size_t n, void *user_data) {
    (void)user_data;
    double g = ceil(0.25 * pow((double)n, 0.5));
    return g < 25.0 ? (int64_t)g : 25;
}

int loupe_tpe_default_weights(size_t n, double *out, void *user_data) {
    (void)user_data;
    if (n < 25) {
        for (size_t i = 0; i < n; i++) out[i] = 1.0;
        return 0;
    }
    /* numpy.linspace(1/n, 1, n - 25): start + i * step, the last exactly 1 */
    size_t num = n - 25;
    double start = 1.0 / (double)n;
    if (num == 1) {
        out[0] = start;
    } else if (num > 1) {
        double step = (1.0 - start) / (double)(num - 1);
        for (size_t i = 0; i < num; i++) out[i] = start + (double)i * step;
        out[num - 1] = 1.0;
    }
    for (size_t i = num; i < n; i++) out[i] = 1.0;
    return 0;
}

void loupe_tpe_options_init(loupe_tpe_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->n_startup_trials = 10;
    opts->n_ei_candidates = 24;
    opts->has_seed = 0;
    opts->seed = 0;
    opts->multivariate = LOUPE_TPE_AUTO;
    opts->group = 0;
    opts->constant_liar = 1;
    opts->consider_prior = 1;
    opts->prior_weight = 1.0;
    opts->consider_magic_clip = 1;
    opts->consider_endpoints = 0;
    opts->warn_independent_sampling = 0;
    opts->rules = LOUPE_TPE_RULES_OPTUNA_5;
}

int loupe_tpe_options_check(const loupe_tpe_options *o, char *err, size_t errcap) {
    char dummy[1];
    if (!err || errcap == 0) {
        err = dummy;
        errcap = sizeof dummy;
    }
    err[0] = '\0';
    if (!o) return LOUPE_OK;
    if (o->n_startup_trials < 0) {
        snprintf(err, errcap, "n_startup_trials must be >= 0, got %d", o->n_startup_trials);
        return LOUPE_EINVAL;
    }
    if (o->n_ei_candidates < 1) {
        snprintf(err, errcap, "n_ei_candidates must be >= 1 (Optuna's default is 24), got %d",
                 o->n_ei_candidates);
        return LOUPE_EINVAL;
    }
    if (o->multivariate != LOUPE_TPE_AUTO && o->multivariate != 0 && o->multivariate != 1) {
        snprintf(err, errcap, "multivariate must be 0, 1 or LOUPE_TPE_AUTO (-1), got %d",
                 o->multivariate);
        return LOUPE_EINVAL;
    }
    if (o->group && o->multivariate == 0) {
        snprintf(err, errcap,
                 "group can only be enabled when multivariate is enabled: set multivariate to 1 "
                 "or LOUPE_TPE_AUTO, or group to 0");
        return LOUPE_EINVAL;
    }
    if (o->rules != LOUPE_TPE_RULES_OPTUNA_5 && o->rules != LOUPE_TPE_RULES_OPTUNA_3_1) {
        snprintf(err, errcap,
                 "rules must be LOUPE_TPE_RULES_OPTUNA_5 (0) or LOUPE_TPE_RULES_OPTUNA_3_1 (1), "
                 "got %d",
                 o->rules);
        return LOUPE_EINVAL;
    }
    if (!(o->prior_weight >= 0.0) || isinf(o->prior_weight)) {
        snprintf(err, errcap, "prior_weight must be a finite number >= 0, got %g", o->prior_weight);
        return LOUPE_EINVAL;
    }
    return LOUPE_OK;
}
