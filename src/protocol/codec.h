/* SPDX-License-Identifier: Apache-2.0
 *
 * The table-driven Kafka protocol codec.
 *
 * Every Kafka message Sluice speaks is described once in the schemas/ folder;
 * tools/gen_protocol.py turns each message into a C struct and a constant
 * descriptor (struct sl_msgdesc, a table of struct sl_field rows) under
 * src/protocol/gen/. One decoder and one encoder in codec.c walk those tables,
 * so no handler and no generated function ever branches on a version for
 * layout. The same code decodes requests in the broker and responses in the
 * client. docs/design/codec.md describes the DSL, the C representation and
 * the rules below at length.
 *
 * This header also holds the bounds-checked reader (struct sl_reader) that
 * the header, record-batch and SASL code use for their own parsing: its
 * error is sticky, so a parser may read a whole structure and check r->err
 * once at the end.
 *
 * What is left out: request framing (the 4-byte size prefix belongs to the
 * framer), record batch contents (opaque bytes here), and unknown tagged
 * fields (skipped on decode, never re-emitted).
 */
#ifndef SL_PROTOCOL_CODEC_H
#define SL_PROTOCOL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/bytes.h"
#include "sluice/err.h"

struct sl_arena;
struct sl_wbuf;

/* ------------------------------------------------------------------------
 * Records
 * ------------------------------------------------------------------------ */

/* One piece of an outgoing records field: a file region (fd >= 0, bytes
 * [off, off+len)) or borrowed memory (fd == -1, mem[0..len)). release(arg),
 * if set, runs exactly once after the bytes have left (or the connection
 * closed): the encoder hands this duty to the wbuf. */
struct sl_records_ext {
    struct sl_records_ext *next;
    int fd; /* -1: memory */
    int64_t off;
    const uint8_t *mem;
    size_t len;
    void (*release)(void *);
    void *arg;
};

/* A RECORDS field (concatenated record batches, opaque to the codec).
 * Decoded: p/len point into the input buffer (no copy), ext is NULL; len -1
 * (p NULL) is null. Encoded: if ext is non-NULL, the chain is sent (see
 * sl_codec_encode) and p/len are ignored; otherwise p[0..len) is copied. */
typedef struct sl_records {
    const uint8_t *p;
    int32_t len; /* -1 = null */
    struct sl_records_ext *ext;
} sl_records_t;

/* ------------------------------------------------------------------------
 * Descriptor tables (written by tools/gen_protocol.py, read by codec.c)
 * ------------------------------------------------------------------------ */

enum sl_ftype {
    SL_FT_BOOL = 0, /* bool */
    SL_FT_INT8,     /* int8_t */
    SL_FT_INT16,    /* int16_t */
    SL_FT_INT32,    /* int32_t */
    SL_FT_INT64,    /* int64_t */
    SL_FT_UINT16,   /* uint16_t */
    SL_FT_UINT32,   /* uint32_t */
    SL_FT_FLOAT64,  /* double */
    SL_FT_UUID,     /* sl_uuid_t */
    SL_FT_STRING,   /* sl_str_t */
    SL_FT_BYTES,    /* sl_bytes_t */
    SL_FT_RECORDS,  /* sl_records_t */
    SL_FT_STRUCT,   /* nested struct, embedded by value (sub) */
    SL_FT_ARRAY,    /* struct { int32_t n; T *a; }, element type in elem */
    SL_FT__MAX
};

/* The largest version number: "N+" in a schema means [N, SL_VERSION_MAX]. */
#define SL_VERSION_MAX 0x7fff

/* The layout every generated array member shares: the generator emits a
 * static assertion per array field that its anonymous struct matches. */
struct sl_array {
    int32_t n; /* element count; -1 = null array */
    void *a;   /* n elements (arena memory when decoded) */
};

/* Compile-time check, emitted by the generator for every array member f of
 * struct type S, that its anonymous struct has the layout of sl_array. */
#define SL_CODEC_CHECK_ARRAY(S, f)                                                                 \
    _Static_assert(offsetof(S, f.a) - offsetof(S, f) == offsetof(struct sl_array, a) &&            \
                       sizeof(((S *)0)->f) == sizeof(struct sl_array),                             \
                   #S "." #f " does not match struct sl_array")

struct sl_msgdesc;

/* One field of a message or nested struct. A field is on the wire in
 * versions [vmin, vmax] (for a tagged field: its tagged versions); it may be
 * null in [nmin, nmax] (nmin == -1: never). */
struct sl_field {
    const char *name;              /* schema name, for diagnostics and tests */
    uint8_t type;                  /* enum sl_ftype */
    uint8_t elem;                  /* element type of an SL_FT_ARRAY */
    uint32_t off;                  /* offsetof the member in the C struct */
    uint32_t elem_size;            /* sizeof one array element */
    int16_t vmin, vmax;            /* present in these versions */
    int16_t nmin, nmax;            /* nullable in these versions; -1 none */
    int32_t tag;                   /* tag number; -1 = not tagged */
    bool def_null;                 /* string/bytes/array default is null */
    int64_t def_int;               /* default of bool and integer fields */
    double def_f64;                /* default of float64 fields */
    const char *def_str;           /* default of string fields (NUL-terminated) */
    const struct sl_msgdesc *sub;  /* STRUCT, or ARRAY of STRUCT */
};

/* A message or a nested struct. Nested structs carry their message's
 * version range and flexible minimum, so any descriptor can be walked on
 * its own. */
struct sl_msgdesc {
    const char *name;             /* C struct name, e.g. "ProduceRequest" */
    int16_t api_key;              /* -1 for nested structs */
    int16_t min_version, max_version;
    int16_t flex_min;             /* first flexible version; -1 never */
    uint32_t size;                /* sizeof the C struct */
    uint16_t nfields;
    uint16_t ntagged;
    const struct sl_field *fields;  /* schema (= wire) order */
    const uint16_t *tagged;         /* indexes of tagged fields, by tag */
};

/* True if version v of a message is a flexible version. */
static inline bool sl_codec_flexible(const struct sl_msgdesc *d, int16_t v)
{
    return d->flex_min >= 0 && v >= d->flex_min;
}

/* ------------------------------------------------------------------------
 * Reader: bounds-checked, big-endian, sticky error
 * ------------------------------------------------------------------------ */

/* A read cursor over [p, end). The first violation sets err to
 * SL_ERR__MALFORMED and p to end; every later read returns 0 (or an empty
 * view) without moving. A reader never owns its memory. */
struct sl_reader {
    const uint8_t *p, *end;
    int err; /* 0 or SL_ERR__MALFORMED */
};

/* Starts a reader over buf[0..len) (borrowed; buf may be NULL if len is 0). */
static inline void sl_rd_init(struct sl_reader *r, const void *buf, size_t len)
{
    /* Never do arithmetic on a null pointer, even + 0. */
    r->p = buf ? (const uint8_t *)buf : (const uint8_t *)"";
    r->end = r->p + (buf ? len : 0);
    r->err = 0;
}

/* Marks the reader failed (sticky); returns SL_ERR__MALFORMED. */
static inline int sl_rd_fail(struct sl_reader *r)
{
    r->err = SL_ERR__MALFORMED;
    r->p = r->end;
    return SL_ERR__MALFORMED;
}

/* Bytes not yet read (0 after an error). */
static inline size_t sl_rd_left(const struct sl_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Returns a pointer to the next n bytes and skips them, or NULL (and fails
 * the reader) if fewer than n are left. The pointer borrows the input. */
static inline const uint8_t *sl_rd_raw(struct sl_reader *r, size_t n)
{
    if (r->err || sl_rd_left(r) < n) {
        sl_rd_fail(r);
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

/* Skips n bytes (fails the reader if fewer are left). */
static inline void sl_rd_skip(struct sl_reader *r, size_t n)
{
    (void)sl_rd_raw(r, n);
}

/* Fixed-width big-endian reads; 0 on error. */
static inline int8_t sl_rd_i8(struct sl_reader *r)
{
    const uint8_t *q = sl_rd_raw(r, 1);
    return q ? (int8_t)q[0] : 0;
}
static inline bool sl_rd_bool(struct sl_reader *r) /* any non-zero byte is true */
{
    return sl_rd_i8(r) != 0;
}
static inline uint16_t sl_rd_u16(struct sl_reader *r)
{
    const uint8_t *q = sl_rd_raw(r, 2);
    return q ? sl_be16(q) : 0;
}
static inline int16_t sl_rd_i16(struct sl_reader *r)
{
    return (int16_t)sl_rd_u16(r);
}
static inline uint32_t sl_rd_u32(struct sl_reader *r)
{
    const uint8_t *q = sl_rd_raw(r, 4);
    return q ? sl_be32(q) : 0;
}
static inline int32_t sl_rd_i32(struct sl_reader *r)
{
    return (int32_t)sl_rd_u32(r);
}
static inline int64_t sl_rd_i64(struct sl_reader *r)
{
    const uint8_t *q = sl_rd_raw(r, 8);
    return q ? (int64_t)sl_be64(q) : 0;
}
static inline double sl_rd_f64(struct sl_reader *r)
{
    uint64_t u = (uint64_t)sl_rd_i64(r);
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}
/* Reads a 16-byte UUID into *u (zero on error). */
static inline void sl_rd_uuid(struct sl_reader *r, sl_uuid_t *u)
{
    const uint8_t *q = sl_rd_raw(r, 16);
    if (q)
        memcpy(u->b, q, 16);
    else
        memset(u->b, 0, 16);
}

/* Unsigned base-128 varint of at most 5 bytes whose value fits 32 bits
 * (Kafka's UNSIGNED_VARINT). A longer or truncated encoding fails. */
uint32_t sl_rd_uvarint(struct sl_reader *r);

/* Unsigned base-128 varint of at most 10 bytes (64-bit value). */
uint64_t sl_rd_uvarlong(struct sl_reader *r);

/* Zig-zag VARINT (32-bit, at most 5 bytes), as used inside record batches. */
int32_t sl_rd_varint(struct sl_reader *r);

/* Zig-zag VARLONG (64-bit, at most 10 bytes), as used inside record batches. */
int64_t sl_rd_varlong(struct sl_reader *r);

/* STRING / NULLABLE_STRING with an int16 length (-1 = null). The view
 * borrows the input. Fails on a length below -1, a length past the end, or a
 * null when !nullable. */
sl_str_t sl_rd_str16(struct sl_reader *r, bool nullable);

/* COMPACT_STRING / COMPACT_NULLABLE_STRING (uvarint length+1, 0 = null).
 * Lengths above 32767 fail, as in Kafka. */
sl_str_t sl_rd_compact_str(struct sl_reader *r, bool nullable);

/* BYTES / NULLABLE_BYTES with an int32 length (-1 = null). Borrows. */
sl_bytes_t sl_rd_bytes32(struct sl_reader *r, bool nullable);

/* COMPACT_BYTES / COMPACT_NULLABLE_BYTES (uvarint length+1, 0 = null). */
sl_bytes_t sl_rd_compact_bytes(struct sl_reader *r, bool nullable);

/* Skips a whole TAGGED_FIELDS block (count, then tag/size/payload each). */
void sl_rd_skip_tags(struct sl_reader *r);

/* ------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------ */

/* Fills *out (d->size bytes, caller memory) with every field's default:
 * integers and bools their schema default (0/false unless default=),
 * strings "" or null, bytes empty, arrays empty (n 0) or null, uuids zero,
 * records null, nested structs recursively. Use it on a response before the
 * handler sets fields. Never fails; allocates nothing. */
void sl_codec_init(const struct sl_msgdesc *d, void *out);

/* Decodes the body of message d at `version` from r into *out (d->size
 * bytes, caller memory; fully overwritten). Fields absent at that version,
 * or tagged fields not sent, get their defaults. Strings, bytes and records
 * point into the input buffer, which must outlive *out; arrays are
 * allocated from arena a (zeroed, freed with the arena). Unknown tags, and
 * known tags outside their tagged versions, are skipped. Bytes left after
 * the body are NOT an error (Kafka ignores them too): the caller can check
 * sl_rd_left(r) if it cares.
 *
 * Checks, each giving SL_ERR__MALFORMED (and failing r): a version outside
 * [d->min_version, d->max_version] (checked first), truncation, a
 * negative length other than -1, null where the version does not allow it,
 * an array count larger than the bytes left could hold (checked before the
 * arena allocation), a varint longer than its type, a tagged field running
 * past its declared size. Nesting depth is bounded by the schema.
 *
 * Returns 0 or SL_ERR__MALFORMED. Thread-safe (no shared state). */
int sl_codec_decode(const struct sl_msgdesc *d, int16_t version, struct sl_reader *r,
                    struct sl_arena *a, void *out);

/* Encodes *in (borrowed) as the body of message d at `version`, appending to
 * w: compact forms in flexible versions, an (often empty) tagged-field block
 * at the end of every struct in flexible versions, tagged fields written in
 * ascending tag order and only when they differ from their default. Fields
 * absent at that version are not written.
 *
 * Records fields with a non-NULL ext chain are sent as extents: the length
 * written is the sum of the chain's lengths and each piece is appended with
 * sl_wbuf_add_file/add_mem, handing its release duty to w (the caller must
 * not release those pieces again, nor encode the same chain twice; pieces of
 * fields not written at this version stay with the caller).
 *
 * `version` must lie in [d->min_version, d->max_version]; outside it the
 * output follows the field ranges (well-formed memory use, meaningless
 * bytes). Values the wire cannot carry are clamped rather than corrupting
 * the frame:
 * a string longer than 32767 bytes is cut to 32767; null where the version
 * does not allow null is written as empty. Aborts only on a records chain
 * longer than INT32_MAX - 1 bytes (a programming error). */
void sl_codec_encode(const struct sl_msgdesc *d, int16_t version, const void *in,
                     struct sl_wbuf *w);

/* ------------------------------------------------------------------------
 * Headers (hand-written: see schemas/headers.sch for why)
 * ------------------------------------------------------------------------ */

struct sl_request_header {
    int16_t api_key, api_version;
    int32_t correlation_id;
    sl_str_t client_id; /* never null: a null client id reads as "" */
    bool flexible;      /* header v2 was read (body is flexible too) */
};

/* Decodes a request header from r (the frame after its size prefix):
 * api_key, api_version, correlation_id, then client_id as an int16-length
 * nullable string (even in header v2), then, for header v2, the tagged
 * field block (skipped). Header v2 is chosen iff the API is known
 * (sl_api_lookup) and api_version >= its first flexible version; for
 * ApiVersions v3+ always (so a too-new ApiVersions still parses); an unknown
 * API key is read as v1. The version is not checked against the supported
 * range: that is the dispatcher's call. client_id borrows the input.
 * Returns 0 or SL_ERR__MALFORMED. */
int sl_codec_decode_request_header(struct sl_reader *r, struct sl_request_header *h);

/* True if a request for (api_key, api_version) uses the flexible header v2
 * and a flexible body (same rule as sl_codec_decode_request_header). */
bool sl_codec_request_flexible(int16_t api_key, int16_t api_version);

/* Appends the response header for a response to (api_key, api_version):
 * v1 (correlation id + empty tag block) when that response is flexible, v0
 * (correlation id) otherwise, and always v0 for ApiVersions (KIP-511). */
void sl_codec_encode_response_header(struct sl_wbuf *w, int16_t api_key, int16_t api_version,
                                     int32_t correlation_id);


/* Client side (the `sluice` CLI, tests): appends a request header for
 * (api_key, api_version): v2 (with an empty tag block) when that request
 * is flexible (sl_codec_request_flexible), v1 otherwise; client_id is
 * written as an int16-length string in both (borrowed). */
void sl_codec_encode_request_header(struct sl_wbuf *w, int16_t api_key, int16_t api_version,
                                    int32_t correlation_id, sl_str_t client_id);

/* Client side: reads the response header of a response to (api_key,
 * api_version) from r: the correlation id, then, for a flexible response
 * other than ApiVersions, the tag block (skipped). Returns 0 or
 * SL_ERR__MALFORMED. */
int sl_codec_decode_response_header(struct sl_reader *r, int16_t api_key, int16_t api_version,
                                    int32_t *correlation_id);

#endif
