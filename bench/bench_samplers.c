/*
 * bench_samplers.c -- the sampler configurations of SPEC §0.3 as loupe
 * samplers, by config id. A new configuration is one row in the table.
 *
 * The TPE rows follow SPEC §0.3, which defines every TPE configuration by
 * Optuna 3.1's TPESampler: they pass the settings the spec names
 * (multivariate, constant_liar, n_startup_trials, n_ei_candidates), select
 * Optuna 3.1's estimator (LOUPE_TPE_RULES_OPTUNA_3_1), and keep loupe's other
 * defaults, which equal Optuna 3.1's (prior on, weight 1, magic clip on,
 * endpoints off, default gamma and weights).
 */
#include <string.h>

#include "bench.h"

static int make_random(uint64_t seed, loupe_sampler **out) {
    return loupe_sampler_random_new(seed, out);
}

static int make_tpe(uint64_t seed, int n_startup, int multivariate, int constant_liar,
                    loupe_sampler **out) {
    loupe_tpe_options o;
    loupe_tpe_options_init(&o);
    o.n_startup_trials = n_startup;
    o.n_ei_candidates = 24;
    o.multivariate = multivariate;
    o.constant_liar = constant_liar;
    o.has_seed = 1;
    o.seed = seed;
    o.rules = LOUPE_TPE_RULES_OPTUNA_3_1;
    return loupe_sampler_tpe_new(&o, out);
}

/* TPESampler(seed) with the Optuna 3.1 defaults: univariate, no constant liar */
static int make_tpe_31(uint64_t seed, loupe_sampler **out) { return make_tpe(seed, 10, 0, 0, out); }
/* TPESampler(multivariate=True, constant_liar=True, seed) */
static int make_tpe_mv(uint64_t seed, loupe_sampler **out) { return make_tpe(seed, 10, 1, 1, out); }
/* The HITL tutorial's TPESampler(constant_liar=True, n_startup_trials=5, seed) */
static int make_tpe_seed_config(uint64_t seed, loupe_sampler **out) {
    return make_tpe(seed, 5, 0, 1, out);
}

static const struct {
    const char *id;
    int (*make)(uint64_t seed, loupe_sampler **out);
} samplers[] = {
    {"random", make_random},
    {"tpe", make_tpe_31},
    {"tpe_mv", make_tpe_mv},
    {"tpe_seed_config", make_tpe_seed_config},
};

int bench_sampler_new(const char *config, uint64_t seed, loupe_sampler **out) {
    *out = NULL;
    for (size_t i = 0; i < sizeof samplers / sizeof *samplers; i++)
        if (strcmp(samplers[i].id, config) == 0) return samplers[i].make(seed, out);
    return LOUPE_EINVAL;
}
