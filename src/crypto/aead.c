/* SPDX-License-Identifier: Apache-2.0
 *
 * AES-256-GCM and RFC 5649 key wrap on OpenSSL EVP (see aead.h). The GCM
 * contexts are per thread (a pthread key frees them when the thread ends),
 * because creating one per batch costs more than sealing a small batch, and
 * each remembers its key so that a run of frames under one data key sets it
 * once.
 */
#include "crypto/aead.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

/* A thread's GCM context and the key last set in it: a fetch opens many
 * frames of one segment in a row, and setting the same key again (the AES
 * key schedule and the GHASH key) is skipped. */
struct tctx {
    EVP_CIPHER_CTX *c;
    bool keyed;
    uint8_t key[SL_AEAD_KEY_LEN];
};

static void ctx_free(void *p)
{
    struct tctx *t = p;
    EVP_CIPHER_CTX_free(t->c);
    OPENSSL_cleanse(t->key, sizeof(t->key));
    OPENSSL_free(t);
}

static void ctx_init(void)
{
    (void)pthread_key_create(&ctx_key, ctx_free);
}

/* This thread's GCM context, or NULL on allocation failure. */
static struct tctx *thread_ctx(void)
{
    pthread_once(&ctx_once, ctx_init);
    struct tctx *t = pthread_getspecific(ctx_key);
    if (!t) {
        t = OPENSSL_zalloc(sizeof(*t));
        if (!t)
            return NULL;
        t->c = EVP_CIPHER_CTX_new();
        if (!t->c || EVP_CipherInit_ex(t->c, EVP_aes_256_gcm(), NULL, NULL, NULL, 1) != 1 ||
            pthread_setspecific(ctx_key, t) != 0) {
            EVP_CIPHER_CTX_free(t->c);
            OPENSSL_free(t);
            return NULL;
        }
    }
    return t;
}

/* EVP lengths are int: feed large inputs in pieces. */
#define CHUNK (1 << 30)

static int update_aad(EVP_CIPHER_CTX *c, const void *aad, size_t len)
{
    int outl;
    if (len == 0)
        return 1;
    return EVP_CipherUpdate(c, NULL, &outl, aad, (int)len);
}

static int crypt_body(EVP_CIPHER_CTX *c, const uint8_t *in, size_t n, uint8_t *out)
{
    while (n > 0) {
        int part = n > CHUNK ? CHUNK : (int)n, outl = 0;
        if (EVP_CipherUpdate(c, out, &outl, in, part) != 1 || outl != part)
            return 0;
        in += part;
        out += part;
        n -= (size_t)part;
    }
    return 1;
}

static int gcm(int enc, const uint8_t *key, const uint8_t *nonce, const void *aad1,
               size_t aad1_len, const void *aad2, size_t aad2_len, const uint8_t *in, size_t n,
               uint8_t *out, uint8_t *tag)
{
    struct tctx *t = thread_ctx();
    if (!t || aad1_len > INT32_MAX || aad2_len > INT32_MAX)
        return -EIO;
    EVP_CIPHER_CTX *c = t->c;
    /* The context was set up for AES-256-GCM with a 12-byte IV (the
     * default); only key, nonce and direction change per call, and the
     * key only when it differs from the last one (a key of NULL keeps it:
     * the GCM cipher's init then sets the nonce and direction alone). */
    bool same = t->keyed && CRYPTO_memcmp(t->key, key, SL_AEAD_KEY_LEN) == 0;
    if (!same) {
        t->keyed = false;
        memcpy(t->key, key, SL_AEAD_KEY_LEN);
    }
    if (EVP_CipherInit_ex(c, NULL, NULL, same ? NULL : key, nonce, enc) != 1)
        return -EIO;
    t->keyed = true;
    if (update_aad(c, aad1, aad1_len) != 1 || update_aad(c, aad2, aad2_len) != 1 ||
        crypt_body(c, in, n, out) != 1)
        return -EIO;
    int outl = 0;
    if (enc) {
        if (EVP_CipherFinal_ex(c, out, &outl) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SL_AEAD_TAG_LEN, tag) != 1)
            return -EIO;
        return 0;
    }
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SL_AEAD_TAG_LEN, tag) != 1)
        return -EIO;
    return EVP_CipherFinal_ex(c, out, &outl) == 1 ? 0 : -EBADMSG;
}

int sl_aead_seal(const uint8_t key[SL_AEAD_KEY_LEN], const uint8_t nonce[SL_AEAD_NONCE_LEN],
                 const void *aad1, size_t aad1_len, const void *aad2, size_t aad2_len,
                 const uint8_t *pt, size_t n, uint8_t *ct, uint8_t tag[SL_AEAD_TAG_LEN])
{
    return gcm(1, key, nonce, aad1, aad1_len, aad2, aad2_len, pt, n, ct, tag);
}

int sl_aead_open(const uint8_t key[SL_AEAD_KEY_LEN], const uint8_t nonce[SL_AEAD_NONCE_LEN],
                 const void *aad1, size_t aad1_len, const void *aad2, size_t aad2_len,
                 const uint8_t *ct, size_t n, uint8_t *pt, const uint8_t tag[SL_AEAD_TAG_LEN])
{
    return gcm(0, key, nonce, aad1, aad1_len, aad2, aad2_len, ct, n, pt, (uint8_t *)tag);
}

static const EVP_CIPHER *wrap_cipher(size_t kek_len)
{
    switch (kek_len) {
    case 16:
        return EVP_aes_128_wrap_pad();
    case 24:
        return EVP_aes_192_wrap_pad();
    case 32:
        return EVP_aes_256_wrap_pad();
    default:
        return NULL;
    }
}

/* One wrap or unwrap; returns the output length or -1. */
static int wrap_op(int enc, const uint8_t *kek, size_t kek_len, const uint8_t *in, size_t n,
                   uint8_t *out)
{
    const EVP_CIPHER *ciph = wrap_cipher(kek_len);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = -1, outl = 0, fin = 0;
    if (!ciph || !c)
        goto out;
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_CipherInit_ex(c, ciph, NULL, kek, NULL, enc) != 1 ||
        EVP_CipherUpdate(c, out, &outl, in, (int)n) != 1 || outl <= 0 ||
        EVP_CipherFinal_ex(c, out + outl, &fin) != 1)
        goto out;
    len = outl + fin;
out:
    EVP_CIPHER_CTX_free(c);
    return len;
}

int sl_keywrap(const uint8_t *kek, size_t kek_len, const uint8_t *key, size_t klen, uint8_t *out,
               size_t *out_len)
{
    if (klen == 0 || klen > 4096 || !wrap_cipher(kek_len))
        return -EINVAL;
    int r = wrap_op(1, kek, kek_len, key, klen, out);
    if (r != (int)SL_KEYWRAP_LEN(klen))
        return -EIO;
    *out_len = (size_t)r;
    return 0;
}

int sl_keyunwrap(const uint8_t *kek, size_t kek_len, const uint8_t *in, size_t in_len,
                 uint8_t *out, size_t *out_len)
{
    if (in_len < 16 || in_len % 8 != 0 || in_len > 4096 + 16 || !wrap_cipher(kek_len))
        return -EINVAL;
    int r = wrap_op(0, kek, kek_len, in, in_len, out);
    if (r <= 0) {
        OPENSSL_cleanse(out, in_len - 8);
        return -EBADMSG;
    }
    *out_len = (size_t)r;
    return 0;
}
