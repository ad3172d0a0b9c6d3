/* SPDX-License-Identifier: Apache-2.0
 *
 * Connection state machine: reading and framing, the in-order response
 * queue, sending (writev for memory, sendfile for file extents when the
 * transport allows), backpressure and closing. See conn.h for the
 * lifecycle.
 *
 * Framing: a frame is a 4-byte big-endian size then that many bytes. The
 * size is checked (negative, zero or above the limit closes the connection)
 * before the buffer grows, so a peer cannot make us allocate more than the
 * limit. Frames are dispatched from the input buffer in place; the handler
 * rules in protocol/request.h make that safe.
 *
 * The transport may need an event of its own (TLS: a read that must first
 * write, or the reverse): it sets c->xprt_want, which is added to the
 * registration, and the read is retried when that event fires. Bytes the
 * transport holds decrypted (has_pending) are read without waiting for
 * epoll, which cannot see them.
 *
 * Not here: TLS (a transport), SASL (a gate in the dispatcher).
 */
#include "net/conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/logging.h"
#include "core/mem.h"
#include "net/evloop.h"
#include "net/netloop.h"
#include "protocol/dispatch.h"
#include "protocol/request.h"
#include "security/audit/audit.h"
#include "security/authn/sasl_session.h"
#include "security/authz/authorize.h"
#include "server/broker.h"

#define RBUF_INITIAL (64 * 1024)
#define MAX_QUEUED 256        /* stop reading when this many responses are pending */
#define FILE_CHUNK (256 * 1024)

static void conn_event(struct sl_evloop *el, int fd, uint32_t events, void *arg);
static void process_frames(struct sl_conn *c);
static size_t do_read(struct sl_conn *c);

static void set_want(struct sl_conn *c, uint32_t want)
{
    want |= c->xprt_want;
    if (c->state != SL_CONN_OPEN || c->want == want)
        return;
    if (sl_evloop_mod(c->nl->el, c->fd, want) == 0)
        c->want = want;
}

struct sl_conn *sl_conn_new(struct sl_netloop *nl, int fd, const struct sl_listener *lst,
                            const char *peer_host, int peer_port)
{
    struct sl_conn *c = sl_xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->nl = nl;
    c->lst = lst;
    c->xprt = lst->xprt;
    c->refs = 1; /* the loop's reference, dropped by sl_conn_close */
    c->id = atomic_fetch_add(&nl->broker->next_conn_id, 1);
    snprintf(c->peer_host, sizeof(c->peer_host), "%s", peer_host);
    snprintf(c->peer, sizeof(c->peer), "%s:%d", peer_host, peer_port);
    snprintf(c->principal, sizeof(c->principal), "User:ANONYMOUS");
    c->max_frame = nl->broker->cfg->socket_request_max_bytes;
    c->last_active_ms = sl_evloop_now_ms(nl->el);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const struct sl_config *cfg = nl->broker->cfg;
    if (cfg->socket_send_buffer_bytes > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg->socket_send_buffer_bytes, sizeof(int));
    if (cfg->socket_receive_buffer_bytes > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg->socket_receive_buffer_bytes, sizeof(int));
    if (c->xprt->attach && c->xprt->attach(c) < 0) {
        SL_WARN("net", "cannot set up %s transport for %s", c->xprt->name, c->peer);
        close(fd);
        free(c);
        return NULL;
    }
    if (sl_evloop_add(nl->el, fd, SL_EV_READ, conn_event, c) < 0) {
        SL_WARN("net", "cannot register connection from %s: %s", c->peer, strerror(errno));
        c->xprt->destroy(c);
        close(fd);
        free(c);
        return NULL;
    }
    c->want = SL_EV_READ;
    if (lst->sasl)
        sl_sasl_session_attach(c);
    c->_next = nl->conns;
    if (nl->conns)
        nl->conns->_prev = c;
    nl->conns = c;
    nl->n_conns++;
    SL_DEBUG("net", "conn %llu accepted from %s on %s", (unsigned long long)c->id, c->peer,
             lst->name);
    sl_audit_conn_accepted(c);
    return c;
}

void sl_conn_ref(struct sl_conn *c)
{
    c->refs++;
}

void sl_conn_unref(struct sl_conn *c)
{
    SL_ASSERT(c->refs > 0);
    if (--c->refs > 0)
        return;
    SL_ASSERT(c->state == SL_CONN_CLOSING);
    sl_authz_cache_free(c);
    free(c->rbuf);
    free(c);
}

void sl_conn_close(struct sl_conn *c, const char *why)
{
    if (c->state == SL_CONN_CLOSING)
        return;
    SL_DEBUG("net", "conn %llu from %s closing: %s", (unsigned long long)c->id, c->peer, why);
    sl_audit_conn_closed(c, why);
    c->state = SL_CONN_CLOSING;
    struct sl_netloop *nl = c->nl;
    sl_evloop_del(nl->el, c->fd);
    c->xprt->destroy(c);
    sl_sasl_session_destroy(c);
    close(c->fd);
    c->fd = -1;
    /* Unlink from the loop. */
    if (c->_prev)
        c->_prev->_next = c->_next;
    else
        nl->conns = c->_next;
    if (c->_next)
        c->_next->_prev = c->_prev;
    c->_next = c->_prev = NULL;
    nl->n_conns--;
    atomic_fetch_sub(&nl->broker->n_conns, 1);
    /* Requests: parked ones are cancelled, finished ones dropped; those
     * waiting for an asynchronous result stay alive until it arrives
     * (sl_req_async_end frees them since the connection is closing), unless
     * what they wait for is this loop's own timer, which their cancel hook
     * stops (a timer would never fire once the loop is gone). */
    struct sl_req *r = c->q_head;
    c->q_head = c->q_tail = NULL;
    c->n_queued = 0;
    while (r) {
        struct sl_req *next = r->_next;
        r->_next = NULL;
        if (r->state == SL_REQ_PARKED) {
            if (r->cancel)
                r->cancel(r);
            sl_req_free(r);
        } else if (r->state == SL_REQ_WAITING) {
            if (r->cancel)
                r->cancel(r); /* ends its wait: sl_req_async_end frees it */
        } else {
            sl_req_free(r);
        }
        r = next;
    }
    c->n_parked = 0;
    sl_conn_unref(c);
}

void sl_conn_enqueue(struct sl_conn *c, struct sl_req *req)
{
    req->_next = NULL;
    if (c->q_tail)
        c->q_tail->_next = req;
    else
        c->q_head = req;
    c->q_tail = req;
    c->n_queued++;
    if (req->state == SL_REQ_PARKED)
        c->n_parked++;
}

/* ---- output ---- */

/* Fills iov with memory pieces of w starting at logical position pos, up to
 * the next file extent. Returns the iov count; if the piece at pos is a
 * file extent, returns 0 and sets *fext. */
static int gather(struct sl_wbuf *w, size_t pos, struct iovec *iov, int max,
                  struct sl_wbuf_ext **fext, size_t *fskip)
{
    size_t logical = 0, mem_at = 0;
    int n = 0;
    *fext = NULL;
    for (int i = 0; i <= w->next && n < max; i++) {
        size_t mem_end = i < w->next ? w->ext[i].at : w->len;
        size_t mlen = mem_end - mem_at;
        if (mlen && pos < logical + mlen) {
            size_t skip = pos > logical ? pos - logical : 0;
            iov[n].iov_base = w->data + mem_at + skip;
            iov[n].iov_len = mlen - skip;
            n++;
        }
        logical += mlen;
        mem_at = mem_end;
        if (i == w->next || n >= max)
            break;
        struct sl_wbuf_ext *e = &w->ext[i];
        if (e->len && pos < logical + e->len) {
            size_t skip = pos > logical ? pos - logical : 0;
            if (e->fd >= 0) {
                if (n == 0) {
                    *fext = e;
                    *fskip = skip;
                }
                return n;
            }
            iov[n].iov_base = (void *)(e->mem + skip);
            iov[n].iov_len = e->len - skip;
            n++;
        }
        logical += e->len;
    }
    return n;
}

/* Sends as much of w as the socket takes. Returns 1 when all sent, 0 when
 * the socket is full, -1 on error (errno saved in the connection). */
static int send_wbuf(struct sl_conn *c, struct sl_wbuf *w, size_t *sent)
{
    size_t total = sl_wbuf_total(w);
    while (*sent < total) {
        struct iovec iov[32];
        struct sl_wbuf_ext *fext;
        size_t fskip = 0;
        int n = gather(w, *sent, iov, 32, &fext, &fskip);
        ssize_t r;
        if (n > 0) {
            r = c->xprt->writev(c, iov, n);
        } else if (fext) {
            off_t off = (off_t)(fext->off + (int64_t)fskip);
            size_t len = fext->len - fskip;
            r = -1;
            errno = EOPNOTSUPP;
            if (c->xprt->sendfile) {
                r = c->xprt->sendfile(c, fext->fd, &off, len);
                if (r == 0) { /* the file is shorter than promised */
                    errno = EIO;
                    r = -1;
                }
            }
            if (r < 0 && errno == EOPNOTSUPP) {
                /* Through the loop's bounce buffer. A transport may take
                 * only part of it (a full socket): what was read stays
                 * there for this connection's next call, so a chunk is
                 * read from the file once, not once per partial write.
                 * Segment bytes below the log end never change. */
                struct sl_netloop *nl = c->nl;
                uint8_t *tmp = nl->broker->scratch[nl->id];
                r = 0;
                if (nl->bounce_conn != c->id || nl->bounce_fd != fext->fd ||
                    off < nl->bounce_off || off >= nl->bounce_off + (off_t)nl->bounce_len) {
                    size_t want = len < FILE_CHUNK ? len : FILE_CHUNK;
                    ssize_t got = pread(fext->fd, tmp, want, off);
                    nl->bounce_conn = 0;
                    if (got <= 0) {
                        errno = got < 0 ? errno : EIO;
                        r = -1;
                    } else {
                        nl->bounce_conn = c->id;
                        nl->bounce_fd = fext->fd;
                        nl->bounce_off = off;
                        nl->bounce_len = (size_t)got;
                    }
                }
                if (r == 0) {
                    size_t at = (size_t)(off - nl->bounce_off);
                    size_t avail = nl->bounce_len - at;
                    struct iovec one = {tmp + at, avail < len ? avail : len};
                    r = c->xprt->writev(c, &one, 1);
                }
            }
        } else {
            SL_ASSERT(!"output position past the end");
            r = -1;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            c->saved_errno = errno;
            return -1;
        }
        *sent += (size_t)r;
    }
    return 1;
}

void sl_conn_kick(struct sl_conn *c)
{
    if (c->state != SL_CONN_OPEN)
        return;
    for (;;) {
        bool blocked = false;
        struct sl_req *h;
        while ((h = c->q_head) && h->state == SL_REQ_DONE) {
            int r = send_wbuf(c, &h->out, &c->out_sent);
            if (r < 0) {
                sl_conn_close(c, strerror(c->saved_errno));
                return;
            }
            if (r == 0) {
                blocked = true;
                break;
            }
            c->q_head = h->_next;
            if (!c->q_head)
                c->q_tail = NULL;
            c->n_queued--;
            c->out_sent = 0;
            sl_req_free(h);
        }
        if (!c->q_head && c->close_when_flushed) {
            sl_conn_close(c, "authentication ended");
            return;
        }
        bool muted = c->n_parked > 0 || c->n_queued >= MAX_QUEUED || c->close_when_flushed;
        uint32_t want = (muted ? 0 : SL_EV_READ) | (blocked ? SL_EV_WRITE : 0);
        set_want(c, want);
        /* Input the transport holds decrypted is invisible to epoll: read
         * it now that the connection takes input again. */
        if (!muted && !c->_in_frames && c->xprt->has_pending(c)) {
            size_t got = do_read(c);
            if (c->state != SL_CONN_OPEN)
                return;
            if (got > 0)
                continue;
        }
        /* Frames that arrived while the connection was muted are still in
         * the buffer: run them now, then send what they produced. */
        if (muted || c->rlen < 4 || c->_in_frames)
            return;
        size_t before = c->rlen;
        process_frames(c);
        if (c->state != SL_CONN_OPEN || c->rlen == before)
            return;
    }
}

/* ---- input ---- */

static void process_frames(struct sl_conn *c)
{
    size_t pos = 0;
    c->_in_frames = true;
    while (c->state == SL_CONN_OPEN && c->n_parked == 0 && c->n_queued < MAX_QUEUED) {
        if (c->rlen - pos < 4)
            break;
        int32_t size = (int32_t)sl_be32(c->rbuf + pos);
        if (size <= 0 || size > c->max_frame) {
            SL_INFO("net", "closing %s: frame size %d outside 1..%d", c->peer, size, c->max_frame);
            c->_in_frames = false;
            sl_conn_close(c, "bad frame size");
            return;
        }
        if (c->rlen - pos - 4 < (size_t)size)
            break;
        sl_dispatch_frame(c, c->rbuf + pos + 4, (size_t)size);
        pos += 4 + (size_t)size;
    }
    c->_in_frames = false;
    if (c->state != SL_CONN_OPEN)
        return;
    if (pos) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
        c->rlen -= pos;
    }
}

/* Makes room in the input buffer for the current frame (whose size is
 * already validated) or a default chunk. */
static void ensure_room(struct sl_conn *c)
{
    size_t need = RBUF_INITIAL;
    if (c->rlen >= 4) {
        int32_t size = (int32_t)sl_be32(c->rbuf);
        if (size > 0 && size <= c->max_frame && (size_t)size + 4 > need)
            need = (size_t)size + 4;
    }
    if (c->rcap < need || c->rcap - c->rlen < 4096) {
        size_t cap = c->rcap ? c->rcap : RBUF_INITIAL;
        while (cap < need || cap - c->rlen < 4096)
            cap *= 2;
        c->rbuf = sl_xrealloc(c->rbuf, cap);
        c->rcap = cap;
    }
}

/* Reads and processes frames; returns the bytes read. */
static size_t do_read(struct sl_conn *c)
{
    size_t total = 0;
    /* Up to 16 socket reads for fairness, but never leave decrypted bytes
     * in the transport: no event would bring us back for them. */
    for (int rounds = 0; c->state == SL_CONN_OPEN && (rounds < 16 || c->xprt->has_pending(c));
         rounds++) {
        if (c->n_parked > 0 || c->n_queued >= MAX_QUEUED)
            return total;
        /* Validate the size of a frame head before growing for it. */
        if (c->rlen >= 4) {
            int32_t size = (int32_t)sl_be32(c->rbuf);
            if (size <= 0 || size > c->max_frame) {
                SL_INFO("net", "closing %s: frame size %d outside 1..%d", c->peer, size,
                        c->max_frame);
                sl_conn_close(c, "bad frame size");
                return total;
            }
        }
        ensure_room(c);
        ssize_t n = c->xprt->read(c, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (n == 0) {
            sl_conn_close(c, "peer closed");
            return total;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return total;
            c->saved_errno = errno;
            sl_conn_close(c, strerror(errno));
            return total;
        }
        c->rlen += (size_t)n;
        total += (size_t)n;
        c->last_active_ms = sl_evloop_now_ms(c->nl->el);
        process_frames(c);
        if ((size_t)n < 4096 && !c->xprt->has_pending(c))
            return total;
    }
    return total;
}

static void conn_event(struct sl_evloop *el, int fd, uint32_t events, void *arg)
{
    struct sl_conn *c = arg;
    sl_conn_ref(c);
    if ((events & SL_EV_ERROR) && !(c->want & SL_EV_READ)) {
        /* Hang-up while muted: epoll reports it even with no interest. */
        sl_conn_close(c, "hang-up");
        sl_conn_unref(c);
        return;
    }
    /* The transport's read waits for writability (TLS): retry it. */
    bool read_wants_write = (events & SL_EV_WRITE) && (c->xprt_want & SL_EV_WRITE);
    if (events & SL_EV_WRITE)
        sl_conn_kick(c);
    if ((events & (SL_EV_READ | SL_EV_ERROR) || read_wants_write) && c->state == SL_CONN_OPEN)
        do_read(c);
    if (c->state == SL_CONN_OPEN)
        sl_conn_kick(c);
    sl_conn_unref(c);
}
