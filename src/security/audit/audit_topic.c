/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit records copied to __sluice_audit (see audit_topic.h).
 */
#include "security/audit/audit_topic.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/wbuf.h"
#include "group/records.h"
#include "security/audit/audit.h"
#include "server/broker.h"
#include "server/registry.h"
#include "storage/batch.h"
#include "storage/log.h"

/* A batch holds at most this many records or bytes of values: a group
 * commit under load can hold thousands of lines. */
#define MAX_RECORDS 1000
#define MAX_BYTES (512 * 1024)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct sl_log *T_log;        /* mu: NULL while detached */
static bool T_failed;               /* mu: a failure was logged */
static struct sl_wbuf T_batch;      /* mu */
static struct sl_grec T_recs[MAX_RECORDS];

int sl_audit_topic_start(struct sl_broker *b, char *err, size_t errlen)
{
    if (!sl_audit_enabled() || !b->cfg->audit_topic_enable)
        return 0;
    sl_str_t name = SL_STR_LIT(SL_AUDIT_TOPIC_NAME);
    struct sl_topic *t = sl_registry_get(b, name);
    if (!t) {
        char msg[256];
        sl_err_t rc = sl_registry_create(b, name, 1, NULL, 0, false, &t, msg, sizeof msg);
        if (rc == SL_ERR_TOPIC_ALREADY_EXISTS)
            t = sl_registry_get(b, name);
        else if (rc != SL_ERR_NONE) {
            snprintf(err, errlen, "cannot create the audit topic %s: %s", SL_AUDIT_TOPIC_NAME, msg);
            return -1;
        }
        if (t)
            SL_INFO("audit", "created the internal topic %s", SL_AUDIT_TOPIC_NAME);
    }
    if (!t || t->n_parts < 1) {
        snprintf(err, errlen, "the audit topic %s has no partition", SL_AUDIT_TOPIC_NAME);
        sl_topic_unref(t);
        return -1;
    }
    pthread_mutex_lock(&mu);
    sl_log_ref(t->logs[0]);
    T_log = t->logs[0];
    T_failed = false;
    sl_wbuf_init(&T_batch);
    pthread_mutex_unlock(&mu);
    sl_topic_unref(t);
    return 0;
}

void sl_audit_topic_stop(void)
{
    pthread_mutex_lock(&mu);
    if (T_log) {
        sl_log_unref(T_log);
        T_log = NULL;
        sl_wbuf_destroy(&T_batch);
    }
    pthread_mutex_unlock(&mu);
}

/* The CloudEvents type of a line written by the audit writer: the value of
 * its "type" member (types are plain ASCII, never escaped). */
static void line_type(const char *line, size_t n, const uint8_t **key, int32_t *key_len)
{
    static const char pat[] = ",\"type\":\"";
    *key = NULL;
    *key_len = -1;
    const char *p = memmem(line, n, pat, sizeof pat - 1);
    if (!p)
        return;
    p += sizeof pat - 1;
    const char *e = memchr(p, '"', n - (size_t)(p - line));
    if (!e)
        return;
    *key = (const uint8_t *)p;
    *key_len = (int32_t)(e - p);
}

/* Appends recs[0..n) as one batch. mu held. */
static void append(int n)
{
    if (n == 0 || T_failed)
        return;
    sl_grec_build_batch(&T_batch, T_recs, n, sl_now_ms());
    struct sl_batch_info info;
    sl_err_t rc = sl_batch_parse(T_batch.data, T_batch.len, &info);
    if (rc == SL_ERR_NONE)
        rc = sl_log_append(T_log, T_batch.data, T_batch.len, 0, NULL);
    if (rc != SL_ERR_NONE) {
        T_failed = true;
        SL_ERROR("audit", "cannot append to %s (error %d): the audit records go on in the audit "
                          "files only until the broker restarts",
                 SL_AUDIT_TOPIC_NAME, (int)rc);
    }
}

void sl_audit_topic_copy(const char *lines, size_t len)
{
    pthread_mutex_lock(&mu);
    if (!T_log || T_failed) {
        pthread_mutex_unlock(&mu);
        return;
    }
    int n = 0;
    size_t bytes = 0, pos = 0;
    while (pos < len) {
        const char *line = lines + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ln = nl ? (size_t)(nl - line) : len - pos;
        pos += ln + (nl ? 1 : 0);
        if (ln == 0)
            continue;
        if (n == MAX_RECORDS || (n > 0 && bytes + ln > MAX_BYTES)) {
            append(n);
            n = 0;
            bytes = 0;
        }
        struct sl_grec *r = &T_recs[n++];
        line_type(line, ln, &r->key, &r->key_len);
        r->value = (const uint8_t *)line;
        r->value_len = (int32_t)ln;
        bytes += ln;
    }
    append(n);
    pthread_mutex_unlock(&mu);
}
