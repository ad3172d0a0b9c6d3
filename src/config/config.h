/* SPDX-License-Identifier: Apache-2.0
 *
 * Broker configuration: the effective settings of one sluiced process, filled
 * from embedded defaults, a Java .properties file (Kafka's server.properties
 * vocabulary) and command-line overrides, then cross-checked. Every key is one
 * row of a table in config.c; the parser, the validation, --help, docs/CONFIG.md,
 * the start-up log and DescribeConfigs all read that one table. Unknown keys
 * are errors: a mistyped setting must never silently fall back to a default.
 *
 * Life cycle (single thread, at start-up):
 *
 *     struct sl_config c;
 *     sl_config_defaults(&c);
 *     sl_config_load_file(&c, path, err, sizeof err);      // optional
 *     sl_config_set_from(&c, "--override", k, v, err, ...); // per override
 *     sl_config_validate(&c, err, sizeof err);               // derived defaults
 *     ... read fields ...
 *     sl_config_free(&c);
 *
 * After sl_config_validate the struct is read-only and may be read from any
 * thread without a lock. Not covered here: topic-level settings
 * (topic_config.h) and dynamic (AlterConfigs) broker settings (not supported).
 */
#ifndef SL_CONFIG_CONFIG_H
#define SL_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/logging.h"
#include "sluice/err.h"

#define SL_MAX_LISTENERS 8

/* One listener endpoint. host is stored without IPv6 brackets. For
 * `listeners`, an empty host means "all interfaces" (bind to the wildcard
 * address) and port 0 means "any free port". Advertised endpoints always have
 * a host and a port in 1..65535. protocol is the security protocol the name
 * maps to through listener.security.protocol.map (resolved by
 * sl_config_validate): PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
struct sl_listener_cfg {
    char name[32];
    char host[256];
    int port;
    char protocol[32];
};

struct sl_config_key; /* private per-key state (origin, raw value) */

/* One listener.name.<listener>.<key>=value line: the value was checked
 * against key's row when set. */
struct sl_listener_override {
    char listener[32]; /* upper case, as listener names are compared */
    int row;           /* the key's row */
    char *value;       /* trimmed */
    char *origin;
};

struct sl_config {
    char *data_dir;  /* sluice.data.dir (--data-dir), default "./data" */
    int32_t node_id; /* node.id, alias broker.id, default 1 */
    struct sl_listener_cfg listeners[SL_MAX_LISTENERS];
    int n_listeners; /* listeners, default SASL_SSL://127.0.0.1:9093 */
    struct sl_listener_cfg advertised[SL_MAX_LISTENERS];
    int n_advertised;  /* advertised.listeners; default derived from listeners */
    char *listener_security_protocol_map; /* NAME:PROTOCOL,... */
    char *log_dirs;    /* log.dirs (alias log.dir); default <data_dir>/logs; one directory */
    bool encryption_enable; /* sluice.encryption.enable, default true */
    int64_t encryption_readahead_bytes; /* sluice.encryption.readahead.bytes */
    char *keys_file;        /* sluice.keys.file; default <data_dir>/keys/keyring */
    char *keys_command;     /* sluice.keys.command (SENSITIVE); default none */
    int32_t num_partitions;             /* num.partitions, default 1 */
    bool auto_create_topics_enable;     /* auto.create.topics.enable, default true */
    int16_t default_replication_factor; /* default.replication.factor, only 1 on a single node */
    int64_t log_segment_bytes;          /* log.segment.bytes, 1 GiB, 1 MiB..2 GiB-1 */
    int64_t log_roll_ms;                /* log.roll.ms > log.roll.hours (168 h) */
    int64_t log_retention_ms; /* log.retention.ms > .minutes > .hours (168 h); -1 unlimited */
    int64_t log_retention_bytes;             /* log.retention.bytes, default -1 (unlimited) */
    int64_t log_retention_check_interval_ms; /* default 300000 */
    char *log_cleanup_policy;                /* log.cleanup.policy "delete" | "compact" | both */
    int32_t log_index_interval_bytes;        /* log.index.interval.bytes 4096 */
    int32_t log_index_size_max_bytes;        /* log.index.size.max.bytes 10485760 */
    int64_t log_segment_delete_delay_ms;     /* log.segment.delete.delay.ms 60000 */
    int64_t log_flush_interval_ms; /* sluice.log.flush.interval.ms: background flush period
                                      for acks=0/1 data, default 1000 */
    char *log_message_timestamp_type;            /* CreateTime | LogAppendTime */
    int64_t log_message_timestamp_before_max_ms; /* default INT64_MAX */
    int64_t log_message_timestamp_after_max_ms;  /* default 3600000 (Kafka 4.x) */
    int32_t min_insync_replicas;                 /* min.insync.replicas, default 1 */
    char *compression_type;              /* producer|uncompressed|gzip|snappy|lz4|zstd */
    bool unclean_leader_election_enable; /* stored for topic defaults; meaningless on one node */
    int32_t message_max_bytes;           /* message.max.bytes 1048588 */
    int32_t socket_request_max_bytes;    /* socket.request.max.bytes 104857600 */
    int32_t socket_send_buffer_bytes;    /* 102400, -1 = OS default */
    int32_t socket_receive_buffer_bytes; /* 102400, -1 = OS default */
    int64_t connections_max_idle_ms;     /* 600000 */
    int32_t num_network_threads;         /* num.network.threads; 0 = one per core */
    int32_t max_connections;             /* max.connections, default 10000 */
    bool delete_topic_enable;            /* delete.topic.enable, default true */
    int32_t group_initial_rebalance_delay_ms; /* 3000 */
    int32_t offsets_topic_num_partitions;     /* 50 */
    char *log_level;                          /* sluice.log.level: debug|info|warn|error */

    /* TLS. Each may be overridden per listener (listener.name.<name>.KEY);
     * read them through sl_config_listener_get. NULL: not set. */
    char *ssl_keystore_type;               /* PKCS12 | PEM, default PKCS12 */
    char *ssl_keystore_location;
    char *ssl_keystore_password;           /* SENSITIVE */
    char *ssl_key_password;                /* SENSITIVE */
    char *ssl_keystore_key;                /* inline PEM, SENSITIVE */
    char *ssl_keystore_certificate_chain;  /* inline PEM */
    char *ssl_truststore_type;             /* PKCS12 | PEM, default PKCS12 */
    char *ssl_truststore_location;
    char *ssl_truststore_password;         /* SENSITIVE */
    char *ssl_truststore_certificates;     /* inline PEM */
    char *ssl_client_auth;                 /* none | requested | required */
    char *ssl_enabled_protocols;           /* TLSv1.2,TLSv1.3 */
    char *ssl_cipher_suites;               /* "" or NULL: the curated default */
    char *ssl_principal_mapping_rules;     /* DEFAULT */
    char *ssl_crl_location;                /* sluice.ssl.crl.location */
    int64_t ssl_handshake_timeout_ms;      /* sluice.ssl.handshake.timeout.ms, 10000 */
    int64_t ssl_reload_check_interval_ms;  /* sluice.ssl.reload.check.interval.ms, 5000 */

    /* SASL. sasl.enabled.mechanisms and connections.max.reauth.ms may be
     * overridden per listener. */
    char *sasl_enabled_mechanisms;          /* SCRAM-SHA-256,SCRAM-SHA-512 */
    int64_t connections_max_reauth_ms;      /* 3600000; 0: sessions never expire */
    int32_t connection_failed_auth_delay_ms; /* connection.failed.authentication.delay.ms 100 */
    int32_t sasl_server_max_receive_size;   /* 524288: frame cap before authentication */
    bool sasl_plain_allow_cleartext;        /* sluice.sasl.plain.allow.cleartext, false */
    bool allow_everyone_if_no_acl_found;    /* allow.everyone.if.no.acl.found, default false */
    bool allow_insecure;                    /* sluice.allow.insecure, default false */
    char *super_users;                      /* super.users: User:a;User:b, default User:admin */

    /* Audit log (src/security/audit, docs/AUDIT.md). */
    bool audit_enable;              /* sluice.audit.enable, true */
    char *audit_dir;                /* sluice.audit.dir, default <data_dir>/audit */
    char *audit_key_file;           /* sluice.audit.key.file, default <data_dir>/keys/audit.key */
    int64_t audit_rotate_bytes;     /* sluice.audit.rotate.bytes, 100 MiB */
    int64_t audit_rotate_ms;        /* sluice.audit.rotate.ms, 1 day; 0: never by age */
    int64_t audit_retention_ms;     /* sluice.audit.retention.ms, 365 days; -1: forever */
    int64_t audit_retention_bytes;  /* sluice.audit.retention.bytes, -1: no limit */
    char *audit_failure_policy;     /* sluice.audit.failure.policy: reject | log */
    char *audit_authz_level;        /* sluice.audit.authz.level: none | first | all */
    bool audit_topic_enable;        /* sluice.audit.topic.enable, true: copy to __sluice_audit */

    /* listener.name.<name>.KEY overrides, in the order set. */
    struct sl_listener_override *overrides;
    int n_overrides;

    struct sl_config_key *_keys; /* private: one entry per table row */
};

/* Kafka DescribeConfigs codes (clients/.../DescribeConfigsResponse.java). */
enum sl_config_source {
    SL_CONFIG_SOURCE_UNKNOWN = 0,
    SL_CONFIG_SOURCE_TOPIC = 1,         /* TOPIC_CONFIG (DYNAMIC_TOPIC_CONFIG) */
    SL_CONFIG_SOURCE_STATIC_BROKER = 4, /* STATIC_BROKER_CONFIG: set in the file / overrides */
    SL_CONFIG_SOURCE_DEFAULT = 5,       /* DEFAULT_CONFIG */
};

enum sl_config_type {
    SL_CONFIG_TYPE_UNKNOWN = 0,
    SL_CONFIG_TYPE_BOOLEAN = 1,
    SL_CONFIG_TYPE_STRING = 2,
    SL_CONFIG_TYPE_INT = 3,
    SL_CONFIG_TYPE_SHORT = 4,
    SL_CONFIG_TYPE_LONG = 5,
    SL_CONFIG_TYPE_DOUBLE = 6,
    SL_CONFIG_TYPE_LIST = 7,
    SL_CONFIG_TYPE_CLASS = 8,
    SL_CONFIG_TYPE_PASSWORD = 9,
};

/* DescribeConfigs entry callback. name/value/doc are borrowed for the call
 * only. value is NULL for sensitive entries and for keys with no value (an
 * unset alias such as log.retention.ms). source: enum sl_config_source;
 * type: enum sl_config_type. */
typedef void (*sl_topic_config_cb)(void *arg, const char *name, const char *value, int source,
                                   bool sensitive, bool read_only, int type, const char *doc);

/* DescribeConfigs synonym callback (DescribeConfigsSynonym: name, value,
 * source), called in precedence order, strongest first. */
typedef void (*sl_config_synonym_cb)(void *arg, const char *name, const char *value, int source);

/* Fills every field with its embedded default and allocates the private
 * per-key state. c may be uninitialised. Call sl_config_free before calling
 * this again on the same struct. Never fails (aborts on out-of-memory). */
void sl_config_defaults(struct sl_config *c);

/* Reads the Java .properties file at path (borrowed) and applies every key as
 * sl_config_set does. Syntax follows java.util.Properties: key=value,
 * key:value or key value; # and ! comment lines; a backslash at the end of a
 * line continues it; \t \n \r \f \uXXXX and \<any> escapes; trailing
 * whitespace of a value is kept by the parser and, as Kafka's ConfigDef
 * does, trimmed when the value is converted. The file is read as UTF-8
 * (Java reads ISO-8859-1; only non-ASCII bytes differ). A key given twice
 * keeps the last value (a warning names both lines).
 * Returns SL_ERR_NONE; SL_ERR__IO when the file cannot be read; SL_ERR__INVAL
 * for the first bad line, with err = "config FILE:LINE: KEY=VALUE: reason".
 * On error c holds the keys applied before the bad line (free it). */
sl_err_t sl_config_load_file(struct sl_config *c, const char *path, char *err, size_t errlen);

/* Same as sl_config_load_file on an in-memory buffer (borrowed, need not be
 * NUL-terminated); name is used in messages in place of the file name. Used
 * by tests and the fuzz target. */
sl_err_t sl_config_load_buffer(struct sl_config *c, const char *name, const char *buf,
                               size_t len, char *err, size_t errlen);

/* Applies one key=value (both borrowed) as a command-line override: on
 * error returns SL_ERR__INVAL with err = "config --override: KEY=VALUE:
 * reason". Unknown keys, values of the wrong type, out of range or not in
 * the allowed set, and keys Sluice refuses (e.g. zookeeper.connect) are
 * errors. A few harmless Kafka keys are accepted and ignored with a warning
 * (see docs/CONFIG.md). */
sl_err_t sl_config_set(struct sl_config *c, const char *key, const char *value, char *err,
                       size_t errlen);

/* As sl_config_set, recording origin (borrowed, copied; e.g. "--data-dir" or
 * "FILE:LINE") as where the key was set; it prefixes error messages
 * ("config ORIGIN: KEY=VALUE: reason"). */
sl_err_t sl_config_set_from(struct sl_config *c, const char *origin, const char *key,
                            const char *value, char *err, size_t errlen);

/* Cross-key validation and derived defaults, after every file and override
 * has been applied: resolves listener security protocols through
 * listener.security.protocol.map,
 * checks that advertised listener names exist in listeners, derives
 * advertised.listeners from listeners when unset (a wildcard or empty host
 * becomes this machine's host name, or 127.0.0.1), derives log.dirs from
 * sluice.data.dir when unset, and checks that node.id and broker.id agree.
 * Returns SL_ERR_NONE or SL_ERR__INVAL with err naming where the offending
 * key was set. Idempotent. */
sl_err_t sl_config_validate(struct sl_config *c, char *err, size_t errlen);

/* Releases every string and the private state; c may then be passed to
 * sl_config_defaults again. Safe on a zeroed struct. */
void sl_config_free(struct sl_config *c);

/* Writes the configuration part of --help: every key with its type,
 * default, valid values, flags and description, the topic keys and the
 * refused Kafka keys. src/server/main.c prints the usage lines first. */
void sl_config_print_help(FILE *out);

/* Writes the content of docs/CONFIG.md (markdown generated from the same
 * rows as --help, plus the topic-level table). */
void sl_config_print_markdown(FILE *out);

/* Logs the effective configuration (INFO, one line per key with where it
 * was set, SENSITIVE values masked). Call after sl_config_validate. (The
 * broker itself warns about unencrypted listeners.) */
void sl_config_log(const struct sl_config *c);

/* Writes the effective value of key into buf (NUL-terminated, truncated to
 * len). Returns SL_ERR_NONE, SL_ERR__NOENT for an unknown key or a key with
 * no value (an unset alias). SENSITIVE keys are returned in clear: callers
 * must not log them. */
sl_err_t sl_config_get(const struct sl_config *c, const char *key, char *buf, size_t len);

/* Returns where key was last set ("FILE:LINE", "--override", ...), or NULL
 * when it has its default or is unknown. Borrowed from c. */
const char *sl_config_origin(const struct sl_config *c, const char *key);

/* The log level named by sluice.log.level. */
enum sl_loglevel sl_config_loglevel(const struct sl_config *c);

/* DescribeConfigs on a BROKER resource: calls cb once per key in table
 * order with its value (as set, or its default), source STATIC_BROKER_CONFIG
 * when set from the file / overrides and DEFAULT_CONFIG otherwise. SENSITIVE
 * keys have value NULL. read_only is true for every key (no dynamic broker
 * configuration yet). */
void sl_config_describe(const struct sl_config *c, sl_topic_config_cb cb, void *arg);

/* The DescribeConfigs synonyms of broker key: the key itself and the weaker
 * aliases that feed the same setting (log.retention.ms → .minutes → .hours),
 * each that has a value. Returns SL_ERR__NOENT for an unknown key. */
sl_err_t sl_config_synonyms(const struct sl_config *c, const char *key, sl_config_synonym_cb cb,
                            void *arg);

/* The effective value of a per-listener key (e.g. "ssl.client.auth") for
 * listener (case-insensitive): its listener.name.<listener>.KEY override if
 * set, else the broker-wide value. Returns a borrowed string valid while c
 * lives, or NULL when neither is set. Integer keys are formatted into buf. */
const char *sl_config_listener_get(const struct sl_config *c, const char *listener,
                                   const char *key, char *buf, size_t len);

/* Formats one listener as NAME://host:port (IPv6 hosts in brackets) into
 * buf; returns buf. */
char *sl_listener_format(const struct sl_listener_cfg *l, char *buf, size_t len);

#endif
