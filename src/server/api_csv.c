/*
 * api_csv.c -- GET /csv/:study_id[?trial_ids=1,2]: the trial table as CSV,
 * byte for byte what optuna-dashboard's csv.writer produces (CRLF line ends,
 * minimal quoting, Python str() of every cell), with the header defects fixed:
 * "charset=utf-8" (upstream: "chatset=cp932") and a file name that cannot
 * inject headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"
#include "server/jsonw.h"
#include "util/pyjson.h"

/* One CSV cell with excel-dialect minimal quoting. */
static void cell(loupe__buf *b, const char *s, size_t len, int first) {
    if (!first) loupe__buf_putc(b, ',');
    int quote = 0;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        loupe__buf_append(b, s, len);
        return;
    }
    loupe__buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') loupe__buf_putc(b, '"');
        loupe__buf_putc(b, s[i]);
    }
    loupe__buf_putc(b, '"');
}

static void cell_str(loupe__buf *b, const char *s, int first) { cell(b, s, strlen(s), first); }

/* Python str() of a stored JSON value (as csv.writer writes non-strings). */
static void pystr_json(loupe__buf *out, const char *json) {
    yyjson_doc *d = json ? loupe__pyjson_parse(json, strlen(json), NULL, 0) : NULL;
    if (d) loupe__jw_pystr_json(out, yyjson_doc_get_root(d));
    else if (json) loupe__buf_puts(out, json);
    yyjson_doc_free(d);
}

static void param_str(loupe__buf *out, const loupe_param *p) {
    switch (p->dist.kind) {
    case LOUPE_DIST_INT: loupe__buf_printf(out, "%lld", (long long)p->internal); break;
    case LOUPE_DIST_FLOAT: loupe__jw_pystr_double(out, p->internal); break;
    default: {
        size_t idx = p->internal >= 0 ? (size_t)p->internal : 0;
        pystr_json(out, idx < p->dist.n_choices ? p->dist.choices[idx] : "null");
    }
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds s to the set (a small sorted-later array of borrowed strings). */
static int set_add(const char ***set, size_t *n, size_t *alloc, const char *s) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*set)[i], s) == 0) return 0;
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 16;
        const char **p = realloc(*set, na * sizeof *p);
        if (!p) return -1;
        *set = p;
        *alloc = na;
    }
    (*set)[(*n)++] = s;
    return 0;
}

/* Parses "1, 2,3" into numbers; -1 on a bad list. */
static int parse_ids(const char *s, int64_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    int64_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return -1;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        char *end;
        if (!(*p >= '0' && *p <= '9') && *p != '-' && *p != '+') goto bad;
        long long v = strtoll(p, &end, 10);
        if (end == p) goto bad;
        p = end;
        while (*p == ' ' || *p == '\t') p++;
        ids[(*n)++] = v;
        if (*p == '\0') break;
        if (*p != ',') goto bad;
        p++;
    }
    *out = ids;
    return 0;
bad:
    free(ids);
    *n = 0;
    return -1;
}

/* Content-Disposition: upstream's name (\/:*?"<>| removed, spaces -> '-'),
 * restricted to safe ASCII; other names also get an RFC 5987 filename*. */
static void disposition(loupe__resp *resp, const char *name) {
    loupe__buf plain, enc;
    loupe__buf_init(&plain, 0);
    loupe__buf_init(&enc, 0);
    int ascii = 1;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (strchr("\\/:*?\"<>|", *p)) continue;
        unsigned char c = *p == ' ' ? '-' : *p;
        int safe = c > 0x20 && c < 0x7f && c != ';' && c != ',' && c != '%' && c != '\'';
        if (safe) loupe__buf_putc(&plain, (char)c);
        else ascii = 0;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("-._~", c))
            loupe__buf_putc(&enc, (char)c);
        else loupe__buf_printf(&enc, "%%%02X", c);
    }
    loupe__buf_puts(&plain, "");
    char hdr[1024];
    if (ascii)
        snprintf(hdr, sizeof hdr, "attachment; filename=%s.csv", plain.data ? plain.data : "study");
    else
        snprintf(hdr, sizeof hdr, "attachment; filename=%s.csv; filename*=UTF-8''%s.csv",
                 plain.len ? plain.data : "study", enc.data ? enc.data : "study");
    loupe__resp_header(resp, "Content-Disposition", hdr);
    loupe__buf_free(&plain);
    loupe__buf_free(&enc);
}

void loupe__api_csv(loupe__req *req, loupe__resp *resp) {
    int64_t *ids = NULL;
    size_t n_ids = 0;
    const char *q = loupe__req_query(req, "trial_ids");
    if (q && *q && parse_ids(q, &ids, &n_ids)) {
        loupe__resp_error(resp, 400, "Invalid trial_ids format. Expected comma-separated integers");
        return;
    }
    loupe__snap *snap = loupe__views_study(req->srv->views, req->route.study_id, 0);
    const loupe_frozen_trial **sel = NULL;
    const char **params = NULL, **attrs = NULL;
    size_t nsel = 0, np = 0, na = 0, ap = 0, aa = 0;
    loupe__buf tmp;
    loupe__buf_init(&tmp, 0);
    if (!snap) {
        loupe__resp_error(resp, 404, "study_id=%lld is not found", (long long)req->route.study_id);
        goto cleanup;
    }
    size_t n = loupe_trial_list_count(snap->list);
    sel = malloc((n ? n : 1) * sizeof *sel);
    if (!sel) goto oom;
    for (size_t i = 0; i < n; i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(snap->list, i);
        int keep = !q || !*q;
        for (size_t k = 0; k < n_ids && !keep; k++) keep = ids[k] == t->number;
        if (!keep) continue;
        sel[nsel++] = t;
        for (size_t p = 0; p < t->n_params; p++)
            if (set_add(&params, &np, &ap, t->params[p].name)) goto oom;
        for (size_t a = 0; a < t->n_user_attrs; a++)
            if (set_add(&attrs, &na, &aa, t->user_attrs[a].key)) goto oom;
    }
    if (q && *q && nsel == 0) {
        loupe__resp_error(resp, 404, "all specified trial_ids is not found");
        goto cleanup;
    }
    if (np) qsort(params, np, sizeof *params, cmp_str);
    if (na) qsort(attrs, na, sizeof *attrs, cmp_str);
    loupe__buf *b = &resp->body;
    cell_str(b, "Number", 1);
    cell_str(b, "State", 0);
    size_t nobj = snap->n_directions;
    if (snap->metric_names) {
        for (size_t i = 0; i < snap->n_metric_names; i++) cell_str(b, snap->metric_names[i], 0);
    } else if (nobj == 1) {
        cell_str(b, "Value", 0);
    } else {
        for (size_t i = 0; i < nobj; i++) {
            loupe__buf_reset(&tmp);
            loupe__buf_printf(&tmp, "Objective %zu", i);
            cell(b, tmp.data, tmp.len, 0);
        }
    }
    for (size_t i = 0; i < np; i++) {
        loupe__buf_reset(&tmp);
        loupe__buf_printf(&tmp, "Param %s", params[i]);
        cell(b, tmp.data, tmp.len, 0);
    }
    for (size_t i = 0; i < na; i++) {
        loupe__buf_reset(&tmp);
        loupe__buf_printf(&tmp, "UserAttribute %s", attrs[i]);
        cell(b, tmp.data, tmp.len, 0);
    }
    loupe__buf_puts(b, "\r\n");
    for (size_t r = 0; r < nsel; r++) {
        const loupe_frozen_trial *t = sel[r];
        loupe__buf_printf(b, "%lld", (long long)t->number);
        cell_str(b, loupe_trial_state_name(t->state), 0);
        if (t->values && t->n_values) {
            for (size_t i = 0; i < t->n_values; i++) {
                loupe__buf_reset(&tmp);
                loupe__jw_pystr_double(&tmp, t->values[i]);
                cell(b, tmp.data, tmp.len, 0);
            }
        } else {
            for (size_t i = 0; i < nobj; i++) cell(b, "", 0, 0);
        }
        for (size_t i = 0; i < np; i++) {
            const loupe_param *p = loupe_frozen_trial_param(t, params[i]);
            loupe__buf_reset(&tmp);
            if (p) param_str(&tmp, p);
            cell(b, tmp.data ? tmp.data : "", tmp.len, 0);
        }
        for (size_t i = 0; i < na; i++) {
            const char *v = loupe_frozen_trial_user_attr(t, attrs[i]);
            loupe__buf_reset(&tmp);
            if (v) pystr_json(&tmp, v);
            cell(b, tmp.data ? tmp.data : "", tmp.len, 0);
        }
        loupe__buf_puts(b, "\r\n");
    }
    if (b->failed || tmp.failed) goto oom;
    resp->kind = LOUPE__RESP_BUF;
    resp->ctype = "text/csv; charset=utf-8";
    resp->status = 200;
    disposition(resp, snap->name);
    goto cleanup;
oom:
    loupe__resp_error(resp, 500, "out of memory");
cleanup:
    loupe__buf_free(&tmp);
    free(params);
    free(attrs);
    free(sel);
    free(ids);
    loupe__snap_release(snap);
}
