/* SPDX-License-Identifier: Apache-2.0
 *
 * The dispatcher table and the per-frame path (see dispatch.h). Version
 * ranges follow PROTOCOL.md §2.3 and §9: only what is implemented is
 * advertised.
 */
#include "protocol/dispatch.h"

#include <string.h>

#include "api/api.h"
#include "api/audit_intent.h"
#include "core/logging.h"
#include "sluice/err.h"
#include "net/conn.h"
#include "protocol/codec.h"
#include "protocol/gen/apis.h"
#include "protocol/request.h"
#include "security/audit/audit.h"
#include "security/authn/sasl_session.h"
#include "security/authz/acl.h"

/* The authorization check each API makes (its primary one: handlers check
 * per resource, and some add others, PROTOCOL.md §5.2). AZ_NONE only for
 * the APIs Kafka does not authorize; test_dispatch_authz fails for a row
 * that declares nothing. */
#define AZ(op, res) .az_op = SL_ACL_OP_##op, .az_res = SL_ACL_RES_##res
#define AZ_NONE .az_op = SL_ACL_OP_UNKNOWN, .az_res = SL_ACL_RES_UNKNOWN, .az_none = true

/* Keep in key order. */
static const struct sl_api_row rows[] = {
    {SL_API_PRODUCE, 0, 11, 3, sl_api_produce, false, "produce", AZ(WRITE, TOPIC)},
    {SL_API_FETCH, 4, 12, 4, sl_api_fetch, false, "fetch", AZ(READ, TOPIC)},
    {SL_API_LIST_OFFSETS, 1, 7, 1, sl_api_list_offsets, false, "describe", AZ(DESCRIBE, TOPIC)},
    {SL_API_METADATA, 0, 12, 0, sl_api_metadata, false, "describe", AZ(DESCRIBE, TOPIC)},
    {SL_API_OFFSET_COMMIT, 2, 9, 2, sl_api_offset_commit, false, "change", AZ(READ, GROUP)},
    {SL_API_OFFSET_FETCH, 1, 9, 1, sl_api_offset_fetch, false, "describe", AZ(DESCRIBE, GROUP)},
    {SL_API_FIND_COORDINATOR, 0, 6, 0, sl_api_find_coordinator, false, "describe", AZ(DESCRIBE, GROUP)},
    {SL_API_JOIN_GROUP, 0, 9, 0, sl_api_join_group, false, "group", AZ(READ, GROUP)},
    {SL_API_HEARTBEAT, 0, 4, 0, sl_api_heartbeat, false, "group", AZ(READ, GROUP)},
    {SL_API_LEAVE_GROUP, 0, 5, 0, sl_api_leave_group, false, "group", AZ(READ, GROUP)},
    {SL_API_SYNC_GROUP, 0, 5, 0, sl_api_sync_group, false, "group", AZ(READ, GROUP)},
    {SL_API_DESCRIBE_GROUPS, 0, 6, 0, sl_api_describe_groups, false, "describe", AZ(DESCRIBE, GROUP)},
    {SL_API_LIST_GROUPS, 0, 5, 0, sl_api_list_groups, false, "describe", AZ(DESCRIBE, GROUP)},
    {SL_API_SASL_HANDSHAKE, 0, 1, 0, sl_api_sasl_handshake, true, "authn", AZ_NONE},
    {SL_API_API_VERSIONS, 0, 4, 0, sl_api_api_versions, true, "none", AZ_NONE},
    {SL_API_CREATE_TOPICS, 2, 7, 2, sl_api_create_topics, false, "change", AZ(CREATE, TOPIC)},
    {SL_API_DELETE_TOPICS, 1, 6, 1, sl_api_delete_topics, false, "change", AZ(DELETE, TOPIC)},
    {SL_API_DELETE_RECORDS, 0, 2, 0, sl_api_delete_records, false, "change", AZ(DELETE, TOPIC)},
    {SL_API_INIT_PRODUCER_ID, 0, 5, 0, sl_api_init_producer_id, false, "change", AZ(IDEMPOTENT_WRITE, CLUSTER)},
    {SL_API_OFFSET_FOR_LEADER_EPOCH, 2, 4, 2, sl_api_offset_for_leader_epoch, false, "describe", AZ(DESCRIBE, TOPIC)},
    {SL_API_DESCRIBE_ACLS, 1, 3, 1, sl_api_describe_acls, false, "describe", AZ(DESCRIBE, CLUSTER)},
    {SL_API_CREATE_ACLS, 1, 3, 1, sl_api_create_acls, false, "change", AZ(ALTER, CLUSTER)},
    {SL_API_DELETE_ACLS, 1, 3, 1, sl_api_delete_acls, false, "change", AZ(ALTER, CLUSTER)},
    {SL_API_DESCRIBE_CONFIGS, 1, 4, 1, sl_api_describe_configs, false, "describe", AZ(DESCRIBE_CONFIGS, TOPIC)},
    {SL_API_ALTER_CONFIGS, 0, 2, 0, sl_api_alter_configs, false, "change", AZ(ALTER_CONFIGS, TOPIC)},
    {SL_API_SASL_AUTHENTICATE, 0, 2, 0, sl_api_sasl_authenticate, true, "authn", AZ_NONE},
    {SL_API_CREATE_PARTITIONS, 0, 3, 0, sl_api_create_partitions, false, "change", AZ(ALTER, TOPIC)},
    {SL_API_DELETE_GROUPS, 0, 2, 0, sl_api_delete_groups, false, "change", AZ(DELETE, GROUP)},
    {SL_API_INCREMENTAL_ALTER_CONFIGS, 0, 1, 0, sl_api_incremental_alter_configs, false, "change", AZ(ALTER_CONFIGS, TOPIC)},
    {SL_API_OFFSET_DELETE, 0, 0, 0, sl_api_offset_delete, false, "change", AZ(DELETE, GROUP)},
    {SL_API_DESCRIBE_CLIENT_QUOTAS, 0, 1, 0, sl_api_describe_client_quotas, false, "describe",
     AZ(DESCRIBE_CONFIGS, CLUSTER)},
    {SL_API_DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0, 0, sl_api_describe_user_scram_credentials,
     false, "describe", AZ(DESCRIBE, CLUSTER)},
    {SL_API_ALTER_USER_SCRAM_CREDENTIALS, 0, 0, 0, sl_api_alter_user_scram_credentials, false,
     "change", AZ(ALTER, CLUSTER)},
    {SL_API_DESCRIBE_CLUSTER, 0, 2, 0, sl_api_describe_cluster, false, "describe", AZ(DESCRIBE, CLUSTER)},
};

#define N_ROWS ((int)(sizeof(rows) / sizeof(rows[0])))

const struct sl_api_row *sl_dispatch_row(int16_t key)
{
    for (int i = 0; i < N_ROWS; i++) {
        if (rows[i].key == key)
            return &rows[i];
    }
    return NULL;
}

const struct sl_api_row *sl_dispatch_next(int *i)
{
    if (*i < 0 || *i >= N_ROWS)
        return NULL;
    return &rows[(*i)++];
}

static void copy_client_id(struct sl_req *req)
{
    sl_str_t id = req->hdr.client_id;
    if (id.len > 0)
        req->hdr.client_id.p = sl_arena_memdup(&req->arena, id.p, (size_t)id.len);
    else
        req->hdr.client_id = SL_STR_EMPTY;
}

void sl_dispatch_resumed(struct sl_req *req, int rc)
{
    struct sl_conn *c = req->conn;
    if (rc == SL_HANDLER_DONE) {
        req->state = SL_REQ_PARKED; /* sl_req_complete unparks, holds, sends */
        sl_req_complete(req);
    } else if (rc == SL_ERR__DEFER) {
        SL_ASSERT(req->state == SL_REQ_PARKED || req->state == SL_REQ_WAITING);
        if (req->state == SL_REQ_WAITING) { /* executed: later requests may run */
            c->n_parked--;
            sl_conn_ref(c);
            sl_conn_kick(c);
            sl_conn_unref(c);
        }
    } else {
        req->state = SL_REQ_DONE; /* freed by the close */
        sl_conn_close(c, "request refused");
    }
}

/* A request parked for its intent record (security/audit/audit_park.c):
 * runs its handler and completes it as sl_dispatch_frame would have. */
static void run_after_intent(struct sl_req *req)
{
    sl_dispatch_resumed(req, req->row->handler(req));
}

void sl_dispatch_frame(struct sl_conn *c, const uint8_t *frame, size_t len)
{
    if (sl_sasl_expects_raw(c)) {
        sl_sasl_raw_token(c, frame, len);
        return;
    }
    struct sl_reader r = {frame, frame + len, 0};
    struct sl_request_header hdr;
    if (sl_codec_decode_request_header(&r, &hdr) != 0) {
        sl_conn_close(c, "malformed request header");
        return;
    }
    const struct sl_api_row *row = sl_dispatch_row(hdr.api_key);
    const struct sl_api_info *api = row ? sl_api_lookup(hdr.api_key) : NULL;
    if (!row || !api) {
        SL_INFO("net", "closing %s: unknown or unserved API key %d", c->peer, hdr.api_key);
        sl_conn_close(c, "unknown api key");
        return;
    }
    if (!sl_sasl_allows(c, hdr.api_key)) {
        sl_conn_close(c, "not authenticated");
        return;
    }
    /* Kafka answers an ApiVersions of any unknown version (even negative). */
    bool too_new_api_versions = hdr.api_key == SL_API_API_VERSIONS &&
                                (hdr.api_version > row->max_version || hdr.api_version < 0);
    if (!too_new_api_versions && (hdr.api_version < row->accept_min || hdr.api_version > row->max_version)) {
        SL_INFO("net", "closing %s: %s v%d not supported (%d..%d)", c->peer, api->name,
                hdr.api_version, row->accept_min, row->max_version);
        sl_conn_close(c, "unsupported version");
        return;
    }
    struct sl_req *req = sl_req_new(c);
    req->hdr = hdr;
    req->api = api;
    req->row = row;
    copy_client_id(req);
    req->resp = sl_arena_alloc(&req->arena, api->response->size);
    sl_codec_init(api->response, req->resp);
    if (too_new_api_versions) {
        sl_api_api_versions_unsupported(req);
        sl_req_encode(req);
        sl_conn_enqueue(c, req);
        return;
    }
    /* A changing request under policy reject waits for its intent record
     * (api/audit_intent.h) and outlives this frame: decode a copy. */
    bool intent = sl_api_audit_intent_api(hdr.api_key);
    if (intent) {
        size_t at = (size_t)(r.p - frame);
        uint8_t *copy = sl_arena_memdup(&req->arena, frame, len);
        r.p = copy + at;
        r.end = copy + len;
    }
    req->body = sl_arena_alloc(&req->arena, api->request->size);
    if (sl_codec_decode(api->request, hdr.api_version, &r, &req->arena, req->body) != 0) {
        SL_INFO("net", "closing %s: malformed %s v%d request", c->peer, api->name,
                hdr.api_version);
        sl_req_free(req);
        sl_conn_close(c, "malformed request");
        return;
    }
    if (intent) {
        uint64_t seq = sl_api_audit_intent(req);
        if (seq == SL_AUDIT_SEQ_FAILED) {
            req->intent_failed = true; /* the handler refuses every change */
        } else if (seq != SL_AUDIT_SEQ_NONE) {
            req->intent_seq = seq;
            sl_audit_park(req, seq, run_after_intent);
            sl_conn_enqueue(c, req);
            return;
        }
    }
    int rc = row->handler(req);
    if (rc == SL_HANDLER_DONE) {
        if (req->no_response) {
            sl_req_free(req);
            return;
        }
        sl_req_encode(req);
        if (req->audit_seq && sl_audit_hold_begin(req)) {
            /* Encoded now (the frame is reused), sent once the audit
             * record is durable. */
            req->state = SL_REQ_WAITING;
            req->_encoded = true;
        }
        sl_conn_enqueue(c, req);
    } else if (rc == SL_ERR__DEFER) {
        SL_ASSERT(req->state == SL_REQ_PARKED || req->state == SL_REQ_WAITING);
        sl_conn_enqueue(c, req);
    } else {
        sl_req_free(req);
        sl_conn_close(c, "request refused");
    }
}
