/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the record batch v2 validator (src/storage/batch.c). A tiny
 * batch builder here writes real batches (zig-zag varint records with keys,
 * values and headers, CRC-32C); the tests check that valid batches pass and
 * that each kind of corruption yields Kafka's error code (PROTOCOL.md §3.6),
 * plus the CRC-32C check vector, the LogAppendTime rewrite and the record
 * iterator.
 */
#include <stdint.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crc32c.h"
#include "storage/batch.h"
#include "test_help.h"

/* ---- a tiny batch builder -------------------------------------------- */

struct tb_rec {
    int64_t ts_delta;
    const char *key; /* NULL: null key */
    const char *value;
    int nh;
    const char *hk[3];
    const char *hv[3]; /* NULL: null header value */
};

struct tb_opts {
    int16_t attributes;
    int64_t base_ts;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
};

static size_t put_uvarint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static size_t put_varint(uint8_t *p, int64_t v)
{
    return put_uvarint(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static size_t put_str(uint8_t *p, const char *s)
{
    if (!s)
        return put_varint(p, -1);
    size_t n = strlen(s);
    size_t k = put_varint(p, (int64_t)n);
    memcpy(p + k, s, n);
    return k + n;
}

static size_t encode_record(uint8_t *out, const struct tb_rec *r, int32_t off_delta)
{
    uint8_t body[4096];
    size_t b = 0;
    body[b++] = 0; /* attributes */
    b += put_varint(body + b, r->ts_delta);
    b += put_varint(body + b, off_delta);
    b += put_str(body + b, r->key);
    b += put_str(body + b, r->value);
    b += put_varint(body + b, r->nh);
    for (int i = 0; i < r->nh; i++) {
        b += put_str(body + b, r->hk[i]);
        b += put_str(body + b, r->hv[i]);
    }
    size_t k = put_varint(out, (int64_t)b);
    memcpy(out + k, body, b);
    return k + b;
}

static void default_opts(struct tb_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->base_ts = 1700000000000;
    o->producer_id = -1;
    o->producer_epoch = -1;
    o->base_sequence = -1;
}

static void fix_crc(uint8_t *p)
{
    uint32_t len = sl_be32(p + 8) + 12;
    sl_put_be32(p + 17, sl_crc32c(0, p + 21, len - 21));
}

/* Builds one batch of n records into out; returns its total size. */
static size_t build(uint8_t *out, const struct tb_opts *o, const struct tb_rec *recs, int n)
{
    size_t pos = SL_BATCH_HEADER_SIZE;
    int64_t max_ts = -1;
    for (int i = 0; i < n; i++) {
        pos += encode_record(out + pos, &recs[i], i);
        if (o->base_ts + recs[i].ts_delta > max_ts)
            max_ts = o->base_ts + recs[i].ts_delta;
    }
    sl_put_be64(out + 0, 0);
    sl_put_be32(out + 8, (uint32_t)(pos - 12));
    sl_put_be32(out + 12, (uint32_t)-1);
    out[16] = 2;
    sl_put_be16(out + 21, (uint16_t)o->attributes);
    sl_put_be32(out + 23, (uint32_t)(n - 1));
    sl_put_be64(out + 27, (uint64_t)o->base_ts);
    sl_put_be64(out + 35, (uint64_t)max_ts);
    sl_put_be64(out + 43, (uint64_t)o->producer_id);
    sl_put_be16(out + 51, (uint16_t)o->producer_epoch);
    sl_put_be32(out + 53, (uint32_t)o->base_sequence);
    sl_put_be32(out + 57, (uint32_t)n);
    fix_crc(out);
    return pos;
}

static const struct tb_rec sample[] = {
    {0, "k0", "value-0", 0, {0}, {0}},
    {5, NULL, "value-1 with a null key", 1, {"h"}, {"v"}},
    {9, "k2", NULL, 2, {"trace", "empty"}, {"abc", NULL}},
};

static size_t sample_batch(uint8_t *out)
{
    struct tb_opts o;
    default_opts(&o);
    return build(out, &o, sample, 3);
}

#define MAXB 1048588

/* ---- tests ------------------------------------------------------------ */

static void test_crc32c_vector(void)
{
    CHECK_EQ_INT(sl_crc32c(0, "123456789", 9), 0xE3069283u);
    /* Continuation gives the same result as one pass. */
    uint32_t c = sl_crc32c(0, "1234", 4);
    CHECK_EQ_INT(sl_crc32c(c, "56789", 5), 0xE3069283u);
}

static void test_valid_batches(void)
{
    uint8_t b[8192];
    size_t n = sample_batch(b);
    struct sl_batch_info info;
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);
    CHECK_EQ_INT(info.records_count, 3);
    CHECK_EQ_INT(info.last_offset_delta, 2);
    CHECK_EQ_INT(info.batch_len, (int64_t)n);
    CHECK_EQ_INT(info.magic, 2);
    CHECK_EQ_INT(info.max_timestamp, 1700000000009);
    CHECK_EQ_INT(info.compression, SL_COMPRESSION_NONE);
    CHECK(!info.transactional && !info.control);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_NONE);

    /* One record, empty key and value, no headers. */
    struct tb_rec one = {0, "", "", 0, {0}, {0}};
    struct tb_opts o;
    default_opts(&o);
    n = build(b, &o, &one, 1);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);

    /* Idempotent producer and transactional bit: accepted here. */
    o.producer_id = 42;
    o.producer_epoch = 0;
    o.base_sequence = 0;
    o.attributes = SL_BATCH_ATTR_TRANSACTIONAL;
    n = build(b, &o, sample, 3);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);
    CHECK(info.transactional);
    CHECK_EQ_INT(info.producer_id, 42);

    /* parse accepts trailing bytes (a following batch); produce does not. */
    n = sample_batch(b);
    memcpy(b + n, b, n);
    CHECK_EQ_INT(sl_batch_parse(b, 2 * n, &info), SL_ERR_NONE);
    CHECK_EQ_INT(sl_batch_validate_produce(b, 2 * n, MAXB, &info), SL_ERR_INVALID_RECORD);
}

static void test_many_records(void)
{
    static uint8_t b[1 << 20];
    struct tb_rec recs[500];
    char keys[500][16];
    for (int i = 0; i < 500; i++) {
        snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
        recs[i] = (struct tb_rec){i, keys[i], "some value bytes", i % 3, {"a", "b", "c"},
                                  {"1", NULL, "3"}};
    }
    struct tb_opts o;
    default_opts(&o);
    size_t n = build(b, &o, recs, 500);
    struct sl_batch_info info;
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);
    CHECK_EQ_INT(info.records_count, 500);

    /* The iterator sees the same records. */
    struct sl_record_iter it;
    struct sl_record rec;
    CHECK_EQ_INT(sl_record_iter_init(&it, b, n, &info), SL_ERR_NONE);
    int i = 0;
    while (sl_record_iter_next(&it, &rec)) {
        CHECK_EQ_INT(rec.offset_delta, i);
        CHECK_EQ_INT(rec.timestamp_delta, i);
        CHECK_EQ_INT(rec.key.len, (int64_t)strlen(keys[i]));
        CHECK(memcmp(rec.key.p, keys[i], (size_t)rec.key.len) == 0);
        CHECK_EQ_INT(rec.headers_count, i % 3);
        i++;
    }
    CHECK_EQ_INT(it.err, SL_ERR_NONE);
    CHECK_EQ_INT(i, 500);
}

static void test_header_errors(void)
{
    uint8_t b[8192];
    struct sl_batch_info info;
    size_t n;

    /* Too short to hold a batch. */
    n = sample_batch(b);
    CHECK_EQ_INT(sl_batch_validate_produce(b, 0, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_validate_produce(b, 11, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_validate_produce(NULL, 0, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_parse(b, 60, &info), SL_ERR_CORRUPT_MESSAGE);

    /* Truncated: the length field runs past the data. */
    CHECK_EQ_INT(sl_batch_validate_produce(b, n - 1, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_parse(b, n - 1, &info), SL_ERR_CORRUPT_MESSAGE);

    /* Length field smaller than a header. */
    n = sample_batch(b);
    sl_put_be32(b + 8, 48);
    CHECK_EQ_INT(sl_batch_validate_produce(b, 60, MAXB, &info), SL_ERR_CORRUPT_MESSAGE);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_CORRUPT_MESSAGE);
    sl_put_be32(b + 8, 0x80000000u); /* negative */
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_CORRUPT_MESSAGE);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_CORRUPT_MESSAGE);

    /* Length field larger than the batch (claims bytes that are not there). */
    n = sample_batch(b);
    sl_put_be32(b + 8, (uint32_t)(n - 12 + 5));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);

    /* Magic: the old formats are invalid records, an unknown one is corrupt. */
    n = sample_batch(b);
    b[16] = 1;
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_INVALID_RECORD);
    b[16] = 0;
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    b[16] = 3;
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_CORRUPT_MESSAGE);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_CORRUPT_MESSAGE);
    b[16] = 0xff;
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_CORRUPT_MESSAGE);

    /* CRC: flip a byte anywhere in the CRC-covered part. */
    n = sample_batch(b);
    for (size_t at = 21; at < n; at += 7) {
        b[at] ^= 0x40;
        CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_CORRUPT_MESSAGE);
        CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_CORRUPT_MESSAGE);
        b[at] ^= 0x40;
    }
    n = sample_batch(b);
    b[18] ^= 1; /* the CRC field itself */
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_CORRUPT_MESSAGE);

    /* Fields outside the CRC may change: leader epoch. */
    n = sample_batch(b);
    sl_put_be32(b + 12, 7);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);
    CHECK_EQ_INT(info.partition_leader_epoch, 7);

    /* Base offset must be 0 from a client (parse accepts any). */
    sl_put_be64(b, 5);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_NONE);
    CHECK_EQ_INT(info.base_offset, 5);

    /* Size limit: total bytes, prefix included. */
    n = sample_batch(b);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, (int32_t)n, &info), SL_ERR_NONE);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, (int32_t)n - 1, &info), SL_ERR_MESSAGE_TOO_LARGE);
}

/* Rewrites a header field inside the CRC and fixes the CRC, so that the
 * check under test is the one that fires. */
static void set16(uint8_t *b, size_t off, uint16_t v)
{
    sl_put_be16(b + off, v);
    fix_crc(b);
}
static void set32(uint8_t *b, size_t off, uint32_t v)
{
    sl_put_be32(b + off, v);
    fix_crc(b);
}
static void set64(uint8_t *b, size_t off, uint64_t v)
{
    sl_put_be64(b + off, v);
    fix_crc(b);
}

static void test_semantic_errors(void)
{
    uint8_t b[8192];
    struct sl_batch_info info;
    size_t n;

    /* last_offset_delta + 1 != count. */
    n = sample_batch(b);
    set32(b, SL_BATCH_OFF_LAST_OFFSET_DELTA, 3);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_INVALID_RECORD);
    /* count 0 (and delta -1 consistent with it). */
    n = sample_batch(b);
    sl_put_be32(b + SL_BATCH_OFF_RECORDS_COUNT, 0);
    set32(b, SL_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)-1);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* count larger than the records present. */
    n = sample_batch(b);
    sl_put_be32(b + SL_BATCH_OFF_RECORDS_COUNT, 4);
    set32(b, SL_BATCH_OFF_LAST_OFFSET_DELTA, 3);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* count smaller: bytes left over. */
    n = sample_batch(b);
    sl_put_be32(b + SL_BATCH_OFF_RECORDS_COUNT, 2);
    set32(b, SL_BATCH_OFF_LAST_OFFSET_DELTA, 1);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* huge count. */
    n = sample_batch(b);
    sl_put_be32(b + SL_BATCH_OFF_RECORDS_COUNT, 0x7fffffff);
    set32(b, SL_BATCH_OFF_LAST_OFFSET_DELTA, 0x7ffffffe);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);

    /* Control batch from a client. */
    n = sample_batch(b);
    set16(b, SL_BATCH_OFF_ATTRIBUTES, SL_BATCH_ATTR_CONTROL);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_NONE); /* stored ones are fine */
    CHECK(info.control);

    /* LogAppendTime set by the client. */
    n = sample_batch(b);
    set16(b, SL_BATCH_OFF_ATTRIBUTES, SL_BATCH_ATTR_LOG_APPEND_TIME);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_TIMESTAMP);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_NONE);

    /* Unused attribute bits. */
    n = sample_batch(b);
    set16(b, SL_BATCH_OFF_ATTRIBUTES, 0x0100);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_INVALID_RECORD);

    /* Compression codecs 5..7 are unknown. */
    for (uint16_t c = 5; c <= 7; c++) {
        n = sample_batch(b);
        set16(b, SL_BATCH_OFF_ATTRIBUTES, c);
        CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info),
                     SL_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    }

    /* Producer id set, base sequence unset. */
    n = sample_batch(b);
    set64(b, SL_BATCH_OFF_PRODUCER_ID, 9);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    set32(b, SL_BATCH_OFF_BASE_SEQUENCE, 0);
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);
}

static void test_compressed_header_only(void)
{
    /* A "compressed" batch whose payload is not records: header checks only. */
    uint8_t b[256];
    memset(b, 0xAB, sizeof(b));
    struct tb_opts o;
    default_opts(&o);
    for (uint16_t c = 1; c <= 4; c++) {
        sl_put_be64(b, 0);
        sl_put_be32(b + 8, (uint32_t)(100 - 12));
        sl_put_be32(b + 12, (uint32_t)-1);
        b[16] = 2;
        sl_put_be16(b + 21, c);
        sl_put_be32(b + 23, 9);
        sl_put_be64(b + 27, 1);
        sl_put_be64(b + 35, 2);
        sl_put_be64(b + 43, (uint64_t)-1);
        sl_put_be16(b + 51, (uint16_t)-1);
        sl_put_be32(b + 53, (uint32_t)-1);
        sl_put_be32(b + 57, 10); /* 10 records claimed in 39 compressed bytes */
        fix_crc(b);
        struct sl_batch_info info;
        CHECK_EQ_INT(sl_batch_validate_produce(b, 100, MAXB, &info), SL_ERR_NONE);
        CHECK_EQ_INT(info.compression, c);
        struct sl_record_iter it;
        CHECK_EQ_INT(sl_record_iter_init(&it, b, 100, &info), SL_ERR__INVAL);
        /* The count/delta rule still applies. */
        set32(b, SL_BATCH_OFF_LAST_OFFSET_DELTA, 8);
        CHECK_EQ_INT(sl_batch_validate_produce(b, 100, MAXB, &info), SL_ERR_INVALID_RECORD);
        /* As does the CRC. */
        sl_put_be32(b + 23, 9);
        CHECK_EQ_INT(sl_batch_validate_produce(b, 100, MAXB, &info), SL_ERR_CORRUPT_MESSAGE);
    }
}

/* Builds a one-record batch whose record body is given raw. */
static size_t build_raw_record(uint8_t *b, const uint8_t *rec, size_t rlen)
{
    struct tb_opts o;
    default_opts(&o);
    struct tb_rec one = {0, "k", "v", 0, {0}, {0}};
    build(b, &o, &one, 1);
    memcpy(b + SL_BATCH_HEADER_SIZE, rec, rlen);
    size_t n = SL_BATCH_HEADER_SIZE + rlen;
    sl_put_be32(b + 8, (uint32_t)(n - 12));
    fix_crc(b);
    return n;
}

static void test_record_errors(void)
{
    uint8_t b[4096];
    struct sl_batch_info info;
    size_t n;
    /* A good record for reference. Lengths are zig-zag varints (0x10 = 8):
     * length 8 | attrs 0 | ts delta 0 | offset delta 0 | key len 1 "k" |
     * value len 1 "v" | header count 0. */
    const uint8_t good[] = {0x10, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, good, sizeof(good));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);

    /* Record length says one more byte than its fields use. */
    const uint8_t long_len[] = {0x12, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0, 0};
    n = build_raw_record(b, long_len, sizeof(long_len));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* Record length runs past the batch. */
    const uint8_t past[] = {0x7e, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, past, sizeof(past));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* Negative record length. */
    const uint8_t neg[] = {0x01, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, neg, sizeof(neg));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* Key length beyond the record. */
    const uint8_t klong[] = {0x10, 0, 0, 0, 0x20, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, klong, sizeof(klong));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* Key length -2. */
    const uint8_t kneg[] = {0x10, 0, 0, 0, 0x03, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, kneg, sizeof(kneg));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* Offset delta 1 for the first record. */
    const uint8_t off1[] = {0x10, 0, 0, 0x02, 0x02, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, off1, sizeof(off1));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* Header with a null (negative) key. */
    const uint8_t hnull[] = {0x14, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0x02, 0x01, 0x00};
    n = build_raw_record(b, hnull, sizeof(hnull));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* The same with an empty header key and a null value: fine. */
    const uint8_t hok[] = {0x14, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0x02, 0x00, 0x01};
    n = build_raw_record(b, hok, sizeof(hok));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);
    /* Header count larger than the bytes can hold. */
    const uint8_t hmany[] = {0x14, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0x40, 0x00, 0x01};
    n = build_raw_record(b, hmany, sizeof(hmany));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* Negative header count. */
    const uint8_t hneg[] = {0x10, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0x01};
    n = build_raw_record(b, hneg, sizeof(hneg));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* A varint that never ends (6 continuation bytes). */
    const uint8_t vlong[] = {0x1c, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
                             0x02, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, vlong, sizeof(vlong));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* A varlong timestamp of 10 bytes is fine; 11 is not. */
    const uint8_t ts10[] = {0x22, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                            0x00, 0, 0x02, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, ts10, sizeof(ts10));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_NONE);
    const uint8_t ts11[] = {0x24, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                            0x80, 0x00, 0, 0x02, 'k', 0x02, 'v', 0};
    n = build_raw_record(b, ts11, sizeof(ts11));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
    /* Truncated inside a field: record ends mid-value. */
    const uint8_t midval[] = {0x0e, 0, 0, 0, 0x02, 'k', 0x06, 'v'};
    n = build_raw_record(b, midval, sizeof(midval));
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_RECORD);
}

static void test_log_append_time(void)
{
    uint8_t b[8192];
    size_t n = sample_batch(b);
    sl_batch_set_log_append_time(b, n, 1800000000123);
    struct sl_batch_info info;
    CHECK_EQ_INT(sl_batch_parse(b, n, &info), SL_ERR_NONE); /* CRC recomputed */
    CHECK((info.attributes & SL_BATCH_ATTR_LOG_APPEND_TIME) != 0);
    CHECK_EQ_INT(info.max_timestamp, 1800000000123);
    CHECK_EQ_INT(info.base_timestamp, 1700000000000);
    /* A client may not send it that way. */
    CHECK_EQ_INT(sl_batch_validate_produce(b, n, MAXB, &info), SL_ERR_INVALID_TIMESTAMP);
}

static void test_every_truncation(void)
{
    /* No prefix of a valid batch may pass, and none may crash. */
    uint8_t b[8192];
    size_t n = sample_batch(b);
    struct sl_batch_info info;
    for (size_t k = 0; k < n; k++) {
        CHECK(sl_batch_parse(b, k, &info) != SL_ERR_NONE);
        CHECK(sl_batch_validate_produce(b, k, MAXB, &info) != SL_ERR_NONE);
    }
}

int main(void)
{
    TEST_RUN(test_crc32c_vector);
    TEST_RUN(test_valid_batches);
    TEST_RUN(test_many_records);
    TEST_RUN(test_header_errors);
    TEST_RUN(test_semantic_errors);
    TEST_RUN(test_compressed_header_only);
    TEST_RUN(test_record_errors);
    TEST_RUN(test_log_append_time);
    TEST_RUN(test_every_truncation);
    TEST_REPORT();
}
