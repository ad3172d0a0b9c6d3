/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the configuration parsers: the input is a Java
 * .properties file. It is applied to a broker config (parser, every value
 * parser, listener parsing, cross-key validation, DescribeConfigs), and its
 * pairs are also fed to the topic-level resolver as CreateTopics overrides.
 * Crashes, sanitizer reports and leaks are the findings; refusals are not.
 * Seed corpus: fuzz/corpus/config/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/properties.h"
#include "config/topic_config.h"
#include "core/logging.h"
#include "core/mem.h"

struct pairs {
    struct sl_kv kv[64];
    int n;
};

static sl_err_t collect(void *arg, const char *key, const char *value, int line, char *err,
                        size_t errlen)
{
    struct pairs *p = arg;
    (void)line, (void)err, (void)errlen;
    if (p->n == 64)
        return SL_ERR__LIMIT;
    p->kv[p->n].key = sl_xstrdup(key);
    p->kv[p->n].value = sl_xstrdup(value);
    p->n++;
    return SL_ERR_NONE;
}

static void sink(void *arg, const char *name, const char *value, int source, bool sensitive,
                 bool read_only, int type, const char *doc)
{
    /* Touch every string so that a dangling pointer shows up. */
    size_t *total = arg;
    *total += strlen(name) + (value ? strlen(value) : 0) + strlen(doc);
    (void)source, (void)sensitive, (void)read_only, (void)type;
}

static void synonym(void *arg, const char *name, const char *value, int source)
{
    size_t *total = arg;
    *total += strlen(name) + (value ? strlen(value) : 0);
    (void)source;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX; /* silence warnings about the input */
    char err[512];
    size_t total = 0;

    struct sl_config c;
    sl_config_defaults(&c);
    if (sl_config_load_buffer(&c, "fuzz", (const char *)data, size, err, sizeof err) ==
            SL_ERR_NONE &&
        sl_config_validate(&c, err, sizeof err) == SL_ERR_NONE) {
        sl_config_describe(&c, sink, &total);
        char buf[4096];
        sl_config_get(&c, "listeners", buf, sizeof buf);
        sl_config_get(&c, "advertised.listeners", buf, sizeof buf);
        sl_config_synonyms(&c, "log.retention.ms", synonym, &total);
    }

    struct pairs p = {.n = 0};
    sl_properties_parse("fuzz", (const char *)data, size, collect, &p, err, sizeof err);
    struct sl_topic_config t;
    if (sl_topic_config_resolve(&c, p.kv, p.n, &t, err, sizeof err) == SL_ERR_NONE) {
        sl_topic_config_describe(&c, p.kv, p.n, sink, &total);
        sl_topic_config_synonyms(&c, p.kv, p.n, "retention.ms", synonym, &total);
    }
    for (int i = 0; i < p.n; i++) {
        free(p.kv[i].key);
        free(p.kv[i].value);
    }
    sl_config_free(&c);
    return 0;
}
