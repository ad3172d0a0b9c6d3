/* SPDX-License-Identifier: Apache-2.0
 *
 * DescribeClientQuotas (key 48, v0-1): Sluice keeps no client quotas yet,
 * so the answer is an empty list (after Kafka's check, DESCRIBE_CONFIGS on
 * the cluster); kafka-configs --describe --entity-type users needs it.
 *
 * DescribeCluster (key 60, v0–2): this broker, the cluster id, itself as
 * controller. Only the broker endpoint type (1) exists here; asking for
 * controllers (2) gets UNSUPPORTED_ENDPOINT_TYPE as in Kafka. Like Kafka,
 * the basic answer needs no permission; the authorized-operations bitfield,
 * when asked for, shows what the principal may do on the cluster.
 */
#include "api/api.h"
#include "api/util.h"
#include "protocol/dispatch.h"
#include "protocol/gen/describe_client_quotas.h"
#include "protocol/gen/describe_cluster.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "sluice/err.h"

int sl_api_describe_cluster(struct sl_req *req)
{
    struct DescribeClusterRequest *body = req->body;
    struct DescribeClusterResponse *resp = req->resp;
    struct sl_broker *b = req->broker;
    resp->endpoint_type = body->endpoint_type;
    if (req->hdr.api_version >= 1 && body->endpoint_type != 1) {
        resp->error_code = SL_ERR_UNSUPPORTED_ENDPOINT_TYPE;
        resp->error_message = sl_api_str(req, "Only the broker endpoint type is supported");
        return SL_HANDLER_DONE;
    }
    resp->cluster_id = sl_api_str(req, b->cluster_id);
    resp->controller_id = b->cfg->node_id;
    SL_ARR(req, resp->brokers, 1, sl_desc_DescribeClusterResponse_DescribeClusterBroker);
    resp->brokers.a[0].broker_id = b->cfg->node_id;
    sl_api_advertised(req, &resp->brokers.a[0].host, &resp->brokers.a[0].port);
    if (body->include_cluster_authorized_operations)
        resp->cluster_authorized_operations =
            sl_authz_ops_bitfield(req, SL_ACL_RES_CLUSTER, SL_STR_LIT(SL_ACL_CLUSTER_NAME));
    return SL_HANDLER_DONE;
}

int sl_api_describe_client_quotas(struct sl_req *req)
{
    struct DescribeClientQuotasResponse *resp = req->resp;
    resp->entries.n = 0;
    if (!sl_authz_cluster(req, SL_ACL_OP_DESCRIBE_CONFIGS)) {
        resp->error_code = SL_ERR_CLUSTER_AUTHORIZATION_FAILED;
        resp->error_message = sl_api_str(req, "Cluster authorization failed.");
        resp->entries.n = -1;
    }
    return SL_HANDLER_DONE;
}
