/* SPDX-License-Identifier: Apache-2.0
 *
 * The POSIX file layer (sl_fileops_posix) and the small helpers every
 * storage file uses on top of any layer (full reads and writes, durable
 * replace-by-rename). The POSIX layer is a thin veneer: EINTR is retried,
 * errors come back as -errno, files are created 0600 and directories 0700,
 * every descriptor is O_CLOEXEC. Logical bytes are file bytes, so raw_fd
 * exposes the descriptor for sendfile(2).
 */
#include "storage/fileops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"

struct posix_file {
    struct sl_file base;
    int fd;
};

static int px_open(const struct sl_fileops *ops, const char *path, int flags, struct sl_file **out)
{
    int oflags = O_CLOEXEC | ((flags & SL_FILE_RDWR) ? O_RDWR : O_RDONLY);
    if (flags & SL_FILE_CREATE)
        oflags |= O_CREAT;
    if (flags & SL_FILE_TRUNC)
        oflags |= O_TRUNC;
    if (flags & SL_FILE_EXCL)
        oflags |= O_EXCL;
    int fd;
    do {
        fd = open(path, oflags, 0600);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    struct posix_file *pf = sl_xmalloc(sizeof(*pf));
    pf->base.ops = ops;
    pf->fd = fd;
    *out = &pf->base;
    return 0;
}

static void px_close(struct sl_file *f)
{
    struct posix_file *pf = (struct posix_file *)f;
    /* close(2) may report a deferred write error on some file systems; the
     * log never relies on close for durability (it fdatasyncs first). */
    (void)close(pf->fd);
    free(pf);
}

static ssize_t px_pread(struct sl_file *f, void *buf, size_t n, int64_t off)
{
    struct posix_file *pf = (struct posix_file *)f;
    ssize_t r;
    do {
        r = pread(pf->fd, buf, n, (off_t)off);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static ssize_t px_pwrite(struct sl_file *f, const void *buf, size_t n, int64_t off)
{
    struct posix_file *pf = (struct posix_file *)f;
    ssize_t r;
    do {
        r = pwrite(pf->fd, buf, n, (off_t)off);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

/* One unit at the end. A regular file only writes short on ENOSPC/EFBIG or a
 * signal; loop so that a signal does not turn into a storage error, and let
 * the next pwrite report the real errno. */
static ssize_t px_append(struct sl_file *f, const void *buf, size_t n, int64_t off)
{
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t r = px_pwrite(f, p + done, n - done, off + (int64_t)done);
        if (r < 0)
            return done ? (ssize_t)done : r;
        if (r == 0)
            return (ssize_t)done;
        done += (size_t)r;
    }
    return (ssize_t)n;
}

static int px_fdatasync(struct sl_file *f)
{
    struct posix_file *pf = (struct posix_file *)f;
    /* No EINTR retry: fdatasync is not interrupted by signals on Linux, and
     * a retry after a real failure would falsely report success. */
    return fdatasync(pf->fd) < 0 ? -errno : 0;
}

static int px_ftruncate(struct sl_file *f, int64_t size)
{
    struct posix_file *pf = (struct posix_file *)f;
    int r;
    do {
        r = ftruncate(pf->fd, (off_t)size);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

static int px_size(struct sl_file *f, int64_t *size)
{
    struct posix_file *pf = (struct posix_file *)f;
    struct stat st;
    if (fstat(pf->fd, &st) < 0)
        return -errno;
    *size = (int64_t)st.st_size;
    return 0;
}

static int px_raw_fd(struct sl_file *f)
{
    return ((struct posix_file *)f)->fd;
}

static int px_rename(const struct sl_fileops *ops, const char *from, const char *to)
{
    return rename(from, to) < 0 ? -errno : 0;
}

static int px_unlink(const struct sl_fileops *ops, const char *path)
{
    return unlink(path) < 0 ? -errno : 0;
}

static int px_mkdir(const struct sl_fileops *ops, const char *path)
{
    return mkdir(path, 0700) < 0 ? -errno : 0;
}

static int px_rmdir(const struct sl_fileops *ops, const char *path)
{
    return rmdir(path) < 0 ? -errno : 0;
}

static int px_fsync_dir(const struct sl_fileops *ops, const char *path)
{
    int fd;
    do {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    (void)close(fd);
    return rc;
}

static int px_list_dir(const struct sl_fileops *ops, const char *path,
                       int (*cb)(void *arg, const char *name), void *arg)
{
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            rc = errno ? -errno : 0;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (cb(arg, de->d_name) != 0)
            break;
    }
    closedir(d);
    return rc;
}

const struct sl_fileops sl_fileops_posix = {
    .name = "posix",
    .open = px_open,
    .close = px_close,
    .pread = px_pread,
    .pwrite = px_pwrite,
    .append = px_append,
    .fdatasync = px_fdatasync,
    .ftruncate = px_ftruncate,
    .size = px_size,
    .raw_fd = px_raw_fd,
    .rename = px_rename,
    .unlink = px_unlink,
    .mkdir = px_mkdir,
    .rmdir = px_rmdir,
    .fsync_dir = px_fsync_dir,
    .list_dir = px_list_dir,
};

ssize_t sl_file_pread_full(struct sl_file *f, void *buf, size_t n, int64_t off)
{
    uint8_t *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t r = f->ops->pread(f, p + done, n - done, off + (int64_t)done);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

int sl_file_pwrite_full(struct sl_file *f, const void *buf, size_t n, int64_t off)
{
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t r = f->ops->pwrite(f, p + done, n - done, off + (int64_t)done);
        if (r < 0)
            return (int)r;
        if (r == 0)
            return -EIO;
        done += (size_t)r;
    }
    return 0;
}

int sl_file_replace(const struct sl_fileops *ops, const char *path, const void *data, size_t n)
{
    char tmp[4096];
    int len = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (len < 0 || (size_t)len >= sizeof(tmp))
        return -ENAMETOOLONG;
    struct sl_file *f = NULL;
    int rc = ops->open(ops, tmp, SL_FILE_RDWR | SL_FILE_CREATE | SL_FILE_TRUNC, &f);
    if (rc < 0)
        return rc;
    rc = sl_file_pwrite_full(f, data, n, 0);
    if (rc == 0)
        rc = f->ops->fdatasync(f);
    f->ops->close(f);
    if (rc == 0)
        rc = ops->rename(ops, tmp, path);
    if (rc < 0)
        (void)ops->unlink(ops, tmp);
    return rc;
}

int sl_file_replace_blob(const struct sl_fileops *ops, const char *path, const void *data,
                         size_t n)
{
    if (!ops->blob_seal)
        return sl_file_replace(ops, path, data, n);
    uint8_t *sealed = NULL;
    size_t slen = 0;
    int rc = ops->blob_seal(ops, path, data, n, &sealed, &slen);
    if (rc == 0)
        rc = sl_file_replace(ops, path, sealed, slen);
    free(sealed);
    return rc;
}

int sl_file_read_blob(const struct sl_fileops *ops, const char *path, size_t max, uint8_t **out,
                      size_t *n)
{
    struct sl_file *f = NULL;
    int rc = ops->open(ops, path, SL_FILE_RDONLY, &f);
    if (rc < 0)
        return rc;
    int64_t size = 0;
    rc = f->ops->size(f, &size);
    uint8_t *buf = NULL;
    if (rc == 0 && (size < 0 || (uint64_t)size > max))
        rc = -EFBIG;
    if (rc == 0) {
        buf = sl_xmalloc(size > 0 ? (size_t)size : 1);
        ssize_t r = sl_file_pread_full(f, buf, (size_t)size, 0);
        rc = r < 0 ? (int)r : (r != size ? -EIO : 0);
    }
    f->ops->close(f);
    if (rc == 0 && ops->blob_open) {
        uint8_t *pt = NULL;
        size_t ptn = 0;
        rc = ops->blob_open(ops, path, buf, (size_t)size, &pt, &ptn);
        free(buf);
        buf = pt;
        size = (int64_t)ptn;
    }
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *n = (size_t)size;
    return 0;
}
