/* SPDX-License-Identifier: Apache-2.0
 *
 * The broker: configuration, the topic registry, the metadata store, the
 * group-commit flusher, listeners and network threads, and the background
 * thread (retention, periodic flush). One per process.
 */
#ifndef SL_SERVER_BROKER_H
#define SL_SERVER_BROKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "net/netloop.h"

struct sl_meta;
struct sl_flusher;
struct sl_fileops;
struct sl_fileops_aead;
struct sl_keyring;
struct sl_key_rewrap;
struct sl_registry;
struct sl_group_coord;
struct sl_pid_alloc;

struct sl_broker {
    struct sl_config *cfg;
    const struct sl_fileops *fops;  /* POSIX, or the sealing layer over it (encryption.c) */
    struct sl_keyring *keyring;     /* encryption at rest on: the KEKs */
    struct sl_fileops_aead *aead;   /* encryption at rest on: the layer behind fops */
    struct sl_key_rewrap *rewrap;   /* encryption at rest on: online rewrap (key_rewrap.h) */
    bool enc_first_start;           /* encryption turned on for this data directory just now */
    struct sl_meta *meta;
    struct sl_flusher *flusher;
    struct sl_registry *reg;
    struct sl_group_coord *group; /* consumer groups and offsets (src/group) */
    struct sl_pid_alloc *pids;
    struct sl_workq *auth_q; /* SASL steps too slow for a network thread (PLAIN's PBKDF2) */
    int auth_delay_ms;       /* test hook SLUICE_TEST_AUTH_DELAY_MS: each such step pauses */
    char logs_dir[4096];
    char cluster_id[32];
    struct sl_listener listeners[SL_MAX_LISTENERS];
    int n_listeners;
    struct sl_netloop **loops;
    int n_loops;
    uint8_t **scratch; /* per loop: bounce buffer for file extents on non-sendfile transports */
    atomic_uint_fast64_t next_conn_id;
    atomic_int n_conns;
    pthread_t bg_thread;
    pthread_mutex_t bg_mu;
    pthread_cond_t bg_cv;
    bool bg_stop;
    bool clean_start; /* the previous run shut down cleanly */
    bool fs_admin;    /* first_start.c: this start created the admin user */
    int fs_advertised; /* first_start.c: the advertised listener its client files name */
};

/* Starts everything from cfg (borrowed; must outlive the broker). Returns 0,
 * or -1 with err describing what failed (port in use, unreadable data
 * directory, corrupt metadata). */
int sl_broker_start(struct sl_broker *b, struct sl_config *cfg, char *err, size_t errlen);

/* Checks the TLS material of every SSL listener and reloads what changed
 * (everything when force). Background or signal thread. */
void sl_broker_reload_tls(struct sl_broker *b, bool force);

/* Stops accepting, closes connections, flushes every log, writes the clean
 * shutdown marker. */
void sl_broker_stop(struct sl_broker *b);

#endif
