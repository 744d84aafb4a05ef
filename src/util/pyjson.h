/*
 * pyjson.h -- JSON text exactly as Python's json.dumps writes it (", " and ": "
 * separators, ensure_ascii escapes, NaN/Infinity/-Infinity tokens, float repr),
 * so that values loupe stores read back identically in Python Optuna.
 * Parsing uses yyjson and accepts the NaN/Infinity tokens.
 */
#ifndef LOUPE_UTIL_PYJSON_H
#define LOUPE_UTIL_PYJSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "yyjson.h"

/* Appends a double as Python's repr/json.dumps does: "0.1", "1e-05", "1e+16",
 * "10.0", "NaN", "Infinity", "-Infinity". */
void loupe__pyjson_double(loupe__buf *b, double v);
/* Appends a JSON string literal with Python's ensure_ascii escaping (\uXXXX with
 * lowercase hex, surrogate pairs above U+FFFF). s must be UTF-8; invalid bytes
 * are written as U+FFFD. */
void loupe__pyjson_string(loupe__buf *b, const char *s, size_t len);
/* Appends any yyjson value in Python format (raw numbers are copied verbatim). */
void loupe__pyjson_value(loupe__buf *b, yyjson_val *v);

/* Flags for parsing loupe's stored and user-given JSON: NaN/Infinity allowed,
 * integers too large for 64 bits kept as raw text. */
#define LOUPE__JSON_READ_FLAGS (YYJSON_READ_ALLOW_INF_AND_NAN | YYJSON_READ_BIGNUM_AS_RAW)

/* Parses JSON text; returns NULL and writes a message "... at byte N" into err
 * (errcap bytes) when the text is not valid JSON. Free with yyjson_doc_free. */
yyjson_doc *loupe__pyjson_parse(const char *text, size_t len, char *err, size_t errcap);

/* Normalizes any JSON text into Python's json.dumps form; *out is malloc'd.
 * Returns 0, or -1 with a message in err (bad JSON) or -2 on out of memory. */
int loupe__pyjson_normalize(const char *text, char **out, char *err, size_t errcap);

#endif
