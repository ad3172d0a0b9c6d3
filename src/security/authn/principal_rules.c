/* SPDX-License-Identifier: Apache-2.0
 *
 * ssl.principal.mapping.rules (see principal_rules.h for the semantics).
 *
 * Kafka defines the syntax with two Java regexes: a splitter that a find()
 * loop runs over the trimmed spec, and a per-rule parser whose whole-rule
 * match is checked with lookingAt(). This file reads the spec with a small
 * hand-written scanner that makes the same choices those regexes make,
 * including where their backtracking ends up (the reasoning is next to each
 * step). Patterns are compiled with PCRE2. Applying a rule reproduces Java's
 * matches(), Kafka's back-reference rewrite, String.replaceAll (the find()
 * loop with its one-character step after an empty match, and the
 * replacement syntax of Matcher.appendReplacement) and the L/U case mapping.
 *
 * Case mapping takes Unicode's simple mappings from the C library
 * (towlower_l/towupper_l in the C.UTF-8 locale, which glibc 2.35 and later
 * build in; without it only ASCII changes case) and adds Java's one-to-many
 * mappings from a table.
 *
 * Left out: Java regex syntax that PCRE2 lacks (refused at parse time), and
 * the few behaviours listed in the header's last paragraph.
 */
#include "security/authn/principal_rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <limits.h>
#include <locale.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "core/mem.h"
#include "core/utf8.h"

/* Longest result a replacement may build before the L/U mapping and the
 * caller's buffer limit apply: a pattern that matches the empty string
 * everywhere multiplies the replacement by the DN length. */
#define MAP_MAX_LEN 65536

/* PCRE2 backtracking budget per pcre2_match call. Java has none; a rule that
 * needs more than this on a DN is refused rather than left to spin. */
#define MAP_MATCH_LIMIT 1000000

/* PCRE2 backtracking memory per pcre2_match call, in KiB (PCRE2's default
 * is practically unbounded). */
#define MAP_HEAP_LIMIT_KIB 16384

struct rule {
    char *text;         // the rule as cut from the spec, for messages
    bool is_default;    // DEFAULT: the DN as it is
    char *pattern;      // RULE: the pattern as written (for format)
    char *repl;         // RULE: the replacement as written
    char flag;          // RULE: 0, 'L' or 'U'
    pcre2_code *re;     // RULE: compiled pattern
    uint32_t ngroups;   // RULE: capture groups in the pattern
};

struct sl_principal_rules {
    struct rule *rules;
    size_t n;
    locale_t loc; // C.UTF-8 for the case mappings, or (locale_t)0: ASCII only
};

/* ---- a growable string (private) ---- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = sl_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sbuf_putc(struct sbuf *b, char c)
{
    sbuf_put(b, &c, 1);
}

/* Inserts c at byte offset at (<= len). */
static void sbuf_insert(struct sbuf *b, size_t at, char c)
{
    sbuf_putc(b, c);
    memmove(b->p + at + 1, b->p + at, b->len - 1 - at);
    b->p[at] = c;
}

/* ---- the spec scanner ---- */

/* Java's \s (without UNICODE_CHARACTER_CLASS). */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The characters Java's '.' does not match (no DOTALL, no UNIX_LINES). */
static bool is_line_end(uint32_t cp)
{
    return cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

/* Length of the character at s[k] (k < len); *cp gets its code point. */
static size_t char_at(const char *s, size_t len, size_t k, uint32_t *cp)
{
    return sl_utf8_decode(s + k, len - k, cp);
}

/* Java's '$' without MULTILINE at position k: the end of the text, or just
 * before a line terminator that ends it ("\r\n" counting as one, and no
 * match between its two characters). */
static bool at_dollar(const char *s, size_t len, size_t k)
{
    if (k == len)
        return true;
    if (len - k == 2 && s[k] == '\r' && s[k + 1] == '\n')
        return true;
    uint32_t cp;
    if (k + char_at(s, len, k, &cp) != len || !is_line_end(cp))
        return false;
    return !(cp == '\n' && k > 0 && s[k - 1] == '\r');
}

/* The splitter's tail after a rule, \s*(,\s*|$), tried at k. Returns where
 * it ends, or SIZE_MAX if it cannot match at k. The greedy \s* is tried
 * longest first, then shorter (only '$' can match after a blank). */
static size_t tail_at(const char *s, size_t len, size_t k)
{
    size_t w = k;
    while (w < len && is_blank(s[w]))
        w++;
    if (w < len && s[w] == ',') {
        w++;
        while (w < len && is_blank(s[w]))
            w++;
        return w;
    }
    /* '$' matches only within the last three bytes (the end, "\r\n", or
     * one line terminator of at most three bytes). */
    size_t lo = len > k + 3 ? len - 3 : k;
    for (size_t p = w + 1; p-- > lo;)
        if (at_dollar(s, len, p))
            return p;
    return SIZE_MAX;
}

/* The pattern or replacement part of a RULE:, (\\.|[^\\/])*, from k: pairs
 * "\c" (c not a line end) and single characters other than '\' and '/'.
 * Returns where it stops. The split into pairs and singles is unique, so no
 * backtracking can make a shorter run end in front of an unescaped '/'. */
static size_t scan_part(const char *s, size_t len, size_t k)
{
    while (k < len) {
        if (s[k] == '/')
            break;
        if (s[k] == '\\') {
            uint32_t cp;
            if (k + 1 == len)
                break;
            size_t n = char_at(s, len, k + 1, &cp);
            if (is_line_end(cp))
                break;
            k += 1 + n;
        } else {
            uint32_t cp;
            k += char_at(s, len, k, &cp);
        }
    }
    return k;
}

/* Matches "RULE:" part '/' part '/' [LU]? from g. Returns the position after
 * the optional flag, or SIZE_MAX; *pat_end and *repl_end get the positions of
 * the second and third '/'. */
static size_t scan_rule(const char *s, size_t len, size_t g, size_t *pat_end, size_t *repl_end)
{
    if (len - g < 5 || memcmp(s + g, "RULE:", 5) != 0)
        return SIZE_MAX;
    size_t k = scan_part(s, len, g + 5);
    if (k == len || s[k] != '/')
        return SIZE_MAX;
    size_t m = scan_part(s, len, k + 1);
    if (m == len || s[m] != '/')
        return SIZE_MAX;
    *pat_end = k;
    *repl_end = m;
    m++;
    if (m < len && (s[m] == 'L' || s[m] == 'U'))
        m++;
    return m;
}

/* The lazy ".*?" followed by the tail, from q: the first q' >= q where the
 * tail matches, without crossing a line end. Returns q' and sets *end to the
 * tail's end, or returns SIZE_MAX. */
static size_t lazy_to_tail(const char *s, size_t len, size_t q, size_t *end)
{
    for (;;) {
        size_t e = tail_at(s, len, q);
        if (e != SIZE_MAX) {
            *end = e;
            return q;
        }
        if (q == len)
            return SIZE_MAX;
        if (is_blank(s[q])) {
            /* The tail fails at every later position of this blank run too
             * (it sees the same text after the run), so cross the run at
             * once, unless it holds a line end that '.' cannot pass. */
            for (; q < len && is_blank(s[q]); q++)
                if (s[q] == '\n' || s[q] == '\r')
                    return SIZE_MAX;
            continue;
        }
        uint32_t cp;
        size_t n = char_at(s, len, q, &cp);
        if (is_line_end(cp))
            return SIZE_MAX;
        q += n;
    }
}

/* One attempt of the splitter at start position i:
 *   \s* ( DEFAULT | RULE:part/part/[LU]?.*? | .*? ) \s* (,\s*|$)
 * On success sets [*gs, *ge) to the rule text and *me to the match end.
 *
 * The alternatives are tried in order after the longest blank run. Giving
 * blanks back to the leading \s* cannot help: the text is trimmed, so '$'
 * never matches at a blank, and the third alternative started on a blank
 * meets the same positions as when started after the run. In the RULE:
 * alternative, the optional flag likewise changes nothing when given back. */
static bool split_at(const char *s, size_t len, size_t i, size_t *gs, size_t *ge, size_t *me)
{
    size_t g = i;
    while (g < len && is_blank(s[g]))
        g++;
    *gs = g;
    if (len - g >= 7 && memcmp(s + g, "DEFAULT", 7) == 0) {
        size_t e = tail_at(s, len, g + 7);
        if (e != SIZE_MAX) {
            *ge = g + 7, *me = e;
            return true;
        }
    }
    size_t pe, re;
    size_t q = scan_rule(s, len, g, &pe, &re);
    if (q != SIZE_MAX) {
        q = lazy_to_tail(s, len, q, me);
        if (q != SIZE_MAX) {
            *ge = q;
            return true;
        }
    }
    q = lazy_to_tail(s, len, g, me);
    if (q != SIZE_MAX) {
        *ge = q;
        return true;
    }
    return false;
}

/* ---- building the rule list ---- */

/* Writes "rule N 'TEXT': why" into err. */
static void rule_error(char *err, size_t errlen, size_t num, const char *text, size_t tlen,
                       const char *why)
{
    if (errlen)
        snprintf(err, errlen, "rule %zu '%.*s': %s", num, (int)(tlen > 1024 ? 1024 : tlen), text,
                 why);
}

/* Compiles a RULE's pattern into r. Returns 0, or -1 with the reason in why. */
static int compile_pattern(struct rule *r, char *why, size_t whylen)
{
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (!cctx)
        abort();
    /* Java's '.' and '$' know \n, \r, \r\n, U+0085, U+2028 and U+2029 as
     * line ends; ANY is the PCRE2 convention that covers them all. */
    pcre2_set_newline(cctx, PCRE2_NEWLINE_ANY);
    int code;
    PCRE2_SIZE off;
    r->re = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C, &code,
                          &off, cctx);
    pcre2_compile_context_free(cctx);
    if (!r->re) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", code);
        snprintf(why, whylen, "bad pattern at offset %zu: %s", (size_t)off, (const char *)msg);
        return -1;
    }
    pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &r->ngroups);
    return 0;
}

/* Reads one rule text t[0..n) as Kafka's rule parser does (a lookingAt()
 * that must end at the end of the rule) into r. Returns 1 for a rule, 0 for
 * an empty (ignored) one, -1 with err set. */
static int read_rule(const char *t, size_t n, size_t num, struct rule *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (n == 0)
        return 0;
    size_t end;
    size_t pe = 0, re = 0;
    if (n >= 7 && memcmp(t, "DEFAULT", 7) == 0) {
        end = 7;
        r->is_default = true;
    } else if ((end = scan_rule(t, n, 0, &pe, &re)) == SIZE_MAX) {
        rule_error(err, errlen, num, t, n,
                   n >= 5 && memcmp(t, "RULE:", 5) == 0
                       ? "expected RULE:pattern/replacement/ and an optional L or U (a rule "
                         "that lacks its third unescaped '/' ends at the next comma)"
                       : "expected DEFAULT or RULE:pattern/replacement/ and an optional L or U");
        return -1;
    }
    if (end != n) {
        char why[160];
        snprintf(why, sizeof why, "unexpected '%.*s' after the rule",
                 (int)(n - end > 100 ? 100 : n - end), t + end);
        rule_error(err, errlen, num, t, n, why);
        return -1;
    }
    r->text = sl_xstrndup(t, n);
    if (r->is_default)
        return 1;
    r->pattern = sl_xstrndup(t + 5, pe - 5);
    r->repl = sl_xstrndup(t + pe + 1, re - pe - 1);
    r->flag = re + 1 < n ? t[re + 1] : 0;
    char why[256];
    if (compile_pattern(r, why, sizeof why) < 0) {
        rule_error(err, errlen, num, t, n, why);
        return -1;
    }
    return 1;
}

static void rule_free(struct rule *r)
{
    sl_free(&r->text);
    sl_free(&r->pattern);
    sl_free(&r->repl);
    pcre2_code_free(r->re);
    r->re = NULL;
}

void sl_principal_rules_free(struct sl_principal_rules *pr)
{
    if (!pr)
        return;
    for (size_t i = 0; i < pr->n; i++)
        rule_free(&pr->rules[i]);
    free(pr->rules);
    if (pr->loc)
        freelocale(pr->loc);
    free(pr);
}

struct sl_principal_rules *sl_principal_rules_parse(const char *spec, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!spec)
        spec = "DEFAULT";
    /* String.trim(): every character <= U+0020 at both ends. */
    size_t len = strlen(spec);
    while (len > 0 && (unsigned char)spec[len - 1] <= 0x20)
        len--;
    while (len > 0 && (unsigned char)spec[0] <= 0x20)
        spec++, len--;

    struct sl_principal_rules *pr = sl_xcalloc(1, sizeof *pr);
    size_t cap = 0, num = 0;
    /* Matcher.find() over the whole text: each attempt starts where the last
     * match ended, one character further after an empty match, and a failed
     * attempt moves on to the next start position. */
    size_t from = 0;
    while (from <= len) {
        size_t i = from, gs = 0, ge = 0, me = 0;
        bool found = false;
        for (;;) {
            if (split_at(spec, len, i, &gs, &ge, &me)) {
                found = true;
                break;
            }
            if (i == len)
                break;
            uint32_t cp;
            i += char_at(spec, len, i, &cp);
        }
        if (!found)
            break;
        struct rule r;
        int rc = read_rule(spec + gs, ge - gs, num + 1, &r, err, errlen);
        if (rc < 0) {
            rule_free(&r);
            sl_principal_rules_free(pr);
            return NULL;
        }
        if (rc > 0) {
            if (pr->n == cap) {
                cap = cap ? cap * 2 : 4;
                pr->rules = sl_xrealloc(pr->rules, cap * sizeof *pr->rules);
            }
            pr->rules[pr->n++] = r;
            num++;
        }
        if (me == i) { // empty match: step over one character
            if (me == len)
                break;
            uint32_t cp;
            from = me + char_at(spec, len, me, &cp);
        } else {
            from = me;
        }
    }
    pr->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    return pr;
}

/* ---- applying a rule ---- */

/* Kafka's escapeLiteralBackReferences on repl, into out. It finds each
 * "$<digits>" in the original text and, for a number that names no group even
 * after dropping trailing digits (while it is 10 or more), inserts a
 * backslash in the copy at the '$''s index in the original. Indexes are
 * UTF-16 positions, and the copy has grown by the earlier insertions, so a
 * second insertion lands one character early (a third two early...). That
 * is reproduced: Kafka's output is what Java then expands. Returns 0, or -1
 * with *why set when the number overflows Java's int (Integer.parseInt
 * throws). */
static int kafka_escape(const char *repl, uint32_t ngroups, struct sbuf *out, const char **why)
{
    size_t len = strlen(repl);
    sbuf_put(out, repl, len);
    if (ngroups == 0)
        return 0;
    size_t u16 = 0; // UTF-16 index of repl[i]
    for (size_t i = 0; i < len;) {
        if (repl[i] == '$' && i + 1 < len && repl[i + 1] >= '0' && repl[i + 1] <= '9') {
            size_t j = i + 1;
            while (j < len && repl[j] >= '0' && repl[j] <= '9')
                j++;
            if (repl[i + 1] != '0') {
                long long v = 0;
                for (size_t d = i + 1; d < j; d++) {
                    v = v * 10 + (repl[d] - '0');
                    if (v > INT_MAX) {
                        *why = "group reference out of range";
                        return -1;
                    }
                }
                while (v > ngroups && v >= 10)
                    v /= 10;
                if (v > ngroups) {
                    /* The byte offset of UTF-16 index u16 in the copy. An
                     * index between the two halves of a surrogate pair
                     * would put the backslash in front of the low half,
                     * where Java's expansion outputs that half unchanged:
                     * no insertion is the same. */
                    size_t at = 0, units = 0;
                    while (units < u16 && at < out->len) {
                        uint32_t cp;
                        at += sl_utf8_decode(out->p + at, out->len - at, &cp);
                        units += (cp != SL_UTF8_INVALID && cp >= 0x10000) ? 2 : 1;
                    }
                    if (units == u16)
                        sbuf_insert(out, at, '\\');
                }
            }
            u16 += j - i;
            i = j;
            continue;
        }
        uint32_t cp;
        i += sl_utf8_decode(repl + i, len - i, &cp);
        u16 += (cp != SL_UTF8_INVALID && cp >= 0x10000) ? 2 : 1;
    }
    return 0;
}

static bool is_ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ascii_alnum(char c)
{
    return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Appends the expansion of replacement rep for one match (ov, of subject s)
 * to out, with Java's Matcher.appendReplacement syntax. Returns 0, or -1 with
 * *why set where Java throws. */
static int expand(const struct rule *r, const char *rep, size_t rlen, const char *s,
                  const PCRE2_SIZE *ov, struct sbuf *out, const char **why)
{
    size_t i = 0;
    while (i < rlen) {
        char c = rep[i];
        if (c == '\\') {
            if (++i == rlen) {
                *why = "replacement ends with '\\'";
                return -1;
            }
            uint32_t cp;
            size_t n = sl_utf8_decode(rep + i, rlen - i, &cp);
            sbuf_put(out, rep + i, n);
            i += n;
        } else if (c == '$') {
            if (++i == rlen) {
                *why = "replacement ends with '$'";
                return -1;
            }
            uint32_t g;
            if (rep[i] == '{') {
                size_t st = ++i;
                while (i < rlen && is_ascii_alnum(rep[i]))
                    i++;
                if (i == st) {
                    *why = "empty group name in replacement";
                    return -1;
                }
                if (i == rlen || rep[i] != '}') {
                    *why = "group name in replacement lacks '}'";
                    return -1;
                }
                if (is_ascii_digit(rep[st])) {
                    *why = "group name in replacement starts with a digit";
                    return -1;
                }
                char name[256];
                if (i - st >= sizeof name) {
                    *why = "replacement names a group the pattern does not have";
                    return -1;
                }
                memcpy(name, rep + st, i - st);
                name[i - st] = '\0';
                int num = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)name);
                if (num < 0) {
                    *why = "replacement names a group the pattern does not have";
                    return -1;
                }
                g = (uint32_t)num;
                i++;
            } else {
                if (!is_ascii_digit(rep[i])) {
                    *why = "'$' in replacement not followed by a group number or {name}";
                    return -1;
                }
                g = (uint32_t)(rep[i++] - '0');
                /* Further digits belong to the number while it names a group. */
                while (i < rlen && is_ascii_digit(rep[i])) {
                    uint32_t ng = g * 10 + (uint32_t)(rep[i] - '0');
                    if (ng > r->ngroups)
                        break;
                    g = ng;
                    i++;
                }
                if (g > r->ngroups) {
                    *why = "replacement refers to a group the pattern does not have";
                    return -1;
                }
            }
            if (ov[2 * g] != PCRE2_UNSET)
                sbuf_put(out, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        } else {
            sbuf_putc(out, c);
            i++;
        }
        if (out->len > MAP_MAX_LEN) {
            *why = "mapped name too long";
            return -1;
        }
    }
    return 0;
}

/* Unconditional one-to-many upper-case mappings of Unicode's
 * SpecialCasing.txt, which Java's String.toUpperCase applies and the simple
 * per-character mapping (towupper) does not. Sorted by code point. */
static const struct {
    uint16_t cp;
    uint16_t up[3];
} special_upper[] = {
    {0x00DF, {0x0053, 0x0053}},         {0x0149, {0x02BC, 0x004E}},
    {0x01F0, {0x004A, 0x030C}},         {0x0390, {0x0399, 0x0308, 0x0301}},
    {0x03B0, {0x03A5, 0x0308, 0x0301}}, {0x0587, {0x0535, 0x0552}},
    {0x1E96, {0x0048, 0x0331}},         {0x1E97, {0x0054, 0x0308}},
    {0x1E98, {0x0057, 0x030A}},         {0x1E99, {0x0059, 0x030A}},
    {0x1E9A, {0x0041, 0x02BE}},         {0x1F50, {0x03A5, 0x0313}},
    {0x1F52, {0x03A5, 0x0313, 0x0300}}, {0x1F54, {0x03A5, 0x0313, 0x0301}},
    {0x1F56, {0x03A5, 0x0313, 0x0342}}, {0x1FB2, {0x1FBA, 0x0399}},
    {0x1FB3, {0x0391, 0x0399}},         {0x1FB4, {0x0386, 0x0399}},
    {0x1FB6, {0x0391, 0x0342}},         {0x1FB7, {0x0391, 0x0342, 0x0399}},
    {0x1FBC, {0x0391, 0x0399}},         {0x1FC2, {0x1FCA, 0x0399}},
    {0x1FC3, {0x0397, 0x0399}},         {0x1FC4, {0x0389, 0x0399}},
    {0x1FC6, {0x0397, 0x0342}},         {0x1FC7, {0x0397, 0x0342, 0x0399}},
    {0x1FCC, {0x0397, 0x0399}},         {0x1FD2, {0x0399, 0x0308, 0x0300}},
    {0x1FD3, {0x0399, 0x0308, 0x0301}}, {0x1FD6, {0x0399, 0x0342}},
    {0x1FD7, {0x0399, 0x0308, 0x0342}}, {0x1FE2, {0x03A5, 0x0308, 0x0300}},
    {0x1FE3, {0x03A5, 0x0308, 0x0301}}, {0x1FE4, {0x03A1, 0x0313}},
    {0x1FE6, {0x03A5, 0x0342}},         {0x1FE7, {0x03A5, 0x0308, 0x0342}},
    {0x1FF2, {0x1FFA, 0x0399}},         {0x1FF3, {0x03A9, 0x0399}},
    {0x1FF4, {0x038F, 0x0399}},         {0x1FF6, {0x03A9, 0x0342}},
    {0x1FF7, {0x03A9, 0x0342, 0x0399}}, {0x1FFC, {0x03A9, 0x0399}},
    {0xFB00, {0x0046, 0x0046}},         {0xFB01, {0x0046, 0x0049}},
    {0xFB02, {0x0046, 0x004C}},         {0xFB03, {0x0046, 0x0046, 0x0049}},
    {0xFB04, {0x0046, 0x0046, 0x004C}}, {0xFB05, {0x0053, 0x0054}},
    {0xFB06, {0x0053, 0x0054}},         {0xFB13, {0x0544, 0x0546}},
    {0xFB14, {0x0544, 0x0535}},         {0xFB15, {0x0544, 0x053B}},
    {0xFB16, {0x054E, 0x0546}},         {0xFB17, {0x0544, 0x053D}},
};

static void put_cp(struct sbuf *out, uint32_t cp)
{
    char u[4];
    sbuf_put(out, u, sl_utf8_encode(cp, u));
}

/* Appends the upper-case form of cp. U+1F80..U+1FAF (Greek letters with
 * ypogegrammeni) follow a pattern instead of filling the table: each maps to
 * its capital without the iota subscript followed by U+0399. */
static void put_upper(struct sbuf *out, uint32_t cp, locale_t loc)
{
    if (cp >= 0x1F80 && cp <= 0x1FAF) {
        static const uint16_t base[] = {0x1F08, 0x1F28, 0x1F68};
        put_cp(out, base[(cp - 0x1F80) / 16] + (cp & 7));
        put_cp(out, 0x0399);
        return;
    }
    size_t lo = 0, hi = sizeof special_upper / sizeof special_upper[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (special_upper[mid].cp == cp) {
            for (int k = 0; k < 3 && special_upper[mid].up[k]; k++)
                put_cp(out, special_upper[mid].up[k]);
            return;
        }
        if (special_upper[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    put_cp(out, loc ? (uint32_t)towupper_l((wint_t)cp, loc) : cp);
}

/* Lower- (flag 'L') or upper-cases s[0..len) into out, as Java's
 * toLowerCase/toUpperCase(Locale.ENGLISH). ASCII never depends on loc;
 * without loc other characters stay as they are. Ill-formed bytes are
 * copied unchanged. */
static void map_case(const char *s, size_t len, char flag, locale_t loc, struct sbuf *out)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = sl_utf8_decode(s + i, len - i, &cp);
        if (cp < 0x80) {
            char c = (char)cp;
            if (flag == 'L' && c >= 'A' && c <= 'Z')
                c = (char)(c + 32);
            else if (flag == 'U' && c >= 'a' && c <= 'z')
                c = (char)(c - 32);
            sbuf_putc(out, c);
        } else if (cp == SL_UTF8_INVALID) {
            sbuf_put(out, s + i, n);
        } else if (flag == 'L') {
            if (cp == 0x130) { // capital I with dot: "i" + combining dot above
                put_cp(out, 'i');
                put_cp(out, 0x307);
            } else {
                put_cp(out, loc ? (uint32_t)towlower_l((wint_t)cp, loc) : cp);
            }
        } else {
            put_upper(out, cp, loc);
        }
        i += n;
    }
}

/* Writes msg into out (a reason for the caller's log) and returns -1. */
static int refuse(char *out, size_t outlen, const char *msg, const char *dn)
{
    if (outlen)
        snprintf(out, outlen, "%s (DN '%s')", msg, dn);
    return -1;
}

/* Applies RULE r to dn[0..len) once its pattern has matched the whole DN:
 * Java's dn.replaceAll(pattern, kafka_escape(replacement)). Returns 0 with
 * the result in res, or -1 with *why set. */
static int replace_all(const struct rule *r, const char *dn, size_t len,
                       pcre2_match_data *md, pcre2_match_context *mctx, struct sbuf *res,
                       const char **why)
{
    struct sbuf rep = {0};
    int rc = -1;
    if (kafka_escape(r->repl, r->ngroups, &rep, why) < 0)
        goto out;
    size_t from = 0, last = 0;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    while (from <= len) {
        int m = pcre2_match(r->re, (PCRE2_SPTR)dn, len, from, 0, md, mctx);
        if (m == PCRE2_ERROR_NOMATCH)
            break;
        if (m < 0) {
            *why = m == PCRE2_ERROR_MATCHLIMIT || m == PCRE2_ERROR_DEPTHLIMIT ||
                           m == PCRE2_ERROR_HEAPLIMIT
                       ? "pattern match exceeded the backtracking limit"
                       : "pattern match failed";
            goto out;
        }
        size_t ms = ov[0], me = ov[1];
        if (ms > me) { // \K in a look-ahead can report such a match
            *why = "pattern match failed";
            goto out;
        }
        sbuf_put(res, dn + last, ms - last);
        if (expand(r, rep.p ? rep.p : "", rep.len, dn, ov, res, why) < 0)
            goto out;
        last = me;
        if (me == ms) { // Matcher.find() steps one character past an empty match
            if (me == len)
                break;
            uint32_t cp;
            from = me + sl_utf8_decode(dn + me, len - me, &cp);
        } else {
            from = me;
        }
    }
    sbuf_put(res, dn + last, len - last);
    rc = 0;
out:
    sl_free(&rep.p);
    return rc;
}

int sl_principal_rules_apply(const struct sl_principal_rules *pr, const char *dn, char *out,
                             size_t outlen)
{
    size_t len = strlen(dn);
    for (size_t i = 0; i < pr->n; i++) {
        const struct rule *r = &pr->rules[i];
        if (r->is_default) {
            if (len >= outlen)
                return refuse(out, outlen, "mapped name too long", dn);
            memcpy(out, dn, len + 1);
            return 0;
        }
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re, NULL);
        pcre2_match_context *mctx = pcre2_match_context_create(NULL);
        if (!md || !mctx)
            abort();
        pcre2_set_match_limit(mctx, MAP_MATCH_LIMIT);
        pcre2_set_heap_limit(mctx, MAP_HEAP_LIMIT_KIB);
        struct sbuf res = {0}, cased = {0};
        const char *why = NULL;
        /* matches(): the pattern must match the DN from its first to its
         * last character. */
        int m = pcre2_match(r->re, (PCRE2_SPTR)dn, len, 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED, md,
                            mctx);
        int rc = 1; // 1: rule does not apply, 0: mapped, -1: refused
        if (m >= 0) {
            rc = replace_all(r, dn, len, md, mctx, &res, &why);
            if (rc == 0 && r->flag) {
                map_case(res.p ? res.p : "", res.len, r->flag, pr->loc, &cased);
                sl_free(&res.p);
                res = cased;
            }
            if (rc == 0 && res.len >= outlen) {
                why = "mapped name too long";
                rc = -1;
            }
            if (rc == 0)
                memcpy(out, res.p ? res.p : "", res.len + 1);
        } else if (m != PCRE2_ERROR_NOMATCH) {
            why = m == PCRE2_ERROR_MATCHLIMIT || m == PCRE2_ERROR_DEPTHLIMIT ||
                          m == PCRE2_ERROR_HEAPLIMIT
                      ? "pattern match exceeded the backtracking limit"
                      : "pattern match failed";
            rc = -1;
        }
        sl_free(&res.p);
        pcre2_match_context_free(mctx);
        pcre2_match_data_free(md);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "principal mapping rule %zu '%s': %s", i + 1, r->text, why);
            return refuse(out, outlen, msg, dn);
        }
    }
    return refuse(out, outlen, "no principal mapping rule matches", dn);
}

int sl_principal_rules_format(const struct sl_principal_rules *pr, char *out, size_t outlen)
{
    struct sbuf b = {0};
    sbuf_putc(&b, '[');
    for (size_t i = 0; i < pr->n; i++) {
        const struct rule *r = &pr->rules[i];
        if (i)
            sbuf_put(&b, ", ", 2);
        if (r->is_default) {
            sbuf_put(&b, "DEFAULT", 7);
            continue;
        }
        sbuf_put(&b, "RULE:", 5);
        sbuf_put(&b, r->pattern, strlen(r->pattern));
        sbuf_putc(&b, '/');
        sbuf_put(&b, r->repl, strlen(r->repl));
        if (r->flag) {
            sbuf_putc(&b, '/');
            sbuf_putc(&b, r->flag);
        }
    }
    sbuf_putc(&b, ']');
    int rc = 0;
    if (outlen) {
        snprintf(out, outlen, "%s", b.p);
        if (b.len >= outlen)
            rc = -1;
    } else {
        rc = -1;
    }
    sl_free(&b.p);
    return rc;
}
