/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice posture`: what is gathered about a running broker (cmd_posture.c
 * asks the broker; posture_probe.c connects to each listener), the checks
 * that turn it into findings and the report, text or JSON
 * (posture_checks.c). The checks and their severities are listed in
 * docs/OPERATIONS.md ("sluice posture").
 */
#ifndef SL_CLI_POSTURE_H
#define SL_CLI_POSTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli/client_config.h"

#define POSTURE_MAX_LISTENERS 16
#define POSTURE_MAX_CERTS 8
#define POSTURE_MAX_FINDINGS 64

/* TLS versions probed, bit i of tls_accepted. */
enum posture_tls {
    POSTURE_TLS1_0 = 0,
    POSTURE_TLS1_1,
    POSTURE_TLS1_2,
    POSTURE_TLS1_3,
    POSTURE_TLS_MAX
};

struct posture_cert {
    char subject[256];
    time_t not_after, not_before;
};

struct posture_listener {
    char name[64];          /* listener name; "bootstrap" for an endpoint no listener has */
    int proto;              /* enum sl_sec_proto */
    char bind_host[256];    /* from `listeners`; "" for the wildcard */
    char host[256];         /* where it was probed */
    int port;
    bool loopback;          /* bound to a loopback address only */
    /* probe results */
    bool reachable;
    bool tls;                   /* a TLS handshake succeeded */
    unsigned tls_accepted;      /* bits of enum posture_tls */
    unsigned tls_untested;      /* versions this OpenSSL cannot offer */
    struct posture_cert certs[POSTURE_MAX_CERTS];
    int n_certs;
    bool kafka;                 /* ApiVersions answered */
    char sasl_mechanisms[256];  /* comma separated, from SaslHandshake; "" none/unknown */
    bool sasl_known;
    char error[512];            /* why part of the probe failed; "" when none */
};

enum posture_severity { POSTURE_INFO = 0, POSTURE_WARNING, POSTURE_CRITICAL };

struct posture_finding {
    int severity;
    char check[40];
    char message[600];
};

struct posture {
    char bootstrap[512];
    char cluster_id[64];
    int32_t node_id;
    struct posture_listener listeners[POSTURE_MAX_LISTENERS];
    int n_listeners;
    /* from DescribeConfigs (NULL: not answered) */
    char *super_users, *allow_everyone, *allow_insecure, *audit_enable, *audit_policy,
        *audit_level, *audit_status, *audit_dropped, *enc_status, *key_version, *key_age_ms,
        *listeners_cfg, *proto_map, *sasl_enabled;
    int n_users, n_acls; /* -1: unknown */
    int n_wildcard_allow; /* ALLOW ACLs for User:* */
    /* thresholds */
    int cert_warn_days;
    int64_t key_max_age_ms;
    time_t now;
    struct posture_finding findings[POSTURE_MAX_FINDINGS];
    int n_findings;
};

/* Fills p->listeners from p->listeners_cfg ("NAME://host:port,...") and
 * p->proto_map; a wildcard-bound listener is probed at boot_host. Entries
 * that do not parse are skipped; at most POSTURE_MAX_LISTENERS. */
void sl_posture_parse_listeners(struct posture *p, const char *boot_host);

/* Adds the endpoint host:port connected to as listener "bootstrap" (of
 * protocol proto) when no listener has its port: a proxy or load balancer
 * in front, which clients use too. */
void sl_posture_add_bootstrap(struct posture *p, const char *host, int port, int proto);

/* Probes listener l (host, port, proto set) with the admin's TLS settings
 * (cfg borrowed): the TLS versions it accepts and its chain, ApiVersions,
 * and for SASL listeners the SaslHandshake list of mechanisms. */
void sl_posture_probe(struct posture_listener *l, const struct sl_client_config *cfg);

/* Turns p into findings (p->findings). */
void sl_posture_check(struct posture *p);

/* Prints the report on stdout, as text or JSON. */
void sl_posture_print(const struct posture *p, bool json);

/* Appends the JSON document of the report to w. */
struct sl_wbuf;
void sl_posture_json(const struct posture *p, struct sl_wbuf *w);

/* Counts of findings of a severity. */
int sl_posture_count(const struct posture *p, int severity);

#endif
