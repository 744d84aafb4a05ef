/*
 * view.c -- loupe_hitl_view: one read of a study's system attrs, indexed by
 * trial id, so that a server can give every trial its note and artifacts
 * without re-reading and re-scanning the study attrs per trial. Notes are
 * decoded up front (sorted by trial id); legacy study-level artifact entries
 * ("dashboard:artifacts:<trial_id>:<id>") and study artifacts are kept as
 * copies and decoded on request.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hitl/hitl.h"

typedef struct view_note {
    int64_t tid; /* -1: the study note */
    int status;  /* LOUPE_OK or LOUPE_ECORRUPT */
    int64_t version;
    char *body;  /* decoded body, or the damage description */
} view_note;

typedef struct view_attr {
    int64_t tid;  /* legacy entries: the trial id in the key; study entries: -1 */
    size_t order; /* position in the study attrs, to keep their order */
    char *key;
    char *json;
} view_attr;

struct loupe_hitl_view {
    view_note *notes;
    size_t n_notes;
    view_attr *arts; /* legacy trial entries and study entries, sorted by (tid, order) */
    size_t n_arts;
    char errmsg[768];
};

/* Parses "dashboard:<tid>:note_ver" / "dashboard:<tid>:note_str:<i>" and the
 * study-note keys; returns 1 with *tid (or -1) when key belongs to a note. */
static int note_key(const char *key, int64_t *tid) {
    if (strcmp(key, "dashboard:note_ver") == 0 || strncmp(key, "dashboard:note_str:", 19) == 0) {
        *tid = -1;
        return 1;
    }
    if (strncmp(key, "dashboard:", 10) != 0) return 0;
    const char *p = key + 10;
    if (*p < '0' || *p > '9') return 0;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - 9) / 10) return 0;
        v = v * 10 + (*p++ - '0');
    }
    if (strcmp(p, ":note_ver") != 0 && strncmp(p, ":note_str:", 10) != 0) return 0;
    *tid = v;
    return 1;
}

/* "dashboard:artifacts:<tid>:..." -> tid. */
static int legacy_key(const char *key, int64_t *tid) {
    if (strncmp(key, "dashboard:artifacts:", 20) != 0) return 0;
    const char *p = key + 20;
    if (*p < '0' || *p > '9') return 0;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - 9) / 10) return 0;
        v = v * 10 + (*p++ - '0');
    }
    if (*p != ':') return 0;
    *tid = v;
    return 1;
}

typedef struct ref {
    int64_t tid;
    size_t i;
} ref;

static int cmp_ref(const void *a, const void *b) {
    const ref *x = a, *y = b;
    if (x->tid != y->tid) return x->tid < y->tid ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int cmp_art(const void *a, const void *b) {
    const view_attr *x = a, *y = b;
    if (x->tid != y->tid) return x->tid < y->tid ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void loupe_hitl_view_free(loupe_hitl_view *v) {
    if (!v) return;
    for (size_t i = 0; i < v->n_notes; i++) free(v->notes[i].body);
    free(v->notes);
    for (size_t i = 0; i < v->n_arts; i++) {
        free(v->arts[i].key);
        free(v->arts[i].json);
    }
    free(v->arts);
    free(v);
}

const char *loupe_hitl_view_errmsg(const loupe_hitl_view *view) {
    if (!view) return "no view";
    return view->errmsg[0] ? view->errmsg : "not an error";
}

static int build(loupe_hitl_view *v, const loupe_attr *attrs, size_t n) {
    size_t cap = n ? n : 1;
    ref *refs = malloc(cap * sizeof *refs);
    loupe_attr *group = malloc(cap * sizeof *group);
    v->notes = malloc(cap * sizeof *v->notes);
    v->arts = malloc(cap * sizeof *v->arts);
    int rc = LOUPE_ENOMEM;
    if (!refs || !group || !v->notes || !v->arts) goto cleanup;

    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t tid;
        if (note_key(attrs[i].key, &tid)) {
            refs[nr].tid = tid;
            refs[nr].i = i;
            nr++;
        } else if (legacy_key(attrs[i].key, &tid) || strncmp(attrs[i].key, "artifacts:", 10) == 0) {
            if (strncmp(attrs[i].key, "artifacts:", 10) == 0) tid = -1;
            view_attr *a = &v->arts[v->n_arts];
            a->tid = tid;
            a->order = i;
            a->key = strdup(attrs[i].key);
            a->json = strdup(attrs[i].json);
            v->n_arts++;
            if (!a->key || !a->json) goto cleanup;
        }
    }
    qsort(v->arts, v->n_arts, sizeof *v->arts, cmp_art);
    /* Group each note's keys, then decode it with the common reader. */
    qsort(refs, nr, sizeof *refs, cmp_ref);
    for (size_t s = 0; s < nr;) {
        size_t e = s;
        while (e < nr && refs[e].tid == refs[s].tid) e++;
        for (size_t k = s; k < e; k++) group[k - s] = attrs[refs[k].i];
        int found;
        int64_t ver;
        char *body = NULL, err[256] = "";
        int r = loupe__note_from_attrs(group, e - s, refs[s].tid, &found, &ver, &body, err,
                                       sizeof err);
        if (r == LOUPE_ENOMEM) goto cleanup;
        if (r == LOUPE_OK && !found) {
            free(body); /* chunks without a version: no note, as Python reads it */
        } else {
            view_note *vn = &v->notes[v->n_notes++];
            vn->tid = refs[s].tid;
            vn->status = r;
            vn->version = ver;
            vn->body = r == LOUPE_OK ? body : strdup(err);
            if (r != LOUPE_OK) free(body);
            if (!vn->body) goto cleanup;
        }
        s = e;
    }
    rc = LOUPE_OK;
cleanup:
    free(refs);
    free(group);
    return rc;
}

int loupe_hitl_view_new(loupe_study *study, loupe_hitl_view **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    loupe__hitl_clear(study);
    const loupe_attr *attrs;
    size_t n;
    int rc = loupe_study_system_attrs(study, &attrs, &n);
    if (rc) return rc;
    loupe_hitl_view *v = calloc(1, sizeof *v);
    if (!v) return loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
    rc = build(v, attrs, n);
    if (rc) {
        loupe_hitl_view_free(v);
        return loupe__hitl_error(study, rc, "out of memory");
    }
    *out = v;
    return LOUPE_OK;
}

int loupe_hitl_view_note(loupe_hitl_view *v, int64_t trial_id, int64_t *version,
                         const char **body) {
    if (!v || !version || !body) return LOUPE_EINVAL;
    strcpy(v->errmsg, "not an error");
    if (trial_id < LOUPE_STUDY_NOTE) {
        snprintf(v->errmsg, sizeof v->errmsg,
                 "invalid trial_id %" PRId64 ": pass a trial_id or LOUPE_STUDY_NOTE", trial_id);
        return LOUPE_EINVAL;
    }
    size_t lo = 0, hi = v->n_notes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->notes[mid].tid < trial_id) lo = mid + 1;
        else hi = mid;
    }
    if (lo < v->n_notes && v->notes[lo].tid == trial_id) {
        const view_note *vn = &v->notes[lo];
        if (vn->status != LOUPE_OK) {
            *version = 0;
            *body = NULL;
            snprintf(v->errmsg, sizeof v->errmsg, "the stored note is damaged: %s; save it again "
                     "with LOUPE_NOTE_ANY_VERSION to repair it",
                     vn->body);
            return vn->status;
        }
        *version = vn->version;
        *body = vn->body;
        return LOUPE_OK;
    }
    *version = 0;
    *body = "";
    return LOUPE_OK;
}

int loupe_hitl_view_artifacts(loupe_hitl_view *v, const loupe_frozen_trial *trial,
                              loupe_artifact_list **out) {
    if (!v || !out) return LOUPE_EINVAL;
    *out = NULL;
    strcpy(v->errmsg, "not an error");
    loupe_artifact_list *list = loupe__artifact_list_new();
    if (!list) {
        snprintf(v->errmsg, sizeof v->errmsg, "out of memory");
        return LOUPE_ENOMEM;
    }
    int64_t tid = trial ? trial->trial_id : -1;
    size_t lo = 0, hi = v->n_arts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->arts[mid].tid < tid) lo = mid + 1;
        else hi = mid;
    }
    int rc = LOUPE_OK;
    /* Legacy entries of this trial (or the study's own entries) first, ... */
    for (size_t i = lo; i < v->n_arts && v->arts[i].tid == tid && rc == LOUPE_OK; i++)
        rc = loupe__artifact_list_add(list, v->arts[i].key, v->arts[i].json, v->errmsg,
                                      sizeof v->errmsg);
    /* ... then the trial's own attrs, as optuna-dashboard lists them. */
    for (size_t i = 0; trial && i < trial->n_system_attrs && rc == LOUPE_OK; i++)
        if (strncmp(trial->system_attrs[i].key, "artifacts:", 10) == 0)
            rc = loupe__artifact_list_add(list, trial->system_attrs[i].key,
                                          trial->system_attrs[i].json, v->errmsg, sizeof v->errmsg);
    if (rc) {
        loupe_artifact_list_free(list);
        return rc;
    }
    *out = list;
    return LOUPE_OK;
}
