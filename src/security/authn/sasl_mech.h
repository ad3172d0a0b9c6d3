/* SPDX-License-Identifier: Apache-2.0
 *
 * SASL mechanism providers: the socket-free server side of each mechanism
 * Sluice offers (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), behind one vtable in
 * the manner of librdkafka's struct rd_kafka_sasl_provider. A provider sees
 * only the auth bytes of SaslAuthenticate requests (or the bare v0 tokens)
 * and answers with auth bytes; the session state machine of the broker
 * (SaslHandshake, SaslAuthenticate, the pre-auth gate, re-authentication,
 * the failed-authentication delay) owns everything else.
 *
 * Life of one exchange, driven by the session (any thread, one at a time):
 *
 *     st = mech->start(&conf);                  // after SaslHandshake
 *     do {
 *         step = mech->step(st, bytes, n, &res); // one per SaslAuthenticate
 *         send res.out (SL_SASL_CONTINUE / SL_SASL_DONE) or res.err (FAIL)
 *         free(res.out);
 *     } while (step == SL_SASL_CONTINUE);
 *     mech->free(st);
 *
 * Errors follow Kafka's SaslServerAuthenticator: a mechanism failure that
 * Kafka raises as a plain SaslException reaches the client only as the
 * generic SL_SASL_GENERIC_FAIL_FMT text, and the few that Kafka raises as
 * SaslAuthenticationException carry their own text. res.err is always the
 * exact error_message to put in the SaslAuthenticate response (error code
 * SASL_AUTHENTICATION_FAILED, 58); res.log says what really went wrong and
 * must never reach the client. An unknown user and a wrong password give
 * the same res.err, the same messages before it and the same work.
 *
 * Credentials are the stored SCRAM credentials only (salt, StoredKey,
 * ServerKey, iterations per user and mechanism); PLAIN is checked against
 * them too (see plain.c), so no password is ever stored.
 */
#ifndef SL_SECURITY_AUTHN_SASL_MECH_H
#define SL_SECURITY_AUTHN_SASL_MECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* SCRAM mechanisms; the values are Kafka's mechanism type codes of the
 * Describe/AlterUserScramCredentials APIs (keys 50, 51). */
enum sl_scram_mech {
    SL_SCRAM_UNKNOWN = 0,
    SL_SCRAM_SHA256 = 1,
    SL_SCRAM_SHA512 = 2,
    SL_SCRAM_MECH_MAX
};

/* Iteration bounds of both SCRAM mechanisms (Kafka's ScramMechanism
 * minimum; Kafka's AlterUserScramCredentials maximum) and the count used
 * for made-up credentials of unknown users when the broker sets none. */
#define SL_SCRAM_MIN_ITERATIONS 4096
#define SL_SCRAM_MAX_ITERATIONS 16384
#define SL_SCRAM_DEFAULT_ITERATIONS 4096

/* Limits on peer input, checked before anything is allocated. A user name
 * (after SCRAM unescaping) or a PLAIN password may have up to 1024 bytes
 * (RFC 4616 asks for at least 255); a whole client message up to 8 KiB. */
#define SL_SASL_NAME_MAX 1024
#define SL_SASL_PASSWORD_MAX 1024
#define SL_SASL_MSG_MAX 8192

/* Sizes of a stored credential: salts of 1 to 64 bytes (Kafka sets no
 * limit), keys as long as the mechanism's hash (32 bytes for SHA-256, 64
 * for SHA-512). */
#define SL_SCRAM_SALT_MAX 64
#define SL_SCRAM_KEY_MAX 64

/* One stored SCRAM credential (Kafka's ScramCredential). */
struct sl_scram_cred {
    int mech;                           /* enum sl_scram_mech */
    uint8_t salt[SL_SCRAM_SALT_MAX];
    size_t salt_len;                    /* 1..SL_SCRAM_SALT_MAX */
    uint8_t stored_key[SL_SCRAM_KEY_MAX]; /* H(ClientKey); hash length bytes */
    uint8_t server_key[SL_SCRAM_KEY_MAX]; /* HMAC(SaltedPassword, "Server Key") */
    int32_t iterations;
};

/* Credential lookup supplied by the broker. Borrows user (NUL-terminated
 * UTF-8, at most SL_SASL_NAME_MAX bytes) and fills *out. Returns 0 when the
 * user has a credential for mech, -1 otherwise (no such user, or no
 * credential of that mechanism). Called from step() on the thread that
 * drives the exchange; it must not block on the network. */
typedef int (*sl_sasl_lookup_fn)(void *arg, const char *user, int mech,
                                 struct sl_scram_cred *out);

/* What start() needs. start() copies every field, so the struct itself may
 * be a temporary; lookup_arg is borrowed for the life of the exchange. */
struct sl_sasl_conf {
    sl_sasl_lookup_fn lookup;
    void *lookup_arg;
    /* Broker-wide secret (random at first start, kept with the credential
     * store) from which unknown users get a stable made-up salt, so that a
     * client cannot tell them from real users. */
    uint8_t fake_secret[32];
    /* Iterations announced for unknown users; 0 means
     * SL_SCRAM_DEFAULT_ITERATIONS. Set it to the count most real
     * credentials use. */
    int32_t fake_iterations;
    /* This exchange re-authenticates a session (KIP-368): only changes the
     * wording of the generic error ("during re-authentication"). */
    bool reauth;
    /* SCRAM: also accept the client-final nonce of librdkafka < 2.6.1, which
     * repeats the client nonce (cnonce + cnonce + snonce; librdkafka PR
     * #4895). The proof still covers the server nonce. Debian's librdkafka
     * 2.0.2 needs it. */
    bool scram_legacy_nonce;
    /* Tests only (RFC 7677 vectors): a fixed server nonce suffix instead of
     * a random one. Must stay NULL in the broker. */
    const char *_test_server_nonce;
};

enum sl_sasl_step {
    SL_SASL_CONTINUE = 0, /* send res.out; the client speaks next */
    SL_SASL_DONE,         /* authenticated as res.user; send res.out (may be empty) */
    SL_SASL_FAIL,         /* send res.err with error 58, then close */
    SL_SASL_STEP_MAX
};

/* Flags of struct sl_sasl_result. */
#define SL_SASL_F_LEGACY_NONCE 0x1u /* SCRAM: client used librdkafka's doubled nonce */
#define SL_SASL_F_TOKENAUTH 0x2u    /* SCRAM: client sent tokenauth=true (ignored) */

/* The answer of one step. The provider clears it on entry. */
struct sl_sasl_result {
    /* CONTINUE/DONE: the auth bytes to send; returns new (caller frees with
     * free()). NULL with out_len 0 for an empty answer; always NULL on FAIL. */
    uint8_t *out;
    size_t out_len;
    /* DONE: the authenticated user name (principal "User:<user>").
     * CONTINUE/FAIL: the name the client claims, once parsed, else ""
     * (untrusted, may hold control characters: for the audit log, escaped
     * by whoever prints it). */
    char user[SL_SASL_NAME_MAX + 1];
    /* FAIL: the exact error_message for the client (Kafka's text). */
    char err[160];
    /* FAIL: the real reason, for the broker log only. */
    char log[160];
    unsigned flags; /* SL_SASL_F_* */
};

/* Text Kafka sends for every failure its mechanisms raise as SaslException:
 * "authentication" or "re-authentication", then the mechanism name. */
#define SL_SASL_GENERIC_FAIL_FMT                                                                   \
    "Authentication failed during %s due to invalid credentials with SASL mechanism %s"

/* A mechanism provider. All three functions run on the thread that drives
 * the exchange; providers keep no global state, so exchanges on different
 * threads are independent. */
struct sl_sasl_mech {
    const char *name; /* Kafka's mechanism name, e.g. "SCRAM-SHA-256" */
    /* A step costs milliseconds of CPU (PLAIN: PBKDF2 of the password): the
     * broker runs its steps on a worker thread, not on the network thread.
     * Steps of one exchange still run one at a time. */
    bool slow;
    /* Returns a new exchange (free with ->free); never NULL (aborts on OOM).
     * Borrows conf for the call only (see struct sl_sasl_conf). */
    void *(*start)(const struct sl_sasl_conf *conf);
    /* Consumes one client message. Borrows in (inlen bytes, not
     * NUL-terminated; NULL allowed when inlen is 0) and fills *res. Once it
     * has returned DONE or FAIL, every later call returns FAIL. */
    enum sl_sasl_step (*step)(void *st, const uint8_t *in, size_t inlen,
                              struct sl_sasl_result *res);
    /* Ends the exchange and wipes its secrets; takes st (NULL is a no-op). */
    void (*free)(void *st);
};

extern const struct sl_sasl_mech sl_sasl_plain;        /* plain.c */
extern const struct sl_sasl_mech sl_sasl_scram_sha256; /* scram.c */
extern const struct sl_sasl_mech sl_sasl_scram_sha512; /* scram.c */

/* Returns the provider of a mechanism name as a client sends it in
 * SaslHandshake (exact, case-sensitive match as in Kafka), or NULL. Borrows
 * name; the result is static. Whether the mechanism is enabled on the
 * listener (sasl.enabled.mechanisms) is the caller's check. */
static inline const struct sl_sasl_mech *sl_sasl_mech_find(const char *name)
{
    static const struct sl_sasl_mech *const all[] = {&sl_sasl_plain, &sl_sasl_scram_sha256,
                                                     &sl_sasl_scram_sha512};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

#endif
