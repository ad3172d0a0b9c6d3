/* SPDX-License-Identifier: Apache-2.0
 *
 * Committed offsets: OffsetCommit (key 8, v2-9), OffsetFetch (9, v1-9;
 * several groups per request from v8) and OffsetDelete (47, v0). The group
 * coordinator thread decides and stores (src/group/offsets.c); this file
 * adds what needs the topic registry: as Kafka, a commit for a topic or
 * partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION for that
 * partition, and the rest of the request goes on. An OffsetCommit is
 * answered once its records are durable (fdatasync by the group-commit
 * flusher), like Produce with acks=all.
 *
 * Authorization (PROTOCOL.md §5.2, §5.3): OffsetCommit READ on the group
 * (30 on every partition), then READ on each topic (29 for its
 * partitions, before its existence is looked at); OffsetDelete DELETE on
 * the group, then READ on each topic; OffsetFetch DESCRIBE on each group
 * (30 for the group) and DESCRIBE on each topic: 29 for partitions asked
 * for by name, and topics left out silently when all were asked for.
 */
#include <string.h>

#include "api/api.h"
#include "api/audit_change.h"
#include "api/util.h"
#include "group/coordinator.h"
#include "protocol/dispatch.h"
#include "protocol/gen/offset_commit.h"
#include "protocol/gen/offset_delete.h"
#include "protocol/gen/offset_fetch.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "server/registry.h"
#include "sluice/err.h"

/* Sets total to the number of partitions of a request's topics array (a
 * macro: OffsetCommit and OffsetDelete topics are different structs). */
#define COUNT_PARTITIONS(topics, total)                                                            \
    do {                                                                                           \
        (total) = 0;                                                                               \
        for (int32_t i_ = 0; i_ < (topics).n; i_++)                                                \
            (total) += (topics).a[i_].partitions.n > 0 ? (topics).a[i_].partitions.n : 0;          \
    } while (0)

/* op's per-partition errors decided here (op->pre_err), one per partition of
 * the request in order; the allocation is zeroed (SL_ERR_NONE). */
static void alloc_pre_err(struct sl_gop *op, int32_t total)
{
    op->n_pre = total;
    op->pre_err = sl_gmem_alloc(&op->mem, sizeof(*op->pre_err) * (size_t)(total > 0 ? total : 1));
}

/* ---- audit: offsets reset or deleted ----
 *
 * A reset is an OffsetCommit made outside a group generation (generation
 * -1 and no member id, v1+): what Admin.alterConsumerGroupOffsets sends
 * (kafka-consumer-groups --reset-offsets --execute), which Kafka accepts
 * only while the group has no members. A consumer that commits without
 * joining a group (assign() and commit) sends the same and is recorded the
 * same way: the broker cannot tell them apart, and either one moves a
 * group's position by hand. Commits of group members are not recorded.
 *
 * One record per topic of the request, resource the group, detail the
 * topic and each partition's offset and error code. */

struct offsets_audit {
    sl_str_t group;   /* arena copy: the request frame is gone by then */
    const char *type; /* "offsets.reset" / "offsets.delete" */
    int op;
};

struct offsets_detail {
    sl_str_t topic;
    const int64_t *offsets; /* NULL for a deletion */
    const int32_t *parts;
    const int16_t *errs;
    int32_t n;
};

static void offsets_detail(struct sl_aj *j, const void *arg)
{
    const struct offsets_detail *d = arg;
    sl_aj_kstr(j, "topic", d->topic.p ? d->topic.p : "", (size_t)(d->topic.len > 0 ? d->topic.len : 0));
    sl_aj_key(j, "partitions");
    sl_aj_arr_begin(j);
    for (int32_t i = 0; i < d->n; i++) {
        sl_aj_obj_begin(j);
        sl_aj_ki64(j, "partition", d->parts[i]);
        if (d->offsets)
            sl_aj_ki64(j, "offset", d->offsets[i]);
        sl_aj_ki64(j, "error_code", d->errs[i]);
        sl_aj_obj_end(j);
    }
    sl_aj_arr_end(j);
}

/* One record per topic of the answer; a partition whose record cannot be
 * written is answered with the refusal. */
#define AUDIT_OFFSETS(req, oa, topics, offsets_of)                                                 \
    do {                                                                                           \
        for (int32_t i_ = 0; i_ < (topics).n; i_++) {                                              \
            int32_t n_ = (topics).a[i_].partitions.n > 0 ? (topics).a[i_].partitions.n : 0;        \
            int32_t *parts_ = sl_arena_alloc(&(req)->arena, sizeof(int32_t) * (size_t)(n_ + 1));   \
            int16_t *errs_ = sl_arena_alloc(&(req)->arena, sizeof(int16_t) * (size_t)(n_ + 1));    \
            int64_t *offs_ = sl_arena_alloc(&(req)->arena, sizeof(int64_t) * (size_t)(n_ + 1));    \
            int16_t first_ = 0;                                                                    \
            for (int32_t j_ = 0; j_ < n_; j_++) {                                                  \
                parts_[j_] = (topics).a[i_].partitions.a[j_].partition_index;                      \
                errs_[j_] = (topics).a[i_].partitions.a[j_].error_code;                            \
                offs_[j_] = offsets_of(req, i_, j_);                                               \
                if (!first_)                                                                       \
                    first_ = errs_[j_];                                                            \
            }                                                                                      \
            struct offsets_detail d_ = {(topics).a[i_].name,                                       \
                                        strcmp((oa)->type, "offsets.reset") == 0 ? offs_ : NULL,   \
                                        parts_, errs_, n_};                                        \
            struct sl_audit_change ch_ = {.type = (oa)->type, .res_type = SL_ACL_RES_GROUP,        \
                                          SL_API_AUDIT_NAME((oa)->group),                          \
                                          .pattern = SL_ACL_PAT_LITERAL, .op = (oa)->op,           \
                                          .detail = offsets_detail, .detail_arg = &d_,             \
                                          .error = first_};                                        \
            if (sl_api_audit_change(req, &ch_) != first_) {                                        \
                for (int32_t j_ = 0; j_ < n_; j_++)                                                \
                    (topics).a[i_].partitions.a[j_].error_code = sl_api_audit_refusal(req);        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* The offset the request committed for partition j of topic i (-1 when the
 * answer does not line up with the request). */
static int64_t committed_offset(struct sl_req *req, int32_t i, int32_t j)
{
    struct OffsetCommitRequest *body = req->body;
    if (i >= body->topics.n || j >= body->topics.a[i].partitions.n)
        return -1;
    return body->topics.a[i].partitions.a[j].committed_offset;
}

static int64_t no_offset(struct sl_req *req, int32_t i, int32_t j)
{
    (void)req, (void)i, (void)j;
    return -1;
}

static void commit_post(struct sl_req *req, void *arg)
{
    struct OffsetCommitResponse *r = req->resp;
    AUDIT_OFFSETS(req, (const struct offsets_audit *)arg, r->topics, committed_offset);
}

static void delete_post(struct sl_req *req, void *arg)
{
    struct OffsetDeleteResponse *r = req->resp;
    const struct offsets_audit *oa = arg;
    if (r->error_code != SL_ERR_NONE) {
        /* The whole request failed (the group is in use, ...). */
        struct sl_audit_change ch = {.type = oa->type, .res_type = SL_ACL_RES_GROUP,
                                     SL_API_AUDIT_NAME(oa->group), .pattern = SL_ACL_PAT_LITERAL,
                                     .op = oa->op, .error = r->error_code};
        int16_t err = sl_api_audit_change(req, &ch);
        if (err != r->error_code)
            r->error_code = err;
        return;
    }
    AUDIT_OFFSETS(req, oa, r->topics, no_offset);
}

static struct offsets_audit *offsets_audit(struct sl_req *req, sl_str_t group, const char *type,
                                           int op)
{
    struct offsets_audit *oa = sl_arena_alloc(&req->arena, sizeof *oa);
    oa->group = sl_api_str_dup(req, group);
    oa->type = type;
    oa->op = op;
    return oa;
}

int sl_api_offset_commit(struct sl_req *req)
{
    struct OffsetCommitRequest *body = req->body;
    struct sl_gop *op = sl_group_op_new(req, SL_GOP_OFFSET_COMMIT);
    if (!sl_authz(req, SL_ACL_OP_READ, SL_ACL_RES_GROUP, body->group_id)) {
        op->fail_err = SL_ERR_GROUP_AUTHORIZATION_FAILED;
        return sl_group_op_submit(req, op);
    }
    bool reset = body->generation_id_or_member_epoch == -1 && body->member_id.len <= 0 &&
                 sl_audit_enabled();
    bool refuse = reset && !sl_api_audit_ready(req);
    int32_t total;
    COUNT_PARTITIONS(body->topics, total);
    alloc_pre_err(op, total);
    int32_t k = 0;
    for (int32_t i = 0; i < body->topics.n; i++) {
        struct OffsetCommitRequest_OffsetCommitRequestTopic *t = &body->topics.a[i];
        bool denied = !sl_authz(req, SL_ACL_OP_READ, SL_ACL_RES_TOPIC, t->name);
        struct sl_topic *topic = denied ? NULL : sl_registry_get(req->broker, t->name);
        for (int32_t j = 0; j < t->partitions.n; j++, k++) {
            int32_t p = t->partitions.a[j].partition_index;
            if (denied)
                op->pre_err[k] = SL_ERR_TOPIC_AUTHORIZATION_FAILED;
            else if (!topic || p < 0 || p >= topic->n_parts)
                op->pre_err[k] = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else if (refuse)
                op->pre_err[k] = sl_api_audit_refusal(req);
        }
        sl_topic_unref(topic);
    }
    if (reset && !refuse)
        return sl_group_op_submit_then(
            req, op, commit_post,
            offsets_audit(req, body->group_id, "offsets.reset", SL_ACL_OP_READ));
    return sl_group_op_submit(req, op);
}

/* The topics of one group's answer the principal may not describe: 29 on
 * each partition when they were asked for by name, left out when all were
 * asked for. Partition structs of both shapes (v0-7 and v8+) start with the
 * same members, so one function serves both through these accessors. */
#define FILTER_TOPICS(req, topics, all)                                                            \
    do {                                                                                           \
        int32_t k_ = 0;                                                                            \
        for (int32_t i_ = 0; i_ < (topics).n; i_++) {                                              \
            if (sl_authz_quiet(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_TOPIC, (topics).a[i_].name)) {  \
                (topics).a[k_++] = (topics).a[i_];                                                 \
                continue;                                                                          \
            }                                                                                      \
            if (all)                                                                               \
                continue;                                                                          \
            for (int32_t j_ = 0; j_ < (topics).a[i_].partitions.n; j_++) {                         \
                (topics).a[i_].partitions.a[j_].committed_offset = -1;                             \
                (topics).a[i_].partitions.a[j_].committed_leader_epoch = -1;                       \
                (topics).a[i_].partitions.a[j_].metadata = SL_STR_EMPTY;                           \
                (topics).a[i_].partitions.a[j_].error_code = SL_ERR_TOPIC_AUTHORIZATION_FAILED;    \
            }                                                                                      \
            (topics).a[k_++] = (topics).a[i_];                                                     \
        }                                                                                          \
        if ((topics).n > 0)                                                                        \
            (topics).n = k_;                                                                       \
    } while (0)

/* arg: v0-7, (void *)1 when all topics were asked for; v8+, a bool per
 * group in request order (in the request's arena). */
static void fetch_post(struct sl_req *req, void *arg)
{
    struct OffsetFetchResponse *r = req->resp;
    if (req->hdr.api_version < 8) {
        if (r->error_code == SL_ERR_NONE)
            FILTER_TOPICS(req, r->topics, arg != NULL);
        return;
    }
    const bool *all = arg;
    for (int32_t g = 0; g < r->groups.n; g++) {
        struct OffsetFetchResponse_OffsetFetchResponseGroup *rg = &r->groups.a[g];
        if (!sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_GROUP, rg->group_id)) {
            rg->error_code = SL_ERR_GROUP_AUTHORIZATION_FAILED;
            rg->topics.n = 0;
            continue;
        }
        if (rg->error_code == SL_ERR_NONE)
            FILTER_TOPICS(req, rg->topics, all && all[g]);
    }
}

int sl_api_offset_fetch(struct sl_req *req)
{
    struct OffsetFetchRequest *body = req->body;
    struct sl_gop *op = sl_group_op_new(req, SL_GOP_OFFSET_FETCH);
    if (req->hdr.api_version < 8) {
        if (!sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_GROUP, body->group_id))
            op->fail_err = SL_ERR_GROUP_AUTHORIZATION_FAILED;
        return sl_group_op_submit_then(req, op, fetch_post, body->topics.n < 0 ? (void *)1 : NULL);
    }
    int32_t n = body->groups.n > 0 ? body->groups.n : 0;
    bool *all = sl_arena_alloc(&req->arena, (size_t)(n > 0 ? n : 1));
    for (int32_t g = 0; g < n; g++)
        all[g] = body->groups.a[g].topics.n < 0;
    return sl_group_op_submit_then(req, op, fetch_post, all);
}

int sl_api_offset_delete(struct sl_req *req)
{
    struct OffsetDeleteRequest *body = req->body;
    struct sl_gop *op = sl_group_op_new(req, SL_GOP_OFFSET_DELETE);
    if (!sl_authz(req, SL_ACL_OP_DELETE, SL_ACL_RES_GROUP, body->group_id)) {
        op->fail_err = SL_ERR_GROUP_AUTHORIZATION_FAILED;
        return sl_group_op_submit(req, op);
    }
    bool refuse = !sl_api_audit_ready(req);
    int32_t total;
    COUNT_PARTITIONS(body->topics, total);
    alloc_pre_err(op, total);
    int32_t k = 0;
    for (int32_t i = 0; i < body->topics.n; i++) {
        struct OffsetDeleteRequest_OffsetDeleteRequestTopic *t = &body->topics.a[i];
        bool denied = !sl_authz(req, SL_ACL_OP_READ, SL_ACL_RES_TOPIC, t->name);
        for (int32_t j = 0; j < t->partitions.n; j++, k++)
            op->pre_err[k] = denied ? SL_ERR_TOPIC_AUTHORIZATION_FAILED
                             : refuse ? sl_api_audit_refusal(req)
                                      : SL_ERR_NONE;
    }
    if (refuse || !sl_audit_enabled())
        return sl_group_op_submit(req, op);
    return sl_group_op_submit_then(
        req, op, delete_post,
        offsets_audit(req, body->group_id, "offsets.delete", SL_ACL_OP_DELETE));
}
