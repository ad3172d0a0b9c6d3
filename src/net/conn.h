/* SPDX-License-Identifier: Apache-2.0
 *
 * A client connection, owned whole by one network thread: its transport,
 * its input buffer and framer (4-byte size prefix, checked against the frame
 * limit before anything is allocated), and its queue of requests, whose
 * responses leave strictly in arrival order.
 *
 * Lifecycle (driven by conn.c):
 *
 *    accept ──▶ OPEN ──(peer EOF, error, protocol violation, idle)──▶ CLOSING ──(refs == 0)──▶ freed
 *
 * A connection is never freed inside its own callback: callbacks hold a
 * reference, and asynchronous completions (group commit, parked fetches)
 * hold one per pending request.
 */
#ifndef SL_NET_CONN_H
#define SL_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/xprt.h"

struct sl_netloop;
struct sl_req;
struct sl_listener;
struct sl_sasl_session;
struct sl_authz_cache;

enum sl_conn_state {
    SL_CONN_OPEN = 0,
    SL_CONN_CLOSING,
    SL_CONN_STATE_MAX
};

#define SL_PRINCIPAL_MAX 256

struct sl_conn {
    int fd;
    struct sl_netloop *nl;
    const struct sl_listener *lst;
    const struct sl_xprt_ops *xprt;
    void *xprt_ctx;
    enum sl_conn_state state;
    int refs;
    uint64_t id;                        /* unique per broker run */
    char peer[64];                      /* "ip:port" */
    char peer_host[48];                 /* "ip" */
    char principal[SL_PRINCIPAL_MAX];   /* "User:ANONYMOUS" until authenticated */
    bool authenticated;
    int32_t max_frame;                  /* current frame size limit */

    /* input */
    uint8_t *rbuf;
    size_t rlen, rcap;

    /* requests in arrival order; the head's response is sent first */
    struct sl_req *q_head, *q_tail;
    int n_queued;
    int n_parked;      /* requests not yet executed: input is muted while > 0 */
    size_t out_sent;   /* bytes of the head's response already sent */

    uint32_t want;     /* events currently registered */
    uint32_t xprt_want; /* events the transport needs for its pending read or write */
    struct sl_authz_cache *azc;   /* recent authorization decisions (security/authz) */
    struct sl_sasl_session *sasl; /* SASL listeners: the session gate (security/authn) */
    bool close_when_flushed;      /* close once every queued response has been sent */
    int64_t handshake_deadline_ms; /* transport handshake must finish by then; 0: none */
    int64_t last_active_ms;
    int saved_errno;
    bool _in_frames;   /* process_frames is on the stack */
    struct sl_conn *_next, *_prev; /* the loop's list */
};

/* Wraps an accepted, non-blocking socket. Loop thread. Returns the new
 * connection (owned by the loop) or NULL if it could not be registered (fd
 * closed). */
struct sl_conn *sl_conn_new(struct sl_netloop *nl, int fd, const struct sl_listener *lst,
                            const char *peer_host, int peer_port);

void sl_conn_ref(struct sl_conn *c);
/* Drops a reference; frees the connection when the last one goes after a
 * close. Loop thread. */
void sl_conn_unref(struct sl_conn *c);

/* Starts closing: deregisters the fd, closes the socket, fails pending
 * requests. Idempotent. `why` is logged at debug level. Loop thread. */
void sl_conn_close(struct sl_conn *c, const char *why);

/* Appends req at the tail of the response queue (the conn takes it). */
void sl_conn_enqueue(struct sl_conn *c, struct sl_req *req);

/* Sends what can be sent now (the done prefix of the queue), re-arms
 * events, resumes reading when a parked request completed. Loop thread. */
void sl_conn_kick(struct sl_conn *c);

#endif
