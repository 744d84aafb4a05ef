/*
 * loupe.h -- the whole public C API of libloupe: human-in-the-loop optimization
 * with studies, trials, ask/tell, samplers and Optuna-compatible storages.
 *
 * Conventions (read once, they hold everywhere):
 *  - Every fallible function returns an int status: LOUPE_OK (0) or a LOUPE_E* code.
 *    The words for the last error are on the handle: loupe_storage_errmsg(),
 *    loupe_study_errmsg(), loupe_trial_errmsg(). loupe_strerror() names a bare code.
 *  - Handles are opaque. A storage handle and everything opened from it (studies,
 *    trials) must be used by one thread at a time; open one storage per thread.
 *  - Ownership: a function that creates a handle (`*_open`, `*_new`, `*_create`,
 *    `*_load`, `ask`) hands it to the caller, who releases it with the matching
 *    `*_close` / `*_free`. Pointers returned by getters (strings, trial snapshots)
 *    are owned by the object they came from and stay valid until that object is
 *    freed, unless the comment says otherwise.
 *  - JSON values (attributes, categorical choices, enqueued params) are passed and
 *    returned as JSON text. loupe stores them exactly as Python's json.dumps writes
 *    them (", " and ": " separators, ASCII escapes, NaN/Infinity tokens, shortest
 *    round-trip floats), so Python Optuna reads back the same values.
 *  - On any error nothing is written to the storage.
 */
#ifndef LOUPE_H
#define LOUPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden symbols; everything declared here is exported. */
#if defined(LOUPE_BUILDING) && defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define LOUPE_VERSION "0.1.0"
#define LOUPE_VERSION_NUMBER 1000 /* major*1000000 + minor*1000 + patch */

/* ---------------------------------------------------------------- status codes */

typedef enum loupe_status {
    LOUPE_OK = 0,
    LOUPE_ERROR = 1,       /* internal error (a bug, or an unexpected library failure) */
    LOUPE_EINVAL = 2,      /* a bad argument: Optuna's ValueError */
    LOUPE_ENOTFOUND = 3,   /* no such study, trial, param or artifact: Optuna's KeyError */
    LOUPE_EEXISTS = 4,     /* a study of that name exists: DuplicatedStudyError */
    LOUPE_EFINISHED = 5,   /* the trial has finished and cannot change: UpdateFinishedTrialError */
    LOUPE_EINCOMPAT = 6,   /* a param's distribution differs from the study's earlier one */
    LOUPE_ESTATE = 7,      /* the operation is not allowed in the trial's or study's state */
    LOUPE_ESCHEMA = 8,     /* the database is at another schema revision (see loupe_storage_upgrade) */
    LOUPE_ECORRUPT = 9,    /* the file is not an Optuna database, or its contents are damaged */
    LOUPE_EIO = 10,        /* a file or database could not be read or written */
    LOUPE_EBUSY = 11,      /* the database stayed locked by another process past the timeout */
    LOUPE_ENOMEM = 12,     /* out of memory */
    LOUPE_EURL = 13,       /* an unknown or malformed storage URL */
    LOUPE_ENOTRIAL = 14,   /* no trial qualifies (e.g. best trial of a study with none complete) */
    LOUPE_ECONFLICT = 15   /* a write lost a race (e.g. a stale note version) */
} loupe_status;

/* A static English name for a status code ("no such study or trial", ...). */
const char *loupe_strerror(int status);
/* The library version string, e.g. "0.1.0". */
const char *loupe_version(void);

/* ---------------------------------------------------------------- enums */

/* Values equal Optuna's TrialState ints. */
typedef enum loupe_trial_state {
    LOUPE_RUNNING = 0,
    LOUPE_COMPLETE = 1,
    LOUPE_PRUNED = 2,
    LOUPE_FAIL = 3,
    LOUPE_WAITING = 4
} loupe_trial_state;

/* Bit masks for state filters: LOUPE_STATE_BIT(LOUPE_COMPLETE) | ... ; 0 or
 * LOUPE_STATES_ALL selects every state. */
#define LOUPE_STATE_BIT(s) (1u << (unsigned)(s))
#define LOUPE_STATES_ALL 0x1Fu

/* Optuna's stored names: "RUNNING", "COMPLETE", ...; NULL for an unknown value. */
const char *loupe_trial_state_name(loupe_trial_state state);
/* Parses a state name case-insensitively ("complete", "COMPLETE"); -1 if unknown. */
int loupe_trial_state_parse(const char *name);
/* Non-zero for COMPLETE, PRUNED and FAIL. */
int loupe_trial_state_is_finished(loupe_trial_state state);

/* Values equal Optuna's StudyDirection ints. */
typedef enum loupe_direction {
    LOUPE_NOT_SET = 0,
    LOUPE_MINIMIZE = 1,
    LOUPE_MAXIMIZE = 2
} loupe_direction;

/* ---------------------------------------------------------------- distributions */

typedef enum loupe_dist_kind {
    LOUPE_DIST_FLOAT = 0,
    LOUPE_DIST_INT = 1,
    LOUPE_DIST_CATEGORICAL = 2
} loupe_dist_kind;

/*
 * A parameter distribution, as Optuna's FloatDistribution / IntDistribution /
 * CategoricalDistribution. For FLOAT, step == 0 means "no step". For INT, low,
 * high and step hold integers. For CATEGORICAL, choices[i] is the JSON text of
 * choice i (a string, number, bool or null). A param's internal value is the
 * float itself, the int as a double, or the index of the choice.
 */
typedef struct loupe_distribution {
    loupe_dist_kind kind;
    double low, high, step;
    int log;
    size_t n_choices;
    const char *const *choices;
} loupe_distribution;

/* Writes the distribution's Optuna JSON (as in trial_params.distribution_json)
 * into a new string the caller frees with loupe_free(). NULL on bad input. */
char *loupe_distribution_to_json(const loupe_distribution *dist);

/* A stored parameter of a trial. */
typedef struct loupe_param {
    const char *name;
    double internal;          /* internal representation (see loupe_distribution) */
    loupe_distribution dist;
} loupe_param;

/* The external value of a param as JSON text ("0.5", "3", "\"adam\""), written
 * into buf (cap bytes, NUL-terminated). Returns the length, or -1 if too small. */
int loupe_param_value_json(const loupe_param *param, char *buf, size_t cap);

/* A key and its JSON value (a user or system attribute). */
typedef struct loupe_attr {
    const char *key;
    const char *json;
} loupe_attr;

typedef struct loupe_intermediate {
    int64_t step;
    double value;
} loupe_intermediate;

/*
 * A read-only snapshot of a trial, like Optuna's FrozenTrial. Arrays are in
 * storage order: params in suggestion order, attrs in insertion order,
 * intermediate values by step. values is NULL (n_values 0) when the trial has
 * none; otherwise n_values equals the number of objectives written. Datetimes are
 * microseconds since the Unix epoch, read as UTC; -1 when absent.
 */
typedef struct loupe_frozen_trial {
    int64_t trial_id;
    int64_t number;
    int64_t study_id;
    loupe_trial_state state;
    size_t n_values;
    const double *values;
    int64_t datetime_start_us;
    int64_t datetime_complete_us;
    size_t n_params;
    const loupe_param *params;
    size_t n_user_attrs;
    const loupe_attr *user_attrs;
    size_t n_system_attrs;
    const loupe_attr *system_attrs;
    size_t n_intermediate;
    const loupe_intermediate *intermediate;
} loupe_frozen_trial;

/* Lookups in a snapshot; NULL when absent. */
const loupe_param *loupe_frozen_trial_param(const loupe_frozen_trial *t, const char *name);
const char *loupe_frozen_trial_user_attr(const loupe_frozen_trial *t, const char *key);
const char *loupe_frozen_trial_system_attr(const loupe_frozen_trial *t, const char *key);

/* Frees memory that loupe allocated for the caller (strings from *_to_json etc.). */
void loupe_free(void *ptr);

/* ---------------------------------------------------------------- storage */

typedef struct loupe_storage loupe_storage;

/* Open flags. */
#define LOUPE_OPEN_DEFAULT 0u
/* Skip fsync on commit (SQLite's synchronous=OFF): several times faster on slow
 * disks. A crash of the process loses nothing, but a power failure or OS crash
 * can lose the last commits or damage the file. Use for throwaway studies and
 * benchmarks, not for hours of human ratings. Ignored by the memory storage. */
#define LOUPE_OPEN_NOSYNC 2u
/* Also open a database at revision v3.0.0.d (written by Optuna 3.0/3.1; same
 * tables and columns as v3.2.0.a) without upgrading it, as optuna-dashboard
 * does. Older revisions still need loupe_storage_upgrade(). */
#define LOUPE_OPEN_SKIP_SCHEMA_CHECK 1u

/*
 * Opens a storage by URL:
 *   ":memory:"                        a private in-memory storage
 *   "sqlite:///relative/path.db"      a SQLite file relative to the working directory
 *   "sqlite:////absolute/path.db"     a SQLite file by absolute path
 *   "postgresql://user:pw@host:port/db" a PostgreSQL database (also
 *                                     "postgresql+psycopg2://..." as Optuna users
 *                                     write it; libpq options in the query string)
 * A missing SQLite file (or an empty PostgreSQL database) gets Optuna's schema
 * at revision v3.2.0.a.
 * *out receives a handle even on most errors (so loupe_storage_errmsg() can say
 * what went wrong); it is NULL only when memory ran out. Close it either way.
 */
int loupe_storage_open(const char *url, unsigned flags, loupe_storage **out);
void loupe_storage_close(loupe_storage *storage);
/* The message of the last error on this storage or its studies and trials;
 * "not an error" after success. Never NULL. */
const char *loupe_storage_errmsg(const loupe_storage *storage);
/* The schema revision the storage holds ("v3.2.0.a" for up-to-date files and for
 * memory). Owned by the storage. */
const char *loupe_storage_schema_revision(const loupe_storage *storage);
/* Upgrades an Optuna database to revision v3.2.0.a in one transaction, as
 * `optuna storage upgrade` does. *upgraded is set to 1 when a migration ran,
 * 0 when it was already current. Message (when non-NULL) gets a malloc'd
 * description the caller frees with loupe_free(). */
int loupe_storage_upgrade(const char *url, int *upgraded, char **message);

/*
 * A counter that changes whenever another process or handle has written to the
 * storage since the last call (SQLite's data_version). Cheap: no table read.
 * Pollers compare it to decide whether to re-read.
 */
int loupe_storage_data_version(loupe_storage *storage, uint64_t *version);

/* A summary of one study, as `loupe_storage_list_studies` returns it. */
typedef struct loupe_study_summary {
    int64_t study_id;
    const char *name;
    size_t n_directions;
    const loupe_direction *directions;
    size_t n_user_attrs;
    const loupe_attr *user_attrs;
    size_t n_system_attrs;
    const loupe_attr *system_attrs;
    int64_t n_trials;
    int64_t datetime_start_us; /* earliest trial start, -1 when no trial started */
} loupe_study_summary;

typedef struct loupe_study_list loupe_study_list;
/* Lists every study, ordered by study_id. Free with loupe_study_list_free(). */
int loupe_storage_list_studies(loupe_storage *storage, loupe_study_list **out);
/* As loupe_storage_list_studies without reading the trials table, so its cost
 * does not grow with the trials: n_trials and datetime_start_us are -1. For
 * pollers that count the trials they already hold. */
int loupe_storage_list_study_heads(loupe_storage *storage, loupe_study_list **out);
size_t loupe_study_list_count(const loupe_study_list *list);
const loupe_study_summary *loupe_study_list_at(const loupe_study_list *list, size_t i);
void loupe_study_list_free(loupe_study_list *list);

/* Deletes a study with all its trials and attributes. LOUPE_ENOTFOUND if absent. */
int loupe_storage_delete_study(loupe_storage *storage, const char *study_name);

/* ---------------------------------------------------------------- samplers */

typedef struct loupe_sampler loupe_sampler;

/* Independent uniform sampling as Optuna's RandomSampler. Same seed, same
 * sequence of suggestions. */
int loupe_sampler_random_new(uint64_t seed, loupe_sampler **out);
void loupe_sampler_free(loupe_sampler *sampler);
/* The sampler's name ("RandomSampler", "TPESampler"). */
const char *loupe_sampler_name(const loupe_sampler *sampler);

/* ---------------------------------------------------------------- studies */

typedef struct loupe_study loupe_study;

/* Flags for loupe_study_create. */
#define LOUPE_CREATE_DEFAULT 0u
#define LOUPE_LOAD_IF_EXISTS 1u /* open the existing study of that name instead of failing */

/*
 * Creates a study. name may be NULL for an automatic "no-name-<uuid4>" name.
 * directions holds n_directions values (MINIMIZE/MAXIMIZE; at least one).
 * With LOUPE_LOAD_IF_EXISTS an existing study of that name is loaded instead
 * (its directions must then equal the given ones). The study samples with a
 * RandomSampler seeded from the clock until loupe_study_set_sampler() is called.
 */
int loupe_study_create(loupe_storage *storage, const char *name, size_t n_directions,
                       const loupe_direction *directions, unsigned flags, loupe_study **out);
/* Loads an existing study by name. LOUPE_ENOTFOUND if there is none. */
int loupe_study_load(loupe_storage *storage, const char *name, loupe_study **out);
/* Releases the handle (the stored study is unaffected). Trials asked from the
 * study must be freed first. */
void loupe_study_close(loupe_study *study);
const char *loupe_study_errmsg(const loupe_study *study);

/* Gives the study a sampler; the study takes ownership and frees the previous one. */
void loupe_study_set_sampler(loupe_study *study, loupe_sampler *sampler);
loupe_sampler *loupe_study_sampler(loupe_study *study);

int64_t loupe_study_id(const loupe_study *study);
const char *loupe_study_name(const loupe_study *study);
size_t loupe_study_n_objectives(const loupe_study *study);
loupe_direction loupe_study_direction(const loupe_study *study, size_t objective);
loupe_storage *loupe_study_storage(loupe_study *study);

/* Metric names (study system attr "study:metric_names", or the legacy
 * "dashboard:objective_names"). n must equal the number of objectives. */
int loupe_study_set_metric_names(loupe_study *study, size_t n, const char *const *names);
/* Writes the current metric names into *names_json (malloc'd JSON list, caller
 * frees with loupe_free) or NULL when none are set. */
int loupe_study_metric_names(loupe_study *study, char **names_json);

/* Study attributes: any JSON value. get returns JSON text owned by the study
 * until the next call on it; LOUPE_ENOTFOUND when the key is absent. */
int loupe_study_set_user_attr(loupe_study *study, const char *key, const char *json);
int loupe_study_set_system_attr(loupe_study *study, const char *key, const char *json);
int loupe_study_user_attr(loupe_study *study, const char *key, const char **json);
int loupe_study_system_attr(loupe_study *study, const char *key, const char **json);
/* Several study attributes set in one transaction: all are written or none
 * (keys at most 512 characters). */
int loupe_study_set_user_attrs(loupe_study *study, size_t n, const loupe_attr *attrs);
int loupe_study_set_system_attrs(loupe_study *study, size_t n, const loupe_attr *attrs);
/* Compare-and-set for processes sharing a storage: writes the n system
 * attributes only if system attribute guard_key holds exactly the JSON text
 * guard_json (as loupe_study_system_attr returned it; NULL: the key must be
 * absent), checked inside the same storage transaction as the write.
 * Otherwise nothing is written and LOUPE_ECONFLICT is returned: read again,
 * decide, retry. */
int loupe_study_set_system_attrs_if(loupe_study *study, const char *guard_key,
                                    const char *guard_json, size_t n, const loupe_attr *attrs);
/* All attributes in insertion order; the array is owned by the study until the
 * next call on it. */
int loupe_study_user_attrs(loupe_study *study, const loupe_attr **attrs, size_t *n);
int loupe_study_system_attrs(loupe_study *study, const loupe_attr **attrs, size_t *n);

/* ---------------------------------------------------------------- trials */

typedef struct loupe_trial loupe_trial;

/*
 * Starts a trial: takes the oldest WAITING (enqueued) trial if there is one
 * (atomically, even against other processes), else creates a RUNNING trial with
 * the next dense number. A new trial is written in one transaction together
 * with what the sampler publishes for it (TPE's relative params); if sampling
 * fails, no trial is created. Free the handle with loupe_trial_free() when done.
 */
int loupe_study_ask(loupe_study *study, loupe_trial **out);
/* A handle on an existing trial by number, e.g. to tell or annotate a trial that
 * another process asked. */
int loupe_study_trial(loupe_study *study, int64_t number, loupe_trial **out);
/* Writes any pending suggestions (see below) and releases the handle. The
 * trial's state is unchanged. */
void loupe_trial_free(loupe_trial *trial);
const char *loupe_trial_errmsg(const loupe_trial *trial);
int64_t loupe_trial_number(const loupe_trial *trial);
int64_t loupe_trial_id(const loupe_trial *trial);
loupe_study *loupe_trial_study(loupe_trial *trial);

/*
 * Suggestions, as Optuna's suggest_*. A repeated suggest of the same name
 * returns the same value (the distribution must be equal). A name that was
 * enqueued with a fixed value returns that value. A distribution incompatible
 * with the same name's first distribution in the study gives LOUPE_EINCOMPAT.
 * Suggested params are written to the storage together with the trial's next
 * write (attr, report, tell) or loupe_trial_flush(), in one transaction.
 *
 * suggest_float: step 0 for continuous; log and step are exclusive; log needs low > 0.
 * suggest_int: step >= 1; log needs step 1 and low >= 1. high is lowered to the
 *              last value on the step grid, as Optuna does.
 * suggest_categorical: choices are JSON texts; *index receives the chosen index.
 */
int loupe_trial_suggest_float(loupe_trial *trial, const char *name, double low, double high,
                              double step, int log, double *out);
int loupe_trial_suggest_int(loupe_trial *trial, const char *name, int64_t low, int64_t high,
                            int64_t step, int log, int64_t *out);
int loupe_trial_suggest_categorical(loupe_trial *trial, const char *name, size_t n_choices,
                                    const char *const *choices_json, size_t *index);
/* Convenience: categorical over plain strings (each is JSON-encoded for you). */
int loupe_trial_suggest_categorical_str(loupe_trial *trial, const char *name, size_t n_choices,
                                        const char *const *choices, const char **out);
/* Writes pending suggestions now. */
int loupe_trial_flush(loupe_trial *trial);

/* Intermediate values (single-objective studies only; step >= 0; a step already
 * reported is ignored, as Optuna does). */
int loupe_trial_report(loupe_trial *trial, double value, int64_t step);
int loupe_trial_set_user_attr(loupe_trial *trial, const char *key, const char *json);
int loupe_trial_set_system_attr(loupe_trial *trial, const char *key, const char *json);

/* A fresh snapshot of the trial as stored (pending suggestions included).
 * Owned by the trial handle until the next call on it. */
int loupe_trial_snapshot(loupe_trial *trial, const loupe_frozen_trial **out);

/* Tell flags. */
#define LOUPE_TELL_DEFAULT 0u
#define LOUPE_TELL_SKIP_IF_FINISHED 1u /* a finished trial is left alone, LOUPE_OK */

/*
 * Finishes a trial as Optuna's Study.tell does: COMPLETE needs exactly one finite
 * (non-NaN) value per objective; PRUNED and FAIL take no values (PRUNED stores
 * the last intermediate value, if any, as value 0). A trial that is not RUNNING
 * gives LOUPE_EFINISHED (or LOUPE_ESTATE for WAITING).
 */
int loupe_trial_tell(loupe_trial *trial, loupe_trial_state state, size_t n_values,
                     const double *values, unsigned flags);
/* The same for a trial given by number. */
int loupe_study_tell(loupe_study *study, int64_t number, loupe_trial_state state,
                     size_t n_values, const double *values, unsigned flags);

/*
 * Enqueues a WAITING trial whose params are fixed: params_json is a JSON object
 * {"name": value, ...} of external values; user_attrs_json is NULL or an object.
 * The next ask takes it. *number (may be NULL) receives its trial number.
 */
int loupe_study_enqueue_trial(loupe_study *study, const char *params_json,
                              const char *user_attrs_json, int64_t *number);

/* ---------------------------------------------------------------- reading trials */

typedef struct loupe_trial_list loupe_trial_list;

/*
 * Snapshots of the study's trials whose state is in state_mask (0 = all),
 * ordered by number. Finished trials are cached by the study handle, so a call
 * reads only trials that are new or were unfinished. Free with
 * loupe_trial_list_free(); the list stays valid after the study changes.
 */
int loupe_study_get_trials(loupe_study *study, unsigned state_mask, loupe_trial_list **out);
size_t loupe_trial_list_count(const loupe_trial_list *list);
const loupe_frozen_trial *loupe_trial_list_at(const loupe_trial_list *list, size_t i);
void loupe_trial_list_free(loupe_trial_list *list);

/* One trial by number, as a list of one (free it). LOUPE_ENOTFOUND if absent. */
int loupe_study_get_trial(loupe_study *study, int64_t number, loupe_trial_list **out);
/* The best COMPLETE trial of a single-objective study (lowest trial number on a
 * tie). LOUPE_ENOTRIAL when none is complete, LOUPE_ESTATE for several objectives. */
int loupe_study_best_trial(loupe_study *study, loupe_trial_list **out);
/* The Pareto front of COMPLETE trials (any number of objectives), by number. */
int loupe_study_best_trials(loupe_study *study, loupe_trial_list **out);
/* counts[s] receives the number of trials in state s (array of 5). */
int loupe_study_count_trials(loupe_study *study, int64_t counts[5]);

/* ---------------------------------------------------------------- TPE sampler */
/*
 * Optuna's TPESampler (Tree-structured Parzen Estimator), as in Optuna 5.0: for
 * each parameter (or jointly, multivariate) it splits the finished trials into a
 * "below" (good) and an "above" set, fits a Parzen estimator l(x) to the first and
 * g(x) to the second, draws n_ei_candidates points from l and proposes the one
 * maximizing log l(x) - log g(x). Until n_startup_trials trials are COMPLETE or
 * PRUNED it samples like RandomSampler. Options follow TPESampler's arguments;
 * fill them with loupe_tpe_options_init() and change what you need.
 */

/* gamma(n): how many of the n finished (COMPLETE or PRUNED) trials form the
 * "below" set. Must return >= 0 (a value above n means all). */
typedef int64_t (*loupe_tpe_gamma_fn)(size_t n, void *user_data);
/* weights(n, out): fills out[0..n-1] with the weights of n observations ordered
 * by trial number (oldest first). Return 0, or non-zero to fail the ask with
 * LOUPE_EINVAL. Values must be finite, >= 0 and not all zero. */
typedef int (*loupe_tpe_weights_fn)(size_t n, double *out, void *user_data);
/*
 * constraints(trial, ...): the constraint values of a trial being told COMPLETE
 * or PRUNED (Optuna's constraints_func). trial is the snapshot before the state
 * is written (values not yet stored; they are given as state/values). Write up to
 * cap values into out and their count into *n_out; a value > 0 means violated.
 * Return 0, or non-zero on error. The sampler stores them as the trial system
 * attribute "constraints" (a JSON list), which Optuna reads back.
 */
typedef int (*loupe_tpe_constraints_fn)(const loupe_frozen_trial *trial, loupe_trial_state state,
                                        size_t n_values, const double *values, double *out,
                                        size_t cap, size_t *n_out, void *user_data);

/* Values of loupe_tpe_options.rules. */
#define LOUPE_TPE_RULES_OPTUNA_5 0   /* Optuna 5.0's TPE (the default) */
#define LOUPE_TPE_RULES_OPTUNA_3_1 1 /* Optuna 3.1's Parzen estimator, see the field */

/* The most constraint values a constraints callback may write. */
#define LOUPE_TPE_MAX_CONSTRAINTS 64
/* "Decide per study" for loupe_tpe_options.multivariate. */
#define LOUPE_TPE_AUTO (-1)

typedef struct loupe_tpe_options {
    /* Random sampling until this many trials are COMPLETE or PRUNED. Default 10. */
    int n_startup_trials;
    /* Candidates drawn from l(x) per proposal (>= 1). Default 24. */
    int n_ei_candidates;
    /* has_seed != 0: seed the sampler with seed (same seed, same storage contents,
     * one process => same proposals). has_seed == 0: seeded from the clock. */
    int has_seed;
    uint64_t seed;
    /* 1: sample the intersection search space of the finished trials jointly;
     * 0: each parameter independently; LOUPE_TPE_AUTO (default): 1 for
     * single-objective studies, 0 for multi-objective ones (Optuna 5.0). */
    int multivariate;
    /* 1: decompose the search space into groups of parameters that always occur
     * together and sample each group jointly (needs multivariate 1 or AUTO; AUTO
     * then means 1). Default 0. */
    int group;
    /* 1: RUNNING trials count as "above" (bad) observations, and multivariate
     * proposals are published in the trial system attributes
     * "tpe:relative_params:<i>" so other processes sharing the storage avoid them.
     * Default 1 (Optuna 5.0). */
    int constant_liar;
    /* 1 (default): a prior kernel (domain center, width = range) joins each
     * estimator. 0 reproduces Optuna 3.1's consider_prior=False (Optuna >= 4.3
     * always uses the prior). */
    int consider_prior;
    /* Weight of the prior kernel (>= 0). Default 1.0. */
    double prior_weight;
    /* 1 (default): bandwidths are at least range / min(100, 1 + kernels). */
    int consider_magic_clip;
    /* 1: the outermost kernels' bandwidths also consider the domain edges.
     * Default 0. */
    int consider_endpoints;
    /* 1: print a warning to stderr when multivariate TPE falls back to
     * independent sampling for a parameter seen before. Default 0. */
    int warn_independent_sampling;
    /* NULL (default): loupe_tpe_default_gamma for single-objective studies,
     * loupe_tpe_default_gamma_multiobjective otherwise. */
    loupe_tpe_gamma_fn gamma;
    void *gamma_data;
    /* NULL (default): loupe_tpe_default_weights. For multi-objective studies the
     * below estimator always uses uniform weights (Optuna 5.0). */
    loupe_tpe_weights_fn weights;
    void *weights_data;
    /* NULL (default): none. Independently of this, trials carrying the system
     * attributes "constraints" (list) or "constraints:<name>" (number) with a
     * positive value are treated as infeasible, as Optuna 5.0 does. */
    loupe_tpe_constraints_fn constraints;
    void *constraints_data;
    /* LOUPE_TPE_RULES_OPTUNA_5 (default): Optuna 5.0's estimator. With
     * LOUPE_TPE_RULES_OPTUNA_3_1 the estimator follows Optuna 3.1 instead (for
     * comparisons with results of that version): the prior's center takes part in
     * the neighbour bandwidth rule; multivariate sampling gives every kernel the
     * bandwidth 0.2 * max(N,1)^(-1/(D+4)) * range (Scott's rule); int log params
     * use a continuous log-space kernel, rounded; the default multi-objective
     * gamma is capped at 25. It changes no other default (set multivariate and
     * constant_liar to 0 for Optuna 3.1's TPESampler()), and the multi-objective
     * below weights stay Optuna 5.0's. */
    int rules;
} loupe_tpe_options;

/* Fills *opts with Optuna 5.0's defaults (see each field). */
void loupe_tpe_options_init(loupe_tpe_options *opts);
/* Checks options; LOUPE_EINVAL with a message in err (errcap bytes, may be
 * NULL/0) saying what is wrong. */
int loupe_tpe_options_check(const loupe_tpe_options *opts, char *err, size_t errcap);
/* Creates a TPE sampler (opts NULL = defaults). LOUPE_EINVAL for options that
 * loupe_tpe_options_check rejects; LOUPE_ENOMEM. Give it to a study with
 * loupe_study_set_sampler() or free it with loupe_sampler_free(). A sampler
 * keeps per-study caches: use one sampler per study. */
int loupe_sampler_tpe_new(const loupe_tpe_options *opts, loupe_sampler **out);

/* Optuna's default_gamma: min(ceil(0.1 * n), 25). user_data is unused. */
int64_t loupe_tpe_default_gamma(size_t n, void *user_data);
/* Optuna 5.0's default_gamma_multiobjective: ceil(0.1 * n). */
int64_t loupe_tpe_default_gamma_multiobjective(size_t n, void *user_data);
/* Optuna's hyperopt_default_gamma: min(ceil(0.25 * sqrt(n)), 25). */
int64_t loupe_tpe_hyperopt_default_gamma(size_t n, void *user_data);
/* Optuna's default_weights: ones for n < 25; else a ramp from 1/n to 1 over the
 * n - 25 oldest observations, then 25 ones. Returns 0. */
int loupe_tpe_default_weights(size_t n, double *out, void *user_data);

/* ---------------------------------------------------------------- HITL: artifacts, notes, form widgets */
/* (section owned by the HITL work)
 *
 * Everything here is stored the way optuna-dashboard and optuna.artifacts store
 * it (as study and trial system attributes), so a study annotated by loupe opens
 * in optuna-dashboard and vice versa. HITL functions that take a study report
 * errors on it (loupe_study_errmsg); functions that take only an artifact store
 * report on the store (loupe_artifact_store_errmsg). */


/* --- artifact stores: where artifact bytes live (like Optuna's ArtifactStore) */

typedef struct loupe_artifact_store loupe_artifact_store;

/*
 * The operations of a store, for plugging in other backends with
 * loupe_artifact_store_new(). impl is the pointer given there. Ids passed in
 * are always well-formed UUIDs (checked before the call). Each operation
 * returns LOUPE_OK or a status code with a message written into err (errcap
 * bytes): LOUPE_ENOTFOUND for a missing blob, LOUPE_EIO for I/O failures.
 * A write must be all-or-nothing: after a failure or a crash no blob of that
 * id may be visible with partial contents.
 */
typedef struct loupe_artifact_store_ops {
    const char *name; /* "filesystem", ... */
    int (*write_file)(void *impl, const char *artifact_id, const char *path, char *err,
                      size_t errcap);
    int (*write_buffer)(void *impl, const char *artifact_id, const void *data, size_t len,
                        char *err, size_t errcap);
    /* Opens a blob for reading; *size gets its length (UINT64_MAX if unknown). */
    int (*open)(void *impl, const char *artifact_id, void **reader, uint64_t *size, char *err,
                size_t errcap);
    /* Reads up to cap bytes; *n_read 0 means the end. */
    int (*read)(void *impl, void *reader, void *buf, size_t cap, size_t *n_read, char *err,
                size_t errcap);
    void (*close_reader)(void *impl, void *reader);
    int (*remove)(void *impl, const char *artifact_id, char *err, size_t errcap);
    /* Releases impl (called by loupe_artifact_store_close). May be NULL. */
    void (*destroy)(void *impl);
} loupe_artifact_store_ops;

/* Wraps a custom store. ops must outlive the handle; impl is owned by the
 * handle from now on (ops->destroy frees it on close, also when this fails). */
int loupe_artifact_store_new(const loupe_artifact_store_ops *ops, void *impl,
                             loupe_artifact_store **out);
/*
 * The file-system store, compatible with Optuna's FileSystemArtifactStore: a
 * flat directory holding one file per artifact, named by its id. base_dir must
 * exist and be a writable directory (it is not created). Writes go to a
 * temporary ".loupe-tmp-<uuid>" file in base_dir that is fsync'ed and renamed
 * into place, so a crash never leaves a partial blob under an artifact id.
 * *out receives a handle even on most errors (for the message); close it.
 */
int loupe_artifact_store_fs_open(const char *base_dir, loupe_artifact_store **out);
/* Removes temporary files (".loupe-tmp-*") older than min_age_seconds that
 * crashed uploads left in a file-system store's directory. *n_removed (may be
 * NULL) gets their number. LOUPE_EINVAL for another kind of store. */
int loupe_artifact_store_fs_sweep(loupe_artifact_store *store, int64_t min_age_seconds,
                                  size_t *n_removed);
void loupe_artifact_store_close(loupe_artifact_store *store);
const char *loupe_artifact_store_errmsg(const loupe_artifact_store *store);

/* Raw blob access by id (no metadata involved). A malformed id (not a UUID,
 * e.g. containing '/' or "..") gives LOUPE_EINVAL. Writing an existing id
 * replaces its bytes. */
int loupe_artifact_store_write_file(loupe_artifact_store *store, const char *artifact_id,
                                    const char *path);
int loupe_artifact_store_write_buffer(loupe_artifact_store *store, const char *artifact_id,
                                      const void *data, size_t len);
int loupe_artifact_store_remove(loupe_artifact_store *store, const char *artifact_id);

/* Streaming reads of a blob (for serving it). Errors are on the store. */
typedef struct loupe_artifact_reader loupe_artifact_reader;
int loupe_artifact_open(loupe_artifact_store *store, const char *artifact_id,
                        loupe_artifact_reader **out, uint64_t *size);
int loupe_artifact_reader_read(loupe_artifact_reader *reader, void *buf, size_t cap,
                               size_t *n_read);
void loupe_artifact_reader_close(loupe_artifact_reader *reader);

/* Copies a blob into a new file at path; LOUPE_EEXISTS if path exists (like
 * optuna's download_artifact, nothing is overwritten). On error no file is
 * left behind. */
int loupe_artifact_download(loupe_artifact_store *store, const char *artifact_id,
                            const char *path);
/* Reads a whole blob into *data (malloc'd, caller frees with loupe_free; a
 * NUL byte follows the data for convenience) and its length into *len. */
int loupe_artifact_read_all(loupe_artifact_store *store, const char *artifact_id, void **data,
                            size_t *len);

/* --- artifact metadata: study and trial system attrs "artifacts:<uuid>" */

#define LOUPE_ARTIFACT_DEFAULT_MIMETYPE "application/octet-stream"

/* Python's mimetypes.guess_type(filename) for common file types: *mimetype is
 * NULL when unknown, *encoding NULL when none ("x.csv.gz" gives "text/csv"
 * and "gzip"). The strings are static. */
void loupe_artifact_guess_type(const char *filename, const char **mimetype,
                               const char **encoding);

/*
 * Uploads an artifact: stores the bytes under a new UUID4 id, then records
 * {"artifact_id", "filename", "mimetype", "encoding"} in the system attr
 * "artifacts:<id>" of trial (when non-NULL; it must belong to study) or of
 * study, exactly as optuna.artifacts.upload_artifact does. The blob is in place
 * before the metadata is written, so the metadata never names a missing blob.
 * A trial must be RUNNING or WAITING (LOUPE_EFINISHED otherwise). mimetype and
 * encoding may be NULL (or "") to guess them from the file name. The file name
 * recorded is path's last component. artifact_id (may be NULL) receives the id.
 */
int loupe_artifact_upload_file(loupe_artifact_store *store, loupe_study *study,
                               loupe_trial *trial, const char *path, const char *mimetype,
                               const char *encoding, char artifact_id[37]);
/* The same for bytes in memory, recorded under the given file name. */
int loupe_artifact_upload_buffer(loupe_artifact_store *store, loupe_study *study,
                                 loupe_trial *trial, const char *filename, const void *data,
                                 size_t len, const char *mimetype, const char *encoding,
                                 char artifact_id[37]);

/* One artifact's metadata; encoding is NULL when none. */
typedef struct loupe_artifact_meta {
    const char *artifact_id;
    const char *filename;
    const char *mimetype;
    const char *encoding;
} loupe_artifact_meta;

typedef struct loupe_artifact_list loupe_artifact_list;
/*
 * The artifacts of trial (a snapshot, e.g. from loupe_study_get_trials) or,
 * with trial NULL, of the study itself, as optuna-dashboard lists them: for a
 * trial the legacy study attrs "dashboard:artifacts:<trial_id>:<id>" first,
 * then the trial's "artifacts:<id>" attrs; deleted (null) entries skipped.
 * LOUPE_ECORRUPT names an attr whose value is not artifact metadata.
 */
int loupe_artifact_list_get(loupe_study *study, const loupe_frozen_trial *trial,
                            loupe_artifact_list **out);
/* The metadata of one artifact (a list of one); LOUPE_ENOTFOUND if absent or deleted. */
int loupe_artifact_find(loupe_study *study, const loupe_frozen_trial *trial,
                        const char *artifact_id, loupe_artifact_list **out);
size_t loupe_artifact_list_count(const loupe_artifact_list *list);
const loupe_artifact_meta *loupe_artifact_list_at(const loupe_artifact_list *list, size_t i);
void loupe_artifact_list_free(loupe_artifact_list *list);

/*
 * Deletes an artifact of trial (NULL: of the study): its metadata is set to
 * JSON null (as optuna-dashboard does; the value_json becomes "\"null\"") in
 * every place it is recorded, and then the blob is removed, so no metadata
 * names a missing blob. LOUPE_ENOTFOUND when the artifact is not recorded
 * there; LOUPE_EFINISHED when it is recorded on a finished trial (whose attrs
 * cannot change). A blob that is already gone is not an error.
 */
int loupe_artifact_delete(loupe_artifact_store *store, loupe_study *study, loupe_trial *trial,
                          const char *artifact_id);

/* The URL path optuna-dashboard serves an artifact at, for Markdown notes:
 * "/artifacts/<study_id>/<trial_id>/<artifact_id>", or with trial_id -1
 * "/artifacts/<study_id>/<artifact_id>". Written into buf (cap bytes,
 * NUL-terminated); returns the length, or -1 if buf is too small or the id is
 * not a UUID. */
int loupe_artifact_path(int64_t study_id, int64_t trial_id, const char *artifact_id, char *buf,
                        size_t cap);

/* --- notes (Markdown), stored like optuna-dashboard's save_note */

/* trial_id value selecting the study's own note. */
#define LOUPE_STUDY_NOTE (-1)
/* expected_version value that skips the version check (last writer wins, as
 * optuna_dashboard.save_note does). */
#define LOUPE_NOTE_ANY_VERSION (-1)

/* Reads the note of the trial with the given trial_id (Optuna's global id, not
 * the number) or, with LOUPE_STUDY_NOTE, of the study. A note never saved has
 * version 0 and an empty body. *body is malloc'd (free with loupe_free). */
int loupe_note_get(loupe_study *study, int64_t trial_id, int64_t *version, char **body);
/*
 * Saves a note with optimistic versioning: expected_version is the version the
 * caller last read; the note is saved as version expected_version + 1. If the
 * stored version differs, nothing is written and LOUPE_ECONFLICT is returned
 * with the stored note in *version and *current_body (malloc'd; pass NULL if
 * not wanted). On success *version (may be NULL) gets the new version. body is
 * UTF-8; it is stored in chunks of 2045 characters (Unicode code points, as
 * Python counts) in one transaction.
 * (optuna-dashboard's REST protocol sends version = stored + 1: pass
 * request.version - 1 as expected_version.)
 */
int loupe_note_save(loupe_study *study, int64_t trial_id, int64_t expected_version,
                    const char *body, int64_t *version, char **current_body);

/* --- form widgets, as optuna-dashboard's register_*_form_widgets */

typedef enum loupe_form_widget_type {
    LOUPE_WIDGET_CHOICE = 0,      /* ChoiceWidget: radio buttons */
    LOUPE_WIDGET_SLIDER = 1,      /* SliderWidget */
    LOUPE_WIDGET_TEXT = 2,        /* TextInputWidget */
    LOUPE_WIDGET_USER_ATTR_REF = 3 /* ObjectiveUserAttrRef */
} loupe_form_widget_type;

typedef enum loupe_form_output_type {
    LOUPE_FORM_OBJECTIVE = 0, /* submitted values are told as objective values */
    LOUPE_FORM_USER_ATTR = 1  /* submitted values are set as trial user attrs */
} loupe_form_output_type;

typedef struct loupe_slider_label {
    double value;
    const char *label;
} loupe_slider_label;

/*
 * One widget. Fields that a type does not have are ignored. NULL strings mean
 * Python's None. Numbers are written as JSON ints when integral (|v| <= 2^53),
 * else as floats, so values {-1, 0, 1} are stored as Python writes [-1, 0, 1].
 */
typedef struct loupe_form_widget {
    loupe_form_widget_type type;
    const char *description;   /* choice, slider, text */
    const char *user_attr_key; /* choice, slider, text */
    /* choice: n_choices labels and as many values */
    size_t n_choices;
    const char *const *choices;
    const double *values;
    /* slider: step is used when has_step; labels NULL means none (null) */
    double min, max;
    int has_step;
    double step;
    size_t n_labels;
    const loupe_slider_label *labels;
    /* text */
    int optional;
    /* user_attr ref: the key of trial.user_attrs that holds the value */
    const char *key;
} loupe_form_widget;

/* A study's form definition (stored under "dashboard:form_widgets:v2"). */
typedef struct loupe_form_widgets {
    loupe_form_output_type output_type;
    size_t n_widgets;
    const loupe_form_widget *widgets;
} loupe_form_widgets;

/* One widget per objective; the checks and messages of upstream (e.g. "The
 * length of actions must be the same with the number of objectives."). A
 * user_attr_key on a non-reference widget is stored but unused, as upstream. */
int loupe_register_objective_form_widgets(loupe_study *study, size_t n,
                                          const loupe_form_widget *widgets);
/* Widgets whose values become trial user attrs: each needs a unique
 * user_attr_key; references are refused. */
int loupe_register_user_attr_form_widgets(loupe_study *study, size_t n,
                                          const loupe_form_widget *widgets);
/* The study's form (also read from the legacy keys
 * "dashboard:objective_form_widgets:v1" and "dashboard:objective_form_widgets"),
 * or *out NULL when none is registered. Free with loupe_form_widgets_free. */
int loupe_form_widgets_get(loupe_study *study, loupe_form_widgets **out);
void loupe_form_widgets_free(loupe_form_widgets *widgets);
/* The same as JSON text in Python's form ({"output_type": ..., "widgets":
 * [...]}, the stored text itself for the current key), malloc'd; NULL when none. */
int loupe_form_widgets_json(loupe_study *study, char **json);

/* --- a read-only view of a study's HITL data, for serving many trials
 * (e.g. an HTTP server): the study's system attrs are read once and indexed,
 * so each trial's note and artifacts cost O(log n) instead of a full read. */

typedef struct loupe_hitl_view loupe_hitl_view;
/* Reads and indexes the study's notes and artifact metadata. Errors on the
 * study. Free with loupe_hitl_view_free; the view does not follow later writes. */
int loupe_hitl_view_new(loupe_study *study, loupe_hitl_view **out);
/* The note of trial_id (or LOUPE_STUDY_NOTE), as loupe_note_get: version 0 and
 * "" when none. *body is owned by the view. LOUPE_ECORRUPT for a damaged note
 * (message from loupe_hitl_view_errmsg). */
int loupe_hitl_view_note(loupe_hitl_view *view, int64_t trial_id, int64_t *version,
                         const char **body);
/* The artifacts of trial (NULL: of the study), as loupe_artifact_list_get. */
int loupe_hitl_view_artifacts(loupe_hitl_view *view, const loupe_frozen_trial *trial,
                              loupe_artifact_list **out);
const char *loupe_hitl_view_errmsg(const loupe_hitl_view *view);
void loupe_hitl_view_free(loupe_hitl_view *view);

/* --- copying a study */

/*
 * Copies study src_name into a new study dst_name of the same storage:
 * directions, every user and system attr (metric names, form widgets, notes,
 * preferences, artifact metadata) and every trial with its state, values,
 * params, attrs, intermediate values and datetimes, in number order. Keys that
 * name a trial id (trial notes "dashboard:<trial_id>:note_*", legacy
 * "dashboard:artifacts:<trial_id>:*", "preference:skip_trial:<trial_id>") are
 * remapped to the new trials' ids, and artifact links
 * "/artifacts/<study_id>/[<trial_id>/]<id>" inside notes are rewritten to the
 * copy's ids. Artifacts are shared, not duplicated: the copy's metadata names
 * the same blobs (so deleting an artifact from one study leaves the other's
 * metadata naming a removed blob; delete artifacts only from the study you
 * keep). On error the partial copy is deleted. *out (may be NULL) receives the
 * new study's handle.
 */
int loupe_study_copy(loupe_storage *storage, const char *src_name, const char *dst_name,
                     loupe_study **out);

#if defined(LOUPE_BUILDING) && defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* LOUPE_H */
