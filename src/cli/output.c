/*
 * output.c -- the records of the `loupe` command and their table, json and value
 * formats, as optuna/cli.py prints them (yaml is in output_yaml.c). The Python
 * behaviour reproduced here: str()/repr() of None, bool, int, float, str, list,
 * tuple and dict; json.dumps with its default separators; the record → row
 * conversion of _convert_to_dict (nested or --flatten); the ASCII table of
 * _dump_table; and the final str.strip().
 */
#include "output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/pyjson.h"
#include "util/timeutil.h"

/* ---------------------------------------------------------------- values */

static cli_value *v_new(cli_vkind kind) {
    cli_value *v = cli_xmalloc(sizeof *v);
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return v;
}

cli_value *cli_v_none(void) { return v_new(CLI_V_NONE); }

cli_value *cli_v_bool(int b) {
    cli_value *v = v_new(CLI_V_BOOL);
    v->b = b != 0;
    return v;
}

cli_value *cli_v_int(int64_t i) {
    cli_value *v = v_new(CLI_V_INT);
    v->i = i;
    return v;
}

static cli_value *v_bigint(const char *text) {
    cli_value *v = v_new(CLI_V_BIGINT);
    v->s = cli_xstrdup(text);
    v->len = strlen(text);
    return v;
}

cli_value *cli_v_float(double f) {
    cli_value *v = v_new(CLI_V_FLOAT);
    v->f = f;
    return v;
}

cli_value *cli_v_strn(const char *s, size_t len) {
    cli_value *v = v_new(CLI_V_STR);
    v->s = cli_xmalloc(len + 1);
    memcpy(v->s, s, len);
    v->s[len] = '\0';
    v->len = len;
    return v;
}

cli_value *cli_v_str(const char *s) { return cli_v_strn(s, strlen(s)); }

cli_value *cli_v_list(void) { return v_new(CLI_V_LIST); }
cli_value *cli_v_tuple(void) { return v_new(CLI_V_TUPLE); }
cli_value *cli_v_dict(void) { return v_new(CLI_V_DICT); }

static void v_grow(cli_value *v) {
    if (v->n < v->cap) return;
    v->cap = v->cap ? v->cap * 2 : 4;
    v->items = cli_xrealloc(v->items, v->cap * sizeof *v->items);
    if (v->kind == CLI_V_DICT) v->keys = cli_xrealloc(v->keys, v->cap * sizeof *v->keys);
}

void cli_v_push(cli_value *seq, cli_value *item) {
    v_grow(seq);
    seq->items[seq->n++] = item;
}

void cli_v_set(cli_value *dict, const char *key, cli_value *item) {
    for (size_t i = 0; i < dict->n; i++) {
        if (strcmp(dict->keys[i], key) == 0) {
            cli_value_free(dict->items[i]);
            dict->items[i] = item;
            return;
        }
    }
    v_grow(dict);
    dict->keys[dict->n] = cli_xstrdup(key);
    dict->items[dict->n++] = item;
}

cli_value *cli_v_get(const cli_value *dict, const char *key) {
    if (!dict || dict->kind != CLI_V_DICT) return NULL;
    for (size_t i = 0; i < dict->n; i++)
        if (strcmp(dict->keys[i], key) == 0) return dict->items[i];
    return NULL;
}

void cli_value_free(cli_value *v) {
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        cli_value_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->s);
    free(v);
}

cli_value *cli_value_copy(const cli_value *v) {
    cli_value *c = v_new(v->kind);
    c->b = v->b;
    c->i = v->i;
    c->f = v->f;
    if (v->s) {
        c->s = cli_xmalloc(v->len + 1);
        memcpy(c->s, v->s, v->len + 1);
        c->len = v->len;
    }
    for (size_t i = 0; i < v->n; i++) {
        if (v->kind == CLI_V_DICT)
            cli_v_set(c, v->keys[i], cli_value_copy(v->items[i]));
        else
            cli_v_push(c, cli_value_copy(v->items[i]));
    }
    return c;
}

int cli_v_is_numeric(const cli_value *v) {
    return v->kind == CLI_V_BOOL || v->kind == CLI_V_INT || v->kind == CLI_V_BIGINT ||
           v->kind == CLI_V_FLOAT;
}

/* A number yyjson kept as raw text: an integer too big for 64 bits stays an
 * exact int, as in Python; anything else (a fraction, an exponent, NaN,
 * Infinity) is a float. */
static cli_value *from_raw_number(const char *raw) {
    const char *p = raw + (raw[0] == '-');
    if (*p && strspn(p, "0123456789") == strlen(p)) return v_bigint(raw);
    return cli_v_float(strtod(raw, NULL));
}

static cli_value *from_yyjson(yyjson_val *val) {
    switch (yyjson_get_type(val)) {
    case YYJSON_TYPE_NULL:
        return cli_v_none();
    case YYJSON_TYPE_BOOL:
        return cli_v_bool(yyjson_get_bool(val));
    case YYJSON_TYPE_RAW:
        return from_raw_number(yyjson_get_raw(val));
    case YYJSON_TYPE_NUM:
        if (yyjson_is_real(val)) return cli_v_float(yyjson_get_real(val));
        if (yyjson_is_sint(val)) return cli_v_int(yyjson_get_sint(val));
        {
            uint64_t u = yyjson_get_uint(val);
            if (u <= (uint64_t)INT64_MAX) return cli_v_int((int64_t)u);
            char text[32];
            snprintf(text, sizeof text, "%llu", (unsigned long long)u);
            return v_bigint(text);
        }
    case YYJSON_TYPE_STR:
        return cli_v_strn(yyjson_get_str(val), yyjson_get_len(val));
    case YYJSON_TYPE_ARR: {
        cli_value *list = cli_v_list();
        size_t idx, max;
        yyjson_val *item;
        yyjson_arr_foreach(val, idx, max, item) cli_v_push(list, from_yyjson(item));
        return list;
    }
    case YYJSON_TYPE_OBJ: {
        cli_value *dict = cli_v_dict();
        size_t idx, max;
        yyjson_val *key, *item;
        /* json.loads keeps the last of duplicated keys at the first one's place. */
        yyjson_obj_foreach(val, idx, max, key, item) cli_v_set(dict, yyjson_get_str(key), from_yyjson(item));
        return dict;
    }
    default:
        return cli_v_none();
    }
}

cli_value *cli_value_from_json(const char *json, char *err, size_t errcap) {
    yyjson_doc *doc = loupe__pyjson_parse(json, strlen(json), err, errcap);
    if (!doc) return NULL;
    cli_value *v = from_yyjson(yyjson_doc_get_root(doc));
    yyjson_doc_free(doc);
    return v;
}

cli_value *cli_v_datetime(int64_t us) {
    if (us < 0) return cli_v_none();
    char text[32];
    loupe__format_datetime(us, text);
    text[19] = '\0'; /* Optuna's CLI prints "%Y-%m-%d %H:%M:%S", without microseconds */
    return cli_v_str(text);
}

cli_value *cli_v_duration(int64_t us) {
    /* timedelta normalizes to days (any sign), then 0 <= seconds < 86400 and
     * 0 <= microseconds < 10**6. */
    const int64_t day = INT64_C(86400000000);
    int64_t days = us / day;
    int64_t rem = us % day;
    if (rem < 0) {
        rem += day;
        days--;
    }
    int64_t secs = rem / 1000000, micros = rem % 1000000;
    loupe__buf b = {0};
    if (days) loupe__buf_printf(&b, "%lld day%s, ", (long long)days, (days == 1 || days == -1) ? "" : "s");
    loupe__buf_printf(&b, "%d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (micros) loupe__buf_printf(&b, ".%06d", (int)micros);
    cli_value *v = cli_v_str(b.data ? b.data : "");
    loupe__buf_free(&b);
    return v;
}

cli_value *cli_v_from_stored_json(const char *json) {
    char err[128];
    cli_value *v = cli_value_from_json(json, err, sizeof err);
    return v ? v : cli_v_str(json);
}

cli_value *cli_v_attrs(const loupe_attr *attrs, size_t n) {
    cli_value *d = cli_v_dict();
    for (size_t i = 0; i < n; i++) cli_v_set(d, attrs[i].key, cli_v_from_stored_json(attrs[i].json));
    return d;
}

cli_value *cli_v_param(const loupe_param *param) {
    char small[128];
    char *text = small;
    size_t cap = sizeof small;
    int len = loupe_param_value_json(param, text, cap);
    while (len < 0 && cap < ((size_t)1 << 30)) {
        cap *= 4;
        if (text != small) free(text);
        text = cli_xmalloc(cap);
        len = loupe_param_value_json(param, text, cap);
    }
    char err[128];
    cli_value *v = len >= 0 ? cli_value_from_json(text, err, sizeof err) : NULL;
    if (!v) v = param->dist.kind == LOUPE_DIST_INT ? cli_v_int((int64_t)param->internal) : cli_v_float(param->internal);
    if (text != small) free(text);
    return v;
}

/* ---------------------------------------------------------------- UTF-8 */

size_t cli_utf8_len(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    return count;
}

uint32_t *cli_utf8_decode(const char *s, size_t len, size_t *n) {
    uint32_t *out = cli_xmalloc((len + 1) * sizeof *out);
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0, i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t need;
        uint32_t cp, min;
        if (c < 0x80) {
            out[k++] = c;
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            out[k++] = 0xFFFD;
            i++;
            continue;
        }
        size_t j = 1;
        while (j <= need && i + j < len && (p[i + j] & 0xC0) == 0x80) {
            cp = (cp << 6) | (p[i + j] & 0x3Fu);
            j++;
        }
        if (j != need + 1 || cp < min || cp > 0x10FFFF) {
            out[k++] = 0xFFFD;
            i++;
            continue;
        }
        out[k++] = cp;
        i += need + 1;
    }
    *n = k;
    return out;
}

static void put_utf8(loupe__buf *b, uint32_t cp) {
    char tmp[4];
    if (cp < 0x80) {
        loupe__buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | (cp >> 6));
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        loupe__buf_append(b, tmp, 2);
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12));
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        loupe__buf_append(b, tmp, 3);
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18));
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        loupe__buf_append(b, tmp, 4);
    }
}

/* ---------------------------------------------------------------- Python repr / str */

void cli_float_repr(loupe__buf *b, double f) {
    if (isnan(f)) {
        loupe__buf_puts(b, "nan");
    } else if (isinf(f)) {
        loupe__buf_puts(b, f > 0 ? "inf" : "-inf");
    } else {
        loupe__pyjson_double(b, f); /* finite floats: json.dumps writes repr() */
    }
}

/* str.isprintable() for a non-ASCII code point. Python says "not printable" for
 * the Unicode categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs (but the space); this
 * covers the assigned ones of those that occur in text (unassigned code points
 * count as printable here). */
static int py_isprintable(uint32_t c) {
    if (c < 0xA1) return c >= 0x20 && c < 0x7F; /* C0, DEL, C1 controls, NBSP */
    if (c == 0xAD) return 0; /* soft hyphen */
    if (c >= 0x600 && c <= 0x605) return 0;
    if (c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x890 || c == 0x891 || c == 0x8E2) return 0;
    if (c == 0x1680 || c == 0x180E) return 0;
    if (c >= 0x2000 && c <= 0x200F) return 0;
    if (c >= 0x2028 && c <= 0x202F) return 0;
    if (c >= 0x205F && c <= 0x2064) return 0;
    if (c >= 0x2066 && c <= 0x206F) return 0;
    if (c == 0x3000) return 0;
    if (c >= 0xD800 && c <= 0xF8FF) return 0; /* surrogates, private use */
    if (c == 0xFEFF) return 0;
    if (c >= 0xFFF0 && c <= 0xFFFB) return 0;
    if (c == 0xFFFE || c == 0xFFFF) return 0;
    if (c == 0x110BD || c == 0x110CD) return 0;
    if (c >= 0x13430 && c <= 0x1343F) return 0;
    if (c >= 0x1BCA0 && c <= 0x1BCA3) return 0;
    if (c >= 0x1D173 && c <= 0x1D17A) return 0;
    if (c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F)) return 0;
    if (c >= 0xF0000) return 0; /* planes 15-16: private use */
    if ((c & 0xFFFE) == 0xFFFE) return 0; /* noncharacters */
    return 1;
}

static void repr_str(loupe__buf *b, const char *s, size_t len) {
    size_t n;
    int has_single = memchr(s, '\'', len) != NULL, has_double = memchr(s, '"', len) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    uint32_t *cps = cli_utf8_decode(s, len, &n);
    loupe__buf_putc(b, quote);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        if (c == (uint32_t)quote || c == '\\') {
            loupe__buf_putc(b, '\\');
            loupe__buf_putc(b, (char)c);
        } else if (c == '\t') {
            loupe__buf_puts(b, "\\t");
        } else if (c == '\n') {
            loupe__buf_puts(b, "\\n");
        } else if (c == '\r') {
            loupe__buf_puts(b, "\\r");
        } else if (c < 0x20 || c == 0x7F) {
            loupe__buf_printf(b, "\\x%02x", c);
        } else if (c < 0x7F || py_isprintable(c)) {
            put_utf8(b, c);
        } else if (c <= 0xFF) {
            loupe__buf_printf(b, "\\x%02x", c);
        } else if (c <= 0xFFFF) {
            loupe__buf_printf(b, "\\u%04x", c);
        } else {
            loupe__buf_printf(b, "\\U%08x", c);
        }
    }
    loupe__buf_putc(b, quote);
    free(cps);
}

void cli_v_repr(loupe__buf *b, const cli_value *v) {
    switch (v->kind) {
    case CLI_V_NONE:
        loupe__buf_puts(b, "None");
        break;
    case CLI_V_BOOL:
        loupe__buf_puts(b, v->b ? "True" : "False");
        break;
    case CLI_V_INT:
        loupe__buf_printf(b, "%lld", (long long)v->i);
        break;
    case CLI_V_BIGINT:
        loupe__buf_puts(b, v->s);
        break;
    case CLI_V_FLOAT:
        cli_float_repr(b, v->f);
        break;
    case CLI_V_STR:
        repr_str(b, v->s, v->len);
        break;
    case CLI_V_LIST:
    case CLI_V_TUPLE:
        loupe__buf_putc(b, v->kind == CLI_V_LIST ? '[' : '(');
        for (size_t i = 0; i < v->n; i++) {
            if (i) loupe__buf_puts(b, ", ");
            cli_v_repr(b, v->items[i]);
        }
        if (v->kind == CLI_V_TUPLE && v->n == 1) loupe__buf_putc(b, ',');
        loupe__buf_putc(b, v->kind == CLI_V_LIST ? ']' : ')');
        break;
    case CLI_V_DICT:
        loupe__buf_putc(b, '{');
        for (size_t i = 0; i < v->n; i++) {
            if (i) loupe__buf_puts(b, ", ");
            repr_str(b, v->keys[i], strlen(v->keys[i]));
            loupe__buf_puts(b, ": ");
            cli_v_repr(b, v->items[i]);
        }
        loupe__buf_putc(b, '}');
        break;
    }
}

void cli_v_pystr(loupe__buf *b, const cli_value *v) {
    if (v->kind == CLI_V_STR)
        loupe__buf_append(b, v->s, v->len);
    else
        cli_v_repr(b, v);
}

void cli_v_json(loupe__buf *b, const cli_value *v) {
    switch (v->kind) {
    case CLI_V_NONE:
        loupe__buf_puts(b, "null");
        break;
    case CLI_V_BOOL:
        loupe__buf_puts(b, v->b ? "true" : "false");
        break;
    case CLI_V_INT:
        loupe__buf_printf(b, "%lld", (long long)v->i);
        break;
    case CLI_V_BIGINT:
        loupe__buf_puts(b, v->s);
        break;
    case CLI_V_FLOAT:
        loupe__pyjson_double(b, v->f);
        break;
    case CLI_V_STR:
        loupe__pyjson_string(b, v->s, v->len);
        break;
    case CLI_V_LIST:
    case CLI_V_TUPLE:
        loupe__buf_putc(b, '[');
        for (size_t i = 0; i < v->n; i++) {
            if (i) loupe__buf_puts(b, ", ");
            cli_v_json(b, v->items[i]);
        }
        loupe__buf_putc(b, ']');
        break;
    case CLI_V_DICT:
        loupe__buf_putc(b, '{');
        for (size_t i = 0; i < v->n; i++) {
            if (i) loupe__buf_puts(b, ", ");
            loupe__pyjson_string(b, v->keys[i], strlen(v->keys[i]));
            loupe__buf_puts(b, ": ");
            cli_v_json(b, v->items[i]);
        }
        loupe__buf_putc(b, '}');
        break;
    }
}

/* ---------------------------------------------------------------- tables of records */

void cli_table_init(cli_table *t) { memset(t, 0, sizeof *t); }

void cli_table_free(cli_table *t) {
    for (size_t r = 0; r < t->n_records; r++) {
        for (size_t c = 0; c < t->n_columns; c++) cli_value_free(t->cells[r][c]);
        free(t->cells[r]);
    }
    free(t->cells);
    for (size_t c = 0; c < t->n_columns; c++) {
        free(t->columns[c].name);
        free(t->columns[c].sub);
    }
    free(t->columns);
    memset(t, 0, sizeof *t);
}

size_t cli_table_add_column(cli_table *t, const char *name, cli_sub_kind kind, const char *sub,
                            size_t index) {
    t->columns = cli_xrealloc(t->columns, (t->n_columns + 1) * sizeof *t->columns);
    cli_column *c = &t->columns[t->n_columns];
    c->name = cli_xstrdup(name);
    c->sub_kind = kind;
    c->sub = kind == CLI_SUB_STR ? cli_xstrdup(sub) : NULL;
    c->index = kind == CLI_SUB_INDEX ? index : 0;
    return t->n_columns++;
}

size_t cli_table_add_record(cli_table *t) {
    if (t->n_records == t->cap_records) {
        t->cap_records = t->cap_records ? t->cap_records * 2 : 16;
        t->cells = cli_xrealloc(t->cells, t->cap_records * sizeof *t->cells);
    }
    cli_value **row = cli_xmalloc((t->n_columns ? t->n_columns : 1) * sizeof *row);
    for (size_t c = 0; c < t->n_columns; c++) row[c] = NULL;
    t->cells[t->n_records] = row;
    return t->n_records++;
}

void cli_table_set(cli_table *t, size_t record, size_t column, cli_value *v) {
    cli_value_free(t->cells[record][column]);
    t->cells[record][column] = v;
}

/* "name_sub" / "name_3" header of a nested column in --flatten mode. */
static char *flat_name(const cli_column *c) {
    loupe__buf b = {0};
    if (c->sub_kind == CLI_SUB_STR)
        loupe__buf_printf(&b, "%s_%s", c->name, c->sub);
    else
        loupe__buf_printf(&b, "%s_%zu", c->name, c->index);
    char *s = loupe__buf_steal(&b);
    if (!s) s = cli_xstrdup("");
    return s;
}

/* A nested column (params_x, values_0); a key "" counts as plain, as in Optuna. */
static int is_nested(const cli_column *c) {
    return c->sub_kind == CLI_SUB_INDEX || (c->sub_kind == CLI_SUB_STR && c->sub[0] != '\0');
}

static int is_seq(const cli_value *v) { return v && (v->kind == CLI_V_LIST || v->kind == CLI_V_TUPLE); }

typedef struct str_list {
    size_t n, cap;
    char **items;
} str_list;

static void str_list_push(str_list *l, char *s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = cli_xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->n++] = s;
}

static int str_list_has(const str_list *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0) return 1;
    return 0;
}

static void str_list_free(str_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
}

/* _convert_to_dict: one dict per picked record, and the header names. */
static cli_value *convert_to_dict(const cli_table *t, const size_t *rows, size_t n_rows, int flatten,
                                  str_list *header) {
    cli_value *out = cli_v_list();
    if (flatten) {
        /* Plain columns holding a list in any record are spread over name_0.. */
        size_t *spread = cli_xmalloc((t->n_columns + 1) * sizeof *spread);
        for (size_t c = 0; c < t->n_columns; c++) {
            const cli_column *col = &t->columns[c];
            spread[c] = 0;
            if (is_nested(col)) {
                str_list_push(header, flat_name(col));
                continue;
            }
            int any_seq = 0;
            size_t max_len = 0;
            for (size_t r = 0; r < n_rows; r++) {
                const cli_value *v = t->cells[rows[r]][c];
                if (is_seq(v)) {
                    any_seq = 1;
                    if (v->n > max_len) max_len = v->n;
                }
            }
            if (any_seq) {
                spread[c] = 1;
                for (size_t i = 0; i < max_len; i++) {
                    loupe__buf b = {0};
                    loupe__buf_printf(&b, "%s_%zu", col->name, i);
                    char *s = loupe__buf_steal(&b);
                    str_list_push(header, s ? s : cli_xstrdup(""));
                }
            } else {
                str_list_push(header, cli_xstrdup(col->name));
            }
        }
        for (size_t r = 0; r < n_rows; r++) {
            cli_value *row = cli_v_dict();
            for (size_t c = 0; c < t->n_columns; c++) {
                const cli_column *col = &t->columns[c];
                const cli_value *v = t->cells[rows[r]][c];
                if (!v) continue;
                if (is_nested(col)) {
                    char *key = flat_name(col);
                    cli_v_set(row, key, cli_value_copy(v));
                    free(key);
                } else if (spread[c]) {
                    for (size_t i = 0; is_seq(v) && i < v->n; i++) {
                        loupe__buf b = {0};
                        loupe__buf_printf(&b, "%s_%zu", col->name, i);
                        cli_v_set(row, b.data ? b.data : "", cli_value_copy(v->items[i]));
                        loupe__buf_free(&b);
                    }
                } else {
                    cli_v_set(row, col->name, cli_value_copy(v));
                }
            }
            cli_v_push(out, row);
        }
        free(spread);
        return out;
    }
    for (size_t c = 0; c < t->n_columns; c++)
        if (!str_list_has(header, t->columns[c].name)) str_list_push(header, cli_xstrdup(t->columns[c].name));
    for (size_t r = 0; r < n_rows; r++) {
        cli_value *row = cli_v_dict();
        for (size_t h = 0; h < header->n; h++) cli_v_set(row, header->items[h], cli_v_dict());
        for (size_t c = 0; c < t->n_columns; c++) {
            const cli_column *col = &t->columns[c];
            const cli_value *v = t->cells[rows[r]][c];
            if (!v) continue;
            cli_value *slot = cli_v_get(row, col->name);
            if (col->sub_kind == CLI_SUB_INDEX) {
                /* Objective values are rebuilt into a list by index. */
                if (slot->kind == CLI_V_DICT && slot->n == 0) {
                    slot = cli_v_list();
                    cli_v_set(row, col->name, slot);
                }
                if (slot->kind != CLI_V_LIST) continue;
                while (slot->n < col->index + 1) cli_v_push(slot, cli_v_none());
                cli_value_free(slot->items[col->index]);
                slot->items[col->index] = cli_value_copy(v);
            } else if (col->sub_kind == CLI_SUB_STR) {
                if (slot->kind == CLI_V_DICT) cli_v_set(slot, col->sub, cli_value_copy(v));
            } else {
                cli_v_set(row, col->name, cli_value_copy(v));
            }
        }
        cli_v_push(out, row);
    }
    return out;
}

/* The text of a cell as str() prints it (in *text, caller frees with
 * loupe__buf_free) and its width in code points. */
static size_t cell_text(const cli_value *v, loupe__buf *text) {
    memset(text, 0, sizeof *text);
    if (v)
        cli_v_pystr(text, v);
    else
        loupe__buf_puts(text, "None");
    return text->data ? cli_utf8_len(text->data, text->len) : 0;
}

static void pad(loupe__buf *b, size_t n) {
    for (size_t i = 0; i < n; i++) loupe__buf_putc(b, ' ');
}

static void dump_table(const cli_value *rows, const str_list *header, loupe__buf *out) {
    loupe__buf sep = {0}, head = {0};
    loupe__buf *lines = cli_xmalloc((rows->n + 1) * sizeof *lines);
    for (size_t r = 0; r < rows->n; r++) {
        memset(&lines[r], 0, sizeof lines[r]);
        loupe__buf_putc(&lines[r], '|');
    }
    loupe__buf_putc(&sep, '+');
    loupe__buf_putc(&head, '|');
    for (size_t c = 0; c < header->n; c++) {
        const char *name = header->items[c];
        size_t width = cli_utf8_len(name, strlen(name));
        int numeric = 1;
        for (size_t r = 0; r < rows->n; r++) {
            const cli_value *v = cli_v_get(rows->items[r], name);
            loupe__buf text;
            size_t w = cell_text(v, &text);
            loupe__buf_free(&text);
            if (w > width) width = w;
            if (v && v->kind != CLI_V_NONE && !cli_v_is_numeric(v)) numeric = 0;
        }
        for (size_t i = 0; i < width + 2; i++) loupe__buf_putc(&sep, '-');
        loupe__buf_putc(&sep, '+');
        size_t hw = cli_utf8_len(name, strlen(name));
        loupe__buf_putc(&head, ' ');
        if (numeric) pad(&head, width - hw);
        loupe__buf_puts(&head, name);
        if (!numeric) pad(&head, width - hw);
        loupe__buf_puts(&head, " |");
        for (size_t r = 0; r < rows->n; r++) {
            const cli_value *v = cli_v_get(rows->items[r], name);
            loupe__buf text;
            size_t w = cell_text(v, &text);
            loupe__buf_putc(&lines[r], ' ');
            if (!v || v->kind == CLI_V_NONE) {
                pad(&lines[r], width);
            } else if (numeric) {
                pad(&lines[r], width - w);
                loupe__buf_append(&lines[r], text.data, text.len);
            } else {
                loupe__buf_append(&lines[r], text.data, text.len);
                pad(&lines[r], width - w);
            }
            loupe__buf_puts(&lines[r], " |");
            loupe__buf_free(&text);
        }
    }
    loupe__buf_printf(out, "%s\n%s\n%s\n", sep.data, head.data, sep.data);
    for (size_t r = 0; r < rows->n; r++) {
        loupe__buf_append(out, lines[r].data, lines[r].len);
        loupe__buf_putc(out, '\n');
        loupe__buf_free(&lines[r]);
    }
    loupe__buf_printf(out, "%s\n", sep.data);
    free(lines);
    loupe__buf_free(&sep);
    loupe__buf_free(&head);
}

/* -f value: each row's cells separated by spaces; None and absent print as "". */
static void dump_value(const cli_value *rows, const str_list *header, loupe__buf *out) {
    for (size_t r = 0; r < rows->n; r++) {
        if (r) loupe__buf_putc(out, '\n');
        for (size_t c = 0; c < header->n; c++) {
            if (c) loupe__buf_putc(out, ' ');
            const cli_value *v = cli_v_get(rows->items[r], header->items[c]);
            if (v && v->kind != CLI_V_NONE) cli_v_pystr(out, v);
        }
    }
}

/* Python's str.isspace() for the code points str.strip() removes. */
static int py_isspace(uint32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
           c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Appends text with leading and trailing whitespace removed, as str.strip(). */
static void append_stripped(loupe__buf *out, const char *text, size_t len) {
    size_t n;
    uint32_t *cps = cli_utf8_decode(text, len, &n);
    size_t lo = 0, hi = n;
    while (lo < hi && py_isspace(cps[lo])) lo++;
    while (hi > lo && py_isspace(cps[hi - 1])) hi--;
    for (size_t i = lo; i < hi; i++) put_utf8(out, cps[i]);
    free(cps);
}

void cli_print_records(const cli_ctx *ctx, const cli_table *t, const size_t *rows, size_t n_rows, int single) {
    loupe__buf out = {0};
    cli_format_output(t, rows, n_rows, single, ctx->format ? ctx->format : "table", ctx->flatten, &out);
    if (out.data) fwrite(out.data, 1, out.len, stdout);
    fputc('\n', stdout);
    loupe__buf_free(&out);
}

void cli_format_output(const cli_table *t, const size_t *rows, size_t n_rows, int single,
                       const char *format, int flatten, loupe__buf *out) {
    size_t *all = NULL;
    if (!rows) {
        all = cli_xmalloc((t->n_records + 1) * sizeof *all);
        for (size_t r = 0; r < t->n_records; r++) all[r] = r;
        rows = all;
        n_rows = t->n_records;
    }
    str_list header = {0};
    cli_value *records = convert_to_dict(t, rows, n_rows, flatten, &header);
    const cli_value *doc = single && records->n > 0 ? records->items[0] : records;
    loupe__buf text = {0};
    if (strcmp(format, "table") == 0)
        dump_table(records, &header, &text);
    else if (strcmp(format, "value") == 0)
        dump_value(records, &header, &text);
    else if (strcmp(format, "yaml") == 0)
        cli_v_yaml(&text, doc);
    else
        cli_v_json(&text, doc);
    if (text.data) append_stripped(out, text.data, text.len);
    loupe__buf_free(&text);
    cli_value_free(records);
    str_list_free(&header);
    free(all);
}
