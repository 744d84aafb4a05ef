/*
 * trial.c -- the life of a trial: ask (taking enqueued trials first), suggest
 * (fixed, relative or sampled values, checked against the study's earlier
 * distributions), writes batched into one transaction, report, attributes,
 * enqueue, and tell with Optuna's validation rules.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/distribution.h"
#include "core/errors.h"
#include "util/buf.h"
#include "util/pyjson.h"
#include "util/timeutil.h"

static int oom(loupe_storage *s) { return loupe__error(s, LOUPE_ENOMEM, "out of memory"); }

/* Builds the handle around a stored trial (reads it once). */
static int trial_open(loupe_study *study, int64_t trial_id, loupe_trial **out) {
    loupe_storage *s = study->storage;
    loupe_trial *t = calloc(1, sizeof *t);
    if (!t) return oom(s);
    t->study = study;
    int rc = s->ops->read_trial(s, trial_id, &t->rec);
    if (rc) goto fail;
    t->n_flushed_params = t->rec->t.n_params;
    const char *fixed = loupe_frozen_trial_system_attr(&t->rec->t, "fixed_params");
    if (fixed) {
        char err[160];
        t->fixed_params = loupe__pyjson_parse(fixed, strlen(fixed), err, sizeof err);
        if (!t->fixed_params || !yyjson_is_obj(yyjson_doc_get_root(t->fixed_params))) {
            rc = loupe__error(s, LOUPE_ECORRUPT,
                              "Trial#%lld has a malformed fixed_params attribute: %s",
                              (long long)t->rec->t.number, fixed);
            goto fail;
        }
    }
    study->open_trials++;
    *out = t;
    return LOUPE_OK;
fail:
    if (t->fixed_params) yyjson_doc_free(t->fixed_params);
    loupe__trial_rec_release(t->rec);
    free(t);
    return rc;
}

/* A new trial: the relative sample is taken first, on a provisional handle
 * (number -1, no row), and the trial row is inserted with what the sampler
 * set on it (TPE's published relative params) in one transaction. */
static int ask_new(loupe_study *study, loupe_trial **out) {
    loupe_storage *s = study->storage;
    const loupe__sampler_ops *ops = study->sampler->ops;
    int64_t trial_id, number;
    if (!ops->sample_relative) {
        int rc = s->ops->create_trial(s, study->study_id, NULL, &trial_id, &number);
        return rc ? rc : trial_open(study, trial_id, out);
    }
    loupe_trial *pre = calloc(1, sizeof *pre);
    if (!pre) return oom(s);
    pre->study = study;
    pre->provisional = 1;
    pre->rec = loupe__trial_rec_new();
    int rc = pre->rec ? LOUPE_OK : oom(s);
    if (rc) goto cleanup;
    /* a RUNNING record (loupe__trial_rec_new) that matches no stored trial */
    pre->rec->t.number = -1;
    pre->rec->t.trial_id = -1;
    pre->rec->t.study_id = study->study_id;
    if ((rc = ops->sample_relative(study->sampler, study, pre, &pre->relative))) goto cleanup;
    pre->rec->t.datetime_start_us = loupe__now_us();
    if ((rc = s->ops->create_trial(s, study->study_id, &pre->rec->t, &trial_id, &number)))
        goto cleanup;
    if ((rc = trial_open(study, trial_id, out))) goto cleanup;
    (*out)->relative = pre->relative; /* moved */
    memset(&pre->relative, 0, sizeof pre->relative);
cleanup:
    loupe__param_vec_clear(&pre->relative);
    free(pre->relative.items);
    loupe__trial_rec_release(pre->rec);
    free(pre);
    return rc;
}

int loupe_study_ask(loupe_study *study, loupe_trial **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    loupe_storage *s = study->storage;
    loupe__error_clear(s);
    int64_t trial_id;
    int rc = s->ops->claim_waiting_trial(s, study->study_id, &trial_id);
    if (rc == LOUPE_ENOTFOUND) {
        loupe__error_clear(s);
        return ask_new(study, out);
    }
    if (rc) return rc;
    /* an enqueued trial: its row exists, so the relative sample is written
     * after the claim */
    loupe_trial *t;
    rc = trial_open(study, trial_id, &t);
    if (rc) return rc;
    const loupe__sampler_ops *ops = study->sampler->ops;
    if (ops->sample_relative) {
        rc = ops->sample_relative(study->sampler, study, t, &t->relative);
        if (rc) {
            /* the trial exists (RUNNING); the caller may still tell it FAIL */
            loupe_trial_free(t);
            return rc;
        }
    }
    *out = t;
    return LOUPE_OK;
}

int loupe_study_trial(loupe_study *study, int64_t number, loupe_trial **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    loupe_storage *s = study->storage;
    loupe__error_clear(s);
    int64_t trial_id;
    int rc = s->ops->trial_id_by_number(s, study->study_id, number, &trial_id);
    if (rc) return rc;
    return trial_open(study, trial_id, out);
}

/* Writes the pending params plus the given extra writes in one transaction and
 * mirrors them into the handle's record. */
static int write_update(loupe_trial *t, loupe__trial_update *u, int *state_changed) {
    loupe_storage *s = t->study->storage;
    u->trial_id = t->rec->t.trial_id;
    u->n_params = t->rec->t.n_params - t->n_flushed_params;
    u->params = t->rec->params + t->n_flushed_params;
    if (u->n_params == 0 && u->n_user_attrs == 0 && u->n_system_attrs == 0 &&
        u->n_intermediate == 0 && !u->set_state)
        return LOUPE_OK;
    int rc = s->ops->update_trial(s, u, state_changed);
    if (rc) return rc;
    t->n_flushed_params = t->rec->t.n_params;
    for (size_t i = 0; i < u->n_user_attrs; i++)
        if (loupe__trial_rec_put_user_attr(t->rec, u->user_attrs[i].key, u->user_attrs[i].json))
            return oom(s);
    for (size_t i = 0; i < u->n_system_attrs; i++)
        if (loupe__trial_rec_put_system_attr(t->rec, u->system_attrs[i].key, u->system_attrs[i].json))
            return oom(s);
    for (size_t i = 0; i < u->n_intermediate; i++)
        if (loupe__trial_rec_put_intermediate(t->rec, u->intermediate[i].step, u->intermediate[i].value))
            return oom(s);
    return LOUPE_OK;
}

int loupe_trial_flush(loupe_trial *trial) {
    if (!trial) return LOUPE_EINVAL;
    loupe__error_clear(trial->study->storage);
    loupe__trial_update u;
    memset(&u, 0, sizeof u);
    return write_update(trial, &u, NULL);
}

void loupe_trial_free(loupe_trial *trial) {
    if (!trial) return;
    if (trial->rec->t.n_params > trial->n_flushed_params) loupe_trial_flush(trial);
    trial->study->open_trials--;
    loupe__param_vec_clear(&trial->relative);
    free(trial->relative.items);
    if (trial->fixed_params) yyjson_doc_free(trial->fixed_params);
    loupe__trial_rec_release(trial->rec);
    free(trial);
}

const char *loupe_trial_errmsg(const loupe_trial *trial) {
    return trial ? loupe_storage_errmsg(trial->study->storage) : "no trial handle";
}
int64_t loupe_trial_number(const loupe_trial *trial) { return trial ? trial->rec->t.number : -1; }
int64_t loupe_trial_id(const loupe_trial *trial) { return trial ? trial->rec->t.trial_id : -1; }
loupe_study *loupe_trial_study(loupe_trial *trial) { return trial ? trial->study : NULL; }

int loupe_trial_snapshot(loupe_trial *trial, const loupe_frozen_trial **out) {
    if (!trial || !out) return LOUPE_EINVAL;
    *out = &trial->rec->t;
    return LOUPE_OK;
}

/* ---------------------------------------------------------------- suggest */

/* The value of a fixed (enqueued) param, if name is fixed. Returns 1 and sets
 * *internal when fixed, 0 when not, or a negative LOUPE code on a bad value. */
static int fixed_value(loupe_trial *t, const char *name, const loupe_distribution *d, double *internal) {
    if (!t->fixed_params) return 0;
    yyjson_val *v = yyjson_obj_get(yyjson_doc_get_root(t->fixed_params), name);
    if (!v) return 0;
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__pyjson_value(&b, v);
    int rc = b.failed ? -LOUPE_ENOMEM : 1;
    if (rc == 1 && loupe__distribution_internal_from_json(d, b.data, internal)) {
        loupe__error(t->study->storage, LOUPE_EINVAL,
                     "The enqueued value %s of param '%s' is not a valid value of its distribution.",
                     b.data, name);
        rc = -LOUPE_EINVAL;
    }
    loupe__buf_free(&b);
    return rc;
}

static int suggest(loupe_trial *t, const char *name, loupe_distribution *d, double *internal) {
    if (!t) return LOUPE_EINVAL;
    loupe_study *study = t->study;
    loupe_storage *s = study->storage;
    loupe__error_clear(s);
    if (!name || !*name) return loupe__error(s, LOUPE_EINVAL, "param name is NULL or empty");
    if (strlen(name) > 512)
        return loupe__error(s, LOUPE_EINVAL, "param name longer than 512 characters");
    char err[400];
    int rc = loupe__distribution_check(d, err, sizeof err);
    if (rc) return loupe__error(s, rc, "Param '%s': %s", name, err);
    if (loupe_trial_state_is_finished(t->rec->t.state))
        return loupe__error(s, LOUPE_EFINISHED, "Trial#%lld has already finished and can not be updated.",
                            (long long)t->rec->t.number);

    const loupe_param *prev = loupe_frozen_trial_param(&t->rec->t, name);
    if (prev) { /* repeated suggest: same value if the distribution is compatible */
        rc = loupe__distribution_compatible(&prev->dist, d, err, sizeof err);
        if (rc) return loupe__error(s, rc, "Param '%s': %s", name, err);
        *internal = prev->internal;
        return LOUPE_OK;
    }
    const loupe_distribution *first = loupe__study_first_dist(study, name);
    if (!first) { /* maybe another trial stored it since our last read */
        rc = loupe__study_sync(study);
        if (rc) return rc;
        first = loupe__study_first_dist(study, name);
    }
    if (first) {
        rc = loupe__distribution_compatible(first, d, err, sizeof err);
        if (rc) return loupe__error(s, rc, "Param '%s': %s", name, err);
    }

    double v;
    int fx = fixed_value(t, name, d, &v);
    if (fx < 0) return -fx;
    if (!fx) {
        const loupe_param *rel = loupe__param_vec_find(&t->relative, name);
        if (rel && loupe__distribution_compatible(&rel->dist, d, err, sizeof err) == LOUPE_OK &&
            loupe__distribution_contains(d, rel->internal)) {
            v = rel->internal;
        } else {
            rc = study->sampler->ops->sample_independent(study->sampler, study, t, name, d, &v);
            if (rc) return rc;
        }
    }
    /* a name seen before is already noted: skip the second lookup */
    if (loupe__trial_rec_add_param(t->rec, name, v, d) ||
        (!first && loupe__study_note_dist(study, name, d)))
        return oom(s);
    *internal = v;
    return LOUPE_OK;
}

int loupe_trial_suggest_float(loupe_trial *trial, const char *name, double low, double high,
                              double step, int log, double *out) {
    loupe_distribution d = {.kind = LOUPE_DIST_FLOAT, .low = low, .high = high, .step = step, .log = log};
    double v;
    int rc = suggest(trial, name, &d, &v);
    if (rc == LOUPE_OK && out) *out = v;
    return rc;
}

int loupe_trial_suggest_int(loupe_trial *trial, const char *name, int64_t low, int64_t high,
                            int64_t step, int log, int64_t *out) {
    loupe_distribution d = {.kind = LOUPE_DIST_INT, .low = (double)low, .high = (double)high,
                            .step = (double)step, .log = log};
    double v;
    int rc = suggest(trial, name, &d, &v);
    if (rc == LOUPE_OK && out) *out = (int64_t)v;
    return rc;
}

int loupe_trial_suggest_categorical(loupe_trial *trial, const char *name, size_t n_choices,
                                    const char *const *choices_json, size_t *index) {
    if (!trial) return LOUPE_EINVAL;
    loupe_storage *s = trial->study->storage;
    if (n_choices > 0 && !choices_json) return loupe__error(s, LOUPE_EINVAL, "choices is NULL");
    char **norm = calloc(n_choices ? n_choices : 1, sizeof *norm);
    if (!norm) return oom(s);
    int rc = LOUPE_OK;
    for (size_t i = 0; i < n_choices && rc == LOUPE_OK; i++) {
        char err[200];
        int jr = loupe__pyjson_normalize(choices_json[i], &norm[i], err, sizeof err);
        if (jr == -2) rc = oom(s);
        else if (jr) rc = loupe__error(s, LOUPE_EINVAL, "Choice %zu of param '%s' is not JSON: %s", i,
                                      name ? name : "(null)", err);
        else if (norm[i][0] == '[' || norm[i][0] == '{')
            rc = loupe__error(s, LOUPE_EINVAL,
                              "Choice %zu of param '%s' is %s; choices must be strings, numbers, booleans or null.",
                              i, name ? name : "(null)", norm[i]);
    }
    if (rc == LOUPE_OK) {
        loupe_distribution d = {.kind = LOUPE_DIST_CATEGORICAL, .n_choices = n_choices,
                                .choices = (const char *const *)norm};
        double v;
        rc = suggest(trial, name, &d, &v);
        if (rc == LOUPE_OK && index) *index = (size_t)v;
    }
    for (size_t i = 0; i < n_choices; i++) free(norm[i]);
    free(norm);
    return rc;
}

int loupe_trial_suggest_categorical_str(loupe_trial *trial, const char *name, size_t n_choices,
                                        const char *const *choices, const char **out) {
    if (!trial) return LOUPE_EINVAL;
    loupe_storage *s = trial->study->storage;
    if (n_choices > 0 && !choices) return loupe__error(s, LOUPE_EINVAL, "choices is NULL");
    char **json = calloc(n_choices ? n_choices : 1, sizeof *json);
    if (!json) return oom(s);
    int rc = LOUPE_OK;
    for (size_t i = 0; i < n_choices && rc == LOUPE_OK; i++) {
        if (!choices[i]) {
            rc = loupe__error(s, LOUPE_EINVAL, "choice %zu is NULL", i);
            break;
        }
        loupe__buf b;
        loupe__buf_init(&b, 0);
        loupe__pyjson_string(&b, choices[i], strlen(choices[i]));
        json[i] = loupe__buf_steal(&b);
        if (!json[i]) rc = oom(s);
    }
    size_t idx = 0;
    if (rc == LOUPE_OK)
        rc = loupe_trial_suggest_categorical(trial, name, n_choices, (const char *const *)json, &idx);
    if (rc == LOUPE_OK && out) *out = choices[idx];
    for (size_t i = 0; i < n_choices; i++) free(json[i]);
    free(json);
    return rc;
}

/* ---------------------------------------------------------------- report and attrs */

int loupe_trial_report(loupe_trial *trial, double value, int64_t step) {
    if (!trial) return LOUPE_EINVAL;
    loupe_storage *s = trial->study->storage;
    loupe__error_clear(s);
    if (trial->study->n_directions > 1)
        return loupe__error(s, LOUPE_ESTATE,
                            "Trial.report is not supported for multi-objective optimization.");
    if (step < 0)
        return loupe__error(s, LOUPE_EINVAL, "The `step` argument is %lld but cannot be negative.",
                            (long long)step);
    for (size_t i = 0; i < trial->rec->t.n_intermediate; i++)
        if (trial->rec->t.intermediate[i].step == step) return LOUPE_OK; /* Optuna ignores repeats */
    loupe_intermediate iv = {step, value};
    loupe__trial_update u;
    memset(&u, 0, sizeof u);
    u.n_intermediate = 1;
    u.intermediate = &iv;
    return write_update(trial, &u, NULL);
}

static int set_trial_attr(loupe_trial *trial, int system, const char *key, const char *json) {
    if (!trial) return LOUPE_EINVAL;
    loupe_storage *s = trial->study->storage;
    loupe__error_clear(s);
    if (!key) return loupe__error(s, LOUPE_EINVAL, "attribute key is NULL");
    if (strlen(key) > 512) return loupe__error(s, LOUPE_EINVAL, "attribute key longer than 512 characters");
    char *norm = NULL;
    char err[200];
    int jr = loupe__pyjson_normalize(json, &norm, err, sizeof err);
    if (jr == -2) return oom(s);
    if (jr) return loupe__error(s, LOUPE_EINVAL, "value of attribute '%s' is not JSON: %s", key, err);
    if (trial->provisional) { /* inserted with the row (ask_new) */
        int prc = system ? loupe__trial_rec_put_system_attr(trial->rec, key, norm)
                         : loupe__trial_rec_put_user_attr(trial->rec, key, norm);
        free(norm);
        return prc ? oom(s) : LOUPE_OK;
    }
    loupe_attr a = {key, norm};
    loupe__trial_update u;
    memset(&u, 0, sizeof u);
    if (system) {
        u.n_system_attrs = 1;
        u.system_attrs = &a;
    } else {
        u.n_user_attrs = 1;
        u.user_attrs = &a;
    }
    int rc = write_update(trial, &u, NULL);
    free(norm);
    return rc;
}

int loupe_trial_set_user_attr(loupe_trial *trial, const char *key, const char *json) {
    return set_trial_attr(trial, 0, key, json);
}

int loupe_trial_set_system_attr(loupe_trial *trial, const char *key, const char *json) {
    return set_trial_attr(trial, 1, key, json);
}

/* ---------------------------------------------------------------- tell */

int loupe_trial_tell(loupe_trial *trial, loupe_trial_state state, size_t n_values,
                     const double *values, unsigned flags) {
    if (!trial) return LOUPE_EINVAL;
    loupe_study *study = trial->study;
    loupe_storage *s = study->storage;
    loupe__error_clear(s);
    long long number = (long long)trial->rec->t.number;

    /* The handle's view of the state; the storage re-checks it inside the write
     * (another process may have told the trial meanwhile: see below). */
    loupe_trial_state now = trial->rec->t.state;
    double last_iv = NAN;
    if (trial->rec->t.n_intermediate)
        last_iv = trial->rec->t.intermediate[trial->rec->t.n_intermediate - 1].value;
    int rc;

    if (loupe_trial_state_is_finished(now)) {
        if (flags & LOUPE_TELL_SKIP_IF_FINISHED) return LOUPE_OK;
        return loupe__error(s, LOUPE_EFINISHED, "Cannot tell a %s trial (Trial#%lld).",
                            loupe_trial_state_name(now), number);
    }
    if (now == LOUPE_WAITING)
        return loupe__error(s, LOUPE_ESTATE, "Cannot tell a WAITING trial (Trial#%lld); ask it first.",
                            number);
    if (state != LOUPE_COMPLETE && state != LOUPE_PRUNED && state != LOUPE_FAIL)
        return loupe__error(s, LOUPE_EINVAL,
                            "Cannot tell with state %s; use COMPLETE, PRUNED or FAIL.",
                            loupe_trial_state_name(state) ? loupe_trial_state_name(state) : "(unknown)");
    if (state == LOUPE_COMPLETE) {
        if (!values || n_values != study->n_directions)
            return loupe__error(s, LOUPE_EINVAL,
                                "The number of the values %zu did not match the number of the objectives %zu.",
                                values ? n_values : 0, study->n_directions);
        for (size_t i = 0; i < n_values; i++)
            if (isnan(values[i]))
                return loupe__error(s, LOUPE_EINVAL,
                                    "The value nan is not acceptable: objective %zu of Trial#%lld is NaN.",
                                    i, number);
    } else if (n_values > 0) {
        return loupe__error(s, LOUPE_EINVAL, "No values may be given when telling a %s trial.",
                            loupe_trial_state_name(state));
    }
    double pruned_value[1];
    if (state == LOUPE_PRUNED && !isnan(last_iv) && study->n_directions == 1) {
        pruned_value[0] = last_iv;
        values = pruned_value;
        n_values = 1;
    }
    const loupe__sampler_ops *ops = study->sampler->ops;
    if (ops->after_trial) {
        rc = ops->after_trial(study->sampler, study, trial, state, n_values, values);
        if (rc) return rc;
    }
    loupe__trial_update u;
    memset(&u, 0, sizeof u);
    u.set_state = 1;
    u.state = state;
    u.n_values = n_values;
    u.values = values;
    u.now_us = loupe__now_us(); /* so the snapshot below matches the stored row */
    int changed = 0;
    rc = write_update(trial, &u, &changed);
    if (rc == LOUPE_EFINISHED) { /* told elsewhere since this handle last looked */
        loupe__trial_rec *cur = NULL;
        if (s->ops->read_trial(s, trial->rec->t.trial_id, &cur) == LOUPE_OK) {
            loupe_trial_state stored = cur->t.state;
            loupe__trial_rec_release(trial->rec);
            trial->rec = cur;
            trial->n_flushed_params = cur->t.n_params;
            if (flags & LOUPE_TELL_SKIP_IF_FINISHED) {
                loupe__error_clear(s);
                return LOUPE_OK;
            }
            return loupe__error(s, LOUPE_EFINISHED, "Cannot tell a %s trial (Trial#%lld).",
                                loupe_trial_state_name(stored), number);
        }
    }
    if (rc) return rc;
    /* mirror the stored row: state, values and the time the storage stamped */
    trial->rec->t.state = state;
    trial->rec->t.datetime_complete_us = u.now_us;
    if (loupe__trial_rec_set_values(trial->rec, n_values, values)) return oom(s);
    return LOUPE_OK;
}

int loupe_study_tell(loupe_study *study, int64_t number, loupe_trial_state state,
                     size_t n_values, const double *values, unsigned flags) {
    if (!study) return LOUPE_EINVAL;
    loupe_trial *t;
    int rc = loupe_study_trial(study, number, &t);
    if (rc == LOUPE_ENOTFOUND)
        return loupe__error(study->storage, LOUPE_ENOTFOUND,
                            "Cannot tell for trial with number %lld since it has not been created.",
                            (long long)number);
    if (rc) return rc;
    rc = loupe_trial_tell(t, state, n_values, values, flags);
    loupe_trial_free(t);
    return rc;
}

/* ---------------------------------------------------------------- enqueue */

static int object_or_null(loupe_storage *s, const char *what, const char *json, yyjson_doc **out) {
    *out = NULL;
    if (!json) return LOUPE_OK;
    char err[200];
    *out = loupe__pyjson_parse(json, strlen(json), err, sizeof err);
    if (!*out) return loupe__error(s, LOUPE_EINVAL, "%s is not JSON: %s", what, err);
    if (!yyjson_is_obj(yyjson_doc_get_root(*out))) {
        yyjson_doc_free(*out);
        *out = NULL;
        return loupe__error(s, LOUPE_EINVAL, "%s must be a JSON object like {\"x\": 1.5}.", what);
    }
    return LOUPE_OK;
}

int loupe_study_enqueue_trial(loupe_study *study, const char *params_json,
                              const char *user_attrs_json, int64_t *number) {
    if (!study) return LOUPE_EINVAL;
    loupe_storage *s = study->storage;
    loupe__error_clear(s);
    yyjson_doc *params = NULL, *attrs = NULL;
    loupe__trial_rec *tmpl = NULL;
    loupe__buf b;
    loupe__buf_init(&b, 0);
    int rc = object_or_null(s, "params_json", params_json ? params_json : "{}", &params);
    if (rc) goto cleanup;
    rc = object_or_null(s, "user_attrs_json", user_attrs_json, &attrs);
    if (rc) goto cleanup;
    tmpl = loupe__trial_rec_new();
    if (!tmpl) {
        rc = oom(s);
        goto cleanup;
    }
    tmpl->t.state = LOUPE_WAITING;
    loupe__pyjson_value(&b, yyjson_doc_get_root(params));
    if (b.failed || loupe__trial_rec_add_system_attr(tmpl, "fixed_params", b.data)) {
        rc = oom(s);
        goto cleanup;
    }
    if (attrs) {
        size_t idx, max;
        yyjson_val *k, *v;
        yyjson_obj_foreach(yyjson_doc_get_root(attrs), idx, max, k, v) {
            loupe__buf_reset(&b);
            loupe__pyjson_value(&b, v);
            if (b.failed || loupe__trial_rec_add_user_attr(tmpl, yyjson_get_str(k), b.data)) {
                rc = oom(s);
                goto cleanup;
            }
        }
    }
    int64_t trial_id, num;
    rc = s->ops->create_trial(s, study->study_id, &tmpl->t, &trial_id, &num);
    if (rc == LOUPE_OK && number) *number = num;
cleanup:
    loupe__buf_free(&b);
    loupe__trial_rec_release(tmpl);
    if (params) yyjson_doc_free(params);
    if (attrs) yyjson_doc_free(attrs);
    return rc;
}
