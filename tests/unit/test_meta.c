/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of src/meta: put/list/get/delete round trips of topics and
 * SCRAM credentials across close and reopen, refusal of invalid user names
 * and credentials, the credential limit, refusal of a damaged store
 * (flipped byte, truncation, trailing bytes, unknown version, bad
 * credential records) with a clear message, the upgrade of a version-1
 * store, the authentication secret, recovery from a crash in the middle of
 * a write (leftover temporary file), write failures, the file size limit,
 * the data-directory lock, file modes, the codec's canonical form and
 * strictness, and concurrent use from several threads (lookups while
 * writers rewrite the store).
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/logging.h"
#include "meta/meta.h"
#include "meta/meta_local.h"
#include "meta_help.h"
#include "test_help.h"

static sl_uuid_t uuid_of(int seed)
{
    sl_uuid_t u;
    for (int i = 0; i < 16; i++)
        u.b[i] = (uint8_t)(i + 1);
    u.b[0] = (uint8_t)(seed >> 8);
    u.b[1] = (uint8_t)seed;
    return u;
}


/* A valid credential whose every byte depends on seed. The keys are filled
 * to SL_SCRAM_KEY_MAX and the salt array to SL_SCRAM_SALT_MAX whatever the
 * mechanism and salt_len, so that tests see the store drop the tails. */
static struct sl_scram_cred mk_cred(int mech, int seed)
{
    struct sl_scram_cred c;
    c.mech = mech;
    c.salt_len = (size_t)(1 + seed % SL_SCRAM_SALT_MAX);
    for (int i = 0; i < SL_SCRAM_SALT_MAX; i++)
        c.salt[i] = (uint8_t)(seed * 7 + i);
    for (int i = 0; i < SL_SCRAM_KEY_MAX; i++) {
        c.stored_key[i] = (uint8_t)(seed * 11 + i + 1);
        c.server_key[i] = (uint8_t)(seed * 13 + i + 2);
    }
    c.iterations = SL_SCRAM_MIN_ITERATIONS + seed;
    return c;
}

/* True when got is what the store keeps of put: the salt's first salt_len
 * bytes, the mechanism's key length of each key, zeros after. */
static bool cred_matches(const struct sl_scram_cred *got, const struct sl_scram_cred *put)
{
    size_t kl = put->mech == SL_SCRAM_SHA256 ? 32 : 64;
    if (got->mech != put->mech || got->salt_len != put->salt_len ||
        got->iterations != put->iterations || memcmp(got->salt, put->salt, put->salt_len) != 0 ||
        memcmp(got->stored_key, put->stored_key, kl) != 0 ||
        memcmp(got->server_key, put->server_key, kl) != 0)
        return false;
    for (size_t i = put->salt_len; i < SL_SCRAM_SALT_MAX; i++)
        if (got->salt[i])
            return false;
    for (size_t i = kl; i < SL_SCRAM_KEY_MAX; i++)
        if (got->stored_key[i] || got->server_key[i])
            return false;
    return true;
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

/* Modes: the directory 0700, the store 0600 (it holds the secret and the
 * SCRAM keys) whatever the umask, and back to 0600 after any write if an
 * operator loosened it. */
static void test_modes(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512], path[512], lock[512];
    mode_t old = umask(0);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct stat st;
    snprintf(path, sizeof path, "%s/meta", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    store_path(lock, sizeof lock, SL_META_LOCAL_LOCK);
    CHECK(stat(lock, &st) == 0 && (st.st_mode & 0777) == 0600);
    struct sl_scram_cred c = mk_cred(SL_SCRAM_SHA512, 1);
    CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR_NONE);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    sl_meta_close(m);
    CHECK(chmod(path, 0644) == 0);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE); /* warns */
    CHECK(sl_meta_delete_scram(m, "alice", SL_SCRAM_SHA512) == SL_ERR_NONE);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* A stale temporary file of another mode does not leak its mode. */
    char tmp[512];
    store_path(tmp, sizeof tmp, SL_META_LOCAL_TMP);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    CHECK(fd >= 0);
    close(fd);
    CHECK(sl_meta_put_scram(m, "bob", &c) == SL_ERR_NONE);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    sl_meta_close(m);
    umask(old);
    cleanup();
}

/* Opens a store with one topic, one credential and one ACL binding, closes
 * it and returns its bytes. */
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
    struct sl_scram_cred c = mk_cred(SL_SCRAM_SHA512, 5);
    if (sl_meta_put_scram(m, "alice", &c) != SL_ERR_NONE)
        abort();
    /* With an ACL, the file is not a valid store of any older version. */
    struct sl_acl acl = {SL_ACL_RES_TOPIC, SL_ACL_PAT_LITERAL, SL_ACL_OP_READ, SL_ACL_PERM_ALLOW,
                         "payments", "User:alice", "*"};
    if (sl_meta_create_acls(m, &acl, 1) != SL_ERR_NONE)
        abort();
    sl_meta_close(m);
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[4096];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
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
    /* A newer format version says so; version 0 never existed. */
    memcpy(copy, orig, len);
    copy[strlen("sluice-meta ")] = '4';
    write_store(copy, len);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "format version 4 is not supported (this build reads versions 1 to 3): "
                      "written by a newer Sluice"));
    copy[strlen("sluice-meta ")] = '0';
    write_store(copy, len);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "format version 0 is not supported (this build reads versions 1 to 3)."));
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
    /* The same for credentials: no change, no generation bump. */
    CHECK(rmdir(tmp) == 0);
    struct sl_scram_cred c = mk_cred(SL_SCRAM_SHA256, 1), c2 = mk_cred(SL_SCRAM_SHA256, 2), got;
    CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR_NONE);
    uint64_t gen = sl_meta_scram_generation(m);
    CHECK(mkdir(tmp, 0700) == 0);
    CHECK(sl_meta_put_scram(m, "alice", &c2) == SL_ERR__IO);
    CHECK(sl_meta_put_scram(m, "bob", &c2) == SL_ERR__IO);
    CHECK(sl_meta_delete_scram(m, "alice", SL_SCRAM_SHA256) == SL_ERR__IO);
    CHECK(sl_meta_scram_generation(m) == gen);
    CHECK(sl_meta_get_scram(m, "alice", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    CHECK(cred_matches(&got, &c));
    CHECK(sl_meta_get_scram(m, "bob", SL_SCRAM_SHA256, &got) == SL_ERR__NOENT);
    CHECK(rmdir(tmp) == 0);
    CHECK(sl_meta_put_topic(m, &t2) == SL_ERR_NONE);
    CHECK(sl_meta_put_scram(m, "bob", &c2) == SL_ERR_NONE);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 2);
    sl_meta_topics_free(list, n);
    struct sl_meta_user_cred *creds;
    CHECK(sl_meta_list_scram(m, &creds, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 2);
    sl_meta_user_creds_free(creds, n);
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



#define K32 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define K64 K32 K32
#define TOPIC_A "topic a 0123456789abcdef0123456789abcdef 1\n"

static void test_codec(void)
{
    /* Bodies without ACLs are the same in versions 2 and 3: framed as the
     * current version, decode then encode gives back the same bytes. */
    static const char *const good[] = {
        SECRET_LINE,
        SECRET_LINE TOPIC_A,
        SECRET_LINE TOPIC_A "config %2D -\nconfig k %2D\n",
        (SECRET_LINE "topic %2D 0123456789abcdef0123456789abcdef 1\n"
         "topic b 00000000000000000000000000000001 2\nconfig a%20b %0A%25%C3%A9\n"),
        SECRET_LINE "scram alice SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
        (SECRET_LINE TOPIC_A "config k v\n"
         "scram %2D SCRAM-SHA-512 16384 " K64 " " K64 " " K64 "\n"
         "scram alice SCRAM-SHA-256 4096 ff " K32 " " K32 "\n"
         "scram alice SCRAM-SHA-512 8192 0a0b " K64 " " K64 "\n"
         "scram alicf SCRAM-SHA-256 4096 ff " K32 " " K32 "\n"
         "scram z%C3%B6e%20%0A%25 SCRAM-SHA-256 4097 01 " K32 " " K32 "\n"),
    };
    uint8_t buf[2048];
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t n = frame(SL_META_LOCAL_VERSION, good[i], buf, sizeof buf);
        struct sl_meta_local_store st;
        sl_err_t rc = sl_meta_local_decode(buf, n, &st, err, sizeof err);
        if (rc)
            fprintf(stderr, "  good %zu: %s\n", i, err);
        CHECK(rc == SL_ERR_NONE);
        CHECK_EQ_INT(st.version, SL_META_LOCAL_VERSION);
        CHECK(st.has_secret && st.secret[0] == 0 && st.secret[31] == 0x1f);
        uint8_t *enc;
        size_t encn;
        sl_meta_local_encode(&st, &enc, &encn);
        CHECK(encn == n && memcmp(enc, buf, n) == 0); /* canonical */
        free(enc);
        sl_meta_local_store_clear(&st);
    }
    /* The decoded credentials of the last one. */
    {
        size_t n = frame(2, good[5], buf, sizeof buf);
        struct sl_meta_local_store st;
        CHECK(sl_meta_local_decode(buf, n, &st, err, sizeof err) == SL_ERR_NONE);
        CHECK_EQ_INT(st.n_topics, 1);
        CHECK_EQ_INT(st.n_creds, 5);
        CHECK(strcmp(st.creds[0].user, "-") == 0);
        CHECK_EQ_INT(st.creds[0].cred.mech, SL_SCRAM_SHA512);
        CHECK_EQ_INT(st.creds[0].cred.salt_len, 64);
        CHECK_EQ_INT(st.creds[0].cred.iterations, 16384);
        CHECK_EQ_INT(st.creds[1].cred.stored_key[31], 0xff);
        CHECK_EQ_INT(st.creds[1].cred.stored_key[32], 0); /* SHA-256: 32-byte keys */
        CHECK_EQ_INT(st.creds[2].cred.salt_len, 2);
        CHECK_EQ_INT(st.creds[2].cred.salt[1], 0x0b);
        CHECK(strcmp(st.creds[4].user, "z\xc3\xb6" "e \n%") == 0);
        sl_meta_local_store_clear(&st);
    }
    /* Version-1 bodies decode (no secret), and encode as version 3 with the
     * secret line first and the same records after it. */
    static const char *const good1[] = {"", TOPIC_A, TOPIC_A "config %2D -\nconfig k %2D\n"};
    for (size_t i = 0; i < sizeof good1 / sizeof good1[0]; i++) {
        size_t n = frame(1, good1[i], buf, sizeof buf);
        struct sl_meta_local_store st;
        CHECK(sl_meta_local_decode(buf, n, &st, err, sizeof err) == SL_ERR_NONE);
        CHECK_EQ_INT(st.version, 1);
        CHECK(!st.has_secret);
        CHECK_EQ_INT(st.n_creds, 0);
        memset(st.secret, 0, sizeof st.secret);
        for (int k = 0; k < 32; k++)
            st.secret[k] = (uint8_t)k;
        st.has_secret = true;
        uint8_t *enc;
        size_t encn;
        sl_meta_local_encode(&st, &enc, &encn);
        char want[512];
        snprintf(want, sizeof want, "%s%s", SECRET_LINE, good1[i]);
        uint8_t wbuf[1024];
        size_t wn = frame(SL_META_LOCAL_VERSION, want, wbuf, sizeof wbuf);
        CHECK(encn == wn && memcmp(enc, wbuf, wn) == 0);
        free(enc);
        sl_meta_local_store_clear(&st);
    }

    static const struct {
        int ver;
        const char *body, *why;
    } bad[] = {
        {1, "topic a 0123456789abcdef0123456789abcdef 1", "line 2: last line has no newline"},
        {1, "topic a  0123456789abcdef0123456789abcdef 1\n", "line 2: empty field or extra space"},
        {1, "topic a 0123456789abcdef0123456789abcdef 1 x\n", "line 2: topic record needs"},
        {1, "topic a 0123456789ABCDEF0123456789abcdef 1\n", "line 2: bad topic id"},
        {1, "topic a 00000000000000000000000000000000 1\n", "line 2: bad topic id"},
        {1, "topic a 0123456789abcdef0123456789abcdef 0\n", "line 2: bad partition count"},
        {1, "topic a 0123456789abcdef0123456789abcdef 01\n", "line 2: bad partition count"},
        {1, "topic a 0123456789abcdef0123456789abcdef 2147483648\n",
         "line 2: bad partition count"},
        {1, "topic a%2 0123456789abcdef0123456789abcdef 1\n", "line 2: bad %XX escape"},
        {1, "topic %61 0123456789abcdef0123456789abcdef 1\n", "line 2: needless %XX escape"},
        {1, TOPIC_A "config k %00\n", "line 3: NUL byte"},
        {1, TOPIC_A "config k v\xff\n", "line 3: byte that must be %XX-escaped"},
        {1, "topic a%20b 0123456789abcdef0123456789abcdef 1\n", "line 2: not a legal topic name"},
        {1,
         "topic b 0123456789abcdef0123456789abcdef 1\n"
         "topic a 1123456789abcdef0123456789abcdef 1\n",
         "line 3: topics out of order or repeated"},
        {1, TOPIC_A "topic a 1123456789abcdef0123456789abcdef 1\n",
         "line 3: topics out of order or repeated"},
        {1, TOPIC_A "topic b 0123456789abcdef0123456789abcdef 1\n", "two topics have the same id"},
        {1, "config k v\n", "line 2: config record before any topic"},
        {1, TOPIC_A "config b 1\nconfig a 1\n", "line 4: configs out of order or repeated"},
        {1, TOPIC_A "config - 1\n", "line 3: empty config key"},
        {1, TOPIC_A "config k\n", "line 3: config record needs"},
        {1, "acl a\n", "line 2: unknown record"},
        {1, "\n", "line 2: empty field or extra space"},
        /* Version 1 has no secret or scram records. */
        {1, SECRET_LINE, "line 2: unknown record"},
        {1, "scram alice SCRAM-SHA-256 4096 00 " K32 " " K32 "\n", "line 2: unknown record"},
        /* The secret. */
        {2, "", "no secret record"},
        {2, TOPIC_A, "line 2: the secret record must come first"},
        {2, TOPIC_A SECRET_LINE, "line 2: the secret record must come first"},
        {2, SECRET_LINE SECRET_LINE, "line 3: secret record repeated"},
        {2, SECRET_LINE TOPIC_A SECRET_LINE, "line 4: secret record repeated"},
        {2, "secret 00\n", "line 2: secret record needs: 64 lower-case hex digits"},
        {2, "secret " K64 "\n", "line 2: secret record needs"},
        {2, "secret 000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f\n",
         "line 2: secret record needs"},
        {2, "secret 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f x\n",
         "line 2: secret record needs"},
        /* Credentials. */
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 4096 00 " K32 "\n",
         "line 3: scram record needs"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-1 4096 00 " K32 " " K32 "\n",
         "line 3: unknown SCRAM mechanism"},
        {2, SECRET_LINE "scram alice 1 4096 00 " K32 " " K32 "\n",
         "line 3: unknown SCRAM mechanism"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 4095 00 " K32 " " K32 "\n",
         "line 3: bad SCRAM credential: iterations not 4096..16384"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 16385 00 " K32 " " K32 "\n",
         "line 3: bad SCRAM credential: iterations not 4096..16384"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 04096 00 " K32 " " K32 "\n",
         "line 3: bad SCRAM iterations"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 99999999999 00 " K32 " " K32 "\n",
         "line 3: bad SCRAM iterations"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 4096 0 " K32 " " K32 "\n",
         "line 3: bad SCRAM salt"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 4096 0A " K32 " " K32 "\n",
         "line 3: bad SCRAM salt"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 4096 - " K32 " " K32 "\n",
         "line 3: bad SCRAM salt"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 4096 00 " K64 " " K32 "\n",
         "line 3: bad SCRAM key (64 lower-case hex digits expected for SCRAM-SHA-256)"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-512 4096 00 " K64 " " K32 "\n",
         "line 3: bad SCRAM key (128 lower-case hex digits expected for SCRAM-SHA-512)"},
        {2, SECRET_LINE "scram alice SCRAM-SHA-256 4096 00 " K32 " 0" K32 "\n",
         "line 3: bad SCRAM key"},
        {2, SECRET_LINE "scram - SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 3: SCRAM user: empty user name"},
        {2, SECRET_LINE "scram %C0%80 SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 3: SCRAM user: user name is not well-formed UTF-8"},
        {2, SECRET_LINE "scram %ED%A0%80 SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 3: SCRAM user: user name is not well-formed UTF-8"},
        {2, SECRET_LINE "scram a%00 SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 3: SCRAM user: NUL byte in a field"},
        {2, SECRET_LINE "scram b SCRAM-SHA-256 4096 00 " K32 " " K32 "\n"
                        "scram a SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 4: SCRAM credentials out of order or repeated"},
        {2, SECRET_LINE "scram a SCRAM-SHA-512 4096 00 " K64 " " K64 "\n"
                        "scram a SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 4: SCRAM credentials out of order or repeated"},
        {2, SECRET_LINE "scram a SCRAM-SHA-256 4096 00 " K32 " " K32 "\n"
                        "scram a SCRAM-SHA-256 4096 01 " K32 " " K32 "\n",
         "line 4: SCRAM credentials out of order or repeated"},
        {2, SECRET_LINE "scram a SCRAM-SHA-256 4096 00 " K32 " " K32 "\n" TOPIC_A,
         "line 4: topic record after the scram records"},
        {2, SECRET_LINE TOPIC_A "scram a SCRAM-SHA-256 4096 00 " K32 " " K32 "\nconfig k v\n",
         "line 5: config record after the scram records"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = frame(bad[i].ver, bad[i].body, buf, sizeof buf);
        struct sl_meta_local_store st;
        memset(&st, 0xa5, sizeof st);
        sl_err_t rc = sl_meta_local_decode(buf, n, &st, err, sizeof err);
        bool ok = rc == SL_ERR__CORRUPT && strstr(err, bad[i].why) && st.topics == NULL &&
                  st.n_topics == 0 && st.creds == NULL && st.n_creds == 0;
        if (!ok)
            fprintf(stderr, "  bad %zu: rc=%d err=%s body=%s\n", i, rc, err, bad[i].body);
        CHECK(ok);
    }
    /* A salt of SL_SCRAM_SALT_MAX bytes is accepted, one more refused. */
    char body[4096];
    char salt[2 * SL_SCRAM_SALT_MAX + 3];
    static uint8_t big[8192];
    struct sl_meta_local_store st;
    memset(salt, 'a', sizeof salt);
    salt[2 * SL_SCRAM_SALT_MAX] = '\0';
    snprintf(body, sizeof body, SECRET_LINE "scram a SCRAM-SHA-256 4096 %s " K32 " " K32 "\n",
             salt);
    size_t n = frame(2, body, big, sizeof big);
    CHECK(sl_meta_local_decode(big, n, &st, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(st.creds[0].cred.salt_len, SL_SCRAM_SALT_MAX);
    sl_meta_local_store_clear(&st);
    salt[2 * SL_SCRAM_SALT_MAX] = 'a';
    salt[2 * SL_SCRAM_SALT_MAX + 2] = '\0';
    snprintf(body, sizeof body, SECRET_LINE "scram a SCRAM-SHA-256 4096 %s " K32 " " K32 "\n",
             salt);
    n = frame(2, body, big, sizeof big);
    CHECK(sl_meta_local_decode(big, n, &st, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "line 3: bad SCRAM salt"));

    /* A user name of 1024 bytes is accepted, 1025 refused. */
    char name[1100];
    memset(name, 'u', 1025);
    name[1024] = '\0';
    snprintf(body, sizeof body, SECRET_LINE "scram %s SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
             name);
    n = frame(2, body, big, sizeof big);
    CHECK(sl_meta_local_decode(big, n, &st, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(strlen(st.creds[0].user), 1024);
    sl_meta_local_store_clear(&st);
    name[1024] = 'u';
    name[1025] = '\0';
    snprintf(body, sizeof body, SECRET_LINE "scram %s SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
             name);
    n = frame(2, body, big, sizeof big);
    CHECK(sl_meta_local_decode(big, n, &st, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "line 3: SCRAM user: field too long"));

    /* Header variants. */
    static const char *const heads[] = {"sluice-meta 1 0 00000000", "sluice-meta 1 00 00000000\n",
                                        "sluice-meta 01 0 00000000\n",
                                        "sluice-meta 1 0 0000000\n", "Sluice-meta 1 0 00000000\n",
                                        "sluice-meta 1 0 00000000 x\n"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        CHECK(sl_meta_local_decode((const uint8_t *)heads[i], strlen(heads[i]), &st, err,
                                   sizeof err) == SL_ERR__CORRUPT);
    }
}

/* ------------------------------------------------------------------ */
/* SCRAM credentials and the authentication secret                     */
/* ------------------------------------------------------------------ */

static void test_scram_round_trip(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_scram_generation(m) == 1);
    struct sl_meta_user_cred *list;
    int n;
    CHECK(sl_meta_list_scram(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 0);
    CHECK(list == NULL);
    struct sl_meta_topic t = {.name = "orders", .id = uuid_of(1), .partitions = 3};
    CHECK(sl_meta_put_topic(m, &t) == SL_ERR_NONE);
    CHECK(sl_meta_scram_generation(m) == 1); /* topics do not count */

    static const char *const users[] = {"zo\xc3\xab user", "alice", "line\nbreak", "-", "alice",
                                        "b\xf0\x9f\x98\x80", "bob"};
    static const int mechs[] = {SL_SCRAM_SHA512, SL_SCRAM_SHA512, SL_SCRAM_SHA256,
                                SL_SCRAM_SHA256, SL_SCRAM_SHA256, SL_SCRAM_SHA512,
                                SL_SCRAM_SHA256};
    struct sl_scram_cred c[7];
    for (int i = 0; i < 7; i++) {
        c[i] = mk_cred(mechs[i], i * 10 + 1);
        CHECK(sl_meta_put_scram(m, users[i], &c[i]) == SL_ERR_NONE);
        CHECK(sl_meta_scram_generation(m) == (uint64_t)i + 2);
    }
    struct sl_scram_cred got;
    CHECK(sl_meta_get_scram(m, "alice", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    CHECK(cred_matches(&got, &c[4]));
    CHECK(sl_meta_get_scram(m, "alice", SL_SCRAM_SHA512, &got) == SL_ERR_NONE);
    CHECK(cred_matches(&got, &c[1]));
    CHECK(sl_meta_get_scram(m, "line\nbreak", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    CHECK(cred_matches(&got, &c[2]));
    /* Absent: another user, another mechanism, nonsense. *out untouched. */
    memset(&got, 0x5a, sizeof got);
    CHECK(sl_meta_get_scram(m, "carol", SL_SCRAM_SHA256, &got) == SL_ERR__NOENT);
    CHECK(sl_meta_get_scram(m, "bob", SL_SCRAM_SHA512, &got) == SL_ERR__NOENT);
    CHECK(sl_meta_get_scram(m, "alic", SL_SCRAM_SHA256, &got) == SL_ERR__NOENT);
    CHECK(sl_meta_get_scram(m, "alice", 3, &got) == SL_ERR__NOENT);
    CHECK(sl_meta_get_scram(m, "alice", 0, &got) == SL_ERR__NOENT);
    CHECK(sl_meta_get_scram(m, "", SL_SCRAM_SHA256, &got) == SL_ERR__NOENT);
    CHECK(sl_meta_get_scram(m, NULL, SL_SCRAM_SHA256, &got) == SL_ERR__NOENT);
    CHECK(got.mech == 0x5a5a5a5a);

    /* Replace: same (user, mech), new values; the count stays. */
    struct sl_scram_cred r = mk_cred(SL_SCRAM_SHA256, 99);
    r.iterations = 8192;
    CHECK(sl_meta_put_scram(m, "alice", &r) == SL_ERR_NONE);
    CHECK(sl_meta_scram_generation(m) == 9);
    CHECK(sl_meta_get_scram(m, "alice", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    CHECK(cred_matches(&got, &r));
    CHECK_EQ_INT(got.iterations, 8192);
    c[4] = r;

    /* Sorted by user (bytewise), then mechanism. */
    static const struct {
        const char *user;
        int idx;
    } want[] = {{"-", 3},           {"alice", 4}, {"alice", 1},
                {"bob", 6},         {"b\xf0\x9f\x98\x80", 5}, /* 'o' < 0xf0 */
                {"line\nbreak", 2}, {"zo\xc3\xab user", 0}};
    CHECK(sl_meta_list_scram(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 7);
    for (int i = 0; i < 7; i++) {
        CHECK(strcmp(list[i].user, want[i].user) == 0);
        CHECK(cred_matches(&list[i].cred, &c[want[i].idx]));
    }
    sl_meta_user_creds_free(list, n);

    /* Delete. */
    CHECK(sl_meta_delete_scram(m, "bob", SL_SCRAM_SHA256) == SL_ERR_NONE);
    CHECK(sl_meta_scram_generation(m) == 10);
    CHECK(sl_meta_delete_scram(m, "bob", SL_SCRAM_SHA256) == SL_ERR__NOENT);
    CHECK(sl_meta_delete_scram(m, "alice", SL_SCRAM_SHA512) == SL_ERR_NONE);
    CHECK(sl_meta_delete_scram(m, "nobody", SL_SCRAM_SHA512) == SL_ERR__NOENT);
    CHECK(sl_meta_scram_generation(m) == 11);
    CHECK(sl_meta_get_scram(m, "bob", SL_SCRAM_SHA256, &got) == SL_ERR__NOENT);
    CHECK(sl_meta_get_scram(m, "alice", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    uint8_t secret[SL_META_SECRET_LEN];
    CHECK(sl_meta_auth_secret(m, secret) == SL_ERR_NONE);
    sl_meta_close(m);

    /* Everything survives close and reopen, the topic included. */
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_scram_generation(m) == 1);
    CHECK(sl_meta_list_scram(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 5);
    static const int left[] = {0, 1, 4, 5, 6}; /* bob and alice/512 deleted */
    for (int i = 0; i < 5; i++) {
        CHECK(strcmp(list[i].user, want[left[i]].user) == 0);
        CHECK(cred_matches(&list[i].cred, &c[want[left[i]].idx]));
    }
    sl_meta_user_creds_free(list, n);
    struct sl_meta_topic gt;
    CHECK(sl_meta_get_topic(m, "orders", &gt) == SL_ERR_NONE);
    sl_meta_topic_clear(&gt);
    uint8_t secret2[SL_META_SECRET_LEN];
    CHECK(sl_meta_auth_secret(m, secret2) == SL_ERR_NONE);
    CHECK(memcmp(secret, secret2, sizeof secret) == 0);
    /* Delete everything: an empty credential set reopens empty. */
    for (int i = 0; i < 5; i++)
        CHECK(sl_meta_delete_scram(m, want[left[i]].user, mechs[want[left[i]].idx]) ==
              SL_ERR_NONE);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_list_scram(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 0);
    sl_meta_close(m);
    cleanup();
}

/* User names and credentials the store refuses, with SL_ERR__INVAL and no
 * change; the bounds themselves are accepted. */
static void test_scram_invalid(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_scram_cred ok = mk_cred(SL_SCRAM_SHA256, 1);
    static const char *const bad_users[] = {
        "",
        "\xc0\x80",         /* overlong NUL */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80", /* never a lead byte */
        "\x80",             /* stray continuation */
        "a\xe2\x82",        /* truncated */
        "\xc3(",            /* bad continuation */
        "\xff",
    };
    for (size_t i = 0; i < sizeof bad_users / sizeof bad_users[0]; i++) {
        CHECK(sl_meta_put_scram(m, bad_users[i], &ok) == SL_ERR__INVAL);
        CHECK(sl_meta_delete_scram(m, bad_users[i], SL_SCRAM_SHA256) == SL_ERR__INVAL);
    }
    CHECK(sl_meta_put_scram(m, NULL, &ok) == SL_ERR__INVAL);
    CHECK(sl_meta_put_scram(m, "alice", NULL) == SL_ERR__INVAL);
    CHECK(sl_meta_delete_scram(m, NULL, SL_SCRAM_SHA256) == SL_ERR__INVAL);
    char name[1100];
    memset(name, 'x', sizeof name);
    name[1025] = '\0';
    CHECK(sl_meta_put_scram(m, name, &ok) == SL_ERR__INVAL);
    name[1024] = '\0';
    CHECK(sl_meta_put_scram(m, name, &ok) == SL_ERR_NONE);
    /* 1024 bytes of two-byte characters. */
    for (int i = 0; i < 1024; i += 2) {
        name[i] = '\xc3';
        name[i + 1] = '\xa9';
    }
    CHECK(sl_meta_put_scram(m, name, &ok) == SL_ERR_NONE);
    CHECK(sl_meta_put_scram(m, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xe0\xa0\x80\xef\xbf\xbf",
                            &ok) == SL_ERR_NONE); /* edges of the valid ranges */
    uint64_t gen = sl_meta_scram_generation(m);

    struct sl_scram_cred c;
    static const int bad_mechs[] = {0, 3, -1, SL_SCRAM_MECH_MAX};
    for (size_t i = 0; i < sizeof bad_mechs / sizeof bad_mechs[0]; i++) {
        c = ok;
        c.mech = bad_mechs[i];
        CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR__INVAL);
        CHECK(sl_meta_delete_scram(m, "alice", bad_mechs[i]) == SL_ERR__INVAL);
    }
    static const size_t bad_salts[] = {0, SL_SCRAM_SALT_MAX + 1, (size_t)-1};
    for (size_t i = 0; i < sizeof bad_salts / sizeof bad_salts[0]; i++) {
        c = ok;
        c.salt_len = bad_salts[i];
        CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR__INVAL);
    }
    static const int32_t bad_iters[] = {0, -1, SL_SCRAM_MIN_ITERATIONS - 1,
                                        SL_SCRAM_MAX_ITERATIONS + 1, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_iters / sizeof bad_iters[0]; i++) {
        c = ok;
        c.iterations = bad_iters[i];
        CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR__INVAL);
    }
    CHECK(sl_meta_scram_generation(m) == gen);
    struct sl_meta_user_cred *list;
    int n;
    CHECK(sl_meta_list_scram(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 3);
    sl_meta_user_creds_free(list, n);
    /* The bounds. */
    c = ok;
    c.salt_len = 1;
    c.iterations = SL_SCRAM_MIN_ITERATIONS;
    CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR_NONE);
    c = mk_cred(SL_SCRAM_SHA512, 2);
    c.salt_len = SL_SCRAM_SALT_MAX;
    c.iterations = SL_SCRAM_MAX_ITERATIONS;
    CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR_NONE);
    struct sl_scram_cred got;
    CHECK(sl_meta_get_scram(m, "alice", SL_SCRAM_SHA512, &got) == SL_ERR_NONE);
    CHECK(cred_matches(&got, &c));
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_list_scram(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 5);
    sl_meta_user_creds_free(list, n);
    sl_meta_close(m);
    cleanup();
}

static int scram_line(char *out, size_t cap, int i)
{
    return snprintf(out, cap, "scram u%06d SCRAM-SHA-256 4096 %02x " K32 " " K32 "\n", i, i & 255);
}

/* Writes a version-2 store of n credentials u000000..u<n-1> (SHA-256) and,
 * when extra, a further one after them. */
static void write_many(int n, bool extra)
{
    write_lines(2, n + (extra ? 1 : 0), scram_line);
}

/* At most SL_META_CREDS_MAX credentials: a new one beyond is SL_ERR__LIMIT
 * (a replacement is fine), and a file with more is refused. */
static void test_scram_limit(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    sl_meta_close(m);
    write_many(SL_META_CREDS_MAX, false);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_scram_cred c = mk_cred(SL_SCRAM_SHA256, 3), got;
    CHECK(sl_meta_get_scram(m, "u099999", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    CHECK(sl_meta_get_scram(m, "u050000", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    CHECK(sl_meta_put_scram(m, "new", &c) == SL_ERR__LIMIT);
    CHECK(sl_meta_put_scram(m, "u000007", &c) == SL_ERR_NONE);
    CHECK(sl_meta_delete_scram(m, "u000008", SL_SCRAM_SHA256) == SL_ERR_NONE);
    CHECK(sl_meta_put_scram(m, "new", &c) == SL_ERR_NONE);
    CHECK(sl_meta_put_scram(m, "new2", &c) == SL_ERR__LIMIT);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_get_scram(m, "new", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    CHECK(cred_matches(&got, &c));
    CHECK(sl_meta_get_scram(m, "u000008", SL_SCRAM_SHA256, &got) == SL_ERR__NOENT);
    sl_meta_close(m);
    write_many(SL_META_CREDS_MAX, true);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "line 100003: more than 100000 SCRAM credentials"));
    cleanup();
}

/* A damaged credential in the store stops the open with the file, the line
 * and the reason. */
static void test_scram_corrupt(void)
{
    static const struct {
        const char *body, *why;
    } bad[] = {
        {SECRET_LINE "scram alice SCRAM-SHA-256 1000 00 " K32 " " K32 "\n",
         "line 3: bad SCRAM credential: iterations not 4096..16384"},
        {SECRET_LINE "scram alice SCRAM-SHA-384 4096 00 " K32 " " K32 "\n",
         "line 3: unknown SCRAM mechanism (SCRAM-SHA-256 or SCRAM-SHA-512 expected)"},
        {SECRET_LINE "scram alice SCRAM-SHA-512 4096 00 " K32 " " K32 "\n",
         "line 3: bad SCRAM key (128 lower-case hex digits expected for SCRAM-SHA-512)"},
        {SECRET_LINE "scram alice SCRAM-SHA-256 4096 0 " K32 " " K32 "\n",
         "line 3: bad SCRAM salt (2 to "},
        {SECRET_LINE "scram %FF SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 3: SCRAM user: user name is not well-formed UTF-8"},
        {SECRET_LINE TOPIC_A "scram b SCRAM-SHA-256 4096 00 " K32 " " K32 "\n"
                             "scram a SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 5: SCRAM credentials out of order or repeated"},
        {TOPIC_A, "line 2: the secret record must come first"},
    };
    fresh_dir();
    struct sl_meta *m;
    char err[1024];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    sl_meta_close(m);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(open_refused(2, bad[i].body, bad[i].why));
    cleanup();
}

/* The version-1 store written by the test; frame() is the old writer. */
#define V1_BODY                                                                                    \
    "topic payments 0000030405060708090a0b0c0d0e0f10 12\nconfig retention.ms 86400000\n"

static void write_v1(void)
{
    uint8_t buf[512];
    write_store(buf, frame(1, V1_BODY, buf, sizeof buf));
}

/* A store of format version 1 loads; opening does not rewrite it; the next
 * change (or the first sl_meta_auth_secret) upgrades it to the current
 * version with a secret that stays the same afterwards. */
static void test_upgrade(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512], path[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    sl_meta_close(m);
    store_path(path, sizeof path, SL_META_LOCAL_FILE);

    /* 1. Upgrade by a credential write. */
    write_v1();
    size_t len0, len1;
    uint8_t *before = read_file(path, &len0);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_meta_topic *topics;
    int n;
    CHECK(sl_meta_list_topics(m, &topics, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 1);
    CHECK(strcmp(topics[0].name, "payments") == 0);
    CHECK_EQ_INT(topics[0].partitions, 12);
    CHECK(strcmp(topics[0].configs[0].value, "86400000") == 0);
    sl_meta_topics_free(topics, n);
    struct sl_meta_user_cred *creds;
    CHECK(sl_meta_list_scram(m, &creds, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 0);
    sl_meta_close(m);
    uint8_t *after = read_file(path, &len1);
    CHECK(len0 == len1 && memcmp(before, after, len0) == 0); /* untouched */
    free(before);
    free(after);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_scram_cred c = mk_cred(SL_SCRAM_SHA256, 4);
    CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR_NONE);
    CHECK(file_is_version(SL_META_LOCAL_VERSION));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    uint8_t s1[SL_META_SECRET_LEN], s2[SL_META_SECRET_LEN];
    CHECK(sl_meta_auth_secret(m, s1) == SL_ERR_NONE);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_auth_secret(m, s2) == SL_ERR_NONE);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    CHECK(sl_meta_list_topics(m, &topics, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 1);
    sl_meta_topics_free(topics, n);
    struct sl_scram_cred got;
    CHECK(sl_meta_get_scram(m, "alice", SL_SCRAM_SHA256, &got) == SL_ERR_NONE);
    CHECK(cred_matches(&got, &c));
    sl_meta_close(m);

    /* 2. Upgrade by a topic write: the secret comes with it. */
    write_v1();
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_delete_topic(m, "payments") == SL_ERR_NONE);
    CHECK(file_is_version(SL_META_LOCAL_VERSION));
    CHECK(sl_meta_auth_secret(m, s1) == SL_ERR_NONE);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_auth_secret(m, s2) == SL_ERR_NONE);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    sl_meta_close(m);

    /* 3. Upgrade by sl_meta_auth_secret itself; a failed write hands out
     * nothing and changes nothing, a later call succeeds. */
    write_v1();
    char tmp[512];
    store_path(tmp, sizeof tmp, SL_META_LOCAL_TMP);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(mkdir(tmp, 0700) == 0);
    memset(s1, 0x77, sizeof s1);
    CHECK(sl_meta_auth_secret(m, s1) == SL_ERR__IO);
    CHECK(s1[0] == 0x77 && s1[31] == 0x77);
    CHECK(file_is_version(1));
    CHECK(rmdir(tmp) == 0);
    CHECK(sl_meta_auth_secret(m, s1) == SL_ERR_NONE);
    CHECK(file_is_version(SL_META_LOCAL_VERSION));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(sl_meta_auth_secret(m, s2) == SL_ERR_NONE); /* from memory */
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_auth_secret(m, s2) == SL_ERR_NONE);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    CHECK(sl_meta_list_topics(m, &topics, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 1);
    sl_meta_topics_free(topics, n);
    sl_meta_close(m);

    /* 4. A version-1 file cannot carry version-2 records. */
    uint8_t buf[512];
    write_store(buf, frame(1, V1_BODY "scram alice SCRAM-SHA-256 4096 00 " K32 " " K32 "\n", buf,
                           sizeof buf));
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "line 4: unknown record"));
    cleanup();
}

/* The secret: random, different per store, stable across reopen, kept in
 * the file; a new store has it on disk at once. */
static void test_secret(void)
{
    uint8_t a[SL_META_SECRET_LEN], a2[SL_META_SECRET_LEN], b[SL_META_SECRET_LEN];
    static const uint8_t zero[SL_META_SECRET_LEN];
    struct sl_meta *m;
    char err[512], path[512];
    fresh_dir();
    char dir_a[256];
    snprintf(dir_a, sizeof dir_a, "%s", dir);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_auth_secret(m, a) == SL_ERR_NONE);
    CHECK(memcmp(a, zero, sizeof a) != 0);
    sl_meta_close(m);
    /* In the file, as the secret record. */
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    size_t len;
    uint8_t *file = read_file(path, &len);
    char hex[2 * SL_META_SECRET_LEN + 1];
    for (int i = 0; i < SL_META_SECRET_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", a[i]);
    CHECK(file && strstr((char *)file, hex));
    free(file);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_auth_secret(m, a2) == SL_ERR_NONE);
    CHECK(memcmp(a, a2, sizeof a) == 0);
    sl_meta_close(m);

    fresh_dir();
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_auth_secret(m, b) == SL_ERR_NONE);
    CHECK(memcmp(a, b, sizeof a) != 0);
    sl_meta_close(m);
    cleanup();
    snprintf(dir, sizeof dir, "%s", dir_a);
    cleanup();
}

/* A change that would make the file larger than the reader accepts is
 * refused with SL_ERR__LIMIT, and nothing changes. */
static void test_too_big(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    /* 350 values of 64 KiB that each encode to 192 KiB: 67 MiB. */
    enum { NCFG = 350 };
    char *val = malloc(SL_META_VALUE_MAX + 1);
    memset(val, 0x01, SL_META_VALUE_MAX);
    val[SL_META_VALUE_MAX] = '\0';
    struct sl_kv *cfg = calloc(NCFG, sizeof *cfg);
    char keys[NCFG][8];
    for (int i = 0; i < NCFG; i++) {
        snprintf(keys[i], sizeof keys[i], "k%03d", i);
        cfg[i].key = keys[i];
        cfg[i].value = val;
    }
    struct sl_meta_topic t = {.name = "huge", .id = uuid_of(1), .partitions = 1,
                              .configs = cfg, .n_configs = NCFG};
    uint64_t gen = sl_meta_scram_generation(m);
    CHECK(sl_meta_put_topic(m, &t) == SL_ERR__LIMIT);
    t.n_configs = 10;
    CHECK(sl_meta_put_topic(m, &t) == SL_ERR_NONE); /* the store still works */
    struct sl_scram_cred c = mk_cred(SL_SCRAM_SHA256, 1);
    CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR_NONE);
    CHECK(sl_meta_scram_generation(m) == gen + 1);
    free(cfg);
    free(val);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_meta_topic got;
    CHECK(sl_meta_get_topic(m, "huge", &got) == SL_ERR_NONE);
    CHECK_EQ_INT(got.n_configs, 10);
    sl_meta_topic_clear(&got);
    sl_meta_close(m);
    cleanup();
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
        struct sl_scram_cred c = mk_cred(SL_SCRAM_SHA256, w->id * 10 + i);
        if (sl_meta_put_scram(w->m, name, &c) != SL_ERR_NONE)
            w->failures++;
        if (i % 2 == 1 && sl_meta_delete_scram(w->m, name, SL_SCRAM_SHA256) != SL_ERR_NONE)
            w->failures++;
    }
    return NULL;
}

/* A network thread's view: the credential put before the writers started
 * is found, whole, on every lookup while they rewrite the store. */
struct reader {
    struct sl_meta *m;
    const struct sl_scram_cred *want;
    _Atomic int *stop;
    int lookups, failures;
};

static void *read_work(void *arg)
{
    struct reader *r = arg;
    while (!atomic_load(r->stop)) {
        struct sl_scram_cred got;
        if (sl_meta_get_scram(r->m, "steady", SL_SCRAM_SHA512, &got) != SL_ERR_NONE ||
            !cred_matches(&got, r->want))
            r->failures++;
        r->lookups++;
    }
    return NULL;
}

static void test_threads(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_scram_cred steady = mk_cred(SL_SCRAM_SHA512, 42);
    CHECK(sl_meta_put_scram(m, "steady", &steady) == SL_ERR_NONE);
    _Atomic int stop = 0;
    pthread_t rth[2];
    struct reader r[2];
    for (int i = 0; i < 2; i++) {
        r[i] = (struct reader){m, &steady, &stop, 0, 0};
        pthread_create(&rth[i], NULL, read_work, &r[i]);
    }
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
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(rth[i], NULL);
        CHECK_EQ_INT(r[i].failures, 0);
        CHECK(r[i].lookups > 0);
    }
    CHECK(sl_meta_scram_generation(m) == 1 + 1 + 4 * 15); /* steady, 40 puts, 20 deletes */
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    struct sl_meta_topic *list;
    int n;
    CHECK(sl_meta_list_topics(m, &list, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 20);
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(list[i].partitions % 2, 1);
    sl_meta_topics_free(list, n);
    struct sl_meta_user_cred *creds;
    CHECK(sl_meta_list_scram(m, &creds, &n) == SL_ERR_NONE);
    CHECK_EQ_INT(n, 21);
    sl_meta_user_creds_free(creds, n);
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
    TEST_RUN(test_scram_round_trip);
    TEST_RUN(test_scram_invalid);
    TEST_RUN(test_scram_limit);
    TEST_RUN(test_scram_corrupt);
    TEST_RUN(test_upgrade);
    TEST_RUN(test_secret);
    TEST_RUN(test_too_big);
    TEST_RUN(test_threads);
    TEST_REPORT();
}
