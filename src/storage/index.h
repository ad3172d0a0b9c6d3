/* SPDX-License-Identifier: Apache-2.0
 *
 * The sparse offset index and the time index of one segment, kept in memory
 * and persisted as files in Kafka's entry formats (big-endian), followed by
 * an 8-byte trailer Kafka does not have:
 *   .index      8-byte entries  { int32 relative offset, int32 position }
 *   .timeindex 12-byte entries  { int64 timestamp, int32 relative offset }
 *   trailer                     { "SLX" + 'O' or 'T', uint32 CRC-32C of the entries }
 * The trailer lets recovery tell a damaged index file from a good one: a
 * file without a valid trailer is ignored and the index rebuilt from the
 * data, instead of trusting entries that merely look ordered (a wrong time
 * entry could make retention delete data early).
 * Relative offsets are offsets minus the segment's base offset. An offset
 * entry names the BASE offset of the batch that starts at `position` (Kafka
 * stores the batch's last offset there; either is correct for a floor
 * lookup, ours saves a header read). A time entry (ts, rel) says: the
 * largest timestamp among the batches before the index point that wrote it
 * is ts, first reached by the batch whose base offset is base + rel.
 *
 * Concurrency: one writer (the log's append path, under the log mutex) and
 * any number of lock-free readers. The entry arrays never move while the
 * segment is shared: the active segment's arrays are allocated at their full
 * capacity when it becomes active (malloc, so untouched pages cost nothing),
 * and the segment rolls before either index is full. The writer stores an
 * entry, then publishes the new count with a release store; readers load the
 * count with acquire and only look below it. Growing (sl_*index_reserve) and
 * truncating are for single-threaded phases (recovery) only.
 */
#ifndef SL_STORAGE_INDEX_H
#define SL_STORAGE_INDEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_OINDEX_ENTRY_SIZE 8
#define SL_TINDEX_ENTRY_SIZE 12
#define SL_INDEX_TRAILER_SIZE 8

struct sl_oentry {
    int32_t rel; /* batch base offset - segment base offset */
    int32_t pos; /* position of the batch in the .log */
};

struct sl_tentry {
    int64_t ts;
    int32_t rel;
};

struct sl_oindex {
    struct sl_oentry *e;
    uint32_t cap;
    _Atomic uint32_t n;
};

struct sl_tindex {
    struct sl_tentry *e;
    uint32_t cap;
    _Atomic uint32_t n;
};

/* Initialise empty (no memory) / free the entries. Single-threaded. */
void sl_oindex_init(struct sl_oindex *ix);
void sl_oindex_free(struct sl_oindex *ix);
void sl_tindex_init(struct sl_tindex *ix);
void sl_tindex_free(struct sl_tindex *ix);

/* Makes room for at least cap entries (may move the array: single-threaded
 * phases only). */
void sl_oindex_reserve(struct sl_oindex *ix, uint32_t cap);
void sl_tindex_reserve(struct sl_tindex *ix, uint32_t cap);

/* Number of published entries (acquire): entries [0, n) are stable. */
static inline uint32_t sl_oindex_count(const struct sl_oindex *ix)
{
    return atomic_load_explicit(&ix->n, memory_order_acquire);
}
static inline uint32_t sl_tindex_count(const struct sl_tindex *ix)
{
    return atomic_load_explicit(&ix->n, memory_order_acquire);
}

/* Appends one entry and publishes it (release). The single writer only; the
 * caller guarantees room (count < cap) or, in single-threaded phases, lets it
 * grow (grow = true). */
void sl_oindex_push(struct sl_oindex *ix, int32_t rel, int32_t pos, bool grow);
void sl_tindex_push(struct sl_tindex *ix, int64_t ts, int32_t rel, bool grow);

/* Drops entries from n on (single-threaded phases only). */
void sl_oindex_truncate(struct sl_oindex *ix, uint32_t n);
void sl_tindex_truncate(struct sl_tindex *ix, uint32_t n);

/* Floor searches over the first n entries (n from *_count, or smaller).
 * Each returns the index of the entry found, or -1 if there is none. */
/* Largest entry with rel <= rel. */
int64_t sl_oindex_floor_rel(const struct sl_oindex *ix, uint32_t n, int32_t rel);
/* Largest entry with pos <= pos. */
int64_t sl_oindex_floor_pos(const struct sl_oindex *ix, uint32_t n, int64_t pos);
/* Number of entries among the first n whose pos < limit (positions are
 * increasing), i.e. how many point inside [0, limit). */
uint32_t sl_oindex_count_below(const struct sl_oindex *ix, uint32_t n, int64_t limit);
/* Largest entry with ts <= ts. */
int64_t sl_tindex_floor_ts(const struct sl_tindex *ix, uint32_t n, int64_t ts);

/* Serialises the first n entries and the trailer into out (n * entry size
 * + SL_INDEX_TRAILER_SIZE bytes, caller's buffer); returns the byte count. */
size_t sl_oindex_encode(const struct sl_oindex *ix, uint32_t n, uint8_t *out);
size_t sl_tindex_encode(const struct sl_tindex *ix, uint32_t n, uint8_t *out);

/* Loads entries from the bytes of an index file into an empty index. A file
 * whose trailer is missing or whose CRC does not match loads nothing. Of a
 * good file it keeps the longest prefix that is sane: for the offset index
 * rel and pos strictly increasing, rel > 0 and 0 < pos < log_size (the first
 * batch of a segment is never indexed); for the time index ts > -1 and strictly
 * increasing, rel >= 0 and non-decreasing. Returns the number of entries
 * kept; *intact is set when the trailer matched and every entry was kept.
 * Borrows p. */
uint32_t sl_oindex_decode(struct sl_oindex *ix, const uint8_t *p, size_t len, int64_t log_size,
                          bool *intact);
uint32_t sl_tindex_decode(struct sl_tindex *ix, const uint8_t *p, size_t len, bool *intact);

#endif
