/* api_util.c -- small helpers shared by the API handlers: status mapping,
 * loading a study by id on a pooled storage handle, JSON re-encoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"
#include "util/pyjson.h"

unsigned loupe__http_status(int rc) {
    switch (rc) {
    case LOUPE_OK: return 200;
    case LOUPE_EINVAL:
    case LOUPE_EEXISTS:
    case LOUPE_EINCOMPAT:
    case LOUPE_ESTATE:
    case LOUPE_EURL: return 400;
    case LOUPE_ENOTFOUND:
    case LOUPE_ENOTRIAL: return 404;
    case LOUPE_EFINISHED:
    case LOUPE_ECONFLICT: return 409;
    case LOUPE_EBUSY: return 503;
    default: return 500;
    }
}

void loupe__resp_lib_error(loupe__resp *resp, int rc, const char *msg) {
    loupe__resp_error(resp, loupe__http_status(rc), "%s", msg && *msg ? msg : loupe_strerror(rc));
    if (rc == LOUPE_EBUSY) loupe__resp_header(resp, "Retry-After", "1");
}

char *loupe__api_study_name(loupe__req *req, int64_t sid, loupe__resp *resp) {
    loupe__snap *snap = loupe__views_study(req->srv->views, sid, 0);
    char *name = snap ? strdup(snap->name) : NULL;
    if (!snap) loupe__resp_error(resp, 404, "study_id=%lld is not found", (long long)sid);
    else if (!name) loupe__resp_error(resp, 500, "out of memory");
    loupe__snap_release(snap);
    return name;
}

int loupe__api_load_study(loupe__slot *slot, const char *name, int64_t sid, loupe_study **out,
                          loupe__resp *resp) {
    *out = NULL;
    int rc = loupe_study_load(slot->storage, name, out);
    if (rc == LOUPE_ENOTFOUND) {
        loupe__resp_error(resp, 404, "study_id=%lld is not found", (long long)sid);
        return -1;
    }
    if (rc) {
        loupe__resp_lib_error(resp, rc, loupe_storage_errmsg(slot->storage));
        return -1;
    }
    return 0;
}

char *loupe__json_text(yyjson_val *v) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__pyjson_value(&b, v);
    return loupe__buf_steal(&b);
}
