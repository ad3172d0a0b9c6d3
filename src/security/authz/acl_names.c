/* SPDX-License-Identifier: Apache-2.0
 *
 * Kafka's names of the ACL codes (acl.h, PROTOCOL.md §6.1): resource
 * types, pattern types, operations and permissions, both ways. Used by the
 * CLI, logs and the audit log. Names are Kafka's enum constants
 * (TRANSACTIONAL_ID, DESCRIBE_CONFIGS); from_name also takes Kafka's CLI
 * spellings, case-insensitively and with '-' or '_' ignored
 * ("DescribeConfigs", "describe-configs", "TransactionalId").
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>

#include "security/authz/acl.h"

static const char *const res_names[SL_ACL_RES_MAX] = {
    "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"};
static const char *const pat_names[SL_ACL_PAT_MAX] = {"UNKNOWN", "ANY", "MATCH", "LITERAL",
                                                      "PREFIXED"};
static const char *const op_names[SL_ACL_OP_MAX] = {
    "UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
    "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS",
    "DESCRIBE_TOKENS"};
static const char *const perm_names[SL_ACL_PERM_MAX] = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

/* a equals Kafka name b, ignoring case and any '_' or '-'. */
static bool same_name(const char *a, const char *b)
{
    for (;;) {
        while (*a == '_' || *a == '-')
            a++;
        while (*b == '_' || *b == '-')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
            return false;
        a++;
        b++;
    }
}

static const char *name_of(const char *const *names, int n, int code)
{
    return code >= 0 && code < n ? names[code] : "UNKNOWN";
}

static int code_of(const char *const *names, int n, const char *s)
{
    if (!s)
        return 0;
    for (int i = 1; i < n; i++)
        if (same_name(s, names[i]))
            return i;
    return 0; /* every UNKNOWN code is 0 */
}

const char *sl_acl_res_name(int res)
{
    return name_of(res_names, SL_ACL_RES_MAX, res);
}
const char *sl_acl_pattern_name(int pattern)
{
    return name_of(pat_names, SL_ACL_PAT_MAX, pattern);
}
const char *sl_acl_op_name(int op)
{
    return name_of(op_names, SL_ACL_OP_MAX, op);
}
const char *sl_acl_perm_name(int perm)
{
    return name_of(perm_names, SL_ACL_PERM_MAX, perm);
}
int sl_acl_res_from_name(const char *s)
{
    return code_of(res_names, SL_ACL_RES_MAX, s);
}
int sl_acl_pattern_from_name(const char *s)
{
    return code_of(pat_names, SL_ACL_PAT_MAX, s);
}
int sl_acl_op_from_name(const char *s)
{
    return code_of(op_names, SL_ACL_OP_MAX, s);
}
int sl_acl_perm_from_name(const char *s)
{
    return code_of(perm_names, SL_ACL_PERM_MAX, s);
}
