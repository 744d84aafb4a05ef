/*
 * cli_dashboard.c -- `loupe dashboard STORAGE`: the web dashboard. Its command
 * line follows optuna-dashboard's (a positional storage URL, --host, --port,
 * --artifact-dir, -q/--quiet, -v/--version), which differs from the other
 * verbs' argparse setup (-v is --version here), so it has its own small
 * parser. loupe adds --read-only, --base-path, an access token and limits.
 * Ctrl-C (SIGINT) or SIGTERM stops the server cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#ifdef LOUPE_HAVE_SERVER
#include "server/security.h"
#include "server/server.h"
#endif

static const char usage[] =
    "usage: loupe dashboard [-h] [STORAGE] [--storage URL] [--host HOST] [--port PORT]\n"
    "                       [--artifact-dir DIR] [-q] [-v] [--read-only] [--base-path PATH]\n"
    "                       [--token TOKEN] [--no-token] [--allow-host NAME] [--threads N]\n"
    "                       [--max-upload-mb N] [--uncompressed-mb N]\n";

static const char help_text[] =
    "\nServe the web dashboard for a storage (optuna-dashboard's command line).\n\n"
    "positional arguments:\n"
    "  STORAGE               Storage URL: sqlite:///relative.db or sqlite:////absolute.db (a path\n"
    "                        to an Optuna SQLite file is accepted too).\n\n"
    "options:\n"
    "  -h, --help            Show this help message and exit.\n"
    "  --storage URL         The storage URL (instead of STORAGE).\n"
    "  --host HOST           Address to listen on (default 127.0.0.1). Another address than\n"
    "                        loopback requires an access token (one is made up when none is given).\n"
    "  --port PORT           Port to listen on (default 8080; 0 = any free port).\n"
    "  --artifact-dir DIR    Directory of an Optuna FileSystemArtifactStore (must exist).\n"
    "  -q, --quiet           Do not log requests.\n"
    "  -v, --version         Print `loupe <version>` and exit.\n"
    "  --read-only           Refuse every change (tell, notes, uploads, renames, deletes).\n"
    "  --base-path PATH      Serve under PATH (e.g. /optuna) behind a reverse proxy.\n"
    "  --token TOKEN         Require this access token (default: $LOUPE_TOKEN). Browsers get it\n"
    "                        from the printed URL; scripts send 'Authorization: Bearer TOKEN'.\n"
    "  --no-token            Serve a non-loopback address without a token (anyone who can reach\n"
    "                        it can change and delete studies).\n"
    "  --allow-host NAME     Also accept this name in the Host header (a proxy's or DNS name).\n"
    "  --threads N           HTTP worker threads (default: cores, at most 4).\n"
    "  --max-upload-mb N     Largest artifact upload in MiB (default 128, as optuna-dashboard).\n"
    "  --uncompressed-mb N   Trial JSON each study keeps uncompressed in memory, in MiB (default 16).\n"
    "                        Older finished trials are kept deflate-compressed (about a tenth of the\n"
    "                        size) and inflated for each full study request.\n"
    "  --server {auto,wsgiref,gunicorn}, --storage-class CLASS\n"
    "                        Accepted for compatibility; loupe has one built-in server.\n";

typedef struct dash_opts {
    const char *storage, *host, *artifact_dir, *base_path, *token, *port_s, *threads_s, *upload_s, *raw_s;
    const char *allowed[16];
    size_t n_allowed;
    int quiet, read_only, no_token, version, help;
} dash_opts;

typedef struct optdef {
    const char *name;
    char short_name;
    int takes_value;
} optdef;

static const optdef defs[] = {
    {"--help", 'h', 0},        {"--storage", 0, 1},    {"--host", 0, 1},          {"--port", 0, 1},
    {"--artifact-dir", 0, 1},  {"--quiet", 'q', 0},    {"--version", 'v', 0},     {"--read-only", 0, 0},
    {"--base-path", 0, 1},     {"--token", 0, 1},      {"--no-token", 0, 0},      {"--allow-host", 0, 1},
    {"--threads", 0, 1},       {"--max-upload-mb", 0, 1}, {"--server", 0, 1},     {"--storage-class", 0, 1},
    {"--allow-unsafe", 0, 0},  {"--from-config", 0, 1},   {"--uncompressed-mb", 0, 1},
};
#define N_DEFS (sizeof defs / sizeof *defs)

static int usage_error(const char *fmt, const char *arg) {
    fputs(usage, stderr);
    fprintf(stderr, "loupe dashboard: error: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return CLI_EXIT_USAGE;
}

/* Finds an option by exact name or unique prefix (argparse's rule). */
static const optdef *find_def(const char *tok, size_t len) {
    const optdef *hit = NULL;
    for (size_t i = 0; i < N_DEFS; i++) {
        if (strlen(defs[i].name) == len && strncmp(defs[i].name, tok, len) == 0) return &defs[i];
        if (strncmp(defs[i].name, tok, len) == 0) {
            if (hit) return NULL;
            hit = &defs[i];
        }
    }
    return hit;
}

static int parse(int argc, char **argv, int verb_pos, dash_opts *o) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        if (i == verb_pos) continue;
        const char *t = argv[i];
        if (t[0] != '-' || strcmp(t, "-") == 0) {
            if (o->storage) return usage_error("unrecognized arguments: %s", t);
            o->storage = t;
            continue;
        }
        const optdef *d = NULL;
        const char *value = NULL;
        if (t[1] == '-') {
            const char *eq = strchr(t, '=');
            d = find_def(t, eq ? (size_t)(eq - t) : strlen(t));
            if (eq) value = eq + 1;
        } else {
            for (size_t k = 0; k < N_DEFS; k++)
                if (defs[k].short_name && defs[k].short_name == t[1] && t[2] == '\0') d = &defs[k];
        }
        if (!d) return usage_error("unrecognized arguments: %s", t);
        if (d->takes_value && !value) {
            if (i + 1 >= argc || i + 1 == verb_pos) return usage_error("argument %s: expected one argument", d->name);
            value = argv[++i];
        } else if (!d->takes_value && value) {
            return usage_error("argument %s: ignored explicit argument", d->name);
        }
        const char *n = d->name;
        if (!strcmp(n, "--help")) o->help = 1;
        else if (!strcmp(n, "--storage")) o->storage = value;
        else if (!strcmp(n, "--host")) o->host = value;
        else if (!strcmp(n, "--port")) o->port_s = value;
        else if (!strcmp(n, "--artifact-dir")) o->artifact_dir = value;
        else if (!strcmp(n, "--quiet")) o->quiet = 1;
        else if (!strcmp(n, "--version")) o->version = 1;
        else if (!strcmp(n, "--read-only")) o->read_only = 1;
        else if (!strcmp(n, "--base-path")) o->base_path = value;
        else if (!strcmp(n, "--token")) o->token = value;
        else if (!strcmp(n, "--no-token")) o->no_token = 1;
        else if (!strcmp(n, "--threads")) o->threads_s = value;
        else if (!strcmp(n, "--max-upload-mb")) o->upload_s = value;
        else if (!strcmp(n, "--uncompressed-mb")) o->raw_s = value;
        else if (!strcmp(n, "--allow-host")) {
            if (o->n_allowed == sizeof o->allowed / sizeof *o->allowed)
                return usage_error("too many --allow-host options (at most 16): %s", value);
            o->allowed[o->n_allowed++] = value;
        } else if (!strcmp(n, "--server")) {
            if (strcmp(value, "auto") && strcmp(value, "wsgiref") && strcmp(value, "gunicorn"))
                return usage_error("argument --server: invalid choice: '%s' (choose from 'auto', 'wsgiref', 'gunicorn')", value);
        } else if (!strcmp(n, "--storage-class")) {
            if (strcmp(value, "RDBStorage") != 0) {
                fprintf(stderr, "loupe dashboard: --storage-class %s is not supported: loupe serves Optuna's RDB "
                                "storage (SQLite) only.\n", value);
                return CLI_EXIT_ERROR;
            }
        } else if (!strcmp(n, "--allow-unsafe")) {
            fprintf(stderr, "loupe dashboard: --allow-unsafe is not supported: notes are always rendered "
                            "without raw HTML and pages keep their Content-Security-Policy.\n");
            return CLI_EXIT_USAGE;
        } else if (!strcmp(n, "--from-config")) {
            fprintf(stderr, "loupe dashboard: --from-config is not supported: pass the settings as options "
                            "(see `loupe dashboard --help`).\n");
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

static int parse_uint(const char *s, const char *what, unsigned long max, unsigned long *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || v > max || s[0] == '-') {
        fputs(usage, stderr);
        fprintf(stderr, "loupe dashboard: error: argument %s: invalid value: '%s' (an integer from 0 to %lu)\n",
                what, s, max);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

/* Turns the STORAGE argument into a URL: URLs as given, and a path to an
 * existing SQLite file into sqlite:////absolute/path. */
static int storage_url(const char *arg, char *url, size_t cap) {
    if (strcmp(arg, ":memory:") == 0 || strstr(arg, "://")) {
        if (strncmp(arg, "sqlite:///", 10) == 0) {
            const char *path = arg + 10;
            struct stat sb;
            if (stat(path, &sb) != 0) {
                fprintf(stderr,
                        "loupe dashboard: the database file '%s' does not exist (from %s). Check the path: "
                        "sqlite:///relative/path.db or sqlite:////absolute/path.db.\n",
                        path, arg);
                return CLI_EXIT_ERROR;
            }
        } else if (strcmp(arg, ":memory:") != 0 && strncmp(arg, "postgresql", 10) != 0 &&
                   strncmp(arg, "postgres://", 11) != 0) {
            /* no echo of the URL: it may hold a password */
            fprintf(stderr, "loupe dashboard: cannot open the storage URL: loupe serves SQLite "
                            "(sqlite:///path.db) and PostgreSQL (postgresql://user@host/db) storages.\n");
            return CLI_EXIT_ERROR;
        }
        snprintf(url, cap, "%s", arg);
        return 0;
    }
    int fd = open(arg, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "loupe dashboard: Failed to guess storage class from storage_url '%s': it is neither "
                        "a URL (sqlite:///path.db) nor an existing file.\n", arg);
        return CLI_EXIT_ERROR;
    }
    char head[16] = {0};
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n != 16 || memcmp(head, "SQLite format 3", 16) != 0) {
        fprintf(stderr, "loupe dashboard: '%s' is not an SQLite database: loupe does not read Optuna's journal "
                        "files. Use an RDB (SQLite) storage.\n", arg);
        return CLI_EXIT_ERROR;
    }
    char abs[PATH_MAX];
    if (!realpath(arg, abs)) {
        fprintf(stderr, "loupe dashboard: cannot resolve '%s': %s\n", arg, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    snprintf(url, cap, "sqlite:///%s", abs);
    return 0;
}

#ifdef LOUPE_HAVE_SERVER
/* 128 bits from the OS, as 32 hex digits. */
static int make_token(char out[33]) {
    unsigned char r[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, r, sizeof r);
    close(fd);
    if (n != (ssize_t)sizeof r) return -1;
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
    return 0;
}
#endif

int cli_dashboard_main(cli_ctx *ctx, int argc, char **argv, int verb_pos) {
    (void)ctx;
    dash_opts o;
    int rc = parse(argc, argv, verb_pos, &o);
    if (rc) return rc;
    if (o.help) {
        fputs(usage, stdout);
        fputs(help_text, stdout);
#ifndef LOUPE_HAVE_SERVER
        fputs("\n(This loupe was built without the dashboard: libmicrohttpd was missing.)\n", stdout);
#endif
        return CLI_EXIT_OK;
    }
    if (o.version) {
        printf("loupe %s\n", loupe_version());
        return CLI_EXIT_OK;
    }
    if (!o.storage || !*o.storage) {
        fputs(usage, stderr);
        fprintf(stderr, "loupe dashboard: error: Storage URL is required but not provided. Pass it as the "
                        "first argument, e.g. loupe dashboard sqlite:///db.sqlite3\n");
        return CLI_EXIT_USAGE;
    }
    unsigned long port = 8080, threads = 0, upload_mb = 128, raw_mb = 16;
    if (o.port_s && (rc = parse_uint(o.port_s, "--port", 65535, &port))) return rc;
    if (o.threads_s && (rc = parse_uint(o.threads_s, "--threads", 64, &threads))) return rc;
    if (o.upload_s && (rc = parse_uint(o.upload_s, "--max-upload-mb", 65536, &upload_mb))) return rc;
    if (o.raw_s && (rc = parse_uint(o.raw_s, "--uncompressed-mb", 1048576, &raw_mb))) return rc;
    if (o.artifact_dir) {
        struct stat sb;
        if (stat(o.artifact_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "loupe dashboard: --artifact-dir '%s' is not a directory (create it first, e.g. "
                            "mkdir -p %s).\n", o.artifact_dir, o.artifact_dir);
            return CLI_EXIT_ERROR;
        }
    }
    char url[PATH_MAX + 32];
    if ((rc = storage_url(o.storage, url, sizeof url))) return rc;
#ifndef LOUPE_HAVE_SERVER
    fprintf(stderr, "loupe dashboard: this loupe was built without the dashboard (libmicrohttpd was missing "
                    "at build time). Install libmicrohttpd-dev and rebuild.\n");
    return CLI_EXIT_ERROR;
#else
    const char *host = o.host ? o.host : "127.0.0.1";
    const char *token = o.token ? o.token : getenv("LOUPE_TOKEN");
    if (token && !*token) token = NULL;
    char made[33];
    int loopback = loupe__is_loopback_name(host, strlen(host)) || strcmp(host, "[::1]") == 0;
    if (!token && !loopback && !o.no_token) {
        if (make_token(made)) {
            fprintf(stderr, "loupe dashboard: cannot make an access token (no /dev/urandom); pass --token.\n");
            return CLI_EXIT_ERROR;
        }
        token = made;
    }
    if (o.no_token) token = NULL;
    if (token && (strlen(token) < 8 || strlen(token) > 200 || strpbrk(token, " ;,\"\\\r\n\t"))) {
        fprintf(stderr, "loupe dashboard: the access token must be 8 to 200 characters without spaces, "
                        "quotes, commas, semicolons or backslashes.\n");
        return CLI_EXIT_USAGE;
    }

    /* Signals are taken by sigwait below; block them before any thread starts. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    loupe__server_config cfg = {0};
    cfg.storage_url = url;
    cfg.artifact_dir = o.artifact_dir;
    cfg.host = host;
    cfg.port = (int)port;
    cfg.quiet = o.quiet;
    cfg.read_only = o.read_only;
    cfg.base_path = o.base_path;
    cfg.token = token;
    cfg.allowed_hosts = o.allowed;
    cfg.n_allowed_hosts = o.n_allowed;
    cfg.threads = threads;
    cfg.max_upload = (size_t)upload_mb << 20;
    cfg.json_budget = raw_mb ? (size_t)raw_mb << 20 : 1; /* 0 MiB: compress all it can */
    char err[1024] = "";
    loupe__server *srv = NULL;
    rc = loupe__server_start(&cfg, &srv, err, sizeof err);
    if (rc) {
        fprintf(stderr, "loupe dashboard: %s\n", err);
        return CLI_EXIT_ERROR;
    }
    const char *shown = loupe__is_wildcard_bind(host) ? "127.0.0.1" : host;
    int v6 = strchr(shown, ':') && shown[0] != '[';
    char base[512];
    snprintf(base, sizeof base, "http://%s%s%s:%u%s", v6 ? "[" : "", shown, v6 ? "]" : "",
             (unsigned)loupe__server_port(srv), o.base_path ? o.base_path : "");
    printf("Listening on %s/\n", base);
    if (token) printf("Open %s/dashboard?token=%s in your browser. Press Ctrl-C to stop.\n", base, token);
    else printf("Open %s/dashboard in your browser. Press Ctrl-C to stop.\n", base);
    if (!loopback && !token)
        fprintf(stderr, "loupe dashboard: warning: serving %s without an access token: anyone who can reach "
                        "it can change and delete your studies.\n", host);
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    if (!o.quiet) fprintf(stderr, "\nloupe dashboard: stopping (%s).\n", sig == SIGINT ? "Ctrl-C" : "SIGTERM");
    loupe__server_stop(srv);
    return CLI_EXIT_OK;
#endif
}

static int run_dashboard(cli_ctx *ctx, const cli_args *args) {
    (void)args;
    /* main.c routes `dashboard` to cli_dashboard_main before generic parsing */
    return cli_fail(ctx, "internal error: `dashboard` must be run through cli_dashboard_main");
}

static const cli_option dashboard_options[] = {{NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL}};

const cli_command cli_cmd_dashboard = {
    "dashboard",
    "Serve the web dashboard for a storage (loupe dashboard sqlite:///db.sqlite3).",
    "Serve the web dashboard. See `loupe dashboard --help` for its options.",
    dashboard_options,
    0,
    run_dashboard,
};
