/*
 * jsonw.c -- the dashboard's JSON writers for optuna-dashboard's shapes (see
 * jsonw.h). Doubles are written by util/pyjson.c, as Python's repr does.
 */
#include "server/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/pyjson.h"

/* Finite doubles only: Python's repr, from the one writer in util/pyjson.c. */
static void write_finite(loupe__buf *b, double v) { loupe__pyjson_double(b, v); }

void loupe__jw_double(loupe__buf *b, double v) {
    if (isnan(v)) loupe__buf_puts(b, "NaN");
    else if (isinf(v)) loupe__buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    else write_finite(b, v);
}

void loupe__jw_pystr_double(loupe__buf *b, double v) {
    if (isnan(v)) loupe__buf_puts(b, "nan");
    else if (isinf(v)) loupe__buf_puts(b, v > 0 ? "inf" : "-inf");
    else write_finite(b, v);
}

void loupe__jw_value(loupe__buf *b, double v) {
    if (isnan(v)) loupe__buf_puts(b, "\"nan\"");
    else if (isinf(v)) loupe__buf_puts(b, v > 0 ? "\"inf\"" : "\"-inf\"");
    else write_finite(b, v);
}

void loupe__jw_string(loupe__buf *b, const char *s) {
    loupe__pyjson_string(b, s ? s : "", s ? strlen(s) : 0);
}

void loupe__jw_string_len(loupe__buf *b, const char *s, size_t len) { loupe__pyjson_string(b, s, len); }

void loupe__jw_isoformat(loupe__buf *b, int64_t us) {
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    loupe__buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac) loupe__buf_printf(b, ".%06lld", (long long)frac);
}

/* Python's repr() of a str: single quotes unless the text has ' and no ". */
static void py_repr_str(loupe__buf *b, const char *s, size_t len) {
    int has_sq = memchr(s, '\'', len) != NULL, has_dq = memchr(s, '"', len) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    loupe__buf_putc(b, q);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q || c == '\\') {
            loupe__buf_putc(b, '\\');
            loupe__buf_putc(b, (char)c);
        } else if (c == '\n') loupe__buf_puts(b, "\\n");
        else if (c == '\r') loupe__buf_puts(b, "\\r");
        else if (c == '\t') loupe__buf_puts(b, "\\t");
        else if (c < 0x20 || c == 0x7F) loupe__buf_printf(b, "\\x%02x", c);
        else loupe__buf_putc(b, (char)c);
    }
    loupe__buf_putc(b, q);
}

/* A raw number (yyjson keeps integers beyond 64 bits, huge floats and the
 * NaN/Infinity tokens as text): integers verbatim, the rest as Python's float. */
static int raw_is_int(const char *raw) {
    const char *p = raw + (*raw == '-');
    if (!*p) return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

static void raw_number(loupe__buf *b, const char *raw) {
    if (raw_is_int(raw)) loupe__buf_puts(b, raw);
    else loupe__jw_pystr_double(b, strtod(raw, NULL));
}

/* repr=1: as an element inside a list/dict (strings quoted). */
static void pystr(loupe__buf *b, yyjson_val *v, int repr) {
    switch (yyjson_get_type(v)) {
    case YYJSON_TYPE_NULL: loupe__buf_puts(b, "None"); break;
    case YYJSON_TYPE_BOOL: loupe__buf_puts(b, yyjson_get_bool(v) ? "True" : "False"); break;
    case YYJSON_TYPE_NUM:
        if (yyjson_is_uint(v)) loupe__buf_printf(b, "%llu", (unsigned long long)yyjson_get_uint(v));
        else if (yyjson_is_sint(v)) loupe__buf_printf(b, "%lld", (long long)yyjson_get_sint(v));
        else loupe__jw_pystr_double(b, yyjson_get_real(v));
        break;
    case YYJSON_TYPE_RAW: raw_number(b, yyjson_get_raw(v)); break;
    case YYJSON_TYPE_STR:
        if (repr) py_repr_str(b, yyjson_get_str(v), yyjson_get_len(v));
        else loupe__buf_append(b, yyjson_get_str(v), yyjson_get_len(v));
        break;
    case YYJSON_TYPE_ARR: {
        loupe__buf_putc(b, '[');
        size_t idx, max;
        yyjson_val *item;
        yyjson_arr_foreach(v, idx, max, item) {
            if (idx) loupe__buf_puts(b, ", ");
            pystr(b, item, 1);
        }
        loupe__buf_putc(b, ']');
        break;
    }
    case YYJSON_TYPE_OBJ: {
        loupe__buf_putc(b, '{');
        size_t idx, max;
        yyjson_val *k, *item;
        yyjson_obj_foreach(v, idx, max, k, item) {
            if (idx) loupe__buf_puts(b, ", ");
            py_repr_str(b, yyjson_get_str(k), yyjson_get_len(k));
            loupe__buf_puts(b, ": ");
            pystr(b, item, 1);
        }
        loupe__buf_putc(b, '}');
        break;
    }
    default: loupe__buf_puts(b, "None"); break;
    }
}

void loupe__jw_pystr_json(loupe__buf *b, yyjson_val *v) { pystr(b, v, 0); }

static yyjson_doc *parse(const char *json) {
    if (!json) return NULL;
    return yyjson_read_opts((char *)json, strlen(json), LOUPE__JSON_READ_FLAGS, NULL, NULL);
}

#define MAX_ATTR_LENGTH 1024

void loupe__jw_attr_value(loupe__buf *b, const char *json) {
    yyjson_doc *doc = parse(json);
    yyjson_val *v = doc ? yyjson_doc_get_root(doc) : NULL;
    loupe__buf tmp;
    loupe__buf_init(&tmp, 0);
    if (!v) {
        /* not JSON (a foreign writer): show the text itself */
        loupe__buf_puts(&tmp, json ? json : "");
    } else if (yyjson_is_str(v)) {
        loupe__pyjson_string(b, yyjson_get_str(v), yyjson_get_len(v));
        goto done;
    } else if (yyjson_is_num(v) || yyjson_is_bool(v) || yyjson_is_raw(v)) {
        pystr(&tmp, v, 0);
    } else {
        loupe__pyjson_value(&tmp, v);
        if (!tmp.failed && tmp.len > MAX_ATTR_LENGTH) {
            tmp.len = MAX_ATTR_LENGTH; /* json.dumps output is ASCII: bytes = characters */
            tmp.data[tmp.len] = '\0';
        }
    }
    if (tmp.failed) b->failed = 1;
    else loupe__pyjson_string(b, tmp.data ? tmp.data : "", tmp.len);
done:
    loupe__buf_free(&tmp);
    yyjson_doc_free(doc);
}

void loupe__jw_attrs(loupe__buf *b, const loupe_attr *attrs, size_t n) {
    loupe__buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) loupe__buf_puts(b, ", ");
        loupe__buf_puts(b, "{\"key\": ");
        loupe__jw_string(b, attrs[i].key);
        loupe__buf_puts(b, ", \"value\": ");
        loupe__jw_attr_value(b, attrs[i].json);
        loupe__buf_putc(b, '}');
    }
    loupe__buf_putc(b, ']');
}

static const char *json_pytype(yyjson_val *v) {
    switch (yyjson_get_type(v)) {
    case YYJSON_TYPE_NULL: return "<class 'NoneType'>";
    case YYJSON_TYPE_BOOL: return "<class 'bool'>";
    case YYJSON_TYPE_NUM: return yyjson_is_real(v) ? "<class 'float'>" : "<class 'int'>";
    case YYJSON_TYPE_RAW: return raw_is_int(yyjson_get_raw(v)) ? "<class 'int'>" : "<class 'float'>";
    case YYJSON_TYPE_STR: return "<class 'str'>";
    case YYJSON_TYPE_ARR: return "<class 'list'>";
    case YYJSON_TYPE_OBJ: return "<class 'dict'>";
    default: return "<class 'NoneType'>";
    }
}

/* pytype and str() of a categorical choice given as JSON text. */
static void choice_pair(loupe__buf *b, const char *choice_json, const char *type_key,
                        const char *value_key, int value_first) {
    yyjson_doc *doc = parse(choice_json);
    yyjson_val *v = doc ? yyjson_doc_get_root(doc) : NULL;
    loupe__buf tmp;
    loupe__buf_init(&tmp, 0);
    if (v) pystr(&tmp, v, 0);
    else loupe__buf_puts(&tmp, choice_json ? choice_json : "");
    const char *pytype = v ? json_pytype(v) : "<class 'str'>";
    if (!value_first) {
        loupe__buf_printf(b, "\"%s\": ", type_key);
        loupe__jw_string(b, pytype);
        loupe__buf_puts(b, ", ");
    }
    loupe__buf_printf(b, "\"%s\": ", value_key);
    if (tmp.failed) b->failed = 1;
    else loupe__pyjson_string(b, tmp.data ? tmp.data : "", tmp.len);
    if (value_first) {
        loupe__buf_printf(b, ", \"%s\": ", type_key);
        loupe__jw_string(b, pytype);
    }
    loupe__buf_free(&tmp);
    yyjson_doc_free(doc);
}

void loupe__jw_distribution(loupe__buf *b, const loupe_distribution *d) {
    switch (d->kind) {
    case LOUPE_DIST_FLOAT:
        loupe__buf_puts(b, "{\"type\": \"FloatDistribution\", \"low\": ");
        loupe__jw_double(b, d->low);
        loupe__buf_puts(b, ", \"high\": ");
        loupe__jw_double(b, d->high);
        loupe__buf_puts(b, ", \"step\": ");
        if (d->step > 0) loupe__jw_double(b, d->step);
        else loupe__buf_puts(b, "null");
        loupe__buf_printf(b, ", \"log\": %s}", d->log ? "true" : "false");
        break;
    case LOUPE_DIST_INT:
        loupe__buf_printf(b,
                          "{\"type\": \"IntDistribution\", \"low\": %lld, \"high\": %lld, "
                          "\"step\": %lld, \"log\": %s}",
                          (long long)d->low, (long long)d->high, (long long)d->step,
                          d->log ? "true" : "false");
        break;
    case LOUPE_DIST_CATEGORICAL:
    default:
        loupe__buf_puts(b, "{\"type\": \"CategoricalDistribution\", \"choices\": [");
        for (size_t i = 0; i < d->n_choices; i++) {
            if (i) loupe__buf_puts(b, ", ");
            loupe__buf_putc(b, '{');
            choice_pair(b, d->choices[i], "pytype", "value", 0);
            loupe__buf_putc(b, '}');
        }
        loupe__buf_puts(b, "]}");
        break;
    }
}

const char *loupe__jw_state_name(loupe_trial_state s) {
    switch (s) {
    case LOUPE_RUNNING: return "Running";
    case LOUPE_COMPLETE: return "Complete";
    case LOUPE_PRUNED: return "Pruned";
    case LOUPE_FAIL: return "Fail";
    case LOUPE_WAITING: return "Waiting";
    default: return "Running";
    }
}

static void write_param(loupe__buf *b, const loupe_param *p) {
    const loupe_distribution *d = &p->dist;
    loupe__buf_puts(b, "{\"name\": ");
    loupe__jw_string(b, p->name);
    loupe__buf_puts(b, ", \"param_internal_value\": ");
    if (d->kind == LOUPE_DIST_CATEGORICAL) {
        /* Optuna's to_internal_repr of a choice is its int index */
        loupe__buf_printf(b, "%lld", (long long)p->internal);
        size_t idx = p->internal >= 0 ? (size_t)p->internal : 0;
        loupe__buf_puts(b, ", ");
        choice_pair(b, idx < d->n_choices ? d->choices[idx] : "null", "param_external_pytyp",
                    "param_external_value", 1);
    } else {
        loupe__jw_double(b, p->internal);
    }
    if (d->kind == LOUPE_DIST_INT) {
        loupe__buf_printf(b, ", \"param_external_value\": \"%lld\", \"param_external_pytyp\": \"<class 'int'>\"",
                          (long long)p->internal);
    } else if (d->kind == LOUPE_DIST_FLOAT) {
        loupe__buf_puts(b, ", \"param_external_value\": \"");
        loupe__jw_pystr_double(b, p->internal);
        loupe__buf_puts(b, "\", \"param_external_pytyp\": \"<class 'float'>\"");
    }
    loupe__buf_puts(b, ", \"distribution\": ");
    loupe__jw_distribution(b, d);
    loupe__buf_putc(b, '}');
}

int loupe__jw_artifact_meta(loupe__buf *b, const char *value_json) {
    yyjson_doc *outer = parse(value_json), *inner = NULL;
    yyjson_val *v = outer ? yyjson_doc_get_root(outer) : NULL;
    int ok = 0;
    if (v && yyjson_is_str(v)) {
        inner = yyjson_read_opts((char *)yyjson_get_str(v), yyjson_get_len(v),
                                 LOUPE__JSON_READ_FLAGS, NULL, NULL);
        v = inner ? yyjson_doc_get_root(inner) : NULL;
    }
    if (v && yyjson_is_obj(v)) {
        loupe__pyjson_value(b, v);
        ok = 1;
    }
    yyjson_doc_free(inner);
    yyjson_doc_free(outer);
    return ok;
}

void loupe__jw_trial(loupe__buf *b, int64_t study_id, const loupe_frozen_trial *t,
                     const char *note_json, const char *legacy_artifacts) {
    loupe__buf_printf(b, "{\"trial_id\": %lld, \"study_id\": %lld, \"number\": %lld, \"state\": \"%s\", \"params\": [",
                      (long long)t->trial_id, (long long)study_id, (long long)t->number,
                      loupe__jw_state_name(t->state));
    for (size_t i = 0; i < t->n_params; i++) {
        if (i) loupe__buf_puts(b, ", ");
        write_param(b, &t->params[i]);
    }
    loupe__buf_puts(b, "], \"fixed_params\": [");
    const char *fixed = loupe_frozen_trial_system_attr(t, "fixed_params");
    if (fixed) {
        yyjson_doc *doc = parse(fixed);
        yyjson_val *o = doc ? yyjson_doc_get_root(doc) : NULL;
        if (o && yyjson_is_obj(o)) {
            size_t idx, max;
            yyjson_val *k, *v;
            yyjson_obj_foreach(o, idx, max, k, v) {
                if (idx) loupe__buf_puts(b, ", ");
                loupe__buf_puts(b, "{\"name\": ");
                loupe__pyjson_string(b, yyjson_get_str(k), yyjson_get_len(k));
                loupe__buf_puts(b, ", \"param_external_value\": ");
                loupe__buf tmp;
                loupe__buf_init(&tmp, 0);
                pystr(&tmp, v, 0);
                if (tmp.failed) b->failed = 1;
                else loupe__pyjson_string(b, tmp.data ? tmp.data : "", tmp.len);
                loupe__buf_free(&tmp);
                loupe__buf_putc(b, '}');
            }
        }
        yyjson_doc_free(doc);
    }
    loupe__buf_puts(b, "], \"user_attrs\": ");
    loupe__jw_attrs(b, t->user_attrs, t->n_user_attrs);
    loupe__buf_puts(b, ", \"note\": ");
    loupe__buf_puts(b, note_json ? note_json : "{\"version\": 0, \"body\": \"\"}");
    loupe__buf_puts(b, ", \"artifacts\": [");
    int first = 1;
    if (legacy_artifacts && *legacy_artifacts) {
        loupe__buf_puts(b, legacy_artifacts);
        first = 0;
    }
    for (size_t i = 0; i < t->n_system_attrs; i++) {
        if (strncmp(t->system_attrs[i].key, "artifacts:", 10) != 0) continue;
        size_t mark = b->len;
        if (!first) loupe__buf_puts(b, ", ");
        if (loupe__jw_artifact_meta(b, t->system_attrs[i].json)) first = 0;
        else if (!b->failed) {
            b->len = mark; /* null (deleted) or foreign: skipped */
            b->data[mark] = '\0';
        }
    }
    loupe__buf_puts(b, "], \"constraints\": ");
    const char *cons = loupe_frozen_trial_system_attr(t, "constraints");
    yyjson_doc *cdoc = cons ? parse(cons) : NULL;
    if (cdoc) loupe__pyjson_value(b, yyjson_doc_get_root(cdoc));
    else loupe__buf_puts(b, "[]");
    yyjson_doc_free(cdoc);
    loupe__buf_puts(b, ", \"intermediate_values\": [");
    for (size_t i = 0; i < t->n_intermediate; i++) {
        if (i) loupe__buf_puts(b, ", ");
        loupe__buf_printf(b, "{\"step\": %lld, \"value\": ", (long long)t->intermediate[i].step);
        loupe__jw_value(b, t->intermediate[i].value);
        loupe__buf_putc(b, '}');
    }
    loupe__buf_putc(b, ']');
    if (t->values && t->n_values) {
        loupe__buf_puts(b, ", \"values\": [");
        for (size_t i = 0; i < t->n_values; i++) {
            if (i) loupe__buf_puts(b, ", ");
            loupe__jw_value(b, t->values[i]);
        }
        loupe__buf_putc(b, ']');
    }
    if (t->datetime_start_us >= 0) {
        loupe__buf_puts(b, ", \"datetime_start\": \"");
        loupe__jw_isoformat(b, t->datetime_start_us);
        loupe__buf_putc(b, '"');
    }
    if (t->datetime_complete_us >= 0) {
        loupe__buf_puts(b, ", \"datetime_complete\": \"");
        loupe__jw_isoformat(b, t->datetime_complete_us);
        loupe__buf_putc(b, '"');
    }
    loupe__buf_putc(b, '}');
}
