/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the PLAIN server (security/authn/plain.c).
 *
 * Input: one option byte (bit 0: re-authentication wording), then the one
 * client message, NULs and all. The lookup knows "user" (password
 * "pencil", SCRAM-SHA-256 and SCRAM-SHA-512 credentials) and "u256"
 * (password "pencil", SCRAM-SHA-256 only). Each input that parses costs
 * one PBKDF2 run at 4096 iterations, real or made up: that is the point of
 * the module, so this target is slow by design.
 *
 * Beyond crashes and sanitizer reports it checks the contract: DONE only
 * with an empty answer and a user name that the message carried, FAIL with
 * one of Kafka's texts, a log reason and no output, and a second message
 * always refused. Seed corpus: fuzz/corpus/sasl_plain/.
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
    if (strcmp(user, "user") == 0 || (strcmp(user, "u256") == 0 && mech == SL_SCRAM_SHA256)) {
        *out = mech == SL_SCRAM_SHA512 ? cred512 : cred256;
        return 0;
    }
    return -1;
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

static bool kafka_text(const char *err)
{
    static const char *const texts[] = {
        "Authentication failed during authentication due to invalid credentials with SASL "
        "mechanism PLAIN",
        "Authentication failed during re-authentication due to invalid credentials with SASL "
        "mechanism PLAIN",
        "Authentication failed: Invalid username or password",
        "Authentication failed: Client requested an authorization id that is different from "
        "username",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (strcmp(err, texts[i]) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size == 0)
        return 0;
    struct sl_sasl_conf conf = {.lookup = lookup, .reauth = (data[0] & 1) != 0};
    memset(conf.fake_secret, 0x42, sizeof conf.fake_secret);
    const uint8_t *msg = data + 1;
    size_t len = size - 1;

    void *st = sl_sasl_plain.start(&conf);
    struct sl_sasl_result res;
    enum sl_sasl_step s = sl_sasl_plain.step(st, msg, len, &res);
    if (memchr(res.user, 0, sizeof res.user) == NULL)
        abort();
    if (s == SL_SASL_DONE) {
        /* Only the two known users with the right password get in. */
        if (res.out || res.out_len || res.err[0] ||
            (strcmp(res.user, "user") != 0 && strcmp(res.user, "u256") != 0))
            abort();
        size_t ul = strlen(res.user);
        if (len < ul + 8 || memcmp(msg + len - 7, "\0pencil", 7) != 0 ||
            memcmp(msg + len - 7 - ul, res.user, ul) != 0 || msg[len - 8 - ul] != 0)
            abort();
    } else if (s == SL_SASL_FAIL) {
        if (res.out || res.out_len || !kafka_text(res.err) || res.log[0] == '\0')
            abort();
    } else {
        abort(); /* PLAIN never continues */
    }
    s = sl_sasl_plain.step(st, msg, len, &res);
    if (s != SL_SASL_FAIL || res.out)
        abort();
    sl_sasl_plain.free(st);
    return 0;
}
