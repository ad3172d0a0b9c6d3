/* SPDX-License-Identifier: Apache-2.0
 *
 * A fault-injecting file layer for tests (see fileops.h), after sqlite's
 * test VFS: it forwards every call to a lower layer, counts writes, syncs,
 * opens and truncates, and makes the Nth one of a kind fail (EIO, ENOSPC, or
 * for writes a short write that stores only half of the bytes), once or from
 * then on. It is how the tests prove that a failed write or fsync puts the
 * log into its sticky ERROR state and that recovery copes with what is left.
 *
 * It does not simulate power loss (dropping writes that were never synced);
 * the torn-tail tests damage files directly instead.
 */
#include "storage/fileops.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "core/mem.h"

struct fault_arm {
    _Atomic int64_t at;   /* fire when the op count reaches this; 0 = disarmed */
    _Atomic int mode;     /* enum sl_fault_mode */
    _Atomic bool sticky;  /* keep firing after `at` */
};

struct sl_fileops_fault {
    struct sl_fileops ops; /* first: the vtable handed out is this struct */
    const struct sl_fileops *lower;
    char *suffix; /* NULL: all paths */
    _Atomic int64_t count[SL_FAULT_OP_MAX];
    struct fault_arm arm[SL_FAULT_OP_MAX];
    _Atomic int64_t injected;
};

struct fault_file {
    struct sl_file base;
    struct sl_file *lower;
    struct sl_fileops_fault *ff;
    bool match; /* path passes the filter */
};

static bool path_matches(const struct sl_fileops_fault *ff, const char *path)
{
    if (!ff->suffix)
        return true;
    size_t n = strlen(path), m = strlen(ff->suffix);
    return n >= m && strcmp(path + n - m, ff->suffix) == 0;
}

/* Counts one op of kind `op` and says whether it must fail; *mode gets the
 * failure mode. */
static bool fault_hit(struct sl_fileops_fault *ff, enum sl_fault_op op, bool match, int *mode)
{
    if (!match)
        return false;
    int64_t n = atomic_fetch_add(&ff->count[op], 1) + 1;
    int64_t at = atomic_load(&ff->arm[op].at);
    if (at <= 0)
        return false;
    if (n == at || (n > at && atomic_load(&ff->arm[op].sticky))) {
        *mode = atomic_load(&ff->arm[op].mode);
        atomic_fetch_add(&ff->injected, 1);
        return true;
    }
    return false;
}

static int mode_errno(int mode)
{
    return mode == SL_FAULT_ENOSPC ? -ENOSPC : -EIO;
}

static int ft_open(const struct sl_fileops *ops, const char *path, int flags, struct sl_file **out)
{
    struct sl_fileops_fault *ff = (struct sl_fileops_fault *)ops;
    bool match = path_matches(ff, path);
    int mode;
    if (fault_hit(ff, SL_FAULT_OP_OPEN, match, &mode))
        return mode_errno(mode);
    struct sl_file *lower = NULL;
    int rc = ff->lower->open(ff->lower, path, flags, &lower);
    if (rc < 0)
        return rc;
    struct fault_file *f = sl_xmalloc(sizeof(*f));
    f->base.ops = ops;
    f->lower = lower;
    f->ff = ff;
    f->match = match;
    *out = &f->base;
    return 0;
}

static void ft_close(struct sl_file *file)
{
    struct fault_file *f = (struct fault_file *)file;
    f->lower->ops->close(f->lower);
    free(f);
}

static ssize_t ft_pread(struct sl_file *file, void *buf, size_t n, int64_t off)
{
    struct fault_file *f = (struct fault_file *)file;
    return f->lower->ops->pread(f->lower, buf, n, off);
}

/* Shared by pwrite and append: `app` selects the lower call. */
static ssize_t ft_write(struct sl_file *file, const void *buf, size_t n, int64_t off, bool app)
{
    struct fault_file *f = (struct fault_file *)file;
    int mode;
    if (fault_hit(f->ff, SL_FAULT_OP_WRITE, f->match, &mode)) {
        if (mode != SL_FAULT_SHORT || n < 2)
            return mode_errno(mode);
        n /= 2; /* a torn write: half of the bytes reach the file */
        ssize_t r = app ? f->lower->ops->append(f->lower, buf, n, off)
                        : f->lower->ops->pwrite(f->lower, buf, n, off);
        return r;
    }
    return app ? f->lower->ops->append(f->lower, buf, n, off)
               : f->lower->ops->pwrite(f->lower, buf, n, off);
}

static ssize_t ft_pwrite(struct sl_file *file, const void *buf, size_t n, int64_t off)
{
    return ft_write(file, buf, n, off, false);
}

static ssize_t ft_append(struct sl_file *file, const void *buf, size_t n, int64_t off)
{
    return ft_write(file, buf, n, off, true);
}

static int ft_fdatasync(struct sl_file *file)
{
    struct fault_file *f = (struct fault_file *)file;
    int mode;
    if (fault_hit(f->ff, SL_FAULT_OP_SYNC, f->match, &mode))
        return mode_errno(mode);
    return f->lower->ops->fdatasync(f->lower);
}

static int ft_ftruncate(struct sl_file *file, int64_t size)
{
    struct fault_file *f = (struct fault_file *)file;
    int mode;
    if (fault_hit(f->ff, SL_FAULT_OP_TRUNCATE, f->match, &mode))
        return mode_errno(mode);
    return f->lower->ops->ftruncate(f->lower, size);
}

static int ft_size(struct sl_file *file, int64_t *size)
{
    struct fault_file *f = (struct fault_file *)file;
    return f->lower->ops->size(f->lower, size);
}

static int ft_raw_fd(struct sl_file *file)
{
    struct fault_file *f = (struct fault_file *)file;
    return f->lower->ops->raw_fd(f->lower);
}

static int ft_rename(const struct sl_fileops *ops, const char *from, const char *to)
{
    const struct sl_fileops_fault *ff = (const struct sl_fileops_fault *)ops;
    return ff->lower->rename(ff->lower, from, to);
}

static int ft_unlink(const struct sl_fileops *ops, const char *path)
{
    const struct sl_fileops_fault *ff = (const struct sl_fileops_fault *)ops;
    return ff->lower->unlink(ff->lower, path);
}

static int ft_mkdir(const struct sl_fileops *ops, const char *path)
{
    const struct sl_fileops_fault *ff = (const struct sl_fileops_fault *)ops;
    return ff->lower->mkdir(ff->lower, path);
}

static int ft_rmdir(const struct sl_fileops *ops, const char *path)
{
    const struct sl_fileops_fault *ff = (const struct sl_fileops_fault *)ops;
    return ff->lower->rmdir(ff->lower, path);
}

static int ft_fsync_dir(const struct sl_fileops *ops, const char *path)
{
    struct sl_fileops_fault *ff = (struct sl_fileops_fault *)ops;
    int mode;
    if (fault_hit(ff, SL_FAULT_OP_SYNC, path_matches(ff, path), &mode))
        return mode_errno(mode);
    return ff->lower->fsync_dir(ff->lower, path);
}

static int ft_list_dir(const struct sl_fileops *ops, const char *path,
                       int (*cb)(void *arg, const char *name), void *arg)
{
    const struct sl_fileops_fault *ff = (const struct sl_fileops_fault *)ops;
    return ff->lower->list_dir(ff->lower, path, cb, arg);
}

static int ft_blob_seal(const struct sl_fileops *ops, const char *path, const uint8_t *in,
                        size_t n, uint8_t **out, size_t *out_len)
{
    const struct sl_fileops_fault *ff = (const struct sl_fileops_fault *)ops;
    return ff->lower->blob_seal(ff->lower, path, in, n, out, out_len);
}

static int ft_blob_open(const struct sl_fileops *ops, const char *path, const uint8_t *in,
                        size_t n, uint8_t **out, size_t *out_len)
{
    const struct sl_fileops_fault *ff = (const struct sl_fileops_fault *)ops;
    return ff->lower->blob_open(ff->lower, path, in, n, out, out_len);
}

struct sl_fileops_fault *sl_fileops_fault_new(const struct sl_fileops *lower)
{
    struct sl_fileops_fault *ff = sl_xcalloc(1, sizeof(*ff));
    ff->ops = (struct sl_fileops){
        .name = "fault",
        .authenticated = lower->authenticated,
        .open = ft_open,
        .close = ft_close,
        .pread = ft_pread,
        .pwrite = ft_pwrite,
        .append = ft_append,
        .fdatasync = ft_fdatasync,
        .ftruncate = ft_ftruncate,
        .size = ft_size,
        .raw_fd = ft_raw_fd,
        .rename = ft_rename,
        .unlink = ft_unlink,
        .mkdir = ft_mkdir,
        .rmdir = ft_rmdir,
        .fsync_dir = ft_fsync_dir,
        .list_dir = ft_list_dir,
        .blob_seal = lower->blob_seal ? ft_blob_seal : NULL,
        .blob_open = lower->blob_open ? ft_blob_open : NULL,
    };
    ff->lower = lower;
    return ff;
}

void sl_fileops_fault_free(struct sl_fileops_fault *ff)
{
    if (!ff)
        return;
    free(ff->suffix);
    free(ff);
}

const struct sl_fileops *sl_fileops_fault_ops(struct sl_fileops_fault *ff)
{
    return &ff->ops;
}

void sl_fileops_fault_arm(struct sl_fileops_fault *ff, enum sl_fault_op op, int64_t nth,
                          enum sl_fault_mode mode, bool sticky)
{
    if (op < 0 || op >= SL_FAULT_OP_MAX || nth < 1)
        return;
    atomic_store(&ff->arm[op].at, 0); /* disarm while the fields change */
    atomic_store(&ff->arm[op].mode, (int)mode);
    atomic_store(&ff->arm[op].sticky, sticky);
    atomic_store(&ff->arm[op].at, atomic_load(&ff->count[op]) + nth);
}

void sl_fileops_fault_disarm(struct sl_fileops_fault *ff)
{
    for (int i = 0; i < SL_FAULT_OP_MAX; i++)
        atomic_store(&ff->arm[i].at, 0);
}

void sl_fileops_fault_filter(struct sl_fileops_fault *ff, const char *suffix)
{
    free(ff->suffix);
    ff->suffix = suffix ? sl_xstrdup(suffix) : NULL;
}

int64_t sl_fileops_fault_count(struct sl_fileops_fault *ff, enum sl_fault_op op)
{
    if (op < 0 || op >= SL_FAULT_OP_MAX)
        return 0;
    return atomic_load(&ff->count[op]);
}

int64_t sl_fileops_fault_injected(struct sl_fileops_fault *ff)
{
    return atomic_load(&ff->injected);
}
