/* SPDX-License-Identifier: Apache-2.0
 *
 * Network threads and listeners (see netloop.h). Each listening socket is
 * opened once at start (so a port in use stops the broker with a clear
 * message) and registered with EPOLLEXCLUSIVE in every loop.
 */
#include "net/netloop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/logging.h"
#include "core/mem.h"
#include "net/conn.h"
#include "protocol/request.h"
#include "security/audit/audit.h"
#include "server/broker.h"

#define SWEEP_MS 1000

int sl_listener_open(struct sl_listener *l, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", l->port);
    const char *host = l->host[0] ? l->host : NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "listener %s: cannot resolve host '%s': %s", l->name,
                 l->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6 && !host) {
            int zero = 0; /* wildcard: accept IPv4 too */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "listener %s: cannot listen on %s:%d: %s", l->name,
                 l->host[0] ? l->host : "*", l->port, strerror(saved));
        return -1;
    }
    l->fd = fd;
    return 0;
}

void sl_listener_close(struct sl_listener *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

static void accept_cb(struct sl_evloop *el, int fd, uint32_t events, void *arg)
{
    struct sl_netloop *nl = sl_evloop_udata(el);
    const struct sl_listener *l = arg;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            if (errno == EMFILE || errno == ENFILE)
                SL_WARN("net", "accept on %s: %s", l->name, strerror(errno));
            return;
        }
        char host[64] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
            port = ntohs(sin->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
            port = ntohs(sin6->sin6_port);
        }
        int n = atomic_fetch_add(&nl->broker->n_conns, 1);
        if (n >= nl->broker->cfg->max_connections) {
            atomic_fetch_sub(&nl->broker->n_conns, 1);
            SL_WARN("net", "refusing connection from %s: max.connections (%d) reached", host,
                    nl->broker->cfg->max_connections);
            close(cfd);
            continue;
        }
        if (!sl_conn_new(nl, cfd, l, host, port))
            atomic_fetch_sub(&nl->broker->n_conns, 1);
    }
}

static void sweep_cb(void *arg)
{
    struct sl_netloop *nl = arg;
    int64_t idle = nl->broker->cfg->connections_max_idle_ms;
    int64_t now = sl_evloop_now_ms(nl->el);
    struct sl_conn *c = nl->conns;
    while (c) {
        struct sl_conn *next = c->_next;
        if (c->handshake_deadline_ms && now >= c->handshake_deadline_ms) {
            if (c->xprt->handshake_timeout)
                c->xprt->handshake_timeout(c);
            sl_conn_close(c, "handshake timeout");
        } else if (idle > 0 && c->n_queued == 0 && now - c->last_active_ms > idle) {
            sl_conn_close(c, "idle");
        }
        c = next;
    }
    int64_t period = SWEEP_MS;
    if (idle > 0 && idle / 4 < period)
        period = idle / 4 > 10 ? idle / 4 : 10;
    int64_t hs = nl->broker->cfg->ssl_handshake_timeout_ms;
    if (hs > 0 && hs / 4 < period)
        period = hs / 4 > 10 ? hs / 4 : 10;
    sl_timer_start(nl->el, &nl->sweep, period);
}

struct sl_netloop *sl_netloop_new(struct sl_broker *b, int id, char *err, size_t errlen)
{
    struct sl_netloop *nl = sl_xcalloc(1, sizeof(*nl));
    nl->id = id;
    nl->broker = b;
    atomic_init(&nl->data_wake, false);
    atomic_init(&nl->n_parked, 0);
    nl->el = sl_evloop_new(id, err, errlen);
    if (!nl->el) {
        free(nl);
        return NULL;
    }
    sl_evloop_set_udata(nl->el, nl);
    for (int i = 0; i < b->n_listeners; i++) {
        struct sl_listener *l = &b->listeners[i];
        if (sl_evloop_add(nl->el, l->fd, SL_EV_READ | SL_EV_EXCLUSIVE, accept_cb, l) < 0) {
            snprintf(err, errlen, "listener %s: cannot register: %s", l->name, strerror(errno));
            sl_evloop_destroy(nl->el);
            free(nl);
            return NULL;
        }
    }
    sl_timer_init(&nl->sweep, sweep_cb, nl);
    sl_timer_start(nl->el, &nl->sweep, SWEEP_MS);
    return nl;
}

static void *loop_main(void *arg)
{
    struct sl_netloop *nl = arg;
    char name[16];
    snprintf(name, sizeof(name), "sl-net-%d", nl->id);
    pthread_setname_np(pthread_self(), name);
    sl_evloop_run(nl->el);
    /* Close what is left, on the loop's own thread. */
    while (nl->conns)
        sl_conn_close(nl->conns, "shutdown");
    sl_req_pool_drain();
    sl_audit_thread_exit();
    return NULL;
}

int sl_netloop_start(struct sl_netloop *nl)
{
    return pthread_create(&nl->thread, NULL, loop_main, nl);
}

void sl_netloop_stop(struct sl_netloop *nl)
{
    sl_evloop_stop(nl->el);
    pthread_join(nl->thread, NULL);
}

void sl_netloop_destroy(struct sl_netloop *nl)
{
    if (!nl)
        return;
    sl_evloop_destroy(nl->el);
    free(nl->parked);
    free(nl);
}
