/* SPDX-License-Identifier: Apache-2.0
 *
 * Topic-level configuration: the keys CreateTopics, DescribeConfigs,
 * AlterConfigs and IncrementalAlterConfigs accept for a TOPIC resource, in
 * Kafka's vocabulary. Each key takes its default from a broker key
 * (retention.ms ← log.retention.ms, segment.bytes ← log.segment.bytes, ...),
 * so a topic's effective config is the broker's effective defaults plus the
 * topic's explicit overrides, which are stored as given (strings) in the
 * metadata store.
 *
 * Errors use SL_ERR_INVALID_CONFIG and Kafka's messages, because the API
 * handlers put them on the wire as ErrorMessage. cleanup.policy=compact and
 * compression.type are accepted and stored, but compaction and recompression
 * are not performed yet (docs/CONFIG.md says so).
 *
 * All functions are pure (no shared state) and thread-safe as long as the
 * broker config is not modified concurrently (it is read-only after start).
 */
#ifndef SL_CONFIG_TOPIC_CONFIG_H
#define SL_CONFIG_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "sluice/err.h"

/* The effective configuration of one topic. */
struct sl_topic_config {
    int64_t retention_ms;         /* retention.ms; -1 = unlimited */
    int64_t retention_bytes;      /* retention.bytes; negative = unlimited */
    int64_t segment_bytes;        /* segment.bytes */
    int64_t segment_ms;           /* segment.ms */
    int64_t file_delete_delay_ms; /* file.delete.delay.ms */
    int32_t max_message_bytes;    /* max.message.bytes */
    int32_t segment_index_bytes;  /* segment.index.bytes */
    int32_t index_interval_bytes; /* index.interval.bytes */
    int32_t min_insync_replicas;  /* min.insync.replicas */
    bool log_append_time;         /* message.timestamp.type == LogAppendTime */
    bool unclean_leader_election_enable; /* unclean.leader.election.enable (no effect) */
    char cleanup_policy[32];    /* "delete", "compact", or both comma-separated (normalised) */
    char compression_type[16];  /* producer|uncompressed|gzip|snappy|lz4|zstd (stored only) */
    int64_t ts_before_max_ms;   /* message.timestamp.before.max.ms */
    int64_t ts_after_max_ms;    /* message.timestamp.after.max.ms */
};

/* A topic's explicit override, as given by the client (both strings owned
 * by whoever holds the array). */
struct sl_kv {
    char *key;
    char *value;
};

/* Resolves the effective config of a topic: broker defaults (borrowed),
 * then the n overrides in over (borrowed; a key given twice keeps the last
 * value, as Kafka's CreateTopics does). Values are trimmed and checked like
 * Kafka's ConfigDef. Returns SL_ERR_NONE and fills *out, or
 * SL_ERR_INVALID_CONFIG with err = "Unknown topic config name: Y",
 * "Invalid value X for configuration Y: reason" or "Null value not
 * supported for topic configs: Y" (out is then unspecified). */
sl_err_t sl_topic_config_resolve(const struct sl_config *broker, const struct sl_kv *over, int n,
                                 struct sl_topic_config *out, char *err, size_t errlen);

/* Checks one key=value (borrowed) as sl_topic_config_resolve would; for
 * AlterConfigs / IncrementalAlterConfigs before anything is changed. Same
 * return codes and messages. value NULL is an error. */
sl_err_t sl_topic_config_check(const char *key, const char *value, char *err, size_t errlen);

/* Returns the Kafka config type (enum sl_config_type) of a topic key, or
 * SL_CONFIG_TYPE_UNKNOWN (0) when the key is not a topic key. Lets
 * IncrementalAlterConfigs refuse APPEND/SUBTRACT on non-LIST keys. */
int sl_topic_config_type(const char *key);

/* DescribeConfigs on a TOPIC resource: calls cb once per topic key, in
 * alphabetical order, with the override (source TOPIC_CONFIG) if there is
 * one, else the broker's effective default (STATIC_BROKER_CONFIG when the
 * underlying broker key was set in the file / overrides, DEFAULT_CONFIG
 * otherwise). Topic keys are neither sensitive nor read-only. Overrides for
 * unknown keys are skipped. */
void sl_topic_config_describe(const struct sl_config *broker, const struct sl_kv *over, int n,
                              sl_topic_config_cb cb, void *arg);

/* The DescribeConfigs synonyms of topic key: the topic override (if any),
 * then the broker keys it defaults from, strongest first, each that has a
 * value (e.g. retention.ms: retention.ms TOPIC, log.retention.ms,
 * log.retention.minutes, log.retention.hours DEFAULT 168). Returns
 * SL_ERR__NOENT for an unknown key. */
sl_err_t sl_topic_config_synonyms(const struct sl_config *broker, const struct sl_kv *over, int n,
                                  const char *key, sl_config_synonym_cb cb, void *arg);

#endif
