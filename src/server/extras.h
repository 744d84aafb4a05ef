/*
 * extras.h -- everything optuna-dashboard keeps in a study's system attrs,
 * decoded once per change and pre-rendered as JSON fragments: the study and
 * trial notes, study and legacy trial artifacts, Plotly figures, metric
 * names, form widgets, and preferential-study data.
 */
#ifndef LOUPE_SERVER_EXTRAS_H
#define LOUPE_SERVER_EXTRAS_H

#include <stddef.h>
#include <stdint.h>

#include "loupe.h"

/* Per-trial data kept in the study's attrs (a finished trial's own attrs
 * cannot change, so notes live there). */
typedef struct loupe__trial_extra {
    int64_t trial_id;
    char *note_json;        /* {"version": v, "body": "..."}; NULL when none saved */
    char *legacy_artifacts; /* comma-joined artifact objects; NULL when none */
} loupe__trial_extra;

typedef struct loupe__study_extras {
    char *note_json;            /* the study note, always set */
    char *artifacts_json;       /* "[...]" study-level artifacts */
    char *plotly_json;          /* "[{"id": ..., "graph_object": "..."}, ...]" */
    char *objective_names_json; /* NULL when not set (or empty) */
    char *form_widgets_json;    /* NULL when no form is registered */
    char *feedback_json;        /* "preference:component" or {"output_type": "note"} */
    char *is_preferential_json; /* the stored value, "false" when absent */
    int is_preferential;        /* its truth value */
    char *preferences_json;     /* "[[better, worse], ...]" */
    char *history_json;         /* "[{"history": {...}, "is_removed": b}, ...]" by time */
    int64_t *skipped_ids;       /* trial ids marked "preference:skip_trial:<id>" */
    size_t n_skipped;
    int64_t (*pairs)[2];        /* decoded preferences, for preferential best trials */
    size_t n_pairs;
    char **metric_names;        /* decoded "study:metric_names" (for CSV); NULL when unset */
    size_t n_metric_names;
    loupe__trial_extra *trials; /* sorted by trial_id */
    size_t n_trials;
} loupe__study_extras;

/* Decodes attrs (a study's system attrs in storage order) into *out (zeroed
 * first; free with loupe__extras_free even on error). Malformed values are
 * skipped, never fatal. Returns LOUPE_OK or LOUPE_ENOMEM. */
int loupe__extras_parse(const loupe_attr *attrs, size_t n, loupe__study_extras *out);
void loupe__extras_free(loupe__study_extras *e);
/* The trial's entry, or NULL. */
const loupe__trial_extra *loupe__extras_find(const loupe__study_extras *e, int64_t trial_id);
/* Non-zero when the trial's note or legacy artifacts differ between a and b. */
int loupe__extras_trial_differs(const loupe__trial_extra *a, const loupe__trial_extra *b);

#endif
