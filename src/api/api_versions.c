/* SPDX-License-Identifier: Apache-2.0
 *
 * ApiVersions (key 18): answered straight from the dispatcher table, so an
 * API is advertised exactly when it is served. v3+ requests carry the
 * client's software name and version, validated as Kafka does. A request
 * newer than v4 gets the v0-encoded UNSUPPORTED_VERSION reply (PROTOCOL.md
 * §1.5), built by the dispatcher through sl_api_api_versions_unsupported.
 */
#include <stdbool.h>

#include "api/api.h"
#include "api/util.h"
#include "protocol/dispatch.h"
#include "protocol/gen/api_versions.h"
#include "sluice/err.h"

/* Kafka's pattern: [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? */
static bool valid_software_field(sl_str_t s)
{
    if (s.len <= 0)
        return false;
    for (int32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        bool edge = i == 0 || i == s.len - 1;
        if (!alnum && (edge || (c != '-' && c != '.')))
            return false;
    }
    return true;
}

static void fill_keys(struct sl_req *req, struct ApiVersionsResponse *resp)
{
    int n = 0, i = 0;
    while (sl_dispatch_next(&i))
        n++;
    SL_ARR(req, resp->api_keys, n, sl_desc_ApiVersionsResponse_ApiVersion);
    i = 0;
    const struct sl_api_row *row;
    for (int k = 0; (row = sl_dispatch_next(&i)); k++) {
        resp->api_keys.a[k].api_key = row->key;
        resp->api_keys.a[k].min_version = row->min_version;
        resp->api_keys.a[k].max_version = row->max_version;
    }
}

int sl_api_api_versions(struct sl_req *req)
{
    struct ApiVersionsRequest *body = req->body;
    struct ApiVersionsResponse *resp = req->resp;
    if (req->hdr.api_version >= 3 && (!valid_software_field(body->client_software_name) ||
                                      !valid_software_field(body->client_software_version))) {
        resp->error_code = SL_ERR_INVALID_REQUEST;
        return SL_HANDLER_DONE;
    }
    fill_keys(req, resp);
    return SL_HANDLER_DONE;
}

void sl_api_api_versions_unsupported(struct sl_req *req)
{
    struct ApiVersionsResponse *resp = req->resp;
    const struct sl_api_row *row = sl_dispatch_row(SL_API_API_VERSIONS);
    req->hdr.api_version = 0; /* the reply is a v0 body */
    resp->error_code = SL_ERR_UNSUPPORTED_VERSION;
    SL_ARR(req, resp->api_keys, 1, sl_desc_ApiVersionsResponse_ApiVersion);
    resp->api_keys.a[0].api_key = SL_API_API_VERSIONS;
    resp->api_keys.a[0].min_version = row->min_version;
    resp->api_keys.a[0].max_version = row->max_version;
}
