/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of src/security/authz/acl.c and acl_set.c: CreateAcls
 * validation, filter validation and the filter semantics of PROTOCOL.md
 * §6.3 (ANY, MATCH, LITERAL, PREFIXED, null fields), the set's order,
 * duplicates and reference counting, the decision cases of §5.1, and a
 * randomized comparison of sl_acl_decide with a linear-scan reference
 * written here after Kafka's StandardAuthorizerData (fixed seed; the seed
 * and the failing case are printed on a mismatch).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logging.h"
#include "security/authz/acl.h"
#include "test_help.h"

#define T SL_ACL_RES_TOPIC
#define G SL_ACL_RES_GROUP
#define C SL_ACL_RES_CLUSTER
#define LIT SL_ACL_PAT_LITERAL
#define PRE SL_ACL_PAT_PREFIXED
#define ALLOW SL_ACL_PERM_ALLOW
#define DENY SL_ACL_PERM_DENY

static struct sl_acl mk(int res, int pat, const char *name, const char *principal,
                        const char *host, int op, int perm)
{
    return (struct sl_acl){(int8_t)res, (int8_t)pat, (int8_t)op, (int8_t)perm,
                           (char *)name, (char *)principal, (char *)host};
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

static void test_validate(void)
{
    char big[SL_ACL_NAME_MAX + 2];
    memset(big, 'n', sizeof big);
    big[SL_ACL_NAME_MAX] = '\0'; /* 1024 bytes: accepted */
    char bigger[SL_ACL_NAME_MAX + 2];
    memset(bigger, 'n', sizeof bigger);
    bigger[SL_ACL_NAME_MAX + 1] = '\0'; /* 1025 bytes */
    char bigp[SL_ACL_NAME_MAX + 8];
    snprintf(bigp, sizeof bigp, "User:%s", bigger + 5);
    const struct {
        struct sl_acl a;
        const char *why; /* NULL: valid; else a substring of the reason */
    } cases[] = {
        {mk(T, LIT, "orders", "User:alice", "*", SL_ACL_OP_READ, ALLOW), NULL},
        {mk(T, PRE, "ord", "User:*", "10.0.0.1", SL_ACL_OP_ALL, DENY), NULL},
        {mk(G, LIT, "*", "Group:ops", "::1", SL_ACL_OP_DESCRIBE, ALLOW), NULL},
        {mk(C, LIT, "kafka-cluster", "User:admin", "*", SL_ACL_OP_ALTER, ALLOW), NULL},
        {mk(C, PRE, "kafka-cluster", "User:admin", "*", SL_ACL_OP_ALTER, ALLOW), NULL},
        {mk(SL_ACL_RES_USER, LIT, "bob", "User:a:b:c", "fe80::1", SL_ACL_OP_DESCRIBE_TOKENS,
            ALLOW),
         NULL},
        {mk(SL_ACL_RES_TRANSACTIONAL_ID, LIT, "t\xc3\xa9", "User:z\xc3\xb6", "*",
            SL_ACL_OP_WRITE, ALLOW),
         NULL},
        {mk(T, LIT, big, "User:a", "*", SL_ACL_OP_READ, ALLOW), NULL},
        {mk(T, LIT, "x", "User:a", "::ffff:10.0.0.1", SL_ACL_OP_READ, ALLOW), NULL},
        /* Codes. */
        {mk(SL_ACL_RES_UNKNOWN, LIT, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW), "resourceType"},
        {mk(SL_ACL_RES_ANY, LIT, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW), "resourceType"},
        {mk(SL_ACL_RES_MAX, LIT, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW), "resourceType"},
        {mk(-1, LIT, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW), "resourceType"},
        {mk(T, SL_ACL_PAT_ANY, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW), "patternType"},
        {mk(T, SL_ACL_PAT_MATCH, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW), "patternType"},
        {mk(T, SL_ACL_PAT_UNKNOWN, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW), "patternType"},
        {mk(T, 5, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW), "patternType"},
        {mk(T, LIT, "x", "User:a", "*", SL_ACL_OP_ANY, ALLOW), "operation"},
        {mk(T, LIT, "x", "User:a", "*", SL_ACL_OP_UNKNOWN, ALLOW), "operation"},
        {mk(T, LIT, "x", "User:a", "*", SL_ACL_OP_MAX, ALLOW), "operation"},
        {mk(T, LIT, "x", "User:a", "*", SL_ACL_OP_READ, SL_ACL_PERM_ANY), "permissionType"},
        {mk(T, LIT, "x", "User:a", "*", SL_ACL_OP_READ, SL_ACL_PERM_UNKNOWN), "permissionType"},
        {mk(T, LIT, "x", "User:a", "*", SL_ACL_OP_READ, 4), "permissionType"},
        /* Names. */
        {mk(T, LIT, "", "User:a", "*", SL_ACL_OP_READ, ALLOW), "empty resource name"},
        {mk(T, LIT, NULL, "User:a", "*", SL_ACL_OP_READ, ALLOW), "empty resource name"},
        {mk(T, LIT, bigger, "User:a", "*", SL_ACL_OP_READ, ALLOW), "too long"},
        {mk(T, LIT, "a\xff", "User:a", "*", SL_ACL_OP_READ, ALLOW), "UTF-8"},
        {mk(T, LIT, "\xc0\x80", "User:a", "*", SL_ACL_OP_READ, ALLOW), "UTF-8"},
        {mk(T, LIT, "\xed\xa0\x80", "User:a", "*", SL_ACL_OP_READ, ALLOW), "UTF-8"},
        {mk(C, LIT, "my-cluster", "User:a", "*", SL_ACL_OP_READ, ALLOW),
         "The only valid name for the CLUSTER resource is kafka-cluster"},
        {mk(C, LIT, "*", "User:a", "*", SL_ACL_OP_READ, ALLOW), "only valid name"},
        /* Principals. */
        {mk(T, LIT, "x", "alice", "*", SL_ACL_OP_READ, ALLOW), "Could not parse principal"},
        {mk(T, LIT, "x", ":alice", "*", SL_ACL_OP_READ, ALLOW), "Could not parse principal"},
        {mk(T, LIT, "x", "User:", "*", SL_ACL_OP_READ, ALLOW), "Could not parse principal"},
        {mk(T, LIT, "x", "", "*", SL_ACL_OP_READ, ALLOW), "empty principal"},
        {mk(T, LIT, "x", NULL, "*", SL_ACL_OP_READ, ALLOW), "empty principal"},
        {mk(T, LIT, "x", bigp, "*", SL_ACL_OP_READ, ALLOW), "Principal too long"},
        {mk(T, LIT, "x", "User:\x80", "*", SL_ACL_OP_READ, ALLOW), "UTF-8"},
        /* Hosts. */
        {mk(T, LIT, "x", "User:a", "", SL_ACL_OP_READ, ALLOW), "empty host"},
        {mk(T, LIT, "x", "User:a", NULL, SL_ACL_OP_READ, ALLOW), "empty host"},
        {mk(T, LIT, "x", "User:a", "localhost", SL_ACL_OP_READ, ALLOW), "Invalid host"},
        {mk(T, LIT, "x", "User:a", "10.0.0.256", SL_ACL_OP_READ, ALLOW), "Invalid host"},
        {mk(T, LIT, "x", "User:a", "10.0.0.0/8", SL_ACL_OP_READ, ALLOW), "Invalid host"},
        {mk(T, LIT, "x", "User:a", "**", SL_ACL_OP_READ, ALLOW), "Invalid host"},
        {mk(T, LIT, "x", "User:a", " 10.0.0.1", SL_ACL_OP_READ, ALLOW), "Invalid host"},
        {mk(T, LIT, "x", "User:a", "\xff", SL_ACL_OP_READ, ALLOW), "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = sl_acl_validate(&cases[i].a);
        bool ok = cases[i].why ? why && strstr(why, cases[i].why) : why == NULL;
        if (!ok)
            fprintf(stderr, "  case %zu: got %s\n", i, why ? why : "(valid)");
        CHECK(ok);
    }
    CHECK(sl_acl_validate(NULL) != NULL);

    size_t tl = 0;
    CHECK(sl_acl_principal_split("User:alice", 10, &tl) && tl == 4);
    CHECK(sl_acl_principal_split("User:CN=a:b", 11, &tl) && tl == 4);
    CHECK(sl_acl_principal_split("User:alice", 6, &tl) && tl == 4); /* "User:a" */
    tl = 99;
    CHECK(!sl_acl_principal_split("User:alice", 5, &tl) && tl == 99); /* "User:" */
    CHECK(!sl_acl_principal_split(":a", 2, &tl));
    CHECK(!sl_acl_principal_split("", 0, &tl));
    CHECK(!sl_acl_principal_split("abc", 3, &tl));
}

/* ------------------------------------------------------------------ */
/* Filters                                                             */
/* ------------------------------------------------------------------ */

static void test_filters(void)
{
    /* The bindings every filter is tried against (bit i = bindings[i]). */
    const struct sl_acl b[] = {
        mk(T, LIT, "orders", "User:alice", "*", SL_ACL_OP_READ, ALLOW),         /* 0 */
        mk(T, LIT, "*", "User:*", "*", SL_ACL_OP_DESCRIBE, ALLOW),              /* 1 */
        mk(T, PRE, "ord", "User:bob", "10.0.0.1", SL_ACL_OP_WRITE, DENY),       /* 2 */
        mk(T, PRE, "orders", "User:alice", "*", SL_ACL_OP_ALL, ALLOW),          /* 3 */
        mk(G, LIT, "orders", "User:alice", "*", SL_ACL_OP_READ, ALLOW),         /* 4 */
        mk(T, LIT, "ord", "User:alice", "*", SL_ACL_OP_READ, ALLOW),            /* 5 */
        mk(T, PRE, "x", "User:alice", "*", SL_ACL_OP_READ, ALLOW),              /* 6 */
        mk(C, LIT, "kafka-cluster", "User:*", "*", SL_ACL_OP_ALTER, DENY),      /* 7 */
    };
    enum { NB = sizeof b / sizeof b[0] };
    const int8_t ANYR = SL_ACL_RES_ANY, ANYP = SL_ACL_PAT_ANY, M = SL_ACL_PAT_MATCH,
                 ANYO = SL_ACL_OP_ANY, ANYM = SL_ACL_PERM_ANY;
    const struct {
        struct sl_acl_filter f;
        unsigned want;
    } cases[] = {
        /* Everything. */
        {{ANYR, ANYP, ANYO, ANYM, NULL, NULL, NULL}, 0xff},
        {{ANYR, M, ANYO, ANYM, NULL, NULL, NULL}, 0xff}, /* MATCH, null name: all */
        /* Resource type. */
        {{T, ANYP, ANYO, ANYM, NULL, NULL, NULL}, 0x6f},
        {{G, ANYP, ANYO, ANYM, NULL, NULL, NULL}, 0x10},
        {{C, ANYP, ANYO, ANYM, NULL, NULL, NULL}, 0x80},
        {{SL_ACL_RES_USER, ANYP, ANYO, ANYM, NULL, NULL, NULL}, 0},
        /* ANY pattern: exact names only, no wildcard or prefix expansion. */
        {{T, ANYP, ANYO, ANYM, "orders", NULL, NULL}, 0x09},
        {{ANYR, ANYP, ANYO, ANYM, "orders", NULL, NULL}, 0x19},
        {{T, ANYP, ANYO, ANYM, "*", NULL, NULL}, 0x02},
        {{T, ANYP, ANYO, ANYM, "ord", NULL, NULL}, 0x24},
        {{T, ANYP, ANYO, ANYM, "orders-eu", NULL, NULL}, 0},
        /* LITERAL and PREFIXED: same pattern type, exact name. */
        {{T, LIT, ANYO, ANYM, NULL, NULL, NULL}, 0x23},
        {{T, LIT, ANYO, ANYM, "orders", NULL, NULL}, 0x01},
        {{T, LIT, ANYO, ANYM, "*", NULL, NULL}, 0x02},
        {{T, PRE, ANYO, ANYM, NULL, NULL, NULL}, 0x4c},
        {{T, PRE, ANYO, ANYM, "ord", NULL, NULL}, 0x04},
        {{T, PRE, ANYO, ANYM, "orders", NULL, NULL}, 0x08},
        {{T, PRE, ANYO, ANYM, "o", NULL, NULL}, 0},
        /* MATCH: everything that applies to a resource of that name. */
        {{T, M, ANYO, ANYM, "orders", NULL, NULL}, 0x0f},
        {{T, M, ANYO, ANYM, "orders-eu", NULL, NULL}, 0x0e},
        {{T, M, ANYO, ANYM, "ord", NULL, NULL}, 0x26},
        {{T, M, ANYO, ANYM, "or", NULL, NULL}, 0x02},
        {{T, M, ANYO, ANYM, "x", NULL, NULL}, 0x42},
        {{T, M, ANYO, ANYM, "*", NULL, NULL}, 0x02},
        {{ANYR, M, ANYO, ANYM, "orders", NULL, NULL}, 0x1f},
        {{G, M, ANYO, ANYM, "payments", NULL, NULL}, 0},
        {{C, M, ANYO, ANYM, "kafka-cluster", NULL, NULL}, 0x80},
        /* Principal and host: exact, "User:*" and "*" are not wildcards here. */
        {{ANYR, ANYP, ANYO, ANYM, NULL, "User:alice", NULL}, 0x79},
        {{ANYR, ANYP, ANYO, ANYM, NULL, "User:*", NULL}, 0x82},
        {{ANYR, ANYP, ANYO, ANYM, NULL, "User:carol", NULL}, 0},
        {{ANYR, ANYP, ANYO, ANYM, NULL, NULL, "10.0.0.1"}, 0x04},
        {{ANYR, ANYP, ANYO, ANYM, NULL, NULL, "*"}, 0xfb},
        {{ANYR, ANYP, ANYO, ANYM, NULL, "User:bob", "*"}, 0},
        /* Operation and permission: exact unless ANY; ALL is not expanded. */
        {{ANYR, ANYP, SL_ACL_OP_READ, ANYM, NULL, NULL, NULL}, 0x71},
        {{ANYR, ANYP, SL_ACL_OP_ALL, ANYM, NULL, NULL, NULL}, 0x08},
        {{ANYR, ANYP, SL_ACL_OP_DESCRIBE, ANYM, NULL, NULL, NULL}, 0x02},
        {{ANYR, ANYP, ANYO, DENY, NULL, NULL, NULL}, 0x84},
        {{ANYR, ANYP, ANYO, ALLOW, NULL, NULL, NULL}, 0x7b},
        /* Everything at once. */
        {{T, M, SL_ACL_OP_READ, ALLOW, "orders", "User:alice", "*"}, 0x01},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(sl_acl_filter_validate(&cases[i].f) == NULL);
        unsigned got = 0;
        for (int k = 0; k < NB; k++)
            if (sl_acl_filter_matches(&cases[i].f, &b[k]))
                got |= 1u << k;
        if (got != cases[i].want)
            fprintf(stderr, "  filter %zu: got 0x%02x, want 0x%02x\n", i, got, cases[i].want);
        CHECK_EQ_INT(got, cases[i].want);
    }
    /* UNKNOWN (or out-of-range) codes make a filter invalid. */
    const struct sl_acl_filter bad[] = {
        {SL_ACL_RES_UNKNOWN, ANYP, ANYO, ANYM, NULL, NULL, NULL},
        {SL_ACL_RES_MAX, ANYP, ANYO, ANYM, NULL, NULL, NULL},
        {ANYR, SL_ACL_PAT_UNKNOWN, ANYO, ANYM, NULL, NULL, NULL},
        {ANYR, SL_ACL_PAT_MAX, ANYO, ANYM, NULL, NULL, NULL},
        {ANYR, ANYP, SL_ACL_OP_UNKNOWN, ANYM, NULL, NULL, NULL},
        {ANYR, ANYP, -3, ANYM, NULL, NULL, NULL},
        {ANYR, ANYP, ANYO, SL_ACL_PERM_UNKNOWN, NULL, NULL, NULL},
        {ANYR, ANYP, ANYO, SL_ACL_PERM_MAX, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(sl_acl_filter_validate(&bad[i]) != NULL);
    CHECK(sl_acl_filter_validate(NULL) != NULL);
}

/* ------------------------------------------------------------------ */
/* Sets                                                                */
/* ------------------------------------------------------------------ */

static void test_set_order(void)
{
    char name[8] = "orders";
    const struct sl_acl in[] = {
        mk(G, LIT, "g", "User:a", "*", SL_ACL_OP_READ, ALLOW),
        mk(T, PRE, "o", "User:a", "*", SL_ACL_OP_READ, ALLOW),
        mk(T, LIT, name, "User:b", "*", SL_ACL_OP_READ, ALLOW),
        mk(T, LIT, "orders", "User:a", "*", SL_ACL_OP_WRITE, ALLOW),
        mk(T, LIT, "orders", "User:a", "*", SL_ACL_OP_READ, DENY),
        mk(T, LIT, "orders", "User:a", "*", SL_ACL_OP_READ, ALLOW),
        mk(T, LIT, "orders", "User:b", "*", SL_ACL_OP_READ, ALLOW), /* duplicate of [2] */
        mk(T, LIT, "orders", "User:a", "10.0.0.1", SL_ACL_OP_READ, ALLOW),
    };
    struct sl_acl_set *s = sl_acl_set_new(in, 8);
    name[0] = 'X'; /* the set has its own copies */
    CHECK_EQ_INT(sl_acl_set_count(s), 7);
    static const int want[] = {4, 5, 3, 7, 2, 1, 0}; /* indexes into in[] */
    for (int i = 0; i < 7; i++) {
        const struct sl_acl *a = sl_acl_set_at(s, i);
        struct sl_acl w = in[want[i]];
        if (want[i] == 2)
            w.name = "orders";
        CHECK(sl_acl_equal(a, &w));
        if (i > 0)
            CHECK(sl_acl_cmp(sl_acl_set_at(s, i - 1), a) < 0);
    }
    /* References: the set outlives the builder's reference. */
    sl_acl_set_ref(s);
    sl_acl_set_unref(s);
    CHECK(strcmp(sl_acl_set_at(s, 0)->name, "orders") == 0);
    sl_acl_set_unref(s);
    sl_acl_set_unref(NULL);
    struct sl_acl_set *e = sl_acl_set_new(NULL, 0);
    CHECK_EQ_INT(sl_acl_set_count(e), 0);
    struct sl_authz_decision d;
    sl_acl_decide(e, "User:a", "10.0.0.1", SL_ACL_OP_READ, T, "x", 1, false, &d);
    CHECK(!d.allowed && d.reason == SL_AUTHZ_NO_ACL && d.acl == NULL);
    sl_acl_decide(e, "User:a", "10.0.0.1", SL_ACL_OP_READ, T, "x", 1, true, &d);
    CHECK(d.allowed && d.reason == SL_AUTHZ_NO_ACL);
    sl_acl_set_unref(e);
    /* Bindings sl_acl_validate refuses are listed but never decide. */
    static char longp[SL_ACL_NAME_MAX + 16];
    memset(longp, 'p', sizeof longp - 1);
    memcpy(longp, "User:", 5);
    const struct sl_acl odd[] = {
        mk(T, LIT, "x", longp, "*", SL_ACL_OP_READ, ALLOW),
        mk(T, LIT, "x", "User:a", "*", SL_ACL_OP_READ, SL_ACL_PERM_ANY),
        mk(T, SL_ACL_PAT_MATCH, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW),
        mk(99, LIT, "x", "User:a", "*", SL_ACL_OP_READ, ALLOW),
    };
    e = sl_acl_set_new(odd, 4);
    CHECK_EQ_INT(sl_acl_set_count(e), 4);
    sl_acl_decide(e, longp, "10.0.0.1", SL_ACL_OP_READ, T, "x", 1, false, &d);
    CHECK(!d.allowed && d.reason == SL_AUTHZ_NO_MATCH);
    sl_acl_decide(e, "User:a", "10.0.0.1", SL_ACL_OP_READ, T, "x", 1, false, &d);
    CHECK(!d.allowed && d.reason == SL_AUTHZ_NO_MATCH);
    sl_acl_set_unref(e);
    /* Copies. */
    struct sl_acl c;
    sl_acl_copy(&c, &in[0]);
    CHECK(sl_acl_equal(&c, &in[0]) && c.name != in[0].name);
    sl_acl_clear(&c);
    CHECK(c.name == NULL && c.res == 0);
}

/* ------------------------------------------------------------------ */
/* Decisions (PROTOCOL.md §5.1)                                        */
/* ------------------------------------------------------------------ */

#define A1 "10.0.0.1"
#define A2 "10.0.0.2"

struct dcase {
    const char *what;
    struct sl_acl acls[4];
    int n;
    const char *principal, *host;
    int op, res;
    const char *name;
    bool everyone; /* allow_everyone_if_no_acl */
    bool allowed;
    int reason;
    int acl; /* index of the deciding binding in acls, or -1 */
};

static void test_decide_cases(void)
{
    const int R = SL_ACL_OP_READ, W = SL_ACL_OP_WRITE, D = SL_ACL_OP_DESCRIBE;
    const struct dcase cases[] = {
        {"no ACL at all: denied", {{0}}, 0, "User:a", A1, R, T, "t", false, false,
         SL_AUTHZ_NO_ACL, -1},
        {"no ACL, allow_everyone_if_no_acl", {{0}}, 0, "User:a", A1, R, T, "t", true, true,
         SL_AUTHZ_NO_ACL, -1},
        {"ACLs on another resource only: no ACL",
         {mk(T, LIT, "u", "User:a", "*", R, ALLOW), mk(G, LIT, "t", "User:a", "*", R, ALLOW)},
         2, "User:a", A1, R, T, "t", true, true, SL_AUTHZ_NO_ACL, -1},
        {"ACLs for others on the resource: no match, even with allow_everyone",
         {mk(T, LIT, "t", "User:b", "*", R, ALLOW)}, 1, "User:a", A1, R, T, "t", true, false,
         SL_AUTHZ_NO_MATCH, -1},
        {"ALLOW", {mk(T, LIT, "t", "User:a", "*", R, ALLOW)}, 1, "User:a", A1, R, T, "t", false,
         true, SL_AUTHZ_ALLOW, 0},
        {"ALLOW for another operation: no match", {mk(T, LIT, "t", "User:a", "*", R, ALLOW)}, 1,
         "User:a", A1, W, T, "t", false, false, SL_AUTHZ_NO_MATCH, -1},
        {"DENY beats ALLOW",
         {mk(T, LIT, "t", "User:a", "*", R, ALLOW), mk(T, LIT, "t", "User:a", "*", R, DENY)}, 2,
         "User:a", A1, R, T, "t", false, false, SL_AUTHZ_DENY, 1},
        {"DENY on a prefix beats a LITERAL ALLOW",
         {mk(T, LIT, "orders", "User:a", "*", R, ALLOW), mk(T, PRE, "ord", "User:*", "*", R, DENY)},
         2, "User:a", A1, R, T, "orders", false, false, SL_AUTHZ_DENY, 1},
        {"READ implies DESCRIBE", {mk(T, LIT, "t", "User:a", "*", R, ALLOW)}, 1, "User:a", A1, D,
         T, "t", false, true, SL_AUTHZ_ALLOW, 0},
        {"WRITE implies DESCRIBE", {mk(T, LIT, "t", "User:a", "*", W, ALLOW)}, 1, "User:a", A1, D,
         T, "t", false, true, SL_AUTHZ_ALLOW, 0},
        {"DELETE implies DESCRIBE", {mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_DELETE, ALLOW)}, 1,
         "User:a", A1, D, T, "t", false, true, SL_AUTHZ_ALLOW, 0},
        {"ALTER implies DESCRIBE", {mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_ALTER, ALLOW)}, 1,
         "User:a", A1, D, T, "t", false, true, SL_AUTHZ_ALLOW, 0},
        {"CREATE does not imply DESCRIBE",
         {mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_CREATE, ALLOW)}, 1, "User:a", A1, D, T, "t",
         false, false, SL_AUTHZ_NO_MATCH, -1},
        {"DESCRIBE does not imply READ", {mk(T, LIT, "t", "User:a", "*", D, ALLOW)}, 1, "User:a",
         A1, R, T, "t", false, false, SL_AUTHZ_NO_MATCH, -1},
        {"ALTER_CONFIGS implies DESCRIBE_CONFIGS",
         {mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_ALTER_CONFIGS, ALLOW)}, 1, "User:a", A1,
         SL_ACL_OP_DESCRIBE_CONFIGS, T, "t", false, true, SL_AUTHZ_ALLOW, 0},
        {"ALTER_CONFIGS does not imply DESCRIBE",
         {mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_ALTER_CONFIGS, ALLOW)}, 1, "User:a", A1, D, T,
         "t", false, false, SL_AUTHZ_NO_MATCH, -1},
        {"ALLOW ALL allows anything", {mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_ALL, ALLOW)}, 1,
         "User:a", A1, SL_ACL_OP_ALTER_CONFIGS, T, "t", false, true, SL_AUTHZ_ALLOW, 0},
        {"DENY READ does not deny DESCRIBE",
         {mk(T, LIT, "t", "User:a", "*", R, DENY), mk(T, LIT, "t", "User:a", "*", W, ALLOW)}, 2,
         "User:a", A1, D, T, "t", false, true, SL_AUTHZ_ALLOW, 1},
        {"DENY DESCRIBE denies DESCRIBE implied by WRITE",
         {mk(T, LIT, "t", "User:a", "*", D, DENY), mk(T, LIT, "t", "User:a", "*", W, ALLOW)}, 2,
         "User:a", A1, D, T, "t", false, false, SL_AUTHZ_DENY, 0},
        {"DENY ALL denies DESCRIBE",
         {mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_ALL, DENY),
          mk(T, LIT, "t", "User:a", "*", D, ALLOW)},
         2, "User:a", A1, D, T, "t", false, false, SL_AUTHZ_DENY, 0},
        {"DENY ALTER_CONFIGS does not deny DESCRIBE_CONFIGS",
         {mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_ALTER_CONFIGS, DENY),
          mk(T, LIT, "t", "User:a", "*", SL_ACL_OP_DESCRIBE_CONFIGS, ALLOW)},
         2, "User:a", A1, SL_ACL_OP_DESCRIBE_CONFIGS, T, "t", false, true, SL_AUTHZ_ALLOW, 1},
        {"User:* matches anyone", {mk(T, LIT, "t", "User:*", "*", R, ALLOW)}, 1, "User:zed", A1,
         R, T, "t", false, true, SL_AUTHZ_ALLOW, 0},
        {"Group:* is no wildcard", {mk(T, LIT, "t", "Group:*", "*", R, ALLOW)}, 1, "Group:ops",
         A1, R, T, "t", false, false, SL_AUTHZ_NO_MATCH, -1},
        {"principals compare exactly", {mk(T, LIT, "t", "User:alice", "*", R, ALLOW)}, 1,
         "User:Alice", A1, R, T, "t", false, false, SL_AUTHZ_NO_MATCH, -1},
        {"host matches", {mk(T, LIT, "t", "User:a", A1, R, ALLOW)}, 1, "User:a", A1, R, T, "t",
         false, true, SL_AUTHZ_ALLOW, 0},
        {"host mismatch", {mk(T, LIT, "t", "User:a", A1, R, ALLOW)}, 1, "User:a", A2, R, T, "t",
         false, false, SL_AUTHZ_NO_MATCH, -1},
        {"DENY from another host only", {mk(T, LIT, "t", "User:a", A2, R, DENY),
                                         mk(T, LIT, "t", "User:a", "*", R, ALLOW)},
         2, "User:a", A1, R, T, "t", false, true, SL_AUTHZ_ALLOW, 1},
        {"PREFIXED matches a longer name", {mk(T, PRE, "ord", "User:a", "*", R, ALLOW)}, 1,
         "User:a", A1, R, T, "orders", false, true, SL_AUTHZ_ALLOW, 0},
        {"PREFIXED matches the equal name", {mk(T, PRE, "orders", "User:a", "*", R, ALLOW)}, 1,
         "User:a", A1, R, T, "orders", false, true, SL_AUTHZ_ALLOW, 0},
        {"PREFIXED longer than the name: no ACL", {mk(T, PRE, "ordersX", "User:a", "*", R, ALLOW)},
         1, "User:a", A1, R, T, "orders", false, false, SL_AUTHZ_NO_ACL, -1},
        {"PREFIXED \"*\" is a plain prefix", {mk(T, PRE, "*", "User:a", "*", R, ALLOW)}, 1,
         "User:a", A1, R, T, "orders", false, false, SL_AUTHZ_NO_ACL, -1},
        {"LITERAL is not a prefix", {mk(T, LIT, "ord", "User:a", "*", R, ALLOW)}, 1, "User:a",
         A1, R, T, "orders", false, false, SL_AUTHZ_NO_ACL, -1},
        {"LITERAL * matches every name", {mk(T, LIT, "*", "User:a", "*", R, ALLOW)}, 1, "User:a",
         A1, R, T, "anything", false, true, SL_AUTHZ_ALLOW, 0},
        {"LITERAL * of another type does not", {mk(G, LIT, "*", "User:a", "*", R, ALLOW)}, 1,
         "User:a", A1, R, T, "anything", false, false, SL_AUTHZ_NO_ACL, -1},
        {"resource named \"*\"", {mk(T, LIT, "*", "User:a", "*", R, DENY)}, 1, "User:a", A1, R,
         T, "*", false, false, SL_AUTHZ_DENY, 0},
        {"cluster", {mk(C, LIT, "kafka-cluster", "User:a", "*", SL_ACL_OP_ALTER, ALLOW)}, 1,
         "User:a", A1, D, C, "kafka-cluster", false, true, SL_AUTHZ_ALLOW, 0},
        {"unknown resource type: no ACL", {mk(T, LIT, "*", "User:*", "*", R, ALLOW)}, 1, "User:a",
         A1, R, 99, "t", false, false, SL_AUTHZ_NO_ACL, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct dcase *c = &cases[i];
        struct sl_acl_set *s = sl_acl_set_new(c->acls, c->n);
        struct sl_authz_decision d;
        /* The name is passed with a length, followed by bytes that must not
         * count. */
        char name[64];
        snprintf(name, sizeof name, "%sZZ", c->name);
        sl_acl_decide(s, c->principal, c->host, c->op, c->res, name, strlen(c->name),
                      c->everyone, &d);
        bool ok = d.allowed == c->allowed && d.reason == c->reason &&
                  (c->acl < 0 ? d.acl == NULL : d.acl && sl_acl_equal(d.acl, &c->acls[c->acl]));
        if (!ok)
            fprintf(stderr, "  case \"%s\": allowed=%d reason=%d\n", c->what, d.allowed,
                    d.reason);
        sl_acl_set_unref(s);
        CHECK(ok);
    }
}

/* ------------------------------------------------------------------ */
/* Randomized comparison with a linear-scan reference                  */
/* ------------------------------------------------------------------ */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 11) % n);
}

/* Kafka's StandardAuthorizerData.findResult for one binding: 0 no
 * result, 1 ALLOWED, 2 DENIED (written independently of acl_set.c's
 * operation masks). */
static int ref_result(const struct sl_acl *a, const char *principal, const char *host, int op)
{
    if (strcmp(a->principal, principal) != 0 && strcmp(a->principal, "User:*") != 0)
        return 0;
    if (strcmp(a->host, "*") != 0 && strcmp(a->host, host) != 0)
        return 0;
    if (a->op != SL_ACL_OP_ALL) {
        if (a->perm == ALLOW) {
            if (op == SL_ACL_OP_DESCRIBE) {
                if (a->op != SL_ACL_OP_DESCRIBE && a->op != SL_ACL_OP_READ &&
                    a->op != SL_ACL_OP_WRITE && a->op != SL_ACL_OP_DELETE &&
                    a->op != SL_ACL_OP_ALTER)
                    return 0;
            } else if (op == SL_ACL_OP_DESCRIBE_CONFIGS) {
                if (a->op != SL_ACL_OP_DESCRIBE_CONFIGS && a->op != SL_ACL_OP_ALTER_CONFIGS)
                    return 0;
            } else if (op != a->op) {
                return 0;
            }
        } else if (op != a->op) {
            return 0;
        }
    }
    return a->perm == ALLOW ? 1 : 2;
}

static bool ref_applies(const struct sl_acl *a, int res, const char *name, size_t len)
{
    if (a->res != res)
        return false;
    size_t al = strlen(a->name);
    if (a->pattern == LIT)
        return strcmp(a->name, "*") == 0 || (al == len && memcmp(a->name, name, len) == 0);
    return al <= len && memcmp(a->name, name, al) == 0;
}

static void ref_decide(const struct sl_acl *acls, int n, const char *principal, const char *host,
                       int op, int res, const char *name, size_t len, bool everyone,
                       struct sl_authz_decision *out)
{
    bool found = false, allow = false;
    for (int i = 0; i < n; i++) {
        if (!ref_applies(&acls[i], res, name, len))
            continue;
        found = true;
        int r = ref_result(&acls[i], principal, host, op);
        if (r == 2) {
            *out = (struct sl_authz_decision){false, SL_AUTHZ_DENY, &acls[i]};
            return;
        }
        allow |= r == 1;
    }
    if (!found)
        *out = (struct sl_authz_decision){everyone, SL_AUTHZ_NO_ACL, NULL};
    else if (allow)
        *out = (struct sl_authz_decision){true, SL_AUTHZ_ALLOW, NULL};
    else
        *out = (struct sl_authz_decision){false, SL_AUTHZ_NO_MATCH, NULL};
}

static const char *const names[] = {"a", "ab", "abc", "abd", "b", "ba", "*", "a*", "orders",
                                    "orders-eu", "o", "or"};
static const char *const aprincipals[] = {"User:alice", "User:bob", "User:*", "Group:x",
                                          "User:carol", "User:dave", "User:eve"};
static const char *const rprincipals[] = {"User:alice", "User:bob", "User:zed", "User:*",
                                          "Group:x", "User:carol"};
static const char *const ahosts[] = {"*", "*", "10.0.0.1", "::1"};
static const char *const rhosts[] = {"10.0.0.1", "10.0.0.2", "::1"};
#define PICK(arr) arr[rnd(sizeof arr / sizeof arr[0])]

static void test_decide_random(void)
{
    const uint64_t seed = 0x5eed0ac1u;
    rng = seed;
    static const int sizes[] = {0, 1, 3, 10, 40, 150, 600};
    struct sl_acl acls[600];
    long checks = 0;
    for (int round = 0; round < 1400; round++) {
        int n = sizes[round % 7];
        /* Every other big round crowds few names and principals, so that
         * groups, principal runs and host runs are long enough for the
         * binary searches inside them. */
        bool crowd = round % 14 == 6;
        for (int i = 0; i < n; i++)
            acls[i] = mk(T + (int)rnd(crowd ? 1 : 3), rnd(2) ? LIT : PRE,
                         names[rnd(crowd ? 3 : sizeof names / sizeof names[0])],
                         aprincipals[rnd(crowd ? 3 : sizeof aprincipals / sizeof aprincipals[0])],
                         PICK(ahosts), SL_ACL_OP_ALL + (int)rnd(13), rnd(4) ? ALLOW : DENY);
        struct sl_acl_set *s = sl_acl_set_new(acls, n);
        for (int q = 0; q < 60; q++) {
            const char *principal = PICK(rprincipals), *host = PICK(rhosts);
            int op = SL_ACL_OP_ANY + (int)rnd(14), res = T + (int)rnd(3);
            /* Request names: the pool, and its names with a suffix. */
            char name[32];
            snprintf(name, sizeof name, "%s%s", PICK(names), rnd(3) ? "" : PICK(names));
            size_t len = strlen(name);
            bool everyone = rnd(2);
            struct sl_authz_decision got, want;
            sl_acl_decide(s, principal, host, op, res, name, len, everyone, &got);
            ref_decide(acls, n, principal, host, op, res, name, len, everyone, &want);
            bool ok = got.allowed == want.allowed && got.reason == want.reason;
            /* The deciding binding: in the set, applying, with the verdict. */
            if (ok && (got.reason == SL_AUTHZ_ALLOW || got.reason == SL_AUTHZ_DENY)) {
                int r = got.acl ? ref_result(got.acl, principal, host, op) : 0;
                ok = got.acl && ref_applies(got.acl, res, name, len) &&
                     r == (got.reason == SL_AUTHZ_ALLOW ? 1 : 2);
            } else if (ok) {
                ok = got.acl == NULL;
            }
            if (!ok) {
                fprintf(stderr,
                        "  seed 0x%llx round %d query %d: %s@%s op %d res %d name \"%s\" "
                        "everyone %d: got allowed=%d reason=%d, want allowed=%d reason=%d\n",
                        (unsigned long long)seed, round, q, principal, host, op, res, name,
                        everyone, got.allowed, got.reason, want.allowed, want.reason);
                for (int i = 0; i < n && n <= 40; i++)
                    fprintf(stderr, "    acl %d %d %s %s %s %d %d\n", acls[i].res,
                            acls[i].pattern, acls[i].name, acls[i].principal, acls[i].host,
                            acls[i].op, acls[i].perm);
                sl_acl_set_unref(s);
                CHECK(ok);
            }
            checks++;
        }
        sl_acl_set_unref(s);
    }
    CHECK(checks == 1400L * 60);
}

int main(void)
{
    sl_log_min_level = SL_LOG_ERROR;
    TEST_RUN(test_validate);
    TEST_RUN(test_filters);
    TEST_RUN(test_set_order);
    TEST_RUN(test_decide_cases);
    TEST_RUN(test_decide_random);
    TEST_REPORT();
}
