/*
 * cli_study.c -- the study verbs of the `loupe` command: create-study,
 * delete-study, study set-user-attr, study-names and studies, with the
 * behaviour, log lines and output of Optuna's CLI.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "util/pyjson.h"

static const char *const direction_choices[] = {"minimize", "maximize", NULL};

static const char *direction_name(loupe_direction d) {
    return d == LOUPE_MINIMIZE ? "MINIMIZE" : d == LOUPE_MAXIMIZE ? "MAXIMIZE" : "NOT_SET";
}

/* ---------------------------------------------------------------- create-study */

static int run_create_study(cli_ctx *ctx, const cli_args *args) {
    const char *name = cli_arg(args, "--study-name");
    const char *direction = cli_arg(args, "--direction");
    size_t n_dirs = 0;
    const char *const *dirs = cli_arg_list(args, "--directions", &n_dirs);
    if (direction && dirs)
        return cli_usage_error(ctx, "Specify only one of --direction and --directions.");
    loupe_direction one = LOUPE_MINIMIZE;
    loupe_direction *directions = &one;
    size_t n = 1;
    if (direction) one = strcmp(direction, "maximize") == 0 ? LOUPE_MAXIMIZE : LOUPE_MINIMIZE;
    if (dirs) {
        directions = cli_xmalloc(n_dirs * sizeof *directions);
        for (size_t i = 0; i < n_dirs; i++)
            directions[i] = strcmp(dirs[i], "maximize") == 0 ? LOUPE_MAXIMIZE : LOUPE_MINIMIZE;
        n = n_dirs;
    }
    loupe_storage *st = NULL;
    loupe_study *study = NULL;
    int rc = cli_open_storage(ctx, &st);
    if (rc) goto cleanup;
    int status = loupe_study_create(st, name, n, directions, LOUPE_CREATE_DEFAULT, &study);
    if (status == LOUPE_EEXISTS && cli_arg_count(args, "--skip-if-exists")) {
        /* Optuna reuses the study whatever its directions are. */
        cli_log(ctx, CLI_LOG_INFO, "Using an existing study with name '%s' instead of creating a new one.", name);
        printf("%s\n", name);
    } else if (status == LOUPE_EEXISTS) {
        rc = cli_fail(ctx,
                      "Another study with study_name='%s' already exists. Pass --skip-if-exists to reuse it, or "
                      "choose another --study-name (`loupe study-names --storage %s` lists the used names).",
                      name, ctx->storage_url);
    } else if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot create the study%s%s%s",
                             name ? " '" : "", name ? name : "", name ? "'" : "");
    } else {
        cli_log(ctx, CLI_LOG_INFO, "A new study created in %s with name: %s",
                strcmp(ctx->storage_url, ":memory:") == 0 ? "memory" : "RDB", loupe_study_name(study));
        printf("%s\n", loupe_study_name(study));
    }
cleanup:
    if (study) loupe_study_close(study);
    loupe_storage_close(st);
    if (directions != &one) free(directions);
    return rc;
}

static const cli_option create_study_options[] = {
    {"--study-name", 0, CLI_OPT_VALUE, "NAME", NULL, NULL, 0,
     "A human-readable name of a study to distinguish it from others (default: no-name-<uuid4>)."},
    {"--direction", 0, CLI_OPT_VALUE, NULL, direction_choices, NULL, 0,
     "Set direction of optimization to a new study (default: minimize)."},
    {"--directions", 0, CLI_OPT_LIST, NULL, direction_choices, NULL, 0,
     "Set directions of optimization to a new multi-objective study, separated by spaces."},
    {"--skip-if-exists", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0,
     "If a study of that name exists, print its name and succeed instead of failing."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_create_study = {
    "create-study",
    "Create a new study.",
    "Creates a study and prints its name on stdout.\n\n"
    "  example: loupe create-study --storage sqlite:///example.db --study-name demo --directions minimize maximize",
    create_study_options,
    1,
    run_create_study,
};

/* ---------------------------------------------------------------- delete-study */

static int run_delete_study(cli_ctx *ctx, const cli_args *args) {
    const char *name = cli_arg(args, "--study-name");
    loupe_storage *st = NULL;
    int rc = cli_open_storage(ctx, &st);
    if (rc) return rc;
    int status = loupe_storage_delete_study(st, name);
    if (status == LOUPE_ENOTFOUND)
        rc = cli_fail(ctx, "Study '%s' not found in '%s'; nothing was deleted. `loupe study-names --storage %s` lists the studies.",
                      name, ctx->storage_url, ctx->storage_url);
    else if (status != LOUPE_OK)
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot delete the study '%s'", name);
    loupe_storage_close(st);
    return rc;
}

static const cli_option delete_study_options[] = {
    {"--study-name", 0, CLI_OPT_VALUE, "NAME", NULL, NULL, 1, "The name of the study to delete."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_delete_study = {
    "delete-study",
    "Delete a specified study.",
    "Deletes the study with all its trials and attributes. Prints nothing.",
    delete_study_options,
    1,
    run_delete_study,
};

/* ---------------------------------------------------------------- study set-user-attr */

static int run_study_set_user_attr(cli_ctx *ctx, const cli_args *args) {
    const char *name = cli_arg(args, "--study-name");
    const char *old = cli_arg(args, "--study");
    if (name && old)
        return cli_usage_error(ctx, "Both --study-name and the deprecated --study were specified. Please remove the --study flag.");
    if (old) {
        cli_log(ctx, CLI_LOG_WARNING, "The use of --study is deprecated. Please use --study-name instead.");
        name = old;
    }
    loupe_storage *st = NULL;
    loupe_study *study = NULL;
    loupe__buf json = {0};
    int rc = cli_open_storage(ctx, &st);
    if (rc) goto cleanup;
    rc = cli_load_study(ctx, st, name, &study);
    if (rc) goto cleanup;
    /* The value is stored as a JSON string, as Optuna's CLI stores it. */
    const char *key = cli_arg(args, "--key"), *value = cli_arg(args, "--value");
    loupe__pyjson_string(&json, value, strlen(value));
    if (json.failed) {
        rc = cli_fail(ctx, "Out of memory while encoding the value.");
        goto cleanup;
    }
    int status = loupe_study_set_user_attr(study, key, json.data);
    if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot set the user attribute '%s' of study '%s'", key,
                             loupe_study_name(study));
        goto cleanup;
    }
    cli_log(ctx, CLI_LOG_INFO, "Attribute successfully written.");
cleanup:
    loupe__buf_free(&json);
    if (study) loupe_study_close(study);
    loupe_storage_close(st);
    return rc;
}

static const cli_option study_set_user_attr_options[] = {
    {"--study-name", 0, CLI_OPT_VALUE, "NAME", NULL, NULL, 0,
     "The name of the study to set the user attribute to (may be omitted when the storage has one study)."},
    {"--study", 0, CLI_OPT_VALUE, "NAME", NULL, NULL, 0, "Deprecated spelling of --study-name."},
    {"--key", 'k', CLI_OPT_VALUE, "KEY", NULL, NULL, 1, "Key of the user attribute."},
    {"--value", 0, CLI_OPT_VALUE, "VALUE", NULL, NULL, 1, "Value to be set (stored as a string)."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_study_set_user_attr = {
    "study set-user-attr",
    "Set a user attribute to a study.",
    "Stores VALUE as a JSON string under KEY in the study's user attributes, replacing an earlier value.",
    study_set_user_attr_options,
    1,
    run_study_set_user_attr,
};

/* ---------------------------------------------------------------- study-names, studies */

static int list_studies(cli_ctx *ctx, loupe_storage **st, loupe_study_list **list) {
    int rc = cli_open_storage(ctx, st);
    if (rc) return rc;
    int status = loupe_storage_list_studies(*st, list);
    if (status != LOUPE_OK)
        return cli_fail_status(ctx, status, loupe_storage_errmsg(*st), "Cannot list the studies of '%s'", ctx->storage_url);
    return CLI_EXIT_OK;
}

static int run_study_names(cli_ctx *ctx, const cli_args *args) {
    (void)args;
    loupe_storage *st = NULL;
    loupe_study_list *list = NULL;
    cli_table t;
    cli_table_init(&t);
    int rc = list_studies(ctx, &st, &list);
    if (rc) goto cleanup;
    size_t col = cli_table_add_column(&t, "name", CLI_SUB_NONE, NULL, 0);
    for (size_t i = 0; i < loupe_study_list_count(list); i++) {
        size_t r = cli_table_add_record(&t);
        cli_table_set(&t, r, col, cli_v_str(loupe_study_list_at(list, i)->name));
    }
    cli_print_records(ctx, &t, NULL, 0, 0);
cleanup:
    cli_table_free(&t);
    if (list) loupe_study_list_free(list);
    loupe_storage_close(st);
    return rc;
}

static int run_studies(cli_ctx *ctx, const cli_args *args) {
    (void)args;
    loupe_storage *st = NULL;
    loupe_study_list *list = NULL;
    cli_table t;
    cli_table_init(&t);
    int rc = list_studies(ctx, &st, &list);
    if (rc) goto cleanup;
    size_t n = loupe_study_list_count(list);
    int any_attrs = 0;
    for (size_t i = 0; i < n; i++)
        if (loupe_study_list_at(list, i)->n_user_attrs) any_attrs = 1;
    size_t c_name = cli_table_add_column(&t, "name", CLI_SUB_NONE, NULL, 0);
    size_t c_dir = cli_table_add_column(&t, "direction", CLI_SUB_NONE, NULL, 0);
    size_t c_n = cli_table_add_column(&t, "n_trials", CLI_SUB_NONE, NULL, 0);
    size_t c_start = cli_table_add_column(&t, "datetime_start", CLI_SUB_NONE, NULL, 0);
    size_t c_attrs = any_attrs ? cli_table_add_column(&t, "user_attrs", CLI_SUB_NONE, NULL, 0) : 0;
    for (size_t i = 0; i < n; i++) {
        const loupe_study_summary *s = loupe_study_list_at(list, i);
        size_t r = cli_table_add_record(&t);
        cli_table_set(&t, r, c_name, cli_v_str(s->name));
        cli_value *dirs = cli_v_tuple();
        for (size_t k = 0; k < s->n_directions; k++) cli_v_push(dirs, cli_v_str(direction_name(s->directions[k])));
        cli_table_set(&t, r, c_dir, dirs);
        cli_table_set(&t, r, c_n, cli_v_int(s->n_trials));
        cli_table_set(&t, r, c_start, cli_v_datetime(s->datetime_start_us));
        if (any_attrs) cli_table_set(&t, r, c_attrs, cli_v_attrs(s->user_attrs, s->n_user_attrs));
    }
    cli_print_records(ctx, &t, NULL, 0, 0);
cleanup:
    cli_table_free(&t);
    if (list) loupe_study_list_free(list);
    loupe_storage_close(st);
    return rc;
}

static const cli_option study_names_options[] = {
    {"--format", 'f', CLI_OPT_VALUE, NULL, cli_format_choices, "value", 0, "Output format."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_study_names = {
    "study-names",
    "Get all study names stored in a specified storage.",
    "Prints one study name per line (-f value), or the names as a table, JSON or YAML.",
    study_names_options,
    1,
    run_study_names,
};

static const cli_option studies_options[] = {
    {"--format", 'f', CLI_OPT_VALUE, NULL, cli_format_choices, "table", 0, "Output format."},
    {"--flatten", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, "Flatten nested columns such as directions."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_studies = {
    "studies",
    "Show a list of studies.",
    "Columns: name, direction, n_trials, datetime_start (the earliest trial start, UTC as stored), and "
    "user_attrs when any study has user attributes.",
    studies_options,
    1,
    run_studies,
};
