/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of src/core (arena, wbuf, CRC-32C) and the event loop
 * (timers, cross-thread posts).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/crc32c.h"
#include "core/wbuf.h"
#include "core/workq.h"
#include "net/evloop.h"
#include "test_help.h"

static void test_crc32c_vectors(void)
{
    CHECK_EQ_INT(sl_crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ_INT(sl_crc32c(0, "", 0), 0);
    /* Incremental equals one-shot, across the 8-byte hardware stride. */
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    uint32_t whole = sl_crc32c(0, buf, sizeof(buf));
    for (size_t cut = 0; cut <= 1000; cut += 37)
        CHECK_EQ_INT(sl_crc32c(sl_crc32c(0, buf, cut), buf + cut, 1000 - cut), whole);
}

static void test_arena(void)
{
    struct sl_arena a;
    sl_arena_init(&a);
    uint8_t *p = sl_arena_alloc(&a, 10);
    CHECK(((uintptr_t)p & 15) == 0);
    for (int i = 0; i < 10; i++)
        CHECK(p[i] == 0);
    /* Larger than a block. */
    uint8_t *big = sl_arena_alloc(&a, 200000);
    memset(big, 0xab, 200000);
    char *s = sl_arena_printf(&a, "%s-%d", "x", 42);
    CHECK(strcmp(s, "x-42") == 0);
    sl_arena_reset(&a);
    CHECK_EQ_INT(sl_arena_used(&a), 0);
    uint8_t *q = sl_arena_alloc(&a, 64);
    for (int i = 0; i < 64; i++)
        CHECK(q[i] == 0); /* reused blocks are zeroed again */
    sl_arena_destroy(&a);
}

static int released;
static void count_release(void *arg)
{
    released += (int)(intptr_t)arg;
}

static void test_wbuf(void)
{
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_wbuf_put_i16(&w, 0x0102);
    sl_wbuf_put_i32(&w, -2);
    sl_wbuf_put_uvarint(&w, 300);
    sl_wbuf_put_varint(&w, -1);
    const uint8_t expect[] = {1, 2, 0xff, 0xff, 0xff, 0xfe, 0xac, 0x02, 0x01};
    CHECK_EQ_INT(w.len, sizeof(expect));
    CHECK(memcmp(w.data, expect, sizeof(expect)) == 0);
    static const uint8_t ext[5] = "hello";
    sl_wbuf_add_mem(&w, ext, 5, count_release, (void *)(intptr_t)1);
    sl_wbuf_add_file(&w, 3, 100, 7, count_release, (void *)(intptr_t)10);
    CHECK_EQ_INT(sl_wbuf_total(&w), sizeof(expect) + 12);
    CHECK_EQ_INT(w.ext[0].at, sizeof(expect));
    released = 0;
    sl_wbuf_clear(&w);
    CHECK_EQ_INT(released, 11); /* each release ran once */
    CHECK_EQ_INT(sl_wbuf_total(&w), 0);
    sl_wbuf_destroy(&w);
    CHECK_EQ_INT(released, 11);
}

static struct loop_ctx *g_ctx;

struct loop_ctx {
    struct sl_evloop *el;
    int order[4];
    int n;
    atomic_int posted;
};

static void never(void *arg)
{
    g_ctx->order[g_ctx->n++] = 99; /* a stopped timer must not fire */
}

static void fire1(void *arg)
{
    g_ctx->order[g_ctx->n++] = 1;
}
static void fire2(void *arg)
{
    g_ctx->order[g_ctx->n++] = 2;
}
static void fire3(void *arg)
{
    g_ctx->order[g_ctx->n++] = 3;
    sl_evloop_stop(g_ctx->el);
}
static void on_post(void *arg)
{
    atomic_fetch_add(&g_ctx->posted, 1);
}

static void *poster(void *arg)
{
    struct loop_ctx *c = arg;
    for (int i = 0; i < 1000; i++)
        sl_evloop_post(c->el, on_post, NULL);
    return NULL;
}

static void test_evloop_timers_and_posts(void)
{
    char err[128];
    struct loop_ctx ctx = {0};
    g_ctx = &ctx;
    ctx.el = sl_evloop_new(0, err, sizeof(err));
    CHECK(ctx.el != NULL);
    struct sl_timer a, b, c, cancelled;
    sl_timer_init(&a, fire1, NULL);
    sl_timer_init(&b, fire2, NULL);
    sl_timer_init(&c, fire3, NULL);
    sl_timer_init(&cancelled, never, NULL);
    sl_timer_start(ctx.el, &b, 40);
    sl_timer_start(ctx.el, &a, 10);
    sl_timer_start(ctx.el, &cancelled, 20);
    sl_timer_start(ctx.el, &c, 80);
    sl_timer_stop(ctx.el, &cancelled);
    CHECK(!sl_timer_armed(&cancelled));
    pthread_t th;
    pthread_create(&th, NULL, poster, &ctx);
    sl_evloop_run(ctx.el);
    pthread_join(th, NULL);
    sl_evloop_drain(ctx.el); /* posts that arrived after the stop */
    CHECK_EQ_INT(ctx.n, 3);
    CHECK_EQ_INT(ctx.order[0], 1);
    CHECK_EQ_INT(ctx.order[1], 2);
    CHECK_EQ_INT(ctx.order[2], 3);
    CHECK_EQ_INT(atomic_load(&ctx.posted), 1000);
    sl_evloop_destroy(ctx.el);
}

/* The work queue: one thread runs jobs in push order and on another
 * thread than the pusher's; several threads run them all; freeing the
 * queue runs what is still queued. */
struct wq_rec {
    pthread_mutex_t mu;
    int order[64];
    int n;
    pthread_t pusher;
    bool other_thread;
    pthread_mutex_t gate; /* held by the test: the first job waits on it */
};

struct wq_job {
    struct wq_rec *rec;
    int i;
};

static void wq_fn(void *arg)
{
    struct wq_job *j = arg;
    struct wq_rec *r = j->rec;
    if (j->i == 0) {
        pthread_mutex_lock(&r->gate);
        pthread_mutex_unlock(&r->gate);
    }
    pthread_mutex_lock(&r->mu);
    r->order[r->n++] = j->i;
    r->other_thread = !pthread_equal(pthread_self(), r->pusher);
    pthread_mutex_unlock(&r->mu);
}

static void test_workq(void)
{
    static struct wq_rec r;
    static struct wq_job jobs[64];
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_mutex_init(&r.gate, NULL);
    r.pusher = pthread_self();
    struct sl_workq *q = sl_workq_new(1, "test-wq");
    CHECK(q != NULL);
    /* The first job blocks at the gate while 9 more queue behind it; the
     * free lets them all run, in order. */
    pthread_mutex_lock(&r.gate);
    for (int i = 0; i < 10; i++) {
        jobs[i] = (struct wq_job){&r, i};
        sl_workq_push(q, wq_fn, &jobs[i]);
    }
    CHECK_EQ_INT(r.n, 0);
    pthread_mutex_unlock(&r.gate);
    sl_workq_free(q);
    CHECK_EQ_INT(r.n, 10);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(r.order[i], i);
    CHECK(r.other_thread);
    /* Four threads: every job runs once. */
    r.n = 0;
    q = sl_workq_new(4, "test-wq");
    CHECK(q != NULL);
    for (int i = 0; i < 64; i++) {
        jobs[i] = (struct wq_job){&r, i + 1};
        sl_workq_push(q, wq_fn, &jobs[i]);
    }
    sl_workq_free(q);
    CHECK_EQ_INT(r.n, 64);
    int seen[65] = {0};
    for (int i = 0; i < 64; i++)
        seen[r.order[i]]++;
    for (int i = 1; i <= 64; i++)
        CHECK_EQ_INT(seen[i], 1);
    sl_workq_free(NULL);
    pthread_mutex_destroy(&r.mu);
    pthread_mutex_destroy(&r.gate);
}

int main(void)
{
    TEST_RUN(test_crc32c_vectors);
    TEST_RUN(test_arena);
    TEST_RUN(test_wbuf);
    TEST_RUN(test_evloop_timers_and_posts);
    TEST_RUN(test_workq);
    TEST_REPORT();
}
