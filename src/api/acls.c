/* SPDX-License-Identifier: Apache-2.0
 *
 * DescribeAcls (key 29), CreateAcls (30) and DeleteAcls (31), v1–3, as
 * Kafka's AclApis and AclControlManager answer them (PROTOCOL.md §6):
 *
 *   - DescribeAcls needs DESCRIBE on the cluster, Create/DeleteAcls ALTER;
 *     a denial is CLUSTER_AUTHORIZATION_FAILED for the whole request (every
 *     result carries it).
 *   - A creation that fails validation (sl_acl_validate) or a filter with an
 *     UNKNOWN code gets INVALID_REQUEST for itself; the others go on. Every
 *     valid creation of one request is stored in one atomic write, as are
 *     every valid filter's deletions.
 *   - DescribeAcls groups the matching bindings per resource pattern.
 *
 * A change is visible to every connection's next request: the store bumps
 * its ACL generation, which each connection's decision cache checks.
 */
#include <string.h>

#include "api/api.h"
#include "api/audit_change.h"
#include "api/util.h"
#include "core/logging.h"
#include "meta/meta.h"
#include "net/conn.h"
#include "protocol/dispatch.h"
#include "protocol/gen/create_acls.h"
#include "protocol/gen/delete_acls.h"
#include "protocol/gen/describe_acls.h"
#include "security/authz/acl.h"
#include "security/authz/authorize.h"
#include "server/broker.h"
#include "sluice/err.h"

static const char DENIED[] = "Cluster authorization failed.";

/* A request string as a C string in the arena; NULL stays NULL. */
static char *nullable_cstr(struct sl_req *req, sl_str_t s)
{
    return s.len < 0 ? NULL : sl_api_cstr(req, s);
}

/* A string that reached the codec may hold NUL bytes; the store's C
 * strings cannot. */
static bool has_nul(sl_str_t s)
{
    return s.len > 0 && memchr(s.p, '\0', (size_t)s.len) != NULL;
}

static int16_t store_error(sl_err_t rc, const char **msg)
{
    switch (rc) {
    case SL_ERR__INVAL:
        *msg = "Invalid ACL.";
        return SL_ERR_INVALID_REQUEST;
    case SL_ERR__LIMIT:
        *msg = "Too many ACLs.";
        return SL_ERR_POLICY_VIOLATION;
    default:
        *msg = "The metadata store could not be written.";
        return SL_ERR_UNKNOWN_SERVER_ERROR;
    }
}

/* ---- DescribeAcls ---- */

/* a and b name the same resource pattern (DescribeAcls groups by it). */
static bool same_pattern(const struct sl_acl *a, const struct sl_acl *b)
{
    return a->res == b->res && a->pattern == b->pattern && strcmp(a->name, b->name) == 0;
}

int sl_api_describe_acls(struct sl_req *req)
{
    struct DescribeAclsRequest *body = req->body;
    struct DescribeAclsResponse *resp = req->resp;
    resp->resources.n = 0;
    if (!sl_authz_cluster(req, SL_ACL_OP_DESCRIBE)) {
        resp->error_code = SL_ERR_CLUSTER_AUTHORIZATION_FAILED;
        resp->error_message = sl_api_str(req, DENIED);
        return SL_HANDLER_DONE;
    }
    struct sl_acl_filter f = {
        .res = body->resource_type_filter,
        .pattern = body->pattern_type_filter,
        .op = body->operation,
        .perm = body->permission_type,
        .name = nullable_cstr(req, body->resource_name_filter),
        .principal = nullable_cstr(req, body->principal_filter),
        .host = nullable_cstr(req, body->host_filter),
    };
    const char *why = sl_acl_filter_validate(&f);
    if (why || has_nul(body->resource_name_filter) || has_nul(body->principal_filter) ||
        has_nul(body->host_filter)) {
        resp->error_code = SL_ERR_INVALID_REQUEST;
        resp->error_message = sl_api_str(req, why ? why : "NUL byte in a filter string");
        return SL_HANDLER_DONE;
    }
    struct sl_meta_acl_list l = {0};
    if (sl_meta_list_acls(req->broker->meta, &f, &l) != SL_ERR_NONE) {
        resp->error_code = SL_ERR_INVALID_REQUEST;
        resp->error_message = sl_api_str(req, "Invalid filter.");
        return SL_HANDLER_DONE;
    }
    /* The list comes in the set's order (resource type, pattern, name
     * first), so each resource pattern's bindings are adjacent. */
    int n_res = 0;
    for (int i = 0; i < l.n; i++) {
        const struct sl_acl *a = &l.acls[i], *p = i ? &l.acls[i - 1] : NULL;
        if (!p || !same_pattern(p, a))
            n_res++;
    }
    SL_ARR(req, resp->resources, n_res, sl_desc_DescribeAclsResponse_DescribeAclsResource);
    int r = -1;
    for (int i = 0; i < l.n; i++) {
        const struct sl_acl *a = &l.acls[i], *p = i ? &l.acls[i - 1] : NULL;
        if (!p || !same_pattern(p, a)) {
            struct DescribeAclsResponse_DescribeAclsResource *dr = &resp->resources.a[++r];
            dr->resource_type = a->res;
            dr->resource_name = sl_api_str(req, a->name);
            dr->pattern_type = a->pattern;
            int k = i;
            while (k < l.n && same_pattern(&l.acls[k], a))
                k++;
            SL_ARR(req, dr->acls, k - i, sl_desc_DescribeAclsResponse_AclDescription);
            dr->acls.n = 0;
        }
        struct DescribeAclsResponse_DescribeAclsResource *dr = &resp->resources.a[r];
        struct DescribeAclsResponse_AclDescription *d = &dr->acls.a[dr->acls.n++];
        d->principal = sl_api_str(req, a->principal);
        d->host = sl_api_str(req, a->host);
        d->operation = a->op;
        d->permission_type = a->perm;
    }
    sl_meta_acl_list_clear(&l);
    resp->error_code = SL_ERR_NONE;
    resp->error_message = SL_STR_NULL;
    return SL_HANDLER_DONE;
}

/* ---- CreateAcls ---- */

/* ---- audit ---- */

static void acl_detail(struct sl_aj *j, const void *arg)
{
    const struct sl_acl *a = arg;
    sl_aj_kcstr(j, "acl_principal", a->principal);
    sl_aj_kcstr(j, "acl_host", a->host);
    sl_aj_kcstr(j, "acl_operation", sl_acl_op_name(a->op));
    sl_aj_kcstr(j, "acl_permission_type", sl_acl_perm_name(a->perm));
}

/* Records one ACL created or deleted (or the attempt) and returns the code
 * to answer. */
static int16_t audit_acl(struct sl_req *req, const char *type, const struct sl_acl *a,
                         int16_t code, sl_str_t msg)
{
    struct sl_audit_change ch = {
        .type = type, .res_type = a->res, .name = a->name ? a->name : "",
        .name_len = a->name ? strlen(a->name) : 0, .pattern = a->pattern, .op = SL_ACL_OP_ALTER,
        .detail = acl_detail, .detail_arg = a, .error = code,
        .message = code && msg.len > 0 ? sl_api_cstr(req, msg) : NULL};
    return sl_api_audit_change(req, &ch);
}

int sl_api_create_acls(struct sl_req *req)
{
    struct CreateAclsRequest *body = req->body;
    struct CreateAclsResponse *resp = req->resp;
    int32_t n = body->creations.n > 0 ? body->creations.n : 0;
    SL_ARR(req, resp->results, n, sl_desc_CreateAclsResponse_AclCreationResult);
    if (n == 0)
        return SL_HANDLER_DONE;
    bool allowed = sl_authz_cluster(req, SL_ACL_OP_ALTER);
    struct sl_acl *valid = sl_arena_alloc(&req->arena, sizeof(*valid) * (size_t)n);
    int32_t *slot = sl_arena_alloc(&req->arena, sizeof(*slot) * (size_t)n);
    int n_valid = 0;
    for (int32_t i = 0; i < n; i++) {
        struct CreateAclsResponse_AclCreationResult *res = &resp->results.a[i];
        if (!allowed) {
            res->error_code = SL_ERR_CLUSTER_AUTHORIZATION_FAILED;
            res->error_message = sl_api_str(req, DENIED);
            continue;
        }
        if (!sl_api_audit_ready(req)) {
            res->error_code = sl_api_audit_refusal(req);
            res->error_message = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
            continue;
        }
        struct CreateAclsRequest_AclCreation *c = &body->creations.a[i];
        struct sl_acl a = {
            .res = c->resource_type,
            .pattern = c->resource_pattern_type,
            .op = c->operation,
            .perm = c->permission_type,
            .name = sl_api_cstr(req, c->resource_name),
            .principal = sl_api_cstr(req, c->principal),
            .host = sl_api_cstr(req, c->host),
        };
        const char *why = sl_acl_validate(&a);
        if (!why && (has_nul(c->resource_name) || has_nul(c->principal) || has_nul(c->host)))
            why = "NUL byte in an ACL string";
        if (!why && req->hdr.api_version < 3 && a.res == SL_ACL_RES_USER)
            why = "The USER resource type needs CreateAcls v3 or later";
        if (why) {
            res->error_code = SL_ERR_INVALID_REQUEST;
            res->error_message = sl_api_str(req, why);
            if (audit_acl(req, "acl.create", &a, res->error_code, res->error_message) !=
                res->error_code) {
                res->error_code = sl_api_audit_refusal(req);
                res->error_message = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
            }
            continue;
        }
        slot[n_valid] = i;
        valid[n_valid++] = a;
    }
    if (n_valid == 0)
        return SL_HANDLER_DONE;
    sl_err_t rc = sl_meta_create_acls(req->broker->meta, valid, n_valid);
    for (int k = 0; k < n_valid; k++) {
        struct CreateAclsResponse_AclCreationResult *res = &resp->results.a[slot[k]];
        if (rc == SL_ERR_NONE) {
            res->error_code = SL_ERR_NONE;
            res->error_message = SL_STR_NULL;
            SL_INFO("acl", "%s created ACL %s %s %s on %s:%s:%s from host %s",
                    req->conn->principal, valid[k].principal, sl_acl_perm_name(valid[k].perm),
                    sl_acl_op_name(valid[k].op), sl_acl_res_name(valid[k].res),
                    sl_acl_pattern_name(valid[k].pattern), valid[k].name, valid[k].host);
        } else {
            const char *msg = NULL;
            res->error_code = store_error(rc, &msg);
            res->error_message = sl_api_str(req, msg);
        }
        if (audit_acl(req, "acl.create", &valid[k], res->error_code, res->error_message) !=
            res->error_code) {
            res->error_code = sl_api_audit_refusal(req);
            res->error_message = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
        }
    }
    return SL_HANDLER_DONE;
}

/* ---- DeleteAcls ---- */

static void fill_matching(struct sl_req *req, struct DeleteAclsResponse_DeleteAclsFilterResult *fr,
                          const struct sl_meta_acl_list *l)
{
    SL_ARR(req, fr->matching_acls, l->n, sl_desc_DeleteAclsResponse_DeleteAclsMatchingAcl);
    for (int i = 0; i < l->n; i++) {
        const struct sl_acl *a = &l->acls[i];
        struct DeleteAclsResponse_DeleteAclsMatchingAcl *m = &fr->matching_acls.a[i];
        m->error_code = SL_ERR_NONE;
        m->error_message = SL_STR_NULL;
        m->resource_type = a->res;
        m->resource_name = sl_api_str(req, a->name);
        m->pattern_type = a->pattern;
        m->principal = sl_api_str(req, a->principal);
        m->host = sl_api_str(req, a->host);
        m->operation = a->op;
        m->permission_type = a->perm;
        SL_INFO("acl", "%s deleted ACL %s %s %s on %s:%s:%s from host %s", req->conn->principal,
                a->principal, sl_acl_perm_name(a->perm), sl_acl_op_name(a->op),
                sl_acl_res_name(a->res), sl_acl_pattern_name(a->pattern), a->name, a->host);
    }
}

int sl_api_delete_acls(struct sl_req *req)
{
    struct DeleteAclsRequest *body = req->body;
    struct DeleteAclsResponse *resp = req->resp;
    int32_t n = body->filters.n > 0 ? body->filters.n : 0;
    SL_ARR(req, resp->filter_results, n, sl_desc_DeleteAclsResponse_DeleteAclsFilterResult);
    if (n == 0)
        return SL_HANDLER_DONE;
    bool allowed = sl_authz_cluster(req, SL_ACL_OP_ALTER);
    struct sl_acl_filter *valid = sl_arena_alloc(&req->arena, sizeof(*valid) * (size_t)n);
    int32_t *slot = sl_arena_alloc(&req->arena, sizeof(*slot) * (size_t)n);
    int n_valid = 0;
    for (int32_t i = 0; i < n; i++) {
        struct DeleteAclsResponse_DeleteAclsFilterResult *fr = &resp->filter_results.a[i];
        fr->matching_acls.n = 0;
        if (!allowed) {
            fr->error_code = SL_ERR_CLUSTER_AUTHORIZATION_FAILED;
            fr->error_message = sl_api_str(req, DENIED);
            continue;
        }
        if (!sl_api_audit_ready(req)) {
            fr->error_code = sl_api_audit_refusal(req);
            fr->error_message = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
            continue;
        }
        struct DeleteAclsRequest_DeleteAclsFilter *q = &body->filters.a[i];
        struct sl_acl_filter f = {
            .res = q->resource_type_filter,
            .pattern = q->pattern_type_filter,
            .op = q->operation,
            .perm = q->permission_type,
            .name = nullable_cstr(req, q->resource_name_filter),
            .principal = nullable_cstr(req, q->principal_filter),
            .host = nullable_cstr(req, q->host_filter),
        };
        const char *why = sl_acl_filter_validate(&f);
        if (!why && (has_nul(q->resource_name_filter) || has_nul(q->principal_filter) ||
                     has_nul(q->host_filter)))
            why = "NUL byte in a filter string";
        if (why) {
            fr->error_code = SL_ERR_INVALID_REQUEST;
            fr->error_message = sl_api_str(req, why);
            continue;
        }
        slot[n_valid] = i;
        valid[n_valid++] = f;
    }
    if (n_valid == 0)
        return SL_HANDLER_DONE;
    struct sl_meta_acl_list *del = sl_arena_alloc(&req->arena, sizeof(*del) * (size_t)n_valid);
    memset(del, 0, sizeof(*del) * (size_t)n_valid);
    sl_err_t rc = sl_meta_delete_acls(req->broker->meta, valid, n_valid, del);
    for (int k = 0; k < n_valid; k++) {
        struct DeleteAclsResponse_DeleteAclsFilterResult *fr = &resp->filter_results.a[slot[k]];
        if (rc == SL_ERR_NONE) {
            fr->error_code = SL_ERR_NONE;
            fr->error_message = SL_STR_NULL;
            fill_matching(req, fr, &del[k]);
            /* One record per ACL deleted (a filter that matched none
             * changed nothing). */
            bool refused = false;
            for (int m = 0; m < del[k].n; m++)
                refused |= audit_acl(req, "acl.delete", &del[k].acls[m], 0, SL_STR_NULL) != 0;
            if (refused) {
                fr->error_code = sl_api_audit_refusal(req);
                fr->error_message = sl_api_str(req, SL_API_AUDIT_REFUSED_MSG);
                fr->matching_acls.n = 0;
            }
        } else {
            const char *msg = NULL;
            fr->error_code = store_error(rc, &msg);
            fr->error_message = sl_api_str(req, msg);
            struct sl_acl fa = {.res = valid[k].res, .pattern = valid[k].pattern,
                                .op = valid[k].op, .perm = valid[k].perm,
                                .name = (char *)valid[k].name,
                                .principal = (char *)valid[k].principal,
                                .host = (char *)valid[k].host};
            if (audit_acl(req, "acl.delete", &fa, fr->error_code, fr->error_message) !=
                fr->error_code)
                fr->error_code = sl_api_audit_refusal(req);
        }
        sl_meta_acl_list_clear(&del[k]);
    }
    return SL_HANDLER_DONE;
}
