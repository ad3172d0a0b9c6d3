/* SPDX-License-Identifier: Apache-2.0
 *
 * The backend-neutral half of the metadata store: the public calls of
 * meta.h dispatched through the backend's operations, the checks every
 * backend applies before a write, and topic copy/free helpers. Backend
 * specifics (files, locks, formats) live in meta_local.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core/logging.h"
#include "core/mem.h"
#include "meta/meta.h"
#include "meta/meta_int.h"

bool sl_meta_topic_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SL_META_TOPIC_NAME_MAX)
        return false;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int sl_meta__cmp_topic(const void *a, const void *b)
{
    return strcmp(((const struct sl_meta_topic *)a)->name, ((const struct sl_meta_topic *)b)->name);
}

int sl_meta__cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct sl_kv *)a)->key, ((const struct sl_kv *)b)->key);
}

void sl_meta__topic_copy(struct sl_meta_topic *dst, const struct sl_meta_topic *src)
{
    dst->name = sl_xstrdup(src->name);
    dst->id = src->id;
    dst->partitions = src->partitions;
    dst->n_configs = src->n_configs;
    dst->configs = NULL;
    if (src->n_configs > 0) {
        dst->configs = sl_xcalloc((size_t)src->n_configs, sizeof *dst->configs);
        for (int i = 0; i < src->n_configs; i++) {
            dst->configs[i].key = sl_xstrdup(src->configs[i].key);
            dst->configs[i].value = sl_xstrdup(src->configs[i].value);
        }
    }
}

void sl_meta_topic_clear(struct sl_meta_topic *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n_configs; i++) {
        free(t->configs[i].key);
        free(t->configs[i].value);
    }
    free(t->configs);
    free(t->name);
    memset(t, 0, sizeof *t);
}

void sl_meta_topics_free(struct sl_meta_topic *t, int n)
{
    if (!t)
        return;
    for (int i = 0; i < n; i++)
        sl_meta_topic_clear(&t[i]);
    free(t);
}

const char *sl_meta__check_topic(const struct sl_meta_topic *t, struct sl_meta_topic *out)
{
    if (!t->name || !sl_meta_topic_name_valid(t->name))
        return "not a legal topic name";
    if (sl_uuid_is_zero(&t->id))
        return "zero topic id";
    if (t->partitions < 1)
        return "partitions < 1";
    if (t->n_configs < 0 || t->n_configs > SL_META_CONFIGS_MAX || (t->n_configs && !t->configs))
        return "bad config count";
    for (int i = 0; i < t->n_configs; i++) {
        const struct sl_kv *kv = &t->configs[i];
        if (!kv->key || !kv->key[0] || strlen(kv->key) > SL_META_KEY_MAX)
            return "bad config key";
        if (!kv->value || strlen(kv->value) > SL_META_VALUE_MAX)
            return "bad config value";
    }
    sl_meta__topic_copy(out, t);
    /* Keep the last value of a repeated key: a stable sort would do, but
     * qsort is not stable, so drop earlier duplicates first. */
    int n = 0;
    for (int i = 0; i < out->n_configs; i++) {
        bool later = false;
        for (int j = i + 1; j < out->n_configs; j++)
            if (strcmp(out->configs[i].key, out->configs[j].key) == 0)
                later = true;
        if (later) {
            free(out->configs[i].key);
            free(out->configs[i].value);
        } else {
            out->configs[n++] = out->configs[i];
        }
    }
    out->n_configs = n;
    if (n > 1)
        qsort(out->configs, (size_t)n, sizeof *out->configs, sl_meta__cmp_kv);
    return NULL;
}

sl_err_t sl_meta_list_topics(struct sl_meta *m, struct sl_meta_topic **out, int *n)
{
    return m->ops->list_topics(m, out, n);
}

sl_err_t sl_meta_get_topic(struct sl_meta *m, const char *name, struct sl_meta_topic *out)
{
    return m->ops->get_topic(m, name, out);
}

sl_err_t sl_meta_put_topic(struct sl_meta *m, const struct sl_meta_topic *t)
{
    struct sl_meta_topic norm;
    const char *why = sl_meta__check_topic(t, &norm);
    if (why) {
        /* Name the topic only when it is a legal name (safe to log). */
        bool named = t->name && sl_meta_topic_name_valid(t->name);
        SL_WARN("meta", "refusing to store topic %s: %s", named ? t->name : "(bad name)", why);
        return SL_ERR__INVAL;
    }
    sl_err_t rc = m->ops->put_topic(m, &norm);
    sl_meta_topic_clear(&norm);
    return rc;
}

sl_err_t sl_meta_delete_topic(struct sl_meta *m, const char *name)
{
    return m->ops->delete_topic(m, name);
}

void sl_meta_close(struct sl_meta *m)
{
    if (m)
        m->ops->close(m);
}
