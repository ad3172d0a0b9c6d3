/* SPDX-License-Identifier: Apache-2.0
 *
 * One audit record as bytes: how a line is laid out, how its chained
 * HMAC-SHA-256 is computed, how a line is read back (strictly), and the
 * audit key file. Shared by the writer (audit_writer.c), the start-up scan
 * and the verifier (audit_verify.c). docs/AUDIT.md describes the format.
 *
 * A line is
 *
 *   BODY ,"sluicemac":"<64 lowercase hex>"}\n
 *
 * where BODY is the record's JSON object without its closing brace, members
 * in this order: specversion, id, source, type, time, subject,
 * datacontenttype, sluiceseq, data. The mac is
 *
 *   sluicemac = HMAC-SHA-256(audit key, previous record's mac (32 bytes) || BODY)
 *
 * so the canonical bytes of a record are BODY exactly as written: nothing is
 * re-serialised to verify it. The first record ever chains to 32 zero bytes.
 */
#ifndef SL_SECURITY_AUDIT_AUDIT_RECORD_H
#define SL_SECURITY_AUDIT_AUDIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "security/audit/audit_json.h"

#define SL_AUDIT_KEY_LEN 32
#define SL_AUDIT_MAC_LEN 32
/* Longest line the writer produces and the reader accepts (newline excluded). */
#define SL_AUDIT_LINE_MAX 65536
/* The tail after BODY, before the hex mac. */
#define SL_AUDIT_MAC_MEMBER ",\"sluicemac\":\""

struct evp_mac_ctx_st;

/* A keyed HMAC-SHA-256 context (OpenSSL EVP_MAC), reused for every record. */
struct sl_audit_hmac {
    struct evp_mac_ctx_st *ctx;
};

/* Keys h with key (copied into OpenSSL). Returns 0 or -1. */
int sl_audit_hmac_init(struct sl_audit_hmac *h, const uint8_t key[SL_AUDIT_KEY_LEN]);
void sl_audit_hmac_free(struct sl_audit_hmac *h);
/* out = HMAC(key, prev || body). Borrows everything. Returns 0 or -1. One
 * thread at a time per context. */
int sl_audit_hmac_record(struct sl_audit_hmac *h, const uint8_t prev[SL_AUDIT_MAC_LEN],
                         const void *body, size_t n, uint8_t out[SL_AUDIT_MAC_LEN]);

/* Lowercase hex of a mac into out (65 bytes with the NUL). */
void sl_audit_mac_hex(const uint8_t mac[SL_AUDIT_MAC_LEN], char out[2 * SL_AUDIT_MAC_LEN + 1]);
/* Parses 64 lowercase hex digits. Returns 0 or -1. */
int sl_audit_mac_unhex(const char *s, size_t n, uint8_t mac[SL_AUDIT_MAC_LEN]);

/* A line read back. Pointers go into the line (borrowed by the caller). */
struct sl_audit_rec {
    uint64_t seq;               /* sluiceseq */
    const char *type;           /* CloudEvents type, not NUL-terminated */
    size_t type_len;
    size_t body_len;            /* BODY = line[0..body_len) */
    uint8_t mac[SL_AUDIT_MAC_LEN];
    int data;                   /* token index of the data object in doc */
    struct sl_aj_doc doc;       /* the whole line */
};

/* Parses one line (without its newline): strict JSON, the envelope members
 * present with the right types, specversion "1.0", datacontenttype
 * "application/json", sluicemac last and well-formed. Returns 0, or -1 with
 * why (static text) set. Bounded: at most SL_AUDIT_LINE_MAX bytes. */
int sl_audit_rec_parse(const char *line, size_t len, struct sl_audit_rec *r, const char **why);

/* True when r's type is exactly t. */
bool sl_audit_rec_is(const struct sl_audit_rec *r, const char *t);
/* Member of the data object: unsigned integer / unescaped string / mac in
 * hex. Return 0, or -1 when missing or of another type. */
int sl_audit_rec_u64(const struct sl_audit_rec *r, const char *key, uint64_t *out);
int sl_audit_rec_str(const struct sl_audit_rec *r, const char *key, const char **s, size_t *n);
int sl_audit_rec_mac(const struct sl_audit_rec *r, const char *key, uint8_t mac[SL_AUDIT_MAC_LEN]);

/* Loads the 32-byte audit key from path. A missing file is created (0600,
 * parent directory 0700, RAND_bytes) when create is true. Refuses a file
 * that group or others may read or write, one that is not a regular file,
 * and one that is not exactly 32 bytes. Returns 0, or -1 with err naming the
 * file and the problem. */
int sl_audit_key_load(const char *path, bool create, uint8_t key[SL_AUDIT_KEY_LEN], char *err,
                      size_t errlen);

#endif
