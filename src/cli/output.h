/*
 * output.h -- the records the `loupe` command prints and their four formats
 * (table, json, yaml, value), byte-for-byte as optuna/cli.py's _format_output
 * prints them: Python str()/repr() in table cells, json.dumps for json,
 * yaml.safe_dump for yaml.
 *
 * Values are a small tree of Python-like objects (None, bool, int, float, str,
 * list, tuple, dict). Every constructor hands a new node to the caller; adding
 * it to a list, dict or table moves ownership there. cli_value_free frees a tree.
 */
#ifndef LOUPE_CLI_OUTPUT_H
#define LOUPE_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "loupe.h"
#include "util/buf.h"

typedef enum cli_vkind {
    CLI_V_NONE,
    CLI_V_BOOL,
    CLI_V_INT,    /* fits int64 */
    CLI_V_BIGINT, /* an integer outside int64, kept as its decimal text */
    CLI_V_FLOAT,
    CLI_V_STR,
    CLI_V_LIST,
    CLI_V_TUPLE,
    CLI_V_DICT
} cli_vkind;

typedef struct cli_value cli_value;
struct cli_value {
    cli_vkind kind;
    int b;
    int64_t i;
    double f;
    char *s;         /* STR (UTF-8, may hold NUL) or BIGINT text; NUL-terminated */
    size_t len;      /* bytes in s */
    size_t n, cap;   /* LIST / TUPLE / DICT */
    cli_value **items;
    char **keys;     /* DICT only, insertion order */
};

cli_value *cli_v_none(void);
cli_value *cli_v_bool(int b);
cli_value *cli_v_int(int64_t i);
cli_value *cli_v_float(double f);
cli_value *cli_v_str(const char *s);
cli_value *cli_v_strn(const char *s, size_t len);
cli_value *cli_v_list(void);
cli_value *cli_v_tuple(void);
cli_value *cli_v_dict(void);
/* Appends item (ownership moves to the list/tuple). */
void cli_v_push(cli_value *seq, cli_value *item);
/* Sets key to item, replacing (and freeing) an existing value of that key. */
void cli_v_set(cli_value *dict, const char *key, cli_value *item);
cli_value *cli_v_get(const cli_value *dict, const char *key);
void cli_value_free(cli_value *v);
cli_value *cli_value_copy(const cli_value *v);
int cli_v_is_numeric(const cli_value *v); /* int, float or bool, as isinstance(v, (int, float)) */

/* Parses JSON text as Python's json.loads reads it (NaN/Infinity allowed, big
 * integers kept exactly). NULL with a message in err when it is not JSON. */
cli_value *cli_value_from_json(const char *json, char *err, size_t errcap);

/* Python renderings. */
void cli_v_repr(loupe__buf *b, const cli_value *v);     /* repr(v) */
void cli_v_pystr(loupe__buf *b, const cli_value *v);    /* str(v) */
void cli_v_json(loupe__buf *b, const cli_value *v);     /* json.dumps(v) */
void cli_v_yaml(loupe__buf *b, const cli_value *v);     /* yaml.safe_dump(v) (output_yaml.c) */
/* repr() of a float: "0.1", "1e-05", "inf", "nan". */
void cli_float_repr(loupe__buf *b, double f);
/* Number of code points in UTF-8 text (Python's len()). */
size_t cli_utf8_len(const char *s, size_t n);
/* Decodes UTF-8 into a malloc'd array of code points (invalid bytes become
 * U+FFFD); *n receives the count. */
uint32_t *cli_utf8_decode(const char *s, size_t len, size_t *n);

/* A datetime as Optuna's CLI shows it: "%Y-%m-%d %H:%M:%S" of the stored (UTC)
 * time, or None when us < 0. */
cli_value *cli_v_datetime(int64_t us);
/* str(timedelta) of a duration in microseconds: "0:00:06.045410", "1 day, 2:03:04". */
cli_value *cli_v_duration(int64_t us);
/* A stored JSON value (attribute); text that is not JSON is kept as a string. */
cli_value *cli_v_from_stored_json(const char *json);
/* A dict of JSON attributes in storage order; text that is not JSON is kept as a string. */
cli_value *cli_v_attrs(const loupe_attr *attrs, size_t n);
/* A param's external value (float, int or the categorical choice). */
cli_value *cli_v_param(const loupe_param *param);

/* ---------------------------------------------------------------- records */

/* A column is (name, sub) as in Optuna's records: sub is "" for a plain column,
 * a string for a nested key (params, user_attrs, metric names) or an index for
 * an objective of "values". */
typedef enum cli_sub_kind { CLI_SUB_NONE, CLI_SUB_STR, CLI_SUB_INDEX } cli_sub_kind;

typedef struct cli_column {
    char *name;
    cli_sub_kind sub_kind;
    char *sub;   /* CLI_SUB_STR */
    size_t index; /* CLI_SUB_INDEX */
} cli_column;

/* A list of records over a fixed list of columns; a cell is absent (NULL) or a
 * value (a None value is present). */
typedef struct cli_table {
    size_t n_columns;
    cli_column *columns;
    size_t n_records, cap_records;
    cli_value ***cells; /* cells[record][column] */
} cli_table;

void cli_table_init(cli_table *t);
void cli_table_free(cli_table *t);
/* Adds a column; returns its index. sub is used for CLI_SUB_STR only, index for
 * CLI_SUB_INDEX only. Add every column before the first record. */
size_t cli_table_add_column(cli_table *t, const char *name, cli_sub_kind kind, const char *sub,
                            size_t index);
/* Adds an empty record; returns its index. */
size_t cli_table_add_record(cli_table *t);
/* Puts v into a cell (ownership moves to the table; a previous value is freed). */
void cli_table_set(cli_table *t, size_t record, size_t column, cli_value *v);

/*
 * Formats the records picked by rows[0..n_rows) (all records when rows is NULL)
 * as optuna/cli.py's _format_output(records, columns, format, flatten) does and
 * appends the text to out, already stripped, without the final newline.
 * single: format one record as an object (best-trial, ask) instead of a list.
 * format is "table", "json", "yaml" or "value".
 */
void cli_format_output(const cli_table *t, const size_t *rows, size_t n_rows, int single,
                       const char *format, int flatten, loupe__buf *out);

/* print(_format_output(...)) with the context's -f and --flatten: the text and
 * a newline on stdout. */
typedef struct cli_ctx cli_ctx;
void cli_print_records(const cli_ctx *ctx, const cli_table *t, const size_t *rows, size_t n_rows, int single);

#endif
