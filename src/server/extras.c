/*
 * extras.c -- decodes a study's system attrs the way optuna-dashboard reads
 * them (notes, artifacts, Plotly figures, form widgets, metric names,
 * preferences) into pre-rendered JSON fragments (see extras.h). One pass over
 * the attrs plus a sort, so a study with a note on each of 100,000 trials
 * costs milliseconds, not one scan per trial.
 */
#include "server/extras.h"

#include <stdlib.h>
#include <string.h>

#include "server/jsonw.h"
#include "util/buf.h"
#include "util/pyjson.h"

typedef struct piece {
    int64_t tid; /* -1: the study's own note */
    int kind;    /* 0 version, 1 chunk */
    int64_t idx;
    const char *json;
} piece;

typedef struct plot_piece {
    const char *id;
    size_t id_len;
    size_t order; /* first appearance of the id */
    int64_t idx;
    const char *json;
} plot_piece;

typedef struct legacy_piece {
    int64_t tid;
    size_t order;
    const char *json;
} legacy_piece;

static yyjson_doc *parse(const char *json) {
    if (!json) return NULL;
    return yyjson_read_opts((char *)json, strlen(json), LOUPE__JSON_READ_FLAGS, NULL, NULL);
}

/* Parses "<digits>" exactly (1..18 digits) from s[0..len). */
static int parse_uint(const char *s, size_t len, int64_t *out) {
    if (len == 0 || len > 18) return 0;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Appends the stored value re-encoded as json.dumps would. */
static void put_value(loupe__buf *b, const char *json) {
    yyjson_doc *d = parse(json);
    if (d) loupe__pyjson_value(b, yyjson_doc_get_root(d));
    else loupe__buf_puts(b, "null");
    yyjson_doc_free(d);
}

static char *value_text(const char *json) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    put_value(&b, json);
    return loupe__buf_steal(&b);
}

static int cmp_piece(const void *a, const void *b) {
    const piece *x = a, *y = b;
    if (x->tid != y->tid) return x->tid < y->tid ? -1 : 1;
    if (x->kind != y->kind) return x->kind - y->kind;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_plot(const void *a, const void *b) {
    const plot_piece *x = a, *y = b;
    if (x->order != y->order) return x->order < y->order ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_legacy(const void *a, const void *b) {
    const legacy_piece *x = a, *y = b;
    if (x->tid != y->tid) return x->tid < y->tid ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Appends the decoded string value of a chunk (non-strings ignored). */
static void append_chunk(loupe__buf *b, const char *json) {
    yyjson_doc *d = parse(json);
    yyjson_val *v = d ? yyjson_doc_get_root(d) : NULL;
    if (v && yyjson_is_str(v)) loupe__buf_append(b, yyjson_get_str(v), yyjson_get_len(v));
    yyjson_doc_free(d);
}

static int64_t json_int(const char *json) {
    yyjson_doc *d = parse(json);
    yyjson_val *v = d ? yyjson_doc_get_root(d) : NULL;
    int64_t r = 0;
    if (v && yyjson_is_int(v)) r = yyjson_get_sint(v);
    else if (v && yyjson_is_real(v)) r = (int64_t)yyjson_get_real(v);
    yyjson_doc_free(d);
    return r;
}

/* Renders the note of one tid from pieces[from..to) (sorted); NULL if no version key. */
static char *render_note(const piece *p, size_t from, size_t to) {
    const char *ver = NULL;
    size_t n_chunks = 0;
    for (size_t i = from; i < to; i++) {
        if (p[i].kind == 0) ver = p[i].json;
        else n_chunks++;
    }
    if (!ver) return NULL;
    loupe__buf body, out;
    loupe__buf_init(&body, 0);
    loupe__buf_init(&out, 0);
    /* upstream concatenates indices 0..count-1; missing ones are skipped */
    for (size_t i = from; i < to; i++)
        if (p[i].kind == 1 && p[i].idx >= 0 && (size_t)p[i].idx < n_chunks) append_chunk(&body, p[i].json);
    loupe__buf_printf(&out, "{\"version\": %lld, \"body\": ", (long long)json_int(ver));
    loupe__jw_string_len(&out, body.data ? body.data : "", body.len);
    loupe__buf_putc(&out, '}');
    if (body.failed) out.failed = 1;
    loupe__buf_free(&body);
    return loupe__buf_steal(&out);
}

static int truthy(const char *json) {
    yyjson_doc *d = parse(json);
    yyjson_val *v = d ? yyjson_doc_get_root(d) : NULL;
    int t = 0;
    if (v) {
        switch (yyjson_get_type(v)) {
        case YYJSON_TYPE_BOOL: t = yyjson_get_bool(v); break;
        case YYJSON_TYPE_NUM: t = yyjson_get_num(v) != 0; break;
        case YYJSON_TYPE_STR: t = yyjson_get_len(v) > 0; break;
        case YYJSON_TYPE_ARR: t = yyjson_arr_size(v) > 0; break;
        case YYJSON_TYPE_OBJ: t = yyjson_obj_size(v) > 0; break;
        case YYJSON_TYPE_RAW: t = 1; break;
        default: t = 0;
        }
    }
    yyjson_doc_free(d);
    return t;
}

typedef struct hist {
    const char *id; /* after the prefix */
    char *ts;
    char *json; /* {"history": ..., "is_removed": ...} */
} hist;

static int cmp_hist(const void *a, const void *b) {
    const hist *x = a, *y = b;
    return strcmp(x->ts ? x->ts : "", y->ts ? y->ts : "");
}

#define PREF_VALUES "preference:values"
#define PREF_HISTORY "preference:history"
#define PREF_SKIP "preference:skip_trial:"

/* preference:values<id> is "removed" when absent or an empty list. */
static int pref_removed(const loupe_attr *attrs, size_t n, const char *id) {
    size_t plen = strlen(PREF_VALUES);
    for (size_t i = 0; i < n; i++)
        if (starts(attrs[i].key, PREF_VALUES) && strcmp(attrs[i].key + plen, id) == 0)
            return !truthy(attrs[i].json);
    return 1;
}

static int render_history(const loupe_attr *attrs, size_t n, loupe__study_extras *e) {
    hist *h = calloc(n ? n : 1, sizeof *h);
    if (!h) return LOUPE_ENOMEM;
    size_t nh = 0;
    int rc = LOUPE_OK;
    for (size_t i = 0; i < n; i++) {
        if (!starts(attrs[i].key, PREF_HISTORY)) continue;
        yyjson_doc *outer = parse(attrs[i].json), *inner = NULL;
        yyjson_val *v = outer ? yyjson_doc_get_root(outer) : NULL;
        if (v && yyjson_is_str(v)) {
            inner = yyjson_read_opts((char *)yyjson_get_str(v), yyjson_get_len(v),
                                     LOUPE__JSON_READ_FLAGS, NULL, NULL);
            v = inner ? yyjson_doc_get_root(inner) : NULL;
        }
        yyjson_val *mode = v ? yyjson_obj_get(v, "mode") : NULL;
        if (v && yyjson_is_obj(v) && mode && yyjson_equals_str(mode, "ChooseWorst")) {
            static const char *keys[] = {"mode", "id", "timestamp", "candidates", "clicked", "preferences"};
            loupe__buf b;
            loupe__buf_init(&b, 0);
            loupe__buf_puts(&b, "{\"history\": {");
            for (size_t k = 0; k < 6; k++) {
                yyjson_val *f = yyjson_obj_get(v, keys[k]);
                loupe__buf_printf(&b, "%s\"%s\": ", k ? ", " : "", keys[k]);
                if (f) loupe__pyjson_value(&b, f);
                else loupe__buf_puts(&b, "null");
            }
            yyjson_val *ts = yyjson_obj_get(v, "timestamp");
            yyjson_val *idv = yyjson_obj_get(v, "id");
            const char *idtxt = idv && yyjson_is_str(idv) ? yyjson_get_str(idv)
                                                           : attrs[i].key + strlen(PREF_HISTORY);
            loupe__buf_printf(&b, "}, \"is_removed\": %s}",
                              pref_removed(attrs, n, idtxt) ? "true" : "false");
            h[nh].ts = strdup(ts && yyjson_is_str(ts) ? yyjson_get_str(ts) : "");
            h[nh].json = loupe__buf_steal(&b);
            if (!h[nh].ts || !h[nh].json) rc = LOUPE_ENOMEM;
            nh++;
        }
        yyjson_doc_free(inner);
        yyjson_doc_free(outer);
    }
    if (!rc) {
        qsort(h, nh, sizeof *h, cmp_hist);
        loupe__buf b;
        loupe__buf_init(&b, 0);
        loupe__buf_putc(&b, '[');
        for (size_t i = 0; i < nh; i++) {
            if (i) loupe__buf_puts(&b, ", ");
            loupe__buf_puts(&b, h[i].json);
        }
        loupe__buf_putc(&b, ']');
        e->history_json = loupe__buf_steal(&b);
        if (!e->history_json) rc = LOUPE_ENOMEM;
    }
    for (size_t i = 0; i < nh; i++) {
        free(h[i].ts);
        free(h[i].json);
    }
    free(h);
    return rc;
}

/* preferences: every preference:values* list concatenated, in attr order. */
static int render_preferences(const loupe_attr *attrs, size_t n, loupe__study_extras *e) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_putc(&b, '[');
    size_t cnt = 0, alloc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!starts(attrs[i].key, PREF_VALUES)) continue;
        yyjson_doc *d = parse(attrs[i].json);
        yyjson_val *v = d ? yyjson_doc_get_root(d) : NULL;
        size_t idx, max;
        yyjson_val *pair;
        if (v && yyjson_is_arr(v)) {
            yyjson_arr_foreach(v, idx, max, pair) {
                if (cnt) loupe__buf_puts(&b, ", ");
                loupe__pyjson_value(&b, pair);
                cnt++;
                yyjson_val *x = yyjson_arr_get(pair, 0), *y = yyjson_arr_get(pair, 1);
                if (x && y && yyjson_is_int(x) && yyjson_is_int(y)) {
                    if (e->n_pairs == alloc) {
                        size_t na = alloc ? alloc * 2 : 16;
                        int64_t(*np)[2] = realloc(e->pairs, na * sizeof *np);
                        if (!np) {
                            b.failed = 1;
                            break;
                        }
                        e->pairs = np;
                        alloc = na;
                    }
                    e->pairs[e->n_pairs][0] = yyjson_get_sint(x);
                    e->pairs[e->n_pairs][1] = yyjson_get_sint(y);
                    e->n_pairs++;
                }
            }
        }
        yyjson_doc_free(d);
    }
    loupe__buf_putc(&b, ']');
    e->preferences_json = loupe__buf_steal(&b);
    return e->preferences_json ? LOUPE_OK : LOUPE_ENOMEM;
}

static int decode_metric_names(const char *json, loupe__study_extras *e) {
    yyjson_doc *d = parse(json);
    yyjson_val *v = d ? yyjson_doc_get_root(d) : NULL;
    int rc = LOUPE_OK;
    if (v && yyjson_is_arr(v)) {
        size_t n = yyjson_arr_size(v);
        e->metric_names = calloc(n ? n : 1, sizeof *e->metric_names);
        if (!e->metric_names) rc = LOUPE_ENOMEM;
        size_t idx, max;
        yyjson_val *s;
        if (!rc) {
            yyjson_arr_foreach(v, idx, max, s) {
                loupe__buf t;
                loupe__buf_init(&t, 0);
                if (yyjson_is_str(s)) loupe__buf_append(&t, yyjson_get_str(s), yyjson_get_len(s));
                else loupe__jw_pystr_json(&t, s);
                loupe__buf_puts(&t, "");
                e->metric_names[idx] = loupe__buf_steal(&t);
                if (!e->metric_names[idx]) rc = LOUPE_ENOMEM;
            }
            e->n_metric_names = n;
        }
    }
    yyjson_doc_free(d);
    return rc;
}

int loupe__extras_parse(const loupe_attr *attrs, size_t n, loupe__study_extras *e) {
    memset(e, 0, sizeof *e);
    int rc = LOUPE_OK;
    piece *notes = malloc((n ? n : 1) * sizeof *notes);
    plot_piece *plots = malloc((n ? n : 1) * sizeof *plots);
    legacy_piece *legacy = malloc((n ? n : 1) * sizeof *legacy);
    size_t nn = 0, np = 0, nl = 0;
    const char *metric = NULL, *objnames = NULL, *fw2 = NULL, *fw1 = NULL, *fw0 = NULL;
    const char *component = NULL, *pref = NULL;
    loupe__buf arts;
    loupe__buf_init(&arts, 0);
    loupe__buf_putc(&arts, '[');
    size_t n_arts = 0;
    e->skipped_ids = malloc((n ? n : 1) * sizeof *e->skipped_ids);
    if (!notes || !plots || !legacy || !e->skipped_ids) {
        rc = LOUPE_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        const char *k = attrs[i].key, *v = attrs[i].json;
        if (starts(k, "dashboard:")) {
            const char *r = k + 10;
            if (strcmp(r, "note_ver") == 0) {
                notes[nn++] = (piece){-1, 0, 0, v};
            } else if (starts(r, "note_str:")) {
                int64_t idx;
                if (parse_uint(r + 9, strlen(r + 9), &idx)) notes[nn++] = (piece){-1, 1, idx, v};
            } else if (starts(r, "artifacts:")) {
                const char *t = r + 10, *colon = strchr(t, ':');
                int64_t tid;
                if (colon && parse_uint(t, (size_t)(colon - t), &tid)) {
                    legacy[nl] = (legacy_piece){tid, nl, v};
                    nl++;
                }
            } else if (starts(r, "plot_data:")) {
                const char *id = r + 10, *colon = strrchr(id, ':');
                int64_t idx;
                if (colon && colon > id && parse_uint(colon + 1, strlen(colon + 1), &idx)) {
                    size_t idlen = (size_t)(colon - id), order = np;
                    for (size_t j = 0; j < np; j++)
                        if (plots[j].id_len == idlen && memcmp(plots[j].id, id, idlen) == 0) {
                            order = plots[j].order;
                            break;
                        }
                    plots[np++] = (plot_piece){id, idlen, order, idx, v};
                }
            } else if (strcmp(r, "form_widgets:v2") == 0) {
                fw2 = v;
            } else if (strcmp(r, "objective_form_widgets:v1") == 0) {
                fw1 = v;
            } else if (strcmp(r, "objective_form_widgets") == 0) {
                fw0 = v;
            } else if (strcmp(r, "objective_names") == 0) {
                objnames = v;
            } else if (r[0] >= '0' && r[0] <= '9') {
                const char *colon = strchr(r, ':');
                int64_t tid, idx;
                if (colon && parse_uint(r, (size_t)(colon - r), &tid)) {
                    if (strcmp(colon + 1, "note_ver") == 0) notes[nn++] = (piece){tid, 0, 0, v};
                    else if (starts(colon + 1, "note_str:") &&
                             parse_uint(colon + 10, strlen(colon + 10), &idx))
                        notes[nn++] = (piece){tid, 1, idx, v};
                }
            }
        } else if (starts(k, "artifacts:")) {
            size_t mark = arts.len;
            if (n_arts) loupe__buf_puts(&arts, ", ");
            if (loupe__jw_artifact_meta(&arts, v)) n_arts++;
            else if (!arts.failed) arts.data[arts.len = mark] = '\0';
        } else if (strcmp(k, "study:metric_names") == 0) {
            metric = v;
        } else if (strcmp(k, "preference:component") == 0) {
            component = v;
        } else if (strcmp(k, "preference:is_preferential") == 0) {
            pref = v;
        } else if (starts(k, PREF_SKIP)) {
            int64_t tid;
            if (parse_uint(k + strlen(PREF_SKIP), strlen(k + strlen(PREF_SKIP)), &tid))
                e->skipped_ids[e->n_skipped++] = tid;
        }
    }
    loupe__buf_putc(&arts, ']');
    e->artifacts_json = loupe__buf_steal(&arts);
    if (!e->artifacts_json) {
        rc = LOUPE_ENOMEM;
        goto cleanup;
    }

    /* notes */
    qsort(notes, nn, sizeof *notes, cmp_piece);
    qsort(legacy, nl, sizeof *legacy, cmp_legacy);
    size_t n_tids = 0;
    for (size_t i = 0; i < nn; i++)
        if (notes[i].tid >= 0 && (i == 0 || notes[i].tid != notes[i - 1].tid)) n_tids++;
    for (size_t i = 0; i < nl; i++)
        if (i == 0 || legacy[i].tid != legacy[i - 1].tid) n_tids++;
    e->trials = calloc(n_tids ? n_tids : 1, sizeof *e->trials);
    if (!e->trials) {
        rc = LOUPE_ENOMEM;
        goto cleanup;
    }
    size_t a = 0, b = 0;
    while (a < nn && notes[a].tid < 0) a++;
    if (a > 0) e->note_json = render_note(notes, 0, a);
    if (!e->note_json) e->note_json = strdup("{\"version\": 0, \"body\": \"\"}");
    if (!e->note_json) {
        rc = LOUPE_ENOMEM;
        goto cleanup;
    }
    /* merge the per-trial notes and legacy artifacts, both sorted by tid */
    while (a < nn || b < nl) {
        int64_t tid = a < nn && (b >= nl || notes[a].tid <= legacy[b].tid) ? notes[a].tid : legacy[b].tid;
        loupe__trial_extra *t = &e->trials[e->n_trials++];
        t->trial_id = tid;
        size_t a2 = a;
        while (a2 < nn && notes[a2].tid == tid) a2++;
        if (a2 > a) t->note_json = render_note(notes, a, a2);
        a = a2;
        loupe__buf lb;
        loupe__buf_init(&lb, 0);
        size_t cnt = 0;
        for (; b < nl && legacy[b].tid == tid; b++) {
            size_t mark = lb.len;
            if (cnt) loupe__buf_puts(&lb, ", ");
            if (loupe__jw_artifact_meta(&lb, legacy[b].json)) cnt++;
            else if (!lb.failed && lb.data) lb.data[lb.len = mark] = '\0';
        }
        if (cnt) t->legacy_artifacts = loupe__buf_steal(&lb);
        if (lb.failed) rc = LOUPE_ENOMEM;
        loupe__buf_free(&lb);
    }

    /* plotly figures: chunks 0..count-1 of each id, in first-seen order */
    qsort(plots, np, sizeof *plots, cmp_plot);
    loupe__buf pb;
    loupe__buf_init(&pb, 0);
    loupe__buf_putc(&pb, '[');
    for (size_t i = 0, first = 1; i < np;) {
        size_t j = i;
        while (j < np && plots[j].order == plots[i].order) j++;
        loupe__buf body;
        loupe__buf_init(&body, 0);
        for (size_t k = i; k < j; k++)
            if (plots[k].idx >= 0 && (size_t)plots[k].idx < j - i) append_chunk(&body, plots[k].json);
        if (!first) loupe__buf_puts(&pb, ", ");
        first = 0;
        loupe__buf_puts(&pb, "{\"id\": ");
        loupe__jw_string_len(&pb, plots[i].id, plots[i].id_len);
        loupe__buf_puts(&pb, ", \"graph_object\": ");
        loupe__jw_string_len(&pb, body.data ? body.data : "", body.len);
        loupe__buf_putc(&pb, '}');
        if (body.failed) pb.failed = 1;
        loupe__buf_free(&body);
        i = j;
    }
    loupe__buf_putc(&pb, ']');
    e->plotly_json = loupe__buf_steal(&pb);

    /* metric names: the current key, else the legacy one; only when non-empty */
    const char *names = metric ? metric : objnames;
    if (names && truthy(names)) e->objective_names_json = value_text(names);
    if (metric && (rc = decode_metric_names(metric, e))) goto cleanup;

    /* form widgets: v2 as stored; older keys wrapped as objective forms */
    if (fw2) {
        e->form_widgets_json = value_text(fw2);
    } else if (fw1 || fw0) {
        loupe__buf fb;
        loupe__buf_init(&fb, 0);
        loupe__buf_puts(&fb, "{\"output_type\": \"objective\", \"widgets\": ");
        if (fw1) {
            put_value(&fb, fw1);
        } else {
            yyjson_doc *d = parse(fw0);
            yyjson_val *s = d ? yyjson_doc_get_root(d) : NULL;
            yyjson_doc *inner = s && yyjson_is_str(s)
                                    ? yyjson_read_opts((char *)yyjson_get_str(s), yyjson_get_len(s),
                                                       LOUPE__JSON_READ_FLAGS, NULL, NULL)
                                    : NULL;
            if (inner) loupe__pyjson_value(&fb, yyjson_doc_get_root(inner));
            else loupe__buf_puts(&fb, "[]");
            yyjson_doc_free(inner);
            yyjson_doc_free(d);
        }
        loupe__buf_putc(&fb, '}');
        e->form_widgets_json = loupe__buf_steal(&fb);
    }
    e->feedback_json = component ? value_text(component) : strdup("{\"output_type\": \"note\"}");
    e->is_preferential_json = pref ? value_text(pref) : strdup("false");
    e->is_preferential = pref ? truthy(pref) : 0;
    if (!e->plotly_json || !e->feedback_json || !e->is_preferential_json) {
        rc = LOUPE_ENOMEM;
        goto cleanup;
    }
    if ((rc = render_preferences(attrs, n, e))) goto cleanup;
    rc = render_history(attrs, n, e);
cleanup:
    loupe__buf_free(&arts);
    free(notes);
    free(plots);
    free(legacy);
    return rc;
}

void loupe__extras_free(loupe__study_extras *e) {
    if (!e) return;
    free(e->note_json);
    free(e->artifacts_json);
    free(e->plotly_json);
    free(e->objective_names_json);
    free(e->form_widgets_json);
    free(e->feedback_json);
    free(e->is_preferential_json);
    free(e->preferences_json);
    free(e->history_json);
    free(e->skipped_ids);
    free(e->pairs);
    for (size_t i = 0; i < e->n_metric_names; i++) free(e->metric_names[i]);
    free(e->metric_names);
    for (size_t i = 0; i < e->n_trials; i++) {
        free(e->trials[i].note_json);
        free(e->trials[i].legacy_artifacts);
    }
    free(e->trials);
    memset(e, 0, sizeof *e);
}

const loupe__trial_extra *loupe__extras_find(const loupe__study_extras *e, int64_t trial_id) {
    size_t lo = 0, hi = e->n_trials;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->trials[mid].trial_id == trial_id) return &e->trials[mid];
        if (e->trials[mid].trial_id < trial_id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int str_differs(const char *a, const char *b) {
    if (!a || !b) return a != b;
    return strcmp(a, b) != 0;
}

int loupe__extras_trial_differs(const loupe__trial_extra *a, const loupe__trial_extra *b) {
    if (!a || !b) return a != b;
    return str_differs(a->note_json, b->note_json) ||
           str_differs(a->legacy_artifacts, b->legacy_artifacts);
}
