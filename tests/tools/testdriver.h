/*
 * testdriver.h -- shared pieces of loupe-testdriver, the process-level test
 * program that the interop, concurrency and crash tests (tests/interop/test_*.sh)
 * run: a canonical JSON dump of a storage, the loupe-side writing scenario, and
 * the worker/reader/claimer/crash loops. Uses only the public API (loupe.h).
 */
#ifndef LOUPE_TESTDRIVER_H
#define LOUPE_TESTDRIVER_H

#include <stdio.h>

#include "loupe.h"

/* Prints "<what> failed: <status name> (<code>): <message>" to stderr and
 * returns the status (so callers can `return td_fail(...)`). */
int td_fail(const char *what, int status, const char *message);

/* Writes every study of the storage as one canonical JSON document (the format
 * is described in td_dump.c and matched by tests/interop/optuna_peer.py dump).
 * Returns LOUPE_OK or the first failing status (message on stderr). */
int td_dump(loupe_storage *storage, FILE *out);

/* Writes the loupe-side interop scenario (studies "loupe-single",
 * "loupe-multi", "loupe-empty"; see td_scenario.c) into an empty storage. */
int td_write_scenario(loupe_storage *storage);

#endif
