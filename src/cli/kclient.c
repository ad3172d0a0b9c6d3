/* SPDX-License-Identifier: Apache-2.0
 *
 * The CLI's blocking Kafka client (see kclient.h). One frame at a time:
 * encode header + body into a wbuf behind a 4-byte size, write it all,
 * read the 4-byte size of the answer, check it, read the body, check the
 * correlation id, decode. ApiVersions goes first at our highest version;
 * a broker that does not know it answers UNSUPPORTED_VERSION with a v0
 * body listing its range, and the request is repeated at the highest
 * version both know (KIP-511), as the Java client does.
 */
#include "cli/kclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/wbuf.h"
#include "protocol/gen/apis.h"
#include "sluice/version.h"
#include "security/authn/sasl_client.h"
#include "tls/tls_client.h"
#include "tls/tls_ctx.h"

#define SOFTWARE_NAME "sluice-cli"
#define SOFTWARE_VERSION SLUICE_VERSION

/* ---- bytes in and out ---- */

static int64_t deadline_of(const struct sl_kclient *k)
{
    return sl_mono_ms() + k->timeout_ms;
}

static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - sl_mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* Writes or reads exactly n bytes, over TLS or the plain socket. */
static int io(struct sl_kclient *k, void *p, size_t n, bool write, char *err, size_t errlen)
{
    int64_t deadline = deadline_of(k);
    if (k->ssl)
        return sl_tls_client_io(k->ssl, k->fd, p, n, write, deadline, err, errlen);
    size_t done = 0;
    while (done < n) {
        ssize_t r = write ? send(k->fd, (char *)p + done, n - done, MSG_NOSIGNAL)
                          : recv(k->fd, (char *)p + done, n - done, 0);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == 0) {
            snprintf(err, errlen, "connection closed by the broker");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "%s", strerror(errno));
            return -1;
        }
        if (wait_fd(k->fd, write ? POLLOUT : POLLIN, deadline) != 0) {
            snprintf(err, errlen, "timed out waiting for the broker (request.timeout.ms=%d)",
                     k->timeout_ms);
            return -1;
        }
    }
    return 0;
}

/* ---- one request, one response ---- */

static int roundtrip(struct sl_kclient *k, int16_t key, int16_t version, const void *req,
                     void *resp, int16_t resp_version, char *err, size_t errlen)
{
    const struct sl_api_info *api = sl_api_lookup(key);
    struct sl_wbuf w;
    char why[512];
    int rc = -1;
    int32_t corr = ++k->corr;
    sl_wbuf_init(&w);
    sl_wbuf_put_i32(&w, 0); /* size, patched below */
    sl_codec_encode_request_header(&w, key, version, corr, sl_str_c(k->client_id));
    sl_codec_encode(api->request, version, req, &w);
    sl_put_be32(w.data, (uint32_t)(w.len - 4));
    free(k->rbuf);
    k->rbuf = NULL;
    sl_arena_reset(&k->arena);
    if (io(k, w.data, w.len, true, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: sending %s: %s", k->peer, api->name, why);
        goto out;
    }
    uint8_t szb[4];
    if (io(k, szb, 4, false, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: waiting for the %s response: %s", k->peer, api->name, why);
        goto out;
    }
    uint32_t size = sl_be32(szb);
    if (size < 4 || size > SL_KCLIENT_MAX_FRAME) {
        snprintf(err, errlen, "%s: %s response of %u bytes refused (4 to %d allowed)", k->peer,
                 api->name, size, SL_KCLIENT_MAX_FRAME);
        goto out;
    }
    k->rbuf = sl_xmalloc(size);
    k->rlen = size;
    if (io(k, k->rbuf, size, false, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: reading the %s response: %s", k->peer, api->name, why);
        goto out;
    }
    struct sl_reader r;
    int32_t got;
    sl_rd_init(&r, k->rbuf, size);
    if (sl_codec_decode_response_header(&r, key, resp_version, &got) != 0 || got != corr) {
        snprintf(err, errlen, "%s: %s response with a bad header (correlation id %d, expected %d)",
                 k->peer, api->name, got, corr);
        goto out;
    }
    if (sl_codec_decode(api->response, resp_version, &r, &k->arena, resp) != 0) {
        snprintf(err, errlen, "%s: malformed %s v%d response", k->peer, api->name, resp_version);
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(w.data, w.len); /* may hold SASL messages or salted passwords */
    sl_wbuf_destroy(&w);
    return rc;
}

int16_t sl_kclient_version(const struct sl_kclient *k, int16_t api_key)
{
    const struct sl_api_info *api = sl_api_lookup(api_key);
    if (!api || api_key < 0 || api_key >= SL_KCLIENT_KEYS || k->maxv[api_key] < 0)
        return -1;
    int16_t hi = api->max_version < k->maxv[api_key] ? api->max_version : k->maxv[api_key];
    int16_t lo = api->min_version > k->minv[api_key] ? api->min_version : k->minv[api_key];
    return hi >= lo ? hi : -1;
}

int sl_kclient_call(struct sl_kclient *k, int16_t api_key, const void *req, void *resp, char *err,
                    size_t errlen)
{
    int16_t v = sl_kclient_version(k, api_key);
    if (v < 0) {
        const struct sl_api_info *api = sl_api_lookup(api_key);
        snprintf(err, errlen, "%s: the broker does not offer %s (API key %d) at a version this "
                              "client speaks",
                 k->peer, api ? api->name : "this API", api_key);
        return -1;
    }
    return roundtrip(k, api_key, v, req, resp, v, err, errlen);
}

/* ---- connection set-up ---- */

static int api_versions(struct sl_kclient *k, char *err, size_t errlen)
{
    const struct sl_api_info *api = sl_api_lookup(SL_API_API_VERSIONS);
    struct ApiVersionsRequest req = {sl_str_c(SOFTWARE_NAME), sl_str_c(SOFTWARE_VERSION)};
    struct ApiVersionsResponse resp;
    int16_t v = api->max_version;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (roundtrip(k, SL_API_API_VERSIONS, v, &req, &resp, v, err, errlen) != 0) {
            /* A broker that does not know v answers with a v0 body (KIP-511),
             * which a flexible decode may reject: read it again as v0. */
            struct sl_reader r;
            int32_t corr;
            if (v == 0 || !k->rbuf)
                return -1;
            sl_rd_init(&r, k->rbuf, k->rlen);
            sl_arena_reset(&k->arena);
            if (sl_codec_decode_response_header(&r, SL_API_API_VERSIONS, 0, &corr) != 0 ||
                sl_codec_decode(api->response, 0, &r, &k->arena, &resp) != 0 ||
                resp.error_code != SL_ERR_UNSUPPORTED_VERSION)
                return -1;
        }
        for (int i = 0; i < SL_KCLIENT_KEYS; i++)
            k->maxv[i] = k->minv[i] = -1;
        for (int i = 0; i < resp.api_keys.n; i++) {
            const struct ApiVersionsResponse_ApiVersion *a = &resp.api_keys.a[i];
            if (a->api_key >= 0 && a->api_key < SL_KCLIENT_KEYS && a->min_version >= 0 &&
                a->max_version >= a->min_version) {
                k->minv[a->api_key] = a->min_version;
                k->maxv[a->api_key] = a->max_version;
            }
        }
        if (resp.error_code == SL_ERR_NONE)
            return 0;
        int16_t theirs = k->maxv[SL_API_API_VERSIONS];
        if (resp.error_code != SL_ERR_UNSUPPORTED_VERSION || theirs < 0 || theirs >= v) {
            snprintf(err, errlen, "%s: ApiVersions failed: %s", k->peer,
                     sl_err_name(resp.error_code));
            return -1;
        }
        v = theirs;
    }
    snprintf(err, errlen, "%s: ApiVersions: no common version", k->peer);
    return -1;
}

static int sasl(struct sl_kclient *k, const struct sl_client_config *cfg, char *err,
                size_t errlen)
{
    const char *mech = cfg->sasl_mechanism;
    if (sl_kclient_version(k, SL_API_SASL_HANDSHAKE) < 1 ||
        sl_kclient_version(k, SL_API_SASL_AUTHENTICATE) < 0) {
        snprintf(err, errlen, "%s: the broker offers no SaslHandshake v1 / SaslAuthenticate "
                              "(is this a SASL listener?)", k->peer);
        return -1;
    }
    struct SaslHandshakeRequest hreq = {sl_str_c(mech)};
    struct SaslHandshakeResponse hresp;
    if (sl_kclient_call(k, SL_API_SASL_HANDSHAKE, &hreq, &hresp, err, errlen) != 0)
        return -1;
    if (hresp.error_code != SL_ERR_NONE) {
        char list[256] = "";
        for (int i = 0; i < hresp.mechanisms.n; i++) {
            sl_str_t m = hresp.mechanisms.a[i];
            size_t u = strlen(list);
            snprintf(list + u, sizeof list - u, "%s%.*s", i ? ", " : "", (int)(m.len > 40 ? 40 : m.len),
                     m.p ? m.p : "");
        }
        snprintf(err, errlen, "authentication failed: sasl.mechanism=%s is not enabled on %s "
                              "(enabled: %s)",
                 mech, k->peer, list[0] ? list : "none");
        return -1;
    }
    char why[256];
    struct sl_sasl_client *sc =
        sl_sasl_client_new(mech, cfg->sasl_username, cfg->sasl_password, NULL, why, sizeof why);
    if (!sc) {
        snprintf(err, errlen, "authentication failed: %s", why);
        return -1;
    }
    int rc = -1;
    const uint8_t *in = NULL;
    size_t inlen = 0;
    for (int round = 0; round < 8; round++) {
        uint8_t *out = NULL;
        size_t outlen = 0;
        enum sl_sasl_step st = sl_sasl_client_step(sc, in, inlen, &out, &outlen, why, sizeof why);
        if (st == SL_SASL_DONE) {
            rc = 0;
            break;
        }
        if (st == SL_SASL_FAIL) {
            snprintf(err, errlen, "authentication failed with %s: %s", k->peer, why);
            break;
        }
        struct SaslAuthenticateRequest areq = {{out, (int32_t)outlen}};
        struct SaslAuthenticateResponse aresp;
        int crc = sl_kclient_call(k, SL_API_SASL_AUTHENTICATE, &areq, &aresp, err, errlen);
        OPENSSL_cleanse(out, outlen);
        free(out);
        if (crc != 0)
            break;
        if (aresp.error_code != SL_ERR_NONE) {
            sl_str_t m = aresp.error_message;
            snprintf(err, errlen, "authentication failed as '%.100s' with %s (%s): %.*s",
                     cfg->sasl_username, mech, sl_err_name(aresp.error_code),
                     m.len > 0 ? (int)(m.len > 300 ? 300 : m.len) : 0, m.len > 0 ? m.p : "");
            break;
        }
        in = aresp.auth_bytes.p;
        inlen = aresp.auth_bytes.len > 0 ? (size_t)aresp.auth_bytes.len : 0;
    }
    sl_sasl_client_free(sc);
    if (rc != 0 && !err[0])
        snprintf(err, errlen, "authentication failed: too many SASL rounds");
    return rc;
}

int sl_kclient_split_hostport(const char *s, size_t n, char *host, size_t hostlen, char *port,
                              size_t portlen)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    const char *colon;
    size_t hl;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close || close + 1 >= s + n || close[1] != ':')
            return -1;
        hl = (size_t)(close - s - 1);
        if (hl == 0 || hl >= hostlen)
            return -1;
        memcpy(host, s + 1, hl);
        colon = close + 1;
    } else {
        colon = NULL;
        for (size_t i = 0; i < n; i++)
            if (s[i] == ':')
                colon = s + i; /* the last one */
        if (!colon)
            return -1;
        hl = (size_t)(colon - s);
        if (hl == 0 || hl >= hostlen || memchr(s, ':', hl))
            return -1;
        memcpy(host, s, hl);
    }
    host[hl] = '\0';
    size_t pl = (size_t)(s + n - colon - 1);
    if (pl == 0 || pl > 5 || pl >= portlen)
        return -1;
    long v = 0;
    for (size_t i = 0; i < pl; i++) {
        char c = colon[1 + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    memcpy(port, colon + 1, pl);
    port[pl] = '\0';
    return 0;
}

int sl_kclient_tcp_connect(const char *host, const char *port, int timeout_ms, char *err,
                       size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(g));
        return -1;
    }
    int fd = -1;
    snprintf(err, errlen, "no address");
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            snprintf(err, errlen, "socket: %s", strerror(errno));
            continue;
        }
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            int64_t deadline = sl_mono_ms() + timeout_ms;
            if (wait_fd(fd, POLLOUT, deadline) != 0) {
                snprintf(err, errlen, "connect timed out");
            } else {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                r = soerr ? -1 : 0;
                if (soerr)
                    snprintf(err, errlen, "%s", strerror(soerr));
            }
        } else if (r != 0) {
            snprintf(err, errlen, "%s", strerror(errno));
        }
        if (r == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int sl_kclient_connect(struct sl_kclient *k, const struct sl_client_config *cfg, char *err,
                       size_t errlen)
{
    memset(k, 0, sizeof *k);
    k->fd = -1;
    k->timeout_ms = cfg->request_timeout_ms;
    k->client_id = sl_xstrdup(cfg->client_id ? cfg->client_id : "sluice-cli");
    sl_arena_init(&k->arena);
    bool tls = cfg->protocol == SL_SEC_SSL || cfg->protocol == SL_SEC_SASL_SSL;
    bool sasl_on = cfg->protocol == SL_SEC_SASL_PLAINTEXT || cfg->protocol == SL_SEC_SASL_SSL;
    if (tls) {
        k->ctx = sl_tls_client_ctx_build(sl_client_config_ssl_get, (void *)cfg, err, errlen);
        if (!k->ctx)
            goto fail;
    }
    char tried[1024] = "";
    const char *p = cfg->bootstrap;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *entry = p;
        p = comma ? comma + 1 : p + n;
        char host[256], port[8], why[512];
        if (n == 0)
            continue;
        if (sl_kclient_split_hostport(entry, n, host, sizeof host, port, sizeof port) != 0) {
            snprintf(err, errlen, "bootstrap server '%.*s' is not HOST:PORT (IPv6 as [ADDR]:PORT)",
                     (int)(n > 200 ? 200 : n), entry);
            goto fail;
        }
        snprintf(k->peer, sizeof k->peer, "%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
                 strchr(host, ':') ? "]" : "", port);
        k->fd = sl_kclient_tcp_connect(host, port, k->timeout_ms, why, sizeof why);
        if (k->fd < 0) {
            size_t u = strlen(tried);
            snprintf(tried + u, sizeof tried - u, "%s%s: %s", u ? "; " : "", k->peer, why);
            continue;
        }
        if (tls) {
            k->ssl = sl_tls_client_handshake(k->ctx, k->fd, host, cfg->verify_host,
                                             deadline_of(k), why, sizeof why);
            if (!k->ssl) {
                /* A refused certificate is not something the next server fixes. */
                snprintf(err, errlen, "%s: %s", k->peer, why);
                goto fail;
            }
        }
        if (api_versions(k, err, errlen) != 0)
            goto fail;
        if (sasl_on && sasl(k, cfg, err, errlen) != 0)
            goto fail;
        return 0;
    }
    snprintf(err, errlen, "cannot connect to any bootstrap server (%s)",
             tried[0] ? tried : "none given");
fail:
    sl_kclient_close(k);
    return -1;
}

void sl_kclient_close(struct sl_kclient *k)
{
    sl_tls_client_close(k->ssl);
    k->ssl = NULL;
    if (k->ctx)
        SSL_CTX_free(k->ctx);
    k->ctx = NULL;
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    free(k->client_id);
    k->client_id = NULL;
    free(k->rbuf);
    k->rbuf = NULL;
    sl_arena_destroy(&k->arena);
}
