/* SPDX-License-Identifier: Apache-2.0
 *
 * A network thread: one event loop, the listeners it accepts from (shared
 * listening sockets, registered with EPOLLEXCLUSIVE in every loop so one
 * loop wakes per connection), the connections it owns, and the periodic
 * sweep that closes idle connections.
 */
#ifndef SL_NET_NETLOOP_H
#define SL_NET_NETLOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/evloop.h"

struct sl_broker;
struct sl_conn;
struct sl_group_nl;
struct sl_tls_server;
struct sl_sasl_listener;

struct sl_listener {
    char name[32];          /* listener name, e.g. PLAINTEXT */
    char protocol[32];      /* security protocol */
    char host[256];
    int port;
    int fd;
    const struct sl_xprt_ops *xprt;
    struct sl_tls_server *tls; /* SSL and SASL_SSL listeners: the TLS context holder */
    struct sl_sasl_listener *sasl; /* SASL_* listeners: enabled mechanisms, reauth */
};

struct sl_netloop {
    int id;
    struct sl_evloop *el;
    struct sl_broker *broker;
    pthread_t thread;
    struct sl_conn *conns; /* list */
    int n_conns;
    struct sl_timer sweep;
    /* Long-poll fetches parked on this loop (owned by src/api/fetch.c). */
    struct sl_req **parked;
    int cap_parked;
    atomic_int n_parked;   /* written by the loop, read by producers' threads */
    atomic_bool data_wake; /* a partition grew since the last check */
    /* What the broker's bounce buffer for this loop holds (conn.c): file
     * bytes [bounce_off, +bounce_len) of fd for connection bounce_conn
     * (0: nothing). */
    uint64_t bounce_conn;
    int bounce_fd;
    off_t bounce_off;
    size_t bounce_len;
    /* Parked group requests by operation id (owned by src/group/coordinator.c). */
    struct sl_group_nl *group;
};

/* Binds and listens on l->host:l->port (fills l->fd). Returns 0 or -1 with
 * err naming the listener and the reason. */
int sl_listener_open(struct sl_listener *l, char *err, size_t errlen);
void sl_listener_close(struct sl_listener *l);

/* Creates loop number id, registering the broker's listeners. */
struct sl_netloop *sl_netloop_new(struct sl_broker *b, int id, char *err, size_t errlen);
/* Starts its thread. */
int sl_netloop_start(struct sl_netloop *nl);
/* Stops the loop, closes its connections, joins the thread. Any thread. */
void sl_netloop_stop(struct sl_netloop *nl);
void sl_netloop_destroy(struct sl_netloop *nl);


#endif
