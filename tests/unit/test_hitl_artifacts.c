/*
 * test_hitl_artifacts.c -- artifacts: the file-system store (open errors, raw
 * round trips, id checks, download, sweep), mimetype guessing, uploads to
 * trials and studies with the exact metadata optuna writes, listing (legacy
 * keys, deleted entries), deletion, URL paths, a full disk (RLIMIT_FSIZE) and
 * SIGKILL during uploads. Runs on the memory and the SQLite storage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loupe.h"
#include "testutil.h"
#include "util/uuid.h"

typedef struct fixture {
    char url[700];
    char dir[600];
    loupe_storage *storage;
    loupe_study *study;
    loupe_artifact_store *store;
} fixture;

static int counter;

static void make_dir(char *out, size_t cap, const char *tag) {
    char name[64];
    snprintf(name, sizeof name, "art-%s-%d-%d", tag, (int)getpid(), counter++);
    tu_path(out, cap, name);
    assert_int_equal(mkdir(out, 0755), 0);
}

static int setup_with(void **state, const char *url) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->url, sizeof f->url, "%s", url);
    assert_int_equal(loupe_storage_open(f->url, 0, &f->storage), LOUPE_OK);
    loupe_direction d = LOUPE_MINIMIZE;
    assert_int_equal(loupe_study_create(f->storage, "art", 1, &d, 0, &f->study), LOUPE_OK);
    make_dir(f->dir, sizeof f->dir, "store");
    assert_int_equal(loupe_artifact_store_fs_open(f->dir, &f->store), LOUPE_OK);
    *state = f;
    return 0;
}

static int setup_memory(void **state) { return setup_with(state, ":memory:"); }

static int setup_sqlite(void **state) {
    char name[64], url[700];
    snprintf(name, sizeof name, "art-%d.db", counter++);
    tu_sqlite_url(url, sizeof url, name);
    return setup_with(state, url);
}

static int teardown(void **state) {
    fixture *f = *state;
    loupe_artifact_store_close(f->store);
    loupe_study_close(f->study);
    loupe_storage_close(f->storage);
    free(f);
    return 0;
}

/* Number of temporary and of other entries in dir (besides . and ..). */
static void count_files(const char *dir, int *n_tmp, int *n_other) {
    *n_tmp = *n_other = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!strncmp(e->d_name, ".loupe-tmp-", 11)) (*n_tmp)++;
        else (*n_other)++;
    }
    closedir(d);
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static const char *trial_attr(loupe_trial *t, const char *key) {
    const loupe_frozen_trial *ft;
    assert_int_equal(loupe_trial_snapshot(t, &ft), LOUPE_OK);
    return loupe_frozen_trial_system_attr(ft, key);
}

static void fill_pattern(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)((i * 131u + seed) >> 3);
}

/* ---------------------------------------------------------------- store */

static void test_store_open_errors(void **state) {
    (void)state;
    char dir[600], path[700];
    make_dir(dir, sizeof dir, "open");
    loupe_artifact_store *s = NULL;

    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(loupe_artifact_store_fs_open(path, &s), LOUPE_ENOTFOUND);
    assert_non_null(s);
    assert_non_null(strstr(loupe_artifact_store_errmsg(s), "does not exist"));
    assert_non_null(strstr(loupe_artifact_store_errmsg(s), "create it first"));
    loupe_artifact_store_close(s);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0); /* not created */

    snprintf(path, sizeof path, "%s/file", dir);
    write_file(path, "x", 1);
    assert_int_equal(loupe_artifact_store_fs_open(path, &s), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_artifact_store_errmsg(s), "is not a directory"));
    loupe_artifact_store_close(s);

    assert_int_equal(loupe_artifact_store_fs_open("", &s), LOUPE_EINVAL);
    loupe_artifact_store_close(s);

    /* Not writable: a read-only directory for ordinary users; root writes
     * anywhere on a normal file system, so use /sys (root cannot create there). */
    const char *ro = NULL;
    char rodir[700];
    if (geteuid() != 0) {
        snprintf(rodir, sizeof rodir, "%s/ro", dir);
        assert_int_equal(mkdir(rodir, 0555), 0);
        ro = rodir;
    } else if (stat("/sys", &st) == 0 && S_ISDIR(st.st_mode)) {
        ro = "/sys";
    }
    if (ro) {
        assert_int_equal(loupe_artifact_store_fs_open(ro, &s), LOUPE_EIO);
        assert_non_null(strstr(loupe_artifact_store_errmsg(s), "is not writable"));
        loupe_artifact_store_close(s);
    }
}

static void test_store_round_trip(void **state) {
    fixture *f = *state;
    size_t n = 3 * 1024 * 1024 + 17;
    unsigned char *data = malloc(n);
    fill_pattern(data, n, 5);
    char id[37], id2[37];
    assert_int_equal(loupe__uuid4(id), 0);
    assert_int_equal(loupe__uuid4(id2), 0);
    assert_int_equal(loupe_artifact_store_write_buffer(f->store, id, data, n), LOUPE_OK);

    /* Flat layout: the file is <base>/<id>, nothing else is left. */
    char path[700];
    snprintf(path, sizeof path, "%s/%s", f->dir, id);
    size_t len;
    char *disk = tu_read_file(path, &len);
    assert_non_null(disk);
    assert_int_equal(len, n);
    assert_memory_equal(disk, data, n);
    free(disk);
    int nt, no;
    count_files(f->dir, &nt, &no);
    assert_int_equal(nt, 0);
    assert_int_equal(no, 1);

    /* Streaming read with its size. */
    loupe_artifact_reader *r;
    uint64_t size = 0;
    assert_int_equal(loupe_artifact_open(f->store, id, &r, &size), LOUPE_OK);
    assert_int_equal(size, n);
    unsigned char *back = malloc(n);
    size_t got = 0, k;
    do {
        assert_int_equal(loupe_artifact_reader_read(r, back + got, 4096 < n - got ? 4096 : n - got + 1, &k),
                         LOUPE_OK);
        got += k;
    } while (k > 0 && got < n);
    assert_int_equal(loupe_artifact_reader_read(r, back, 1, &k), LOUPE_OK);
    assert_int_equal(k, 0);
    loupe_artifact_reader_close(r);
    assert_int_equal(got, n);
    assert_memory_equal(back, data, n);

    /* read_all, and writing a file by path. */
    void *all;
    assert_int_equal(loupe_artifact_read_all(f->store, id, &all, &len), LOUPE_OK);
    assert_int_equal(len, n);
    assert_memory_equal(all, data, n);
    assert_int_equal(((char *)all)[n], '\0');
    loupe_free(all);
    char src[700];
    tu_path(src, sizeof src, "src.bin");
    write_file(src, "hello artifact", 14);
    assert_int_equal(loupe_artifact_store_write_file(f->store, id2, src), LOUPE_OK);
    assert_int_equal(loupe_artifact_read_all(f->store, id2, &all, &len), LOUPE_OK);
    assert_int_equal(len, 14);
    assert_memory_equal(all, "hello artifact", 14);
    loupe_free(all);
    /* Overwriting an id replaces the bytes (Python's write does too). */
    assert_int_equal(loupe_artifact_store_write_buffer(f->store, id2, "", 0), LOUPE_OK);
    assert_int_equal(loupe_artifact_read_all(f->store, id2, &all, &len), LOUPE_OK);
    assert_int_equal(len, 0);
    loupe_free(all);

    /* A missing source file. */
    char missing[700];
    tu_path(missing, sizeof missing, "no-such-file.png");
    assert_int_equal(loupe_artifact_store_write_file(f->store, id2, missing), LOUPE_ENOTFOUND);
    assert_non_null(strstr(loupe_artifact_store_errmsg(f->store), "no-such-file.png"));

    /* Remove, then everything says not found. */
    assert_int_equal(loupe_artifact_store_remove(f->store, id), LOUPE_OK);
    assert_int_equal(loupe_artifact_store_remove(f->store, id), LOUPE_ENOTFOUND);
    assert_int_equal(loupe_artifact_open(f->store, id, &r, NULL), LOUPE_ENOTFOUND);
    assert_null(r);
    assert_non_null(strstr(loupe_artifact_store_errmsg(f->store), id));
    assert_int_equal(loupe_artifact_read_all(f->store, id, &all, &len), LOUPE_ENOTFOUND);
    free(back);
    free(data);
}

static void test_store_bad_ids(void **state) {
    fixture *f = *state;
    const char *bad[] = {"../escape",
                         "/etc/passwd",
                         "a/b",
                         "..",
                         ".",
                         "",
                         "0d6546b5-e9b1-483a-baf3-cf2ee88d532",
                         "0d6546b5-e9b1-483a-baf3-cf2ee88d53255",
                         "0d6546b5-e9b1-483a-baf3-cf2ee88d5325/x",
                         "../0d6546b5-e9b1-483a-baf3-cf2ee88d5",
                         "0d6546b5_e9b1-483a-baf3-cf2ee88d5325",
                         "0d6546b5-e9b1-483a-baf3-cf2ee88d532g"};
    char out[700];
    tu_path(out, sizeof out, "bad-id-download");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(loupe_artifact_store_write_buffer(f->store, bad[i], "x", 1), LOUPE_EINVAL);
        assert_non_null(strstr(loupe_artifact_store_errmsg(f->store), "invalid artifact id"));
        assert_int_equal(loupe_artifact_store_write_file(f->store, bad[i], "/etc/hostname"),
                         LOUPE_EINVAL);
        assert_int_equal(loupe_artifact_store_remove(f->store, bad[i]), LOUPE_EINVAL);
        loupe_artifact_reader *r;
        assert_int_equal(loupe_artifact_open(f->store, bad[i], &r, NULL), LOUPE_EINVAL);
        assert_int_equal(loupe_artifact_download(f->store, bad[i], out), LOUPE_EINVAL);
        char buf[128];
        assert_int_equal(loupe_artifact_path(1, 2, bad[i], buf, sizeof buf), -1);
    }
    assert_int_equal(loupe_artifact_store_remove(f->store, NULL), LOUPE_EINVAL);
    int nt, no;
    count_files(f->dir, &nt, &no);
    assert_int_equal(nt + no, 0);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);
    /* Upper-case UUIDs are well-formed ids. */
    assert_int_equal(
        loupe_artifact_store_write_buffer(f->store, "0D6546B5-E9B1-483A-BAF3-CF2EE88D5325", "x", 1),
        LOUPE_OK);
}

static void test_store_download(void **state) {
    fixture *f = *state;
    char id[37], path[700];
    assert_int_equal(loupe__uuid4(id), 0);
    assert_int_equal(loupe_artifact_store_write_buffer(f->store, id, "payload\0bytes", 13), LOUPE_OK);
    snprintf(path, sizeof path, "%s-dl-%d", f->dir, counter++);
    assert_int_equal(loupe_artifact_download(f->store, id, path), LOUPE_OK);
    size_t len;
    char *got = tu_read_file(path, &len);
    assert_int_equal(len, 13);
    assert_memory_equal(got, "payload\0bytes", 13);
    free(got);
    /* An existing file is never overwritten (Python raises FileExistsError). */
    write_file(path, "mine", 4);
    assert_int_equal(loupe_artifact_download(f->store, id, path), LOUPE_EEXISTS);
    assert_non_null(strstr(loupe_artifact_store_errmsg(f->store), "already exists"));
    got = tu_read_file(path, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(got, "mine", 4);
    free(got);
    /* A missing blob creates no file. */
    char other[37], p2[760];
    assert_int_equal(loupe__uuid4(other), 0);
    snprintf(p2, sizeof p2, "%s.none", path);
    assert_int_equal(loupe_artifact_download(f->store, other, p2), LOUPE_ENOTFOUND);
    struct stat st;
    assert_int_not_equal(stat(p2, &st), 0);
    /* A directory that does not exist. */
    snprintf(p2, sizeof p2, "%s/no/such/dir/x", f->dir);
    assert_int_equal(loupe_artifact_download(f->store, id, p2), LOUPE_EIO);
    assert_non_null(strstr(loupe_artifact_store_errmsg(f->store), "cannot create"));
}

static void test_store_sweep(void **state) {
    fixture *f = *state;
    char path[700], id[37];
    snprintf(path, sizeof path, "%s/.loupe-tmp-leftover", f->dir);
    write_file(path, "partial", 7);
    assert_int_equal(loupe__uuid4(id), 0);
    assert_int_equal(loupe_artifact_store_write_buffer(f->store, id, "kept", 4), LOUPE_OK);
    size_t n = 99;
    /* Too young for a 1-hour threshold. */
    assert_int_equal(loupe_artifact_store_fs_sweep(f->store, 3600, &n), LOUPE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(loupe_artifact_store_fs_sweep(f->store, 0, &n), LOUPE_OK);
    assert_int_equal(n, 1);
    int nt, no;
    count_files(f->dir, &nt, &no);
    assert_int_equal(nt, 0);
    assert_int_equal(no, 1); /* the artifact itself is untouched */
}

/* A custom store through the vtable: an in-memory map of one blob. */
typedef struct mem_impl {
    char id[37];
    char *data;
    size_t len;
    int destroyed;
} mem_impl;

static int mem_write_buffer(void *impl, const char *id, const void *data, size_t len, char *err,
                            size_t errcap) {
    mem_impl *m = impl;
    free(m->data);
    m->data = malloc(len + 1);
    memcpy(m->data, data, len);
    m->len = len;
    snprintf(m->id, sizeof m->id, "%s", id);
    return LOUPE_OK;
}
static int mem_write_file(void *impl, const char *id, const char *path, char *err, size_t errcap) {
    snprintf(err, errcap, "mem store cannot read files (%s)", path);
    return LOUPE_EIO;
}
static int mem_open(void *impl, const char *id, void **reader, uint64_t *size, char *err,
                    size_t errcap) {
    mem_impl *m = impl;
    if (strcmp(m->id, id) != 0) {
        snprintf(err, errcap, "mem store: no %s", id);
        return LOUPE_ENOTFOUND;
    }
    size_t *pos = calloc(1, sizeof *pos);
    *reader = pos;
    *size = m->len;
    return LOUPE_OK;
}
static int mem_read(void *impl, void *reader, void *buf, size_t cap, size_t *n, char *err,
                    size_t errcap) {
    mem_impl *m = impl;
    size_t *pos = reader;
    size_t k = m->len - *pos < cap ? m->len - *pos : cap;
    memcpy(buf, m->data + *pos, k);
    *pos += k;
    *n = k;
    return LOUPE_OK;
}
static void mem_close_reader(void *impl, void *reader) { free(reader); }
static int mem_remove(void *impl, const char *id, char *err, size_t errcap) {
    mem_impl *m = impl;
    if (strcmp(m->id, id) != 0) return LOUPE_ENOTFOUND;
    m->id[0] = '\0';
    return LOUPE_OK;
}
static void mem_destroy(void *impl) {
    mem_impl *m = impl;
    free(m->data);
    m->data = NULL;
    m->destroyed = 1;
}
static const loupe_artifact_store_ops mem_ops = {"memory-test", mem_write_file, mem_write_buffer,
                                                 mem_open,      mem_read,       mem_close_reader,
                                                 mem_remove,    mem_destroy};

static void test_custom_store(void **state) {
    fixture *f = *state;
    mem_impl impl = {0};
    loupe_artifact_store *s;
    assert_int_equal(loupe_artifact_store_new(&mem_ops, &impl, &s), LOUPE_OK);
    char id[37];
    assert_int_equal(loupe_artifact_upload_buffer(s, f->study, NULL, "n.txt", "abc", 3, NULL, NULL, id),
                     LOUPE_OK);
    void *data;
    size_t len;
    assert_int_equal(loupe_artifact_read_all(s, id, &data, &len), LOUPE_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "abc", 3);
    loupe_free(data);
    /* The backend's message reaches the study. */
    assert_int_equal(loupe_artifact_upload_file(s, f->study, NULL, "/etc/hostname", NULL, NULL, NULL),
                     LOUPE_EIO);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "mem store cannot read files"));
    assert_int_equal(loupe_artifact_delete(s, f->study, NULL, id), LOUPE_OK);
    assert_string_equal(impl.id, "");
    assert_int_equal(loupe_artifact_store_fs_sweep(s, 0, NULL), LOUPE_EINVAL);
    loupe_artifact_store_close(s);
    assert_int_equal(impl.destroyed, 1);
    /* Incomplete ops are refused (and impl still released). */
    loupe_artifact_store_ops partial = mem_ops;
    partial.read = NULL;
    impl.destroyed = 0;
    assert_int_equal(loupe_artifact_store_new(&partial, &impl, &s), LOUPE_EINVAL);
    assert_null(s);
    assert_int_equal(impl.destroyed, 1);
}

/* ---------------------------------------------------------------- mimetypes */

static void test_guess_type(void **state) {
    (void)state;
    /* Python 3.11 mimetypes.guess_type answers on Debian bookworm. */
    static const char *cases[][3] = {
        {"a.png", "image/png", NULL},         {"a.jpg", "image/jpeg", NULL},
        {"a.jpeg", "image/jpeg", NULL},       {"a.gif", "image/gif", NULL},
        {"a.webp", "image/webp", NULL},       {"a.svg", "image/svg+xml", NULL},
        {"a.wav", "audio/x-wav", NULL},       {"a.mp3", "audio/mpeg", NULL},
        {"a.ogg", "audio/ogg", NULL},         {"a.mp4", "video/mp4", NULL},
        {"a.webm", "video/webm", NULL},       {"a.txt", "text/plain", NULL},
        {"a.csv", "text/csv", NULL},          {"a.json", "application/json", NULL},
        {"a.jsonl", NULL, NULL},              {"a.html", "text/html", NULL},
        {"a.gz", NULL, "gzip"},               {"x.csv.gz", "text/csv", "gzip"},
        {"x.tar.gz", "application/x-tar", "gzip"}, {"x.tgz", "application/x-tar", "gzip"},
        {"a.svgz", "image/svg+xml", "gzip"},  {"A.PNG", "image/png", NULL},
        {"x.JSON", "application/json", NULL}, {"x.csv.GZ", "application/gzip", NULL},
        {"x.txt.bz2", "text/plain", "bzip2"}, {"x.txt.xz", "text/plain", "xz"},
        {"x.txt.br", "text/plain", "br"},     {"x.Z", NULL, "compress"},
        {"x.png.gz", "image/png", "gzip"},    {"x.gz.png", "image/png", NULL},
        {"noext", NULL, NULL},                {".png", NULL, NULL},
        {"x.", NULL, NULL},                   {".hidden.png", "image/png", NULL},
        {"a.b.c.png", "image/png", NULL},     {"dir/a.png", "image/png", NULL},
        {"a.bin", "application/octet-stream", NULL}, {"a.npy", NULL, NULL},
        {"c:foo.png", "image/png", NULL},     {"a:.png", NULL, NULL},
        {"data:abc", NULL, NULL},             {"data:a,b.png", "text/plain", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *m = (const char *)1, *e = (const char *)1;
        loupe_artifact_guess_type(cases[i][0], &m, &e);
        if (cases[i][1]) assert_string_equal(m, cases[i][1]);
        else assert_null(m);
        if (cases[i][2]) assert_string_equal(e, cases[i][2]);
        else assert_null(e);
    }
}

/* ---------------------------------------------------------------- metadata */

static void expect_meta_json(const char *json, const char *id, const char *filename,
                             const char *mimetype, const char *encoding) {
    char want[1024];
    if (encoding)
        snprintf(want, sizeof want,
                 "\"{\\\"artifact_id\\\": \\\"%s\\\", \\\"filename\\\": \\\"%s\\\", "
                 "\\\"mimetype\\\": \\\"%s\\\", \\\"encoding\\\": \\\"%s\\\"}\"",
                 id, filename, mimetype, encoding);
    else
        snprintf(want, sizeof want,
                 "\"{\\\"artifact_id\\\": \\\"%s\\\", \\\"filename\\\": \\\"%s\\\", "
                 "\\\"mimetype\\\": \\\"%s\\\", \\\"encoding\\\": null}\"",
                 id, filename, mimetype);
    assert_non_null(json);
    assert_string_equal(json, want);
}

static void test_upload_trial(void **state) {
    fixture *f = *state;
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    char src[700];
    tu_path(src, sizeof src, "color.png");
    write_file(src, "\x89PNG fake", 9);
    char id[37];
    assert_int_equal(loupe_artifact_upload_file(f->store, f->study, t, src, NULL, NULL, id),
                     LOUPE_OK);
    assert_true(loupe__is_uuid(id));
    assert_int_equal(id[14], '4'); /* version 4 */
    char key[64];
    snprintf(key, sizeof key, "artifacts:%s", id);
    expect_meta_json(trial_attr(t, key), id, "color.png", "image/png", NULL);

    /* The stored bytes. */
    void *data;
    size_t len;
    assert_int_equal(loupe_artifact_read_all(f->store, id, &data, &len), LOUPE_OK);
    assert_int_equal(len, 9);
    assert_memory_equal(data, "\x89PNG fake", 9);
    loupe_free(data);

    /* Guessed and explicit types. */
    char id2[37], id3[37], id4[37], id5[37];
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, t, "t.csv.gz", "gz", 2, NULL,
                                                  NULL, id2),
                     LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", id2);
    expect_meta_json(trial_attr(t, key), id2, "t.csv.gz", "text/csv", "gzip");
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, t, "rows.jsonl", "{}", 2, NULL,
                                                  "", id3),
                     LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", id3);
    expect_meta_json(trial_attr(t, key), id3, "rows.jsonl", "application/octet-stream", NULL);
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, t, "rows.jsonl", "{}", 2,
                                                  "application/jsonl", "identity", id4),
                     LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", id4);
    expect_meta_json(trial_attr(t, key), id4, "rows.jsonl", "application/jsonl", "identity");
    /* A non-ASCII name is escaped as Python does, twice. */
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, t, "caf\xc3\xa9 \"q\".txt", "", 0,
                                                  NULL, NULL, id5),
                     LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", id5);
    char want[512];
    snprintf(want, sizeof want,
             "\"{\\\"artifact_id\\\": \\\"%s\\\", \\\"filename\\\": \\\"caf\\\\u00e9 \\\\\\\"q\\\\\\\".txt\\\", "
             "\\\"mimetype\\\": \\\"text/plain\\\", \\\"encoding\\\": null}\"",
             id5);
    assert_string_equal(trial_attr(t, key), want);

    /* Listing in upload order, with decoded fields. */
    const loupe_frozen_trial *ft;
    assert_int_equal(loupe_trial_snapshot(t, &ft), LOUPE_OK);
    loupe_artifact_list *list;
    assert_int_equal(loupe_artifact_list_get(f->study, ft, &list), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(list), 5);
    const loupe_artifact_meta *m = loupe_artifact_list_at(list, 0);
    assert_string_equal(m->artifact_id, id);
    assert_string_equal(m->filename, "color.png");
    assert_string_equal(m->mimetype, "image/png");
    assert_null(m->encoding);
    m = loupe_artifact_list_at(list, 1);
    assert_string_equal(m->encoding, "gzip");
    m = loupe_artifact_list_at(list, 4);
    assert_string_equal(m->filename, "caf\xc3\xa9 \"q\".txt");
    assert_null(loupe_artifact_list_at(list, 5));
    loupe_artifact_list_free(list);
    /* The study itself has none. */
    assert_int_equal(loupe_artifact_list_get(f->study, NULL, &list), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(list), 0);
    loupe_artifact_list_free(list);

    /* Upload to a finished trial: refused before anything is written. */
    assert_int_equal(loupe_trial_tell(t, LOUPE_COMPLETE, 1, (double[]){1.0}, 0), LOUPE_OK);
    int nt0, no0, nt1, no1;
    count_files(f->dir, &nt0, &no0);
    assert_int_equal(loupe_artifact_upload_file(f->store, f->study, t, src, NULL, NULL, id),
                     LOUPE_EFINISHED);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "has already finished"));
    count_files(f->dir, &nt1, &no1);
    assert_int_equal(nt1, 0);
    assert_int_equal(no1, no0);
    assert_int_equal(loupe_trial_snapshot(t, &ft), LOUPE_OK);
    assert_int_equal(ft->n_system_attrs, 5);
    loupe_trial_free(t);
}

static void test_upload_waiting_and_study(void **state) {
    fixture *f = *state;
    int64_t number;
    assert_int_equal(loupe_study_enqueue_trial(f->study, "{\"x\": 1.0}", NULL, &number), LOUPE_OK);
    loupe_trial *w;
    assert_int_equal(loupe_study_trial(f->study, number, &w), LOUPE_OK);
    char id[37], key[64];
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, w, "w.txt", "w", 1, NULL, NULL, id),
                     LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", id);
    expect_meta_json(trial_attr(w, key), id, "w.txt", "text/plain", NULL);
    loupe_trial_free(w);

    /* Study-level artifact: a study system attr, and listed with the study. */
    char sid[37];
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, NULL, "summary.csv", "a,b\n", 4,
                                                  NULL, NULL, sid),
                     LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", sid);
    const char *json;
    assert_int_equal(loupe_study_system_attr(f->study, key, &json), LOUPE_OK);
    expect_meta_json(json, sid, "summary.csv", "text/csv", NULL);
    loupe_artifact_list *list;
    assert_int_equal(loupe_artifact_find(f->study, NULL, sid, &list), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(list), 1);
    assert_string_equal(loupe_artifact_list_at(list, 0)->filename, "summary.csv");
    loupe_artifact_list_free(list);
    loupe_hitl_view *view;
    assert_int_equal(loupe_hitl_view_new(f->study, &view), LOUPE_OK);
    assert_int_equal(loupe_hitl_view_artifacts(view, NULL, &list), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(list), 1);
    assert_string_equal(loupe_artifact_list_at(list, 0)->artifact_id, sid);
    loupe_artifact_list_free(list);
    loupe_hitl_view_free(view);

    /* Upload of a missing file: nothing recorded, nothing stored. */
    char missing[700];
    tu_path(missing, sizeof missing, "missing.png");
    int nt0, no0, nt1, no1;
    count_files(f->dir, &nt0, &no0);
    const loupe_attr *attrs;
    size_t n0, n1;
    assert_int_equal(loupe_study_system_attrs(f->study, &attrs, &n0), LOUPE_OK);
    assert_int_equal(loupe_artifact_upload_file(f->store, f->study, NULL, missing, NULL, NULL, id),
                     LOUPE_ENOTFOUND);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "missing.png"));
    assert_non_null(strstr(loupe_study_errmsg(f->study), "nothing was recorded"));
    count_files(f->dir, &nt1, &no1);
    assert_int_equal(nt1, 0);
    assert_int_equal(no1, no0);
    assert_int_equal(loupe_study_system_attrs(f->study, &attrs, &n1), LOUPE_OK);
    assert_int_equal(n1, n0);

    /* Argument errors. */
    assert_int_equal(loupe_artifact_upload_file(NULL, f->study, NULL, missing, NULL, NULL, id),
                     LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "no artifact store"));
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, NULL, NULL, "x", 1, NULL, NULL, id),
                     LOUPE_EINVAL);
}

static void test_trial_of_other_study(void **state) {
    fixture *f = *state;
    loupe_direction d = LOUPE_MAXIMIZE;
    loupe_study *other;
    assert_int_equal(loupe_study_create(f->storage, "other", 1, &d, 0, &other), LOUPE_OK);
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(other, &t), LOUPE_OK);
    char id[37];
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, t, "a.txt", "a", 1, NULL, NULL, id),
                     LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->study), "does not belong"));
    const loupe_frozen_trial *ft;
    assert_int_equal(loupe_trial_snapshot(t, &ft), LOUPE_OK);
    loupe_artifact_list *list;
    assert_int_equal(loupe_artifact_list_get(f->study, ft, &list), LOUPE_EINVAL);
    assert_null(list);
    loupe_trial_free(t);
    loupe_study_close(other);
}

static void test_list_legacy_and_deleted(void **state) {
    fixture *f = *state;
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    char id[37];
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, t, "new.png", "n", 1, NULL, NULL, id),
                     LOUPE_OK);
    /* A legacy dashboard upload (study attr, other key order) and a deleted one. */
    const char *legacy_id = "a7e8b1c2-0000-4000-8000-000000000001";
    const char *gone_id = "a7e8b1c2-0000-4000-8000-000000000002";
    char key[128];
    snprintf(key, sizeof key, "dashboard:artifacts:%lld:%s", (long long)loupe_trial_id(t), legacy_id);
    assert_int_equal(loupe_study_set_system_attr(
                         f->study, key,
                         "\"{\\\"artifact_id\\\": \\\"a7e8b1c2-0000-4000-8000-000000000001\\\", "
                         "\\\"mimetype\\\": \\\"image/gif\\\", \\\"encoding\\\": null, "
                         "\\\"filename\\\": \\\"old.gif\\\"}\""),
                     LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", gone_id);
    assert_int_equal(loupe_trial_set_system_attr(t, key, "\"null\""), LOUPE_OK);
    /* A legacy key of another trial is not listed. */
    snprintf(key, sizeof key, "dashboard:artifacts:%lld:%s", (long long)loupe_trial_id(t) + 1000,
             gone_id);
    assert_int_equal(loupe_study_set_system_attr(f->study, key, "\"{\\\"x\\\": 1}\""), LOUPE_OK);

    const loupe_frozen_trial *ft;
    assert_int_equal(loupe_trial_snapshot(t, &ft), LOUPE_OK);
    loupe_artifact_list *list;
    assert_int_equal(loupe_artifact_list_get(f->study, ft, &list), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(list), 2);
    assert_string_equal(loupe_artifact_list_at(list, 0)->artifact_id, legacy_id);
    assert_string_equal(loupe_artifact_list_at(list, 0)->filename, "old.gif");
    assert_string_equal(loupe_artifact_list_at(list, 0)->mimetype, "image/gif");
    assert_string_equal(loupe_artifact_list_at(list, 1)->artifact_id, id);
    loupe_artifact_list_free(list);

    assert_int_equal(loupe_artifact_find(f->study, ft, legacy_id, &list), LOUPE_OK);
    assert_string_equal(loupe_artifact_list_at(list, 0)->filename, "old.gif");
    loupe_artifact_list_free(list);
    assert_int_equal(loupe_artifact_find(f->study, ft, gone_id, &list), LOUPE_ENOTFOUND);
    assert_null(list);
    assert_non_null(strstr(loupe_study_errmsg(f->study), gone_id));
    assert_int_equal(loupe_artifact_find(f->study, ft, "../x", &list), LOUPE_EINVAL);

    /* The view lists the same, from one read of the study attrs. */
    loupe_hitl_view *view;
    assert_int_equal(loupe_hitl_view_new(f->study, &view), LOUPE_OK);
    loupe_artifact_list *vl;
    assert_int_equal(loupe_hitl_view_artifacts(view, ft, &vl), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(vl), 2);
    assert_string_equal(loupe_artifact_list_at(vl, 0)->artifact_id, legacy_id);
    assert_string_equal(loupe_artifact_list_at(vl, 1)->artifact_id, id);
    loupe_artifact_list_free(vl);
    assert_int_equal(loupe_hitl_view_artifacts(view, NULL, &vl), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(vl), 0);
    loupe_artifact_list_free(vl);

    /* Damaged metadata is reported with its key. */
    snprintf(key, sizeof key, "artifacts:%s", "a7e8b1c2-0000-4000-8000-000000000003");
    assert_int_equal(loupe_trial_set_system_attr(t, key, "\"not json\""), LOUPE_OK);
    assert_int_equal(loupe_trial_snapshot(t, &ft), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_get(f->study, ft, &list), LOUPE_ECORRUPT);
    assert_non_null(strstr(loupe_study_errmsg(f->study), key));
    assert_int_equal(loupe_hitl_view_artifacts(view, ft, &vl), LOUPE_ECORRUPT);
    assert_null(vl);
    assert_non_null(strstr(loupe_hitl_view_errmsg(view), key));
    loupe_hitl_view_free(view);
    loupe_trial_free(t);
}

static void test_delete(void **state) {
    fixture *f = *state;
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
    char id[37], keep[37], key[64], path[700];
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, t, "d.png", "d", 1, NULL, NULL, id),
                     LOUPE_OK);
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, t, "k.png", "k", 1, NULL, NULL, keep),
                     LOUPE_OK);
    assert_int_equal(loupe_artifact_delete(f->store, f->study, t, id), LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", id);
    assert_string_equal(trial_attr(t, key), "\"null\"");
    snprintf(path, sizeof path, "%s/%s", f->dir, id);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    const loupe_frozen_trial *ft;
    assert_int_equal(loupe_trial_snapshot(t, &ft), LOUPE_OK);
    loupe_artifact_list *list;
    assert_int_equal(loupe_artifact_list_get(f->study, ft, &list), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(list), 1);
    assert_string_equal(loupe_artifact_list_at(list, 0)->artifact_id, keep);
    loupe_artifact_list_free(list);
    /* Again: not found. Unknown and malformed ids too. */
    assert_int_equal(loupe_artifact_delete(f->store, f->study, t, id), LOUPE_ENOTFOUND);
    assert_int_equal(loupe_artifact_delete(f->store, f->study, t, "f0000000-0000-4000-8000-000000000000"),
                     LOUPE_ENOTFOUND);
    assert_int_equal(loupe_artifact_delete(f->store, f->study, t, "../../etc/passwd"), LOUPE_EINVAL);
    /* A study artifact is not a trial's, and the reverse. */
    assert_int_equal(loupe_artifact_delete(f->store, f->study, NULL, keep), LOUPE_ENOTFOUND);

    /* Finished trial: refused, nothing changes. */
    assert_int_equal(loupe_trial_tell(t, LOUPE_FAIL, 0, NULL, 0), LOUPE_OK);
    assert_int_equal(loupe_artifact_delete(f->store, f->study, t, keep), LOUPE_EFINISHED);
    snprintf(path, sizeof path, "%s/%s", f->dir, keep);
    assert_int_equal(stat(path, &st), 0);

    /* Study artifact deletion; a blob already gone is fine. */
    char sid[37];
    assert_int_equal(loupe_artifact_upload_buffer(f->store, f->study, NULL, "s.txt", "s", 1, NULL, NULL, sid),
                     LOUPE_OK);
    assert_int_equal(loupe_artifact_store_remove(f->store, sid), LOUPE_OK);
    assert_int_equal(loupe_artifact_delete(f->store, f->study, NULL, sid), LOUPE_OK);
    snprintf(key, sizeof key, "artifacts:%s", sid);
    const char *json;
    assert_int_equal(loupe_study_system_attr(f->study, key, &json), LOUPE_OK);
    assert_string_equal(json, "\"null\"");
    assert_int_equal(loupe_artifact_find(f->study, NULL, sid, &list), LOUPE_ENOTFOUND);

    /* A legacy artifact of a finished trial lives in study attrs: deletable. */
    char legacy[128];
    const char *lid = "b0000000-0000-4000-8000-000000000009";
    snprintf(legacy, sizeof legacy, "dashboard:artifacts:%lld:%s", (long long)loupe_trial_id(t), lid);
    assert_int_equal(loupe_study_set_system_attr(
                         f->study, legacy,
                         "\"{\\\"artifact_id\\\": \\\"b0000000-0000-4000-8000-000000000009\\\", "
                         "\\\"filename\\\": \\\"l.png\\\", \\\"mimetype\\\": \\\"image/png\\\", "
                         "\\\"encoding\\\": null}\""),
                     LOUPE_OK);
    assert_int_equal(loupe_artifact_store_write_buffer(f->store, lid, "l", 1), LOUPE_OK);
    assert_int_equal(loupe_artifact_delete(f->store, f->study, t, lid), LOUPE_OK);
    assert_int_equal(loupe_study_system_attr(f->study, legacy, &json), LOUPE_OK);
    assert_string_equal(json, "\"null\"");
    snprintf(path, sizeof path, "%s/%s", f->dir, lid);
    assert_int_not_equal(stat(path, &st), 0);
    loupe_trial_free(t);
}

static void test_artifact_path(void **state) {
    (void)state;
    char buf[128];
    const char *id = "e3e70682-c209-4cac-a29f-6fbed82c07cd";
    assert_int_equal(loupe_artifact_path(1, 10, id, buf, sizeof buf), 52);
    assert_string_equal(buf, "/artifacts/1/10/e3e70682-c209-4cac-a29f-6fbed82c07cd");
    assert_int_equal(loupe_artifact_path(7, -1, id, buf, sizeof buf), 49);
    assert_string_equal(buf, "/artifacts/7/e3e70682-c209-4cac-a29f-6fbed82c07cd");
    assert_int_equal(loupe_artifact_path(1, 10, id, buf, 52), -1); /* no room for the NUL */
    assert_string_equal(buf, "");
    assert_int_equal(loupe_artifact_path(1, 10, id, buf, 53), 52);
}

/* ---------------------------------------------------------------- failures */

/* A child process whose file size limit is 64 KiB uploads 1 MiB: the upload
 * fails with a clear message, leaves no file and records nothing. */
static void test_disk_full(void **state) {
    fixture *f = *state;
    char dir[600];
    make_dir(dir, sizeof dir, "full");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN); /* get EFBIG instead of being killed */
        struct rlimit rl = {64 * 1024, 64 * 1024};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(10);
        loupe_storage *st;
        loupe_study *study;
        loupe_artifact_store *store;
        loupe_direction d = LOUPE_MINIMIZE;
        if (loupe_storage_open(":memory:", 0, &st) || loupe_study_create(st, "s", 1, &d, 0, &study))
            _exit(11);
        if (loupe_artifact_store_fs_open(dir, &store)) _exit(12);
        size_t n = 1024 * 1024;
        char *big = calloc(1, n);
        loupe_trial *t;
        if (loupe_study_ask(study, &t)) _exit(13);
        char id[37];
        int rc = loupe_artifact_upload_buffer(store, study, t, "big.bin", big, n, NULL, NULL, id);
        if (rc != LOUPE_EIO) _exit(14);
        if (!strstr(loupe_study_errmsg(study), "File too large") ||
            !strstr(loupe_study_errmsg(study), "nothing was recorded"))
            _exit(15);
        const loupe_frozen_trial *ft;
        if (loupe_trial_snapshot(t, &ft) || ft->n_system_attrs != 0) _exit(16);
        rc = loupe_artifact_upload_buffer(store, study, NULL, "big.bin", big, n, NULL, NULL, id);
        if (rc != LOUPE_EIO) _exit(17);
        const loupe_attr *a;
        size_t na;
        if (loupe_study_system_attrs(study, &a, &na) || na != 0) _exit(18);
        /* A small one still fits. */
        if (loupe_artifact_upload_buffer(store, study, t, "small.bin", big, 1000, NULL, NULL, id))
            _exit(19);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    int nt, no;
    count_files(dir, &nt, &no);
    assert_int_equal(nt, 0);
    assert_int_equal(no, 1); /* only small.bin's blob */
    (void)f;
}

/* Uploads in a loop in a child that is SIGKILLed at a random moment: every
 * recorded artifact has its complete blob, no partial file carries an artifact
 * id, and at most one complete blob (killed between rename and metadata
 * commit) is unrecorded. */
static void test_kill_during_upload(void **state) {
    fixture *f = *state;
    if (strcmp(f->url, ":memory:") == 0) skip(); /* needs a storage shared by processes */
    const size_t n = 4 * 1024 * 1024;
    unsigned char *want = malloc(n);
    fill_pattern(want, n, 77);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int round = 0; round < 3; round++) {
        char dir[600];
        make_dir(dir, sizeof dir, "kill");
        loupe_trial *t;
        assert_int_equal(loupe_study_ask(f->study, &t), LOUPE_OK);
        int64_t number = loupe_trial_number(t);
        loupe_trial_free(t);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            loupe_storage *st;
            loupe_study *study;
            loupe_artifact_store *store;
            loupe_trial *ct;
            if (loupe_storage_open(f->url, 0, &st) || loupe_study_load(st, "art", &study) ||
                loupe_study_trial(study, number, &ct) || loupe_artifact_store_fs_open(dir, &store))
                _exit(20);
            for (;;) {
                char id[37];
                if (loupe_artifact_upload_buffer(store, study, ct, "frame.bin", want, n, NULL, NULL, id))
                    _exit(21);
            }
        }
        usleep((useconds_t)(100000 + rand() % 400000));
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status)); /* it did not fail on its own */

        loupe_trial_list *tl;
        assert_int_equal(loupe_study_get_trial(f->study, number, &tl), LOUPE_OK);
        const loupe_frozen_trial *ft = loupe_trial_list_at(tl, 0);
        loupe_artifact_store *store;
        assert_int_equal(loupe_artifact_store_fs_open(dir, &store), LOUPE_OK);
        loupe_artifact_list *list;
        assert_int_equal(loupe_artifact_list_get(f->study, ft, &list), LOUPE_OK);
        size_t recorded = loupe_artifact_list_count(list);
        for (size_t i = 0; i < recorded; i++) {
            void *data;
            size_t len;
            const char *id = loupe_artifact_list_at(list, i)->artifact_id;
            assert_int_equal(loupe_artifact_read_all(store, id, &data, &len), LOUPE_OK);
            assert_int_equal(len, n);
            assert_memory_equal(data, want, n);
            loupe_free(data);
        }
        /* Every non-temporary file is a complete blob named by a UUID. */
        DIR *d = opendir(dir);
        struct dirent *e;
        size_t complete = 0;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            assert_true(loupe__is_uuid(e->d_name));
            void *data;
            size_t len;
            assert_int_equal(loupe_artifact_read_all(store, e->d_name, &data, &len), LOUPE_OK);
            assert_int_equal(len, n);
            assert_memory_equal(data, want, n);
            loupe_free(data);
            complete++;
        }
        closedir(d);
        assert_true(complete >= recorded && complete <= recorded + 1);
        /* Leftover temporary files are swept; the blobs stay. */
        size_t swept;
        assert_int_equal(loupe_artifact_store_fs_sweep(store, 0, &swept), LOUPE_OK);
        print_message("round %d: %zu recorded, %zu complete blobs, %zu temporary files swept\n",
                      round, recorded, complete, swept);
        int nt, no;
        count_files(dir, &nt, &no);
        assert_int_equal(nt, 0);
        assert_int_equal((size_t)no, complete);
        loupe_artifact_list_free(list);
        loupe_artifact_store_close(store);
        loupe_trial_list_free(tl);
    }
    free(want);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_memory, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_open_errors),
        cmocka_unit_test(test_guess_type),
        cmocka_unit_test(test_artifact_path),
        cmocka_unit_test_setup_teardown(test_store_round_trip, setup_memory, teardown),
        cmocka_unit_test_setup_teardown(test_store_bad_ids, setup_memory, teardown),
        cmocka_unit_test_setup_teardown(test_store_download, setup_memory, teardown),
        cmocka_unit_test_setup_teardown(test_store_sweep, setup_memory, teardown),
        cmocka_unit_test_setup_teardown(test_custom_store, setup_memory, teardown),
        BOTH(test_upload_trial),
        BOTH(test_upload_waiting_and_study),
        BOTH(test_trial_of_other_study),
        BOTH(test_list_legacy_and_deleted),
        BOTH(test_delete),
        cmocka_unit_test_setup_teardown(test_disk_full, setup_memory, teardown),
        cmocka_unit_test_setup_teardown(test_kill_during_upload, setup_sqlite, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
