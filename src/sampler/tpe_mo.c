/*
 * tpe_mo.c -- non-domination ranks, WFG hypervolume, greedy HSSP and the
 * multi-objective below/above choice for TPE (see tpe_mo.h). Follows Optuna 5.0
 * (optuna/study/_multi_objective.py, optuna/_hypervolume/{wfg,hssp}.py) in the
 * results; the code is loupe's own.
 */
#include "sampler/tpe_mo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loupe.h"

#define TPE_EPS 1e-12

/* ---- lexicographic order of rows (for np.unique(axis=0)) ---- */

static int lex_cmp_rows(const double *a, const double *b, size_t m) {
    for (size_t t = 0; t < m; t++) {
        if (a[t] < b[t]) return -1;
        if (a[t] > b[t]) return 1;
    }
    return 0;
}

/* Merge sort of row indices: stable, so equal rows keep index order and the
 * first of a run is the first occurrence (np.unique's return_index). */
static void lex_sort(size_t *idx, size_t *tmp, size_t n, const double *rows, size_t m) {
    if (n < 2) return;
    size_t h = n / 2;
    lex_sort(idx, tmp, h, rows, m);
    lex_sort(idx + h, tmp, n - h, rows, m);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) {
        if (lex_cmp_rows(&rows[idx[j] * m], &rows[idx[i] * m], m) < 0)
            tmp[o++] = idx[j++];
        else
            tmp[o++] = idx[i++];
    }
    while (i < h) tmp[o++] = idx[i++];
    while (j < n) tmp[o++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

/* Unique rows in lexicographic order: uniq[u] = index of the first occurrence;
 * inv[i] = u of row i (inv may be NULL). Returns the count, or (size_t)-1. */
static size_t lex_unique(const double *rows, size_t n, size_t m, size_t *uniq, size_t *inv) {
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    size_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!idx || !tmp) {
        free(idx);
        free(tmp);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    lex_sort(idx, tmp, n, rows, m);
    size_t nu = 0;
    for (size_t s = 0; s < n; s++) {
        size_t i = idx[s];
        if (nu == 0 || lex_cmp_rows(&rows[uniq[nu - 1] * m], &rows[i * m], m) != 0) uniq[nu++] = i;
        if (inv) inv[i] = nu - 1;
    }
    free(idx);
    free(tmp);
    return nu;
}

/* a <= b in every objective */
static int weakly_dominates(const double *a, const double *b, size_t m) {
    for (size_t t = 0; t < m; t++)
        if (a[t] > b[t]) return 0;
    return 1;
}

int loupe__tpe_nondomination_rank(const double *loss, size_t n, size_t m, size_t n_below,
                                  size_t *ranks) {
    if (n == 0) return LOUPE_OK;
    int rc = LOUPE_ENOMEM;
    size_t *uniq = malloc(n * sizeof *uniq), *inv = malloc(n * sizeof *inv);
    size_t *rem = malloc(n * sizeof *rem), *front = malloc(n * sizeof *front);
    size_t *urank = malloc(n * sizeof *urank);
    if (!uniq || !inv || !rem || !front || !urank) goto cleanup;
    size_t nu = lex_unique(loss, n, m, uniq, inv);
    if (nu == (size_t)-1) goto cleanup;
    size_t nb = n_below == 0 || n_below > nu ? nu : n_below;
    /* rem: the unranked distinct points, still in lexicographic order; a point
     * can only be dominated by an earlier one, and if it is dominated at all it
     * is dominated by a point of the current front. */
    size_t n_rem = nu;
    for (size_t u = 0; u < nu; u++) rem[u] = u;
    size_t rank = 0;
    while (nu - n_rem < nb) {
        size_t n_front = 0, n_keep = 0;
        for (size_t r = 0; r < n_rem; r++) {
            const double *p = &loss[uniq[rem[r]] * m];
            int dominated = 0;
            for (size_t f = 0; f < n_front && !dominated; f++)
                dominated = weakly_dominates(&loss[uniq[front[f]] * m], p, m);
            if (dominated)
                rem[n_keep++] = rem[r];
            else {
                front[n_front++] = rem[r];
                urank[rem[r]] = rank;
            }
        }
        n_rem = n_keep;
        rank++;
    }
    for (size_t r = 0; r < n_rem; r++) urank[rem[r]] = rank;
    for (size_t i = 0; i < n; i++) ranks[i] = urank[inv[i]];
    rc = LOUPE_OK;
cleanup:
    free(uniq);
    free(inv);
    free(rem);
    free(front);
    free(urank);
    return rc;
}

/* ---- hypervolume ---- */

static double box_volume(const double *p, const double *ref, size_t m) {
    double v = 1.0;
    for (size_t t = 0; t < m; t++) v *= ref[t] - p[t];
    return v;
}

/* WFG on points sorted by the first objective (weakly dominated ones may be
 * present). scratch holds at least n*n*m doubles: each recursion level keeps
 * its limited rows in the first n*m and hands the rest to the next level. */
static double wfg(const double *pts, size_t n, size_t m, const double *ref, double *scratch) {
    if (n == 0) return 0.0;
    if (n == 1) return box_volume(pts, ref, m);
    if (n == 2) {
        double inter = 1.0;
        for (size_t t = 0; t < m; t++) {
            double hi = pts[t] > pts[m + t] ? pts[t] : pts[m + t];
            inter *= ref[t] - hi;
        }
        return box_volume(pts, ref, m) + box_volume(pts + m, ref, m) - inter;
    }
    if (m == 2) {
        /* sweep: sorted by x, keep the running minimum of y */
        double hv = 0.0, cur = ref[1];
        for (size_t i = 0; i < n; i++) {
            double y = pts[i * m + 1];
            if (y < cur) {
                hv += (ref[0] - pts[i * m]) * (cur - y);
                cur = y;
            }
        }
        return hv;
    }
    /* total = sum over i of the part of box(i) not covered by the later points:
     * box(i) minus the hypervolume of the later points limited to box(i). */
    double total = 0.0;
    double *lim = scratch;
    double *next = scratch + n * m;
    for (size_t i = 0; i < n; i++) {
        const double *p = &pts[i * m];
        double incl = box_volume(p, ref, m);
        if (i + 1 == n) {
            total += incl;
            break;
        }
        size_t nl = 0;
        for (size_t j = i + 1; j < n; j++) {
            double *q = &lim[nl * m];
            for (size_t t = 0; t < m; t++) {
                double a = p[t], b = pts[j * m + t];
                q[t] = a > b ? a : b;
            }
            /* still sorted by the first objective; drop weakly dominated rows */
            int dom = 0;
            for (size_t k = 0; k < nl && !dom; k++) dom = weakly_dominates(&lim[k * m], q, m);
            if (!dom) nl++;
        }
        total += incl - wfg(lim, nl, m, ref, next);
    }
    return total;
}

int loupe__tpe_hypervolume(const double *pts, size_t n, size_t m, const double *ref, double *out) {
    for (size_t t = 0; t < m; t++)
        if (!isfinite(ref[t])) {
            *out = INFINITY;
            return LOUPE_OK;
        }
    if (n == 0) {
        *out = 0.0;
        return LOUPE_OK;
    }
    /* distinct points in lexicographic order, then only the non-dominated ones */
    size_t *uniq = malloc(n * sizeof *uniq);
    double *sorted = malloc(n * m * sizeof *sorted);
    double *scratch = malloc((n * n + n) * m * sizeof *scratch);
    if (!uniq || !sorted || !scratch) {
        free(uniq);
        free(sorted);
        free(scratch);
        return LOUPE_ENOMEM;
    }
    size_t nu = lex_unique(pts, n, m, uniq, NULL);
    size_t np = 0;
    if (nu != (size_t)-1) {
        for (size_t u = 0; u < nu; u++) {
            const double *p = &pts[uniq[u] * m];
            int dom = 0;
            for (size_t k = 0; k < np && !dom; k++) dom = weakly_dominates(&sorted[k * m], p, m);
            if (!dom) memcpy(&sorted[np++ * m], p, m * sizeof *p);
        }
    }
    int rc = nu == (size_t)-1 ? LOUPE_ENOMEM : LOUPE_OK;
    if (rc == LOUPE_OK) {
        double hv = wfg(sorted, np, m, ref, scratch);
        *out = isfinite(hv) ? hv : INFINITY;
    }
    free(uniq);
    free(sorted);
    free(scratch);
    return rc;
}

void loupe__tpe_reference_point(const double *loss, size_t n, size_t m, double *ref) {
    for (size_t t = 0; t < m; t++) {
        double w = -INFINITY;
        for (size_t i = 0; i < n; i++)
            if (loss[i * m + t] > w || isnan(loss[i * m + t])) w = loss[i * m + t];
        double a = 1.1 * w, b = 0.9 * w;
        double r = isnan(a) || isnan(b) ? NAN : (a > b ? a : b);
        ref[t] = r == 0.0 ? TPE_EPS : r;
    }
}

/* ---- HSSP ---- */

/* 2 objectives, distinct points in lexicographic order (a front: y decreasing).
 * Each point's contribution is the rectangle between it and a diagonal corner;
 * choosing a point shrinks the corners of its neighbours on either side. */
static void hssp_2d(const double *pts, size_t n, size_t k, const double *ref, size_t *chosen) {
    /* pos[] lists the unchosen points in order; diag is their corners */
    size_t *pos = malloc(n * sizeof *pos);
    double *diag = malloc(n * 2 * sizeof *diag);
    if (!pos || !diag) {
        /* cannot happen for the sizes used without memory; fall back to the first k */
        for (size_t i = 0; i < k; i++) chosen[i] = i;
        free(pos);
        free(diag);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pos[i] = i;
        diag[2 * i] = ref[0];
        diag[2 * i + 1] = ref[1];
    }
    size_t len = n;
    for (size_t s = 0; s < k; s++) {
        size_t best = 0;
        double best_c = -INFINITY;
        for (size_t r = 0; r < len; r++) {
            const double *p = &pts[pos[r] * 2];
            double c = (diag[2 * r] - p[0]) * (diag[2 * r + 1] - p[1]);
            if (c > best_c || (isnan(c) && !isnan(best_c))) {
                best_c = c;
                best = r;
                if (isnan(c)) break; /* numpy's argmax stops at the first NaN */
            }
        }
        chosen[s] = pos[best];
        double cx = pts[pos[best] * 2], cy = pts[pos[best] * 2 + 1];
        memmove(&pos[best], &pos[best + 1], (len - best - 1) * sizeof *pos);
        memmove(&diag[2 * best], &diag[2 * best + 2], (len - best - 1) * 2 * sizeof *diag);
        len--;
        for (size_t r = 0; r < best; r++)
            if (cx < diag[2 * r]) diag[2 * r] = cx;
        for (size_t r = best; r < len; r++)
            if (cy < diag[2 * r + 1]) diag[2 * r + 1] = cy;
    }
    free(pos);
    free(diag);
}

/* 3+ objectives: greedy with lazy re-evaluation. contrib[] holds upper bounds
 * (submodularity: a contribution only shrinks as the selection grows); the
 * candidates are re-evaluated from the largest bound down and the rest are
 * skipped once their bound is below the best exact value. */
static int hssp_nd(const double *pts, size_t n, size_t m, size_t k, const double *ref,
                   size_t *chosen) {
    int rc = LOUPE_ENOMEM;
    size_t *alive = malloc(n * sizeof *alive);
    double *contrib = malloc(n * sizeof *contrib);
    double *incl = malloc(n * sizeof *incl);
    size_t *order = malloc(n * sizeof *order);
    double *inter = malloc(k * m * sizeof *inter);
    double *sel = malloc(k * m * sizeof *sel);
    if (!alive || !contrib || !incl || !order || !inter || !sel) goto cleanup;
    size_t len = n;
    for (size_t i = 0; i < n; i++) {
        alive[i] = i;
        incl[i] = box_volume(&pts[i * m], ref, m);
        contrib[i] = incl[i];
    }
    double hv_sel = 0.0;
    for (size_t s = 0; s < k; s++) {
        size_t best = 0;
        for (size_t r = 1; r < len; r++)
            if (contrib[r] > contrib[best] || (isnan(contrib[r]) && !isnan(contrib[best]))) {
                best = r;
                if (isnan(contrib[r])) break;
            }
        hv_sel += contrib[best];
        chosen[s] = alive[best];
        memcpy(&sel[s * m], &pts[alive[best] * m], m * sizeof(double));
        memmove(&alive[best], &alive[best + 1], (len - best - 1) * sizeof *alive);
        memmove(&contrib[best], &contrib[best + 1], (len - best - 1) * sizeof *contrib);
        len--;
        if (s + 1 == k) break;
        if (isinf(hv_sel)) {
            for (size_t r = 0; r < len; r++) contrib[r] = INFINITY;
            continue;
        }
        /* cheap bound: the contribution given only the latest selected point */
        const double *t = &sel[s * m];
        for (size_t r = 0; r < len; r++) {
            const double *p = &pts[alive[r] * m];
            double iv = 1.0;
            for (size_t d = 0; d < m; d++) iv *= ref[d] - (p[d] > t[d] ? p[d] : t[d]);
            double bound = incl[alive[r]] - iv;
            if (bound < contrib[r]) contrib[r] = bound;
            order[r] = r;
        }
        /* visit in decreasing bound (insertion sort: the lists are short) */
        for (size_t a = 1; a < len; a++) {
            size_t v = order[a], b = a;
            while (b > 0 && contrib[order[b - 1]] < contrib[v]) {
                order[b] = order[b - 1];
                b--;
            }
            order[b] = v;
        }
        double max_c = 0.0;
        for (size_t o = 0; o < len; o++) {
            size_t r = order[o];
            const double *p = &pts[alive[r] * m];
            if (isinf(incl[alive[r]])) {
                contrib[r] = max_c = INFINITY;
                continue;
            }
            if (contrib[r] < max_c) continue;
            /* exact: box(p) minus the selection's volume inside box(p) */
            for (size_t j = 0; j <= s; j++)
                for (size_t d = 0; d < m; d++) {
                    double a = p[d], b = sel[j * m + d];
                    inter[j * m + d] = a > b ? a : b;
                }
            double hv_in;
            rc = loupe__tpe_hypervolume(inter, s + 1, m, ref, &hv_in);
            if (rc != LOUPE_OK) goto cleanup;
            contrib[r] = incl[alive[r]] - hv_in;
            if (contrib[r] > max_c) max_c = contrib[r];
        }
    }
    rc = LOUPE_OK;
cleanup:
    free(alive);
    free(contrib);
    free(incl);
    free(order);
    free(inter);
    free(sel);
    return rc;
}

int loupe__tpe_hssp(const double *loss, const size_t *ids, size_t n, size_t m, size_t k,
                    const double *ref, size_t *out) {
    if (k >= n) {
        memcpy(out, ids, n * sizeof *ids);
        return LOUPE_OK;
    }
    int rc = LOUPE_ENOMEM;
    size_t *uniq = malloc(n * sizeof *uniq);
    size_t *pick = malloc((k ? k : 1) * sizeof *pick);
    unsigned char *mark = calloc(n, 1);
    double *upts = malloc(n * m * sizeof *upts);
    if (!uniq || !pick || !mark || !upts) goto cleanup;
    size_t nu = lex_unique(loss, n, m, uniq, NULL);
    if (nu == (size_t)-1) goto cleanup;
    if (nu < k) {
        /* every distinct point, then duplicates in input order */
        for (size_t u = 0; u < nu; u++) mark[uniq[u]] = 1;
        size_t need = k - nu;
        for (size_t i = 0; i < n && need; i++)
            if (!mark[i]) {
                mark[i] = 1;
                need--;
            }
        size_t o = 0;
        for (size_t i = 0; i < n; i++)
            if (mark[i]) out[o++] = ids[i];
        rc = LOUPE_OK;
        goto cleanup;
    }
    int finite = 1;
    for (size_t t = 0; t < m; t++) finite &= isfinite(ref[t]) != 0;
    if (!finite || nu == k) {
        for (size_t s = 0; s < k; s++) out[s] = ids[uniq[s]];
        rc = LOUPE_OK;
        goto cleanup;
    }
    for (size_t u = 0; u < nu; u++) memcpy(&upts[u * m], &loss[uniq[u] * m], m * sizeof(double));
    if (m == 2) {
        hssp_2d(upts, nu, k, ref, pick);
    } else {
        rc = hssp_nd(upts, nu, m, k, ref, pick);
        if (rc != LOUPE_OK) goto cleanup;
    }
    for (size_t s = 0; s < k; s++) out[s] = ids[uniq[pick[s]]];
    rc = LOUPE_OK;
cleanup:
    free(uniq);
    free(pick);
    free(mark);
    free(upts);
    return rc;
}

int loupe__tpe_select_below_mo(const double *loss, size_t n, size_t m, size_t n_below,
                               unsigned char *is_below) {
    memset(is_below, 0, n);
    if (n_below == 0) return LOUPE_OK;
    if (n_below >= n) {
        memset(is_below, 1, n);
        return LOUPE_OK;
    }
    int rc = LOUPE_ENOMEM;
    size_t *ranks = malloc(n * sizeof *ranks);
    size_t *count = calloc(n + 1, sizeof *count);
    size_t *tie_ids = malloc(n * sizeof *tie_ids);
    size_t *sel = malloc(n * sizeof *sel);
    double *tie = malloc(n * m * sizeof *tie);
    double *ref = malloc(m * sizeof *ref);
    if (!ranks || !count || !tie_ids || !sel || !tie || !ref) goto cleanup;
    rc = loupe__tpe_nondomination_rank(loss, n, m, n_below, ranks);
    if (rc != LOUPE_OK) goto cleanup;
    for (size_t i = 0; i < n; i++) count[ranks[i]]++;
    /* whole fronts while they fit */
    size_t taken = 0, r = 0;
    while (r <= n && taken + count[r] <= n_below) taken += count[r++];
    for (size_t i = 0; i < n; i++)
        if (ranks[i] < r) is_below[i] = 1;
    if (taken < n_below) {
        size_t nt = 0;
        for (size_t i = 0; i < n; i++)
            if (ranks[i] == r) {
                memcpy(&tie[nt * m], &loss[i * m], m * sizeof(double));
                tie_ids[nt++] = i;
            }
        loupe__tpe_reference_point(tie, nt, m, ref);
        size_t need = n_below - taken;
        rc = loupe__tpe_hssp(tie, tie_ids, nt, m, need, ref, sel);
        if (rc != LOUPE_OK) goto cleanup;
        for (size_t s = 0; s < need; s++) is_below[sel[s]] = 1;
    }
    rc = LOUPE_OK;
cleanup:
    free(ranks);
    free(count);
    free(tie_ids);
    free(sel);
    free(tie);
    free(ref);
    return rc;
}
