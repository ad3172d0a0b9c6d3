/* SPDX-License-Identifier: Apache-2.0
 *
 * AES-256-GCM against the GCM specification's test cases (McGrew and
 * Viega, "The Galois/Counter Mode of Operation", test cases 13-16, also in
 * NIST's gcmEncryptExtIV256 vectors), and AES key wrap with padding against
 * the two examples of RFC 5649 section 6, plus the failure paths: a flipped
 * bit in ciphertext, tag or AAD, and a wrong KEK.
 */
#include <errno.h>
#include <string.h>

#include "crypto/aead.h"
#include "test_help.h"

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = strlen(s) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

struct gcm_vec {
    const char *key, *iv, *pt, *aad, *ct, *tag;
};

static const struct gcm_vec gcm_vecs[] = {
    /* Test case 13 */
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    /* Test case 14 */
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    /* Test case 15 */
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b"
     "525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828"
     "838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    /* Test case 16 (with AAD) */
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b"
     "525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828"
     "838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void test_gcm_vectors(void)
{
    for (size_t i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++) {
        const struct gcm_vec *v = &gcm_vecs[i];
        uint8_t key[32], iv[12], pt[64], aad[32], ct[64], tag[16], out[64], gtag[16];
        unhex(v->key, key);
        unhex(v->iv, iv);
        size_t n = unhex(v->pt, pt), an = unhex(v->aad, aad);
        unhex(v->ct, ct);
        unhex(v->tag, tag);
        /* The AAD is split in two parts, as the file layer passes it. */
        size_t a1 = an / 2;
        CHECK_EQ_INT(sl_aead_seal(key, iv, aad, a1, aad + a1, an - a1, pt, n, out, gtag), 0);
        CHECK(memcmp(out, ct, n) == 0);
        CHECK(memcmp(gtag, tag, 16) == 0);
        CHECK_EQ_INT(sl_aead_open(key, iv, aad, an, NULL, 0, ct, n, out, tag), 0);
        CHECK(memcmp(out, pt, n) == 0);
        /* Any flipped bit fails: tag, ciphertext, AAD. */
        tag[0] ^= 1;
        CHECK_EQ_INT(sl_aead_open(key, iv, aad, an, NULL, 0, ct, n, out, tag), -EBADMSG);
        tag[0] ^= 1;
        if (n) {
            ct[n - 1] ^= 0x80;
            CHECK_EQ_INT(sl_aead_open(key, iv, aad, an, NULL, 0, ct, n, out, tag), -EBADMSG);
            ct[n - 1] ^= 0x80;
        }
        if (an) {
            aad[0] ^= 4;
            CHECK_EQ_INT(sl_aead_open(key, iv, aad, an, NULL, 0, ct, n, out, tag), -EBADMSG);
            aad[0] ^= 4;
        }
        iv[11] ^= 1;
        CHECK_EQ_INT(sl_aead_open(key, iv, aad, an, NULL, 0, ct, n, out, tag), -EBADMSG);
    }
}

static void test_gcm_in_place_large(void)
{
    size_t n = 3 * 1024 * 1024 + 5;
    uint8_t *buf = malloc(n), *copy = malloc(n);
    uint8_t key[32] = {1, 2, 3}, iv[12] = {9}, tag[16];
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 31);
    memcpy(copy, buf, n);
    CHECK_EQ_INT(sl_aead_seal(key, iv, "a", 1, "b", 1, buf, n, buf, tag), 0);
    CHECK(memcmp(buf, copy, n) != 0);
    CHECK_EQ_INT(sl_aead_open(key, iv, "ab", 2, NULL, 0, buf, n, buf, tag), 0);
    CHECK(memcmp(buf, copy, n) == 0);
    free(buf);
    free(copy);
}

/* RFC 5649 section 6 (a 192-bit KEK). */
static void test_keywrap_rfc5649(void)
{
    uint8_t kek[24], key[32], want[48], out[48], back[48];
    size_t olen, blen;
    unhex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", kek);
    size_t kn = unhex("c37b7e6492584340bed12207808941155068f738", key);
    size_t wn = unhex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a", want);
    CHECK_EQ_INT(sl_keywrap(kek, 24, key, kn, out, &olen), 0);
    CHECK_EQ_INT(olen, wn);
    CHECK(memcmp(out, want, wn) == 0);
    CHECK_EQ_INT(sl_keyunwrap(kek, 24, out, olen, back, &blen), 0);
    CHECK_EQ_INT(blen, kn);
    CHECK(memcmp(back, key, kn) == 0);

    kn = unhex("466f7250617369", key);
    wn = unhex("afbeb0f07dfbf5419200f2ccb50bb24f", want);
    CHECK_EQ_INT(sl_keywrap(kek, 24, key, kn, out, &olen), 0);
    CHECK_EQ_INT(olen, wn);
    CHECK(memcmp(out, want, wn) == 0);
    CHECK_EQ_INT(sl_keyunwrap(kek, 24, out, olen, back, &blen), 0);
    CHECK_EQ_INT(blen, 7);
    CHECK(memcmp(back, key, 7) == 0);
}

static void test_keywrap_256_and_failures(void)
{
    uint8_t kek[32], kek2[32], key[32], out[48], back[48];
    size_t olen, blen;
    memset(kek, 0x11, 32);
    memset(kek2, 0x22, 32);
    memset(key, 0x5a, 32);
    CHECK_EQ_INT(sl_keywrap(kek, 32, key, 32, out, &olen), 0);
    CHECK_EQ_INT(olen, SL_KEYWRAP_LEN(32));
    CHECK_EQ_INT(sl_keyunwrap(kek, 32, out, olen, back, &blen), 0);
    CHECK(blen == 32 && memcmp(back, key, 32) == 0);
    CHECK_EQ_INT(sl_keyunwrap(kek2, 32, out, olen, back, &blen), -EBADMSG);
    out[5] ^= 1;
    CHECK_EQ_INT(sl_keyunwrap(kek, 32, out, olen, back, &blen), -EBADMSG);
    CHECK_EQ_INT(sl_keyunwrap(kek, 32, out, 12, back, &blen), -EINVAL);
    CHECK_EQ_INT(sl_keywrap(kek, 20, key, 32, out, &olen), -EINVAL);
}

int main(void)
{
    TEST_RUN(test_gcm_vectors);
    TEST_RUN(test_gcm_in_place_large);
    TEST_RUN(test_keywrap_rfc5649);
    TEST_RUN(test_keywrap_256_and_failures);
    TEST_REPORT();
}
