/* SPDX-License-Identifier: Apache-2.0
 *
 * The coordinator thread and the request round trip (see coordinator.h).
 *
 * Threads and ownership:
 *   - struct sl_gop: created and filled on a network thread, owned by the
 *     coordinator from sl_evloop_post until it posts the op back, then
 *     freed on the network thread by deliver_task. Never shared.
 *   - per-loop table (nl->group): id -> parked request, touched only by its
 *     network thread (and by sl_group_coord_stop after that thread ended).
 *   - c->state: written by the coordinator thread, read by network threads
 *     to answer LOAD_IN_PROGRESS / NOT_AVAILABLE without a round trip.
 *
 * Shutdown (sl_group_coord_stop, from sl_broker_stop once the network
 * threads are joined): a stop task unloads the groups (answering parked
 * requests NOT_COORDINATOR) and the loop keeps turning until every append
 * has its durability answer from the flusher; only then the thread ends.
 */
#include "group/coordinator.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/logging.h"
#include "core/mem.h"
#include "group/maps.h"
#include "group/store.h"
#include "net/conn.h"
#include "net/netloop.h"
#include "protocol/request.h"
#include "server/broker.h"

enum coord_state {
    COORD_LOADING = 0,
    COORD_ACTIVE,
    COORD_FAILED,
    COORD_STOPPED,
};

struct sl_group_coord {
    struct sl_broker *b;
    struct sl_evloop *el;
    pthread_t thread;
    bool thread_started;
    struct sl_gstore *st;
    struct sl_gcore *core;
    atomic_int state;
    bool stopping; /* coordinator thread */
};

/* A network loop's parked group requests. */
struct sl_group_nl {
    struct sl_u64map reqs; /* op id -> struct sl_req */
};

/* What a parked request remembers (in its arena). */
struct gpark {
    uint64_t id;
    enum sl_gop_kind kind;
    void (*post)(struct sl_req *req, void *arg);
    void *post_arg;
};

static atomic_uint_fast64_t next_op_id = 1;

/* ---- network thread side ---- */

/* Network thread: the answer to a parked request. */
static void deliver_task(void *arg)
{
    struct sl_gop *op = arg;
    struct sl_netloop *nl = op->nl;
    struct sl_req *req = nl->group ? sl_u64map_del(&nl->group->reqs, op->id) : NULL;
    if (req) {
        /* The response points into op->mem; sl_req_complete encodes it
         * before op is freed. */
        memcpy(req->resp, op->resp, op->resp_desc->size);
        req->cancel = NULL;
        struct gpark *pk = req->hctx;
        if (pk->post)
            pk->post(req, pk->post_arg);
        sl_req_complete(req);
    }
    sl_gop_free(op);
}

static void process_task(void *arg);

/* Network thread: the connection of a parked request closed. */
static void on_cancel(struct sl_req *req)
{
    struct gpark *pk = req->hctx;
    struct sl_netloop *nl = req->conn->nl;
    if (nl->group)
        sl_u64map_del(&nl->group->reqs, pk->id);
    struct sl_group_coord *c = req->broker->group;
    if (!c || atomic_load(&c->state) != COORD_ACTIVE)
        return;
    if (pk->kind != SL_GOP_JOIN && pk->kind != SL_GOP_SYNC)
        return; /* nothing waits on the coordinator side */
    struct sl_gop *op = sl_gop_new(SL_GOP_ABANDON, 0, NULL, NULL, NULL);
    op->abandon_id = pk->id;
    op->nl = nl;
    sl_evloop_post(c->el, process_task, op);
}

struct sl_gop *sl_group_op_new(struct sl_req *req, enum sl_gop_kind kind)
{
    struct sl_gop *op =
        sl_gop_new(kind, req->hdr.api_version, req->api->request, req->body, req->api->response);
    op->client_id = sl_gmem_str(&op->mem, req->hdr.client_id);
    char host[64];
    snprintf(host, sizeof(host), "/%s", req->conn->peer_host);
    op->client_host = sl_gmem_cstr(&op->mem, host);
    return op;
}

int sl_group_op_submit(struct sl_req *req, struct sl_gop *op)
{
    return sl_group_op_submit_then(req, op, NULL, NULL);
}

int sl_group_op_submit_then(struct sl_req *req, struct sl_gop *op,
                            void (*post)(struct sl_req *req, void *arg), void *arg)
{
    struct sl_netloop *nl = req->conn->nl;
    struct sl_group_coord *c = req->broker->group;
    if (!nl->group) {
        nl->group = sl_xcalloc(1, sizeof(*nl->group));
        sl_u64map_init(&nl->group->reqs);
    }
    op->id = atomic_fetch_add(&next_op_id, 1);
    op->nl = nl;
    sl_u64map_put(&nl->group->reqs, op->id, req);
    struct gpark *pk = sl_arena_alloc(&req->arena, sizeof(*pk));
    pk->id = op->id;
    pk->kind = op->kind;
    pk->post = post;
    pk->post_arg = arg;
    req->hctx = pk;
    req->cancel = on_cancel;
    req->state = SL_REQ_PARKED;
    int st = c ? atomic_load(&c->state) : COORD_FAILED;
    if (op->fail_err) {
        sl_gop_fail(op, op->fail_err);
        sl_evloop_post(nl->el, deliver_task, op);
    } else if (st == COORD_ACTIVE) {
        sl_evloop_post(c->el, process_task, op);
    } else {
        sl_gop_fail(op, st == COORD_LOADING ? SL_ERR_COORDINATOR_LOAD_IN_PROGRESS
                                            : SL_ERR_COORDINATOR_NOT_AVAILABLE);
        sl_evloop_post(nl->el, deliver_task, op);
    }
    return SL_ERR__DEFER;
}

/* ---- coordinator thread side ---- */

static void process_task(void *arg)
{
    struct sl_gop *op = arg;
    struct sl_group_coord *c = op->nl->broker->group;
    if (op->kind == SL_GOP_ABANDON && (c->stopping || atomic_load(&c->state) != COORD_ACTIVE)) {
        sl_gop_free(op);
        return;
    }
    if (c->stopping || atomic_load(&c->state) != COORD_ACTIVE) {
        sl_gop_fail(op, c->stopping ? SL_ERR_NOT_COORDINATOR : SL_ERR_COORDINATOR_NOT_AVAILABLE);
        sl_evloop_post(op->nl->el, deliver_task, op);
        return;
    }
    sl_gcore_submit(c->core, op);
}

static int64_t env_now(void *ctx)
{
    return sl_now_ms();
}

static void env_timer_start(void *ctx, struct sl_timer *t, int64_t ms)
{
    struct sl_group_coord *c = ctx;
    sl_timer_start(c->el, t, ms);
}

static void env_timer_stop(void *ctx, struct sl_timer *t)
{
    struct sl_group_coord *c = ctx;
    sl_timer_stop(c->el, t);
}

static void env_complete(void *ctx, struct sl_gop *op)
{
    if (op->nl)
        sl_evloop_post(op->nl->el, deliver_task, op);
    else
        sl_gop_free(op);
}

/* Coordinator loop, every turn: housekeeping, storage failure, shutdown. */
static void before_sleep(void *arg)
{
    struct sl_group_coord *c = arg;
    if (c->stopping) {
        if (sl_gstore_pending(c->st) == 0)
            sl_evloop_stop(c->el);
        return;
    }
    if (atomic_load(&c->state) != COORD_ACTIVE)
        return;
    if (sl_gstore_failed(c->st)) {
        SL_ERROR("group", "the offsets log failed; group requests are refused from now on "
                          "(restart the broker after fixing the storage)");
        atomic_store(&c->state, COORD_FAILED);
        sl_gcore_unload(c->core);
        return;
    }
    sl_gcore_maintain(c->core);
}

static void stop_task(void *arg)
{
    struct sl_group_coord *c = arg;
    c->stopping = true;
    atomic_store(&c->state, COORD_STOPPED);
    sl_gcore_unload(c->core);
}

static void *coord_main(void *arg)
{
    struct sl_group_coord *c = arg;
    pthread_setname_np(pthread_self(), "sl-group");
    int64_t t0 = sl_mono_ms();
    if (sl_gstore_quarantined(c->st)) {
        /* Damage or tampering in flushed data of the offsets log (recovery
         * named the file, position and offset, and cut nothing). Replaying
         * up to the damage would serve older commits than the consumers
         * made (silent reprocessing) and forget later deletions; appending
         * after it would bury the damage. So no group state at all is
         * served until the file is restored; topic partitions are. */
        SL_ERROR("group", "%s: the offsets log is QUARANTINED (damage reported above): group "
                          "coordination is refused (COORDINATOR_NOT_AVAILABLE) and no committed "
                          "offset is served until the damaged file is restored and the broker "
                          "restarted; topic partitions are served as usual",
                 sl_gstore_dir(c->st));
        atomic_store(&c->state, COORD_FAILED);
    } else if (sl_gcore_load(c->core) != SL_ERR_NONE) {
        SL_ERROR("group", "cannot load the offsets log: the group coordinator is unavailable");
        atomic_store(&c->state, COORD_FAILED);
    } else {
        SL_INFO("group", "group coordinator ready after %lld ms", (long long)(sl_mono_ms() - t0));
        atomic_store(&c->state, COORD_ACTIVE);
    }
    sl_evloop_run(c->el);
    return NULL;
}

int sl_group_coord_start(struct sl_broker *b, char *err, size_t errlen)
{
    struct sl_group_coord *c = sl_xcalloc(1, sizeof(*c));
    c->b = b;
    atomic_init(&c->state, COORD_LOADING);
    c->el = sl_evloop_new(-1, err, errlen);
    if (!c->el) {
        free(c);
        return -1;
    }
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/internal", b->cfg->data_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    snprintf(dir, sizeof(dir), "%s/internal/__consumer_offsets-0", b->cfg->data_dir);
    if (sl_gstore_open(b->fops, dir, b->flusher, c->el, &c->st, err, errlen) != SL_ERR_NONE)
        goto fail;
    struct sl_gcore_env env;
    sl_gcore_env_defaults(&env);
    env.now_ms = env_now;
    env.timer_start = env_timer_start;
    env.timer_stop = env_timer_stop;
    env.complete = env_complete;
    env.ctx = c;
    env.initial_rebalance_delay_ms = b->cfg->group_initial_rebalance_delay_ms;
    c->core = sl_gcore_new(&env, c->st);
    sl_evloop_set_before_sleep(c->el, before_sleep, c);
    b->group = c;
    if (pthread_create(&c->thread, NULL, coord_main, c) != 0) {
        snprintf(err, errlen, "cannot start the group coordinator thread");
        b->group = NULL;
        goto fail;
    }
    c->thread_started = true;
    return 0;
fail:
    sl_gcore_free(c->core);
    sl_gstore_close(c->st);
    sl_evloop_destroy(c->el);
    free(c);
    return -1;
}

bool sl_group_coord_failed(const struct sl_broker *b)
{
    const struct sl_group_coord *c = b->group;
    return !c || atomic_load(&c->state) == COORD_FAILED;
}

void sl_group_coord_stop(struct sl_broker *b)
{
    struct sl_group_coord *c = b->group;
    if (!c)
        return;
    if (c->thread_started) {
        sl_evloop_post(c->el, stop_task, c);
        pthread_join(c->thread, NULL);
    }
    /* Nothing should be left; if something is, it is answered (dropped). */
    c->stopping = true;
    sl_evloop_drain(c->el);
    sl_gcore_free(c->core);
    sl_gstore_close(c->st);
    for (int i = 0; i < b->n_loops; i++) {
        struct sl_netloop *nl = b->loops[i];
        if (nl && nl->group) {
            sl_u64map_destroy(&nl->group->reqs);
            sl_free(&nl->group);
        }
    }
    sl_evloop_destroy(c->el);
    free(c);
    b->group = NULL;
}
