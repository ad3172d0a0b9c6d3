/* SPDX-License-Identifier: Apache-2.0
 *
 * Blocking TLS client connections for the `sluice` CLI's Kafka client
 * (src/cli/kclient.c): the handshake on a connected non-blocking socket,
 * with the server certificate verified against the context's trust store
 * and, unless turned off (ssl.endpoint.identification.algorithm empty, as
 * in Kafka), its host name or IP address; then reads and writes that wait
 * with poll(2) until a deadline. The broker's TLS transport is xprt_tls.c;
 * this is only for short-lived admin connections, where a socket-bound
 * SSL object is the simplest correct thing.
 */
#ifndef SL_TLS_TLS_CLIENT_H
#define SL_TLS_TLS_CLIENT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs the TLS handshake on fd (connected, O_NONBLOCK; borrowed: the
 * caller closes it after SSL_free) with SNI and, when verify_host, the
 * host name check against host (a DNS name, or an IPv4/IPv6 literal
 * checked against the certificate's IP addresses). deadline is a
 * sl_mono_ms() time. Returns a new SSL (caller frees with
 * sl_tls_client_close), or NULL with err saying why (the verification
 * error text when the certificate was refused). */
SSL *sl_tls_client_handshake(SSL_CTX *ctx, int fd, const char *host, bool verify_host,
                             int64_t deadline, char *err, size_t errlen);

/* Writes all n bytes of p (write) or reads exactly n bytes into p (read)
 * through ssl on fd, waiting with poll until deadline. Returns 0, or -1
 * with err ("timed out", "connection closed by the broker", an OpenSSL
 * reason). */
int sl_tls_client_io(SSL *ssl, int fd, void *p, size_t n, bool write, int64_t deadline,
                     char *err, size_t errlen);

/* Sends close_notify (best effort, no waiting) and frees ssl (NULL ok). */
void sl_tls_client_close(SSL *ssl);

#endif
