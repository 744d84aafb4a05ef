/*
 * main.c -- entry point of the `loupe` command: the table of verbs, finding the
 * verb anywhere in argv (two-word verbs such as "storage upgrade" included, as
 * Optuna's _preprocess_argv does), global options (--storage and its
 * environment fallbacks, verbosity, log file), help, --version and exit codes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Every verb, in the order `loupe --help` lists them. New verbs (dashboard,
 * generate, demo) are added here and declared in cli.h. */
static const cli_command *const commands[] = {
    &cli_cmd_create_study, &cli_cmd_delete_study, &cli_cmd_study_set_user_attr, &cli_cmd_study_names,
    &cli_cmd_studies,      &cli_cmd_trials,       &cli_cmd_best_trial,          &cli_cmd_best_trials,
    &cli_cmd_storage_upgrade, &cli_cmd_ask,       &cli_cmd_tell,          &cli_cmd_dashboard,
    &cli_cmd_demo,         &cli_cmd_generate,
};
#define N_COMMANDS (sizeof commands / sizeof *commands)

static const cli_command *find_command(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

/* The option a token names, looked up in the global options and in every verb's
 * (the verb may come later on the line). */
static const cli_option *any_option(const char *tok, const cli_command *cmd, const char **attached) {
    *attached = NULL;
    if (tok[1] == '-') {
        const char *eq = strchr(tok, '=');
        size_t len = eq ? (size_t)(eq - tok) : strlen(tok);
        if (eq) *attached = eq + 1;
        const cli_option *sets[N_COMMANDS + 1];
        size_t n = 0;
        sets[n++] = cli_global_options;
        if (cmd) {
            sets[n++] = cmd->options;
        } else {
            for (size_t i = 0; i < N_COMMANDS; i++) sets[n++] = commands[i]->options;
        }
        char *amb = NULL;
        const cli_option *o = cli_match_long(sets, n, tok, len, &amb);
        free(amb);
        return o;
    }
    const cli_option *sets[N_COMMANDS + 1];
    size_t n = 0;
    sets[n++] = cli_global_options;
    for (size_t i = 0; i < N_COMMANDS; i++) sets[n++] = commands[i]->options;
    const cli_option *o = cli_match_short(sets, n, tok[1]);
    if (o && tok[2]) *attached = tok + 2;
    return o;
}

typedef struct scan {
    const cli_command *cmd;
    int cmd_pos, cmd_words;
    const char *stray; /* first word that is not a verb */
    int help, version;
} scan;

/* Finds the verb and notes --help/--version, skipping the values of options. */
static void scan_argv(int argc, char **argv, scan *s) {
    memset(s, 0, sizeof *s);
    s->cmd_pos = -1;
    for (int i = 1; i < argc; i++) {
        const char *t = argv[i];
        if (strcmp(t, "--") == 0) break;
        if (!cli_is_option_token(t)) {
            if (s->cmd || s->stray) continue;
            if (i + 1 < argc) {
                char two[256];
                snprintf(two, sizeof two, "%s %s", t, argv[i + 1]);
                const cli_command *c = find_command(two);
                if (c) {
                    s->cmd = c, s->cmd_pos = i, s->cmd_words = 2;
                    i++;
                    continue;
                }
            }
            const cli_command *c = find_command(t);
            if (c)
                s->cmd = c, s->cmd_pos = i, s->cmd_words = 1;
            else if (strcmp(t, "help") == 0)
                s->help = 1;
            else
                s->stray = t;
            continue;
        }
        const char *attached;
        const cli_option *o = any_option(t, s->cmd, &attached);
        if (!o) continue;
        if (strcmp(o->long_name, "--help") == 0) s->help = 1;
        if (strcmp(o->long_name, "--version") == 0) s->version = 1;
        if (attached) continue;
        if (o->kind == CLI_OPT_VALUE) {
            if (i + 1 < argc && !cli_is_option_token(argv[i + 1])) i++;
        } else if (o->kind == CLI_OPT_LIST) {
            while (i + 1 < argc && !cli_is_option_token(argv[i + 1])) i++;
        }
    }
}

/* Applies the global options to ctx. */
static int apply_globals(cli_ctx *ctx, const cli_args *args) {
    if (cli_arg_count(args, "--quiet"))
        ctx->log_level = CLI_LOG_WARNING;
    else if (cli_arg_count(args, "--verbose"))
        ctx->log_level = CLI_LOG_DEBUG;
    ctx->debug = cli_arg_count(args, "--debug") > 0;
    if (cli_arg_count(args, "--skip-schema-check")) ctx->open_flags |= LOUPE_OPEN_SKIP_SCHEMA_CHECK;
    const char *log_file = cli_arg(args, "--log-file");
    if (log_file) {
        ctx->log_file = fopen(log_file, "a");
        if (!ctx->log_file)
            return cli_fail(ctx, "Cannot open the log file '%s' for appending: %s. Check the path given to --log-file.",
                            log_file, strerror(errno));
    }
    const char *cls = cli_arg(args, "--storage-class");
    if (cls && strcmp(cls, "RDBStorage") != 0)
        return cli_fail(ctx,
                        "--storage-class %s is not supported: loupe reads and writes Optuna's RDB schema "
                        "(SQLite) only. Convert the study with Optuna, or drop --storage-class.",
                        cls);
    const char *url = cli_arg(args, "--storage");
    const char *env_used = NULL;
    if (!url || !*url) {
        const char *env = getenv("LOUPE_STORAGE");
        if (env && *env) {
            url = env, env_used = "LOUPE_STORAGE";
        } else if ((env = getenv("OPTUNA_STORAGE")) && *env) {
            url = env, env_used = "OPTUNA_STORAGE";
        } else {
            url = NULL;
        }
    }
    ctx->storage_url = url;
    if (env_used) cli_log(ctx, CLI_LOG_DEBUG, "Using the storage URL from $%s: %s", env_used, url);
    ctx->format = cli_arg(args, "--format");
    ctx->flatten = cli_arg_count(args, "--flatten") > 0;
    return 0;
}

int main(int argc, char **argv) {
    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.prog = "loupe";
    ctx.log_level = CLI_LOG_INFO;
    cli_args args = {0, NULL};
    int rc = CLI_EXIT_OK;

    scan s;
    scan_argv(argc, argv, &s);
    if (s.cmd == &cli_cmd_dashboard) {
        rc = cli_dashboard_main(&ctx, argc, argv, s.cmd_pos);
        goto cleanup;
    }
    if (s.version) {
        printf("loupe %s\n", loupe_version());
        goto cleanup;
    }
    if (!s.cmd) {
        if (s.stray) {
            rc = cli_usage_error(&ctx, "'%s' is not a loupe command. See '%s --help' for the list of commands.",
                                 s.stray, ctx.prog);
        } else if (s.help || argc == 1) {
            cli_print_main_help(stdout, ctx.prog, commands, N_COMMANDS);
        } else {
            rc = cli_usage_error(&ctx, "no command given. Put one of the commands of '%s --help' on the line.",
                                 ctx.prog);
        }
        goto cleanup;
    }
    ctx.cmd = s.cmd;
    if (s.help) {
        cli_print_command_help(stdout, ctx.prog, s.cmd);
        goto cleanup;
    }

    /* The tokens of the verb: argv without the program name and the verb. */
    int ntok = 0;
    char **tok = cli_xmalloc((size_t)argc * sizeof *tok);
    for (int i = 1; i < argc; i++)
        if (i < s.cmd_pos || i >= s.cmd_pos + s.cmd_words) tok[ntok++] = argv[i];
    rc = cli_parse_args(&ctx, s.cmd, ntok, tok, &args);
    free(tok);
    if (rc) goto cleanup;
    rc = apply_globals(&ctx, &args);
    if (rc) goto cleanup;
    if (s.cmd->needs_storage && !ctx.storage_url) {
        rc = cli_usage_error(&ctx,
                             "Storage URL is not specified. Pass --storage URL (for example --storage "
                             "sqlite:///example.db) or set the LOUPE_STORAGE environment variable.");
        goto cleanup;
    }
    rc = s.cmd->run(&ctx, &args);

cleanup:
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "loupe: could not write the output: %s\n", strerror(errno));
        if (rc == CLI_EXIT_OK) rc = CLI_EXIT_ERROR;
    }
    if (ctx.log_file) fclose(ctx.log_file);
    cli_args_free(&args);
    return rc;
}
