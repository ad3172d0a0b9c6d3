/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the tests of the local metadata store (test_meta.c,
 * test_meta_acl.c): a fresh data directory per test, reading and writing
 * the store file, and framing a body with a correct header (all the
 * version-1 writer ever did, so it stands in for old serializers).
 */
#ifndef SL_TEST_META_HELP_H
#define SL_TEST_META_HELP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "meta/meta.h"
#include "meta/meta_local.h"

#define SECRET_LINE "secret 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

static char dir[256];

/* Creates a fresh empty data directory path (not the directory itself:
 * sl_meta_open_local must create it). */
static inline void fresh_dir(void)
{
    char base[] = "/tmp/sl_test_meta_XXXXXX";
    if (!mkdtemp(base))
        abort();
    snprintf(dir, sizeof dir, "%s/data", base);
}

static inline void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "  cannot remove %s\n", path);
}

static inline void cleanup(void)
{
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    char *slash = strrchr(base, '/');
    *slash = '\0';
    rm_rf(base);
}

static inline void store_path(char *buf, size_t len, const char *file)
{
    snprintf(buf, len, "%s/meta/%s", dir, file);
}

/* Reads the store file into a new buffer (caller frees), or NULL. */
static inline uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

static inline void write_store(const uint8_t *p, size_t n)
{
    char path[512];
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

/* Builds a store file of format version ver around body (bodylen bytes)
 * with a correct header, into out (cap bytes). This is all the version-1
 * writer ever did, so it stands in for the old serializer. */
static inline size_t frame_n(int ver, const char *body, size_t bl, uint8_t *out, size_t cap)
{
    int hn = snprintf((char *)out, cap, "sluice-meta %d %zu %08x\n", ver, bl,
                      (unsigned)sl_crc32c(0, body, bl));
    if ((size_t)hn + bl > cap)
        abort();
    memcpy(out + hn, body, bl);
    return (size_t)hn + bl;
}

static inline size_t frame(int ver, const char *body, uint8_t *out, size_t cap)
{
    return frame_n(ver, body, strlen(body), out, cap);
}

static inline bool file_is_version(int ver)
{
    char path[512], head[32];
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    size_t len;
    uint8_t *b = read_file(path, &len);
    snprintf(head, sizeof head, "sluice-meta %d ", ver);
    bool ok = b && len > strlen(head) && memcmp(b, head, strlen(head)) == 0;
    free(b);
    return ok;
}

/* Writes body (NUL-terminated) framed as format version ver over the store
 * of dir (opened once before, so the directory exists) and opens it.
 * Returns true when the open is refused as damaged with a message that
 * names the store file, contains why and says the broker will not start;
 * otherwise prints the message (and closes a store that opened). */
static inline bool open_refused(int ver, const char *body, const char *why)
{
    char err[1024], path[512];
    size_t cap = strlen(body) + 64;
    uint8_t *buf = malloc(cap);
    write_store(buf, frame(ver, body, buf, cap));
    free(buf);
    struct sl_meta *m;
    sl_err_t rc = sl_meta_open_local(dir, &m, err, sizeof err);
    if (rc == SL_ERR_NONE) {
        sl_meta_close(m);
        fprintf(stderr, "  accepted: %s\n", body);
        return false;
    }
    store_path(path, sizeof path, SL_META_LOCAL_FILE);
    bool ok = rc == SL_ERR__CORRUPT && strstr(err, path) && strstr(err, why) &&
              strstr(err, "will not start with partial metadata");
    if (!ok)
        fprintf(stderr, "  refused otherwise: %s\n", err);
    return ok;
}

/* Writes a store of format version ver: the secret line, then count lines
 * line(out, cap, i) writes (each under 256 bytes). */
static inline void write_lines(int ver, int count, int (*line)(char *out, size_t cap, int i))
{
    size_t cap = (size_t)count * 256 + 256, len = 0;
    char *body = malloc(cap);
    len += (size_t)snprintf(body, cap, "%s", SECRET_LINE);
    for (int i = 0; i < count; i++)
        len += (size_t)line(body + len, cap - len, i);
    uint8_t *buf = malloc(len + 64);
    write_store(buf, frame_n(ver, body, len, buf, len + 64));
    free(buf);
    free(body);
}

#endif
