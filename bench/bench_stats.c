/*
 * bench_stats.c -- the statistics of SPEC §4 (quantiles by linear
 * interpolation between order statistics, NumPy's default) and their JSON
 * form: the <base>_{median,q1,q3,iqr,mean,min,max} metric keys of SPEC §5.2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_quantile_sorted(const double *v, size_t n, double p) {
    double h = (double)(n - 1) * p;
    size_t j = (size_t)floor(h);
    if (j + 1 >= n) return v[n - 1];
    return v[j] + (h - (double)j) * (v[j + 1] - v[j]);
}

int bench_summarize(const double *values, size_t n, bench_summary *s) {
    if (n == 0) return -1;
    double *v = malloc(n * sizeof *v);
    if (!v) return -1;
    memcpy(v, values, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    s->median = bench_quantile_sorted(v, n, 0.5);
    s->q1 = bench_quantile_sorted(v, n, 0.25);
    s->q3 = bench_quantile_sorted(v, n, 0.75);
    s->iqr = s->q3 - s->q1;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += values[i];
    s->mean = sum / (double)n;
    s->min = v[0];
    s->max = v[n - 1];
    free(v);
    return 0;
}

void bench_summary_write(bench_json *j, const char *base, const bench_summary *s) {
    static const char *const suffix[] = {"median", "q1", "q3", "iqr", "mean", "min", "max"};
    const double vals[] = {s->median, s->q1, s->q3, s->iqr, s->mean, s->min, s->max};
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s_%s", base, suffix[i]);
        bench_num(j, key, vals[i]);
    }
}

void bench_array_write(bench_json *j, const char *key, const double *values, size_t n,
                       int integers) {
    bench_open(j, key, '[');
    for (size_t i = 0; i < n; i++) {
        if (integers)
            bench_int(j, NULL, (int64_t)llround(values[i]));
        else
            bench_num(j, NULL, values[i]);
    }
    bench_close(j, ']');
}
