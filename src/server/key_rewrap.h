/* SPDX-License-Identifier: Apache-2.0
 *
 * Online key rewrap (issue 8, docs/ENCRYPTION.md "Rotation and
 * retirement"): asked for with `sluice.keys.rewrap=now` on the BROKER
 * resource (IncrementalAlterConfigs or AlterConfigs, api/configs.c), run
 * by a background thread of the broker:
 *
 *   1. reload the keyring (the key file, or sluice.keys.command), keeping in
 *      memory the versions in use that the file no longer has, refusing a
 *      version whose key bytes changed;
 *   2. hand it to the sealing layer (an atomic pointer swap: new segments
 *      and blobs use the newest version from here on; the keyrings it
 *      replaces are kept until shutdown, calls may still hold them);
 *   3. reseal the metadata store under it;
 *   4. rewrap every sealed file in place (crypto/rewrap_walk.h), repeated
 *      until a pass finds nothing left (a file sealed by a call that loaded
 *      the older keyring just before the swap is caught by the next pass;
 *      at most SL_KEY_REWRAP_PASSES passes).
 *
 * Progress is logged, audited (io.sluice.encryption.rewrap: started, done
 * with counts, failed with the reason) and shown read-only by
 * DescribeConfigs on the BROKER resource (sluice.encryption.rewrap.status).
 * One rewrap at a time: a request while one runs is refused.
 */
#ifndef SL_SERVER_KEY_REWRAP_H
#define SL_SERVER_KEY_REWRAP_H

#include <stddef.h>
#include <stdint.h>

#define SL_KEY_REWRAP_CONFIG "sluice.keys.rewrap"
#define SL_KEY_REWRAP_PASSES 4

struct sl_broker;
struct sl_keyring;

/* Sets up the state (encryption on: after b->aead exists). */
void sl_key_rewrap_init(struct sl_broker *b);

/* Starts a rewrap. Returns 0, or a Kafka error code with msg: INVALID_CONFIG
 * (encryption at rest is off), INVALID_REQUEST (one is running). Any
 * thread; does not block on I/O. */
int16_t sl_key_rewrap_start(struct sl_broker *b, char *msg, size_t msglen);

/* Stops a running rewrap between two files and joins its thread (before the
 * audit log and the stores close). */
void sl_key_rewrap_stop(struct sl_broker *b);

/* Frees the state and every keyring it loaded (after the layer's last
 * user: the end of sl_broker_encryption_stop). */
void sl_key_rewrap_free(struct sl_broker *b);

/* The status (idle, running..., done..., failed: reason) into out. */
void sl_key_rewrap_status(const struct sl_broker *b, char *out, size_t n);

/* The keyring in use (the newest loaded); NULL when encryption is off. */
const struct sl_keyring *sl_key_rewrap_keyring(const struct sl_broker *b);

#endif
