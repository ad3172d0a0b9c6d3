/* SPDX-License-Identifier: Apache-2.0
 *
 * JSON writer and strict tokenizer of the audit log (see audit_json.h). The
 * tokenizer is a recursive descent bounded by SL_AJ_MAX_DEPTH, so its stack
 * use is fixed whatever the input.
 */
#include "security/audit/audit_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/utf8.h"

/* ---- writing ---- */

void sl_aj_init(struct sl_aj *j, struct sl_wbuf *w)
{
    memset(j, 0, sizeof *j);
    j->w = w;
}

static void put(struct sl_aj *j, const char *s, size_t n)
{
    sl_wbuf_put(j->w, s, n);
}

/* A value is about to be written: a comma if it follows another element. */
static void before_value(struct sl_aj *j)
{
    if (j->need_comma[j->depth])
        put(j, ",", 1);
    j->need_comma[j->depth] = true;
}

void sl_aj_obj_begin(struct sl_aj *j)
{
    before_value(j);
    put(j, "{", 1);
    if (j->depth < SL_AJ_MAX_DEPTH)
        j->depth++;
    j->need_comma[j->depth] = false;
}

void sl_aj_obj_end(struct sl_aj *j)
{
    put(j, "}", 1);
    if (j->depth > 0)
        j->depth--;
}

void sl_aj_arr_begin(struct sl_aj *j)
{
    before_value(j);
    put(j, "[", 1);
    if (j->depth < SL_AJ_MAX_DEPTH)
        j->depth++;
    j->need_comma[j->depth] = false;
}

void sl_aj_arr_end(struct sl_aj *j)
{
    put(j, "]", 1);
    if (j->depth > 0)
        j->depth--;
}

void sl_aj_key(struct sl_aj *j, const char *key)
{
    before_value(j);
    put(j, "\"", 1);
    put(j, key, strlen(key));
    put(j, "\":", 2);
    /* The value that follows takes no comma of its own. */
    j->need_comma[j->depth] = false;
}

void sl_aj_key_str(struct sl_aj *j, const char *key, size_t n)
{
    before_value(j);
    put(j, "\"", 1);
    sl_aj_escape(j->w, key, n);
    put(j, "\":", 2);
    j->need_comma[j->depth] = false;
}

/* After a member's value the next member needs a comma. */
static void after_member_value(struct sl_aj *j)
{
    j->need_comma[j->depth] = true;
}

void sl_aj_escape(struct sl_wbuf *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, limit = n > SL_AJ_STR_MAX ? SL_AJ_STR_MAX : n;
    while (i < limit) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            size_t k = i + 1; /* copy the run of plain ASCII at once */
            while (k < limit && (unsigned char)s[k] >= 0x20 && (unsigned char)s[k] < 0x7f &&
                   s[k] != '"' && s[k] != '\\')
                k++;
            sl_wbuf_put(w, s + i, k - i);
            i = k;
            continue;
        }
        if (c < 0x80) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '"': sl_wbuf_put(w, "\\\"", 2); break;
            case '\\': sl_wbuf_put(w, "\\\\", 2); break;
            case '\n': sl_wbuf_put(w, "\\n", 2); break;
            case '\r': sl_wbuf_put(w, "\\r", 2); break;
            case '\t': sl_wbuf_put(w, "\\t", 2); break;
            default: sl_wbuf_put(w, e, 6); break;
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t used = sl_utf8_decode(s + i, limit - i, &cp);
        if (used == 0)
            used = 1;
        if (cp == SL_UTF8_INVALID || i + used > limit) {
            sl_wbuf_put(w, "\xef\xbf\xbd", 3); /* U+FFFD */
        } else if (cp == 0x2028 || cp == 0x2029) {
            /* Line and paragraph separators: some line-based tools split on them. */
            sl_wbuf_put(w, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
        } else {
            sl_wbuf_put(w, s + i, used);
        }
        i += used;
    }
    if (n > limit)
        sl_wbuf_put(w, "...", 3);
}

void sl_aj_str(struct sl_aj *j, const char *s, size_t n)
{
    before_value(j);
    put(j, "\"", 1);
    sl_aj_escape(j->w, s, n);
    put(j, "\"", 1);
}

void sl_aj_cstr(struct sl_aj *j, const char *s)
{
    if (!s)
        sl_aj_null(j);
    else
        sl_aj_str(j, s, strlen(s));
}

void sl_aj_u64(struct sl_aj *j, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRIu64, v);
    before_value(j);
    put(j, b, (size_t)n);
}

void sl_aj_i64(struct sl_aj *j, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRId64, v);
    before_value(j);
    put(j, b, (size_t)n);
}

void sl_aj_bool(struct sl_aj *j, bool v)
{
    before_value(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void sl_aj_null(struct sl_aj *j)
{
    before_value(j);
    put(j, "null", 4);
}

void sl_aj_kstr(struct sl_aj *j, const char *key, const char *s, size_t n)
{
    sl_aj_key(j, key);
    sl_aj_str(j, s, n);
    after_member_value(j);
}

void sl_aj_kcstr(struct sl_aj *j, const char *key, const char *s)
{
    if (!s)
        return;
    sl_aj_kstr(j, key, s, strlen(s));
}

void sl_aj_ku64(struct sl_aj *j, const char *key, uint64_t v)
{
    sl_aj_key(j, key);
    sl_aj_u64(j, v);
    after_member_value(j);
}

void sl_aj_ki64(struct sl_aj *j, const char *key, int64_t v)
{
    sl_aj_key(j, key);
    sl_aj_i64(j, v);
    after_member_value(j);
}

void sl_aj_kbool(struct sl_aj *j, const char *key, bool v)
{
    sl_aj_key(j, key);
    sl_aj_bool(j, v);
    after_member_value(j);
}

void sl_aj_kraw(struct sl_aj *j, const char *key, const char *json, size_t n)
{
    sl_aj_key(j, key);
    before_value(j);
    put(j, json, n);
    after_member_value(j);
}

int sl_aj_count_values(const uint8_t *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '"') {
            v++;
            for (i++; i < n && p[i] != '"'; i++) {
                if (p[i] == '\\')
                    i++;
            }
        } else if (c == '{' || c == '[') {
            v++;
        } else if (c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
            v++;
            while (i + 1 < n && (p[i + 1] == '-' || (p[i + 1] >= '0' && p[i + 1] <= '9') ||
                                 (p[i + 1] >= 'a' && p[i + 1] <= 'z')))
                i++;
        }
    }
    return v;
}

/* ---- reading ---- */

struct parser {
    struct sl_aj_doc *doc;
    size_t pos;
    const char *why;
};

static int fail(struct parser *p, const char *why)
{
    if (!p->why)
        p->why = why;
    return -1;
}

static void skip_ws(struct parser *p)
{
    const char *s = p->doc->src;
    while (p->pos < p->doc->len &&
           (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r'))
        p->pos++;
}

static int new_tok(struct parser *p, int type, int parent)
{
    struct sl_aj_doc *d = p->doc;
    if (d->n >= SL_AJ_MAX_TOKENS)
        return fail(p, "too many JSON values");
    int i = d->n++;
    d->tok[i] = (struct sl_aj_tok){.type = (uint8_t)type, .parent = parent,
                                   .start = (uint32_t)p->pos, .end = (uint32_t)p->pos};
    return i;
}

static int parse_string(struct parser *p, int parent)
{
    const char *s = p->doc->src;
    size_t n = p->doc->len;
    p->pos++; /* opening quote */
    int t = new_tok(p, SL_AJ_STRING, parent);
    if (t < 0)
        return -1;
    while (p->pos < n) {
        unsigned char c = (unsigned char)s[p->pos];
        if (c == '"') {
            p->doc->tok[t].end = (uint32_t)p->pos;
            p->pos++;
            return t;
        }
        if (c < 0x20)
            return fail(p, "control character in a string");
        if (c == '\\') {
            p->doc->tok[t].escaped = true;
            if (p->pos + 1 >= n)
                return fail(p, "string ends inside an escape");
            char e = s[p->pos + 1];
            if (e == 'u') {
                if (p->pos + 6 > n)
                    return fail(p, "short \\u escape");
                for (int k = 2; k < 6; k++)
                    if (sl_hex_digit(s[p->pos + (size_t)k]) < 0)
                        return fail(p, "bad \\u escape");
                p->pos += 6;
            } else if (strchr("\"\\/bfnrt", e) && e != '\0') {
                p->pos += 2;
            } else {
                return fail(p, "bad escape");
            }
            continue;
        }
        if (c < 0x80) {
            p->pos++;
            continue;
        }
        uint32_t cp;
        size_t used = sl_utf8_decode(s + p->pos, n - p->pos, &cp);
        if (cp == SL_UTF8_INVALID || used == 0)
            return fail(p, "ill-formed UTF-8 in a string");
        p->pos += used;
    }
    return fail(p, "unterminated string");
}

static int parse_number(struct parser *p, int parent)
{
    const char *s = p->doc->src;
    size_t n = p->doc->len;
    int t = new_tok(p, SL_AJ_NUMBER, parent);
    if (t < 0)
        return -1;
    if (s[p->pos] == '-')
        p->pos++;
    if (p->pos >= n || s[p->pos] < '0' || s[p->pos] > '9')
        return fail(p, "bad number");
    if (s[p->pos] == '0' && p->pos + 1 < n && s[p->pos + 1] >= '0' && s[p->pos + 1] <= '9')
        return fail(p, "number with a leading zero");
    size_t digits = 0;
    while (p->pos < n && s[p->pos] >= '0' && s[p->pos] <= '9') {
        p->pos++;
        digits++;
    }
    if (digits > 20)
        return fail(p, "number too long");
    if (p->pos < n && (s[p->pos] == '.' || s[p->pos] == 'e' || s[p->pos] == 'E'))
        return fail(p, "only integers are allowed");
    p->doc->tok[t].end = (uint32_t)p->pos;
    return t;
}

static int parse_value(struct parser *p, int parent, int depth);

static int parse_container(struct parser *p, int parent, int depth, bool object)
{
    const char *s = p->doc->src;
    if (depth >= SL_AJ_MAX_DEPTH)
        return fail(p, "nested too deep");
    int t = new_tok(p, object ? SL_AJ_OBJECT : SL_AJ_ARRAY, parent);
    if (t < 0)
        return -1;
    p->pos++;
    skip_ws(p);
    char close = object ? '}' : ']';
    if (p->pos < p->doc->len && s[p->pos] == close) {
        p->pos++;
        p->doc->tok[t].end = (uint32_t)p->pos;
        return t;
    }
    for (;;) {
        skip_ws(p);
        if (object) {
            if (p->pos >= p->doc->len || s[p->pos] != '"')
                return fail(p, "expected a member name");
            if (parse_string(p, t) < 0)
                return -1;
            skip_ws(p);
            if (p->pos >= p->doc->len || s[p->pos] != ':')
                return fail(p, "expected ':'");
            p->pos++;
        }
        if (parse_value(p, t, depth + 1) < 0)
            return -1;
        p->doc->tok[t].size++;
        skip_ws(p);
        if (p->pos >= p->doc->len)
            return fail(p, object ? "unterminated object" : "unterminated array");
        if (s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (s[p->pos] != close)
            return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        p->pos++;
        p->doc->tok[t].end = (uint32_t)p->pos;
        return t;
    }
}

static int parse_literal(struct parser *p, int parent, const char *lit, int type)
{
    size_t n = strlen(lit);
    if (p->doc->len - p->pos < n || memcmp(p->doc->src + p->pos, lit, n) != 0)
        return fail(p, "unexpected character");
    int t = new_tok(p, type, parent);
    if (t < 0)
        return -1;
    p->pos += n;
    p->doc->tok[t].end = (uint32_t)p->pos;
    return t;
}

static int parse_value(struct parser *p, int parent, int depth)
{
    skip_ws(p);
    if (p->pos >= p->doc->len)
        return fail(p, "expected a value");
    int t;
    char c = p->doc->src[p->pos];
    switch (c) {
    case '{': t = parse_container(p, parent, depth, true); break;
    case '[': t = parse_container(p, parent, depth, false); break;
    case '"': t = parse_string(p, parent); break;
    case 't': t = parse_literal(p, parent, "true", SL_AJ_TRUE); break;
    case 'f': t = parse_literal(p, parent, "false", SL_AJ_FALSE); break;
    case 'n': t = parse_literal(p, parent, "null", SL_AJ_NULL); break;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            t = parse_number(p, parent);
        else
            return fail(p, "unexpected character");
    }
    if (t >= 0)
        p->doc->tok[t].next = p->doc->n;
    return t;
}

int sl_aj_parse(struct sl_aj_doc *doc, const char *src, size_t len, const char **why,
                size_t *at)
{
    struct parser p = {doc, 0, NULL};
    doc->src = src;
    doc->len = len;
    doc->n = 0;
    if (len > UINT32_MAX - 1) {
        *why = "input too long";
        *at = 0;
        return -1;
    }
    if (parse_value(&p, -1, 0) >= 0) {
        skip_ws(&p);
        if (p.pos == len)
            return 0;
        fail(&p, "bytes after the JSON value");
    }
    *why = p.why ? p.why : "malformed JSON";
    *at = p.pos;
    return -1;
}

int sl_aj_get(const struct sl_aj_doc *doc, int obj, const char *key)
{
    if (obj < 0 || obj >= doc->n || doc->tok[obj].type != SL_AJ_OBJECT)
        return -1;
    size_t klen = strlen(key);
    int i = obj + 1;
    for (int m = 0; m < doc->tok[obj].size; m++) {
        const struct sl_aj_tok *k = &doc->tok[i];
        int v = i + 1;
        if (!k->escaped && k->end - k->start == klen &&
            memcmp(doc->src + k->start, key, klen) == 0)
            return v;
        i = doc->tok[v].next;
    }
    return -1;
}

int sl_aj_get_u64(const struct sl_aj_doc *doc, int idx, uint64_t *out)
{
    if (idx < 0 || doc->tok[idx].type != SL_AJ_NUMBER)
        return -1;
    const char *s = doc->src + doc->tok[idx].start;
    size_t n = doc->tok[idx].end - doc->tok[idx].start;
    if (n == 0 || s[0] == '-')
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int sl_aj_get_raw(const struct sl_aj_doc *doc, int idx, const char **s, size_t *n)
{
    if (idx < 0 || doc->tok[idx].type != SL_AJ_STRING || doc->tok[idx].escaped)
        return -1;
    *s = doc->src + doc->tok[idx].start;
    *n = doc->tok[idx].end - doc->tok[idx].start;
    return 0;
}

bool sl_aj_streq(const struct sl_aj_doc *doc, int idx, const char *lit)
{
    const char *s;
    size_t n;
    return sl_aj_get_raw(doc, idx, &s, &n) == 0 && n == strlen(lit) && memcmp(s, lit, n) == 0;
}
