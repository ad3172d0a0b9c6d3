/* SPDX-License-Identifier: Apache-2.0
 *
 * Running a changing request only once its intent record is durable (see
 * audit.h and docs/AUDIT.md "Durability and the failure policy"). The
 * dispatcher writes the intent, parks the request (the connection reads no
 * further request meanwhile, so one client's changes stay in order) and
 * the audit writer calls back when the record is synced; the callback is
 * posted to the connection's loop, which runs the handler.
 *
 * The wait state lives on the heap, not in the request's arena: when the
 * connection closes first, its cancel hook detaches the request (which the
 * close frees) and the posted answer only frees the wait state. At broker
 * stop the loops close their connections before the audit log stops, whose
 * pending waiters then answer; the broker drains the loops' tasks after.
 */
#include "core/mem.h"
#include "net/conn.h"
#include "net/evloop.h"
#include "net/netloop.h"
#include "protocol/request.h"
#include "security/audit/audit.h"

struct park {
    struct sl_req *req; /* NULL once the connection closed */
    struct sl_evloop *el;
    void (*run)(struct sl_req *req);
    bool ok;
};

/* Loop thread: the intent is durable, or will never be. */
static void park_done(void *arg)
{
    struct park *p = arg;
    struct sl_req *req = p->req;
    void (*run)(struct sl_req *) = p->run;
    bool ok = p->ok;
    free(p);
    if (!req)
        return;
    req->hctx = NULL;
    req->cancel = NULL;
    req->state = SL_REQ_RUNNING;
    if (!ok && sl_audit_policy() == SL_AUDIT_POLICY_REJECT)
        req->intent_failed = true;
    run(req);
}

/* Audit writer thread (or the caller's): hand the answer to the loop. */
static void park_cb(void *arg, bool ok)
{
    struct park *p = arg;
    p->ok = ok;
    sl_evloop_post(p->el, park_done, p);
}

/* Loop thread: the connection closes; the request is freed by the close. */
static void park_cancel(struct sl_req *req)
{
    struct park *p = req->hctx;
    if (p)
        p->req = NULL;
    req->hctx = NULL;
}

void sl_audit_park(struct sl_req *req, uint64_t seq, void (*run)(struct sl_req *req))
{
    struct park *p = sl_xmalloc(sizeof *p);
    *p = (struct park){.req = req, .el = req->conn->nl->el, .run = run, .ok = false};
    req->hctx = p;
    req->cancel = park_cancel;
    req->state = SL_REQ_PARKED;
    sl_audit_wait(seq, park_cb, p);
}
