/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the audit writer and the verifier together: the chain in
 * one file, seals, restarts (clean, unclean, damaged tail), rotation that
 * carries the chain, retention, durability waits, and the verifier on each
 * tamper class (an edited byte, a deleted, inserted or swapped line, a
 * missing middle file, a truncated end) next to an untouched log.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "audit_test_util.h"
#include "core/clock.h"
#include "test_help.h"

static void test_clean_log_verifies(void)
{
    struct atest t;
    atest_init(&t);
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    uint64_t last = atest_emit(0, 20);
    CHECK(last == 21); /* 1 is the open record */
    CHECK(sl_audit_sync(last, 5000));
    CHECK(sl_audit_durable_seq() >= last);
    sl_audit_stop();
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 0);
    CHECK(strstr(t.report, "OK 1 files, 22 records, sequences 1..22") != NULL);
    char path[256], **lines;
    CHECK(atest_file(t.dir, 0, path, sizeof path) == 1);
    int n = atest_read_lines(path, &lines);
    CHECK_EQ_INT(n, 22);
    CHECK(strstr(lines[0], "\"type\":\"io.sluice.audit.open\"") != NULL);
    CHECK(strstr(lines[0], "\"reason\":\"genesis\"") != NULL);
    CHECK(strstr(lines[21], "\"type\":\"io.sluice.audit.seal\"") != NULL);
    CHECK(strstr(lines[21], "\"last_seq\":21") != NULL);
    atest_free_lines(lines, n);
    /* With --expect-seq at the end: still clean. */
    CHECK_EQ_INT(atest_verify(&t, NULL, 22), 0);
    atest_cleanup(&t);
}

static void test_restart_continues_chain(void)
{
    struct atest t;
    atest_init(&t);
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    atest_emit(0, 5);
    sl_audit_stop(); /* seq 7 = seal */
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    CHECK(sl_audit_durable_seq() == 8); /* the new open record */
    uint64_t last = atest_emit(5, 5);
    CHECK(last == 13);
    sl_audit_stop();
    char path[256], **lines;
    CHECK(atest_file(t.dir, 1, path, sizeof path) == 2);
    CHECK(strstr(path, "audit-00000000000000000008.jsonl") != NULL);
    int n = atest_read_lines(path, &lines);
    CHECK(strstr(lines[0], "\"reason\":\"start\"") != NULL);
    CHECK(strstr(lines[0], "\"previous_seq\":7") != NULL);
    CHECK(strstr(lines[0], "\"previous_file\":\"audit-00000000000000000001.jsonl\"") != NULL);
    atest_free_lines(lines, n);
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 0);
    atest_cleanup(&t);
}

static void test_restart_after_crash(void)
{
    struct atest t;
    atest_init(&t);
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    atest_emit(0, 5);
    sl_audit_stop();
    /* A crash: the seal never made it. */
    char path[256], **lines;
    atest_file(t.dir, 0, path, sizeof path);
    int n = atest_read_lines(path, &lines);
    atest_write_lines(path, lines, n - 1);
    atest_free_lines(lines, n);
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    CHECK(sl_audit_durable_seq() == 7); /* 6 was the last record kept */
    atest_emit(5, 2);
    sl_audit_stop();
    atest_file(t.dir, 1, path, sizeof path);
    n = atest_read_lines(path, &lines);
    CHECK(strstr(lines[0], "\"reason\":\"restart_unsealed\"") != NULL);
    CHECK(strstr(lines[0], "\"previous_seq\":6") != NULL);
    atest_free_lines(lines, n);
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 0);
    atest_cleanup(&t);
}

static void test_damaged_tail_at_start(void)
{
    struct atest t;
    atest_init(&t);
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    atest_emit(0, 5);
    sl_audit_stop();
    /* A torn write at the end of the newest file. */
    char path[256];
    atest_file(t.dir, 0, path, sizeof path);
    FILE *f = fopen(path, "ab");
    fputs("{\"specversion\":\"1.0\",\"id\":\"8\",\"sour", f);
    fclose(f);
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    atest_emit(5, 2);
    sl_audit_stop();
    char **lines;
    atest_file(t.dir, 1, path, sizeof path);
    int n = atest_read_lines(path, &lines);
    CHECK(n > 0 && strstr(lines[0], "\"reason\":\"damaged\"") != NULL);
    CHECK(strstr(lines[0], "\"previous_seq\":7") != NULL);
    atest_free_lines(lines, n);
    /* Not silently accepted: the verifier reports the damaged file. */
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 1);
    CHECK(strstr(t.report, "audit-00000000000000000001.jsonl line 8") != NULL);
    CHECK(strstr(t.report, "ends inside a line") != NULL);
    atest_cleanup(&t);
}

static void test_missing_key_with_files_refused(void)
{
    struct atest t;
    atest_init(&t);
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    sl_audit_stop();
    unlink(t.key);
    CHECK(sl_audit_start(&t.conf, err, sizeof err) < 0);
    CHECK(strstr(err, "is missing") != NULL);
    atest_cleanup(&t);
}

/* A log of several sealed files (rotation by size), kept as a template. */
static int make_rotated(struct atest *t, uint64_t *last)
{
    char err[512] = "";
    t->conf.rotate_bytes = 4096;
    if (sl_audit_start(&t->conf, err, sizeof err) < 0)
        return -1;
    for (int i = 0; i < 6; i++) {
        *last = atest_emit(i * 20, 20);
        sl_audit_sync(*last, 5000);
    }
    sl_audit_stop();
    return 0;
}

static void test_rotation_carries_chain(void)
{
    struct atest t;
    atest_init(&t);
    uint64_t last = 0;
    CHECK(make_rotated(&t, &last) == 0);
    char path[256], **lines;
    int files = atest_file(t.dir, 0, path, sizeof path);
    CHECK(files >= 3);
    /* Every file but the last ends with a rotation seal; each next file's
     * open record links to it. */
    for (int i = 0; i < files; i++) {
        atest_file(t.dir, i, path, sizeof path);
        int n = atest_read_lines(path, &lines);
        CHECK(n >= 2);
        CHECK(strstr(lines[0], "io.sluice.audit.open") != NULL);
        CHECK(strstr(lines[n - 1], "io.sluice.audit.seal") != NULL);
        CHECK(strstr(lines[n - 1], i + 1 < files ? "\"reason\":\"rotation\""
                                                 : "\"reason\":\"shutdown\"") != NULL);
        if (i > 0)
            CHECK(strstr(lines[0], "\"reason\":\"rotation\"") != NULL);
        atest_free_lines(lines, n);
    }
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 0);
    atest_cleanup(&t);
}

/* Copies the template log into a fresh directory; returns its path. */
static const char *copy_log(struct atest *t, const char *name)
{
    static char dir[256];
    char cmd[1000];
    snprintf(dir, sizeof dir, "%s/%s", t->root, name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", dir, t->dir, dir);
    if (system(cmd) != 0)
        abort();
    return dir;
}

static void test_rotation_under_steady_load(void)
{
    struct atest t;
    atest_init(&t);
    char err[512] = "";
    t.conf.rotate_bytes = 4096;
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    /* Never waiting for durability: rotation happens at batch boundaries
     * (a seal takes the next sequence number, so it cannot cut into
     * records already numbered), whether or not the writer goes idle. */
    uint64_t last = 0;
    for (int i = 0; i < 20; i++) {
        last = atest_emit(i * 100, 100);
        usleep(2000);
    }
    CHECK(sl_audit_sync(last, 10000));
    sl_audit_stop();
    char path[256];
    CHECK(atest_file(t.dir, 0, path, sizeof path) >= 3);
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 0);
    atest_cleanup(&t);
}

static void test_tamper_classes(void)
{
    struct atest t;
    atest_init(&t);
    uint64_t last = 0;
    CHECK(make_rotated(&t, &last) == 0);
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 0);
    char path[256], **lines;
    int n;

    /* 1. One byte edited in a record of the second file. */
    const char *d = copy_log(&t, "edit");
    atest_file(d, 1, path, sizeof path);
    n = atest_read_lines(path, &lines);
    char *p = strstr(lines[4], "\"i\":");
    CHECK(p != NULL);
    p[4] = p[4] == '9' ? '8' : (char)(p[4] + 1);
    atest_write_lines(path, lines, n);
    atest_free_lines(lines, n);
    CHECK_EQ_INT(atest_verify(&t, d, 0), 1);
    if (!strstr(t.report, "line 5 (sequence"))
        fprintf(stderr, "  report: %s\n", t.report);
    CHECK(strstr(t.report, "line 5 (sequence") != NULL);
    CHECK(strstr(t.report, "mac does not match") != NULL);

    /* 2. A line deleted. */
    d = copy_log(&t, "delete");
    atest_file(d, 1, path, sizeof path);
    n = atest_read_lines(path, &lines);
    free(lines[3]);
    lines[3] = NULL;
    atest_write_lines(path, lines, n);
    atest_free_lines(lines, n);
    CHECK_EQ_INT(atest_verify(&t, d, 0), 1);
    CHECK(strstr(t.report, "line 4 (sequence") != NULL);
    CHECK(strstr(t.report, "was expected") != NULL);

    /* 3. A line inserted (a copy of another record). */
    d = copy_log(&t, "insert");
    atest_file(d, 1, path, sizeof path);
    n = atest_read_lines(path, &lines);
    char **more = calloc((size_t)n + 2, sizeof *more);
    for (int i = 0, k = 0; i < n; i++) {
        more[k++] = lines[i];
        if (i == 2)
            more[k++] = strdup(lines[1]);
    }
    atest_write_lines(path, more, n + 1);
    atest_free_lines(more, n + 1);
    free(lines);
    CHECK_EQ_INT(atest_verify(&t, d, 0), 1);
    CHECK(strstr(t.report, "line 4 (sequence") != NULL);

    /* 4. Two lines swapped. */
    d = copy_log(&t, "swap");
    atest_file(d, 1, path, sizeof path);
    n = atest_read_lines(path, &lines);
    char *tmp = lines[2];
    lines[2] = lines[5];
    lines[5] = tmp;
    atest_write_lines(path, lines, n);
    atest_free_lines(lines, n);
    CHECK_EQ_INT(atest_verify(&t, d, 0), 1);
    CHECK(strstr(t.report, "line 3 (sequence") != NULL);

    /* 5. A middle file removed. */
    d = copy_log(&t, "missing");
    atest_file(d, 1, path, sizeof path);
    CHECK(unlink(path) == 0);
    CHECK_EQ_INT(atest_verify(&t, d, 0), 1);
    CHECK(strstr(t.report, "a file is missing") != NULL);

    /* 5b. The oldest file removed (no retention record explains it). */
    d = copy_log(&t, "missing-first");
    atest_file(d, 0, path, sizeof path);
    CHECK(unlink(path) == 0);
    CHECK_EQ_INT(atest_verify(&t, d, 0), 1);
    CHECK(strstr(t.report, "older files are missing") != NULL);

    /* 6. The last file truncated inside a line. */
    d = copy_log(&t, "trunc");
    atest_file(d, -1, path, sizeof path);
    FILE *f = fopen(path, "rb+");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    CHECK(truncate(path, size - 40) == 0);
    CHECK_EQ_INT(atest_verify(&t, d, 0), 1);
    CHECK(strstr(t.report, "ends inside a line") != NULL);

    /* 6b. Truncated at a line boundary (the seal and one record gone): only
     * the expected sequence tells, and then it does. */
    d = copy_log(&t, "trunc-lines");
    atest_file(d, -1, path, sizeof path);
    n = atest_read_lines(path, &lines);
    atest_write_lines(path, lines, n - 2);
    atest_free_lines(lines, n);
    CHECK_EQ_INT(atest_verify(&t, d, 0), 0);
    CHECK(strstr(t.report, "is not sealed") != NULL);
    CHECK_EQ_INT(atest_verify(&t, d, last + 1), 1);
    CHECK(strstr(t.report, "truncated") != NULL);

    /* The untouched original still verifies. */
    CHECK_EQ_INT(atest_verify(&t, NULL, last + 1), 0);
    atest_cleanup(&t);
}

static void test_retention_is_not_tampering(void)
{
    struct atest t;
    atest_init(&t);
    char err[512] = "";
    t.conf.rotate_bytes = 4096;
    t.conf.retention_bytes = 12000; /* keeps about three files */
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    for (int i = 0; i < 10; i++)
        sl_audit_sync(atest_emit(i * 20, 20), 5000);
    sl_audit_stop();
    char path[256];
    int files = atest_file(t.dir, 0, path, sizeof path);
    CHECK(files >= 2);
    CHECK(strstr(path, "audit-00000000000000000001.jsonl") == NULL); /* the first went */
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 0);
    /* Deleting one more old file by hand is not retention. */
    CHECK(unlink(path) == 0);
    CHECK_EQ_INT(atest_verify(&t, NULL, 0), 1);
    CHECK(strstr(t.report, "the first kept by retention") != NULL);
    atest_cleanup(&t);
}

static atomic_int waits_ok, waits_done;

static void wait_cb(void *arg, bool ok)
{
    (void)arg;
    if (ok)
        atomic_fetch_add(&waits_ok, 1);
    atomic_fetch_add(&waits_done, 1);
}

static void test_wait_callbacks(void)
{
    struct atest t;
    atest_init(&t);
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    atomic_store(&waits_ok, 0);
    atomic_store(&waits_done, 0);
    for (int i = 0; i < 50; i++)
        sl_audit_wait(atest_emit(i, 1), wait_cb, NULL);
    int64_t deadline = sl_mono_ms() + 5000;
    while (atomic_load(&waits_done) < 50 && sl_mono_ms() < deadline)
        usleep(1000);
    CHECK_EQ_INT(atomic_load(&waits_ok), 50);
    /* Already durable: answered at once. */
    sl_audit_wait(1, wait_cb, NULL);
    CHECK_EQ_INT(atomic_load(&waits_done), 51);
    sl_audit_stop();
    atest_cleanup(&t);
}

static void test_disabled(void)
{
    struct atest t;
    atest_init(&t);
    t.conf.enable = false;
    char err[512] = "";
    CHECK(sl_audit_start(&t.conf, err, sizeof err) == 0);
    CHECK(!sl_audit_enabled());
    CHECK(sl_audit_available());
    CHECK(atest_emit(0, 1) == SL_AUDIT_SEQ_NONE);
    sl_audit_stop();
    CHECK(access(t.dir, F_OK) != 0); /* nothing created */
    atest_cleanup(&t);
}

int main(void)
{
    TEST_RUN(test_clean_log_verifies);
    TEST_RUN(test_restart_continues_chain);
    TEST_RUN(test_restart_after_crash);
    TEST_RUN(test_damaged_tail_at_start);
    TEST_RUN(test_missing_key_with_files_refused);
    TEST_RUN(test_rotation_carries_chain);
    TEST_RUN(test_rotation_under_steady_load);
    TEST_RUN(test_tamper_classes);
    TEST_RUN(test_retention_is_not_tampering);
    TEST_RUN(test_wait_callbacks);
    TEST_RUN(test_disabled);
    TEST_REPORT();
}
