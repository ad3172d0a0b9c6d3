/* SPDX-License-Identifier: Apache-2.0
 *
 * Record batch v2 (magic 2): the header layout, the validator used on the
 * produce path and by log recovery, the in-place rewrites the broker makes
 * (LogAppendTime), and a bounds-checked iterator over the records of an
 * uncompressed batch. Layout and rules: PROTOCOL.md §3 (Kafka's
 * DefaultRecordBatch / DefaultRecord / LogValidator).
 *
 * All input is untrusted: every length is checked against the bytes
 * available before it is used, nothing is allocated, and no function reads
 * outside [p, p + len). Compressed batches are validated at the header level
 * only (CRC, lengths, counts, attributes): their records are not
 * decompressed, so nested compression and per-record errors inside a
 * compressed batch are not detected here (Kafka decompresses to check them).
 *
 * All functions are pure and thread-safe.
 */
#ifndef SL_STORAGE_BATCH_H
#define SL_STORAGE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "sluice/err.h"

/* Header field positions (big-endian), PROTOCOL.md §3.1. */
#define SL_BATCH_OFF_BASE_OFFSET 0
#define SL_BATCH_OFF_LENGTH 8
#define SL_BATCH_OFF_LEADER_EPOCH 12
#define SL_BATCH_OFF_MAGIC 16
#define SL_BATCH_OFF_CRC 17
#define SL_BATCH_OFF_ATTRIBUTES 21
#define SL_BATCH_OFF_LAST_OFFSET_DELTA 23
#define SL_BATCH_OFF_BASE_TIMESTAMP 27
#define SL_BATCH_OFF_MAX_TIMESTAMP 35
#define SL_BATCH_OFF_PRODUCER_ID 43
#define SL_BATCH_OFF_PRODUCER_EPOCH 51
#define SL_BATCH_OFF_BASE_SEQUENCE 53
#define SL_BATCH_OFF_RECORDS_COUNT 57
#define SL_BATCH_HEADER_SIZE 61 /* bytes before the first record */
#define SL_BATCH_LOG_OVERHEAD 12 /* base offset + length: not counted in length */
#define SL_BATCH_MAGIC 2

/* Attribute bits, PROTOCOL.md §3.2. */
#define SL_BATCH_ATTR_COMPRESSION_MASK 0x07
#define SL_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define SL_BATCH_ATTR_TRANSACTIONAL 0x10
#define SL_BATCH_ATTR_CONTROL 0x20
#define SL_BATCH_ATTR_DELETE_HORIZON 0x40
#define SL_BATCH_ATTR_UNUSED_MASK 0xFF80

enum sl_compression {
    SL_COMPRESSION_NONE = 0,
    SL_COMPRESSION_GZIP,
    SL_COMPRESSION_SNAPPY,
    SL_COMPRESSION_LZ4,
    SL_COMPRESSION_ZSTD,
    SL_COMPRESSION_MAX
};

struct sl_batch_info {
    int64_t base_offset;
    int32_t batch_len; /* total bytes incl. the 12-byte prefix */
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp, max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
    int compression; /* enum sl_compression */
    bool transactional, control;
};

/* Parses and checks the batch that starts at p (len bytes available; more may
 * follow the batch, the first batch only is parsed). Fills *info (borrowed;
 * its contents are unspecified on error). Checks: the length field (>= the
 * 49 bytes of header after it, and within len), magic 2, the CRC-32C, the
 * attribute bits, count > 0 and last_offset_delta + 1 == count, and for an
 * uncompressed batch every record (varint lengths, key/value/header lengths
 * within the record, offset deltas exactly 0..n-1, no bytes left over).
 * Returns:
 *   SL_ERR_NONE;
 *   SL_ERR_CORRUPT_MESSAGE  fewer than 61 bytes, length field too small or
 *                           past len, a magic Kafka does not know (outside
 *                           0..2), CRC mismatch;
 *   SL_ERR_INVALID_RECORD   magic 0 or 1 (old formats), unused attribute bits (7..15) set,
 *                           count <= 0 or inconsistent with last_offset_delta,
 *                           records that do not parse (uncompressed only);
 *   SL_ERR_UNSUPPORTED_COMPRESSION_TYPE  compression codec 5..7.
 * Borrows p. Used by recovery on stored batches as well as by the produce
 * path (through sl_batch_validate_produce). */
sl_err_t sl_batch_parse(const uint8_t *p, size_t len, struct sl_batch_info *info);

/* Parses only the fixed header of the batch at p: checks that 61 bytes are
 * there, that the length field is >= 49, and magic 2; no CRC, no records, and
 * the batch may extend past len. Meant for stored batches that were fully
 * validated when written (the fetch and index paths). Returns SL_ERR_NONE,
 * SL_ERR_CORRUPT_MESSAGE (lengths, magic outside 0..2) or
 * SL_ERR_INVALID_RECORD (magic 0 or 1). Borrows p. */
sl_err_t sl_batch_parse_header(const uint8_t *p, size_t len, struct sl_batch_info *info);

/* The full produce-path validation of the records field of one partition, in
 * Kafka's order (ProduceRequest.validateRecords, UnifiedLog
 * .analyzeAndValidateRecords, LogValidator):
 *   exactly one batch filling len exactly      else SL_ERR_INVALID_RECORD
 *     (a length field < 49 is SL_ERR_CORRUPT_MESSAGE);
 *   magic 2                                    else SL_ERR_INVALID_RECORD
 *     (SL_ERR_CORRUPT_MESSAGE outside 0..2, as Kafka's batch iterator);
 *   base_offset == 0                           else SL_ERR_INVALID_RECORD;
 *   len <= max_message_bytes                   else SL_ERR_MESSAGE_TOO_LARGE
 *     (the whole batch with its 12-byte prefix, as Kafka's max.message.bytes);
 *   CRC-32C                                    else SL_ERR_CORRUPT_MESSAGE;
 *   unused attribute bits clear                else SL_ERR_INVALID_RECORD;
 *   compression codec 0..4                     else SL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
 *   not a control batch                        else SL_ERR_INVALID_RECORD;
 *   LogAppendTime bit not set by the client    else SL_ERR_INVALID_TIMESTAMP;
 *   count > 0, last_offset_delta + 1 == count  else SL_ERR_INVALID_RECORD;
 *   producer id set implies base_sequence >= 0 else SL_ERR_INVALID_RECORD;
 *   uncompressed: every record parses, offset deltas 0..n-1, count matches
 *                                              else SL_ERR_INVALID_RECORD.
 * Compressed batches get the header checks only (see the file comment).
 * Stricter than Kafka in one place: Kafka stores uncompressed batches whose
 * record offset deltas are not 0..n-1 as they are; we cannot rebuild a batch
 * (it is stored as received), so we refuse it. Transactional batches are
 * accepted here: authorizing them is the handler's job. Borrows p; fills
 * *info on success. */
sl_err_t sl_batch_validate_produce(const uint8_t *p, size_t len, int32_t max_message_bytes,
                                   struct sl_batch_info *info);

/* Sets the LogAppendTime attribute bit and MaxTimestamp = now_ms in the batch
 * at p (len bytes, a batch that passed validation), then recomputes and
 * stores the CRC. BaseTimestamp is left alone, as Kafka does. Borrows p and
 * writes it in place. Asserts that a whole batch header is there. */
void sl_batch_set_log_append_time(uint8_t *p, size_t len, int64_t now_ms);

/* Recomputes the CRC-32C of the batch at p and stores it (for callers that
 * rewrite CRC-covered fields). Asserts as above. */
void sl_batch_update_crc(uint8_t *p, size_t len);

/* One record of an uncompressed batch. Views point into the batch bytes. */
struct sl_record {
    int8_t attributes;
    int64_t timestamp_delta;
    int32_t offset_delta;
    sl_bytes_t key;   /* len -1 / p NULL for a null key */
    sl_bytes_t value; /* len -1 / p NULL for a null value (tombstone) */
    int32_t headers_count;
    sl_bytes_t headers; /* the raw headers (count is headers_count) */
};

/* Iterator over the records of one uncompressed batch. */
struct sl_record_iter {
    const uint8_t *_p, *_end;
    int32_t _i, _count;
    sl_err_t err; /* SL_ERR_NONE, or why iteration stopped early */
};

/* Starts iterating the records of the batch at p (len bytes, at least the
 * whole batch), whose header was parsed into *info. Returns SL_ERR_NONE, or
 * SL_ERR__INVAL for a compressed batch, or SL_ERR_CORRUPT_MESSAGE if the batch
 * does not fit in len. Borrows p: it must outlive the iterator. */
sl_err_t sl_record_iter_init(struct sl_record_iter *it, const uint8_t *p, size_t len,
                             const struct sl_batch_info *info);

/* Stores the next record in *rec and returns true; returns false at the end
 * (it->err == SL_ERR_NONE: exactly `count` records and no bytes left) or on
 * malformed input (it->err == SL_ERR_INVALID_RECORD). Every length is
 * checked before use. Offset deltas are returned as found (the validator, not
 * the iterator, insists on 0..n-1). */
bool sl_record_iter_next(struct sl_record_iter *it, struct sl_record *rec);

#endif
