/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice keys rewrap --bootstrap-server HOST:PORT [--command-config FILE]`:
 * the online rewrap. Sends the action sluice.keys.rewrap=now on the BROKER
 * resource (IncrementalAlterConfigs), then reads the broker's read-only
 * sluice.encryption.rewrap.status (DescribeConfigs) until it says done or
 * failed, or the deadline passes. docs/ENCRYPTION.md describes what the
 * broker does.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "protocol/gen/apis.h"
#include "protocol/gen/describe_configs.h"
#include "protocol/gen/incremental_alter_configs.h"
#include "sluice/err.h"

#define RES_BROKER 4
#define STATUS_KEY "sluice.encryption.rewrap.status"
#define POLL_MS 200

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ask_rewrap(struct sl_kclient *k)
{
    char err[1024], buf[256];
    struct IncrementalAlterConfigsRequest_AlterableConfig c = {
        .name = sl_str_c("sluice.keys.rewrap"), .config_operation = 0, .value = sl_str_c("now")};
    struct IncrementalAlterConfigsRequest_AlterConfigsResource res = {
        .resource_type = RES_BROKER, .resource_name = sl_str_c(""), .configs = {1, &c}};
    struct IncrementalAlterConfigsRequest req = {.resources = {1, &res}};
    struct IncrementalAlterConfigsResponse resp;
    if (sl_kclient_call(k, SL_API_INCREMENTAL_ALTER_CONFIGS, &req, &resp, err, sizeof err) != 0)
        return sl_cli_fail("%s", err);
    if (resp.responses.n != 1)
        return sl_cli_fail("IncrementalAlterConfigs: %d answers for one broker", resp.responses.n);
    const struct IncrementalAlterConfigsResponse_AlterConfigsResourceResponse *r =
        &resp.responses.a[0];
    if (r->error_code == SL_ERR_NONE)
        return 0;
    if (r->error_message.len > 0 && r->error_code != SL_ERR_CLUSTER_AUTHORIZATION_FAILED)
        return sl_cli_fail("the broker refused the rewrap (%s): %.*s", sl_err_name(r->error_code),
                           (int)r->error_message.len, r->error_message.p);
    return sl_cli_fail("the broker refused the rewrap: %s",
                       sl_cli_kafka_error(r->error_code, "ALTER_CONFIGS on the cluster", buf,
                                          sizeof buf));
}

/* The broker's rewrap status into out. 0 or -1 (reported). */
static int ask_status(struct sl_kclient *k, char *out, size_t n)
{
    sl_str_t key = sl_str_c(STATUS_KEY);
    struct DescribeConfigsResponse_DescribeConfigsResult res;
    int rc = sl_cli_describe_broker(k, "", &key, 1, "read " STATUS_KEY, &res);
    if (rc != 0)
        return rc;
    const struct DescribeConfigsResponse_DescribeConfigsResult *r = &res;
    for (int i = 0; i < r->configs.n; i++) {
        const sl_str_t v = r->configs.a[i].value;
        if (sl_str_eq_c(r->configs.a[i].name, STATUS_KEY) && v.len >= 0) {
            snprintf(out, n, "%.*s", (int)v.len, v.p);
            return 0;
        }
    }
    return sl_cli_fail("the broker does not report %s (an older Sluice, or not Sluice)",
                       STATUS_KEY);
}

int sl_cli_keys_rewrap_online(const struct sl_cli_target *t, int timeout_s)
{
    struct sl_kclient k;
    if (sl_cli_connect(t, &k) != 0)
        return SLUICE_CLI_EXIT_FAIL;
    int rc = SLUICE_CLI_EXIT_FAIL;
    char st[600] = "";
    if (ask_rewrap(&k) != 0)
        goto out;
    int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
    for (;;) {
        if (ask_status(&k, st, sizeof st) != 0)
            goto out;
        if (strncmp(st, "done", 4) == 0) {
            printf("%s\nno file needs an older key version any more: it can be removed from "
                   "the keyring\n", st);
            rc = SLUICE_CLI_EXIT_OK;
            goto out;
        }
        if (strncmp(st, "failed", 6) == 0) {
            sl_cli_fail("the online rewrap %s", st);
            goto out;
        }
        if (now_ms() >= deadline) {
            sl_cli_fail("no outcome after %d s (the broker says \"%s\"); the rewrap goes on: "
                        "read %s later (kafka-configs --describe --entity-type brokers)",
                        timeout_s, st, STATUS_KEY);
            goto out;
        }
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
out:
    sl_kclient_close(&k);
    return rc;
}
