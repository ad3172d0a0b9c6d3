/* SPDX-License-Identifier: Apache-2.0
 *
 * The partition log's private state, shared by the files that implement it:
 * log.c (open/close, append, read, flush), recovery.c (what sl_log_open
 * finds on disk) and retention.c (retention, DeleteRecords, deleting
 * segments). Nothing outside src/storage includes this header.
 *
 * Locks, in the only order they may be taken:
 *   log_flush_mu  serializes flushes, checkpoint writes, index file writes
 *                 and segment deletion; may be held across fsync.
 *   log_mu        the append lock: appends, rolls, config, the active
 *                 segment's append state. Never held across an fsync.
 *   log_segs_rw   the segment array: readers take it shared just to find and
 *                 reference a segment; rolls and deletions take it exclusive
 *                 (in memory only, never across I/O).
 */
#ifndef SL_STORAGE_LOG_INT_H
#define SL_STORAGE_LOG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage/log.h"
#include "storage/segment.h"

#define SL_LOG_CHECKPOINT_NAME "sluice-log.checkpoint"
#define SL_LOG_DELETED_SUFFIX ".deleted"

enum sl_log_state {
    SL_LOG_ST_OPEN = 0, /* appends accepted */
    SL_LOG_ST_ERROR, /* a write/sync/checkpoint failed: sticky until reopen */
    SL_LOG_ST_MAX
};

/* A file waiting for file_delete_delay_ms before it is unlinked. */
struct sl_log_pending_delete {
    char *path; /* the renamed "*.deleted" path, owned */
    int64_t due_ms;
};

struct sl_log {
    _Atomic int32_t log_refs;
    const struct sl_fileops *log_ops;
    char *log_dir;

    pthread_mutex_t log_flush_mu;
    pthread_mutex_t log_mu;
    pthread_rwlock_t log_segs_rw;

    struct sl_log_config log_cfg; /* log_mu */
    _Atomic int log_state;        /* enum sl_log_state */
    _Atomic bool log_deleted;

    /* Segments in offset order; the last is the active one. Changed with
     * log_mu AND log_segs_rw (exclusive) held; read with either. */
    struct sl_segment **log_segs;
    size_t log_nsegs, log_segs_cap;

    _Atomic int64_t log_start;   /* log start offset */
    _Atomic int64_t log_leo;     /* log end offset (published) */
    _Atomic int64_t log_flushed; /* end offset known durable */
    _Atomic bool log_dir_dirty;  /* a file was created/renamed since the last dir fsync */

    /* Checkpoint (log_flush_mu). */
    struct sl_file *log_ckpt;
    uint64_t log_ckpt_seq;
    int64_t log_ckpt_mono_ms;  /* when it was last written (monotonic) */
    int64_t log_ckpt_rp;       /* recovery point last written */
    int64_t log_ckpt_start;    /* start offset last written */

    /* Deferred unlinks (log_flush_mu). */
    struct sl_log_pending_delete *log_pend;
    size_t log_npend, log_pend_cap;

    /* State kept beside the log by a higher layer (producer state), closed
     * with the log's last reference. */
    void *log_user;
    void (*log_user_close)(void *user, struct sl_log *log, bool deleted);
};

/* --- log.c --------------------------------------------------------------- */

/* Enters the sticky ERROR state, logging why (what, the file, -errno). Any
 * thread, any lock. */
void sl_log__fail(struct sl_log *log, const char *what, const char *path, int oserr);

/* Writes the checkpoint {start, recovery point} into the next slot and
 * fdatasyncs it. Returns 0 or -errno (the caller enters ERROR). Caller holds
 * log_flush_mu (or is single-threaded). */
int sl_log__write_checkpoint(struct sl_log *log, int64_t start, int64_t rp);

/* Reads the newest valid checkpoint slot. Returns true and fills *start and
 * *rp if one is valid. */
bool sl_log__read_checkpoint(struct sl_log *log, int64_t *start, int64_t *rp);

/* Rolls: seals the active segment and starts a new empty one at the LEO.
 * Caller holds log_mu. Returns SL_ERR_NONE or SL_ERR_KAFKA_STORAGE_ERROR
 * (the log is then in ERROR). */
sl_err_t sl_log__roll(struct sl_log *log, int64_t now_ms);

/* Flush body for callers already holding log_flush_mu; force_ckpt writes the
 * checkpoint whatever the interval. */
sl_err_t sl_log__flush_locked(struct sl_log *log, bool force_ckpt);

/* Appends seg to the array (caller holds log_mu and log_segs_rw exclusive, or
 * is single-threaded); takes the caller's reference. */
void sl_log__push_segment(struct sl_log *log, struct sl_segment *seg);

/* --- recovery.c ---------------------------------------------------------- */

/* Loads the directory into an initialised log with no segments: everything
 * sl_log_open documents. Single-threaded (before the log is shared). */
sl_err_t sl_log__recover(struct sl_log *log, bool clean, char *err, size_t errlen);

/* --- retention.c --------------------------------------------------------- */

/* Removes the leading segments whose end offset is <= the log start offset,
 * except the active one, and schedules their files for deletion. Caller holds
 * log_flush_mu (not log_mu). */
void sl_log__delete_below_start(struct sl_log *log, int64_t now_ms);

/* Unlinks pending deleted files that are due (all of them if force). Caller
 * holds log_flush_mu (or is single-threaded). */
void sl_log__run_pending_deletes(struct sl_log *log, int64_t now_ms, bool force);

#endif
