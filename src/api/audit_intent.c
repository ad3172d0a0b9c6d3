/* SPDX-License-Identifier: Apache-2.0
 *
 * Intent records (see audit_intent.h): for each changing API, whether a
 * request asks for a change and the list of what it names, written as the
 * "resources" array of the record, one element per resource. Names are the
 * client's bytes (escaped by the JSON writer). Secrets never appear: SCRAM
 * upsertions give the mechanism and iteration count, never the salt or the
 * salted password; config values of secret keys are "[hidden]"
 * (sl_api_audit_config).
 *
 * A record must stay within what the verifier reads (SL_AUDIT_LINE_MAX
 * bytes, SL_AJ_MAX_TOKENS JSON values): a request naming more is written as
 * several intent records ("part" 0, 1, ...; all but the last with "more"),
 * and a single resource too large alone is named without its details
 * ("truncated"). The request waits for the last part; earlier parts are
 * durable by then (durability is in sequence order).
 */
#include "api/audit_intent.h"

#include "api/audit_change.h"
#include "core/wbuf.h"
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

/* What one intent record may hold of resources (audit_json.h). */
#define PART_MAX_BYTES SL_AJ_DATA_MAX_BYTES
#define PART_MAX_VALUES SL_AJ_DATA_MAX_VALUES

static size_t slen(sl_str_t s)
{
    return (size_t)(s.len > 0 ? s.len : 0);
}

static int32_t nn(int32_t n)
{
    return n > 0 ? n : 0;
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

/* Ends a resource; one written without its details says so. */
static void res_end(struct sl_aj *j, bool full)
{
    if (!full)
        sl_aj_kbool(j, "truncated", true);
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

/* One API's resources: how many, and resource i (full: with its details). */
struct lister {
    int32_t (*count)(const struct sl_req *req, const void *body);
    void (*one)(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i, bool full);
};

static int32_t create_topics_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct CreateTopicsRequest *)body)->topics.n);
}

static void create_topics_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                              bool full)
{
    (void)req;
    const struct CreateTopicsRequest_CreatableTopic *t =
        &((const struct CreateTopicsRequest *)body)->topics.a[i];
    res_begin(j, "TOPIC", t->name);
    if (full) {
        sl_aj_ki64(j, "num_partitions", t->num_partitions);
        sl_aj_ki64(j, "replication_factor", t->replication_factor);
        sl_aj_key(j, "configs");
        sl_aj_obj_begin(j);
        for (int32_t c = 0; c < t->configs.n; c++)
            sl_api_audit_config(j, t->configs.a[c].name.p, slen(t->configs.a[c].name),
                                t->configs.a[c].value.p, t->configs.a[c].value.len);
        sl_aj_obj_end(j);
    }
    res_end(j, full);
}

/* v0-5 name topics in topic_names, v6+ in topics (by name or id). */
static int32_t delete_topics_n(const struct sl_req *req, const void *body)
{
    (void)req;
    const struct DeleteTopicsRequest *b = body;
    return nn(b->topic_names.n) + nn(b->topics.n);
}

static void delete_topics_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                              bool full)
{
    (void)req, (void)full;
    static const char hex[] = "0123456789abcdef";
    const struct DeleteTopicsRequest *b = body;
    if (i < nn(b->topic_names.n)) {
        res_begin(j, "TOPIC", b->topic_names.a[i]);
        res_end(j, true);
        return;
    }
    const struct DeleteTopicsRequest_DeleteTopicState *t = &b->topics.a[i - nn(b->topic_names.n)];
    res_begin(j, "TOPIC", t->name);
    char id[33];
    for (int k = 0; k < 16; k++) {
        id[2 * k] = hex[t->topic_id.b[k] >> 4];
        id[2 * k + 1] = hex[t->topic_id.b[k] & 15];
    }
    id[32] = '\0';
    sl_aj_kcstr(j, "topic_id", id);
    res_end(j, true);
}

static int32_t delete_records_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct DeleteRecordsRequest *)body)->topics.n);
}

static void delete_records_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                               bool full)
{
    (void)req;
    const struct DeleteRecordsRequest_DeleteRecordsTopic *t =
        &((const struct DeleteRecordsRequest *)body)->topics.a[i];
    res_begin(j, "TOPIC", t->name);
    if (full) {
        sl_aj_key(j, "partitions");
        sl_aj_arr_begin(j);
        for (int32_t p = 0; p < t->partitions.n; p++) {
            sl_aj_obj_begin(j);
            sl_aj_ki64(j, "partition", t->partitions.a[p].partition_index);
            sl_aj_ki64(j, "offset", t->partitions.a[p].offset);
            sl_aj_obj_end(j);
        }
        sl_aj_arr_end(j);
    }
    res_end(j, full);
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

/* An ACL binding is small (four strings): always written whole. */
static int32_t create_acls_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct CreateAclsRequest *)body)->creations.n);
}

static void create_acls_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                            bool full)
{
    (void)req, (void)full;
    const struct CreateAclsRequest_AclCreation *a =
        &((const struct CreateAclsRequest *)body)->creations.a[i];
    res_begin(j, acl_res(a->resource_type), a->resource_name);
    acl_members(j, a->resource_pattern_type, a->principal, a->host, a->operation,
                a->permission_type);
    res_end(j, true);
}

static int32_t delete_acls_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct DeleteAclsRequest *)body)->filters.n);
}

static void delete_acls_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                            bool full)
{
    (void)req, (void)full;
    const struct DeleteAclsRequest_DeleteAclsFilter *f =
        &((const struct DeleteAclsRequest *)body)->filters.a[i];
    res_begin(j, acl_res(f->resource_type_filter), f->resource_name_filter);
    acl_members(j, f->pattern_type_filter, f->principal_filter, f->host_filter, f->operation,
                f->permission_type);
    res_end(j, true);
}

static int32_t alter_configs_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct AlterConfigsRequest *)body)->resources.n);
}

static void alter_configs_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                              bool full)
{
    (void)req;
    const struct AlterConfigsRequest_AlterConfigsResource *q =
        &((const struct AlterConfigsRequest *)body)->resources.a[i];
    res_begin(j, config_res_name(q->resource_type), q->resource_name);
    if (full) {
        sl_aj_key(j, "configs");
        sl_aj_obj_begin(j);
        for (int32_t c = 0; c < q->configs.n; c++)
            sl_api_audit_config(j, q->configs.a[c].name.p, slen(q->configs.a[c].name),
                                q->configs.a[c].value.p, q->configs.a[c].value.len);
        sl_aj_obj_end(j);
    }
    res_end(j, full);
}

static int32_t incremental_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct IncrementalAlterConfigsRequest *)body)->resources.n);
}

static void incremental_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                            bool full)
{
    (void)req;
    static const char *const ops[] = {"SET", "DELETE", "APPEND", "SUBTRACT"};
    const struct IncrementalAlterConfigsRequest_AlterConfigsResource *q =
        &((const struct IncrementalAlterConfigsRequest *)body)->resources.a[i];
    res_begin(j, config_res_name(q->resource_type), q->resource_name);
    if (full) {
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
    }
    res_end(j, full);
}

static int32_t create_partitions_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct CreatePartitionsRequest *)body)->topics.n);
}

static void create_partitions_one(struct sl_aj *j, const struct sl_req *req, const void *body,
                                  int32_t i, bool full)
{
    (void)req, (void)full;
    const struct CreatePartitionsRequest_CreatePartitionsTopic *t =
        &((const struct CreatePartitionsRequest *)body)->topics.a[i];
    res_begin(j, "TOPIC", t->name);
    sl_aj_ki64(j, "new_partition_count", t->count);
    res_end(j, true);
}

static int32_t delete_groups_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct DeleteGroupsRequest *)body)->groups_names.n);
}

static void delete_groups_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                              bool full)
{
    (void)req, (void)full;
    res_begin(j, "GROUP", ((const struct DeleteGroupsRequest *)body)->groups_names.a[i]);
    res_end(j, true);
}

/* OffsetDelete and an offset reset: one resource per topic of the group. */
static int32_t offset_delete_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct OffsetDeleteRequest *)body)->topics.n);
}

static void offset_delete_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                              bool full)
{
    (void)req;
    const struct OffsetDeleteRequest *b = body;
    const struct OffsetDeleteRequest_OffsetDeleteRequestTopic *t = &b->topics.a[i];
    res_begin(j, "GROUP", b->group_id);
    sl_aj_kstr(j, "topic", t->name.p, slen(t->name));
    if (full) {
        sl_aj_key(j, "partitions");
        sl_aj_arr_begin(j);
        for (int32_t p = 0; p < t->partitions.n; p++)
            sl_aj_i64(j, t->partitions.a[p].partition_index);
        sl_aj_arr_end(j);
    }
    res_end(j, full);
}

static int32_t offset_reset_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct OffsetCommitRequest *)body)->topics.n);
}

static void offset_reset_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                             bool full)
{
    (void)req;
    const struct OffsetCommitRequest *b = body;
    const struct OffsetCommitRequest_OffsetCommitRequestTopic *t = &b->topics.a[i];
    res_begin(j, "GROUP", b->group_id);
    sl_aj_kstr(j, "topic", t->name.p, slen(t->name));
    if (full) {
        sl_aj_key(j, "partitions");
        sl_aj_arr_begin(j);
        for (int32_t p = 0; p < t->partitions.n; p++) {
            sl_aj_obj_begin(j);
            sl_aj_ki64(j, "partition", t->partitions.a[p].partition_index);
            sl_aj_ki64(j, "offset", t->partitions.a[p].committed_offset);
            sl_aj_obj_end(j);
        }
        sl_aj_arr_end(j);
    }
    res_end(j, full);
}

/* Deletions first, then upsertions. */
static int32_t alter_users_n(const struct sl_req *req, const void *body)
{
    (void)req;
    const struct AlterUserScramCredentialsRequest *b = body;
    return nn(b->deletions.n) + nn(b->upsertions.n);
}

static void alter_users_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                            bool full)
{
    (void)req, (void)full;
    const struct AlterUserScramCredentialsRequest *b = body;
    int32_t nd = nn(b->deletions.n);
    bool del = i < nd;
    sl_str_t name = del ? b->deletions.a[i].name : b->upsertions.a[i - nd].name;
    int8_t mech = del ? b->deletions.a[i].mechanism : b->upsertions.a[i - nd].mechanism;
    const char *m = sl_scram_mech_name(mech);
    res_begin(j, "USER", name);
    sl_aj_kcstr(j, "operation", del ? "delete" : "upsert");
    sl_aj_kcstr(j, "mechanism", m ? m : "UNKNOWN");
    if (!del)
        sl_aj_ki64(j, "iterations", b->upsertions.a[i - nd].iterations);
    res_end(j, true);
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

static int32_t auto_create_n(const struct sl_req *req, const void *body)
{
    (void)req;
    return nn(((const struct MetadataRequest *)body)->topics.n);
}

/* Writes nothing for a topic that exists (or cannot be created). */
static void auto_create_one(struct sl_aj *j, const struct sl_req *req, const void *body, int32_t i,
                            bool full)
{
    (void)full;
    sl_str_t name = ((const struct MetadataRequest *)body)->topics.a[i].name;
    if (!may_auto_create(req, name))
        return;
    res_begin(j, "TOPIC", name);
    sl_aj_kbool(j, "auto_create", true);
    res_end(j, true);
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

/* ---- the records ---- */

/* The state of a request's intent across its parts. */
struct parts {
    const struct lister *l;
    const struct sl_req *req;
    const void *body;
    int32_t next, n;
    int part;
};

/* Writes the resources of one part, as many as fit, from ps->next on. */
static void part_members(struct sl_aj *j, const void *arg)
{
    struct parts *ps = (struct parts *)arg; /* the caller's, writable */
    sl_aj_key(j, "resources");
    sl_aj_arr_begin(j);
    size_t start = j->w->len;
    int values = 0, written = 0;
    while (ps->next < ps->n) {
        struct sl_aj saved = *j;
        size_t mark = j->w->len;
        ps->l->one(j, ps->req, ps->body, ps->next, true);
        int v = sl_aj_count_values(j->w->data + mark, j->w->len - mark);
        bool over = j->w->len - start > PART_MAX_BYTES || values + v > PART_MAX_VALUES;
        if (over && written > 0) {
            *j = saved; /* it goes into the next part */
            j->w->len = mark;
            break;
        }
        if (over) { /* too large alone: named without its details */
            *j = saved;
            j->w->len = mark;
            ps->l->one(j, ps->req, ps->body, ps->next, false);
            v = sl_aj_count_values(j->w->data + mark, j->w->len - mark);
        }
        values += v;
        written++;
        ps->next++;
    }
    sl_aj_arr_end(j);
    sl_aj_ki64(j, "part", ps->part);
    if (ps->next < ps->n)
        sl_aj_kbool(j, "more", true);
}

static const struct lister L_CREATE_TOPICS = {create_topics_n, create_topics_one};
static const struct lister L_DELETE_TOPICS = {delete_topics_n, delete_topics_one};
static const struct lister L_DELETE_RECORDS = {delete_records_n, delete_records_one};
static const struct lister L_CREATE_ACLS = {create_acls_n, create_acls_one};
static const struct lister L_DELETE_ACLS = {delete_acls_n, delete_acls_one};
static const struct lister L_ALTER_CONFIGS = {alter_configs_n, alter_configs_one};
static const struct lister L_INCREMENTAL = {incremental_n, incremental_one};
static const struct lister L_CREATE_PARTITIONS = {create_partitions_n, create_partitions_one};
static const struct lister L_DELETE_GROUPS = {delete_groups_n, delete_groups_one};
static const struct lister L_OFFSET_DELETE = {offset_delete_n, offset_delete_one};
static const struct lister L_OFFSET_RESET = {offset_reset_n, offset_reset_one};
static const struct lister L_ALTER_USERS = {alter_users_n, alter_users_one};
static const struct lister L_AUTO_CREATE = {auto_create_n, auto_create_one};

/* The lister of req when it asks for a change, else NULL. */
static const struct lister *lister_of(const struct sl_req *req)
{
    const void *body = req->body;
    switch (req->hdr.api_key) {
    case SL_API_CREATE_TOPICS:
        return ((const struct CreateTopicsRequest *)body)->validate_only ? NULL : &L_CREATE_TOPICS;
    case SL_API_DELETE_TOPICS:
        return &L_DELETE_TOPICS;
    case SL_API_DELETE_RECORDS:
        return &L_DELETE_RECORDS;
    case SL_API_CREATE_ACLS:
        return &L_CREATE_ACLS;
    case SL_API_DELETE_ACLS:
        return &L_DELETE_ACLS;
    case SL_API_ALTER_CONFIGS:
        return ((const struct AlterConfigsRequest *)body)->validate_only ? NULL : &L_ALTER_CONFIGS;
    case SL_API_INCREMENTAL_ALTER_CONFIGS:
        return ((const struct IncrementalAlterConfigsRequest *)body)->validate_only ? NULL
                                                                                    : &L_INCREMENTAL;
    case SL_API_CREATE_PARTITIONS:
        return ((const struct CreatePartitionsRequest *)body)->validate_only ? NULL
                                                                             : &L_CREATE_PARTITIONS;
    case SL_API_DELETE_GROUPS:
        return &L_DELETE_GROUPS;
    case SL_API_OFFSET_DELETE:
        return &L_OFFSET_DELETE;
    case SL_API_ALTER_USER_SCRAM_CREDENTIALS:
        return &L_ALTER_USERS;
    case SL_API_OFFSET_COMMIT: {
        /* A reset (api/offsets.c): generation -1 and no member id. */
        const struct OffsetCommitRequest *b = body;
        return b->generation_id_or_member_epoch == -1 && b->member_id.len <= 0 ? &L_OFFSET_RESET
                                                                                : NULL;
    }
    case SL_API_METADATA:
        return metadata_creates(req, body) ? &L_AUTO_CREATE : NULL;
    default:
        return NULL;
    }
}

uint64_t sl_api_audit_intent(struct sl_req *req)
{
    const struct lister *l = lister_of(req);
    if (!l)
        return SL_AUDIT_SEQ_NONE;
    struct parts ps = {.l = l, .req = req, .body = req->body, .next = 0, .part = 0};
    ps.n = l->count(req, req->body);
    if (ps.n == 0)
        return SL_AUDIT_SEQ_NONE; /* names nothing: changes nothing */
    struct sl_audit_ctx ctx;
    sl_audit_ctx_from_req(&ctx, req);
    uint64_t seq = SL_AUDIT_SEQ_NONE;
    do {
        seq = sl_audit_intent(&ctx, part_members, &ps);
        if (seq == SL_AUDIT_SEQ_FAILED || seq == SL_AUDIT_SEQ_NONE)
            return seq;
        ps.part++;
    } while (ps.next < ps.n);
    return seq;
}
