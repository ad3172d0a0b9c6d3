/* SPDX-License-Identifier: Apache-2.0
 *
 * Group commit: one flusher thread that makes logs durable on request and
 * calls back when they are. Produce with acks=all appends, asks the flusher
 * for durability up to the batch's end offset, and answers the client from
 * the callback. All requests waiting when a flush round starts share that
 * round's single sl_log_flush (one fdatasync) per log; requests that arrive
 * during a round wait for the next one. A flush that fails fails every
 * request of that log in the round (and the log stays in ERROR).
 *
 * Requests are kept in a pooled free list: no allocation per request once
 * the pool has grown to the peak number in flight.
 */
#ifndef SL_STORAGE_FLUSHER_H
#define SL_STORAGE_FLUSHER_H

#include <stdint.h>

#include "sluice/err.h"

struct sl_flusher;
struct sl_log;

/* Starts the flusher thread. Returns SL_ERR_NONE and a new flusher in *out
 * (stop and free it with sl_flusher_stop), or SL_ERR__IO if the thread
 * cannot be created. */
sl_err_t sl_flusher_start(struct sl_flusher **out);

/* Asks that `log` be durable up to end_offset (an offset <= the log's end
 * offset at the time of the call: normally the last appended offset + 1).
 * cb(arg, err) runs later on the flusher thread, exactly once, after the log's
 * flushed offset reached end_offset (err 0), or with err =
 * SL_ERR_KAFKA_STORAGE_ERROR if the flush failed (the log is in ERROR), or
 * SL_ERR__INVAL if end_offset was beyond what the log had appended. Takes a
 * log reference for as long as the request is pending (the caller keeps its
 * own). cb must not block for long (it delays every later callback) and may
 * call sl_flusher_request again (even during sl_flusher_stop). Any thread,
 * but not after sl_flusher_stop has begun (except from a callback). */
void sl_flusher_request(struct sl_flusher *f, struct sl_log *log, int64_t end_offset,
                        void (*cb)(void *arg, int err), void *arg);

/* Completes every pending request (flushing as needed), stops and joins the
 * thread, and frees the flusher. Call from a thread other than the flusher's
 * (never from a callback). */
void sl_flusher_stop(struct sl_flusher *f);

/* Flush rounds run so far (for tests and metrics). Any thread. */
uint64_t sl_flusher_rounds(struct sl_flusher *f);

#endif
