/* SPDX-License-Identifier: Apache-2.0
 *
 * Metadata (key 3, v0–12): this broker as the only broker, leader and
 * in-sync replica of every partition, at the address advertised for the
 * listener the client came in on. Topics are listed all (v0 empty array,
 * v1+ null array) or by name (or by id, v10+); a missing topic is created
 * when auto.create.topics.enable and the request allow it (v4+ flag;
 * before v4 always allowed, as in Kafka), and is returned ready at once
 * since creation here is synchronous.
 *
 * Authorization (PROTOCOL.md §5.3): a listing of all topics leaves out
 * those the principal may not DESCRIBE; a named topic without DESCRIBE is
 * TOPIC_AUTHORIZATION_FAILED with a zero id, existence not revealed;
 * auto-creation also needs CREATE on the cluster or on the topic.
 */
#include <string.h>

#include "api/api.h"
#include "api/audit_change.h"
#include "api/util.h"
#include "config/config.h"
#include "net/conn.h"
#include "net/netloop.h"
#include "protocol/dispatch.h"
#include "protocol/gen/metadata.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "server/registry.h"
#include "sluice/err.h"

/* Fills the advertised endpoint of the connection's listener. */
void sl_api_advertised(struct sl_req *req, sl_str_t *host, int32_t *port)
{
    const struct sl_config *cfg = req->broker->cfg;
    const struct sl_listener *l = req->conn->lst;
    for (int i = 0; i < cfg->n_advertised; i++) {
        if (strcmp(cfg->advertised[i].name, l->name) == 0) {
            *host = sl_api_str(req, cfg->advertised[i].host);
            *port = cfg->advertised[i].port;
            return;
        }
    }
    *host = sl_api_str(req, l->host[0] ? l->host : "127.0.0.1");
    *port = l->port;
}

static void fill_topic(struct sl_req *req, struct MetadataResponse_MetadataResponseTopic *rt,
                       const struct sl_topic *t, bool with_ops)
{
    if (with_ops) {
        sl_str_t name = {t->name, (int32_t)strlen(t->name)};
        rt->topic_authorized_operations = sl_authz_ops_bitfield(req, SL_ACL_RES_TOPIC, name);
    }
    int32_t node = req->broker->cfg->node_id;
    rt->error_code = SL_ERR_NONE;
    rt->name = sl_api_str(req, t->name);
    rt->topic_id = t->id;
    rt->is_internal = sl_topic_internal_c(t->name);
    SL_ARR(req, rt->partitions, t->n_parts, sl_desc_MetadataResponse_MetadataResponsePartition);
    for (int32_t p = 0; p < t->n_parts; p++) {
        struct MetadataResponse_MetadataResponsePartition *rp = &rt->partitions.a[p];
        rp->error_code = SL_ERR_NONE;
        rp->partition_index = p;
        rp->leader_id = node;
        rp->leader_epoch = 0;
        SL_ARR_PRIM(req, rp->replica_nodes, 1);
        rp->replica_nodes.a[0] = node;
        SL_ARR_PRIM(req, rp->isr_nodes, 1);
        rp->isr_nodes.a[0] = node;
        rp->offline_replicas.n = 0;
    }
}

/* An auto-created topic's audit detail: the broker's defaults applied. */
static void auto_detail(struct sl_aj *j, const void *arg)
{
    sl_aj_kbool(j, "auto_created", true);
    sl_aj_ki64(j, "num_partitions", *(const int32_t *)arg);
}

int sl_api_metadata(struct sl_req *req)
{
    struct MetadataRequest *body = req->body;
    struct MetadataResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    int16_t ver = req->hdr.api_version;
    bool with_ops = ver >= 8 && body->include_topic_authorized_operations;

    SL_ARR(req, resp->brokers, 1, sl_desc_MetadataResponse_MetadataResponseBroker);
    resp->brokers.a[0].node_id = b->cfg->node_id;
    sl_api_advertised(req, &resp->brokers.a[0].host, &resp->brokers.a[0].port);
    resp->brokers.a[0].rack = SL_STR_NULL;
    resp->cluster_id = sl_api_str(req, b->cluster_id);
    resp->controller_id = b->cfg->node_id;

    if (ver >= 8 && ver <= 10 && body->include_cluster_authorized_operations)
        resp->cluster_authorized_operations =
            sl_authz_ops_bitfield(req, SL_ACL_RES_CLUSTER, SL_STR_LIT(SL_ACL_CLUSTER_NAME));

    bool all = body->topics.n < 0 || (ver == 0 && body->topics.n == 0);
    if (all) {
        /* Topics the principal may not describe are left out, silently. */
        struct sl_topic **ts;
        int n = sl_registry_list(b, &ts);
        SL_ARR(req, resp->topics, n, sl_desc_MetadataResponse_MetadataResponseTopic);
        int32_t k = 0;
        for (int i = 0; i < n; i++) {
            sl_str_t name = {ts[i]->name, (int32_t)strlen(ts[i]->name)};
            if (sl_authz_quiet(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_TOPIC, name))
                fill_topic(req, &resp->topics.a[k++], ts[i], with_ops);
        }
        resp->topics.n = k;
        sl_registry_list_free(ts, n);
        return SL_HANDLER_DONE;
    }

    bool auto_create = b->cfg->auto_create_topics_enable && (ver < 4 || body->allow_auto_topic_creation);
    bool may_create_any = false, create_checked = false;
    SL_ARR(req, resp->topics, body->topics.n, sl_desc_MetadataResponse_MetadataResponseTopic);
    for (int32_t i = 0; i < body->topics.n; i++) {
        struct MetadataRequest_MetadataRequestTopic *qt = &body->topics.a[i];
        struct MetadataResponse_MetadataResponseTopic *rt = &resp->topics.a[i];
        struct sl_topic *t = NULL;
        if (qt->name.len < 0) {
            rt->topic_id = qt->topic_id;
            rt->name = SL_STR_NULL;
            t = sl_uuid_is_zero(&qt->topic_id) ? NULL : sl_registry_get_by_id(b, &qt->topic_id);
            if (!t) {
                rt->error_code = SL_ERR_UNKNOWN_TOPIC_ID;
                continue;
            }
            /* Ids are not secret; names are: 29 with the id, no name. */
            sl_str_t tn = {t->name, (int32_t)strlen(t->name)};
            if (!sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_TOPIC, tn)) {
                rt->error_code = SL_ERR_TOPIC_AUTHORIZATION_FAILED;
                sl_topic_unref(t);
                continue;
            }
        } else {
            rt->name = sl_api_str_dup(req, qt->name);
            /* No DESCRIBE: 29 and a zero id, whether the topic exists or not. */
            if (!sl_authz(req, SL_ACL_OP_DESCRIBE, SL_ACL_RES_TOPIC, qt->name)) {
                rt->error_code = SL_ERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            t = sl_registry_get(b, qt->name);
            if (!t) {
                if (sl_topic_name_invalid(qt->name)) {
                    rt->error_code = SL_ERR_INVALID_TOPIC_EXCEPTION;
                    continue;
                }
                if (!auto_create || sl_topic_internal(qt->name)) {
                    rt->error_code = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                    continue;
                }
                /* Auto-creation needs CREATE on the cluster or the topic. */
                if (!create_checked) {
                    may_create_any = sl_authz_quiet(req, SL_ACL_OP_CREATE, SL_ACL_RES_CLUSTER,
                                                    SL_STR_LIT(SL_ACL_CLUSTER_NAME));
                    create_checked = true;
                }
                if (!may_create_any && !sl_authz(req, SL_ACL_OP_CREATE, SL_ACL_RES_TOPIC, qt->name)) {
                    rt->error_code = SL_ERR_TOPIC_AUTHORIZATION_FAILED;
                    continue;
                }
                if (!sl_api_audit_ready(req)) {
                    rt->error_code = sl_api_audit_refusal(req);
                    continue;
                }
                char msg[256];
                sl_err_t rc = sl_registry_create(b, qt->name, -1, NULL, 0, false, &t, msg, sizeof(msg));
                if (rc != SL_ERR_TOPIC_ALREADY_EXISTS) {
                    struct sl_audit_change ch = {
                        .type = "topic.create", .res_type = SL_ACL_RES_TOPIC,
                        SL_API_AUDIT_NAME(rt->name), .pattern = SL_ACL_PAT_LITERAL,
                        .op = SL_ACL_OP_CREATE, .detail = auto_detail,
                        .detail_arg = &b->cfg->num_partitions, .error = rc,
                        .message = rc != SL_ERR_NONE ? msg : NULL};
                    int16_t err = sl_api_audit_change(req, &ch);
                    if (err != (int16_t)rc) {
                        sl_topic_unref(t);
                        rt->error_code = err;
                        continue;
                    }
                }
                if (rc == SL_ERR_TOPIC_ALREADY_EXISTS) /* lost a race: fine */
                    t = sl_registry_get(b, qt->name);
                else if (rc != SL_ERR_NONE) {
                    rt->error_code = (int16_t)(rc == SL_ERR_INVALID_TOPIC_EXCEPTION ? rc : SL_ERR_LEADER_NOT_AVAILABLE);
                    continue;
                }
                if (!t) {
                    rt->error_code = SL_ERR_LEADER_NOT_AVAILABLE;
                    continue;
                }
            }
        }
        fill_topic(req, rt, t, with_ops);
        sl_topic_unref(t);
    }
    return SL_HANDLER_DONE;
}
