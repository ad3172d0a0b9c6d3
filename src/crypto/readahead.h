/* SPDX-License-Identifier: Apache-2.0
 *
 * Read-ahead of sealed data: a small pool of plaintext buffers ("slots") and
 * one worker thread that decrypts, into a slot, the run of frames a reader
 * that reads a file front to back will ask for next, while the reader is
 * busy elsewhere (sending the previous response, the client parsing it).
 * Without it a catch-up Fetch on a sealed partition decrypts on the network
 * thread between a request and its response, and the client waits for it;
 * with it that decryption overlaps the rest of the fetch cycle on another
 * core.
 *
 * The pool knows nothing of frames or keys: its owner (the sealing layer,
 * fileops_aead.c) gives it a fill function that decrypts whole frames and
 * stops at the first that fails authentication, so a slot only ever holds
 * plaintext that authenticated; a reader that needs the failing frame
 * decrypts it itself and gets the error, reported there as without
 * read-ahead.
 *
 * Each file has a `struct sl_ra_file` (guarded by the pool's mutex) and
 * holds at most one slot. A read that copies from the slot and then ends
 * where the next should begin queues the next run into the same slot (the
 * buffer stays warm: fresh pages are slow here, MACHINE.md). A file that is
 * read from arbitrary positions (its reads do not continue each other) gets
 * no read-ahead. When every slot is taken, a new file takes the slot filled
 * longest ago among those whose file is done with them (read from and not
 * queued again, or left unread for a second); a run nobody has read yet is
 * never thrown away for another. Slot buffers are mapped on first use (never
 * more than `budget` bytes), excluded from core dumps, and wiped when their
 * file closes, when the pool is freed, and when they are given back: a
 * buffer nobody has filled or copied from for 10 s is wiped and unmapped
 * (taken from its file if it still held a run) and mapped again when needed.
 */
#ifndef SL_CRYPTO_READAHEAD_H
#define SL_CRYPTO_READAHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest run one slot holds, in plaintext bytes. */
#define SL_RA_SLOT_BYTES (4u << 20)

/* Decrypts whole frames of owner starting exactly at logical position lpos
 * into dst (cap bytes), stopping once `want` bytes are reached (the frame
 * that crosses want is included when it fits) or at a frame that fails.
 * Returns the bytes written (0 when the file no longer has generation gen,
 * or lpos is not a frame start). Runs on the worker thread. */
typedef size_t (*sl_ra_fill_fn)(void *owner, int64_t lpos, size_t want, uint64_t gen,
                                uint8_t *dst, size_t cap);

struct sl_ra_slot;

struct sl_ra_file {
    struct sl_ra_slot *slot; /* NULL, or the slot this file holds */
    int64_t next;            /* where the last qualifying read ended, -1 none */
};

struct sl_ra_stats {
    uint64_t queued;     /* runs queued */
    uint64_t filled;     /* runs the worker decrypted */
    uint64_t hit_bytes;  /* bytes readers copied from slots */
    uint64_t cancelled;  /* queued runs a reader got to first (decrypted itself) */
    uint64_t waited;     /* reads that waited for a run in progress */
    uint64_t given_back; /* buffers wiped and unmapped after going unused */
    uint64_t mapped;     /* buffers mapped now */
};

struct sl_ra;

/* A pool of budget / SL_RA_SLOT_BYTES slots (NULL when that is 0: no
 * read-ahead) with its worker thread. */
struct sl_ra *sl_ra_new(size_t budget, sl_ra_fill_fn fill);

/* Stops the worker and wipes and frees the slots. Every file detached. */
void sl_ra_free(struct sl_ra *ra);

static inline void sl_ra_file_init(struct sl_ra_file *rf)
{
    rf->slot = NULL;
    rf->next = -1;
}

/* Copies to dst the plaintext of [off, off + n) that rf's slot holds from
 * off on (file generation gen), and returns its length: 0 on a miss. A run
 * still queued for off is cancelled (the caller decrypts); one in progress
 * is waited for. */
size_t sl_ra_copy(struct sl_ra *ra, struct sl_ra_file *rf, uint64_t gen, int64_t off, size_t n,
                  uint8_t *dst);

/* After a read of whole frames [off, off + n) of owner (hit: part of it
 * came from the slot), with the file's logical size lsize: when the read
 * continues the previous one, queues the run of about n bytes from
 * off + n. */
void sl_ra_after_read(struct sl_ra *ra, struct sl_ra_file *rf, void *owner, uint64_t gen,
                      int64_t off, size_t n, bool hit, int64_t lsize);

/* Releases rf's slot (waiting for a run in progress) and wipes it; before
 * the file is freed. */
void sl_ra_detach(struct sl_ra *ra, struct sl_ra_file *rf);

void sl_ra_get_stats(struct sl_ra *ra, struct sl_ra_stats *out);

/* How long a buffer goes unused before it is given back (10 s; tests
 * shorten it). */
void sl_ra_set_idle(struct sl_ra *ra, int64_t idle_ns);

#endif
