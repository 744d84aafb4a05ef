/*
 * sampler.h -- the sampler interface (a vtable) that RandomSampler, TPESampler
 * and later samplers implement. Samplers never see a storage: they read trials
 * through the public study/trial API (loupe_study_get_trials,
 * loupe_trial_snapshot) and publish state through trial system attributes.
 *
 * The core calls, for each ask:
 *   1. sample_relative (optional) once, right after the trial exists: the sampler
 *      may choose values for a set of params jointly (multivariate TPE). They are
 *      used by later suggest_* calls whose name and distribution match.
 *   2. sample_independent for every suggest_* whose param was not fixed
 *      (enqueued) or sampled relatively.
 * and after a trial is told: after_trial (optional), before the state is stored.
 */
#ifndef LOUPE_SAMPLER_SAMPLER_H
#define LOUPE_SAMPLER_SAMPLER_H

#include <stddef.h>

#include "loupe.h"

/* A param chosen by sample_relative: its name, distribution and internal value.
 * Memory owned by the vector (names and choices copied). */
typedef struct loupe__param_vec {
    loupe_param *items;
    size_t len;
    size_t alloc;
} loupe__param_vec;

int loupe__param_vec_push(loupe__param_vec *v, const char *name, const loupe_distribution *dist,
                          double internal);
const loupe_param *loupe__param_vec_find(const loupe__param_vec *v, const char *name);
void loupe__param_vec_clear(loupe__param_vec *v);

typedef struct loupe__sampler_ops {
    const char *name; /* "RandomSampler", "TPESampler" */
    void (*destroy)(loupe_sampler *sampler);
    /* Optional. Fill out with jointly sampled params for the new trial. Errors set
     * a message with loupe_trial_set_error-like loupe__error on the study's storage. */
    int (*sample_relative)(loupe_sampler *sampler, loupe_study *study, loupe_trial *trial,
                           loupe__param_vec *out);
    /* Required. The internal value for one param. */
    int (*sample_independent)(loupe_sampler *sampler, loupe_study *study, loupe_trial *trial,
                              const char *name, const loupe_distribution *dist, double *internal);
    /* Optional. Called by tell before the state is written. */
    int (*after_trial)(loupe_sampler *sampler, loupe_study *study, loupe_trial *trial,
                       loupe_trial_state state, size_t n_values, const double *values);
} loupe__sampler_ops;

/* The common head of every sampler; implementations embed it first. */
struct loupe_sampler {
    const loupe__sampler_ops *ops;
};

/* Uniform sampling of one distribution's internal value, as RandomSampler does
 * (shared by samplers that fall back to random, e.g. TPE's startup trials). */
struct loupe__rng;
double loupe__sample_uniform_internal(struct loupe__rng *rng, const loupe_distribution *dist);

#endif
