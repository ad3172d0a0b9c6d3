/* SPDX-License-Identifier: Apache-2.0
 *
 * The client side of the SASL mechanisms Sluice speaks (PLAIN, RFC 4616;
 * SCRAM-SHA-256 and SCRAM-SHA-512, RFC 5802 / RFC 7677, as Kafka's
 * ScramSaslClient), socket-free like the server providers of sasl_mech.h:
 * the caller carries the auth bytes in SaslAuthenticate requests and
 * responses. Used by the `sluice` CLI's Kafka client (src/cli/kclient.c)
 * and by the unit tests.
 *
 * Life of one exchange:
 *
 *     c = sl_sasl_client_new("SCRAM-SHA-512", user, password, NULL, err, n);
 *     in = NULL, inlen = 0;                        // the client speaks first
 *     while ((st = sl_sasl_client_step(c, in, inlen, &out, err, n)) == CONTINUE) {
 *         send out; in = the server's answer;
 *     }
 *     sl_sasl_client_free(c);
 *
 * SCRAM checks of the server's messages: the nonce must extend the
 * client's, the salt must be valid base64 of 1..64 bytes, the iteration
 * count at least 4096 (Kafka's minimum) and at most SL_SASL_CLIENT_MAX_ITER
 * (a bound on the work a hostile server can ask for), and the server
 * signature of server-final must match (compared in constant time): a
 * server that does not know the credential cannot complete the exchange.
 * No SASLprep (Kafka applies none); no channel binding (gs2 flag "n").
 */
#ifndef SL_SECURITY_AUTHN_SASL_CLIENT_H
#define SL_SECURITY_AUTHN_SASL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "security/authn/sasl_mech.h" /* enum sl_sasl_step */

/* The largest SCRAM iteration count a client follows. */
#define SL_SASL_CLIENT_MAX_ITER (1 << 20)

struct sl_sasl_client;

/* Starts an exchange for mechanism mech ("PLAIN", "SCRAM-SHA-256",
 * "SCRAM-SHA-512"). Copies user and password (NUL-terminated UTF-8, 1 to
 * SL_SASL_NAME_MAX / SL_SASL_PASSWORD_MAX bytes). test_nonce: NULL (a
 * random client nonce), or a fixed one for test vectors. Returns a new
 * exchange (free with sl_sasl_client_free), or NULL with err set for an
 * unknown mechanism or an empty or overlong name or password. */
struct sl_sasl_client *sl_sasl_client_new(const char *mech, const char *user,
                                          const char *password, const char *test_nonce,
                                          char *err, size_t errlen);

/* Consumes the server's last message (in[0..inlen), borrowed; NULL/0 on the
 * first call) and produces the next client message: *out is new memory
 * (caller frees with free(); NULL when there is nothing to send) of
 * *outlen bytes. Returns SL_SASL_CONTINUE (send *out, read the answer,
 * call again), SL_SASL_DONE (the exchange succeeded; the server was
 * verified for SCRAM; nothing to send) or SL_SASL_FAIL (err says why; a
 * server message that breaks the protocol, or a bad server signature). */
enum sl_sasl_step sl_sasl_client_step(struct sl_sasl_client *c, const uint8_t *in, size_t inlen,
                                      uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* Wipes the secrets and frees the exchange (NULL allowed). */
void sl_sasl_client_free(struct sl_sasl_client *c);

#endif
