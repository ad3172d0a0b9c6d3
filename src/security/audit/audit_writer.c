/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit writer: the queue network threads append to, the thread that
 * turns queued events into chained lines, appends them a batch at a time and
 * makes each batch durable with one fdatasync (group commit, as the log
 * flusher does), the waiters that hold responses until then, rotation,
 * retention and the failure policy. See audit.h for the API and
 * docs/AUDIT.md for the format.
 *
 * Invariants:
 *  1. Sequence numbers are handed out under `mu` in queue order, and the
 *     writer writes the queue in order, so the file order is the sequence
 *     order. Records the writer makes itself (seal, open, retention) go
 *     through the queue too, so they take their place in that order.
 *  2. durable_seq only grows, and only after the fdatasync of every byte up
 *     to that record returned 0.
 *  3. After a failed write or sync nothing more is appended to that file:
 *     the sink is FAILED until a new file (a "sink_failure" open record
 *     chained to the last durable record) could be written and synced.
 *  4. Files listed by a retention record are deleted only once that record is
 *     durable, so a crash can never leave a deletion unexplained.
 *
 *    OK ──write/sync error──▶ FAILED ──retry: new file synced──▶ OK
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/logging.h"
#include "core/mem.h"
#include "core/wbuf.h"
#include "security/audit/audit.h"
#include "security/audit/audit_topic.h"
#include "security/audit/audit_json.h"
#include "security/audit/audit_record.h"
#include "security/audit/audit_types.h"
#include "security/audit/audit_verify.h"
#include "storage/fileops.h"

enum entry_kind {
    K_EVENT = 0,
    K_OPEN,
    K_SEAL,
    K_RETENTION,
    K_MAX
};

struct entry {
    struct entry *next;
    uint64_t seq;
    int kind;
    int64_t time_ms;
    char type[96];
    char reason[32];       /* K_OPEN / K_SEAL */
    char subject[256];
    size_t subject_len;
    bool has_subject;
    struct sl_wbuf data;   /* K_EVENT, K_RETENTION: the data object */
};

struct waiter {
    struct waiter *next;
    uint64_t seq;
    bool ok;
    void (*cb)(void *arg, bool ok);
    void *arg;
};

#define NAME_LEN 48

static struct {
    bool enabled;
    int policy, authz_level;
    char *dir, *key_file, *source;
    int64_t rotate_bytes, rotate_ms, retention_ms, retention_bytes, retry_ms;
    const struct sl_fileops *fops;
    struct sl_audit_hmac hmac; /* writer thread (main thread before it starts) */

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;         /* the writer waits for work */
    pthread_cond_t durable_cv; /* sl_audit_sync waits for durability */
    struct entry *head, *tail, *free_entries; /* mu */
    struct waiter *waiters, *free_waiters;    /* mu */
    uint64_t next_seq;                        /* mu */
    bool closing, stopping, rotate_pending;   /* mu */
    _Atomic uint64_t durable;
    _Atomic bool failed;
    _Atomic uint64_t dropped;
    bool damaged_at_start; /* the newest file's chain was found damaged by this start */

    /* writer thread only */
    struct sl_file *file;
    char file_name[NAME_LEN];
    int64_t file_size, file_opened_ms;
    uint64_t file_first_seq;
    bool dir_dirty;
    uint64_t last_seq;
    uint8_t last_mac[SL_AUDIT_MAC_LEN];
    uint64_t durable_seq;
    uint8_t durable_mac[SL_AUDIT_MAC_LEN];
    char durable_file[NAME_LEN];
    uint64_t batch_last;       /* last sequence appended to out */
    struct sl_wbuf out;
    char **pending_delete;     /* files to delete once the retention record is durable */
    int n_pending_delete;
    bool delete_after_flush;
    int64_t next_retry_ms;
    uint64_t dropped_reported, dropped_in_open;
} A;

static pthread_mutex_t A_init_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- small helpers ---- */

#define PUTLIT(w, lit) sl_wbuf_put((w), (lit), sizeof(lit) - 1)

static void fmt_time(int64_t ms, char out[48])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void file_name_of(uint64_t first_seq, char out[NAME_LEN])
{
    snprintf(out, NAME_LEN, "audit-%020" PRIu64 ".jsonl", first_seq);
}

static void path_of(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", A.dir, name);
}

static struct entry *entry_get_locked(void)
{
    struct entry *e = A.free_entries;
    if (e) {
        A.free_entries = e->next;
        struct sl_wbuf keep = e->data;
        memset(e, 0, sizeof *e);
        e->data = keep;
        sl_wbuf_clear(&e->data);
    } else {
        e = sl_xcalloc(1, sizeof *e);
        sl_wbuf_init(&e->data);
    }
    return e;
}

static void enqueue_locked(struct entry *e)
{
    e->seq = A.next_seq++;
    e->next = NULL;
    if (A.tail)
        A.tail->next = e;
    else
        A.head = e;
    A.tail = e;
}

/* A writer record (open, seal) at the tail of the queue. */
static void enqueue_own_locked(int kind, const char *type, const char *reason)
{
    struct entry *e = entry_get_locked();
    e->kind = kind;
    e->time_ms = sl_now_ms();
    snprintf(e->type, sizeof e->type, "%s", type);
    snprintf(e->reason, sizeof e->reason, "%s", reason);
    enqueue_locked(e);
}

/* ---- lines ---- */

/* Appends the line of record (seq, type, subject, data) to A.out and
 * advances the chain. */
static int format_line(uint64_t seq, const char *type, int64_t time_ms, const char *subject,
                       size_t subject_len, bool has_subject, const uint8_t *data, size_t data_len)
{
    struct sl_wbuf *w = &A.out;
    size_t start = w->len;
    char num[24], ts[48];
    snprintf(num, sizeof num, "%" PRIu64, seq);
    fmt_time(time_ms, ts);
    PUTLIT(w, "{\"specversion\":\"1.0\",\"id\":\"");
    sl_wbuf_put(w, num, strlen(num));
    PUTLIT(w, "\",\"source\":\"");
    sl_aj_escape(w, A.source, strlen(A.source));
    PUTLIT(w, "\",\"type\":\"");
    sl_aj_escape(w, type, strlen(type));
    PUTLIT(w, "\",\"time\":\"");
    sl_wbuf_put(w, ts, strlen(ts));
    PUTLIT(w, "\"");
    if (has_subject) {
        PUTLIT(w, ",\"subject\":\"");
        sl_aj_escape(w, subject, subject_len);
        PUTLIT(w, "\"");
    }
    PUTLIT(w, ",\"datacontenttype\":\"application/json\",\"sluiceseq\":");
    sl_wbuf_put(w, num, strlen(num));
    PUTLIT(w, ",\"data\":");
    sl_wbuf_put(w, data, data_len);
    uint8_t mac[SL_AUDIT_MAC_LEN];
    if (sl_audit_hmac_record(&A.hmac, A.last_mac, w->data + start, w->len - start, mac) < 0) {
        w->len = start;
        return -1;
    }
    char hex[2 * SL_AUDIT_MAC_LEN + 1];
    sl_audit_mac_hex(mac, hex);
    sl_wbuf_put(w, SL_AUDIT_MAC_MEMBER, sizeof SL_AUDIT_MAC_MEMBER - 1);
    sl_wbuf_put(w, hex, 2 * SL_AUDIT_MAC_LEN);
    PUTLIT(w, "\"}\n");
    A.last_seq = seq;
    memcpy(A.last_mac, mac, sizeof mac);
    A.batch_last = seq;
    return 0;
}

static int format_entry(struct entry *e, const struct sl_wbuf *data)
{
    return format_line(e->seq, e->type, e->time_ms, e->subject, e->subject_len, e->has_subject,
                       data->data, data->len);
}

/* ---- the file ---- */

/* Appends A.out to the file and syncs it: on success the chain is durable up
 * to A.last_seq. Returns 0 or -errno. */
static int flush_out(void)
{
    if (A.out.len == 0)
        return 0;
    if (!A.file)
        return -EBADF;
    ssize_t n = A.fops->append(A.file, A.out.data, A.out.len, A.file_size);
    if (n != (ssize_t)A.out.len)
        return n < 0 ? (int)n : -EIO;
    A.file_size += n;
    int rc = A.fops->fdatasync(A.file);
    if (rc == 0 && A.dir_dirty) {
        rc = A.fops->fsync_dir(A.fops, A.dir);
        if (rc == 0)
            A.dir_dirty = false;
    }
    if (rc < 0)
        return rc;
    /* Durable: the copy in __sluice_audit (this thread, never a network one). */
    sl_audit_topic_copy((const char *)A.out.data, A.out.len);
    sl_wbuf_clear(&A.out);
    if (A.dropped_in_open > A.dropped_reported)
        A.dropped_reported = A.dropped_in_open;
    A.dropped_in_open = 0;
    A.durable_seq = A.last_seq;
    memcpy(A.durable_mac, A.last_mac, SL_AUDIT_MAC_LEN);
    snprintf(A.durable_file, sizeof A.durable_file, "%s", A.file_name);
    if (A.delete_after_flush) {
        for (int i = 0; i < A.n_pending_delete; i++) {
            char path[4200];
            path_of(A.pending_delete[i], path, sizeof path);
            int u = A.fops->unlink(A.fops, path);
            if (u < 0 && u != -ENOENT)
                SL_WARN("audit", "retention: cannot delete %s: %s", path, strerror(-u));
            free(A.pending_delete[i]);
        }
        A.n_pending_delete = 0;
        A.delete_after_flush = false;
        A.fops->fsync_dir(A.fops, A.dir);
    }
    return 0;
}

static void close_file(void)
{
    sl_file_close(A.file);
    A.file = NULL;
}

/* Creates the file that starts at seq. Returns 0 or -errno. */
static int open_file(uint64_t seq)
{
    char name[NAME_LEN], path[4200];
    file_name_of(seq, name);
    path_of(name, path, sizeof path);
    struct sl_file *f = NULL;
    int rc = A.fops->open(A.fops, path, SL_FILE_RDWR | SL_FILE_CREATE | SL_FILE_TRUNC, &f);
    if (rc < 0)
        return rc;
    A.file = f;
    A.file_size = 0;
    A.file_opened_ms = sl_mono_ms();
    A.file_first_seq = seq;
    A.dir_dirty = true;
    snprintf(A.file_name, sizeof A.file_name, "%s", name);
    return 0;
}

/* The data of an open record. prev_*: the record it chains to. */
static void open_data(struct sl_wbuf *w, const char *reason, const char *prev_file,
                      uint64_t prev_seq, const uint8_t prev_mac[SL_AUDIT_MAC_LEN],
                      uint64_t lost_first, uint64_t lost_last, const char *what)
{
    struct sl_aj j;
    char hex[2 * SL_AUDIT_MAC_LEN + 1];
    sl_audit_mac_hex(prev_mac, hex);
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "reason", reason);
    sl_aj_kcstr(&j, "file", A.file_name);
    if (prev_file && prev_file[0])
        sl_aj_kcstr(&j, "previous_file", prev_file);
    sl_aj_ku64(&j, "previous_seq", prev_seq);
    sl_aj_kcstr(&j, "previous_mac", hex);
    if (lost_last >= lost_first && lost_first > 0) {
        sl_aj_ku64(&j, "lost_first", lost_first);
        sl_aj_ku64(&j, "lost_last", lost_last);
    }
    uint64_t dropped = atomic_load(&A.dropped);
    if (dropped > A.dropped_reported) {
        sl_aj_ku64(&j, "dropped_events", dropped - A.dropped_reported);
        A.dropped_in_open = dropped; /* reported once this record is durable */
    }
    if (what)
        sl_aj_kcstr(&j, "what", what);
    sl_aj_obj_end(&j);
}

static void seal_data(struct sl_wbuf *w, const char *reason)
{
    struct sl_aj j;
    char hex[2 * SL_AUDIT_MAC_LEN + 1];
    sl_audit_mac_hex(A.last_mac, hex);
    sl_aj_init(&j, w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "reason", reason);
    sl_aj_kcstr(&j, "file", A.file_name);
    sl_aj_ku64(&j, "first_seq", A.file_first_seq);
    sl_aj_ku64(&j, "last_seq", A.last_seq);
    sl_aj_kcstr(&j, "last_mac", hex);
    sl_aj_obj_end(&j);
}

/* ---- retention ---- */

static uint64_t first_seq_of(const char *name)
{
    return strtoull(name + 6, NULL, 10);
}

/* Decides which old files go (never the current one) and queues the
 * retention record that lists them; they are deleted once it is durable.
 * Writer thread (or main thread at start), mu not held. */
static void plan_retention(void)
{
    if ((A.retention_ms < 0 && A.retention_bytes < 0) || A.n_pending_delete > 0)
        return;
    char **names = NULL;
    int n = sl_audit_list_files(A.dir, &names);
    if (n <= 1) {
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return;
    }
    int64_t *size = sl_xcalloc((size_t)n, sizeof *size);
    int64_t *mtime = sl_xcalloc((size_t)n, sizeof *mtime);
    int64_t total = 0, now = sl_now_ms();
    for (int i = 0; i < n; i++) {
        char path[4200];
        struct stat st;
        path_of(names[i], path, sizeof path);
        if (stat(path, &st) == 0) {
            size[i] = st.st_size;
            mtime[i] = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
            total += st.st_size;
        }
    }
    int del = 0;
    while (del < n - 1 && strcmp(names[del], A.file_name) != 0 &&
           ((A.retention_bytes >= 0 && total > A.retention_bytes) ||
            (A.retention_ms >= 0 && now - mtime[del] > A.retention_ms))) {
        total -= size[del];
        del++;
    }
    if (del > 0) {
        struct sl_wbuf w;
        sl_wbuf_init(&w);
        struct sl_aj j;
        sl_aj_init(&j, &w);
        sl_aj_obj_begin(&j);
        sl_aj_key(&j, "deleted");
        sl_aj_arr_begin(&j);
        for (int i = 0; i < del; i++)
            sl_aj_cstr(&j, names[i]);
        sl_aj_arr_end(&j);
        sl_aj_ku64(&j, "first_seq_kept", first_seq_of(names[del]));
        sl_aj_ki64(&j, "bytes_kept", total);
        sl_aj_obj_end(&j);
        pthread_mutex_lock(&A.mu);
        if (A.closing) {
            /* The file is sealed for shutdown: the next start decides. */
            pthread_mutex_unlock(&A.mu);
            sl_wbuf_destroy(&w);
            del = 0;
            goto out;
        }
        free(A.pending_delete);
        A.pending_delete = sl_xcalloc((size_t)del, sizeof *A.pending_delete);
        for (int i = 0; i < del; i++)
            A.pending_delete[i] = sl_xstrdup(names[i]);
        A.n_pending_delete = del;
        struct entry *e = entry_get_locked();
        e->kind = K_RETENTION;
        e->time_ms = now;
        snprintf(e->type, sizeof e->type, "%s", SL_AUDIT_T_RETENTION);
        sl_wbuf_put(&e->data, w.data, w.len);
        enqueue_locked(e);
        pthread_cond_signal(&A.cv);
        pthread_mutex_unlock(&A.mu);
        sl_wbuf_destroy(&w);
        SL_INFO("audit", "retention: deleting %d old audit file(s) from %s", del, A.dir);
    }
out:
    free(size);
    free(mtime);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- failure ---- */

static void sink_failed(const char *what, int err)
{
    if (!atomic_load(&A.failed)) {
        SL_ERROR("audit", "AUDIT LOG UNAVAILABLE: %s %s/%s failed: %s; %s", what, A.dir,
                 A.file_name, strerror(-err),
                 A.policy == SL_AUDIT_POLICY_REJECT
                     ? "requests that must be audited are refused until it can be written again "
                       "(sluice.audit.failure.policy=reject)"
                     : "events are lost until it can be written again "
                       "(sluice.audit.failure.policy=log)");
    }
    atomic_store(&A.failed, true);
    close_file();
    sl_wbuf_clear(&A.out);
    /* The chain goes on from the last durable record. */
    A.last_seq = A.durable_seq;
    memcpy(A.last_mac, A.durable_mac, SL_AUDIT_MAC_LEN);
    A.next_retry_ms = sl_mono_ms() + A.retry_ms;
    A.dropped_in_open = 0;
    for (int i = 0; i < A.n_pending_delete; i++)
        free(A.pending_delete[i]);
    A.n_pending_delete = 0;
    A.delete_after_flush = false;
}

/* Tries a new file whose open record states the gap. Writer thread. */
static void try_recover(void)
{
    uint64_t linked = A.durable_seq;
    pthread_mutex_lock(&A.mu);
    uint64_t seq = A.next_seq++;
    pthread_mutex_unlock(&A.mu);
    int rc = open_file(seq);
    if (rc == 0) {
        struct sl_wbuf data;
        sl_wbuf_init(&data);
        open_data(&data, "sink_failure", A.durable_file, A.durable_seq, A.durable_mac,
                  A.durable_seq + 1, seq - 1, NULL);
        rc = format_line(seq, SL_AUDIT_T_OPEN, sl_now_ms(), A.file_name, strlen(A.file_name),
                         true, data.data, data.len);
        sl_wbuf_destroy(&data);
        rc = rc < 0 ? -EIO : flush_out();
    }
    if (rc < 0) {
        char path[4200];
        path_of(A.file_name, path, sizeof path);
        close_file();
        sl_wbuf_clear(&A.out);
        A.last_seq = A.durable_seq;
        memcpy(A.last_mac, A.durable_mac, SL_AUDIT_MAC_LEN);
        A.fops->unlink(A.fops, path);
        A.next_retry_ms = sl_mono_ms() + A.retry_ms;
        A.dropped_in_open = 0;
        return;
    }
    pthread_mutex_lock(&A.mu);
    atomic_store(&A.durable, seq);
    atomic_store(&A.failed, false);
    pthread_cond_broadcast(&A.durable_cv);
    pthread_mutex_unlock(&A.mu);
    SL_WARN("audit", "audit log writable again: %s/%s; the chain links to sequence %" PRIu64
                     ", numbers %" PRIu64 "..%" PRIu64 " are recorded as lost",
            A.dir, A.file_name, linked, linked + 1, seq - 1);
}

/* ---- the writer thread ---- */

/* Writes one queued record; on a K_SEAL also syncs and closes the file, on
 * a K_OPEN creates the next one. Returns 0 or -errno (the sink failed). */
static int write_entry(struct entry *e)
{
    struct sl_wbuf tmp;
    int rc = 0;
    switch (e->kind) {
    case K_EVENT:
    case K_RETENTION:
        if (!A.file)
            return -EBADF;
        if (e->kind == K_RETENTION)
            A.delete_after_flush = true;
        return format_entry(e, &e->data) < 0 ? -EIO : 0;
    case K_SEAL:
        if (!A.file)
            return -EBADF;
        sl_wbuf_init(&tmp);
        seal_data(&tmp, e->reason);
        e->has_subject = true;
        e->subject_len = (size_t)snprintf(e->subject, sizeof e->subject, "%s", A.file_name);
        rc = format_entry(e, &tmp) < 0 ? -EIO : flush_out();
        sl_wbuf_destroy(&tmp);
        if (rc == 0)
            close_file();
        return rc;
    case K_OPEN: {
        char prev_file[NAME_LEN];
        snprintf(prev_file, sizeof prev_file, "%s", A.file_name);
        if (A.file)
            close_file(); /* not sealed: cannot happen, the seal comes first */
        rc = open_file(e->seq);
        if (rc < 0)
            return rc;
        sl_wbuf_init(&tmp);
        open_data(&tmp, e->reason, prev_file, A.last_seq, A.last_mac, 0, 0, NULL);
        e->has_subject = true;
        e->subject_len = (size_t)snprintf(e->subject, sizeof e->subject, "%s", A.file_name);
        rc = format_entry(e, &tmp) < 0 ? -EIO : 0;
        sl_wbuf_destroy(&tmp);
        return rc;
    }
    default:
        return -EINVAL;
    }
}

static void write_batch(struct entry *batch)
{
    for (struct entry *e = batch; e; e = e->next) {
        if (atomic_load(&A.failed))
            return; /* the rest is lost: invariant 3 */
        int rc = write_entry(e);
        if (rc < 0) {
            sink_failed(e->kind == K_OPEN ? "creating" : "writing", rc);
            return;
        }
    }
    int rc = flush_out();
    if (rc < 0)
        sink_failed("writing", rc);
}

/* Moves the waiters that have their answer into *done. mu held. */
static void take_answered_locked(struct waiter **done)
{
    uint64_t durable = atomic_load(&A.durable);
    bool failed = atomic_load(&A.failed) || A.stopping;
    struct waiter **pp = &A.waiters;
    while (*pp) {
        struct waiter *w = *pp;
        if (w->seq <= durable || failed) {
            w->ok = w->seq <= durable;
            *pp = w->next;
            w->next = *done;
            *done = w;
        } else {
            pp = &w->next;
        }
    }
}

static void run_answered(struct waiter *done)
{
    struct waiter *last = NULL;
    for (struct waiter *w = done; w; w = w->next) {
        w->cb(w->arg, w->ok);
        last = w;
    }
    if (last) {
        pthread_mutex_lock(&A.mu);
        last->next = A.free_waiters;
        A.free_waiters = done;
        pthread_mutex_unlock(&A.mu);
    }
}

static bool rotation_due(void)
{
    if (!A.file || A.rotate_pending)
        return false;
    return A.file_size >= A.rotate_bytes ||
           (A.rotate_ms > 0 && sl_mono_ms() - A.file_opened_ms >= A.rotate_ms);
}

static void recycle_locked(struct entry *batch)
{
    while (batch) {
        struct entry *n = batch->next;
        batch->next = A.free_entries;
        A.free_entries = batch;
        batch = n;
    }
}

static void timed_wait_locked(int64_t until_mono_ms)
{
    int64_t wait = until_mono_ms - sl_mono_ms();
    if (wait <= 0)
        return;
    struct timespec ts = sl_abstime_in_ms(wait > 1000 ? 1000 : wait);
    pthread_cond_timedwait(&A.cv, &A.mu, &ts);
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "sl-audit");
    pthread_mutex_lock(&A.mu);
    for (;;) {
        struct waiter *done = NULL;
        if (atomic_load(&A.failed)) {
            /* Queued events cannot be written: drop them (invariant 3). */
            struct entry *drop = A.head;
            A.head = A.tail = NULL;
            A.rotate_pending = false;
            recycle_locked(drop);
            take_answered_locked(&done);
            if (done) {
                pthread_mutex_unlock(&A.mu);
                run_answered(done);
                pthread_mutex_lock(&A.mu);
                continue;
            }
            if (A.stopping)
                break;
            if (sl_mono_ms() < A.next_retry_ms) {
                timed_wait_locked(A.next_retry_ms);
                continue;
            }
            pthread_mutex_unlock(&A.mu);
            try_recover();
            pthread_mutex_lock(&A.mu);
            continue;
        }
        if (!A.head) {
            if (A.stopping)
                break;
            if (!A.closing && rotation_due()) {
                A.rotate_pending = true;
                enqueue_own_locked(K_SEAL, SL_AUDIT_T_SEAL, "rotation");
                enqueue_own_locked(K_OPEN, SL_AUDIT_T_OPEN, "rotation");
                continue;
            }
            int64_t until = A.rotate_ms > 0 && A.file ? A.file_opened_ms + A.rotate_ms
                                                      : sl_mono_ms() + 1000;
            timed_wait_locked(until);
            continue;
        }
        struct entry *batch = A.head;
        A.head = A.tail = NULL;
        pthread_mutex_unlock(&A.mu);
        bool opened = false;
        for (struct entry *e = batch; e; e = e->next)
            opened |= e->kind == K_OPEN;
        write_batch(batch);
        if (opened && !atomic_load(&A.failed))
            plan_retention();
        pthread_mutex_lock(&A.mu);
        if (opened)
            A.rotate_pending = false;
        recycle_locked(batch);
        if (!atomic_load(&A.failed)) {
            atomic_store(&A.durable, A.durable_seq);
            pthread_cond_broadcast(&A.durable_cv);
            /* Under steady load the queue is never empty: check here too. */
            if (!A.closing && rotation_due()) {
                A.rotate_pending = true;
                enqueue_own_locked(K_SEAL, SL_AUDIT_T_SEAL, "rotation");
                enqueue_own_locked(K_OPEN, SL_AUDIT_T_OPEN, "rotation");
            }
        }
        take_answered_locked(&done);
        if (done) {
            pthread_mutex_unlock(&A.mu);
            run_answered(done);
            pthread_mutex_lock(&A.mu);
        }
    }
    struct waiter *done = NULL;
    take_answered_locked(&done);
    pthread_mutex_unlock(&A.mu);
    run_answered(done);
    return NULL;
}

/* ---- start / stop ---- */

static int mkdir_p(const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create directory %s: %s", tmp, strerror(errno));
                return -1;
            }
            *p = c;
            if (!c)
                return 0;
        }
    }
}

/* Reads the newest file to continue its chain, and opens this run's file
 * with its open record, synced. Main thread, before the writer starts. */
static int resume_chain(char *err, size_t errlen)
{
    char **names = NULL;
    int n = sl_audit_list_files(A.dir, &names);
    if (n < 0) {
        snprintf(err, errlen, "cannot read the audit directory %s: %s", A.dir, strerror(errno));
        return -1;
    }
    /* A file left empty by a crash right after its creation holds nothing. */
    while (n > 0) {
        char path[4200];
        struct stat st;
        path_of(names[n - 1], path, sizeof path);
        if (stat(path, &st) != 0 || st.st_size != 0)
            break;
        SL_WARN("audit", "removing the empty audit file %s", path);
        unlink(path);
        free(names[--n]);
    }
    const char *reason = "genesis";
    char prev_file[NAME_LEN] = "", what[400] = "";
    uint64_t prev_seq = 0, next = 1, lost_first = 0, lost_last = 0;
    uint8_t prev_mac[SL_AUDIT_MAC_LEN] = {0};
    if (n > 0) {
        char path[4200];
        path_of(names[n - 1], path, sizeof path);
        struct sl_audit_file_scan *s = sl_xcalloc(1, sizeof *s);
        if (sl_audit_scan_file(path, &A.hmac, s) < 0) {
            snprintf(err, errlen, "audit: %s", s->what);
            free(s);
            for (int i = 0; i < n; i++)
                free(names[i]);
            free(names);
            return -1;
        }
        snprintf(prev_file, sizeof prev_file, "%s", names[n - 1]);
        prev_seq = s->last_seq;
        memcpy(prev_mac, s->last_mac, sizeof prev_mac);
        next = s->last_seq + 1;
        if (s->bad) {
            uint64_t top = s->max_seq_seen > s->last_seq ? s->max_seq_seen : s->last_seq;
            uint64_t named = first_seq_of(names[n - 1]);
            if (named > top)
                top = named;
            next = top + 1;
            lost_first = s->last_seq + 1;
            lost_last = next - 1;
            reason = "damaged";
            A.damaged_at_start = true;
            snprintf(what, sizeof what, "%s line %" PRIu64 ": %s", names[n - 1], s->bad_line,
                     s->what);
            SL_ERROR("audit", "AUDIT LOG DAMAGED: %s/%s; the chain continues from sequence %" PRIu64
                              " in a new file that records the break. Keep the damaged file for "
                              "investigation; `sluice audit verify` will report it",
                     A.dir, what, s->last_seq);
        } else {
            reason = s->sealed ? "start" : "restart_unsealed";
            if (!s->sealed)
                SL_WARN("audit", "the audit file %s was not sealed (the broker did not stop "
                                 "cleanly); its chain holds up to sequence %" PRIu64,
                        path, s->last_seq);
        }
        free(s);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    memcpy(A.last_mac, prev_mac, sizeof prev_mac);
    A.last_seq = prev_seq;
    A.durable_seq = prev_seq;
    memcpy(A.durable_mac, prev_mac, sizeof prev_mac);
    int rc = open_file(next);
    if (rc < 0) {
        snprintf(err, errlen, "cannot create audit file %s/%s: %s", A.dir, A.file_name,
                 strerror(-rc));
        return -1;
    }
    struct sl_wbuf data;
    sl_wbuf_init(&data);
    open_data(&data, reason, prev_file, prev_seq, prev_mac, lost_first, lost_last,
              what[0] ? what : NULL);
    rc = format_line(next, SL_AUDIT_T_OPEN, sl_now_ms(), A.file_name, strlen(A.file_name), true,
                     data.data, data.len);
    sl_wbuf_destroy(&data);
    rc = rc < 0 ? -EIO : flush_out();
    if (rc < 0) {
        snprintf(err, errlen, "cannot write audit file %s/%s: %s", A.dir, A.file_name,
                 strerror(-rc));
        close_file();
        return -1;
    }
    A.next_seq = next + 1;
    atomic_store(&A.durable, next);
    SL_INFO("audit", "audit log %s/%s: chain continues at sequence %" PRIu64 " (%s)", A.dir,
            A.file_name, next, reason);
    return 0;
}

static void free_state(void)
{
    close_file();
    sl_audit_hmac_free(&A.hmac);
    while (A.free_entries) {
        struct entry *e = A.free_entries;
        A.free_entries = e->next;
        sl_wbuf_destroy(&e->data);
        free(e);
    }
    while (A.free_waiters) {
        struct waiter *w = A.free_waiters;
        A.free_waiters = w->next;
        free(w);
    }
    for (int i = 0; i < A.n_pending_delete; i++)
        free(A.pending_delete[i]);
    free(A.pending_delete);
    sl_wbuf_destroy(&A.out);
    free(A.dir);
    free(A.key_file);
    free(A.source);
    pthread_mutex_destroy(&A.mu);
    pthread_cond_destroy(&A.cv);
    pthread_cond_destroy(&A.durable_cv);
    memset(&A, 0, sizeof A);
}

int sl_audit_start(const struct sl_audit_conf *conf, char *err, size_t errlen)
{
    pthread_mutex_lock(&A_init_mu);
    memset(&A, 0, sizeof A);
    pthread_mutex_init(&A.mu, NULL);
    pthread_cond_init(&A.cv, NULL);
    pthread_cond_init(&A.durable_cv, NULL);
    sl_wbuf_init(&A.out);
    A.policy = conf->policy;
    A.authz_level = conf->authz_level;
    pthread_mutex_unlock(&A_init_mu);
    if (!conf->enable) {
        SL_WARN("audit", "the audit log is OFF (sluice.audit.enable=false): security events are "
                         "not recorded");
        return 0;
    }
    A.dir = sl_xstrdup(conf->dir);
    A.key_file = sl_xstrdup(conf->key_file);
    A.source = sl_xstrdup(conf->source ? conf->source : "/sluice");
    A.rotate_bytes = conf->rotate_bytes > 0 ? conf->rotate_bytes : INT64_MAX;
    A.rotate_ms = conf->rotate_ms;
    A.retention_ms = conf->retention_ms;
    A.retention_bytes = conf->retention_bytes;
    A.retry_ms = conf->retry_ms > 0 ? conf->retry_ms : 1000;
    A.fops = conf->fops ? conf->fops : &sl_fileops_posix;
    if (mkdir_p(A.dir, err, errlen) < 0)
        goto fail;
    char **names = NULL;
    int n = sl_audit_list_files(A.dir, &names);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    uint8_t key[SL_AUDIT_KEY_LEN];
    if (access(A.key_file, F_OK) != 0 && n > 0) {
        snprintf(err, errlen,
                 "the audit key %s is missing but %s holds %d audit file(s): restore the key "
                 "(or move the old audit files away to start a new chain)",
                 A.key_file, A.dir, n);
        goto fail;
    }
    if (sl_audit_key_load(A.key_file, true, key, err, errlen) < 0)
        goto fail;
    int hrc = sl_audit_hmac_init(&A.hmac, key);
    OPENSSL_cleanse(key, sizeof key);
    if (hrc < 0) {
        snprintf(err, errlen, "audit: cannot set up HMAC-SHA-256");
        goto fail;
    }
    if (resume_chain(err, errlen) < 0)
        goto fail;
    A.enabled = true;
    plan_retention();
    if (pthread_create(&A.thread, NULL, writer_main, NULL) != 0) {
        snprintf(err, errlen, "cannot start the audit writer thread");
        A.enabled = false;
        goto fail;
    }
    A.thread_started = true;
    return 0;
fail:
    free_state();
    return -1;
}

void sl_audit_stop(void)
{
    if (!A.enabled || !A.thread_started) {
        if (A.dir || A.enabled)
            free_state();
        return;
    }
    pthread_mutex_lock(&A.mu);
    A.closing = true;
    if (!atomic_load(&A.failed))
        enqueue_own_locked(K_SEAL, SL_AUDIT_T_SEAL, "shutdown");
    A.stopping = true;
    pthread_cond_signal(&A.cv);
    pthread_mutex_unlock(&A.mu);
    pthread_join(A.thread, NULL);
    SL_INFO("audit", "audit log sealed at sequence %" PRIu64 "%s", A.durable_seq,
            atomic_load(&A.failed) ? " (the sink had failed: the last file is not sealed)" : "");
    free_state();
}

/* ---- queries and emitting ---- */

bool sl_audit_enabled(void)
{
    return A.enabled;
}

bool sl_audit_available(void)
{
    return !A.enabled || !atomic_load(&A.failed);
}

int sl_audit_policy(void)
{
    return A.policy;
}

int sl_audit_authz_level(void)
{
    return A.authz_level;
}

uint64_t sl_audit_durable_seq(void)
{
    return atomic_load(&A.durable);
}

uint64_t sl_audit_dropped(void)
{
    return atomic_load(&A.dropped);
}

const char *sl_audit_status(void)
{
    if (!A.enabled)
        return "disabled";
    if (atomic_load(&A.failed))
        return "unwritable";
    if (A.damaged_at_start || atomic_load(&A.dropped) > 0)
        return "broken";
    return "intact";
}

uint64_t sl_audit_emit(const char *type, const char *subject, const char *data, size_t data_len)
{
    if (!A.enabled)
        return SL_AUDIT_SEQ_NONE;
    if (atomic_load(&A.failed)) {
        atomic_fetch_add(&A.dropped, 1);
        return A.policy == SL_AUDIT_POLICY_REJECT ? SL_AUDIT_SEQ_FAILED : SL_AUDIT_SEQ_NONE;
    }
    static const char too_big[] = "{\"truncated\":true}";
    if (data_len > SL_AUDIT_LINE_MAX - 4096) {
        data = too_big;
        data_len = sizeof too_big - 1;
    }
    pthread_mutex_lock(&A.mu);
    struct entry *e = entry_get_locked();
    pthread_mutex_unlock(&A.mu);
    e->kind = K_EVENT;
    e->time_ms = sl_now_ms();
    snprintf(e->type, sizeof e->type, "%s", type);
    if (subject) {
        size_t n = strlen(subject);
        e->subject_len = n < sizeof e->subject ? n : sizeof e->subject;
        memcpy(e->subject, subject, e->subject_len);
        e->has_subject = true;
    }
    sl_wbuf_put(&e->data, data, data_len);
    pthread_mutex_lock(&A.mu);
    if (A.closing) {
        e->next = A.free_entries;
        A.free_entries = e;
        pthread_mutex_unlock(&A.mu);
        return SL_AUDIT_SEQ_NONE;
    }
    bool wake = A.head == NULL;
    enqueue_locked(e);
    uint64_t seq = e->seq;
    pthread_mutex_unlock(&A.mu);
    if (wake)
        pthread_cond_signal(&A.cv);
    return seq;
}

void sl_audit_wait(uint64_t seq, void (*cb)(void *arg, bool ok), void *arg)
{
    if (!A.enabled || seq == SL_AUDIT_SEQ_NONE) {
        cb(arg, true);
        return;
    }
    pthread_mutex_lock(&A.mu);
    if (seq <= atomic_load(&A.durable) || seq == SL_AUDIT_SEQ_FAILED ||
        atomic_load(&A.failed) || A.stopping) {
        bool ok = seq <= atomic_load(&A.durable);
        pthread_mutex_unlock(&A.mu);
        cb(arg, ok);
        return;
    }
    struct waiter *w = A.free_waiters;
    if (w)
        A.free_waiters = w->next;
    else
        w = sl_xmalloc(sizeof *w);
    *w = (struct waiter){A.waiters, seq, false, cb, arg};
    A.waiters = w;
    pthread_mutex_unlock(&A.mu);
}

bool sl_audit_sync(uint64_t seq, int64_t timeout_ms)
{
    if (!A.enabled || seq == SL_AUDIT_SEQ_NONE)
        return true;
    if (seq == SL_AUDIT_SEQ_FAILED)
        return false;
    int64_t deadline = sl_mono_ms() + timeout_ms;
    pthread_mutex_lock(&A.mu);
    while (atomic_load(&A.durable) < seq && !atomic_load(&A.failed) && !A.stopping) {
        int64_t now = sl_mono_ms();
        if (now >= deadline)
            break;
        struct timespec ts = sl_abstime_in_ms(deadline - now);
        pthread_cond_timedwait(&A.durable_cv, &A.mu, &ts);
    }
    bool ok = atomic_load(&A.durable) >= seq;
    pthread_mutex_unlock(&A.mu);
    return ok;
}
