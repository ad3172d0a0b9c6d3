/* SPDX-License-Identifier: Apache-2.0
 *
 * The metadata backend interface (private to src/meta/). A backend embeds
 * struct sl_meta as its first member and provides the operations below;
 * meta.c dispatches the public calls through them, after the checks every
 * backend shares (sl_meta__check_topic). Backends do their own locking.
 */
#ifndef SL_META_META_INT_H
#define SL_META_META_INT_H

#include "meta/meta.h"

struct sl_meta_ops {
    const char *name; /* "local", later "zookeeper" */
    sl_err_t (*list_topics)(struct sl_meta *m, struct sl_meta_topic **out, int *n);
    sl_err_t (*get_topic)(struct sl_meta *m, const char *name, struct sl_meta_topic *out);
    /* t has been checked and normalised (configs sorted, keys unique). */
    sl_err_t (*put_topic)(struct sl_meta *m, const struct sl_meta_topic *t);
    sl_err_t (*delete_topic)(struct sl_meta *m, const char *name);
    void (*close)(struct sl_meta *m);
};

struct sl_meta {
    const struct sl_meta_ops *ops;
};

/* Deep-copies src into *dst (new memory; free with sl_meta_topic_clear). */
void sl_meta__topic_copy(struct sl_meta_topic *dst, const struct sl_meta_topic *src);

/* Checks t for the store's invariants and returns a normalised deep copy in
 * *out (configs sorted by key, a repeated key keeping its last value).
 * Returns NULL, or a static reason (and *out untouched). */
const char *sl_meta__check_topic(const struct sl_meta_topic *t, struct sl_meta_topic *out);

/* qsort comparators by name / by key. */
int sl_meta__cmp_topic(const void *a, const void *b);
int sl_meta__cmp_kv(const void *a, const void *b);

#endif
