/*
 * cli.h -- what the parts of the `loupe` command share: exit codes, the parsed
 * command line, the verb table entry, logging in Optuna's format, and the
 * helpers that open a storage or load a study with helpful error messages.
 *
 * Adding a verb: write `const cli_command cli_cmd_<verb>` in a src/cli file,
 * declare it at the bottom of this header and list it in main.c's table.
 */
#ifndef LOUPE_CLI_H
#define LOUPE_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "loupe.h"
#include "util/buf.h"

typedef struct cli_ctx cli_ctx;

/* Exit codes scripts can rely on (also in `loupe --help` and docs/cli.md). */
enum {
    CLI_EXIT_OK = 0,    /* success */
    CLI_EXIT_ERROR = 1, /* runtime error: no such study, trial cannot be told, database problem */
    CLI_EXIT_USAGE = 2  /* bad command line: unknown command/option, bad or missing argument */
};

/* Log levels, with Python logging's numbers. */
enum { CLI_LOG_DEBUG = 10, CLI_LOG_INFO = 20, CLI_LOG_WARNING = 30, CLI_LOG_ERROR = 40 };

/* ---------------------------------------------------------------- options */

typedef enum cli_opt_kind {
    CLI_OPT_FLAG,  /* --flatten */
    CLI_OPT_COUNT, /* -v -v */
    CLI_OPT_VALUE, /* --study-name NAME (the last one given wins) */
    CLI_OPT_LIST   /* --values V [V ...] (one or more; the last list given wins) */
} cli_opt_kind;

typedef struct cli_option {
    const char *long_name;       /* "--study-name"; NULL ends an option array */
    char short_name;             /* 'f' for -f, or 0 */
    cli_opt_kind kind;
    const char *metavar;         /* "NAME" in the help */
    const char *const *choices;  /* NULL-terminated allowed values, or NULL */
    const char *default_value;   /* for VALUE options, or NULL */
    int required;
    const char *help;
} cli_option;

/* The parsed command line of one verb: one slot per option (global options
 * first, then the verb's). Strings point into argv. */
typedef struct cli_opt_slot {
    const cli_option *opt;
    int count;              /* times given (FLAG/COUNT), or 1 when a value was given */
    const char *value;      /* VALUE: the value, or the default */
    const char **list;      /* LIST: malloc'd array of argv pointers */
    size_t n_list;
} cli_opt_slot;

typedef struct cli_args {
    size_t n;
    cli_opt_slot *slots;
} cli_args;

/* Lookups by long name ("--study-name"). A name the verb does not have reads as
 * absent (NULL / 0). */
const char *cli_arg(const cli_args *args, const char *long_name);
int cli_arg_count(const cli_args *args, const char *long_name);
const char *const *cli_arg_list(const cli_args *args, const char *long_name, size_t *n);

/* ---------------------------------------------------------------- parsing and help (args.c) */

typedef struct cli_command cli_command;

/* The options every verb takes (--storage, -v, ...), ending with {NULL}. */
extern const cli_option cli_global_options[];

/* Parses the command line of one verb (argv without the program name and the
 * command words) against the global options and the verb's. Fills args (free
 * with cli_args_free, also after an error); on a usage error prints it and
 * returns CLI_EXIT_USAGE. */
int cli_parse_args(cli_ctx *ctx, const cli_command *cmd, int ntok, char **tok, cli_args *args);
void cli_args_free(cli_args *args);
/* "-1.5", "-inf": a value, not an option. */
int cli_is_number_token(const char *tok);
/* "-f", "--format=json": an option (a lone "-" and negative numbers are not). */
int cli_is_option_token(const char *tok);
/* Long option by exact name or unique prefix of name[0..len); ambiguous gets
 * the malloc'd candidate list when several match. */
const cli_option *cli_match_long(const cli_option *const *sets, size_t n_sets, const char *name,
                                 size_t len, char **ambiguous);
const cli_option *cli_match_short(const cli_option *const *sets, size_t n_sets, char c);

void cli_print_usage(FILE *f, const char *prog, const cli_command *cmd);
void cli_print_command_help(FILE *f, const char *prog, const cli_command *cmd);
void cli_print_main_help(FILE *f, const char *prog, const cli_command *const *cmds, size_t n);

/* ---------------------------------------------------------------- verbs */

struct cli_command {
    const char *name;           /* "trials", "study set-user-attr" */
    const char *summary;        /* one line for `loupe --help` */
    const char *description;    /* the paragraph of `loupe <verb> --help` (may be NULL) */
    const cli_option *options;  /* the verb's own options, ending with {NULL} */
    int needs_storage;          /* resolve --storage before run (usage error if none) */
    int (*run)(cli_ctx *ctx, const cli_args *args); /* returns an exit code */
};

/* The state of one run of the command. */
struct cli_ctx {
    const char *prog;           /* "loupe" */
    const cli_command *cmd;
    int log_level;              /* CLI_LOG_* threshold */
    FILE *log_file;             /* --log-file, or NULL */
    const char *storage_url;    /* --storage, $LOUPE_STORAGE or $OPTUNA_STORAGE */
    unsigned open_flags;        /* LOUPE_OPEN_* */
    int debug;                  /* --debug: also log library status codes */
    const char *format;         /* -f (verbs that print records) */
    int flatten;                /* --flatten */
};

/* The output formats every record-printing verb accepts. */
extern const char *const cli_format_choices[];

/* ---------------------------------------------------------------- logging (cli_log.c) */

/* Writes "[I 2026-11-28 02:04:38,900] message" to stderr (and the log file) when
 * level passes the threshold. */
void cli_log(const cli_ctx *ctx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cli_vlog(const cli_ctx *ctx, int level, const char *fmt, va_list ap);
/* Logs an error and returns CLI_EXIT_ERROR. */
int cli_fail(const cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the verb's usage line and "loupe <verb>: error: message" to stderr, as
 * argparse does; returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A hint telling how to fix a library error of this status, or "" (cli_storage.c). */
const char *cli_status_hint(const cli_ctx *ctx, int status);
/* Logs "<what>: <library message> <hint>" for a failed library call; returns
 * CLI_EXIT_ERROR. */
int cli_fail_status(const cli_ctx *ctx, int status, const char *libmsg, const char *what_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Allocation that ends the process with a message when memory runs out: a
 * command-line process has nothing better to do, and it keeps formatting code
 * straight. */
void *cli_xmalloc(size_t n);
void *cli_xrealloc(void *p, size_t n);
char *cli_xstrdup(const char *s);

/* ---------------------------------------------------------------- storage helpers (cli_storage.c) */

/* Opens ctx->storage_url. On failure logs why and how to fix it, closes the
 * handle and returns CLI_EXIT_ERROR; *out is then NULL. */
int cli_open_storage(cli_ctx *ctx, loupe_storage **out);
/* Loads a study by name. With name NULL, loads the only study of the storage (as
 * optuna.load_study does) or fails saying that --study-name is needed. */
int cli_load_study(cli_ctx *ctx, loupe_storage *storage, const char *name, loupe_study **out);

/* ---------------------------------------------------------------- the verbs */

extern const cli_command cli_cmd_create_study;
extern const cli_command cli_cmd_delete_study;
extern const cli_command cli_cmd_study_set_user_attr;
extern const cli_command cli_cmd_study_names;
extern const cli_command cli_cmd_studies;
extern const cli_command cli_cmd_trials;
extern const cli_command cli_cmd_best_trial;
extern const cli_command cli_cmd_best_trials;
extern const cli_command cli_cmd_ask;
extern const cli_command cli_cmd_tell;
extern const cli_command cli_cmd_storage_upgrade;
extern const cli_command cli_cmd_dashboard;
extern const cli_command cli_cmd_demo;     /* cli_demo.c */
extern const cli_command cli_cmd_generate; /* cli_generate.c */
/* `loupe dashboard` parses its own command line (optuna-dashboard's, where -v
 * is --version): main() hands it argv and the verb's position (cli_dashboard.c). */
int cli_dashboard_main(cli_ctx *ctx, int argc, char **argv, int verb_pos);

#endif
