/* SPDX-License-Identifier: Apache-2.0
 *
 * A work queue: a few threads that run jobs in the order they were pushed,
 * for CPU work that must not hold up a network thread (the password hashing
 * of a SASL PLAIN authentication). A job that has something to answer posts
 * it back to its loop itself (sl_evloop_post); the queue knows nothing of
 * loops or requests.
 *
 *     struct sl_workq *q = sl_workq_new(2, "sl-auth");
 *     sl_workq_push(q, job_fn, job);   // any thread
 *     sl_workq_free(q);                // runs what is queued, joins
 */
#ifndef SL_CORE_WORKQ_H
#define SL_CORE_WORKQ_H

typedef void (*sl_work_fn)(void *arg);

struct sl_workq;

/* Starts n threads (1 to 64) named name (at most 15 characters, as Linux
 * keeps them). Returns NULL when no thread could be started. */
struct sl_workq *sl_workq_new(int n, const char *name);

/* Queues fn(arg) to run on one of the threads. Any thread; never blocks on
 * a running job. */
void sl_workq_push(struct sl_workq *q, sl_work_fn fn, void *arg);

/* Runs every job still queued, then stops and joins the threads and frees
 * the queue. NULL is a no-op. Not from one of the queue's own jobs. */
void sl_workq_free(struct sl_workq *q);

#endif
