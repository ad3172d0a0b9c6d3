/* SPDX-License-Identifier: Apache-2.0
 *
 * The JSON of the audit log, both ways. Writing: a small object builder over
 * an sl_wbuf that escapes every string so that any bytes a peer chose (client
 * ids, user names, certificate subjects) stay inside one line: control
 * characters and DEL become \uXXXX escapes, '"' and '\\' are escaped, and
 * ill-formed UTF-8 is replaced by U+FFFD (one per ill-formed subsequence, as
 * core/utf8.c splits them). Strings longer than SL_AJ_STR_MAX input bytes are
 * cut at a character boundary and end with "...".
 *
 * Reading: a strict, bounded tokenizer (in the manner of jsmn) for one line
 * of the audit log, the verifier's input and so a fuzz target: RFC 8259
 * syntax, integers only (no fractions or exponents: the log writes none),
 * strings of well-formed UTF-8 without raw control characters, at most
 * SL_AJ_MAX_DEPTH levels and SL_AJ_MAX_TOKENS tokens. Nothing is allocated:
 * tokens are offsets into the caller's bytes.
 */
#ifndef SL_SECURITY_AUDIT_AUDIT_JSON_H
#define SL_SECURITY_AUDIT_AUDIT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/wbuf.h"

#define SL_AJ_STR_MAX 1024
#define SL_AJ_MAX_DEPTH 8
#define SL_AJ_MAX_TOKENS 512

/* ---- writing ---- */

/* An object being written: tracks whether a member needs a comma. */
struct sl_aj {
    struct sl_wbuf *w;
    int depth;
    bool need_comma[SL_AJ_MAX_DEPTH + 1];
};

/* Starts writing into w (borrowed, appended to). */
void sl_aj_init(struct sl_aj *j, struct sl_wbuf *w);
void sl_aj_obj_begin(struct sl_aj *j);
void sl_aj_obj_end(struct sl_aj *j);
void sl_aj_arr_begin(struct sl_aj *j);
void sl_aj_arr_end(struct sl_aj *j);
/* Writes "key": (key is trusted ASCII, not escaped). Then one value call. */
void sl_aj_key(struct sl_aj *j, const char *key);
/* The same for a key chosen by a peer (escaped like a string value). */
void sl_aj_key_str(struct sl_aj *j, const char *key, size_t n);
/* Values (a value inside an array also gets its comma). */
void sl_aj_str(struct sl_aj *j, const char *s, size_t n); /* escaped, any bytes */
void sl_aj_cstr(struct sl_aj *j, const char *s);          /* NULL writes null */
void sl_aj_u64(struct sl_aj *j, uint64_t v);
void sl_aj_i64(struct sl_aj *j, int64_t v);
void sl_aj_bool(struct sl_aj *j, bool v);
void sl_aj_null(struct sl_aj *j);
/* Shorthands for a member: key then value. */
void sl_aj_kstr(struct sl_aj *j, const char *key, const char *s, size_t n);
void sl_aj_kcstr(struct sl_aj *j, const char *key, const char *s); /* NULL: member left out */
void sl_aj_ku64(struct sl_aj *j, const char *key, uint64_t v);
void sl_aj_ki64(struct sl_aj *j, const char *key, int64_t v);
void sl_aj_kbool(struct sl_aj *j, const char *key, bool v);
/* A member whose value is json[0..n), written as is: the caller has checked
 * that it is one well-formed JSON value (sl_aj_parse). */
void sl_aj_kraw(struct sl_aj *j, const char *key, const char *json, size_t n);

/* Appends s[0..n) to w as the inside of a JSON string (no quotes), with the
 * escaping and replacement rules above. */
void sl_aj_escape(struct sl_wbuf *w, const char *s, size_t n);

/* The number of JSON values in p[0..n), bytes this writer produced (strings,
 * keys included, numbers, literals, objects and arrays: what the reader
 * counts against SL_AJ_MAX_TOKENS). */
int sl_aj_count_values(const uint8_t *p, size_t n);

/* What one record's data may hold so that its line stays within what the
 * reader takes (the envelope adds fewer than 100 values and a few KiB):
 * records that could grow with a request (changes, intents) keep below. */
#define SL_AJ_DATA_MAX_VALUES 400
#define SL_AJ_DATA_MAX_BYTES (32 * 1024)

/* ---- reading ---- */

enum sl_aj_type {
    SL_AJ_OBJECT = 0,
    SL_AJ_ARRAY,
    SL_AJ_STRING, /* start/end exclude the quotes; escapes left in place */
    SL_AJ_NUMBER, /* an integer */
    SL_AJ_TRUE,
    SL_AJ_FALSE,
    SL_AJ_NULL,
    SL_AJ_TYPE_MAX
};

struct sl_aj_tok {
    uint8_t type;    /* enum sl_aj_type */
    bool escaped;    /* strings: contains a backslash escape */
    int32_t parent;  /* token index, -1 for the root */
    uint32_t start, end; /* byte range in the input */
    int32_t size;    /* objects: members; arrays: elements */
    int32_t next;    /* index of the token after this one and its children */
};

struct sl_aj_doc {
    const char *src;
    size_t len;
    int n;
    struct sl_aj_tok tok[SL_AJ_MAX_TOKENS];
};

/* Parses src[0..len) (borrowed for the life of doc) as exactly one JSON
 * value with nothing after it. Returns 0, or -1 with why (a static string)
 * and *at (the byte offset of the problem) set. */
int sl_aj_parse(struct sl_aj_doc *doc, const char *src, size_t len, const char **why,
                size_t *at);

/* In object token obj, returns the index of the value of member key (the
 * key compared byte for byte, so an escaped key never matches), or -1. */
int sl_aj_get(const struct sl_aj_doc *doc, int obj, const char *key);
/* Value helpers: return 0 and fill *out, or -1 when the token is missing
 * (idx < 0) or of another type. */
int sl_aj_get_u64(const struct sl_aj_doc *doc, int idx, uint64_t *out);
/* An unescaped string: *s points into the source. */
int sl_aj_get_raw(const struct sl_aj_doc *doc, int idx, const char **s, size_t *n);
/* True when string token idx equals lit exactly (unescaped). */
bool sl_aj_streq(const struct sl_aj_doc *doc, int idx, const char *lit);

#endif
