/* SPDX-License-Identifier: Apache-2.0
 *
 * The cross-thread message allocator and the descriptor-driven deep copy
 * (see gmem.h).
 */
#include "group/gmem.h"

#include <string.h>

#include "core/mem.h"

#define FIRST_CHUNK 512
#define MAX_CHUNK (64 * 1024)

struct sl_gmem_chunk {
    struct sl_gmem_chunk *next;
    size_t size, used;
    _Alignas(16) uint8_t data[];
};

void sl_gmem_init(struct sl_gmem *m)
{
    m->_head = NULL;
    m->_next_size = FIRST_CHUNK;
}

void sl_gmem_free(struct sl_gmem *m)
{
    struct sl_gmem_chunk *c = m->_head;
    while (c) {
        struct sl_gmem_chunk *n = c->next;
        free(c);
        c = n;
    }
    m->_head = NULL;
    m->_next_size = FIRST_CHUNK;
}

void *sl_gmem_alloc(struct sl_gmem *m, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    struct sl_gmem_chunk *c = m->_head;
    if (!c || c->size - c->used < n) {
        size_t size = m->_next_size;
        while (size < n)
            size *= 2;
        c = sl_xmalloc(sizeof(*c) + size);
        c->size = size;
        c->used = 0;
        c->next = m->_head;
        m->_head = c;
        if (m->_next_size < MAX_CHUNK)
            m->_next_size *= 2;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

sl_str_t sl_gmem_str(struct sl_gmem *m, sl_str_t s)
{
    if (s.len < 0)
        return SL_STR_NULL;
    if (s.len == 0)
        return SL_STR_EMPTY;
    char *p = sl_gmem_alloc(m, (size_t)s.len);
    memcpy(p, s.p, (size_t)s.len);
    return (sl_str_t){p, s.len};
}

sl_bytes_t sl_gmem_bytes(struct sl_gmem *m, const void *src, int32_t len)
{
    static const uint8_t empty[1];
    if (len < 0)
        return (sl_bytes_t){NULL, -1};
    if (len == 0)
        return (sl_bytes_t){empty, 0};
    uint8_t *p = sl_gmem_alloc(m, (size_t)len);
    memcpy(p, src, (size_t)len);
    return (sl_bytes_t){p, len};
}

sl_str_t sl_gmem_cstr(struct sl_gmem *m, const char *s)
{
    return s ? sl_gmem_str(m, sl_str_c(s)) : SL_STR_NULL;
}

void *sl_gmem_elems(struct sl_gmem *m, const struct sl_msgdesc *d, int32_t n, size_t elem_size)
{
    if (n <= 0)
        return NULL;
    uint8_t *p = sl_gmem_alloc(m, elem_size * (size_t)n);
    for (int32_t i = 0; i < n; i++)
        sl_codec_init(d, p + elem_size * (size_t)i);
    return p;
}

/* Copies one value of `type` from src to dst (both point at the member). */
static void clone_value(struct sl_gmem *m, uint8_t type, const struct sl_msgdesc *sub,
                        const uint8_t *src, uint8_t *dst)
{
    switch (type) {
    case SL_FT_STRING: {
        sl_str_t s;
        memcpy(&s, src, sizeof(s));
        s = sl_gmem_str(m, s);
        memcpy(dst, &s, sizeof(s));
        break;
    }
    case SL_FT_BYTES: {
        sl_bytes_t b;
        memcpy(&b, src, sizeof(b));
        b = sl_gmem_bytes(m, b.p, b.len);
        memcpy(dst, &b, sizeof(b));
        break;
    }
    case SL_FT_RECORDS: {
        sl_records_t r = {NULL, -1, NULL};
        memcpy(dst, &r, sizeof(r));
        break;
    }
    case SL_FT_STRUCT:
        sl_gmem_clone(m, sub, src, dst);
        break;
    default:
        break; /* scalars were copied with the enclosing struct */
    }
}

void sl_gmem_clone(struct sl_gmem *m, const struct sl_msgdesc *d, const void *src, void *dst)
{
    if (src != dst)
        memcpy(dst, src, d->size);
    const uint8_t *s = src;
    uint8_t *o = dst;
    for (uint16_t i = 0; i < d->nfields; i++) {
        const struct sl_field *f = &d->fields[i];
        if (f->type != SL_FT_ARRAY) {
            clone_value(m, f->type, f->sub, s + f->off, o + f->off);
            continue;
        }
        struct sl_array a;
        memcpy(&a, s + f->off, sizeof(a));
        if (a.n <= 0 || !a.a) {
            a.a = NULL;
            memcpy(o + f->off, &a, sizeof(a));
            continue;
        }
        uint8_t *elems = sl_gmem_alloc(m, (size_t)a.n * f->elem_size);
        memcpy(elems, a.a, (size_t)a.n * f->elem_size);
        for (int32_t k = 0; k < a.n; k++) {
            const uint8_t *se = (const uint8_t *)a.a + (size_t)k * f->elem_size;
            uint8_t *de = elems + (size_t)k * f->elem_size;
            clone_value(m, f->elem, f->sub, se, de);
        }
        a.a = elems;
        memcpy(o + f->off, &a, sizeof(a));
    }
}
