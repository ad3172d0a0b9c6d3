/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice posture --bootstrap-server HOST:PORT --command-config FILE
 * [--json]`: the security posture of a running broker, for people and for
 * monitoring. As the admin of --command-config it asks the broker
 * (Metadata, DescribeConfigs on the BROKER resource with its read-only
 * status entries, DescribeUserScramCredentials, DescribeAcls with a
 * match-any filter), then connects to each listener (posture_probe.c),
 * checks (posture_checks.c) and reports. Exit status: 0 no critical
 * finding, 2 at least one critical finding, 1 usage or connection error
 * (not the CLI's usual 2 for usage: 2 must mean "critical" to monitoring).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/posture.h"
#include "core/mem.h"
#include "protocol/gen/apis.h"
#include "sluice/err.h"

#define EXIT_CRITICAL 2
#define EXIT_ERROR 1
#define ACL_ANY 1
#define ACL_ALLOW 3

static const char USAGE[] =
    "usage: sluice posture --bootstrap-server HOST:PORT --command-config FILE [--json]\n"
    "                      [--cert-warn-days N] [--key-max-age-days N]\n"
    "Reports the security posture of a running broker: each listener (protocol, TLS\n"
    "versions accepted, certificate expiry, SASL mechanisms), users, ACLs, super\n"
    "users, audit and encryption at rest, with a line per weak point (CRITICAL or\n"
    "WARNING; docs/OPERATIONS.md lists the checks). --json prints one JSON document.\n"
    "  --cert-warn-days N     warn for certificates expiring within N days (30)\n"
    "  --key-max-age-days N   warn when the newest encryption key is older (365)\n"
    "The --command-config principal must be a super user.\n"
    "Exit status: 0 no critical finding, 2 critical finding(s), 1 usage or\n"
    "connection error.\n";

static char *dup_str(sl_str_t s)
{
    return s.len >= 0 ? sl_xstrndup(s.p ? s.p : "", (size_t)s.len) : NULL;
}

/* ---- what the broker says ---- */

static int ask_metadata(struct sl_kclient *k, struct posture *p)
{
    struct MetadataRequest req = {.topics = {0, NULL}, .allow_auto_topic_creation = false};
    struct MetadataResponse resp;
    char err[1024];
    if (sl_kclient_call(k, SL_API_METADATA, &req, &resp, err, sizeof err) != 0)
        return sl_cli_fail("%s", err);
    if (resp.cluster_id.len > 0)
        snprintf(p->cluster_id, sizeof p->cluster_id, "%.*s",
                 (int)(resp.cluster_id.len > 60 ? 60 : resp.cluster_id.len), resp.cluster_id.p);
    p->node_id = resp.brokers.n > 0 ? resp.brokers.a[0].node_id : resp.controller_id;
    return 0;
}

static const struct {
    const char *name;
    size_t off;
} wanted[] = {
#define W(n, f) {n, offsetof(struct posture, f)}
    W("super.users", super_users),
    W("allow.everyone.if.no.acl.found", allow_everyone),
    W("sluice.allow.insecure", allow_insecure),
    W("sluice.audit.enable", audit_enable),
    W("sluice.audit.failure.policy", audit_policy),
    W("sluice.audit.authz.level", audit_level),
    W("sluice.audit.status", audit_status),
    W("sluice.audit.dropped.events", audit_dropped),
    W("sluice.encryption.status", enc_status),
    W("sluice.encryption.key.version", key_version),
    W("sluice.encryption.key.age.ms", key_age_ms),
    W("listeners", listeners_cfg),
    W("listener.security.protocol.map", proto_map),
    W("sasl.enabled.mechanisms", sasl_enabled),
#undef W
};

static int ask_configs(struct sl_kclient *k, struct posture *p)
{
    char node[16];
    snprintf(node, sizeof node, "%d", p->node_id);
    struct DescribeConfigsResponse_DescribeConfigsResult res;
    int rc = sl_cli_describe_broker(k, node, NULL, 0, "describe the broker's configuration", &res);
    if (rc != 0)
        return rc;
    const struct DescribeConfigsResponse_DescribeConfigsResult *r = &res;
    for (int i = 0; i < r->configs.n; i++)
        for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++) {
            char **slot = (char **)((char *)p + wanted[w].off);
            if (!*slot && sl_str_eq_c(r->configs.a[i].name, wanted[w].name))
                *slot = dup_str(r->configs.a[i].value);
        }
    if (!p->audit_status || !p->enc_status)
        return sl_cli_fail("the broker does not report sluice.audit.status / "
                           "sluice.encryption.status (an older Sluice, or not Sluice)");
    return 0;
}

static int ask_users_acls(struct sl_kclient *k, struct posture *p)
{
    struct DescribeUserScramCredentialsResponse u;
    if (sl_cli_user_describe(k, NULL, &u) != 0)
        return -1;
    p->n_users = 0;
    for (int i = 0; i < u.results.n; i++)
        p->n_users += u.results.a[i].error_code == SL_ERR_NONE;
    struct DescribeAclsRequest req = {
        .resource_type_filter = ACL_ANY, .resource_name_filter = SL_STR_NULL,
        .pattern_type_filter = ACL_ANY, .principal_filter = SL_STR_NULL,
        .host_filter = SL_STR_NULL, .operation = ACL_ANY, .permission_type = ACL_ANY};
    struct DescribeAclsResponse resp;
    char err[1024], buf[256];
    if (sl_kclient_call(k, SL_API_DESCRIBE_ACLS, &req, &resp, err, sizeof err) != 0)
        return sl_cli_fail("%s", err);
    if (resp.error_code != SL_ERR_NONE)
        return sl_cli_fail("cannot list ACLs: %s",
                           sl_cli_kafka_error(resp.error_code, "DESCRIBE on the cluster", buf,
                                              sizeof buf));
    p->n_acls = 0;
    for (int i = 0; i < resp.resources.n; i++)
        for (int a = 0; a < resp.resources.a[i].acls.n; a++) {
            const struct DescribeAclsResponse_AclDescription *d = &resp.resources.a[i].acls.a[a];
            p->n_acls++;
            if (d->permission_type == ACL_ALLOW && sl_str_eq_c(d->principal, "User:*"))
                p->n_wildcard_allow++;
        }
    return 0;
}

/* ---- the command ---- */

static void posture_free(struct posture *p)
{
    for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++)
        free(*(char **)((char *)p + wanted[w].off));
    free(p);
}

static int run(const struct sl_cli_target *t, bool json, int cert_days, long key_days)
{
    struct sl_client_config cfg;
    struct sl_kclient k;
    char err[1024];
    if (sl_cli_load_config(t, &cfg) != 0)
        return EXIT_ERROR;
    struct posture *p = sl_xcalloc(1, sizeof *p);
    p->n_users = p->n_acls = -1;
    p->cert_warn_days = cert_days;
    p->key_max_age_ms = (int64_t)key_days * 24 * 3600 * 1000;
    p->now = time(NULL);
    snprintf(p->bootstrap, sizeof p->bootstrap, "%s", cfg.bootstrap);
    int rc = EXIT_ERROR;
    if (sl_kclient_connect(&k, &cfg, err, sizeof err) != 0) {
        sl_cli_fail("%s", err);
        goto out;
    }
    int bad = ask_metadata(&k, p) || ask_configs(&k, p) || ask_users_acls(&k, p);
    sl_kclient_close(&k);
    if (bad)
        goto out;
    char host[256] = "", port[8] = "0";
    const char *comma = strchr(cfg.bootstrap, ',');
    size_t n = comma ? (size_t)(comma - cfg.bootstrap) : strlen(cfg.bootstrap);
    sl_kclient_split_hostport(cfg.bootstrap, n, host, sizeof host, port, sizeof port);
    sl_posture_parse_listeners(p, host);
    sl_posture_add_bootstrap(p, host, atoi(port), cfg.protocol);
    for (int i = 0; i < p->n_listeners; i++)
        sl_posture_probe(&p->listeners[i], &cfg);
    sl_posture_check(p);
    sl_posture_print(p, json);
    fflush(stdout);
    rc = sl_posture_count(p, POSTURE_CRITICAL) > 0 ? EXIT_CRITICAL : SLUICE_CLI_EXIT_OK;
out:
    posture_free(p);
    sl_client_config_clear(&cfg);
    return rc;
}

static int parse_days(const char *opt, const char *v, long *out)
{
    char *end;
    long d = strtol(v, &end, 10);
    if (!*v || *end || d < 0 || d > 36500) {
        sl_cli_usage_error("posture", "%s %s: a number of days, 0 to 36500", opt, v);
        return EXIT_ERROR;
    }
    *out = d;
    return 0;
}

int sl_cli_posture(int argc, char **argv)
{
    struct sl_cli_target t = {0};
    bool json = false;
    long cert_days = 30, key_days = 365;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            return SLUICE_CLI_EXIT_OK;
        }
        if ((r = sl_cli_target_opt(&t, argc, argv, &i)) != 0) {
            if (r < 0)
                return EXIT_ERROR;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if ((r = sl_cli_opt("--cert-warn-days", argc, argv, &i, &v)) != 0) {
            if (r < 0 || parse_days("--cert-warn-days", v, &cert_days) != 0)
                return EXIT_ERROR;
        } else if ((r = sl_cli_opt("--key-max-age-days", argc, argv, &i, &v)) != 0) {
            if (r < 0 || parse_days("--key-max-age-days", v, &key_days) != 0)
                return EXIT_ERROR;
        } else {
            sl_cli_usage_error("posture", "unexpected argument '%s'", argv[i]);
            return EXIT_ERROR; /* usage errors are 1 here: 2 means critical */
        }
    }
    const char *bad = t.data_dir || t.keys_file || t.keys_command
                          ? "posture works online only: --bootstrap-server and --command-config"
                      : !t.bootstrap && !t.command_config
                          ? "say which broker: --bootstrap-server HOST:PORT --command-config FILE"
                          : NULL;
    if (bad) {
        sl_cli_usage_error("posture", "%s", bad);
        return EXIT_ERROR;
    }
    return run(&t, json, (int)cert_days, key_days);
}
