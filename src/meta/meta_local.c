/* SPDX-License-Identifier: Apache-2.0
 *
 * The local metadata backend: one checksummed file in <data_dir>/meta,
 * kept whole in memory and replaced atomically on every change (format in
 * meta_local.h).
 *
 * Durability protocol of a write (the classic atomic replace):
 *   1. encode the new store and write it to sluice.meta.tmp (O_TRUNC, 0600);
 *   2. fdatasync the temporary file, close it;
 *   3. rename it over sluice.meta;
 *   4. fsync the directory, so the rename itself is durable.
 * A crash before 3 leaves the old store intact plus a stray temporary file,
 * which the next open removes; a crash after 3 leaves the new store. A
 * failure in 1-3 changes nothing and returns SL_ERR__IO. A failure in 4
 * leaves the outcome unknown: the change is kept in memory (it is what the
 * directory shows now), the call returns SL_ERR__IO and the store refuses
 * every later write (SL_ERR__STATE), in the spirit of the sticky storage
 * errors of STYLE.md §4: after a failed fsync the kernel may have dropped
 * the dirty state, and retrying would hide it.
 *
 * An exclusive flock on meta/lock keeps a second process off the same data
 * directory. One mutex serialises every call; reads copy out.
 */
#include "meta/meta_local.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/logging.h"
#include "core/mem.h"
#include "meta/meta_int.h"

/* ------------------------------------------------------------------ */
/* Codec                                                               */
/* ------------------------------------------------------------------ */

/* A growable output buffer (private). */
struct obuf {
    uint8_t *p;
    size_t len, cap;
};

static void ob_put(struct obuf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = sl_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void ob_str(struct obuf *b, const char *s)
{
    ob_put(b, s, strlen(s));
}

static bool raw_byte(uint8_t c)
{
    return c >= 0x21 && c <= 0x7e && c != '%';
}

static void ob_field(struct obuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!*s) {
        ob_str(b, "-");
        return;
    }
    if (strcmp(s, "-") == 0) {
        ob_str(b, "%2D");
        return;
    }
    for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
        if (raw_byte(*p)) {
            ob_put(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            ob_put(b, e, 3);
        }
    }
}

void sl_meta_local_encode(const struct sl_meta_topic *t, int n, uint8_t **out, size_t *outlen)
{
    struct obuf body = {0};
    char num[64];
    for (int i = 0; i < n; i++) {
        ob_str(&body, "topic ");
        ob_field(&body, t[i].name);
        ob_str(&body, " ");
        for (int k = 0; k < 16; k++) {
            snprintf(num, sizeof num, "%02x", t[i].id.b[k]);
            ob_str(&body, num);
        }
        snprintf(num, sizeof num, " %" PRId32 "\n", t[i].partitions);
        ob_str(&body, num);
        for (int j = 0; j < t[i].n_configs; j++) {
            ob_str(&body, "config ");
            ob_field(&body, t[i].configs[j].key);
            ob_str(&body, " ");
            ob_field(&body, t[i].configs[j].value);
            ob_str(&body, "\n");
        }
    }
    char head[80];
    int hn = snprintf(head, sizeof head, "sluice-meta %d %zu %08" PRIx32 "\n",
                      SL_META_LOCAL_VERSION, body.len, sl_crc32c(0, body.p, body.len));
    struct obuf all = {0};
    ob_put(&all, head, (size_t)hn);
    if (body.len)
        ob_put(&all, body.p, body.len);
    free(body.p);
    *out = all.p;
    *outlen = all.len;
}

static int hexv(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one field p[0..n) into a new string. Returns NULL (and sets
 * *why) on any non-canonical or forbidden byte. */
static char *dec_field(const uint8_t *p, size_t n, size_t max, const char **why)
{
    if (n == 1 && p[0] == '-')
        return sl_xstrdup("");
    if (n == 3 && memcmp(p, "%2D", 3) == 0)
        return sl_xstrdup("-");
    char *s = sl_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexv(p[i + 1]) : -1, lo = i + 2 < n ? hexv(p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "bad %XX escape (upper-case hex expected)";
                goto bad;
            }
            c = (uint8_t)(hi << 4 | lo);
            if (c == 0 || raw_byte(c)) {
                *why = c == 0 ? "NUL byte in a field" : "needless %XX escape";
                goto bad;
            }
            i += 2;
        } else if (!raw_byte(c)) {
            *why = "byte that must be %XX-escaped";
            goto bad;
        }
        s[o++] = (char)c;
    }
    if (o == 0) {
        *why = "empty field";
        goto bad;
    }
    if (o > max) {
        *why = "field too long";
        goto bad;
    }
    s[o] = '\0';
    return s;
bad:
    free(s);
    return NULL;
}

/* Parses an unsigned decimal p[0..n) without sign or leading zeros, at
 * most max. */
static bool dec_uint(const uint8_t *p, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20 || (n > 1 && p[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool dec_uuid(const uint8_t *p, size_t n, sl_uuid_t *id)
{
    if (n != 32)
        return false;
    for (int i = 0; i < 16; i++) {
        int v[2];
        for (int k = 0; k < 2; k++) {
            uint8_t c = p[2 * i + k];
            v[k] = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
            if (v[k] < 0)
                return false;
        }
        id->b[i] = (uint8_t)(v[0] << 4 | v[1]);
    }
    return !sl_uuid_is_zero(id);
}

/* Splits line p[0..n) at single spaces into at most max fields. Returns
 * the count, or -1 when there are more fields or an empty one. */
static int split(const uint8_t *p, size_t n, const uint8_t **f, size_t *fn, int max)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == ' ') {
            if (i == start || k == max)
                return -1;
            f[k] = p + start;
            fn[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

static int cmp_uuid(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(sl_uuid_t));
}

sl_err_t sl_meta_local_decode(const uint8_t *buf, size_t len, struct sl_meta_topic **out, int *n,
                              char *err, size_t errlen)
{
    struct sl_meta_topic *t = NULL;
    int nt = 0, cap = 0, line = 1;
    sl_uuid_t *ids = NULL;
    const char *why = NULL;
    *out = NULL;
    *n = 0;

    /* Header: "sluice-meta V LEN CRC\n" within the first 80 bytes. */
    const uint8_t *nl = memchr(buf, '\n', len < 80 ? len : 80);
    const uint8_t *f[8];
    size_t fn[8];
    if (!nl || split(buf, (size_t)(nl - buf), f, fn, 4) != 4 || fn[0] != 11 ||
        memcmp(f[0], "sluice-meta", 11) != 0) {
        snprintf(err, errlen, "not a Sluice metadata file (bad header)");
        return SL_ERR__CORRUPT;
    }
    uint64_t ver, blen, crc = 0;
    if (!dec_uint(f[1], fn[1], UINT32_MAX, &ver)) {
        snprintf(err, errlen, "bad format version in the header");
        return SL_ERR__CORRUPT;
    }
    if (ver != SL_META_LOCAL_VERSION) {
        snprintf(err, errlen,
                 "format version %" PRIu64 " is not supported (this build reads version %d)%s",
                 ver, SL_META_LOCAL_VERSION,
                 ver > SL_META_LOCAL_VERSION ? ": written by a newer Sluice" : "");
        return SL_ERR__CORRUPT;
    }
    if (!dec_uint(f[2], fn[2], SL_META_LOCAL_MAX_FILE, &blen)) {
        snprintf(err, errlen, "bad body length in the header");
        return SL_ERR__CORRUPT;
    }
    bool crc_ok = fn[3] == 8;
    for (size_t i = 0; crc_ok && i < 8; i++) {
        uint8_t c = f[3][i];
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        crc_ok = v >= 0;
        crc = crc << 4 | (uint64_t)(v < 0 ? 0 : v);
    }
    if (!crc_ok) {
        snprintf(err, errlen, "bad checksum field in the header");
        return SL_ERR__CORRUPT;
    }
    const uint8_t *body = nl + 1;
    size_t have = len - (size_t)(body - buf);
    if (have != blen) {
        snprintf(err, errlen, "%s: the header says %" PRIu64 " body bytes, the file has %zu",
                 have < blen ? "truncated" : "trailing bytes", blen, have);
        return SL_ERR__CORRUPT;
    }
    uint32_t got = sl_crc32c(0, body, have);
    if (got != crc) {
        snprintf(err, errlen, "checksum mismatch (stored %08" PRIx64 ", computed %08" PRIx32 ")",
                 crc, got);
        return SL_ERR__CORRUPT;
    }

    const uint8_t *p = body, *end = body + have;
    while (p < end) {
        line++;
        const uint8_t *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) {
            why = "last line has no newline";
            goto bad;
        }
        int k = split(p, (size_t)(e - p), f, fn, 8);
        if (k < 1) {
            why = "empty field or extra space";
            goto bad;
        }
        if (fn[0] == 5 && memcmp(f[0], "topic", 5) == 0) {
            if (k != 4) {
                why = "topic record needs: name id partitions";
                goto bad;
            }
            if (nt == cap) {
                cap = cap ? cap * 2 : 16;
                t = sl_xrealloc(t, (size_t)cap * sizeof *t);
            }
            struct sl_meta_topic *tp = &t[nt];
            memset(tp, 0, sizeof *tp);
            nt++;
            tp->name = dec_field(f[1], fn[1], SL_META_TOPIC_NAME_MAX, &why);
            if (!tp->name)
                goto bad;
            if (!sl_meta_topic_name_valid(tp->name)) {
                why = "not a legal topic name";
                goto bad;
            }
            if (nt > 1 && strcmp(t[nt - 2].name, tp->name) >= 0) {
                why = "topics out of order or repeated";
                goto bad;
            }
            if (!dec_uuid(f[2], fn[2], &tp->id)) {
                why = "bad topic id (32 lower-case hex digits, not all zero)";
                goto bad;
            }
            uint64_t parts;
            if (!dec_uint(f[3], fn[3], INT32_MAX, &parts) || parts < 1) {
                why = "bad partition count";
                goto bad;
            }
            tp->partitions = (int32_t)parts;
        } else if (fn[0] == 6 && memcmp(f[0], "config", 6) == 0) {
            if (k != 3) {
                why = "config record needs: key value";
                goto bad;
            }
            if (nt == 0) {
                why = "config record before any topic";
                goto bad;
            }
            struct sl_meta_topic *tp = &t[nt - 1];
            if (tp->n_configs == SL_META_CONFIGS_MAX) {
                why = "too many configs for one topic";
                goto bad;
            }
            /* Grow by powers of two: n_configs is the count so far. */
            if ((tp->n_configs & (tp->n_configs - 1)) == 0) {
                size_t cap2 = tp->n_configs ? (size_t)tp->n_configs * 2 : 1;
                tp->configs = sl_xrealloc(tp->configs, cap2 * sizeof *tp->configs);
            }
            struct sl_kv *kv = &tp->configs[tp->n_configs];
            kv->key = dec_field(f[1], fn[1], SL_META_KEY_MAX, &why);
            if (!kv->key)
                goto bad;
            kv->value = dec_field(f[2], fn[2], SL_META_VALUE_MAX, &why);
            if (!kv->value) {
                free(kv->key);
                goto bad;
            }
            tp->n_configs++;
            if (kv->key[0] == '\0') {
                why = "empty config key";
                goto bad;
            }
            if (tp->n_configs > 1 && strcmp(tp->configs[tp->n_configs - 2].key, kv->key) >= 0) {
                why = "configs out of order or repeated";
                goto bad;
            }
        } else {
            why = "unknown record";
            goto bad;
        }
        p = e + 1;
    }

    if (nt > 1) {
        ids = sl_xmalloc((size_t)nt * sizeof *ids);
        for (int i = 0; i < nt; i++)
            ids[i] = t[i].id;
        qsort(ids, (size_t)nt, sizeof *ids, cmp_uuid);
        for (int i = 1; i < nt; i++)
            if (memcmp(&ids[i - 1], &ids[i], sizeof *ids) == 0) {
                free(ids);
                snprintf(err, errlen, "two topics have the same id");
                sl_meta_topics_free(t, nt);
                return SL_ERR__CORRUPT;
            }
        free(ids);
    }
    *out = t;
    *n = nt;
    return SL_ERR_NONE;
bad:
    snprintf(err, errlen, "line %d: %s", line, why);
    sl_meta_topics_free(t, nt);
    return SL_ERR__CORRUPT;
}

/* ------------------------------------------------------------------ */
/* The backend                                                         */
/* ------------------------------------------------------------------ */

struct meta_local {
    struct sl_meta base; /* first: sl_meta * and meta_local * convert */
    pthread_mutex_t mu;
    char *dir;  /* <data_dir>/meta */
    char *path; /* <dir>/sluice.meta, for messages */
    int dirfd, lockfd;
    struct sl_meta_topic *topics; /* sorted by name */
    int n;
    bool failed; /* a directory sync failed: writes refused */
};

/* Outcome of persist(). */
enum persist_rc {
    PERSIST_OK = 0,
    PERSIST_UNCHANGED, /* failed before the rename: nothing changed */
    PERSIST_UNKNOWN,   /* renamed, then the directory sync failed */
};

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Writes the store t[0..n) durably (see the protocol at the top). Called
 * with ml->mu held. */
static enum persist_rc persist(struct meta_local *ml, const struct sl_meta_topic *t, int n)
{
    uint8_t *buf;
    size_t len;
    int e;
    sl_meta_local_encode(t, n, &buf, &len);
    const char *step = "create";
    int fd = openat(ml->dirfd, SL_META_LOCAL_TMP,
                    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto fail;
    step = "write";
    if (!write_all(fd, buf, len))
        goto fail_fd;
    step = "fdatasync";
    if (fdatasync(fd) != 0)
        goto fail_fd;
    step = "close";
    e = close(fd);
    fd = -1;
    if (e != 0)
        goto fail_fd;
    step = "rename";
    if (renameat(ml->dirfd, SL_META_LOCAL_TMP, ml->dirfd, SL_META_LOCAL_FILE) != 0)
        goto fail_fd;
    free(buf);
    if (fsync(ml->dirfd) != 0) {
        SL_ERROR("meta",
                 "%s: fsync of the directory failed after replacing the store: %s; refusing "
                 "further metadata changes until restart",
                 ml->dir, strerror(errno));
        return PERSIST_UNKNOWN;
    }
    return PERSIST_OK;

fail_fd:
    e = errno;
    if (fd >= 0)
        close(fd);
    unlinkat(ml->dirfd, SL_META_LOCAL_TMP, 0);
    errno = e;
fail:
    SL_ERROR("meta", "%s/%s: %s failed: %s; the store is unchanged", ml->dir, SL_META_LOCAL_TMP,
             step, strerror(errno));
    free(buf);
    return PERSIST_UNCHANGED;
}

/* Moves count topics from src[si..] to dst[di..]; no pointer arithmetic
 * at all when count is 0 (src may then be NULL). */
static void move_topics(struct sl_meta_topic *dst, int di, const struct sl_meta_topic *src,
                        int si, int count)
{
    if (count > 0)
        memmove(dst + di, src + si, (size_t)count * sizeof *dst);
}

/* Index of name in ml->topics, or -(insertion point) - 1. */
static int lookup(const struct meta_local *ml, const char *name)
{
    int lo = 0, hi = ml->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(ml->topics[mid].name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

static sl_err_t local_list(struct sl_meta *m, struct sl_meta_topic **out, int *n)
{
    struct meta_local *ml = (struct meta_local *)m;
    pthread_mutex_lock(&ml->mu);
    *out = NULL;
    *n = ml->n;
    if (ml->n > 0) {
        *out = sl_xcalloc((size_t)ml->n, sizeof **out);
        for (int i = 0; i < ml->n; i++)
            sl_meta__topic_copy(&(*out)[i], &ml->topics[i]);
    }
    pthread_mutex_unlock(&ml->mu);
    return SL_ERR_NONE;
}

static sl_err_t local_get(struct sl_meta *m, const char *name, struct sl_meta_topic *out)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR__NOENT;
    pthread_mutex_lock(&ml->mu);
    int i = lookup(ml, name);
    if (i >= 0) {
        sl_meta__topic_copy(out, &ml->topics[i]);
        rc = SL_ERR_NONE;
    }
    pthread_mutex_unlock(&ml->mu);
    return rc;
}

static sl_err_t local_put(struct sl_meta *m, const struct sl_meta_topic *t)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    struct sl_meta_topic *next = NULL;
    pthread_mutex_lock(&ml->mu);
    if (ml->failed) {
        rc = SL_ERR__STATE;
        goto out;
    }
    int i = lookup(ml, t->name);
    for (int j = 0; j < ml->n; j++)
        if (j != i && memcmp(&ml->topics[j].id, &t->id, sizeof t->id) == 0) {
            SL_WARN("meta", "refusing topic %s: its id is already used by topic %s", t->name,
                    ml->topics[j].name);
            rc = SL_ERR__INVAL;
            goto out;
        }
    /* The next store as a shallow array: the caller's topic in its place. */
    bool insert = i < 0;
    int at = insert ? -i - 1 : i, nn = ml->n + (insert ? 1 : 0);
    next = sl_xmalloc((size_t)nn * sizeof *next);
    move_topics(next, 0, ml->topics, 0, at);
    next[at] = *t;
    int rest = ml->n - at - (insert ? 0 : 1);
    move_topics(next, at + 1, ml->topics, at + (insert ? 0 : 1), rest);
    enum persist_rc pr = persist(ml, next, nn);
    if (pr == PERSIST_UNCHANGED) {
        rc = SL_ERR__IO;
        goto out;
    }
    /* Commit in memory (also after PERSIST_UNKNOWN: it matches the file). */
    struct sl_meta_topic owned;
    sl_meta__topic_copy(&owned, t);
    if (insert) {
        ml->topics = sl_xrealloc(ml->topics, (size_t)nn * sizeof *ml->topics);
        move_topics(ml->topics, at + 1, ml->topics, at, ml->n - at);
        ml->n = nn;
    } else {
        sl_meta_topic_clear(&ml->topics[at]);
    }
    ml->topics[at] = owned;
    if (pr == PERSIST_UNKNOWN) {
        ml->failed = true;
        rc = SL_ERR__IO;
    }
out:
    pthread_mutex_unlock(&ml->mu);
    free(next);
    return rc;
}

static sl_err_t local_delete(struct sl_meta *m, const char *name)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_err_t rc = SL_ERR_NONE;
    struct sl_meta_topic *next = NULL;
    pthread_mutex_lock(&ml->mu);
    if (ml->failed) {
        rc = SL_ERR__STATE;
        goto out;
    }
    int i = lookup(ml, name);
    if (i < 0) {
        rc = SL_ERR__NOENT;
        goto out;
    }
    int nn = ml->n - 1;
    next = sl_xmalloc((size_t)(nn > 0 ? nn : 1) * sizeof *next);
    move_topics(next, 0, ml->topics, 0, i);
    move_topics(next, i, ml->topics, i + 1, ml->n - i - 1);
    enum persist_rc pr = persist(ml, next, nn);
    if (pr == PERSIST_UNCHANGED) {
        rc = SL_ERR__IO;
        goto out;
    }
    sl_meta_topic_clear(&ml->topics[i]);
    move_topics(ml->topics, i, ml->topics, i + 1, ml->n - i - 1);
    ml->n = nn;
    if (pr == PERSIST_UNKNOWN) {
        ml->failed = true;
        rc = SL_ERR__IO;
    }
out:
    pthread_mutex_unlock(&ml->mu);
    free(next);
    return rc;
}

static void local_close(struct sl_meta *m)
{
    struct meta_local *ml = (struct meta_local *)m;
    sl_meta_topics_free(ml->topics, ml->n);
    if (ml->lockfd >= 0)
        close(ml->lockfd); /* releases the flock */
    if (ml->dirfd >= 0)
        close(ml->dirfd);
    pthread_mutex_destroy(&ml->mu);
    free(ml->dir);
    free(ml->path);
    free(ml);
}

static const struct sl_meta_ops local_ops = {
    .name = "local",
    .list_topics = local_list,
    .get_topic = local_get,
    .put_topic = local_put,
    .delete_topic = local_delete,
    .close = local_close,
};

/* mkdir -p with mode 0700 for the directories it creates, then fsyncs the
 * parent of each new directory so that it survives a crash. */
static int mkdirs(const char *path, char *err, size_t errlen)
{
    char *p = sl_xstrdup(path);
    size_t n = strlen(p);
    int rc = 0;
    for (size_t i = 1; i <= n && rc == 0; i++) {
        if (i < n && p[i] != '/')
            continue;
        char save = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) == 0) {
            char *slash = strrchr(p, '/');
            char parent[PATH_MAX];
            if (!slash)
                snprintf(parent, sizeof parent, ".");
            else if (slash == p)
                snprintf(parent, sizeof parent, "/");
            else
                snprintf(parent, sizeof parent, "%.*s", (int)(slash - p), p);
            int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (pfd >= 0) {
                fsync(pfd);
                close(pfd);
            }
        } else if (errno != EEXIST) {
            snprintf(err, errlen, "meta: cannot create directory %s: %s", p, strerror(errno));
            rc = -1;
        }
        p[i] = save;
    }
    free(p);
    return rc;
}

static sl_err_t read_store(struct meta_local *ml, char *err, size_t errlen)
{
    sl_err_t rc = SL_ERR_NONE;
    uint8_t *buf = NULL;
    int fd = openat(ml->dirfd, SL_META_LOCAL_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        /* First start: write an empty store so the directory is complete. */
        SL_INFO("meta", "%s: no metadata store yet, creating an empty one", ml->path);
        if (persist(ml, NULL, 0) != PERSIST_OK) {
            snprintf(err, errlen, "meta %s: cannot create the store (see the log)", ml->path);
            return SL_ERR__IO;
        }
        return SL_ERR_NONE;
    }
    if (fd < 0) {
        snprintf(err, errlen, "meta %s: cannot open: %s", ml->path, strerror(errno));
        return SL_ERR__IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "meta %s: cannot stat: %s", ml->path, strerror(errno));
        rc = SL_ERR__IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SL_META_LOCAL_MAX_FILE) {
        snprintf(err, errlen, "meta %s: not a regular file of at most %u bytes", ml->path,
                 SL_META_LOCAL_MAX_FILE);
        rc = SL_ERR__CORRUPT;
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = sl_xmalloc(size ? size : 1);
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "meta %s: cannot read: %s", ml->path, strerror(errno));
            rc = SL_ERR__IO;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    char why[256];
    rc = sl_meta_local_decode(buf, got, &ml->topics, &ml->n, why, sizeof why);
    if (rc != SL_ERR_NONE)
        snprintf(err, errlen,
                 "meta %s: %s. The metadata store is damaged; Sluice will not start with partial "
                 "metadata. Restore the file from a backup (or move it away to start with no "
                 "topics, losing them)",
                 ml->path, why);
out:
    free(buf);
    close(fd);
    return rc;
}

sl_err_t sl_meta_open_local(const char *data_dir, struct sl_meta **out, char *err, size_t errlen)
{
    sl_err_t rc = SL_ERR_NONE;
    *out = NULL;
    struct meta_local *ml = sl_xcalloc(1, sizeof *ml);
    ml->base.ops = &local_ops;
    ml->dirfd = ml->lockfd = -1;
    pthread_mutex_init(&ml->mu, NULL);
    size_t dl = strlen(data_dir) + sizeof "/meta";
    ml->dir = sl_xmalloc(dl);
    snprintf(ml->dir, dl, "%s/meta", data_dir);
    size_t pl = strlen(ml->dir) + sizeof "/" SL_META_LOCAL_FILE;
    ml->path = sl_xmalloc(pl);
    snprintf(ml->path, pl, "%s/%s", ml->dir, SL_META_LOCAL_FILE);

    if (mkdirs(ml->dir, err, errlen) != 0) {
        rc = SL_ERR__IO;
        goto fail;
    }
    ml->dirfd = open(ml->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ml->dirfd < 0) {
        snprintf(err, errlen, "meta %s: cannot open: %s", ml->dir, strerror(errno));
        rc = SL_ERR__IO;
        goto fail;
    }
    struct stat st;
    if (fstat(ml->dirfd, &st) == 0 && (st.st_mode & 077))
        SL_WARN("meta", "%s is accessible to other users (mode %03o); 0700 is expected", ml->dir,
                (unsigned)(st.st_mode & 0777));
    ml->lockfd = openat(ml->dirfd, SL_META_LOCAL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                        0600);
    if (ml->lockfd < 0) {
        snprintf(err, errlen, "meta %s/%s: cannot open: %s", ml->dir, SL_META_LOCAL_LOCK,
                 strerror(errno));
        rc = SL_ERR__IO;
        goto fail;
    }
    if (flock(ml->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            snprintf(err, errlen,
                     "meta %s: locked by another process (is another sluiced using this data "
                     "directory?)",
                     ml->dir);
            rc = SL_ERR__STATE;
        } else {
            snprintf(err, errlen, "meta %s: cannot lock: %s", ml->dir, strerror(errno));
            rc = SL_ERR__IO;
        }
        goto fail;
    }
    /* A temporary file means a write was interrupted before its rename: the
     * store it was to replace is intact, the temporary is garbage. */
    if (unlinkat(ml->dirfd, SL_META_LOCAL_TMP, 0) == 0)
        SL_WARN("meta", "%s/%s: removed the leftover of an interrupted write; the store is intact",
                ml->dir, SL_META_LOCAL_TMP);
    else if (errno != ENOENT) {
        snprintf(err, errlen, "meta %s/%s: cannot remove: %s", ml->dir, SL_META_LOCAL_TMP,
                 strerror(errno));
        rc = SL_ERR__IO;
        goto fail;
    }
    rc = read_store(ml, err, errlen);
    if (rc != SL_ERR_NONE)
        goto fail;
    SL_INFO("meta", "%s: %d topic(s) loaded", ml->path, ml->n);
    *out = &ml->base;
    return SL_ERR_NONE;
fail:
    local_close(&ml->base);
    return rc;
}
