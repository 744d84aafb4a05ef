/* sampler.c -- the sampler handle's public functions (free, name) and the
 * param vector that sample_relative fills (see sampler.h). */
#include "sampler/sampler.h"

#include <stdlib.h>
#include <string.h>

void loupe_sampler_free(loupe_sampler *sampler) {
    if (sampler && sampler->ops && sampler->ops->destroy) sampler->ops->destroy(sampler);
}

const char *loupe_sampler_name(const loupe_sampler *sampler) {
    return sampler && sampler->ops ? sampler->ops->name : NULL;
}

static void param_free(loupe_param *p) {
    free((char *)p->name);
    if (p->dist.choices) {
        for (size_t i = 0; i < p->dist.n_choices; i++) free((char *)p->dist.choices[i]);
        free((void *)p->dist.choices);
    }
}

/* Copies name and dist (choices included) into v; the vector owns the copies. */
int loupe__param_vec_push(loupe__param_vec *v, const char *name, const loupe_distribution *dist,
                          double internal) {
    if (v->len == v->alloc) {
        size_t na = v->alloc ? v->alloc * 2 : 8;
        loupe_param *p = realloc(v->items, na * sizeof *p);
        if (!p) return LOUPE_ENOMEM;
        v->items = p;
        v->alloc = na;
    }
    loupe_param *p = &v->items[v->len];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    if (!p->name) return LOUPE_ENOMEM;
    p->internal = internal;
    p->dist = *dist;
    p->dist.choices = NULL;
    if (dist->kind == LOUPE_DIST_CATEGORICAL && dist->n_choices > 0) {
        char **c = calloc(dist->n_choices, sizeof *c);
        if (!c) goto fail;
        p->dist.choices = (const char *const *)c;
        for (size_t i = 0; i < dist->n_choices; i++) {
            c[i] = strdup(dist->choices[i]);
            if (!c[i]) goto fail;
        }
    } else {
        p->dist.n_choices = 0;
    }
    v->len++;
    return LOUPE_OK;
fail:
    param_free(p); /* frees the strings copied so far (calloc'd array: the rest are NULL) */
    return LOUPE_ENOMEM;
}

const loupe_param *loupe__param_vec_find(const loupe__param_vec *v, const char *name) {
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i].name, name) == 0) return &v->items[i];
    return NULL;
}

void loupe__param_vec_clear(loupe__param_vec *v) {
    for (size_t i = 0; i < v->len; i++) param_free(&v->items[i]);
    free(v->items);
    v->items = NULL;
    v->len = v->alloc = 0;
}
