/* SPDX-License-Identifier: Apache-2.0
 *
 * The plain (unencrypted) transport: system calls on the socket, and
 * sendfile(2) for file extents so Fetch sends segment bytes without copying
 * them through user space.
 */
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/xprt.h"

static ssize_t plain_read(struct sl_conn *c, void *buf, size_t len)
{
    ssize_t n;
    do {
        n = read(c->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t plain_writev(struct sl_conn *c, const struct iovec *iov, int iovcnt)
{
    ssize_t n;
    do {
        n = writev(c->fd, iov, iovcnt);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t plain_sendfile(struct sl_conn *c, int fd, off_t *off, size_t len)
{
    ssize_t n;
    do {
        n = sendfile(c->fd, fd, off, len);
    } while (n < 0 && errno == EINTR);
    return n;
}

static bool plain_has_pending(struct sl_conn *c)
{
    return false;
}

static void plain_destroy(struct sl_conn *c)
{
}

const struct sl_xprt_ops sl_xprt_plain = {
    .name = "plain",
    .read = plain_read,
    .writev = plain_writev,
    .sendfile = plain_sendfile,
    .has_pending = plain_has_pending,
    .destroy = plain_destroy,
};
