/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the SCRAM-SHA-256/512 server (src/security/authn/scram.c):
 * the RFC 7677 example conversation byte for byte, a SCRAM-SHA-512 and a
 * librdkafka-style conversation whose expected messages were computed
 * independently (Python hashlib), round trips through a small client
 * written here on OpenSSL, saslname escaping, every class of malformed
 * message, and the rule that an unknown user looks exactly like a wrong
 * password from the client's side.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "security/authn/sasl_mech.h"
#include "security/authn/scram.h"
#include "test_help.h"

/* ---- fixtures ----------------------------------------------------------- */

#define RFC_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SALT64 "W22ZaJ0SNY7soEsUEjb6gQ=="

struct user {
    const char *name;
    struct sl_scram_cred c256, c512;
    bool has256, has512;
};

static struct user users[8];
static int nusers;
static int lookups;

static int lookup(void *arg, const char *name, int mech, struct sl_scram_cred *out)
{
    (void)arg;
    lookups++;
    for (int i = 0; i < nusers; i++) {
        if (strcmp(users[i].name, name) != 0)
            continue;
        if (mech == SL_SCRAM_SHA256 && users[i].has256) {
            *out = users[i].c256;
            return 0;
        }
        if (mech == SL_SCRAM_SHA512 && users[i].has512) {
            *out = users[i].c512;
            return 0;
        }
    }
    return -1;
}

static const uint8_t rfc_salt[16] = {0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
                                     0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81};

static struct user *add_user(const char *name, const char *password, int32_t iterations)
{
    struct user *u = &users[nusers++];
    memset(u, 0, sizeof *u);
    u->name = name;
    u->has256 = sl_scram_cred_from_password(SL_SCRAM_SHA256, password, strlen(password), rfc_salt,
                                            sizeof rfc_salt, iterations, &u->c256) == 0;
    u->has512 = sl_scram_make_cred(SL_SCRAM_SHA512, password, iterations, &u->c512) == 0;
    return u;
}

static void setup(void)
{
    nusers = 0;
    lookups = 0;
    add_user("user", "pencil", 4096);
    add_user("a,b=c", "secret", 4096);
}

static struct sl_sasl_conf conf_default(void)
{
    struct sl_sasl_conf conf = {.lookup = lookup};
    for (int i = 0; i < 32; i++)
        conf.fake_secret[i] = (uint8_t)(i * 7 + 1);
    return conf;
}

static const char *generic256 = "Authentication failed during authentication due to invalid "
                                "credentials with SASL mechanism SCRAM-SHA-256";
static const char *generic512 = "Authentication failed during authentication due to invalid "
                                "credentials with SASL mechanism SCRAM-SHA-512";

static enum sl_sasl_step step_str(const struct sl_sasl_mech *m, void *st, const char *msg,
                                  struct sl_sasl_result *res)
{
    return m->step(st, (const uint8_t *)msg, strlen(msg), res);
}

/* ---- a small SCRAM client (OpenSSL), independent of scram.c ------------- */

static const EVP_MD *md_of(int mech)
{
    return mech == SL_SCRAM_SHA512 ? EVP_sha512() : EVP_sha256();
}

static size_t klen(int mech)
{
    return mech == SL_SCRAM_SHA512 ? 64 : 32;
}

/* Value of attribute "x=" in a server-first message, copied into out. */
static bool attr(const char *msg, char name, char *out, size_t cap)
{
    const char *p = msg;
    while (p && *p) {
        if (p[0] == name && p[1] == '=') {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p - 2) : strlen(p + 2);
            if (n >= cap)
                return false;
            memcpy(out, p + 2, n);
            out[n] = '\0';
            return true;
        }
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return false;
}

/* Builds client-final for (bare, server-first) with password; wo_proof is
 * the client-final-message-without-proof to use (NULL: "c=<gs2 b64>,r=<nonce>"
 * with the server's nonce). Writes it to out. Returns false on trouble. */
static bool client_final(int mech, const char *password, const char *gs2, const char *bare,
                         const char *sfirst, const char *wo_proof, char *out, size_t cap)
{
    char nonce[9000], salt64[200], iters[32], wo[9500], cb[400];
    uint8_t salt[200], salted[64], ck[64], sk[64], cs[64], proof[64];
    char proof64[100];
    unsigned int n;
    if (!attr(sfirst, 'r', nonce, sizeof nonce) || !attr(sfirst, 's', salt64, sizeof salt64) ||
        !attr(sfirst, 'i', iters, sizeof iters))
        return false;
    int saltn = EVP_DecodeBlock(salt, (const uint8_t *)salt64, (int)strlen(salt64));
    size_t sl = strlen(salt64);
    saltn -= (salt64[sl - 1] == '=') + (salt64[sl - 2] == '=');
    if (!wo_proof) {
        EVP_EncodeBlock((uint8_t *)cb, (const uint8_t *)gs2, (int)strlen(gs2));
        snprintf(wo, sizeof wo, "c=%s,r=%s", cb, nonce);
        wo_proof = wo;
    }
    size_t k = klen(mech);
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, saltn, atoi(iters), md_of(mech),
                          (int)k, salted) != 1)
        return false;
    HMAC(md_of(mech), salted, (int)k, (const uint8_t *)"Client Key", 10, ck, &n);
    EVP_Digest(ck, k, sk, &n, md_of(mech), NULL);
    char *am = malloc(strlen(bare) + strlen(sfirst) + strlen(wo_proof) + 3);
    sprintf(am, "%s,%s,%s", bare, sfirst, wo_proof);
    HMAC(md_of(mech), sk, (int)k, (const uint8_t *)am, strlen(am), cs, &n);
    free(am);
    for (size_t i = 0; i < k; i++)
        proof[i] = ck[i] ^ cs[i];
    EVP_EncodeBlock((uint8_t *)proof64, proof, (int)k);
    return (size_t)snprintf(out, cap, "%s,p=%s", wo_proof, proof64) < cap;
}

/* Runs a whole exchange; returns the final step and leaves the last result
 * in *res (out freed). */
static enum sl_sasl_step run(const struct sl_sasl_mech *m, const struct sl_sasl_conf *conf,
                             const char *gs2, const char *bare, const char *password,
                             struct sl_sasl_result *res, char *sfirst_out, size_t sfirst_cap)
{
    char first[9000], sfirst[9000], final[9600];
    snprintf(first, sizeof first, "%s%s", gs2, bare);
    void *st = m->start(conf);
    enum sl_sasl_step s = step_str(m, st, first, res);
    if (s != SL_SASL_CONTINUE) {
        m->free(st);
        return s;
    }
    snprintf(sfirst, sizeof sfirst, "%.*s", (int)res->out_len, (const char *)res->out);
    if (sfirst_out)
        snprintf(sfirst_out, sfirst_cap, "%s", sfirst);
    free(res->out);
    int mech = m == &sl_sasl_scram_sha512 ? SL_SCRAM_SHA512 : SL_SCRAM_SHA256;
    if (!client_final(mech, password, gs2, bare, sfirst, NULL, final, sizeof final)) {
        m->free(st);
        return SL_SASL_STEP_MAX;
    }
    s = step_str(m, st, final, res);
    free(res->out);
    res->out = NULL;
    m->free(st);
    return s;
}

/* ---- tests -------------------------------------------------------------- */

static void test_rfc7677_sha256(void)
{
    setup();
    struct sl_sasl_conf conf = conf_default();
    conf._test_server_nonce = RFC_SNONCE;
    struct sl_sasl_result res;
    void *st = sl_sasl_scram_sha256.start(&conf);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "n,,n=user,r=" RFC_CNONCE, &res),
                 SL_SASL_CONTINUE);
    const char *sfirst = "r=" RFC_CNONCE RFC_SNONCE ",s=" RFC_SALT64 ",i=4096";
    CHECK_EQ_INT(res.out_len, strlen(sfirst));
    CHECK(memcmp(res.out, sfirst, res.out_len) == 0);
    free(res.out);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st,
                          "c=biws,r=" RFC_CNONCE RFC_SNONCE
                          ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                          &res),
                 SL_SASL_DONE);
    const char *sfinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    CHECK_EQ_INT(res.out_len, strlen(sfinal));
    CHECK(memcmp(res.out, sfinal, res.out_len) == 0);
    CHECK(strcmp(res.user, "user") == 0);
    CHECK_EQ_INT(res.flags, 0);
    free(res.out);
    /* Over: anything more fails. */
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "c=biws", &res), SL_SASL_FAIL);
    CHECK(res.out == NULL);
    sl_sasl_scram_sha256.free(st);
}

/* The same conversation with SHA-512; expected bytes from Python's hashlib
 * (the same script reproduces the RFC 7677 conversation above). */
static void test_sha512_vector(void)
{
    setup();
    /* user's SHA-512 credential under the RFC salt */
    CHECK(sl_scram_cred_from_password(SL_SCRAM_SHA512, "pencil", 6, rfc_salt, sizeof rfc_salt,
                                      4096, &users[0].c512) == 0);
    struct sl_sasl_conf conf = conf_default();
    conf._test_server_nonce = RFC_SNONCE;
    struct sl_sasl_result res;
    void *st = sl_sasl_scram_sha512.start(&conf);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha512, st, "n,,n=user,r=" RFC_CNONCE, &res),
                 SL_SASL_CONTINUE);
    const char *sfirst = "r=" RFC_CNONCE RFC_SNONCE ",s=" RFC_SALT64 ",i=4096";
    CHECK(res.out_len == strlen(sfirst) && memcmp(res.out, sfirst, res.out_len) == 0);
    free(res.out);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha512, st,
                          "c=biws,r=" RFC_CNONCE RFC_SNONCE
                          ",p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6"
                          "dybEmDYXYTxwnYPJQ==",
                          &res),
                 SL_SASL_DONE);
    const char *sfinal = "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+"
                         "5ZxXnJq199RVG2rR7N7Zw==";
    CHECK(res.out_len == strlen(sfinal) && memcmp(res.out, sfinal, res.out_len) == 0);
    free(res.out);
    sl_sasl_scram_sha512.free(st);
}

/* librdkafka < 2.6.1 sends r=<cnonce><cnonce><snonce>; proof computed over
 * that literal message (Python hashlib). */
static void test_librdkafka_legacy_nonce(void)
{
    static const char *final = "c=biws,r=" RFC_CNONCE RFC_CNONCE RFC_SNONCE
                               ",p=1Y75+q7XaCGJj/r6vyQWwoNxSzV5ksS8xhp5Lqyriec=";
    setup();
    struct sl_sasl_result res;
    for (int legacy = 0; legacy <= 1; legacy++) {
        struct sl_sasl_conf conf = conf_default();
        conf._test_server_nonce = RFC_SNONCE;
        conf.scram_legacy_nonce = legacy;
        void *st = sl_sasl_scram_sha256.start(&conf);
        CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "n,,n=user,r=" RFC_CNONCE, &res),
                     SL_SASL_CONTINUE);
        free(res.out);
        enum sl_sasl_step s = step_str(&sl_sasl_scram_sha256, st, final, &res);
        if (legacy) {
            CHECK_EQ_INT(s, SL_SASL_DONE);
            CHECK(res.flags & SL_SASL_F_LEGACY_NONCE);
            const char *sfinal = "v=3svB0h5EwFJ/+WVn2GpJ5uBzW8HEv9nm1rcYAhYlm0A=";
            CHECK(res.out_len == strlen(sfinal) && memcmp(res.out, sfinal, res.out_len) == 0);
            free(res.out);
        } else {
            CHECK_EQ_INT(s, SL_SASL_FAIL);
            CHECK(strcmp(res.err, generic256) == 0);
            CHECK(strstr(res.log, "nonce") != NULL);
        }
        sl_sasl_scram_sha256.free(st);
    }
    /* Only that exact shape: something else ending with the full nonce, or
     * just the client nonce, still fails with the switch on. */
    static const char *bad[] = {
        "c=biws,r=X" RFC_CNONCE RFC_SNONCE ",p=1Y75+q7XaCGJj/r6vyQWwoNxSzV5ksS8xhp5Lqyriec=",
        "c=biws,r=XYZ" RFC_CNONCE RFC_SNONCE ",p=1Y75+q7XaCGJj/r6vyQWwoNxSzV5ksS8xhp5Lqyriec=",
        "c=biws,r=" RFC_CNONCE ",p=1Y75+q7XaCGJj/r6vyQWwoNxSzV5ksS8xhp5Lqyriec=",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE RFC_CNONCE
        ",p=1Y75+q7XaCGJj/r6vyQWwoNxSzV5ksS8xhp5Lqyriec=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sl_sasl_conf conf = conf_default();
        conf._test_server_nonce = RFC_SNONCE;
        conf.scram_legacy_nonce = true;
        void *st = sl_sasl_scram_sha256.start(&conf);
        CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "n,,n=user,r=" RFC_CNONCE, &res),
                     SL_SASL_CONTINUE);
        free(res.out);
        CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, bad[i], &res), SL_SASL_FAIL);
        CHECK(strstr(res.log, "Invalid client nonce") != NULL);
        sl_sasl_scram_sha256.free(st);
    }
}

static void test_round_trips(void)
{
    setup();
    struct sl_sasl_conf conf = conf_default();
    struct sl_sasl_result res;
    char sfirst[9000];
    const struct sl_sasl_mech *mechs[] = {&sl_sasl_scram_sha256, &sl_sasl_scram_sha512};
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(run(mechs[i], &conf, "n,,", "n=user,r=abc123", "pencil", &res, sfirst,
                         sizeof sfirst),
                     SL_SASL_DONE);
        CHECK(strcmp(res.user, "user") == 0);
        /* Random server nonce: 32 base64 characters after the client's. */
        CHECK(strncmp(sfirst, "r=abc123", 8) == 0);
        CHECK(strchr(sfirst, ',') - sfirst == 8 + 32);
        CHECK_EQ_INT(run(mechs[i], &conf, "n,,", "n=user,r=abc123", "pencil!", &res, NULL, 0),
                     SL_SASL_FAIL);
        CHECK(strcmp(res.err, i ? generic512 : generic256) == 0);
        CHECK(strcmp(res.log, "Invalid client credentials") == 0);
        CHECK(strcmp(res.user, "user") == 0);
    }
    /* Two exchanges get different server nonces. */
    char s2[9000];
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=user,r=x", "pencil", &res, sfirst,
                     sizeof sfirst),
                 SL_SASL_DONE);
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=user,r=x", "pencil", &res, s2,
                     sizeof s2),
                 SL_SASL_DONE);
    CHECK(strcmp(sfirst, s2) != 0);
}

static void test_saslname_escaping(void)
{
    setup();
    struct sl_sasl_conf conf = conf_default();
    struct sl_sasl_result res;
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=a=2Cb=3Dc,r=n1", "secret", &res,
                     NULL, 0),
                 SL_SASL_DONE);
    CHECK(strcmp(res.user, "a,b=c") == 0);
    /* authzid is a saslname too, compared after unescaping. */
    CHECK_EQ_INT(run(&sl_sasl_scram_sha512, &conf, "n,a=a=2Cb=3Dc,", "n=a=2Cb=3Dc,r=n1", "secret",
                     &res, NULL, 0),
                 SL_SASL_DONE);
    /* "=3D2C" is '=' then "2C", not ','. */
    static const char *bad[] = {"n,,n=a=2cb,r=x", "n,,n=a=,r=x", "n,,n=a=4F,r=x", "n,,n=a=2,r=x",
                                "n,,n==,r=x",     "n,,n=,r=x",   "n,a=,n=user,r=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *st = sl_sasl_scram_sha256.start(&conf);
        CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, bad[i], &res), SL_SASL_FAIL);
        CHECK(strcmp(res.err, generic256) == 0);
        CHECK(res.log[0] != '\0');
        CHECK(res.out == NULL);
        sl_sasl_scram_sha256.free(st);
    }
    void *st = sl_sasl_scram_sha256.start(&conf);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "n,,n==3D2C,r=x", &res), SL_SASL_CONTINUE);
    CHECK(strcmp(res.user, "=2C") == 0);
    free(res.out);
    sl_sasl_scram_sha256.free(st);
    /* The length limit applies to the unescaped name: SL_SASL_NAME_MAX
     * characters, the last one escaped, pass; one more does not. */
    static char msg[SL_SASL_MSG_MAX];
    for (int extra = 0; extra <= 1; extra++) {
        int n = snprintf(msg, sizeof msg, "n,,n=");
        for (int i = 0; i < SL_SASL_NAME_MAX - 1 + extra; i++)
            msg[n++] = 'u';
        n += snprintf(msg + n, sizeof msg - (size_t)n, "=2C,r=x");
        st = sl_sasl_scram_sha256.start(&conf);
        enum sl_sasl_step s = step_str(&sl_sasl_scram_sha256, st, msg, &res);
        free(res.out);
        sl_sasl_scram_sha256.free(st);
        CHECK_EQ_INT(s, extra ? SL_SASL_FAIL : SL_SASL_CONTINUE);
        CHECK_EQ_INT(strlen(res.user), extra ? 0 : SL_SASL_NAME_MAX);
        CHECK(extra || res.user[SL_SASL_NAME_MAX - 1] == ',');
    }
}

static void expect_first_fail(const char *msg, size_t len, const char *log_part)
{
    struct sl_sasl_conf conf = conf_default();
    struct sl_sasl_result res;
    void *st = sl_sasl_scram_sha256.start(&conf);
    enum sl_sasl_step s = sl_sasl_scram_sha256.step(st, (const uint8_t *)msg, len, &res);
    sl_sasl_scram_sha256.free(st);
    if (s != SL_SASL_FAIL || strcmp(res.err, generic256) != 0 || res.out != NULL ||
        (log_part && !strstr(res.log, log_part)) || res.log[0] == '\0') {
        fprintf(stderr, "  client-first %.*s: step %d err '%s' log '%s'\n", (int)len, msg, s,
                res.err, res.log);
        test_failed_flag = 1;
    }
}

static void test_malformed_client_first(void)
{
    setup();
#define BAD(m, part) expect_first_fail(m, sizeof(m) - 1, part)
    BAD("", "gs2");
    BAD("n", "gs2");
    BAD("n,", "gs2");
    BAD("x,,n=user,r=abc", "gs2");
    BAD("p=tls-unique,,n=user,r=abc", "channel binding");
    BAD("p=tls-server-end-point,a=user,n=user,r=abc", "channel binding");
    BAD("y,,n=user,r=abc", "gs2 flag y");
    BAD("n,,m=ext,n=user,r=abc", "mandatory");
    BAD("n,,n=user", "nonce");
    BAD("n,,n=user,", "nonce");
    BAD("n,,n=user,r=", "nonce");
    BAD("n,,r=abc", "username");
    BAD("n,,n=user,r=ab c", "extension");
    BAD("n,,n=user,r=abc,", "extension");
    BAD("n,,n=user,r=abc,=x", "extension");
    BAD("n,,n=user,r=abc,1x=y", "extension");
    BAD("n,,n=user,r=abc,tokenauth=", "extension");
    BAD("n,,n=user,r=abc,tokenauth", "extension");
    BAD("n,,n=us\xc3\xa9r,r=abc", "ASCII");
    BAD("n,,n=user,r=ab\x7f", "extension");
    BAD("n,,n=user,r=\xff", "ASCII");
    BAD("n,,n=user,r=abc\0", "ASCII");
    BAD("n,,n=us\0er,r=abc", "ASCII");
    BAD("N,,n=user,r=abc", "gs2");
    BAD("n,,N=user,r=abc", "username");
#undef BAD
    /* A name past SL_SASL_NAME_MAX after unescaping. */
    static char big[SL_SASL_MSG_MAX + 2];
    int n = snprintf(big, sizeof big, "n,,n=");
    for (int i = 0; i < SL_SASL_NAME_MAX + 1; i++)
        big[n++] = 'u';
    n += snprintf(big + n, sizeof big - (size_t)n, ",r=abc");
    expect_first_fail(big, (size_t)n, "username");
    /* Oversized message. */
    memset(big, 'a', sizeof big);
    memcpy(big, "n,,n=user,r=", 12);
    expect_first_fail(big, SL_SASL_MSG_MAX + 1, "exceeds");
    /* Exactly the limit is fine (a long nonce). */
    struct sl_sasl_conf conf = conf_default();
    struct sl_sasl_result res;
    void *st = sl_sasl_scram_sha256.start(&conf);
    CHECK_EQ_INT(sl_sasl_scram_sha256.step(st, (const uint8_t *)big, SL_SASL_MSG_MAX, &res),
                 SL_SASL_CONTINUE);
    free(res.out);
    sl_sasl_scram_sha256.free(st);
    /* NULL with length 0. */
    st = sl_sasl_scram_sha256.start(&conf);
    CHECK_EQ_INT(sl_sasl_scram_sha256.step(st, NULL, 0, &res), SL_SASL_FAIL);
    sl_sasl_scram_sha256.free(st);
}

/* Drives client-first "n,,n=user,r=<RFC cnonce>" with the RFC server nonce,
 * then the given client-final; checks FAIL, the generic text, a log reason
 * containing log_part. */
static void expect_final_fail(const char *final, const char *log_part)
{
    struct sl_sasl_conf conf = conf_default();
    conf._test_server_nonce = RFC_SNONCE;
    struct sl_sasl_result res;
    void *st = sl_sasl_scram_sha256.start(&conf);
    enum sl_sasl_step s = step_str(&sl_sasl_scram_sha256, st, "n,,n=user,r=" RFC_CNONCE, &res);
    free(res.out);
    if (s == SL_SASL_CONTINUE)
        s = step_str(&sl_sasl_scram_sha256, st, final, &res);
    sl_sasl_scram_sha256.free(st);
    if (s != SL_SASL_FAIL || strcmp(res.err, generic256) != 0 || res.out != NULL ||
        !strstr(res.log, log_part)) {
        fprintf(stderr, "  client-final %s: step %d err '%s' log '%s'\n", final, s, res.err,
                res.log);
        test_failed_flag = 1;
    }
}

static void test_malformed_client_final(void)
{
    setup();
#define N RFC_CNONCE RFC_SNONCE
#define P "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    expect_final_fail("", "no proof");
    expect_final_fail("c=biws,r=" N, "no proof");
    expect_final_fail("r=" N ",p=" P, "channel binding");
    expect_final_fail("c=biws,p=" P, "nonce");
    expect_final_fail("c=bi*s,r=" N ",p=" P, "not base64");
    expect_final_fail("c=biw,r=" N ",p=" P, "not base64");
    expect_final_fail("c=,r=" N ",p=" P, "Invalid channel binding");
    expect_final_fail("c=eSws,r=" N ",p=" P, "Invalid channel binding");      /* "y,," */
    expect_final_fail("c=biwsbiws,r=" N ",p=" P, "Invalid channel binding"); /* twice */
    expect_final_fail("c=biws,r=" RFC_CNONCE ",p=" P, "Invalid client nonce");
    expect_final_fail("c=biws,r=" N "x,p=" P, "Invalid client nonce");
    expect_final_fail("c=biws,r=x" N ",p=" P, "Invalid client nonce");
    expect_final_fail("c=biws,r=,p=" P, "bad attribute");
    expect_final_fail("c=biws,r=" N ",p=", "proof");
    expect_final_fail("c=biws,r=" N ",p=dHzb*apWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "base64");
    expect_final_fail("c=biws,r=" N ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ", "base64");
    expect_final_fail("c=biws,r=" N ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7Andw==", "proof");
    expect_final_fail("c=biws,r=" N ",p=" P "AAAA", "proof");
    expect_final_fail("c=biws,r=" N ",p=" P ",x=y", "base64");
    expect_final_fail("c=biws,r=" N ",1=y,p=" P, "bad attribute");
    expect_final_fail("c=biws,r=" N ",p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                      "Invalid client credentials");
    expect_final_fail("c=biws,r=" N ",p=" P "\xc3\xa9", "ASCII");
#undef N
#undef P
}

static void test_final_extensions(void)
{
    /* Extensions before the proof are allowed and covered by the proof,
     * as RFC 5802 writes AuthMessage. A "p=" extension is not the proof:
     * the last one is. */
    setup();
    struct sl_sasl_conf conf = conf_default();
    conf._test_server_nonce = RFC_SNONCE;
    struct sl_sasl_result res;
    const char *wos[] = {"c=biws,r=" RFC_CNONCE RFC_SNONCE ",foo=bar",
                         "c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=AAAA,q=b"};
    for (size_t i = 0; i < 2; i++) {
        void *st = sl_sasl_scram_sha256.start(&conf);
        CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "n,,n=user,r=" RFC_CNONCE, &res),
                     SL_SASL_CONTINUE);
        char sfirst[512], final[1024];
        snprintf(sfirst, sizeof sfirst, "%.*s", (int)res.out_len, (const char *)res.out);
        free(res.out);
        CHECK(client_final(SL_SCRAM_SHA256, "pencil", "n,,", "n=user,r=" RFC_CNONCE, sfirst,
                           wos[i], final, sizeof final));
        CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, final, &res), SL_SASL_DONE);
        free(res.out);
        sl_sasl_scram_sha256.free(st);
    }
}

static void test_client_first_extensions(void)
{
    setup();
    struct sl_sasl_conf conf = conf_default();
    struct sl_sasl_result res;
    /* tokenauth=true: accepted, flagged, otherwise ignored (an ordinary
     * user lookup), and part of client-first-message-bare. */
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=user,r=abc,tokenauth=true", "pencil",
                     &res, NULL, 0),
                 SL_SASL_DONE);
    CHECK(res.flags & SL_SASL_F_TOKENAUTH);
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=user,r=abc,tokenauth=TRUE", "pencil",
                     &res, NULL, 0),
                 SL_SASL_DONE);
    CHECK(res.flags & SL_SASL_F_TOKENAUTH);
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=user,r=abc,tokenauth=false",
                     "pencil", &res, NULL, 0),
                 SL_SASL_DONE);
    CHECK_EQ_INT(res.flags, 0);
    /* Unknown extensions are ignored, as in Kafka. */
    CHECK_EQ_INT(run(&sl_sasl_scram_sha512, &conf, "n,,", "n=user,r=abc,foo=b=ar,Zed=1", "pencil",
                     &res, NULL, 0),
                 SL_SASL_DONE);
    CHECK_EQ_INT(res.flags, 0);
}

static void test_authzid(void)
{
    setup();
    struct sl_sasl_conf conf = conf_default();
    struct sl_sasl_result res;
    /* authzid equal to the user: c= must then be base64("n,a=user,"). */
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,a=user,", "n=user,r=abc", "pencil", &res,
                     NULL, 0),
                 SL_SASL_DONE);
    /* ... and "biws" does not match that header. */
    conf._test_server_nonce = "S";
    void *st = sl_sasl_scram_sha256.start(&conf);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "n,a=user,n=user,r=abc", &res),
                 SL_SASL_CONTINUE);
    char sfirst[256], final[512];
    snprintf(sfirst, sizeof sfirst, "%.*s", (int)res.out_len, (const char *)res.out);
    free(res.out);
    CHECK(client_final(SL_SCRAM_SHA256, "pencil", "n,a=user,", "n=user,r=abc", sfirst,
                       "c=biws,r=abcS", final, sizeof final));
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, final, &res), SL_SASL_FAIL);
    CHECK(strstr(res.log, "channel binding") != NULL);
    sl_sasl_scram_sha256.free(st);
    /* A different authzid: Kafka's own text, for known and unknown users
     * alike (it depends only on the message). */
    const char *users_[] = {"user", "nobody"};
    for (int i = 0; i < 2; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "n,a=admin,n=%s,r=abc", users_[i]);
        st = sl_sasl_scram_sha256.start(&conf);
        CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, msg, &res), SL_SASL_FAIL);
        CHECK(strcmp(res.err, "Authentication failed: Client requested an authorization id "
                              "that is different from username") == 0);
        sl_sasl_scram_sha256.free(st);
    }
}

/* Client-visible transcript of one failed exchange. */
struct seen {
    enum sl_sasl_step first, final;
    char sfirst[512];
    char err[160];
};

static void observe(const struct sl_sasl_mech *m, const char *user, const char *password,
                    struct seen *o)
{
    struct sl_sasl_conf conf = conf_default();
    conf._test_server_nonce = RFC_SNONCE;
    struct sl_sasl_result res;
    char first[128], final[512];
    snprintf(first, sizeof first, "n,,n=%s,r=" RFC_CNONCE, user);
    void *st = m->start(&conf);
    o->first = step_str(m, st, first, &res);
    snprintf(o->sfirst, sizeof o->sfirst, "%.*s", (int)res.out_len, (const char *)res.out);
    free(res.out);
    int mech = m == &sl_sasl_scram_sha512 ? SL_SCRAM_SHA512 : SL_SCRAM_SHA256;
    client_final(mech, password, "n,,", first + 3, o->sfirst, NULL, final, sizeof final);
    o->final = step_str(m, st, final, &res);
    snprintf(o->err, sizeof o->err, "%s", res.err);
    free(res.out);
    m->free(st);
}

/* Shape of a server-first message: r= length, salt length, iterations. */
static void shape(const char *sfirst, char *out, size_t cap)
{
    char r[256], s[256], i[32];
    if (!attr(sfirst, 'r', r, sizeof r) || !attr(sfirst, 's', s, sizeof s) ||
        !attr(sfirst, 'i', i, sizeof i)) {
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out, cap, "%zu/%zu/%s", strlen(r), strlen(s), i);
}

static void test_unknown_user_like_wrong_password(void)
{
    setup();
    /* Real salts in this test are 32 random bytes (sl_scram_make_cred), as
     * the made-up ones are. */
    CHECK(sl_scram_make_cred(SL_SCRAM_SHA256, "pencil", 4096, &users[0].c256) == 0);
    const struct sl_sasl_mech *mechs[] = {&sl_sasl_scram_sha256, &sl_sasl_scram_sha512};
    for (int m = 0; m < 2; m++) {
        struct seen wrong, unknown, unknown2, other;
        observe(mechs[m], "user", "not-pencil", &wrong);
        observe(mechs[m], "nobody", "whatever", &unknown);
        observe(mechs[m], "nobody", "whatever", &unknown2);
        observe(mechs[m], "nobody2", "whatever", &other);
        CHECK_EQ_INT(wrong.first, SL_SASL_CONTINUE);
        CHECK_EQ_INT(unknown.first, SL_SASL_CONTINUE);
        CHECK_EQ_INT(wrong.final, SL_SASL_FAIL);
        CHECK_EQ_INT(unknown.final, SL_SASL_FAIL);
        CHECK(strcmp(wrong.err, unknown.err) == 0);
        CHECK(strcmp(wrong.err, m ? generic512 : generic256) == 0);
        char a[64], b[64];
        shape(wrong.sfirst, a, sizeof a);
        shape(unknown.sfirst, b, sizeof b);
        CHECK(strcmp(a, b) == 0);
        /* The made-up salt is stable per user and differs between users. */
        CHECK(strcmp(unknown.sfirst, unknown2.sfirst) == 0);
        CHECK(strcmp(unknown.sfirst, other.sfirst) != 0);
    }
    /* ... and per mechanism, as two real credentials would be. */
    struct seen u256, u512;
    observe(&sl_sasl_scram_sha256, "nobody", "x", &u256);
    observe(&sl_sasl_scram_sha512, "nobody", "x", &u512);
    CHECK(strcmp(u256.sfirst, u512.sfirst) != 0);
    /* The announced iterations follow fake_iterations. */
    struct sl_sasl_conf conf = conf_default();
    conf.fake_iterations = 8192;
    struct sl_sasl_result res;
    void *st = sl_sasl_scram_sha256.start(&conf);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "n,,n=nobody,r=x", &res), SL_SASL_CONTINUE);
    CHECK(res.out_len > 7 && memcmp(res.out + res.out_len - 7, ",i=8192", 7) == 0);
    free(res.out);
    sl_sasl_scram_sha256.free(st);
    /* No lookup function at all behaves the same. */
    conf.lookup = NULL;
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=user,r=x", "pencil", &res, NULL, 0),
                 SL_SASL_FAIL);
    CHECK(strcmp(res.err, generic256) == 0);
}

static void test_stored_iterations_out_of_range(void)
{
    setup();
    struct sl_sasl_conf conf = conf_default();
    struct sl_sasl_result res;
    char sfirst[512];
    int32_t bad[] = {1, 4095, 16385, 1000000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* A credential that is right for the password but stored with an
         * iteration count out of bounds: refused, like an unknown user. */
        users[0].c256.iterations = bad[i];
        CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=user,r=x", "pencil", &res,
                         sfirst, sizeof sfirst),
                     SL_SASL_FAIL);
        CHECK(strcmp(res.err, generic256) == 0);
        CHECK(strstr(res.log, "Iterations") != NULL);
        CHECK(strstr(sfirst, ",i=4096") != NULL);
    }
    /* Bounds of the credential helpers. */
    struct sl_scram_cred c;
    CHECK(sl_scram_make_cred(SL_SCRAM_SHA256, "pw", 4095, &c) == -1);
    CHECK(sl_scram_make_cred(SL_SCRAM_SHA256, "pw", 16385, &c) == -1);
    CHECK(sl_scram_make_cred(SL_SCRAM_SHA512, "pw", 16384, &c) == 0);
    CHECK_EQ_INT(c.iterations, 16384);
    CHECK_EQ_INT(c.salt_len, 32);
    CHECK(sl_scram_make_cred(SL_SCRAM_UNKNOWN, "pw", 4096, &c) == -1);
    /* A credential of the wrong mechanism from the lookup is not used. */
    setup();
    users[0].c256 = users[0].c512;
    CHECK_EQ_INT(run(&sl_sasl_scram_sha256, &conf, "n,,", "n=user,r=x", "pencil", &res, NULL, 0),
                 SL_SASL_FAIL);
    CHECK(strstr(res.log, "invalid") != NULL);
}

static void test_cred_helpers(void)
{
    uint8_t salt[20], salted[64];
    for (int i = 0; i < 20; i++)
        salt[i] = (uint8_t)i;
    for (int mech = SL_SCRAM_SHA256; mech <= SL_SCRAM_SHA512; mech++) {
        size_t k = sl_scram_key_len(mech);
        struct sl_scram_cred a, b;
        CHECK(sl_scram_cred_from_password(mech, "pässword", strlen("pässword"), salt, 20, 5000,
                                          &a) == 0);
        /* What AlterUserScramCredentials sends: Hi() computed by the client. */
        CHECK(PKCS5_PBKDF2_HMAC("pässword", (int)strlen("pässword"), salt, 20, 5000, md_of(mech),
                                (int)k, salted) == 1);
        CHECK(sl_scram_cred_from_salted(mech, salt, 20, salted, k, 5000, &b) == 0);
        CHECK(memcmp(&a, &b, sizeof a) == 0);
        CHECK(sl_scram_check_password(&a, "pässword", strlen("pässword")) == 0);
        CHECK(sl_scram_check_password(&a, "password", 8) == -1);
        CHECK(sl_scram_check_password(&a, "", 0) == -1);
        CHECK(sl_scram_cred_from_salted(mech, salt, 20, salted, k - 1, 5000, &b) == -1);
        CHECK(sl_scram_cred_from_salted(mech, salt, 0, salted, k, 5000, &b) == -1);
        CHECK(sl_scram_cred_from_salted(mech, salt, SL_SCRAM_SALT_MAX + 1, salted, k, 5000,
                                        &b) == -1);
        CHECK(sl_scram_cred_from_salted(mech, salt, 20, salted, k, 4095, &b) == -1);
        /* Made-up credentials: deterministic per secret, user, mechanism. */
        uint8_t secret[32] = {1};
        struct sl_scram_cred f1, f2;
        CHECK(sl_scram_fake_cred(mech, secret, "x", 0, &f1) == 0);
        CHECK(sl_scram_fake_cred(mech, secret, "x", 0, &f2) == 0);
        CHECK(memcmp(&f1, &f2, sizeof f1) == 0);
        CHECK_EQ_INT(f1.iterations, SL_SCRAM_DEFAULT_ITERATIONS);
        CHECK_EQ_INT(f1.salt_len, 32);
        secret[0] = 2;
        CHECK(sl_scram_fake_cred(mech, secret, "x", 100000, &f2) == 0);
        CHECK(memcmp(f1.salt, f2.salt, 32) != 0);
        CHECK_EQ_INT(f2.iterations, SL_SCRAM_MAX_ITERATIONS);
    }
    CHECK(sl_scram_mech_from_name("SCRAM-SHA-256") == SL_SCRAM_SHA256);
    CHECK(sl_scram_mech_from_name("SCRAM-SHA-512") == SL_SCRAM_SHA512);
    CHECK(sl_scram_mech_from_name("scram-sha-512") == SL_SCRAM_UNKNOWN);
    CHECK(sl_scram_mech_name(3) == NULL);
}

static void test_mech_find_and_reauth_text(void)
{
    CHECK(sl_sasl_mech_find("PLAIN") == &sl_sasl_plain);
    CHECK(sl_sasl_mech_find("SCRAM-SHA-256") == &sl_sasl_scram_sha256);
    CHECK(sl_sasl_mech_find("SCRAM-SHA-512") == &sl_sasl_scram_sha512);
    CHECK(sl_sasl_mech_find("scram-sha-256") == NULL);
    CHECK(sl_sasl_mech_find("GSSAPI") == NULL);
    CHECK(sl_sasl_mech_find("") == NULL);
    setup();
    struct sl_sasl_conf conf = conf_default();
    conf.reauth = true;
    struct sl_sasl_result res;
    CHECK_EQ_INT(run(&sl_sasl_scram_sha512, &conf, "n,,", "n=user,r=x", "wrong", &res, NULL, 0),
                 SL_SASL_FAIL);
    CHECK(strcmp(res.err, "Authentication failed during re-authentication due to invalid "
                          "credentials with SASL mechanism SCRAM-SHA-512") == 0);
    /* A failed exchange stays failed. */
    void *st = sl_sasl_scram_sha256.start(&conf);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "bogus", &res), SL_SASL_FAIL);
    CHECK_EQ_INT(step_str(&sl_sasl_scram_sha256, st, "n,,n=user,r=x", &res), SL_SASL_FAIL);
    sl_sasl_scram_sha256.free(st);
    sl_sasl_scram_sha256.free(NULL);
}

int main(void)
{
    TEST_RUN(test_rfc7677_sha256);
    TEST_RUN(test_sha512_vector);
    TEST_RUN(test_librdkafka_legacy_nonce);
    TEST_RUN(test_round_trips);
    TEST_RUN(test_saslname_escaping);
    TEST_RUN(test_malformed_client_first);
    TEST_RUN(test_malformed_client_final);
    TEST_RUN(test_final_extensions);
    TEST_RUN(test_client_first_extensions);
    TEST_RUN(test_authzid);
    TEST_RUN(test_unknown_user_like_wrong_password);
    TEST_RUN(test_stored_iterations_out_of_range);
    TEST_RUN(test_cred_helpers);
    TEST_RUN(test_mech_find_and_reauth_text);
    TEST_REPORT();
}
