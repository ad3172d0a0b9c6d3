/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for log recovery (src/storage/recovery.c): arbitrary
 * bytes as the files of a partition directory, opened with sl_log_open.
 *
 * Input layout: byte 0 holds flags (bit 0: clean open; bit 1: the next
 * bytes are an index file; bit 2: then a time index file; bit 3: two
 * segments). Each index file is a 2-byte big-endian length and that many
 * bytes. With bit 3, a byte B (the second segment's base offset) and a
 * 2-byte length L follow; the first L bytes of the rest are segment 0 and
 * the remainder is segment B. Otherwise the rest is the segment file
 * 00000000000000000000.log.
 *
 * Properties checked (abort on violation), beyond "no crash, no sanitizer
 * report, no leak":
 *   - opening never fails: any content is recoverable (only I/O fails);
 *   - after an unclean open every byte the log serves parses as a valid
 *     batch, offsets are contiguous from the start to the end offset, and
 *     reads at every offset return the batch containing it;
 *   - an append continues at the end offset, and a clean reopen after a
 *     close finds the same start and end offsets.
 * A clean open trusts data below each segment's last index entry, so for
 * clean opens only framing is checked.
 * Seed corpus: fuzz/corpus/recovery/.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/crc32c.h"
#include "core/logging.h"
#include "storage/batch.h"
#include "storage/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base_dir[256];
static char part[300];

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void write_file(const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", part, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            abort();
        p += w;
        n -= (size_t)w;
    }
    close(fd);
}

static void cleanup(void)
{
    nftw(base_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    if (base_dir[0])
        return;
    const char *root = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(base_dir, sizeof(base_dir), "%s/sl_fuzz_recovery_XXXXXX", root);
    if (!mkdtemp(base_dir))
        abort();
    snprintf(part, sizeof(part), "%s/p", base_dir);
    atexit(cleanup);
    sl_log_min_level = SL_LOG_LEVEL_MAX; /* recovery warnings are the point */
}

/* A small valid batch for the append check. */
static size_t make_batch(uint8_t *b)
{
    static const uint8_t rec[] = {0x10, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0};
    memset(b, 0, SL_BATCH_HEADER_SIZE);
    memcpy(b + SL_BATCH_HEADER_SIZE, rec, sizeof(rec));
    size_t n = SL_BATCH_HEADER_SIZE + sizeof(rec);
    sl_put_be32(b + 8, (uint32_t)(n - 12));
    b[16] = 2;
    sl_put_be64(b + 27, 1000);
    sl_put_be64(b + 35, 1000);
    sl_put_be64(b + 43, (uint64_t)-1);
    sl_put_be16(b + 51, (uint16_t)-1);
    sl_put_be32(b + 53, (uint32_t)-1);
    sl_put_be32(b + 57, 1);
    sl_put_be32(b + 17, sl_crc32c(0, b + 21, n - 21));
    return n;
}

/* Reads the whole log and checks it (see the file comment). */
static void check_log(struct sl_log *log, bool deep)
{
    static uint8_t buf[1 << 20];
    int64_t start = sl_log_start_offset(log), leo = sl_log_end_offset(log);
    if (start > leo || sl_log_flushed_offset(log) != leo)
        abort();
    int64_t off = start, expect = -1;
    int steps = 0;
    while (off < leo && steps++ < 100000) {
        struct sl_log_slice s;
        if (sl_log_read(log, off, 1 << 20, true, &s) != SL_ERR_NONE || s.len <= 0)
            abort();
        if (s.len > (int32_t)sizeof(buf) || pread(s.fd, buf, (size_t)s.len, s.pos) != s.len)
            abort();
        sl_log_slice_release(s._ref);
        size_t at = 0;
        while (at < (size_t)s.len) {
            struct sl_batch_info info;
            sl_err_t rc = deep ? sl_batch_parse(buf + at, (size_t)s.len - at, &info)
                               : sl_batch_parse_header(buf + at, (size_t)s.len - at, &info);
            if (rc != SL_ERR_NONE || (size_t)info.batch_len > (size_t)s.len - at)
                abort();
            if (deep) {
                if (expect >= 0 && info.base_offset != expect)
                    abort();
                if (at == 0 && (info.base_offset > off ||
                                info.base_offset + info.last_offset_delta < off))
                    abort();
            }
            expect = info.base_offset + info.last_offset_delta + 1;
            at += (size_t)info.batch_len;
        }
        if (expect <= off)
            abort(); /* no progress */
        off = expect;
    }
    if (deep && off != leo)
        abort();
    int64_t o, t;
    if (sl_log_offset_for_timestamp(log, 1000, &o, &t) != SL_ERR_NONE ||
        sl_log_max_timestamp(log, &o, &t) != SL_ERR_NONE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    nftw(part, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    if (mkdir(part, 0700) != 0)
        abort();
    uint8_t flags = size ? data[0] : 0;
    size_t at = size ? 1 : 0;
    static const char *const names[2] = {"00000000000000000000.index",
                                         "00000000000000000000.timeindex"};
    for (int i = 0; i < 2; i++) {
        if (!(flags & (2 << i)))
            continue;
        if (size - at < 2)
            break;
        size_t n = sl_be16(data + at);
        at += 2;
        if (n > size - at)
            n = size - at;
        write_file(names[i], data + at, n);
        at += n;
    }
    if ((flags & 8) && size - at >= 3) {
        char name[64];
        uint8_t base2 = data[at];
        size_t n1 = sl_be16(data + at + 1);
        at += 3;
        if (n1 > size - at)
            n1 = size - at;
        write_file("00000000000000000000.log", data + at, n1);
        at += n1;
        snprintf(name, sizeof(name), "%020u.log", (unsigned)base2);
        if (base2 != 0)
            write_file(name, data + at, size - at);
    } else {
        write_file("00000000000000000000.log", data + at, size - at);
    }

    struct sl_log_config cfg;
    sl_log_config_defaults(&cfg);
    cfg.segment_bytes = 1 << 16;
    cfg.index_interval_bytes = 64;
    cfg.file_delete_delay_ms = 0;
    cfg.checkpoint_interval_ms = 0;
    bool clean = flags & 1;
    char err[256];
    struct sl_log *log = NULL;
    if (sl_log_open(&sl_fileops_posix, part, &cfg, clean, &log, err, sizeof(err)) != SL_ERR_NONE)
        abort();
    check_log(log, !clean);
    uint8_t b[128];
    size_t n = make_batch(b);
    int64_t leo = sl_log_end_offset(log);
    struct sl_log_append_info ai;
    if (sl_log_append(log, b, n, 0, &ai) != SL_ERR_NONE || ai.base_offset != leo)
        abort();
    int64_t start = sl_log_start_offset(log);
    sl_log_unref(log);
    if (sl_log_open(&sl_fileops_posix, part, &cfg, true, &log, err, sizeof(err)) != SL_ERR_NONE)
        abort();
    if (sl_log_start_offset(log) != start || sl_log_end_offset(log) != leo + 1)
        abort();
    check_log(log, !clean);
    sl_log_unref(log);
    return 0;
}
