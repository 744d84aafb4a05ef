/*
 * cli_storage.c -- opening the storage and loading a study for the verbs, with
 * error messages that say how to fix the problem, and the `storage upgrade`
 * verb (`optuna storage upgrade`).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The library's messages for a bad URL, path, file or schema revision already
 * say what to do; these add the fix for the statuses whose messages cannot. */
const char *cli_status_hint(const cli_ctx *ctx, int status) {
    (void)ctx;
    switch (status) {
    case LOUPE_EBUSY:
        return "Another process kept the database locked; try again when it has finished writing.";
    case LOUPE_ENOMEM:
        return "Free some memory and try again.";
    case LOUPE_ERROR:
        return "This is a bug in loupe; please report it with the command line that caused it.";
    default:
        return "";
    }
}

int cli_open_storage(cli_ctx *ctx, loupe_storage **out) {
    *out = NULL;
    loupe_storage *st = NULL;
    int status = loupe_storage_open(ctx->storage_url, ctx->open_flags, &st);
    if (status == LOUPE_ESCHEMA && st && strcmp(loupe_storage_schema_revision(st), "v3.0.0.d") == 0 &&
        !(ctx->open_flags & LOUPE_OPEN_SKIP_SCHEMA_CHECK)) {
        /* Optuna 3.0/3.1 files differ from v3.2.0.a by one index only. */
        int rc = cli_fail(ctx,
                          "Cannot open the storage '%s': %s To keep using it with Optuna 3.1, pass "
                          "--skip-schema-check instead: loupe then works on it without upgrading.",
                          ctx->storage_url, loupe_storage_errmsg(st));
        loupe_storage_close(st);
        return rc;
    }
    if (status != LOUPE_OK) {
        int rc = cli_fail_status(ctx, status, st ? loupe_storage_errmsg(st) : NULL, "Cannot open the storage '%s'",
                                 ctx->storage_url);
        loupe_storage_close(st);
        return rc;
    }
    cli_log(ctx, CLI_LOG_DEBUG, "Opened storage %s (schema revision %s).", ctx->storage_url,
            loupe_storage_schema_revision(st));
    *out = st;
    return CLI_EXIT_OK;
}

int cli_load_study(cli_ctx *ctx, loupe_storage *storage, const char *name, loupe_study **out) {
    *out = NULL;
    char *only = NULL;
    int rc = CLI_EXIT_OK;
    if (!name) {
        /* optuna.load_study(study_name=None) takes the only study there is. */
        loupe_study_list *list = NULL;
        int status = loupe_storage_list_studies(storage, &list);
        if (status != LOUPE_OK)
            return cli_fail_status(ctx, status, loupe_storage_errmsg(storage), "Cannot list the studies of '%s'",
                                   ctx->storage_url);
        size_t n = loupe_study_list_count(list);
        if (n != 1) {
            loupe_study_list_free(list);
            return cli_fail(ctx,
                            "Could not determine the study name since the storage '%s' does not contain exactly 1 "
                            "study (it has %zu). Pass --study-name NAME; `loupe study-names --storage %s` lists them.",
                            ctx->storage_url, n, ctx->storage_url);
        }
        only = cli_xstrdup(loupe_study_list_at(list, 0)->name);
        loupe_study_list_free(list);
        name = only;
        cli_log(ctx, CLI_LOG_INFO,
                "Study name was omitted but trying to load '%s' because that was the only study found in the storage.",
                name);
    }
    int status = loupe_study_load(storage, name, out);
    if (status == LOUPE_ENOTFOUND) {
        rc = cli_fail(ctx,
                      "Study '%s' not found in '%s'. List the studies with `loupe study-names --storage %s`, or "
                      "create it with `loupe create-study --study-name '%s' --storage %s`.",
                      name, ctx->storage_url, ctx->storage_url, name, ctx->storage_url);
    } else if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(storage), "Cannot load the study '%s'", name);
    }
    if (rc != CLI_EXIT_OK && *out) {
        loupe_study_close(*out);
        *out = NULL;
    }
    free(only);
    return rc;
}

/* ---------------------------------------------------------------- storage upgrade */

static int run_storage_upgrade(cli_ctx *ctx, const cli_args *args) {
    (void)args;
    int upgraded = 0;
    char *message = NULL;
    int status = loupe_storage_upgrade(ctx->storage_url, &upgraded, &message);
    int rc = CLI_EXIT_OK;
    if (status == LOUPE_ESCHEMA) {
        /* A revision newer than this loupe knows: Optuna only warns. */
        cli_log(ctx, CLI_LOG_WARNING,
                "Your loupe version seems outdated against the storage version%s%s. Please update loupe to a "
                "version that knows this schema revision.",
                message ? ": " : "", message ? message : "");
    } else if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, message, "Cannot upgrade the storage '%s'", ctx->storage_url);
    } else if (!upgraded) {
        cli_log(ctx, CLI_LOG_INFO, "This storage is up-to-date.");
    } else {
        cli_log(ctx, CLI_LOG_INFO, "Upgrading the storage schema to the latest version.");
        if (message && *message) cli_log(ctx, CLI_LOG_DEBUG, "%s", message);
        cli_log(ctx, CLI_LOG_INFO, "Completed to upgrade the storage.");
    }
    loupe_free(message);
    return rc;
}

const cli_command cli_cmd_storage_upgrade = {
    "storage upgrade",
    "Upgrade the schema of a storage.",
    "Brings an Optuna database at an older schema revision (written by Optuna 0.9 to 3.1) to revision "
    "v3.2.0.a in one transaction, as `optuna storage upgrade` does. An up-to-date database is left alone. "
    "After an upgrade, Optuna 3.2 and later can open the file but Optuna 3.1 cannot.\n\n"
    "  example: loupe storage upgrade --storage sqlite:///example.db",
    NULL,
    1,
    run_storage_upgrade,
};
