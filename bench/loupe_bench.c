/*
 * loupe_bench.c -- main() of loupe-bench, the C runner of the loupe-bench-1
 * benchmark (bench/reference/SPEC.md). It takes the options of the reference
 * runner bench/reference/optuna_baseline.py and prints the same JSON-lines
 * format (SPEC §5), so bench/reference/compare.py compares the two:
 *
 *   loupe-bench --part speed --out loupe.jsonl
 *   python3 bench/reference/compare.py optuna.jsonl loupe.jsonl
 *
 * Options: --part quality|hitl|speed|all (or a comma list), --seeds N,
 * --quality-seeds N, --hitl-seeds N, --seed-start S, --speed-trials N,
 * --out FILE, --selfcheck (the test vectors of SPEC §1.4 and §2.2); loupe-only:
 * --configs ID,... (run only these config ids), --list-configs. Parts are rows of the table below; a part whose function is
 * NULL is not implemented in this build and is skipped (with a note) by --part all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench.h"

#define QUALITY_SEEDS 20
#define HITL_SEEDS 50

static const struct {
    const char *id;
    bench_part_fn run; /* NULL: not in this build yet */
} parts[] = {
    {"quality", bench_part_quality}, /* Part A (SPEC §1) */
    {"hitl", bench_part_hitl},       /* Part B (SPEC §2) */
    {"speed", bench_part_speed},
};
#define N_PARTS (sizeof parts / sizeof *parts)

/* A comma list contains word. */
static int list_has(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0) return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int bench_config_selected(const bench_options *opts, const char *config) {
    return !opts->configs || list_has(opts->configs, config);
}

static int usage(const char *msg) {
    if (msg) fprintf(stderr, "loupe-bench: %s\n", msg);
    fputs("usage: loupe-bench [--part quality|hitl|speed|all] [--seeds N] [--quality-seeds N]\n"
          "                   [--hitl-seeds N] [--seed-start S] [--speed-trials N] [--out FILE]\n"
          "                   [--configs ID,...] [--list-configs] [--selfcheck]\n"
          "Runs the loupe-bench-1 benchmark (bench/reference/SPEC.md) with loupe and writes\n"
          "its JSON lines to FILE; compare with bench/reference/compare.py.\n",
          stderr);
    return 2;
}

static int parse_int(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 100000000) return -1;
    *out = (int)v;
    return 0;
}

/* The command line with --out reduced to the file's base name (SPEC §5.1). */
static void command_line(int argc, char **argv, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "loupe-bench");
    for (int i = 1; i < argc && len < cap; i++) {
        const char *a = argv[i];
        if (i > 1 && strcmp(argv[i - 1], "--out") == 0) {
            const char *slash = strrchr(a, '/');
            a = slash ? slash + 1 : a;
        }
        len += (size_t)snprintf(buf + len, cap - len, " %s", a);
    }
}

static void write_header(FILE *out, const char *command, const char *const *run, size_t n_run,
                         const bench_options *o, int reduced, const char *note) {
    char date[32], runtime[128];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
#if defined(__clang__)
    snprintf(runtime, sizeof runtime, "C11, clang %s, SQLite %s", __clang_version__, sqlite3_libversion());
#elif defined(__GNUC__)
    snprintf(runtime, sizeof runtime, "C11, gcc %s, SQLite %s", __VERSION__, sqlite3_libversion());
#else
    snprintf(runtime, sizeof runtime, "C11, SQLite %s", sqlite3_libversion());
#endif
    struct utsname un;
    if (uname(&un) != 0) {
        snprintf(un.machine, sizeof un.machine, "unknown");
        snprintf(un.sysname, sizeof un.sysname, "unknown");
    }
    bench_json j;
    bench_obj_begin(&j, out);
    bench_str(&j, "record", "header");
    bench_str(&j, "spec", BENCH_SPEC_ID);
    bench_str(&j, "impl", "loupe");
    bench_str(&j, "impl_version", loupe_version());
    bench_str(&j, "runtime", runtime);
    bench_str(&j, "date", date);
    bench_str(&j, "command", command);
    bench_open(&j, "parts", '[');
    for (size_t i = 0; i < n_run; i++) bench_str(&j, NULL, run[i]);
    bench_close(&j, ']');
    bench_open(&j, "seeds", '{');
    bench_int(&j, "quality", o->n_quality_seeds);
    bench_int(&j, "hitl", o->n_hitl_seeds);
    bench_int(&j, "start", o->seed_start);
    bench_close(&j, '}');
    bench_bool(&j, "reduced", reduced);
    bench_str(&j, "note", note);
    bench_open(&j, "host", '{');
    bench_int(&j, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
    bench_str(&j, "machine", un.machine);
    bench_str(&j, "system", un.sysname);
    bench_close(&j, '}');
    bench_obj_end(&j);
}

/* Appends "; text" (or text) to note. */
static void add_note(char *note, size_t cap, const char *text) {
    size_t len = strlen(note);
    snprintf(note + len, cap - len, "%s%s", len ? "; " : "", text);
}

int main(int argc, char **argv) {
    bench_options o = {QUALITY_SEEDS, HITL_SEEDS, 0, BENCH_SPEED_TRIALS, NULL};
    const char *part = "all", *out_path = NULL;
    int seeds = -1, qseeds = -1, hseeds = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *target = NULL;
        if (strcmp(a, "--list-configs") == 0) {
            bench_speed_list();
            return 0;
        }
        if (strcmp(a, "--selfcheck") == 0) {
            int failures = bench_quality_selfcheck() + bench_hitl_selfcheck();
            printf("SELFCHECK %s\n", failures ? "FAILED" : "OK");
            return failures ? 1 : 0;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage(NULL), 0;
        if (!v) return usage("an option is missing its value");
        if (strcmp(a, "--part") == 0) part = v;
        else if (strcmp(a, "--out") == 0) out_path = v;
        else if (strcmp(a, "--configs") == 0) o.configs = v;
        else if (strcmp(a, "--seeds") == 0) target = &seeds;
        else if (strcmp(a, "--quality-seeds") == 0) target = &qseeds;
        else if (strcmp(a, "--hitl-seeds") == 0) target = &hseeds;
        else if (strcmp(a, "--seed-start") == 0) target = &o.seed_start;
        else if (strcmp(a, "--speed-trials") == 0) target = &o.speed_trials;
        else return usage("unknown option");
        if (target && parse_int(v, target)) return usage("option values must be integers >= 0");
        i++;
    }
    if (seeds == 0 || qseeds == 0 || hseeds == 0) return usage("--seeds counts must be >= 1");
    if (seeds > 0) {
        o.n_quality_seeds = seeds < QUALITY_SEEDS ? seeds : QUALITY_SEEDS;
        o.n_hitl_seeds = seeds < HITL_SEEDS ? seeds : HITL_SEEDS;
    }
    if (qseeds > 0) o.n_quality_seeds = qseeds;
    if (hseeds > 0) o.n_hitl_seeds = hseeds;
    if (o.speed_trials < 101) return usage("--speed-trials must be >= 101");

    const char *run[N_PARTS];
    size_t n_run = 0;
    char note[512] = "";
    int all = list_has(part, "all"), wanted = 0;
    for (size_t p = 0; p < N_PARTS; p++) {
        if (!all && !list_has(part, parts[p].id)) continue;
        wanted++;
        if (parts[p].run) {
            run[n_run++] = parts[p].id;
        } else if (all) {
            char buf[96];
            snprintf(buf, sizeof buf, "part %s not implemented in this build", parts[p].id);
            add_note(note, sizeof note, buf);
        } else {
            fprintf(stderr, "loupe-bench: part %s is not implemented in this build yet\n", parts[p].id);
            return 2;
        }
    }
    if (!wanted) return usage("--part must be quality, hitl, speed, all, or a comma list of them");
    int reduced = 0;
    for (size_t p = 0; p < n_run; p++) {
        char buf[96];
        if (strcmp(run[p], "quality") == 0 && o.n_quality_seeds != QUALITY_SEEDS) {
            reduced |= o.n_quality_seeds < QUALITY_SEEDS;
            snprintf(buf, sizeof buf, "%s: quality %d seeds (spec: %d)",
                     o.n_quality_seeds < QUALITY_SEEDS ? "REDUCED SEEDS" : "NON-STANDARD",
                     o.n_quality_seeds, QUALITY_SEEDS);
            add_note(note, sizeof note, buf);
        }
        if (strcmp(run[p], "hitl") == 0 && o.n_hitl_seeds != HITL_SEEDS) {
            reduced |= o.n_hitl_seeds < HITL_SEEDS;
            snprintf(buf, sizeof buf, "%s: hitl %d seeds (spec: %d)",
                     o.n_hitl_seeds < HITL_SEEDS ? "REDUCED SEEDS" : "NON-STANDARD",
                     o.n_hitl_seeds, HITL_SEEDS);
            add_note(note, sizeof note, buf);
        }
        if (strcmp(run[p], "speed") == 0 && o.speed_trials != BENCH_SPEED_TRIALS) {
            snprintf(buf, sizeof buf, "NON-STANDARD: speed %d trials (spec: %d)", o.speed_trials,
                     BENCH_SPEED_TRIALS);
            add_note(note, sizeof note, buf);
        }
    }
    if (o.configs) {
        char buf[256];
        snprintf(buf, sizeof buf, "configs limited to %s", o.configs);
        add_note(note, sizeof note, buf);
    }
    if (o.seed_start != 0) {
        char buf[64];
        snprintf(buf, sizeof buf, "seed_start %d (spec: 0)", o.seed_start);
        add_note(note, sizeof note, buf);
    }

    FILE *out = NULL;
    if (out_path && !(out = fopen(out_path, "w"))) {
        perror(out_path);
        return 1;
    }
    char command[1024];
    command_line(argc, argv, command, sizeof command);
    printf("loupe %s | SQLite %s\n", loupe_version(), sqlite3_libversion());
    if (out) write_header(out, command, run, n_run, &o, reduced, note);
    bench_sink sink = {out, loupe_version()};
    int rc = 0;
    double t0 = bench_wall_s();
    for (size_t p = 0; p < N_PARTS && !rc; p++)
        for (size_t r = 0; r < n_run && !rc; r++)
            if (strcmp(run[r], parts[p].id) == 0) rc = parts[p].run(&o, &sink);
    if (out && fclose(out) != 0) {
        perror(out_path);
        rc = 1;
    }
    if (note[0]) printf("NOTE: %s\n", note);
    printf("total %.1f s%s\n", bench_wall_s() - t0, rc ? " (FAILED)" : "");
    return rc ? 1 : 0;
}
