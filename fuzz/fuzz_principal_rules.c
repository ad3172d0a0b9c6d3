/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for ssl.principal.mapping.rules
 * (src/security/authn/principal_rules.c): the splitter, the rule parser,
 * PCRE2 compilation, matching, Kafka's back-reference rewrite, Java's
 * replacement syntax and the L/U case mapping. The input is a spec, a NUL
 * byte, then a DN (without the NUL, the whole input is the spec and a few
 * fixed DNs are mapped). Besides crashes and sanitizer reports it checks
 * that results and refusal reasons fit their buffers, that every refusal
 * gives a reason, and that the printed rule list stays in its buffer.
 * Seed corpus: fuzz/corpus/principal_rules/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "security/authn/principal_rules.h"

/* Specs and DNs of a few KiB are plenty; the parser's work grows with the
 * square of the spec length. */
#define MAX_INPUT 4096

static void map_one(const struct sl_principal_rules *r, const char *dn)
{
    char out[512];
    int rc = sl_principal_rules_apply(r, dn, out, sizeof out);
    if (strlen(out) >= sizeof out || (rc != 0 && out[0] == '\0') || (rc != 0 && rc != -1))
        abort();
    char tiny[4];
    sl_principal_rules_apply(r, dn, tiny, sizeof tiny);
    if (strlen(tiny) >= sizeof tiny)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char *buf = sl_xmalloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t speclen = strlen(buf);
    const char *dn = speclen < size ? buf + speclen + 1 : NULL; // up to the next NUL

    char err[512];
    struct sl_principal_rules *r = sl_principal_rules_parse(buf, err, sizeof err);
    if (!r) {
        if (err[0] == '\0')
            abort(); // a refusal always says why
        free(buf);
        return 0;
    }
    if (dn) {
        map_one(r, dn);
    } else {
        map_one(r, "CN=alice,OU=ServiceUsers,O=Example,C=US");
        map_one(r, "");
        map_one(r, "1.2.840.113549.1.9.1=#1603614062,CN=a\\,b\\+c");
    }
    /* Printed into a roomy buffer and into one that forces a cut. */
    char list[8192], cut[8];
    if (sl_principal_rules_format(r, list, sizeof list) == 0 && strlen(list) >= sizeof list)
        abort();
    sl_principal_rules_format(r, cut, sizeof cut);
    if (strlen(cut) >= sizeof cut)
        abort();
    sl_principal_rules_free(r);
    free(buf);
    return 0;
}
