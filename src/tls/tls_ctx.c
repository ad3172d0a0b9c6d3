/* SPDX-License-Identifier: Apache-2.0
 *
 * Server SSL_CTX construction (see tls_ctx.h). All checks happen before the
 * context is returned: a key that does not match its certificate, an expired
 * or not yet valid server certificate, a wrong password, an empty trust store
 * with client authentication on, a cipher suite that is not AEAD with forward
 * secrecy. Messages name the listener, the key and the value (never a secret).
 *
 * PEM given inline in a .properties file usually loses its line breaks
 * (Kafka's documented form continues lines with '\'), so inline PEM is
 * re-wrapped before OpenSSL reads it.
 */
#include "tls/tls_ctx.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/config.h"
#include "core/mem.h"
#include "tls/tls_dn.h"
#include "tls/tls_server.h"

/* AEAD suites with ECDHE key exchange, strongest first. TLS 1.3 suites are
 * all AEAD with forward secrecy. */
static const char DEFAULT_CIPHERS_12[] =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
static const char DEFAULT_SUITES_13[] =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

#define MAX_PEM (1024 * 1024)

const char *sl_tls_errors(char *buf, size_t len)
{
    size_t used = 0;
    unsigned long e;
    buf[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        char one[256];
        ERR_error_string_n(e, one, sizeof one);
        /* "error:0A000086:SSL routines::certificate verify failed": keep the reason. */
        const char *r = strrchr(one, ':');
        r = r && r[1] ? r + 1 : one;
        if (used < len && !strstr(buf, r)) {
            int w = snprintf(buf + used, len - used, "%s%s", used ? "; " : "", r);
            if (w > 0)
                used += (size_t)w;
        }
    }
    if (!buf[0])
        snprintf(buf, len, "unknown OpenSSL error");
    return buf;
}

/* Build state: the listener and where to write the first failure. */
struct build {
    const struct sl_config *cfg;
    const char *listener; /* NULL: a client context (messages name no listener) */
    sl_tls_get_fn getfn;  /* client contexts: where the ssl.* keys come from */
    void *getarg;
    char *err;
    size_t errlen;
    char vbuf[64];
};

static const char *get(struct build *b, const char *key)
{
    const char *v = b->getfn ? b->getfn(b->getarg, key)
                             : sl_config_listener_get(b->cfg, b->listener, key, b->vbuf,
                                                      sizeof b->vbuf);
    return v && *v ? v : NULL;
}

static SSL_CTX *fail(struct build *b, const char *key, const char *shown, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static SSL_CTX *fail(struct build *b, const char *key, const char *shown, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char where[128] = "";
    if (b->listener)
        snprintf(where, sizeof where, "listener %s: ", b->listener);
    if (key)
        snprintf(b->err, b->errlen, "%s%s=%s: %s", where, key, shown ? shown : "", why);
    else
        snprintf(b->err, b->errlen, "%s%s", where, why);
    ERR_clear_error();
    return NULL;
}

static char *read_file(const char *path, size_t max, size_t *outlen, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = sl_xmalloc(max + 1);
    size_t n = fread(buf, 1, max + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad || n > max) {
        snprintf(why, whylen, bad ? "cannot read" : "larger than %zu bytes", max);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *outlen = n;
    return buf;
}

/* Re-wraps PEM text whose line breaks were lost or mangled: each
 * -----BEGIN X----- ... -----END X----- block gets its base64 body, white
 * space removed, in 64-column lines. Returns new memory. */
static char *pem_rewrap(const char *in)
{
    size_t n = strlen(in);
    char *out = sl_xmalloc(n * 2 + 64), *o = out;
    const char *p = in;
    for (;;) {
        const char *b = strstr(p, "-----BEGIN ");
        if (!b)
            break;
        const char *be = strstr(b + 11, "-----");
        if (!be)
            break;
        be += 5;
        const char *e = strstr(be, "-----END ");
        if (!e)
            break;
        const char *ee = strstr(e + 9, "-----");
        if (!ee)
            break;
        ee += 5;
        memcpy(o, b, (size_t)(be - b));
        o += be - b;
        *o++ = '\n';
        int col = 0;
        for (const char *q = be; q < e; q++) {
            if (isspace((unsigned char)*q))
                continue;
            *o++ = *q;
            if (++col == 64) {
                *o++ = '\n';
                col = 0;
            }
        }
        if (col)
            *o++ = '\n';
        memcpy(o, e, (size_t)(ee - e));
        o += ee - e;
        *o++ = '\n';
        p = ee;
    }
    *o = '\0';
    return out;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u;
    if (!pw)
        return 0;
    int n = (int)strlen(pw);
    if (n > size)
        return 0;
    memcpy(buf, pw, (size_t)n);
    return n;
}

static void stamp(struct sl_tls_files *f, int i, const char *path)
{
    snprintf(f->path[i], sizeof f->path[i], "%s", path ? path : "");
    memset(&f->st[i], 0, sizeof f->st[i]);
    if (path && stat(path, &f->st[i]) != 0)
        memset(&f->st[i], 0, sizeof f->st[i]);
}

void sl_tls_files_stat(const struct sl_tls_files *f, struct sl_tls_files *out)
{
    for (int i = 0; i < SL_TLS_FILES; i++)
        stamp(out, i, f->path[i][0] ? f->path[i] : NULL);
}

bool sl_tls_files_changed(const struct sl_tls_files *a, const struct sl_tls_files *b)
{
    for (int i = 0; i < SL_TLS_FILES; i++) {
        const struct stat *x = &a->st[i], *y = &b->st[i];
        if (x->st_ino != y->st_ino || x->st_dev != y->st_dev || x->st_size != y->st_size ||
            x->st_mtim.tv_sec != y->st_mtim.tv_sec || x->st_mtim.tv_nsec != y->st_mtim.tv_nsec ||
            x->st_ctim.tv_sec != y->st_ctim.tv_sec || x->st_ctim.tv_nsec != y->st_ctim.tv_nsec)
            return true;
    }
    return false;
}

enum sl_tls_client_auth sl_tls_client_auth(const struct sl_config *cfg, const char *listener)
{
    char buf[32];
    const char *v = sl_config_listener_get(cfg, listener, "ssl.client.auth", buf, sizeof buf);
    if (v && strcmp(v, "required") == 0)
        return SL_TLS_AUTH_REQUIRED;
    if (v && strcmp(v, "requested") == 0)
        return SL_TLS_AUTH_REQUESTED;
    return SL_TLS_AUTH_NONE;
}

/* ---- key store ---- */

struct keypair {
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) *chain;
};

static void keypair_free(struct keypair *k)
{
    EVP_PKEY_free(k->key);
    X509_free(k->cert);
    sk_X509_pop_free(k->chain, X509_free);
    memset(k, 0, sizeof *k);
}

/* Reads a private key and certificates from PEM text. */
static bool pem_keypair(const char *pem, size_t len, const char *pw, struct keypair *k,
                        char *why, size_t whylen)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    k->key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)pw);
    BIO_free(bio);
    if (!k->key) {
        char e[256];
        sl_tls_errors(e, sizeof e);
        snprintf(why, whylen, "no usable private key (%s)%s", e,
                 strstr(pem, "ENCRYPTED") && !pw ? "; the key is encrypted: set ssl.key.password"
                                                  : "");
        return false;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    k->chain = sk_X509_new_null();
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!k->cert)
            k->cert = x;
        else
            sk_X509_push(k->chain, x);
    }
    BIO_free(bio);
    ERR_clear_error(); /* the end of the stream */
    if (!k->cert) {
        snprintf(why, whylen, "no certificate");
        return false;
    }
    return true;
}

static bool p12_keypair(const char *data, size_t len, const char *pw, const char *keypw,
                        struct keypair *k, char *why, size_t whylen)
{
    if (len >= 4 && (unsigned char)data[0] == 0xFE && (unsigned char)data[1] == 0xED &&
        (unsigned char)data[2] == 0xFE && (unsigned char)data[3] == 0xED) {
        snprintf(why, whylen, "this is a JKS key store: convert it with keytool -importkeystore "
                              "-deststoretype PKCS12");
        return false;
    }
    const unsigned char *p = (const unsigned char *)data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (!p12) {
        snprintf(why, whylen, "not a PKCS12 store (set ssl.keystore.type=PEM for PEM files)");
        return false;
    }
    bool ok = PKCS12_parse(p12, pw ? pw : "", &k->key, &k->cert, &k->chain) == 1;
    if (!ok && keypw)
        ok = PKCS12_parse(p12, keypw, &k->key, &k->cert, &k->chain) == 1;
    PKCS12_free(p12);
    if (!ok) {
        char e[256];
        sl_tls_errors(e, sizeof e);
        snprintf(why, whylen, "wrong password or corrupt PKCS12 store (%s)", e);
        return false;
    }
    if (!k->key || !k->cert) {
        snprintf(why, whylen, "the PKCS12 store holds no private key with its certificate");
        return false;
    }
    if (!k->chain)
        k->chain = sk_X509_new_null();
    return true;
}

static bool load_keypair(struct build *b, struct keypair *k, struct sl_tls_files *files)
{
    const char *type = get(b, "ssl.keystore.type");
    const char *loc = get(b, "ssl.keystore.location");
    const char *inline_key = get(b, "ssl.keystore.key");
    const char *inline_chain = get(b, "ssl.keystore.certificate.chain");
    const char *storepw = get(b, "ssl.keystore.password");
    const char *keypw = get(b, "ssl.key.password");
    char why[768];
    bool pem = type && strcasecmp(type, "PEM") == 0;
    stamp(files, 0, loc);
    if (inline_key || inline_chain) {
        if (loc) {
            fail(b, "ssl.keystore.location", loc,
                 "set either ssl.keystore.location or ssl.keystore.key with "
                 "ssl.keystore.certificate.chain, not both");
            return false;
        }
        if (!pem) {
            fail(b, "ssl.keystore.type", type, "inline keys (ssl.keystore.key) need "
                                               "ssl.keystore.type=PEM");
            return false;
        }
        if (!inline_key || !inline_chain) {
            fail(b, inline_key ? "ssl.keystore.key" : "ssl.keystore.certificate.chain",
                 inline_key ? "[hidden]" : inline_chain,
                 "ssl.keystore.key and ssl.keystore.certificate.chain go together");
            return false;
        }
        char *kp = pem_rewrap(inline_key), *cp = pem_rewrap(inline_chain);
        size_t kl = strlen(kp), cl = strlen(cp);
        char *both = sl_xmalloc(kl + cl + 1);
        memcpy(both, kp, kl);
        memcpy(both + kl, cp, cl + 1);
        bool ok = pem_keypair(both, kl + cl, keypw ? keypw : storepw, k, why, sizeof why);
        OPENSSL_cleanse(both, kl + cl);
        OPENSSL_cleanse(kp, kl);
        free(both);
        free(kp);
        free(cp);
        if (!ok)
            fail(b, "ssl.keystore.key", "[hidden]", "%s", why);
        return ok;
    }
    if (!loc) {
        fail(b, NULL, NULL, "an SSL listener needs a key and certificate: set "
                            "ssl.keystore.location (or ssl.keystore.key and "
                            "ssl.keystore.certificate.chain), per listener as "
                            "listener.name.%s.ssl.keystore.location",
             b->listener);
        return false;
    }
    size_t len = 0;
    char *data = read_file(loc, MAX_PEM, &len, why, sizeof why);
    if (!data) {
        fail(b, "ssl.keystore.location", loc, "%s", why);
        return false;
    }
    bool ok = pem ? pem_keypair(data, len, keypw ? keypw : storepw, k, why, sizeof why)
                  : p12_keypair(data, len, storepw, keypw, k, why, sizeof why);
    OPENSSL_cleanse(data, len);
    free(data);
    if (!ok)
        fail(b, "ssl.keystore.location", loc, "%s%s", why,
             pem ? "" : " (ssl.keystore.type=PKCS12)");
    return ok;
}

static void asn1_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) == 1)
        strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
    else
        snprintf(buf, len, "(unreadable)");
}

/* ---- trust store and CRLs ---- */

static int add_pem_certs(X509_STORE *st, STACK_OF(X509_NAME) *names, const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(st, x) == 1) {
            n++;
            X509_NAME *nm = X509_NAME_dup(X509_get_subject_name(x));
            if (nm)
                sk_X509_NAME_push(names, nm);
        }
        X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error();
    return n;
}

static int load_trust(struct build *b, SSL_CTX *ctx, struct sl_tls_files *files)
{
    const char *type = get(b, "ssl.truststore.type");
    const char *loc = get(b, "ssl.truststore.location");
    const char *inl = get(b, "ssl.truststore.certificates");
    const char *pw = get(b, "ssl.truststore.password");
    bool pem = type && strcasecmp(type, "PEM") == 0;
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    char why[768];
    int n = 0;
    stamp(files, 1, loc);
    if (inl) {
        if (loc) {
            fail(b, "ssl.truststore.location", loc,
                 "set either ssl.truststore.location or ssl.truststore.certificates, not both");
            goto bad;
        }
        if (!pem) {
            fail(b, "ssl.truststore.type", type,
                 "ssl.truststore.certificates needs ssl.truststore.type=PEM");
            goto bad;
        }
        char *p = pem_rewrap(inl);
        n = add_pem_certs(st, names, p, strlen(p));
        free(p);
        if (n == 0) {
            fail(b, "ssl.truststore.certificates", inl, "no certificate in the PEM text");
            goto bad;
        }
    } else if (loc) {
        size_t len = 0;
        char *data = read_file(loc, MAX_PEM, &len, why, sizeof why);
        if (!data) {
            fail(b, "ssl.truststore.location", loc, "%s", why);
            goto bad;
        }
        if (pem) {
            n = add_pem_certs(st, names, data, len);
        } else {
            const unsigned char *p = (const unsigned char *)data;
            PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
            EVP_PKEY *k = NULL;
            X509 *c = NULL;
            STACK_OF(X509) *ca = NULL;
            if (!p12 || PKCS12_parse(p12, pw ? pw : "", &k, &c, &ca) != 1) {
                char e[256];
                sl_tls_errors(e, sizeof e);
                free(data);
                PKCS12_free(p12);
                fail(b, "ssl.truststore.location", loc,
                     "not a readable PKCS12 trust store: wrong password, corrupt, or PEM (then "
                     "set ssl.truststore.type=PEM) (%s)",
                     e);
                goto bad;
            }
            PKCS12_free(p12);
            EVP_PKEY_free(k);
            if (c) {
                if (X509_STORE_add_cert(st, c) == 1) {
                    n++;
                    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(c)));
                }
                X509_free(c);
            }
            for (int i = 0; ca && i < sk_X509_num(ca); i++) {
                X509 *x = sk_X509_value(ca, i);
                if (X509_STORE_add_cert(st, x) == 1) {
                    n++;
                    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(x)));
                }
            }
            sk_X509_pop_free(ca, X509_free);
        }
        free(data);
        if (n == 0) {
            fail(b, "ssl.truststore.location", loc, "no certificate in the trust store");
            goto bad;
        }
    }
    if (n > 0)
        SSL_CTX_set_client_CA_list(ctx, names);
    else
        sk_X509_NAME_pop_free(names, X509_NAME_free);
    return n;
bad:
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return -1;
}

static int load_crls(struct build *b, SSL_CTX *ctx, struct sl_tls_files *files)
{
    const char *loc = get(b, "sluice.ssl.crl.location");
    stamp(files, 2, loc);
    if (!loc)
        return 0;
    char why[512];
    size_t len = 0;
    char *data = read_file(loc, MAX_PEM * 16, &len, why, sizeof why);
    if (!data) {
        fail(b, "sluice.ssl.crl.location", loc, "%s", why);
        return -1;
    }
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    int n = 0;
    X509_CRL *crl;
    while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_crl(st, crl) == 1)
            n++;
        X509_CRL_free(crl);
    }
    BIO_free(bio);
    free(data);
    ERR_clear_error();
    if (n == 0) {
        fail(b, "sluice.ssl.crl.location", loc, "no CRL in the file (PEM X509 CRL expected)");
        return -1;
    }
    X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    return n;
}

/* ---- protocols and ciphers ---- */

static bool set_protocols(struct build *b, SSL_CTX *ctx, struct sl_tls_info *info)
{
    const char *v = get(b, "ssl.enabled.protocols");
    bool v12 = !v || strstr(v, "TLSv1.2"), v13 = !v || strstr(v, "TLSv1.3");
    SSL_CTX_set_min_proto_version(ctx, v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    snprintf(info->protocols, sizeof info->protocols, "%s%s%s", v12 ? "TLSv1.2" : "",
             v12 && v13 ? "," : "", v13 ? "TLSv1.3" : "");
    return true;
}

/* Finds an OpenSSL TLS 1.2 cipher by IANA or OpenSSL name. */
static const SSL_CIPHER *find_cipher(STACK_OF(SSL_CIPHER) *all, const char *name)
{
    for (int i = 0; i < sk_SSL_CIPHER_num(all); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
        const char *std = SSL_CIPHER_standard_name(c);
        if (strcmp(SSL_CIPHER_get_name(c), name) == 0 || (std && strcmp(std, name) == 0))
            return c;
    }
    return NULL;
}

static bool set_ciphers(struct build *b, SSL_CTX *ctx)
{
    const char *v = get(b, "ssl.cipher.suites");
    if (!v) {
        if (SSL_CTX_set_cipher_list(ctx, DEFAULT_CIPHERS_12) != 1 ||
            SSL_CTX_set_ciphersuites(ctx, DEFAULT_SUITES_13) != 1) {
            char e[256];
            fail(b, NULL, NULL, "cannot set the default ciphers (%s)", sl_tls_errors(e, sizeof e));
            return false;
        }
        return true;
    }
    /* Every TLS 1.2 cipher this OpenSSL knows, to look names up. */
    SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_security_level(probe, 0);
    SSL_CTX_set_cipher_list(probe, "ALL:COMPLEMENTOFALL");
    SSL *ps = SSL_new(probe);
    STACK_OF(SSL_CIPHER) *all = ps ? SSL_get1_supported_ciphers(ps) : NULL;
    char l12[2048] = "", l13[512] = "";
    bool ok = true;
    const char *p = v;
    while (ok && *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[128];
        while (n && isspace((unsigned char)*p)) {
            p++;
            n--;
        }
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        snprintf(name, sizeof name, "%.*s", (int)(n < 127 ? n : 127), p);
        p = comma ? comma + 1 : p + strlen(p);
        if (!name[0])
            continue;
        if (strcmp(name, "TLS_AES_256_GCM_SHA384") == 0 ||
            strcmp(name, "TLS_AES_128_GCM_SHA256") == 0 ||
            strcmp(name, "TLS_CHACHA20_POLY1305_SHA256") == 0 ||
            strcmp(name, "TLS_AES_128_CCM_SHA256") == 0) {
            snprintf(l13 + strlen(l13), sizeof l13 - strlen(l13), "%s%s", l13[0] ? ":" : "", name);
            continue;
        }
        const SSL_CIPHER *c = all ? find_cipher(all, name) : NULL;
        if (!c) {
            ok = false;
            fail(b, "ssl.cipher.suites", v, "unknown cipher suite %s", name);
            break;
        }
        int kx = SSL_CIPHER_get_kx_nid(c);
        if (!SSL_CIPHER_is_aead(c) || (kx != NID_kx_ecdhe && kx != NID_kx_dhe)) {
            ok = false;
            fail(b, "ssl.cipher.suites", v,
                 "%s is refused: only AEAD suites with forward secrecy (ECDHE or DHE) are allowed",
                 name);
            break;
        }
        snprintf(l12 + strlen(l12), sizeof l12 - strlen(l12), "%s%s", l12[0] ? ":" : "",
                 SSL_CIPHER_get_name(c));
    }
    sk_SSL_CIPHER_free(all);
    SSL_free(ps);
    SSL_CTX_free(probe);
    if (!ok)
        return false;
    if (!l12[0] && !l13[0])
        return fail(b, "ssl.cipher.suites", v, "no cipher suite left"), false;
    /* An empty TLS 1.2 list disables TLS 1.2 (and the reverse for 1.3). */
    if (l12[0])
        SSL_CTX_set_cipher_list(ctx, l12);
    else
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    if (l13[0]) {
        SSL_CTX_set_ciphersuites(ctx, l13);
    } else {
        SSL_CTX_set_ciphersuites(ctx, "");
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    }
    return true;
}

SSL_CTX *sl_tls_ctx_build(const struct sl_config *cfg, const char *listener,
                          struct sl_tls_files *files, struct sl_tls_info *info, char *err,
                          size_t errlen)
{
    struct build b = {.cfg = cfg, .listener = listener, .err = err, .errlen = errlen};
    memset(files, 0, sizeof *files);
    memset(info, 0, sizeof *info);
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        char e[256];
        return fail(&b, NULL, NULL, "cannot create a TLS context (%s)", sl_tls_errors(e, sizeof e));
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* OpenSSL 3 refuses client-initiated renegotiation unless
     * SSL_OP_ALLOW_CLIENT_RENEGOTIATION is set; make sure it is not. */
    SSL_CTX_clear_options(ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION | SSL_OP_LEGACY_SERVER_CONNECT);
    char kwhy[128];
    if (sl_tls_ktls_available(kwhy, sizeof kwhy))
        SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
    /* Not SSL_MODE_RELEASE_BUFFERS: freeing and reallocating the record
     * buffers on every write costs more than the memory of idle ones. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    /* Sessions resume through tickets only (tls_server.c installs the key
     * callback); no server-side cache to grow. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_timeout(ctx, 3600);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)listener,
                                   (unsigned)strnlen(listener, SSL_MAX_SID_CTX_LENGTH));
    if (!set_protocols(&b, ctx, info) || !set_ciphers(&b, ctx))
        goto bad;
    if (SSL_CTX_get_min_proto_version(ctx) > SSL_CTX_get_max_proto_version(ctx)) {
        fail(&b, "ssl.cipher.suites", get(&b, "ssl.cipher.suites"),
             "no suite for the enabled protocols (%s)", info->protocols);
        goto bad;
    }

    struct keypair k = {0};
    if (!load_keypair(&b, &k, files))
        goto bad;
    if (SSL_CTX_use_cert_and_key(ctx, k.cert, k.key, k.chain, 1) != 1) {
        char e[256];
        sl_tls_errors(e, sizeof e);
        keypair_free(&k);
        fail(&b, NULL, NULL, "the private key does not match the certificate, or the key is "
                             "unusable (%s)", e);
        goto bad;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        keypair_free(&k);
        fail(&b, NULL, NULL, "the private key does not match the certificate");
        goto bad;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(k.cert)) <= 0 ||
        X509_cmp_current_time(X509_get0_notBefore(k.cert)) >= 0) {
        char nb[64], na[64];
        asn1_time_text(X509_get0_notBefore(k.cert), nb, sizeof nb);
        asn1_time_text(X509_get0_notAfter(k.cert), na, sizeof na);
        keypair_free(&k);
        fail(&b, NULL, NULL, "the server certificate is valid from %s to %s, not now", nb, na);
        goto bad;
    }
    if (sl_tls_subject_dn(k.cert, info->subject, sizeof info->subject) < 0)
        snprintf(info->subject, sizeof info->subject, "(too long)");
    asn1_time_text(X509_get0_notAfter(k.cert), info->not_after, sizeof info->not_after);
    keypair_free(&k);

    int nt = load_trust(&b, ctx, files);
    if (nt < 0)
        goto bad;
    info->n_trusted = nt;
    enum sl_tls_client_auth auth = sl_tls_client_auth(cfg, listener);
    if (auth != SL_TLS_AUTH_NONE && nt == 0) {
        fail(&b, "ssl.client.auth", auth == SL_TLS_AUTH_REQUIRED ? "required" : "requested",
             "client certificates need a trust store: set ssl.truststore.location or "
             "ssl.truststore.certificates");
        goto bad;
    }
    int nc = load_crls(&b, ctx, files);
    if (nc < 0)
        goto bad;
    if (nc > 0 && nt == 0) {
        fail(&b, "sluice.ssl.crl.location", get(&b, "sluice.ssl.crl.location"),
             "a CRL without a trust store has no effect: set ssl.truststore.location");
        goto bad;
    }
    info->n_crls = nc;
    int mode = auth == SL_TLS_AUTH_NONE       ? SSL_VERIFY_NONE
               : auth == SL_TLS_AUTH_REQUIRED ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                              : SSL_VERIFY_PEER;
    SSL_CTX_set_verify(ctx, mode, NULL);
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *sl_tls_client_ctx_build(sl_tls_get_fn get_key, void *arg, char *err, size_t errlen)
{
    struct build b = {.getfn = get_key, .getarg = arg, .err = err, .errlen = errlen};
    struct sl_tls_files files = {0};
    struct sl_tls_info info = {0};
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        char e[256];
        return fail(&b, NULL, NULL, "cannot create a TLS context (%s)", sl_tls_errors(e, sizeof e));
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (!set_protocols(&b, ctx, &info) || !set_ciphers(&b, ctx))
        goto bad;
    /* The client's own key store, for mutual TLS: only when one is named. */
    if (get(&b, "ssl.keystore.location") || get(&b, "ssl.keystore.key") ||
        get(&b, "ssl.keystore.certificate.chain")) {
        struct keypair k = {0};
        if (!load_keypair(&b, &k, &files))
            goto bad;
        int ok = SSL_CTX_use_cert_and_key(ctx, k.cert, k.key, k.chain, 1) == 1 &&
                 SSL_CTX_check_private_key(ctx) == 1;
        keypair_free(&k);
        if (!ok) {
            char e[256];
            fail(&b, "ssl.keystore.location", get(&b, "ssl.keystore.location"),
                 "the private key does not match the certificate (%s)", sl_tls_errors(e, sizeof e));
            goto bad;
        }
    }
    int nt = load_trust(&b, ctx, &files);
    if (nt < 0)
        goto bad;
    /* No trust store named: the system's CAs, as Java uses its default one. */
    if (nt == 0 && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        char e[256];
        fail(&b, "ssl.truststore.location", "", "no trust store given and the system's cannot be "
                                                "loaded (%s)", sl_tls_errors(e, sizeof e));
        goto bad;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}
