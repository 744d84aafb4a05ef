/*
 * study_copy.c -- loupe_study_copy: a new study with the source's directions,
 * trials (recreated from snapshots, in number order), user attrs and system
 * attrs. System attr keys that embed a trial_id are remapped to the copy's
 * trial ids, notes are re-chunked with their artifact links rewritten, and
 * artifact metadata is copied as is (the copy shares the blobs). The system
 * attrs are written in one transaction; on any error the partial copy is
 * deleted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/add_trial.h"
#include "core/errors.h"
#include "hitl/hitl.h"
#include "util/buf.h"
#include "util/uuid.h"

typedef struct id_pair {
    int64_t old_id, new_id;
} id_pair;

typedef struct id_map {
    id_pair *items;
    size_t len;
} id_map;

static int cmp_pair(const void *a, const void *b) {
    const id_pair *x = a, *y = b;
    return x->old_id < y->old_id ? -1 : x->old_id > y->old_id;
}

static int map_get(const id_map *m, int64_t old_id, int64_t *new_id) {
    size_t lo = 0, hi = m->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->items[mid].old_id == old_id) {
            *new_id = m->items[mid].new_id;
            return 1;
        }
        if (m->items[mid].old_id < old_id) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* ---------------------------------------------------------------- key classes */

enum { K_OTHER, K_NOTE_VER, K_NOTE_STR, K_LEGACY_ARTIFACT, K_SKIP_TRIAL };

typedef struct key_info {
    int kind;
    int64_t tid;      /* -1 for the study note; the trial id embedded otherwise */
    const char *rest; /* K_NOTE_STR: the chunk suffix; K_LEGACY_ARTIFACT: the artifact part */
    long note_slot;   /* notes: index of the decoded note re-emitted whole, or -1 */
} key_info;

/* Parses decimal digits at *s into *v; advances *s. 0 if there are none. */
static int parse_id(const char **s, int64_t *v) {
    const char *p = *s;
    int64_t x = 0;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') {
        if (x > (INT64_MAX - 9) / 10) return 0;
        x = x * 10 + (*p - '0');
        p++;
    }
    *s = p;
    *v = x;
    return 1;
}

static key_info classify(const char *key) {
    key_info k = {K_OTHER, -1, NULL, -1};
    const char *p;
    int64_t id;
    if (strcmp(key, "dashboard:note_ver") == 0) {
        k.kind = K_NOTE_VER;
    } else if (strncmp(key, "dashboard:note_str:", 19) == 0) {
        k.kind = K_NOTE_STR;
        k.rest = key + 19;
    } else if (strncmp(key, "dashboard:artifacts:", 20) == 0) {
        p = key + 20;
        if (parse_id(&p, &id) && *p == ':') {
            k.kind = K_LEGACY_ARTIFACT;
            k.tid = id;
            k.rest = p; /* ":<artifact_id>" */
        }
    } else if (strncmp(key, "preference:skip_trial:", 22) == 0) {
        p = key + 22;
        if (parse_id(&p, &id) && *p == '\0') {
            k.kind = K_SKIP_TRIAL;
            k.tid = id;
        }
    } else if (strncmp(key, "dashboard:", 10) == 0) {
        p = key + 10;
        if (parse_id(&p, &id)) {
            if (strcmp(p, ":note_ver") == 0) {
                k.kind = K_NOTE_VER;
                k.tid = id;
            } else if (strncmp(p, ":note_str:", 10) == 0) {
                k.kind = K_NOTE_STR;
                k.tid = id;
                k.rest = p + 10;
            }
        }
    }
    return k;
}

/* ---------------------------------------------------------------- link rewriting */

static int is_id_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
}

/* A UUID of exactly 36 characters at s, not followed by another id character. */
static int uuid_at(const char *s) {
    char tmp[37];
    size_t n = strnlen(s, 36);
    if (n < 36) return 0;
    memcpy(tmp, s, 36);
    tmp[36] = '\0';
    return loupe__is_uuid(tmp) && !is_id_char(s[36]);
}

/* Rewrites "/artifacts/<src>/<uuid>" and "/artifacts/<src>/<old tid>/<uuid>"
 * to the copy's ids. Returns a malloc'd string or NULL (out of memory). */
static char *rewrite_links(const char *body, int64_t src_sid, int64_t dst_sid, const id_map *map) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_append(&b, "", 0);
    const char *p = body;
    for (;;) {
        const char *hit = strstr(p, "/artifacts/");
        if (!hit) break;
        const char *q = hit + 11;
        int64_t sid, tid, new_tid;
        loupe__buf_append(&b, p, (size_t)(hit - p));
        p = hit + 11;
        loupe__buf_puts(&b, "/artifacts/");
        if (!parse_id(&q, &sid) || sid != src_sid || *q != '/') continue;
        q++;
        if (uuid_at(q)) {
            loupe__buf_printf(&b, "%" PRId64 "/", dst_sid);
            p = q;
            continue;
        }
        const char *t = q;
        if (parse_id(&t, &tid) && *t == '/' && uuid_at(t + 1) && map_get(map, tid, &new_tid)) {
            loupe__buf_printf(&b, "%" PRId64 "/%" PRId64 "/", dst_sid, new_tid);
            p = t + 1;
        }
    }
    loupe__buf_puts(&b, p);
    return loupe__buf_steal(&b);
}

/* ---------------------------------------------------------------- notes */

typedef struct note_ref {
    int64_t tid;
    size_t attr; /* index into the source attrs */
} note_ref;

static int cmp_note_ref(const void *a, const void *b) {
    const note_ref *x = a, *y = b;
    if (x->tid != y->tid) return x->tid < y->tid ? -1 : 1;
    return x->attr < y->attr ? -1 : x->attr > y->attr;
}

/* A note decoded from the source, re-emitted whole for the copy. */
typedef struct decoded_note {
    int64_t version;
    char *body;
} decoded_note;

typedef struct note_set {
    decoded_note *items;
    size_t len;
} note_set;

static void note_set_free(note_set *ns) {
    for (size_t i = 0; i < ns->len; i++) free(ns->items[i].body);
    free(ns->items);
    memset(ns, 0, sizeof *ns);
}

/*
 * Decodes every note (the study note and the notes of copied trials) from the
 * source attrs, grouping keys by trial id first so the work is O(n log n).
 * info[i].note_slot is set for every key of a note that decoded; a damaged
 * note keeps note_slot -1 and is copied key by key instead.
 */
static int prepare_notes(const loupe_attr *sa, size_t ns, key_info *info, const id_map *map,
                         note_set *notes) {
    note_ref *refs = malloc((ns ? ns : 1) * sizeof *refs);
    loupe_attr *group = malloc((ns ? ns : 1) * sizeof *group);
    notes->items = malloc((ns ? ns : 1) * sizeof *notes->items);
    if (!refs || !group || !notes->items) {
        free(refs);
        free(group);
        return LOUPE_ENOMEM;
    }
    size_t nr = 0;
    int64_t dummy;
    for (size_t i = 0; i < ns; i++) {
        if (info[i].kind != K_NOTE_VER && info[i].kind != K_NOTE_STR) continue;
        if (info[i].tid >= 0 && !map_get(map, info[i].tid, &dummy)) continue;
        refs[nr].tid = info[i].tid;
        refs[nr].attr = i;
        nr++;
    }
    qsort(refs, nr, sizeof *refs, cmp_note_ref);
    int rc = LOUPE_OK;
    for (size_t s = 0; s < nr && rc == LOUPE_OK;) {
        size_t e = s;
        while (e < nr && refs[e].tid == refs[s].tid) e++;
        for (size_t k = s; k < e; k++) group[k - s] = sa[refs[k].attr];
        int found;
        int64_t ver;
        char *body = NULL, err[128];
        int r = loupe__note_from_attrs(group, e - s, refs[s].tid, &found, &ver, &body, err,
                                       sizeof err);
        if (r == LOUPE_ENOMEM) {
            rc = r;
        } else if (r == LOUPE_OK && found) {
            notes->items[notes->len].version = ver;
            notes->items[notes->len].body = body;
            body = NULL;
            for (size_t k = s; k < e; k++) info[refs[k].attr].note_slot = (long)notes->len;
            notes->len++;
        }
        free(body);
        s = e;
    }
    free(refs);
    free(group);
    return rc;
}

/* ---------------------------------------------------------------- the copy */

static int copy_system_attrs(loupe_study *src, loupe_study *dst, const id_map *map) {
    const loupe_attr *sa;
    size_t ns;
    int rc = loupe_study_system_attrs(src, &sa, &ns);
    if (rc) return rc;
    key_info *info = calloc(ns ? ns : 1, sizeof *info);
    loupe__attr_vec out = {0};
    note_set notes = {0};
    if (!info) return loupe__hitl_error(dst, LOUPE_ENOMEM, "out of memory");
    for (size_t i = 0; i < ns; i++) info[i] = classify(sa[i].key);
    rc = prepare_notes(sa, ns, info, map, &notes);
    int64_t src_sid = loupe_study_id(src), dst_sid = loupe_study_id(dst);
    char key[640];
    for (size_t i = 0; i < ns && rc == LOUPE_OK; i++) {
        const key_info *k = &info[i];
        int64_t nt = -1;
        int mapped = k->tid >= 0 && map_get(map, k->tid, &nt);
        switch (k->kind) {
        case K_NOTE_VER:
            if (k->note_slot >= 0) {
                const decoded_note *dn = &notes.items[k->note_slot];
                char *body = rewrite_links(dn->body, src_sid, dst_sid, map);
                rc = body ? loupe__note_attrs(&out, mapped ? nt : -1, dn->version, body, 0)
                          : LOUPE_ENOMEM;
                free(body);
                continue;
            }
            if (mapped) snprintf(key, sizeof key, "dashboard:%" PRId64 ":note_ver", nt);
            break;
        case K_NOTE_STR:
            if (k->note_slot >= 0) continue; /* emitted with its version key */
            if (mapped) snprintf(key, sizeof key, "dashboard:%" PRId64 ":note_str:%s", nt, k->rest);
            break;
        case K_LEGACY_ARTIFACT:
            if (mapped) snprintf(key, sizeof key, "dashboard:artifacts:%" PRId64 "%s", nt, k->rest);
            break;
        case K_SKIP_TRIAL:
            if (mapped) snprintf(key, sizeof key, "preference:skip_trial:%" PRId64, nt);
            break;
        default: break;
        }
        rc = loupe__attr_vec_push(&out, mapped ? key : sa[i].key, sa[i].json);
    }
    free(info);
    note_set_free(&notes);
    if (rc == LOUPE_OK) rc = loupe_study_set_system_attrs(dst, out.len, out.items);
    else rc = loupe__hitl_error(dst, rc, "out of memory");
    loupe__attr_vec_free(&out);
    return rc;
}

int loupe_study_copy(loupe_storage *storage, const char *src_name, const char *dst_name,
                     loupe_study **out) {
    if (out) *out = NULL;
    if (!storage) return LOUPE_EINVAL;
    loupe__error_clear(storage);
    if (!src_name || !dst_name)
        return loupe__error(storage, LOUPE_EINVAL,
                            "study name is NULL: pass the source and the new study's names");
    loupe_study *src = NULL, *dst = NULL;
    loupe_trial_list *trials = NULL;
    loupe_direction *dirs = NULL;
    id_map map = {0};
    int rc = loupe_study_load(storage, src_name, &src);
    if (rc) goto cleanup;
    size_t nd = loupe_study_n_objectives(src);
    dirs = malloc((nd ? nd : 1) * sizeof *dirs);
    if (!dirs) {
        rc = loupe__error(storage, LOUPE_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < nd; i++) dirs[i] = loupe_study_direction(src, i);
    rc = loupe_study_create(storage, dst_name, nd, dirs, LOUPE_CREATE_DEFAULT, &dst);
    if (rc) goto cleanup; /* e.g. LOUPE_EEXISTS: nothing of ours to remove */

    rc = loupe_study_get_trials(src, 0, &trials);
    if (rc) goto fail;
    size_t nt = loupe_trial_list_count(trials);
    map.items = malloc((nt ? nt : 1) * sizeof *map.items);
    if (!map.items) {
        rc = loupe__error(storage, LOUPE_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nt; i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(trials, i);
        int64_t new_id;
        rc = loupe__study_add_trial(dst, t, &new_id, NULL);
        if (rc) goto fail;
        map.items[map.len].old_id = t->trial_id;
        map.items[map.len].new_id = new_id;
        map.len++;
    }
    qsort(map.items, map.len, sizeof *map.items, cmp_pair);

    const loupe_attr *ua;
    size_t nu;
    rc = loupe_study_user_attrs(src, &ua, &nu);
    if (rc) goto fail;
    rc = loupe_study_set_user_attrs(dst, nu, ua);
    if (rc) goto fail;
    rc = copy_system_attrs(src, dst, &map);
    if (rc) goto fail;
    if (out) {
        *out = dst;
        dst = NULL;
    }
    rc = LOUPE_OK;
    goto cleanup;
fail: {
    /* Remove the partial copy, keeping the message of the first failure. */
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", loupe_storage_errmsg(storage));
    loupe_study_close(dst);
    dst = NULL;
    loupe_storage_delete_study(storage, dst_name);
    loupe__error(storage, rc, "copying study '%s' to '%s' failed (the partial copy was deleted): %s",
                 src_name, dst_name, saved);
}
cleanup:
    loupe_trial_list_free(trials);
    loupe_study_close(dst);
    loupe_study_close(src);
    free(dirs);
    free(map.items);
    return rc;
}
