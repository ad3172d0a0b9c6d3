/* SPDX-License-Identifier: Apache-2.0
 *
 * In-memory sparse offset and time indexes (see index.h): append with a
 * release-published count, binary floor searches that readers run without
 * locks, and the Kafka-format file codec with the sanity rules recovery uses
 * to decide how much of a persisted index to trust.
 */
#include "storage/index.h"

#include <stdlib.h>

#include "core/bytes.h"
#include "core/crc32c.h"
#include "core/logging.h"
#include "core/mem.h"

void sl_oindex_init(struct sl_oindex *ix)
{
    ix->e = NULL;
    ix->cap = 0;
    atomic_init(&ix->n, 0);
}

void sl_oindex_free(struct sl_oindex *ix)
{
    sl_free(&ix->e);
    ix->cap = 0;
    atomic_store_explicit(&ix->n, 0, memory_order_relaxed);
}

void sl_tindex_init(struct sl_tindex *ix)
{
    ix->e = NULL;
    ix->cap = 0;
    atomic_init(&ix->n, 0);
}

void sl_tindex_free(struct sl_tindex *ix)
{
    sl_free(&ix->e);
    ix->cap = 0;
    atomic_store_explicit(&ix->n, 0, memory_order_relaxed);
}

void sl_oindex_reserve(struct sl_oindex *ix, uint32_t cap)
{
    if (cap <= ix->cap)
        return;
    /* malloc, not calloc: entries past n are never read, and untouched pages
     * of a large allocation stay unbacked until the writer reaches them. */
    ix->e = sl_xrealloc(ix->e, (size_t)cap * sizeof(*ix->e));
    ix->cap = cap;
}

void sl_tindex_reserve(struct sl_tindex *ix, uint32_t cap)
{
    if (cap <= ix->cap)
        return;
    ix->e = sl_xrealloc(ix->e, (size_t)cap * sizeof(*ix->e));
    ix->cap = cap;
}

static uint32_t grow_cap(uint32_t cap)
{
    return cap < 64 ? 64 : (cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2);
}

void sl_oindex_push(struct sl_oindex *ix, int32_t rel, int32_t pos, bool grow)
{
    uint32_t n = atomic_load_explicit(&ix->n, memory_order_relaxed);
    if (n >= ix->cap) {
        SL_ASSERT(grow);
        sl_oindex_reserve(ix, grow_cap(ix->cap));
    }
    ix->e[n] = (struct sl_oentry){rel, pos};
    atomic_store_explicit(&ix->n, n + 1, memory_order_release);
}

void sl_tindex_push(struct sl_tindex *ix, int64_t ts, int32_t rel, bool grow)
{
    uint32_t n = atomic_load_explicit(&ix->n, memory_order_relaxed);
    if (n >= ix->cap) {
        SL_ASSERT(grow);
        sl_tindex_reserve(ix, grow_cap(ix->cap));
    }
    ix->e[n] = (struct sl_tentry){ts, rel};
    atomic_store_explicit(&ix->n, n + 1, memory_order_release);
}

void sl_oindex_truncate(struct sl_oindex *ix, uint32_t n)
{
    if (n < atomic_load_explicit(&ix->n, memory_order_relaxed))
        atomic_store_explicit(&ix->n, n, memory_order_release);
}

void sl_tindex_truncate(struct sl_tindex *ix, uint32_t n)
{
    if (n < atomic_load_explicit(&ix->n, memory_order_relaxed))
        atomic_store_explicit(&ix->n, n, memory_order_release);
}

int64_t sl_oindex_floor_rel(const struct sl_oindex *ix, uint32_t n, int32_t rel)
{
    /* Invariant: entries [0, lo) have rel <= target; [hi, n) have rel > target. */
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->e[mid].rel <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int64_t)lo - 1;
}

int64_t sl_oindex_floor_pos(const struct sl_oindex *ix, uint32_t n, int64_t pos)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->e[mid].pos <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int64_t)lo - 1;
}

uint32_t sl_oindex_count_below(const struct sl_oindex *ix, uint32_t n, int64_t limit)
{
    return (uint32_t)(sl_oindex_floor_pos(ix, n, limit - 1) + 1);
}

int64_t sl_tindex_floor_ts(const struct sl_tindex *ix, uint32_t n, int64_t ts)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->e[mid].ts <= ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int64_t)lo - 1;
}

static size_t put_trailer(uint8_t *out, size_t n, char kind)
{
    out[n] = 'S';
    out[n + 1] = 'L';
    out[n + 2] = 'X';
    out[n + 3] = (uint8_t)kind;
    sl_put_be32(out + n + 4, sl_crc32c(0, out, n));
    return n + SL_INDEX_TRAILER_SIZE;
}

/* The number of entry bytes of a file with a valid trailer of this kind, or
 * -1. */
static int64_t check_trailer(const uint8_t *p, size_t len, char kind, size_t entry)
{
    if (len < SL_INDEX_TRAILER_SIZE)
        return -1;
    size_t n = len - SL_INDEX_TRAILER_SIZE;
    const uint8_t *t = p + n;
    if (n % entry != 0 || t[0] != 'S' || t[1] != 'L' || t[2] != 'X' || t[3] != (uint8_t)kind)
        return -1;
    if (sl_crc32c(0, p, n) != sl_be32(t + 4))
        return -1;
    return (int64_t)n;
}

size_t sl_oindex_encode(const struct sl_oindex *ix, uint32_t n, uint8_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        sl_put_be32(out + (size_t)i * SL_OINDEX_ENTRY_SIZE, (uint32_t)ix->e[i].rel);
        sl_put_be32(out + (size_t)i * SL_OINDEX_ENTRY_SIZE + 4, (uint32_t)ix->e[i].pos);
    }
    return put_trailer(out, (size_t)n * SL_OINDEX_ENTRY_SIZE, 'O');
}

size_t sl_tindex_encode(const struct sl_tindex *ix, uint32_t n, uint8_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        sl_put_be64(out + (size_t)i * SL_TINDEX_ENTRY_SIZE, (uint64_t)ix->e[i].ts);
        sl_put_be32(out + (size_t)i * SL_TINDEX_ENTRY_SIZE + 8, (uint32_t)ix->e[i].rel);
    }
    return put_trailer(out, (size_t)n * SL_TINDEX_ENTRY_SIZE, 'T');
}

uint32_t sl_oindex_decode(struct sl_oindex *ix, const uint8_t *p, size_t len, int64_t log_size,
                          bool *intact)
{
    int64_t bytes = check_trailer(p, len, 'O', SL_OINDEX_ENTRY_SIZE);
    *intact = false;
    if (bytes < 0)
        return 0;
    len = (size_t)bytes;
    size_t max = len / SL_OINDEX_ENTRY_SIZE;
    if (max > UINT32_MAX - 1)
        max = UINT32_MAX - 1;
    sl_oindex_reserve(ix, (uint32_t)max);
    int32_t prev_rel = 0, prev_pos = 0;
    uint32_t n = 0;
    for (; n < max; n++) {
        int32_t rel = (int32_t)sl_be32(p + (size_t)n * SL_OINDEX_ENTRY_SIZE);
        int32_t pos = (int32_t)sl_be32(p + (size_t)n * SL_OINDEX_ENTRY_SIZE + 4);
        if (rel <= prev_rel || pos <= prev_pos || pos >= log_size)
            break;
        ix->e[n] = (struct sl_oentry){rel, pos};
        prev_rel = rel;
        prev_pos = pos;
    }
    atomic_store_explicit(&ix->n, n, memory_order_release);
    *intact = (size_t)n * SL_OINDEX_ENTRY_SIZE == len;
    return n;
}

uint32_t sl_tindex_decode(struct sl_tindex *ix, const uint8_t *p, size_t len, bool *intact)
{
    int64_t bytes = check_trailer(p, len, 'T', SL_TINDEX_ENTRY_SIZE);
    *intact = false;
    if (bytes < 0)
        return 0;
    len = (size_t)bytes;
    size_t max = len / SL_TINDEX_ENTRY_SIZE;
    if (max > UINT32_MAX - 1)
        max = UINT32_MAX - 1;
    sl_tindex_reserve(ix, (uint32_t)max);
    int64_t prev_ts = -1; /* entries start above "no timestamp" (-1) */
    int32_t prev_rel = 0;
    uint32_t n = 0;
    for (; n < max; n++) {
        int64_t ts = (int64_t)sl_be64(p + (size_t)n * SL_TINDEX_ENTRY_SIZE);
        int32_t rel = (int32_t)sl_be32(p + (size_t)n * SL_TINDEX_ENTRY_SIZE + 8);
        if (ts <= prev_ts || rel < prev_rel)
            break;
        ix->e[n] = (struct sl_tentry){ts, rel};
        prev_ts = ts;
        prev_rel = rel;
    }
    atomic_store_explicit(&ix->n, n, memory_order_release);
    *intact = (size_t)n * SL_TINDEX_ENTRY_SIZE == len;
    return n;
}
