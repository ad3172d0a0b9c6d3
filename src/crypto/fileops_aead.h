/* SPDX-License-Identifier: Apache-2.0
 *
 * The sealing file layer of encryption at rest: a `struct sl_fileops` (see
 * storage/fileops.h) stacked on another layer that seals every data file
 * (path ending in ".log": partition segments and the consumer offsets log)
 * batch by batch with AES-256-GCM, and passes every other file through
 * unchanged, except small files written whole through sl_file_replace_blob
 * (producer state snapshots), which blob_seal/blob_open seal as sealed
 * blobs (sealed_format.h) bound to their identity. docs/ENCRYPTION.md
 * describes the formats; in short:
 *
 *   physical file = file header (128 bytes) + frames
 *   file header   = "SLUICEAE", format 1, header size, and two key slots,
 *                   each {seq, KEK version, RFC 5649 wrap of the 32-byte
 *                   data key, CRC-32C}; the valid slot with the highest seq
 *                   wins, so a rewrap writes the other slot (crash-safe)
 *   frame         = clear header {magic "SLFR", length n, logical position,
 *                   96-bit nonce, CRC-32C of these} + n bytes of ciphertext
 *                   + 16-byte GCM tag; one frame per `append` (one batch)
 *   AAD           = the frame's clear header || the file's identity (the
 *                   last two path components, "<topic>-<partition>/<base>.log")
 *   nonce         = 96 bits from RAND_bytes per frame (see the .c file for
 *                   why not a counter)
 *
 * Positions the log sees are logical (plaintext) positions; an in-memory
 * frame table built at open (by walking the clear frame headers) maps them
 * to physical ones. raw_fd is -1 for sealed files: readers use pread, which
 * returns only bytes whose frame authenticated; a frame that fails returns
 * -EBADMSG. At open a torn last frame (a crash mid-append) is hidden (and
 * cut when opened for writing); anything else that does not walk (a damaged
 * header in the middle, a position out of sequence) makes every read at or
 * past it fail with -EBADMSG, so recovery sees damage, not a short file.
 *
 * Crypto-shredding: unlinking a file with a sealed header (a segment or a
 * blob), or renaming a segment to a name that
 * is not sealed ("*.log.deleted"), first zeroes its key slots and syncs, so
 * that topic deletion and retention destroy the only copy of each data key
 * before the file goes (best effort below the file system: an SSD or a
 * copy-on-write file system may keep the old block). Shredding and rewrap
 * of one file exclude each other (one header lock per file identity).
 *
 * Key errors at open: -ENOKEY (the file's KEK version is not in the
 * keyring), -EKEYREJECTED (the KEK does not unwrap the data key: a wrong
 * key), -EPROTO (not a sealed file: written with encryption off, or its
 * header is damaged).
 */
#ifndef SL_CRYPTO_FILEOPS_AEAD_H
#define SL_CRYPTO_FILEOPS_AEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/keyring.h"
#include "crypto/readahead.h"
#include "storage/fileops.h"

struct sl_fileops_aead;

/* A new sealing layer over lower (borrowed, must outlive it) with keys from
 * kr (borrowed, must outlive it and not change while files are open; to
 * change keys, hand over another keyring with sl_fileops_aead_set_keyring). */
struct sl_fileops_aead *sl_fileops_aead_new(const struct sl_fileops *lower,
                                            const struct sl_keyring *kr);
void sl_fileops_aead_free(struct sl_fileops_aead *a);

/* Replaces the keyring (an online rewrap): files created, blobs sealed and
 * files opened from now on use kr. The old keyring must stay alive until
 * the layer is freed (a call that loaded it may still be using it); kr is
 * borrowed the same way. Any thread. */
void sl_fileops_aead_set_keyring(struct sl_fileops_aead *a, const struct sl_keyring *kr);
const struct sl_keyring *sl_fileops_aead_keyring(const struct sl_fileops_aead *a);

/* Read-ahead (readahead.h) with at most `bytes` of plaintext buffers: a
 * file read front to back in runs of whole frames (a catch-up consumer's
 * fetches) has its next run decrypted on a worker thread while the reader
 * is elsewhere. 0: none (the default). Before any file is opened. */
void sl_fileops_aead_set_readahead(struct sl_fileops_aead *a, size_t bytes);

/* Read-ahead's counters; false when it is off. */
bool sl_fileops_aead_readahead_stats(struct sl_fileops_aead *a, struct sl_ra_stats *out);

/* Test hook (SLUICE_TEST_REWRAP_DELAY_MS, docs/ENCRYPTION.md): each rewrap
 * that will write pauses ms milliseconds inside its critical section, after
 * reading the header and before writing the new slot, so that a test can
 * race a shred against it. 0 (the default) for none. */
void sl_fileops_aead_set_rewrap_delay(struct sl_fileops_aead *a, int ms);

/* The vtable to hand to sl_log_open (borrowed from a). */
const struct sl_fileops *sl_fileops_aead_ops(struct sl_fileops_aead *a);

/* True if path names a file this layer seals. */
bool sl_fileops_aead_sealed_path(const char *path);

/* Rewraps the data key of the sealed file at path under the newest KEK of
 * a's keyring, by writing the other key slot and fdatasyncing: a crash
 * leaves either the old or the new wrapping valid. The file may be open
 * (its readers and writers keep their data key; only the header's wrapping
 * changes). Excludes the shredding of the same file (header locks, see the
 * .c file): a shredded file is left shredded. Returns 1 if rewrapped, 0 if
 * there was nothing to do (already under the newest KEK, shredded, gone,
 * or still being created), or -errno. */
int sl_fileops_aead_rewrap(struct sl_fileops_aead *a, const char *path);

/* Reads the KEK version that wraps the data key of the sealed file at path
 * into *version. 0 or -errno. */
int sl_fileops_aead_kek_version(struct sl_fileops_aead *a, const char *path, uint32_t *version);

/* Test hook: calls cb(arg, nonce) for the nonce of every frame of the open
 * sealed file f. Returns the frame count or -errno. */
int sl_fileops_aead_nonces(struct sl_file *f, void (*cb)(void *arg, const uint8_t nonce[12]),
                           void *arg);

#endif
