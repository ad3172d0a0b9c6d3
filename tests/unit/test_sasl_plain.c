/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the PLAIN server (src/security/authn/plain.c): RFC 4616
 * parsing as Kafka's PlainSaslServer does it (authzid rules, missing NULs,
 * empty fields, long fields, embedded NULs, UTF-8), verification against
 * the stored SCRAM credentials (SHA-512 preferred), Kafka's error texts,
 * and an unknown user failing exactly like a wrong password, PBKDF2 work
 * included.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "security/authn/sasl_mech.h"
#include "security/authn/scram.h"
#include "test_help.h"

struct user {
    char name[SL_SASL_NAME_MAX + 1];
    struct sl_scram_cred c256, c512;
    bool has256, has512;
};

static struct user users[8];
static int nusers;
static int lookups;

static int lookup(void *arg, const char *name, int mech, struct sl_scram_cred *out)
{
    (void)arg;
    lookups++;
    for (int i = 0; i < nusers; i++) {
        if (strcmp(users[i].name, name) != 0)
            continue;
        if (mech == SL_SCRAM_SHA256 && users[i].has256) {
            *out = users[i].c256;
            return 0;
        }
        if (mech == SL_SCRAM_SHA512 && users[i].has512) {
            *out = users[i].c512;
            return 0;
        }
    }
    return -1;
}

/* Adds a user with a SCRAM-SHA-256 credential for pw256 and/or a
 * SCRAM-SHA-512 one for pw512 (NULL: none). */
static struct user *add_user(const char *name, const char *pw256, const char *pw512)
{
    struct user *u = &users[nusers++];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    u->has256 = pw256 && sl_scram_make_cred(SL_SCRAM_SHA256, pw256, 4096, &u->c256) == 0;
    u->has512 = pw512 && sl_scram_make_cred(SL_SCRAM_SHA512, pw512, 4096, &u->c512) == 0;
    return u;
}

static void setup(void)
{
    nusers = 0;
    lookups = 0;
    add_user("alice", "alice-secret", "alice-secret");
    add_user("only256", "pw256", NULL);
    add_user("only512", NULL, "pw512");
    add_user("both", "old-256", "new-512");
    add_user("j\xc3\xbcrgen", "p\xc3\xa4ss", "p\xc3\xa4ss");
}

static struct sl_sasl_conf conf_default(void)
{
    struct sl_sasl_conf conf = {.lookup = lookup};
    memset(conf.fake_secret, 0x5a, sizeof conf.fake_secret);
    return conf;
}

static const char *generic = "Authentication failed during authentication due to invalid "
                             "credentials with SASL mechanism PLAIN";
static const char *invalid = "Authentication failed: Invalid username or password";
static const char *authzid_text = "Authentication failed: Client requested an authorization id "
                                  "that is different from username";

/* One PLAIN exchange over msg (len bytes). */
static enum sl_sasl_step plain(const char *msg, size_t len, struct sl_sasl_result *res)
{
    struct sl_sasl_conf conf = conf_default();
    void *st = sl_sasl_plain.start(&conf);
    enum sl_sasl_step s = sl_sasl_plain.step(st, (const uint8_t *)msg, len, res);
    sl_sasl_plain.free(st);
    return s;
}

#define PLAIN(lit, res) plain(lit, sizeof(lit) - 1, res)

static void test_success(void)
{
    setup();
    struct sl_sasl_result res;
    CHECK_EQ_INT(PLAIN("\0alice\0alice-secret", &res), SL_SASL_DONE);
    CHECK(res.out == NULL);
    CHECK_EQ_INT(res.out_len, 0);
    CHECK(strcmp(res.user, "alice") == 0);
    CHECK(res.err[0] == '\0');
    /* UTF-8 names and passwords, used as bytes (no SASLprep). */
    CHECK_EQ_INT(PLAIN("\0j\xc3\xbcrgen\0p\xc3\xa4ss", &res), SL_SASL_DONE);
    CHECK(strcmp(res.user, "j\xc3\xbcrgen") == 0);
    CHECK_EQ_INT(PLAIN("\0j\xc3\xbcrgen\0pa\xcc\x88ss", &res), SL_SASL_FAIL); /* NFD: differs */
    CHECK(strcmp(res.err, invalid) == 0);
}

static void test_credential_choice(void)
{
    setup();
    struct sl_sasl_result res;
    CHECK_EQ_INT(PLAIN("\0only256\0pw256", &res), SL_SASL_DONE);
    CHECK_EQ_INT(PLAIN("\0only512\0pw512", &res), SL_SASL_DONE);
    /* Both mechanisms: the SCRAM-SHA-512 credential decides. */
    CHECK_EQ_INT(PLAIN("\0both\0new-512", &res), SL_SASL_DONE);
    CHECK_EQ_INT(PLAIN("\0both\0old-256", &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, invalid) == 0);
    CHECK(strcmp(res.log, "wrong password") == 0);
    /* A stored credential with bad iterations is not used. */
    users[1].c256.iterations = 100;
    CHECK_EQ_INT(PLAIN("\0only256\0pw256", &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, invalid) == 0);
    CHECK(strstr(res.log, "invalid") != NULL);
}

static void test_authzid(void)
{
    setup();
    struct sl_sasl_result res;
    CHECK_EQ_INT(PLAIN("alice\0alice\0alice-secret", &res), SL_SASL_DONE);
    CHECK(strcmp(res.user, "alice") == 0);
    CHECK_EQ_INT(PLAIN("admin\0alice\0alice-secret", &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, authzid_text) == 0);
    CHECK_EQ_INT(PLAIN("Alice\0alice\0alice-secret", &res), SL_SASL_FAIL); /* case matters */
    CHECK(strcmp(res.err, authzid_text) == 0);
    CHECK_EQ_INT(PLAIN("alicex\0alice\0alice-secret", &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, authzid_text) == 0);
    CHECK_EQ_INT(PLAIN("alic\0alice\0alice-secret", &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, authzid_text) == 0);
    /* As in Kafka the password is checked first: a wrong password with a
     * foreign authzid says only "invalid username or password". */
    CHECK_EQ_INT(PLAIN("admin\0alice\0wrong", &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, invalid) == 0);
    CHECK_EQ_INT(PLAIN("admin\0nobody\0wrong", &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, invalid) == 0);
}

/* Expects FAIL with the generic text, no output, and a log reason that
 * contains part. */
static void expect_generic(const char *msg, size_t len, const char *part)
{
    struct sl_sasl_result res;
    enum sl_sasl_step s = plain(msg, len, &res);
    if (s != SL_SASL_FAIL || strcmp(res.err, generic) != 0 || res.out != NULL ||
        !strstr(res.log, part)) {
        fprintf(stderr, "  message of %zu bytes: step %d err '%s' log '%s'\n", len, s, res.err,
                res.log);
        test_failed_flag = 1;
    }
}

#define GENERIC(lit, part) expect_generic(lit, sizeof(lit) - 1, part)

static void test_malformed(void)
{
    setup();
    /* Missing NULs. */
    GENERIC("", "username not specified");
    GENERIC("alice", "username not specified");
    GENERIC("alicealice-secret", "username not specified");
    GENERIC("alice\0alice-secret", "password not specified"); /* one NUL */
    GENERIC("\0alice", "password not specified");
    /* Empty fields. */
    GENERIC("\0\0alice-secret", "username not specified");
    GENERIC("alice\0\0alice-secret", "username not specified");
    GENERIC("\0alice\0", "password not specified");
    GENERIC("\0\0", "username not specified");
    GENERIC("\0", "username not specified");
    /* Embedded NULs: Kafka would cut the password at the third NUL. */
    GENERIC("\0alice\0alice-secret\0", "more than 3 tokens");
    GENERIC("\0alice\0alice-secret\0extra", "more than 3 tokens");
    GENERIC("\0alice\0alice\0-secret", "more than 3 tokens");
    GENERIC("\0alice\0\0", "more than 3 tokens"); /* Kafka: empty password */
    /* Not UTF-8. */
    GENERIC("\0al\xffice\0alice-secret", "UTF-8");
    GENERIC("\0alice\0alice-secret\xc3", "UTF-8");
    GENERIC("\xc0\xaf\0alice\0alice-secret", "UTF-8");          /* overlong */
    GENERIC("\0alice\0\xed\xa0\x80", "UTF-8");                   /* surrogate */
    GENERIC("\0alice\0\xf4\x90\x80\x80", "UTF-8");               /* > U+10FFFF */
    /* NULL with length 0. */
    struct sl_sasl_conf conf = conf_default();
    struct sl_sasl_result res;
    void *st = sl_sasl_plain.start(&conf);
    CHECK_EQ_INT(sl_sasl_plain.step(st, NULL, 0, &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, generic) == 0);
    /* One message only. */
    CHECK_EQ_INT(sl_sasl_plain.step(st, (const uint8_t *)"\0alice\0alice-secret", 19, &res),
                 SL_SASL_FAIL);
    sl_sasl_plain.free(st);
    sl_sasl_plain.free(NULL);
    /* No lookups for any of these. */
    CHECK_EQ_INT(lookups, 0);
}

/* "authzid NUL user NUL password" into buf; returns its length. */
static size_t build(char *buf, const char *authzid, const char *user, const char *pw)
{
    size_t a = strlen(authzid), u = strlen(user), p = strlen(pw);
    memcpy(buf, authzid, a);
    buf[a] = '\0';
    memcpy(buf + a + 1, user, u);
    buf[a + 1 + u] = '\0';
    memcpy(buf + a + 2 + u, pw, p);
    return a + 2 + u + p;
}

static void test_long_fields(void)
{
    static char name[SL_SASL_NAME_MAX + 2], pw[SL_SASL_PASSWORD_MAX + 2];
    static char msg[SL_SASL_MSG_MAX + 16];
    struct sl_sasl_result res;
    size_t sizes[] = {255, 256, SL_SASL_NAME_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        setup();
        memset(name, 'n', sizes[i]);
        name[sizes[i]] = '\0';
        memset(pw, 'p', sizes[i]);
        pw[sizes[i]] = '\0';
        add_user(name, NULL, pw);
        size_t n = build(msg, "", name, pw);
        CHECK_EQ_INT(plain(msg, n, &res), SL_SASL_DONE);
        CHECK_EQ_INT(strlen(res.user), sizes[i]);
        n = build(msg, name, name, pw); /* authzid of the same size */
        CHECK_EQ_INT(plain(msg, n, &res), SL_SASL_DONE);
    }
    /* One byte over each limit. */
    setup();
    memset(name, 'n', SL_SASL_NAME_MAX + 1);
    name[SL_SASL_NAME_MAX + 1] = '\0';
    memset(pw, 'p', SL_SASL_PASSWORD_MAX + 1);
    pw[SL_SASL_PASSWORD_MAX + 1] = '\0';
    size_t n = build(msg, "", name, "pw");
    expect_generic(msg, n, "longer than");
    n = build(msg, name, "alice", "alice-secret");
    expect_generic(msg, n, "longer than");
    n = build(msg, "", "alice", pw);
    expect_generic(msg, n, "longer than");
    /* A message over SL_SASL_MSG_MAX is refused before it is parsed. */
    memset(msg, 'x', sizeof msg);
    expect_generic(msg, SL_SASL_MSG_MAX + 1, "exceeds");
    CHECK_EQ_INT(lookups, 0);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* work done, not wall time */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_unknown_user_like_wrong_password(void)
{
    setup();
    struct sl_sasl_result wrong, unknown, no_lookup;
    CHECK_EQ_INT(PLAIN("\0alice\0not-the-secret", &wrong), SL_SASL_FAIL);
    CHECK_EQ_INT(PLAIN("\0mallory\0not-the-secret", &unknown), SL_SASL_FAIL);
    CHECK(strcmp(wrong.err, invalid) == 0);
    CHECK(strcmp(unknown.err, wrong.err) == 0);
    CHECK(wrong.out == NULL && unknown.out == NULL);
    CHECK_EQ_INT(wrong.out_len, unknown.out_len);
    CHECK(strcmp(unknown.log, wrong.log) != 0); /* the log does tell them apart */
    /* A broker without a lookup function fails the same way. */
    struct sl_sasl_conf conf = conf_default();
    conf.lookup = NULL;
    void *st = sl_sasl_plain.start(&conf);
    CHECK_EQ_INT(sl_sasl_plain.step(st, (const uint8_t *)"\0alice\0alice-secret", 19, &no_lookup),
                 SL_SASL_FAIL);
    CHECK(strcmp(no_lookup.err, invalid) == 0);
    sl_sasl_plain.free(st);

    /* Same work: an unknown user costs a PBKDF2 run like a known one (at
     * the same iteration count). Thread CPU time, the fastest of several
     * runs of each, so that a busy machine does not matter; the bound is
     * loose, it only catches a skipped PBKDF2 (a ratio near 0). */
    double tk = 1e9, tu = 1e9;
    for (int i = 0; i < 9; i++) {
        double t0 = now();
        PLAIN("\0alice\0not-the-secret", &wrong);
        double t1 = now();
        PLAIN("\0mallory\0not-the-secret", &unknown);
        double t2 = now();
        tk = t1 - t0 < tk ? t1 - t0 : tk;
        tu = t2 - t1 < tu ? t2 - t1 : tu;
    }
    if (!(tu > 0.25 * tk && tk > 0.25 * tu)) {
        fprintf(stderr, "  fastest known %.6fs unknown %.6fs\n", tk, tu);
        test_failed_flag = 1;
    }
}

static void test_reauth_text(void)
{
    setup();
    struct sl_sasl_conf conf = conf_default();
    conf.reauth = true;
    struct sl_sasl_result res;
    void *st = sl_sasl_plain.start(&conf);
    CHECK_EQ_INT(sl_sasl_plain.step(st, (const uint8_t *)"x", 1, &res), SL_SASL_FAIL);
    CHECK(strcmp(res.err, "Authentication failed during re-authentication due to invalid "
                          "credentials with SASL mechanism PLAIN") == 0);
    sl_sasl_plain.free(st);
    CHECK(strcmp(sl_sasl_plain.name, "PLAIN") == 0);
    CHECK(sl_sasl_mech_find("PLAIN") == &sl_sasl_plain);
    CHECK(sl_sasl_mech_find("plain") == NULL);
}

int main(void)
{
    TEST_RUN(test_success);
    TEST_RUN(test_credential_choice);
    TEST_RUN(test_authzid);
    TEST_RUN(test_malformed);
    TEST_RUN(test_long_fields);
    TEST_RUN(test_unknown_user_like_wrong_password);
    TEST_RUN(test_reauth_text);
    TEST_REPORT();
}
