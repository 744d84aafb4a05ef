/*
 * distribution.h -- Optuna's parameter distributions: construction checks,
 * internal/external representations, the compatibility rule, and the exact
 * distribution_json text Python writes (and every form Python reads).
 */
#ifndef LOUPE_CORE_DISTRIBUTION_H
#define LOUPE_CORE_DISTRIBUTION_H

#include <stddef.h>

#include "loupe.h"
#include "util/buf.h"

/* Validates and normalizes a distribution as Optuna's constructors do (high
 * lowered to the step grid). On error writes a message into err and returns
 * LOUPE_EINVAL. */
int loupe__distribution_check(loupe_distribution *d, char *err, size_t errcap);

/* Optuna's check_distribution_compatibility: same kind; same log for
 * float/int; equal choices for categorical. Returns LOUPE_OK or LOUPE_EINCOMPAT
 * with a message. */
int loupe__distribution_compatible(const loupe_distribution *old_d, const loupe_distribution *new_d,
                                   char *err, size_t errcap);
/* Exact equality (kind, bounds, step, log, choices). */
int loupe__distribution_equal(const loupe_distribution *a, const loupe_distribution *b);
/* Whether an internal value lies in the distribution (Optuna's _contains). */
int loupe__distribution_contains(const loupe_distribution *d, double internal);
/* Single-value distributions (low == high, or one choice). */
int loupe__distribution_single(const loupe_distribution *d);

/* Appends Optuna's distribution_json ({"name": ..., "attributes": {...}} with
 * Python's key order). */
void loupe__distribution_write_json(loupe__buf *b, const loupe_distribution *d);
/* Parses any distribution JSON Python reads (current names, the five legacy
 * names, and the abbreviated {"type": ...} form) into *out, whose strings are
 * malloc'd (free with loupe__distribution_free). LOUPE_ECORRUPT on bad text. */
int loupe__distribution_from_json(const char *json, loupe_distribution *out, char *err,
                                  size_t errcap);

/* The external value of an internal representation, appended as Python JSON
 * (int dists print as ints, categorical as the choice's JSON). */
void loupe__distribution_external_json(loupe__buf *b, const loupe_distribution *d, double internal);
/* The internal representation of an external JSON value (a number, or for
 * categorical the choice, matched as Python's == does). LOUPE_EINVAL if absent. */
int loupe__distribution_internal_from_json(const loupe_distribution *d, const char *json,
                                           double *internal);

#endif
