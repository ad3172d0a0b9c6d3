/* SPDX-License-Identifier: Apache-2.0
 *
 * The partition log tests of test_storage_log.c, run on the sealing file
 * layer (encryption at rest) instead of plain POSIX files: every append,
 * read, roll, retention, recovery, fault and concurrency case must behave
 * the same when each batch is a sealed frame and reads go through pread.
 * The two tests that damage plaintext batch bytes on purpose are left out;
 * instead the tests below damage sealed segments and check what recovery
 * and reads do on an authenticated layer: damage in flushed data refuses
 * the partition (nothing cut, nothing deleted), a segment rolled back to an
 * older copy is refused, a torn tail above the recovery point is cut, and a
 * batch that fails authentication is never served while the batches before
 * and after it are.
 */
#include <stdlib.h>

#include "crypto/fileops_aead.h"
#include "crypto/keyring.h"
#include "storage/fileops.h"
#include "storage/segment.h"

static const struct sl_fileops *sealed_ops(void)
{
    static struct sl_keyring kr;
    static struct sl_fileops_aead *a;
    if (!a) {
        char err[128];
        if (sl_keyring_add(&kr, err, sizeof(err)) < 0)
            abort();
        a = sl_fileops_aead_new(&sl_fileops_posix, &kr);
    }
    return sl_fileops_aead_ops(a);
}

static void crypto_extra_tests(void);
#define SL_TEST_BASE_OPS sealed_ops()
#define SL_TEST_PLAIN_FILES 0
#define SL_TEST_EXTRA crypto_extra_tests
#include "test_storage_log.c"

#define FILE_HDR 128
#define FRAME_HDR 32

static uint8_t *slurp_file(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    uint8_t *b = malloc(1 << 16);
    *n = fread(b, 1, 1 << 16, fp);
    fclose(fp);
    return b;
}

static void flip(const char *path, int64_t at)
{
    int fd = open(path, O_RDWR);
    uint8_t b;
    if (fd < 0 || pread(fd, &b, 1, at) != 1)
        abort();
    b ^= 0x10;
    if (pwrite(fd, &b, 1, at) != 1)
        abort();
    close(fd);
}

/* Base offsets of the segments, ascending; returns the count. */
static int list_bases(const char *dir, int64_t *bases, int cap)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        int64_t b;
        if (sl_segment_parse_name(de->d_name, &b) && n < cap)
            bases[n++] = b;
    }
    if (d)
        closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && bases[j - 1] > bases[j]; j--) {
            int64_t t = bases[j];
            bases[j] = bases[j - 1];
            bases[j - 1] = t;
        }
    return n;
}

static void test_sealed_damage_in_flushed_data(void)
{
    char *tmp = make_tmpdir(), dir[4096], p[4200], err[512];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(fill(log, m, 60, 100));
    CHECK_EQ_INT(sl_log_flush(log), SL_ERR_NONE);
    sl_log_unref(log);
    int64_t bases[64];
    int nseg = list_bases(dir, bases, 64);
    CHECK(nseg >= 3);
    /* A byte of the last segment's first batch (flushed): refused, and
     * nothing is cut or deleted. */
    seg_path(p, sizeof(p), dir, bases[nseg - 1], ".log");
    int64_t size_before = file_size(p);
    char ck[4200];
    snprintf(ck, sizeof(ck), "%s/sluice-log.checkpoint", dir);
    size_t ckn;
    uint8_t *ck_before = slurp_file(ck, &ckn);
    flip(p, FILE_HDR + FRAME_HDR + 20);
    /* Quarantined: it opens in ERROR; reads and appends refused. */
    log = NULL;
    CHECK_EQ_INT(sl_log_open(SL_TEST_BASE_OPS, dir, &c, false, &log, err, sizeof(err)),
                 SL_ERR_NONE);
    CHECK(sl_log_in_error(log));
    struct sl_log_slice s;
    CHECK_EQ_INT(sl_log_read(log, 0, 1 << 20, true, &s), SL_ERR_KAFKA_STORAGE_ERROR);
    CHECK(append_one(log, NULL, 1, 100, NULL, 10) != SL_ERR_NONE);
    CHECK_EQ_INT(sl_log_flush(log), SL_ERR_KAFKA_STORAGE_ERROR);
    sl_log_unref(log);
    /* Nothing on disk was changed: no cut, no deletion, same checkpoint. */
    CHECK_EQ_INT(file_size(p), size_before);
    CHECK_EQ_INT(list_bases(dir, bases, 64), nseg);
    size_t ckn2;
    uint8_t *ck_after = slurp_file(ck, &ckn2);
    CHECK(ck_before && ck_after && ckn == ckn2 && memcmp(ck_before, ck_after, ckn) == 0);
    free(ck_before);
    free(ck_after);
    flip(p, FILE_HDR + FRAME_HDR + 20); /* repaired: opens again */
    log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(verify_all(log, m, 0));
    sl_log_unref(log);

    /* A byte of the first segment's first batch, clean start: recovery
     * trusts that segment (it checks only its tail), so reads catch it:
     * the batch is never served, the others are. */
    seg_path(p, sizeof(p), dir, bases[0], ".log");
    flip(p, FILE_HDR + FRAME_HDR + 20);
    log = open_log(SL_TEST_BASE_OPS, dir, &c, true);
    CHECK(log);
    CHECK(!sl_log_in_error(log));
    CHECK_EQ_INT(sl_log_read(log, 0, 1 << 20, true, &s), SL_ERR_KAFKA_STORAGE_ERROR);
    /* The batch right after it is found by scanning headers from the
     * nearest index entry before it, through the damaged one: refused too
     * (nothing past damage is served until an index entry skips it). */
    CHECK_EQ_INT(sl_log_read(log, m->b[1].base, 1 << 20, true, &s), SL_ERR_KAFKA_STORAGE_ERROR);
    /* The next segment is served. */
    CHECK_EQ_INT(sl_log_read(log, bases[1], 1 << 20, true, &s), SL_ERR_NONE);
    int mi = model_find(m, bases[1]);
    CHECK(mi > 0 && s.len > 0 && s.mem && memcmp(s.mem, m->b[mi].bytes, m->b[mi].len) == 0);
    sl_log_slice_release(s._ref);
    /* A read that starts before a bad batch returns the batches before it. */
    flip(p, FILE_HDR + FRAME_HDR + 20);
    int64_t at = FILE_HDR + 2 * (int64_t)(FRAME_HDR + 16) + (int64_t)m->b[0].len +
                 (int64_t)m->b[1].len + FRAME_HDR + 20; /* inside batch 2 */
    flip(p, at);
    sl_log_unref(log);
    log = open_log(SL_TEST_BASE_OPS, dir, &c, true);
    CHECK(log);
    CHECK_EQ_INT(sl_log_read(log, 0, 1 << 20, true, &s), SL_ERR_NONE);
    CHECK_EQ_INT(s.len, (int64_t)(m->b[0].len + m->b[1].len));
    sl_log_slice_release(s._ref);
    CHECK_EQ_INT(sl_log_read(log, m->b[2].base, 1 << 20, true, &s), SL_ERR_KAFKA_STORAGE_ERROR);
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_sealed_rollback(void)
{
    char *tmp = make_tmpdir(), dir[4096], p[4200], saved[4200], err[512];
    part_dir(dir, sizeof(dir), tmp);
    snprintf(saved, sizeof(saved), "%s/saved.log", tmp);
    struct sl_log_config c;
    base_config(&c);
    c.segment_bytes = 1 << 20; /* one segment */
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(fill(log, m, 20, 100));
    CHECK_EQ_INT(sl_log_flush(log), SL_ERR_NONE);
    seg_path(p, sizeof(p), dir, 0, ".log");
    copy_file(p, saved); /* the attacker's older copy */
    CHECK(fill(log, m, 20, 100));
    CHECK_EQ_INT(sl_log_flush(log), SL_ERR_NONE);
    sl_log_unref(log);
    copy_file(saved, p);
    /* Every frame of the old copy authenticates; the checkpoint's recovery
     * point says the log went further. */
    for (int clean = 0; clean < 2; clean++) {
        log = NULL;
        CHECK_EQ_INT(sl_log_open(SL_TEST_BASE_OPS, dir, &c, clean, &log, err, sizeof(err)),
                     SL_ERR_NONE);
        CHECK(sl_log_in_error(log));
        sl_log_unref(log);
        CHECK_EQ_INT(file_size(p), file_size(saved)); /* left as found */
    }
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_sealed_torn_tail_cut(void)
{
    char *tmp = make_tmpdir(), dir[4096], p[4200];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    c.segment_bytes = 1 << 20;
    c.checkpoint_interval_ms = 1000000; /* keep the recovery point stale */
    struct model *m = calloc(1, sizeof(*m));
    uint32_t seed = rng_state;
    pid_t pid = fork();
    if (pid == 0) {
        struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
        if (!log || !fill(log, m, 20, 100) || sl_log_flush(log) != SL_ERR_NONE ||
            !fill(log, m, 5, 100))
            _exit(1);
        _exit(0); /* a crash: the last 5 batches are above the recovery point */
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    rng_state = seed;
    char dir2[4096];
    snprintf(dir2, sizeof(dir2), "%s/replay", tmp);
    struct sl_log *replay = open_log(SL_TEST_BASE_OPS, dir2, &c, false);
    CHECK(replay);
    CHECK(fill(replay, m, 25, 100));
    sl_log_unref(replay);
    /* Tear the last frame, and damage the one before it. */
    seg_path(p, sizeof(p), dir, 0, ".log");
    CHECK_EQ_INT(truncate(p, file_size(p) - 9), 0);
    int64_t at = file_size(p) - (int64_t)m->b[24].len + 9 - 16 - (int64_t)m->b[23].len - 10;
    flip(p, at);
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK_EQ_INT(sl_log_end_offset(log), m->b[23].base);
    model_truncate(m, 23);
    CHECK(verify_all(log, m, 0));
    CHECK(fill(log, m, 3, 100));
    CHECK(verify_all(log, m, 0));
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void crypto_extra_tests(void)
{
    TEST_RUN(test_sealed_damage_in_flushed_data);
    TEST_RUN(test_sealed_rollback);
    TEST_RUN(test_sealed_torn_tail_cut);
}
