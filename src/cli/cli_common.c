/* SPDX-License-Identifier: Apache-2.0
 *
 * What the `sluice` commands share (see cli.h): option parsing helpers,
 * online connection set-up from --bootstrap-server and --command-config,
 * and the texts of the Kafka errors an admin request can meet.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "core/mem.h"
#include "crypto/key_provider.h"
#include "meta/meta.h"
#include "protocol/gen/apis.h"
#include "protocol/gen/describe_configs.h"
#include "sluice/err.h"

int sl_cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("sluice: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return SLUICE_CLI_EXIT_FAIL;
}

int sl_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("sluice: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sluice %s --help'.\n", cmd);
    return SLUICE_CLI_EXIT_USAGE;
}

int sl_cli_opt(const char *name, int argc, char **argv, int *i, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "sluice: %s needs a value\n", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int sl_cli_target_opt(struct sl_cli_target *t, int argc, char **argv, int *i)
{
    int r;
    if ((r = sl_cli_opt("--bootstrap-server", argc, argv, i, &t->bootstrap)) != 0)
        return r;
    if ((r = sl_cli_opt("--command-config", argc, argv, i, &t->command_config)) != 0)
        return r;
    if ((r = sl_cli_opt("--keys-file", argc, argv, i, &t->keys_file)) != 0)
        return r;
    if ((r = sl_cli_opt("--keys-command", argc, argv, i, &t->keys_command)) != 0)
        return r;
    return sl_cli_opt("--data-dir", argc, argv, i, &t->data_dir);
}

int sl_cli_open_meta(const struct sl_cli_target *t, struct sl_keyring *kr, struct sl_meta **m,
                     char *err, size_t errlen)
{
    if (!sl_keys_marker_present(t->data_dir))
        return sl_meta_open_local(t->data_dir, m, err, errlen);
    bool created;
    if (sl_keys_load(t->data_dir, t->keys_file, t->keys_command, false, kr, &created, err,
                     errlen) < 0)
        return SL_ERR__IO;
    return sl_meta_open_local_sealed(t->data_dir, kr, false, m, err, errlen);
}

int sl_cli_target_check(const struct sl_cli_target *t, bool offline_ok)
{
    bool online = t->bootstrap || t->command_config;
    if (t->data_dir && !offline_ok) {
        fprintf(stderr, "sluice: this command works online only: give --bootstrap-server and/or "
                        "--command-config, not --data-dir\n");
        return -1;
    }
    if (online && t->data_dir) {
        fprintf(stderr, "sluice: choose online (--bootstrap-server/--command-config) or offline "
                        "(--data-dir), not both\n");
        return -1;
    }
    if (!online && !t->data_dir) {
        fprintf(stderr, "sluice: say where to work: --bootstrap-server HOST:PORT [--command-config "
                        "FILE]%s\n",
                offline_ok ? ", or --data-dir DIR with the broker stopped" : "");
        return -1;
    }
    return 0;
}

int sl_cli_load_config(const struct sl_cli_target *t, struct sl_client_config *cfg)
{
    char err[1024];
    sl_client_config_init(cfg);
    if ((t->command_config && sl_client_config_load(cfg, t->command_config, err, sizeof err) != 0))
        goto fail;
    if (t->bootstrap) {
        free(cfg->bootstrap);
        cfg->bootstrap = sl_xstrdup(t->bootstrap);
    }
    if (sl_client_config_check(cfg, err, sizeof err) != 0)
        goto fail;
    return 0;
fail:
    sl_cli_fail("%s", err);
    sl_client_config_clear(cfg);
    return -1;
}

int sl_cli_connect(const struct sl_cli_target *t, struct sl_kclient *k)
{
    struct sl_client_config cfg;
    char err[1024];
    if (sl_cli_load_config(t, &cfg) != 0)
        return -1;
    int rc = sl_kclient_connect(k, &cfg, err, sizeof err);
    if (rc != 0)
        sl_cli_fail("%s", err);
    sl_client_config_clear(&cfg);
    return rc;
}

const char *sl_cli_kafka_error(int code, const char *op, char *buf, size_t len)
{
    switch (code) {
    case SL_ERR_CLUSTER_AUTHORIZATION_FAILED:
        snprintf(buf, len, "not allowed: needs %s (a super user)", op ? op : "rights on the cluster");
        return buf;
    case SL_ERR_TOPIC_AUTHORIZATION_FAILED:
    case SL_ERR_GROUP_AUTHORIZATION_FAILED:
    case SL_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        snprintf(buf, len, "not allowed (%s)", sl_err_name(code));
        return buf;
    case SL_ERR_SECURITY_DISABLED:
        return "the broker has no authorizer: ACLs are not enabled (SECURITY_DISABLED)";
    case SL_ERR_RESOURCE_NOT_FOUND:
        return "not found (RESOURCE_NOT_FOUND)";
    case SL_ERR_DUPLICATE_RESOURCE:
        return "the same item twice in one request (DUPLICATE_RESOURCE)";
    case SL_ERR_UNACCEPTABLE_CREDENTIAL:
        return "the broker refused the credential (UNACCEPTABLE_CREDENTIAL)";
    case SL_ERR_UNSUPPORTED_SASL_MECHANISM:
        return "the broker does not support this SCRAM mechanism (UNSUPPORTED_SASL_MECHANISM)";
    case SL_ERR_INVALID_REQUEST:
        return "the broker refused the request as invalid (INVALID_REQUEST)";
    case SL_ERR_UNSUPPORTED_VERSION:
        return "the broker does not support this request (UNSUPPORTED_VERSION)";
    default:
        snprintf(buf, len, "the broker answered %s (error %d)", sl_err_name(code), code);
        return buf;
    }
}

int sl_cli_describe_broker(struct sl_kclient *k, const char *node, sl_str_t *keys,
                           int32_t nkeys, const char *what,
                           struct DescribeConfigsResponse_DescribeConfigsResult *out)
{
    char err[1024], buf[256];
    struct DescribeConfigsRequest_DescribeConfigsResource res = {
        .resource_type = 4 /* BROKER */, .resource_name = sl_str_c(node),
        .configuration_keys = {keys ? nkeys : -1, keys}};
    struct DescribeConfigsRequest req = {.resources = {1, &res}};
    struct DescribeConfigsResponse resp;
    if (sl_kclient_call(k, SL_API_DESCRIBE_CONFIGS, &req, &resp, err, sizeof err) != 0)
        return sl_cli_fail("%s", err);
    if (resp.results.n != 1)
        return sl_cli_fail("DescribeConfigs: %d results for one broker", resp.results.n);
    if (resp.results.a[0].error_code != SL_ERR_NONE)
        return sl_cli_fail("cannot %s: %s", what,
                           sl_cli_kafka_error(resp.results.a[0].error_code,
                                              "DESCRIBE_CONFIGS on the cluster", buf, sizeof buf));
    *out = resp.results.a[0];
    return 0;
}
