/* SPDX-License-Identifier: Apache-2.0
 *
 * The metadata backend interface (private to src/meta/). A backend embeds
 * struct sl_meta as its first member and provides the operations below;
 * meta.c dispatches the public calls through them, after the checks every
 * backend shares (sl_meta__check_topic, sl_meta__check_user,
 * sl_meta__check_cred, sl_acl_validate, sl_acl_filter_validate). Backends
 * do their own locking.
 */
#ifndef SL_META_META_INT_H
#define SL_META_META_INT_H

#include "meta/meta.h"

struct sl_keyring;

struct sl_meta_ops {
    const char *name; /* "local", later "zookeeper" */
    sl_err_t (*list_topics)(struct sl_meta *m, struct sl_meta_topic **out, int *n);
    sl_err_t (*get_topic)(struct sl_meta *m, const char *name, struct sl_meta_topic *out);
    /* t has been checked and normalised (configs sorted, keys unique). */
    sl_err_t (*put_topic)(struct sl_meta *m, const struct sl_meta_topic *t);
    sl_err_t (*delete_topic)(struct sl_meta *m, const char *name);
    /* c has been checked and normalised (sl_meta__check_cred). */
    sl_err_t (*put_scram)(struct sl_meta *m, const char *user, const struct sl_scram_cred *c);
    /* user and mech have been checked. */
    sl_err_t (*delete_scram)(struct sl_meta *m, const char *user, int mech);
    sl_err_t (*get_scram)(struct sl_meta *m, const char *user, int mech,
                          struct sl_scram_cred *out);
    sl_err_t (*list_scram)(struct sl_meta *m, struct sl_meta_user_cred **out, int *n);
    sl_err_t (*auth_secret)(struct sl_meta *m, uint8_t out[SL_META_SECRET_LEN]);
    uint64_t (*scram_generation)(struct sl_meta *m);
    /* acls[0..n) have passed sl_acl_validate. */
    sl_err_t (*create_acls)(struct sl_meta *m, const struct sl_acl *acls, int n);
    /* f[0..nf) have passed sl_acl_filter_validate; deleted[] is zeroed. */
    sl_err_t (*delete_acls)(struct sl_meta *m, const struct sl_acl_filter *f, int nf,
                            struct sl_meta_acl_list *deleted);
    struct sl_acl_set *(*acl_set)(struct sl_meta *m);
    uint64_t (*acl_generation)(struct sl_meta *m);
    /* Optional (NULL: not supported). */
    sl_err_t (*reseal)(struct sl_meta *m, const struct sl_keyring *kr);
    void (*close)(struct sl_meta *m);
};

struct sl_meta {
    const struct sl_meta_ops *ops;
};

/* Deep-copies src into *dst (new memory; free with sl_meta_topic_clear). */
void sl_meta__topic_copy(struct sl_meta_topic *dst, const struct sl_meta_topic *src);

/* Checks t for the store's invariants and returns a normalised deep copy in
 * *out (configs sorted by key, a repeated key keeping its last value).
 * Returns NULL, or a static reason (and *out untouched). */
const char *sl_meta__check_topic(const struct sl_meta_topic *t, struct sl_meta_topic *out);

/* qsort comparators by name / by key. */
int sl_meta__cmp_topic(const void *a, const void *b);
int sl_meta__cmp_kv(const void *a, const void *b);

/* Returns the key length of a SCRAM mechanism (32 for SHA-256, 64 for
 * SHA-512), or 0 for any other value. */
size_t sl_meta__scram_key_len(int mech);

/* Returns NULL when user (borrowed; NULL allowed) is a name the store
 * accepts (1..SL_META_USER_MAX bytes of well-formed UTF-8), else a static
 * reason. Never logs the name. */
const char *sl_meta__check_user(const char *user);

/* Checks c (borrowed) for the store's invariants (known mechanism, salt
 * length, iterations) and writes to *out a copy with every byte past the
 * salt and the mechanism's key length zeroed. Returns NULL, or a static
 * reason (and *out untouched). */
const char *sl_meta__check_cred(const struct sl_scram_cred *c, struct sl_scram_cred *out);

/* Orders credentials by user (strcmp) then mechanism; for qsort and for
 * the sorted arrays of the backends. */
int sl_meta__cmp_user_cred(const void *a, const void *b);

/* Compares (user, mech) with the key of cred c: <0, 0, >0. */
int sl_meta__cmp_cred_key(const char *user, int mech, const struct sl_meta_user_cred *c);

/* Deep-copies src into *dst (new memory; dst->user is freed by
 * sl_meta_user_creds_free or by the owner). */
void sl_meta__user_cred_copy(struct sl_meta_user_cred *dst, const struct sl_meta_user_cred *src);

/* Wipes and frees the fields of one credential and zeroes it. */
void sl_meta__user_cred_clear(struct sl_meta_user_cred *c);

#endif
