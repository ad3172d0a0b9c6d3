/* SPDX-License-Identifier: Apache-2.0
 *
 * The file format of the local metadata store, exposed for the unit tests
 * and the fuzz target (fuzz/fuzz_meta.c); the broker reaches it only through
 * sl_meta_open_local. Format version 1, text, one record per line:
 *
 *     sluice-meta 1 <body-bytes> <crc32c-of-body, 8 lowercase hex>\n
 *     topic <name> <id, 32 lowercase hex> <partitions>\n
 *     config <key> <value>\n          (overrides of the topic above)
 *     topic ...
 *
 * Fields are separated by one space. Names, keys and values are
 * percent-encoded: bytes 0x21..0x7e other than '%' stand for themselves,
 * every other byte is %XX (upper-case hex), the empty string is "-" and
 * the string "-" is "%2D". Topics are in strictly ascending name order and
 * the configs of a topic in strictly ascending key order, so every store
 * has exactly one encoding (decode then encode gives back the same bytes).
 * The decoder treats the file as untrusted: every length is checked, and
 * any deviation (bad header, length or checksum mismatch, unknown record,
 * bad field, order, duplicate id, limit exceeded) is an error.
 */
#ifndef SL_META_META_LOCAL_H
#define SL_META_META_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "meta/meta.h"

#define SL_META_LOCAL_VERSION 1
#define SL_META_LOCAL_MAX_FILE (64u * 1024u * 1024u)
#define SL_META_LOCAL_FILE "sluice.meta"
#define SL_META_LOCAL_TMP "sluice.meta.tmp"
#define SL_META_LOCAL_LOCK "lock"

/* Decodes a whole store file buf[0..len) (borrowed). On success returns
 * SL_ERR_NONE and *out (new array, free with sl_meta_topics_free; NULL when
 * *n is 0) and *n. On failure returns SL_ERR__CORRUPT with err = "line N:
 * reason" or a header / checksum reason; *out is NULL and *n 0. */
sl_err_t sl_meta_local_decode(const uint8_t *buf, size_t len, struct sl_meta_topic **out, int *n,
                              char *err, size_t errlen);

/* Encodes n topics (borrowed; sorted by name, configs sorted by key, each
 * passing sl_meta__check_topic) into *out (new memory, caller frees) of
 * *outlen bytes. */
void sl_meta_local_encode(const struct sl_meta_topic *t, int n, uint8_t **out, size_t *outlen);

#endif
