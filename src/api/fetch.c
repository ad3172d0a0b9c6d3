/* SPDX-License-Identifier: Apache-2.0
 *
 * Fetch (key 1, v4–12) with long poll. The request is turned into a plan
 * (topic references, offsets, limits, names copied out of the frame) so it
 * can be re-run after parking. Each run reads whole stored batches through
 * the log's slices and splices them into the response as file extents:
 * sent with sendfile(2) on plain connections, never copied.
 *
 * Rules kept (PROTOCOL.md §3.9, §8): every requested partition appears in
 * the answer; empty records are an empty byte string, never null; the first
 * non-empty partition returns at least one whole batch even above the byte
 * limits (KIP-74); preferred_read_replica is -1; sessions are not kept
 * (session id 0, "sessionless", which every client accepts).
 *
 * Long poll: when fewer than min_bytes are available and no partition has
 * an error, the request parks on its network thread (the connection reads
 * no further requests meanwhile, as Kafka mutes it) until max_wait_ms
 * expires or a Produce on any thread grows a partition it waits on.
 */
#include "api/fetch.h"

#include <string.h>

#include "api/api.h"
#include "api/util.h"
#include "core/logging.h"
#include "core/mem.h"
#include "net/conn.h"
#include "net/netloop.h"
#include "protocol/dispatch.h"
#include "protocol/gen/fetch.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "server/registry.h"
#include "sluice/err.h"
#include "storage/log.h"

struct plan_part {
    int32_t partition;
    int64_t offset;
    int32_t max_bytes;
    int64_t seen_end; /* log end offset at the last run */
};

struct plan_topic {
    sl_str_t name;          /* arena copy */
    struct sl_topic *t;     /* referenced, or NULL */
    bool denied;            /* no READ on it: TOPIC_AUTHORIZATION_FAILED */
    int32_t n;
    struct plan_part *parts;
};

struct plan {
    int32_t n;
    struct plan_topic *topics;
    int32_t min_bytes, max_bytes, max_wait_ms;
    struct sl_timer timer;
    int parked_idx;         /* index in the loop's parked array, -1 if not parked */
};

static void plan_release(struct plan *pl)
{
    for (int32_t i = 0; i < pl->n; i++) {
        sl_topic_unref(pl->topics[i].t);
        pl->topics[i].t = NULL;
    }
}

static void release_slice(void *ref)
{
    sl_log_slice_release(ref);
}

static void free_records_ext(sl_records_t *r)
{
    for (struct sl_records_ext *e = r->ext; e; e = e->next) {
        if (e->release)
            e->release(e->arg);
    }
    r->ext = NULL;
}

/* Clears a previous run's response (releasing its segment references). */
static void reset_response(struct FetchResponse *resp)
{
    for (int32_t i = 0; i < resp->responses.n; i++) {
        for (int32_t j = 0; j < resp->responses.a[i].partitions.n; j++)
            free_records_ext(&resp->responses.a[i].partitions.a[j].records);
    }
    resp->responses.n = 0;
    resp->responses.a = NULL;
}

/* Builds the response from the plan. Returns the record bytes gathered;
 * *has_error is set when a partition failed. */
static int64_t run_plan(struct sl_req *req, struct plan *pl, bool *has_error)
{
    struct FetchResponse *resp = req->resp;
    reset_response(resp);
    *has_error = false;
    int64_t total = 0;
    int64_t budget = pl->max_bytes > 0 ? pl->max_bytes : 1;
    bool first = true;
    SL_ARR(req, resp->responses, pl->n, sl_desc_FetchResponse_FetchableTopicResponse);
    for (int32_t i = 0; i < pl->n; i++) {
        struct plan_topic *pt = &pl->topics[i];
        struct FetchResponse_FetchableTopicResponse *rt = &resp->responses.a[i];
        rt->topic = pt->name;
        SL_ARR(req, rt->partitions, pt->n, sl_desc_FetchResponse_PartitionData);
        for (int32_t j = 0; j < pt->n; j++) {
            struct plan_part *pp = &pt->parts[j];
            struct FetchResponse_PartitionData *rp = &rt->partitions.a[j];
            rp->partition_index = pp->partition;
            rp->records = (sl_records_t){(const uint8_t *)"", 0, NULL};
            rp->aborted_transactions.n = 0;
            rp->preferred_read_replica = -1;
            if (pt->denied || !pt->t || pp->partition < 0 || pp->partition >= pt->t->n_parts) {
                rp->error_code = pt->denied ? SL_ERR_TOPIC_AUTHORIZATION_FAILED
                                            : SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                rp->high_watermark = rp->last_stable_offset = rp->log_start_offset = -1;
                *has_error = true;
                continue;
            }
            struct sl_log *log = pt->t->logs[pp->partition];
            int64_t start = sl_log_start_offset(log);
            int64_t end = sl_log_end_offset(log);
            pp->seen_end = end;
            rp->high_watermark = end;
            rp->last_stable_offset = end;
            rp->log_start_offset = start;
            if (sl_log_in_error(log)) {
                /* A failed write, or quarantined by recovery (damage found
                 * in sealed data): like Kafka's offline log directory. */
                rp->error_code = SL_ERR_KAFKA_STORAGE_ERROR;
                *has_error = true;
                continue;
            }
            if (pp->offset < start || pp->offset > end) {
                rp->error_code = SL_ERR_OFFSET_OUT_OF_RANGE;
                *has_error = true;
                continue;
            }
            if (pp->offset == end)
                continue;
            int64_t limit = pp->max_bytes < budget ? pp->max_bytes : budget;
            if (limit <= 0 && !first)
                continue;
            struct sl_log_slice sl;
            sl_err_t rc = sl_log_read(log, pp->offset, (int32_t)(limit > 0 ? limit : 0), first, &sl);
            if (rc != SL_ERR_NONE) {
                rp->error_code = (int16_t)(rc > 0 ? rc : SL_ERR_KAFKA_STORAGE_ERROR);
                *has_error = true;
                continue;
            }
            if (sl.len <= 0) {
                if (sl._ref)
                    sl_log_slice_release(sl._ref);
                continue;
            }
            struct sl_records_ext *e = sl_arena_alloc(&req->arena, sizeof(*e));
            e->fd = sl.mem ? -1 : sl.fd;
            e->off = sl.pos;
            e->mem = sl.mem;
            e->len = (size_t)sl.len;
            e->release = release_slice;
            e->arg = sl._ref;
            rp->records = (sl_records_t){NULL, sl.len, e};
            total += sl.len;
            budget -= sl.len;
            first = false;
        }
    }
    return total;
}

/* ---- parking ---- */

static void unpark(struct sl_req *req)
{
    struct plan *pl = req->hctx;
    struct sl_netloop *nl = req->conn->nl;
    sl_timer_stop(nl->el, &pl->timer);
    int i = pl->parked_idx;
    if (i < 0)
        return;
    int last = atomic_load(&nl->n_parked) - 1;
    if (i != last) {
        nl->parked[i] = nl->parked[last];
        ((struct plan *)nl->parked[i]->hctx)->parked_idx = i;
    }
    atomic_store(&nl->n_parked, last);
    pl->parked_idx = -1;
}

static void finish(struct sl_req *req)
{
    struct plan *pl = req->hctx;
    unpark(req);
    plan_release(pl);
    sl_req_complete(req);
}

static void on_timeout(void *arg)
{
    struct sl_req *req = arg;
    bool err;
    run_plan(req, req->hctx, &err);
    finish(req);
}

static void on_cancel(struct sl_req *req)
{
    struct plan *pl = req->hctx;
    unpark(req);
    reset_response(req->resp);
    plan_release(pl);
}

static bool grew(const struct plan *pl)
{
    for (int32_t i = 0; i < pl->n; i++) {
        const struct plan_topic *pt = &pl->topics[i];
        if (!pt->t)
            continue;
        for (int32_t j = 0; j < pt->n; j++) {
            const struct plan_part *pp = &pt->parts[j];
            if (pp->partition >= 0 && pp->partition < pt->t->n_parts &&
                sl_log_end_offset(pt->t->logs[pp->partition]) != pp->seen_end)
                return true;
        }
    }
    return false;
}

/* Loop thread: some partition grew somewhere; re-check parked fetches. */
static void wake_task(void *arg)
{
    struct sl_netloop *nl = arg;
    atomic_store(&nl->data_wake, false);
    for (int i = 0; i < atomic_load(&nl->n_parked);) {
        struct sl_req *req = nl->parked[i];
        struct plan *pl = req->hctx;
        if (grew(pl)) {
            bool err;
            int64_t got = run_plan(req, pl, &err);
            if (got >= pl->min_bytes || err) {
                finish(req); /* moves another entry into slot i */
                continue;
            }
            reset_response(req->resp);
        }
        i++;
    }
}

void sl_fetch_notify(struct sl_broker *b)
{
    for (int i = 0; i < b->n_loops; i++) {
        struct sl_netloop *nl = b->loops[i];
        if (atomic_load(&nl->n_parked) > 0 && !atomic_exchange(&nl->data_wake, true))
            sl_evloop_post(nl->el, wake_task, nl);
    }
}

static void park(struct sl_req *req, struct plan *pl)
{
    struct sl_netloop *nl = req->conn->nl;
    int n = atomic_load(&nl->n_parked);
    if (n == nl->cap_parked) {
        nl->cap_parked = nl->cap_parked ? nl->cap_parked * 2 : 64;
        nl->parked = sl_xrealloc(nl->parked, sizeof(*nl->parked) * (size_t)nl->cap_parked);
    }
    nl->parked[n] = req;
    pl->parked_idx = n;
    atomic_store(&nl->n_parked, n + 1);
    sl_timer_init(&pl->timer, on_timeout, req);
    sl_timer_start(nl->el, &pl->timer, pl->max_wait_ms);
    req->state = SL_REQ_PARKED;
    req->cancel = on_cancel;
}

int sl_api_fetch(struct sl_req *req)
{
    struct FetchRequest *body = req->body;
    struct FetchResponse *resp = req->resp;
    resp->session_id = 0;
    if (body->session_id != 0 || body->session_epoch > 0) {
        /* We keep no sessions: the client falls back to full fetches. */
        resp->error_code = SL_ERR_FETCH_SESSION_ID_NOT_FOUND;
        return SL_HANDLER_DONE;
    }
    struct plan *pl = sl_arena_alloc(&req->arena, sizeof(*pl));
    pl->parked_idx = -1;
    pl->min_bytes = body->min_bytes;
    pl->max_bytes = body->max_bytes;
    pl->max_wait_ms = body->max_wait_ms < 0 ? 0 : body->max_wait_ms;
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    pl->n = nt;
    pl->topics = sl_arena_alloc(&req->arena, sizeof(*pl->topics) * (size_t)(nt ? nt : 1));
    for (int32_t i = 0; i < nt; i++) {
        struct FetchRequest_FetchTopic *ft = &body->topics.a[i];
        struct plan_topic *pt = &pl->topics[i];
        pt->name = sl_api_str_dup(req, ft->topic);
        /* READ on the topic, before its existence is looked at. */
        pt->denied = !sl_authz(req, SL_ACL_OP_READ, SL_ACL_RES_TOPIC, ft->topic);
        pt->t = pt->denied ? NULL : sl_registry_get(req->broker, ft->topic);
        pt->n = ft->partitions.n > 0 ? ft->partitions.n : 0;
        pt->parts = sl_arena_alloc(&req->arena, sizeof(*pt->parts) * (size_t)(pt->n ? pt->n : 1));
        for (int32_t j = 0; j < pt->n; j++) {
            pt->parts[j].partition = ft->partitions.a[j].partition;
            pt->parts[j].offset = ft->partitions.a[j].fetch_offset;
            pt->parts[j].max_bytes = ft->partitions.a[j].partition_max_bytes;
        }
    }
    req->hctx = pl;
    bool err;
    int64_t got = run_plan(req, pl, &err);
    if (got >= pl->min_bytes || err || pl->max_wait_ms == 0 || nt == 0) {
        plan_release(pl);
        return SL_HANDLER_DONE;
    }
    reset_response(resp);
    park(req, pl);
    return SL_ERR__DEFER;
}
