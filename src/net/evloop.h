/* SPDX-License-Identifier: Apache-2.0
 *
 * The event loop: one per network thread. It watches file descriptors
 * (epoll), runs timers (a binary heap), runs functions posted from other
 * threads (a locked queue drained on an eventfd wake-up), and calls
 * before-sleep hooks each turn (for transports that buffer decrypted bytes
 * where epoll cannot see them). Everything except sl_evloop_post and
 * sl_evloop_stop must be called on the loop's own thread.
 */
#ifndef SL_NET_EVLOOP_H
#define SL_NET_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_EV_READ 0x1u
#define SL_EV_WRITE 0x2u
#define SL_EV_ERROR 0x4u
#define SL_EV_EXCLUSIVE 0x8u /* sl_evloop_add only: EPOLLEXCLUSIVE (shared listeners) */

struct sl_evloop;

typedef void (*sl_fd_cb)(struct sl_evloop *el, int fd, uint32_t events, void *arg);
typedef void (*sl_task_fn)(void *arg);

struct sl_timer {
    int64_t when_ms;         /* monotonic deadline */
    sl_task_fn cb;
    void *arg;
    int _heap_idx;           /* -1 when not armed */
};

/* Returns a new loop (caller frees with sl_evloop_destroy), or NULL with err. */
struct sl_evloop *sl_evloop_new(int id, char *err, size_t errlen);
void sl_evloop_destroy(struct sl_evloop *el);
int sl_evloop_id(const struct sl_evloop *el);
/* An owner pointer kept for callbacks (the network thread's context). */
void sl_evloop_set_udata(struct sl_evloop *el, void *udata);
void *sl_evloop_udata(const struct sl_evloop *el);
/* Runs posted tasks now, on the calling thread (shutdown, after the loop's
 * thread has ended). */
void sl_evloop_drain(struct sl_evloop *el);

/* Registers fd for events (SL_EV_READ|SL_EV_WRITE). cb is borrowed until
 * sl_evloop_del. Returns 0 or -1 (errno set). */
int sl_evloop_add(struct sl_evloop *el, int fd, uint32_t events, sl_fd_cb cb, void *arg);
int sl_evloop_mod(struct sl_evloop *el, int fd, uint32_t events);
void sl_evloop_del(struct sl_evloop *el, int fd);

/* Arms t to fire after ms milliseconds (re-arms if already armed). */
void sl_timer_init(struct sl_timer *t, sl_task_fn cb, void *arg);
void sl_timer_start(struct sl_evloop *el, struct sl_timer *t, int64_t ms);
void sl_timer_stop(struct sl_evloop *el, struct sl_timer *t);
static inline bool sl_timer_armed(const struct sl_timer *t)
{
    return t->_heap_idx >= 0;
}

/* Runs fn(arg) on the loop's thread soon. Any thread. */
void sl_evloop_post(struct sl_evloop *el, sl_task_fn fn, void *arg);

/* Hook called at the end of each turn, before waiting. Loop thread. */
void sl_evloop_set_before_sleep(struct sl_evloop *el, sl_task_fn fn, void *arg);

/* Runs until sl_evloop_stop. Returns 0. */
int sl_evloop_run(struct sl_evloop *el);
/* Asks the loop to return from sl_evloop_run. Any thread. */
void sl_evloop_stop(struct sl_evloop *el);

/* Cached monotonic time of the current turn (loop thread). */
int64_t sl_evloop_now_ms(struct sl_evloop *el);

#endif
