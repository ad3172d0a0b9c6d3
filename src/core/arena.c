/* SPDX-License-Identifier: Apache-2.0
 *
 * Bump allocator (see arena.h). Blocks are 64 KiB unless one allocation
 * needs more; a reset keeps up to four standard blocks.
 */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

#define BLOCK_SIZE (64 * 1024)
#define KEEP_BLOCKS 4

struct sl_arena_block {
    struct sl_arena_block *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(16) unsigned char data[];
};

void sl_arena_init(struct sl_arena *a)
{
    memset(a, 0, sizeof(*a));
}

static struct sl_arena_block *new_block(struct sl_arena *a, size_t need)
{
    struct sl_arena_block *b = NULL;
    if (need <= BLOCK_SIZE && a->_free) {
        b = a->_free;
        a->_free = b->next;
    } else {
        size_t size = need > BLOCK_SIZE ? need : BLOCK_SIZE;
        b = sl_xmalloc(sizeof(*b) + size);
        b->size = size;
    }
    b->used = 0;
    b->next = a->_head;
    a->_head = b;
    return b;
}

void *sl_arena_alloc(struct sl_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n) /* overflow */
        abort();
    struct sl_arena_block *b = a->_head;
    if (!b || b->size - b->used < need)
        b = new_block(a, need);
    void *p = b->data + b->used;
    b->used += need;
    a->_total += need;
    memset(p, 0, n);
    return p;
}

void *sl_arena_memdup(struct sl_arena *a, const void *p, size_t n)
{
    void *q = sl_arena_alloc(a, n ? n : 1);
    if (n)
        memcpy(q, p, n);
    return q;
}

char *sl_arena_strdup(struct sl_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *q = sl_arena_alloc(a, n + 1);
    memcpy(q, s, n + 1);
    return q;
}

char *sl_arena_printf(struct sl_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *s = sl_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void sl_arena_reset(struct sl_arena *a)
{
    int kept = 0;
    for (struct sl_arena_block *f = a->_free; f; f = f->next)
        kept++;
    struct sl_arena_block *b = a->_head;
    while (b) {
        struct sl_arena_block *next = b->next;
        if (b->size == BLOCK_SIZE && kept < KEEP_BLOCKS) {
            b->next = a->_free;
            a->_free = b;
            kept++;
        } else {
            free(b);
        }
        b = next;
    }
    a->_head = NULL;
    a->_total = 0;
}

void sl_arena_destroy(struct sl_arena *a)
{
    sl_arena_reset(a);
    struct sl_arena_block *b = a->_free;
    while (b) {
        struct sl_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->_free = NULL;
}
