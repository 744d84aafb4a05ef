/*
 * jsonw.h -- writers for the JSON shapes optuna-dashboard 0.20 sends (trial,
 * distribution, attrs, study summary pieces), byte-identical to its Python
 * json.dumps output: ", " / ": " separators, ASCII escapes, float repr.
 * Everything appends to a loupe__buf; check buf.failed once at the end.
 */
#ifndef LOUPE_SERVER_JSONW_H
#define LOUPE_SERVER_JSONW_H

#include <stdint.h>

#include "loupe.h"
#include "util/buf.h"
#include "yyjson.h"

/* A double as json.dumps writes it ("0.1", "1e-05", "10.0", NaN, Infinity). */
void loupe__jw_double(loupe__buf *b, double v);
/* Python's str() of a float, unquoted ("0.1", "nan", "inf", "-inf"). */
void loupe__jw_pystr_double(loupe__buf *b, double v);
/* An objective or intermediate value: a number, or the strings "inf", "-inf", "nan". */
void loupe__jw_value(loupe__buf *b, double v);
/* A JSON string literal with Python's ensure_ascii escaping. */
void loupe__jw_string(loupe__buf *b, const char *s);
void loupe__jw_string_len(loupe__buf *b, const char *s, size_t len);
/* Python datetime.isoformat() of microseconds since the epoch (UTC, naive):
 * "2026-11-28T02:28:49.591161", fraction omitted when zero. Unquoted. */
void loupe__jw_isoformat(loupe__buf *b, int64_t us);
/* Python str() of a decoded JSON value, unquoted: strings as is, True/False/None,
 * ints, float repr, lists and dicts in Python's repr. */
void loupe__jw_pystr_json(loupe__buf *b, yyjson_val *v);
/* The "value" optuna-dashboard shows for an attribute given as stored JSON text
 * (a quoted JSON string): str as is, numbers and bools via str(), anything else
 * json.dumps() cut to 1024 characters. */
void loupe__jw_attr_value(loupe__buf *b, const char *json);
/* [{"key": k, "value": v}, ...] */
void loupe__jw_attrs(loupe__buf *b, const loupe_attr *attrs, size_t n);
/* {"type": "FloatDistribution", "low": ..., ...} */
void loupe__jw_distribution(loupe__buf *b, const loupe_distribution *d);
/* "Running", "Complete", "Pruned", "Fail", "Waiting". */
const char *loupe__jw_state_name(loupe_trial_state s);

/*
 * A whole trial object (optuna-dashboard's serialize_frozen_trial). note_json is
 * the rendered note object ({"version": 0, "body": ""} when NULL); legacy_artifacts
 * is NULL or the comma-joined artifact objects recorded for this trial in the
 * study's "dashboard:artifacts:<trial_id>:" attrs (listed first, as upstream).
 */
void loupe__jw_trial(loupe__buf *b, int64_t study_id, const loupe_frozen_trial *t,
                     const char *note_json, const char *legacy_artifacts);

/* Decodes an artifact metadata attr value (a JSON string holding JSON, or an
 * object) and appends the object; returns 0 when it is null, not an object, or
 * unreadable (nothing appended). */
int loupe__jw_artifact_meta(loupe__buf *b, const char *value_json);

#endif
