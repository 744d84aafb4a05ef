/*
 * trial_rec.h -- owned, reference-counted trial snapshots (the memory behind
 * loupe_frozen_trial) and a builder that storages use to assemble them.
 * A finished trial's record never changes, so the study cache and every list
 * handed to a caller share it by reference count.
 */
#ifndef LOUPE_CORE_TRIAL_REC_H
#define LOUPE_CORE_TRIAL_REC_H

#include <stddef.h>
#include <stdint.h>

#include "loupe.h"

typedef struct loupe__trial_rec {
    loupe_frozen_trial t; /* public view; first member so the pointer casts both ways */
    int refcount;
    /* backing arrays (t's const pointers point into these) */
    loupe_param *params;
    size_t params_alloc;
    loupe_attr *user_attrs;
    size_t user_attrs_alloc;
    loupe_attr *system_attrs;
    size_t system_attrs_alloc;
    loupe_intermediate *intermediate;
    size_t intermediate_alloc;
    double *values;
} loupe__trial_rec;

/* A new empty record (refcount 1, state RUNNING, datetimes -1, no values). */
loupe__trial_rec *loupe__trial_rec_new(void);
void loupe__trial_rec_retain(loupe__trial_rec *r);
void loupe__trial_rec_release(loupe__trial_rec *r);
/* A deep copy (refcount 1). */
loupe__trial_rec *loupe__trial_rec_clone(const loupe_frozen_trial *t);

/* Builders: copy their inputs. Return LOUPE_OK or LOUPE_ENOMEM. */
/* Room for n params in all (one allocation instead of growing on each add). */
int loupe__trial_rec_reserve_params(loupe__trial_rec *r, size_t n);
int loupe__trial_rec_add_param(loupe__trial_rec *r, const char *name, double internal,
                               const loupe_distribution *dist);
int loupe__trial_rec_add_user_attr(loupe__trial_rec *r, const char *key, const char *json);
int loupe__trial_rec_add_system_attr(loupe__trial_rec *r, const char *key, const char *json);
/* Replace the value of an existing key or append it. */
int loupe__trial_rec_put_user_attr(loupe__trial_rec *r, const char *key, const char *json);
int loupe__trial_rec_put_system_attr(loupe__trial_rec *r, const char *key, const char *json);
/* Keeps intermediate values sorted by step; an existing step is overwritten. */
int loupe__trial_rec_put_intermediate(loupe__trial_rec *r, int64_t step, double value);
/* Sets values[0..n) (n 0 clears them). */
int loupe__trial_rec_set_values(loupe__trial_rec *r, size_t n, const double *values);
/* Sets the value of one objective, growing the array with NaN holes if needed. */
int loupe__trial_rec_set_value(loupe__trial_rec *r, size_t objective, double value);

/* A growable vector of records (owning one reference each). */
typedef struct loupe__rec_vec {
    loupe__trial_rec **items;
    size_t len;
    size_t alloc;
} loupe__rec_vec;

int loupe__rec_vec_push(loupe__rec_vec *v, loupe__trial_rec *r); /* takes the reference */
void loupe__rec_vec_clear(loupe__rec_vec *v);                     /* releases all */
void loupe__rec_vec_free(loupe__rec_vec *v);

/* Distributions: deep copy into a record-owned form, free, compare. */
int loupe__distribution_copy(loupe_distribution *dst, const loupe_distribution *src);
void loupe__distribution_free(loupe_distribution *d);

#endif
