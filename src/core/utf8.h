/* SPDX-License-Identifier: Apache-2.0
 *
 * UTF-8 decoding and encoding for code that must treat text the way Java
 * does once bytes have become a String: certificate subjects (tls/tls_dn.c)
 * and principal mapping rules (security/authn/principal_rules.c). Decoding
 * splits ill-formed input into errors exactly where Java's UTF-8 decoder
 * (new String(bytes, UTF_8)) puts one U+FFFD each: Unicode's "maximal
 * subpart" practice, except that an encoded surrogate (ED A0..BF 80..BF) is
 * a single error.
 */
#ifndef SL_CORE_UTF8_H
#define SL_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Marks an ill-formed subsequence in sl_utf8_decode's *cp. */
#define SL_UTF8_INVALID UINT32_MAX

/* Decodes one character from s[0..len) (borrowed, len >= 1). Sets *cp to the
 * code point, or to SL_UTF8_INVALID for an ill-formed subsequence (overlong
 * forms, surrogates, values above U+10FFFF, truncated or stray bytes).
 * Returns the bytes consumed: the sequence length, or for an error the length
 * of the ill-formed part (1 to 3). Thread-safe. */
size_t sl_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encodes cp (at most U+10FFFF, not a surrogate) into out[0..4). Returns the
 * number of bytes written (1 to 4). Thread-safe. */
size_t sl_utf8_encode(uint32_t cp, char out[4]);

#endif
