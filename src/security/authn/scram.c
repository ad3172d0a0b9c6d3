/* SPDX-License-Identifier: Apache-2.0
 *
 * Server side of SASL SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677)
 * as Kafka's ScramSaslServer speaks it, plus the credential helpers of
 * scram.h. Two client messages, two answers:
 *
 *   client-first  n,[a=<authzid>],n=<saslname>,r=<cnonce>[,<ext>=<value>...]
 *   server-first  r=<cnonce><snonce>,s=<base64 salt>,i=<iterations>
 *   client-final  c=<base64 gs2 header>,r=<cnonce><snonce>[,<ext>=...],p=<proof>
 *   server-final  v=<base64 ServerSignature>
 *
 * Grammar (Kafka's ScramMessages regexes): every byte 0x01..0x7F; the gs2
 * flag must be "n" (this server offers no channel binding, so "p=" and,
 * as in Kafka, "y" are refused); a saslname is 1+ characters other than
 * ',' and '=', with ',' and '=' written =2C and =3D; a nonce is 1+
 * printable characters (0x21..0x7E) other than ','; an extension is
 * ",<letters>=<1+ characters other than ','>". Extensions are ignored,
 * tokenauth=true included (Sluice has no delegation tokens; the name is
 * then looked up as an ordinary user), only flagged in the result.
 *
 * Where this server is stricter than Kafka, on purpose:
 *  - An unknown user, or a user without a usable credential for the
 *    mechanism, gets a server-first message like any other (a made-up salt
 *    derived from the broker's secret, the configured iteration count) and
 *    fails at the proof with the same text and the same work as a wrong
 *    password. Kafka fails such users at client-first, which tells a client
 *    whether a user exists.
 *  - The reserved "m=" attribute fails authentication (RFC 5802 §5.1 MUST);
 *    Kafka skips it.
 *  - The channel-binding attribute of client-final must be the base64 of
 *    the gs2 header the client sent ("biws" for "n,,"); Kafka does not look
 *    at it (compare Redpanda issue #3015).
 *  - The authzid is unescaped before it is compared with the user name.
 * AuthMessage uses the client's literal messages (RFC 5802); Kafka rebuilds
 * them, which only differs for messages no Kafka client sends (extensions
 * in client-final).
 *
 * Nonce check: the client-final nonce must equal the server-first one
 * (Kafka 4.x). With sl_sasl_conf.scram_legacy_nonce, the exact value
 * librdkafka < 2.6.1 sends (its client nonce once more in front:
 * cnonce + cnonce + snonce, librdkafka PR #4895) is accepted too. That
 * stays safe: the random server nonce is still there, and the proof covers
 * the client's literal client-final message.
 *
 * Not here: SASLprep (Kafka applies none), channel binding, delegation
 * tokens, the e= server error (Kafka reports failures through the
 * SaslAuthenticate error instead).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/logging.h"
#include "core/mem.h"
#include "security/authn/sasl_mech.h"
#include "security/authn/scram.h"

/* ------------------------------------------------------------------------
 * Primitives (OpenSSL) and credentials
 * ------------------------------------------------------------------------ */

static const EVP_MD *mech_md(int mech)
{
    switch (mech) {
    case SL_SCRAM_SHA256:
        return EVP_sha256();
    case SL_SCRAM_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

const char *sl_scram_mech_name(int mech)
{
    switch (mech) {
    case SL_SCRAM_SHA256:
        return "SCRAM-SHA-256";
    case SL_SCRAM_SHA512:
        return "SCRAM-SHA-512";
    default:
        return NULL;
    }
}

int sl_scram_mech_from_name(const char *name)
{
    for (int m = SL_SCRAM_SHA256; m < SL_SCRAM_MECH_MAX; m++)
        if (strcmp(name, sl_scram_mech_name(m)) == 0)
            return m;
    return SL_SCRAM_UNKNOWN;
}

size_t sl_scram_key_len(int mech)
{
    switch (mech) {
    case SL_SCRAM_SHA256:
        return 32;
    case SL_SCRAM_SHA512:
        return 64;
    default:
        return 0;
    }
}

/* out = HMAC-H(key, data); out has room for the hash length. 0 or -1. */
static int hmac(int mech, const uint8_t *key, size_t keylen, const void *data, size_t len,
                uint8_t *out)
{
    unsigned int n = 0;
    if (keylen > INT32_MAX)
        return -1;
    if (!HMAC(mech_md(mech), key, (int)keylen, data, len, out, &n) || n != sl_scram_key_len(mech))
        return -1;
    return 0;
}

/* out = H(data). 0 or -1. */
static int digest(int mech, const uint8_t *data, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    if (!EVP_Digest(data, len, out, &n, mech_md(mech), NULL) || n != sl_scram_key_len(mech))
        return -1;
    return 0;
}

static bool iterations_ok(int32_t iterations)
{
    return iterations >= SL_SCRAM_MIN_ITERATIONS && iterations <= SL_SCRAM_MAX_ITERATIONS;
}

/* Stored and server keys of a SaltedPassword into *out. 0 or -1. */
static int keys_from_salted(int mech, const uint8_t *salted, struct sl_scram_cred *out)
{
    uint8_t client_key[SL_SCRAM_KEY_MAX];
    size_t kl = sl_scram_key_len(mech);
    int rc = -1;
    if (hmac(mech, salted, kl, "Client Key", 10, client_key) == 0 &&
        digest(mech, client_key, kl, out->stored_key) == 0 &&
        hmac(mech, salted, kl, "Server Key", 10, out->server_key) == 0)
        rc = 0;
    OPENSSL_cleanse(client_key, sizeof client_key);
    return rc;
}

int sl_scram_cred_from_salted(int mech, const uint8_t *salt, size_t salt_len,
                              const uint8_t *salted, size_t salted_len, int32_t iterations,
                              struct sl_scram_cred *out)
{
    memset(out, 0, sizeof *out);
    if (!mech_md(mech) || salt_len == 0 || salt_len > SL_SCRAM_SALT_MAX ||
        !iterations_ok(iterations) || salted_len != sl_scram_key_len(mech))
        return -1;
    out->mech = mech;
    memcpy(out->salt, salt, salt_len);
    out->salt_len = salt_len;
    out->iterations = iterations;
    if (keys_from_salted(mech, salted, out) != 0) {
        OPENSSL_cleanse(out, sizeof *out);
        return -1;
    }
    return 0;
}

/* SaltedPassword = Hi(password, salt, i), i.e. PBKDF2 with dkLen = hLen. */
static int salted_password(int mech, const char *password, size_t passlen, const uint8_t *salt,
                           size_t salt_len, int32_t iterations, uint8_t *out)
{
    if (passlen > SL_SASL_PASSWORD_MAX || salt_len > SL_SCRAM_SALT_MAX)
        return -1;
    return PKCS5_PBKDF2_HMAC(password, (int)passlen, salt, (int)salt_len, iterations,
                             mech_md(mech), (int)sl_scram_key_len(mech), out) == 1
               ? 0
               : -1;
}

int sl_scram_cred_from_password(int mech, const char *password, size_t passlen,
                                const uint8_t *salt, size_t salt_len, int32_t iterations,
                                struct sl_scram_cred *out)
{
    uint8_t salted[SL_SCRAM_KEY_MAX];
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (!mech_md(mech) || salt_len == 0 || salt_len > SL_SCRAM_SALT_MAX ||
        !iterations_ok(iterations) || passlen > SL_SASL_PASSWORD_MAX)
        return -1;
    if (salted_password(mech, password, passlen, salt, salt_len, iterations, salted) == 0)
        rc = sl_scram_cred_from_salted(mech, salt, salt_len, salted, sl_scram_key_len(mech),
                                       iterations, out);
    OPENSSL_cleanse(salted, sizeof salted);
    return rc;
}

int sl_scram_make_cred(int mech, const char *password, int32_t iterations,
                       struct sl_scram_cred *out)
{
    uint8_t salt[32];
    memset(out, 0, sizeof *out);
    if (RAND_bytes(salt, (int)sizeof salt) != 1)
        return -1;
    return sl_scram_cred_from_password(mech, password, strlen(password), salt, sizeof salt,
                                       iterations, out);
}

int sl_scram_check_password(const struct sl_scram_cred *cred, const char *password,
                            size_t passlen)
{
    uint8_t salted[SL_SCRAM_KEY_MAX], client_key[SL_SCRAM_KEY_MAX], stored[SL_SCRAM_KEY_MAX];
    int rc = -1;
    int mech = cred->mech;
    if (!mech_md(mech) || cred->salt_len == 0 || cred->salt_len > SL_SCRAM_SALT_MAX ||
        !iterations_ok(cred->iterations))
        return -1;
    size_t kl = sl_scram_key_len(mech);
    if (salted_password(mech, password, passlen, cred->salt, cred->salt_len, cred->iterations,
                        salted) == 0 &&
        hmac(mech, salted, kl, "Client Key", 10, client_key) == 0 &&
        digest(mech, client_key, kl, stored) == 0 &&
        CRYPTO_memcmp(stored, cred->stored_key, kl) == 0)
        rc = 0;
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(stored, sizeof stored);
    return rc;
}

/* HMAC-SHA-512(secret, label || mech name || 0 || user) into out[64]. */
static int fake_prf(const uint8_t secret[32], const char *label, int mech, const char *user,
                    uint8_t out[64])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    const char *name = sl_scram_mech_name(mech);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA512", 0),
                           OSSL_PARAM_construct_end()};
    size_t n = 0;
    int rc = -1;
    if (ctx && EVP_MAC_init(ctx, secret, 32, params) == 1 &&
        EVP_MAC_update(ctx, (const uint8_t *)label, strlen(label)) == 1 &&
        EVP_MAC_update(ctx, (const uint8_t *)name, strlen(name) + 1) == 1 &&
        EVP_MAC_update(ctx, (const uint8_t *)user, strlen(user)) == 1 &&
        EVP_MAC_final(ctx, out, &n, 64) == 1 && n == 64)
        rc = 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

int sl_scram_fake_cred(int mech, const uint8_t secret[32], const char *user, int32_t iterations,
                       struct sl_scram_cred *out)
{
    uint8_t buf[64];
    memset(out, 0, sizeof *out);
    if (!mech_md(mech))
        return -1;
    if (iterations == 0)
        iterations = SL_SCRAM_DEFAULT_ITERATIONS;
    if (iterations < SL_SCRAM_MIN_ITERATIONS)
        iterations = SL_SCRAM_MIN_ITERATIONS;
    if (iterations > SL_SCRAM_MAX_ITERATIONS)
        iterations = SL_SCRAM_MAX_ITERATIONS;
    out->mech = mech;
    out->iterations = iterations;
    out->salt_len = 32;
    if (fake_prf(secret, "sluice scram fake salt", mech, user, buf) != 0)
        goto fail;
    memcpy(out->salt, buf, 32);
    if (fake_prf(secret, "sluice scram fake stored key", mech, user, buf) != 0)
        goto fail;
    memcpy(out->stored_key, buf, sl_scram_key_len(mech));
    if (fake_prf(secret, "sluice scram fake server key", mech, user, buf) != 0)
        goto fail;
    memcpy(out->server_key, buf, sl_scram_key_len(mech));
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
fail:
    OPENSSL_cleanse(buf, sizeof buf);
    memset(out, 0, sizeof *out);
    return -1;
}

/* ------------------------------------------------------------------------
 * Base64 (RFC 4648, standard alphabet, padded), strict
 * ------------------------------------------------------------------------ */

static bool b64_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/* Kafka's BASE64 pattern: (X{4})*(X{3}=|X{2}==)?, possibly empty. */
static bool b64_valid(const char *s, size_t n)
{
    if (n % 4 != 0)
        return false;
    size_t pad = 0;
    if (n >= 4 && s[n - 1] == '=')
        pad = s[n - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < n - pad; i++)
        if (!b64_char((uint8_t)s[i]))
            return false;
    return true;
}

/* Length of the padded base64 of n bytes. */
#define B64_LEN(n) (((n) + 2) / 3 * 4)

/* Decodes a b64_valid() string of n chars into out (room for n/4*3 bytes);
 * returns the byte count, or -1. */
static long b64_decode(const char *s, size_t n, uint8_t *out)
{
    if (n == 0)
        return 0;
    if (n > INT32_MAX)
        return -1;
    int got = EVP_DecodeBlock(out, (const uint8_t *)s, (int)n);
    if (got < 0)
        return -1;
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    return (long)((size_t)got - pad);
}

/* Writes the padded base64 of n bytes at out (room for 4*ceil(n/3)+1) and
 * returns its length. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((uint8_t *)out, in, (int)n);
}

/* ------------------------------------------------------------------------
 * Exported primitives (scram.h), for the client side
 * ------------------------------------------------------------------------ */

int sl_scram_salted_password(int mech, const char *password, size_t passlen, const uint8_t *salt,
                             size_t salt_len, int32_t iterations, uint8_t *out)
{
    if (!mech_md(mech) || salt_len == 0 || iterations < 1)
        return -1;
    return salted_password(mech, password, passlen, salt, salt_len, iterations, out);
}

int sl_scram_hmac(int mech, const uint8_t *key, size_t keylen, const void *data, size_t len,
                  uint8_t *out)
{
    return mech_md(mech) ? hmac(mech, key, keylen, data, len, out) : -1;
}

int sl_scram_hash(int mech, const uint8_t *data, size_t len, uint8_t *out)
{
    return mech_md(mech) ? digest(mech, data, len, out) : -1;
}

size_t sl_scram_b64_encode(const uint8_t *in, size_t n, char *out)
{
    return b64_encode(in, n, out);
}

long sl_scram_b64_decode(const char *s, size_t n, uint8_t *out, size_t outcap)
{
    if (!b64_valid(s, n) || n / 4 * 3 > outcap)
        return -1;
    return b64_decode(s, n, out);
}

/* ------------------------------------------------------------------------
 * The exchange
 * ------------------------------------------------------------------------ */

enum scram_state {
    SCRAM_ST_CLIENT_FIRST = 0, /* RECEIVE_CLIENT_FIRST_MESSAGE */
    SCRAM_ST_CLIENT_FINAL,     /* RECEIVE_CLIENT_FINAL_MESSAGE */
    SCRAM_ST_END,              /* COMPLETE or FAILED */
    SCRAM_ST_MAX
};

/* Server nonce: 24 random bytes in base64, 32 characters (Kafka: 130
 * random bits in base 36). */
#define SERVER_NONCE_BYTES 24

struct scram_st {
    int mech;
    enum scram_state state;
    sl_sasl_lookup_fn lookup;
    void *lookup_arg;
    uint8_t fake_secret[32];
    int32_t fake_iterations;
    bool reauth;
    bool legacy_nonce;
    char *test_nonce; /* copy of conf._test_server_nonce, or NULL */

    struct sl_scram_cred cred;
    bool fake;          /* cred is made up: the exchange fails at the proof */
    char fake_why[128]; /* log text for that failure */
    char user[SL_SASL_NAME_MAX + 1];
    unsigned flags;

    char *gs2; /* gs2 header as sent, e.g. "n,," */
    size_t gs2_len;
    char *bare; /* client-first-message-bare as sent */
    size_t bare_len;
    char *sfirst; /* server-first-message: "r=" nonce ",s=..." */
    size_t sfirst_len;
    size_t cnonce_len; /* the nonce starts at sfirst + 2 */
    size_t nonce_len;
};

/* Ends the exchange with a failure. client_msg is the text Kafka sends for
 * a SaslAuthenticationException; NULL selects the generic SaslException
 * text. fmt is the log reason. */
__attribute__((format(printf, 4, 5))) static enum sl_sasl_step
fail(struct scram_st *st, struct sl_sasl_result *res, const char *client_msg, const char *fmt,
     ...)
{
    va_list ap;
    st->state = SCRAM_ST_END;
    free(res->out);
    res->out = NULL;
    res->out_len = 0;
    if (client_msg)
        snprintf(res->err, sizeof res->err, "%s", client_msg);
    else
        snprintf(res->err, sizeof res->err, SL_SASL_GENERIC_FAIL_FMT,
                 st->reauth ? "re-authentication" : "authentication", sl_scram_mech_name(st->mech));
    va_start(ap, fmt);
    if (vsnprintf(res->log, sizeof res->log, fmt, ap) < 0)
        res->log[0] = '\0';
    va_end(ap);
    memcpy(res->user, st->user, sizeof res->user);
    res->flags = st->flags;
    OPENSSL_cleanse(&st->cred, sizeof st->cred);
    return SL_SASL_FAIL;
}

/* A cursor over one client message. */
struct cur {
    const char *p, *end;
};

static bool eat(struct cur *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Parses a saslname at the cursor (up to ',' or the end) and writes the
 * unescaped name to out (NUL-terminated, at most SL_SASL_NAME_MAX bytes;
 * "" on failure). Returns false when it is empty, holds an '=' that does
 * not start =2C or =3D, or is too long. */
static bool parse_saslname(struct cur *c, char out[SL_SASL_NAME_MAX + 1])
{
    size_t n = 0;
    while (c->p < c->end && *c->p != ',') {
        char ch = *c->p;
        size_t width = 1;
        if (ch == '=') {
            if (c->end - c->p < 3)
                goto bad;
            if (c->p[1] == '2' && c->p[2] == 'C')
                ch = ',';
            else if (c->p[1] == '3' && c->p[2] == 'D')
                ch = '=';
            else
                goto bad;
            width = 3;
        }
        if (n == SL_SASL_NAME_MAX)
            goto bad;
        out[n++] = ch;
        c->p += width;
    }
    out[n] = '\0';
    return n > 0;
bad:
    out[0] = '\0';
    return false;
}

/* Parses "<letters>=<value>" extensions, each after a ',', to the end.
 * Sets *tokenauth when tokenauth=true (Java's Boolean.parseBoolean: any
 * case). Returns false on a malformed extension. */
static bool parse_extensions(struct cur *c, bool *tokenauth)
{
    while (c->p < c->end) {
        if (*c->p++ != ',')
            return false;
        const char *name = c->p;
        while (c->p < c->end && ((*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= 'a' && *c->p <= 'z')))
            c->p++;
        size_t name_len = (size_t)(c->p - name);
        if (name_len == 0 || c->p == c->end || *c->p != '=')
            return false;
        const char *value = ++c->p;
        while (c->p < c->end && *c->p != ',')
            c->p++;
        size_t value_len = (size_t)(c->p - value);
        if (value_len == 0)
            return false;
        if (name_len == 9 && memcmp(name, "tokenauth", 9) == 0)
            *tokenauth = value_len == 4 && strncasecmp(value, "true", 4) == 0;
    }
    return true;
}

/* Length of the nonce at the cursor: printable ASCII but ','. */
static size_t nonce_span(const struct cur *c)
{
    const char *q = c->p;
    while (q < c->end && *q >= 0x21 && *q <= 0x7e && *q != ',')
        q++;
    return (size_t)(q - c->p);
}

/* Every byte in 0x01..0x7F, as Kafka's patterns demand. */
static bool ascii_no_nul(const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in[i] == 0 || in[i] > 0x7f)
            return false;
    return true;
}

static void *scram_start(const struct sl_sasl_conf *conf, int mech)
{
    struct scram_st *st = sl_xcalloc(1, sizeof *st);
    st->mech = mech;
    st->state = SCRAM_ST_CLIENT_FIRST;
    st->lookup = conf->lookup;
    st->lookup_arg = conf->lookup_arg;
    memcpy(st->fake_secret, conf->fake_secret, sizeof st->fake_secret);
    st->fake_iterations = conf->fake_iterations;
    st->reauth = conf->reauth;
    st->legacy_nonce = conf->scram_legacy_nonce;
    if (conf->_test_server_nonce) {
        struct cur c = {conf->_test_server_nonce,
                        conf->_test_server_nonce + strlen(conf->_test_server_nonce)};
        SL_ASSERT(c.p != c.end && nonce_span(&c) == (size_t)(c.end - c.p));
        st->test_nonce = sl_xstrdup(conf->_test_server_nonce);
    }
    return st;
}

static void *scram_start_sha256(const struct sl_sasl_conf *conf)
{
    return scram_start(conf, SL_SCRAM_SHA256);
}

static void *scram_start_sha512(const struct sl_sasl_conf *conf)
{
    return scram_start(conf, SL_SCRAM_SHA512);
}

static void scram_free(void *arg)
{
    struct scram_st *st = arg;
    if (!st)
        return;
    free(st->test_nonce);
    free(st->gs2);
    free(st->bare);
    free(st->sfirst);
    OPENSSL_cleanse(st, sizeof *st);
    free(st);
}

static enum sl_sasl_step client_first(struct scram_st *st, const uint8_t *in, size_t inlen,
                                      struct sl_sasl_result *res)
{
    const char *msg = (const char *)in;
    struct cur c = {msg, msg + inlen};
    char authzid[SL_SASL_NAME_MAX + 1] = "";
    bool tokenauth = false;
    const char *mname = sl_scram_mech_name(st->mech);

    if (!ascii_no_nul(in, inlen))
        return fail(st, res, NULL, "Invalid SCRAM client first message format: not 7-bit ASCII");
    if (inlen >= 2 && msg[0] == 'p' && msg[1] == '=')
        return fail(st, res, NULL,
                    "Invalid SCRAM client first message format: channel binding requested "
                    "(gs2 flag p), not supported");
    if (inlen >= 2 && msg[0] == 'y' && msg[1] == ',')
        return fail(st, res, NULL,
                    "Invalid SCRAM client first message format: gs2 flag y, only n is supported");
    if (!eat(&c, "n,"))
        return fail(st, res, NULL, "Invalid SCRAM client first message format: bad gs2 header");
    if (eat(&c, "a=") && !parse_saslname(&c, authzid))
        return fail(st, res, NULL, "Invalid SCRAM client first message format: bad authzid");
    if (!eat(&c, ","))
        return fail(st, res, NULL, "Invalid SCRAM client first message format: bad gs2 header");
    size_t gs2_len = (size_t)(c.p - msg);
    if (eat(&c, "m="))
        return fail(st, res, NULL, "Unsupported mandatory SCRAM extension (m=)");
    if (!eat(&c, "n="))
        return fail(st, res, NULL, "Invalid SCRAM client first message format: no username");
    if (!parse_saslname(&c, st->user))
        return fail(st, res, NULL, "Invalid SCRAM client first message format: bad username");
    if (!eat(&c, ",r="))
        return fail(st, res, NULL, "Invalid SCRAM client first message format: no nonce");
    size_t cnonce_len = nonce_span(&c);
    if (cnonce_len == 0)
        return fail(st, res, NULL, "Invalid SCRAM client first message format: bad nonce");
    const char *cnonce = c.p;
    c.p += cnonce_len;
    if (!parse_extensions(&c, &tokenauth))
        return fail(st, res, NULL, "Invalid SCRAM client first message format: bad extension");
    if (tokenauth)
        st->flags |= SL_SASL_F_TOKENAUTH;

    /* Depends only on what the client sent, so it reveals nothing about the
     * user store; Kafka sends this text to the client. */
    if (authzid[0] && strcmp(authzid, st->user) != 0)
        return fail(st, res,
                    "Authentication failed: Client requested an authorization id that is "
                    "different from username",
                    "authzid differs from username");

    /* The credential, or a made-up one that fails later the same way. */
    if (!st->lookup || st->lookup(st->lookup_arg, st->user, st->mech, &st->cred) != 0) {
        st->fake = true;
        snprintf(st->fake_why, sizeof st->fake_why,
                 "Authentication failed: Invalid user credentials (no %s credential)", mname);
    } else if (st->cred.mech != st->mech || st->cred.salt_len == 0 ||
               st->cred.salt_len > SL_SCRAM_SALT_MAX) {
        st->fake = true;
        snprintf(st->fake_why, sizeof st->fake_why, "Stored %s credential is invalid", mname);
    } else if (st->cred.iterations < SL_SCRAM_MIN_ITERATIONS) {
        st->fake = true;
        snprintf(st->fake_why, sizeof st->fake_why,
                 "Iterations %d is less than the minimum %d for %s", (int)st->cred.iterations,
                 SL_SCRAM_MIN_ITERATIONS, mname);
    } else if (st->cred.iterations > SL_SCRAM_MAX_ITERATIONS) {
        st->fake = true;
        snprintf(st->fake_why, sizeof st->fake_why,
                 "Iterations %d is more than the maximum %d for %s", (int)st->cred.iterations,
                 SL_SCRAM_MAX_ITERATIONS, mname);
    }
    if (st->fake && sl_scram_fake_cred(st->mech, st->fake_secret, st->user, st->fake_iterations,
                                       &st->cred) != 0)
        return fail(st, res, NULL, "Authentication failed: Credentials could not be obtained");

    /* Server nonce. */
    char snonce[B64_LEN(SERVER_NONCE_BYTES) + 1];
    const char *sn = snonce;
    size_t sn_len;
    if (st->test_nonce) {
        sn = st->test_nonce;
        sn_len = strlen(sn);
    } else {
        uint8_t rnd[SERVER_NONCE_BYTES];
        if (RAND_bytes(rnd, (int)sizeof rnd) != 1)
            return fail(st, res, NULL, "RAND_bytes failed for the server nonce");
        sn_len = b64_encode(rnd, sizeof rnd, snonce);
    }

    /* server-first-message: r=<cnonce><snonce>,s=<salt>,i=<iterations> */
    char salt64[B64_LEN(SL_SCRAM_SALT_MAX) + 1];
    size_t salt64_len = b64_encode(st->cred.salt, st->cred.salt_len, salt64);
    char iters[16];
    int iters_len = snprintf(iters, sizeof iters, "%d", (int)st->cred.iterations);
    size_t len = 2 + cnonce_len + sn_len + 3 + salt64_len + 3 + (size_t)iters_len;
    char *sf = sl_xmalloc(len + 1);
    int w = snprintf(sf, len + 1, "r=%.*s%.*s,s=%.*s,i=%s", (int)cnonce_len, cnonce, (int)sn_len,
                     sn, (int)salt64_len, salt64, iters);
    if (w < 0 || (size_t)w != len) {
        free(sf);
        return fail(st, res, NULL, "internal error formatting server-first-message");
    }

    st->gs2 = sl_xstrndup(msg, gs2_len);
    st->gs2_len = gs2_len;
    st->bare_len = inlen - gs2_len;
    st->bare = sl_xstrndup(msg + gs2_len, st->bare_len);
    st->sfirst = sf;
    st->sfirst_len = len;
    st->cnonce_len = cnonce_len;
    st->nonce_len = cnonce_len + sn_len;
    st->state = SCRAM_ST_CLIENT_FINAL;

    res->out = (uint8_t *)sl_xstrndup(sf, len);
    res->out_len = len;
    memcpy(res->user, st->user, sizeof res->user);
    res->flags = st->flags;
    return SL_SASL_CONTINUE;
}

static enum sl_sasl_step client_final(struct scram_st *st, const uint8_t *in, size_t inlen,
                                      struct sl_sasl_result *res)
{
    const char *msg = (const char *)in;
    size_t kl = sl_scram_key_len(st->mech);
    bool tokenauth = false;
    enum sl_sasl_step rc;

    if (!ascii_no_nul(in, inlen))
        return fail(st, res, NULL, "Invalid SCRAM client final message format: not 7-bit ASCII");

    /* The proof is the last attribute; the rest is
     * client-final-message-without-proof. */
    size_t wo_len = inlen;
    for (size_t i = inlen >= 3 ? inlen - 2 : 0; i-- > 0;) {
        if (msg[i] == ',' && msg[i + 1] == 'p' && msg[i + 2] == '=') {
            wo_len = i;
            break;
        }
    }
    if (wo_len == inlen)
        return fail(st, res, NULL, "Invalid SCRAM client final message format: no proof");
    const char *proof64 = msg + wo_len + 3;
    size_t proof64_len = inlen - wo_len - 3;

    struct cur c = {msg, msg + wo_len};
    if (!eat(&c, "c="))
        return fail(st, res, NULL, "Invalid SCRAM client final message format: no channel binding");
    const char *cb = c.p;
    while (c.p < c.end && *c.p != ',')
        c.p++;
    size_t cb_len = (size_t)(c.p - cb);
    if (!b64_valid(cb, cb_len))
        return fail(st, res, NULL,
                    "Invalid SCRAM client final message format: channel binding not base64");
    if (!eat(&c, ",r="))
        return fail(st, res, NULL, "Invalid SCRAM client final message format: no nonce");
    const char *nonce = c.p;
    size_t nonce_len = nonce_span(&c);
    c.p += nonce_len;
    if (nonce_len == 0 || !parse_extensions(&c, &tokenauth))
        return fail(st, res, NULL, "Invalid SCRAM client final message format: bad attribute");
    if (!b64_valid(proof64, proof64_len))
        return fail(st, res, NULL, "Invalid SCRAM client final message format: proof not base64");

    /* c= must carry the gs2 header of client-first (no channel binding
     * data): "biws" for "n,,". Both are canonical base64 of public bytes. */
    char *gs2_64 = sl_xmalloc(B64_LEN(st->gs2_len) + 1);
    size_t gs2_64_len = b64_encode((const uint8_t *)st->gs2, st->gs2_len, gs2_64);
    bool cb_ok = cb_len == gs2_64_len && memcmp(cb, gs2_64, cb_len) == 0;
    free(gs2_64);
    if (!cb_ok)
        return fail(st, res, NULL, "Invalid channel binding in the final client message");

    const char *expect = st->sfirst + 2;
    if (nonce_len == st->nonce_len && memcmp(nonce, expect, nonce_len) == 0) {
        /* RFC 5802 */
    } else if (st->legacy_nonce && nonce_len == st->cnonce_len + st->nonce_len &&
               memcmp(nonce, expect, st->cnonce_len) == 0 &&
               memcmp(nonce + st->cnonce_len, expect, st->nonce_len) == 0) {
        st->flags |= SL_SASL_F_LEGACY_NONCE; /* librdkafka < 2.6.1 */
    } else {
        return fail(st, res, NULL, "Invalid client nonce in the final client message.");
    }

    uint8_t proof[B64_LEN(SL_SCRAM_KEY_MAX)];
    if (proof64_len != B64_LEN(kl) || b64_decode(proof64, proof64_len, proof) != (long)kl)
        return fail(st, res, NULL,
                    "Invalid SCRAM client final message format: proof is not %zu bytes", kl);

    /* AuthMessage = client-first-message-bare "," server-first-message ","
     * client-final-message-without-proof, all as sent. */
    size_t am_len = st->bare_len + 1 + st->sfirst_len + 1 + wo_len;
    char *am = sl_xmalloc(am_len);
    memcpy(am, st->bare, st->bare_len);
    am[st->bare_len] = ',';
    memcpy(am + st->bare_len + 1, st->sfirst, st->sfirst_len);
    am[st->bare_len + 1 + st->sfirst_len] = ',';
    memcpy(am + st->bare_len + 2 + st->sfirst_len, msg, wo_len);

    /* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); the client is who
     * it claims when H(ClientKey) == StoredKey. A made-up credential takes
     * the same path and fails after it. */
    uint8_t sig[SL_SCRAM_KEY_MAX], client_key[SL_SCRAM_KEY_MAX], stored[SL_SCRAM_KEY_MAX];
    uint8_t server_sig[SL_SCRAM_KEY_MAX];
    bool ok = false;
    if (hmac(st->mech, st->cred.stored_key, kl, am, am_len, sig) == 0) {
        for (size_t i = 0; i < kl; i++)
            client_key[i] = proof[i] ^ sig[i];
        ok = digest(st->mech, client_key, kl, stored) == 0 &&
             CRYPTO_memcmp(stored, st->cred.stored_key, kl) == 0;
    }
    if (!ok || st->fake) {
        rc = fail(st, res, NULL, "%s", st->fake ? st->fake_why : "Invalid client credentials");
        goto out;
    }
    if (hmac(st->mech, st->cred.server_key, kl, am, am_len, server_sig) != 0) {
        rc = fail(st, res, NULL, "Authentication failed: Invalid client final message");
        goto out;
    }

    /* server-final-message: v=<base64 ServerSignature> */
    char *sfinal = sl_xmalloc(2 + B64_LEN(SL_SCRAM_KEY_MAX) + 1);
    memcpy(sfinal, "v=", 2);
    size_t sfinal_len = 2 + b64_encode(server_sig, kl, sfinal + 2);
    res->out = (uint8_t *)sfinal;
    res->out_len = sfinal_len;
    memcpy(res->user, st->user, sizeof res->user);
    res->flags = st->flags;
    st->state = SCRAM_ST_END;
    OPENSSL_cleanse(&st->cred, sizeof st->cred);
    rc = SL_SASL_DONE;
out:
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(sig, sizeof sig);
    OPENSSL_cleanse(proof, sizeof proof);
    free(am);
    return rc;
}

static enum sl_sasl_step scram_step(void *arg, const uint8_t *in, size_t inlen,
                                    struct sl_sasl_result *res)
{
    struct scram_st *st = arg;
    memset(res, 0, sizeof *res);
    if (inlen > SL_SASL_MSG_MAX)
        return fail(st, res, NULL, "SCRAM client message of %zu bytes exceeds %d", inlen,
                    SL_SASL_MSG_MAX);
    if (!in)
        in = (const uint8_t *)"";
    switch (st->state) {
    case SCRAM_ST_CLIENT_FIRST:
        return client_first(st, in, inlen, res);
    case SCRAM_ST_CLIENT_FINAL:
        return client_final(st, in, inlen, res);
    default:
        return fail(st, res, NULL, "Unexpected challenge in Sasl server state COMPLETE/FAILED");
    }
}

const struct sl_sasl_mech sl_sasl_scram_sha256 = {
    .name = "SCRAM-SHA-256",
    .start = scram_start_sha256,
    .step = scram_step,
    .free = scram_free,
};

const struct sl_sasl_mech sl_sasl_scram_sha512 = {
    .name = "SCRAM-SHA-512",
    .start = scram_start_sha512,
    .step = scram_step,
    .free = scram_free,
};
