/*
 * test_hitl_notes.c -- study and trial notes: the exact keys and values
 * optuna-dashboard stores, chunking by code points at 2045 characters,
 * blanking on shrink, optimistic versions (conflicts return the current
 * note), legacy version forms, damaged notes and argument errors. Runs on the
 * memory and the SQLite storage (and, with LOUPE_TEST_PG_URL, the guarded
 * saves on PostgreSQL). Also the compare-and-set write under saves
 * (loupe_study_set_system_attrs_if) and processes saving at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "loupe.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/pyjson.h"

typedef struct fixture {
    loupe_storage *storage;
    loupe_study *study;
    int64_t tid; /* a trial's trial_id */
    char url[700];
} fixture;

static int counter;

static int setup_with(void **state, const char *url) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->url, sizeof f->url, "%s", url);
    assert_int_equal(loupe_storage_open(url, 0, &f->storage), LOUPE_OK);
    loupe_direction d = LOUPE_MINIMIZE;
    assert_int_equal(loupe_study_create(f->storage, "notes", 1, &d, 0, &f->study), LOUPE_OK);
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    f->tid = loupe_trial_id(t);
    loupe_trial_free(t);
    *state = f;
    return 0;
}

static int setup_memory(void **state) { return setup_with(state, ":memory:"); }

static int setup_sqlite(void **state) {
    char name[64], url[700];
    snprintf(name, sizeof name, "notes-%d.db", counter++);
    tu_sqlite_url(url, sizeof url, name);
    return setup_with(state, url);
}

/* PostgreSQL (LOUPE_TEST_PG_URL, set by tests/interop/test_postgres_storage.sh):
 * a fresh "notes" study in the given database. */
static int setup_pg(void **state) {
    const char *url = getenv("LOUPE_TEST_PG_URL");
    loupe_storage *s;
    assert_int_equal(loupe_storage_open(url, 0, &s), LOUPE_OK);
    int rc = loupe_storage_delete_study(s, "notes");
    assert_true(rc == LOUPE_OK || rc == LOUPE_ENOTFOUND);
    loupe_storage_close(s);
    return setup_with(state, url);
}

static int teardown(void **state) {
    fixture *f = *state;
    loupe_study_close(f->study);
    loupe_storage_close(f->storage);
    free(f);
    return 0;
}

static const char *sys_attr(loupe_study *s, const char *key) {
    const char *json = NULL;
    if (loupe_study_system_attr(s, key, &json) != LOUPE_OK) return NULL;
    return json;
}

static size_t count_prefix(loupe_study *s, const char *prefix) {
    const loupe_attr *a;
    size_t n, c = 0;
    assert_int_equal(loupe_study_system_attrs(s, &a, &n), LOUPE_OK);
    for (size_t i = 0; i < n; i++)
        if (strncmp(a[i].key, prefix, strlen(prefix)) == 0) c++;
    return c;
}

static void expect_note(loupe_study *s, int64_t tid, int64_t version, const char *body) {
    int64_t v = -5;
    char *b = NULL;
    assert_int_equal(loupe_note_get(s, tid, &v, &b), LOUPE_OK);
    assert_int_equal(v, version);
    assert_string_equal(b, body);
    loupe_free(b);
}

static void test_empty_and_first_save(void **state) {
    fixture *f = *state;
    expect_note(f->study, LOUPE_STUDY_NOTE, 0, "");
    expect_note(f->study, f->tid, 0, "");

    int64_t v = 0;
    const char *body = "## Trial 9\n\nr=241, \"g\"=133\t\\ caf\xc3\xa9 \xf0\x9f\x91\x8d\n";
    assert_int_equal(loupe_note_save(f->study, f->tid, 0, body, &v, NULL), LOUPE_OK);
    assert_int_equal(v, 1);
    char ver_key[64], chunk_key[64];
    snprintf(ver_key, sizeof ver_key, "dashboard:%lld:note_ver", (long long)f->tid);
    snprintf(chunk_key, sizeof chunk_key, "dashboard:%lld:note_str:0", (long long)f->tid);
    assert_string_equal(sys_attr(f->study, ver_key), "1");
    assert_string_equal(sys_attr(f->study, chunk_key),
                        "\"## Trial 9\\n\\nr=241, \\\"g\\\"=133\\t\\\\ caf\\u00e9 \\ud83d\\udc4d\\n\"");
    expect_note(f->study, f->tid, 1, body);
    /* The study note is separate. */
    expect_note(f->study, LOUPE_STUDY_NOTE, 0, "");
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 0, "# study", &v, NULL), LOUPE_OK);
    assert_string_equal(sys_attr(f->study, "dashboard:note_ver"), "1");
    assert_string_equal(sys_attr(f->study, "dashboard:note_str:0"), "\"# study\"");
    expect_note(f->study, LOUPE_STUDY_NOTE, 1, "# study");
    expect_note(f->study, f->tid, 1, body);

    /* Key order as Python writes: version first, then the chunks. */
    const loupe_attr *a;
    size_t n;
    assert_int_equal(loupe_study_system_attrs(f->study, &a, &n), LOUPE_OK);
    assert_int_equal(n, 4);
    assert_string_equal(a[0].key, ver_key);
    assert_string_equal(a[1].key, chunk_key);
    assert_string_equal(a[2].key, "dashboard:note_ver");
    assert_string_equal(a[3].key, "dashboard:note_str:0");
}

static void test_conflict(void **state) {
    fixture *f = *state;
    int64_t v;
    assert_int_equal(loupe_note_save(f->study, f->tid, 0, "first", &v, NULL), LOUPE_OK);
    assert_int_equal(loupe_note_save(f->study, f->tid, 1, "second", &v, NULL), LOUPE_OK);
    assert_int_equal(v, 2);
    /* A stale writer: refused, told the current note, nothing written. */
    char *cur = NULL;
    v = -1;
    assert_int_equal(loupe_note_save(f->study, f->tid, 1, "stale", &v, &cur), LOUPE_ECONFLICT);
    assert_int_equal(v, 2);
    assert_string_equal(cur, "second");
    loupe_free(cur);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "The text you are editing has changed"));
    expect_note(f->study, f->tid, 2, "second");
    /* Ahead of the stored version is a conflict too (REST: 409). */
    assert_int_equal(loupe_note_save(f->study, f->tid, 5, "ahead", NULL, NULL), LOUPE_ECONFLICT);
    /* A note never saved is at version 0. */
    cur = (char *)1;
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 3, "x", &v, &cur), LOUPE_ECONFLICT);
    assert_int_equal(v, 0);
    assert_string_equal(cur, "");
    loupe_free(cur);
    /* Last writer wins without a check. */
    assert_int_equal(loupe_note_save(f->study, f->tid, LOUPE_NOTE_ANY_VERSION, "forced", &v, NULL),
                     LOUPE_OK);
    assert_int_equal(v, 3);
    expect_note(f->study, f->tid, 3, "forced");
}

/* Code point i of the test body: 1-, 2-, 3- and 4-byte UTF-8 characters. */
static const char *cp_at(size_t i) {
    static const char *const cps[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\n"};
    return cps[(i * 7 + i / 3) % 5];
}

static char *make_body(size_t n_cp, size_t from) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_append(&b, "", 0);
    for (size_t i = 0; i < n_cp; i++) loupe__buf_puts(&b, cp_at(from + i));
    return loupe__buf_steal(&b);
}

static void test_chunks(void **state) {
    fixture *f = *state;
    size_t n_cp = 2045 * 2 + 10;
    char *body = make_body(n_cp, 0);
    int64_t v;
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 0, body, &v, NULL), LOUPE_OK);
    assert_int_equal(count_prefix(f->study, "dashboard:note_str:"), 3);
    /* Each chunk is the next 2045 code points (not bytes), as JSON. */
    size_t sizes[3] = {2045, 2045, 10};
    size_t from = 0;
    for (int k = 0; k < 3; k++) {
        char *part = make_body(sizes[k], from);
        loupe__buf want;
        loupe__buf_init(&want, 0);
        loupe__pyjson_string(&want, part, strlen(part));
        char key[64];
        snprintf(key, sizeof key, "dashboard:note_str:%d", k);
        assert_string_equal(sys_attr(f->study, key), want.data);
        loupe__buf_free(&want);
        free(part);
        from += sizes[k];
    }
    expect_note(f->study, LOUPE_STUDY_NOTE, 1, body);

    /* Exactly 2045 code points: one chunk; the others are blanked, not deleted. */
    char *exact = make_body(2045, 3);
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 1, exact, &v, NULL), LOUPE_OK);
    assert_int_equal(v, 2);
    assert_int_equal(count_prefix(f->study, "dashboard:note_str:"), 3);
    assert_string_equal(sys_attr(f->study, "dashboard:note_str:1"), "\"\"");
    assert_string_equal(sys_attr(f->study, "dashboard:note_str:2"), "\"\"");
    expect_note(f->study, LOUPE_STUDY_NOTE, 2, exact);

    /* Empty body: no chunk written, every old one blanked. */
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 2, "", &v, NULL), LOUPE_OK);
    assert_string_equal(sys_attr(f->study, "dashboard:note_ver"), "3");
    assert_string_equal(sys_attr(f->study, "dashboard:note_str:0"), "\"\"");
    assert_int_equal(count_prefix(f->study, "dashboard:note_str:"), 3);
    expect_note(f->study, LOUPE_STUDY_NOTE, 3, "");

    /* Growing again reuses the keys. */
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 3, body, &v, NULL), LOUPE_OK);
    expect_note(f->study, LOUPE_STUDY_NOTE, 4, body);
    assert_int_equal(count_prefix(f->study, "dashboard:note_str:"), 3);
    free(exact);
    free(body);
}

static void test_trial_id_prefixes(void **state) {
    fixture *f = *state;
    /* "dashboard:1:note_str:" must not pick up "dashboard:10:note_str:" keys. */
    int64_t v;
    assert_int_equal(loupe_note_save(f->study, 10, 0, "ten", &v, NULL), LOUPE_OK);
    assert_int_equal(loupe_note_save(f->study, 1, 0, "one", &v, NULL), LOUPE_OK);
    assert_int_equal(loupe_note_save(f->study, 100, 0, "hundred", &v, NULL), LOUPE_OK);
    expect_note(f->study, 1, 1, "one");
    expect_note(f->study, 10, 1, "ten");
    expect_note(f->study, 100, 1, "hundred");
}

static void test_stored_forms(void **state) {
    fixture *f = *state;
    /* Written by another tool: version as a string or float (Python int()). */
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:7:note_ver", "\"3\""), LOUPE_OK);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:7:note_str:0", "\"ab\""),
                     LOUPE_OK);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:7:note_str:1", "\"cd\""),
                     LOUPE_OK);
    expect_note(f->study, 7, 3, "abcd");
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:7:note_ver", "2.0"), LOUPE_OK);
    expect_note(f->study, 7, 2, "abcd");
    /* Chunks without a version key: no note (as Python). */
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:8:note_str:0", "\"x\""),
                     LOUPE_OK);
    expect_note(f->study, 8, 0, "");
}

static void test_damaged(void **state) {
    fixture *f = *state;
    int64_t v;
    char *b = NULL;
    /* A gap in the chunks. */
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:note_ver", "1"), LOUPE_OK);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:note_str:0", "\"a\""), LOUPE_OK);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:note_str:2", "\"c\""), LOUPE_OK);
    assert_int_equal(loupe_note_get(f->study, LOUPE_STUDY_NOTE, &v, &b), LOUPE_ECORRUPT);
    assert_null(b);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "dashboard:note_str:1"));
    /* A versioned save is refused; an unconditional one repairs it. */
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 1, "new", &v, NULL), LOUPE_ECORRUPT);
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, LOUPE_NOTE_ANY_VERSION, "new", &v, NULL),
                     LOUPE_OK);
    assert_int_equal(v, 2);
    expect_note(f->study, LOUPE_STUDY_NOTE, 2, "new");
    assert_string_equal(sys_attr(f->study, "dashboard:note_str:1"), "\"\"");
    /* A chunk that is not a string, and a version that is not a number. */
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:note_str:1", "5"), LOUPE_OK);
    assert_int_equal(loupe_note_get(f->study, LOUPE_STUDY_NOTE, &v, &b), LOUPE_ECORRUPT);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:3:note_ver", "[1]"), LOUPE_OK);
    assert_int_equal(loupe_note_get(f->study, 3, &v, &b), LOUPE_ECORRUPT);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "not an integer"));
}

static void test_bad_args(void **state) {
    fixture *f = *state;
    int64_t v;
    char *b;
    assert_int_equal(loupe_note_save(f->study, -2, 0, "x", &v, NULL), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "LOUPE_STUDY_NOTE"));
    assert_int_equal(loupe_note_get(f->study, -7, &v, &b), LOUPE_EINVAL);
    assert_int_equal(loupe_note_save(f->study, f->tid, 0, NULL, &v, NULL), LOUPE_EINVAL);
    assert_int_equal(loupe_note_save(f->study, f->tid, -3, "x", &v, NULL), LOUPE_EINVAL);
    /* Invalid UTF-8: a lone continuation byte, a truncated sequence, an
     * encoded surrogate, an overlong form. Nothing is written. */
    const char *bad[] = {"ab\x80", "ab\xe2\x82", "\xed\xa0\x80", "\xc0\xaf"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(loupe_note_save(f->study, f->tid, 0, bad[i], &v, NULL), LOUPE_EINVAL);
        assert_non_null(strstr(loupe_study_errmsg(f->study), "not valid UTF-8"));
    }
    assert_int_equal(count_prefix(f->study, "dashboard:"), 0);
    assert_int_equal(loupe_note_get(NULL, 0, &v, &b), LOUPE_EINVAL);
}


static void test_view(void **state) {
    fixture *f = *state;
    /* Many notes at once, one of them chunked, one damaged, one version-only. */
    char *big = make_body(5000, 11);
    int64_t v;
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 0, big, &v, NULL), LOUPE_OK);
    for (int64_t tid = 1; tid <= 30; tid++) {
        char body[64];
        snprintf(body, sizeof body, "note of %lld", (long long)tid);
        assert_int_equal(loupe_note_save(f->study, tid, LOUPE_NOTE_ANY_VERSION, body, &v, NULL),
                         LOUPE_OK);
        if (tid % 3 == 0)
            assert_int_equal(loupe_note_save(f->study, tid, 1, body + 1, &v, NULL), LOUPE_OK);
    }
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:40:note_ver", "1"), LOUPE_OK);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:41:note_ver", "1"), LOUPE_OK);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:41:note_str:1", "\"x\""),
                     LOUPE_OK);
    assert_int_equal(loupe_study_set_system_attr(f->study, "dashboard:42:note_str:0", "\"y\""),
                     LOUPE_OK);
    loupe_hitl_view *view;
    assert_int_equal(loupe_hitl_view_new(f->study, &view), LOUPE_OK);
    int64_t ids[] = {LOUPE_STUDY_NOTE, 1, 3, 10, 29, 30, 31, 40, 42, 999};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        int64_t v1, v2;
        char *b1;
        const char *b2;
        assert_int_equal(loupe_note_get(f->study, ids[i], &v1, &b1), LOUPE_OK);
        assert_int_equal(loupe_hitl_view_note(view, ids[i], &v2, &b2), LOUPE_OK);
        assert_int_equal(v1, v2);
        assert_string_equal(b1, b2);
        loupe_free(b1);
    }
    const char *b;
    assert_int_equal(loupe_hitl_view_note(view, 3, &v, &b), LOUPE_OK);
    assert_int_equal(v, 2);
    assert_string_equal(b, "ote of 3");
    assert_int_equal(loupe_hitl_view_note(view, 41, &v, &b), LOUPE_ECORRUPT);
    assert_non_null(strstr(loupe_hitl_view_errmsg(view), "dashboard:41:note_str:0"));
    assert_int_equal(loupe_hitl_view_note(view, -3, &v, &b), LOUPE_EINVAL);
    /* The view is a snapshot: later saves do not show. */
    assert_int_equal(loupe_note_save(f->study, 1, 1, "changed", &v, NULL), LOUPE_OK);
    assert_int_equal(loupe_hitl_view_note(view, 1, &v, &b), LOUPE_OK);
    assert_string_equal(b, "note of 1");
    loupe_hitl_view_free(view);
    free(big);
}


/* The compare-and-set primitive under note saves. */
static void test_guarded_write(void **state) {
    fixture *f = *state;
    loupe_attr a = {"k", "1"};
    /* absent guard key: NULL matches, any text does not */
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "g", "0", 1, &a), LOUPE_ECONFLICT);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "'g' changed since it was read"));
    assert_null(sys_attr(f->study, "k"));
    loupe_attr g0 = {"g", "0"};
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "g", NULL, 1, &g0), LOUPE_OK);
    assert_string_equal(sys_attr(f->study, "g"), "0");
    /* present: exact text only; a stale or NULL guard writes nothing */
    loupe_attr two[2] = {{"g", "1"}, {"k", "\"x\""}};
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "g", NULL, 2, two), LOUPE_ECONFLICT);
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "g", "0.0", 2, two), LOUPE_ECONFLICT);
    assert_null(sys_attr(f->study, "k"));
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "g", "0", 2, two), LOUPE_OK);
    assert_string_equal(sys_attr(f->study, "g"), "1");
    assert_string_equal(sys_attr(f->study, "k"), "\"x\"");
    /* only the system table is compared: a user attr of that name does not count */
    assert_int_equal(loupe_study_set_user_attr(f->study, "u", "5"), LOUPE_OK);
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "u", "5", 1, &a), LOUPE_ECONFLICT);
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, NULL, "5", 1, &a), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "guard_key is NULL"));
    /* n == 0 still checks */
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "g", "7", 0, NULL), LOUPE_ECONFLICT);
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "g", "1", 0, NULL), LOUPE_OK);
}

/* Two handles on one file: a save that read before another handle's save
 * landed must not overwrite it. The storage-level interleaving is what a
 * second process does between a save's read and its write. */
static void test_guard_two_handles(void **state) {
    fixture *f = *state;
    const char *url = f->url;
    loupe_storage *s2;
    loupe_study *other;
    assert_int_equal(loupe_storage_open(url, 0, &s2), LOUPE_OK);
    assert_int_equal(loupe_study_load(s2, "notes", &other), LOUPE_OK);
    int64_t v;
    assert_int_equal(loupe_note_save(f->study, LOUPE_STUDY_NOTE, 0, "mine", &v, NULL), LOUPE_OK);
    const char *seen = sys_attr(f->study, "dashboard:note_ver");
    assert_string_equal(seen, "1");
    char kept[16];
    snprintf(kept, sizeof kept, "%s", seen);
    assert_int_equal(loupe_note_save(other, LOUPE_STUDY_NOTE, 1, "theirs", &v, NULL), LOUPE_OK);
    loupe_attr w[2] = {{"dashboard:note_ver", "2"}, {"dashboard:note_str:0", "\"lost\""}};
    assert_int_equal(loupe_study_set_system_attrs_if(f->study, "dashboard:note_ver", kept, 2, w),
                     LOUPE_ECONFLICT);
    expect_note(f->study, LOUPE_STUDY_NOTE, 2, "theirs");
    loupe_study_close(other);
    loupe_storage_close(s2);
}

/* Processes appending a token to one note by read-modify-save with the
 * version they read: every successful save must survive (no lost update),
 * and the version counts the saves exactly. */
#define SAVERS 4
#define SAVES_EACH 12
static void test_processes_saving_at_once(void **state) {
    fixture *f = *state;
    const char *url = f->url;
    pid_t pids[SAVERS];
    for (int p = 0; p < SAVERS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] != 0) continue;
        loupe_storage *s = NULL;
        loupe_study *st = NULL;
        int bad = loupe_storage_open(url, LOUPE_OPEN_NOSYNC, &s) ||
                  loupe_study_load(s, "notes", &st);
        for (int i = 0; !bad && i < SAVES_EACH;) {
            int64_t v;
            char *body = NULL;
            if (loupe_note_get(st, f->tid, &v, &body)) { bad = 1; break; }
            char *next = malloc(strlen(body) + 32);
            sprintf(next, "%sp%d.%d;", body, p, i);
            loupe_free(body);
            int rc = loupe_note_save(st, f->tid, v, next, NULL, NULL);
            free(next);
            if (rc == LOUPE_OK) i++;
            else if (rc != LOUPE_ECONFLICT) bad = 1;
        }
        loupe_study_close(st);
        loupe_storage_close(s);
        _exit(bad);
    }
    for (int p = 0; p < SAVERS; p++) {
        int status;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    int64_t v;
    char *body = NULL;
    assert_int_equal(loupe_note_get(f->study, f->tid, &v, &body), LOUPE_OK);
    assert_int_equal(v, SAVERS * SAVES_EACH);
    for (int p = 0; p < SAVERS; p++)
        for (int i = 0; i < SAVES_EACH; i++) {
            char tok[32];
            snprintf(tok, sizeof tok, "p%d.%d;", p, i);
            char *at = strstr(body, tok);
            assert_non_null(at);
            assert_null(strstr(at + 1, tok));
        }
    loupe_free(body);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_memory, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        BOTH(test_empty_and_first_save), BOTH(test_conflict), BOTH(test_chunks),
        BOTH(test_trial_id_prefixes),    BOTH(test_stored_forms), BOTH(test_damaged),
        BOTH(test_bad_args),           BOTH(test_view),  BOTH(test_guarded_write),
        cmocka_unit_test_setup_teardown(test_guard_two_handles, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_processes_saving_at_once, setup_sqlite, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_conflict, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_guarded_write, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_guard_two_handles, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_processes_saving_at_once, setup_pg, teardown),
    };
    if (getenv("LOUPE_TEST_PG_URL")) return cmocka_run_group_tests(pg_tests, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
