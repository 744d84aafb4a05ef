/* errors.c -- status code names, the per-handle error message, and small enum helpers. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/storage.h"

const char *loupe_strerror(int status) {
    switch (status) {
    case LOUPE_OK: return "not an error";
    case LOUPE_ERROR: return "internal error";
    case LOUPE_EINVAL: return "invalid argument";
    case LOUPE_ENOTFOUND: return "not found";
    case LOUPE_EEXISTS: return "already exists";
    case LOUPE_EFINISHED: return "trial has already finished";
    case LOUPE_EINCOMPAT: return "incompatible parameter distribution";
    case LOUPE_ESTATE: return "not allowed in the current state";
    case LOUPE_ESCHEMA: return "database schema revision not supported";
    case LOUPE_ECORRUPT: return "not an Optuna database or damaged contents";
    case LOUPE_EIO: return "input/output error";
    case LOUPE_EBUSY: return "database is busy";
    case LOUPE_ENOMEM: return "out of memory";
    case LOUPE_EURL: return "invalid storage URL";
    case LOUPE_ENOTRIAL: return "no trial qualifies";
    case LOUPE_ECONFLICT: return "conflicting concurrent write";
    default: return "unknown status code";
    }
}

const char *loupe_version(void) { return LOUPE_VERSION; }

void loupe_free(void *ptr) { free(ptr); }

int loupe__error(loupe_storage *s, int code, const char *fmt, ...) {
    if (!s) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    s->errcode = code;
    return code;
}

void loupe__error_clear(loupe_storage *s) {
    if (!s) return;
    strcpy(s->errmsg, "not an error");
    s->errcode = LOUPE_OK;
}

const char *loupe_storage_errmsg(const loupe_storage *storage) {
    if (!storage) return "out of memory (no storage handle)";
    return storage->errmsg[0] ? storage->errmsg : "not an error";
}

static const char *const state_names[] = {"RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"};

const char *loupe_trial_state_name(loupe_trial_state state) {
    if ((unsigned)state > LOUPE_WAITING) return NULL;
    return state_names[state];
}

int loupe_trial_state_parse(const char *name) {
    if (!name) return -1;
    for (int i = 0; i <= LOUPE_WAITING; i++)
        if (strcasecmp(name, state_names[i]) == 0) return i;
    return -1;
}

int loupe_trial_state_is_finished(loupe_trial_state state) {
    return state == LOUPE_COMPLETE || state == LOUPE_PRUNED || state == LOUPE_FAIL;
}
