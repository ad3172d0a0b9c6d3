/* SPDX-License-Identifier: Apache-2.0
 *
 * The keyring: parser (accepts the documented format, rejects each kind of
 * bad line with its line number and without key material in the message),
 * the key file provider (created 0600 at first start, refused when group-
 * or world-accessible, naming file and mode), the command provider, and
 * adding a version.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keyring.h"
#include "test_help.h"

#define HEX64A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX64B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static int parse(const char *s, struct sl_keyring *kr, char *err)
{
    return sl_keyring_parse(s, strlen(s), kr, err, 200);
}

static void test_parse_ok(void)
{
    struct sl_keyring kr = {0};
    char err[200];
    CHECK_EQ_INT(parse("sluice-keyring 1\n# comment\n\nkey 3 " HEX64B "\nkey 1 " HEX64A "\n",
                       &kr, err), 0);
    CHECK_EQ_INT(kr.n, 2);
    CHECK_EQ_INT(sl_keyring_newest(&kr)->version, 3);
    CHECK(sl_keyring_find(&kr, 1)->key[31] == 0x1f);
    CHECK(sl_keyring_find(&kr, 2) == NULL);
    sl_keyring_free(&kr);
    CHECK(kr.keys == NULL && kr.n == 0);
}

static void test_parse_errors(void)
{
    static const char *const bad[] = {
        "",
        "sluice-keyring 2\nkey 1 " HEX64A "\n",
        "sluice-keyring 1\n",
        "sluice-keyring 1\nkey 0 " HEX64A "\n",
        "sluice-keyring 1\nkey 01 " HEX64A "\n",
        "sluice-keyring 1\nkey 4294967296 " HEX64A "\n",
        "sluice-keyring 1\nkey 1 " HEX64A "00\n",
        "sluice-keyring 1\nkey 1 " HEX64A " \n",
        "sluice-keyring 1\nkey 1 zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        "sluice-keyring 1\nkey 1 " HEX64A "\nkey 1 " HEX64B "\n",
        "sluice-keyring 1\nkey  1 " HEX64A "\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_keyring kr = {0};
        char err[200] = "";
        if (parse(bad[i], &kr, err) != -1 || kr.n != 0) {
            fprintf(stderr, "  accepted case %zu\n", i);
            CHECK(0);
        }
        CHECK(strstr(err, "0102030405") == NULL && strstr(err, "ffeeddcc") == NULL);
    }
    struct sl_keyring kr = {0};
    char err[200];
    CHECK_EQ_INT(parse("sluice-keyring 1\nkey 1 " HEX64A "\nkey 1 " HEX64B "\n", &kr, err), -1);
    CHECK(strstr(err, "line 3") != NULL);
}

static void tmpdir(char *dir)
{
    strcpy(dir, "/tmp/sl-keyring-XXXXXX");
    if (!mkdtemp(dir))
        abort();
}

static void test_file_create_and_mode(void)
{
    char dir[64], path[128], err[512];
    tmpdir(dir);
    snprintf(path, sizeof(path), "%s/keys/keyring", dir);
    struct sl_keyring kr = {0}, again = {0};
    bool created;
    CHECK_EQ_INT(sl_keyring_load_file(path, false, &kr, &created, err, sizeof(err)), -1);
    CHECK_EQ_INT(sl_keyring_load_file(path, true, &kr, &created, err, sizeof(err)), 0);
    CHECK(created);
    CHECK_EQ_INT(kr.n, 1);
    CHECK_EQ_INT(kr.keys[0].version, 1);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0600);
    /* A second load reads the same key and creates nothing. */
    CHECK_EQ_INT(sl_keyring_load_file(path, true, &again, &created, err, sizeof(err)), 0);
    CHECK(!created);
    CHECK(memcmp(again.keys[0].key, kr.keys[0].key, 32) == 0);
    sl_keyring_free(&again);
    /* World-readable: refused, naming the file and the mode. */
    CHECK_EQ_INT(chmod(path, 0644), 0);
    CHECK_EQ_INT(sl_keyring_load_file(path, true, &again, &created, err, sizeof(err)), -1);
    CHECK(strstr(err, path) != NULL && strstr(err, "0644") != NULL);
    CHECK_EQ_INT(chmod(path, 0640), 0);
    CHECK_EQ_INT(sl_keyring_load_file(path, true, &again, &created, err, sizeof(err)), -1);
    CHECK_EQ_INT(chmod(path, 0600), 0);
    /* Rotation: add a version, store, reload. */
    CHECK_EQ_INT(sl_keyring_add(&kr, err, sizeof(err)), 0);
    CHECK_EQ_INT(sl_keyring_newest(&kr)->version, 2);
    CHECK(memcmp(kr.keys[0].key, kr.keys[1].key, 32) != 0);
    CHECK_EQ_INT(sl_keyring_store_file(path, &kr, err, sizeof(err)), 0);
    CHECK_EQ_INT(sl_keyring_load_file(path, false, &again, &created, err, sizeof(err)), 0);
    CHECK_EQ_INT(again.n, 2);
    CHECK(memcmp(again.keys, kr.keys, 2 * sizeof(*kr.keys)) == 0);
    sl_keyring_free(&again);
    sl_keyring_free(&kr);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void test_command(void)
{
    struct sl_keyring kr = {0};
    char err[512];
    CHECK_EQ_INT(sl_keyring_load_command("printf 'sluice-keyring 1\\nkey 5 " HEX64A "\\n'", &kr,
                                         err, sizeof(err)),
                 0);
    CHECK_EQ_INT(kr.n, 1);
    CHECK_EQ_INT(kr.keys[0].version, 5);
    sl_keyring_free(&kr);
    CHECK_EQ_INT(sl_keyring_load_command("printf 'sluice-keyring 1\\nkey 5 " HEX64A "\\n'; exit 3",
                                         &kr, err, sizeof(err)),
                 -1);
    CHECK(strstr(err, "exit status 3") != NULL);
    CHECK_EQ_INT(sl_keyring_load_command("echo nonsense", &kr, err, sizeof(err)), -1);
    CHECK(strstr(err, "line 1") != NULL);
}

/* A reloaded key file keeps in memory the versions in use it lost, and a
 * version whose bytes changed is refused. */
static void test_merge(void)
{
    struct sl_keyring file = {0}, in_use = {0};
    char err[200];
    CHECK_EQ_INT(parse("sluice-keyring 1\nkey 2 " HEX64B "\n", &file, err), 0);
    CHECK_EQ_INT(parse("sluice-keyring 1\nkey 1 " HEX64A "\n", &in_use, err), 0);
    CHECK_EQ_INT(sl_keyring_merge(&file, &in_use, err, sizeof(err)), 0);
    CHECK_EQ_INT(file.n, 2);
    CHECK(sl_keyring_find(&file, 1)->key[31] == 0x1f);
    CHECK_EQ_INT(sl_keyring_newest(&file)->version, 2);
    /* The same again: nothing added. */
    CHECK_EQ_INT(sl_keyring_merge(&file, &in_use, err, sizeof(err)), 0);
    CHECK_EQ_INT(file.n, 2);
    /* Version 1 with other bytes: refused, unchanged. */
    struct sl_keyring changed = {0};
    CHECK_EQ_INT(parse("sluice-keyring 1\nkey 1 " HEX64B "\n", &changed, err), 0);
    CHECK_EQ_INT(sl_keyring_merge(&changed, &in_use, err, sizeof(err)), -1);
    CHECK(strstr(err, "key version 1 differs") != NULL);
    CHECK_EQ_INT(changed.n, 1);
    CHECK(sl_keyring_find(&changed, 1)->key[0] == 0xff);
    sl_keyring_free(&file);
    sl_keyring_free(&in_use);
    sl_keyring_free(&changed);
}

int main(void)
{
    TEST_RUN(test_parse_ok);
    TEST_RUN(test_parse_errors);
    TEST_RUN(test_file_create_and_mode);
    TEST_RUN(test_command);
    TEST_RUN(test_merge);
    TEST_REPORT();
}
