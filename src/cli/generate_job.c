/*
 * generate_job.c -- one trial of `loupe generate`: ask it and suggest its
 * params, run the user's command for it (argv from the template, never a
 * shell; params also as $LOUPE_PARAM_<NAME> and in a JSON file), then either
 * publish what the command wrote (artifacts, then the note, so a trial with a
 * note is complete) or fail the trial with the reason and the stderr tail.
 * Also finds the trials a crashed generator left unpublished.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "generate.h"
#include "proc.h"
#include "util/pyjson.h"
#include "util/timeutil.h"

extern char **environ;

#define GEN_TAIL_MAX 8192     /* bytes of stdout/stderr kept per command */
#define GEN_ATTR_TAIL 2000    /* characters of stderr stored on a failed trial */
#define GEN_OWNER_KEY "loupe:generate:owner"

/* ---------------------------------------------------------------- owner */

/* Field 22 of /proc/<pid>/stat: the start time, which tells a reused pid apart. */
static int proc_start_time(long pid, unsigned long long *out) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p++;
    for (int field = 3; field < 22; field++) { /* skip fields 3..21 */
        p = strchr(p + 1, ' ');
        if (!p) return -1;
    }
    return sscanf(p, " %llu", out) == 1 ? 0 : -1;
}

int gen_owner_json(char *buf, size_t cap) {
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "?");
    unsigned long long start = 0;
    proc_start_time((long)getpid(), &start);
    loupe__buf b = {0};
    loupe__buf_puts(&b, "{\"host\": ");
    loupe__pyjson_string(&b, host, strlen(host));
    loupe__buf_printf(&b, ", \"pid\": %ld, \"start\": %llu}", (long)getpid(), start);
    int ok = b.data && b.len < cap;
    if (ok) memcpy(buf, b.data, b.len + 1);
    loupe__buf_free(&b);
    return ok ? 0 : -1;
}

int gen_owner_alive(const char *json) {
    yyjson_doc *doc = yyjson_read(json, strlen(json), 0);
    yyjson_val *root = yyjson_doc_get_root(doc);
    const char *host = yyjson_get_str(yyjson_obj_get(root, "host"));
    yyjson_val *pid = yyjson_obj_get(root, "pid"), *start = yyjson_obj_get(root, "start");
    int alive = 1; /* what we cannot judge belongs to someone else: leave it alone */
    char me[256] = "";
    gethostname(me, sizeof me - 1);
    if (host && yyjson_is_uint(pid) && yyjson_is_uint(start) && strcmp(host, me) == 0) {
        unsigned long long now_start;
        alive = proc_start_time((long)yyjson_get_uint(pid), &now_start) == 0 && now_start == yyjson_get_uint(start);
    }
    yyjson_doc_free(doc);
    return alive;
}

/* ---------------------------------------------------------------- helpers */

/* A JSON string in Python's form, malloc'd. */
static char *json_string(const char *s, size_t len) {
    loupe__buf b = {0};
    loupe__pyjson_string(&b, s, len);
    return loupe__buf_steal(&b);
}

/* The last `max` characters of text (not cutting a UTF-8 sequence). */
static const char *tail_chars(const char *text, size_t len, size_t max) {
    if (len <= max) return text;
    const char *p = text + len - max;
    while (p < text + len && ((unsigned char)*p & 0xC0) == 0x80) p++;
    return p;
}

static void keep_tail(loupe__buf *b, const char *data, size_t n) {
    loupe__buf_append(b, data, n);
    if (b->len > GEN_TAIL_MAX && b->data) {
        size_t drop = b->len - GEN_TAIL_MAX;
        memmove(b->data, b->data + drop, b->len - drop);
        b->len -= drop;
        b->data[b->len] = '\0';
    }
}

static int write_whole_file(const char *path, const char *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    return close(fd);
}

void gen_remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            struct stat sb;
            if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
                gen_remove_tree(path);
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The mimetype of a file whose name says nothing, from its first bytes. */
static const char *sniff_mimetype(const char *path) {
    unsigned char h[16] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    ssize_t n = read(fd, h, sizeof h);
    close(fd);
    if (n < 4) return NULL;
    if (!memcmp(h, "\x89PNG", 4)) return "image/png";
    if (!memcmp(h, "\xff\xd8\xff", 3)) return "image/jpeg";
    if (!memcmp(h, "GIF8", 4)) return "image/gif";
    if (n >= 12 && !memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WEBP", 4)) return "image/webp";
    if (n >= 12 && !memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WAVE", 4)) return "audio/x-wav";
    if (!memcmp(h, "OggS", 4)) return "audio/ogg";
    if (!memcmp(h, "fLaC", 4)) return "audio/flac";
    if (!memcmp(h, "ID3", 3)) return "audio/mpeg";
    if (n >= 8 && !memcmp(h + 4, "ftyp", 4)) return "video/mp4";
    if (!memcmp(h, "%PDF", 4)) return "application/pdf";
    return NULL;
}

/* ---------------------------------------------------------------- placeholders of one trial */

typedef struct trial_vars {
    const gen_config *cfg;
    const char *const *values; /* per config param */
    const char *output, *output_dir, *params_json, *artifacts, *params_md;
    char number[32], trial_id[32];
} trial_vars;

static const char *trial_lookup(void *vctx, const char *name) {
    const trial_vars *v = vctx;
    for (size_t i = 0; i < v->cfg->n_params; i++)
        if (!strcmp(v->cfg->params[i].name, name)) return v->values[i];
    if (!strcmp(name, "output")) return v->output;
    if (!strcmp(name, "output_dir")) return v->output_dir;
    if (!strcmp(name, "params_json")) return v->params_json;
    if (!strcmp(name, "number")) return v->number;
    if (!strcmp(name, "trial_id")) return v->trial_id;
    if (!strcmp(name, "study_name")) return v->cfg->study_name;
    if (!strcmp(name, "artifacts")) return v->artifacts;
    if (!strcmp(name, "params")) return v->params_md;
    return NULL;
}

/* ---------------------------------------------------------------- failing a trial */

/* Fails trial `number` with a reason (user attr "loupe:error"), the stderr
 * tail ("loupe:stderr") and a note saying so. 0, or -1 on a storage error. */
static int fail_trial(gen_env *env, int64_t number, const char *params_text, const char *reason,
                      const loupe__buf *err_tail) {
    loupe_trial *trial = NULL;
    int st = loupe_study_trial(env->study, number, &trial);
    if (st != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot open trial %lld to fail it: %s", (long long)number,
                loupe_study_errmsg(env->study));
        return -1;
    }
    const char *tail = err_tail && err_tail->data ? tail_chars(err_tail->data, err_tail->len, GEN_ATTR_TAIL) : "";
    char *reason_json = json_string(reason, strlen(reason));
    char *tail_json = json_string(tail, strlen(tail));
    loupe__buf note = {0};
    loupe__buf_printf(&note, "## Trial %lld failed\n\n%s\n", (long long)number, reason);
    if (*tail) loupe__buf_printf(&note, "\n````\n%s%s````\n", tail, tail[strlen(tail) - 1] == '\n' ? "" : "\n");
    int64_t trial_id = loupe_trial_id(trial);
    st = loupe_trial_set_user_attr(trial, "loupe:error", reason_json ? reason_json : "\"?\"");
    if (st == LOUPE_OK && *tail) st = loupe_trial_set_user_attr(trial, "loupe:stderr", tail_json ? tail_json : "\"\"");
    if (st == LOUPE_OK && note.data)
        st = loupe_note_save(env->study, trial_id, LOUPE_NOTE_ANY_VERSION, note.data, NULL, NULL);
    if (st == LOUPE_OK) st = loupe_trial_tell(trial, LOUPE_FAIL, 0, NULL, LOUPE_TELL_SKIP_IF_FINISHED);
    if (st != LOUPE_OK)
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot record the failure of trial %lld: %s", (long long)number,
                loupe_trial_errmsg(trial));
    loupe_trial_free(trial);
    free(reason_json);
    free(tail_json);
    loupe__buf_free(&note);
    if (st == LOUPE_OK) {
        const char *last = *tail ? tail : NULL;
        if (last) { /* the last line of stderr, which usually says what went wrong */
            size_t n = strlen(last);
            while (n && last[n - 1] == '\n') n--;
            const char *nl = n ? memrchr(last, '\n', n) : NULL;
            const char *line = nl ? nl + 1 : last;
            cli_log(env->ctx, CLI_LOG_WARNING, "Trial %lld failed (%s): %s; stderr ends with: %.*s", (long long)number,
                    params_text ? params_text : "", reason, (int)(last + n - line), line);
        } else {
            cli_log(env->ctx, CLI_LOG_WARNING, "Trial %lld failed (%s): %s", (long long)number,
                    params_text ? params_text : "", reason);
        }
    }
    return st == LOUPE_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- starting a command */

/* "LOUPE_..." variables that we set: inherited ones are dropped so a stale
 * value never reaches the command. */
static int ours(const char *entry) {
    static const char *const prefixes[] = {"LOUPE_PARAM_", "LOUPE_PARAMS_JSON=", "LOUPE_OUTPUT=", "LOUPE_OUTPUT_DIR=",
                                           "LOUPE_TRIAL_NUMBER=", "LOUPE_TRIAL_ID=", "LOUPE_STUDY_NAME=", NULL};
    for (const char *const *p = prefixes; *p; p++)
        if (!strncmp(entry, *p, strlen(*p))) return 1;
    return 0;
}

/* Starts the command of a trial whose params are stored (ft). 0: running;
 * 1: could not start (the trial was failed); -1: storage error. */
static int start_command(gen_env *env, const loupe_frozen_trial *ft, gen_job *job) {
    const gen_config *cfg = env->cfg;
    char err[PATH_MAX + 512];
    int rc = 1;
    size_t n_env = 0;
    for (char **e = environ; *e; e++) n_env++;
    const char **values = cli_xmalloc((cfg->n_params + 1) * sizeof *values);
    char **owned_values = cli_xmalloc((cfg->n_params + 1) * sizeof *owned_values);
    const char **envp = cli_xmalloc((n_env + cfg->n_params + 8) * sizeof *envp);
    char **env_owned = cli_xmalloc((cfg->n_params + 8) * sizeof *env_owned);
    size_t n_env_owned = 0;
    const char **argv = cli_xmalloc((cfg->n_command + 1) * sizeof *argv);
    size_t n_argv = 0;
    memset(owned_values, 0, (cfg->n_params + 1) * sizeof *owned_values);
    loupe__buf params_json = {0}, text = {0}, path = {0}, out_name = {0};
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    char reason[PATH_MAX + 600] = "";

    memset(job, 0, sizeof *job);
    job->out_fd = job->err_fd = -1;
    job->number = ft->number;
    job->trial_id = ft->trial_id;

    /* The values of the configured params, and all stored params as JSON. */
    loupe__buf_putc(&params_json, '{');
    for (size_t i = 0; i < ft->n_params; i++) {
        char small[64];
        char *vj = small;
        int n = loupe_param_value_json(&ft->params[i], small, sizeof small);
        if (n < 0) {
            size_t cap = 1024;
            for (;;) {
                vj = vj == small ? cli_xmalloc(cap) : cli_xrealloc(vj, cap);
                if (loupe_param_value_json(&ft->params[i], vj, cap) >= 0) break;
                cap *= 4;
            }
        }
        if (i) loupe__buf_puts(&params_json, ", ");
        loupe__pyjson_string(&params_json, ft->params[i].name, strlen(ft->params[i].name));
        loupe__buf_printf(&params_json, ": %s", vj);
        if (vj != small) free(vj);
    }
    loupe__buf_puts(&params_json, "}\n");
    for (size_t i = 0; i < cfg->n_params; i++) {
        const loupe_param *p = loupe_frozen_trial_param(ft, cfg->params[i].name);
        if (!p) {
            snprintf(reason, sizeof reason, "the trial has no value for the param \"%s\" (was it asked with "
                                            "another search space?)", cfg->params[i].name);
            goto fail_trial;
        }
        loupe__buf v = {0};
        gen_param_text(p, &v);
        owned_values[i] = v.data ? loupe__buf_steal(&v) : cli_xstrdup("");
        values[i] = owned_values[i];
        loupe__buf_printf(&text, "%s%s=%s", i ? " " : "", cfg->params[i].name, values[i]);
    }
    job->params_text = text.data ? loupe__buf_steal(&text) : cli_xstrdup("");

    /* The private directory: params.json and out/ (LOUPE_OUTPUT_DIR). */
    loupe__buf_printf(&path, "%s/trial-%lld-XXXXXX", env->run_dir, (long long)ft->number);
    if (!path.data || !mkdtemp(path.data)) {
        snprintf(reason, sizeof reason, "cannot create a private directory under %s: %s", env->run_dir,
                 strerror(errno));
        goto fail_trial;
    }
    job->dir = loupe__buf_steal(&path);
    loupe__buf_printf(&path, "%s/out", job->dir);
    job->out_dir = loupe__buf_steal(&path);
    loupe__buf_printf(&path, "%s/params.json", job->dir);
    char *params_path = loupe__buf_steal(&path);
    if (mkdir(job->out_dir, 0700) != 0 || write_whole_file(params_path, params_json.data, params_json.len) != 0) {
        snprintf(reason, sizeof reason, "cannot write into the private directory %s: %s", job->dir, strerror(errno));
        free(params_path);
        goto fail_trial;
    }

    trial_vars vars = {cfg, values, "", job->out_dir, params_path, "", "", "", ""};
    snprintf(vars.number, sizeof vars.number, "%lld", (long long)ft->number);
    snprintf(vars.trial_id, sizeof vars.trial_id, "%lld", (long long)ft->trial_id);
    if (gen_expand(cfg->output_name, trial_lookup, &vars, &out_name, err, sizeof err) != 0 || !out_name.data ||
        strchr(out_name.data, '/') || !strcmp(out_name.data, ".") || !strcmp(out_name.data, "..")) {
        snprintf(reason, sizeof reason, "the \"output\" file name \"%s\" expands to \"%s\", which is not a plain "
                                        "file name", cfg->output_name, out_name.data ? out_name.data : "");
        free(params_path);
        goto fail_trial;
    }
    loupe__buf_printf(&path, "%s/%s", job->out_dir, out_name.data);
    char *output_path = loupe__buf_steal(&path);
    vars.output = output_path;
    for (size_t i = 0; i < cfg->n_command; i++) {
        loupe__buf w = {0};
        loupe__buf_append(&w, "", 0);
        if (gen_expand(cfg->command[i], trial_lookup, &vars, &w, err, sizeof err) != 0) {
            snprintf(reason, sizeof reason, "\"command\": %s", err);
            loupe__buf_free(&w);
            free(params_path);
            free(output_path);
            goto fail_trial;
        }
        argv[n_argv++] = loupe__buf_steal(&w);
    }
    argv[n_argv] = NULL;

    /* The environment: ours, minus stale LOUPE_* values, plus the trial's. */
    size_t ne = 0;
    for (char **e = environ; *e; e++)
        if (!ours(*e)) envp[ne++] = *e;
#define ADD_ENV(...)                                                                                                   \
    do {                                                                                                               \
        loupe__buf_printf(&path, __VA_ARGS__);                                                                         \
        env_owned[n_env_owned] = loupe__buf_steal(&path);                                                              \
        envp[ne++] = env_owned[n_env_owned++];                                                                         \
    } while (0)
    for (size_t i = 0; i < cfg->n_params; i++) ADD_ENV("%s=%s", cfg->params[i].env_name, values[i]);
    ADD_ENV("LOUPE_PARAMS_JSON=%s", params_path);
    ADD_ENV("LOUPE_OUTPUT=%s", output_path);
    ADD_ENV("LOUPE_OUTPUT_DIR=%s", job->out_dir);
    ADD_ENV("LOUPE_TRIAL_NUMBER=%lld", (long long)ft->number);
    ADD_ENV("LOUPE_TRIAL_ID=%lld", (long long)ft->trial_id);
    ADD_ENV("LOUPE_STUDY_NAME=%s", cfg->study_name);
#undef ADD_ENV
    envp[ne] = NULL;
    free(params_path);
    free(output_path);

    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        snprintf(reason, sizeof reason, "cannot create pipes for the command: %s", strerror(errno));
        goto fail_trial;
    }
    cli_spawn_opts so = {argv, envp, cfg->workdir, 1, SIGKILL, out_pipe[1], err_pipe[1]};
    if (cli_spawn(&so, &job->pid, err, sizeof err) != 0) {
        snprintf(reason, sizeof reason, "%s", err);
        goto fail_trial;
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    out_pipe[1] = err_pipe[1] = -1;
    job->out_fd = out_pipe[0];
    job->err_fd = err_pipe[0];
    fcntl(job->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(job->err_fd, F_SETFL, O_NONBLOCK);
    out_pipe[0] = err_pipe[0] = -1;
    job->start_us = loupe__monotonic_us();
    job->deadline_us = cfg->timeout_s > 0 ? job->start_us + (int64_t)(cfg->timeout_s * 1e6) : 0;
    cli_log(env->ctx, CLI_LOG_DEBUG, "Trial %lld: running %s (%s)", (long long)job->number, argv[0],
            job->params_text);
    rc = 0;
    goto cleanup;

fail_trial:
    rc = fail_trial(env, ft->number, job->params_text, reason, NULL) == 0 ? 1 : -1;
    gen_job_release(job);
cleanup:
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0) close(out_pipe[i]);
        if (err_pipe[i] >= 0) close(err_pipe[i]);
    }
    for (size_t i = 0; i < n_argv; i++) free((char *)argv[i]);
    for (size_t i = 0; i < n_env_owned; i++) free(env_owned[i]);
    for (size_t i = 0; i < cfg->n_params; i++) free(owned_values[i]);
    free(argv);
    free(envp);
    free(env_owned);
    free(values);
    free(owned_values);
    loupe__buf_free(&params_json);
    loupe__buf_free(&text);
    loupe__buf_free(&path);
    loupe__buf_free(&out_name);
    return rc;
}

static int suggest_all(gen_env *env, loupe_trial *trial) {
    const gen_config *cfg = env->cfg;
    for (size_t i = 0; i < cfg->n_params; i++) {
        const gen_param *p = &cfg->params[i];
        int st;
        if (p->dist.kind == LOUPE_DIST_FLOAT) {
            double v;
            st = loupe_trial_suggest_float(trial, p->name, p->dist.low, p->dist.high, p->dist.step, p->dist.log, &v);
        } else if (p->dist.kind == LOUPE_DIST_INT) {
            int64_t v;
            st = loupe_trial_suggest_int(trial, p->name, (int64_t)p->dist.low, (int64_t)p->dist.high,
                                         (int64_t)p->dist.step, p->dist.log, &v);
        } else {
            size_t idx;
            st = loupe_trial_suggest_categorical(trial, p->name, p->dist.n_choices, p->dist.choices, &idx);
        }
        if (st != LOUPE_OK) {
            cli_log(env->ctx, CLI_LOG_ERROR,
                    "Cannot suggest the param \"%s\" of trial %lld: %s%s", p->name,
                    (long long)loupe_trial_number(trial), loupe_trial_errmsg(trial),
                    st == LOUPE_EINCOMPAT ? " (the study has this param with another range or choices: keep the "
                                            "search space of a study, or use a new \"study_name\")"
                                          : "");
            return -1;
        }
    }
    return 0;
}

int gen_job_start_new(gen_env *env, gen_job *job) {
    memset(job, 0, sizeof *job);
    job->out_fd = job->err_fd = -1;
    loupe_trial *trial = NULL;
    int st = loupe_study_ask(env->study, &trial);
    if (st != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot ask a new trial: %s %s", loupe_study_errmsg(env->study),
                cli_status_hint(env->ctx, st));
        return -1;
    }
    int rc = -1;
    const loupe_frozen_trial *ft = NULL;
    if (suggest_all(env, trial) != 0) {
        loupe_trial_tell(trial, LOUPE_FAIL, 0, NULL, LOUPE_TELL_SKIP_IF_FINISHED);
        goto done;
    }
    /* The owner goes in with the params (one transaction). */
    st = loupe_trial_set_system_attr(trial, GEN_OWNER_KEY, env->owner_json);
    if (st == LOUPE_OK) st = loupe_trial_snapshot(trial, &ft);
    if (st != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot store the params of trial %lld: %s", (long long)loupe_trial_number(trial),
                loupe_trial_errmsg(trial));
        loupe_trial_tell(trial, LOUPE_FAIL, 0, NULL, LOUPE_TELL_SKIP_IF_FINISHED);
        goto done;
    }
    rc = start_command(env, ft, job);
done:
    loupe_trial_free(trial);
    return rc;
}

int gen_job_start_rerun(gen_env *env, const loupe_frozen_trial *ft, gen_job *job) {
    memset(job, 0, sizeof *job);
    job->out_fd = job->err_fd = -1;
    loupe_trial *trial = NULL;
    int st = loupe_study_trial(env->study, ft->number, &trial);
    if (st != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot open trial %lld: %s", (long long)ft->number,
                loupe_study_errmsg(env->study));
        return -1;
    }
    int rc = -1;
    /* Artifacts a crash left without a note would show twice: remove them. */
    loupe_artifact_list *arts = NULL;
    st = loupe_artifact_list_get(env->study, ft, &arts);
    for (size_t i = 0; st == LOUPE_OK && i < loupe_artifact_list_count(arts); i++) {
        st = loupe_artifact_delete(env->store, env->study, trial, loupe_artifact_list_at(arts, i)->artifact_id);
        if (st == LOUPE_ENOTFOUND) st = LOUPE_OK;
    }
    loupe_artifact_list_free(arts);
    if (st == LOUPE_OK) st = loupe_trial_set_system_attr(trial, GEN_OWNER_KEY, env->owner_json);
    if (st != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot take over trial %lld: %s", (long long)ft->number,
                loupe_study_errmsg(env->study));
        goto done;
    }
    rc = start_command(env, ft, job);
    if (rc == 0) {
        job->rerun = 1;
        cli_log(env->ctx, CLI_LOG_INFO, "Trial %lld: running its command again (an earlier generator stopped "
                                        "before publishing it)", (long long)ft->number);
    }
done:
    loupe_trial_free(trial);
    return rc;
}

/* ---------------------------------------------------------------- while it runs */

static void drain_fd(int *fd, loupe__buf *tail) {
    char chunk[4096];
    while (*fd >= 0) {
        ssize_t n = read(*fd, chunk, sizeof chunk);
        if (n > 0) {
            keep_tail(tail, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        close(*fd); /* end of file, or an error: nothing more to read */
        *fd = -1;
    }
}

void gen_job_drain(gen_job *job) {
    drain_fd(&job->out_fd, &job->out_tail);
    drain_fd(&job->err_fd, &job->err_tail);
}

void gen_job_release(gen_job *job) {
    if (job->out_fd >= 0) close(job->out_fd);
    if (job->err_fd >= 0) close(job->err_fd);
    job->out_fd = job->err_fd = -1;
    if (job->dir) gen_remove_tree(job->dir);
    free(job->dir);
    free(job->out_dir);
    free(job->params_text);
    job->dir = job->out_dir = job->params_text = NULL;
    loupe__buf_free(&job->err_tail);
    loupe__buf_free(&job->out_tail);
}

/* ---------------------------------------------------------------- finishing */

typedef struct uploaded {
    char *name, *id;
    const char *mimetype;
} uploaded;

static int only_visible_files(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Uploads the files of out/ in name order; writes the note. 1: published,
 * 0: failed (reason set), -1: storage error. */
static int publish(gen_env *env, gen_job *job, char *reason, size_t reason_cap) {
    struct dirent **names = NULL;
    int n = scandir(job->out_dir, &names, only_visible_files, alphasort);
    if (n < 0) {
        snprintf(reason, reason_cap, "cannot list the output directory %s: %s", job->out_dir, strerror(errno));
        return 0;
    }
    uploaded *ups = cli_xmalloc(((size_t)n + 1) * sizeof *ups);
    size_t n_up = 0;
    int rc = 1;
    loupe_trial *trial = NULL;
    loupe__buf md = {0}, path = {0}, note = {0}, params_md = {0};
    char err[512];
    if (loupe_study_trial(env->study, job->number, &trial) != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot open trial %lld: %s", (long long)job->number,
                loupe_study_errmsg(env->study));
        rc = -1;
        goto cleanup;
    }
    for (int i = 0; i < n && rc == 1; i++) {
        loupe__buf_reset(&path);
        loupe__buf_printf(&path, "%s/%s", job->out_dir, names[i]->d_name);
        struct stat sb;
        if (stat(path.data, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            cli_log(env->ctx, CLI_LOG_WARNING, "Trial %lld: skipping %s (not a regular file)", (long long)job->number,
                    names[i]->d_name);
            continue;
        }
        const char *mime = NULL, *enc = NULL;
        loupe_artifact_guess_type(names[i]->d_name, &mime, &enc);
        if (!mime) mime = sniff_mimetype(path.data);
        char id[37];
        int st = loupe_artifact_upload_file(env->store, env->study, trial, path.data, mime, enc, id);
        if (st != LOUPE_OK) {
            snprintf(reason, reason_cap, "uploading %s failed: %s", names[i]->d_name, loupe_study_errmsg(env->study));
            rc = 0;
            break;
        }
        if (!mime) mime = LOUPE_ARTIFACT_DEFAULT_MIMETYPE;
        ups[n_up].name = cli_xstrdup(names[i]->d_name);
        ups[n_up].id = cli_xstrdup(id);
        ups[n_up].mimetype = mime;
        n_up++;
    }
    if (rc == 1 && n_up == 0) {
        snprintf(reason, reason_cap, "the command succeeded but wrote no file: write the result to the path given "
                                     "as {output} ($LOUPE_OUTPUT) or into $LOUPE_OUTPUT_DIR");
        rc = 0;
    }
    if (rc != 1) goto cleanup;

    /* The note: the artifacts as Markdown (images inline, other media as links). */
    for (size_t i = 0; i < n_up; i++) {
        char link[160];
        if (loupe_artifact_path(loupe_study_id(env->study), job->trial_id, ups[i].id, link, sizeof link) < 0) continue;
        if (!strncmp(ups[i].mimetype, "image/", 6))
            loupe__buf_printf(&md, "%s![%s](%s)\n", i ? "\n" : "", ups[i].name, link);
        else if (!strncmp(ups[i].mimetype, "audio/", 6) || !strncmp(ups[i].mimetype, "video/", 6))
            loupe__buf_printf(&md, "%s[\xe2\x96\xb6 %s](%s)\n", i ? "\n" : "", ups[i].name, link);
        else
            loupe__buf_printf(&md, "%s[%s](%s)\n", i ? "\n" : "", ups[i].name, link);
    }
    const loupe_frozen_trial *ft = NULL;
    if (loupe_trial_snapshot(trial, &ft) != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot read trial %lld: %s", (long long)job->number, loupe_trial_errmsg(trial));
        rc = -1;
        goto cleanup;
    }
    const gen_config *cfg = env->cfg;
    const char **values = cli_xmalloc((cfg->n_params + 1) * sizeof *values);
    char **owned = cli_xmalloc((cfg->n_params + 1) * sizeof *owned);
    loupe__buf_puts(&params_md, "| param | value |\n|---|---|\n");
    for (size_t i = 0; i < cfg->n_params; i++) {
        const loupe_param *p = loupe_frozen_trial_param(ft, cfg->params[i].name);
        loupe__buf v = {0};
        if (p) gen_param_text(p, &v);
        owned[i] = v.data ? loupe__buf_steal(&v) : cli_xstrdup("");
        values[i] = owned[i];
        loupe__buf_printf(&params_md, "| %s | %s |\n", cfg->params[i].name, values[i]);
    }
    trial_vars vars = {cfg, values, "", job->out_dir, "", md.data ? md.data : "", params_md.data, "", ""};
    snprintf(vars.number, sizeof vars.number, "%lld", (long long)job->number);
    snprintf(vars.trial_id, sizeof vars.trial_id, "%lld", (long long)job->trial_id);
    int xr = gen_expand(cfg->note, trial_lookup, &vars, &note, err, sizeof err);
    for (size_t i = 0; i < cfg->n_params; i++) free(owned[i]);
    free(owned);
    free(values);
    if (xr != 0 || !note.data) {
        snprintf(reason, reason_cap, "the \"note\" template: %s", xr ? err : "out of memory");
        rc = 0;
        goto cleanup;
    }
    if (loupe_note_save(env->study, job->trial_id, LOUPE_NOTE_ANY_VERSION, note.data, NULL, NULL) != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot save the note of trial %lld: %s", (long long)job->number,
                loupe_study_errmsg(env->study));
        rc = -1;
        goto cleanup;
    }
    cli_log(env->ctx, CLI_LOG_INFO, "Trial %lld ready for rating (%s): %zu file(s) in %.1f s", (long long)job->number,
            job->params_text, n_up, (double)(loupe__monotonic_us() - job->start_us) / 1e6);
cleanup:
    loupe_trial_free(trial);
    for (size_t i = 0; i < n_up; i++) {
        free(ups[i].name);
        free(ups[i].id);
    }
    free(ups);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    loupe__buf_free(&md);
    loupe__buf_free(&path);
    loupe__buf_free(&note);
    loupe__buf_free(&params_md);
    return rc;
}

int gen_job_finish(gen_env *env, gen_job *job) {
    gen_job_drain(job);
    char reason[PATH_MAX + 600] = "";
    int rc;
    if (job->stopped) {
        snprintf(reason, sizeof reason, "loupe generate was stopped before the command finished");
    } else if (job->timed_out) {
        snprintf(reason, sizeof reason, "the command timed out after %g s (the \"timeout\" setting) and was killed",
                 env->cfg->timeout_s);
    } else if (!(WIFEXITED(job->wait_status) && WEXITSTATUS(job->wait_status) == 0)) {
        char how[96];
        cli_describe_wait_status(job->wait_status, how, sizeof how);
        snprintf(reason, sizeof reason, "the command failed with %s", how);
    }
    if (reason[0]) {
        rc = fail_trial(env, job->number, job->params_text, reason, &job->err_tail) == 0 ? 0 : -1;
    } else {
        rc = publish(env, job, reason, sizeof reason);
        if (rc == 0) rc = fail_trial(env, job->number, job->params_text, reason, &job->err_tail) == 0 ? 0 : -1;
    }
    gen_job_release(job);
    return rc;
}

/* ---------------------------------------------------------------- orphans */

int gen_find_orphans(gen_env *env, const int64_t *skip, size_t n_skip, double stale_s, loupe_trial_list **all,
                     size_t **rerun_idx, size_t *n_rerun) {
    *all = NULL;
    *rerun_idx = NULL;
    *n_rerun = 0;
    loupe_trial_list *list = NULL;
    if (loupe_study_get_trials(env->study, LOUPE_STATE_BIT(LOUPE_RUNNING), &list) != LOUPE_OK) {
        cli_log(env->ctx, CLI_LOG_ERROR, "Cannot read the running trials: %s", loupe_study_errmsg(env->study));
        return -1;
    }
    size_t n = loupe_trial_list_count(list);
    size_t *idx = cli_xmalloc((n + 1) * sizeof *idx);
    int64_t now = loupe__now_us();
    for (size_t i = 0; i < n; i++) {
        const loupe_frozen_trial *ft = loupe_trial_list_at(list, i);
        int mine = 0;
        for (size_t k = 0; k < n_skip; k++) mine |= skip[k] == ft->number;
        if (mine) continue;
        int64_t version = 0;
        char *body = NULL;
        if (loupe_note_get(env->study, ft->trial_id, &version, &body) != LOUPE_OK) {
            cli_log(env->ctx, CLI_LOG_ERROR, "Cannot read the note of trial %lld: %s", (long long)ft->number,
                    loupe_study_errmsg(env->study));
            free(idx);
            loupe_trial_list_free(list);
            return -1;
        }
        loupe_free(body);
        if (version > 0) continue; /* published: waiting for its rating */
        const char *owner = loupe_frozen_trial_system_attr(ft, GEN_OWNER_KEY);
        if (owner) {
            if (!gen_owner_alive(owner)) idx[(*n_rerun)++] = i;
        } else if (ft->n_params == 0 && ft->datetime_start_us >= 0 &&
                   (double)(now - ft->datetime_start_us) / 1e6 > stale_s) {
            /* asked, then the asking process died before storing any param */
            if (fail_trial(env, ft->number, NULL, "interrupted before its params were stored", NULL) != 0) {
                free(idx);
                loupe_trial_list_free(list);
                return -1;
            }
        }
    }
    *all = list;
    *rerun_idx = idx;
    return 0;
}
