/* SPDX-License-Identifier: Apache-2.0
 *
 * The generic Kafka codec: one decoder and one encoder that walk the
 * descriptor tables generated from the schemas/ folder (see codec.h and
 * docs/design/codec.md), the varint/string readers, and the hand-written
 * request and response header codec.
 *
 * Hostile input: every length and count is checked against the bytes left
 * before it is used; array counts are also checked against the smallest
 * wire size an element can have before anything is allocated, so the arena
 * never grows faster than a small constant times the input. Recursion
 * follows the nesting of the schema (a struct never contains itself), never
 * the input. Tagged fields are decoded from a reader bounded by their
 * declared size, so a bad tagged field cannot reach the bytes after it.
 */
#include "protocol/codec.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/wbuf.h"
#include "protocol/gen/apis.h"

static const uint8_t empty_bytes[1];

/* ------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------ */

uint32_t sl_rd_uvarint(struct sl_reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        const uint8_t *q = sl_rd_raw(r, 1);
        if (!q)
            return 0;
        uint8_t b = *q;
        /* The fifth byte holds bits 28..31: no continuation, no higher bits. */
        if (i == 4 && (b & 0xf0)) {
            sl_rd_fail(r);
            return 0;
        }
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return v;
    }
    return v; /* not reached: the fifth byte always returns or fails */
}

uint64_t sl_rd_uvarlong(struct sl_reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        const uint8_t *q = sl_rd_raw(r, 1);
        if (!q)
            return 0;
        uint8_t b = *q;
        /* The tenth byte holds bit 63 only. */
        if (i == 9 && (b & 0xfe)) {
            sl_rd_fail(r);
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return v;
    }
    return v;
}

int32_t sl_rd_varint(struct sl_reader *r)
{
    uint32_t u = sl_rd_uvarint(r);
    uint32_t x = (u >> 1) ^ (0u - (u & 1u));
    int32_t s;
    memcpy(&s, &x, sizeof(s)); /* two's complement reinterpretation, no UB */
    return s;
}

int64_t sl_rd_varlong(struct sl_reader *r)
{
    uint64_t u = sl_rd_uvarlong(r);
    uint64_t x = (u >> 1) ^ (0u - (u & 1u));
    int64_t s;
    memcpy(&s, &x, sizeof(s));
    return s;
}

/* Reads n bytes as a string view; "" for n == 0 so p is never NULL. */
static sl_str_t str_view(struct sl_reader *r, uint32_t n)
{
    const uint8_t *q = sl_rd_raw(r, n);
    if (!q || n == 0)
        return SL_STR_EMPTY;
    return (sl_str_t){(const char *)q, (int32_t)n};
}

static sl_bytes_t bytes_view(struct sl_reader *r, uint32_t n)
{
    const uint8_t *q = sl_rd_raw(r, n);
    if (!q || n == 0)
        return (sl_bytes_t){empty_bytes, 0};
    return (sl_bytes_t){q, (int32_t)n};
}

sl_str_t sl_rd_str16(struct sl_reader *r, bool nullable)
{
    int16_t n = sl_rd_i16(r);
    if (r->err)
        return SL_STR_EMPTY;
    if (n == -1 && nullable)
        return SL_STR_NULL;
    if (n < 0) {
        sl_rd_fail(r);
        return SL_STR_EMPTY;
    }
    return str_view(r, (uint32_t)n);
}

sl_str_t sl_rd_compact_str(struct sl_reader *r, bool nullable)
{
    uint32_t n = sl_rd_uvarint(r);
    if (r->err)
        return SL_STR_EMPTY;
    if (n == 0 && nullable)
        return SL_STR_NULL;
    if (n == 0 || n - 1 > 0x7fff) {
        sl_rd_fail(r);
        return SL_STR_EMPTY;
    }
    return str_view(r, n - 1);
}

sl_bytes_t sl_rd_bytes32(struct sl_reader *r, bool nullable)
{
    int32_t n = sl_rd_i32(r);
    if (r->err)
        return (sl_bytes_t){empty_bytes, 0};
    if (n == -1 && nullable)
        return (sl_bytes_t){NULL, -1};
    if (n < 0) {
        sl_rd_fail(r);
        return (sl_bytes_t){empty_bytes, 0};
    }
    return bytes_view(r, (uint32_t)n);
}

sl_bytes_t sl_rd_compact_bytes(struct sl_reader *r, bool nullable)
{
    uint32_t n = sl_rd_uvarint(r);
    if (r->err)
        return (sl_bytes_t){empty_bytes, 0};
    if (n == 0 && nullable)
        return (sl_bytes_t){NULL, -1};
    /* n - 1 must fit the int32 length of sl_bytes_t. */
    if (n == 0 || n - 1 > (uint32_t)INT32_MAX) {
        sl_rd_fail(r);
        return (sl_bytes_t){empty_bytes, 0};
    }
    return bytes_view(r, n - 1);
}

void sl_rd_skip_tags(struct sl_reader *r)
{
    uint32_t n = sl_rd_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        (void)sl_rd_uvarint(r); /* tag */
        sl_rd_skip(r, sl_rd_uvarint(r));
    }
}

/* ------------------------------------------------------------------------
 * Field helpers
 * ------------------------------------------------------------------------ */

static bool present(const struct sl_field *f, int16_t v)
{
    return v >= f->vmin && v <= f->vmax;
}

static bool nullable_at(const struct sl_field *f, int16_t v)
{
    return f->nmin >= 0 && v >= f->nmin && v <= f->nmax;
}

/* The array header of an SL_FT_ARRAY member (layout checked at compile
 * time by SL_CODEC_CHECK_ARRAY in every generated file). */
static struct sl_array *arr_at(uint8_t *p)
{
    return (struct sl_array *)(void *)p;
}

static const struct sl_array *carr_at(const uint8_t *p)
{
    return (const struct sl_array *)(const void *)p;
}

/* ------------------------------------------------------------------------
 * Defaults
 * ------------------------------------------------------------------------ */

static void init_field(const struct sl_field *f, uint8_t *p)
{
    switch (f->type) {
    case SL_FT_BOOL: {
        bool b = f->def_int != 0;
        memcpy(p, &b, sizeof(b));
        break;
    }
    case SL_FT_INT8: {
        int8_t x = (int8_t)f->def_int;
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_INT16: {
        int16_t x = (int16_t)f->def_int;
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_INT32: {
        int32_t x = (int32_t)f->def_int;
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_INT64:
        memcpy(p, &f->def_int, sizeof(int64_t));
        break;
    case SL_FT_UINT16: {
        uint16_t x = (uint16_t)f->def_int;
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_UINT32: {
        uint32_t x = (uint32_t)f->def_int;
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_FLOAT64:
        memcpy(p, &f->def_f64, sizeof(double));
        break;
    case SL_FT_UUID:
        memset(p, 0, sizeof(sl_uuid_t));
        break;
    case SL_FT_STRING: {
        sl_str_t s = f->def_null ? SL_STR_NULL : sl_str_c(f->def_str ? f->def_str : "");
        memcpy(p, &s, sizeof(s));
        break;
    }
    case SL_FT_BYTES: {
        sl_bytes_t b = f->def_null ? (sl_bytes_t){NULL, -1} : (sl_bytes_t){empty_bytes, 0};
        memcpy(p, &b, sizeof(b));
        break;
    }
    case SL_FT_RECORDS: {
        sl_records_t rec = {NULL, -1, NULL};
        memcpy(p, &rec, sizeof(rec));
        break;
    }
    case SL_FT_STRUCT:
        sl_codec_init(f->sub, p);
        break;
    case SL_FT_ARRAY: {
        struct sl_array *a = arr_at(p);
        a->n = f->def_null ? -1 : 0;
        a->a = NULL;
        break;
    }
    default:
        break;
    }
}

void sl_codec_init(const struct sl_msgdesc *d, void *out)
{
    memset(out, 0, d->size);
    for (uint16_t i = 0; i < d->nfields; i++)
        init_field(&d->fields[i], (uint8_t *)out + d->fields[i].off);
}

/* ------------------------------------------------------------------------
 * Decoder
 * ------------------------------------------------------------------------ */

static size_t struct_min_size(const struct sl_msgdesc *d, int16_t v, bool flex);

/* The fewest wire bytes a value of this type takes. */
static size_t type_min_size(uint8_t type, const struct sl_msgdesc *sub, int16_t v, bool flex)
{
    switch (type) {
    case SL_FT_BOOL:
    case SL_FT_INT8:
        return 1;
    case SL_FT_INT16:
    case SL_FT_UINT16:
        return 2;
    case SL_FT_INT32:
    case SL_FT_UINT32:
        return 4;
    case SL_FT_INT64:
    case SL_FT_FLOAT64:
        return 8;
    case SL_FT_UUID:
        return 16;
    case SL_FT_STRING:
        return flex ? 1 : 2;
    case SL_FT_BYTES:
    case SL_FT_RECORDS:
    case SL_FT_ARRAY:
        return flex ? 1 : 4;
    case SL_FT_STRUCT:
        return struct_min_size(sub, v, flex);
    default:
        return 1;
    }
}

static size_t struct_min_size(const struct sl_msgdesc *d, int16_t v, bool flex)
{
    size_t n = flex ? 1 : 0; /* the tag block */
    for (uint16_t i = 0; i < d->nfields; i++) {
        const struct sl_field *f = &d->fields[i];
        if (f->tag < 0 && present(f, v))
            n += type_min_size(f->type, f->sub, v, flex);
    }
    return n;
}

static int decode_struct(const struct sl_msgdesc *d, int16_t v, bool flex, struct sl_reader *r,
                         struct sl_arena *a, uint8_t *out);

/* Decodes one scalar/string/bytes/records/struct value of `type` into p. */
static void decode_value(uint8_t type, const struct sl_msgdesc *sub, bool nullable, int16_t v,
                         bool flex, struct sl_reader *r, struct sl_arena *a, uint8_t *p)
{
    switch (type) {
    case SL_FT_BOOL: {
        bool b = sl_rd_bool(r);
        memcpy(p, &b, sizeof(b));
        break;
    }
    case SL_FT_INT8: {
        int8_t x = sl_rd_i8(r);
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_INT16: {
        int16_t x = sl_rd_i16(r);
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_INT32: {
        int32_t x = sl_rd_i32(r);
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_INT64: {
        int64_t x = sl_rd_i64(r);
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_UINT16: {
        uint16_t x = sl_rd_u16(r);
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_UINT32: {
        uint32_t x = sl_rd_u32(r);
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_FLOAT64: {
        double x = sl_rd_f64(r);
        memcpy(p, &x, sizeof(x));
        break;
    }
    case SL_FT_UUID: {
        sl_uuid_t u;
        sl_rd_uuid(r, &u);
        memcpy(p, &u, sizeof(u));
        break;
    }
    case SL_FT_STRING: {
        sl_str_t s = flex ? sl_rd_compact_str(r, nullable) : sl_rd_str16(r, nullable);
        memcpy(p, &s, sizeof(s));
        break;
    }
    case SL_FT_BYTES: {
        sl_bytes_t b = flex ? sl_rd_compact_bytes(r, nullable) : sl_rd_bytes32(r, nullable);
        memcpy(p, &b, sizeof(b));
        break;
    }
    case SL_FT_RECORDS: {
        sl_bytes_t b = flex ? sl_rd_compact_bytes(r, nullable) : sl_rd_bytes32(r, nullable);
        sl_records_t rec = {b.p, b.len, NULL};
        memcpy(p, &rec, sizeof(rec));
        break;
    }
    case SL_FT_STRUCT:
        (void)decode_struct(sub, v, flex, r, a, p);
        break;
    default:
        sl_rd_fail(r); /* an array here would be a generator bug */
        break;
    }
}

static void decode_array(const struct sl_field *f, int16_t v, bool flex, struct sl_reader *r,
                         struct sl_arena *a, uint8_t *p)
{
    struct sl_array *arr = arr_at(p);
    int64_t n;
    if (flex) {
        uint32_t u = sl_rd_uvarint(r);
        n = (int64_t)u - 1;
    } else {
        n = sl_rd_i32(r);
    }
    arr->n = 0;
    arr->a = NULL;
    if (r->err)
        return;
    if (n == -1 && nullable_at(f, v)) {
        arr->n = -1;
        return;
    }
    if (n < 0) {
        sl_rd_fail(r);
        return;
    }
    /* Before allocating: n elements must fit in the bytes left. */
    size_t min = type_min_size(f->elem, f->sub, v, flex);
    if (min == 0)
        min = 1;
    if ((uint64_t)n > sl_rd_left(r) / min || (size_t)n > SIZE_MAX / f->elem_size) {
        sl_rd_fail(r);
        return;
    }
    if (n == 0)
        return;
    uint8_t *elems = sl_arena_alloc(a, (size_t)n * f->elem_size);
    for (int64_t i = 0; i < n && !r->err; i++) {
        uint8_t *e = elems + (size_t)i * f->elem_size;
        if (f->elem == SL_FT_STRUCT)
            sl_codec_init(f->sub, e);
        /* Elements of a primitive array are never null. */
        decode_value(f->elem, f->sub, false, v, flex, r, a, e);
    }
    arr->n = (int32_t)n;
    arr->a = elems;
}

static void decode_field(const struct sl_field *f, int16_t v, bool flex, struct sl_reader *r,
                         struct sl_arena *a, uint8_t *out)
{
    uint8_t *p = out + f->off;
    if (f->type == SL_FT_ARRAY)
        decode_array(f, v, flex, r, a, p);
    else
        decode_value(f->type, f->sub, nullable_at(f, v), v, flex, r, a, p);
}

static const struct sl_field *find_tag(const struct sl_msgdesc *d, uint32_t tag)
{
    for (uint16_t i = 0; i < d->ntagged; i++) {
        const struct sl_field *f = &d->fields[d->tagged[i]];
        if ((uint32_t)f->tag == tag)
            return f;
    }
    return NULL;
}

/* Decodes the fields of one struct; *out already holds its defaults. */
static int decode_struct(const struct sl_msgdesc *d, int16_t v, bool flex, struct sl_reader *r,
                         struct sl_arena *a, uint8_t *out)
{
    for (uint16_t i = 0; i < d->nfields && !r->err; i++) {
        const struct sl_field *f = &d->fields[i];
        if (f->tag < 0 && present(f, v))
            decode_field(f, v, flex, r, a, out);
    }
    if (!flex || r->err)
        return r->err;
    uint32_t ntags = sl_rd_uvarint(r);
    for (uint32_t i = 0; i < ntags && !r->err; i++) {
        uint32_t tag = sl_rd_uvarint(r);
        uint32_t size = sl_rd_uvarint(r);
        const uint8_t *payload = sl_rd_raw(r, size);
        if (!payload)
            break;
        /* Unknown tags, and known ones outside their tagged versions
         * (franz-go sends those, PROTOCOL.md pitfall 13), are skipped. */
        const struct sl_field *f = find_tag(d, tag);
        if (!f || !present(f, v))
            continue;
        struct sl_reader sub;
        sl_rd_init(&sub, payload, size);
        decode_field(f, v, true, &sub, a, out);
        /* Bytes left inside the tag's size are ignored, like Kafka does. */
        if (sub.err)
            sl_rd_fail(r);
    }
    return r->err;
}

int sl_codec_decode(const struct sl_msgdesc *d, int16_t version, struct sl_reader *r,
                    struct sl_arena *a, void *out)
{
    sl_codec_init(d, out);
    /* A version outside the message's range has no defined layout. */
    if (version < d->min_version || version > d->max_version) {
        sl_rd_fail(r);
        return SL_ERR__MALFORMED;
    }
    if (r->err)
        return SL_ERR__MALFORMED;
    if (decode_struct(d, version, sl_codec_flexible(d, version), r, a, out))
        return SL_ERR__MALFORMED;
    return 0;
}

/* ------------------------------------------------------------------------
 * Encoder
 * ------------------------------------------------------------------------ */

static void encode_struct(const struct sl_msgdesc *d, int16_t v, bool flex, const uint8_t *in,
                          struct sl_wbuf *w);

static bool struct_is_default(const struct sl_msgdesc *d, int16_t v, const uint8_t *in);

/* True if the value at p equals the field's default (tagged fields are only
 * written when they differ). */
static bool is_default(const struct sl_field *f, int16_t v, const uint8_t *p)
{
    switch (f->type) {
    case SL_FT_BOOL: {
        bool b;
        memcpy(&b, p, sizeof(b));
        return b == (f->def_int != 0);
    }
    case SL_FT_INT8: {
        int8_t x;
        memcpy(&x, p, sizeof(x));
        return x == (int8_t)f->def_int;
    }
    case SL_FT_INT16: {
        int16_t x;
        memcpy(&x, p, sizeof(x));
        return x == (int16_t)f->def_int;
    }
    case SL_FT_INT32: {
        int32_t x;
        memcpy(&x, p, sizeof(x));
        return x == (int32_t)f->def_int;
    }
    case SL_FT_INT64: {
        int64_t x;
        memcpy(&x, p, sizeof(x));
        return x == f->def_int;
    }
    case SL_FT_UINT16: {
        uint16_t x;
        memcpy(&x, p, sizeof(x));
        return x == (uint16_t)f->def_int;
    }
    case SL_FT_UINT32: {
        uint32_t x;
        memcpy(&x, p, sizeof(x));
        return x == (uint32_t)f->def_int;
    }
    case SL_FT_FLOAT64: {
        double x;
        memcpy(&x, p, sizeof(x));
        return memcmp(&x, &f->def_f64, sizeof(x)) == 0;
    }
    case SL_FT_UUID: {
        sl_uuid_t u;
        memcpy(&u, p, sizeof(u));
        return sl_uuid_is_zero(&u);
    }
    case SL_FT_STRING: {
        sl_str_t s;
        memcpy(&s, p, sizeof(s));
        if (f->def_null)
            return s.len < 0;
        return s.len >= 0 && sl_str_eq(s, sl_str_c(f->def_str ? f->def_str : ""));
    }
    case SL_FT_BYTES: {
        sl_bytes_t b;
        memcpy(&b, p, sizeof(b));
        return f->def_null ? b.len < 0 : b.len == 0;
    }
    case SL_FT_RECORDS: {
        sl_records_t rec;
        memcpy(&rec, p, sizeof(rec));
        return rec.len < 0 && rec.ext == NULL;
    }
    case SL_FT_STRUCT:
        return struct_is_default(f->sub, v, p);
    case SL_FT_ARRAY: {
        const struct sl_array *a = carr_at(p);
        return f->def_null ? a->n < 0 : a->n == 0;
    }
    default:
        return true;
    }
}

static bool struct_is_default(const struct sl_msgdesc *d, int16_t v, const uint8_t *in)
{
    for (uint16_t i = 0; i < d->nfields; i++) {
        const struct sl_field *f = &d->fields[i];
        if (present(f, v) && !is_default(f, v, in + f->off))
            return false;
    }
    return true;
}

static void put_len(struct sl_wbuf *w, bool flex, bool wide, int32_t n)
{
    /* n == -1 is null: compact 0, classic -1. */
    if (flex)
        sl_wbuf_put_uvarint(w, (uint64_t)((int64_t)n + 1));
    else if (wide)
        sl_wbuf_put_i32(w, n);
    else
        sl_wbuf_put_i16(w, (int16_t)n);
}

static void put_str(struct sl_wbuf *w, sl_str_t s, bool nullable, bool flex)
{
    if (s.len < 0) {
        if (nullable) {
            put_len(w, flex, false, -1);
            return;
        }
        s.len = 0; /* null where not allowed: send "" */
    }
    int32_t n = s.len > 0x7fff ? 0x7fff : s.len;
    put_len(w, flex, false, n);
    if (n > 0)
        sl_wbuf_put(w, s.p, (size_t)n);
}

static void put_bytes(struct sl_wbuf *w, const uint8_t *p, int32_t len, bool nullable, bool flex)
{
    if (len < 0) {
        if (nullable) {
            put_len(w, flex, true, -1);
            return;
        }
        len = 0;
    }
    put_len(w, flex, true, len);
    if (len > 0)
        sl_wbuf_put(w, p, (size_t)len);
}

static void put_records(struct sl_wbuf *w, const sl_records_t *rec, bool nullable, bool flex)
{
    if (!rec->ext) {
        put_bytes(w, rec->p, rec->len, nullable, flex);
        return;
    }
    uint64_t total = 0;
    for (const struct sl_records_ext *e = rec->ext; e; e = e->next)
        total += e->len;
    if (total > (uint64_t)INT32_MAX - 1) {
        fprintf(stderr, "sl_codec_encode: records chain of %llu bytes\n",
                (unsigned long long)total);
        abort();
    }
    put_len(w, flex, true, (int32_t)total);
    /* Take next before handing e over: its release may free it. */
    for (struct sl_records_ext *e = rec->ext, *next; e; e = next) {
        next = e->next;
        if (e->fd >= 0)
            sl_wbuf_add_file(w, e->fd, e->off, e->len, e->release, e->arg);
        else
            sl_wbuf_add_mem(w, e->mem, e->len, e->release, e->arg);
    }
}

static void encode_value(uint8_t type, const struct sl_msgdesc *sub, bool nullable, int16_t v,
                         bool flex, const uint8_t *p, struct sl_wbuf *w)
{
    switch (type) {
    case SL_FT_BOOL: {
        bool b;
        memcpy(&b, p, sizeof(b));
        sl_wbuf_put_i8(w, b ? 1 : 0);
        break;
    }
    case SL_FT_INT8: {
        int8_t x;
        memcpy(&x, p, sizeof(x));
        sl_wbuf_put_i8(w, x);
        break;
    }
    case SL_FT_INT16: {
        int16_t x;
        memcpy(&x, p, sizeof(x));
        sl_wbuf_put_i16(w, x);
        break;
    }
    case SL_FT_INT32: {
        int32_t x;
        memcpy(&x, p, sizeof(x));
        sl_wbuf_put_i32(w, x);
        break;
    }
    case SL_FT_INT64: {
        int64_t x;
        memcpy(&x, p, sizeof(x));
        sl_wbuf_put_i64(w, x);
        break;
    }
    case SL_FT_UINT16: {
        uint16_t x;
        memcpy(&x, p, sizeof(x));
        sl_wbuf_put_i16(w, (int16_t)x);
        break;
    }
    case SL_FT_UINT32: {
        uint32_t x;
        memcpy(&x, p, sizeof(x));
        sl_wbuf_put_i32(w, (int32_t)x);
        break;
    }
    case SL_FT_FLOAT64: {
        int64_t x;
        memcpy(&x, p, sizeof(x)); /* the IEEE-754 bits, big-endian on the wire */
        sl_wbuf_put_i64(w, x);
        break;
    }
    case SL_FT_UUID:
        sl_wbuf_put(w, p, sizeof(sl_uuid_t));
        break;
    case SL_FT_STRING: {
        sl_str_t s;
        memcpy(&s, p, sizeof(s));
        put_str(w, s, nullable, flex);
        break;
    }
    case SL_FT_BYTES: {
        sl_bytes_t b;
        memcpy(&b, p, sizeof(b));
        put_bytes(w, b.p, b.len, nullable, flex);
        break;
    }
    case SL_FT_RECORDS: {
        sl_records_t rec;
        memcpy(&rec, p, sizeof(rec));
        put_records(w, &rec, nullable, flex);
        break;
    }
    case SL_FT_STRUCT:
        encode_struct(sub, v, flex, p, w);
        break;
    default:
        break;
    }
}

static void encode_field(const struct sl_field *f, int16_t v, bool flex, const uint8_t *in,
                         struct sl_wbuf *w)
{
    const uint8_t *p = in + f->off;
    if (f->type != SL_FT_ARRAY) {
        encode_value(f->type, f->sub, nullable_at(f, v), v, flex, p, w);
        return;
    }
    const struct sl_array *arr = carr_at(p);
    int32_t n = arr->n;
    if (n < 0 && !nullable_at(f, v))
        n = 0; /* null where not allowed: send an empty array */
    if (n > 0 && !arr->a)
        n = 0; /* defensive: a count without elements */
    put_len(w, flex, true, n < 0 ? -1 : n);
    const uint8_t *elems = arr->a;
    for (int32_t i = 0; i < n; i++)
        encode_value(f->elem, f->sub, false, v, flex, elems + (size_t)i * f->elem_size, w);
}

/* Inserts the uvarint v at position pos of w's memory, shifting what
 * follows. Only used for tagged-field sizes, which never hold extents. */
static void insert_uvarint(struct sl_wbuf *w, size_t pos, uint64_t v)
{
    uint8_t tmp[10];
    size_t k = 0;
    while (v >= 0x80) {
        tmp[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[k++] = (uint8_t)v;
    size_t tail = w->len - pos;
    (void)sl_wbuf_reserve(w, k);
    memmove(w->data + pos + k, w->data + pos, tail);
    memcpy(w->data + pos, tmp, k);
}

static void encode_struct(const struct sl_msgdesc *d, int16_t v, bool flex, const uint8_t *in,
                          struct sl_wbuf *w)
{
    for (uint16_t i = 0; i < d->nfields; i++) {
        const struct sl_field *f = &d->fields[i];
        if (f->tag < 0 && present(f, v))
            encode_field(f, v, flex, in, w);
    }
    if (!flex)
        return;
    uint32_t count = 0;
    for (uint16_t i = 0; i < d->ntagged; i++) {
        const struct sl_field *f = &d->fields[d->tagged[i]];
        if (present(f, v) && !is_default(f, v, in + f->off))
            count++;
    }
    sl_wbuf_put_uvarint(w, count);
    /* d->tagged is sorted by tag: Kafka wants ascending tags. */
    for (uint16_t i = 0; i < d->ntagged && count; i++) {
        const struct sl_field *f = &d->fields[d->tagged[i]];
        if (!present(f, v) || is_default(f, v, in + f->off))
            continue;
        sl_wbuf_put_uvarint(w, (uint32_t)f->tag);
        size_t pos = w->len;
        int next_before = w->next;
        encode_field(f, v, true, in, w);
        if (w->next != next_before) {
            /* The generator refuses records inside tagged fields. */
            fprintf(stderr, "sl_codec_encode: extent inside tagged field %s\n", f->name);
            abort();
        }
        insert_uvarint(w, pos, w->len - pos);
    }
}

void sl_codec_encode(const struct sl_msgdesc *d, int16_t version, const void *in,
                     struct sl_wbuf *w)
{
    encode_struct(d, version, sl_codec_flexible(d, version), in, w);
}

/* ------------------------------------------------------------------------
 * Headers
 * ------------------------------------------------------------------------ */

bool sl_codec_request_flexible(int16_t api_key, int16_t api_version)
{
    /* ApiVersions: flexible from v3, open-ended, so that a client probing
     * with a version newer than ours is still parsed (KIP-511). */
    if (api_key == SL_API_API_VERSIONS)
        return api_version >= 3;
    const struct sl_api_info *info = sl_api_lookup(api_key);
    return info && info->flex_min >= 0 && api_version >= info->flex_min;
}

int sl_codec_decode_request_header(struct sl_reader *r, struct sl_request_header *h)
{
    memset(h, 0, sizeof(*h));
    h->api_key = sl_rd_i16(r);
    h->api_version = sl_rd_i16(r);
    h->correlation_id = sl_rd_i32(r);
    /* ClientId keeps the int16 length even in header v2. */
    sl_str_t cid = sl_rd_str16(r, true);
    h->client_id = cid.len < 0 ? SL_STR_EMPTY : cid;
    if (r->err)
        return SL_ERR__MALFORMED;
    h->flexible = sl_codec_request_flexible(h->api_key, h->api_version);
    if (h->flexible)
        sl_rd_skip_tags(r);
    return r->err ? SL_ERR__MALFORMED : 0;
}

void sl_codec_encode_response_header(struct sl_wbuf *w, int16_t api_key, int16_t api_version,
                                     int32_t correlation_id)
{
    sl_wbuf_put_i32(w, correlation_id);
    if (api_key != SL_API_API_VERSIONS && sl_codec_request_flexible(api_key, api_version))
        sl_wbuf_put_i8(w, 0); /* empty tag block of response header v1 */
}

void sl_codec_encode_request_header(struct sl_wbuf *w, int16_t api_key, int16_t api_version,
                                    int32_t correlation_id, sl_str_t client_id)
{
    size_t n = client_id.len > 0 ? (size_t)client_id.len : 0;
    if (n > INT16_MAX)
        n = INT16_MAX;
    sl_wbuf_put_i16(w, api_key);
    sl_wbuf_put_i16(w, api_version);
    sl_wbuf_put_i32(w, correlation_id);
    /* ClientId keeps the int16 length even in header v2. */
    sl_wbuf_put_i16(w, (int16_t)n);
    if (n)
        sl_wbuf_put(w, client_id.p, n);
    if (sl_codec_request_flexible(api_key, api_version))
        sl_wbuf_put_i8(w, 0); /* empty tag block of request header v2 */
}

int sl_codec_decode_response_header(struct sl_reader *r, int16_t api_key, int16_t api_version,
                                    int32_t *correlation_id)
{
    *correlation_id = sl_rd_i32(r);
    if (api_key != SL_API_API_VERSIONS && sl_codec_request_flexible(api_key, api_version))
        sl_rd_skip_tags(r);
    return r->err ? SL_ERR__MALFORMED : 0;
}
