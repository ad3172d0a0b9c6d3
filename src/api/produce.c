/* SPDX-License-Identifier: Apache-2.0
 *
 * Produce (key 0): advertised from v0 (librdkafka only compresses when v0
 * is in range) but served from v3, the first version carrying record batch
 * v2. Per partition, in Kafka's order: topic and partition exist; the
 * records field holds exactly one valid batch (storage/batch.c checks
 * magic, CRC-32C, lengths, count, size against max.message.bytes); zstd
 * needs v7+; then the batch is appended as received, with only its base
 * offset and leader epoch rewritten (both outside the CRC).
 *
 * Idempotent batches (producer id set) pass the sequence rules of
 * storage/producer_state.h first; a retried batch is answered with its
 * original offsets and not written again.
 *
 * Authorization (PROTOCOL.md §5.2): WRITE on each topic, before anything
 * else about it (TOPIC_AUTHORIZATION_FAILED for its partitions); WRITE on
 * the transactional id when one is given (the whole request fails with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 *
 * acks=0: no response; any error closes the connection (the client has no
 * other way to learn of it). acks=1: answered after the write. acks=-1:
 * answered after group commit has made the batch durable (fdatasync):
 * the request waits (WAITING) while later requests on the connection go on.
 */
#include <string.h>

#include "api/api.h"
#include "api/fetch.h"
#include "api/util.h"
#include "core/clock.h"
#include "core/logging.h"
#include "net/conn.h"
#include "net/netloop.h"
#include "protocol/dispatch.h"
#include "protocol/gen/produce.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "server/registry.h"
#include "sluice/err.h"
#include "storage/batch.h"
#include "storage/flusher.h"
#include "storage/log.h"
#include "storage/producer_state.h"

struct flush_wait {
    struct sl_req *req;
    struct ProduceResponse_PartitionProduceResponse *rp;
    struct sl_evloop *el;
    int err;
};

static void flush_done(void *arg)
{
    struct flush_wait *fw = arg;
    if (fw->err) {
        fw->rp->error_code = SL_ERR_KAFKA_STORAGE_ERROR;
        fw->rp->base_offset = -1;
    }
    sl_req_async_end(fw->req);
}

/* Flusher thread: hand the result to the connection's loop. */
static void flush_cb(void *arg, int err)
{
    struct flush_wait *fw = arg;
    fw->err = err;
    sl_evloop_post(fw->el, flush_done, fw);
}

/* message.timestamp.before/after.max.ms for CreateTime topics (Kafka 4.x
 * defaults: unlimited before, one hour after). The batch header's base and
 * max timestamps bound its records. */
static bool timestamps_acceptable(const struct sl_topic_config *tc, const struct sl_batch_info *bi)
{
    int64_t now = sl_now_ms();
    if (tc->ts_after_max_ms < INT64_MAX - now && bi->max_timestamp > now + tc->ts_after_max_ms)
        return false;
    if (bi->base_timestamp >= 0 && tc->ts_before_max_ms < now &&
        bi->base_timestamp < now - tc->ts_before_max_ms)
        return false;
    return true;
}

static int16_t append_one(struct sl_req *req, struct sl_topic *t, int32_t partition,
                          sl_records_t *records, int16_t acks,
                          struct ProduceResponse_PartitionProduceResponse *rp)
{
    struct sl_broker *b = req->broker;
    if (!t || partition < 0 || partition >= t->n_parts)
        return SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (records->len <= 0 || records->p == NULL)
        return SL_ERR_INVALID_RECORD;
    uint8_t *batch = (uint8_t *)records->p; /* the connection's own input buffer */
    size_t len = (size_t)records->len;
    struct sl_batch_info info;
    sl_err_t rc = sl_batch_validate_produce(batch, len, t->cfg.max_message_bytes, &info);
    if (rc != SL_ERR_NONE)
        return (int16_t)rc;
    if (info.compression == 4 && req->hdr.api_version < 7)
        return SL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (info.transactional)
        return SL_ERR_INVALID_TXN_STATE; /* transactions are not served yet */
    if (!t->cfg.log_append_time && !timestamps_acceptable(&t->cfg, &info))
        return SL_ERR_INVALID_TIMESTAMP;
    if (t->cfg.log_append_time) {
        int64_t now = sl_now_ms();
        sl_batch_set_log_append_time(batch, len, now);
        rp->log_append_time_ms = now;
    }
    struct sl_log *log = t->logs[partition];
    struct sl_log_append_info ai;
    int64_t flush_to;
    if (info.producer_id >= 0) {
        /* Idempotent batch: the sequence check, the append and the state
         * update happen under the partition's producer-state lock, so two
         * retries of one batch cannot both be written. */
        struct sl_pstate *ps = sl_pstate_of(log);
        int64_t dup_base = -1, dup_last = -1;
        sl_pstate_lock(ps);
        rc = sl_pstate_check(ps, &info, &dup_base, &dup_last);
        if (rc == SL_ERR_NONE) {
            rc = sl_log_append(log, batch, len, 0, &ai);
            if (rc == SL_ERR_NONE)
                sl_pstate_record(ps, &info, ai.base_offset, sl_now_ms());
        }
        sl_pstate_unlock(ps);
        if (rc == SL_ERR_DUPLICATE_SEQUENCE_NUMBER) {
            /* A retry of a batch already written: its original offsets, and
             * (acks=all) the same durability wait. */
            rp->base_offset = dup_base;
            rp->log_start_offset = sl_log_start_offset(log);
            rp->log_append_time_ms = -1;
            flush_to = dup_last + 1;
            goto wait;
        }
    } else {
        rc = sl_log_append(log, batch, len, 0, &ai);
    }
    if (rc != SL_ERR_NONE)
        return (int16_t)(rc > 0 ? rc : SL_ERR_KAFKA_STORAGE_ERROR);
    rp->base_offset = ai.base_offset;
    rp->log_start_offset = ai.log_start_offset;
    flush_to = ai.last_offset + 1;
wait:
    if (acks == -1 && sl_log_flushed_offset(log) < flush_to) {
        struct flush_wait *fw = sl_arena_alloc(&req->arena, sizeof(*fw));
        fw->req = req;
        fw->rp = rp;
        fw->el = req->conn->nl->el;
        sl_req_async_begin(req);
        sl_flusher_request(b->flusher, log, flush_to, flush_cb, fw);
    }
    return SL_ERR_NONE;
}

int sl_api_produce(struct sl_req *req)
{
    struct ProduceRequest *body = req->body;
    struct ProduceResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    int16_t acks = body->acks;
    bool bad_acks = acks != 0 && acks != 1 && acks != -1;
    bool any_error = false, appended = false;
    /* A transactional id needs WRITE on it for the whole request (53). */
    bool txn_denied = body->transactional_id.len >= 0 &&
                      !sl_authz(req, SL_ACL_OP_WRITE, SL_ACL_RES_TRANSACTIONAL_ID,
                                body->transactional_id);

    SL_ARR(req, resp->responses, body->topic_data.n > 0 ? body->topic_data.n : 0,
           sl_desc_ProduceResponse_TopicProduceResponse);
    for (int32_t i = 0; i < body->topic_data.n; i++) {
        struct ProduceRequest_TopicProduceData *td = &body->topic_data.a[i];
        struct ProduceResponse_TopicProduceResponse *rt = &resp->responses.a[i];
        rt->name = sl_api_str_dup(req, td->name);
        int32_t np = td->partition_data.n > 0 ? td->partition_data.n : 0;
        SL_ARR(req, rt->partition_responses, np, sl_desc_ProduceResponse_PartitionProduceResponse);
        /* WRITE on the topic comes before its existence, which a principal
         * without it does not learn. */
        bool denied = !txn_denied && !sl_authz(req, SL_ACL_OP_WRITE, SL_ACL_RES_TOPIC, td->name);
        struct sl_topic *t = txn_denied || denied ? NULL : sl_registry_get(b, td->name);
        for (int32_t j = 0; j < np; j++) {
            struct ProduceRequest_PartitionProduceData *pd = &td->partition_data.a[j];
            struct ProduceResponse_PartitionProduceResponse *rp = &rt->partition_responses.a[j];
            rp->index = pd->index;
            rp->base_offset = -1;
            /* Kafka's order: the partition must exist before acks is judged. */
            int16_t err;
            if (txn_denied)
                err = SL_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
            else if (denied)
                err = SL_ERR_TOPIC_AUTHORIZATION_FAILED;
            else if (sl_topic_internal(td->name))
                err = SL_ERR_INVALID_TOPIC_EXCEPTION; /* Kafka: "Cannot append to internal topic" */
            else if (!t || pd->index < 0 || pd->index >= t->n_parts)
                err = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else if (bad_acks)
                err = SL_ERR_INVALID_REQUIRED_ACKS;
            else
                err = append_one(req, t, pd->index, &pd->records, acks, rp);
            rp->error_code = err;
            if (err != SL_ERR_NONE)
                any_error = true;
            else
                appended = true;
        }
        sl_topic_unref(t);
    }
    if (appended)
        sl_fetch_notify(b);
    if (acks == 0) {
        if (any_error)
            return SL_ERR__CLOSE;
        req->no_response = true;
        return SL_HANDLER_DONE;
    }
    if (req->pending > 0) {
        req->state = SL_REQ_WAITING;
        return SL_ERR__DEFER;
    }
    return SL_HANDLER_DONE;
}
