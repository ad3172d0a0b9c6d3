/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the SASL client side (src/security/authn/sasl_client.c):
 * the RFC 7677 SCRAM-SHA-256 example byte for byte (client-first,
 * client-final with its proof, the server signature accepted), a wrong
 * server signature and hostile server-first messages refused, PLAIN's
 * message, and full exchanges against the broker's own SCRAM server.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "security/authn/sasl_client.h"
#include "security/authn/sasl_mech.h"
#include "security/authn/scram.h"
#include "test_help.h"

#define RFC_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_FIRST                                                                           \
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CLIENT_FINAL                                                                           \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgs" \
    "qmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static bool out_is(const uint8_t *out, size_t n, const char *want)
{
    return out && n == strlen(want) && memcmp(out, want, n) == 0;
}

static enum sl_sasl_step step_str(struct sl_sasl_client *c, const char *in, uint8_t **out,
                                  size_t *n, char *err)
{
    return sl_sasl_client_step(c, (const uint8_t *)in, in ? strlen(in) : 0, out, n, err, 256);
}

static void test_rfc7677_vector(void)
{
    char err[256];
    uint8_t *out;
    size_t n;
    struct sl_sasl_client *c =
        sl_sasl_client_new("SCRAM-SHA-256", "user", "pencil", RFC_CNONCE, err, sizeof err);
    CHECK(c);
    CHECK_EQ_INT(step_str(c, NULL, &out, &n, err), SL_SASL_CONTINUE);
    CHECK(out_is(out, n, "n,,n=user,r=" RFC_CNONCE));
    free(out);
    CHECK_EQ_INT(step_str(c, RFC_SERVER_FIRST, &out, &n, err), SL_SASL_CONTINUE);
    CHECK(out_is(out, n, RFC_CLIENT_FINAL));
    free(out);
    CHECK_EQ_INT(step_str(c, RFC_SERVER_FINAL, &out, &n, err), SL_SASL_DONE);
    CHECK(out == NULL);
    /* Over: anything more fails. */
    CHECK_EQ_INT(step_str(c, RFC_SERVER_FINAL, &out, &n, err), SL_SASL_FAIL);
    sl_sasl_client_free(c);
}

static void test_wrong_server_signature(void)
{
    char err[256];
    uint8_t *out;
    size_t n;
    struct sl_sasl_client *c =
        sl_sasl_client_new("SCRAM-SHA-256", "user", "pencil", RFC_CNONCE, err, sizeof err);
    CHECK(c);
    step_str(c, NULL, &out, &n, err);
    free(out);
    step_str(c, RFC_SERVER_FIRST, &out, &n, err);
    free(out);
    /* The first byte of the signature changed. */
    CHECK_EQ_INT(step_str(c, "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", &out, &n, err),
                 SL_SASL_FAIL);
    CHECK(strstr(err, "signature") != NULL);
    sl_sasl_client_free(c);
    /* A server error instead of the signature. */
    c = sl_sasl_client_new("SCRAM-SHA-256", "user", "pencil", RFC_CNONCE, err, sizeof err);
    step_str(c, NULL, &out, &n, err);
    free(out);
    step_str(c, RFC_SERVER_FIRST, &out, &n, err);
    free(out);
    CHECK_EQ_INT(step_str(c, "e=invalid-proof", &out, &n, err), SL_SASL_FAIL);
    sl_sasl_client_free(c);
}

static void test_hostile_server_first(void)
{
    static const char *const bad[] = {
        "",
        "r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",    /* nonce not extended */
        "r=" RFC_CNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  /* nonce not longer */
        "r=" RFC_CNONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",  /* bad base64 */
        "r=" RFC_CNONCE "x,s=,i=4096",                         /* empty salt */
        "r=" RFC_CNONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095", /* too few iterations */
        "r=" RFC_CNONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999", /* too many */
        "r=" RFC_CNONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4k",   /* not a number */
        "r=" RFC_CNONCE "x,s=W22ZaJ0SNY7soEsUEjb6gQ==",        /* no i= */
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" RFC_CNONCE "x,i=4096", /* r= not first */
        "e=unknown-user",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256];
        uint8_t *out;
        size_t n;
        struct sl_sasl_client *c =
            sl_sasl_client_new("SCRAM-SHA-512", "user", "pencil", RFC_CNONCE, err, sizeof err);
        CHECK(c);
        step_str(c, NULL, &out, &n, err);
        free(out);
        enum sl_sasl_step st = step_str(c, bad[i], &out, &n, err);
        sl_sasl_client_free(c);
        if (st != SL_SASL_FAIL || out != NULL || !err[0]) {
            fprintf(stderr, "  accepted: %s\n", bad[i]);
            CHECK(!"hostile server-first accepted");
        }
    }
}

static void test_plain_and_bad_args(void)
{
    char err[256];
    uint8_t *out;
    size_t n;
    struct sl_sasl_client *c = sl_sasl_client_new("PLAIN", "alice", "s3cret", NULL, err, sizeof err);
    CHECK(c);
    CHECK_EQ_INT(step_str(c, NULL, &out, &n, err), SL_SASL_CONTINUE);
    CHECK(n == 13 && memcmp(out, "\0alice\0s3cret", 13) == 0);
    free(out);
    CHECK_EQ_INT(step_str(c, "", &out, &n, err), SL_SASL_DONE);
    sl_sasl_client_free(c);
    CHECK(sl_sasl_client_new("GSSAPI", "a", "b", NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "GSSAPI") != NULL);
    CHECK(sl_sasl_client_new("PLAIN", "", "b", NULL, err, sizeof err) == NULL);
    CHECK(sl_sasl_client_new("SCRAM-SHA-256", "a", "", NULL, err, sizeof err) == NULL);
}

/* Against the broker's SCRAM server: a user whose name needs escaping. */
static struct sl_scram_cred server_cred;

static int lookup(void *arg, const char *user, int mech, struct sl_scram_cred *out)
{
    (void)arg;
    if (strcmp(user, "we,ird=name") != 0 || mech != server_cred.mech)
        return -1;
    *out = server_cred;
    return 0;
}

static int exchange(int mech, const char *client_pw)
{
    struct sl_sasl_conf conf = {.lookup = lookup};
    const struct sl_sasl_mech *sm = mech == SL_SCRAM_SHA256 ? &sl_sasl_scram_sha256
                                                            : &sl_sasl_scram_sha512;
    char err[256];
    struct sl_sasl_client *c = sl_sasl_client_new(sl_scram_mech_name(mech), "we,ird=name",
                                                  client_pw, NULL, err, sizeof err);
    void *st = sm->start(&conf);
    uint8_t *in = NULL, *out = NULL;
    size_t inlen = 0, outlen = 0;
    int result = -1;
    for (int round = 0; round < 4; round++) {
        enum sl_sasl_step cs = sl_sasl_client_step(c, in, inlen, &out, &outlen, err, sizeof err);
        free(in);
        in = NULL;
        if (cs == SL_SASL_DONE) {
            result = 0;
            break;
        }
        if (cs == SL_SASL_FAIL)
            break;
        struct sl_sasl_result res;
        enum sl_sasl_step ss = sm->step(st, out, outlen, &res);
        free(out);
        out = NULL;
        if (ss == SL_SASL_FAIL)
            break;
        in = res.out;
        inlen = res.out_len;
    }
    free(in);
    free(out);
    sm->free(st);
    sl_sasl_client_free(c);
    return result;
}

static void test_against_server(void)
{
    for (int mech = SL_SCRAM_SHA256; mech < SL_SCRAM_MECH_MAX; mech++) {
        CHECK_EQ_INT(sl_scram_make_cred(mech, "correct horse", 4096, &server_cred), 0);
        CHECK_EQ_INT(exchange(mech, "correct horse"), 0);
        CHECK_EQ_INT(exchange(mech, "wrong horse"), -1);
    }
}

/* The admin path: Hi() computed client side gives the same credential. */
static void test_salted_password_matches_cred(void)
{
    static const uint8_t salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t salted[SL_SCRAM_KEY_MAX];
    struct sl_scram_cred a, b;
    CHECK_EQ_INT(sl_scram_salted_password(SL_SCRAM_SHA512, "pw", 2, salt, 8, 4096, salted), 0);
    CHECK_EQ_INT(sl_scram_cred_from_salted(SL_SCRAM_SHA512, salt, 8, salted, 64, 4096, &a), 0);
    CHECK_EQ_INT(sl_scram_cred_from_password(SL_SCRAM_SHA512, "pw", 2, salt, 8, 4096, &b), 0);
    CHECK(memcmp(a.stored_key, b.stored_key, 64) == 0);
    CHECK(memcmp(a.server_key, b.server_key, 64) == 0);
    CHECK_EQ_INT(sl_scram_salted_password(SL_SCRAM_UNKNOWN, "pw", 2, salt, 8, 4096, salted), -1);
}

int main(void)
{
    TEST_RUN(test_rfc7677_vector);
    TEST_RUN(test_wrong_server_signature);
    TEST_RUN(test_hostile_server_first);
    TEST_RUN(test_plain_and_bad_args);
    TEST_RUN(test_against_server);
    TEST_RUN(test_salted_password_matches_cred);
    TEST_REPORT();
}
