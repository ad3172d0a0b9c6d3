/* SPDX-License-Identifier: Apache-2.0
 *
 * Log segments (see segment.h): naming, opening and reference counting, the
 * index bookkeeping done for every appended batch, the index files, and the
 * buffered reader and batch lookup used by fetch, timestamp queries and
 * recovery. The log itself (log.c) decides when to roll, publish, flush and
 * delete; this file never takes a lock.
 */
#include "storage/segment.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logging.h"
#include "core/mem.h"
#include "storage/log.h"

#define NAME_DIGITS 20

bool sl_segment_path(char *buf, size_t n, const char *dir, int64_t base, const char *suffix)
{
    int len = snprintf(buf, n, "%s/%020" PRId64 "%s", dir, base, suffix);
    return len > 0 && (size_t)len < n;
}

bool sl_segment_parse_name(const char *name, int64_t *base)
{
    if (strlen(name) != NAME_DIGITS + 4 || strcmp(name + NAME_DIGITS, ".log") != 0)
        return false;
    int64_t v = 0;
    for (int i = 0; i < NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        int d = name[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *base = v;
    return true;
}

sl_err_t sl_segment_open(const struct sl_fileops *ops, const char *dir, int64_t base, bool create,
                         struct sl_segment **out, int *oserr)
{
    char path[4096];
    *oserr = 0;
    if (!sl_segment_path(path, sizeof(path), dir, base, ".log")) {
        *oserr = -ENAMETOOLONG;
        return SL_ERR__IO;
    }
    struct sl_file *f = NULL;
    int flags = SL_FILE_RDWR | (create ? SL_FILE_CREATE | SL_FILE_EXCL : 0);
    int rc = ops->open(ops, path, flags, &f);
    if (rc < 0) {
        *oserr = rc;
        return SL_ERR__IO;
    }
    struct sl_segment *seg = sl_xcalloc(1, sizeof(*seg));
    seg->_kind = SL_SEGMENT_KIND;
    atomic_init(&seg->_refs, 1);
    seg->seg_base = base;
    seg->seg_path = sl_xstrdup(path);
    seg->seg_ops = ops;
    seg->seg_file = f;
    atomic_init(&seg->seg_end_pos, 0);
    atomic_init(&seg->seg_end_off, base);
    atomic_init(&seg->seg_max_ts, -1);
    atomic_init(&seg->seg_max_ts_off, -1);
    atomic_init(&seg->seg_mtime_ms, 0);
    sl_oindex_init(&seg->seg_oidx);
    sl_tindex_init(&seg->seg_tidx);
    atomic_init(&seg->seg_idx_dirty, false);
    *out = seg;
    return SL_ERR_NONE;
}

void sl_segment_ref(struct sl_segment *seg)
{
    atomic_fetch_add_explicit(&seg->_refs, 1, memory_order_relaxed);
}

void sl_segment_unref(struct sl_segment *seg)
{
    if (!seg)
        return;
    if (atomic_fetch_sub_explicit(&seg->_refs, 1, memory_order_acq_rel) != 1)
        return;
    sl_file_close(seg->seg_file);
    sl_oindex_free(&seg->seg_oidx);
    sl_tindex_free(&seg->seg_tidx);
    free(seg->seg_path);
    seg->_kind = 0;
    free(seg);
}

void sl_segment_index_caps(const struct sl_log_config *cfg, uint32_t *ocap, uint32_t *tcap)
{
    /* Every entry but the first needs more than `interval` bytes and at
     * least one whole batch since the previous one. */
    int64_t step = (int64_t)cfg->index_interval_bytes + 1;
    if (step < SL_BATCH_HEADER_SIZE)
        step = SL_BATCH_HEADER_SIZE;
    int64_t by_data = cfg->segment_bytes / step + 2;
    int64_t o = (int64_t)cfg->segment_index_bytes / SL_OINDEX_ENTRY_SIZE;
    int64_t t = (int64_t)cfg->segment_index_bytes / SL_TINDEX_ENTRY_SIZE;
    if (o > by_data)
        o = by_data;
    if (t > by_data)
        t = by_data;
    t += 1; /* the final entry written by sl_segment_seal */
    if (o < 2)
        o = 2;
    if (t < 3)
        t = 3;
    if (o > INT32_MAX)
        o = INT32_MAX;
    if (t > INT32_MAX)
        t = INT32_MAX;
    *ocap = (uint32_t)o;
    *tcap = (uint32_t)t;
}

void sl_segment_make_active(struct sl_segment *seg, const struct sl_log_config *cfg)
{
    uint32_t ocap, tcap;
    sl_segment_index_caps(cfg, &ocap, &tcap);
    uint32_t on = sl_oindex_count(&seg->seg_oidx), tn = sl_tindex_count(&seg->seg_tidx);
    /* A segment recovered under a larger configuration may already hold more
     * entries: leave room for one more batch and the final time entry; the
     * next append then rolls because the index is full. */
    if (ocap < on + 1)
        ocap = on + 1;
    if (tcap < tn + 2)
        tcap = tn + 2;
    sl_oindex_reserve(&seg->seg_oidx, ocap);
    sl_tindex_reserve(&seg->seg_tidx, tcap);
    seg->seg_active = true;
}

bool sl_segment_index_full(const struct sl_segment *seg)
{
    /* One batch may add an offset entry and a time entry, and sealing may
     * add one more time entry. */
    return sl_oindex_count(&seg->seg_oidx) + 1 > seg->seg_oidx.cap ||
           sl_tindex_count(&seg->seg_tidx) + 2 > seg->seg_tidx.cap;
}

static int64_t last_tindex_ts(const struct sl_segment *seg)
{
    uint32_t tn = sl_tindex_count(&seg->seg_tidx);
    return tn ? seg->seg_tidx.e[tn - 1].ts : -1;
}

void sl_segment_track(struct sl_segment *seg, int64_t base_off, int64_t max_ts, int64_t pos,
                      int64_t len, int32_t interval, bool grow)
{
    if (seg->seg_since_idx > (int64_t)interval) {
        int64_t mts = atomic_load_explicit(&seg->seg_max_ts, memory_order_relaxed);
        if (mts > last_tindex_ts(seg)) {
            int64_t moff = atomic_load_explicit(&seg->seg_max_ts_off, memory_order_relaxed);
            sl_tindex_push(&seg->seg_tidx, mts, (int32_t)(moff - seg->seg_base), grow);
        }
        sl_oindex_push(&seg->seg_oidx, (int32_t)(base_off - seg->seg_base), (int32_t)pos, grow);
        seg->seg_since_idx = 0;
    }
    seg->seg_since_idx += len;
    if (max_ts > atomic_load_explicit(&seg->seg_max_ts, memory_order_relaxed)) {
        atomic_store_explicit(&seg->seg_max_ts_off, base_off, memory_order_relaxed);
        atomic_store_explicit(&seg->seg_max_ts, max_ts, memory_order_release);
    }
}

void sl_segment_seal(struct sl_segment *seg, bool grow)
{
    int64_t mts = atomic_load_explicit(&seg->seg_max_ts, memory_order_relaxed);
    if (mts > last_tindex_ts(seg)) {
        int64_t moff = atomic_load_explicit(&seg->seg_max_ts_off, memory_order_relaxed);
        sl_tindex_push(&seg->seg_tidx, mts, (int32_t)(moff - seg->seg_base), grow);
    }
    seg->seg_active = false;
    atomic_store(&seg->seg_idx_dirty, true);
}

/* "<...>.log" -> "<...><suffix>" */
static bool sibling_path(char *buf, size_t n, const char *log_path, const char *suffix)
{
    size_t len = strlen(log_path);
    if (len < 4 || len - 4 + strlen(suffix) + 1 > n)
        return false;
    memcpy(buf, log_path, len - 4);
    strcpy(buf + len - 4, suffix);
    return true;
}

int sl_segment_persist_index(struct sl_segment *seg)
{
    char path[4096];
    uint32_t on = sl_oindex_count(&seg->seg_oidx), tn = sl_tindex_count(&seg->seg_tidx);
    size_t cap = (size_t)(on > tn ? on : tn) * SL_TINDEX_ENTRY_SIZE + SL_INDEX_TRAILER_SIZE;
    uint8_t *buf = sl_xmalloc(cap);
    int rc = -ENAMETOOLONG;
    /* Time index first. Recovery only loads the index files of a segment
     * that was sealed and persisted before the recovery point moved past it,
     * or after a clean close; a crash between the two renames leaves the
     * segment past the recovery point (rebuilt). Even so, if a newer
     * .timeindex ends up beside an older .index, recovery copes: it keeps
     * only the time entries below the last offset entry and re-derives the
     * rest from the data. */
    if (sibling_path(path, sizeof(path), seg->seg_path, ".timeindex")) {
        size_t n = sl_tindex_encode(&seg->seg_tidx, tn, buf);
        rc = sl_file_replace(seg->seg_ops, path, buf, n);
    }
    if (rc == 0) {
        rc = -ENAMETOOLONG;
        if (sibling_path(path, sizeof(path), seg->seg_path, ".index")) {
            size_t n = sl_oindex_encode(&seg->seg_oidx, on, buf);
            rc = sl_file_replace(seg->seg_ops, path, buf, n);
        }
    }
    free(buf);
    if (rc == 0)
        atomic_store(&seg->seg_idx_dirty, false);
    return rc;
}

/* Reads a whole small file into a new buffer (caller frees), at most max
 * bytes; NULL if missing or unreadable. */
static uint8_t *read_small_file(const struct sl_fileops *ops, const char *path, int64_t max,
                                size_t *len)
{
    struct sl_file *f = NULL;
    if (ops->open(ops, path, SL_FILE_RDONLY, &f) < 0)
        return NULL;
    int64_t size = 0;
    uint8_t *buf = NULL;
    if (f->ops->size(f, &size) == 0 && size >= 0) {
        if (size > max)
            size = max;
        buf = sl_xmalloc((size_t)size + 1);
        ssize_t r = sl_file_pread_full(f, buf, (size_t)size, 0);
        if (r < 0) {
            sl_free(&buf);
        } else {
            *len = (size_t)r;
        }
    }
    sl_file_close(f);
    return buf;
}

bool sl_segment_load_index(struct sl_segment *seg, int64_t log_size)
{
    char path[4096];
    bool whole = true, intact;
    size_t len = 0;
    /* No sane index holds more entries than the segment has batches. */
    int64_t max_entries = log_size / SL_BATCH_HEADER_SIZE + 2;
    int64_t omax = max_entries * SL_OINDEX_ENTRY_SIZE + SL_INDEX_TRAILER_SIZE;
    int64_t tmax = max_entries * SL_TINDEX_ENTRY_SIZE + SL_INDEX_TRAILER_SIZE;
    uint8_t *buf = NULL;
    if (sibling_path(path, sizeof(path), seg->seg_path, ".index") &&
        (buf = read_small_file(seg->seg_ops, path, omax, &len))) {
        sl_oindex_decode(&seg->seg_oidx, buf, len, log_size, &intact);
        whole = whole && intact;
        free(buf);
    } else {
        whole = false;
    }
    len = 0;
    if (sibling_path(path, sizeof(path), seg->seg_path, ".timeindex") &&
        (buf = read_small_file(seg->seg_ops, path, tmax, &len))) {
        sl_tindex_decode(&seg->seg_tidx, buf, len, &intact);
        whole = whole && intact;
        free(buf);
    } else {
        whole = false;
    }
    return whole;
}

int sl_segment_unlink_files(const struct sl_fileops *ops, const char *log_path)
{
    static const char *const suffixes[] = {".index", ".timeindex", ".index.tmp",
                                           ".timeindex.tmp"};
    char path[4096];
    int first = 0;
    int rc = ops->unlink(ops, log_path);
    if (rc < 0 && rc != -ENOENT)
        first = rc;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (!sibling_path(path, sizeof(path), log_path, suffixes[i]))
            continue;
        rc = ops->unlink(ops, path);
        if (rc < 0 && rc != -ENOENT && first == 0)
            first = rc;
    }
    return first;
}

void sl_seg_reader_init(struct sl_seg_reader *r, struct sl_file *f, int64_t limit,
                        uint8_t *stack_buf, size_t cap)
{
    r->r_file = f;
    r->r_limit = limit;
    r->r_heap = stack_buf == NULL;
    r->r_buf = stack_buf ? stack_buf : sl_xmalloc(cap ? cap : 1);
    r->r_cap = cap ? cap : 1;
    r->r_bpos = 0;
    r->r_blen = 0;
    r->r_err = 0;
}

void sl_seg_reader_free(struct sl_seg_reader *r)
{
    if (r->r_heap)
        sl_free(&r->r_buf);
}

const uint8_t *sl_seg_reader_get(struct sl_seg_reader *r, int64_t pos, size_t n)
{
    if (pos < 0 || (uint64_t)pos + n > (uint64_t)r->r_limit)
        return NULL;
    if (pos >= r->r_bpos && (uint64_t)pos + n <= (uint64_t)r->r_bpos + r->r_blen)
        return r->r_buf + (pos - r->r_bpos);
    if (n > r->r_cap) {
        if (!r->r_heap)
            return NULL;
        /* Callers bound n by the file's size before asking, so this growth
         * is bounded by bytes that exist on disk. */
        size_t cap = r->r_cap;
        while (cap < n)
            cap = cap > SIZE_MAX / 2 ? n : cap * 2;
        free(r->r_buf);
        r->r_buf = sl_xmalloc(cap);
        r->r_cap = cap;
    }
    size_t want = r->r_cap;
    if ((uint64_t)pos + want > (uint64_t)r->r_limit)
        want = (size_t)(r->r_limit - pos);
    r->r_blen = 0;
    /* Read ahead, but keep what was read before an error: a layer that
     * authenticates (encryption at rest) returns the good batches before
     * one that fails, and the bytes asked for may all be among them. */
    size_t got = 0;
    int rerr = 0;
    while (got < want) {
        ssize_t rr = r->r_file->ops->pread(r->r_file, r->r_buf + got, want - got,
                                           pos + (int64_t)got);
        if (rr <= 0) {
            rerr = (int)rr;
            break;
        }
        got += (size_t)rr;
    }
    r->r_bpos = pos;
    r->r_blen = got;
    if (got < n) {
        /* An error, or the file is shorter than the published size. */
        r->r_err = rerr < 0 ? rerr : -EIO;
        return NULL;
    }
    return r->r_buf;
}

sl_err_t sl_segment_find(struct sl_segment *seg, struct sl_seg_reader *r, int64_t offset,
                         int64_t end_pos, int64_t *pos, struct sl_batch_info *hdr)
{
    int64_t p = 0;
    if (offset > seg->seg_base) {
        /* The index count is loaded before end_pos was (by our caller), and
         * entries are published after the bytes they point to, so every
         * entry counted points below end_pos; the bound is defensive. */
        uint32_t n = sl_oindex_count(&seg->seg_oidx);
        n = sl_oindex_count_below(&seg->seg_oidx, n, end_pos);
        int64_t rel = offset - seg->seg_base;
        int32_t rel32 = rel > INT32_MAX ? INT32_MAX : (int32_t)rel;
        int64_t i = sl_oindex_floor_rel(&seg->seg_oidx, n, rel32);
        if (i >= 0)
            p = seg->seg_oidx.e[i].pos;
    }
    while (p < end_pos) {
        const uint8_t *h = sl_seg_reader_get(r, p, SL_BATCH_HEADER_SIZE);
        if (!h || sl_batch_parse_header(h, SL_BATCH_HEADER_SIZE, hdr) != SL_ERR_NONE ||
            p + hdr->batch_len > end_pos) {
            SL_ERROR("storage", "%s: unreadable batch header at position %" PRId64 " (%s)",
                     seg->seg_path, p, r->r_err ? strerror(-r->r_err) : "malformed");
            return SL_ERR_KAFKA_STORAGE_ERROR;
        }
        if (hdr->base_offset + hdr->last_offset_delta >= offset) {
            *pos = p;
            return SL_ERR_NONE;
        }
        p += hdr->batch_len;
    }
    return SL_ERR_OFFSET_OUT_OF_RANGE;
}
