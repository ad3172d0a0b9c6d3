/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the local metadata store's file parser. Each input
 * is decoded twice: as a whole store file (header, length and checksum
 * checks), and as a body framed with a correct header, since a mutated body
 * would otherwise almost never get past the CRC-32C to the record parser.
 * Beyond crashes and sanitizer reports it checks
 * the codec's two promises: whatever decodes satisfies the store's
 * invariants, and it has exactly one encoding (encoding a decoded file
 * gives back the input bytes). A violated promise aborts. Seed corpus:
 * fuzz/corpus/meta/.
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

/* Decodes one file and checks the codec's promises on success. */
static void check(const uint8_t *data, size_t size)
{
    struct sl_meta_topic *t;
    int n;
    char err[256];
    if (sl_meta_local_decode(data, size, &t, &n, err, sizeof err) != SL_ERR_NONE)
        return;
    for (int i = 0; i < n; i++) {
        struct sl_meta_topic norm;
        if (sl_meta__check_topic(&t[i], &norm) != NULL)
            abort(); /* decoded a topic the store would refuse */
        sl_meta_topic_clear(&norm);
    }
    uint8_t *enc;
    size_t encn;
    sl_meta_local_encode(t, n, &enc, &encn);
    if (encn != size || memcmp(enc, data, size) != 0)
        abort(); /* not canonical */
    free(enc);
    sl_meta_topics_free(t, n);
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
    char head[64];
    int hn = snprintf(head, sizeof head, "sluice-meta 1 %zu %08x\n", blen,
                      (unsigned)sl_crc32c(0, body, blen));
    uint8_t *framed = sl_xmalloc((size_t)hn + blen);
    memcpy(framed, head, (size_t)hn);
    if (blen)
        memcpy(framed + hn, body, blen);
    check(framed, (size_t)hn + blen);
    free(framed);
    return 0;
}
