/*
 * postgres.h -- the entry points of the PostgreSQL storage that the URL
 * dispatch (src/core/storage_open.c) calls. The storage itself implements the
 * vtable of storage.h; see postgres.c.
 */
#ifndef LOUPE_STORAGE_POSTGRES_H
#define LOUPE_STORAGE_POSTGRES_H

#include "storage/storage.h"

/* Non-zero for URLs this storage serves: postgresql://, postgres:// and
 * SQLAlchemy's postgresql+<driver>:// (e.g. postgresql+psycopg2://). */
int loupe__pg_is_url(const char *url);

/* Opens (and on an empty database creates) Optuna's schema in the database the
 * URL names. Sets *out even on error when it could allocate a handle. */
int loupe__pg_storage_open(const char *url, unsigned flags, loupe_storage **out);

/* Upgrades a database at revision v3.0.0.d (Optuna 3.0/3.1) to v3.2.0.a (see
 * loupe_storage_upgrade). Older revisions are refused with a message naming
 * `optuna storage upgrade`. */
int loupe__pg_storage_upgrade(const char *url, int *upgraded, char **message);

#endif
