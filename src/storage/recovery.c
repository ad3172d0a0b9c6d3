/* SPDX-License-Identifier: Apache-2.0
 *
 * Log recovery: turns whatever sl_log_open finds in a partition directory
 * into a log that satisfies the invariants of log.c. The rule is simple: the
 * log is the longest valid prefix of its batches. Everything after the first
 * batch that is torn, fails its CRC, does not parse, or breaks offset
 * continuity is cut off, and every later segment is deleted.
 *
 * How much is checked depends on what can be trusted (details in
 * docs/design/storage.md):
 *   - a segment that ends at or below the recovery point (the checkpointed
 *     last flushed offset), or any segment after a clean shutdown, keeps its
 *     index files if they are sane; only its tail, from the last offset index
 *     entry to the end of the file, is read and validated, which also
 *     rebuilds the index state an append would have had there;
 *   - any other segment (the one holding the recovery point and all later
 *     ones, after an unclean shutdown), or one whose tail check fails, is
 *     read and validated from its first byte and its indexes rebuilt.
 * The result is made durable before sl_log_open returns: touched files are
 * fdatasync'd, changed index files rewritten, the directory fsync'd and a
 * checkpoint written, so the new log's flushed offset is its end offset.
 *
 * On a file layer that authenticates what it reads (encryption at rest,
 * sl_fileops.authenticated), damage is told from a torn tail: a batch that
 * fails authentication, is missing, or does not continue the offsets BELOW
 * the checkpointed recovery point (data that was flushed, or any data after
 * a clean shutdown) is damage or tampering; so is a log that ends below its
 * recovery point (a segment rolled back to an older copy or truncated).
 * Recovery then QUARANTINES the partition instead of cutting it and deleting
 * what follows: the error is logged naming the file, position and offset,
 * nothing on disk is changed (no cut, no deletion, no index or checkpoint
 * write), and the log opens in ERROR, so fetches and produces of that
 * partition get KAFKA_STORAGE_ERROR while the others are served; restoring
 * the damaged file and restarting recovers it. Above the recovery point a
 * failing batch is a torn write and is cut like one. On plain files those
 * cases are cut as described above.
 *
 * Left out: repairing a damaged batch (a cut is the only remedy), keeping
 * segments after a gap in the offsets (they are deleted, as Kafka deletes
 * segments after a corrupt one).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crc32c.h"
#include "core/logging.h"
#include "core/mem.h"
#include "storage/batch.h"
#include "storage/integrity.h"
#include "storage/log_int.h"

/* Recovery reads in chunks of this size (and more for larger batches). */
#define SCAN_CHUNK (1u << 20)

struct dir_listing {
    int64_t *bases; /* segment base offsets (.log files) */
    size_t n, cap;
    int64_t *idx_bases; /* bases of .index / .timeindex files */
    size_t nidx, capidx;
    char **junk; /* leftovers to unlink: *.deleted, *.tmp */
    size_t njunk, capjunk;
};

static void push_i64(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = sl_xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = x;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "<20 digits><suffix>" -> base */
static bool parse_with_suffix(const char *name, const char *suffix, int64_t *base)
{
    char tmp[64];
    size_t n = strlen(name), m = strlen(suffix);
    if (n != 20 + m || strcmp(name + 20, suffix) != 0)
        return false;
    memcpy(tmp, name, 20);
    strcpy(tmp + 20, ".log");
    return sl_segment_parse_name(tmp, base);
}

static int list_cb(void *arg, const char *name)
{
    struct dir_listing *dl = arg;
    int64_t base;
    if (sl_segment_parse_name(name, &base)) {
        push_i64(&dl->bases, &dl->n, &dl->cap, base);
    } else if (parse_with_suffix(name, ".index", &base) ||
               parse_with_suffix(name, ".timeindex", &base)) {
        push_i64(&dl->idx_bases, &dl->nidx, &dl->capidx, base);
    } else if (has_suffix(name, SL_LOG_DELETED_SUFFIX) || has_suffix(name, ".tmp")) {
        if (dl->njunk == dl->capjunk) {
            dl->capjunk = dl->capjunk ? dl->capjunk * 2 : 8;
            dl->junk = sl_xrealloc(dl->junk, dl->capjunk * sizeof(*dl->junk));
        }
        dl->junk[dl->njunk++] = sl_xstrdup(name);
    }
    /* Anything else (the checkpoint, files of other tools) is left alone. */
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void listing_free(struct dir_listing *dl)
{
    free(dl->bases);
    free(dl->idx_bases);
    for (size_t i = 0; i < dl->njunk; i++)
        free(dl->junk[i]);
    free(dl->junk);
}

/* CRC and length of a segment's indexes as they would be written: used to
 * tell whether recovery changed them (and the files must be rewritten). */
struct idx_sig {
    uint32_t crc;
    uint32_t on, tn;
};

static struct idx_sig index_signature(const struct sl_segment *seg)
{
    struct idx_sig s = {0, sl_oindex_count(&seg->seg_oidx), sl_tindex_count(&seg->seg_tidx)};
    size_t cap = (size_t)(s.on > s.tn ? s.on : s.tn) * SL_TINDEX_ENTRY_SIZE +
                 SL_INDEX_TRAILER_SIZE;
    uint8_t *buf = sl_xmalloc(cap);
    size_t n = sl_oindex_encode(&seg->seg_oidx, s.on, buf);
    s.crc = sl_crc32c(0, buf, n);
    n = sl_tindex_encode(&seg->seg_tidx, s.tn, buf);
    s.crc = sl_crc32c(s.crc, buf, n);
    free(buf);
    return s;
}

static void reset_indexes(struct sl_segment *seg)
{
    sl_oindex_truncate(&seg->seg_oidx, 0);
    sl_tindex_truncate(&seg->seg_tidx, 0);
    atomic_store(&seg->seg_max_ts, -1);
    atomic_store(&seg->seg_max_ts_off, -1);
    seg->seg_since_idx = 0;
}

/* Prepares a segment whose index files were loaded for a tail scan: drops
 * the last offset entry E (the scan re-adds it) and every time entry at or
 * after E's offset, and restores the append-time state as it was just before
 * E's batch: the running maximum timestamp (the last kept time entry: at E's
 * index point the maximum so far was recorded if it had grown) and a byte
 * count that makes E's batch indexed again. Returns the position and offset
 * where the scan starts (0 and the base when there is no entry). */
static void prepare_tail(struct sl_segment *seg, int32_t interval, int64_t *from_pos,
                         int64_t *expect)
{
    uint32_t on = sl_oindex_count(&seg->seg_oidx);
    *from_pos = 0;
    *expect = seg->seg_base;
    if (on == 0) {
        reset_indexes(seg);
        return;
    }
    struct sl_oentry e = seg->seg_oidx.e[on - 1];
    sl_oindex_truncate(&seg->seg_oidx, on - 1);
    uint32_t tn = sl_tindex_count(&seg->seg_tidx), keep = 0;
    while (keep < tn && seg->seg_tidx.e[keep].rel < e.rel)
        keep++;
    sl_tindex_truncate(&seg->seg_tidx, keep);
    if (keep) {
        atomic_store(&seg->seg_max_ts, seg->seg_tidx.e[keep - 1].ts);
        atomic_store(&seg->seg_max_ts_off, seg->seg_base + seg->seg_tidx.e[keep - 1].rel);
    } else {
        atomic_store(&seg->seg_max_ts, -1);
        atomic_store(&seg->seg_max_ts_off, -1);
    }
    seg->seg_since_idx = (int64_t)interval + 1;
    *from_pos = e.pos;
    *expect = seg->seg_base + e.rel;
}

/* Validates batches from from_pos (whose first batch must have base offset
 * `expect`) to the end of the file, tracking each in the indexes as an append
 * would. Returns the position where validation stopped (== size when the
 * whole tail is valid) and the next expected offset; *io_err gets -errno if
 * a read failed (then the result must not be used). */
static int64_t scan(struct sl_segment *seg, int64_t size, int64_t from_pos, int64_t *expect,
                    int32_t interval, int *io_err, const char **why)
{
    struct sl_seg_reader r;
    sl_seg_reader_init(&r, seg->seg_file, size, NULL, SCAN_CHUNK);
    int64_t pos = from_pos;
    *io_err = 0;
    *why = NULL;
    while (pos < size) {
        const uint8_t *b = sl_seg_reader_get(&r, pos, SL_BATCH_LOG_OVERHEAD);
        if (!b) {
            *why = r.r_err == -EBADMSG ? "batch failed authentication"
                                       : "torn batch (incomplete length prefix)";
            break;
        }
        uint32_t field = sl_be32(b + SL_BATCH_OFF_LENGTH);
        int64_t total = (int64_t)field + SL_BATCH_LOG_OVERHEAD;
        if (field > INT32_MAX - SL_BATCH_LOG_OVERHEAD || total < SL_BATCH_HEADER_SIZE) {
            *why = "invalid batch length";
            break;
        }
        if (pos + total > size) {
            *why = "torn batch (runs past the end of the file)";
            break;
        }
        /* total <= size - pos: the reader's buffer stays bounded by the file. */
        b = sl_seg_reader_get(&r, pos, (size_t)total);
        if (!b) {
            *why = r.r_err == -EBADMSG ? "batch failed authentication" : "unreadable batch";
            break;
        }
        struct sl_batch_info info;
        sl_err_t err = sl_batch_parse(b, (size_t)total, &info);
        if (err != SL_ERR_NONE) {
            *why = err == SL_ERR_CORRUPT_MESSAGE ? "CRC mismatch or bad length"
                                                 : "invalid batch contents";
            break;
        }
        if (info.base_offset != *expect) {
            *why = "offset discontinuity";
            break;
        }
        int64_t next = info.base_offset + info.last_offset_delta + 1;
        if (next - 1 - seg->seg_base > INT32_MAX) {
            *why = "relative offset overflow";
            break;
        }
        sl_segment_track(seg, info.base_offset, info.max_timestamp, pos, total, interval, true);
        pos += total;
        *expect = next;
    }
    if (r.r_err)
        *io_err = r.r_err;
    sl_seg_reader_free(&r);
    return pos;
}

/* Recovers one segment (see the file comment): sets its end position and
 * offset, its indexes and timestamp state. *cut is set when bytes were cut
 * off its end; *whole when its index files were loaded intact and only its
 * tail needed checking (then *loaded is their signature as loaded). Returns
 * SL_ERR_NONE or SL_ERR__IO (err filled). */
static sl_err_t recover_segment(struct sl_log *log, struct sl_segment *seg, int64_t size,
                                bool trusted, int64_t strict_rp, bool *cut,
                                struct idx_sig *loaded, bool *whole, char *err, size_t errlen)
{
    int32_t interval = log->log_cfg.index_interval_bytes;
    int64_t from_pos = 0, expect = seg->seg_base, end;
    int io_err;
    const char *why;
    *cut = false;
    *whole = false;
    /* A trusted segment whose index files are missing or damaged is
     * validated whole: its time index can only be rebuilt from all of it. */
    if (trusted && !(*whole = sl_segment_load_index(seg, size)))
        SL_WARN("storage", "%s: index files missing or damaged: rebuilding them", seg->seg_path);
    if (trusted && *whole) {
        *loaded = index_signature(seg);
        prepare_tail(seg, interval, &from_pos, &expect);
        end = scan(seg, size, from_pos, &expect, interval, &io_err, &why);
        if (io_err == 0 && end == size) {
            seg->seg_synced_pos = size;
            goto done;
        }
        if (io_err == 0 || io_err == -EBADMSG)
            SL_WARN("storage", "%s: tail check failed at position %" PRId64 " (%s); "
                               "validating the whole segment",
                    seg->seg_path, end, why);
        *whole = false;
    }
    reset_indexes(seg);
    expect = seg->seg_base;
    end = scan(seg, size, 0, &expect, interval, &io_err, &why);
    if ((end < size || io_err == -EBADMSG) && strict_rp >= 0 && (trusted || expect < strict_rp)) {
        snprintf(err, errlen, "%s: %s at position %" PRId64 " (offset %" PRId64 ") in data that "
                              "was flushed (recovery point %" PRId64 "): damage or tampering, "
                              "not a torn tail; refusing to serve this partition",
                 seg->seg_path, why ? why : "unreadable batch", end, expect,
                 strict_rp == INT64_MAX ? expect : strict_rp);
        SL_ERROR("storage", "%s", err);
        atomic_store(&seg->seg_end_pos, end);
        atomic_store(&seg->seg_end_off, expect);
        return SL_ERR_CORRUPT_MESSAGE;
    }
    if (io_err == -EBADMSG)
        io_err = 0; /* above the recovery point: a torn write, cut below */
    if (io_err) {
        snprintf(err, errlen, "%s: read failed during recovery: %s", seg->seg_path,
                 strerror(-io_err));
        return SL_ERR__IO;
    }
    if (end < size) {
        if (trusted)
            SL_ERROR("storage", "%s: corruption at position %" PRId64 " (%s) in data that was "
                                "flushed: cutting %" PRId64 " bytes",
                     seg->seg_path, end, why, size - end);
        else
            SL_WARN("storage", "%s: %s at position %" PRId64 ": cutting %" PRId64
                               " bytes (offsets from %" PRId64 ")",
                    seg->seg_path, why, end, size - end, expect);
        int rc = sl_file_ftruncate(seg->seg_file, end);
        if (rc < 0) {
            snprintf(err, errlen, "%s: cannot truncate to %" PRId64 ": %s", seg->seg_path, end,
                     strerror(-rc));
            return SL_ERR__IO;
        }
        *cut = true;
    }
    /* Validated but perhaps never synced (written after the recovery point,
     * read back from the page cache), or just cut: sync before trusting it.
     * -1 forces the sync even for an empty file. */
    seg->seg_synced_pos = -1;
done:
    atomic_store(&seg->seg_end_pos, end);
    atomic_store(&seg->seg_end_off, expect);
    return SL_ERR_NONE;
}

static void unlink_segment_files(struct sl_log *log, int64_t base)
{
    char path[4096];
    if (!sl_segment_path(path, sizeof(path), log->log_dir, base, ".log"))
        return;
    int rc = sl_segment_unlink_files(log->log_ops, path);
    if (rc < 0)
        SL_WARN("storage", "%s: cannot delete: %s", path, strerror(-rc));
}

/* Deletes segments [from, nsegs) of the log (already recovered ones). */
static void drop_segments_from(struct sl_log *log, size_t from)
{
    for (size_t i = from; i < log->log_nsegs; i++) {
        struct sl_segment *seg = log->log_segs[i];
        int rc = sl_segment_unlink_files(log->log_ops, seg->seg_path);
        if (rc < 0)
            SL_WARN("storage", "%s: cannot delete: %s", seg->seg_path, strerror(-rc));
        sl_segment_unref(seg);
    }
    if (from < log->log_nsegs)
        log->log_nsegs = from;
}

/* Creates the directory (and makes its entry durable) if it is missing. */
static sl_err_t ensure_dir(struct sl_log *log, char *err, size_t errlen)
{
    const struct sl_fileops *ops = log->log_ops;
    int rc = ops->mkdir(ops, log->log_dir);
    if (rc == -EEXIST)
        return SL_ERR_NONE;
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot create the log directory: %s", log->log_dir,
                 strerror(-rc));
        return SL_ERR__IO;
    }
    char parent[4096];
    const char *slash = strrchr(log->log_dir, '/');
    if (!slash) {
        strcpy(parent, ".");
    } else if (slash == log->log_dir) {
        strcpy(parent, "/");
    } else {
        size_t n = (size_t)(slash - log->log_dir);
        if (n >= sizeof(parent))
            n = sizeof(parent) - 1;
        memcpy(parent, log->log_dir, n);
        parent[n] = '\0';
    }
    rc = ops->fsync_dir(ops, parent);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot fsync the parent directory: %s", parent,
                 strerror(-rc));
        return SL_ERR__IO;
    }
    return SL_ERR_NONE;
}

static sl_err_t create_first_segment(struct sl_log *log, int64_t base, char *err, size_t errlen)
{
    struct sl_segment *seg;
    int oserr;
    /* A stale file of that name (a segment deleted above but whose unlink
     * failed) must not be reused blindly: remove it first. */
    unlink_segment_files(log, base);
    if (sl_segment_open(log->log_ops, log->log_dir, base, true, &seg, &oserr) != SL_ERR_NONE) {
        snprintf(err, errlen, "%s: cannot create segment %020" PRId64 ": %s", log->log_dir, base,
                 strerror(-oserr));
        return SL_ERR__IO;
    }
    seg->seg_synced_pos = -1;
    sl_log__push_segment(log, seg);
    atomic_store(&log->log_dir_dirty, true);
    return SL_ERR_NONE;
}

sl_err_t sl_log__recover(struct sl_log *log, bool clean, char *err, size_t errlen)
{
    const struct sl_fileops *ops = log->log_ops;
    struct dir_listing dl = {0};
    struct idx_sig *sigs = NULL;
    bool *sig_valid = NULL;
    sl_err_t rc = ensure_dir(log, err, errlen);
    if (rc != SL_ERR_NONE)
        return rc;

    /* 1. The checkpoint. Without a valid one nothing is trusted. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", log->log_dir, SL_LOG_CHECKPOINT_NAME);
    int orc = ops->open(ops, path, SL_FILE_RDWR | SL_FILE_CREATE, &log->log_ckpt);
    if (orc < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-orc));
        return SL_ERR__IO;
    }
    int64_t ck_start = 0, ck_rp = -1;
    bool have_ckpt = sl_log__read_checkpoint(log, &ck_start, &ck_rp);
    if (!have_ckpt) {
        clean = false;
        ck_start = 0;
        ck_rp = -1;
    }
    int64_t rp = clean ? INT64_MAX : ck_rp;
    /* Authenticated files: flushed data must be there intact (see the file
     * comment). -1: no such promise. */
    int64_t strict_rp = ops->authenticated && have_ckpt ? (clean ? INT64_MAX : ck_rp) : -1;

    /* 2. What is there. */
    orc = ops->list_dir(ops, log->log_dir, list_cb, &dl);
    if (orc < 0) {
        snprintf(err, errlen, "%s: cannot list: %s", log->log_dir, strerror(-orc));
        rc = SL_ERR__IO;
        goto out;
    }
    for (size_t i = 0; i < dl.njunk; i++) {
        snprintf(path, sizeof(path), "%s/%s", log->log_dir, dl.junk[i]);
        (void)ops->unlink(ops, path);
    }
    if (dl.n > 1)
        qsort(dl.bases, dl.n, sizeof(*dl.bases), cmp_i64);

    /* 3. Segments in order, each continuing the previous one. */
    sigs = sl_xcalloc(dl.n ? dl.n : 1, sizeof(*sigs));
    sig_valid = sl_xcalloc(dl.n ? dl.n : 1, sizeof(*sig_valid));
    bool changed = false;
    int64_t now = sl_now_ms();
    for (size_t i = 0; i < dl.n; i++) {
        int64_t base = dl.bases[i];
        if (log->log_nsegs > 0) {
            int64_t expect = atomic_load(&log->log_segs[log->log_nsegs - 1]->seg_end_off);
            if (base != expect && strict_rp >= 0 && expect < strict_rp) {
                snprintf(err, errlen, "%s: segment %020" PRId64 " does not continue the log "
                                      "(next offset %" PRId64 ") below the recovery point %" PRId64
                                      ": a segment was rolled back, removed or replaced; refusing "
                                      "to serve this partition",
                         log->log_dir, base, expect, strict_rp);
                SL_ERROR("storage", "%s", err);
                goto quarantine;
            }
            if (base != expect) {
                SL_WARN("storage", "%s: segment %020" PRId64 " does not continue the log (next "
                                   "offset %" PRId64 "): deleting it and %zu later segment(s)",
                        log->log_dir, base, expect, dl.n - i - 1);
                for (size_t j = i; j < dl.n; j++)
                    unlink_segment_files(log, dl.bases[j]);
                changed = true;
                break;
            }
        }
        struct sl_segment *seg;
        int oserr;
        if (sl_segment_open(ops, log->log_dir, base, false, &seg, &oserr) != SL_ERR_NONE) {
            snprintf(err, errlen, "%s: cannot open segment %020" PRId64 ": %s", log->log_dir,
                     base, strerror(-oserr));
            rc = SL_ERR__IO;
            goto out;
        }
        int64_t size = 0;
        if ((oserr = sl_file_size(seg->seg_file, &size)) < 0) {
            snprintf(err, errlen, "%s: cannot stat: %s", seg->seg_path, strerror(-oserr));
            sl_segment_unref(seg);
            rc = SL_ERR__IO;
            goto out;
        }
        /* Ends at or below the recovery point: the next segment starts
         * there. The last segment is trusted only after a clean shutdown. */
        bool trusted = i + 1 < dl.n ? dl.bases[i + 1] <= rp : clean;
        bool cut, whole;
        size_t at = log->log_nsegs;
        sl_log__push_segment(log, seg);
        atomic_store(&seg->seg_mtime_ms, now);
        rc = recover_segment(log, seg, size, trusted, strict_rp, &cut, &sigs[at], &whole, err,
                             errlen);
        if (rc == SL_ERR_CORRUPT_MESSAGE)
            goto quarantine;
        if (rc != SL_ERR_NONE)
            goto out;
        sig_valid[at] = whole;
        if (cut) {
            changed = true;
            if (i + 1 < dl.n)
                SL_WARN("storage", "%s: deleting %zu segment(s) after the cut", log->log_dir,
                        dl.n - i - 1);
            for (size_t j = i + 1; j < dl.n; j++)
                unlink_segment_files(log, dl.bases[j]);
            break;
        }
    }

    /* 4. The log start offset, and the corner cases around it. A log that
     * ends below its recovery point lost flushed data: on authenticated
     * files, a rollback (an older copy of the last segment) or removal. */
    if (strict_rp >= 0 && have_ckpt && ck_rp > ck_start) {
        int64_t end = log->log_nsegs ? atomic_load(&log->log_segs[log->log_nsegs - 1]->seg_end_off)
                                     : -1;
        if (end < ck_rp) {
            snprintf(err, errlen, "%s: the log ends at offset %" PRId64 ", below its recovery "
                                  "point %" PRId64 " (%s): a segment was rolled back to an older "
                                  "copy, truncated or removed; refusing to serve this partition",
                     log->log_dir, end, ck_rp, SL_LOG_CHECKPOINT_NAME);
            SL_ERROR("storage", "%s", err);
            goto quarantine;
        }
    }
    if (log->log_nsegs == 0) {
        rc = create_first_segment(log, ck_start, err, errlen);
        if (rc != SL_ERR_NONE)
            goto out;
    }
    int64_t leo = atomic_load(&log->log_segs[log->log_nsegs - 1]->seg_end_off);
    int64_t start = have_ckpt ? ck_start : 0;
    if (start < log->log_segs[0]->seg_base)
        start = log->log_segs[0]->seg_base;
    if (start > leo) {
        /* Records up to `start` were deleted, but the log now ends before it
         * (a cut): start afresh at the start offset, as Kafka's
         * truncateFullyAndStartAt does. */
        SL_WARN("storage", "%s: log start offset %" PRId64 " is past the recovered end %" PRId64
                           ": starting an empty log at %" PRId64,
                log->log_dir, start, leo, start);
        drop_segments_from(log, 0);
        rc = create_first_segment(log, start, err, errlen);
        if (rc != SL_ERR_NONE)
            goto out;
        leo = start;
        changed = true;
    }
    /* Segments entirely below the start (a retention run cut short). */
    size_t drop = 0;
    while (drop + 1 < log->log_nsegs &&
           atomic_load(&log->log_segs[drop]->seg_end_off) <= start)
        drop++;
    if (drop) {
        for (size_t i = 0; i < drop; i++) {
            int e = sl_segment_unlink_files(ops, log->log_segs[i]->seg_path);
            if (e < 0)
                SL_WARN("storage", "%s: cannot delete: %s", log->log_segs[i]->seg_path,
                        strerror(-e));
            sl_segment_unref(log->log_segs[i]);
        }
        memmove(log->log_segs, log->log_segs + drop,
                (log->log_nsegs - drop) * sizeof(*log->log_segs));
        memmove(sigs, sigs + drop, (log->log_nsegs - drop) * sizeof(*sigs));
        memmove(sig_valid, sig_valid + drop, (log->log_nsegs - drop) * sizeof(*sig_valid));
        log->log_nsegs -= drop;
        changed = true;
    }

    /* 5. Orphan index files (of segments that are gone). */
    for (size_t i = 0; i < dl.nidx; i++) {
        bool live = false;
        for (size_t j = 0; j < log->log_nsegs && !live; j++)
            live = log->log_segs[j]->seg_base == dl.idx_bases[i];
        if (!live) {
            char p2[4096];
            if (sl_segment_path(p2, sizeof(p2), log->log_dir, dl.idx_bases[i], ".index"))
                (void)ops->unlink(ops, p2);
            if (sl_segment_path(p2, sizeof(p2), log->log_dir, dl.idx_bases[i], ".timeindex"))
                (void)ops->unlink(ops, p2);
        }
    }

    /* 6. Seal the inactive segments (their time index ends with their
     * maximum), note which index files changed, activate the last. */
    for (size_t i = 0; i + 1 < log->log_nsegs; i++) {
        struct sl_segment *seg = log->log_segs[i];
        sl_segment_seal(seg, true);
        struct idx_sig now_sig = index_signature(seg);
        bool same = sig_valid[i] && now_sig.crc == sigs[i].crc && now_sig.on == sigs[i].on &&
                    now_sig.tn == sigs[i].tn;
        atomic_store(&seg->seg_idx_dirty, !same);
    }
    struct sl_segment *act = log->log_segs[log->log_nsegs - 1];
    sl_segment_make_active(act, &log->log_cfg);
    /* The active segment's index files are rewritten at close; until then
     * an unclean restart rebuilds them (it holds the recovery point). */
    atomic_store(&act->seg_idx_dirty, false);
    act->seg_roll_base_ms = now;
    if (atomic_load(&act->seg_end_pos) > 0) {
        /* Kafka rolls by time from the first batch's timestamp. */
        uint8_t h[SL_BATCH_HEADER_SIZE];
        struct sl_batch_info info;
        if (sl_file_pread_full(act->seg_file, h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
            sl_batch_parse_header(h, sizeof(h), &info) == SL_ERR_NONE &&
            info.max_timestamp >= 0 && info.max_timestamp <= now)
            act->seg_roll_base_ms = info.max_timestamp;
    }

    /* 7. Make the recovered state durable. */
    for (size_t i = 0; i < log->log_nsegs; i++) {
        struct sl_segment *seg = log->log_segs[i];
        int64_t end = atomic_load(&seg->seg_end_pos);
        if (atomic_load(&seg->seg_idx_dirty)) {
            int e = sl_segment_persist_index(seg);
            if (e < 0) {
                snprintf(err, errlen, "%s: cannot write its index files: %s", seg->seg_path,
                         strerror(-e));
                rc = SL_ERR__IO;
                goto out;
            }
            changed = true;
        }
        if (seg->seg_synced_pos < end) {
            int e = sl_file_fdatasync(seg->seg_file);
            if (e < 0) {
                snprintf(err, errlen, "%s: fdatasync failed: %s", seg->seg_path, strerror(-e));
                rc = SL_ERR__IO;
                goto out;
            }
        }
        seg->seg_synced_pos = end;
    }
    if (changed || atomic_exchange(&log->log_dir_dirty, false) || !have_ckpt) {
        int e = ops->fsync_dir(ops, log->log_dir);
        if (e < 0) {
            snprintf(err, errlen, "%s: cannot fsync the directory: %s", log->log_dir,
                     strerror(-e));
            rc = SL_ERR__IO;
            goto out;
        }
    }
    if (!have_ckpt || ck_start != start || ck_rp != leo) {
        int e = sl_log__write_checkpoint(log, start, leo);
        if (e < 0) {
            snprintf(err, errlen, "%s/%s: cannot write: %s", log->log_dir, SL_LOG_CHECKPOINT_NAME,
                     strerror(-e));
            rc = SL_ERR__IO;
            goto out;
        }
    }
    log->log_ckpt_mono_ms = sl_mono_ms();
    atomic_store(&log->log_start, start);
    atomic_store(&log->log_leo, leo);
    atomic_store(&log->log_flushed, leo);
    if (changed)
        SL_INFO("storage", "%s: recovered: offsets [%" PRId64 ", %" PRId64 ") in %zu segment(s)",
                log->log_dir, start, leo, log->log_nsegs);
    rc = SL_ERR_NONE;
    goto out;

quarantine:
    /* See the file comment: nothing on disk changes; the log opens in
     * ERROR with what was read so far. */
    {
        int64_t end_off = atomic_load(&log->log_segs[log->log_nsegs - 1]->seg_end_off);
        int64_t qstart = ck_start < log->log_segs[0]->seg_base ? log->log_segs[0]->seg_base
                                                              : ck_start;
        atomic_store(&log->log_start, qstart < end_off ? qstart : end_off);
        atomic_store(&log->log_leo, end_off);
        atomic_store(&log->log_flushed, end_off);
        atomic_store(&log->log_state, SL_LOG_ST_ERROR);
        SL_ERROR("storage", "%s: partition QUARANTINED: fetches and produces get "
                            "KAFKA_STORAGE_ERROR; nothing was cut or deleted. Restore the damaged "
                            "file and restart to serve it again",
                 log->log_dir);
        sl_integrity_report(&(struct sl_integrity_event){
            .kind = "partition_quarantined",
            .path = log->log_dir,
            .position = -1,
            .detail = err,
        });
        rc = SL_ERR_NONE;
    }
out:
    free(sigs);
    free(sig_valid);
    listing_free(&dl);
    return rc;
}
