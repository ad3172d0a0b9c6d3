/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the idempotent-producer state (src/storage/producer_state.c):
 * every rule of the sequence check (duplicates among the last five batches,
 * gaps, sequence wrap, epochs), and persistence: the state after a clean
 * close (snapshot), after a crash (rebuilt from the log), and with a damaged
 * snapshot or one ahead of a truncated log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/crc32c.h"
#include "storage/batch.h"
#include "storage/fileops.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "test_help.h"

#ifndef SL_TEST_BASE_OPS
#define SL_TEST_BASE_OPS (&sl_fileops_posix)
#endif

static char root[256];

/* A one-record batch of producer pid/epoch with sequences
 * [seq, seq + n - 1] (n records). */
static size_t make_batch(uint8_t *b, int64_t pid, int16_t epoch, int32_t seq, int n)
{
    size_t pos = SL_BATCH_HEADER_SIZE;
    for (int i = 0; i < n; i++) {
        /* record: len, attrs 0, ts delta 0, offset delta i, key -1, value 1 byte, 0 headers */
        uint8_t rec[8] = {0, 0, (uint8_t)(i * 2), 1, 2, 'v', 0};
        b[pos++] = 7 * 2; /* zig-zag varint 7 */
        memcpy(b + pos, rec, 7);
        pos += 7;
    }
    memset(b, 0, SL_BATCH_HEADER_SIZE);
    sl_put_be32(b + 8, (uint32_t)(pos - 12));
    sl_put_be32(b + 12, (uint32_t)-1);
    b[16] = 2;
    sl_put_be32(b + 23, (uint32_t)(n - 1));
    int64_t now = sl_now_ms(); /* producers silent for a day are forgotten */
    sl_put_be64(b + 27, (uint64_t)now);
    sl_put_be64(b + 35, (uint64_t)now);
    sl_put_be64(b + 43, (uint64_t)pid);
    sl_put_be16(b + 51, (uint16_t)epoch);
    sl_put_be32(b + 53, (uint32_t)seq);
    sl_put_be32(b + 57, (uint32_t)n);
    sl_put_be32(b + 17, sl_crc32c(0, b + 21, pos - 21));
    return pos;
}

static struct sl_log *open_log(const char *name, bool clean)
{
    char dir[512], err[256];
    snprintf(dir, sizeof(dir), "%s/%s", root, name);
    struct sl_log_config c;
    sl_log_config_defaults(&c);
    struct sl_log *log = NULL;
    if (sl_log_open(SL_TEST_BASE_OPS, dir, &c, clean, &log, err, sizeof(err)) != SL_ERR_NONE)
        return NULL;
    if (sl_pstate_attach(log, err, sizeof(err)) != SL_ERR_NONE) {
        sl_log_unref(log);
        return NULL;
    }
    return log;
}

/* Check + append + record, as the produce path does. Returns the Kafka code;
 * *off gets the base offset (the original one for a duplicate). */
static sl_err_t produce(struct sl_log *log, int64_t pid, int16_t epoch, int32_t seq, int n,
                        int64_t *off)
{
    uint8_t b[512];
    size_t len = make_batch(b, pid, epoch, seq, n);
    struct sl_batch_info bi;
    sl_err_t rc = sl_batch_validate_produce(b, len, 1 << 20, &bi);
    if (rc != SL_ERR_NONE)
        return rc;
    struct sl_pstate *ps = sl_pstate_of(log);
    int64_t dup_base = -1, dup_last = -1;
    sl_pstate_lock(ps);
    rc = sl_pstate_check(ps, &bi, &dup_base, &dup_last);
    if (rc == SL_ERR_NONE) {
        struct sl_log_append_info ai;
        rc = sl_log_append(log, b, len, 0, &ai);
        if (rc == SL_ERR_NONE) {
            sl_pstate_record(ps, &bi, ai.base_offset, sl_now_ms());
            *off = ai.base_offset;
        }
    } else if (rc == SL_ERR_DUPLICATE_SEQUENCE_NUMBER) {
        *off = dup_base;
        rc = SL_ERR_NONE;
    }
    sl_pstate_unlock(ps);
    return rc;
}

static void test_sequence_rules(void)
{
    struct sl_log *log = open_log("rules", true);
    CHECK(log != NULL);
    int64_t off = -1;
    /* An unknown producer may start anywhere (KIP-360). */
    CHECK_EQ_INT(produce(log, 7, 0, 100, 2, &off), SL_ERR_NONE);
    CHECK_EQ_INT(off, 0);
    CHECK_EQ_INT(produce(log, 7, 0, 102, 1, &off), SL_ERR_NONE);
    CHECK_EQ_INT(off, 2);
    /* Duplicates of the last batches: original offsets, nothing written. */
    CHECK_EQ_INT(produce(log, 7, 0, 100, 2, &off), SL_ERR_NONE);
    CHECK_EQ_INT(off, 0);
    CHECK_EQ_INT(sl_log_end_offset(log), 3);
    /* A gap, and an overlap that is not a whole earlier batch. */
    CHECK_EQ_INT(produce(log, 7, 0, 104, 1, &off), SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CHECK_EQ_INT(produce(log, 7, 0, 101, 2, &off), SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* Only the last five batches are remembered. */
    for (int32_t s = 103; s < 109; s++)
        CHECK_EQ_INT(produce(log, 7, 0, s, 1, &off), SL_ERR_NONE);
    CHECK_EQ_INT(produce(log, 7, 0, 103, 1, &off), SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CHECK_EQ_INT(produce(log, 7, 0, 104, 1, &off), SL_ERR_NONE); /* still among the last five */
    CHECK_EQ_INT(off, 4);
    /* A new epoch must start at 0; afterwards the old epoch is fenced. */
    CHECK_EQ_INT(produce(log, 7, 1, 5, 1, &off), SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CHECK_EQ_INT(produce(log, 7, 1, 0, 1, &off), SL_ERR_NONE);
    CHECK_EQ_INT(produce(log, 7, 0, 109, 1, &off), SL_ERR_INVALID_PRODUCER_EPOCH);
    /* Producers are independent. */
    CHECK_EQ_INT(produce(log, 8, 0, 0, 1, &off), SL_ERR_NONE);
    CHECK_EQ_INT(sl_pstate_count(sl_pstate_of(log)), 2);
    sl_log_unref(log);
}

static void test_sequence_wraps(void)
{
    struct sl_log *log = open_log("wrap", true);
    CHECK(log != NULL);
    int64_t off;
    CHECK_EQ_INT(produce(log, 9, 0, INT32_MAX - 1, 2, &off), SL_ERR_NONE);
    CHECK_EQ_INT(produce(log, 9, 0, 0, 1, &off), SL_ERR_NONE); /* after INT32_MAX comes 0 */
    CHECK_EQ_INT(produce(log, 9, 0, 2, 1, &off), SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    sl_log_unref(log);
}

static void test_state_survives_clean_close_and_crash(void)
{
    struct sl_log *log = open_log("persist", true);
    CHECK(log != NULL);
    int64_t off;
    for (int32_t s = 0; s < 20; s += 2)
        CHECK_EQ_INT(produce(log, 3, 2, s, 2, &off), SL_ERR_NONE);
    sl_log_unref(log); /* clean close: snapshot written */
    char snap[512];
    snprintf(snap, sizeof(snap), "%s/persist/%s", root, SL_PSTATE_SNAPSHOT_NAME);
    CHECK(access(snap, F_OK) == 0);

    log = open_log("persist", true);
    CHECK(log != NULL);
    CHECK_EQ_INT(produce(log, 3, 2, 18, 2, &off), SL_ERR_NONE); /* a retry */
    CHECK_EQ_INT(off, 18);
    CHECK_EQ_INT(produce(log, 3, 2, 21, 1, &off), SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CHECK_EQ_INT(produce(log, 3, 2, 20, 1, &off), SL_ERR_NONE);
    sl_log_flush(log);
    /* "Crash": drop the snapshot (as if the broker died before writing it),
     * and the state must come back from the log alone. */
    sl_log_unref(log);
    unlink(snap);
    log = open_log("persist", false);
    CHECK(log != NULL);
    CHECK_EQ_INT(produce(log, 3, 2, 20, 1, &off), SL_ERR_NONE);
    CHECK_EQ_INT(off, 20);
    CHECK_EQ_INT(sl_log_end_offset(log), 21);
    sl_log_unref(log);

    /* A damaged snapshot is ignored, never trusted. */
    FILE *f = fopen(snap, "r+b");
    CHECK(f != NULL);
    fseek(f, 25, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    log = open_log("persist", true);
    CHECK(log != NULL);
    CHECK_EQ_INT(produce(log, 3, 2, 20, 1, &off), SL_ERR_NONE);
    CHECK_EQ_INT(off, 20);
    CHECK_EQ_INT(produce(log, 3, 2, 22, 1, &off), SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    sl_log_unref(log);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/sl-pstate-test-%d", (int)getpid());
    mkdir(root, 0700);
    TEST_RUN(test_sequence_rules);
    TEST_RUN(test_sequence_wraps);
    TEST_RUN(test_state_survives_clean_close_and_crash);
#ifdef SL_TEST_EXTRA
    SL_TEST_EXTRA();
#endif
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", root);
    TEST_REPORT();
}
