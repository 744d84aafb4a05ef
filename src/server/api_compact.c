/*
 * api_compact.c -- GET /api/studies/:sid/compact, loupe's compact trial feed
 * (docs/api.md). The same study as GET /api/studies/:sid, whose "trials" is
 * empty here: the trials come in "compact_trials" as one short array per
 * trial, with each distinct (param name, distribution) sent once. About a
 * sixth of the bytes, so a 100,000-trial study arrives and parses in a
 * fraction of the time. A trial with a note, artifacts, fixed params or
 * constraints (rare, and the rows the web app must show exactly) is sent as
 * its full JSON object instead, taken from the same snapshot. The last few
 * answers are kept (by snapshot): pages opened one after another reuse them.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"
#include "server/jsonw.h"
#include "server/view.h"
#include "server/zjson.h"

/* Beyond this many distinct (name, distribution) pairs, further trials go out in full. */
#define MAX_PARAM_KINDS 4096
#define LAST_MAX 64

typedef struct kinds {
    char **key; /* name '\0' distribution JSON */
    size_t *keylen, n;
    const loupe_param *prev[LAST_MAX]; /* by position: a param of kind prev_i seen last */
    long prev_i[LAST_MAX];
    loupe__buf out; /* the "params" array being built */
} kinds;

/* Same name and distribution, compared field by field (cheaper than rendering). */
static int same_kind(const loupe_param *a, const loupe_param *b) {
    const loupe_distribution *x = &a->dist, *y = &b->dist;
    if (strcmp(a->name, b->name) != 0 || x->kind != y->kind) return 0;
    if (x->kind == LOUPE_DIST_CATEGORICAL) {
        if (x->n_choices != y->n_choices) return 0;
        for (size_t i = 0; i < x->n_choices; i++)
            if (x->choices[i] != y->choices[i] && strcmp(x->choices[i], y->choices[i]) != 0) return 0;
        return 1;
    }
    /* memcmp: -0.0 and 0.0 render differently, NaN never equals itself */
    return memcmp(&x->low, &y->low, sizeof x->low) == 0 && memcmp(&x->high, &y->high, sizeof x->high) == 0 &&
           memcmp(&x->step, &y->step, sizeof x->step) == 0 && x->log == y->log;
}

static long kind_lookup(kinds *k, const loupe_param *p, loupe__buf *scratch);

/* Index of (name, dist) in the table, adding it; -1 when the table is full or
 * out of memory. Trials mostly repeat the params of the trial before, so each
 * param is first compared with the previous trial's param at its position. */
static long kind_index(kinds *k, const loupe_param *p, size_t pos, loupe__buf *scratch) {
    if (pos < LAST_MAX && k->prev[pos] && same_kind(k->prev[pos], p)) {
        k->prev[pos] = p;
        return k->prev_i[pos];
    }
    long i = kind_lookup(k, p, scratch);
    if (i >= 0 && pos < LAST_MAX) {
        k->prev[pos] = p;
        k->prev_i[pos] = i;
    }
    return i;
}

static long kind_lookup(kinds *k, const loupe_param *p, loupe__buf *scratch) {
    loupe__buf_reset(scratch);
    loupe__buf_puts(scratch, p->name);
    loupe__buf_putc(scratch, '\0');
    size_t namelen = scratch->len;
    loupe__jw_distribution(scratch, &p->dist);
    if (scratch->failed) return -1;
    for (size_t i = 0; i < k->n; i++)
        if (k->keylen[i] == scratch->len && memcmp(k->key[i], scratch->data, scratch->len) == 0) return (long)i;
    if (k->n >= MAX_PARAM_KINDS) return -1;
    if (k->n % 64 == 0) {
        char **nk = realloc(k->key, (k->n + 64) * sizeof *nk);
        if (!nk) return -1;
        k->key = nk;
        size_t *nl = realloc(k->keylen, (k->n + 64) * sizeof *nl);
        if (!nl) return -1;
        k->keylen = nl;
    }
    char *copy = malloc(scratch->len);
    if (!copy) return -1;
    memcpy(copy, scratch->data, scratch->len);
    k->key[k->n] = copy;
    k->keylen[k->n] = scratch->len;
    if (k->n) loupe__buf_puts(&k->out, ", ");
    loupe__buf_putc(&k->out, '[');
    loupe__jw_string(&k->out, p->name);
    loupe__buf_puts(&k->out, ", ");
    loupe__buf_append(&k->out, scratch->data + namelen, scratch->len - namelen);
    loupe__buf_putc(&k->out, ']');
    return (long)k->n++;
}

/* Whether the trial's full JSON has the default note, artifacts, fixed params
 * and constraints, i.e. the compact row says all of it. These byte sequences
 * cannot occur inside a JSON string (its quotes would be escaped). */
static int plain_json(const char *data, size_t len) {
    static const char a[] = "\"fixed_params\": [], \"user_attrs\": ";
    static const char c[] = "\"note\": {\"version\": 0, \"body\": \"\"}, \"artifacts\": [], \"constraints\": [], \"intermediate_values\": ";
    return memmem(data, len, a, sizeof a - 1) && memmem(data, len, c, sizeof c - 1);
}

/* Reads the trials' JSON of a full snapshot in order: a trial kept plain is
 * used as is, a sealed block (zjson.h) is inflated once for its 64 trials. */
typedef struct trial_reader {
    loupe__zread zr;
    char *text; /* the inflated block */
    size_t cap;
    size_t block; /* which block text holds, valid when have */
    int have;
} trial_reader;

/* Trial i's JSON into data and len (valid until the next call); -1 when out of memory. */
static int trial_json(trial_reader *r, const loupe__snap *s, size_t i, const char **data,
                      size_t *len) {
    if (s->trials[i]) {
        *data = s->trials[i]->data;
        *len = s->trials[i]->len;
        return 0;
    }
    size_t bi = i / LOUPE__ZB, k = i % LOUPE__ZB;
    const loupe__zblock *b = bi < s->n_blocks ? s->blocks[bi] : NULL;
    if (!b) return -1;
    if (!r->have || r->block != bi) {
        if (b->raw_len + 1 > r->cap) {
            char *t = realloc(r->text, b->raw_len + 1);
            if (!t) return -1;
            r->text = t;
            r->cap = b->raw_len + 1;
        }
        r->have = 0;
        if (loupe__zblock_inflate(&r->zr, b, r->text) != 0) return -1;
        r->block = bi;
        r->have = 1;
    }
    *data = r->text + b->off[k];
    *len = loupe__zblock_trial_len(b, k);
    return 0;
}

/* Appends the compact row of t; 0 when t cannot be said compactly (row undone). */
static int put_row(loupe__buf *b, kinds *k, const loupe_frozen_trial *t, loupe__buf *scratch) {
    size_t mark = b->len;
    loupe__buf_printf(b, "[%lld, \"%s\", ", (long long)t->trial_id, loupe__jw_state_name(t->state));
    if (t->values && t->n_values) {
        loupe__buf_putc(b, '[');
        for (size_t i = 0; i < t->n_values; i++) {
            if (i) loupe__buf_puts(b, ", ");
            loupe__jw_value(b, t->values[i]);
        }
        loupe__buf_putc(b, ']');
    } else {
        loupe__buf_puts(b, "null");
    }
    if (t->datetime_start_us >= 0) loupe__buf_printf(b, ", %lld", (long long)t->datetime_start_us);
    else loupe__buf_puts(b, ", null");
    if (t->datetime_complete_us >= 0) loupe__buf_printf(b, ", %lld, [", (long long)t->datetime_complete_us);
    else loupe__buf_puts(b, ", null, [");
    for (size_t i = 0; i < t->n_params; i++) {
        const loupe_param *p = &t->params[i];
        long ki = kind_index(k, p, i, scratch);
        if (ki < 0) goto undo;
        loupe__buf_printf(b, "%s%ld, ", i ? ", " : "", ki);
        switch (p->dist.kind) {
        case LOUPE_DIST_FLOAT: {
            /* the external text (Python's repr) also gives the internal value */
            if (!isfinite(p->internal)) goto undo;
            loupe__buf_reset(scratch);
            loupe__jw_pystr_double(scratch, p->internal);
            if (scratch->failed || strtod(scratch->data, NULL) != p->internal) goto undo;
            loupe__buf_putc(b, '"');
            loupe__buf_append(b, scratch->data, scratch->len);
            loupe__buf_putc(b, '"');
            break;
        }
        case LOUPE_DIST_INT:
            if (!(fabs(p->internal) < 9007199254740992.0) || p->internal != (double)(long long)p->internal) goto undo;
            loupe__buf_printf(b, "%lld", (long long)p->internal);
            break;
        case LOUPE_DIST_CATEGORICAL:
            if (!(p->internal >= 0) || p->internal != (double)(size_t)p->internal ||
                (size_t)p->internal >= p->dist.n_choices)
                goto undo;
            loupe__buf_printf(b, "%zu", (size_t)p->internal);
            break;
        default: goto undo;
        }
    }
    loupe__buf_puts(b, "], [");
    for (size_t i = 0; i < t->n_user_attrs; i++) {
        if (i) loupe__buf_puts(b, ", ");
        loupe__jw_string(b, t->user_attrs[i].key);
        loupe__buf_puts(b, ", ");
        loupe__jw_attr_value(b, t->user_attrs[i].json);
    }
    loupe__buf_puts(b, "], [");
    for (size_t i = 0; i < t->n_intermediate; i++) {
        loupe__buf_printf(b, "%s%lld, ", i ? ", " : "", (long long)t->intermediate[i].step);
        loupe__jw_value(b, t->intermediate[i].value);
    }
    loupe__buf_puts(b, "]]");
    return 1;
undo:
    if (!b->failed) {
        b->len = mark;
        b->data[mark] = '\0';
    }
    return 0;
}

#define CACHE_SLOTS 4

/* Answers by snapshot. An entry holds its snapshot, so the address cannot be
 * reused by another one while it is a key. */
struct loupe__compact_cache {
    pthread_mutex_t m;
    struct {
        loupe__snap *snap;
        char *data;
        size_t len;
        uint64_t used;
    } e[CACHE_SLOTS];
    uint64_t tick;
};

loupe__compact_cache *loupe__compact_cache_new(void) {
    loupe__compact_cache *c = calloc(1, sizeof *c);
    if (c) pthread_mutex_init(&c->m, NULL);
    return c;
}

void loupe__compact_cache_free(loupe__compact_cache *c) {
    if (!c) return;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        loupe__snap_release(c->e[i].snap);
        free(c->e[i].data);
    }
    pthread_mutex_destroy(&c->m);
    free(c);
}

/* Copies the cached answer for snap into b; 0 when there is none. */
static int cache_get(loupe__compact_cache *c, const loupe__snap *snap, loupe__buf *b) {
    int found = 0;
    pthread_mutex_lock(&c->m);
    for (int i = 0; i < CACHE_SLOTS && !found; i++)
        if (c->e[i].snap == snap) {
            c->e[i].used = ++c->tick;
            loupe__buf_append(b, c->e[i].data, c->e[i].len);
            found = 1;
        }
    pthread_mutex_unlock(&c->m);
    return found;
}

/* Keeps a copy of the answer, replacing the same study's older one or the least used. */
static void cache_put(loupe__compact_cache *c, loupe__snap *snap, const loupe__buf *b) {
    char *copy = malloc(b->len ? b->len : 1);
    if (!copy) return;
    memcpy(copy, b->data, b->len);
    pthread_mutex_lock(&c->m);
    int slot = 0;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (c->e[i].snap && c->e[i].snap->study_id == snap->study_id) {
            slot = i;
            break;
        }
        if (c->e[i].used < c->e[slot].used) slot = i;
    }
    loupe__snap *old = c->e[slot].snap;
    char *old_data = c->e[slot].data;
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    c->e[slot].snap = snap;
    c->e[slot].data = copy;
    c->e[slot].len = b->len;
    c->e[slot].used = ++c->tick;
    pthread_mutex_unlock(&c->m);
    loupe__snap_release(old);
    free(old_data);
}

void loupe__api_study_compact(loupe__req *req, loupe__resp *resp) {
    int64_t sid = req->route.study_id;
    loupe__snap *snap = loupe__views_study(req->srv->views, sid, 1);
    if (!snap || !snap->head) {
        loupe__snap_release(snap);
        loupe__resp_error(resp, 404, "study_id=%lld is not found", (long long)sid);
        return;
    }
    if (req->srv->compact && cache_get(req->srv->compact, snap, &resp->body)) {
        loupe__snap_release(snap);
        loupe__resp_json(resp, 200);
        return;
    }
    kinds k = {0};
    loupe__buf scratch;
    loupe__buf_init(&scratch, 0);
    loupe__buf_init(&k.out, 0);
    /* rows go straight into the body and the param table after them (it is
     * complete only then): no second copy of tens of MB */
    loupe__buf *b = &resp->body;
    loupe__buf_putc(b, '{');
    loupe__buf_append(b, snap->head->data, snap->head->len);
    loupe__buf_puts(b, ", \"trials\": [], ");
    loupe__buf_append(b, snap->tail->data, snap->tail->len);
    loupe__buf_printf(b, ", \"compact_trials\": {\"version\": 1, \"study_id\": %lld, \"rows\": [", (long long)sid);
    trial_reader rd = {0};
    for (size_t i = 0; i < snap->n_trials && !b->failed; i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(snap->list, i);
        const char *json;
        size_t json_len;
        if (trial_json(&rd, snap, i, &json, &json_len) != 0) {
            b->failed = 1;
            break;
        }
        if (i) loupe__buf_puts(b, ", ");
        /* rows are by number: the client numbers them by position */
        if (t && (size_t)t->number == i && plain_json(json, json_len) && put_row(b, &k, t, &scratch)) continue;
        loupe__buf_append(b, json, json_len);
    }
    loupe__zread_free(&rd.zr);
    free(rd.text);
    loupe__buf_puts(b, "], \"params\": [");
    loupe__buf_append(b, k.out.data ? k.out.data : "", k.out.len);
    loupe__buf_puts(b, "]}}");
    if (scratch.failed || k.out.failed) b->failed = 1;
    if (!b->failed && req->srv->compact) cache_put(req->srv->compact, snap, b);
    for (size_t i = 0; i < k.n; i++) free(k.key[i]);
    free(k.key);
    free(k.keylen);
    loupe__buf_free(&k.out);
    loupe__buf_free(&scratch);
    loupe__snap_release(snap);
    loupe__resp_json(resp, 200);
}
