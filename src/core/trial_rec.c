/* trial_rec.c -- reference-counted trial snapshots and their builder (see trial_rec.h). */
#include "trial_rec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

loupe__trial_rec *loupe__trial_rec_new(void) {
    loupe__trial_rec *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->refcount = 1;
    r->t.state = LOUPE_RUNNING;
    r->t.datetime_start_us = -1;
    r->t.datetime_complete_us = -1;
    return r;
}

void loupe__trial_rec_retain(loupe__trial_rec *r) {
    if (r) r->refcount++;
}

int loupe__distribution_copy(loupe_distribution *dst, const loupe_distribution *src) {
    *dst = *src;
    dst->choices = NULL;
    if (src->kind != LOUPE_DIST_CATEGORICAL || src->n_choices == 0) {
        dst->n_choices = 0;
        return LOUPE_OK;
    }
    char **c = calloc(src->n_choices, sizeof *c);
    if (!c) return LOUPE_ENOMEM;
    for (size_t i = 0; i < src->n_choices; i++) {
        c[i] = strdup(src->choices[i]);
        if (!c[i]) {
            for (size_t j = 0; j < i; j++) free(c[j]);
            free(c);
            return LOUPE_ENOMEM;
        }
    }
    dst->choices = (const char *const *)c;
    return LOUPE_OK;
}

void loupe__distribution_free(loupe_distribution *d) {
    if (!d) return;
    if (d->choices) {
        for (size_t i = 0; i < d->n_choices; i++) free((char *)d->choices[i]);
        free((void *)d->choices);
    }
    d->choices = NULL;
    d->n_choices = 0;
}

void loupe__trial_rec_release(loupe__trial_rec *r) {
    if (!r || --r->refcount > 0) return;
    for (size_t i = 0; i < r->t.n_params; i++) {
        free((char *)r->params[i].name);
        loupe__distribution_free(&r->params[i].dist);
    }
    for (size_t i = 0; i < r->t.n_user_attrs; i++) {
        free((char *)r->user_attrs[i].key);
        free((char *)r->user_attrs[i].json);
    }
    for (size_t i = 0; i < r->t.n_system_attrs; i++) {
        free((char *)r->system_attrs[i].key);
        free((char *)r->system_attrs[i].json);
    }
    free(r->params);
    free(r->user_attrs);
    free(r->system_attrs);
    free(r->intermediate);
    free(r->values);
    free(r);
}

/* Grows *arr to hold at least n+1 elements of size sz. */
static int grow(void **arr, size_t *alloc, size_t n, size_t sz) {
    if (n < *alloc) return 0;
    size_t na = *alloc ? *alloc * 2 : 4;
    void *p = realloc(*arr, na * sz);
    if (!p) return -1;
    *arr = p;
    *alloc = na;
    return 0;
}

int loupe__trial_rec_reserve_params(loupe__trial_rec *r, size_t n) {
    if (n <= r->params_alloc) return LOUPE_OK;
    loupe_param *p = realloc(r->params, n * sizeof *p);
    if (!p) return LOUPE_ENOMEM;
    r->params = p;
    r->params_alloc = n;
    r->t.params = p;
    return LOUPE_OK;
}

int loupe__trial_rec_add_param(loupe__trial_rec *r, const char *name, double internal,
                               const loupe_distribution *dist) {
    if (grow((void **)&r->params, &r->params_alloc, r->t.n_params, sizeof *r->params))
        return LOUPE_ENOMEM;
    loupe_param *p = &r->params[r->t.n_params];
    p->name = strdup(name);
    if (!p->name) return LOUPE_ENOMEM;
    if (loupe__distribution_copy(&p->dist, dist)) {
        free((char *)p->name);
        return LOUPE_ENOMEM;
    }
    p->internal = internal;
    r->t.n_params++;
    r->t.params = r->params;
    return LOUPE_OK;
}

static int add_attr(loupe_attr **arr, size_t *alloc, size_t *n, const char *key, const char *json) {
    if (grow((void **)arr, alloc, *n, sizeof **arr)) return LOUPE_ENOMEM;
    char *k = strdup(key), *j = strdup(json);
    if (!k || !j) {
        free(k);
        free(j);
        return LOUPE_ENOMEM;
    }
    (*arr)[*n].key = k;
    (*arr)[*n].json = j;
    (*n)++;
    return LOUPE_OK;
}

static int put_attr(loupe_attr **arr, size_t *alloc, size_t *n, const char *key, const char *json) {
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*arr)[i].key, key) == 0) {
            char *j = strdup(json);
            if (!j) return LOUPE_ENOMEM;
            free((char *)(*arr)[i].json);
            (*arr)[i].json = j;
            return LOUPE_OK;
        }
    }
    return add_attr(arr, alloc, n, key, json);
}

int loupe__trial_rec_add_user_attr(loupe__trial_rec *r, const char *key, const char *json) {
    int rc = add_attr(&r->user_attrs, &r->user_attrs_alloc, &r->t.n_user_attrs, key, json);
    r->t.user_attrs = r->user_attrs;
    return rc;
}

int loupe__trial_rec_add_system_attr(loupe__trial_rec *r, const char *key, const char *json) {
    int rc = add_attr(&r->system_attrs, &r->system_attrs_alloc, &r->t.n_system_attrs, key, json);
    r->t.system_attrs = r->system_attrs;
    return rc;
}

int loupe__trial_rec_put_user_attr(loupe__trial_rec *r, const char *key, const char *json) {
    int rc = put_attr(&r->user_attrs, &r->user_attrs_alloc, &r->t.n_user_attrs, key, json);
    r->t.user_attrs = r->user_attrs;
    return rc;
}

int loupe__trial_rec_put_system_attr(loupe__trial_rec *r, const char *key, const char *json) {
    int rc = put_attr(&r->system_attrs, &r->system_attrs_alloc, &r->t.n_system_attrs, key, json);
    r->t.system_attrs = r->system_attrs;
    return rc;
}

int loupe__trial_rec_put_intermediate(loupe__trial_rec *r, int64_t step, double value) {
    size_t n = r->t.n_intermediate, i = n;
    /* reports usually arrive in step order: search from the end */
    while (i > 0 && r->intermediate[i - 1].step > step) i--;
    if (i > 0 && r->intermediate[i - 1].step == step) {
        r->intermediate[i - 1].value = value;
        return LOUPE_OK;
    }
    if (grow((void **)&r->intermediate, &r->intermediate_alloc, n, sizeof *r->intermediate))
        return LOUPE_ENOMEM;
    memmove(&r->intermediate[i + 1], &r->intermediate[i], (n - i) * sizeof *r->intermediate);
    r->intermediate[i].step = step;
    r->intermediate[i].value = value;
    r->t.n_intermediate = n + 1;
    r->t.intermediate = r->intermediate;
    return LOUPE_OK;
}

int loupe__trial_rec_set_values(loupe__trial_rec *r, size_t n, const double *values) {
    double *v = NULL;
    if (n) {
        v = malloc(n * sizeof *v);
        if (!v) return LOUPE_ENOMEM;
        memcpy(v, values, n * sizeof *v);
    }
    free(r->values);
    r->values = v;
    r->t.values = v;
    r->t.n_values = n;
    return LOUPE_OK;
}

int loupe__trial_rec_set_value(loupe__trial_rec *r, size_t objective, double value) {
    if (objective >= r->t.n_values) {
        double *v = realloc(r->values, (objective + 1) * sizeof *v);
        if (!v) return LOUPE_ENOMEM;
        for (size_t i = r->t.n_values; i < objective; i++) v[i] = NAN;
        r->values = v;
        r->t.values = v;
        r->t.n_values = objective + 1;
    }
    r->values[objective] = value;
    return LOUPE_OK;
}

loupe__trial_rec *loupe__trial_rec_clone(const loupe_frozen_trial *t) {
    loupe__trial_rec *r = loupe__trial_rec_new();
    if (!r) return NULL;
    r->t.trial_id = t->trial_id;
    r->t.number = t->number;
    r->t.study_id = t->study_id;
    r->t.state = t->state;
    r->t.datetime_start_us = t->datetime_start_us;
    r->t.datetime_complete_us = t->datetime_complete_us;
    if (loupe__trial_rec_set_values(r, t->n_values, t->values)) goto fail;
    if (loupe__trial_rec_reserve_params(r, t->n_params)) goto fail;
    for (size_t i = 0; i < t->n_params; i++)
        if (loupe__trial_rec_add_param(r, t->params[i].name, t->params[i].internal, &t->params[i].dist))
            goto fail;
    for (size_t i = 0; i < t->n_user_attrs; i++)
        if (loupe__trial_rec_add_user_attr(r, t->user_attrs[i].key, t->user_attrs[i].json)) goto fail;
    for (size_t i = 0; i < t->n_system_attrs; i++)
        if (loupe__trial_rec_add_system_attr(r, t->system_attrs[i].key, t->system_attrs[i].json))
            goto fail;
    for (size_t i = 0; i < t->n_intermediate; i++)
        if (loupe__trial_rec_put_intermediate(r, t->intermediate[i].step, t->intermediate[i].value))
            goto fail;
    return r;
fail:
    loupe__trial_rec_release(r);
    return NULL;
}

int loupe__rec_vec_push(loupe__rec_vec *v, loupe__trial_rec *r) {
    if (grow((void **)&v->items, &v->alloc, v->len, sizeof *v->items)) return LOUPE_ENOMEM;
    v->items[v->len++] = r;
    return LOUPE_OK;
}

void loupe__rec_vec_clear(loupe__rec_vec *v) {
    for (size_t i = 0; i < v->len; i++) loupe__trial_rec_release(v->items[i]);
    v->len = 0;
}

void loupe__rec_vec_free(loupe__rec_vec *v) {
    loupe__rec_vec_clear(v);
    free(v->items);
    v->items = NULL;
    v->alloc = 0;
}

/* Snapshot lookups (public). */
const loupe_param *loupe_frozen_trial_param(const loupe_frozen_trial *t, const char *name) {
    for (size_t i = 0; t && i < t->n_params; i++)
        if (strcmp(t->params[i].name, name) == 0) return &t->params[i];
    return NULL;
}

const char *loupe_frozen_trial_user_attr(const loupe_frozen_trial *t, const char *key) {
    for (size_t i = 0; t && i < t->n_user_attrs; i++)
        if (strcmp(t->user_attrs[i].key, key) == 0) return t->user_attrs[i].json;
    return NULL;
}

const char *loupe_frozen_trial_system_attr(const loupe_frozen_trial *t, const char *key) {
    for (size_t i = 0; t && i < t->n_system_attrs; i++)
        if (strcmp(t->system_attrs[i].key, key) == 0) return t->system_attrs[i].json;
    return NULL;
}
