/* SPDX-License-Identifier: Apache-2.0
 *
 * The file format of the local metadata store, exposed for the unit tests
 * and the fuzz target (fuzz/fuzz_meta.c); the broker reaches it only through
 * sl_meta_open_local. Format version 3, text, one record per line:
 *
 *     sluice-meta 3 <body-bytes> <crc32c-of-body, 8 lowercase hex>\n
 *     secret <authentication secret, 64 lowercase hex>\n     (exactly once, first)
 *     topic <name> <id, 32 lowercase hex> <partitions>\n
 *     config <key> <value>\n          (overrides of the topic above)
 *     topic ...
 *     scram <user> <mechanism> <iterations> <salt> <stored-key> <server-key>\n
 *     scram ...                        (after every topic)
 *     acl <res> <pattern> <name> <principal> <host> <op> <perm>\n
 *     acl ...                          (after every scram record)
 *
 * Fields are separated by one space. Names, keys, values, users, and the
 * name, principal and host of an ACL binding are
 * percent-encoded: bytes 0x21..0x7e other than '%' stand for themselves,
 * every other byte is %XX (upper-case hex), the empty string is "-" and
 * the string "-" is "%2D". A scram record's mechanism is Kafka's name
 * (SCRAM-SHA-256 or SCRAM-SHA-512), iterations a decimal without leading
 * zeros, and salt and keys lower-case hex: 1..SL_SCRAM_SALT_MAX (128) salt
 * bytes, keys exactly as long as the mechanism's hash (32 or 64 bytes).
 * Iterations and salt lengths are bounded by sasl_mech.h's constants, so
 * those must never shrink once stores exist. Topics are in strictly
 * ascending name order, the configs of a topic in strictly ascending key
 * order, and credentials in strictly ascending (user bytewise, mechanism
 * 256 before 512) order, and ACL bindings in strictly ascending sl_acl_cmp
 * order (the order of sl_acl_set_at), so every store has exactly one
 * encoding (decode
 * then encode gives back the same bytes). The decoder treats the file as
 * untrusted: every length is checked, and any deviation (bad header, length
 * or checksum mismatch, unknown record, bad field, order, duplicate id,
 * credential or ACL binding the store would refuse, limit exceeded) is an
 * error. An acl record's res, pattern, op and perm are Kafka's wire codes
 * in decimal (PROTOCOL.md §6.1: "acl 2 3 payments User:alice * 3 3" allows
 * alice to READ the topic payments from any host); each binding must pass
 * sl_acl_validate, and there are at most SL_ACL_MAX_BINDINGS.
 *
 * Version 2 (Sluice before ACLs) is the same without acl records. It is
 * still read (no ACLs); the next write of the store writes version 3.
 *
 * Version 1 (Sluice before SCRAM) is the same without the secret and scram
 * records. It is still read; the next write of the store writes the
 * current version with a secret made when the store was opened, after
 * which an older Sluice refuses the file (as it refuses any newer
 * version).
 */
#ifndef SL_META_META_LOCAL_H
#define SL_META_META_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/meta.h"

#define SL_META_LOCAL_VERSION 3     /* written */
#define SL_META_LOCAL_VERSION_MIN 1 /* oldest still read */
#define SL_META_LOCAL_MAX_FILE (64u * 1024u * 1024u)
#define SL_META_LOCAL_FILE "sluice.meta"
#define SL_META_LOCAL_TMP "sluice.meta.tmp"
#define SL_META_LOCAL_LOCK "lock"

/* The whole content of a store file, as the codec sees it. */
struct sl_meta_local_store {
    int version;     /* decode: the file's format version; encode: ignored */
    bool has_secret; /* false only for a version-1 file */
    uint8_t secret[SL_META_SECRET_LEN];
    struct sl_meta_topic *topics; /* sorted by name */
    int n_topics;
    struct sl_meta_user_cred *creds; /* sorted by sl_meta__cmp_user_cred */
    int n_creds;
    struct sl_acl_set *acls; /* one reference owned by the store; NULL: none */
};

/* Decodes a whole store file buf[0..len) (borrowed) of any version from
 * SL_META_LOCAL_VERSION_MIN to SL_META_LOCAL_VERSION. On success returns
 * SL_ERR_NONE and fills *out (new memory, free with
 * sl_meta_local_store_clear). On failure returns SL_ERR__CORRUPT with err
 * = "line N: reason" or a header / checksum reason; *out is then zeroed. */
sl_err_t sl_meta_local_decode(const uint8_t *buf, size_t len, struct sl_meta_local_store *out,
                              char *err, size_t errlen);

/* Encodes s (borrowed: has_secret set, topics sorted by name with configs
 * sorted by key, credentials sorted, each passing the checks of meta_int.h,
 * every ACL binding passing sl_acl_validate)
 * in format SL_META_LOCAL_VERSION into *out (new memory, caller frees; it
 * holds the secret and the keys, so wipe it first) of *outlen bytes. */
void sl_meta_local_encode(const struct sl_meta_local_store *s, uint8_t **out, size_t *outlen);

/* Frees (wiping secrets) everything s owns and zeroes it. */
void sl_meta_local_store_clear(struct sl_meta_local_store *s);

#endif
