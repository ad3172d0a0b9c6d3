/* SPDX-License-Identifier: Apache-2.0
 *
 * The TLS transport: OpenSSL over the connection's socket, behind the same
 * vtable as the plain transport, so the framer and handlers never know.
 *
 * OpenSSL reads and writes the fd through a socket BIO that does not own it
 * (the connection closes the fd). The handshake runs inside the first reads;
 * once it is done the peer certificate, if any, becomes the connection's
 * principal.
 *
 * The two event-loop traps (STYLE.md §6):
 *  - a read that wants a write (or the reverse): the transport records the
 *    event it needs in c->xprt_want and conn.c adds it to the epoll
 *    registration and calls the read (or the send) again when it fires;
 *  - decrypted bytes buffered inside OpenSSL (read_ahead reads whole
 *    records): has_pending reports them, and conn.c keeps reading while it
 *    is true and drains them when a muted connection is resumed.
 *
 * SSL_write is retried with the same bytes after SSL_ERROR_WANT_WRITE: the
 * connection gathers output from the same position each time, and the
 * coalescing below is deterministic.
 *
 * File extents (fetch): with kernel TLS active on the socket, SSL_sendfile
 * keeps fetches zero-copy; otherwise sendfile reports EOPNOTSUPP and the
 * connection reads the file into its bounce buffer and writes through TLS.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>

#include "core/logging.h"
#include "core/mem.h"
#include "net/conn.h"
#include "net/evloop.h"
#include "net/netloop.h"
#include "net/xprt.h"
#include "security/audit/audit.h"
#include "tls/tls_ctx.h"
#include "tls/tls_dn.h"
#include "tls/tls_server.h"

#define COALESCE 16384       /* one TLS record of small pieces */
#define MAX_WRITE (1 << 20)  /* bytes handed to one SSL_write */

struct tls_conn {
    SSL *ssl;
    bool done;   /* handshake finished */
    bool failed; /* handshake failed: counted and logged once */
};

static _Thread_local unsigned char coalesce_buf[COALESCE];

static struct tls_conn *tc(struct sl_conn *c)
{
    return c->xprt_ctx;
}

/* Records a handshake failure with the peer and OpenSSL's reasons. */
static void handshake_failed(struct sl_conn *c, const char *what)
{
    struct tls_conn *t = tc(c);
    if (t->failed)
        return;
    t->failed = true;
    char errs[512];
    sl_tls_errors(errs, sizeof errs);
    long vr = SSL_get_verify_result(t->ssl);
    char why[768];
    if (vr != X509_V_OK)
        snprintf(why, sizeof why, "%s (client certificate: %s)", errs,
                 X509_verify_cert_error_string(vr));
    else
        snprintf(why, sizeof why, "%s", what ? what : errs);
    sl_tls_server_count(c->lst->tls, false);
    SL_WARN("tls", "listener %s: TLS handshake with %s failed: %s", c->lst->name, c->peer, why);
    const char *reason = vr != X509_V_OK ? "client_certificate_invalid"
                         : !what          ? "protocol_error"
                         : strstr(what, "peer closed") ? "peer_closed"
                                                       : "principal_mapping_refused";
    sl_audit_conn_tls(c, false, NULL, NULL, NULL, reason);
}

static void handshake_done(struct sl_conn *c)
{
    struct tls_conn *t = tc(c);
    t->done = true;
    if (!c->sasl) /* SASL_SSL: the deadline covers authentication too */
        c->handshake_deadline_ms = 0;
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    if (cert) {
        char p[SL_PRINCIPAL_MAX];
        if (sl_tls_server_principal(c->lst->tls, cert, p, sizeof p) < 0) {
            /* As Kafka: a certificate that no rule maps fails authentication. */
            handshake_failed(c, p); /* sets t->failed */
            t->done = false;
            return;
        }
        snprintf(c->principal, sizeof c->principal, "%s", p);
        c->authenticated = true;
    }
    sl_tls_server_count(c->lst->tls, true);
    const char *ver = SSL_get_version(t->ssl);
    const char *cipher = SSL_get_cipher_name(t->ssl);
    char dn[1024];
    if (cert && sl_tls_subject_dn(cert, dn, sizeof dn) < 0)
        snprintf(dn, sizeof dn, "(subject DN too long)");
    sl_audit_conn_tls(c, true, ver, cipher, cert ? dn : NULL, NULL);
    if (cert)
        SL_INFO("tls", "conn %llu from %s on %s: %s %s%s, principal %s", (unsigned long long)c->id,
                c->peer, c->lst->name, ver, cipher, SSL_session_reused(t->ssl) ? " (resumed)" : "",
                c->principal);
    else
        SL_DEBUG("tls", "conn %llu from %s on %s: %s %s%s, no client certificate",
                 (unsigned long long)c->id, c->peer, c->lst->name, ver, cipher,
                 SSL_session_reused(t->ssl) ? " (resumed)" : "");
}

/* Maps an SSL result to read(2) conventions and c->xprt_want. */
static ssize_t io_result(struct sl_conn *c, int r, bool reading)
{
    struct tls_conn *t = tc(c);
    int e = SSL_get_error(t->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        if (!reading)
            c->xprt_want = SL_EV_READ;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        if (reading)
            c->xprt_want = SL_EV_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0; /* close_notify */
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0 && (errno == 0 || errno == ECONNRESET || errno == EPIPE)) {
            if (!t->done)
                handshake_failed(c, "the peer closed the connection during the handshake");
            if (errno == 0)
                return 0; /* EOF without close_notify */
            return -1;
        }
        if (!t->done)
            handshake_failed(c, NULL);
        errno = errno ? errno : EPROTO;
        return -1;
    default:
        if (!t->done)
            handshake_failed(c, NULL);
        else
            SL_DEBUG("tls", "conn %llu from %s: TLS error", (unsigned long long)c->id, c->peer);
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

static ssize_t tls_read(struct sl_conn *c, void *buf, size_t len)
{
    struct tls_conn *t = tc(c);
    c->xprt_want = 0;
    if (t->failed) {
        errno = EPROTO;
        return -1;
    }
    ERR_clear_error();
    errno = 0;
    if (!t->done) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1)
            return io_result(c, r, true);
        handshake_done(c);
        if (t->failed) {
            errno = EACCES;
            return -1;
        }
    }
    int n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0)
        return n;
    return io_result(c, n, true);
}

static ssize_t write_bytes(struct sl_conn *c, const void *p, size_t len)
{
    struct tls_conn *t = tc(c);
    c->xprt_want = 0;
    if (!t->done || t->failed) {
        /* Nothing is sent before the handshake: responses exist only for
         * requests read after it. */
        errno = t->failed ? EPROTO : EAGAIN;
        return -1;
    }
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(t->ssl, p, len > MAX_WRITE ? MAX_WRITE : (int)len);
    if (n > 0)
        return n;
    return io_result(c, n, false);
}

static ssize_t tls_writev(struct sl_conn *c, const struct iovec *iov, int iovcnt)
{
    if (iovcnt == 1 || iov[0].iov_len >= COALESCE)
        return write_bytes(c, iov[0].iov_base, iov[0].iov_len);
    size_t used = 0;
    for (int i = 0; i < iovcnt && used < COALESCE; i++) {
        size_t n = iov[i].iov_len;
        if (n > COALESCE - used)
            n = COALESCE - used;
        memcpy(coalesce_buf + used, iov[i].iov_base, n);
        used += n;
    }
    return write_bytes(c, coalesce_buf, used);
}

static ssize_t tls_sendfile(struct sl_conn *c, int fd, off_t *off, size_t len)
{
#ifndef OPENSSL_NO_KTLS
    struct tls_conn *t = tc(c);
    if (t->done && BIO_get_ktls_send(SSL_get_wbio(t->ssl))) {
        c->xprt_want = 0;
        ERR_clear_error();
        ossl_ssize_t n = SSL_sendfile(t->ssl, fd, *off, len > MAX_WRITE ? MAX_WRITE : len, 0);
        if (n > 0) {
            *off += n;
            return n;
        }
        return io_result(c, (int)n, false);
    }
#endif
    (void)c, (void)fd, (void)off, (void)len;
    errno = EOPNOTSUPP;
    return -1;
}

static bool tls_has_pending(struct sl_conn *c)
{
    struct tls_conn *t = tc(c);
    return t && t->done && SSL_has_pending(t->ssl);
}

static void tls_destroy(struct sl_conn *c)
{
    struct tls_conn *t = tc(c);
    if (!t)
        return;
    if (t->done && !t->failed) {
        /* A best-effort close_notify; never waits for the peer's. */
        SSL_set_quiet_shutdown(t->ssl, 0);
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
    SSL_free(t->ssl);
    free(t);
    c->xprt_ctx = NULL;
}

static int tls_attach(struct sl_conn *c)
{
    SSL *ssl = sl_tls_server_new_ssl(c->lst->tls);
    if (!ssl)
        return -1;
    if (SSL_set_fd(ssl, c->fd) != 1) { /* a socket BIO without BIO_CLOSE */
        SSL_free(ssl);
        return -1;
    }
    SSL_set_accept_state(ssl);
    struct tls_conn *t = sl_xcalloc(1, sizeof *t);
    t->ssl = ssl;
    c->xprt_ctx = t;
    c->handshake_deadline_ms =
        sl_evloop_now_ms(c->nl->el) + sl_tls_server_handshake_timeout_ms(c->lst->tls);
    return 0;
}

static void tls_handshake_timeout(struct sl_conn *c)
{
    struct tls_conn *t = tc(c);
    if (!t || t->failed)
        return;
    t->failed = true;
    sl_tls_server_count(c->lst->tls, false);
    SL_WARN("tls", "listener %s: TLS handshake with %s failed: not finished within %lld ms",
            c->lst->name, c->peer, (long long)sl_tls_server_handshake_timeout_ms(c->lst->tls));    sl_audit_conn_tls(c, false, NULL, NULL, NULL, "timeout");
}

const struct sl_xprt_ops sl_xprt_tls = {
    .name = "tls",
    .attach = tls_attach,
    .read = tls_read,
    .writev = tls_writev,
    .sendfile = tls_sendfile,
    .has_pending = tls_has_pending,
    .handshake_timeout = tls_handshake_timeout,
    .destroy = tls_destroy,
};
