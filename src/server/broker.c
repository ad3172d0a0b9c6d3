/* SPDX-License-Identifier: Apache-2.0
 *
 * Broker start-up and shutdown (see broker.h). Start order: data directory
 * (locked against a second broker), identity (meta.properties), the clean
 * shutdown marker (read, then removed so a crash leaves none), the metadata
 * store, the topic registry (which opens and recovers every partition), the
 * flusher, the listeners (a port in use stops start-up), the network
 * threads, the background thread. Shutdown runs it backwards and writes the
 * marker last, only if every log closed cleanly.
 */
#include "server/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/logging.h"
#include "core/mem.h"
#include "group/coordinator.h"
#include "meta/meta.h"
#include "net/xprt.h"
#include "protocol/request.h"
#include "server/key_rewrap.h"
#include "server/producer_ids.h"
#include "server/registry.h"
#include "server/encryption.h"
#include "server/first_start.h"
#include "config/insecure.h"
#include "storage/fileops.h"
#include "storage/flusher.h"
#include "storage/integrity.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "security/audit/audit.h"
#include "security/audit/audit_topic.h"
#include "security/authz/authorize.h"
#include "security/authn/sasl_session.h"
#include "tls/tls_server.h"

#define CLEAN_MARKER ".sluice-clean-shutdown"
#define SCRATCH_SIZE (256 * 1024)

static int lock_fd = -1;

static int mkdir_p(const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create directory %s: %s", tmp, strerror(errno));
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create directory %s: %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Reads or creates <data_dir>/meta.properties (cluster.id, node.id). */
static int load_identity(struct sl_broker *b, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/meta.properties", b->cfg->data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "cluster.id=", 11) == 0) {
                snprintf(b->cluster_id, sizeof(b->cluster_id), "%.31s", line + 11);
                b->cluster_id[strcspn(b->cluster_id, "\r\n")] = '\0';
            }
        }
        fclose(f);
        if (!b->cluster_id[0]) {
            snprintf(err, errlen, "%s: no cluster.id", path);
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char raw[16];
    RAND_bytes(raw, sizeof(raw));
    unsigned char b64[32];
    EVP_EncodeBlock(b64, raw, sizeof(raw));
    /* base64url without padding, as Kafka's Uuid.toString() */
    int j = 0;
    for (int i = 0; b64[i] && b64[i] != '='; i++)
        b->cluster_id[j++] = b64[i] == '+' ? '-' : (b64[i] == '/' ? '_' : (char)b64[i]);
    b->cluster_id[j] = '\0';
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# Written by sluiced at first start. Do not edit.\nversion=1\ncluster.id=%s\nnode.id=%d\n",
            b->cluster_id, b->cfg->node_id);
    fflush(f);
    fsync(fileno(f));
    fclose(f);
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fsync_dir(b->cfg->data_dir);
    return 0;
}

/* ---- background thread: retention and periodic flush ---- */

static void retention_one(struct sl_log *log, void *arg)
{
    sl_log_retention(log, *(int64_t *)arg);
}

static void flush_one(struct sl_log *log, void *arg)
{
    if (sl_log_flushed_offset(log) < sl_log_end_offset(log))
        sl_log_flush(log);
    /* A producer state snapshot after each segment roll bounds the scan
     * the next start needs. */
    sl_pstate_snapshot(log, false);
}

static void *bg_main(void *arg)
{
    struct sl_broker *b = arg;
    pthread_setname_np(pthread_self(), "sl-background");
    int64_t next_retention = sl_mono_ms() + b->cfg->log_retention_check_interval_ms;
    int64_t next_flush = sl_mono_ms() + b->cfg->log_flush_interval_ms;
    int64_t tls_every = b->cfg->ssl_reload_check_interval_ms;
    int64_t next_tls = tls_every > 0 ? sl_mono_ms() + tls_every : INT64_MAX;
    pthread_mutex_lock(&b->bg_mu);
    while (!b->bg_stop) {
        int64_t now = sl_mono_ms();
        int64_t next = next_retention < next_flush ? next_retention : next_flush;
        if (next_tls < next)
            next = next_tls;
        if (now < next) {
            struct timespec ts = sl_abstime_in_ms(next - now);
            pthread_cond_timedwait(&b->bg_cv, &b->bg_mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&b->bg_mu);
        if (now >= next_retention) {
            int64_t wall = sl_now_ms();
            sl_registry_each_log(b, retention_one, &wall);
            next_retention = now + b->cfg->log_retention_check_interval_ms;
        }
        if (now >= next_flush) {
            sl_registry_each_log(b, flush_one, NULL);
            next_flush = now + b->cfg->log_flush_interval_ms;
        }
        if (now >= next_tls) {
            sl_broker_reload_tls(b, false);
            next_tls = now + tls_every;
        }
        pthread_mutex_lock(&b->bg_mu);
    }
    pthread_mutex_unlock(&b->bg_mu);
    sl_audit_thread_exit();
    return NULL;
}

void sl_broker_reload_tls(struct sl_broker *b, bool force)
{
    /* One reload at a time: the background thread and SIGHUP may race. */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < b->n_listeners; i++)
        if (b->listeners[i].tls)
            sl_tls_server_reload(b->listeners[i].tls, force);
    pthread_mutex_unlock(&mu);
}

/* ---- start / stop ---- */

/* The audit log starts before anything a client can reach. */
static int start_audit(struct sl_broker *b, char *err, size_t errlen)
{
    const struct sl_config *cfg = b->cfg;
    char source[128];
    snprintf(source, sizeof source, "/sluice/%s/broker/%d", b->cluster_id, cfg->node_id);
    struct sl_audit_conf ac = {
        .enable = cfg->audit_enable,
        .dir = cfg->audit_dir,
        .key_file = cfg->audit_key_file,
        .rotate_bytes = cfg->audit_rotate_bytes,
        .rotate_ms = cfg->audit_rotate_ms,
        .retention_ms = cfg->audit_retention_ms,
        .retention_bytes = cfg->audit_retention_bytes,
        .policy = strcmp(cfg->audit_failure_policy, "log") == 0 ? SL_AUDIT_POLICY_LOG
                                                                : SL_AUDIT_POLICY_REJECT,
        .authz_level = strcmp(cfg->audit_authz_level, "none") == 0  ? SL_AUDIT_AUTHZ_NONE
                       : strcmp(cfg->audit_authz_level, "all") == 0 ? SL_AUDIT_AUTHZ_ALL
                                                                    : SL_AUDIT_AUTHZ_FIRST,
        .source = source,
    };
    if (sl_audit_start(&ac, err, errlen) != 0)
        return -1;
    sl_authz_set_hook(sl_audit_authz_hook);
    sl_integrity_set_hook(sl_audit_storage_integrity);
    return 0;
}

/* Every start with a weakened set-up says so (insecure.h); the audit log
 * records the same list in its broker.start record. */
static void warn_weakness(void *arg, const struct sl_weakness *w)
{
    const struct sl_config *cfg = arg;
    if (w->refusable)
        SL_WARN("broker", "INSECURE, allowed by sluice.allow.insecure=%s: %s=%s: %s",
                cfg->allow_insecure ? "true" : "false", w->key, w->value, w->why);
    else
        SL_WARN("broker", "%s", w->why);
}

int sl_broker_start(struct sl_broker *b, struct sl_config *cfg, char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    b->cfg = cfg;
    b->fops = &sl_fileops_posix;
    atomic_init(&b->next_conn_id, 1);
    atomic_init(&b->n_conns, 0);
    pthread_mutex_init(&b->bg_mu, NULL);
    pthread_cond_init(&b->bg_cv, NULL);
    if (mkdir_p(cfg->data_dir, err, errlen) < 0)
        return -1;
    char path[4200];
    snprintf(path, sizeof(path), "%s/.lock", cfg->data_dir);
    lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "data directory %s is in use by another broker (%s: %s)",
                 cfg->data_dir, path, strerror(errno));
        return -1;
    }
    if (load_identity(b, err, errlen) < 0)
        return -1;
    if (sl_first_start_tls(b, err, errlen) < 0)
        return -1;
    if (sl_broker_encryption_start(b, err, errlen) < 0)
        return -1;
    if (cfg->log_dirs && cfg->log_dirs[0])
        snprintf(b->logs_dir, sizeof(b->logs_dir), "%s", cfg->log_dirs);
    else
        snprintf(b->logs_dir, sizeof(b->logs_dir), "%s/logs", cfg->data_dir);
    if (mkdir_p(b->logs_dir, err, errlen) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s", b->logs_dir, CLEAN_MARKER);
    b->clean_start = access(path, F_OK) == 0;
    if (b->clean_start) {
        unlink(path);
        fsync_dir(b->logs_dir);
    }
    SL_INFO("broker", "cluster %s, node %d, data in %s, logs in %s (%s start)", b->cluster_id,
            cfg->node_id, cfg->data_dir, b->logs_dir,
            b->clean_start ? "clean" : "recovering after an unclean shutdown or first");
    if (start_audit(b, err, errlen) < 0)
        return -1;
    if (sl_meta_open_local_sealed(cfg->data_dir, b->keyring, b->enc_first_start, &b->meta, err,
                                  errlen) != SL_ERR_NONE)
        return -1;
    if (sl_first_start_admin(b, err, errlen) < 0)
        return -1;
    if (sl_registry_open(b, err, errlen) < 0)
        return -1;
    if (sl_audit_topic_start(b, err, errlen) < 0)
        return -1;
    if (sl_pid_alloc_open(cfg->data_dir, &b->pids, err, errlen) != SL_ERR_NONE)
        return -1;
    if (sl_flusher_start(&b->flusher) != SL_ERR_NONE) {
        snprintf(err, errlen, "cannot start the flusher thread");
        return -1;
    }
    if (sl_group_coord_start(b, err, errlen) < 0)
        return -1;
    bool tls_reported = false;
    for (int i = 0; i < cfg->n_listeners; i++) {
        struct sl_listener *l = &b->listeners[i];
        snprintf(l->name, sizeof(l->name), "%s", cfg->listeners[i].name);
        snprintf(l->protocol, sizeof(l->protocol), "%s", cfg->listeners[i].protocol);
        snprintf(l->host, sizeof(l->host), "%s", cfg->listeners[i].host);
        l->port = cfg->listeners[i].port;
        l->fd = -1;
        l->xprt = &sl_xprt_plain;
        if (strncmp(l->protocol, "SASL_", 5) == 0) {
            l->sasl = sl_xcalloc(1, sizeof *l->sasl);
            if (sl_sasl_listener_init(l->sasl, cfg, l->name, err, errlen) < 0)
                return -1;
        }
        if (strcmp(l->protocol, "SSL") == 0 || strcmp(l->protocol, "SASL_SSL") == 0) {
            l->tls = sl_tls_server_new(cfg, l->name, err, errlen);
            if (!l->tls)
                return -1;
            l->xprt = &sl_xprt_tls;
            if (!tls_reported) {
                char why[128];
                bool ktls = sl_tls_ktls_available(why, sizeof why);
                SL_INFO("tls", "kernel TLS %s: %s; fetches over TLS %s", ktls ? "available" : "not available",
                        why, ktls ? "use SSL_sendfile when the cipher allows" : "are read and encrypted in user space");
                tls_reported = true;
            }
        }
        if (sl_listener_open(l, err, errlen) < 0)
            return -1;
        b->n_listeners++;
        SL_INFO("broker", "listening on %s://%s:%d (%s)", l->name, l->host[0] ? l->host : "*",
                l->port, l->protocol);
    }
    sl_config_weaknesses(cfg, warn_weakness, (void *)cfg);
    int n = cfg->num_network_threads > 0 ? cfg->num_network_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    sl_sasl_workers_start(b, n);
    b->loops = sl_xcalloc((size_t)n, sizeof(*b->loops));
    b->scratch = sl_xcalloc((size_t)n, sizeof(*b->scratch));
    for (int i = 0; i < n; i++) {
        b->scratch[i] = sl_xmalloc(SCRATCH_SIZE);
        b->loops[i] = sl_netloop_new(b, i, err, errlen);
        if (!b->loops[i])
            return -1;
        b->n_loops++;
    }
    for (int i = 0; i < n; i++) {
        if (sl_netloop_start(b->loops[i]) != 0) {
            snprintf(err, errlen, "cannot start network thread %d", i);
            return -1;
        }
    }
    if (pthread_create(&b->bg_thread, NULL, bg_main, b) != 0) {
        snprintf(err, errlen, "cannot start the background thread");
        return -1;
    }
    sl_audit_broker_start(b);
    SL_INFO("broker", "started with %d network threads", n);
    sl_first_start_announce(b);
    return 0;
}

void sl_broker_stop(struct sl_broker *b)
{
    SL_INFO("broker", "shutting down");
    sl_audit_broker_stop(b);
    pthread_mutex_lock(&b->bg_mu);
    b->bg_stop = true;
    pthread_cond_signal(&b->bg_cv);
    pthread_mutex_unlock(&b->bg_mu);
    if (b->bg_thread)
        pthread_join(b->bg_thread, NULL);
    sl_key_rewrap_stop(b); /* before the audit log and the stores close */
    for (int i = 0; i < b->n_loops; i++)
        sl_netloop_stop(b->loops[i]);
    sl_sasl_workers_stop(b); /* after the network threads closed their connections */
    sl_group_coord_stop(b); /* after the network threads, before the flusher */
    for (int i = 0; i < b->n_listeners; i++) {
        sl_listener_close(&b->listeners[i]);
        sl_tls_server_free(b->listeners[i].tls);
        b->listeners[i].tls = NULL;
        sl_free(&b->listeners[i].sasl);
    }
    if (b->flusher)
        sl_flusher_stop(b->flusher);
    /* Seals the audit log; held responses complete through the loops. */
    sl_integrity_set_hook(NULL);
    sl_audit_stop();
    sl_audit_topic_stop(); /* after the seal was copied, before the registry closes */
    /* Completions the flusher posted after the loops stopped. */
    for (int i = 0; i < b->n_loops; i++)
        sl_evloop_drain(b->loops[i]->el);
    sl_req_pool_drain();
    sl_audit_thread_exit();
    for (int i = 0; i < b->n_loops; i++) {
        sl_netloop_destroy(b->loops[i]);
        free(b->scratch[i]);
    }
    free(b->loops);
    free(b->scratch);
    bool clean = true;
    if (b->reg) {
        struct sl_topic **ts;
        int n = sl_registry_list(b, &ts);
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < ts[i]->n_parts; p++) {
                if (sl_log_flush(ts[i]->logs[p]) != SL_ERR_NONE)
                    clean = false;
            }
        }
        sl_registry_list_free(ts, n);
        sl_registry_close(b, clean);
    }
    if (b->meta)
        sl_meta_close(b->meta);
    sl_pid_alloc_close(b->pids);
    if (clean) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", b->logs_dir, CLEAN_MARKER);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
            fsync_dir(b->logs_dir);
        }
    }
    sl_broker_encryption_stop(b);
    if (lock_fd >= 0)
        close(lock_fd);
    lock_fd = -1;
    pthread_mutex_destroy(&b->bg_mu);
    pthread_cond_destroy(&b->bg_cv);
    SL_INFO("broker", "stopped%s", clean ? " cleanly" : " (a log could not be flushed)");
}
