/* SPDX-License-Identifier: Apache-2.0
 *
 * The weak points of a configuration and the refusal to start with one
 * (see insecure.h).
 */
#include "config/insecure.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

bool sl_config_host_is_loopback(const char *host)
{
    if (!host || !host[0])
        return false;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1) {
        static const unsigned char one[16] = {[15] = 1};
        return memcmp(a, one, 16) == 0;
    }
    return false;
}

/* True when the comma-separated list has item (exact, spaces trimmed). */
static bool list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == n && strncmp(p, item, n) == 0)
            return true;
        p = e;
    }
    return false;
}

static void emit(sl_weakness_cb cb, void *arg, int *n, const char *key, const char *value,
                 const char *why, bool refusable)
{
    struct sl_weakness w = {.key = key, .value = value, .why = why, .refusable = refusable};
    (*n)++;
    if (cb)
        cb(arg, &w);
}

int sl_config_weaknesses(const struct sl_config *c, sl_weakness_cb cb, void *arg)
{
    int n = 0;
    char why[512], val[320], buf[64];
    for (int i = 0; i < c->n_listeners; i++) {
        const struct sl_listener_cfg *l = &c->listeners[i];
        sl_listener_format(l, val, sizeof val);
        bool plain = strcmp(l->protocol, "PLAINTEXT") == 0;
        bool sasl_plain = strcmp(l->protocol, "SASL_PLAINTEXT") == 0;
        if (plain || sasl_plain) {
            bool loop = sl_config_host_is_loopback(l->host);
            bool any = !l->host[0] || strcmp(l->host, "0.0.0.0") == 0 || strcmp(l->host, "::") == 0;
            snprintf(why, sizeof why, "listener %s is %s%s: %s%s", l->name, l->protocol,
                     loop ? " on loopback"
                          : (any ? " on every interface" : " on a non-loopback address"),
                     plain ? "no encryption and no authentication (its clients are "
                             "User:ANONYMOUS)"
                           : "no encryption (records and SCRAM exchanges cross the network "
                             "in clear)",
                     loop ? "" : ", reachable from other machines");
            emit(cb, arg, &n, "listeners", val, why, !loop);
        } else if (strcmp(l->protocol, "SSL") == 0) {
            const char *ca = sl_config_listener_get(c, l->name, "ssl.client.auth", buf, sizeof buf);
            if (!ca || strcmp(ca, "required") != 0) {
                snprintf(why, sizeof why, "listener %s is SSL without required client "
                                          "certificates: its clients are unauthenticated",
                         l->name);
                emit(cb, arg, &n, "listeners", val, why, false);
            }
        }
        if (sasl_plain) {
            const char *m = sl_config_listener_get(c, l->name, "sasl.enabled.mechanisms", buf,
                                                   sizeof buf);
            if (list_has(m, "PLAIN")) {
                snprintf(why, sizeof why, "PLAIN on listener %s (SASL_PLAINTEXT) sends "
                                          "passwords in clear",
                         l->name);
                emit(cb, arg, &n, "sluice.sasl.plain.allow.cleartext", "true", why, true);
            }
        }
    }
    if (c->allow_everyone_if_no_acl_found)
        emit(cb, arg, &n, "allow.everyone.if.no.acl.found", "true",
             "every principal, anonymous ones included, may do anything to a resource no ACL "
             "names",
             true);
    if (!c->encryption_enable)
        emit(cb, arg, &n, "sluice.encryption.enable", "false",
             "records, offsets and the metadata store are written to disk in clear", true);
    if (!c->audit_enable)
        emit(cb, arg, &n, "sluice.audit.enable", "false",
             "connections, authentications and authorization decisions leave no "
             "tamper-evident record",
             true);
    return n;
}

struct first {
    const struct sl_config *c;
    char *err;
    size_t errlen;
    bool found;
};

static void first_refusable(void *arg, const struct sl_weakness *w)
{
    struct first *f = arg;
    if (f->found || !w->refusable)
        return;
    f->found = true;
    const char *origin = sl_config_origin(f->c, w->key);
    snprintf(f->err, f->errlen,
             "config %s%s%s=%s: %s. Refusing to start an insecure set-up: change the setting, or "
             "set sluice.allow.insecure=true to accept the risk (the broker then warns at every "
             "start, in its log and its audit log)",
             origin ? origin : "", origin ? ": " : "", w->key, w->value, w->why);
}

sl_err_t sl_config_check_insecure(const struct sl_config *c, char *err, size_t errlen)
{
    if (c->allow_insecure)
        return SL_ERR_NONE;
    struct first f = {.c = c, .err = err, .errlen = errlen};
    sl_config_weaknesses(c, first_refusable, &f);
    return f.found ? SL_ERR__INVAL : SL_ERR_NONE;
}
