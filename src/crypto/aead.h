/* SPDX-License-Identifier: Apache-2.0
 *
 * AES-256-GCM seal and open (OpenSSL EVP), the one AEAD of encryption at
 * rest, and AES key wrapping with padding (RFC 5649, EVP_aes_256_wrap_pad)
 * for data keys under key-encryption keys. Nothing here chooses nonces or
 * keys: callers do (fileops_aead.c documents its nonce scheme). No function
 * logs or keeps key material; stack copies are wiped with OPENSSL_cleanse.
 *
 * Thread-safety: every function may be called from any thread at once (each
 * thread keeps its own cipher context).
 */
#ifndef SL_CRYPTO_AEAD_H
#define SL_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define SL_AEAD_KEY_LEN 32
#define SL_AEAD_NONCE_LEN 12
#define SL_AEAD_TAG_LEN 16
/* RFC 5649 output for a 32-byte key: the key plus one 8-byte block. */
#define SL_KEYWRAP_LEN(n) ((((n) + 7) / 8) * 8 + 8)

/* Encrypts n bytes of pt into ct (same length; may equal pt) under key with
 * the 12-byte nonce, authenticating aad1 || aad2 (either may be empty), and
 * writes the 16-byte tag. Returns 0, or -EIO if OpenSSL fails. Borrows all. */
int sl_aead_seal(const uint8_t key[SL_AEAD_KEY_LEN], const uint8_t nonce[SL_AEAD_NONCE_LEN],
                 const void *aad1, size_t aad1_len, const void *aad2, size_t aad2_len,
                 const uint8_t *pt, size_t n, uint8_t *ct, uint8_t tag[SL_AEAD_TAG_LEN]);

/* Decrypts and verifies: n bytes of ct into pt (may equal ct). Returns 0, or
 * -EBADMSG when the tag does not match (pt then holds garbage the caller must
 * not use), -EIO if OpenSSL fails. Borrows all. */
int sl_aead_open(const uint8_t key[SL_AEAD_KEY_LEN], const uint8_t nonce[SL_AEAD_NONCE_LEN],
                 const void *aad1, size_t aad1_len, const void *aad2, size_t aad2_len,
                 const uint8_t *ct, size_t n, uint8_t *pt, const uint8_t tag[SL_AEAD_TAG_LEN]);

/* RFC 5649 wrap of key (klen 1..4096 bytes) under kek (kek_len 16, 24 or 32:
 * AES-128/192/256; Sluice uses 32). out must hold SL_KEYWRAP_LEN(klen)
 * bytes; *out_len gets the count. Returns 0 or -EINVAL / -EIO. */
int sl_keywrap(const uint8_t *kek, size_t kek_len, const uint8_t *key, size_t klen, uint8_t *out,
               size_t *out_len);

/* RFC 5649 unwrap. out must hold in_len - 8 bytes; *out_len gets the key
 * length. Returns 0, -EBADMSG when the integrity check fails (wrong KEK or
 * altered input), -EINVAL for a bad length. */
int sl_keyunwrap(const uint8_t *kek, size_t kek_len, const uint8_t *in, size_t in_len,
                 uint8_t *out, size_t *out_len);

#endif
