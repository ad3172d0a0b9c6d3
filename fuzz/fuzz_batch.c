/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the record batch v2 validator (src/storage/batch.c):
 * the input is the records field of one produce partition, untrusted bytes.
 * It runs sl_batch_validate_produce and sl_batch_parse and, on accepted
 * input, checks the properties the log relies on: an accepted produce batch
 * also parses, fills the input exactly, survives the LogAppendTime rewrite
 * (CRC recomputed), and its records iterate to exactly records_count with
 * offset deltas 0..n-1. Crashes, sanitizer reports and broken properties
 * (abort) are the findings; refusals are not. Seed corpus: fuzz/corpus/batch/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_records(const uint8_t *p, size_t len, const struct sl_batch_info *info)
{
    if (info->compression != SL_COMPRESSION_NONE)
        return;
    struct sl_record_iter it;
    if (sl_record_iter_init(&it, p, len, info) != SL_ERR_NONE)
        abort();
    struct sl_record rec;
    int32_t n = 0;
    while (sl_record_iter_next(&it, &rec)) {
        if (rec.offset_delta != n)
            abort();
        /* Views stay inside the batch. */
        if (rec.key.len > 0 && (rec.key.p < p || rec.key.p + rec.key.len > p + len))
            abort();
        if (rec.value.len > 0 && (rec.value.p < p || rec.value.p + rec.value.len > p + len))
            abort();
        n++;
    }
    if (it.err != SL_ERR_NONE || n != info->records_count)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_batch_info info, info2;
    sl_err_t rc = sl_batch_validate_produce(data, size, 1 << 20, &info);
    sl_err_t rc2 = sl_batch_parse(data, size, &info2);
    if (rc2 == SL_ERR_NONE) {
        if ((size_t)info2.batch_len > size)
            abort();
        check_records(data, (size_t)info2.batch_len, &info2);
    }
    if (rc != SL_ERR_NONE)
        return 0;
    if (rc2 != SL_ERR_NONE || (size_t)info.batch_len != size || info.base_offset != 0 ||
        info.control || info.records_count <= 0)
        abort();
    uint8_t *copy = malloc(size);
    memcpy(copy, data, size);
    sl_batch_set_log_append_time(copy, size, 1234567890123);
    struct sl_batch_info info3;
    if (sl_batch_parse(copy, size, &info3) != SL_ERR_NONE || info3.max_timestamp != 1234567890123)
        abort();
    /* The broker-owned fields outside the CRC may change freely. */
    memset(copy, 0x7f, 8);
    memset(copy + 12, 0x11, 4);
    if (sl_batch_parse(copy, size, &info3) != SL_ERR_NONE)
        abort();
    free(copy);
    return 0;
}
