/* SPDX-License-Identifier: Apache-2.0
 *
 * The keyring: versioned 32-byte key-encryption keys (KEKs) that wrap the
 * per-file data keys of encryption at rest. The newest version wraps new
 * data keys; older versions stay to unwrap what they wrapped until
 * `sluice keys rewrap` has moved every data key to the newest one.
 *
 * Text format (the key file, and the standard output of sluice.keys.command):
 *
 *     sluice-keyring 1\n                 first line, exactly
 *     # any comment\n                     comments and empty lines anywhere
 *     key <version> <64 hex digits>\n     one per version, 1..4294967295
 *
 * Versions are unique (any order); at least one key, at most
 * SL_KEYRING_MAX. Every other line is an error. Error messages name the
 * line number and never include key material.
 *
 * The default provider is a file (sluice.keys.file, default
 * <data dir>/keys/keyring) that must be a regular file of mode 0600 or
 * 0400 owned by the broker's user; it is created with one RAND_bytes key at
 * first start. The alternative runs sluice.keys.command with /bin/sh -c and
 * parses its standard output (exit status 0 required), so a vault or KMS can
 * hold the keys.
 */
#ifndef SL_CRYPTO_KEYRING_H
#define SL_CRYPTO_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_KEYRING_MAX 1024
#define SL_KEK_LEN 32

struct sl_kek {
    uint32_t version;
    uint8_t key[SL_KEK_LEN];
};

struct sl_keyring {
    struct sl_kek *keys; /* sorted by version, ascending */
    size_t n;
};

/* Parses text (len bytes, need not be NUL-terminated) into kr (emptied
 * first). Returns 0, or -1 with err = "line N: reason". Borrows text. */
int sl_keyring_parse(const char *text, size_t len, struct sl_keyring *kr, char *err,
                     size_t errlen);

/* Wipes and frees the keys. */
void sl_keyring_free(struct sl_keyring *kr);

/* The newest key, or the one of that version; NULL if none. Borrowed. */
const struct sl_kek *sl_keyring_newest(const struct sl_keyring *kr);
const struct sl_kek *sl_keyring_find(const struct sl_keyring *kr, uint32_t version);

/* Formats kr in the text format: new memory (caller wipes with
 * OPENSSL_cleanse and frees), *len bytes plus a NUL. */
char *sl_keyring_format(const struct sl_keyring *kr, size_t *len);

/* Loads the key file at path: refuses (-1, err naming the file and its
 * mode) unless it is a regular file with no group or other permission bits.
 * With create, a missing file is created (parent directory 0700 included)
 * with one new key of version 1, and *created is set. */
int sl_keyring_load_file(const char *path, bool create, struct sl_keyring *kr, bool *created,
                         char *err, size_t errlen);

/* Runs cmd with /bin/sh -c, reads at most 64 KiB of its standard output and
 * parses it. The command's standard error passes through; a non-zero exit
 * is an error. Never logs the output. */
int sl_keyring_load_command(const char *cmd, struct sl_keyring *kr, char *err, size_t errlen);

/* Adds to kr every key of in_use whose version kr lacks (a reloaded key
 * file keeps, in memory, the versions still in use that were removed from
 * it). A version in both with different key bytes is refused (-1, err
 * naming the version): a changed key would leave files unreadable. 0 or
 * -1; kr is unchanged on failure. */
int sl_keyring_merge(struct sl_keyring *kr, const struct sl_keyring *in_use, char *err,
                     size_t errlen);

/* Adds a new version (newest + 1) with a RAND_bytes key. 0 or -1. */
int sl_keyring_add(struct sl_keyring *kr, char *err, size_t errlen);

/* Writes kr to path durably and atomically (path.tmp, mode 0600, fsync,
 * rename, fsync of the directory). 0 or -1 with err. */
int sl_keyring_store_file(const char *path, const struct sl_keyring *kr, char *err,
                          size_t errlen);

#endif
