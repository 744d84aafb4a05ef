/*
 * tpe_split.c -- the below/above split of TPE's trial records (see
 * tpe_split.h), following Optuna 5.0's _split_trials: complete trials first,
 * then pruned, then infeasible ones fill the below set; running ones are above.
 */
#include "sampler/tpe_split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sampler/tpe_mo.h"

void loupe__tpe_rec_free(loupe__tpe_rec *r) {
    if (!r) return;
    free(r->values);
    free(r->pv);
    r->values = NULL;
    r->pv = NULL;
    r->n_values = r->n_pv = 0;
}

typedef const loupe__tpe_rec *recp;
typedef int (*rec_cmp)(recp a, recp b, const void *ctx);

/* Stable merge sort (Python's sorted() is stable and ties keep input order). */
static void msort(recp *a, recp *tmp, size_t n, rec_cmp cmp, const void *ctx) {
    if (n < 2) return;
    size_t h = n / 2;
    msort(a, tmp, h, cmp, ctx);
    msort(a + h, tmp, n - h, cmp, ctx);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) tmp[o++] = cmp(a[j], a[i], ctx) < 0 ? a[j++] : a[i++];
    while (i < h) tmp[o++] = a[i++];
    while (j < n) tmp[o++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

static int cmp_double(double x, double y) {
    /* NaN sorts last so that it never lands in the below set */
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

static int by_number(recp a, recp b, const void *ctx) {
    (void)ctx;
    return (a->number > b->number) - (a->number < b->number);
}

static int by_value(recp a, recp b, const void *ctx) {
    int maximize = *(const int *)ctx;
    double x = a->n_values ? a->values[0] : NAN, y = b->n_values ? b->values[0] : NAN;
    if (maximize && !isnan(x) && !isnan(y)) return cmp_double(y, x);
    return cmp_double(x, y);
}

/* Optuna's _get_pruned_trial_score: (-last_step, value) with the value's sign
 * flipped for maximize and NaN as +inf; (1, 0.0) without intermediate values. */
static void pruned_key(recp r, int maximize, double *k1, double *k2) {
    if (!r->has_intermediate) {
        *k1 = 1.0;
        *k2 = 0.0;
        return;
    }
    *k1 = -(double)r->last_step;
    double v = r->last_value;
    *k2 = isnan(v) ? INFINITY : (maximize ? -v : v);
}

static int by_pruned_score(recp a, recp b, const void *ctx) {
    int maximize = *(const int *)ctx;
    double a1, a2, b1, b2;
    pruned_key(a, maximize, &a1, &a2);
    pruned_key(b, maximize, &b1, &b2);
    int c = cmp_double(a1, b1);
    return c ? c : cmp_double(a2, b2);
}

static int by_infeasibility(recp a, recp b, const void *ctx) {
    (void)ctx;
    return cmp_double(a->infeasible, b->infeasible);
}

static void put(const loupe__tpe_rec **below, size_t *nb, const loupe__tpe_rec **above, size_t *na,
                int to_below, recp r) {
    if (to_below)
        below[(*nb)++] = r;
    else
        above[(*na)++] = r;
}

int loupe__tpe_split(const loupe__tpe_rec *const *recs, size_t n, size_t n_obj,
                     const loupe_direction *directions, size_t n_below,
                     const loupe__tpe_rec **below, size_t *n_below_out,
                     const loupe__tpe_rec **above, size_t *n_above_out) {
    int rc = LOUPE_ENOMEM;
    recp *all = malloc((n ? n : 1) * sizeof *all);
    recp *tmp = malloc((n ? n : 1) * sizeof *tmp);
    recp *complete = malloc((n ? n : 1) * sizeof *complete);
    recp *pruned = malloc((n ? n : 1) * sizeof *pruned);
    recp *infeasible = malloc((n ? n : 1) * sizeof *infeasible);
    recp *running = malloc((n ? n : 1) * sizeof *running);
    double *loss = NULL;
    unsigned char *is_below = NULL;
    size_t nc = 0, np = 0, ni = 0, nr = 0, nb = 0, na = 0;
    if (!all || !tmp || !complete || !pruned || !infeasible || !running) goto cleanup;

    /* work in trial-number order, the order Optuna reads trials in */
    memcpy(all, recs, n * sizeof *all);
    msort(all, tmp, n, by_number, NULL);
    for (size_t i = 0; i < n; i++) {
        recp r = all[i];
        if (r->state == LOUPE_RUNNING)
            running[nr++] = r; /* before the feasibility check: no constraints yet */
        else if (r->infeasible > 0)
            infeasible[ni++] = r;
        else if (r->state == LOUPE_COMPLETE)
            complete[nc++] = r;
        else if (r->state == LOUPE_PRUNED)
            pruned[np++] = r;
    }
    int maximize = n_obj >= 1 && directions[0] == LOUPE_MAXIMIZE;

    /* complete trials */
    size_t take = n_below < nc ? n_below : nc;
    if (n_obj <= 1) {
        msort(complete, tmp, nc, by_value, &maximize);
        for (size_t i = 0; i < nc; i++) put(below, &nb, above, &na, i < take, complete[i]);
    } else if (take == 0 || take == nc) {
        for (size_t i = 0; i < nc; i++) put(below, &nb, above, &na, take != 0, complete[i]);
    } else {
        loss = malloc(nc * n_obj * sizeof *loss);
        is_below = malloc(nc);
        if (!loss || !is_below) goto cleanup;
        for (size_t i = 0; i < nc; i++)
            for (size_t t = 0; t < n_obj; t++) {
                double v = t < complete[i]->n_values ? complete[i]->values[t] : NAN;
                loss[i * n_obj + t] = directions[t] == LOUPE_MAXIMIZE ? -v : v;
            }
        rc = loupe__tpe_select_below_mo(loss, nc, n_obj, take, is_below);
        if (rc != LOUPE_OK) goto cleanup;
        rc = LOUPE_ENOMEM;
        for (size_t i = 0; i < nc; i++) put(below, &nb, above, &na, is_below[i], complete[i]);
    }
    size_t left = n_below > nb ? n_below - nb : 0;

    /* pruned trials: deeper steps first, then better values */
    msort(pruned, tmp, np, by_pruned_score, &maximize);
    take = left < np ? left : np;
    for (size_t i = 0; i < np; i++) put(below, &nb, above, &na, i < take, pruned[i]);
    left -= take;

    /* infeasible trials: least violation first */
    msort(infeasible, tmp, ni, by_infeasibility, NULL);
    take = left < ni ? left : ni;
    for (size_t i = 0; i < ni; i++) put(below, &nb, above, &na, i < take, infeasible[i]);

    for (size_t i = 0; i < nr; i++) above[na++] = running[i];
    msort((recp *)below, tmp, nb, by_number, NULL);
    msort((recp *)above, tmp, na, by_number, NULL);
    *n_below_out = nb;
    *n_above_out = na;
    rc = LOUPE_OK;
cleanup:
    free(all);
    free(tmp);
    free(complete);
    free(pruned);
    free(infeasible);
    free(running);
    free(loss);
    free(is_below);
    return rc;
}
