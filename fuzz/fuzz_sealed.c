/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the sealed-file readers (src/crypto): the sealing
 * file layer's open-time walk and reads (fileops_aead.c) over an in-memory
 * file holding the input, and the sealed-blob opener (sealed_format.c, the
 * metadata store). Inputs of odd length are also in a memfd whose fd the
 * in-memory layer hands out as its raw fd, so reads of runs of frames take
 * the layer's mmap path; even lengths take the pread path. The keyring is
 * fixed (version 1, bytes 0x01..0x20), so
 * the seeds in fuzz/corpus/sealed/ (real sealed segments and blobs made
 * with it) authenticate and mutations explore every failure path.
 *
 * Beyond crashes and sanitizer reports it checks: the reported size is
 * bounded by the input; a read never returns more than asked or past the
 * size; reading the whole file in one call and frame by frame in small
 * pieces gives the same bytes wherever both succeed; an authentication
 * failure is -EBADMSG; a blob that opens has the length its header says.
 * A violated promise aborts.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/logging.h"
#include "core/mem.h"
#include "crypto/fileops_aead.h"
#include "crypto/sealed_format.h"

/* ---- an in-memory, read-only lower layer holding the input ---- */

static const uint8_t *g_data;
static size_t g_size;
/* A memfd holding the input for inputs of odd length, so that reads of runs
 * of frames take the layer's mmap path too (-1: the pread path). */
static int g_fd = -1;

struct mem_file {
    struct sl_file base;
};

static int m_open(const struct sl_fileops *ops, const char *path, int flags, struct sl_file **out)
{
    struct mem_file *f = sl_xcalloc(1, sizeof(*f));
    f->base.ops = ops;
    *out = &f->base;
    return 0;
}

static void m_close(struct sl_file *f)
{
    free(f);
}

static ssize_t m_pread(struct sl_file *f, void *buf, size_t n, int64_t off)
{
    if (off < 0 || (uint64_t)off >= g_size)
        return 0;
    if (n > g_size - (size_t)off)
        n = g_size - (size_t)off;
    memcpy(buf, g_data + off, n);
    return (ssize_t)n;
}

static ssize_t m_write(struct sl_file *f, const void *buf, size_t n, int64_t off)
{
    return -EROFS;
}

static int m_sync(struct sl_file *f)
{
    return 0;
}

static int m_trunc(struct sl_file *f, int64_t size)
{
    return -EROFS;
}

static int m_size(struct sl_file *f, int64_t *size)
{
    *size = (int64_t)g_size;
    return 0;
}

static int m_raw(struct sl_file *f)
{
    return g_fd;
}

static const struct sl_fileops mem_ops = {
    .name = "mem", .open = m_open, .close = m_close, .pread = m_pread, .pwrite = m_write,
    .append = m_write, .fdatasync = m_sync, .ftruncate = m_trunc, .size = m_size,
    .raw_fd = m_raw,
};

static int one_input(const uint8_t *data, size_t size)
{
    static struct sl_keyring kr;
    static struct sl_fileops_aead *layer;
    if (!layer) {
        sl_log_min_level = SL_LOG_LEVEL_MAX;
        kr.keys = sl_xcalloc(1, sizeof(*kr.keys));
        kr.n = 1;
        kr.keys[0].version = 1;
        for (int i = 0; i < SL_KEK_LEN; i++)
            kr.keys[0].key[i] = (uint8_t)(i + 1);
        layer = sl_fileops_aead_new(&mem_ops, &kr);
    }
    g_data = data;
    g_size = size;

    /* The metadata store's reader. */
    uint8_t *pt = NULL;
    size_t ptn = 0;
    int rc = sl_sealed_blob_open(&kr, "sluice.meta", data, size, &pt, &ptn);
    if (rc == 0) {
        if (ptn + SL_SEALED_HDR_SIZE + SL_SEALED_FRAME_OVERHEAD != size)
            abort();
        free(pt);
    }

    /* The segment reader. */
    const struct sl_fileops *ops = sl_fileops_aead_ops(layer);
    struct sl_file *f = NULL;
    if (ops->open(ops, "/fuzz/t-0/00000000000000000000.log", SL_FILE_RDONLY, &f) < 0)
        return 0;
    int64_t lsize = -1;
    if (sl_file_size(f, &lsize) < 0 || lsize < 0 || (uint64_t)lsize > size + 1)
        abort();
    uint8_t *whole = sl_xmalloc((size_t)lsize + 1), *piece = sl_xmalloc((size_t)lsize + 1);
    ssize_t w = sl_file_pread(f, whole, (size_t)lsize + 1, 0);
    if (w > lsize || (w < 0 && w != -EBADMSG && w != -EIO))
        abort();
    /* Small reads across frame boundaries. */
    int64_t pos = 0;
    while (pos < lsize) {
        size_t want = 1 + (size_t)(pos % 97);
        ssize_t r = sl_file_pread(f, piece + pos, want, pos);
        if (r < 0) {
            if (r != -EBADMSG && r != -EIO)
                abort();
            break;
        }
        if (r == 0 || (size_t)r > want || pos + r > lsize)
            abort();
        if (w > 0 && pos + r <= w && memcmp(piece + pos, whole + pos, (size_t)r) != 0)
            abort();
        pos += r;
    }
    free(whole);
    free(piece);
    sl_file_close(f);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_fd = -1;
    if (size % 2 == 1) {
        g_fd = memfd_create("fuzz_sealed", MFD_CLOEXEC);
        if (g_fd < 0 || write(g_fd, data, size) != (ssize_t)size)
            abort();
    }
    int rc = one_input(data, size);
    if (g_fd >= 0)
        close(g_fd);
    g_fd = -1;
    return rc;
}
