/* SPDX-License-Identifier: Apache-2.0
 *
 * Encoding and decoding of the offsets log's keys, values and record
 * batches (see records.h for the layouts).
 */
#include "group/records.h"

#include <string.h>

#include "core/crc32c.h"
#include "protocol/codec.h"
#include "storage/batch.h"

/* ---- encoding ---- */

static void put_str(struct sl_wbuf *w, sl_str_t s)
{
    if (s.len < 0) {
        sl_wbuf_put_i16(w, -1);
        return;
    }
    int32_t len = s.len > INT16_MAX ? INT16_MAX : s.len;
    sl_wbuf_put_i16(w, (int16_t)len);
    if (len)
        sl_wbuf_put(w, s.p, (size_t)len);
}

static void put_bytes(struct sl_wbuf *w, sl_bytes_t b)
{
    if (b.len < 0) {
        sl_wbuf_put_i32(w, -1);
        return;
    }
    sl_wbuf_put_i32(w, b.len);
    if (b.len)
        sl_wbuf_put(w, b.p, (size_t)b.len);
}

void sl_grec_put_offset_key(struct sl_wbuf *w, sl_str_t group, sl_str_t topic, int32_t partition)
{
    sl_wbuf_put_i16(w, SL_GREC_KEY_OFFSET);
    put_str(w, group);
    put_str(w, topic);
    sl_wbuf_put_i32(w, partition);
}

void sl_grec_put_group_key(struct sl_wbuf *w, sl_str_t group)
{
    sl_wbuf_put_i16(w, SL_GREC_KEY_GROUP);
    put_str(w, group);
}

void sl_grec_put_offset_value(struct sl_wbuf *w, const struct sl_grec_offset *v)
{
    sl_wbuf_put_i16(w, SL_GREC_OFFSET_VALUE_VERSION);
    sl_wbuf_put_i64(w, v->offset);
    sl_wbuf_put_i32(w, v->leader_epoch);
    put_str(w, v->metadata.len < 0 ? SL_STR_EMPTY : v->metadata);
    sl_wbuf_put_i64(w, v->commit_ts);
}

void sl_grec_put_group_value(struct sl_wbuf *w, const struct sl_grec_group *v)
{
    sl_wbuf_put_i16(w, SL_GREC_GROUP_VALUE_VERSION);
    put_str(w, v->protocol_type.len < 0 ? SL_STR_EMPTY : v->protocol_type);
    sl_wbuf_put_i32(w, v->generation);
    put_str(w, v->protocol);
    put_str(w, v->leader);
    sl_wbuf_put_i64(w, v->state_ts);
    sl_wbuf_put_i32(w, v->n_members);
    for (int32_t i = 0; i < v->n_members; i++) {
        const struct sl_grec_member *m = &v->members[i];
        put_str(w, m->member_id);
        put_str(w, m->instance_id);
        put_str(w, m->client_id.len < 0 ? SL_STR_EMPTY : m->client_id);
        put_str(w, m->client_host.len < 0 ? SL_STR_EMPTY : m->client_host);
        sl_wbuf_put_i32(w, m->rebalance_timeout_ms);
        sl_wbuf_put_i32(w, m->session_timeout_ms);
        put_bytes(w, m->subscription.len < 0 ? (sl_bytes_t){NULL, 0} : m->subscription);
        put_bytes(w, m->assignment.len < 0 ? (sl_bytes_t){NULL, 0} : m->assignment);
    }
}

/* ---- decoding ---- */

bool sl_grec_get_key(const uint8_t *p, size_t len, struct sl_grec_key *out)
{
    struct sl_reader r;
    sl_rd_init(&r, p, len);
    memset(out, 0, sizeof(*out));
    out->type = sl_rd_i16(&r);
    switch (out->type) {
    case 0: /* Kafka's v0 offset key has the v1 layout */
    case SL_GREC_KEY_OFFSET:
        out->type = SL_GREC_KEY_OFFSET;
        out->group = sl_rd_str16(&r, false);
        out->topic = sl_rd_str16(&r, false);
        out->partition = sl_rd_i32(&r);
        break;
    case SL_GREC_KEY_GROUP:
        out->group = sl_rd_str16(&r, false);
        break;
    default:
        return false;
    }
    return r.err == 0 && sl_rd_left(&r) == 0;
}

bool sl_grec_get_offset_value(const uint8_t *p, size_t len, struct sl_grec_offset *out)
{
    struct sl_reader r;
    sl_rd_init(&r, p, len);
    int16_t version = sl_rd_i16(&r);
    out->leader_epoch = -1;
    switch (version) {
    case 3:
        out->offset = sl_rd_i64(&r);
        out->leader_epoch = sl_rd_i32(&r);
        out->metadata = sl_rd_str16(&r, false);
        out->commit_ts = sl_rd_i64(&r);
        break;
    case 1: /* offset, metadata, commit timestamp, expire timestamp */
    case 2: /* offset, metadata, commit timestamp */
    case 0:
        out->offset = sl_rd_i64(&r);
        out->metadata = sl_rd_str16(&r, false);
        out->commit_ts = sl_rd_i64(&r);
        if (version == 1)
            (void)sl_rd_i64(&r);
        break;
    default:
        return false;
    }
    return r.err == 0;
}

bool sl_grec_get_group_value(const uint8_t *p, size_t len, struct sl_grec_group *out,
                             struct sl_grec_member_iter *it)
{
    struct sl_reader r;
    sl_rd_init(&r, p, len);
    memset(out, 0, sizeof(*out));
    if (sl_rd_i16(&r) != SL_GREC_GROUP_VALUE_VERSION)
        return false;
    out->protocol_type = sl_rd_str16(&r, false);
    out->generation = sl_rd_i32(&r);
    out->protocol = sl_rd_str16(&r, true);
    out->leader = sl_rd_str16(&r, true);
    out->state_ts = sl_rd_i64(&r);
    out->n_members = sl_rd_i32(&r);
    /* A member takes at least 2+2+2+2+4+4+4+4 bytes. */
    if (r.err || out->n_members < 0 || (size_t)out->n_members > sl_rd_left(&r) / 24)
        return false;
    it->_p = r.p;
    it->_end = r.end;
    it->_left = out->n_members;
    return true;
}

bool sl_grec_next_member(struct sl_grec_member_iter *it, struct sl_grec_member *m, bool *bad)
{
    *bad = false;
    if (it->_left <= 0)
        return false;
    struct sl_reader r = {it->_p, it->_end, 0};
    m->member_id = sl_rd_str16(&r, false);
    m->instance_id = sl_rd_str16(&r, true);
    m->client_id = sl_rd_str16(&r, false);
    m->client_host = sl_rd_str16(&r, false);
    m->rebalance_timeout_ms = sl_rd_i32(&r);
    m->session_timeout_ms = sl_rd_i32(&r);
    m->subscription = sl_rd_bytes32(&r, false);
    m->assignment = sl_rd_bytes32(&r, false);
    if (r.err) {
        *bad = true;
        it->_left = 0;
        return false;
    }
    it->_p = r.p;
    it->_left--;
    return true;
}

/* ---- batches ---- */

static void put_record(struct sl_wbuf *w, struct sl_wbuf *tmp, const struct sl_grec *rec,
                       int32_t offset_delta)
{
    sl_wbuf_clear(tmp);
    sl_wbuf_put_i8(tmp, 0);          /* attributes */
    sl_wbuf_put_varint(tmp, 0);      /* timestamp delta */
    sl_wbuf_put_varint(tmp, offset_delta);
    sl_wbuf_put_varint(tmp, rec->key_len);
    if (rec->key_len > 0)
        sl_wbuf_put(tmp, rec->key, (size_t)rec->key_len);
    if (rec->value_len < 0) {
        sl_wbuf_put_varint(tmp, -1);
    } else {
        sl_wbuf_put_varint(tmp, rec->value_len);
        if (rec->value_len > 0)
            sl_wbuf_put(tmp, rec->value, (size_t)rec->value_len);
    }
    sl_wbuf_put_varint(tmp, 0); /* headers */
    sl_wbuf_put_varint(w, (int64_t)tmp->len);
    sl_wbuf_put(w, tmp->data, tmp->len);
}

void sl_grec_build_batch(struct sl_wbuf *w, const struct sl_grec *recs, int n, int64_t now_ms)
{
    sl_wbuf_clear(w);
    sl_wbuf_put_i64(w, 0);                  /* base offset: assigned by the log */
    sl_wbuf_put_i32(w, 0);                  /* length, patched below */
    sl_wbuf_put_i32(w, -1);                 /* partition leader epoch */
    sl_wbuf_put_i8(w, SL_BATCH_MAGIC);
    sl_wbuf_put_i32(w, 0);                  /* CRC, patched below */
    sl_wbuf_put_i16(w, 0);                  /* attributes: no compression, CreateTime */
    sl_wbuf_put_i32(w, n - 1);              /* last offset delta */
    sl_wbuf_put_i64(w, now_ms);             /* base timestamp */
    sl_wbuf_put_i64(w, now_ms);             /* max timestamp */
    sl_wbuf_put_i64(w, -1);                 /* producer id */
    sl_wbuf_put_i16(w, -1);                 /* producer epoch */
    sl_wbuf_put_i32(w, -1);                 /* base sequence */
    sl_wbuf_put_i32(w, n);                  /* records count */
    struct sl_wbuf tmp;
    sl_wbuf_init(&tmp);
    for (int i = 0; i < n; i++)
        put_record(w, &tmp, &recs[i], i);
    sl_wbuf_destroy(&tmp);
    sl_put_be32(w->data + SL_BATCH_OFF_LENGTH, (uint32_t)(w->len - SL_BATCH_LOG_OVERHEAD));
    uint32_t crc = sl_crc32c(0, w->data + SL_BATCH_OFF_ATTRIBUTES, w->len - SL_BATCH_OFF_ATTRIBUTES);
    sl_put_be32(w->data + SL_BATCH_OFF_CRC, crc);
}
