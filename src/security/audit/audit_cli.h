/* SPDX-License-Identifier: Apache-2.0
 *
 * The `audit` command of the `sluice` admin CLI (audit_cli.c).
 */
#ifndef SL_SECURITY_AUDIT_AUDIT_CLI_H
#define SL_SECURITY_AUDIT_AUDIT_CLI_H

/* Runs `audit <verb> ...` with argv[0] the verb ("verify"). Borrows argv.
 * Returns the process exit status: 0 when the chain holds, 1 when it
 * breaks, 2 on a usage error or when the key or directory cannot be read. */
int sl_cli_audit(int argc, char **argv);

#endif
