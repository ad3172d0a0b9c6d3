/* SPDX-License-Identifier: Apache-2.0
 *
 * One SSL listener's TLS state (see tls_server.h): current context and its
 * reload, session ticket keys, principal mapping, counters, and the kernel
 * TLS probe.
 *
 * Session tickets: OpenSSL's default ticket key lives as long as the
 * SSL_CTX, so a broker that runs for months would encrypt every ticket under
 * one key. Here the listener keeps two keys: new tickets use the current
 * one, which is replaced every hour; tickets under the previous one are
 * still accepted (and renewed). A ticket thus lives at most two hours, and a
 * stolen ticket key opens at most that window of sessions.
 */
#include "tls/tls_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/mem.h"
#include "security/audit/audit.h"
#include "security/authn/principal_rules.h"
#include "tls/tls_ctx.h"
#include "tls/tls_dn.h"

#define TICKET_ROTATE_MS (3600 * 1000)

struct ticket_key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    int64_t created_ms;
    bool set;
};

struct sl_tls_server {
    char listener[32];
    const struct sl_config *cfg;
    pthread_mutex_t mu;
    SSL_CTX *ctx;                 /* current; guarded by mu */
    struct sl_tls_files files;    /* of the current context, or of the last refused attempt */
    struct ticket_key cur, prev;  /* guarded by mu */
    struct sl_principal_rules *rules;
    int64_t handshake_timeout_ms;
    atomic_uint_fast64_t n_ok, n_failed;
};

static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_init(void)
{
    ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void ticket_new(struct ticket_key *k)
{
    if (RAND_bytes(k->name, sizeof k->name) != 1 || RAND_bytes(k->aes, sizeof k->aes) != 1 ||
        RAND_bytes(k->hmac, sizeof k->hmac) != 1)
        sl_assert_fail("RAND_bytes failed", __FILE__, __LINE__);
    k->created_ms = sl_mono_ms();
    k->set = true;
}

static int ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
                     EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
    struct sl_tls_server *s = SSL_CTX_get_ex_data(ctx, ex_index);
    if (!s)
        return -1;
    struct ticket_key k;
    int ret = 1;
    pthread_mutex_lock(&s->mu);
    if (sl_mono_ms() - s->cur.created_ms >= TICKET_ROTATE_MS) {
        s->prev = s->cur;
        ticket_new(&s->cur);
    }
    if (enc) {
        k = s->cur;
    } else if (memcmp(key_name, s->cur.name, 16) == 0) {
        k = s->cur;
    } else if (s->prev.set && memcmp(key_name, s->prev.name, 16) == 0) {
        k = s->prev;
        ret = 2; /* valid, but issue a new ticket under the current key */
    } else {
        pthread_mutex_unlock(&s->mu);
        return 0; /* unknown key: full handshake */
    }
    pthread_mutex_unlock(&s->mu);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof k.hmac),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (enc) {
        if (RAND_bytes(iv, 16) != 1)
            ret = -1;
        memcpy(key_name, k.name, 16);
        if (ret > 0 && EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1)
            ret = -1;
    } else if (EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1) {
        ret = -1;
    }
    if (ret > 0 && EVP_MAC_CTX_set_params(hctx, params) != 1)
        ret = -1;
    OPENSSL_cleanse(&k, sizeof k);
    return ret;
}

/* Builds a context with this listener's callbacks. */
static SSL_CTX *build(struct sl_tls_server *s, struct sl_tls_files *files, char *err,
                      size_t errlen)
{
    struct sl_tls_info info;
    SSL_CTX *ctx = sl_tls_ctx_build(s->cfg, s->listener, files, &info, err, errlen);
    if (!ctx)
        return NULL;
    SSL_CTX_set_ex_data(ctx, ex_index, s);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
    SSL_CTX_set_num_tickets(ctx, 1);
    SL_INFO("tls", "listener %s: certificate %s (expires %s), %d trusted CA%s, %d CRL%s, %s, "
                   "client auth %s",
            s->listener, info.subject, info.not_after, info.n_trusted,
            info.n_trusted == 1 ? "" : "s", info.n_crls, info.n_crls == 1 ? "" : "s",
            info.protocols,
            (const char *[]){"none", "requested", "required"}[sl_tls_client_auth(s->cfg,
                                                                                s->listener)]);
    return ctx;
}

struct sl_tls_server *sl_tls_server_new(const struct sl_config *cfg, const char *listener,
                                        char *err, size_t errlen)
{
    pthread_once(&ex_once, ex_init);
    struct sl_tls_server *s = sl_xcalloc(1, sizeof *s);
    snprintf(s->listener, sizeof s->listener, "%s", listener);
    s->cfg = cfg;
    pthread_mutex_init(&s->mu, NULL);
    ticket_new(&s->cur);
    char buf[64];
    const char *rules = sl_config_listener_get(cfg, listener, "ssl.principal.mapping.rules", buf,
                                               sizeof buf);
    char why[512];
    s->rules = sl_principal_rules_parse(rules ? rules : "DEFAULT", why, sizeof why);
    if (!s->rules) {
        snprintf(err, errlen, "listener %s: ssl.principal.mapping.rules=%s: %s", listener,
                 rules ? rules : "", why);
        sl_tls_server_free(s);
        return NULL;
    }
    const char *t = sl_config_listener_get(cfg, listener, "sluice.ssl.handshake.timeout.ms", buf,
                                           sizeof buf);
    s->handshake_timeout_ms = t ? strtoll(t, NULL, 10) : 10000;
    s->ctx = build(s, &s->files, err, errlen);
    if (!s->ctx) {
        sl_tls_server_free(s);
        return NULL;
    }
    return s;
}

void sl_tls_server_free(struct sl_tls_server *s)
{
    if (!s)
        return;
    if (s->ctx)
        SL_INFO("tls", "listener %s: %llu TLS handshakes completed, %llu failed", s->listener,
                (unsigned long long)atomic_load(&s->n_ok),
                (unsigned long long)atomic_load(&s->n_failed));
    SSL_CTX_free(s->ctx);
    sl_principal_rules_free(s->rules);
    OPENSSL_cleanse(&s->cur, sizeof s->cur);
    OPENSSL_cleanse(&s->prev, sizeof s->prev);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

SSL *sl_tls_server_new_ssl(struct sl_tls_server *s)
{
    pthread_mutex_lock(&s->mu);
    SSL *ssl = SSL_new(s->ctx); /* holds its own reference to the context */
    pthread_mutex_unlock(&s->mu);
    return ssl;
}

int sl_tls_server_reload(struct sl_tls_server *s, bool force)
{
    struct sl_tls_files now;
    sl_tls_files_stat(&s->files, &now);
    if (!force && !sl_tls_files_changed(&s->files, &now))
        return 0;
    char err[1024];
    struct sl_tls_files files;
    SSL_CTX *ctx = build(s, &files, err, sizeof err);
    if (!ctx) {
        /* Remember what was tried so a broken set is reported once, and
         * retried when it changes again. */
        s->files = now;
        SL_WARN("tls", "reload refused, the previous key and certificates stay in use: %s", err);
        sl_audit_reload("tls", s->listener, false, err);
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    SSL_CTX *old = s->ctx;
    s->ctx = ctx;
    s->files = files;
    pthread_mutex_unlock(&s->mu);
    SSL_CTX_free(old);
    SL_INFO("tls", "listener %s: reloaded; new connections use the new material, open ones keep "
                   "theirs",
            s->listener);
    sl_audit_reload("tls", s->listener, true, force ? "forced (SIGHUP)" : "files changed");
    return 1;
}

int sl_tls_server_principal(struct sl_tls_server *s, X509 *cert, char *out, size_t outlen)
{
    char dn[1024], name[1024];
    if (sl_tls_subject_dn(cert, dn, sizeof dn) < 0) {
        snprintf(out, outlen, "subject DN too long");
        return -1;
    }
    if (sl_principal_rules_apply(s->rules, dn, name, sizeof name) < 0) {
        snprintf(out, outlen, "ssl.principal.mapping.rules refuses %s: %s", dn, name);
        return -1;
    }
    snprintf(out, outlen, "User:%s", name);
    return 0;
}

int64_t sl_tls_server_handshake_timeout_ms(const struct sl_tls_server *s)
{
    return s->handshake_timeout_ms;
}

const char *sl_tls_server_listener(const struct sl_tls_server *s)
{
    return s->listener;
}

void sl_tls_server_count(struct sl_tls_server *s, bool ok)
{
    atomic_fetch_add(ok ? &s->n_ok : &s->n_failed, 1);
}

uint64_t sl_tls_server_failures(const struct sl_tls_server *s)
{
    return atomic_load(&((struct sl_tls_server *)s)->n_failed);
}

static bool ktls_ok;
static char ktls_why[128];
static pthread_once_t ktls_once = PTHREAD_ONCE_INIT;

static bool ktls_probe(char *why, size_t whylen);

static void ktls_probe_once(void)
{
    ktls_ok = ktls_probe(ktls_why, sizeof ktls_why);
}

bool sl_tls_ktls_available(char *why, size_t whylen)
{
    pthread_once(&ktls_once, ktls_probe_once);
    snprintf(why, whylen, "%s", ktls_why);
    return ktls_ok;
}

static bool ktls_probe(char *why, size_t whylen)
{
#ifdef TCP_ULP
    /* Attaching the "tls" upper layer to an unconnected socket fails with
     * ENOTCONN when the layer exists and ENOENT when it does not. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whylen, "cannot probe (%s)", strerror(errno));
        return false;
    }
    int r = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls");
    int e = errno;
    close(fd);
    if (r == 0 || e == ENOTCONN) {
        snprintf(why, whylen, "the kernel offers the tls upper layer");
        return true;
    }
    snprintf(why, whylen, "the kernel's tls upper layer is absent (%s)", strerror(e));
    return false;
#else
    snprintf(why, whylen, "not built with TCP_ULP");
    return false;
#endif
}
