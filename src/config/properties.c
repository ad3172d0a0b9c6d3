/* SPDX-License-Identifier: Apache-2.0
 *
 * Java .properties parser (see properties.h for the syntax). Two passes per
 * logical line, as java.util.Properties does: the line reader joins
 * continued natural lines and drops comments and blank lines, leaving other
 * escapes in place; then the key/value splitter finds the separator and each
 * part is unescaped into UTF-8. The parser allocates one growable buffer for
 * the logical line and one for the unescaped output, both bounded by the
 * input size.
 */
#include "config/properties.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/mem.h"

/* A growable byte buffer (private). */
struct pbuf {
    char *p;
    size_t len, cap;
};

static void pbuf_reserve(struct pbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->p = sl_xrealloc(b->p, cap);
    b->cap = cap;
}

static void pbuf_putc(struct pbuf *b, char c)
{
    pbuf_reserve(b, 1);
    b->p[b->len++] = c;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

/* Reads the 4 hex digits of a \uXXXX escape at s[0..n). Returns the code
 * unit, or -1 when malformed. */
static long read_u4(const char *s, size_t n)
{
    if (n < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = sl_hex_digit(s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static void put_utf8(struct pbuf *out, uint32_t cp)
{
    if (cp < 0x80) {
        pbuf_putc(out, (char)cp);
    } else if (cp < 0x800) {
        pbuf_putc(out, (char)(0xC0 | (cp >> 6)));
        pbuf_putc(out, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        pbuf_putc(out, (char)(0xE0 | (cp >> 12)));
        pbuf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
        pbuf_putc(out, (char)(0x80 | (cp & 0x3F)));
    } else {
        pbuf_putc(out, (char)(0xF0 | (cp >> 18)));
        pbuf_putc(out, (char)(0x80 | ((cp >> 12) & 0x3F)));
        pbuf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
        pbuf_putc(out, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Unescapes s[0..n) into out (reset first, NUL-terminated). Returns NULL or
 * a static reason. */
static const char *unescape(const char *s, size_t n, struct pbuf *out)
{
    out->len = 0;
    pbuf_reserve(out, n);
    size_t i = 0;
    while (i < n) {
        char c = s[i++];
        if (c != '\\') {
            pbuf_putc(out, c);
            continue;
        }
        if (i == n) /* a lone trailing backslash: Java drops it too */
            break;
        c = s[i++];
        switch (c) {
        case 't': pbuf_putc(out, '\t'); break;
        case 'n': pbuf_putc(out, '\n'); break;
        case 'r': pbuf_putc(out, '\r'); break;
        case 'f': pbuf_putc(out, '\f'); break;
        case 'u': {
            long u = read_u4(s + i, n - i);
            if (u < 0)
                return "malformed \\uXXXX escape";
            i += 4;
            uint32_t cp = (uint32_t)u;
            if (cp == 0)
                return "\\u0000 (NUL) is not allowed";
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return "unpaired UTF-16 surrogate in \\u escape";
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                /* A high surrogate must be followed by \u and a low one. */
                long lo = -1;
                if (n - i >= 6 && s[i] == '\\' && s[i + 1] == 'u')
                    lo = read_u4(s + i + 2, n - i - 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return "unpaired UTF-16 surrogate in \\u escape";
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            }
            put_utf8(out, cp);
            break;
        }
        default: pbuf_putc(out, c); break;
        }
    }
    out->p[out->len] = '\0';
    return NULL;
}

/* Reader state over the whole input. */
struct reader {
    const char *buf;
    size_t len, pos;
    int line; /* 1-based number of the natural line at pos */
};

/* Consumes one line terminator at r->pos (\n, \r or \r\n), if any. */
static void eat_eol(struct reader *r)
{
    if (r->pos >= r->len)
        return;
    if (r->buf[r->pos] == '\r') {
        r->pos++;
        if (r->pos < r->len && r->buf[r->pos] == '\n')
            r->pos++;
        r->line++;
    } else if (r->buf[r->pos] == '\n') {
        r->pos++;
        r->line++;
    }
}

static bool at_eol(const struct reader *r)
{
    return r->pos >= r->len || r->buf[r->pos] == '\n' || r->buf[r->pos] == '\r';
}

/* Reads the next logical line into ln (not NUL-terminated; escapes kept,
 * continuations joined). Returns false at the end of input. *start gets the
 * line number where it began. */
static bool read_logical(struct reader *r, struct pbuf *ln, int *start)
{
    ln->len = 0;
    for (;;) {
        /* Skip leading blanks and whole blank or comment lines. */
        while (r->pos < r->len && is_blank(r->buf[r->pos]))
            r->pos++;
        if (r->pos >= r->len)
            return false;
        char c = r->buf[r->pos];
        if (c == '\n' || c == '\r') {
            eat_eol(r);
            continue;
        }
        if (c == '#' || c == '!') {
            while (!at_eol(r))
                r->pos++;
            eat_eol(r);
            continue;
        }
        break;
    }
    *start = r->line;
    for (;;) {
        /* Copy one natural line, tracking the parity of trailing backslashes. */
        bool odd = false;
        while (!at_eol(r)) {
            char c = r->buf[r->pos++];
            odd = (c == '\\') ? !odd : false;
            pbuf_putc(ln, c);
        }
        bool eof = r->pos >= r->len;
        eat_eol(r);
        if (!odd)
            return true;
        ln->len--; /* drop the continuation backslash */
        if (eof)
            return true;
        /* The continuation line's leading blanks are dropped; an empty
         * continuation line ends the logical line (Java does the same). */
        while (r->pos < r->len && is_blank(r->buf[r->pos]))
            r->pos++;
        if (at_eol(r)) {
            eat_eol(r);
            return true;
        }
    }
}

sl_err_t sl_properties_parse(const char *name, const char *buf, size_t len, sl_properties_cb cb,
                             void *arg, char *err, size_t errlen)
{
    sl_err_t rc = SL_ERR_NONE;
    struct reader r = {buf, len, 0, 1};
    struct pbuf ln = {0}, key = {0}, val = {0};
    int start = 0;

    if (memchr(buf, '\0', len)) {
        /* Name the line of the first NUL, so the operator can find it. */
        const char *z = memchr(buf, '\0', len);
        int line = 1;
        for (const char *p = buf; p < z; p++)
            if (*p == '\n' || (*p == '\r' && (p + 1 == z || p[1] != '\n')))
                line++;
        snprintf(err, errlen, "%s:%d: NUL byte in the file", name, line);
        return SL_ERR__INVAL;
    }

    while (read_logical(&r, &ln, &start)) {
        /* Split key and value exactly as Properties.load0 does. */
        size_t klen = 0, vstart = ln.len;
        bool has_sep = false, backslash = false;
        while (klen < ln.len) {
            char c = ln.p[klen];
            if ((c == '=' || c == ':') && !backslash) {
                vstart = klen + 1;
                has_sep = true;
                break;
            }
            if (is_blank(c) && !backslash) {
                vstart = klen + 1;
                break;
            }
            backslash = (c == '\\') ? !backslash : false;
            klen++;
        }
        while (vstart < ln.len) {
            char c = ln.p[vstart];
            if (!is_blank(c)) {
                if (!has_sep && (c == '=' || c == ':'))
                    has_sep = true;
                else
                    break;
            }
            vstart++;
        }
        const char *why = unescape(ln.p, klen, &key);
        if (!why)
            why = unescape(ln.p + vstart, ln.len - vstart, &val);
        if (why) {
            snprintf(err, errlen, "%s:%d: %s", name, start, why);
            rc = SL_ERR__INVAL;
            goto out;
        }
        rc = cb(arg, key.p, val.p, start, err, errlen);
        if (rc != SL_ERR_NONE)
            goto out;
    }
out:
    free(ln.p);
    free(key.p);
    free(val.p);
    return rc;
}
