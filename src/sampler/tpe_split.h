/*
 * tpe_split.h -- TPE's view of one trial (a "record": state, values, feasibility,
 * last intermediate value, parameter values by name id) and the split of a set
 * of records into "below" (good) and "above" (bad), as Optuna 5.0's
 * _split_trials does.
 */
#ifndef LOUPE_SAMPLER_TPE_SPLIT_H
#define LOUPE_SAMPLER_TPE_SPLIT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "loupe.h"

typedef struct loupe__tpe_rec {
    int64_t number;
    loupe_trial_state state; /* COMPLETE, PRUNED or RUNNING */
    size_t n_values;
    double *values;    /* owned; NULL when none */
    double infeasible; /* sum of the positive constraint values (0: feasible) */
    int has_intermediate;
    int64_t last_step; /* the largest reported step and its value */
    double last_value;
    size_t n_pv;
    double *pv; /* owned; internal value of param id i, NaN when absent */
} loupe__tpe_rec;

void loupe__tpe_rec_free(loupe__tpe_rec *r);
/* The internal value of param id in r, or NaN when absent. */
static inline double loupe__tpe_rec_param(const loupe__tpe_rec *r, size_t id) {
    return id < r->n_pv ? r->pv[id] : (double)NAN;
}

/*
 * Splits the n records into below and above (arrays of at least n pointers):
 * RUNNING records are always above; infeasible ones come after complete and
 * pruned ones; complete ones are ranked by value (single objective, stable) or
 * by non-domination rank and HSSP (several objectives, directions[0..n_obj-1]);
 * pruned ones by (deepest step, best last intermediate value). Both outputs
 * are sorted by trial number. LOUPE_OK or LOUPE_ENOMEM.
 */
int loupe__tpe_split(const loupe__tpe_rec *const *recs, size_t n, size_t n_obj,
                     const loupe_direction *directions, size_t n_below,
                     const loupe__tpe_rec **below, size_t *n_below_out,
                     const loupe__tpe_rec **above, size_t *n_above_out);

#endif
