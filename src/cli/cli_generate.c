/*
 * cli_generate.c -- `loupe generate --config FILE`: human-in-the-loop
 * optimization for any program. Keeps `batch_size` trials RUNNING for a
 * person to rate in the dashboard; for each new trial it runs the configured
 * command (up to `parallel` at once, each in its own process group, killed at
 * its timeout), publishes the files the command wrote as artifacts with a
 * note, or fails the trial with the reason. Trials that a killed generator
 * left unpublished are run again. Ctrl-C stops the commands, fails their
 * trials and exits; nothing is left half-written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "generate.h"
#include "proc.h"
#include "util/timeutil.h"

#define GEN_POLL_MS 10                  /* how often a rating is looked for */
#define GEN_SWEEP_US (10 * 1000000LL)   /* how often unpublished orphans are looked for */
#define GEN_STALE_S 10.0                /* a trial without params this old was abandoned */
#define GEN_TERM_GRACE_US (3 * 1000000LL) /* SIGTERM, then SIGKILL after this */

static int gen_sig_pipe[2] = {-1, -1};

static void gen_on_signal(int sig) {
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (write(gen_sig_pipe[1], &c, 1) < 0) { /* full: a wake-up is pending anyway */
    }
    errno = saved;
}

static int parse_count(cli_ctx *ctx, const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return cli_usage_error(ctx, "argument %s: '%s' is not an integer from %ld to %ld", opt, s, lo, hi);
    *out = v;
    return 0;
}

/* Command-line settings override the file's. */
static int apply_overrides(cli_ctx *ctx, const cli_args *args, gen_config *cfg) {
    const char *s;
    long v = 0;
    if ((s = cli_arg(args, "--study-name"))) cfg->study_name = s;
    if ((s = cli_arg(args, "--batch"))) {
        if (parse_count(ctx, "--batch", s, 1, 1000, &v)) return CLI_EXIT_USAGE;
        cfg->batch = v;
        if (cfg->parallel > cfg->batch) cfg->parallel = cfg->batch;
    }
    if ((s = cli_arg(args, "--parallel"))) {
        if (parse_count(ctx, "--parallel", s, 1, 1000, &v)) return CLI_EXIT_USAGE;
        cfg->parallel = v;
    }
    if (cfg->parallel > cfg->batch) cfg->parallel = cfg->batch;
    if ((s = cli_arg(args, "--timeout"))) {
        char *end;
        double t = strtod(s, &end);
        if (!*s || *end || !(t >= 0) || t > 1e9)
            return cli_usage_error(ctx, "argument --timeout: '%s' is not a number of seconds >= 0", s);
        cfg->timeout_s = t;
    }
    if ((s = cli_arg(args, "--seed"))) {
        char *end;
        errno = 0;
        unsigned long long seed = strtoull(s, &end, 10);
        if (!*s || *end || errno || s[0] == '-')
            return cli_usage_error(ctx, "argument --seed: '%s' is not a non-negative integer", s);
        cfg->tpe.has_seed = 1;
        cfg->tpe.seed = seed;
    }
    return 0;
}

/* Creates or resumes the study and writes its sampler, metric names and form. */
static int setup_study(cli_ctx *ctx, loupe_storage *st, const gen_config *cfg, loupe_study **out) {
    loupe_study *study = NULL;
    int s = loupe_study_create(st, cfg->study_name, cfg->n_directions, cfg->directions, LOUPE_LOAD_IF_EXISTS, &study);
    if (s != LOUPE_OK) {
        int rc = cli_fail_status(ctx, s, loupe_storage_errmsg(st), "Cannot create or load the study '%s'",
                                 cfg->study_name);
        loupe_study_close(study);
        return rc;
    }
    loupe_sampler *sampler = NULL;
    if (cfg->sampler == GEN_SAMPLER_RANDOM)
        s = loupe_sampler_random_new(cfg->tpe.has_seed ? cfg->tpe.seed : (uint64_t)loupe__now_us(), &sampler);
    else
        s = loupe_sampler_tpe_new(&cfg->tpe, &sampler);
    if (s != LOUPE_OK) {
        loupe_study_close(study);
        return cli_fail(ctx, "Cannot create the sampler: %s", loupe_strerror(s));
    }
    loupe_study_set_sampler(study, sampler);
    if (cfg->n_metric_names && (s = loupe_study_set_metric_names(study, cfg->n_metric_names, cfg->metric_names))) {
        int rc = cli_fail_status(ctx, s, loupe_study_errmsg(study), "Cannot set the metric names");
        loupe_study_close(study);
        return rc;
    }
    if (cfg->has_form) {
        s = cfg->form_output == LOUPE_FORM_OBJECTIVE
                ? loupe_register_objective_form_widgets(study, cfg->n_widgets, cfg->widgets)
                : loupe_register_user_attr_form_widgets(study, cfg->n_widgets, cfg->widgets);
        if (s != LOUPE_OK) {
            int rc = cli_fail_status(ctx, s, loupe_study_errmsg(study), "Cannot register the form widgets of %s",
                                     cfg->path);
            loupe_study_close(study);
            return rc;
        }
    }
    *out = study;
    return 0;
}

typedef struct gen_state {
    gen_job *jobs;
    size_t n_jobs;
} gen_state;

/* Signals a job's whole process group. */
static void signal_job(gen_job *job, int sig) {
    if (job->pid > 0) kill(-job->pid, sig);
}

/* Reaps ended commands and finishes their trials; counts consecutive
 * failures. Returns -1 on a storage error. */
static int reap_jobs(gen_env *env, gen_state *s, long *consecutive_failures, int *changed) {
    for (size_t i = 0; i < s->n_jobs;) {
        gen_job *job = &s->jobs[i];
        gen_job_drain(job);
        int status;
        pid_t r = waitpid(job->pid, &status, WNOHANG);
        if (r != job->pid) {
            i++;
            continue;
        }
        /* The command's leftovers (background children) end with it. */
        kill(-job->pid, SIGKILL);
        job->pid = 0;
        job->wait_status = status;
        int stopped = job->stopped; /* stopped by us: not the command's failure */
        int rc = gen_job_finish(env, job);
        s->jobs[i] = s->jobs[--s->n_jobs];
        *changed = 1;
        if (rc < 0) return -1;
        if (rc == 1)
            *consecutive_failures = 0;
        else if (!stopped)
            (*consecutive_failures)++;
    }
    return 0;
}

static void check_timeouts(gen_state *s, int64_t now) {
    for (size_t i = 0; i < s->n_jobs; i++) {
        gen_job *job = &s->jobs[i];
        if (job->deadline_us && now >= job->deadline_us && !job->timed_out && !job->stopped) {
            job->timed_out = 1;
            signal_job(job, SIGTERM);
            job->kill_at_us = now + GEN_TERM_GRACE_US;
        }
        if (job->kill_at_us && now >= job->kill_at_us) {
            signal_job(job, SIGKILL);
            job->kill_at_us = 0;
        }
    }
}

/* Removes the private directories ("loupe-generate-<pid>-*") that killed
 * generators of this user left in tmp; a live process's are kept. */
static void sweep_dead_run_dirs(cli_ctx *ctx, const char *tmp) {
    DIR *d = opendir(tmp);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid;
        int end = 0;
        if (sscanf(e->d_name, "loupe-generate-%ld-%*[A-Za-z0-9]%n", &pid, &end) != 1 || e->d_name[end] != '\0' ||
            pid <= 0)
            continue;
        char path[PATH_MAX];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
        if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != getuid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to judge */
        cli_log(ctx, CLI_LOG_DEBUG, "Removing %s, left by a generator that was killed", path);
        gen_remove_tree(path);
    }
    closedir(d);
}

static int run_generate(cli_ctx *ctx, const cli_args *args) {
    gen_config cfg;
    char err[2048];
    const char *config_path = cli_arg(args, "--config");
    if (gen_config_load(config_path, &cfg, err, sizeof err) != 0) {
        gen_config_free(&cfg);
        return cli_fail(ctx, "%s", err);
    }
    long max_trials = 0;
    int rc = apply_overrides(ctx, args, &cfg);
    if (rc == 0 && cli_arg(args, "--max-trials"))
        rc = parse_count(ctx, "--max-trials", cli_arg(args, "--max-trials"), 1, LONG_MAX / 2, &max_trials);
    if (rc) {
        gen_config_free(&cfg);
        return rc;
    }
    /* --storage > the file's "storage" > $LOUPE_STORAGE/$OPTUNA_STORAGE > the tutorial's default. */
    const char *url = cli_arg(args, "--storage");
    if (!url || !*url) url = cfg.storage ? cfg.storage : ctx->storage_url ? ctx->storage_url : "sqlite:///db.sqlite3";
    const char *artifact_dir = cli_arg(args, "--artifact-dir");
    if (!artifact_dir) artifact_dir = cfg.artifact_dir ? cfg.artifact_dir : "artifact";

    loupe_storage *st = NULL;
    loupe_study *study = NULL;
    loupe_artifact_store *store = NULL;
    char *run_dir = NULL;
    gen_state s = {NULL, 0};
    struct sigaction sa, old_int, old_term, old_chld, old_pipe;
    int handlers = 0;
    rc = CLI_EXIT_ERROR;

    int status = loupe_storage_open(url, ctx->open_flags, &st);
    if (status != LOUPE_OK) {
        cli_fail_status(ctx, status, st ? loupe_storage_errmsg(st) : "out of memory", "Cannot open the storage %s", url);
        goto cleanup;
    }
    if (setup_study(ctx, st, &cfg, &study)) goto cleanup;
    if (mkdir(artifact_dir, 0755) != 0 && errno != EEXIST) {
        cli_fail(ctx, "Cannot create the artifact directory '%s': %s. Pass another --artifact-dir.", artifact_dir,
                 strerror(errno));
        goto cleanup;
    }
    status = loupe_artifact_store_fs_open(artifact_dir, &store);
    if (status != LOUPE_OK) {
        cli_fail_status(ctx, status, store ? loupe_artifact_store_errmsg(store) : "out of memory",
                        "Cannot open the artifact directory '%s'", artifact_dir);
        goto cleanup;
    }
    loupe_artifact_store_fs_sweep(store, 60, NULL); /* uploads a crash cut short */
    {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp) tmp = "/tmp";
        sweep_dead_run_dirs(ctx, tmp);
        loupe__buf b = {0};
        loupe__buf_printf(&b, "%s/loupe-generate-%ld-XXXXXX", tmp, (long)getpid());
        run_dir = loupe__buf_steal(&b);
        if (!run_dir || !mkdtemp(run_dir)) {
            cli_fail(ctx, "Cannot create a private directory for the commands' files in %s: %s (set TMPDIR to a "
                          "writable directory)", tmp, strerror(errno));
            goto cleanup;
        }
    }
    gen_env env = {ctx, &cfg, study, store, run_dir, ""};
    if (gen_owner_json(env.owner_json, sizeof env.owner_json) != 0) {
        cli_fail(ctx, "Cannot describe this process (host name too long?)");
        goto cleanup;
    }

    if (pipe2(gen_sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        cli_fail(ctx, "Cannot create a pipe: %s", strerror(errno));
        goto cleanup;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = gen_on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGCHLD, &sa, &old_chld);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);
    handlers = 1;

    s.jobs = cli_xmalloc((size_t)cfg.parallel * sizeof *s.jobs);
    cli_log(ctx, CLI_LOG_INFO, "Keeping %ld trial(s) of '%s' RUNNING in %s (images in %s/); running `%s ...` in "
                               "%s, up to %ld at once. Ctrl-C stops.",
            cfg.batch, cfg.study_name, url, artifact_dir, cfg.command[0], cfg.workdir, cfg.parallel);

    long created = 0, failures = 0;
    int stopping = 0, giving_up = 0, need_count = 1;
    uint64_t last_version = 0;
    int64_t next_sweep = 0;
    struct pollfd *pf = cli_xmalloc((2 * (size_t)cfg.parallel + 1) * sizeof *pf);
    rc = CLI_EXIT_OK;
    for (;;) {
        int changed = 0;
        if (reap_jobs(&env, &s, &failures, &changed) != 0) {
            rc = CLI_EXIT_ERROR;
            break;
        }
        if (changed) need_count = 1;
        int64_t now = loupe__monotonic_us();
        check_timeouts(&s, now);
        if (!giving_up && failures >= cfg.max_failures) {
            giving_up = 1;
            cli_log(ctx, CLI_LOG_ERROR, "The command failed %ld time(s) in a row; stopping. Each failed trial keeps "
                                        "the reason and the end of stderr in its user attrs \"loupe:error\" and "
                                        "\"loupe:stderr\"; try the command by hand in %s.",
                    failures, cfg.workdir);
            rc = CLI_EXIT_ERROR;
        }
        int launching = !stopping && !giving_up;
        if (!launching && s.n_jobs == 0) break;
        if (launching && max_trials && created >= max_trials && s.n_jobs == 0) break;

        /* Trials a killed generator left unpublished: run them again. */
        if (launching && now >= next_sweep && (size_t)cfg.parallel > s.n_jobs) {
            int64_t *skip = cli_xmalloc((s.n_jobs + 1) * sizeof *skip);
            for (size_t i = 0; i < s.n_jobs; i++) skip[i] = s.jobs[i].number;
            loupe_trial_list *all = NULL;
            size_t *idx = NULL, n_rerun = 0;
            int orc = gen_find_orphans(&env, skip, s.n_jobs, GEN_STALE_S, &all, &idx, &n_rerun);
            free(skip);
            if (orc != 0) {
                rc = CLI_EXIT_ERROR;
                break;
            }
            size_t k = 0;
            for (; k < n_rerun && (size_t)cfg.parallel > s.n_jobs; k++) {
                int jr = gen_job_start_rerun(&env, loupe_trial_list_at(all, idx[k]), &s.jobs[s.n_jobs]);
                if (jr < 0) {
                    orc = -1;
                    break;
                }
                if (jr == 0) s.n_jobs++;
                else failures++;
            }
            free(idx);
            loupe_trial_list_free(all);
            if (orc != 0) {
                rc = CLI_EXIT_ERROR;
                break;
            }
            next_sweep = now + (k < n_rerun ? 500000 : GEN_SWEEP_US);
            need_count = 1;
        }

        uint64_t version = 0;
        if (loupe_storage_data_version(st, &version) == LOUPE_OK && version != last_version) {
            last_version = version;
            need_count = 1;
        }
        if (launching && need_count && (size_t)cfg.parallel > s.n_jobs && (!max_trials || created < max_trials)) {
            need_count = 0;
            int64_t counts[5];
            if (loupe_study_count_trials(study, counts) != LOUPE_OK) {
                cli_log(ctx, CLI_LOG_ERROR, "Cannot count the trials: %s", loupe_study_errmsg(study));
                rc = CLI_EXIT_ERROR;
                break;
            }
            int64_t running = counts[LOUPE_RUNNING];
            int fatal = 0;
            /* During a run of failures, start no more commands than may still fail. */
            while (running < cfg.batch && (size_t)cfg.parallel > s.n_jobs && (!max_trials || created < max_trials) &&
                   (failures == 0 || failures + (long)s.n_jobs < cfg.max_failures)) {
                int jr = gen_job_start_new(&env, &s.jobs[s.n_jobs]);
                if (jr < 0) {
                    fatal = 1;
                    break;
                }
                created++;
                if (jr == 0) {
                    s.n_jobs++;
                    running++;
                } else {
                    failures++;
                }
            }
            if (fatal) {
                rc = CLI_EXIT_ERROR;
                break;
            }
        }

        /* Wait for output, an ended command, a signal or the next check. */
        size_t np = 0;
        pf[np++] = (struct pollfd){gen_sig_pipe[0], POLLIN, 0};
        for (size_t i = 0; i < s.n_jobs; i++) {
            if (s.jobs[i].out_fd >= 0) pf[np++] = (struct pollfd){s.jobs[i].out_fd, POLLIN, 0};
            if (s.jobs[i].err_fd >= 0) pf[np++] = (struct pollfd){s.jobs[i].err_fd, POLLIN, 0};
        }
        int n = poll(pf, np, GEN_POLL_MS);
        if (n > 0 && (pf[0].revents & POLLIN)) {
            unsigned char sigs[64];
            ssize_t k = read(gen_sig_pipe[0], sigs, sizeof sigs);
            for (ssize_t i = 0; i < k; i++) {
                if (sigs[i] != SIGINT && sigs[i] != SIGTERM) continue;
                if (!stopping) {
                    stopping = 1;
                    if (s.n_jobs)
                        cli_log(ctx, CLI_LOG_INFO, "Stopping (%s): ending %zu running command(s); their trials are "
                                                   "marked FAIL.", sigs[i] == SIGINT ? "Ctrl-C" : "SIGTERM", s.n_jobs);
                    else
                        cli_log(ctx, CLI_LOG_INFO, "Stopping (%s).", sigs[i] == SIGINT ? "Ctrl-C" : "SIGTERM");
                    for (size_t j = 0; j < s.n_jobs; j++) {
                        s.jobs[j].stopped = 1;
                        signal_job(&s.jobs[j], SIGTERM);
                        s.jobs[j].kill_at_us = loupe__monotonic_us() + GEN_TERM_GRACE_US;
                    }
                } else { /* a second Ctrl-C: no more waiting */
                    for (size_t j = 0; j < s.n_jobs; j++) signal_job(&s.jobs[j], SIGKILL);
                }
            }
        }
    }
    free(pf);

cleanup:
    /* After an error: end the commands still running and fail their trials. */
    for (size_t i = 0; i < s.n_jobs; i++) {
        signal_job(&s.jobs[i], SIGKILL);
        int st_;
        if (s.jobs[i].pid > 0) waitpid(s.jobs[i].pid, &st_, 0);
        s.jobs[i].pid = 0;
        s.jobs[i].stopped = 1;
        gen_env env2 = {ctx, &cfg, study, store, run_dir, ""};
        if (study) gen_job_finish(&env2, &s.jobs[i]);
        else gen_job_release(&s.jobs[i]);
    }
    free(s.jobs);
    if (handlers) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGCHLD, &old_chld, NULL);
        sigaction(SIGPIPE, &old_pipe, NULL);
    }
    if (gen_sig_pipe[0] >= 0) close(gen_sig_pipe[0]);
    if (gen_sig_pipe[1] >= 0) close(gen_sig_pipe[1]);
    gen_sig_pipe[0] = gen_sig_pipe[1] = -1;
    if (run_dir) rmdir(run_dir);
    free(run_dir);
    loupe_study_close(study);
    loupe_artifact_store_close(store);
    loupe_storage_close(st);
    gen_config_free(&cfg);
    return rc;
}

static const cli_option generate_options[] = {
    {"--config", 0, CLI_OPT_VALUE, "FILE", NULL, NULL, 1,
     "The JSON file with the study, the search space, the form and the command (docs/generate.md)."},
    {"--artifact-dir", 0, CLI_OPT_VALUE, "DIR", NULL, NULL, 0,
     "Where the outputs are stored (created if missing). Default: the file's \"artifact_dir\", else ./artifact."},
    {"--study-name", 0, CLI_OPT_VALUE, "NAME", NULL, NULL, 0, "Overrides the file's \"study_name\"."},
    {"--batch", 0, CLI_OPT_VALUE, "N", NULL, NULL, 0, "Trials kept RUNNING for rating (overrides \"batch_size\")."},
    {"--parallel", 0, CLI_OPT_VALUE, "N", NULL, NULL, 0,
     "Commands run at once (overrides \"parallel\"; at most the batch size)."},
    {"--timeout", 0, CLI_OPT_VALUE, "SECONDS", NULL, NULL, 0,
     "Kill a command after this long and fail its trial (overrides \"timeout\"; 0 = none)."},
    {"--seed", 0, CLI_OPT_VALUE, "N", NULL, NULL, 0, "Seed the sampler (overrides the file's sampler seed)."},
    {"--max-trials", 0, CLI_OPT_VALUE, "N", NULL, NULL, 0,
     "Stop after starting N new trials, once their commands have ended (default: run until Ctrl-C)."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_generate = {
    "generate",
    "Human-in-the-loop optimization for any program: run a command per trial and publish its outputs.",
    "Keeps a batch of trials RUNNING for a person to rate in `loupe dashboard`. For each new trial it "
    "runs the command of the configuration file with the trial's params (substituted into the "
    "arguments, never through a shell; also as $LOUPE_PARAM_<NAME> and in the JSON file "
    "$LOUPE_PARAMS_JSON), uploads the files the command wrote ({output}, $LOUPE_OUTPUT_DIR) as "
    "artifacts and writes the trial's note. A command that fails, is killed or times out fails its "
    "trial, with the reason and the end of stderr in the user attrs \"loupe:error\" and "
    "\"loupe:stderr\". The storage is --storage, else the file's \"storage\", else $LOUPE_STORAGE, else "
    "sqlite:///db.sqlite3. See docs/generate.md.",
    generate_options,
    0,
    run_generate,
};
