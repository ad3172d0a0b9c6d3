/* SPDX-License-Identifier: Apache-2.0
 *
 * The topic registry (see registry.h). Topics sit in an array sorted by
 * name behind a read-write lock; changes (rare) are serialised by an admin
 * mutex, made durable in the metadata store, then swapped in under the write
 * lock. Partition directories follow Kafka's layout: <log dir>/<topic>-<n>.
 */
#include "server/registry.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/logging.h"
#include "core/mem.h"
#include "meta/meta.h"
#include "server/broker.h"
#include "storage/log.h"
#include "storage/producer_state.h"

#define MAX_PARTITIONS_PER_TOPIC 10000

struct sl_registry {
    pthread_rwlock_t lock;
    pthread_mutex_t admin; /* serialises changes */
    struct sl_topic **topics;
    int n, cap;
};

static struct sl_registry *REG(struct sl_broker *b)
{
    return b->reg;
}

/* ---- topic objects ---- */

static void topic_free(struct sl_topic *t)
{
    for (int i = 0; i < t->n_parts; i++) {
        if (t->logs[i])
            sl_log_unref(t->logs[i]);
    }
    for (int i = 0; i < t->n_configs; i++) {
        free(t->configs[i].key);
        free(t->configs[i].value);
    }
    free(t->configs);
    free(t->logs);
    free(t->name);
    free(t);
}

void sl_topic_unref(struct sl_topic *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1)
        topic_free(t);
}

static struct sl_kv *kv_copy(const struct sl_kv *kv, int n)
{
    if (n <= 0)
        return NULL;
    struct sl_kv *c = sl_xcalloc((size_t)n, sizeof(*c));
    for (int i = 0; i < n; i++) {
        c[i].key = sl_xstrdup(kv[i].key);
        c[i].value = sl_xstrdup(kv[i].value ? kv[i].value : "");
    }
    return c;
}

/* A new topic object sharing old's logs (each referenced again). */
static struct sl_topic *topic_clone(const struct sl_topic *old, int32_t n_parts)
{
    struct sl_topic *t = sl_xcalloc(1, sizeof(*t));
    t->name = sl_xstrdup(old->name);
    t->id = old->id;
    t->n_parts = n_parts;
    t->logs = sl_xcalloc((size_t)n_parts, sizeof(*t->logs));
    for (int i = 0; i < old->n_parts && i < n_parts; i++) {
        t->logs[i] = old->logs[i];
        sl_log_ref(t->logs[i]);
    }
    t->configs = kv_copy(old->configs, old->n_configs);
    t->n_configs = old->n_configs;
    t->cfg = old->cfg;
    atomic_init(&t->refs, 1);
    return t;
}

static void log_cfg_from(const struct sl_topic_config *tc, struct sl_log_config *lc)
{
    sl_log_config_defaults(lc);
    lc->segment_bytes = tc->segment_bytes;
    lc->segment_ms = tc->segment_ms;
    lc->retention_ms = tc->retention_ms;
    lc->retention_bytes = tc->retention_bytes;
    lc->index_interval_bytes = tc->index_interval_bytes;
    lc->segment_index_bytes = tc->segment_index_bytes;
    lc->file_delete_delay_ms = tc->file_delete_delay_ms;
}

static int open_partition(struct sl_broker *b, struct sl_topic *t, int32_t p, bool clean,
                          char *err, size_t errlen)
{
    char dir[4400];
    snprintf(dir, sizeof(dir), "%s/%s-%d", b->logs_dir, t->name, p);
    struct sl_log_config lc;
    log_cfg_from(&t->cfg, &lc);
    if (sl_log_open(b->fops, dir, &lc, clean, &t->logs[p], err, errlen) != SL_ERR_NONE)
        return -1;
    if (sl_pstate_attach(t->logs[p], err, errlen) != SL_ERR_NONE) {
        sl_log_unref(t->logs[p]);
        t->logs[p] = NULL;
        return -1;
    }
    return 0;
}

/* ---- lookup ---- */

static int find_locked(struct sl_registry *r, sl_str_t name, bool *found)
{
    int lo = 0, hi = r->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        const char *mn = r->topics[mid]->name;
        size_t mlen = strlen(mn);
        size_t n = mlen < (size_t)name.len ? mlen : (size_t)name.len;
        int c = memcmp(mn, name.p, n);
        if (c == 0)
            c = mlen < (size_t)name.len ? -1 : (mlen > (size_t)name.len ? 1 : 0);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

struct sl_topic *sl_registry_get(struct sl_broker *b, sl_str_t name)
{
    struct sl_registry *r = REG(b);
    if (name.len <= 0)
        return NULL;
    struct sl_topic *t = NULL;
    pthread_rwlock_rdlock(&r->lock);
    bool found;
    int i = find_locked(r, name, &found);
    if (found) {
        t = r->topics[i];
        atomic_fetch_add(&t->refs, 1);
    }
    pthread_rwlock_unlock(&r->lock);
    return t;
}

struct sl_topic *sl_registry_get_by_id(struct sl_broker *b, const sl_uuid_t *id)
{
    struct sl_registry *r = REG(b);
    struct sl_topic *t = NULL;
    pthread_rwlock_rdlock(&r->lock);
    for (int i = 0; i < r->n; i++) {
        if (memcmp(r->topics[i]->id.b, id->b, 16) == 0) {
            t = r->topics[i];
            atomic_fetch_add(&t->refs, 1);
            break;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    return t;
}

int sl_registry_list(struct sl_broker *b, struct sl_topic ***out)
{
    struct sl_registry *r = REG(b);
    pthread_rwlock_rdlock(&r->lock);
    int n = r->n;
    struct sl_topic **ts = sl_xcalloc((size_t)(n ? n : 1), sizeof(*ts));
    for (int i = 0; i < n; i++) {
        ts[i] = r->topics[i];
        atomic_fetch_add(&ts[i]->refs, 1);
    }
    pthread_rwlock_unlock(&r->lock);
    *out = ts;
    return n;
}

void sl_registry_list_free(struct sl_topic **ts, int n)
{
    for (int i = 0; i < n; i++)
        sl_topic_unref(ts[i]);
    free(ts);
}

void sl_registry_each_log(struct sl_broker *b, void (*fn)(struct sl_log *log, void *arg),
                          void *arg)
{
    struct sl_topic **ts;
    int n = sl_registry_list(b, &ts);
    for (int i = 0; i < n; i++) {
        for (int p = 0; p < ts[i]->n_parts; p++)
            fn(ts[i]->logs[p], arg);
    }
    sl_registry_list_free(ts, n);
}

/* Swaps t in for the topic of the same name (or inserts it). Takes t's
 * reference; drops the registry's reference on the old one. */
static void install(struct sl_registry *r, struct sl_topic *t)
{
    struct sl_topic *old = NULL;
    pthread_rwlock_wrlock(&r->lock);
    bool found;
    int i = find_locked(r, sl_str_c(t->name), &found);
    if (found) {
        old = r->topics[i];
        r->topics[i] = t;
    } else {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->topics = sl_xrealloc(r->topics, sizeof(*r->topics) * (size_t)r->cap);
        }
        memmove(&r->topics[i + 1], &r->topics[i], sizeof(*r->topics) * (size_t)(r->n - i));
        r->topics[i] = t;
        r->n++;
    }
    pthread_rwlock_unlock(&r->lock);
    sl_topic_unref(old);
}

static struct sl_topic *uninstall(struct sl_registry *r, sl_str_t name)
{
    struct sl_topic *t = NULL;
    pthread_rwlock_wrlock(&r->lock);
    bool found;
    int i = find_locked(r, name, &found);
    if (found) {
        t = r->topics[i];
        memmove(&r->topics[i], &r->topics[i + 1], sizeof(*r->topics) * (size_t)(r->n - i - 1));
        r->n--;
    }
    pthread_rwlock_unlock(&r->lock);
    return t;
}

/* ---- validation ---- */

bool sl_topic_internal(sl_str_t name)
{
    return name.len == (int32_t)(sizeof SL_AUDIT_TOPIC_NAME - 1) &&
           memcmp(name.p, SL_AUDIT_TOPIC_NAME, sizeof SL_AUDIT_TOPIC_NAME - 1) == 0;
}

bool sl_topic_internal_c(const char *name)
{
    return name && strcmp(name, SL_AUDIT_TOPIC_NAME) == 0;
}

const char *sl_topic_name_invalid(sl_str_t name)
{
    if (name.len <= 0)
        return "Topic name is illegal, it can't be empty";
    if (name.len > 249)
        return "Topic name is illegal, it can't be longer than 249 characters";
    if ((name.len == 1 && name.p[0] == '.') || (name.len == 2 && name.p[0] == '.' && name.p[1] == '.'))
        return "Topic name cannot be \".\" or \"..\"";
    for (int32_t i = 0; i < name.len; i++) {
        char ch = name.p[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '.' || ch == '_' || ch == '-';
        if (!ok)
            return "Topic name is illegal, it contains a character other than ASCII alphanumerics, "
                   "'.', '_' and '-'";
    }
    return NULL;
}

static sl_err_t meta_put(struct sl_broker *b, const struct sl_topic *t)
{
    struct sl_meta_topic mt = {
        .name = t->name, .id = t->id, .partitions = t->n_parts,
        .configs = t->configs, .n_configs = t->n_configs,
    };
    return sl_meta_put_topic(b->meta, &mt);
}

/* ---- changes ---- */

sl_err_t sl_registry_create(struct sl_broker *b, sl_str_t name, int32_t partitions,
                            const struct sl_kv *configs, int n_configs, bool validate_only,
                            struct sl_topic **out, char *msg, size_t msglen)
{
    struct sl_registry *r = REG(b);
    const char *why = sl_topic_name_invalid(name);
    if (why) {
        snprintf(msg, msglen, "%s", why);
        return SL_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (partitions == -1)
        partitions = b->cfg->num_partitions;
    if (partitions <= 0 || partitions > MAX_PARTITIONS_PER_TOPIC) {
        snprintf(msg, msglen, "Number of partitions must be between 1 and %d.",
                 MAX_PARTITIONS_PER_TOPIC);
        return SL_ERR_INVALID_PARTITIONS;
    }
    struct sl_topic_config tc;
    if (sl_topic_config_resolve(b->cfg, configs, n_configs, &tc, msg, msglen) != SL_ERR_NONE)
        return SL_ERR_INVALID_CONFIG;

    pthread_mutex_lock(&r->admin);
    sl_err_t rc = SL_ERR_NONE;
    struct sl_topic *t = NULL;
    struct sl_topic *existing = sl_registry_get(b, name);
    if (existing) {
        sl_topic_unref(existing);
        snprintf(msg, msglen, "Topic '%.*s' already exists.", name.len, name.p);
        rc = SL_ERR_TOPIC_ALREADY_EXISTS;
        goto out;
    }
    if (validate_only)
        goto out;
    t = sl_xcalloc(1, sizeof(*t));
    t->name = sl_xstrndup(name.p, (size_t)name.len);
    RAND_bytes(t->id.b, 16);
    t->n_parts = partitions;
    t->logs = sl_xcalloc((size_t)partitions, sizeof(*t->logs));
    t->configs = kv_copy(configs, n_configs);
    t->n_configs = n_configs > 0 ? n_configs : 0;
    t->cfg = tc;
    atomic_init(&t->refs, 1);
    char err[512];
    for (int32_t p = 0; p < partitions; p++) {
        if (open_partition(b, t, p, true, err, sizeof(err)) < 0) {
            SL_ERROR("topics", "creating %s: %s", t->name, err);
            snprintf(msg, msglen, "Cannot create the partition directories: %s", err);
            rc = SL_ERR_KAFKA_STORAGE_ERROR;
            goto fail;
        }
    }
    if (meta_put(b, t) != SL_ERR_NONE) {
        snprintf(msg, msglen, "Cannot write the metadata store");
        rc = SL_ERR_KAFKA_STORAGE_ERROR;
        goto fail;
    }
    SL_INFO("topics", "created topic %s with %d partitions", t->name, partitions);
    if (out) {
        atomic_fetch_add(&t->refs, 1);
        *out = t;
    }
    install(r, t);
    t = NULL;
    goto out;
fail:
    for (int32_t p = 0; p < t->n_parts; p++) {
        if (t->logs[p])
            sl_log_mark_deleted(t->logs[p]);
    }
    topic_free(t);
out:
    pthread_mutex_unlock(&r->admin);
    return rc;
}

sl_err_t sl_registry_delete(struct sl_broker *b, sl_str_t name, char *msg, size_t msglen)
{
    struct sl_registry *r = REG(b);
    pthread_mutex_lock(&r->admin);
    sl_err_t rc = SL_ERR_NONE;
    char cname[256];
    snprintf(cname, sizeof(cname), "%.*s", name.len > 249 ? 249 : name.len, name.p);
    struct sl_topic *t = sl_registry_get(b, name);
    if (!t) {
        snprintf(msg, msglen, "This server does not host this topic-partition.");
        rc = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        goto out;
    }
    if (sl_meta_delete_topic(b->meta, cname) != SL_ERR_NONE) {
        snprintf(msg, msglen, "Cannot write the metadata store");
        rc = SL_ERR_KAFKA_STORAGE_ERROR;
        sl_topic_unref(t);
        goto out;
    }
    struct sl_topic *old = uninstall(r, name);
    for (int32_t p = 0; p < t->n_parts; p++)
        sl_log_mark_deleted(t->logs[p]);
    SL_INFO("topics", "deleted topic %s", t->name);
    sl_topic_unref(t);
    sl_topic_unref(old);
out:
    pthread_mutex_unlock(&r->admin);
    return rc;
}

sl_err_t sl_registry_add_partitions(struct sl_broker *b, sl_str_t name, int32_t total,
                                    bool validate_only, char *msg, size_t msglen)
{
    struct sl_registry *r = REG(b);
    pthread_mutex_lock(&r->admin);
    sl_err_t rc = SL_ERR_NONE;
    struct sl_topic *t = sl_registry_get(b, name), *nt = NULL;
    if (!t) {
        snprintf(msg, msglen, "This server does not host this topic-partition.");
        rc = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        goto out;
    }
    if (total <= t->n_parts) {
        if (total == t->n_parts)
            snprintf(msg, msglen, "Topic already has %d partitions.", t->n_parts);
        else
            snprintf(msg, msglen, "The topic %s currently has %d partition(s); %d would not be an increase.",
                     t->name, t->n_parts, total);
        rc = SL_ERR_INVALID_PARTITIONS;
        goto out;
    }
    if (total > MAX_PARTITIONS_PER_TOPIC) {
        snprintf(msg, msglen, "Number of partitions must be at most %d.", MAX_PARTITIONS_PER_TOPIC);
        rc = SL_ERR_INVALID_PARTITIONS;
        goto out;
    }
    if (validate_only)
        goto out;
    nt = topic_clone(t, total);
    char err[512];
    for (int32_t p = t->n_parts; p < total; p++) {
        if (open_partition(b, nt, p, true, err, sizeof(err)) < 0) {
            snprintf(msg, msglen, "Cannot create the partition directories: %s", err);
            rc = SL_ERR_KAFKA_STORAGE_ERROR;
            for (int32_t q = t->n_parts; q < total; q++) {
                if (nt->logs[q])
                    sl_log_mark_deleted(nt->logs[q]);
            }
            goto out;
        }
    }
    if (meta_put(b, nt) != SL_ERR_NONE) {
        snprintf(msg, msglen, "Cannot write the metadata store");
        rc = SL_ERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    SL_INFO("topics", "topic %s now has %d partitions", nt->name, total);
    install(r, nt);
    nt = NULL;
out:
    if (nt)
        topic_free(nt);
    sl_topic_unref(t);
    pthread_mutex_unlock(&r->admin);
    return rc;
}

sl_err_t sl_registry_set_configs(struct sl_broker *b, sl_str_t name, const struct sl_kv *configs,
                                 int n_configs, bool validate_only, char *msg, size_t msglen)
{
    struct sl_registry *r = REG(b);
    struct sl_topic_config tc;
    if (sl_topic_config_resolve(b->cfg, configs, n_configs, &tc, msg, msglen) != SL_ERR_NONE)
        return SL_ERR_INVALID_CONFIG;
    pthread_mutex_lock(&r->admin);
    sl_err_t rc = SL_ERR_NONE;
    struct sl_topic *t = sl_registry_get(b, name), *nt = NULL;
    if (!t) {
        snprintf(msg, msglen, "This server does not host this topic-partition.");
        rc = SL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        goto out;
    }
    if (validate_only)
        goto out;
    nt = topic_clone(t, t->n_parts);
    for (int i = 0; i < nt->n_configs; i++) {
        free(nt->configs[i].key);
        free(nt->configs[i].value);
    }
    free(nt->configs);
    nt->configs = kv_copy(configs, n_configs);
    nt->n_configs = n_configs > 0 ? n_configs : 0;
    nt->cfg = tc;
    if (meta_put(b, nt) != SL_ERR_NONE) {
        snprintf(msg, msglen, "Cannot write the metadata store");
        rc = SL_ERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    struct sl_log_config lc;
    log_cfg_from(&tc, &lc);
    for (int32_t p = 0; p < nt->n_parts; p++)
        sl_log_set_config(nt->logs[p], &lc);
    SL_INFO("topics", "configuration of topic %s changed", nt->name);
    install(r, nt);
    nt = NULL;
out:
    if (nt)
        topic_free(nt);
    sl_topic_unref(t);
    pthread_mutex_unlock(&r->admin);
    return rc;
}

/* ---- open / close ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Removes partition directories that belong to no known topic (a crash
 * between writing the metadata store and removing a deleted topic). */
static void remove_orphans(struct sl_broker *b)
{
    DIR *d = opendir(b->logs_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *dash = strrchr(de->d_name, '-');
        if (!dash || dash == de->d_name)
            continue;
        char *end;
        long p = strtol(dash + 1, &end, 10);
        if (*end || p < 0)
            continue;
        sl_str_t name = {de->d_name, (int32_t)(dash - de->d_name)};
        struct sl_topic *t = sl_registry_get(b, name);
        bool keep = t && p < t->n_parts;
        sl_topic_unref(t);
        if (keep)
            continue;
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", b->logs_dir, de->d_name);
        SL_WARN("topics", "removing orphan partition directory %s", path);
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    closedir(d);
}

int sl_registry_open(struct sl_broker *b, char *err, size_t errlen)
{
    struct sl_registry *r = sl_xcalloc(1, sizeof(*r));
    pthread_rwlock_init(&r->lock, NULL);
    pthread_mutex_init(&r->admin, NULL);
    b->reg = r;
    struct sl_meta_topic *mts = NULL;
    int n = 0;
    if (sl_meta_list_topics(b->meta, &mts, &n) != SL_ERR_NONE) {
        snprintf(err, errlen, "cannot read topics from the metadata store");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct sl_topic *t = sl_xcalloc(1, sizeof(*t));
        t->name = sl_xstrdup(mts[i].name);
        t->id = mts[i].id;
        t->n_parts = mts[i].partitions;
        t->logs = sl_xcalloc((size_t)(t->n_parts > 0 ? t->n_parts : 1), sizeof(*t->logs));
        t->configs = kv_copy(mts[i].configs, mts[i].n_configs);
        t->n_configs = mts[i].n_configs;
        atomic_init(&t->refs, 1);
        char msg[512];
        if (sl_topic_config_resolve(b->cfg, t->configs, t->n_configs, &t->cfg, msg, sizeof(msg)) !=
            SL_ERR_NONE) {
            snprintf(err, errlen, "topic %s: stored configuration is invalid: %s", t->name, msg);
            topic_free(t);
            rc = -1;
            break;
        }
        for (int32_t p = 0; p < t->n_parts; p++) {
            char e2[512];
            if (open_partition(b, t, p, b->clean_start, e2, sizeof(e2)) < 0) {
                snprintf(err, errlen, "topic %s partition %d: %s", t->name, p, e2);
                rc = -1;
                break;
            }
        }
        if (rc == 0)
            install(r, t);
        else
            topic_free(t);
    }
    sl_meta_topics_free(mts, n);
    if (rc == 0) {
        remove_orphans(b);
        SL_INFO("topics", "loaded %d topics", r->n);
    }
    return rc;
}

void sl_registry_close(struct sl_broker *b, bool clean)
{
    struct sl_registry *r = REG(b);
    if (!r)
        return;
    for (int i = 0; i < r->n; i++)
        sl_topic_unref(r->topics[i]);
    free(r->topics);
    pthread_rwlock_destroy(&r->lock);
    pthread_mutex_destroy(&r->admin);
    free(r);
    b->reg = NULL;
}
