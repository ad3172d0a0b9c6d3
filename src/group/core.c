/* SPDX-License-Identifier: Apache-2.0
 *
 * Classic consumer group membership: JoinGroup, SyncGroup, Heartbeat and
 * LeaveGroup, the rebalance, session and sync timers, and the life of the
 * core (submit, load, unload). The state machine follows Apache Kafka's
 * classic group coordinator (group-coordinator ClassicGroup.java and the
 * classic part of GroupMetadataManager.java), rule for rule; where this
 * file departs from it, a comment says so and docs/design/groups.md says
 * why.
 *
 *          JoinGroup (new/changed member, leader rejoin)
 *   Empty ──────────────────────▶ PreparingRebalance ◀──────────────┐
 *     ▲                      all joined / rebalance timeout          │ member joins,
 *     │ generation with no members      │                            │ leaves, expires,
 *     └─────────────────────────────────┤                            │ sync timeout
 *                                       ▼                            │
 *                              CompletingRebalance ──leader's SyncGroup durable──▶ Stable
 *
 * A new group's first rebalance waits group.initial.rebalance.delay.ms, and
 * again (up to the rebalance timeout) while new members keep arriving. A
 * JoinGroup is answered when the join phase completes; a follower's
 * SyncGroup when the leader's assignment is durable.
 *
 * Departure from Kafka: a parked JoinGroup whose connection closes (Kafka
 * cannot see this: the socket is muted) removes a dynamic member at once,
 * as a LeaveGroup would, instead of carrying a dead member into the next
 * generation until its sync times out.
 */
#include "group/core_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/logging.h"
#include "core/mem.h"
#include "protocol/gen/delete_groups.h"
#include "protocol/gen/describe_groups.h"
#include "protocol/gen/heartbeat.h"
#include "protocol/gen/join_group.h"
#include "protocol/gen/leave_group.h"
#include "protocol/gen/list_groups.h"
#include "protocol/gen/offset_commit.h"
#include "protocol/gen/offset_delete.h"
#include "protocol/gen/offset_fetch.h"
#include "protocol/gen/sync_group.h"

static const char *const state_names[SL_GSTATE_MAX] = {
    "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead",
};

const char *sl_gstate_name(enum sl_gstate s)
{
    return (unsigned)s < SL_GSTATE_MAX ? state_names[s] : "Unknown";
}

/* ---- strings ---- */

sl_str_t sl_gc__own(sl_str_t s)
{
    if (s.len < 0)
        return SL_STR_NULL;
    char *p = sl_xmalloc((size_t)s.len + 1);
    if (s.len)
        memcpy(p, s.p, (size_t)s.len);
    p[s.len] = '\0';
    return (sl_str_t){p, s.len};
}

void sl_gc__free_str(sl_str_t *s)
{
    free((void *)s->p);
    *s = SL_STR_NULL;
}

sl_bytes_t sl_gc__own_bytes(sl_bytes_t b)
{
    if (b.len <= 0)
        return (sl_bytes_t){NULL, 0};
    uint8_t *p = sl_xmalloc((size_t)b.len);
    memcpy(p, b.p, (size_t)b.len);
    return (sl_bytes_t){p, b.len};
}

void sl_gc__free_bytes(sl_bytes_t *b)
{
    free((void *)b->p);
    *b = (sl_bytes_t){NULL, 0};
}

/* A printable form of a possibly null string, for logs. */
static const char *pr(sl_str_t s)
{
    return s.len < 0 ? "null" : s.p;
}

/* ---- environment ---- */

int64_t sl_gc__now(struct sl_gcore *gc)
{
    return gc->env.now_ms(gc->env.ctx);
}

void sl_gc__timer_start(struct sl_gcore *gc, struct sl_timer *t, int64_t ms)
{
    gc->env.timer_start(gc->env.ctx, t, ms);
}

void sl_gc__timer_stop(struct sl_gcore *gc, struct sl_timer *t)
{
    gc->env.timer_stop(gc->env.ctx, t);
}

void sl_gc__complete(struct sl_gcore *gc, struct sl_gop *op)
{
    gc->env.complete(gc->env.ctx, op);
}

/* ---- ops ---- */

struct sl_gop *sl_gop_new(enum sl_gop_kind kind, int16_t version, const struct sl_msgdesc *req_desc,
                          const void *req, const struct sl_msgdesc *resp_desc)
{
    struct sl_gop *op = sl_xcalloc(1, sizeof(*op));
    op->kind = kind;
    op->version = version;
    sl_gmem_init(&op->mem);
    op->client_id = SL_STR_EMPTY;
    op->client_host = SL_STR_EMPTY;
    if (req_desc && req) {
        op->req = sl_gmem_alloc(&op->mem, req_desc->size);
        sl_gmem_clone(&op->mem, req_desc, req, op->req);
    }
    if (resp_desc) {
        op->resp_desc = resp_desc;
        op->resp = sl_gmem_alloc(&op->mem, resp_desc->size);
        sl_codec_init(resp_desc, op->resp);
    }
    return op;
}

void sl_gop_free(struct sl_gop *op)
{
    if (!op)
        return;
    sl_gmem_free(&op->mem);
    free(op);
}

static void fail_commit(struct sl_gop *op, int16_t err)
{
    struct OffsetCommitRequest *rq = op->req;
    struct OffsetCommitResponse *r = op->resp;
    int32_t nt = rq->topics.n > 0 ? rq->topics.n : 0;
    SL_GARR(&op->mem, r->topics, nt, sl_desc_OffsetCommitResponse_OffsetCommitResponseTopic);
    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++) {
        struct OffsetCommitRequest_OffsetCommitRequestTopic *t = &rq->topics.a[i];
        r->topics.a[i].name = t->name;
        int32_t np = t->partitions.n > 0 ? t->partitions.n : 0;
        SL_GARR(&op->mem, r->topics.a[i].partitions, np,
                sl_desc_OffsetCommitResponse_OffsetCommitResponsePartition);
        for (int32_t j = 0; j < np; j++, k++) {
            r->topics.a[i].partitions.a[j].partition_index = t->partitions.a[j].partition_index;
            int16_t pre = op->pre_err && k < op->n_pre ? op->pre_err[k] : 0;
            r->topics.a[i].partitions.a[j].error_code = pre ? pre : err;
        }
    }
}

static void fail_fetch(struct sl_gop *op, int16_t err)
{
    struct OffsetFetchRequest *rq = op->req;
    if (op->version >= 8) {
        struct OffsetFetchResponse *r = op->resp;
        int32_t ng = rq->groups.n > 0 ? rq->groups.n : 0;
        SL_GARR(&op->mem, r->groups, ng, sl_desc_OffsetFetchResponse_OffsetFetchResponseGroup);
        for (int32_t i = 0; i < ng; i++) {
            r->groups.a[i].group_id = rq->groups.a[i].group_id;
            r->groups.a[i].error_code = err;
        }
        return;
    }
    struct OffsetFetchResponse *r = op->resp;
    r->error_code = err;
    if (op->version >= 2)
        return;
    /* v0-1 have no top-level error: every requested partition carries it. */
    int32_t nt = rq->topics.n > 0 ? rq->topics.n : 0;
    SL_GARR(&op->mem, r->topics, nt, sl_desc_OffsetFetchResponse_OffsetFetchResponseTopic);
    for (int32_t i = 0; i < nt; i++) {
        struct OffsetFetchRequest_OffsetFetchRequestTopic *t = &rq->topics.a[i];
        r->topics.a[i].name = t->name;
        int32_t np = t->partition_indexes.n > 0 ? t->partition_indexes.n : 0;
        SL_GARR(&op->mem, r->topics.a[i].partitions, np,
                sl_desc_OffsetFetchResponse_OffsetFetchResponsePartition);
        for (int32_t j = 0; j < np; j++) {
            struct OffsetFetchResponse_OffsetFetchResponsePartition *p = &r->topics.a[i].partitions.a[j];
            p->partition_index = t->partition_indexes.a[j];
            p->committed_offset = -1;
            p->metadata = SL_STR_EMPTY;
            p->error_code = err;
        }
    }
}

void sl_gop_fail(struct sl_gop *op, int16_t err)
{
    switch (op->kind) {
    case SL_GOP_JOIN: {
        struct JoinGroupRequest *rq = op->req;
        struct JoinGroupResponse *r = op->resp;
        r->error_code = err;
        r->member_id = rq->member_id;
        r->generation_id = -1;
        r->protocol_name = SL_STR_NULL;
        r->leader = SL_STR_EMPTY;
        break;
    }
    case SL_GOP_SYNC: {
        struct SyncGroupResponse *r = op->resp;
        r->error_code = err;
        r->assignment = (sl_bytes_t){(const uint8_t *)"", 0};
        break;
    }
    case SL_GOP_HEARTBEAT:
        ((struct HeartbeatResponse *)op->resp)->error_code = err;
        break;
    case SL_GOP_LEAVE: {
        struct LeaveGroupResponse *r = op->resp;
        r->error_code = err;
        r->members.n = 0;
        break;
    }
    case SL_GOP_OFFSET_COMMIT:
        fail_commit(op, err);
        break;
    case SL_GOP_OFFSET_FETCH:
        fail_fetch(op, err);
        break;
    case SL_GOP_LIST:
        ((struct ListGroupsResponse *)op->resp)->error_code = err;
        break;
    case SL_GOP_DESCRIBE: {
        struct DescribeGroupsRequest *rq = op->req;
        struct DescribeGroupsResponse *r = op->resp;
        int32_t n = rq->groups.n > 0 ? rq->groups.n : 0;
        SL_GARR(&op->mem, r->groups, n, sl_desc_DescribeGroupsResponse_DescribedGroup);
        for (int32_t i = 0; i < n; i++) {
            r->groups.a[i].group_id = rq->groups.a[i];
            r->groups.a[i].error_code = err;
            r->groups.a[i].group_state = SL_STR_EMPTY;
        }
        break;
    }
    case SL_GOP_DELETE: {
        struct DeleteGroupsRequest *rq = op->req;
        struct DeleteGroupsResponse *r = op->resp;
        int32_t n = rq->groups_names.n > 0 ? rq->groups_names.n : 0;
        SL_GARR(&op->mem, r->results, n, sl_desc_DeleteGroupsResponse_DeletableGroupResult);
        for (int32_t i = 0; i < n; i++) {
            r->results.a[i].group_id = rq->groups_names.a[i];
            r->results.a[i].error_code = err;
        }
        break;
    }
    case SL_GOP_OFFSET_DELETE:
        ((struct OffsetDeleteResponse *)op->resp)->error_code = err;
        break;
    default:
        break;
    }
}

/* ---- groups ---- */

struct sl_group *sl_gc__find(struct sl_gcore *gc, sl_str_t id)
{
    return sl_strmap_get(&gc->groups, id);
}

static void join_timer_cb(void *arg);
static void sync_timer_cb(void *arg);
static void member_hb_cb(void *arg);
static void pending_hb_cb(void *arg);

struct sl_group *sl_gc__create(struct sl_gcore *gc, sl_str_t id)
{
    struct sl_group *g = sl_xcalloc(1, sizeof(*g));
    g->gc = gc;
    g->id = sl_gc__own(id);
    g->state = SL_GSTATE_EMPTY;
    g->prev_state = SL_GSTATE_DEAD;
    g->state_ts = sl_gc__now(gc);
    g->protocol_type = SL_STR_NULL;
    g->protocol_name = SL_STR_NULL;
    sl_strmap_init(&g->by_id);
    sl_strmap_init(&g->by_instance);
    sl_strmap_init(&g->pending);
    sl_strmap_init(&g->topics);
    sl_timer_init(&g->join_timer, join_timer_cb, g);
    sl_timer_init(&g->sync_timer, sync_timer_cb, g);
    sl_strmap_put(&gc->groups, g->id, g);
    return g;
}

static void member_free(struct sl_gcore *gc, struct sl_gmember *m)
{
    SL_ASSERT(!m->join_op && !m->sync_op);
    sl_gc__timer_stop(gc, &m->hb);
    sl_gc__free_str(&m->id);
    sl_gc__free_str(&m->instance_id);
    sl_gc__free_str(&m->client_id);
    sl_gc__free_str(&m->client_host);
    for (int i = 0; i < m->n_protos; i++) {
        sl_gc__free_str(&m->protos[i].name);
        sl_gc__free_bytes(&m->protos[i].meta);
    }
    free(m->protos);
    sl_gc__free_bytes(&m->assignment);
    free(m);
}

static void free_subs(struct sl_group *g)
{
    for (int i = 0; i < g->n_subs; i++)
        sl_gc__free_str(&g->subs[i]);
    sl_free(&g->subs);
    g->n_subs = 0;
    g->subs_known = false;
}

static void pending_free(struct sl_gcore *gc, struct sl_gpending *p)
{
    sl_gc__timer_stop(gc, &p->hb);
    sl_gc__free_str(&p->id);
    free(p);
}

void sl_gc__clear_members(struct sl_group *g)
{
    struct sl_gcore *gc = g->gc;
    for (int i = 0; i < g->n_members; i++)
        member_free(gc, g->members[i]);
    g->n_members = 0;
    g->leader = NULL;
    g->n_awaiting_join = 0;
    g->n_pending_sync = 0;
    sl_strmap_destroy(&g->by_id);
    sl_strmap_destroy(&g->by_instance);
}

void sl_gc__destroy(struct sl_gcore *gc, struct sl_group *g)
{
    sl_strmap_del(&gc->groups, g->id);
    sl_gc__timer_stop(gc, &g->join_timer);
    sl_gc__timer_stop(gc, &g->sync_timer);
    sl_gc__clear_members(g);
    free(g->members);
    uint32_t it = 0;
    struct sl_gpending *p;
    while ((p = sl_strmap_next(&g->pending, &it)))
        pending_free(gc, p);
    sl_strmap_destroy(&g->pending);
    sl_gc__offsets_clear(g);
    sl_strmap_destroy(&g->topics);
    free_subs(g);
    if (g->meta_value)
        gc->n_meta--;
    free(g->meta_value);
    sl_gc__free_str(&g->protocol_type);
    sl_gc__free_str(&g->protocol_name);
    sl_gc__free_str(&g->id);
    free(g);
}

void sl_gc__transition(struct sl_group *g, enum sl_gstate to)
{
    SL_DEBUG("group", "group %s: %s -> %s (generation %d)", g->id.p, sl_gstate_name(g->state),
             sl_gstate_name(to), g->generation);
    g->prev_state = g->state;
    g->state = to;
    g->state_ts = sl_gc__now(g->gc);
}

/* ---- members ---- */

sl_bytes_t sl_gc__member_meta(const struct sl_gmember *m, sl_str_t name)
{
    for (int i = 0; i < m->n_protos; i++) {
        if (sl_str_eq(m->protos[i].name, name))
            return m->protos[i].meta;
    }
    return (sl_bytes_t){NULL, 0};
}

static void set_protocols(struct sl_gmember *m, const struct JoinGroupRequest *rq)
{
    for (int i = 0; i < m->n_protos; i++) {
        sl_gc__free_str(&m->protos[i].name);
        sl_gc__free_bytes(&m->protos[i].meta);
    }
    free(m->protos);
    int32_t n = rq->protocols.n > 0 ? rq->protocols.n : 0;
    m->protos = sl_xcalloc((size_t)(n ? n : 1), sizeof(*m->protos));
    m->n_protos = n;
    for (int32_t i = 0; i < n; i++) {
        m->protos[i].name = sl_gc__own(rq->protocols.a[i].name);
        m->protos[i].meta = sl_gc__own_bytes(rq->protocols.a[i].metadata);
    }
}

/* Kafka's ClassicGroupMember.matches: same protocols, same order, same
 * metadata. */
static bool member_matches(const struct sl_gmember *m, const struct JoinGroupRequest *rq)
{
    int32_t n = rq->protocols.n > 0 ? rq->protocols.n : 0;
    if (n != m->n_protos)
        return false;
    for (int32_t i = 0; i < n; i++) {
        const struct JoinGroupRequest_JoinGroupRequestProtocol *p = &rq->protocols.a[i];
        int32_t ml = p->metadata.len > 0 ? p->metadata.len : 0;
        if (!sl_str_eq(m->protos[i].name, p->name) || m->protos[i].meta.len != ml ||
            (ml && memcmp(m->protos[i].meta.p, p->metadata.p, (size_t)ml) != 0))
            return false;
    }
    return true;
}

static int proto_count(const struct sl_group *g, sl_str_t name)
{
    int c = 0;
    for (int i = 0; i < g->n_members; i++) {
        const struct sl_gmember *m = g->members[i];
        for (int j = 0; j < m->n_protos; j++) {
            if (sl_str_eq(m->protos[j].name, name)) {
                c++;
                break;
            }
        }
    }
    return c;
}

/* Kafka's supportsProtocols: an empty group takes any non-empty protocol
 * type with at least one protocol; otherwise the type must match and one
 * of the protocols must be supported by every member. */
static bool supports_protocols(const struct sl_group *g, const struct JoinGroupRequest *rq)
{
    int32_t n = rq->protocols.n > 0 ? rq->protocols.n : 0;
    if (g->state == SL_GSTATE_EMPTY)
        return rq->protocol_type.len > 0 && n > 0;
    if (g->protocol_type.len < 0 || !sl_str_eq(g->protocol_type, rq->protocol_type))
        return false;
    for (int32_t i = 0; i < n; i++) {
        if (proto_count(g, rq->protocols.a[i].name) == g->n_members)
            return true;
    }
    return false;
}

/* Kafka's selectProtocol: among the protocols every member supports, each
 * member votes for its most preferred one; the most votes win (ties: the
 * one voted for first). */
static sl_str_t select_protocol(const struct sl_group *g)
{
    sl_str_t best = SL_STR_NULL;
    if (g->n_members == 0)
        return best;
    int nv = 0;
    sl_str_t *names = sl_xcalloc((size_t)g->n_members, sizeof(*names));
    int *votes = sl_xcalloc((size_t)g->n_members, sizeof(*votes));
    for (int i = 0; i < g->n_members; i++) {
        const struct sl_gmember *m = g->members[i];
        for (int j = 0; j < m->n_protos; j++) {
            if (proto_count(g, m->protos[j].name) != g->n_members)
                continue;
            int k = 0;
            while (k < nv && !sl_str_eq(names[k], m->protos[j].name))
                k++;
            if (k == nv)
                names[nv++] = m->protos[j].name;
            votes[k]++;
            break;
        }
    }
    int bi = -1;
    for (int k = 0; k < nv; k++) {
        if (bi < 0 || votes[k] > votes[bi])
            bi = k;
    }
    if (bi >= 0)
        best = names[bi];
    free(names);
    free(votes);
    return best;
}

/* The group's rebalance timeout: the largest of its members'. */
static int32_t rebalance_timeout(const struct sl_group *g)
{
    int32_t t = 0;
    for (int i = 0; i < g->n_members; i++) {
        if (g->members[i]->rebalance_timeout_ms > t)
            t = g->members[i]->rebalance_timeout_ms;
    }
    return t;
}

static bool all_members_joined(const struct sl_group *g)
{
    return g->n_members == g->n_awaiting_join && g->pending.n == 0;
}

void sl_gc__reschedule_heartbeat(struct sl_gmember *m, int64_t ms)
{
    sl_gc__timer_start(m->g->gc, &m->hb, ms);
}

/* Parks op as the member's pending JoinGroup (op NULL: none), keeping the
 * awaiting count and the core's table of parked ops right. The previous op,
 * if any, must have been taken already. */
static void set_join_op(struct sl_group *g, struct sl_gmember *m, struct sl_gop *op)
{
    struct sl_gcore *gc = g->gc;
    if (m->join_op) {
        sl_u64map_del(&gc->held, m->join_op->id);
        m->join_op->_member = NULL;
        g->n_awaiting_join--;
    }
    m->join_op = op;
    if (op) {
        op->_member = m;
        sl_u64map_put(&gc->held, op->id, op);
        g->n_awaiting_join++;
    }
}

static struct sl_gop *take_join_op(struct sl_group *g, struct sl_gmember *m)
{
    struct sl_gop *op = m->join_op;
    if (op)
        set_join_op(g, m, NULL);
    return op;
}

static void set_sync_op(struct sl_group *g, struct sl_gmember *m, struct sl_gop *op)
{
    struct sl_gcore *gc = g->gc;
    if (m->sync_op) {
        sl_u64map_del(&gc->held, m->sync_op->id);
        m->sync_op->_member = NULL;
    }
    m->sync_op = op;
    if (op) {
        op->_member = m;
        sl_u64map_put(&gc->held, op->id, op);
    }
}

static struct sl_gop *take_sync_op(struct sl_group *g, struct sl_gmember *m)
{
    struct sl_gop *op = m->sync_op;
    if (op)
        set_sync_op(g, m, NULL);
    return op;
}

/* ---- responses ---- */

static void join_error(struct sl_gcore *gc, struct sl_gop *op, int16_t err, sl_str_t member_id)
{
    struct JoinGroupResponse *r = op->resp;
    r->error_code = err;
    r->member_id = sl_gmem_str(&op->mem, member_id.len < 0 ? SL_STR_EMPTY : member_id);
    r->generation_id = -1;
    r->protocol_type = SL_STR_NULL;
    r->protocol_name = SL_STR_NULL;
    r->leader = SL_STR_EMPTY;
    r->skip_assignment = false;
    r->members.n = 0;
    sl_gc__complete(gc, op);
}

/* The current generation as a JoinGroup answer to member m: the member list
 * (with each member's metadata for the selected protocol) goes to the
 * leader only, or when with_members says so. */
static void join_ok(struct sl_gcore *gc, struct sl_group *g, struct sl_gmember *m, struct sl_gop *op,
                    bool with_members, bool skip_assignment, sl_str_t leader)
{
    struct JoinGroupResponse *r = op->resp;
    struct sl_gmem *mem = &op->mem;
    r->error_code = SL_ERR_NONE;
    r->generation_id = g->generation;
    r->protocol_type = sl_gmem_str(mem, g->protocol_type);
    r->protocol_name = sl_gmem_str(mem, g->protocol_name);
    r->leader = sl_gmem_str(mem, leader.len >= 0 ? leader : SL_STR_EMPTY);
    r->member_id = sl_gmem_str(mem, m->id);
    r->skip_assignment = skip_assignment;
    r->members.n = 0;
    if (with_members) {
        SL_GARR(mem, r->members, g->n_members, sl_desc_JoinGroupResponse_JoinGroupResponseMember);
        for (int i = 0; i < g->n_members; i++) {
            const struct sl_gmember *x = g->members[i];
            sl_bytes_t meta = sl_gc__member_meta(x, g->protocol_name);
            r->members.a[i].member_id = sl_gmem_str(mem, x->id);
            r->members.a[i].group_instance_id = sl_gmem_str(mem, x->instance_id);
            r->members.a[i].metadata = sl_gmem_bytes(mem, meta.p, meta.len);
        }
    }
    sl_gc__complete(gc, op);
}

static sl_str_t leader_id(const struct sl_group *g)
{
    return g->leader ? g->leader->id : SL_STR_EMPTY;
}

static void sync_answer(struct sl_gcore *gc, struct sl_group *g, struct sl_gop *op, int16_t err,
                        sl_bytes_t assignment)
{
    struct SyncGroupResponse *r = op->resp;
    r->error_code = err;
    if (err == SL_ERR_NONE && g) {
        r->protocol_type = sl_gmem_str(&op->mem, g->protocol_type);
        r->protocol_name = sl_gmem_str(&op->mem, g->protocol_name);
    } else {
        r->protocol_type = SL_STR_NULL;
        r->protocol_name = SL_STR_NULL;
    }
    r->assignment = sl_gmem_bytes(&op->mem, assignment.p, assignment.len > 0 ? assignment.len : 0);
    sl_gc__complete(gc, op);
}

static void heartbeat_answer(struct sl_gcore *gc, struct sl_gop *op, int16_t err)
{
    ((struct HeartbeatResponse *)op->resp)->error_code = err;
    sl_gc__complete(gc, op);
}

/* ---- adding and removing members ---- */

static sl_str_t generate_member_id(struct sl_gmem *mem, sl_str_t prefix)
{
    uint8_t u[16];
    if (RAND_bytes(u, sizeof(u)) != 1) {
        /* No randomness available: still unique within this run. */
        static _Atomic uint64_t counter;
        uint64_t c = ++counter, t = (uint64_t)sl_mono_ms();
        memcpy(u, &c, sizeof(c));
        memcpy(u + 8, &t, sizeof(t));
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* UUID version 4, as Java's randomUUID */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    int32_t plen = prefix.len > 0 ? prefix.len : 0;
    char *p = sl_gmem_alloc(mem, (size_t)plen + 38);
    if (plen)
        memcpy(p, prefix.p, (size_t)plen);
    int n = snprintf(p + plen, 38,
                     "-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
                     u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                     u[13], u[14], u[15]);
    return (sl_str_t){p, plen + n};
}

/* Kafka's ClassicGroup.add. The member takes op as its pending join. */
static void group_add(struct sl_group *g, struct sl_gmember *m, struct sl_gop *op,
                      sl_str_t protocol_type)
{
    if (m->instance_id.len >= 0)
        sl_strmap_put(&g->by_instance, m->instance_id, m);
    if (g->n_members == 0) {
        sl_gc__free_str(&g->protocol_type);
        g->protocol_type = sl_gc__own(protocol_type);
    }
    if (!g->leader)
        g->leader = m;
    if (g->n_members == g->cap_members) {
        g->cap_members = g->cap_members ? g->cap_members * 2 : 8;
        g->members = sl_xrealloc(g->members, sizeof(*g->members) * (size_t)g->cap_members);
    }
    g->members[g->n_members++] = m;
    sl_strmap_put(&g->by_id, m->id, m);
    set_join_op(g, m, op);
    struct sl_gpending *p = sl_strmap_del(&g->pending, m->id);
    if (p)
        pending_free(g->gc, p);
}

/* Kafka's ClassicGroup.remove, plus answering whatever the member still has
 * parked (Kafka leaves a removed member's sync future hanging). */
static void group_remove(struct sl_group *g, struct sl_gmember *m)
{
    struct sl_gcore *gc = g->gc;
    struct sl_gop *op = take_join_op(g, m);
    if (op)
        join_error(gc, op, SL_ERR_UNKNOWN_MEMBER_ID, SL_STR_EMPTY);
    op = take_sync_op(g, m);
    if (op)
        sync_answer(gc, g, op, SL_ERR_UNKNOWN_MEMBER_ID, (sl_bytes_t){NULL, 0});
    sl_strmap_del(&g->by_id, m->id);
    if (m->instance_id.len >= 0 && sl_strmap_get(&g->by_instance, m->instance_id) == m)
        sl_strmap_del(&g->by_instance, m->instance_id);
    int i = 0;
    while (i < g->n_members && g->members[i] != m)
        i++;
    SL_ASSERT(i < g->n_members);
    memmove(&g->members[i], &g->members[i + 1], sizeof(*g->members) * (size_t)(g->n_members - i - 1));
    g->n_members--;
    if (m->pending_sync)
        g->n_pending_sync--;
    if (g->leader == m)
        g->leader = g->n_members > 0 ? g->members[0] : NULL;
    member_free(gc, m);
}

int16_t sl_gc__validate_member(struct sl_group *g, sl_str_t member_id, sl_str_t instance_id)
{
    if (instance_id.len >= 0) {
        struct sl_gmember *x = sl_strmap_get(&g->by_instance, instance_id);
        if (!x)
            return SL_ERR_UNKNOWN_MEMBER_ID;
        if (!sl_str_eq(x->id, member_id)) {
            SL_INFO("group", "group %s: member %.*s with instance id %.*s fenced by %s", g->id.p,
                    member_id.len > 0 ? (int)member_id.len : 0, member_id.len > 0 ? member_id.p : "",
                    (int)instance_id.len, instance_id.len > 0 ? instance_id.p : "", x->id.p);
            return SL_ERR_FENCED_INSTANCE_ID;
        }
    }
    if (!sl_strmap_get(&g->by_id, member_id))
        return SL_ERR_UNKNOWN_MEMBER_ID;
    return SL_ERR_NONE;
}

/* ---- the join phase ---- */

static void prepare_rebalance(struct sl_group *g, const char *reason);
static void complete_join(struct sl_group *g);

static void schedule_join(struct sl_group *g, enum sl_gjoin_timer kind, int64_t ms)
{
    g->join_kind = kind;
    sl_gc__timer_start(g->gc, &g->join_timer, ms);
}

static void maybe_complete_join_phase(struct sl_group *g)
{
    if (g->state != SL_GSTATE_PREPARING_REBALANCE)
        return;
    if (g->prev_state == SL_GSTATE_EMPTY)
        return; /* the initial rebalance waits for its delay */
    if (!all_members_joined(g))
        return;
    complete_join(g);
}

static bool can_rebalance(const struct sl_group *g)
{
    return g->state == SL_GSTATE_STABLE || g->state == SL_GSTATE_COMPLETING_REBALANCE ||
           g->state == SL_GSTATE_EMPTY;
}

static void maybe_prepare_rebalance_or_complete_join(struct sl_group *g, const char *reason)
{
    if (can_rebalance(g))
        prepare_rebalance(g, reason);
    else
        maybe_complete_join_phase(g);
}

/* Answers every parked SyncGroup with the member's assignment (or err). */
static void propagate_assignment(struct sl_group *g, int16_t err)
{
    struct sl_gcore *gc = g->gc;
    for (int i = 0; i < g->n_members; i++) {
        struct sl_gmember *m = g->members[i];
        struct sl_gop *op = take_sync_op(g, m);
        if (!op)
            continue;
        sync_answer(gc, g, op, err, m->assignment);
        /* Restart the session clock from the answer, as Kafka does. */
        sl_gc__reschedule_heartbeat(m, m->session_timeout_ms);
    }
}

static void reset_and_propagate_with_error(struct sl_group *g, int16_t err)
{
    SL_ASSERT(g->state == SL_GSTATE_COMPLETING_REBALANCE);
    for (int i = 0; i < g->n_members; i++)
        sl_gc__free_bytes(&g->members[i]->assignment);
    propagate_assignment(g, err);
}

static void clear_pending_sync(struct sl_group *g)
{
    for (int i = 0; i < g->n_members; i++)
        g->members[i]->pending_sync = false;
    g->n_pending_sync = 0;
}

static void prepare_rebalance(struct sl_group *g, const char *reason)
{
    struct sl_gcore *gc = g->gc;
    if (g->state == SL_GSTATE_COMPLETING_REBALANCE)
        reset_and_propagate_with_error(g, SL_ERR_REBALANCE_IN_PROGRESS);
    clear_pending_sync(g);
    sl_gc__timer_stop(gc, &g->sync_timer);
    bool initial = g->state == SL_GSTATE_EMPTY;
    if (initial) {
        int32_t delay = gc->env.initial_rebalance_delay_ms;
        int32_t remaining = rebalance_timeout(g) - delay;
        g->join_delay_ms = delay;
        g->join_remaining_ms = remaining > 0 ? remaining : 0;
        schedule_join(g, SL_GJOIN_INITIAL, delay);
    }
    sl_gc__transition(g, SL_GSTATE_PREPARING_REBALANCE);
    SL_INFO("group", "preparing to rebalance group %s with old generation %d (%s)", g->id.p,
            g->generation, reason);
    if (initial)
        return;
    if (all_members_joined(g))
        complete_join(g);
    else
        schedule_join(g, SL_GJOIN_REBALANCE, rebalance_timeout(g));
}

/* Kafka's maybeElectNewJoinedLeader. */
static bool elect_joined_leader(struct sl_group *g)
{
    if (!g->leader)
        return false;
    if (g->leader->join_op)
        return true;
    for (int i = 0; i < g->n_members; i++) {
        if (g->members[i]->join_op) {
            SL_INFO("group", "group %s: leader %s did not rejoin; %s is the new leader", g->id.p,
                    g->leader->id.p, g->members[i]->id.p);
            g->leader = g->members[i];
            return true;
        }
    }
    return false;
}

void sl_gc__compute_subscriptions(struct sl_group *g)
{
    free_subs(g);
    if (g->protocol_type.len < 0 || !sl_str_eq_c(g->protocol_type, SL_GC_CONSUMER_PROTOCOL))
        return;
    if (g->n_members == 0) {
        g->subs_known = true;
        return;
    }
    if (g->protocol_name.len < 0)
        return;
    /* ConsumerProtocolSubscription read as v0, the prefix of every version:
     * int16 version, [int32 count] topics as int16-length strings. */
    int cap = 0;
    for (int i = 0; i < g->n_members; i++) {
        sl_bytes_t meta = sl_gc__member_meta(g->members[i], g->protocol_name);
        struct sl_reader r;
        sl_rd_init(&r, meta.p, meta.len > 0 ? (size_t)meta.len : 0);
        (void)sl_rd_i16(&r);
        int32_t n = sl_rd_i32(&r);
        if (r.err || n < 0 || (size_t)n > sl_rd_left(&r) / 2) {
            free_subs(g);
            SL_WARN("group", "group %s: cannot parse the consumer protocol subscription of %s",
                    g->id.p, g->members[i]->id.p);
            return;
        }
        for (int32_t k = 0; k < n; k++) {
            sl_str_t t = sl_rd_str16(&r, false);
            if (r.err) {
                free_subs(g);
                return;
            }
            int j = 0;
            while (j < g->n_subs && !sl_str_eq(g->subs[j], t))
                j++;
            if (j < g->n_subs)
                continue;
            if (g->n_subs == cap) {
                cap = cap ? cap * 2 : 8;
                g->subs = sl_xrealloc(g->subs, sizeof(*g->subs) * (size_t)cap);
            }
            g->subs[g->n_subs++] = sl_gc__own(t);
        }
    }
    g->subs_known = true;
}

bool sl_gc__subscribed(const struct sl_group *g, sl_str_t topic)
{
    if (!g->subs_known)
        return g->protocol_type.len >= 0 && sl_str_eq_c(g->protocol_type, SL_GC_CONSUMER_PROTOCOL);
    for (int i = 0; i < g->n_subs; i++) {
        if (sl_str_eq(g->subs[i], topic))
            return true;
    }
    return false;
}

/* Kafka's initNextGeneration. */
static void init_next_generation(struct sl_group *g)
{
    g->generation++;
    sl_gc__free_str(&g->protocol_name);
    if (g->n_members > 0) {
        g->protocol_name = sl_gc__own(select_protocol(g));
        sl_gc__compute_subscriptions(g);
        sl_gc__transition(g, SL_GSTATE_COMPLETING_REBALANCE);
    } else {
        sl_gc__compute_subscriptions(g);
        sl_gc__transition(g, SL_GSTATE_EMPTY);
    }
    clear_pending_sync(g);
}

/* Kafka's completeClassicGroupJoin. */
static void complete_join(struct sl_group *g)
{
    struct sl_gcore *gc = g->gc;
    sl_gc__timer_stop(gc, &g->join_timer);
    g->join_kind = SL_GJOIN_NONE;
    /* Dynamic members that did not rejoin are out. */
    for (int i = 0; i < g->n_members;) {
        struct sl_gmember *m = g->members[i];
        if (!m->join_op && m->instance_id.len < 0) {
            SL_INFO("group", "group %s: removing member %s, which did not rejoin", g->id.p,
                    m->id.p);
            group_remove(g, m);
            continue;
        }
        i++;
    }
    if (g->state == SL_GSTATE_DEAD)
        return;
    if (!elect_joined_leader(g) && g->n_members > 0) {
        /* Nobody rejoined (only static members remain): wait another round
         * until their sessions expire. */
        SL_WARN("group", "group %s could not complete rebalance because no members rejoined",
                g->id.p);
        schedule_join(g, SL_GJOIN_REBALANCE, rebalance_timeout(g));
        return;
    }
    init_next_generation(g);
    if (g->state == SL_GSTATE_EMPTY) {
        SL_INFO("group", "group %s with generation %d is now empty", g->id.p, g->generation);
        (void)sl_gc__store_group(gc, g, NULL, NULL, NULL);
        return;
    }
    SL_INFO("group", "stabilized group %s generation %d (protocol %s) with %d members", g->id.p,
            g->generation, pr(g->protocol_name), g->n_members);
    for (int i = 0; i < g->n_members; i++) {
        struct sl_gmember *m = g->members[i];
        struct sl_gop *op = take_join_op(g, m);
        if (op)
            join_ok(gc, g, m, op, g->leader == m, false, leader_id(g));
        sl_gc__reschedule_heartbeat(m, m->session_timeout_ms);
        m->is_new = false;
        m->pending_sync = true;
        g->n_pending_sync++;
    }
    g->sync_generation = g->generation;
    sl_gc__timer_start(gc, &g->sync_timer, rebalance_timeout(g));
}

static void join_timer_cb(void *arg)
{
    struct sl_group *g = arg;
    struct sl_gcore *gc = g->gc;
    if (g->join_kind == SL_GJOIN_INITIAL && g->new_member_added && g->join_remaining_ms != 0) {
        /* New members keep arriving: wait a bit longer, within the
         * rebalance timeout (Kafka's tryCompleteInitialRebalanceElseSchedule). */
        g->new_member_added = false;
        int32_t delay = gc->env.initial_rebalance_delay_ms;
        int32_t next_delay = delay < g->join_remaining_ms ? delay : g->join_remaining_ms;
        int32_t next_remaining = g->join_remaining_ms - g->join_delay_ms;
        g->join_delay_ms = next_delay;
        g->join_remaining_ms = next_remaining > 0 ? next_remaining : 0;
        schedule_join(g, SL_GJOIN_INITIAL, next_delay);
        return;
    }
    complete_join(g);
}

/* Removes the members that never sent SyncGroup and rebalances. */
static void sync_timer_cb(void *arg)
{
    struct sl_group *g = arg;
    if (g->sync_generation != g->generation)
        return;
    if (g->state != SL_GSTATE_COMPLETING_REBALANCE && g->state != SL_GSTATE_STABLE)
        return;
    if (g->n_pending_sync == 0)
        return;
    for (int i = 0; i < g->n_members;) {
        struct sl_gmember *m = g->members[i];
        if (m->pending_sync) {
            SL_INFO("group", "group %s: removing member %s, which did not sync in time", g->id.p,
                    m->id.p);
            group_remove(g, m);
            continue;
        }
        i++;
    }
    prepare_rebalance(g, "removing members on pending sync request expiration");
}

/* Kafka's removeMemberAndUpdateClassicGroup. */
static void remove_member_and_update(struct sl_group *g, struct sl_gmember *m, const char *reason)
{
    group_remove(g, m);
    if (g->state == SL_GSTATE_STABLE || g->state == SL_GSTATE_COMPLETING_REBALANCE)
        maybe_prepare_rebalance_or_complete_join(g, reason);
    else if (g->state == SL_GSTATE_PREPARING_REBALANCE && all_members_joined(g))
        complete_join(g);
}

static void member_hb_cb(void *arg)
{
    struct sl_gmember *m = arg;
    struct sl_group *g = m->g;
    if (g->state == SL_GSTATE_DEAD)
        return;
    /* Members waiting for a rebalance answer satisfy the heartbeat, except
     * new ones (their join may be stuck: Kafka's new-member join timeout). */
    if (!m->is_new && (m->join_op || m->sync_op))
        return;
    SL_INFO("group", "group %s: member %s has failed (session timeout), removing it", g->id.p,
            m->id.p);
    remove_member_and_update(g, m, "member session expired");
}

static void pending_hb_cb(void *arg)
{
    struct sl_gpending *p = arg;
    struct sl_group *g = p->g;
    SL_INFO("group", "group %s: pending member %s expired", g->id.p, p->id.p);
    sl_strmap_del(&g->pending, p->id);
    pending_free(g->gc, p);
    if (g->state == SL_GSTATE_PREPARING_REBALANCE && all_members_joined(g))
        complete_join(g);
}

/* ---- JoinGroup ---- */

static struct sl_gmember *member_new(struct sl_group *g, sl_str_t id, const struct sl_gop *op,
                                     int32_t rebalance_timeout_ms)
{
    const struct JoinGroupRequest *rq = op->req;
    struct sl_gmember *m = sl_xcalloc(1, sizeof(*m));
    m->g = g;
    m->id = sl_gc__own(id);
    m->instance_id = sl_gc__own(rq->group_instance_id);
    m->client_id = sl_gc__own(op->client_id);
    m->client_host = sl_gc__own(op->client_host);
    m->rebalance_timeout_ms = rebalance_timeout_ms;
    m->session_timeout_ms = rq->session_timeout_ms;
    m->assignment = (sl_bytes_t){NULL, 0};
    set_protocols(m, rq);
    sl_timer_init(&m->hb, member_hb_cb, m);
    return m;
}

static int32_t join_rebalance_timeout(const struct JoinGroupRequest *rq)
{
    /* v0 has no rebalance timeout: Kafka uses the session timeout. */
    return rq->rebalance_timeout_ms > 0 ? rq->rebalance_timeout_ms : rq->session_timeout_ms;
}

static void add_member_then_rebalance(struct sl_group *g, struct sl_gop *op, sl_str_t member_id)
{
    struct sl_gcore *gc = g->gc;
    const struct JoinGroupRequest *rq = op->req;
    struct sl_gmember *m = member_new(g, member_id, op, join_rebalance_timeout(rq));
    m->is_new = true;
    if (g->state == SL_GSTATE_PREPARING_REBALANCE && g->prev_state == SL_GSTATE_EMPTY)
        g->new_member_added = true;
    group_add(g, m, op, rq->protocol_type);
    /* A new member cannot heartbeat until it has a generation, and its
     * socket is muted while the join is parked: bound the wait. */
    sl_gc__reschedule_heartbeat(m, gc->env.new_member_join_timeout_ms);
    SL_INFO("group", "group %s: adding member %s (instance %s, client %s)", g->id.p, m->id.p,
            pr(m->instance_id), pr(m->client_id));
    maybe_prepare_rebalance_or_complete_join(g, "adding a new member");
}

/* Replaces member m's parked join by op, answering a previous one (a client
 * retrying on another connection) so that it is never left hanging. */
static void update_member(struct sl_group *g, struct sl_gmember *m, const struct JoinGroupRequest *rq,
                          struct sl_gop *op)
{
    struct sl_gop *old = take_join_op(g, m);
    if (old)
        join_error(g->gc, old, SL_ERR_REBALANCE_IN_PROGRESS, m->id);
    set_protocols(m, rq);
    m->rebalance_timeout_ms = join_rebalance_timeout(rq);
    m->session_timeout_ms = rq->session_timeout_ms;
    set_join_op(g, m, op);
}

static void update_member_then_rebalance(struct sl_group *g, struct sl_gmember *m, struct sl_gop *op,
                                         const char *reason)
{
    update_member(g, m, op->req, op);
    maybe_prepare_rebalance_or_complete_join(g, reason);
}

/* Completion of the metadata write for a static member that rejoined a
 * Stable group under a new member id. */
struct static_rejoin {
    struct sl_gcore *gc;
    sl_str_t group_id, member_id, old_leader;
    int16_t version;
};

static void static_rejoin_done(void *arg, sl_err_t err)
{
    struct static_rejoin *sr = arg;
    struct sl_gcore *gc = sr->gc;
    struct sl_group *g = sl_gc__find(gc, sr->group_id);
    struct sl_gmember *m = g ? sl_strmap_get(&g->by_id, sr->member_id) : NULL;
    struct sl_gop *op = m ? take_join_op(g, m) : NULL;
    if (op) {
        if (err != SL_ERR_NONE) {
            /* Departure: Kafka reverts the member id; here the storage is
             * broken anyway (the log is in ERROR), so the member is told
             * to find the coordinator again. */
            join_error(gc, op, sl_gc__append_error(err), SL_STR_EMPTY);
        } else if (sr->version >= 9) {
            bool leader = g->leader == m;
            join_ok(gc, g, m, op, leader, leader, leader_id(g));
        } else {
            join_ok(gc, g, m, op, false, false, sr->old_leader);
        }
    }
    sl_gc__free_str(&sr->group_id);
    sl_gc__free_str(&sr->member_id);
    sl_gc__free_str(&sr->old_leader);
    free(sr);
}

/* Kafka's updateStaticMemberThenRebalanceOrCompleteJoin: the static member
 * `old` comes back (after a restart) with no member id. It takes a new id
 * and keeps its place and assignment; whoever still uses the old id is
 * fenced. */
static void static_member_rejoin(struct sl_group *g, struct sl_gmember *m, struct sl_gop *op,
                                 sl_str_t new_id)
{
    struct sl_gcore *gc = g->gc;
    sl_str_t old_leader = sl_gc__own(leader_id(g));
    /* Fence the old incarnation's parked requests. */
    struct sl_gop *old = take_join_op(g, m);
    if (old)
        join_error(gc, old, SL_ERR_FENCED_INSTANCE_ID, m->id);
    old = take_sync_op(g, m);
    if (old)
        sync_answer(gc, g, old, SL_ERR_FENCED_INSTANCE_ID, (sl_bytes_t){NULL, 0});
    SL_INFO("group", "group %s: static member %s rejoins in state %s; member id %.*s replaces %s",
            g->id.p, m->instance_id.p, sl_gstate_name(g->state), (int)new_id.len, new_id.p,
            m->id.p);
    sl_strmap_del(&g->by_id, m->id);
    sl_gc__free_str(&m->id);
    m->id = sl_gc__own(new_id);
    sl_strmap_put(&g->by_id, m->id, m);
    sl_strmap_put(&g->by_instance, m->instance_id, m);
    sl_gc__reschedule_heartbeat(m, m->session_timeout_ms);
    update_member(g, m, op->req, op);
    if (g->state == SL_GSTATE_STABLE) {
        sl_str_t selected = select_protocol(g);
        if (g->protocol_name.len >= 0 && sl_str_eq(g->protocol_name, selected)) {
            /* Nothing changes for the others: persist the new id, then
             * answer with the current generation. */
            struct static_rejoin *sr = sl_xcalloc(1, sizeof(*sr));
            sr->gc = gc;
            sr->group_id = sl_gc__own(g->id);
            sr->member_id = sl_gc__own(m->id);
            sr->old_leader = old_leader;
            sr->version = op->version;
            if (sl_gc__store_group(gc, g, NULL, static_rejoin_done, sr) != SL_ERR_NONE)
                static_rejoin_done(sr, SL_ERR_KAFKA_STORAGE_ERROR);
            return;
        }
        sl_gc__free_str(&old_leader);
        maybe_prepare_rebalance_or_complete_join(g, "static member rejoined with other protocols");
        return;
    }
    sl_gc__free_str(&old_leader);
    if (g->state == SL_GSTATE_COMPLETING_REBALANCE) {
        /* The leader may already be assigning to the old id. */
        prepare_rebalance(g, "static member rejoined during CompletingRebalance");
        return;
    }
    maybe_complete_join_phase(g);
}

static void join_new_member(struct sl_group *g, struct sl_gop *op)
{
    struct sl_gcore *gc = g->gc;
    const struct JoinGroupRequest *rq = op->req;
    if (g->state == SL_GSTATE_DEAD) {
        join_error(gc, op, SL_ERR_COORDINATOR_NOT_AVAILABLE, SL_STR_EMPTY);
        return;
    }
    if (!supports_protocols(g, rq)) {
        join_error(gc, op, SL_ERR_INCONSISTENT_GROUP_PROTOCOL, SL_STR_EMPTY);
        return;
    }
    bool is_static = rq->group_instance_id.len >= 0;
    sl_str_t new_id =
        generate_member_id(&op->mem, is_static ? rq->group_instance_id : op->client_id);
    if (is_static) {
        struct sl_gmember *existing = sl_strmap_get(&g->by_instance, rq->group_instance_id);
        if (existing)
            static_member_rejoin(g, existing, op, new_id);
        else
            add_member_then_rebalance(g, op, new_id);
        return;
    }
    if (op->version >= 4) {
        /* KIP-394: hand out the id and make the client come back with it,
         * so a retried first join cannot leave a ghost member behind. */
        struct sl_gpending *p = sl_xcalloc(1, sizeof(*p));
        p->g = g;
        p->id = sl_gc__own(new_id);
        sl_timer_init(&p->hb, pending_hb_cb, p);
        sl_strmap_put(&g->pending, p->id, p);
        sl_gc__timer_start(gc, &p->hb, rq->session_timeout_ms);
        join_error(gc, op, SL_ERR_MEMBER_ID_REQUIRED, new_id);
        return;
    }
    add_member_then_rebalance(g, op, new_id);
}

static void join_existing_member(struct sl_group *g, struct sl_gop *op)
{
    struct sl_gcore *gc = g->gc;
    const struct JoinGroupRequest *rq = op->req;
    sl_str_t member_id = rq->member_id;
    if (g->state == SL_GSTATE_DEAD) {
        join_error(gc, op, SL_ERR_COORDINATOR_NOT_AVAILABLE, member_id);
        return;
    }
    if (!supports_protocols(g, rq)) {
        join_error(gc, op, SL_ERR_INCONSISTENT_GROUP_PROTOCOL, member_id);
        return;
    }
    if (sl_strmap_get(&g->pending, member_id)) {
        if (rq->group_instance_id.len >= 0) {
            /* Kafka treats this as an internal error: pending ids are
             * handed out to dynamic members only. */
            join_error(gc, op, SL_ERR_UNKNOWN_SERVER_ERROR, member_id);
            return;
        }
        add_member_then_rebalance(g, op, member_id);
        return;
    }
    int16_t err = sl_gc__validate_member(g, member_id, rq->group_instance_id);
    if (err != SL_ERR_NONE) {
        join_error(gc, op, err, member_id);
        return;
    }
    struct sl_gmember *m = sl_strmap_get(&g->by_id, member_id);
    switch (g->state) {
    case SL_GSTATE_PREPARING_REBALANCE:
        update_member_then_rebalance(g, m, op, "member joining during PreparingRebalance");
        break;
    case SL_GSTATE_COMPLETING_REBALANCE:
        if (member_matches(m, rq)) {
            /* A retry of a join whose answer was lost: same generation. */
            join_ok(gc, g, m, op, g->leader == m, false, leader_id(g));
        } else {
            update_member_then_rebalance(g, m, op, "member metadata changed");
        }
        break;
    case SL_GSTATE_STABLE:
        if (g->leader == m) {
            /* The leader may rejoin to force a rebalance (topic changes). */
            update_member_then_rebalance(g, m, op, "leader rejoining");
        } else if (!member_matches(m, rq)) {
            update_member_then_rebalance(g, m, op, "member metadata changed");
        } else {
            join_ok(gc, g, m, op, false, false, leader_id(g));
        }
        break;
    default:
        join_error(gc, op, SL_ERR_UNKNOWN_MEMBER_ID, member_id);
        break;
    }
}

void sl_gc__join(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct JoinGroupRequest *rq = op->req;
    if (rq->group_id.len <= 0) {
        join_error(gc, op, SL_ERR_INVALID_GROUP_ID, rq->member_id);
        return;
    }
    if (rq->session_timeout_ms < gc->env.min_session_timeout_ms ||
        rq->session_timeout_ms > gc->env.max_session_timeout_ms) {
        join_error(gc, op, SL_ERR_INVALID_SESSION_TIMEOUT, rq->member_id);
        return;
    }
    bool unknown = rq->member_id.len <= 0;
    struct sl_group *g = sl_gc__find(gc, rq->group_id);
    bool created = false;
    if (!g) {
        if (!unknown) {
            join_error(gc, op, SL_ERR_UNKNOWN_MEMBER_ID, rq->member_id);
            return;
        }
        g = sl_gc__create(gc, rq->group_id);
        created = true;
    }
    if (unknown)
        join_new_member(g, op);
    else
        join_existing_member(g, op);
    /* A new group is made durable even before its first generation (Kafka
     * writes an empty GroupMetadata record). */
    if (created && !g->meta_value && g->state == SL_GSTATE_EMPTY)
        (void)sl_gc__store_group(gc, g, NULL, NULL, NULL);
}

/* ---- SyncGroup ---- */

/* Kafka's isProtocolInconsistent: both known and different. */
static bool inconsistent(sl_str_t req, sl_str_t group)
{
    return req.len >= 0 && group.len >= 0 && !sl_str_eq(req, group);
}

struct sync_persist {
    struct sl_gcore *gc;
    sl_str_t group_id;
    int32_t generation;
    int n;
    sl_str_t *member_ids;
    sl_bytes_t *assignments;
};

static void sync_persist_free(struct sync_persist *sp)
{
    for (int i = 0; i < sp->n; i++) {
        sl_gc__free_str(&sp->member_ids[i]);
        sl_gc__free_bytes(&sp->assignments[i]);
    }
    free(sp->member_ids);
    free(sp->assignments);
    sl_gc__free_str(&sp->group_id);
    free(sp);
}

/* The leader's assignment is durable (or failed to be). */
static void sync_persist_done(void *arg, sl_err_t err)
{
    struct sync_persist *sp = arg;
    struct sl_group *g = sl_gc__find(sp->gc, sp->group_id);
    /* Members may have joined or left meanwhile: apply only to the same
     * generation still completing its rebalance. */
    if (g && g->state == SL_GSTATE_COMPLETING_REBALANCE && g->generation == sp->generation) {
        if (err != SL_ERR_NONE) {
            reset_and_propagate_with_error(g, sl_gc__append_error(err));
            maybe_prepare_rebalance_or_complete_join(g, "error storing the group assignment");
        } else {
            for (int i = 0; i < g->n_members; i++) {
                struct sl_gmember *m = g->members[i];
                sl_gc__free_bytes(&m->assignment);
                for (int k = 0; k < sp->n; k++) {
                    if (sl_str_eq(sp->member_ids[k], m->id)) {
                        m->assignment = sp->assignments[k];
                        sp->assignments[k] = (sl_bytes_t){NULL, 0};
                        break;
                    }
                }
            }
            propagate_assignment(g, SL_ERR_NONE);
            sl_gc__transition(g, SL_GSTATE_STABLE);
        }
    }
    sync_persist_free(sp);
}

static void remove_pending_sync_member(struct sl_group *g, struct sl_gmember *m)
{
    if (m->pending_sync) {
        m->pending_sync = false;
        g->n_pending_sync--;
    }
    bool stop = g->state != SL_GSTATE_COMPLETING_REBALANCE && g->state != SL_GSTATE_STABLE;
    if (stop || g->n_pending_sync == 0)
        sl_gc__timer_stop(g->gc, &g->sync_timer);
}

void sl_gc__sync(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct SyncGroupRequest *rq = op->req;
    if (rq->group_id.len <= 0) {
        sync_answer(gc, NULL, op, SL_ERR_INVALID_GROUP_ID, (sl_bytes_t){NULL, 0});
        return;
    }
    struct sl_group *g = sl_gc__find(gc, rq->group_id);
    if (!g || g->state == SL_GSTATE_EMPTY) {
        sync_answer(gc, NULL, op, SL_ERR_UNKNOWN_MEMBER_ID, (sl_bytes_t){NULL, 0});
        return;
    }
    int16_t err = SL_ERR_NONE;
    if (g->state == SL_GSTATE_DEAD)
        err = SL_ERR_COORDINATOR_NOT_AVAILABLE;
    else if ((err = sl_gc__validate_member(g, rq->member_id, rq->group_instance_id)) != SL_ERR_NONE)
        ;
    else if (rq->generation_id != g->generation)
        err = SL_ERR_ILLEGAL_GENERATION;
    else if (inconsistent(rq->protocol_type, g->protocol_type) ||
             inconsistent(rq->protocol_name, g->protocol_name))
        err = SL_ERR_INCONSISTENT_GROUP_PROTOCOL;
    if (err != SL_ERR_NONE) {
        sync_answer(gc, NULL, op, err, (sl_bytes_t){NULL, 0});
        return;
    }
    struct sl_gmember *m = sl_strmap_get(&g->by_id, rq->member_id);
    if (g->state == SL_GSTATE_PREPARING_REBALANCE) {
        sync_answer(gc, NULL, op, SL_ERR_REBALANCE_IN_PROGRESS, (sl_bytes_t){NULL, 0});
        return;
    }
    if (g->state == SL_GSTATE_STABLE) {
        remove_pending_sync_member(g, m);
        sync_answer(gc, g, op, SL_ERR_NONE, m->assignment);
        return;
    }
    /* CompletingRebalance: wait for the leader's assignment. */
    struct sl_gop *old = take_sync_op(g, m);
    if (old)
        sync_answer(gc, NULL, old, SL_ERR_REBALANCE_IN_PROGRESS, (sl_bytes_t){NULL, 0});
    set_sync_op(g, m, op);
    remove_pending_sync_member(g, m);
    if (g->leader != m)
        return;
    SL_INFO("group", "group %s: assignment received from leader %s for generation %d (%d members)",
            g->id.p, m->id.p, g->generation, g->n_members);
    /* Members the leader left out get an empty assignment. */
    struct sync_persist *sp = sl_xcalloc(1, sizeof(*sp));
    sp->gc = gc;
    sp->group_id = sl_gc__own(g->id);
    sp->generation = g->generation;
    sp->n = g->n_members;
    sp->member_ids = sl_xcalloc((size_t)(sp->n ? sp->n : 1), sizeof(*sp->member_ids));
    sp->assignments = sl_xcalloc((size_t)(sp->n ? sp->n : 1), sizeof(*sp->assignments));
    int32_t na = rq->assignments.n > 0 ? rq->assignments.n : 0;
    for (int i = 0; i < g->n_members; i++) {
        sp->member_ids[i] = sl_gc__own(g->members[i]->id);
        sp->assignments[i] = (sl_bytes_t){NULL, 0};
        for (int32_t k = 0; k < na; k++) {
            if (sl_str_eq(rq->assignments.a[k].member_id, g->members[i]->id))
                sp->assignments[i] = sl_gc__own_bytes(rq->assignments.a[k].assignment);
        }
    }
    if (sl_gc__store_group(gc, g, sp->assignments, sync_persist_done, sp) != SL_ERR_NONE)
        sync_persist_done(sp, SL_ERR_KAFKA_STORAGE_ERROR);
}

/* ---- Heartbeat ---- */

void sl_gc__heartbeat(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct HeartbeatRequest *rq = op->req;
    if (rq->group_id.len <= 0) {
        heartbeat_answer(gc, op, SL_ERR_INVALID_GROUP_ID);
        return;
    }
    struct sl_group *g = sl_gc__find(gc, rq->group_id);
    if (!g) {
        heartbeat_answer(gc, op, SL_ERR_UNKNOWN_MEMBER_ID);
        return;
    }
    if (g->state == SL_GSTATE_DEAD) {
        heartbeat_answer(gc, op, SL_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    int16_t err = sl_gc__validate_member(g, rq->member_id, rq->group_instance_id);
    if (err == SL_ERR_NONE && rq->generation_id != g->generation)
        err = SL_ERR_ILLEGAL_GENERATION;
    if (err != SL_ERR_NONE) {
        heartbeat_answer(gc, op, err);
        return;
    }
    struct sl_gmember *m = sl_strmap_get(&g->by_id, rq->member_id);
    switch (g->state) {
    case SL_GSTATE_EMPTY:
        err = SL_ERR_UNKNOWN_MEMBER_ID;
        break;
    case SL_GSTATE_PREPARING_REBALANCE:
        sl_gc__reschedule_heartbeat(m, m->session_timeout_ms);
        err = SL_ERR_REBALANCE_IN_PROGRESS;
        break;
    default:
        /* Heartbeats may start right after the JoinGroup answer. */
        sl_gc__reschedule_heartbeat(m, m->session_timeout_ms);
        break;
    }
    heartbeat_answer(gc, op, err);
}

/* ---- LeaveGroup ---- */

static void remove_current_member(struct sl_group *g, struct sl_gmember *m)
{
    SL_INFO("group", "group %s: member %s left through LeaveGroup", g->id.p, m->id.p);
    group_remove(g, m);
}

void sl_gc__leave(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct LeaveGroupRequest *rq = op->req;
    struct LeaveGroupResponse *r = op->resp;
    int16_t top = SL_ERR_NONE;
    struct sl_group *g = NULL;
    if (rq->group_id.len <= 0)
        top = SL_ERR_INVALID_GROUP_ID;
    else if (!(g = sl_gc__find(gc, rq->group_id)))
        top = SL_ERR_UNKNOWN_MEMBER_ID;
    else if (g->state == SL_GSTATE_DEAD)
        top = SL_ERR_COORDINATOR_NOT_AVAILABLE;
    if (top != SL_ERR_NONE) {
        r->error_code = top;
        sl_gc__complete(gc, op);
        return;
    }
    /* v0-2 name one member; v3+ a batch (KIP-345). */
    struct LeaveGroupRequest_MemberIdentity one;
    const struct LeaveGroupRequest_MemberIdentity *ids = rq->members.a;
    int32_t n = rq->members.n > 0 ? rq->members.n : 0;
    if (op->version < 3) {
        one = (struct LeaveGroupRequest_MemberIdentity){rq->member_id, SL_STR_NULL, SL_STR_NULL};
        ids = &one;
        n = 1;
    }
    SL_GARR(&op->mem, r->members, n, sl_desc_LeaveGroupResponse_MemberResponse);
    bool any = false;
    for (int32_t i = 0; i < n; i++) {
        const struct LeaveGroupRequest_MemberIdentity *id = &ids[i];
        struct LeaveGroupResponse_MemberResponse *mr = &r->members.a[i];
        mr->member_id = id->member_id;
        mr->group_instance_id = id->group_instance_id;
        int16_t err = SL_ERR_NONE;
        if (id->member_id.len <= 0) {
            /* Administrative removal by instance id. */
            struct sl_gmember *m =
                id->group_instance_id.len >= 0 ? sl_strmap_get(&g->by_instance, id->group_instance_id)
                                               : NULL;
            if (m)
                remove_current_member(g, m);
            else
                err = SL_ERR_UNKNOWN_MEMBER_ID;
        } else {
            struct sl_gpending *p = sl_strmap_del(&g->pending, id->member_id);
            if (p) {
                pending_free(gc, p);
            } else if ((err = sl_gc__validate_member(g, id->member_id, id->group_instance_id)) ==
                       SL_ERR_NONE) {
                remove_current_member(g, sl_strmap_get(&g->by_id, id->member_id));
            }
        }
        mr->error_code = err;
        if (err == SL_ERR_NONE)
            any = true;
    }
    if (any) {
        if (g->state == SL_GSTATE_STABLE || g->state == SL_GSTATE_COMPLETING_REBALANCE)
            maybe_prepare_rebalance_or_complete_join(g, "members left through LeaveGroup");
        else if (g->state == SL_GSTATE_PREPARING_REBALANCE)
            maybe_complete_join_phase(g);
    }
    if (op->version < 3) {
        r->error_code = r->members.a[0].error_code;
        r->members.n = 0;
    }
    sl_gc__complete(gc, op);
}

/* ---- abandoned requests ---- */

void sl_gc__abandon(struct sl_gcore *gc, uint64_t id)
{
    struct sl_gop *op = sl_u64map_get(&gc->held, id);
    if (!op)
        return; /* already answered */
    struct sl_gmember *m = op->_member;
    struct sl_group *g = m->g;
    if (op == m->sync_op) {
        take_sync_op(g, m);
        sl_gc__complete(gc, op); /* nobody will read it */
        return;
    }
    if (op != m->join_op)
        return;
    if (m->instance_id.len >= 0) {
        /* A static member keeps its place until its session expires. */
        take_join_op(g, m);
        sl_gc__complete(gc, op);
        return;
    }
    SL_INFO("group", "group %s: member %s closed its connection during JoinGroup; removing it",
            g->id.p, m->id.p);
    group_remove(g, m);
    if (g->state == SL_GSTATE_STABLE || g->state == SL_GSTATE_COMPLETING_REBALANCE)
        maybe_prepare_rebalance_or_complete_join(g, "a joining member went away");
    else if (g->state == SL_GSTATE_PREPARING_REBALANCE)
        maybe_complete_join_phase(g);
}

/* ---- loaded members (replay) ---- */

struct sl_gmember *sl_gc__add_loaded_member(struct sl_group *g, const struct sl_grec_member *rm,
                                            sl_str_t protocol_type, sl_str_t protocol)
{
    struct sl_gmember *m = sl_xcalloc(1, sizeof(*m));
    m->g = g;
    m->id = sl_gc__own(rm->member_id);
    m->instance_id = sl_gc__own(rm->instance_id);
    m->client_id = sl_gc__own(rm->client_id);
    m->client_host = sl_gc__own(rm->client_host);
    m->session_timeout_ms = rm->session_timeout_ms;
    m->rebalance_timeout_ms =
        rm->rebalance_timeout_ms == -1 ? rm->session_timeout_ms : rm->rebalance_timeout_ms;
    m->protos = sl_xcalloc(1, sizeof(*m->protos));
    if (protocol.len >= 0) {
        m->n_protos = 1;
        m->protos[0].name = sl_gc__own(protocol);
        m->protos[0].meta = sl_gc__own_bytes(rm->subscription);
    }
    m->assignment = sl_gc__own_bytes(rm->assignment);
    sl_timer_init(&m->hb, member_hb_cb, m);
    group_add(g, m, NULL, protocol_type);
    return m;
}

/* ---- life ---- */

void sl_gcore_env_defaults(struct sl_gcore_env *env)
{
    env->initial_rebalance_delay_ms = 3000;
    env->min_session_timeout_ms = 6000;
    env->max_session_timeout_ms = 1800000;
    env->new_member_join_timeout_ms = 300000;
    env->offset_metadata_max_bytes = 4096;
    env->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    env->offsets_retention_check_ms = 600000;
    env->snapshot_min_records = 50000;
    env->snapshot_max_bytes = 64LL * 1024 * 1024;
}

static void expire_timer_cb(void *arg)
{
    struct sl_gcore *gc = arg;
    sl_gc__expire_offsets(gc);
    sl_gc__timer_start(gc, &gc->expire_timer, gc->env.offsets_retention_check_ms);
}

struct sl_gcore *sl_gcore_new(const struct sl_gcore_env *env, struct sl_gstore *st)
{
    struct sl_gcore *gc = sl_xcalloc(1, sizeof(*gc));
    gc->env = *env;
    gc->st = st;
    sl_strmap_init(&gc->groups);
    sl_u64map_init(&gc->held);
    sl_timer_init(&gc->expire_timer, expire_timer_cb, gc);
    sl_wbuf_init(&gc->kbuf);
    sl_wbuf_init(&gc->vbuf);
    return gc;
}

sl_err_t sl_gcore_load(struct sl_gcore *gc)
{
    sl_err_t rc = sl_gc__replay(gc);
    if (rc != SL_ERR_NONE)
        return rc;
    uint32_t it = 0;
    struct sl_group *g;
    int n_groups = 0, n_members = 0;
    while ((g = sl_strmap_next(&gc->groups, &it))) {
        n_groups++;
        sl_gc__compute_subscriptions(g);
        for (int i = 0; i < g->n_members; i++) {
            n_members++;
            sl_gc__reschedule_heartbeat(g->members[i], g->members[i]->session_timeout_ms);
        }
    }
    gc->loaded = true;
    sl_gc__timer_start(gc, &gc->expire_timer, gc->env.offsets_retention_check_ms);
    SL_INFO("group", "loaded %d groups (%d members) and %lld committed offsets", n_groups,
            n_members, (long long)gc->n_offsets);
    return SL_ERR_NONE;
}

void sl_gcore_submit(struct sl_gcore *gc, struct sl_gop *op)
{
    switch (op->kind) {
    case SL_GOP_JOIN:
        sl_gc__join(gc, op);
        break;
    case SL_GOP_SYNC:
        sl_gc__sync(gc, op);
        break;
    case SL_GOP_HEARTBEAT:
        sl_gc__heartbeat(gc, op);
        break;
    case SL_GOP_LEAVE:
        sl_gc__leave(gc, op);
        break;
    case SL_GOP_OFFSET_COMMIT:
        sl_gc__offset_commit(gc, op);
        break;
    case SL_GOP_OFFSET_FETCH:
        sl_gc__offset_fetch(gc, op);
        break;
    case SL_GOP_LIST:
        sl_gc__list_groups(gc, op);
        break;
    case SL_GOP_DESCRIBE:
        sl_gc__describe_groups(gc, op);
        break;
    case SL_GOP_DELETE:
        sl_gc__delete_groups(gc, op);
        break;
    case SL_GOP_OFFSET_DELETE:
        sl_gc__offset_delete(gc, op);
        break;
    case SL_GOP_ABANDON:
        sl_gc__abandon(gc, op->abandon_id);
        sl_gop_free(op);
        break;
    default:
        sl_gop_fail(op, SL_ERR_UNKNOWN_SERVER_ERROR);
        sl_gc__complete(gc, op);
        break;
    }
    sl_gc__maybe_snapshot(gc);
}

void sl_gcore_maintain(struct sl_gcore *gc)
{
    sl_gc__maybe_snapshot(gc);
}

void sl_gcore_unload(struct sl_gcore *gc)
{
    sl_gc__timer_stop(gc, &gc->expire_timer);
    struct sl_group *g;
    uint32_t it = 0;
    while ((g = sl_strmap_next(&gc->groups, &it))) {
        for (int i = 0; i < g->n_members; i++) {
            struct sl_gmember *m = g->members[i];
            struct sl_gop *op = take_join_op(g, m);
            if (op)
                join_error(gc, op, SL_ERR_NOT_COORDINATOR, m->id);
            op = take_sync_op(g, m);
            if (op)
                sync_answer(gc, NULL, op, SL_ERR_NOT_COORDINATOR, (sl_bytes_t){NULL, 0});
        }
    }
    /* Free in a second pass: destroying changes the map. */
    while (gc->groups.n > 0) {
        it = 0;
        g = sl_strmap_next(&gc->groups, &it);
        g->state = SL_GSTATE_DEAD;
        sl_gc__destroy(gc, g);
    }
    gc->loaded = false;
}

void sl_gcore_free(struct sl_gcore *gc)
{
    if (!gc)
        return;
    if (gc->groups.n > 0)
        sl_gcore_unload(gc);
    sl_strmap_destroy(&gc->groups);
    sl_u64map_destroy(&gc->held);
    sl_wbuf_destroy(&gc->kbuf);
    sl_wbuf_destroy(&gc->vbuf);
    free(gc);
}

bool sl_gcore_group_info(struct sl_gcore *gc, const char *group_id, enum sl_gstate *state,
                         int32_t *generation, int *n_members)
{
    struct sl_group *g = sl_gc__find(gc, sl_str_c(group_id));
    if (!g)
        return false;
    if (state)
        *state = g->state;
    if (generation)
        *generation = g->generation;
    if (n_members)
        *n_members = g->n_members;
    return true;
}

int sl_gcore_n_groups(struct sl_gcore *gc)
{
    return (int)gc->groups.n;
}

int64_t sl_gcore_n_offsets(struct sl_gcore *gc)
{
    return gc->n_offsets;
}
