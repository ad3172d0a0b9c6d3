/* SPDX-License-Identifier: Apache-2.0
 *
 * The sealing file layer (see fileops_aead.h for the formats). This file
 * holds the per-file state (data key, frame table, a one-frame plaintext
 * cache), the open-time walk that builds the frame table and tells a torn
 * tail from damage, and the vtable. Reads first take what read-ahead
 * (readahead.c) already opened; its fill function, ra_fill, is here.
 *
 * Nonces. Each frame's 96-bit GCM nonce is drawn from RAND_bytes and stored
 * in its clear header. A deterministic nonce (a write generation and the
 * logical position) would need state that never goes backwards, and the
 * only place to keep it is the disk the attacker is assumed to hold: a
 * restored older header, or a truncate-and-re-append at a position already
 * used, would repeat a nonce under the same key. Random nonces need no
 * state. Their bound: a data key seals one segment (at most 2 GiB, batches
 * of at least 61 bytes: fewer than 2^26 frames), so the chance that two of
 * its frames share a nonce is below 2^52 / 2^97 = 2^-45, far inside the
 * 2^-32 that NIST SP 800-38D (8.3) allows for random nonces. A data key is
 * never used for two files: each new file draws its own.
 *
 * Locking: `mu` (rwlock, readers first) guards the frame table and sizes:
 * readers share it, append and ftruncate take it exclusively for the table
 * update only.
 * `wmu` serialises appends (the frame buffer). `cmu` guards the cache,
 * `mmu` the read mapping (replaced, never unmapped, while the file is open).
 *
 * Header locks: every write of a file's key slots (the header of a new file,
 * a rewrap, a shred) holds the layer's header lock of that file, one of
 * HDR_LOCKS mutexes chosen by a hash of the file's identity (the last two
 * path components, the same whichever spelling of the log directory the
 * caller used). A rewrap reads the header, unwraps, writes the other slot and
 * syncs under it, and a shred zeroes both slots under it, so a shred never
 * falls between a rewrap's read and its write: a file shredded stays
 * shredded (a rewrap that comes after finds no valid slot and leaves it).
 *
 * The keyring is held through an atomic pointer (sl_fileops_aead_set_keyring:
 * an online rewrap swaps it); each use loads it once. Open files keep their
 * data key in memory and never look at the keyring again.
 */
#include "crypto/fileops_aead.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/bytes.h"
#include "core/crc32c.h"
#include "core/logging.h"
#include "core/mem.h"
#include "core/test_hook.h"
#include "crypto/aead.h"
#include "crypto/readahead.h"
#include "crypto/sealed_format.h"
#include "storage/integrity.h"

#define HDR_SIZE SL_SEALED_HDR_SIZE
#define SLOT_OFF0 SL_SEALED_SLOT_OFF0
#define SLOT_SIZE SL_SEALED_SLOT_SIZE
#define WRAPPED_LEN SL_SEALED_WRAPPED_LEN
#define FH_SIZE SL_SEALED_FH_SIZE
#define FH_AAD SL_SEALED_FH_AAD
#define FRAME_OVERHEAD SL_SEALED_FRAME_OVERHEAD
#define CACHE_MAX (1u << 20)     /* frames larger than this are not cached */
#define ZERO_CHECK_MAX (16 << 20)
#define HDR_LOCKS 64

struct sl_fileops_aead {
    struct sl_fileops ops; /* first: the vtable handed out is this struct */
    const struct sl_fileops *lower;
    _Atomic(const struct sl_keyring *) kr;
    pthread_mutex_t hdr_mu[HDR_LOCKS];
    atomic_int rewrap_delay_ms; /* test hook: a pause inside a rewrap's critical section */
    struct sl_ra *ra;           /* read-ahead (readahead.h), NULL when off */
};

static const struct sl_keyring *keyring(const struct sl_fileops_aead *a)
{
    return atomic_load_explicit(&((struct sl_fileops_aead *)a)->kr, memory_order_acquire);
}

struct frame {
    int64_t lpos; /* logical position of its first plaintext byte */
    int64_t ppos; /* physical position of its header */
    uint32_t len; /* plaintext bytes */
};

struct aead_file {
    struct sl_file base;
    struct sl_file *lower;
    struct sl_fileops_aead *a;
    char *path;
    char ident[256]; /* AAD suffix: "<dir>/<name>" */
    size_t ident_len;
    bool have_key;
    uint8_t dkey[SL_AEAD_KEY_LEN];

    pthread_rwlock_t mu;
    struct frame *fr;
    size_t nfr, cap;
    int64_t lsize;     /* logical end */
    int64_t psize;     /* physical end of the last whole frame */
    bool damaged;      /* bytes after psize that are not a torn tail */
    uint64_t gen;      /* bumped by ftruncate: invalidates the cache */

    pthread_mutex_t wmu;
    uint8_t *wbuf;
    size_t wcap;

    /* A read-only mapping of the lower file, so that a fetch decrypts
     * straight from the page cache instead of copying into a buffer with
     * pread first; NULL until the first run of frames is read (or when the
     * lower layer has no fd: pread then). A mapping too short for a grown
     * file is replaced, and kept (readers may still use it) until close. */
    pthread_mutex_t mmu;
    const uint8_t *map;
    size_t map_len;
    struct oldmap {
        void *p;
        size_t n;
    } *old_maps;
    size_t n_old_maps;
    bool no_map;

    pthread_mutex_t cmu;
    uint8_t *cbuf;
    size_t ccap;
    int64_t c_lpos;    /* cached frame, -1 = none */
    uint64_t c_gen;
    int64_t bad_lpos;  /* last frame reported as failing, to log it once */

    struct sl_ra_file ra; /* this file's read-ahead state (the pool's mutex) */
};

bool sl_fileops_aead_sealed_path(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, ".log") == 0;
}

/* "<...>/<dir>/<name>" -> "<dir>/<name>" */
static void identity(const char *path, char *out, size_t cap, size_t *len)
{
    const char *end = path + strlen(path), *p = end, *start = path;
    int slashes = 0;
    while (p > path) {
        p--;
        if (*p == '/' && ++slashes == 2) {
            start = p + 1;
            break;
        }
    }
    int n = snprintf(out, cap, "%s", start);
    *len = n < 0 ? 0 : ((size_t)n >= cap ? cap - 1 : (size_t)n);
}

/* The header lock of the file at path (see the top). */
static pthread_mutex_t *hdr_lock(const struct sl_fileops_aead *a, const char *path)
{
    char ident[256];
    size_t n;
    identity(path, ident, sizeof(ident), &n);
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)ident[i]) * 16777619u;
    return (pthread_mutex_t *)&a->hdr_mu[h % HDR_LOCKS];
}

/* Writes a fresh header with a new data key (in f->dkey) into slot 0. */
static int header_create(struct aead_file *f)
{
    uint8_t hdr[HDR_SIZE];
    pthread_mutex_t *mu = hdr_lock(f->a, f->path);
    pthread_mutex_lock(mu);
    int rc = sl_sealed_header_new(keyring(f->a), hdr, f->dkey);
    if (rc == 0)
        rc = f->lower->ops->ftruncate(f->lower, 0);
    if (rc == 0)
        rc = sl_file_pwrite_full(f->lower, hdr, HDR_SIZE, 0);
    pthread_mutex_unlock(mu);
    if (rc == 0)
        f->have_key = true;
    return rc;
}

/* ---- frame table ---- */

static void push_frame(struct aead_file *f, int64_t lpos, int64_t ppos, uint32_t len)
{
    if (f->nfr == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->fr = sl_xrealloc(f->fr, f->cap * sizeof(*f->fr));
    }
    f->fr[f->nfr++] = (struct frame){lpos, ppos, len};
}

/* Index of the frame holding logical position off (< lsize). mu held. */
static size_t find_frame(const struct aead_file *f, int64_t off)
{
    size_t lo = 0, hi = f->nfr;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->fr[mid].lpos <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* True if the physical bytes [from, to) are all zero (a torn append that
 * extended the file before its data reached the disk). */
static bool all_zero(struct sl_file *lower, int64_t from, int64_t to)
{
    if (to - from > ZERO_CHECK_MAX)
        return false;
    uint8_t buf[4096];
    while (from < to) {
        size_t n = (size_t)(to - from) < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
        if (sl_file_pread_full(lower, buf, n, from) != (ssize_t)n)
            return false;
        for (size_t i = 0; i < n; i++)
            if (buf[i])
                return false;
        from += (int64_t)n;
    }
    return true;
}

/* Builds the frame table from the clear headers. Stops at the first header
 * that does not continue the sequence: a torn tail (cut when writable) or
 * damage (f->damaged). */
static int walk(struct aead_file *f, int64_t psz, bool writable)
{
    int64_t ppos = HDR_SIZE, lpos = 0;
    uint8_t h[FH_SIZE];
    const char *why = NULL;
    bool torn = false;
    while (ppos < psz) {
        if (psz - ppos < FH_SIZE) {
            torn = true;
            why = "incomplete frame header";
            break;
        }
        ssize_t r = sl_file_pread_full(f->lower, h, FH_SIZE, ppos);
        if (r < 0)
            return (int)r;
        uint32_t len;
        if (r != FH_SIZE || !sl_sealed_fh_parse(h, lpos, &len)) {
            torn = all_zero(f->lower, ppos, psz);
            why = torn ? "zeros after the last frame" : "bad frame header";
            break;
        }
        if (ppos + FRAME_OVERHEAD + (int64_t)len > psz) {
            torn = true;
            why = "frame runs past the end of the file";
            break;
        }
        push_frame(f, lpos, ppos, len);
        lpos += len;
        ppos += FRAME_OVERHEAD + (int64_t)len;
    }
    f->lsize = lpos;
    f->psize = ppos;
    if (ppos < psz && torn) {
        SL_WARN("crypto", "%s: torn last frame at logical position %" PRId64 " (%s): %s %" PRId64
                          " bytes",
                f->path, lpos, why, writable ? "cutting" : "ignoring", psz - ppos);
        if (writable) {
            int rc = f->lower->ops->ftruncate(f->lower, ppos);
            if (rc < 0)
                return rc;
        }
    } else if (ppos < psz) {
        SL_ERROR("crypto", "%s: damage at logical position %" PRId64 " (%s, %" PRId64
                           " bytes follow): reads from there fail",
                 f->path, lpos, why, psz - ppos);
        f->damaged = true;
    }
    return 0;
}

/* ---- per-thread scratch for reading runs of whole frames ---- */

#define RUN_MAX (4u << 20) /* physical bytes read with one pread */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

struct scratch {
    uint8_t *p;
    size_t cap;
};

static void scratch_free(void *arg)
{
    struct scratch *s = arg;
    free(s->p);
    free(s);
}

static void scratch_init(void)
{
    (void)pthread_key_create(&scratch_key, scratch_free);
}

/* This thread's scratch buffer of at least n bytes (kept for reuse: fresh
 * pages are slow to touch here, MACHINE.md). */
static uint8_t *scratch_get(size_t n)
{
    pthread_once(&scratch_once, scratch_init);
    struct scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = sl_xcalloc(1, sizeof(*s));
        (void)pthread_setspecific(scratch_key, s);
    }
    if (s->cap < n) {
        free(s->p);
        s->cap = n < 65536 ? 65536 : n;
        s->p = sl_xmalloc(s->cap);
    }
    return s->p;
}

/* ---- vtable ---- */

static void unmap_all(struct aead_file *f)
{
    if (f->map)
        munmap((void *)f->map, f->map_len);
    for (size_t i = 0; i < f->n_old_maps; i++)
        munmap(f->old_maps[i].p, f->old_maps[i].n);
    free(f->old_maps);
    f->map = NULL;
    f->old_maps = NULL;
    f->n_old_maps = 0;
}

static void free_file(struct aead_file *f)
{
    unmap_all(f);
    pthread_mutex_destroy(&f->mmu);
    OPENSSL_cleanse(f->dkey, sizeof(f->dkey));
    if (f->cbuf)
        OPENSSL_cleanse(f->cbuf, f->ccap);
    free(f->cbuf);
    free(f->wbuf);
    free(f->fr);
    free(f->path);
    pthread_rwlock_destroy(&f->mu);
    pthread_mutex_destroy(&f->wmu);
    pthread_mutex_destroy(&f->cmu);
    free(f);
}

static int ae_open(const struct sl_fileops *ops, const char *path, int flags, struct sl_file **out)
{
    struct sl_fileops_aead *a = (struct sl_fileops_aead *)ops;
    if (!sl_fileops_aead_sealed_path(path))
        return a->lower->open(a->lower, path, flags, out);
    struct sl_file *lower = NULL;
    int rc = a->lower->open(a->lower, path, flags, &lower);
    if (rc < 0)
        return rc;
    struct aead_file *f = sl_xcalloc(1, sizeof(*f));
    f->base.ops = ops;
    f->lower = lower;
    f->a = a;
    f->path = sl_xstrdup(path);
    identity(path, f->ident, sizeof(f->ident), &f->ident_len);
    /* Readers first (glibc's default, stated here because read-ahead needs
     * it): a reader waiting for the read-ahead worker holds mu shared, and
     * the worker takes it shared too, so a writer queued between them must
     * not hold the worker back. */
    pthread_rwlockattr_t mu_attr;
    pthread_rwlockattr_init(&mu_attr);
    pthread_rwlockattr_setkind_np(&mu_attr, PTHREAD_RWLOCK_PREFER_READER_NP);
    pthread_rwlock_init(&f->mu, &mu_attr);
    pthread_rwlockattr_destroy(&mu_attr);
    pthread_mutex_init(&f->wmu, NULL);
    pthread_mutex_init(&f->cmu, NULL);
    pthread_mutex_init(&f->mmu, NULL);
    f->c_lpos = -1;
    f->bad_lpos = -1;
    sl_ra_file_init(&f->ra);
    f->psize = HDR_SIZE;
    bool writable = (flags & SL_FILE_RDWR) != 0;
    int64_t psz = 0;
    rc = lower->ops->size(lower, &psz);
    if (rc < 0)
        goto fail;
    if (psz < HDR_SIZE) {
        /* New, or a crash before the header of a new file reached the disk
         * (no frame can exist then: frames follow the header). */
        if (writable) {
            rc = header_create(f);
            if (rc < 0)
                goto fail;
        }
        *out = &f->base;
        return 0;
    }
    uint8_t hdr[HDR_SIZE];
    if (sl_file_pread_full(lower, hdr, HDR_SIZE, 0) != HDR_SIZE) {
        rc = -EIO;
        goto fail;
    }
    int which;
    uint32_t kv;
    rc = sl_sealed_header_unwrap(keyring(a), hdr, f->dkey, &which, &kv);
    if (rc < 0) {
        SL_ERROR("crypto", "%s: %s", path,
                 rc == -EPROTO        ? "not a sealed file (written with encryption at rest off?) "
                                        "or its header is damaged"
                 : rc == -ENOKEY      ? "its key-encryption key version is not in the keyring"
                                      : "the keyring's key does not unwrap its data key (wrong key)");
        goto fail;
    }
    f->have_key = true;
    rc = walk(f, psz, writable);
    if (rc < 0)
        goto fail;
    *out = &f->base;
    return 0;
fail:
    lower->ops->close(lower);
    free_file(f);
    return rc;
}

static void ae_close(struct sl_file *file)
{
    struct aead_file *f = (struct aead_file *)file;
    if (f->a->ra)
        sl_ra_detach(f->a->ra, &f->ra);
    f->lower->ops->close(f->lower);
    free_file(f);
}

/* Reads frame fr's ciphertext into dst (fr->len bytes) and opens it there.
 * 0, -EBADMSG or -errno. */
static int open_frame(struct aead_file *f, const struct frame *fr, uint8_t *dst)
{
    uint8_t h[FH_SIZE], tag[SL_AEAD_TAG_LEN];
    ssize_t r = sl_file_pread_full(f->lower, h, FH_SIZE, fr->ppos);
    if (r >= 0 && r != FH_SIZE)
        r = -EIO;
    if (r >= 0)
        r = sl_file_pread_full(f->lower, dst, fr->len, fr->ppos + FH_SIZE);
    if (r >= 0 && r != (ssize_t)fr->len)
        r = -EIO;
    if (r >= 0)
        r = sl_file_pread_full(f->lower, tag, SL_AEAD_TAG_LEN, fr->ppos + FH_SIZE + fr->len);
    if (r >= 0 && r != SL_AEAD_TAG_LEN)
        r = -EIO;
    if (r < 0)
        return (int)r;
    /* The header was checked at open; it is read again (not trusted from
     * memory) so that a changed header fails authentication too. */
    uint32_t len;
    if (!sl_sealed_fh_parse(h, fr->lpos, &len) || len != fr->len)
        return -EBADMSG;
    return sl_aead_open(f->dkey, h + 16, h, FH_AAD, f->ident, f->ident_len, dst, fr->len, dst,
                        tag);
}

/* Opens frame fr whose physical bytes (header, ciphertext, tag) are at
 * phys, into dst. 0 or -EBADMSG. */
static int open_frame_mem(struct aead_file *f, const struct frame *fr, const uint8_t *phys,
                          uint8_t *dst)
{
    uint32_t len;
    if (!sl_sealed_fh_parse(phys, fr->lpos, &len) || len != fr->len)
        return -EBADMSG;
    return sl_aead_open(f->dkey, phys + 16, phys, FH_AAD, f->ident, f->ident_len,
                        phys + FH_SIZE, fr->len, dst, phys + FH_SIZE + fr->len);
}

#define MAP_MIN (64u << 20)

/* A mapped file cut shorter from outside the broker (someone truncating a
 * segment under it) makes a read of the lost pages raise SIGBUS. A thread
 * reading a mapping sets tl_bus; the handler jumps back there and the read
 * fails with -EIO (KAFKA_STORAGE_ERROR for that partition) instead of the
 * broker dying. SIGBUS elsewhere goes to the previous handler (or kills, as
 * by default). */
static _Thread_local sigjmp_buf *tl_bus;
static struct sigaction prev_bus;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
    sigjmp_buf *jb = tl_bus;
    if (jb) {
        tl_bus = NULL;
        siglongjmp(*jb, 1);
    }
    if (prev_bus.sa_flags & SA_SIGINFO) {
        prev_bus.sa_sigaction(sig, si, uctx);
        return;
    }
    if (prev_bus.sa_handler != SIG_IGN && prev_bus.sa_handler != SIG_DFL) {
        prev_bus.sa_handler(sig);
        return;
    }
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGBUS, &dfl, NULL);
    raise(SIGBUS);
}

static void bus_install(void)
{
    struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGBUS, &sa, &prev_bus);
}

/* A mapping of the lower file covering [0, end), or NULL (use pread). The
 * pointer stays valid until the file is closed. mu held (shared). */
static const uint8_t *mapping(struct aead_file *f, int64_t end)
{
    pthread_mutex_lock(&f->mmu);
    const uint8_t *m = NULL;
    if (f->map && (int64_t)f->map_len >= end) {
        m = f->map;
    } else if (!f->no_map) {
        int fd = f->lower->ops->raw_fd(f->lower);
        pthread_once(&bus_once, bus_install);
        /* Room to grow: pages past the end of the file are never touched
         * (only whole frames below psize are read). */
        size_t len = (size_t)end * 2 > MAP_MIN ? (size_t)end * 2 : MAP_MIN;
        void *p = fd >= 0 ? mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
        if (p == MAP_FAILED) {
            f->no_map = true;
        } else {
            if (f->map) {
                f->old_maps = sl_xrealloc(f->old_maps, (f->n_old_maps + 1) * sizeof(*f->old_maps));
                f->old_maps[f->n_old_maps++] = (struct oldmap){(void *)f->map, f->map_len};
            }
            f->map = p;
            f->map_len = len;
            m = p;
        }
    }
    pthread_mutex_unlock(&f->mmu);
    return m;
}

/* Reads whole frames [i, j) with one pread into this thread's scratch and
 * opens them into dst. Returns the number of frames opened (all of them, or
 * those before the first that failed; *rc then holds the error). */
static size_t read_run(struct aead_file *f, size_t i, size_t j, uint8_t *dst, int *rc)
{
    int64_t p0 = f->fr[i].ppos;
    int64_t p1 = f->fr[j - 1].ppos + FRAME_OVERHEAD + f->fr[j - 1].len;
    size_t n = (size_t)(p1 - p0);
    const uint8_t *buf;
    const uint8_t *map = mapping(f, p1);
    *rc = 0;
    if (map) {
        buf = map + p0;
    } else {
        uint8_t *sbuf = scratch_get(n);
        ssize_t r = sl_file_pread_full(f->lower, sbuf, n, p0);
        if (r != (ssize_t)n) {
            *rc = r < 0 ? (int)r : -EIO;
            return 0;
        }
        buf = sbuf;
    }
    sigjmp_buf jb;
    if (map) {
        if (sigsetjmp(jb, 0)) {
            SL_ERROR("crypto", "%s: the file is shorter than the frames read from it (cut from "
                               "outside the broker?): answering a storage error",
                     f->path);
            *rc = -EIO;
            return 0;
        }
        tl_bus = &jb;
    }
    size_t k = i, out = 0;
    for (; k < j; k++) {
        const struct frame *fr = &f->fr[k];
        *rc = open_frame_mem(f, fr, buf + (fr->ppos - p0), dst + out);
        if (*rc < 0)
            break;
        out += fr->len;
    }
    tl_bus = NULL;
    return k - i;
}

static void report_bad(struct aead_file *f, const struct frame *fr)
{
    pthread_mutex_lock(&f->cmu);
    bool first = f->bad_lpos != fr->lpos;
    f->bad_lpos = fr->lpos;
    pthread_mutex_unlock(&f->cmu);
    if (first) {
        char msg[512];
        snprintf(msg, sizeof(msg), "the batch at logical position %" PRId64 " (%u bytes) failed "
                                   "authentication: it is damaged or was tampered with; not "
                                   "serving it",
                 fr->lpos, fr->len);
        SL_ERROR("crypto", "%s: %s", f->path, msg);
        sl_integrity_report(&(struct sl_integrity_event){
            .kind = "batch_authentication_failed",
            .path = f->path,
            .position = fr->lpos,
            .detail = msg,
        });
    }
}

/* Copies [from, from + n) of frame fr's plaintext to dst through the
 * one-frame cache (or a temporary buffer for large frames). */
static int read_partial(struct aead_file *f, const struct frame *fr, int64_t from, size_t n,
                        uint8_t *dst)
{
    int rc = 0;
    size_t at = (size_t)(from - fr->lpos);
    pthread_mutex_lock(&f->cmu);
    if (f->c_lpos == fr->lpos && f->c_gen == f->gen) {
        memcpy(dst, f->cbuf + at, n);
        pthread_mutex_unlock(&f->cmu);
        return 0;
    }
    if (fr->len <= CACHE_MAX) {
        if (f->ccap < fr->len) {
            free(f->cbuf);
            f->ccap = fr->len < 65536 ? 65536 : fr->len;
            f->cbuf = sl_xmalloc(f->ccap);
        }
        f->c_lpos = -1;
        rc = open_frame(f, fr, f->cbuf);
        if (rc == 0) {
            f->c_lpos = fr->lpos;
            f->c_gen = f->gen;
            memcpy(dst, f->cbuf + at, n);
        }
        pthread_mutex_unlock(&f->cmu);
        return rc;
    }
    pthread_mutex_unlock(&f->cmu);
    uint8_t *tmp = sl_xmalloc(fr->len);
    rc = open_frame(f, fr, tmp);
    if (rc == 0)
        memcpy(dst, tmp + at, n);
    OPENSSL_cleanse(tmp, fr->len);
    free(tmp);
    return rc;
}

/* Read-ahead's fill (readahead.h), on its worker thread: opens the whole
 * frames from lpos on into dst, up to about want bytes. */
static size_t ra_fill(void *owner, int64_t lpos, size_t want, uint64_t gen, uint8_t *dst,
                      size_t cap)
{
    struct aead_file *f = owner;
    size_t out = 0;
    pthread_rwlock_rdlock(&f->mu);
    size_t i = f->gen == gen && lpos < f->lsize ? find_frame(f, lpos) : f->nfr;
    if (i < f->nfr && f->fr[i].lpos == lpos) {
        size_t j = i, plain = 0, phys = 0;
        while (j < f->nfr && plain < want && plain + f->fr[j].len <= cap &&
               phys + FRAME_OVERHEAD + f->fr[j].len <= RUN_MAX) {
            plain += f->fr[j].len;
            phys += FRAME_OVERHEAD + f->fr[j].len;
            j++;
        }
        int rc;
        size_t got = j > i ? read_run(f, i, j, dst, &rc) : 0;
        for (size_t k = i; k < i + got; k++)
            out += f->fr[k].len;
        /* A frame that failed is left for the reader that needs it: it
         * decrypts it, gets the error and reports it. */
    }
    pthread_rwlock_unlock(&f->mu);
    return out;
}

/* True if logical position p is where a frame starts (or the end). mu held. */
static bool frame_boundary(const struct aead_file *f, int64_t p)
{
    return p == f->lsize || (p < f->lsize && f->fr[find_frame(f, p)].lpos == p);
}

static ssize_t ae_pread(struct sl_file *file, void *buf, size_t n, int64_t off)
{
    struct aead_file *f = (struct aead_file *)file;
    uint8_t *dst = buf;
    size_t done = 0;
    int rc = 0;
    struct sl_ra *ra = f->a->ra;
    pthread_rwlock_rdlock(&f->mu);
    if (off >= f->lsize) {
        rc = f->damaged && n > 0 ? -EBADMSG : 0;
        goto out;
    }
    if ((uint64_t)off + n > (uint64_t)f->lsize)
        n = (size_t)(f->lsize - off);
    /* What read-ahead already opened (whole frames from off on), then the
     * rest here. */
    size_t ahead = ra ? sl_ra_copy(ra, &f->ra, f->gen, off, n, dst) : 0;
    done = ahead;
    for (size_t i = find_frame(f, off + (int64_t)done); done < n && i < f->nfr; i++) {
        const struct frame *fr = &f->fr[i];
        int64_t from = off + (int64_t)done;
        size_t take = (size_t)(fr->lpos + fr->len - from);
        if (take > n - done)
            take = n - done;
        /* A run of whole frames (a fetch): one pread for all of them. */
        size_t j = i;
        int64_t run_bytes = 0;
        while (from == fr->lpos && j < f->nfr &&
               f->fr[j].lpos + (int64_t)f->fr[j].len <= off + (int64_t)n &&
               run_bytes + FRAME_OVERHEAD + f->fr[j].len <= RUN_MAX) {
            run_bytes += FRAME_OVERHEAD + f->fr[j].len;
            j++;
        }
        if (j - i >= 2) {
            size_t got = read_run(f, i, j, dst + done, &rc);
            for (size_t k = i; k < i + got; k++)
                done += f->fr[k].len;
            if (rc < 0) {
                if (rc == -EBADMSG)
                    report_bad(f, &f->fr[i + got]);
                break;
            }
            i = j - 1;
            continue;
        }
        if (from == fr->lpos && take == fr->len) {
            /* Whole frame: decrypt in place in the caller's buffer, unless
             * it is the cached one (a header scan just opened it). */
            pthread_mutex_lock(&f->cmu);
            bool hit = f->c_lpos == fr->lpos && f->c_gen == f->gen;
            if (hit)
                memcpy(dst + done, f->cbuf, take);
            pthread_mutex_unlock(&f->cmu);
            rc = hit ? 0 : open_frame(f, fr, dst + done);
        } else {
            rc = read_partial(f, fr, from, take, dst + done);
        }
        if (rc < 0) {
            if (rc == -EBADMSG)
                report_bad(f, fr);
            break;
        }
        done += take;
    }
    /* A read of whole frames (a fetch) queues the next run when it
     * continues the previous one. */
    if (ra && rc == 0 && done == n && frame_boundary(f, off) && frame_boundary(f, off + (int64_t)n))
        sl_ra_after_read(ra, &f->ra, f, f->gen, off, n, ahead > 0, f->lsize);
out:
    pthread_rwlock_unlock(&f->mu);
    /* A failed frame after some good ones: return the good bytes; the next
     * read starts at the bad frame and fails. */
    return done > 0 ? (ssize_t)done : rc;
}

static ssize_t ae_pwrite(struct sl_file *file, const void *buf, size_t n, int64_t off)
{
    return -EOPNOTSUPP; /* data files are written with append only */
}

static ssize_t ae_append(struct sl_file *file, const void *buf, size_t n, int64_t off)
{
    struct aead_file *f = (struct aead_file *)file;
    if (n == 0)
        return 0;
    if (n > INT32_MAX || !f->have_key)
        return -EINVAL;
    pthread_mutex_lock(&f->wmu);
    ssize_t res;
    pthread_rwlock_rdlock(&f->mu);
    int64_t lsize = f->lsize, psize = f->psize;
    bool damaged = f->damaged;
    pthread_rwlock_unlock(&f->mu);
    if (off != lsize || damaged) {
        res = damaged ? -EIO : -EINVAL;
        goto out;
    }
    size_t total = FRAME_OVERHEAD + n;
    if (f->wcap < total) {
        free(f->wbuf);
        f->wcap = total < 65536 ? 65536 : total;
        f->wbuf = sl_xmalloc(f->wcap);
    }
    uint8_t nonce[SL_AEAD_NONCE_LEN];
    if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
        res = -EIO;
        goto out;
    }
    struct frame fr = {lsize, psize, (uint32_t)n};
    sl_sealed_fh_build(f->wbuf, fr.len, fr.lpos, nonce);
    int rc = sl_aead_seal(f->dkey, nonce, f->wbuf, FH_AAD, f->ident, f->ident_len, buf, n,
                          f->wbuf + FH_SIZE, f->wbuf + FH_SIZE + n);
    if (rc < 0) {
        res = rc;
        goto out;
    }
    res = f->lower->ops->append(f->lower, f->wbuf, total, psize);
    if (res != (ssize_t)total) {
        /* Leave no partial frame behind (best effort: the log is in ERROR
         * now, and the open-time walk cuts a torn frame anyway). */
        (void)f->lower->ops->ftruncate(f->lower, psize);
        if (res >= 0)
            res = 0; /* a short count: nothing of the batch is readable */
        goto out;
    }
    pthread_rwlock_wrlock(&f->mu);
    push_frame(f, fr.lpos, fr.ppos, fr.len);
    f->lsize += (int64_t)n;
    f->psize += (int64_t)total;
    pthread_rwlock_unlock(&f->mu);
    res = (ssize_t)n;
out:
    pthread_mutex_unlock(&f->wmu);
    return res;
}

static int ae_fdatasync(struct sl_file *file)
{
    struct aead_file *f = (struct aead_file *)file;
    return f->lower->ops->fdatasync(f->lower);
}

static int ae_ftruncate(struct sl_file *file, int64_t size)
{
    struct aead_file *f = (struct aead_file *)file;
    pthread_mutex_lock(&f->wmu);
    pthread_rwlock_wrlock(&f->mu);
    int rc = 0;
    size_t keep = f->nfr;
    int64_t psize = f->psize;
    if (size < 0 || size > f->lsize) {
        rc = -EINVAL;
    } else if (size < f->lsize) {
        keep = find_frame(f, size);
        if (f->fr[keep].lpos != size)
            rc = -EINVAL; /* not a batch boundary */
        else
            psize = f->fr[keep].ppos;
    }
    if (rc == 0)
        rc = f->lower->ops->ftruncate(f->lower, f->have_key ? psize : 0);
    if (rc == 0) {
        f->nfr = keep;
        f->lsize = size;
        f->psize = psize;
        f->damaged = false;
        f->gen++;
    }
    pthread_rwlock_unlock(&f->mu);
    pthread_mutex_unlock(&f->wmu);
    return rc;
}

static int ae_size(struct sl_file *file, int64_t *size)
{
    struct aead_file *f = (struct aead_file *)file;
    pthread_rwlock_rdlock(&f->mu);
    /* Damage shows as one unreadable byte past the end, so that recovery
     * reads there and learns of it instead of seeing a shorter file. */
    *size = f->lsize + (f->damaged ? 1 : 0);
    pthread_rwlock_unlock(&f->mu);
    return 0;
}

static int ae_raw_fd(struct sl_file *file)
{
    return -1;
}

/* Crypto-shredding: zeroes both key slots of the sealed file at path and
 * syncs, so that its data key (which exists nowhere else) is gone before
 * its name is; open readers keep working (they hold the key in memory).
 * 0 (also for a missing or never-sealed file) or -errno. */
static int shred(const struct sl_fileops_aead *a, const char *path)
{
    struct sl_file *lf = NULL;
    pthread_mutex_t *mu = hdr_lock(a, path);
    pthread_mutex_lock(mu);
    int rc = a->lower->open(a->lower, path, SL_FILE_RDWR, &lf);
    if (rc < 0) {
        pthread_mutex_unlock(mu);
        return rc == -ENOENT ? 0 : rc;
    }
    uint8_t hdr[HDR_SIZE];
    if (sl_file_pread_full(lf, hdr, HDR_SIZE, 0) == HDR_SIZE && sl_sealed_is_sealed(hdr, HDR_SIZE)) {
        uint8_t zero[2 * SLOT_SIZE] = {0};
        rc = sl_file_pwrite_full(lf, zero, sizeof(zero), SLOT_OFF0);
        if (rc == 0)
            rc = lf->ops->fdatasync(lf);
    }
    lf->ops->close(lf);
    pthread_mutex_unlock(mu);
    return rc;
}

static void shred_or_warn(const struct sl_fileops_aead *a, const char *path)
{
    int rc = shred(a, path);
    if (rc < 0)
        SL_ERROR("crypto", "%s: cannot destroy its data key before deleting it: %s; the file's "
                           "blocks stay readable to whoever holds the keyring",
                 path, strerror(-rc));
}

/* A sealed file renamed away from its name ("*.log" -> "*.log.deleted",
 * retention) is on its way out: shred it first. */
static int ae_rename(const struct sl_fileops *ops, const char *from, const char *to)
{
    const struct sl_fileops_aead *a = (const struct sl_fileops_aead *)ops;
    if (sl_fileops_aead_sealed_path(from) && !sl_fileops_aead_sealed_path(to))
        shred_or_warn(a, from);
    return a->lower->rename(a->lower, from, to);
}

/* Every file with a sealed header is shredded before it goes: segments,
 * and the blobs of sl_file_replace_blob (producer state snapshots); shred
 * leaves any other file alone. */
static int ae_unlink(const struct sl_fileops *ops, const char *path)
{
    const struct sl_fileops_aead *a = (const struct sl_fileops_aead *)ops;
    shred_or_warn(a, path);
    return a->lower->unlink(a->lower, path);
}

/* Blobs (sl_file_replace_blob): the sealed-blob format of the metadata
 * store, bound to the file's identity ("<topic>-<p>/<name>"), so a blob
 * copied to another partition does not open. */
static int ae_blob_seal(const struct sl_fileops *ops, const char *path, const uint8_t *in,
                        size_t n, uint8_t **out, size_t *out_len)
{
    const struct sl_fileops_aead *a = (const struct sl_fileops_aead *)ops;
    char ident[256];
    size_t il;
    identity(path, ident, sizeof(ident), &il);
    return sl_sealed_blob_seal(keyring(a), ident, in, n, out, out_len);
}

static int ae_blob_open(const struct sl_fileops *ops, const char *path, const uint8_t *in,
                        size_t n, uint8_t **out, size_t *out_len)
{
    const struct sl_fileops_aead *a = (const struct sl_fileops_aead *)ops;
    char ident[256];
    size_t il;
    identity(path, ident, sizeof(ident), &il);
    if (!sl_sealed_is_sealed(in, n))
        return -EPROTO;
    return sl_sealed_blob_open(keyring(a), ident, in, n, out, out_len);
}

static int ae_mkdir(const struct sl_fileops *ops, const char *path)
{
    const struct sl_fileops_aead *a = (const struct sl_fileops_aead *)ops;
    return a->lower->mkdir(a->lower, path);
}

static int ae_rmdir(const struct sl_fileops *ops, const char *path)
{
    const struct sl_fileops_aead *a = (const struct sl_fileops_aead *)ops;
    return a->lower->rmdir(a->lower, path);
}

static int ae_fsync_dir(const struct sl_fileops *ops, const char *path)
{
    const struct sl_fileops_aead *a = (const struct sl_fileops_aead *)ops;
    return a->lower->fsync_dir(a->lower, path);
}

static int ae_list_dir(const struct sl_fileops *ops, const char *path,
                       int (*cb)(void *arg, const char *name), void *arg)
{
    const struct sl_fileops_aead *a = (const struct sl_fileops_aead *)ops;
    return a->lower->list_dir(a->lower, path, cb, arg);
}

struct sl_fileops_aead *sl_fileops_aead_new(const struct sl_fileops *lower,
                                            const struct sl_keyring *kr)
{
    struct sl_fileops_aead *a = sl_xcalloc(1, sizeof(*a));
    a->ops = (struct sl_fileops){
        .name = "aead",
        .authenticated = true,
        .open = ae_open,
        .close = ae_close,
        .pread = ae_pread,
        .pwrite = ae_pwrite,
        .append = ae_append,
        .fdatasync = ae_fdatasync,
        .ftruncate = ae_ftruncate,
        .size = ae_size,
        .raw_fd = ae_raw_fd,
        .rename = ae_rename,
        .unlink = ae_unlink,
        .mkdir = ae_mkdir,
        .rmdir = ae_rmdir,
        .fsync_dir = ae_fsync_dir,
        .list_dir = ae_list_dir,
        .blob_seal = ae_blob_seal,
        .blob_open = ae_blob_open,
    };
    a->lower = lower;
    atomic_init(&a->kr, kr);
    atomic_init(&a->rewrap_delay_ms, 0);
    for (int i = 0; i < HDR_LOCKS; i++)
        pthread_mutex_init(&a->hdr_mu[i], NULL);
    return a;
}

void sl_fileops_aead_free(struct sl_fileops_aead *a)
{
    if (!a)
        return;
    sl_ra_free(a->ra);
    for (int i = 0; i < HDR_LOCKS; i++)
        pthread_mutex_destroy(&a->hdr_mu[i]);
    free(a);
}

void sl_fileops_aead_set_keyring(struct sl_fileops_aead *a, const struct sl_keyring *kr)
{
    atomic_store_explicit(&a->kr, kr, memory_order_release);
}

const struct sl_keyring *sl_fileops_aead_keyring(const struct sl_fileops_aead *a)
{
    return keyring(a);
}

void sl_fileops_aead_set_readahead(struct sl_fileops_aead *a, size_t bytes)
{
    SL_ASSERT(!a->ra);
    a->ra = sl_ra_new(bytes, ra_fill);
}

bool sl_fileops_aead_readahead_stats(struct sl_fileops_aead *a, struct sl_ra_stats *out)
{
    if (!a->ra)
        return false;
    sl_ra_get_stats(a->ra, out);
    return true;
}

void sl_fileops_aead_set_rewrap_delay(struct sl_fileops_aead *a, int ms)
{
    atomic_store(&a->rewrap_delay_ms, ms);
}

const struct sl_fileops *sl_fileops_aead_ops(struct sl_fileops_aead *a)
{
    return &a->ops;
}

/* Opens the lower file of a sealed path and reads its header. */
static int read_header(struct sl_fileops_aead *a, const char *path, int flags,
                       struct sl_file **lf, uint8_t *hdr)
{
    int rc = a->lower->open(a->lower, path, flags, lf);
    if (rc < 0)
        return rc;
    if (sl_file_pread_full(*lf, hdr, HDR_SIZE, 0) != HDR_SIZE) {
        (*lf)->ops->close(*lf);
        return -EPROTO;
    }
    return 0;
}

int sl_fileops_aead_kek_version(struct sl_fileops_aead *a, const char *path, uint32_t *version)
{
    struct sl_file *lf;
    uint8_t hdr[HDR_SIZE], dkey[SL_AEAD_KEY_LEN];
    int rc = read_header(a, path, SL_FILE_RDONLY, &lf, hdr);
    if (rc < 0)
        return rc;
    int which;
    rc = sl_sealed_header_unwrap(keyring(a), hdr, dkey, &which, version);
    OPENSSL_cleanse(dkey, sizeof(dkey));
    lf->ops->close(lf);
    return rc;
}

/* True if hdr has the sealed magic and both key slots zeroed (shredded). */
static bool shredded(const uint8_t *hdr)
{
    if (!sl_sealed_is_sealed(hdr, HDR_SIZE))
        return false;
    for (int i = SLOT_OFF0; i < SLOT_OFF0 + 2 * SLOT_SIZE; i++)
        if (hdr[i])
            return false;
    return true;
}

int sl_fileops_aead_rewrap(struct sl_fileops_aead *a, const char *path)
{
    struct sl_file *lf;
    uint8_t hdr[HDR_SIZE], dkey[SL_AEAD_KEY_LEN], wrapped[WRAPPED_LEN];
    pthread_mutex_t *mu = hdr_lock(a, path);
    pthread_mutex_lock(mu);
    int rc = a->lower->open(a->lower, path, SL_FILE_RDWR, &lf);
    if (rc < 0) {
        pthread_mutex_unlock(mu);
        return rc == -ENOENT ? 0 : rc; /* deleted since it was listed */
    }
    int64_t psz = 0;
    rc = lf->ops->size(lf, &psz);
    if (rc == 0 && psz < HDR_SIZE) {
        /* Being created: its header, written under this lock after the
         * keyring swap, will use the newest key. */
        lf->ops->close(lf);
        pthread_mutex_unlock(mu);
        return 0;
    }
    if (rc == 0 && sl_file_pread_full(lf, hdr, HDR_SIZE, 0) != HDR_SIZE)
        rc = -EPROTO;
    if (rc < 0 || shredded(hdr)) {
        /* A shredded file stays so: nothing is written into it. */
        lf->ops->close(lf);
        pthread_mutex_unlock(mu);
        return rc;
    }
    int which;
    uint32_t kv;
    const struct sl_keyring *kr = keyring(a);
    const struct sl_kek *kek = sl_keyring_newest(kr);
    rc = sl_sealed_header_unwrap(kr, hdr, dkey, &which, &kv);
    if (rc == 0 && kek && kv != kek->version) {
        sl_test_hook_pause(atomic_load(&a->rewrap_delay_ms));
        struct sl_sealed_slot cur;
        sl_sealed_slot_decode(hdr + SLOT_OFF0 + which * SLOT_SIZE, &cur);
        size_t wl;
        rc = sl_keywrap(kek->key, SL_KEK_LEN, dkey, SL_AEAD_KEY_LEN, wrapped, &wl);
        if (rc == 0) {
            /* The other slot: until this write is durable, the current one
             * stays the valid one with the highest seq. */
            uint8_t slot[SLOT_SIZE];
            sl_sealed_slot_encode(slot, cur.seq + 1, kek->version, wrapped);
            int64_t at = SLOT_OFF0 + (1 - which) * SLOT_SIZE;
            rc = sl_file_pwrite_full(lf, slot, SLOT_SIZE, at);
            if (rc == 0)
                rc = lf->ops->fdatasync(lf);
            if (rc == 0)
                rc = 1;
        }
    }
    OPENSSL_cleanse(dkey, sizeof(dkey));
    lf->ops->close(lf);
    pthread_mutex_unlock(mu);
    return rc;
}

int sl_fileops_aead_nonces(struct sl_file *file, void (*cb)(void *arg, const uint8_t nonce[12]),
                           void *arg)
{
    struct aead_file *f = (struct aead_file *)file;
    int rc = 0;
    pthread_rwlock_rdlock(&f->mu);
    for (size_t i = 0; i < f->nfr; i++) {
        uint8_t h[FH_SIZE];
        if (sl_file_pread_full(f->lower, h, FH_SIZE, f->fr[i].ppos) != FH_SIZE) {
            rc = -EIO;
            break;
        }
        cb(arg, h + 16);
    }
    if (rc == 0)
        rc = (int)f->nfr;
    pthread_rwlock_unlock(&f->mu);
    return rc;
}
