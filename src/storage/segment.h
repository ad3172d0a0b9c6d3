/* SPDX-License-Identifier: Apache-2.0
 *
 * One log segment: the `<20-digit base offset>.log` file of record batches as
 * received, its in-memory offset and time indexes (index.h) with their
 * `.index` / `.timeindex` files, and the counters the log publishes to
 * lock-free readers. Storage-internal: only src/storage uses this header.
 *
 * Ownership: a segment is reference counted. The log holds one reference
 * while the segment is in its list; a fetch slice holds one while its bytes
 * are being sent; the last unref closes the file and frees the memory (the
 * file may have been unlinked already: an open descriptor keeps it readable).
 *
 * Which lock guards what (the locks live in struct sl_log, log_int.h):
 *   immutable after open        seg_base, seg_path
 *   atomics, any thread         seg_end_pos, seg_end_off, seg_max_ts,
 *                               seg_mtime_ms, the index counts
 *   log mutex (append path)     seg_since_idx, seg_roll_base_ms, seg_active,
 *                               writes to the indexes, seg_max_ts_off
 *   log flush mutex             seg_synced_pos, writing the index files
 */
#ifndef SL_STORAGE_SEGMENT_H
#define SL_STORAGE_SEGMENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sluice/err.h"
#include "storage/batch.h"
#include "storage/fileops.h"
#include "storage/index.h"

struct sl_log_config;

#define SL_SEGMENT_KIND 0x53474d54u /* "SGMT": tags refs handed out in slices */

struct sl_segment {
    uint32_t _kind; /* SL_SEGMENT_KIND; first, see sl_log_slice_release */
    _Atomic int32_t _refs;
    int64_t seg_base;         /* base offset (the file name) */
    char *seg_path;           /* "<dir>/<base>.log", owned */
    const struct sl_fileops *seg_ops;
    struct sl_file *seg_file; /* the .log */

    _Atomic int64_t seg_end_pos;    /* bytes of whole, published batches */
    _Atomic int64_t seg_end_off;    /* offset after the last published batch */
    _Atomic int64_t seg_max_ts;     /* largest batch MaxTimestamp, -1 if none */
    _Atomic int64_t seg_max_ts_off; /* base offset of the first batch reaching it */
    _Atomic int64_t seg_mtime_ms;   /* wall time of the last append (or of recovery) */

    struct sl_oindex seg_oidx;
    struct sl_tindex seg_tidx;

    int64_t seg_since_idx;    /* bytes appended since the last offset index entry */
    int64_t seg_roll_base_ms; /* time-based roll counts from here */
    bool seg_active;

    int64_t seg_synced_pos;      /* bytes known durable (flush mutex) */
    _Atomic bool seg_idx_dirty;  /* index files must be (re)written */
};

/* Writes "<dir>/<20-digit base><suffix>" into buf; returns false if it does
 * not fit. */
bool sl_segment_path(char *buf, size_t n, const char *dir, int64_t base, const char *suffix);

/* Parses a data file name "<20 digits>.log" into *base; false for any other
 * name. */
bool sl_segment_parse_name(const char *name, int64_t *base);

/* Opens (create = true: creates, exclusively) the .log of the segment with
 * this base offset in dir. Returns SL_ERR_NONE and a new segment with one
 * reference in *out (counters zero: the caller sets them), or SL_ERR__IO with
 * -errno in *oserr. Borrows ops (must outlive the segment) and dir. */
sl_err_t sl_segment_open(const struct sl_fileops *ops, const char *dir, int64_t base, bool create,
                         struct sl_segment **out, int *oserr);

/* Takes / drops a reference; the last unref closes the file and frees the
 * segment. Any thread. */
void sl_segment_ref(struct sl_segment *seg);
void sl_segment_unref(struct sl_segment *seg);

/* Index capacities for an active segment under cfg: at least as many entries
 * as a segment of cfg->segment_bytes can need, at most what
 * cfg->segment_index_bytes allows (Kafka's roll-when-the-index-is-full). */
void sl_segment_index_caps(const struct sl_log_config *cfg, uint32_t *ocap, uint32_t *tcap);

/* Makes seg the active segment: reserves the index arrays at full capacity
 * so that they never move while readers use them. Call before the segment is
 * published to other threads (or single-threaded). */
void sl_segment_make_active(struct sl_segment *seg, const struct sl_log_config *cfg);

/* True when one more batch might not find room in an index: the log must
 * roll first. Log mutex. */
bool sl_segment_index_full(const struct sl_segment *seg);

/* Updates the indexes and timestamp bookkeeping for the batch now written at
 * [pos, pos + len) with base offset base_off and MaxTimestamp max_ts. Index
 * policy (Kafka's LogSegment.append): when more than `interval` bytes were
 * appended since the last offset entry, first add a time entry for the
 * largest timestamp so far if it grew, then an offset entry for this batch.
 * The first batch of a segment is never indexed. Publishes entries with
 * release stores. grow: the arrays may be reallocated (single-threaded
 * recovery only). Log mutex (or single-threaded). */
void sl_segment_track(struct sl_segment *seg, int64_t base_off, int64_t max_ts, int64_t pos,
                      int64_t len, int32_t interval, bool grow);

/* The segment stops being active: adds the final time entry (the segment's
 * largest timestamp, if not yet recorded) so that the time index's last
 * entry is the segment's maximum, and marks the index files dirty. Log mutex
 * (or single-threaded). */
void sl_segment_seal(struct sl_segment *seg, bool grow);

/* Writes the published entries of both indexes to .timeindex then .index
 * (each by write-to-tmp, fdatasync, rename; the caller fsyncs the directory
 * afterwards) and clears seg_idx_dirty. Returns 0 or -errno. Flush mutex;
 * the indexes must not change meanwhile (an inactive segment, or the active
 * one while no append can run). */
int sl_segment_persist_index(struct sl_segment *seg);

/* Loads the persisted indexes into the (empty) in-memory ones, keeping only
 * sane entries (sl_oindex_decode / sl_tindex_decode) that point below
 * log_size. Missing or unreadable files leave the indexes empty. Returns
 * true if both files were present and used whole. Single-threaded. */
bool sl_segment_load_index(struct sl_segment *seg, int64_t log_size);

/* Unlinks the segment's .log, .index and .timeindex (path is the .log's
 * path; missing files are fine). Returns the first error other than -ENOENT,
 * else 0. */
int sl_segment_unlink_files(const struct sl_fileops *ops, const char *log_path);

/* A buffered reader over one file for scanning batch headers (and, with a
 * heap buffer, whole batches). Not thread-safe: one per scan. */
struct sl_seg_reader {
    struct sl_file *r_file;
    int64_t r_limit;   /* never read at or past this position */
    uint8_t *r_buf;
    size_t r_cap;
    int64_t r_bpos;    /* file position of r_buf[0] */
    size_t r_blen;     /* valid bytes in r_buf */
    bool r_heap;       /* r_buf is malloc'd and may grow */
    int r_err;         /* -errno of the last failed read, 0 otherwise */
};

/* stack_buf != NULL: use it (cap bytes; requests larger than cap fail);
 * NULL: a heap buffer of cap bytes that grows to fit requests (release with
 * sl_seg_reader_free). Borrows f. */
void sl_seg_reader_init(struct sl_seg_reader *r, struct sl_file *f, int64_t limit,
                        uint8_t *stack_buf, size_t cap);
void sl_seg_reader_free(struct sl_seg_reader *r);

/* Returns a pointer to n contiguous bytes at pos (valid until the next call),
 * or NULL if they are not all below the limit or a read failed (r_err set
 * then). */
const uint8_t *sl_seg_reader_get(struct sl_seg_reader *r, int64_t pos, size_t n);

/* Finds, in [0, end_pos) of seg, the first batch whose last offset is >=
 * offset (the batch containing it), starting from the offset index. On
 * success stores its position and header. Returns SL_ERR_NONE,
 * SL_ERR_OFFSET_OUT_OF_RANGE when no such batch is published, or
 * SL_ERR_KAFKA_STORAGE_ERROR on a read error or a stored header that does not
 * parse. Any thread holding a reference to seg; lock-free. */
sl_err_t sl_segment_find(struct sl_segment *seg, struct sl_seg_reader *r, int64_t offset,
                         int64_t end_pos, int64_t *pos, struct sl_batch_info *hdr);

#endif
