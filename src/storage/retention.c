/* SPDX-License-Identifier: Apache-2.0
 *
 * Removing data from the front of a log: time- and size-based retention
 * (with the time-based roll that goes with it), DeleteRecords, and the
 * deletion of whole segments with Kafka's file.delete.delay.ms (files are
 * renamed to "*.deleted" and unlinked later).
 *
 * Deleting segments never races with readers: a segment leaves the list
 * under the exclusive segment lock, and a fetch that still holds a reference
 * keeps reading from its open descriptor after the file is renamed or
 * unlinked. The log start offset moves first (readers then answer
 * OFFSET_OUT_OF_RANGE below it), the segments go after.
 *
 * Only whole segments are removed: a start offset in the middle of a segment
 * hides the records below it but keeps their bytes until the whole segment
 * is below the start.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/logging.h"
#include "core/mem.h"
#include "storage/log_int.h"

void sl_log__run_pending_deletes(struct sl_log *log, int64_t now_ms, bool force)
{
    size_t keep = 0;
    for (size_t i = 0; i < log->log_npend; i++) {
        struct sl_log_pending_delete *pd = &log->log_pend[i];
        if (!force && pd->due_ms > now_ms) {
            log->log_pend[keep++] = *pd;
            continue;
        }
        int rc = log->log_ops->unlink(log->log_ops, pd->path);
        if (rc < 0 && rc != -ENOENT)
            SL_WARN("storage", "%s: cannot delete: %s", pd->path, strerror(-rc));
        free(pd->path);
    }
    log->log_npend = keep;
}

static void add_pending(struct sl_log *log, const char *path, int64_t due_ms)
{
    if (log->log_npend == log->log_pend_cap) {
        log->log_pend_cap = log->log_pend_cap ? log->log_pend_cap * 2 : 8;
        log->log_pend = sl_xrealloc(log->log_pend, log->log_pend_cap * sizeof(*log->log_pend));
    }
    log->log_pend[log->log_npend++] = (struct sl_log_pending_delete){sl_xstrdup(path), due_ms};
}

/* Schedules the files of a segment that left the list: renamed to
 * "*.deleted" now and unlinked after delay_ms, or unlinked at once. */
static void retire_segment_files(struct sl_log *log, const struct sl_segment *seg, int64_t now_ms,
                                 int64_t delay_ms)
{
    const struct sl_fileops *ops = log->log_ops;
    if (delay_ms <= 0) {
        int rc = sl_segment_unlink_files(ops, seg->seg_path);
        if (rc < 0)
            SL_WARN("storage", "%s: cannot delete: %s", seg->seg_path, strerror(-rc));
        return;
    }
    static const char *const suffixes[] = {".log", ".index", ".timeindex"};
    char from[4096], to[4096 + sizeof(SL_LOG_DELETED_SUFFIX)];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (!sl_segment_path(from, sizeof(from), log->log_dir, seg->seg_base, suffixes[i]))
            continue;
        snprintf(to, sizeof(to), "%s%s", from, SL_LOG_DELETED_SUFFIX);
        int rc = ops->rename(ops, from, to);
        if (rc == 0) {
            add_pending(log, to, now_ms + delay_ms);
        } else if (rc != -ENOENT) {
            SL_WARN("storage", "%s: cannot rename for deletion: %s", from, strerror(-rc));
            (void)ops->unlink(ops, from);
        }
    }
}

void sl_log__delete_below_start(struct sl_log *log, int64_t now_ms)
{
    int64_t start = atomic_load_explicit(&log->log_start, memory_order_acquire);
    struct sl_segment *local[16], **victims = local;
    size_t nv = 0;
    pthread_mutex_lock(&log->log_mu);
    int64_t delay = log->log_cfg.file_delete_delay_ms;
    size_t k = 0;
    while (k + 1 < log->log_nsegs &&
           atomic_load_explicit(&log->log_segs[k]->seg_end_off, memory_order_acquire) <= start)
        k++;
    if (k > 0) {
        if (k > sizeof(local) / sizeof(local[0]))
            victims = sl_xmalloc(k * sizeof(*victims));
        pthread_rwlock_wrlock(&log->log_segs_rw);
        memcpy(victims, log->log_segs, k * sizeof(*victims));
        memmove(log->log_segs, log->log_segs + k, (log->log_nsegs - k) * sizeof(*log->log_segs));
        log->log_nsegs -= k;
        pthread_rwlock_unlock(&log->log_segs_rw);
        nv = k;
    }
    pthread_mutex_unlock(&log->log_mu);
    for (size_t i = 0; i < nv; i++) {
        SL_INFO("storage", "%s: deleting segment %020" PRId64 " (offsets below %" PRId64 ")",
                log->log_dir, victims[i]->seg_base,
                atomic_load_explicit(&victims[i]->seg_end_off, memory_order_relaxed));
        retire_segment_files(log, victims[i], now_ms, delay);
        sl_segment_unref(victims[i]);
    }
    if (victims != local)
        free(victims);
}

/* Raises the start offset to new_start (if higher) and writes the
 * checkpoint. Caller holds log_flush_mu. Returns false on a checkpoint
 * failure (the log is then in ERROR). */
static bool raise_start(struct sl_log *log, int64_t new_start)
{
    int64_t cur = atomic_load(&log->log_start);
    if (new_start <= cur)
        return true;
    atomic_store_explicit(&log->log_start, new_start, memory_order_release);
    /* The recovery point written must stay <= what is durable (invariant 8). */
    int rc = sl_log__write_checkpoint(log, new_start, atomic_load(&log->log_flushed));
    if (rc < 0) {
        sl_log__fail(log, "writing the checkpoint", SL_LOG_CHECKPOINT_NAME, rc);
        return false;
    }
    return true;
}

/* The wall time retention ages a segment by: its largest timestamp, or,
 * when its batches carry none, the time of its last append (Kafka uses the
 * file's mtime there). */
static int64_t segment_age_ts(const struct sl_segment *seg)
{
    int64_t ts = atomic_load_explicit(&seg->seg_max_ts, memory_order_acquire);
    return ts >= 0 ? ts : atomic_load_explicit(&seg->seg_mtime_ms, memory_order_relaxed);
}

void sl_log_retention(struct sl_log *log, int64_t now_ms)
{
    if (sl_log_in_error(log))
        return;
    pthread_mutex_lock(&log->log_flush_mu);
    sl_log__run_pending_deletes(log, now_ms, false);

    pthread_mutex_lock(&log->log_mu);
    struct sl_log_config cfg = log->log_cfg;
    struct sl_segment *act = log->log_segs[log->log_nsegs - 1];
    bool act_nonempty = atomic_load_explicit(&act->seg_end_pos, memory_order_relaxed) > 0;

    /* Time-based roll (Kafka rolls only on append; doing it here too lets an
     * idle partition's last segment become deletable). */
    if (act_nonempty && now_ms - act->seg_roll_base_ms > cfg.segment_ms) {
        if (sl_log__roll(log, now_ms) != SL_ERR_NONE)
            goto unlock_all;
        act_nonempty = false;
    }

    /* Time retention: the leading run of expired segments. */
    size_t count = 0;
    if (cfg.retention_ms >= 0) {
        while (count < log->log_nsegs &&
               now_ms - segment_age_ts(log->log_segs[count]) > cfg.retention_ms)
            count++;
        if (count == log->log_nsegs) {
            act = log->log_segs[log->log_nsegs - 1];
            if (atomic_load_explicit(&act->seg_end_pos, memory_order_relaxed) > 0) {
                /* Everything expired, the active segment too: roll so that it
                 * can go (the log keeps an empty active segment). */
                if (sl_log__roll(log, now_ms) != SL_ERR_NONE)
                    goto unlock_all;
            }
            count = log->log_nsegs - 1;
        }
    }

    /* Size retention, Kafka's rule: drop the oldest remaining segment while
     * the log would still be at least retention_bytes without it. */
    if (cfg.retention_bytes >= 0) {
        int64_t total = 0;
        for (size_t i = count; i < log->log_nsegs; i++)
            total += atomic_load_explicit(&log->log_segs[i]->seg_end_pos, memory_order_relaxed);
        int64_t diff = total - cfg.retention_bytes;
        while (count + 1 < log->log_nsegs) {
            int64_t size =
                atomic_load_explicit(&log->log_segs[count]->seg_end_pos, memory_order_relaxed);
            if (diff - size < 0)
                break;
            diff -= size;
            count++;
        }
    }
    int64_t new_start = count > 0 ? log->log_segs[count]->seg_base : -1;
    pthread_mutex_unlock(&log->log_mu);

    if (new_start >= 0) {
        if (raise_start(log, new_start))
            sl_log__delete_below_start(log, now_ms);
    }
    pthread_mutex_unlock(&log->log_flush_mu);
    return;
unlock_all:
    pthread_mutex_unlock(&log->log_mu);
    pthread_mutex_unlock(&log->log_flush_mu);
}

sl_err_t sl_log_delete_records(struct sl_log *log, int64_t offset, int64_t *low_watermark)
{
    int64_t leo = sl_log_end_offset(log);
    *low_watermark = sl_log_start_offset(log);
    if (offset == -1)
        offset = leo;
    if (offset < 0 || offset > leo)
        return SL_ERR_OFFSET_OUT_OF_RANGE;
    if (sl_log_in_error(log))
        return SL_ERR_KAFKA_STORAGE_ERROR;
    sl_err_t rc = SL_ERR_NONE;
    int64_t now = sl_now_ms();
    pthread_mutex_lock(&log->log_flush_mu);
    if (offset > atomic_load(&log->log_start)) {
        if (!raise_start(log, offset)) {
            rc = SL_ERR_KAFKA_STORAGE_ERROR;
        } else {
            /* If even the active segment is entirely below the new start,
             * roll so that it can be deleted too. */
            pthread_mutex_lock(&log->log_mu);
            struct sl_segment *act = log->log_segs[log->log_nsegs - 1];
            if (atomic_load_explicit(&act->seg_end_pos, memory_order_relaxed) > 0 &&
                atomic_load_explicit(&act->seg_end_off, memory_order_relaxed) <= offset &&
                sl_log__roll(log, now) != SL_ERR_NONE)
                rc = SL_ERR_KAFKA_STORAGE_ERROR;
            pthread_mutex_unlock(&log->log_mu);
            if (rc == SL_ERR_NONE)
                sl_log__delete_below_start(log, now);
        }
    }
    *low_watermark = sl_log_start_offset(log);
    pthread_mutex_unlock(&log->log_flush_mu);
    return rc;
}
