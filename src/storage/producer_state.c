/* SPDX-License-Identifier: Apache-2.0
 *
 * Producer state (see producer_state.h): an open-addressing table keyed by
 * producer id, the sequence rules of Kafka's ProducerAppendInfo, and the
 * snapshot file.
 *
 * Snapshot format (all big-endian): "SLPS" magic, u32 version (1), i64 the
 * log end offset it covers, u32 entry count, then per entry i64 producer id,
 * i16 epoch, i64 last timestamp, u8 batch count, and per batch i32 first
 * sequence, i32 last sequence, i64 first offset, i64 last offset; finally a
 * CRC-32C of everything before it. A snapshot that does not verify is
 * ignored (the state is rebuilt from the log), never trusted.
 *
 * The file is written and read through the log's file layer as a blob
 * (sl_file_replace_blob): with encryption at rest it is sealed like the
 * metadata store (AES-256-GCM, bound to "<topic>-<p>/producer-state.snapshot");
 * a clear snapshot found where a sealed one belongs (written before
 * encryption was on, or swapped in) is ignored like a damaged one.
 */
#include "storage/producer_state.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/crc32c.h"
#include "core/logging.h"
#include "core/mem.h"
#include "storage/fileops.h"
#include "storage/log.h"

#define SNAP_MAGIC "SLPS"
#define SNAP_VERSION 1
#define SCAN_CHUNK (4 * 1024 * 1024)

struct pbatch {
    int32_t first_seq, last_seq;
    int64_t first_off, last_off;
};

struct pentry {
    int64_t pid; /* -1: empty slot */
    int16_t epoch;
    uint8_t nb;  /* batches retained, oldest first */
    int64_t last_ts;
    struct pbatch b[SL_PSTATE_BATCHES];
};

struct sl_pstate {
    pthread_mutex_t mu;
    struct pentry *tab;
    size_t cap, n; /* cap is a power of two */
    int snap_segments; /* segment count at the last snapshot */
};

/* ---- table ---- */

static size_t slot_of(int64_t pid, size_t cap)
{
    uint64_t h = (uint64_t)pid * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static struct pentry *find(struct sl_pstate *ps, int64_t pid)
{
    if (!ps->cap)
        return NULL;
    for (size_t i = slot_of(pid, ps->cap);; i = (i + 1) & (ps->cap - 1)) {
        if (ps->tab[i].pid == pid)
            return &ps->tab[i];
        if (ps->tab[i].pid == -1)
            return NULL;
    }
}

static void grow(struct sl_pstate *ps);

static struct pentry *insert(struct sl_pstate *ps, int64_t pid)
{
    if ((ps->n + 1) * 2 > ps->cap)
        grow(ps);
    size_t i = slot_of(pid, ps->cap);
    while (ps->tab[i].pid != -1 && ps->tab[i].pid != pid)
        i = (i + 1) & (ps->cap - 1);
    if (ps->tab[i].pid == -1) {
        memset(&ps->tab[i], 0, sizeof(ps->tab[i]));
        ps->tab[i].pid = pid;
        ps->n++;
    }
    return &ps->tab[i];
}

static void grow(struct sl_pstate *ps)
{
    size_t old_cap = ps->cap;
    struct pentry *old = ps->tab;
    ps->cap = old_cap ? old_cap * 2 : 64;
    ps->tab = sl_xmalloc(ps->cap * sizeof(*ps->tab));
    for (size_t i = 0; i < ps->cap; i++)
        ps->tab[i].pid = -1;
    ps->n = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].pid != -1)
            *insert(ps, old[i].pid) = old[i];
    }
    free(old);
}

/* ---- sequence rules ---- */

static int32_t next_seq(int32_t s)
{
    return s == INT32_MAX ? 0 : s + 1;
}

static int32_t last_seq_of(const struct sl_batch_info *bi)
{
    int64_t last = (int64_t)bi->base_sequence + bi->last_offset_delta;
    return last > INT32_MAX ? (int32_t)(last - INT32_MAX - 1) : (int32_t)last;
}

sl_err_t sl_pstate_check(struct sl_pstate *ps, const struct sl_batch_info *bi, int64_t *dup_base,
                         int64_t *dup_last)
{
    struct pentry *e = find(ps, bi->producer_id);
    if (!e || e->nb == 0)
        return SL_ERR_NONE; /* unknown producer: any sequence, as Kafka */
    if (bi->producer_epoch < e->epoch)
        return SL_ERR_INVALID_PRODUCER_EPOCH;
    if (bi->producer_epoch > e->epoch)
        return bi->base_sequence == 0 ? SL_ERR_NONE : SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    int32_t last = last_seq_of(bi);
    for (int i = 0; i < e->nb; i++) {
        if (e->b[i].first_seq == bi->base_sequence && e->b[i].last_seq == last) {
            *dup_base = e->b[i].first_off;
            *dup_last = e->b[i].last_off;
            return SL_ERR_DUPLICATE_SEQUENCE_NUMBER;
        }
    }
    if (bi->base_sequence != next_seq(e->b[e->nb - 1].last_seq))
        return SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    return SL_ERR_NONE;
}

static void record(struct sl_pstate *ps, int64_t pid, int16_t epoch, int32_t first_seq,
                   int32_t last_seq, int64_t first_off, int64_t last_off, int64_t ts)
{
    struct pentry *e = insert(ps, pid);
    if (epoch != e->epoch)
        e->nb = 0; /* a new epoch starts a new history */
    e->epoch = epoch;
    if (e->nb == SL_PSTATE_BATCHES) {
        memmove(&e->b[0], &e->b[1], sizeof(e->b[0]) * (SL_PSTATE_BATCHES - 1));
        e->nb--;
    }
    e->b[e->nb++] = (struct pbatch){first_seq, last_seq, first_off, last_off};
    if (ts > e->last_ts)
        e->last_ts = ts;
}

void sl_pstate_record(struct sl_pstate *ps, const struct sl_batch_info *bi, int64_t base_offset,
                      int64_t now_ms)
{
    record(ps, bi->producer_id, bi->producer_epoch, bi->base_sequence, last_seq_of(bi),
           base_offset, base_offset + bi->last_offset_delta, now_ms);
}

void sl_pstate_lock(struct sl_pstate *ps)
{
    pthread_mutex_lock(&ps->mu);
}

void sl_pstate_unlock(struct sl_pstate *ps)
{
    pthread_mutex_unlock(&ps->mu);
}

size_t sl_pstate_count(struct sl_pstate *ps)
{
    return ps->n;
}

struct sl_pstate *sl_pstate_of(struct sl_log *log)
{
    return sl_log_user(log);
}

/* ---- snapshot ---- */

static void snap_path(struct sl_log *log, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", sl_log_dir(log), SL_PSTATE_SNAPSHOT_NAME);
}

static int write_snapshot_locked(struct sl_log *log, struct sl_pstate *ps)
{
    int64_t now = sl_now_ms();
    int64_t start = sl_log_start_offset(log);
    int64_t leo = sl_log_end_offset(log);
    size_t per = 8 + 2 + 8 + 1 + SL_PSTATE_BATCHES * 24;
    size_t cap = 4 + 4 + 8 + 4 + ps->n * per + 4;
    uint8_t *buf = sl_xmalloc(cap);
    uint8_t *p = buf;
    memcpy(p, SNAP_MAGIC, 4);
    p += 4;
    sl_put_be32(p, SNAP_VERSION);
    p += 4;
    sl_put_be64(p, (uint64_t)leo);
    p += 8;
    uint8_t *countp = p;
    p += 4;
    uint32_t count = 0;
    for (size_t i = 0; i < ps->cap; i++) {
        struct pentry *e = &ps->tab[i];
        if (e->pid == -1 || e->nb == 0)
            continue;
        /* Forget producers that are silent too long or whose batches all
         * fell below the log start (retention, DeleteRecords). */
        if (now - e->last_ts > SL_PSTATE_EXPIRATION_MS || e->b[e->nb - 1].last_off < start)
            continue;
        sl_put_be64(p, (uint64_t)e->pid);
        sl_put_be16(p + 8, (uint16_t)e->epoch);
        sl_put_be64(p + 10, (uint64_t)e->last_ts);
        p[18] = e->nb;
        p += 19;
        for (int b = 0; b < e->nb; b++) {
            sl_put_be32(p, (uint32_t)e->b[b].first_seq);
            sl_put_be32(p + 4, (uint32_t)e->b[b].last_seq);
            sl_put_be64(p + 8, (uint64_t)e->b[b].first_off);
            sl_put_be64(p + 16, (uint64_t)e->b[b].last_off);
            p += 24;
        }
        count++;
    }
    sl_put_be32(countp, count);
    sl_put_be32(p, sl_crc32c(0, buf, (size_t)(p - buf)));
    p += 4;
    char path[4200];
    snap_path(log, path, sizeof(path));
    int rc = sl_file_replace_blob(sl_log_fileops(log), path, buf, (size_t)(p - buf));
    free(buf);
    if (rc == 0)
        ps->snap_segments = sl_log_segment_count(log);
    return rc;
}

int sl_pstate_snapshot(struct sl_log *log, bool force)
{
    struct sl_pstate *ps = sl_pstate_of(log);
    if (!ps)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&ps->mu);
    if (force || sl_log_segment_count(log) != ps->snap_segments)
        rc = write_snapshot_locked(log, ps);
    pthread_mutex_unlock(&ps->mu);
    return rc;
}

/* Loads a snapshot; returns the offset it covers, or -1 if there is none
 * usable (missing, damaged, or ahead of the log). */
static int64_t load_snapshot(struct sl_log *log, struct sl_pstate *ps)
{
    char path[4200];
    snap_path(log, path, sizeof(path));
    uint8_t *buf = NULL;
    size_t len = 0;
    int rrc = sl_file_read_blob(sl_log_fileops(log), path, 256u << 20, &buf, &len);
    if (rrc == -ENOENT)
        return -1;
    if (rrc < 0) {
        SL_WARN("storage", "%s: producer state snapshot unusable (%s); rebuilding from the log",
                path, rrc == -EPROTO ? "not sealed" : strerror(-rrc));
        return -1;
    }
    int64_t covered = -1;
    if (len < 24 || memcmp(buf, SNAP_MAGIC, 4) != 0 || sl_be32(buf + 4) != SNAP_VERSION ||
        sl_be32(buf + len - 4) != sl_crc32c(0, buf, len - 4))
        goto bad;
    int64_t leo = (int64_t)sl_be64(buf + 8);
    uint32_t count = sl_be32(buf + 16);
    const uint8_t *p = buf + 20, *end = buf + len - 4;
    if (leo < 0 || leo > sl_log_end_offset(log))
        goto bad; /* the log was cut below the snapshot: rebuild */
    for (uint32_t i = 0; i < count; i++) {
        if (end - p < 19)
            goto bad;
        int64_t pid = (int64_t)sl_be64(p);
        int16_t epoch = (int16_t)sl_be16(p + 8);
        int64_t ts = (int64_t)sl_be64(p + 10);
        uint8_t nb = p[18];
        p += 19;
        if (nb == 0 || nb > SL_PSTATE_BATCHES || end - p < (ptrdiff_t)nb * 24 || pid < 0)
            goto bad;
        for (int b = 0; b < nb; b++) {
            record(ps, pid, epoch, (int32_t)sl_be32(p), (int32_t)sl_be32(p + 4),
                   (int64_t)sl_be64(p + 8), (int64_t)sl_be64(p + 16), ts);
            p += 24;
        }
    }
    covered = leo;
    free(buf);
    return covered;
bad:
    SL_WARN("storage", "%s: producer state snapshot unusable; rebuilding from the log", path);
    free(buf);
    for (size_t i = 0; i < ps->cap; i++)
        ps->tab[i].pid = -1;
    ps->n = 0;
    return -1;
}

/* Replays batch headers of [from, LEO). */
static sl_err_t scan(struct sl_log *log, struct sl_pstate *ps, int64_t from, char *err,
                     size_t errlen)
{
    int64_t off = from;
    uint8_t hdr[SL_BATCH_HEADER_SIZE];
    while (off < sl_log_end_offset(log)) {
        struct sl_log_slice sl;
        sl_err_t rc = sl_log_read(log, off, SCAN_CHUNK, true, &sl);
        if (rc != SL_ERR_NONE) {
            snprintf(err, errlen, "%s: reading offset %" PRId64 " for producer state: %d",
                     sl_log_dir(log), off, rc);
            return rc;
        }
        if (sl.len <= 0) {
            if (sl._ref)
                sl_log_slice_release(sl._ref);
            break;
        }
        int64_t pos = 0, next = off;
        while (pos + SL_BATCH_HEADER_SIZE <= sl.len) {
            if (sl.mem) {
                memcpy(hdr, sl.mem + pos, sizeof(hdr));
            } else if (pread(sl.fd, hdr, sizeof(hdr), sl.pos + pos) != (ssize_t)sizeof(hdr)) {
                snprintf(err, errlen, "%s: cannot read a batch header: %s", sl_log_dir(log),
                         strerror(errno));
                sl_log_slice_release(sl._ref);
                return SL_ERR__IO;
            }
            struct sl_batch_info bi;
            if (sl_batch_parse_header(hdr, sizeof(hdr), &bi) != SL_ERR_NONE || bi.batch_len <= 0)
                break;
            if (bi.producer_id >= 0 && !bi.control && bi.base_offset >= from)
                record(ps, bi.producer_id, bi.producer_epoch, bi.base_sequence, last_seq_of(&bi),
                       bi.base_offset, bi.base_offset + bi.last_offset_delta, bi.max_timestamp);
            next = bi.base_offset + bi.last_offset_delta + 1;
            pos += bi.batch_len;
        }
        sl_log_slice_release(sl._ref);
        if (next <= off)
            break; /* no progress: should not happen on a recovered log */
        off = next;
    }
    return SL_ERR_NONE;
}

static void on_log_close(void *user, struct sl_log *log, bool deleted)
{
    struct sl_pstate *ps = user;
    if (!deleted && !sl_log_in_error(log)) {
        pthread_mutex_lock(&ps->mu);
        int rc = write_snapshot_locked(log, ps);
        pthread_mutex_unlock(&ps->mu);
        if (rc < 0)
            SL_WARN("storage", "%s: cannot write the producer state snapshot: %s", sl_log_dir(log),
                    strerror(-rc));
    }
    pthread_mutex_destroy(&ps->mu);
    free(ps->tab);
    free(ps);
}

sl_err_t sl_pstate_attach(struct sl_log *log, char *err, size_t errlen)
{
    struct sl_pstate *ps = sl_xcalloc(1, sizeof(*ps));
    pthread_mutex_init(&ps->mu, NULL);
    int64_t from = load_snapshot(log, ps);
    if (from < 0)
        from = sl_log_start_offset(log);
    /* A log recovery quarantined (in ERROR) neither serves nor appends:
     * nothing to rebuild until a restart recovers it. */
    sl_err_t rc = sl_log_in_error(log) ? SL_ERR_NONE : scan(log, ps, from, err, errlen);
    if (rc != SL_ERR_NONE) {
        pthread_mutex_destroy(&ps->mu);
        free(ps->tab);
        free(ps);
        return rc;
    }
    ps->snap_segments = sl_log_segment_count(log);
    sl_log_set_user(log, ps, on_log_close);
    return SL_ERR_NONE;
}
