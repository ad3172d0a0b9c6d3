/* SPDX-License-Identifier: Apache-2.0
 *
 * The metadata store: topics and their configuration overrides, the SCRAM
 * credentials of users, the broker's authentication secret and the ACLs,
 * behind one interface with two backends. The local
 * backend (meta_local.c, the single-node default) keeps everything in one
 * checksummed file in <data_dir>/meta, replaced atomically on every change;
 * a ZooKeeper backend for clusters comes later behind the same calls
 * (meta_int.h is the backend interface).
 *
 * Every call is thread-safe. Writes are durable before they return. Reads
 * return deep copies the caller owns, so no lock is held once a call
 * returns. Metadata changes are rare (admin operations), so a write
 * rewrites the whole store; reads never touch the disk and never wait for
 * a write's disk I/O (a write holds the lock readers take only while it
 * swaps in the new state), so sl_meta_get_scram is fit for the network
 * threads that authenticate clients.
 */
#ifndef SL_META_META_H
#define SL_META_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/topic_config.h" /* struct sl_kv */
#include "core/bytes.h"          /* sl_uuid_t */
#include "security/authn/sasl_mech.h" /* struct sl_scram_cred */
#include "security/authz/acl.h"       /* struct sl_acl */
#include "sluice/err.h"

/* Limits the store enforces on what it is given and what it reads. */
#define SL_META_TOPIC_NAME_MAX 249     /* Kafka's limit */
#define SL_META_KEY_MAX 255            /* bytes of a config key */
#define SL_META_VALUE_MAX (64 * 1024)  /* bytes of a config value */
#define SL_META_CONFIGS_MAX 1024       /* overrides per topic */
#define SL_META_USER_MAX SL_SASL_NAME_MAX /* bytes of a SCRAM user name */
#define SL_META_CREDS_MAX 100000       /* SCRAM credentials in the store */
#define SL_META_SECRET_LEN 32          /* bytes of the authentication secret */

/* One topic. As an argument it is borrowed; as a result it is owned by the
 * caller (free with sl_meta_topics_free). configs holds the topic's
 * explicit overrides (key → value as given), sorted by key, keys unique. */
struct sl_meta_topic {
    char *name;
    sl_uuid_t id;
    int32_t partitions;
    struct sl_kv *configs;
    int n_configs;
};

/* One user's SCRAM credential for one mechanism (cred.mech). As a result
 * it is owned by the caller (free arrays with sl_meta_user_creds_free). */
struct sl_meta_user_cred {
    char *user;
    struct sl_scram_cred cred;
};

struct sl_meta;

/* Opens the local store in <data_dir>/meta (data_dir borrowed), creating
 * both directories (mode 0700) and an empty store on first start, and takes
 * an exclusive lock on it (a second process on the same data directory is
 * refused). A leftover temporary file of an interrupted write is removed
 * (the store it was replacing is intact). A checksum mismatch, a parse
 * error or an unsupported format version is fatal: returns
 * SL_ERR__CORRUPT with a message naming the file and the problem; metadata
 * is never silently dropped. Other failures: SL_ERR__IO (errno text in err)
 * or SL_ERR__STATE (locked by another process). On success *out is a new
 * store (close with sl_meta_close). */
sl_err_t sl_meta_open_local(const char *data_dir, struct sl_meta **out, char *err, size_t errlen);

/* The same with encryption at rest: kr (borrowed, must outlive the store)
 * seals the file as one AES-256-GCM blob (crypto/sealed_format.h) on every
 * write, and a sealed file is opened with it. A plaintext file is refused
 * unless allow_plain (the first start with encryption on: it is read and at
 * once rewritten sealed). kr NULL: plaintext, and a sealed file is refused
 * with a clear message. */
struct sl_keyring;
sl_err_t sl_meta_open_local_sealed(const char *data_dir, const struct sl_keyring *kr,
                                   bool allow_plain, struct sl_meta **out, char *err,
                                   size_t errlen);

/* Encryption at rest, an online rewrap: from now on the store is sealed
 * with kr (borrowed, must outlive the store; the keyring it replaces must
 * too, a writer may still hold it), and it is rewritten at once under a
 * fresh data key wrapped by kr's newest key. SL_ERR_NONE, SL_ERR__STATE (a
 * store that is not sealed, or refuses writes), or the write's error. */
sl_err_t sl_meta_reseal(struct sl_meta *m, const struct sl_keyring *kr);

/* Returns a snapshot of all topics, sorted by name: *out is a new array of
 * *n deep copies (caller frees with sl_meta_topics_free; *out is NULL when
 * *n is 0). Returns SL_ERR_NONE. */
sl_err_t sl_meta_list_topics(struct sl_meta *m, struct sl_meta_topic **out, int *n);

/* Copies the topic called name into *out (caller frees the fields with
 * sl_meta_topic_clear). Returns SL_ERR_NONE or SL_ERR__NOENT. */
sl_err_t sl_meta_get_topic(struct sl_meta *m, const char *name, struct sl_meta_topic *out);

/* Frees an array returned by sl_meta_list_topics (NULL allowed). */
void sl_meta_topics_free(struct sl_meta_topic *t, int n);

/* Frees the fields of one topic and zeroes it. */
void sl_meta_topic_clear(struct sl_meta_topic *t);

/* Inserts t (borrowed, copied) or replaces the topic of the same name,
 * durably: the call returns after the new store is on stable storage.
 * Configs with a repeated key keep the last value. Returns:
 * SL_ERR_NONE; SL_ERR__INVAL for a topic the store refuses (name not a
 * legal Kafka topic name, zero id, partitions < 1, id already used by
 * another topic, config key empty or over SL_META_KEY_MAX bytes, NULL
 * value, value over SL_META_VALUE_MAX, more than SL_META_CONFIGS_MAX
 * configs); SL_ERR__IO when
 * the write failed before the store was replaced (nothing changed);
 * SL_ERR__STATE when the store is failed (see below). If syncing the
 * directory fails after the replace, the outcome on disk is unknown: the
 * call returns SL_ERR__IO, memory reflects the new state, and the store
 * fails every later write with SL_ERR__STATE until the broker restarts. */
sl_err_t sl_meta_put_topic(struct sl_meta *m, const struct sl_meta_topic *t);

/* Deletes the topic called name, durably. Returns SL_ERR_NONE,
 * SL_ERR__NOENT, or the write errors of sl_meta_put_topic. */
sl_err_t sl_meta_delete_topic(struct sl_meta *m, const char *name);

/* Inserts or replaces, durably, the credential of user for c->mech.
 * Borrows user and c (the store keeps a copy). The user name must be 1 to
 * SL_META_USER_MAX bytes of well-formed UTF-8 (no NUL); c must have a known
 * mechanism (SL_SCRAM_SHA256 or SL_SCRAM_SHA512), salt_len 1 to
 * SL_SCRAM_SALT_MAX and iterations SL_SCRAM_MIN_ITERATIONS to
 * SL_SCRAM_MAX_ITERATIONS. Only the first salt_len salt bytes and the first
 * hash-length bytes of each key (32 for SHA-256, 64 for SHA-512) are kept;
 * the rest reads back as zeros. Returns SL_ERR_NONE; SL_ERR__INVAL for a
 * refused user or credential (nothing about it is logged but the reason);
 * SL_ERR__LIMIT when the store already holds SL_META_CREDS_MAX credentials
 * and this one is new, or when the store would outgrow its file size limit;
 * otherwise the write errors of sl_meta_put_topic. A success (and the
 * outcome-unknown SL_ERR__IO) bumps sl_meta_scram_generation. */
sl_err_t sl_meta_put_scram(struct sl_meta *m, const char *user, const struct sl_scram_cred *c);

/* Deletes, durably, the credential of user (borrowed) for mech. Returns
 * SL_ERR_NONE (and bumps the generation), SL_ERR__INVAL for a user name
 * the store would refuse or an unknown mechanism, SL_ERR__NOENT when there
 * is no such credential, or the write errors of sl_meta_put_topic. */
sl_err_t sl_meta_delete_scram(struct sl_meta *m, const char *user, int mech);

/* Copies the credential of user (borrowed, NUL-terminated) for mech into
 * *out. The authentication lookup: any thread, one short lock and a binary
 * search over memory, no allocation, no disk I/O, no logging (user is
 * peer-chosen). Returns SL_ERR_NONE, or SL_ERR__NOENT when there is no such
 * credential (including any user name or mechanism the store would refuse);
 * *out is untouched then. */
sl_err_t sl_meta_get_scram(struct sl_meta *m, const char *user, int mech,
                           struct sl_scram_cred *out);

/* Returns a snapshot of every credential, sorted by user (bytewise) then
 * mechanism: *out is a new array of *n deep copies (caller frees with
 * sl_meta_user_creds_free; NULL when *n is 0). Returns SL_ERR_NONE. */
sl_err_t sl_meta_list_scram(struct sl_meta *m, struct sl_meta_user_cred **out, int *n);

/* Wipes and frees an array returned by sl_meta_list_scram (NULL allowed). */
void sl_meta_user_creds_free(struct sl_meta_user_cred *c, int n);

/* Copies the broker's authentication secret into out: SL_META_SECRET_LEN
 * random bytes (OpenSSL RAND_bytes) made when the store was created or,
 * for a store of an older format that has none, when it was opened; kept
 * in the store and the same on every later open. It seeds the made-up
 * salts of unknown users (struct sl_sasl_conf fake_secret). A secret is
 * only handed out once it is on disk: the first call on a store opened
 * from an older format writes the store (the format upgrade) before it
 * returns; every other call is a copy from memory. Any thread. Returns
 * SL_ERR_NONE, or that write's errors (SL_ERR__IO, SL_ERR__STATE); out is
 * untouched on error. */
sl_err_t sl_meta_auth_secret(struct sl_meta *m, uint8_t out[SL_META_SECRET_LEN]);

/* Returns a counter that changes whenever a credential is put or deleted
 * (at the moment the change becomes visible to sl_meta_get_scram), for
 * caches of credentials. It starts at 1 on open, so a cache may use 0 for
 * "nothing cached". Any thread, lock-free. */
uint64_t sl_meta_scram_generation(struct sl_meta *m);

/* ------------------------------------------------------------------------
 * ACLs (issue 6). The store keeps the bindings and a compiled struct
 * sl_acl_set of them (security/authz/acl.h), rebuilt on every change.
 * ------------------------------------------------------------------------ */

/* Stores the n bindings (borrowed, copied) durably in one atomic write;
 * bindings already stored, or repeated in the batch, are stored once (not
 * an error). Each must pass sl_acl_validate. Returns SL_ERR_NONE;
 * SL_ERR__INVAL (nothing stored) when one does not; SL_ERR__LIMIT (nothing
 * stored) when the store would hold more than SL_ACL_MAX_BINDINGS or
 * outgrow its file size limit; otherwise the write errors of
 * sl_meta_put_topic. A success that stored anything new bumps
 * sl_meta_acl_generation (a batch of bindings all already stored writes
 * nothing and bumps nothing). Any thread; serialised with other writes. */
sl_err_t sl_meta_create_acls(struct sl_meta *m, const struct sl_acl *acls, int n);

/* Deletes durably, in one atomic write, every binding matching any of the
 * nf filters (each valid per sl_acl_filter_validate). For filter i,
 * deleted[i] (an array of nf struct sl_meta_acl_list the caller provides)
 * receives copies of the bindings it matched (a binding matched by several
 * filters is listed under each, as Kafka does). Returns SL_ERR_NONE (the
 * generation is bumped when anything was deleted), SL_ERR__INVAL for an
 * invalid filter (nothing deleted), or the write errors of
 * sl_meta_put_topic (nothing reported deleted). Free each list with
 * sl_meta_acl_list_clear. */
struct sl_meta_acl_list {
    struct sl_acl *acls;
    int n;
};
sl_err_t sl_meta_delete_acls(struct sl_meta *m, const struct sl_acl_filter *f, int nf,
                             struct sl_meta_acl_list *deleted);

/* Copies the bindings matching f (NULL: all) into *out, in the set's order.
 * Returns SL_ERR_NONE or SL_ERR__INVAL for an invalid filter. */
sl_err_t sl_meta_list_acls(struct sl_meta *m, const struct sl_acl_filter *f,
                           struct sl_meta_acl_list *out);

/* Frees the bindings of a list and zeroes it. */
void sl_meta_acl_list_clear(struct sl_meta_acl_list *l);

/* The current compiled set with a reference the caller drops with
 * sl_acl_set_unref. Never NULL (an empty store gives an empty set). Any
 * thread; one short lock, no allocation. */
struct sl_acl_set *sl_meta_acl_set(struct sl_meta *m);

/* A counter that changes whenever the ACLs change (at the moment
 * sl_meta_acl_set starts returning the new set), for per-connection
 * decision caches. Starts at 1 on open. Any thread, lock-free. */
uint64_t sl_meta_acl_generation(struct sl_meta *m);

/* Closes the store and releases its lock (NULL allowed). No call may be in
 * progress or follow. */
void sl_meta_close(struct sl_meta *m);

/* True when name is a legal Kafka topic name: 1..249 characters from
 * [A-Za-z0-9._-], and neither "." nor "..". */
bool sl_meta_topic_name_valid(const char *name);

#endif
