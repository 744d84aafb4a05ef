/*
 * study_attrs.c -- setting study attributes, one or several in one storage
 * transaction (loupe_study_set_system_attrs / loupe_study_set_user_attrs), so
 * that multi-key records such as chunked notes are never half written, and
 * optionally only if a guard attribute is unchanged (compare-and-set).
 * Added for the HITL layer; built on public getters and the storage vtable.
 */
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "loupe.h"
#include "storage/storage.h"
#include "util/pyjson.h"

static int set_attrs(loupe_study *study, int system, size_t n, const loupe_attr *attrs,
                     const loupe_attr *guard) {
    if (!study) return LOUPE_EINVAL;
    loupe_storage *s = loupe_study_storage(study);
    loupe__error_clear(s);
    if (guard && !guard->key)
        return loupe__error(s, LOUPE_EINVAL, "guard_key is NULL: name the attribute to compare");
    if (n == 0 && !guard) return LOUPE_OK;
    if (n && !attrs) return loupe__error(s, LOUPE_EINVAL, "attrs is NULL but n is %zu", n);
    loupe_attr *norm = calloc(n ? n : 1, sizeof *norm);
    if (!norm) return loupe__error(s, LOUPE_ENOMEM, "out of memory");
    int rc = LOUPE_OK;
    for (size_t i = 0; i < n; i++) {
        const char *key = attrs[i].key;
        if (!key) {
            rc = loupe__error(s, LOUPE_EINVAL, "attribute key %zu is NULL", i);
            goto cleanup;
        }
        if (strlen(key) > 512) {
            rc = loupe__error(s, LOUPE_EINVAL,
                              "attribute key '%.60s...' is longer than 512 characters (Optuna's "
                              "key column limit): use a shorter key",
                              key);
            goto cleanup;
        }
        char err[200];
        char *json = NULL;
        int jr = loupe__pyjson_normalize(attrs[i].json, &json, err, sizeof err);
        if (jr == -2) {
            rc = loupe__error(s, LOUPE_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (jr) {
            rc = loupe__error(s, LOUPE_EINVAL,
                              "value of attribute '%s' is not JSON: %s (pass JSON text, e.g. "
                              "\"\\\"text\\\"\" for a string)",
                              key, err);
            goto cleanup;
        }
        norm[i].key = key;
        norm[i].json = json;
    }
    rc = s->ops->set_study_attrs(s, loupe_study_id(study), system, n, norm, guard);
cleanup:
    for (size_t i = 0; i < n; i++) free((char *)norm[i].json);
    free(norm);
    return rc;
}

int loupe_study_set_system_attrs(loupe_study *study, size_t n, const loupe_attr *attrs) {
    return set_attrs(study, 1, n, attrs, NULL);
}

int loupe_study_set_user_attrs(loupe_study *study, size_t n, const loupe_attr *attrs) {
    return set_attrs(study, 0, n, attrs, NULL);
}

int loupe_study_set_system_attrs_if(loupe_study *study, const char *guard_key,
                                    const char *guard_json, size_t n, const loupe_attr *attrs) {
    loupe_attr guard = {guard_key, guard_json};
    return set_attrs(study, 1, n, attrs, &guard);
}
