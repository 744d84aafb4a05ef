/* testutil.c -- shared helpers for the cmocka unit tests (see testutil.h). */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "util/buf.h"

static char tmpdir_path[512];

const char *tu_tmpdir(void) {
    if (tmpdir_path[0]) return tmpdir_path;
    const char *base = getenv("LOUPE_TEST_TMP");
    if (!base || !*base) base = "/tmp";
    mkdir(base, 0700);
    snprintf(tmpdir_path, sizeof tmpdir_path, "%s/loupe-test-XXXXXX", base);
    if (!mkdtemp(tmpdir_path)) {
        perror("mkdtemp");
        abort();
    }
    return tmpdir_path;
}

void tu_path(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", tu_tmpdir(), name);
}

void tu_sqlite_url(char *out, size_t cap, const char *name) {
    char path[768];
    tu_path(path, sizeof path, name);
    unlink(path);
    snprintf(out, cap, "sqlite:///%s", path);
}

const char *tu_datadir(void) {
    const char *d = getenv("LOUPE_TEST_DATA");
    return d && *d ? d : "tests/data";
}

int tu_copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    if (!in) return -1;
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) rc = -1;
    if (ferror(in)) rc = -1;
    fclose(in);
    if (fclose(out) != 0) rc = -1;
    return rc;
}

void tu_fresh_path(char *out, size_t cap, const char *name) {
    tu_path(out, cap, name);
    unlink(out);
}

void tu_copy_fixture(const char *rel, const char *name, char *out, size_t cap) {
    char from[1024];
    snprintf(from, sizeof from, "%s/fixtures/%s", tu_datadir(), rel);
    tu_fresh_path(out, cap, name);
    if (tu_copy_file(from, out) != 0) {
        fprintf(stderr, "cannot copy fixture %s to %s\n", from, out);
        fail();
    }
    chmod(out, 0644);
}

char *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[got] = '\0';
    *len = got;
    return buf;
}

int tu_same_bytes(const char *a, size_t alen, const char *path) {
    size_t blen = 0;
    char *b = tu_read_file(path, &blen);
    int same = b && alen == blen && memcmp(a, b, alen) == 0;
    free(b);
    return same;
}

static sqlite3 *sql_open(const char *path, int flags) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        fail();
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

char *tu_sql_rows(const char *path, const char *sql) {
    sqlite3 *db = sql_open(path, SQLITE_OPEN_READWRITE);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "SQL error: %s in %s\n", sqlite3_errmsg(db), sql);
        sqlite3_close(db);
        fail();
    }
    loupe__buf out;
    loupe__buf_init(&out, 0);
    loupe__buf_append(&out, "", 0);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            if (c) loupe__buf_puts(&out, "|");
            loupe__buf_puts(&out, sqlite3_column_type(st, c) == SQLITE_NULL
                                      ? "NULL"
                                      : (const char *)sqlite3_column_text(st, c));
        }
        loupe__buf_puts(&out, "\n");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_DONE);
    assert_false(out.failed);
    return loupe__buf_steal(&out);
}

void tu_sql_expect(const char *path, const char *sql, const char *expected) {
    char *got = tu_sql_rows(path, sql);
    int same = strcmp(got, expected) == 0;
    if (!same)
        fprintf(stderr, "%s\nquery: %s\nexpected:\n%s\ngot:\n%s\n", path, sql, expected, got);
    free(got);
    if (!same) fail();
}

void tu_sql_exec(const char *path, const char *sql) {
    sqlite3 *db = sql_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fprintf(stderr, "SQL error: %s in %s\n", err, sql);
    sqlite3_free(err);
    sqlite3_close(db);
    if (rc != SQLITE_OK) fail();
}

loupe_distribution tu_float_dist(double low, double high, double step, int log) {
    loupe_distribution d = {LOUPE_DIST_FLOAT, low, high, step, log, 0, NULL};
    return d;
}

loupe_distribution tu_int_dist(double low, double high, double step, int log) {
    loupe_distribution d = {LOUPE_DIST_INT, low, high, step, log, 0, NULL};
    return d;
}

loupe_distribution tu_cat_dist(size_t n, const char *const *choices) {
    loupe_distribution d = {LOUPE_DIST_CATEGORICAL, 0, 0, 0, 0, n, choices};
    return d;
}

void tu_expect_heads_match(loupe_storage *storage, const loupe_study_list *list) {
    loupe_study_list *heads = NULL;
    assert_int_equal(loupe_storage_list_study_heads(storage, &heads), LOUPE_OK);
    assert_int_equal(loupe_study_list_count(heads), loupe_study_list_count(list));
    for (size_t i = 0; i < loupe_study_list_count(list); i++) {
        const loupe_study_summary *x = loupe_study_list_at(list, i);
        const loupe_study_summary *y = loupe_study_list_at(heads, i);
        assert_int_equal(y->study_id, x->study_id);
        assert_string_equal(y->name, x->name);
        assert_int_equal(y->n_directions, x->n_directions);
        for (size_t k = 0; k < x->n_directions; k++)
            assert_int_equal(y->directions[k], x->directions[k]);
        assert_int_equal(y->n_user_attrs, x->n_user_attrs);
        for (size_t k = 0; k < x->n_user_attrs; k++) {
            assert_string_equal(y->user_attrs[k].key, x->user_attrs[k].key);
            assert_string_equal(y->user_attrs[k].json, x->user_attrs[k].json);
        }
        assert_int_equal(y->n_system_attrs, x->n_system_attrs);
        for (size_t k = 0; k < x->n_system_attrs; k++) {
            assert_string_equal(y->system_attrs[k].key, x->system_attrs[k].key);
            assert_string_equal(y->system_attrs[k].json, x->system_attrs[k].json);
        }
        assert_int_equal(y->n_trials, -1);
        assert_int_equal(y->datetime_start_us, -1);
    }
    loupe_study_list_free(heads);
}

const char *tu_python_with_optuna(void) {
    static const char *const candidates[] = {"python3", "/usr/bin/python3"};
    for (size_t i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import optuna' >/dev/null 2>&1", candidates[i]);
        if (system(cmd) == 0) return candidates[i];
    }
    return NULL;
}
