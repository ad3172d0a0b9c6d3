/* SPDX-License-Identifier: Apache-2.0
 *
 * The walk of a key rewrap (see rewrap_walk.h).
 */
#include "crypto/rewrap_walk.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/logging.h"
#include "storage/producer_state.h"

bool sl_rewrap_candidate(const char *path)
{
    size_t n = strlen(path), sn = strlen(SL_PSTATE_SNAPSHOT_NAME);
    return sl_fileops_aead_sealed_path(path) ||
           (n > sn && path[n - sn - 1] == '/' &&
            strcmp(path + n - sn, SL_PSTATE_SNAPSHOT_NAME) == 0);
}

void sl_rewrap_tree(struct sl_fileops_aead *a, const char *dir, struct sl_rewrap_stats *st,
                    const atomic_bool *stop)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && !(stop && atomic_load(stop))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4200];
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
            continue;
        struct stat sb;
        if (lstat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            sl_rewrap_tree(a, path, st, stop);
        } else if (S_ISREG(sb.st_mode) && sl_rewrap_candidate(path)) {
            int r = sl_fileops_aead_rewrap(a, path);
            if (r == 1) {
                st->rewrapped++;
            } else if (r == 0) {
                st->current++;
            } else {
                SL_ERROR("crypto", "%s: cannot rewrap: %s", path, strerror(-r));
                st->failed++;
            }
        }
    }
    closedir(d);
}
