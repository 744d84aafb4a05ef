/*
 * fuzz_server.c -- libFuzzer target for the dashboard's request handling that
 * sees untrusted bytes: the router (method + path), the Host / Origin /
 * cookie / Authorization checks, JSON bodies and stored attr values through
 * the JSON writers, the study-attr decoder (notes, artifacts, preferences) and
 * the search-space folding. The first byte picks the area. Built with clang
 * by tests/fuzz/CMakeLists.txt; `ctest -R fuzz` runs it briefly, longer runs:
 *   build/tests/fuzz/fuzz_server -max_total_time=600 build/tests/fuzz/corpus tests/fuzz/corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/trial_rec.h"
#include "server/agg.h"
#include "server/extras.h"
#include "server/jsonw.h"
#include "server/router.h"
#include "server/security.h"
#include "util/pyjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits a copy of the input at '\n' into at most max fields. */
static size_t fields(char *s, char **out, size_t max) {
    size_t n = 0;
    out[n++] = s;
    for (char *p = s; *p && n < max; p++)
        if (*p == '\n') {
            *p = '\0';
            out[n++] = p + 1;
        }
    return n;
}

static void fuzz_route(const char *s, size_t len, uint8_t m) {
    loupe__route r;
    static const loupe__method methods[] = {LOUPE__M_GET, LOUPE__M_HEAD, LOUPE__M_POST, LOUPE__M_PUT,
                                            LOUPE__M_DELETE, LOUPE__M_OPTIONS, LOUPE__M_OTHER};
    loupe__route_match(methods[m % 7], s, len, &r);
    if (r.id != LOUPE__R_NONE) {
        /* whatever routes has well-formed parameters */
        if (r.study_id < -1 || r.trial_id < -1) abort();
        if (r.id == LOUPE__R_STATIC) {
            size_t nl = strlen(r.name);
            if (r.name[0] == '/' || strstr(r.name, "//") || strstr(r.name, "/../") || strncmp(r.name, "../", 3) == 0 ||
                strcmp(r.name, "..") == 0 || (nl >= 3 && strcmp(r.name + nl - 3, "/..") == 0))
                abort(); /* a static path never climbs out of dist/ */
        }
    }
    (void)loupe__route_name(r.id);
    (void)loupe__route_is_write(r.id);
}

static void fuzz_security(char *s) {
    char *f[4] = {0};
    size_t n = fields(s, f, 4);
    char out[128];
    const char *allowed[] = {n > 3 ? f[3] : "x"};
    (void)loupe__host_ok(f[0], n > 1 ? f[1] : "127.0.0.1", allowed, 1);
    (void)loupe__host_ok(f[0], "0.0.0.0", NULL, 0);
    (void)loupe__origin_ok(n > 1 ? f[1] : NULL, n > 2 ? f[2] : NULL, f[0]);
    (void)loupe__token_equal(f[0], n > 1 ? f[1] : "expected-token");
    (void)loupe__cookie_get(f[0], n > 1 ? f[1] : "loupe_token_8080", out, sizeof out);
    (void)loupe__bearer_token(f[0], out, sizeof out);
    (void)loupe__is_loopback_name(f[0], strlen(f[0]));
}

static void fuzz_json(const char *s, size_t len) {
    loupe__buf b;
    loupe__buf_init(&b, 1 << 20);
    loupe__jw_attr_value(&b, s);
    loupe__jw_artifact_meta(&b, s);
    yyjson_doc *d = loupe__pyjson_parse(s, len, NULL, 0);
    if (d) {
        loupe__jw_pystr_json(&b, yyjson_doc_get_root(d));
        loupe__pyjson_value(&b, yyjson_doc_get_root(d));
        yyjson_doc_free(d);
    }
    loupe__buf_free(&b);
}

/* "key\tvalue" lines as a study's system attrs. */
static void fuzz_extras(char *s) {
    char *lines[64];
    size_t n = fields(s, lines, 64);
    loupe_attr attrs[64];
    for (size_t i = 0; i < n; i++) {
        char *tab = strchr(lines[i], '\t');
        if (tab) *tab = '\0';
        attrs[i].key = lines[i];
        attrs[i].json = tab ? tab + 1 : "null";
    }
    loupe__study_extras e;
    if (loupe__extras_parse(attrs, n, &e) == LOUPE_OK) {
        for (size_t i = 0; i < e.n_trials; i++)
            if (loupe__extras_find(&e, e.trials[i].trial_id) != &e.trials[i]) abort();
    }
    loupe__extras_free(&e);
}

/* Trials with params described by the bytes, folded and rendered. */
static void fuzz_trials(const uint8_t *d, size_t n) {
    static const char *names[] = {"x", "y", "z", "w"};
    static const char *choices[] = {"\"a\"", "1", "true", "null", "1.5"};
    loupe__agg a;
    memset(&a, 0, sizeof a);
    loupe__buf b;
    loupe__buf_init(&b, 1 << 20);
    for (size_t i = 0; i + 4 <= n && i < 256; i += 4) {
        loupe_param p[2];
        size_t np = d[i] % 3;
        for (size_t k = 0; k < np; k++) {
            uint8_t x = d[i + 1 + k];
            loupe_distribution dist = {(loupe_dist_kind)(x % 3), (double)(x % 7) - 3, (double)(x % 7) + (x % 5), 0,
                                       0, 0, NULL};
            if (dist.kind == LOUPE_DIST_INT) dist.step = 1 + x % 2;
            if (dist.kind == LOUPE_DIST_FLOAT && (x & 8)) dist.step = 0.5;
            if (dist.kind == LOUPE_DIST_CATEGORICAL) {
                dist.n_choices = 1 + x % 5;
                dist.choices = choices;
            }
            p[k].name = names[(x >> 3) % 4];
            p[k].internal = dist.kind == LOUPE_DIST_CATEGORICAL ? (double)(x % dist.n_choices) : dist.low;
            p[k].dist = dist;
        }
        if (np == 2 && strcmp(p[0].name, p[1].name) == 0) np = 1;
        loupe_attr ua[1] = {{"k", (d[i + 3] & 1) ? "1.5" : "\"s\""}};
        double v = (double)d[i + 3];
        loupe_frozen_trial t;
        memset(&t, 0, sizeof t);
        t.state = (loupe_trial_state)(d[i + 3] % 5);
        t.n_params = np;
        t.params = p;
        t.n_user_attrs = 1;
        t.user_attrs = ua;
        t.values = &v;
        t.n_values = 1;
        t.datetime_start_us = (int64_t)d[i] * 1000003;
        t.datetime_complete_us = -1;
        if (loupe__agg_fold(&a, &t)) break;
        loupe__jw_trial(&b, 1, &t, NULL, NULL);
        loupe__buf_reset(&b);
    }
    loupe__agg_write_ss(&b, &a.inter);
    loupe__agg_write_ss(&b, &a.uni);
    loupe__agg_write_ua(&b, &a);
    loupe__agg_free(&a);
    loupe__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 65536) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    size_t len = size - 1;
    switch (data[0] % 5) {
    case 0: fuzz_route(s, len, data[0] / 5); break;
    case 1: fuzz_security(s); break;
    case 2: fuzz_json(s, strlen(s)); break;
    case 3: fuzz_extras(s); break;
    default: fuzz_trials(data + 1, size - 1); break;
    }
    free(s);
    return 0;
}
