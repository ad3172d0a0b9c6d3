/* SPDX-License-Identifier: Apache-2.0
 *
 * The core's side of durability: building the records of the offsets log
 * (group/records.h) from the in-memory state, replaying the log into that
 * state at start, and keeping the log small with snapshots.
 *
 * Snapshot rule: when the log holds many more records than the live state
 * (offsets plus one metadata record per group), the live state is appended
 * again as it is (each group's last metadata record byte for byte, each
 * committed offset), made durable, and everything before the snapshot's
 * first record is dropped (sl_log_delete_records: whole segments below go
 * away). Replaying a log that starts anywhere before the snapshot's end
 * gives the same state, so a crash in the middle of a snapshot loses
 * nothing: records are idempotent "last value wins" upserts and
 * tombstones, and nothing is dropped before the snapshot is durable.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/logging.h"
#include "core/mem.h"
#include "group/core_int.h"

#define SNAPSHOT_BATCH_RECORDS 500

/* ---- record lists ---- */

void sl_gc__recs_init(struct sl_grec_list *l)
{
    memset(l, 0, sizeof(*l));
    sl_wbuf_init(&l->buf);
}

void sl_gc__recs_free(struct sl_grec_list *l)
{
    free(l->recs);
    free(l->koff);
    free(l->voff);
    sl_wbuf_destroy(&l->buf);
    memset(l, 0, sizeof(*l));
}

static struct sl_grec *recs_push(struct sl_grec_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->recs = sl_xrealloc(l->recs, sizeof(*l->recs) * (size_t)l->cap);
        l->koff = sl_xrealloc(l->koff, sizeof(*l->koff) * (size_t)l->cap);
        l->voff = sl_xrealloc(l->voff, sizeof(*l->voff) * (size_t)l->cap);
    }
    struct sl_grec *r = &l->recs[l->n];
    memset(r, 0, sizeof(*r));
    l->koff[l->n] = (int32_t)l->buf.len;
    l->n++;
    return r;
}

void sl_gc__recs_offset(struct sl_grec_list *l, sl_str_t group, sl_str_t topic, int32_t partition,
                        const struct sl_goffset *o)
{
    struct sl_grec *r = recs_push(l);
    int i = l->n - 1;
    sl_grec_put_offset_key(&l->buf, group, topic, partition);
    r->key_len = (int32_t)l->buf.len - l->koff[i];
    l->voff[i] = (int32_t)l->buf.len;
    if (!o) {
        r->value_len = -1;
        return;
    }
    struct sl_grec_offset v = {o->offset, o->leader_epoch, o->metadata, o->commit_ts};
    sl_grec_put_offset_value(&l->buf, &v);
    r->value_len = (int32_t)l->buf.len - l->voff[i];
}

void sl_gc__recs_group_tombstone(struct sl_grec_list *l, sl_str_t group)
{
    struct sl_grec *r = recs_push(l);
    int i = l->n - 1;
    sl_grec_put_group_key(&l->buf, group);
    r->key_len = (int32_t)l->buf.len - l->koff[i];
    l->voff[i] = (int32_t)l->buf.len;
    r->value_len = -1;
}

/* A record whose value is given as bytes (snapshots of metadata). */
static void recs_group_raw(struct sl_grec_list *l, sl_str_t group, const uint8_t *value,
                           int32_t len)
{
    struct sl_grec *r = recs_push(l);
    int i = l->n - 1;
    sl_grec_put_group_key(&l->buf, group);
    r->key_len = (int32_t)l->buf.len - l->koff[i];
    l->voff[i] = (int32_t)l->buf.len;
    sl_wbuf_put(&l->buf, value, (size_t)len);
    r->value_len = len;
}

void sl_gc__recs_finish(struct sl_grec_list *l)
{
    for (int i = 0; i < l->n; i++) {
        l->recs[i].key = l->buf.data + l->koff[i];
        l->recs[i].value = l->recs[i].value_len >= 0 ? l->buf.data + l->voff[i] : NULL;
    }
}

/* ---- writes ---- */

sl_err_t sl_gc__append(struct sl_gcore *gc, const struct sl_grec *recs, int n,
                       sl_gstore_done_fn cb, void *arg)
{
    return sl_gstore_append(gc->st, recs, n, cb, arg, NULL);
}

sl_err_t sl_gc__store_group(struct sl_gcore *gc, struct sl_group *g, const sl_bytes_t *assignments,
                            sl_gstore_done_fn cb, void *arg)
{
    struct sl_grec_group v = {
        .protocol_type = g->protocol_type.len < 0 ? SL_STR_EMPTY : g->protocol_type,
        .generation = g->generation,
        .protocol = g->protocol_name,
        .leader = g->leader ? g->leader->id : SL_STR_NULL,
        .state_ts = g->state_ts,
        .n_members = g->n_members,
    };
    v.members = sl_xcalloc((size_t)(g->n_members ? g->n_members : 1), sizeof(*v.members));
    for (int i = 0; i < g->n_members; i++) {
        const struct sl_gmember *m = g->members[i];
        v.members[i] = (struct sl_grec_member){
            .member_id = m->id,
            .instance_id = m->instance_id,
            .client_id = m->client_id,
            .client_host = m->client_host,
            .rebalance_timeout_ms = m->rebalance_timeout_ms,
            .session_timeout_ms = m->session_timeout_ms,
            .subscription = sl_gc__member_meta(m, g->protocol_name),
            .assignment = assignments ? assignments[i] : m->assignment,
        };
    }
    sl_wbuf_clear(&gc->kbuf);
    sl_wbuf_clear(&gc->vbuf);
    sl_grec_put_group_key(&gc->kbuf, g->id);
    sl_grec_put_group_value(&gc->vbuf, &v);
    free(v.members);
    struct sl_grec rec = {gc->kbuf.data, (int32_t)gc->kbuf.len, gc->vbuf.data,
                          (int32_t)gc->vbuf.len};
    sl_err_t rc = sl_gc__append(gc, &rec, 1, cb, arg);
    if (rc != SL_ERR_NONE)
        return rc;
    if (!g->meta_value)
        gc->n_meta++;
    free(g->meta_value);
    g->meta_len = (int32_t)gc->vbuf.len;
    g->meta_value = sl_xmalloc(gc->vbuf.len ? gc->vbuf.len : 1);
    memcpy(g->meta_value, gc->vbuf.data, gc->vbuf.len);
    return SL_ERR_NONE;
}

/* ---- replay ---- */

struct replay_ctx {
    struct sl_gcore *gc;
    int64_t records, skipped;
};

static struct sl_group *get_or_create(struct sl_gcore *gc, sl_str_t id)
{
    struct sl_group *g = sl_gc__find(gc, id);
    return g ? g : sl_gc__create(gc, id);
}

static void apply_group(struct replay_ctx *rc, sl_str_t id, const uint8_t *value, int32_t len,
                        int64_t off)
{
    struct sl_gcore *gc = rc->gc;
    struct sl_grec_group v;
    struct sl_grec_member_iter it;
    if (!sl_grec_get_group_value(value, (size_t)len, &v, &it)) {
        SL_WARN("group", "offsets log: unreadable group metadata at offset %" PRId64 "; skipped", off);
        rc->skipped++;
        return;
    }
    /* Check every member before changing anything. */
    struct sl_grec_member_iter check = it;
    struct sl_grec_member rm;
    bool bad = false;
    int32_t n = 0;
    while (sl_grec_next_member(&check, &rm, &bad))
        n++;
    if (bad || n != v.n_members) {
        SL_WARN("group", "offsets log: unreadable group members at offset %" PRId64 "; skipped", off);
        rc->skipped++;
        return;
    }
    struct sl_group *g = get_or_create(gc, id);
    sl_gc__clear_members(g);
    sl_gc__free_str(&g->protocol_type);
    sl_gc__free_str(&g->protocol_name);
    g->protocol_type = v.protocol_type.len > 0 ? sl_gc__own(v.protocol_type) : SL_STR_NULL;
    g->protocol_name = sl_gc__own(v.protocol);
    g->generation = v.generation;
    while (sl_grec_next_member(&it, &rm, &bad))
        sl_gc__add_loaded_member(g, &rm, v.protocol_type, v.protocol);
    g->leader = NULL;
    for (int i = 0; i < g->n_members && v.leader.len >= 0; i++) {
        if (sl_str_eq(g->members[i]->id, v.leader))
            g->leader = g->members[i];
    }
    if (!g->leader && g->n_members > 0)
        g->leader = g->members[0];
    g->prev_state = SL_GSTATE_DEAD;
    g->state = g->n_members > 0 ? SL_GSTATE_STABLE : SL_GSTATE_EMPTY;
    g->state_ts = v.state_ts;
    if (!g->meta_value)
        gc->n_meta++;
    free(g->meta_value);
    g->meta_len = len;
    g->meta_value = sl_xmalloc(len > 0 ? (size_t)len : 1);
    memcpy(g->meta_value, value, (size_t)len);
}

static void apply_record(void *ctx, int64_t off, const uint8_t *key, int32_t key_len,
                         const uint8_t *value, int32_t value_len)
{
    struct replay_ctx *rc = ctx;
    struct sl_gcore *gc = rc->gc;
    rc->records++;
    struct sl_grec_key k;
    if (!sl_grec_get_key(key, (size_t)key_len, &k)) {
        SL_WARN("group", "offsets log: unknown record key at offset %" PRId64 "; skipped", off);
        rc->skipped++;
        return;
    }
    if (k.type == SL_GREC_KEY_OFFSET) {
        if (value_len < 0) {
            struct sl_group *g = sl_gc__find(gc, k.group);
            if (g)
                sl_gc__offset_del(g, k.topic, k.partition);
            return;
        }
        struct sl_grec_offset v;
        if (!sl_grec_get_offset_value(value, (size_t)value_len, &v)) {
            SL_WARN("group", "offsets log: unreadable offset at %" PRId64 "; skipped", off);
            rc->skipped++;
            return;
        }
        /* A commit creates its (simple) group, as in Kafka. */
        struct sl_group *g = get_or_create(gc, k.group);
        sl_gc__offset_put(g, k.topic, k.partition, v.offset, v.leader_epoch, v.metadata, v.commit_ts);
        return;
    }
    if (value_len < 0) {
        struct sl_group *g = sl_gc__find(gc, k.group);
        if (g)
            sl_gc__destroy(gc, g);
        return;
    }
    apply_group(rc, k.group, value, value_len, off);
}

sl_err_t sl_gc__replay(struct sl_gcore *gc)
{
    struct replay_ctx rc = {gc, 0, 0};
    sl_err_t err = sl_gstore_replay(gc->st, apply_record, &rc);
    if (err != SL_ERR_NONE)
        return err;
    SL_INFO("group", "offsets log replayed: %" PRId64 " records (%" PRId64 " skipped)", rc.records,
            rc.skipped);
    return SL_ERR_NONE;
}

/* ---- snapshots ---- */

static bool snapshot_due(struct sl_gcore *gc)
{
    int64_t records = sl_gstore_records(gc->st);
    int64_t live = gc->n_offsets + gc->n_meta;
    int64_t dead = records - live;
    if (dead > gc->env.snapshot_min_records && dead > live)
        return true;
    return sl_gstore_bytes(gc->st) > gc->env.snapshot_max_bytes && dead > live / 2;
}

/* Appends the batch in l (if any) and empties l; keeps the first offset. */
static bool snapshot_flush(struct sl_gcore *gc, struct sl_grec_list *l, int64_t *first)
{
    if (l->n == 0)
        return true;
    sl_gc__recs_finish(l);
    int64_t off;
    bool ok = sl_gstore_append(gc->st, l->recs, l->n, NULL, NULL, &off) == SL_ERR_NONE;
    if (ok && *first < 0)
        *first = off;
    sl_gc__recs_free(l);
    sl_gc__recs_init(l);
    return ok;
}

void sl_gc__maybe_snapshot(struct sl_gcore *gc)
{
    if (!gc->loaded || sl_gstore_failed(gc->st) || !snapshot_due(gc))
        return;
    int64_t before = sl_gstore_records(gc->st);
    struct sl_grec_list l;
    sl_gc__recs_init(&l);
    int64_t first = -1;
    bool ok = true;
    uint32_t it = 0;
    struct sl_group *g;
    while (ok && (g = sl_strmap_next(&gc->groups, &it))) {
        if (g->meta_value)
            recs_group_raw(&l, g->id, g->meta_value, g->meta_len);
        uint32_t ti = 0;
        struct sl_gtopic *t;
        while ((t = sl_strmap_next(&g->topics, &ti))) {
            for (int k = 0; k < t->n; k++) {
                sl_gc__recs_offset(&l, g->id, t->name, t->parts[k].partition, &t->parts[k]);
                if (l.n >= SNAPSHOT_BATCH_RECORDS && !(ok = snapshot_flush(gc, &l, &first)))
                    break;
            }
        }
        if (ok && l.n >= SNAPSHOT_BATCH_RECORDS)
            ok = snapshot_flush(gc, &l, &first);
    }
    if (ok)
        ok = snapshot_flush(gc, &l, &first);
    sl_gc__recs_free(&l);
    if (!ok) {
        SL_ERROR("group", "offsets log: snapshot failed; the coordinator can no longer write");
        return;
    }
    /* With nothing live, everything up to the end is dead (-1: the end). */
    sl_err_t rc = sl_gstore_truncate_before(gc->st, first >= 0 ? first : -1);
    if (rc == SL_ERR_NONE)
        SL_INFO("group", "offsets log snapshot: %" PRId64 " records before, %" PRId64 " after",
                before, sl_gstore_records(gc->st));
}
