/* SPDX-License-Identifier: Apache-2.0
 *
 * Configuration APIs: DescribeConfigs (key 32, v1–4), AlterConfigs (33,
 * v0–2) and IncrementalAlterConfigs (44, v0–1). Topic resources (type 2)
 * are read and changed; the broker resource (type 4, named by node id or
 * "") is described from the broker's static configuration followed by its
 * read-only status entries (server/broker_status.h), and changing it
 * at run time is refused with INVALID_REQUEST until dynamic broker
 * configuration exists, except for one action key: sluice.keys.rewrap=now
 * (alone in its resource) starts an online key rewrap
 * (server/key_rewrap.h), recorded as a config.alter change on the cluster.
 * BROKER_LOGGER (8) describes as empty.
 *
 * Authorization: DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic (29), on the
 * cluster for the broker and its loggers (31), on the group (30).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_change.h"
#include "api/util.h"
#include "config/topic_config.h"
#include "protocol/dispatch.h"
#include "protocol/gen/alter_configs.h"
#include "protocol/gen/describe_configs.h"
#include "protocol/gen/incremental_alter_configs.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "server/broker_status.h"
#include "server/key_rewrap.h"
#include "server/registry.h"
#include "sluice/err.h"

#define RES_TOPIC 2
#define RES_BROKER 4
#define RES_BROKER_LOGGER 8
#define RES_GROUP 32

/* The configuration resource may be described (op DESCRIBE_CONFIGS) or
 * changed (ALTER_CONFIGS) by this principal: topics need op on the topic
 * (29), the broker and its loggers op on the cluster (31), groups op on the
 * group (30). Other types pass (their own error follows). */
static bool config_allowed(struct sl_req *req, int8_t type, sl_str_t name, int op, int16_t *code,
                           sl_str_t *msg)
{
    int res;
    int16_t err;
    switch (type) {
    case RES_TOPIC:
        res = SL_ACL_RES_TOPIC;
        err = SL_ERR_TOPIC_AUTHORIZATION_FAILED;
        break;
    case RES_BROKER:
    case RES_BROKER_LOGGER:
        if (sl_authz_cluster(req, op))
            return true;
        *code = SL_ERR_CLUSTER_AUTHORIZATION_FAILED;
        *msg = sl_api_str(req, "Cluster authorization failed.");
        return false;
    case RES_GROUP:
        res = SL_ACL_RES_GROUP;
        err = SL_ERR_GROUP_AUTHORIZATION_FAILED;
        break;
    default:
        return true;
    }
    if (sl_authz(req, op, res, name))
        return true;
    *code = err;
    *msg = sl_api_str(req, err == SL_ERR_TOPIC_AUTHORIZATION_FAILED ? "Topic authorization failed."
                                                                    : "Group authorization failed.");
    return false;
}

/* ---- DescribeConfigs ---- */

struct describe_ctx {
    struct sl_req *req;
    struct DescribeConfigsRequest_DescribeConfigsResource *q;
    struct DescribeConfigsResponse_DescribeConfigsResult *r;
    bool synonyms, docs;
    bool counting;
    int32_t n;
    const struct sl_config *cfg;
    const struct sl_kv *over; /* topic overrides; NULL for the broker resource */
    int n_over;
    bool topic;
};

struct syn_ctx {
    struct sl_req *req;
    struct DescribeConfigsResponse_DescribeConfigsResourceResult *c;
    int32_t n;
    bool counting;
};

static void synonym_cb(void *arg, const char *name, const char *value, int source)
{
    struct syn_ctx *sc = arg;
    if (sc->counting) {
        sc->n++;
        return;
    }
    if (sc->n >= sc->c->synonyms.n)
        return;
    struct DescribeConfigsResponse_DescribeConfigsSynonym *y = &sc->c->synonyms.a[sc->n++];
    y->name = sl_api_str(sc->req, name);
    y->value = sc->c->is_sensitive || !value ? SL_STR_NULL : sl_api_str(sc->req, value);
    y->source = (int8_t)source;
}

/* The synonyms of one config, most specific first (topic override, broker
 * setting, default), as Kafka lists them. */
static void fill_synonyms(struct describe_ctx *dc, const char *name,
                          struct DescribeConfigsResponse_DescribeConfigsResourceResult *c)
{
    struct syn_ctx sc = {dc->req, c, 0, true};
    for (int pass = 0; pass < 2; pass++) {
        if (dc->topic)
            sl_topic_config_synonyms(dc->cfg, dc->over, dc->n_over, name, synonym_cb, &sc);
        else
            sl_config_synonyms(dc->cfg, name, synonym_cb, &sc);
        if (pass == 0) {
            SL_ARR(dc->req, c->synonyms, sc.n, sl_desc_DescribeConfigsResponse_DescribeConfigsSynonym);
            sc.counting = false;
            sc.n = 0;
        }
    }
}

static bool wanted(const struct DescribeConfigsRequest_DescribeConfigsResource *q, const char *name)
{
    if (q->configuration_keys.n < 0)
        return true;
    for (int32_t i = 0; i < q->configuration_keys.n; i++) {
        if (sl_str_eq_c(q->configuration_keys.a[i], name))
            return true;
    }
    return false;
}

static void describe_cb(void *arg, const char *name, const char *value, int source, bool sensitive,
                        bool read_only, int type, const char *doc)
{
    struct describe_ctx *dc = arg;
    if (!wanted(dc->q, name))
        return;
    if (dc->counting) {
        dc->n++;
        return;
    }
    if (dc->n >= dc->r->configs.n)
        return;
    struct DescribeConfigsResponse_DescribeConfigsResourceResult *c = &dc->r->configs.a[dc->n++];
    struct sl_req *req = dc->req;
    c->name = sl_api_str(req, name);
    c->value = sensitive || !value ? SL_STR_NULL : sl_api_str(req, value);
    c->read_only = read_only;
    c->config_source = (int8_t)source;
    c->is_sensitive = sensitive;
    c->config_type = (int8_t)type;
    c->documentation = dc->docs && doc ? sl_api_str(req, doc) : SL_STR_NULL;
    if (dc->synonyms)
        fill_synonyms(dc, name, c);
}

static bool is_this_broker(struct sl_req *req, sl_str_t name)
{
    if (name.len == 0)
        return true;
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", req->broker->cfg->node_id);
    return sl_str_eq_c(name, buf);
}

int sl_api_describe_configs(struct sl_req *req)
{
    struct DescribeConfigsRequest *body = req->body;
    struct DescribeConfigsResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    int32_t n = body->resources.n > 0 ? body->resources.n : 0;
    SL_ARR(req, resp->results, n, sl_desc_DescribeConfigsResponse_DescribeConfigsResult);
    for (int32_t i = 0; i < n; i++) {
        struct DescribeConfigsRequest_DescribeConfigsResource *q = &body->resources.a[i];
        struct DescribeConfigsResponse_DescribeConfigsResult *r = &resp->results.a[i];
        r->resource_type = q->resource_type;
        r->resource_name = q->resource_name;
        r->error_message = SL_STR_NULL;
        if (!config_allowed(req, q->resource_type, q->resource_name, SL_ACL_OP_DESCRIBE_CONFIGS,
                            &r->error_code, &r->error_message))
            continue;
        struct describe_ctx dc = {req, q, r, body->include_synonyms, body->include_documentation,
                                  true, 0, b->cfg, NULL, 0, false};
        if (q->resource_type == RES_TOPIC) {
            struct sl_topic *t = sl_registry_get(b, q->resource_name);
            if (!t) {
                r->error_code = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                r->error_message = sl_api_str(req, "The topic does not exist.");
                continue;
            }
            dc.topic = true;
            dc.over = t->configs;
            dc.n_over = t->n_configs;
            sl_topic_config_describe(b->cfg, t->configs, t->n_configs, describe_cb, &dc);
            SL_ARR(req, r->configs, dc.n, sl_desc_DescribeConfigsResponse_DescribeConfigsResourceResult);
            dc.counting = false;
            dc.n = 0;
            sl_topic_config_describe(b->cfg, t->configs, t->n_configs, describe_cb, &dc);
            sl_topic_unref(t);
        } else if (q->resource_type == RES_BROKER) {
            if (!is_this_broker(req, q->resource_name)) {
                r->error_code = SL_ERR_INVALID_REQUEST;
                r->error_message = sl_api_str(req, "Unexpected broker id, expected this broker's node.id");
                continue;
            }
            /* The configuration keys, then the read-only status entries. */
            sl_config_describe(b->cfg, describe_cb, &dc);
            sl_broker_status_describe(b, describe_cb, &dc);
            SL_ARR(req, r->configs, dc.n, sl_desc_DescribeConfigsResponse_DescribeConfigsResourceResult);
            dc.counting = false;
            dc.n = 0;
            sl_config_describe(b->cfg, describe_cb, &dc);
            sl_broker_status_describe(b, describe_cb, &dc);
        } else if (q->resource_type == RES_BROKER_LOGGER) {
            r->configs.n = 0;
        } else {
            r->error_code = SL_ERR_INVALID_REQUEST;
            r->error_message = sl_api_str(req, "Unsupported resource type");
        }
    }
    return SL_HANDLER_DONE;
}

/* ---- AlterConfigs and IncrementalAlterConfigs ---- */

#define OP_SET 0
#define OP_DELETE 1
#define OP_APPEND 2
#define OP_SUBTRACT 3

struct kvset {
    struct sl_kv *kv;
    int n, cap;
};

static int kv_find(struct kvset *s, const char *key)
{
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->kv[i].key, key) == 0)
            return i;
    }
    return -1;
}

static void kv_set(struct sl_req *req, struct kvset *s, const char *key, const char *value)
{
    int i = kv_find(s, key);
    if (i >= 0) {
        s->kv[i].value = sl_arena_strdup(&req->arena, value);
        return;
    }
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        struct sl_kv *kv = sl_arena_alloc(&req->arena, sizeof(*kv) * (size_t)cap);
        if (s->n)
            memcpy(kv, s->kv, sizeof(*kv) * (size_t)s->n);
        s->kv = kv;
        s->cap = cap;
    }
    s->kv[s->n].key = sl_arena_strdup(&req->arena, key);
    s->kv[s->n].value = sl_arena_strdup(&req->arena, value);
    s->n++;
}

static void kv_del(struct kvset *s, const char *key)
{
    int i = kv_find(s, key);
    if (i < 0)
        return;
    s->kv[i] = s->kv[--s->n];
}

/* List values (cleanup.policy) for APPEND / SUBTRACT. */
static char *list_edit(struct sl_req *req, const char *cur, const char *item, bool add)
{
    char *out = sl_arena_alloc(&req->arena, strlen(cur) + strlen(item) + 2);
    char *tmp = sl_arena_strdup(&req->arena, cur);
    bool present = false;
    for (char *tok = strtok(tmp, ","); tok; tok = strtok(NULL, ",")) {
        if (strcmp(tok, item) == 0) {
            present = true;
            if (!add)
                continue;
        }
        if (*out)
            strcat(out, ",");
        strcat(out, tok);
    }
    if (add && !present) {
        if (*out)
            strcat(out, ",");
        strcat(out, item);
    }
    return out;
}

static void load_topic_kv(struct sl_req *req, const struct sl_topic *t, struct kvset *s)
{
    for (int i = 0; i < t->n_configs; i++)
        kv_set(req, s, t->configs[i].key, t->configs[i].value);
}

/* Only topics can be changed at run time: answers INVALID_REQUEST for any
 * other resource type (with Kafka's hint for the broker), and
 * INVALID_TOPIC_EXCEPTION for an internal topic. */
static bool topic_resource(struct sl_req *req, int8_t type, sl_str_t name, int16_t *code,
                           sl_str_t *msg)
{
    if (type == RES_TOPIC && sl_topic_internal(name)) {
        *code = SL_ERR_INVALID_TOPIC_EXCEPTION;
        *msg = sl_api_str(req, SL_INTERNAL_TOPIC_MSG);
        return false;
    }
    if (type == RES_TOPIC)
        return true;
    *code = SL_ERR_INVALID_REQUEST;
    *msg = sl_api_str(req, type == RES_BROKER ? "Dynamic broker configuration is not supported; "
                                                "change the broker's configuration file"
                                              : "Unsupported resource type");
    return false;
}

/* Applies the finished override set. */
static int16_t commit_topic(struct sl_req *req, sl_str_t name, struct kvset *s, bool validate_only,
                            sl_str_t *msg)
{
    char buf[512];
    sl_err_t rc = sl_registry_set_configs(req->broker, name, s->kv, s->n, validate_only, buf,
                                          sizeof(buf));
    if (rc != SL_ERR_NONE)
        *msg = sl_api_str(req, buf);
    return (int16_t)rc;
}

/* ---- audit ---- */

static void alter_detail(struct sl_aj *j, const void *arg)
{
    const struct AlterConfigsRequest_AlterConfigsResource *q = arg;
    sl_aj_kbool(j, "incremental", false);
    sl_aj_key(j, "configs");
    sl_aj_obj_begin(j);
    for (int32_t c = 0; c < q->configs.n; c++)
        sl_api_audit_config(j, q->configs.a[c].name.p, (size_t)q->configs.a[c].name.len,
                            q->configs.a[c].value.p, q->configs.a[c].value.len);
    sl_aj_obj_end(j);
}

static void incremental_detail(struct sl_aj *j, const void *arg)
{
    static const char *const ops[] = {"SET", "DELETE", "APPEND", "SUBTRACT"};
    const struct IncrementalAlterConfigsRequest_AlterConfigsResource *q = arg;
    sl_aj_kbool(j, "incremental", true);
    sl_aj_key(j, "configs");
    sl_aj_obj_begin(j);
    for (int32_t c = 0; c < q->configs.n; c++) {
        const struct IncrementalAlterConfigsRequest_AlterableConfig *ac = &q->configs.a[c];
        sl_api_audit_config(j, ac->name.p, (size_t)ac->name.len, ac->value.p,
                            ac->config_operation == OP_DELETE ? -1 : ac->value.len);
    }
    sl_aj_obj_end(j);
    sl_aj_key(j, "operations");
    sl_aj_obj_begin(j);
    for (int32_t c = 0; c < q->configs.n; c++) {
        const struct IncrementalAlterConfigsRequest_AlterableConfig *ac = &q->configs.a[c];
        int8_t op = ac->config_operation;
        sl_aj_key_str(j, ac->name.p, (size_t)(ac->name.len > 0 ? ac->name.len : 0));
        sl_aj_cstr(j, op >= 0 && op <= 3 ? ops[op] : "UNKNOWN");
    }
    sl_aj_obj_end(j);
}

/* Records the outcome of a topic's configuration change (r->error_code)
 * and answers the refusal instead if the record cannot be written. */
static void audit_alter(struct sl_req *req, sl_str_t name, void (*detail)(struct sl_aj *, const void *),
                        const void *arg, int16_t *code, sl_str_t *msg)
{
    struct sl_audit_change ch = {
        .type = "config.alter", .res_type = SL_ACL_RES_TOPIC, SL_API_AUDIT_NAME(name),
        .pattern = SL_ACL_PAT_LITERAL, .op = SL_ACL_OP_ALTER_CONFIGS, .detail = detail,
        .detail_arg = arg, .error = *code,
        .message = *code && msg->len > 0 ? sl_api_cstr(req, *msg) : NULL};
    int16_t err = sl_api_audit_change(req, &ch);
    if (err != *code) {
        *code = err;
        *msg = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
    }
}

/* Under policy reject with the audit log down: refuse before changing. */
static bool audit_refused(struct sl_req *req, bool validate_only, int16_t *code, sl_str_t *msg)
{
    if (validate_only || sl_api_audit_ready(req))
        return false;
    *code = sl_api_audit_refusal(req);
    *msg = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
    return true;
}

/* ---- the broker resource: the key rewrap action ---- */

/* One entry of a request on the BROKER resource, whichever API. */
struct broker_entry {
    sl_str_t name, value; /* value.len < 0: null */
    int8_t op;            /* OP_SET for AlterConfigs */
};

/* Whether a change of the BROKER resource is the rewrap action: true when
 * some entry names SL_KEY_REWRAP_CONFIG, then *code and *msg say whether it
 * is well formed (0: the only entry, SET to "now"). False: not the action
 * (the caller refuses dynamic broker configuration as before). */
static bool rewrap_action(struct sl_req *req, const struct broker_entry *e, int32_t n,
                          int16_t *code, sl_str_t *msg)
{
    int32_t at = -1;
    for (int32_t i = 0; i < n; i++)
        if (sl_str_eq_c(e[i].name, SL_KEY_REWRAP_CONFIG))
            at = i;
    if (at < 0)
        return false;
    *code = SL_ERR_NONE;
    if (n != 1) {
        *code = SL_ERR_INVALID_REQUEST;
        *msg = sl_api_str(req, SL_KEY_REWRAP_CONFIG " is an action: send it alone (dynamic broker "
                               "configuration is not supported)");
    } else if (e[at].op != OP_SET || e[at].value.len < 0 || !sl_str_eq_c(e[at].value, "now")) {
        *code = SL_ERR_INVALID_CONFIG;
        *msg = sl_api_str(req, "Invalid value for " SL_KEY_REWRAP_CONFIG ": the only value is "
                               "'now' (set it to start an online key rewrap)");
    }
    return true;
}

/* A change of the BROKER resource (authorized: ALTER_CONFIGS on the
 * cluster): the rewrap action is checked, started (unless validate_only)
 * and recorded; anything else is refused as before. */
static void alter_broker(struct sl_req *req, sl_str_t name, const struct broker_entry *e,
                         int32_t n, bool validate_only,
                         void (*detail)(struct sl_aj *, const void *), const void *arg,
                         int16_t *code, sl_str_t *msg)
{
    if (!rewrap_action(req, e, n, code, msg)) {
        (void)topic_resource(req, RES_BROKER, name, code, msg);
        return;
    }
    if (*code == SL_ERR_NONE && !is_this_broker(req, name)) {
        *code = SL_ERR_INVALID_REQUEST;
        *msg = sl_api_str(req, "Unexpected broker id, expected this broker's node.id");
    }
    if (validate_only)
        return;
    if (audit_refused(req, false, code, msg))
        return;
    if (*code == SL_ERR_NONE) {
        char buf[512];
        *code = sl_key_rewrap_start(req->broker, buf, sizeof buf);
        if (*code != SL_ERR_NONE)
            *msg = sl_api_str(req, buf);
    }
    struct sl_audit_change ch = {
        .type = "config.alter", .res_type = SL_ACL_RES_CLUSTER, .name = SL_ACL_CLUSTER_NAME,
        .name_len = strlen(SL_ACL_CLUSTER_NAME), .pattern = SL_ACL_PAT_LITERAL,
        .op = SL_ACL_OP_ALTER_CONFIGS, .detail = detail, .detail_arg = arg, .error = *code,
        .message = *code && msg->len > 0 ? sl_api_cstr(req, *msg) : NULL};
    int16_t err = sl_api_audit_change(req, &ch);
    if (err != *code) {
        *code = err;
        *msg = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
    }
}

int sl_api_alter_configs(struct sl_req *req)
{
    struct AlterConfigsRequest *body = req->body;
    struct AlterConfigsResponse *resp = req->resp;
    int32_t n = body->resources.n > 0 ? body->resources.n : 0;
    SL_ARR(req, resp->responses, n, sl_desc_AlterConfigsResponse_AlterConfigsResourceResponse);
    for (int32_t i = 0; i < n; i++) {
        struct AlterConfigsRequest_AlterConfigsResource *q = &body->resources.a[i];
        struct AlterConfigsResponse_AlterConfigsResourceResponse *r = &resp->responses.a[i];
        r->resource_type = q->resource_type;
        r->resource_name = q->resource_name;
        r->error_message = SL_STR_NULL;
        if (!config_allowed(req, q->resource_type, q->resource_name, SL_ACL_OP_ALTER_CONFIGS,
                            &r->error_code, &r->error_message))
            continue;
        if (q->resource_type == RES_BROKER) {
            int32_t ne = q->configs.n > 0 ? q->configs.n : 0;
            struct broker_entry *e = sl_arena_alloc(&req->arena, sizeof(*e) * (size_t)(ne + 1));
            for (int32_t c = 0; c < ne; c++)
                e[c] = (struct broker_entry){q->configs.a[c].name, q->configs.a[c].value, OP_SET};
            alter_broker(req, q->resource_name, e, ne, body->validate_only, alter_detail, q,
                         &r->error_code, &r->error_message);
            continue;
        }
        if (!topic_resource(req, q->resource_type, q->resource_name, &r->error_code, &r->error_message)) {
            if (q->resource_type == RES_TOPIC && !body->validate_only &&
                !audit_refused(req, false, &r->error_code, &r->error_message))
                audit_alter(req, q->resource_name, alter_detail, q, &r->error_code, &r->error_message);
            continue;
        }
        if (audit_refused(req, body->validate_only, &r->error_code, &r->error_message))
            continue;
        struct kvset s = {0};
        bool bad = false;
        for (int32_t c = 0; c < q->configs.n && !bad; c++) {
            char *key = sl_api_cstr(req, q->configs.a[c].name);
            if (kv_find(&s, key) >= 0 || q->configs.a[c].value.len < 0) {
                r->error_code = SL_ERR_INVALID_REQUEST;
                r->error_message = sl_api_str(req, q->configs.a[c].value.len < 0
                                                       ? "Null value not supported for topic configs"
                                                       : "Error due to duplicate config keys");
                bad = true;
                break;
            }
            kv_set(req, &s, key, sl_api_cstr(req, q->configs.a[c].value));
        }
        if (!bad)
            r->error_code = commit_topic(req, q->resource_name, &s, body->validate_only, &r->error_message);
        if (!body->validate_only)
            audit_alter(req, q->resource_name, alter_detail, q, &r->error_code, &r->error_message);
    }
    return SL_HANDLER_DONE;
}

int sl_api_incremental_alter_configs(struct sl_req *req)
{
    struct IncrementalAlterConfigsRequest *body = req->body;
    struct IncrementalAlterConfigsResponse *resp = req->resp;
    int32_t n = body->resources.n > 0 ? body->resources.n : 0;
    SL_ARR(req, resp->responses, n,
           sl_desc_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse);
    for (int32_t i = 0; i < n; i++) {
        struct IncrementalAlterConfigsRequest_AlterConfigsResource *q = &body->resources.a[i];
        struct IncrementalAlterConfigsResponse_AlterConfigsResourceResponse *r = &resp->responses.a[i];
        r->resource_type = q->resource_type;
        r->resource_name = q->resource_name;
        r->error_message = SL_STR_NULL;
        if (!config_allowed(req, q->resource_type, q->resource_name, SL_ACL_OP_ALTER_CONFIGS,
                            &r->error_code, &r->error_message))
            continue;
        if (q->resource_type == RES_BROKER) {
            int32_t ne = q->configs.n > 0 ? q->configs.n : 0;
            struct broker_entry *e = sl_arena_alloc(&req->arena, sizeof(*e) * (size_t)(ne + 1));
            for (int32_t c = 0; c < ne; c++)
                e[c] = (struct broker_entry){q->configs.a[c].name, q->configs.a[c].value,
                                             q->configs.a[c].config_operation};
            alter_broker(req, q->resource_name, e, ne, body->validate_only, incremental_detail, q,
                         &r->error_code, &r->error_message);
            continue;
        }
        if (!topic_resource(req, q->resource_type, q->resource_name, &r->error_code, &r->error_message)) {
            if (q->resource_type == RES_TOPIC && !body->validate_only &&
                !audit_refused(req, false, &r->error_code, &r->error_message))
                audit_alter(req, q->resource_name, incremental_detail, q, &r->error_code,
                            &r->error_message);
            continue;
        }
        if (audit_refused(req, body->validate_only, &r->error_code, &r->error_message))
            continue;
        struct sl_topic *t = sl_registry_get(req->broker, q->resource_name);
        if (!t) {
            r->error_code = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            r->error_message = sl_api_str(req, "The topic does not exist.");
            continue;
        }
        struct kvset s = {0};
        load_topic_kv(req, t, &s);
        sl_topic_unref(t);
        bool bad = false;
        for (int32_t c = 0; c < q->configs.n && !bad; c++) {
            struct IncrementalAlterConfigsRequest_AlterableConfig *ac = &q->configs.a[c];
            for (int32_t d = 0; d < c; d++) {
                if (sl_str_eq(q->configs.a[d].name, ac->name))
                    bad = true;
            }
            if (bad) {
                r->error_code = SL_ERR_INVALID_REQUEST;
                r->error_message = sl_api_str(req, "Error due to duplicate config keys");
                break;
            }
            char *key = sl_api_cstr(req, ac->name);
            char *val = ac->value.len >= 0 ? sl_api_cstr(req, ac->value) : NULL;
            switch (ac->config_operation) {
            case OP_SET:
                if (!val) {
                    bad = true;
                    r->error_code = SL_ERR_INVALID_REQUEST;
                    r->error_message = sl_api_str(req, "Null value not supported for SET");
                } else {
                    kv_set(req, &s, key, val);
                }
                break;
            case OP_DELETE:
                kv_del(&s, key);
                break;
            case OP_APPEND:
            case OP_SUBTRACT: {
                if (strcmp(key, "cleanup.policy") != 0 || !val) {
                    bad = true;
                    r->error_code = SL_ERR_INVALID_CONFIG;
                    r->error_message = sl_api_str(
                        req, sl_arena_printf(&req->arena,
                                             "Config value append/subtract is not allowed for config key: %s",
                                             key));
                    break;
                }
                int k = kv_find(&s, key);
                const char *cur = k >= 0 ? s.kv[k].value : req->broker->cfg->log_cleanup_policy;
                kv_set(req, &s, key, list_edit(req, cur ? cur : "", val, ac->config_operation == OP_APPEND));
                break;
            }
            default:
                bad = true;
                r->error_code = SL_ERR_INVALID_REQUEST;
                r->error_message = sl_api_str(req, "Unknown config operation");
            }
        }
        if (!bad)
            r->error_code = commit_topic(req, q->resource_name, &s, body->validate_only, &r->error_message);
        if (!body->validate_only)
            audit_alter(req, q->resource_name, incremental_detail, q, &r->error_code,
                        &r->error_message);
    }
    return SL_HANDLER_DONE;
}
