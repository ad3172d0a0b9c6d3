/* SPDX-License-Identifier: Apache-2.0
 *
 * Producer id allocation for InitProducerId: ids are handed out from blocks
 * reserved durably in <data_dir>/producer-ids before use, so an id is never
 * given twice, across restarts and crashes (a crash wastes at most the rest
 * of a block, as Kafka's ProducerIdManager does).
 */
#ifndef SL_SERVER_PRODUCER_IDS_H
#define SL_SERVER_PRODUCER_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/err.h"

struct sl_pid_alloc;

/* Opens the allocator for data_dir. Returns SL_ERR_NONE or SL_ERR__IO with
 * err (an unreadable or damaged file). */
sl_err_t sl_pid_alloc_open(const char *data_dir, struct sl_pid_alloc **out, char *err,
                           size_t errlen);
/* Returns a new producer id (>= 0), or -1 if the next block could not be
 * reserved on disk. Thread-safe. */
int64_t sl_pid_alloc_next(struct sl_pid_alloc *pa);
void sl_pid_alloc_close(struct sl_pid_alloc *pa);

#endif
