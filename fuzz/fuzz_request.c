/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the request path of the protocol codec.
 *
 * Input: one request frame as the framer hands it over (the 4-byte size
 * prefix already stripped): request header, then body. The target decodes
 * the header; if the API and version are ones Sluice speaks, it decodes the
 * body with the API's request descriptor (as the dispatcher does) and, on
 * success, re-encodes it, decodes that encoding again and checks that a
 * second encoding is byte-identical (the encoder's output is canonical and
 * the decoder accepts all of it). The same body bytes are also fed to the
 * response descriptor of that API, which the client side decodes.
 *
 * Per-input memory lives in one arena reset after every input, and every
 * wbuf is destroyed, so LeakSanitizer sees no leak.
 *
 * Seeds: fuzz/corpus/request/ (written by tests/unit/test_codec.c with
 * SL_CODEC_CORPUS_DIR set). Run:
 *   ./build-fuzz/fuzz_request -max_total_time=60 fuzz/corpus/request
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/wbuf.h"
#include "protocol/codec.h"
#include "protocol/gen/apis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_arena arena;

/* Encodes *body, decodes the result and encodes again; aborts if the
 * decoder rejects the encoder's output or the two encodings differ. */
static void check_canonical(const struct sl_msgdesc *d, int16_t v, const void *body)
{
    struct sl_wbuf w1, w2;
    sl_wbuf_init(&w1);
    sl_wbuf_init(&w2);
    sl_codec_encode(d, v, body, &w1);

    struct sl_reader r;
    sl_rd_init(&r, w1.data, w1.len);
    void *again = sl_arena_alloc(&arena, d->size);
    int rc = sl_codec_decode(d, v, &r, &arena, again);
    if (rc != 0 || sl_rd_left(&r) != 0) {
        fprintf(stderr, "%s v%d: own encoding rejected (rc %d, %zu left)\n", d->name, v, rc,
                sl_rd_left(&r));
        abort();
    }
    sl_codec_encode(d, v, again, &w2);
    if (w1.len != w2.len || (w1.len && memcmp(w1.data, w2.data, w1.len) != 0)) {
        fprintf(stderr, "%s v%d: encoding not canonical\n", d->name, v);
        abort();
    }
    sl_wbuf_destroy(&w1);
    sl_wbuf_destroy(&w2);
}

/* Decodes the body at r as message d; on success checks canonical form. */
static void run_body(const struct sl_msgdesc *d, int16_t v, struct sl_reader r)
{
    void *body = sl_arena_alloc(&arena, d->size);
    if (sl_codec_decode(d, v, &r, &arena, body) == 0)
        check_canonical(d, v, body);
}

/* libFuzzer entry point: data[0..size) is one request frame (borrowed).
 * Returns 0; a bug shows up as a sanitizer report or an abort. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_reader r;
    struct sl_request_header h;
    sl_rd_init(&r, data, size);
    if (sl_codec_decode_request_header(&r, &h) != 0)
        return 0;
    const struct sl_api_info *api = sl_api_lookup(h.api_key);
    if (api && h.api_version >= api->min_version && h.api_version <= api->max_version) {
        run_body(api->request, h.api_version, r);
        run_body(api->response, h.api_version, r);
    }
    sl_arena_reset(&arena);
    return 0;
}
