/*
 * cli_log.c -- log lines and error reports of the `loupe` command, in Optuna's
 * logging format "[I 2026-11-28 02:04:38,900] message" (level letter, local
 * time with milliseconds) on stderr, plus argparse-style usage errors and the
 * allocation helpers that end the process when memory runs out.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util/timeutil.h"

static char level_letter(int level) {
    if (level >= CLI_LOG_ERROR) return 'E';
    if (level >= CLI_LOG_WARNING) return 'W';
    if (level >= CLI_LOG_INFO) return 'I';
    return 'D';
}

void cli_vlog(const cli_ctx *ctx, int level, const char *fmt, va_list ap) {
    if (level < ctx->log_level) return;
    int64_t now = loupe__now_us();
    time_t secs = (time_t)(now / 1000000);
    struct tm tm;
    localtime_r(&secs, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    loupe__buf b = {0};
    loupe__buf_printf(&b, "[%c %s,%03d] ", level_letter(level), stamp, (int)((now / 1000) % 1000));
    loupe__buf_vprintf(&b, fmt, ap);
    loupe__buf_putc(&b, '\n');
    if (b.failed) {
        fputs("loupe: out of memory while logging\n", stderr);
    } else {
        fputs(b.data, stderr);
        if (ctx->log_file) {
            fputs(b.data, ctx->log_file);
            fflush(ctx->log_file);
        }
    }
    loupe__buf_free(&b);
}

void cli_log(const cli_ctx *ctx, int level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cli_vlog(ctx, level, fmt, ap);
    va_end(ap);
}

int cli_fail(const cli_ctx *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cli_vlog(ctx, CLI_LOG_ERROR, fmt, ap);
    va_end(ap);
    return CLI_EXIT_ERROR;
}

int cli_usage_error(const cli_ctx *ctx, const char *fmt, ...) {
    if (ctx->cmd) cli_print_usage(stderr, ctx->prog, ctx->cmd);
    fprintf(stderr, "%s%s%s: error: ", ctx->prog, ctx->cmd ? " " : "", ctx->cmd ? ctx->cmd->name : "");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (ctx->cmd)
        fprintf(stderr, "\nRun '%s %s --help' for its options.\n", ctx->prog, ctx->cmd->name);
    else
        fprintf(stderr, "\nRun '%s --help' for the commands.\n", ctx->prog);
    return CLI_EXIT_USAGE;
}

int cli_fail_status(const cli_ctx *ctx, int status, const char *libmsg, const char *what_fmt, ...) {
    loupe__buf b = {0};
    va_list ap;
    va_start(ap, what_fmt);
    loupe__buf_vprintf(&b, what_fmt, ap);
    va_end(ap);
    if (libmsg && *libmsg) {
        loupe__buf_printf(&b, ": %s", libmsg);
        size_t n = strlen(libmsg);
        if (libmsg[n - 1] != '.') loupe__buf_putc(&b, '.');
    } else {
        loupe__buf_printf(&b, ": %s.", loupe_strerror(status));
    }
    const char *hint = cli_status_hint(ctx, status);
    if (*hint) loupe__buf_printf(&b, " %s", hint);
    if (ctx->debug) loupe__buf_printf(&b, " [status %d: %s]", status, loupe_strerror(status));
    cli_fail(ctx, "%s", b.failed ? "out of memory" : b.data);
    loupe__buf_free(&b);
    return CLI_EXIT_ERROR;
}

static void out_of_memory(void) {
    fputs("loupe: out of memory\n", stderr);
    exit(CLI_EXIT_ERROR);
}

void *cli_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory();
    return p;
}

void *cli_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory();
    return q;
}

char *cli_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = cli_xmalloc(n);
    memcpy(d, s, n);
    return d;
}
