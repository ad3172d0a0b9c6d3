/* SPDX-License-Identifier: Apache-2.0
 *
 * The walk of a key rewrap, shared by `sluice keys rewrap --data-dir`
 * (offline) and the broker's online rewrap (server/key_rewrap.h): every
 * sealed file under a directory, recursively (partition segments, the
 * consumer offsets log, producer state snapshots), rewrapped in place by
 * sl_fileops_aead_rewrap (one header slot write and fdatasync per file).
 * Files that vanish during the walk (retention, topic deletion) are passed
 * over; a shredded file is left shredded.
 */
#ifndef SL_CRYPTO_REWRAP_WALK_H
#define SL_CRYPTO_REWRAP_WALK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/fileops_aead.h"

struct sl_rewrap_stats {
    int64_t rewrapped; /* moved to the newest key version */
    int64_t current;   /* nothing to do */
    int64_t failed;    /* logged (SL_ERROR) with path and reason */
};

/* True for the files a rewrap visits: segments and producer state
 * snapshots (sealed blobs with the same header). */
bool sl_rewrap_candidate(const char *path);

/* Rewraps every candidate under dir (a missing dir is empty), adding to st.
 * Stops early (between files) once *stop is true (stop may be NULL). */
void sl_rewrap_tree(struct sl_fileops_aead *a, const char *dir, struct sl_rewrap_stats *st,
                    const atomic_bool *stop);

#endif
