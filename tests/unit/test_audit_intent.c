/* SPDX-License-Identifier: Apache-2.0
 *
 * Every API the dispatcher classes as "change" writes an intent record
 * before its handler runs (api/audit_intent.h), so that an API added later
 * cannot change something unrecorded when the audit sink fails. The one
 * exception, listed here with its reason: InitProducerId hands out a
 * producer id and records no change. Metadata (class "describe") is covered
 * too: it may auto-create topics.
 */
#include "api/audit_intent.h"
#include "protocol/dispatch.h"
#include "protocol/gen/apis.h"
#include "test_help.h"

static void test_every_change_row_has_an_intent(void)
{
    int i = 0, n = 0;
    const struct sl_api_row *row;
    while ((row = sl_dispatch_next(&i))) {
        bool change = strcmp(row->audit_class, "change") == 0;
        if (!change || row->key == SL_API_INIT_PRODUCER_ID)
            continue;
        n++;
        if (!sl_api_audit_intent_covers(row->key))
            fprintf(stderr, "  API key %d changes things but writes no intent\n", row->key);
        CHECK(sl_api_audit_intent_covers(row->key));
    }
    CHECK(n >= 12);
    CHECK(sl_api_audit_intent_covers(SL_API_METADATA));
    /* Nothing else waits for an intent (no latency on data and group APIs). */
    CHECK(!sl_api_audit_intent_covers(SL_API_PRODUCE));
    CHECK(!sl_api_audit_intent_covers(SL_API_FETCH));
    CHECK(!sl_api_audit_intent_covers(SL_API_JOIN_GROUP));
    CHECK(!sl_api_audit_intent_covers(SL_API_INIT_PRODUCER_ID));
}

int main(void)
{
    TEST_RUN(test_every_change_row_has_an_intent);
    TEST_REPORT();
}
