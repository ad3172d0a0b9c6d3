/* SPDX-License-Identifier: Apache-2.0
 *
 * A private CA and a server certificate for the first start (see
 * pki_gen.h). The CA is CA:TRUE with pathlen 0 and may only sign
 * certificates and CRLs; the server certificate is CA:FALSE,
 * digitalSignature, serverAuth, with the names clients check (host name
 * verification by IP or DNS entry). Serial numbers are 128 random bits.
 */
#include "tls/pki_gen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/mem.h"
#include "core/readfile.h"
#include "storage/fileops.h"
#include "tls/tls_ctx.h"

#define MAX_PEM (64 * 1024)

static void fail_ssl(char *err, size_t errlen, const char *what)
{
    char e[256];
    sl_tls_errors(e, sizeof e);
    snprintf(err, errlen, "%s: %s", what, e[0] ? e : "OpenSSL error");
}

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

/* Sets version 3, a random positive 128-bit serial, the validity and the
 * subject "CN=cn, O=Sluice". */
static int cert_base(X509 *x, const char *cn, int days)
{
    BIGNUM *bn = BN_new();
    int ok = bn && BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
             BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    if (!ok || X509_set_version(x, X509_VERSION_3) != 1)
        return -1;
    /* An hour back, for clocks slightly behind the broker's. */
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL))
        return -1;
    X509_NAME *nm = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)"Sluice", -1,
                                   -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1)
        return -1;
    return 0;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* Writes the PEM of what (key and/or certificates) durably to dir/name,
 * mode 0600. The key's bytes go through secure memory and are wiped. */
static int write_pem(const char *dir, const char *name, EVP_PKEY *key, X509 *const *certs,
                     int n_certs, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    BIO *bio = BIO_new(BIO_s_secmem());
    int rc = -1;
    if (!bio) {
        fail_ssl(err, errlen, "cannot allocate a buffer");
        return -1;
    }
    if (key && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
        fail_ssl(err, errlen, "cannot encode a private key");
        goto out;
    }
    for (int i = 0; i < n_certs; i++)
        if (PEM_write_bio_X509(bio, certs[i]) != 1) {
            fail_ssl(err, errlen, "cannot encode a certificate");
            goto out;
        }
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    int e = sl_file_replace(&sl_fileops_posix, path, data, (size_t)n);
    if (e < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-e));
        goto out;
    }
    rc = 0;
out:
    BIO_free(bio); /* secure memory: cleared on free */
    return rc;
}

int sl_pki_make_ca(const char *dir, const char *cn, char *err, size_t errlen)
{
    EVP_PKEY *key = new_key();
    X509 *x = X509_new();
    int rc = -1;
    if (!key || !x) {
        fail_ssl(err, errlen, "cannot generate the CA key");
        goto out;
    }
    if (cert_base(x, cn, SL_PKI_CA_DAYS) < 0 ||
        X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 || X509_set_pubkey(x, key) != 1 ||
        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
        add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
        add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, x, NID_authority_key_identifier, "keyid:always") < 0 ||
        X509_sign(x, key, EVP_sha256()) <= 0) {
        fail_ssl(err, errlen, "cannot make the CA certificate");
        goto out;
    }
    /* The key first: a CA certificate without its key is useless. */
    if (write_pem(dir, SL_PKI_CA_KEY, key, NULL, 0, err, errlen) < 0 ||
        write_pem(dir, SL_PKI_CA_CERT, NULL, &x, 1, err, errlen) < 0)
        goto out;
    sl_fileops_posix.fsync_dir(&sl_fileops_posix, dir);
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

/* Reads a PEM private key or the first certificate of dir/name. */
static void *read_pem(const char *dir, const char *name, bool is_key, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    char *data = sl_read_file(path, MAX_PEM, &len, err, errlen);
    if (!data)
        return NULL;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    void *out = is_key ? (void *)PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                       : (void *)PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    OPENSSL_cleanse(data, len);
    free(data);
    if (!out) {
        char what[4300];
        snprintf(what, sizeof what, "%s: not a PEM %s", path,
                 is_key ? "private key" : "certificate");
        fail_ssl(err, errlen, what);
    }
    return out;
}

/* A host name fit for a DNS entry (letters, digits, '-', '.', '*'). */
static bool dns_name_ok(const char *s)
{
    if (!s[0] || strlen(s) > 253)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '*'))
            return false;
    return true;
}

/* Builds "DNS:a,IP:b,..." from sans (duplicates and unusable names left
 * out) into buf. */
static void san_text(const char *const *sans, int n, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && i < SL_PKI_MAX_SANS; i++) {
        const char *s = sans[i];
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup = dup || strcasecmp(sans[j], s) == 0;
        unsigned char a[16];
        bool ip = inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
        if (dup || (!ip && !dns_name_ok(s)))
            continue;
        int w = snprintf(buf + at, len - at, "%s%s:%s", at ? "," : "", ip ? "IP" : "DNS", s);
        if (w < 0 || (size_t)w >= len - at)
            break;
        at += (size_t)w;
    }
}

int sl_pki_make_server(const char *dir, const char *cn, const char *const *sans, int n_sans,
                       char *err, size_t errlen)
{
    EVP_PKEY *cakey = read_pem(dir, SL_PKI_CA_KEY, true, err, errlen);
    X509 *ca = cakey ? read_pem(dir, SL_PKI_CA_CERT, false, err, errlen) : NULL;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int rc = -1;
    if (!ca)
        goto out;
    key = new_key();
    x = X509_new();
    if (!key || !x) {
        fail_ssl(err, errlen, "cannot generate the broker key");
        goto out;
    }
    char san[2048];
    san_text(sans, n_sans, san, sizeof san);
    if (cert_base(x, cn, SL_PKI_SERVER_DAYS) < 0 ||
        X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 ||
        X509_set_pubkey(x, key) != 1 ||
        add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(x, ca, NID_key_usage, "critical,digitalSignature") < 0 ||
        add_ext(x, ca, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(x, ca, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, ca, NID_authority_key_identifier, "keyid:always") < 0 ||
        (san[0] && add_ext(x, ca, NID_subject_alt_name, san) < 0) ||
        X509_sign(x, cakey, EVP_sha256()) <= 0) {
        fail_ssl(err, errlen, "cannot make the broker certificate");
        goto out;
    }
    X509 *chain[2] = {x, ca};
    if (write_pem(dir, SL_PKI_KEYSTORE, key, chain, 2, err, errlen) < 0)
        goto out;
    sl_fileops_posix.fsync_dir(&sl_fileops_posix, dir);
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    X509_free(ca);
    EVP_PKEY_free(cakey);
    return rc;
}
