/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to the group core (core.c: membership and rebalancing; offsets.c:
 * committed offsets and the admin APIs; persist.c: records, replay,
 * snapshots and retention). Everything here runs on the coordinator thread.
 *
 * Strings kept by the core are owned sl_str_t copies (malloc'd, also
 * NUL-terminated for logging); a null string has len -1 and p NULL.
 */
#ifndef SL_GROUP_CORE_INT_H
#define SL_GROUP_CORE_INT_H

#include "group/core.h"
#include "group/maps.h"
#include "group/records.h"
#include "group/store.h"

#define SL_GC_CONSUMER_PROTOCOL "consumer"

/* One protocol a member supports, in the member's order of preference. */
struct sl_gproto {
    sl_str_t name;
    sl_bytes_t meta;
};

struct sl_gmember {
    struct sl_group *g;
    sl_str_t id;
    sl_str_t instance_id; /* null: dynamic member */
    sl_str_t client_id, client_host;
    int32_t rebalance_timeout_ms, session_timeout_ms;
    struct sl_gproto *protos;
    int n_protos;
    sl_bytes_t assignment; /* owned; empty when none */
    struct sl_gop *join_op; /* parked JoinGroup ("awaiting join") */
    struct sl_gop *sync_op; /* parked SyncGroup ("awaiting sync") */
    bool is_new;            /* joined in the current rebalance, not yet in a generation */
    bool pending_sync;      /* expected to send SyncGroup this generation */
    struct sl_timer hb;     /* session (heartbeat) expiry */
};

/* A member id handed out with MEMBER_ID_REQUIRED, not yet joined. */
struct sl_gpending {
    struct sl_group *g;
    sl_str_t id;
    struct sl_timer hb;
};

/* The committed offset of one partition. */
struct sl_goffset {
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    sl_str_t metadata; /* owned, never null */
    int64_t commit_ts;
};

struct sl_gtopic {
    sl_str_t name;
    struct sl_goffset *parts; /* sorted by partition */
    int n, cap;
};

enum sl_gjoin_timer {
    SL_GJOIN_NONE = 0,
    SL_GJOIN_INITIAL,   /* group.initial.rebalance.delay.ms of a new group */
    SL_GJOIN_REBALANCE, /* the rebalance timeout */
};

struct sl_group {
    struct sl_gcore *gc;
    sl_str_t id;
    enum sl_gstate state, prev_state;
    int64_t state_ts;         /* wall ms of the last transition */
    sl_str_t protocol_type;   /* null: none yet */
    sl_str_t protocol_name;   /* null: none selected */
    int32_t generation;
    struct sl_gmember *leader;
    struct sl_gmember **members; /* in order of joining */
    int n_members, cap_members;
    struct sl_strmap by_id;       /* member id -> member */
    struct sl_strmap by_instance; /* group.instance.id -> member */
    struct sl_strmap pending;     /* member id -> struct sl_gpending */
    int n_awaiting_join;
    int n_pending_sync;
    bool new_member_added;
    struct sl_timer join_timer;
    enum sl_gjoin_timer join_kind;
    int32_t join_delay_ms, join_remaining_ms; /* SL_GJOIN_INITIAL */
    struct sl_timer sync_timer;
    int32_t sync_generation;
    /* Topics the members subscribe to (consumer protocol only). */
    bool subs_known;
    sl_str_t *subs;
    int n_subs;
    /* Committed offsets. */
    struct sl_strmap topics; /* name -> struct sl_gtopic */
    int32_t n_offsets;
    /* The last GroupMetadataValue written for this group (snapshots copy
     * it), or NULL. */
    uint8_t *meta_value;
    int32_t meta_len;
};

struct sl_gcore {
    struct sl_gcore_env env;
    struct sl_gstore *st;
    struct sl_strmap groups;   /* id -> struct sl_group */
    struct sl_u64map held;     /* op id -> parked JoinGroup/SyncGroup op */
    int64_t n_offsets;         /* over all groups */
    int64_t n_meta;            /* groups with a stored metadata record */
    struct sl_timer expire_timer;
    bool loaded;
    struct sl_wbuf kbuf, vbuf; /* scratch for record encoding */
};

/* ---- strings (core.c) ---- */
sl_str_t sl_gc__own(sl_str_t s);
void sl_gc__free_str(sl_str_t *s);
sl_bytes_t sl_gc__own_bytes(sl_bytes_t b);
void sl_gc__free_bytes(sl_bytes_t *b);

/* ---- time (core.c) ---- */
int64_t sl_gc__now(struct sl_gcore *gc);
void sl_gc__timer_start(struct sl_gcore *gc, struct sl_timer *t, int64_t ms);
void sl_gc__timer_stop(struct sl_gcore *gc, struct sl_timer *t);
void sl_gc__complete(struct sl_gcore *gc, struct sl_gop *op);

/* ---- groups (core.c) ---- */
struct sl_group *sl_gc__find(struct sl_gcore *gc, sl_str_t id);
struct sl_group *sl_gc__create(struct sl_gcore *gc, sl_str_t id);
/* Removes the group from the core and frees it (no parked ops allowed). */
void sl_gc__destroy(struct sl_gcore *gc, struct sl_group *g);
/* Replaces the member list (replay). Members are created idle. */
struct sl_gmember *sl_gc__add_loaded_member(struct sl_group *g, const struct sl_grec_member *rm,
                                            sl_str_t protocol_type, sl_str_t protocol);
void sl_gc__clear_members(struct sl_group *g);
void sl_gc__compute_subscriptions(struct sl_group *g);
bool sl_gc__subscribed(const struct sl_group *g, sl_str_t topic);
void sl_gc__reschedule_heartbeat(struct sl_gmember *m, int64_t ms);
void sl_gc__transition(struct sl_group *g, enum sl_gstate to);
/* The member's metadata for protocol `name` (empty if none). */
sl_bytes_t sl_gc__member_meta(const struct sl_gmember *m, sl_str_t name);
/* Validates member_id / instance_id against the group (Kafka's
 * validateMember): NONE, UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID. */
int16_t sl_gc__validate_member(struct sl_group *g, sl_str_t member_id, sl_str_t instance_id);
void sl_gc__join(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__sync(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__heartbeat(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__leave(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__abandon(struct sl_gcore *gc, uint64_t id);

/* ---- offsets and admin (offsets.c) ---- */
struct sl_goffset *sl_gc__offset_get(struct sl_group *g, sl_str_t topic, int32_t partition);
void sl_gc__offset_put(struct sl_group *g, sl_str_t topic, int32_t partition, int64_t offset,
                       int32_t leader_epoch, sl_str_t metadata, int64_t commit_ts);
bool sl_gc__offset_del(struct sl_group *g, sl_str_t topic, int32_t partition);
void sl_gc__offsets_clear(struct sl_group *g);
void sl_gc__offset_commit(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__offset_fetch(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__offset_delete(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__list_groups(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__describe_groups(struct sl_gcore *gc, struct sl_gop *op);
void sl_gc__delete_groups(struct sl_gcore *gc, struct sl_gop *op);
/* Kafka's mapping of an append error to the code a group API returns. */
int16_t sl_gc__append_error(sl_err_t err);

/* ---- persistence (persist.c) ---- */
/* Writes the group's metadata record (with the given assignment per member,
 * in member order; NULL: the members' current ones). cb(arg, err) runs once
 * it is durable (may be NULL). Returns the append result (on failure cb
 * does not run). */
sl_err_t sl_gc__store_group(struct sl_gcore *gc, struct sl_group *g, const sl_bytes_t *assignments,
                            sl_gstore_done_fn cb, void *arg);
/* Appends pre-encoded records; see sl_gstore_append. Afterwards checks
 * whether a snapshot is due. */
sl_err_t sl_gc__append(struct sl_gcore *gc, const struct sl_grec *recs, int n,
                       sl_gstore_done_fn cb, void *arg);
/* Record builders into a growing list (keys/values copied into *buf). */
struct sl_grec_list {
    struct sl_grec *recs;
    int n, cap;
    struct sl_wbuf buf; /* key and value bytes, referenced by offset until finish */
    int32_t *koff, *voff;
};
void sl_gc__recs_init(struct sl_grec_list *l);
void sl_gc__recs_free(struct sl_grec_list *l);
void sl_gc__recs_offset(struct sl_grec_list *l, sl_str_t group, sl_str_t topic, int32_t partition,
                        const struct sl_goffset *o); /* o NULL: tombstone */
void sl_gc__recs_group_tombstone(struct sl_grec_list *l, sl_str_t group);
/* Resolves the record views (after the last add). */
void sl_gc__recs_finish(struct sl_grec_list *l);
sl_err_t sl_gc__replay(struct sl_gcore *gc);
void sl_gc__expire_offsets(struct sl_gcore *gc);
void sl_gc__maybe_snapshot(struct sl_gcore *gc);

#endif
