/*
 * router.c -- the dashboard's route table: method + decoded path -> route id and
 * validated parameters (see router.h). Segments are matched one at a time
 * against small patterns; nothing is allocated, so it is safe to fuzz.
 */
#include "server/router.h"

#include <string.h>

loupe__method loupe__method_parse(const char *m) {
    if (!m) return LOUPE__M_OTHER;
    if (strcmp(m, "GET") == 0) return LOUPE__M_GET;
    if (strcmp(m, "HEAD") == 0) return LOUPE__M_HEAD;
    if (strcmp(m, "POST") == 0) return LOUPE__M_POST;
    if (strcmp(m, "PUT") == 0) return LOUPE__M_PUT;
    if (strcmp(m, "DELETE") == 0) return LOUPE__M_DELETE;
    if (strcmp(m, "OPTIONS") == 0) return LOUPE__M_OPTIONS;
    return LOUPE__M_OTHER;
}

/* A path split into segments (pointers into the caller's path). */
#define MAX_SEGS 16
typedef struct segs {
    const char *s[MAX_SEGS];
    size_t len[MAX_SEGS];
    size_t n;
    int overflow;
} segs;

static void split(const char *path, size_t len, segs *g) {
    memset(g, 0, sizeof *g);
    /* ignore trailing slashes (upstream strips them) */
    while (len > 1 && path[len - 1] == '/') len--;
    size_t i = 0;
    while (i < len) {
        while (i < len && path[i] == '/') i++;
        if (i >= len) break;
        size_t j = i;
        while (j < len && path[j] != '/') j++;
        if (g->n == MAX_SEGS) {
            g->overflow = 1;
            return;
        }
        g->s[g->n] = path + i;
        g->len[g->n] = j - i;
        g->n++;
        i = j;
    }
}

static int seg_is(const segs *g, size_t i, const char *lit) {
    size_t n = strlen(lit);
    return i < g->n && g->len[i] == n && memcmp(g->s[i], lit, n) == 0;
}

/* 1..18 digits: fits an int64 and matches upstream's <:int> for ids >= 0. */
static int seg_int(const segs *g, size_t i, int64_t *out) {
    if (i >= g->n || g->len[i] == 0 || g->len[i] > 18) return 0;
    int64_t v = 0;
    for (size_t k = 0; k < g->len[i]; k++) {
        char c = g->s[i][k];
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 1;
}

/* Upstream's artifact id pattern [0-9a-fA-F-]+ (capped at 64 characters). */
static int seg_artifact(const segs *g, size_t i, loupe__route *r) {
    if (i >= g->n || g->len[i] == 0 || g->len[i] > 64) return 0;
    for (size_t k = 0; k < g->len[i]; k++) {
        char c = g->s[i][k];
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
        if (!ok) return 0;
    }
    if (g->len[i] < sizeof r->artifact_id) {
        memcpy(r->artifact_id, g->s[i], g->len[i]);
        r->artifact_id[g->len[i]] = '\0';
        r->bad_id = g->len[i] != 36;
    } else {
        r->artifact_id[0] = '\0';
        r->bad_id = 1;
    }
    return 1;
}

/* A name segment (plot type, history id): printable ASCII without separators. */
static int seg_name(const segs *g, size_t i, loupe__route *r) {
    if (i >= g->n || g->len[i] == 0 || g->len[i] >= sizeof r->name) return 0;
    for (size_t k = 0; k < g->len[i]; k++) {
        unsigned char c = (unsigned char)g->s[i][k];
        if (c <= 0x20 || c >= 0x7F || c == '\\') return 0;
    }
    memcpy(r->name, g->s[i], g->len[i]);
    r->name[g->len[i]] = '\0';
    return 1;
}

/* Joins segments from..n-1 into r->name as a static asset path ("assets/x.js");
 * prefix (may be "") is prepended. Refuses "." and ".." segments and any
 * character outside [A-Za-z0-9._-]. */
static int join_static(const segs *g, size_t from, const char *prefix, loupe__route *r) {
    size_t pos = strlen(prefix);
    if (from >= g->n || pos >= sizeof r->name) return 0;
    memcpy(r->name, prefix, pos);
    for (size_t i = from; i < g->n; i++) {
        if ((g->len[i] == 1 && g->s[i][0] == '.') ||
            (g->len[i] == 2 && g->s[i][0] == '.' && g->s[i][1] == '.'))
            return 0;
        for (size_t k = 0; k < g->len[i]; k++) {
            char c = g->s[i][k];
            int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     c == '.' || c == '_' || c == '-';
            if (!ok) return 0;
        }
        if (pos + g->len[i] + 2 > sizeof r->name) return 0;
        if (i > from) r->name[pos++] = '/';
        memcpy(r->name + pos, g->s[i], g->len[i]);
        pos += g->len[i];
    }
    r->name[pos] = '\0';
    return 1;
}

/* Records which methods a matched path allows; picks the route for method. */
typedef struct cand {
    loupe__method m;
    loupe__route_id id;
} cand;

static loupe__route_id choose(loupe__method method, const cand *c, size_t n, loupe__route *r) {
    loupe__method eff = method == LOUPE__M_HEAD ? LOUPE__M_GET : method;
    for (size_t i = 0; i < n; i++)
        if (c[i].m == eff) return r->id = c[i].id;
    static const char *names[] = {"", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
    r->method_not_allowed = 1;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *nm = names[c[i].m];
        size_t l = strlen(nm);
        if (pos + l + 3 >= sizeof r->allow) break;
        if (pos) {
            memcpy(r->allow + pos, ", ", 2);
            pos += 2;
        }
        memcpy(r->allow + pos, nm, l);
        pos += l;
    }
    r->allow[pos] = '\0';
    return r->id = LOUPE__R_NONE;
}

#define CHOOSE(...)                                                                                \
    do {                                                                                           \
        static const cand cs_[] = {__VA_ARGS__};                                                   \
        return choose(method, cs_, sizeof cs_ / sizeof cs_[0], r);                                 \
    } while (0)

static loupe__route_id match_api_studies(loupe__method method, const segs *g, loupe__route *r) {
    /* g->s[0] == "api", g->s[1] == "studies" */
    if (g->n == 2) CHOOSE({LOUPE__M_GET, LOUPE__R_STUDIES}, {LOUPE__M_POST, LOUPE__R_STUDY_CREATE});
    if (!seg_int(g, 2, &r->study_id)) return LOUPE__R_NONE;
    if (g->n == 3) CHOOSE({LOUPE__M_GET, LOUPE__R_STUDY}, {LOUPE__M_DELETE, LOUPE__R_STUDY_DELETE});
    if (g->n == 4) {
        if (seg_is(g, 3, "rename")) CHOOSE({LOUPE__M_POST, LOUPE__R_STUDY_RENAME});
        if (seg_is(g, 3, "note")) CHOOSE({LOUPE__M_PUT, LOUPE__R_STUDY_NOTE});
        if (seg_is(g, 3, "param_importances")) CHOOSE({LOUPE__M_GET, LOUPE__R_IMPORTANCES});
        if (seg_is(g, 3, "compact")) CHOOSE({LOUPE__M_GET, LOUPE__R_STUDY_COMPACT});
        if (seg_is(g, 3, "preference")) CHOOSE({LOUPE__M_POST, LOUPE__R_PREFERENCE});
        if (seg_is(g, 3, "preference_feedback_component"))
            CHOOSE({LOUPE__M_PUT, LOUPE__R_PREF_COMPONENT});
        return LOUPE__R_NONE;
    }
    if (g->n == 5) {
        if (seg_is(g, 3, "plot") && seg_name(g, 4, r)) CHOOSE({LOUPE__M_GET, LOUPE__R_PLOT});
        if (seg_is(g, 3, "preference") && seg_name(g, 4, r))
            CHOOSE({LOUPE__M_DELETE, LOUPE__R_PREF_REMOVE}, {LOUPE__M_POST, LOUPE__R_PREF_RESTORE});
        if (seg_int(g, 3, &r->trial_id)) {
            if (seg_is(g, 4, "note")) CHOOSE({LOUPE__M_PUT, LOUPE__R_TRIAL_NOTE});
            if (seg_is(g, 4, "skip")) CHOOSE({LOUPE__M_POST, LOUPE__R_SKIP});
        }
        r->trial_id = -1;
    }
    return LOUPE__R_NONE;
}

static loupe__route_id match_api_artifacts(loupe__method method, const segs *g, loupe__route *r) {
    /* /api/artifacts/:sid[/:tid][/:aid] */
    if (!seg_int(g, 2, &r->study_id)) return LOUPE__R_NONE;
    if (g->n == 3) CHOOSE({LOUPE__M_POST, LOUPE__R_UPLOAD_STUDY});
    if (g->n == 4) {
        /* an all-digit segment is a trial id (POST) and also a valid hex
         * artifact id (DELETE): decide by method, as upstream's routes do */
        int64_t tid;
        int is_int = seg_int(g, 3, &tid);
        int is_art = seg_artifact(g, 3, r);
        if (method == LOUPE__M_POST && is_int) {
            r->trial_id = tid;
            r->artifact_id[0] = '\0';
            r->bad_id = 0;
            return r->id = LOUPE__R_UPLOAD_TRIAL;
        }
        if (method == LOUPE__M_DELETE && is_art) return r->id = LOUPE__R_DELETE_ART_STUDY;
        if (is_int && is_art) CHOOSE({LOUPE__M_POST, LOUPE__R_UPLOAD_TRIAL}, {LOUPE__M_DELETE, LOUPE__R_DELETE_ART_STUDY});
        if (is_int) CHOOSE({LOUPE__M_POST, LOUPE__R_UPLOAD_TRIAL});
        if (is_art) CHOOSE({LOUPE__M_DELETE, LOUPE__R_DELETE_ART_STUDY});
        return LOUPE__R_NONE;
    }
    if (g->n == 5 && seg_int(g, 3, &r->trial_id) && seg_artifact(g, 4, r))
        CHOOSE({LOUPE__M_DELETE, LOUPE__R_DELETE_ART_TRIAL});
    r->trial_id = -1;
    return LOUPE__R_NONE;
}

loupe__route_id loupe__route_match(loupe__method method, const char *path, size_t path_len,
                                   loupe__route *r) {
    memset(r, 0, sizeof *r);
    r->study_id = -1;
    r->trial_id = -1;
    if (!path || path_len == 0 || path[0] != '/' || memchr(path, '\0', path_len))
        return r->id = LOUPE__R_NONE;
    segs g;
    split(path, path_len, &g);
    if (g.overflow) return r->id = LOUPE__R_NONE;
    if (g.n == 0) CHOOSE({LOUPE__M_GET, LOUPE__R_ROOT});

    if (seg_is(&g, 0, "dashboard")) CHOOSE({LOUPE__M_GET, LOUPE__R_PAGE});
    if (seg_is(&g, 0, "api")) {
        if (g.n == 2 && seg_is(&g, 1, "meta")) CHOOSE({LOUPE__M_GET, LOUPE__R_META});
        if (g.n == 2 && seg_is(&g, 1, "events")) CHOOSE({LOUPE__M_GET, LOUPE__R_EVENTS});
        if (seg_is(&g, 1, "studies")) return match_api_studies(method, &g, r);
        if (seg_is(&g, 1, "artifacts") && g.n >= 3) return match_api_artifacts(method, &g, r);
        if (seg_is(&g, 1, "trials") && g.n == 4 && seg_int(&g, 2, &r->trial_id)) {
            if (seg_is(&g, 3, "tell")) CHOOSE({LOUPE__M_POST, LOUPE__R_TELL});
            if (seg_is(&g, 3, "user-attrs")) CHOOSE({LOUPE__M_POST, LOUPE__R_USER_ATTRS});
            r->trial_id = -1;
            return LOUPE__R_NONE;
        }
        if (seg_is(&g, 1, "compare-studies") && g.n == 4 && seg_is(&g, 2, "plot") &&
            seg_name(&g, 3, r))
            CHOOSE({LOUPE__M_GET, LOUPE__R_COMPARE_PLOT});
        if (seg_is(&g, 1, "llm") && g.n == 3) CHOOSE({LOUPE__M_POST, LOUPE__R_LLM});
        return LOUPE__R_NONE;
    }
    if (seg_is(&g, 0, "csv") && g.n == 2 && seg_int(&g, 1, &r->study_id))
        CHOOSE({LOUPE__M_GET, LOUPE__R_CSV});
    if (seg_is(&g, 0, "artifacts")) {
        if (!seg_int(&g, 1, &r->study_id)) return LOUPE__R_NONE;
        if (g.n == 3 && seg_artifact(&g, 2, r)) CHOOSE({LOUPE__M_GET, LOUPE__R_ARTIFACT_STUDY});
        if (g.n == 4 && seg_int(&g, 2, &r->trial_id) && seg_artifact(&g, 3, r))
            CHOOSE({LOUPE__M_GET, LOUPE__R_ARTIFACT_TRIAL});
        r->study_id = r->trial_id = -1;
        return LOUPE__R_NONE;
    }
    if (seg_is(&g, 0, "favicon.ico") && g.n == 1) CHOOSE({LOUPE__M_GET, LOUPE__R_FAVICON});
    if (seg_is(&g, 0, "static") && join_static(&g, 1, "", r)) CHOOSE({LOUPE__M_GET, LOUPE__R_STATIC});
    if (seg_is(&g, 0, "assets") && join_static(&g, 1, "assets/", r))
        CHOOSE({LOUPE__M_GET, LOUPE__R_STATIC});
    /* other top-level files of the web app's dist/ (icons, manifest) */
    if (g.n == 1 && join_static(&g, 0, "", r)) CHOOSE({LOUPE__M_GET, LOUPE__R_STATIC});
    return r->id = LOUPE__R_NONE;
}

const char *loupe__route_name(loupe__route_id id) {
    static const char *names[LOUPE__R_COUNT] = {
        "none", "root", "page", "static", "favicon", "meta", "studies", "study_create", "study",
        "study_delete", "study_rename", "study_note", "trial_note", "importances", "plot",
        "compare_plot", "preference", "pref_remove", "pref_restore", "pref_component", "skip",
        "tell", "user_attrs", "csv", "artifact_study", "artifact_trial", "upload_study",
        "upload_trial", "delete_artifact_study", "delete_artifact_trial", "events", "llm"};
    return (unsigned)id < LOUPE__R_COUNT ? names[id] : "?";
}

int loupe__route_is_write(loupe__route_id id) {
    switch (id) {
    case LOUPE__R_STUDY_CREATE:
    case LOUPE__R_STUDY_DELETE:
    case LOUPE__R_STUDY_RENAME:
    case LOUPE__R_STUDY_NOTE:
    case LOUPE__R_TRIAL_NOTE:
    case LOUPE__R_PREFERENCE:
    case LOUPE__R_PREF_REMOVE:
    case LOUPE__R_PREF_RESTORE:
    case LOUPE__R_PREF_COMPONENT:
    case LOUPE__R_SKIP:
    case LOUPE__R_TELL:
    case LOUPE__R_USER_ATTRS:
    case LOUPE__R_UPLOAD_STUDY:
    case LOUPE__R_UPLOAD_TRIAL:
    case LOUPE__R_DELETE_ART_STUDY:
    case LOUPE__R_DELETE_ART_TRIAL:
    case LOUPE__R_LLM: return 1;
    default: return 0;
    }
}
