/* SPDX-License-Identifier: Apache-2.0
 *
 * The keyring (see keyring.h): the text parser, the key file provider with
 * its permission check and first-start creation, and the command provider.
 * Key bytes are only ever in struct sl_kek arrays and in short-lived text
 * buffers, both wiped with OPENSSL_cleanse before they are freed.
 */
#include "crypto/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/mem.h"

#define MAGIC_LINE "sluice-keyring 1"
#define CMD_MAX_OUTPUT (64 * 1024)

static int cmp_kek(const void *a, const void *b)
{
    uint32_t x = ((const struct sl_kek *)a)->version, y = ((const struct sl_kek *)b)->version;
    return x < y ? -1 : x > y;
}

/* Parses "key <version> <64 hex>" (line without its newline). */
static int parse_key_line(const char *s, size_t n, struct sl_kek *k)
{
    if (n < 4 || memcmp(s, "key ", 4) != 0)
        return -1;
    size_t i = 4;
    uint64_t v = 0;
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 11) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        i++;
        digits++;
    }
    if (digits == 0 || (digits > 1 && s[4] == '0') || v == 0 || v > UINT32_MAX || i >= n ||
        s[i] != ' ')
        return -1;
    i++;
    if (n - i != 2 * SL_KEK_LEN)
        return -1;
    for (size_t j = 0; j < SL_KEK_LEN; j++) {
        int hi = OPENSSL_hexchar2int((unsigned char)s[i + 2 * j]);
        int lo = OPENSSL_hexchar2int((unsigned char)s[i + 2 * j + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        k->key[j] = (uint8_t)(hi << 4 | lo);
    }
    k->version = (uint32_t)v;
    return 0;
}

int sl_keyring_parse(const char *text, size_t len, struct sl_keyring *kr, char *err,
                     size_t errlen)
{
    sl_keyring_free(kr);
    size_t pos = 0, cap = 0;
    int line = 0;
    bool magic = false;
    struct sl_kek k;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        if (!magic) {
            if (n != strlen(MAGIC_LINE) || memcmp(s, MAGIC_LINE, n) != 0) {
                snprintf(err, errlen, "line 1: expected \"%s\"", MAGIC_LINE);
                goto fail;
            }
            magic = true;
            continue;
        }
        if (n == 0 || s[0] == '#')
            continue;
        if (parse_key_line(s, n, &k) < 0) {
            snprintf(err, errlen, "line %d: expected \"key <version 1..4294967295> <64 hex "
                                  "digits>\"", line);
            goto fail;
        }
        if (sl_keyring_find(kr, k.version) || kr->n >= SL_KEYRING_MAX) {
            snprintf(err, errlen, "line %d: %s", line,
                     kr->n >= SL_KEYRING_MAX ? "too many keys" : "duplicate key version");
            goto fail;
        }
        if (kr->n == cap) {
            cap = cap ? cap * 2 : 4;
            struct sl_kek *nk = sl_xcalloc(cap, sizeof(*nk));
            if (kr->n)
                memcpy(nk, kr->keys, kr->n * sizeof(*nk));
            OPENSSL_cleanse(kr->keys, kr->n * sizeof(*nk));
            free(kr->keys);
            kr->keys = nk;
        }
        kr->keys[kr->n++] = k;
        /* Kept sorted so that find can search and newest is the last. */
        qsort(kr->keys, kr->n, sizeof(*kr->keys), cmp_kek);
    }
    OPENSSL_cleanse(&k, sizeof(k));
    if (!magic || kr->n == 0) {
        snprintf(err, errlen, "%s", magic ? "no key" : "empty");
        goto fail;
    }
    return 0;
fail:
    OPENSSL_cleanse(&k, sizeof(k));
    sl_keyring_free(kr);
    return -1;
}

void sl_keyring_free(struct sl_keyring *kr)
{
    if (kr->keys)
        OPENSSL_cleanse(kr->keys, kr->n * sizeof(*kr->keys));
    free(kr->keys);
    kr->keys = NULL;
    kr->n = 0;
}

const struct sl_kek *sl_keyring_newest(const struct sl_keyring *kr)
{
    return kr->n ? &kr->keys[kr->n - 1] : NULL;
}

const struct sl_kek *sl_keyring_find(const struct sl_keyring *kr, uint32_t version)
{
    struct sl_kek k = {.version = version};
    if (!kr->n)
        return NULL;
    return bsearch(&k, kr->keys, kr->n, sizeof(k), cmp_kek);
}

char *sl_keyring_format(const struct sl_keyring *kr, size_t *len)
{
    size_t cap = 128 + kr->n * (16 + 2 * SL_KEK_LEN);
    char *s = sl_xmalloc(cap);
    size_t n = (size_t)snprintf(s, cap, "%s\n# Sluice key-encryption keys: keep this file "
                                        "mode 0600, on another volume than the data\n",
                                MAGIC_LINE);
    for (size_t i = 0; i < kr->n; i++) {
        n += (size_t)snprintf(s + n, cap - n, "key %u ", kr->keys[i].version);
        for (size_t j = 0; j < SL_KEK_LEN; j++)
            n += (size_t)snprintf(s + n, cap - n, "%02x", kr->keys[i].key[j]);
        s[n++] = '\n';
        s[n] = 0;
    }
    *len = n;
    return s;
}

int sl_keyring_merge(struct sl_keyring *kr, const struct sl_keyring *in_use, char *err,
                     size_t errlen)
{
    size_t extra = 0;
    for (size_t i = 0; i < in_use->n; i++) {
        const struct sl_kek *k = sl_keyring_find(kr, in_use->keys[i].version);
        if (!k) {
            extra++;
        } else if (CRYPTO_memcmp(k->key, in_use->keys[i].key, SL_KEK_LEN) != 0) {
            snprintf(err, errlen, "key version %u differs from the key of that version in use",
                     k->version);
            return -1;
        }
    }
    if (extra == 0)
        return 0;
    if (kr->n + extra > SL_KEYRING_MAX) {
        snprintf(err, errlen, "too many keys");
        return -1;
    }
    struct sl_kek *nk = sl_xcalloc(kr->n + extra, sizeof(*nk));
    size_t n = kr->n;
    if (n)
        memcpy(nk, kr->keys, n * sizeof(*nk));
    for (size_t i = 0; i < in_use->n; i++)
        if (!sl_keyring_find(kr, in_use->keys[i].version))
            nk[n++] = in_use->keys[i];
    qsort(nk, n, sizeof(*nk), cmp_kek);
    sl_keyring_free(kr);
    kr->keys = nk;
    kr->n = n;
    return 0;
}

int sl_keyring_add(struct sl_keyring *kr, char *err, size_t errlen)
{
    const struct sl_kek *top = sl_keyring_newest(kr);
    if (top && top->version == UINT32_MAX) {
        snprintf(err, errlen, "no key version left");
        return -1;
    }
    if (kr->n >= SL_KEYRING_MAX) {
        snprintf(err, errlen, "too many keys");
        return -1;
    }
    struct sl_kek *nk = sl_xcalloc(kr->n + 1, sizeof(*nk));
    if (kr->n)
        memcpy(nk, kr->keys, kr->n * sizeof(*nk));
    nk[kr->n].version = top ? top->version + 1 : 1;
    if (RAND_bytes(nk[kr->n].key, SL_KEK_LEN) != 1) {
        OPENSSL_cleanse(nk, (kr->n + 1) * sizeof(*nk));
        free(nk);
        snprintf(err, errlen, "RAND_bytes failed");
        return -1;
    }
    size_t n = kr->n + 1;
    sl_keyring_free(kr);
    kr->keys = nk;
    kr->n = n;
    return 0;
}

static void fsync_parent(const char *path)
{
    char *dup = sl_xstrdup(path);
    int fd = open(dirname(dup), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dup);
}

int sl_keyring_store_file(const char *path, const struct sl_keyring *kr, char *err,
                          size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    size_t len;
    char *text = sl_keyring_format(kr, &len);
    int rc = -1;
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (done != len || fsync(fd) < 0) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        close(fd);
        (void)unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        (void)unlink(tmp);
        goto out;
    }
    fsync_parent(path);
    rc = 0;
out:
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

/* mkdir -p of path's parent, mode 0700. */
static int make_parent(const char *path, char *err, size_t errlen)
{
    char buf[4200];
    snprintf(buf, sizeof(buf), "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return 0;
    *slash = 0;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
    return -1;
}

int sl_keyring_load_file(const char *path, bool create, struct sl_keyring *kr, bool *created,
                         char *err, size_t errlen)
{
    *created = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && create) {
        struct sl_keyring fresh = {0};
        if (make_parent(path, err, errlen) < 0 || sl_keyring_add(&fresh, err, errlen) < 0 ||
            sl_keyring_store_file(path, &fresh, err, errlen) < 0) {
            sl_keyring_free(&fresh);
            return -1;
        }
        sl_keyring_free(&fresh);
        *created = true;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0) {
        snprintf(err, errlen, "key file %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "key file %s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "key file %s has mode %04o: it must not be readable or writable "
                              "by group or others (chmod 600 %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(err, errlen, "key file %s is owned by uid %u, not by the broker's uid %u", path,
                 (unsigned)st.st_uid, (unsigned)geteuid());
        close(fd);
        return -1;
    }
    if (st.st_size > CMD_MAX_OUTPUT) {
        snprintf(err, errlen, "key file %s: larger than %d bytes", path, CMD_MAX_OUTPUT);
        close(fd);
        return -1;
    }
    char *buf = sl_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    char perr[160];
    int rc = sl_keyring_parse(buf, got, kr, perr, sizeof(perr));
    if (rc < 0)
        snprintf(err, errlen, "key file %s: %s", path, perr);
    OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
    free(buf);
    return rc;
}

int sl_keyring_load_command(const char *cmd, struct sl_keyring *kr, char *err, size_t errlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "sluice.keys.command: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "sluice.keys.command: fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        if (dup2(p[1], STDOUT_FILENO) < 0)
            _exit(127);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char *buf = sl_xmalloc(CMD_MAX_OUTPUT + 1);
    size_t got = 0;
    bool too_big = false;
    for (;;) {
        ssize_t r = read(p[0], buf + got, CMD_MAX_OUTPUT + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got > CMD_MAX_OUTPUT) {
            too_big = true;
            break;
        }
    }
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int rc = -1;
    char perr[160];
    if (too_big)
        snprintf(err, errlen, "sluice.keys.command: output larger than %d bytes",
                 CMD_MAX_OUTPUT);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        snprintf(err, errlen, "sluice.keys.command failed (%s %d)",
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    else if ((rc = sl_keyring_parse(buf, got, kr, perr, sizeof(perr))) < 0)
        snprintf(err, errlen, "sluice.keys.command output: %s", perr);
    OPENSSL_cleanse(buf, CMD_MAX_OUTPUT + 1);
    free(buf);
    return rc;
}
