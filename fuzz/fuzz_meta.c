/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the local metadata store's file parser: the input
 * is a whole store file. Beyond crashes and sanitizer reports it checks
 * the codec's two promises: whatever decodes satisfies the store's
 * invariants, and it has exactly one encoding (encoding a decoded file
 * gives back the input bytes). A violated promise aborts. Seed corpus:
 * fuzz/corpus/meta/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/logging.h"
#include "meta/meta_int.h"
#include "meta/meta_local.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_log_min_level = SL_LOG_LEVEL_MAX;
    struct sl_meta_topic *t;
    int n;
    char err[256];
    if (sl_meta_local_decode(data, size, &t, &n, err, sizeof err) != SL_ERR_NONE)
        return 0;
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
    return 0;
}
