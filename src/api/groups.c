/* SPDX-License-Identifier: Apache-2.0
 *
 * Consumer group APIs (classic protocol): FindCoordinator (key 10, v0-6),
 * JoinGroup (11, v0-9), Heartbeat (12, v0-4), LeaveGroup (13, v0-5),
 * SyncGroup (14, v0-5), DescribeGroups (15, v0-6), ListGroups (16, v0-5)
 * and DeleteGroups (42, v0-2).
 *
 * FindCoordinator is answered here: this broker coordinates every group
 * (key type 0); transactions (key type 1) and share groups (2) have no
 * coordinator yet (COORDINATOR_NOT_AVAILABLE, which clients retry). Every
 * other API is a round trip to the group coordinator thread
 * (src/group/coordinator.h): the request is copied, parked (its connection
 * reads nothing more until the answer, as Kafka mutes it), and completed
 * when the coordinator answers, which for JoinGroup and SyncGroup may be
 * seconds later (the rebalance).
 *
 * Not here: authorization (READ/DESCRIBE/DELETE on the Group resource)
 * arrives with ACLs; DescribeGroups reports every group operation as
 * authorized when asked.
 */
#include "api/api.h"
#include "api/util.h"
#include "group/coordinator.h"
#include "protocol/dispatch.h"
#include "protocol/gen/find_coordinator.h"
#include "server/broker.h"
#include "sluice/err.h"

/* The coordinator for a key type: this broker for groups. */
static int16_t coordinator_error(int8_t key_type)
{
    switch (key_type) {
    case 0:
        return SL_ERR_NONE;
    case 1: /* transaction coordinator: not yet */
    case 2: /* share group coordinator: not yet */
        return SL_ERR_COORDINATOR_NOT_AVAILABLE;
    default:
        return SL_ERR_INVALID_REQUEST; /* Kafka: unknown coordinator type */
    }
}

static sl_str_t error_message(struct sl_req *req, int16_t err)
{
    switch (err) {
    case SL_ERR_NONE:
        return SL_STR_NULL;
    case SL_ERR_COORDINATOR_NOT_AVAILABLE:
        return sl_api_str(req, "The coordinator is not available.");
    default:
        return sl_api_str(req, "Unknown coordinator type.");
    }
}

int sl_api_find_coordinator(struct sl_req *req)
{
    struct FindCoordinatorRequest *body = req->body;
    struct FindCoordinatorResponse *resp = req->resp;
    int32_t node = req->broker->cfg->node_id;
    int16_t err = coordinator_error(body->key_type);
    if (req->hdr.api_version < 4) {
        resp->error_code = err;
        resp->error_message = error_message(req, err);
        if (err == SL_ERR_NONE) {
            resp->node_id = node;
            sl_api_advertised(req, &resp->host, &resp->port);
        } else {
            resp->node_id = -1;
            resp->host = SL_STR_EMPTY;
            resp->port = -1;
        }
        return SL_HANDLER_DONE;
    }
    int32_t n = body->coordinator_keys.n > 0 ? body->coordinator_keys.n : 0;
    SL_ARR(req, resp->coordinators, n, sl_desc_FindCoordinatorResponse_Coordinator);
    sl_str_t host = SL_STR_EMPTY;
    int32_t port = -1;
    if (err == SL_ERR_NONE)
        sl_api_advertised(req, &host, &port);
    for (int32_t i = 0; i < n; i++) {
        struct FindCoordinatorResponse_Coordinator *c = &resp->coordinators.a[i];
        c->key = body->coordinator_keys.a[i]; /* answered before the frame is reused */
        c->error_code = err;
        c->error_message = error_message(req, err);
        c->node_id = err == SL_ERR_NONE ? node : -1;
        c->host = err == SL_ERR_NONE ? host : SL_STR_EMPTY;
        c->port = err == SL_ERR_NONE ? port : -1;
    }
    return SL_HANDLER_DONE;
}

static int to_coordinator(struct sl_req *req, enum sl_gop_kind kind)
{
    return sl_group_op_submit(req, sl_group_op_new(req, kind));
}

int sl_api_join_group(struct sl_req *req)
{
    return to_coordinator(req, SL_GOP_JOIN);
}

int sl_api_sync_group(struct sl_req *req)
{
    return to_coordinator(req, SL_GOP_SYNC);
}

int sl_api_heartbeat(struct sl_req *req)
{
    return to_coordinator(req, SL_GOP_HEARTBEAT);
}

int sl_api_leave_group(struct sl_req *req)
{
    return to_coordinator(req, SL_GOP_LEAVE);
}

int sl_api_list_groups(struct sl_req *req)
{
    return to_coordinator(req, SL_GOP_LIST);
}

int sl_api_describe_groups(struct sl_req *req)
{
    return to_coordinator(req, SL_GOP_DESCRIBE);
}

int sl_api_delete_groups(struct sl_req *req)
{
    return to_coordinator(req, SL_GOP_DELETE);
}
