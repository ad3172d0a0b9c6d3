/* SPDX-License-Identifier: Apache-2.0
 *
 * The producer state tests of test_producer_state.c, run on the sealing file
 * layer (encryption at rest): the snapshot is a sealed blob, and the state
 * survives a clean close, a crash and a damaged snapshot the same way. Then:
 * the snapshot on disk is sealed (no clear magic or producer id), and a
 * snapshot copied from another partition does not open there (it is bound
 * to its partition) and is ignored, not trusted.
 */
#include <stdlib.h>

#include "crypto/fileops_aead.h"
#include "crypto/keyring.h"
#include "storage/fileops.h"

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
#define SL_TEST_EXTRA crypto_extra_tests
#include "test_producer_state.c"

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int rc = in && out ? 0 : -1;
    uint8_t b[4096];
    size_t n;
    while (rc == 0 && (n = fread(b, 1, sizeof(b), in)) > 0)
        rc = fwrite(b, 1, n, out) == n ? 0 : -1;
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    return rc;
}

static void test_snapshot_is_sealed_and_bound(void)
{
    struct sl_log *log = open_log("sealed-0", true);
    CHECK(log != NULL);
    int64_t off;
    for (int32_t s = 0; s < 8; s += 2)
        CHECK_EQ_INT(produce(log, 0x0123456789abLL, 1, s, 2, &off), SL_ERR_NONE);
    sl_log_unref(log); /* clean close: snapshot written */
    char snap[512];
    snprintf(snap, sizeof(snap), "%s/sealed-0/%s", root, SL_PSTATE_SNAPSHOT_NAME);
    FILE *f = fopen(snap, "rb");
    CHECK(f != NULL);
    uint8_t b[4096];
    size_t n = f ? fread(b, 1, sizeof(b), f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 128 && memcmp(b, "SLUICEAE", 8) == 0);
    static const uint8_t pid_be[8] = {0, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
    bool clear = false;
    for (size_t i = 0; i + 8 <= n; i++)
        clear |= memcmp(b + i, "SLPS", 4) == 0 || memcmp(b + i, pid_be, 8) == 0;
    CHECK(!clear);

    /* The state comes back from the sealed snapshot (a retry is a duplicate). */
    log = open_log("sealed-0", true);
    CHECK(log != NULL);
    CHECK_EQ_INT(produce(log, 0x0123456789abLL, 1, 6, 2, &off), SL_ERR_NONE);
    CHECK_EQ_INT(off, 6);
    CHECK_EQ_INT(produce(log, 0x0123456789abLL, 1, 9, 1, &off),
                 SL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    sl_log_unref(log);

    /* Another partition with as many records from another producer; its
     * snapshot replaced by sealed-0's. Trusted, it would make the producer
     * known there (sequence 9 out of order); ignored, the producer is
     * unknown and any sequence goes. */
    log = open_log("sealed-1", true);
    CHECK(log != NULL);
    for (int32_t s = 0; s < 8; s += 2)
        CHECK_EQ_INT(produce(log, 77, 0, s, 2, &off), SL_ERR_NONE);
    sl_log_unref(log);
    char other[512];
    snprintf(other, sizeof(other), "%s/sealed-1/%s", root, SL_PSTATE_SNAPSHOT_NAME);
    CHECK_EQ_INT(copy_file(snap, other), 0);
    log = open_log("sealed-1", true);
    CHECK(log != NULL);
    CHECK_EQ_INT(produce(log, 0x0123456789abLL, 1, 9, 1, &off), SL_ERR_NONE);
    CHECK_EQ_INT(produce(log, 77, 0, 8, 1, &off), SL_ERR_NONE); /* rebuilt from the log */
    sl_log_unref(log);
}

static void crypto_extra_tests(void)
{
    TEST_RUN(test_snapshot_is_sealed_and_bound);
}
