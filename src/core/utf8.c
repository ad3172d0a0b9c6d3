/* SPDX-License-Identifier: Apache-2.0
 *
 * UTF-8 decoder and encoder (see utf8.h). The decoder checks each
 * continuation byte against the ranges of Unicode's table of well-formed
 * byte sequences (Table 3-7), so that an error stops at the first byte that
 * cannot continue the sequence: that is the maximal subpart. The one
 * exception is Java's: after ED it accepts A0..BF too, and a sequence that
 * decodes to a surrogate is then one error (Unicode would make ED, A0 and
 * the last byte three errors).
 */
#include "core/utf8.h"

size_t sl_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char b0 = u[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t need;         // continuation bytes after the lead
    unsigned char lo, hi; // allowed range of the first continuation byte
    uint32_t v;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1, lo = 0x80, hi = 0xBF, v = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2, v = b0 & 0x0Fu;
        lo = b0 == 0xE0 ? 0xA0 : 0x80; // no overlong forms
        hi = 0xBF; // ED A0..BF: a surrogate, refused once decoded (see below)
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3, v = b0 & 0x07u;
        lo = b0 == 0xF0 ? 0x90 : 0x80; // no overlong forms
        hi = b0 == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
    } else {
        *cp = SL_UTF8_INVALID; // stray continuation byte, C0, C1, F5..FF
        return 1;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        if (i >= len || u[i] < lo || u[i] > hi) {
            *cp = SL_UTF8_INVALID;
            return i;
        }
        v = (v << 6) | (u[i] & 0x3Fu);
        lo = 0x80, hi = 0xBF; // later continuation bytes take the full range
    }
    if (v >= 0xD800 && v <= 0xDFFF)
        v = SL_UTF8_INVALID; // as Java: one error for the three bytes
    *cp = v;
    return i;
}

size_t sl_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
