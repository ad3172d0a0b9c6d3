/* SPDX-License-Identifier: Apache-2.0
 *
 * One request's life: decoded header and body, the response struct the
 * handler fills, the per-request arena both live in, and the encoded
 * response frame. A request is queued on its connection in arrival order;
 * its response leaves when it and everything before it are DONE.
 *
 *   RUNNING ──handler returns──▶ DONE                      (most requests)
 *   RUNNING ──SL_ERR__DEFER, parked──▶ PARKED ──resume──▶ RUNNING ...
 *   RUNNING ──async ops pending──▶ WAITING ──last op ends──▶ DONE
 *
 * While a request is PARKED (not yet executed: a long-poll fetch), the
 * connection reads no further request, like Kafka's "muted" channel.
 * WAITING requests (acks=all produce waiting for group commit) were already
 * executed, so later requests proceed; only their responses wait.
 *
 * Rule for handlers: a request that may outlive its handler call (PARKED or
 * WAITING) must not leave pointers into the request frame in its response
 * (the connection reuses its input buffer): copy such strings into the arena.
 */
#ifndef SL_PROTOCOL_REQUEST_H
#define SL_PROTOCOL_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/wbuf.h"
#include "protocol/codec.h"
#include "protocol/gen/apis.h"

struct sl_conn;
struct sl_broker;
struct sl_api_row;

enum sl_req_state {
    SL_REQ_RUNNING = 0,
    SL_REQ_PARKED,
    SL_REQ_WAITING,
    SL_REQ_DONE,
    SL_REQ_STATE_MAX
};

struct sl_req {
    struct sl_req *_next;          /* connection queue */
    struct sl_conn *conn;          /* holds a reference */
    struct sl_broker *broker;
    struct sl_request_header hdr;
    const struct sl_api_info *api;
    const struct sl_api_row *row;
    struct sl_arena arena;
    void *body;                    /* decoded request, in the arena */
    void *resp;                    /* response struct, in the arena, defaults set */
    enum sl_req_state state;
    int pending;                   /* asynchronous operations outstanding */
    bool no_response;              /* Produce acks=0 */
    bool raw;                      /* out holds a bare frame (SASL v0 token), not resp */
    struct sl_wbuf out;            /* encoded response frame */
    void *hctx;                    /* handler state across resumptions */
    /* Parked requests: resume runs the handler again (loop thread); cancel
     * releases timers and registrations when the connection closes first. */
    void (*resume)(struct sl_req *req);
    void (*cancel)(struct sl_req *req);
    /* Called with each asynchronous result before the request completes. */
    int64_t start_us;
    /* Audit: the response waits until this record is durable (0: no hold;
     * set through sl_audit_hold_req, applied by the dispatcher and by
     * sl_req_complete). */
    uint64_t audit_seq;
    bool _encoded; /* out already holds the response (encoded before a hold) */
    /* Audit intent (security/audit/audit_park.c): the sequence number of
     * the intent record written before the handler ran (0: none), and
     * whether it could not be made durable (the handler then refuses every
     * change, sl_api_audit_ready). */
    uint64_t intent_seq;
    bool intent_failed;
};

/* Returns a fresh request bound to c (takes a reference on c). Loop thread. */
struct sl_req *sl_req_new(struct sl_conn *c);

/* Frees the request, its arena and its output (drops its conn reference). */
void sl_req_free(struct sl_req *req);

/* Encodes req->resp (size prefix, response header, body) into req->out and
 * marks the request DONE. */
void sl_req_encode(struct sl_req *req);

/* Completes a request that was PARKED or WAITING: encodes it and lets the
 * connection send what is ready. Loop thread. */
void sl_req_complete(struct sl_req *req);

/* Registers / ends one asynchronous operation of a request. The request
 * completes when the last one ends (sl_req_async_end on the loop thread). */
static inline void sl_req_async_begin(struct sl_req *req)
{
    req->pending++;
}
void sl_req_async_end(struct sl_req *req);



/* Frees the calling thread's pool of spare requests (thread exit). */
void sl_req_pool_drain(void);

#endif
