/*
 * testdriver.c -- loupe-testdriver: the commands that the process-level tests
 * in tests/interop/test_*.sh run against a storage URL (public API only):
 *
 *   dump URL [--skip-schema-check]   canonical JSON of every study (td_dump.c)
 *   write-scenario URL               the loupe-side interop studies (td_scenario.c)
 *   continue URL STUDY               ask the next trial (a WAITING one if any) and a
 *                                    fresh one, suggest the study's params, tell both
 *   revision URL [--skip-schema-check]  open and print "<status> <revision>"
 *   upgrade URL                      loupe_storage_upgrade; prints "<upgraded> <message>"
 *   worker URL STUDY N SEED          N ask/tell loops (study created if missing)
 *   reader URL STUDY STOPFILE        polls get_trials until STOPFILE exists, checking
 *                                    every snapshot (dense numbers, complete trials whole)
 *   enqueue URL STUDY N              creates STUDY with N WAITING trials {"x": i}
 *   claim URL STUDY N                asks until the queue is empty; prints claimed numbers
 *   crash-loop URL STUDY SEED [--nosync]  ask/suggest/report/attr/tell forever (to be
 *                                    killed); prints a line after each trial; --nosync
 *                                    opens with LOUPE_OPEN_NOSYNC
 *   check-crash URL STUDY MAXRUN     checks the invariants killed crash-loops must keep
 *                                    (at most MAXRUN RUNNING trials: one per kill), then
 *                                    runs 3 more trials
 * Exit status 0 on success; 1 with a message on stderr otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testdriver.h"

#define N_CRASH_PARAMS 10
#define N_CRASH_STEPS 3

static int usage(void) {
    fputs("usage: loupe-testdriver dump|write-scenario|continue|revision|upgrade|worker|reader|"
          "enqueue|claim|crash-loop|check-crash URL [args] (see tests/tools/testdriver.c)\n",
          stderr);
    return 2;
}

static int open_storage(const char *url, unsigned flags, loupe_storage **out) {
    int rc = loupe_storage_open(url, flags, out);
    if (rc) {
        td_fail("loupe_storage_open", rc, *out ? loupe_storage_errmsg(*out) : "out of memory");
        loupe_storage_close(*out);
        *out = NULL;
    }
    return rc;
}

/* Loads STUDY, or creates it (minimize) when create is set, with a seeded random sampler. */
static int open_study(loupe_storage *s, const char *name, int create, uint64_t seed,
                      loupe_study **out) {
    loupe_direction d = LOUPE_MINIMIZE;
    int rc = create ? loupe_study_create(s, name, 1, &d, LOUPE_LOAD_IF_EXISTS, out)
                    : loupe_study_load(s, name, out);
    if (rc) return td_fail(create ? "loupe_study_create" : "loupe_study_load", rc,
                           loupe_storage_errmsg(s));
    loupe_sampler *sampler;
    if ((rc = loupe_sampler_random_new(seed, &sampler))) return td_fail("sampler", rc, "");
    loupe_study_set_sampler(*out, sampler);
    return LOUPE_OK;
}

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ dump, revision, upgrade */

static int cmd_dump(const char *url, unsigned flags) {
    loupe_storage *s;
    if (open_storage(url, flags, &s)) return 1;
    int rc = td_dump(s, stdout);
    loupe_storage_close(s);
    return rc ? 1 : 0;
}

static int cmd_revision(const char *url, unsigned flags) {
    loupe_storage *s = NULL;
    int rc = loupe_storage_open(url, flags, &s);
    printf("%s %s\n", rc ? loupe_strerror(rc) : "ok", s ? loupe_storage_schema_revision(s) : "-");
    if (rc) fprintf(stderr, "%s\n", s ? loupe_storage_errmsg(s) : "out of memory");
    loupe_storage_close(s);
    return rc ? 1 : 0;
}

static int cmd_upgrade(const char *url) {
    int upgraded = -1;
    char *message = NULL;
    int rc = loupe_storage_upgrade(url, &upgraded, &message);
    printf("%d %s\n", upgraded, message ? message : "");
    if (rc) td_fail("loupe_storage_upgrade", rc, message);
    loupe_free(message);
    return rc ? 1 : 0;
}

static int cmd_write_scenario(const char *url) {
    loupe_storage *s;
    if (open_storage(url, 0, &s)) return 1;
    int rc = td_write_scenario(s);
    loupe_storage_close(s);
    return rc ? 1 : 0;
}

/* ------------------------------------------------------------------ continue */

/* Suggests name with dist (as stored by another writer); *value gets its JSON. */
static int suggest_like(loupe_trial *t, const char *name, const loupe_distribution *dist) {
    double f;
    int64_t i;
    size_t idx;
    int rc;
    switch (dist->kind) {
    case LOUPE_DIST_FLOAT:
        rc = loupe_trial_suggest_float(t, name, dist->low, dist->high, dist->step, dist->log, &f);
        break;
    case LOUPE_DIST_INT:
        rc = loupe_trial_suggest_int(t, name, (int64_t)dist->low, (int64_t)dist->high,
                                     (int64_t)dist->step, dist->log, &i);
        break;
    default:
        rc = loupe_trial_suggest_categorical(t, name, dist->n_choices, dist->choices, &idx);
        break;
    }
    return rc ? td_fail(name, rc, loupe_trial_errmsg(t)) : LOUPE_OK;
}

/* Suggests every param name seen in the study (first distribution of each name),
 * then tells COMPLETE with value = the trial number + 0.5. */
static int run_like(loupe_study *st, const loupe_trial_list *seen, loupe_trial *t) {
    size_t n = loupe_trial_list_count(seen);
    for (size_t i = 0; i < n; i++) {
        const loupe_frozen_trial *ft = loupe_trial_list_at(seen, i);
        for (size_t p = 0; p < ft->n_params; p++) {
            const char *name = ft->params[p].name;
            int first = 1; /* the first trial in number order that has the name */
            for (size_t j = 0; j < i && first; j++)
                if (loupe_frozen_trial_param(loupe_trial_list_at(seen, j), name)) first = 0;
            if (first && suggest_like(t, name, &ft->params[p].dist)) return LOUPE_ERROR;
        }
    }
    size_t n_obj = loupe_study_n_objectives(st);
    double values[8];
    for (size_t k = 0; k < n_obj && k < 8; k++) values[k] = (double)loupe_trial_number(t) + 0.5;
    int rc = loupe_trial_tell(t, LOUPE_COMPLETE, n_obj, values, 0);
    return rc ? td_fail("loupe_trial_tell", rc, loupe_trial_errmsg(t)) : LOUPE_OK;
}

static int cmd_continue(const char *url, const char *name) {
    loupe_storage *s;
    loupe_study *st = NULL;
    loupe_trial_list *seen = NULL;
    int rc = 1;
    if (open_storage(url, 0, &s)) return 1;
    if (open_study(s, name, 0, 7, &st)) goto cleanup;
    int r = loupe_study_get_trials(st, 0, &seen);
    if (r) {
        td_fail("loupe_study_get_trials", r, loupe_study_errmsg(st));
        goto cleanup;
    }
    for (int k = 0; k < 2; k++) {
        loupe_trial *t;
        if ((r = loupe_study_ask(st, &t))) {
            td_fail("loupe_study_ask", r, loupe_study_errmsg(st));
            goto cleanup;
        }
        r = run_like(st, seen, t);
        printf("%lld\n", (long long)loupe_trial_number(t));
        loupe_trial_free(t);
        if (r) goto cleanup;
    }
    rc = 0;
cleanup:
    loupe_trial_list_free(seen);
    loupe_study_close(st);
    loupe_storage_close(s);
    return rc;
}

/* ------------------------------------------------------------------ concurrency */

static int cmd_worker(const char *url, const char *name, long n, uint64_t seed) {
    loupe_storage *s;
    loupe_study *st = NULL;
    int rc = 1;
    if (open_storage(url, 0, &s)) return 1;
    if (open_study(s, name, 1, seed, &st)) goto cleanup;
    for (long i = 0; i < n; i++) {
        loupe_trial *t;
        double x, y;
        int r = loupe_study_ask(st, &t);
        if (r) {
            td_fail("loupe_study_ask", r, loupe_study_errmsg(st));
            goto cleanup;
        }
        if ((r = loupe_trial_suggest_float(t, "x", -10, 10, 0, 0, &x)) ||
            (r = loupe_trial_suggest_float(t, "y", -10, 10, 0, 0, &y))) {
            td_fail("suggest", r, loupe_trial_errmsg(t));
            loupe_trial_free(t);
            goto cleanup;
        }
        double v = (x - 2) * (x - 2) + y * y;
        r = loupe_trial_tell(t, LOUPE_COMPLETE, 1, &v, 0);
        if (r) td_fail("loupe_trial_tell", r, loupe_trial_errmsg(t));
        printf("%lld\n", (long long)loupe_trial_number(t));
        loupe_trial_free(t);
        if (r) goto cleanup;
    }
    rc = 0;
cleanup:
    fflush(stdout);
    loupe_study_close(st);
    loupe_storage_close(s);
    return rc;
}

/* One consistent snapshot: numbers 0..n-1 by trial_id order, COMPLETE trials
 * carry their value (= f(x, y)) and both params. Returns 0 or 1 (message printed). */
static int check_snapshot(const loupe_trial_list *list, long poll) {
    size_t n = loupe_trial_list_count(list);
    for (size_t i = 0; i < n; i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(list, i);
        if (t->number != (int64_t)i ||
            (i > 0 && t->trial_id <= loupe_trial_list_at(list, i - 1)->trial_id)) {
            fprintf(stderr, "reader poll %ld: trial %zu has number %lld (trial_id %lld); numbers "
                    "must be dense and follow trial_id\n", poll, i, (long long)t->number,
                    (long long)t->trial_id);
            return 1;
        }
        if (t->state == LOUPE_COMPLETE) {
            const loupe_param *x = loupe_frozen_trial_param(t, "x");
            const loupe_param *y = loupe_frozen_trial_param(t, "y");
            if (t->n_values != 1 || !x || !y || t->n_params != 2 ||
                t->values[0] != (x->internal - 2) * (x->internal - 2) + y->internal * y->internal ||
                t->datetime_complete_us < 0) {
                fprintf(stderr, "reader poll %ld: COMPLETE trial %lld is not whole (values %zu, "
                        "params %zu)\n", poll, (long long)t->number, t->n_values, t->n_params);
                return 1;
            }
        } else if (t->state != LOUPE_RUNNING || t->n_values != 0 ||
                   (t->n_params != 0 && t->n_params != 2)) {
            fprintf(stderr, "reader poll %ld: trial %lld in state %s has %zu values and %zu "
                    "params\n", poll, (long long)t->number, loupe_trial_state_name(t->state),
                    t->n_values, t->n_params);
            return 1;
        }
    }
    return 0;
}

static int cmd_reader(const char *url, const char *name, const char *stopfile) {
    loupe_storage *s;
    loupe_study *st = NULL;
    int rc = 1;
    long polls = 0;
    size_t last = 0;
    if (open_storage(url, 0, &s)) return 1;
    /* the workers create the study; wait for it (up to 60 s) */
    for (int tries = 0; tries < 6000; tries++) {
        loupe_study_list *l;
        int r = loupe_storage_list_studies(s, &l);
        if (r) {
            td_fail("loupe_storage_list_studies", r, loupe_storage_errmsg(s));
            goto cleanup;
        }
        size_t cnt = loupe_study_list_count(l);
        loupe_study_list_free(l);
        if (cnt) break;
        sleep_us(10000);
    }
    if (open_study(s, name, 0, 1, &st)) goto cleanup;
    for (int stop = 0; !stop;) {
        stop = access(stopfile, F_OK) == 0; /* one last poll after the workers are done */
        loupe_trial_list *list;
        int r = loupe_study_get_trials(st, 0, &list);
        if (r) {
            td_fail("loupe_study_get_trials", r, loupe_study_errmsg(st));
            goto cleanup;
        }
        polls++;
        r = check_snapshot(list, polls);
        if (loupe_trial_list_count(list) < last) {
            fprintf(stderr, "reader poll %ld: %zu trials after %zu\n", polls,
                    loupe_trial_list_count(list), last);
            r = 1;
        }
        last = loupe_trial_list_count(list);
        loupe_trial_list_free(list);
        if (r) goto cleanup;
        sleep_us(2000);
    }
    printf("polls %ld trials %zu\n", polls, last);
    rc = 0;
cleanup:
    loupe_study_close(st);
    loupe_storage_close(s);
    return rc;
}

static int cmd_enqueue(const char *url, const char *name, long n) {
    loupe_storage *s;
    loupe_study *st = NULL;
    int rc = 1;
    if (open_storage(url, 0, &s)) return 1;
    if (open_study(s, name, 1, 1, &st)) goto cleanup;
    for (long i = 0; i < n; i++) {
        char params[64];
        int64_t number;
        snprintf(params, sizeof params, "{\"x\": %ld}", i);
        int r = loupe_study_enqueue_trial(st, params, NULL, &number);
        if (r || number != i) {
            td_fail("loupe_study_enqueue_trial", r ? r : LOUPE_ERROR,
                    r ? loupe_study_errmsg(st) : "unexpected trial number");
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    loupe_study_close(st);
    loupe_storage_close(s);
    return rc;
}

/* Asks until a fresh (not enqueued) trial comes; each claimed trial i must carry
 * x = i and is told COMPLETE with value x; the fresh one is told FAIL. */
static int cmd_claim(const char *url, const char *name, long n) {
    loupe_storage *s;
    loupe_study *st = NULL;
    int rc = 1;
    if (open_storage(url, 0, &s)) return 1;
    if (open_study(s, name, 0, (uint64_t)getpid(), &st)) goto cleanup;
    for (;;) {
        loupe_trial *t;
        int64_t x;
        int r = loupe_study_ask(st, &t);
        if (r) {
            td_fail("loupe_study_ask", r, loupe_study_errmsg(st));
            goto cleanup;
        }
        int64_t number = loupe_trial_number(t);
        if (number >= n) {
            r = loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0);
            if (r) td_fail("loupe_trial_tell", r, loupe_trial_errmsg(t));
            loupe_trial_free(t);
            if (r) goto cleanup;
            break;
        }
        r = loupe_trial_suggest_int(t, "x", 0, n, 1, 0, &x);
        if (r || x != number) {
            td_fail("suggest on a claimed trial", r ? r : LOUPE_ERROR,
                    r ? loupe_trial_errmsg(t) : "the fixed param does not match the trial");
            loupe_trial_free(t);
            goto cleanup;
        }
        double v = (double)x;
        r = loupe_trial_tell(t, LOUPE_COMPLETE, 1, &v, 0);
        if (r) td_fail("loupe_trial_tell", r, loupe_trial_errmsg(t));
        loupe_trial_free(t);
        if (r) goto cleanup;
        printf("%lld\n", (long long)number);
    }
    rc = 0;
cleanup:
    fflush(stdout);
    loupe_study_close(st);
    loupe_storage_close(s);
    return rc;
}

/* ------------------------------------------------------------------ crash safety */

static double crash_value(const double *x) {
    double v = 0;
    for (int i = 0; i < N_CRASH_PARAMS; i++) v += (x[i] - 1) * (x[i] - 1);
    return v;
}

/* One crash-loop trial on an asked trial t: 10 suggestions (written with the
 * first report), 3 reports, a user attr, then a tell: FAIL when i % 7 == 2,
 * PRUNED when i % 11 == 1, else COMPLETE with crash_value(x). */
static int crash_trial(loupe_trial *t, long i) {
    double x[N_CRASH_PARAMS];
    int r = 0;
    for (int p = 0; p < N_CRASH_PARAMS && !r; p++) {
        char pname[8];
        snprintf(pname, sizeof pname, "x%d", p);
        r = loupe_trial_suggest_float(t, pname, -5, 5, 0, 0, &x[p]);
    }
    for (int k = 0; k < N_CRASH_STEPS && !r; k++)
        r = loupe_trial_report(t, crash_value(x) + N_CRASH_STEPS - k, k);
    if (!r) r = loupe_trial_set_user_attr(t, "done", "true");
    if (!r) {
        double v = crash_value(x);
        if (i % 7 == 2)
            r = loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0);
        else if (i % 11 == 1)
            r = loupe_trial_tell(t, LOUPE_PRUNED, 0, NULL, 0);
        else
            r = loupe_trial_tell(t, LOUPE_COMPLETE, 1, &v, 0);
    }
    return r ? td_fail("crash-loop trial", r, loupe_trial_errmsg(t)) : LOUPE_OK;
}

/* Runs crash_trial forever; every 5th trial is enqueued first ({"x0": 0.5})
 * and claimed by the ask. */
static int cmd_crash_loop(const char *url, const char *name, uint64_t seed, unsigned flags) {
    loupe_storage *s;
    loupe_study *st = NULL;
    if (open_storage(url, flags, &s)) return 1;
    if (open_study(s, name, 1, seed, &st)) goto fail;
    for (long i = 0;; i++) {
        loupe_trial *t;
        int r;
        if (i % 5 == 0 && (r = loupe_study_enqueue_trial(st, "{\"x0\": 0.5}", NULL, NULL))) {
            td_fail("loupe_study_enqueue_trial", r, loupe_study_errmsg(st));
            goto fail;
        }
        if ((r = loupe_study_ask(st, &t))) {
            td_fail("loupe_study_ask", r, loupe_study_errmsg(st));
            goto fail;
        }
        r = crash_trial(t, i);
        loupe_trial_free(t);
        if (r) goto fail;
        printf("%ld\n", i); /* progress, for the test to time its kill */
    }
fail:
    loupe_study_close(st);
    loupe_storage_close(s);
    return 1;
}

/* The invariants of a crash-loop database (see cmd_crash_loop); 0 or 1. */
static int check_crash_trial(const loupe_frozen_trial *t, size_t index, int64_t prev_id) {
    const char *why = NULL;
    double x[N_CRASH_PARAMS];
    int whole = t->n_params == N_CRASH_PARAMS;
    for (size_t p = 0; p < t->n_params && p < N_CRASH_PARAMS; p++) x[p] = t->params[p].internal;
    if (t->number != (int64_t)index || t->trial_id <= prev_id)
        why = "numbers are not dense in trial_id order";
    else if (t->n_params != 0 && !whole)
        why = "params are partially written";
    else if (t->n_intermediate > 0 && !whole)
        why = "intermediate values without params";
    else if (t->n_intermediate > N_CRASH_STEPS)
        why = "too many intermediate values";
    for (size_t k = 0; !why && k < t->n_intermediate; k++)
        if (t->intermediate[k].step != (int64_t)k ||
            t->intermediate[k].value != crash_value(x) + N_CRASH_STEPS - (double)k)
            why = "intermediate values do not match the params";
    if (!why) switch (t->state) {
        case LOUPE_COMPLETE:
            if (!whole || t->n_values != 1 || t->values[0] != crash_value(x) ||
                t->n_intermediate != N_CRASH_STEPS || !loupe_frozen_trial_user_attr(t, "done") ||
                t->datetime_complete_us < 0)
                why = "COMPLETE trial is not whole";
            break;
        case LOUPE_PRUNED:
            if (!whole || t->n_values != 1 || t->n_intermediate != N_CRASH_STEPS ||
                t->values[0] != t->intermediate[N_CRASH_STEPS - 1].value || t->datetime_complete_us < 0)
                why = "PRUNED trial is not whole";
            break;
        case LOUPE_FAIL:
            if (t->n_values != 0 || t->datetime_complete_us < 0) why = "FAIL trial has values";
            break;
        case LOUPE_RUNNING:
            if (t->n_values != 0 || t->datetime_complete_us >= 0 || t->datetime_start_us < 0)
                why = "RUNNING trial has values or a completion time";
            break;
        case LOUPE_WAITING:
            if (t->n_values || t->n_params || !loupe_frozen_trial_system_attr(t, "fixed_params") ||
                t->datetime_start_us >= 0)
                why = "WAITING trial is not a fresh enqueued trial";
            break;
        }
    if (!why) return 0;
    fprintf(stderr, "check-crash: trial %lld (id %lld, %s, %zu params, %zu values, %zu "
            "intermediate): %s\n", (long long)t->number, (long long)t->trial_id,
            loupe_trial_state_name(t->state), t->n_params, t->n_values, t->n_intermediate, why);
    return 1;
}

static int cmd_check_crash(const char *url, const char *name, size_t max_running) {
    loupe_storage *s;
    loupe_study *st = NULL;
    loupe_trial_list *list = NULL;
    int rc = 1;
    if (open_storage(url, 0, &s)) return 1;
    int r = loupe_study_load(s, name, &st);
    if (r == LOUPE_ENOTFOUND) { /* killed before the study was created */
        printf("no study\n");
        rc = 0;
        goto cleanup;
    }
    loupe_study_close(st);
    st = NULL;
    if (open_study(s, name, 0, 3, &st)) goto cleanup;
    if ((r = loupe_study_get_trials(st, 0, &list))) {
        td_fail("loupe_study_get_trials", r, loupe_study_errmsg(st));
        goto cleanup;
    }
    size_t n = loupe_trial_list_count(list), running = 0, waiting = 0;
    int64_t prev_id = 0;
    for (size_t i = 0; i < n; i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(list, i);
        if (check_crash_trial(t, i, prev_id)) goto cleanup;
        prev_id = t->trial_id;
        running += t->state == LOUPE_RUNNING;
        waiting += t->state == LOUPE_WAITING;
    }
    if (running > max_running || waiting > 1) {
        fprintf(stderr, "check-crash: %zu RUNNING and %zu WAITING trials; %zu kills may leave at "
                "most %zu RUNNING and 1 WAITING\n", running, waiting, max_running, max_running);
        goto cleanup;
    }
    /* the database stays usable: three more (COMPLETE) trials get the next
     * numbers; a WAITING trial left by the kill is claimed first */
    int64_t next = (int64_t)n;
    for (int k = 0; k < 3; k++) {
        loupe_trial *t;
        if ((r = loupe_study_ask(st, &t))) {
            td_fail("loupe_study_ask after the crash", r, loupe_study_errmsg(st));
            goto cleanup;
        }
        int64_t expect = k == 0 && waiting ? (int64_t)n - 1 : next++;
        if (loupe_trial_number(t) != expect) {
            fprintf(stderr, "check-crash: ask after the crash gave trial %lld, expected %lld\n",
                    (long long)loupe_trial_number(t), (long long)expect);
            loupe_trial_free(t);
            goto cleanup;
        }
        r = crash_trial(t, 0);
        loupe_trial_free(t);
        if (r) goto cleanup;
    }
    printf("trials %zu running %zu waiting %zu\n", n, running, waiting);
    rc = 0;
cleanup:
    loupe_trial_list_free(list);
    loupe_study_close(st);
    loupe_storage_close(s);
    return rc;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *cmd = argv[1], *url = argv[2];
    unsigned flags = argc > 3 && strcmp(argv[3], "--skip-schema-check") == 0
                         ? LOUPE_OPEN_SKIP_SCHEMA_CHECK
                         : LOUPE_OPEN_DEFAULT;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(cmd, "dump") == 0) return cmd_dump(url, flags);
    if (strcmp(cmd, "revision") == 0) return cmd_revision(url, flags);
    if (strcmp(cmd, "upgrade") == 0) return cmd_upgrade(url);
    if (strcmp(cmd, "write-scenario") == 0) return cmd_write_scenario(url);
    if (argc < 4) return usage();
    const char *study = argv[3];
    if (strcmp(cmd, "continue") == 0) return cmd_continue(url, study);
    if (strcmp(cmd, "check-crash") == 0 && argc == 5)
        return cmd_check_crash(url, study, (size_t)atol(argv[4]));
    if (strcmp(cmd, "reader") == 0 && argc == 5) return cmd_reader(url, study, argv[4]);
    if (strcmp(cmd, "enqueue") == 0 && argc == 5) return cmd_enqueue(url, study, atol(argv[4]));
    if (strcmp(cmd, "claim") == 0 && argc == 5) return cmd_claim(url, study, atol(argv[4]));
    if (strcmp(cmd, "crash-loop") == 0 && (argc == 5 || (argc == 6 && strcmp(argv[5], "--nosync") == 0)))
        return cmd_crash_loop(url, study, strtoull(argv[4], NULL, 10),
                              argc == 6 ? LOUPE_OPEN_NOSYNC : LOUPE_OPEN_DEFAULT);
    if (strcmp(cmd, "worker") == 0 && argc == 6)
        return cmd_worker(url, study, atol(argv[4]), strtoull(argv[5], NULL, 10));
    return usage();
}
