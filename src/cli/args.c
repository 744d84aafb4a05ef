/*
 * args.c -- command-line parsing and help text of the `loupe` command, with
 * argparse's rules (what Optuna's CLI uses): options before or after the verb,
 * --opt=value or --opt value, -fVALUE, unambiguous prefixes of long options,
 * nargs="+" lists, choices, required options, and argparse-style errors.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const storage_class_choices[] = {
    "RDBStorage", "JournalFileBackend", "JournalRedisBackend", "JournalFileStorage", "JournalRedisStorage", NULL};

const char *const cli_format_choices[] = {"value", "json", "table", "yaml", NULL};

const cli_option cli_global_options[] = {
    {"--help", 'h', CLI_OPT_FLAG, NULL, NULL, NULL, 0, "Show this help message and exit."},
    {"--storage", 0, CLI_OPT_VALUE, "URL", NULL, NULL, 0,
     "Database URL: sqlite:///relative/path.db, sqlite:////absolute/path.db or :memory:. "
     "Defaults to $LOUPE_STORAGE, then $OPTUNA_STORAGE."},
    {"--storage-class", 0, CLI_OPT_VALUE, "CLASS", storage_class_choices, NULL, 0,
     "Storage class hint, as in Optuna's CLI. loupe reads and writes RDBStorage (SQLite) only."},
    {"--skip-schema-check", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0,
     "Also open a database at schema revision v3.0.0.d (written by Optuna 3.0/3.1) without "
     "upgrading it, so that Optuna 3.1 can keep using it."},
    {"--verbose", 'v', CLI_OPT_COUNT, NULL, NULL, NULL, 0, "Increase verbosity of output. Can be repeated."},
    {"--quiet", 'q', CLI_OPT_FLAG, NULL, NULL, NULL, 0, "Suppress output except warnings and errors."},
    {"--log-file", 0, CLI_OPT_VALUE, "PATH", NULL, NULL, 0, "Also append the log lines to this file."},
    {"--debug", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, "Add library status codes to error messages."},
    {"--version", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, "Print `loupe <version>` and exit."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

static size_t count_options(const cli_option *opts) {
    size_t n = 0;
    while (opts && opts[n].long_name) n++;
    return n;
}

/* ---------------------------------------------------------------- lookups */

static const cli_opt_slot *find_slot(const cli_args *args, const char *long_name) {
    for (size_t i = 0; i < args->n; i++)
        if (strcmp(args->slots[i].opt->long_name, long_name) == 0) return &args->slots[i];
    return NULL;
}

const char *cli_arg(const cli_args *args, const char *long_name) {
    const cli_opt_slot *s = find_slot(args, long_name);
    return s ? s->value : NULL;
}

int cli_arg_count(const cli_args *args, const char *long_name) {
    const cli_opt_slot *s = find_slot(args, long_name);
    return s ? s->count : 0;
}

const char *const *cli_arg_list(const cli_args *args, const char *long_name, size_t *n) {
    const cli_opt_slot *s = find_slot(args, long_name);
    *n = s ? s->n_list : 0;
    return s && s->n_list ? s->list : NULL;
}

/* ---------------------------------------------------------------- matching */

int cli_is_number_token(const char *tok) {
    /* argparse treats "-1" and "-.5" as values, not options; loupe also accepts
     * "-inf", "-nan" and exponents, which Python's float() reads. */
    if (!tok[0] || tok[0] != '-') return 0;
    char *end;
    if (strpbrk(tok, "xXpP")) return 0;
    (void)strtod(tok, &end);
    return end != tok && *end == '\0';
}

int cli_is_option_token(const char *tok) {
    return tok[0] == '-' && tok[1] != '\0' && !cli_is_number_token(tok);
}

/* Finds a long option by exact name, else by unique prefix, among sets of
 * options. Returns the option, NULL if none; *ambiguous lists the candidates
 * when several prefixes match (a malloc'd string, or NULL). */
const cli_option *cli_match_long(const cli_option *const *sets, size_t n_sets, const char *name,
                                 size_t len, char **ambiguous) {
    const cli_option *found = NULL;
    size_t n_found = 0;
    loupe__buf cands = {0};
    *ambiguous = NULL;
    for (size_t s = 0; s < n_sets; s++)
        for (const cli_option *o = sets[s]; o && o->long_name; o++)
            if (strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0) return o;
    for (size_t s = 0; s < n_sets; s++) {
        for (const cli_option *o = sets[s]; o && o->long_name; o++) {
            if (strncmp(o->long_name, name, len) != 0 || len < 3) continue;
            if (found == o) continue;
            loupe__buf_printf(&cands, "%s%s", n_found ? ", " : "", o->long_name);
            found = o;
            n_found++;
        }
    }
    if (n_found > 1) {
        *ambiguous = loupe__buf_steal(&cands);
        return NULL;
    }
    loupe__buf_free(&cands);
    return found;
}

const cli_option *cli_match_short(const cli_option *const *sets, size_t n_sets, char c) {
    for (size_t s = 0; s < n_sets; s++)
        for (const cli_option *o = sets[s]; o && o->long_name; o++)
            if (o->short_name && o->short_name == c) return o;
    return NULL;
}

/* "-f/--format" as argparse names an option in errors. */
static void opt_label(const cli_option *o, char *out, size_t cap) {
    if (o->short_name)
        snprintf(out, cap, "-%c/%s", o->short_name, o->long_name);
    else
        snprintf(out, cap, "%s", o->long_name);
}

static int check_choice(cli_ctx *ctx, const cli_option *o, const char *value) {
    if (!o->choices) return 0;
    for (const char *const *c = o->choices; *c; c++)
        if (strcmp(*c, value) == 0) return 0;
    loupe__buf b = {0};
    for (const char *const *c = o->choices; *c; c++) loupe__buf_printf(&b, "%s'%s'", c == o->choices ? "" : ", ", *c);
    char label[64];
    opt_label(o, label, sizeof label);
    int rc = cli_usage_error(ctx, "argument %s: invalid choice: '%s' (choose from %s)", label, value,
                             b.data ? b.data : "");
    loupe__buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------- parsing */

void cli_args_free(cli_args *args) {
    for (size_t i = 0; i < args->n; i++) free(args->slots[i].list);
    free(args->slots);
    args->slots = NULL;
    args->n = 0;
}

static cli_opt_slot *slot_of(cli_args *args, const cli_option *o) {
    for (size_t i = 0; i < args->n; i++)
        if (args->slots[i].opt == o) return &args->slots[i];
    return NULL;
}

/* Stores a value (VALUE) or starts a list (LIST) for option o. */
static int take_value(cli_ctx *ctx, cli_args *args, const cli_option *o, const char *attached, int ntok,
                      char **tok, int *i) {
    cli_opt_slot *s = slot_of(args, o);
    char label[64];
    opt_label(o, label, sizeof label);
    if (o->kind == CLI_OPT_VALUE) {
        const char *v = attached;
        if (!v) {
            if (*i + 1 >= ntok || cli_is_option_token(tok[*i + 1]))
                return cli_usage_error(ctx, "argument %s: expected one argument (write %s=VALUE for a value that starts with '-')",
                                       label, o->long_name);
            v = tok[++*i];
        }
        if (check_choice(ctx, o, v)) return CLI_EXIT_USAGE;
        s->value = v;
        s->count = 1;
        return 0;
    }
    /* CLI_OPT_LIST: a new occurrence replaces an earlier list, as argparse does. */
    free(s->list);
    s->list = NULL;
    s->n_list = 0;
    size_t cap = 0;
    if (attached) {
        s->list = cli_xmalloc(sizeof *s->list);
        s->list[s->n_list++] = attached;
    } else {
        while (*i + 1 < ntok && !cli_is_option_token(tok[*i + 1])) {
            if (s->n_list == cap) {
                cap = cap ? cap * 2 : 4;
                s->list = cli_xrealloc(s->list, cap * sizeof *s->list);
            }
            s->list[s->n_list++] = tok[++*i];
        }
    }
    if (s->n_list == 0) return cli_usage_error(ctx, "argument %s: expected at least one argument", label);
    for (size_t k = 0; k < s->n_list; k++)
        if (check_choice(ctx, o, s->list[k])) return CLI_EXIT_USAGE;
    s->count = 1;
    return 0;
}

int cli_parse_args(cli_ctx *ctx, const cli_command *cmd, int ntok, char **tok, cli_args *args) {
    size_t ng = count_options(cli_global_options), nv = count_options(cmd->options);
    args->n = ng + nv;
    args->slots = cli_xmalloc((args->n + 1) * sizeof *args->slots);
    memset(args->slots, 0, (args->n + 1) * sizeof *args->slots);
    for (size_t i = 0; i < ng; i++) args->slots[i].opt = &cli_global_options[i];
    for (size_t i = 0; i < nv; i++) args->slots[ng + i].opt = &cmd->options[i];
    const cli_option *sets[2] = {cli_global_options, cmd->options};

    for (int i = 0; i < ntok; i++) {
        const char *t = tok[i];
        if (strcmp(t, "--") == 0 || !cli_is_option_token(t)) {
            loupe__buf rest = {0};
            for (int k = i; k < ntok; k++) loupe__buf_printf(&rest, "%s%s", k > i ? " " : "", tok[k]);
            int rc = cli_usage_error(ctx, "unrecognized arguments: %s", rest.data ? rest.data : t);
            loupe__buf_free(&rest);
            return rc;
        }
        if (t[1] == '-') {
            const char *eq = strchr(t, '=');
            size_t len = eq ? (size_t)(eq - t) : strlen(t);
            char *amb = NULL;
            const cli_option *o = cli_match_long(sets, 2, t, len, &amb);
            if (amb) {
                int rc = cli_usage_error(ctx, "ambiguous option: %.*s could match %s", (int)len, t, amb);
                free(amb);
                return rc;
            }
            if (!o) return cli_usage_error(ctx, "unrecognized arguments: %s", t);
            cli_opt_slot *s = slot_of(args, o);
            if (o->kind == CLI_OPT_FLAG || o->kind == CLI_OPT_COUNT) {
                if (eq) return cli_usage_error(ctx, "argument %s: ignored explicit argument '%s'", o->long_name, eq + 1);
                s->count++;
                continue;
            }
            int rc = take_value(ctx, args, o, eq ? eq + 1 : NULL, ntok, tok, &i);
            if (rc) return rc;
            continue;
        }
        /* Short options; flags may be bundled (-vv), a value may be attached (-fjson, -f=json). */
        for (const char *p = t + 1; *p; p++) {
            const cli_option *o = cli_match_short(sets, 2, *p);
            if (!o) return cli_usage_error(ctx, "unrecognized arguments: %s", t);
            cli_opt_slot *s = slot_of(args, o);
            if (o->kind == CLI_OPT_FLAG || o->kind == CLI_OPT_COUNT) {
                s->count++;
                continue;
            }
            const char *attached = p[1] ? (p[1] == '=' ? p + 2 : p + 1) : NULL;
            int rc = take_value(ctx, args, o, attached, ntok, tok, &i);
            if (rc) return rc;
            break;
        }
    }
    if (cli_arg_count(args, "--verbose") && cli_arg_count(args, "--quiet"))
        return cli_usage_error(ctx, "argument -q/--quiet: not allowed with argument -v/--verbose");
    loupe__buf missing = {0};
    for (size_t i = 0; i < args->n; i++) {
        cli_opt_slot *s = &args->slots[i];
        if (s->opt->required && s->count == 0) loupe__buf_printf(&missing, "%s%s", missing.len ? ", " : "", s->opt->long_name);
        if (s->opt->kind == CLI_OPT_VALUE && !s->value) s->value = s->opt->default_value;
    }
    if (missing.len) {
        int rc = cli_usage_error(ctx, "the following arguments are required: %s", missing.data);
        loupe__buf_free(&missing);
        return rc;
    }
    loupe__buf_free(&missing);
    return 0;
}

/* ---------------------------------------------------------------- help */

/* "-f {value,json,table,yaml}" / "--study-name NAME" */
static void opt_synopsis(loupe__buf *b, const cli_option *o, int use_short) {
    if (use_short && o->short_name)
        loupe__buf_printf(b, "-%c", o->short_name);
    else
        loupe__buf_puts(b, o->long_name);
    if (o->kind == CLI_OPT_VALUE || o->kind == CLI_OPT_LIST) {
        loupe__buf_putc(b, ' ');
        if (o->choices) {
            loupe__buf_putc(b, '{');
            for (const char *const *c = o->choices; *c; c++) loupe__buf_printf(b, "%s%s", c == o->choices ? "" : ",", *c);
            loupe__buf_putc(b, '}');
        } else {
            loupe__buf_puts(b, o->metavar ? o->metavar : "VALUE");
        }
        if (o->kind == CLI_OPT_LIST) loupe__buf_puts(b, " [...]");
    }
}

void cli_print_usage(FILE *f, const char *prog, const cli_command *cmd) {
    loupe__buf b = {0};
    loupe__buf_printf(&b, "usage: %s %s [global options]", prog, cmd->name);
    for (const cli_option *o = cmd->options; o && o->long_name; o++) {
        loupe__buf_putc(&b, ' ');
        if (!o->required) loupe__buf_putc(&b, '[');
        opt_synopsis(&b, o, 1);
        if (!o->required) loupe__buf_putc(&b, ']');
    }
    fprintf(f, "%s\n", b.data);
    loupe__buf_free(&b);
}

/* Writes text wrapped to 79 columns, every line indented by `indent`, the first
 * line starting at column `col`. */
static void wrap(FILE *f, const char *text, size_t indent, size_t col) {
    const size_t width = 79;
    const char *p = text;
    int first_word = 1;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        size_t wl = strcspn(p, " ");
        if (!first_word && col + 1 + wl > width) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
            first_word = 1;
        }
        if (!first_word) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, wl, f);
        col += wl;
        p += wl;
        first_word = 0;
    }
    fputc('\n', f);
}

static void print_options(FILE *f, const cli_option *opts) {
    for (const cli_option *o = opts; o && o->long_name; o++) {
        loupe__buf b = {0};
        loupe__buf_puts(&b, "  ");
        if (o->short_name) {
            opt_synopsis(&b, o, 1);
            loupe__buf_puts(&b, ", ");
        }
        opt_synopsis(&b, o, 0);
        loupe__buf help = {0};
        loupe__buf_puts(&help, o->help ? o->help : "");
        if (o->required) loupe__buf_puts(&help, " (required)");
        if (o->default_value) loupe__buf_printf(&help, " (default: %s)", o->default_value);
        if (b.len <= 22) {
            fprintf(f, "%-24s", b.data);
            wrap(f, help.data, 24, 24);
        } else {
            fprintf(f, "%s\n%24s", b.data, "");
            wrap(f, help.data, 24, 24);
        }
        loupe__buf_free(&b);
        loupe__buf_free(&help);
    }
}

static const char exit_status_text[] =
    "exit status:\n"
    "  0  success\n"
    "  1  error: no such study or trial, a trial that cannot be told, a database\n"
    "     that needs an upgrade or cannot be read or written, ...\n"
    "  2  usage error: unknown command or option, bad or missing argument, no\n"
    "     storage URL\n";

void cli_print_command_help(FILE *f, const char *prog, const cli_command *cmd) {
    cli_print_usage(f, prog, cmd);
    fputc('\n', f);
    wrap(f, cmd->summary, 0, 0);
    if (cmd->description) {
        fputc('\n', f);
        /* Paragraphs are separated by "\n\n"; wrap each. */
        const char *p = cmd->description;
        while (*p) {
            const char *end = strstr(p, "\n\n");
            size_t len = end ? (size_t)(end - p) : strlen(p);
            char *para = cli_xmalloc(len + 1);
            memcpy(para, p, len);
            para[len] = '\0';
            if (para[0] == ' ')
                fprintf(f, "%s\n", para); /* pre-formatted (examples) */
            else
                wrap(f, para, 0, 0);
            free(para);
            p += len;
            if (*p) {
                p += 2;
                fputc('\n', f);
            }
        }
    }
    if (count_options(cmd->options)) {
        fprintf(f, "\noptions:\n");
        print_options(f, cmd->options);
    }
    fprintf(f, "\nglobal options (before or after the command):\n");
    print_options(f, cli_global_options);
    fprintf(f, "\n%s", exit_status_text);
}

void cli_print_main_help(FILE *f, const char *prog, const cli_command *const *cmds, size_t n) {
    fprintf(f, "usage: %s [global options] <command> [options]\n\n", prog);
    wrap(f,
         "loupe: human-in-the-loop optimization. Creates and inspects studies and trials in "
         "Optuna-compatible SQLite databases; its commands and output formats are those of "
         "Optuna's `optuna` command.",
         0, 0);
    fprintf(f, "\ncommands:\n");
    for (size_t i = 0; i < n; i++) {
        if (strlen(cmds[i]->name) <= 20)
            fprintf(f, "  %-22s", cmds[i]->name);
        else
            fprintf(f, "  %s\n%24s", cmds[i]->name, "");
        wrap(f, cmds[i]->summary, 24, 24);
    }
    fprintf(f, "  %-22s", "help");
    wrap(f, "Show this help message and exit.", 24, 24);
    fprintf(f, "\nglobal options (before or after the command):\n");
    print_options(f, cli_global_options);
    fprintf(f, "\n%s\nRun '%s <command> --help' for the options of a command.\n", exit_status_text, prog);
}
