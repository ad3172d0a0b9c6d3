/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the partition log (src/storage): append/read round trips
 * across segment rolls, KIP-74, timestamp lookups, DeleteRecords, retention
 * by size and by time, clean and crashed reopen, torn and corrupted tails,
 * damaged index files, fault injection (sticky ERROR), the group-commit
 * flusher, a file layer that hides its fd, and concurrent readers, writers
 * and retention (run it under TSan too).
 *
 * Every test keeps a model of what it appended (the bytes of each batch and
 * each record's timestamp) and checks the log against it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/crc32c.h"
#include "core/logging.h"
#include "storage/batch.h"
#include "storage/fileops.h"
#include "storage/flusher.h"
#include "storage/log.h"
#include "test_help.h"

/* The file layer under test: POSIX here; test_crypto_storage_log.c includes
 * this file with the sealing layer instead (and without the tests that
 * damage plaintext batches on purpose: it has its own). */
#ifndef SL_TEST_BASE_OPS
#define SL_TEST_BASE_OPS (&sl_fileops_posix)
#define SL_TEST_PLAIN_FILES 1
#endif

/* ---- helpers: directories --------------------------------------------- */

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/sl_storage_XXXXXX";
    char *d = mkdtemp(tmpl);
    if (!d) {
        perror("mkdtemp");
        exit(2);
    }
    return strdup(d);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* The partition directory inside a tmp dir (sl_log_open creates it). */
static void part_dir(char *out, size_t n, const char *tmp)
{
    snprintf(out, n, "%s/topic-0", tmp);
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char buf[65536];
    ssize_t r;
    while (in >= 0 && out >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)r) != r)
            break;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
}

/* Replaces dir `to` by a copy of the flat directory `from`. */
static void copy_dir(const char *from, const char *to)
{
    rm_rf(to);
    mkdir(to, 0700);
    DIR *d = opendir(from);
    struct dirent *de;
    char a[4096], b[4096];
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(a, sizeof(a), "%s/%s", from, de->d_name) >= (int)sizeof(a) ||
            snprintf(b, sizeof(b), "%s/%s", to, de->d_name) >= (int)sizeof(b))
            continue;
        copy_file(a, b);
    }
    if (d)
        closedir(d);
}

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    size_t m = strlen(suffix);
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l >= m && strcmp(de->d_name + l - m, suffix) == 0)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void seg_path(char *out, size_t n, const char *dir, int64_t base, const char *suffix)
{
    int len = snprintf(out, n, "%s/%020" PRId64 "%s", dir, base, suffix);
    if (len < 0 || (size_t)len >= n)
        abort();
}

/* ---- helpers: batches and the model ----------------------------------- */

static _Thread_local uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

/* Builds an uncompressed batch of nrec records with timestamps
 * base_ts + deltas[i] (deltas NULL: i) and values of vlen bytes. */
static size_t make_batch(uint8_t *b, int nrec, int64_t base_ts, const int64_t *deltas,
                         size_t vlen)
{
    size_t pos = SL_BATCH_HEADER_SIZE;
    int64_t max_ts = INT64_MIN;
    for (int i = 0; i < nrec; i++) {
        uint8_t body[70000];
        size_t k = 0;
        int64_t d = deltas ? deltas[i] : i;
        body[k++] = 0;
        k += put_varint(body + k, d);
        k += put_varint(body + k, i);
        k += put_varint(body + k, 2);
        body[k++] = 'k';
        body[k++] = (uint8_t)('0' + i % 10);
        k += put_varint(body + k, (int64_t)vlen);
        for (size_t j = 0; j < vlen; j++)
            body[k++] = (uint8_t)rnd();
        k += put_varint(body + k, 0);
        pos += put_varint(b + pos, (int64_t)k);
        memcpy(b + pos, body, k);
        pos += k;
        if (base_ts + d > max_ts)
            max_ts = base_ts + d;
    }
    memset(b, 0, SL_BATCH_HEADER_SIZE);
    sl_put_be32(b + 8, (uint32_t)(pos - 12));
    sl_put_be32(b + 12, (uint32_t)-1);
    b[16] = 2;
    sl_put_be32(b + 23, (uint32_t)(nrec - 1));
    sl_put_be64(b + 27, (uint64_t)base_ts);
    sl_put_be64(b + 35, (uint64_t)max_ts);
    sl_put_be64(b + 43, (uint64_t)-1);
    sl_put_be16(b + 51, (uint16_t)-1);
    sl_put_be32(b + 53, (uint32_t)-1);
    sl_put_be32(b + 57, (uint32_t)nrec);
    sl_put_be32(b + 17, sl_crc32c(0, b + 21, pos - 21));
    return pos;
}

#define MAX_BATCHES 4096
#define MAX_RECS 8

struct mbatch {
    int64_t base, last;
    uint8_t *bytes;
    size_t len;
    int64_t ts[MAX_RECS];
};

struct model {
    struct mbatch b[MAX_BATCHES];
    int n;
};

static void model_free(struct model *m)
{
    for (int i = 0; i < m->n; i++)
        free(m->b[i].bytes);
    m->n = 0;
}

/* Keeps only the first n batches. */
static void model_truncate(struct model *m, int n)
{
    for (int i = n; i < m->n; i++)
        free(m->b[i].bytes);
    if (n < m->n)
        m->n = n;
}

/* Appends one batch of nrec records to log and to the model. */
static sl_err_t append_one(struct sl_log *log, struct model *m, int nrec, int64_t base_ts,
                           const int64_t *deltas, size_t vlen)
{
    static uint8_t buf[1 << 20];
    size_t len = make_batch(buf, nrec, base_ts, deltas, vlen);
    struct sl_batch_info info;
    if (sl_batch_validate_produce(buf, len, 1 << 20, &info) != SL_ERR_NONE)
        return SL_ERR__INVAL;
    struct sl_log_append_info ai;
    sl_err_t rc = sl_log_append(log, buf, len, 0, &ai);
    if (rc != SL_ERR_NONE || !m)
        return rc;
    struct mbatch *mb = &m->b[m->n++];
    mb->base = ai.base_offset;
    mb->last = ai.last_offset;
    mb->len = len;
    mb->bytes = malloc(len);
    memcpy(mb->bytes, buf, len);
    for (int i = 0; i < nrec && i < MAX_RECS; i++)
        mb->ts[i] = base_ts + (deltas ? deltas[i] : i);
    return rc;
}

static int model_find(const struct model *m, int64_t offset)
{
    for (int i = 0; i < m->n; i++)
        if (m->b[i].base <= offset && offset <= m->b[i].last)
            return i;
    return -1;
}

/* Copies a slice's bytes into out (at least s->len bytes). */
static bool slice_bytes(const struct sl_log_slice *s, uint8_t *out)
{
    if (s->len == 0)
        return true;
    if (s->mem) {
        memcpy(out, s->mem, (size_t)s->len);
        return true;
    }
    return pread(s->fd, out, (size_t)s->len, s->pos) == s->len;
}

static void base_config(struct sl_log_config *c)
{
    sl_log_config_defaults(c);
    c->segment_bytes = 4096;
    c->index_interval_bytes = 300;
    c->file_delete_delay_ms = 0;
    c->checkpoint_interval_ms = 0;
}

static struct sl_log *open_log(const struct sl_fileops *ops, const char *dir,
                               const struct sl_log_config *c, bool clean)
{
    char err[512];
    struct sl_log *log = NULL;
    sl_err_t rc = sl_log_open(ops, dir, c, clean, &log, err, sizeof(err));
    if (rc != SL_ERR_NONE)
        fprintf(stderr, "  sl_log_open(%s): %d %s\n", dir, rc, err);
    return log;
}

/* Checks that reading from every offset in [start, LEO) returns the model's
 * batch containing it (min_one, small max_bytes), and that a large read
 * returns whole consecutive model batches. Returns false on mismatch. */
static bool verify_all(struct sl_log *log, const struct model *m, int64_t start)
{
    static uint8_t buf[1 << 20];
    int64_t leo = sl_log_end_offset(log);
    int64_t expect_leo = m->n ? m->b[m->n - 1].last + 1 : leo;
    if (leo != expect_leo) {
        fprintf(stderr, "  LEO %" PRId64 " != model %" PRId64 "\n", leo, expect_leo);
        return false;
    }
    for (int64_t off = start; off < leo; off++) {
        struct sl_log_slice s;
        sl_err_t rc = sl_log_read(log, off, 1, true, &s);
        int i = model_find(m, off);
        if (rc != SL_ERR_NONE || i < 0 || s.len != (int32_t)m->b[i].len || !slice_bytes(&s, buf) ||
            memcmp(buf, m->b[i].bytes, m->b[i].len) != 0) {
            fprintf(stderr, "  read at %" PRId64 ": rc %d len %d (model batch %d)\n", off, rc,
                    s.len, i);
            sl_log_slice_release(s._ref);
            return false;
        }
        sl_log_slice_release(s._ref);
        /* Larger reads: whole batches, consecutive, within max_bytes. */
        int32_t maxb = (int32_t)(rnd() % 6000);
        rc = sl_log_read(log, off, maxb, false, &s);
        if (rc != SL_ERR_NONE || s.len > maxb || !slice_bytes(&s, buf)) {
            sl_log_slice_release(s._ref);
            fprintf(stderr, "  read(%" PRId64 ", %d): rc %d len %d\n", off, maxb, rc, s.len);
            return false;
        }
        size_t at = 0;
        for (int j = i; at < (size_t)s.len; j++) {
            if (j >= m->n || at + m->b[j].len > (size_t)s.len ||
                memcmp(buf + at, m->b[j].bytes, m->b[j].len) != 0) {
                sl_log_slice_release(s._ref);
                fprintf(stderr, "  read(%" PRId64 ", %d): batch %d mismatch\n", off, maxb, j);
                return false;
            }
            at += m->b[j].len;
        }
        if (s.len == 0 && (int64_t)m->b[i].len <= maxb) {
            fprintf(stderr, "  read(%" PRId64 ", %d): empty but the batch fits\n", off, maxb);
            return false;
        }
        sl_log_slice_release(s._ref);
    }
    return true;
}

/* Brute force over the model: the first record at or after start with
 * timestamp >= ts. */
static void model_ts(const struct model *m, int64_t start, int64_t ts, int64_t *off,
                     int64_t *found)
{
    *off = *found = -1;
    for (int i = 0; i < m->n; i++)
        for (int64_t o = m->b[i].base; o <= m->b[i].last; o++)
            if (o >= start && m->b[i].ts[o - m->b[i].base] >= ts) {
                *off = o;
                *found = m->b[i].ts[o - m->b[i].base];
                return;
            }
}

static void model_max_ts(const struct model *m, int64_t start, int64_t *off, int64_t *ts)
{
    *off = *ts = -1;
    for (int i = 0; i < m->n; i++)
        for (int64_t o = m->b[i].base; o <= m->b[i].last; o++)
            if (o >= start && m->b[i].ts[o - m->b[i].base] > *ts) {
                *ts = m->b[i].ts[o - m->b[i].base];
                *off = o;
            }
}

static bool verify_timestamps(struct sl_log *log, const struct model *m, int64_t lo, int64_t hi)
{
    int64_t start = sl_log_start_offset(log);
    for (int64_t ts = lo; ts <= hi; ts++) {
        int64_t o1, t1, o2, t2;
        model_ts(m, start, ts, &o1, &t1);
        if (sl_log_offset_for_timestamp(log, ts, &o2, &t2) != SL_ERR_NONE || o1 != o2 ||
            t1 != t2) {
            fprintf(stderr, "  ts %" PRId64 ": log (%" PRId64 ", %" PRId64 ") model (%" PRId64
                            ", %" PRId64 ")\n",
                    ts, o2, t2, o1, t1);
            return false;
        }
    }
    int64_t o1, t1, o2, t2;
    model_max_ts(m, start, &o1, &t1);
    if (sl_log_max_timestamp(log, &o2, &t2) != SL_ERR_NONE || o1 != o2 || t1 != t2) {
        fprintf(stderr, "  max ts: log (%" PRId64 ", %" PRId64 ") model (%" PRId64 ", %" PRId64
                        ")\n",
                o2, t2, o1, t1);
        return false;
    }
    return true;
}

/* Appends n batches of 1..4 records with values of 10..300 bytes. */
static bool fill(struct sl_log *log, struct model *m, int n, int64_t base_ts)
{
    for (int i = 0; i < n; i++) {
        int nrec = 1 + (int)(rnd() % 4);
        if (append_one(log, m, nrec, base_ts + m->n * 10, NULL, 10 + rnd() % 290) != SL_ERR_NONE)
            return false;
        if (m->n > 1 && m->b[m->n - 1].base != m->b[m->n - 2].last + 1)
            return false;
    }
    return true;
}

/* ---- tests ------------------------------------------------------------ */

static void test_roundtrip_and_rolls(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK_EQ_INT(sl_log_end_offset(log), 0);
    CHECK_EQ_INT(sl_log_start_offset(log), 0);
    struct sl_log_slice s;
    CHECK_EQ_INT(sl_log_read(log, 0, 100, true, &s), SL_ERR_NONE);
    CHECK_EQ_INT(s.len, 0);
    CHECK(fill(log, m, 300, 1000000));
    CHECK(sl_log_segment_count(log) > 5);
    CHECK_EQ_INT(m->b[0].base, 0);
    CHECK(verify_all(log, m, 0));
    CHECK(verify_timestamps(log, m, 999990, 1000000 + 300 * 10 + 10));
    /* Every segment but the last is at most segment_bytes (or one batch). */
    CHECK(sl_log_size_bytes(log) > 0);
    CHECK_EQ_INT(sl_log_flush(log), SL_ERR_NONE);
    CHECK_EQ_INT(sl_log_flushed_offset(log), sl_log_end_offset(log));
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_kip74_and_ranges(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    c.segment_bytes = 1 << 20;
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK_EQ_INT(append_one(log, m, 3, 1000, NULL, 5000), SL_ERR_NONE); /* ~15 KB */
    CHECK_EQ_INT(append_one(log, m, 1, 1000, NULL, 10), SL_ERR_NONE);
    struct sl_log_slice s;
    /* Larger than max_bytes: whole with min_one, empty without. */
    CHECK_EQ_INT(sl_log_read(log, 1, 100, true, &s), SL_ERR_NONE);
    CHECK_EQ_INT(s.len, (int64_t)m->b[0].len);
    CHECK_EQ_INT(s.pos, 0);
    /* A file region on plain files; decrypted memory on sealed ones. */
    CHECK(SL_TEST_PLAIN_FILES ? s.fd >= 0 && s.mem == NULL && s._ref != NULL
                              : s.fd < 0 && s.mem != NULL && s._ref != NULL);
    sl_log_slice_release(s._ref);
    CHECK_EQ_INT(sl_log_read(log, 1, 100, false, &s), SL_ERR_NONE);
    CHECK_EQ_INT(s.len, 0);
    CHECK(s._ref == NULL);
    /* Both batches fit. */
    CHECK_EQ_INT(sl_log_read(log, 0, 1 << 20, false, &s), SL_ERR_NONE);
    CHECK_EQ_INT(s.len, (int64_t)(m->b[0].len + m->b[1].len));
    sl_log_slice_release(s._ref);
    /* max_bytes exactly the first batch. */
    CHECK_EQ_INT(sl_log_read(log, 0, (int32_t)m->b[0].len, false, &s), SL_ERR_NONE);
    CHECK_EQ_INT(s.len, (int64_t)m->b[0].len);
    sl_log_slice_release(s._ref);
    /* LEO: empty; beyond: out of range; negative: out of range. */
    CHECK_EQ_INT(sl_log_read(log, 4, 100, true, &s), SL_ERR_NONE);
    CHECK_EQ_INT(s.len, 0);
    CHECK_EQ_INT(sl_log_read(log, 5, 100, true, &s), SL_ERR_OFFSET_OUT_OF_RANGE);
    CHECK_EQ_INT(sl_log_read(log, -1, 100, true, &s), SL_ERR_OFFSET_OUT_OF_RANGE);
    CHECK_EQ_INT(sl_log_read(log, 3, -5, true, &s), SL_ERR_NONE); /* negative max: min_one */
    CHECK_EQ_INT(s.len, (int64_t)m->b[1].len);
    sl_log_slice_release(s._ref);
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_timestamps(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    c.segment_bytes = 2048;
    c.index_interval_bytes = 100;
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    /* Timestamps that go up and down, with repeats. */
    for (int i = 0; i < 200; i++) {
        int64_t d[4];
        int nrec = 1 + (int)(rnd() % 4);
        for (int k = 0; k < nrec; k++)
            d[k] = (int64_t)(rnd() % 50);
        int64_t base = 10000 + (int64_t)(rnd() % 600);
        CHECK_EQ_INT(append_one(log, m, nrec, base, d, 20), SL_ERR_NONE);
    }
    CHECK(verify_timestamps(log, m, 9990, 10700));
    /* After a clean reopen (index files), and after rebuilding them. */
    sl_log_unref(log);
    log = open_log(SL_TEST_BASE_OPS, dir, &c, true);
    CHECK(log);
    CHECK(verify_timestamps(log, m, 9990, 10700));
    sl_log_unref(log);
    char p[4096];
    seg_path(p, sizeof(p), dir, 0, ".timeindex");
    unlink(p);
    seg_path(p, sizeof(p), dir, 0, ".index");
    unlink(p);
    log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(verify_timestamps(log, m, 9990, 10700));
    CHECK(verify_all(log, m, 0));
    /* With a start offset in the middle. */
    int64_t lw;
    CHECK_EQ_INT(sl_log_delete_records(log, 77, &lw), SL_ERR_NONE);
    CHECK_EQ_INT(lw, 77);
    CHECK(verify_timestamps(log, m, 9990, 10700));
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_delete_records(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(fill(log, m, 200, 5000));
    int64_t leo = sl_log_end_offset(log), lw;
    int segs = sl_log_segment_count(log);
    CHECK_EQ_INT(sl_log_delete_records(log, leo + 1, &lw), SL_ERR_OFFSET_OUT_OF_RANGE);
    CHECK_EQ_INT(sl_log_delete_records(log, -2, &lw), SL_ERR_OFFSET_OUT_OF_RANGE);
    int64_t mid = leo / 2;
    CHECK_EQ_INT(sl_log_delete_records(log, mid, &lw), SL_ERR_NONE);
    CHECK_EQ_INT(lw, mid);
    CHECK_EQ_INT(sl_log_start_offset(log), mid);
    CHECK(sl_log_segment_count(log) < segs);
    CHECK_EQ_INT(count_files(dir, ".log"), sl_log_segment_count(log));
    struct sl_log_slice s;
    CHECK_EQ_INT(sl_log_read(log, mid - 1, 100, true, &s), SL_ERR_OFFSET_OUT_OF_RANGE);
    CHECK(verify_all(log, m, mid));
    /* Lower than the start: no-op. */
    CHECK_EQ_INT(sl_log_delete_records(log, 3, &lw), SL_ERR_NONE);
    CHECK_EQ_INT(lw, mid);
    /* Survives a crash-style reopen (the checkpoint is durable). */
    sl_log_unref(log);
    log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK_EQ_INT(sl_log_start_offset(log), mid);
    CHECK(verify_all(log, m, mid));
    /* Delete everything (-1 = high watermark): one empty segment at the LEO. */
    CHECK_EQ_INT(sl_log_delete_records(log, -1, &lw), SL_ERR_NONE);
    CHECK_EQ_INT(lw, leo);
    CHECK_EQ_INT(sl_log_segment_count(log), 1);
    CHECK_EQ_INT(sl_log_size_bytes(log), 0);
    CHECK_EQ_INT(sl_log_read(log, leo, 100, true, &s), SL_ERR_NONE);
    CHECK_EQ_INT(s.len, 0);
    int64_t o, t;
    CHECK_EQ_INT(sl_log_max_timestamp(log, &o, &t), SL_ERR_NONE);
    CHECK_EQ_INT(o, -1);
    model_free(m);
    CHECK_EQ_INT(append_one(log, m, 2, 7000, NULL, 10), SL_ERR_NONE);
    CHECK_EQ_INT(m->b[0].base, leo);
    CHECK(verify_all(log, m, leo));
    sl_log_unref(log);
    log = open_log(SL_TEST_BASE_OPS, dir, &c, true);
    CHECK(log);
    CHECK_EQ_INT(sl_log_start_offset(log), leo);
    CHECK(verify_all(log, m, leo));
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_retention_size(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(fill(log, m, 300, sl_now_ms()));
    int64_t size = sl_log_size_bytes(log);
    c.retention_bytes = size / 3;
    sl_log_set_config(log, &c);
    sl_log_retention(log, sl_now_ms());
    int64_t after = sl_log_size_bytes(log), start = sl_log_start_offset(log);
    CHECK(after < size);
    /* Kafka's rule: at least retention_bytes are kept, and dropping one more
     * segment would go below it. */
    CHECK(after >= c.retention_bytes);
    CHECK(after - 4096 - 400 < c.retention_bytes);
    CHECK(start > 0);
    CHECK_EQ_INT(count_files(dir, ".log"), sl_log_segment_count(log));
    CHECK(verify_all(log, m, start));
    /* A second run changes nothing. */
    sl_log_retention(log, sl_now_ms());
    CHECK_EQ_INT(sl_log_start_offset(log), start);
    /* retention_bytes 0: everything but the active segment goes. */
    c.retention_bytes = 0;
    sl_log_set_config(log, &c);
    sl_log_retention(log, sl_now_ms());
    CHECK_EQ_INT(sl_log_segment_count(log), 1);
    CHECK(verify_all(log, m, sl_log_start_offset(log)));
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_retention_time(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    c.retention_ms = 3600 * 1000;
    c.file_delete_delay_ms = 1000;
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    int64_t now = sl_now_ms();
    CHECK(fill(log, m, 100, now - 3 * 3600 * 1000)); /* old */
    int64_t old_leo = sl_log_end_offset(log);
    CHECK(fill(log, m, 100, now)); /* recent */
    sl_log_retention(log, now);
    int64_t start = sl_log_start_offset(log);
    CHECK(start > 0 && start <= old_leo);
    /* Every offset of the old segments whose segment held only old data is
     * gone; a mixed segment stays. */
    CHECK(old_leo - start < 200);
    CHECK(verify_all(log, m, start));
    /* The files wait for file_delete_delay_ms as "*.deleted". */
    CHECK(count_files(dir, ".log.deleted") > 0);
    sl_log_retention(log, now + 500);
    CHECK(count_files(dir, ".log.deleted") > 0);
    sl_log_retention(log, now + 1001);
    CHECK_EQ_INT(count_files(dir, ".deleted"), 0);
    /* Much later everything is expired: the active segment rolls and goes. */
    sl_log_retention(log, now + 5 * 3600 * 1000);
    CHECK_EQ_INT(sl_log_start_offset(log), sl_log_end_offset(log));
    CHECK_EQ_INT(sl_log_segment_count(log), 1);
    CHECK_EQ_INT(sl_log_size_bytes(log), 0);
    sl_log_unref(log);
    CHECK_EQ_INT(count_files(dir, ".deleted"), 0); /* close unlinks pending ones */

    /* Time-based roll. */
    model_free(m);
    c.retention_ms = -1;
    c.segment_ms = 1000;
    c.segment_bytes = 1 << 20;
    log = open_log(SL_TEST_BASE_OPS, dir, &c, true);
    CHECK(log);
    int64_t leo = sl_log_end_offset(log);
    CHECK(fill(log, m, 5, sl_now_ms()));
    CHECK_EQ_INT(sl_log_segment_count(log), 1);
    sl_log_retention(log, sl_now_ms() + 2000);
    CHECK_EQ_INT(sl_log_segment_count(log), 2);
    CHECK(verify_all(log, m, leo));
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_reopen_clean(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(fill(log, m, 150, 100));
    int segs = sl_log_segment_count(log);
    sl_log_unref(log);
    CHECK_EQ_INT(count_files(dir, ".index"), segs);
    CHECK_EQ_INT(count_files(dir, ".timeindex"), segs);
    for (int round = 0; round < 3; round++) {
        log = open_log(SL_TEST_BASE_OPS, dir, &c, round != 1);
        CHECK(log);
        CHECK_EQ_INT(sl_log_segment_count(log), segs);
        CHECK(verify_all(log, m, 0));
        CHECK(verify_timestamps(log, m, 90, 100 + 150 * 10 + 10));
        CHECK(fill(log, m, 20, 100)); /* appends continue at the right offset */
        segs = sl_log_segment_count(log);
        sl_log_unref(log);
    }
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

/* Crash: a child process appends (and flushes some of it) and exits
 * without closing; the parent reopens with clean = false. */
static void test_reopen_after_crash(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    c.checkpoint_interval_ms = 1000000; /* keep the recovery point stale */
    struct model *m = calloc(1, sizeof(*m));
    uint32_t seed = rng_state;
    pid_t pid = fork();
    if (pid == 0) {
        struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
        if (!log || !fill(log, m, 120, 100) || sl_log_flush(log) != SL_ERR_NONE ||
            !fill(log, m, 60, 100))
            _exit(1);
        _exit(0); /* no close: no final flush, no index files of the active segment */
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Replay the child's appends into the model (same random sequence). */
    rng_state = seed;
    struct sl_log_config c2 = c;
    char dir2[4096];
    snprintf(dir2, sizeof(dir2), "%s/replay", tmp);
    struct sl_log *replay = open_log(SL_TEST_BASE_OPS, dir2, &c2, false);
    CHECK(replay);
    CHECK(fill(replay, m, 180, 100));
    sl_log_unref(replay);

    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(verify_all(log, m, 0));
    CHECK(verify_timestamps(log, m, 90, 100 + 180 * 10 + 10));
    CHECK_EQ_INT(sl_log_flushed_offset(log), sl_log_end_offset(log));
    CHECK(fill(log, m, 10, 100));
    CHECK(verify_all(log, m, 0));
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

/* Builds a closed log in `dir` with the model in m. */
static bool build_reference(const char *dir, struct model *m, const struct sl_log_config *c,
                            int batches)
{
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, c, false);
    if (!log)
        return false;
    bool ok = fill(log, m, batches, 100);
    sl_log_unref(log);
    return ok;
}

/* Index of the first model batch of segment `base` that does not end at or
 * before byte position `cut` (batches are laid out in order from the
 * segment's first batch): the first one a truncation to `cut` tears, or the
 * one holding byte `cut` when that byte is damaged. */
static int first_damaged(const struct model *m, int64_t base, int64_t cut)
{
    int64_t pos = 0;
    for (int i = 0; i < m->n; i++) {
        if (m->b[i].base < base)
            continue;
        if (pos + (int64_t)m->b[i].len > cut)
            return i;
        pos += (int64_t)m->b[i].len;
    }
    return m->n;
}

static void test_torn_tail(void)
{
    char *tmp = make_tmpdir(), ref[4096], dir[4096];
    snprintf(ref, sizeof(ref), "%s/ref", tmp);
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m)), *mm = calloc(1, sizeof(*mm));
    CHECK(build_reference(ref, m, &c, 120));
    /* The last segment: its base is the base of the first batch after the
     * last roll; find it from the files. */
    int64_t last_base = 0;
    for (int i = 0; i < m->n; i++) {
        char p[4096];
        seg_path(p, sizeof(p), ref, m->b[i].base, ".log");
        if (file_size(p) >= 0)
            last_base = m->b[i].base;
    }
    char lp[4096];
    seg_path(lp, sizeof(lp), dir, last_base, ".log");
    char rp[4096];
    seg_path(rp, sizeof(rp), ref, last_base, ".log");
    int64_t size = file_size(rp);
    CHECK(size > 0);

    for (int iter = 0; iter < 120; iter++) {
        copy_dir(ref, dir);
        int64_t cut;
        if (iter % 2 == 0) {
            /* Truncate at a random point. */
            cut = (int64_t)(rnd() % (uint32_t)size);
            CHECK(truncate(lp, cut) == 0);
        } else {
            /* Corrupt one byte (not the leader epoch, which no check covers)
             * at a random point, and maybe a few more after it. */
            int fd = open(lp, O_RDWR);
            CHECK(fd >= 0);
            int64_t at;
            int k;
            do {
                at = (int64_t)(rnd() % (uint32_t)size);
                /* offset of `at` inside its batch */
                int64_t pos = 0;
                k = -1;
                for (int i = 0; i < m->n; i++) {
                    if (m->b[i].base < last_base)
                        continue;
                    if (at < pos + (int64_t)m->b[i].len) {
                        k = (int)(at - pos);
                        break;
                    }
                    pos += (int64_t)m->b[i].len;
                }
            } while (k >= 12 && k < 16);
            uint8_t byte;
            CHECK(pread(fd, &byte, 1, at) == 1);
            byte ^= (uint8_t)(1 + rnd() % 255);
            CHECK(pwrite(fd, &byte, 1, at) == 1);
            for (int extra = (int)(rnd() % 3); extra > 0; extra--) {
                int64_t at2 = at + (int64_t)(rnd() % (uint32_t)(size - at));
                byte = (uint8_t)rnd();
                CHECK(pwrite(fd, &byte, 1, at2) == 1);
            }
            close(fd);
            cut = at; /* the batch holding byte `at` ends after it: damaged */
        }
        int keep = first_damaged(m, last_base, cut);
        /* A truncation is found by clean and unclean opens alike; damage in
         * the middle of a segment only by an unclean one (a clean open
         * validates each segment from its last index entry on). */
        bool clean = iter % 2 == 0 && iter % 4 == 0;
        struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, clean);
        CHECK(log);
        model_truncate(mm, 0);
        for (int i = 0; i < keep; i++) {
            mm->b[i] = m->b[i];
            mm->b[i].bytes = malloc(m->b[i].len);
            memcpy(mm->b[i].bytes, m->b[i].bytes, m->b[i].len);
        }
        mm->n = keep;
        int64_t expect_leo = keep ? m->b[keep - 1].last + 1 : 0;
        if (sl_log_end_offset(log) != expect_leo)
            fprintf(stderr, "  iter %d: cut %" PRId64 " keep %d\n", iter, cut, keep);
        CHECK_EQ_INT(sl_log_end_offset(log), expect_leo);
        CHECK(verify_all(log, mm, 0));
        /* New appends continue at the right offset, and survive a reopen. */
        CHECK(fill(log, mm, 3, 100));
        CHECK_EQ_INT(mm->b[keep].base, expect_leo);
        sl_log_unref(log);
        log = open_log(SL_TEST_BASE_OPS, dir, &c, true);
        CHECK(log);
        CHECK(verify_all(log, mm, 0));
        sl_log_unref(log);
    }
    model_free(m);
    model_free(mm);
    free(m);
    free(mm);
    rm_rf(tmp);
    free(tmp);
}

/* Damage in a middle segment: everything from the damaged batch on goes,
 * later segments included. */
static void test_corrupt_middle_segment(void)
{
    char *tmp = make_tmpdir(), ref[4096], dir[4096];
    snprintf(ref, sizeof(ref), "%s/ref", tmp);
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m)), *mm = calloc(1, sizeof(*mm));
    CHECK(build_reference(ref, m, &c, 150));
    /* Pick the segment starting at the 40th batch or after. */
    int64_t base = -1;
    for (int i = 40; i < m->n && base < 0; i++) {
        char p[4096];
        seg_path(p, sizeof(p), ref, m->b[i].base, ".log");
        if (file_size(p) >= 0)
            base = m->b[i].base;
    }
    CHECK(base > 0);
    for (int iter = 0; iter < 10; iter++) {
        copy_dir(ref, dir);
        char p[4096];
        seg_path(p, sizeof(p), dir, base, ".log");
        int64_t size = file_size(p);
        int64_t at = 61 + (int64_t)(rnd() % (uint32_t)(size - 61));
        int fd = open(p, O_RDWR);
        uint8_t byte;
        CHECK(pread(fd, &byte, 1, at) == 1);
        byte ^= 0x55;
        CHECK(pwrite(fd, &byte, 1, at) == 1);
        close(fd);
        int keep = first_damaged(m, base, at);
        /* Leader epoch bytes are not covered: only check when outside. */
        struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
        CHECK(log);
        int64_t leo = sl_log_end_offset(log);
        int64_t expect = keep ? m->b[keep - 1].last + 1 : 0;
        if (leo == m->b[m->n - 1].last + 1) {
            /* the byte hit a leader epoch field: nothing detected */
            sl_log_unref(log);
            continue;
        }
        CHECK_EQ_INT(leo, expect);
        model_truncate(mm, 0);
        for (int i = 0; i < keep; i++) {
            mm->b[i] = m->b[i];
            mm->b[i].bytes = malloc(m->b[i].len);
            memcpy(mm->b[i].bytes, m->b[i].bytes, m->b[i].len);
        }
        mm->n = keep;
        CHECK(verify_all(log, mm, 0));
        /* The segments after the damaged one are gone. */
        CHECK_EQ_INT(count_files(dir, ".log"), sl_log_segment_count(log));
        CHECK(fill(log, mm, 2, 100));
        CHECK_EQ_INT(mm->b[keep].base, expect);
        sl_log_unref(log);
    }
    model_free(m);
    model_free(mm);
    free(m);
    free(mm);
    rm_rf(tmp);
    free(tmp);
}

/* Random damage to the index files: a clean open must still produce a
 * correct log (sanity checks plus tail validation). */
static void test_damaged_indexes(void)
{
    char *tmp = make_tmpdir(), ref[4096], dir[4096];
    /* The reference keeps the partition directory's name: a sealed file is
     * bound to "<partition dir>/<file name>" and fails anywhere else. */
    snprintf(ref, sizeof(ref), "%s/ref", tmp);
    CHECK(mkdir(ref, 0700) == 0);
    snprintf(ref, sizeof(ref), "%s/ref/topic-0", tmp);
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    c.index_interval_bytes = 100;
    struct model *m = calloc(1, sizeof(*m));
    CHECK(build_reference(ref, m, &c, 120));
    for (int iter = 0; iter < 40; iter++) {
        copy_dir(ref, dir);
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            size_t l = strlen(de->d_name);
            bool idx = (l > 6 && strcmp(de->d_name + l - 6, ".index") == 0) ||
                       (l > 10 && strcmp(de->d_name + l - 10, ".timeindex") == 0);
            if (!idx || rnd() % 2)
                continue;
            char p[4096];
            if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
                continue;
            int64_t size = file_size(p);
            int fd = open(p, O_RDWR);
            switch (rnd() % 4) {
            case 0: /* truncate */
                if (ftruncate(fd, size ? (off_t)(rnd() % (uint32_t)size) : 0) != 0)
                    break;
                break;
            case 1: /* garbage bytes */
                for (int k = 0; k < 4 && size > 0; k++) {
                    uint8_t b = (uint8_t)rnd();
                    if (pwrite(fd, &b, 1, (off_t)(rnd() % (uint32_t)size)) != 1)
                        break;
                }
                break;
            case 2: /* zeros appended */
            {
                uint8_t z[24] = {0};
                if (pwrite(fd, z, sizeof(z), size) != (ssize_t)sizeof(z))
                    break;
                break;
            }
            default: /* removed */
                unlink(p);
            }
            if (fd >= 0)
                close(fd);
        }
        if (d)
            closedir(d);
        struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, true);
        CHECK(log);
        CHECK(verify_all(log, m, 0));
        CHECK(verify_timestamps(log, m, 90, 100 + 120 * 10 + 10));
        sl_log_unref(log);
    }
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_fault_injection(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m));
    struct sl_fileops_fault *ff = sl_fileops_fault_new(SL_TEST_BASE_OPS);
    const struct sl_fileops *ops = sl_fileops_fault_ops(ff);
    enum sl_fault_mode modes[] = {SL_FAULT_EIO, SL_FAULT_SHORT, SL_FAULT_ENOSPC};

    for (int k = 0; k < 3; k++) {
        /* A failed data write. */
        struct sl_log *log = open_log(ops, dir, &c, false);
        CHECK(log);
        CHECK(fill(log, m, 10, 100));
        sl_fileops_fault_filter(ff, NULL);
        sl_fileops_fault_arm(ff, SL_FAULT_OP_WRITE, 1, modes[k], false);
        CHECK_EQ_INT(append_one(log, NULL, 2, 100, NULL, 50), SL_ERR_KAFKA_STORAGE_ERROR);
        CHECK(sl_log_in_error(log));
        sl_fileops_fault_disarm(ff);
        /* Sticky: later appends, flushes and reads fail too. */
        CHECK_EQ_INT(append_one(log, NULL, 2, 100, NULL, 50), SL_ERR_KAFKA_STORAGE_ERROR);
        CHECK_EQ_INT(sl_log_flush(log), SL_ERR_KAFKA_STORAGE_ERROR);
        struct sl_log_slice s;
        CHECK_EQ_INT(sl_log_read(log, 0, 100, true, &s), SL_ERR_KAFKA_STORAGE_ERROR);
        sl_log_unref(log);
        /* Reopen: recovery returns to OPEN with the data before the failure. */
        log = open_log(ops, dir, &c, false);
        CHECK(log);
        CHECK(!sl_log_in_error(log));
        CHECK(verify_all(log, m, 0));
        CHECK(fill(log, m, 3, 100));
        sl_log_unref(log);
    }

    /* A failed fdatasync. */
    struct sl_log *log = open_log(ops, dir, &c, false);
    CHECK(log);
    CHECK(fill(log, m, 5, 100));
    sl_fileops_fault_arm(ff, SL_FAULT_OP_SYNC, 1, SL_FAULT_EIO, false);
    CHECK_EQ_INT(sl_log_flush(log), SL_ERR_KAFKA_STORAGE_ERROR);
    sl_fileops_fault_disarm(ff);
    CHECK(sl_log_in_error(log));
    CHECK(sl_log_flushed_offset(log) < sl_log_end_offset(log));
    CHECK_EQ_INT(append_one(log, NULL, 1, 100, NULL, 5), SL_ERR_KAFKA_STORAGE_ERROR);
    CHECK_EQ_INT(sl_log_flush(log), SL_ERR_KAFKA_STORAGE_ERROR);
    sl_log_unref(log);
    log = open_log(ops, dir, &c, false);
    CHECK(log);
    CHECK(verify_all(log, m, 0));

    /* A failed roll (cannot create the next segment). */
    sl_fileops_fault_arm(ff, SL_FAULT_OP_OPEN, 1, SL_FAULT_ENOSPC, true);
    sl_err_t rc = SL_ERR_NONE;
    for (int i = 0; i < 100 && rc == SL_ERR_NONE; i++)
        rc = append_one(log, m, 1, 100, NULL, 200);
    sl_fileops_fault_disarm(ff);
    CHECK_EQ_INT(rc, SL_ERR_KAFKA_STORAGE_ERROR);
    CHECK(sl_log_in_error(log));
    sl_log_unref(log);
    log = open_log(ops, dir, &c, false);
    CHECK(log);
    CHECK(verify_all(log, m, 0));

    /* A failed checkpoint write (DeleteRecords must not report success). */
    sl_fileops_fault_filter(ff, ".checkpoint");
    sl_fileops_fault_arm(ff, SL_FAULT_OP_WRITE, 1, SL_FAULT_EIO, false);
    int64_t lw;
    CHECK_EQ_INT(sl_log_delete_records(log, 3, &lw), SL_ERR_KAFKA_STORAGE_ERROR);
    sl_fileops_fault_disarm(ff);
    sl_fileops_fault_filter(ff, NULL);
    CHECK(sl_log_in_error(log));
    CHECK(sl_fileops_fault_injected(ff) >= 6);
    sl_log_unref(log);

    /* A dead disk at open: a clear error, no crash. */
    sl_fileops_fault_arm(ff, SL_FAULT_OP_SYNC, 1, SL_FAULT_EIO, true);
    rm_rf(dir);
    char err[256];
    struct sl_log *bad = NULL;
    CHECK_EQ_INT(sl_log_open(ops, dir, &c, false, &bad, err, sizeof(err)), SL_ERR__IO);
    CHECK(bad == NULL && err[0] != '\0');
    sl_fileops_fault_disarm(ff);

    sl_fileops_fault_free(ff);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

/* ---- flusher ---------------------------------------------------------- */

struct flush_ctx {
    struct sl_log *log;
    struct sl_fileops_fault *ff;
    struct sl_flusher *fl;
    _Atomic int done, bad, errors;
};

struct flush_arg {
    struct flush_ctx *ctx;
    int64_t end;
};

static void flush_cb(void *arg, int err)
{
    struct flush_arg *a = arg;
    if (err)
        atomic_fetch_add(&a->ctx->errors, 1);
    else if (sl_log_flushed_offset(a->ctx->log) < a->end ||
             sl_fileops_fault_count(a->ctx->ff, SL_FAULT_OP_SYNC) == 0)
        atomic_fetch_add(&a->ctx->bad, 1); /* acknowledged before durable */
    atomic_fetch_add(&a->ctx->done, 1);
    free(a);
}

#define FL_THREADS 6
#define FL_PER_THREAD 150

static void *flush_producer(void *arg)
{
    struct flush_ctx *ctx = arg;
    uint8_t buf[2048];
    for (int i = 0; i < FL_PER_THREAD; i++) {
        size_t len = make_batch(buf, 2, 100, NULL, 50);
        struct sl_log_append_info ai;
        if (sl_log_append(ctx->log, buf, len, 0, &ai) != SL_ERR_NONE) {
            atomic_fetch_add(&ctx->bad, 1);
            atomic_fetch_add(&ctx->done, 1);
            continue;
        }
        struct flush_arg *a = malloc(sizeof(*a));
        a->ctx = ctx;
        a->end = ai.last_offset + 1;
        sl_flusher_request(ctx->fl, ctx->log, a->end, flush_cb, a);
    }
    return NULL;
}

static void test_flusher(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    c.segment_bytes = 64 * 1024;
    struct flush_ctx ctx = {0};
    ctx.ff = sl_fileops_fault_new(SL_TEST_BASE_OPS);
    ctx.log = open_log(sl_fileops_fault_ops(ctx.ff), dir, &c, false);
    CHECK(ctx.log);
    sl_fileops_fault_filter(ctx.ff, ".log");
    CHECK_EQ_INT(sl_flusher_start(&ctx.fl), SL_ERR_NONE);
    pthread_t th[FL_THREADS];
    for (int i = 0; i < FL_THREADS; i++)
        pthread_create(&th[i], NULL, flush_producer, &ctx);
    for (int i = 0; i < FL_THREADS; i++)
        pthread_join(th[i], NULL);
    sl_flusher_stop(ctx.fl); /* completes what is pending */
    CHECK_EQ_INT(atomic_load(&ctx.done), FL_THREADS * FL_PER_THREAD);
    CHECK_EQ_INT(atomic_load(&ctx.bad), 0);
    CHECK_EQ_INT(atomic_load(&ctx.errors), 0);
    CHECK_EQ_INT(sl_log_end_offset(ctx.log), FL_THREADS * FL_PER_THREAD * 2);
    CHECK_EQ_INT(sl_log_flushed_offset(ctx.log), sl_log_end_offset(ctx.log));
    /* Group commit: at most one fdatasync of a .log file per request, and
     * usually far fewer (not asserted: it depends on the disk's speed). */
    int64_t syncs = sl_fileops_fault_count(ctx.ff, SL_FAULT_OP_SYNC);
    CHECK(syncs > 0 && syncs <= FL_THREADS * FL_PER_THREAD + 1);
    fprintf(stderr, "  group commit: %d requests, %" PRId64 " fdatasyncs\n",
            FL_THREADS * FL_PER_THREAD, syncs);
    sl_log_unref(ctx.log);

    /* A failing fsync fails the requests (and the log). */
    ctx.log = open_log(sl_fileops_fault_ops(ctx.ff), dir, &c, true);
    CHECK(ctx.log);
    atomic_store(&ctx.done, 0);
    CHECK_EQ_INT(sl_flusher_start(&ctx.fl), SL_ERR_NONE);
    sl_fileops_fault_arm(ctx.ff, SL_FAULT_OP_SYNC, 1, SL_FAULT_EIO, false);
    flush_producer(&ctx);
    sl_flusher_stop(ctx.fl);
    CHECK_EQ_INT(atomic_load(&ctx.done), FL_PER_THREAD);
    CHECK(atomic_load(&ctx.errors) > 0);
    CHECK(sl_log_in_error(ctx.log));
    sl_fileops_fault_disarm(ctx.ff);
    sl_log_unref(ctx.log);
    sl_fileops_fault_free(ctx.ff);
    rm_rf(tmp);
    free(tmp);
}

/* ---- a file layer without a usable fd (like the encrypting one) -------- */

static int no_raw_fd(struct sl_file *f)
{
    (void)f;
    return -1;
}

static void test_mem_slices(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_fileops ops = sl_fileops_posix;
    ops.name = "opaque";
    ops.raw_fd = no_raw_fd;
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(&ops, dir, &c, false);
    CHECK(log);
    CHECK(fill(log, m, 60, 100));
    struct sl_log_slice s;
    CHECK_EQ_INT(sl_log_read(log, 0, 100000, true, &s), SL_ERR_NONE);
    CHECK(s.fd == -1 && s.mem != NULL && s.len > 0);
    CHECK(memcmp(s.mem, m->b[0].bytes, m->b[0].len) == 0);
    sl_log_slice_release(s._ref);
    CHECK(verify_all(log, m, 0));
    sl_log_unref(log);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

/* ---- concurrency: writers, readers, retention and flushes at once ------- */

struct conc {
    struct sl_log *log;
    _Atomic bool stop;
    _Atomic int failures;
    _Atomic int64_t reads;
};

static void *conc_writer(void *arg)
{
    struct conc *cc = arg;
    uint8_t buf[4096];
    for (int i = 0; i < 3000; i++) {
        size_t len = make_batch(buf, 1 + i % 3, 100 + i, NULL, (size_t)(20 + i % 200));
        if (sl_log_append(cc->log, buf, len, 0, NULL) != SL_ERR_NONE)
            atomic_fetch_add(&cc->failures, 1);
    }
    return NULL;
}

static void *conc_reader(void *arg)
{
    struct conc *cc = arg;
    static _Thread_local uint8_t buf[1 << 16];
    uint32_t seed = (uint32_t)(uintptr_t)&seed;
    while (!atomic_load(&cc->stop)) {
        seed = seed * 1103515245u + 12345u;
        int64_t start = sl_log_start_offset(cc->log), leo = sl_log_end_offset(cc->log);
        if (leo == start)
            continue;
        int64_t off = start + (int64_t)(seed >> 8) % (leo - start);
        struct sl_log_slice s;
        sl_err_t rc = sl_log_read(cc->log, off, (int32_t)(seed % 20000), true, &s);
        if (rc == SL_ERR_OFFSET_OUT_OF_RANGE && off < sl_log_start_offset(cc->log))
            continue; /* retention moved the start meanwhile */
        if (rc != SL_ERR_NONE || s.len <= 0 || !slice_bytes(&s, buf)) {
            atomic_fetch_add(&cc->failures, 1);
            sl_log_slice_release(s._ref);
            continue;
        }
        /* Whole valid batches, the first containing off. */
        size_t at = 0;
        bool first = true;
        while (at < (size_t)s.len) {
            struct sl_batch_info info;
            if (sl_batch_parse(buf + at, (size_t)s.len - at, &info) != SL_ERR_NONE ||
                (first && (info.base_offset > off ||
                           info.base_offset + info.last_offset_delta < off))) {
                atomic_fetch_add(&cc->failures, 1);
                break;
            }
            first = false;
            at += (size_t)info.batch_len;
        }
        sl_log_slice_release(s._ref);
        atomic_fetch_add(&cc->reads, 1);
    }
    return NULL;
}

static void *conc_janitor(void *arg)
{
    struct conc *cc = arg;
    while (!atomic_load(&cc->stop)) {
        if (sl_log_flush(cc->log) != SL_ERR_NONE)
            atomic_fetch_add(&cc->failures, 1);
        sl_log_retention(cc->log, sl_now_ms());
        int64_t o, t;
        if (sl_log_offset_for_timestamp(cc->log, 500, &o, &t) != SL_ERR_NONE ||
            sl_log_max_timestamp(cc->log, &o, &t) != SL_ERR_NONE)
            atomic_fetch_add(&cc->failures, 1);
        int64_t leo = sl_log_end_offset(cc->log), lw;
        if (leo > 2000 && sl_log_delete_records(cc->log, leo - 1500, &lw) != SL_ERR_NONE)
            atomic_fetch_add(&cc->failures, 1);
    }
    return NULL;
}

static void test_concurrency(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    c.segment_bytes = 16384;
    c.retention_bytes = 200000;
    struct conc cc = {0};
    cc.log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(cc.log);
    pthread_t w[2], r[3], j;
    for (int i = 0; i < 2; i++)
        pthread_create(&w[i], NULL, conc_writer, &cc);
    for (int i = 0; i < 3; i++)
        pthread_create(&r[i], NULL, conc_reader, &cc);
    pthread_create(&j, NULL, conc_janitor, &cc);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);
    atomic_store(&cc.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(r[i], NULL);
    pthread_join(j, NULL);
    CHECK_EQ_INT(atomic_load(&cc.failures), 0);
    CHECK(atomic_load(&cc.reads) > 0);
    int64_t leo = sl_log_end_offset(cc.log);
    CHECK_EQ_INT(leo, 2 * (1000 * 1 + 1000 * 2 + 1000 * 3));
    sl_log_unref(cc.log);
    /* Everything left is intact after a clean reopen. */
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, true);
    CHECK(log);
    CHECK_EQ_INT(sl_log_end_offset(log), leo);
    sl_log_unref(log);
    rm_rf(tmp);
    free(tmp);
}

static void test_mark_deleted(void)
{
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log_config c;
    base_config(&c);
    struct model *m = calloc(1, sizeof(*m));
    struct sl_log *log = open_log(SL_TEST_BASE_OPS, dir, &c, false);
    CHECK(log);
    CHECK(fill(log, m, 40, 100));
    struct sl_log_slice s;
    CHECK_EQ_INT(sl_log_read(log, 0, 1000, true, &s), SL_ERR_NONE);
    sl_log_mark_deleted(log);
    CHECK_EQ_INT(append_one(log, NULL, 1, 100, NULL, 5), SL_ERR_KAFKA_STORAGE_ERROR);
    sl_log_unref(log);
    struct stat st;
    CHECK(stat(dir, &st) != 0); /* the directory is gone */
    /* The slice taken before still reads (its file is open). */
    uint8_t buf[4096];
    CHECK(slice_bytes(&s, buf));
    CHECK(memcmp(buf, m->b[0].bytes, m->b[0].len) == 0);
    sl_log_slice_release(s._ref);
    model_free(m);
    free(m);
    rm_rf(tmp);
    free(tmp);
}

static void test_config_check(void)
{
    struct sl_log_config c;
    char err[256];
    sl_log_config_defaults(&c);
    CHECK_EQ_INT(sl_log_config_check(&c, err, sizeof(err)), SL_ERR_NONE);
    c.segment_bytes = 10;
    CHECK_EQ_INT(sl_log_config_check(&c, err, sizeof(err)), SL_ERR__INVAL);
    CHECK(strstr(err, "segment.bytes") != NULL);
    sl_log_config_defaults(&c);
    c.retention_ms = -2; /* any negative: unlimited, as in Kafka */
    c.retention_bytes = -7;
    c.segment_index_bytes = 4; /* Kafka's minimum */
    CHECK_EQ_INT(sl_log_config_check(&c, err, sizeof(err)), SL_ERR_NONE);
    c.segment_index_bytes = 3;
    CHECK_EQ_INT(sl_log_config_check(&c, err, sizeof(err)), SL_ERR__INVAL);
    char *tmp = make_tmpdir(), dir[4096];
    part_dir(dir, sizeof(dir), tmp);
    struct sl_log *log = NULL;
    CHECK_EQ_INT(sl_log_open(&sl_fileops_posix, dir, &c, false, &log, err, sizeof(err)),
                 SL_ERR__INVAL);
    CHECK(log == NULL);
    rm_rf(tmp);
    free(tmp);
}

int main(void)
{
    sl_log_min_level = SL_LOG_ERROR + 1; /* recovery warnings are expected here */
    TEST_RUN(test_config_check);
    TEST_RUN(test_roundtrip_and_rolls);
    TEST_RUN(test_kip74_and_ranges);
    TEST_RUN(test_timestamps);
    TEST_RUN(test_delete_records);
    TEST_RUN(test_retention_size);
    TEST_RUN(test_retention_time);
    TEST_RUN(test_reopen_clean);
    TEST_RUN(test_reopen_after_crash);
#ifdef SL_TEST_EXTRA
    SL_TEST_EXTRA();
#endif
    if (SL_TEST_PLAIN_FILES) {
        TEST_RUN(test_torn_tail);
        TEST_RUN(test_corrupt_middle_segment);
    }
    TEST_RUN(test_damaged_indexes);
    TEST_RUN(test_fault_injection);
    TEST_RUN(test_flusher);
    TEST_RUN(test_mem_slices);
    TEST_RUN(test_concurrency);
    TEST_RUN(test_mark_deleted);
    TEST_REPORT();
}
