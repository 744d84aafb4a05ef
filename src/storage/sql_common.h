/*
 * sql_common.h -- what the SQL storages (sqlite.c, postgres.c) share, so each
 * rule has one home and each backend keeps only its statements, bindings,
 * column reads and transactions: the argument checks of writes (done before
 * any transaction, so a bad argument writes nothing), the rules checked on
 * stored rows inside a write, the cache of first distributions, the walk over
 * a write's child rows and, for reads, the trial-record assembler (row checks,
 * the memo of parsed distributions, the walk from child rows to their
 * records). The guard rule of set_study_attrs (storage.h) is here too, and the
 * memory storage uses it as well. So are Optuna's enum texts and (value,
 * value_type) pairs and the builders of the study records both read into.
 */
#ifndef LOUPE_STORAGE_SQL_COMMON_H
#define LOUPE_STORAGE_SQL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "core/trial_rec.h"
#include "storage/storage.h"

/* Argument checks; each sets the handle's message and returns LOUPE_EINVAL. */
int loupe__check_attrs(loupe_storage *s, const char *kind, size_t n, const loupe_attr *attrs);
int loupe__check_params(loupe_storage *s, size_t n, const loupe_param *params);
int loupe__check_values(loupe_storage *s, size_t n, const double *values);
/* Everything update_trial checks before it opens a transaction. */
int loupe__check_update(loupe_storage *s, const loupe__trial_update *u);
/* A set_study_attrs guard, when given, names its key. */
int loupe__check_guard_arg(loupe_storage *s, const loupe_attr *guard);
/* LOUPE_OK when the guard holds: the stored text (NULL: the key is absent)
 * equals guard->json exactly; else LOUPE_ECONFLICT with the message. */
int loupe__guard_holds(loupe_storage *s, const loupe_attr *guard, const char *stored);
/* Everything create_trial checks of its template before it opens a
 * transaction: state, params, attrs, values, intermediate values (NULL:
 * no template, nothing to check). */
int loupe__check_template(loupe_storage *s, const loupe_frozen_trial *tmpl);
/* Everything create_study checks before it opens a transaction: a name of 1
 * to 512 bytes (Optuna's column) and at least one known direction. */
int loupe__check_study_args(loupe_storage *s, const char *name, size_t n_directions,
                            const loupe_direction *directions);

/* Optuna's stored enum texts, indexed by loupe_trial_state / loupe_direction. */
extern const char *const loupe__state_names[5];
extern const char *const loupe__direction_names[3];
/* The enum value of a stored text, or -1 for NULL or an unknown text. */
int loupe__parse_state(const char *text);
int loupe__parse_direction(const char *text);

/* Appends a copy of (key, json) to a malloc'd attr array (NULL key: "", NULL
 * json: "null"); -1 when out of memory, leaving the array as it was. */
int loupe__attr_push(loupe_attr **arr, size_t *n, size_t *alloc, const char *key,
                     const char *json);
/* Appends one study_directions row to info->directions; the rows must come in
 * objective order 0, 1, ... An unknown text or a gap is LOUPE_ECORRUPT naming
 * the study and where (the file or server). */
int loupe__direction_push(loupe_storage *s, const char *where, loupe__study_info *info,
                          size_t *alloc, int64_t objective, const char *text);

/* The studies of one list_studies read, filled row by row: the studies (in id
 * order), then their directions, attrs and trial stats, matched by study id. */
typedef struct loupe__study_scan_entry {
    loupe__study_info info;
    size_t dir_alloc, ua_alloc, sa_alloc;
    int64_t n_trials; /* -1: not counted (bare) */
    int64_t start_us; /* earliest datetime_start; -1: none */
} loupe__study_scan_entry;

typedef struct loupe__study_scan {
    loupe__study_scan_entry *e;
    size_t n, alloc;
    int bare; /* skip the trial count and earliest start (list_study_heads) */
} loupe__study_scan;

/* Frees the entries (a retried transaction starts over); keeps bare. */
void loupe__study_scan_clear(loupe__study_scan *c);
/* Appends a study; NULL when out of memory. */
loupe__study_scan_entry *loupe__study_scan_add(loupe__study_scan *c, int64_t study_id,
                                               const char *name);
/* The entry of study_id at or after *pos (rows come in study order), or NULL. */
loupe__study_scan_entry *loupe__study_scan_find(loupe__study_scan *c, size_t *pos,
                                                int64_t study_id);
/* Appends a user (system 0) or system attr row; -1 when out of memory. */
int loupe__study_scan_attr(loupe__study_scan_entry *e, int system, const char *key,
                           const char *json);
/* Moves the entries into a new study list (*out) and clears the scan. */
int loupe__study_scan_finish(loupe_storage *s, loupe__study_scan *c, loupe_study_list **out);

/* Parsed distributions of one read, keyed by their JSON text (most params of
 * a study share a few texts, so each is parsed once). Zero it to start. */
typedef struct loupe__dist_memo_entry {
    char *json;
    loupe_distribution dist;
} loupe__dist_memo_entry;

typedef struct loupe__dist_memo {
    loupe__dist_memo_entry *slots; /* open addressing, json NULL = empty */
    size_t cap, n;
} loupe__dist_memo;

/* FNV-1a of a NUL-terminated string. */
uint64_t loupe__str_hash(const char *s);

void loupe__dist_memo_free(loupe__dist_memo *m);
/* The parsed distribution of json (owned by the memo, valid until it is
 * freed), or LOUPE_ECORRUPT naming the param, trial and where (the file or
 * server) when json is NULL or unreadable. */
int loupe__dist_memo_get(loupe_storage *s, loupe__dist_memo *m, const char *json,
                         int64_t trial_id, const char *name, const char *where,
                         const loupe_distribution **out);

/* The first distribution stored for each param name of a study, cached per
 * handle: it never changes while the study exists (later rows get larger
 * param_ids). Each storage runs its own SELECT on a miss and hands the JSON
 * text to loupe__dist_cache_add. Zero it to start; free with
 * loupe__dist_cache_free. Entries are allocated one by one, so a returned
 * distribution stays valid until its study is forgotten or the cache freed. */
typedef struct loupe__dist_cache_entry {
    int64_t study_id;
    uint64_t hash;
    char *name;
    loupe_distribution dist;
} loupe__dist_cache_entry;

typedef struct loupe__dist_cache {
    loupe__dist_cache_entry **e;
    size_t n, alloc;
} loupe__dist_cache;

/* The cached distribution of (study_id, name), or NULL when not cached. */
const loupe_distribution *loupe__dist_cache_find(const loupe__dist_cache *c, int64_t study_id,
                                                 const char *name);
/* Parses json (the stored distribution_json, copied) and caches it under
 * (study_id, name); *out points into the cache. LOUPE_ENOMEM, or LOUPE_ECORRUPT
 * naming the param and study when json is unreadable; nothing is cached then. */
int loupe__dist_cache_add(loupe_storage *s, loupe__dist_cache *c, int64_t study_id,
                          const char *name, const char *json, const loupe_distribution **out);
/* Drops the entries of a deleted study. */
void loupe__dist_cache_forget_study(loupe__dist_cache *c, int64_t study_id);
void loupe__dist_cache_free(loupe__dist_cache *c);

/* Child rows come ordered by trial_id, as the records do: advances *pos to
 * the record of trial_id and returns it; NULL if the read holds no such trial. */
loupe__trial_rec *loupe__rec_seek(const loupe__rec_vec *recs, size_t *pos, int64_t trial_id);

/* The checks update_trial makes on the stored trials row, inside its
 * transaction: a state Optuna writes (LOUPE_ECORRUPT naming the row and where)
 * and not finished (LOUPE_EFINISHED). Sets *state. */
int loupe__check_updatable(loupe_storage *s, const char *where, int64_t trial_id, int64_t number,
                           const char *state_text, int *state);
/* What the state change of u does to a trial in stored_state: -1 nothing
 * (RUNNING asked of a trial that is not WAITING, as Optuna), else the state is
 * set and 0 = no datetime, 1 = datetime_start, 2 = datetime_complete is set. */
int loupe__state_change_kind(const loupe__trial_update *u, int stored_state);
/* The per-param rules of a write, checked inside its transaction: a trial
 * sets a name once (taken: the trial already has it; LOUPE_EINVAL) and each
 * distribution is compatible with the study's first one of its name (first,
 * NULL when the name is new; LOUPE_EINCOMPAT). */
int loupe__param_taken(loupe_storage *s, int64_t number, const char *name);
int loupe__param_compatible(loupe_storage *s, const loupe_param *p,
                            const loupe_distribution *first);

/* The child rows one write adds to a trial (params already checked), in the
 * order Optuna writes them: params, user attrs, system attrs, intermediate
 * values, values (objective = index). The storage says how one row is written
 * (its statements), loupe__write_children walks the rows; db is the storage's
 * handle, what the words of a failure message. */
typedef struct loupe__child_writer {
    /* inserts a trial_params row; dist_json (len bytes) is the distribution's JSON */
    int (*param)(void *db, int64_t trial_id, const loupe_param *p, const char *dist_json,
                 size_t len);
    /* upserts a trial user (system 0) or system attribute */
    int (*attr)(void *db, int64_t trial_id, int system, const loupe_attr *a, const char *what);
    /* upserts an intermediate value (key = step) or a trial value (is_value, key = objective) */
    int (*keyed)(void *db, int64_t trial_id, int is_value, int64_t key, double v,
                 const char *what);
} loupe__child_writer;

/* Writes the params, attrs and intermediate values of t (a create_trial
 * template), or of u (an update_trial batch; its values only with set_state).
 * Exactly one of t, u is non-NULL. s receives the out-of-memory message. */
int loupe__write_children(loupe_storage *s, const loupe__child_writer *w, void *db,
                          int64_t trial_id, const loupe_frozen_trial *t,
                          const loupe__trial_update *u);

/* Optuna's stored form of a float (value, value_type): the type text, and
 * *value_null = 1 when the value column holds NULL (inf; NaN when allow_nan). */
const char *loupe__value_type(double v, int allow_nan, int *value_null);
/* Reads a stored (value, value_type) pair back (raw: the value column, read
 * only when not NULL); -1 when the pair is not in Optuna's form. */
int loupe__value_read(const char *type, int value_null, double raw, int allow_nan, double *out);

/* The child tables of a trial read, in the order they are read (each storage
 * keeps its read statements in this order after the trials one), and the
 * words of the message when reading one fails. */
enum {
    LOUPE__CHILD_PARAMS,
    LOUPE__CHILD_VALUES,
    LOUPE__CHILD_INTER,
    LOUPE__CHILD_UATTRS,
    LOUPE__CHILD_SATTRS,
    LOUPE__CHILD_TABLES
};
extern const char *const loupe__child_read_what[LOUPE__CHILD_TABLES];

/* The trial records of one read_trials transaction, assembled from its rows:
 * first each trials row (loupe__rec_read_trial, the storage's datetimes, then
 * loupe__rec_read_push), then the rows of each child table in trial_id order.
 * The storage runs the SELECTs and reads the columns; the checks, the
 * messages and the record building are here. Zero it and set s, where,
 * memo_where and study_id; the records stay owned here until
 * loupe__rec_read_finish moves them out. */
typedef struct loupe__rec_read {
    loupe_storage *s;
    const char *where;      /* names the database in messages ("'file'" or "database 'x' at h") */
    const char *memo_where; /* the same for the distribution memo's messages */
    int64_t study_id;
    loupe__rec_vec recs;
    loupe__dist_memo memo;
    size_t pos[LOUPE__CHILD_TABLES]; /* loupe__rec_seek position per child table */
} loupe__rec_read;

/* Drops what a rolled-back attempt built (a retried transaction starts over). */
void loupe__rec_read_reset(loupe__rec_read *b);
/* Checks one trials row (state, number) and makes its record (*out, owned by
 * the caller until pushed); LOUPE_ECORRUPT or LOUPE_ENOMEM with the message. */
int loupe__rec_read_trial(loupe__rec_read *b, int64_t trial_id, int has_number, int64_t number,
                          const char *state_text, loupe__trial_rec **out);
/* Appends the record (takes the reference; released when out of memory). */
int loupe__rec_read_push(loupe__rec_read *b, loupe__trial_rec *rec);
/* One trial_params row. */
int loupe__rec_read_param(loupe__rec_read *b, int64_t trial_id, const char *name, int has_value,
                          double value, const char *dist_json);
/* One trial_values row (value_null / raw: the value column, as loupe__value_read). */
int loupe__rec_read_value(loupe__rec_read *b, int64_t trial_id, int64_t objective,
                          const char *type, int value_null, double raw);
/* One trial_intermediate_values row. */
int loupe__rec_read_intermediate(loupe__rec_read *b, int64_t trial_id, int64_t step,
                                 const char *type, int value_null, double raw);
/* One trial user (system 0) or system attribute row. */
int loupe__rec_read_attr(loupe__rec_read *b, int system, int64_t trial_id, const char *key,
                         const char *json);
/* With rc LOUPE_OK, moves the records into out (by ascending trial_id);
 * otherwise, or when out of memory, releases what was not moved. Frees the
 * rest of b either way and returns the resulting code. */
int loupe__rec_read_finish(loupe__rec_read *b, int rc, loupe__rec_vec *out);
/* The one record of a read_trial (moved into *out from v, which is freed), or
 * LOUPE_ENOTFOUND when the read found no trial_id. */
int loupe__rec_read_one(loupe_storage *s, int rc, loupe__rec_vec *v, int64_t trial_id,
                        loupe__trial_rec **out);

#endif
