/*
 * tpe_parzen.c -- Optuna's (5.0) Parzen estimator: kernel placement, the
 * neighbour bandwidth rule with endpoint and magic-clip handling, the prior
 * kernel, sampling and the mixture log density (see tpe_parzen.h).
 */
#include "sampler/tpe_parzen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler/tpe_math.h"

#define TPE_EPS 1e-12
#define LOG_SQRT_2PI 0.91893853320467274178

void loupe__tpe_parzen_free(loupe__tpe_parzen *pe) {
    if (!pe) return;
    if (pe->dims) {
        for (size_t d = 0; d < pe->n_dims; d++) {
            loupe__tpe_kdim *k = &pe->dims[d];
            free(k->mu);
            free(k->sigma);
            free(k->a);
            free(k->b);
            free(k->log_mass);
            free(k->log_norm);
            free(k->probs);
            free(k->log_probs);
        }
    }
    free(pe->dims);
    free(pe->weights);
    free(pe->log_weights);
    memset(pe, 0, sizeof *pe);
}

int loupe__tpe_check_weights(const double *w, size_t n, char *err, size_t errcap) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < 0.0) {
            snprintf(err, errcap,
                     "the TPE weights function returned a negative value (%g at index %zu of %zu); "
                     "weights must be >= 0",
                     w[i], i, n);
            return LOUPE_EINVAL;
        }
        sum += w[i];
    }
    if (n > 0 && !(sum > 0.0) && !isnan(sum)) {
        snprintf(err, errcap,
                 "the TPE weights function returned all-zero weights for %zu observations; "
                 "give at least one observation a positive weight",
                 n);
        return LOUPE_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(w[i])) {
            snprintf(err, errcap,
                     "the TPE weights function returned a non-finite value (%g at index %zu of "
                     "%zu); weights must be finite",
                     w[i], i, n);
            return LOUPE_EINVAL;
        }
    }
    return LOUPE_OK;
}

/* Sort key for the bandwidth rule: by value, ties by original index (stable). */
typedef struct {
    double v;
    size_t i;
} keyed;

/* Stable merge sort by value (typed: this runs for every dimension of every
 * estimator, so no comparator calls). tmp has room for n entries. */
static void keyed_sort(keyed *a, keyed *tmp, size_t n) {
    if (n < 2) return;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            keyed x = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1].v > x.v) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    keyed_sort(a, tmp, h);
    keyed_sort(a + h, tmp, n - h);
    if (!(a[h].v < a[h - 1].v)) return; /* already in order */
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) tmp[o++] = a[j].v < a[i].v ? a[j++] : a[i++];
    while (i < h) tmp[o++] = a[i++];
    while (j < n) tmp[o++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

/* Bandwidths of n observation kernels at mus (kernel space) on [low, high]:
 * the larger distance to a sorted neighbour (the domain edges count as
 * neighbours), the outermost ones measured inward only unless consider_endpoints,
 * then clipped. n_kernels counts the prior too, for the magic clip. */
static int neighbour_sigmas(const double *mus, size_t n, double low, double high, size_t n_kernels,
                            const loupe__tpe_pe_params *p, double *sigmas) {
    if (n == 0) return LOUPE_OK;
    keyed *k = malloc(2 * n * sizeof *k);
    double *s = malloc((n + 2) * sizeof *s);
    if (!k || !s) {
        free(k);
        free(s);
        return LOUPE_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        k[i].v = mus[i];
        k[i].i = i;
    }
    keyed_sort(k, k + n, n);
    s[0] = low;
    for (size_t i = 0; i < n; i++) s[i + 1] = k[i].v;
    s[n + 1] = high;
    /* sorted sigma j belongs to s[j + 1] */
    double maxsigma = high - low;
    double minsigma =
        p->consider_magic_clip ? (high - low) / fmin(100.0, 1.0 + (double)n_kernels) : TPE_EPS;
    for (size_t j = 0; j < n; j++) {
        double left = s[j + 1] - s[j], right = s[j + 2] - s[j + 1];
        double sg = left > right ? left : right; /* np.maximum */
        if (isnan(left) || isnan(right)) sg = NAN;
        if (!p->consider_endpoints && n + 2 >= 4) {
            if (j == 0) sg = s[2] - s[1];
            if (j == n - 1) sg = s[n] - s[n - 1];
        }
        /* np.clip(sigma, minsigma, maxsigma) */
        if (sg < minsigma) sg = minsigma;
        if (sg > maxsigma) sg = maxsigma;
        sigmas[k[j].i] = sg;
    }
    free(k);
    free(s);
    return LOUPE_OK;
}

static int build_numerical(loupe__tpe_kdim *kd, const loupe_distribution *dist, const double *obs,
                           size_t stride, size_t n_obs, size_t n_dims, size_t n_kernels,
                           int with_prior, const loupe__tpe_pe_params *p) {
    kd->categorical = 0;
    kd->is_log = dist->log != 0;
    kd->low = dist->low;
    kd->high = dist->high;
    kd->step = 0.0;
    if (dist->kind == LOUPE_DIST_INT)
        kd->step = dist->step > 0 ? dist->step : 1.0;
    else if (dist->step > 0)
        kd->step = dist->step;
    double low = dist->low, high = dist->high;
    if (kd->step > 0) {
        low -= kd->step / 2;
        high += kd->step / 2;
    }
    if (p->int_log_continuous && dist->kind == LOUPE_DIST_INT && kd->is_log) {
        /* Optuna < 4.7: a continuous density on [log(low - .5), log(high + .5)] */
        kd->step = 0.0;
        kd->round_exp = 1;
    }
    if (kd->is_log) {
        low = log(low);
        high = log(high);
    }
    kd->alow = low;
    kd->ahigh = high;
    kd->mu = malloc(n_kernels * sizeof(double));
    kd->sigma = malloc(n_kernels * sizeof(double));
    kd->a = malloc(n_kernels * sizeof(double));
    kd->b = malloc(n_kernels * sizeof(double));
    kd->log_mass = malloc(n_kernels * sizeof(double));
    kd->log_norm = malloc(n_kernels * sizeof(double));
    if (!kd->mu || !kd->sigma || !kd->a || !kd->b || !kd->log_mass || !kd->log_norm)
        return LOUPE_ENOMEM;
    for (size_t i = 0; i < n_obs; i++) {
        double v = obs[i * stride];
        kd->mu[i] = kd->is_log ? log(v) : v;
    }
    if (with_prior) kd->mu[n_kernels - 1] = 0.5 * (low + high);
    int rc = LOUPE_OK;
    if (p->scott_rule) {
        /* Optuna < 5.0 multivariate: one bandwidth for all kernels (Scott's rule) */
        double nn = n_obs > 1 ? (double)n_obs : 1.0;
        double sg = 0.2 * pow(nn, -1.0 / ((double)n_dims + 4.0)) * (high - low);
        double maxsigma = high - low;
        double minsigma =
            p->consider_magic_clip ? (high - low) / fmin(100.0, 1.0 + (double)n_kernels) : TPE_EPS;
        if (sg < minsigma) sg = minsigma;
        if (sg > maxsigma) sg = maxsigma;
        for (size_t k = 0; k < n_kernels; k++) kd->sigma[k] = sg;
    } else if (p->prior_in_bandwidth && with_prior) {
        /* Optuna < 4.9: the prior's center is one of the sorted neighbours */
        rc = neighbour_sigmas(kd->mu, n_kernels, low, high, n_kernels, p, kd->sigma);
    } else {
        rc = neighbour_sigmas(kd->mu, n_obs, low, high, n_kernels, p, kd->sigma);
    }
    if (rc != LOUPE_OK) return rc;
    if (with_prior) kd->sigma[n_kernels - 1] = high - low;
    for (size_t k = 0; k < n_kernels; k++) {
        kd->a[k] = (low - kd->mu[k]) / kd->sigma[k];
        kd->b[k] = (high - kd->mu[k]) / kd->sigma[k];
        kd->log_mass[k] = loupe__tpe_log_gauss_mass(kd->a[k], kd->b[k]);
        kd->log_norm[k] = -kd->log_mass[k] - LOG_SQRT_2PI;
        if (!p->no_log_sigma) kd->log_norm[k] -= log(kd->sigma[k]);
    }
    return LOUPE_OK;
}

static int build_categorical(loupe__tpe_kdim *kd, const loupe_distribution *dist, const double *obs,
                             size_t stride, size_t n_obs, size_t n_kernels,
                             const loupe__tpe_pe_params *p) {
    size_t c = dist->n_choices;
    kd->categorical = 1;
    kd->n_choices = c;
    kd->probs = malloc(n_kernels * c * sizeof(double));
    kd->log_probs = malloc(n_kernels * c * sizeof(double));
    if (!kd->probs || !kd->log_probs) return LOUPE_ENOMEM;
    if (n_obs == 0) {
        for (size_t j = 0; j < c; j++) {
            kd->probs[j] = 1.0 / (double)c;
            kd->log_probs[j] = log(kd->probs[j]);
        }
        return LOUPE_OK;
    }
    /* Every row starts at prior_weight / n_kernels; an observation row gets +1
     * at its choice; rows are normalized (a zero row stays zero). */
    double base = p->prior_weight / (double)n_kernels;
    for (size_t k = 0; k < n_kernels; k++) {
        double *row = &kd->probs[k * c];
        for (size_t j = 0; j < c; j++) row[j] = base;
        if (k < n_obs) {
            double v = obs[k * stride];
            if (v >= 0 && v < (double)c) row[(size_t)v] += 1.0;
        }
        double sum = 0.0;
        for (size_t j = 0; j < c; j++) sum += row[j];
        if (sum == 0.0) sum = 1.0;
        for (size_t j = 0; j < c; j++) {
            row[j] /= sum;
            kd->log_probs[k * c + j] = log(row[j]);
        }
    }
    return LOUPE_OK;
}

int loupe__tpe_parzen_build(loupe__tpe_parzen *pe, const loupe_distribution *const *space,
                            size_t n_dims, const double *obs, size_t n_obs,
                            const double *obs_weights, const loupe__tpe_pe_params *params) {
    memset(pe, 0, sizeof *pe);
    if (!(params->prior_weight >= 0.0)) return LOUPE_EINVAL;
    int with_prior = params->consider_prior || n_obs == 0;
    size_t n_kernels = n_obs + (with_prior ? 1 : 0);
    pe->n_dims = n_dims;
    pe->n_obs = n_obs;
    pe->n_kernels = n_kernels;
    pe->weights = malloc(n_kernels * sizeof(double));
    pe->log_weights = malloc(n_kernels * sizeof(double));
    pe->dims = calloc(n_dims ? n_dims : 1, sizeof *pe->dims);
    if (!pe->weights || !pe->log_weights || !pe->dims) return LOUPE_ENOMEM;

    if (n_obs == 0) {
        pe->weights[0] = 1.0;
    } else {
        double sum = 0.0;
        for (size_t i = 0; i < n_obs; i++) sum += (pe->weights[i] = obs_weights[i]);
        if (with_prior) sum += (pe->weights[n_obs] = params->prior_weight);
        for (size_t k = 0; k < n_kernels; k++) pe->weights[k] /= sum;
    }
    for (size_t k = 0; k < n_kernels; k++) pe->log_weights[k] = log(pe->weights[k]);

    for (size_t d = 0; d < n_dims; d++) {
        int rc;
        if (space[d]->kind == LOUPE_DIST_CATEGORICAL)
            rc = build_categorical(&pe->dims[d], space[d], obs ? obs + d : NULL, n_dims, n_obs,
                                   n_kernels, params);
        else
            rc = build_numerical(&pe->dims[d], space[d], obs ? obs + d : NULL, n_dims, n_obs,
                                 n_dims, n_kernels, with_prior, params);
        if (rc != LOUPE_OK) return rc;
    }
    return LOUPE_OK;
}

/* numpy's rng.choice(p=w): the first index whose cumulative weight exceeds u. */
static size_t pick_kernel(const double *cdf, size_t n, double u) {
    size_t lo = 0, hi = n; /* first index with cdf > u */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < n ? lo : n - 1;
}

int loupe__tpe_parzen_sample(const loupe__tpe_parzen *pe, loupe__rng *rng, size_t n, double *out) {
    size_t nk = pe->n_kernels, D = pe->n_dims;
    size_t *active = malloc((n ? n : 1) * sizeof *active);
    double *cdf = malloc(nk * sizeof *cdf);
    if (!active || !cdf) {
        free(active);
        free(cdf);
        return LOUPE_ENOMEM;
    }
    double acc = 0.0;
    for (size_t k = 0; k < nk; k++) cdf[k] = (acc += pe->weights[k]);
    for (size_t k = 0; k < nk; k++) cdf[k] /= acc;
    for (size_t i = 0; i < n; i++) active[i] = pick_kernel(cdf, nk, loupe__rng_uniform(rng));
    free(cdf);

    /* categorical dimensions, in search-space order */
    for (size_t d = 0; d < D; d++) {
        const loupe__tpe_kdim *kd = &pe->dims[d];
        if (!kd->categorical) continue;
        for (size_t i = 0; i < n; i++) {
            double u = loupe__rng_uniform(rng);
            const double *row = &kd->probs[active[i] * kd->n_choices];
            double cum = 0.0;
            size_t count = 0;
            for (size_t j = 0; j < kd->n_choices; j++) {
                cum += row[j];
                /* the last cumulative value is taken as exactly 1 */
                double c = j + 1 == kd->n_choices ? 1.0 : cum;
                if (c < u) count++;
            }
            if (count >= kd->n_choices) count = kd->n_choices - 1;
            out[i * D + d] = (double)count;
        }
    }
    /* numerical dimensions: one quantile per (dimension, sample), dimension-major */
    for (size_t d = 0; d < D; d++) {
        const loupe__tpe_kdim *kd = &pe->dims[d];
        if (kd->categorical) continue;
        for (size_t i = 0; i < n; i++) {
            size_t k = active[i];
            double q = loupe__rng_uniform(rng);
            double z = loupe__tpe_truncnorm_ppf(q, kd->a[k], kd->b[k], kd->log_mass[k]);
            double x = z * kd->sigma[k] + kd->mu[k];
            if (kd->is_log) x = exp(x);
            if (kd->round_exp) x = rint(x);
            if (kd->step > 0) {
                /* nearest grid point from low; rint rounds half to even like np.round */
                x = kd->low + rint((x - kd->low) / kd->step) * kd->step;
            }
            /* keep the value in the domain (exp/rounding can leave it by an ulp) */
            if (x < kd->low) x = kd->low;
            if (x > kd->high) x = kd->high;
            out[i * D + d] = x;
        }
    }
    free(active);
    return LOUPE_OK;
}

/*
 * log p(x) = logsumexp_k(log w_k + sum_d log K_kd(x_d)). Kernels are visited in
 * the outer loop with a running (online) log-sum-exp per point, so memory stays
 * O(points) however many kernels there are. A grid dimension evaluates each
 * distinct candidate value once per kernel (grid values repeat often).
 */
int loupe__tpe_parzen_log_pdf(const loupe__tpe_parzen *pe, const double *x, size_t n, double *out) {
    size_t nk = pe->n_kernels, D = pe->n_dims;
    if (n == 0) return LOUPE_OK;
    size_t nd = D ? D : 1;
    double *xt = malloc(n * nd * sizeof *xt);     /* continuous: value in kernel space */
    size_t *uidx = malloc(n * nd * sizeof *uidx); /* grid: index of the distinct value */
    double *left = malloc(n * nd * sizeof *left); /* grid: cell bounds of distinct values */
    double *right = malloc(n * nd * sizeof *right);
    size_t *n_uniq = calloc(nd, sizeof *n_uniq);
    double *cell = malloc(n * nd * sizeof *cell); /* grid: per-kernel cell terms */
    double *mx = malloc(n * sizeof *mx), *sm = malloc(n * sizeof *sm);
    double *acc = malloc(n * sizeof *acc); /* one kernel's log density per point */
    int rc = LOUPE_ENOMEM;
    if (!xt || !uidx || !left || !right || !n_uniq || !cell || !mx || !sm || !acc) goto cleanup;

    for (size_t d = 0; d < D; d++) {
        const loupe__tpe_kdim *kd = &pe->dims[d];
        if (kd->categorical) continue;
        for (size_t i = 0; i < n; i++) {
            double xv = x[i * D + d];
            if (kd->step <= 0) {
                xt[d * n + i] = kd->is_log ? log(xv) : xv;
                continue;
            }
            size_t u = 0;
            while (u < n_uniq[d] && x[uidx[d * n + u] * D + d] != xv) u++;
            if (u == n_uniq[d]) {
                /* first occurrence: remember the point that has it */
                uidx[d * n + u] = i;
                double l = xv - kd->step / 2, r = xv + kd->step / 2;
                left[d * n + u] = kd->is_log ? log(l) : l;
                right[d * n + u] = kd->is_log ? log(r) : r;
                n_uniq[d]++;
            }
            xt[d * n + i] = (double)u; /* grid dims keep the distinct-value index here */
        }
    }
    for (size_t i = 0; i < n; i++) {
        mx[i] = -INFINITY;
        sm[i] = 0.0;
    }
    for (size_t k = 0; k < nk; k++) {
        double lw = pe->log_weights[k];
        if (lw == -INFINITY) continue; /* a zero-weight kernel adds nothing */
        for (size_t d = 0; d < D; d++) {
            const loupe__tpe_kdim *kd = &pe->dims[d];
            if (kd->categorical || kd->step <= 0) continue;
            double mu = kd->mu[k], s = kd->sigma[k], lm = kd->log_mass[k];
            for (size_t u = 0; u < n_uniq[d]; u++)
                cell[d * n + u] = loupe__tpe_log_gauss_mass((left[d * n + u] - mu) / s,
                                                            (right[d * n + u] - mu) / s) -
                                  lm;
        }
        /* this kernel's log density at every point, one dimension at a time (the
         * same order of additions per point as a point-by-point loop; the inner
         * loops run over contiguous points, which the compiler vectorizes) */
        for (size_t i = 0; i < n; i++) acc[i] = lw;
        for (size_t d = 0; d < D; d++) {
            const loupe__tpe_kdim *kd = &pe->dims[d];
            if (kd->categorical) {
                const double *lp = &kd->log_probs[k * kd->n_choices];
                for (size_t i = 0; i < n; i++) acc[i] += lp[(size_t)x[i * D + d]];
            } else if (kd->step > 0) {
                const double *c = &cell[d * n], *ui = &xt[d * n];
                for (size_t i = 0; i < n; i++) acc[i] += c[(size_t)ui[i]];
            } else {
                const double mu = kd->mu[k], sg = kd->sigma[k], a = kd->a[k], b = kd->b[k];
                const double ln = kd->log_norm[k], *xs = &xt[d * n];
                for (size_t i = 0; i < n; i++) {
                    double z = (xs[i] - mu) / sg;
                    acc[i] += (z < a || z > b) ? -INFINITY : -0.5 * z * z + ln;
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            double v = acc[i];
            if (v == -INFINITY) continue;
            if (v > mx[i]) {
                sm[i] = sm[i] * exp(mx[i] - v) + 1.0; /* exp(-inf) = 0 on the first term */
                mx[i] = v;
            } else {
                /* sm >= 1 (the largest term counts 1), so a term below exp(-38) <
                 * ulp(1)/2 would leave it unchanged: skipping its exp is exact.
                 * NaN fails the test and propagates, as in numpy. */
                double dv = v - mx[i];
                if (!(dv < -38.0)) sm[i] += exp(dv);
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        out[i] = mx[i] == -INFINITY && sm[i] == 0.0 ? -INFINITY : mx[i] + log(sm[i]);
    rc = LOUPE_OK;
cleanup:
    free(xt);
    free(uidx);
    free(left);
    free(right);
    free(n_uniq);
    free(cell);
    free(mx);
    free(sm);
    free(acc);
    return rc;
}
