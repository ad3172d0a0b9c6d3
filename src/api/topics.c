/* SPDX-License-Identifier: Apache-2.0
 *
 * Topic administration: CreateTopics (key 19, v2–7), DeleteTopics (20,
 * v1–6), CreatePartitions (37, v0–3) and DeleteRecords (21, v0–2). On this
 * single node the replication factor can only be 1 (or -1, the default)
 * and a manual assignment may only name this broker. Errors and messages
 * follow Kafka's (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR,
 * INVALID_PARTITIONS, INVALID_CONFIG, duplicates in one request
 * INVALID_REQUEST, TOPIC_DELETION_DISABLED from DeleteTopics v3).
 *
 * Authorization (PROTOCOL.md §5.2, §5.3): CreateTopics needs CREATE on the
 * cluster or the topic (DESCRIBE is not checked; DESCRIBE_CONFIGS decides
 * whether the configs come back); DeleteTopics DELETE on the cluster, or
 * DESCRIBE (else 29, existence hidden) and DELETE on the topic;
 * CreatePartitions ALTER; DeleteRecords DELETE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_change.h"
#include "api/util.h"
#include "config/topic_config.h"
#include "protocol/dispatch.h"
#include "protocol/gen/create_partitions.h"
#include "protocol/gen/create_topics.h"
#include "protocol/gen/delete_records.h"
#include "protocol/gen/delete_topics.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "server/registry.h"
#include "sluice/err.h"
#include "storage/log.h"

#define SET_ERR(r, code, ...)                                                                      \
    do {                                                                                           \
        (r)->error_code = (int16_t)(code);                                                         \
        (r)->error_message = sl_api_str(req, msgbuf_fmt(msgbuf, sizeof(msgbuf), __VA_ARGS__));     \
    } while (0)

static const char *msgbuf_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *msgbuf_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return buf;
}

/* True if element i of an array of request structs (each with a `name`
 * string at name_off) shares its name with another element. */
static bool duplicate_name(const void *base, size_t stride, size_t name_off, int32_t n, int32_t i)
{
    const uint8_t *p = base;
    const sl_str_t *mine = (const sl_str_t *)(p + stride * (size_t)i + name_off);
    for (int32_t j = 0; j < n; j++) {
        if (j != i && sl_str_eq(*mine, *(const sl_str_t *)(p + stride * (size_t)j + name_off)))
            return true;
    }
    return false;
}

/* True if an element before i has the same name (Kafka answers each
 * duplicated name once). */
static bool repeats_earlier(const void *base, size_t stride, size_t name_off, int32_t i)
{
    const uint8_t *p = base;
    const sl_str_t *mine = (const sl_str_t *)(p + stride * (size_t)i + name_off);
    for (int32_t j = 0; j < i; j++) {
        if (sl_str_eq(*mine, *(const sl_str_t *)(p + stride * (size_t)j + name_off)))
            return true;
    }
    return false;
}

#define REPEATS_EARLIER(arr, i)                                                                    \
    repeats_earlier((arr).a, sizeof(*(arr).a), offsetof(__typeof__(*(arr).a), name), (i))

#define DUPLICATE_NAME(arr, i)                                                                     \
    duplicate_name((arr).a, sizeof(*(arr).a), offsetof(__typeof__(*(arr).a), name), (arr).n, (i))

struct cfg_collect {
    struct sl_req *req;
    struct CreateTopicsResponse_CreatableTopicResult *rt;
    int32_t k;
};

static void collect_cfg(void *arg, const char *name, const char *value, int source, bool sensitive,
                        bool read_only, int type, const char *doc)
{
    struct cfg_collect *cc = arg;
    if (cc->k >= cc->rt->configs.n)
        return;
    struct CreateTopicsResponse_CreatableTopicConfigs *c = &cc->rt->configs.a[cc->k++];
    c->name = sl_api_str(cc->req, name);
    c->value = sensitive ? SL_STR_NULL : sl_api_str(cc->req, value);
    c->read_only = read_only;
    c->config_source = (int8_t)source;
    c->is_sensitive = sensitive;
}

/* ---- audit details ---- */

static void create_detail(struct sl_aj *j, const void *arg)
{
    const struct CreateTopicsRequest_CreatableTopic *qt = arg;
    sl_aj_ki64(j, "num_partitions", qt->assignments.n > 0 ? qt->assignments.n : qt->num_partitions);
    sl_aj_ki64(j, "replication_factor", qt->assignments.n > 0 ? 1 : qt->replication_factor);
    sl_aj_key(j, "configs");
    sl_aj_obj_begin(j);
    for (int32_t c = 0; c < qt->configs.n; c++)
        sl_api_audit_config(j, qt->configs.a[c].name.p, (size_t)qt->configs.a[c].name.len,
                            qt->configs.a[c].value.p, qt->configs.a[c].value.len);
    sl_aj_obj_end(j);
}

static void partitions_detail(struct sl_aj *j, const void *arg)
{
    const struct CreatePartitionsRequest_CreatePartitionsTopic *qt = arg;
    sl_aj_ki64(j, "new_partition_count", qt->count);
}

struct records_detail {
    int32_t partition;
    int64_t offset;
    int64_t low_watermark;
};

static void records_detail(struct sl_aj *j, const void *arg)
{
    const struct records_detail *d = arg;
    sl_aj_ki64(j, "partition", d->partition);
    sl_aj_ki64(j, "offset", d->offset);
    sl_aj_ki64(j, "low_watermark", d->low_watermark);
}

static void delete_detail(struct sl_aj *j, const void *arg)
{
    const sl_uuid_t *u = arg;
    char id[40];
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        id[2 * i] = hex[u->b[i] >> 4];
        id[2 * i + 1] = hex[u->b[i] & 15];
    }
    id[32] = '\0';
    sl_aj_kcstr(j, "topic_id", id);
}

/* A client tried to change an internal topic: refused, and recorded as a
 * failed change (it is worth knowing who tried). */
static void audit_refused_internal(struct sl_req *req, const char *type, sl_str_t name, int op)
{
    struct sl_audit_change ch = {.type = type, .res_type = SL_ACL_RES_TOPIC, SL_API_AUDIT_NAME(name),
                                 .pattern = SL_ACL_PAT_LITERAL, .op = op,
                                 .error = SL_ERR_INVALID_TOPIC_EXCEPTION,
                                 .message = SL_INTERNAL_TOPIC_MSG};
    sl_api_audit_change(req, &ch);
}

static void count_cfg(void *arg, const char *name, const char *value, int source, bool sensitive,
                      bool read_only, int type, const char *doc)
{
    (*(int32_t *)arg)++;
}

int sl_api_create_topics(struct sl_req *req)
{
    struct CreateTopicsRequest *body = req->body;
    struct CreateTopicsResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    char msgbuf[512];
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    SL_ARR(req, resp->topics, nt, sl_desc_CreateTopicsResponse_CreatableTopicResult);
    int32_t out = 0;
    /* The request topic of each result to record (-1: not recorded). */
    int32_t *audit_of = sl_arena_alloc(&req->arena, sizeof(int32_t) * (size_t)(nt ? nt : 1));
    /* CREATE on the cluster covers every topic; else CREATE on each. */
    bool may_create_any =
        nt > 0 && sl_authz_quiet(req, SL_ACL_OP_CREATE, SL_ACL_RES_CLUSTER,
                                 SL_STR_LIT(SL_ACL_CLUSTER_NAME));
    for (int32_t i = 0; i < nt; i++) {
        struct CreateTopicsRequest_CreatableTopic *qt = &body->topics.a[i];
        if (REPEATS_EARLIER(body->topics, i))
            continue;
        audit_of[out] = -1;
        struct CreateTopicsResponse_CreatableTopicResult *rt = &resp->topics.a[out++];
        rt->name = qt->name;
        rt->error_message = SL_STR_NULL;
        rt->configs.n = -1;
        if (DUPLICATE_NAME(body->topics, i)) {
            SET_ERR(rt, SL_ERR_INVALID_REQUEST,
                    "Create topics request from client contains duplicate topic name");
            continue;
        }
        if (!may_create_any && !sl_authz(req, SL_ACL_OP_CREATE, SL_ACL_RES_TOPIC, qt->name)) {
            SET_ERR(rt, SL_ERR_TOPIC_AUTHORIZATION_FAILED, "Authorization failed.");
            continue;
        }
        if (!body->validate_only) {
            if (!sl_api_audit_ready(req)) {
                SET_ERR(rt, sl_api_audit_refusal(req), SL_API_AUDIT_REFUSED_MSG);
                continue;
            }
            audit_of[out - 1] = i;
        }
        if (sl_topic_internal(qt->name)) {
            SET_ERR(rt, SL_ERR_INVALID_TOPIC_EXCEPTION, "%s is reserved for the broker's internal topic.",
                    SL_AUDIT_TOPIC_NAME);
            continue;
        }
        int32_t partitions = qt->num_partitions;
        int16_t rf = qt->replication_factor;
        if (qt->assignments.n > 0) {
            if (partitions != -1 || rf != -1) {
                SET_ERR(rt, SL_ERR_INVALID_REQUEST,
                        "Both numPartitions or replicationFactor and replicasAssignments were set. "
                        "Both cannot be used at the same time.");
                continue;
            }
            bool ok = true;
            for (int32_t a = 0; a < qt->assignments.n && ok; a++) {
                struct CreateTopicsRequest_CreatableReplicaAssignment *as = &qt->assignments.a[a];
                ok = as->partition_index == a && as->broker_ids.n == 1 &&
                     as->broker_ids.a[0] == b->cfg->node_id;
            }
            if (!ok) {
                SET_ERR(rt, SL_ERR_INVALID_REPLICA_ASSIGNMENT,
                        "Replica assignment must name partitions 0..n-1 once each, on broker %d only.",
                        b->cfg->node_id);
                continue;
            }
            partitions = qt->assignments.n;
            rf = 1;
        }
        if (rf == -1)
            rf = b->cfg->default_replication_factor;
        if (rf <= 0) {
            SET_ERR(rt, SL_ERR_INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0.");
            continue;
        }
        if (rf > 1) {
            SET_ERR(rt, SL_ERR_INVALID_REPLICATION_FACTOR,
                    "Unable to replicate the partition %d time(s): The target replication factor of "
                    "%d cannot be reached because only 1 broker(s) are registered.",
                    rf, rf);
            continue;
        }
        if (partitions == 0 || partitions < -1) {
            SET_ERR(rt, SL_ERR_INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
            continue;
        }
        int32_t nc = qt->configs.n > 0 ? qt->configs.n : 0;
        struct sl_kv *kv = sl_arena_alloc(&req->arena, sizeof(*kv) * (size_t)(nc ? nc : 1));
        bool null_value = false;
        for (int32_t c = 0; c < nc; c++) {
            if (qt->configs.a[c].value.len < 0) {
                null_value = true;
                SET_ERR(rt, SL_ERR_INVALID_CONFIG, "Null value not supported for topic configs: %.*s",
                        qt->configs.a[c].name.len, qt->configs.a[c].name.p);
                break;
            }
            kv[c].key = sl_api_cstr(req, qt->configs.a[c].name);
            kv[c].value = sl_api_cstr(req, qt->configs.a[c].value);
        }
        if (null_value)
            continue;
        struct sl_topic *t = NULL;
        sl_err_t rc = sl_registry_create(b, qt->name, partitions, kv, nc, body->validate_only, &t,
                                         msgbuf, sizeof(msgbuf));
        if (rc != SL_ERR_NONE) {
            rt->error_code = (int16_t)rc;
            rt->error_message = sl_api_str(req, msgbuf);
            continue;
        }
        rt->num_partitions = partitions == -1 ? b->cfg->num_partitions : partitions;
        rt->replication_factor = 1;
        if (t)
            rt->topic_id = t->id;
        if (!sl_authz(req, SL_ACL_OP_DESCRIBE_CONFIGS, SL_ACL_RES_TOPIC, qt->name)) {
            /* Created, but its configuration is not the caller's to see. */
            rt->topic_config_error_code = SL_ERR_TOPIC_AUTHORIZATION_FAILED;
            rt->num_partitions = -1;
            rt->replication_factor = -1;
            sl_topic_unref(t);
            continue;
        }
        int32_t count = 0;
        sl_topic_config_describe(b->cfg, kv, nc, count_cfg, &count);
        SL_ARR(req, rt->configs, count, sl_desc_CreateTopicsResponse_CreatableTopicConfigs);
        struct cfg_collect cc = {req, rt, 0};
        sl_topic_config_describe(b->cfg, kv, nc, collect_cfg, &cc);
        sl_topic_unref(t);
    }
    resp->topics.n = out;
    for (int32_t k = 0; k < out; k++) {
        if (audit_of[k] < 0)
            continue;
        struct CreateTopicsResponse_CreatableTopicResult *rt = &resp->topics.a[k];
        struct sl_audit_change ch = {
            .type = "topic.create", .res_type = SL_ACL_RES_TOPIC, SL_API_AUDIT_NAME(rt->name),
            .pattern = SL_ACL_PAT_LITERAL, .op = SL_ACL_OP_CREATE, .detail = create_detail,
            .detail_arg = &body->topics.a[audit_of[k]], .error = rt->error_code,
            .message = rt->error_message.len > 0 ? sl_api_cstr(req, rt->error_message) : NULL};
        int16_t err = sl_api_audit_change(req, &ch);
        if (err != rt->error_code) {
            rt->error_code = err;
            rt->error_message = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
            rt->configs.n = -1;
        }
    }
    return SL_HANDLER_DONE;
}

int sl_api_delete_topics(struct sl_req *req)
{
    struct DeleteTopicsRequest *body = req->body;
    struct DeleteTopicsResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    int16_t ver = req->hdr.api_version;
    char msgbuf[512];
    /* v6 carries {name or id}; earlier versions a list of names. */
    int32_t n = ver >= 6 ? (body->topics.n > 0 ? body->topics.n : 0)
                         : (body->topic_names.n > 0 ? body->topic_names.n : 0);
    SL_ARR(req, resp->responses, n, sl_desc_DeleteTopicsResponse_DeletableTopicResult);
    bool may_delete_any = n > 0 && sl_authz_quiet(req, SL_ACL_OP_DELETE, SL_ACL_RES_CLUSTER,
                                                  SL_STR_LIT(SL_ACL_CLUSTER_NAME));
    for (int32_t i = 0; i < n; i++) {
        struct DeleteTopicsResponse_DeletableTopicResult *rt = &resp->responses.a[i];
        rt->error_message = SL_STR_NULL;
        sl_str_t name;
        bool by_id = false;
        if (ver >= 6) {
            struct DeleteTopicsRequest_DeleteTopicState *st = &body->topics.a[i];
            name = st->name;
            rt->topic_id = st->topic_id;
            if (name.len < 0) {
                struct sl_topic *t = sl_registry_get_by_id(b, &st->topic_id);
                if (!t) {
                    rt->name = SL_STR_NULL;
                    SET_ERR(rt, SL_ERR_UNKNOWN_TOPIC_ID, "This server does not host this topic ID.");
                    continue;
                }
                name = sl_api_str(req, t->name);
                by_id = true;
                sl_topic_unref(t);
            }
        } else {
            name = body->topic_names.a[i];
        }
        rt->name = name;
        /* DELETE on the cluster, or DESCRIBE and DELETE on the topic; without
         * DESCRIBE the answer is 29 whether the topic exists or not. */
        if (!may_delete_any) {
            if (!sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_TOPIC, name)) {
                if (by_id)
                    rt->name = SL_STR_NULL;
                SET_ERR(rt, SL_ERR_TOPIC_AUTHORIZATION_FAILED, "Authorization failed.");
                continue;
            }
            struct sl_topic *t = sl_registry_get(b, name);
            bool exists = t != NULL;
            sl_topic_unref(t);
            if (!exists) {
                SET_ERR(rt, SL_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                        "This server does not host this topic-partition.");
                continue;
            }
            if (!sl_authz(req, SL_ACL_OP_DELETE, SL_ACL_RES_TOPIC, name)) {
                SET_ERR(rt, SL_ERR_TOPIC_AUTHORIZATION_FAILED, "Authorization failed.");
                continue;
            }
        }
        if (!sl_api_audit_ready(req)) {
            SET_ERR(rt, sl_api_audit_refusal(req), SL_API_AUDIT_REFUSED_MSG);
            continue;
        }
        if (sl_topic_internal(name)) {
            SET_ERR(rt, SL_ERR_INVALID_TOPIC_EXCEPTION, SL_INTERNAL_TOPIC_MSG);
            audit_refused_internal(req, "topic.delete", name, SL_ACL_OP_DELETE);
            continue;
        }
        if (!b->cfg->delete_topic_enable) {
            if (ver >= 3)
                SET_ERR(rt, SL_ERR_TOPIC_DELETION_DISABLED, "Topic deletion is disabled.");
            else
                SET_ERR(rt, SL_ERR_INVALID_REQUEST, "Topic deletion is disabled.");
            continue;
        }
        struct sl_topic *t = sl_registry_get(b, name);
        sl_uuid_t id = {{0}};
        if (t)
            id = t->id;
        if (t && ver >= 6)
            rt->topic_id = t->id;
        sl_topic_unref(t);
        sl_err_t rc = sl_registry_delete(b, name, msgbuf, sizeof(msgbuf));
        if (rc != SL_ERR_NONE) {
            rt->error_code = (int16_t)rc;
            rt->error_message = sl_api_str(req, msgbuf);
        }
        struct sl_audit_change ch = {
            .type = "topic.delete", .res_type = SL_ACL_RES_TOPIC, SL_API_AUDIT_NAME(name),
            .pattern = SL_ACL_PAT_LITERAL, .op = SL_ACL_OP_DELETE, .detail = delete_detail,
            .detail_arg = &id, .error = rt->error_code,
            .message = rc != SL_ERR_NONE ? msgbuf : NULL};
        int16_t err = sl_api_audit_change(req, &ch);
        if (err != rt->error_code)
            SET_ERR(rt, err, SL_API_AUDIT_REFUSED_MSG);
    }
    return SL_HANDLER_DONE;
}

int sl_api_create_partitions(struct sl_req *req)
{
    struct CreatePartitionsRequest *body = req->body;
    struct CreatePartitionsResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    char msgbuf[512];
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    SL_ARR(req, resp->results, nt, sl_desc_CreatePartitionsResponse_CreatePartitionsTopicResult);
    int32_t out = 0;
    for (int32_t i = 0; i < nt; i++) {
        struct CreatePartitionsRequest_CreatePartitionsTopic *qt = &body->topics.a[i];
        if (REPEATS_EARLIER(body->topics, i))
            continue;
        struct CreatePartitionsResponse_CreatePartitionsTopicResult *rt = &resp->results.a[out++];
        rt->name = qt->name;
        rt->error_message = SL_STR_NULL;
        if (DUPLICATE_NAME(body->topics, i)) {
            SET_ERR(rt, SL_ERR_INVALID_REQUEST, "Duplicate topic in request.");
            continue;
        }
        if (!sl_authz(req, SL_ACL_OP_ALTER, SL_ACL_RES_TOPIC, qt->name)) {
            SET_ERR(rt, SL_ERR_TOPIC_AUTHORIZATION_FAILED, "Authorization failed.");
            continue;
        }
        if (qt->assignments.n > 0) {
            bool ok = true;
            for (int32_t a = 0; a < qt->assignments.n && ok; a++)
                ok = qt->assignments.a[a].broker_ids.n == 1 &&
                     qt->assignments.a[a].broker_ids.a[0] == b->cfg->node_id;
            if (!ok) {
                SET_ERR(rt, SL_ERR_INVALID_REPLICA_ASSIGNMENT,
                        "Replica assignments may only name broker %d.", b->cfg->node_id);
                continue;
            }
        }
        if (!body->validate_only && !sl_api_audit_ready(req)) {
            SET_ERR(rt, sl_api_audit_refusal(req), SL_API_AUDIT_REFUSED_MSG);
            continue;
        }
        if (sl_topic_internal(qt->name)) {
            SET_ERR(rt, SL_ERR_INVALID_TOPIC_EXCEPTION, SL_INTERNAL_TOPIC_MSG);
            if (!body->validate_only)
                audit_refused_internal(req, "partitions.create", qt->name, SL_ACL_OP_ALTER);
            continue;
        }
        sl_err_t rc = sl_registry_add_partitions(b, qt->name, qt->count, body->validate_only, msgbuf,
                                                 sizeof(msgbuf));
        if (rc != SL_ERR_NONE) {
            rt->error_code = (int16_t)rc;
            rt->error_message = sl_api_str(req, msgbuf);
        }
        if (body->validate_only)
            continue;
        struct sl_audit_change ch = {
            .type = "partitions.create", .res_type = SL_ACL_RES_TOPIC, SL_API_AUDIT_NAME(qt->name),
            .pattern = SL_ACL_PAT_LITERAL, .op = SL_ACL_OP_ALTER, .detail = partitions_detail,
            .detail_arg = qt, .error = rt->error_code, .message = rc != SL_ERR_NONE ? msgbuf : NULL};
        int16_t err = sl_api_audit_change(req, &ch);
        if (err != rt->error_code)
            SET_ERR(rt, err, SL_API_AUDIT_REFUSED_MSG);
    }
    resp->results.n = out;
    return SL_HANDLER_DONE;
}

int sl_api_delete_records(struct sl_req *req)
{
    struct DeleteRecordsRequest *body = req->body;
    struct DeleteRecordsResponse *resp = req->resp;
    int32_t nt = body->topics.n > 0 ? body->topics.n : 0;
    SL_ARR(req, resp->topics, nt, sl_desc_DeleteRecordsResponse_DeleteRecordsTopicResult);
    for (int32_t i = 0; i < nt; i++) {
        struct DeleteRecordsRequest_DeleteRecordsTopic *qt = &body->topics.a[i];
        struct DeleteRecordsResponse_DeleteRecordsTopicResult *rt = &resp->topics.a[i];
        rt->name = qt->name;
        bool denied = !sl_authz(req, SL_ACL_OP_DELETE, SL_ACL_RES_TOPIC, qt->name);
        struct sl_topic *t = denied ? NULL : sl_registry_get(req->broker, qt->name);
        int32_t np = qt->partitions.n > 0 ? qt->partitions.n : 0;
        SL_ARR(req, rt->partitions, np, sl_desc_DeleteRecordsResponse_DeleteRecordsPartitionResult);
        for (int32_t j = 0; j < np; j++) {
            struct DeleteRecordsRequest_DeleteRecordsPartition *qp = &qt->partitions.a[j];
            struct DeleteRecordsResponse_DeleteRecordsPartitionResult *rp = &rt->partitions.a[j];
            rp->partition_index = qp->partition_index;
            rp->low_watermark = -1;
            if (!t || qp->partition_index < 0 || qp->partition_index >= t->n_parts) {
                rp->error_code = denied ? SL_ERR_TOPIC_AUTHORIZATION_FAILED
                                        : SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            struct sl_log *log = t->logs[qp->partition_index];
            int64_t off = qp->offset == -1 ? sl_log_end_offset(log) : qp->offset;
            if (off < 0) {
                rp->error_code = SL_ERR_OFFSET_OUT_OF_RANGE;
                continue;
            }
            if (!sl_api_audit_ready(req)) {
                rp->error_code = sl_api_audit_refusal(req);
                continue;
            }
            if (sl_topic_internal(qt->name)) {
                rp->error_code = SL_ERR_INVALID_TOPIC_EXCEPTION;
                audit_refused_internal(req, "records.delete", qt->name, SL_ACL_OP_DELETE);
                continue;
            }
            int64_t low = -1;
            sl_err_t rc = sl_log_delete_records(log, off, &low);
            rp->error_code = (int16_t)(rc == SL_ERR_NONE ? 0 : (rc > 0 ? rc : SL_ERR_KAFKA_STORAGE_ERROR));
            rp->low_watermark = rc == SL_ERR_NONE ? low : -1;
            struct records_detail d = {qp->partition_index, off, rp->low_watermark};
            struct sl_audit_change ch = {
                .type = "records.delete", .res_type = SL_ACL_RES_TOPIC, SL_API_AUDIT_NAME(qt->name),
                .pattern = SL_ACL_PAT_LITERAL, .op = SL_ACL_OP_DELETE, .detail = records_detail,
                .detail_arg = &d, .error = rp->error_code};
            int16_t err = sl_api_audit_change(req, &ch);
            if (err != rp->error_code) {
                rp->error_code = err;
                rp->low_watermark = -1;
            }
        }
        sl_topic_unref(t);
    }
    return SL_HANDLER_DONE;
}
