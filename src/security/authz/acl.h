/* SPDX-License-Identifier: Apache-2.0
 *
 * Kafka's ACL model and the decision function (PROTOCOL.md §5.1, §6).
 *
 * An ACL binding is (resource type, pattern type, resource name, principal,
 * host, operation, permission). A set of bindings is compiled into an
 * immutable struct sl_acl_set: an index by resource type and name (a hash
 * for LITERAL names, a sorted prefix table for PREFIXED patterns, and the
 * LITERAL "*" bindings apart), so one decision costs a few lookups however
 * many ACLs there are. The set is shared read-only between threads; a change
 * builds a new set and swaps it in (the owner holds it by reference count).
 *
 * The decision follows Kafka's StandardAuthorizer:
 *   1. no bindings apply to the resource at all → allowed only when
 *      allow_everyone_if_no_acl is set (reason SL_AUTHZ_NO_ACL);
 *   2. a matching DENY → denied (reason SL_AUTHZ_DENY, acl set);
 *   3. a matching ALLOW (with implied operations: READ, WRITE, DELETE,
 *      ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS; ALL
 *      implies everything; a DENY of ALL denies everything, a DENY of READ
 *      does not deny DESCRIBE) → allowed (reason SL_AUTHZ_ALLOW, acl set);
 *   4. otherwise denied (reason SL_AUTHZ_NO_MATCH).
 * A binding matches when its pattern covers the resource name (LITERAL:
 * equal, or the name "*"; PREFIXED: the name starts with it), its principal
 * equals the principal or is "User:*", and its host equals the client host
 * or is "*". Super users are not the set's business (the caller checks
 * super.users first).
 */
#ifndef SL_SECURITY_AUTHZ_ACL_H
#define SL_SECURITY_AUTHZ_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wire codes (int8 on the wire), PROTOCOL.md §6.1. */
enum sl_acl_res {
    SL_ACL_RES_UNKNOWN = 0,
    SL_ACL_RES_ANY = 1, /* filters only */
    SL_ACL_RES_TOPIC = 2,
    SL_ACL_RES_GROUP = 3,
    SL_ACL_RES_CLUSTER = 4,
    SL_ACL_RES_TRANSACTIONAL_ID = 5,
    SL_ACL_RES_DELEGATION_TOKEN = 6,
    SL_ACL_RES_USER = 7,
    SL_ACL_RES_MAX
};

enum sl_acl_pattern {
    SL_ACL_PAT_UNKNOWN = 0,
    SL_ACL_PAT_ANY = 1,   /* filters only */
    SL_ACL_PAT_MATCH = 2, /* filters only */
    SL_ACL_PAT_LITERAL = 3,
    SL_ACL_PAT_PREFIXED = 4,
    SL_ACL_PAT_MAX
};

enum sl_acl_op {
    SL_ACL_OP_UNKNOWN = 0,
    SL_ACL_OP_ANY = 1, /* filters only */
    SL_ACL_OP_ALL = 2,
    SL_ACL_OP_READ = 3,
    SL_ACL_OP_WRITE = 4,
    SL_ACL_OP_CREATE = 5,
    SL_ACL_OP_DELETE = 6,
    SL_ACL_OP_ALTER = 7,
    SL_ACL_OP_DESCRIBE = 8,
    SL_ACL_OP_CLUSTER_ACTION = 9,
    SL_ACL_OP_DESCRIBE_CONFIGS = 10,
    SL_ACL_OP_ALTER_CONFIGS = 11,
    SL_ACL_OP_IDEMPOTENT_WRITE = 12,
    SL_ACL_OP_CREATE_TOKENS = 13,
    SL_ACL_OP_DESCRIBE_TOKENS = 14,
    SL_ACL_OP_MAX
};

enum sl_acl_perm {
    SL_ACL_PERM_UNKNOWN = 0,
    SL_ACL_PERM_ANY = 1, /* filters only */
    SL_ACL_PERM_DENY = 2,
    SL_ACL_PERM_ALLOW = 3,
    SL_ACL_PERM_MAX
};

/* The cluster resource's only name. */
#define SL_ACL_CLUSTER_NAME "kafka-cluster"

/* Limits on what CreateAcls may store (DoS guards; Kafka has none this
 * tight but real ACL sets are far below them). */
#define SL_ACL_NAME_MAX 1024      /* bytes of a resource name, principal or host */
#define SL_ACL_MAX_BINDINGS 100000 /* bindings in the store */

/* One binding. As an argument it is borrowed; inside a set or as a result
 * of sl_acl_set_list / the meta store it is owned by its container. Strings
 * are NUL-terminated UTF-8. */
struct sl_acl {
    int8_t res;     /* enum sl_acl_res, not UNKNOWN/ANY */
    int8_t pattern; /* SL_ACL_PAT_LITERAL or SL_ACL_PAT_PREFIXED */
    int8_t op;      /* enum sl_acl_op, not UNKNOWN/ANY */
    int8_t perm;    /* SL_ACL_PERM_ALLOW or SL_ACL_PERM_DENY */
    char *name;
    char *principal; /* "User:alice", "User:*" */
    char *host;      /* "*" or an IP address */
};

/* A Describe/DeleteAcls filter (§6.3): NULL strings match anything; ANY
 * codes match anything; SL_ACL_PAT_MATCH matches every pattern that applies
 * to a resource called name. */
struct sl_acl_filter {
    int8_t res;
    int8_t pattern;
    int8_t op;
    int8_t perm;
    const char *name;      /* NULL: any */
    const char *principal; /* NULL: any */
    const char *host;      /* NULL: any */
};

/* Names for logs, the audit log and the CLI ("TOPIC", "PREFIXED", "READ",
 * "ALLOW", Kafka's spelling); "UNKNOWN" for codes out of range. from_name
 * is case-insensitive and returns the UNKNOWN code for unknown names. */
const char *sl_acl_res_name(int res);
const char *sl_acl_pattern_name(int pattern);
const char *sl_acl_op_name(int op);
const char *sl_acl_perm_name(int perm);
int sl_acl_res_from_name(const char *s);
int sl_acl_pattern_from_name(const char *s);
int sl_acl_op_from_name(const char *s);
int sl_acl_perm_from_name(const char *s);

/* CreateAcls validation (§6.4 plus Sluice's limits): returns NULL when a
 * may be stored, otherwise the reason (a static string for error_message,
 * answered as INVALID_REQUEST). Checks codes, a non-empty name (the cluster
 * resource only as "kafka-cluster"), a principal of the form Type:name,
 * a host that is "*" or a numeric IPv4/IPv6 address, lengths, UTF-8. */
const char *sl_acl_validate(const struct sl_acl *a);

/* Filter validation: NULL when f may be used, else the reason (a filter
 * with an UNKNOWN code is refused, INVALID_REQUEST). */
const char *sl_acl_filter_validate(const struct sl_acl_filter *f);

/* True when binding a matches filter f (§6.3). */
bool sl_acl_filter_matches(const struct sl_acl_filter *f, const struct sl_acl *a);

/* True when a and b are the same binding (all seven fields equal). */
bool sl_acl_equal(const struct sl_acl *a, const struct sl_acl *b);

/* Orders bindings as sl_acl_set_at lists them: resource type, pattern,
 * name, principal, host, operation, permission (strings bytewise, as
 * strcmp). Returns <0, 0 (sl_acl_equal) or >0. Both borrowed. */
int sl_acl_cmp(const struct sl_acl *a, const struct sl_acl *b);

/* Splits a principal "Type:name" (borrowed, len bytes, need not be
 * NUL-terminated) at its first ':' as Kafka does (the name may hold more
 * colons). Returns true and the length of the type in *type_len when both
 * the type and the name are non-empty; false otherwise (*type_len
 * untouched). Any thread; no allocation. */
bool sl_acl_principal_split(const char *principal, size_t len, size_t *type_len);

/* Deep-copies src (borrowed) into *dst: new strings the caller frees with
 * sl_acl_clear. */
void sl_acl_copy(struct sl_acl *dst, const struct sl_acl *src);

/* Frees the strings of a (copied by sl_acl_copy) and zeroes it. */
void sl_acl_clear(struct sl_acl *a);

/* ------------------------------------------------------------------------
 * Compiled sets and decisions
 * ------------------------------------------------------------------------ */

struct sl_acl_set;

/* Builds a set from n bindings (borrowed, copied; duplicates kept once).
 * Bindings are expected to pass sl_acl_validate; one that does not is
 * listed but never decides anything. Returns NULL only when out of memory
 * (today never: allocation failures abort, as sl_xmalloc does). The new
 * set has one reference. Costs O(n log n); any thread. */
struct sl_acl_set *sl_acl_set_new(const struct sl_acl *acls, int n);

void sl_acl_set_ref(struct sl_acl_set *s);
void sl_acl_set_unref(struct sl_acl_set *s); /* NULL allowed */

/* Number of bindings in the set. */
int sl_acl_set_count(const struct sl_acl_set *s);

/* The set's bindings in a stable order (resource type, pattern, name,
 * principal, host, operation, permission): valid while the caller holds a
 * reference. */
const struct sl_acl *sl_acl_set_at(const struct sl_acl_set *s, int i);

enum sl_authz_reason {
    SL_AUTHZ_SUPER = 0, /* super user (set by the caller, never by the set) */
    SL_AUTHZ_ALLOW,     /* a matching ALLOW binding */
    SL_AUTHZ_DENY,      /* a matching DENY binding */
    SL_AUTHZ_NO_ACL,    /* no binding applies to the resource */
    SL_AUTHZ_NO_MATCH,  /* bindings apply, none allows */
    SL_AUTHZ_REASON_MAX
};

struct sl_authz_decision {
    bool allowed;
    int8_t reason;            /* enum sl_authz_reason */
    const struct sl_acl *acl; /* the deciding binding (ALLOW/DENY), else NULL; in the set */
};

/* Decides whether principal from host may perform op on the resource (res,
 * name[0..name_len)). name need not be NUL-terminated. Any thread; no
 * allocation; no lock. */
void sl_acl_decide(const struct sl_acl_set *s, const char *principal, const char *host, int op,
                   int res, const char *name, size_t name_len, bool allow_everyone_if_no_acl,
                   struct sl_authz_decision *out);

#endif
