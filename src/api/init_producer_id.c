/* SPDX-License-Identifier: Apache-2.0
 *
 * InitProducerId (key 22, v0–5) for idempotent producers: a fresh producer
 * id with epoch 0 on every call (as Kafka does when there is no
 * transactional id; a v3+ request that names its current id and epoch gets a
 * new id too, which is what the epoch bump of KIP-360 achieves for
 * idempotent producers). Transactional ids need the transaction
 * coordinator, which does not exist yet: such requests are answered
 * UNSUPPORTED_VERSION, which clients report at once instead of retrying.
 * Authorization: WRITE on a transactional id (53); an idempotent producer
 * needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679),
 * else CLUSTER_AUTHORIZATION_FAILED.
 */
#include "api/api.h"
#include "api/util.h"
#include "protocol/dispatch.h"
#include "protocol/gen/init_producer_id.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "server/producer_ids.h"
#include "sluice/err.h"

int sl_api_init_producer_id(struct sl_req *req)
{
    struct InitProducerIdRequest *body = req->body;
    struct InitProducerIdResponse *resp = req->resp;
    resp->producer_id = -1;
    resp->producer_epoch = -1;
    if (body->transactional_id.len > 0) {
        resp->error_code =
            sl_authz(req, SL_ACL_OP_WRITE, SL_ACL_RES_TRANSACTIONAL_ID, body->transactional_id)
                ? SL_ERR_UNSUPPORTED_VERSION
                : SL_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        return SL_HANDLER_DONE;
    }
    if (!sl_authz_idempotent_write(req)) {
        resp->error_code = SL_ERR_CLUSTER_AUTHORIZATION_FAILED;
        return SL_HANDLER_DONE;
    }
    int64_t id = sl_pid_alloc_next(req->broker->pids);
    if (id < 0) {
        resp->error_code = SL_ERR_KAFKA_STORAGE_ERROR;
        return SL_HANDLER_DONE;
    }
    resp->producer_id = id;
    resp->producer_epoch = 0;
    return SL_HANDLER_DONE;
}
