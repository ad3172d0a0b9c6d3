/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the audit verifier's parser (security/audit/
 * audit_verify.c, audit_record.c, audit_json.c): the input is the content of
 * one audit file, scanned as `sluice audit verify` scans each file (strict,
 * bounded line parsing, the open record, the chain with a fixed key of 32
 * bytes 0x11, which the seed corpus was made with, so mutations reach the
 * chain checks). Each line is also parsed on its own.
 *
 * Beyond crashes and sanitizer reports it checks the contract: a clean
 * result starts with an open record, a problem names its line, and the escaper turns the input into one JSON string that parses and holds
 * no raw newline. Seed corpus: fuzz/corpus/audit_verify/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/audit/audit_json.h"
#include "security/audit/audit_record.h"
#include "security/audit/audit_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sl_audit_hmac h;
    static bool init;
    static struct sl_audit_rec rec;
    static struct sl_aj_doc doc;
    if (!init) {
        uint8_t key[SL_AUDIT_KEY_LEN];
        memset(key, 0x11, sizeof key);
        if (sl_audit_hmac_init(&h, key) < 0)
            abort();
        init = true;
    }
    if (size > 4 * SL_AUDIT_LINE_MAX)
        return 0;

    /* The whole file, as the verifier reads it. */
    FILE *f = fmemopen((void *)data, size ? size : 1, "rb");
    if (!f)
        return 0;
    struct sl_audit_file_scan scan = {0};
    if (size == 0) {
        fclose(f);
        f = fmemopen((void *)"", 1, "rb"); /* one NUL byte: a torn line */
    }
    if (sl_audit_scan_stream(f, &h, &scan) == 0) {
        if (!scan.bad && scan.lines > 0 && (!scan.has_open || scan.first_seq == 0))
            abort();
        if (scan.bad && scan.bad_line == 0)
            abort();
    }
    fclose(f);

    /* Each line on its own. */
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *why = NULL;
        if (sl_audit_rec_parse(p, len, &rec, &why) == 0) {
            if (rec.body_len >= len || rec.seq == 0)
                abort();
        } else if (!why) {
            abort();
        }
        p += len + 1;
    }

    /* Escaping any bytes gives one valid JSON string on one line. */
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_wbuf_put(&w, "\"", 1);
    sl_aj_escape(&w, (const char *)data, size);
    sl_wbuf_put(&w, "\"", 1);
    const char *why;
    size_t at;
    if (memchr(w.data, '\n', w.len) || sl_aj_parse(&doc, (const char *)w.data, w.len, &why, &at) != 0)
        abort();
    sl_wbuf_destroy(&w);
    return 0;
}
