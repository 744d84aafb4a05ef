/* timeutil.h -- wall-clock time and Optuna's datetime text ("YYYY-MM-DD HH:MM:SS.ffffff", naive UTC). */
#ifndef LOUPE_UTIL_TIMEUTIL_H
#define LOUPE_UTIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Microseconds since the Unix epoch (UTC). */
int64_t loupe__now_us(void);
/* Monotonic clock in microseconds (for timeouts and benchmarks). */
int64_t loupe__monotonic_us(void);
/* Writes "YYYY-MM-DD HH:MM:SS.ffffff" (26 chars + NUL) into out[32]. */
void loupe__format_datetime(int64_t us, char out[32]);
/* The same with a 'T' separator ("2026-11-28T02:04:02.317269"), for APIs. */
void loupe__format_datetime_iso(int64_t us, char out[32]);
/* Parses SQLAlchemy's format: "YYYY-MM-DD HH:MM:SS[.f{1,6}]" (also 'T'), read as
 * UTC. A fraction is read as SQLAlchemy 1.4 does for 6 digits; shorter fractions
 * are scaled as decimals. Returns 0 or -1 when the text is not a datetime. */
int loupe__parse_datetime(const char *text, int64_t *us);

#endif
