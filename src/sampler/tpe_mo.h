/*
 * tpe_mo.h -- multi-objective pieces of TPE: non-domination ranks, exact
 * hypervolume, greedy hypervolume subset selection (HSSP) and the choice of the
 * "below" trials among complete ones, as Optuna 5.0 does them. All losses are
 * row-major n x m arrays to be minimized.
 */
#ifndef LOUPE_SAMPLER_TPE_MO_H
#define LOUPE_SAMPLER_TPE_MO_H

#include <stddef.h>

/* Non-domination ranks (0 = Pareto front) of n points; identical points share a
 * rank. Ranking stops once n_below distinct points are ranked (0 = rank all);
 * every point after that gets one common worse rank. LOUPE_OK or LOUPE_ENOMEM. */
int loupe__tpe_nondomination_rank(const double *loss, size_t n, size_t m, size_t n_below,
                                  size_t *ranks);

/* Hypervolume dominated by the n points up to ref (every point <= ref). +inf
 * when ref is not finite. Writes *out; LOUPE_OK or LOUPE_ENOMEM. */
int loupe__tpe_hypervolume(const double *pts, size_t n, size_t m, const double *ref, double *out);

/* Optuna's reference point for a set: per objective max(1.1*worst, 0.9*worst),
 * zeros replaced by 1e-12. ref has m entries. */
void loupe__tpe_reference_point(const double *loss, size_t n, size_t m, double *ref);

/* Greedy HSSP: chooses k of the n points (k <= n) that (1-1/e)-approximately
 * maximize the hypervolume, and writes their labels ids[i] into out[0..k-1]
 * (in no particular order). Duplicated points are chosen only when fewer than
 * k distinct points exist. */
int loupe__tpe_hssp(const double *loss, const size_t *ids, size_t n, size_t m, size_t k,
                    const double *ref, size_t *out);

/* Marks is_below[i] = 1 for the n_below best of n complete trials' losses:
 * whole non-domination fronts, the last partial front by HSSP. */
int loupe__tpe_select_below_mo(const double *loss, size_t n, size_t m, size_t n_below,
                               unsigned char *is_below);

#endif
