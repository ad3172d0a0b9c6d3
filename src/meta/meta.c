/* SPDX-License-Identifier: Apache-2.0
 *
 * The backend-neutral half of the metadata store: the public calls of
 * meta.h dispatched through the backend's operations, the checks every
 * backend applies before a write (topics; SCRAM user names and
 * credentials), and copy/free helpers. Backend
 * specifics (files, locks, formats) live in meta_local.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h> /* OPENSSL_cleanse */

#include "core/logging.h"
#include "core/mem.h"
#include "meta/meta.h"
#include "meta/meta_int.h"

bool sl_meta_topic_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SL_META_TOPIC_NAME_MAX)
        return false;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int sl_meta__cmp_topic(const void *a, const void *b)
{
    return strcmp(((const struct sl_meta_topic *)a)->name, ((const struct sl_meta_topic *)b)->name);
}

int sl_meta__cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct sl_kv *)a)->key, ((const struct sl_kv *)b)->key);
}

void sl_meta__topic_copy(struct sl_meta_topic *dst, const struct sl_meta_topic *src)
{
    dst->name = sl_xstrdup(src->name);
    dst->id = src->id;
    dst->partitions = src->partitions;
    dst->n_configs = src->n_configs;
    dst->configs = NULL;
    if (src->n_configs > 0) {
        dst->configs = sl_xcalloc((size_t)src->n_configs, sizeof *dst->configs);
        for (int i = 0; i < src->n_configs; i++) {
            dst->configs[i].key = sl_xstrdup(src->configs[i].key);
            dst->configs[i].value = sl_xstrdup(src->configs[i].value);
        }
    }
}

void sl_meta_topic_clear(struct sl_meta_topic *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n_configs; i++) {
        free(t->configs[i].key);
        free(t->configs[i].value);
    }
    free(t->configs);
    free(t->name);
    memset(t, 0, sizeof *t);
}

void sl_meta_topics_free(struct sl_meta_topic *t, int n)
{
    if (!t)
        return;
    for (int i = 0; i < n; i++)
        sl_meta_topic_clear(&t[i]);
    free(t);
}

const char *sl_meta__check_topic(const struct sl_meta_topic *t, struct sl_meta_topic *out)
{
    if (!t->name || !sl_meta_topic_name_valid(t->name))
        return "not a legal topic name";
    if (sl_uuid_is_zero(&t->id))
        return "zero topic id";
    if (t->partitions < 1)
        return "partitions < 1";
    if (t->n_configs < 0 || t->n_configs > SL_META_CONFIGS_MAX || (t->n_configs && !t->configs))
        return "bad config count";
    for (int i = 0; i < t->n_configs; i++) {
        const struct sl_kv *kv = &t->configs[i];
        if (!kv->key || !kv->key[0] || strlen(kv->key) > SL_META_KEY_MAX)
            return "bad config key";
        if (!kv->value || strlen(kv->value) > SL_META_VALUE_MAX)
            return "bad config value";
    }
    sl_meta__topic_copy(out, t);
    /* Keep the last value of a repeated key: a stable sort would do, but
     * qsort is not stable, so drop earlier duplicates first. */
    int n = 0;
    for (int i = 0; i < out->n_configs; i++) {
        bool later = false;
        for (int j = i + 1; j < out->n_configs; j++)
            if (strcmp(out->configs[i].key, out->configs[j].key) == 0)
                later = true;
        if (later) {
            free(out->configs[i].key);
            free(out->configs[i].value);
        } else {
            out->configs[n++] = out->configs[i];
        }
    }
    out->n_configs = n;
    if (n > 1)
        qsort(out->configs, (size_t)n, sizeof *out->configs, sl_meta__cmp_kv);
    return NULL;
}

sl_err_t sl_meta_list_topics(struct sl_meta *m, struct sl_meta_topic **out, int *n)
{
    return m->ops->list_topics(m, out, n);
}

sl_err_t sl_meta_get_topic(struct sl_meta *m, const char *name, struct sl_meta_topic *out)
{
    return m->ops->get_topic(m, name, out);
}

sl_err_t sl_meta_put_topic(struct sl_meta *m, const struct sl_meta_topic *t)
{
    struct sl_meta_topic norm;
    const char *why = sl_meta__check_topic(t, &norm);
    if (why) {
        /* Name the topic only when it is a legal name (safe to log). */
        bool named = t->name && sl_meta_topic_name_valid(t->name);
        SL_WARN("meta", "refusing to store topic %s: %s", named ? t->name : "(bad name)", why);
        return SL_ERR__INVAL;
    }
    sl_err_t rc = m->ops->put_topic(m, &norm);
    sl_meta_topic_clear(&norm);
    return rc;
}

sl_err_t sl_meta_delete_topic(struct sl_meta *m, const char *name)
{
    return m->ops->delete_topic(m, name);
}

sl_err_t sl_meta_reseal(struct sl_meta *m, const struct sl_keyring *kr)
{
    return m->ops->reseal ? m->ops->reseal(m, kr) : SL_ERR__STATE;
}

void sl_meta_close(struct sl_meta *m)
{
    if (m)
        m->ops->close(m);
}

/* ------------------------------------------------------------------ */
/* SCRAM credentials                                                   */
/* ------------------------------------------------------------------ */

/* The keys of SHA-512 credentials fill struct sl_scram_cred's arrays. */
_Static_assert(SL_SCRAM_KEY_MAX >= 64, "SCRAM-SHA-512 keys are 64 bytes");

#define STR_(x) #x
#define STR(x) STR_(x) /* the value of a numeric macro as a string literal */

size_t sl_meta__scram_key_len(int mech)
{
    return mech == SL_SCRAM_SHA256 ? 32 : mech == SL_SCRAM_SHA512 ? 64 : 0;
}

/* True when s[0..n) is well-formed UTF-8 (Unicode Table 3-7: no overlong
 * forms, no surrogates, nothing above U+10FFFF) without NUL. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint8_t lo = 0x80, hi = 0xbf; /* bounds of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0; /* overlong below U+0800 */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates U+D800..DFFF */
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90; /* overlong below U+10000 */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return false; /* stray continuation, C0/C1, F5..FF */
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += len;
    }
    return true;
}

const char *sl_meta__check_user(const char *user)
{
    if (!user || !user[0])
        return "empty user name";
    size_t n = strnlen(user, SL_META_USER_MAX + 1);
    if (n > SL_META_USER_MAX)
        return "user name over " STR(SL_META_USER_MAX) " bytes";
    if (!utf8_valid((const uint8_t *)user, n))
        return "user name is not well-formed UTF-8";
    return NULL;
}

const char *sl_meta__check_cred(const struct sl_scram_cred *c, struct sl_scram_cred *out)
{
    size_t kl = sl_meta__scram_key_len(c->mech);
    if (kl == 0)
        return "unknown SCRAM mechanism";
    if (c->salt_len < 1 || c->salt_len > SL_SCRAM_SALT_MAX)
        return "salt length not 1.." STR(SL_SCRAM_SALT_MAX);
    if (c->iterations < SL_SCRAM_MIN_ITERATIONS || c->iterations > SL_SCRAM_MAX_ITERATIONS)
        return "iterations not " STR(SL_SCRAM_MIN_ITERATIONS) ".." STR(SL_SCRAM_MAX_ITERATIONS);
    /* Copy field by field so that padding and unused tails are zero and two
     * equal credentials compare equal with memcmp. */
    struct sl_scram_cred n;
    memset(&n, 0, sizeof n);
    n.mech = c->mech;
    n.salt_len = c->salt_len;
    memcpy(n.salt, c->salt, c->salt_len);
    memcpy(n.stored_key, c->stored_key, kl);
    memcpy(n.server_key, c->server_key, kl);
    n.iterations = c->iterations;
    memcpy(out, &n, sizeof n); /* padding included */
    OPENSSL_cleanse(&n, sizeof n);
    return NULL;
}

int sl_meta__cmp_cred_key(const char *user, int mech, const struct sl_meta_user_cred *c)
{
    int r = strcmp(user, c->user);
    if (r != 0)
        return r;
    return (mech > c->cred.mech) - (mech < c->cred.mech);
}

int sl_meta__cmp_user_cred(const void *a, const void *b)
{
    const struct sl_meta_user_cred *x = a;
    return sl_meta__cmp_cred_key(x->user, x->cred.mech, b);
}

void sl_meta__user_cred_copy(struct sl_meta_user_cred *dst, const struct sl_meta_user_cred *src)
{
    dst->user = sl_xstrdup(src->user);
    dst->cred = src->cred;
}

void sl_meta__user_cred_clear(struct sl_meta_user_cred *c)
{
    free(c->user);
    OPENSSL_cleanse(c, sizeof *c);
}

void sl_meta_user_creds_free(struct sl_meta_user_cred *c, int n)
{
    if (!c)
        return;
    for (int i = 0; i < n; i++)
        sl_meta__user_cred_clear(&c[i]);
    free(c);
}

sl_err_t sl_meta_put_scram(struct sl_meta *m, const char *user, const struct sl_scram_cred *c)
{
    struct sl_scram_cred norm;
    const char *why = sl_meta__check_user(user);
    if (!why && !c)
        why = "no credential";
    if (!why)
        why = sl_meta__check_cred(c, &norm);
    if (why) {
        /* The name is not logged: it may be anything an admin client sent. */
        SL_WARN("meta", "refusing to store a SCRAM credential: %s", why);
        return SL_ERR__INVAL;
    }
    sl_err_t rc = m->ops->put_scram(m, user, &norm);
    OPENSSL_cleanse(&norm, sizeof norm);
    return rc;
}

sl_err_t sl_meta_delete_scram(struct sl_meta *m, const char *user, int mech)
{
    if (sl_meta__check_user(user) || sl_meta__scram_key_len(mech) == 0)
        return SL_ERR__INVAL;
    return m->ops->delete_scram(m, user, mech);
}

sl_err_t sl_meta_get_scram(struct sl_meta *m, const char *user, int mech,
                           struct sl_scram_cred *out)
{
    /* No validation of user: a name the store refuses is never in it. */
    if (!user)
        return SL_ERR__NOENT;
    return m->ops->get_scram(m, user, mech, out);
}

sl_err_t sl_meta_list_scram(struct sl_meta *m, struct sl_meta_user_cred **out, int *n)
{
    return m->ops->list_scram(m, out, n);
}

sl_err_t sl_meta_auth_secret(struct sl_meta *m, uint8_t out[SL_META_SECRET_LEN])
{
    return m->ops->auth_secret(m, out);
}

uint64_t sl_meta_scram_generation(struct sl_meta *m)
{
    return m->ops->scram_generation(m);
}

/* ------------------------------------------------------------------ */
/* ACLs                                                                */
/* ------------------------------------------------------------------ */

sl_err_t sl_meta_create_acls(struct sl_meta *m, const struct sl_acl *acls, int n)
{
    if (n < 0 || (n > 0 && !acls))
        return SL_ERR__INVAL;
    for (int i = 0; i < n; i++) {
        const char *why = sl_acl_validate(&acls[i]);
        if (why) {
            /* Only the reason: names and principals are the client's. */
            SL_WARN("meta", "refusing %d ACL binding(s): binding %d: %s", n, i, why);
            return SL_ERR__INVAL;
        }
    }
    if (n == 0)
        return SL_ERR_NONE;
    return m->ops->create_acls(m, acls, n);
}

sl_err_t sl_meta_delete_acls(struct sl_meta *m, const struct sl_acl_filter *f, int nf,
                             struct sl_meta_acl_list *deleted)
{
    if (nf < 0 || (nf > 0 && (!f || !deleted)))
        return SL_ERR__INVAL;
    if (nf > 0)
        memset(deleted, 0, (size_t)nf * sizeof *deleted);
    for (int i = 0; i < nf; i++)
        if (sl_acl_filter_validate(&f[i]))
            return SL_ERR__INVAL;
    if (nf == 0)
        return SL_ERR_NONE;
    return m->ops->delete_acls(m, f, nf, deleted);
}

sl_err_t sl_meta_list_acls(struct sl_meta *m, const struct sl_acl_filter *f,
                           struct sl_meta_acl_list *out)
{
    memset(out, 0, sizeof *out);
    if (f && sl_acl_filter_validate(f))
        return SL_ERR__INVAL;
    struct sl_acl_set *s = m->ops->acl_set(m);
    int n = sl_acl_set_count(s), k = 0;
    for (int i = 0; i < n; i++)
        k += !f || sl_acl_filter_matches(f, sl_acl_set_at(s, i));
    if (k > 0) {
        out->acls = sl_xcalloc((size_t)k, sizeof *out->acls);
        for (int i = 0; i < n; i++) {
            const struct sl_acl *a = sl_acl_set_at(s, i);
            if (!f || sl_acl_filter_matches(f, a))
                sl_acl_copy(&out->acls[out->n++], a);
        }
    }
    sl_acl_set_unref(s);
    return SL_ERR_NONE;
}

void sl_meta_acl_list_clear(struct sl_meta_acl_list *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++)
        sl_acl_clear(&l->acls[i]);
    free(l->acls);
    memset(l, 0, sizeof *l);
}

struct sl_acl_set *sl_meta_acl_set(struct sl_meta *m)
{
    return m->ops->acl_set(m);
}

uint64_t sl_meta_acl_generation(struct sl_meta *m)
{
    return m->ops->acl_generation(m);
}
