/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for ACL bindings as a CreateAcls request or a store
 * file hands them over: sl_acl_validate, sl_acl_principal_split, filter
 * validation and matching, and a one-binding set with its decision. (The
 * store's acl record decoder is fuzzed by fuzz_meta.c, whose seeds carry
 * acl records.)
 *
 * Input: four code bytes (resource type, pattern type, operation,
 * permission, as int8 on the wire), then up to six '\n'-separated strings:
 * name, principal, host of the binding, then the principal, host and
 * resource name of a request. Beyond crashes and sanitizer reports it
 * checks: a valid binding's principal splits into a non-empty type and
 * name; a valid binding is matched by the all-ANY filter, by its own exact
 * filter and by the MATCH filter of its own name; a set of it holds it
 * once; a request by its own principal from a matching host for its own
 * operation on its own name is decided by it (ALLOW or DENY); and a
 * request on a resource type without bindings is SL_AUTHZ_NO_ACL. A
 * violated promise aborts. Seed corpus: fuzz/corpus/acl/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/logging.h"
#include "core/mem.h"
#include "security/authz/acl.h"

enum { NSTR = 6 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX;
    if (size < 4)
        return 0;
    char *str[NSTR];
    size_t len[NSTR];
    const uint8_t *p = data + 4, *end = data + size;
    for (int i = 0; i < NSTR; i++) {
        const uint8_t *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        const uint8_t *e = nl ? nl : end;
        len[i] = p < end ? (size_t)(e - p) : 0;
        str[i] = sl_xstrndup(p < end ? (const char *)p : "", len[i]);
        /* The raw bytes (NULs included) through the length-based split. */
        size_t tl;
        if (sl_acl_principal_split(p < end ? (const char *)p : "", len[i], &tl) &&
            (tl == 0 || tl + 1 >= len[i] || p[tl] != ':'))
            abort();
        p = nl ? nl + 1 : end;
    }
    struct sl_acl a = {(int8_t)data[0], (int8_t)data[1], (int8_t)data[2], (int8_t)data[3],
                       str[0], str[1], str[2]};
    const char *why = sl_acl_validate(&a);

    /* The same codes as a filter with the binding's strings. */
    struct sl_acl_filter f = {a.res, a.pattern, a.op, a.perm, a.name, a.principal, a.host};
    if (sl_acl_filter_validate(&f) == NULL)
        (void)sl_acl_filter_matches(&f, &a);

    struct sl_acl_set *s = sl_acl_set_new(&a, 1);
    struct sl_authz_decision d;
    sl_acl_decide(s, str[3], str[4], a.op, a.res, str[5], len[5], false, &d);
    if (why == NULL) {
        size_t tl;
        if (!sl_acl_principal_split(a.principal, strlen(a.principal), &tl))
            abort();
        static const struct sl_acl_filter any = {SL_ACL_RES_ANY, SL_ACL_PAT_ANY, SL_ACL_OP_ANY,
                                                 SL_ACL_PERM_ANY, NULL, NULL, NULL};
        struct sl_acl_filter match = {a.res, SL_ACL_PAT_MATCH, SL_ACL_OP_ANY, SL_ACL_PERM_ANY,
                                      a.name, NULL, NULL};
        if (sl_acl_filter_validate(&f) != NULL || !sl_acl_filter_matches(&f, &a) ||
            !sl_acl_filter_matches(&any, &a) || !sl_acl_filter_matches(&match, &a))
            abort();
        if (sl_acl_set_count(s) != 1 || !sl_acl_equal(sl_acl_set_at(s, 0), &a))
            abort();
        /* Its own principal, from a host it names, for its own operation on
         * its own name: it decides. */
        const char *host = strcmp(a.host, "*") == 0 ? "192.0.2.1" : a.host;
        sl_acl_decide(s, a.principal, host, a.op, a.res, a.name, strlen(a.name), false, &d);
        int want = a.perm == SL_ACL_PERM_ALLOW ? SL_AUTHZ_ALLOW : SL_AUTHZ_DENY;
        if (d.reason != want || d.allowed != (want == SL_AUTHZ_ALLOW) ||
            d.acl != sl_acl_set_at(s, 0))
            abort();
        int other = a.res == SL_ACL_RES_TOPIC ? SL_ACL_RES_GROUP : SL_ACL_RES_TOPIC;
        sl_acl_decide(s, a.principal, host, a.op, other, a.name, strlen(a.name), true, &d);
        if (d.reason != SL_AUTHZ_NO_ACL || !d.allowed || d.acl)
            abort();
    }
    sl_acl_set_unref(s);
    for (int i = 0; i < NSTR; i++)
        free(str[i]);
    return 0;
}
