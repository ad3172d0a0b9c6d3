/* SPDX-License-Identifier: Apache-2.0
 *
 * The partition log (log.h): configuration, open and close, the append path
 * and rolls, fetch reads, timestamp queries, flush and the checkpoint file.
 * What sl_log_open finds on disk is handled in recovery.c; retention and
 * DeleteRecords in retention.c; segments and indexes in segment.c/index.c.
 *
 * NOTES ON THE DESIGN OF THE LOG
 *
 * A log is a list of segments (segment.h), oldest first; the last one is the
 * active segment and the only one appended to. A batch is written exactly as
 * validated, with two fields (base offset, leader epoch) filled in place;
 * they lie outside the CRC, so the stored batch is still a valid wire batch.
 * Three locks (order and scope in log_int.h): log_flush_mu (flush, checkpoint,
 * deletions; may span fsync), log_mu (appends; spans the write(2) into the
 * page cache only), log_segs_rw (the segment array; in memory only).
 * Readers take no lock but a brief shared log_segs_rw to pick and reference a
 * segment; they rely on publication order instead.
 *
 * Invariants:
 *  1. Offsets are contiguous: each batch's base offset is the previous
 *     batch's last offset + 1; a segment's first batch starts at the
 *     segment's base offset, which is the previous segment's end offset.
 *  2. Bytes below a segment's seg_end_pos are whole, valid batches and are
 *     never rewritten. Appends write only at seg_end_pos.
 *  3. One append publishes in this order, with release stores: the bytes,
 *     seg_end_pos, index entries, seg_max_ts, seg_end_off, log_leo. Readers
 *     load in the reverse order with acquire loads. So an offset below the
 *     LEO a reader loaded is in a segment it can find, below that segment's
 *     end position.
 *  4. A reader never sees bytes past the published end position: every
 *     scan and every slice is bounded by a seg_end_pos it loaded.
 *  5. The index never points past the published end: an entry is published
 *     after the bytes it points to (3), and readers load the index count
 *     before the end position.
 *  6. The index arrays of a segment other threads can see never move: the
 *     active segment's are allocated at full capacity, and the log rolls
 *     before either is full (sl_segment_index_full).
 *  7. log_flushed <= LEO, and every byte below log_flushed has been
 *     fdatasync'd, with the directory entry of its file.
 *  8. The checkpoint's recovery point <= log_flushed (it may lag: a stale
 *     recovery point only makes an unclean start validate more).
 *  9. log_start only grows, and start <= LEO. DeleteRecords makes the new
 *     start durable before it answers.
 * 10. No fsync runs under log_mu: appends never wait for the disk.
 * 11. Storage errors are sticky: after a failed write, sync or checkpoint
 *     the state is ERROR for the rest of this log object's life; appends,
 *     reads and flushes answer KAFKA_STORAGE_ERROR. Only a reopen (recovery)
 *     returns to OPEN.
 * 12. There is always at least one segment, and the active one is never
 *     deleted.
 *
 * State machine (each arrow names the function that takes it):
 *
 *                      sl_log_open (recovery.c: sl_log__recover)
 *                               |
 *                               v
 *    +----------------------> OPEN ---- a write, fsync or checkpoint fails ---> ERROR
 *    |                       |    |     (sl_log__fail, from sl_log_append,        |
 *    |                       |    |      sl_log__roll, sl_log__flush_locked,      |
 *    |                       |    |      retention.c)                             |
 *    |                       |    +--- sl_log_mark_deleted ---> DELETED           |
 *    |                       |         (a flag: appends refused)  |               |
 *    |   last sl_log_unref:  |          last sl_log_unref:        |  last         |
 *    |   close_flush (data,  |          remove_all (files, dir)   |  sl_log_unref |
 *    |   index files, final  |                                    |  (no flush)   |
 *    |   checkpoint)         v                                    v               v
 *    +--- sl_log_open ---- CLOSED (clean)                        GONE      CLOSED (unclean:
 *         (clean = true)                                                  reopen with
 *                                                                         clean = false)
 */
#include "storage/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/crc32c.h"
#include "core/logging.h"
#include "core/mem.h"
#include "storage/batch.h"
#include "storage/log_int.h"

/* Checkpoint file: two 64-byte slots at 0 and 512 (distinct sectors), written
 * alternately, so a torn write damages at most the slot being written. */
#define CKPT_SLOT_SIZE 64
#define CKPT_SLOT_STRIDE 512
#define CKPT_VERSION 1
static const uint8_t ckpt_magic[4] = {'S', 'L', 'C', 'K'};

/* Tags the memory a slice hands out when the file layer transforms bytes. */
#define SLICE_MEM_KIND 0x534c4d45u /* "SLME" */
struct slice_mem {
    uint32_t kind; /* first, like struct sl_segment's _kind */
    uint8_t data[];
};

/* ------------------------------------------------------------------------
 * Configuration
 */

void sl_log_config_defaults(struct sl_log_config *c)
{
    c->segment_bytes = 1073741824;
    c->segment_ms = 604800000;
    c->retention_ms = 604800000;
    c->retention_bytes = -1;
    c->index_interval_bytes = 4096;
    c->segment_index_bytes = 10485760;
    c->file_delete_delay_ms = 60000;
    c->checkpoint_interval_ms = 1000;
}

sl_err_t sl_log_config_check(const struct sl_log_config *c, char *err, size_t errlen)
{
#define BAD(key, val, why)                                                                         \
    do {                                                                                           \
        snprintf(err, errlen, "%s = %" PRId64 ": %s", key, (int64_t)(val), why);                  \
        return SL_ERR__INVAL;                                                                      \
    } while (0)
    if (c->segment_bytes < SL_BATCH_HEADER_SIZE || c->segment_bytes > INT32_MAX)
        BAD("segment.bytes", c->segment_bytes, "must be in [61, 2147483647]");
    if (c->segment_ms < 1)
        BAD("segment.ms", c->segment_ms, "must be >= 1");
    /* Any negative retention means unlimited, as in Kafka's UnifiedLog. */
    if (c->index_interval_bytes < 0)
        BAD("index.interval.bytes", c->index_interval_bytes, "must be >= 0");
    if (c->segment_index_bytes < 4)
        BAD("segment.index.bytes", c->segment_index_bytes, "must be >= 4");
    if (c->file_delete_delay_ms < 0)
        BAD("file.delete.delay.ms", c->file_delete_delay_ms, "must be >= 0");
    if (c->checkpoint_interval_ms < 0)
        BAD("sluice.log.checkpoint.interval.ms", c->checkpoint_interval_ms, "must be >= 0");
#undef BAD
    return SL_ERR_NONE;
}

void sl_log_set_config(struct sl_log *log, const struct sl_log_config *cfg)
{
    char why[256];
    struct sl_log_config c = *cfg;
    if (sl_log_config_check(&c, why, sizeof(why)) != SL_ERR_NONE) {
        SL_WARN("storage", "%s: invalid config (%s): keeping the previous value for it",
                log->log_dir, why);
        pthread_mutex_lock(&log->log_mu);
        struct sl_log_config old = log->log_cfg;
        pthread_mutex_unlock(&log->log_mu);
        /* Keep every field that is valid; replace the bad ones by the old. */
        struct sl_log_config probe = old;
#define TAKE(f)                                                                                    \
    do {                                                                                           \
        probe.f = c.f;                                                                             \
        if (sl_log_config_check(&probe, why, sizeof(why)) != SL_ERR_NONE)                          \
            probe.f = old.f;                                                                       \
    } while (0)
        TAKE(segment_bytes);
        TAKE(segment_ms);
        TAKE(retention_ms);
        TAKE(retention_bytes);
        TAKE(index_interval_bytes);
        TAKE(segment_index_bytes);
        TAKE(file_delete_delay_ms);
        TAKE(checkpoint_interval_ms);
#undef TAKE
        c = probe;
    }
    pthread_mutex_lock(&log->log_mu);
    log->log_cfg = c;
    pthread_mutex_unlock(&log->log_mu);
}

/* ------------------------------------------------------------------------
 * Small shared helpers
 */

void sl_log__fail(struct sl_log *log, const char *what, const char *path, int oserr)
{
    int expected = SL_LOG_ST_OPEN;
    if (atomic_compare_exchange_strong(&log->log_state, &expected, SL_LOG_ST_ERROR))
        SL_ERROR("storage", "%s: %s failed on %s: %s; the log is now in ERROR (appends refused "
                            "until it is reopened)",
                 log->log_dir, what, path ? path : "(dir)", strerror(oserr < 0 ? -oserr : EIO));
}

static bool in_error(struct sl_log *log)
{
    return atomic_load_explicit(&log->log_state, memory_order_acquire) != SL_LOG_ST_OPEN;
}

bool sl_log_in_error(struct sl_log *log)
{
    return in_error(log);
}

void sl_log__push_segment(struct sl_log *log, struct sl_segment *seg)
{
    if (log->log_nsegs == log->log_segs_cap) {
        size_t cap = log->log_segs_cap ? log->log_segs_cap * 2 : 8;
        log->log_segs = sl_xrealloc(log->log_segs, cap * sizeof(*log->log_segs));
        log->log_segs_cap = cap;
    }
    log->log_segs[log->log_nsegs++] = seg;
}

static struct sl_segment *active_seg(struct sl_log *log)
{
    return log->log_segs[log->log_nsegs - 1];
}

/* The last segment whose base is <= offset, or NULL. Caller holds
 * log_segs_rw (shared) or log_mu. */
static struct sl_segment *find_segment(struct sl_log *log, int64_t offset)
{
    size_t lo = 0, hi = log->log_nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->log_segs[mid]->seg_base <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? log->log_segs[lo - 1] : NULL;
}

/* ------------------------------------------------------------------------
 * Checkpoint
 */

static bool ckpt_decode(const uint8_t *b, uint64_t *seq, int64_t *start, int64_t *rp)
{
    if (memcmp(b, ckpt_magic, 4) != 0 || sl_be16(b + 4) != CKPT_VERSION)
        return false;
    if (sl_crc32c(0, b, 32) != sl_be32(b + 32))
        return false;
    *seq = sl_be64(b + 8);
    *start = (int64_t)sl_be64(b + 16);
    *rp = (int64_t)sl_be64(b + 24);
    return *start >= 0 && *rp >= -1;
}

bool sl_log__read_checkpoint(struct sl_log *log, int64_t *start, int64_t *rp)
{
    bool found = false;
    uint64_t best = 0;
    for (int slot = 0; slot < 2; slot++) {
        uint8_t b[CKPT_SLOT_SIZE];
        ssize_t r = sl_file_pread_full(log->log_ckpt, b, sizeof(b), slot * CKPT_SLOT_STRIDE);
        uint64_t seq;
        int64_t s, p;
        if (r != (ssize_t)sizeof(b) || !ckpt_decode(b, &seq, &s, &p))
            continue;
        if (!found || seq > best) {
            found = true;
            best = seq;
            *start = s;
            *rp = p;
        }
    }
    log->log_ckpt_seq = found ? best : 0;
    if (found) {
        log->log_ckpt_start = *start;
        log->log_ckpt_rp = *rp;
    }
    return found;
}

int sl_log__write_checkpoint(struct sl_log *log, int64_t start, int64_t rp)
{
    uint8_t b[CKPT_SLOT_SIZE] = {0};
    uint64_t seq = log->log_ckpt_seq + 1;
    memcpy(b, ckpt_magic, 4);
    sl_put_be16(b + 4, CKPT_VERSION);
    sl_put_be64(b + 8, seq);
    sl_put_be64(b + 16, (uint64_t)start);
    sl_put_be64(b + 24, (uint64_t)rp);
    sl_put_be32(b + 32, sl_crc32c(0, b, 32));
    int64_t slot_pos = (int64_t)(seq & 1) * CKPT_SLOT_STRIDE;
    int rc = sl_file_pwrite_full(log->log_ckpt, b, sizeof(b), slot_pos);
    if (rc == 0)
        rc = sl_file_fdatasync(log->log_ckpt);
    if (rc == 0) {
        log->log_ckpt_seq = seq;
        log->log_ckpt_mono_ms = sl_mono_ms();
        log->log_ckpt_start = start;
        log->log_ckpt_rp = rp;
    }
    return rc;
}

/* ------------------------------------------------------------------------
 * Open, reference counting, close
 */

static void log_free(struct sl_log *log)
{
    for (size_t i = 0; i < log->log_nsegs; i++)
        sl_segment_unref(log->log_segs[i]);
    free(log->log_segs);
    sl_file_close(log->log_ckpt);
    for (size_t i = 0; i < log->log_npend; i++)
        free(log->log_pend[i].path);
    free(log->log_pend);
    pthread_mutex_destroy(&log->log_flush_mu);
    pthread_mutex_destroy(&log->log_mu);
    pthread_rwlock_destroy(&log->log_segs_rw);
    free(log->log_dir);
    free(log);
}

sl_err_t sl_log_open(const struct sl_fileops *ops, const char *dir, const struct sl_log_config *cfg,
                     bool clean, struct sl_log **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen)
        err[0] = '\0';
    sl_err_t rc = sl_log_config_check(cfg, err, errlen);
    if (rc != SL_ERR_NONE)
        return rc;
    struct sl_log *log = sl_xcalloc(1, sizeof(*log));
    atomic_init(&log->log_refs, 1);
    log->log_ops = ops;
    /* Strip trailing slashes so that paths built from it are canonical. */
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    log->log_dir = sl_xstrndup(dir, dl);
    pthread_mutex_init(&log->log_flush_mu, NULL);
    pthread_mutex_init(&log->log_mu, NULL);
    /* Writers first: a roll (under log_mu) must not starve behind a steady
     * stream of fetches, or appends would stall. */
    pthread_rwlockattr_t rwa;
    pthread_rwlockattr_init(&rwa);
    pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&log->log_segs_rw, &rwa);
    pthread_rwlockattr_destroy(&rwa);
    log->log_cfg = *cfg;
    atomic_init(&log->log_state, SL_LOG_ST_OPEN);
    atomic_init(&log->log_deleted, false);
    atomic_init(&log->log_start, 0);
    atomic_init(&log->log_leo, 0);
    atomic_init(&log->log_flushed, 0);
    atomic_init(&log->log_dir_dirty, false);
    rc = sl_log__recover(log, clean, err, errlen);
    if (rc != SL_ERR_NONE) {
        log_free(log);
        return rc;
    }
    *out = log;
    return SL_ERR_NONE;
}

void sl_log_ref(struct sl_log *log)
{
    atomic_fetch_add_explicit(&log->log_refs, 1, memory_order_relaxed);
}

struct name_list {
    char **v;
    size_t n, cap;
};

static int collect_name(void *arg, const char *name)
{
    struct name_list *nl = arg;
    if (nl->n == nl->cap) {
        nl->cap = nl->cap ? nl->cap * 2 : 16;
        nl->v = sl_xrealloc(nl->v, nl->cap * sizeof(*nl->v));
    }
    nl->v[nl->n++] = sl_xstrdup(name);
    return 0;
}

/* Removes every file of a deleted log, then the directory. Collects the
 * names first: unlinking while reading a directory is unspecified. */
static void remove_all(struct sl_log *log)
{
    const struct sl_fileops *ops = log->log_ops;
    struct name_list nl = {0};
    int rc = ops->list_dir(ops, log->log_dir, collect_name, &nl);
    if (rc < 0)
        SL_WARN("storage", "%s: cannot list for deletion: %s", log->log_dir, strerror(-rc));
    char path[4096];
    for (size_t i = 0; i < nl.n; i++) {
        int len = snprintf(path, sizeof(path), "%s/%s", log->log_dir, nl.v[i]);
        if (len > 0 && (size_t)len < sizeof(path) && (rc = ops->unlink(ops, path)) < 0 &&
            rc != -ENOENT)
            SL_WARN("storage", "%s: cannot delete: %s", path, strerror(-rc));
        free(nl.v[i]);
    }
    free(nl.v);
    if ((rc = ops->rmdir(ops, log->log_dir)) < 0)
        SL_WARN("storage", "%s: cannot remove the directory: %s", log->log_dir, strerror(-rc));
}

/* The clean-close flush: data, then the active segment's final time entry
 * and index files, the directory, and a checkpoint whose recovery point is
 * the LEO. The last reference is gone, so nothing appends meanwhile. */
static void close_flush(struct sl_log *log)
{
    pthread_mutex_lock(&log->log_flush_mu);
    sl_err_t rc = sl_log__flush_locked(log, false);
    if (rc == SL_ERR_NONE) {
        struct sl_segment *seg = active_seg(log);
        sl_segment_seal(seg, false);
        int oserr = sl_segment_persist_index(seg);
        if (oserr == 0)
            oserr = log->log_ops->fsync_dir(log->log_ops, log->log_dir);
        if (oserr == 0)
            oserr = sl_log__write_checkpoint(log, atomic_load(&log->log_start),
                                             atomic_load(&log->log_leo));
        if (oserr < 0)
            sl_log__fail(log, "close", seg->seg_path, oserr);
    }
    sl_log__run_pending_deletes(log, 0, true);
    pthread_mutex_unlock(&log->log_flush_mu);
}

void sl_log_unref(struct sl_log *log)
{
    if (!log)
        return;
    if (atomic_fetch_sub_explicit(&log->log_refs, 1, memory_order_acq_rel) != 1)
        return;
    if (log->log_user_close)
        log->log_user_close(log->log_user, log, atomic_load(&log->log_deleted));
    if (atomic_load(&log->log_deleted)) {
        sl_log__run_pending_deletes(log, 0, true);
        remove_all(log);
    } else if (!in_error(log)) {
        close_flush(log);
    }
    log_free(log);
}

void sl_log_set_user(struct sl_log *log, void *user,
                     void (*on_close)(void *user, struct sl_log *log, bool deleted))
{
    log->log_user = user;
    log->log_user_close = on_close;
}

void *sl_log_user(struct sl_log *log)
{
    return log->log_user;
}

const struct sl_fileops *sl_log_fileops(struct sl_log *log)
{
    return log->log_ops;
}

void sl_log_mark_deleted(struct sl_log *log)
{
    atomic_store(&log->log_deleted, true);
}

/* ------------------------------------------------------------------------
 * Append
 */

sl_err_t sl_log__roll(struct sl_log *log, int64_t now_ms)
{
    struct sl_segment *old = active_seg(log);
    int64_t leo = atomic_load_explicit(&log->log_leo, memory_order_relaxed);
    if (SL_NEVER(atomic_load_explicit(&old->seg_end_pos, memory_order_relaxed) == 0))
        return SL_ERR_NONE; /* an empty segment already starts at the LEO */
    struct sl_segment *seg;
    int oserr;
    if (sl_segment_open(log->log_ops, log->log_dir, leo, true, &seg, &oserr) != SL_ERR_NONE) {
        char path[4096];
        sl_segment_path(path, sizeof(path), log->log_dir, leo, ".log");
        sl_log__fail(log, "creating a segment", path, oserr);
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    atomic_store_explicit(&seg->seg_end_off, leo, memory_order_relaxed);
    atomic_store_explicit(&seg->seg_mtime_ms, now_ms, memory_order_relaxed);
    seg->seg_roll_base_ms = now_ms;
    sl_segment_make_active(seg, &log->log_cfg);
    /* The new file's directory entry must be synced before any offset in it
     * is reported durable; the flush after this roll sees the flag because it
     * is set before the LEO that needs it is published. */
    atomic_store(&log->log_dir_dirty, true);
    sl_segment_seal(old, false);
    pthread_rwlock_wrlock(&log->log_segs_rw);
    sl_log__push_segment(log, seg);
    pthread_rwlock_unlock(&log->log_segs_rw);
    return SL_ERR_NONE;
}

/* Roll before appending len bytes whose offsets run to leo + lod? Log mutex. */
static bool need_roll(const struct sl_log *log, const struct sl_segment *seg, size_t len,
                      int32_t lod, int64_t leo, int64_t now_ms)
{
    int64_t size = atomic_load_explicit(&seg->seg_end_pos, memory_order_relaxed);
    if (size == 0)
        return false; /* never roll an empty segment: it already starts at the LEO */
    if (size + (int64_t)len > log->log_cfg.segment_bytes)
        return true;
    if (now_ms - seg->seg_roll_base_ms > log->log_cfg.segment_ms)
        return true;
    if (sl_segment_index_full(seg))
        return true;
    /* Relative offsets in the indexes are int32. */
    return leo + lod - seg->seg_base > INT32_MAX;
}

sl_err_t sl_log_append(struct sl_log *log, uint8_t *batch, size_t len, int32_t leader_epoch,
                       struct sl_log_append_info *info)
{
    /* The caller validated the batch; these checks only keep a caller bug
     * from corrupting the log (positions are int32 in the index). */
    if (len < SL_BATCH_HEADER_SIZE || len > INT32_MAX ||
        (uint64_t)sl_be32(batch + SL_BATCH_OFF_LENGTH) + SL_BATCH_LOG_OVERHEAD != len)
        return SL_ERR_CORRUPT_MESSAGE;
    int32_t lod = (int32_t)sl_be32(batch + SL_BATCH_OFF_LAST_OFFSET_DELTA);
    if (lod < 0)
        return SL_ERR_CORRUPT_MESSAGE;
    int64_t max_ts = (int64_t)sl_be64(batch + SL_BATCH_OFF_MAX_TIMESTAMP);
    int64_t now = sl_now_ms();

    pthread_mutex_lock(&log->log_mu);
    if (in_error(log) || atomic_load_explicit(&log->log_deleted, memory_order_relaxed)) {
        pthread_mutex_unlock(&log->log_mu);
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    int64_t leo = atomic_load_explicit(&log->log_leo, memory_order_relaxed);
    struct sl_segment *seg = active_seg(log);
    if (need_roll(log, seg, len, lod, leo, now)) {
        if (sl_log__roll(log, now) != SL_ERR_NONE) {
            pthread_mutex_unlock(&log->log_mu);
            return SL_ERR_KAFKA_STORAGE_ERROR;
        }
        seg = active_seg(log);
    }
    sl_put_be64(batch + SL_BATCH_OFF_BASE_OFFSET, (uint64_t)leo);
    sl_put_be32(batch + SL_BATCH_OFF_LEADER_EPOCH, (uint32_t)leader_epoch);
    int64_t pos = atomic_load_explicit(&seg->seg_end_pos, memory_order_relaxed);
    ssize_t w = sl_file_append(seg->seg_file, batch, len, pos);
    if (w != (ssize_t)len) {
        /* Best effort: cut whatever part landed, so that the file still ends
         * at a batch boundary. Recovery would cut it anyway. */
        (void)sl_file_ftruncate(seg->seg_file, pos);
        sl_log__fail(log, "append", seg->seg_path, w < 0 ? (int)w : -EIO);
        pthread_mutex_unlock(&log->log_mu);
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (pos == 0)
        seg->seg_roll_base_ms = now;
    int64_t next = leo + lod + 1;
    /* Publication order: invariant 3. */
    atomic_store_explicit(&seg->seg_end_pos, pos + (int64_t)len, memory_order_release);
    sl_segment_track(seg, leo, max_ts, pos, (int64_t)len, log->log_cfg.index_interval_bytes,
                     false);
    atomic_store_explicit(&seg->seg_mtime_ms, now, memory_order_relaxed);
    atomic_store_explicit(&seg->seg_end_off, next, memory_order_release);
    atomic_store_explicit(&log->log_leo, next, memory_order_release);
    int64_t start = atomic_load_explicit(&log->log_start, memory_order_acquire);
    pthread_mutex_unlock(&log->log_mu);

    if (info) {
        info->base_offset = leo;
        info->last_offset = next - 1;
        info->log_start_offset = start;
    }
    return SL_ERR_NONE;
}

/* ------------------------------------------------------------------------
 * Offsets
 */

int64_t sl_log_start_offset(struct sl_log *log)
{
    return atomic_load_explicit(&log->log_start, memory_order_acquire);
}

int64_t sl_log_end_offset(struct sl_log *log)
{
    return atomic_load_explicit(&log->log_leo, memory_order_acquire);
}

int64_t sl_log_flushed_offset(struct sl_log *log)
{
    return atomic_load_explicit(&log->log_flushed, memory_order_acquire);
}

const char *sl_log_dir(struct sl_log *log)
{
    return log->log_dir;
}

int64_t sl_log_size_bytes(struct sl_log *log)
{
    int64_t total = 0;
    pthread_rwlock_rdlock(&log->log_segs_rw);
    for (size_t i = 0; i < log->log_nsegs; i++)
        total += atomic_load_explicit(&log->log_segs[i]->seg_end_pos, memory_order_acquire);
    pthread_rwlock_unlock(&log->log_segs_rw);
    return total;
}

int sl_log_segment_count(struct sl_log *log)
{
    pthread_rwlock_rdlock(&log->log_segs_rw);
    int n = (int)log->log_nsegs;
    pthread_rwlock_unlock(&log->log_segs_rw);
    return n;
}

/* ------------------------------------------------------------------------
 * Fetch
 */

/* Finds and references the segment for offset. NULL if none (retention
 * removed it after the caller checked the start offset). */
static struct sl_segment *get_segment(struct sl_log *log, int64_t offset)
{
    pthread_rwlock_rdlock(&log->log_segs_rw);
    struct sl_segment *seg = find_segment(log, offset);
    if (seg)
        sl_segment_ref(seg);
    pthread_rwlock_unlock(&log->log_segs_rw);
    return seg;
}

sl_err_t sl_log_read(struct sl_log *log, int64_t offset, int32_t max_bytes, bool min_one,
                     struct sl_log_slice *out)
{
    *out = (struct sl_log_slice){.fd = -1, .pos = 0, .len = 0, .mem = NULL, ._ref = NULL};
    if (in_error(log))
        return SL_ERR_KAFKA_STORAGE_ERROR;
    /* Load order: invariant 3 (LEO first, then what it covers). */
    int64_t leo = atomic_load_explicit(&log->log_leo, memory_order_acquire);
    int64_t start = atomic_load_explicit(&log->log_start, memory_order_acquire);
    if (offset == leo)
        return SL_ERR_NONE;
    if (offset < start || offset > leo)
        return SL_ERR_OFFSET_OUT_OF_RANGE;
    struct sl_segment *seg = get_segment(log, offset);
    if (!seg)
        return SL_ERR_OFFSET_OUT_OF_RANGE;
    int64_t end_pos = atomic_load_explicit(&seg->seg_end_pos, memory_order_acquire);

    uint8_t sbuf[4096];
    struct sl_seg_reader r;
    sl_seg_reader_init(&r, seg->seg_file, end_pos, sbuf, sizeof(sbuf));
    struct sl_batch_info hdr;
    int64_t pos;
    sl_err_t rc = sl_segment_find(seg, &r, offset, end_pos, &pos, &hdr);
    if (rc != SL_ERR_NONE) {
        sl_segment_unref(seg);
        return rc;
    }
    int64_t limit = max_bytes < 0 ? 0 : max_bytes;
    int64_t total;
    if (hdr.batch_len > limit) {
        if (!min_one) {
            sl_segment_unref(seg);
            return SL_ERR_NONE; /* Kafka: empty, firstEntryIncomplete */
        }
        total = hdr.batch_len;
    } else {
        /* Extend by whole batches up to pos + limit. Jump with the offset
         * index: every batch before an entry at or below the limit is whole
         * and fits; then scan the headers after it. */
        int64_t lim_pos = pos + limit < end_pos ? pos + limit : end_pos;
        int64_t p = pos + hdr.batch_len;
        uint32_t n = sl_oindex_count(&seg->seg_oidx);
        int64_t i = sl_oindex_floor_pos(&seg->seg_oidx, n, lim_pos);
        if (i >= 0 && seg->seg_oidx.e[i].pos > p)
            p = seg->seg_oidx.e[i].pos;
        while (p < lim_pos) {
            struct sl_batch_info h;
            const uint8_t *b = sl_seg_reader_get(&r, p, SL_BATCH_HEADER_SIZE);
            if (!b || sl_batch_parse_header(b, SL_BATCH_HEADER_SIZE, &h) != SL_ERR_NONE)
                break; /* return the whole batches found so far */
            if (p + h.batch_len > lim_pos)
                break;
            p += h.batch_len;
        }
        total = p - pos;
    }

    int fd = sl_file_raw_fd(seg->seg_file);
    if (fd >= 0) {
        *out = (struct sl_log_slice){
            .fd = fd, .pos = pos, .len = (int32_t)total, .mem = NULL, ._ref = seg};
        return SL_ERR_NONE; /* the slice takes our segment reference */
    }
    struct slice_mem *m = sl_xmalloc(sizeof(*m) + (size_t)total);
    m->kind = SLICE_MEM_KIND;
    ssize_t got = 0, rr = 0;
    int64_t seg_base = seg->seg_base;
    while (got < total) {
        rr = seg->seg_file->ops->pread(seg->seg_file, m->data + got, (size_t)(total - got),
                                      pos + got);
        if (rr <= 0)
            break;
        got += rr;
    }
    sl_segment_unref(seg);
    /* A layer that authenticates returns whole batches (its frames) up to
     * one that fails: serve those; the next fetch starts at the failing
     * batch and gets the error. Nothing that failed is ever served. */
    if (got > 0 && got < total && rr == -EBADMSG && log->log_ops->authenticated)
        total = got;
    if (got != total) {
        free(m);
        if (rr == -EBADMSG)
            SL_ERROR("storage", "%s: the batch at position %" PRId64 " of segment %020" PRId64
                                " failed authentication: answering KAFKA_STORAGE_ERROR",
                     log->log_dir, pos + got, seg_base);
        else
            SL_ERROR("storage", "%s: short read of %" PRId64 " bytes at %" PRId64, log->log_dir,
                     total, pos);
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    *out = (struct sl_log_slice){
        .fd = -1, .pos = 0, .len = (int32_t)total, .mem = m->data, ._ref = m};
    return SL_ERR_NONE;
}

void sl_log_slice_release(void *ref)
{
    if (!ref)
        return;
    uint32_t kind;
    memcpy(&kind, ref, sizeof(kind));
    if (kind == SL_SEGMENT_KIND) {
        sl_segment_unref(ref);
    } else {
        SL_ASSERT(kind == SLICE_MEM_KIND);
        free(ref);
    }
}

/* ------------------------------------------------------------------------
 * Timestamps
 */

/* Reads the whole batch at pos (hdr parsed) and finds the first record at or
 * after `from` whose timestamp matches: >= ts (exact = false) or == ts
 * (exact = true). Returns true with *offset and *found_ts set. Compressed and
 * LogAppendTime batches answer at batch level. */
static bool resolve_in_batch(struct sl_segment *seg, int64_t pos, const struct sl_batch_info *hdr,
                             int64_t ts, bool exact, int64_t from, int64_t *offset,
                             int64_t *found_ts, bool *io_error)
{
    int64_t first = hdr->base_offset > from ? hdr->base_offset : from;
    if (hdr->compression != SL_COMPRESSION_NONE ||
        ((uint16_t)hdr->attributes & SL_BATCH_ATTR_LOG_APPEND_TIME)) {
        *offset = first;
        *found_ts = hdr->max_timestamp;
        return true;
    }
    uint8_t *buf = sl_xmalloc((size_t)hdr->batch_len);
    bool found = false;
    ssize_t got = sl_file_pread_full(seg->seg_file, buf, (size_t)hdr->batch_len, pos);
    if (got != hdr->batch_len) {
        *io_error = true;
        free(buf);
        return false;
    }
    struct sl_batch_info info;
    struct sl_record_iter it;
    struct sl_record rec;
    if (sl_batch_parse_header(buf, (size_t)hdr->batch_len, &info) == SL_ERR_NONE &&
        sl_record_iter_init(&it, buf, (size_t)hdr->batch_len, &info) == SL_ERR_NONE) {
        while (sl_record_iter_next(&it, &rec)) {
            int64_t o = info.base_offset + rec.offset_delta;
            int64_t t = info.base_timestamp + rec.timestamp_delta;
            if (o >= from && (exact ? t == ts : t >= ts)) {
                *offset = o;
                *found_ts = t;
                found = true;
                break;
            }
        }
    }
    free(buf);
    return found;
}

/* Searches one segment for the first record at or after `start` with
 * timestamp >= ts. SL_ERR_NONE when found, SL_ERR_OFFSET_OUT_OF_RANGE when
 * not, SL_ERR_KAFKA_STORAGE_ERROR on read errors. */
static sl_err_t segment_search_ts(struct sl_segment *seg, int64_t ts, int64_t start,
                                  int64_t *offset, int64_t *found_ts)
{
    uint32_t tn = sl_tindex_count(&seg->seg_tidx);
    int64_t end_pos = atomic_load_explicit(&seg->seg_end_pos, memory_order_acquire);
    /* Batches before a time entry's offset all have timestamps below the
     * entry's (the entry records where the running maximum was first
     * reached), so with the entry's ts <= target they can be skipped. */
    int64_t i = sl_tindex_floor_ts(&seg->seg_tidx, tn, ts);
    int64_t from = i >= 0 ? seg->seg_base + seg->seg_tidx.e[i].rel : seg->seg_base;
    if (from < start)
        from = start;
    uint8_t sbuf[4096];
    struct sl_seg_reader r;
    sl_seg_reader_init(&r, seg->seg_file, end_pos, sbuf, sizeof(sbuf));
    struct sl_batch_info hdr;
    int64_t pos;
    sl_err_t rc = sl_segment_find(seg, &r, from, end_pos, &pos, &hdr);
    while (rc == SL_ERR_NONE) {
        if (hdr.max_timestamp >= ts && hdr.base_offset + hdr.last_offset_delta >= start) {
            bool io_error = false;
            if (resolve_in_batch(seg, pos, &hdr, ts, false, start, offset, found_ts, &io_error))
                return SL_ERR_NONE;
            if (io_error)
                return SL_ERR_KAFKA_STORAGE_ERROR;
        }
        pos += hdr.batch_len;
        if (pos >= end_pos)
            return SL_ERR_OFFSET_OUT_OF_RANGE;
        const uint8_t *b = sl_seg_reader_get(&r, pos, SL_BATCH_HEADER_SIZE);
        if (!b || sl_batch_parse_header(b, SL_BATCH_HEADER_SIZE, &hdr) != SL_ERR_NONE)
            return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    return rc;
}

sl_err_t sl_log_offset_for_timestamp(struct sl_log *log, int64_t ts, int64_t *offset,
                                     int64_t *found_ts)
{
    *offset = *found_ts = -1;
    if (in_error(log))
        return SL_ERR_KAFKA_STORAGE_ERROR;
    int64_t start = atomic_load_explicit(&log->log_start, memory_order_acquire);
    int64_t after = INT64_MIN; /* segments already searched have base <= after */
    for (;;) {
        struct sl_segment *seg = NULL;
        pthread_rwlock_rdlock(&log->log_segs_rw);
        for (size_t i = 0; i < log->log_nsegs; i++) {
            struct sl_segment *s = log->log_segs[i];
            if (s->seg_base <= after ||
                atomic_load_explicit(&s->seg_end_off, memory_order_acquire) <= start)
                continue;
            if (atomic_load_explicit(&s->seg_max_ts, memory_order_acquire) >= ts) {
                seg = s;
                sl_segment_ref(seg);
                break;
            }
        }
        pthread_rwlock_unlock(&log->log_segs_rw);
        if (!seg)
            return SL_ERR_NONE;
        sl_err_t rc = segment_search_ts(seg, ts, start, offset, found_ts);
        after = seg->seg_base;
        sl_segment_unref(seg);
        if (rc != SL_ERR_OFFSET_OUT_OF_RANGE)
            return rc;
    }
}

sl_err_t sl_log_max_timestamp(struct sl_log *log, int64_t *offset, int64_t *ts)
{
    *offset = *ts = -1;
    if (in_error(log))
        return SL_ERR_KAFKA_STORAGE_ERROR;
    /* The (max_ts, max_ts_off) pair is written under log_mu; read it there. */
    struct sl_segment *best = NULL;
    int64_t best_ts = -1, best_off = -1;
    pthread_mutex_lock(&log->log_mu);
    for (size_t i = 0; i < log->log_nsegs; i++) {
        struct sl_segment *s = log->log_segs[i];
        int64_t t = atomic_load_explicit(&s->seg_max_ts, memory_order_relaxed);
        if (t > best_ts) {
            best = s;
            best_ts = t;
            best_off = atomic_load_explicit(&s->seg_max_ts_off, memory_order_relaxed);
        }
    }
    if (best)
        sl_segment_ref(best);
    pthread_mutex_unlock(&log->log_mu);
    if (best_ts < 0) {
        sl_segment_unref(best);
        return SL_ERR_NONE;
    }
    int64_t start = atomic_load_explicit(&log->log_start, memory_order_acquire);
    int64_t end_pos = atomic_load_explicit(&best->seg_end_pos, memory_order_acquire);
    uint8_t sbuf[4096];
    struct sl_seg_reader r;
    sl_seg_reader_init(&r, best->seg_file, end_pos, sbuf, sizeof(sbuf));
    struct sl_batch_info hdr;
    int64_t pos;
    sl_err_t rc = sl_segment_find(best, &r, best_off, end_pos, &pos, &hdr);
    if (rc == SL_ERR_NONE) {
        bool io_error = false;
        if (!resolve_in_batch(best, pos, &hdr, best_ts, true, hdr.base_offset, offset, ts,
                              &io_error)) {
            if (io_error) {
                rc = SL_ERR_KAFKA_STORAGE_ERROR;
            } else { /* header max disagrees with the records: answer per batch */
                *offset = hdr.base_offset;
                *ts = best_ts;
            }
        }
        if (*offset >= 0 && *offset < start)
            *offset = start;
    }
    sl_segment_unref(best);
    if (rc != SL_ERR_NONE) {
        *offset = *ts = -1;
        return rc == SL_ERR_OFFSET_OUT_OF_RANGE ? SL_ERR_NONE : rc;
    }
    return SL_ERR_NONE;
}

/* ------------------------------------------------------------------------
 * Flush
 */

sl_err_t sl_log__flush_locked(struct sl_log *log, bool force_ckpt)
{
    if (in_error(log))
        return SL_ERR_KAFKA_STORAGE_ERROR;
    /* The target first: every byte it covers is below the end positions
     * loaded after it (invariant 3). */
    int64_t target = atomic_load_explicit(&log->log_leo, memory_order_acquire);

    /* Snapshot the segments with work to do. Holding log_flush_mu excludes
     * deletions, so the pointers stay valid; rolls may add segments (and
     * move the array), hence the copy under the read lock. */
    struct work {
        struct sl_segment *seg;
        int64_t end_pos;
        bool index;
    };
    struct work local[8];
    struct work *w = local;
    size_t nw = 0, capw = sizeof(local) / sizeof(local[0]);
    pthread_rwlock_rdlock(&log->log_segs_rw);
    for (size_t i = 0; i < log->log_nsegs; i++) {
        struct sl_segment *s = log->log_segs[i];
        int64_t end = atomic_load_explicit(&s->seg_end_pos, memory_order_acquire);
        bool idx = atomic_load(&s->seg_idx_dirty);
        if (end <= s->seg_synced_pos && !idx)
            continue;
        if (nw == capw) {
            capw *= 2;
            if (w == local) {
                w = sl_xmalloc(capw * sizeof(*w));
                memcpy(w, local, sizeof(local));
            } else {
                w = sl_xrealloc(w, capw * sizeof(*w));
            }
        }
        w[nw++] = (struct work){s, end, idx};
    }
    pthread_rwlock_unlock(&log->log_segs_rw);

    sl_err_t rc = SL_ERR_NONE;
    for (size_t i = 0; i < nw && rc == SL_ERR_NONE; i++) {
        /* seg_idx_dirty is only ever set on a sealed (inactive) segment, whose
         * indexes no longer change: safe to write without log_mu. */
        if (w[i].index) {
            int oserr = sl_segment_persist_index(w[i].seg);
            if (oserr < 0) {
                sl_log__fail(log, "writing index files", w[i].seg->seg_path, oserr);
                rc = SL_ERR_KAFKA_STORAGE_ERROR;
                break;
            }
            atomic_store(&log->log_dir_dirty, true);
        }
        if (w[i].end_pos > w[i].seg->seg_synced_pos) {
            int oserr = sl_file_fdatasync(w[i].seg->seg_file);
            if (oserr < 0) {
                sl_log__fail(log, "fdatasync", w[i].seg->seg_path, oserr);
                rc = SL_ERR_KAFKA_STORAGE_ERROR;
                break;
            }
            w[i].seg->seg_synced_pos = w[i].end_pos;
        }
    }
    if (w != local)
        free(w);
    if (rc != SL_ERR_NONE)
        return rc;
    if (atomic_exchange(&log->log_dir_dirty, false)) {
        int oserr = log->log_ops->fsync_dir(log->log_ops, log->log_dir);
        if (oserr < 0) {
            sl_log__fail(log, "fsync of the directory", NULL, oserr);
            return SL_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    int64_t prev = atomic_load(&log->log_flushed);
    if (target > prev)
        atomic_store_explicit(&log->log_flushed, target, memory_order_release);

    pthread_mutex_lock(&log->log_mu);
    int64_t interval = log->log_cfg.checkpoint_interval_ms;
    pthread_mutex_unlock(&log->log_mu);
    int64_t start = atomic_load(&log->log_start);
    bool changed = target != log->log_ckpt_rp || start != log->log_ckpt_start;
    if (force_ckpt || (changed && sl_mono_ms() - log->log_ckpt_mono_ms >= interval)) {
        int oserr = sl_log__write_checkpoint(log, start, target);
        if (oserr < 0) {
            sl_log__fail(log, "writing the checkpoint", SL_LOG_CHECKPOINT_NAME, oserr);
            return SL_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    return SL_ERR_NONE;
}

sl_err_t sl_log_flush(struct sl_log *log)
{
    pthread_mutex_lock(&log->log_flush_mu);
    sl_err_t rc = sl_log__flush_locked(log, false);
    pthread_mutex_unlock(&log->log_flush_mu);
    return rc;
}
