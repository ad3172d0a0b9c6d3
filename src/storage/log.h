/* SPDX-License-Identifier: Apache-2.0
 *
 * One partition's log: a directory of segments named by base offset, each a
 * `<20 digits>.log` of record batches exactly as received, a sparse `.index`
 * and a `.timeindex` (Kafka's names and entry formats), plus one small
 * `sluice-log.checkpoint` holding the log start offset and the recovery
 * point. Appends are serialized by a per-log mutex held only for the copy
 * into the page cache; readers never wait for appends (published end
 * offsets and reference-counted segments); durability comes from
 * sl_log_flush, normally driven by the group-commit flusher (flusher.h).
 * Design, invariants and state machine: the notes atop log.c and
 * docs/design/storage.md.
 *
 * Not here (yet): compaction, transactions (LSO, aborted lists), leader epoch
 * history (the epoch is stored in each batch but no cache is kept), at-rest
 * encryption (a file layer below, fileops.h).
 */
#ifndef SL_STORAGE_LOG_H
#define SL_STORAGE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/err.h"
#include "storage/fileops.h"

struct sl_log;

struct sl_log_config {
    int64_t segment_bytes;        /* log.segment.bytes, default 1073741824 (max INT32_MAX) */
    int64_t segment_ms;           /* log.roll.ms, default 604800000 */
    int64_t retention_ms;         /* -1 = unlimited; default 604800000 */
    int64_t retention_bytes;      /* -1 = unlimited */
    int32_t index_interval_bytes; /* 4096 */
    int32_t segment_index_bytes;  /* 10485760: max .index size, roll when full */
    int64_t file_delete_delay_ms; /* 60000 (may be 0 in tests) */
    /* Sluice: the least time between two writes of the recovery point by
     * sl_log_flush (each costs an fdatasync). A stale recovery point is safe;
     * it only makes an unclean start validate more. Default 1000; 0 = on
     * every flush. */
    int64_t checkpoint_interval_ms;
};

/* Fills c with the defaults above. */
void sl_log_config_defaults(struct sl_log_config *c);

/* Checks c: segment_bytes in [61, INT32_MAX] (index positions are int32),
 * segment_ms >= 1, index_interval_bytes >= 0, segment_index_bytes >= 4 (as
 * Kafka; tiny values just roll often), file_delete_delay_ms and
 * checkpoint_interval_ms >= 0. Any retention value is accepted (negative
 * means unlimited). Returns SL_ERR_NONE or SL_ERR__INVAL with the key, the
 * value and why in err. Pure. */
sl_err_t sl_log_config_check(const struct sl_log_config *c, char *err, size_t errlen);

/* Opens (creating it and its parents' last component if missing) the
 * partition directory `dir` and recovers it.
 *   clean = true: the broker's last shutdown was clean (a marker the server
 *   keeps). Index files are trusted if sane, and each segment is checked from
 *   its last index entry to its end only (CRC, lengths, offsets).
 *   clean = false: every batch after the recovery point (the checkpointed
 *   last flushed offset) is validated from the start of the segment holding
 *   it: CRC-32C, lengths, offsets continuity. The first invalid or torn
 *   batch and everything after it are cut off (truncate), later segments are
 *   deleted, and the indexes of every segment touched are rebuilt.
 * Either way, the result is made durable before returning (fdatasync of
 * touched files, directory fsync, checkpoint), so the flushed offset of the
 * new log equals its end offset. The log start offset comes from the
 * checkpoint (DeleteRecords moves it), at least the first segment's base.
 * On success *out holds a new log with one reference (drop it with
 * sl_log_unref). Returns SL_ERR_NONE, SL_ERR__INVAL (bad config), or
 * SL_ERR__IO (a file operation failed), with a message naming the file in
 * err. Borrows ops (must outlive the log), dir and cfg (copied). Call once per
 * directory: two open logs on one directory corrupt each other. */
sl_err_t sl_log_open(const struct sl_fileops *ops, const char *dir, const struct sl_log_config *cfg,
                     bool clean, struct sl_log **out, char *err, size_t errlen);

/* Reference counting, any thread. The last unref closes the log: unless it is
 * in ERROR or marked deleted, it first makes everything durable and writes
 * the index files of the active segment and a final checkpoint (so the next
 * clean open is fast); then it releases its segments (slices still in flight
 * keep theirs). For a log marked deleted, the last unref removes the
 * directory and its files instead. */
void sl_log_ref(struct sl_log *log);
void sl_log_unref(struct sl_log *log);

/* Replaces the configuration (topic config change); any thread. Takes effect
 * for later appends (rolls) and retention runs; invalid values are clamped
 * with a warning. Borrows cfg (copied). */
void sl_log_set_config(struct sl_log *log, const struct sl_log_config *cfg);

/* Appends one already-validated batch (sl_batch_validate_produce) of len
 * bytes. Writes base_offset (= the log end offset) and
 * partition_leader_epoch (= leader_epoch) into the batch bytes in place (both
 * outside the CRC), rolls the segment first if needed (size, time, index
 * full, relative offsets about to overflow), appends it, updates the sparse
 * indexes, and publishes the new end offset. Fills *info (may be NULL).
 * Borrows batch (modified in place). Thread-safe: the log mutex is held for
 * this call only and never across an fsync; no allocation unless a roll
 * happens. Returns SL_ERR_NONE; SL_ERR_CORRUPT_MESSAGE if len does not match
 * the batch's length field (a caller bug); SL_ERR_KAFKA_STORAGE_ERROR if the
 * log is in ERROR or the write fails. A failed write puts the log in the
 * sticky ERROR state: every later append returns
 * SL_ERR_KAFKA_STORAGE_ERROR until the log is closed and opened again. */
struct sl_log_append_info {
    int64_t base_offset, last_offset, log_start_offset;
};
sl_err_t sl_log_append(struct sl_log *log, uint8_t *batch, size_t len, int32_t leader_epoch,
                       struct sl_log_append_info *info);

/* Offsets, any thread, lock-free. Start: the first offset a consumer may
 * read. End (LEO): the next offset to assign (every offset below it is
 * published and readable). Flushed: the end offset known durable. */
int64_t sl_log_start_offset(struct sl_log *log);
int64_t sl_log_end_offset(struct sl_log *log);
int64_t sl_log_flushed_offset(struct sl_log *log);

/* True once a write, sync or checkpoint failed (sticky until reopened). */
bool sl_log_in_error(struct sl_log *log);

/* Fetch. Finds the batch containing `offset` (sparse index, then a scan of
 * at most index_interval_bytes of headers) and returns a slice of whole
 * batches from it, all in ONE segment, totalling at most max_bytes, except
 * that when min_one is true the first batch is returned whole even if larger
 * (KIP-74); without min_one a first batch larger than max_bytes gives an
 * empty slice. The first batch may start before `offset` (clients skip).
 * offset == LEO gives an empty slice (len 0, fd -1, _ref NULL). offset <
 * start or > LEO: SL_ERR_OFFSET_OUT_OF_RANGE. SL_ERR_KAFKA_STORAGE_ERROR if
 * the log is in ERROR or a read fails.
 * The slice: when the file layer exposes the bytes (raw_fd >= 0), fd/pos/len
 * name the file region and mem is NULL; otherwise fd is -1 and mem holds len
 * bytes read with pread. Either way _ref holds what keeps it valid (a segment
 * reference, or the memory): release it with sl_log_slice_release(_ref) from
 * any thread once the bytes are sent; retention may unlink the file
 * meanwhile. Any thread; lock-free except for a short read lock on the
 * segment list (never held across I/O). Readers never see a partly written
 * batch: only bytes below the published end are returned. */
struct sl_log_slice {
    int fd;
    int64_t pos;
    int32_t len;
    const uint8_t *mem;
    void *_ref;
};
sl_err_t sl_log_read(struct sl_log *log, int64_t offset, int32_t max_bytes, bool min_one,
                     struct sl_log_slice *out);

/* Releases a slice's _ref (NULL is fine). Any thread; the signature fits
 * sl_wbuf_add_file's release callback. */
void sl_log_slice_release(void *ref);

/* ListOffsets by timestamp (ts >= 0): the first offset at or after the log
 * start whose record timestamp is >= ts, found through each segment's largest
 * timestamp, the time index and a scan; *found_ts is that record's
 * timestamp. For uncompressed CreateTime batches the exact record is found;
 * for compressed batches (not decompressed here) and LogAppendTime batches
 * the answer is the batch's first offset (clamped to the start) and its max
 * timestamp. *offset = *found_ts = -1 if there is none. Returns SL_ERR_NONE
 * or SL_ERR_KAFKA_STORAGE_ERROR. Any thread. */
sl_err_t sl_log_offset_for_timestamp(struct sl_log *log, int64_t ts, int64_t *offset,
                                     int64_t *found_ts);

/* ListOffsets -3 (MAX_TIMESTAMP): the offset and value of the largest
 * timestamp in the log (-1, -1 when there is none). The offset is the exact
 * record for uncompressed batches, the batch's first offset otherwise
 * (clamped to the start). Takes the log mutex briefly. Any thread. */
sl_err_t sl_log_max_timestamp(struct sl_log *log, int64_t *offset, int64_t *ts);

/* DeleteRecords: moves the log start offset up to `offset` (-1 means the
 * high watermark, i.e. the LEO on this single node), durably (the checkpoint
 * is fdatasync'd before this returns), then deletes the segments entirely
 * below it (rolling the active segment first if it is entirely below).
 * *low_watermark gets the resulting start offset. offset > LEO or < -1:
 * SL_ERR_OFFSET_OUT_OF_RANGE; offset <= start is a no-op.
 * SL_ERR_KAFKA_STORAGE_ERROR if in ERROR or the checkpoint cannot be written.
 * Any thread (takes the flush mutex, then the log mutex briefly). */
sl_err_t sl_log_delete_records(struct sl_log *log, int64_t offset, int64_t *low_watermark);

/* Retention and time-based roll, called periodically from a background
 * thread with the wall-clock time. In order: rolls the active segment when it
 * is older than segment_ms; deletes the oldest segments whose largest
 * timestamp (or, without timestamps, last append time) is older than
 * retention_ms, rolling the active segment first if it is expired too (as
 * Kafka does, so an idle topic still ages out); then deletes oldest segments
 * while the log stays above retention_bytes without them (never the active
 * segment). Deleting moves the log start offset to the next segment's base.
 * Files of deleted segments are renamed to "*.deleted" and unlinked
 * file_delete_delay_ms later (by a later call, or at close). Does nothing in
 * ERROR. Any thread. */
void sl_log_retention(struct sl_log *log, int64_t now_ms);

/* Makes everything appended so far durable: writes pending index files of
 * rolled segments, fdatasyncs every segment with unsynced bytes, fsyncs the
 * directory if files were created, then writes the checkpoint (at most once
 * per checkpoint_interval_ms). Publishes the new flushed offset. Flushes
 * are serialized by the log's flush mutex; appends continue meanwhile.
 * Returns SL_ERR_NONE or SL_ERR_KAFKA_STORAGE_ERROR (the log enters ERROR:
 * after a failed fsync, the state of the page cache is unknown). Any thread;
 * normally the flusher's. */
sl_err_t sl_log_flush(struct sl_log *log);

/* Bytes in all segments (published). Any thread. */
int64_t sl_log_size_bytes(struct sl_log *log);

/* Number of segments. Any thread (a snapshot). */
int sl_log_segment_count(struct sl_log *log);

/* The directory given to sl_log_open (borrowed from the log). */
const char *sl_log_dir(struct sl_log *log);

/* Marks the log deleted: appends are refused from now on
 * (SL_ERR_KAFKA_STORAGE_ERROR) and the last unref removes the directory and
 * its files. Any thread. */
void sl_log_mark_deleted(struct sl_log *log);

/* Attaches state kept beside the log by a higher layer (the producer
 * state). on_close(user, log, deleted) runs once, when the last reference
 * goes, before the log's files are closed (or removed when deleted). Call
 * once, right after sl_log_open, before the log is shared. */
void sl_log_set_user(struct sl_log *log, void *user,
                     void (*on_close)(void *user, struct sl_log *log, bool deleted));
/* The attached state, or NULL. Any thread. */
void *sl_log_user(struct sl_log *log);
/* The file layer the log was opened with. */
const struct sl_fileops *sl_log_fileops(struct sl_log *log);

#endif
