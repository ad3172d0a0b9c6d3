/* SPDX-License-Identifier: Apache-2.0
 *
 * sluiced: the broker's entry point. Parses the command line, loads and
 * validates the configuration (any unknown key or bad value stops here with
 * the key, the value and the reason), starts the broker, and waits for
 * SIGTERM or SIGINT to shut down cleanly.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/insecure.h"
#include "security/audit/audit.h"
#include "core/logging.h"
#include "server/broker.h"
#include "sluice/version.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sluiced [--config FILE] [--data-dir DIR] [--override KEY=VALUE]...\n"
            "       sluiced --help | --help-markdown | --version\n\n"
            "With no configuration the embedded defaults apply (see --help).\n");
}

static struct sl_broker broker;
static struct sl_config cfg;

int main(int argc, char **argv)
{
    const char *config_file = NULL, *data_dir = NULL;
    const char *overrides[64];
    int n_over = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            printf("\n");
            sl_config_print_help(stdout);
            return 0;
        } else if (strcmp(a, "--help-markdown") == 0) {
            sl_config_print_markdown(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("sluiced %s\n", SLUICE_VERSION);
            return 0;
        } else if ((strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) && i + 1 < argc) {
            config_file = argv[++i];
        } else if (strcmp(a, "--data-dir") == 0 && i + 1 < argc) {
            data_dir = argv[++i];
        } else if ((strcmp(a, "--override") == 0 || strcmp(a, "-o") == 0) && i + 1 < argc) {
            if (n_over == 64) {
                fprintf(stderr, "sluiced: too many --override options\n");
                return 2;
            }
            overrides[n_over++] = argv[++i];
        } else {
            fprintf(stderr, "sluiced: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    char err[1024] = "";
    sl_config_defaults(&cfg);
    if (config_file && sl_config_load_file(&cfg, config_file, err, sizeof(err)) != SL_ERR_NONE) {
        fprintf(stderr, "sluiced: %s\n", err);
        return 1;
    }
    if (data_dir &&
        sl_config_set_from(&cfg, "--data-dir", "sluice.data.dir", data_dir, err, sizeof(err)) != SL_ERR_NONE) {
        fprintf(stderr, "sluiced: %s\n", err);
        return 1;
    }
    for (int i = 0; i < n_over; i++) {
        char key[256];
        const char *eq = strchr(overrides[i], '=');
        if (!eq || eq == overrides[i] || (size_t)(eq - overrides[i]) >= sizeof(key)) {
            fprintf(stderr, "sluiced: --override %s: expected KEY=VALUE\n", overrides[i]);
            return 1;
        }
        memcpy(key, overrides[i], (size_t)(eq - overrides[i]));
        key[eq - overrides[i]] = '\0';
        if (sl_config_set(&cfg, key, eq + 1, err, sizeof(err)) != SL_ERR_NONE) {
            fprintf(stderr, "sluiced: %s\n", err);
            return 1;
        }
    }
    if (sl_config_validate(&cfg, err, sizeof(err)) != SL_ERR_NONE ||
        sl_config_check_insecure(&cfg, err, sizeof(err)) != SL_ERR_NONE) {
        fprintf(stderr, "sluiced: %s\n", err);
        return 1;
    }
    sl_log_min_level = sl_config_loglevel(&cfg);

    /* Signals: handled synchronously by this thread (sigwait); every other
     * thread inherits the blocked mask. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    SL_INFO("broker", "sluiced %s starting", SLUICE_VERSION);
    sl_config_log(&cfg);
    if (sl_broker_start(&broker, &cfg, err, sizeof(err)) < 0) {
        SL_ERROR("broker", "start failed: %s", err);
        fprintf(stderr, "sluiced: %s\n", err);
        return 1;
    }
    SL_INFO("broker", "ready");
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            SL_INFO("broker", "SIGHUP: reloading TLS keys, certificates and CRLs");
            sl_audit_reload("sighup", NULL, true, "TLS keys, certificates and CRLs reloaded");
            sl_broker_reload_tls(&broker, true);
            continue;
        }
        SL_INFO("broker", "received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    sl_broker_stop(&broker);
    sl_config_free(&cfg);
    return 0;
}
