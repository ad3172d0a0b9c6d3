/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice audit verify DIR [--key-file F] [--expect-seq N]`: the command
 * line of the verifier (audit_verify.h), for the `sluice` admin CLI to call.
 * Exit status: 0 when the whole chain holds, 1 when it breaks (the report on
 * standard output names the file, the line, the sequence and what broke),
 * 2 for a usage error or an unreadable key or directory.
 *
 * The default key file is the one a broker with its data directory at the
 * audit directory's parent uses: <DIR>/../keys/audit.key.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/audit/audit_cli.h"
#include "security/audit/audit_record.h"
#include "security/audit/audit_verify.h"

static int usage(void)
{
    fprintf(stderr, "usage: sluice audit verify DIR [--key-file FILE] [--expect-seq N]\n"
                    "  Checks the chain of the audit files in DIR (default key: "
                    "DIR/../keys/audit.key).\n"
                    "  Exit status 0 only when the whole chain holds.\n");
    return 2;
}

static int verify(int argc, char **argv)
{
    const char *dir = NULL, *key_file = NULL;
    uint64_t expect = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--key-file") == 0 && i + 1 < argc) {
            key_file = argv[++i];
        } else if (strcmp(argv[i], "--expect-seq") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (errno || *end || v == 0 || argv[i][0] == '-') {
                fprintf(stderr, "sluice audit verify: --expect-seq wants a positive number\n");
                return 2;
            }
            expect = v;
        } else if (argv[i][0] == '-' || dir) {
            return usage();
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        return usage();
    char def_key[4200];
    if (!key_file) {
        snprintf(def_key, sizeof def_key, "%s/../keys/audit.key", dir);
        key_file = def_key;
    }
    uint8_t key[SL_AUDIT_KEY_LEN];
    char err[512];
    if (sl_audit_key_load(key_file, false, key, err, sizeof err) < 0) {
        fprintf(stderr, "sluice audit verify: %s\n", err);
        return 2;
    }
    struct sl_audit_verify_opts o = {.expect_seq = expect, .out = stdout};
    int rc = sl_audit_verify_dir(dir, key, &o);
    fflush(stdout);
    return rc;
}

int sl_cli_audit(int argc, char **argv)
{
    if (argc < 1)
        return usage();
    if (strcmp(argv[0], "verify") == 0)
        return verify(argc - 1, argv + 1);
    return usage();
}
