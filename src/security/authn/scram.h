/* SPDX-License-Identifier: Apache-2.0
 *
 * SCRAM credential helpers (RFC 5802, RFC 7677): building the stored
 * credential of a user from a password (tools, tests) or from a salted
 * password (AlterUserScramCredentials, where the client runs Hi() itself),
 * checking a password against a stored credential (PLAIN), and the made-up
 * credential that stands in for an unknown user. The SCRAM exchange itself
 * is the provider in sasl_mech.h. All functions are pure computations on
 * their arguments (OpenSSL 3 underneath) and safe on any thread.
 */
#ifndef SL_SECURITY_AUTHN_SCRAM_H
#define SL_SECURITY_AUTHN_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#include "security/authn/sasl_mech.h"

/* Returns Kafka's name of a mechanism ("SCRAM-SHA-256", "SCRAM-SHA-512"),
 * or NULL for anything else. Static string. */
const char *sl_scram_mech_name(int mech);

/* Returns the mechanism of a name (exact match), or SL_SCRAM_UNKNOWN.
 * Borrows name. */
int sl_scram_mech_from_name(const char *name);

/* Returns the hash (and so key and SaltedPassword) length of a mechanism:
 * 32 or 64; 0 for an unknown mechanism. */
size_t sl_scram_key_len(int mech);

/* Fills *out with the credential of password (passlen bytes of UTF-8, used
 * as they are: Kafka applies no SASLprep) under salt and iterations:
 * SaltedPassword = PBKDF2-HMAC-H(password, salt, iterations), StoredKey =
 * H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword,
 * "Server Key"). Borrows password and salt. Returns 0, or -1 when mech is
 * unknown, salt_len is not 1..SL_SCRAM_SALT_MAX, iterations is outside
 * SL_SCRAM_MIN_ITERATIONS..SL_SCRAM_MAX_ITERATIONS, passlen exceeds
 * SL_SASL_PASSWORD_MAX, or OpenSSL fails (*out is then zeroed). */
int sl_scram_cred_from_password(int mech, const char *password, size_t passlen,
                                const uint8_t *salt, size_t salt_len, int32_t iterations,
                                struct sl_scram_cred *out);

/* As sl_scram_cred_from_password() with a fresh random 32-byte salt from
 * OpenSSL's CSPRNG; password is NUL-terminated. Returns 0 or -1. */
int sl_scram_make_cred(int mech, const char *password, int32_t iterations,
                       struct sl_scram_cred *out);

/* Fills *out from what AlterUserScramCredentials carries: the salt, the
 * client-computed SaltedPassword (exactly sl_scram_key_len(mech) bytes) and
 * the iterations; the broker derives StoredKey and ServerKey. Borrows salt
 * and salted. Returns 0, or -1 on the same conditions as above or a
 * salted_len of the wrong size (the API answers UNACCEPTABLE_CREDENTIAL or
 * UNSUPPORTED_SASL_MECHANISM; that mapping is the caller's). */
int sl_scram_cred_from_salted(int mech, const uint8_t *salt, size_t salt_len,
                              const uint8_t *salted, size_t salted_len, int32_t iterations,
                              struct sl_scram_cred *out);

/* Checks a password against a stored credential: recomputes StoredKey with
 * the stored salt and iterations (the full PBKDF2 cost) and compares it in
 * constant time. Borrows both. Returns 0 on a match, -1 otherwise
 * (including a credential whose mechanism, salt length or iterations are
 * invalid: nothing is computed then). */
int sl_scram_check_password(const struct sl_scram_cred *cred, const char *password,
                            size_t passlen);

/* Fills *out with the made-up credential of a user who has none for mech:
 * salt = the first 32 bytes of HMAC-SHA-256(secret, mech name || 0 || user),
 * stable across restarts for a given secret, different per mechanism (as
 * two real credentials of one user would be), and random-looking keys that
 * no password reaches in practice. iterations 0 means
 * SL_SCRAM_DEFAULT_ITERATIONS; values outside the SCRAM bounds are clamped.
 * Borrows secret and user (NUL-terminated). Callers still treat the result
 * as a failure whatever a proof computes. Returns 0, or -1 for an unknown
 * mechanism or an OpenSSL failure. */
int sl_scram_fake_cred(int mech, const uint8_t secret[32], const char *user, int32_t iterations,
                       struct sl_scram_cred *out);


/* Primitives for the client side of SCRAM (sasl_client.c) and for the
 * `sluice user` CLI, which computes SaltedPassword itself as Kafka's admin
 * client does. Each returns 0 or -1 (unknown mechanism, a length out of
 * bounds, or an OpenSSL failure); out has room for sl_scram_key_len(mech)
 * bytes; everything is borrowed. */

/* out = Hi(password, salt, iterations) = PBKDF2-HMAC-H, dkLen = hLen. The
 * iteration count is not bounded here (a client follows what the server
 * announced), only checked to be positive; passlen <= SL_SASL_PASSWORD_MAX,
 * salt_len 1..SL_SCRAM_SALT_MAX. */
int sl_scram_salted_password(int mech, const char *password, size_t passlen, const uint8_t *salt,
                             size_t salt_len, int32_t iterations, uint8_t *out);

/* out = HMAC-H(key, data). */
int sl_scram_hmac(int mech, const uint8_t *key, size_t keylen, const void *data, size_t len,
                  uint8_t *out);

/* out = H(data). */
int sl_scram_hash(int mech, const uint8_t *data, size_t len, uint8_t *out);

/* Strict base64 (standard alphabet, padded), as the SCRAM messages use it.
 * encode writes 4*ceil(n/3) characters and a NUL at out and returns their
 * count; decode accepts only Kafka's BASE64 pattern, writes at most outcap
 * bytes and returns the byte count or -1. */
size_t sl_scram_b64_encode(const uint8_t *in, size_t n, char *out);
long sl_scram_b64_decode(const char *s, size_t n, uint8_t *out, size_t outcap);

#endif
