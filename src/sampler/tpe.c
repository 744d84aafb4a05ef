/*
 * tpe.c -- the TPE sampler (Optuna 5.0's TPESampler): the sampler vtable,
 * multivariate/group/independent dispatch, the constant liar (RUNNING trials as
 * bad observations, relative params published in "tpe:relative_params:<i>"),
 * constraints, and one TPE proposal: split, two Parzen estimators, candidates,
 * argmax of log l - log g. Numerics live in tpe_math/tpe_parzen/tpe_mo, the
 * split in tpe_split, the per-study cache in tpe_history.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/distribution.h"
#include "core/errors.h"
#include "sampler/sampler.h"
#include "sampler/tpe_history.h"
#include "sampler/tpe_parzen.h"
#include "sampler/tpe_split.h"
#include "util/buf.h"
#include "util/pyjson.h"
#include "util/rng.h"

#define RELATIVE_PARAMS_KEY "tpe:relative_params"
#define SYSTEM_ATTR_MAX_LENGTH 2045 /* Optuna's limit for one system attr chunk */
#define MASK_USED                                                                                  \
    (LOUPE_STATE_BIT(LOUPE_COMPLETE) | LOUPE_STATE_BIT(LOUPE_PRUNED) |                             \
     LOUPE_STATE_BIT(LOUPE_RUNNING))

typedef struct tpe_sampler {
    loupe_sampler base; /* must be first */
    loupe_tpe_options o;
    loupe__rng rng;        /* TPE's own draws (candidates) */
    loupe__rng rng_random; /* the startup/fallback RandomSampler's draws */
    loupe__tpe_history hist;
    const void *hist_storage; /* the history belongs to (storage, study_id) */
    int warned_group;
} tpe_sampler;

/* One dimension of a search space being sampled. */
typedef struct dim {
    const char *name;
    size_t id;
    const loupe_distribution *dist;
} dim;

static int oom(loupe_study *study) {
    return loupe__error(loupe_study_storage(study), LOUPE_ENOMEM, "out of memory in TPESampler");
}

static int is_multivariate(tpe_sampler *s, loupe_study *study) {
    if (s->o.multivariate != LOUPE_TPE_AUTO) return s->o.multivariate;
    if (s->o.group) {
        if (loupe_study_n_objectives(study) > 1 && !s->warned_group) {
            s->warned_group = 1;
            fprintf(stderr,
                    "[loupe warning] TPESampler: multivariate defaults to off for multi-objective "
                    "optimization, but it is treated as on because group can only be enabled with "
                    "the multivariate TPE. Set multivariate=1 explicitly to suppress this "
                    "warning.\n");
        }
        return 1;
    }
    return loupe_study_n_objectives(study) <= 1;
}

/* Reads the study's trials and records those that finished since last time.
 * *list receives COMPLETE, PRUNED and RUNNING snapshots (caller frees). */
static int sync_history(tpe_sampler *s, loupe_study *study, loupe_trial_list **list) {
    int rc = loupe_study_get_trials(study, MASK_USED, list);
    if (rc) return rc;
    const void *st = loupe_study_storage(study);
    int64_t sid = loupe_study_id(study);
    if (!s->hist.bound || s->hist.study_id != sid || s->hist_storage != st) {
        /* another study: start over (the caches are per study) */
        loupe__tpe_history_free(&s->hist);
        loupe__tpe_history_init(&s->hist);
        s->hist.bound = 1;
        s->hist.study_id = sid;
        s->hist_storage = st;
    }
    size_t n = loupe_trial_list_count(*list);
    for (size_t i = 0; i < n; i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(*list, i);
        if (t->state == LOUPE_RUNNING || loupe__tpe_history_has(&s->hist, t->number)) continue;
        rc = loupe__tpe_history_add(&s->hist, t);
        if (rc) {
            /* a half-applied update: forget everything and rebuild next time */
            loupe__tpe_history_free(&s->hist);
            loupe__tpe_history_init(&s->hist);
            loupe_trial_list_free(*list);
            *list = NULL;
            return oom(study);
        }
    }
    return LOUPE_OK;
}

/* The published relative params of a RUNNING trial (chunks joined), parsed;
 * NULL when there are none or they do not parse (a partial write). */
static yyjson_doc *published_params(const loupe_frozen_trial *t) {
    loupe__buf joined;
    loupe__buf_init(&joined, 0);
    char key[64];
    for (int i = 0;; i++) {
        snprintf(key, sizeof key, RELATIVE_PARAMS_KEY ":%d", i);
        const char *js = loupe_frozen_trial_system_attr(t, key);
        if (!js) break;
        char err[8];
        yyjson_doc *d = loupe__pyjson_parse(js, strlen(js), err, sizeof err);
        yyjson_val *v = d ? yyjson_doc_get_root(d) : NULL;
        int go = v && yyjson_is_str(v) && yyjson_get_len(v) > 0;
        if (go) loupe__buf_append(&joined, yyjson_get_str(v), yyjson_get_len(v));
        if (d) yyjson_doc_free(d);
        if (!go) break;
    }
    yyjson_doc *doc = NULL;
    if (joined.len && !joined.failed) {
        char err[8];
        doc = loupe__pyjson_parse(joined.data, joined.len, err, sizeof err);
        if (doc && !yyjson_is_obj(yyjson_doc_get_root(doc))) {
            yyjson_doc_free(doc);
            doc = NULL;
        }
    }
    loupe__buf_free(&joined);
    return doc;
}

/* A record for a RUNNING trial: its own params, plus (multivariate) the
 * published relative params for the dims it has not suggested yet. */
static int running_record(tpe_sampler *s, loupe__tpe_rec *r, const loupe_frozen_trial *t,
                          const dim *dims, size_t n_dims, int multivariate) {
    int rc = loupe__tpe_rec_fill(&s->hist, r, t, 0);
    if (rc || !multivariate) return rc;
    yyjson_doc *doc = published_params(t);
    if (!doc) return LOUPE_OK;
    yyjson_val *root = yyjson_doc_get_root(doc);
    loupe__buf b;
    loupe__buf_init(&b, 0);
    for (size_t d = 0; d < n_dims; d++) {
        if (dims[d].id < r->n_pv && !isnan(r->pv[dims[d].id])) continue; /* trial.params win */
        yyjson_val *v = yyjson_obj_get(root, dims[d].name);
        if (!v) continue;
        loupe__buf_reset(&b);
        loupe__pyjson_value(&b, v);
        double internal;
        if (b.failed) {
            rc = LOUPE_ENOMEM;
            break;
        }
        if (dims[d].id < r->n_pv &&
            loupe__distribution_internal_from_json(dims[d].dist, b.data, &internal) == LOUPE_OK)
            r->pv[dims[d].id] = internal;
    }
    loupe__buf_free(&b);
    yyjson_doc_free(doc);
    return rc;
}

/* Observations (rows of the dims' internal values) of the records that have
 * every dim, and their weights. */
static int observations(const loupe__tpe_rec *const *recs, size_t n, const dim *dims, size_t n_dims,
                        double **obs_out, size_t *n_obs) {
    double *obs = malloc((n ? n : 1) * (n_dims ? n_dims : 1) * sizeof *obs);
    if (!obs) return LOUPE_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int all = 1;
        for (size_t d = 0; d < n_dims && all; d++) {
            double v = loupe__tpe_rec_param(recs[i], dims[d].id);
            if (isnan(v)) all = 0;
            obs[k * n_dims + d] = v;
        }
        if (all) k++;
    }
    *obs_out = obs;
    *n_obs = k;
    return LOUPE_OK;
}

static int obs_weights(tpe_sampler *s, loupe_study *study, size_t n, int uniform, double **out) {
    double *w = malloc((n ? n : 1) * sizeof *w);
    if (!w) return oom(study);
    if (uniform) {
        for (size_t i = 0; i < n; i++) w[i] = 1.0;
    } else if (s->o.weights) {
        int cb = s->o.weights(n, w, s->o.weights_data);
        if (cb) {
            free(w);
            return loupe__error(loupe_study_storage(study), LOUPE_EINVAL,
                                "the TPE weights callback failed (returned %d) for %zu "
                                "observations",
                                cb, n);
        }
    } else {
        loupe_tpe_default_weights(n, w, NULL);
    }
    char err[200];
    if (loupe__tpe_check_weights(w, n, err, sizeof err) != LOUPE_OK) {
        free(w);
        return loupe__error(loupe_study_storage(study), LOUPE_EINVAL, "%s", err);
    }
    *out = w;
    return LOUPE_OK;
}

/*
 * One TPE proposal for the dims (Optuna's _sample): internal values into out.
 * list holds the COMPLETE/PRUNED/RUNNING snapshots read by sync_history.
 */
static int sample_dims(tpe_sampler *s, loupe_study *study, loupe_trial *trial,
                       const loupe_trial_list *list, const dim *dims, size_t n_dims, double *out) {
    int rc = LOUPE_OK;
    loupe_storage *st = loupe_study_storage(study);
    size_t n_obj = loupe_study_n_objectives(study);
    loupe_direction dirs_small[4];
    loupe_direction *dirs = n_obj <= 4 ? dirs_small : malloc(n_obj * sizeof *dirs);
    size_t n_list = loupe_trial_list_count(list);
    size_t n_total = s->hist.n_recs + n_list;
    const loupe__tpe_rec **recs = malloc((n_total ? n_total : 1) * sizeof *recs);
    const loupe__tpe_rec **below = malloc((n_total ? n_total : 1) * sizeof *below);
    const loupe__tpe_rec **above = malloc((n_total ? n_total : 1) * sizeof *above);
    loupe__tpe_rec *running = calloc(n_list ? n_list : 1, sizeof *running);
    const loupe_distribution **space = malloc((n_dims ? n_dims : 1) * sizeof *space);
    size_t n_ei = (size_t)s->o.n_ei_candidates;
    double *cand = malloc(n_ei * (n_dims ? n_dims : 1) * sizeof *cand);
    double *ll = malloc(n_ei * sizeof *ll), *lg = malloc(n_ei * sizeof *lg);
    double *obs_b = NULL, *obs_a = NULL, *w_b = NULL, *w_a = NULL;
    size_t n_running = 0;
    loupe__tpe_parzen pe_b, pe_a;
    memset(&pe_b, 0, sizeof pe_b);
    memset(&pe_a, 0, sizeof pe_a);
    if (!dirs || !recs || !below || !above || !running || !space || !cand || !ll || !lg) {
        rc = oom(study);
        goto cleanup;
    }
    for (size_t i = 0; i < n_obj; i++) dirs[i] = loupe_study_direction(study, i);
    for (size_t d = 0; d < n_dims; d++) space[d] = dims[d].dist;

    /* 1. trials: finished ones from the cache, plus RUNNING ones (constant liar),
     *    never the trial being sampled */
    size_t n = 0;
    for (size_t i = 0; i < s->hist.n_recs; i++) recs[n++] = &s->hist.recs[i];
    if (s->o.constant_liar) {
        int mv = is_multivariate(s, study);
        int64_t me = loupe_trial_number(trial);
        for (size_t i = 0; i < n_list; i++) {
            const loupe_frozen_trial *t = loupe_trial_list_at(list, i);
            if (t->state != LOUPE_RUNNING || t->number == me) continue;
            rc = running_record(s, &running[n_running], t, dims, n_dims, mv);
            n_running++;
            if (rc) {
                rc = oom(study);
                goto cleanup;
            }
            recs[n++] = &running[n_running - 1];
        }
    }

    /* 2. gamma of the finished count */
    size_t n_finished = s->hist.n_recs;
    int64_t g;
    if (s->o.gamma)
        g = s->o.gamma(n_finished, s->o.gamma_data);
    else if (n_obj <= 1 || s->o.rules == LOUPE_TPE_RULES_OPTUNA_3_1)
        g = loupe_tpe_default_gamma(n_finished, NULL);
    else
        g = loupe_tpe_default_gamma_multiobjective(n_finished, NULL);
    if (g < 0) {
        rc = loupe__error(st, LOUPE_EINVAL,
                          "the TPE gamma callback returned %lld for %zu finished trials; it must "
                          "return the number of good trials (>= 0)",
                          (long long)g, n_finished);
        goto cleanup;
    }

    /* 3. split */
    size_t nb, na;
    rc = loupe__tpe_split(recs, n, n_obj, dirs, (size_t)g, below, &nb, above, &na);
    if (rc) {
        rc = oom(study);
        goto cleanup;
    }

    /* 4. estimators */
    size_t nob, noa;
    if (observations(below, nb, dims, n_dims, &obs_b, &nob) ||
        observations(above, na, dims, n_dims, &obs_a, &noa)) {
        rc = oom(study);
        goto cleanup;
    }
    rc = obs_weights(s, study, nob, n_obj > 1, &w_b);
    if (rc) goto cleanup;
    rc = obs_weights(s, study, noa, 0, &w_a);
    if (rc) goto cleanup;
    loupe__tpe_pe_params pp = {.prior_weight = s->o.prior_weight,
                               .consider_prior = s->o.consider_prior,
                               .consider_magic_clip = s->o.consider_magic_clip,
                               .consider_endpoints = s->o.consider_endpoints};
    if (s->o.rules == LOUPE_TPE_RULES_OPTUNA_3_1) {
        pp.prior_in_bandwidth = 1;
        pp.scott_rule = is_multivariate(s, study);
        pp.int_log_continuous = 1;
        pp.no_log_sigma = 1;
    }
    rc = loupe__tpe_parzen_build(&pe_b, space, n_dims, obs_b, nob, w_b, &pp);
    if (rc == LOUPE_OK) rc = loupe__tpe_parzen_build(&pe_a, space, n_dims, obs_a, noa, w_a, &pp);
    if (rc == LOUPE_EINVAL) {
        rc = loupe__error(st, rc, "TPE prior_weight must be >= 0, got %g", s->o.prior_weight);
        goto cleanup;
    }
    if (rc) {
        rc = oom(study);
        goto cleanup;
    }

    /* 5.-7. candidates from l, acquisition log l - log g, first argmax */
    if (loupe__tpe_parzen_sample(&pe_b, &s->rng, n_ei, cand) ||
        loupe__tpe_parzen_log_pdf(&pe_b, cand, n_ei, ll) ||
        loupe__tpe_parzen_log_pdf(&pe_a, cand, n_ei, lg)) {
        rc = oom(study);
        goto cleanup;
    }
    size_t best = 0;
    double best_acq = ll[0] - lg[0];
    for (size_t i = 1; i < n_ei && !isnan(best_acq); i++) {
        double acq = ll[i] - lg[i];
        if (acq > best_acq || isnan(acq)) { /* numpy argmax: the first NaN wins */
            best = i;
            best_acq = acq;
        }
    }
    for (size_t d = 0; d < n_dims; d++) out[d] = cand[best * n_dims + d];
    rc = LOUPE_OK;
cleanup:
    loupe__tpe_parzen_free(&pe_b);
    loupe__tpe_parzen_free(&pe_a);
    for (size_t i = 0; i < n_running; i++) loupe__tpe_rec_free(&running[i]);
    if (dirs != dirs_small) free(dirs);
    free(recs);
    free(below);
    free(above);
    free(running);
    free(space);
    free(cand);
    free(ll);
    free(lg);
    free(obs_b);
    free(obs_a);
    free(w_b);
    free(w_a);
    return rc;
}

static int dim_by_name(const void *a, const void *b) {
    return strcmp(((const dim *)a)->name, ((const dim *)b)->name);
}

/* dims of a search-space part: sorted by name, single-value ones dropped. */
static dim *space_dims(tpe_sampler *s, const loupe__tpe_space *sp, size_t *n_out) {
    dim *dims = malloc((sp->len ? sp->len : 1) * sizeof *dims);
    if (!dims) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < sp->len; i++) {
        const loupe__tpe_sp_entry *e = &sp->items[i];
        if (loupe__distribution_single(&e->dist)) continue;
        dims[n].name = s->hist.names[e->id];
        dims[n].id = e->id;
        dims[n].dist = &e->dist;
        n++;
    }
    qsort(dims, n, sizeof *dims, dim_by_name);
    *n_out = n;
    return dims;
}

/* Optuna's sample_relative publishing: json.dumps(params) in chunks of at most
 * 2045 characters, each stored as a JSON string. */
static int publish_relative(loupe_study *study, loupe_trial *trial, const loupe__param_vec *out) {
    loupe__buf js, chunk;
    loupe__buf_init(&js, 0);
    loupe__buf_init(&chunk, 0);
    loupe__buf_putc(&js, '{');
    for (size_t i = 0; i < out->len; i++) {
        if (i) loupe__buf_puts(&js, ", ");
        loupe__pyjson_string(&js, out->items[i].name, strlen(out->items[i].name));
        loupe__buf_puts(&js, ": ");
        loupe__distribution_external_json(&js, &out->items[i].dist, out->items[i].internal);
    }
    loupe__buf_putc(&js, '}');
    int rc = js.failed ? oom(study) : LOUPE_OK;
    /* ensure_ascii output: characters are bytes */
    for (size_t off = 0, i = 0; rc == LOUPE_OK && off < js.len;
         off += SYSTEM_ATTR_MAX_LENGTH, i++) {
        size_t len = js.len - off < SYSTEM_ATTR_MAX_LENGTH ? js.len - off : SYSTEM_ATTR_MAX_LENGTH;
        char key[64];
        snprintf(key, sizeof key, RELATIVE_PARAMS_KEY ":%zu", i);
        loupe__buf_reset(&chunk);
        loupe__pyjson_string(&chunk, js.data + off, len);
        if (chunk.failed)
            rc = oom(study);
        else
            rc = loupe_trial_set_system_attr(trial, key, chunk.data);
    }
    loupe__buf_free(&js);
    loupe__buf_free(&chunk);
    return rc;
}

static int tpe_sample_relative(loupe_sampler *base, loupe_study *study, loupe_trial *trial,
                               loupe__param_vec *out) {
    tpe_sampler *s = (tpe_sampler *)base;
    if (!is_multivariate(s, study)) return LOUPE_OK;
    loupe_trial_list *list = NULL;
    int rc = sync_history(s, study, &list);
    if (rc) return rc;
    /* the parts to sample jointly: the intersection, or each group */
    const loupe__tpe_space *parts = s->o.group ? s->hist.groups : &s->hist.inter;
    size_t n_parts = s->o.group ? s->hist.n_groups : (s->hist.inter_set ? 1 : 0);
    int enough = s->hist.n_recs >= (size_t)s->o.n_startup_trials;
    for (size_t p = 0; p < n_parts && enough && rc == LOUPE_OK; p++) {
        size_t n_dims = 0;
        dim *dims = space_dims(s, &parts[p], &n_dims);
        double *vals = malloc((n_dims ? n_dims : 1) * sizeof *vals);
        if (!dims || !vals)
            rc = oom(study);
        else if (n_dims > 0)
            rc = sample_dims(s, study, trial, list, dims, n_dims, vals);
        for (size_t d = 0; rc == LOUPE_OK && d < n_dims; d++)
            if (loupe__param_vec_push(out, dims[d].name, dims[d].dist, vals[d])) rc = oom(study);
        free(dims);
        free(vals);
    }
    loupe_trial_list_free(list);
    if (rc == LOUPE_OK && out->len > 0 && s->o.constant_liar)
        rc = publish_relative(study, trial, out);
    return rc;
}

static int tpe_sample_independent(loupe_sampler *base, loupe_study *study, loupe_trial *trial,
                                  const char *name, const loupe_distribution *dist,
                                  double *internal) {
    tpe_sampler *s = (tpe_sampler *)base;
    if (loupe__distribution_single(dist)) {
        /* one possible value: nothing to sample (Optuna's Trial answers these) */
        *internal = dist->kind == LOUPE_DIST_CATEGORICAL ? 0.0 : dist->low;
        return LOUPE_OK;
    }
    loupe_trial_list *list = NULL;
    int rc = sync_history(s, study, &list);
    if (rc) return rc;
    if (s->hist.n_recs < (size_t)s->o.n_startup_trials) {
        double v = loupe__sample_uniform_internal(&s->rng_random, dist);
        loupe_trial_list_free(list);
        if (isnan(v))
            return loupe__error(loupe_study_storage(study), LOUPE_EINVAL,
                                "param '%s' has a distribution that cannot be sampled", name);
        *internal = v;
        return LOUPE_OK;
    }
    size_t id = loupe__tpe_name_id(&s->hist, name, 1);
    if (id == (size_t)-1) {
        loupe_trial_list_free(list);
        return oom(study);
    }
    if (s->o.warn_independent_sampling && is_multivariate(s, study)) {
        int seen = 0;
        for (size_t i = 0; i < s->hist.n_recs && !seen; i++)
            seen = !isnan(loupe__tpe_rec_param(&s->hist.recs[i], id));
        if (seen)
            fprintf(stderr,
                    "[loupe warning] TPESampler: the parameter '%s' in trial#%lld is sampled "
                    "independently instead of being sampled by multivariate TPE: "
                    "multivariate=1, group=0 does not support dynamic search space (but "
                    "multivariate=1, group=1 works).\n",
                    name, (long long)loupe_trial_number(trial));
    }
    dim one = {.name = name, .id = id, .dist = dist};
    rc = sample_dims(s, study, trial, list, &one, 1, internal);
    loupe_trial_list_free(list);
    return rc;
}

static int tpe_after_trial(loupe_sampler *base, loupe_study *study, loupe_trial *trial,
                           loupe_trial_state state, size_t n_values, const double *values) {
    tpe_sampler *s = (tpe_sampler *)base;
    if (!s->o.constraints || (state != LOUPE_COMPLETE && state != LOUPE_PRUNED)) return LOUPE_OK;
    loupe_storage *st = loupe_study_storage(study);
    const loupe_frozen_trial *snap;
    int rc = loupe_trial_snapshot(trial, &snap);
    if (rc) return rc;
    double c[LOUPE_TPE_MAX_CONSTRAINTS];
    size_t n = 0;
    int cb = s->o.constraints(snap, state, n_values, values, c, LOUPE_TPE_MAX_CONSTRAINTS, &n,
                              s->o.constraints_data);
    int bad_nan = 0;
    for (size_t i = 0; !cb && i < n && i < LOUPE_TPE_MAX_CONSTRAINTS; i++) bad_nan |= isnan(c[i]);
    if (cb || bad_nan || n > LOUPE_TPE_MAX_CONSTRAINTS) {
        /* as Optuna: the attribute is still written, as null */
        loupe_trial_set_system_attr(trial, "constraints", "null");
        if (cb)
            return loupe__error(st, LOUPE_EINVAL,
                                "the TPE constraints callback failed (returned %d) for trial#%lld",
                                cb, (long long)loupe_trial_number(trial));
        if (bad_nan)
            return loupe__error(st, LOUPE_EINVAL,
                                "Constraint values cannot be NaN (trial#%lld); return finite "
                                "numbers, <= 0 when satisfied",
                                (long long)loupe_trial_number(trial));
        return loupe__error(st, LOUPE_EINVAL,
                            "the TPE constraints callback reported %zu values; at most %d fit", n,
                            LOUPE_TPE_MAX_CONSTRAINTS);
    }
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) loupe__buf_puts(&b, ", ");
        loupe__pyjson_double(&b, c[i]);
    }
    loupe__buf_putc(&b, ']');
    rc = b.failed ? oom(study) : loupe_trial_set_system_attr(trial, "constraints", b.data);
    loupe__buf_free(&b);
    return rc;
}

static void tpe_destroy(loupe_sampler *base) {
    tpe_sampler *s = (tpe_sampler *)base;
    loupe__tpe_history_free(&s->hist);
    free(s);
}

static const loupe__sampler_ops tpe_ops = {
    .name = "TPESampler",
    .destroy = tpe_destroy,
    .sample_relative = tpe_sample_relative,
    .sample_independent = tpe_sample_independent,
    .after_trial = tpe_after_trial,
};

int loupe_sampler_tpe_new(const loupe_tpe_options *opts, loupe_sampler **out) {
    if (!out) return LOUPE_EINVAL;
    *out = NULL;
    loupe_tpe_options o;
    if (opts)
        o = *opts;
    else
        loupe_tpe_options_init(&o);
    if (loupe_tpe_options_check(&o, NULL, 0) != LOUPE_OK) return LOUPE_EINVAL;
    tpe_sampler *s = calloc(1, sizeof *s);
    if (!s) return LOUPE_ENOMEM;
    s->base.ops = &tpe_ops;
    s->o = o;
    uint64_t seed = o.has_seed ? o.seed : loupe__rng_entropy_seed();
    /* The fallback draws exactly what RandomSampler(seed) would; TPE's own
     * stream is seeded apart so the two are not correlated. */
    loupe__rng_seed(&s->rng_random, seed);
    loupe__rng_seed(&s->rng, seed ^ 0x5450455341ULL /* "TPESA" */);
    loupe__tpe_history_init(&s->hist);
    *out = &s->base;
    return LOUPE_OK;
}
