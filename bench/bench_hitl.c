/*
 * bench_hitl.c -- Part B of loupe-bench-1 (SPEC §2, suite "hitl", function
 * sunset): a simulated person rates colors Good / So-so / Bad by their CIELAB
 * distance to a sunset orange, with 10 % rater noise, in the batch protocol of
 * the Optuna Dashboard HITL tutorial (4 trials kept RUNNING, the oldest rated
 * first, 60 ratings per run). Reports R1 (the rating number of the first Good)
 * and G (Goods among ratings 31..60), observed and noise-free.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "util/rng.h"

#define HITL_BUDGET 60
#define HITL_BATCH 4
#define HITL_RATER_SEED_OFFSET 1000
#define HITL_LATE_FIRST 31 /* G counts Good ratings among ratings 31..60 (1-based) */
#define RATER_NOISE 0.1

enum { GOOD = 0, SOSO = 1, BAD = 2 };
static const double level_value[3] = {-1.0, 0.0, 1.0};
static const char *const level_name[3] = {"Good", "So-so", "Bad"};

/* ------------------------------------------------------------ the rater (SPEC §2.2) */

static double srgb_decode(int c8) {
    double c = c8 / 255.0;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double lab_f(double t) {
    const double eps = 216.0 / 24389.0, kappa = 24389.0 / 27.0;
    return t > eps ? cbrt(t) : (kappa * t + 16.0) / 116.0;
}

static void srgb8_to_lab(const int rgb[3], double lab[3]) {
    static const double m[3][3] = {{0.4124564, 0.3575761, 0.1804375},
                                   {0.2126729, 0.7151522, 0.0721750},
                                   {0.0193339, 0.1191920, 0.9503041}};
    static const double white[3] = {0.95047, 1.0, 1.08883};
    double lin[3], f[3];
    for (int i = 0; i < 3; i++) lin[i] = srgb_decode(rgb[i]);
    for (int i = 0; i < 3; i++)
        f[i] = lab_f((m[i][0] * lin[0] + m[i][1] * lin[1] + m[i][2] * lin[2]) / white[i]);
    lab[0] = 116.0 * f[1] - 16.0;
    lab[1] = 500.0 * (f[0] - f[1]);
    lab[2] = 200.0 * (f[1] - f[2]);
}

/* dE76 from the target sRGB (253, 94, 83). */
static double sunset_distance(const int rgb[3]) {
    static const int target[3] = {253, 94, 83};
    double a[3], b[3];
    srgb8_to_lab(rgb, a);
    srgb8_to_lab(target, b);
    return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                (a[2] - b[2]) * (a[2] - b[2]));
}

static int true_level(const int rgb[3]) {
    double d = sunset_distance(rgb);
    return d < 15.0 ? GOOD : d < 35.0 ? SOSO : BAD;
}

/* With probability 0.1 the level moves to an adjacent one (So-so: either side). */
static int noisy_level(int level, loupe__rng *rng) {
    if (loupe__rng_uniform(rng) >= RATER_NOISE) return level;
    if (level != SOSO) return SOSO;
    return loupe__rng_uniform(rng) < 0.5 ? GOOD : BAD;
}

/* ------------------------------------------------------------ one run (SPEC §2.4) */

typedef struct pending {
    loupe_trial *trial;
    int rgb[3];
} pending;

/* Asks a trial and suggests r, g, b; the suggestions are flushed to the
 * storage at once, so that the next ask sees them on this RUNNING trial (the
 * constant liar), as Optuna's suggest_int writes its param immediately. */
static int ask_color(loupe_study *study, pending *p) {
    static const char *const names[3] = {"r", "g", "b"};
    int r = loupe_study_ask(study, &p->trial);
    if (r) {
        fprintf(stderr, "loupe-bench: hitl: ask failed: %s\n", loupe_study_errmsg(study));
        p->trial = NULL;
        return r;
    }
    for (int c = 0; c < 3 && !r; c++) {
        int64_t v;
        r = loupe_trial_suggest_int(p->trial, names[c], 0, 255, 1, 0, &v);
        p->rgb[c] = (int)v;
    }
    if (!r) r = loupe_trial_flush(p->trial);
    if (r) fprintf(stderr, "loupe-bench: hitl: suggest failed: %s\n", loupe_trial_errmsg(p->trial));
    return r;
}

/* One run: observed[i] and truth[i] = the reported and the noise-free level of
 * rating i + 1. 0, or non-zero after printing what failed. */
static int hitl_run(const char *config, uint64_t seed, int *observed, int *truth) {
    loupe_storage *storage;
    loupe_study *study;
    if (bench_memory_study_new(config, seed, &storage, &study)) return 1;
    loupe__rng rater;
    loupe__rng_seed(&rater, seed + HITL_RATER_SEED_OFFSET);
    pending queue[HITL_BATCH]; /* FIFO, oldest first */
    int n_queued = 0, rc = 1;
    for (int i = 0; i < HITL_BUDGET; i++) {
        while (n_queued < HITL_BATCH) {
            if (ask_color(study, &queue[n_queued])) {
                if (queue[n_queued].trial) n_queued++;
                goto cleanup;
            }
            n_queued++;
        }
        pending oldest = queue[0];
        for (int k = 1; k < n_queued; k++) queue[k - 1] = queue[k];
        n_queued--;
        truth[i] = true_level(oldest.rgb);
        observed[i] = noisy_level(truth[i], &rater);
        int r = loupe_trial_tell(oldest.trial, LOUPE_COMPLETE, 1, &level_value[observed[i]],
                                 LOUPE_TELL_DEFAULT);
        if (r) fprintf(stderr, "loupe-bench: hitl: tell failed: %s\n", loupe_trial_errmsg(oldest.trial));
        loupe_trial_free(oldest.trial);
        if (r) goto cleanup;
    }
    rc = 0;
cleanup:
    for (int k = 0; k < n_queued; k++) loupe_trial_free(queue[k].trial); /* left RUNNING */
    loupe_study_close(study);
    loupe_storage_close(storage);
    return rc;
}

static double first_good(const int *levels) {
    for (int i = 0; i < HITL_BUDGET; i++)
        if (levels[i] == GOOD) return i + 1;
    return HITL_BUDGET + 1;
}

static double late_goods(const int *levels) {
    int n = 0;
    for (int i = HITL_LATE_FIRST - 1; i < HITL_BUDGET; i++) n += levels[i] == GOOD;
    return n;
}

/* ------------------------------------------------------------ the part */

static const char *const hitl_configs[] = {"random", "tpe_seed_config"};
#define N_HITL_CONFIGS (sizeof hitl_configs / sizeof *hitl_configs)
static const char *const metric_names[4] = {"r1", "g", "r1true", "gtrue"};

int bench_part_hitl(const bench_options *opts, const bench_sink *sink) {
    size_t n = (size_t)opts->n_hitl_seeds;
    double *per_seed[4] = {NULL};
    int rc = 1;
    for (int m = 0; m < 4; m++)
        if (!(per_seed[m] = malloc(n * sizeof(double)))) {
            fprintf(stderr, "loupe-bench: out of memory\n");
            goto cleanup;
        }
    for (size_t k = 0; k < N_HITL_CONFIGS; k++) {
        const char *config = hitl_configs[k];
        if (!bench_config_selected(opts, config)) continue;
        double t0 = bench_wall_s();
        for (size_t s = 0; s < n; s++) {
            int observed[HITL_BUDGET], truth[HITL_BUDGET];
            if (hitl_run(config, (uint64_t)opts->seed_start + s, observed, truth)) goto cleanup;
            per_seed[0][s] = first_good(observed);
            per_seed[1][s] = late_goods(observed);
            per_seed[2][s] = first_good(truth);
            per_seed[3][s] = late_goods(truth);
        }
        double elapsed = bench_wall_s() - t0;
        bench_summary sum[4];
        for (int m = 0; m < 4; m++)
            if (bench_summarize(per_seed[m], n, &sum[m])) {
                fprintf(stderr, "loupe-bench: out of memory\n");
                goto cleanup;
            }
        if (sink->out) {
            bench_json j;
            bench_record_begin(&j, sink, "hitl", "sunset", config);
            bench_int(&j, "n_seeds", opts->n_hitl_seeds);
            bench_int(&j, "seed_start", opts->seed_start);
            bench_int(&j, "budget", HITL_BUDGET);
            bench_int(&j, "n_batch", HITL_BATCH);
            bench_open(&j, "metrics", '{');
            for (int m = 0; m < 4; m++) bench_summary_write(&j, metric_names[m], &sum[m]);
            bench_close(&j, '}');
            bench_open(&j, "per_seed", '{');
            for (int m = 0; m < 4; m++) bench_array_write(&j, metric_names[m], per_seed[m], n, 1);
            bench_close(&j, '}');
            bench_num(&j, "elapsed_s", round(elapsed * 1000.0) / 1000.0);
            bench_obj_end(&j);
        }
        fprintf(stderr, "hitl    sunset      %-16s R1 median %g [%g, %g]  G mean %.3f  (%.1fs)\n",
                config, sum[0].median, sum[0].q1, sum[0].q3, sum[1].mean, elapsed);
    }
    rc = 0;
cleanup:
    for (int m = 0; m < 4; m++) free(per_seed[m]);
    return rc;
}

/* ------------------------------------------------------------ --selfcheck (SPEC §2.2) */

int bench_hitl_selfcheck(void) {
    static const struct {
        int rgb[3];
        double lab[3], d;
        int level;
    } vectors[] = {
        {{253, 94, 83}, {61.236963, 59.863757, 38.756447}, 0, GOOD},
        {{240, 100, 80}, {60.090874, 52.692069, 38.534010}, 7.266093, GOOD},
        {{200, 80, 60}, {49.913874, 46.614851, 36.016415}, 17.642382, SOSO},
        {{255, 0, 0}, {53.240794, 80.092460, 67.203197}, 35.810008, BAD},
        {{255, 255, 255}, {100.000004, -0.000017, 0.000007}, 81.168384, BAD},
        {{0, 0, 0}, {0, 0, 0}, 93.998389, BAD},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
        double lab[3], d = sunset_distance(vectors[i].rgb);
        int level = true_level(vectors[i].rgb), ok = level == vectors[i].level;
        srgb8_to_lab(vectors[i].rgb, lab);
        /* the table has 6 decimals */
        for (int c = 0; c < 3; c++) ok &= fabs(lab[c] - vectors[i].lab[c]) <= 6e-7;
        ok &= fabs(d - vectors[i].d) <= 6e-7;
        failures += !ok;
        printf("%s sunset (%d, %d, %d): Lab (%.6f, %.6f, %.6f) dE %.6f %s\n", ok ? "PASS" : "FAIL",
               vectors[i].rgb[0], vectors[i].rgb[1], vectors[i].rgb[2], lab[0], lab[1], lab[2], d,
               level_name[level]);
    }
    /* The noise model: over many ratings of a Good, a So-so and a Bad color the
     * level moves with probability 0.1 (So-so: half up, half down). */
    loupe__rng rng;
    loupe__rng_seed(&rng, 1000);
    int counts[3][3] = {{0}};
    const int n = 200000;
    for (int from = 0; from < 3; from++)
        for (int i = 0; i < n; i++) counts[from][noisy_level(from, &rng)]++;
    double good_stays = counts[GOOD][GOOD] / (double)n, soso_up = counts[SOSO][GOOD] / (double)n;
    int ok = fabs(good_stays - 0.9) < 0.005 && counts[GOOD][BAD] == 0 && counts[BAD][GOOD] == 0 &&
             fabs(soso_up - 0.05) < 0.003 && fabs(counts[SOSO][BAD] / (double)n - 0.05) < 0.003;
    failures += !ok;
    printf("%s rater noise: Good kept %.4f (0.9), So-so->Good %.4f (0.05), Good->Bad %d, Bad->Good %d\n",
           ok ? "PASS" : "FAIL", good_stays, soso_up, counts[GOOD][BAD], counts[BAD][GOOD]);
    return failures;
}
