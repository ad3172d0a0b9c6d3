/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the keyring text parser (src/crypto/keyring.c), the
 * format of the key file and of sluice.keys.command's output. Beyond
 * crashes and sanitizer reports it checks: a parsed keyring is non-empty,
 * sorted by unique version, its newest key is the largest version, every
 * version is found, the error text never contains a hex digit run as long
 * as a key (no key material in messages), and formatting then parsing again
 * gives the same keys. A violated promise aborts. Seed corpus:
 * fuzz/corpus/keyring/.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keyring.h"

static int longest_hex_run(const char *s)
{
    int best = 0, cur = 0;
    for (; *s; s++) {
        cur = isxdigit((unsigned char)*s) ? cur + 1 : 0;
        if (cur > best)
            best = cur;
    }
    return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_keyring kr = {0}, again = {0};
    char err[256] = "";
    if (sl_keyring_parse((const char *)data, size, &kr, err, sizeof(err)) < 0) {
        if (kr.n != 0 || kr.keys != NULL || longest_hex_run(err) >= 16)
            abort();
        return 0;
    }
    if (kr.n == 0 || sl_keyring_newest(&kr) != &kr.keys[kr.n - 1])
        abort();
    for (size_t i = 0; i < kr.n; i++) {
        if (i && kr.keys[i - 1].version >= kr.keys[i].version)
            abort();
        if (sl_keyring_find(&kr, kr.keys[i].version) != &kr.keys[i])
            abort();
    }
    size_t len;
    char *text = sl_keyring_format(&kr, &len);
    if (sl_keyring_parse(text, len, &again, err, sizeof(err)) < 0 || again.n != kr.n ||
        memcmp(again.keys, kr.keys, kr.n * sizeof(*kr.keys)) != 0)
        abort();
    free(text);
    sl_keyring_free(&again);
    sl_keyring_free(&kr);
    return 0;
}
