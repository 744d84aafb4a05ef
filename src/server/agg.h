/*
 * agg.h -- the study properties optuna-dashboard derives from its trials,
 * maintained incrementally: intersection and union search spaces, user-attr
 * keys with sortability, the intermediate-values flag, the best trial and
 * the Pareto front. A trial is folded in once it is finished (its data never
 * changes again); unfinished trials are folded into a copy at render time.
 */
#ifndef LOUPE_SERVER_AGG_H
#define LOUPE_SERVER_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "loupe.h"
#include "util/buf.h"

typedef struct loupe__ss_item {
    char *name;
    loupe_distribution dist; /* deep copy (choices owned) */
} loupe__ss_item;

typedef struct loupe__ss {
    loupe__ss_item *items;
    size_t n, alloc;
    int init; /* intersection: a trial has been folded in */
} loupe__ss;

typedef struct loupe__ua_item {
    char *key;
    int sortable;
} loupe__ua_item;

typedef struct loupe__agg {
    loupe__ss uni, inter;
    loupe__ua_item *ua;
    size_t n_ua, alloc_ua;
    int has_iv;
} loupe__agg;

/* Folds a trial in, as upstream's _CachedExtraStudyProperty.update does, with
 * one fix: an unfinished trial without params (just asked, or enqueued) does
 * not empty the intersection. LOUPE_OK or LOUPE_ENOMEM. */
int loupe__agg_fold(loupe__agg *a, const loupe_frozen_trial *t);
int loupe__agg_copy(loupe__agg *dst, const loupe__agg *src);
void loupe__agg_free(loupe__agg *a);
/* [{"name": ..., "distribution": {...}}, ...] sorted by name. */
void loupe__agg_write_ss(loupe__buf *b, const loupe__ss *ss);
/* [{"key": ..., "sortable": b}, ...] sorted by key (upstream forgets to sort). */
void loupe__agg_write_ua(loupe__buf *b, const loupe__agg *a);

/* The usable objective vector of a COMPLETE trial, as values to minimize. */
int loupe__agg_usable(const loupe_frozen_trial *t, size_t n_obj);
/* Non-zero when a should replace b as the best single-objective trial: better
 * value, or equal value and lower number. */
int loupe__agg_better(const loupe_frozen_trial *a, const loupe_frozen_trial *b, loupe_direction d);
/* Non-zero when a dominates b (no worse everywhere, better somewhere). */
int loupe__agg_dominates(const loupe_frozen_trial *a, const loupe_frozen_trial *b, size_t n_obj,
                         const loupe_direction *dirs);

#endif
