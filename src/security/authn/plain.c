/* SPDX-License-Identifier: Apache-2.0
 *
 * Server side of SASL PLAIN (RFC 4616) as Kafka's PlainSaslServer reads it:
 * one client message "authzid NUL authcid NUL passwd", an empty answer.
 *
 * The password is checked against the user's stored SCRAM credential (the
 * SCRAM-SHA-512 one when the user has it, else SCRAM-SHA-256): PBKDF2 with
 * the stored salt and iterations, then StoredKey = H(HMAC(SaltedPassword,
 * "Client Key")) compared in constant time. There is no separate PLAIN
 * password store. A user without a usable credential costs the same PBKDF2
 * on a made-up credential (sl_scram_fake_cred) and fails with the same text
 * as a wrong password.
 *
 * Kafka's checks and texts, in Kafka's order:
 *   empty username / empty password  generic SaslException text
 *   password does not verify         "Authentication failed: Invalid username or password"
 *   authzid non-empty, != username   "Authentication failed: Client requested an
 *                                     authorization id that is different from username"
 * (the authzid is checked only after the password, so it reveals nothing).
 * Stricter than Kafka: a third NUL (Kafka silently cuts the password
 * there), invalid UTF-8 (Kafka decodes it to U+FFFD), and fields longer
 * than SL_SASL_NAME_MAX / SL_SASL_PASSWORD_MAX fail with the generic text.
 * No SASLprep, as in Kafka. Only offer PLAIN over TLS.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/mem.h"
#include "security/authn/sasl_mech.h"
#include "security/authn/scram.h"

struct plain_st {
    sl_sasl_lookup_fn lookup;
    void *lookup_arg;
    uint8_t fake_secret[32];
    int32_t fake_iterations;
    bool reauth;
    bool done; /* one message only */
};

static void *plain_start(const struct sl_sasl_conf *conf)
{
    struct plain_st *st = sl_xcalloc(1, sizeof *st);
    st->lookup = conf->lookup;
    st->lookup_arg = conf->lookup_arg;
    memcpy(st->fake_secret, conf->fake_secret, sizeof st->fake_secret);
    st->fake_iterations = conf->fake_iterations;
    st->reauth = conf->reauth;
    return st;
}

static void plain_free(void *arg)
{
    struct plain_st *st = arg;
    if (!st)
        return;
    OPENSSL_cleanse(st, sizeof *st);
    free(st);
}

/* Fails the exchange: client_msg is Kafka's SaslAuthenticationException
 * text, or NULL for the generic SaslException text; fmt is the log reason. */
__attribute__((format(printf, 4, 5))) static enum sl_sasl_step
fail(const struct plain_st *st, struct sl_sasl_result *res, const char *client_msg,
     const char *fmt, ...)
{
    va_list ap;
    if (client_msg)
        snprintf(res->err, sizeof res->err, "%s", client_msg);
    else
        snprintf(res->err, sizeof res->err, SL_SASL_GENERIC_FAIL_FMT,
                 st->reauth ? "re-authentication" : "authentication", "PLAIN");
    va_start(ap, fmt);
    if (vsnprintf(res->log, sizeof res->log, fmt, ap) < 0)
        res->log[0] = '\0';
    va_end(ap);
    return SL_SASL_FAIL;
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or values past
 * U+10FFFF). */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1fu, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0fu, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Finds the user's credential, preferring SCRAM-SHA-512. Returns 0 with a
 * usable credential in *cred, -1 (log reason in why) otherwise. */
static int find_cred(const struct plain_st *st, const char *user, struct sl_scram_cred *cred,
                     const char **why)
{
    static const int order[] = {SL_SCRAM_SHA512, SL_SCRAM_SHA256};
    *why = "no SCRAM credential";
    if (!st->lookup)
        return -1;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (st->lookup(st->lookup_arg, user, order[i], cred) != 0)
            continue;
        if (cred->mech != order[i] || cred->salt_len == 0 ||
            cred->salt_len > SL_SCRAM_SALT_MAX || cred->iterations < SL_SCRAM_MIN_ITERATIONS ||
            cred->iterations > SL_SCRAM_MAX_ITERATIONS) {
            *why = "stored SCRAM credential is invalid (mechanism, salt or iterations)";
            return -1;
        }
        return 0;
    }
    return -1;
}

static enum sl_sasl_step plain_step(void *arg, const uint8_t *in, size_t inlen,
                                    struct sl_sasl_result *res)
{
    struct plain_st *st = arg;
    memset(res, 0, sizeof *res);
    if (st->done)
        return fail(st, res, NULL, "PLAIN takes one message; exchange already over");
    st->done = true;
    if (inlen > SL_SASL_MSG_MAX)
        return fail(st, res, NULL, "PLAIN message of %zu bytes exceeds %d", inlen,
                    SL_SASL_MSG_MAX);
    if (!in)
        in = (const uint8_t *)"";

    /* authzid NUL authcid NUL passwd. With fewer NULs Kafka sees an empty
     * username or password; with more it cuts the password: refused here. */
    const uint8_t *nul1 = memchr(in, 0, inlen);
    const uint8_t *nul2 = nul1 ? memchr(nul1 + 1, 0, inlen - (size_t)(nul1 + 1 - in)) : NULL;
    if (!nul1)
        return fail(st, res, NULL, "Authentication failed: username not specified (no NUL)");
    const uint8_t *authzid = in, *authcid = nul1 + 1;
    size_t authzid_len = (size_t)(nul1 - in);
    size_t authcid_len = nul2 ? (size_t)(nul2 - authcid) : inlen - (size_t)(authcid - in);
    if (authcid_len == 0)
        return fail(st, res, NULL, "Authentication failed: username not specified");
    if (!nul2)
        return fail(st, res, NULL, "Authentication failed: password not specified (one NUL)");
    const uint8_t *passwd = nul2 + 1;
    size_t passwd_len = inlen - (size_t)(passwd - in);
    if (passwd_len == 0)
        return fail(st, res, NULL, "Authentication failed: password not specified");
    if (memchr(passwd, 0, passwd_len))
        return fail(st, res, NULL, "Invalid SASL/PLAIN response: more than 3 tokens");
    if (authcid_len > SL_SASL_NAME_MAX || authzid_len > SL_SASL_NAME_MAX)
        return fail(st, res, NULL, "PLAIN username or authzid longer than %d bytes",
                    SL_SASL_NAME_MAX);
    if (passwd_len > SL_SASL_PASSWORD_MAX)
        return fail(st, res, NULL, "PLAIN password longer than %d bytes", SL_SASL_PASSWORD_MAX);
    if (!utf8_valid(authzid, authzid_len) || !utf8_valid(authcid, authcid_len) ||
        !utf8_valid(passwd, passwd_len))
        return fail(st, res, NULL, "Invalid SASL/PLAIN response: not UTF-8");

    memcpy(res->user, authcid, authcid_len);
    res->user[authcid_len] = '\0';

    /* The same PBKDF2 work whether or not the user exists. */
    struct sl_scram_cred cred;
    const char *why = NULL;
    bool real = find_cred(st, res->user, &cred, &why) == 0;
    if (!real && sl_scram_fake_cred(SL_SCRAM_SHA512, st->fake_secret, res->user,
                                    st->fake_iterations, &cred) != 0) {
        OPENSSL_cleanse(&cred, sizeof cred);
        return fail(st, res,
                    "Authentication failed: credentials for user could not be verified",
                    "made-up credential could not be computed");
    }
    bool ok = sl_scram_check_password(&cred, (const char *)passwd, passwd_len) == 0;
    OPENSSL_cleanse(&cred, sizeof cred);
    if (!ok || !real)
        return fail(st, res, "Authentication failed: Invalid username or password", "%s",
                    real ? "wrong password" : why);
    if (authzid_len && (authzid_len != authcid_len || memcmp(authzid, authcid, authcid_len) != 0))
        return fail(st, res,
                    "Authentication failed: Client requested an authorization id that is "
                    "different from username",
                    "authzid differs from username");
    return SL_SASL_DONE; /* empty answer: out stays NULL */
}

const struct sl_sasl_mech sl_sasl_plain = {
    .name = "PLAIN",
    .slow = true,
    .start = plain_start,
    .step = plain_step,
    .free = plain_free,
};
