/*
 * generate.h -- what the parts of `loupe generate` share: the parsed
 * configuration file (search space, study, form, command template), the
 * template expansion with {placeholders}, and the per-trial jobs that run
 * the user's command. docs/generate.md describes the file format.
 *
 *   generate_config.c  reads and checks the JSON configuration
 *   generate_job.c     one trial: ask, run the command, publish or fail it
 *   cli_generate.c     the verb: options, the loop keeping N trials RUNNING
 */
#ifndef LOUPE_CLI_GENERATE_H
#define LOUPE_CLI_GENERATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "loupe.h"
#include "util/buf.h"

/* One parameter of the search space. */
typedef struct gen_param {
    const char *name;
    char *env_name;            /* "LOUPE_PARAM_<NAME>" */
    loupe_distribution dist;   /* categorical choices: Python-form JSON texts */
} gen_param;

typedef enum gen_sampler_kind { GEN_SAMPLER_TPE = 0, GEN_SAMPLER_RANDOM = 1 } gen_sampler_kind;

/*
 * The configuration. Strings point into the parsed JSON document or into
 * allocations recorded in `owned`; gen_config_free releases everything.
 * Relative paths are resolved when the file is read: workdir against the
 * file's directory; storage and artifact_dir are used as given (relative to
 * the current directory, as every loupe command does).
 */
typedef struct gen_config {
    char *path;                 /* the file, as given */
    char *dir;                  /* its directory, absolute */
    const char *study_name;
    const char *storage;        /* NULL: not in the file */
    const char *artifact_dir;   /* NULL: not in the file */
    char *workdir;              /* absolute: where the command runs */
    size_t n_directions;
    loupe_direction *directions;
    size_t n_metric_names;
    const char **metric_names;
    gen_sampler_kind sampler;
    loupe_tpe_options tpe;      /* for TPE; has_seed/seed also for Random */
    long batch;                 /* trials kept RUNNING */
    long parallel;              /* commands run at once (<= batch) */
    double timeout_s;           /* per command; 0 = none */
    long max_failures;          /* consecutive failures before giving up */
    size_t n_params;
    gen_param *params;
    int has_form;
    loupe_form_output_type form_output;
    size_t n_widgets;
    loupe_form_widget *widgets;
    size_t n_command;
    const char **command;       /* argv templates */
    const char *output_name;    /* file name template of {output} */
    const char *note;           /* note template */
    void *doc;                  /* the parsed JSON document (yyjson_doc) */
    void **owned;
    size_t n_owned, cap_owned;
} gen_config;

/* Reads and checks a configuration file. On error returns -1 with a message
 * naming the file, the setting and what to write instead in err. */
int gen_config_load(const char *path, gen_config *cfg, char *err, size_t errcap);
void gen_config_free(gen_config *cfg);

/* Values for the placeholders of one trial. `lookup` gets a name ("r",
 * "output", "number") and returns its text or NULL when unknown. */
typedef const char *(*gen_lookup_fn)(void *ctx, const char *name);
/*
 * Expands "{name}" placeholders of tmpl into out ("{{" and "}}" are literal
 * braces). Returns 0, or -1 with a message in err for an unknown name or an
 * unbalanced brace.
 */
int gen_expand(const char *tmpl, gen_lookup_fn lookup, void *ctx, loupe__buf *out, char *err, size_t errcap);

/* The text a param's value is given to the command as: ints in decimal,
 * floats as Python's repr, string choices as the raw string, other choices
 * as JSON ("true", "null", "1.5"). Appends to out. */
void gen_param_text(const loupe_param *param, loupe__buf *out);

/* ---------------------------------------------------------------- jobs */

/* The command of one trial, while it runs. */
typedef struct gen_job {
    int64_t number, trial_id;
    pid_t pid;                  /* the command (leader of its process group); 0 once reaped */
    int wait_status;
    int out_fd, err_fd;         /* pipes from the command's stdout / stderr, -1 when closed */
    loupe__buf err_tail;        /* the last bytes of stderr */
    loupe__buf out_tail;        /* the last bytes of stdout */
    char *dir;                  /* private directory: params.json, out/ */
    char *out_dir;              /* LOUPE_OUTPUT_DIR */
    char *params_text;          /* "r=12 g=4 b=200" for messages */
    int64_t start_us, deadline_us, kill_at_us;
    int timed_out, stopped;     /* killed for its timeout / because we are stopping */
    int rerun;                  /* re-running a trial a crash interrupted */
} gen_job;

/* What the jobs need from the verb. */
typedef struct gen_env {
    cli_ctx *ctx;
    const gen_config *cfg;
    loupe_study *study;
    loupe_artifact_store *store;
    const char *run_dir;        /* private temporary directory of this run */
    char owner_json[256];       /* this process, as recorded on its trials */
} gen_env;

/* Asks a new trial (or takes a WAITING one), suggests every param, records
 * the owner and starts the command. 0: *job is running. -1: a storage error
 * (logged). 1: the command could not be started; the trial was failed
 * (logged) and *job is not running. */
int gen_job_start_new(gen_env *env, gen_job *job);
/* Starts the command again for a RUNNING trial whose generator died before
 * publishing it (its stored params are used; partial artifacts are removed).
 * Returns as gen_job_start_new. */
int gen_job_start_rerun(gen_env *env, const loupe_frozen_trial *trial, gen_job *job);
/* Reads what the command wrote to its pipes (non-blocking); closes a pipe at
 * its end. */
void gen_job_drain(gen_job *job);
/* After the command ended (job->pid == 0): publishes its outputs and the
 * note (the trial stays RUNNING for the person), or fails the trial with the
 * reason and the stderr tail in user attrs. Returns 1 when published, 0 when
 * the trial was failed, -1 on a storage error (logged). Cleans the job up. */
int gen_job_finish(gen_env *env, gen_job *job);
/* Releases a job's resources (pipes, directory, buffers). */
void gen_job_release(gen_job *job);

/* Trials of the study that a dead generator left behind: RUNNING, recorded
 * as this kind of generator's, and not published. Also fails RUNNING trials
 * older than stale_s seconds that never got params. *rerun receives the
 * snapshots to re-run (free with loupe_trial_list_free), and the numbers in
 * skip[] (n_skip) are running here and left alone. Returns 0 or -1 (logged). */
int gen_find_orphans(gen_env *env, const int64_t *skip, size_t n_skip, double stale_s,
                     loupe_trial_list **all, size_t **rerun_idx, size_t *n_rerun);

/* Removes a directory with everything in it (best effort). */
void gen_remove_tree(const char *dir);

/* JSON text identifying this process ({"host": ..., "pid": ..., "start": ...})
 * for the trial system attr "loupe:generate:owner". */
int gen_owner_json(char *buf, size_t cap);
/* 1 when the owner recorded in json is a process alive on this host. */
int gen_owner_alive(const char *json);

#endif
