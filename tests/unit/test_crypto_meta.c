/* SPDX-License-Identifier: Apache-2.0
 *
 * The metadata store encrypted at rest (sl_meta_open_local_sealed): the
 * file is a sealed blob holding neither topic names nor the authentication
 * secret in the clear; it reopens with the keyring and is refused without
 * it, with a wrong key, or when replaced by a plaintext store; a plaintext
 * store is converted only when allowed (the first start with encryption).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/logging.h"
#include "crypto/keyring.h"
#include "crypto/sealed_format.h"
#include "meta/meta.h"
#include "meta/meta_local.h"
#include "test_help.h"

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    uint8_t *b = malloc(1 << 20);
    *n = fread(b, 1, 1 << 20, fp);
    fclose(fp);
    return b;
}

static sl_err_t put_topic(struct sl_meta *m, const char *name, uint8_t idbyte)
{
    struct sl_meta_topic t = {0};
    t.name = (char *)name;
    memset(&t.id, idbyte, sizeof(t.id));
    t.partitions = 3;
    return sl_meta_put_topic(m, &t);
}

static void test_sealed_store(void)
{
    char dir[64], path[128], err[512];
    strcpy(dir, "/tmp/sl-cmeta-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/meta/%s", dir, SL_META_LOCAL_FILE);
    struct sl_keyring kr = {0}, other = {0};
    CHECK_EQ_INT(sl_keyring_add(&kr, err, sizeof(err)), 0);
    CHECK_EQ_INT(sl_keyring_add(&other, err, sizeof(err)), 0);

    /* A plaintext store written before encryption was turned on. */
    struct sl_meta *m = NULL;
    CHECK_EQ_INT(sl_meta_open_local(dir, &m, err, sizeof(err)), SL_ERR_NONE);
    CHECK_EQ_INT(put_topic(m, "plain-topic-marker", 1), SL_ERR_NONE);
    sl_meta_close(m);
    m = NULL;
    /* Refused in an encrypted directory unless this is the first start. */
    CHECK(sl_meta_open_local_sealed(dir, &kr, false, &m, err, sizeof(err)) != SL_ERR_NONE);
    CHECK(strstr(err, "not encrypted") != NULL);
    CHECK_EQ_INT(sl_meta_open_local_sealed(dir, &kr, true, &m, err, sizeof(err)), SL_ERR_NONE);
    CHECK_EQ_INT(put_topic(m, "sealed-topic-marker", 2), SL_ERR_NONE);
    uint8_t secret[SL_META_SECRET_LEN];
    CHECK_EQ_INT(sl_meta_auth_secret(m, secret), SL_ERR_NONE);
    sl_meta_close(m);
    m = NULL;

    size_t n;
    uint8_t *b = slurp(path, &n);
    CHECK(b && sl_sealed_is_sealed(b, n));
    CHECK(memmem(b, n, "topic-marker", 12) == NULL);
    CHECK(memmem(b, n, secret, sizeof(secret)) == NULL);
    free(b);

    /* Reopens with the key; both topics are there. */
    CHECK_EQ_INT(sl_meta_open_local_sealed(dir, &kr, false, &m, err, sizeof(err)), SL_ERR_NONE);
    struct sl_meta_topic t;
    CHECK_EQ_INT(sl_meta_get_topic(m, "plain-topic-marker", &t), SL_ERR_NONE);
    sl_meta_topic_clear(&t);
    CHECK_EQ_INT(sl_meta_get_topic(m, "sealed-topic-marker", &t), SL_ERR_NONE);
    sl_meta_topic_clear(&t);
    uint8_t again[SL_META_SECRET_LEN];
    CHECK_EQ_INT(sl_meta_auth_secret(m, again), SL_ERR_NONE);
    CHECK(memcmp(secret, again, sizeof(secret)) == 0);
    sl_meta_close(m);
    m = NULL;

    /* Without a keyring, or with a wrong key: refused, saying why. */
    CHECK(sl_meta_open_local(dir, &m, err, sizeof(err)) != SL_ERR_NONE);
    CHECK(strstr(err, "encrypted at rest") != NULL);
    CHECK(sl_meta_open_local_sealed(dir, &other, false, &m, err, sizeof(err)) != SL_ERR_NONE);
    CHECK(strstr(err, "wrong key") != NULL);
    /* A flipped byte: refused. */
    int fd = open(path, O_RDWR);
    uint8_t c;
    CHECK(fd >= 0 && pread(fd, &c, 1, 200) == 1);
    c ^= 1;
    CHECK(pwrite(fd, &c, 1, 200) == 1);
    close(fd);
    CHECK(sl_meta_open_local_sealed(dir, &kr, false, &m, err, sizeof(err)) != SL_ERR_NONE);
    CHECK(strstr(err, "failed authentication") != NULL);

    sl_keyring_free(&kr);
    sl_keyring_free(&other);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

/* An online rewrap reseals the store under the new keyring at once; the
 * store keeps using it; version 1 can then be retired. */
static void test_reseal(void)
{
    char dir[64], path[128], err[512], cmd[128];
    strcpy(dir, "/tmp/sl-cmeta-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/meta/%s", dir, SL_META_LOCAL_FILE);
    struct sl_keyring kr = {0}, kr2 = {0}, only2 = {0};
    CHECK_EQ_INT(sl_keyring_add(&kr, err, sizeof(err)), 0);
    struct sl_meta *m = NULL;
    CHECK_EQ_INT(sl_meta_open_local_sealed(dir, &kr, true, &m, err, sizeof(err)), SL_ERR_NONE);
    CHECK_EQ_INT(put_topic(m, "before", 1), SL_ERR_NONE);
    CHECK_EQ_INT(sl_keyring_merge(&kr2, &kr, err, sizeof(err)), 0);
    CHECK_EQ_INT(sl_keyring_add(&kr2, err, sizeof(err)), 0); /* kr2: 1, 2 */
    CHECK_EQ_INT(sl_meta_reseal(m, &kr2), SL_ERR_NONE);
    size_t n;
    uint8_t *b = slurp(path, &n);
    uint8_t dkey[32];
    int which;
    uint32_t v = 0;
    only2.keys = calloc(1, sizeof(*only2.keys));
    only2.n = 1;
    only2.keys[0] = *sl_keyring_find(&kr2, 2);
    CHECK_EQ_INT(sl_sealed_header_unwrap(&only2, b, dkey, &which, &v), 0);
    CHECK_EQ_INT(v, 2);
    free(b);
    CHECK_EQ_INT(put_topic(m, "after", 2), SL_ERR_NONE);
    sl_meta_close(m);
    m = NULL;
    CHECK_EQ_INT(sl_meta_open_local_sealed(dir, &only2, false, &m, err, sizeof(err)), SL_ERR_NONE);
    struct sl_meta_topic t;
    CHECK_EQ_INT(sl_meta_get_topic(m, "before", &t), SL_ERR_NONE);
    sl_meta_topic_clear(&t);
    CHECK_EQ_INT(sl_meta_get_topic(m, "after", &t), SL_ERR_NONE);
    sl_meta_topic_clear(&t);
    sl_meta_close(m);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    /* A plaintext store (encryption off) is not resealed. */
    CHECK(mkdtemp(strcpy(dir, "/tmp/sl-cmeta-XXXXXX")) != NULL);
    CHECK_EQ_INT(sl_meta_open_local(dir, &m, err, sizeof(err)), SL_ERR_NONE);
    CHECK_EQ_INT(sl_meta_reseal(m, &kr2), SL_ERR__STATE);
    sl_meta_close(m);
    sl_keyring_free(&kr);
    sl_keyring_free(&kr2);
    sl_keyring_free(&only2);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX;
    TEST_RUN(test_sealed_store);
    TEST_RUN(test_reseal);
    TEST_REPORT();
}
