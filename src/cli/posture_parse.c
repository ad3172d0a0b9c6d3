/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice posture`: the broker's `listeners` and
 * `listener.security.protocol.map` values (from its DescribeConfigs answer:
 * untrusted text, fuzzed by fuzz/fuzz_posture.c) turned into the listeners
 * to probe (see posture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/kclient.h"
#include "cli/posture.h"
#include "core/mem.h"

static bool loopback_host(const char *h)
{
    return strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0;
}

/* The protocol of listener name from the map (or the name itself). */
static int proto_of(const char *map, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = map ? map : ""; *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        if (strncasecmp(s, name, n) == 0 && s[n] == ':') {
            for (int pr = 0; pr < SL_SEC_MAX; pr++) {
                const char *pn = sl_sec_proto_name(pr);
                size_t pl = strlen(pn);
                if (strncasecmp(s + n + 1, pn, pl) == 0 &&
                    (s[n + 1 + pl] == ',' || s[n + 1 + pl] == '\0' || s[n + 1 + pl] == ' '))
                    return pr;
            }
        }
        const char *c = strchr(s, ',');
        s = c ? c : s + strlen(s);
    }
    for (int pr = 0; pr < SL_SEC_MAX; pr++)
        if (strcasecmp(name, sl_sec_proto_name(pr)) == 0)
            return pr;
    return SL_SEC_PLAINTEXT;
}

/* Fills p->listeners from `listeners` (NAME://host:port,...); the probe
 * goes to the bind host, or to the bootstrap host for a wildcard. */
void sl_posture_parse_listeners(struct posture *p, const char *boot_host)
{
    char *copy = sl_xstrdup(p->listeners_cfg ? p->listeners_cfg : ""), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && p->n_listeners < POSTURE_MAX_LISTENERS;
         t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        char *sep = strstr(t, "://");
        if (!sep)
            continue;
        struct posture_listener *l = &p->listeners[p->n_listeners];
        memset(l, 0, sizeof *l);
        *sep = '\0';
        snprintf(l->name, sizeof l->name, "%s", t);
        char host[256], port[8];
        const char *hp = sep + 3;
        if (hp[0] == ':') { /* ":9092": all interfaces */
            host[0] = '\0';
            snprintf(port, sizeof port, "%s", hp + 1);
        } else if (sl_kclient_split_hostport(hp, strlen(hp), host, sizeof host, port,
                                             sizeof port) != 0) {
            continue;
        }
        l->proto = proto_of(p->proto_map, l->name);
        l->port = atoi(port);
        bool wildcard = !host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
        snprintf(l->bind_host, sizeof l->bind_host, "%s", wildcard ? "" : host);
        l->loopback = !wildcard && loopback_host(host);
        snprintf(l->host, sizeof l->host, "%s", wildcard ? boot_host : host);
        p->n_listeners++;
    }
    free(copy);
}

/* The endpoint we connected to, when no listener has its port (a proxy or
 * a load balancer in front): probed too, as clients use it. */
void sl_posture_add_bootstrap(struct posture *p, const char *host, int port, int proto)
{
    for (int i = 0; i < p->n_listeners; i++)
        if (p->listeners[i].port == port)
            return;
    if (p->n_listeners >= POSTURE_MAX_LISTENERS)
        return;
    struct posture_listener *l = &p->listeners[p->n_listeners++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "bootstrap");
    l->proto = proto;
    snprintf(l->bind_host, sizeof l->bind_host, "%s", host);
    snprintf(l->host, sizeof l->host, "%s", host);
    l->port = port;
    l->loopback = loopback_host(host);
}
