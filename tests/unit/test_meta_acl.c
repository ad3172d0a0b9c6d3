/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the ACL half of src/meta: create, list and delete with
 * filters, duplicates stored once, atomic batches (one invalid binding or
 * a failed write stores nothing), the generation counter and the compiled
 * set, survival across close and reopen and across writes of topics and
 * credentials, the upgrade of version-1 and version-2 stores, the binding
 * limit, the codec's canonical form for acl records, refusal at open of a
 * store with a damaged acl record, naming the problem, and decisions on
 * other threads while the ACLs change.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/logging.h"
#include "meta/meta.h"
#include "meta/meta_local.h"
#include "meta_help.h"
#include "test_help.h"

static struct sl_acl mk(int res, int pat, const char *name, const char *principal,
                        const char *host, int op, int perm)
{
    return (struct sl_acl){(int8_t)res, (int8_t)pat, (int8_t)op, (int8_t)perm,
                           (char *)name, (char *)principal, (char *)host};
}

#define T SL_ACL_RES_TOPIC
#define LIT SL_ACL_PAT_LITERAL
#define PRE SL_ACL_PAT_PREFIXED
#define R SL_ACL_OP_READ
#define W SL_ACL_OP_WRITE
#define ALLOW SL_ACL_PERM_ALLOW
#define DENY SL_ACL_PERM_DENY

static const struct sl_acl_filter all = {SL_ACL_RES_ANY, SL_ACL_PAT_ANY, SL_ACL_OP_ANY,
                                         SL_ACL_PERM_ANY, NULL, NULL, NULL};

static int count_acls(struct sl_meta *m)
{
    struct sl_meta_acl_list l;
    if (sl_meta_list_acls(m, NULL, &l) != SL_ERR_NONE)
        abort();
    int n = l.n;
    sl_meta_acl_list_clear(&l);
    return n;
}

/* Decides READ on topic name for principal from 10.0.0.1 with the store's
 * current set. */
static bool may_read(struct sl_meta *m, const char *principal, const char *name)
{
    struct sl_acl_set *s = sl_meta_acl_set(m);
    struct sl_authz_decision d;
    sl_acl_decide(s, principal, "10.0.0.1", R, T, name, strlen(name), false, &d);
    sl_acl_set_unref(s);
    return d.allowed;
}

static void test_crud(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512], path[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_acl_generation(m) == 1);
    struct sl_acl_set *s0 = sl_meta_acl_set(m);
    CHECK(s0 && sl_acl_set_count(s0) == 0);
    CHECK(!may_read(m, "User:alice", "orders"));

    const struct sl_acl in[] = {
        mk(T, LIT, "orders", "User:alice", "*", R, ALLOW),
        mk(T, PRE, "ord", "User:bob", "10.0.0.1", W, ALLOW),
        mk(SL_ACL_RES_GROUP, LIT, "g1", "User:alice", "*", R, ALLOW),
        mk(T, LIT, "*", "User:eve", "*", SL_ACL_OP_ALL, DENY),
        mk(T, LIT, "orders", "User:alice", "*", R, ALLOW), /* repeated in the batch */
    };
    CHECK(sl_meta_create_acls(m, in, 5) == SL_ERR_NONE);
    CHECK(sl_meta_acl_generation(m) == 2);
    CHECK_EQ_INT(sl_acl_set_count(s0), 0); /* an old reference is unchanged */
    sl_acl_set_unref(s0);
    CHECK_EQ_INT(count_acls(m), 4);
    CHECK(may_read(m, "User:alice", "orders"));
    CHECK(!may_read(m, "User:eve", "orders"));

    /* Already stored: success, no write, no bump. */
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    size_t l0, l1;
    uint8_t *before = read_file(path, &l0);
    CHECK(sl_meta_create_acls(m, in, 2) == SL_ERR_NONE);
    CHECK(sl_meta_acl_generation(m) == 2);
    uint8_t *after = read_file(path, &l1);
    CHECK(l0 == l1 && memcmp(before, after, l0) == 0);
    free(before);
    free(after);
    CHECK(sl_meta_create_acls(m, NULL, 0) == SL_ERR_NONE);
    CHECK(sl_meta_create_acls(m, NULL, 1) == SL_ERR__INVAL);

    /* List: everything, in set order; then with filters. */
    struct sl_meta_acl_list l;
    CHECK(sl_meta_list_acls(m, &all, &l) == SL_ERR_NONE);
    CHECK_EQ_INT(l.n, 4);
    CHECK(sl_acl_equal(&l.acls[0], &in[3])); /* TOPIC LITERAL "*" */
    CHECK(sl_acl_equal(&l.acls[1], &in[0])); /* TOPIC LITERAL orders */
    CHECK(sl_acl_equal(&l.acls[2], &in[1])); /* TOPIC PREFIXED */
    CHECK(sl_acl_equal(&l.acls[3], &in[2])); /* GROUP */
    sl_meta_acl_list_clear(&l);
    CHECK(l.n == 0 && l.acls == NULL);
    struct sl_acl_filter f = {T, SL_ACL_PAT_MATCH, SL_ACL_OP_ANY, SL_ACL_PERM_ANY,
                              "orders-eu", NULL, NULL};
    CHECK(sl_meta_list_acls(m, &f, &l) == SL_ERR_NONE);
    CHECK_EQ_INT(l.n, 2); /* LITERAL "*" and PREFIXED "ord" */
    sl_meta_acl_list_clear(&l);
    f.principal = "User:nobody";
    CHECK(sl_meta_list_acls(m, &f, &l) == SL_ERR_NONE);
    CHECK(l.n == 0 && l.acls == NULL);
    f.pattern = SL_ACL_PAT_UNKNOWN;
    CHECK(sl_meta_list_acls(m, &f, &l) == SL_ERR__INVAL);

    /* Delete: a binding matched by two filters is listed under each. */
    struct sl_acl_filter fs[3] = {
        {SL_ACL_RES_ANY, SL_ACL_PAT_ANY, SL_ACL_OP_ANY, SL_ACL_PERM_ANY, NULL, "User:alice",
         NULL},
        {T, LIT, SL_ACL_OP_ANY, SL_ACL_PERM_ANY, "orders", NULL, NULL},
        {T, PRE, SL_ACL_OP_ANY, SL_ACL_PERM_ANY, "nothing", NULL, NULL},
    };
    struct sl_meta_acl_list del[3];
    CHECK(sl_meta_delete_acls(m, fs, 3, del) == SL_ERR_NONE);
    CHECK_EQ_INT(del[0].n, 2);
    CHECK_EQ_INT(del[1].n, 1);
    CHECK_EQ_INT(del[2].n, 0);
    CHECK(sl_acl_equal(&del[0].acls[0], &in[0]) && sl_acl_equal(&del[0].acls[1], &in[2]));
    CHECK(sl_acl_equal(&del[1].acls[0], &in[0]));
    for (int i = 0; i < 3; i++)
        sl_meta_acl_list_clear(&del[i]);
    CHECK(sl_meta_acl_generation(m) == 3);
    CHECK_EQ_INT(count_acls(m), 2);
    CHECK(!may_read(m, "User:alice", "orders"));
    /* Nothing matches: success, nothing deleted, no bump. */
    CHECK(sl_meta_delete_acls(m, &fs[2], 1, del) == SL_ERR_NONE);
    CHECK(del[0].n == 0 && del[0].acls == NULL);
    CHECK(sl_meta_acl_generation(m) == 3);
    /* An invalid filter among valid ones: nothing deleted. */
    fs[1].op = SL_ACL_OP_UNKNOWN;
    CHECK(sl_meta_delete_acls(m, fs, 2, del) == SL_ERR__INVAL);
    CHECK(del[0].n == 0 && del[1].n == 0);
    CHECK_EQ_INT(count_acls(m), 2);
    CHECK(sl_meta_acl_generation(m) == 3);
    sl_meta_close(m);

    /* Survives close and reopen; the generation starts at 1 again. */
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_meta_acl_generation(m) == 1);
    CHECK(sl_meta_list_acls(m, NULL, &l) == SL_ERR_NONE);
    CHECK_EQ_INT(l.n, 2);
    CHECK(sl_acl_equal(&l.acls[0], &in[3]) && sl_acl_equal(&l.acls[1], &in[1]));
    sl_meta_acl_list_clear(&l);
    /* Delete everything: an empty set reopens empty. */
    CHECK(sl_meta_delete_acls(m, &all, 1, del) == SL_ERR_NONE);
    CHECK_EQ_INT(del[0].n, 2);
    sl_meta_acl_list_clear(&del[0]);
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(count_acls(m), 0);
    sl_meta_close(m);
    cleanup();
}

/* One invalid binding refuses the batch; a failed write stores (or
 * deletes) nothing and bumps nothing; topic and credential writes keep
 * the ACLs. */
static void test_atomic(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512], tmp[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    const struct sl_acl good = mk(T, LIT, "orders", "User:alice", "*", R, ALLOW);
    const struct sl_acl batch[] = {
        mk(T, LIT, "a", "User:alice", "*", R, ALLOW),
        mk(T, LIT, "b", "alice", "*", R, ALLOW), /* no principal type */
        mk(T, LIT, "c", "User:alice", "*", R, ALLOW),
    };
    CHECK(sl_meta_create_acls(m, batch, 3) == SL_ERR__INVAL);
    CHECK_EQ_INT(count_acls(m), 0);
    CHECK(sl_meta_acl_generation(m) == 1);
    const struct sl_acl cluster = mk(SL_ACL_RES_CLUSTER, LIT, "other", "User:a", "*", R, ALLOW);
    CHECK(sl_meta_create_acls(m, &cluster, 1) == SL_ERR__INVAL);
    CHECK(sl_meta_create_acls(m, &good, 1) == SL_ERR_NONE);
    CHECK(sl_meta_acl_generation(m) == 2);

    store_path(tmp, sizeof tmp, SL_META_LOCAL_TMP);
    CHECK(mkdir(tmp, 0700) == 0);
    CHECK(sl_meta_create_acls(m, batch, 1) == SL_ERR__IO);
    struct sl_meta_acl_list del = {(struct sl_acl *)1, 99};
    CHECK(sl_meta_delete_acls(m, &all, 1, &del) == SL_ERR__IO);
    CHECK(del.n == 0 && del.acls == NULL);
    CHECK(sl_meta_acl_generation(m) == 2);
    CHECK_EQ_INT(count_acls(m), 1);
    CHECK(may_read(m, "User:alice", "orders"));
    CHECK(rmdir(tmp) == 0);

    /* Other writers rewrite the file with the ACLs in it. */
    struct sl_meta_topic t = {.name = "orders", .id = {{1, 2, 3}}, .partitions = 1};
    CHECK(sl_meta_put_topic(m, &t) == SL_ERR_NONE);
    struct sl_scram_cred c = {.mech = SL_SCRAM_SHA256, .salt_len = 1, .iterations = 4096};
    CHECK(sl_meta_put_scram(m, "alice", &c) == SL_ERR_NONE);
    CHECK(sl_meta_acl_generation(m) == 2); /* not ACL changes */
    sl_meta_close(m);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(count_acls(m), 1);
    CHECK(may_read(m, "User:alice", "orders"));
    sl_meta_close(m);
    cleanup();
}

#define V1_BODY "topic payments 0000030405060708090a0b0c0d0e0f10 12\n"
#define K32 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define V2_BODY SECRET_LINE V1_BODY "scram alice SCRAM-SHA-256 4096 00 " K32 " " K32 "\n"

/* Stores of versions 1 and 2 open with no ACLs, untouched; the first ACL
 * write upgrades them to the current version, keeping everything else. */
static void test_upgrade(void)
{
    static const struct {
        int ver;
        const char *body;
    } olds[] = {{1, V1_BODY}, {2, V2_BODY}};
    for (size_t i = 0; i < sizeof olds / sizeof olds[0]; i++) {
        fresh_dir();
        struct sl_meta *m;
        char err[512], path[512];
        CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
        sl_meta_close(m);
        uint8_t buf[1024];
        write_store(buf, frame(olds[i].ver, olds[i].body, buf, sizeof buf));
        store_path(path, sizeof path, SL_META_LOCAL_FILE);
        CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
        CHECK_EQ_INT(count_acls(m), 0);
        CHECK(file_is_version(olds[i].ver)); /* opening does not rewrite */
        const struct sl_acl a = mk(T, PRE, "pay", "User:alice", "*", R, ALLOW);
        CHECK(sl_meta_create_acls(m, &a, 1) == SL_ERR_NONE);
        CHECK(file_is_version(SL_META_LOCAL_VERSION));
        sl_meta_close(m);
        CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
        CHECK(may_read(m, "User:alice", "payments"));
        struct sl_meta_topic t;
        CHECK(sl_meta_get_topic(m, "payments", &t) == SL_ERR_NONE);
        CHECK_EQ_INT(t.partitions, 12);
        sl_meta_topic_clear(&t);
        struct sl_scram_cred c;
        CHECK(sl_meta_get_scram(m, "alice", SL_SCRAM_SHA256, &c) ==
              (olds[i].ver == 2 ? SL_ERR_NONE : SL_ERR__NOENT));
        sl_meta_close(m);
        cleanup();
    }
}

#define ACL_A "acl 2 3 orders User:alice * 3 3\n"

/* Encoding: acl records after the scram records, fields percent-encoded,
 * decode then encode gives back the same bytes. */
static void test_codec(void)
{
    static const char *const good[] = {
        SECRET_LINE ACL_A,
        SECRET_LINE V1_BODY "scram alice SCRAM-SHA-256 4096 00 " K32 " " K32 "\n" ACL_A,
        (SECRET_LINE "acl 2 3 * User:* * 2 2\n"
                     ACL_A "acl 2 3 orders User:alice * 4 3\n"
                     "acl 2 3 orders User:alice 10.0.0.1 3 3\n"
                     "acl 2 4 or%20d%C3%A9rs User:a%20b ::1 8 2\n"
                     "acl 4 3 kafka-cluster User:admin * 7 3\n"
                     "acl 7 4 u Group:- * 13 3\n"),
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
        uint8_t *enc;
        size_t encn;
        sl_meta_local_encode(&st, &enc, &encn);
        CHECK(encn == n && memcmp(enc, buf, n) == 0);
        free(enc);
        if (i == 2) {
            CHECK_EQ_INT(sl_acl_set_count(st.acls), 7);
            const struct sl_acl *a = sl_acl_set_at(st.acls, 4);
            CHECK(a->pattern == PRE && strcmp(a->name, "or d\xc3\xa9rs") == 0);
            CHECK(strcmp(a->principal, "User:a b") == 0 && strcmp(a->host, "::1") == 0);
            CHECK(a->op == SL_ACL_OP_DESCRIBE && a->perm == DENY);
            CHECK(strcmp(sl_acl_set_at(st.acls, 0)->principal, "User:*") == 0);
        }
        sl_meta_local_store_clear(&st);
    }
}

/* A damaged acl record stops the open, naming the file, the line and the
 * problem. */
static void test_corrupt(void)
{
    static const struct {
        int ver;
        const char *body, *why;
    } bad[] = {
        {2, SECRET_LINE ACL_A, "line 3: unknown record"},
        {1, ACL_A, "line 2: unknown record"},
        {3, SECRET_LINE "acl 2 3 orders User:alice * 3\n", "line 3: acl record needs"},
        {3, SECRET_LINE "acl 2 3 orders User:alice * 3 3 x\n", "line 3: empty field or extra"},
        {3, SECRET_LINE "acl 02 3 orders User:alice * 3 3\n", "line 3: bad ACL code"},
        {3, SECRET_LINE "acl 2 3 orders User:alice * 3 128\n", "line 3: bad ACL code"},
        {3, SECRET_LINE "acl 2 3 orders User:alice * 3 -1\n", "line 3: bad ACL code"},
        {3, SECRET_LINE "acl 1 3 orders User:alice * 3 3\n",
         "line 3: bad ACL binding: Invalid resourceType"},
        {3, SECRET_LINE "acl 2 2 orders User:alice * 3 3\n",
         "line 3: bad ACL binding: Invalid patternType"},
        {3, SECRET_LINE "acl 2 3 orders User:alice * 1 3\n",
         "line 3: bad ACL binding: Invalid operation"},
        {3, SECRET_LINE "acl 2 3 orders User:alice * 3 1\n",
         "line 3: bad ACL binding: Invalid permissionType"},
        {3, SECRET_LINE "acl 2 3 - User:alice * 3 3\n",
         "line 3: bad ACL binding: Invalid empty resource name"},
        {3, SECRET_LINE "acl 2 3 orders alice * 3 3\n",
         "line 3: bad ACL binding: Could not parse principal"},
        {3, SECRET_LINE "acl 2 3 orders User:alice localhost 3 3\n",
         "line 3: bad ACL binding: Invalid host"},
        {3, SECRET_LINE "acl 4 3 cluster User:alice * 3 3\n",
         "line 3: bad ACL binding: The only valid name for the CLUSTER resource"},
        {3, SECRET_LINE "acl 2 3 %FF User:alice * 3 3\n",
         "line 3: bad ACL binding: Resource name is not well-formed UTF-8"},
        {3, SECRET_LINE "acl 2 3 a%00 User:alice * 3 3\n", "line 3: ACL name: NUL byte"},
        {3, SECRET_LINE "acl 2 3 orders User:%61lice * 3 3\n",
         "line 3: ACL principal: needless %XX escape"},
        {3, SECRET_LINE ACL_A ACL_A, "line 4: ACL bindings out of order or repeated"},
        {3, SECRET_LINE ACL_A "acl 2 3 orders User:alice * 2 3\n",
         "line 4: ACL bindings out of order or repeated"},
        {3, SECRET_LINE ACL_A "scram alice SCRAM-SHA-256 4096 00 " K32 " " K32 "\n",
         "line 4: scram record after the acl records"},
        {3, SECRET_LINE ACL_A V1_BODY, "line 4: topic record after the acl records"},
        {3, ACL_A, "line 2: the secret record must come first"},
    };
    fresh_dir();
    struct sl_meta *m;
    char err[1024];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    sl_meta_close(m);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(open_refused(bad[i].ver, bad[i].body, bad[i].why));
    cleanup();
}

static int acl_line(char *out, size_t cap, int i)
{
    return snprintf(out, cap, "acl 2 3 t%06d User:a * 3 3\n", i);
}

/* Writes a current-version store of n bindings (topic t000000.., User:a)
 * and, when extra, one more after them. */
static void write_many(int n, bool extra)
{
    write_lines(SL_META_LOCAL_VERSION, n + (extra ? 1 : 0), acl_line);
}

/* At most SL_ACL_MAX_BINDINGS: a batch that would go beyond is
 * SL_ERR__LIMIT and stores nothing; a file with more is refused. */
static void test_limit(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    sl_meta_close(m);
    write_many(SL_ACL_MAX_BINDINGS - 1, false);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    CHECK_EQ_INT(count_acls(m), SL_ACL_MAX_BINDINGS - 1);
    CHECK(may_read(m, "User:a", "t099998"));
    CHECK(!may_read(m, "User:a", "t099999"));
    const struct sl_acl two[] = {mk(T, LIT, "x1", "User:a", "*", R, ALLOW),
                                 mk(T, LIT, "x2", "User:a", "*", R, ALLOW)};
    const struct sl_acl old = mk(T, LIT, "t000005", "User:a", "*", R, ALLOW);
    CHECK(sl_meta_create_acls(m, two, 2) == SL_ERR__LIMIT);
    CHECK(sl_meta_acl_generation(m) == 1);
    CHECK(sl_meta_create_acls(m, &old, 1) == SL_ERR_NONE); /* already there */
    CHECK(sl_meta_create_acls(m, two, 1) == SL_ERR_NONE);  /* the last one */
    CHECK(sl_meta_create_acls(m, &two[1], 1) == SL_ERR__LIMIT);
    CHECK_EQ_INT(count_acls(m), SL_ACL_MAX_BINDINGS);
    sl_meta_close(m);
    write_many(SL_ACL_MAX_BINDINGS, true);
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR__CORRUPT);
    CHECK(strstr(err, "line 100003: more than 100000 ACL bindings"));
    cleanup();
}

/* Network threads decide with the store's set while a writer changes the
 * ACLs: every decision sees a whole set (the steady binding allows), and
 * the generation counts the changes. */
struct reader {
    struct sl_meta *m;
    _Atomic int *stop;
    int decisions, failures;
};

static void *read_work(void *arg)
{
    struct reader *r = arg;
    while (!atomic_load(r->stop)) {
        uint64_t g0 = sl_meta_acl_generation(r->m);
        if (!may_read(r->m, "User:steady", "orders") || sl_meta_acl_generation(r->m) < g0)
            r->failures++;
        r->decisions++;
    }
    return NULL;
}

static void test_threads(void)
{
    fresh_dir();
    struct sl_meta *m;
    char err[512], name[32];
    CHECK(sl_meta_open_local(dir, &m, err, sizeof err) == SL_ERR_NONE);
    const struct sl_acl steady = mk(T, PRE, "ord", "User:steady", "*", R, ALLOW);
    CHECK(sl_meta_create_acls(m, &steady, 1) == SL_ERR_NONE);
    _Atomic int stop = 0;
    pthread_t th[2];
    struct reader r[2];
    for (int i = 0; i < 2; i++) {
        r[i] = (struct reader){m, &stop, 0, 0};
        pthread_create(&th[i], NULL, read_work, &r[i]);
    }
    int changes = 0;
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "t%d", i);
        struct sl_acl a = mk(T, LIT, name, "User:x", "*", SL_ACL_OP_ALL, DENY);
        changes += sl_meta_create_acls(m, &a, 1) == SL_ERR_NONE;
        if (i % 2) {
            struct sl_acl_filter f = {T, LIT, SL_ACL_OP_ANY, SL_ACL_PERM_ANY, name, NULL, NULL};
            struct sl_meta_acl_list del;
            changes += sl_meta_delete_acls(m, &f, 1, &del) == SL_ERR_NONE && del.n == 1;
            sl_meta_acl_list_clear(&del);
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(r[i].failures, 0);
        CHECK(r[i].decisions > 0);
    }
    CHECK_EQ_INT(changes, 45);
    CHECK(sl_meta_acl_generation(m) == 2 + 45);
    CHECK_EQ_INT(count_acls(m), 16);
    sl_meta_close(m);
    cleanup();
}

int main(void)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX;
    TEST_RUN(test_crud);
    TEST_RUN(test_atomic);
    TEST_RUN(test_upgrade);
    TEST_RUN(test_codec);
    TEST_RUN(test_corrupt);
    TEST_RUN(test_limit);
    TEST_RUN(test_threads);
    TEST_REPORT();
}
