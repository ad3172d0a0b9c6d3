/* SPDX-License-Identifier: Apache-2.0
 *
 * Choosing the keyring of a data directory, for the broker and the offline
 * `sluice keys` commands alike: sluice.keys.command when set, else the key
 * file (sluice.keys.file, default <data dir>/keys/keyring). Also the data
 * directory's encryption marker (<data dir>/encryption), written at the
 * first start with encryption on, so that a later start with it off, or
 * without the keys, is refused instead of reading sealed files as garbage
 * or generating a new, wrong key.
 */
#ifndef SL_CRYPTO_KEY_PROVIDER_H
#define SL_CRYPTO_KEY_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/keyring.h"

#define SL_ENCRYPTION_MARKER "encryption"

/* Writes "<data_dir>/keys/keyring" (or keys_file when set) into out. */
void sl_keys_default_path(const char *data_dir, const char *keys_file, char *out, size_t n);

/* True if the data directory holds the encryption marker. */
bool sl_keys_marker_present(const char *data_dir);

/* Writes the marker durably. 0 or -1 with err. */
int sl_keys_marker_write(const char *data_dir, char *err, size_t errlen);

/* Loads the keyring for data_dir. keys_command (may be NULL/empty) wins
 * over the file. A missing key file is created (one random key) only when
 * create is true AND the marker is absent; *created reports it. 0 or -1
 * with err (naming the file or the command's status, never key bytes). */
int sl_keys_load(const char *data_dir, const char *keys_file, const char *keys_command,
                 bool create, struct sl_keyring *kr, bool *created, char *err, size_t errlen);

#endif
