/* SPDX-License-Identifier: Apache-2.0
 *
 * ListOffsets (key 2, v1–7) and OffsetForLeaderEpoch (key 23, v2–4).
 * Special timestamps: -1 latest (the log end offset), -2 earliest (the log
 * start offset), -3 the record with the largest timestamp (v7). A plain
 * timestamp finds the first offset whose batch holds a timestamp at or
 * after it (-1, -1 when none). With no transactions yet, read_committed
 * sees the same end as read_uncommitted. This single node's leader epoch
 * is always 0. Both need DESCRIBE on each topic (TOPIC_AUTHORIZATION_FAILED
 * for its partitions otherwise, existence not revealed).
 */
#include "api/api.h"
#include "api/util.h"
#include "protocol/dispatch.h"
#include "protocol/gen/list_offsets.h"
#include "protocol/gen/offset_for_leader_epoch.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "server/registry.h"
#include "sluice/err.h"
#include "storage/log.h"

#define LEADER_EPOCH 0

/* Kafka's check of the client's idea of the current leader epoch. */
static int16_t check_epoch(int32_t current)
{
    if (current < 0 || current == LEADER_EPOCH)
        return SL_ERR_NONE;
    return current > LEADER_EPOCH ? SL_ERR_UNKNOWN_LEADER_EPOCH : SL_ERR_FENCED_LEADER_EPOCH;
}

static void list_one(struct sl_log *log, int64_t ts,
                     struct ListOffsetsResponse_ListOffsetsPartitionResponse *rp)
{
    int64_t off = -1, found = -1;
    sl_err_t rc = SL_ERR_NONE;
    if (ts == -1) {
        off = sl_log_end_offset(log);
    } else if (ts == -2) {
        off = sl_log_start_offset(log);
    } else if (ts == -3) {
        rc = sl_log_max_timestamp(log, &off, &found);
    } else if (ts >= 0) {
        rc = sl_log_offset_for_timestamp(log, ts, &off, &found);
    } else {
        rp->error_code = SL_ERR_INVALID_REQUEST;
        return;
    }
    if (rc != SL_ERR_NONE) {
        rp->error_code = (int16_t)(rc > 0 ? rc : SL_ERR_KAFKA_STORAGE_ERROR);
        return;
    }
    rp->offset = off;
    rp->timestamp = found;
    rp->leader_epoch = off >= 0 ? LEADER_EPOCH : -1;
}

int sl_api_list_offsets(struct sl_req *req)
{
    struct ListOffsetsRequest *body = req->body;
    struct ListOffsetsResponse *resp = req->resp;
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    SL_ARR(req, resp->topics, nt, sl_desc_ListOffsetsResponse_ListOffsetsTopicResponse);
    for (int32_t i = 0; i < nt; i++) {
        struct ListOffsetsRequest_ListOffsetsTopic *qt = &body->topics.a[i];
        struct ListOffsetsResponse_ListOffsetsTopicResponse *rt = &resp->topics.a[i];
        rt->name = qt->name;
        bool denied = !sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_TOPIC, qt->name);
        struct sl_topic *t = denied ? NULL : sl_registry_get(req->broker, qt->name);
        int32_t np = qt->partitions.n > 0 ? qt->partitions.n : 0;
        SL_ARR(req, rt->partitions, np, sl_desc_ListOffsetsResponse_ListOffsetsPartitionResponse);
        for (int32_t j = 0; j < np; j++) {
            struct ListOffsetsRequest_ListOffsetsPartition *qp = &qt->partitions.a[j];
            struct ListOffsetsResponse_ListOffsetsPartitionResponse *rp = &rt->partitions.a[j];
            rp->partition_index = qp->partition_index;
            if (!t || qp->partition_index < 0 || qp->partition_index >= t->n_parts) {
                rp->error_code = denied ? SL_ERR_TOPIC_AUTHORIZATION_FAILED
                                        : SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            rp->error_code = check_epoch(qp->current_leader_epoch);
            if (rp->error_code == SL_ERR_NONE)
                list_one(t->logs[qp->partition_index], qp->timestamp, rp);
        }
        sl_topic_unref(t);
    }
    return SL_HANDLER_DONE;
}

int sl_api_offset_for_leader_epoch(struct sl_req *req)
{
    struct OffsetForLeaderEpochRequest *body = req->body;
    struct OffsetForLeaderEpochResponse *resp = req->resp;
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    SL_ARR(req, resp->topics, nt, sl_desc_OffsetForLeaderEpochResponse_OffsetForLeaderTopicResult);
    for (int32_t i = 0; i < nt; i++) {
        struct OffsetForLeaderEpochRequest_OffsetForLeaderTopic *qt = &body->topics.a[i];
        struct OffsetForLeaderEpochResponse_OffsetForLeaderTopicResult *rt = &resp->topics.a[i];
        rt->topic = qt->topic;
        bool denied = !sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_TOPIC, qt->topic);
        struct sl_topic *t = denied ? NULL : sl_registry_get(req->broker, qt->topic);
        int32_t np = qt->partitions.n > 0 ? qt->partitions.n : 0;
        SL_ARR(req, rt->partitions, np, sl_desc_OffsetForLeaderEpochResponse_EpochEndOffset);
        for (int32_t j = 0; j < np; j++) {
            struct OffsetForLeaderEpochRequest_OffsetForLeaderPartition *qp = &qt->partitions.a[j];
            struct OffsetForLeaderEpochResponse_EpochEndOffset *rp = &rt->partitions.a[j];
            rp->partition = qp->partition;
            if (!t || qp->partition < 0 || qp->partition >= t->n_parts) {
                rp->error_code = denied ? SL_ERR_TOPIC_AUTHORIZATION_FAILED
                                        : SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            rp->error_code = check_epoch(qp->current_leader_epoch);
            if (rp->error_code != SL_ERR_NONE)
                continue;
            if (qp->leader_epoch == LEADER_EPOCH) {
                rp->leader_epoch = LEADER_EPOCH;
                rp->end_offset = sl_log_end_offset(t->logs[qp->partition]);
            } /* else: an epoch we never had: -1/-1, as Kafka answers */
        }
        sl_topic_unref(t);
    }
    return SL_HANDLER_DONE;
}
