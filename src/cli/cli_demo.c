/*
 * cli_demo.c -- `loupe demo`: the tutorial in one command. Starts the sunset
 * generator (loupe-sunset, found next to the loupe binary or in PATH) and
 * `loupe dashboard` on the same SQLite database and artifact directory,
 * prints the URL to open, and supervises both: Ctrl-C (or SIGTERM) is passed
 * on to both and waited for; if one of them stops on its own, the other is
 * stopped too and the reason is reported. The children also get SIGTERM if
 * this process is killed outright (Linux parent-death signal).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proc.h"
#include "util/timeutil.h"

#define DEMO_DEFAULT_PORT 8080
#define DEMO_STOP_GRACE_US (10 * 1000000LL) /* then SIGKILL */
#define DEMO_URL_WAIT_US (30 * 1000000LL)   /* the dashboard must print its URL by then */

/* The self-pipe that turns SIGINT/SIGTERM/SIGCHLD into poll() events. */
static int demo_sig_pipe[2] = {-1, -1};

static void demo_on_signal(int sig) {
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (write(demo_sig_pipe[1], &c, 1) < 0) { /* pipe full: a wake-up is pending anyway */
    }
    errno = saved;
}

typedef struct demo_child {
    const char *what; /* "the generator", "the dashboard" */
    pid_t pid;        /* 0 once reaped */
    int status;
} demo_child;

/* Finds the generator: --generator, next to this executable, then PATH. */
static int find_generator(const char *given, char *out, size_t cap, char *tried, size_t tried_cap) {
    if (given) {
        if (access(given, X_OK) != 0) {
            snprintf(tried, tried_cap, "%s (%s)", given, strerror(errno));
            return -1;
        }
        snprintf(out, cap, "%s", given);
        return 0;
    }
    char self[PATH_MAX];
    tried[0] = '\0';
    if (cli_self_exe(self, sizeof self) == 0) {
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            int n = snprintf(out, cap, "%s/loupe-sunset", self);
            if (n > 0 && (size_t)n < cap && access(out, X_OK) == 0) return 0;
            snprintf(tried, tried_cap, "%s, ", out);
        }
    }
    if (cli_find_in_path("loupe-sunset", out, cap) == 0) return 0;
    size_t n = strlen(tried);
    snprintf(tried + n, tried_cap - n, "loupe-sunset in PATH");
    return -1;
}

/* 1 when nothing listens on host:port (IPv4 literal hosts only; others: 1). */
static int port_is_free(const char *host, int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) return 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int free_ = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 || errno != EADDRINUSE;
    close(fd);
    return free_;
}

/* Creates the database (Optuna's schema) when missing, so the dashboard can
 * open it before the generator has written anything. */
static int ensure_database(cli_ctx *ctx, const char *url) {
    loupe_storage *st = NULL;
    int status = loupe_storage_open(url, LOUPE_OPEN_DEFAULT, &st);
    int rc = 0;
    if (status != LOUPE_OK)
        rc = cli_fail_status(ctx, status, st ? loupe_storage_errmsg(st) : "out of memory",
                             "Cannot open or create the demo database %s", url);
    loupe_storage_close(st);
    return rc;
}

/* Reaps children that have ended; returns how many are still running. */
static int reap(demo_child *kids, size_t n) {
    int running = 0;
    for (size_t i = 0; i < n; i++) {
        if (!kids[i].pid) continue;
        int st;
        pid_t r = waitpid(kids[i].pid, &st, WNOHANG);
        if (r == kids[i].pid) {
            kids[i].status = st;
            kids[i].pid = 0;
        } else {
            running++;
        }
    }
    return running;
}

static void signal_all(demo_child *kids, size_t n, int sig) {
    for (size_t i = 0; i < n; i++)
        if (kids[i].pid) kill(kids[i].pid, sig);
}

/* Reads what the dashboard printed; relays it, except its own banner, which
 * is replaced by ours once the URL is known. Returns -1 at end of file. */
static int relay_dashboard(int fd, loupe__buf *line, char *url, size_t url_cap) {
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0) return -1;
    loupe__buf_append(line, chunk, (size_t)n);
    char *start = line->data, *nl;
    while (line->data && (nl = memchr(start, '\n', line->len - (size_t)(start - line->data)))) {
        *nl = '\0';
        const char *open_at = strncmp(start, "Open ", 5) == 0 ? start + 5 : NULL;
        const char *in = open_at ? strstr(open_at, " in your browser") : NULL;
        if (in && !url[0]) {
            snprintf(url, url_cap, "%.*s", (int)(in - open_at), open_at);
        } else if (strncmp(start, "Listening on ", 13) != 0) {
            printf("%s\n", start);
        }
        start = nl + 1;
    }
    size_t rest = line->len - (size_t)(start - line->data);
    memmove(line->data, start, rest);
    line->len = rest;
    if (line->data) line->data[rest] = '\0';
    fflush(stdout);
    return 0;
}

static int run_demo(cli_ctx *ctx, const cli_args *args) {
    const char *url = ctx->storage_url ? ctx->storage_url : "sqlite:///db.sqlite3";
    const char *artifact_dir = cli_arg(args, "--artifact-dir");
    const char *study_name = cli_arg(args, "--study-name");
    const char *batch = cli_arg(args, "--batch");
    const char *host = cli_arg(args, "--host");
    const char *port_s = cli_arg(args, "--port");
    const char *seed = cli_arg(args, "--seed");
    int check_only = cli_arg_count(args, "--check") > 0;

    if (strncmp(url, "sqlite:///", 10) != 0)
        return cli_usage_error(ctx, "the demo needs a SQLite storage (sqlite:///db.sqlite3), not '%s': the "
                                    "generator and the dashboard share it as a file.", url);
    char *end;
    long b = strtol(batch, &end, 10);
    if (*end || b < 1 || b > 1000)
        return cli_usage_error(ctx, "argument --batch: '%s' is not an integer from 1 to 1000", batch);
    int port = DEMO_DEFAULT_PORT, port_given = port_s != NULL;
    if (port_s) {
        long p = strtol(port_s, &end, 10);
        if (*end || !*port_s || p < 0 || p > 65535)
            return cli_usage_error(ctx, "argument --port: '%s' is not a port number (0 to 65535; 0 = any free port)",
                                   port_s);
        port = (int)p;
    }
    if (seed) {
        (void)strtoull(seed, &end, 10);
        if (*end || !*seed || seed[0] == '-')
            return cli_usage_error(ctx, "argument --seed: '%s' is not a non-negative integer", seed);
    }

    char self[PATH_MAX], gen[PATH_MAX], tried[2 * PATH_MAX + 64];
    if (cli_self_exe(self, sizeof self) != 0)
        return cli_fail(ctx, "Cannot find the loupe executable (/proc/self/exe): the demo runs `loupe dashboard` "
                             "from it. Is /proc mounted?");
    if (find_generator(cli_arg(args, "--generator"), gen, sizeof gen, tried, sizeof tried) != 0)
        return cli_fail(ctx,
                        "The sunset generator was not found (looked for %s). Build it with `make` (it needs "
                        "libpng-dev: apt-get install libpng-dev, then re-run cmake), install it with `make "
                        "install`, or pass --generator PATH.",
                        tried);
#ifndef LOUPE_HAVE_SERVER
    return cli_fail(ctx, "This loupe was built without the dashboard (libmicrohttpd-dev was missing when cmake "
                         "ran), so the demo cannot show the images. Install libmicrohttpd-dev, re-run cmake and "
                         "rebuild; meanwhile rate trials with `loupe tell`.");
#endif
    if (check_only) {
        printf("generator: %s\ndashboard: %s dashboard\n", gen, self);
        return CLI_EXIT_OK;
    }

    if (mkdir(artifact_dir, 0755) != 0 && errno != EEXIST)
        return cli_fail(ctx, "Cannot create the artifact directory '%s': %s. Pass another --artifact-dir.",
                        artifact_dir, strerror(errno));
    int rc = ensure_database(ctx, url);
    if (rc) return rc;
    if (!port_given && !port_is_free(host, port)) {
        cli_log(ctx, CLI_LOG_WARNING, "Port %d on %s is in use; the dashboard takes any free port instead "
                                      "(pass --port to choose one).", port, host);
        port = 0;
    }

    /* Signals become bytes on a pipe, handled in the poll loop below. */
    if (pipe2(demo_sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return cli_fail(ctx, "Cannot create a pipe: %s", strerror(errno));
    struct sigaction sa, old_int, old_term, old_chld, old_pipe;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = demo_on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGCHLD, &sa, &old_chld);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    demo_child kids[2] = {{"the generator", 0, 0}, {"the dashboard", 0, 0}};
    int out_pipe[2] = {-1, -1};
    loupe__buf line = {0};
    char dash_url[1024] = "", err[PATH_MAX + 256];
    rc = CLI_EXIT_ERROR;

    /* The generator first, so the study exists when the page is opened. */
    char batch_arg[16];
    snprintf(batch_arg, sizeof batch_arg, "%ld", b);
    const char *gen_argv[12] = {gen, "--storage", url, "--artifact-dir", artifact_dir, "--study-name", study_name,
                                "--batch", batch_arg};
    size_t ga = 9;
    if (seed) gen_argv[ga++] = "--seed", gen_argv[ga++] = seed;
    gen_argv[ga] = NULL;
    cli_spawn_opts so = {gen_argv, NULL, NULL, 0, SIGTERM, -1, -1};
    if (cli_spawn(&so, &kids[0].pid, err, sizeof err) != 0) {
        cli_fail(ctx, "Cannot start the generator: %s", err);
        goto cleanup;
    }

    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
        cli_fail(ctx, "Cannot create a pipe: %s", strerror(errno));
        goto cleanup;
    }
    char port_arg[16];
    snprintf(port_arg, sizeof port_arg, "%d", port);
    const char *dash_argv[12] = {self, "dashboard", url, "--artifact-dir", artifact_dir, "--host", host,
                                 "--port", port_arg};
    size_t da = 9;
    if (!cli_arg_count(args, "--log-requests")) dash_argv[da++] = "--quiet";
    dash_argv[da] = NULL;
    cli_spawn_opts dopt = {dash_argv, NULL, NULL, 0, SIGTERM, out_pipe[1], -1};
    if (cli_spawn(&dopt, &kids[1].pid, err, sizeof err) != 0) {
        cli_fail(ctx, "Cannot start the dashboard: %s", err);
        goto cleanup;
    }
    close(out_pipe[1]);
    out_pipe[1] = -1;
    fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);

    int stopping = 0, announced = 0, failed = 0;
    int64_t stop_deadline = 0, url_deadline = loupe__monotonic_us() + DEMO_URL_WAIT_US;
    while (reap(kids, 2) > 0) {
        struct pollfd pf[2] = {{demo_sig_pipe[0], POLLIN, 0}, {out_pipe[0], POLLIN, 0}};
        int n = poll(pf, out_pipe[0] >= 0 ? 2 : 1, 200);
        if (n < 0 && errno != EINTR) {
            cli_log(ctx, CLI_LOG_ERROR, "poll failed: %s; stopping the demo.", strerror(errno));
            failed = 1;
        }
        int got_stop_signal = 0;
        if (n > 0 && (pf[0].revents & POLLIN)) {
            unsigned char sigs[64];
            ssize_t k = read(demo_sig_pipe[0], sigs, sizeof sigs);
            for (ssize_t i = 0; i < k; i++)
                if (sigs[i] == SIGINT || sigs[i] == SIGTERM) got_stop_signal = sigs[i];
        }
        if (out_pipe[0] >= 0 && n > 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (relay_dashboard(out_pipe[0], &line, dash_url, sizeof dash_url) < 0) {
                close(out_pipe[0]);
                out_pipe[0] = -1;
            }
        }
        if (dash_url[0] && !announced) {
            announced = 1;
            printf("\nloupe demo: open %s in your browser, choose the study \"%s\" and rate the colours "
                   "(Trials, or the note of each trial).\n"
                   "loupe demo: data in %s, images in %s/. Ctrl-C stops the generator and the dashboard; "
                   "run `loupe demo` again to resume.\n\n",
                   dash_url, study_name, url, artifact_dir);
            fflush(stdout);
        }
        reap(kids, 2);
        if (!stopping) {
            const char *why = NULL;
            if (got_stop_signal) {
                why = got_stop_signal == SIGINT ? "Ctrl-C" : "SIGTERM";
            } else if (failed) {
                why = "an error";
            } else if (!announced && loupe__monotonic_us() > url_deadline) {
                cli_log(ctx, CLI_LOG_ERROR, "The dashboard did not print its URL within %d s; stopping the demo.",
                        (int)(DEMO_URL_WAIT_US / 1000000));
                failed = 1;
                why = "a dashboard that did not start";
            } else {
                for (size_t i = 0; i < 2; i++) {
                    if (kids[i].pid) continue;
                    char how[96];
                    cli_describe_wait_status(kids[i].status, how, sizeof how);
                    cli_log(ctx, CLI_LOG_ERROR, "%s stopped on its own (%s); stopping the demo. Its messages "
                                                "above say why.", i == 0 ? "The generator" : "The dashboard", how);
                    failed = 1;
                    why = "a stopped child";
                    break;
                }
            }
            if (why) {
                stopping = 1;
                stop_deadline = loupe__monotonic_us() + DEMO_STOP_GRACE_US;
                if (got_stop_signal) fprintf(stderr, "\nloupe demo: stopping (%s)...\n", why);
                signal_all(kids, 2, got_stop_signal ? got_stop_signal : SIGTERM);
            }
        } else if (got_stop_signal) {
            signal_all(kids, 2, got_stop_signal); /* a second Ctrl-C: ask again */
        } else if (loupe__monotonic_us() > stop_deadline) {
            for (size_t i = 0; i < 2; i++)
                if (kids[i].pid)
                    cli_log(ctx, CLI_LOG_WARNING, "%s did not stop within %d s; killing it.", kids[i].what,
                            (int)(DEMO_STOP_GRACE_US / 1000000));
            signal_all(kids, 2, SIGKILL);
            stop_deadline = INT64_MAX;
        }
    }
    /* Both have ended: report how. */
    for (size_t i = 0; i < 2; i++) {
        int st = kids[i].status;
        int clean = (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
                    (WIFSIGNALED(st) && (WTERMSIG(st) == SIGINT || WTERMSIG(st) == SIGTERM) && !failed);
        if (!clean && !failed) {
            char how[96];
            cli_describe_wait_status(st, how, sizeof how);
            cli_log(ctx, CLI_LOG_WARNING, "%s ended with %s.", kids[i].what, how);
        }
    }
    if (!failed) fprintf(stderr, "loupe demo: stopped. The study is kept in %s.\n", url);
    rc = failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;

cleanup:
    /* After an error while starting: stop what runs already. */
    signal_all(kids, 2, SIGTERM);
    for (size_t i = 0; i < 2; i++)
        if (kids[i].pid) waitpid(kids[i].pid, &kids[i].status, 0);
    if (out_pipe[0] >= 0) close(out_pipe[0]);
    if (out_pipe[1] >= 0) close(out_pipe[1]);
    loupe__buf_free(&line);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    close(demo_sig_pipe[0]);
    close(demo_sig_pipe[1]);
    demo_sig_pipe[0] = demo_sig_pipe[1] = -1;
    return rc;
}

static const cli_option demo_options[] = {
    {"--artifact-dir", 0, CLI_OPT_VALUE, "DIR", NULL, "artifact", 0,
     "Where the images are stored (created if missing). Default: ./artifact."},
    {"--study-name", 0, CLI_OPT_VALUE, "NAME", NULL, "Human-in-the-loop Optimization", 0,
     "The study (created, or resumed when it exists). Default: the tutorial's \"Human-in-the-loop Optimization\"."},
    {"--batch", 0, CLI_OPT_VALUE, "N", NULL, "4", 0, "Trials kept RUNNING for rating (default 4)."},
    {"--host", 0, CLI_OPT_VALUE, "HOST", NULL, "127.0.0.1", 0,
     "Address the dashboard listens on (default 127.0.0.1; another address gets an access token)."},
    {"--port", 0, CLI_OPT_VALUE, "PORT", NULL, NULL, 0,
     "Dashboard port (default 8080, or any free port when 8080 is taken; 0 = any free port)."},
    {"--seed", 0, CLI_OPT_VALUE, "N", NULL, NULL, 0, "Seed the generator's sampler (default: from the clock)."},
    {"--generator", 0, CLI_OPT_VALUE, "PATH", NULL, NULL, 0,
     "The generator program (default: loupe-sunset next to loupe, then in PATH)."},
    {"--log-requests", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, "Let the dashboard log every HTTP request."},
    {"--check", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0,
     "Only check that the generator and the dashboard are available; print where they are."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_demo = {
    "demo",
    "Run the tutorial: the sunset generator and the dashboard together (Ctrl-C stops both).",
    "Starts the sunset generator (loupe-sunset) and `loupe dashboard` on the same SQLite database "
    "(--storage, default sqlite:///db.sqlite3) and artifact directory, and prints the URL to open. "
    "The generator keeps --batch trials RUNNING, each with an image of its colour; rate them in the "
    "browser. Ctrl-C stops both; running it again resumes the study.",
    demo_options,
    0,
    run_demo,
};
