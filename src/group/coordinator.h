/* SPDX-License-Identifier: Apache-2.0
 *
 * The group coordinator: one thread with its own event loop that owns every
 * consumer group, committed offset and group timer (group/core.h), and the
 * plumbing that carries group requests to it from the network threads and
 * their answers back.
 *
 *   network thread                         coordinator thread
 *   handler: copy the request (sl_gop),
 *   register its id, park the request ───▶ sl_gcore_submit ... (rebalance,
 *   (the connection is muted, as Kafka)     durability) ... answer built
 *   deliver: look the id up; gone?    ◀─── post back to the request's loop
 *   drop it; else fill and complete
 *
 * A parked request may be cancelled (its connection closed) before the
 * answer arrives: its id is removed from the loop's table, so the answer is
 * dropped, and for JoinGroup/SyncGroup the coordinator is told that the
 * member's wait is abandoned. No raw request pointer ever crosses threads.
 *
 * Until the offsets log is replayed the coordinator answers
 * COORDINATOR_LOAD_IN_PROGRESS; if it cannot read or write its log,
 * COORDINATOR_NOT_AVAILABLE.
 */
#ifndef SL_GROUP_COORDINATOR_H
#define SL_GROUP_COORDINATOR_H

#include <stddef.h>

#include "group/core.h"

struct sl_broker;
struct sl_req;

/* Opens <data_dir>/internal/__consumer_offsets-0, creates the coordinator
 * and starts its thread, which replays the log and then serves. Sets
 * b->group. Call after the flusher started and before the network threads.
 * Returns 0, or -1 with err (the log cannot be opened, no thread). */
int sl_group_coord_start(struct sl_broker *b, char *err, size_t errlen);

/* Stops the coordinator: parked JoinGroup/SyncGroup requests are answered
 * NOT_COORDINATOR, appends in flight are waited for (so call it before the
 * flusher stops), the thread is joined, the log closed, and the network
 * loops' tables of parked requests freed (so call it after the network
 * threads stopped, before their loops are drained and destroyed). NULL
 * b->group is fine. Main thread. */
void sl_group_coord_stop(struct sl_broker *b);

/* True when the coordinator cannot serve groups (its offsets log could not
 * be loaded, is quarantined, or failed): FindCoordinator then answers
 * COORDINATOR_NOT_AVAILABLE, as Kafka does while the offsets partition is
 * offline. Any thread. */
bool sl_group_coord_failed(const struct sl_broker *b);

/* Handler side (network thread): a new op of `kind` for req, carrying a
 * deep copy of req's decoded body and a default response of req's API, and
 * the client id and host. The handler may adjust it (op->pre_err,
 * op->fail_err) before submitting. */
struct sl_gop *sl_group_op_new(struct sl_req *req, enum sl_gop_kind kind);

/* Parks req and sends op (taken) to the coordinator, or, if the coordinator
 * is loading or unavailable, answers it with that error on a later turn of
 * the loop. Returns SL_ERR__DEFER for the handler to return. */
int sl_group_op_submit(struct sl_req *req, struct sl_gop *op);

/* The same, and post(req, arg) runs on the network thread once the answer is in
 * req->resp, before it is encoded (read-only group APIs filter what the
 * principal may not see there). */
int sl_group_op_submit_then(struct sl_req *req, struct sl_gop *op,
                            void (*post)(struct sl_req *req, void *arg), void *arg);

#endif
