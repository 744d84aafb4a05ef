/*
 * router.h -- maps an HTTP method and a decoded URL path to one of the
 * dashboard's routes (optuna-dashboard 0.20's paths plus loupe's additions),
 * validating every path parameter. Pure: no I/O, no allocation (fuzzed).
 */
#ifndef LOUPE_SERVER_ROUTER_H
#define LOUPE_SERVER_ROUTER_H

#include <stddef.h>
#include <stdint.h>

typedef enum loupe__method {
    LOUPE__M_OTHER = 0,
    LOUPE__M_GET,
    LOUPE__M_HEAD,
    LOUPE__M_POST,
    LOUPE__M_PUT,
    LOUPE__M_DELETE,
    LOUPE__M_OPTIONS
} loupe__method;

typedef enum loupe__route_id {
    LOUPE__R_NONE = 0,         /* no route: 404 */
    LOUPE__R_ROOT,             /* GET / -> 302 /dashboard */
    LOUPE__R_PAGE,             /* GET /dashboard[/...] -> index.html */
    LOUPE__R_STATIC,           /* GET /static/<path>, /assets/<path> -> embedded asset */
    LOUPE__R_FAVICON,          /* GET /favicon.ico */
    LOUPE__R_META,             /* GET /api/meta */
    LOUPE__R_STUDIES,          /* GET /api/studies */
    LOUPE__R_STUDY_CREATE,     /* POST /api/studies */
    LOUPE__R_STUDY,            /* GET /api/studies/:sid */
    LOUPE__R_STUDY_DELETE,     /* DELETE /api/studies/:sid */
    LOUPE__R_STUDY_RENAME,     /* POST /api/studies/:sid/rename */
    LOUPE__R_STUDY_NOTE,       /* PUT /api/studies/:sid/note */
    LOUPE__R_TRIAL_NOTE,       /* PUT /api/studies/:sid/:tid/note */
    LOUPE__R_IMPORTANCES,      /* GET /api/studies/:sid/param_importances */
    LOUPE__R_STUDY_COMPACT,    /* GET /api/studies/:sid/compact (loupe: compact trial feed) */
    LOUPE__R_PLOT,             /* GET /api/studies/:sid/plot/:name */
    LOUPE__R_COMPARE_PLOT,     /* GET /api/compare-studies/plot/:name */
    LOUPE__R_PREFERENCE,       /* POST /api/studies/:sid/preference */
    LOUPE__R_PREF_REMOVE,      /* DELETE /api/studies/:sid/preference/:history_id */
    LOUPE__R_PREF_RESTORE,     /* POST /api/studies/:sid/preference/:history_id */
    LOUPE__R_PREF_COMPONENT,   /* PUT /api/studies/:sid/preference_feedback_component */
    LOUPE__R_SKIP,             /* POST /api/studies/:sid/:tid/skip */
    LOUPE__R_TELL,             /* POST /api/trials/:tid/tell */
    LOUPE__R_USER_ATTRS,       /* POST /api/trials/:tid/user-attrs */
    LOUPE__R_CSV,              /* GET /csv/:sid */
    LOUPE__R_ARTIFACT_STUDY,   /* GET /artifacts/:sid/:aid */
    LOUPE__R_ARTIFACT_TRIAL,   /* GET /artifacts/:sid/:tid/:aid */
    LOUPE__R_UPLOAD_STUDY,     /* POST /api/artifacts/:sid */
    LOUPE__R_UPLOAD_TRIAL,     /* POST /api/artifacts/:sid/:tid */
    LOUPE__R_DELETE_ART_STUDY, /* DELETE /api/artifacts/:sid/:aid */
    LOUPE__R_DELETE_ART_TRIAL, /* DELETE /api/artifacts/:sid/:tid/:aid */
    LOUPE__R_EVENTS,           /* GET /api/events (loupe: Server-Sent Events) */
    LOUPE__R_LLM,              /* POST /api/llm/<anything> */
    LOUPE__R_COUNT
} loupe__route_id;

/* The longest name parameter (plot type, history id, static path) kept. */
#define LOUPE__ROUTE_NAME_MAX 256

typedef struct loupe__route {
    loupe__route_id id;
    /* Set when the path names a route that exists for other methods: answer
     * 405 with an Allow header listing `allow`. id is then LOUPE__R_NONE. */
    int method_not_allowed;
    char allow[48];
    int64_t study_id;  /* -1 when absent */
    int64_t trial_id;  /* -1 when absent */
    char artifact_id[40]; /* a hex-and-dash id (may be longer than a UUID: then
                             bad_id is set and the request gets 404) */
    int bad_id;
    char name[LOUPE__ROUTE_NAME_MAX]; /* plot type, history id or static path */
} loupe__route;

/* Parses "GET", "POST", ... (exact, upper case). */
loupe__method loupe__method_parse(const char *method);

/*
 * Matches path (already percent-decoded; must start with '/') for method.
 * Trailing slashes are ignored, as upstream strips them. Integer parameters
 * accept 1-18 ASCII digits; artifact ids accept [0-9a-fA-F-]{1,64}; static
 * paths accept [A-Za-z0-9._-] segments without "." or ".." segments. Anything
 * else gives LOUPE__R_NONE. Returns r->id.
 */
loupe__route_id loupe__route_match(loupe__method method, const char *path, size_t path_len,
                                   loupe__route *r);

/* A short name of a route for logs ("study", "tell", ...). */
const char *loupe__route_name(loupe__route_id id);

/* Non-zero when the route writes (refused by --read-only and checked for Origin). */
int loupe__route_is_write(loupe__route_id id);

#endif
