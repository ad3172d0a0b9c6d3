/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the protocol codec (src/protocol/codec.c) and of the tables
 * generated from the schemas/ folder.
 *
 * - Round trips: for every message descriptor of every API, at every version
 *   of its range, structs filled with pseudo-random values (driven by the
 *   descriptor tables: fields outside the version stay at their defaults,
 *   null only where the version allows it, random tagged fields) are
 *   encoded, decoded into a fresh arena (which must consume exactly the
 *   encoded bytes) and encoded again: both encodings must be equal.
 * - Golden vectors: the ApiVersions v0 UNSUPPORTED_VERSION reply of
 *   PROTOCOL.md 1.5, a flexible request header v2 with its int16 client id,
 *   compact strings/arrays/tag blocks.
 * - Hostile input: over-long array counts, bad string lengths, truncated and
 *   over-long varints, bad tagged fields: SL_ERR__MALFORMED, no crash.
 *
 * With SL_CODEC_CORPUS_DIR set, the test also writes seed inputs for
 * fuzz/fuzz_request.c (one framed request per file, without the size
 * prefix) into that directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/wbuf.h"
#include "protocol/codec.h"
#include "protocol/gen/apis.h"
#include "test_help.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, good enough to pick test values. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void hexdump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "  %s (%zu bytes):", what, n);
    for (size_t i = 0; i < n && i < 256; i++)
        fprintf(stderr, "%s%02x", i % 32 ? " " : "\n    ", p[i]);
    fprintf(stderr, "%s\n", n > 256 ? " ..." : "");
}

static bool bytes_eq(const struct sl_wbuf *w, const uint8_t *want, size_t n)
{
    if (w->len == n && (n == 0 || memcmp(w->data, want, n) == 0))
        return true;
    hexdump("got", w->data, w->len);
    hexdump("want", want, n);
    return false;
}

static bool present_at(const struct sl_field *f, int16_t v)
{
    return v >= f->vmin && v <= f->vmax;
}

static bool nullable_at(const struct sl_field *f, int16_t v)
{
    return f->nmin >= 0 && v >= f->nmin && v <= f->nmax;
}

/* ------------------------------------------------------------------------
 * Random fill, driven by the descriptor tables
 * ------------------------------------------------------------------------ */

static void fill_struct(const struct sl_msgdesc *d, int16_t v, int depth, struct sl_arena *a,
                        uint8_t *out);

static void fill_value(uint8_t type, const struct sl_msgdesc *sub, bool nullable, int16_t v,
                       int depth, struct sl_arena *a, uint8_t *p)
{
    uint64_t x = rnd();
    switch (type) {
    case SL_FT_BOOL: {
        bool b = x & 1;
        memcpy(p, &b, sizeof(b));
        break;
    }
    case SL_FT_INT8:
        memcpy(p, &x, 1);
        break;
    case SL_FT_INT16:
    case SL_FT_UINT16:
        memcpy(p, &x, 2);
        break;
    case SL_FT_INT32:
    case SL_FT_UINT32:
        memcpy(p, &x, 4);
        break;
    case SL_FT_INT64:
        memcpy(p, &x, 8);
        break;
    case SL_FT_FLOAT64: {
        double dv = (double)(int32_t)x / 8.0;
        memcpy(p, &dv, sizeof(dv));
        break;
    }
    case SL_FT_UUID: {
        uint64_t y = rnd();
        memcpy(p, &x, 8);
        memcpy(p + 8, &y, 8);
        break;
    }
    case SL_FT_STRING: {
        sl_str_t s = SL_STR_NULL;
        if (!nullable || x % 4 != 0) {
            int32_t n = (int32_t)((x >> 8) % 13);
            char *c = sl_arena_alloc(a, (size_t)n + 1);
            for (int32_t i = 0; i < n; i++)
                c[i] = (char)('a' + rnd() % 26);
            s = (sl_str_t){c, n};
        }
        memcpy(p, &s, sizeof(s));
        break;
    }
    case SL_FT_BYTES:
    case SL_FT_RECORDS: {
        const uint8_t *bp = NULL;
        int32_t n = -1;
        if (!nullable || x % 4 != 0) {
            n = (int32_t)((x >> 8) % (type == SL_FT_RECORDS ? 41 : 13));
            uint8_t *b = sl_arena_alloc(a, (size_t)n + 1);
            for (int32_t i = 0; i < n; i++)
                b[i] = (uint8_t)rnd();
            bp = b;
        }
        if (type == SL_FT_BYTES) {
            sl_bytes_t b = {bp, n};
            memcpy(p, &b, sizeof(b));
        } else {
            sl_records_t rec = {bp, n, NULL};
            memcpy(p, &rec, sizeof(rec));
        }
        break;
    }
    case SL_FT_STRUCT:
        fill_struct(sub, v, depth + 1, a, p);
        break;
    default:
        break;
    }
}

static void fill_field(const struct sl_field *f, int16_t v, int depth, struct sl_arena *a,
                       uint8_t *out)
{
    uint8_t *p = out + f->off;
    if (f->type != SL_FT_ARRAY) {
        fill_value(f->type, f->sub, nullable_at(f, v), v, depth, a, p);
        return;
    }
    struct sl_array arr = {0, NULL};
    uint64_t x = rnd();
    if (nullable_at(f, v) && x % 5 == 0) {
        arr.n = -1;
    } else {
        arr.n = (int32_t)((x >> 8) % (depth < 3 ? 4 : 2));
        if (arr.n > 0) {
            uint8_t *e = sl_arena_alloc(a, (size_t)arr.n * f->elem_size);
            for (int32_t i = 0; i < arr.n; i++) {
                uint8_t *ep = e + (size_t)i * f->elem_size;
                if (f->elem == SL_FT_STRUCT)
                    fill_struct(f->sub, v, depth + 1, a, ep);
                else
                    fill_value(f->elem, NULL, false, v, depth + 1, a, ep);
            }
            arr.a = e;
        }
    }
    memcpy(p, &arr, sizeof(arr));
}

static void fill_struct(const struct sl_msgdesc *d, int16_t v, int depth, struct sl_arena *a,
                        uint8_t *out)
{
    sl_codec_init(d, out);
    for (uint16_t i = 0; i < d->nfields; i++) {
        const struct sl_field *f = &d->fields[i];
        if (!present_at(f, v))
            continue;
        if (f->tag >= 0 && rnd() % 2)
            continue; /* tagged fields: sometimes left at their default */
        fill_field(f, v, depth, a, out);
    }
}

/* ------------------------------------------------------------------------
 * Round trips
 * ------------------------------------------------------------------------ */

static int fill_count, roundtrip_count;

/* One random round trip; returns 0 or 1 (and prints why). */
static int roundtrip_one(const struct sl_msgdesc *d, int16_t v)
{
    struct sl_arena a1, a2;
    struct sl_wbuf w1, w2;
    sl_arena_init(&a1);
    sl_arena_init(&a2);
    sl_wbuf_init(&w1);
    sl_wbuf_init(&w2);
    int bad = 0;

    void *s1 = sl_arena_alloc(&a1, d->size);
    fill_struct(d, v, 0, &a1, s1);
    fill_count++;
    sl_codec_encode(d, v, s1, &w1);

    void *s2 = sl_arena_alloc(&a2, d->size);
    struct sl_reader r;
    sl_rd_init(&r, w1.data, w1.len);
    int rc = sl_codec_decode(d, v, &r, &a2, s2);
    if (rc != 0 || sl_rd_left(&r) != 0) {
        fprintf(stderr, "  %s v%d: decode rc=%d, %zu bytes left\n", d->name, v, rc, sl_rd_left(&r));
        hexdump("encoded", w1.data, w1.len);
        bad = 1;
    } else {
        sl_codec_encode(d, v, s2, &w2);
        if (w1.len != w2.len || (w1.len && memcmp(w1.data, w2.data, w1.len) != 0)) {
            fprintf(stderr, "  %s v%d: re-encoding differs\n", d->name, v);
            hexdump("first", w1.data, w1.len);
            hexdump("second", w2.data, w2.len);
            bad = 1;
        }
    }
    roundtrip_count++;
    sl_wbuf_destroy(&w1);
    sl_wbuf_destroy(&w2);
    sl_arena_destroy(&a1);
    sl_arena_destroy(&a2);
    return bad;
}

static void test_roundtrip_all_messages(void)
{
    int failures = 0;
    for (size_t i = 0; i < SL_API_COUNT; i++) {
        const struct sl_api_info *api = &sl_api_table[i];
        const struct sl_msgdesc *ds[2] = {api->request, api->response};
        for (int k = 0; k < 2; k++) {
            for (int16_t v = api->min_version; v <= api->max_version; v++) {
                for (int it = 0; it < 100; it++)
                    failures += roundtrip_one(ds[k], v);
            }
        }
    }
    fprintf(stderr, "  %d round trips over %d APIs\n", roundtrip_count, SL_API_COUNT);
    CHECK_EQ_INT(failures, 0);
}

/* A default-initialised struct also round-trips at every version. */
static void test_roundtrip_defaults(void)
{
    for (size_t i = 0; i < SL_API_COUNT; i++) {
        const struct sl_api_info *api = &sl_api_table[i];
        const struct sl_msgdesc *ds[2] = {api->request, api->response};
        for (int k = 0; k < 2; k++) {
            for (int16_t v = api->min_version; v <= api->max_version; v++) {
                struct sl_arena a;
                struct sl_wbuf w1, w2;
                sl_arena_init(&a);
                sl_wbuf_init(&w1);
                sl_wbuf_init(&w2);
                void *s = sl_arena_alloc(&a, ds[k]->size);
                sl_codec_init(ds[k], s);
                sl_codec_encode(ds[k], v, s, &w1);
                struct sl_reader r;
                sl_rd_init(&r, w1.data, w1.len);
                int rc = sl_codec_decode(ds[k], v, &r, &a, s);
                sl_codec_encode(ds[k], v, s, &w2);
                bool same = w1.len == w2.len && (w1.len == 0 || memcmp(w1.data, w2.data, w1.len) == 0);
                size_t left = sl_rd_left(&r);
                sl_wbuf_destroy(&w1);
                sl_wbuf_destroy(&w2);
                sl_arena_destroy(&a);
                if (rc != 0 || left != 0 || !same)
                    fprintf(stderr, "  %s v%d\n", ds[k]->name, v);
                CHECK_EQ_INT(rc, 0);
                CHECK_EQ_INT(left, 0);
                CHECK(same);
            }
        }
    }
}

/* ------------------------------------------------------------------------
 * Table sanity
 * ------------------------------------------------------------------------ */

static int check_desc(const struct sl_msgdesc *d, const struct sl_msgdesc *msg)
{
    int bad = 0;
    if (d->min_version != msg->min_version || d->max_version != msg->max_version ||
        d->flex_min != msg->flex_min) {
        fprintf(stderr, "  %s: version range differs from its message\n", d->name);
        bad++;
    }
    int32_t last_tag = -1;
    for (uint16_t i = 0; i < d->ntagged; i++) {
        const struct sl_field *f = &d->fields[d->tagged[i]];
        if (f->tag <= last_tag) {
            fprintf(stderr, "  %s: tags not strictly ascending\n", d->name);
            bad++;
        }
        last_tag = f->tag;
        if (d->flex_min < 0 || f->vmin < d->flex_min) {
            fprintf(stderr, "  %s.%s: tagged outside flexible versions\n", d->name, f->name);
            bad++;
        }
    }
    for (uint16_t i = 0; i < d->nfields; i++) {
        const struct sl_field *f = &d->fields[i];
        if (f->off >= d->size || f->vmin > f->vmax || f->type >= SL_FT__MAX) {
            fprintf(stderr, "  %s.%s: bad row\n", d->name, f->name);
            bad++;
        }
        if ((f->type == SL_FT_STRUCT || (f->type == SL_FT_ARRAY && f->elem == SL_FT_STRUCT)) &&
            !f->sub) {
            fprintf(stderr, "  %s.%s: struct without descriptor\n", d->name, f->name);
            bad++;
        }
        if (f->sub)
            bad += check_desc(f->sub, msg);
    }
    return bad;
}

static void test_tables(void)
{
    int16_t last = -1;
    for (size_t i = 0; i < SL_API_COUNT; i++) {
        const struct sl_api_info *api = &sl_api_table[i];
        CHECK(api->key > last); /* sorted by key */
        last = api->key;
        CHECK(sl_api_lookup(api->key) == api);
        CHECK_EQ_INT(api->request->api_key, api->key);
        CHECK_EQ_INT(api->response->api_key, api->key);
        CHECK_EQ_INT(api->request->min_version, api->min_version);
        CHECK_EQ_INT(api->response->max_version, api->max_version);
        CHECK_EQ_INT(api->request->flex_min, api->flex_min);
        CHECK_EQ_INT(check_desc(api->request, api->request), 0);
        CHECK_EQ_INT(check_desc(api->response, api->response), 0);
    }
    CHECK(sl_api_lookup(-1) == NULL);
    CHECK(sl_api_lookup(4) == NULL);   /* LeaderAndIsr: not ours */
    CHECK(sl_api_lookup(999) == NULL);
    CHECK(sl_api_lookup(SL_API_API_VERSIONS)->request == &sl_desc_ApiVersionsRequest);
    CHECK_EQ_INT(SL_API_PRODUCE, 0);
    CHECK_EQ_INT(SL_API_API_VERSIONS, 18);
    CHECK_EQ_INT(SL_API_DESCRIBE_USER_SCRAM_CREDENTIALS, 50);
    CHECK_EQ_INT(SL_API_COUNT, 34);
    const struct sl_api_info *p = sl_api_lookup(SL_API_PRODUCE);
    CHECK(p && strcmp(p->name, "Produce") == 0);
    CHECK_EQ_INT(p->min_version, 0);
    CHECK_EQ_INT(p->max_version, 11);
    CHECK_EQ_INT(p->flex_min, 9);
    CHECK_EQ_INT(sl_api_lookup(SL_API_SASL_HANDSHAKE)->flex_min, -1);
    CHECK_EQ_INT(sl_api_lookup(SL_API_DESCRIBE_CLUSTER)->flex_min, 0);
}

static void test_defaults(void)
{
    struct MetadataResponse m;
    sl_codec_init(&sl_desc_MetadataResponse, &m);
    CHECK_EQ_INT(m.controller_id, -1);
    CHECK(sl_str_is_null(m.cluster_id));
    CHECK_EQ_INT(m.cluster_authorized_operations, INT32_MIN);
    CHECK_EQ_INT(m.topics.n, 0);
    CHECK(m.topics.a == NULL);

    struct FetchRequest f;
    sl_codec_init(&sl_desc_FetchRequest, &f);
    CHECK_EQ_INT(f.max_bytes, 0x7fffffff);
    CHECK_EQ_INT(f.replica_id, -1);
    CHECK_EQ_INT(f.session_epoch, -1);
    CHECK(sl_str_is_null(f.cluster_id));
    CHECK(f.rack_id.len == 0 && f.rack_id.p != NULL);

    struct FetchResponse_PartitionData pd;
    sl_codec_init(&sl_desc_FetchResponse_PartitionData, &pd);
    CHECK_EQ_INT(pd.records.len, -1);
    CHECK(pd.records.ext == NULL);
    CHECK_EQ_INT(pd.current_leader.leader_id, -1);
    CHECK_EQ_INT(pd.snapshot_id.end_offset, -1);
    CHECK_EQ_INT(pd.preferred_read_replica, -1);

    struct MetadataRequest mr;
    sl_codec_init(&sl_desc_MetadataRequest, &mr);
    CHECK(mr.allow_auto_topic_creation == true);

    struct ApiVersionsResponse av;
    sl_codec_init(&sl_desc_ApiVersionsResponse, &av);
    CHECK_EQ_INT(av.finalized_features_epoch, -1);
    CHECK(av.zk_migration_ready == false);

    struct DescribeAclsRequest da;
    sl_codec_init(&sl_desc_DescribeAclsRequest, &da);
    CHECK_EQ_INT(da.pattern_type_filter, 3);

    struct CreateTopicsRequest ct;
    sl_codec_init(&sl_desc_CreateTopicsRequest, &ct);
    CHECK_EQ_INT(ct.timeout_ms, 60000);

    struct OffsetForLeaderEpochRequest oe;
    sl_codec_init(&sl_desc_OffsetForLeaderEpochRequest, &oe);
    CHECK_EQ_INT(oe.replica_id, -2);
}

/* ------------------------------------------------------------------------
 * Golden vectors
 * ------------------------------------------------------------------------ */

/* PROTOCOL.md 1.5: the v0 reply to a too-new ApiVersions request. */
static void test_golden_api_versions_unsupported(void)
{
    static const uint8_t want[] = {
        0x00, 0x00, 0x00, 0x10,             /* size prefix: 16 */
        0x00, 0x00, 0x00, 0x07,             /* correlation_id = 7 (header v0) */
        0x00, 0x23,                         /* error_code = 35 */
        0x00, 0x00, 0x00, 0x01,             /* api_keys count = 1 (int32) */
        0x00, 0x12, 0x00, 0x00, 0x00, 0x04, /* {18, 0, 4} */
    };
    struct ApiVersionsResponse_ApiVersion key = {.api_key = 18, .min_version = 0, .max_version = 4};
    struct ApiVersionsResponse resp;
    sl_codec_init(&sl_desc_ApiVersionsResponse, &resp);
    resp.error_code = SL_ERR_UNSUPPORTED_VERSION;
    resp.api_keys.n = 1;
    resp.api_keys.a = &key;
    resp.throttle_time_ms = 100; /* not in v0: must not appear */

    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_wbuf_put_i32(&w, 0); /* size placeholder */
    /* Header for the client's version (here v9): still v0 for ApiVersions. */
    sl_codec_encode_response_header(&w, SL_API_API_VERSIONS, 9, 7);
    sl_codec_encode(&sl_desc_ApiVersionsResponse, 0, &resp, &w);
    sl_put_be32(w.data, (uint32_t)(w.len - 4));
    bool ok = bytes_eq(&w, want, sizeof(want));
    sl_wbuf_destroy(&w);
    CHECK(ok);
}

/* ApiVersions v3 request: header v2 with an int16 client id and a tag
 * block, then a compact body. */
static void test_golden_api_versions_v3_request(void)
{
    static const uint8_t frame[] = {
        0x00, 0x12,                               /* api_key 18 */
        0x00, 0x03,                               /* api_version 3 */
        0x00, 0x00, 0x00, 0x2a,                   /* correlation_id 42 */
        0x00, 0x04, 't', 'e', 's', 't',           /* client_id: int16 length */
        0x01, 0x05, 0x02, 0xaa, 0xbb,             /* header tags: one unknown tag 5 */
        0x07, 's', 'l', 'u', 'i', 'c', 'e',       /* ClientSoftwareName (compact) */
        0x04, '1', '.', '0',                      /* ClientSoftwareVersion */
        0x00,                                     /* body tag block */
    };
    struct sl_reader r;
    struct sl_request_header h;
    sl_rd_init(&r, frame, sizeof(frame));
    CHECK_EQ_INT(sl_codec_decode_request_header(&r, &h), 0);
    CHECK_EQ_INT(h.api_key, 18);
    CHECK_EQ_INT(h.api_version, 3);
    CHECK_EQ_INT(h.correlation_id, 42);
    CHECK(h.flexible);
    CHECK(sl_str_eq_c(h.client_id, "test"));
    CHECK_EQ_INT(sl_rd_left(&r), 12);

    struct sl_arena a;
    sl_arena_init(&a);
    struct ApiVersionsRequest req;
    int rc = sl_codec_decode(&sl_desc_ApiVersionsRequest, 3, &r, &a, &req);
    sl_arena_destroy(&a);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(sl_rd_left(&r), 0);
    CHECK(sl_str_eq_c(req.client_software_name, "sluice"));
    CHECK(sl_str_eq_c(req.client_software_version, "1.0"));

    /* Re-encoding gives the same body. */
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_codec_encode(&sl_desc_ApiVersionsRequest, 3, &req, &w);
    bool ok = bytes_eq(&w, frame + 19, sizeof(frame) - 19);
    sl_wbuf_destroy(&w);
    CHECK(ok);
}

static void test_request_header_variants(void)
{
    struct sl_reader r;
    struct sl_request_header h;

    /* Too-new ApiVersions (v9): still header v2. */
    static const uint8_t av9[] = {0x00, 0x12, 0x00, 0x09, 0, 0, 0, 1, 0xff, 0xff, 0x00};
    sl_rd_init(&r, av9, sizeof(av9));
    CHECK_EQ_INT(sl_codec_decode_request_header(&r, &h), 0);
    CHECK(h.flexible);
    CHECK(h.client_id.len == 0 && h.client_id.p != NULL); /* null reads as "" */
    CHECK_EQ_INT(sl_rd_left(&r), 0);

    /* Metadata v8: header v1, no tag block is read. */
    static const uint8_t md8[] = {0x00, 0x03, 0x00, 0x08, 0, 0, 0, 2, 0x00, 0x01, 'x', 0x00};
    sl_rd_init(&r, md8, sizeof(md8));
    CHECK_EQ_INT(sl_codec_decode_request_header(&r, &h), 0);
    CHECK(!h.flexible);
    CHECK(sl_str_eq_c(h.client_id, "x"));
    CHECK_EQ_INT(sl_rd_left(&r), 1);

    /* Metadata v9: header v2. */
    static const uint8_t md9[] = {0x00, 0x03, 0x00, 0x09, 0, 0, 0, 2, 0x00, 0x00, 0x00};
    sl_rd_init(&r, md9, sizeof(md9));
    CHECK_EQ_INT(sl_codec_decode_request_header(&r, &h), 0);
    CHECK(h.flexible);
    CHECK_EQ_INT(sl_rd_left(&r), 0);

    /* Unknown API key 999 at a high version: read as header v1. */
    static const uint8_t unk[] = {0x03, 0xe7, 0x00, 0x20, 0, 0, 0, 3, 0x00, 0x00, 0x42};
    sl_rd_init(&r, unk, sizeof(unk));
    CHECK_EQ_INT(sl_codec_decode_request_header(&r, &h), 0);
    CHECK(!h.flexible);
    CHECK_EQ_INT(sl_rd_left(&r), 1);

    /* SaslHandshake is never flexible. */
    CHECK(!sl_codec_request_flexible(SL_API_SASL_HANDSHAKE, 1));
    CHECK(sl_codec_request_flexible(SL_API_DESCRIBE_CLUSTER, 0));

    /* Client id length -2, and a truncated header. */
    static const uint8_t bad1[] = {0x00, 0x03, 0x00, 0x01, 0, 0, 0, 2, 0xff, 0xfe};
    sl_rd_init(&r, bad1, sizeof(bad1));
    CHECK_EQ_INT(sl_codec_decode_request_header(&r, &h), SL_ERR__MALFORMED);
    sl_rd_init(&r, bad1, 5);
    CHECK_EQ_INT(sl_codec_decode_request_header(&r, &h), SL_ERR__MALFORMED);
    /* Header tag block running past the end. */
    static const uint8_t bad2[] = {0x00, 0x03, 0x00, 0x09, 0, 0, 0, 2, 0x00, 0x00, 0x01, 0x00, 0x09};
    sl_rd_init(&r, bad2, sizeof(bad2));
    CHECK_EQ_INT(sl_codec_decode_request_header(&r, &h), SL_ERR__MALFORMED);
}

static void test_response_header(void)
{
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_codec_encode_response_header(&w, SL_API_METADATA, 9, 5); /* v1 */
    static const uint8_t v1[] = {0, 0, 0, 5, 0};
    bool ok1 = bytes_eq(&w, v1, sizeof(v1));
    sl_wbuf_clear(&w);
    sl_codec_encode_response_header(&w, SL_API_METADATA, 8, 5); /* v0 */
    bool ok2 = bytes_eq(&w, v1, 4);
    sl_wbuf_clear(&w);
    sl_codec_encode_response_header(&w, SL_API_API_VERSIONS, 4, 5); /* always v0 */
    bool ok3 = bytes_eq(&w, v1, 4);
    sl_wbuf_destroy(&w);
    CHECK(ok1);
    CHECK(ok2);
    CHECK(ok3);
}

/* Compact strings, compact arrays and tag blocks, byte for byte. */
static void test_golden_compact(void)
{
    struct ApiVersionsResponse_ApiVersion key = {.api_key = 18, .min_version = 0, .max_version = 4};
    struct ApiVersionsResponse_SupportedFeatureKey feat = {
        .name = SL_STR_LIT("a"), .min_version = 1, .max_version = 2};
    struct ApiVersionsResponse resp;
    sl_codec_init(&sl_desc_ApiVersionsResponse, &resp);
    resp.api_keys.n = 1;
    resp.api_keys.a = &key;
    resp.finalized_features_epoch = 5;
    resp.supported_features.n = 1;
    resp.supported_features.a = &feat;

    static const uint8_t want[] = {
        0x00, 0x00,                                     /* error_code */
        0x02,                                           /* api_keys: compact count 1+1 */
        0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00,       /* {18,0,4} + empty tag block */
        0x00, 0x00, 0x00, 0x00,                         /* throttle_time_ms */
        0x02,                                           /* two tagged fields */
        0x00, 0x08,                                     /* tag 0, 8 bytes */
        0x02, 0x02, 'a', 0x00, 0x01, 0x00, 0x02, 0x00,  /* [{"a",1,2}] */
        0x01, 0x08,                                     /* tag 1, 8 bytes */
        0, 0, 0, 0, 0, 0, 0, 5,                         /* epoch 5 */
    };
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_codec_encode(&sl_desc_ApiVersionsResponse, 3, &resp, &w);
    bool ok = bytes_eq(&w, want, sizeof(want));
    sl_wbuf_destroy(&w);
    CHECK(ok);

    /* Decode it back, and also with the two tags swapped. */
    uint8_t swapped[sizeof(want)];
    memcpy(swapped, want, 15);
    memcpy(swapped + 15, want + 25, 10); /* tag 1 first */
    memcpy(swapped + 25, want + 15, 10); /* then tag 0 */
    const uint8_t *inputs[2] = {want, swapped};
    for (int k = 0; k < 2; k++) {
        struct sl_arena a;
        sl_arena_init(&a);
        struct sl_reader r;
        struct ApiVersionsResponse d;
        sl_rd_init(&r, inputs[k], sizeof(want));
        int rc = sl_codec_decode(&sl_desc_ApiVersionsResponse, 3, &r, &a, &d);
        bool good = rc == 0 && sl_rd_left(&r) == 0 && d.finalized_features_epoch == 5 &&
                    d.supported_features.n == 1 && d.supported_features.a[0].max_version == 2 &&
                    sl_str_eq_c(d.supported_features.a[0].name, "a") && d.api_keys.n == 1 &&
                    d.api_keys.a[0].max_version == 4 && d.finalized_features.n == 0;
        sl_arena_destroy(&a);
        CHECK(good);
    }

    /* An empty flexible body is the single tag-block byte. */
    struct ListGroupsRequest lg;
    sl_codec_init(&sl_desc_ListGroupsRequest, &lg);
    sl_wbuf_init(&w);
    sl_codec_encode(&sl_desc_ListGroupsRequest, 3, &lg, &w);
    static const uint8_t zero[] = {0x00};
    ok = bytes_eq(&w, zero, 1);
    sl_wbuf_clear(&w);
    /* Classic v0: nothing at all. */
    sl_codec_encode(&sl_desc_ListGroupsRequest, 0, &lg, &w);
    CHECK_EQ_INT(w.len, 0);
    sl_wbuf_destroy(&w);
    CHECK(ok);
}

/* Nullable vs non-nullable, compact null, absent-field defaults. */
static void test_nulls_and_versions(void)
{
    struct sl_wbuf w;
    struct sl_arena a;
    sl_wbuf_init(&w);
    sl_arena_init(&a);

    /* MetadataRequest v1: null topics array = all topics. */
    struct MetadataRequest mr;
    sl_codec_init(&sl_desc_MetadataRequest, &mr);
    mr.topics.n = -1;
    sl_codec_encode(&sl_desc_MetadataRequest, 1, &mr, &w);
    static const uint8_t v1null[] = {0xff, 0xff, 0xff, 0xff};
    bool ok1 = bytes_eq(&w, v1null, 4);
    sl_wbuf_clear(&w);
    /* v0 does not allow null: an empty array goes out. */
    sl_codec_encode(&sl_desc_MetadataRequest, 0, &mr, &w);
    static const uint8_t v0empty[] = {0, 0, 0, 0};
    bool ok2 = bytes_eq(&w, v0empty, 4);
    sl_wbuf_clear(&w);
    /* v9: compact null array, then AllowAutoTopicCreation, the two
     * authorized-operations flags, and the tag block. */
    sl_codec_encode(&sl_desc_MetadataRequest, 9, &mr, &w);
    static const uint8_t v9null[] = {0x00, 0x01, 0x00, 0x00, 0x00};
    bool ok3 = bytes_eq(&w, v9null, sizeof(v9null));
    sl_wbuf_clear(&w);
    CHECK(ok1);
    CHECK(ok2);
    CHECK(ok3);

    /* Decoding a null array where v0 forbids it is malformed. */
    struct sl_reader r;
    sl_rd_init(&r, v1null, 4);
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 0, &r, &a, &mr), SL_ERR__MALFORMED);
    sl_rd_init(&r, v1null, 4);
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 1, &r, &a, &mr), 0);
    CHECK_EQ_INT(mr.topics.n, -1);
    CHECK(mr.allow_auto_topic_creation); /* absent in v1: default true */

    /* A null topic name where the version forbids it (Produce v3). */
    static const uint8_t prod[] = {
        0xff, 0xff,             /* transactional_id: null (allowed v3+) */
        0x00, 0x01,             /* acks */
        0x00, 0x00, 0x03, 0xe8, /* timeout */
        0x00, 0x00, 0x00, 0x01, /* one topic */
        0xff, 0xff,             /* name: null, not allowed */
        0x00, 0x00, 0x00, 0x00,
    };
    struct ProduceRequest pr;
    sl_rd_init(&r, prod, sizeof(prod));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_ProduceRequest, 3, &r, &a, &pr), SL_ERR__MALFORMED);
    /* Same bytes with a real name decode; records null is allowed. */
    static const uint8_t prod_ok[] = {
        0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x01, 't',        /* name "t" */
        0x00, 0x00, 0x00, 0x01, /* one partition */
        0x00, 0x00, 0x00, 0x02, /* index 2 */
        0xff, 0xff, 0xff, 0xff, /* records null */
    };
    sl_rd_init(&r, prod_ok, sizeof(prod_ok));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_ProduceRequest, 3, &r, &a, &pr), 0);
    CHECK(sl_str_is_null(pr.transactional_id));
    CHECK_EQ_INT(pr.topic_data.n, 1);
    CHECK_EQ_INT(pr.topic_data.a[0].partition_data.a[0].index, 2);
    CHECK_EQ_INT(pr.topic_data.a[0].partition_data.a[0].records.len, -1);
    /* Produce v2 has no transactional id: the same prefix now misparses. */
    sl_rd_init(&r, prod_ok + 2, sizeof(prod_ok) - 2);
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_ProduceRequest, 2, &r, &a, &pr), 0);
    CHECK(sl_str_is_null(pr.transactional_id)); /* default null */

    /* A non-nullable string left null by a handler goes out as "". */
    struct HeartbeatRequest hb;
    sl_codec_init(&sl_desc_HeartbeatRequest, &hb);
    hb.group_id = SL_STR_NULL;
    sl_codec_encode(&sl_desc_HeartbeatRequest, 4, &hb, &w);
    static const uint8_t hb4[] = {0x01, 0, 0, 0, 0, 0x01, 0x00, 0x00};
    bool ok4 = bytes_eq(&w, hb4, sizeof(hb4));
    sl_wbuf_clear(&w);
    CHECK(ok4);

    /* Trailing bytes after the body are accepted and left unread. */
    static const uint8_t hbx[] = {0x01, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0xde, 0xad};
    sl_rd_init(&r, hbx, sizeof(hbx));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_HeartbeatRequest, 4, &r, &a, &hb), 0);
    CHECK_EQ_INT(sl_rd_left(&r), 2);
    CHECK(sl_str_is_null(hb.group_instance_id));

    /* Over-long strings are clamped to 32767 bytes. */
    size_t big = 40000;
    char *s = sl_arena_alloc(&a, big);
    memset(s, 'x', big);
    hb.group_id = (sl_str_t){s, (int32_t)big};
    sl_codec_encode(&sl_desc_HeartbeatRequest, 0, &hb, &w);
    CHECK_EQ_INT(sl_be16(w.data), 0x7fff);
    CHECK_EQ_INT(w.len, 2 + 0x7fff + 4 + 2);

    sl_wbuf_destroy(&w);
    sl_arena_destroy(&a);
}

/* A known tag outside its tagged versions is skipped; unknown tags too. */
static void test_tag_tolerance(void)
{
    struct sl_arena a;
    sl_arena_init(&a);
    struct sl_reader r;
    /* ProduceResponse v9 (flexible), NodeEndpoints is tag 0 only from v10. */
    static const uint8_t pr9[] = {
        0x01,                   /* responses: empty compact array */
        0x00, 0x00, 0x00, 0x00, /* throttle */
        0x02,                   /* two tags */
        0x00, 0x03, 0x02, 0x00, 0x00, /* tag 0 (NodeEndpoints, v10+): skipped at v9 */
        0x09, 0x01, 0x77,       /* tag 9: unknown, skipped */
    };
    struct ProduceResponse resp;
    sl_rd_init(&r, pr9, sizeof(pr9));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_ProduceResponse, 9, &r, &a, &resp), 0);
    CHECK_EQ_INT(resp.node_endpoints.n, 0);
    CHECK_EQ_INT(sl_rd_left(&r), 0);
    /* At v10 the same tag 0 is decoded (and here malformed: element truncated). */
    sl_rd_init(&r, pr9, sizeof(pr9));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_ProduceResponse, 10, &r, &a, &resp), SL_ERR__MALFORMED);

    /* A tagged field whose payload runs past its declared size. */
    static const uint8_t av[] = {
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x01, 0x04, 0, 0, 0, 0, /* tag 1 (int64) with only 4 bytes */
    };
    struct ApiVersionsResponse avr;
    sl_rd_init(&r, av, sizeof(av));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_ApiVersionsResponse, 3, &r, &a, &avr), SL_ERR__MALFORMED);
    /* A tag size past the end of the input. */
    static const uint8_t av2[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x40, 0};
    sl_rd_init(&r, av2, sizeof(av2));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_ApiVersionsResponse, 3, &r, &a, &avr), SL_ERR__MALFORMED);
    sl_arena_destroy(&a);
}

/* ------------------------------------------------------------------------
 * Hostile input
 * ------------------------------------------------------------------------ */

static void test_malformed(void)
{
    struct sl_arena a;
    sl_arena_init(&a);
    struct sl_reader r;
    struct MetadataRequest mr;

    /* Array count far beyond the bytes left: refused before allocating. */
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x00};
    sl_rd_init(&r, huge, sizeof(huge));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 1, &r, &a, &mr), SL_ERR__MALFORMED);
    CHECK(sl_arena_used(&a) == 0);
    /* Compact count 2^32-2. */
    static const uint8_t huge_c[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    sl_rd_init(&r, huge_c, sizeof(huge_c));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 9, &r, &a, &mr), SL_ERR__MALFORMED);
    CHECK(sl_arena_used(&a) == 0);
    /* Count 2 with room for one element only (each topic takes >= 2 bytes in v1). */
    static const uint8_t two[] = {0, 0, 0, 2, 0x00, 0x00, 0x00};
    sl_rd_init(&r, two, sizeof(two));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 1, &r, &a, &mr), SL_ERR__MALFORMED);
    /* Negative count other than -1. */
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
    sl_rd_init(&r, neg, sizeof(neg));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 1, &r, &a, &mr), SL_ERR__MALFORMED);

    /* Negative string length other than -1 where not nullable. */
    static const uint8_t badstr[] = {0x00, 0x00, 0x00, 0x01, 0xff, 0xfe};
    sl_rd_init(&r, badstr, sizeof(badstr));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 1, &r, &a, &mr), SL_ERR__MALFORMED);
    /* -1 where not nullable (topic name before v10). */
    static const uint8_t nullname[] = {0x00, 0x00, 0x00, 0x01, 0xff, 0xff};
    sl_rd_init(&r, nullname, sizeof(nullname));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 1, &r, &a, &mr), SL_ERR__MALFORMED);
    /* String length past the end. */
    static const uint8_t longstr[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 'a'};
    sl_rd_init(&r, longstr, sizeof(longstr));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 1, &r, &a, &mr), SL_ERR__MALFORMED);
    /* Negative bytes length (SaslAuthenticate v0 AuthBytes, not nullable). */
    static const uint8_t negbytes[] = {0xff, 0xff, 0xff, 0xf0};
    struct SaslAuthenticateRequest sa;
    sl_rd_init(&r, negbytes, sizeof(negbytes));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_SaslAuthenticateRequest, 0, &r, &a, &sa), SL_ERR__MALFORMED);
    /* Compact string longer than 32767. */
    static const uint8_t cstr[] = {0x02, 0x81, 0x80, 0x02, 'a'};
    sl_rd_init(&r, cstr, sizeof(cstr));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 9, &r, &a, &mr), SL_ERR__MALFORMED);

    /* Truncated varint (continuation bit, then the end). */
    static const uint8_t trunc[] = {0x80};
    sl_rd_init(&r, trunc, sizeof(trunc));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 9, &r, &a, &mr), SL_ERR__MALFORMED);
    /* Six-byte varint. */
    static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00};
    sl_rd_init(&r, six, sizeof(six));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_MetadataRequest, 9, &r, &a, &mr), SL_ERR__MALFORMED);
    /* Truncated fixed-width body. */
    static const uint8_t short_hb[] = {0x00, 0x00, 0x00};
    struct HeartbeatRequest hb;
    sl_rd_init(&r, short_hb, sizeof(short_hb));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_HeartbeatRequest, 0, &r, &a, &hb), SL_ERR__MALFORMED);
    /* Empty input where a body is expected. */
    sl_rd_init(&r, NULL, 0);
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_HeartbeatRequest, 4, &r, &a, &hb), SL_ERR__MALFORMED);
    /* A version outside the message's range. */
    static const uint8_t hb0[] = {0x00, 0x00, 0, 0, 0, 0, 0x00, 0x00};
    sl_rd_init(&r, hb0, sizeof(hb0));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_HeartbeatRequest, 5, &r, &a, &hb), SL_ERR__MALFORMED);
    sl_rd_init(&r, hb0, sizeof(hb0));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_HeartbeatRequest, -1, &r, &a, &hb), SL_ERR__MALFORMED);
    sl_rd_init(&r, hb0, sizeof(hb0));
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_HeartbeatRequest, 0, &r, &a, &hb), 0);
    /* A reader that already failed. */
    sl_rd_init(&r, huge, sizeof(huge));
    sl_rd_fail(&r);
    CHECK_EQ_INT(sl_codec_decode(&sl_desc_ListGroupsRequest, 0, &r, &a, &hb), SL_ERR__MALFORMED);
    sl_arena_destroy(&a);
}

static void test_reader(void)
{
    struct sl_reader r;
    static const uint8_t max5[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    sl_rd_init(&r, max5, sizeof(max5));
    CHECK(sl_rd_uvarint(&r) == 0xffffffffu && !r.err);
    static const uint8_t over5[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    sl_rd_init(&r, over5, sizeof(over5));
    CHECK(sl_rd_uvarint(&r) == 0 && r.err == SL_ERR__MALFORMED);
    static const uint8_t zz[] = {0x01, 0x02, 0x7f, 0xfe, 0xff, 0xff, 0xff, 0x0f};
    sl_rd_init(&r, zz, sizeof(zz));
    CHECK_EQ_INT(sl_rd_varint(&r), -1);
    CHECK_EQ_INT(sl_rd_varint(&r), 1);
    CHECK_EQ_INT(sl_rd_varint(&r), -64);
    CHECK_EQ_INT(sl_rd_varint(&r), INT32_MAX);
    CHECK(!r.err);
    static const uint8_t vl[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    sl_rd_init(&r, vl, sizeof(vl));
    CHECK(sl_rd_varlong(&r) == INT64_MIN && !r.err);
    static const uint8_t vl11[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    sl_rd_init(&r, vl11, sizeof(vl11));
    CHECK(sl_rd_uvarlong(&r) == 0 && r.err);

    /* Sticky: after the first violation every read yields 0. */
    static const uint8_t few[] = {0x12, 0x34, 0x56};
    sl_rd_init(&r, few, sizeof(few));
    CHECK_EQ_INT(sl_rd_i16(&r), 0x1234);
    CHECK_EQ_INT(sl_rd_i32(&r), 0);
    CHECK_EQ_INT(r.err, SL_ERR__MALFORMED);
    CHECK_EQ_INT(sl_rd_i8(&r), 0);
    CHECK_EQ_INT(sl_rd_left(&r), 0);
    CHECK(sl_rd_raw(&r, 0) == NULL);
    sl_str_t s = sl_rd_str16(&r, true);
    CHECK(s.len == 0);

    /* sl_rd_skip_tags. */
    static const uint8_t tags[] = {0x02, 0x00, 0x01, 0xaa, 0x05, 0x00, 0x99};
    sl_rd_init(&r, tags, sizeof(tags));
    sl_rd_skip_tags(&r);
    CHECK(!r.err);
    CHECK_EQ_INT(sl_rd_left(&r), 1);
}

/* ------------------------------------------------------------------------
 * Records extents
 * ------------------------------------------------------------------------ */

static int released;

static void count_release(void *arg)
{
    released += (int)(intptr_t)arg;
}

static void test_records_ext(void)
{
    static const uint8_t m1[] = {1, 2, 3}, m2[] = {4, 5, 6, 7, 8};
    for (int16_t v = 4; v <= 12; v += 8) {
        struct sl_records_ext e2 = {NULL, -1, 0, m2, sizeof(m2), count_release, (void *)10};
        struct sl_records_ext e1 = {&e2, -1, 0, m1, sizeof(m1), count_release, (void *)1};
        struct FetchResponse_PartitionData pd;
        sl_codec_init(&sl_desc_FetchResponse_PartitionData, &pd);
        pd.records = (sl_records_t){NULL, 0, &e1};
        struct FetchResponse_FetchableTopicResponse tr;
        sl_codec_init(&sl_desc_FetchResponse_FetchableTopicResponse, &tr);
        tr.topic = SL_STR_LIT("t");
        tr.partitions.n = 1;
        tr.partitions.a = &pd;
        struct FetchResponse fr;
        sl_codec_init(&sl_desc_FetchResponse, &fr);
        fr.responses.n = 1;
        fr.responses.a = &tr;

        released = 0;
        struct sl_wbuf w;
        sl_wbuf_init(&w);
        sl_codec_encode(&sl_desc_FetchResponse, v, &fr, &w);
        CHECK_EQ_INT(w.next, 2);
        CHECK_EQ_INT(w.ext_bytes, 8);
        CHECK_EQ_INT(released, 0);
        /* Both extents sit where the record bytes go: right after the length,
         * and (flexible) before the partition and topic tag blocks. */
        size_t at = w.ext[0].at;
        CHECK(w.ext[1].at == at);
        if (v < 12) {
            CHECK_EQ_INT(sl_be32(w.data + at - 4), 8);
            CHECK_EQ_INT(w.len, at);
        } else {
            CHECK_EQ_INT(w.data[at - 1], 9); /* compact length 8 + 1 */
            CHECK_EQ_INT(w.len, at + 3);     /* partition, topic, body tag blocks */
        }
        sl_wbuf_destroy(&w);
        CHECK_EQ_INT(released, 11);
    }
}

/* ------------------------------------------------------------------------
 * Fuzz seed corpus (only with SL_CODEC_CORPUS_DIR set)
 * ------------------------------------------------------------------------ */

static int write_seed(const char *dir, const struct sl_api_info *api, int16_t v, int idx)
{
    struct sl_arena a;
    struct sl_wbuf w;
    sl_arena_init(&a);
    sl_wbuf_init(&w);
    sl_wbuf_put_i16(&w, api->key);
    sl_wbuf_put_i16(&w, v);
    sl_wbuf_put_i32(&w, 1000 + idx);
    sl_wbuf_put_i16(&w, 11);
    sl_wbuf_put(&w, "sluice-seed", 11);
    if (sl_codec_request_flexible(api->key, v))
        sl_wbuf_put_i8(&w, 0);
    void *s = sl_arena_alloc(&a, api->request->size);
    fill_struct(api->request, v, 1, &a, s);
    sl_codec_encode(api->request, v, s, &w);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s_v%d_%d", dir, api->name, v, idx);
    FILE *fp = fopen(path, "wb");
    int rc = -1;
    if (fp) {
        rc = fwrite(w.data, 1, w.len, fp) == w.len ? 0 : -1;
        if (fclose(fp) != 0)
            rc = -1;
    }
    if (rc)
        fprintf(stderr, "  cannot write %s: %s\n", path, strerror(errno));
    sl_wbuf_destroy(&w);
    sl_arena_destroy(&a);
    return rc;
}

static void test_write_corpus(void)
{
    const char *dir = getenv("SL_CODEC_CORPUS_DIR");
    if (!dir || !*dir)
        return;
    int n = 0;
    for (size_t i = 0; i < SL_API_COUNT; i++) {
        const struct sl_api_info *api = &sl_api_table[i];
        int16_t vs[3] = {api->min_version, api->max_version, api->flex_min};
        for (int k = 0; k < 3; k++) {
            if (vs[k] < api->min_version || (k == 2 && (vs[2] == vs[0] || vs[2] == vs[1])))
                continue;
            if (k == 1 && vs[1] == vs[0])
                continue;
            CHECK_EQ_INT(write_seed(dir, api, vs[k], n), 0);
            n++;
        }
    }
    fprintf(stderr, "  wrote %d seeds to %s\n", n, dir);
}

int main(void)
{
    const char *seed = getenv("SL_CODEC_SEED");
    if (seed && *seed)
        rng_state = strtoull(seed, NULL, 0) | 1;
    TEST_RUN(test_tables);
    TEST_RUN(test_defaults);
    TEST_RUN(test_reader);
    TEST_RUN(test_golden_api_versions_unsupported);
    TEST_RUN(test_golden_api_versions_v3_request);
    TEST_RUN(test_request_header_variants);
    TEST_RUN(test_response_header);
    TEST_RUN(test_golden_compact);
    TEST_RUN(test_nulls_and_versions);
    TEST_RUN(test_tag_tolerance);
    TEST_RUN(test_malformed);
    TEST_RUN(test_records_ext);
    TEST_RUN(test_roundtrip_defaults);
    TEST_RUN(test_roundtrip_all_messages);
    TEST_RUN(test_write_corpus);
    TEST_REPORT();
}
