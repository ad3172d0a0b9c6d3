/* SPDX-License-Identifier: Apache-2.0
 *
 * Client side of PLAIN and SCRAM-SHA-256/512 (see sasl_client.h). The
 * SCRAM messages, as Kafka's ScramSaslClient writes and expects them:
 *
 *   client-first  n,,n=<saslname>,r=<cnonce>
 *   server-first  r=<cnonce><snonce>,s=<base64 salt>,i=<iterations>[,<ext>...]
 *   client-final  c=biws,r=<cnonce><snonce>,p=<base64 ClientProof>
 *   server-final  v=<base64 ServerSignature>   (or e=<error>)
 *
 * The server's messages are untrusted: every attribute is bounded and
 * checked before use, and the PBKDF2 cost it can ask for is capped.
 */
#include "security/authn/sasl_client.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/mem.h"
#include "security/authn/scram.h"

enum cstate {
    CST_FIRST = 0, /* nothing sent yet */
    CST_SERVER_FIRST, /* client-first (SCRAM) or the PLAIN message sent */
    CST_SERVER_FINAL, /* client-final sent */
    CST_END,
    CST_MAX
};

/* Client nonce: 24 random bytes in base64 (32 characters, no ','). */
#define CNONCE_BYTES 24
#define CNONCE_MAX 64

struct sl_sasl_client {
    int mech; /* SL_SCRAM_*; SL_SCRAM_UNKNOWN for PLAIN */
    enum cstate state;
    char *user, *password;
    char cnonce[CNONCE_MAX + 1];
    char *client_first_bare; /* n=...,r=... */
    uint8_t server_sig[SL_SCRAM_KEY_MAX];
};

static enum sl_sasl_step fail(struct sl_sasl_client *c, char *err, size_t errlen, const char *why)
{
    c->state = CST_END;
    snprintf(err, errlen, "%s", why);
    return SL_SASL_FAIL;
}

struct sl_sasl_client *sl_sasl_client_new(const char *mech, const char *user,
                                          const char *password, const char *test_nonce,
                                          char *err, size_t errlen)
{
    int m = SL_SCRAM_UNKNOWN;
    if (strcmp(mech, "PLAIN") != 0 && (m = sl_scram_mech_from_name(mech)) == SL_SCRAM_UNKNOWN) {
        snprintf(err, errlen, "unsupported SASL mechanism '%.40s' (PLAIN, SCRAM-SHA-256 and "
                              "SCRAM-SHA-512 are)", mech);
        return NULL;
    }
    size_t ul = strlen(user), pl = strlen(password);
    if (ul == 0 || ul > SL_SASL_NAME_MAX || pl == 0 || pl > SL_SASL_PASSWORD_MAX) {
        snprintf(err, errlen, "the SASL user name and password must be 1 to %d bytes",
                 SL_SASL_NAME_MAX);
        return NULL;
    }
    if (test_nonce && (strlen(test_nonce) == 0 || strlen(test_nonce) > CNONCE_MAX)) {
        snprintf(err, errlen, "bad test nonce");
        return NULL;
    }
    struct sl_sasl_client *c = sl_xcalloc(1, sizeof *c);
    c->mech = m;
    c->user = sl_xstrdup(user);
    c->password = sl_xstrdup(password);
    if (test_nonce) {
        snprintf(c->cnonce, sizeof c->cnonce, "%s", test_nonce);
    } else if (m != SL_SCRAM_UNKNOWN) {
        uint8_t rnd[CNONCE_BYTES];
        if (RAND_bytes(rnd, sizeof rnd) != 1) {
            snprintf(err, errlen, "no random bytes for the SCRAM nonce");
            sl_sasl_client_free(c);
            return NULL;
        }
        sl_scram_b64_encode(rnd, sizeof rnd, c->cnonce);
    }
    return c;
}

void sl_sasl_client_free(struct sl_sasl_client *c)
{
    if (!c)
        return;
    OPENSSL_cleanse(c->password, strlen(c->password));
    free(c->password);
    free(c->user);
    free(c->client_first_bare);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

/* PLAIN: authzid (empty) NUL user NUL password. */
static enum sl_sasl_step plain_step(struct sl_sasl_client *c, uint8_t **out, size_t *outlen,
                                    char *err, size_t errlen)
{
    if (c->state == CST_SERVER_FIRST) {
        c->state = CST_END; /* the server's (empty) answer: authenticated */
        return SL_SASL_DONE;
    }
    if (c->state != CST_FIRST)
        return fail(c, err, errlen, "SASL PLAIN: unexpected server message");
    size_t ul = strlen(c->user), pl = strlen(c->password);
    uint8_t *m = sl_xmalloc(ul + pl + 2);
    m[0] = 0;
    memcpy(m + 1, c->user, ul);
    m[1 + ul] = 0;
    memcpy(m + 2 + ul, c->password, pl);
    *out = m;
    *outlen = ul + pl + 2;
    c->state = CST_SERVER_FIRST;
    return SL_SASL_CONTINUE;
}

/* "n=" + saslname (with , as =2C and = as =3D) + ",r=" + cnonce; new memory. */
static char *client_first_bare(const struct sl_sasl_client *c)
{
    size_t ul = strlen(c->user);
    char *s = sl_xmalloc(ul * 3 + strlen(c->cnonce) + 8), *o = s;
    o += sprintf(o, "n=");
    for (size_t i = 0; i < ul; i++) {
        if (c->user[i] == ',')
            o += sprintf(o, "=2C");
        else if (c->user[i] == '=')
            o += sprintf(o, "=3D");
        else
            *o++ = c->user[i];
    }
    sprintf(o, ",r=%s", c->cnonce);
    return s;
}

/* Finds attribute `k=` (k a letter) at the start of one of the
 * comma-separated parts of msg[0..n); sets *v and *vl to its value. */
static bool attr(const char *msg, size_t n, char k, const char **v, size_t *vl)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && msg[j] != ',')
            j++;
        if (j - i >= 2 && msg[i] == k && msg[i + 1] == '=') {
            *v = msg + i + 2;
            *vl = j - i - 2;
            return true;
        }
        i = j + 1;
    }
    return false;
}

static bool printable_no_comma(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
            return false;
    return true;
}

/* Builds client-final from server-first; remembers the expected server
 * signature. */
static enum sl_sasl_step client_final(struct sl_sasl_client *c, const uint8_t *in, size_t inlen,
                                      uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
    const char *msg = (const char *)in, *nonce, *salt64, *iter;
    size_t nl, sl, il;
    if (!in || inlen == 0 || inlen > SL_SASL_MSG_MAX || memchr(in, 0, inlen))
        return fail(c, err, errlen, "SCRAM: empty, overlong or binary server-first message");
    if (inlen >= 2 && msg[0] == 'e' && msg[1] == '=')
        return fail(c, err, errlen, "SCRAM: the server refused the client-first message");
    if (inlen < 2 || msg[0] != 'r' || msg[1] != '=' || !attr(msg, inlen, 'r', &nonce, &nl) ||
        !attr(msg, inlen, 's', &salt64, &sl) || !attr(msg, inlen, 'i', &iter, &il))
        return fail(c, err, errlen, "SCRAM: malformed server-first message");
    size_t cl = strlen(c->cnonce);
    if (nl <= cl || memcmp(nonce, c->cnonce, cl) != 0 || !printable_no_comma(nonce, nl))
        return fail(c, err, errlen, "SCRAM: the server nonce does not extend the client nonce");
    uint8_t salt[SL_SCRAM_SALT_MAX];
    long saltn = sl_scram_b64_decode(salt64, sl, salt, sizeof salt);
    if (saltn < 1)
        return fail(c, err, errlen, "SCRAM: bad salt in server-first message");
    long it = 0;
    for (size_t i = 0; i < il; i++) {
        if (iter[i] < '0' || iter[i] > '9' || it > SL_SASL_CLIENT_MAX_ITER)
            return fail(c, err, errlen, "SCRAM: bad iteration count in server-first message");
        it = it * 10 + (iter[i] - '0');
    }
    if (il == 0 || it < SL_SCRAM_MIN_ITERATIONS || it > SL_SASL_CLIENT_MAX_ITER)
        return fail(c, err, errlen, "SCRAM: the server's iteration count is out of bounds");

    int m = c->mech;
    size_t kl = sl_scram_key_len(m);
    uint8_t salted[SL_SCRAM_KEY_MAX], ckey[SL_SCRAM_KEY_MAX], stored[SL_SCRAM_KEY_MAX],
        csig[SL_SCRAM_KEY_MAX], skey[SL_SCRAM_KEY_MAX];
    /* client-final-without-proof and AuthMessage */
    size_t wl = 9 + nl; /* "c=biws,r=" + nonce */
    char *without = sl_xmalloc(wl + 1);
    snprintf(without, wl + 1, "c=biws,r=%.*s", (int)nl, nonce);
    size_t bl = strlen(c->client_first_bare);
    size_t al = bl + 1 + inlen + 1 + wl;
    char *auth = sl_xmalloc(al + 1);
    snprintf(auth, al + 1, "%s,%.*s,%s", c->client_first_bare, (int)inlen, msg, without);
    enum sl_sasl_step rc = SL_SASL_FAIL;
    if (sl_scram_salted_password(m, c->password, strlen(c->password), salt, (size_t)saltn,
                                 (int32_t)it, salted) != 0 ||
        sl_scram_hmac(m, salted, kl, "Client Key", 10, ckey) != 0 ||
        sl_scram_hash(m, ckey, kl, stored) != 0 ||
        sl_scram_hmac(m, stored, kl, auth, al, csig) != 0 ||
        sl_scram_hmac(m, salted, kl, "Server Key", 10, skey) != 0 ||
        sl_scram_hmac(m, skey, kl, auth, al, c->server_sig) != 0) {
        fail(c, err, errlen, "SCRAM: key derivation failed");
        goto out;
    }
    for (size_t i = 0; i < kl; i++)
        ckey[i] ^= csig[i]; /* ClientProof */
    size_t fl = wl + 3 + (kl + 2) / 3 * 4;
    char *final = sl_xmalloc(fl + 1);
    memcpy(final, without, wl);
    memcpy(final + wl, ",p=", 3);
    sl_scram_b64_encode(ckey, kl, final + wl + 3);
    *out = (uint8_t *)final;
    *outlen = fl;
    c->state = CST_SERVER_FINAL;
    rc = SL_SASL_CONTINUE;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(ckey, sizeof ckey);
    OPENSSL_cleanse(stored, sizeof stored);
    OPENSSL_cleanse(csig, sizeof csig);
    OPENSSL_cleanse(skey, sizeof skey);
    free(without);
    free(auth);
    return rc;
}

/* Verifies server-final: v=<base64 ServerSignature>. */
static enum sl_sasl_step server_final(struct sl_sasl_client *c, const uint8_t *in, size_t inlen,
                                      char *err, size_t errlen)
{
    const char *msg = (const char *)in;
    size_t kl = sl_scram_key_len(c->mech);
    uint8_t sig[SL_SCRAM_KEY_MAX + 3];
    if (!in || inlen < 2 || inlen > SL_SASL_MSG_MAX)
        return fail(c, err, errlen, "SCRAM: missing server-final message");
    if (msg[0] == 'e' && msg[1] == '=')
        return fail(c, err, errlen, "SCRAM: the server reported an authentication error");
    const char *v;
    size_t vl;
    if (msg[0] != 'v' || msg[1] != '=' || !attr(msg, inlen, 'v', &v, &vl))
        return fail(c, err, errlen, "SCRAM: malformed server-final message");
    long n = sl_scram_b64_decode(v, vl, sig, sizeof sig);
    if (n != (long)kl || CRYPTO_memcmp(sig, c->server_sig, kl) != 0)
        return fail(c, err, errlen,
                    "SCRAM: the server's signature is wrong (the server does not know the "
                    "credential: not the broker you meant to reach?)");
    c->state = CST_END;
    return SL_SASL_DONE;
}

enum sl_sasl_step sl_sasl_client_step(struct sl_sasl_client *c, const uint8_t *in, size_t inlen,
                                      uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    if (err && errlen)
        err[0] = '\0';
    if (c->state == CST_END)
        return fail(c, err, errlen, "SASL: the exchange is over");
    if (c->mech == SL_SCRAM_UNKNOWN)
        return plain_step(c, out, outlen, err, errlen);
    switch (c->state) {
    case CST_FIRST: {
        c->client_first_bare = client_first_bare(c);
        size_t n = strlen(c->client_first_bare);
        char *m = sl_xmalloc(n + 4);
        memcpy(m, "n,,", 3);
        memcpy(m + 3, c->client_first_bare, n + 1);
        *out = (uint8_t *)m;
        *outlen = n + 3;
        c->state = CST_SERVER_FIRST;
        return SL_SASL_CONTINUE;
    }
    case CST_SERVER_FIRST:
        return client_final(c, in, inlen, out, outlen, err, errlen);
    case CST_SERVER_FINAL:
        return server_final(c, in, inlen, err, errlen);
    default:
        return fail(c, err, errlen, "SASL: the exchange is over");
    }
}
