/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the group coordinator core (src/group): the classic group
 * state machine driven through real request structs with a fake clock
 * (MEMBER_ID_REQUIRED, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
 * REBALANCE_IN_PROGRESS, session expiry, sync expiry, static membership,
 * protocol checks, LeaveGroup batches, abandoned joins), committed offsets
 * (simple commits, generation checks, metadata limit, fetch of all), the
 * admin APIs (list, describe, delete, offset delete), and durability:
 * replay after a "restart", snapshots with truncation, retention expiry.
 * Also the small containers and the record formats.
 *
 * The store is a real partition log in a temporary directory without a
 * flusher: durability callbacks are posted to an event loop the test
 * drains after each operation.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/logging.h"
#include "core/mem.h"
#include "group/core.h"
#include "group/maps.h"
#include "group/records.h"
#include "group/store.h"
#include "net/evloop.h"
#include "protocol/gen/delete_groups.h"
#include "protocol/gen/describe_groups.h"
#include "protocol/gen/heartbeat.h"
#include "protocol/gen/join_group.h"
#include "protocol/gen/leave_group.h"
#include "protocol/gen/list_groups.h"
#include "protocol/gen/offset_commit.h"
#include "protocol/gen/offset_delete.h"
#include "protocol/gen/offset_fetch.h"
#include "protocol/gen/sync_group.h"
#include "storage/batch.h"
#include "storage/fileops.h"
#include "test_help.h"

/* ---- the fake environment ---- */

#define MAX_TIMERS 256
#define MAX_DONE 256

static int64_t fake_now;
static struct sl_timer *timers[MAX_TIMERS];
static int n_timers;
static struct sl_gop *done[MAX_DONE];
static int n_done;
static uint64_t next_id = 1;

static int64_t f_now(void *ctx)
{
    return fake_now;
}

static void f_stop(void *ctx, struct sl_timer *t)
{
    for (int i = 0; i < n_timers; i++) {
        if (timers[i] == t) {
            timers[i] = timers[--n_timers];
            break;
        }
    }
    t->_heap_idx = -1;
}

static void f_start(void *ctx, struct sl_timer *t, int64_t ms)
{
    f_stop(ctx, t);
    t->when_ms = fake_now + ms;
    t->_heap_idx = 0;
    if (n_timers < MAX_TIMERS)
        timers[n_timers++] = t;
}

static void f_complete(void *ctx, struct sl_gop *op)
{
    if (n_done < MAX_DONE)
        done[n_done++] = op;
    else
        sl_gop_free(op);
}

/* Runs the timers due within the next ms milliseconds, in deadline order. */
static void advance(int64_t ms)
{
    int64_t target = fake_now + ms;
    for (;;) {
        int best = -1;
        for (int i = 0; i < n_timers; i++) {
            if (timers[i]->when_ms <= target && (best < 0 || timers[i]->when_ms < timers[best]->when_ms))
                best = i;
        }
        if (best < 0)
            break;
        struct sl_timer *t = timers[best];
        if (t->when_ms > fake_now)
            fake_now = t->when_ms;
        f_stop(NULL, t);
        t->cb(t->arg);
    }
    fake_now = target;
}

static char *tmpdir;
static struct sl_evloop *el;
static struct sl_gstore *st;
static struct sl_gcore *gc;
static struct sl_gcore_env env;

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void open_core(void)
{
    char err[512];
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/__consumer_offsets-0", tmpdir);
    if (sl_gstore_open(&sl_fileops_posix, dir, NULL, el, &st, err, sizeof(err)) != SL_ERR_NONE) {
        fprintf(stderr, "store: %s\n", err);
        exit(2);
    }
    gc = sl_gcore_new(&env, st);
    if (sl_gcore_load(gc) != SL_ERR_NONE) {
        fprintf(stderr, "load failed\n");
        exit(2);
    }
}

static void drop_done(void)
{
    for (int i = 0; i < n_done; i++)
        sl_gop_free(done[i]);
    n_done = 0;
}

static void close_core(void)
{
    sl_gcore_unload(gc);
    sl_evloop_drain(el);
    sl_gcore_free(gc);
    sl_gstore_close(st);
    gc = NULL;
    st = NULL;
    drop_done();
}

/* A fresh core on a fresh directory, default limits, delay 3000. */
static void setup(void)
{
    char tmpl[] = "/tmp/sl_group_XXXXXX";
    tmpdir = strdup(mkdtemp(tmpl));
    el = sl_evloop_new(0, NULL, 0);
    memset(&env, 0, sizeof(env));
    sl_gcore_env_defaults(&env);
    env.now_ms = f_now;
    env.timer_start = f_start;
    env.timer_stop = f_stop;
    env.complete = f_complete;
    fake_now = 1000000;
    n_timers = 0;
    open_core();
}

static void teardown(void)
{
    close_core();
    n_timers = 0;
    sl_evloop_destroy(el);
    nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(tmpdir);
}

/* Restart: close everything and replay the same directory. */
static void restart(void)
{
    close_core();
    n_timers = 0;
    open_core();
}

/* Submits op and runs the durability callbacks it caused. */
static uint64_t submit(struct sl_gop *op)
{
    uint64_t id = next_id++;
    op->id = id;
    sl_gcore_submit(gc, op); /* op may be gone after this */
    sl_evloop_drain(el);
    return id;
}

/* Takes the answered op with this id, or NULL if it is still parked. */
static struct sl_gop *take(uint64_t id)
{
    sl_evloop_drain(el);
    for (int i = 0; i < n_done; i++) {
        if (done[i]->id == id) {
            struct sl_gop *op = done[i];
            done[i] = done[--n_done];
            return op;
        }
    }
    return NULL;
}

/* ---- request builders ---- */

static sl_str_t S(const char *s)
{
    return s ? sl_str_c(s) : SL_STR_NULL;
}

/* ConsumerProtocolSubscription v0: topics, null user data. */
static sl_bytes_t subscription(const char *topic)
{
    static uint8_t buf[256];
    size_t n = strlen(topic);
    uint8_t *p = buf;
    sl_put_be16(p, 0);
    sl_put_be32(p + 2, 1);
    sl_put_be16(p + 6, (uint16_t)n);
    memcpy(p + 8, topic, n);
    sl_put_be32(p + 8 + n, (uint32_t)-1);
    return (sl_bytes_t){buf, (int32_t)(12 + n)};
}

static uint64_t join(int16_t v, const char *group, const char *member, const char *instance,
                     int32_t session_ms, const char *topic)
{
    struct JoinGroupRequest rq;
    sl_codec_init(&sl_desc_JoinGroupRequest, &rq);
    struct JoinGroupRequest_JoinGroupRequestProtocol proto = {S("range"), subscription(topic)};
    rq.group_id = S(group);
    rq.session_timeout_ms = session_ms;
    rq.rebalance_timeout_ms = 10000;
    rq.member_id = S(member ? member : "");
    rq.group_instance_id = S(instance);
    rq.protocol_type = S("consumer");
    rq.protocols.n = 1;
    rq.protocols.a = &proto;
    struct sl_gop *op = sl_gop_new(SL_GOP_JOIN, v, &sl_desc_JoinGroupRequest, &rq,
                                   &sl_desc_JoinGroupResponse);
    op->client_id = S("client");
    op->client_host = S("/127.0.0.1");
    return submit(op);
}

static struct JoinGroupResponse *jresp(struct sl_gop *op)
{
    return op->resp;
}

static uint64_t sync_req(int16_t v, const char *group, const char *member, const char *instance,
                         int32_t gen, const char *assign_to, const char *assignment,
                         const char *proto_name)
{
    struct SyncGroupRequest rq;
    sl_codec_init(&sl_desc_SyncGroupRequest, &rq);
    struct SyncGroupRequest_SyncGroupRequestAssignment a = {
        S(assign_to ? assign_to : ""),
        {(const uint8_t *)(assignment ? assignment : ""), (int32_t)strlen(assignment ? assignment : "")}};
    rq.group_id = S(group);
    rq.generation_id = gen;
    rq.member_id = S(member);
    rq.group_instance_id = S(instance);
    rq.protocol_type = v >= 5 ? S("consumer") : SL_STR_NULL;
    rq.protocol_name = v >= 5 ? S(proto_name) : SL_STR_NULL;
    if (assign_to) {
        rq.assignments.n = 1;
        rq.assignments.a = &a;
    }
    return submit(sl_gop_new(SL_GOP_SYNC, v, &sl_desc_SyncGroupRequest, &rq, &sl_desc_SyncGroupResponse));
}

static int16_t heartbeat(const char *group, const char *member, const char *instance, int32_t gen)
{
    struct HeartbeatRequest rq = {S(group), gen, S(member), S(instance)};
    uint64_t id = submit(
        sl_gop_new(SL_GOP_HEARTBEAT, 4, &sl_desc_HeartbeatRequest, &rq, &sl_desc_HeartbeatResponse));
    struct sl_gop *op = take(id);
    if (!op)
        return -999;
    int16_t e = ((struct HeartbeatResponse *)op->resp)->error_code;
    sl_gop_free(op);
    return e;
}

static int16_t commit(int16_t v, const char *group, const char *member, int32_t gen,
                      const char *topic, int32_t partition, int64_t offset, const char *metadata)
{
    struct OffsetCommitRequest rq;
    sl_codec_init(&sl_desc_OffsetCommitRequest, &rq);
    struct OffsetCommitRequest_OffsetCommitRequestPartition p = {partition, offset, 7,
                                                                S(metadata)};
    struct OffsetCommitRequest_OffsetCommitRequestTopic t = {S(topic), {1, &p}};
    rq.group_id = S(group);
    rq.generation_id_or_member_epoch = gen;
    rq.member_id = S(member ? member : "");
    rq.topics.n = 1;
    rq.topics.a = &t;
    uint64_t id = submit(sl_gop_new(SL_GOP_OFFSET_COMMIT, v, &sl_desc_OffsetCommitRequest, &rq,
                                    &sl_desc_OffsetCommitResponse));
    struct sl_gop *op = take(id);
    if (!op)
        return -999;
    struct OffsetCommitResponse *r = op->resp;
    int16_t e = r->topics.n == 1 && r->topics.a[0].partitions.n == 1
                    ? r->topics.a[0].partitions.a[0].error_code
                    : -998;
    sl_gop_free(op);
    return e;
}

/* The committed offset of one partition (v8 fetch), -1 if none. */
static int64_t fetch_offset(const char *group, const char *topic, int32_t partition,
                            int32_t *epoch)
{
    struct OffsetFetchRequest rq;
    sl_codec_init(&sl_desc_OffsetFetchRequest, &rq);
    int32_t parts[1] = {partition};
    struct OffsetFetchRequest_OffsetFetchRequestTopics t = {S(topic), {1, parts}};
    struct OffsetFetchRequest_OffsetFetchRequestGroup g = {S(group), SL_STR_NULL, -1, {1, &t}};
    rq.groups.n = 1;
    rq.groups.a = &g;
    uint64_t id = submit(sl_gop_new(SL_GOP_OFFSET_FETCH, 8, &sl_desc_OffsetFetchRequest, &rq,
                                    &sl_desc_OffsetFetchResponse));
    struct sl_gop *op = take(id);
    struct OffsetFetchResponse *r = op->resp;
    int64_t off = r->groups.a[0].topics.a[0].partitions.a[0].committed_offset;
    if (epoch)
        *epoch = r->groups.a[0].topics.a[0].partitions.a[0].committed_leader_epoch;
    sl_gop_free(op);
    return off;
}

static char *dup_str(sl_str_t s)
{
    char *p = malloc((size_t)(s.len > 0 ? s.len : 0) + 1);
    if (s.len > 0)
        memcpy(p, s.p, (size_t)s.len);
    p[s.len > 0 ? s.len : 0] = '\0';
    return p;
}

static enum sl_gstate state_of(const char *group)
{
    enum sl_gstate s = SL_GSTATE_DEAD;
    sl_gcore_group_info(gc, group, &s, NULL, NULL);
    return s;
}

/* A one-member Stable group: member id returned (free it). */
static char *stable_group(const char *group, const char *instance, int32_t session_ms)
{
    char *id = NULL;
    uint64_t j;
    if (instance) {
        j = join(5, group, "", instance, session_ms, "t1");
    } else {
        j = join(5, group, "", NULL, session_ms, "t1");
        struct sl_gop *op = take(j);
        id = dup_str(jresp(op)->member_id);
        sl_gop_free(op);
        j = join(5, group, id, NULL, session_ms, "t1");
        free(id);
    }
    advance(env.initial_rebalance_delay_ms);
    struct sl_gop *op = take(j);
    if (!op || jresp(op)->error_code != 0)
        return NULL;
    id = dup_str(jresp(op)->member_id);
    int32_t gen = jresp(op)->generation_id;
    sl_gop_free(op);
    uint64_t s = sync_req(5, group, id, instance, gen, id, "ASSIGN", "range");
    op = take(s);
    if (!op || ((struct SyncGroupResponse *)op->resp)->error_code != 0) {
        sl_gop_free(op);
        free(id);
        return NULL;
    }
    sl_gop_free(op);
    return id;
}

/* ---- tests: membership ---- */

static void test_member_id_required(void)
{
    setup();
    uint64_t j = join(5, "g", "", NULL, 10000, "t1");
    struct sl_gop *op = take(j);
    CHECK(op);
    CHECK_EQ_INT(jresp(op)->error_code, SL_ERR_MEMBER_ID_REQUIRED);
    CHECK(jresp(op)->member_id.len > 7);
    CHECK(memcmp(jresp(op)->member_id.p, "client-", 7) == 0);
    char *id = dup_str(jresp(op)->member_id);
    sl_gop_free(op);
    /* Second join with the id: parked through the initial delay. */
    j = join(5, "g", id, NULL, 10000, "t1");
    CHECK(take(j) == NULL);
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_PREPARING_REBALANCE);
    advance(2999);
    CHECK(take(j) == NULL);
    advance(1);
    op = take(j);
    CHECK(op);
    struct JoinGroupResponse *r = jresp(op);
    CHECK_EQ_INT(r->error_code, 0);
    CHECK_EQ_INT(r->generation_id, 1);
    CHECK(sl_str_eq_c(r->leader, id));
    CHECK(sl_str_eq_c(r->protocol_name, "range"));
    CHECK(sl_str_eq_c(r->protocol_type, "consumer"));
    CHECK_EQ_INT(r->members.n, 1);
    sl_gop_free(op);
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_COMPLETING_REBALANCE);
    uint64_t s = sync_req(5, "g", id, NULL, 1, id, "A1", "range");
    op = take(s);
    CHECK(op);
    struct SyncGroupResponse *sr = op->resp;
    CHECK_EQ_INT(sr->error_code, 0);
    CHECK(sr->assignment.len == 2 && memcmp(sr->assignment.p, "A1", 2) == 0);
    sl_gop_free(op);
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_STABLE);
    /* A pending id that never comes back expires (session timeout). */
    op = take(join(5, "g", "", NULL, 10000, "t1"));
    CHECK_EQ_INT(jresp(op)->error_code, SL_ERR_MEMBER_ID_REQUIRED);
    sl_gop_free(op);
    advance(10001);
    CHECK_EQ_INT(heartbeat("g", id, NULL, 1), SL_ERR_UNKNOWN_MEMBER_ID); /* id expired too */
    free(id);
    teardown();
}

static void test_join_v3_no_two_step(void)
{
    setup();
    uint64_t j = join(3, "g3", "", NULL, 10000, "t1");
    CHECK(take(j) == NULL); /* parked: added at once, waiting for the delay */
    advance(3000);
    struct sl_gop *op = take(j);
    CHECK(op && jresp(op)->error_code == 0 && jresp(op)->generation_id == 1);
    sl_gop_free(op);
    teardown();
}

static void test_errors(void)
{
    setup();
    char *id = stable_group("g", NULL, 10000);
    CHECK(id);
    CHECK_EQ_INT(heartbeat("g", id, NULL, 1), 0);
    CHECK_EQ_INT(heartbeat("g", id, NULL, 2), SL_ERR_ILLEGAL_GENERATION);
    CHECK_EQ_INT(heartbeat("g", "nobody", NULL, 1), SL_ERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(heartbeat("nogroup", id, NULL, 1), SL_ERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(heartbeat("", id, NULL, 1), SL_ERR_INVALID_GROUP_ID);
    struct sl_gop *op = take(sync_req(5, "g", id, NULL, 7, NULL, NULL, "range"));
    CHECK_EQ_INT(((struct SyncGroupResponse *)op->resp)->error_code, SL_ERR_ILLEGAL_GENERATION);
    sl_gop_free(op);
    op = take(sync_req(5, "g", "nobody", NULL, 1, NULL, NULL, "range"));
    CHECK_EQ_INT(((struct SyncGroupResponse *)op->resp)->error_code, SL_ERR_UNKNOWN_MEMBER_ID);
    sl_gop_free(op);
    /* v5: the protocol name must be the group's. */
    op = take(sync_req(5, "g", id, NULL, 1, NULL, NULL, "roundrobin"));
    CHECK_EQ_INT(((struct SyncGroupResponse *)op->resp)->error_code,
                 SL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    sl_gop_free(op);
    /* Session timeout bounds. */
    op = take(join(5, "g", "", NULL, 5999, "t1"));
    CHECK_EQ_INT(jresp(op)->error_code, SL_ERR_INVALID_SESSION_TIMEOUT);
    sl_gop_free(op);
    op = take(join(5, "g", "", NULL, 1800001, "t1"));
    CHECK_EQ_INT(jresp(op)->error_code, SL_ERR_INVALID_SESSION_TIMEOUT);
    sl_gop_free(op);
    /* Unknown member id on a known group, and on an unknown group. */
    op = take(join(5, "g", "ghost", NULL, 10000, "t1"));
    CHECK_EQ_INT(jresp(op)->error_code, SL_ERR_UNKNOWN_MEMBER_ID);
    sl_gop_free(op);
    op = take(join(5, "other", "ghost", NULL, 10000, "t1"));
    CHECK_EQ_INT(jresp(op)->error_code, SL_ERR_UNKNOWN_MEMBER_ID);
    sl_gop_free(op);
    /* Another protocol type on a non-empty group. */
    struct JoinGroupRequest rq;
    sl_codec_init(&sl_desc_JoinGroupRequest, &rq);
    struct JoinGroupRequest_JoinGroupRequestProtocol proto = {S("range"), subscription("t1")};
    rq.group_id = S("g");
    rq.session_timeout_ms = 10000;
    rq.member_id = S("");
    rq.protocol_type = S("connect");
    rq.protocols.n = 1;
    rq.protocols.a = &proto;
    op = take(submit(sl_gop_new(SL_GOP_JOIN, 5, &sl_desc_JoinGroupRequest, &rq,
                                &sl_desc_JoinGroupResponse)));
    CHECK_EQ_INT(jresp(op)->error_code, SL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    sl_gop_free(op);
    free(id);
    teardown();
}

static void test_rebalance_in_progress(void)
{
    setup();
    char *a = stable_group("g", NULL, 10000);
    CHECK(a);
    /* B arrives (v3: added at once): the group rebalances. */
    uint64_t jb = join(3, "g", "", NULL, 10000, "t1");
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_PREPARING_REBALANCE);
    CHECK_EQ_INT(heartbeat("g", a, NULL, 1), SL_ERR_REBALANCE_IN_PROGRESS);
    struct sl_gop *op = take(sync_req(5, "g", a, NULL, 1, NULL, NULL, "range"));
    CHECK_EQ_INT(((struct SyncGroupResponse *)op->resp)->error_code, SL_ERR_REBALANCE_IN_PROGRESS);
    sl_gop_free(op);
    CHECK(take(jb) == NULL);
    /* A rejoins: everyone is in, generation 2 at once. */
    uint64_t ja = join(5, "g", a, NULL, 10000, "t1");
    op = take(ja);
    CHECK(op);
    CHECK_EQ_INT(jresp(op)->generation_id, 2);
    CHECK_EQ_INT(jresp(op)->members.n, 2); /* A stays leader */
    CHECK(sl_str_eq_c(jresp(op)->leader, a));
    sl_gop_free(op);
    op = take(jb);
    CHECK(op);
    CHECK_EQ_INT(jresp(op)->generation_id, 2);
    CHECK_EQ_INT(jresp(op)->members.n, 0);
    char *b = dup_str(jresp(op)->member_id);
    sl_gop_free(op);
    /* Follower syncs first and waits for the leader. */
    uint64_t sb = sync_req(5, "g", b, NULL, 2, NULL, NULL, "range");
    CHECK(take(sb) == NULL);
    CHECK_EQ_INT(heartbeat("g", b, NULL, 2), 0); /* CompletingRebalance: fine */
    op = take(sync_req(5, "g", a, NULL, 2, b, "FORB", "range"));
    CHECK_EQ_INT(((struct SyncGroupResponse *)op->resp)->error_code, 0);
    CHECK_EQ_INT(((struct SyncGroupResponse *)op->resp)->assignment.len, 0); /* A got nothing */
    sl_gop_free(op);
    op = take(sb);
    CHECK(op);
    CHECK(((struct SyncGroupResponse *)op->resp)->assignment.len == 4);
    sl_gop_free(op);
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_STABLE);
    free(a);
    free(b);
    teardown();
}

static void test_session_expiry(void)
{
    setup();
    char *a = stable_group("g", NULL, 6000);
    CHECK(a);
    uint64_t jb = join(3, "g", "", NULL, 6000, "t1");
    struct sl_gop *op = take(join(5, "g", a, NULL, 6000, "t1"));
    CHECK(op && jresp(op)->generation_id == 2);
    sl_gop_free(op);
    op = take(jb);
    char *b = dup_str(jresp(op)->member_id);
    sl_gop_free(op);
    sl_gop_free(take(sync_req(5, "g", a, NULL, 2, a, "AA", "range")));
    sl_gop_free(take(sync_req(5, "g", b, NULL, 2, NULL, NULL, "range")));
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_STABLE);
    /* A heartbeats, B goes silent. */
    for (int i = 0; i < 2; i++) {
        advance(2500);
        CHECK_EQ_INT(heartbeat("g", a, NULL, 2), 0);
    }
    advance(1500);
    /* B's session (6 s) expired by now: it is out and A must rejoin. */
    int n = 0;
    sl_gcore_group_info(gc, "g", NULL, NULL, &n);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(heartbeat("g", b, NULL, 2), SL_ERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(heartbeat("g", a, NULL, 2), SL_ERR_REBALANCE_IN_PROGRESS);
    op = take(join(5, "g", a, NULL, 6000, "t1"));
    CHECK(op && jresp(op)->generation_id == 3 && jresp(op)->members.n == 1);
    sl_gop_free(op);
    /* A joined but never syncs nor heartbeats: removed (session timeout). */
    advance(10001);
    sl_gcore_group_info(gc, "g", NULL, NULL, &n);
    CHECK_EQ_INT(n, 0);
    free(a);
    free(b);
    teardown();
}

static void test_static_member_rejoin(void)
{
    setup();
    char *id1 = stable_group("gs", "instance-1", 10000);
    CHECK(id1);
    CHECK(strncmp(id1, "instance-1-", 11) == 0);
    int32_t gen = 0;
    sl_gcore_group_info(gc, "gs", NULL, &gen, NULL);
    /* The same instance restarts and joins with no member id. */
    struct sl_gop *op = take(join(5, "gs", "", "instance-1", 10000, "t1"));
    CHECK(op);
    CHECK_EQ_INT(jresp(op)->error_code, 0);
    CHECK_EQ_INT(jresp(op)->generation_id, gen); /* no rebalance */
    char *id2 = dup_str(jresp(op)->member_id);
    sl_gop_free(op);
    CHECK(strcmp(id1, id2) != 0);
    CHECK_EQ_INT(state_of("gs"), SL_GSTATE_STABLE);
    /* The old incarnation is fenced; the new one keeps the assignment. */
    CHECK_EQ_INT(heartbeat("gs", id1, "instance-1", gen), SL_ERR_FENCED_INSTANCE_ID);
    CHECK_EQ_INT(heartbeat("gs", id2, "instance-1", gen), 0);
    op = take(sync_req(5, "gs", id2, "instance-1", gen, NULL, NULL, "range"));
    CHECK_EQ_INT(((struct SyncGroupResponse *)op->resp)->error_code, 0);
    CHECK(((struct SyncGroupResponse *)op->resp)->assignment.len == 6 &&
          memcmp(((struct SyncGroupResponse *)op->resp)->assignment.p, "ASSIGN", 6) == 0);
    sl_gop_free(op);
    /* ... and survives a broker restart with its new id. */
    restart();
    CHECK_EQ_INT(state_of("gs"), SL_GSTATE_STABLE);
    CHECK_EQ_INT(heartbeat("gs", id2, "instance-1", gen), 0);
    /* A static member whose session expires is removed. */
    advance(10001);
    CHECK_EQ_INT(heartbeat("gs", id2, "instance-1", gen), SL_ERR_UNKNOWN_MEMBER_ID);
    free(id1);
    free(id2);
    teardown();
}

static void test_leave(void)
{
    setup();
    char *a = stable_group("g", NULL, 10000);
    CHECK(a);
    struct LeaveGroupRequest_MemberIdentity ids[2] = {{S("ghost"), SL_STR_NULL, SL_STR_NULL},
                                                      {S(a), SL_STR_NULL, SL_STR_NULL}};
    struct LeaveGroupRequest rq = {S("g"), SL_STR_EMPTY, {2, ids}};
    struct sl_gop *op = take(submit(sl_gop_new(SL_GOP_LEAVE, 5, &sl_desc_LeaveGroupRequest, &rq,
                                               &sl_desc_LeaveGroupResponse)));
    struct LeaveGroupResponse *r = op->resp;
    CHECK_EQ_INT(r->error_code, 0);
    CHECK_EQ_INT(r->members.n, 2);
    CHECK_EQ_INT(r->members.a[0].error_code, SL_ERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(r->members.a[1].error_code, 0);
    sl_gop_free(op);
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_EMPTY);
    /* v0: one member, the error at the top. */
    struct LeaveGroupRequest r0 = {S("g"), S("ghost"), {0, NULL}};
    op = take(submit(sl_gop_new(SL_GOP_LEAVE, 0, &sl_desc_LeaveGroupRequest, &r0,
                                &sl_desc_LeaveGroupResponse)));
    CHECK_EQ_INT(((struct LeaveGroupResponse *)op->resp)->error_code, SL_ERR_UNKNOWN_MEMBER_ID);
    sl_gop_free(op);
    free(a);
    teardown();
}

static void test_abandoned_join(void)
{
    setup();
    char *a = stable_group("g", NULL, 10000);
    uint64_t jb = join(3, "g", "", NULL, 10000, "t1"); /* parked */
    CHECK(take(jb) == NULL);
    struct sl_gop *ab = sl_gop_new(SL_GOP_ABANDON, 0, NULL, NULL, NULL);
    ab->abandon_id = jb;
    submit(ab);
    /* B is gone: A rejoining completes the rebalance alone. */
    struct sl_gop *op = take(jb);
    CHECK(op); /* answered (to nobody) */
    sl_gop_free(op);
    op = take(join(5, "g", a, NULL, 10000, "t1"));
    CHECK(op && jresp(op)->members.n == 1);
    sl_gop_free(op);
    free(a);
    teardown();
}

/* ---- tests: offsets ---- */

static void test_offsets(void)
{
    setup();
    /* Simple commits: generation -1, no member, group created on the fly. */
    CHECK_EQ_INT(commit(8, "simple", NULL, -1, "t1", 0, 42, "meta"), 0);
    int32_t epoch = 0;
    CHECK_EQ_INT(fetch_offset("simple", "t1", 0, &epoch), 42);
    CHECK_EQ_INT(epoch, 7);
    CHECK_EQ_INT(fetch_offset("simple", "t1", 1, NULL), -1);
    CHECK_EQ_INT(fetch_offset("nogroup", "t1", 0, NULL), -1);
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ_INT(commit(8, "simple", NULL, -1, "t1", 0, 43, big), SL_ERR_OFFSET_METADATA_TOO_LARGE);
    CHECK_EQ_INT(fetch_offset("simple", "t1", 0, NULL), 42);
    /* A generation on an unknown group. */
    CHECK_EQ_INT(commit(8, "nogroup", "m", 1, "t1", 0, 1, ""), SL_ERR_ILLEGAL_GENERATION);
    CHECK_EQ_INT(commit(9, "nogroup", "m", 1, "t1", 0, 1, ""), SL_ERR_GROUP_ID_NOT_FOUND);
    /* A live group: member and generation must match. */
    char *a = stable_group("g", NULL, 10000);
    CHECK_EQ_INT(commit(8, "g", a, 1, "t1", 0, 10, ""), 0);
    CHECK_EQ_INT(commit(8, "g", a, 2, "t1", 0, 11, ""), SL_ERR_ILLEGAL_GENERATION);
    CHECK_EQ_INT(commit(8, "g", "x", 1, "t1", 0, 11, ""), SL_ERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(commit(8, "g", NULL, -1, "t1", 0, 11, ""), SL_ERR_UNKNOWN_MEMBER_ID);
    CHECK_EQ_INT(fetch_offset("g", "t1", 0, NULL), 10);
    /* During CompletingRebalance. */
    uint64_t jb = join(3, "g", "", NULL, 10000, "t1");
    sl_gop_free(take(join(5, "g", a, NULL, 10000, "t1")));
    sl_gop_free(take(jb));
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_COMPLETING_REBALANCE);
    CHECK_EQ_INT(commit(8, "g", a, 2, "t1", 0, 12, ""), SL_ERR_REBALANCE_IN_PROGRESS);
    /* Fetch all (v8, null topics). */
    struct OffsetFetchRequest rq;
    sl_codec_init(&sl_desc_OffsetFetchRequest, &rq);
    struct OffsetFetchRequest_OffsetFetchRequestGroup fg = {S("simple"), SL_STR_NULL, -1, {-1, NULL}};
    rq.groups.n = 1;
    rq.groups.a = &fg;
    struct sl_gop *op = take(submit(sl_gop_new(SL_GOP_OFFSET_FETCH, 8, &sl_desc_OffsetFetchRequest,
                                               &rq, &sl_desc_OffsetFetchResponse)));
    struct OffsetFetchResponse *fr = op->resp;
    CHECK_EQ_INT(fr->groups.n, 1);
    CHECK_EQ_INT(fr->groups.a[0].topics.n, 1);
    CHECK(sl_str_eq_c(fr->groups.a[0].topics.a[0].partitions.a[0].metadata, "meta"));
    sl_gop_free(op);
    /* Everything survives a restart. */
    restart();
    CHECK_EQ_INT(fetch_offset("simple", "t1", 0, &epoch), 42);
    CHECK_EQ_INT(epoch, 7);
    CHECK_EQ_INT(fetch_offset("g", "t1", 0, NULL), 10);
    CHECK_EQ_INT(state_of("simple"), SL_GSTATE_EMPTY);
    CHECK_EQ_INT(state_of("g"), SL_GSTATE_STABLE); /* last stored generation: 1 */
    CHECK_EQ_INT(heartbeat("g", a, NULL, 1), 0);
    free(a);
    teardown();
}

static void test_admin(void)
{
    setup();
    char *a = stable_group("live", NULL, 10000);
    CHECK_EQ_INT(commit(8, "live", a, 1, "t1", 0, 5, ""), 0);
    CHECK_EQ_INT(commit(8, "live", a, 1, "other", 0, 6, ""), 0);
    CHECK_EQ_INT(commit(8, "idle", NULL, -1, "t1", 0, 1, ""), 0);
    /* ListGroups with a state filter (v4, case-insensitive). */
    sl_str_t states[1] = {S("stable")};
    struct ListGroupsRequest lq = {{1, states}, {-1, NULL}};
    struct sl_gop *op = take(submit(sl_gop_new(SL_GOP_LIST, 4, &sl_desc_ListGroupsRequest, &lq,
                                               &sl_desc_ListGroupsResponse)));
    struct ListGroupsResponse *lr = op->resp;
    CHECK_EQ_INT(lr->groups.n, 1);
    CHECK(sl_str_eq_c(lr->groups.a[0].group_id, "live"));
    CHECK(sl_str_eq_c(lr->groups.a[0].group_state, "Stable"));
    sl_gop_free(op);
    /* DescribeGroups: v6 says GROUP_ID_NOT_FOUND, v5 says Dead. */
    sl_str_t names[2] = {S("live"), S("nothing")};
    struct DescribeGroupsRequest dq = {{2, names}, false};
    op = take(submit(sl_gop_new(SL_GOP_DESCRIBE, 6, &sl_desc_DescribeGroupsRequest, &dq,
                                &sl_desc_DescribeGroupsResponse)));
    struct DescribeGroupsResponse *dr = op->resp;
    CHECK_EQ_INT(dr->groups.a[0].error_code, 0);
    CHECK(sl_str_eq_c(dr->groups.a[0].protocol_data, "range"));
    CHECK_EQ_INT(dr->groups.a[0].members.n, 1);
    CHECK(sl_str_eq_c(dr->groups.a[0].members.a[0].client_host, "/127.0.0.1"));
    CHECK_EQ_INT(dr->groups.a[0].members.a[0].member_assignment.len, 6);
    CHECK_EQ_INT(dr->groups.a[1].error_code, SL_ERR_GROUP_ID_NOT_FOUND);
    sl_gop_free(op);
    op = take(submit(sl_gop_new(SL_GOP_DESCRIBE, 5, &sl_desc_DescribeGroupsRequest, &dq,
                                &sl_desc_DescribeGroupsResponse)));
    dr = op->resp;
    CHECK_EQ_INT(dr->groups.a[1].error_code, 0);
    CHECK(sl_str_eq_c(dr->groups.a[1].group_state, "Dead"));
    sl_gop_free(op);
    /* OffsetDelete on a live consumer group: only unsubscribed topics. */
    struct OffsetDeleteRequest_OffsetDeleteRequestPartition p0 = {0};
    struct OffsetDeleteRequest_OffsetDeleteRequestTopic ts[2] = {{S("t1"), {1, &p0}},
                                                                 {S("other"), {1, &p0}}};
    struct OffsetDeleteRequest oq = {S("live"), {2, ts}};
    op = take(submit(sl_gop_new(SL_GOP_OFFSET_DELETE, 0, &sl_desc_OffsetDeleteRequest, &oq,
                                &sl_desc_OffsetDeleteResponse)));
    struct OffsetDeleteResponse *orr = op->resp;
    CHECK_EQ_INT(orr->error_code, 0);
    CHECK_EQ_INT(orr->topics.a[0].partitions.a[0].error_code, SL_ERR_GROUP_SUBSCRIBED_TO_TOPIC);
    CHECK_EQ_INT(orr->topics.a[1].partitions.a[0].error_code, 0);
    sl_gop_free(op);
    CHECK_EQ_INT(fetch_offset("live", "other", 0, NULL), -1);
    CHECK_EQ_INT(fetch_offset("live", "t1", 0, NULL), 5);
    /* DeleteGroups: a group with members is not deleted. */
    sl_str_t del[3] = {S("live"), S("idle"), S("nothing")};
    struct DeleteGroupsRequest xq = {{3, del}};
    op = take(submit(sl_gop_new(SL_GOP_DELETE, 2, &sl_desc_DeleteGroupsRequest, &xq,
                                &sl_desc_DeleteGroupsResponse)));
    struct DeleteGroupsResponse *xr = op->resp;
    CHECK_EQ_INT(xr->results.a[0].error_code, SL_ERR_NON_EMPTY_GROUP);
    CHECK_EQ_INT(xr->results.a[1].error_code, 0);
    CHECK_EQ_INT(xr->results.a[2].error_code, SL_ERR_GROUP_ID_NOT_FOUND);
    sl_gop_free(op);
    CHECK_EQ_INT(state_of("idle"), SL_GSTATE_DEAD); /* gone */
    restart();
    CHECK_EQ_INT(state_of("idle"), SL_GSTATE_DEAD);
    CHECK_EQ_INT(fetch_offset("idle", "t1", 0, NULL), -1);
    CHECK_EQ_INT(fetch_offset("live", "other", 0, NULL), -1);
    CHECK_EQ_INT(fetch_offset("live", "t1", 0, NULL), 5);
    free(a);
    teardown();
}

static void test_snapshot(void)
{
    setup();
    env.snapshot_min_records = 100;
    close_core();
    open_core();
    for (int i = 0; i < 500; i++)
        CHECK_EQ_INT(commit(8, "s", NULL, -1, "t", i % 3, i, "m"), 0);
    CHECK_EQ_INT(commit(8, "s2", NULL, -1, "t", 0, 99, ""), 0);
    /* Far fewer records than were written stay in the log. */
    int64_t left = sl_gstore_records(st);
    CHECK(left < 250);
    restart();
    CHECK_EQ_INT(fetch_offset("s", "t", 0, NULL), 498);
    CHECK_EQ_INT(fetch_offset("s", "t", 1, NULL), 499);
    CHECK_EQ_INT(fetch_offset("s", "t", 2, NULL), 497);
    CHECK_EQ_INT(fetch_offset("s2", "t", 0, NULL), 99);
    CHECK_EQ_INT(sl_gcore_n_offsets(gc), 4);
    teardown();
}

static void test_retention(void)
{
    setup();
    CHECK_EQ_INT(commit(8, "old", NULL, -1, "t", 0, 1, ""), 0);
    advance(env.offsets_retention_ms / 2);
    CHECK_EQ_INT(commit(8, "new", NULL, -1, "t", 0, 2, ""), 0);
    advance(env.offsets_retention_ms / 2 + env.offsets_retention_check_ms);
    CHECK_EQ_INT(state_of("old"), SL_GSTATE_DEAD);
    CHECK_EQ_INT(fetch_offset("new", "t", 0, NULL), 2);
    restart();
    CHECK_EQ_INT(state_of("old"), SL_GSTATE_DEAD);
    CHECK_EQ_INT(fetch_offset("new", "t", 0, NULL), 2);
    teardown();
}

/* ---- tests: building blocks ---- */

static void test_maps(void)
{
    struct sl_strmap m;
    sl_strmap_init(&m);
    char keys[1000][16];
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        sl_strmap_put(&m, sl_str_c(keys[i]), keys[i]);
    }
    for (int i = 0; i < 1000; i += 2)
        CHECK(sl_strmap_del(&m, sl_str_c(keys[i])) == keys[i]);
    CHECK_EQ_INT(m.n, 500);
    for (int i = 0; i < 1000; i++)
        CHECK(sl_strmap_get(&m, sl_str_c(keys[i])) == (i % 2 ? keys[i] : NULL));
    sl_strmap_destroy(&m);
    struct sl_u64map u;
    sl_u64map_init(&u);
    for (uint64_t i = 1; i <= 5000; i++)
        sl_u64map_put(&u, i * 7919, (void *)(uintptr_t)i);
    for (uint64_t i = 1; i <= 5000; i += 3)
        CHECK(sl_u64map_del(&u, i * 7919) == (void *)(uintptr_t)i);
    for (uint64_t i = 1; i <= 5000; i++)
        CHECK(sl_u64map_get(&u, i * 7919) == ((i - 1) % 3 ? (void *)(uintptr_t)i : NULL));
    sl_u64map_destroy(&u);
}

static void test_records(void)
{
    struct sl_wbuf k, v, b;
    sl_wbuf_init(&k);
    sl_wbuf_init(&v);
    sl_wbuf_init(&b);
    sl_grec_put_offset_key(&k, S("grp"), S("topic"), 3);
    struct sl_grec_offset o = {123, 4, S("md"), 99}, o2;
    sl_grec_put_offset_value(&v, &o);
    struct sl_grec_key key;
    CHECK(sl_grec_get_key(k.data, k.len, &key));
    CHECK_EQ_INT(key.type, SL_GREC_KEY_OFFSET);
    CHECK(sl_str_eq_c(key.group, "grp") && sl_str_eq_c(key.topic, "topic") && key.partition == 3);
    CHECK(sl_grec_get_offset_value(v.data, v.len, &o2));
    CHECK(o2.offset == 123 && o2.leader_epoch == 4 && sl_str_eq_c(o2.metadata, "md") &&
          o2.commit_ts == 99);
    CHECK(!sl_grec_get_key(k.data, k.len - 1, &key)); /* truncated */
    struct sl_grec recs[2] = {{k.data, (int32_t)k.len, v.data, (int32_t)v.len},
                              {k.data, (int32_t)k.len, NULL, -1}};
    sl_grec_build_batch(&b, recs, 2, 5);
    struct sl_batch_info info;
    CHECK_EQ_INT(sl_batch_parse(b.data, b.len, &info), SL_ERR_NONE);
    CHECK_EQ_INT(info.records_count, 2);
    /* A group value with a member round-trips. */
    sl_wbuf_clear(&v);
    struct sl_grec_member gm = {S("m1"), SL_STR_NULL, S("c"), S("/h"), 100, 200,
                                {(const uint8_t *)"sub", 3}, {(const uint8_t *)"as", 2}};
    struct sl_grec_group gv = {S("consumer"), 5, S("range"), S("m1"), 77, 1, &gm};
    sl_grec_put_group_value(&v, &gv);
    struct sl_grec_group g2;
    struct sl_grec_member_iter it;
    CHECK(sl_grec_get_group_value(v.data, v.len, &g2, &it));
    CHECK(g2.generation == 5 && g2.n_members == 1 && sl_str_eq_c(g2.protocol, "range"));
    struct sl_grec_member m2;
    bool bad;
    CHECK(sl_grec_next_member(&it, &m2, &bad));
    CHECK(sl_str_eq_c(m2.member_id, "m1") && m2.instance_id.len == -1 && m2.assignment.len == 2);
    CHECK(!sl_grec_next_member(&it, &m2, &bad) && !bad);
    CHECK(!sl_grec_get_group_value(v.data, 20, &g2, &it) || !sl_grec_next_member(&it, &m2, &bad));
    sl_wbuf_destroy(&k);
    sl_wbuf_destroy(&v);
    sl_wbuf_destroy(&b);
}

int main(void)
{
    sl_log_min_level = SL_LOG_WARN;
    TEST_RUN(test_maps);
    TEST_RUN(test_records);
    TEST_RUN(test_member_id_required);
    TEST_RUN(test_join_v3_no_two_step);
    TEST_RUN(test_errors);
    TEST_RUN(test_rebalance_in_progress);
    TEST_RUN(test_session_expiry);
    TEST_RUN(test_static_member_rejoin);
    TEST_RUN(test_leave);
    TEST_RUN(test_abandoned_join);
    TEST_RUN(test_offsets);
    TEST_RUN(test_admin);
    TEST_RUN(test_snapshot);
    TEST_RUN(test_retention);
    TEST_REPORT();
}
