/* SPDX-License-Identifier: Apache-2.0
 *
 * The group coordinator's state: classic consumer groups (Kafka's
 * ClassicGroup state machine: Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead), their members and timers, committed
 * offsets, and the records that make both durable (group/store.h).
 *
 * The core is single-threaded and knows nothing about connections: it is
 * fed operations (struct sl_gop: a deep copy of a decoded request plus a
 * response struct to fill) and hands each one back exactly once through
 * env->complete, at once or later (a JoinGroup waits for the rebalance, an
 * OffsetCommit for durability). Time and timers come from the environment,
 * so unit tests can drive the state machine with a fake clock; the
 * coordinator thread (group/coordinator.c) supplies the real ones.
 *
 * Ownership: sl_gcore_submit takes the op; env->complete gives it back
 * (with its response filled). Ops of kind SL_GOP_ABANDON are freed by the
 * core (with sl_gop_free) and never completed.
 */
#ifndef SL_GROUP_CORE_H
#define SL_GROUP_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "group/gmem.h"
#include "net/evloop.h"
#include "protocol/codec.h"
#include "sluice/err.h"

struct sl_gstore;
struct sl_gcore;
struct sl_netloop;

enum sl_gstate {
    SL_GSTATE_EMPTY = 0,
    SL_GSTATE_PREPARING_REBALANCE,
    SL_GSTATE_COMPLETING_REBALANCE,
    SL_GSTATE_STABLE,
    SL_GSTATE_DEAD,
    SL_GSTATE_MAX
};

enum sl_gop_kind {
    SL_GOP_JOIN = 0,
    SL_GOP_SYNC,
    SL_GOP_HEARTBEAT,
    SL_GOP_LEAVE,
    SL_GOP_OFFSET_COMMIT,
    SL_GOP_OFFSET_FETCH,
    SL_GOP_LIST,
    SL_GOP_DESCRIBE,
    SL_GOP_DELETE,
    SL_GOP_OFFSET_DELETE,
    SL_GOP_ABANDON, /* a parked JoinGroup/SyncGroup whose connection closed */
    SL_GOP_KIND_MAX
};

/* One group request on its way through the coordinator. */
struct sl_gop {
    uint64_t id;            /* non-zero, unique per broker run */
    enum sl_gop_kind kind;
    int16_t version;        /* request version */
    struct sl_gmem mem;     /* everything below points into it */
    void *req;              /* decoded request (deep copy) */
    void *resp;             /* response struct, defaults set, filled by the core */
    const struct sl_msgdesc *resp_desc;
    sl_str_t client_id;     /* request header client id */
    sl_str_t client_host;   /* "/<ip>", as Kafka shows it */
    /* OffsetCommit and OffsetDelete: per partition in request order (topics
     * flattened), DeleteGroups: per group, an error the handler already
     * decided (UNKNOWN_TOPIC_OR_PARTITION, an authorization failure), or 0. */
    int16_t *pre_err;
    int32_t n_pre;
    /* Set by the handler when the whole request is refused before it
     * reaches the coordinator (GROUP_AUTHORIZATION_FAILED): answered with
     * sl_gop_fail(op, fail_err) on the network thread. */
    int16_t fail_err;
    uint64_t abandon_id;    /* SL_GOP_ABANDON: the op given up */
    struct sl_netloop *nl;  /* where the answer goes (coordinator.c) */
    /* Core-private. */
    void *_member;          /* join/sync: the member holding this op */
    bool *_written;         /* OffsetCommit/OffsetDelete: partitions sent to the log */
};

/* Allocates an op of `kind` for request version `version` (caller memory
 * policy: sl_gop_free). resp_desc describes the response struct, which is
 * allocated and default-initialised in op->mem; if req_desc and req are
 * given, the request is deep-copied into op->mem. */
struct sl_gop *sl_gop_new(enum sl_gop_kind kind, int16_t version, const struct sl_msgdesc *req_desc,
                          const void *req, const struct sl_msgdesc *resp_desc);
void sl_gop_free(struct sl_gop *op);

/* Fills op->resp with the answer Kafka gives when the whole request fails
 * with err (COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR, ...), in the
 * shape of the op's API and version. Any thread that owns the op. */
void sl_gop_fail(struct sl_gop *op, int16_t err);

struct sl_gcore_env {
    /* Wall-clock milliseconds (commit timestamps, state timestamps). */
    int64_t (*now_ms)(void *ctx);
    /* Arm / disarm a timer (re-arming moves it). */
    void (*timer_start)(void *ctx, struct sl_timer *t, int64_t ms);
    void (*timer_stop)(void *ctx, struct sl_timer *t);
    /* The op is answered: takes it. */
    void (*complete)(void *ctx, struct sl_gop *op);
    void *ctx;
    /* Limits (Kafka's defaults unless a test lowers them). */
    int32_t initial_rebalance_delay_ms;   /* group.initial.rebalance.delay.ms, 3000 */
    int32_t min_session_timeout_ms;       /* group.min.session.timeout.ms, 6000 */
    int32_t max_session_timeout_ms;       /* group.max.session.timeout.ms, 1800000 */
    int32_t new_member_join_timeout_ms;   /* 300000 */
    int32_t offset_metadata_max_bytes;    /* offset.metadata.max.bytes, 4096 */
    int64_t offsets_retention_ms;         /* offsets.retention.minutes, 7 days */
    int64_t offsets_retention_check_ms;   /* offsets.retention.check.interval.ms, 600000 */
    int64_t snapshot_min_records;         /* dead records before a snapshot, 50000 */
    int64_t snapshot_max_bytes;           /* log size that forces a snapshot, 64 MiB */
};

/* Fills env's limits with the defaults above (callbacks untouched). */
void sl_gcore_env_defaults(struct sl_gcore_env *env);

/* A new, empty core over store st (borrowed; must outlive the core). env is
 * copied. */
struct sl_gcore *sl_gcore_new(const struct sl_gcore_env *env, struct sl_gstore *st);

/* Rebuilds the state from the store (replay), then arms member session
 * timers and the retention check. Returns SL_ERR_NONE or
 * SL_ERR_KAFKA_STORAGE_ERROR (the caller must not serve). */
sl_err_t sl_gcore_load(struct sl_gcore *gc);

/* Processes one op (takes it). */
void sl_gcore_submit(struct sl_gcore *gc, struct sl_gop *op);

/* Housekeeping between events: writes a snapshot of the live state and
 * truncates the log when enough dead records piled up. Call when the state
 * is consistent (the coordinator does it before each sleep; sl_gcore_submit
 * does it after each op). */
void sl_gcore_maintain(struct sl_gcore *gc);

/* Unloads every group (Kafka's onUnloaded): parked JoinGroup and SyncGroup
 * requests are answered NOT_COORDINATOR, timers stop, groups are freed.
 * Appends still in flight complete later as usual. */
void sl_gcore_unload(struct sl_gcore *gc);

/* Frees the core (after sl_gcore_unload). */
void sl_gcore_free(struct sl_gcore *gc);

/* Kafka's name of a state ("PreparingRebalance", ...). */
const char *sl_gstate_name(enum sl_gstate s);

/* Introspection for tests and logs: the group's state, generation and
 * member count. Returns false if the group does not exist. */
bool sl_gcore_group_info(struct sl_gcore *gc, const char *group_id, enum sl_gstate *state,
                         int32_t *generation, int *n_members);

/* Number of groups and of committed offsets held in memory. */
int sl_gcore_n_groups(struct sl_gcore *gc);
int64_t sl_gcore_n_offsets(struct sl_gcore *gc);

#endif
