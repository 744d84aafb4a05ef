/*
 * memory.c -- the ":memory:" storage: a private, process-local implementation of
 * the storage vtable (storage.h) with the same semantics as the SQLite storage.
 *
 * Layout: studies are kept in an array sorted by study_id (ids only grow, so
 * lookups are binary searches); each study keeps its trials in a growable array
 * indexed by number, and a global array of (trial_id -> study, number) sorted by
 * trial_id finds any trial in O(log n). Trial ids are global across studies, as
 * in Optuna's RDB storage. Ids start at 1 and are never reused.
 *
 * Atomicity: every operation validates all its inputs and allocates everything
 * it needs before it changes anything, so an error (including out of memory)
 * leaves the storage untouched. update_trial builds the new record on a copy
 * and swaps it in. Readers always get deep copies: later writes never change a
 * record handed out.
 */
#include <stdlib.h>
#include <string.h>

#include "core/distribution.h"
#include "core/errors.h"
#include "core/trial_rec.h"
#include "storage/sql_common.h"
#include "storage/storage.h"
#include "util/timeutil.h"

/* ---------------------------------------------------------------- types */

typedef struct mem_attrs {
    loupe_attr *items; /* key and json malloc'd; insertion order */
    size_t len, alloc;
} mem_attrs;

/* The first distribution stored for a param name in a study: the reference of
 * the compatibility check (as Optuna's RDB storage reads the first row). */
typedef struct mem_dist {
    char *name;
    loupe_distribution dist; /* deep copy */
} mem_dist;

typedef struct mem_study {
    int64_t id;
    char *name;
    size_t n_directions;
    loupe_direction *directions;
    mem_attrs user_attrs, system_attrs;
    loupe__trial_rec **trials; /* owned; index == number == order of trial_id */
    size_t n_trials, trials_alloc;
    mem_dist *dists;
    size_t n_dists, dists_alloc;
    size_t n_waiting;    /* trials in state WAITING */
    size_t waiting_hint; /* no WAITING trial has a number below this */
} mem_study;

typedef struct mem_loc {
    int64_t trial_id;
    mem_study *study;
    size_t number;
} mem_loc;

typedef struct mem_storage {
    loupe_storage head; /* must be first */
    mem_study **studies; /* ascending study_id */
    size_t n_studies, studies_alloc;
    mem_loc *locs; /* ascending trial_id */
    size_t n_locs, locs_alloc;
    int64_t next_study_id;
    int64_t next_trial_id;
    uint64_t version; /* bumped by every successful write */
} mem_storage;

/* ---------------------------------------------------------------- helpers */

/* Makes room for at least `need` elements of size sz in *arr. */
static int reserve(void **arr, size_t *alloc, size_t need, size_t sz) {
    if (need <= *alloc) return 0;
    size_t na = *alloc ? *alloc : 8;
    while (na < need) {
        if (na > ((size_t)-1 / 2) / sz) return -1;
        na *= 2;
    }
    void *p = realloc(*arr, na * sz);
    if (!p) return -1;
    *arr = p;
    *alloc = na;
    return 0;
}

static void attrs_free(mem_attrs *a) {
    for (size_t i = 0; i < a->len; i++) {
        free((char *)a->items[i].key);
        free((char *)a->items[i].json);
    }
    free(a->items);
    memset(a, 0, sizeof *a);
}

static loupe_attr *attrs_find(mem_attrs *a, const char *key) {
    for (size_t i = 0; i < a->len; i++)
        if (strcmp(a->items[i].key, key) == 0) return &a->items[i];
    return NULL;
}

/* Deep copy of an attribute list into a malloc'd array (for study_info). */
static int attrs_copy(const mem_attrs *a, loupe_attr **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (a->len == 0) return LOUPE_OK;
    loupe_attr *c = calloc(a->len, sizeof *c);
    if (!c) return LOUPE_ENOMEM;
    for (size_t i = 0; i < a->len; i++) {
        c[i].key = strdup(a->items[i].key);
        c[i].json = strdup(a->items[i].json);
        if (!c[i].key || !c[i].json) {
            for (size_t j = 0; j <= i; j++) {
                free((char *)c[j].key);
                free((char *)c[j].json);
            }
            free(c);
            return LOUPE_ENOMEM;
        }
    }
    *out = c;
    *n = a->len;
    return LOUPE_OK;
}

static void study_free(mem_study *st) {
    if (!st) return;
    free(st->name);
    free(st->directions);
    attrs_free(&st->user_attrs);
    attrs_free(&st->system_attrs);
    for (size_t i = 0; i < st->n_trials; i++) loupe__trial_rec_release(st->trials[i]);
    free(st->trials);
    for (size_t i = 0; i < st->n_dists; i++) {
        free(st->dists[i].name);
        loupe__distribution_free(&st->dists[i].dist);
    }
    free(st->dists);
    free(st);
}

/* Index of the study with this id in m->studies, or -1. */
static ptrdiff_t study_index(const mem_storage *m, int64_t id) {
    size_t lo = 0, hi = m->n_studies;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->studies[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->n_studies && m->studies[lo]->id == id) return (ptrdiff_t)lo;
    return -1;
}

static mem_study *study_get(mem_storage *m, int64_t id) {
    ptrdiff_t i = study_index(m, id);
    return i < 0 ? NULL : m->studies[i];
}

static int no_study(mem_storage *m, int64_t id) {
    return loupe__error(&m->head, LOUPE_ENOTFOUND, "No study with id %lld", (long long)id);
}

static int no_trial(mem_storage *m, int64_t id) {
    return loupe__error(&m->head, LOUPE_ENOTFOUND, "No trial with id %lld", (long long)id);
}

static int oom(mem_storage *m) {
    return loupe__error(&m->head, LOUPE_ENOMEM, "Out of memory in the in-memory storage");
}

/* Position of trial_id in m->locs, or -1. */
static ptrdiff_t loc_index(const mem_storage *m, int64_t trial_id) {
    size_t lo = 0, hi = m->n_locs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->locs[mid].trial_id < trial_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->n_locs && m->locs[lo].trial_id == trial_id) return (ptrdiff_t)lo;
    return -1;
}

static const mem_dist *dist_find(const mem_study *st, const char *name) {
    for (size_t i = 0; i < st->n_dists; i++)
        if (strcmp(st->dists[i].name, name) == 0) return &st->dists[i];
    return NULL;
}

static int valid_state(loupe_trial_state s) { return (unsigned)s <= (unsigned)LOUPE_WAITING; }

/*
 * Checks a list of params about to be stored on a trial of st (existing holds
 * the trial's params, or NULL): names are unique and new, kinds are known, and
 * each distribution is compatible with the first one stored for its name.
 * Returns LOUPE_OK or an error already recorded on m. Sets *n_new to the
 * number of names the study has not seen yet.
 */
static int check_params(mem_storage *m, const mem_study *st, const loupe_frozen_trial *existing,
                        size_t n, const loupe_param *params, size_t *n_new) {
    char err[512];
    *n_new = 0;
    for (size_t i = 0; i < n; i++) {
        const loupe_param *p = &params[i];
        if (!p->name)
            return loupe__error(&m->head, LOUPE_EINVAL, "A param has no name; give every param a name.");
        if ((unsigned)p->dist.kind > (unsigned)LOUPE_DIST_CATEGORICAL)
            return loupe__error(&m->head, LOUPE_EINVAL,
                                "Param '%s' has an unknown distribution kind %d; use "
                                "LOUPE_DIST_FLOAT, LOUPE_DIST_INT or LOUPE_DIST_CATEGORICAL.",
                                p->name, (int)p->dist.kind);
        if (p->dist.kind == LOUPE_DIST_CATEGORICAL && p->dist.n_choices > 0 && !p->dist.choices)
            return loupe__error(&m->head, LOUPE_EINVAL,
                                "Param '%s' is categorical with %zu choices but no choices array.",
                                p->name, p->dist.n_choices);
        if (existing && loupe_frozen_trial_param(existing, p->name))
            return loupe__error(&m->head, LOUPE_EINVAL,
                                "Trial#%lld already has a param named '%s'; a param is set once per "
                                "trial (suggest it again to read the stored value).",
                                (long long)existing->number, p->name);
        int seen_here = 0;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(params[j].name, p->name) == 0) {
                seen_here = 1;
                break;
            }
        }
        if (seen_here)
            return loupe__error(&m->head, LOUPE_EINVAL,
                                "Param '%s' is given twice in one write; give each name once.",
                                p->name);
        const mem_dist *first = dist_find(st, p->name);
        if (first) {
            if (loupe__distribution_compatible(&first->dist, &p->dist, err, sizeof err) != LOUPE_OK)
                return loupe__error(&m->head, LOUPE_EINCOMPAT, "Param '%s': %s", p->name, err);
        } else {
            (*n_new)++;
        }
    }
    return LOUPE_OK;
}

/* Copies of the distributions of the params whose names st has not seen; the
 * caller appends them to st->dists (room reserved) once nothing can fail. */
static int prepare_dists(const mem_study *st, size_t n, const loupe_param *params, mem_dist *out,
                         size_t n_new) {
    size_t k = 0;
    for (size_t i = 0; i < n && k < n_new; i++) {
        if (dist_find(st, params[i].name)) continue;
        out[k].name = strdup(params[i].name);
        if (!out[k].name || loupe__distribution_copy(&out[k].dist, &params[i].dist) != LOUPE_OK) {
            free(out[k].name);
            goto fail;
        }
        k++;
    }
    return LOUPE_OK;
fail:
    for (size_t j = 0; j < k; j++) {
        free(out[j].name);
        loupe__distribution_free(&out[j].dist);
    }
    return LOUPE_ENOMEM;
}

static void free_prepared_dists(mem_dist *d, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(d[i].name);
        loupe__distribution_free(&d[i].dist);
    }
    free(d);
}

/* Keeps the WAITING bookkeeping right when trial `number` goes from old to new state. */
static void track_waiting(mem_study *st, size_t number, loupe_trial_state old_state,
                          loupe_trial_state new_state) {
    if (old_state == LOUPE_WAITING && new_state != LOUPE_WAITING) {
        st->n_waiting--;
    } else if (old_state != LOUPE_WAITING && new_state == LOUPE_WAITING) {
        if (st->n_waiting == 0 || number < st->waiting_hint) st->waiting_hint = number;
        st->n_waiting++;
    }
}

/* ---------------------------------------------------------------- studies */

static void mem_close(loupe_storage *s) {
    mem_storage *m = (mem_storage *)s;
    if (!m) return;
    for (size_t i = 0; i < m->n_studies; i++) study_free(m->studies[i]);
    free(m->studies);
    free(m->locs);
    free(m);
}

static int mem_create_study(loupe_storage *s, const char *name, size_t n_directions,
                            const loupe_direction *directions, int64_t *study_id) {
    mem_storage *m = (mem_storage *)s;
    if (!name)
        return loupe__error(s, LOUPE_EINVAL, "A study needs a name; pass a name (the public API "
                                             "generates \"no-name-<uuid>\" for you).");
    if (n_directions == 0 || !directions)
        return loupe__error(s, LOUPE_EINVAL,
                            "A study needs at least one direction; pass MINIMIZE or MAXIMIZE "
                            "for each objective.");
    for (size_t i = 0; i < n_directions; i++)
        if ((unsigned)directions[i] > (unsigned)LOUPE_MAXIMIZE)
            return loupe__error(s, LOUPE_EINVAL,
                                "Direction %zu has the unknown value %d; use LOUPE_MINIMIZE or "
                                "LOUPE_MAXIMIZE.",
                                i, (int)directions[i]);
    for (size_t i = 0; i < m->n_studies; i++)
        if (strcmp(m->studies[i]->name, name) == 0)
            return loupe__error(s, LOUPE_EEXISTS, "A study with name '%s' already exists", name);

    mem_study *st = calloc(1, sizeof *st);
    if (!st) return oom(m);
    st->name = strdup(name);
    st->directions = malloc(n_directions * sizeof *st->directions);
    if (!st->name || !st->directions ||
        reserve((void **)&m->studies, &m->studies_alloc, m->n_studies + 1, sizeof *m->studies)) {
        study_free(st);
        return oom(m);
    }
    memcpy(st->directions, directions, n_directions * sizeof *st->directions);
    st->n_directions = n_directions;
    st->id = m->next_study_id++;
    m->studies[m->n_studies++] = st; /* ids only grow: the array stays sorted */
    m->version++;
    if (study_id) *study_id = st->id;
    return LOUPE_OK;
}

static int mem_delete_study(loupe_storage *s, int64_t study_id) {
    mem_storage *m = (mem_storage *)s;
    ptrdiff_t idx = study_index(m, study_id);
    if (idx < 0) return no_study(m, study_id);
    mem_study *st = m->studies[idx];
    /* drop the study's trials from the id index (order of the rest is kept) */
    size_t w = 0;
    for (size_t r = 0; r < m->n_locs; r++)
        if (m->locs[r].study != st) m->locs[w++] = m->locs[r];
    m->n_locs = w;
    memmove(&m->studies[idx], &m->studies[idx + 1],
            (m->n_studies - (size_t)idx - 1) * sizeof *m->studies);
    m->n_studies--;
    study_free(st);
    m->version++;
    return LOUPE_OK;
}

static int mem_find_study(loupe_storage *s, const char *name, int64_t *study_id) {
    mem_storage *m = (mem_storage *)s;
    if (!name) return loupe__error(s, LOUPE_EINVAL, "No study name given; pass the study's name.");
    for (size_t i = 0; i < m->n_studies; i++) {
        if (strcmp(m->studies[i]->name, name) == 0) {
            if (study_id) *study_id = m->studies[i]->id;
            return LOUPE_OK;
        }
    }
    return loupe__error(s, LOUPE_ENOTFOUND, "No study named '%s'", name);
}

/* Fills info (zeroed first) with copies of the study's facts. */
static int fill_info(const mem_study *st, loupe__study_info *info) {
    memset(info, 0, sizeof *info);
    info->study_id = st->id;
    info->name = strdup(st->name);
    info->directions = malloc(st->n_directions * sizeof *info->directions);
    if (!info->name || !info->directions) goto fail;
    memcpy(info->directions, st->directions, st->n_directions * sizeof *info->directions);
    info->n_directions = st->n_directions;
    if (attrs_copy(&st->user_attrs, &info->user_attrs, &info->n_user_attrs)) goto fail;
    if (attrs_copy(&st->system_attrs, &info->system_attrs, &info->n_system_attrs)) goto fail;
    return LOUPE_OK;
fail:
    loupe__study_info_free(info);
    memset(info, 0, sizeof *info);
    return LOUPE_ENOMEM;
}

static int mem_get_study(loupe_storage *s, int64_t study_id, loupe__study_info *out) {
    mem_storage *m = (mem_storage *)s;
    memset(out, 0, sizeof *out);
    mem_study *st = study_get(m, study_id);
    if (!st) return no_study(m, study_id);
    if (fill_info(st, out)) return oom(m);
    return LOUPE_OK;
}

static int mem_list(loupe_storage *s, int bare, loupe_study_list **out) {
    mem_storage *m = (mem_storage *)s;
    *out = NULL;
    loupe_study_list *list = loupe__study_list_new();
    if (!list) return oom(m);
    for (size_t i = 0; i < m->n_studies; i++) {
        const mem_study *st = m->studies[i];
        int64_t start = -1;
        for (size_t t = 0; !bare && t < st->n_trials; t++) {
            int64_t d = st->trials[t]->t.datetime_start_us;
            if (d >= 0 && (start < 0 || d < start)) start = d;
        }
        loupe__study_info info;
        if (fill_info(st, &info)) goto fail;
        if (loupe__study_list_push(list, &info, bare ? -1 : (int64_t)st->n_trials, start) != LOUPE_OK) {
            loupe__study_info_free(&info);
            goto fail;
        }
    }
    *out = list;
    return LOUPE_OK;
fail:
    loupe_study_list_free(list);
    return oom(m);
}

static int mem_list_studies(loupe_storage *s, loupe_study_list **out) { return mem_list(s, 0, out); }

static int mem_list_study_heads(loupe_storage *s, loupe_study_list **out) { return mem_list(s, 1, out); }

static int mem_set_study_attrs(loupe_storage *s, int64_t study_id, int system, size_t n,
                               const loupe_attr *attrs, const loupe_attr *guard) {
    mem_storage *m = (mem_storage *)s;
    mem_study *st = study_get(m, study_id);
    if (!st) return no_study(m, study_id);
    for (size_t i = 0; i < n; i++)
        if (!attrs[i].key || !attrs[i].json)
            return loupe__error(s, LOUPE_EINVAL,
                                "Study attribute %zu has no %s; give every attribute a key and a "
                                "JSON value.",
                                i, attrs[i].key ? "value" : "key");
    mem_attrs *a = system ? &st->system_attrs : &st->user_attrs;
    int rc = loupe__check_guard_arg(s, guard);
    if (!rc && guard) {
        const loupe_attr *cur = attrs_find(a, guard->key);
        rc = loupe__guard_holds(s, guard, cur ? cur->json : NULL);
    }
    if (rc) return rc;
    /* allocate everything first: copies of the inputs and room for n appends */
    loupe_attr *copies = n ? calloc(n, sizeof *copies) : NULL;
    if (n && !copies) return oom(m);
    for (size_t i = 0; i < n; i++) {
        copies[i].key = strdup(attrs[i].key);
        copies[i].json = strdup(attrs[i].json);
        if (!copies[i].key || !copies[i].json) goto fail;
    }
    if (reserve((void **)&a->items, &a->alloc, a->len + n, sizeof *a->items)) goto fail;
    for (size_t i = 0; i < n; i++) {
        loupe_attr *old = attrs_find(a, copies[i].key);
        if (old) { /* overwrite in place: insertion order is kept */
            free((char *)old->json);
            old->json = copies[i].json;
            free((char *)copies[i].key);
        } else {
            a->items[a->len++] = copies[i];
        }
    }
    free(copies);
    m->version++;
    return LOUPE_OK;
fail:
    for (size_t i = 0; i < n; i++) {
        free((char *)copies[i].key);
        free((char *)copies[i].json);
    }
    free(copies);
    return oom(m);
}

/* ---------------------------------------------------------------- trials */

static int mem_create_trial(loupe_storage *s, int64_t study_id, const loupe_frozen_trial *tmpl,
                            int64_t *trial_id, int64_t *number) {
    mem_storage *m = (mem_storage *)s;
    mem_study *st = study_get(m, study_id);
    if (!st) return no_study(m, study_id);
    size_t n_new = 0;
    mem_dist *new_dists = NULL;
    loupe__trial_rec *rec = NULL;
    int rc;
    if (tmpl) {
        if (!valid_state(tmpl->state))
            return loupe__error(s, LOUPE_EINVAL,
                                "The template trial has the unknown state %d; use a "
                                "loupe_trial_state value.",
                                (int)tmpl->state);
        rc = check_params(m, st, NULL, tmpl->n_params, tmpl->params, &n_new);
        if (rc) return rc;
        for (size_t i = 0; i < tmpl->n_user_attrs; i++)
            if (!tmpl->user_attrs[i].key || !tmpl->user_attrs[i].json)
                return loupe__error(s, LOUPE_EINVAL, "A user attribute of the template trial "
                                                     "lacks a key or value.");
        for (size_t i = 0; i < tmpl->n_system_attrs; i++)
            if (!tmpl->system_attrs[i].key || !tmpl->system_attrs[i].json)
                return loupe__error(s, LOUPE_EINVAL, "A system attribute of the template trial "
                                                     "lacks a key or value.");
    }
    if (reserve((void **)&st->trials, &st->trials_alloc, st->n_trials + 1, sizeof *st->trials) ||
        reserve((void **)&m->locs, &m->locs_alloc, m->n_locs + 1, sizeof *m->locs) ||
        reserve((void **)&st->dists, &st->dists_alloc, st->n_dists + n_new, sizeof *st->dists))
        return oom(m);
    if (n_new) {
        new_dists = calloc(n_new, sizeof *new_dists);
        if (!new_dists || prepare_dists(st, tmpl->n_params, tmpl->params, new_dists, n_new)) {
            free(new_dists);
            return oom(m);
        }
    }
    rec = tmpl ? loupe__trial_rec_clone(tmpl) : loupe__trial_rec_new();
    if (!rec) {
        free_prepared_dists(new_dists, n_new);
        return oom(m);
    }
    /* nothing can fail from here on */
    rec->t.trial_id = m->next_trial_id++;
    rec->t.study_id = st->id;
    rec->t.number = (int64_t)st->n_trials;
    if (!tmpl) {
        rec->t.state = LOUPE_RUNNING;
        rec->t.datetime_start_us = loupe__now_us();
    }
    size_t num = st->n_trials;
    st->trials[st->n_trials++] = rec;
    m->locs[m->n_locs++] = (mem_loc){rec->t.trial_id, st, num};
    if (n_new) memcpy(&st->dists[st->n_dists], new_dists, n_new * sizeof *new_dists);
    st->n_dists += n_new;
    free(new_dists);
    track_waiting(st, num, LOUPE_RUNNING, rec->t.state);
    m->version++;
    if (trial_id) *trial_id = rec->t.trial_id;
    if (number) *number = rec->t.number;
    return LOUPE_OK;
}

static int mem_claim_waiting_trial(loupe_storage *s, int64_t study_id, int64_t *trial_id) {
    mem_storage *m = (mem_storage *)s;
    mem_study *st = study_get(m, study_id);
    if (!st) return no_study(m, study_id);
    if (st->n_waiting > 0) {
        for (size_t i = st->waiting_hint; i < st->n_trials; i++) {
            loupe__trial_rec *r = st->trials[i];
            if (r->t.state != LOUPE_WAITING) continue;
            /* records are never shared with readers (they get copies), so the
             * claim can change this one in place */
            r->t.state = LOUPE_RUNNING;
            r->t.datetime_start_us = loupe__now_us();
            st->n_waiting--;
            st->waiting_hint = i + 1;
            m->version++;
            if (trial_id) *trial_id = r->t.trial_id;
            return LOUPE_OK;
        }
    }
    return loupe__error(s, LOUPE_ENOTFOUND, "No WAITING trial in study %lld", (long long)study_id);
}

static int mem_update_trial(loupe_storage *s, const loupe__trial_update *u, int *state_changed) {
    mem_storage *m = (mem_storage *)s;
    if (state_changed) *state_changed = 0;
    ptrdiff_t li = loc_index(m, u->trial_id);
    if (li < 0) return no_trial(m, u->trial_id);
    mem_study *st = m->locs[li].study;
    size_t num = m->locs[li].number;
    loupe__trial_rec *old = st->trials[num];

    /* 1. validate everything */
    if (loupe_trial_state_is_finished(old->t.state))
        return loupe__error(s, LOUPE_EFINISHED, "Trial#%lld has already finished and can not be updated.",
                            (long long)old->t.number);
    size_t n_new = 0;
    int rc = check_params(m, st, &old->t, u->n_params, u->params, &n_new);
    if (rc) return rc;
    for (size_t i = 0; i < u->n_user_attrs; i++)
        if (!u->user_attrs[i].key || !u->user_attrs[i].json)
            return loupe__error(s, LOUPE_EINVAL, "Trial user attribute %zu lacks a key or value; "
                                                 "give every attribute a key and a JSON value.",
                                i);
    for (size_t i = 0; i < u->n_system_attrs; i++)
        if (!u->system_attrs[i].key || !u->system_attrs[i].json)
            return loupe__error(s, LOUPE_EINVAL, "Trial system attribute %zu lacks a key or value; "
                                                 "give every attribute a key and a JSON value.",
                                i);
    if (u->set_state && !valid_state(u->state))
        return loupe__error(s, LOUPE_EINVAL, "Unknown trial state %d; use a loupe_trial_state value.",
                            (int)u->state);
    if (!u->set_state && u->n_values > 0)
        return loupe__error(s, LOUPE_EINVAL, "Trial values are written together with a state "
                                             "change; set set_state and state.");

    /* 2. build the new record and the new study-level distributions */
    mem_dist *new_dists = NULL;
    loupe__trial_rec *rec = NULL;
    if (reserve((void **)&st->dists, &st->dists_alloc, st->n_dists + n_new, sizeof *st->dists))
        return oom(m);
    if (n_new) {
        new_dists = calloc(n_new, sizeof *new_dists);
        if (!new_dists || prepare_dists(st, u->n_params, u->params, new_dists, n_new)) {
            free(new_dists);
            return oom(m);
        }
    }
    rec = loupe__trial_rec_clone(&old->t);
    if (!rec || loupe__trial_rec_reserve_params(rec, old->t.n_params + u->n_params)) goto fail;
    for (size_t i = 0; i < u->n_params; i++)
        if (loupe__trial_rec_add_param(rec, u->params[i].name, u->params[i].internal,
                                       &u->params[i].dist))
            goto fail;
    for (size_t i = 0; i < u->n_user_attrs; i++)
        if (loupe__trial_rec_put_user_attr(rec, u->user_attrs[i].key, u->user_attrs[i].json))
            goto fail;
    for (size_t i = 0; i < u->n_system_attrs; i++)
        if (loupe__trial_rec_put_system_attr(rec, u->system_attrs[i].key, u->system_attrs[i].json))
            goto fail;
    for (size_t i = 0; i < u->n_intermediate; i++)
        if (loupe__trial_rec_put_intermediate(rec, u->intermediate[i].step, u->intermediate[i].value))
            goto fail;
    int changed = 0;
    if (u->set_state) {
        for (size_t i = 0; i < u->n_values; i++)
            if (loupe__trial_rec_set_value(rec, i, u->values[i])) goto fail;
        /* Optuna: RUNNING on a trial that is not WAITING changes nothing more */
        if (!(u->state == LOUPE_RUNNING && old->t.state != LOUPE_WAITING)) {
            rec->t.state = u->state;
            int64_t now = u->now_us ? u->now_us : loupe__now_us();
            if (u->state == LOUPE_RUNNING) rec->t.datetime_start_us = now;
            if (loupe_trial_state_is_finished(u->state)) rec->t.datetime_complete_us = now;
            changed = 1;
        }
    }

    /* 3. commit: pointer swaps only */
    st->trials[num] = rec;
    if (n_new) memcpy(&st->dists[st->n_dists], new_dists, n_new * sizeof *new_dists);
    st->n_dists += n_new;
    free(new_dists);
    track_waiting(st, num, old->t.state, rec->t.state);
    loupe__trial_rec_release(old);
    m->version++;
    if (state_changed) *state_changed = changed;
    return LOUPE_OK;
fail:
    loupe__trial_rec_release(rec);
    free_prepared_dists(new_dists, n_new);
    return oom(m);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int mem_read_trials(loupe_storage *s, int64_t study_id, int64_t after_trial_id, size_t n_ids,
                           const int64_t *ids, loupe__rec_vec *out) {
    mem_storage *m = (mem_storage *)s;
    mem_study *st = study_get(m, study_id);
    if (!st) return no_study(m, study_id);
    size_t start_len = out->len;
    int64_t *sel = NULL;
    size_t n_sel = 0;
    /* the listed ids that are not already covered by "after", sorted, unique */
    if (n_ids) {
        sel = malloc(n_ids * sizeof *sel);
        if (!sel) return oom(m);
        for (size_t i = 0; i < n_ids; i++)
            if (ids[i] <= after_trial_id) sel[n_sel++] = ids[i];
        qsort(sel, n_sel, sizeof *sel, cmp_i64);
    }
    for (size_t i = 0; i < n_sel; i++) {
        if (i > 0 && sel[i] == sel[i - 1]) continue;
        ptrdiff_t li = loc_index(m, sel[i]);
        if (li < 0 || m->locs[li].study != st) continue; /* gone, or another study's */
        loupe__trial_rec *c = loupe__trial_rec_clone(&st->trials[m->locs[li].number]->t);
        if (!c || loupe__rec_vec_push(out, c)) {
            loupe__trial_rec_release(c);
            goto fail;
        }
    }
    /* trials are stored in trial_id order: binary search the first one after */
    size_t lo = 0, hi = st->n_trials;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->trials[mid]->t.trial_id <= after_trial_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < st->n_trials; i++) {
        loupe__trial_rec *c = loupe__trial_rec_clone(&st->trials[i]->t);
        if (!c || loupe__rec_vec_push(out, c)) {
            loupe__trial_rec_release(c);
            goto fail;
        }
    }
    free(sel);
    return LOUPE_OK;
fail:
    while (out->len > start_len) loupe__trial_rec_release(out->items[--out->len]);
    free(sel);
    return oom(m);
}

static int mem_read_trial(loupe_storage *s, int64_t trial_id, loupe__trial_rec **out) {
    mem_storage *m = (mem_storage *)s;
    *out = NULL;
    ptrdiff_t li = loc_index(m, trial_id);
    if (li < 0) return no_trial(m, trial_id);
    loupe__trial_rec *c = loupe__trial_rec_clone(&m->locs[li].study->trials[m->locs[li].number]->t);
    if (!c) return oom(m);
    *out = c;
    return LOUPE_OK;
}

static int mem_trial_id_by_number(loupe_storage *s, int64_t study_id, int64_t number,
                                  int64_t *trial_id) {
    mem_storage *m = (mem_storage *)s;
    mem_study *st = study_get(m, study_id);
    if (!st) return no_study(m, study_id);
    if (number < 0 || (uint64_t)number >= st->n_trials)
        return loupe__error(s, LOUPE_ENOTFOUND, "No trial with number %lld in study %lld",
                            (long long)number, (long long)study_id);
    if (trial_id) *trial_id = st->trials[number]->t.trial_id;
    return LOUPE_OK;
}

static int mem_data_version(loupe_storage *s, uint64_t *version) {
    *version = ((mem_storage *)s)->version;
    return LOUPE_OK;
}

static const loupe__storage_ops memory_ops = {
    .name = "memory",
    .close = mem_close,
    .create_study = mem_create_study,
    .delete_study = mem_delete_study,
    .find_study = mem_find_study,
    .get_study = mem_get_study,
    .list_studies = mem_list_studies,
    .list_study_heads = mem_list_study_heads,
    .set_study_attrs = mem_set_study_attrs,
    .create_trial = mem_create_trial,
    .claim_waiting_trial = mem_claim_waiting_trial,
    .update_trial = mem_update_trial,
    .read_trials = mem_read_trials,
    .read_trial = mem_read_trial,
    .trial_id_by_number = mem_trial_id_by_number,
    .data_version = mem_data_version,
};

int loupe__memory_storage_open(loupe_storage **out) {
    mem_storage *m = calloc(1, sizeof *m);
    *out = (loupe_storage *)m;
    if (!m) return LOUPE_ENOMEM;
    m->head.ops = &memory_ops;
    strcpy(m->head.schema_revision, LOUPE__SCHEMA_HEAD);
    m->head.read_only = 0;
    m->next_study_id = 1; /* as SQLite's rowids: ids start at 1 */
    m->next_trial_id = 1;
    loupe__error_clear(&m->head);
    return LOUPE_OK;
}
