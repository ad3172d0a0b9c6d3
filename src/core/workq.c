/* SPDX-License-Identifier: Apache-2.0
 *
 * The work queue (see workq.h): a singly linked FIFO under one mutex, and
 * threads that sleep on one condition variable until a job or the stop.
 */
#include "core/workq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"

struct job {
    struct job *next;
    sl_work_fn fn;
    void *arg;
};

struct sl_workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;
    bool stop;
    int n;
    pthread_t threads[64];
    char name[16];
};

static void *run(void *arg)
{
    struct sl_workq *q = arg;
    pthread_setname_np(pthread_self(), q->name);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        struct job *j = q->head;
        if (!j) {
            if (q->stop)
                break;
            pthread_cond_wait(&q->cv, &q->mu);
            continue;
        }
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        pthread_mutex_unlock(&q->mu);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct sl_workq *sl_workq_new(int n, const char *name)
{
    if (n < 1)
        n = 1;
    if (n > 64)
        n = 64;
    struct sl_workq *q = sl_xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    snprintf(q->name, sizeof q->name, "%s", name);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&q->threads[q->n], NULL, run, q) != 0)
            break;
        q->n++;
    }
    if (q->n == 0) {
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    return q;
}

void sl_workq_push(struct sl_workq *q, sl_work_fn fn, void *arg)
{
    struct job *j = sl_xmalloc(sizeof *j);
    *j = (struct job){.fn = fn, .arg = arg};
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void sl_workq_free(struct sl_workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true; /* the threads drain the queue, then leave */
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < q->n; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
