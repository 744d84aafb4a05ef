/*
 * storage.h -- the storage interface (a vtable) that the memory, SQLite and
 * later PostgreSQL storages implement, and the fields every storage handle has.
 * The core (src/core) is the only caller; storages never call samplers or the core
 * beyond the trial-record builder and the error setter.
 *
 * Every operation is atomic: it either happens whole (one transaction) or, on
 * error, writes nothing. Errors are reported with loupe__error() on the handle.
 */
#ifndef LOUPE_STORAGE_STORAGE_H
#define LOUPE_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/trial_rec.h"
#include "loupe.h"

/* The study-level facts a storage returns for one study. All memory owned by the
 * struct; free with loupe__study_info_free. */
typedef struct loupe__study_info {
    int64_t study_id;
    char *name;
    size_t n_directions;
    loupe_direction *directions;
    size_t n_user_attrs;
    loupe_attr *user_attrs;     /* keys and JSON texts malloc'd */
    size_t n_system_attrs;
    loupe_attr *system_attrs;
} loupe__study_info;

void loupe__study_info_free(loupe__study_info *info);

/* Building the list that list_studies returns. push moves info's memory into
 * the list (info is zeroed). */
loupe_study_list *loupe__study_list_new(void);
int loupe__study_list_push(loupe_study_list *list, loupe__study_info *info, int64_t n_trials,
                           int64_t datetime_start_us);

/* A batch of writes to one trial, applied in one transaction (see update_trial). */
typedef struct loupe__trial_update {
    int64_t trial_id;
    size_t n_params;
    const loupe_param *params; /* new params; the name must not exist on the trial yet */
    size_t n_user_attrs;
    const loupe_attr *user_attrs; /* upserts; JSON already in Python form */
    size_t n_system_attrs;
    const loupe_attr *system_attrs;
    size_t n_intermediate;
    const loupe_intermediate *intermediate; /* upserts by step */
    int set_state;                          /* non-zero: change state (and values) */
    loupe_trial_state state;
    size_t n_values;
    const double *values; /* upserted with the state change, objective = index */
    int64_t now_us;       /* the time stamped by a state change; 0: the storage reads the clock */
} loupe__trial_update;

typedef struct loupe__storage_ops {
    const char *name; /* "memory", "sqlite" */

    /* Releases everything, including the handle itself. */
    void (*close)(loupe_storage *s);

    /* Inserts the study and its direction rows (objective order). LOUPE_EEXISTS
     * ("A study with name 'x' already exists") when the name is taken. */
    int (*create_study)(loupe_storage *s, const char *name, size_t n_directions,
                        const loupe_direction *directions, int64_t *study_id);
    /* Deletes the study and every child row of it and of its trials. */
    int (*delete_study)(loupe_storage *s, int64_t study_id);
    /* Name -> id; LOUPE_ENOTFOUND when absent. */
    int (*find_study)(loupe_storage *s, const char *name, int64_t *study_id);
    /* Everything about one study (attrs freshly read). LOUPE_ENOTFOUND when absent. */
    int (*get_study)(loupe_storage *s, int64_t study_id, loupe__study_info *out);
    /* All studies by study_id, with n_trials and the earliest datetime_start. */
    int (*list_studies)(loupe_storage *s, loupe_study_list **out);
    /* As list_studies without reading the trials table: n_trials and the
     * earliest datetime_start are -1 (loupe_storage_list_study_heads). */
    int (*list_study_heads)(loupe_storage *s, loupe_study_list **out);
    /* Upserts several study attributes in one transaction (system != 0 selects
     * the system table). LOUPE_ENOTFOUND for an unknown study. With guard
     * non-NULL the write happens only if, inside that transaction, the same
     * table's attribute guard->key holds exactly the text guard->json (NULL:
     * the key must be absent); otherwise nothing is written and the result is
     * LOUPE_ECONFLICT. This makes read-check-write sequences (note versions)
     * safe across processes. */
    int (*set_study_attrs)(loupe_storage *s, int64_t study_id, int system, size_t n,
                           const loupe_attr *attrs, const loupe_attr *guard);

    /*
     * Creates a trial. With tmpl NULL: RUNNING, datetime_start = now. With tmpl:
     * its state, values, params, attrs, intermediate values and datetimes are
     * written in the same transaction (tmpl->number, trial_id, study_id ignored).
     * The number is the count of the study's trials with a smaller trial_id,
     * computed inside the inserting transaction.
     */
    int (*create_trial)(loupe_storage *s, int64_t study_id, const loupe_frozen_trial *tmpl,
                        int64_t *trial_id, int64_t *number);
    /* Atomically moves the study's oldest WAITING trial (lowest number) to
     * RUNNING with datetime_start = now. LOUPE_ENOTFOUND when none waits. */
    int (*claim_waiting_trial)(loupe_storage *s, int64_t study_id, int64_t *trial_id);
    /*
     * Applies u in one transaction. Order of checks: trial exists (ENOTFOUND);
     * trial is RUNNING or WAITING (EFINISHED, "Trial#N has already finished and
     * can not be updated."); each param is compatible with the first stored
     * distribution of that name in the study (EINCOMPAT). When set_state:
     * values are upserted; a RUNNING target on a trial that is not WAITING
     * changes nothing more and *state_changed = 0; otherwise the state is set,
     * RUNNING sets datetime_start = now, a finished state sets
     * datetime_complete = now, and *state_changed = 1. state_changed may be NULL.
     */
    int (*update_trial)(loupe_storage *s, const loupe__trial_update *u, int *state_changed);
    /*
     * Appends to out (by ascending trial_id) the study's trials with
     * trial_id > after_trial_id, plus the trials whose ids are listed in ids
     * (those that still exist). Each record is complete (params, values, attrs,
     * intermediate values). LOUPE_ENOTFOUND for an unknown study.
     */
    int (*read_trials)(loupe_storage *s, int64_t study_id, int64_t after_trial_id, size_t n_ids,
                       const int64_t *ids, loupe__rec_vec *out);
    /* One trial by id (any study). LOUPE_ENOTFOUND when absent. */
    int (*read_trial)(loupe_storage *s, int64_t trial_id, loupe__trial_rec **out);
    /* (study_id, number) -> trial_id; LOUPE_ENOTFOUND when absent. */
    int (*trial_id_by_number)(loupe_storage *s, int64_t study_id, int64_t number,
                              int64_t *trial_id);
    /* A counter that changes when anyone else wrote (see loupe_storage_data_version). */
    int (*data_version)(loupe_storage *s, uint64_t *version);
} loupe__storage_ops;

/* The common head of every storage handle; implementations embed it first. */
struct loupe_storage {
    const loupe__storage_ops *ops;
    char errmsg[1024];
    int errcode;
    char schema_revision[40];
    int read_only; /* the file is not writable by this process: writes are refused */
};

/* Constructors, called by loupe_storage_open after the URL is parsed. Each sets
 * *out even on error when it could allocate a handle (with the message on it). */
int loupe__memory_storage_open(loupe_storage **out);
int loupe__sqlite_storage_open(const char *path, unsigned flags, loupe_storage **out);
/* Upgrade of an Optuna SQLite file at path (see loupe_storage_upgrade). */
int loupe__sqlite_storage_upgrade(const char *path, int *upgraded, char **message);

/* The revision loupe writes and reads without upgrade. */
#define LOUPE__SCHEMA_HEAD "v3.2.0.a"
/* The library_version written into version_info. */
#define LOUPE__LIBRARY_VERSION "loupe-" LOUPE_VERSION

#endif
