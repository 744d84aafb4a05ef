/*
 * tpe_history.c -- TPE's per-study memory of finished trials and their search
 * spaces (see tpe_history.h): records, interned param names, the intersection
 * search space (Optuna's IntersectionSearchSpace(include_pruned=True)) and the
 * group decomposition (Optuna's _GroupDecomposedSearchSpace), both updated
 * incrementally as trials finish.
 */
#include "sampler/tpe_history.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/distribution.h"
#include "util/pyjson.h"

int loupe__tpe_dist_copy(loupe_distribution *dst, const loupe_distribution *src) {
    *dst = *src;
    dst->choices = NULL;
    if (src->kind != LOUPE_DIST_CATEGORICAL || src->n_choices == 0) {
        dst->n_choices = src->kind == LOUPE_DIST_CATEGORICAL ? 0 : src->n_choices;
        return LOUPE_OK;
    }
    char **c = calloc(src->n_choices, sizeof *c);
    if (!c) return LOUPE_ENOMEM;
    dst->choices = (const char *const *)c;
    for (size_t i = 0; i < src->n_choices; i++) {
        c[i] = strdup(src->choices[i]);
        if (!c[i]) {
            loupe__tpe_dist_free(dst);
            return LOUPE_ENOMEM;
        }
    }
    return LOUPE_OK;
}

void loupe__tpe_dist_free(loupe_distribution *d) {
    if (d->choices) {
        for (size_t i = 0; i < d->n_choices; i++) free((char *)d->choices[i]);
        free((void *)d->choices);
    }
    d->choices = NULL;
}

static void space_free(loupe__tpe_space *s) {
    for (size_t i = 0; i < s->len; i++) loupe__tpe_dist_free(&s->items[i].dist);
    free(s->items);
    memset(s, 0, sizeof *s);
}

/* Appends an entry, taking ownership of dist. */
static int space_push(loupe__tpe_space *s, size_t id, const loupe_distribution *dist) {
    if (s->len == s->alloc) {
        size_t na = s->alloc ? 2 * s->alloc : 8;
        loupe__tpe_sp_entry *p = realloc(s->items, na * sizeof *p);
        if (!p) return LOUPE_ENOMEM;
        s->items = p;
        s->alloc = na;
    }
    s->items[s->len].id = id;
    s->items[s->len].dist = *dist;
    s->len++;
    return LOUPE_OK;
}

void loupe__tpe_history_init(loupe__tpe_history *h) { memset(h, 0, sizeof *h); }

void loupe__tpe_history_free(loupe__tpe_history *h) {
    for (size_t i = 0; i < h->n_names; i++) free(h->names[i]);
    free(h->names);
    for (size_t i = 0; i < h->n_recs; i++) loupe__tpe_rec_free(&h->recs[i]);
    free(h->recs);
    free(h->slot);
    space_free(&h->inter);
    for (size_t g = 0; g < h->n_groups; g++) space_free(&h->groups[g]);
    free(h->groups);
    memset(h, 0, sizeof *h);
}

size_t loupe__tpe_name_id(loupe__tpe_history *h, const char *name, int create) {
    for (size_t i = 0; i < h->n_names; i++)
        if (strcmp(h->names[i], name) == 0) return i;
    if (!create) return (size_t)-1;
    if (h->n_names == h->names_alloc) {
        size_t na = h->names_alloc ? 2 * h->names_alloc : 16;
        char **p = realloc(h->names, na * sizeof *p);
        if (!p) return (size_t)-1;
        h->names = p;
        h->names_alloc = na;
    }
    char *copy = strdup(name);
    if (!copy) return (size_t)-1;
    h->names[h->n_names] = copy;
    return h->n_names++;
}

int loupe__tpe_history_has(const loupe__tpe_history *h, int64_t number) {
    return number >= 0 && (uint64_t)number < h->n_slot && h->slot[number] != 0;
}

/* A JSON number (or bool, as Python sums True as 1) from attribute text. */
static int json_number(yyjson_val *v, double *out) {
    if (yyjson_is_num(v)) {
        *out = yyjson_get_num(v);
        return 1;
    }
    if (yyjson_is_bool(v)) {
        *out = yyjson_get_bool(v) ? 1.0 : 0.0;
        return 1;
    }
    return 0;
}

/* "constraints:<name>" overrides list entry i when name is str(i). */
static long list_index_of(const char *name, size_t n_list) {
    if (!*name || (name[0] == '0' && name[1])) return -1;
    size_t v = 0;
    for (const char *p = name; *p; p++) {
        if (!isdigit((unsigned char)*p)) return -1;
        v = v * 10 + (size_t)(*p - '0');
        if (v >= n_list) return -1;
    }
    return (long)v;
}

double loupe__tpe_infeasibility(const loupe_frozen_trial *t) {
    double list_vals[LOUPE_TPE_MAX_CONSTRAINTS * 4];
    int list_ok[LOUPE_TPE_MAX_CONSTRAINTS * 4];
    size_t n_list = 0;
    double score = 0.0;
    const char *list_json = loupe_frozen_trial_system_attr(t, "constraints");
    if (list_json) {
        char err[8];
        yyjson_doc *doc = loupe__pyjson_parse(list_json, strlen(list_json), err, sizeof err);
        yyjson_val *root = doc ? yyjson_doc_get_root(doc) : NULL;
        if (root && yyjson_is_arr(root)) {
            size_t idx, max;
            yyjson_val *v;
            yyjson_arr_foreach(root, idx, max, v) {
                if (n_list == sizeof list_vals / sizeof list_vals[0]) break;
                list_ok[n_list] = json_number(v, &list_vals[n_list]);
                n_list++;
            }
        }
        if (doc) yyjson_doc_free(doc);
    }
    for (size_t i = 0; i < t->n_system_attrs; i++) {
        const char *key = t->system_attrs[i].key;
        if (strncmp(key, "constraints:", 12) != 0) continue;
        char err[8];
        const char *js = t->system_attrs[i].json;
        yyjson_doc *doc = loupe__pyjson_parse(js, strlen(js), err, sizeof err);
        double v;
        int ok = doc && json_number(yyjson_doc_get_root(doc), &v);
        if (doc) yyjson_doc_free(doc);
        long li = list_index_of(key + 12, n_list);
        if (li >= 0) {
            list_ok[li] = ok;
            if (ok) list_vals[li] = v;
        } else if (ok && v > 0) {
            score += v;
        }
    }
    for (size_t i = 0; i < n_list; i++)
        if (list_ok[i] && list_vals[i] > 0) score += list_vals[i];
    return score;
}

int loupe__tpe_rec_fill(loupe__tpe_history *h, loupe__tpe_rec *r, const loupe_frozen_trial *t,
                        int create_ids) {
    memset(r, 0, sizeof *r);
    r->number = t->number;
    r->state = t->state;
    if (t->n_values) {
        r->values = malloc(t->n_values * sizeof *r->values);
        if (!r->values) return LOUPE_ENOMEM;
        memcpy(r->values, t->values, t->n_values * sizeof *r->values);
        r->n_values = t->n_values;
    }
    r->infeasible = t->state == LOUPE_RUNNING ? 0.0 : loupe__tpe_infeasibility(t);
    for (size_t i = 0; i < t->n_intermediate; i++) {
        if (!r->has_intermediate || t->intermediate[i].step >= r->last_step) {
            r->has_intermediate = 1;
            r->last_step = t->intermediate[i].step;
            r->last_value = t->intermediate[i].value;
        }
    }
    if (create_ids)
        for (size_t i = 0; i < t->n_params; i++)
            if (loupe__tpe_name_id(h, t->params[i].name, 1) == (size_t)-1) return LOUPE_ENOMEM;
    r->n_pv = h->n_names;
    r->pv = malloc((r->n_pv ? r->n_pv : 1) * sizeof *r->pv);
    if (!r->pv) return LOUPE_ENOMEM;
    for (size_t i = 0; i < r->n_pv; i++) r->pv[i] = NAN;
    for (size_t i = 0; i < t->n_params; i++) {
        size_t id = loupe__tpe_name_id(h, t->params[i].name, 0);
        if (id != (size_t)-1) r->pv[id] = t->params[i].internal;
    }
    return LOUPE_OK;
}

/* Folds one finished trial's distributions (by id in dist_of[]) into the
 * intersection: entries survive only with an equal distribution. */
static int update_intersection(loupe__tpe_history *h, const loupe_distribution **dist_of) {
    if (!h->inter_set) {
        h->inter_set = 1;
        for (size_t id = 0; id < h->n_names; id++) {
            if (!dist_of[id]) continue;
            loupe_distribution d;
            if (loupe__tpe_dist_copy(&d, dist_of[id])) return LOUPE_ENOMEM;
            if (space_push(&h->inter, id, &d)) {
                loupe__tpe_dist_free(&d);
                return LOUPE_ENOMEM;
            }
        }
        return LOUPE_OK;
    }
    size_t keep = 0;
    for (size_t i = 0; i < h->inter.len; i++) {
        loupe__tpe_sp_entry *e = &h->inter.items[i];
        const loupe_distribution *d = e->id < h->n_names ? dist_of[e->id] : NULL;
        if (d && loupe__distribution_equal(&e->dist, d))
            h->inter.items[keep++] = *e;
        else
            loupe__tpe_dist_free(&e->dist);
    }
    h->inter.len = keep;
    return LOUPE_OK;
}

/* Refines the group partition by one trial's param set: each group splits into
 * the part the trial has and the part it lacks; the trial's new params form a
 * group of their own. Groups keep their first-seen distributions, as Optuna. */
static int update_groups(loupe__tpe_history *h, const loupe_distribution **dist_of) {
    unsigned char *seen = calloc(h->n_names ? h->n_names : 1, 1);
    loupe__tpe_space *next = calloc(2 * h->n_groups + 1, sizeof *next);
    if (!seen || !next) {
        free(seen);
        free(next);
        return LOUPE_ENOMEM;
    }
    size_t nn = 0;
    int rc = LOUPE_OK;
    for (size_t g = 0; g < h->n_groups; g++) {
        loupe__tpe_space *G = &h->groups[g];
        loupe__tpe_space in = {0}, out = {0};
        for (size_t i = 0; i < G->len; i++) {
            loupe__tpe_sp_entry *e = &G->items[i];
            seen[e->id] = 1;
            /* ownership of e->dist moves to in/out; on failure it stays in G */
            if (rc == LOUPE_OK) {
                rc = space_push(dist_of[e->id] ? &in : &out, e->id, &e->dist);
                if (rc == LOUPE_OK) e->dist.choices = NULL;
            }
        }
        if (rc != LOUPE_OK) {
            space_free(&in);
            space_free(&out);
            break;
        }
        if (in.len)
            next[nn++] = in;
        else
            free(in.items);
        if (out.len)
            next[nn++] = out;
        else
            free(out.items);
    }
    loupe__tpe_space fresh = {0};
    for (size_t id = 0; rc == LOUPE_OK && id < h->n_names; id++) {
        if (!dist_of[id] || seen[id]) continue;
        loupe_distribution d;
        rc = loupe__tpe_dist_copy(&d, dist_of[id]);
        if (rc == LOUPE_OK && (rc = space_push(&fresh, id, &d)) != LOUPE_OK)
            loupe__tpe_dist_free(&d);
    }
    if (rc != LOUPE_OK) {
        /* leave the old partition (some dists already moved: drop everything) */
        space_free(&fresh);
        for (size_t i = 0; i < nn; i++) space_free(&next[i]);
        free(next);
        free(seen);
        return rc;
    }
    if (fresh.len)
        next[nn++] = fresh;
    else
        free(fresh.items);
    for (size_t g = 0; g < h->n_groups; g++) space_free(&h->groups[g]);
    free(h->groups);
    h->groups = next;
    h->n_groups = nn;
    h->groups_alloc = 2 * h->n_groups + 1;
    free(seen);
    return LOUPE_OK;
}

int loupe__tpe_history_add(loupe__tpe_history *h, const loupe_frozen_trial *t) {
    if (t->state != LOUPE_COMPLETE && t->state != LOUPE_PRUNED) return LOUPE_OK;
    if (t->number < 0 || loupe__tpe_history_has(h, t->number)) return LOUPE_OK;
    size_t need = (size_t)t->number + 1;
    if (need > h->n_slot) {
        size_t ns = h->n_slot ? h->n_slot : 64;
        while (ns < need) ns *= 2;
        size_t *p = realloc(h->slot, ns * sizeof *p);
        if (!p) return LOUPE_ENOMEM;
        memset(p + h->n_slot, 0, (ns - h->n_slot) * sizeof *p);
        h->slot = p;
        h->n_slot = ns;
    }
    if (h->n_recs == h->recs_alloc) {
        size_t na = h->recs_alloc ? 2 * h->recs_alloc : 64;
        loupe__tpe_rec *p = realloc(h->recs, na * sizeof *p);
        if (!p) return LOUPE_ENOMEM;
        h->recs = p;
        h->recs_alloc = na;
    }
    loupe__tpe_rec *r = &h->recs[h->n_recs];
    int rc = loupe__tpe_rec_fill(h, r, t, 1);
    if (rc != LOUPE_OK) {
        loupe__tpe_rec_free(r);
        return rc;
    }
    const loupe_distribution **dist_of = calloc(h->n_names ? h->n_names : 1, sizeof *dist_of);
    if (!dist_of) {
        loupe__tpe_rec_free(r);
        return LOUPE_ENOMEM;
    }
    for (size_t i = 0; i < t->n_params; i++)
        dist_of[loupe__tpe_name_id(h, t->params[i].name, 0)] = &t->params[i].dist;
    rc = update_intersection(h, dist_of);
    if (rc == LOUPE_OK) rc = update_groups(h, dist_of);
    free(dist_of);
    if (rc != LOUPE_OK) {
        loupe__tpe_rec_free(r);
        return rc;
    }
    h->n_recs++;
    h->slot[t->number] = h->n_recs;
    return LOUPE_OK;
}
