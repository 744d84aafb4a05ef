/*
 * td_dump.c -- loupe-testdriver's canonical JSON dump of a whole storage,
 * through the public API only. tests/interop/optuna_peer.py prints the same
 * document from Python Optuna, and the interop tests compare the two.
 *
 * Format (one JSON object; NaN/Infinity/-Infinity tokens as Python writes them):
 *   {"studies": [{"study_id", "name", "directions": ["MINIMIZE", ...],
 *     "user_attrs": [[key, value_json_text], ...], "system_attrs": [...],
 *     "metric_names": text|null, "n_trials", "datetime_start": text|null,
 *     "counts": {"RUNNING": n, ...}, "best_trial": number|null,
 *     "best_trials": [numbers], "trials": [{"trial_id", "number", "state",
 *       "values": [...]|null, "datetime_start": text|null,
 *       "datetime_complete": text|null, "params": [{"name", "value_json",
 *       "internal", "distribution_json"}], "user_attrs", "system_attrs",
 *       "intermediate_values": [[step, value], ...]}]}]}
 * JSON texts (attribute values, param values, distributions) are dumped as
 * strings so the comparison is byte-exact; attrs and params keep storage order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testdriver.h"

int td_fail(const char *what, int status, const char *message) {
    fprintf(stderr, "loupe-testdriver: %s failed: %s (%d): %s\n", what, loupe_strerror(status),
            status, message ? message : "");
    return status ? status : LOUPE_ERROR;
}

/* A JSON string literal; non-ASCII UTF-8 passes through (valid JSON). */
static void put_str(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void put_double(FILE *out, double v) {
    if (isnan(v))
        fputs("NaN", out);
    else if (isinf(v))
        fputs(v > 0 ? "Infinity" : "-Infinity", out);
    else
        fprintf(out, "%.17g", v);
}

/* Optuna's datetime text, read as UTC; null when absent. */
static void put_datetime(FILE *out, int64_t us) {
    if (us < 0) {
        fputs("null", out);
        return;
    }
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    fprintf(out, "\"%04d-%02d-%02d %02d:%02d:%02d.%06d\"", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
}

static void put_attrs(FILE *out, const loupe_attr *attrs, size_t n) {
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", [" : "[", out);
        put_str(out, attrs[i].key);
        fputs(", ", out);
        put_str(out, attrs[i].json);
        fputc(']', out);
    }
    fputc(']', out);
}

static int put_trial(FILE *out, const loupe_frozen_trial *t) {
    fprintf(out, "{\"trial_id\": %lld, \"number\": %lld, \"state\": ", (long long)t->trial_id,
            (long long)t->number);
    put_str(out, loupe_trial_state_name(t->state) ? loupe_trial_state_name(t->state) : "?");
    fputs(", \"values\": ", out);
    if (!t->values) {
        fputs("null", out);
    } else {
        fputc('[', out);
        for (size_t i = 0; i < t->n_values; i++) {
            if (i) fputs(", ", out);
            put_double(out, t->values[i]);
        }
        fputc(']', out);
    }
    fputs(", \"datetime_start\": ", out);
    put_datetime(out, t->datetime_start_us);
    fputs(", \"datetime_complete\": ", out);
    put_datetime(out, t->datetime_complete_us);
    fputs(", \"params\": [", out);
    for (size_t i = 0; i < t->n_params; i++) {
        const loupe_param *p = &t->params[i];
        char value[4096];
        if (loupe_param_value_json(p, value, sizeof value) < 0)
            return td_fail("loupe_param_value_json", LOUPE_ERROR, p->name);
        char *dist = loupe_distribution_to_json(&p->dist);
        if (!dist) return td_fail("loupe_distribution_to_json", LOUPE_ERROR, p->name);
        fputs(i ? ", {\"name\": " : "{\"name\": ", out);
        put_str(out, p->name);
        fputs(", \"value_json\": ", out);
        put_str(out, value);
        fputs(", \"internal\": ", out);
        put_double(out, p->internal);
        fputs(", \"distribution_json\": ", out);
        put_str(out, dist);
        fputc('}', out);
        loupe_free(dist);
    }
    fputs("], \"user_attrs\": ", out);
    put_attrs(out, t->user_attrs, t->n_user_attrs);
    fputs(", \"system_attrs\": ", out);
    put_attrs(out, t->system_attrs, t->n_system_attrs);
    fputs(", \"intermediate_values\": [", out);
    for (size_t i = 0; i < t->n_intermediate; i++) {
        fprintf(out, "%s[%lld, ", i ? ", " : "", (long long)t->intermediate[i].step);
        put_double(out, t->intermediate[i].value);
        fputc(']', out);
    }
    fputs("]}", out);
    return LOUPE_OK;
}

/* The numbers in a trial list, as a JSON array. */
static void put_numbers(FILE *out, const loupe_trial_list *list) {
    fputc('[', out);
    for (size_t i = 0; list && i < loupe_trial_list_count(list); i++)
        fprintf(out, "%s%lld", i ? ", " : "", (long long)loupe_trial_list_at(list, i)->number);
    fputc(']', out);
}

static int attrs_equal(const loupe_attr *a, size_t na, const loupe_attr *b, size_t nb) {
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].key, b[i].key) != 0 || strcmp(a[i].json, b[i].json) != 0) return 0;
    return 1;
}

static int put_study(FILE *out, loupe_storage *storage, const loupe_study_summary *sum) {
    loupe_study *study = NULL;
    loupe_trial_list *trials = NULL, *best = NULL, *pareto = NULL;
    char *metric_names = NULL;
    int rc = loupe_study_load(storage, sum->name, &study);
    if (rc) {
        td_fail("loupe_study_load", rc, loupe_storage_errmsg(storage));
        goto cleanup;
    }
    /* the summary of list_studies must say what the study handle says (each
     * attrs array is valid only until the next call on the study) */
    const loupe_attr *attrs;
    size_t n_attrs;
    if ((rc = loupe_study_user_attrs(study, &attrs, &n_attrs))) {
        td_fail("loupe_study_user_attrs", rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    if (!attrs_equal(attrs, n_attrs, sum->user_attrs, sum->n_user_attrs)) {
        rc = td_fail("loupe_storage_list_studies", LOUPE_ERROR,
                     "the summary's user attrs differ from the loaded study's");
        goto cleanup;
    }
    if ((rc = loupe_study_system_attrs(study, &attrs, &n_attrs))) {
        td_fail("loupe_study_system_attrs", rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    if (!attrs_equal(attrs, n_attrs, sum->system_attrs, sum->n_system_attrs) ||
        sum->n_directions != loupe_study_n_objectives(study)) {
        rc = td_fail("loupe_storage_list_studies", LOUPE_ERROR,
                     "the summary's system attrs or directions differ from the loaded study's");
        goto cleanup;
    }
    if ((rc = loupe_study_metric_names(study, &metric_names))) {
        td_fail("loupe_study_metric_names", rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    if ((rc = loupe_study_get_trials(study, 0, &trials))) {
        td_fail("loupe_study_get_trials", rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    int64_t counts[5];
    if ((rc = loupe_study_count_trials(study, counts))) {
        td_fail("loupe_study_count_trials", rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    if (sum->n_directions == 1) {
        rc = loupe_study_best_trial(study, &best);
        if (rc && rc != LOUPE_ENOTRIAL) {
            td_fail("loupe_study_best_trial", rc, loupe_study_errmsg(study));
            goto cleanup;
        }
    }
    if ((rc = loupe_study_best_trials(study, &pareto))) {
        td_fail("loupe_study_best_trials", rc, loupe_study_errmsg(study));
        goto cleanup;
    }
    rc = LOUPE_OK;

    fprintf(out, "{\"study_id\": %lld, \"name\": ", (long long)sum->study_id);
    put_str(out, sum->name);
    fputs(", \"directions\": [", out);
    for (size_t i = 0; i < sum->n_directions; i++) {
        static const char *const names[] = {"NOT_SET", "MINIMIZE", "MAXIMIZE"};
        loupe_direction d = loupe_study_direction(study, i);
        if (d != sum->directions[i]) {
            rc = td_fail("loupe_study_direction", LOUPE_ERROR, "differs from the study summary");
            goto cleanup;
        }
        fputs(i ? ", " : "", out);
        put_str(out, (unsigned)d <= 2 ? names[d] : "?");
    }
    fputs("], \"user_attrs\": ", out);
    put_attrs(out, sum->user_attrs, sum->n_user_attrs);
    fputs(", \"system_attrs\": ", out);
    put_attrs(out, sum->system_attrs, sum->n_system_attrs);
    fputs(", \"metric_names\": ", out);
    if (metric_names)
        put_str(out, metric_names);
    else
        fputs("null", out);
    fprintf(out, ", \"n_trials\": %lld, \"datetime_start\": ", (long long)sum->n_trials);
    put_datetime(out, sum->datetime_start_us);
    fprintf(out,
            ", \"counts\": {\"RUNNING\": %lld, \"COMPLETE\": %lld, \"PRUNED\": %lld, \"FAIL\": %lld, "
            "\"WAITING\": %lld}",
            (long long)counts[0], (long long)counts[1], (long long)counts[2], (long long)counts[3],
            (long long)counts[4]);
    fputs(", \"best_trial\": ", out);
    if (best)
        fprintf(out, "%lld", (long long)loupe_trial_list_at(best, 0)->number);
    else
        fputs("null", out);
    fputs(", \"best_trials\": ", out);
    put_numbers(out, pareto);
    fputs(", \"trials\": [", out);
    for (size_t i = 0; i < loupe_trial_list_count(trials); i++) {
        fputs(i ? ",\n  " : "\n  ", out);
        if ((rc = put_trial(out, loupe_trial_list_at(trials, i)))) goto cleanup;
    }
    fputs("]}", out);
cleanup:
    loupe_free(metric_names);
    loupe_trial_list_free(trials);
    loupe_trial_list_free(best);
    loupe_trial_list_free(pareto);
    loupe_study_close(study);
    return rc;
}

int td_dump(loupe_storage *storage, FILE *out) {
    loupe_study_list *list = NULL;
    int rc = loupe_storage_list_studies(storage, &list);
    if (rc) return td_fail("loupe_storage_list_studies", rc, loupe_storage_errmsg(storage));
    fputs("{\"studies\": [", out);
    for (size_t i = 0; i < loupe_study_list_count(list); i++) {
        fputs(i ? ",\n" : "\n", out);
        if ((rc = put_study(out, storage, loupe_study_list_at(list, i)))) break;
    }
    fputs("]}\n", out);
    loupe_study_list_free(list);
    return rc;
}
