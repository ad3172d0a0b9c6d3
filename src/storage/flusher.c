/* SPDX-License-Identifier: Apache-2.0
 *
 * The group-commit flusher (see flusher.h). One thread loops: wait for
 * requests, take the whole queue (that is the round), flush each log named
 * in it once, run the callbacks in request order, recycle the request nodes.
 * Deduplication needs no sorting: after the first request of a log flushes
 * it, the log's flushed offset covers every other request of that log in the
 * round (they were all made before the round began, so their end offsets are
 * at most the end offset that flush captured), and those requests complete
 * without another fdatasync.
 */
#include "storage/flusher.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/logging.h"
#include "core/mem.h"
#include "storage/log.h"

struct flush_req {
    struct flush_req *next;
    struct sl_log *log;
    int64_t end_offset;
    void (*cb)(void *arg, int err);
    void *arg;
};

struct sl_flusher {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct flush_req *head, *tail; /* pending, FIFO (mu) */
    struct flush_req *free_list;   /* recycled nodes (mu) */
    bool stopping;                 /* mu */
    _Atomic uint64_t rounds;
};

static void run_round(struct sl_flusher *f, struct flush_req *batch)
{
    for (struct flush_req *r = batch; r; r = r->next) {
        int err = 0;
        if (sl_log_flushed_offset(r->log) < r->end_offset) {
            err = sl_log_flush(r->log);
            if (err == 0 && sl_log_flushed_offset(r->log) < r->end_offset)
                err = SL_ERR__INVAL; /* asked for more than was appended */
        }
        r->cb(r->arg, err);
        sl_log_unref(r->log);
        r->log = NULL;
    }
    atomic_fetch_add(&f->rounds, 1);
}

static void *flusher_main(void *arg)
{
    struct sl_flusher *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->head && !f->stopping)
            pthread_cond_wait(&f->cv, &f->mu);
        if (!f->head)
            break; /* stopping, nothing left */
        struct flush_req *batch = f->head, *last = f->tail;
        f->head = f->tail = NULL;
        pthread_mutex_unlock(&f->mu);
        run_round(f, batch);
        pthread_mutex_lock(&f->mu);
        last->next = f->free_list;
        f->free_list = batch;
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

sl_err_t sl_flusher_start(struct sl_flusher **out)
{
    struct sl_flusher *f = sl_xcalloc(1, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    atomic_init(&f->rounds, 0);
    if (pthread_create(&f->thread, NULL, flusher_main, f) != 0) {
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
        free(f);
        *out = NULL;
        return SL_ERR__IO;
    }
    *out = f;
    return SL_ERR_NONE;
}

void sl_flusher_request(struct sl_flusher *f, struct sl_log *log, int64_t end_offset,
                        void (*cb)(void *arg, int err), void *arg)
{
    sl_log_ref(log);
    pthread_mutex_lock(&f->mu);
    /* After stop began only callbacks (on the flusher thread) may add: the
     * thread drains the queue before it exits. */
    SL_ASSERT(!f->stopping || pthread_equal(pthread_self(), f->thread));
    struct flush_req *r = f->free_list;
    if (r) {
        f->free_list = r->next;
    } else {
        r = sl_xmalloc(sizeof(*r));
    }
    *r = (struct flush_req){NULL, log, end_offset, cb, arg};
    if (f->tail)
        f->tail->next = r;
    else
        f->head = r;
    f->tail = r;
    bool wake = f->head == r; /* the thread only sleeps on an empty queue */
    pthread_mutex_unlock(&f->mu);
    if (wake)
        pthread_cond_signal(&f->cv);
}

void sl_flusher_stop(struct sl_flusher *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stopping = true;
    pthread_mutex_unlock(&f->mu);
    pthread_cond_signal(&f->cv);
    pthread_join(f->thread, NULL);
    while (f->free_list) {
        struct flush_req *r = f->free_list;
        f->free_list = r->next;
        free(r);
    }
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

uint64_t sl_flusher_rounds(struct sl_flusher *f)
{
    return atomic_load(&f->rounds);
}
