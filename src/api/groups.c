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
 * Authorization (PROTOCOL.md §5.2): FindCoordinator DESCRIBE on the group
 * (or the transactional id); Join/Sync/Heartbeat/Leave READ on the group,
 * refused before the coordinator sees them; DescribeGroups DESCRIBE per
 * group (30 for that group), DeleteGroups DELETE per group; ListGroups
 * lists every group with DESCRIBE on the cluster, else only the groups the
 * principal may describe, and never fails for it.
 */
#include "api/api.h"
#include "api/audit_change.h"
#include "api/util.h"
#include "group/coordinator.h"
#include "protocol/dispatch.h"
#include "protocol/gen/delete_groups.h"
#include "protocol/gen/describe_groups.h"
#include "protocol/gen/find_coordinator.h"
#include "protocol/gen/heartbeat.h"
#include "protocol/gen/join_group.h"
#include "protocol/gen/leave_group.h"
#include "protocol/gen/list_groups.h"
#include "protocol/gen/sync_group.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "sluice/err.h"

/* The coordinator for a key type: this broker for groups, unless its
 * offsets log is unusable (quarantined or failed). */
static int16_t coordinator_error(const struct sl_broker *b, int8_t key_type)
{
    switch (key_type) {
    case 0:
        return sl_group_coord_failed(b) ? SL_ERR_COORDINATOR_NOT_AVAILABLE : SL_ERR_NONE;
    case 1: /* transaction coordinator: not yet */
    case 2: /* share group coordinator: not yet */
        return SL_ERR_COORDINATOR_NOT_AVAILABLE;
    default:
        return SL_ERR_INVALID_REQUEST; /* Kafka: unknown coordinator type */
    }
}

/* DESCRIBE on the key's resource: the group, or the transactional id. */
static int16_t key_error(struct sl_req *req, int8_t key_type, sl_str_t key)
{
    int16_t err = coordinator_error(req->broker, key_type);
    if (key_type == 0 && !sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_GROUP, key))
        return SL_ERR_GROUP_AUTHORIZATION_FAILED;
    if (key_type == 1 && !sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_TRANSACTIONAL_ID, key))
        return SL_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    return err;
}

static sl_str_t error_message(struct sl_req *req, int16_t err)
{
    switch (err) {
    case SL_ERR_NONE:
        return SL_STR_NULL;
    case SL_ERR_COORDINATOR_NOT_AVAILABLE:
        return sl_api_str(req, "The coordinator is not available.");
    case SL_ERR_GROUP_AUTHORIZATION_FAILED:
        return sl_api_str(req, "Group authorization failed.");
    case SL_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        return sl_api_str(req, "Transactional Id authorization failed.");
    default:
        return sl_api_str(req, "Unknown coordinator type.");
    }
}

int sl_api_find_coordinator(struct sl_req *req)
{
    struct FindCoordinatorRequest *body = req->body;
    struct FindCoordinatorResponse *resp = req->resp;
    int32_t node = req->broker->cfg->node_id;
    if (req->hdr.api_version < 4) {
        int16_t err = key_error(req, body->key_type, body->key);
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
    if (coordinator_error(req->broker, body->key_type) == SL_ERR_NONE)
        sl_api_advertised(req, &host, &port);
    for (int32_t i = 0; i < n; i++) {
        struct FindCoordinatorResponse_Coordinator *c = &resp->coordinators.a[i];
        c->key = body->coordinator_keys.a[i]; /* answered before the frame is reused */
        int16_t err = key_error(req, body->key_type, c->key);
        c->error_code = err;
        c->error_message = error_message(req, err);
        c->node_id = err == SL_ERR_NONE ? node : -1;
        c->host = err == SL_ERR_NONE ? host : SL_STR_EMPTY;
        c->port = err == SL_ERR_NONE ? port : -1;
    }
    return SL_HANDLER_DONE;
}

/* A membership request: READ on its group, or GROUP_AUTHORIZATION_FAILED
 * without the coordinator seeing it. */
static int member_op(struct sl_req *req, enum sl_gop_kind kind, sl_str_t group_id)
{
    struct sl_gop *op = sl_group_op_new(req, kind);
    if (!sl_authz(req, SL_ACL_OP_READ, SL_ACL_RES_GROUP, group_id))
        op->fail_err = SL_ERR_GROUP_AUTHORIZATION_FAILED;
    return sl_group_op_submit(req, op);
}

int sl_api_join_group(struct sl_req *req)
{
    return member_op(req, SL_GOP_JOIN, ((struct JoinGroupRequest *)req->body)->group_id);
}

int sl_api_sync_group(struct sl_req *req)
{
    return member_op(req, SL_GOP_SYNC, ((struct SyncGroupRequest *)req->body)->group_id);
}

int sl_api_heartbeat(struct sl_req *req)
{
    return member_op(req, SL_GOP_HEARTBEAT, ((struct HeartbeatRequest *)req->body)->group_id);
}

int sl_api_leave_group(struct sl_req *req)
{
    return member_op(req, SL_GOP_LEAVE, ((struct LeaveGroupRequest *)req->body)->group_id);
}

/* ListGroups: everything with DESCRIBE on the cluster, else the groups the
 * principal may describe (checked quietly: a filter, not a denial). */
static void list_post(struct sl_req *req, void *arg)
{
    (void)arg;
    struct ListGroupsResponse *r = req->resp;
    if (r->groups.n <= 0 ||
        sl_authz_quiet(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_CLUSTER, SL_STR_LIT(SL_ACL_CLUSTER_NAME)))
        return;
    int32_t k = 0;
    for (int32_t i = 0; i < r->groups.n; i++) {
        if (sl_authz_quiet(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_GROUP, r->groups.a[i].group_id))
            r->groups.a[k++] = r->groups.a[i];
    }
    r->groups.n = k;
}

int sl_api_list_groups(struct sl_req *req)
{
    return sl_group_op_submit_then(req, sl_group_op_new(req, SL_GOP_LIST), list_post, NULL);
}

/* DescribeGroups: a group the principal may not describe is answered
 * GROUP_AUTHORIZATION_FAILED and nothing else about it. */
static void describe_post(struct sl_req *req, void *arg)
{
    bool want_ops = arg != NULL;
    struct DescribeGroupsResponse *r = req->resp;
    for (int32_t i = 0; i < r->groups.n; i++) {
        struct DescribeGroupsResponse_DescribedGroup *g = &r->groups.a[i];
        if (!sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_GROUP, g->group_id)) {
            g->error_code = SL_ERR_GROUP_AUTHORIZATION_FAILED;
            g->error_message = req->hdr.api_version >= 6
                                   ? sl_api_str(req, "Group authorization failed.")
                                   : SL_STR_NULL;
            g->group_state = SL_STR_EMPTY;
            g->protocol_type = SL_STR_EMPTY;
            g->protocol_data = SL_STR_EMPTY;
            g->members.n = 0;
            continue;
        }
        if (want_ops && g->error_code == SL_ERR_NONE)
            g->authorized_operations = sl_authz_ops_bitfield(req, SL_ACL_RES_GROUP, g->group_id);
    }
}

int sl_api_describe_groups(struct sl_req *req)
{
    struct DescribeGroupsRequest *body = req->body;
    bool want_ops = req->hdr.api_version >= 3 && body->include_authorized_operations;
    return sl_group_op_submit_then(req, sl_group_op_new(req, SL_GOP_DESCRIBE), describe_post,
                                   want_ops ? (void *)1 : NULL);
}

/* DeleteGroups: one audit record per group the principal may delete, with
 * the coordinator's outcome (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, ...);
 * denied groups are recorded as denials by the authorizer. */
static void delete_post(struct sl_req *req, void *arg)
{
    const bool *allowed = arg;
    struct DeleteGroupsResponse *r = req->resp;
    for (int32_t i = 0; i < r->results.n; i++) {
        struct DeleteGroupsResponse_DeletableGroupResult *g = &r->results.a[i];
        if (!allowed[i])
            continue;
        struct sl_audit_change ch = {.type = "group.delete", .res_type = SL_ACL_RES_GROUP,
                                     SL_API_AUDIT_NAME(g->group_id), .pattern = SL_ACL_PAT_LITERAL,
                                     .op = SL_ACL_OP_DELETE, .error = g->error_code};
        g->error_code = sl_api_audit_change(req, &ch);
    }
}

/* DeleteGroups: DELETE per group, decided here, answered in order by the
 * coordinator with the others. */
int sl_api_delete_groups(struct sl_req *req)
{
    struct DeleteGroupsRequest *body = req->body;
    struct sl_gop *op = sl_group_op_new(req, SL_GOP_DELETE);
    int32_t n = body->groups_names.n > 0 ? body->groups_names.n : 0;
    op->n_pre = n;
    op->pre_err = sl_gmem_alloc(&op->mem, sizeof(*op->pre_err) * (size_t)(n > 0 ? n : 1));
    bool ready = sl_api_audit_ready(req);
    bool *allowed = sl_arena_alloc(&req->arena, (size_t)(n > 0 ? n : 1));
    for (int32_t i = 0; i < n; i++) {
        bool ok = sl_authz(req, SL_ACL_OP_DELETE, SL_ACL_RES_GROUP, body->groups_names.a[i]);
        op->pre_err[i] = !ok ? SL_ERR_GROUP_AUTHORIZATION_FAILED
                         : !ready ? sl_api_audit_refusal(req)
                                  : SL_ERR_NONE;
        allowed[i] = ok && ready;
    }
    if (!sl_audit_enabled())
        return sl_group_op_submit(req, op);
    return sl_group_op_submit_then(req, op, delete_post, allowed);
}
