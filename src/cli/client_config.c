/* SPDX-License-Identifier: Apache-2.0
 *
 * The client properties file of the `sluice` CLI (see client_config.h):
 * one row per understood key in a small table, the values checked as they
 * are read, the cross-key rules in sl_client_config_check.
 */
#include "cli/client_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "cli/jaas.h"
#include "config/properties.h"
#include "core/mem.h"
#include "core/readfile.h"

/* The ssl.* keys handed to the TLS context builder; the secret ones are
 * never shown in messages. */
static const struct {
    const char *key;
    bool secret;
} ssl_keys[SL_CLIENT_SSL_KEYS] = {
    {"ssl.truststore.location", false},  {"ssl.truststore.type", false},
    {"ssl.truststore.password", true},   {"ssl.truststore.certificates", false},
    {"ssl.keystore.location", false},    {"ssl.keystore.type", false},
    {"ssl.keystore.password", true},     {"ssl.keystore.key", true},
    {"ssl.keystore.certificate.chain", false}, {"ssl.key.password", true},
    {"ssl.enabled.protocols", false},    {"ssl.cipher.suites", false},
    {"ssl.protocol", false},             {"ssl.endpoint.identification.algorithm", false},
};

static const char *const proto_names[SL_SEC_MAX] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT",
                                                    "SASL_SSL"};

const char *sl_sec_proto_name(int p)
{
    return p >= 0 && p < SL_SEC_MAX ? proto_names[p] : "UNKNOWN";
}

void sl_client_config_init(struct sl_client_config *c)
{
    memset(c, 0, sizeof *c);
    c->protocol = SL_SEC_PLAINTEXT;
    c->verify_host = true;
    c->request_timeout_ms = 30000;
}

static void wipe_free(char **p)
{
    if (*p) {
        OPENSSL_cleanse(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

void sl_client_config_clear(struct sl_client_config *c)
{
    free(c->bootstrap);
    free(c->sasl_mechanism);
    free(c->sasl_username);
    wipe_free(&c->sasl_password);
    free(c->jaas_module);
    free(c->client_id);
    for (int i = 0; i < SL_CLIENT_SSL_KEYS; i++)
        wipe_free(&c->ssl[i]);
    memset(c, 0, sizeof *c);
}

static void set_str(char **slot, const char *v)
{
    wipe_free(slot);
    *slot = sl_xstrdup(v);
}

struct load {
    struct sl_client_config *c;
    const char *name;
};

static sl_err_t bad(const struct load *l, int line, const char *key, const char *shown,
                    const char *why, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s:%d: %s=%s: %s", l->name, line, key, shown, why);
    return SL_ERR__INVAL;
}

static sl_err_t on_pair(void *arg, const char *key, const char *value, int line, char *err,
                        size_t errlen)
{
    struct load *l = arg;
    struct sl_client_config *c = l->c;
    if (strcmp(key, "bootstrap.servers") == 0) {
        if (!value[0])
            return bad(l, line, key, value, "must not be empty", err, errlen);
        set_str(&c->bootstrap, value);
    } else if (strcmp(key, "security.protocol") == 0) {
        int p = SL_SEC_MAX;
        for (int i = 0; i < SL_SEC_MAX; i++)
            if (strcasecmp(value, proto_names[i]) == 0)
                p = i;
        if (p == SL_SEC_MAX)
            return bad(l, line, key, value,
                       "not a security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)", err,
                       errlen);
        c->protocol = p;
    } else if (strcmp(key, "sasl.mechanism") == 0) {
        if (strcmp(value, "PLAIN") != 0 && strcmp(value, "SCRAM-SHA-256") != 0 &&
            strcmp(value, "SCRAM-SHA-512") != 0)
            return bad(l, line, key, value,
                       "unsupported mechanism (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are)", err,
                       errlen);
        set_str(&c->sasl_mechanism, value);
    } else if (strcmp(key, "sasl.jaas.config") == 0) {
        struct sl_jaas j;
        char why[256];
        if (sl_jaas_parse(value, strlen(value), &j, why, sizeof why) != 0)
            return bad(l, line, key, "[hidden]", why, err, errlen);
        free(c->jaas_module);
        c->jaas_module = j.module;
        j.module = NULL;
        free(c->sasl_username);
        c->sasl_username = j.username;
        j.username = NULL;
        wipe_free(&c->sasl_password);
        c->sasl_password = j.password;
        j.password = NULL;
        sl_jaas_clear(&j);
    } else if (strcmp(key, "client.id") == 0) {
        set_str(&c->client_id, value);
    } else if (strcmp(key, "request.timeout.ms") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (!value[0] || *end || v < 1 || v > 3600000)
            return bad(l, line, key, value, "must be an integer from 1 to 3600000", err, errlen);
        c->request_timeout_ms = (int)v;
    } else {
        for (int i = 0; i < SL_CLIENT_SSL_KEYS; i++) {
            if (strcmp(key, ssl_keys[i].key) != 0)
                continue;
            const char *shown = ssl_keys[i].secret ? "[hidden]" : value;
            if ((strcmp(key, "ssl.truststore.type") == 0 ||
                 strcmp(key, "ssl.keystore.type") == 0) &&
                strcasecmp(value, "PKCS12") != 0 && strcasecmp(value, "PEM") != 0)
                return bad(l, line, key, shown,
                           strcasecmp(value, "JKS") == 0
                               ? "JKS stores are not supported: convert with keytool "
                                 "-importkeystore -deststoretype PKCS12"
                               : "must be PKCS12 or PEM",
                           err, errlen);
            if (strcmp(key, "ssl.endpoint.identification.algorithm") == 0) {
                if (value[0] && strcasecmp(value, "https") != 0)
                    return bad(l, line, key, shown, "must be https or empty", err, errlen);
                c->verify_host = value[0] != '\0';
            }
            set_str(&c->ssl[i], value);
            return SL_ERR_NONE;
        }
        fprintf(stderr, "sluice: warning: %s:%d: ignoring unknown client configuration key '%s'\n",
                l->name, line, key);
    }
    return SL_ERR_NONE;
}

int sl_client_config_parse(struct sl_client_config *c, const char *name, const char *buf,
                           size_t len, char *err, size_t errlen)
{
    struct load l = {c, name};
    return sl_properties_parse(name, buf, len, on_pair, &l, err, errlen) == SL_ERR_NONE ? 0 : -1;
}

int sl_client_config_load(struct sl_client_config *c, const char *path, char *err,
                          size_t errlen)
{
    size_t len = 0;
    char why[512];
    char *buf = sl_read_file(path, SL_CLIENT_CONFIG_MAX, &len, why, sizeof why);
    if (!buf) {
        snprintf(err, errlen, "--command-config %s", why);
        return -1;
    }
    int rc = sl_client_config_parse(c, path, buf, len, err, errlen);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int sl_client_config_check(const struct sl_client_config *c, char *err, size_t errlen)
{
    if (!c->bootstrap) {
        snprintf(err, errlen, "no broker to talk to: give --bootstrap-server HOST:PORT or "
                              "bootstrap.servers in the --command-config file");
        return -1;
    }
    if (c->protocol != SL_SEC_SASL_PLAINTEXT && c->protocol != SL_SEC_SASL_SSL)
        return 0;
    const char *m = c->sasl_mechanism;
    if (!m) {
        snprintf(err, errlen, "security.protocol=%s needs sasl.mechanism (PLAIN, SCRAM-SHA-256 or "
                              "SCRAM-SHA-512; Kafka's default GSSAPI is not supported)",
                 sl_sec_proto_name(c->protocol));
        return -1;
    }
    if (!c->jaas_module) {
        snprintf(err, errlen, "sasl.mechanism=%s needs sasl.jaas.config (e.g. "
                              "org.apache.kafka.common.security.%s required username=\"...\" "
                              "password=\"...\";)",
                 m, strcmp(m, "PLAIN") == 0 ? "plain.PlainLoginModule" : "scram.ScramLoginModule");
        return -1;
    }
    bool plain = strcmp(m, "PLAIN") == 0;
    if (!ends_with(c->jaas_module, plain ? "PlainLoginModule" : "ScramLoginModule")) {
        snprintf(err, errlen, "sasl.jaas.config: login module %.200s does not go with "
                              "sasl.mechanism=%s (use %s)",
                 c->jaas_module, m, plain ? "PlainLoginModule" : "ScramLoginModule");
        return -1;
    }
    if (!c->sasl_username || !c->sasl_username[0]) {
        snprintf(err, errlen, "sasl.jaas.config: missing or empty username=\"...\"");
        return -1;
    }
    if (!c->sasl_password || !c->sasl_password[0]) {
        snprintf(err, errlen, "sasl.jaas.config: missing or empty password=\"...\"");
        return -1;
    }
    return 0;
}

const char *sl_client_config_ssl_get(void *arg, const char *key)
{
    const struct sl_client_config *c = arg;
    for (int i = 0; i < SL_CLIENT_SSL_KEYS; i++)
        if (strcmp(key, ssl_keys[i].key) == 0)
            return c->ssl[i];
    return NULL;
}
