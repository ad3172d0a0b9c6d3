/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to src/config/: the row type of the broker option table and the
 * helpers config.c shares with config_doc.c (help and markdown) and
 * topic_config.c (topic defaults come from broker rows). Nothing outside
 * src/config/ includes this header.
 */
#ifndef SL_CONFIG_CONFIG_INT_H
#define SL_CONFIG_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* How a value is parsed (the Kafka type of the key). */
enum sl_cfg_kind {
    SL_CFG_K_BOOL = 0,
    SL_CFG_K_I16,
    SL_CFG_K_I32,
    SL_CFG_K_I64,
    SL_CFG_K_STRING,
    SL_CFG_K_ENUM,      /* one of row->values */
    SL_CFG_K_LIST,      /* comma-separated, each one of row->values, no duplicates */
    SL_CFG_K_LISTENERS, /* NAME://host:port,... */
    SL_CFG_K_MAX
};

/* Where the parsed value is stored in struct sl_config. */
enum sl_cfg_field {
    SL_CFG_F_NONE = 0, /* not stored (accepted-and-ignored keys) */
    SL_CFG_F_BOOL,
    SL_CFG_F_I16,
    SL_CFG_F_I32,
    SL_CFG_F_I64,
    SL_CFG_F_STR,       /* char *, owned by the config */
    SL_CFG_F_LISTENERS, /* struct sl_listener_cfg[SL_MAX_LISTENERS] + int count at off_n */
    SL_CFG_F_MAX
};

/* Row flags. */
#define SL_CFG_IMMUTABLE 0x01u    /* can never change at run time (identity, paths, sockets) */
#define SL_CFG_RELOADABLE 0x02u   /* may change without restart (none yet) */
#define SL_CFG_SENSITIVE 0x04u    /* never logged nor described in clear */
#define SL_CFG_PER_LISTENER 0x08u /* may be set per listener (listener.name.X.key) */
#define SL_CFG_IGNORED 0x10u      /* Kafka key accepted for compatibility, no effect, warned */
#define SL_CFG_DERIVED 0x20u      /* default computed by sl_config_validate */
#define SL_CFG_ADVERTISED 0x40u   /* listener list in advertised form */
#define SL_CFG_NEG_UNLIMITED 0x80u /* any negative value means -1 (unlimited) */
#define SL_CFG_EMPTY_OK 0x100u     /* STRING: an empty value is allowed and means "not set" */

struct sl_config_row {
    const char *name;
    enum sl_cfg_kind kind;
    enum sl_cfg_field field;
    size_t off;   /* offsetof(struct sl_config, field) */
    size_t fsize; /* sizeof the field, checked against field at start-up */
    size_t off_n; /* listeners: offsetof the count */
    const char *def;     /* default as text; NULL: none (an alias or a derived value) */
    const char *def_doc; /* default as shown in docs when def is NULL */
    int64_t min, max;    /* integer range (before scaling) */
    const char *const *values; /* ENUM / LIST: allowed values, NULL-terminated */
    int64_t scale;             /* field = value * scale (durations); 0 means 1 */
    int rank;                  /* among rows sharing a field, the highest set rank wins */
    unsigned flags;
    int ktype;             /* enum sl_config_type for DescribeConfigs */
    const char *range_why; /* appended to an out-of-range message */
    /* Extra check for STRING values: returns NULL or writes a reason into
     * why and returns it. */
    const char *(*check)(const char *v, char *why, size_t whylen);
    const char *group; /* docs section */
    const char *doc;
};

/* A Kafka key Sluice knows and refuses, with the reason. */
struct sl_config_refused {
    const char *key;
    int prefix; /* 1: matches every key starting with key */
    const char *why;
};

/* Per-row state kept in struct sl_config._keys. */
struct sl_config_key {
    char *raw;    /* value as set (trimmed), NULL when not set */
    char *origin; /* "FILE:LINE", "--override", ... NULL when not set */
};

extern const struct sl_config_row sl_config__rows[];
extern const int sl_config__n_rows;
extern const struct sl_config_refused sl_config__refused[];
extern const int sl_config__n_refused;

/* A parsed value, before it is stored. */
struct sl_cfg_value {
    bool b;
    int64_t i;
    char *s; /* new string (STRING, ENUM, LIST: normalised), caller frees */
    struct sl_listener_cfg l[SL_MAX_LISTENERS];
    int nl;
};

/* Parses text t (already trimmed of surrounding white space) as row r
 * says: type, range, allowed values, extra check. Fills out (out->s is new
 * memory the caller frees). Returns NULL on success, else writes a reason
 * in Kafka's wording ("Not a number of type INT", "Value must be at least
 * 1") into why and returns why. */
const char *sl_config__parse(const struct sl_config_row *r, const char *t,
                             struct sl_cfg_value *out, char *why, size_t whylen);

/* Returns the row index of name, or -1. */
int sl_config__find(const char *name);

/* Formats the effective field value of row r into buf (for rows sharing a
 * scaled field, the value is the field divided by the scale). Returns buf,
 * or NULL for rows with no field. */
const char *sl_config__format_field(const struct sl_config *c, const struct sl_config_row *r,
                                    char *buf, size_t len);

/* True when row i, or any row sharing its field, was set explicitly. */
int sl_config__field_is_set(const struct sl_config *c, int i);

/* Describes the allowed values of r ("[1,...]", "delete, compact", ...). */
const char *sl_config__valid_text(const struct sl_config_row *r, char *buf, size_t len);

/* The Kafka type name of r ("int", "long", "boolean", "string", "list"). */
const char *sl_config__type_name(const struct sl_config_row *r);

/* Where a topic key is stored in struct sl_topic_config. */
enum sl_tcfg_field {
    SL_TCFG_F_I32 = 0,
    SL_TCFG_F_I64,
    SL_TCFG_F_BOOL,
    SL_TCFG_F_STR,    /* char array of fsize bytes */
    SL_TCFG_F_TSTYPE, /* bool log_append_time from CreateTime | LogAppendTime */
    SL_TCFG_F_MAX
};

/* One topic-level key. Allowed values (ENUM/LIST) come from the broker row
 * named by broker_key, whose effective value is the topic default. */
struct sl_topic_config_row {
    const char *name;
    enum sl_cfg_kind kind;
    int ktype; /* enum sl_config_type */
    enum sl_tcfg_field field;
    size_t off, fsize;
    int64_t min, max;
    const char *broker_key;
    const char *doc;
};

extern const struct sl_topic_config_row sl_topic_config__rows[];
extern const int sl_topic_config__n_rows;

#endif
