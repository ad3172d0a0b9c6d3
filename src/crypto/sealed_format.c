/* SPDX-License-Identifier: Apache-2.0
 *
 * The sealed file format (see sealed_format.h): the header with its two
 * key slots, frame headers, and sealed blobs.
 */
#include "crypto/sealed_format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/bytes.h"
#include "core/crc32c.h"
#include "core/mem.h"

void sl_sealed_slot_encode(uint8_t *p, uint32_t seq, uint32_t kek_version, const uint8_t *wrapped)
{
    sl_put_be32(p, seq);
    sl_put_be32(p + 4, kek_version);
    memcpy(p + 8, wrapped, SL_SEALED_WRAPPED_LEN);
    sl_put_be32(p + 48, sl_crc32c(0, p, 48));
}

void sl_sealed_slot_decode(const uint8_t *p, struct sl_sealed_slot *s)
{
    s->valid = sl_be32(p + 48) == sl_crc32c(0, p, 48) && sl_be32(p) != 0;
    s->seq = sl_be32(p);
    s->kek_version = sl_be32(p + 4);
    memcpy(s->wrapped, p + 8, SL_SEALED_WRAPPED_LEN);
}

bool sl_sealed_is_sealed(const uint8_t *p, size_t n)
{
    return n >= SL_SEALED_HDR_SIZE && memcmp(p, SL_SEALED_MAGIC, 8) == 0;
}

int sl_sealed_header_new(const struct sl_keyring *kr, uint8_t hdr[SL_SEALED_HDR_SIZE],
                         uint8_t dkey[SL_AEAD_KEY_LEN])
{
    const struct sl_kek *kek = sl_keyring_newest(kr);
    if (!kek)
        return -ENOKEY;
    if (RAND_bytes(dkey, SL_AEAD_KEY_LEN) != 1)
        return -EIO;
    uint8_t wrapped[SL_SEALED_WRAPPED_LEN];
    size_t wl;
    int rc = sl_keywrap(kek->key, SL_KEK_LEN, dkey, SL_AEAD_KEY_LEN, wrapped, &wl);
    if (rc < 0)
        return rc;
    memset(hdr, 0, SL_SEALED_HDR_SIZE);
    memcpy(hdr, SL_SEALED_MAGIC, 8);
    sl_put_be16(hdr + 8, SL_SEALED_VERSION);
    sl_put_be16(hdr + 10, SL_SEALED_HDR_SIZE);
    sl_sealed_slot_encode(hdr + SL_SEALED_SLOT_OFF0, 1, kek->version, wrapped);
    return 0;
}

int sl_sealed_header_unwrap(const struct sl_keyring *kr, const uint8_t *hdr, uint8_t *dkey,
                            int *which, uint32_t *kek_version)
{
    if (memcmp(hdr, SL_SEALED_MAGIC, 8) != 0 || sl_be16(hdr + 8) != SL_SEALED_VERSION ||
        sl_be16(hdr + 10) != SL_SEALED_HDR_SIZE)
        return -EPROTO;
    struct sl_sealed_slot s[2];
    sl_sealed_slot_decode(hdr + SL_SEALED_SLOT_OFF0, &s[0]);
    sl_sealed_slot_decode(hdr + SL_SEALED_SLOT_OFF0 + SL_SEALED_SLOT_SIZE, &s[1]);
    int order[2] = {0, 1};
    if (s[1].valid && (!s[0].valid || s[1].seq > s[0].seq)) {
        order[0] = 1;
        order[1] = 0;
    }
    int rc = -EPROTO;
    for (int k = 0; k < 2; k++) {
        struct sl_sealed_slot *sl = &s[order[k]];
        if (!sl->valid)
            continue;
        const struct sl_kek *kek = sl_keyring_find(kr, sl->kek_version);
        if (!kek) {
            if (rc == -EPROTO)
                rc = -ENOKEY;
            continue;
        }
        uint8_t out[SL_SEALED_WRAPPED_LEN];
        size_t olen = 0;
        if (sl_keyunwrap(kek->key, SL_KEK_LEN, sl->wrapped, SL_SEALED_WRAPPED_LEN, out, &olen) ==
                0 &&
            olen == SL_AEAD_KEY_LEN) {
            memcpy(dkey, out, SL_AEAD_KEY_LEN);
            OPENSSL_cleanse(out, sizeof(out));
            *which = order[k];
            *kek_version = sl->kek_version;
            return 0;
        }
        OPENSSL_cleanse(out, sizeof(out));
        rc = -EKEYREJECTED;
    }
    return rc;
}

bool sl_sealed_fh_parse(const uint8_t *h, int64_t expect_lpos, uint32_t *len)
{
    if (sl_be32(h) != SL_SEALED_FRAME_MAGIC ||
        sl_be32(h + SL_SEALED_FH_AAD) != sl_crc32c(0, h, SL_SEALED_FH_AAD))
        return false;
    *len = sl_be32(h + 4);
    return *len > 0 && *len <= INT32_MAX && (int64_t)sl_be64(h + 8) == expect_lpos;
}

void sl_sealed_fh_build(uint8_t *h, uint32_t len, int64_t lpos, const uint8_t *nonce)
{
    sl_put_be32(h, SL_SEALED_FRAME_MAGIC);
    sl_put_be32(h + 4, len);
    sl_put_be64(h + 8, (uint64_t)lpos);
    memcpy(h + 16, nonce, SL_AEAD_NONCE_LEN);
    sl_put_be32(h + SL_SEALED_FH_AAD, sl_crc32c(0, h, SL_SEALED_FH_AAD));
}

int sl_sealed_blob_seal(const struct sl_keyring *kr, const char *ident, const uint8_t *pt,
                        size_t n, uint8_t **out, size_t *out_len)
{
    if (n == 0 || n > INT32_MAX)
        return -EINVAL;
    size_t total = SL_SEALED_HDR_SIZE + SL_SEALED_FRAME_OVERHEAD + n;
    uint8_t *b = sl_xmalloc(total), dkey[SL_AEAD_KEY_LEN], nonce[SL_AEAD_NONCE_LEN];
    int rc = sl_sealed_header_new(kr, b, dkey);
    if (rc == 0 && RAND_bytes(nonce, sizeof(nonce)) != 1)
        rc = -EIO;
    if (rc == 0) {
        uint8_t *fh = b + SL_SEALED_HDR_SIZE;
        sl_sealed_fh_build(fh, (uint32_t)n, 0, nonce);
        rc = sl_aead_seal(dkey, nonce, fh, SL_SEALED_FH_AAD, ident, strlen(ident), pt, n,
                          fh + SL_SEALED_FH_SIZE, fh + SL_SEALED_FH_SIZE + n);
    }
    OPENSSL_cleanse(dkey, sizeof(dkey));
    if (rc < 0) {
        free(b);
        return rc;
    }
    *out = b;
    *out_len = total;
    return 0;
}

int sl_sealed_blob_open(const struct sl_keyring *kr, const char *ident, const uint8_t *in,
                        size_t n, uint8_t **out, size_t *out_len)
{
    if (!sl_sealed_is_sealed(in, n) || n < SL_SEALED_HDR_SIZE + SL_SEALED_FRAME_OVERHEAD + 1)
        return -EPROTO;
    uint8_t dkey[SL_AEAD_KEY_LEN];
    int which;
    uint32_t kv, len;
    int rc = sl_sealed_header_unwrap(kr, in, dkey, &which, &kv);
    if (rc < 0)
        return rc;
    const uint8_t *fh = in + SL_SEALED_HDR_SIZE;
    if (!sl_sealed_fh_parse(fh, 0, &len) ||
        (size_t)len != n - SL_SEALED_HDR_SIZE - SL_SEALED_FRAME_OVERHEAD) {
        OPENSSL_cleanse(dkey, sizeof(dkey));
        return -EBADMSG;
    }
    uint8_t *pt = sl_xmalloc(len + 1);
    rc = sl_aead_open(dkey, fh + 16, fh, SL_SEALED_FH_AAD, ident, strlen(ident),
                      fh + SL_SEALED_FH_SIZE, len, pt, fh + SL_SEALED_FH_SIZE + len);
    OPENSSL_cleanse(dkey, sizeof(dkey));
    if (rc < 0) {
        OPENSSL_cleanse(pt, len);
        free(pt);
        return rc;
    }
    pt[len] = 0;
    *out = pt;
    *out_len = len;
    return 0;
}
