/* SPDX-License-Identifier: Apache-2.0
 *
 * The TLS side of one SSL listener: the current SSL_CTX (swapped by a
 * reload; connections keep the context they started with), the session
 * ticket keys (shared by every context of the listener, rotated hourly, the
 * previous key still accepted), the principal mapping rules, the handshake
 * timeout and the handshake counters.
 *
 * Threads: sl_tls_server_new_ssl runs on network threads, sl_tls_server_reload
 * on the background thread or the signal thread; the current context is
 * guarded by a mutex held only to take a reference.
 */
#ifndef SL_TLS_TLS_SERVER_H
#define SL_TLS_TLS_SERVER_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct sl_config;
struct sl_tls_server;

/* Builds the listener's context from cfg (borrowed, outlives the server).
 * Returns NULL with err when the material is unusable: the broker must not
 * start. Logs what was loaded. */
struct sl_tls_server *sl_tls_server_new(const struct sl_config *cfg, const char *listener,
                                        char *err, size_t errlen);
void sl_tls_server_free(struct sl_tls_server *s);

/* A new server-side SSL for an accepted connection, from the current
 * context. NULL on allocation failure. Network threads. */
SSL *sl_tls_server_new_ssl(struct sl_tls_server *s);

/* Reloads when a file changed since the last load or attempt (or always
 * when force, as on SIGHUP). A new set that fails to load is refused and
 * logged; the current context stays. Returns 1 reloaded, 0 nothing to do,
 * -1 refused. Any thread but a network thread. */
int sl_tls_server_reload(struct sl_tls_server *s, bool force);

/* Maps a verified client certificate to "User:<name>" in out. Returns 0, or
 * -1 with a reason in out when no mapping rule matches. */
int sl_tls_server_principal(struct sl_tls_server *s, X509 *cert, char *out, size_t outlen);

int64_t sl_tls_server_handshake_timeout_ms(const struct sl_tls_server *s);
const char *sl_tls_server_listener(const struct sl_tls_server *s);

/* Counters, for logs and tests. */
void sl_tls_server_count(struct sl_tls_server *s, bool ok);
uint64_t sl_tls_server_failures(const struct sl_tls_server *s);

/* Whether this kernel offers kernel TLS (the "tls" TCP upper layer), probed
 * once per process (every context build asks). The reason is set either
 * way, for the start-up log. */
bool sl_tls_ktls_available(char *why, size_t whylen);

#endif
