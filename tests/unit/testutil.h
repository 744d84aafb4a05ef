/* testutil.h -- shared helpers for the cmocka unit tests: temporary paths,
 * storage URLs, fixture copies, whole-file reads, SQL run on a database file
 * through a separate connection, distribution constructors and finding a
 * Python that has optuna. The helpers that can fail end the test with a
 * cmocka failure. */
#ifndef LOUPE_TESTUTIL_H
#define LOUPE_TESTUTIL_H

#include <stddef.h>

#include "loupe.h"

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
/* Writes "<tmpdir>/<name>" into out and removes any old file there. */
void tu_fresh_path(char *out, size_t cap, const char *name);
/* Copies tests/data/fixtures/<rel> to a fresh "<tmpdir>/<name>" (mode 0644;
 * tests never open the original) and writes that path into out. */
void tu_copy_fixture(const char *rel, const char *name, char *out, size_t cap);
/* The whole file, NUL-terminated, malloc'd (caller frees); NULL if it cannot
 * be opened. *len receives its size. */
char *tu_read_file(const char *path, size_t *len);
/* 1 when the file holds exactly the alen bytes at a. */
int tu_same_bytes(const char *a, size_t alen, const char *path);

/* SQL on a database file through a separate SQLite connection (busy timeout
 * 10 s). tu_sql_rows returns the rows as "c1|c2\n" (NULL as "NULL"),
 * malloc'd; tu_sql_expect fails the test unless they equal expected;
 * tu_sql_exec runs statements (creating the file if needed). */
char *tu_sql_rows(const char *path, const char *sql);
void tu_sql_expect(const char *path, const char *sql, const char *expected);
void tu_sql_exec(const char *path, const char *sql);

/* Fails the test unless loupe_storage_list_study_heads lists what list (from
 * loupe_storage_list_studies) holds, minus the trial aggregates (-1). */
void tu_expect_heads_match(loupe_storage *storage, const loupe_study_list *list);

/* The first of "python3" and "/usr/bin/python3" that can import optuna, or
 * NULL (the tests that need Python Optuna then skip). */
const char *tu_python_with_optuna(void);

/* Distributions by value (categorical choices are borrowed). */
loupe_distribution tu_float_dist(double low, double high, double step, int log);
loupe_distribution tu_int_dist(double low, double high, double step, int log);
loupe_distribution tu_cat_dist(size_t n, const char *const *choices);

#endif
