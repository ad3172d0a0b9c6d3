/* SPDX-License-Identifier: Apache-2.0
 *
 * A small blocking Kafka client for administration (the `sluice` CLI):
 * one connection to the first bootstrap server that answers, TLS when the
 * security protocol says so (tls/tls_client.h), ApiVersions to learn the
 * broker's version ranges, SASL (SaslHandshake v1 + SaslAuthenticate with
 * the client side of security/authn/sasl_client.h), then requests built
 * from the generated structs and encoded, and responses decoded, by the
 * same table-driven codec the broker uses (protocol/codec.h). Each request
 * goes at the highest version both sides support.
 *
 * Every byte from the network is untrusted: a response frame's length is
 * checked against SL_KCLIENT_MAX_FRAME before anything is allocated, its
 * correlation id must match, and the codec checks the body. Every wait
 * (connect, TLS handshake, each read and write) has the deadline of
 * request.timeout.ms. Not thread-safe: one caller at a time.
 */
#ifndef SL_CLI_KCLIENT_H
#define SL_CLI_KCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "cli/client_config.h"
#include "core/arena.h"
#include "protocol/codec.h"

/* Largest response frame accepted. */
#define SL_KCLIENT_MAX_FRAME (64 * 1024 * 1024)

/* API keys whose versions are remembered (every key Sluice knows is
 * below this). */
#define SL_KCLIENT_KEYS 128

struct ssl_ctx_st;
struct ssl_st;

struct sl_kclient {
    int fd;
    struct ssl_ctx_st *ctx; /* TLS protocols only */
    struct ssl_st *ssl;
    int32_t corr;
    int timeout_ms;
    char *client_id;
    char peer[300];                    /* host:port connected to, for messages */
    int16_t minv[SL_KCLIENT_KEYS];     /* the broker's range per key; maxv -1: not offered */
    int16_t maxv[SL_KCLIENT_KEYS];
    struct sl_arena arena;             /* the last response's arrays */
    uint8_t *rbuf;                     /* the last response frame (strings point into it) */
    size_t rlen;
};

/* Connects to the first of cfg->bootstrap ("host:port,[v6]:port,...") that
 * accepts a connection, then runs TLS, ApiVersions and SASL as cfg says.
 * cfg must have passed sl_client_config_check; it is borrowed for the call
 * only. Returns 0 (k is ready; close with sl_kclient_close), or -1 with
 * err (k is cleaned up). An authentication failure ends the attempt at
 * once (the message starts "authentication failed"); connection failures
 * move on to the next server. */
int sl_kclient_connect(struct sl_kclient *k, const struct sl_client_config *cfg, char *err,
                       size_t errlen);

/* Returns the version a request of api_key goes at: the highest both the
 * broker (ApiVersions) and this codec support, or -1 when there is none. */
int16_t sl_kclient_version(const struct sl_kclient *k, int16_t api_key);

/* Sends req (borrowed; the generated request struct of api_key) and
 * decodes the answer into *resp (the response struct of api_key); strings
 * and arrays of *resp stay valid until the next call or the close.
 * Returns 0, or -1 with err (no common version, I/O, timeout, a malformed
 * or mismatched answer). Kafka error codes inside the response are the
 * caller's to read. */
int sl_kclient_call(struct sl_kclient *k, int16_t api_key, const void *req, void *resp, char *err,
                    size_t errlen);

/* Closes the connection and frees everything. Only for a k that went
 * through sl_kclient_connect (closing twice is fine). */
void sl_kclient_close(struct sl_kclient *k);

/* Splits one bootstrap entry "host:port" or "[v6addr]:port" into host
 * (room for hostlen) and port. Returns 0 or -1. Borrows s[0..n). */
int sl_kclient_split_hostport(const char *s, size_t n, char *host, size_t hostlen, char *port,
                              size_t portlen);

/* A non-blocking TCP connection to host:port (each address in turn, each
 * within timeout_ms), or -1 with err. */
int sl_kclient_tcp_connect(const char *host, const char *port, int timeout_ms, char *err,
                           size_t errlen);

#endif
