/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for what `sluice posture` makes of a broker's answers
 * (src/cli/posture_parse.c, posture_checks.c): the DescribeConfigs values
 * (listeners, listener.security.protocol.map, super.users, the status
 * entries) and the probe results are untrusted text. The input is split at
 * '\n' into those values, in the order of FIELDS below; the rest of a short
 * input stays NULL (not answered). Then the listeners are parsed, the
 * checks run and the JSON document is built. Beyond crashes and sanitizer
 * reports it checks: at most POSTURE_MAX_LISTENERS listeners, each with a
 * known protocol and a port from its text; every finding has a check name
 * and a severity; the JSON is well formed (sl_aj_parse, up to its
 * SL_AJ_MAX_TOKENS values). Seed corpus:
 * fuzz/corpus/posture/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client_config.h"
#include "cli/posture.h"
#include "core/mem.h"
#include "core/wbuf.h"
#include "security/audit/audit_json.h"

#define FIELDS 14

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct posture *p = sl_xcalloc(1, sizeof *p);
    char *f[FIELDS] = {0};
    size_t at = 0;
    for (int i = 0; i < FIELDS && at <= size; i++) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : size - at;
        f[i] = sl_xstrndup((const char *)data + at, n);
        at += n + 1;
        if (!nl)
            break;
    }
    p->listeners_cfg = f[0];
    p->proto_map = f[1];
    p->super_users = f[2];
    p->allow_everyone = f[3];
    p->allow_insecure = f[4];
    p->audit_status = f[5];
    p->audit_policy = f[6];
    p->audit_dropped = f[7];
    p->enc_status = f[8];
    p->key_version = f[9];
    p->key_age_ms = f[10];
    p->cert_warn_days = 30;
    p->key_max_age_ms = 365LL * 24 * 3600 * 1000;
    p->n_users = p->n_acls = -1;
    sl_posture_parse_listeners(p, "127.0.0.1");
    sl_posture_add_bootstrap(p, "127.0.0.1", 9093, SL_SEC_SASL_SSL);
    if (p->n_listeners > POSTURE_MAX_LISTENERS)
        abort();
    /* Probe results: the mechanisms answer, the TLS bits and a chain. */
    for (int i = 0; i < p->n_listeners; i++) {
        struct posture_listener *l = &p->listeners[i];
        if (l->proto < 0 || l->proto >= SL_SEC_MAX)
            abort();
        l->reachable = true;
        l->kafka = (i & 1) != 0;
        l->tls_accepted = (unsigned)(size + (size_t)i) & 15u;
        l->tls = l->tls_accepted != 0;
        if (f[11]) {
            l->sasl_known = true;
            snprintf(l->sasl_mechanisms, sizeof l->sasl_mechanisms, "%s", f[11]);
        }
        if (f[12])
            snprintf(l->error, sizeof l->error, "%s", f[12]);
        l->n_certs = 1;
        snprintf(l->certs[0].subject, sizeof l->certs[0].subject, "%s", f[13] ? f[13] : "");
        l->certs[0].not_after = (time_t)(size * 86400);
    }
    sl_posture_check(p);
    for (int i = 0; i < p->n_findings; i++)
        if (!p->findings[i].check[0] || p->findings[i].severity < POSTURE_INFO ||
            p->findings[i].severity > POSTURE_CRITICAL)
            abort();
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_posture_json(p, &w);
    struct sl_aj_doc *doc = sl_xcalloc(1, sizeof *doc);
    const char *why = NULL;
    size_t where = 0;
    /* The checker holds SL_AJ_MAX_TOKENS values: a bigger document is not
     * judged, anything else must parse. */
    if (sl_aj_parse(doc, (const char *)w.data, w.len, &why, &where) != 0 &&
        strcmp(why, "too many JSON values") != 0)
        abort();
    free(doc);
    sl_wbuf_destroy(&w);
    for (int i = 0; i < FIELDS; i++)
        free(f[i]);
    free(p);
    return 0;
}
