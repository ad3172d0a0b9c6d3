/* SPDX-License-Identifier: Apache-2.0
 *
 * Blocking TLS client connections (see tls_client.h).
 */
#include "tls/tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "tls/tls_ctx.h"

/* Waits for fd to become readable (want_read) or writable until deadline.
 * 0, or -1 on timeout or a poll error. */
static int wait_fd(int fd, bool want_read, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - sl_mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = want_read ? POLLIN : POLLOUT};
        int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static bool is_ip(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

SSL *sl_tls_client_handshake(SSL_CTX *ctx, int fd, const char *host, bool verify_host,
                             int64_t deadline, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        char e[256];
        snprintf(err, errlen, "cannot create a TLS connection (%s)", sl_tls_errors(e, sizeof e));
        SSL_free(ssl);
        return NULL;
    }
    bool ip = is_ip(host);
    if (!ip)
        SSL_set_tlsext_host_name(ssl, host);
    if (verify_host) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host) : X509_VERIFY_PARAM_set1_host(vp, host, 0);
        if (ok != 1) {
            snprintf(err, errlen, "cannot set up the host name check for '%s'", host);
            SSL_free(ssl);
            return NULL;
        }
    }
    for (;;) {
        int r = SSL_connect(ssl);
        if (r == 1)
            return ssl;
        int e = SSL_get_error(ssl, r);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
            wait_fd(fd, e == SSL_ERROR_WANT_READ, deadline) == 0)
            continue;
        long vr = SSL_get_verify_result(ssl);
        char why[256];
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            snprintf(err, errlen, "TLS handshake with %s timed out", host);
        else if (vr != X509_V_OK)
            snprintf(err, errlen, "TLS handshake with %s failed: the broker's certificate was "
                                  "refused: %s", host, X509_verify_cert_error_string(vr));
        else
            snprintf(err, errlen, "TLS handshake with %s failed (%s)", host,
                     ERR_peek_error() ? sl_tls_errors(why, sizeof why)
                                      : "the connection was closed");
        ERR_clear_error();
        SSL_free(ssl);
        return NULL;
    }
}

int sl_tls_client_io(SSL *ssl, int fd, void *p, size_t n, bool write, int64_t deadline,
                     char *err, size_t errlen)
{
    size_t done = 0;
    while (done < n) {
        size_t got = 0;
        int r = write ? SSL_write_ex(ssl, (char *)p + done, n - done, &got)
                      : SSL_read_ex(ssl, (char *)p + done, n - done, &got);
        if (r == 1) {
            done += got;
            continue;
        }
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (wait_fd(fd, e == SSL_ERROR_WANT_READ, deadline) != 0) {
                snprintf(err, errlen, "timed out waiting for the broker");
                return -1;
            }
            continue;
        }
        char why[256];
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !ERR_peek_error()))
            snprintf(err, errlen, "connection closed by the broker");
        else
            snprintf(err, errlen, "TLS error (%s)", sl_tls_errors(why, sizeof why));
        ERR_clear_error();
        return -1;
    }
    return 0;
}

void sl_tls_client_close(SSL *ssl)
{
    if (!ssl)
        return;
    (void)SSL_shutdown(ssl); /* non-blocking socket: sends close_notify, no wait */
    ERR_clear_error();
    SSL_free(ssl);
}
