/* SPDX-License-Identifier: Apache-2.0
 *
 * A bump allocator for request-scoped memory: decoded requests and the
 * response structs built from them live here and are freed in one go after
 * the response is queued, so handlers never call free(). Blocks are kept
 * across resets to avoid touching fresh pages on every request.
 */
#ifndef SL_CORE_ARENA_H
#define SL_CORE_ARENA_H

#include <stddef.h>

struct sl_arena_block;

struct sl_arena {
    struct sl_arena_block *_head; /* current block (newest first) */
    struct sl_arena_block *_free; /* blocks kept after a reset */
    size_t _total;                /* bytes handed out since the last reset */
};

/* Initialises an empty arena (no memory yet). */
void sl_arena_init(struct sl_arena *a);

/* Returns n bytes aligned to 16, zeroed; owned by the arena. Aborts on
 * out-of-memory (callers check peer-chosen sizes first). */
void *sl_arena_alloc(struct sl_arena *a, size_t n);

/* Returns a copy of p[0..n) owned by the arena. */
void *sl_arena_memdup(struct sl_arena *a, const void *p, size_t n);

/* Returns a NUL-terminated copy owned by the arena. */
char *sl_arena_strdup(struct sl_arena *a, const char *s);

/* Formats into arena memory (printf style); returns the string. */
char *sl_arena_printf(struct sl_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Releases everything handed out; keeps up to a few blocks for reuse. */
void sl_arena_reset(struct sl_arena *a);

/* Releases all memory of the arena. */
void sl_arena_destroy(struct sl_arena *a);

/* Bytes handed out since the last reset. */
static inline size_t sl_arena_used(const struct sl_arena *a)
{
    return a->_total;
}

#endif
