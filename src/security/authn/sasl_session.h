/* SPDX-License-Identifier: Apache-2.0
 *
 * The SASL session of one connection on a SASL_PLAINTEXT or SASL_SSL
 * listener: a gate between the framer and the dispatcher, in the states of
 * Kafka's SaslServerAuthenticator.
 *
 *   HANDSHAKE ──SaslHandshake(mechanism enabled)──▶ AUTHENTICATE
 *   AUTHENTICATE ──SaslAuthenticate…(mechanism DONE)──▶ COMPLETE
 *   COMPLETE ──SaslHandshake (re-authentication, KIP-368)──▶ AUTHENTICATE
 *   any ──failure──▶ FAILED (answered after the failure delay, then closed)
 *
 * Before COMPLETE only ApiVersions and the two SASL APIs pass; anything else
 * closes the connection, frames are capped at sasl.server.max.receive.size,
 * and the whole authentication (TLS included) must finish before the
 * connection's handshake deadline. After SaslHandshake v0 the client sends
 * bare SASL tokens as frames and gets bare tokens back. A COMPLETE session
 * expires after connections.max.reauth.ms: the next request other than a
 * SaslHandshake closes the connection.
 *
 * Handlers (src/api/sasl.c) and the dispatcher drive it; the mechanisms are
 * providers (sasl_mech.h); the credentials come from the metadata store.
 */
#ifndef SL_SECURITY_AUTHN_SASL_SESSION_H
#define SL_SECURITY_AUTHN_SASL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_broker;
struct sl_conn;
struct sl_req;
struct sl_config;
struct sl_sasl_mech;

enum sl_sasl_state {
    SL_SASL_S_HANDSHAKE = 0,
    SL_SASL_S_AUTHENTICATE,
    SL_SASL_S_COMPLETE,
    SL_SASL_S_FAILED,
    SL_SASL_S_MAX
};

/* A listener's SASL settings, resolved at start. */
struct sl_sasl_listener {
    char mechanisms[128];   /* enabled, comma-separated, as configured */
    int64_t reauth_ms;      /* connections.max.reauth.ms; 0: never expires */
};

struct sl_sasl_session {
    enum sl_sasl_state state;
    bool raw_tokens; /* SaslHandshake v0: bare tokens as frames */
    bool reauth;     /* the exchange under way re-authenticates */
    const struct sl_sasl_mech *mech;
    void *mst;             /* the mechanism's exchange */
    char user[1025];       /* authenticated user name, "" before */
    int64_t expiry_ms;     /* monotonic end of the session; 0: none */
    int64_t started_ms;    /* the exchange under way began (reauth: to re-arm) */
};

/* Fills a listener's settings from cfg. Returns 0, or -1 with err. */
int sl_sasl_listener_init(struct sl_sasl_listener *sl, const struct sl_config *cfg,
                          const char *listener, char *err, size_t errlen);

/* True when mechanism (NUL-terminated) is enabled on the listener. */
bool sl_sasl_listener_enabled(const struct sl_sasl_listener *sl, const char *mechanism);

/* Sets up the session of a new connection: caps frames, arms the
 * authentication deadline. */
void sl_sasl_session_attach(struct sl_conn *c);
/* Releases the session (connection close). */
void sl_sasl_session_destroy(struct sl_conn *c);

/* Dispatcher gate, after the header is decoded: true when api_key may run
 * now. False means close the connection (the reason is logged). */
bool sl_sasl_allows(struct sl_conn *c, int16_t api_key);

/* True when the next frame is a bare SASL token (after SaslHandshake v0). */
bool sl_sasl_expects_raw(const struct sl_conn *c);

/* Handles a bare token frame (borrowed). */
void sl_sasl_raw_token(struct sl_conn *c, const uint8_t *frame, size_t len);

/* Starts the auth workers when a listener enables a slow mechanism (up to
 * 4 threads, at most n), so those steps leave the network threads; without
 * them (none needed, or none could start) every step runs on the network
 * thread. Before the network threads start. Returns 0. */
int sl_sasl_workers_start(struct sl_broker *b, int n);
/* Stops them, after the network threads (their jobs' ends are posted to
 * the loops, which the broker drains after). */
void sl_sasl_workers_stop(struct sl_broker *b);

/* The API handlers (registered in the dispatcher table). */
int sl_api_sasl_handshake(struct sl_req *req);
int sl_api_sasl_authenticate(struct sl_req *req);

#endif
