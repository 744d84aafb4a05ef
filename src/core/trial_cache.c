/*
 * trial_cache.c -- the study handle's trial cache and every read built on it:
 * get_trials, trial by number, best trial(s), counts. Finished trials are
 * immutable, so a sync reads only trials that are new or were unfinished.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/errors.h"

struct loupe_trial_list {
    loupe__trial_rec **items;
    size_t len;
};

loupe_trial_list *loupe__trial_list_new(loupe__trial_rec **recs, size_t n) {
    loupe_trial_list *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->items = malloc((n ? n : 1) * sizeof *l->items);
    if (!l->items) {
        free(l);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        loupe__trial_rec_retain(recs[i]);
        l->items[i] = recs[i];
    }
    l->len = n;
    return l;
}

size_t loupe_trial_list_count(const loupe_trial_list *list) { return list ? list->len : 0; }

const loupe_frozen_trial *loupe_trial_list_at(const loupe_trial_list *list, size_t i) {
    return list && i < list->len ? &list->items[i]->t : NULL;
}

void loupe_trial_list_free(loupe_trial_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->len; i++) loupe__trial_rec_release(list->items[i]);
    free(list->items);
    free(list);
}

const loupe_distribution *loupe__study_first_dist(loupe_study *study, const char *name) {
    for (size_t i = 0; i < study->n_first_dists; i++)
        if (strcmp(study->first_dists[i].name, name) == 0) return &study->first_dists[i].dist;
    return NULL;
}

int loupe__study_note_dist(loupe_study *study, const char *name, const loupe_distribution *dist) {
    if (loupe__study_first_dist(study, name)) return LOUPE_OK;
    if (study->n_first_dists == study->first_dists_alloc) {
        size_t na = study->first_dists_alloc ? study->first_dists_alloc * 2 : 8;
        loupe__first_dist *p = realloc(study->first_dists, na * sizeof *p);
        if (!p) return LOUPE_ENOMEM;
        study->first_dists = p;
        study->first_dists_alloc = na;
    }
    loupe__first_dist *f = &study->first_dists[study->n_first_dists];
    f->name = strdup(name);
    if (!f->name) return LOUPE_ENOMEM;
    if (loupe__distribution_copy(&f->dist, dist)) {
        free(f->name);
        return LOUPE_ENOMEM;
    }
    study->n_first_dists++;
    return LOUPE_OK;
}

/* Index of trial_id in the (sorted) cache, or -1. */
static ptrdiff_t find_cached(const loupe_study *study, int64_t trial_id) {
    size_t lo = 0, hi = study->trials.len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t id = study->trials.items[mid]->t.trial_id;
        if (id == trial_id) return (ptrdiff_t)mid;
        if (id < trial_id) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

int loupe__study_sync(loupe_study *study) {
    loupe_storage *s = study->storage;
    int64_t *ids = NULL;
    size_t n_ids = 0;
    loupe__rec_vec fresh = {0};
    int rc = LOUPE_OK;
    /* finished trials stay finished: the prefix before first_open is skipped */
    while (study->first_open < study->trials.len &&
           loupe_trial_state_is_finished(study->trials.items[study->first_open]->t.state))
        study->first_open++;
    for (size_t i = study->first_open; i < study->trials.len; i++)
        if (!loupe_trial_state_is_finished(study->trials.items[i]->t.state)) n_ids++;
    if (n_ids) {
        ids = malloc(n_ids * sizeof *ids);
        if (!ids) return loupe__error(s, LOUPE_ENOMEM, "out of memory");
        n_ids = 0;
        for (size_t i = study->first_open; i < study->trials.len; i++)
            if (!loupe_trial_state_is_finished(study->trials.items[i]->t.state))
                ids[n_ids++] = study->trials.items[i]->t.trial_id;
    }
    rc = s->ops->read_trials(s, study->study_id, study->max_trial_id, n_ids, ids, &fresh);
    if (rc) goto cleanup;
    for (size_t i = 0; i < fresh.len; i++) {
        loupe__trial_rec *r = fresh.items[i];
        ptrdiff_t at = r->t.trial_id <= study->max_trial_id ? find_cached(study, r->t.trial_id) : -1;
        if (at >= 0) {
            loupe__trial_rec_release(study->trials.items[at]);
            study->trials.items[at] = r;
        } else {
            rc = loupe__rec_vec_push(&study->trials, r);
            if (rc) {
                rc = loupe__error(s, rc, "out of memory");
                goto cleanup;
            }
            if (r->t.trial_id > study->max_trial_id) study->max_trial_id = r->t.trial_id;
        }
        fresh.items[i] = NULL; /* moved into the cache */
        for (size_t p = 0; p < r->t.n_params; p++) {
            rc = loupe__study_note_dist(study, r->t.params[p].name, &r->t.params[p].dist);
            if (rc) {
                rc = loupe__error(s, rc, "out of memory");
                goto cleanup;
            }
        }
    }
cleanup:
    for (size_t i = 0; i < fresh.len; i++)
        if (fresh.items[i]) loupe__trial_rec_release(fresh.items[i]);
    free(fresh.items);
    free(ids);
    return rc;
}

int loupe_study_get_trials(loupe_study *study, unsigned state_mask, loupe_trial_list **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    loupe__error_clear(study->storage);
    int rc = loupe__study_sync(study);
    if (rc) return rc;
    if (state_mask == 0) state_mask = LOUPE_STATES_ALL;
    loupe_trial_list *l = loupe__trial_list_new(NULL, 0);
    if (!l) return loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
    free(l->items);
    l->items = malloc((study->trials.len ? study->trials.len : 1) * sizeof *l->items);
    if (!l->items) {
        free(l);
        return loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < study->trials.len; i++) {
        loupe__trial_rec *r = study->trials.items[i];
        if (state_mask & LOUPE_STATE_BIT(r->t.state)) {
            loupe__trial_rec_retain(r);
            l->items[l->len++] = r;
        }
    }
    *out = l;
    return LOUPE_OK;
}

int loupe_study_get_trial(loupe_study *study, int64_t number, loupe_trial_list **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    loupe__error_clear(study->storage);
    int rc = loupe__study_sync(study);
    if (rc) return rc;
    /* numbers are dense and follow trial_id order, so the index is the number */
    loupe__trial_rec *r = NULL;
    if (number >= 0 && (size_t)number < study->trials.len &&
        study->trials.items[number]->t.number == number)
        r = study->trials.items[number];
    for (size_t i = 0; !r && i < study->trials.len; i++)
        if (study->trials.items[i]->t.number == number) r = study->trials.items[i];
    if (!r)
        return loupe__error(study->storage, LOUPE_ENOTFOUND,
                            "Study '%s' has no trial number %lld.", study->name, (long long)number);
    *out = loupe__trial_list_new(&r, 1);
    return *out ? LOUPE_OK : loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
}

int loupe_study_count_trials(loupe_study *study, int64_t counts[5]) {
    if (!study || !counts) return LOUPE_EINVAL;
    loupe__error_clear(study->storage);
    int rc = loupe__study_sync(study);
    if (rc) return rc;
    memset(counts, 0, 5 * sizeof *counts);
    for (size_t i = 0; i < study->trials.len; i++) {
        unsigned st = (unsigned)study->trials.items[i]->t.state;
        if (st < 5) counts[st]++;
    }
    return LOUPE_OK;
}

/* A complete trial's value for objective k, as a number to minimize. */
static double minimized(const loupe_study *study, const loupe_frozen_trial *t, size_t k) {
    double v = k < t->n_values ? t->values[k] : NAN;
    return study->directions[k] == LOUPE_MAXIMIZE ? -v : v;
}

static int usable_complete(const loupe_study *study, const loupe_frozen_trial *t) {
    if (t->state != LOUPE_COMPLETE || t->n_values != study->n_directions) return 0;
    for (size_t k = 0; k < t->n_values; k++)
        if (isnan(t->values[k])) return 0;
    return 1;
}

int loupe_study_best_trial(loupe_study *study, loupe_trial_list **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    loupe__error_clear(study->storage);
    if (study->n_directions != 1)
        return loupe__error(study->storage, LOUPE_ESTATE,
                            "A single best trial cannot be retrieved from a multi-objective study. "
                            "Use loupe_study_best_trials() for the Pareto front.");
    int rc = loupe__study_sync(study);
    if (rc) return rc;
    loupe__trial_rec *best = NULL;
    for (size_t i = 0; i < study->trials.len; i++) {
        loupe__trial_rec *r = study->trials.items[i];
        if (!usable_complete(study, &r->t)) continue;
        if (!best || minimized(study, &r->t, 0) < minimized(study, &best->t, 0)) best = r;
    }
    if (!best)
        return loupe__error(study->storage, LOUPE_ENOTRIAL,
                            "Record not found: study '%s' has no COMPLETE trial yet.", study->name);
    *out = loupe__trial_list_new(&best, 1);
    return *out ? LOUPE_OK : loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
}

/* a dominates b: no worse in every objective and better in one. */
static int dominates(const loupe_study *study, const loupe_frozen_trial *a, const loupe_frozen_trial *b) {
    int better = 0;
    for (size_t k = 0; k < study->n_directions; k++) {
        double x = minimized(study, a, k), y = minimized(study, b, k);
        if (x > y) return 0;
        if (x < y) better = 1;
    }
    return better;
}

int loupe_study_best_trials(loupe_study *study, loupe_trial_list **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    loupe__error_clear(study->storage);
    int rc = loupe__study_sync(study);
    if (rc) return rc;
    loupe__trial_rec **front = malloc((study->trials.len ? study->trials.len : 1) * sizeof *front);
    if (!front) return loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
    size_t n = 0;
    /* Keep a running front: each candidate is checked against it only. Trials
     * arrive in number order and removals keep the order, so the front stays
     * sorted by number. */
    for (size_t i = 0; i < study->trials.len; i++) {
        loupe__trial_rec *r = study->trials.items[i];
        if (!usable_complete(study, &r->t)) continue;
        int dominated = 0;
        for (size_t j = 0; j < n && !dominated; j++) dominated = dominates(study, &front[j]->t, &r->t);
        if (dominated) continue;
        size_t w = 0;
        for (size_t j = 0; j < n; j++)
            if (!dominates(study, &r->t, &front[j]->t)) front[w++] = front[j];
        n = w;
        front[n++] = r;
    }
    *out = loupe__trial_list_new(front, n);
    free(front);
    return *out ? LOUPE_OK : loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
}
