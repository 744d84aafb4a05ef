/*
 * view.h -- the server's live picture of the storage. One watcher thread owns
 * a storage handle (or borrows the pool's only handle for ":memory:"), polls
 * loupe_storage_data_version() every few milliseconds and, on any change by
 * any process, lists the studies without trial aggregates
 * (loupe_storage_list_study_heads), re-syncs every study (new and unfinished
 * trials only), updates the derived data incrementally, re-renders only the
 * trial JSON that changed, seals older finished trials' JSON into compressed
 * blocks (zjson.h) past a budget, publishes immutable snapshots for request
 * threads, and sends the changes to SSE subscribers. Request threads never
 * touch the watcher's storage handle.
 */
#ifndef LOUPE_SERVER_VIEW_H
#define LOUPE_SERVER_VIEW_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "loupe.h"
#include "server/blob.h"
#include "server/pool.h"
#include "server/sse.h"
#include "server/zjson.h"

/* A trial list shared by the watcher and the snapshots built from it. */
typedef struct loupe__shared_list {
    atomic_int refs;
    loupe_trial_list *list;
} loupe__shared_list;

/*
 * An immutable picture of one study, shared by reference. Every study has
 * one; head, tail and trials are set only once the study is "full" (its detail
 * was requested or someone subscribed to it).
 */
typedef struct loupe__snap {
    atomic_int refs;
    int64_t study_id;
    char *name;
    size_t n_directions;
    loupe_direction *directions;
    char **metric_names; /* decoded "study:metric_names", NULL when unset */
    size_t n_metric_names;
    const loupe_trial_list *list; /* every trial, by number (= by trial_id) */
    loupe__shared_list *owner;     /* keeps list alive */
    int64_t counts[5];
    int is_preferential;
    /* full studies only: "name" .. "artifacts" and "best_trials" .. the end of
     * GET /api/studies/:id (without braces), and each trial's JSON by number:
     * trials[i], or when that is NULL, trial i % LOUPE__ZB of the compressed
     * blocks[i / LOUPE__ZB] */
    loupe__blob *head, *tail;
    loupe__blob **trials;
    size_t n_trials;
    loupe__zblock **blocks;
    size_t n_blocks;
} loupe__snap;

void loupe__snap_release(loupe__snap *s);
/* Trial i's JSON of a full snapshot (retained, inflated when sealed); NULL
 * when out of memory. */
loupe__blob *loupe__snap_trial(const loupe__snap *s, size_t i);

typedef struct loupe__views loupe__views;

typedef struct loupe__views_config {
    const char *url;  /* storage URL */
    loupe__pool *pool; /* borrowed for ":memory:" (shared pool) */
    loupe__hub *hub;   /* may be NULL (no live updates) */
    int poll_ms;       /* data_version poll period; default 25 */
    int ping_ms;       /* SSE heartbeat period; default 15000 */
    int quiet;         /* no warnings on stderr */
    size_t json_budget; /* trial JSON bytes a study keeps uncompressed; 0 = 16 MiB */
} loupe__views_config;

/* Starts the watcher. On failure returns a status with a message in err. */
int loupe__views_start(const loupe__views_config *cfg, loupe__views **out, char *err, size_t errcap);
/* Stops and joins the watcher and frees everything. */
void loupe__views_stop(loupe__views *v);

/* Waits until a refresh that started after this call has finished (call it
 * after a write so the next read sees it). Returns 0, or -1 on timeout/stop. */
int loupe__views_sync(loupe__views *v);
/* The body of GET /api/studies (retained; release it). NULL if the first
 * refresh failed. */
loupe__blob *loupe__views_studies(loupe__views *v);
/* The snapshot of a study (retained; release it), rendered in full when full
 * is non-zero; NULL when there is no such study. */
loupe__snap *loupe__views_study(loupe__views *v, int64_t study_id, int full);
/* Finds a trial by its global trial_id: its study and number. 0 when found. */
int loupe__views_find_trial(loupe__views *v, int64_t trial_id, int64_t *study_id, int64_t *number,
                            loupe_trial_state *state);
/* The trial's JSON as GET /api/studies/:id sends it (malloc'd), or NULL. */
char *loupe__views_trial_json(loupe__views *v, int64_t study_id, int64_t number);
/* The last refresh error, for /api/meta diagnostics ("" when none). */
void loupe__views_last_error(loupe__views *v, char *buf, size_t cap);

#endif
