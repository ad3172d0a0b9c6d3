/* SPDX-License-Identifier: Apache-2.0
 *
 * The topic-level option table and its resolution against the broker's
 * defaults (see topic_config.h). Each row names the broker key it defaults
 * from; the default is that broker key's effective value, printed and then
 * parsed through the topic row, so one code path checks both and the two
 * tables cannot drift apart silently (the unit tests resolve a topic with
 * no overrides and compare every field with the broker config).
 *
 * Left out: the topic keys Kafka has that Sluice cannot honour yet
 * (flush.*, compaction lags, remote storage, throttled replicas, ...): they
 * are "Unknown topic config name" errors rather than silently stored.
 */
#include "config/topic_config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "core/mem.h"

#define TFLD(f)                                                                                    \
    .off = offsetof(struct sl_topic_config, f), .fsize = sizeof(((struct sl_topic_config *)0)->f)

/* Alphabetical, as DescribeConfigs lists them. Ranges follow Kafka 4.1's
 * LogConfig. */
const struct sl_topic_config_row sl_topic_config__rows[] = {
    {.name = "cleanup.policy", .kind = SL_CFG_K_LIST, .ktype = SL_CONFIG_TYPE_LIST,
     .field = SL_TCFG_F_STR, TFLD(cleanup_policy), .broker_key = "log.cleanup.policy",
     .doc = "delete (drop old segments by time and size), compact (keep the last record of each "
            "key), or both. Compaction is recorded but not performed yet."},
    {.name = "compression.type", .kind = SL_CFG_K_ENUM, .ktype = SL_CONFIG_TYPE_STRING,
     .field = SL_TCFG_F_STR, TFLD(compression_type), .broker_key = "compression.type",
     .doc = "Compression of stored batches; recorded only: batches are stored as the producer "
            "sent them."},
    {.name = "file.delete.delay.ms", .kind = SL_CFG_K_I64, .ktype = SL_CONFIG_TYPE_LONG,
     .field = SL_TCFG_F_I64, TFLD(file_delete_delay_ms), .min = 0, .max = INT64_MAX,
     .broker_key = "log.segment.delete.delay.ms",
     .doc = "Delay between dropping a segment and deleting its files."},
    {.name = "index.interval.bytes", .kind = SL_CFG_K_I32, .ktype = SL_CONFIG_TYPE_INT,
     .field = SL_TCFG_F_I32, TFLD(index_interval_bytes), .min = 0, .max = INT32_MAX,
     .broker_key = "log.index.interval.bytes",
     .doc = "Bytes of log between two offset index entries."},
    {.name = "max.message.bytes", .kind = SL_CFG_K_I32, .ktype = SL_CONFIG_TYPE_INT,
     .field = SL_TCFG_F_I32, TFLD(max_message_bytes), .min = 0, .max = INT32_MAX,
     .broker_key = "message.max.bytes", .doc = "Largest record batch accepted for this topic."},
    {.name = "message.timestamp.after.max.ms", .kind = SL_CFG_K_I64, .ktype = SL_CONFIG_TYPE_LONG,
     .field = SL_TCFG_F_I64, TFLD(ts_after_max_ms), .min = 0, .max = INT64_MAX,
     .broker_key = "log.message.timestamp.after.max.ms",
     .doc = "With CreateTime, refuse batches timestamped further than this in the future."},
    {.name = "message.timestamp.before.max.ms", .kind = SL_CFG_K_I64,
     .ktype = SL_CONFIG_TYPE_LONG, .field = SL_TCFG_F_I64, TFLD(ts_before_max_ms), .min = 0,
     .max = INT64_MAX, .broker_key = "log.message.timestamp.before.max.ms",
     .doc = "With CreateTime, refuse batches timestamped further than this in the past."},
    {.name = "message.timestamp.type", .kind = SL_CFG_K_ENUM, .ktype = SL_CONFIG_TYPE_STRING,
     .field = SL_TCFG_F_TSTYPE, TFLD(log_append_time), .broker_key = "log.message.timestamp.type",
     .doc = "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches at append."},
    {.name = "min.insync.replicas", .kind = SL_CFG_K_I32, .ktype = SL_CONFIG_TYPE_INT,
     .field = SL_TCFG_F_I32, TFLD(min_insync_replicas), .min = 1, .max = INT32_MAX,
     .broker_key = "min.insync.replicas",
     .doc = "Replicas that must hold an acks=all write; above 1 such writes fail on one node."},
    {.name = "retention.bytes", .kind = SL_CFG_K_I64, .ktype = SL_CONFIG_TYPE_LONG,
     .field = SL_TCFG_F_I64, TFLD(retention_bytes), .min = INT64_MIN, .max = INT64_MAX,
     .broker_key = "log.retention.bytes",
     .doc = "Largest size of a partition before old segments are deleted; negative: no limit."},
    {.name = "retention.ms", .kind = SL_CFG_K_I64, .ktype = SL_CONFIG_TYPE_LONG,
     .field = SL_TCFG_F_I64, TFLD(retention_ms), .min = -1, .max = INT64_MAX,
     .broker_key = "log.retention.ms",
     .doc = "How long closed segments are kept, in milliseconds; -1: forever."},
    {.name = "segment.bytes", .kind = SL_CFG_K_I32, .ktype = SL_CONFIG_TYPE_INT,
     .field = SL_TCFG_F_I64, TFLD(segment_bytes), .min = 1048576, .max = INT32_MAX,
     .broker_key = "log.segment.bytes", .doc = "Size at which the active segment is rolled."},
    {.name = "segment.index.bytes", .kind = SL_CFG_K_I32, .ktype = SL_CONFIG_TYPE_INT,
     .field = SL_TCFG_F_I32, TFLD(segment_index_bytes), .min = 4, .max = INT32_MAX,
     .broker_key = "log.index.size.max.bytes",
     .doc = "Largest offset index of a segment; a full index rolls the segment."},
    {.name = "segment.ms", .kind = SL_CFG_K_I64, .ktype = SL_CONFIG_TYPE_LONG,
     .field = SL_TCFG_F_I64, TFLD(segment_ms), .min = 1, .max = INT64_MAX,
     .broker_key = "log.roll.ms", .doc = "Age at which the active segment is rolled."},
    {.name = "unclean.leader.election.enable", .kind = SL_CFG_K_BOOL,
     .ktype = SL_CONFIG_TYPE_BOOLEAN, .field = SL_TCFG_F_BOOL,
     TFLD(unclean_leader_election_enable), .broker_key = "unclean.leader.election.enable",
     .doc = "Allow an out-of-sync replica to become leader; no effect on a single node."},
};
const int sl_topic_config__n_rows =
    (int)(sizeof sl_topic_config__rows / sizeof sl_topic_config__rows[0]);

static int find_row(const char *name)
{
    for (int i = 0; i < sl_topic_config__n_rows; i++)
        if (strcmp(sl_topic_config__rows[i].name, name) == 0)
            return i;
    return -1;
}

/* The broker row whose effective value is the default of topic row t. */
static const struct sl_config_row *broker_row(const struct sl_topic_config_row *t)
{
    int i = sl_config__find(t->broker_key);
    SL_ASSERT(i >= 0);
    return &sl_config__rows[i];
}

/* A broker-style row carrying the topic row's type and range, for the
 * shared value parser. */
static struct sl_config_row parse_row(const struct sl_topic_config_row *t)
{
    struct sl_config_row r = {0};
    r.name = t->name;
    r.kind = t->kind;
    r.min = t->min;
    r.max = t->max;
    r.values = broker_row(t)->values;
    return r;
}

/* Parses value for topic row t; writes into out when out is not NULL. */
static sl_err_t apply(const struct sl_topic_config_row *t, const char *value,
                      struct sl_topic_config *out, char *err, size_t errlen)
{
    char why[512];
    size_t n = strlen(value);
    const char *s = value;
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *trim = sl_xstrndup(s, n);
    struct sl_config_row r = parse_row(t);
    struct sl_cfg_value v;
    if (sl_config__parse(&r, trim, &v, why, sizeof why)) {
        snprintf(err, errlen, "Invalid value %.200s for configuration %s: %s", value, t->name,
                 why);
        free(trim);
        return SL_ERR_INVALID_CONFIG;
    }
    free(trim);
    if (t->field == SL_TCFG_F_STR && v.s && strlen(v.s) >= t->fsize) {
        /* Cannot happen with the current value lists; guards the fixed array. */
        snprintf(err, errlen, "Invalid value %.200s for configuration %s: too long", value,
                 t->name);
        free(v.s);
        return SL_ERR_INVALID_CONFIG;
    }
    if (out) {
        char *p = (char *)out + t->off;
        switch (t->field) {
        case SL_TCFG_F_I32: *(int32_t *)(void *)p = (int32_t)v.i; break;
        case SL_TCFG_F_I64: *(int64_t *)(void *)p = v.i; break;
        case SL_TCFG_F_BOOL: *(bool *)p = v.b; break;
        case SL_TCFG_F_STR: snprintf(p, t->fsize, "%s", v.s); break;
        case SL_TCFG_F_TSTYPE: *(bool *)p = strcmp(v.s, "LogAppendTime") == 0; break;
        default: break;
        }
    }
    free(v.s);
    return SL_ERR_NONE;
}

/* The topic default of row t: the broker's effective value, as text. */
static const char *default_text(const struct sl_config *broker,
                                const struct sl_topic_config_row *t, char *buf, size_t len)
{
    const char *v = sl_config__format_field(broker, broker_row(t), buf, len);
    SL_ASSERT(v != NULL);
    return v;
}

/* The last override of key in over[0..n), or NULL (its value may be
 * NULL: callers check). */
static const struct sl_kv *find_override(const struct sl_kv *over, int n, const char *key)
{
    const struct sl_kv *hit = NULL;
    for (int i = 0; i < n; i++)
        if (over[i].key && strcmp(over[i].key, key) == 0)
            hit = &over[i];
    return hit;
}

sl_err_t sl_topic_config_check(const char *key, const char *value, char *err, size_t errlen)
{
    int i = key ? find_row(key) : -1;
    if (i < 0) {
        snprintf(err, errlen, "Unknown topic config name: %.200s", key ? key : "(null)");
        return SL_ERR_INVALID_CONFIG;
    }
    if (!value) {
        snprintf(err, errlen, "Null value not supported for topic configs: %s", key);
        return SL_ERR_INVALID_CONFIG;
    }
    return apply(&sl_topic_config__rows[i], value, NULL, err, errlen);
}

int sl_topic_config_type(const char *key)
{
    int i = find_row(key);
    return i < 0 ? SL_CONFIG_TYPE_UNKNOWN : sl_topic_config__rows[i].ktype;
}

sl_err_t sl_topic_config_resolve(const struct sl_config *broker, const struct sl_kv *over, int n,
                                 struct sl_topic_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    /* Every override must be known and valid, even one a later entry
     * replaces: a client never gets a silently dropped bad value. */
    for (int i = 0; i < n; i++) {
        sl_err_t rc = sl_topic_config_check(over[i].key, over[i].value, err, errlen);
        if (rc != SL_ERR_NONE)
            return rc;
    }
    char buf[4096];
    for (int i = 0; i < sl_topic_config__n_rows; i++) {
        const struct sl_topic_config_row *t = &sl_topic_config__rows[i];
        const struct sl_kv *o = find_override(over, n, t->name);
        const char *v = o ? o->value : default_text(broker, t, buf, sizeof buf);
        sl_err_t rc = apply(t, v, out, err, errlen);
        if (rc != SL_ERR_NONE)
            return rc; /* only a broker default out of the topic range gets here */
    }
    return SL_ERR_NONE;
}

void sl_topic_config_describe(const struct sl_config *broker, const struct sl_kv *over, int n,
                              sl_topic_config_cb cb, void *arg)
{
    char buf[4096];
    for (int i = 0; i < sl_topic_config__n_rows; i++) {
        const struct sl_topic_config_row *t = &sl_topic_config__rows[i];
        const struct sl_kv *o = find_override(over, n, t->name);
        if (o && o->value) {
            cb(arg, t->name, o->value, SL_CONFIG_SOURCE_TOPIC, false, false, t->ktype, t->doc);
            continue;
        }
        int bi = sl_config__find(t->broker_key);
        int src = sl_config__field_is_set(broker, bi) ? SL_CONFIG_SOURCE_STATIC_BROKER
                                                      : SL_CONFIG_SOURCE_DEFAULT;
        cb(arg, t->name, default_text(broker, t, buf, sizeof buf), src, false, false, t->ktype,
           t->doc);
    }
}

sl_err_t sl_topic_config_synonyms(const struct sl_config *broker, const struct sl_kv *over, int n,
                                  const char *key, sl_config_synonym_cb cb, void *arg)
{
    int i = find_row(key);
    if (i < 0)
        return SL_ERR__NOENT;
    const struct sl_topic_config_row *t = &sl_topic_config__rows[i];
    const struct sl_kv *o = find_override(over, n, t->name);
    if (o && o->value)
        cb(arg, t->name, o->value, SL_CONFIG_SOURCE_TOPIC);
    return sl_config_synonyms(broker, t->broker_key, cb, arg);
}
