/* SPDX-License-Identifier: Apache-2.0
 *
 * The records of the internal offsets log (<data_dir>/internal/
 * __consumer_offsets-0): their keys and values, and the record batches (v2,
 * uncompressed, CRC-32C) that carry them. The layouts are those of Kafka's
 * __consumer_offsets records, so that the log reads like Kafka's:
 *
 *   key   int16 version 1: OffsetCommitKey    group:string topic:string partition:int32
 *         int16 version 2: GroupMetadataKey   group:string
 *   value OffsetCommitValue v3  int16 3, offset:int64, leaderEpoch:int32,
 *                               metadata:string, commitTimestamp:int64
 *         GroupMetadataValue v3 int16 3, protocolType:string, generation:int32,
 *                               protocol:nullable string, leader:nullable string,
 *                               currentStateTimestamp:int64, members:[
 *                                 memberId:string, groupInstanceId:nullable string,
 *                                 clientId:string, clientHost:string,
 *                                 rebalanceTimeout:int32, sessionTimeout:int32,
 *                                 subscription:bytes, assignment:bytes]
 *         null (a tombstone) deletes the key.
 *
 * Strings are int16-length prefixed, bytes int32, arrays int32 counts, all
 * big-endian (Kafka's classic encoding). docs/design/groups.md has the
 * rationale. Decoding never trusts the stored bytes: every length is checked
 * (a stored record that fails to decode is skipped by the caller with a
 * warning). All functions are pure and thread-safe.
 */
#ifndef SL_GROUP_RECORDS_H
#define SL_GROUP_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/wbuf.h"

#define SL_GREC_KEY_OFFSET 1
#define SL_GREC_KEY_GROUP 2
#define SL_GREC_OFFSET_VALUE_VERSION 3
#define SL_GREC_GROUP_VALUE_VERSION 3

/* A decoded key. Views point into the record. */
struct sl_grec_key {
    int16_t type; /* SL_GREC_KEY_OFFSET or SL_GREC_KEY_GROUP */
    sl_str_t group;
    sl_str_t topic;    /* offset keys */
    int32_t partition; /* offset keys */
};

struct sl_grec_offset {
    int64_t offset;
    int32_t leader_epoch;
    sl_str_t metadata;
    int64_t commit_ts;
};

struct sl_grec_member {
    sl_str_t member_id;
    sl_str_t instance_id; /* null for dynamic members */
    sl_str_t client_id, client_host;
    int32_t rebalance_timeout_ms, session_timeout_ms;
    sl_bytes_t subscription, assignment;
};

struct sl_grec_group {
    sl_str_t protocol_type; /* "" when none */
    int32_t generation;
    sl_str_t protocol; /* nullable */
    sl_str_t leader;   /* nullable */
    int64_t state_ts;
    int32_t n_members;
    struct sl_grec_member *members; /* encode: caller's array; decode: see below */
};

/* Encoders append to w. */
void sl_grec_put_offset_key(struct sl_wbuf *w, sl_str_t group, sl_str_t topic, int32_t partition);
void sl_grec_put_group_key(struct sl_wbuf *w, sl_str_t group);
void sl_grec_put_offset_value(struct sl_wbuf *w, const struct sl_grec_offset *v);
void sl_grec_put_group_value(struct sl_wbuf *w, const struct sl_grec_group *v);

/* Decoders: return true and fill *out, or false for bytes that do not
 * parse or an unknown version. */
bool sl_grec_get_key(const uint8_t *p, size_t len, struct sl_grec_key *out);
bool sl_grec_get_offset_value(const uint8_t *p, size_t len, struct sl_grec_offset *out);
/* Group values: the header fields into *out (members NULL); then each member
 * with sl_grec_next_member over the iterator state *it (initialised here). */
struct sl_grec_member_iter {
    const uint8_t *_p, *_end;
    int32_t _left;
};
bool sl_grec_get_group_value(const uint8_t *p, size_t len, struct sl_grec_group *out,
                             struct sl_grec_member_iter *it);
/* Returns true with the next member, false at the end (or if malformed:
 * then *bad is set). */
bool sl_grec_next_member(struct sl_grec_member_iter *it, struct sl_grec_member *m, bool *bad);

/* One record to put in a batch: key bytes and value bytes (value_len -1 for
 * a tombstone). Borrowed. */
struct sl_grec {
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value;
    int32_t value_len;
};

/* Builds a record batch v2 (magic 2, uncompressed, no producer, base offset
 * 0 for the log to assign, CRC-32C over attributes..end) holding recs[0..n)
 * with timestamps now_ms, into w (cleared first). n >= 1. */
void sl_grec_build_batch(struct sl_wbuf *w, const struct sl_grec *recs, int n, int64_t now_ms);

#endif
