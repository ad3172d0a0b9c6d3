/* SPDX-License-Identifier: Apache-2.0
 *
 * Audit record bytes, chained HMAC and the audit key file (see
 * audit_record.h).
 */
#include "security/audit/audit_record.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- HMAC ---- */

int sl_audit_hmac_init(struct sl_audit_hmac *h, const uint8_t key[SL_AUDIT_KEY_LEN])
{
    h->ctx = NULL;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return -1;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (!ctx)
        return -1;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                            (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(ctx, key, SL_AUDIT_KEY_LEN, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return -1;
    }
    h->ctx = ctx;
    return 0;
}

void sl_audit_hmac_free(struct sl_audit_hmac *h)
{
    EVP_MAC_CTX_free(h->ctx);
    h->ctx = NULL;
}

int sl_audit_hmac_record(struct sl_audit_hmac *h, const uint8_t prev[SL_AUDIT_MAC_LEN],
                         const void *body, size_t n, uint8_t out[SL_AUDIT_MAC_LEN])
{
    size_t outl = 0;
    /* A NULL key re-initialises with the key set at sl_audit_hmac_init. */
    if (!h->ctx || EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1 ||
        EVP_MAC_update(h->ctx, prev, SL_AUDIT_MAC_LEN) != 1 ||
        EVP_MAC_update(h->ctx, body, n) != 1 ||
        EVP_MAC_final(h->ctx, out, &outl, SL_AUDIT_MAC_LEN) != 1 || outl != SL_AUDIT_MAC_LEN)
        return -1;
    return 0;
}

void sl_audit_mac_hex(const uint8_t mac[SL_AUDIT_MAC_LEN], char out[2 * SL_AUDIT_MAC_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < SL_AUDIT_MAC_LEN; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[2 * SL_AUDIT_MAC_LEN] = '\0';
}

static int lowhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int sl_audit_mac_unhex(const char *s, size_t n, uint8_t mac[SL_AUDIT_MAC_LEN])
{
    if (n != 2 * SL_AUDIT_MAC_LEN)
        return -1;
    for (size_t i = 0; i < SL_AUDIT_MAC_LEN; i++) {
        int hi = lowhex(s[2 * i]), lo = lowhex(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* ---- parsing ---- */

int sl_audit_rec_parse(const char *line, size_t len, struct sl_audit_rec *r, const char **why)
{
    static const char tail_member[] = SL_AUDIT_MAC_MEMBER;
    const size_t tm = sizeof tail_member - 1, hexlen = 2 * SL_AUDIT_MAC_LEN;
    if (len > SL_AUDIT_LINE_MAX) {
        *why = "line longer than the limit";
        return -1;
    }
    if (len < 2 + tm + hexlen + 2 || memcmp(line + len - 2, "\"}", 2) != 0) {
        *why = "line does not end with the sluicemac member";
        return -1;
    }
    size_t body_len = len - 2 - hexlen - tm;
    if (memcmp(line + body_len, tail_member, tm) != 0 ||
        sl_audit_mac_unhex(line + body_len + tm, hexlen, r->mac) < 0) {
        *why = "malformed sluicemac member";
        return -1;
    }
    size_t at;
    if (sl_aj_parse(&r->doc, line, len, why, &at) < 0)
        return -1;
    const struct sl_aj_doc *d = &r->doc;
    if (d->tok[0].type != SL_AJ_OBJECT) {
        *why = "record is not a JSON object";
        return -1;
    }
    int mac = sl_aj_get(d, 0, "sluicemac");
    if (mac < 0 || d->tok[mac].start != body_len + tm || d->tok[mac].next != d->n) {
        *why = "sluicemac is not the last member";
        return -1;
    }
    if (!sl_aj_streq(d, sl_aj_get(d, 0, "specversion"), "1.0") ||
        !sl_aj_streq(d, sl_aj_get(d, 0, "datacontenttype"), "application/json")) {
        *why = "not a CloudEvents 1.0 JSON record";
        return -1;
    }
    const char *s;
    size_t n;
    if (sl_aj_get_raw(d, sl_aj_get(d, 0, "id"), &s, &n) < 0 ||
        sl_aj_get_raw(d, sl_aj_get(d, 0, "source"), &s, &n) < 0 ||
        sl_aj_get_raw(d, sl_aj_get(d, 0, "time"), &s, &n) < 0) {
        *why = "id, source or time missing";
        return -1;
    }
    if (sl_aj_get_raw(d, sl_aj_get(d, 0, "type"), &r->type, &r->type_len) < 0) {
        *why = "type missing";
        return -1;
    }
    if (sl_aj_get_u64(d, sl_aj_get(d, 0, "sluiceseq"), &r->seq) < 0 || r->seq == 0) {
        *why = "sluiceseq missing or not a positive integer";
        return -1;
    }
    r->data = sl_aj_get(d, 0, "data");
    if (r->data < 0 || d->tok[r->data].type != SL_AJ_OBJECT) {
        *why = "data missing or not an object";
        return -1;
    }
    r->body_len = body_len;
    return 0;
}

bool sl_audit_rec_is(const struct sl_audit_rec *r, const char *t)
{
    size_t n = strlen(t);
    return r->type_len == n && memcmp(r->type, t, n) == 0;
}

int sl_audit_rec_u64(const struct sl_audit_rec *r, const char *key, uint64_t *out)
{
    return sl_aj_get_u64(&r->doc, sl_aj_get(&r->doc, r->data, key), out);
}

int sl_audit_rec_str(const struct sl_audit_rec *r, const char *key, const char **s, size_t *n)
{
    return sl_aj_get_raw(&r->doc, sl_aj_get(&r->doc, r->data, key), s, n);
}

int sl_audit_rec_mac(const struct sl_audit_rec *r, const char *key, uint8_t mac[SL_AUDIT_MAC_LEN])
{
    const char *s;
    size_t n;
    if (sl_audit_rec_str(r, key, &s, &n) < 0)
        return -1;
    return sl_audit_mac_unhex(s, n, mac);
}

/* ---- key file ---- */

static int create_key(const char *path, uint8_t key[SL_AUDIT_KEY_LEN], char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory %s for the audit key: %s", dir,
                     strerror(errno));
            return -1;
        }
    }
    if (RAND_bytes(key, SL_AUDIT_KEY_LEN) != 1) {
        snprintf(err, errlen, "RAND_bytes failed making the audit key");
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create the audit key file %s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t w = write(fd, key, SL_AUDIT_KEY_LEN);
    int rc = (w == SL_AUDIT_KEY_LEN && fsync(fd) == 0) ? 0 : -1;
    int saved = errno;
    close(fd);
    if (rc < 0) {
        unlink(path);
        snprintf(err, errlen, "cannot write the audit key file %s: %s", path, strerror(saved));
        return -1;
    }
    if (slash && slash != dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return 0;
}

int sl_audit_key_load(const char *path, bool create, uint8_t key[SL_AUDIT_KEY_LEN], char *err,
                      size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT && create)
            return create_key(path, key, err, errlen);
        snprintf(err, errlen, "cannot open the audit key file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot stat the audit key file %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "the audit key file %s is not a regular file", path);
    } else if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "the audit key file %s is accessible by group or others (mode %04o): "
                 "chmod 600 it",
                 path, (unsigned)(st.st_mode & 07777));
    } else if (st.st_size != SL_AUDIT_KEY_LEN) {
        snprintf(err, errlen, "the audit key file %s holds %lld bytes, not %d", path,
                 (long long)st.st_size, SL_AUDIT_KEY_LEN);
    } else if (read(fd, key, SL_AUDIT_KEY_LEN) != SL_AUDIT_KEY_LEN) {
        snprintf(err, errlen, "cannot read the audit key file %s", path);
    } else {
        rc = 0;
    }
    close(fd);
    return rc;
}
