/* SPDX-License-Identifier: Apache-2.0
 *
 * Committed offsets and the group admin APIs, on the coordinator thread:
 * OffsetCommit (generation and member checks, simple commits by groups
 * without members, offset.metadata.max.bytes), OffsetFetch (v0-7 one group,
 * v8+ several; a null topic list means every committed partition), the
 * administrative ListGroups, DescribeGroups, DeleteGroups and OffsetDelete,
 * and the expiry of offsets after offsets.retention.minutes (Kafka's
 * OffsetMetadataManager and the describe/list/delete parts of
 * GroupMetadataManager).
 *
 * Writes follow one rule: the in-memory state changes when the records are
 * appended (so memory always equals the log replayed up to its end, and a
 * snapshot taken at any moment is exact), and the client is answered once
 * the records are durable. A reader may thus see a commit a few
 * milliseconds before its fdatasync; if that fdatasync fails the log goes
 * to ERROR and the coordinator stops serving (docs/design/groups.md).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logging.h"
#include "core/mem.h"
#include "group/core_int.h"
#include "protocol/gen/delete_groups.h"
#include "protocol/gen/describe_groups.h"
#include "protocol/gen/list_groups.h"
#include "protocol/gen/offset_commit.h"
#include "protocol/gen/offset_delete.h"
#include "protocol/gen/offset_fetch.h"

/* Every operation Kafka allows on a GROUP resource (READ, DELETE,
 * DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS), as an authorized-operations
 * bitfield; without ACLs every one is allowed. */
#define GROUP_ALL_OPERATIONS ((1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11))

int16_t sl_gc__append_error(sl_err_t err)
{
    switch ((int)err) {
    case SL_ERR_NONE:
        return SL_ERR_NONE;
    case SL_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case SL_ERR_NOT_ENOUGH_REPLICAS:
    case SL_ERR_REQUEST_TIMED_OUT:
        return SL_ERR_COORDINATOR_NOT_AVAILABLE;
    case SL_ERR_NOT_LEADER_OR_FOLLOWER:
    case SL_ERR_KAFKA_STORAGE_ERROR:
        return SL_ERR_NOT_COORDINATOR;
    case SL_ERR_MESSAGE_TOO_LARGE:
    case SL_ERR_RECORD_LIST_TOO_LARGE:
    case SL_ERR_INVALID_FETCH_SIZE:
        return SL_ERR_UNKNOWN_SERVER_ERROR;
    default:
        return err > 0 ? (int16_t)err : SL_ERR_UNKNOWN_SERVER_ERROR;
    }
}

/* ---- the in-memory offsets of a group ---- */

static int part_search(const struct sl_gtopic *t, int32_t partition, bool *found)
{
    int lo = 0, hi = t->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (t->parts[mid].partition < partition)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < t->n && t->parts[lo].partition == partition;
    return lo;
}

struct sl_goffset *sl_gc__offset_get(struct sl_group *g, sl_str_t topic, int32_t partition)
{
    struct sl_gtopic *t = sl_strmap_get(&g->topics, topic);
    if (!t)
        return NULL;
    bool found;
    int i = part_search(t, partition, &found);
    return found ? &t->parts[i] : NULL;
}

void sl_gc__offset_put(struct sl_group *g, sl_str_t topic, int32_t partition, int64_t offset,
                       int32_t leader_epoch, sl_str_t metadata, int64_t commit_ts)
{
    struct sl_gtopic *t = sl_strmap_get(&g->topics, topic);
    if (!t) {
        t = sl_xcalloc(1, sizeof(*t));
        t->name = sl_gc__own(topic);
        sl_strmap_put(&g->topics, t->name, t);
    }
    bool found;
    int i = part_search(t, partition, &found);
    if (!found) {
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 4;
            t->parts = sl_xrealloc(t->parts, sizeof(*t->parts) * (size_t)t->cap);
        }
        memmove(&t->parts[i + 1], &t->parts[i], sizeof(*t->parts) * (size_t)(t->n - i));
        t->n++;
        t->parts[i] = (struct sl_goffset){.partition = partition, .metadata = SL_STR_NULL};
        g->n_offsets++;
        g->gc->n_offsets++;
    }
    struct sl_goffset *o = &t->parts[i];
    sl_gc__free_str(&o->metadata);
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->metadata = sl_gc__own(metadata.len < 0 ? SL_STR_EMPTY : metadata);
    o->commit_ts = commit_ts;
}

static void topic_free(struct sl_gtopic *t)
{
    for (int i = 0; i < t->n; i++)
        sl_gc__free_str(&t->parts[i].metadata);
    free(t->parts);
    sl_gc__free_str(&t->name);
    free(t);
}

bool sl_gc__offset_del(struct sl_group *g, sl_str_t topic, int32_t partition)
{
    struct sl_gtopic *t = sl_strmap_get(&g->topics, topic);
    if (!t)
        return false;
    bool found;
    int i = part_search(t, partition, &found);
    if (!found)
        return false;
    sl_gc__free_str(&t->parts[i].metadata);
    memmove(&t->parts[i], &t->parts[i + 1], sizeof(*t->parts) * (size_t)(t->n - i - 1));
    t->n--;
    g->n_offsets--;
    g->gc->n_offsets--;
    if (t->n == 0) {
        sl_strmap_del(&g->topics, t->name);
        topic_free(t);
    }
    return true;
}

void sl_gc__offsets_clear(struct sl_group *g)
{
    struct sl_gtopic *t;
    while (g->topics.n > 0) {
        uint32_t it = 0;
        t = sl_strmap_next(&g->topics, &it);
        sl_strmap_del(&g->topics, t->name);
        g->n_offsets -= t->n;
        g->gc->n_offsets -= t->n;
        topic_free(t);
    }
}

/* ---- OffsetCommit ---- */

/* Kafka's ClassicGroup.validateOffsetCommit (non-transactional). */
static int16_t validate_commit(struct sl_group *g, const struct OffsetCommitRequest *rq)
{
    if (g->state == SL_GSTATE_DEAD)
        return SL_ERR_COORDINATOR_NOT_AVAILABLE;
    int32_t gen = rq->generation_id_or_member_epoch;
    /* Admin clients and consumers without group management commit with
     * generation -1 into a group that has no members. */
    if (gen < 0 && g->state == SL_GSTATE_EMPTY)
        return SL_ERR_NONE;
    if (gen >= 0 || rq->member_id.len > 0 || rq->group_instance_id.len >= 0) {
        int16_t err = sl_gc__validate_member(g, rq->member_id, rq->group_instance_id);
        if (err != SL_ERR_NONE)
            return err;
        if (gen != g->generation)
            return SL_ERR_ILLEGAL_GENERATION;
    } else if (g->state != SL_GSTATE_EMPTY) {
        return SL_ERR_UNKNOWN_MEMBER_ID;
    }
    if (g->state == SL_GSTATE_COMPLETING_REBALANCE)
        return SL_ERR_REBALANCE_IN_PROGRESS;
    return SL_ERR_NONE;
}

/* Durability of a commit (or of an OffsetDelete / DeleteGroups write): the
 * partitions that were written take the append's error, if any. */
static void commit_done(void *arg, sl_err_t err)
{
    struct sl_gop *op = arg;
    struct sl_gcore *gc = op->_member; /* commits borrow _member for the core */
    op->_member = NULL;
    int16_t e = sl_gc__append_error(err);
    if (e != SL_ERR_NONE) {
        int32_t k = 0;
        if (op->kind == SL_GOP_OFFSET_COMMIT) {
            struct OffsetCommitResponse *r = op->resp;
            for (int32_t i = 0; i < r->topics.n; i++)
                for (int32_t j = 0; j < r->topics.a[i].partitions.n; j++, k++)
                    if (op->_written[k])
                        r->topics.a[i].partitions.a[j].error_code = e;
        } else if (op->kind == SL_GOP_OFFSET_DELETE) {
            ((struct OffsetDeleteResponse *)op->resp)->error_code = e;
            ((struct OffsetDeleteResponse *)op->resp)->topics.n = 0;
        } else if (op->kind == SL_GOP_DELETE) {
            struct DeleteGroupsResponse *r = op->resp;
            for (int32_t i = 0; i < r->results.n; i++)
                if (op->_written[i])
                    r->results.a[i].error_code = e;
        }
    }
    sl_gc__complete(gc, op);
}

/* Appends l's records for op and answers it once they are durable (at once
 * with the mapped error if the append fails). */
static void append_and_answer(struct sl_gcore *gc, struct sl_gop *op, struct sl_grec_list *l)
{
    sl_gc__recs_finish(l);
    op->_member = gc;
    if (sl_gc__append(gc, l->recs, l->n, commit_done, op) != SL_ERR_NONE)
        commit_done(op, SL_ERR_KAFKA_STORAGE_ERROR);
}

void sl_gc__offset_commit(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct OffsetCommitRequest *rq = op->req;
    int16_t err = SL_ERR_NONE;
    struct sl_group *g = NULL;
    if (rq->group_id.len <= 0) {
        err = SL_ERR_INVALID_GROUP_ID;
    } else if (!(g = sl_gc__find(gc, rq->group_id))) {
        if (rq->generation_id_or_member_epoch < 0)
            g = sl_gc__create(gc, rq->group_id); /* a "simple" group */
        else
            err = op->version >= 9 ? SL_ERR_GROUP_ID_NOT_FOUND : SL_ERR_ILLEGAL_GENERATION;
    } else {
        err = validate_commit(g, rq);
    }
    if (err != SL_ERR_NONE) {
        sl_gop_fail(op, err);
        sl_gc__complete(gc, op);
        return;
    }
    /* A commit keeps the member's session alive (classic protocol). */
    if (g->state == SL_GSTATE_STABLE || g->state == SL_GSTATE_PREPARING_REBALANCE) {
        struct sl_gmember *m = sl_strmap_get(&g->by_id, rq->member_id);
        if (m)
            sl_gc__reschedule_heartbeat(m, m->session_timeout_ms);
    }
    sl_gop_fail(op, SL_ERR_NONE); /* the response skeleton, with the handler's errors */
    struct OffsetCommitResponse *r = op->resp;
    int32_t total = 0;
    for (int32_t i = 0; i < r->topics.n; i++)
        total += r->topics.a[i].partitions.n;
    op->_written = sl_gmem_alloc(&op->mem, (size_t)(total > 0 ? total : 1));
    struct sl_grec_list l;
    sl_gc__recs_init(&l);
    int64_t now = sl_gc__now(gc);
    int32_t k = 0;
    for (int32_t i = 0; i < r->topics.n; i++) {
        const struct OffsetCommitRequest_OffsetCommitRequestTopic *t = &rq->topics.a[i];
        for (int32_t j = 0; j < r->topics.a[i].partitions.n; j++, k++) {
            struct OffsetCommitResponse_OffsetCommitResponsePartition *rp = &r->topics.a[i].partitions.a[j];
            if (rp->error_code != SL_ERR_NONE)
                continue;
            const struct OffsetCommitRequest_OffsetCommitRequestPartition *p = &t->partitions.a[j];
            if (p->committed_metadata.len > gc->env.offset_metadata_max_bytes) {
                rp->error_code = SL_ERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            struct sl_goffset o = {
                .partition = p->partition_index,
                .offset = p->committed_offset,
                .leader_epoch = p->committed_leader_epoch,
                .metadata = p->committed_metadata.len < 0 ? SL_STR_EMPTY : p->committed_metadata,
                .commit_ts = now,
            };
            sl_gc__recs_offset(&l, g->id, t->name, p->partition_index, &o);
            op->_written[k] = true;
        }
    }
    if (l.n == 0) {
        sl_gc__recs_free(&l);
        sl_gc__complete(gc, op);
        return;
    }
    sl_gc__recs_finish(&l);
    op->_member = gc;
    if (sl_gc__append(gc, l.recs, l.n, commit_done, op) != SL_ERR_NONE) {
        sl_gc__recs_free(&l);
        commit_done(op, SL_ERR_KAFKA_STORAGE_ERROR);
        return;
    }
    /* Appended: memory follows the log. */
    k = 0;
    for (int32_t i = 0; i < r->topics.n; i++) {
        const struct OffsetCommitRequest_OffsetCommitRequestTopic *t = &rq->topics.a[i];
        for (int32_t j = 0; j < r->topics.a[i].partitions.n; j++, k++) {
            if (!op->_written[k])
                continue;
            const struct OffsetCommitRequest_OffsetCommitRequestPartition *p = &t->partitions.a[j];
            sl_gc__offset_put(g, t->name, p->partition_index, p->committed_offset,
                              p->committed_leader_epoch, p->committed_metadata, now);
        }
    }
    sl_gc__recs_free(&l);
}

/* ---- OffsetFetch ---- */

struct fpart {
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    sl_str_t metadata;
};

struct ftopic {
    sl_str_t name;
    int32_t n;
    struct fpart *parts;
};

/* A requested topic, whatever the request version's struct. */
struct rtopic {
    sl_str_t name;
    int32_t n;
    const int32_t *parts;
};

/* Fills the offsets of one group into *out (in mem): the requested topics
 * (n_req >= 0) or every committed partition (n_req < 0). */
static int32_t fetch_group(struct sl_gcore *gc, struct sl_gmem *mem, sl_str_t group_id,
                           const struct rtopic *req, int32_t n_req, struct ftopic **out)
{
    struct sl_group *g = sl_gc__find(gc, group_id);
    if (g && g->state == SL_GSTATE_DEAD)
        g = NULL;
    if (n_req < 0) {
        int32_t nt = g ? (int32_t)g->topics.n : 0;
        struct ftopic *ts = sl_gmem_alloc(mem, sizeof(*ts) * (size_t)(nt ? nt : 1));
        uint32_t it = 0;
        struct sl_gtopic *t;
        int32_t i = 0;
        while (g && (t = sl_strmap_next(&g->topics, &it))) {
            ts[i].name = sl_gmem_str(mem, t->name);
            ts[i].n = t->n;
            ts[i].parts = sl_gmem_alloc(mem, sizeof(struct fpart) * (size_t)(t->n ? t->n : 1));
            for (int j = 0; j < t->n; j++) {
                const struct sl_goffset *o = &t->parts[j];
                ts[i].parts[j] = (struct fpart){o->partition, o->offset, o->leader_epoch,
                                                sl_gmem_str(mem, o->metadata)};
            }
            i++;
        }
        *out = ts;
        return i;
    }
    struct ftopic *ts = sl_gmem_alloc(mem, sizeof(*ts) * (size_t)(n_req ? n_req : 1));
    for (int32_t i = 0; i < n_req; i++) {
        ts[i].name = req[i].name;
        ts[i].n = req[i].n;
        ts[i].parts = sl_gmem_alloc(mem, sizeof(struct fpart) * (size_t)(req[i].n ? req[i].n : 1));
        for (int32_t j = 0; j < req[i].n; j++) {
            const struct sl_goffset *o = g ? sl_gc__offset_get(g, req[i].name, req[i].parts[j]) : NULL;
            if (o)
                ts[i].parts[j] = (struct fpart){o->partition, o->offset, o->leader_epoch,
                                                sl_gmem_str(mem, o->metadata)};
            else /* no committed offset: -1, as Kafka */
                ts[i].parts[j] = (struct fpart){req[i].parts[j], -1, -1, SL_STR_EMPTY};
        }
    }
    *out = ts;
    return n_req;
}

void sl_gc__offset_fetch(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct OffsetFetchRequest *rq = op->req;
    struct OffsetFetchResponse *r = op->resp;
    struct sl_gmem *mem = &op->mem;
    if (op->version < 8) {
        if (rq->group_id.len <= 0) {
            sl_gop_fail(op, SL_ERR_INVALID_GROUP_ID);
            sl_gc__complete(gc, op);
            return;
        }
        int32_t n_req = rq->topics.n; /* -1: all (v2+) */
        struct rtopic *req = sl_gmem_alloc(mem, sizeof(*req) * (size_t)(n_req > 0 ? n_req : 1));
        for (int32_t i = 0; i < n_req; i++) {
            req[i].name = rq->topics.a[i].name;
            req[i].n = rq->topics.a[i].partition_indexes.n > 0 ? rq->topics.a[i].partition_indexes.n : 0;
            req[i].parts = rq->topics.a[i].partition_indexes.a;
        }
        struct ftopic *ts;
        int32_t nt = fetch_group(gc, mem, rq->group_id, req, n_req, &ts);
        SL_GARR(mem, r->topics, nt, sl_desc_OffsetFetchResponse_OffsetFetchResponseTopic);
        for (int32_t i = 0; i < nt; i++) {
            r->topics.a[i].name = ts[i].name;
            SL_GARR(mem, r->topics.a[i].partitions, ts[i].n,
                    sl_desc_OffsetFetchResponse_OffsetFetchResponsePartition);
            for (int32_t j = 0; j < ts[i].n; j++) {
                struct OffsetFetchResponse_OffsetFetchResponsePartition *p = &r->topics.a[i].partitions.a[j];
                p->partition_index = ts[i].parts[j].partition;
                p->committed_offset = ts[i].parts[j].offset;
                p->committed_leader_epoch = ts[i].parts[j].leader_epoch;
                p->metadata = ts[i].parts[j].metadata;
                p->error_code = SL_ERR_NONE;
            }
        }
        r->error_code = SL_ERR_NONE;
        sl_gc__complete(gc, op);
        return;
    }
    int32_t ng = rq->groups.n > 0 ? rq->groups.n : 0;
    SL_GARR(mem, r->groups, ng, sl_desc_OffsetFetchResponse_OffsetFetchResponseGroup);
    for (int32_t gi = 0; gi < ng; gi++) {
        const struct OffsetFetchRequest_OffsetFetchRequestGroup *rg = &rq->groups.a[gi];
        struct OffsetFetchResponse_OffsetFetchResponseGroup *og = &r->groups.a[gi];
        og->group_id = rg->group_id;
        if (rg->group_id.len <= 0) {
            og->error_code = SL_ERR_INVALID_GROUP_ID;
            continue;
        }
        int32_t n_req = rg->topics.n;
        struct rtopic *req = sl_gmem_alloc(mem, sizeof(*req) * (size_t)(n_req > 0 ? n_req : 1));
        for (int32_t i = 0; i < n_req; i++) {
            req[i].name = rg->topics.a[i].name;
            req[i].n = rg->topics.a[i].partition_indexes.n > 0 ? rg->topics.a[i].partition_indexes.n : 0;
            req[i].parts = rg->topics.a[i].partition_indexes.a;
        }
        struct ftopic *ts;
        int32_t nt = fetch_group(gc, mem, rg->group_id, req, n_req, &ts);
        SL_GARR(mem, og->topics, nt, sl_desc_OffsetFetchResponse_OffsetFetchResponseTopics);
        for (int32_t i = 0; i < nt; i++) {
            og->topics.a[i].name = ts[i].name;
            SL_GARR(mem, og->topics.a[i].partitions, ts[i].n,
                    sl_desc_OffsetFetchResponse_OffsetFetchResponsePartitions);
            for (int32_t j = 0; j < ts[i].n; j++) {
                struct OffsetFetchResponse_OffsetFetchResponsePartitions *p = &og->topics.a[i].partitions.a[j];
                p->partition_index = ts[i].parts[j].partition;
                p->committed_offset = ts[i].parts[j].offset;
                p->committed_leader_epoch = ts[i].parts[j].leader_epoch;
                p->metadata = ts[i].parts[j].metadata;
                p->error_code = SL_ERR_NONE;
            }
        }
        og->error_code = SL_ERR_NONE;
    }
    sl_gc__complete(gc, op);
}

/* ---- OffsetDelete ---- */

void sl_gc__offset_delete(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct OffsetDeleteRequest *rq = op->req;
    struct OffsetDeleteResponse *r = op->resp;
    struct sl_gmem *mem = &op->mem;
    struct sl_group *g = NULL;
    int16_t err = SL_ERR_NONE;
    if (rq->group_id.len <= 0)
        err = SL_ERR_INVALID_GROUP_ID;
    else if (!(g = sl_gc__find(gc, rq->group_id)) || g->state == SL_GSTATE_DEAD)
        err = SL_ERR_GROUP_ID_NOT_FOUND;
    else if (g->state != SL_GSTATE_EMPTY &&
             (g->protocol_type.len < 0 || !sl_str_eq_c(g->protocol_type, SL_GC_CONSUMER_PROTOCOL)))
        err = SL_ERR_NON_EMPTY_GROUP; /* members whose subscriptions we cannot read */
    if (err != SL_ERR_NONE) {
        r->error_code = err;
        sl_gc__complete(gc, op);
        return;
    }
    int32_t nt = rq->topics.n > 0 ? rq->topics.n : 0;
    SL_GARR(mem, r->topics, nt, sl_desc_OffsetDeleteResponse_OffsetDeleteResponseTopic);
    struct sl_grec_list l;
    sl_gc__recs_init(&l);
    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++) {
        const struct OffsetDeleteRequest_OffsetDeleteRequestTopic *t = &rq->topics.a[i];
        struct OffsetDeleteResponse_OffsetDeleteResponseTopic *rt = &r->topics.a[i];
        rt->name = t->name;
        int32_t np = t->partitions.n > 0 ? t->partitions.n : 0;
        SL_GARR(mem, rt->partitions, np, sl_desc_OffsetDeleteResponse_OffsetDeleteResponsePartition);
        bool subscribed = sl_gc__subscribed(g, t->name);
        for (int32_t j = 0; j < np; j++, k++) {
            int32_t part = t->partitions.a[j].partition_index;
            rt->partitions.a[j].partition_index = part;
            int16_t pre = op->pre_err && k < op->n_pre ? op->pre_err[k] : 0;
            if (pre) {
                rt->partitions.a[j].error_code = pre;
                continue;
            }
            if (subscribed) {
                rt->partitions.a[j].error_code = SL_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
                continue;
            }
            rt->partitions.a[j].error_code = SL_ERR_NONE;
            if (sl_gc__offset_get(g, t->name, part)) {
                sl_gc__recs_offset(&l, g->id, t->name, part, NULL);
                sl_gc__offset_del(g, t->name, part);
            }
        }
    }
    r->error_code = SL_ERR_NONE;
    if (l.n == 0) {
        sl_gc__recs_free(&l);
        sl_gc__complete(gc, op);
        return;
    }
    append_and_answer(gc, op, &l);
    sl_gc__recs_free(&l);
}

/* ---- ListGroups ---- */

static bool ieq(sl_str_t a, const char *b)
{
    size_t n = strlen(b);
    if (a.len < 0 || (size_t)a.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)a.p[i]) != tolower((unsigned char)b[i]))
            return false;
    }
    return true;
}

void sl_gc__list_groups(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct ListGroupsRequest *rq = op->req;
    struct ListGroupsResponse *r = op->resp;
    struct sl_gmem *mem = &op->mem;
    int32_t ns = op->version >= 4 && rq->states_filter.n > 0 ? rq->states_filter.n : 0;
    int32_t nty = op->version >= 5 && rq->types_filter.n > 0 ? rq->types_filter.n : 0;
    bool classic_wanted = nty == 0;
    for (int32_t i = 0; i < nty; i++)
        classic_wanted |= ieq(rq->types_filter.a[i], "classic");
    struct sl_group **sel = sl_gmem_alloc(mem, sizeof(*sel) * (gc->groups.n ? gc->groups.n : 1));
    int32_t n = 0;
    uint32_t it = 0;
    struct sl_group *g;
    while (classic_wanted && (g = sl_strmap_next(&gc->groups, &it))) {
        if (g->state == SL_GSTATE_DEAD)
            continue;
        bool ok = ns == 0;
        for (int32_t i = 0; i < ns && !ok; i++)
            ok = ieq(rq->states_filter.a[i], sl_gstate_name(g->state));
        if (ok)
            sel[n++] = g;
    }
    SL_GARR(mem, r->groups, n, sl_desc_ListGroupsResponse_ListedGroup);
    for (int32_t i = 0; i < n; i++) {
        g = sel[i];
        r->groups.a[i].group_id = sl_gmem_str(mem, g->id);
        r->groups.a[i].protocol_type = sl_gmem_str(mem, g->protocol_type.len < 0 ? SL_STR_EMPTY
                                                                                 : g->protocol_type);
        r->groups.a[i].group_state = sl_gmem_cstr(mem, sl_gstate_name(g->state));
        r->groups.a[i].group_type = sl_gmem_cstr(mem, "classic");
    }
    r->error_code = SL_ERR_NONE;
    sl_gc__complete(gc, op);
}

/* ---- DescribeGroups ---- */

void sl_gc__describe_groups(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct DescribeGroupsRequest *rq = op->req;
    struct DescribeGroupsResponse *r = op->resp;
    struct sl_gmem *mem = &op->mem;
    int32_t n = rq->groups.n > 0 ? rq->groups.n : 0;
    SL_GARR(mem, r->groups, n, sl_desc_DescribeGroupsResponse_DescribedGroup);
    for (int32_t i = 0; i < n; i++) {
        struct DescribeGroupsResponse_DescribedGroup *d = &r->groups.a[i];
        sl_str_t id = rq->groups.a[i];
        d->group_id = id;
        d->protocol_type = SL_STR_EMPTY;
        d->protocol_data = SL_STR_EMPTY;
        if (op->version >= 3 && rq->include_authorized_operations)
            d->authorized_operations = GROUP_ALL_OPERATIONS;
        if (id.len <= 0) {
            d->error_code = SL_ERR_INVALID_GROUP_ID;
            d->group_state = SL_STR_EMPTY;
            continue;
        }
        struct sl_group *g = sl_gc__find(gc, id);
        if (!g || g->state == SL_GSTATE_DEAD) {
            d->group_state = sl_gmem_cstr(mem, "Dead");
            if (op->version >= 6) {
                d->error_code = SL_ERR_GROUP_ID_NOT_FOUND;
                char msg[300];
                snprintf(msg, sizeof(msg), "Group %.*s not found.", id.len > 200 ? 200 : (int)id.len,
                         id.p);
                d->error_message = sl_gmem_cstr(mem, msg);
            }
            continue;
        }
        bool stable = g->state == SL_GSTATE_STABLE;
        d->error_code = SL_ERR_NONE;
        d->group_state = sl_gmem_cstr(mem, sl_gstate_name(g->state));
        if (g->protocol_type.len >= 0)
            d->protocol_type = sl_gmem_str(mem, g->protocol_type);
        if (stable && g->protocol_name.len >= 0)
            d->protocol_data = sl_gmem_str(mem, g->protocol_name);
        SL_GARR(mem, d->members, g->n_members, sl_desc_DescribeGroupsResponse_DescribedGroupMember);
        for (int k = 0; k < g->n_members; k++) {
            const struct sl_gmember *m = g->members[k];
            struct DescribeGroupsResponse_DescribedGroupMember *dm = &d->members.a[k];
            dm->member_id = sl_gmem_str(mem, m->id);
            dm->group_instance_id = sl_gmem_str(mem, m->instance_id);
            dm->client_id = sl_gmem_str(mem, m->client_id);
            dm->client_host = sl_gmem_str(mem, m->client_host);
            if (stable) {
                sl_bytes_t meta = sl_gc__member_meta(m, g->protocol_name);
                dm->member_metadata = sl_gmem_bytes(mem, meta.p, meta.len);
                dm->member_assignment = sl_gmem_bytes(mem, m->assignment.p, m->assignment.len);
            }
        }
    }
    sl_gc__complete(gc, op);
}

/* ---- DeleteGroups ---- */

void sl_gc__delete_groups(struct sl_gcore *gc, struct sl_gop *op)
{
    const struct DeleteGroupsRequest *rq = op->req;
    struct DeleteGroupsResponse *r = op->resp;
    struct sl_gmem *mem = &op->mem;
    int32_t n = rq->groups_names.n > 0 ? rq->groups_names.n : 0;
    SL_GARR(mem, r->results, n, sl_desc_DeleteGroupsResponse_DeletableGroupResult);
    op->_written = sl_gmem_alloc(mem, (size_t)(n ? n : 1));
    struct sl_grec_list l;
    sl_gc__recs_init(&l);
    struct sl_group **victims = sl_gmem_alloc(mem, sizeof(*victims) * (size_t)(n ? n : 1));
    int nv = 0;
    for (int32_t i = 0; i < n; i++) {
        sl_str_t id = rq->groups_names.a[i];
        r->results.a[i].group_id = id;
        struct sl_group *g = NULL;
        int16_t err = op->pre_err && i < op->n_pre ? op->pre_err[i] : SL_ERR_NONE;
        if (err != SL_ERR_NONE)
            ; /* decided by the handler (GROUP_AUTHORIZATION_FAILED) */
        else if (id.len <= 0)
            err = SL_ERR_INVALID_GROUP_ID;
        else if (!(g = sl_gc__find(gc, id)) || g->state == SL_GSTATE_DEAD)
            err = SL_ERR_GROUP_ID_NOT_FOUND;
        else if (g->state != SL_GSTATE_EMPTY)
            err = SL_ERR_NON_EMPTY_GROUP;
        r->results.a[i].error_code = err;
        if (err != SL_ERR_NONE)
            continue;
        /* Every offset, then the group itself. */
        uint32_t it = 0;
        struct sl_gtopic *t;
        while ((t = sl_strmap_next(&g->topics, &it)))
            for (int k = 0; k < t->n; k++)
                sl_gc__recs_offset(&l, g->id, t->name, t->parts[k].partition, NULL);
        sl_gc__recs_group_tombstone(&l, g->id);
        op->_written[i] = true;
        g->state = SL_GSTATE_DEAD; /* a duplicate name later in the request finds it dead */
        victims[nv++] = g;
    }
    for (int i = 0; i < nv; i++) {
        SL_INFO("group", "deleting group %s", victims[i]->id.p);
        sl_gc__destroy(gc, victims[i]);
    }
    if (l.n == 0) {
        sl_gc__recs_free(&l);
        sl_gc__complete(gc, op);
        return;
    }
    append_and_answer(gc, op, &l);
    sl_gc__recs_free(&l);
}

/* ---- retention ---- */

/* Kafka's offset expiration (OffsetExpirationCondition): the base time of
 * an offset is the time the group became Empty for a consumer group
 * without members, its commit time for a group that never had a protocol
 * (a "simple" group) or for topics a Stable consumer group no longer
 * subscribes to. Others never expire. */
static bool expiry_base(const struct sl_group *g, const struct sl_gtopic *t,
                        const struct sl_goffset *o, int64_t *base)
{
    if (g->protocol_type.len < 0) {
        *base = o->commit_ts;
        return true;
    }
    if (g->state == SL_GSTATE_EMPTY) {
        *base = g->state_ts >= 0 ? g->state_ts : o->commit_ts;
        return true;
    }
    if (g->state == SL_GSTATE_STABLE && g->subs_known &&
        sl_str_eq_c(g->protocol_type, SL_GC_CONSUMER_PROTOCOL) && !sl_gc__subscribed(g, t->name)) {
        *base = o->commit_ts;
        return true;
    }
    return false;
}

void sl_gc__expire_offsets(struct sl_gcore *gc)
{
    int64_t now = sl_gc__now(gc);
    int64_t ret = gc->env.offsets_retention_ms;
    struct sl_grec_list l;
    sl_gc__recs_init(&l);
    /* Collect first (expiring changes the maps), then apply. */
    struct exp { struct sl_group *g; sl_str_t topic; int32_t partition; } *ex = NULL;
    size_t nex = 0, cap = 0;
    struct sl_group **dead = NULL;
    size_t ndead = 0, dcap = 0;
    uint32_t it = 0;
    struct sl_group *g;
    while ((g = sl_strmap_next(&gc->groups, &it))) {
        if (g->state == SL_GSTATE_DEAD)
            continue;
        int32_t left = g->n_offsets;
        uint32_t ti = 0;
        struct sl_gtopic *t;
        while ((t = sl_strmap_next(&g->topics, &ti))) {
            for (int k = 0; k < t->n; k++) {
                int64_t base;
                if (!expiry_base(g, t, &t->parts[k], &base) || now - base < ret)
                    continue;
                if (nex == cap) {
                    cap = cap ? cap * 2 : 64;
                    ex = sl_xrealloc(ex, sizeof(*ex) * cap);
                }
                ex[nex++] = (struct exp){g, sl_gc__own(t->name), t->parts[k].partition};
                sl_gc__recs_offset(&l, g->id, t->name, t->parts[k].partition, NULL);
                left--;
            }
        }
        /* An Empty group whose offsets are all gone goes too. */
        if (left == 0 && g->state == SL_GSTATE_EMPTY && g->pending.n == 0) {
            if (ndead == dcap) {
                dcap = dcap ? dcap * 2 : 16;
                dead = sl_xrealloc(dead, sizeof(*dead) * dcap);
            }
            dead[ndead++] = g;
            sl_gc__recs_group_tombstone(&l, g->id);
        }
    }
    if (l.n > 0) {
        sl_gc__recs_finish(&l);
        if (sl_gc__append(gc, l.recs, l.n, NULL, NULL) == SL_ERR_NONE) {
            for (size_t i = 0; i < nex; i++)
                sl_gc__offset_del(ex[i].g, ex[i].topic, ex[i].partition);
            for (size_t i = 0; i < ndead; i++) {
                SL_INFO("group", "group %s expired (empty, no offsets left)", dead[i]->id.p);
                sl_gc__destroy(gc, dead[i]);
            }
            if (nex)
                SL_INFO("group", "expired %zu committed offsets", nex);
        }
    }
    for (size_t i = 0; i < nex; i++)
        sl_gc__free_str(&ex[i].topic); /* own copies: a topic's last delete frees its name */
    free(ex);
    free(dead);
    sl_gc__recs_free(&l);
}
