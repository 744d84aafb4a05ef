/*
 * importance.c -- GET /api/studies/:id/param_importances: hyperparameter
 * importance by PED-ANOVA, as optuna-dashboard computes it with Optuna's
 * PedAnovaImportanceEvaluator (conditional PED-ANOVA, target quantile 0.1,
 * region quantile 1.0, 50-point grids, Scott's-rule Parzen estimators with a
 * prior kernel), one list per objective, normalized to sum 1, with upstream's
 * fallbacks. Maximized objectives are negated (the fix of upstream #1329).
 * Results are cached per study until its number of COMPLETE trials changes.
 *
 * Algorithm (Watanabe et al., IJCAI 2023; conditional form, KDD 2026): keep
 * the COMPLETE trials with a finite target; the "target" set is the trials
 * whose target is <= the ceil(0.1 n)-th smallest. For each param, the trials
 * are split into regimes by the param's distribution (absent = inactive;
 * regimes under 2 trials are dropped). In a regime, the param's values are
 * binned on a grid, a Parzen estimator is fit to the target trials' bins and
 * one to all of the regime's bins, and the Pearson divergence
 * sum p_all (p_top/p_all - 1)^2 is weighted by alpha^2/beta (the regime's
 * share of the target and of all trials). The sum is scaled by (|top|/|all|)^2.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"
#include "server/jsonw.h"

#define N_STEPS 50
#define PRIOR_WEIGHT 1.0
#define TARGET_QUANTILE 0.1
#define MIN_TRIALS_IN_REGIME 2

/* ------------------------------------------------------------ cache */

typedef struct imp_entry {
    int64_t study_id;
    int64_t n_complete;
    char *json;
} imp_entry;

struct loupe__imp_cache {
    pthread_mutex_t lock;
    imp_entry *e;
    size_t n, alloc;
};

loupe__imp_cache *loupe__imp_cache_new(void) {
    loupe__imp_cache *c = calloc(1, sizeof *c);
    if (c) pthread_mutex_init(&c->lock, NULL);
    return c;
}

void loupe__imp_cache_free(loupe__imp_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->e[i].json);
    free(c->e);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static char *cache_get(loupe__imp_cache *c, int64_t sid, int64_t n_complete) {
    char *r = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].study_id == sid && c->e[i].n_complete == n_complete) r = strdup(c->e[i].json);
    pthread_mutex_unlock(&c->lock);
    return r;
}

static void cache_put(loupe__imp_cache *c, int64_t sid, int64_t n_complete, const char *json) {
    pthread_mutex_lock(&c->lock);
    size_t i = 0;
    while (i < c->n && c->e[i].study_id != sid) i++;
    if (i == c->n) {
        if (c->n == c->alloc) {
            size_t na = c->alloc ? c->alloc * 2 : 8;
            imp_entry *p = realloc(c->e, na * sizeof *p);
            if (!p) goto out;
            c->e = p;
            c->alloc = na;
        }
        c->e[c->n++] = (imp_entry){sid, 0, NULL};
    }
    char *copy = strdup(json);
    if (copy) {
        free(c->e[i].json);
        c->e[i].json = copy;
        c->e[i].n_complete = n_complete;
    }
out:
    pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------ the estimator */

/* Phi(b) - Phi(a) for a < b, accurate in both tails. */
static double gauss_mass(double a, double b) {
    if (a >= 0) return 0.5 * (erfc(a / M_SQRT2) - erfc(b / M_SQRT2));
    if (b <= 0) return 0.5 * (erfc(-b / M_SQRT2) - erfc(-a / M_SQRT2));
    return 1.0 - 0.5 * erfc(-a / M_SQRT2) - 0.5 * erfc(b / M_SQRT2);
}

/* The pdf of a Parzen estimator over grid points 0..g-1 fit to counts[]
 * (Optuna's ScottParzenEstimator on a grid), written to pdf[] (+1e-12). */
static void parzen_pdf(const double *counts, size_t g, int categorical, double *pdf) {
    size_t nobs = 0;
    double wsum = 0;
    for (size_t i = 0; i < g; i++)
        if (counts[i] > 0) {
            nobs++;
            wsum += counts[i];
        }
    double total = wsum + PRIOR_WEIGHT; /* mixture weights: counts, then the prior */
    for (size_t x = 0; x < g; x++) pdf[x] = 0;
    if (categorical) {
        /* each observed kernel puts 1 + prior/nk on its choice and prior/nk elsewhere,
         * normalized; the prior kernel is uniform */
        double nk = (double)nobs + 1;
        double base = PRIOR_WEIGHT / nk, row = 1 + base * (double)g;
        for (size_t i = 0; i < g; i++) {
            if (counts[i] <= 0) continue;
            double w = counts[i] / total;
            for (size_t x = 0; x < g; x++) pdf[x] += w * (base + (x == i ? 1 : 0)) / row;
        }
        for (size_t x = 0; x < g; x++) pdf[x] += (PRIOR_WEIGHT / total) / (double)g;
    } else {
        /* Scott's rule bandwidth over the observed grid indices */
        double mean = 0;
        for (size_t i = 0; i < g; i++) mean += (double)i * counts[i];
        mean /= wsum;
        double var = 0;
        for (size_t i = 0; i < g; i++) var += ((double)i - mean) * ((double)i - mean) * counts[i];
        double sigma = sqrt(var / fmax(1.0, wsum - 1));
        /* quartiles over the cumulative counts of the observations */
        double q1t = floor(wsum / 4), q3t = floor(wsum * 3 / 4);
        size_t q1 = nobs, q3 = nobs, k = 0;
        double cum = 0;
        size_t *obs = malloc(nobs * sizeof *obs);
        if (!obs) {
            for (size_t x = 0; x < g; x++) pdf[x] = 1.0 / (double)g + 1e-12;
            return;
        }
        for (size_t i = 0; i < g; i++) {
            if (counts[i] <= 0) continue;
            obs[k] = i;
            cum += counts[i];
            if (q1 == nobs && cum >= q1t) q1 = k;  /* searchsorted side="left" */
            if (q3 == nobs && cum > q3t) q3 = k;   /* searchsorted side="right" */
            k++;
        }
        if (q1 >= nobs) q1 = nobs - 1;
        if (q3 >= nobs) q3 = nobs - 1;
        double iqr = (double)obs[q3] - (double)obs[q1];
        sigma = 1.059 * fmin(iqr / 1.34, sigma) * pow(wsum, -0.2);
        sigma = fmax(sigma, 0.5 / 1.64);
        double lo = -0.5, hi = (double)g - 0.5; /* IntDistribution(0, g-1), step 1 */
        for (size_t j = 0; j <= nobs; j++) {
            double mu = j < nobs ? (double)obs[j] : ((double)g - 1) / 2.0;
            double s = j < nobs ? sigma : (double)g; /* prior: high - low + 1 */
            double w = (j < nobs ? counts[obs[j]] : PRIOR_WEIGHT) / total;
            double z = gauss_mass((lo - mu) / s, (hi - mu) / s);
            if (!(z > 0)) continue;
            for (size_t x = 0; x < g; x++)
                pdf[x] += w * gauss_mass(((double)x - 0.5 - mu) / s, ((double)x + 0.5 - mu) / s) / z;
        }
        free(obs);
    }
    for (size_t x = 0; x < g; x++) pdf[x] += 1e-12;
}

static int dist_single(const loupe_distribution *d) {
    if (d->kind == LOUPE_DIST_CATEGORICAL) return d->n_choices == 1;
    if (d->low == d->high) return 1;
    if (d->kind == LOUPE_DIST_FLOAT && d->step > 0) return d->high - d->low < d->step;
    if (d->kind == LOUPE_DIST_INT) return d->high - d->low < d->step;
    return 0;
}

static int dist_equal(const loupe_distribution *a, const loupe_distribution *b) {
    if (a->kind != b->kind) return 0;
    if (a->kind == LOUPE_DIST_CATEGORICAL) {
        if (a->n_choices != b->n_choices) return 0;
        for (size_t i = 0; i < a->n_choices; i++)
            if (strcmp(a->choices[i], b->choices[i]) != 0) return 0;
        return 1;
    }
    return a->low == b->low && a->high == b->high && a->step == b->step && !a->log == !b->log;
}

/* Grid size and the bin of a param value (Optuna's _count_*_param_in_grid). */
static size_t grid_size(const loupe_distribution *d) {
    if (d->kind == LOUPE_DIST_CATEGORICAL) return d->n_choices;
    size_t n = N_STEPS;
    if (d->kind == LOUPE_DIST_INT && d->log) {
        size_t l2 = (size_t)ceil(log(d->high - d->low + 1) / log(2)) + 1;
        if (l2 < n) n = l2;
    } else if (d->step > 0) {
        double s = rint((d->high - d->low) / d->step) + 1;
        if (s < (double)n) n = (size_t)s;
    }
    return n < 1 ? 1 : n;
}

static size_t bin_of(const loupe_distribution *d, double v, size_t g) {
    if (d->kind == LOUPE_DIST_CATEGORICAL) return v >= 0 && (size_t)v < g ? (size_t)v : 0;
    double lo = d->log ? log(d->low) : d->low, hi = d->log ? log(d->high) : d->high;
    double x = d->log ? log(v) : v;
    double step = (hi - lo) / (double)(g - 1);
    double idx = ceil((x - lo) / step - 0.5);
    if (!(idx >= 0)) return 0;
    if (idx > (double)(g - 1)) return g - 1;
    return (size_t)idx;
}

typedef struct cand {
    const loupe_frozen_trial *t;
    double target;
    int top;
} cand;

typedef struct pimp {
    const char *name;
    double imp;
    const char *dist_name;
} pimp;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_pimp(const void *a, const void *b) {
    const pimp *x = a, *y = b;
    if (x->imp != y->imp) return x->imp > y->imp ? -1 : 1;
    return strcmp(y->name, x->name);
}

static const char *dist_class(const loupe_distribution *d) {
    return d->kind == LOUPE_DIST_FLOAT ? "FloatDistribution"
           : d->kind == LOUPE_DIST_INT ? "IntDistribution"
                                       : "CategoricalDistribution";
}

/* Importances for one objective, appended as a JSON list. Returns -1 on OOM. */
static int one_objective(loupe__buf *b, const loupe__snap *snap, size_t obj) {
    size_t n = loupe_trial_list_count(snap->list);
    int minimize = snap->directions[obj] != LOUPE_MAXIMIZE;
    cand *c = malloc((n ? n : 1) * sizeof *c);
    double *sorted = malloc((n ? n : 1) * sizeof *sorted);
    pimp *out = NULL;
    const char **names = NULL;
    const loupe_distribution **first_dist = NULL;
    size_t nc = 0, nn = 0;
    int rc = -1;
    if (!c || !sorted) goto done;
    /* every param of a COMPLETE trial, with the first distribution seen */
    names = malloc(64 * sizeof *names);
    first_dist = malloc(64 * sizeof *first_dist);
    size_t names_cap = 64;
    if (!names || !first_dist) goto done;
    for (size_t i = 0; i < n; i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(snap->list, i);
        if (t->state != LOUPE_COMPLETE) continue;
        for (size_t p = 0; p < t->n_params; p++) {
            size_t k = 0;
            while (k < nn && strcmp(names[k], t->params[p].name) != 0) k++;
            if (k < nn) continue;
            if (nn == names_cap) {
                names_cap *= 2;
                const char **np = realloc(names, names_cap * sizeof *np);
                if (!np) goto done;
                names = np;
                const loupe_distribution **nd = realloc(first_dist, names_cap * sizeof *nd);
                if (!nd) goto done;
                first_dist = nd;
            }
            names[nn] = t->params[p].name;
            first_dist[nn++] = &t->params[p].dist;
        }
        if (t->values && obj < t->n_values) {
            double v = minimize ? t->values[obj] : -t->values[obj];
            if (isfinite(v)) {
                c[nc].t = t;
                c[nc].target = v;
                c[nc].top = 0;
                sorted[nc] = v;
                nc++;
            }
        }
    }
    out = calloc(nn ? nn : 1, sizeof *out);
    if (!out) goto done;
    for (size_t k = 0; k < nn; k++) {
        out[k].name = names[k];
        out[k].dist_name = dist_class(first_dist[k]);
    }
    size_t ntop = 0;
    if (nc > 1) {
        qsort(sorted, nc, sizeof *sorted, cmp_double);
        size_t cut = (size_t)ceil(TARGET_QUANTILE * (double)nc) - 1;
        double cutoff = sorted[cut];
        for (size_t i = 0; i < nc; i++)
            if ((c[i].top = c[i].target <= cutoff)) ntop++;
    }
    if (nc > 1 && ntop > 0) {
        double q = (double)ntop / (double)nc;
        for (size_t k = 0; k < nn; k++) {
            /* regimes: groups of trials with an equal distribution of this param */
            const loupe_distribution **seen = malloc(nc * sizeof *seen);
            if (!seen) goto done;
            size_t nseen = 0;
            for (size_t i = 0; i < nc; i++) {
                const loupe_param *p = loupe_frozen_trial_param(c[i].t, names[k]);
                if (!p) continue;
                int dup = 0;
                for (size_t s = 0; s < nseen && !dup; s++) dup = dist_equal(seen[s], &p->dist);
                if (!dup) seen[nseen++] = &p->dist;
            }
            for (size_t s = 0; s < nseen; s++) {
                const loupe_distribution *d = seen[s];
                size_t n_reg = 0, n_reg_top = 0;
                for (size_t i = 0; i < nc; i++) {
                    const loupe_param *p = loupe_frozen_trial_param(c[i].t, names[k]);
                    if (p && dist_equal(&p->dist, d)) {
                        n_reg++;
                        n_reg_top += (size_t)c[i].top;
                    }
                }
                if (n_reg < MIN_TRIALS_IN_REGIME || n_reg_top == 0 || dist_single(d)) continue;
                size_t g = grid_size(d);
                double *cnt_top = calloc(4 * g, sizeof *cnt_top);
                if (!cnt_top) {
                    free(seen);
                    goto done;
                }
                double *cnt_all = cnt_top + g, *pdf_top = cnt_all + g, *pdf_all = pdf_top + g;
                for (size_t i = 0; i < nc; i++) {
                    const loupe_param *p = loupe_frozen_trial_param(c[i].t, names[k]);
                    if (!p || !dist_equal(&p->dist, d)) continue;
                    size_t bin = bin_of(d, p->internal, g);
                    cnt_all[bin] += 1;
                    if (c[i].top) cnt_top[bin] += 1;
                }
                int cat = d->kind == LOUPE_DIST_CATEGORICAL;
                parzen_pdf(cnt_top, g, cat, pdf_top);
                parzen_pdf(cnt_all, g, cat, pdf_all);
                double div = 0;
                for (size_t x = 0; x < g; x++) {
                    double r = pdf_top[x] / pdf_all[x] - 1;
                    div += pdf_all[x] * r * r;
                }
                free(cnt_top);
                double alpha = (double)n_reg_top / (double)ntop, beta = (double)n_reg / (double)nc;
                out[k].imp += alpha * alpha / beta * div;
            }
            free(seen);
            out[k].imp *= q * q;
        }
    }
    /* normalize; all zero -> equal shares */
    double sum = 0;
    for (size_t k = 0; k < nn; k++) sum += out[k].imp;
    for (size_t k = 0; k < nn; k++) out[k].imp = sum == 0 ? 1.0 / (double)nn : out[k].imp / sum;
    qsort(out, nn, sizeof *out, cmp_pimp);
    loupe__buf_putc(b, '[');
    for (size_t k = 0; k < nn; k++) {
        loupe__buf_puts(b, k ? ", {\"name\": " : "{\"name\": ");
        loupe__jw_string(b, out[k].name);
        loupe__buf_puts(b, ", \"importance\": ");
        loupe__jw_double(b, out[k].imp);
        loupe__buf_printf(b, ", \"distribution\": \"%s\"}", out[k].dist_name);
    }
    loupe__buf_putc(b, ']');
    rc = 0;
done:
    free(c);
    free(sorted);
    free(out);
    free(names);
    free(first_dist);
    return rc;
}

void loupe__api_importances(loupe__req *req, loupe__resp *resp) {
    loupe__snap *snap = loupe__views_study(req->srv->views, req->route.study_id, 0);
    if (!snap) {
        loupe__resp_error(resp, 404, "study_id=%lld is not found", (long long)req->route.study_id);
        return;
    }
    int64_t n_complete = snap->counts[LOUPE_COMPLETE];
    char *cached = cache_get(req->srv->imp, snap->study_id, n_complete);
    if (cached) {
        loupe__buf_puts(&resp->body, cached);
        free(cached);
        loupe__snap_release(snap);
        loupe__resp_json(resp, 200);
        return;
    }
    loupe__buf *b = &resp->body;
    loupe__buf_puts(b, "{\"param_importances\": [");
    for (size_t obj = 0; obj < snap->n_directions; obj++) {
        if (obj) loupe__buf_puts(b, ", ");
        /* upstream: [] with at most one COMPLETE trial */
        if (n_complete <= 1) loupe__buf_puts(b, "[]");
        else if (one_objective(b, snap, obj)) b->failed = 1;
    }
    loupe__buf_puts(b, "]}");
    if (!b->failed) cache_put(req->srv->imp, snap->study_id, n_complete, b->data);
    loupe__snap_release(snap);
    loupe__resp_json(resp, 200);
}
