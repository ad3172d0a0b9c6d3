/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice posture`: the checks that turn what was gathered into findings,
 * and the report (text or JSON). Each check has a stable name (the
 * "check" of the JSON document) and a severity; docs/OPERATIONS.md lists
 * them. Critical: anyone on the network can read, write or impersonate, or
 * a protection that the secure default turns on is off or failing.
 * Warning: weaker than it should be, or something to act on soon.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client_config.h"
#include "cli/posture.h"
#include "core/wbuf.h"
#include "security/audit/audit_json.h"

#define DAY_MS (24LL * 3600 * 1000)

static const char *const tls_names[POSTURE_TLS_MAX] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
static const char *const sev_names[] = {"info", "warning", "critical"};

static void add(struct posture *p, int sev, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(struct posture *p, int sev, const char *check, const char *fmt, ...)
{
    if (p->n_findings >= POSTURE_MAX_FINDINGS)
        return;
    struct posture_finding *f = &p->findings[p->n_findings++];
    f->severity = sev;
    snprintf(f->check, sizeof f->check, "%s", check);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
}

static bool is(const char *v, const char *lit)
{
    return v && strcmp(v, lit) == 0;
}

static void check_listener(struct posture *p, const struct posture_listener *l)
{
    const char *proto = sl_sec_proto_name(l->proto);
    bool plain = l->proto == SL_SEC_PLAINTEXT || l->proto == SL_SEC_SASL_PLAINTEXT;
    if (plain && !l->loopback)
        add(p, POSTURE_CRITICAL, "plaintext-listener",
            "listener %s is %s on %s:%d, reachable from the network: traffic (and credentials) "
            "travel in clear",
            l->name, proto, l->bind_host[0] ? l->bind_host : "*", l->port);
    else if (plain)
        add(p, POSTURE_WARNING, "plaintext-loopback",
            "listener %s is %s on loopback %s:%d: any local process can connect%s", l->name,
            proto, l->bind_host, l->port,
            l->proto == SL_SEC_PLAINTEXT ? " unauthenticated" : " and read traffic");
    if (!l->reachable) {
        add(p, POSTURE_WARNING, "listener-unreachable", "listener %s (%s:%d) could not be probed: %s",
            l->name, l->host, l->port, l->error[0] ? l->error : "no answer");
        return;
    }
    if ((l->proto == SL_SEC_SSL || l->proto == SL_SEC_SASL_SSL) && !l->tls)
        add(p, POSTURE_CRITICAL, "tls-not-spoken", "listener %s (%s:%d) is %s but %s", l->name,
            l->host, l->port, proto, l->error);
    for (int v = POSTURE_TLS1_0; v <= POSTURE_TLS1_1; v++)
        if (l->tls_accepted & (1u << v))
            add(p, POSTURE_CRITICAL, "tls-legacy",
                "listener %s accepts %s (below TLS 1.2): set ssl.enabled.protocols=TLSv1.2,TLSv1.3",
                l->name, tls_names[v]);
    for (int i = 0; i < l->n_certs; i++) {
        const struct posture_cert *c = &l->certs[i];
        double days = difftime(c->not_after, p->now) / 86400.0;
        if (days < 0)
            add(p, POSTURE_CRITICAL, "certificate-expired",
                "listener %s: certificate %s expired %.0f day(s) ago", l->name, c->subject, -days);
        else if (difftime(c->not_before, p->now) > 0)
            add(p, POSTURE_CRITICAL, "certificate-not-yet-valid",
                "listener %s: certificate %s is not valid yet", l->name, c->subject);
        else if (days < p->cert_warn_days)
            add(p, POSTURE_WARNING, "certificate-expiring",
                "listener %s: certificate %s expires in %.0f day(s)", l->name, c->subject, days);
    }
    if (l->sasl_known) {
        char m[300];
        snprintf(m, sizeof m, ",%s,", l->sasl_mechanisms);
        if (strstr(m, ",PLAIN,"))
            add(p, l->proto == SL_SEC_SASL_PLAINTEXT && !l->loopback ? POSTURE_CRITICAL
                                                                     : POSTURE_WARNING,
                "sasl-plain",
                "listener %s offers SASL PLAIN: the broker receives the password itself; prefer "
                "SCRAM-SHA-512 (sasl.enabled.mechanisms)",
                l->name);
    }
    if (l->kafka && !l->tls && l->proto != SL_SEC_PLAINTEXT && l->proto != SL_SEC_SASL_PLAINTEXT)
        add(p, POSTURE_CRITICAL, "tls-not-spoken", "listener %s answers Kafka without TLS",
            l->name);
    if (!l->kafka && l->error[0])
        add(p, POSTURE_WARNING, "listener-probe-failed", "listener %s: %s", l->name, l->error);
}

static void check_super_users(struct posture *p)
{
    if (!p->super_users || !p->super_users[0])
        return;
    int n = 0;
    char *copy = strdup(p->super_users), *save = NULL;
    for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        while (*t == ' ')
            t++;
        if (!*t)
            continue;
        n++;
        if (strcmp(t, "User:ANONYMOUS") == 0) {
            /* Unauthenticated connections of PLAINTEXT and SSL listeners are
             * User:ANONYMOUS (SSL without a client certificate rule). */
            const char *open = NULL;
            for (int i = 0; i < p->n_listeners && !open; i++)
                if (p->listeners[i].proto == SL_SEC_PLAINTEXT ||
                    p->listeners[i].proto == SL_SEC_SSL)
                    open = p->listeners[i].name;
            if (open)
                add(p, POSTURE_CRITICAL, "super-user-anonymous",
                    "super.users holds User:ANONYMOUS: every unauthenticated client of listener "
                    "%s is a super user",
                    open);
            else
                add(p, POSTURE_WARNING, "super-user-anonymous",
                    "super.users holds User:ANONYMOUS: a PLAINTEXT or SSL listener added later "
                    "would make every unauthenticated client a super user");
        }
    }
    free(copy);
    if (n > 1)
        add(p, POSTURE_WARNING, "super-users-many",
            "%d super users (%s): each bypasses every ACL; keep one admin and grant others ACLs",
            n, p->super_users);
}

void sl_posture_check(struct posture *p)
{
    p->n_findings = 0;
    for (int i = 0; i < p->n_listeners; i++)
        check_listener(p, &p->listeners[i]);
    if (is(p->allow_everyone, "true"))
        add(p, POSTURE_CRITICAL, "allow-everyone",
            "allow.everyone.if.no.acl.found=true: any resource without an ACL is open to everyone");
    if (is(p->enc_status, "disabled"))
        add(p, POSTURE_CRITICAL, "encryption-off",
            "encryption at rest is off (sluice.encryption.enable=false): records, offsets and "
            "credentials are stored in clear");
    if (is(p->audit_status, "disabled"))
        add(p, POSTURE_CRITICAL, "audit-off",
            "the audit log is off (sluice.audit.enable=false): security events are not recorded");
    else if (is(p->audit_status, "broken"))
        add(p, POSTURE_CRITICAL, "audit-chain-broken",
            "the audit chain has a break (a damaged file found at start, or %s event(s) lost): "
            "run sluice audit verify",
            p->audit_dropped ? p->audit_dropped : "some");
    else if (is(p->audit_status, "unwritable"))
        add(p, POSTURE_CRITICAL, "audit-unwritable",
            "the audit log cannot be written now (see the broker's log)");
    if (is(p->audit_policy, "log") && !is(p->audit_status, "disabled"))
        add(p, POSTURE_WARNING, "audit-policy-log",
            "sluice.audit.failure.policy=log: the broker keeps serving when audit records "
            "cannot be written");
    if (is(p->allow_insecure, "true"))
        add(p, POSTURE_WARNING, "insecure-override",
            "sluice.allow.insecure=true: the broker does not refuse insecure set-ups");
    if (is(p->enc_status, "enabled") && p->key_age_ms) {
        long long age = atoll(p->key_age_ms);
        if (age < 0)
            add(p, POSTURE_INFO, "key-age-unknown",
                "the age of the encryption key is unknown (keys from sluice.keys.command)");
        else if (age > p->key_max_age_ms)
            add(p, POSTURE_WARNING, "key-old",
                "the newest encryption key (version %s) is %lld days old (limit %lld): run "
                "sluice keys rotate",
                p->key_version ? p->key_version : "?", age / DAY_MS,
                (long long)(p->key_max_age_ms / DAY_MS));
    }
    check_super_users(p);
    if (p->n_acls == 0 && !is(p->allow_everyone, "true"))
        add(p, POSTURE_INFO, "no-acls",
            "no ACLs: only super users can do anything (deny by default)");
    if (p->n_wildcard_allow > 0)
        add(p, POSTURE_WARNING, "acl-wildcard-principal",
            "%d ALLOW ACL(s) for User:* grant every authenticated principal", p->n_wildcard_allow);
}

int sl_posture_count(const struct posture *p, int severity)
{
    int n = 0;
    for (int i = 0; i < p->n_findings; i++)
        n += p->findings[i].severity == severity;
    return n;
}

/* ---- the report ---- */

static void versions_text(const struct posture_listener *l, char *out, size_t n)
{
    out[0] = '\0';
    for (int v = 0; v < POSTURE_TLS_MAX; v++)
        if (l->tls_accepted & (1u << v)) {
            size_t u = strlen(out);
            snprintf(out + u, n - u, "%s%s", u ? "," : "", tls_names[v]);
        }
}

static void fmt_date(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_text(const struct posture *p)
{
    char buf[256];
    printf("Security posture of %s (cluster %s, node %d)\n\n", p->bootstrap,
           p->cluster_id[0] ? p->cluster_id : "?", p->node_id);
    printf("Listeners:\n");
    for (int i = 0; i < p->n_listeners; i++) {
        const struct posture_listener *l = &p->listeners[i];
        printf("  %s %s bind %s:%d%s (probed at %s:%d)\n", l->name, sl_sec_proto_name(l->proto),
               l->bind_host[0] ? l->bind_host : "*", l->port, l->loopback ? " loopback" : "",
               l->host, l->port);
        if (!l->reachable) {
            printf("    unreachable: %s\n", l->error);
            continue;
        }
        versions_text(l, buf, sizeof buf);
        printf("    TLS: %s\n", l->tls ? buf : "no");
        if (l->tls_untested) {
            printf("    TLS versions not testable with this OpenSSL:");
            for (int v = 0; v < POSTURE_TLS_MAX; v++)
                if (l->tls_untested & (1u << v))
                    printf(" %s", tls_names[v]);
            printf("\n");
        }
        for (int c = 0; c < l->n_certs; c++) {
            char d[32];
            fmt_date(l->certs[c].not_after, d);
            printf("    certificate %s expires %s (%.0f days)\n", l->certs[c].subject, d,
                   difftime(l->certs[c].not_after, p->now) / 86400.0);
        }
        if (l->sasl_known)
            printf("    SASL mechanisms: %s\n", l->sasl_mechanisms[0] ? l->sasl_mechanisms : "none");
        printf("    Kafka: %s\n", l->kafka ? "answers" : l->error);
    }
    printf("\nAuthorization: %d ACL(s), allow.everyone.if.no.acl.found=%s, super.users=%s\n",
           p->n_acls, p->allow_everyone ? p->allow_everyone : "?",
           p->super_users && p->super_users[0] ? p->super_users : "(none)");
    printf("Users: %d SCRAM user(s)\n", p->n_users);
    printf("Audit: %s (policy %s, authz level %s)\n", p->audit_status ? p->audit_status : "?",
           p->audit_policy ? p->audit_policy : "?", p->audit_level ? p->audit_level : "?");
    if (is(p->enc_status, "enabled")) {
        long long age = p->key_age_ms ? atoll(p->key_age_ms) : -1;
        printf("Encryption at rest: enabled, key version %s, key age %s\n",
               p->key_version ? p->key_version : "?",
               age < 0 ? "unknown" : (snprintf(buf, sizeof buf, "%lld days", age / DAY_MS), buf));
    } else {
        printf("Encryption at rest: %s\n", p->enc_status ? p->enc_status : "?");
    }
    printf("Insecure override (sluice.allow.insecure): %s\n\n",
           p->allow_insecure ? p->allow_insecure : "?");
    int crit = sl_posture_count(p, POSTURE_CRITICAL), warn = sl_posture_count(p, POSTURE_WARNING);
    for (int s = POSTURE_CRITICAL; s >= POSTURE_INFO; s--)
        for (int i = 0; i < p->n_findings; i++)
            if (p->findings[i].severity == s)
                printf("%s: [%s] %s\n", s == POSTURE_CRITICAL  ? "CRITICAL"
                                        : s == POSTURE_WARNING ? "WARNING"
                                                               : "note",
                       p->findings[i].check, p->findings[i].message);
    printf("%s%d critical, %d warning(s)\n", p->n_findings ? "\n" : "", crit, warn);
}

static void json_listener(struct sl_aj *j, const struct posture *p, const struct posture_listener *l)
{
    char d[32];
    sl_aj_obj_begin(j);
    sl_aj_kcstr(j, "name", l->name);
    sl_aj_kcstr(j, "security_protocol", sl_sec_proto_name(l->proto));
    sl_aj_kcstr(j, "bind_host", l->bind_host);
    sl_aj_kcstr(j, "probed_host", l->host);
    sl_aj_ki64(j, "port", l->port);
    sl_aj_kbool(j, "loopback", l->loopback);
    sl_aj_kbool(j, "reachable", l->reachable);
    sl_aj_kbool(j, "tls", l->tls);
    sl_aj_key(j, "tls_versions");
    sl_aj_arr_begin(j);
    for (int v = 0; v < POSTURE_TLS_MAX; v++)
        if (l->tls_accepted & (1u << v))
            sl_aj_cstr(j, tls_names[v]);
    sl_aj_arr_end(j);
    sl_aj_key(j, "tls_versions_untested");
    sl_aj_arr_begin(j);
    for (int v = 0; v < POSTURE_TLS_MAX; v++)
        if (l->tls_untested & (1u << v))
            sl_aj_cstr(j, tls_names[v]);
    sl_aj_arr_end(j);
    sl_aj_key(j, "certificates");
    sl_aj_arr_begin(j);
    for (int c = 0; c < l->n_certs; c++) {
        sl_aj_obj_begin(j);
        sl_aj_kcstr(j, "subject", l->certs[c].subject);
        fmt_date(l->certs[c].not_after, d);
        sl_aj_kcstr(j, "not_after", d);
        sl_aj_ki64(j, "days_left", (int64_t)(difftime(l->certs[c].not_after, p->now) / 86400.0));
        sl_aj_obj_end(j);
    }
    sl_aj_arr_end(j);
    sl_aj_key(j, "sasl_mechanisms");
    if (!l->sasl_known) {
        sl_aj_null(j);
    } else {
        sl_aj_arr_begin(j);
        char m[256];
        snprintf(m, sizeof m, "%s", l->sasl_mechanisms);
        char *save = NULL;
        for (char *t = strtok_r(m, ",", &save); t; t = strtok_r(NULL, ",", &save))
            sl_aj_cstr(j, t);
        sl_aj_arr_end(j);
    }
    sl_aj_kbool(j, "kafka", l->kafka);
    sl_aj_kcstr(j, "error", l->error[0] ? l->error : NULL);
    sl_aj_obj_end(j);
}

static void json_bool_of(struct sl_aj *j, const char *key, const char *v)
{
    sl_aj_key(j, key);
    if (!v)
        sl_aj_null(j);
    else
        sl_aj_bool(j, strcmp(v, "true") == 0);
}

void sl_posture_json(const struct posture *p, struct sl_wbuf *w)
{
    struct sl_aj j;
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "bootstrap", p->bootstrap);
    sl_aj_kcstr(&j, "cluster_id", p->cluster_id);
    sl_aj_ki64(&j, "node_id", p->node_id);
    sl_aj_key(&j, "listeners");
    sl_aj_arr_begin(&j);
    for (int i = 0; i < p->n_listeners; i++)
        json_listener(&j, p, &p->listeners[i]);
    sl_aj_arr_end(&j);
    sl_aj_ki64(&j, "users", p->n_users);
    sl_aj_ki64(&j, "acls", p->n_acls);
    sl_aj_key(&j, "super_users");
    sl_aj_arr_begin(&j);
    if (p->super_users) {
        char *copy = strdup(p->super_users), *save = NULL;
        for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save))
            if (*t)
                sl_aj_cstr(&j, t);
        free(copy);
    }
    sl_aj_arr_end(&j);
    json_bool_of(&j, "allow_everyone_if_no_acl_found", p->allow_everyone);
    json_bool_of(&j, "allow_insecure", p->allow_insecure);
    sl_aj_key(&j, "audit");
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "status", p->audit_status);
    sl_aj_kcstr(&j, "failure_policy", p->audit_policy);
    sl_aj_kcstr(&j, "authz_level", p->audit_level);
    sl_aj_ki64(&j, "dropped_events", p->audit_dropped ? atoll(p->audit_dropped) : -1);
    sl_aj_obj_end(&j);
    sl_aj_key(&j, "encryption");
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "status", p->enc_status);
    sl_aj_ki64(&j, "key_version", p->key_version ? atoll(p->key_version) : -1);
    sl_aj_ki64(&j, "key_age_ms", p->key_age_ms ? atoll(p->key_age_ms) : -1);
    sl_aj_obj_end(&j);
    sl_aj_key(&j, "findings");
    sl_aj_arr_begin(&j);
    for (int i = 0; i < p->n_findings; i++) {
        sl_aj_obj_begin(&j);
        sl_aj_kcstr(&j, "severity", sev_names[p->findings[i].severity]);
        sl_aj_kcstr(&j, "check", p->findings[i].check);
        sl_aj_kcstr(&j, "message", p->findings[i].message);
        sl_aj_obj_end(&j);
    }
    sl_aj_arr_end(&j);
    sl_aj_ki64(&j, "critical", sl_posture_count(p, POSTURE_CRITICAL));
    sl_aj_ki64(&j, "warnings", sl_posture_count(p, POSTURE_WARNING));
    sl_aj_obj_end(&j);
}

static void print_json(const struct posture *p)
{
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_posture_json(p, &w);
    printf("%.*s\n", (int)w.len, (const char *)w.data);
    sl_wbuf_destroy(&w);
}

void sl_posture_print(const struct posture *p, bool json)
{
    if (json)
        print_json(p);
    else
        print_text(p);
}
