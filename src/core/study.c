/* study.c -- creating, loading and closing studies; directions, metric names and study attributes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/errors.h"
#include "util/buf.h"
#include "util/pyjson.h"
#include "util/rng.h"
#include "util/uuid.h"

static int study_open(loupe_storage *s, int64_t study_id, loupe_study **out) {
    loupe_study *st = calloc(1, sizeof *st);
    if (!st) return loupe__error(s, LOUPE_ENOMEM, "out of memory");
    st->storage = s;
    st->study_id = study_id;
    st->max_trial_id = -1;
    int rc = s->ops->get_study(s, study_id, &st->info);
    if (rc) goto fail;
    st->name = strdup(st->info.name);
    st->n_directions = st->info.n_directions;
    st->directions = malloc((st->n_directions ? st->n_directions : 1) * sizeof *st->directions);
    if (!st->name || !st->directions) {
        rc = loupe__error(s, LOUPE_ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(st->directions, st->info.directions, st->n_directions * sizeof *st->directions);
    rc = loupe_sampler_random_new(loupe__rng_entropy_seed(), &st->sampler);
    if (rc) {
        rc = loupe__error(s, rc, "out of memory");
        goto fail;
    }
    *out = st;
    return LOUPE_OK;
fail:
    loupe_study_close(st);
    return rc;
}

static int check_directions(loupe_storage *s, size_t n, const loupe_direction *d) {
    if (n == 0 || !d)
        return loupe__error(s, LOUPE_EINVAL,
                            "A study needs at least one direction (LOUPE_MINIMIZE or LOUPE_MAXIMIZE).");
    for (size_t i = 0; i < n; i++)
        if (d[i] != LOUPE_MINIMIZE && d[i] != LOUPE_MAXIMIZE)
            return loupe__error(s, LOUPE_EINVAL,
                                "Direction %zu is %d; use LOUPE_MINIMIZE or LOUPE_MAXIMIZE.", i, (int)d[i]);
    return LOUPE_OK;
}

int loupe_study_create(loupe_storage *storage, const char *name, size_t n_directions,
                       const loupe_direction *directions, unsigned flags, loupe_study **out) {
    if (!out) return LOUPE_EINVAL;
    *out = NULL;
    int rc = loupe__storage_usable(storage);
    if (rc) return rc;
    rc = check_directions(storage, n_directions, directions);
    if (rc) return rc;
    char auto_name[64];
    if (!name) {
        char uuid[37];
        if (loupe__uuid4(uuid))
            return loupe__error(storage, LOUPE_EIO, "The OS random source failed; cannot name the study.");
        snprintf(auto_name, sizeof auto_name, "no-name-%s", uuid);
        name = auto_name;
    }
    if (!*name || strlen(name) > 512)
        return loupe__error(storage, LOUPE_EINVAL,
                            "A study name must have 1 to 512 characters (got %zu).", strlen(name));
    int64_t id;
    rc = storage->ops->create_study(storage, name, n_directions, directions, &id);
    if (rc == LOUPE_EEXISTS && (flags & LOUPE_LOAD_IF_EXISTS)) {
        rc = storage->ops->find_study(storage, name, &id);
        if (rc) return rc;
        rc = study_open(storage, id, out);
        if (rc) return rc;
        loupe_study *st = *out;
        int same = st->n_directions == n_directions &&
                   memcmp(st->directions, directions, n_directions * sizeof *directions) == 0;
        if (!same) {
            loupe_study_close(st);
            *out = NULL;
            return loupe__error(storage, LOUPE_EINVAL,
                                "Study '%s' already exists with other directions; load it with its own "
                                "directions or choose another name.",
                                name);
        }
        return LOUPE_OK;
    }
    if (rc) return rc;
    return study_open(storage, id, out);
}

int loupe_study_load(loupe_storage *storage, const char *name, loupe_study **out) {
    if (!out) return LOUPE_EINVAL;
    *out = NULL;
    int rc = loupe__storage_usable(storage);
    if (rc) return rc;
    if (!name) return loupe__error(storage, LOUPE_EINVAL, "study name is NULL");
    int64_t id;
    rc = storage->ops->find_study(storage, name, &id);
    if (rc) return rc;
    return study_open(storage, id, out);
}

void loupe_study_close(loupe_study *study) {
    if (!study) return;
    loupe__rec_vec_free(&study->trials);
    for (size_t i = 0; i < study->n_first_dists; i++) {
        free(study->first_dists[i].name);
        loupe__distribution_free(&study->first_dists[i].dist);
    }
    free(study->first_dists);
    loupe__study_info_free(&study->info);
    loupe_sampler_free(study->sampler);
    free(study->name);
    free(study->directions);
    free(study);
}

const char *loupe_study_errmsg(const loupe_study *study) {
    return study ? loupe_storage_errmsg(study->storage) : "no study handle";
}

void loupe_study_set_sampler(loupe_study *study, loupe_sampler *sampler) {
    if (!study || !sampler || study->sampler == sampler) return;
    loupe_sampler_free(study->sampler);
    study->sampler = sampler;
}

loupe_sampler *loupe_study_sampler(loupe_study *study) { return study ? study->sampler : NULL; }
int64_t loupe_study_id(const loupe_study *study) { return study ? study->study_id : -1; }
const char *loupe_study_name(const loupe_study *study) { return study ? study->name : NULL; }
size_t loupe_study_n_objectives(const loupe_study *study) { return study ? study->n_directions : 0; }
loupe_storage *loupe_study_storage(loupe_study *study) { return study ? study->storage : NULL; }

loupe_direction loupe_study_direction(const loupe_study *study, size_t objective) {
    if (!study || objective >= study->n_directions) return LOUPE_NOT_SET;
    return study->directions[objective];
}

/* ---------------------------------------------------------------- attributes */

static int refresh_info(loupe_study *study) {
    loupe__study_info fresh;
    memset(&fresh, 0, sizeof fresh);
    int rc = study->storage->ops->get_study(study->storage, study->study_id, &fresh);
    if (rc) return rc;
    loupe__study_info_free(&study->info);
    study->info = fresh;
    return LOUPE_OK;
}

static int set_attr(loupe_study *study, int system, const char *key, const char *json) {
    loupe_attr a = {key, json};
    return system ? loupe_study_set_system_attrs(study, 1, &a) : loupe_study_set_user_attrs(study, 1, &a);
}

int loupe_study_set_user_attr(loupe_study *study, const char *key, const char *json) {
    return set_attr(study, 0, key, json);
}

int loupe_study_set_system_attr(loupe_study *study, const char *key, const char *json) {
    return set_attr(study, 1, key, json);
}

static int get_attrs(loupe_study *study, int system, const loupe_attr **attrs, size_t *n) {
    if (!study || !attrs || !n) return LOUPE_EINVAL;
    loupe__error_clear(study->storage);
    int rc = refresh_info(study);
    if (rc) return rc;
    *attrs = system ? study->info.system_attrs : study->info.user_attrs;
    *n = system ? study->info.n_system_attrs : study->info.n_user_attrs;
    return LOUPE_OK;
}

int loupe_study_user_attrs(loupe_study *study, const loupe_attr **attrs, size_t *n) {
    return get_attrs(study, 0, attrs, n);
}

int loupe_study_system_attrs(loupe_study *study, const loupe_attr **attrs, size_t *n) {
    return get_attrs(study, 1, attrs, n);
}

static int get_attr(loupe_study *study, int system, const char *key, const char **json) {
    if (!key || !json) return LOUPE_EINVAL;
    const loupe_attr *a;
    size_t n;
    int rc = get_attrs(study, system, &a, &n);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i].key, key) == 0) {
            *json = a[i].json;
            return LOUPE_OK;
        }
    }
    *json = NULL;
    return loupe__error(study->storage, LOUPE_ENOTFOUND, "Study '%s' has no %s attribute '%s'.",
                        study->name, system ? "system" : "user", key);
}

int loupe_study_user_attr(loupe_study *study, const char *key, const char **json) {
    return get_attr(study, 0, key, json);
}

int loupe_study_system_attr(loupe_study *study, const char *key, const char **json) {
    return get_attr(study, 1, key, json);
}

int loupe_study_set_metric_names(loupe_study *study, size_t n, const char *const *names) {
    if (!study) return LOUPE_EINVAL;
    if (n != study->n_directions || !names)
        return loupe__error(study->storage, LOUPE_EINVAL,
                            "The number of objectives must match the length of the metric names "
                            "(%zu objectives, %zu names).",
                            study->n_directions, n);
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) {
            loupe__buf_free(&b);
            return loupe__error(study->storage, LOUPE_EINVAL, "metric name %zu is NULL", i);
        }
        if (i) loupe__buf_puts(&b, ", ");
        loupe__pyjson_string(&b, names[i], strlen(names[i]));
    }
    loupe__buf_putc(&b, ']');
    if (b.failed) {
        loupe__buf_free(&b);
        return loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
    }
    loupe_attr a = {"study:metric_names", b.data};
    loupe__error_clear(study->storage);
    int rc = study->storage->ops->set_study_attrs(study->storage, study->study_id, 1, 1, &a, NULL);
    loupe__buf_free(&b);
    return rc;
}

int loupe_study_metric_names(loupe_study *study, char **names_json) {
    if (!study || !names_json) return LOUPE_EINVAL;
    *names_json = NULL;
    const loupe_attr *a;
    size_t n;
    int rc = get_attrs(study, 1, &a, &n);
    if (rc) return rc;
    const char *legacy = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i].key, "study:metric_names") == 0) {
            *names_json = strdup(a[i].json);
            return *names_json ? LOUPE_OK : loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
        }
        if (strcmp(a[i].key, "dashboard:objective_names") == 0) legacy = a[i].json;
    }
    if (legacy) {
        *names_json = strdup(legacy);
        if (!*names_json) return loupe__error(study->storage, LOUPE_ENOMEM, "out of memory");
    }
    return LOUPE_OK;
}
