/*
 * tpe_history.h -- what a TPE sampler remembers about one study between asks:
 * a record (see tpe_split.h) for every finished (COMPLETE or PRUNED) trial,
 * param names interned to small ids, and the intersection and group-decomposed
 * search spaces of those trials. Finished trials never change, so each is read
 * once; an ask only adds the trials that finished since the last one.
 */
#ifndef LOUPE_SAMPLER_TPE_HISTORY_H
#define LOUPE_SAMPLER_TPE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "loupe.h"
#include "sampler/tpe_split.h"

/* A search-space entry: param id and an owned copy of its distribution. */
typedef struct loupe__tpe_sp_entry {
    size_t id;
    loupe_distribution dist;
} loupe__tpe_sp_entry;

typedef struct loupe__tpe_space {
    loupe__tpe_sp_entry *items;
    size_t len, alloc;
} loupe__tpe_space;

typedef struct loupe__tpe_history {
    int bound; /* study_id is set */
    int64_t study_id;
    char **names; /* param names by id */
    size_t n_names, names_alloc;
    loupe__tpe_rec *recs; /* finished trials, in the order they were seen */
    size_t n_recs, recs_alloc;
    size_t *slot; /* slot[number] = index in recs + 1, 0 when not recorded */
    size_t n_slot;
    int inter_set; /* the intersection has been started */
    loupe__tpe_space inter;
    loupe__tpe_space *groups;
    size_t n_groups, groups_alloc;
} loupe__tpe_history;

void loupe__tpe_history_init(loupe__tpe_history *h);
void loupe__tpe_history_free(loupe__tpe_history *h);

/* The id of a param name; with create, a new id for an unknown name. Returns
 * (size_t)-1 when unknown (or out of memory with create). */
size_t loupe__tpe_name_id(loupe__tpe_history *h, const char *name, int create);

/* Whether the finished trial with this number is recorded. */
int loupe__tpe_history_has(const loupe__tpe_history *h, int64_t number);

/* Records a COMPLETE or PRUNED trial (once) and folds its distributions into
 * the intersection and group search spaces. LOUPE_OK or LOUPE_ENOMEM. */
int loupe__tpe_history_add(loupe__tpe_history *h, const loupe_frozen_trial *t);

/* Fills a record from a trial snapshot (params by id; names unknown to h are
 * skipped unless create_ids). The record owns its arrays. LOUPE_ENOMEM on
 * allocation failure. */
int loupe__tpe_rec_fill(loupe__tpe_history *h, loupe__tpe_rec *r, const loupe_frozen_trial *t,
                        int create_ids);

/* Optuna's trial.constraints score: the sum of the positive values among the
 * system attributes "constraints" (a list) and "constraints:<name>" (numbers),
 * the latter overriding list entries of the same name. */
double loupe__tpe_infeasibility(const loupe_frozen_trial *t);

/* Deep copy / free of a distribution (choices copied). */
int loupe__tpe_dist_copy(loupe_distribution *dst, const loupe_distribution *src);
void loupe__tpe_dist_free(loupe_distribution *d);

#endif
