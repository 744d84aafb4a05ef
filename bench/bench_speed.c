/*
 * bench_speed.c -- Part C of loupe-bench-1 (SPEC §3, suite "speed", function
 * sphere10): sequential ask + suggest 10 floats + evaluate + tell, seed 0,
 * 1000 trials, timed from after study creation to the last tell, on the
 * in-memory and on the SQLite storage (a fresh file in a fresh directory under
 * $TMPDIR or /tmp, library-default durability).
 *
 * Configurations: the SPEC §3 table, plus two the spec does not list:
 * random_memory, which isolates the core's own cost (bench/optuna_speed.py
 * measures Optuna on it with the reference runner's code), and
 * random_sqlite_nosync, the SQLite run opened with LOUPE_OPEN_NOSYNC (no fsync
 * on commit). SPEC §3 requires the library's default durability, so that one is
 * informational only: it shows how much of the SQLite time is waiting on fsync.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define SPHERE10_DIM 10

static const struct {
    const char *id;
    const char *sampler;
    const char *storage; /* "memory" or "sqlite" */
    unsigned open_flags;
} speed_configs[] = {
    {"tpe_mv_memory", "tpe_mv", "memory", LOUPE_OPEN_DEFAULT},
    {"tpe_mv_sqlite", "tpe_mv", "sqlite", LOUPE_OPEN_DEFAULT},
    {"random_sqlite", "random", "sqlite", LOUPE_OPEN_DEFAULT},
    {"random_memory", "random", "memory", LOUPE_OPEN_DEFAULT},
    {"random_sqlite_nosync", "random", "sqlite", LOUPE_OPEN_NOSYNC},
};
#define N_SPEED_CONFIGS (sizeof speed_configs / sizeof *speed_configs)

/* SPEC §3: f = sum (x_i - s_i)^2 with s_i = i - 4.5. */
static double sphere10(const double *x) {
    double f = 0;
    for (int i = 0; i < SPHERE10_DIM; i++) {
        double d = x[i] - ((double)i - 4.5);
        f += d * d;
    }
    return f;
}

typedef struct speed_result {
    double wall_s, cpu_s, first100_ms, last100_ms, best;
} speed_result;

/* A fresh directory for the database; "" for memory. */
static int make_db_dir(char *dir, size_t cap) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/loupe-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static void remove_db_dir(const char *dir) {
    static const char *const files[] = {"bench.db", "bench.db-journal", "bench.db-wal",
                                        "bench.db-shm"};
    char path[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* One timed run; 0, or non-zero after printing the failure. */
static int speed_run(const char *sampler_id, const char *storage_kind, unsigned open_flags,
                     int n_trials, speed_result *res) {
    char dir[PATH_MAX] = "", url[PATH_MAX + 32];
    loupe_storage *storage = NULL;
    loupe_study *study = NULL;
    loupe_sampler *sampler = NULL;
    double *stamps = malloc((size_t)n_trials * sizeof *stamps);
    int rc = 1;
    if (!stamps) {
        fprintf(stderr, "loupe-bench: out of memory\n");
        return 1;
    }
    if (strcmp(storage_kind, "sqlite") == 0) {
        if (make_db_dir(dir, sizeof dir)) {
            perror("loupe-bench: cannot create a temporary directory (set TMPDIR)");
            goto cleanup;
        }
        snprintf(url, sizeof url, "sqlite:///%s/bench.db", dir);
    } else {
        snprintf(url, sizeof url, ":memory:");
    }
    int r = loupe_storage_open(url, open_flags, &storage);
    if (r) {
        fprintf(stderr, "loupe-bench: cannot open %s: %s\n", url,
                storage ? loupe_storage_errmsg(storage) : loupe_strerror(r));
        goto cleanup;
    }
    loupe_direction dir_min = LOUPE_MINIMIZE;
    if ((r = loupe_study_create(storage, NULL, 1, &dir_min, LOUPE_CREATE_DEFAULT, &study))) {
        fprintf(stderr, "loupe-bench: cannot create the study: %s\n", loupe_storage_errmsg(storage));
        goto cleanup;
    }
    if ((r = bench_sampler_new(sampler_id, BENCH_SPEED_SEED, &sampler))) {
        fprintf(stderr, "loupe-bench: cannot create sampler '%s': %s\n", sampler_id,
                loupe_strerror(r));
        goto cleanup;
    }
    loupe_study_set_sampler(study, sampler); /* the study owns it now */

    /* the names are made once, as the reference runner's parameter objects carry theirs */
    char names[SPHERE10_DIM][8];
    for (int k = 0; k < SPHERE10_DIM; k++) snprintf(names[k], sizeof names[k], "x%d", k);
    double best = INFINITY;
    double c0 = bench_cpu_s(), t0 = bench_wall_s();
    for (int i = 0; i < n_trials; i++) {
        loupe_trial *trial;
        double x[SPHERE10_DIM];
        if ((r = loupe_study_ask(study, &trial))) {
            fprintf(stderr, "loupe-bench: ask %d failed: %s\n", i, loupe_study_errmsg(study));
            goto cleanup;
        }
        for (int k = 0; k < SPHERE10_DIM && !r; k++)
            r = loupe_trial_suggest_float(trial, names[k], -10.0, 10.0, 0, 0, &x[k]);
        double value = r ? 0 : sphere10(x);
        if (!r) r = loupe_trial_tell(trial, LOUPE_COMPLETE, 1, &value, LOUPE_TELL_DEFAULT);
        if (r) fprintf(stderr, "loupe-bench: trial %d failed: %s\n", i, loupe_trial_errmsg(trial));
        loupe_trial_free(trial);
        if (r) goto cleanup;
        if (value < best) best = value;
        stamps[i] = bench_wall_s();
    }
    res->cpu_s = bench_cpu_s() - c0;
    res->wall_s = stamps[n_trials - 1] - t0;
    res->first100_ms = 1000.0 * (stamps[99] - t0) / 100.0;
    res->last100_ms = 1000.0 * (stamps[n_trials - 1] - stamps[n_trials - 101]) / 100.0;
    res->best = best;
    rc = 0;
cleanup:
    loupe_study_close(study);
    loupe_storage_close(storage);
    if (dir[0]) remove_db_dir(dir);
    free(stamps);
    return rc;
}

void bench_speed_list(void) {
    for (size_t i = 0; i < N_SPEED_CONFIGS; i++)
        printf("%s %s %s\n", speed_configs[i].id, speed_configs[i].sampler, speed_configs[i].storage);
}

int bench_part_speed(const bench_options *opts, const bench_sink *sink) {
    int n = opts->speed_trials;
    for (size_t c = 0; c < N_SPEED_CONFIGS; c++) {
        const char *id = speed_configs[c].id;
        if (!bench_config_selected(opts, id)) continue;
        speed_result res;
        double load0 = bench_loadavg();
        if (speed_run(speed_configs[c].sampler, speed_configs[c].storage,
                      speed_configs[c].open_flags, n, &res)) {
            fprintf(stderr, "loupe-bench: speed %s failed\n", id);
            return 1;
        }
        double load1 = bench_loadavg();
        if (sink->out) {
            bench_json j;
            bench_record_begin(&j, sink, "speed", "sphere10", id);
            bench_str(&j, "sampler", speed_configs[c].sampler);
            bench_str(&j, "storage", speed_configs[c].storage);
            if (speed_configs[c].open_flags & LOUPE_OPEN_NOSYNC)
                bench_str(&j, "note", "LOUPE_OPEN_NOSYNC: no fsync on commit; not the spec's "
                                      "default durability (informational)");
            bench_int(&j, "n_seeds", 1);
            bench_int(&j, "seed_start", BENCH_SPEED_SEED);
            bench_int(&j, "budget", n);
            bench_num(&j, "optimum", 0.0);
            bench_open(&j, "metrics", '{');
            bench_int(&j, "n_trials", n);
            bench_num(&j, "wall_s", res.wall_s);
            bench_num(&j, "trials_per_s", n / res.wall_s);
            bench_num(&j, "cpu_s", res.cpu_s);
            bench_num(&j, "first100_ms_per_trial", res.first100_ms);
            bench_num(&j, "last100_ms_per_trial", res.last100_ms);
            bench_num(&j, "best_value", res.best);
            bench_close(&j, '}');
            bench_open(&j, "loadavg_1m", '[');
            bench_num(&j, NULL, load0);
            bench_num(&j, NULL, load1);
            bench_close(&j, ']');
            bench_obj_end(&j);
        }
        fprintf(stderr,
                "speed   sphere10    %-15s %.3f s (cpu %.3f s)  %.1f trials/s  best %.4g  "
                "(load %.2f -> %.2f)\n",
                id, res.wall_s, res.cpu_s, n / res.wall_s, res.best, load0, load1);
    }
    return 0;
}
