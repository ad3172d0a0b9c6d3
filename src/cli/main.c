/* SPDX-License-Identifier: Apache-2.0
 *
 * sluice: the admin CLI's entry point and command table. Each command is
 * one row here and one file src/cli/cmd_<name>.c exposing
 * int sl_cli_<name>(int argc, char **argv) (declared in cli/cli.h), which
 * gets argv from the command's name on and returns the exit status.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "security/audit/audit_cli.h"
#include "core/logging.h"
#include "sluice/version.h"

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("sluice %s\n", SLUICE_VERSION);
    return SLUICE_CLI_EXIT_OK;
}

/* `sluice audit verify DIR ...` (security/audit/audit_cli.c takes argv
 * from the verb on). */
static int cmd_audit(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: sluice audit verify DIR [--key-file F] [--expect-seq N]\n"
               "Checks the HMAC chain of the audit files in DIR (the key defaults to the data\n"
               "directory's keys/audit.key); exit 0 only when the whole chain holds.\n");
        return argc < 2 ? SLUICE_CLI_EXIT_USAGE : SLUICE_CLI_EXIT_OK;
    }
    return sl_cli_audit(argc - 1, argv + 1);
}

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"user", sl_cli_user, "add, change, remove and list SCRAM users (online or offline)"},
    {"acl", sl_cli_acl, "add, remove and list ACLs (online or offline)"},
    {"audit", cmd_audit, "verify the chain of an audit log (offline)"},
    {"keys", sl_cli_keys, "rotate and rewrap the encryption-at-rest keys (offline)"},
    {"client-config", sl_cli_client_config,
     "create a SCRAM user and print its ready client configuration"},
    {"posture", sl_cli_posture, "report a running broker's security posture (exit 2: critical)"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n'sluice COMMAND --help' describes a command. Online commands take\n"
            "--bootstrap-server HOST:PORT and/or --command-config FILE (a Kafka client\n"
            "properties file: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.*);\n"
            "see docs/OPERATIONS.md, \"The sluice CLI\".\n");
}

int main(int argc, char **argv)
{
    /* A broker that closes the connection must not kill us mid-write. */
    signal(SIGPIPE, SIG_IGN);
    sl_log_min_level = SL_LOG_WARN; /* the metadata store's INFO lines are for the broker */
    if (argc < 2) {
        usage(stderr);
        return SLUICE_CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return SLUICE_CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return SLUICE_CLI_EXIT_USAGE;
}
