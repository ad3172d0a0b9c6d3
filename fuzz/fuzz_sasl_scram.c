/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the SCRAM-SHA-256/512 server (security/authn/scram.c).
 *
 * Input: one option byte (bit 0: SCRAM-SHA-512 instead of SHA-256, bit 1:
 * accept librdkafka's legacy nonce, bit 2: re-authentication wording), then
 * the client-first message, a NUL, the client-final message, and after a
 * second NUL a third message that must be refused (SCRAM messages never
 * hold a NUL, so it is a safe separator). The lookup knows one user,
 * "user" with password "pencil" under the RFC 7677 salt, and the server
 * nonce is fixed to the RFC 7677 one, so a seed can carry a complete,
 * successful conversation for the mutator to start from.
 *
 * Beyond crashes and sanitizer reports it checks the provider's contract
 * and aborts on a breach: CONTINUE/DONE come with output and no error
 * text, FAIL with an error text and a log reason but no output, the user
 * name is terminated within its buffer, and nothing follows DONE or FAIL.
 * Seed corpus: fuzz/corpus/sasl_scram/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "security/authn/sasl_mech.h"
#include "security/authn/scram.h"

static struct sl_scram_cred cred256, cred512;

static int lookup(void *arg, const char *user, int mech, struct sl_scram_cred *out)
{
    (void)arg;
    if (strcmp(user, "user") != 0)
        return -1;
    *out = mech == SL_SCRAM_SHA512 ? cred512 : cred256;
    return 0;
}

static void init(void)
{
    static bool done;
    static const uint8_t salt[16] = {0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
                                     0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81};
    if (done)
        return;
    if (sl_scram_cred_from_password(SL_SCRAM_SHA256, "pencil", 6, salt, sizeof salt, 4096,
                                    &cred256) != 0 ||
        sl_scram_cred_from_password(SL_SCRAM_SHA512, "pencil", 6, salt, sizeof salt, 4096,
                                    &cred512) != 0)
        abort();
    done = true;
}

/* Aborts unless res matches the contract for step s. */
static void check(enum sl_sasl_step s, const struct sl_sasl_result *res)
{
    if (memchr(res->user, 0, sizeof res->user) == NULL)
        abort();
    switch (s) {
    case SL_SASL_CONTINUE:
    case SL_SASL_DONE:
        if (!res->out || res->out_len == 0 || res->err[0] != '\0')
            abort();
        /* Server messages are ASCII attribute lists. */
        for (size_t i = 0; i < res->out_len; i++)
            if (res->out[i] < 0x21 || res->out[i] > 0x7e)
                abort();
        break;
    case SL_SASL_FAIL:
        if (res->out || res->out_len || strncmp(res->err, "Authentication failed", 21) != 0 ||
            res->log[0] == '\0')
            abort();
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size == 0)
        return 0;
    uint8_t opt = data[0];
    const uint8_t *msg[3];
    size_t len[3];
    int nmsg = 0;
    const uint8_t *p = data + 1, *end = data + size;
    while (nmsg < 3) {
        const uint8_t *nul = nmsg < 2 ? memchr(p, 0, (size_t)(end - p)) : NULL;
        msg[nmsg] = p;
        len[nmsg] = (size_t)((nul ? nul : end) - p);
        nmsg++;
        if (!nul)
            break;
        p = nul + 1;
    }

    const struct sl_sasl_mech *m = (opt & 1) ? &sl_sasl_scram_sha512 : &sl_sasl_scram_sha256;
    struct sl_sasl_conf conf = {
        .lookup = lookup,
        .scram_legacy_nonce = (opt & 2) != 0,
        .reauth = (opt & 4) != 0,
        ._test_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    };
    memset(conf.fake_secret, 0x42, sizeof conf.fake_secret);

    void *st = m->start(&conf);
    bool over = false;
    for (int i = 0; i < nmsg; i++) {
        struct sl_sasl_result res;
        enum sl_sasl_step s = m->step(st, msg[i], len[i], &res);
        check(s, &res);
        if (over && s != SL_SASL_FAIL)
            abort(); /* nothing after DONE or FAIL */
        if (s != SL_SASL_CONTINUE)
            over = true;
        if (i == 0 && s == SL_SASL_DONE)
            abort(); /* SCRAM never finishes in one message */
        free(res.out);
    }
    m->free(st);
    return 0;
}
