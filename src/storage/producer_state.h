/* SPDX-License-Identifier: Apache-2.0
 *
 * Idempotent-producer state of one partition: per producer id, its epoch and
 * the first/last sequence and offsets of its last five batches (Kafka's
 * ProducerStateEntry.NUM_BATCHES_TO_RETAIN, matching clients' five requests
 * in flight). A retried batch that matches one of them is a duplicate and is
 * answered with its original offsets, never written twice; a gap is
 * OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch INVALID_PRODUCER_EPOCH.
 *
 * The state is kept beside the log (sl_log_set_user) and persisted as a
 * snapshot file in the partition directory (at clean close, and by the
 * background thread after a segment roll); at open it is loaded from the
 * snapshot and completed by scanning the batch headers written after it, or
 * rebuilt from the whole log when the snapshot is missing or ahead of a
 * recovered (truncated) log.
 */
#ifndef SL_STORAGE_PRODUCER_STATE_H
#define SL_STORAGE_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/err.h"
#include "storage/batch.h"

struct sl_log;
struct sl_pstate;

#define SL_PSTATE_SNAPSHOT_NAME "producer-state.snapshot"
#define SL_PSTATE_BATCHES 5
/* Kafka's producer.id.expiration.ms default: a producer silent this long is
 * forgotten at the next snapshot. */
#define SL_PSTATE_EXPIRATION_MS (24LL * 3600 * 1000)

/* Builds the state of a freshly opened log and attaches it to the log.
 * Returns SL_ERR_NONE, or an error with err set (an unreadable log). */
sl_err_t sl_pstate_attach(struct sl_log *log, char *err, size_t errlen);

/* The log's producer state (NULL if never attached). */
struct sl_pstate *sl_pstate_of(struct sl_log *log);

/* The lock to hold across check, append and record, so that two retries of
 * one batch cannot both pass the check. */
void sl_pstate_lock(struct sl_pstate *ps);
void sl_pstate_unlock(struct sl_pstate *ps);

/* Checks an idempotent batch (producer_id >= 0) against the state. Returns
 * SL_ERR_NONE (append it), SL_ERR_DUPLICATE_SEQUENCE_NUMBER with *dup_base and
 * *dup_last set (already written there: answer success with those offsets),
 * SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER or SL_ERR_INVALID_PRODUCER_EPOCH.
 * Caller holds the lock. */
sl_err_t sl_pstate_check(struct sl_pstate *ps, const struct sl_batch_info *bi, int64_t *dup_base,
                         int64_t *dup_last);

/* Records an appended batch at [base_offset, base_offset + last delta].
 * Caller holds the lock. */
void sl_pstate_record(struct sl_pstate *ps, const struct sl_batch_info *bi, int64_t base_offset,
                      int64_t now_ms);

/* Writes a snapshot if a segment rolled since the last one (or always when
 * force). Any thread; returns 0 or -errno. */
int sl_pstate_snapshot(struct sl_log *log, bool force);

/* Number of producers tracked (tests). */
size_t sl_pstate_count(struct sl_pstate *ps);

#endif
