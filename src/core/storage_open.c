/*
 * storage_open.c -- opening storages by URL and the storage-level public API
 * (list, delete, upgrade, data version), plus the study-list and study-info
 * containers that storages fill.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "storage/postgres.h"
#include "storage/storage.h"

/* A handle that only carries an error message, for URLs that name no storage. */
static void error_handle_close(loupe_storage *s) { free(s); }
static const loupe__storage_ops error_ops = {.name = "error", .close = error_handle_close};

static int error_handle(loupe_storage **out, int code, const char *fmt, const char *arg) {
    loupe_storage *s = calloc(1, sizeof *s);
    *out = s;
    if (!s) return LOUPE_ENOMEM;
    s->ops = &error_ops;
    loupe__error(s, code, fmt, arg);
    return code;
}

/* Splits "sqlite:///rel" / "sqlite:////abs" into a path; NULL if malformed. */
static const char *sqlite_path(const char *url) {
    const char *prefix = "sqlite:///";
    if (strncmp(url, prefix, strlen(prefix)) != 0) return NULL;
    const char *path = url + strlen(prefix);
    if (!*path || strchr(path, '?')) return NULL;
    return path;
}

int loupe_storage_open(const char *url, unsigned flags, loupe_storage **out) {
    if (!out) return LOUPE_EINVAL;
    *out = NULL;
    if (!url || !*url)
        return error_handle(out, LOUPE_EURL, "%s",
                            "No storage URL given. Use sqlite:///path.db (relative), sqlite:////abs/path.db or :memory:.");
    if (strcmp(url, ":memory:") == 0) return loupe__memory_storage_open(out);
    if (strncmp(url, "sqlite:", 7) == 0) {
        const char *path = sqlite_path(url);
        if (!path)
            return error_handle(out, LOUPE_EURL,
                                "Malformed SQLite URL '%s'. Write sqlite:///relative/path.db or sqlite:////absolute/path.db (no query string).",
                                url);
        return loupe__sqlite_storage_open(path, flags, out);
    }
    if (loupe__pg_is_url(url)) return loupe__pg_storage_open(url, flags, out);
    if (strncmp(url, "mysql", 5) == 0)
        return error_handle(out, LOUPE_EURL,
                            "Storage URL '%s' names a MySQL server, which loupe does not support. Use postgresql://user:password@host/db or sqlite:///path.db.",
                            url);
    return error_handle(out, LOUPE_EURL,
                        "Unknown storage URL '%s'. Use sqlite:///relative/path.db, sqlite:////absolute/path.db or :memory:.",
                        url);
}

void loupe_storage_close(loupe_storage *storage) {
    if (storage) storage->ops->close(storage);
}

const char *loupe_storage_schema_revision(const loupe_storage *storage) {
    return storage && storage->schema_revision[0] ? storage->schema_revision : LOUPE__SCHEMA_HEAD;
}

/* Refuses operations on a handle that failed to open. */
static int usable(loupe_storage *s) {
    if (!s) return LOUPE_EINVAL;
    if (s->ops == &error_ops || !s->ops->create_study)
        return LOUPE_ESTATE; /* keep the open error's message */
    loupe__error_clear(s);
    return LOUPE_OK;
}

int loupe__storage_usable(loupe_storage *s) { return usable(s); }

int loupe_storage_upgrade(const char *url, int *upgraded, char **message) {
    int dummy;
    if (!upgraded) upgraded = &dummy;
    *upgraded = 0;
    if (message) *message = NULL;
    const char *path = url ? sqlite_path(url) : NULL;
    if (url && strcmp(url, ":memory:") == 0) {
        if (message) *message = strdup("This storage is up-to-date.");
        return LOUPE_OK;
    }
    if (!path && loupe__pg_is_url(url)) return loupe__pg_storage_upgrade(url, upgraded, message);
    if (!path) {
        if (message) {
            char buf[600];
            snprintf(buf, sizeof buf,
                     "Cannot upgrade '%s': only SQLite (sqlite:///path.db) and PostgreSQL (postgresql://...) URLs can be upgraded.",
                     url ? url : "(null)");
            *message = strdup(buf);
        }
        return LOUPE_EURL;
    }
    return loupe__sqlite_storage_upgrade(path, upgraded, message);
}

int loupe_storage_data_version(loupe_storage *storage, uint64_t *version) {
    int rc = usable(storage);
    if (rc) return rc;
    return storage->ops->data_version(storage, version);
}

int loupe_storage_delete_study(loupe_storage *storage, const char *study_name) {
    int rc = usable(storage);
    if (rc) return rc;
    if (!study_name) return loupe__error(storage, LOUPE_EINVAL, "study name is NULL");
    int64_t id;
    rc = storage->ops->find_study(storage, study_name, &id);
    if (rc) return rc;
    return storage->ops->delete_study(storage, id);
}

/* ---------------------------------------------------------------- study info and list */

static void free_attrs(loupe_attr *a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free((char *)a[i].key);
        free((char *)a[i].json);
    }
    free(a);
}

void loupe__study_info_free(loupe__study_info *info) {
    if (!info) return;
    free(info->name);
    free(info->directions);
    free_attrs(info->user_attrs, info->n_user_attrs);
    free_attrs(info->system_attrs, info->n_system_attrs);
    memset(info, 0, sizeof *info);
}

struct loupe_study_list {
    loupe_study_summary *items;
    loupe__study_info *infos; /* owners of the summaries' memory */
    size_t len;
    size_t alloc;
};

loupe_study_list *loupe__study_list_new(void) { return calloc(1, sizeof(loupe_study_list)); }

int loupe__study_list_push(loupe_study_list *list, loupe__study_info *info, int64_t n_trials,
                           int64_t datetime_start_us) {
    if (list->len == list->alloc) {
        size_t na = list->alloc ? list->alloc * 2 : 8;
        loupe_study_summary *items = realloc(list->items, na * sizeof *items);
        if (!items) return LOUPE_ENOMEM;
        list->items = items;
        loupe__study_info *infos = realloc(list->infos, na * sizeof *infos);
        if (!infos) return LOUPE_ENOMEM;
        list->infos = infos;
        list->alloc = na;
        /* summaries point into infos: re-point after the move */
        for (size_t i = 0; i < list->len; i++) {
            list->items[i].name = list->infos[i].name;
            list->items[i].directions = list->infos[i].directions;
            list->items[i].user_attrs = list->infos[i].user_attrs;
            list->items[i].system_attrs = list->infos[i].system_attrs;
        }
    }
    loupe__study_info *own = &list->infos[list->len];
    *own = *info;
    memset(info, 0, sizeof *info);
    loupe_study_summary *s = &list->items[list->len];
    s->study_id = own->study_id;
    s->name = own->name;
    s->n_directions = own->n_directions;
    s->directions = own->directions;
    s->n_user_attrs = own->n_user_attrs;
    s->user_attrs = own->user_attrs;
    s->n_system_attrs = own->n_system_attrs;
    s->system_attrs = own->system_attrs;
    s->n_trials = n_trials;
    s->datetime_start_us = datetime_start_us;
    list->len++;
    return LOUPE_OK;
}

int loupe_storage_list_studies(loupe_storage *storage, loupe_study_list **out) {
    if (!out) return LOUPE_EINVAL;
    *out = NULL;
    int rc = usable(storage);
    if (rc) return rc;
    return storage->ops->list_studies(storage, out);
}

int loupe_storage_list_study_heads(loupe_storage *storage, loupe_study_list **out) {
    if (!out) return LOUPE_EINVAL;
    *out = NULL;
    int rc = usable(storage);
    if (rc) return rc;
    return storage->ops->list_study_heads(storage, out);
}

size_t loupe_study_list_count(const loupe_study_list *list) { return list ? list->len : 0; }

const loupe_study_summary *loupe_study_list_at(const loupe_study_list *list, size_t i) {
    return list && i < list->len ? &list->items[i] : NULL;
}

void loupe_study_list_free(loupe_study_list *list) {
    if (!list) return;
    for (size_t i = 0; i < list->len; i++) loupe__study_info_free(&list->infos[i]);
    free(list->infos);
    free(list->items);
    free(list);
}
