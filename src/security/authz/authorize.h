/* SPDX-License-Identifier: Apache-2.0
 *
 * The authorizer as the request handlers see it: "may this request's
 * principal, from this host, do OP on this resource?" (PROTOCOL.md §5).
 *
 *   sl_authz(req, op, res, name)   the check of an explicitly named resource:
 *                                  a denial is logged (Kafka's authorizer
 *                                  logger, INFO) and handed to the audit hook
 *   sl_authz_quiet(...)            the same decision for filtering lists and
 *                                  for authorized-operations bitfields: not
 *                                  logged; audited only at level "all"
 *
 * Order: super.users are allowed everything (reason SL_AUTHZ_SUPER); then
 * the ACL set of the metadata store decides (security/authz/acl.h), with
 * allow.everyone.if.no.acl.found for resources no ACL mentions.
 *
 * Each connection keeps a small cache of recent decisions, keyed by
 * (operation, resource type, name) and dropped whenever the ACL generation
 * of the store or the connection's principal changes, so a change applies
 * to every connection's next request. Loop thread only (the cache lives in
 * the connection).
 */
#ifndef SL_SECURITY_AUTHZ_AUTHORIZE_H
#define SL_SECURITY_AUTHZ_AUTHORIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "security/authz/acl.h"

struct sl_req;
struct sl_conn;

bool sl_authz(struct sl_req *req, int op, int res, sl_str_t name);
bool sl_authz_quiet(struct sl_req *req, int op, int res, sl_str_t name);

/* The same with a C string name (the cluster: SL_ACL_CLUSTER_NAME). */
bool sl_authz_c(struct sl_req *req, int op, int res, const char *name);
bool sl_authz_cluster(struct sl_req *req, int op);

/* KIP-679: an idempotent producer needs IDEMPOTENT_WRITE on the cluster or
 * WRITE on any topic (any ALLOW binding for WRITE or ALL on a topic that
 * applies to the principal and host). */
bool sl_authz_idempotent_write(struct sl_req *req);

/* The authorized-operations bitfield of a resource (Metadata v8+,
 * DescribeGroups v3+, DescribeCluster): bit (1 << op) for each operation
 * valid for the resource type that the principal may perform. */
int32_t sl_authz_ops_bitfield(struct sl_req *req, int res, sl_str_t name);

/* Kafka's "not requested" bitfield value. */
#define SL_AUTHZ_OPS_OMITTED INT32_MIN

/* One decision as the audit log receives it. name is not NUL-terminated. */
struct sl_authz_event {
    struct sl_req *req;
    int op;
    int res;
    const char *name;
    size_t name_len;
    bool quiet;  /* a filtering / bitfield check, not a named resource */
    bool cached; /* the connection decided this before (same principal, ACLs, resource, op) */
    const struct sl_authz_decision *d;
};

/* The audit hook: called for every decision (loop thread); may set what
 * the request's response must wait for. NULL (the default): none. */
typedef void (*sl_authz_hook_fn)(const struct sl_authz_event *ev);
void sl_authz_set_hook(sl_authz_hook_fn fn);

/* Frees a connection's decision cache (conn close). NULL allowed. */
void sl_authz_cache_free(struct sl_conn *c);

/* Counters (any thread): decisions made, cache hits, denials. */
struct sl_authz_stats {
    uint64_t decisions;
    uint64_t cache_hits;
    uint64_t denials;
};
void sl_authz_stats(struct sl_authz_stats *out);

#endif
