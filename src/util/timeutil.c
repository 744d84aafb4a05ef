/* timeutil.c -- wall-clock time and Optuna's datetime text (see timeutil.h). */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t loupe__now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t loupe__monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void format_with(int64_t us, char sep, char out[32]) {
    int64_t secs = us / 1000000;
    int64_t frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* fields are bounded by gmtime_r; the casts let the compiler see the widths */
    snprintf(out, 32, "%04u-%02u-%02u%c%02u:%02u:%02u.%06u", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u, sep,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
             (unsigned)frac % 1000000u);
}

void loupe__format_datetime(int64_t us, char out[32]) { format_with(us, ' ', out); }

void loupe__format_datetime_iso(int64_t us, char out[32]) { format_with(us, 'T', out); }

/* Reads exactly n digits; returns -1 if any is missing. */
static int read_digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int loupe__parse_datetime(const char *text, int64_t *us) {
    if (!text) return -1;
    const char *p = text;
    int y, mo, d, h, mi, s;
    if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' ||
        read_digits(&p, 2, &d))
        return -1;
    if (*p != ' ' && *p != 'T') return -1;
    p++;
    if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi) || *p++ != ':' ||
        read_digits(&p, 2, &s))
        return -1;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int ndig = 0;
        while (p[ndig] >= '0' && p[ndig] <= '9') ndig++;
        if (ndig == 0 || ndig > 9) return -1;
        for (int i = 0; i < ndig; i++) frac = frac * 10 + (p[i] - '0');
        for (int i = ndig; i < 6; i++) frac *= 10;
        for (int i = 6; i < ndig; i++) frac /= 10;
        p += ndig;
    }
    /* an explicit UTC offset of zero is tolerated */
    if (*p == 'Z') p++;
    else if (strcmp(p, "+00:00") == 0) p += 6;
    if (*p != '\0') return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    *us = (int64_t)t * 1000000 + frac;
    return 0;
}
