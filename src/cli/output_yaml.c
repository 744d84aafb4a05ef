/*
 * output_yaml.c -- yaml.safe_dump(value) for the `loupe` command's -f yaml, byte
 * for byte as PyYAML writes it with its defaults: block style, keys sorted,
 * empty collections as {} and [], indentation 2, line width 80, no
 * non-ASCII characters (allow_unicode=False: such strings are double-quoted
 * with \x/\u/\U escapes), and plain scalars only where PyYAML's resolver would
 * read the text back as the same string.
 *
 * The emitter keeps PyYAML's state (column, indent stack, "whitespace" and
 * "indention" flags) and follows its scalar analysis and writers, because the
 * quoting and line folding depend on them.
 */
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

#define BEST_INDENT 2
#define BEST_WIDTH 80

typedef struct yemit {
    loupe__buf *out;
    long column;
    long indent; /* -1: None */
    long *indents;
    size_t n_indents, cap_indents;
    int whitespace, indention;
    int flow_level;
    int simple_key_context;
    /* The implicit resolvers of PyYAML's Resolver (bool, float, int, merge,
     * null, timestamp, value): a string matching one is quoted. */
    regex_t resolvers[7];
    int n_resolvers;
} yemit;

static const char *const resolver_patterns[] = {
    "^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
    "^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9][0-9_]*([eE][-+][0-9]+)?"
    "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
    "^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
    "|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
    "^<<$",
    "^(~|null|Null|NULL|)$",
    "^([0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
    "([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\\.[0-9]*)?([ \t]*(Z|[-+][0-9][0-9]?(:[0-9][0-9])?))?)$",
    "^=$",
};

/* ---------------------------------------------------------------- low-level writers */

static void put_cp(yemit *e, uint32_t cp) {
    char tmp[4];
    size_t n;
    if (cp < 0x80) {
        tmp[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | (cp >> 6)), tmp[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12)), tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18)), tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), tmp[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    loupe__buf_append(e->out, tmp, n);
}

/* Writes text[start, end) and advances the column. */
static void write_span(yemit *e, const uint32_t *text, size_t start, size_t end) {
    for (size_t i = start; i < end; i++) put_cp(e, text[i]);
    e->column += (long)(end - start);
}

static void write_str(yemit *e, const char *s) {
    loupe__buf_puts(e->out, s);
    e->column += (long)strlen(s);
}

static void push_indent(yemit *e) {
    if (e->n_indents == e->cap_indents) {
        e->cap_indents = e->cap_indents ? e->cap_indents * 2 : 16;
        e->indents = cli_xrealloc(e->indents, e->cap_indents * sizeof *e->indents);
    }
    e->indents[e->n_indents++] = e->indent;
}

static void pop_indent(yemit *e) { e->indent = e->indents[--e->n_indents]; }

static void increase_indent(yemit *e, int flow, int indentless) {
    push_indent(e);
    if (e->indent < 0)
        e->indent = flow ? BEST_INDENT : 0;
    else if (!indentless)
        e->indent += BEST_INDENT;
}

static void write_indicator(yemit *e, const char *indicator, int need_whitespace, int whitespace,
                            int indention) {
    if (!e->whitespace && need_whitespace) write_str(e, " ");
    write_str(e, indicator);
    e->whitespace = whitespace;
    e->indention = e->indention && indention;
}

static void write_line_break(yemit *e) {
    loupe__buf_putc(e->out, '\n');
    e->whitespace = 1;
    e->indention = 1;
    e->column = 0;
}

static void write_indent(yemit *e) {
    long indent = e->indent < 0 ? 0 : e->indent;
    if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace))
        write_line_break(e);
    if (e->column < indent) {
        e->whitespace = 1;
        while (e->column < indent) write_str(e, " ");
    }
}

/* ---------------------------------------------------------------- scalar analysis */

typedef struct analysis {
    int empty, multiline;
    int allow_flow_plain, allow_block_plain, allow_single_quoted, allow_block;
} analysis;

static int is_break(uint32_t c) { return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
static int is_space_or_break0(uint32_t c) {
    return c == 0 || c == ' ' || c == '\t' || c == '\r' || is_break(c);
}

static analysis analyze_scalar(const uint32_t *s, size_t n) {
    analysis a = {0};
    if (n == 0) {
        a.empty = 1;
        a.allow_block_plain = a.allow_single_quoted = 1;
        return a;
    }
    int block_ind = 0, flow_ind = 0, line_breaks = 0, special = 0;
    int leading_space = 0, leading_break = 0, trailing_space = 0, trailing_break = 0;
    int break_space = 0, space_break = 0, previous_space = 0, previous_break = 0;
    if (n >= 3 && ((s[0] == '-' && s[1] == '-' && s[2] == '-') || (s[0] == '.' && s[1] == '.' && s[2] == '.')))
        block_ind = flow_ind = 1;
    int preceded_by_ws = 1;
    int followed_by_ws = n == 1 || is_space_or_break0(s[1]);
    for (size_t i = 0; i < n; i++) {
        uint32_t ch = s[i];
        if (i == 0) {
            if (ch < 0x80 && ch && strchr("#,[]{}&*!|>'\"%@`", (int)ch)) flow_ind = block_ind = 1;
            if (ch == '?' || ch == ':') {
                flow_ind = 1;
                if (followed_by_ws) block_ind = 1;
            }
            if (ch == '-' && followed_by_ws) flow_ind = block_ind = 1;
        } else {
            if (ch < 0x80 && ch && strchr(",?[]{}", (int)ch)) flow_ind = 1;
            if (ch == ':') {
                flow_ind = 1;
                if (followed_by_ws) block_ind = 1;
            }
            if (ch == '#' && preceded_by_ws) flow_ind = block_ind = 1;
        }
        if (is_break(ch)) line_breaks = 1;
        /* allow_unicode is off: anything but printable ASCII and \n is special. */
        if (!(ch == '\n' || (ch >= 0x20 && ch <= 0x7E))) special = 1;
        if (ch == ' ') {
            if (i == 0) leading_space = 1;
            if (i == n - 1) trailing_space = 1;
            if (previous_break) break_space = 1;
            previous_space = 1, previous_break = 0;
        } else if (is_break(ch)) {
            if (i == 0) leading_break = 1;
            if (i == n - 1) trailing_break = 1;
            if (previous_space) space_break = 1;
            previous_space = 0, previous_break = 1;
        } else {
            previous_space = previous_break = 0;
        }
        preceded_by_ws = is_space_or_break0(ch);
        followed_by_ws = i + 2 >= n || is_space_or_break0(s[i + 2]);
    }
    a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = a.allow_block = 1;
    if (leading_space || leading_break || trailing_space || trailing_break)
        a.allow_flow_plain = a.allow_block_plain = 0;
    if (trailing_space) a.allow_block = 0;
    if (break_space) a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = 0;
    if (space_break || special) a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = a.allow_block = 0;
    if (line_breaks) a.allow_flow_plain = a.allow_block_plain = 0;
    if (flow_ind) a.allow_flow_plain = 0;
    if (block_ind) a.allow_block_plain = 0;
    a.multiline = line_breaks;
    return a;
}

/* ---------------------------------------------------------------- scalar writers */

static void write_plain(yemit *e, const uint32_t *text, size_t n, int split) {
    if (n == 0) return;
    if (!e->whitespace) write_str(e, " ");
    e->whitespace = 0;
    e->indention = 0;
    int spaces = 0, breaks = 0;
    size_t start = 0;
    for (size_t end = 0; end <= n; end++) {
        int has = end < n;
        uint32_t ch = has ? text[end] : 0;
        if (spaces) {
            if (!has || ch != ' ') {
                if (start + 1 == end && e->column > BEST_WIDTH && split) {
                    write_indent(e);
                    e->whitespace = 0;
                    e->indention = 0;
                } else {
                    write_span(e, text, start, end);
                }
                start = end;
            }
        } else if (breaks) {
            if (!has || !is_break(ch)) {
                if (text[start] == '\n') write_line_break(e);
                for (size_t i = start; i < end; i++) write_line_break(e);
                write_indent(e);
                e->whitespace = 0;
                e->indention = 0;
                start = end;
            }
        } else {
            if (!has || ch == ' ' || is_break(ch)) {
                write_span(e, text, start, end);
                start = end;
            }
        }
        if (has) {
            spaces = ch == ' ';
            breaks = is_break(ch);
        }
    }
}

static void write_single_quoted(yemit *e, const uint32_t *text, size_t n, int split) {
    write_indicator(e, "'", 1, 0, 0);
    int spaces = 0, breaks = 0;
    size_t start = 0;
    for (size_t end = 0; end <= n; end++) {
        int has = end < n;
        uint32_t ch = has ? text[end] : 0;
        if (spaces) {
            if (!has || ch != ' ') {
                if (start + 1 == end && e->column > BEST_WIDTH && split && start != 0 && end != n)
                    write_indent(e);
                else
                    write_span(e, text, start, end);
                start = end;
            }
        } else if (breaks) {
            if (!has || !is_break(ch)) {
                if (text[start] == '\n') write_line_break(e);
                for (size_t i = start; i < end; i++) write_line_break(e);
                write_indent(e);
                start = end;
            }
        } else {
            if (!has || ch == ' ' || is_break(ch) || ch == '\'') {
                if (start < end) {
                    write_span(e, text, start, end);
                    start = end;
                }
            }
        }
        if (has && ch == '\'') {
            write_str(e, "''");
            start = end + 1;
        }
        if (has) {
            spaces = ch == ' ';
            breaks = is_break(ch);
        }
    }
    write_indicator(e, "'", 0, 0, 0);
}

static const char *escape_replacement(uint32_t ch) {
    switch (ch) {
    case 0: return "0";
    case 0x07: return "a";
    case 0x08: return "b";
    case 0x09: return "t";
    case 0x0A: return "n";
    case 0x0B: return "v";
    case 0x0C: return "f";
    case 0x0D: return "r";
    case 0x1B: return "e";
    case '"': return "\"";
    case '\\': return "\\";
    case 0x85: return "N";
    case 0xA0: return "_";
    case 0x2028: return "L";
    case 0x2029: return "P";
    default: return NULL;
    }
}

static void write_double_quoted(yemit *e, const uint32_t *text, size_t n, int split) {
    write_indicator(e, "\"", 1, 0, 0);
    size_t start = 0;
    for (size_t end = 0; end <= n; end++) {
        int has = end < n;
        uint32_t ch = has ? text[end] : 0;
        if (!has || ch == '"' || ch == '\\' || ch == 0x85 || ch == 0x2028 || ch == 0x2029 || ch == 0xFEFF ||
            !(ch >= 0x20 && ch <= 0x7E)) {
            if (start < end) {
                write_span(e, text, start, end);
                start = end;
            }
            if (has) {
                const char *rep = escape_replacement(ch);
                char data[16];
                if (rep)
                    snprintf(data, sizeof data, "\\%s", rep);
                else if (ch <= 0xFF)
                    snprintf(data, sizeof data, "\\x%02X", ch);
                else if (ch <= 0xFFFF)
                    snprintf(data, sizeof data, "\\u%04X", ch);
                else
                    snprintf(data, sizeof data, "\\U%08X", ch);
                write_str(e, data);
                start = end + 1;
            }
        }
        if (end > 0 && end + 1 < n && (ch == ' ' || start >= end) &&
            e->column + (long)(end - start) > BEST_WIDTH && split) {
            write_span(e, text, start, end);
            write_str(e, "\\");
            if (start < end) start = end;
            write_indent(e);
            e->whitespace = 0;
            e->indention = 0;
            if (text[start] == ' ') write_str(e, "\\");
        }
    }
    write_indicator(e, "\"", 0, 0, 0);
}

/* ---------------------------------------------------------------- nodes */

/* Whether PyYAML's resolver reads this plain text back as a string. */
static int resolves_to_str(yemit *e, const char *text) {
    for (int i = 0; i < e->n_resolvers; i++)
        if (regexec(&e->resolvers[i], text, 0, NULL, 0) == 0) return 0;
    return 1;
}

/* A scalar: its text (what the representer produced) and whether it may be
 * written plain (implicit[0] in PyYAML's terms). */
static void emit_scalar(yemit *e, const char *utf8, size_t len, int implicit_plain) {
    size_t n;
    uint32_t *text = cli_utf8_decode(utf8, len, &n);
    analysis a = analyze_scalar(text, n);
    increase_indent(e, 1, 0);
    int split = !e->simple_key_context;
    char style;
    if (implicit_plain && !(e->simple_key_context && (a.empty || a.multiline)) &&
        ((e->flow_level && a.allow_flow_plain) || (!e->flow_level && a.allow_block_plain)))
        style = 'p';
    else if (a.allow_single_quoted && !(e->simple_key_context && a.multiline))
        style = '\'';
    else
        style = '"';
    if (style == 'p')
        write_plain(e, text, n, split);
    else if (style == '\'')
        write_single_quoted(e, text, n, split);
    else
        write_double_quoted(e, text, n, split);
    pop_indent(e);
    free(text);
}

static void emit_node(yemit *e, const cli_value *v, int mapping_context);

/* The text SafeRepresenter gives a non-string scalar. */
static void scalar_text(const cli_value *v, loupe__buf *b) {
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
        if (isnan(v->f)) {
            loupe__buf_puts(b, ".nan");
        } else if (isinf(v->f)) {
            loupe__buf_puts(b, v->f > 0 ? ".inf" : "-.inf");
        } else {
            loupe__buf r = {0};
            cli_float_repr(&r, v->f);
            const char *s = r.data ? r.data : "0.0";
            const char *ep = strchr(s, 'e');
            if (ep && !strchr(s, '.')) { /* "1e-05" -> "1.0e-05" */
                loupe__buf_append(b, s, (size_t)(ep - s));
                loupe__buf_puts(b, ".0");
                loupe__buf_puts(b, ep);
            } else {
                loupe__buf_puts(b, s);
            }
            loupe__buf_free(&r);
        }
        break;
    default:
        break;
    }
}

static int key_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_simple_key(const char *key) {
    size_t len = strlen(key);
    if (len == 0) return 0;
    if (cli_utf8_len(key, len) >= 128) return 0;
    for (const char *p = key; *p; p++)
        if (*p == '\n') return 0;
    /* U+0085, U+2028, U+2029 also break lines. */
    if (strstr(key, "\xC2\x85") || strstr(key, "\xE2\x80\xA8") || strstr(key, "\xE2\x80\xA9")) return 0;
    return 1;
}

static void emit_key(yemit *e, const char *key, int simple) {
    e->simple_key_context = simple;
    emit_scalar(e, key, strlen(key), resolves_to_str(e, key));
    e->simple_key_context = 0;
}

static void emit_block_mapping(yemit *e, const cli_value *v) {
    increase_indent(e, 0, 0);
    /* safe_dump sorts keys; an index keeps the dict's own order intact. */
    const char **keys = cli_xmalloc(v->n * sizeof *keys);
    for (size_t i = 0; i < v->n; i++) keys[i] = v->keys[i];
    qsort(keys, v->n, sizeof *keys, key_cmp);
    for (size_t i = 0; i < v->n; i++) {
        const cli_value *item = cli_v_get(v, keys[i]);
        write_indent(e);
        if (is_simple_key(keys[i])) {
            emit_key(e, keys[i], 1);
            write_indicator(e, ":", 0, 0, 0);
        } else {
            write_indicator(e, "?", 1, 0, 1);
            emit_key(e, keys[i], 0);
            write_indent(e);
            write_indicator(e, ":", 1, 0, 1);
        }
        emit_node(e, item, 1);
    }
    free(keys);
    pop_indent(e);
}

static void emit_block_sequence(yemit *e, const cli_value *v, int mapping_context) {
    increase_indent(e, 0, mapping_context && !e->indention);
    for (size_t i = 0; i < v->n; i++) {
        write_indent(e);
        write_indicator(e, "-", 1, 0, 1);
        emit_node(e, v->items[i], 0);
    }
    pop_indent(e);
}

static void emit_node(yemit *e, const cli_value *v, int mapping_context) {
    switch (v->kind) {
    case CLI_V_STR:
        emit_scalar(e, v->s, v->len, resolves_to_str(e, v->s));
        break;
    case CLI_V_LIST:
    case CLI_V_TUPLE:
        if (v->n == 0 || e->flow_level) {
            write_indicator(e, "[", 1, 1, 0);
            write_indicator(e, "]", 0, 0, 0);
        } else {
            emit_block_sequence(e, v, mapping_context);
        }
        break;
    case CLI_V_DICT:
        if (v->n == 0 || e->flow_level) {
            write_indicator(e, "{", 1, 1, 0);
            write_indicator(e, "}", 0, 0, 0);
        } else {
            emit_block_mapping(e, v);
        }
        break;
    default: {
        loupe__buf b = {0};
        scalar_text(v, &b);
        emit_scalar(e, b.data ? b.data : "", b.len, 1);
        loupe__buf_free(&b);
        break;
    }
    }
}

void cli_v_yaml(loupe__buf *b, const cli_value *v) {
    yemit e;
    memset(&e, 0, sizeof e);
    e.out = b;
    e.indent = -1;
    e.whitespace = e.indention = 1;
    for (size_t i = 0; i < sizeof resolver_patterns / sizeof *resolver_patterns; i++) {
        if (regcomp(&e.resolvers[e.n_resolvers], resolver_patterns[i], REG_EXTENDED | REG_NOSUB) == 0)
            e.n_resolvers++;
    }
    emit_node(&e, v, 0);
    /* Document end: PyYAML finishes the last line. */
    e.indent = -1;
    write_indent(&e);
    for (int i = 0; i < e.n_resolvers; i++) regfree(&e.resolvers[i]);
    free(e.indents);
}
