/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of `sluice acl` argument parsing and request building
 * (src/cli/cmd_acl.c, included to reach its static functions) and of the
 * ACL code names (src/security/authz/acl_names.c): the bindings an add
 * expands to, the filters of remove and list, and every refused
 * combination. The requests are also encoded and decoded through the
 * codec at each CreateAcls/DeleteAcls/DescribeAcls version.
 */
#include "../../src/cli/cmd_acl.c"

#include "core/wbuf.h"
#include "test_help.h"

static int parse(struct acl_args *a, char *err, const char *const *args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"acl";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    return parse_args(argc, argv, a, err, 512);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_names(void)
{
    CHECK(strcmp(sl_acl_res_name(SL_ACL_RES_TRANSACTIONAL_ID), "TRANSACTIONAL_ID") == 0);
    CHECK(strcmp(sl_acl_op_name(SL_ACL_OP_DESCRIBE_CONFIGS), "DESCRIBE_CONFIGS") == 0);
    CHECK(strcmp(sl_acl_op_name(99), "UNKNOWN") == 0);
    CHECK(strcmp(sl_acl_perm_name(-1), "UNKNOWN") == 0);
    CHECK_EQ_INT(sl_acl_op_from_name("DescribeConfigs"), SL_ACL_OP_DESCRIBE_CONFIGS);
    CHECK_EQ_INT(sl_acl_op_from_name("describe-configs"), SL_ACL_OP_DESCRIBE_CONFIGS);
    CHECK_EQ_INT(sl_acl_op_from_name("read"), SL_ACL_OP_READ);
    CHECK_EQ_INT(sl_acl_op_from_name("REED"), SL_ACL_OP_UNKNOWN);
    CHECK_EQ_INT(sl_acl_op_from_name(""), SL_ACL_OP_UNKNOWN);
    CHECK_EQ_INT(sl_acl_res_from_name("TransactionalId"), SL_ACL_RES_TRANSACTIONAL_ID);
    CHECK_EQ_INT(sl_acl_pattern_from_name("prefixed"), SL_ACL_PAT_PREFIXED);
    CHECK_EQ_INT(sl_acl_perm_from_name("Allow"), SL_ACL_PERM_ALLOW);
    for (int i = 0; i < SL_ACL_OP_MAX; i++)
        CHECK_EQ_INT(sl_acl_op_from_name(sl_acl_op_name(i)), i);
}

/* Encodes and decodes req at every version of its API; 0 on success. */
static int roundtrip(int16_t key, const void *req, void *back)
{
    const struct sl_api_info *api = sl_api_lookup(key);
    for (int16_t v = api->min_version; v <= api->max_version; v++) {
        struct sl_wbuf w;
        struct sl_arena ar;
        struct sl_reader r;
        sl_wbuf_init(&w);
        sl_arena_init(&ar);
        sl_codec_encode(api->request, v, req, &w);
        sl_rd_init(&r, w.data, w.len);
        int rc = sl_codec_decode(api->request, v, &r, &ar, back);
        bool left = sl_rd_left(&r) != 0;
        sl_arena_destroy(&ar);
        sl_wbuf_destroy(&w);
        if (rc != 0 || left)
            return -1;
    }
    return 0;
}

static void test_add_expansion(void)
{
    struct acl_args a;
    char err[512];
    CHECK_EQ_INT(parse(&a, err,
                       ARGS("add", "--allow-principal", "User:alice", "--allow-principal=User:bob",
                            "--allow-host", "10.0.0.1", "--deny-principal", "User:mallory",
                            "--operation", "Read", "--operation", "describe", "--topic", "orders",
                            "--group", "g1", "--resource-pattern-type", "PREFIXED",
                            "--bootstrap-server", "h:1")),
                 0);
    struct sl_arena ar;
    struct CreateAclsRequest req, back;
    sl_arena_init(&ar);
    build_create(&a, &ar, &req);
    /* 2 resources x (2 allow principals x 1 host + 1 deny x default host) x 2 ops */
    CHECK_EQ_INT(req.creations.n, 12);
    const struct CreateAclsRequest_AclCreation *c = &req.creations.a[0];
    CHECK_EQ_INT(c->resource_type, SL_ACL_RES_TOPIC);
    CHECK(sl_str_eq_c(c->resource_name, "orders"));
    CHECK_EQ_INT(c->resource_pattern_type, SL_ACL_PAT_PREFIXED);
    CHECK(sl_str_eq_c(c->principal, "User:alice") && sl_str_eq_c(c->host, "10.0.0.1"));
    CHECK_EQ_INT(c->operation, SL_ACL_OP_READ);
    CHECK_EQ_INT(c->permission_type, SL_ACL_PERM_ALLOW);
    c = &req.creations.a[5]; /* topic, deny mallory, DESCRIBE */
    CHECK(sl_str_eq_c(c->principal, "User:mallory") && sl_str_eq_c(c->host, "*"));
    CHECK_EQ_INT(c->permission_type, SL_ACL_PERM_DENY);
    CHECK_EQ_INT(c->operation, SL_ACL_OP_DESCRIBE);
    CHECK_EQ_INT(req.creations.a[6].resource_type, SL_ACL_RES_GROUP);
    CHECK_EQ_INT(roundtrip(SL_API_CREATE_ACLS, &req, &back), 0);
    sl_arena_destroy(&ar);
    /* Defaults: LITERAL, host *, operation ALL; the cluster's name. */
    CHECK_EQ_INT(parse(&a, err, ARGS("add", "--allow-principal", "User:ops", "--cluster",
                                     "--bootstrap-server", "h:1")),
                 0);
    sl_arena_init(&ar);
    build_create(&a, &ar, &req);
    CHECK_EQ_INT(req.creations.n, 1);
    CHECK(sl_str_eq_c(req.creations.a[0].resource_name, "kafka-cluster"));
    CHECK_EQ_INT(req.creations.a[0].resource_pattern_type, SL_ACL_PAT_LITERAL);
    CHECK_EQ_INT(req.creations.a[0].operation, SL_ACL_OP_ALL);
    CHECK(sl_str_eq_c(req.creations.a[0].host, "*"));
    sl_arena_destroy(&ar);
}

static void test_remove_and_list_filters(void)
{
    struct acl_args a;
    char err[512];
    struct sl_arena ar;
    struct DeleteAclsRequest del, dback;
    CHECK_EQ_INT(parse(&a, err, ARGS("remove", "--topic", "t", "--force", "--command-config", "f")),
                 0);
    sl_arena_init(&ar);
    build_delete(&a, &ar, &del);
    CHECK_EQ_INT(del.filters.n, 1);
    CHECK(sl_str_is_null(del.filters.a[0].principal_filter));
    CHECK(sl_str_is_null(del.filters.a[0].host_filter));
    CHECK_EQ_INT(del.filters.a[0].operation, SL_ACL_OP_ANY);
    CHECK_EQ_INT(del.filters.a[0].permission_type, SL_ACL_PERM_ANY);
    CHECK_EQ_INT(del.filters.a[0].pattern_type_filter, SL_ACL_PAT_LITERAL);
    CHECK_EQ_INT(roundtrip(SL_API_DELETE_ACLS, &del, &dback), 0);
    sl_arena_destroy(&ar);
    CHECK_EQ_INT(parse(&a, err, ARGS("remove", "--topic", "t", "--allow-principal", "User:a",
                                     "--operation", "WRITE", "--bootstrap-server", "h:1")),
                 0);
    sl_arena_init(&ar);
    build_delete(&a, &ar, &del);
    CHECK_EQ_INT(del.filters.n, 1);
    CHECK(sl_str_eq_c(del.filters.a[0].principal_filter, "User:a"));
    CHECK(sl_str_eq_c(del.filters.a[0].host_filter, "*"));
    CHECK_EQ_INT(del.filters.a[0].operation, SL_ACL_OP_WRITE);
    CHECK_EQ_INT(del.filters.a[0].permission_type, SL_ACL_PERM_ALLOW);
    sl_arena_destroy(&ar);

    struct DescribeAclsRequest d, back;
    CHECK_EQ_INT(parse(&a, err, ARGS("list", "--bootstrap-server", "h:1")), 0);
    build_describe(&a, 0, &d);
    CHECK_EQ_INT(d.resource_type_filter, SL_ACL_RES_ANY);
    CHECK(sl_str_is_null(d.resource_name_filter) && sl_str_is_null(d.principal_filter));
    CHECK_EQ_INT(d.pattern_type_filter, SL_ACL_PAT_ANY);
    CHECK_EQ_INT(roundtrip(SL_API_DESCRIBE_ACLS, &d, &back), 0);
    CHECK_EQ_INT(parse(&a, err, ARGS("list", "--group", "g", "--resource-pattern-type", "match",
                                     "--principal", "User:x", "--bootstrap-server", "h:1")),
                 0);
    build_describe(&a, 0, &d);
    CHECK_EQ_INT(d.resource_type_filter, SL_ACL_RES_GROUP);
    CHECK(sl_str_eq_c(d.resource_name_filter, "g") && sl_str_eq_c(d.principal_filter, "User:x"));
    CHECK_EQ_INT(d.pattern_type_filter, SL_ACL_PAT_MATCH);
}

static void test_refused(void)
{
    const struct {
        const char *const *args;
        const char *want;
    } bad[] = {
        {ARGS("grant"), "unknown acl command"},
        {ARGS("add", "--topic", "t"), "--allow-principal or --deny-principal"},
        {ARGS("add", "--allow-principal", "User:a"), "needs a resource"},
        {ARGS("add", "--allow-principal", "alice", "--topic", "t"), "TYPE:NAME"},
        {ARGS("add", "--allow-principal", "User:a", "--topic", "t", "--operation", "FLY"),
         "not an operation"},
        {ARGS("add", "--allow-principal", "User:a", "--topic", "t", "--operation", "ANY"),
         "not an operation"},
        {ARGS("add", "--allow-principal", "User:a", "--group", "g", "--operation", "WRITE"),
         "does not apply to GROUP"},
        {ARGS("add", "--allow-principal", "User:a", "--topic", "t", "--resource-pattern-type",
              "MATCH"),
         "LITERAL or PREFIXED"},
        {ARGS("add", "--allow-host", "1.2.3.4", "--deny-principal", "User:a", "--topic", "t"),
         "need --allow-principal"},
        {ARGS("add", "--allow-principal", "User:a", "--topic", ""), "must not be empty"},
        {ARGS("add", "--allow-principal"), "needs a value"},
        {ARGS("remove", "--topic", "t"), "--force"},
        {ARGS("list", "--allow-principal", "User:a"), "list takes"},
        {ARGS("add", "--allow-principal", "User:a", "--topic", "t", "--principal", "User:a"),
         "filters acl list"},
        {ARGS("list", "--resource-pattern-type", "WILD"), "LITERAL, PREFIXED"},
        {ARGS("list", "extra"), "unexpected argument"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct acl_args a;
        char err[512] = "";
        int rc = parse(&a, err, bad[i].args);
        if (rc != -1 || !strstr(err, bad[i].want)) {
            fprintf(stderr, "  case %zu: rc %d err '%s'\n", i, rc, err);
            CHECK(!"bad acl arguments not refused as expected");
        }
    }
}

int main(void)
{
    TEST_RUN(test_names);
    TEST_RUN(test_add_expansion);
    TEST_RUN(test_remove_and_list_filters);
    TEST_RUN(test_refused);
    TEST_REPORT();
}
