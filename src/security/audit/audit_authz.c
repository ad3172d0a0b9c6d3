/* SPDX-License-Identifier: Apache-2.0
 *
 * The authorizer's audit hook (security/authz/authorize.h): every
 * authorization decision reaches the audit log as Kafka's codes and the
 * deciding ACL in kafka-acls wording.
 *
 *   - a denial of a named resource is recorded, and the request's response
 *     waits until the record is durable (sl_audit_hold_req);
 *   - an allowed decision is recorded as sluice.audit.authz.level says:
 *     never (none), the first time a connection's session decides it for a
 *     resource and operation (first: a miss in the connection's decision
 *     cache, which is dropped when the principal or the ACLs change), or
 *     always (all); it is never waited for;
 *   - a "quiet" check (filtering a Metadata listing or ListGroups, computing
 *     an authorized-operations bitfield) is recorded only at level all,
 *     whether allowed or not: it names no resource the client asked for,
 *     and a listing would otherwise write one record per topic.
 */
#include <stdio.h>

#include "protocol/request.h"
#include "security/audit/audit.h"
#include "security/authz/acl.h"
#include "security/authz/authorize.h"

static const char *acl_text(const struct sl_authz_decision *d, char *buf, size_t n)
{
    if (d->reason == SL_AUTHZ_SUPER)
        return "super.users";
    if (!d->acl)
        return NULL; /* the default decision: no ACL matched */
    const struct sl_acl *a = d->acl;
    snprintf(buf, n,
             "(principal=%s, host=%s, operation=%s, permissionType=%s) on "
             "ResourcePattern(resourceType=%s, name=%s, patternType=%s)",
             a->principal, a->host, sl_acl_op_name(a->op), sl_acl_perm_name(a->perm),
             sl_acl_res_name(a->res), a->name, sl_acl_pattern_name(a->pattern));
    return buf;
}

void sl_audit_authz_hook(const struct sl_authz_event *ev)
{
    if (!sl_audit_enabled())
        return;
    int level = sl_audit_authz_level();
    bool allowed = ev->d->allowed;
    if (ev->quiet && level != SL_AUDIT_AUTHZ_ALL)
        return;
    if (allowed && (level == SL_AUDIT_AUTHZ_NONE || (level == SL_AUDIT_AUTHZ_FIRST && ev->cached)))
        return;
    struct sl_audit_ctx ctx;
    sl_audit_ctx_from_req(&ctx, ev->req);
    char buf[3 * SL_ACL_NAME_MAX + 256];
    uint64_t seq = sl_audit_authz(&ctx, ev->res, SL_ACL_PAT_LITERAL, ev->name, ev->name_len, ev->op,
                                  allowed, acl_text(ev->d, buf, sizeof buf));
    if (!allowed && !ev->quiet)
        sl_audit_hold_req(ev->req, seq);
}
