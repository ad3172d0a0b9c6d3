/* SPDX-License-Identifier: Apache-2.0
 *
 * Every API the dispatcher serves declares its authorization check (issue
 * 6: "APIs added later must declare their check in the dispatcher table,
 * and a test fails for any served API without one"). Only the APIs Kafka
 * never authorizes may declare none, and they are listed here by key.
 */
#include "protocol/dispatch.h"
#include "protocol/gen/apis.h"
#include "security/authz/acl.h"
#include "test_help.h"

static bool may_declare_none(int16_t key)
{
    return key == SL_API_API_VERSIONS || key == SL_API_SASL_HANDSHAKE ||
           key == SL_API_SASL_AUTHENTICATE;
}

static void test_every_row_declares_a_check(void)
{
    int i = 0, n = 0;
    const struct sl_api_row *row;
    while ((row = sl_dispatch_next(&i))) {
        n++;
        if (row->az_none) {
            if (!may_declare_none(row->key))
                fprintf(stderr, "  API key %d declares no authorization check\n", row->key);
            CHECK(may_declare_none(row->key));
            CHECK(row->pre_auth); /* what runs unauthorized also runs unauthenticated */
            continue;
        }
        if (row->az_op <= SL_ACL_OP_ANY || row->az_op >= SL_ACL_OP_MAX ||
            row->az_res <= SL_ACL_RES_ANY || row->az_res >= SL_ACL_RES_MAX)
            fprintf(stderr, "  API key %d: no valid check declared (op %d, resource %d)\n",
                    row->key, row->az_op, row->az_res);
        CHECK(row->az_op > SL_ACL_OP_ANY && row->az_op < SL_ACL_OP_MAX);
        CHECK(row->az_res > SL_ACL_RES_ANY && row->az_res < SL_ACL_RES_MAX);
        CHECK(!row->pre_auth);
    }
    CHECK(n >= 30);
}

/* The declared checks of a few APIs are Kafka's (PROTOCOL.md §5.2). */
static void test_declared_checks_are_kafkas(void)
{
    const struct {
        int16_t key;
        int8_t op, res;
    } want[] = {
        {SL_API_PRODUCE, SL_ACL_OP_WRITE, SL_ACL_RES_TOPIC},
        {SL_API_FETCH, SL_ACL_OP_READ, SL_ACL_RES_TOPIC},
        {SL_API_CREATE_ACLS, SL_ACL_OP_ALTER, SL_ACL_RES_CLUSTER},
        {SL_API_DESCRIBE_ACLS, SL_ACL_OP_DESCRIBE, SL_ACL_RES_CLUSTER},
        {SL_API_DELETE_ACLS, SL_ACL_OP_ALTER, SL_ACL_RES_CLUSTER},
        {SL_API_JOIN_GROUP, SL_ACL_OP_READ, SL_ACL_RES_GROUP},
        {SL_API_ALTER_USER_SCRAM_CREDENTIALS, SL_ACL_OP_ALTER, SL_ACL_RES_CLUSTER},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct sl_api_row *row = sl_dispatch_row(want[i].key);
        CHECK(row != NULL);
        CHECK_EQ_INT(row->az_op, want[i].op);
        CHECK_EQ_INT(row->az_res, want[i].res);
    }
}

int main(void)
{
    TEST_RUN(test_every_row_declares_a_check);
    TEST_RUN(test_declared_checks_are_kafkas);
    TEST_REPORT();
}
