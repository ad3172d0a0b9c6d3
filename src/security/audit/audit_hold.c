/* SPDX-License-Identifier: Apache-2.0
 *
 * Holding a response until its audit record is durable (see audit.h), the
 * way Produce with acks=all waits for the log flusher: the request gets one
 * more asynchronous operation, the audit writer calls back when the record
 * is synced, the callback is posted to the connection's loop, and the loop
 * ends the operation, which lets the response go. Responses stay in order:
 * later responses on the connection wait behind a held one.
 *
 * If the record can no longer become durable (the sink failed) and the
 * policy is reject, the connection is closed instead of answering, so that
 * the client never sees the outcome of an unaudited request.
 */
#include "core/logging.h"
#include "net/conn.h"
#include "net/evloop.h"
#include "net/netloop.h"
#include "protocol/gen/apis.h"
#include "protocol/request.h"
#include "security/audit/audit.h"
#include "sluice/err.h"

struct hold {
    struct sl_req *req;
    struct sl_evloop *el;
    bool ok;
};

/* Loop thread: the answer is known. */
static void hold_done(void *arg)
{
    struct hold *h = arg;
    struct sl_req *req = h->req;
    struct sl_conn *c = req->conn;
    if (!h->ok && sl_audit_policy() == SL_AUDIT_POLICY_REJECT && c->state == SL_CONN_OPEN) {
        SL_WARN("audit", "closing %s: the audit record of its %s request (correlation id %d) "
                         "could not be written",
                c->peer, req->api ? req->api->name : "?", req->hdr.correlation_id);
        sl_conn_close(c, "audit record could not be written");
    }
    sl_req_async_end(req);
}

/* Audit writer thread (or the caller's): hand the answer to the loop. */
static void hold_cb(void *arg, bool ok)
{
    struct hold *h = arg;
    h->ok = ok;
    sl_evloop_post(h->el, hold_done, h);
}

void sl_audit_hold_req(struct sl_req *req, uint64_t seq)
{
    if (seq == SL_AUDIT_SEQ_NONE)
        return;
    /* SL_AUDIT_SEQ_FAILED is the highest value: once set it stays, and
     * hold_begin refuses the response (the record was never queued). */
    if (seq > req->audit_seq)
        req->audit_seq = seq;
}

bool sl_audit_hold_begin(struct sl_req *req)
{
    uint64_t seq = req->audit_seq;
    if (seq == SL_AUDIT_SEQ_NONE)
        return false;
    req->audit_seq = SL_AUDIT_SEQ_NONE; /* one registration per hold */
    if (seq != SL_AUDIT_SEQ_FAILED && seq <= sl_audit_durable_seq() && sl_audit_available())
        return false;
    struct hold *h = sl_arena_alloc(&req->arena, sizeof *h);
    h->req = req;
    h->el = req->conn->nl->el;
    h->ok = false;
    sl_req_async_begin(req);
    if (seq == SL_AUDIT_SEQ_FAILED)
        hold_cb(h, false); /* the record was refused: the connection closes */
    else
        sl_audit_wait(seq, hold_cb, h);
    return true;
}

int16_t sl_audit_refusal_code(int16_t api_key)
{
    switch (api_key) {
    case SL_API_CREATE_TOPICS:
    case SL_API_DELETE_TOPICS:
    case SL_API_DELETE_RECORDS:
    case SL_API_CREATE_ACLS:
    case SL_API_DELETE_ACLS:
    case SL_API_DESCRIBE_ACLS:
    case SL_API_ALTER_CONFIGS:
    case SL_API_INCREMENTAL_ALTER_CONFIGS:
    case SL_API_DESCRIBE_CONFIGS:
    case SL_API_CREATE_PARTITIONS:
    case SL_API_DELETE_GROUPS:
    case SL_API_OFFSET_DELETE:
    case SL_API_ALTER_USER_SCRAM_CREDENTIALS:
    case SL_API_DESCRIBE_USER_SCRAM_CREDENTIALS:
        return SL_ERR_POLICY_VIOLATION;
    default:
        return SL_ERR_KAFKA_STORAGE_ERROR;
    }
}
