/* SPDX-License-Identifier: Apache-2.0
 *
 * The sealing file layer (src/crypto/fileops_aead.c) over the POSIX layer:
 * round trips at any logical position, no plaintext on disk, nonces never
 * repeat (also across truncate + re-append at the same position), the
 * frame table rebuilt at open, torn tails cut, and each kind of tampering
 * detected: a flipped byte, two frames swapped, a file copied to another
 * partition, a damaged header in the middle, a wrong or missing key, a file
 * that was never sealed. Rewrap moves a file to the newest key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/logging.h"
#include "crypto/fileops_aead.h"
#include "test_help.h"

#define HDR 128
#define FO 48 /* frame overhead: 32-byte header + 16-byte tag */

static char dir[64];
static struct sl_keyring kr;
static struct sl_fileops_aead *layer;
static const struct sl_fileops *ops;

static void setup(void)
{
    strcpy(dir, "/tmp/sl-aead-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    char p[128];
    snprintf(p, sizeof(p), "%s/t-0", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/t-1", dir);
    mkdir(p, 0700);
    char err[200];
    sl_keyring_free(&kr);
    if (sl_keyring_add(&kr, err, sizeof(err)) < 0)
        abort();
    layer = sl_fileops_aead_new(&sl_fileops_posix, &kr);
    ops = sl_fileops_aead_ops(layer);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        abort();
    sl_fileops_aead_free(layer);
}

static void path_of(char *p, const char *part, const char *name)
{
    snprintf(p, 128, "%s/%s/%s", dir, part, name);
}

/* Writes batches of sizes[i] bytes with a marker; returns the plaintext. */
static uint8_t *write_batches(struct sl_file *f, const size_t *sizes, int n, int64_t *total)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += (int64_t)sizes[i];
    uint8_t *all = malloc((size_t)sum);
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; j < sizes[i]; j++)
            all[off + (int64_t)j] = (uint8_t)("MARKER-secret-"[j % 14]);
        all[off] = (uint8_t)i;
        if (sl_file_append(f, all + off, sizes[i], off) != (ssize_t)sizes[i])
            abort();
        off += (int64_t)sizes[i];
    }
    *total = sum;
    return all;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, fp);
    fclose(fp);
    return b;
}

static void test_round_trip(void)
{
    setup();
    char p[128];
    path_of(p, "t-0", "00000000000000000000.log");
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDWR | SL_FILE_CREATE | SL_FILE_EXCL, &f), 0);
    CHECK_EQ_INT(sl_file_raw_fd(f), -1);
    size_t sizes[] = {100, 5000, 61, 70000, 1, 3000};
    int64_t total;
    uint8_t *all = write_batches(f, sizes, 6, &total);
    int64_t sz;
    CHECK_EQ_INT(sl_file_size(f, &sz), 0);
    CHECK_EQ_INT(sz, total);
    /* Appending anywhere but the end is refused. */
    CHECK_EQ_INT(sl_file_append(f, all, 10, 5), -EINVAL);
    /* Reads at every kind of position and length. */
    uint8_t *buf = malloc((size_t)total);
    for (int64_t off = 0; off < total; off += 977) {
        for (size_t n = 1; n < 90000; n = n * 3 + 7) {
            size_t want = (size_t)(off + (int64_t)n > total ? total - off : (int64_t)n);
            CHECK_EQ_INT(sl_file_pread_full(f, buf, n, off), want);
            CHECK(memcmp(buf, all + off, want) == 0);
        }
    }
    CHECK_EQ_INT(sl_file_pread(f, buf, 10, total), 0);
    sl_file_close(f);
    /* Reopened: the frame table is rebuilt. */
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_size(f, &sz), 0);
    CHECK_EQ_INT(sz, total);
    CHECK_EQ_INT(sl_file_pread_full(f, buf, (size_t)total, 0), total);
    CHECK(memcmp(buf, all, (size_t)total) == 0);
    sl_file_close(f);
    /* No plaintext on disk, and the physical size is the framed size. */
    size_t pn;
    uint8_t *phys = slurp(p, &pn);
    CHECK_EQ_INT(pn, HDR + 6 * FO + total);
    CHECK(memmem(phys, pn, "MARKER-secret", 13) == NULL);
    free(phys);
    /* Non-.log files pass through untouched. */
    path_of(p, "t-0", "00000000000000000000.index");
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDWR | SL_FILE_CREATE, &f), 0);
    CHECK(sl_file_raw_fd(f) >= 0);
    sl_file_close(f);
    free(buf);
    free(all);
    teardown();
}

struct nonce_set {
    uint8_t n[4096][12];
    int count;
};

static void collect(void *arg, const uint8_t nonce[12])
{
    struct nonce_set *s = arg;
    if (s->count < 4096)
        memcpy(s->n[s->count++], nonce, 12);
}

static void test_nonces_unique_across_truncation(void)
{
    setup();
    char p[128];
    path_of(p, "t-0", "00000000000000000000.log");
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDWR | SL_FILE_CREATE, &f), 0);
    static struct nonce_set s;
    s.count = 0;
    uint8_t b[64];
    memset(b, 'x', sizeof(b));
    /* 4 rounds: write 500 frames, note their nonces, truncate to position
     * 64 (after the first frame) and write the same positions again. */
    for (int round = 0; round < 4; round++) {
        int64_t off = round == 0 ? 0 : 64;
        for (int i = round == 0 ? 0 : 1; i < 500; i++, off += 64)
            CHECK_EQ_INT(sl_file_append(f, b, 64, off), 64);
        int before = s.count;
        struct nonce_set *tmp = malloc(sizeof(*tmp));
        tmp->count = 0;
        CHECK_EQ_INT(sl_fileops_aead_nonces(f, collect, tmp), 500);
        /* Keep the first frame's nonce once, every other every round. */
        for (int i = round == 0 ? 0 : 1; i < tmp->count; i++)
            memcpy(s.n[s.count++], tmp->n[i], 12);
        free(tmp);
        CHECK(s.count > before);
        CHECK_EQ_INT(sl_file_ftruncate(f, 64), 0);
    }
    for (int i = 0; i < s.count; i++)
        for (int j = i + 1; j < s.count; j++)
            CHECK(memcmp(s.n[i], s.n[j], 12) != 0);
    CHECK_EQ_INT(s.count, 1 + 4 * 499);
    /* Truncation only at frame boundaries. */
    CHECK_EQ_INT(sl_file_ftruncate(f, 30), -EINVAL);
    CHECK_EQ_INT(sl_file_ftruncate(f, 0), 0);
    int64_t sz;
    CHECK_EQ_INT(sl_file_size(f, &sz), 0);
    CHECK_EQ_INT(sz, 0);
    sl_file_close(f);
    teardown();
}

/* Rewrites n bytes of the physical file at pos. */
static void poke(const char *path, int64_t pos, const void *b, size_t n)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0 || pwrite(fd, b, n, pos) != (ssize_t)n)
        abort();
    close(fd);
}

static void peek(const char *path, int64_t pos, void *b, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0 || pread(fd, b, n, pos) != (ssize_t)n)
        abort();
    close(fd);
}

/* Three 1000-byte frames in t-0's first segment; returns the path. */
static void three_frames(char *p)
{
    path_of(p, "t-0", "00000000000000000000.log");
    struct sl_file *f;
    if (ops->open(ops, p, SL_FILE_RDWR | SL_FILE_CREATE, &f) < 0)
        abort();
    size_t sizes[] = {1000, 1000, 1000};
    int64_t total;
    free(write_batches(f, sizes, 3, &total));
    sl_file_close(f);
}

static void test_tamper_flip(void)
{
    setup();
    char p[128];
    three_frames(p);
    uint8_t c;
    int64_t at = HDR + (FO + 1000) + 32 + 500; /* inside frame 2's ciphertext */
    peek(p, at, &c, 1);
    c ^= 0x20;
    poke(p, at, &c, 1);
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0);
    uint8_t buf[3000];
    CHECK_EQ_INT(sl_file_pread(f, buf, 1000, 0), 1000);
    CHECK_EQ_INT(sl_file_pread(f, buf, 1000, 1000), -EBADMSG);
    CHECK_EQ_INT(sl_file_pread(f, buf, 10, 1500), -EBADMSG);
    CHECK_EQ_INT(sl_file_pread(f, buf, 1000, 2000), 1000);
    /* A read across it returns the good prefix, then fails. */
    CHECK_EQ_INT(sl_file_pread(f, buf, 3000, 0), 1000);
    CHECK_EQ_INT(sl_file_pread_full(f, buf, 3000, 0), -EBADMSG);
    sl_file_close(f);
    /* The tag too. */
    c ^= 0x20;
    poke(p, at, &c, 1);
    at = HDR + 2 * (FO + 1000) - 1;
    peek(p, at, &c, 1);
    c ^= 1;
    poke(p, at, &c, 1);
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_pread(f, buf, 1000, 1000), -EBADMSG);
    sl_file_close(f);
    teardown();
}

/* Reads of runs of frames decrypt from a mapping of the file; a file cut
 * from outside while mapped must fail the read (-EIO), not kill the process
 * with SIGBUS; a file that is whole again reads again. */
static void test_cut_from_outside(void)
{
    setup();
    char p[128];
    path_of(p, "t-0", "00000000000000000000.log");
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDWR | SL_FILE_CREATE, &f), 0);
    size_t sizes[4] = {5000, 5000, 5000, 5000};
    int64_t total;
    uint8_t *pt = write_batches(f, sizes, 4, &total);
    uint8_t *buf = malloc((size_t)total);
    CHECK_EQ_INT(sl_file_pread(f, buf, (size_t)total, 0), total);
    CHECK(memcmp(buf, pt, (size_t)total) == 0);
    size_t n;
    uint8_t *disk = slurp(p, &n);
    CHECK(truncate(p, 8192) == 0); /* frame 1 runs into the lost page */
    CHECK_EQ_INT(sl_file_pread(f, buf, (size_t)total, 0), -EIO);
    /* Put back: served again through the same mapping. */
    poke(p, 0, disk, n);
    CHECK_EQ_INT(sl_file_pread(f, buf, (size_t)total, 0), total);
    CHECK(memcmp(buf, pt, (size_t)total) == 0);
    sl_file_close(f);
    free(disk);
    free(buf);
    free(pt);
    teardown();
}

static void test_tamper_swap_and_copy(void)
{
    setup();
    char p[128], q[128];
    three_frames(p);
    /* Swap frames 1 and 2 (same length). */
    uint8_t a[FO + 1000], b[FO + 1000];
    peek(p, HDR, a, sizeof(a));
    peek(p, HDR + (int64_t)sizeof(a), b, sizeof(b));
    poke(p, HDR, b, sizeof(b));
    poke(p, HDR + (int64_t)sizeof(a), a, sizeof(a));
    struct sl_file *f;
    uint8_t buf[1000];
    int64_t sz;
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0);
    /* The first header no longer continues the sequence: damage. */
    CHECK_EQ_INT(sl_file_size(f, &sz), 0);
    CHECK_EQ_INT(sz, 1);
    CHECK_EQ_INT(sl_file_pread(f, buf, 10, 0), -EBADMSG);
    sl_file_close(f);
    teardown();

    /* A whole segment copied to another partition (same name). */
    setup();
    three_frames(p);
    path_of(q, "t-1", "00000000000000000000.log");
    size_t n;
    uint8_t *all = slurp(p, &n);
    int fd = open(q, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0 && write(fd, all, n) == (ssize_t)n);
    close(fd);
    free(all);
    CHECK_EQ_INT(ops->open(ops, q, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_pread(f, buf, 1000, 0), -EBADMSG);
    sl_file_close(f);
    /* And to another base offset in the same partition. */
    path_of(q, "t-0", "00000000000000000003.log");
    CHECK_EQ_INT(rename(p, q), 0);
    CHECK_EQ_INT(ops->open(ops, q, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_pread(f, buf, 1000, 0), -EBADMSG);
    sl_file_close(f);
    teardown();
}

static void test_torn_tail_and_middle_damage(void)
{
    setup();
    char p[128];
    three_frames(p);
    int64_t full = HDR + 3 * (FO + 1000);
    /* Cut inside the last frame: hidden read-only, cut when writable. */
    CHECK_EQ_INT(truncate(p, full - 7), 0);
    struct sl_file *f;
    int64_t sz;
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_size(f, &sz), 0);
    CHECK_EQ_INT(sz, 2000);
    sl_file_close(f);
    struct stat st;
    CHECK_EQ_INT(stat(p, &st), 0);
    CHECK_EQ_INT(st.st_size, full - 7);
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDWR, &f), 0);
    CHECK_EQ_INT(stat(p, &st), 0);
    CHECK_EQ_INT(st.st_size, full - (FO + 1000));
    uint8_t buf[1000];
    memset(buf, 'y', sizeof(buf));
    CHECK_EQ_INT(sl_file_append(f, buf, 1000, 2000), 1000);
    sl_file_close(f);
    /* Zeros after the last frame (size extended, data lost): torn. */
    CHECK_EQ_INT(truncate(p, full + 4096), 0);
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_size(f, &sz), 0);
    CHECK_EQ_INT(sz, 3000);
    sl_file_close(f);
    CHECK_EQ_INT(truncate(p, full), 0);
    /* A damaged header in the middle: damage, never a shorter file. */
    uint8_t c;
    peek(p, HDR + (FO + 1000) + 9, &c, 1);
    c ^= 1;
    poke(p, HDR + (FO + 1000) + 9, &c, 1);
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDWR, &f), 0);
    CHECK_EQ_INT(sl_file_size(f, &sz), 0);
    CHECK_EQ_INT(sz, 1001);
    CHECK_EQ_INT(sl_file_pread(f, buf, 1000, 0), 1000);
    CHECK_EQ_INT(sl_file_pread(f, buf, 1, 1000), -EBADMSG);
    CHECK_EQ_INT(sl_file_append(f, buf, 10, 1000), -EIO);
    /* Until recovery decides to cut there. */
    CHECK_EQ_INT(sl_file_ftruncate(f, 1000), 0);
    CHECK_EQ_INT(sl_file_size(f, &sz), 0);
    CHECK_EQ_INT(sz, 1000);
    sl_file_close(f);
    CHECK_EQ_INT(stat(p, &st), 0);
    CHECK_EQ_INT(st.st_size, HDR + FO + 1000);
    teardown();
}

static void test_keys(void)
{
    setup();
    char p[128], err[200];
    three_frames(p);
    struct sl_file *f;
    /* Wrong key: another keyring with the same version. */
    struct sl_keyring other = {0};
    CHECK_EQ_INT(sl_keyring_add(&other, err, sizeof(err)), 0);
    struct sl_fileops_aead *wrong = sl_fileops_aead_new(&sl_fileops_posix, &other);
    const struct sl_fileops *wops = sl_fileops_aead_ops(wrong);
    CHECK_EQ_INT(wops->open(wops, p, SL_FILE_RDONLY, &f), -EKEYREJECTED);
    /* Missing version. */
    other.keys[0].version = 9;
    CHECK_EQ_INT(wops->open(wops, p, SL_FILE_RDONLY, &f), -ENOKEY);
    /* A file that was never sealed. */
    char q[128];
    path_of(q, "t-1", "00000000000000000000.log");
    int fd = open(q, O_WRONLY | O_CREAT, 0600);
    char plain[200];
    memset(plain, 'p', sizeof(plain));
    CHECK(write(fd, plain, sizeof(plain)) == (ssize_t)sizeof(plain));
    close(fd);
    CHECK_EQ_INT(ops->open(ops, q, SL_FILE_RDONLY, &f), -EPROTO);

    /* Rotate and rewrap: the file moves to version 2; the old key can go. */
    uint32_t v = 0;
    CHECK_EQ_INT(sl_fileops_aead_kek_version(layer, p, &v), 0);
    CHECK_EQ_INT(v, 1);
    CHECK_EQ_INT(sl_keyring_add(&kr, err, sizeof(err)), 0);
    CHECK_EQ_INT(sl_fileops_aead_rewrap(layer, p), 1);
    CHECK_EQ_INT(sl_fileops_aead_rewrap(layer, p), 0);
    CHECK_EQ_INT(sl_fileops_aead_kek_version(layer, p, &v), 0);
    CHECK_EQ_INT(v, 2);
    sl_keyring_free(&other);
    other.keys = calloc(1, sizeof(*other.keys));
    other.n = 1;
    other.keys[0] = kr.keys[1];
    uint8_t buf[3000];
    CHECK_EQ_INT(wops->open(wops, p, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_pread_full(f, buf, 3000, 0), 3000);
    CHECK(memcmp(buf + 1, "ARKER", 5) == 0);
    sl_file_close(f);
    /* A second rotation + rewrap uses the other slot again. */
    CHECK_EQ_INT(sl_keyring_add(&kr, err, sizeof(err)), 0);
    CHECK_EQ_INT(sl_fileops_aead_rewrap(layer, p), 1);
    CHECK_EQ_INT(sl_fileops_aead_kek_version(layer, p, &v), 0);
    CHECK_EQ_INT(v, 3);
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_pread_full(f, buf, 3000, 0), 3000);
    sl_file_close(f);
    sl_fileops_aead_free(wrong);
    sl_keyring_free(&other);
    teardown();
}

/* Unlinking or renaming a sealed file away destroys its data key first:
 * a hard link kept aside shows the header's key slots zeroed. */
static void test_crypto_shredding(void)
{
    setup();
    char p[128], keep[128], moved[140];
    three_frames(p);
    snprintf(keep, sizeof(keep), "%s/keep", dir);
    CHECK_EQ_INT(link(p, keep), 0);
    CHECK_EQ_INT(ops->unlink(ops, p), 0);
    CHECK(access(p, F_OK) != 0);
    uint8_t slots[104], zero[104] = {0};
    peek(keep, 16, slots, sizeof(slots));
    CHECK(memcmp(slots, zero, sizeof(zero)) == 0);
    /* Renamed for deletion (retention). */
    three_frames(p);
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0); /* a reader still open */
    snprintf(moved, sizeof(moved), "%s.deleted", p);
    CHECK_EQ_INT(ops->rename(ops, p, moved), 0);
    peek(moved, 16, slots, sizeof(slots));
    CHECK(memcmp(slots, zero, sizeof(zero)) == 0);
    uint8_t buf[1000];
    CHECK_EQ_INT(sl_file_pread_full(f, buf, 1000, 1000), 1000); /* it keeps reading */
    sl_file_close(f);
    /* A sealed file renamed to another sealed name keeps its key. */
    three_frames(p);
    char p2[140];
    snprintf(p2, sizeof(p2), "%s/t-0/00000000000000000009.log", dir);
    CHECK_EQ_INT(ops->rename(ops, p, p2), 0);
    peek(p2, 16, slots, sizeof(slots));
    CHECK(memcmp(slots, zero, sizeof(zero)) != 0);
    teardown();
}

/* The online rewrap: the keyring swapped under an open file, the file
 * rewrapped while open and appended to after; new files take the newest
 * key; a shredded file, a file being created and a vanished one are left
 * alone. */
static void test_online_rewrap(void)
{
    setup();
    char p[128], q[128], r[128], err[200];
    path_of(p, "t-0", "00000000000000000000.log");
    struct sl_file *f;
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDWR | SL_FILE_CREATE, &f), 0);
    size_t sizes[] = {700, 900};
    int64_t total;
    uint8_t *all = write_batches(f, sizes, 2, &total);
    /* A reloaded keyring: versions 1 and 2, swapped in while f is open. */
    struct sl_keyring kr2 = {0};
    char *text;
    size_t tl;
    CHECK_EQ_INT(sl_keyring_add(&kr, err, sizeof(err)), 0); /* kr: 1, 2 */
    text = sl_keyring_format(&kr, &tl);
    CHECK_EQ_INT(sl_keyring_parse(text, tl, &kr2, err, sizeof(err)), 0);
    free(text);
    sl_fileops_aead_set_keyring(layer, &kr2);
    CHECK(sl_fileops_aead_keyring(layer) == &kr2);
    CHECK_EQ_INT(sl_fileops_aead_rewrap(layer, p), 1);
    uint32_t v = 0;
    CHECK_EQ_INT(sl_fileops_aead_kek_version(layer, p, &v), 0);
    CHECK_EQ_INT(v, 2);
    /* The open file keeps its data key: it appends and reads on. */
    uint8_t more[300];
    memset(more, 'z', sizeof(more));
    CHECK_EQ_INT(sl_file_append(f, more, sizeof(more), total), (ssize_t)sizeof(more));
    uint8_t buf[1900];
    CHECK_EQ_INT(sl_file_pread_full(f, buf, 1900, 0), 1900);
    CHECK(memcmp(buf, all, 1600) == 0 && memcmp(buf + 1600, more, 300) == 0);
    sl_file_close(f);
    /* A new file takes version 2. */
    path_of(q, "t-1", "00000000000000000000.log");
    CHECK_EQ_INT(ops->open(ops, q, SL_FILE_RDWR | SL_FILE_CREATE, &f), 0);
    CHECK_EQ_INT(sl_file_append(f, more, sizeof(more), 0), (ssize_t)sizeof(more));
    sl_file_close(f);
    CHECK_EQ_INT(sl_fileops_aead_kek_version(layer, q, &v), 0);
    CHECK_EQ_INT(v, 2);
    /* Version 1 retired: everything opens with version 2 alone. */
    struct sl_keyring only2 = {0};
    only2.keys = calloc(1, sizeof(*only2.keys));
    only2.n = 1;
    only2.keys[0] = *sl_keyring_find(&kr2, 2);
    sl_fileops_aead_set_keyring(layer, &only2);
    CHECK_EQ_INT(ops->open(ops, p, SL_FILE_RDONLY, &f), 0);
    CHECK_EQ_INT(sl_file_pread_full(f, buf, 1900, 0), 1900);
    CHECK(memcmp(buf, all, 1600) == 0);
    sl_file_close(f);
    /* Shredded: a rewrap leaves it so (nothing to do, no key written back). */
    sl_fileops_aead_set_keyring(layer, &kr2);
    uint8_t slots[104], zero[104] = {0};
    poke(q, 16, zero, sizeof(zero));
    CHECK_EQ_INT(sl_fileops_aead_rewrap(layer, q), 0);
    peek(q, 16, slots, sizeof(slots));
    CHECK(memcmp(slots, zero, sizeof(zero)) == 0);
    /* Being created (no header yet) and vanished: nothing to do. */
    path_of(r, "t-1", "00000000000000000009.log");
    int fd = open(r, O_WRONLY | O_CREAT, 0600);
    close(fd);
    CHECK_EQ_INT(sl_fileops_aead_rewrap(layer, r), 0);
    path_of(r, "t-1", "00000000000000000099.log");
    CHECK_EQ_INT(sl_fileops_aead_rewrap(layer, r), 0);
    sl_fileops_aead_set_keyring(layer, &kr);
    free(all);
    sl_keyring_free(&kr2);
    sl_keyring_free(&only2);
    teardown();
}

int main(void)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX;
    TEST_RUN(test_round_trip);
    TEST_RUN(test_nonces_unique_across_truncation);
    TEST_RUN(test_tamper_flip);
    TEST_RUN(test_tamper_swap_and_copy);
    TEST_RUN(test_cut_from_outside);
    TEST_RUN(test_torn_tail_and_middle_damage);
    TEST_RUN(test_keys);
    TEST_RUN(test_crypto_shredding);
    TEST_RUN(test_online_rewrap);
    sl_keyring_free(&kr);
    TEST_REPORT();
}
