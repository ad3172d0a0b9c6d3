/* SPDX-License-Identifier: Apache-2.0
 *
 * Event loop on epoll (see evloop.h). File descriptor callbacks live in a
 * table indexed by fd; timers in a binary min-heap keyed by deadline; posted
 * tasks in a mutex-protected list whose arrival is signalled on an eventfd
 * (one write per empty-to-non-empty transition, so a burst of posts costs
 * one wake-up).
 */
#include "net/evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"

struct fd_slot {
    sl_fd_cb cb;
    void *arg;
    uint32_t events;
    bool used;
};

struct task {
    struct task *next;
    sl_task_fn fn;
    void *arg;
};

struct sl_evloop {
    int id;
    int epfd;
    int evfd;
    struct fd_slot *slots;
    int nslots;
    struct sl_timer **heap;
    int heap_len, heap_cap;
    pthread_mutex_t task_mu;
    struct task *task_head, *task_tail;
    bool task_signalled; /* under task_mu */
    atomic_bool stop;
    sl_task_fn before_sleep;
    void *before_sleep_arg;
    int64_t now_ms;
    void *udata;
};

static void evfd_cb(struct sl_evloop *el, int fd, uint32_t events, void *arg);

struct sl_evloop *sl_evloop_new(int id, char *err, size_t errlen)
{
    struct sl_evloop *el = sl_xcalloc(1, sizeof(*el));
    el->id = id;
    el->epfd = epoll_create1(EPOLL_CLOEXEC);
    el->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (el->epfd < 0 || el->evfd < 0) {
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        if (el->epfd >= 0)
            close(el->epfd);
        if (el->evfd >= 0)
            close(el->evfd);
        free(el);
        return NULL;
    }
    pthread_mutex_init(&el->task_mu, NULL);
    atomic_init(&el->stop, false);
    el->now_ms = sl_mono_ms();
    if (sl_evloop_add(el, el->evfd, SL_EV_READ, evfd_cb, NULL) < 0) {
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        sl_evloop_destroy(el);
        return NULL;
    }
    return el;
}

void sl_evloop_destroy(struct sl_evloop *el)
{
    if (!el)
        return;
    struct task *t = el->task_head;
    while (t) {
        struct task *n = t->next;
        free(t);
        t = n;
    }
    close(el->epfd);
    close(el->evfd);
    pthread_mutex_destroy(&el->task_mu);
    free(el->slots);
    free(el->heap);
    free(el);
}

int sl_evloop_id(const struct sl_evloop *el)
{
    return el->id;
}

void sl_evloop_set_udata(struct sl_evloop *el, void *udata)
{
    el->udata = udata;
}

void *sl_evloop_udata(const struct sl_evloop *el)
{
    return el->udata;
}

static uint32_t to_epoll(uint32_t ev)
{
    uint32_t e = 0;
    if (ev & SL_EV_EXCLUSIVE) /* only EPOLLIN/OUT may go with EPOLLEXCLUSIVE */
        return EPOLLEXCLUSIVE | ((ev & SL_EV_READ) ? EPOLLIN : 0) | ((ev & SL_EV_WRITE) ? EPOLLOUT : 0);
    if (ev & SL_EV_READ)
        e |= EPOLLIN | EPOLLRDHUP;
    if (ev & SL_EV_WRITE)
        e |= EPOLLOUT;
    if (ev & SL_EV_EXCLUSIVE)
        e |= EPOLLEXCLUSIVE;
    return e;
}

int sl_evloop_add(struct sl_evloop *el, int fd, uint32_t events, sl_fd_cb cb, void *arg)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (fd >= el->nslots) {
        int n = el->nslots ? el->nslots : 64;
        while (n <= fd)
            n *= 2;
        el->slots = sl_xrealloc(el->slots, sizeof(*el->slots) * (size_t)n);
        memset(el->slots + el->nslots, 0, sizeof(*el->slots) * (size_t)(n - el->nslots));
        el->nslots = n;
    }
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    el->slots[fd] = (struct fd_slot){cb, arg, events, true};
    return 0;
}

int sl_evloop_mod(struct sl_evloop *el, int fd, uint32_t events)
{
    if (fd < 0 || fd >= el->nslots || !el->slots[fd].used) {
        errno = EBADF;
        return -1;
    }
    if (el->slots[fd].events == events)
        return 0;
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    if (epoll_ctl(el->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -1;
    el->slots[fd].events = events;
    return 0;
}

void sl_evloop_del(struct sl_evloop *el, int fd)
{
    if (fd < 0 || fd >= el->nslots || !el->slots[fd].used)
        return;
    epoll_ctl(el->epfd, EPOLL_CTL_DEL, fd, NULL);
    el->slots[fd].used = false;
    el->slots[fd].cb = NULL;
}

/* ---- timers: binary min-heap ---- */

static void heap_swap(struct sl_evloop *el, int a, int b)
{
    struct sl_timer *t = el->heap[a];
    el->heap[a] = el->heap[b];
    el->heap[b] = t;
    el->heap[a]->_heap_idx = a;
    el->heap[b]->_heap_idx = b;
}

static void heap_up(struct sl_evloop *el, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (el->heap[p]->when_ms <= el->heap[i]->when_ms)
            break;
        heap_swap(el, p, i);
        i = p;
    }
}

static void heap_down(struct sl_evloop *el, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < el->heap_len && el->heap[l]->when_ms < el->heap[m]->when_ms)
            m = l;
        if (r < el->heap_len && el->heap[r]->when_ms < el->heap[m]->when_ms)
            m = r;
        if (m == i)
            break;
        heap_swap(el, i, m);
        i = m;
    }
}

void sl_timer_init(struct sl_timer *t, sl_task_fn cb, void *arg)
{
    t->when_ms = 0;
    t->cb = cb;
    t->arg = arg;
    t->_heap_idx = -1;
}

void sl_timer_stop(struct sl_evloop *el, struct sl_timer *t)
{
    int i = t->_heap_idx;
    if (i < 0)
        return;
    int last = --el->heap_len;
    if (i != last) {
        el->heap[i] = el->heap[last];
        el->heap[i]->_heap_idx = i;
        heap_down(el, i);
        heap_up(el, i);
    }
    t->_heap_idx = -1;
}

void sl_timer_start(struct sl_evloop *el, struct sl_timer *t, int64_t ms)
{
    sl_timer_stop(el, t);
    if (el->heap_len == el->heap_cap) {
        el->heap_cap = el->heap_cap ? el->heap_cap * 2 : 64;
        el->heap = sl_xrealloc(el->heap, sizeof(*el->heap) * (size_t)el->heap_cap);
    }
    t->when_ms = sl_mono_ms() + (ms < 0 ? 0 : ms);
    t->_heap_idx = el->heap_len;
    el->heap[el->heap_len++] = t;
    heap_up(el, t->_heap_idx);
}

static void run_timers(struct sl_evloop *el)
{
    while (el->heap_len > 0 && el->heap[0]->when_ms <= el->now_ms) {
        struct sl_timer *t = el->heap[0];
        sl_timer_stop(el, t);
        t->cb(t->arg);
    }
}

/* ---- cross-thread tasks ---- */

void sl_evloop_post(struct sl_evloop *el, sl_task_fn fn, void *arg)
{
    struct task *t = sl_xmalloc(sizeof(*t));
    t->next = NULL;
    t->fn = fn;
    t->arg = arg;
    bool signal;
    pthread_mutex_lock(&el->task_mu);
    if (el->task_tail)
        el->task_tail->next = t;
    else
        el->task_head = t;
    el->task_tail = t;
    signal = !el->task_signalled;
    el->task_signalled = true;
    pthread_mutex_unlock(&el->task_mu);
    if (signal) {
        uint64_t one = 1;
        ssize_t w = write(el->evfd, &one, sizeof(one));
        (void)w; /* EAGAIN only if the counter is saturated: already signalled */
    }
}

static void run_tasks(struct sl_evloop *el)
{
    pthread_mutex_lock(&el->task_mu);
    struct task *t = el->task_head;
    el->task_head = el->task_tail = NULL;
    el->task_signalled = false;
    pthread_mutex_unlock(&el->task_mu);
    while (t) {
        struct task *n = t->next;
        t->fn(t->arg);
        free(t);
        t = n;
    }
}

void sl_evloop_drain(struct sl_evloop *el)
{
    run_tasks(el);
}

static void evfd_cb(struct sl_evloop *el, int fd, uint32_t events, void *arg)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) > 0) {
    }
    run_tasks(el);
}

void sl_evloop_set_before_sleep(struct sl_evloop *el, sl_task_fn fn, void *arg)
{
    el->before_sleep = fn;
    el->before_sleep_arg = arg;
}

void sl_evloop_stop(struct sl_evloop *el)
{
    atomic_store(&el->stop, true);
    uint64_t one = 1;
    ssize_t w = write(el->evfd, &one, sizeof(one));
    (void)w;
}

int64_t sl_evloop_now_ms(struct sl_evloop *el)
{
    return el->now_ms;
}

int sl_evloop_run(struct sl_evloop *el)
{
    struct epoll_event evs[256];
    while (!atomic_load(&el->stop)) {
        if (el->before_sleep)
            el->before_sleep(el->before_sleep_arg);
        int timeout = -1;
        if (el->heap_len > 0) {
            int64_t d = el->heap[0]->when_ms - sl_mono_ms();
            timeout = d < 0 ? 0 : (d > 60000 ? 60000 : (int)d);
        }
        int n = epoll_wait(el->epfd, evs, 256, timeout);
        el->now_ms = sl_mono_ms();
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd >= el->nslots || !el->slots[fd].used)
                continue;
            uint32_t e = 0;
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
                e |= SL_EV_READ;
            if (evs[i].events & EPOLLOUT)
                e |= SL_EV_WRITE;
            if (evs[i].events & (EPOLLERR | EPOLLHUP))
                e |= SL_EV_ERROR;
            struct fd_slot s = el->slots[fd];
            s.cb(el, fd, e, s.arg);
        }
        run_timers(el);
    }
    return 0;
}
