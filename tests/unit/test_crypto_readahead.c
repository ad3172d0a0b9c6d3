/* SPDX-License-Identifier: Apache-2.0
 *
 * Read-ahead of sealed data (src/crypto/readahead.c), first on its own with
 * a fill function the test controls (a gate holds the worker inside a run),
 * then under the sealing layer on real files:
 *   - only a read that continues the previous one queues the next run, and
 *     the next read is then served from it, byte for byte;
 *   - a run in progress is waited for, a queued one is taken over by the
 *     reader, a file that closes waits for its run; when all slots are busy
 *     a run not read yet is kept, one read from (the oldest first) or left
 *     unread for a second is taken; a stale generation is never served;
 *   - buffers nobody uses are wiped and unmapped, and mapped again later;
 *   - under the sealing layer: sequential reads come from the worker, a
 *     tampered frame inside a read-ahead run is still refused (the reader
 *     gets -EBADMSG, nothing after it is served), and a truncate and
 *     re-append at the same positions never serves the old plaintext.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/logging.h"
#include "crypto/fileops_aead.h"
#include "crypto/readahead.h"
#include "storage/integrity.h"
#include "test_help.h"

#define KB 1024
#define MB (1024 * 1024)

/* ---- the pool alone ---- */

/* Plaintext of fake file `owner` at position p: a pattern of both. */
static uint8_t pat(const void *owner, int64_t p)
{
    return (uint8_t)((uintptr_t)owner * 31u + (uint64_t)p * 7u + (uint64_t)(p >> 12));
}

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed;  /* fills block while true */
static int fills_inside;  /* fills waiting at the gate */
static int fills_done;
static size_t fill_limit = SIZE_MAX; /* a fill returns at most this */

static size_t fake_fill(void *owner, int64_t lpos, size_t want, uint64_t gen, uint8_t *dst,
                        size_t cap)
{
    pthread_mutex_lock(&gate_mu);
    fills_inside++;
    pthread_cond_broadcast(&gate_cv);
    while (gate_closed)
        pthread_cond_wait(&gate_cv, &gate_mu);
    fills_inside--;
    size_t n = want < cap ? want : cap;
    if (n > fill_limit)
        n = fill_limit;
    pthread_mutex_unlock(&gate_mu);
    for (size_t i = 0; i < n; i++)
        dst[i] = pat(owner, lpos + (int64_t)i);
    pthread_mutex_lock(&gate_mu);
    fills_done++;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    (void)gen;
    return n;
}

static void gate(bool closed)
{
    pthread_mutex_lock(&gate_mu);
    gate_closed = closed;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

/* Waits (5 s deadline) until *v reaches at least want; false on timeout. */
static bool wait_count(int *v, int want)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&gate_mu);
    int rc = 0;
    while (*v < want && rc == 0)
        rc = pthread_cond_timedwait(&gate_cv, &gate_mu, &dl);
    bool ok = *v >= want;
    pthread_mutex_unlock(&gate_mu);
    return ok;
}

static bool same_as_pattern(const void *owner, int64_t off, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != pat(owner, off + (int64_t)i))
            return false;
    return true;
}

static void reset_fake(void)
{
    gate(false);
    fills_done = 0;
    fill_limit = SIZE_MAX;
}

static void test_sequential_reads_are_served_ahead(void)
{
    reset_fake();
    struct sl_ra *ra = sl_ra_new(2 * SL_RA_SLOT_BYTES, fake_fill);
    CHECK(ra != NULL);
    static int owner;
    struct sl_ra_file rf;
    sl_ra_file_init(&rf);
    uint8_t *buf = malloc(MB);
    const int64_t size = 64 * MB;
    struct sl_ra_stats st;
    /* A first read of 256 KiB: nothing queued (it continues nothing). */
    CHECK_EQ_INT(sl_ra_copy(ra, &rf, 1, 0, 256 * KB, buf), 0);
    sl_ra_after_read(ra, &rf, &owner, 1, 0, 256 * KB, false, size);
    sl_ra_get_stats(ra, &st);
    CHECK_EQ_INT(st.queued, 0);
    /* The second continues it: the next 256 KiB are queued and filled. */
    CHECK_EQ_INT(sl_ra_copy(ra, &rf, 1, 256 * KB, 256 * KB, buf), 0);
    sl_ra_after_read(ra, &rf, &owner, 1, 256 * KB, 256 * KB, false, size);
    CHECK(wait_count(&fills_done, 1));
    /* The third is served from it, in two pieces (a header scan first). */
    CHECK_EQ_INT(sl_ra_copy(ra, &rf, 1, 512 * KB, 61, buf), 61);
    CHECK(same_as_pattern(&owner, 512 * KB, buf, 61));
    CHECK_EQ_INT(sl_ra_copy(ra, &rf, 1, 512 * KB, 512 * KB, buf), 256 * KB);
    CHECK(same_as_pattern(&owner, 512 * KB, buf, 256 * KB));
    /* A generation that changed (a truncate) is a miss. */
    CHECK_EQ_INT(sl_ra_copy(ra, &rf, 2, 512 * KB, 256 * KB, buf), 0);
    /* Reads below 64 KiB never queue; a read at the end queues nothing. */
    sl_ra_after_read(ra, &rf, &owner, 1, 512 * KB, 60 * KB, true, size);
    sl_ra_after_read(ra, &rf, &owner, 1, size - 256 * KB, 256 * KB, true, size);
    sl_ra_get_stats(ra, &st);
    CHECK_EQ_INT(st.queued, 1);
    CHECK_EQ_INT(st.hit_bytes, 61 + 256 * KB);
    sl_ra_detach(ra, &rf);
    CHECK(rf.slot == NULL);
    sl_ra_free(ra);
    free(buf);
}

struct waiter {
    struct sl_ra *ra;
    struct sl_ra_file *rf;
    int64_t off;
    uint8_t *buf;
    size_t got;
};

static void *copy_thread(void *arg)
{
    struct waiter *w = arg;
    w->got = sl_ra_copy(w->ra, w->rf, 1, w->off, MB, w->buf);
    return NULL;
}

static void *detach_thread(void *arg)
{
    struct waiter *w = arg;
    sl_ra_detach(w->ra, w->rf);
    return NULL;
}

/* Waits (5 s) until the pool's counter at offset `field` reaches want. */
static bool wait_stat(struct sl_ra *ra, size_t field, uint64_t want)
{
    for (int i = 0; i < 5000; i++) {
        struct sl_ra_stats st;
        sl_ra_get_stats(ra, &st);
        uint64_t v;
        memcpy(&v, (const char *)&st + field, sizeof(v));
        if (v >= want)
            return true;
        usleep(1000);
    }
    return false;
}

/* A reader of a run in progress waits for it (the work is half done); a
 * run still queued behind another is taken over by the reader instead. */
static void test_running_is_waited_queued_is_taken_over(void)
{
    reset_fake();
    struct sl_ra *ra = sl_ra_new(2 * SL_RA_SLOT_BYTES, fake_fill);
    CHECK(ra != NULL);
    static int a_owner, b_owner;
    struct sl_ra_file a, b;
    sl_ra_file_init(&a);
    sl_ra_file_init(&b);
    const int64_t size = 64 * MB;
    gate(true);
    a.next = 0; /* as if a read had ended at 0: this one continues it */
    sl_ra_after_read(ra, &a, &a_owner, 1, 0, MB, false, size);
    CHECK(wait_count(&fills_inside, 1)); /* the worker is inside a's run */
    b.next = 0;
    sl_ra_after_read(ra, &b, &b_owner, 1, 0, MB, false, size); /* queued behind it */
    uint8_t *buf = malloc(MB), *buf2 = malloc(MB);
    CHECK_EQ_INT(sl_ra_copy(ra, &b, 1, MB, MB, buf), 0);
    struct sl_ra_stats st;
    sl_ra_get_stats(ra, &st);
    CHECK_EQ_INT(st.cancelled, 1);
    CHECK(b.slot == NULL);
    /* a's reader waits for the run, then gets its bytes. */
    struct waiter w = {ra, &a, MB, buf2, 0};
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, copy_thread, &w), 0);
    bool waited = wait_stat(ra, offsetof(struct sl_ra_stats, waited), 1);
    gate(false);
    pthread_join(t, NULL);
    CHECK(waited);
    CHECK_EQ_INT(w.got, MB);
    CHECK(same_as_pattern(&a_owner, MB, buf2, MB));
    /* Closing a file waits for its run in progress. */
    gate(true);
    int before = fills_done;
    sl_ra_after_read(ra, &a, &a_owner, 1, MB, MB, true, size);
    CHECK(wait_count(&fills_inside, 1));
    struct waiter d = {ra, &a, 0, NULL, 0};
    CHECK_EQ_INT(pthread_create(&t, NULL, detach_thread, &d), 0);
    usleep(20000);
    CHECK_EQ_INT(fills_done, before); /* still inside: detach must be waiting */
    CHECK(a.slot != NULL);
    gate(false);
    pthread_join(t, NULL);
    CHECK(a.slot == NULL);
    CHECK_EQ_INT(fills_done, before + 1);
    sl_ra_detach(ra, &b);
    sl_ra_free(ra);
    free(buf);
    free(buf2);
}

/* With every slot holding a ready run, a new file takes none that has not
 * been read yet; it takes, of those read from, the one filled longest ago,
 * and a run left unread for a second. A fill that produced nothing leaves no
 * slot behind. */
static void test_slot_taken_only_when_done_with(void)
{
    reset_fake();
    struct sl_ra *ra = sl_ra_new(2 * SL_RA_SLOT_BYTES, fake_fill);
    CHECK(ra != NULL);
    static int owners[4];
    struct sl_ra_file rf[4];
    const int64_t size = 64 * MB;
    for (int i = 0; i < 4; i++) {
        sl_ra_file_init(&rf[i]);
        rf[i].next = 0;
    }
    for (int i = 0; i < 2; i++) {
        sl_ra_after_read(ra, &rf[i], &owners[i], 1, 0, 128 * KB, false, size);
        CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, filled), (uint64_t)i + 1));
    }
    /* Both runs unread: the third file gets nothing. */
    sl_ra_after_read(ra, &rf[2], &owners[2], 1, 0, 128 * KB, false, size);
    struct sl_ra_stats st;
    sl_ra_get_stats(ra, &st);
    CHECK_EQ_INT(st.queued, 2);
    CHECK(rf[2].slot == NULL);
    /* Both read (a header scan of each, the first one first): the third
     * file takes the first file's, filled longer ago. */
    uint8_t *buf = malloc(MB);
    CHECK_EQ_INT(sl_ra_copy(ra, &rf[0], 1, 128 * KB, 61, buf), 61);
    CHECK_EQ_INT(sl_ra_copy(ra, &rf[1], 1, 128 * KB, 61, buf), 61);
    rf[2].next = 0;
    sl_ra_after_read(ra, &rf[2], &owners[2], 1, 0, 128 * KB, false, size);
    CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, filled), 3));
    CHECK(rf[0].slot == NULL);
    CHECK(rf[1].slot != NULL && rf[2].slot != NULL);
    CHECK_EQ_INT(sl_ra_copy(ra, &rf[0], 1, 128 * KB, 128 * KB, buf), 0);
    /* The fourth file: the second's (read) goes. Then the third's run,
     * never read and older than the fourth's, is taken back once it has
     * waited a second (a consumer that went away). */
    sl_ra_after_read(ra, &rf[3], &owners[3], 1, 0, 128 * KB, false, size);
    CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, filled), 4));
    CHECK(rf[1].slot == NULL && rf[3].slot != NULL);
    bool taken = false;
    for (int i = 0; i < 5000 && !taken; i++) {
        rf[0].next = 0;
        sl_ra_after_read(ra, &rf[0], &owners[0], 1, 0, 128 * KB, false, size);
        sl_ra_get_stats(ra, &st);
        taken = st.queued == 5;
        if (!taken)
            usleep(1000);
    }
    CHECK(taken);
    CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, filled), 5));
    CHECK(rf[2].slot == NULL && rf[0].slot != NULL);
    /* A fill that finds nothing (the file shrank, say) frees its slot. */
    fill_limit = 0;
    sl_ra_after_read(ra, &rf[3], &owners[3], 1, 128 * KB, 128 * KB, true, size);
    CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, filled), 6));
    CHECK(rf[3].slot == NULL);
    for (int i = 0; i < 4; i++)
        sl_ra_detach(ra, &rf[i]);
    sl_ra_free(ra);
    free(buf);
    /* A budget below one slot is no read-ahead at all. */
    CHECK(sl_ra_new(SL_RA_SLOT_BYTES - 1, fake_fill) == NULL);
}

/* Buffers nobody uses are given back: wiped, unmapped, taken from their
 * file; the next run maps a buffer again and is served as before. */
static void test_idle_buffers_given_back(void)
{
    reset_fake();
    struct sl_ra *ra = sl_ra_new(2 * SL_RA_SLOT_BYTES, fake_fill);
    CHECK(ra != NULL);
    static int owner;
    struct sl_ra_file rf;
    sl_ra_file_init(&rf);
    rf.next = 0;
    const int64_t size = 64 * MB;
    uint8_t *buf = malloc(MB);
    struct sl_ra_stats st;
    sl_ra_get_stats(ra, &st);
    CHECK_EQ_INT(st.mapped, 0); /* nothing mapped before a first run */
    sl_ra_after_read(ra, &rf, &owner, 1, 0, 128 * KB, false, size);
    CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, filled), 1));
    CHECK_EQ_INT(sl_ra_copy(ra, &rf, 1, 128 * KB, 128 * KB, buf), 128 * KB);
    sl_ra_get_stats(ra, &st);
    CHECK_EQ_INT(st.mapped, 1);
    CHECK_EQ_INT(st.given_back, 0);
    /* The reader stops: within a moment of the (shortened) idle time the
     * buffer is gone, and so is the file's hold on it. */
    sl_ra_set_idle(ra, 100 * 1000000LL);
    CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, given_back), 1));
    sl_ra_get_stats(ra, &st);
    CHECK_EQ_INT(st.mapped, 0);
    CHECK(rf.slot == NULL);
    CHECK_EQ_INT(sl_ra_copy(ra, &rf, 1, 128 * KB, 128 * KB, buf), 0);
    /* It comes back: the reader goes on, a run is mapped, filled, served. */
    sl_ra_after_read(ra, &rf, &owner, 1, 128 * KB, 128 * KB, true, size);
    CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, filled), 2));
    CHECK_EQ_INT(sl_ra_copy(ra, &rf, 1, 256 * KB, 128 * KB, buf), 128 * KB);
    CHECK(same_as_pattern(&owner, 256 * KB, buf, 128 * KB));
    /* A free buffer (its file closed) is given back too. */
    sl_ra_detach(ra, &rf);
    CHECK(wait_stat(ra, offsetof(struct sl_ra_stats, given_back), 2));
    sl_ra_get_stats(ra, &st);
    CHECK_EQ_INT(st.mapped, 0);
    sl_ra_free(ra);
    free(buf);
}

/* ---- under the sealing layer ---- */

#define HDR 128
#define FO 48 /* frame overhead: 32-byte header + 16-byte tag */
#define FRAME (16 * KB)
#define RUN (16 * FRAME) /* a fetch of 256 KiB: 16 whole frames */

static char dir[64];
static struct sl_keyring kr;
static struct sl_fileops_aead *layer;
static const struct sl_fileops *ops;
static char seg[128];
static int integrity_events;
static int64_t integrity_pos;

static void on_integrity(const struct sl_integrity_event *ev)
{
    integrity_events++;
    integrity_pos = ev->position;
}

static void layer_setup(void)
{
    strcpy(dir, "/tmp/sl-ra-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    char p[128];
    snprintf(p, sizeof(p), "%s/t-0", dir);
    mkdir(p, 0700);
    snprintf(seg, sizeof(seg), "%s/t-0/00000000000000000000.log", dir);
    char err[200];
    sl_keyring_free(&kr);
    if (sl_keyring_add(&kr, err, sizeof(err)) < 0)
        abort();
    layer = sl_fileops_aead_new(&sl_fileops_posix, &kr);
    sl_fileops_aead_set_readahead(layer, 2 * SL_RA_SLOT_BYTES);
    ops = sl_fileops_aead_ops(layer);
    integrity_events = 0;
    sl_integrity_set_hook(on_integrity);
}

static void layer_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        abort();
    sl_fileops_aead_free(layer);
    sl_integrity_set_hook(NULL);
}

static uint8_t fpat(int64_t p, int salt)
{
    return (uint8_t)(p * 13 + (p >> 14) + salt);
}

/* Appends frames of FRAME bytes [from, to) with pattern salt. */
static void append_frames(struct sl_file *f, int from, int to, int salt)
{
    uint8_t *b = malloc(FRAME);
    for (int k = from; k < to; k++) {
        int64_t off = (int64_t)k * FRAME;
        for (int i = 0; i < FRAME; i++)
            b[i] = fpat(off + i, salt);
        if (sl_file_append(f, b, FRAME, off) != FRAME)
            abort();
    }
    free(b);
}

static bool same_fpat(const uint8_t *b, int64_t off, size_t n, int salt)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != fpat(off + (int64_t)i, salt))
            return false;
    return true;
}

static struct sl_ra_stats layer_stats(void)
{
    struct sl_ra_stats st;
    if (!sl_fileops_aead_readahead_stats(layer, &st))
        abort();
    return st;
}

/* Waits (5 s) until the worker has finished `n` runs. */
static bool layer_filled(uint64_t n)
{
    for (int i = 0; i < 5000; i++) {
        if (layer_stats().filled >= n)
            return true;
        usleep(1000);
    }
    return false;
}

/* A consumer's fetches, front to back in runs of 16 frames: from the third
 * on, each is what the worker decrypted while the previous was out. */
static void test_layer_sequential(void)
{
    layer_setup();
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, seg, SL_FILE_RDWR | SL_FILE_CREATE, &f), 0);
    append_frames(f, 0, 256, 1); /* 4 MiB */
    uint8_t *buf = malloc(RUN);
    for (int r = 0; r < 16; r++) {
        if (r >= 2)
            CHECK(layer_filled((uint64_t)r - 1));
        CHECK_EQ_INT(sl_file_pread_full(f, buf, RUN, (int64_t)r * RUN), RUN);
        CHECK(same_fpat(buf, (int64_t)r * RUN, RUN, 1));
    }
    struct sl_ra_stats st = layer_stats();
    CHECK_EQ_INT(st.hit_bytes, 14 * RUN); /* reads 3..16 */
    CHECK_EQ_INT(st.queued, 14);         /* after reads 2..15; nothing after the last */
    /* Reads from arbitrary places queue nothing. */
    CHECK_EQ_INT(sl_file_pread_full(f, buf, RUN, 3 * RUN), RUN);
    CHECK_EQ_INT(sl_file_pread_full(f, buf, RUN, 9 * RUN), RUN);
    CHECK(same_fpat(buf, 9 * RUN, RUN, 1));
    CHECK_EQ_INT(layer_stats().queued, 14);
    sl_file_close(f);
    free(buf);
    layer_teardown();
}

/* A flipped byte in a frame that falls inside a read-ahead run: the worker
 * stops before it, the reader gets the good frames, then -EBADMSG at the
 * damaged one, reported once; nothing from it or after it is served. */
static void test_layer_tampered_frame_inside_run(void)
{
    layer_setup();
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, seg, SL_FILE_RDWR | SL_FILE_CREATE, &f), 0);
    append_frames(f, 0, 128, 1);
    sl_file_close(f);
    const int bad = 16 * 3 + 5; /* inside the fourth run */
    int64_t at = HDR + (int64_t)bad * (FO + FRAME) + 32 + 1000;
    int fd = open(seg, O_RDWR);
    CHECK(fd >= 0);
    uint8_t c;
    CHECK_EQ_INT(pread(fd, &c, 1, at), 1);
    c ^= 0x40;
    CHECK_EQ_INT(pwrite(fd, &c, 1, at), 1);
    close(fd);
    CHECK_EQ_INT(ops->open(ops, seg, SL_FILE_RDONLY, &f), 0);
    uint8_t *buf = malloc(RUN);
    for (int r = 0; r < 3; r++) {
        if (r >= 2)
            CHECK(layer_filled((uint64_t)r - 1));
        CHECK_EQ_INT(sl_file_pread_full(f, buf, RUN, (int64_t)r * RUN), RUN);
    }
    CHECK(layer_filled(2)); /* the fourth run, read ahead up to the bad frame */
    uint64_t hits = layer_stats().hit_bytes;
    CHECK_EQ_INT(integrity_events, 0); /* the worker reports nothing itself */
    CHECK_EQ_INT(sl_file_pread(f, buf, RUN, 3 * RUN), 5 * FRAME);
    CHECK(same_fpat(buf, 3 * RUN, 5 * FRAME, 1));
    CHECK_EQ_INT(layer_stats().hit_bytes - hits, 5 * FRAME);
    CHECK_EQ_INT(sl_file_pread(f, buf, RUN, (int64_t)bad * FRAME), -EBADMSG);
    CHECK_EQ_INT(sl_file_pread(f, buf, 100, (int64_t)bad * FRAME + 10), -EBADMSG);
    CHECK_EQ_INT(integrity_events, 1);
    CHECK_EQ_INT(integrity_pos, (int64_t)bad * FRAME);
    sl_file_close(f);
    free(buf);
    layer_teardown();
}

/* A run read ahead, then the file cut back (recovery, or a follower's
 * truncation) and re-appended at the same positions with other bytes: the
 * old plaintext is never served. */
static void test_layer_truncate_invalidates(void)
{
    layer_setup();
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, seg, SL_FILE_RDWR | SL_FILE_CREATE, &f), 0);
    append_frames(f, 0, 64, 1);
    uint8_t *buf = malloc(RUN);
    CHECK_EQ_INT(sl_file_pread_full(f, buf, RUN, 0), RUN);
    CHECK_EQ_INT(sl_file_pread_full(f, buf, RUN, RUN), RUN);
    CHECK(layer_filled(1)); /* [2 * RUN, 3 * RUN) decrypted ahead */
    CHECK_EQ_INT(sl_file_ftruncate(f, 2 * RUN), 0);
    append_frames(f, 32, 64, 2);
    uint64_t hits = layer_stats().hit_bytes;
    CHECK_EQ_INT(sl_file_pread_full(f, buf, RUN, 2 * RUN), RUN);
    CHECK(same_fpat(buf, 2 * RUN, RUN, 2));
    CHECK_EQ_INT(layer_stats().hit_bytes, hits);
    sl_file_close(f);
    free(buf);
    layer_teardown();
}

int main(void)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX;
    TEST_RUN(test_sequential_reads_are_served_ahead);
    TEST_RUN(test_running_is_waited_queued_is_taken_over);
    TEST_RUN(test_slot_taken_only_when_done_with);
    TEST_RUN(test_idle_buffers_given_back);
    TEST_RUN(test_layer_sequential);
    TEST_RUN(test_layer_tampered_frame_inside_run);
    TEST_RUN(test_layer_truncate_invalidates);
    sl_keyring_free(&kr);
    TEST_REPORT();
}
