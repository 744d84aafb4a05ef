/* errors.h -- setting the message of the last error on a storage handle. */
#ifndef LOUPE_CORE_ERRORS_H
#define LOUPE_CORE_ERRORS_H

#include "loupe.h"

/* Records code and a printf-formatted message on the storage; returns code so
 * callers can write `return loupe__error(s, LOUPE_EINVAL, "...")`. */
int loupe__error(loupe_storage *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Resets the message to "not an error". */
void loupe__error_clear(loupe_storage *s);

/* Clears the message and returns LOUPE_OK if the handle opened successfully;
 * otherwise LOUPE_ESTATE, keeping the open error's message. */
int loupe__storage_usable(loupe_storage *s);

#endif
