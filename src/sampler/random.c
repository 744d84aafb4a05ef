/*
 * random.c -- RandomSampler: independent uniform sampling of every parameter,
 * as Optuna 3.1's RandomSampler does (bench/SPEC.md §0.3), and the shared
 * loupe__sample_uniform_internal that other samplers fall back to.
 *
 * Each kind is drawn on the scale Optuna's _SearchSpaceTransform uses:
 *   float            U(lo, hi)
 *   float log        exp(U(ln lo, ln hi))
 *   float step s     U(lo - s/2, hi + s/2), rounded to the grid lo + k*s, clipped
 *   int (step s)     U(lo - s/2, hi + s/2), rounded to the grid lo + k*s, clipped
 *   int log          round(exp(U(ln(lo - 0.5), ln(hi + 0.5)))), clipped
 *   categorical      a uniform index
 * The half-step margins make every grid point (every integer) equally likely.
 */
#include <math.h>
#include <stdlib.h>

#include "core/errors.h"
#include "sampler/sampler.h"
#include "util/rng.h"

typedef struct random_sampler {
    loupe_sampler base; /* must be first */
    loupe__rng rng;
} random_sampler;

static double clip(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* U(lo, hi), also when hi - lo overflows (e.g. -DBL_MAX .. DBL_MAX). */
static double uniform(loupe__rng *rng, double lo, double hi) {
    if (!(lo < hi)) return lo;
    double u = loupe__rng_uniform(rng);
    double w = hi - lo;
    double v = isfinite(w) ? lo + w * u : lo * (1.0 - u) + hi * u;
    return clip(v, lo, hi);
}

/* A uniform point of the grid lo, lo + step, ..., hi (hi already on the grid). */
static double grid(loupe__rng *rng, double lo, double hi, double step) {
    double v = uniform(rng, lo - 0.5 * step, hi + 0.5 * step);
    v = rint((v - lo) / step) * step + lo; /* rint: round half to even, as numpy.round */
    return clip(v, lo, hi);
}

double loupe__sample_uniform_internal(struct loupe__rng *rng, const loupe_distribution *d) {
    switch (d->kind) {
    case LOUPE_DIST_FLOAT:
        if (!(d->low <= d->high)) return NAN;
        if (d->low == d->high) return d->low;
        if (d->log) {
            if (!(d->low > 0)) return NAN;
            return clip(exp(uniform(rng, log(d->low), log(d->high))), d->low, d->high);
        }
        if (d->step > 0) return grid(rng, d->low, d->high, d->step);
        return uniform(rng, d->low, d->high);
    case LOUPE_DIST_INT:
        if (!(d->low <= d->high)) return NAN;
        if (d->low == d->high) return d->low;
        if (d->log) {
            if (!(d->low >= 1)) return NAN;
            double v = exp(uniform(rng, log(d->low - 0.5), log(d->high + 0.5)));
            return clip(rint(v), d->low, d->high);
        }
        return grid(rng, d->low, d->high, d->step >= 1 ? d->step : 1.0);
    case LOUPE_DIST_CATEGORICAL:
        if (d->n_choices == 0) return NAN;
        return (double)loupe__rng_below(rng, d->n_choices);
    }
    return NAN;
}

static void random_destroy(loupe_sampler *s) { free(s); }

static int random_sample_independent(loupe_sampler *s, loupe_study *study, loupe_trial *trial,
                                     const char *name, const loupe_distribution *dist,
                                     double *internal) {
    random_sampler *rs = (random_sampler *)s;
    double v = loupe__sample_uniform_internal(&rs->rng, dist);
    if (isnan(v))
        return loupe__error(study ? loupe_study_storage(study) : NULL, LOUPE_EINVAL,
                            "RandomSampler cannot sample param '%s': its distribution is invalid "
                            "(check low <= high, log needs low > 0, and categorical choices).",
                            name ? name : "?");
    *internal = v;
    return LOUPE_OK;
}

static const loupe__sampler_ops random_ops = {
    .name = "RandomSampler",
    .destroy = random_destroy,
    .sample_relative = NULL,
    .sample_independent = random_sample_independent,
    .after_trial = NULL,
};

int loupe_sampler_random_new(uint64_t seed, loupe_sampler **out) {
    *out = NULL;
    random_sampler *rs = calloc(1, sizeof *rs);
    if (!rs) return LOUPE_ENOMEM;
    rs->base.ops = &random_ops;
    loupe__rng_seed(&rs->rng, seed);
    *out = &rs->base;
    return LOUPE_OK;
}
