/* SPDX-License-Identifier: Apache-2.0
 *
 * Names of the ACL codes (see acl.h), spelled as Kafka's enums are, for
 * logs, the audit log and the CLI.
 */
#include <ctype.h>
#include <stdbool.h>

#include "security/authz/acl.h"

static const char *const RES[SL_ACL_RES_MAX] = {
    "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER",
};
static const char *const PAT[SL_ACL_PAT_MAX] = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
static const char *const OP[SL_ACL_OP_MAX] = {
    "UNKNOWN",        "ANY",      "ALL",           "READ",          "WRITE",
    "CREATE",         "DELETE",   "ALTER",         "DESCRIBE",      "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS",
};
static const char *const PERM[SL_ACL_PERM_MAX] = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

static const char *name_of(const char *const *t, int n, int code)
{
    return code >= 0 && code < n ? t[code] : "UNKNOWN";
}

/* Case-insensitive, and underscores optional: "IdempotentWrite" and
 * "idempotent_write" are IDEMPOTENT_WRITE, as kafka-acls.sh accepts them. */
static bool same_name(const char *canon, const char *s)
{
    while (*canon || *s) {
        if (*canon == '_' && *s != '_') {
            canon++;
            continue;
        }
        if (tolower((unsigned char)*canon) != tolower((unsigned char)*s))
            return false;
        canon++;
        s++;
    }
    return true;
}

static int code_of(const char *const *t, int n, const char *s)
{
    for (int i = 0; s && *s && i < n; i++) {
        if (same_name(t[i], s))
            return i;
    }
    return 0;
}

const char *sl_acl_res_name(int res) { return name_of(RES, SL_ACL_RES_MAX, res); }
const char *sl_acl_pattern_name(int pattern) { return name_of(PAT, SL_ACL_PAT_MAX, pattern); }
const char *sl_acl_op_name(int op) { return name_of(OP, SL_ACL_OP_MAX, op); }
const char *sl_acl_perm_name(int perm) { return name_of(PERM, SL_ACL_PERM_MAX, perm); }
int sl_acl_res_from_name(const char *s) { return code_of(RES, SL_ACL_RES_MAX, s); }
int sl_acl_pattern_from_name(const char *s) { return code_of(PAT, SL_ACL_PAT_MAX, s); }
int sl_acl_op_from_name(const char *s) { return code_of(OP, SL_ACL_OP_MAX, s); }
int sl_acl_perm_from_name(const char *s) { return code_of(PERM, SL_ACL_PERM_MAX, s); }
