/* SPDX-License-Identifier: Apache-2.0
 *
 * The file layer under the partition log, in the manner of the sqlite VFS
 * (sqlite src/os.c: sqlite3OsRead -> pMethods->xRead). Every byte the storage
 * code reads or writes, and every directory operation it performs, goes
 * through a `struct sl_fileops` vtable, so that layers can be stacked under
 * the log without the log knowing: the POSIX layer (sl_fileops_posix, here),
 * a fault-injecting layer for tests (fileops_fault.c, below), and later the
 * encryption-at-rest layer (src/crypto).
 *
 * Positions are LOGICAL: the offsets the log sees. A layer that transforms
 * bytes (seals each batch with AES-GCM, say) maps logical positions onto its
 * physical file as it likes; the log never learns the physical layout. To
 * make that possible the log promises a few things about how it writes:
 *   - data files (.log) are only ever written with `append`, one call per
 *     record batch, always at the current logical end: one call is one unit a
 *     sealing layer can frame (AAD = path + logical position);
 *   - data files are only truncated at a position some earlier `append`
 *     started at (a batch boundary);
 *   - small metadata files (indexes, checkpoint) are written with `pwrite`
 *     and are rewritten whole or in fixed slots.
 * `raw_fd` tells the log whether the logical bytes ARE the file bytes (so
 * fetch may sendfile(2) from the fd) or not (-1: readers must use pread).
 *
 * Error convention: every operation returns >= 0 on success (a byte count for
 * pread/pwrite/append) and a negative errno value on failure; errno itself is
 * not relied on. Thread-safety: an sl_file may be used by several threads at
 * once for pread/pwrite/append at distinct ranges (as with the POSIX calls);
 * close must not race with any other use.
 *
 * Left out: memory mapping (the indexes are kept in memory instead),
 * fallocate-style preallocation, file locking.
 */
#ifndef SL_STORAGE_FILEOPS_H
#define SL_STORAGE_FILEOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sl_fileops;

/* An open file. Layers allocate a larger struct that begins with this one. */
struct sl_file {
    const struct sl_fileops *ops; /* the layer that opened it */
};

/* Open flags (a bit set). New files get mode 0600: data at rest is private. */
enum {
    SL_FILE_RDONLY = 0,
    SL_FILE_RDWR = 1 << 0,
    SL_FILE_CREATE = 1 << 1, /* create if missing */
    SL_FILE_TRUNC = 1 << 2,  /* truncate to 0 on open */
    SL_FILE_EXCL = 1 << 3,   /* with CREATE: fail with -EEXIST if it exists */
};

struct sl_fileops {
    const char *name; /* "posix", "fault", "aead", ... for logs */
    /* The layer authenticates data files (reads of altered bytes fail with
     * -EBADMSG): recovery then treats damage in flushed data, and a log
     * that ends below its checkpointed recovery point, as tampering to
     * report, not as a tail to cut. */
    bool authenticated;

    /* Opens path; on success stores a new file in *out (release with close). */
    int (*open)(const struct sl_fileops *ops, const char *path, int flags, struct sl_file **out);
    /* Closes and frees the file. Never fails from the caller's point of view. */
    void (*close)(struct sl_file *f);
    /* Reads up to n bytes at logical position off; returns the count (0 at the
     * end) or -errno. May return fewer than n only at the end of the file. */
    ssize_t (*pread)(struct sl_file *f, void *buf, size_t n, int64_t off);
    /* Writes n bytes at off (metadata files); returns the count or -errno. A
     * short count is possible (the caller writes the rest). */
    ssize_t (*pwrite)(struct sl_file *f, const void *buf, size_t n, int64_t off);
    /* Appends one unit (one record batch) at off, which must equal the
     * current logical size; returns n, or a short count or -errno on failure
     * (the log treats anything but n as a failed write). */
    ssize_t (*append)(struct sl_file *f, const void *buf, size_t n, int64_t off);
    /* Makes the file's data durable (fdatasync(2)); 0 or -errno. After a
     * failure the state of unsynced data is unknown: callers must not retry
     * and assume success. */
    int (*fdatasync)(struct sl_file *f);
    /* Sets the logical size (only ever shrinks data files, at a unit
     * boundary); 0 or -errno. */
    int (*ftruncate)(struct sl_file *f, int64_t size);
    /* Stores the logical size in *size; 0 or -errno. */
    int (*size)(struct sl_file *f, int64_t *size);
    /* The fd whose bytes equal the logical bytes (for sendfile), or -1 when
     * the layer transforms the bytes. The fd stays owned by the file. */
    int (*raw_fd)(struct sl_file *f);

    /* Namespace operations; 0 or -errno. */
    int (*rename)(const struct sl_fileops *ops, const char *from, const char *to);
    int (*unlink)(const struct sl_fileops *ops, const char *path);
    int (*mkdir)(const struct sl_fileops *ops, const char *path); /* -EEXIST if present */
    int (*rmdir)(const struct sl_fileops *ops, const char *path);
    /* Makes the directory's entries (creates, renames) durable. */
    int (*fsync_dir)(const struct sl_fileops *ops, const char *path);
    /* Calls cb(arg, name) for each entry but "." and ".."; stops early when cb
     * returns non-zero. Returns 0 or -errno. */
    int (*list_dir)(const struct sl_fileops *ops, const char *path,
                    int (*cb)(void *arg, const char *name), void *arg);

    /* Small files written and read whole (producer state snapshots), via
     * sl_file_replace_blob and sl_file_read_blob. Optional: NULL stores the
     * bytes as given. A layer that seals stores new memory (caller frees,
     * wiping it first if it holds secrets) in *out, *out_len bytes, bound
     * to path's last two components. blob_open: 0, -EPROTO (not sealed), -ENOKEY,
     * -EKEYREJECTED, -EBADMSG (altered, or another file's). */
    int (*blob_seal)(const struct sl_fileops *ops, const char *path, const uint8_t *in, size_t n,
                     uint8_t **out, size_t *out_len);
    int (*blob_open)(const struct sl_fileops *ops, const char *path, const uint8_t *in, size_t n,
                     uint8_t **out, size_t *out_len);
};

/* The default layer: plain POSIX calls on the named files. Logical bytes are
 * file bytes (raw_fd returns the fd). Stateless; thread-safe. */
extern const struct sl_fileops sl_fileops_posix;

/* Convenience wrappers: the usual way to call through the vtable. */
static inline ssize_t sl_file_pread(struct sl_file *f, void *buf, size_t n, int64_t off)
{
    return f->ops->pread(f, buf, n, off);
}
static inline ssize_t sl_file_append(struct sl_file *f, const void *buf, size_t n, int64_t off)
{
    return f->ops->append(f, buf, n, off);
}
static inline int sl_file_fdatasync(struct sl_file *f)
{
    return f->ops->fdatasync(f);
}
static inline int sl_file_ftruncate(struct sl_file *f, int64_t size)
{
    return f->ops->ftruncate(f, size);
}
static inline int sl_file_size(struct sl_file *f, int64_t *size)
{
    return f->ops->size(f, size);
}
static inline int sl_file_raw_fd(struct sl_file *f)
{
    return f->ops->raw_fd(f);
}
static inline void sl_file_close(struct sl_file *f)
{
    if (f)
        f->ops->close(f);
}

/* Reads exactly n bytes at off, looping over short reads. Returns n, the
 * smaller count actually available when the file ends first, or -errno.
 * Borrows buf. Same thread-safety as pread. */
ssize_t sl_file_pread_full(struct sl_file *f, void *buf, size_t n, int64_t off);

/* Writes all n bytes at off with pwrite, looping over short writes. Returns 0
 * or -errno (-EIO if the layer makes no progress). Borrows buf. */
int sl_file_pwrite_full(struct sl_file *f, const void *buf, size_t n, int64_t off);

/* Replaces the file at `path` by `n` bytes durably: writes "<path>.tmp",
 * fdatasyncs it, and renames it over path. The rename itself becomes durable
 * only with a later fsync_dir of the directory (the caller batches that).
 * Returns 0 or -errno; on failure the tmp file is removed (best effort).
 * Borrows everything. Thread-safe for distinct paths. */
int sl_file_replace(const struct sl_fileops *ops, const char *path, const void *data, size_t n);

/* sl_file_replace for a small file that holds state worth protecting
 * (producer state snapshots): sealed as a blob by a layer that seals
 * (blob_seal), stored as given otherwise. 0 or -errno. */
int sl_file_replace_blob(const struct sl_fileops *ops, const char *path, const void *data,
                         size_t n);

/* Reads a file written by sl_file_replace_blob (at most max bytes on disk)
 * and opens it (blob_open) if the layer seals: new memory in *out (caller
 * frees), *n bytes. 0, -ENOENT, -EFBIG (over max), or the
 * errors of blob_open (-EPROTO: a clear file where a sealed one belongs). */
int sl_file_read_blob(const struct sl_fileops *ops, const char *path, size_t max, uint8_t **out,
                      size_t *n);

/* ------------------------------------------------------------------------
 * Fault injection (tests): a layer that wraps another and fails chosen
 * operations, like sqlite's test VFS and DO_OS_MALLOC_TEST. Counting is per
 * fault layer and thread-safe (atomics); an optional path suffix filter
 * restricts counting and faults to matching files (".log", ".checkpoint").
 */

enum sl_fault_op {
    SL_FAULT_OP_WRITE = 0, /* pwrite and append */
    SL_FAULT_OP_SYNC,      /* fdatasync and fsync_dir */
    SL_FAULT_OP_OPEN,      /* open */
    SL_FAULT_OP_TRUNCATE,  /* ftruncate */
    SL_FAULT_OP_MAX
};

enum sl_fault_mode {
    SL_FAULT_EIO = 0, /* fail with -EIO, nothing written */
    SL_FAULT_ENOSPC,  /* fail with -ENOSPC, nothing written */
    SL_FAULT_SHORT,   /* writes only: write the first half, return that count */
    SL_FAULT_MODE_MAX
};

struct sl_fileops_fault;

/* Returns a new fault layer over `lower` (borrowed; must outlive it), with
 * nothing armed. Free with sl_fileops_fault_free once no file opened through
 * it is still open. */
struct sl_fileops_fault *sl_fileops_fault_new(const struct sl_fileops *lower);
void sl_fileops_fault_free(struct sl_fileops_fault *ff);

/* The vtable to hand to sl_log_open (borrowed from ff). */
const struct sl_fileops *sl_fileops_fault_ops(struct sl_fileops_fault *ff);

/* Arms one fault: the nth operation of kind `op` counted from now (n >= 1)
 * fails in `mode`; with `sticky`, every later one of that kind fails too (a
 * dead disk). Re-arming an op replaces its previous setting. Any thread. */
void sl_fileops_fault_arm(struct sl_fileops_fault *ff, enum sl_fault_op op, int64_t nth,
                          enum sl_fault_mode mode, bool sticky);
/* Disarms every fault (counters keep running). Any thread. */
void sl_fileops_fault_disarm(struct sl_fileops_fault *ff);
/* Counts and injects only for paths ending in `suffix` (copied; NULL = all
 * paths). Call before opening the files it should apply to. */
void sl_fileops_fault_filter(struct sl_fileops_fault *ff, const char *suffix);
/* Operations of kind op seen so far (matching the filter), and faults
 * injected so far (all kinds). */
int64_t sl_fileops_fault_count(struct sl_fileops_fault *ff, enum sl_fault_op op);
int64_t sl_fileops_fault_injected(struct sl_fileops_fault *ff);

#endif
