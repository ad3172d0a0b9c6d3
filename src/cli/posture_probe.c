/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice posture`: connecting to one listener to see how it is protected
 * (see posture.h). TLS: one handshake per version 1.0 to 1.3, each with a
 * client context pinned to that version, at security level 0 and with no
 * certificate check (the question is what the server accepts, not whether
 * we trust it); the chain of the first accepted handshake gives the
 * certificates' dates. Kafka: the CLI's own client (kclient.c) with the
 * admin's TLS settings but no SASL runs ApiVersions, then, on a SASL
 * listener, a SaslHandshake for a mechanism no broker has, whose answer
 * lists the enabled ones (UNSUPPORTED_SASL_MECHANISM). Answers are decoded
 * by the generated codec, as for every other CLI request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cli/kclient.h"
#include "cli/posture.h"
#include "core/clock.h"
#include "core/mem.h"
#include "protocol/gen/apis.h"
#include "sluice/err.h"
#include "tls/tls_client.h"

/* A mechanism name no broker enables: the answer lists the real ones. */
#define PROBE_MECHANISM "SLUICE-POSTURE-PROBE"
#define PROBE_TIMEOUT_MS 10000

static const int tls_versions[POSTURE_TLS_MAX] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
                                                  TLS1_3_VERSION};

static void copy_chain(struct posture_listener *l, SSL *ssl)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    int n = chain ? sk_X509_num(chain) : 0;
    for (int i = 0; i < n && l->n_certs < POSTURE_MAX_CERTS; i++) {
        X509 *x = sk_X509_value(chain, i);
        struct posture_cert *c = &l->certs[l->n_certs];
        struct tm tm;
        X509_NAME_oneline(X509_get_subject_name(x), c->subject, sizeof c->subject);
        if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
            continue;
        c->not_after = timegm(&tm);
        if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1)
            continue;
        c->not_before = timegm(&tm);
        l->n_certs++;
    }
}

/* One handshake pinned to version v (v 0: any). 1 accepted, 0 refused,
 * -1 unreachable, -2 this OpenSSL cannot offer v. */
static int tls_try(struct posture_listener *l, int v, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return -2;
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (v && (SSL_CTX_set_min_proto_version(ctx, v) != 1 ||
              SSL_CTX_set_max_proto_version(ctx, v) != 1 ||
              (v < TLS1_3_VERSION && SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0") != 1))) {
        SSL_CTX_free(ctx);
        ERR_clear_error();
        return -2;
    }
    char port[8];
    snprintf(port, sizeof port, "%d", l->port);
    int fd = sl_kclient_tcp_connect(l->host, port, PROBE_TIMEOUT_MS, err, errlen);
    if (fd < 0) {
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL *ssl = sl_tls_client_handshake(ctx, fd, l->host, false, sl_mono_ms() + PROBE_TIMEOUT_MS,
                                       err, errlen);
    int rc = 0;
    if (ssl) {
        rc = !v || SSL_version(ssl) == v;
        if (rc && l->n_certs == 0)
            copy_chain(l, ssl);
        sl_tls_client_close(ssl);
    }
    close(fd);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

static void probe_tls(struct posture_listener *l)
{
    char err[512];
    bool tls_proto = l->proto == SL_SEC_SSL || l->proto == SL_SEC_SASL_SSL;
    if (!tls_proto) {
        /* Does a plain listener answer TLS anyway? One unpinned try. */
        int r = tls_try(l, 0, err, sizeof err);
        l->reachable = r >= 0;
        l->tls = r == 1;
        if (r < 0)
            snprintf(l->error, sizeof l->error, "%.480s", err);
        return;
    }
    /* Newest first: the certificates come from the strongest handshake. */
    for (int i = POSTURE_TLS_MAX - 1; i >= 0; i--) {
        int r = tls_try(l, tls_versions[i], err, sizeof err);
        if (r == -1) {
            snprintf(l->error, sizeof l->error, "%.480s", err);
            return;
        }
        l->reachable = true;
        if (r == -2)
            l->tls_untested |= 1u << i;
        else if (r == 1)
            l->tls_accepted |= 1u << i;
    }
    l->tls = l->tls_accepted != 0;
    if (!l->tls)
        snprintf(l->error, sizeof l->error, "no TLS handshake succeeded (%.440s)", err);
}

/* ApiVersions, and the mechanism list of a SASL listener. */
static void probe_kafka(struct posture_listener *l, const struct sl_client_config *cfg)
{
    struct sl_client_config c;
    struct sl_kclient k;
    char err[1024], hp[300];
    sl_client_config_init(&c);
    snprintf(hp, sizeof hp, "%s%s%s:%d", strchr(l->host, ':') ? "[" : "", l->host,
             strchr(l->host, ':') ? "]" : "", l->port);
    c.bootstrap = sl_xstrdup(hp);
    bool tls = l->proto == SL_SEC_SSL || l->proto == SL_SEC_SASL_SSL;
    c.protocol = tls ? SL_SEC_SSL : SL_SEC_PLAINTEXT;
    c.verify_host = cfg->verify_host;
    c.request_timeout_ms = PROBE_TIMEOUT_MS;
    c.client_id = sl_xstrdup("sluice-posture");
    for (int i = 0; i < SL_CLIENT_SSL_KEYS; i++)
        c.ssl[i] = cfg->ssl[i] ? sl_xstrdup(cfg->ssl[i]) : NULL;
    if (sl_kclient_connect(&k, &c, err, sizeof err) != 0) {
        if (!l->error[0])
            snprintf(l->error, sizeof l->error, "%.480s", err);
        sl_client_config_clear(&c);
        return;
    }
    l->kafka = true;
    if (l->proto == SL_SEC_SASL_SSL || l->proto == SL_SEC_SASL_PLAINTEXT) {
        struct SaslHandshakeRequest req = {sl_str_c(PROBE_MECHANISM)};
        struct SaslHandshakeResponse resp;
        if (sl_kclient_call(&k, SL_API_SASL_HANDSHAKE, &req, &resp, err, sizeof err) != 0) {
            snprintf(l->error, sizeof l->error, "%.480s", err);
        } else {
            l->sasl_known = true;
            for (int i = 0; i < resp.mechanisms.n; i++) {
                sl_str_t m = resp.mechanisms.a[i];
                size_t u = strlen(l->sasl_mechanisms);
                snprintf(l->sasl_mechanisms + u, sizeof l->sasl_mechanisms - u, "%s%.*s",
                         i ? "," : "", m.len > 0 ? (int)(m.len > 40 ? 40 : m.len) : 0,
                         m.len > 0 ? m.p : "");
            }
        }
    }
    sl_kclient_close(&k);
    sl_client_config_clear(&c);
}

void sl_posture_probe(struct posture_listener *l, const struct sl_client_config *cfg)
{
    probe_tls(l);
    if (l->reachable)
        probe_kafka(l, cfg);
}
