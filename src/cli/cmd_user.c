/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice user add|remove|list`: SCRAM users, online through the broker
 * (AlterUserScramCredentials / DescribeUserScramCredentials, keys 51/50,
 * as kafka-configs.sh --entity-type users does) or offline on a stopped
 * broker's data directory (the metadata store directly, as
 * kafka-storage.sh format --add-scram does for the first user).
 *
 * Online, the salt is drawn and SaltedPassword = Hi(password, salt, i)
 * computed here, as Kafka's admin client does: the password never goes
 * over the wire. Offline, the store keeps only salt, StoredKey, ServerKey
 * and iterations. Passwords are read from stdin or a file, never from the
 * command line, never printed, and wiped from memory after use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli/cli.h"
#include "core/mem.h"
#include "core/readfile.h"
#include "crypto/keyring.h"
#include "meta/meta.h"
#include "protocol/gen/apis.h"
#include "security/authn/scram.h"

#define SALT_LEN 32

static const char USAGE[] =
    "usage: sluice user add NAME [--mechanism SCRAM-SHA-256|SCRAM-SHA-512] [--iterations N]\n"
    "                  (--password-stdin | --password-file FILE) WHERE\n"
    "       sluice user remove NAME [--mechanism M] WHERE\n"
    "       sluice user list WHERE\n"
    "WHERE: online   --bootstrap-server HOST:PORT[,HOST:PORT] and/or --command-config FILE\n"
    "       offline  --data-dir DIR (the broker must be stopped); an encrypted data\n"
    "                directory also takes --keys-file FILE or --keys-command CMD when\n"
    "                its keyring is not DIR/keys/keyring\n"
    "add creates or changes the user's credential (default SCRAM-SHA-512, 4096\n"
    "iterations, 4096..16384); remove deletes one mechanism or, by default, all;\n"
    "list prints one line per credential: NAME MECHANISM iterations=N.\n"
    "Online, the command-config principal must be a super user (ALTER/DESCRIBE on\n"
    "the cluster).\n";

struct uargs {
    const char *verb, *name;
    int mech; /* SL_SCRAM_UNKNOWN: not given */
    long iterations;
    bool pw_stdin;
    const char *pw_file;
    struct sl_cli_target t;
};

/* ---- the password ---- */

/* Takes the first line of buf[0..n) as the password: new memory, or NULL
 * with a message printed. */
static char *password_of(const char *buf, size_t n, const char *from)
{
    size_t l = 0;
    while (l < n && buf[l] != '\n')
        l++;
    if (l > 0 && buf[l - 1] == '\r')
        l--;
    if (l == 0) {
        sl_cli_fail("empty password from %s", from);
        return NULL;
    }
    if (l > SL_SASL_PASSWORD_MAX || memchr(buf, '\0', l)) {
        sl_cli_fail("password from %s: longer than %d bytes or holds a NUL", from,
                    SL_SASL_PASSWORD_MAX);
        return NULL;
    }
    return sl_xstrndup(buf, l);
}

static char *read_password(const struct uargs *a)
{
    char *pw = NULL;
    if (a->pw_file) {
        char err[512];
        size_t n = 0;
        char *buf = sl_read_file(a->pw_file, 64 * 1024, &n, err, sizeof err);
        if (!buf) {
            sl_cli_fail("--password-file %s", err);
            return NULL;
        }
        pw = password_of(buf, n, a->pw_file);
        OPENSSL_cleanse(buf, n);
        free(buf);
        return pw;
    }
    /* One line from stdin; at most SL_SASL_PASSWORD_MAX + 2 bytes are read. */
    char line[SL_SASL_PASSWORD_MAX + 3];
    size_t n = 0;
    int c;
    while (n < sizeof line && (c = getchar()) != EOF) {
        line[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == sizeof line && line[n - 1] != '\n') {
        OPENSSL_cleanse(line, sizeof line);
        sl_cli_fail("password from stdin: longer than %d bytes", SL_SASL_PASSWORD_MAX);
        return NULL;
    }
    pw = password_of(line, n, "stdin");
    OPENSSL_cleanse(line, sizeof line);
    return pw;
}

/* ---- offline ---- */

static int offline(const struct uargs *a)
{
    struct sl_meta *m = NULL;
    char err[1024];
    int rc = SLUICE_CLI_EXIT_FAIL;
    struct stat st;
    if (strcmp(a->verb, "add") != 0 && stat(a->t.data_dir, &st) != 0)
        return sl_cli_fail("--data-dir %s: %s", a->t.data_dir, strerror(errno));
    char *pw = NULL;
    if (strcmp(a->verb, "add") == 0 && !(pw = read_password(a)))
        return SLUICE_CLI_EXIT_FAIL;
    struct sl_keyring kr = {0};
    sl_err_t e = sl_cli_open_meta(&a->t, &kr, &m, err, sizeof err);
    if (e != SL_ERR_NONE) {
        if (e == SL_ERR__STATE)
            sl_cli_fail("%s: offline mode needs the broker stopped; while it runs, use "
                        "--bootstrap-server and --command-config instead",
                        err);
        else
            sl_cli_fail("%s", err);
        goto out;
    }
    if (strcmp(a->verb, "add") == 0) {
        struct sl_scram_cred cred;
        int mech = a->mech ? a->mech : SL_SCRAM_SHA512;
        if (sl_scram_make_cred(mech, pw, (int32_t)a->iterations, &cred) != 0) {
            sl_cli_fail("cannot compute the SCRAM credential");
            goto out;
        }
        e = sl_meta_put_scram(m, a->name, &cred);
        OPENSSL_cleanse(&cred, sizeof cred);
        if (e != SL_ERR_NONE) {
            sl_cli_fail("cannot store the credential of '%s': %s", a->name,
                        e == SL_ERR__INVAL ? "user name refused (1 to 1024 bytes of UTF-8)"
                                           : sl_err_name(e));
            goto out;
        }
        printf("set %s credential of user '%s' (offline, %s)\n", sl_scram_mech_name(mech),
               a->name, a->t.data_dir);
    } else if (strcmp(a->verb, "remove") == 0) {
        int removed = 0;
        for (int mech = SL_SCRAM_SHA256; mech < SL_SCRAM_MECH_MAX; mech++) {
            if (a->mech && mech != a->mech)
                continue;
            e = sl_meta_delete_scram(m, a->name, mech);
            if (e == SL_ERR_NONE) {
                printf("removed %s credential of user '%s' (offline)\n", sl_scram_mech_name(mech),
                       a->name);
                removed++;
            } else if (e != SL_ERR__NOENT) {
                sl_cli_fail("cannot remove the credential of '%s': %s", a->name, sl_err_name(e));
                goto out;
            }
        }
        if (!removed) {
            sl_cli_fail("user '%s' has no %s credential", a->name,
                        a->mech ? sl_scram_mech_name(a->mech) : "SCRAM");
            goto out;
        }
    } else {
        struct sl_meta_user_cred *all = NULL;
        int n = 0;
        sl_meta_list_scram(m, &all, &n);
        for (int i = 0; i < n; i++)
            printf("%s %s iterations=%d\n", all[i].user, sl_scram_mech_name(all[i].cred.mech),
                   all[i].cred.iterations);
        sl_meta_user_creds_free(all, n);
    }
    rc = SLUICE_CLI_EXIT_OK;
out:
    if (pw) {
        OPENSSL_cleanse(pw, strlen(pw));
        free(pw);
    }
    sl_meta_close(m);
    sl_keyring_free(&kr);
    return rc;
}

/* ---- online ---- */

int sl_cli_user_describe(struct sl_kclient *k, const char *user,
                         struct DescribeUserScramCredentialsResponse *resp)
{
    struct DescribeUserScramCredentialsRequest req;
    struct DescribeUserScramCredentialsRequest_UserName un = {sl_str_c(user)};
    char err[1024], buf[256];
    req.users.n = user ? 1 : -1;
    req.users.a = user ? &un : NULL;
    if (sl_kclient_call(k, SL_API_DESCRIBE_USER_SCRAM_CREDENTIALS, &req, resp, err, sizeof err))
        return sl_cli_fail("%s", err);
    if (resp->error_code != SL_ERR_NONE)
        return sl_cli_fail("cannot list users: %s",
                           sl_cli_kafka_error(resp->error_code, "DESCRIBE on the cluster", buf,
                                              sizeof buf));
    return 0;
}

/* Sends deletions and upsertions for one user; 0 or an exit status (the
 * broker's refusal printed). */
static int alter(struct sl_kclient *k, const char *name,
                 struct AlterUserScramCredentialsRequest *req)
{
    struct AlterUserScramCredentialsResponse resp;
    char err[1024], buf[256];
    if (sl_kclient_call(k, SL_API_ALTER_USER_SCRAM_CREDENTIALS, req, &resp, err, sizeof err))
        return sl_cli_fail("%s", err);
    if (resp.results.n < 1)
        return sl_cli_fail("the broker sent no result for user '%s'", name);
    for (int i = 0; i < resp.results.n; i++) {
        const struct AlterUserScramCredentialsResponse_AlterUserScramCredentialsResult *r =
            &resp.results.a[i];
        if (r->error_code != SL_ERR_NONE) {
            sl_str_t m = r->error_message;
            return sl_cli_fail("cannot change user '%s': %s%s%.*s", name,
                               sl_cli_kafka_error(r->error_code, "ALTER on the cluster", buf,
                                                  sizeof buf),
                               m.len > 0 ? ": " : "", m.len > 0 ? (int)(m.len > 300 ? 300 : m.len) : 0,
                               m.len > 0 ? m.p : "");
        }
    }
    return SLUICE_CLI_EXIT_OK;
}

int sl_cli_user_set_scram(struct sl_kclient *k, const char *name, int mech, int32_t iterations,
                          const char *pw)
{
    uint8_t salt[SALT_LEN], salted[SL_SCRAM_KEY_MAX];
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        sl_scram_salted_password(mech, pw, strlen(pw), salt, sizeof salt, iterations, salted) != 0)
        return sl_cli_fail("cannot compute the salted password");
    struct AlterUserScramCredentialsRequest_ScramCredentialUpsertion up = {
        .name = sl_str_c(name),
        .mechanism = (int8_t)mech,
        .iterations = iterations,
        .salt = {salt, SALT_LEN},
        .salted_password = {salted, (int32_t)sl_scram_key_len(mech)},
    };
    struct AlterUserScramCredentialsRequest req = {.deletions = {0, NULL},
                                                   .upsertions = {1, &up}};
    int rc = alter(k, name, &req);
    OPENSSL_cleanse(salted, sizeof salted);
    return rc;
}

static int online_add(struct sl_kclient *k, const struct uargs *a)
{
    int mech = a->mech ? a->mech : SL_SCRAM_SHA512;
    char *pw = read_password(a);
    if (!pw)
        return SLUICE_CLI_EXIT_FAIL;
    int rc = sl_cli_user_set_scram(k, a->name, mech, (int32_t)a->iterations, pw);
    OPENSSL_cleanse(pw, strlen(pw));
    free(pw);
    if (rc == SLUICE_CLI_EXIT_OK)
        printf("set %s credential of user '%s'\n", sl_scram_mech_name(mech), a->name);
    return rc;
}

static int online_remove(struct sl_kclient *k, const struct uargs *a)
{
    struct AlterUserScramCredentialsRequest_ScramCredentialDeletion del[SL_SCRAM_MECH_MAX];
    int nd = 0;
    if (a->mech) {
        del[nd++] = (struct AlterUserScramCredentialsRequest_ScramCredentialDeletion){
            sl_str_c(a->name), (int8_t)a->mech};
    } else {
        /* Every mechanism the user has: deleting one it lacks would fail
         * the whole user (RESOURCE_NOT_FOUND). */
        struct DescribeUserScramCredentialsResponse d;
        int rc = sl_cli_user_describe(k, a->name, &d);
        if (rc != 0)
            return rc;
        for (int i = 0; i < d.results.n; i++) {
            if (d.results.a[i].error_code == SL_ERR_RESOURCE_NOT_FOUND)
                return sl_cli_fail("user '%s' has no SCRAM credential", a->name);
            for (int j = 0; j < d.results.a[i].credential_infos.n && nd < SL_SCRAM_MECH_MAX; j++)
                del[nd++] = (struct AlterUserScramCredentialsRequest_ScramCredentialDeletion){
                    sl_str_c(a->name), d.results.a[i].credential_infos.a[j].mechanism};
        }
        if (nd == 0)
            return sl_cli_fail("user '%s' has no SCRAM credential", a->name);
    }
    struct AlterUserScramCredentialsRequest req = {.deletions = {nd, del},
                                                   .upsertions = {0, NULL}};
    int rc = alter(k, a->name, &req);
    if (rc == SLUICE_CLI_EXIT_OK)
        printf("removed %s credential%s of user '%s'\n",
               nd == 1 ? sl_scram_mech_name(del[0].mechanism) : "SCRAM", nd == 1 ? "" : "s",
               a->name);
    return rc;
}

static int online_list(struct sl_kclient *k)
{
    struct DescribeUserScramCredentialsResponse d;
    int rc = sl_cli_user_describe(k, NULL, &d);
    if (rc != 0)
        return rc;
    for (int i = 0; i < d.results.n; i++) {
        const struct DescribeUserScramCredentialsResponse_DescribeUserScramCredentialsResult *r =
            &d.results.a[i];
        for (int j = 0; j < r->credential_infos.n; j++) {
            const char *mn = sl_scram_mech_name(r->credential_infos.a[j].mechanism);
            printf("%.*s %s iterations=%d\n", r->user.len > 0 ? (int)r->user.len : 0,
                   r->user.len > 0 ? r->user.p : "", mn ? mn : "UNKNOWN",
                   r->credential_infos.a[j].iterations);
        }
    }
    return SLUICE_CLI_EXIT_OK;
}

static int online(const struct uargs *a)
{
    struct sl_kclient k;
    if (sl_cli_connect(&a->t, &k) != 0)
        return SLUICE_CLI_EXIT_FAIL;
    int rc = strcmp(a->verb, "add") == 0      ? online_add(&k, a)
             : strcmp(a->verb, "remove") == 0 ? online_remove(&k, a)
                                              : online_list(&k);
    sl_kclient_close(&k);
    return rc;
}

/* ---- arguments ---- */

int sl_cli_user(int argc, char **argv)
{
    struct uargs a = {.iterations = SL_SCRAM_DEFAULT_ITERATIONS};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? SLUICE_CLI_EXIT_USAGE : SLUICE_CLI_EXIT_OK;
    }
    a.verb = argv[1];
    if (strcmp(a.verb, "add") != 0 && strcmp(a.verb, "remove") != 0 &&
        strcmp(a.verb, "list") != 0)
        return sl_cli_usage_error("user", "unknown user command '%s' (add, remove, list)", a.verb);
    bool is_list = strcmp(a.verb, "list") == 0, is_add = strcmp(a.verb, "add") == 0;
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = sl_cli_target_opt(&a.t, argc, argv, &i)) != 0) {
            if (r < 0)
                return SLUICE_CLI_EXIT_USAGE;
        } else if ((r = sl_cli_opt("--mechanism", argc, argv, &i, &v)) != 0) {
            if (r < 0)
                return SLUICE_CLI_EXIT_USAGE;
            if ((a.mech = sl_scram_mech_from_name(v)) == SL_SCRAM_UNKNOWN)
                return sl_cli_usage_error("user", "--mechanism %s: SCRAM-SHA-256 or "
                                                  "SCRAM-SHA-512", v);
        } else if ((r = sl_cli_opt("--iterations", argc, argv, &i, &v)) != 0) {
            if (r < 0)
                return SLUICE_CLI_EXIT_USAGE;
            char *end;
            a.iterations = strtol(v, &end, 10);
            if (!*v || *end || a.iterations < SL_SCRAM_MIN_ITERATIONS ||
                a.iterations > SL_SCRAM_MAX_ITERATIONS)
                return sl_cli_usage_error("user", "--iterations %s: must be %d to %d", v,
                                          SL_SCRAM_MIN_ITERATIONS, SL_SCRAM_MAX_ITERATIONS);
        } else if ((r = sl_cli_opt("--password-file", argc, argv, &i, &a.pw_file)) != 0) {
            if (r < 0)
                return SLUICE_CLI_EXIT_USAGE;
        } else if (strcmp(argv[i], "--password-stdin") == 0) {
            a.pw_stdin = true;
        } else if (strcmp(argv[i], "--password") == 0 ||
                   strncmp(argv[i], "--password=", 11) == 0) {
            return sl_cli_usage_error("user", "passwords are not taken on the command line (it "
                                              "shows in ps and shell history): use "
                                              "--password-stdin or --password-file");
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return sl_cli_usage_error("user", "unknown option %s", argv[i]);
        } else if (!a.name && !is_list) {
            a.name = argv[i];
        } else {
            return sl_cli_usage_error("user", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!is_list && (!a.name || !a.name[0]))
        return sl_cli_usage_error("user", "user %s needs a user NAME", a.verb);
    if (is_add && a.pw_stdin == !!a.pw_file)
        return sl_cli_usage_error("user", "user add needs exactly one of --password-stdin and "
                                          "--password-file");
    if (!is_add && (a.pw_stdin || a.pw_file || a.iterations != SL_SCRAM_DEFAULT_ITERATIONS))
        return sl_cli_usage_error("user", "password and iteration options go with add only");
    if (is_list && a.mech)
        return sl_cli_usage_error("user", "--mechanism does not go with list");
    if (sl_cli_target_check(&a.t, true) != 0)
        return SLUICE_CLI_EXIT_USAGE;
    return a.t.data_dir ? offline(&a) : online(&a);
}
