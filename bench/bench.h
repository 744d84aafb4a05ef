/*
 * bench.h -- shared pieces of loupe-bench, the C runner of the loupe-bench-1
 * benchmark (bench/reference/SPEC.md): the tables of sampler configurations
 * and of parts, the JSON-lines writer and the run options. Parts plug in by
 * adding a row to the part table in loupe_bench.c; sampler configurations by
 * adding a row to the table in bench_samplers.c.
 */
#ifndef LOUPE_BENCH_H
#define LOUPE_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "loupe.h"

#define BENCH_SPEC_ID "loupe-bench-1"
#define BENCH_SPEED_TRIALS 1000
#define BENCH_SPEED_SEED 0

/* ------------------------------------------------------------ run options */

typedef struct bench_options {
    int n_quality_seeds; /* SPEC §1.1: 20 */
    int n_hitl_seeds;    /* SPEC §2.3: 50 */
    int seed_start;
    int speed_trials; /* SPEC §3: 1000; others are smoke tests */
    /* NULL: every configuration of a part; else a comma list of config ids */
    const char *configs;
} bench_options;

/* Non-zero when config id is selected by opts->configs. */
int bench_config_selected(const bench_options *opts, const char *config);

/* ------------------------------------------------------------ samplers */

/* Creates the sampler of a SPEC §0.3 configuration id ("random", "tpe",
 * "tpe_mv", "tpe_seed_config") seeded with seed. LOUPE_EINVAL for an unknown id. */
int bench_sampler_new(const char *config, uint64_t seed, loupe_sampler **out);

/* A fresh in-memory storage holding one fresh minimize study whose sampler is
 * config's, seeded with seed (SPEC §0.1: one run). On failure prints why and
 * returns non-zero with both set to NULL. The caller closes the study, then
 * the storage. */
int bench_memory_study_new(const char *config, uint64_t seed, loupe_storage **storage,
                           loupe_study **study);

/* ------------------------------------------------------------ JSON lines (SPEC §5) */

/* One JSON object being written to a line: bench_obj_begin, then fields, then
 * bench_obj_end (which writes the newline and flushes). Nested objects and
 * arrays go through bench_open and bench_close. Numbers are written with 17
 * significant digits; non-finite numbers are refused (SPEC §5) and written as
 * null with a warning on stderr. */
typedef struct bench_json {
    FILE *out;
    int need_comma;
} bench_json;

void bench_obj_begin(bench_json *j, FILE *out);
void bench_obj_end(bench_json *j);
void bench_key(bench_json *j, const char *key);
void bench_str(bench_json *j, const char *key, const char *value);
void bench_num(bench_json *j, const char *key, double value);
void bench_int(bench_json *j, const char *key, int64_t value);
void bench_bool(bench_json *j, const char *key, int value);
void bench_open(bench_json *j, const char *key, char bracket); /* '{' or '[' */
void bench_close(bench_json *j, char bracket);                 /* '}' or ']' */

/* The writer of result records: the output file (or NULL) and the
 * implementation's version, for the common fields. */
typedef struct bench_sink {
    FILE *out;
    const char *impl_version;
} bench_sink;

/* Starts a result record with the fields common to all suites (SPEC §5.2):
 * record, suite, function, config, impl, impl_version. The caller adds the
 * rest and ends it with bench_obj_end. */
void bench_record_begin(bench_json *j, const bench_sink *sink, const char *suite,
                        const char *function, const char *config);

/* ------------------------------------------------------------ statistics (SPEC §4) */

typedef struct bench_summary {
    double median, q1, q3, iqr, mean, min, max;
} bench_summary;

/* Q(p) of n >= 1 ascending values, by linear interpolation (Hyndman-Fan 7). */
double bench_quantile_sorted(const double *v, size_t n, double p);
/* The summary of n values in any order; -1 if n is 0 or memory runs out. */
int bench_summarize(const double *values, size_t n, bench_summary *s);
/* Writes the metric keys <base>_median, _q1, _q3, _iqr, _mean, _min, _max. */
void bench_summary_write(bench_json *j, const char *base, const bench_summary *s);
/* Writes key: [values...], as integers when integers is non-zero. */
void bench_array_write(bench_json *j, const char *key, const double *values, size_t n,
                       int integers);

/* ------------------------------------------------------------ parts */

/* A part runs its suite and writes one record per (function, config) to sink
 * (when sink->out is set), and a line per record to stderr. Returns 0, or
 * non-zero after printing what failed. */
typedef int (*bench_part_fn)(const bench_options *opts, const bench_sink *sink);

int bench_part_quality(const bench_options *opts, const bench_sink *sink);
int bench_part_hitl(const bench_options *opts, const bench_sink *sink);
int bench_part_speed(const bench_options *opts, const bench_sink *sink);
/* --selfcheck: each checks its part's test vectors (SPEC §1.4, §2.2), prints a
 * PASS/FAIL line per check on stdout and returns the number of failures. */
int bench_quality_selfcheck(void);
int bench_hitl_selfcheck(void);
/* Lists the speed configs ("id sampler storage") on stdout. */
void bench_speed_list(void);

/* ------------------------------------------------------------ clocks */

/* Monotonic wall clock and process CPU time (user + system), in seconds. */
double bench_wall_s(void);
double bench_cpu_s(void);
/* The host's 1-minute load average, or -1 where unknown. */
double bench_loadavg(void);

#endif
