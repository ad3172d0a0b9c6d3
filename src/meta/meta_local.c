/* SPDX-License-Identifier: Apache-2.0
 *
 * The local metadata backend: one checksummed file in <data_dir>/meta,
 * kept whole in memory and replaced atomically on every change (format in
 * meta_local.h).
 *
 * Durability protocol of a write (the classic atomic replace):
 *   0. encode the new store; refuse it (SL_ERR__LIMIT, nothing changed) if
 *      it is over SL_META_LOCAL_MAX_FILE, which the reader would refuse;
 *   1. write it to sluice.meta.tmp (O_TRUNC, then fchmod 0600);
 *   2. fdatasync the temporary file, close it;
 *   3. rename it over sluice.meta;
 *   4. fsync the directory, so the rename itself is durable.
 * A crash before 3 leaves the old store intact plus a stray temporary file,
 * which the next open removes; a crash after 3 leaves the new store. A
 * failure in 1-3 changes nothing and returns SL_ERR__IO. A failure in 4
 * leaves the outcome unknown: the change is kept in memory (it is what the
 * directory shows now), the call returns SL_ERR__IO and the store refuses
 * every later write (SL_ERR__STATE), in the spirit of the sticky storage
 * errors of STYLE.md §4: after a failed fsync the kernel may have dropped
 * the dirty state, and retrying would hide it.
 *
 * Every write is in the current format (meta_local.h), so the first write
 * after opening a version-1 store upgrades it; the authentication secret
 * such a store lacks is made at open and only handed out once written
 * (local_auth_secret writes the store itself if nothing else has).
 *
 * An exclusive flock on meta/lock keeps a second process off the same data
 * directory. Writers are serialised by one mutex held across the disk I/O;
 * readers take a second mutex that a writer holds only to swap the new
 * state in (see struct meta_local), so lookups never wait for an fsync.
 * Reads copy out. The file holds the secret and the SCRAM keys: it is
 * 0600, and buffers that held them are wiped before they are freed.
 */
#include "meta/meta_local.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "core/crc32c.h"
#include "core/logging.h"
#include "core/mem.h"
#include "crypto/sealed_format.h"
#include "meta/meta_int.h"

/* ------------------------------------------------------------------ */
/* Codec                                                               */
/* ------------------------------------------------------------------ */

/* A growable output buffer (private). It grows by copying and wiping, not
 * by realloc, because it carries the secret and the SCRAM keys. */
struct obuf {
    uint8_t *p;
    size_t len, cap;
};

static void ob_put(struct obuf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *np = sl_xmalloc(cap);
        if (b->len)
            memcpy(np, b->p, b->len);
        if (b->p)
            OPENSSL_cleanse(b->p, b->len);
        free(b->p);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void ob_str(struct obuf *b, const char *s)
{
    ob_put(b, s, strlen(s));
}

static void ob_hex(struct obuf *b, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char e[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
        ob_put(b, e, 2);
    }
}

static bool raw_byte(uint8_t c)
{
    return c >= 0x21 && c <= 0x7e && c != '%';
}

static void ob_field(struct obuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!*s) {
        ob_str(b, "-");
        return;
    }
    if (strcmp(s, "-") == 0) {
        ob_str(b, "%2D");
        return;
    }
    for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
        if (raw_byte(*p)) {
            ob_put(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            ob_put(b, e, 3);
        }
    }
}

/* Kafka's names of the SCRAM mechanisms, as written in scram records. */
static const char *mech_name(int mech)
{
    return mech == SL_SCRAM_SHA256 ? "SCRAM-SHA-256"
           : mech == SL_SCRAM_SHA512 ? "SCRAM-SHA-512"
                                     : NULL;
}

void sl_meta_local_encode(const struct sl_meta_local_store *s, uint8_t **out, size_t *outlen)
{
    struct obuf body = {0};
    char num[64];
    SL_ASSERT(s->has_secret);
    ob_str(&body, "secret ");
    ob_hex(&body, s->secret, sizeof s->secret);
    ob_str(&body, "\n");
    for (int i = 0; i < s->n_topics; i++) {
        const struct sl_meta_topic *t = &s->topics[i];
        ob_str(&body, "topic ");
        ob_field(&body, t->name);
        ob_str(&body, " ");
        ob_hex(&body, t->id.b, sizeof t->id.b);
        snprintf(num, sizeof num, " %" PRId32 "\n", t->partitions);
        ob_str(&body, num);
        for (int j = 0; j < t->n_configs; j++) {
            ob_str(&body, "config ");
            ob_field(&body, t->configs[j].key);
            ob_str(&body, " ");
            ob_field(&body, t->configs[j].value);
            ob_str(&body, "\n");
        }
    }
    for (int i = 0; i < s->n_creds; i++) {
        const struct sl_meta_user_cred *c = &s->creds[i];
        size_t kl = sl_meta__scram_key_len(c->cred.mech);
        SL_ASSERT(kl != 0);
        ob_str(&body, "scram ");
        ob_field(&body, c->user);
        snprintf(num, sizeof num, " %s %" PRId32 " ", mech_name(c->cred.mech),
                 c->cred.iterations);
        ob_str(&body, num);
        ob_hex(&body, c->cred.salt, c->cred.salt_len);
        ob_str(&body, " ");
        ob_hex(&body, c->cred.stored_key, kl);
        ob_str(&body, " ");
        ob_hex(&body, c->cred.server_key, kl);
        ob_str(&body, "\n");
    }
    for (int i = 0; i < sl_acl_set_count(s->acls); i++) {
        const struct sl_acl *a = sl_acl_set_at(s->acls, i);
        snprintf(num, sizeof num, "acl %d %d ", a->res, a->pattern);
        ob_str(&body, num);
        ob_field(&body, a->name);
        ob_str(&body, " ");
        ob_field(&body, a->principal);
        ob_str(&body, " ");
        ob_field(&body, a->host);
        snprintf(num, sizeof num, " %d %d\n", a->op, a->perm);
        ob_str(&body, num);
    }
    char head[80];
    int hn = snprintf(head, sizeof head, "sluice-meta %d %zu %08" PRIx32 "\n",
                      SL_META_LOCAL_VERSION, body.len, sl_crc32c(0, body.p, body.len));
    uint8_t *all = sl_xmalloc((size_t)hn + body.len);
    memcpy(all, head, (size_t)hn);
    memcpy(all + hn, body.p, body.len);
    OPENSSL_cleanse(body.p, body.len);
    free(body.p);
    *out = all;
    *outlen = (size_t)hn + body.len;
}

static int hexv(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Value of a lower-case hex digit, or -1. */
static int lhexv(uint8_t c)
{
    return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Decodes the lower-case hex p[0..n) into out, which must then hold
 * exactly n / 2 bytes, at least min and at most max. Returns the byte
 * count, or 0 on any bad digit, odd length or size out of range. */
static size_t dec_hex(const uint8_t *p, size_t n, uint8_t *out, size_t min, size_t max)
{
    if (n % 2 != 0 || n / 2 < min || n / 2 > max)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = lhexv(p[2 * i]), lo = lhexv(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

/* Decodes one field p[0..n) into a new string. Returns NULL (and sets
 * *why) on any non-canonical or forbidden byte. */
static char *dec_field(const uint8_t *p, size_t n, size_t max, const char **why)
{
    if (n == 1 && p[0] == '-')
        return sl_xstrdup("");
    if (n == 3 && memcmp(p, "%2D", 3) == 0)
        return sl_xstrdup("-");
    char *s = sl_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexv(p[i + 1]) : -1, lo = i + 2 < n ? hexv(p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "bad %XX escape (upper-case hex expected)";
                goto bad;
            }
            c = (uint8_t)(hi << 4 | lo);
            if (c == 0 || raw_byte(c)) {
                *why = c == 0 ? "NUL byte in a field" : "needless %XX escape";
                goto bad;
            }
            i += 2;
        } else if (!raw_byte(c)) {
            *why = "byte that must be %XX-escaped";
            goto bad;
        }
        s[o++] = (char)c;
    }
    if (o == 0) {
        *why = "empty field";
        goto bad;
    }
    if (o > max) {
        *why = "field too long";
        goto bad;
    }
    s[o] = '\0';
    return s;
bad:
    free(s);
    return NULL;
}

/* Parses an unsigned decimal p[0..n) without sign or leading zeros, at
 * most max. */
static bool dec_uint(const uint8_t *p, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20 || (n > 1 && p[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool dec_uuid(const uint8_t *p, size_t n, sl_uuid_t *id)
{
    return n == 32 && dec_hex(p, n, id->b, 16, 16) == 16 && !sl_uuid_is_zero(id);
}

/* Splits line p[0..n) at single spaces into at most max fields. Returns
 * the count, or -1 when there are more fields or an empty one. */
static int split(const uint8_t *p, size_t n, const uint8_t **f, size_t *fn, int max)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == ' ') {
            if (i == start || k == max)
                return -1;
            f[k] = p + start;
            fn[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

static int cmp_uuid(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(sl_uuid_t));
}

void sl_meta_local_store_clear(struct sl_meta_local_store *s)
{
    sl_meta_topics_free(s->topics, s->n_topics);
    sl_meta_user_creds_free(s->creds, s->n_creds);
    sl_acl_set_unref(s->acls);
    OPENSSL_cleanse(s, sizeof *s);
}

/* Where the decoder is in the body: the records must come in this order. */
enum section {
    SECT_SECRET = 0, /* version 2: the secret record comes first */
    SECT_TOPICS,     /* topic and config records */
    SECT_CREDS,      /* scram records */
    SECT_ACLS,       /* acl records (version 3) */
    SECT_MAX
};

/* Decodes the fields f[1..7) of one scram record into a new entry of s.
 * Returns NULL, or the reason (static, or in whybuf). */
static const char *dec_scram(struct sl_meta_local_store *s, const uint8_t *const *f,
                             const size_t *fn, char *whybuf, size_t whylen)
{
    const char *why = NULL;
    if (s->n_creds == SL_META_CREDS_MAX)
        return "more than 100000 SCRAM credentials";
    /* Grow by powers of two: n_creds is the count so far. */
    if ((s->n_creds & (s->n_creds - 1)) == 0) {
        size_t cap = s->n_creds ? (size_t)s->n_creds * 2 : 1;
        s->creds = sl_xrealloc(s->creds, cap * sizeof *s->creds);
    }
    struct sl_meta_user_cred *uc = &s->creds[s->n_creds];
    memset(uc, 0, sizeof *uc);
    uc->user = dec_field(f[1], fn[1], SL_META_USER_MAX, &why);
    if (!uc->user) {
        snprintf(whybuf, whylen, "SCRAM user: %s", why);
        return whybuf;
    }
    s->n_creds++; /* from here on the entry is owned by s */
    if ((why = sl_meta__check_user(uc->user)) != NULL) {
        snprintf(whybuf, whylen, "SCRAM user: %s", why);
        return whybuf;
    }
    struct sl_scram_cred c;
    memset(&c, 0, sizeof c);
    if (fn[2] == 13 && memcmp(f[2], "SCRAM-SHA-256", 13) == 0)
        c.mech = SL_SCRAM_SHA256;
    else if (fn[2] == 13 && memcmp(f[2], "SCRAM-SHA-512", 13) == 0)
        c.mech = SL_SCRAM_SHA512;
    else
        return "unknown SCRAM mechanism (SCRAM-SHA-256 or SCRAM-SHA-512 expected)";
    uint64_t it;
    if (!dec_uint(f[3], fn[3], INT32_MAX, &it))
        return "bad SCRAM iterations (a decimal number expected)";
    c.iterations = (int32_t)it;
    c.salt_len = dec_hex(f[4], fn[4], c.salt, 1, SL_SCRAM_SALT_MAX);
    if (c.salt_len == 0) {
        snprintf(whybuf, whylen, "bad SCRAM salt (2 to %d lower-case hex digits expected)",
                 2 * SL_SCRAM_SALT_MAX);
        return whybuf;
    }
    size_t kl = sl_meta__scram_key_len(c.mech);
    if (dec_hex(f[5], fn[5], c.stored_key, kl, kl) != kl ||
        dec_hex(f[6], fn[6], c.server_key, kl, kl) != kl) {
        snprintf(whybuf, whylen, "bad SCRAM key (%zu lower-case hex digits expected for %s)",
                 2 * kl, mech_name(c.mech));
        return whybuf;
    }
    why = sl_meta__check_cred(&c, &uc->cred);
    OPENSSL_cleanse(&c, sizeof c);
    if (why) {
        snprintf(whybuf, whylen, "bad SCRAM credential: %s", why);
        return whybuf;
    }
    if (s->n_creds > 1 && sl_meta__cmp_user_cred(&s->creds[s->n_creds - 2], uc) >= 0)
        return "SCRAM credentials out of order or repeated";
    return NULL;
}

/* ACL bindings as the decoder collects them, before they become a set. */
struct acl_list {
    struct sl_acl *a;
    int n, cap;
};

static void acl_list_free(struct acl_list *l)
{
    for (int i = 0; i < l->n; i++)
        sl_acl_clear(&l->a[i]);
    free(l->a);
    memset(l, 0, sizeof *l);
}

/* A decimal ACL code field (0..127; sl_acl_validate judges the value). */
static bool dec_code(const uint8_t *p, size_t n, int8_t *out)
{
    uint64_t v;
    if (!dec_uint(p, n, INT8_MAX, &v))
        return false;
    *out = (int8_t)v;
    return true;
}

/* Decodes the fields f[1..8) of one acl record into a new entry of l.
 * Returns NULL, or the reason (static, or in whybuf). */
static const char *dec_acl(struct acl_list *l, const uint8_t *const *f, const size_t *fn,
                           char *whybuf, size_t whylen)
{
    const char *why = NULL;
    if (l->n == SL_ACL_MAX_BINDINGS)
        return "more than 100000 ACL bindings";
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->a = sl_xrealloc(l->a, (size_t)l->cap * sizeof *l->a);
    }
    struct sl_acl *a = &l->a[l->n];
    memset(a, 0, sizeof *a);
    l->n++; /* from here on the entry is owned by l */
    if (!dec_code(f[1], fn[1], &a->res) || !dec_code(f[2], fn[2], &a->pattern) ||
        !dec_code(f[6], fn[6], &a->op) || !dec_code(f[7], fn[7], &a->perm))
        return "bad ACL code (a decimal number expected)";
    static const char *const what[] = {"name", "principal", "host"};
    char **dst[] = {&a->name, &a->principal, &a->host};
    for (int i = 0; i < 3; i++) {
        *dst[i] = dec_field(f[3 + i], fn[3 + i], SL_ACL_NAME_MAX, &why);
        if (!*dst[i]) {
            snprintf(whybuf, whylen, "ACL %s: %s", what[i], why);
            return whybuf;
        }
    }
    if ((why = sl_acl_validate(a)) != NULL) {
        snprintf(whybuf, whylen, "bad ACL binding: %s", why);
        return whybuf;
    }
    if (l->n > 1 && sl_acl_cmp(&l->a[l->n - 2], a) >= 0)
        return "ACL bindings out of order or repeated";
    return NULL;
}

sl_err_t sl_meta_local_decode(const uint8_t *buf, size_t len, struct sl_meta_local_store *out,
                              char *err, size_t errlen)
{
    struct acl_list acls = {0};
    struct sl_meta_local_store s;
    struct sl_meta_topic *t = NULL;
    int nt = 0, cap = 0, line = 1;
    sl_uuid_t *ids = NULL;
    const char *why = NULL;
    char whybuf[160];
    memset(&s, 0, sizeof s);
    memset(out, 0, sizeof *out);

    /* Header: "sluice-meta V LEN CRC\n" within the first 80 bytes. */
    const uint8_t *nl = memchr(buf, '\n', len < 80 ? len : 80);
    const uint8_t *f[8];
    size_t fn[8];
    if (!nl || split(buf, (size_t)(nl - buf), f, fn, 4) != 4 || fn[0] != 11 ||
        memcmp(f[0], "sluice-meta", 11) != 0) {
        snprintf(err, errlen, "not a Sluice metadata file (bad header)");
        return SL_ERR__CORRUPT;
    }
    uint64_t ver, blen, crc = 0;
    if (!dec_uint(f[1], fn[1], UINT32_MAX, &ver)) {
        snprintf(err, errlen, "bad format version in the header");
        return SL_ERR__CORRUPT;
    }
    if (ver < SL_META_LOCAL_VERSION_MIN || ver > SL_META_LOCAL_VERSION) {
        snprintf(err, errlen,
                 "format version %" PRIu64 " is not supported (this build reads versions %d to "
                 "%d)%s",
                 ver, SL_META_LOCAL_VERSION_MIN, SL_META_LOCAL_VERSION,
                 ver > SL_META_LOCAL_VERSION ? ": written by a newer Sluice" : "");
        return SL_ERR__CORRUPT;
    }
    if (!dec_uint(f[2], fn[2], SL_META_LOCAL_MAX_FILE, &blen)) {
        snprintf(err, errlen, "bad body length in the header");
        return SL_ERR__CORRUPT;
    }
    bool crc_ok = fn[3] == 8;
    for (size_t i = 0; crc_ok && i < 8; i++) {
        int v = lhexv(f[3][i]);
        crc_ok = v >= 0;
        crc = crc << 4 | (uint64_t)(v < 0 ? 0 : v);
    }
    if (!crc_ok) {
        snprintf(err, errlen, "bad checksum field in the header");
        return SL_ERR__CORRUPT;
    }
    const uint8_t *body = nl + 1;
    size_t have = len - (size_t)(body - buf);
    if (have != blen) {
        snprintf(err, errlen, "%s: the header says %" PRIu64 " body bytes, the file has %zu",
                 have < blen ? "truncated" : "trailing bytes", blen, have);
        return SL_ERR__CORRUPT;
    }
    uint32_t got = sl_crc32c(0, body, have);
    if (got != crc) {
        snprintf(err, errlen, "checksum mismatch (stored %08" PRIx64 ", computed %08" PRIx32 ")",
                 crc, got);
        return SL_ERR__CORRUPT;
    }

    s.version = (int)ver;
    enum section sect = ver >= 2 ? SECT_SECRET : SECT_TOPICS;
    const uint8_t *p = body, *end = body + have;
    while (p < end) {
        line++;
        const uint8_t *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) {
            why = "last line has no newline";
            goto bad;
        }
        int k = split(p, (size_t)(e - p), f, fn, 8);
        if (k < 1) {
            why = "empty field or extra space";
            goto bad;
        }
        bool is_secret = ver >= 2 && fn[0] == 6 && memcmp(f[0], "secret", 6) == 0;
        if (sect == SECT_SECRET && !is_secret) {
            why = "the secret record must come first";
            goto bad;
        }
        if (is_secret) {
            if (sect != SECT_SECRET) {
                why = "secret record repeated";
                goto bad;
            }
            if (k != 2 || dec_hex(f[1], fn[1], s.secret, sizeof s.secret, sizeof s.secret) !=
                              sizeof s.secret) {
                why = "secret record needs: 64 lower-case hex digits";
                goto bad;
            }
            s.has_secret = true;
            sect = SECT_TOPICS;
        } else if (fn[0] == 5 && memcmp(f[0], "topic", 5) == 0) {
            if (sect >= SECT_CREDS) {
                why = sect == SECT_CREDS ? "topic record after the scram records"
                                         : "topic record after the acl records";
                goto bad;
            }
            if (k != 4) {
                why = "topic record needs: name id partitions";
                goto bad;
            }
            if (nt == cap) {
                cap = cap ? cap * 2 : 16;
                t = sl_xrealloc(t, (size_t)cap * sizeof *t);
            }
            struct sl_meta_topic *tp = &t[nt];
            memset(tp, 0, sizeof *tp);
            nt++;
            tp->name = dec_field(f[1], fn[1], SL_META_TOPIC_NAME_MAX, &why);
            if (!tp->name)
                goto bad;
            if (!sl_meta_topic_name_valid(tp->name)) {
                why = "not a legal topic name";
                goto bad;
            }
            if (nt > 1 && strcmp(t[nt - 2].name, tp->name) >= 0) {
                why = "topics out of order or repeated";
                goto bad;
            }
            if (!dec_uuid(f[2], fn[2], &tp->id)) {
                why = "bad topic id (32 lower-case hex digits, not all zero)";
                goto bad;
            }
            uint64_t parts;
            if (!dec_uint(f[3], fn[3], INT32_MAX, &parts) || parts < 1) {
                why = "bad partition count";
                goto bad;
            }
            tp->partitions = (int32_t)parts;
        } else if (fn[0] == 6 && memcmp(f[0], "config", 6) == 0) {
            if (k != 3) {
                why = "config record needs: key value";
                goto bad;
            }
            if (sect >= SECT_CREDS) {
                why = sect == SECT_CREDS ? "config record after the scram records"
                                         : "config record after the acl records";
                goto bad;
            }
            if (nt == 0) {
                why = "config record before any topic";
                goto bad;
            }
            struct sl_meta_topic *tp = &t[nt - 1];
            if (tp->n_configs == SL_META_CONFIGS_MAX) {
                why = "too many configs for one topic";
                goto bad;
            }
            /* Grow by powers of two: n_configs is the count so far. */
            if ((tp->n_configs & (tp->n_configs - 1)) == 0) {
                size_t cap2 = tp->n_configs ? (size_t)tp->n_configs * 2 : 1;
                tp->configs = sl_xrealloc(tp->configs, cap2 * sizeof *tp->configs);
            }
            struct sl_kv *kv = &tp->configs[tp->n_configs];
            kv->key = dec_field(f[1], fn[1], SL_META_KEY_MAX, &why);
            if (!kv->key)
                goto bad;
            kv->value = dec_field(f[2], fn[2], SL_META_VALUE_MAX, &why);
            if (!kv->value) {
                free(kv->key);
                goto bad;
            }
            tp->n_configs++;
            if (kv->key[0] == '\0') {
                why = "empty config key";
                goto bad;
            }
            if (tp->n_configs > 1 && strcmp(tp->configs[tp->n_configs - 2].key, kv->key) >= 0) {
                why = "configs out of order or repeated";
                goto bad;
            }
        } else if (ver >= 2 && fn[0] == 5 && memcmp(f[0], "scram", 5) == 0) {
            if (k != 7) {
                why = "scram record needs: user mechanism iterations salt stored-key server-key";
                goto bad;
            }
            if (sect == SECT_ACLS) {
                why = "scram record after the acl records";
                goto bad;
            }
            sect = SECT_CREDS;
            why = dec_scram(&s, f, fn, whybuf, sizeof whybuf);
            if (why)
                goto bad;
        } else if (ver >= 3 && fn[0] == 3 && memcmp(f[0], "acl", 3) == 0) {
            if (k != 8) {
                why = "acl record needs: res pattern name principal host op perm";
                goto bad;
            }
            sect = SECT_ACLS;
            why = dec_acl(&acls, f, fn, whybuf, sizeof whybuf);
            if (why)
                goto bad;
        } else {
            why = "unknown record";
            goto bad;
        }
        p = e + 1;
    }
    if (sect == SECT_SECRET) {
        snprintf(err, errlen, "no secret record (stores of version 2 and later start with one)");
        goto fail;
    }

    if (nt > 1) {
        ids = sl_xmalloc((size_t)nt * sizeof *ids);
        for (int i = 0; i < nt; i++)
            ids[i] = t[i].id;
        qsort(ids, (size_t)nt, sizeof *ids, cmp_uuid);
        for (int i = 1; i < nt; i++)
            if (memcmp(&ids[i - 1], &ids[i], sizeof *ids) == 0) {
                free(ids);
                snprintf(err, errlen, "two topics have the same id");
                goto fail;
            }
        free(ids);
    }
    s.topics = t;
    s.n_topics = nt;
    /* Sorted and unique already, so the set keeps them in file order. */
    s.acls = sl_acl_set_new(acls.a, acls.n);
    acl_list_free(&acls);
    *out = s;
    return SL_ERR_NONE;
bad:
    snprintf(err, errlen, "line %d: %s", line, why);
fail:
    sl_meta_topics_free(t, nt);
    acl_list_free(&acls);
    sl_meta_local_store_clear(&s);
    return SL_ERR__CORRUPT;
}

/* ------------------------------------------------------------------ */
/* The backend                                                         */
/* ------------------------------------------------------------------ */

/* Locking. Writers are serialised by wmu, held across the encode and the
 * disk I/O; only a writer changes st, and it builds the next arrays beside
 * the current ones, so it may read st under wmu alone. mu guards st for
 * readers; a writer takes it only to swap the new arrays in (pointer
 * stores), so a reader, the SASL lookup on a network thread included,
 * never waits for an fsync. Lock order: wmu, then mu. The secret is fixed
 * once open returns and is read without a lock. */
struct meta_local {
    struct sl_meta base; /* first: sl_meta * and meta_local * convert */
    pthread_mutex_t wmu;
    pthread_mutex_t mu;
    char *dir;  /* <data_dir>/meta */
    char *path; /* <dir>/sluice.meta, for messages */
    int dirfd, lockfd;
    struct sl_meta_local_store st; /* topics and creds under mu (see above) */
    int file_version;              /* version of the file on disk; under wmu */
    bool failed;                   /* a directory sync failed: writes refused; under wmu */
    atomic_bool secret_saved;      /* st.secret is in the file on disk */
    const struct sl_keyring *kr;   /* encryption at rest: the file is a sealed blob */
    bool allow_plain;              /* with kr: a plaintext file may be read (and resealed) */
    _Atomic uint64_t scram_gen;    /* sl_meta_scram_generation */
    _Atomic uint64_t acl_gen;      /* sl_meta_acl_generation */
};

/* Outcome of persist(). */
enum persist_rc {
    PERSIST_OK = 0,
    PERSIST_UNCHANGED, /* failed before the rename: nothing changed */
    PERSIST_TOO_BIG,   /* the store would exceed SL_META_LOCAL_MAX_FILE: nothing changed */
    PERSIST_UNKNOWN,   /* renamed, then the directory sync failed */
};

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Writes the store next (borrowed) durably, in the current format (see the
 * protocol at the top). Called with ml->wmu held. */
static enum persist_rc persist(struct meta_local *ml, const struct sl_meta_local_store *next)
{
    uint8_t *buf;
    size_t len;
    int e;
    sl_meta_local_encode(next, &buf, &len);
    if (ml->kr) {
        /* Encryption at rest: the whole store as one sealed blob, bound to
         * its file name, under a fresh data key each time. */
        uint8_t *sealed;
        size_t slen;
        int se = sl_sealed_blob_seal(ml->kr, SL_META_LOCAL_FILE, buf, len, &sealed, &slen);
        OPENSSL_cleanse(buf, len);
        free(buf);
        if (se < 0) {
            SL_ERROR("meta", "%s: cannot seal the store: %s; the store is unchanged", ml->path,
                     strerror(-se));
            return PERSIST_UNCHANGED;
        }
        buf = sealed;
        len = slen;
    }
    if (len > SL_META_LOCAL_MAX_FILE) {
        /* The reader refuses such a file: writing it would make the broker
         * unable to start. */
        SL_ERROR("meta", "%s: refusing a change that would make the store %zu bytes (limit %u)",
                 ml->path, len, SL_META_LOCAL_MAX_FILE);
        OPENSSL_cleanse(buf, len);
        free(buf);
        return PERSIST_TOO_BIG;
    }
    const char *step = "create";
    int fd = openat(ml->dirfd, SL_META_LOCAL_TMP,
                    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto fail;
    /* The store holds credentials and the secret: 0600 whatever the umask
     * gave or whoever created a stale temporary file. */
    step = "fchmod";
    if (fchmod(fd, 0600) != 0)
        goto fail_fd;
    step = "write";
    if (!write_all(fd, buf, len))
        goto fail_fd;
    step = "fdatasync";
    if (fdatasync(fd) != 0)
        goto fail_fd;
    step = "close";
    e = close(fd);
    fd = -1;
    if (e != 0)
        goto fail_fd;
    step = "rename";
    if (renameat(ml->dirfd, SL_META_LOCAL_TMP, ml->dirfd, SL_META_LOCAL_FILE) != 0)
        goto fail_fd;
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (fsync(ml->dirfd) != 0) {
        SL_ERROR("meta",
                 "%s: fsync of the directory failed after replacing the store: %s; refusing "
                 "further metadata changes until restart",
                 ml->dir, strerror(errno));
        return PERSIST_UNKNOWN;
    }
    if (ml->file_version != SL_META_LOCAL_VERSION) {
        SL_INFO("meta", "%s: upgraded from format version %d to %d (older Sluice releases can no "
                "longer read it)", ml->path, ml->file_version, SL_META_LOCAL_VERSION);
        ml->file_version = SL_META_LOCAL_VERSION;
    }
    atomic_store(&ml->secret_saved, true);
    return PERSIST_OK;

fail_fd:
    e = errno;
    if (fd >= 0)
        close(fd);
    unlinkat(ml->dirfd, SL_META_LOCAL_TMP, 0);
    errno = e;
fail:
    SL_ERROR("meta", "%s/%s: %s failed: %s; the store is unchanged", ml->dir, SL_META_LOCAL_TMP,
             step, strerror(errno));
    OPENSSL_cleanse(buf, len);
    free(buf);
    return PERSIST_UNCHANGED;
}

/* Maps the outcome of a persist() to the writer's result; PERSIST_UNKNOWN
 * also makes the store fail later writes. Called with ml->wmu held. */
static sl_err_t persist_result(struct meta_local *ml, enum persist_rc pr)
{
    switch (pr) {
    case PERSIST_OK:
        return SL_ERR_NONE;
    case PERSIST_TOO_BIG:
        return SL_ERR__LIMIT;
    case PERSIST_UNKNOWN:
        ml->failed = true;
        return SL_ERR__IO;
    case PERSIST_UNCHANGED:
    default:
        return SL_ERR__IO;
    }
}

/* Copies count elements of size sz from src[si..] to dst[di..]; no pointer
 * arithmetic at all when count is 0 (src may then be NULL). */
static void move_elems(void *dst, int di, const void *src, int si, int count, size_t sz)
{
    if (count > 0)
        memmove((char *)dst + (size_t)di * sz, (const char *)src + (size_t)si * sz,
                (size_t)count * sz);
}

/* Returns a new array of n - 1 (delete, with elem NULL) or n + 1 (insert
 * elem at at) or n (replace at by elem) elements of size sz, built from
 * old: the shallow next state of a write. */
static void *next_array(const void *old, int n, int at, const void *elem, bool insert,
                        size_t sz)
{
    int nn = elem ? n + (insert ? 1 : 0) : n - 1;
    char *next = sl_xmalloc((size_t)(nn > 0 ? nn : 1) * sz);
    move_elems(next, 0, old, 0, at, sz);
    if (elem)
        memcpy(next + (size_t)at * sz, elem, sz);
    int skip = elem && insert ? 0 : 1; /* old elements replaced or deleted */
    move_elems(next, at + (elem ? 1 : 0), old, at + skip, n - at - skip, sz);
    return next;
}

/* Index of name in the topics, or -(insertion point) - 1. Called with mu
 * or wmu held. */
static int lookup(const struct meta_local *ml, const char *name)
{
    int lo = 0, hi = ml->st.n_topics - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(ml->st.topics[mid].name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

/* Index of (user, mech) in the credentials, or -(insertion point) - 1.
 * Called with mu or wmu held. */
static int lookup_cred(const struct meta_local *ml, const char *user, int mech)
{
    int lo = 0, hi = ml->st.n_creds - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = sl_meta__cmp_cred_key(user, mech, &ml->st.creds[mid]);
        if (c == 0)
            return mid;
        if (c > 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

static sl_err_t local_list(struct sl_meta *m, struct sl_meta_topic **out, int *n)
{
    struct meta_local *ml = (struct meta_local *)m;
    pthread_mutex_lock(&ml->mu);
    *out = NULL;
    *n = ml->st.n_topics;
    if (*n > 0) {
        *out = sl_xcalloc((size_t)*n, sizeof **out);
        for (int i = 0; i < *n; i++)
            sl_meta__topic_copy(&(*out)[i], &ml->st.topics[i]);
    }
    pthread_mutex_unlock(&ml->mu);
    return SL_ERR_NONE;
}

static sl_err_t local_get(struct sl_meta *m, const char *name, struct sl_meta_topic *out)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR__NOENT;
    pthread_mutex_lock(&ml->mu);
    int i = lookup(ml, name);
    if (i >= 0) {
        sl_meta__topic_copy(out, &ml->st.topics[i]);
        rc = SL_ERR_NONE;
    }
    pthread_mutex_unlock(&ml->mu);
    return rc;
}

static sl_err_t local_put(struct sl_meta *m, const struct sl_meta_topic *t)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    struct sl_meta_topic *next = NULL, owned = {0};
    pthread_mutex_lock(&ml->wmu);
    if (ml->failed) {
        rc = SL_ERR__STATE;
        goto out;
    }
    int i = lookup(ml, t->name);
    for (int j = 0; j < ml->st.n_topics; j++)
        if (j != i && memcmp(&ml->st.topics[j].id, &t->id, sizeof t->id) == 0) {
            SL_WARN("meta", "refusing topic %s: its id is already used by topic %s", t->name,
                    ml->st.topics[j].name);
            rc = SL_ERR__INVAL;
            goto out;
        }
    bool insert = i < 0;
    int at = insert ? -i - 1 : i, n = ml->st.n_topics, nn = n + (insert ? 1 : 0);
    sl_meta__topic_copy(&owned, t);
    next = next_array(ml->st.topics, n, at, &owned, insert, sizeof *next);
    struct sl_meta_local_store st = ml->st;
    st.topics = next;
    st.n_topics = nn;
    enum persist_rc pr = persist(ml, &st);
    rc = persist_result(ml, pr);
    if (pr == PERSIST_UNCHANGED || pr == PERSIST_TOO_BIG)
        goto out;
    /* Commit in memory (also after PERSIST_UNKNOWN: it matches the file). */
    struct sl_meta_topic *old = ml->st.topics, replaced = {0};
    if (!insert)
        replaced = old[at];
    pthread_mutex_lock(&ml->mu);
    ml->st.topics = next;
    ml->st.n_topics = nn;
    pthread_mutex_unlock(&ml->mu);
    next = old;
    memset(&owned, 0, sizeof owned); /* now in the store */
    sl_meta_topic_clear(&replaced);
out:
    pthread_mutex_unlock(&ml->wmu);
    sl_meta_topic_clear(&owned);
    free(next);
    return rc;
}

static sl_err_t local_delete(struct sl_meta *m, const char *name)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    struct sl_meta_topic *next = NULL;
    pthread_mutex_lock(&ml->wmu);
    if (ml->failed) {
        rc = SL_ERR__STATE;
        goto out;
    }
    int i = lookup(ml, name);
    if (i < 0) {
        rc = SL_ERR__NOENT;
        goto out;
    }
    next = next_array(ml->st.topics, ml->st.n_topics, i, NULL, false, sizeof *next);
    struct sl_meta_local_store st = ml->st;
    st.topics = next;
    st.n_topics--;
    enum persist_rc pr = persist(ml, &st);
    rc = persist_result(ml, pr);
    if (pr == PERSIST_UNCHANGED || pr == PERSIST_TOO_BIG)
        goto out;
    struct sl_meta_topic *old = ml->st.topics, gone = old[i];
    pthread_mutex_lock(&ml->mu);
    ml->st.topics = next;
    ml->st.n_topics--;
    pthread_mutex_unlock(&ml->mu);
    next = old;
    sl_meta_topic_clear(&gone);
out:
    pthread_mutex_unlock(&ml->wmu);
    free(next);
    return rc;
}

static sl_err_t local_put_scram(struct sl_meta *m, const char *user, const struct sl_scram_cred *c)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    struct sl_meta_user_cred *next = NULL, owned = {0};
    int next_len = 0; /* elements of next, wiped before it is freed */
    pthread_mutex_lock(&ml->wmu);
    if (ml->failed) {
        rc = SL_ERR__STATE;
        goto out;
    }
    int i = lookup_cred(ml, user, c->mech);
    bool insert = i < 0;
    int at = insert ? -i - 1 : i, n = ml->st.n_creds, nn = n + (insert ? 1 : 0);
    if (insert && n >= SL_META_CREDS_MAX) {
        SL_WARN("meta", "refusing a new SCRAM credential: the store holds the maximum of %d",
                SL_META_CREDS_MAX);
        rc = SL_ERR__LIMIT;
        goto out;
    }
    owned.user = sl_xstrdup(user);
    owned.cred = *c;
    next = next_array(ml->st.creds, n, at, &owned, insert, sizeof *next);
    next_len = nn;
    struct sl_meta_local_store st = ml->st;
    st.creds = next;
    st.n_creds = nn;
    enum persist_rc pr = persist(ml, &st);
    rc = persist_result(ml, pr);
    if (pr == PERSIST_UNCHANGED || pr == PERSIST_TOO_BIG)
        goto out;
    /* Commit in memory (also after PERSIST_UNKNOWN: it matches the file). */
    struct sl_meta_user_cred *old = ml->st.creds, replaced = {0};
    if (!insert)
        replaced = old[at];
    pthread_mutex_lock(&ml->mu);
    ml->st.creds = next;
    ml->st.n_creds = nn;
    atomic_fetch_add(&ml->scram_gen, 1);
    pthread_mutex_unlock(&ml->mu);
    next = old;
    next_len = n;
    memset(&owned, 0, sizeof owned); /* now in the store */
    sl_meta__user_cred_clear(&replaced);
out:
    pthread_mutex_unlock(&ml->wmu);
    sl_meta__user_cred_clear(&owned);
    if (next_len > 0)
        OPENSSL_cleanse(next, (size_t)next_len * sizeof *next);
    free(next);
    return rc;
}

static sl_err_t local_delete_scram(struct sl_meta *m, const char *user, int mech)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    struct sl_meta_user_cred *next = NULL;
    int next_len = 0; /* elements of next, wiped before it is freed */
    pthread_mutex_lock(&ml->wmu);
    if (ml->failed) {
        rc = SL_ERR__STATE;
        goto out;
    }
    int i = lookup_cred(ml, user, mech);
    if (i < 0) {
        rc = SL_ERR__NOENT;
        goto out;
    }
    int n = ml->st.n_creds;
    next = next_array(ml->st.creds, n, i, NULL, false, sizeof *next);
    next_len = n - 1;
    struct sl_meta_local_store st = ml->st;
    st.creds = next;
    st.n_creds = n - 1;
    enum persist_rc pr = persist(ml, &st);
    rc = persist_result(ml, pr);
    if (pr == PERSIST_UNCHANGED || pr == PERSIST_TOO_BIG)
        goto out;
    struct sl_meta_user_cred *old = ml->st.creds, gone = old[i];
    pthread_mutex_lock(&ml->mu);
    ml->st.creds = next;
    ml->st.n_creds = n - 1;
    atomic_fetch_add(&ml->scram_gen, 1);
    pthread_mutex_unlock(&ml->mu);
    next = old;
    next_len = n;
    sl_meta__user_cred_clear(&gone);
out:
    pthread_mutex_unlock(&ml->wmu);
    if (next_len > 0)
        OPENSSL_cleanse(next, (size_t)next_len * sizeof *next);
    free(next);
    return rc;
}

static sl_err_t local_get_scram(struct sl_meta *m, const char *user, int mech,
                                struct sl_scram_cred *out)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR__NOENT;
    pthread_mutex_lock(&ml->mu);
    int i = lookup_cred(ml, user, mech);
    if (i >= 0) {
        *out = ml->st.creds[i].cred;
        rc = SL_ERR_NONE;
    }
    pthread_mutex_unlock(&ml->mu);
    return rc;
}

static sl_err_t local_list_scram(struct sl_meta *m, struct sl_meta_user_cred **out, int *n)
{
    struct meta_local *ml = (struct meta_local *)m;
    pthread_mutex_lock(&ml->mu);
    *out = NULL;
    *n = ml->st.n_creds;
    if (*n > 0) {
        *out = sl_xcalloc((size_t)*n, sizeof **out);
        for (int i = 0; i < *n; i++)
            sl_meta__user_cred_copy(&(*out)[i], &ml->st.creds[i]);
    }
    pthread_mutex_unlock(&ml->mu);
    return SL_ERR_NONE;
}

/* Writes the store with the ACL set next (taken) in place of the current
 * one and, unless the write changed nothing, swaps it in and bumps the
 * generation (*committed says which). Returns what the write returned; on
 * SL_ERR__LIMIT and on a failure before the rename, next is dropped and
 * nothing changed. Called with wmu held. */
static sl_err_t swap_acls(struct meta_local *ml, struct sl_acl_set *next, bool *committed)
{
    *committed = false;
    struct sl_meta_local_store st = ml->st;
    st.acls = next;
    enum persist_rc pr = persist(ml, &st);
    sl_err_t rc = persist_result(ml, pr);
    if (pr == PERSIST_UNCHANGED || pr == PERSIST_TOO_BIG) {
        sl_acl_set_unref(next);
        return rc;
    }
    *committed = true;
    /* Commit in memory (also after PERSIST_UNKNOWN: it matches the file). */
    struct sl_acl_set *old = ml->st.acls;
    pthread_mutex_lock(&ml->mu);
    ml->st.acls = next;
    atomic_fetch_add(&ml->acl_gen, 1);
    pthread_mutex_unlock(&ml->mu);
    sl_acl_set_unref(old); /* readers hold their own references */
    return rc;
}

/* A shallow array of the current bindings with room for extra more. */
static struct sl_acl *current_acls(const struct meta_local *ml, int extra, int *n)
{
    *n = sl_acl_set_count(ml->st.acls);
    struct sl_acl *all = sl_xmalloc((size_t)(*n + extra + 1) * sizeof *all);
    for (int i = 0; i < *n; i++)
        all[i] = *sl_acl_set_at(ml->st.acls, i);
    return all;
}

static sl_err_t local_create_acls(struct sl_meta *m, const struct sl_acl *acls, int n)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    int cur;
    pthread_mutex_lock(&ml->wmu);
    if (ml->failed) {
        pthread_mutex_unlock(&ml->wmu);
        return SL_ERR__STATE;
    }
    struct sl_acl *all = current_acls(ml, n, &cur);
    if (n > 0)
        memcpy(all + cur, acls, (size_t)n * sizeof *acls);
    /* The set drops the duplicates, of the store and within the batch. */
    struct sl_acl_set *next = sl_acl_set_new(all, cur + n);
    free(all);
    int nn = sl_acl_set_count(next);
    if (nn == cur) {
        sl_acl_set_unref(next); /* every binding was already stored */
    } else if (nn > SL_ACL_MAX_BINDINGS) {
        SL_WARN("meta", "refusing %d new ACL binding(s): the store would hold %d, over the "
                "maximum of %d", nn - cur, nn, SL_ACL_MAX_BINDINGS);
        sl_acl_set_unref(next);
        rc = SL_ERR__LIMIT;
    } else {
        bool committed;
        rc = swap_acls(ml, next, &committed);
    }
    pthread_mutex_unlock(&ml->wmu);
    return rc;
}

static sl_err_t local_delete_acls(struct sl_meta *m, const struct sl_acl_filter *f, int nf,
                                  struct sl_meta_acl_list *deleted)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    int cur, nkeep = 0;
    pthread_mutex_lock(&ml->wmu);
    if (ml->failed) {
        pthread_mutex_unlock(&ml->wmu);
        return SL_ERR__STATE;
    }
    struct sl_acl *keep = current_acls(ml, 0, &cur);
    int *counts = sl_xcalloc((size_t)nf + 1, sizeof *counts);
    for (int i = 0; i < cur; i++) {
        bool hit = false;
        for (int j = 0; j < nf; j++)
            if (sl_acl_filter_matches(&f[j], &keep[i])) {
                counts[j]++;
                hit = true;
            }
        if (!hit)
            keep[nkeep++] = keep[i];
    }
    if (nkeep == cur)
        goto out; /* nothing matched: nothing to write */
    /* Copies of what goes, taken before the write drops the old set. */
    for (int j = 0; j < nf; j++) {
        if (counts[j] == 0)
            continue;
        deleted[j].acls = sl_xcalloc((size_t)counts[j], sizeof *deleted[j].acls);
        for (int i = 0; i < cur; i++) {
            const struct sl_acl *a = sl_acl_set_at(ml->st.acls, i);
            if (sl_acl_filter_matches(&f[j], a))
                sl_acl_copy(&deleted[j].acls[deleted[j].n++], a);
        }
    }
    bool committed;
    rc = swap_acls(ml, sl_acl_set_new(keep, nkeep), &committed);
    if (!committed || rc != SL_ERR_NONE) /* nothing (known to be) deleted */
        for (int j = 0; j < nf; j++)
            sl_meta_acl_list_clear(&deleted[j]);
out:
    pthread_mutex_unlock(&ml->wmu);
    free(counts);
    free(keep);
    return rc;
}

static struct sl_acl_set *local_acl_set(struct sl_meta *m)
{
    struct meta_local *ml = (struct meta_local *)m;
    pthread_mutex_lock(&ml->mu);
    struct sl_acl_set *s = ml->st.acls;
    sl_acl_set_ref(s);
    pthread_mutex_unlock(&ml->mu);
    return s;
}

static uint64_t local_acl_generation(struct sl_meta *m)
{
    return atomic_load(&((struct meta_local *)m)->acl_gen);
}

static sl_err_t local_auth_secret(struct sl_meta *m, uint8_t out[SL_META_SECRET_LEN])
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    if (!atomic_load(&ml->secret_saved)) {
        /* A store opened from format version 1: write it (the upgrade), so
         * that the secret handed out is the one every later open reads. */
        pthread_mutex_lock(&ml->wmu);
        if (atomic_load(&ml->secret_saved))
            rc = SL_ERR_NONE; /* another thread's write got there first */
        else if (ml->failed)
            rc = SL_ERR__STATE;
        else
            rc = persist_result(ml, persist(ml, &ml->st));
        pthread_mutex_unlock(&ml->wmu);
        /* After PERSIST_UNKNOWN (SL_ERR__IO) the secret may not be on disk
         * and is not handed out. */
        if (rc != SL_ERR_NONE)
            return rc;
    }
    memcpy(out, ml->st.secret, SL_META_SECRET_LEN);
    return SL_ERR_NONE;
}

static uint64_t local_scram_generation(struct sl_meta *m)
{
    return atomic_load(&((struct meta_local *)m)->scram_gen);
}

static void local_close(struct sl_meta *m)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_meta_local_store_clear(&ml->st);
    if (ml->lockfd >= 0)
        close(ml->lockfd); /* releases the flock */
    if (ml->dirfd >= 0)
        close(ml->dirfd);
    pthread_mutex_destroy(&ml->mu);
    pthread_mutex_destroy(&ml->wmu);
    free(ml->dir);
    free(ml->path);
    free(ml);
}

static sl_err_t local_reseal(struct sl_meta *m, const struct sl_keyring *kr)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc;
    pthread_mutex_lock(&ml->wmu);
    if (ml->failed || !ml->kr || !kr) {
        rc = SL_ERR__STATE;
    } else {
        ml->kr = kr; /* read only by persist, under wmu */
        rc = persist_result(ml, persist(ml, &ml->st));
    }
    pthread_mutex_unlock(&ml->wmu);
    return rc;
}

static const struct sl_meta_ops local_ops = {
    .name = "local",
    .list_topics = local_list,
    .get_topic = local_get,
    .put_topic = local_put,
    .delete_topic = local_delete,
    .put_scram = local_put_scram,
    .delete_scram = local_delete_scram,
    .get_scram = local_get_scram,
    .list_scram = local_list_scram,
    .auth_secret = local_auth_secret,
    .scram_generation = local_scram_generation,
    .create_acls = local_create_acls,
    .delete_acls = local_delete_acls,
    .acl_set = local_acl_set,
    .acl_generation = local_acl_generation,
    .reseal = local_reseal,
    .close = local_close,
};

/* mkdir -p with mode 0700 for the directories it creates, then fsyncs the
 * parent of each new directory so that it survives a crash. */
static int mkdirs(const char *path, char *err, size_t errlen)
{
    char *p = sl_xstrdup(path);
    size_t n = strlen(p);
    int rc = 0;
    for (size_t i = 1; i <= n && rc == 0; i++) {
        if (i < n && p[i] != '/')
            continue;
        char save = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) == 0) {
            char *slash = strrchr(p, '/');
            char parent[PATH_MAX];
            if (!slash)
                snprintf(parent, sizeof parent, ".");
            else if (slash == p)
                snprintf(parent, sizeof parent, "/");
            else
                snprintf(parent, sizeof parent, "%.*s", (int)(slash - p), p);
            int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (pfd >= 0) {
                fsync(pfd);
                close(pfd);
            }
        } else if (errno != EEXIST) {
            snprintf(err, errlen, "meta: cannot create directory %s: %s", p, strerror(errno));
            rc = -1;
        }
        p[i] = save;
    }
    free(p);
    return rc;
}

/* Fills ml->st.secret from OpenSSL's CSPRNG. Returns false (with err set)
 * when it fails. */
static bool new_secret(struct meta_local *ml, char *err, size_t errlen)
{
    if (RAND_bytes(ml->st.secret, (int)sizeof ml->st.secret) != 1) {
        snprintf(err, errlen, "meta %s: cannot make the authentication secret: RAND_bytes "
                 "failed (%lu)", ml->path, ERR_get_error());
        return false;
    }
    ml->st.has_secret = true;
    return true;
}

/* Loads the store into ml->st, or creates it. Called by open only. */
static sl_err_t read_store(struct meta_local *ml, char *err, size_t errlen)
{
    sl_err_t rc = SL_ERR_NONE;
    uint8_t *buf = NULL;
    size_t got = 0;
    int fd = openat(ml->dirfd, SL_META_LOCAL_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        /* First start: write an empty store (with its new secret) so the
         * directory is complete. */
        SL_INFO("meta", "%s: no metadata store yet, creating an empty one", ml->path);
        if (!new_secret(ml, err, errlen))
            return SL_ERR__IO;
        ml->file_version = SL_META_LOCAL_VERSION;
        if (persist(ml, &ml->st) != PERSIST_OK) {
            snprintf(err, errlen, "meta %s: cannot create the store (see the log)", ml->path);
            return SL_ERR__IO;
        }
        return SL_ERR_NONE;
    }
    if (fd < 0) {
        snprintf(err, errlen, "meta %s: cannot open: %s", ml->path, strerror(errno));
        return SL_ERR__IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "meta %s: cannot stat: %s", ml->path, strerror(errno));
        rc = SL_ERR__IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SL_META_LOCAL_MAX_FILE) {
        snprintf(err, errlen, "meta %s: not a regular file of at most %u bytes", ml->path,
                 SL_META_LOCAL_MAX_FILE);
        rc = SL_ERR__CORRUPT;
        goto out;
    }
    if (st.st_mode & 077)
        SL_WARN("meta",
                "%s holds credentials and is accessible to other users (mode %03o); 0600 is "
                "expected (the next change writes it 0600)",
                ml->path, (unsigned)(st.st_mode & 0777));
    size_t size = (size_t)st.st_size;
    buf = sl_xmalloc(size ? size : 1);
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "meta %s: cannot read: %s", ml->path, strerror(errno));
            rc = SL_ERR__IO;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    char why[256];
    bool reseal = false;
    if (sl_sealed_is_sealed(buf, got)) {
        uint8_t *pt = NULL;
        size_t ptn = 0;
        int oe = ml->kr ? sl_sealed_blob_open(ml->kr, SL_META_LOCAL_FILE, buf, got, &pt, &ptn)
                        : -ENOKEY;
        if (oe < 0) {
            snprintf(err, errlen, "meta %s: the store is encrypted at rest and %s", ml->path,
                     !ml->kr              ? "no keyring was given (is sluice.encryption.enable "
                                            "false, or the data directory's keyring missing?)"
                     : oe == -ENOKEY      ? "its key version is not in the keyring"
                     : oe == -EKEYREJECTED ? "the keyring's key does not unwrap it (wrong key)"
                                          : "it failed authentication (damaged or tampered with)");
            rc = SL_ERR__CORRUPT;
            goto out;
        }
        OPENSSL_cleanse(buf, got);
        free(buf);
        buf = pt;
        got = ptn;
    } else if (ml->kr && got > 0) {
        if (!ml->allow_plain) {
            snprintf(err, errlen, "meta %s: the store is not encrypted, but this data directory "
                                  "is encrypted at rest: refusing a store that may have been "
                                  "replaced",
                     ml->path);
            rc = SL_ERR__CORRUPT;
            goto out;
        }
        reseal = true; /* written before the first start with encryption on */
    }
    rc = sl_meta_local_decode(buf, got, &ml->st, why, sizeof why);
    if (rc != SL_ERR_NONE) {
        snprintf(err, errlen,
                 "meta %s: %s. The metadata store is damaged; Sluice will not start with partial "
                 "metadata. Restore the file from a backup (or move it away to start with no "
                 "topics, SCRAM credentials or ACLs, losing them)",
                 ml->path, why);
        goto out;
    }
    ml->file_version = ml->st.version;
    if (ml->st.has_secret) {
        atomic_store(&ml->secret_saved, true);
    } else {
        /* An older format: the secret is made now and written with the next
         * change (or by the first sl_meta_auth_secret), which upgrades the
         * file; until then an older Sluice can still read it. */
        if (!new_secret(ml, err, errlen)) {
            rc = SL_ERR__IO;
            goto out;
        }
        SL_INFO("meta", "%s: format version %d; the next change upgrades it to version %d",
                ml->path, ml->file_version, SL_META_LOCAL_VERSION);
    }
    if (reseal) {
        if (persist(ml, &ml->st) != PERSIST_OK) {
            snprintf(err, errlen, "meta %s: cannot rewrite the store encrypted (see the log)",
                     ml->path);
            rc = SL_ERR__IO;
            goto out;
        }
        SL_INFO("meta", "%s: the store is now encrypted at rest", ml->path);
    }
out:
    if (buf)
        OPENSSL_cleanse(buf, got);
    free(buf);
    close(fd);
    return rc;
}

sl_err_t sl_meta_open_local(const char *data_dir, struct sl_meta **out, char *err, size_t errlen)
{
    return sl_meta_open_local_sealed(data_dir, NULL, false, out, err, errlen);
}

sl_err_t sl_meta_open_local_sealed(const char *data_dir, const struct sl_keyring *kr,
                                   bool allow_plain, struct sl_meta **out, char *err,
                                   size_t errlen)
{
    sl_err_t rc = SL_ERR_NONE;
    *out = NULL;
    struct meta_local *ml = sl_xcalloc(1, sizeof *ml);
    ml->kr = kr;
    ml->allow_plain = allow_plain;
    ml->base.ops = &local_ops;
    ml->dirfd = ml->lockfd = -1;
    pthread_mutex_init(&ml->mu, NULL);
    pthread_mutex_init(&ml->wmu, NULL);
    atomic_init(&ml->secret_saved, false);
    atomic_init(&ml->scram_gen, 1);
    atomic_init(&ml->acl_gen, 1);
    size_t dl = strlen(data_dir) + sizeof "/meta";
    ml->dir = sl_xmalloc(dl);
    snprintf(ml->dir, dl, "%s/meta", data_dir);
    size_t pl = strlen(ml->dir) + sizeof "/" SL_META_LOCAL_FILE;
    ml->path = sl_xmalloc(pl);
    snprintf(ml->path, pl, "%s/%s", ml->dir, SL_META_LOCAL_FILE);

    if (mkdirs(ml->dir, err, errlen) != 0) {
        rc = SL_ERR__IO;
        goto fail;
    }
    ml->dirfd = open(ml->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ml->dirfd < 0) {
        snprintf(err, errlen, "meta %s: cannot open: %s", ml->dir, strerror(errno));
        rc = SL_ERR__IO;
        goto fail;
    }
    struct stat st;
    if (fstat(ml->dirfd, &st) == 0 && (st.st_mode & 077))
        SL_WARN("meta", "%s is accessible to other users (mode %03o); 0700 is expected", ml->dir,
                (unsigned)(st.st_mode & 0777));
    ml->lockfd = openat(ml->dirfd, SL_META_LOCAL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                        0600);
    if (ml->lockfd < 0) {
        snprintf(err, errlen, "meta %s/%s: cannot open: %s", ml->dir, SL_META_LOCAL_LOCK,
                 strerror(errno));
        rc = SL_ERR__IO;
        goto fail;
    }
    if (flock(ml->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            snprintf(err, errlen,
                     "meta %s: locked by another process (is another sluiced using this data "
                     "directory?)",
                     ml->dir);
            rc = SL_ERR__STATE;
        } else {
            snprintf(err, errlen, "meta %s: cannot lock: %s", ml->dir, strerror(errno));
            rc = SL_ERR__IO;
        }
        goto fail;
    }
    /* A temporary file means a write was interrupted before its rename: the
     * store it was to replace is intact, the temporary is garbage. */
    if (unlinkat(ml->dirfd, SL_META_LOCAL_TMP, 0) == 0)
        SL_WARN("meta", "%s/%s: removed the leftover of an interrupted write; the store is intact",
                ml->dir, SL_META_LOCAL_TMP);
    else if (errno != ENOENT) {
        snprintf(err, errlen, "meta %s/%s: cannot remove: %s", ml->dir, SL_META_LOCAL_TMP,
                 strerror(errno));
        rc = SL_ERR__IO;
        goto fail;
    }
    rc = read_store(ml, err, errlen);
    if (rc != SL_ERR_NONE)
        goto fail;
    if (!ml->st.acls)
        ml->st.acls = sl_acl_set_new(NULL, 0); /* a new store */
    SL_INFO("meta", "%s: %d topic(s), %d SCRAM credential(s), %d ACL binding(s) loaded",
            ml->path, ml->st.n_topics, ml->st.n_creds, sl_acl_set_count(ml->st.acls));
    *out = &ml->base;
    return SL_ERR_NONE;
fail:
    local_close(&ml->base);
    return rc;
}
