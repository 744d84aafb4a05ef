/*
 * artifact_store.c -- the artifact store handle: a vtable (loupe_artifact_store_ops)
 * plus its message, the id checks done before any backend sees an id, and the
 * backend-independent operations built on it (streaming reads, download to a
 * new file, read into memory).
 */
#include "hitl/artifact_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/uuid.h"

struct loupe_artifact_reader {
    loupe_artifact_store *store;
    void *impl_reader;
};

int loupe__store_error(loupe_artifact_store *store, int code, const char *fmt, ...) {
    if (!store) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(store->errmsg, sizeof store->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

static void store_clear(loupe_artifact_store *store) { strcpy(store->errmsg, "not an error"); }

/* A backend's failure: its message (or a generic one) goes on the handle. */
static int store_fail(loupe_artifact_store *store, int rc, const char *err) {
    if (!err[0]) snprintf(store->errmsg, sizeof store->errmsg, "artifact store '%s': %s",
                          store->ops->name ? store->ops->name : "?", loupe_strerror(rc));
    else snprintf(store->errmsg, sizeof store->errmsg, "%s", err);
    return rc;
}

int loupe__store_check_id(loupe_artifact_store *store, const char *artifact_id) {
    if (!artifact_id)
        return loupe__store_error(store, LOUPE_EINVAL, "artifact id is NULL: pass the UUID that "
                                                       "the upload returned");
    if (!loupe__is_uuid(artifact_id))
        return loupe__store_error(store, LOUPE_EINVAL,
                                  "invalid artifact id '%.80s': an artifact id is a UUID such as "
                                  "0d6546b5-e9b1-483a-baf3-cf2ee88d5325 (ids with '/', '..' or other "
                                  "characters could name files outside the store and are refused)",
                                  artifact_id);
    return LOUPE_OK;
}

int loupe_artifact_store_new(const loupe_artifact_store_ops *ops, void *impl,
                             loupe_artifact_store **out) {
    if (!out) {
        if (ops && ops->destroy) ops->destroy(impl);
        return LOUPE_EINVAL;
    }
    *out = NULL;
    if (!ops || !ops->write_file || !ops->write_buffer || !ops->open || !ops->read ||
        !ops->close_reader || !ops->remove) {
        if (ops && ops->destroy) ops->destroy(impl);
        return LOUPE_EINVAL;
    }
    loupe_artifact_store *s = calloc(1, sizeof *s);
    if (!s) {
        if (ops->destroy) ops->destroy(impl);
        return LOUPE_ENOMEM;
    }
    s->ops = ops;
    s->impl = impl;
    store_clear(s);
    *out = s;
    return LOUPE_OK;
}

void loupe_artifact_store_close(loupe_artifact_store *store) {
    if (!store) return;
    if (store->ops && store->ops->destroy) store->ops->destroy(store->impl);
    free(store);
}

const char *loupe_artifact_store_errmsg(const loupe_artifact_store *store) {
    if (!store) return "out of memory (no artifact store handle)";
    return store->errmsg[0] ? store->errmsg : "not an error";
}

int loupe_artifact_store_write_file(loupe_artifact_store *store, const char *artifact_id,
                                    const char *path) {
    if (!store) return LOUPE_EINVAL;
    store_clear(store);
    int rc = loupe__store_check_id(store, artifact_id);
    if (rc) return rc;
    if (!path) return loupe__store_error(store, LOUPE_EINVAL, "file path is NULL");
    char err[1024] = "";
    rc = store->ops->write_file(store->impl, artifact_id, path, err, sizeof err);
    return rc ? store_fail(store, rc, err) : LOUPE_OK;
}

int loupe_artifact_store_write_buffer(loupe_artifact_store *store, const char *artifact_id,
                                      const void *data, size_t len) {
    if (!store) return LOUPE_EINVAL;
    store_clear(store);
    int rc = loupe__store_check_id(store, artifact_id);
    if (rc) return rc;
    if (!data && len)
        return loupe__store_error(store, LOUPE_EINVAL, "data is NULL but len is %zu", len);
    char err[1024] = "";
    rc = store->ops->write_buffer(store->impl, artifact_id, data ? data : "", len, err, sizeof err);
    return rc ? store_fail(store, rc, err) : LOUPE_OK;
}

int loupe_artifact_store_remove(loupe_artifact_store *store, const char *artifact_id) {
    if (!store) return LOUPE_EINVAL;
    store_clear(store);
    int rc = loupe__store_check_id(store, artifact_id);
    if (rc) return rc;
    char err[1024] = "";
    rc = store->ops->remove(store->impl, artifact_id, err, sizeof err);
    return rc ? store_fail(store, rc, err) : LOUPE_OK;
}

int loupe_artifact_open(loupe_artifact_store *store, const char *artifact_id,
                        loupe_artifact_reader **out, uint64_t *size) {
    if (!store || !out) return LOUPE_EINVAL;
    *out = NULL;
    store_clear(store);
    int rc = loupe__store_check_id(store, artifact_id);
    if (rc) return rc;
    loupe_artifact_reader *r = calloc(1, sizeof *r);
    if (!r) return loupe__store_error(store, LOUPE_ENOMEM, "out of memory");
    char err[1024] = "";
    uint64_t sz = UINT64_MAX;
    rc = store->ops->open(store->impl, artifact_id, &r->impl_reader, &sz, err, sizeof err);
    if (rc) {
        free(r);
        return store_fail(store, rc, err);
    }
    r->store = store;
    if (size) *size = sz;
    *out = r;
    return LOUPE_OK;
}

int loupe_artifact_reader_read(loupe_artifact_reader *reader, void *buf, size_t cap,
                               size_t *n_read) {
    if (!reader || !n_read || (!buf && cap)) return LOUPE_EINVAL;
    *n_read = 0;
    loupe_artifact_store *store = reader->store;
    char err[1024] = "";
    int rc = store->ops->read(store->impl, reader->impl_reader, buf, cap, n_read, err, sizeof err);
    return rc ? store_fail(store, rc, err) : LOUPE_OK;
}

void loupe_artifact_reader_close(loupe_artifact_reader *reader) {
    if (!reader) return;
    reader->store->ops->close_reader(reader->store->impl, reader->impl_reader);
    free(reader);
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int loupe_artifact_download(loupe_artifact_store *store, const char *artifact_id,
                            const char *path) {
    if (!store) return LOUPE_EINVAL;
    store_clear(store);
    if (!path) return loupe__store_error(store, LOUPE_EINVAL, "download path is NULL");
    int rc = loupe__store_check_id(store, artifact_id);
    if (rc) return rc;
    loupe_artifact_reader *r = NULL;
    int fd = -1, created = 0;
    char *buf = NULL;
    rc = loupe_artifact_open(store, artifact_id, &r, NULL);
    if (rc) goto cleanup;
    /* O_EXCL: never replace an existing file, even one created meanwhile. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        rc = loupe__store_error(store, e == EEXIST ? LOUPE_EEXISTS : LOUPE_EIO,
                                e == EEXIST ? "cannot download artifact %s to '%s': the file "
                                              "already exists (loupe never overwrites a file; "
                                              "remove it or choose another path)"
                                            : "cannot create '%s' for artifact %s: %s",
                                e == EEXIST ? artifact_id : path, e == EEXIST ? path : artifact_id,
                                strerror(e));
        goto cleanup;
    }
    created = 1;
    size_t cap = 256 * 1024;
    buf = malloc(cap);
    if (!buf) {
        rc = loupe__store_error(store, LOUPE_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (;;) {
        size_t n = 0;
        rc = loupe_artifact_reader_read(r, buf, cap, &n);
        if (rc) goto cleanup;
        if (n == 0) break;
        if (write_all(fd, buf, n) != 0) {
            rc = loupe__store_error(store, LOUPE_EIO,
                                    "cannot write '%s' (downloading artifact %s): %s; free disk "
                                    "space or choose another path",
                                    path, artifact_id, strerror(errno));
            goto cleanup;
        }
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = loupe__store_error(store, LOUPE_EIO, "cannot write '%s' (downloading artifact %s): %s",
                                path, artifact_id, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    rc = LOUPE_OK;
cleanup:
    if (fd >= 0) close(fd);
    /* Created by us above and incomplete: remove it. */
    if (rc && created) unlink(path);
    free(buf);
    loupe_artifact_reader_close(r);
    return rc;
}

int loupe_artifact_read_all(loupe_artifact_store *store, const char *artifact_id, void **data,
                            size_t *len) {
    if (!store || !data || !len) return LOUPE_EINVAL;
    *data = NULL;
    *len = 0;
    loupe_artifact_reader *r = NULL;
    uint64_t size = UINT64_MAX;
    int rc = loupe_artifact_open(store, artifact_id, &r, &size);
    if (rc) return rc;
    size_t alloc = (size != UINT64_MAX && size < SIZE_MAX - 1) ? (size_t)size + 1 : 65536;
    size_t used = 0;
    char *buf = malloc(alloc);
    if (!buf) {
        rc = loupe__store_error(store, LOUPE_ENOMEM, "out of memory reading artifact %s (%llu bytes)",
                                artifact_id, (unsigned long long)size);
        goto cleanup;
    }
    for (;;) {
        if (alloc - used < 2) {
            size_t na = alloc * 2;
            char *nb = na > alloc ? realloc(buf, na) : NULL;
            if (!nb) {
                rc = loupe__store_error(store, LOUPE_ENOMEM, "out of memory reading artifact %s",
                                        artifact_id);
                goto cleanup;
            }
            buf = nb;
            alloc = na;
        }
        size_t n = 0;
        rc = loupe_artifact_reader_read(r, buf + used, alloc - used - 1, &n);
        if (rc) goto cleanup;
        if (n == 0) break;
        used += n;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    buf = NULL;
    rc = LOUPE_OK;
cleanup:
    free(buf);
    loupe_artifact_reader_close(r);
    return rc;
}
