/* SPDX-License-Identifier: Apache-2.0
 *
 * The Kafka-style client properties file of `sluice ... --command-config
 * FILE` (the file kafka-configs.sh and kafka-acls.sh take), read with the
 * Java .properties parser (config/properties.h). Keys understood:
 *
 *   bootstrap.servers            host:port[,host:port...]
 *   security.protocol            PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
 *   sasl.mechanism               PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
 *   sasl.jaas.config             ...ScramLoginModule / PlainLoginModule required
 *                                username="..." password="...";
 *   ssl.truststore.location / .type (PKCS12 | PEM) / .password / .certificates
 *   ssl.keystore.location / .type / .password / .key / .certificate.chain,
 *   ssl.key.password             (mutual TLS)
 *   ssl.endpoint.identification.algorithm   https (default) | "" (no host check)
 *   ssl.enabled.protocols, ssl.cipher.suites
 *   client.id, request.timeout.ms
 *
 * Other keys are ignored with a warning on stderr, as Kafka's clients log
 * "The configuration ... was supplied but isn't a known config". A bad
 * value is an error naming the key, the value (never a secret) and why.
 */
#ifndef SL_CLI_CLIENT_CONFIG_H
#define SL_CLI_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum sl_sec_proto {
    SL_SEC_PLAINTEXT = 0,
    SL_SEC_SSL,
    SL_SEC_SASL_PLAINTEXT,
    SL_SEC_SASL_SSL,
    SL_SEC_MAX
};

/* Limit on a --command-config file. */
#define SL_CLIENT_CONFIG_MAX (1024 * 1024)

#define SL_CLIENT_SSL_KEYS 14

/* A client configuration. Strings are new memory owned by the struct
 * (sl_client_config_clear frees them and wipes the secrets). */
struct sl_client_config {
    char *bootstrap;          /* bootstrap.servers; NULL: not set */
    int protocol;             /* enum sl_sec_proto */
    char *sasl_mechanism;     /* NULL: not set */
    char *sasl_username;      /* from sasl.jaas.config */
    char *sasl_password;      /* from sasl.jaas.config (SENSITIVE) */
    char *jaas_module;        /* the login module class */
    bool verify_host;         /* ssl.endpoint.identification.algorithm=https */
    char *client_id;          /* default "sluice-cli" */
    int request_timeout_ms;   /* default 30000 */
    char *ssl[SL_CLIENT_SSL_KEYS]; /* the ssl.* values, by index in the key table */
};

/* Sets the defaults (PLAINTEXT, host name check on, 30 s). */
void sl_client_config_init(struct sl_client_config *c);

/* Parses properties text buf[0..len) (name for messages) into c, which
 * must have been initialised. Returns 0, or -1 with err. Does not check
 * that the whole is coherent (sl_client_config_check). */
int sl_client_config_parse(struct sl_client_config *c, const char *name, const char *buf,
                           size_t len, char *err, size_t errlen);

/* Reads and parses the file at path. Returns 0 or -1 with err. */
int sl_client_config_load(struct sl_client_config *c, const char *path, char *err,
                          size_t errlen);

/* Checks the whole: a SASL protocol needs sasl.mechanism (PLAIN or SCRAM)
 * and sasl.jaas.config with username and password, from the login module
 * that matches the mechanism; bootstrap servers must be set. Returns 0 or
 * -1 with err. */
int sl_client_config_check(const struct sl_client_config *c, char *err, size_t errlen);

/* The ssl.* value of key, or NULL: an sl_tls_get_fn for
 * sl_tls_client_ctx_build (arg is the struct sl_client_config). */
const char *sl_client_config_ssl_get(void *arg, const char *key);

/* Name of a security protocol ("SASL_SSL"). */
const char *sl_sec_proto_name(int p);

/* Frees every string (wiping secrets) and zeroes c. */
void sl_client_config_clear(struct sl_client_config *c);

#endif
