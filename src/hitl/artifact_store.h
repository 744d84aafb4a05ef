/* artifact_store.h -- the artifact store handle's layout and its internal helpers (src/hitl only). */
#ifndef LOUPE_HITL_ARTIFACT_STORE_H
#define LOUPE_HITL_ARTIFACT_STORE_H

#include "loupe.h"

struct loupe_artifact_store {
    const loupe_artifact_store_ops *ops;
    void *impl;
    char errmsg[1024];
};

/* Sets the store's message; returns code. */
int loupe__store_error(loupe_artifact_store *store, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* LOUPE_OK for a well-formed UUID, else LOUPE_EINVAL with a message. */
int loupe__store_check_id(loupe_artifact_store *store, const char *artifact_id);

#endif
