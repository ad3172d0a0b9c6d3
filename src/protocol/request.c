/* SPDX-License-Identifier: Apache-2.0
 *
 * Request objects (see request.h). Freed requests keep their arena blocks
 * and output buffer in a small per-thread pool, so the steady state
 * allocates nothing per request and never touches fresh pages.
 */
#include "protocol/request.h"

#include <string.h>

#include "core/bytes.h"
#include "core/logging.h"
#include "core/mem.h"
#include "net/conn.h"
#include "net/netloop.h"
#include "security/audit/audit.h"
#include "server/broker.h"

#define POOL_MAX 64

static _Thread_local struct sl_req *pool;
static _Thread_local int pool_len;

struct sl_req *sl_req_new(struct sl_conn *c)
{
    struct sl_req *req = pool;
    if (req) {
        pool = req->_next;
        pool_len--;
        struct sl_arena a = req->arena;
        struct sl_wbuf w = req->out;
        memset(req, 0, sizeof(*req));
        req->arena = a;
        req->out = w;
    } else {
        req = sl_xcalloc(1, sizeof(*req));
        sl_arena_init(&req->arena);
        sl_wbuf_init(&req->out);
    }
    req->conn = c;
    req->broker = c->nl->broker;
    sl_conn_ref(c);
    return req;
}

void sl_req_free(struct sl_req *req)
{
    struct sl_conn *c = req->conn;
    sl_arena_reset(&req->arena);
    sl_wbuf_clear(&req->out);
    if (req->out.cap > 1024 * 1024) { /* do not pool huge buffers */
        sl_wbuf_destroy(&req->out);
    }
    if (pool_len < POOL_MAX) {
        req->_next = pool;
        pool = req;
        pool_len++;
    } else {
        sl_arena_destroy(&req->arena);
        sl_wbuf_destroy(&req->out);
        free(req);
    }
    if (c)
        sl_conn_unref(c);
}

void sl_req_encode(struct sl_req *req)
{
    struct sl_wbuf *w = &req->out;
    if (req->raw || req->_encoded) {
        req->state = SL_REQ_DONE;
        return;
    }
    sl_wbuf_clear(w);
    sl_wbuf_reserve(w, 4);
    sl_codec_encode_response_header(w, req->hdr.api_key, req->hdr.api_version,
                                    req->hdr.correlation_id);
    sl_codec_encode(req->api->response, req->hdr.api_version, req->resp, w);
    sl_put_be32(w->data, (uint32_t)(sl_wbuf_total(w) - 4));
    req->state = SL_REQ_DONE;
}

void sl_req_complete(struct sl_req *req)
{
    struct sl_conn *c = req->conn;
    bool was_parked = req->state == SL_REQ_PARKED;
    if (c->state != SL_CONN_OPEN) {
        /* The connection went away; nobody will send this. Parked
         * requests were freed by the close; waiting ones end here. */
        if (req->state == SL_REQ_WAITING)
            sl_req_free(req);
        return;
    }
    if (req->audit_seq && sl_audit_hold_begin(req)) {
        /* The response waits for its audit record (audit_hold.c). It is
         * encoded now: what it points to (a group answer's memory, say) may
         * be freed as soon as this returns. */
        enum sl_req_state st = req->state;
        sl_req_encode(req);
        req->state = st;
        req->_encoded = true;
        if (was_parked) {
            c->n_parked--;
            req->state = SL_REQ_WAITING;
            sl_conn_ref(c);
            sl_conn_kick(c);
            sl_conn_unref(c);
        }
        return;
    }
    sl_req_encode(req);
    if (was_parked)
        c->n_parked--;
    sl_conn_ref(c);
    sl_conn_kick(c);
    sl_conn_unref(c);
}

void sl_req_async_end(struct sl_req *req)
{
    SL_ASSERT(req->pending > 0);
    if (--req->pending > 0)
        return;
    sl_req_complete(req);
}

void sl_req_pool_drain(void)
{
    while (pool) {
        struct sl_req *r = pool;
        pool = r->_next;
        sl_arena_destroy(&r->arena);
        sl_wbuf_destroy(&r->out);
        free(r);
    }
    pool_len = 0;
}
