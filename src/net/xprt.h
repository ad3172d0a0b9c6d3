/* SPDX-License-Identifier: Apache-2.0
 *
 * The transport vtable: the only thing between a connection and its socket.
 * The plain transport (xprt_plain.c) calls read/writev/sendfile on the fd; the
 * TLS transport (src/tls/xprt_tls.c) runs OpenSSL over the same calls. Protocol
 * code never looks below this interface: it sees bytes in, bytes out, and
 * the connection's principal.
 *
 * Results follow read(2): > 0 bytes moved, 0 end of stream (read only), -1
 * with errno (EAGAIN: not now; the transport sets c->xprt_want to the events it
 * needs, which lets TLS turn "a read that wants a write" into the right
 * epoll registration; it is reset by the transport at each call).
 */
#ifndef SL_NET_XPRT_H
#define SL_NET_XPRT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct sl_conn;

struct sl_xprt_ops {
    const char *name; /* "plain", "tls" */
    /* Sets up transport state for a new connection (c->fd, c->lst set).
     * Returns 0, or -1 to refuse the connection. NULL: nothing to do. */
    int (*attach)(struct sl_conn *c);
    /* Reads up to len bytes. */
    ssize_t (*read)(struct sl_conn *c, void *buf, size_t len);
    /* Writes from iov. */
    ssize_t (*writev)(struct sl_conn *c, const struct iovec *iov, int iovcnt);
    /* Sends len bytes of file fd from *off (advanced). NULL, or -1 with
     * errno EOPNOTSUPP, when the transport must see the bytes (TLS without
     * kernel TLS): the caller reads the file and writes the bytes. */
    ssize_t (*sendfile)(struct sl_conn *c, int fd, off_t *off, size_t len);
    /* True if the transport holds decrypted input that epoll cannot see. */
    bool (*has_pending)(struct sl_conn *c);
    /* The connection's handshake deadline passed (c->handshake_deadline_ms);
     * it is closed after this call, which logs and counts. NULL: none. */
    void (*handshake_timeout)(struct sl_conn *c);
    /* Releases transport state (does not close the fd). */
    void (*destroy)(struct sl_conn *c);
};

extern const struct sl_xprt_ops sl_xprt_plain;
extern const struct sl_xprt_ops sl_xprt_tls;

#endif
