/* SPDX-License-Identifier: Apache-2.0
 *
 * Subject DN in Java's RFC 2253 form (see tls_dn.h for the rules).
 *
 * The string is built from the Name's DER, not from OpenSSL's X509_NAME
 * entries: Java builds X500Principal from those bytes, so the order of the
 * attributes inside a multi-valued RDN, the value's tag and its exact
 * contents octets are taken from the same place Java takes them. A received
 * certificate's X509_NAME keeps its original encoding, which
 * X509_NAME_get0_der returns. The walker accepts only what Java's DER reader
 * accepts here: one-byte tags, definite lengths in their shortest form.
 *
 * Left out: the RFC 1779 and canonical forms of X500Principal.getName(String),
 * and Java's debug mode that prints other characters as \XX.
 */
#include "tls/tls_dn.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/objects.h>

#include "core/mem.h"
#include "core/utf8.h"

/* DER tags used here (universal class). */
#define TAG_OID 0x06
#define TAG_UTF8STRING 0x0C
#define TAG_PRINTABLESTRING 0x13
#define TAG_T61STRING 0x14
#define TAG_IA5STRING 0x16
#define TAG_GENERALSTRING 0x1B
#define TAG_BMPSTRING 0x1E
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31

/* One TLV: its tag, the whole encoding and the contents. */
struct tlv {
    unsigned char tag;
    const unsigned char *all, *val;
    size_t all_len, val_len;
};

/* Reads the TLV at p[0..len). Returns 0, or -1 for a multi-byte tag, an
 * indefinite, overlong or non-minimal length, or one that runs past len. */
static int der_read(const unsigned char *p, size_t len, struct tlv *t)
{
    if (len < 2 || (p[0] & 0x1F) == 0x1F)
        return -1;
    size_t hdr = 2, n = p[1];
    if (n & 0x80) {
        size_t nb = n & 0x7F;
        if (nb == 0 || nb > 4 || len - 2 < nb || p[2] == 0)
            return -1;
        n = 0;
        for (size_t i = 0; i < nb; i++)
            n = (n << 8) | p[2 + i];
        if (n < 0x80)
            return -1;
        hdr += nb;
    }
    if (n > len - hdr)
        return -1;
    t->tag = p[0];
    t->all = p;
    t->all_len = hdr + n;
    t->val = p + hdr;
    t->val_len = n;
    return 0;
}

/* The attribute types Java names in RFC 2253 output, by OID contents. */
static const struct {
    const char *name;
    unsigned char len;
    unsigned char oid[10];
} keywords[] = {
    {"CN", 3, {0x55, 0x04, 0x03}},
    {"C", 3, {0x55, 0x04, 0x06}},
    {"L", 3, {0x55, 0x04, 0x07}},
    {"ST", 3, {0x55, 0x04, 0x08}},
    {"STREET", 3, {0x55, 0x04, 0x09}},
    {"O", 3, {0x55, 0x04, 0x0A}},
    {"OU", 3, {0x55, 0x04, 0x0B}},
    {"DC", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x19}},
    {"UID", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x01}},
};

/* Output cursor: writes stop at the end of the buffer and set full. */
struct out {
    char *p;
    size_t len, cap; // cap excludes the NUL
    bool full;
};

static void put(struct out *o, const void *s, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void putc_(struct out *o, char c)
{
    put(o, &c, 1);
}

/* Writes the attribute type: a keyword, or the dotted OID. Sets *keyword.
 * Returns 0, or -1 if the OID does not decode. */
static int put_type(struct out *o, const struct tlv *oid, bool *keyword)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        if (oid->val_len == keywords[i].len &&
            memcmp(oid->val, keywords[i].oid, oid->val_len) == 0) {
            put(o, keywords[i].name, strlen(keywords[i].name));
            *keyword = true;
            return 0;
        }
    }
    *keyword = false;
    /* OpenSSL prints arcs of any size (Java uses BigInteger for those). */
    const unsigned char *p = oid->all;
    ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, (long)oid->all_len);
    if (!obj)
        return -1;
    char small[128];
    int n = OBJ_obj2txt(small, sizeof small, obj, 1);
    if (n <= 0) {
        ASN1_OBJECT_free(obj);
        return -1;
    }
    if ((size_t)n < sizeof small) {
        put(o, small, (size_t)n);
    } else {
        char *big = sl_xmalloc((size_t)n + 1);
        OBJ_obj2txt(big, n + 1, obj, 1);
        put(o, big, (size_t)n);
        free(big);
    }
    ASN1_OBJECT_free(obj);
    return 0;
}

static bool is_text_tag(unsigned char tag)
{
    switch (tag) {
    case TAG_UTF8STRING:
    case TAG_PRINTABLESTRING:
    case TAG_T61STRING:
    case TAG_IA5STRING:
    case TAG_GENERALSTRING:
    case TAG_BMPSTRING:
        return true;
    default:
        return false;
    }
}

/* '#' and the whole encoding in lower-case hex (Java's HexFormat). */
static void put_hex(struct out *o, const struct tlv *v)
{
    static const char digits[] = "0123456789abcdef";
    putc_(o, '#');
    for (size_t i = 0; i < v->all_len; i++) {
        char h[2] = {digits[v->all[i] >> 4], digits[v->all[i] & 15]};
        put(o, h, 2);
    }
}

/* The value as text: contents decoded as UTF-8, then escaped. The leading
 * and trailing runs of spaces and CRs are counted on the raw bytes: escaping
 * never adds or removes a space or CR, and both are single bytes that no
 * multi-byte sequence contains. */
static void put_text(struct out *o, const struct tlv *v)
{
    const char *s = (const char *)v->val;
    size_t len = v->val_len, lead = 0, trail = 0;
    while (lead < len && (s[lead] == ' ' || s[lead] == '\r'))
        lead++;
    while (trail < len - lead && (s[len - 1 - trail] == ' ' || s[len - 1 - trail] == '\r'))
        trail++;
    if (lead == len)
        trail = 0; // an all-blank value: each character gets one backslash
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = sl_utf8_decode(s + i, len - i, &cp);
        if (i < lead || i >= len - trail) {
            putc_(o, '\\');
            putc_(o, s[i]);
        } else if (cp == SL_UTF8_INVALID) {
            put(o, "\xEF\xBF\xBD", 3); // U+FFFD, as Java's decoder does
        } else if (cp == 0) {
            put(o, "\\00", 3);
        } else if (cp < 0x80 && strchr(",=+<>#;\"\\", (int)cp)) {
            putc_(o, '\\');
            putc_(o, (char)cp);
        } else {
            put(o, s + i, n);
        }
        i += n;
    }
}

/* Writes one AttributeTypeAndValue: SEQUENCE { OID, ANY } with nothing
 * after the value. Returns 0 or -1. */
static int put_ava(struct out *o, const struct tlv *ava)
{
    struct tlv oid, val;
    if (ava->tag != TAG_SEQUENCE || der_read(ava->val, ava->val_len, &oid) < 0 ||
        oid.tag != TAG_OID || oid.val_len == 0)
        return -1;
    size_t rest = ava->val_len - oid.all_len;
    if (der_read(oid.all + oid.all_len, rest, &val) < 0 || val.all_len != rest)
        return -1;
    bool keyword;
    if (put_type(o, &oid, &keyword) < 0)
        return -1;
    putc_(o, '=');
    if (keyword && is_text_tag(val.tag))
        put_text(o, &val);
    else
        put_hex(o, &val);
    return 0;
}

/* Writes one RDN (a SET of AVAs, in encoded order, '+' between). */
static int put_rdn(struct out *o, const struct tlv *rdn)
{
    if (rdn->tag != TAG_SET)
        return -1;
    size_t off = 0;
    for (int k = 0; off < rdn->val_len; k++) {
        struct tlv ava;
        if (der_read(rdn->val + off, rdn->val_len - off, &ava) < 0)
            return -1;
        if (k > 0)
            putc_(o, '+');
        if (put_ava(o, &ava) < 0)
            return -1;
        off += ava.all_len;
    }
    return 0;
}

int sl_tls_dn_from_der(const unsigned char *der, size_t derlen, char *out, size_t outlen)
{
    if (!der || !out || outlen == 0)
        return -1;
    out[0] = '\0';
    struct tlv name;
    if (der_read(der, derlen, &name) < 0 || name.tag != TAG_SEQUENCE || name.all_len != derlen)
        return -1;

    /* RDNs print last to first: find where each starts. */
    size_t n = 0;
    for (size_t off = 0; off < name.val_len; n++) {
        struct tlv rdn;
        if (der_read(name.val + off, name.val_len - off, &rdn) < 0)
            return -1;
        off += rdn.all_len;
    }
    struct tlv *rdns = sl_xcalloc(n ? n : 1, sizeof *rdns);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        der_read(name.val + off, name.val_len - off, &rdns[i]); // checked above
        off += rdns[i].all_len;
    }

    struct out o = {.p = out, .len = 0, .cap = outlen - 1, .full = false};
    int rc = 0;
    for (size_t i = n; i-- > 0;) {
        if (i + 1 < n)
            putc_(&o, ',');
        if (put_rdn(&o, &rdns[i]) < 0) {
            rc = -1;
            break;
        }
    }
    free(rdns);
    if (rc < 0 || o.full) {
        out[0] = '\0';
        return -1;
    }
    out[o.len] = '\0';
    return 0;
}

int sl_tls_subject_dn(const X509 *cert, char *out, size_t outlen)
{
    if (!cert || !out || outlen == 0)
        return -1;
    out[0] = '\0';
    const X509_NAME *nm = X509_get_subject_name(cert);
    const unsigned char *der = NULL;
    size_t derlen = 0;
    if (!nm || X509_NAME_get0_der(nm, &der, &derlen) != 1)
        return -1;
    return sl_tls_dn_from_der(der, derlen, out, outlen);
}
