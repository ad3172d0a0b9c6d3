/* SPDX-License-Identifier: Apache-2.0
 *
 * Producer id blocks (see producer_ids.h). The file holds one line,
 * "next=<first id of the next unreserved block>"; reserving a block rewrites
 * it atomically (write tmp, fsync, rename, fsync the directory) before any id
 * of the block is used.
 */
#include "server/producer_ids.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/logging.h"
#include "core/mem.h"

#define BLOCK 1000

struct sl_pid_alloc {
    pthread_mutex_t mu;
    char path[4200];
    char dir[4096];
    int64_t next;      /* next id to hand out */
    int64_t block_end; /* first id past the reserved block */
};

static int reserve(struct sl_pid_alloc *pa, int64_t upto)
{
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", pa->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char line[64];
    int n = snprintf(line, sizeof(line), "next=%" PRId64 "\n", upto);
    int rc = 0;
    if (write(fd, line, (size_t)n) != n || fsync(fd) < 0)
        rc = -errno ? -errno : -EIO;
    close(fd);
    if (rc == 0 && rename(tmp, pa->path) < 0)
        rc = -errno;
    if (rc == 0) {
        int dfd = open(pa->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        pa->block_end = upto;
    }
    return rc;
}

sl_err_t sl_pid_alloc_open(const char *data_dir, struct sl_pid_alloc **out, char *err,
                           size_t errlen)
{
    struct sl_pid_alloc *pa = sl_xcalloc(1, sizeof(*pa));
    pthread_mutex_init(&pa->mu, NULL);
    snprintf(pa->dir, sizeof(pa->dir), "%s", data_dir);
    snprintf(pa->path, sizeof(pa->path), "%s/producer-ids", data_dir);
    FILE *f = fopen(pa->path, "r");
    if (f) {
        long long v = -1;
        if (fscanf(f, "next=%lld", &v) != 1 || v < 0) {
            fclose(f);
            snprintf(err, errlen, "%s: damaged (expected next=<id>)", pa->path);
            pthread_mutex_destroy(&pa->mu);
            free(pa);
            return SL_ERR__IO;
        }
        fclose(f);
        pa->next = pa->block_end = v;
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", pa->path, strerror(errno));
        pthread_mutex_destroy(&pa->mu);
        free(pa);
        return SL_ERR__IO;
    }
    *out = pa;
    return SL_ERR_NONE;
}

int64_t sl_pid_alloc_next(struct sl_pid_alloc *pa)
{
    pthread_mutex_lock(&pa->mu);
    int64_t id = -1;
    if (pa->next >= pa->block_end) {
        int rc = reserve(pa, pa->block_end + BLOCK);
        if (rc < 0) {
            SL_ERROR("producer", "cannot reserve producer ids in %s: %s", pa->path, strerror(-rc));
            goto out;
        }
    }
    id = pa->next++;
out:
    pthread_mutex_unlock(&pa->mu);
    return id;
}

void sl_pid_alloc_close(struct sl_pid_alloc *pa)
{
    if (!pa)
        return;
    pthread_mutex_destroy(&pa->mu);
    free(pa);
}
