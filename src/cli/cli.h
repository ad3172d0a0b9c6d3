/* SPDX-License-Identifier: Apache-2.0
 *
 * The `sluice` admin CLI: one function per top-level command, each in its
 * own file src/cli/cmd_<name>.c and one row of the command table in
 * src/cli/main.c. A command gets argv from its own name on (argv[0] is
 * "user" for `sluice user add ...`) and returns the process exit status:
 * 0 success, 1 failure (a message on stderr), 2 bad usage.
 *
 * Also here: what the commands share (cli_common.c): the connection
 * options, online connection set-up, Kafka error texts, option parsing.
 */
#ifndef SL_CLI_CLI_H
#define SL_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/kclient.h"

#define SLUICE_CLI_EXIT_OK 0
#define SLUICE_CLI_EXIT_FAIL 1
#define SLUICE_CLI_EXIT_USAGE 2

/* Commands (cmd_<name>.c). */
int sl_cli_user(int argc, char **argv);
int sl_cli_acl(int argc, char **argv);
int sl_cli_keys(int argc, char **argv);
int sl_cli_client_config(int argc, char **argv);
int sl_cli_posture(int argc, char **argv);

/* Online SCRAM users (cmd_user.c), shared with client-config and posture.
 * sl_cli_user_set_scram creates or changes user name's credential of
 * mechanism mech (enum sl_scram_mech) from password pw: the salt is drawn
 * and the salted password computed here, only they go to the broker
 * (AlterUserScramCredentials). sl_cli_user_describe describes user (NULL:
 * all) into *resp (valid until the next call on k). Both return 0 or an
 * exit status with the reason printed. */
struct DescribeUserScramCredentialsResponse;
int sl_cli_user_set_scram(struct sl_kclient *k, const char *name, int mech, int32_t iterations,
                          const char *pw);
int sl_cli_user_describe(struct sl_kclient *k, const char *user,
                         struct DescribeUserScramCredentialsResponse *resp);

/* The options that say where a command works. */
struct sl_cli_target {
    const char *bootstrap;      /* --bootstrap-server */
    const char *command_config; /* --command-config */
    const char *data_dir;       /* --data-dir (offline) */
    const char *keys_file;      /* --keys-file (offline, encrypted data directory) */
    const char *keys_command;   /* --keys-command (offline, encrypted data directory) */
};

/* If argv[*i] is --bootstrap-server, --command-config, --data-dir,
 * --keys-file or --keys-command (as
 * "--opt VALUE" or "--opt=VALUE"), stores the value in t, advances *i past
 * it and returns 1; returns 0 for another argument; -1 (message printed)
 * when the value is missing. */
int sl_cli_target_opt(struct sl_cli_target *t, int argc, char **argv, int *i);

/* If argv[*i] is option `name` ("--name VALUE" or "--name=VALUE"), sets
 * *val, advances *i and returns 1; 0 if it is not; -1 (message printed)
 * when the value is missing. */
int sl_cli_opt(const char *name, int argc, char **argv, int *i, const char **val);

/* Checks that exactly one of online (--bootstrap-server/--command-config)
 * and offline (--data-dir) was chosen, or that online was when
 * offline_ok is false. Prints the problem and returns -1, else 0. */
int sl_cli_target_check(const struct sl_cli_target *t, bool offline_ok);

/* Loads --command-config (if any) into cfg, applies --bootstrap-server
 * (which wins) and checks the whole. Returns 0 (clear cfg with
 * sl_client_config_clear) or -1 with the message printed (cfg cleared). */
int sl_cli_load_config(const struct sl_cli_target *t, struct sl_client_config *cfg);

/* Loads the configuration as sl_cli_load_config does, and connects. Returns 0 (close k with sl_kclient_close)
 * or -1 with the message printed. */
int sl_cli_connect(const struct sl_cli_target *t, struct sl_kclient *k);

/* `sluice keys rewrap --bootstrap-server ...` (keys_online.c): asks the
 * broker for an online rewrap and waits for its outcome (at most timeout_s
 * seconds). Returns the exit status. */
int sl_cli_keys_rewrap_online(const struct sl_cli_target *t, int timeout_s);

/* Opens the metadata store of t->data_dir (offline). When the directory is
 * encrypted at rest, loads its keyring into kr first (--keys-command, else
 * --keys-file, else <data dir>/keys/keyring; caller frees kr after closing
 * the store). Returns the store's result (err filled) or SL_ERR__IO when
 * the keys cannot be loaded. */
struct sl_meta;
struct sl_keyring;
int sl_cli_open_meta(const struct sl_cli_target *t, struct sl_keyring *kr, struct sl_meta **m,
                     char *err, size_t errlen);

/* A clear text for a Kafka error code in a response: `op` says what the
 * request needed ("ALTER on the cluster"), for the authorization errors.
 * Returns a static string or buf. */
const char *sl_cli_kafka_error(int code, const char *op, char *buf, size_t len);

/* DescribeConfigs of one BROKER resource: node is its id ("" for the broker
 * answering), keys the entries wanted (NULL, 0: all of them). On success *out
 * is the one result (its strings valid until k's next call) and 0 is
 * returned; otherwise prints "cannot <what>: <reason>" (or the transport
 * error) and returns SLUICE_CLI_EXIT_FAIL. */
struct DescribeConfigsResponse_DescribeConfigsResult;
int sl_cli_describe_broker(struct sl_kclient *k, const char *node, sl_str_t *keys,
                           int32_t nkeys, const char *what,
                           struct DescribeConfigsResponse_DescribeConfigsResult *out);

/* Prints "sluice: <message>" and a newline on stderr; returns
 * SLUICE_CLI_EXIT_FAIL. */
int sl_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "sluice: <message>", then "Try 'sluice <cmd> --help'."; returns
 * SLUICE_CLI_EXIT_USAGE. */
int sl_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
