/* SPDX-License-Identifier: Apache-2.0
 *
 * Encryption at rest at broker start: loads (or at first start creates)
 * the keyring and installs the sealing file layer as the broker's file
 * layer, or, when sluice.encryption.enable=false, warns and checks that the
 * data directory was never encrypted.
 */
#ifndef SL_SERVER_ENCRYPTION_H
#define SL_SERVER_ENCRYPTION_H

#include <stddef.h>

struct sl_broker;

/* Sets b->fops (and b->keyring, b->aead when on). Call after the data
 * directory is locked and before anything opens a log. 0 or -1 with err. */
int sl_broker_encryption_start(struct sl_broker *b, char *err, size_t errlen);

/* Frees the layer and wipes the keys; after every file is closed. */
void sl_broker_encryption_stop(struct sl_broker *b);

#endif
