/*
 * artifact_store_fs.c -- the file-system artifact store, laid out like Optuna's
 * FileSystemArtifactStore: <base>/<artifact_id>, flat, no extension. Unlike
 * Python's store, writes are atomic: the bytes go to <base>/.loupe-tmp-<uuid>,
 * which is fsync'ed and renamed onto the id, then the directory is fsync'ed.
 * All paths are resolved relative to a descriptor of the base directory, and
 * ids were checked to be UUIDs by the caller, so nothing outside base is touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hitl/artifact_store.h"
#include "util/uuid.h"

#define TMP_PREFIX ".loupe-tmp-"
#define COPY_CHUNK (256 * 1024)

typedef struct fs_store {
    char *base;
    int dirfd;
} fs_store;

typedef struct fs_reader {
    int fd;
} fs_reader;

static int io_code(int e) { return e == ENOMEM ? LOUPE_ENOMEM : LOUPE_EIO; }

static const char *io_hint(int e) {
    switch (e) {
    case ENOSPC:
    case EDQUOT: return " (the disk is full: free space in the artifact directory's file system)";
    case EFBIG: return " (file size limit reached: raise the limit, e.g. ulimit -f, or upload less)";
    case EACCES:
    case EPERM:
    case EROFS: return " (no permission: make the artifact directory writable by this user)";
    default: return "";
    }
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

/* Writes the bytes of src_fd (when >= 0) or of data[0..len) under id,
 * atomically (see the file comment). */
static int fs_write(fs_store *fs, const char *id, int src_fd, const char *src_path,
                    const void *data, size_t len, char *err, size_t errcap) {
    char tmp[64], uuid[37];
    char *buf = NULL;
    int fd = -1, rc = LOUPE_OK;
    if (loupe__uuid4(uuid) != 0) {
        snprintf(err, errcap, "cannot make a temporary file name: the OS random source failed");
        return LOUPE_ERROR;
    }
    snprintf(tmp, sizeof tmp, TMP_PREFIX "%s", uuid);
    fd = openat(fs->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errcap, "cannot create a file in artifact directory '%s': %s%s", fs->base,
                 strerror(e), io_hint(e));
        return io_code(e);
    }
    if (src_fd >= 0) {
        buf = malloc(COPY_CHUNK);
        if (!buf) {
            snprintf(err, errcap, "out of memory");
            rc = LOUPE_ENOMEM;
            goto cleanup;
        }
        for (;;) {
            ssize_t n = read(src_fd, buf, COPY_CHUNK);
            if (n < 0) {
                if (errno == EINTR) continue;
                int e = errno;
                snprintf(err, errcap, "cannot read '%s': %s", src_path, strerror(e));
                rc = io_code(e);
                goto cleanup;
            }
            if (n == 0) break;
            if (write_all(fd, buf, (size_t)n) != 0) goto write_failed;
        }
    } else if (write_all(fd, data, len) != 0) {
        goto write_failed;
    }
    /* The bytes must be on disk before the name points at them. */
    if (fsync(fd) != 0) goto write_failed;
    if (close(fd) != 0) {
        fd = -1;
        goto write_failed;
    }
    fd = -1;
    if (renameat(fs->dirfd, tmp, fs->dirfd, id) != 0) {
        int e = errno;
        snprintf(err, errcap, "cannot rename '%s/%s' to '%s': %s%s", fs->base, tmp, id,
                 strerror(e), io_hint(e));
        rc = io_code(e);
        goto cleanup;
    }
    tmp[0] = '\0'; /* renamed: nothing to remove */
    /* Make the new name durable. File systems that cannot sync a directory
     * (EINVAL, ENOTSUP) are accepted; a real I/O error withdraws the blob so
     * that no unconfirmed file is left under the id. */
    if (fsync(fs->dirfd) != 0 && errno != EINVAL && errno != ENOTSUP) {
        int e = errno;
        unlinkat(fs->dirfd, id, 0);
        snprintf(err, errcap, "cannot sync artifact directory '%s': %s", fs->base, strerror(e));
        rc = io_code(e);
        goto cleanup;
    }
    rc = LOUPE_OK;
    goto cleanup;
write_failed: {
    int e = errno;
    snprintf(err, errcap, "cannot write artifact %s to '%s': %s%s", id, fs->base, strerror(e),
             io_hint(e));
    rc = io_code(e);
}
cleanup:
    if (fd >= 0) close(fd);
    if (tmp[0]) unlinkat(fs->dirfd, tmp, 0);
    free(buf);
    return rc;
}

static int fs_write_file(void *impl, const char *id, const char *path, char *err,
                         size_t errcap) {
    fs_store *fs = impl;
    int src = open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0) {
        int e = errno;
        snprintf(err, errcap, "cannot read '%s': %s", path, strerror(e));
        return e == ENOENT ? LOUPE_ENOTFOUND : io_code(e);
    }
    struct stat st;
    if (fstat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(src);
        snprintf(err, errcap, "'%s' is a directory: upload a regular file", path);
        return LOUPE_EINVAL;
    }
    int rc = fs_write(fs, id, src, path, NULL, 0, err, errcap);
    close(src);
    return rc;
}

static int fs_write_buffer(void *impl, const char *id, const void *data, size_t len, char *err,
                           size_t errcap) {
    return fs_write(impl, id, -1, NULL, data, len, err, errcap);
}

static int fs_open(void *impl, const char *id, void **reader, uint64_t *size, char *err,
                   size_t errcap) {
    fs_store *fs = impl;
    int fd = openat(fs->dirfd, id, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            snprintf(err, errcap, "artifact %s not found in '%s' (its file is missing: check the "
                     "artifact directory)", id, fs->base);
            return LOUPE_ENOTFOUND;
        }
        snprintf(err, errcap, "cannot open artifact %s in '%s': %s", id, fs->base, strerror(e));
        return io_code(e);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errcap, "artifact %s in '%s' is not a regular file", id, fs->base);
        return LOUPE_EIO;
    }
    fs_reader *r = malloc(sizeof *r);
    if (!r) {
        close(fd);
        snprintf(err, errcap, "out of memory");
        return LOUPE_ENOMEM;
    }
    r->fd = fd;
    *reader = r;
    *size = (uint64_t)st.st_size;
    return LOUPE_OK;
}

static int fs_read(void *impl, void *reader, void *buf, size_t cap, size_t *n_read, char *err,
                   size_t errcap) {
    fs_store *fs = impl;
    fs_reader *r = reader;
    for (;;) {
        ssize_t n = read(r->fd, buf, cap);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            snprintf(err, errcap, "cannot read an artifact in '%s': %s", fs->base, strerror(e));
            return io_code(e);
        }
        *n_read = (size_t)n;
        return LOUPE_OK;
    }
}

static void fs_close_reader(void *impl, void *reader) {
    (void)impl;
    fs_reader *r = reader;
    if (!r) return;
    close(r->fd);
    free(r);
}

static int fs_remove(void *impl, const char *id, char *err, size_t errcap) {
    fs_store *fs = impl;
    if (unlinkat(fs->dirfd, id, 0) != 0) {
        int e = errno;
        if (e == ENOENT) {
            snprintf(err, errcap, "artifact %s not found in '%s'", id, fs->base);
            return LOUPE_ENOTFOUND;
        }
        snprintf(err, errcap, "cannot remove artifact %s from '%s': %s%s", id, fs->base,
                 strerror(e), io_hint(e));
        return io_code(e);
    }
    fsync(fs->dirfd); /* durability of the removal; the file is gone either way */
    return LOUPE_OK;
}

static void fs_destroy(void *impl) {
    fs_store *fs = impl;
    if (!fs) return;
    if (fs->dirfd >= 0) close(fs->dirfd);
    free(fs->base);
    free(fs);
}

static const loupe_artifact_store_ops fs_ops = {
    .name = "filesystem",
    .write_file = fs_write_file,
    .write_buffer = fs_write_buffer,
    .open = fs_open,
    .read = fs_read,
    .close_reader = fs_close_reader,
    .remove = fs_remove,
    .destroy = fs_destroy,
};

/* Creates and removes a probe file: the only reliable writability test (access()
 * says yes to root on read-only file systems, and ACLs may say otherwise). */
static int probe_writable(fs_store *fs, char *err, size_t errcap) {
    char name[64], uuid[37];
    if (loupe__uuid4(uuid) != 0) {
        snprintf(err, errcap, "the OS random source failed");
        return LOUPE_ERROR;
    }
    snprintf(name, sizeof name, TMP_PREFIX "probe-%s", uuid);
    int fd = openat(fs->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errcap, "artifact directory '%s' is not writable: %s%s", fs->base,
                 strerror(e), io_hint(e) [0] ? io_hint(e) : " (make it writable by this user)");
        return LOUPE_EIO;
    }
    close(fd);
    unlinkat(fs->dirfd, name, 0);
    return LOUPE_OK;
}

int loupe_artifact_store_fs_open(const char *base_dir, loupe_artifact_store **out) {
    if (!out) return LOUPE_EINVAL;
    *out = NULL;
    char err[1024] = "";
    int rc = LOUPE_OK;
    fs_store *fs = calloc(1, sizeof *fs);
    if (!fs) return LOUPE_ENOMEM;
    fs->dirfd = -1;
    fs->base = strdup(base_dir ? base_dir : "");
    if (!fs->base) {
        free(fs);
        return LOUPE_ENOMEM;
    }
    if (!base_dir || !base_dir[0]) {
        snprintf(err, sizeof err, "artifact directory path is empty: pass an existing directory");
        rc = LOUPE_EINVAL;
        goto done;
    }
    struct stat st;
    if (stat(base_dir, &st) != 0) {
        int e = errno;
        if (e == ENOENT) {
            snprintf(err, sizeof err,
                     "artifact directory '%s' does not exist: create it first (like Optuna's "
                     "FileSystemArtifactStore, loupe does not create it)",
                     base_dir);
            rc = LOUPE_ENOTFOUND;
        } else {
            snprintf(err, sizeof err, "cannot access artifact directory '%s': %s", base_dir,
                     strerror(e));
            rc = io_code(e);
        }
        goto done;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, sizeof err, "'%s' is not a directory: pass the directory that holds the "
                 "artifacts", base_dir);
        rc = LOUPE_EINVAL;
        goto done;
    }
    fs->dirfd = open(base_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fs->dirfd < 0) {
        int e = errno;
        snprintf(err, sizeof err, "cannot open artifact directory '%s': %s", base_dir,
                 strerror(e));
        rc = io_code(e);
        goto done;
    }
    rc = probe_writable(fs, err, sizeof err);
done:;
    loupe_artifact_store *store = NULL;
    int nrc = loupe_artifact_store_new(&fs_ops, fs, &store);
    if (nrc) return nrc; /* fs was destroyed */
    if (rc) loupe__store_error(store, rc, "%s", err);
    *out = store;
    return rc;
}

int loupe_artifact_store_fs_sweep(loupe_artifact_store *store, int64_t min_age_seconds,
                                  size_t *n_removed) {
    if (n_removed) *n_removed = 0;
    if (!store) return LOUPE_EINVAL;
    if (store->ops != &fs_ops)
        return loupe__store_error(store, LOUPE_EINVAL,
                                  "sweeping temporary files needs a file-system store (this one "
                                  "is '%s')",
                                  store->ops->name ? store->ops->name : "?");
    fs_store *fs = store->impl;
    int dfd = fs->dirfd >= 0 ? dup(fs->dirfd) : -1;
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        int e = errno;
        if (dfd >= 0) close(dfd);
        return loupe__store_error(store, io_code(e), "cannot list artifact directory '%s': %s",
                                  fs->base, strerror(e));
    }
    rewinddir(d);
    time_t now = time(NULL);
    size_t removed = 0;
    int rc = LOUPE_OK;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strncmp(ent->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0) continue;
        struct stat st;
        if (fstatat(fs->dirfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (!S_ISREG(st.st_mode)) continue;
        if ((int64_t)(now - st.st_mtime) < min_age_seconds) continue;
        if (unlinkat(fs->dirfd, ent->d_name, 0) == 0) {
            removed++;
        } else if (errno != ENOENT) {
            int e = errno;
            rc = loupe__store_error(store, io_code(e), "cannot remove '%s/%s': %s", fs->base,
                                    ent->d_name, strerror(e));
        }
    }
    closedir(d);
    if (n_removed) *n_removed = removed;
    return rc;
}
