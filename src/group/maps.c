/* SPDX-License-Identifier: Apache-2.0
 *
 * String-keyed and integer-keyed open-addressing hash maps (see maps.h).
 * Load factor at most 3/4; the table doubles when it would go above. Keys
 * are hashed with FNV-1a (strings) and a 64-bit finaliser (integers): the
 * maps hold ids chosen by clients, but the coordinator bounds their number
 * and length, and linear probing degrades gracefully.
 */
#include "group/maps.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static uint32_t str_hash(const char *p, int32_t len)
{
    uint32_t h = 2166136261u;
    for (int32_t i = 0; i < len; i++) {
        h ^= (uint8_t)p[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t u64_hash(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

/* ---- string map ---- */

void sl_strmap_init(struct sl_strmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->n = 0;
}

void sl_strmap_destroy(struct sl_strmap *m)
{
    sl_free(&m->slots);
    m->cap = m->n = 0;
}

static bool str_match(const struct sl_strmap_slot *s, const char *p, int32_t len, uint32_t h)
{
    return s->hash == h && s->len == len && (len == 0 || memcmp(s->key, p, (size_t)len) == 0);
}

static void str_grow(struct sl_strmap *m)
{
    uint32_t ncap = m->cap ? m->cap * 2 : 16;
    struct sl_strmap_slot *ns = sl_xcalloc(ncap, sizeof(*ns));
    for (uint32_t i = 0; i < m->cap; i++) {
        struct sl_strmap_slot *s = &m->slots[i];
        if (!s->key)
            continue;
        uint32_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

void *sl_strmap_get(const struct sl_strmap *m, sl_str_t key)
{
    if (m->n == 0 || key.len < 0)
        return NULL;
    const char *p = key.len ? key.p : "";
    uint32_t h = str_hash(p, key.len);
    for (uint32_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        const struct sl_strmap_slot *s = &m->slots[j];
        if (!s->key)
            return NULL;
        if (str_match(s, p, key.len, h))
            return s->val;
    }
}

void *sl_strmap_put(struct sl_strmap *m, sl_str_t key, void *val)
{
    if ((m->n + 1) * 4 > m->cap * 3)
        str_grow(m);
    const char *p = key.len > 0 ? key.p : "";
    int32_t len = key.len > 0 ? key.len : 0;
    uint32_t h = str_hash(p, len);
    uint32_t j = h & (m->cap - 1);
    for (;; j = (j + 1) & (m->cap - 1)) {
        struct sl_strmap_slot *s = &m->slots[j];
        if (!s->key)
            break;
        if (str_match(s, p, len, h)) {
            void *old = s->val;
            s->key = p; /* the new value's own copy of the key */
            s->val = val;
            return old;
        }
    }
    m->slots[j] = (struct sl_strmap_slot){p, len, h, val};
    m->n++;
    return NULL;
}

void *sl_strmap_del(struct sl_strmap *m, sl_str_t key)
{
    if (m->n == 0 || key.len < 0)
        return NULL;
    const char *p = key.len ? key.p : "";
    uint32_t h = str_hash(p, key.len);
    uint32_t mask = m->cap - 1;
    uint32_t j = h & mask;
    for (;; j = (j + 1) & mask) {
        struct sl_strmap_slot *s = &m->slots[j];
        if (!s->key)
            return NULL;
        if (str_match(s, p, key.len, h))
            break;
    }
    void *val = m->slots[j].val;
    /* Backward-shift: move later entries of the probe run into the hole
     * when their home slot is not between the hole and their position. */
    uint32_t hole = j;
    for (uint32_t k = (j + 1) & mask; m->slots[k].key; k = (k + 1) & mask) {
        uint32_t home = m->slots[k].hash & mask;
        bool movable = hole <= k ? (home <= hole || home > k) : (home <= hole && home > k);
        if (movable) {
            m->slots[hole] = m->slots[k];
            hole = k;
        }
    }
    m->slots[hole] = (struct sl_strmap_slot){0};
    m->n--;
    return val;
}

void *sl_strmap_next(const struct sl_strmap *m, uint32_t *i)
{
    while (*i < m->cap) {
        const struct sl_strmap_slot *s = &m->slots[(*i)++];
        if (s->key)
            return s->val;
    }
    return NULL;
}

/* ---- integer map ---- */

void sl_u64map_init(struct sl_u64map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->n = 0;
}

void sl_u64map_destroy(struct sl_u64map *m)
{
    sl_free(&m->slots);
    m->cap = m->n = 0;
}

static void u64_grow(struct sl_u64map *m)
{
    uint32_t ncap = m->cap ? m->cap * 2 : 16;
    struct sl_u64map_slot *ns = sl_xcalloc(ncap, sizeof(*ns));
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        uint32_t j = u64_hash(m->slots[i].key) & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

void *sl_u64map_get(const struct sl_u64map *m, uint64_t key)
{
    if (m->n == 0 || key == 0)
        return NULL;
    for (uint32_t j = u64_hash(key) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        if (m->slots[j].key == key)
            return m->slots[j].val;
        if (!m->slots[j].key)
            return NULL;
    }
}

void sl_u64map_put(struct sl_u64map *m, uint64_t key, void *val)
{
    if (key == 0)
        return;
    if ((m->n + 1) * 4 > m->cap * 3)
        u64_grow(m);
    uint32_t j = u64_hash(key) & (m->cap - 1);
    for (;; j = (j + 1) & (m->cap - 1)) {
        if (m->slots[j].key == key) {
            m->slots[j].val = val;
            return;
        }
        if (!m->slots[j].key)
            break;
    }
    m->slots[j] = (struct sl_u64map_slot){key, val};
    m->n++;
}

void *sl_u64map_del(struct sl_u64map *m, uint64_t key)
{
    if (m->n == 0 || key == 0)
        return NULL;
    uint32_t mask = m->cap - 1;
    uint32_t j = u64_hash(key) & mask;
    for (;; j = (j + 1) & mask) {
        if (m->slots[j].key == key)
            break;
        if (!m->slots[j].key)
            return NULL;
    }
    void *val = m->slots[j].val;
    uint32_t hole = j;
    for (uint32_t k = (j + 1) & mask; m->slots[k].key; k = (k + 1) & mask) {
        uint32_t home = u64_hash(m->slots[k].key) & mask;
        bool movable = hole <= k ? (home <= hole || home > k) : (home <= hole && home > k);
        if (movable) {
            m->slots[hole] = m->slots[k];
            hole = k;
        }
    }
    m->slots[hole] = (struct sl_u64map_slot){0};
    m->n--;
    return val;
}
