/* SPDX-License-Identifier: Apache-2.0
 *
 * Memory for messages that cross threads: a small bump allocator whose
 * chunks grow geometrically from 512 bytes (the request arena's 64 KiB
 * blocks would be wasteful for a heartbeat), and a deep copy of any
 * generated protocol struct driven by its codec descriptor. A group
 * operation copies the decoded request out of the request frame into its
 * own sl_gmem on the network thread, the coordinator builds the response
 * struct in the same sl_gmem, and the network thread frees it once the
 * response is encoded. An sl_gmem is used by one thread at a time; handing
 * it over through sl_evloop_post (a locked queue) orders the accesses.
 */
#ifndef SL_GROUP_GMEM_H
#define SL_GROUP_GMEM_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "protocol/codec.h"

struct sl_gmem_chunk;

struct sl_gmem {
    struct sl_gmem_chunk *_head;
    size_t _next_size;
};

/* An empty allocator (no memory yet). */
void sl_gmem_init(struct sl_gmem *m);
/* Frees every chunk. */
void sl_gmem_free(struct sl_gmem *m);

/* Returns n zeroed bytes aligned to 16, owned by m. Aborts on OOM. */
void *sl_gmem_alloc(struct sl_gmem *m, size_t n);

/* Copies of views into m (null stays null, empty stays empty). */
sl_str_t sl_gmem_str(struct sl_gmem *m, sl_str_t s);
sl_bytes_t sl_gmem_bytes(struct sl_gmem *m, const void *p, int32_t len);
/* A view of a C string copied into m (NULL gives a null string). */
sl_str_t sl_gmem_cstr(struct sl_gmem *m, const char *s);

/* n default-initialised elements of the struct described by d (elem_size
 * bytes each), in m; NULL when n <= 0. */
void *sl_gmem_elems(struct sl_gmem *m, const struct sl_msgdesc *d, int32_t n, size_t elem_size);

/* Sets generated array `arr` to n default elements of desc, in m. */
#define SL_GARR(m, arr, count, desc)                                                               \
    do {                                                                                           \
        (arr).n = (int32_t)(count);                                                                \
        (arr).a = sl_gmem_elems((m), &(desc), (arr).n, sizeof(*(arr).a));                          \
    } while (0)

/* Deep copy of the struct at src described by d into dst (d->size bytes,
 * caller memory): every string, bytes field and array is copied into m, so
 * dst no longer points into src's buffers. Records fields are not copied
 * (set to null): no group API carries records. Pure apart from m. */
void sl_gmem_clone(struct sl_gmem *m, const struct sl_msgdesc *d, const void *src, void *dst);

#endif
