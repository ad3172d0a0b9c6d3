/* SPDX-License-Identifier: Apache-2.0
 *
 * The sasl.jaas.config parser (see jaas.h). A hand-written scanner over
 * [p, end): words are runs of characters other than white space, '=', ';'
 * and '"'; strings are double-quoted with backslash escapes. Error texts
 * give the byte offset, never the value (it may be a password).
 */
#include "cli/jaas.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/mem.h"

struct scan {
    const char *start, *p, *end;
    char *err;
    size_t errlen;
};

static int fail(struct scan *s, const char *what)
{
    snprintf(s->err, s->errlen, "sasl.jaas.config: %s at offset %zu", what,
             (size_t)(s->p - s->start));
    return -1;
}

static void skip_space(struct scan *s)
{
    while (s->p < s->end && isspace((unsigned char)*s->p))
        s->p++;
}

static bool word_char(char c)
{
    return !isspace((unsigned char)c) && c != '=' && c != ';' && c != '"' && c != '\0';
}

/* A word into new memory, or NULL (nothing there). */
static char *word(struct scan *s)
{
    const char *b = s->p;
    while (s->p < s->end && word_char(*s->p))
        s->p++;
    return s->p > b ? sl_xstrndup(b, (size_t)(s->p - b)) : NULL;
}

/* A double-quoted string (s->p at the quote) into new memory, or NULL with
 * the error set. */
static char *quoted(struct scan *s)
{
    size_t cap = (size_t)(s->end - s->p) + 1, n = 0;
    char *out = sl_xmalloc(cap);
    s->p++; /* the opening quote */
    while (s->p < s->end && *s->p != '"') {
        char c = *s->p++;
        if (c == '\0')
            break;
        if (c == '\\') {
            if (s->p >= s->end)
                break;
            c = *s->p++;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
        out[n++] = c;
    }
    if (s->p >= s->end || *s->p != '"') {
        OPENSSL_cleanse(out, cap);
        free(out);
        fail(s, "unterminated or broken quoted string");
        return NULL;
    }
    s->p++;
    out[n] = '\0';
    return out;
}

static void set_opt(char **slot, char *v)
{
    if (*slot) {
        OPENSSL_cleanse(*slot, strlen(*slot));
        free(*slot);
    }
    *slot = v;
}

int sl_jaas_parse(const char *text, size_t len, struct sl_jaas *out, char *err, size_t errlen)
{
    struct scan s = {text, text, text + len, err, errlen};
    memset(out, 0, sizeof *out);
    if (len > SL_JAAS_MAX)
        return fail(&s, "longer than 16384 bytes"), -1;
    if (text && memchr(text, '\0', len))
        return fail(&s, "NUL character"), -1;
    skip_space(&s);
    if (!(out->module = word(&s))) {
        fail(&s, "expected a login module class name (e.g. "
                 "org.apache.kafka.common.security.scram.ScramLoginModule)");
        goto bad;
    }
    skip_space(&s);
    out->flag = word(&s);
    if (!out->flag || (strcasecmp(out->flag, "required") != 0 &&
                       strcasecmp(out->flag, "requisite") != 0 &&
                       strcasecmp(out->flag, "sufficient") != 0 &&
                       strcasecmp(out->flag, "optional") != 0)) {
        fail(&s, "expected the control flag 'required' after the login module");
        goto bad;
    }
    for (;;) {
        skip_space(&s);
        if (s.p >= s.end) {
            fail(&s, "missing ';' at the end of the login module entry");
            goto bad;
        }
        if (*s.p == ';') {
            s.p++;
            break;
        }
        char *key = word(&s);
        if (!key) {
            fail(&s, "expected an option name");
            goto bad;
        }
        skip_space(&s);
        if (s.p >= s.end || *s.p != '=') {
            free(key);
            fail(&s, "expected '=' after an option name");
            goto bad;
        }
        s.p++;
        skip_space(&s);
        bool q = s.p < s.end && *s.p == '"';
        char *val = q ? quoted(&s) : word(&s);
        if (!val) {
            free(key);
            if (!q) /* quoted() has said what is wrong */
                fail(&s, "expected an option value");
            goto bad;
        }
        if (strcmp(key, "username") == 0)
            set_opt(&out->username, val);
        else if (strcmp(key, "password") == 0)
            set_opt(&out->password, val);
        else
            set_opt(&val, NULL);
        free(key);
    }
    skip_space(&s);
    if (s.p < s.end) {
        fail(&s, "text after the login module entry (only one entry is allowed)");
        goto bad;
    }
    return 0;
bad:
    sl_jaas_clear(out);
    return -1;
}

void sl_jaas_clear(struct sl_jaas *j)
{
    free(j->module);
    free(j->flag);
    free(j->username);
    set_opt(&j->password, NULL);
    memset(j, 0, sizeof *j);
}
