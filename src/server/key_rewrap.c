/* SPDX-License-Identifier: Apache-2.0
 *
 * Online key rewrap (see key_rewrap.h).
 */
#include "server/key_rewrap.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/logging.h"
#include "core/mem.h"
#include "core/test_hook.h"
#include "crypto/fileops_aead.h"
#include "crypto/key_provider.h"
#include "crypto/keyring.h"
#include "crypto/rewrap_walk.h"
#include "meta/meta.h"
#include "security/audit/audit.h"
#include "server/broker.h"
#include "sluice/err.h"

/* The test hook's environment variable (docs/ENCRYPTION.md). */
#define DELAY_ENV "SLUICE_TEST_REWRAP_DELAY_MS"

struct sl_key_rewrap {
    pthread_mutex_t mu;
    bool running;        /* under mu */
    bool joinable;       /* a thread to join; under mu */
    pthread_t thread;
    atomic_bool stop;
    char status[512];    /* under mu */
    struct sl_keyring **kept; /* every keyring loaded by a rewrap; freed at the end */
    size_t n_kept;
};

static void set_status(struct sl_key_rewrap *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_status(struct sl_key_rewrap *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&r->mu);
    vsnprintf(r->status, sizeof(r->status), fmt, ap);
    pthread_mutex_unlock(&r->mu);
    va_end(ap);
}

static void finish(struct sl_key_rewrap *r)
{
    pthread_mutex_lock(&r->mu);
    r->running = false;
    pthread_mutex_unlock(&r->mu);
}

static void fail(struct sl_key_rewrap *r, uint32_t version, const struct sl_rewrap_stats *st,
                 const char *reason)
{
    SL_ERROR("crypto", "online key rewrap failed: %s", reason);
    static const struct sl_rewrap_stats none;
    if (!st)
        st = &none;
    sl_audit_key_rewrap("failed", version, st->rewrapped, st->current, st->failed, reason);
    set_status(r, "failed: %s", reason);
    finish(r);
}

/* One pass over every directory that holds sealed files. */
static void walk_all(struct sl_broker *b, struct sl_rewrap_stats *st)
{
    struct sl_key_rewrap *r = b->rewrap;
    char dir[4200];
    sl_rewrap_tree(b->aead, b->logs_dir, st, &r->stop);
    snprintf(dir, sizeof(dir), "%s/internal", b->cfg->data_dir);
    sl_rewrap_tree(b->aead, dir, st, &r->stop);
}

static void *run(void *arg)
{
    struct sl_broker *b = arg;
    struct sl_key_rewrap *r = b->rewrap;
    const struct sl_config *cfg = b->cfg;
    const struct sl_keyring *cur = sl_fileops_aead_keyring(b->aead);
    uint32_t old_version = sl_keyring_newest(cur)->version;
    struct sl_keyring *nk = sl_xcalloc(1, sizeof(*nk));
    char err[1024];
    bool created;
    if (sl_keys_load(cfg->data_dir, cfg->keys_file, cfg->keys_command, false, nk, &created, err,
                     sizeof(err)) < 0 ||
        sl_keyring_merge(nk, cur, err, sizeof(err)) < 0) {
        char reason[1200];
        snprintf(reason, sizeof(reason), "cannot reload the keyring: %s", err);
        sl_keyring_free(nk);
        free(nk);
        fail(r, old_version, NULL, reason);
        sl_audit_thread_exit();
        return NULL;
    }
    r->kept = sl_xrealloc(r->kept, (r->n_kept + 1) * sizeof(*r->kept));
    r->kept[r->n_kept++] = nk; /* only this thread and free touch kept */
    uint32_t version = sl_keyring_newest(nk)->version;
    SL_INFO("crypto", "online key rewrap started: keyring reloaded (%zu version(s), newest %u, "
                      "was %u); rewrapping every data key under version %u",
            nk->n, version, old_version, version);
    sl_audit_key_rewrap("started", version, 0, 0, 0, NULL);
    set_status(r, "running: rewrapping every data key under key version %u", version);
    /* The test hook: a pause per rewrapped file (0 without the variable). */
    sl_fileops_aead_set_rewrap_delay(
        b->aead, sl_test_hook_ms(DELAY_ENV, 10000, "crypto",
                                 "each file's rewrap pauses inside its critical section"));
    sl_fileops_aead_set_keyring(b->aead, nk);
    struct sl_rewrap_stats total = {0};
    if (sl_meta_reseal(b->meta, nk) != SL_ERR_NONE) {
        fail(r, version, &total, "cannot reseal the metadata store (see the log)");
        sl_audit_thread_exit();
        return NULL;
    }
    int passes = 0;
    for (;;) {
        struct sl_rewrap_stats st = {0};
        walk_all(b, &st);
        passes++;
        total.rewrapped += st.rewrapped;
        if (passes == 1)
            total.current = st.current;
        total.failed = st.failed; /* the last pass's: a file that failed is tried again */
        if (atomic_load(&r->stop)) {
            fail(r, version, &total, "stopped: the broker is shutting down (run it again)");
            sl_audit_thread_exit();
            return NULL;
        }
        if (st.rewrapped == 0 || passes == SL_KEY_REWRAP_PASSES)
            break;
        set_status(r, "running: %lld file(s) rewrapped under key version %u, pass %d",
                   (long long)total.rewrapped, version, passes + 1);
    }
    if (total.failed > 0) {
        char reason[256];
        snprintf(reason, sizeof(reason), "%lld file(s) could not be rewrapped (see the broker "
                                         "log): keep the older key versions",
                 (long long)total.failed);
        fail(r, version, &total, reason);
        sl_audit_thread_exit();
        return NULL;
    }
    SL_INFO("crypto", "online key rewrap done: %lld file(s) rewrapped, %lld already current, "
                      "the metadata store resealed, in %d pass(es); no file needs a key version "
                      "older than %u",
            (long long)total.rewrapped, (long long)total.current, passes, version);
    sl_audit_key_rewrap("done", version, total.rewrapped, total.current, 0, NULL);
    set_status(r, "done: %lld file(s) rewrapped, %lld already current, metadata store resealed; "
                  "key version %u",
               (long long)total.rewrapped, (long long)total.current, version);
    finish(r);
    sl_audit_thread_exit();
    return NULL;
}

void sl_key_rewrap_init(struct sl_broker *b)
{
    struct sl_key_rewrap *r = sl_xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->stop, false);
    snprintf(r->status, sizeof(r->status), "idle");
    b->rewrap = r;
}

int16_t sl_key_rewrap_start(struct sl_broker *b, char *msg, size_t msglen)
{
    struct sl_key_rewrap *r = b->rewrap;
    if (!r || !b->aead) {
        snprintf(msg, msglen, "%s: encryption at rest is off on this broker: there are no keys "
                              "to rewrap", SL_KEY_REWRAP_CONFIG);
        return SL_ERR_INVALID_CONFIG;
    }
    pthread_mutex_lock(&r->mu);
    if (atomic_load(&r->stop)) {
        pthread_mutex_unlock(&r->mu);
        snprintf(msg, msglen, "%s: the broker is shutting down", SL_KEY_REWRAP_CONFIG);
        return SL_ERR_INVALID_REQUEST;
    }
    if (r->running) {
        pthread_mutex_unlock(&r->mu);
        snprintf(msg, msglen, "%s: a key rewrap is already running (see "
                              "sluice.encryption.rewrap.status); ask again when it is done",
                 SL_KEY_REWRAP_CONFIG);
        return SL_ERR_INVALID_REQUEST;
    }
    if (r->joinable) {
        pthread_join(r->thread, NULL); /* finished: returns at once */
        r->joinable = false;
    }
    r->running = true;
    snprintf(r->status, sizeof(r->status), "running: reloading the keyring");
    int e = pthread_create(&r->thread, NULL, run, b);
    if (e != 0) {
        r->running = false;
        snprintf(r->status, sizeof(r->status), "failed: cannot start a thread: %s", strerror(e));
        pthread_mutex_unlock(&r->mu);
        snprintf(msg, msglen, "%s: cannot start a thread: %s", SL_KEY_REWRAP_CONFIG, strerror(e));
        return SL_ERR_UNKNOWN_SERVER_ERROR;
    }
    r->joinable = true;
    pthread_mutex_unlock(&r->mu);
    return SL_ERR_NONE;
}

void sl_key_rewrap_stop(struct sl_broker *b)
{
    struct sl_key_rewrap *r = b->rewrap;
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, true); /* under mu: no start after this */
    bool join = r->joinable;
    r->joinable = false;
    pthread_mutex_unlock(&r->mu);
    if (join)
        pthread_join(r->thread, NULL);
}

void sl_key_rewrap_free(struct sl_broker *b)
{
    struct sl_key_rewrap *r = b->rewrap;
    if (!r)
        return;
    sl_key_rewrap_stop(b);
    for (size_t i = 0; i < r->n_kept; i++) {
        sl_keyring_free(r->kept[i]);
        free(r->kept[i]);
    }
    free(r->kept);
    pthread_mutex_destroy(&r->mu);
    free(r);
    b->rewrap = NULL;
}

void sl_key_rewrap_status(const struct sl_broker *b, char *out, size_t n)
{
    struct sl_key_rewrap *r = b->rewrap;
    if (!r) {
        snprintf(out, n, "idle");
        return;
    }
    pthread_mutex_lock(&r->mu);
    snprintf(out, n, "%s", r->status);
    pthread_mutex_unlock(&r->mu);
}

const struct sl_keyring *sl_key_rewrap_keyring(const struct sl_broker *b)
{
    return b->aead ? sl_fileops_aead_keyring(b->aead) : NULL;
}
