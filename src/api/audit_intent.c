/* SPDX-License-Identifier: Apache-2.0
 *
 * Intent records (see audit_intent.h): for each changing API, whether a
 * request asks for a change and the list of what it names, written as the
 * "resources" array of the record. Names are the client's bytes (escaped by
 * the JSON writer). Secrets never appear: SCRAM upsertions give the
 * mechanism and iteration count, never the salt or the salted password;
 * config values of secret keys are "[hidden]" (sl_api_audit_config).
 */
#include "api/audit_intent.h"

#include "api/audit_change.h"
#include "config/config.h"
#include "protocol/dispatch.h"
#include "protocol/gen/alter_configs.h"
#include "protocol/gen/alter_user_scram_credentials.h"
#include "protocol/gen/create_acls.h"
#include "protocol/gen/create_partitions.h"
#include "protocol/gen/create_topics.h"
#include "protocol/gen/delete_acls.h"
#include "protocol/gen/delete_groups.h"
#include "protocol/gen/delete_records.h"
#include "protocol/gen/delete_topics.h"
#include "protocol/gen/incremental_alter_configs.h"
#include "protocol/gen/metadata.h"
#include "protocol/gen/offset_commit.h"
#include "protocol/gen/offset_delete.h"
#include "protocol/request.h"
#include "security/authn/scram.h"
#include "security/authz/acl.h"
#include "server/broker.h"
#include "server/registry.h"

bool sl_api_audit_intent_covers(int16_t api_key)
{
    switch (api_key) {
    case SL_API_CREATE_TOPICS:
    case SL_API_DELETE_TOPICS:
    case SL_API_DELETE_RECORDS:
    case SL_API_CREATE_ACLS:
    case SL_API_DELETE_ACLS:
    case SL_API_ALTER_CONFIGS:
    case SL_API_INCREMENTAL_ALTER_CONFIGS:
    case SL_API_CREATE_PARTITIONS:
    case SL_API_DELETE_GROUPS:
    case SL_API_OFFSET_DELETE:
    case SL_API_ALTER_USER_SCRAM_CREDENTIALS:
    case SL_API_OFFSET_COMMIT: /* resets only, decided on the body */
    case SL_API_METADATA:      /* auto-creation only, decided on the body */
        break;
    default:
        return false;
    }
    return true;
}

bool sl_api_audit_intent_api(int16_t api_key)
{
    return sl_api_audit_intent_covers(api_key) && sl_audit_enabled() &&
           sl_audit_policy() == SL_AUDIT_POLICY_REJECT;
}

/* ---- writing resources ---- */

static size_t slen(sl_str_t s)
{
    return (size_t)(s.len > 0 ? s.len : 0);
}

/* Starts one resource object: its type and name (a null name: null). */
static void res_begin(struct sl_aj *j, const char *type, sl_str_t name)
{
    sl_aj_obj_begin(j);
    sl_aj_kcstr(j, "resource_type", type);
    sl_aj_key(j, "resource_name");
    if (name.len < 0)
        sl_aj_null(j);
    else
        sl_aj_str(j, name.p, slen(name));
}

static void res_named(struct sl_aj *j, const char *type, sl_str_t name)
{
    res_begin(j, type, name);
    sl_aj_obj_end(j);
}

/* Kafka's ConfigResource types. */
static const char *config_res_name(int8_t t)
{
    switch (t) {
    case 2:
        return "TOPIC";
    case 4:
        return "BROKER";
    case 8:
        return "BROKER_LOGGER";
    default:
        return "UNKNOWN";
    }
}

static void create_topics(struct sl_aj *j, const void *body)
{
    const struct CreateTopicsRequest *b = body;
    for (int32_t i = 0; i < b->topics.n; i++) {
        const struct CreateTopicsRequest_CreatableTopic *t = &b->topics.a[i];
        res_begin(j, "TOPIC", t->name);
        sl_aj_ki64(j, "num_partitions", t->num_partitions);
        sl_aj_ki64(j, "replication_factor", t->replication_factor);
        sl_aj_key(j, "configs");
        sl_aj_obj_begin(j);
        for (int32_t c = 0; c < t->configs.n; c++)
            sl_api_audit_config(j, t->configs.a[c].name.p, slen(t->configs.a[c].name),
                                t->configs.a[c].value.p, t->configs.a[c].value.len);
        sl_aj_obj_end(j);
        sl_aj_obj_end(j);
    }
}

static void delete_topics(struct sl_aj *j, const void *body)
{
    static const char hex[] = "0123456789abcdef";
    const struct DeleteTopicsRequest *b = body;
    for (int32_t i = 0; i < b->topic_names.n; i++)
        res_named(j, "TOPIC", b->topic_names.a[i]);
    for (int32_t i = 0; i < b->topics.n; i++) {
        const struct DeleteTopicsRequest_DeleteTopicState *t = &b->topics.a[i];
        res_begin(j, "TOPIC", t->name);
        char id[33];
        for (int k = 0; k < 16; k++) {
            id[2 * k] = hex[t->topic_id.b[k] >> 4];
            id[2 * k + 1] = hex[t->topic_id.b[k] & 15];
        }
        id[32] = '\0';
        sl_aj_kcstr(j, "topic_id", id);
        sl_aj_obj_end(j);
    }
}

static void delete_records(struct sl_aj *j, const void *body)
{
    const struct DeleteRecordsRequest *b = body;
    for (int32_t i = 0; i < b->topics.n; i++) {
        const struct DeleteRecordsRequest_DeleteRecordsTopic *t = &b->topics.a[i];
        res_begin(j, "TOPIC", t->name);
        sl_aj_key(j, "partitions");
        sl_aj_arr_begin(j);
        for (int32_t p = 0; p < t->partitions.n; p++) {
            sl_aj_obj_begin(j);
            sl_aj_ki64(j, "partition", t->partitions.a[p].partition_index);
            sl_aj_ki64(j, "offset", t->partitions.a[p].offset);
            sl_aj_obj_end(j);
        }
        sl_aj_arr_end(j);
        sl_aj_obj_end(j);
    }
}

/* An ACL binding or filter: its pattern and entry (null: any). */
static void acl_members(struct sl_aj *j, int8_t pattern, sl_str_t principal, sl_str_t host,
                        int8_t op, int8_t perm)
{
    const char *pat = sl_acl_pattern_name(pattern);
    sl_aj_kcstr(j, "pattern_type", pat ? pat : "UNKNOWN");
    sl_aj_key(j, "acl_principal");
    principal.len < 0 ? sl_aj_null(j) : sl_aj_str(j, principal.p, slen(principal));
    sl_aj_key(j, "acl_host");
    host.len < 0 ? sl_aj_null(j) : sl_aj_str(j, host.p, slen(host));
    const char *o = sl_acl_op_name(op), *p = sl_acl_perm_name(perm);
    sl_aj_kcstr(j, "acl_operation", o ? o : "UNKNOWN");
    sl_aj_kcstr(j, "acl_permission_type", p ? p : "UNKNOWN");
}

static const char *acl_res(int8_t t)
{
    const char *n = sl_acl_res_name(t);
    return n ? n : "UNKNOWN";
}

static void create_acls(struct sl_aj *j, const void *body)
{
    const struct CreateAclsRequest *b = body;
    for (int32_t i = 0; i < b->creations.n; i++) {
        const struct CreateAclsRequest_AclCreation *a = &b->creations.a[i];
        res_begin(j, acl_res(a->resource_type), a->resource_name);
        acl_members(j, a->resource_pattern_type, a->principal, a->host, a->operation,
                    a->permission_type);
        sl_aj_obj_end(j);
    }
}

static void delete_acls(struct sl_aj *j, const void *body)
{
    const struct DeleteAclsRequest *b = body;
    for (int32_t i = 0; i < b->filters.n; i++) {
        const struct DeleteAclsRequest_DeleteAclsFilter *f = &b->filters.a[i];
        res_begin(j, acl_res(f->resource_type_filter), f->resource_name_filter);
        acl_members(j, f->pattern_type_filter, f->principal_filter, f->host_filter, f->operation,
                    f->permission_type);
        sl_aj_obj_end(j);
    }
}

static void alter_configs(struct sl_aj *j, const void *body)
{
    const struct AlterConfigsRequest *b = body;
    for (int32_t i = 0; i < b->resources.n; i++) {
        const struct AlterConfigsRequest_AlterConfigsResource *q = &b->resources.a[i];
        res_begin(j, config_res_name(q->resource_type), q->resource_name);
        sl_aj_key(j, "configs");
        sl_aj_obj_begin(j);
        for (int32_t c = 0; c < q->configs.n; c++)
            sl_api_audit_config(j, q->configs.a[c].name.p, slen(q->configs.a[c].name),
                                q->configs.a[c].value.p, q->configs.a[c].value.len);
        sl_aj_obj_end(j);
        sl_aj_obj_end(j);
    }
}

static void incremental_alter_configs(struct sl_aj *j, const void *body)
{
    static const char *const ops[] = {"SET", "DELETE", "APPEND", "SUBTRACT"};
    const struct IncrementalAlterConfigsRequest *b = body;
    for (int32_t i = 0; i < b->resources.n; i++) {
        const struct IncrementalAlterConfigsRequest_AlterConfigsResource *q = &b->resources.a[i];
        res_begin(j, config_res_name(q->resource_type), q->resource_name);
        sl_aj_key(j, "configs");
        sl_aj_obj_begin(j);
        for (int32_t c = 0; c < q->configs.n; c++) {
            const struct IncrementalAlterConfigsRequest_AlterableConfig *ac = &q->configs.a[c];
            sl_api_audit_config(j, ac->name.p, slen(ac->name), ac->value.p,
                                ac->config_operation == 1 ? -1 : ac->value.len);
        }
        sl_aj_obj_end(j);
        sl_aj_key(j, "operations");
        sl_aj_obj_begin(j);
        for (int32_t c = 0; c < q->configs.n; c++) {
            int8_t op = q->configs.a[c].config_operation;
            sl_aj_key_str(j, q->configs.a[c].name.p, slen(q->configs.a[c].name));
            sl_aj_cstr(j, op >= 0 && op <= 3 ? ops[op] : "UNKNOWN");
        }
        sl_aj_obj_end(j);
        sl_aj_obj_end(j);
    }
}

static void create_partitions(struct sl_aj *j, const void *body)
{
    const struct CreatePartitionsRequest *b = body;
    for (int32_t i = 0; i < b->topics.n; i++) {
        res_begin(j, "TOPIC", b->topics.a[i].name);
        sl_aj_ki64(j, "new_partition_count", b->topics.a[i].count);
        sl_aj_obj_end(j);
    }
}

static void delete_groups(struct sl_aj *j, const void *body)
{
    const struct DeleteGroupsRequest *b = body;
    for (int32_t i = 0; i < b->groups_names.n; i++)
        res_named(j, "GROUP", b->groups_names.a[i]);
}

static void offset_delete(struct sl_aj *j, const void *body)
{
    const struct OffsetDeleteRequest *b = body;
    res_begin(j, "GROUP", b->group_id);
    sl_aj_key(j, "topics");
    sl_aj_arr_begin(j);
    for (int32_t i = 0; i < b->topics.n; i++) {
        sl_aj_obj_begin(j);
        sl_aj_kstr(j, "topic", b->topics.a[i].name.p, slen(b->topics.a[i].name));
        sl_aj_key(j, "partitions");
        sl_aj_arr_begin(j);
        for (int32_t p = 0; p < b->topics.a[i].partitions.n; p++)
            sl_aj_i64(j, b->topics.a[i].partitions.a[p].partition_index);
        sl_aj_arr_end(j);
        sl_aj_obj_end(j);
    }
    sl_aj_arr_end(j);
    sl_aj_obj_end(j);
}

static void offset_reset(struct sl_aj *j, const void *body)
{
    const struct OffsetCommitRequest *b = body;
    res_begin(j, "GROUP", b->group_id);
    sl_aj_key(j, "topics");
    sl_aj_arr_begin(j);
    for (int32_t i = 0; i < b->topics.n; i++) {
        const struct OffsetCommitRequest_OffsetCommitRequestTopic *t = &b->topics.a[i];
        sl_aj_obj_begin(j);
        sl_aj_kstr(j, "topic", t->name.p, slen(t->name));
        sl_aj_key(j, "partitions");
        sl_aj_arr_begin(j);
        for (int32_t p = 0; p < t->partitions.n; p++) {
            sl_aj_obj_begin(j);
            sl_aj_ki64(j, "partition", t->partitions.a[p].partition_index);
            sl_aj_ki64(j, "offset", t->partitions.a[p].committed_offset);
            sl_aj_obj_end(j);
        }
        sl_aj_arr_end(j);
        sl_aj_obj_end(j);
    }
    sl_aj_arr_end(j);
    sl_aj_obj_end(j);
}

static void alter_users(struct sl_aj *j, const void *body)
{
    const struct AlterUserScramCredentialsRequest *b = body;
    for (int32_t i = 0; i < b->deletions.n; i++) {
        const char *m = sl_scram_mech_name(b->deletions.a[i].mechanism);
        res_begin(j, "USER", b->deletions.a[i].name);
        sl_aj_kcstr(j, "operation", "delete");
        sl_aj_kcstr(j, "mechanism", m ? m : "UNKNOWN");
        sl_aj_obj_end(j);
    }
    for (int32_t i = 0; i < b->upsertions.n; i++) {
        const char *m = sl_scram_mech_name(b->upsertions.a[i].mechanism);
        res_begin(j, "USER", b->upsertions.a[i].name);
        sl_aj_kcstr(j, "operation", "upsert");
        sl_aj_kcstr(j, "mechanism", m ? m : "UNKNOWN");
        sl_aj_ki64(j, "iterations", b->upsertions.a[i].iterations);
        sl_aj_obj_end(j);
    }
}

/* Metadata: a named topic it may auto-create (absent, valid, not internal;
 * authorization is the handler's). */
static bool may_auto_create(const struct sl_req *req, sl_str_t name)
{
    if (name.len < 0 || sl_topic_name_invalid(name) || sl_topic_internal(name))
        return false;
    struct sl_topic *t = sl_registry_get(req->broker, name);
    sl_topic_unref(t);
    return t == NULL;
}

struct auto_arg {
    const struct sl_req *req;
    const struct MetadataRequest *body;
};

static void auto_create(struct sl_aj *j, const void *arg)
{
    const struct auto_arg *a = arg;
    for (int32_t i = 0; i < a->body->topics.n; i++) {
        sl_str_t name = a->body->topics.a[i].name;
        if (!may_auto_create(a->req, name))
            continue;
        res_begin(j, "TOPIC", name);
        sl_aj_kbool(j, "auto_create", true);
        sl_aj_obj_end(j);
    }
}

static bool metadata_creates(const struct sl_req *req, const struct MetadataRequest *body)
{
    int16_t ver = req->hdr.api_version;
    if (!req->broker->cfg->auto_create_topics_enable ||
        (ver >= 4 && !body->allow_auto_topic_creation) || body->topics.n <= 0)
        return false;
    for (int32_t i = 0; i < body->topics.n; i++) {
        if (may_auto_create(req, body->topics.a[i].name))
            return true;
    }
    return false;
}

/* ---- the record ---- */

struct intent_arg {
    void (*list)(struct sl_aj *j, const void *arg);
    const void *arg;
};

static void resources(struct sl_aj *j, const void *arg)
{
    const struct intent_arg *ia = arg;
    sl_aj_key(j, "resources");
    sl_aj_arr_begin(j);
    ia->list(j, ia->arg);
    sl_aj_arr_end(j);
}

uint64_t sl_api_audit_intent(struct sl_req *req)
{
    const void *body = req->body;
    struct intent_arg ia = {NULL, body};
    struct auto_arg aa;
    switch (req->hdr.api_key) {
    case SL_API_CREATE_TOPICS:
        if (!((const struct CreateTopicsRequest *)body)->validate_only)
            ia.list = create_topics;
        break;
    case SL_API_DELETE_TOPICS:
        ia.list = delete_topics;
        break;
    case SL_API_DELETE_RECORDS:
        ia.list = delete_records;
        break;
    case SL_API_CREATE_ACLS:
        ia.list = create_acls;
        break;
    case SL_API_DELETE_ACLS:
        ia.list = delete_acls;
        break;
    case SL_API_ALTER_CONFIGS:
        if (!((const struct AlterConfigsRequest *)body)->validate_only)
            ia.list = alter_configs;
        break;
    case SL_API_INCREMENTAL_ALTER_CONFIGS:
        if (!((const struct IncrementalAlterConfigsRequest *)body)->validate_only)
            ia.list = incremental_alter_configs;
        break;
    case SL_API_CREATE_PARTITIONS:
        if (!((const struct CreatePartitionsRequest *)body)->validate_only)
            ia.list = create_partitions;
        break;
    case SL_API_DELETE_GROUPS:
        ia.list = delete_groups;
        break;
    case SL_API_OFFSET_DELETE:
        ia.list = offset_delete;
        break;
    case SL_API_ALTER_USER_SCRAM_CREDENTIALS:
        ia.list = alter_users;
        break;
    case SL_API_OFFSET_COMMIT: {
        /* A reset (api/offsets.c): generation -1 and no member id. */
        const struct OffsetCommitRequest *b = body;
        if (b->generation_id_or_member_epoch == -1 && b->member_id.len <= 0)
            ia.list = offset_reset;
        break;
    }
    case SL_API_METADATA:
        if (metadata_creates(req, body)) {
            aa = (struct auto_arg){req, body};
            ia.list = auto_create;
            ia.arg = &aa;
        }
        break;
    default:
        break;
    }
    if (!ia.list)
        return SL_AUDIT_SEQ_NONE;
    struct sl_audit_ctx ctx;
    sl_audit_ctx_from_req(&ctx, req);
    return sl_audit_intent(&ctx, resources, &ia);
}
