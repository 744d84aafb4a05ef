/* agg.c -- incremental search spaces, user-attr keys and best trials (see agg.h). */
#include "server/agg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/trial_rec.h"
#include "server/jsonw.h"
#include "util/pyjson.h"

static void ss_free(loupe__ss *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].name);
        loupe__distribution_free(&s->items[i].dist);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}

void loupe__agg_free(loupe__agg *a) {
    ss_free(&a->uni);
    ss_free(&a->inter);
    for (size_t i = 0; i < a->n_ua; i++) free(a->ua[i].key);
    free(a->ua);
    memset(a, 0, sizeof *a);
}

static int ss_push(loupe__ss *s, const char *name, const loupe_distribution *d) {
    if (s->n == s->alloc) {
        size_t na = s->alloc ? s->alloc * 2 : 8;
        loupe__ss_item *p = realloc(s->items, na * sizeof *p);
        if (!p) return LOUPE_ENOMEM;
        s->items = p;
        s->alloc = na;
    }
    loupe__ss_item *it = &s->items[s->n];
    it->name = strdup(name);
    if (!it->name) return LOUPE_ENOMEM;
    if (loupe__distribution_copy(&it->dist, d)) {
        free(it->name);
        return LOUPE_ENOMEM;
    }
    s->n++;
    return LOUPE_OK;
}

static int ss_copy(loupe__ss *dst, const loupe__ss *src) {
    memset(dst, 0, sizeof *dst);
    dst->init = src->init;
    for (size_t i = 0; i < src->n; i++)
        if (ss_push(dst, src->items[i].name, &src->items[i].dist)) {
            ss_free(dst);
            return LOUPE_ENOMEM;
        }
    return LOUPE_OK;
}

/* Upstream's "same distribution" test: same kind, and for numbers the same step and log. */
static int same_kind(const loupe_distribution *a, const loupe_distribution *b) {
    if (a->kind != b->kind) return 0;
    if (a->kind == LOUPE_DIST_CATEGORICAL) return 1;
    return a->step == b->step && !a->log == !b->log;
}

/* d = merge(trial's t, existing e): widened bounds, or the union of choices. */
static int merged(const loupe_distribution *t, const loupe_distribution *e, loupe_distribution *out) {
    if (t->kind != LOUPE_DIST_CATEGORICAL) {
        if (loupe__distribution_copy(out, t)) return LOUPE_ENOMEM;
        out->low = fmin(t->low, e->low);
        out->high = fmax(t->high, e->high);
        return LOUPE_OK;
    }
    /* union of choices, existing order first (upstream uses a set) */
    const char **ch = malloc((t->n_choices + e->n_choices + 1) * sizeof *ch);
    if (!ch) return LOUPE_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < e->n_choices; i++) ch[n++] = e->choices[i];
    for (size_t i = 0; i < t->n_choices; i++) {
        size_t j = 0;
        while (j < n && strcmp(ch[j], t->choices[i]) != 0) j++;
        if (j == n) ch[n++] = t->choices[i];
    }
    loupe_distribution tmp = *t;
    tmp.n_choices = n;
    tmp.choices = ch;
    int rc = loupe__distribution_copy(out, &tmp) ? LOUPE_ENOMEM : LOUPE_OK;
    free(ch);
    return rc;
}

static int fold_union(loupe__ss *u, const loupe_frozen_trial *t) {
    for (size_t p = 0; p < t->n_params; p++) {
        const loupe_param *pr = &t->params[p];
        size_t j = 0;
        for (; j < u->n; j++)
            if (strcmp(u->items[j].name, pr->name) == 0 && same_kind(&pr->dist, &u->items[j].dist)) break;
        if (j == u->n) {
            if (ss_push(u, pr->name, &pr->dist)) return LOUPE_ENOMEM;
            continue;
        }
        loupe_distribution m;
        if (merged(&pr->dist, &u->items[j].dist, &m)) return LOUPE_ENOMEM;
        loupe__distribution_free(&u->items[j].dist);
        u->items[j].dist = m;
    }
    return LOUPE_OK;
}

static int fold_inter(loupe__ss *s, const loupe_frozen_trial *t) {
    if (!s->init) {
        s->init = 1;
        for (size_t p = 0; p < t->n_params; p++)
            if (ss_push(s, t->params[p].name, &t->params[p].dist)) return LOUPE_ENOMEM;
        return LOUPE_OK;
    }
    loupe__ss next = {0};
    next.init = 1;
    for (size_t p = 0; p < t->n_params; p++) {
        const loupe_param *pr = &t->params[p];
        for (size_t j = 0; j < s->n; j++) {
            if (strcmp(s->items[j].name, pr->name) != 0 || !same_kind(&pr->dist, &s->items[j].dist))
                continue;
            loupe_distribution m;
            if (merged(&pr->dist, &s->items[j].dist, &m)) {
                ss_free(&next);
                return LOUPE_ENOMEM;
            }
            int rc = ss_push(&next, pr->name, &m);
            loupe__distribution_free(&m);
            if (rc) {
                ss_free(&next);
                return LOUPE_ENOMEM;
            }
            break;
        }
    }
    ss_free(s);
    *s = next;
    return LOUPE_OK;
}

/* A JSON value is "sortable" when it is a number that is not a bool. */
static int json_is_number(const char *json) {
    yyjson_doc *d = json ? yyjson_read_opts((char *)json, strlen(json), LOUPE__JSON_READ_FLAGS, NULL, NULL) : NULL;
    yyjson_val *v = d ? yyjson_doc_get_root(d) : NULL;
    int r = v && (yyjson_is_num(v) || yyjson_is_raw(v));
    yyjson_doc_free(d);
    return r;
}

static int fold_user_attrs(loupe__agg *a, const loupe_frozen_trial *t) {
    for (size_t i = 0; i < t->n_user_attrs; i++) {
        const loupe_attr *at = &t->user_attrs[i];
        int sortable = json_is_number(at->json);
        size_t j = 0;
        while (j < a->n_ua && strcmp(a->ua[j].key, at->key) != 0) j++;
        if (j < a->n_ua) {
            if (!sortable) a->ua[j].sortable = 0;
            continue;
        }
        if (a->n_ua == a->alloc_ua) {
            size_t na = a->alloc_ua ? a->alloc_ua * 2 : 8;
            loupe__ua_item *p = realloc(a->ua, na * sizeof *p);
            if (!p) return LOUPE_ENOMEM;
            a->ua = p;
            a->alloc_ua = na;
        }
        a->ua[a->n_ua].key = strdup(at->key);
        if (!a->ua[a->n_ua].key) return LOUPE_ENOMEM;
        a->ua[a->n_ua].sortable = sortable;
        a->n_ua++;
    }
    return LOUPE_OK;
}

int loupe__agg_fold(loupe__agg *a, const loupe_frozen_trial *t) {
    if (fold_user_attrs(a, t)) return LOUPE_ENOMEM;
    if (t->state == LOUPE_FAIL) return LOUPE_OK;
    if (t->n_intermediate) a->has_iv = 1;
    if (fold_union(&a->uni, t)) return LOUPE_ENOMEM;
    int finished = t->state == LOUPE_COMPLETE || t->state == LOUPE_PRUNED || t->state == LOUPE_FAIL;
    if (t->n_params == 0 && !finished) return LOUPE_OK;
    return fold_inter(&a->inter, t);
}

int loupe__agg_copy(loupe__agg *dst, const loupe__agg *src) {
    memset(dst, 0, sizeof *dst);
    if (ss_copy(&dst->uni, &src->uni) || ss_copy(&dst->inter, &src->inter)) goto oom;
    dst->has_iv = src->has_iv;
    if (src->n_ua) {
        dst->ua = calloc(src->n_ua, sizeof *dst->ua);
        if (!dst->ua) goto oom;
        dst->alloc_ua = src->n_ua;
        for (size_t i = 0; i < src->n_ua; i++) {
            dst->ua[i].key = strdup(src->ua[i].key);
            if (!dst->ua[i].key) goto oom;
            dst->ua[i].sortable = src->ua[i].sortable;
            dst->n_ua++;
        }
    }
    return LOUPE_OK;
oom:
    loupe__agg_free(dst);
    return LOUPE_ENOMEM;
}

static int cmp_item(const void *a, const void *b) {
    return strcmp((*(const loupe__ss_item *const *)a)->name, (*(const loupe__ss_item *const *)b)->name);
}

void loupe__agg_write_ss(loupe__buf *b, const loupe__ss *ss) {
    const loupe__ss_item **v = malloc((ss->n ? ss->n : 1) * sizeof *v);
    if (!v) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0; i < ss->n; i++) v[i] = &ss->items[i];
    qsort(v, ss->n, sizeof *v, cmp_item);
    loupe__buf_putc(b, '[');
    for (size_t i = 0; i < ss->n; i++) {
        if (i) loupe__buf_puts(b, ", ");
        loupe__buf_puts(b, "{\"name\": ");
        loupe__jw_string(b, v[i]->name);
        loupe__buf_puts(b, ", \"distribution\": ");
        loupe__jw_distribution(b, &v[i]->dist);
        loupe__buf_putc(b, '}');
    }
    loupe__buf_putc(b, ']');
    free(v);
}

static int cmp_ua(const void *a, const void *b) {
    return strcmp((*(const loupe__ua_item *const *)a)->key, (*(const loupe__ua_item *const *)b)->key);
}

void loupe__agg_write_ua(loupe__buf *b, const loupe__agg *a) {
    const loupe__ua_item **v = malloc((a->n_ua ? a->n_ua : 1) * sizeof *v);
    if (!v) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0; i < a->n_ua; i++) v[i] = &a->ua[i];
    qsort(v, a->n_ua, sizeof *v, cmp_ua);
    loupe__buf_putc(b, '[');
    for (size_t i = 0; i < a->n_ua; i++) {
        if (i) loupe__buf_puts(b, ", ");
        loupe__buf_puts(b, "{\"key\": ");
        loupe__jw_string(b, v[i]->key);
        loupe__buf_printf(b, ", \"sortable\": %s}", v[i]->sortable ? "true" : "false");
    }
    loupe__buf_putc(b, ']');
    free(v);
}

int loupe__agg_usable(const loupe_frozen_trial *t, size_t n_obj) {
    if (t->state != LOUPE_COMPLETE || !t->values || t->n_values < n_obj) return 0;
    for (size_t k = 0; k < n_obj; k++)
        if (isnan(t->values[k])) return 0;
    return 1;
}

static double minimized(double v, loupe_direction d) { return d == LOUPE_MAXIMIZE ? -v : v; }

int loupe__agg_better(const loupe_frozen_trial *a, const loupe_frozen_trial *b, loupe_direction d) {
    double x = minimized(a->values[0], d), y = minimized(b->values[0], d);
    if (x != y) return x < y;
    return a->number < b->number;
}

int loupe__agg_dominates(const loupe_frozen_trial *a, const loupe_frozen_trial *b, size_t n_obj,
                         const loupe_direction *dirs) {
    int better = 0;
    for (size_t k = 0; k < n_obj; k++) {
        double x = minimized(a->values[k], dirs[k]), y = minimized(b->values[k], dirs[k]);
        if (x > y) return 0;
        if (x < y) better = 1;
    }
    return better;
}
