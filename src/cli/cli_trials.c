/*
 * cli_trials.c -- the trial listing verbs of the `loupe` command: trials,
 * best-trial and best-trials. The records and their columns are built as
 * Optuna's _create_records_and_aggregate_column builds them for the attrs
 * (number, value|values, datetime_start, datetime_complete, duration, params,
 * user_attrs, state): nested columns sorted by name, objective values by index
 * or, when the study has metric names, by metric name in metric order.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

typedef struct names {
    size_t n, cap;
    const char **items; /* borrowed from the trial list */
} names;

static void names_add(names *s, const char *name) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->items = cli_xrealloc(s->items, s->cap * sizeof *s->items);
    }
    s->items[s->n++] = name;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Sorts and removes duplicates. */
static void names_sort_unique(names *s) {
    if (s->n == 0) return;
    qsort(s->items, s->n, sizeof *s->items, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->items[i], s->items[k - 1]) != 0) s->items[k++] = s->items[i];
    s->n = k;
}

static size_t names_index(const names *s, const char *name) {
    const char **hit = bsearch(&name, s->items, s->n, sizeof *s->items, cmp_str);
    return hit ? (size_t)(hit - s->items) : (size_t)-1;
}

/* The study's metric names as strings, or an empty list when it has none. */
static cli_value *metric_names(cli_ctx *ctx, loupe_study *study) {
    char *json = NULL;
    cli_value *out = cli_v_list();
    if (loupe_study_metric_names(study, &json) != LOUPE_OK || !json) return out;
    char err[128];
    cli_value *v = cli_value_from_json(json, err, sizeof err);
    loupe_free(json);
    if (!v || v->kind != CLI_V_LIST) {
        cli_log(ctx, CLI_LOG_WARNING, "Ignoring the study's metric names: they are not a JSON list.");
        cli_value_free(v);
        return out;
    }
    for (size_t i = 0; i < v->n; i++) {
        loupe__buf b = {0};
        cli_v_pystr(&b, v->items[i]);
        cli_v_push(out, cli_v_str(b.data ? b.data : ""));
        loupe__buf_free(&b);
    }
    cli_value_free(v);
    return out;
}

typedef struct trial_records {
    loupe_trial_list *trials;
    cli_table table; /* record i is trial i of `trials` */
} trial_records;

static void trial_records_free(trial_records *tr) {
    cli_table_free(&tr->table);
    if (tr->trials) loupe_trial_list_free(tr->trials);
}

static int build_records(cli_ctx *ctx, loupe_storage *st, loupe_study *study, trial_records *tr) {
    cli_table *t = &tr->table;
    cli_table_init(t);
    tr->trials = NULL;
    int status = loupe_study_get_trials(study, 0, &tr->trials);
    if (status != LOUPE_OK)
        return cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot read the trials of study '%s'",
                               loupe_study_name(study));
    size_t n_trials = loupe_trial_list_count(tr->trials);
    size_t n_obj = loupe_study_n_objectives(study);
    int multi = n_obj > 1;
    cli_value *metrics = metric_names(ctx, study);
    names params = {0}, attrs = {0};
    size_t n_value_cols = 0; /* objectives without metric names: the longest values list */
    for (size_t i = 0; i < n_trials; i++) {
        const loupe_frozen_trial *ft = loupe_trial_list_at(tr->trials, i);
        for (size_t k = 0; k < ft->n_params; k++) names_add(&params, ft->params[k].name);
        for (size_t k = 0; k < ft->n_user_attrs; k++) names_add(&attrs, ft->user_attrs[k].key);
        size_t nv = ft->values ? ft->n_values : n_obj;
        if (nv > n_value_cols) n_value_cols = nv;
    }
    names_sort_unique(&params);
    names_sort_unique(&attrs);

    /* Columns exist only for attributes some record has: none for no trials. */
    size_t c_number = 0, c_value0 = 0, c_start = 0, c_complete = 0, c_duration = 0, c_params0 = 0, c_attrs0 = 0,
           c_state = 0;
    size_t n_metric_cols = multi ? (metrics->n ? metrics->n : n_value_cols) : 1;
    if (n_trials) {
        c_number = cli_table_add_column(t, "number", CLI_SUB_NONE, NULL, 0);
        const char *vname = multi ? "values" : "value";
        for (size_t k = 0; k < n_metric_cols; k++) {
            size_t c;
            if (metrics->n)
                c = cli_table_add_column(t, vname, CLI_SUB_STR, metrics->items[k]->s, 0);
            else if (multi)
                c = cli_table_add_column(t, vname, CLI_SUB_INDEX, NULL, k);
            else
                c = cli_table_add_column(t, vname, CLI_SUB_NONE, NULL, 0);
            if (k == 0) c_value0 = c;
        }
        c_start = cli_table_add_column(t, "datetime_start", CLI_SUB_NONE, NULL, 0);
        c_complete = cli_table_add_column(t, "datetime_complete", CLI_SUB_NONE, NULL, 0);
        c_duration = cli_table_add_column(t, "duration", CLI_SUB_NONE, NULL, 0);
        for (size_t k = 0; k < params.n; k++) {
            size_t c = cli_table_add_column(t, "params", CLI_SUB_STR, params.items[k], 0);
            if (k == 0) c_params0 = c;
        }
        for (size_t k = 0; k < attrs.n; k++) {
            size_t c = cli_table_add_column(t, "user_attrs", CLI_SUB_STR, attrs.items[k], 0);
            if (k == 0) c_attrs0 = c;
        }
        c_state = cli_table_add_column(t, "state", CLI_SUB_NONE, NULL, 0);
    }

    for (size_t i = 0; i < n_trials; i++) {
        const loupe_frozen_trial *ft = loupe_trial_list_at(tr->trials, i);
        size_t r = cli_table_add_record(t);
        cli_table_set(t, r, c_number, cli_v_int(ft->number));
        if (!multi) {
            cli_table_set(t, r, c_value0, ft->n_values ? cli_v_float(ft->values[0]) : cli_v_none());
        } else {
            /* zip(metric_names, values) stops at the shorter one. */
            size_t nv = ft->values ? ft->n_values : n_obj;
            for (size_t k = 0; k < nv && k < n_metric_cols; k++)
                cli_table_set(t, r, c_value0 + k, ft->values ? cli_v_float(ft->values[k]) : cli_v_none());
        }
        cli_table_set(t, r, c_start, cli_v_datetime(ft->datetime_start_us));
        cli_table_set(t, r, c_complete, cli_v_datetime(ft->datetime_complete_us));
        int has_both = ft->datetime_start_us >= 0 && ft->datetime_complete_us >= 0;
        cli_table_set(t, r, c_duration,
                      has_both ? cli_v_duration(ft->datetime_complete_us - ft->datetime_start_us) : cli_v_none());
        for (size_t k = 0; k < ft->n_params; k++)
            cli_table_set(t, r, c_params0 + names_index(&params, ft->params[k].name), cli_v_param(&ft->params[k]));
        for (size_t k = 0; k < ft->n_user_attrs; k++)
            cli_table_set(t, r, c_attrs0 + names_index(&attrs, ft->user_attrs[k].key),
                          cli_v_from_stored_json(ft->user_attrs[k].json));
        const char *state = loupe_trial_state_name(ft->state);
        cli_table_set(t, r, c_state, cli_v_str(state ? state : "UNKNOWN"));
    }
    free(params.items);
    free(attrs.items);
    cli_value_free(metrics);
    return CLI_EXIT_OK;
}

/* Opens the storage and the study named by --study-name and builds the records. */
static int load_records(cli_ctx *ctx, const cli_args *args, loupe_storage **st, loupe_study **study,
                        trial_records *tr) {
    memset(tr, 0, sizeof *tr);
    int rc = cli_open_storage(ctx, st);
    if (rc) return rc;
    rc = cli_load_study(ctx, *st, cli_arg(args, "--study-name"), study);
    if (rc) return rc;
    return build_records(ctx, *st, *study, tr);
}

static void close_all(loupe_storage *st, loupe_study *study, trial_records *tr) {
    trial_records_free(tr);
    if (study) loupe_study_close(study);
    loupe_storage_close(st);
}

static int run_trials(cli_ctx *ctx, const cli_args *args) {
    loupe_storage *st = NULL;
    loupe_study *study = NULL;
    trial_records tr;
    int rc = load_records(ctx, args, &st, &study, &tr);
    if (rc == CLI_EXIT_OK) cli_print_records(ctx, &tr.table, NULL, 0, 0);
    close_all(st, study, &tr);
    return rc;
}

/* The record index of trial `number`. */
static size_t record_of(const trial_records *tr, int64_t number) {
    for (size_t i = 0; i < loupe_trial_list_count(tr->trials); i++)
        if (loupe_trial_list_at(tr->trials, i)->number == number) return i;
    return (size_t)-1;
}

static int run_best_trial(cli_ctx *ctx, const cli_args *args) {
    loupe_storage *st = NULL;
    loupe_study *study = NULL;
    loupe_trial_list *best = NULL;
    trial_records tr;
    int rc = load_records(ctx, args, &st, &study, &tr);
    if (rc) goto cleanup;
    int status = loupe_study_best_trial(study, &best);
    if (status == LOUPE_ESTATE && loupe_study_n_objectives(study) > 1) {
        rc = cli_fail(ctx,
                      "A single best trial cannot be retrieved from a multi-objective study. Use `loupe best-trials "
                      "--study-name '%s'` to get the trials on the Pareto front.",
                      loupe_study_name(study));
    } else if (status == LOUPE_ENOTRIAL) {
        rc = cli_fail(ctx,
                      "Study '%s' has no completed trial, so it has no best trial yet. Complete one with `loupe tell "
                      "--study-name '%s' --trial-number N --values V`.",
                      loupe_study_name(study), loupe_study_name(study));
    } else if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot find the best trial of study '%s'",
                             loupe_study_name(study));
    } else {
        size_t row = record_of(&tr, loupe_trial_list_at(best, 0)->number);
        if (row == (size_t)-1)
            rc = cli_fail(ctx, "The best trial appeared after the trials were read; run the command again.");
        else
            cli_print_records(ctx, &tr.table, &row, 1, 1);
    }
cleanup:
    if (best) loupe_trial_list_free(best);
    close_all(st, study, &tr);
    return rc;
}

static int run_best_trials(cli_ctx *ctx, const cli_args *args) {
    loupe_storage *st = NULL;
    loupe_study *study = NULL;
    loupe_trial_list *best = NULL;
    size_t *rows = NULL;
    trial_records tr;
    int rc = load_records(ctx, args, &st, &study, &tr);
    if (rc) goto cleanup;
    int status = loupe_study_best_trials(study, &best);
    if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot find the best trials of study '%s'",
                             loupe_study_name(study));
        goto cleanup;
    }
    /* Records keep trial-number order, whatever order the front comes in. */
    size_t n_rec = loupe_trial_list_count(tr.trials), n = 0;
    rows = cli_xmalloc((n_rec + 1) * sizeof *rows);
    for (size_t i = 0; i < n_rec; i++) {
        int64_t number = loupe_trial_list_at(tr.trials, i)->number;
        for (size_t k = 0; k < loupe_trial_list_count(best); k++) {
            if (loupe_trial_list_at(best, k)->number == number) {
                rows[n++] = i;
                break;
            }
        }
    }
    cli_print_records(ctx, &tr.table, rows, n, 0);
cleanup:
    free(rows);
    if (best) loupe_trial_list_free(best);
    close_all(st, study, &tr);
    return rc;
}

static const cli_option trials_options[] = {
    {"--study-name", 0, CLI_OPT_VALUE, "NAME", NULL, NULL, 1, "The name of the study."},
    {"--format", 'f', CLI_OPT_VALUE, NULL, cli_format_choices, "table", 0, "Output format."},
    {"--flatten", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, "Flatten nested columns such as params and user_attrs."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_trials = {
    "trials",
    "Show a list of trials.",
    "Columns: number, value (values for several objectives, or one column per metric name), "
    "datetime_start, datetime_complete, duration, params, user_attrs, state. Datetimes are shown as stored "
    "(UTC for loupe and Optuna >= 5, the writer's local time for Optuna <= 4.9).",
    trials_options,
    1,
    run_trials,
};

const cli_command cli_cmd_best_trial = {
    "best-trial",
    "Show the best trial.",
    "The best COMPLETE trial of a single-objective study, as one record.",
    trials_options,
    1,
    run_best_trial,
};

const cli_command cli_cmd_best_trials = {
    "best-trials",
    "Show a list of trials located at the Pareto front.",
    "The COMPLETE trials that no other trial dominates, in trial-number order.",
    trials_options,
    1,
    run_best_trials,
};
