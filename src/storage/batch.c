/* SPDX-License-Identifier: Apache-2.0
 *
 * Record batch v2 validation and rewriting (see batch.h). One internal
 * checker serves both the produce path and recovery; the produce path adds
 * the rules that only apply to what a client sends (base offset 0, no control
 * batches, no LogAppendTime, a size limit) and insists that the batch fills
 * the partition's records exactly.
 *
 * The record walk follows Kafka's DefaultRecord.readFrom: zig-zag varints of
 * at most 5 bytes (varlongs 10), a record length that must match the bytes
 * its fields use, key and value lengths >= -1, header key lengths >= 0, and
 * nothing left over after the last record. Varints whose fifth byte carries
 * bits above 32 are accepted and truncated, as Kafka does.
 */
#include "storage/batch.h"

#include "core/crc32c.h"
#include "core/logging.h"

/* The smallest value the length field may hold: the header after it. */
#define MIN_LENGTH_FIELD (SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD)
/* The smallest encoded record: length, attributes, timestamp delta, offset
 * delta, key length, value length, header count, one byte each. */
#define MIN_RECORD_BYTES 7

/* Reads an unsigned LEB128 varint of at most max_bytes into *v; returns the
 * number of bytes used, or 0 if it is truncated or too long. */
static size_t read_uvarint(const uint8_t *p, const uint8_t *end, size_t max_bytes, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < max_bytes; i++) {
        if (p + i >= end)
            return 0;
        uint8_t b = p[i];
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

/* Zig-zag int32 varint (Kafka ByteUtils.readVarint). */
static bool get_varint(const uint8_t **pp, const uint8_t *end, int32_t *out)
{
    uint64_t u;
    size_t n = read_uvarint(*pp, end, 5, &u);
    if (n == 0)
        return false;
    uint32_t v = (uint32_t)u;
    *out = (int32_t)((v >> 1) ^ (0u - (v & 1)));
    *pp += n;
    return true;
}

/* Zig-zag int64 varlong (Kafka ByteUtils.readVarlong). */
static bool get_varlong(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
    uint64_t u;
    size_t n = read_uvarint(*pp, end, 10, &u);
    if (n == 0)
        return false;
    *out = (int64_t)((u >> 1) ^ (0ull - (u & 1)));
    *pp += n;
    return true;
}

/* A length-prefixed byte field: len -1 is null (when allowed), else len bytes
 * must follow within end. */
static bool get_bytes(const uint8_t **pp, const uint8_t *end, bool nullable, sl_bytes_t *out)
{
    int32_t n;
    if (!get_varint(pp, end, &n))
        return false;
    if (n < 0) {
        if (n != -1 || !nullable)
            return false;
        *out = (sl_bytes_t){NULL, -1};
        return true;
    }
    if ((size_t)(end - *pp) < (size_t)n)
        return false;
    *out = (sl_bytes_t){*pp, n};
    *pp += n;
    return true;
}

static void read_header(const uint8_t *p, struct sl_batch_info *info)
{
    info->base_offset = (int64_t)sl_be64(p + SL_BATCH_OFF_BASE_OFFSET);
    info->partition_leader_epoch = (int32_t)sl_be32(p + SL_BATCH_OFF_LEADER_EPOCH);
    info->magic = (int8_t)p[SL_BATCH_OFF_MAGIC];
    info->crc = sl_be32(p + SL_BATCH_OFF_CRC);
    info->attributes = (int16_t)sl_be16(p + SL_BATCH_OFF_ATTRIBUTES);
    info->last_offset_delta = (int32_t)sl_be32(p + SL_BATCH_OFF_LAST_OFFSET_DELTA);
    info->base_timestamp = (int64_t)sl_be64(p + SL_BATCH_OFF_BASE_TIMESTAMP);
    info->max_timestamp = (int64_t)sl_be64(p + SL_BATCH_OFF_MAX_TIMESTAMP);
    info->producer_id = (int64_t)sl_be64(p + SL_BATCH_OFF_PRODUCER_ID);
    info->producer_epoch = (int16_t)sl_be16(p + SL_BATCH_OFF_PRODUCER_EPOCH);
    info->base_sequence = (int32_t)sl_be32(p + SL_BATCH_OFF_BASE_SEQUENCE);
    info->records_count = (int32_t)sl_be32(p + SL_BATCH_OFF_RECORDS_COUNT);
    uint16_t attr = (uint16_t)info->attributes;
    info->compression = attr & SL_BATCH_ATTR_COMPRESSION_MASK;
    info->transactional = (attr & SL_BATCH_ATTR_TRANSACTIONAL) != 0;
    info->control = (attr & SL_BATCH_ATTR_CONTROL) != 0;
    /* batch_len is the TOTAL size; -1 marks a length field that cannot hold
     * the header (negative included) or whose total overflows an int32. */
    int32_t field = (int32_t)sl_be32(p + SL_BATCH_OFF_LENGTH);
    info->batch_len = field >= MIN_LENGTH_FIELD && field <= INT32_MAX - SL_BATCH_LOG_OVERHEAD
                          ? field + SL_BATCH_LOG_OVERHEAD
                          : -1;
}

sl_err_t sl_batch_parse_header(const uint8_t *p, size_t len, struct sl_batch_info *info)
{
    if (!p || len < SL_BATCH_HEADER_SIZE)
        return SL_ERR_CORRUPT_MESSAGE;
    read_header(p, info);
    if (info->batch_len < 0)
        return SL_ERR_CORRUPT_MESSAGE;
    /* Kafka's batch iterator rejects a magic it does not know (outside
     * 0..2) as corrupt before the "must be v2" check answers INVALID_RECORD
     * for the old formats 0 and 1. */
    if (info->magic < 0 || info->magic > SL_BATCH_MAGIC)
        return SL_ERR_CORRUPT_MESSAGE;
    if (info->magic != SL_BATCH_MAGIC)
        return SL_ERR_INVALID_RECORD;
    return SL_ERR_NONE;
}

sl_err_t sl_record_iter_init(struct sl_record_iter *it, const uint8_t *p, size_t len,
                             const struct sl_batch_info *info)
{
    it->_p = it->_end = NULL;
    it->_i = it->_count = 0;
    it->err = SL_ERR_NONE;
    if (info->compression != SL_COMPRESSION_NONE)
        return SL_ERR__INVAL;
    if (info->batch_len < SL_BATCH_HEADER_SIZE || (size_t)info->batch_len > len)
        return SL_ERR_CORRUPT_MESSAGE;
    it->_p = p + SL_BATCH_HEADER_SIZE;
    it->_end = p + info->batch_len;
    it->_count = info->records_count;
    return SL_ERR_NONE;
}

bool sl_record_iter_next(struct sl_record_iter *it, struct sl_record *rec)
{
    if (it->err != SL_ERR_NONE || !it->_p)
        return false;
    if (it->_i >= it->_count) {
        /* Kafka: "Incorrect declared batch size, records still remaining". */
        if (it->_p != it->_end)
            it->err = SL_ERR_INVALID_RECORD;
        return false;
    }
    const uint8_t *p = it->_p;
    int32_t size;
    if (!get_varint(&p, it->_end, &size) || size < 0 || (size_t)(it->_end - p) < (size_t)size)
        goto bad;
    const uint8_t *rend = p + size;
    if (p >= rend)
        goto bad;
    rec->attributes = (int8_t)*p++;
    if (!get_varlong(&p, rend, &rec->timestamp_delta))
        goto bad;
    if (!get_varint(&p, rend, &rec->offset_delta))
        goto bad;
    if (!get_bytes(&p, rend, true, &rec->key) || !get_bytes(&p, rend, true, &rec->value))
        goto bad;
    if (!get_varint(&p, rend, &rec->headers_count) || rec->headers_count < 0)
        goto bad;
    const uint8_t *h0 = p;
    /* Each header takes at least two bytes, which bounds the loop by the
     * record's bytes whatever the count claims. */
    if (rec->headers_count > (rend - p) / 2)
        goto bad;
    for (int32_t h = 0; h < rec->headers_count; h++) {
        sl_bytes_t hk, hv;
        if (!get_bytes(&p, rend, false, &hk) || !get_bytes(&p, rend, true, &hv))
            goto bad;
    }
    rec->headers = (sl_bytes_t){h0, (int32_t)(p - h0)};
    /* Kafka: "Invalid record size: expected to read N bytes in record
     * payload, but instead read M". */
    if (p != rend)
        goto bad;
    it->_p = rend;
    it->_i++;
    return true;
bad:
    it->err = SL_ERR_INVALID_RECORD;
    return false;
}

/* Walks every record of an uncompressed batch: they must parse, number
 * exactly `count`, carry offset deltas 0..n-1 and use up the batch. */
static sl_err_t check_records(const uint8_t *p, const struct sl_batch_info *info)
{
    size_t body = (size_t)info->batch_len - SL_BATCH_HEADER_SIZE;
    if ((size_t)info->records_count > body / MIN_RECORD_BYTES)
        return SL_ERR_INVALID_RECORD;
    struct sl_record_iter it;
    if (sl_record_iter_init(&it, p, (size_t)info->batch_len, info) != SL_ERR_NONE)
        return SL_ERR_INVALID_RECORD;
    struct sl_record rec;
    int32_t i = 0;
    while (sl_record_iter_next(&it, &rec)) {
        if (rec.offset_delta != i)
            return SL_ERR_INVALID_RECORD;
        i++;
    }
    if (it.err != SL_ERR_NONE || i != info->records_count)
        return SL_ERR_INVALID_RECORD;
    return SL_ERR_NONE;
}

static sl_err_t check_crc(const uint8_t *p, const struct sl_batch_info *info)
{
    uint32_t crc = sl_crc32c(0, p + SL_BATCH_OFF_ATTRIBUTES,
                             (size_t)info->batch_len - SL_BATCH_OFF_ATTRIBUTES);
    return crc == info->crc ? SL_ERR_NONE : SL_ERR_CORRUPT_MESSAGE;
}

/* Checks shared by parse and validate_produce, after the length and magic
 * checks and the CRC. */
static sl_err_t check_body(const uint8_t *p, const struct sl_batch_info *info)
{
    uint16_t attr = (uint16_t)info->attributes;
    if (attr & SL_BATCH_ATTR_UNUSED_MASK)
        return SL_ERR_INVALID_RECORD;
    if (info->compression >= SL_COMPRESSION_MAX)
        return SL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (info->records_count <= 0 ||
        (int64_t)info->last_offset_delta + 1 != (int64_t)info->records_count)
        return SL_ERR_INVALID_RECORD;
    if (info->compression == SL_COMPRESSION_NONE)
        return check_records(p, info);
    return SL_ERR_NONE;
}

sl_err_t sl_batch_parse(const uint8_t *p, size_t len, struct sl_batch_info *info)
{
    sl_err_t err = sl_batch_parse_header(p, len, info);
    if (err != SL_ERR_NONE)
        return err;
    if ((size_t)info->batch_len > len)
        return SL_ERR_CORRUPT_MESSAGE;
    if ((err = check_crc(p, info)) != SL_ERR_NONE)
        return err;
    return check_body(p, info);
}

sl_err_t sl_batch_validate_produce(const uint8_t *p, size_t len, int32_t max_message_bytes,
                                   struct sl_batch_info *info)
{
    /* Kafka's ByteBufferLogInputStream finds no batch in fewer than 17 bytes
     * or when the declared size runs past the buffer: "at least one batch". */
    if (!p || len < SL_BATCH_LOG_OVERHEAD)
        return SL_ERR_INVALID_RECORD;
    int32_t field = (int32_t)sl_be32(p + SL_BATCH_OFF_LENGTH);
    if (field < MIN_LENGTH_FIELD)
        return SL_ERR_CORRUPT_MESSAGE;
    if ((uint64_t)field + SL_BATCH_LOG_OVERHEAD != (uint64_t)len)
        return SL_ERR_INVALID_RECORD; /* not exactly one batch */
    sl_err_t err = sl_batch_parse_header(p, len, info);
    if (err != SL_ERR_NONE)
        return err;
    if (info->base_offset != 0)
        return SL_ERR_INVALID_RECORD;
    if (max_message_bytes >= 0 && len > (size_t)max_message_bytes)
        return SL_ERR_MESSAGE_TOO_LARGE;
    if ((err = check_crc(p, info)) != SL_ERR_NONE)
        return err;
    uint16_t attr = (uint16_t)info->attributes;
    if (attr & SL_BATCH_ATTR_UNUSED_MASK)
        return SL_ERR_INVALID_RECORD;
    if (info->compression >= SL_COMPRESSION_MAX)
        return SL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (info->control)
        return SL_ERR_INVALID_RECORD;
    if (attr & SL_BATCH_ATTR_LOG_APPEND_TIME)
        return SL_ERR_INVALID_TIMESTAMP;
    if (info->records_count <= 0 ||
        (int64_t)info->last_offset_delta + 1 != (int64_t)info->records_count)
        return SL_ERR_INVALID_RECORD;
    if (info->producer_id != -1 && info->base_sequence < 0)
        return SL_ERR_INVALID_RECORD;
    return check_body(p, info);
}

void sl_batch_update_crc(uint8_t *p, size_t len)
{
    SL_ASSERT(len >= SL_BATCH_HEADER_SIZE);
    uint32_t field = sl_be32(p + SL_BATCH_OFF_LENGTH);
    SL_ASSERT(field >= MIN_LENGTH_FIELD && (uint64_t)field + SL_BATCH_LOG_OVERHEAD <= len);
    size_t total = (size_t)field + SL_BATCH_LOG_OVERHEAD;
    uint32_t crc = sl_crc32c(0, p + SL_BATCH_OFF_ATTRIBUTES, total - SL_BATCH_OFF_ATTRIBUTES);
    sl_put_be32(p + SL_BATCH_OFF_CRC, crc);
}

void sl_batch_set_log_append_time(uint8_t *p, size_t len, int64_t now_ms)
{
    SL_ASSERT(len >= SL_BATCH_HEADER_SIZE);
    uint16_t attr = sl_be16(p + SL_BATCH_OFF_ATTRIBUTES);
    sl_put_be16(p + SL_BATCH_OFF_ATTRIBUTES, (uint16_t)(attr | SL_BATCH_ATTR_LOG_APPEND_TIME));
    sl_put_be64(p + SL_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)now_ms);
    sl_batch_update_crc(p, len);
}
