/* SPDX-License-Identifier: Apache-2.0
 *
 * ACL bindings and filters (acl.h): CreateAcls validation (PROTOCOL.md §6.4
 * plus Sluice's limits), filter validation and matching (§6.3, as Kafka's
 * ResourcePatternFilter and AccessControlEntryFilter), equality, the
 * canonical order of bindings and copies. The compiled set and the
 * decision are in acl_set.c; the names of the codes in acl_names.c.
 */
#include "security/authz/acl.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"

/* True when s (NUL-terminated) is 1..SL_ACL_NAME_MAX bytes of well-formed
 * UTF-8; *len receives its length (up to SL_ACL_NAME_MAX + 1). */
static bool text_ok(const char *s, size_t *len)
{
    size_t n = strnlen(s, SL_ACL_NAME_MAX + 1);
    *len = n;
    if (n == 0 || n > SL_ACL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += sl_utf8_decode(s + i, n - i, &cp);
        if (cp == SL_UTF8_INVALID)
            return false;
    }
    return true;
}

bool sl_acl_principal_split(const char *principal, size_t len, size_t *type_len)
{
    const char *colon = memchr(principal, ':', len);
    if (!colon || colon == principal || (size_t)(colon - principal) + 1 == len)
        return false;
    *type_len = (size_t)(colon - principal);
    return true;
}

/* True when host is "*" or a numeric IPv4 or IPv6 address. */
static bool host_ok(const char *host)
{
    unsigned char addr[16];
    return strcmp(host, "*") == 0 || inet_pton(AF_INET, host, addr) == 1 ||
           inet_pton(AF_INET6, host, addr) == 1;
}

const char *sl_acl_validate(const struct sl_acl *a)
{
    size_t n, tl;
    if (!a)
        return "No ACL binding";
    if (a->res <= SL_ACL_RES_ANY || a->res >= SL_ACL_RES_MAX)
        return "Invalid resourceType";
    if (a->pattern != SL_ACL_PAT_LITERAL && a->pattern != SL_ACL_PAT_PREFIXED)
        return "Invalid patternType";
    if (a->op <= SL_ACL_OP_ANY || a->op >= SL_ACL_OP_MAX)
        return "Invalid operation";
    if (a->perm != SL_ACL_PERM_ALLOW && a->perm != SL_ACL_PERM_DENY)
        return "Invalid permissionType";
    if (!a->name || !a->name[0])
        return "Invalid empty resource name";
    if (!text_ok(a->name, &n))
        return n > SL_ACL_NAME_MAX ? "Resource name too long (limit 1024 bytes)"
                                   : "Resource name is not well-formed UTF-8";
    /* Kafka (AclApis.handleCreateAcls): the authorizer only ever asks about
     * kafka-cluster, so any other cluster name would never match. */
    if (a->res == SL_ACL_RES_CLUSTER && strcmp(a->name, SL_ACL_CLUSTER_NAME) != 0)
        return "The only valid name for the CLUSTER resource is " SL_ACL_CLUSTER_NAME;
    if (!a->principal || !a->principal[0])
        return "Invalid empty principal";
    if (!text_ok(a->principal, &n))
        return n > SL_ACL_NAME_MAX ? "Principal too long (limit 1024 bytes)"
                                   : "Principal is not well-formed UTF-8";
    if (!sl_acl_principal_split(a->principal, n, &tl))
        return "Could not parse principal (the form Type:name is expected, both non-empty)";
    if (!a->host || !a->host[0])
        return "Invalid empty host";
    if (!text_ok(a->host, &n))
        return n > SL_ACL_NAME_MAX ? "Host too long (limit 1024 bytes)"
                                   : "Host is not well-formed UTF-8";
    if (!host_ok(a->host))
        return "Invalid host (\"*\" or a numeric IPv4 or IPv6 address expected)";
    return NULL;
}

const char *sl_acl_filter_validate(const struct sl_acl_filter *f)
{
    /* Kafka maps every unknown code to UNKNOWN, and refuses UNKNOWN. */
    if (!f)
        return "No ACL filter";
    if (f->res <= SL_ACL_RES_UNKNOWN || f->res >= SL_ACL_RES_MAX)
        return "Invalid resourceType in filter";
    if (f->pattern <= SL_ACL_PAT_UNKNOWN || f->pattern >= SL_ACL_PAT_MAX)
        return "Invalid patternType in filter";
    if (f->op <= SL_ACL_OP_UNKNOWN || f->op >= SL_ACL_OP_MAX)
        return "Invalid operation in filter";
    if (f->perm <= SL_ACL_PERM_UNKNOWN || f->perm >= SL_ACL_PERM_MAX)
        return "Invalid permissionType in filter";
    return NULL;
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The resource half of a filter (Kafka's ResourcePatternFilter.matches). */
static bool pattern_matches(const struct sl_acl_filter *f, const struct sl_acl *a)
{
    if (f->res != SL_ACL_RES_ANY && f->res != a->res)
        return false;
    if (f->pattern != SL_ACL_PAT_ANY && f->pattern != SL_ACL_PAT_MATCH &&
        f->pattern != a->pattern)
        return false;
    if (!f->name)
        return true;
    /* ANY, LITERAL and PREFIXED compare names exactly: no expansion. */
    if (f->pattern != SL_ACL_PAT_MATCH)
        return str_eq(f->name, a->name);
    /* MATCH: every pattern that applies to a resource called f->name. */
    if (!a->name)
        return false;
    if (a->pattern == SL_ACL_PAT_LITERAL)
        return strcmp(a->name, f->name) == 0 || strcmp(a->name, "*") == 0;
    if (a->pattern == SL_ACL_PAT_PREFIXED)
        return strncmp(f->name, a->name, strlen(a->name)) == 0;
    return false;
}

bool sl_acl_filter_matches(const struct sl_acl_filter *f, const struct sl_acl *a)
{
    if (!pattern_matches(f, a))
        return false;
    /* The entry half (AccessControlEntryFilter.matches): exact strings, no
     * wildcard expansion of "User:*" or "*". */
    if (f->principal && !str_eq(f->principal, a->principal))
        return false;
    if (f->host && !str_eq(f->host, a->host))
        return false;
    if (f->op != SL_ACL_OP_ANY && f->op != a->op)
        return false;
    return f->perm == SL_ACL_PERM_ANY || f->perm == a->perm;
}

/* strcmp with NULL first. */
static int str_cmp(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

int sl_acl_cmp(const struct sl_acl *a, const struct sl_acl *b)
{
    int c;
    if (a->res != b->res)
        return a->res < b->res ? -1 : 1;
    if (a->pattern != b->pattern)
        return a->pattern < b->pattern ? -1 : 1;
    if ((c = str_cmp(a->name, b->name)) != 0)
        return c;
    if ((c = str_cmp(a->principal, b->principal)) != 0)
        return c;
    if ((c = str_cmp(a->host, b->host)) != 0)
        return c;
    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    if (a->perm != b->perm)
        return a->perm < b->perm ? -1 : 1;
    return 0;
}

bool sl_acl_equal(const struct sl_acl *a, const struct sl_acl *b)
{
    return sl_acl_cmp(a, b) == 0;
}

void sl_acl_copy(struct sl_acl *dst, const struct sl_acl *src)
{
    *dst = *src;
    dst->name = src->name ? sl_xstrdup(src->name) : NULL;
    dst->principal = src->principal ? sl_xstrdup(src->principal) : NULL;
    dst->host = src->host ? sl_xstrdup(src->host) : NULL;
}

void sl_acl_clear(struct sl_acl *a)
{
    free(a->name);
    free(a->principal);
    free(a->host);
    memset(a, 0, sizeof *a);
}
