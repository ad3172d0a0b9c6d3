/* SPDX-License-Identifier: Apache-2.0
 *
 * Byte and string views ({ptr, len}, never NUL-terminated in place) and the
 * big-endian load/store helpers used by the codec and the record batch code.
 */
#ifndef SL_CORE_BYTES_H
#define SL_CORE_BYTES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* A string view. len == -1 (and p == NULL) is a null string. */
typedef struct sl_str {
    const char *p;
    int32_t len;
} sl_str_t;

/* A byte view. len == -1 (and p == NULL) is null. */
typedef struct sl_bytes {
    const uint8_t *p;
    int32_t len;
} sl_bytes_t;

typedef struct sl_uuid {
    uint8_t b[16];
} sl_uuid_t;

#define SL_STR_NULL ((sl_str_t){NULL, -1})
#define SL_STR_EMPTY ((sl_str_t){"", 0})
#define SL_STR_LIT(s) ((sl_str_t){(s), (int32_t)(sizeof(s) - 1)})

static inline sl_str_t sl_str_c(const char *s)
{
    return s ? (sl_str_t){s, (int32_t)strlen(s)} : SL_STR_NULL;
}

/* The value of one hex digit (either case), or -1. */
static inline int sl_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline bool sl_str_is_null(sl_str_t s)
{
    return s.len < 0;
}

static inline bool sl_str_eq(sl_str_t a, sl_str_t b)
{
    if (a.len != b.len)
        return false;
    return a.len <= 0 || memcmp(a.p, b.p, (size_t)a.len) == 0;
}

static inline bool sl_str_eq_c(sl_str_t a, const char *b)
{
    return a.len >= 0 && sl_str_eq(a, sl_str_c(b));
}

static inline bool sl_uuid_is_zero(const sl_uuid_t *u)
{
    static const sl_uuid_t zero;
    return memcmp(u->b, zero.b, 16) == 0;
}

static inline uint16_t sl_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t sl_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t sl_be64(const uint8_t *p)
{
    return (uint64_t)sl_be32(p) << 32 | sl_be32(p + 4);
}
static inline void sl_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void sl_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void sl_put_be64(uint8_t *p, uint64_t v)
{
    sl_put_be32(p, (uint32_t)(v >> 32));
    sl_put_be32(p + 4, (uint32_t)v);
}

#endif
