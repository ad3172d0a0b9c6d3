/* SPDX-License-Identifier: Apache-2.0
 *
 * Output buffer with spliced extents (see wbuf.h).
 */
#include "core/wbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/mem.h"

void sl_wbuf_init(struct sl_wbuf *w)
{
    memset(w, 0, sizeof(*w));
}

static void release_exts(struct sl_wbuf *w)
{
    for (int i = 0; i < w->next; i++) {
        if (w->ext[i].release)
            w->ext[i].release(w->ext[i].arg);
    }
    w->next = 0;
    w->ext_bytes = 0;
}

void sl_wbuf_clear(struct sl_wbuf *w)
{
    release_exts(w);
    w->len = 0;
}

void sl_wbuf_destroy(struct sl_wbuf *w)
{
    release_exts(w);
    free(w->data);
    free(w->ext);
    memset(w, 0, sizeof(*w));
}

uint8_t *sl_wbuf_reserve(struct sl_wbuf *w, size_t n)
{
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n)
            cap *= 2;
        w->data = sl_xrealloc(w->data, cap);
        w->cap = cap;
    }
    uint8_t *p = w->data + w->len;
    w->len += n;
    return p;
}

void sl_wbuf_put(struct sl_wbuf *w, const void *p, size_t n)
{
    if (n)
        memcpy(sl_wbuf_reserve(w, n), p, n);
}

void sl_wbuf_printf(struct sl_wbuf *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    uint8_t *p = sl_wbuf_reserve(w, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->len--; /* the NUL stays outside the content */
}

void sl_wbuf_put_i8(struct sl_wbuf *w, int8_t v)
{
    *sl_wbuf_reserve(w, 1) = (uint8_t)v;
}

void sl_wbuf_put_i16(struct sl_wbuf *w, int16_t v)
{
    sl_put_be16(sl_wbuf_reserve(w, 2), (uint16_t)v);
}

void sl_wbuf_put_i32(struct sl_wbuf *w, int32_t v)
{
    sl_put_be32(sl_wbuf_reserve(w, 4), (uint32_t)v);
}

void sl_wbuf_put_i64(struct sl_wbuf *w, int64_t v)
{
    sl_put_be64(sl_wbuf_reserve(w, 8), (uint64_t)v);
}

void sl_wbuf_put_uvarint(struct sl_wbuf *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    sl_wbuf_put(w, tmp, n);
}

void sl_wbuf_put_varint(struct sl_wbuf *w, int64_t v)
{
    sl_wbuf_put_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static struct sl_wbuf_ext *new_ext(struct sl_wbuf *w)
{
    if (w->next == w->ext_cap) {
        w->ext_cap = w->ext_cap ? w->ext_cap * 2 : 8;
        w->ext = sl_xrealloc(w->ext, sizeof(*w->ext) * (size_t)w->ext_cap);
    }
    struct sl_wbuf_ext *e = &w->ext[w->next++];
    memset(e, 0, sizeof(*e));
    e->at = w->len;
    return e;
}

void sl_wbuf_add_file(struct sl_wbuf *w, int fd, int64_t off, size_t len,
                      void (*release)(void *), void *arg)
{
    struct sl_wbuf_ext *e = new_ext(w);
    e->fd = fd;
    e->off = off;
    e->len = len;
    e->release = release;
    e->arg = arg;
    w->ext_bytes += len;
}

void sl_wbuf_add_mem(struct sl_wbuf *w, const uint8_t *mem, size_t len,
                     void (*release)(void *), void *arg)
{
    struct sl_wbuf_ext *e = new_ext(w);
    e->fd = -1;
    e->mem = mem;
    e->len = len;
    e->release = release;
    e->arg = arg;
    w->ext_bytes += len;
}
