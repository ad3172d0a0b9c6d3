/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the consumer-group records of the internal offsets
 * log (src/group/records.c): a stored record is read back from disk at
 * every start, so its decoders treat the bytes as untrusted. The first input
 * byte picks the decoder (key, offset value, group value with its members);
 * what decodes is re-encoded and decoded again, and must give the same
 * fields.
 */
#include <stdint.h>
#include <string.h>

#include "core/wbuf.h"
#include "group/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0] % 3;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    if (which == 0) {
        struct sl_grec_key k, k2;
        if (sl_grec_get_key(p, len, &k)) {
            if (k.type == SL_GREC_KEY_OFFSET)
                sl_grec_put_offset_key(&w, k.group, k.topic, k.partition);
            else
                sl_grec_put_group_key(&w, k.group);
            if (!sl_grec_get_key(w.data, w.len, &k2) || k2.type != k.type ||
                !sl_str_eq(k2.group, k.group))
                __builtin_trap();
        }
    } else if (which == 1) {
        struct sl_grec_offset v, v2;
        if (sl_grec_get_offset_value(p, len, &v)) {
            sl_grec_put_offset_value(&w, &v);
            if (!sl_grec_get_offset_value(w.data, w.len, &v2) || v2.offset != v.offset ||
                v2.leader_epoch != v.leader_epoch || !sl_str_eq(v2.metadata, v.metadata))
                __builtin_trap();
        }
    } else {
        struct sl_grec_group g;
        struct sl_grec_member_iter it;
        if (sl_grec_get_group_value(p, len, &g, &it)) {
            struct sl_grec_member m;
            bool bad = false;
            int n = 0;
            while (n < 100000 && sl_grec_next_member(&it, &m, &bad))
                n++;
        }
    }
    sl_wbuf_destroy(&w);
    return 0;
}
