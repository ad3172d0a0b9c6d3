/* SPDX-License-Identifier: Apache-2.0
 *
 * Two small hash maps used by the group coordinator: one keyed by a string
 * view (groups by id, members by id, static members by instance id, topics
 * by name), one keyed by a 64-bit integer (parked requests by operation id).
 * Both use open addressing with linear probing and backward-shift deletion,
 * so there are no tombstones and lookups stay short after many removals.
 *
 * The maps own neither keys nor values: a string key must stay valid (and
 * unchanged) for as long as its entry is in the map; callers normally point
 * it at a field of the value itself. Not thread-safe: each map is used by
 * one thread only (the coordinator's, or one network thread's).
 */
#ifndef SL_GROUP_MAPS_H
#define SL_GROUP_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

struct sl_strmap_slot {
    const char *key; /* NULL: empty slot */
    int32_t len;
    uint32_t hash;
    void *val;
};

struct sl_strmap {
    struct sl_strmap_slot *slots;
    uint32_t cap; /* 0 or a power of two */
    uint32_t n;
};

/* An empty map (no memory until the first insertion). */
void sl_strmap_init(struct sl_strmap *m);
/* Frees the slot array (not keys or values). */
void sl_strmap_destroy(struct sl_strmap *m);

/* Returns the value stored under key, or NULL. */
void *sl_strmap_get(const struct sl_strmap *m, sl_str_t key);
/* Stores val under key (borrowed, see above), replacing any previous
 * value. Returns the previous value or NULL. */
void *sl_strmap_put(struct sl_strmap *m, sl_str_t key, void *val);
/* Removes key; returns its value or NULL if absent. */
void *sl_strmap_del(struct sl_strmap *m, sl_str_t key);

/* Iteration in slot order: *i starts at 0; returns the next value or NULL
 * at the end. The map must not change during an iteration (collect first,
 * then remove). */
void *sl_strmap_next(const struct sl_strmap *m, uint32_t *i);

struct sl_u64map_slot {
    uint64_t key; /* 0 is not a valid key: it marks an empty slot */
    void *val;
};

struct sl_u64map {
    struct sl_u64map_slot *slots;
    uint32_t cap;
    uint32_t n;
};

void sl_u64map_init(struct sl_u64map *m);
void sl_u64map_destroy(struct sl_u64map *m);
/* Key must be non-zero. */
void *sl_u64map_get(const struct sl_u64map *m, uint64_t key);
void sl_u64map_put(struct sl_u64map *m, uint64_t key, void *val);
void *sl_u64map_del(struct sl_u64map *m, uint64_t key);

#endif
