/*
 * view.c -- the watcher thread and the snapshots it publishes (see view.h).
 *
 * Per study the watcher keeps a `view`: its study handle (whose trial cache
 * makes each sync read only new and unfinished trials), the derived data of
 * the finished trials (folded once, agg.h), and for "full" studies each
 * trial's rendered JSON with the record it was rendered from. A finished
 * trial's record is shared between syncs, so a pointer comparison finds the
 * trials worth re-rendering; a byte comparison of the new JSON then decides
 * whether subscribers hear about it. Finished trials are never looked at
 * again: a refresh walks the new and the still unfinished trials (`open`),
 * and counts, datetimes and aggregates of the finished ones are kept folded.
 * Past cfg.json_budget bytes of JSON, the oldest blocks of LOUPE__ZB finished
 * trials are sealed (deflated); the best trial(s) keep a plain copy.
 */
#include "server/view.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/agg.h"
#include "server/extras.h"
#include "server/jsonw.h"
#include "server/zjson.h"
#include "util/buf.h"
#include "util/timeutil.h"

/* ------------------------------------------------------------ snapshots */

static loupe__shared_list *sl_new(loupe_trial_list *l) {
    loupe__shared_list *sl = malloc(sizeof *sl);
    if (!sl) return NULL;
    atomic_init(&sl->refs, 1);
    sl->list = l;
    return sl;
}

static void sl_release(loupe__shared_list *sl) {
    if (sl && atomic_fetch_sub_explicit(&sl->refs, 1, memory_order_acq_rel) == 1) {
        loupe_trial_list_free(sl->list);
        free(sl);
    }
}

void loupe__snap_release(loupe__snap *s) {
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) return;
    free(s->name);
    free(s->directions);
    for (size_t i = 0; i < s->n_metric_names; i++) free(s->metric_names[i]);
    free(s->metric_names);
    sl_release(s->owner);
    loupe__blob_release(s->head);
    loupe__blob_release(s->tail);
    for (size_t i = 0; s->trials && i < s->n_trials; i++) loupe__blob_release(s->trials[i]);
    free(s->trials);
    for (size_t i = 0; s->blocks && i < s->n_blocks; i++) loupe__zblock_release(s->blocks[i]);
    free(s->blocks);
    free(s);
}

loupe__blob *loupe__snap_trial(const loupe__snap *s, size_t i) {
    if (s->trials[i]) return loupe__blob_retain(s->trials[i]);
    const loupe__zblock *b = i / LOUPE__ZB < s->n_blocks ? s->blocks[i / LOUPE__ZB] : NULL;
    return b ? loupe__zblock_trial(b, i % LOUPE__ZB) : NULL;
}

static loupe__snap *snap_retain(loupe__snap *s) {
    if (s) atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

/* ------------------------------------------------------------ per-study state */

typedef struct view {
    int64_t study_id;
    char *name;
    loupe_study *study;
    size_t n_directions;
    loupe_direction *directions;
    int full;
    loupe__shared_list *sl;           /* the current trials; list == sl->list */
    loupe_trial_list *list;
    size_t n;                         /* trials in list */
    loupe__blob **tjson;              /* full: JSON per index; NULL inside a sealed block
                                       * unless kept in `cached` */
    const loupe_frozen_trial **seen;  /* full: the record each JSON was rendered from */
    loupe__zblock **blocks;           /* full: sealed (compressed) blocks, by index / LOUPE__ZB */
    size_t seal_from;                 /* no block below this one waits to be sealed */
    size_t raw_bytes;                 /* JSON bytes kept uncompressed (cached copies aside) */
    size_t *cached;                   /* indices in sealed blocks whose JSON is also kept */
    size_t n_cached, alloc_cached;
    size_t alloc;
    unsigned char *folded;            /* finished trial folded into fin */
    size_t *open;                     /* indices of the unfinished trials, ascending */
    size_t n_open, alloc_open;
    int64_t fin_counts[5];            /* counts and datetimes of the folded trials */
    int64_t fin_dt_start, fin_dt_last;
    loupe__study_extras extras;
    uint64_t sig;                     /* hash of the study attrs behind extras and head */
    int have_sig;
    loupe__agg fin;
    ptrdiff_t best;                   /* single objective: index of the best trial */
    size_t *front;                    /* several objectives: Pareto front indices, by number */
    size_t n_front, alloc_front;
    int64_t counts[5];
    int64_t dt_start, dt_last;
    loupe__blob *head, *tail, *summary;
    loupe__snap *snap;
    int seen_in_refresh;
} view;

struct loupe__views {
    loupe__views_config cfg;
    loupe_storage *storage; /* own handle; NULL when borrowing the shared pool */
    pthread_t thread;
    int thread_started;

    pthread_mutex_t m; /* the fields up to `rw` */
    pthread_cond_t cv;
    int stop, kick, ready;
    uint64_t started_gen, done_gen;
    int64_t *want_full;
    size_t n_want, alloc_want;
    char last_error[512];

    pthread_rwlock_t rw; /* the published tables */
    loupe__snap **snaps; /* by study_id */
    size_t n_snaps;
    loupe__blob *studies;

    /* watcher-only */
    view **views;
    size_t n_views;
    uint64_t last_dv;
    int have_dv;
    loupe__blob *pending_studies; /* a studies event held back by the rate limit */
    /* events of the refresh under way, sent once its snapshots are published: a
     * client that reacts to one at once (fetching a new artifact) must find it */
    struct held_event {
        int64_t study_id;
        const char *name; /* a static string */
        loupe__buf body;
    } *held;
    size_t n_held, alloc_held;
    loupe__zctx zc;               /* the compressor of sealed blocks */
    int64_t last_studies_event_us;
};

static void view_free(view *w) {
    if (!w) return;
    loupe_study_close(w->study);
    free(w->name);
    free(w->directions);
    sl_release(w->sl);
    for (size_t i = 0; w->tjson && i < w->n; i++) loupe__blob_release(w->tjson[i]);
    free(w->tjson);
    free(w->seen);
    for (size_t i = 0; w->blocks && i < w->alloc / LOUPE__ZB + 1; i++) loupe__zblock_release(w->blocks[i]);
    free(w->blocks);
    free(w->cached);
    free(w->folded);
    free(w->open);
    loupe__extras_free(&w->extras);
    loupe__agg_free(&w->fin);
    free(w->front);
    loupe__blob_release(w->head);
    loupe__blob_release(w->tail);
    loupe__blob_release(w->summary);
    loupe__snap_release(w->snap);
    free(w);
}

static void set_error(loupe__views *v, const char *fmt, const char *a, const char *b) {
    pthread_mutex_lock(&v->m);
    snprintf(v->last_error, sizeof v->last_error, fmt, a, b);
    pthread_mutex_unlock(&v->m);
    if (!v->cfg.quiet) {
        fprintf(stderr, "loupe dashboard: ");
        fprintf(stderr, fmt, a, b);
        fputc('\n', stderr);
    }
}

static uint64_t fnv(uint64_t h, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
    return h;
}

static uint64_t attrs_sig(const loupe_study_summary *s) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s->n_system_attrs; i++) {
        h = fnv(h, s->system_attrs[i].key);
        h = fnv(h, s->system_attrs[i].json);
    }
    h = fnv(h, "\x01user");
    for (size_t i = 0; i < s->n_user_attrs; i++) {
        h = fnv(h, s->user_attrs[i].key);
        h = fnv(h, s->user_attrs[i].json);
    }
    return h;
}

static loupe__blob *blob_from(loupe__buf *b) {
    if (b->failed) {
        loupe__buf_free(b);
        return NULL;
    }
    loupe__blob *r = loupe__blob_new(b->data ? b->data : "", b->len);
    loupe__buf_free(b);
    return r;
}

static int grow(view *w, size_t n) {
    if (n <= w->alloc) return LOUPE_OK;
    size_t na = w->alloc ? w->alloc : 64;
    while (na < n) na *= 2;
    unsigned char *f = realloc(w->folded, na);
    if (!f) return LOUPE_ENOMEM;
    memset(f + w->alloc, 0, na - w->alloc);
    w->folded = f;
    if (w->full) {
        loupe__blob **t = realloc(w->tjson, na * sizeof *t);
        if (!t) return LOUPE_ENOMEM;
        memset(t + w->alloc, 0, (na - w->alloc) * sizeof *t);
        w->tjson = t;
        const loupe_frozen_trial **s = realloc(w->seen, na * sizeof *s);
        if (!s) return LOUPE_ENOMEM;
        memset(s + w->alloc, 0, (na - w->alloc) * sizeof *s);
        w->seen = s;
        size_t ob = w->alloc / LOUPE__ZB + 1, nb = na / LOUPE__ZB + 1;
        loupe__zblock **z = realloc(w->blocks, nb * sizeof *z);
        if (!z) return LOUPE_ENOMEM;
        memset(z + ob, 0, (nb - ob) * sizeof *z);
        w->blocks = z;
    }
    w->alloc = na;
    return LOUPE_OK;
}

/* Makes a summary-level view full: allocates the JSON arrays. */
static int make_full(view *w) {
    if (w->full) return LOUPE_OK;
    size_t na = w->alloc ? w->alloc : 64;
    w->tjson = calloc(na, sizeof *w->tjson);
    w->seen = calloc(na, sizeof *w->seen);
    w->blocks = calloc(na / LOUPE__ZB + 1, sizeof *w->blocks);
    if (!w->tjson || !w->seen || !w->blocks) {
        free(w->tjson);
        free(w->seen);
        free(w->blocks);
        w->tjson = NULL;
        w->seen = NULL;
        w->blocks = NULL;
        return LOUPE_ENOMEM;
    }
    if (!w->alloc) {
        unsigned char *f = calloc(na, 1);
        if (!f) return LOUPE_ENOMEM;
        free(w->folded);
        w->folded = f;
    }
    w->alloc = na;
    w->full = 1;
    return LOUPE_OK;
}

static void fold_best(view *w, size_t i) {
    const loupe_frozen_trial *t = loupe_trial_list_at(w->list, i);
    if (!loupe__agg_usable(t, w->n_directions)) return;
    if (w->n_directions == 1) {
        if (w->best < 0 || loupe__agg_better(t, loupe_trial_list_at(w->list, (size_t)w->best), w->directions[0]))
            w->best = (ptrdiff_t)i;
        return;
    }
    for (size_t j = 0; j < w->n_front; j++)
        if (loupe__agg_dominates(loupe_trial_list_at(w->list, w->front[j]), t, w->n_directions, w->directions))
            return;
    size_t k = 0;
    for (size_t j = 0; j < w->n_front; j++)
        if (!loupe__agg_dominates(t, loupe_trial_list_at(w->list, w->front[j]), w->n_directions, w->directions))
            w->front[k++] = w->front[j];
    w->n_front = k;
    if (w->n_front == w->alloc_front) {
        size_t na = w->alloc_front ? w->alloc_front * 2 : 16;
        size_t *p = realloc(w->front, na * sizeof *p);
        if (!p) return;
        w->front = p;
        w->alloc_front = na;
    }
    /* keep the front sorted by number (= index) */
    size_t pos = w->n_front;
    while (pos > 0 && w->front[pos - 1] > i) {
        w->front[pos] = w->front[pos - 1];
        pos--;
    }
    w->front[pos] = i;
    w->n_front++;
}

/* Index of the trial with trial_id in list (sorted by trial_id), or -1. */
static ptrdiff_t find_by_id(const loupe_trial_list *l, int64_t trial_id) {
    size_t lo = 0, hi = loupe_trial_list_count(l);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t id = loupe_trial_list_at(l, mid)->trial_id;
        if (id == trial_id) return (ptrdiff_t)mid;
        if (id < trial_id) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static loupe__blob *render_trial(const view *w, const loupe_frozen_trial *t) {
    const loupe__trial_extra *x = loupe__extras_find(&w->extras, t->trial_id);
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__jw_trial(&b, w->study_id, t, x ? x->note_json : NULL, x ? x->legacy_artifacts : NULL);
    return blob_from(&b);
}

/* ------------------------------------------------------------ sealed blocks */

/* The default of the trial JSON a study keeps uncompressed before it seals
 * its oldest blocks (views_config.json_budget): ~14,000 trials of the
 * benchmark's shape. Below it a full response is a copy; above it, inflating
 * the older trials costs a few ms per MB. */
#define DEFAULT_JSON_BUDGET ((size_t)16 << 20)

static int push_index(size_t **a, size_t *n, size_t *alloc, size_t i) {
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 16;
        size_t *p = realloc(*a, na * sizeof *p);
        if (!p) return LOUPE_ENOMEM;
        *a = p;
        *alloc = na;
    }
    (*a)[(*n)++] = i;
    return LOUPE_OK;
}

/* The best trial(s) keep their JSON uncompressed: the tail embeds them. */
static int pinned(const view *w, size_t i) {
    if (w->n_directions == 1) return w->best >= 0 && (size_t)w->best == i;
    size_t lo = 0, hi = w->n_front; /* the front is sorted by index */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->front[mid] == i) return 1;
        if (w->front[mid] < i) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* The JSON of trial i (borrowed): its blob, or inflated from its sealed block
 * and kept until drop_cached. NULL when out of memory. */
static loupe__blob *trial_blob(view *w, size_t i) {
    if (w->tjson[i]) return w->tjson[i];
    const loupe__zblock *b = w->blocks[i / LOUPE__ZB];
    if (!b) return NULL;
    loupe__blob *t = loupe__zblock_trial(b, i % LOUPE__ZB);
    if (!t || push_index(&w->cached, &w->n_cached, &w->alloc_cached, i)) {
        loupe__blob_release(t);
        return NULL;
    }
    w->tjson[i] = t;
    return t;
}

/* Frees the kept copies of sealed trials that are no longer best. */
static void drop_cached(view *w) {
    size_t k = 0;
    for (size_t j = 0; j < w->n_cached; j++) {
        size_t i = w->cached[j];
        if (!w->blocks[i / LOUPE__ZB] || !w->tjson[i]) continue; /* unsealed: a live blob now */
        if (pinned(w, i)) {
            w->cached[k++] = i;
            continue;
        }
        loupe__blob_release(w->tjson[i]);
        w->tjson[i] = NULL;
    }
    w->n_cached = k;
}

/* Turns block b back into one blob per trial (to re-render some of them). */
static int unseal(view *w, size_t b) {
    loupe__zblock *z = w->blocks[b];
    if (!z) return LOUPE_OK;
    char *text = malloc(z->raw_len ? z->raw_len : 1);
    loupe__zread r = {0};
    int rc = text && loupe__zblock_inflate(&r, z, text) == 0 ? LOUPE_OK : LOUPE_ENOMEM;
    loupe__zread_free(&r);
    for (size_t k = 0; !rc && k < LOUPE__ZB; k++) {
        size_t i = b * LOUPE__ZB + k;
        w->raw_bytes += loupe__zblock_trial_len(z, k);
        if (w->tjson[i]) continue; /* a cached copy becomes the live one */
        if (!(w->tjson[i] = loupe__blob_new(text + z->off[k], loupe__zblock_trial_len(z, k)))) rc = LOUPE_ENOMEM;
    }
    free(text);
    if (rc) return rc;
    loupe__zblock_release(z);
    w->blocks[b] = NULL;
    if (b < w->seal_from) w->seal_from = b;
    return LOUPE_OK;
}

/* Seals block b when the study keeps more than cfg.json_budget bytes of
 * JSON uncompressed, all the block's trials are finished and rendered, and at
 * least one more full block follows it. Blocks are sealed oldest first, so
 * the newest trials stay uncompressed: incremental polls and small studies
 * never pay for inflating. */
static int try_seal(loupe__views *v, view *w, size_t b) {
    if (w->blocks[b] || (b + 2) * LOUPE__ZB > w->n || w->raw_bytes <= v->cfg.json_budget) return LOUPE_OK;
    for (size_t k = 0; k < LOUPE__ZB; k++) {
        size_t i = b * LOUPE__ZB + k;
        if (!w->tjson[i] || w->seen[i] != loupe_trial_list_at(w->list, i) ||
            !loupe_trial_state_is_finished(w->seen[i]->state))
            return LOUPE_OK;
    }
    loupe__zblock *z = loupe__zblock_seal(&v->zc, &w->tjson[b * LOUPE__ZB]);
    if (!z) return LOUPE_ENOMEM;
    w->blocks[b] = z;
    for (size_t k = 0; k < LOUPE__ZB; k++) {
        size_t i = b * LOUPE__ZB + k;
        w->raw_bytes -= w->tjson[i]->len;
        if (pinned(w, i) && push_index(&w->cached, &w->n_cached, &w->alloc_cached, i) == LOUPE_OK) continue;
        loupe__blob_release(w->tjson[i]);
        w->tjson[i] = NULL;
    }
    return LOUPE_OK;
}

static void put_directions(loupe__buf *b, const view *w) {
    loupe__buf_putc(b, '[');
    for (size_t i = 0; i < w->n_directions; i++)
        loupe__buf_printf(b, "%s\"%s\"", i ? ", " : "",
                          w->directions[i] == LOUPE_MAXIMIZE ? "maximize" : "minimize");
    loupe__buf_putc(b, ']');
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* "best_trials" .. end of the study detail (without braces). */
static loupe__blob *render_tail(view *w) {
    loupe__agg cur;
    if (loupe__agg_copy(&cur, &w->fin)) return NULL;
    for (size_t j = 0; j < w->n_open; j++) {
        if (loupe__agg_fold(&cur, loupe_trial_list_at(w->list, w->open[j]))) {
            loupe__agg_free(&cur);
            return NULL;
        }
    }
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_puts(&b, "\"best_trials\": [");
    if (w->extras.is_preferential) {
        /* better in some preference, never worse, not skipped; by number */
        int64_t *nums = malloc((w->extras.n_pairs ? w->extras.n_pairs : 1) * sizeof *nums);
        size_t nn = 0;
        for (size_t i = 0; nums && i < w->extras.n_pairs; i++) {
            int64_t better = w->extras.pairs[i][0];
            int worse = 0;
            for (size_t j = 0; j < w->extras.n_pairs && !worse; j++) worse = w->extras.pairs[j][1] == better;
            if (worse || better < 0 || (size_t)better >= w->n) continue;
            int dup = 0;
            for (size_t j = 0; j < nn && !dup; j++) dup = nums[j] == better;
            int64_t tid = loupe_trial_list_at(w->list, (size_t)better)->trial_id;
            for (size_t j = 0; j < w->extras.n_skipped && !dup; j++) dup = w->extras.skipped_ids[j] == tid;
            if (!dup) nums[nn++] = better;
        }
        if (nums) qsort(nums, nn, sizeof *nums, cmp_i64);
        for (size_t i = 0; i < nn; i++) {
            if (i) loupe__buf_puts(&b, ", ");
            loupe__blob *tj = trial_blob(w, (size_t)nums[i]);
            if (tj) loupe__buf_append(&b, tj->data, tj->len);
            else b.failed = 1;
        }
        free(nums);
    } else if (w->n_directions == 1) {
        loupe__blob *tj = w->best >= 0 ? trial_blob(w, (size_t)w->best) : NULL;
        if (tj) loupe__buf_append(&b, tj->data, tj->len);
        else if (w->best >= 0) b.failed = 1;
    } else {
        for (size_t i = 0; i < w->n_front; i++) {
            if (i) loupe__buf_puts(&b, ", ");
            loupe__blob *tj = trial_blob(w, w->front[i]);
            if (tj) loupe__buf_append(&b, tj->data, tj->len);
            else b.failed = 1;
        }
    }
    loupe__buf_puts(&b, "], \"intersection_search_space\": ");
    loupe__agg_write_ss(&b, &cur.inter);
    loupe__buf_puts(&b, ", \"union_search_space\": ");
    loupe__agg_write_ss(&b, &cur.uni);
    loupe__buf_puts(&b, ", \"union_user_attrs\": ");
    loupe__agg_write_ua(&b, &cur);
    loupe__buf_printf(&b, ", \"has_intermediate_values\": %s", cur.has_iv ? "true" : "false");
    loupe__buf_puts(&b, ", \"note\": ");
    loupe__buf_puts(&b, w->extras.note_json);
    loupe__buf_puts(&b, ", \"is_preferential\": ");
    loupe__buf_puts(&b, w->extras.is_preferential_json);
    if (w->extras.objective_names_json) {
        loupe__buf_puts(&b, ", \"objective_names\": ");
        loupe__buf_puts(&b, w->extras.objective_names_json);
    }
    if (w->extras.form_widgets_json) {
        loupe__buf_puts(&b, ", \"form_widgets\": ");
        loupe__buf_puts(&b, w->extras.form_widgets_json);
    }
    loupe__buf_puts(&b, ", \"feedback_component_type\": ");
    loupe__buf_puts(&b, w->extras.feedback_json);
    if (w->extras.is_preferential) {
        loupe__buf_puts(&b, ", \"preference_history\": ");
        loupe__buf_puts(&b, w->extras.history_json);
        loupe__buf_puts(&b, ", \"preferences\": ");
        loupe__buf_puts(&b, w->extras.preferences_json);
        loupe__buf_puts(&b, ", \"skipped_trial_numbers\": [");
        /* the skipped trials of this study, once each, by number */
        int64_t *nums = malloc((w->extras.n_skipped ? w->extras.n_skipped : 1) * sizeof *nums);
        size_t nn = 0;
        for (size_t j = 0; nums && j < w->extras.n_skipped; j++) {
            ptrdiff_t k = find_by_id(w->list, w->extras.skipped_ids[j]);
            if (k >= 0) nums[nn++] = loupe_trial_list_at(w->list, (size_t)k)->number;
        }
        if (!nums) b.failed = 1;
        else qsort(nums, nn, sizeof *nums, cmp_i64);
        for (size_t j = 0; j < nn; j++)
            if (!j || nums[j] != nums[j - 1]) loupe__buf_printf(&b, "%s%lld", j ? ", " : "", (long long)nums[j]);
        free(nums);
        loupe__buf_putc(&b, ']');
    }
    loupe__buf_puts(&b, ", \"plotly_graph_objects\": ");
    loupe__buf_puts(&b, w->extras.plotly_json);
    loupe__agg_free(&cur);
    return blob_from(&b);
}

static loupe__blob *render_head(const view *w, const loupe_study_summary *s) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_puts(&b, "\"name\": ");
    loupe__jw_string(&b, w->name);
    loupe__buf_puts(&b, ", \"directions\": ");
    put_directions(&b, w);
    loupe__buf_puts(&b, ", \"user_attrs\": ");
    loupe__jw_attrs(&b, s->user_attrs, s->n_user_attrs);
    loupe__buf_puts(&b, ", \"artifacts\": ");
    loupe__buf_puts(&b, w->extras.artifacts_json);
    return blob_from(&b);
}

static loupe__blob *render_summary(const view *w, const loupe_study_summary *s) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_printf(&b, "{\"study_id\": %lld, \"study_name\": ", (long long)w->study_id);
    loupe__jw_string(&b, w->name);
    loupe__buf_puts(&b, ", \"directions\": ");
    put_directions(&b, w);
    loupe__buf_puts(&b, ", \"user_attrs\": ");
    loupe__jw_attrs(&b, s->user_attrs, s->n_user_attrs);
    loupe__buf_printf(&b, ", \"is_preferential\": %s", w->extras.is_preferential_json);
    loupe__buf_printf(&b,
                      ", \"trial_counts\": {\"running\": %lld, \"complete\": %lld, \"pruned\": %lld, "
                      "\"fail\": %lld, \"waiting\": %lld}",
                      (long long)w->counts[LOUPE_RUNNING], (long long)w->counts[LOUPE_COMPLETE],
                      (long long)w->counts[LOUPE_PRUNED], (long long)w->counts[LOUPE_FAIL],
                      (long long)w->counts[LOUPE_WAITING]);
    loupe__buf_puts(&b, ", \"best_values\": ");
    if (w->n_directions == 1 && w->best >= 0) {
        loupe__buf_putc(&b, '[');
        loupe__jw_value(&b, loupe_trial_list_at(w->list, (size_t)w->best)->values[0]);
        loupe__buf_putc(&b, ']');
    } else {
        loupe__buf_puts(&b, "null");
    }
    loupe__buf_puts(&b, ", \"datetime_start\": ");
    if (w->dt_start >= 0) {
        loupe__buf_putc(&b, '"');
        loupe__jw_isoformat(&b, w->dt_start);
        loupe__buf_putc(&b, '"');
    } else {
        loupe__buf_puts(&b, "null");
    }
    loupe__buf_puts(&b, ", \"datetime_last_activity\": ");
    if (w->dt_last >= 0) {
        loupe__buf_putc(&b, '"');
        loupe__jw_isoformat(&b, w->dt_last);
        loupe__buf_putc(&b, '"');
    } else {
        loupe__buf_puts(&b, "null");
    }
    loupe__buf_puts(&b, ", \"metric_names\": ");
    loupe__buf_puts(&b, w->extras.objective_names_json ? w->extras.objective_names_json : "null");
    loupe__buf_putc(&b, '}');
    return blob_from(&b);
}

static loupe__snap *build_snap(const view *w) {
    loupe__snap *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    atomic_init(&s->refs, 1);
    s->study_id = w->study_id;
    s->name = strdup(w->name);
    s->directions = malloc(w->n_directions * sizeof *s->directions);
    if (!s->name || !s->directions) goto oom;
    memcpy(s->directions, w->directions, w->n_directions * sizeof *s->directions);
    s->n_directions = w->n_directions;
    if (w->extras.metric_names) {
        s->metric_names = calloc(w->extras.n_metric_names + 1, sizeof *s->metric_names);
        if (!s->metric_names) goto oom;
        for (size_t i = 0; i < w->extras.n_metric_names; i++) {
            s->metric_names[i] = strdup(w->extras.metric_names[i]);
            if (!s->metric_names[i]) goto oom;
            s->n_metric_names++;
        }
    }
    size_t n = loupe_trial_list_count(w->list);
    atomic_fetch_add_explicit(&w->sl->refs, 1, memory_order_relaxed);
    s->owner = w->sl;
    s->list = w->sl->list;
    memcpy(s->counts, w->counts, sizeof s->counts);
    s->is_preferential = w->extras.is_preferential;
    if (w->full) {
        s->head = loupe__blob_retain(w->head);
        s->tail = loupe__blob_retain(w->tail);
        s->trials = malloc((n ? n : 1) * sizeof *s->trials);
        s->blocks = calloc(n / LOUPE__ZB + 1, sizeof *s->blocks);
        if (!s->trials || !s->blocks) goto oom;
        for (size_t i = 0; i < n; i++) s->trials[i] = loupe__blob_retain(w->tjson[i]);
        s->n_trials = n;
        for (size_t b = 0; b < n / LOUPE__ZB; b++) s->blocks[b] = loupe__zblock_retain(w->blocks[b]);
        s->n_blocks = n / LOUPE__ZB;
    }
    return s;
oom:
    loupe__snap_release(s);
    return NULL;
}

/* ------------------------------------------------------------ refresh */

typedef struct refresh_ctx {
    loupe__views *v;
    loupe_storage *storage;
} refresh_ctx;

static view *view_new(loupe_storage *storage, const loupe_study_summary *s, int *err) {
    view *w = calloc(1, sizeof *w);
    if (!w) {
        *err = LOUPE_ENOMEM;
        return NULL;
    }
    w->study_id = s->study_id;
    w->best = -1;
    w->dt_start = w->dt_last = w->fin_dt_start = w->fin_dt_last = -1;
    w->name = strdup(s->name);
    w->directions = malloc((s->n_directions ? s->n_directions : 1) * sizeof *w->directions);
    if (!w->name || !w->directions) {
        *err = LOUPE_ENOMEM;
        view_free(w);
        return NULL;
    }
    memcpy(w->directions, s->directions, s->n_directions * sizeof *w->directions);
    w->n_directions = s->n_directions;
    int rc = loupe_study_load(storage, s->name, &w->study);
    if (rc) {
        *err = rc;
        view_free(w);
        return NULL;
    }
    return w;
}

/* Holds the event (taking b) until send_held_events, after the snapshots it
 * describes are published. */
static void publish_event(loupe__views *v, int64_t study_id, const char *event, loupe__buf *b) {
    if (!v->cfg.hub || b->failed || !b->data) {
        loupe__buf_free(b);
        return;
    }
    if (v->n_held == v->alloc_held) {
        size_t na = v->alloc_held ? v->alloc_held * 2 : 8;
        struct held_event *p = realloc(v->held, na * sizeof *p);
        if (!p) {
            /* out of memory: send it now rather than lose it */
            loupe__hub_publish(v->cfg.hub, study_id, event, b->data, b->len);
            loupe__buf_free(b);
            return;
        }
        v->held = p;
        v->alloc_held = na;
    }
    v->held[v->n_held++] = (struct held_event){study_id, event, *b};
}

static void send_held_events(loupe__views *v) {
    for (size_t i = 0; i < v->n_held; i++) {
        struct held_event *e = &v->held[i];
        loupe__hub_publish(v->cfg.hub, e->study_id, e->name, e->body.data, e->body.len);
        loupe__buf_free(&e->body);
    }
    v->n_held = 0;
}

/* Renders trial i again; when its JSON changed and the view was already full,
 * appends it to the "trials" event in ev. */
static int rerender(view *w, size_t i, int was_full, loupe__buf *ev, size_t *n_ev) {
    const loupe_frozen_trial *t = loupe_trial_list_at(w->list, i);
    loupe__blob *nb = render_trial(w, t);
    if (!nb) return LOUPE_ENOMEM;
    w->seen[i] = t;
    if (loupe__blob_equal(nb, w->tjson[i])) {
        loupe__blob_release(nb);
        return LOUPE_OK;
    }
    w->raw_bytes += nb->len - (w->tjson[i] ? w->tjson[i]->len : 0);
    loupe__blob_release(w->tjson[i]);
    w->tjson[i] = nb;
    if (was_full) {
        loupe__buf_puts(ev, (*n_ev)++ ? ", " : "");
        loupe__buf_append(ev, nb->data, nb->len);
    }
    return LOUPE_OK;
}

/* Re-renders the trials whose note or legacy artifacts differ between the old
 * and the new study attrs: a merge of the two sorted per-trial lists, so the
 * cost follows the annotated trials, not the study size. */
static int rerender_extras(view *w, const loupe__study_extras *old, int was_full, loupe__buf *ev, size_t *n_ev) {
    const loupe__study_extras *nw = &w->extras;
    size_t a = 0, b = 0;
    while (a < old->n_trials || b < nw->n_trials) {
        int64_t id;
        if (b >= nw->n_trials || (a < old->n_trials && old->trials[a].trial_id < nw->trials[b].trial_id))
            id = old->trials[a++].trial_id;
        else if (a >= old->n_trials || nw->trials[b].trial_id < old->trials[a].trial_id)
            id = nw->trials[b++].trial_id;
        else
            id = (a++, nw->trials[b++].trial_id);
        if (!loupe__extras_trial_differs(loupe__extras_find(old, id), loupe__extras_find(nw, id))) continue;
        ptrdiff_t i = find_by_id(w->list, id);
        if (i < 0) continue;
        int rc = unseal(w, (size_t)i / LOUPE__ZB);
        if (!rc) rc = rerender(w, (size_t)i, was_full, ev, n_ev);
        if (rc) return rc;
    }
    return LOUPE_OK;
}

/* Brings one view up to date and sends its events; sets *changed when its
 * snapshot must be rebuilt. On error the view is unchanged, unless *broken is
 * set (then it is half updated and must be dropped).
 *
 * Finished trials never change, so the work per refresh follows the new and
 * the still unfinished trials (w->open), not the study size: they are folded
 * into the derived data once, rendered once, and sealed into compressed
 * blocks. */
static int refresh_view(loupe__views *v, view *w, const loupe_study_summary *s, int want_full,
                        int *changed, int *broken) {
    int rc;
    loupe_trial_list *nl = NULL;
    int was_full = w->full;
    if (want_full && (rc = make_full(w))) return rc;
    *broken = 0;
    if ((rc = loupe_study_get_trials(w->study, 0, &nl))) return rc;
    size_t n = loupe_trial_list_count(nl);
    loupe__shared_list *nsl = n >= w->n ? sl_new(nl) : NULL;
    if (!nsl) {
        /* trials never disappear from a study: the id was reused, start over */
        loupe_trial_list_free(nl);
        *broken = 1;
        return n < w->n ? LOUPE_ECORRUPT : LOUPE_ENOMEM;
    }
    if ((rc = grow(w, n))) {
        sl_release(nsl);
        return rc;
    }

    /* study attrs: notes, artifacts, widgets ... */
    uint64_t sig = attrs_sig(s);
    int attrs_changed = !w->have_sig || sig != w->sig;
    loupe__study_extras old = w->extras, fresh;
    int have_old = w->have_sig;
    if (attrs_changed) {
        if ((rc = loupe__extras_parse(s->system_attrs, s->n_system_attrs, &fresh))) {
            loupe__extras_free(&fresh);
            sl_release(nsl);
            return rc;
        }
        w->extras = fresh;
    }
    loupe__shared_list *old_sl = w->sl;
    loupe_trial_list *old_list = w->list;
    w->sl = nsl;
    w->list = nl;
    size_t old_n = w->n;
    w->n = n;

    /* the trials that may have changed: the unfinished ones, then the new ones */
    size_t *cand = w->open, n_cand = w->n_open;
    w->open = NULL;
    w->n_open = w->alloc_open = 0;
    int trials_changed = n != old_n;
    memset(w->counts, 0, sizeof w->counts);
    w->dt_start = w->dt_last = -1;
    loupe__buf ev;
    loupe__buf_init(&ev, 0);
    size_t n_ev = 0;
    for (size_t j = 0; j < n_cand + (n - old_n); j++) {
        size_t i = j < n_cand ? cand[j] : old_n + (j - n_cand);
        const loupe_frozen_trial *t = loupe_trial_list_at(w->list, i);
        if (i < old_n && loupe_trial_list_at(old_list, i) != t) trials_changed = 1;
        int fin = loupe_trial_state_is_finished(t->state);
        if (fin) {
            if ((rc = loupe__agg_fold(&w->fin, t))) goto fail_ev;
            w->folded[i] = 1;
            fold_best(w, i);
        } else if ((rc = push_index(&w->open, &w->n_open, &w->alloc_open, i))) {
            goto fail_ev;
        }
        int64_t *cnt = fin ? w->fin_counts : w->counts;
        int64_t *st = fin ? &w->fin_dt_start : &w->dt_start, *last = fin ? &w->fin_dt_last : &w->dt_last;
        if ((unsigned)t->state < 5) cnt[t->state]++;
        if (t->datetime_start_us >= 0 && (*st < 0 || t->datetime_start_us < *st)) *st = t->datetime_start_us;
        if (t->datetime_start_us > *last) *last = t->datetime_start_us;
        if (t->datetime_complete_us > *last) *last = t->datetime_complete_us;
    }
    /* the open trials' figures go on top of the finished ones' (updated above) */
    for (int k = 0; k < 5; k++) w->counts[k] += w->fin_counts[k];
    if (w->fin_dt_start >= 0 && (w->dt_start < 0 || w->fin_dt_start < w->dt_start)) w->dt_start = w->fin_dt_start;
    if (w->fin_dt_last > w->dt_last) w->dt_last = w->fin_dt_last;

    /* trial JSON: re-render what may have changed, remember what did */
    int render_all = w->full && !was_full;
    if (render_all) {
        for (size_t i = 0; i < n; i++) {
            if ((rc = rerender(w, i, 0, &ev, &n_ev))) goto fail_ev;
            /* seal as we go: the whole study's JSON is never uncompressed at once */
            if ((i + 1) % LOUPE__ZB == 0 && (rc = try_seal(v, w, i / LOUPE__ZB))) goto fail_ev;
        }
    } else if (w->full) {
        for (size_t j = 0; j < n_cand + (n - old_n); j++) {
            size_t i = j < n_cand ? cand[j] : old_n + (j - n_cand);
            if (w->tjson[i] && w->seen[i] == loupe_trial_list_at(w->list, i)) continue;
            if ((rc = rerender(w, i, was_full, &ev, &n_ev))) goto fail_ev;
        }
        if (attrs_changed && have_old && (rc = rerender_extras(w, &old, was_full, &ev, &n_ev))) goto fail_ev;
    }
    if (w->full) {
        size_t b = w->seal_from, first = SIZE_MAX;
        for (; (b + 2) * LOUPE__ZB <= n && w->raw_bytes > v->cfg.json_budget; b++) {
            if (!w->blocks[b] && (rc = try_seal(v, w, b))) goto fail_ev;
            if (!w->blocks[b] && first == SIZE_MAX) first = b;
        }
        w->seal_from = first == SIZE_MAX ? b : first;
    }
    int tail_changed = 0, head_changed = 0, summary_changed = 0;
    if (trials_changed || attrs_changed || render_all || !w->summary) {
        loupe__blob *sum = render_summary(w, s);
        if (!sum) {
            rc = LOUPE_ENOMEM;
            goto fail_ev;
        }
        summary_changed = !loupe__blob_equal(sum, w->summary);
        loupe__blob_release(w->summary);
        w->summary = sum;
        if (w->full) {
            loupe__blob *head = render_head(w, s), *tail = render_tail(w);
            drop_cached(w);
            if (!head || !tail) {
                loupe__blob_release(head);
                loupe__blob_release(tail);
                rc = LOUPE_ENOMEM;
                goto fail_ev;
            }
            head_changed = !loupe__blob_equal(head, w->head);
            tail_changed = !loupe__blob_equal(tail, w->tail);
            loupe__blob_release(w->head);
            loupe__blob_release(w->tail);
            w->head = head;
            w->tail = tail;
        }
    }
    free(cand);
    if (attrs_changed && have_old) loupe__extras_free(&old);
    w->sig = sig;
    w->have_sig = 1;
    sl_release(old_sl);

    if (n_ev) {
        loupe__buf msg;
        loupe__buf_init(&msg, 0);
        loupe__buf_printf(&msg, "{\"study_id\": %lld, \"trials\": [", (long long)w->study_id);
        loupe__buf_append(&msg, ev.data, ev.len);
        loupe__buf_puts(&msg, "]}");
        publish_event(v, w->study_id, "trials", &msg);
    }
    loupe__buf_free(&ev);
    if (was_full && (head_changed || tail_changed)) {
        loupe__buf msg;
        loupe__buf_init(&msg, 0);
        loupe__buf_printf(&msg, "{\"study_id\": %lld, ", (long long)w->study_id);
        loupe__buf_append(&msg, w->head->data, w->head->len);
        loupe__buf_puts(&msg, ", ");
        loupe__buf_append(&msg, w->tail->data, w->tail->len);
        loupe__buf_putc(&msg, '}');
        publish_event(v, w->study_id, "study", &msg);
    }
    *changed = trials_changed || attrs_changed || render_all || summary_changed || !w->snap;
    return LOUPE_OK;

fail_ev:
    loupe__buf_free(&ev);
    /* half updated: the caller drops the view and rebuilds it */
    free(cand);
    if (attrs_changed && have_old) loupe__extras_free(&old);
    sl_release(old_sl);
    *broken = 1;
    return rc ? rc : LOUPE_ERROR;
}

/* Takes every pending "render in full" request (the study ids), so a request
 * for a study that does not exist cannot keep the watcher busy. */
static int64_t *take_wants(loupe__views *v, size_t *n) {
    pthread_mutex_lock(&v->m);
    int64_t *w = v->want_full;
    *n = v->n_want;
    v->want_full = NULL;
    v->n_want = v->alloc_want = 0;
    pthread_mutex_unlock(&v->m);
    return w;
}

static int wanted(const int64_t *w, size_t n, int64_t study_id) {
    for (size_t i = 0; i < n; i++)
        if (w[i] == study_id) return 1;
    return 0;
}

static view *find_view(loupe__views *v, int64_t study_id) {
    for (size_t i = 0; i < v->n_views; i++)
        if (v->views[i]->study_id == study_id) return v->views[i];
    return NULL;
}

static void refresh(loupe__views *v, loupe_storage *storage) {
    size_t n_wants = 0;
    int64_t *wants = take_wants(v, &n_wants);
    loupe_study_list *list = NULL;
    int rc = loupe_storage_list_study_heads(storage, &list);
    if (rc) {
        set_error(v, "cannot list studies: %s%s", loupe_storage_errmsg(storage), "");
        v->have_dv = 0; /* retry at the next poll */
        free(wants);
        return;
    }
    size_t ns = loupe_study_list_count(list);
    view **nviews = calloc(ns ? ns : 1, sizeof *nviews);
    if (!nviews) {
        loupe_study_list_free(list);
        free(wants);
        return;
    }
    int any_changed = 0;
    for (size_t i = 0; i < v->n_views; i++) v->views[i]->seen_in_refresh = 0;
    size_t nn = 0;
    for (size_t i = 0; i < ns; i++) {
        const loupe_study_summary *s = loupe_study_list_at(list, i);
        view *w = find_view(v, s->study_id);
        if (w && strcmp(w->name, s->name) != 0) w = NULL; /* id reused by another study */
        int fresh_view = 0;
        if (!w) {
            int err = 0;
            w = view_new(storage, s, &err);
            if (!w) {
                if (err != LOUPE_ENOTFOUND)
                    set_error(v, "cannot load study '%s': %s", s->name, loupe_storage_errmsg(storage));
                continue;
            }
            fresh_view = 1;
        }
        int want = wanted(wants, n_wants, s->study_id) || w->full ||
                   (v->cfg.hub && loupe__hub_has_subscribers(v->cfg.hub, s->study_id));
        int changed = 0, broken = 0;
        rc = refresh_view(v, w, s, want, &changed, &broken);
        if (rc) {
            set_error(v, "cannot read the trials of study '%s': %s", s->name,
                      rc == LOUPE_ENOMEM ? "out of memory" : loupe_storage_errmsg(storage));
            if (fresh_view || broken) {
                /* dropped now, rebuilt by the next refresh (kicked below) */
                if (!fresh_view) w->seen_in_refresh = 2;
                else view_free(w);
                pthread_mutex_lock(&v->m);
                v->kick = 1;
                pthread_mutex_unlock(&v->m);
                any_changed = 1;
                continue;
            }
            /* a transient failure (e.g. the database is locked): keep the
             * last picture, retry at the next poll */
            v->have_dv = 0;
            w->seen_in_refresh = 1;
            nviews[nn++] = w;
            continue;
        }
        w->seen_in_refresh = 1;
        if (changed) {
            loupe__snap *snap = build_snap(w);
            if (snap) {
                /* the published table still holds the old one: it is freed
                 * (one release per trial) only after the events, below */
                loupe__snap_release(w->snap);
                w->snap = snap;
                any_changed = 1;
            }
        }
        nviews[nn++] = w;
    }
    /* studies that disappeared */
    for (size_t i = 0; i < v->n_views; i++) {
        view *w = v->views[i];
        int kept = 0;
        for (size_t j = 0; j < nn && !kept; j++) kept = nviews[j] == w;
        if (kept) continue;
        if (w->seen_in_refresh != 2) {
            loupe__buf msg;
            loupe__buf_init(&msg, 0);
            loupe__buf_printf(&msg, "{\"study_id\": %lld}", (long long)w->study_id);
            publish_event(v, w->study_id, "deleted", &msg);
        }
        any_changed = 1;
        view_free(w);
    }
    free(v->views);
    v->views = nviews;
    v->n_views = nn;
    loupe_study_list_free(list);
    free(wants);

    /* the study list */
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_puts(&b, "{\"study_summaries\": [");
    for (size_t i = 0; i < nn; i++) {
        if (i) loupe__buf_puts(&b, ", ");
        if (nviews[i]->summary) loupe__buf_append(&b, nviews[i]->summary->data, nviews[i]->summary->len);
    }
    loupe__buf_puts(&b, "]}");
    loupe__blob *studies = blob_from(&b);

    /* publish */
    loupe__snap **snaps = calloc(nn ? nn : 1, sizeof *snaps), **old_snaps = NULL;
    size_t n_old = 0;
    pthread_rwlock_wrlock(&v->rw);
    int studies_changed = studies && !loupe__blob_equal(studies, v->studies);
    if (snaps && (any_changed || nn != v->n_snaps)) {
        for (size_t i = 0; i < nn; i++) snaps[i] = snap_retain(nviews[i]->snap);
        old_snaps = v->snaps;
        n_old = v->n_snaps;
        v->snaps = snaps;
        v->n_snaps = nn;
        snaps = NULL;
    }
    if (studies_changed) {
        loupe__blob_release(v->studies);
        v->studies = loupe__blob_retain(studies);
    }
    pthread_rwlock_unlock(&v->rw);
    send_held_events(v);
    /* outside the lock and after the events: readers and subscribers wait for neither */
    for (size_t i = 0; i < n_old; i++) loupe__snap_release(old_snaps[i]);
    free(old_snaps);
    free(snaps);
    if (studies_changed && v->cfg.hub) {
        loupe__blob_release(v->pending_studies);
        v->pending_studies = loupe__blob_retain(studies);
    }
    loupe__blob_release(studies);
}

/* Sends a held-back studies event once 250 ms passed since the last one. */
static void flush_studies_event(loupe__views *v) {
    if (!v->pending_studies) return;
    int64_t now = loupe__monotonic_us();
    if (now - v->last_studies_event_us < 250000) return;
    loupe__hub_publish(v->cfg.hub, -1, "studies", v->pending_studies->data, v->pending_studies->len);
    loupe__blob_release(v->pending_studies);
    v->pending_studies = NULL;
    v->last_studies_event_us = now;
}

static void *watcher_main(void *arg) {
    loupe__views *v = arg;
    int64_t last_ping = loupe__monotonic_us(), last_refresh_us = 0;
    int first = 1;
    for (;;) {
        pthread_mutex_lock(&v->m);
        if (!first && !v->kick && !v->stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            long ns = until.tv_nsec + (long)v->cfg.poll_ms * 1000000L;
            until.tv_sec += ns / 1000000000L;
            until.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&v->cv, &v->m, &until);
        }
        if (v->stop) {
            pthread_mutex_unlock(&v->m);
            break;
        }
        int kicked = v->kick || v->n_want > 0;
        v->kick = 0;
        uint64_t gen = ++v->started_gen;
        pthread_mutex_unlock(&v->m);

        loupe__slot *slot = NULL;
        loupe_storage *storage = v->storage;
        if (!storage) {
            slot = loupe__pool_acquire(v->cfg.pool);
            storage = slot->storage;
        }
        /* a private in-memory storage changes only through this server (which
         * kicks after each write); a slow periodic refresh covers the rest */
        int64_t now_us = loupe__monotonic_us();
        int changed = first || kicked || (!v->storage && now_us - last_refresh_us > 1000000);
        if (!changed && v->storage) {
            uint64_t dv = 0;
            if (loupe_storage_data_version(storage, &dv) == LOUPE_OK) {
                changed = !v->have_dv || dv != v->last_dv;
                v->last_dv = dv;
                v->have_dv = 1;
            }
        }
        if (changed) {
            if (v->storage) {
                /* record the version before reading, so writes during the
                 * refresh trigger another one */
                uint64_t dv = 0;
                if (loupe_storage_data_version(storage, &dv) == LOUPE_OK) {
                    v->last_dv = dv;
                    v->have_dv = 1;
                }
            }
            refresh(v, storage);
            last_refresh_us = now_us;
        }
        if (slot) loupe__pool_release(v->cfg.pool, slot);
        if (v->cfg.hub) {
            flush_studies_event(v);
            int64_t now = loupe__monotonic_us();
            if (now - last_ping >= (int64_t)v->cfg.ping_ms * 1000) {
                loupe__hub_ping(v->cfg.hub);
                last_ping = now;
            }
        }
        pthread_mutex_lock(&v->m);
        v->done_gen = gen;
        if (first) v->ready = 1;
        pthread_cond_broadcast(&v->cv);
        pthread_mutex_unlock(&v->m);
        first = 0;
    }
    return NULL;
}

/* ------------------------------------------------------------ public */

int loupe__views_start(const loupe__views_config *cfg, loupe__views **out, char *err, size_t errcap) {
    *out = NULL;
    loupe__views *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errcap, "out of memory");
        return LOUPE_ENOMEM;
    }
    v->cfg = *cfg;
    if (v->cfg.poll_ms <= 0) v->cfg.poll_ms = 25;
    if (v->cfg.ping_ms <= 0) v->cfg.ping_ms = 15000;
    if (!v->cfg.json_budget) v->cfg.json_budget = DEFAULT_JSON_BUDGET;
    pthread_mutex_init(&v->m, NULL);
    pthread_cond_init(&v->cv, NULL);
    pthread_rwlock_init(&v->rw, NULL);
    if (!cfg->pool || !loupe__pool_is_shared(cfg->pool)) {
        int rc = loupe_storage_open(cfg->url, LOUPE_OPEN_SKIP_SCHEMA_CHECK, &v->storage);
        if (rc) {
            snprintf(err, errcap, "cannot open storage '%s': %s", cfg->url,
                     v->storage ? loupe_storage_errmsg(v->storage) : loupe_strerror(rc));
            loupe__views_stop(v);
            return rc;
        }
    }
    if (pthread_create(&v->thread, NULL, watcher_main, v)) {
        snprintf(err, errcap, "cannot start the watcher thread: %s", strerror(errno));
        loupe__views_stop(v);
        return LOUPE_ERROR;
    }
    v->thread_started = 1;
    *out = v;
    return LOUPE_OK;
}

void loupe__views_stop(loupe__views *v) {
    if (!v) return;
    if (v->thread_started) {
        pthread_mutex_lock(&v->m);
        v->stop = 1;
        pthread_cond_broadcast(&v->cv);
        pthread_mutex_unlock(&v->m);
        pthread_join(v->thread, NULL);
    }
    for (size_t i = 0; i < v->n_views; i++) view_free(v->views[i]);
    free(v->views);
    for (size_t i = 0; i < v->n_snaps; i++) loupe__snap_release(v->snaps[i]);
    free(v->snaps);
    loupe__blob_release(v->studies);
    loupe__blob_release(v->pending_studies);
    loupe__zctx_free(&v->zc);
    free(v->want_full);
    for (size_t i = 0; i < v->n_held; i++) loupe__buf_free(&v->held[i].body);
    free(v->held);
    loupe_storage_close(v->storage);
    pthread_mutex_destroy(&v->m);
    pthread_cond_destroy(&v->cv);
    pthread_rwlock_destroy(&v->rw);
    free(v);
}

/* Waits (v->m held) until done_gen >= target, up to 30 s. */
static int wait_gen(loupe__views *v, uint64_t target) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    while (v->done_gen < target && !v->stop)
        if (pthread_cond_timedwait(&v->cv, &v->m, &until) == ETIMEDOUT) return -1;
    return v->stop ? -1 : 0;
}

int loupe__views_sync(loupe__views *v) {
    pthread_mutex_lock(&v->m);
    uint64_t target = v->started_gen + 1;
    v->kick = 1;
    pthread_cond_broadcast(&v->cv);
    int r = wait_gen(v, target);
    pthread_mutex_unlock(&v->m);
    return r;
}

static void wait_ready(loupe__views *v) {
    pthread_mutex_lock(&v->m);
    if (!v->ready) wait_gen(v, 1);
    pthread_mutex_unlock(&v->m);
}

loupe__blob *loupe__views_studies(loupe__views *v) {
    wait_ready(v);
    pthread_rwlock_rdlock(&v->rw);
    loupe__blob *b = loupe__blob_retain(v->studies);
    pthread_rwlock_unlock(&v->rw);
    return b;
}

static loupe__snap *lookup(loupe__views *v, int64_t study_id) {
    loupe__snap *s = NULL;
    pthread_rwlock_rdlock(&v->rw);
    for (size_t i = 0; i < v->n_snaps; i++)
        if (v->snaps[i] && v->snaps[i]->study_id == study_id) {
            s = snap_retain(v->snaps[i]);
            break;
        }
    pthread_rwlock_unlock(&v->rw);
    return s;
}

loupe__snap *loupe__views_study(loupe__views *v, int64_t study_id, int full) {
    wait_ready(v);
    for (int attempt = 0; attempt < 3; attempt++) {
        loupe__snap *s = lookup(v, study_id);
        if (s && (!full || s->trials)) return s;
        if (!s && attempt > 0) return NULL; /* still absent after a fresh refresh */
        loupe__snap_release(s);
        if (full) {
            pthread_mutex_lock(&v->m);
            if (v->n_want == v->alloc_want) {
                size_t na = v->alloc_want ? v->alloc_want * 2 : 8;
                int64_t *p = realloc(v->want_full, na * sizeof *p);
                if (p) {
                    v->want_full = p;
                    v->alloc_want = na;
                }
            }
            if (v->n_want < v->alloc_want) v->want_full[v->n_want++] = study_id;
            pthread_mutex_unlock(&v->m);
        }
        if (loupe__views_sync(v)) return NULL;
    }
    return NULL;
}

int loupe__views_find_trial(loupe__views *v, int64_t trial_id, int64_t *study_id, int64_t *number,
                            loupe_trial_state *state) {
    wait_ready(v);
    for (int attempt = 0; attempt < 2; attempt++) {
        int found = 0;
        pthread_rwlock_rdlock(&v->rw);
        for (size_t i = 0; i < v->n_snaps && !found; i++) {
            loupe__snap *s = v->snaps[i];
            if (!s || !s->list) continue;
            ptrdiff_t k = find_by_id(s->list, trial_id);
            if (k >= 0) {
                const loupe_frozen_trial *t = loupe_trial_list_at(s->list, (size_t)k);
                *study_id = s->study_id;
                *number = t->number;
                if (state) *state = t->state;
                found = 1;
            }
        }
        pthread_rwlock_unlock(&v->rw);
        if (found) return 0;
        if (attempt == 0 && loupe__views_sync(v)) break;
    }
    return -1;
}

char *loupe__views_trial_json(loupe__views *v, int64_t study_id, int64_t number) {
    loupe__snap *s = loupe__views_study(v, study_id, 1);
    char *r = NULL;
    if (s && number >= 0 && (size_t)number < s->n_trials) {
        loupe__blob *t = loupe__snap_trial(s, (size_t)number);
        if (t) r = strdup(t->data);
        loupe__blob_release(t);
    }
    loupe__snap_release(s);
    return r;
}

void loupe__views_last_error(loupe__views *v, char *buf, size_t cap) {
    pthread_mutex_lock(&v->m);
    snprintf(buf, cap, "%s", v->last_error);
    pthread_mutex_unlock(&v->m);
}
