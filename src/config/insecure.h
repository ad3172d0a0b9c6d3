/* SPDX-License-Identifier: Apache-2.0
 *
 * The weak points of a configuration (issue 10): what makes a set-up
 * insecure, found in one place for the three that need it — the refusal
 * at start (sl_config_check_insecure, main.c), the warnings in the log
 * (server/broker.c) and the posture record of the audit log
 * (security/audit/audit_events.c).
 *
 * Refused unless sluice.allow.insecure=true:
 *   - a PLAINTEXT or SASL_PLAINTEXT listener on an address other than
 *     loopback (an empty or wildcard host counts as other);
 *   - PLAIN on a SASL_PLAINTEXT listener (passwords in clear; it also
 *     needs sluice.sasl.plain.allow.cleartext=true, sl_config_validate);
 *   - allow.everyone.if.no.acl.found=true;
 *   - sluice.encryption.enable=false;
 *   - sluice.audit.enable=false.
 * Reported but allowed: a PLAINTEXT or SASL_PLAINTEXT listener on
 * loopback, an SSL listener that does not require client certificates
 * (its clients are anonymous). TLS below 1.2 cannot be configured at all
 * (ssl.enabled.protocols accepts TLSv1.2 and TLSv1.3 only).
 */
#ifndef SL_CONFIG_INSECURE_H
#define SL_CONFIG_INSECURE_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/err.h"

struct sl_config;

/* One weak point: key and value as configured (value "" when not a single
 * key's value), why it weakens security, and whether it needs
 * sluice.allow.insecure=true (refusable) or is only reported. All
 * borrowed for the call. */
struct sl_weakness {
    const char *key;
    const char *value;
    const char *why;
    bool refusable;
};

typedef void (*sl_weakness_cb)(void *arg, const struct sl_weakness *w);

/* Calls cb for each weak point of c (validated) in a fixed order; returns
 * how many there were. */
int sl_config_weaknesses(const struct sl_config *c, sl_weakness_cb cb, void *arg);

/* SL_ERR_NONE when c has no refusable weak point or sluice.allow.insecure
 * is true; else SL_ERR__INVAL with err = "KEY=VALUE: why; refusing to
 * start an insecure set-up: ... or set sluice.allow.insecure=true" for the
 * first one. */
sl_err_t sl_config_check_insecure(const struct sl_config *c, char *err, size_t errlen);

/* True when host (a listener's, without brackets) is a loopback address:
 * localhost, 127.0.0.0/8 or ::1. Empty (every interface) is not. */
bool sl_config_host_is_loopback(const char *host);

#endif
