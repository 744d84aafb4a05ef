/*
 * core.h -- the internal shape of study and trial handles, shared by the core's
 * files (study.c, trial.c, trial_cache.c). Nothing outside src/core includes it.
 */
#ifndef LOUPE_CORE_CORE_H
#define LOUPE_CORE_CORE_H

#include "core/trial_rec.h"
#include "loupe.h"
#include "sampler/sampler.h"
#include "storage/storage.h"
#include "yyjson.h"

/* The first distribution seen for a param name in a study: the one every later
 * suggestion of that name must be compatible with. */
typedef struct loupe__first_dist {
    char *name;
    loupe_distribution dist;
} loupe__first_dist;

struct loupe_study {
    loupe_storage *storage;
    int64_t study_id;
    char *name;
    size_t n_directions;
    loupe_direction *directions;
    loupe_sampler *sampler;

    /* Trial cache: every trial of the study by ascending trial_id (which is
     * number order). Finished records never change; unfinished ones are re-read
     * on each sync. */
    loupe__rec_vec trials;
    int64_t max_trial_id;
    size_t first_open; /* trials[0..first_open) are all finished: syncs look from here */
    loupe__first_dist *first_dists;
    size_t n_first_dists;
    size_t first_dists_alloc;

    loupe__study_info info; /* last read of the study's attrs (returned by pointer) */
    int open_trials;        /* live trial handles */
};

struct loupe_trial {
    loupe_study *study;
    loupe__trial_rec *rec;   /* this handle's view: stored data plus pending params */
    size_t n_flushed_params; /* rec->params[n_flushed_params..] are not stored yet */
    loupe__param_vec relative;
    yyjson_doc *fixed_params; /* the "fixed_params" system attr of an enqueued trial */
    /* A trial being asked whose row is not inserted yet: attributes set now
     * (the sampler's relative params) are kept in rec and inserted with it, so
     * an ask is one transaction. */
    int provisional;
};

/* Brings study->trials up to date with the storage (new and unfinished trials). */
int loupe__study_sync(loupe_study *study);
/* The study's first distribution for name, or NULL. Valid until the next sync. */
const loupe_distribution *loupe__study_first_dist(loupe_study *study, const char *name);
/* Records dist as the first distribution of name if none is known yet. */
int loupe__study_note_dist(loupe_study *study, const char *name, const loupe_distribution *dist);

/* Wraps records into a caller-owned list (retains each). */
loupe_trial_list *loupe__trial_list_new(loupe__trial_rec **recs, size_t n);

#endif
