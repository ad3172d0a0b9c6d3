/* SPDX-License-Identifier: Apache-2.0
 *
 * Fail-closed audit: with the audit sink failing (I/O errors and a full
 * disk injected through the file-ops fault layer, storage/fileops_fault.c),
 * the log says it is unavailable, emitting refuses (policy reject) or drops
 * (policy log), waiters for records that were lost learn it, and when the
 * sink recovers auditing resumes with a record that states the gap, and the
 * whole log still verifies.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "audit_test_util.h"
#include "core/clock.h"
#include "storage/fileops.h"
#include "test_help.h"

static bool wait_until(bool (*cond)(void), int64_t ms)
{
    int64_t deadline = sl_mono_ms() + ms;
    while (!cond()) {
        if (sl_mono_ms() >= deadline)
            return false;
        usleep(1000);
    }
    return true;
}

static bool unavailable(void)
{
    return !sl_audit_available();
}

static atomic_int cb_ok, cb_fail;

static void wait_cb(void *arg, bool ok)
{
    (void)arg;
    atomic_fetch_add(ok ? &cb_ok : &cb_fail, 1);
}

static bool one_answer(void)
{
    return atomic_load(&cb_ok) + atomic_load(&cb_fail) >= 1;
}

static void run_failure(enum sl_fault_op op, enum sl_fault_mode mode, int policy)
{
    struct atest t;
    atest_init(&t);
    t.conf.policy = policy;
    struct sl_fileops_fault *ff = sl_fileops_fault_new(&sl_fileops_posix);
    sl_fileops_fault_filter(ff, ".jsonl");
    t.conf.fops = sl_fileops_fault_ops(ff);
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    CHECK(sl_audit_sync(atest_emit(0, 5), 5000));
    CHECK(sl_audit_available());

    /* The disk dies: the next batch fails. */
    sl_fileops_fault_arm(ff, op, 1, mode, true);
    atomic_store(&cb_ok, 0);
    atomic_store(&cb_fail, 0);
    uint64_t seq = atest_emit(5, 1);
    CHECK(seq != SL_AUDIT_SEQ_NONE && seq != SL_AUDIT_SEQ_FAILED);
    sl_audit_wait(seq, wait_cb, NULL);
    CHECK(wait_until(unavailable, 5000));
    CHECK(wait_until(one_answer, 5000));
    CHECK_EQ_INT(atomic_load(&cb_fail), 1); /* its response must not be sent */
    CHECK(!sl_audit_sync(seq, 100));
    /* While failed: refused (reject) or dropped (log), never queued. */
    uint64_t during = atest_emit(6, 3);
    if (policy == SL_AUDIT_POLICY_REJECT)
        CHECK(during == SL_AUDIT_SEQ_FAILED);
    else
        CHECK(during == SL_AUDIT_SEQ_NONE);
    CHECK(sl_audit_dropped() == 3);
    /* Still failing after retries (the layer keeps failing). */
    usleep(100 * 1000);
    CHECK(!sl_audit_available());

    /* The disk comes back: auditing resumes by itself. */
    sl_fileops_fault_disarm(ff);
    CHECK(wait_until(sl_audit_available, 5000));
    uint64_t after = atest_emit(9, 3);
    CHECK(after != SL_AUDIT_SEQ_FAILED && after != SL_AUDIT_SEQ_NONE);
    CHECK(sl_audit_sync(after, 5000));
    sl_audit_stop();
    CHECK(sl_fileops_fault_injected(ff) > 0);

    /* The recovery file's open record states the gap; the log verifies. */
    char path[256], **lines;
    atest_file(t.dir, -1, path, sizeof path);
    int n = atest_read_lines(path, &lines);
    CHECK(n > 0 && strstr(lines[0], "\"reason\":\"sink_failure\"") != NULL);
    CHECK(strstr(lines[0], "\"previous_seq\":6") != NULL); /* 1 open + 5 events durable */
    CHECK(strstr(lines[0], "\"lost_first\":7") != NULL);
    CHECK(strstr(lines[0], "\"dropped_events\":3") != NULL);
    atest_free_lines(lines, n);
    int rc = atest_verify(&t, NULL, 0);
    if (rc != 0)
        fprintf(stderr, "  report: %s\n", t.report);
    CHECK_EQ_INT(rc, 0);
    sl_fileops_fault_free(ff);
    atest_cleanup(&t);
}

static void test_write_eio_reject(void)
{
    run_failure(SL_FAULT_OP_WRITE, SL_FAULT_EIO, SL_AUDIT_POLICY_REJECT);
}

static void test_disk_full_reject(void)
{
    run_failure(SL_FAULT_OP_WRITE, SL_FAULT_ENOSPC, SL_AUDIT_POLICY_REJECT);
}

static void test_short_write_reject(void)
{
    /* Half a batch reaches the file: a torn line the gap record explains. */
    run_failure(SL_FAULT_OP_WRITE, SL_FAULT_SHORT, SL_AUDIT_POLICY_REJECT);
}

static void test_fsync_error_log_policy(void)
{
    run_failure(SL_FAULT_OP_SYNC, SL_FAULT_EIO, SL_AUDIT_POLICY_LOG);
}

static void test_cannot_start_on_unwritable_dir(void)
{
    struct atest t;
    atest_init(&t);
    struct sl_fileops_fault *ff = sl_fileops_fault_new(&sl_fileops_posix);
    sl_fileops_fault_arm(ff, SL_FAULT_OP_OPEN, 1, SL_FAULT_EIO, true);
    t.conf.fops = sl_fileops_fault_ops(ff);
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) < 0);
    CHECK(strstr(err, "cannot create audit file") != NULL);
    CHECK(!sl_audit_enabled());
    sl_fileops_fault_free(ff);
    atest_cleanup(&t);
}

int main(void)
{
    TEST_RUN(test_write_eio_reject);
    TEST_RUN(test_disk_full_reject);
    TEST_RUN(test_short_write_reject);
    TEST_RUN(test_fsync_error_log_policy);
    TEST_RUN(test_cannot_start_on_unwritable_dir);
    TEST_REPORT();
}
