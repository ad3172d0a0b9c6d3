/* SPDX-License-Identifier: Apache-2.0
 *
 * The group coordinator's internal log (see store.h): open and recovery,
 * replay, appends whose durability is reported on the coordinator loop, and
 * truncation below a snapshot.
 *
 * The log never ages out by time or size on its own (retention is -1 and
 * the broker's retention pass only visits topic logs): only the coordinator
 * removes data, by writing a snapshot of the live state and truncating
 * below it (group/core.c decides when).
 */
#include "group/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/logging.h"
#include "core/mem.h"
#include "net/evloop.h"
#include "storage/batch.h"
#include "storage/flusher.h"
#include "storage/log.h"

#define REPLAY_READ_BYTES (1024 * 1024)

struct sl_gstore {
    struct sl_log *log;
    struct sl_flusher *flusher;
    struct sl_evloop *el;
    struct sl_wbuf batch; /* reused for every append */
    int pending;
    bool failed;
    bool quarantined; /* in ERROR right after recovery */
};

/* One append waiting for durability. */
struct flush_wait {
    struct sl_gstore *st;
    sl_gstore_done_fn cb;
    void *arg;
    int err;
};

sl_err_t sl_gstore_open(const struct sl_fileops *ops, const char *dir, struct sl_flusher *flusher,
                        struct sl_evloop *el, struct sl_gstore **out, char *err, size_t errlen)
{
    struct sl_log_config lc;
    sl_log_config_defaults(&lc);
    lc.segment_bytes = SL_GSTORE_SEGMENT_BYTES;
    lc.retention_ms = -1;
    lc.retention_bytes = -1;
    lc.file_delete_delay_ms = 0;
    lc.checkpoint_interval_ms = 1000;
    struct sl_log *log = NULL;
    char e2[512] = "";
    /* Always open as after a crash: the tail after the recovery point is
     * validated batch by batch whatever the clean-shutdown marker says (the
     * marker describes the topic logs, which are flushed separately). */
    sl_err_t rc = sl_log_open(ops, dir, &lc, false, &log, e2, sizeof(e2));
    if (rc != SL_ERR_NONE) {
        snprintf(err, errlen, "group coordinator log %s: %s", dir, e2);
        return rc;
    }
    struct sl_gstore *st = sl_xcalloc(1, sizeof(*st));
    st->log = log;
    st->quarantined = sl_log_in_error(log);
    st->flusher = flusher;
    st->el = el;
    sl_wbuf_init(&st->batch);
    *out = st;
    return SL_ERR_NONE;
}

void sl_gstore_close(struct sl_gstore *st)
{
    if (!st)
        return;
    SL_ASSERT(st->pending == 0);
    sl_wbuf_destroy(&st->batch);
    sl_log_unref(st->log);
    free(st);
}

/* ---- replay ---- */

/* Applies the records of the whole batches in buf[0..len) at or after
 * `from`; returns the offset after the last batch seen, or -1 if none. */
static int64_t replay_buffer(const uint8_t *buf, size_t len, int64_t from, sl_gstore_replay_fn fn,
                             void *ctx)
{
    int64_t next = -1;
    size_t pos = 0;
    while (len - pos >= SL_BATCH_HEADER_SIZE) {
        struct sl_batch_info info;
        if (sl_batch_parse(buf + pos, len - pos, &info) != SL_ERR_NONE) {
            /* Recovery validated every stored batch: a batch that fails here
             * was cut by the read limit (sl_log_read returns whole batches,
             * so this does not happen) or is corrupt in place. */
            SL_WARN("group", "offsets log: unreadable batch at offset %" PRId64 "; skipped",
                    from);
            break;
        }
        int64_t base = info.base_offset;
        struct sl_record_iter it;
        if (!info.control && info.compression == SL_COMPRESSION_NONE &&
            sl_record_iter_init(&it, buf + pos, (size_t)info.batch_len, &info) == SL_ERR_NONE) {
            struct sl_record rec;
            while (sl_record_iter_next(&it, &rec)) {
                int64_t off = base + rec.offset_delta;
                if (off < from || rec.key.len < 0)
                    continue;
                fn(ctx, off, rec.key.p, rec.key.len, rec.value.p, rec.value.len);
            }
        }
        next = base + info.last_offset_delta + 1;
        pos += (size_t)info.batch_len;
    }
    return next;
}

bool sl_gstore_quarantined(const struct sl_gstore *st)
{
    return st->quarantined;
}

const char *sl_gstore_dir(const struct sl_gstore *st)
{
    return sl_log_dir(st->log);
}

sl_err_t sl_gstore_replay(struct sl_gstore *st, sl_gstore_replay_fn fn, void *ctx)
{
    if (st->quarantined)
        return SL_ERR_KAFKA_STORAGE_ERROR; /* the caller says why */
    int64_t off = sl_log_start_offset(st->log);
    int64_t end = sl_log_end_offset(st->log);
    uint8_t *buf = NULL;
    size_t cap = 0;
    sl_err_t rc = SL_ERR_NONE;
    while (off < end) {
        struct sl_log_slice sl;
        rc = sl_log_read(st->log, off, REPLAY_READ_BYTES, true, &sl);
        if (rc != SL_ERR_NONE)
            break;
        if (sl.len <= 0) {
            sl_log_slice_release(sl._ref);
            break;
        }
        const uint8_t *p = sl.mem;
        if (!p) {
            if (cap < (size_t)sl.len) {
                cap = (size_t)sl.len;
                buf = sl_xrealloc(buf, cap);
            }
            size_t got = 0;
            while (got < (size_t)sl.len) {
                ssize_t r = pread(sl.fd, buf + got, (size_t)sl.len - got, (off_t)(sl.pos + (int64_t)got));
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    break;
                got += (size_t)r;
            }
            if (got < (size_t)sl.len) {
                sl_log_slice_release(sl._ref);
                rc = SL_ERR_KAFKA_STORAGE_ERROR;
                break;
            }
            p = buf;
        }
        int64_t next = replay_buffer(p, (size_t)sl.len, off, fn, ctx);
        sl_log_slice_release(sl._ref);
        if (next <= off) {
            rc = SL_ERR_KAFKA_STORAGE_ERROR;
            break;
        }
        off = next;
    }
    free(buf);
    if (rc != SL_ERR_NONE)
        SL_ERROR("group", "offsets log: read failed at offset %" PRId64 " (error %d)", off, (int)rc);
    return rc;
}

/* ---- appends ---- */

/* Coordinator loop: report a finished flush. */
static void flush_done_task(void *arg)
{
    struct flush_wait *fw = arg;
    struct sl_gstore *st = fw->st;
    st->pending--;
    if (fw->err) {
        st->failed = true;
        fw->cb(fw->arg, SL_ERR_KAFKA_STORAGE_ERROR);
    } else {
        fw->cb(fw->arg, SL_ERR_NONE);
    }
    free(fw);
}

/* Flusher thread: hand the result to the coordinator loop. */
static void flush_cb(void *arg, int err)
{
    struct flush_wait *fw = arg;
    fw->err = err;
    sl_evloop_post(fw->st->el, flush_done_task, fw);
}

sl_err_t sl_gstore_append(struct sl_gstore *st, const struct sl_grec *recs, int n,
                          sl_gstore_done_fn cb, void *arg, int64_t *first_offset)
{
    SL_ASSERT(n >= 1);
    sl_grec_build_batch(&st->batch, recs, n, sl_now_ms());
    struct sl_batch_info info;
    /* Built here, so this cannot fail; checking costs a CRC pass and keeps
     * a bug from ever writing a batch recovery would cut off. */
    if (sl_batch_parse(st->batch.data, st->batch.len, &info) != SL_ERR_NONE) {
        SL_ERROR("group", "offsets log: built an invalid batch; not written");
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    struct sl_log_append_info ai;
    sl_err_t rc = sl_log_append(st->log, st->batch.data, st->batch.len, 0, &ai);
    if (rc != SL_ERR_NONE) {
        st->failed = true;
        SL_ERROR("group", "offsets log: append failed (error %d)", (int)rc);
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (first_offset)
        *first_offset = ai.base_offset;
    if (!cb)
        return SL_ERR_NONE;
    struct flush_wait *fw = sl_xcalloc(1, sizeof(*fw));
    fw->st = st;
    fw->cb = cb;
    fw->arg = arg;
    st->pending++;
    if (st->flusher) {
        sl_flusher_request(st->flusher, st->log, ai.last_offset + 1, flush_cb, fw);
    } else {
        fw->err = sl_log_flush(st->log) == SL_ERR_NONE ? 0 : SL_ERR_KAFKA_STORAGE_ERROR;
        sl_evloop_post(st->el, flush_done_task, fw);
    }
    return SL_ERR_NONE;
}

sl_err_t sl_gstore_truncate_before(struct sl_gstore *st, int64_t offset)
{
    if (sl_log_flush(st->log) != SL_ERR_NONE) {
        st->failed = true;
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    int64_t low;
    sl_err_t rc = sl_log_delete_records(st->log, offset, &low);
    if (rc != SL_ERR_NONE) {
        SL_WARN("group", "offsets log: cannot truncate below %" PRId64 " (error %d)", offset,
                (int)rc);
        if (rc == SL_ERR_KAFKA_STORAGE_ERROR)
            st->failed = true;
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
    return SL_ERR_NONE;
}

int sl_gstore_pending(const struct sl_gstore *st)
{
    return st->pending;
}

int64_t sl_gstore_records(const struct sl_gstore *st)
{
    return sl_log_end_offset(st->log) - sl_log_start_offset(st->log);
}

int64_t sl_gstore_bytes(const struct sl_gstore *st)
{
    return sl_log_size_bytes(st->log);
}

bool sl_gstore_failed(const struct sl_gstore *st)
{
    return st->failed || sl_log_in_error(st->log);
}
