/* SPDX-License-Identifier: Apache-2.0
 *
 * The on-disk format of sealed files (docs/ENCRYPTION.md), shared by the
 * sealing file layer (fileops_aead.c: one frame per batch, appended) and
 * sealed blobs (small files rewritten whole, such as the metadata store:
 * the same header and exactly one frame at logical position 0).
 *
 *   header (128 bytes): "SLUICEAE" | u16 format 1 | u16 header size 128 |
 *                       u32 0 | slot 0 (52) | slot 1 (52) | 8 zero bytes
 *   slot:               u32 seq (0 = empty) | u32 KEK version |
 *                       40-byte RFC 5649 wrap of the 32-byte data key |
 *                       u32 CRC-32C of the 48 bytes before it
 *   frame:              u32 "SLFR" | u32 plaintext length | u64 logical
 *                       position | 12-byte nonce | u32 CRC-32C of those 28
 *                       bytes | ciphertext | 16-byte GCM tag
 *   AAD of a frame:     its first 28 bytes || the file's identity string
 * All integers big-endian.
 */
#ifndef SL_CRYPTO_SEALED_FORMAT_H
#define SL_CRYPTO_SEALED_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "crypto/keyring.h"

#define SL_SEALED_MAGIC "SLUICEAE"
#define SL_SEALED_VERSION 1
#define SL_SEALED_HDR_SIZE 128
#define SL_SEALED_SLOT_OFF0 16
#define SL_SEALED_SLOT_SIZE 52
#define SL_SEALED_WRAPPED_LEN SL_KEYWRAP_LEN(SL_AEAD_KEY_LEN)
#define SL_SEALED_FRAME_MAGIC 0x534c4652u /* "SLFR" */
#define SL_SEALED_FH_SIZE 32
#define SL_SEALED_FH_AAD 28
#define SL_SEALED_FRAME_OVERHEAD (SL_SEALED_FH_SIZE + SL_AEAD_TAG_LEN)

struct sl_sealed_slot {
    bool valid;
    uint32_t seq, kek_version;
    uint8_t wrapped[SL_SEALED_WRAPPED_LEN];
};

void sl_sealed_slot_encode(uint8_t *p, uint32_t seq, uint32_t kek_version, const uint8_t *wrapped);
void sl_sealed_slot_decode(const uint8_t *p, struct sl_sealed_slot *s);

/* Builds a header with a new random data key (stored in dkey) wrapped by
 * the newest KEK of kr in slot 0. 0, -ENOKEY (empty keyring) or -EIO. */
int sl_sealed_header_new(const struct sl_keyring *kr, uint8_t hdr[SL_SEALED_HDR_SIZE],
                         uint8_t dkey[SL_AEAD_KEY_LEN]);

/* Picks the valid slot with the highest seq whose KEK is in kr and unwraps
 * the data key into dkey; *which gets the slot, *kek_version its KEK.
 * 0, -EPROTO (no sealed header or no valid slot), -ENOKEY (KEK version not
 * in the keyring), -EKEYREJECTED (the KEK does not unwrap: a wrong key). */
int sl_sealed_header_unwrap(const struct sl_keyring *kr, const uint8_t *hdr, uint8_t *dkey,
                            int *which, uint32_t *kek_version);

/* Frame header: parse (magic, CRC, length > 0 and <= INT32_MAX, position ==
 * expect_lpos) and build. */
bool sl_sealed_fh_parse(const uint8_t *h, int64_t expect_lpos, uint32_t *len);
void sl_sealed_fh_build(uint8_t *h, uint32_t len, int64_t lpos, const uint8_t *nonce);

/* True if the n bytes start with a sealed header. */
bool sl_sealed_is_sealed(const uint8_t *p, size_t n);

/* Seals n bytes (n >= 1) as a blob bound to ident (a file name: a blob
 * opened under another identity fails): returns new memory (caller frees)
 * in *out, *out_len bytes. 0 or -errno. */
int sl_sealed_blob_seal(const struct sl_keyring *kr, const char *ident, const uint8_t *pt,
                        size_t n, uint8_t **out, size_t *out_len);

/* Opens a blob: new memory (caller wipes and frees) in *out. 0, -EPROTO
 * (not a sealed blob), -ENOKEY, -EKEYREJECTED, -EBADMSG (altered, or
 * another identity). */
int sl_sealed_blob_open(const struct sl_keyring *kr, const char *ident, const uint8_t *in,
                        size_t n, uint8_t **out, size_t *out_len);

#endif
