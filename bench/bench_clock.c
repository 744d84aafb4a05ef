/* bench_clock.c -- the clocks of loupe-bench: monotonic wall time, process CPU
 * time (SPEC §3 cpu_s: user + system) and the host's load average. */
#include <stdlib.h>
#include <time.h>

#include "bench.h"

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_wall_s(void) { return seconds(CLOCK_MONOTONIC); }

double bench_cpu_s(void) { return seconds(CLOCK_PROCESS_CPUTIME_ID); }

double bench_loadavg(void) {
    double load[1];
    if (getloadavg(load, 1) != 1) return -1.0;
    return (double)(long)(load[0] * 100.0 + 0.5) / 100.0; /* 2 decimals, as the reference */
}
