/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of src/meta: put/list/get/delete round trips across close and
 * reopen, refusal of a damaged store (flipped byte, truncation, trailing
 * bytes, newer version) with a clear message, recovery from a crash in the
 * middle of a write (leftover temporary file), the data-directory lock,
 * file modes, the codec's canonical form and strictness, and concurrent
 * use from several threads.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/logging.h"
#include "meta/meta.h"
#include "meta/meta_local.h"
#include "test_help.h"

static char dir[256];

/* Creates a fresh empty data directory path (not the directory itself:
 * sl_meta_open_local must create it). */
static void fresh_dir(void)
{
    char base[] = "/tmp/sl_test_meta_XXXXXX";
    if (!mkdtemp(base))
        abort();
    snprintf(dir, sizeof dir, "%s/data", base);
}

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "  cannot remove %s\n", path);
}

static void cleanup(void)
{
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    char *slash = strrchr(base, '/');
    *slash = '\0';
    rm_rf(base);
}

static sl_uuid_t uuid_of(int seed)
{
    sl_uuid_t u;
    for (int i = 0; i < 16; i++)
        u.b[i] = (uint8_t)(i + 1);
    u.b[0] = (uint8_t)(seed >> 8);
    u.b[1] = (uint8_t)seed;
    return u;
}

static void store_path(char *buf, size_t len, const char *file)
{
    snprintf(buf, len, "%s/meta/%s", dir, file);
}

static void test_round_trip(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_meta_topic *list;
    int n;
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 0);
    CHECK(list == NULL);

    struct sl_kv cfg[] = {{"retention.ms", "1000"}, {"cleanup.policy", "compact,delete"},
                          {"odd value", "a b%c\n-\xc3\xa9"}, {"empty", ""}, {"dash", "-"},
                          {"retention.ms", "2000"}};
    struct sl_meta_topic t = {.name = "orders", .id = uuid_of(1), .partitions = 3,
                              .configs = cfg, .n_configs = 6};
    CHECK(sl_meta_put_topic(m, &t) == SL_ERR_NONE);
    struct sl_meta_topic t2 = {.name = "-", .id = uuid_of(2), .partitions = 1};
    CHECK(sl_meta_put_topic(m, &t2) == SL_ERR_NONE);
    struct sl_meta_topic t3 = {.name = "a.b_c-D9", .id = uuid_of(3), .partitions = 2147483647};
    CHECK(sl_meta_put_topic(m, &t3) == SL_ERR_NONE);

    /* Refusals. */
    struct sl_meta_topic bad = {.name = "bad name", .id = uuid_of(4), .partitions = 1};
    CHECK(sl_meta_put_topic(m, &bad) == SL_ERR__INVAL);
    bad.name = "..";
    CHECK(sl_meta_put_topic(m, &bad) == SL_ERR__INVAL);
    bad.name = "ok";
    bad.partitions = 0;
    CHECK(sl_meta_put_topic(m, &bad) == SL_ERR__INVAL);
    bad.partitions = 1;
    bad.id = (sl_uuid_t){{0}};
    CHECK(sl_meta_put_topic(m, &bad) == SL_ERR__INVAL);
    bad.id = uuid_of(1); /* the id of "orders" */
    CHECK(sl_meta_put_topic(m, &bad) == SL_ERR__INVAL);
    struct sl_kv nullv[] = {{"k", NULL}};
    bad.id = uuid_of(4);
    bad.configs = nullv;
    bad.n_configs = 1;
    CHECK(sl_meta_put_topic(m, &bad) == SL_ERR__INVAL);
    CHECK(sl_meta_delete_topic(m, "missing") == SL_ERR__NOENT);

    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 3);
    CHECK(strcmp(list[0].name, "-") == 0);
    CHECK(strcmp(list[1].name, "a.b_c-D9") == 0);
    CHECK_EQ_INT(list[1].partitions, 2147483647);
    CHECK(strcmp(list[2].name, "orders") == 0);
    CHECK(memcmp(&list[2].id, &t.id, sizeof t.id) == 0);
    CHECK_EQ_INT(list[2].partitions, 3);
    /* Sorted by key, the repeated key keeping its last value. */
    CHECK_EQ_INT(list[2].n_configs, 5);
    const char *want[][2] = {{"cleanup.policy", "compact,delete"},
                             {"dash", "-"},
                             {"empty", ""},
                             {"odd value", "a b%c\n-\xc3\xa9"},
                             {"retention.ms", "2000"}};
    for (int i = 0; i < 5; i++) {
        CHECK(strcmp(list[2].configs[i].key, want[i][0]) == 0);
        CHECK(strcmp(list[2].configs[i].value, want[i][1]) == 0);
    }
    sl_meta_topics_free(list, n);

    /* Replace by name, delete, get. */
    t.partitions = 6;
    t.n_configs = 0;
    CHECK(sl_meta_put_topic(m, &t) == SL_ERR_NONE);
    CHECK(sl_meta_delete_topic(m, "-") == SL_ERR_NONE);
    struct sl_meta_topic got;
    CHECK(sl_meta_get_topic(m, "orders", &got) == SL_ERR_NONE);
    CHECK_EQ_INT(got.partitions, 6);
    CHECK_EQ_INT(got.n_configs, 0);
    sl_meta_topic_clear(&got);
    CHECK(sl_meta_get_topic(m, "-", &got) == SL_ERR__NOENT);
    sl_meta_close(m);

    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 2);
    CHECK(strcmp(list[0].name, "a.b_c-D9") == 0);
    CHECK(strcmp(list[1].name, "orders") == 0);
    CHECK_EQ_INT(list[1].partitions, 6);
    sl_meta_topics_free(list, n);
    /* Delete everything: an empty store reopens empty. */
    CHECK(sl_meta_delete_topic(m, "orders") == SL_ERR_NONE);
    CHECK(sl_meta_delete_topic(m, "a.b_c-D9") == SL_ERR_NONE);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 0);
    sl_meta_close(m);
    cleanup();
}

/* Modes: the directory 0700, the store 0600. */
static void test_modes(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512], path[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct stat st;
    snprintf(path, sizeof path, "%s/meta", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    sl_meta_close(m);
    cleanup();
}

/* Opens a store with one topic, closes it and returns its bytes. */
static uint8_t *make_store(size_t *len)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512], path[512];
    if (sl_meta_open_local(dir, &m, err, sizeof err) != SL_ERR_NONE)
        abort();
    struct sl_kv cfg[] = {{"retention.ms", "86400000"}};
    struct sl_meta_topic t = {.name = "payments", .id = uuid_of(9), .partitions = 12,
                              .configs = cfg, .n_configs = 1};
    if (sl_meta_put_topic(m, &t) != SL_ERR_NONE)
        abort();
    sl_meta_close(m);
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[4096];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static void write_store(const uint8_t *p, size_t n)
{
    char path[512];
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

/* Every single-byte change of the file is refused, naming the file. */
static void test_corruption(void)
{
    size_t len;
    uint8_t *orig = make_store(&len);
    uint8_t copy[4096];
    char err[1024], path[512];
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    struct sl_meta *m;
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, orig, len);
        copy[i] ^= 0x01;
        write_store(copy, len);
        sl_err_t rc = sl_meta_open_local(dir, &m, err, sizeof err);
        if (rc == SL_ERR_NONE) {
            fprintf(stderr, "  flipped byte %zu accepted\n", i);
            sl_meta_close(m);
        }
        CHECK(rc == SL_ERR__CORRUPT);
        CHECK(strstr(err, path) != NULL);
        CHECK(strstr(err, "will not start with partial metadata") != NULL);
    }
    /* A flipped body byte is a checksum mismatch. */
    memcpy(copy, orig, len);
    copy[len - 3] ^= 0x20;
    write_store(copy, len);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "checksum mismatch (stored "));
    /* Truncated and extended files. */
    write_store(orig, len - 1);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "truncated"));
    memcpy(copy, orig, len);
    copy[len] = '\n';
    write_store(copy, len + 1);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "trailing bytes"));
    write_store(orig, 0);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "not a Sluice metadata file"));
    /* A newer format version says so. */
    memcpy(copy, orig, len);
    copy[strlen("sluice-meta ")] = '2';
    write_store(copy, len);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "format version 2 is not supported (this build reads version 1): written "
                      "by a newer Sluice"));
    /* The original still opens (the failed opens released the lock). */
    write_store(orig, len);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    sl_meta_close(m);
    cleanup();
}

/* A crash between writing the temporary file and the rename leaves the
 * previous store intact; the next open removes the leftover. */
static void test_leftover_tmp(void)
{
    size_t len;
    make_store(&len);
    char tmp[512], err[512];
    store_path(tmp, sizeof tmp, SL_META_LOCAL_TMP);
    /* Half of a newer store, as a crash mid-write would leave it. */
    FILE *f = fopen(tmp, "wb");
    fputs("sluice-meta 1 999 00000000\ntopic payments 0000", f);
    fclose(f);
    struct sl_meta *m;
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(access(tmp, F_OK) != 0);
    struct sl_meta_topic *list;
    int n;
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 1);
    CHECK(strcmp(list[0].name, "payments") == 0);
    CHECK_EQ_INT(list[0].partitions, 12);
    CHECK_EQ_INT(list[0].n_configs, 1);
    CHECK(strcmp(list[0].configs[0].value, "86400000") == 0);
    sl_meta_topics_free(list, n);
    /* Writes work after the recovery. */
    CHECK(sl_meta_delete_topic(m, "payments") == SL_ERR_NONE);
    sl_meta_close(m);
    cleanup();
}

/* A write that fails before the rename changes nothing, on disk or in
 * memory, and the store keeps working. (The temporary path is made a
 * directory: open fails with EISDIR even for root.) */
static void test_write_failure(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512], tmp[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_meta_topic t = {.name = "keep", .id = uuid_of(1), .partitions = 1};
    CHECK(sl_meta_put_topic(m, &t) == SL_ERR_NONE);
    store_path(tmp, sizeof tmp, SL_META_LOCAL_TMP);
    CHECK(mkdir(tmp, 0700) == 0);
    struct sl_meta_topic t2 = {.name = "lost", .id = uuid_of(2), .partitions = 1};
    CHECK(sl_meta_put_topic(m, &t2) == SL_ERR__IO);
    CHECK(sl_meta_delete_topic(m, "keep") == SL_ERR__IO);
    struct sl_meta_topic *list;
    int n;
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 1);
    CHECK(strcmp(list[0].name, "keep") == 0);
    sl_meta_topics_free(list, n);
    CHECK(rmdir(tmp) == 0);
    CHECK(sl_meta_put_topic(m, &t2) == SL_ERR_NONE);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 2);
    sl_meta_topics_free(list, n);
    sl_meta_close(m);
    cleanup();
}

static void test_lock(void)
{
    fresh_dir();
    struct sl_meta *a, *b;
    char err[512];
    CHECK(sl_meta_open_local(dir, &a, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_open_local(dir, &b, err, sizeof err) == SL_ERR__STATE);
    CHECK(strstr(err, "locked by another process"));
    sl_meta_close(a);
    CHECK(sl_meta_open_local(dir, &b, err, sizeof err) == SL_ERR_NONE);
    sl_meta_close(b);
    /* A data directory that cannot be created. */
    CHECK(sl_meta_open_local("/proc/sluice-cannot-exist", &b, err, sizeof err) == SL_ERR__IO);
    CHECK(strstr(err, "cannot create directory"));
    cleanup();
}

/* Builds a store file around body with a correct header. */
static size_t frame(const char *body, uint8_t *out, size_t cap)
{
    size_t bl = strlen(body);
    int hn = snprintf((char *)out, cap, "sluice-meta 1 %zu %08x\n", bl,
                      (unsigned)sl_crc32c(0, body, bl));
    memcpy(out + hn, body, bl);
    return (size_t)hn + bl;
}

static void test_codec(void)
{
    static const char *const good[] = {
        "",
        "topic a 0123456789abcdef0123456789abcdef 1\n",
        "topic a 0123456789abcdef0123456789abcdef 1\nconfig %2D -\nconfig k %2D\n",
        ("topic %2D 0123456789abcdef0123456789abcdef 1\n"
         "topic b 00000000000000000000000000000001 2\nconfig a%20b %0A%25%C3%A9\n"),
    };
    uint8_t buf[1024];
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t n = frame(good[i], buf, sizeof buf);
        struct sl_meta_topic *t;
        int nt;
        sl_err_t rc = sl_meta_local_decode(buf, n, &t, &nt, err, sizeof err);
        if (rc)
            fprintf(stderr, "  good %zu: %s\n", i, err);
        CHECK(rc == SL_ERR_NONE);
        uint8_t *enc;
        size_t encn;
        sl_meta_local_encode(t, nt, &enc, &encn);
        CHECK(encn == n && memcmp(enc, buf, n) == 0); /* canonical */
        free(enc);
        sl_meta_topics_free(t, nt);
    }
    static const struct {
        const char *body, *why;
    } bad[] = {
        {"topic a 0123456789abcdef0123456789abcdef 1", "line 2: last line has no newline"},
        {"topic a  0123456789abcdef0123456789abcdef 1\n", "line 2: empty field or extra space"},
        {"topic a 0123456789abcdef0123456789abcdef 1 x\n", "line 2: topic record needs"},
        {"topic a 0123456789ABCDEF0123456789abcdef 1\n", "line 2: bad topic id"},
        {"topic a 00000000000000000000000000000000 1\n", "line 2: bad topic id"},
        {"topic a 0123456789abcdef0123456789abcdef 0\n", "line 2: bad partition count"},
        {"topic a 0123456789abcdef0123456789abcdef 01\n", "line 2: bad partition count"},
        {"topic a 0123456789abcdef0123456789abcdef 2147483648\n", "line 2: bad partition count"},
        {"topic a%2 0123456789abcdef0123456789abcdef 1\n", "line 2: bad %XX escape"},
        {"topic %61 0123456789abcdef0123456789abcdef 1\n", "line 2: needless %XX escape"},
        {"topic a 0123456789abcdef0123456789abcdef 1\nconfig k %00\n", "line 3: NUL byte"},
        {"topic a 0123456789abcdef0123456789abcdef 1\nconfig k v\xff\n",
         "line 3: byte that must be %XX-escaped"},
        {"topic a%20b 0123456789abcdef0123456789abcdef 1\n", "line 2: not a legal topic name"},
        {"topic b 0123456789abcdef0123456789abcdef 1\ntopic a 1123456789abcdef0123456789abcdef 1\n",
         "line 3: topics out of order or repeated"},
        {"topic a 0123456789abcdef0123456789abcdef 1\ntopic a 1123456789abcdef0123456789abcdef 1\n",
         "line 3: topics out of order or repeated"},
        {"topic a 0123456789abcdef0123456789abcdef 1\ntopic b 0123456789abcdef0123456789abcdef 1\n",
         "two topics have the same id"},
        {"config k v\n", "line 2: config record before any topic"},
        {"topic a 0123456789abcdef0123456789abcdef 1\nconfig b 1\nconfig a 1\n",
         "line 4: configs out of order or repeated"},
        {"topic a 0123456789abcdef0123456789abcdef 1\nconfig - 1\n", "line 3: empty config key"},
        {"topic a 0123456789abcdef0123456789abcdef 1\nconfig k\n", "line 3: config record needs"},
        {"acl a\n", "line 2: unknown record"},
        {"\n", "line 2: empty field or extra space"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = frame(bad[i].body, buf, sizeof buf);
        struct sl_meta_topic *t = (void *)1;
        int nt = -1;
        sl_err_t rc = sl_meta_local_decode(buf, n, &t, &nt, err, sizeof err);
        bool ok = rc == SL_ERR__CORRUPT && strstr(err, bad[i].why) && t == NULL && nt == 0;
        if (!ok)
            fprintf(stderr, "  bad %zu: rc=%d err=%s\n", i, rc, err);
        CHECK(ok);
    }
    /* Header variants. */
    static const char *const heads[] = {"sluice-meta 1 0 00000000", "sluice-meta 1 00 00000000\n",
                                        "sluice-meta 01 0 00000000\n",
                                        "sluice-meta 1 0 0000000\n", "Sluice-meta 1 0 00000000\n",
                                        "sluice-meta 1 0 00000000 x\n"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        struct sl_meta_topic *t;
        int nt;
        CHECK(sl_meta_local_decode((const uint8_t *)heads[i], strlen(heads[i]), &t, &nt, err,
                                   sizeof err) == SL_ERR__CORRUPT);
    }
}

/* Several threads put, list and delete at once; the store stays whole. */
struct worker {
    struct sl_meta *m;
    int id;
    int failures;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "t%d-%d", w->id, i);
        struct sl_meta_topic t = {.name = name, .id = uuid_of(w->id * 100 + i + 1),
                                  .partitions = i + 1};
        if (sl_meta_put_topic(w->m, &t) != SL_ERR_NONE)
            w->failures++;
        struct sl_meta_topic *list;
        int n;
        if (sl_meta_list_topics(w->m, &list, &n) != SL_ERR_NONE)
            w->failures++;
        sl_meta_topics_free(list, n);
        if (i % 2 == 1 && sl_meta_delete_topic(w->m, name) != SL_ERR_NONE)
            w->failures++;
    }
    return NULL;
}

static void test_threads(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){m, i, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(w[i].failures, 0);
    }
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_meta_topic *list;
    int n;
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 20);
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(list[i].partitions % 2, 1);
    sl_meta_topics_free(list, n);
    sl_meta_close(m);
    cleanup();
}

int main(void)
{
    sl_log_min_level = SL_LOG_ERROR;
    TEST_RUN(test_round_trip);
    TEST_RUN(test_modes);
    TEST_RUN(test_corruption);
    TEST_RUN(test_leftover_tmp);
    TEST_RUN(test_write_failure);
    TEST_RUN(test_lock);
    TEST_RUN(test_codec);
    TEST_RUN(test_threads);
    TEST_REPORT();
}
