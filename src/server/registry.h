/* SPDX-License-Identifier: Apache-2.0
 *
 * The live topic registry: name → topic, each topic an immutable snapshot
 * (id, partition logs, configuration overrides and their resolved values)
 * replaced whole on change (copy on write), so readers take a reference
 * under a short read lock and never see a topic half-changed. Changes are
 * made durable in the metadata store before they become visible.
 */
#ifndef SL_SERVER_REGISTRY_H
#define SL_SERVER_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/topic_config.h"
#include "core/bytes.h"
#include "sluice/err.h"

struct sl_broker;
struct sl_log;

struct sl_topic {
    char *name;
    sl_uuid_t id;
    int32_t n_parts;
    struct sl_log **logs;          /* one reference each */
    struct sl_kv *configs;         /* overrides as given */
    int n_configs;
    struct sl_topic_config cfg;    /* resolved */
    atomic_int refs;
};

struct sl_registry;

/* Creates the registry and opens the logs of every topic in the metadata
 * store. Returns 0 or -1 with err. */
int sl_registry_open(struct sl_broker *b, char *err, size_t errlen);
void sl_registry_close(struct sl_broker *b, bool clean);

/* Returns a referenced topic or NULL. Any thread. */
struct sl_topic *sl_registry_get(struct sl_broker *b, sl_str_t name);
struct sl_topic *sl_registry_get_by_id(struct sl_broker *b, const sl_uuid_t *id);
void sl_topic_unref(struct sl_topic *t);

/* Snapshot of all topics sorted by name, each referenced; release with
 * sl_registry_list_free. */
int sl_registry_list(struct sl_broker *b, struct sl_topic ***out);
void sl_registry_list_free(struct sl_topic **ts, int n);

/* Validates a topic name as Kafka does ([a-zA-Z0-9._-], 1..249, not "."
 * or ".."). Returns NULL if valid, else the reason. */
const char *sl_topic_name_invalid(sl_str_t name);

/* Internal topics: written by the broker itself, never by a client.
 * __sluice_audit holds the copy of the audit log (security/audit/
 * audit_topic.h). A client may not create, delete, alter, add partitions
 * to, produce to or delete records of an internal topic: Kafka's answer
 * for internal topics, INVALID_TOPIC_EXCEPTION (SL_INTERNAL_TOPIC_MSG);
 * Metadata marks it is_internal. */
#define SL_AUDIT_TOPIC_NAME "__sluice_audit"
#define SL_INTERNAL_TOPIC_MSG "Cannot change, delete or append to an internal topic."
bool sl_topic_internal(sl_str_t name);
bool sl_topic_internal_c(const char *name);

/* Creates a topic (partitions -1 = num.partitions). On failure returns the
 * Kafka code with msg set (TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS,
 * INVALID_CONFIG, INVALID_TOPIC_EXCEPTION, KAFKA_STORAGE_ERROR). With
 * validate_only nothing changes. *out (if not NULL) gets a reference. */
sl_err_t sl_registry_create(struct sl_broker *b, sl_str_t name, int32_t partitions,
                            const struct sl_kv *configs, int n_configs, bool validate_only,
                            struct sl_topic **out, char *msg, size_t msglen);
sl_err_t sl_registry_delete(struct sl_broker *b, sl_str_t name, char *msg, size_t msglen);
sl_err_t sl_registry_add_partitions(struct sl_broker *b, sl_str_t name, int32_t total,
                                    bool validate_only, char *msg, size_t msglen);
/* Replaces the topic's overrides (validated) */
sl_err_t sl_registry_set_configs(struct sl_broker *b, sl_str_t name, const struct sl_kv *configs,
                                 int n_configs, bool validate_only, char *msg, size_t msglen);

/* Calls fn on each log of each topic (background work). */
void sl_registry_each_log(struct sl_broker *b, void (*fn)(struct sl_log *log, void *arg),
                          void *arg);

#endif
