/* SPDX-License-Identifier: Apache-2.0
 *
 * Small helpers shared by the API handlers: arrays of response elements
 * allocated in the request arena with their schema defaults, and copies of
 * request strings for responses that outlive the request frame.
 */
#ifndef SL_API_UTIL_H
#define SL_API_UTIL_H

#include <stdint.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "protocol/codec.h"
#include "protocol/request.h"

/* Returns n elements of `size` bytes, each initialised with desc's
 * defaults, in the arena. */
void *sl_api_elems(struct sl_arena *a, const struct sl_msgdesc *desc, int32_t n, size_t size);

/* Sets generated array field `arr` to n default-initialised elements of the
 * nested struct described by `desc`. */
#define SL_ARR(req, arr, count, desc)                                                              \
    do {                                                                                           \
        (arr).n = (int32_t)(count);                                                                \
        (arr).a = sl_api_elems(&(req)->arena, &(desc), (arr).n, sizeof(*(arr).a));                 \
    } while (0)

/* A primitive array (no defaults needed). */
#define SL_ARR_PRIM(req, arr, count)                                                               \
    do {                                                                                           \
        (arr).n = (int32_t)(count);                                                                \
        (arr).a = sl_arena_alloc(&(req)->arena, sizeof(*(arr).a) * (size_t)((count) > 0 ? (count) : 1)); \
    } while (0)

/* The address advertised for the listener the request came in on. */
void sl_api_advertised(struct sl_req *req, sl_str_t *host, int32_t *port);

/* Copies s into the arena (null stays null). */
sl_str_t sl_api_str_dup(struct sl_req *req, sl_str_t s);
/* An arena copy of a C string as a view. */
sl_str_t sl_api_str(struct sl_req *req, const char *s);
/* A NUL-terminated arena copy of a view. */
char *sl_api_cstr(struct sl_req *req, sl_str_t s);

#endif
