/* testutil.c -- shared helpers for the cmocka unit tests (see testutil.h). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
