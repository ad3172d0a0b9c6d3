/* SPDX-License-Identifier: Apache-2.0
 *
 * Temporary stand-in for `sluice audit ...` until the sluice admin CLI
 * (src/cli/) exists: `sl_audit_tool verify DIR [--key-file F] [--expect-seq N]`.
 * Built in the build tree for the tests, not installed.
 */
#include "security/audit/audit_cli.h"

int main(int argc, char **argv)
{
    return sl_cli_audit(argc - 1, argv + 1);
}
