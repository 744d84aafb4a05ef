/* testutil.h -- shared helpers for the cmocka unit tests: temporary paths and storage URLs. */
#ifndef LOUPE_TESTUTIL_H
#define LOUPE_TESTUTIL_H

#include <stddef.h>

/* A fresh, empty temporary directory for this test process (created once,
 * under $LOUPE_TEST_TMP or /tmp). */
const char *tu_tmpdir(void);
/* Writes "<tmpdir>/<name>" into out. */
void tu_path(char *out, size_t cap, const char *name);
/* Writes "sqlite:////<tmpdir>/<name>" into out, after removing any old file. */
void tu_sqlite_url(char *out, size_t cap, const char *name);
/* The directory of test data files (tests/data). */
const char *tu_datadir(void);
/* Copies a file; returns 0 on success. */
int tu_copy_file(const char *from, const char *to);

#endif
