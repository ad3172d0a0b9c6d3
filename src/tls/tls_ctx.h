/* SPDX-License-Identifier: Apache-2.0
 *
 * Building the server SSL_CTX of one listener from its ssl.* settings: the
 * key store (PKCS12, a PEM file, or PEM inline in the configuration), the
 * trust store and CRLs for client certificates, the enabled protocols (TLS
 * 1.2 and 1.3 only) and cipher suites (AEAD with forward secrecy only), and
 * the fixed safe options (no compression, no renegotiation, server cipher
 * order). Everything that can be wrong with the material is found here, so a
 * bad file stops the broker at start and a bad reload is refused.
 *
 * Not here: which context new connections get and when files are reloaded
 * (tls_server.c), the transport (xprt_tls.c).
 */
#ifndef SL_TLS_TLS_CTX_H
#define SL_TLS_TLS_CTX_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct sl_config;

enum sl_tls_client_auth {
    SL_TLS_AUTH_NONE = 0,
    SL_TLS_AUTH_REQUESTED,
    SL_TLS_AUTH_REQUIRED,
};

/* The files a context was built from, to notice when they change. */
#define SL_TLS_FILES 3
struct sl_tls_files {
    char path[SL_TLS_FILES][4096]; /* keystore, truststore, CRL; "" when not a file */
    struct stat st[SL_TLS_FILES];  /* as seen just before reading (st_ino 0: missing) */
};

/* Facts about a built context, for the start-up and reload logs. */
struct sl_tls_info {
    char subject[512];     /* server certificate subject (RFC 2253) */
    char not_after[64];    /* its expiry, "YYYY-MM-DD HH:MM:SS UTC" */
    int n_trusted;         /* trust anchors */
    int n_crls;            /* CRLs loaded */
    char protocols[32];    /* "TLSv1.2,TLSv1.3" */
};

/* Builds the context for listener (its settings read through
 * sl_config_listener_get). Returns a new SSL_CTX, or NULL with err saying
 * which key or file and why ("listener SSL: ssl.keystore.location=/x.p12:
 * wrong password or corrupt PKCS12 store (mac verify failure)"). Fills
 * files (stamps taken before reading) and info. The verify mode follows
 * ssl.client.auth; callers add session tickets and callbacks. */
SSL_CTX *sl_tls_ctx_build(const struct sl_config *cfg, const char *listener,
                          struct sl_tls_files *files, struct sl_tls_info *info, char *err,
                          size_t errlen);

/* Stats the files of f again into out (same paths). */
void sl_tls_files_stat(const struct sl_tls_files *f, struct sl_tls_files *out);

/* True when any file differs (inode, size, modification time, presence). */
bool sl_tls_files_changed(const struct sl_tls_files *a, const struct sl_tls_files *b);

/* ssl.client.auth of listener. */
enum sl_tls_client_auth sl_tls_client_auth(const struct sl_config *cfg, const char *listener);

/* Describes the OpenSSL error queue (and clears it) into buf: "reason; reason". */
const char *sl_tls_errors(char *buf, size_t len);

/* Where a client context reads its ssl.* keys (Kafka's client property
 * names): returns the value of key, or NULL when it is not set. The value
 * is borrowed until the build returns. */
typedef const char *(*sl_tls_get_fn)(void *arg, const char *key);

/* Builds a client SSL_CTX (the `sluice` CLI) from Kafka client properties:
 * ssl.enabled.protocols, ssl.cipher.suites, ssl.truststore.type /
 * location / password / certificates (none: the system's CAs), and for
 * mutual TLS ssl.keystore.type / location / password, ssl.key.password or
 * ssl.keystore.key with ssl.keystore.certificate.chain. The peer is always
 * verified (SSL_VERIFY_PEER); the host name check is per connection
 * (tls_client.h). Returns a new SSL_CTX, or NULL with err naming the key,
 * the value (never a secret) and why. */
SSL_CTX *sl_tls_client_ctx_build(sl_tls_get_fn get_key, void *arg, char *err, size_t errlen);

#endif
