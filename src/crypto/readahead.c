/* SPDX-License-Identifier: Apache-2.0
 *
 * Read-ahead of sealed data (see readahead.h). One mutex guards every slot's
 * state and every file's `struct sl_ra_file`; it is held for bookkeeping
 * only, never across a decryption or a copy:
 *
 *   FREE -> QUEUED (a reader, sl_ra_after_read) -> RUNNING (the worker) ->
 *   READY (plaintext of [lpos, lpos + len)) -> QUEUED again for the next run,
 *   or FREE (detached, stolen as least recently filled, cancelled, or a fill
 *   that produced nothing).
 *
 * Readers copy out of a READY slot with the mutex released and the slot
 * pinned; a pinned slot is neither refilled nor stolen. The worker writes a
 * RUNNING slot with the mutex released; nobody else touches its buffer then,
 * and a file that closes waits until the run is over.
 *
 * Between runs the worker also gives back the buffers nobody has used for
 * RA_IDLE_NS (wiped, then unmapped; a slot still holding a file's run is
 * taken from it first), so plaintext does not linger in memory after a
 * consumer stops or catches up, nor does the memory stay with the process.
 */
#include "crypto/readahead.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/logging.h"
#include "core/mem.h"

#define RA_MIN_RUN (64u << 10) /* runs below this are not worth a thread hop */
#define RA_ABANDONED_NS 1000000000LL /* a run nobody read for this long is taken back */
#define RA_IDLE_NS 10000000000LL     /* a buffer unused for this long is unmapped */

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_READY };

struct sl_ra_slot {
    uint8_t *buf;     /* SL_RA_SLOT_BYTES, mapped on first use; NULL until then */
    size_t touched;   /* bytes of buf ever written (wiped at detach and free) */
    enum slot_state state;
    int pins;         /* readers copying out */
    struct sl_ra_file *rf;
    void *owner;
    uint64_t gen;
    int64_t lpos;
    size_t want;      /* queued or running: the run asked for */
    size_t len;       /* ready: plaintext bytes held */
    bool used;        /* ready: a reader copied from it since it was filled */
    int64_t used_ns;  /* last filled, copied from or freed (CLOCK_MONOTONIC); ready
                       * and not used yet: when it was filled */
    uint64_t stamp;   /* when queued: the worker takes the oldest; steal the oldest */
};

struct sl_ra {
    sl_ra_fill_fn fill;
    pthread_mutex_t mu;
    pthread_cond_t work; /* the worker waits here for a queued slot */
    pthread_cond_t done; /* readers and detach wait here for a run to end */
    bool stop;
    int64_t idle_ns; /* RA_IDLE_NS; shorter in tests */
    uint64_t clock;
    int nslots;
    struct sl_ra_slot *slots;
    struct sl_ra_stats st;
    pthread_t thread;
};

static void slot_wipe(struct sl_ra_slot *s)
{
    if (s->buf && s->touched)
        OPENSSL_cleanse(s->buf, s->touched);
}

/* Takes slot s from its file (mu held; s neither running nor pinned). */
static int64_t now_ns(void);

static void slot_release(struct sl_ra_slot *s)
{
    s->used_ns = now_ns();
    if (s->rf)
        s->rf->slot = NULL;
    s->rf = NULL;
    s->owner = NULL;
    s->state = SLOT_FREE;
    s->len = 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool map_slot(struct sl_ra_slot *s)
{
    void *p = mmap(NULL, SL_RA_SLOT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return false;
    /* Plaintext: never in a core dump. Huge pages make the first touch of
     * the buffer cheaper (MACHINE.md); both are advice. */
    (void)madvise(p, SL_RA_SLOT_BYTES, MADV_DONTDUMP);
    (void)madvise(p, SL_RA_SLOT_BYTES, MADV_HUGEPAGE);
    s->buf = p;
    return true;
}

static struct sl_ra_slot *oldest_queued(struct sl_ra *ra)
{
    struct sl_ra_slot *best = NULL;
    for (int i = 0; i < ra->nslots; i++) {
        struct sl_ra_slot *s = &ra->slots[i];
        if (s->state == SLOT_QUEUED && (!best || s->stamp < best->stamp))
            best = s;
    }
    return best;
}

/* A mapped buffer no reader is using or about to use (mu held). */
static bool slot_idle(const struct sl_ra_slot *s)
{
    return s->buf && s->pins == 0 && (s->state == SLOT_FREE || s->state == SLOT_READY);
}

/* Wipes and unmaps every buffer unused for idle_ns, taking a ready run from
 * its file first (mu held; dropped around each wipe). Returns when the next
 * one falls due, 0 when no buffer is mapped. */
static int64_t give_back_idle(struct sl_ra *ra)
{
    for (;;) {
        int64_t now = now_ns(), due = 0;
        struct sl_ra_slot *s = NULL;
        for (int i = 0; i < ra->nslots && !s; i++) {
            struct sl_ra_slot *c = &ra->slots[i];
            if (!c->buf)
                continue;
            int64_t at = slot_idle(c) ? c->used_ns + ra->idle_ns : now + ra->idle_ns;
            if (at <= now)
                s = c;
            else if (!due || at < due)
                due = at; /* a busy one is looked at again idle_ns from now */
        }
        if (!s)
            return due;
        slot_release(s);
        uint8_t *buf = s->buf;
        size_t touched = s->touched;
        s->buf = NULL;
        s->touched = 0;
        ra->st.given_back++;
        pthread_mutex_unlock(&ra->mu);
        if (touched)
            OPENSSL_cleanse(buf, touched);
        munmap(buf, SL_RA_SLOT_BYTES);
        pthread_mutex_lock(&ra->mu);
    }
}

static void *worker(void *arg)
{
    struct sl_ra *ra = arg;
    pthread_setname_np(pthread_self(), "sl-readahead");
    pthread_mutex_lock(&ra->mu);
    for (;;) {
        struct sl_ra_slot *s = oldest_queued(ra);
        if (!s) {
            if (ra->stop)
                break;
            int64_t due = give_back_idle(ra);
            if (oldest_queued(ra) || ra->stop)
                continue; /* queued while a buffer was being wiped */
            if (!due) {
                pthread_cond_wait(&ra->work, &ra->mu);
            } else {
                struct timespec ts = {.tv_sec = due / 1000000000LL, .tv_nsec = due % 1000000000LL};
                pthread_cond_timedwait(&ra->work, &ra->mu, &ts);
            }
            continue;
        }
        s->state = SLOT_RUNNING;
        void *owner = s->owner;
        int64_t lpos = s->lpos;
        size_t want = s->want;
        uint64_t gen = s->gen;
        pthread_mutex_unlock(&ra->mu);
        size_t len = 0;
        if (s->buf || map_slot(s)) {
            len = ra->fill(owner, lpos, want, gen, s->buf, SL_RA_SLOT_BYTES);
            if (len > s->touched)
                s->touched = len;
        }
        pthread_mutex_lock(&ra->mu);
        ra->st.filled++;
        s->len = len;
        s->used = false;
        s->used_ns = now_ns();
        s->state = SLOT_READY;
        if (len == 0)
            slot_release(s);
        pthread_cond_broadcast(&ra->done);
    }
    pthread_mutex_unlock(&ra->mu);
    return NULL;
}

struct sl_ra *sl_ra_new(size_t budget, sl_ra_fill_fn fill)
{
    int n = (int)(budget / SL_RA_SLOT_BYTES);
    if (n <= 0)
        return NULL;
    struct sl_ra *ra = sl_xcalloc(1, sizeof(*ra));
    ra->fill = fill;
    ra->idle_ns = RA_IDLE_NS;
    ra->nslots = n;
    ra->slots = sl_xcalloc((size_t)n, sizeof(*ra->slots));
    pthread_mutex_init(&ra->mu, NULL);
    pthread_condattr_t ca; /* the worker's timed wait counts monotonic time */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ra->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&ra->done, NULL);
    if (pthread_create(&ra->thread, NULL, worker, ra) != 0) {
        SL_WARN("crypto", "could not start the read-ahead thread: sealed data is decrypted on "
                          "the network threads only");
        pthread_mutex_destroy(&ra->mu);
        pthread_cond_destroy(&ra->work);
        pthread_cond_destroy(&ra->done);
        free(ra->slots);
        free(ra);
        return NULL;
    }
    return ra;
}

void sl_ra_free(struct sl_ra *ra)
{
    if (!ra)
        return;
    pthread_mutex_lock(&ra->mu);
    ra->stop = true;
    /* Queued runs of files that are gone cannot be (every file detached
     * before), so the worker drains nothing and exits. */
    pthread_cond_signal(&ra->work);
    pthread_mutex_unlock(&ra->mu);
    pthread_join(ra->thread, NULL);
    for (int i = 0; i < ra->nslots; i++) {
        struct sl_ra_slot *s = &ra->slots[i];
        SL_ASSERT(!s->rf);
        slot_wipe(s);
        if (s->buf)
            munmap(s->buf, SL_RA_SLOT_BYTES);
    }
    pthread_mutex_destroy(&ra->mu);
    pthread_cond_destroy(&ra->work);
    pthread_cond_destroy(&ra->done);
    free(ra->slots);
    free(ra);
}

size_t sl_ra_copy(struct sl_ra *ra, struct sl_ra_file *rf, uint64_t gen, int64_t off, size_t n,
                  uint8_t *dst)
{
    pthread_mutex_lock(&ra->mu);
    struct sl_ra_slot *s;
    bool waited = false;
    for (;;) {
        s = rf->slot;
        if (!s || s->gen != gen || off < s->lpos) {
            s = NULL;
            break;
        }
        if (s->state == SLOT_READY) {
            if (off >= s->lpos + (int64_t)s->len)
                s = NULL;
            break;
        }
        if (off >= s->lpos + (int64_t)s->want) {
            s = NULL;
            break;
        }
        if (s->state == SLOT_QUEUED) {
            /* The worker has not started it: cheaper to decrypt here than
             * to wait behind other files' runs. */
            ra->st.cancelled++;
            slot_release(s);
            s = NULL;
            break;
        }
        if (!waited)
            ra->st.waited++; /* RUNNING: the work is half done; wait for it */
        waited = true;
        pthread_cond_wait(&ra->done, &ra->mu); /* woken by any run's end */
    }
    if (!s) {
        pthread_mutex_unlock(&ra->mu);
        return 0;
    }
    size_t at = (size_t)(off - s->lpos);
    size_t take = s->len - at < n ? s->len - at : n;
    s->pins++;
    s->used = true;
    s->used_ns = now_ns();
    ra->st.hit_bytes += take;
    pthread_mutex_unlock(&ra->mu);
    memcpy(dst, s->buf + at, take);
    pthread_mutex_lock(&ra->mu);
    s->pins--;
    pthread_mutex_unlock(&ra->mu);
    return take;
}

/* A slot for rf (mu held): its own when idle, a free one, or of the ready
 * ones another file is done with (read from, or left unread for
 * RA_ABANDONED_NS) the one filled longest ago. NULL when there is none:
 * a ready run nobody has read yet is about to be, and taking it would throw
 * its decryption away (many partitions read at once would otherwise keep
 * taking each other's runs). */
static struct sl_ra_slot *slot_for(struct sl_ra *ra, struct sl_ra_file *rf)
{
    struct sl_ra_slot *s = rf->slot;
    if (s)
        return s->state == SLOT_RUNNING || s->pins > 0 ? NULL : s;
    struct sl_ra_slot *victim = NULL;
    int64_t now = 0;
    for (int i = 0; i < ra->nslots; i++) {
        s = &ra->slots[i];
        if (s->state == SLOT_FREE)
            return s;
        if (s->state != SLOT_READY || s->pins > 0 || (victim && s->stamp > victim->stamp))
            continue;
        if (!s->used && !now)
            now = now_ns();
        if (s->used || now - s->used_ns >= RA_ABANDONED_NS)
            victim = s;
    }
    if (victim)
        slot_release(victim);
    return victim;
}

void sl_ra_after_read(struct sl_ra *ra, struct sl_ra_file *rf, void *owner, uint64_t gen,
                      int64_t off, size_t n, bool hit, int64_t lsize)
{
    if (n < RA_MIN_RUN)
        return;
    int64_t end = off + (int64_t)n;
    pthread_mutex_lock(&ra->mu);
    bool sequential = hit || off == rf->next;
    rf->next = end;
    struct sl_ra_slot *s = sequential && end < lsize ? slot_for(ra, rf) : NULL;
    if (s) {
        s->rf = rf;
        s->owner = owner;
        rf->slot = s;
        s->gen = gen;
        s->lpos = end;
        s->want = n < SL_RA_SLOT_BYTES ? n : SL_RA_SLOT_BYTES;
        s->len = 0;
        s->state = SLOT_QUEUED;
        s->stamp = ++ra->clock;
        ra->st.queued++;
        pthread_cond_signal(&ra->work);
    }
    pthread_mutex_unlock(&ra->mu);
}

void sl_ra_detach(struct sl_ra *ra, struct sl_ra_file *rf)
{
    pthread_mutex_lock(&ra->mu);
    while (rf->slot && rf->slot->state == SLOT_RUNNING)
        pthread_cond_wait(&ra->done, &ra->mu);
    struct sl_ra_slot *s = rf->slot;
    if (s) {
        SL_ASSERT(s->pins == 0); /* no reader of a file being closed */
        slot_wipe(s);
        s->touched = 0;
        slot_release(s);
    }
    pthread_mutex_unlock(&ra->mu);
}

void sl_ra_get_stats(struct sl_ra *ra, struct sl_ra_stats *out)
{
    pthread_mutex_lock(&ra->mu);
    *out = ra->st;
    out->mapped = 0;
    for (int i = 0; i < ra->nslots; i++)
        out->mapped += ra->slots[i].buf != NULL;
    pthread_mutex_unlock(&ra->mu);
}

void sl_ra_set_idle(struct sl_ra *ra, int64_t idle_ns)
{
    pthread_mutex_lock(&ra->mu);
    ra->idle_ns = idle_ns;
    pthread_cond_signal(&ra->work);
    pthread_mutex_unlock(&ra->mu);
}
