/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the local metadata store's file parser, every
 * record kind of every format version (secret, topic, config, scram, acl).
 * Each input is decoded four times: as a whole store file (header,
 * version, length and checksum checks), and as a body framed with a
 * correct header of versions 3, 2 and 1, since a mutated body would
 * otherwise almost never get past the CRC-32C to the record parser. Beyond
 * crashes and sanitizer reports it checks the codec's promises: whatever
 * decodes satisfies the store's invariants (topics, credentials and ACL
 * bindings pass the checks a write applies, credentials and bindings are
 * sorted and unique, only version 2 and later have a secret or
 * credentials, only version 3 ACLs), and it has exactly one encoding: a
 * version-3 file encodes back to the input bytes, a version-2 file to the
 * same body under a version-3 header, and a version-1 file to the same
 * records behind a secret line (the upgrade). A violated promise aborts.
 * Seed corpus: fuzz/corpus/meta/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/logging.h"
#include "core/mem.h"
#include "meta/meta_int.h"
#include "meta/meta_local.h"

/* Length of the header line of a well-formed encoding (up to its '\n'). */
static size_t head_len(const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    if (!nl)
        abort();
    return (size_t)(nl - p) + 1;
}

/* Checks the invariants of a decoded store. */
static void check_store(const struct sl_meta_local_store *s)
{
    if (s->version < SL_META_LOCAL_VERSION_MIN || s->version > SL_META_LOCAL_VERSION)
        abort();
    if (s->has_secret != (s->version >= 2) || (s->version < 2 && s->n_creds != 0))
        abort(); /* only version 2 has a secret, and always */
    for (int i = 0; i < s->n_topics; i++) {
        struct sl_meta_topic norm;
        if (sl_meta__check_topic(&s->topics[i], &norm) != NULL)
            abort(); /* decoded a topic the store would refuse */
        sl_meta_topic_clear(&norm);
    }
    if (s->n_creds < 0 || s->n_creds > SL_META_CREDS_MAX)
        abort();
    for (int i = 0; i < s->n_creds; i++) {
        const struct sl_meta_user_cred *c = &s->creds[i];
        struct sl_scram_cred norm;
        if (sl_meta__check_user(c->user) != NULL || sl_meta__check_cred(&c->cred, &norm) != NULL)
            abort(); /* decoded a credential the store would refuse */
        if (memcmp(&norm, &c->cred, sizeof norm) != 0)
            abort(); /* not normalised: tails or padding not zero */
        if (i > 0 && sl_meta__cmp_user_cred(&s->creds[i - 1], c) >= 0)
            abort(); /* out of order or repeated */
    }
    int na = sl_acl_set_count(s->acls);
    if (na > SL_ACL_MAX_BINDINGS || (s->version < 3 && na != 0))
        abort();
    for (int i = 0; i < na; i++) {
        const struct sl_acl *a = sl_acl_set_at(s->acls, i);
        if (sl_acl_validate(a) != NULL)
            abort(); /* decoded a binding the store would refuse */
        if (i > 0 && sl_acl_cmp(sl_acl_set_at(s->acls, i - 1), a) >= 0)
            abort(); /* out of order or repeated */
    }
}

/* Decodes one file and checks the codec's promises on success. */
static void check(const uint8_t *data, size_t size)
{
    struct sl_meta_local_store s;
    char err[256];
    if (sl_meta_local_decode(data, size, &s, err, sizeof err) != SL_ERR_NONE)
        return;
    check_store(&s);
    int ver = s.version;
    if (ver < 2) {
        /* The upgrade: a secret in front of the same records. */
        memset(s.secret, 0x5a, sizeof s.secret);
        s.has_secret = true;
    }
    uint8_t *enc;
    size_t encn;
    sl_meta_local_encode(&s, &enc, &encn);
    if (ver == SL_META_LOCAL_VERSION) {
        if (encn != size || memcmp(enc, data, size) != 0)
            abort(); /* not canonical */
    } else if (ver >= 2) {
        /* The same body under the current header. */
        size_t ih = head_len(data, size), eh = head_len(enc, encn);
        if (encn - eh != size - ih || memcmp(enc + eh, data + ih, size - ih) != 0)
            abort();
    } else {
        /* Same body after the secret line, and the result decodes to the
         * same store. */
        size_t ih = head_len(data, size), eh = head_len(enc, encn);
        const uint8_t *eb = enc + eh;
        const uint8_t *enl = memchr(eb, '\n', encn - eh);
        if (!enl)
            abort();
        size_t skip = (size_t)(enl - eb) + 1;
        if (encn - eh - skip != size - ih || memcmp(eb + skip, data + ih, size - ih) != 0)
            abort();
        struct sl_meta_local_store s2;
        if (sl_meta_local_decode(enc, encn, &s2, err, sizeof err) != SL_ERR_NONE)
            abort();
        check_store(&s2);
        if (s2.n_topics != s.n_topics || s2.n_creds != 0 ||
            memcmp(s2.secret, s.secret, sizeof s.secret) != 0)
            abort();
        sl_meta_local_store_clear(&s2);
    }
    free(enc);
    sl_meta_local_store_clear(&s);
}

/* Frames body[0..blen) with a correct header of format version ver. */
static void check_framed(int ver, const uint8_t *body, size_t blen)
{
    char head[64];
    int hn = snprintf(head, sizeof head, "sluice-meta %d %zu %08x\n", ver, blen,
                      (unsigned)sl_crc32c(0, body, blen));
    uint8_t *framed = sl_xmalloc((size_t)hn + blen);
    memcpy(framed, head, (size_t)hn);
    if (blen)
        memcpy(framed + hn, body, blen);
    check(framed, (size_t)hn + blen);
    free(framed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX;
    check(data, size);

    /* Skip the input's own header line, if any, and frame the rest. */
    const uint8_t *body = data;
    size_t blen = size;
    if (size >= 12 && memcmp(data, "sluice-meta ", 12) == 0) {
        const uint8_t *nl = memchr(data, '\n', size);
        if (nl) {
            body = nl + 1;
            blen = size - (size_t)(body - data);
        }
    }
    for (int ver = SL_META_LOCAL_VERSION; ver >= SL_META_LOCAL_VERSION_MIN; ver--)
        check_framed(ver, body, blen);
    return 0;
}
