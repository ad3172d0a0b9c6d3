/* SPDX-License-Identifier: Apache-2.0
 *
 * An output buffer for one encoded response: a contiguous growable memory
 * buffer, plus "extents" spliced in at recorded positions. An extent is a
 * file region (sent with sendfile(2) on plain sockets, read then written on
 * TLS) or borrowed memory; each carries a release callback that runs when the
 * bytes have left (or the connection closed). This is how Fetch sends record
 * batches straight from the segment file without copying them.
 */
#ifndef SL_CORE_WBUF_H
#define SL_CORE_WBUF_H

#include <stddef.h>
#include <stdint.h>

struct sl_wbuf_ext {
    size_t at;           /* position in data where the extent goes */
    int fd;              /* >= 0: file region [off, off+len); -1: memory */
    int64_t off;         /* file offset (fd >= 0) */
    const uint8_t *mem;  /* memory (fd < 0) */
    size_t len;          /* bytes */
    void (*release)(void *arg);
    void *arg;
};

struct sl_wbuf {
    uint8_t *data;
    size_t len, cap;
    struct sl_wbuf_ext *ext;
    int next, ext_cap;
    size_t ext_bytes; /* sum of extent lengths */
};

void sl_wbuf_init(struct sl_wbuf *w);
/* Releases memory and runs the release callback of every extent. */
void sl_wbuf_destroy(struct sl_wbuf *w);
/* Empties the buffer (running extent releases) but keeps its memory. */
void sl_wbuf_clear(struct sl_wbuf *w);

/* Returns a pointer to n new bytes at the end (valid until the next write). */
uint8_t *sl_wbuf_reserve(struct sl_wbuf *w, size_t n);
void sl_wbuf_put(struct sl_wbuf *w, const void *p, size_t n);
void sl_wbuf_put_i8(struct sl_wbuf *w, int8_t v);
void sl_wbuf_put_i16(struct sl_wbuf *w, int16_t v);
void sl_wbuf_put_i32(struct sl_wbuf *w, int32_t v);
void sl_wbuf_put_i64(struct sl_wbuf *w, int64_t v);
void sl_wbuf_put_uvarint(struct sl_wbuf *w, uint64_t v);
void sl_wbuf_put_varint(struct sl_wbuf *w, int64_t v); /* zig-zag */
/* Appends formatted text (printf style; no NUL is appended). */
void sl_wbuf_printf(struct sl_wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Splices a file region / borrowed memory at the current end. The wbuf
 * takes the release duty: release(arg) runs exactly once. */
void sl_wbuf_add_file(struct sl_wbuf *w, int fd, int64_t off, size_t len,
                      void (*release)(void *), void *arg);
void sl_wbuf_add_mem(struct sl_wbuf *w, const uint8_t *mem, size_t len,
                     void (*release)(void *), void *arg);

/* Total bytes this buffer will send (memory + extents). */
static inline size_t sl_wbuf_total(const struct sl_wbuf *w)
{
    return w->len + w->ext_bytes;
}

#endif
