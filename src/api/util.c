/* SPDX-License-Identifier: Apache-2.0
 *
 * Handler helpers (see util.h).
 */
#include "api/util.h"

#include <string.h>

void *sl_api_elems(struct sl_arena *a, const struct sl_msgdesc *desc, int32_t n, size_t size)
{
    if (n <= 0)
        return NULL;
    uint8_t *p = sl_arena_alloc(a, size * (size_t)n);
    for (int32_t i = 0; i < n; i++)
        sl_codec_init(desc, p + size * (size_t)i);
    return p;
}

sl_str_t sl_api_str_dup(struct sl_req *req, sl_str_t s)
{
    if (s.len < 0)
        return SL_STR_NULL;
    if (s.len == 0)
        return SL_STR_EMPTY;
    return (sl_str_t){sl_arena_memdup(&req->arena, s.p, (size_t)s.len), s.len};
}

sl_str_t sl_api_str(struct sl_req *req, const char *s)
{
    if (!s)
        return SL_STR_NULL;
    size_t n = strlen(s);
    return (sl_str_t){sl_arena_memdup(&req->arena, s, n), (int32_t)n};
}

char *sl_api_cstr(struct sl_req *req, sl_str_t s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *c = sl_arena_alloc(&req->arena, n + 1);
    if (n)
        memcpy(c, s.p, n);
    c[n] = '\0';
    return c;
}
