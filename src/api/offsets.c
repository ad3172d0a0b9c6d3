/* SPDX-License-Identifier: Apache-2.0
 *
 * Committed offsets: OffsetCommit (key 8, v2-9), OffsetFetch (9, v1-9;
 * several groups per request from v8) and OffsetDelete (47, v0). The group
 * coordinator thread decides and stores (src/group/offsets.c); this file
 * adds what needs the topic registry: as Kafka, a commit for a topic or
 * partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION for that
 * partition, and the rest of the request goes on. An OffsetCommit is
 * answered once its records are durable (fdatasync by the group-commit
 * flusher), like Produce with acks=all.
 *
 * Not here: authorization (READ Group + READ Topic, DESCRIBE for fetches)
 * arrives with ACLs.
 */
#include "api/api.h"
#include "api/util.h"
#include "group/coordinator.h"
#include "protocol/dispatch.h"
#include "protocol/gen/offset_commit.h"
#include "server/broker.h"
#include "server/registry.h"
#include "sluice/err.h"

int sl_api_offset_commit(struct sl_req *req)
{
    struct OffsetCommitRequest *body = req->body;
    struct sl_gop *op = sl_group_op_new(req, SL_GOP_OFFSET_COMMIT);
    int32_t total = 0;
    for (int32_t i = 0; i < body->topics.n; i++)
        total += body->topics.a[i].partitions.n > 0 ? body->topics.a[i].partitions.n : 0;
    op->n_pre = total;
    op->pre_err = sl_gmem_alloc(&op->mem, sizeof(*op->pre_err) * (size_t)(total > 0 ? total : 1));
    int32_t k = 0;
    for (int32_t i = 0; i < body->topics.n; i++) {
        struct OffsetCommitRequest_OffsetCommitRequestTopic *t = &body->topics.a[i];
        struct sl_topic *topic = sl_registry_get(req->broker, t->name);
        for (int32_t j = 0; j < t->partitions.n; j++, k++) {
            int32_t p = t->partitions.a[j].partition_index;
            if (!topic || p < 0 || p >= topic->n_parts)
                op->pre_err[k] = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        sl_topic_unref(topic);
    }
    return sl_group_op_submit(req, op);
}

int sl_api_offset_fetch(struct sl_req *req)
{
    return sl_group_op_submit(req, sl_group_op_new(req, SL_GOP_OFFSET_FETCH));
}

int sl_api_offset_delete(struct sl_req *req)
{
    return sl_group_op_submit(req, sl_group_op_new(req, SL_GOP_OFFSET_DELETE));
}
