/* SPDX-License-Identifier: Apache-2.0
 *
 * The group coordinator's durable store: one partition log under
 * <data_dir>/internal/__consumer_offsets-0 (outside the topic log
 * directory, so the topic registry never sees it and Metadata never lists
 * it), written with record batches built by group/records.c. Appends are
 * made durable by the broker's group-commit flusher, and their completion
 * is delivered on the coordinator's event loop, like Produce with acks=all.
 * Replay reads the log from its start offset; truncation drops everything
 * below a snapshot once the snapshot is durable (whole segments are then
 * deleted).
 *
 * Thread: every function runs on the coordinator thread, except that the
 * flusher thread runs the internal durability callback (which only posts to
 * the coordinator's loop).
 */
#ifndef SL_GROUP_STORE_H
#define SL_GROUP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "group/records.h"
#include "sluice/err.h"

struct sl_fileops;
struct sl_flusher;
struct sl_evloop;
struct sl_gstore;

/* Segment size of the internal log: small, so truncation after a snapshot
 * frees space quickly. */
#define SL_GSTORE_SEGMENT_BYTES (8 * 1024 * 1024)

/* Opens (creating) the log in dir (borrowed) and recovers it as after a
 * crash (the log is small; full validation of the unflushed tail is cheap).
 * flusher may be NULL (tests): appends are then flushed synchronously. el is
 * the loop that durability callbacks are posted to. On success *out holds a
 * new store (close it with sl_gstore_close). Returns SL_ERR_NONE or
 * SL_ERR__IO / SL_ERR__INVAL with a message naming the directory in err. */
sl_err_t sl_gstore_open(const struct sl_fileops *ops, const char *dir, struct sl_flusher *flusher,
                        struct sl_evloop *el, struct sl_gstore **out, char *err, size_t errlen);

/* Closes the log (flushing it). No append may be pending
 * (sl_gstore_pending() == 0). NULL is fine. */
void sl_gstore_close(struct sl_gstore *st);

/* Calls fn(ctx, offset, key, value) for every record from the log start to
 * its end, in order. value is NULL with value_len -1 for a tombstone.
 * Borrowed views, valid during the call. Returns SL_ERR_NONE, or
 * SL_ERR_KAFKA_STORAGE_ERROR if a read fails (the caller then refuses to
 * serve: a partial state could lose commits). Corrupt batches cannot occur
 * (recovery cut them off); a record that does not parse is passed on as is
 * for the caller to skip. */
typedef void (*sl_gstore_replay_fn)(void *ctx, int64_t offset, const uint8_t *key, int32_t key_len,
                                    const uint8_t *value, int32_t value_len);
sl_err_t sl_gstore_replay(struct sl_gstore *st, sl_gstore_replay_fn fn, void *ctx);

/* Completion of an append: err is SL_ERR_NONE once the records are durable,
 * or SL_ERR_KAFKA_STORAGE_ERROR. Runs on the coordinator loop. */
typedef void (*sl_gstore_done_fn)(void *arg, sl_err_t err);

/* Appends recs[0..n) (n >= 1, borrowed) as one batch. With cb, cb(arg, err)
 * runs later on the coordinator loop (never inside this call) once they are
 * durable or the flush failed. Returns SL_ERR_NONE (cb will run), or
 * SL_ERR_KAFKA_STORAGE_ERROR if the append itself failed (cb will not run;
 * the log is in its sticky ERROR state). *first_offset (may be NULL) gets
 * the offset of the first record. */
sl_err_t sl_gstore_append(struct sl_gstore *st, const struct sl_grec *recs, int n,
                          sl_gstore_done_fn cb, void *arg, int64_t *first_offset);

/* Makes everything appended durable now (synchronously), then moves the log
 * start to `offset` (deleting the segments entirely below it). Used after a
 * snapshot whose first record is at `offset` (-1: the end of the log, when
 * nothing is live). Returns SL_ERR_NONE or
 * SL_ERR_KAFKA_STORAGE_ERROR. */
sl_err_t sl_gstore_truncate_before(struct sl_gstore *st, int64_t offset);

/* Appends whose durability callback has not run yet. */
int sl_gstore_pending(const struct sl_gstore *st);
/* Records between the log start and its end (including dead ones). */
int64_t sl_gstore_records(const struct sl_gstore *st);
/* Bytes of all segments. */
int64_t sl_gstore_bytes(const struct sl_gstore *st);
/* True once an append or a flush failed (the log is in ERROR). */
bool sl_gstore_failed(const struct sl_gstore *st);
/* True if recovery quarantined the log at open (damage or tampering in
 * flushed data, reported by the storage layer): it cannot be replayed. */
bool sl_gstore_quarantined(const struct sl_gstore *st);
/* The log's directory (for messages). */
const char *sl_gstore_dir(const struct sl_gstore *st);

#endif
