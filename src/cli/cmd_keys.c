/* SPDX-License-Identifier: Apache-2.0
 *
 * `sluice keys rotate|rewrap`: key rotation for encryption at rest.
 *
 *   rotate  adds a key version (RAND_bytes) to the key file, atomically
 *           (a temporary file renamed over it) under a lock on the key
 *           file's directory, so it may run while the broker runs; the
 *           broker wraps new data keys with it from its next start or its
 *           next online rewrap. Refused with --keys-command: rotate in the
 *           key service instead.
 *   rewrap --data-dir DIR (offline: the broker stopped; the command takes
 *           the data directory's lock as the broker does) rewraps the data
 *           key of every sealed file (segments, the consumer offsets log,
 *           producer state snapshots) under the newest version, one header
 *           slot write + fdatasync per file (a crash leaves each file under
 *           its old or its new wrapping, both readable; run it again), and
 *           reseals the metadata store (write, fsync, rename). Afterwards no
 *           file needs an older version: it can be removed from the keyring.
 *   rewrap --bootstrap-server HOST:PORT [--command-config FILE] asks the
 *           running broker to do the same (keys_online.c) and waits.
 *
 * Left out: re-encrypting data with new data keys (a rewrap changes only the
 * wrapping; a compromised data key needs the segment rewritten).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "core/logging.h"
#include "core/mem.h"
#include "crypto/fileops_aead.h"
#include "crypto/key_provider.h"
#include "crypto/rewrap_walk.h"
#include "crypto/sealed_format.h"
#include "meta/meta_local.h"
#include "storage/producer_state.h"

static const char USAGE[] =
    "usage: sluice keys rotate --data-dir DIR [--keys-file FILE]\n"
    "       sluice keys rewrap --data-dir DIR [--log-dir DIR] [--keys-file FILE |\n"
    "                          --keys-command CMD]\n"
    "       sluice keys rewrap --bootstrap-server HOST:PORT [--command-config FILE]\n"
    "                          [--timeout SECONDS]\n"
    "Encryption-at-rest keys (docs/ENCRYPTION.md). rotate adds a new key version to\n"
    "the keyring (default DIR/keys/keyring), also while the broker runs; the broker\n"
    "uses it from its next start or online rewrap. rewrap rewraps every data key\n"
    "under the newest version, after which older versions can be removed from the\n"
    "keyring: with --data-dir on a stopped broker's data directory, with\n"
    "--bootstrap-server through the running broker (a super user: ALTER_CONFIGS on\n"
    "the cluster), waiting at most --timeout seconds (default 3600) for the outcome.\n"
    "--log-dir: the partition logs when log.dirs is not DIR/logs.\n";

/* Reseals the metadata store under the newest key. 1 done, 0 none, -1. */
static int reseal_meta(const char *data_dir, const struct sl_keyring *kr)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof(path), "%s/meta/%s", data_dir, SL_META_LOCAL_FILE);
    snprintf(tmp, sizeof(tmp), "%s/meta/%s", data_dir, SL_META_LOCAL_TMP);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return errno == ENOENT ? 0 : -1;
    size_t cap = SL_META_LOCAL_MAX_FILE + 1, n;
    uint8_t *buf = sl_xmalloc(cap), *pt = NULL, *sealed = NULL;
    n = fread(buf, 1, cap, fp);
    fclose(fp);
    size_t ptn = 0, sn = 0;
    int rc = -1, fd = -1;
    int e = sl_sealed_blob_open(kr, SL_META_LOCAL_FILE, buf, n, &pt, &ptn);
    if (e < 0) {
        fprintf(stderr, "sluice: %s: cannot open: %s\n", path, strerror(-e));
        goto out;
    }
    e = sl_sealed_blob_seal(kr, SL_META_LOCAL_FILE, pt, ptn, &sealed, &sn);
    if (e < 0)
        goto out;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || write(fd, sealed, sn) != (ssize_t)sn || fsync(fd) != 0 || close(fd) != 0) {
        fprintf(stderr, "sluice: %s: cannot write: %s\n", tmp, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "sluice: %s: cannot rename: %s\n", tmp, strerror(errno));
        goto out;
    }
    char mdir[4200];
    snprintf(mdir, sizeof(mdir), "%s/meta", data_dir);
    int dfd = open(mdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 1;
out:
    if (pt) {
        OPENSSL_cleanse(pt, ptn);
        free(pt);
    }
    free(sealed);
    free(buf);
    return rc;
}

int sl_cli_keys(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? SLUICE_CLI_EXIT_USAGE : SLUICE_CLI_EXIT_OK;
    }
    const char *verb = argv[1], *log_dir = NULL, *timeout = NULL;
    bool rotate = strcmp(verb, "rotate") == 0;
    if (!rotate && strcmp(verb, "rewrap") != 0)
        return sl_cli_usage_error("keys", "unknown keys command '%s' (rotate, rewrap)", verb);
    struct sl_cli_target t = {0};
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = sl_cli_target_opt(&t, argc, argv, &i)) != 0 ||
            (r = sl_cli_opt("--log-dir", argc, argv, &i, &log_dir)) != 0 ||
            (r = sl_cli_opt("--timeout", argc, argv, &i, &timeout)) != 0) {
            if (r < 0)
                return SLUICE_CLI_EXIT_USAGE;
        } else {
            return sl_cli_usage_error("keys", "unexpected argument '%s'", argv[i]);
        }
    }
    bool online = t.bootstrap || t.command_config;
    if (online && (rotate || t.data_dir || t.keys_file || t.keys_command || log_dir))
        return sl_cli_usage_error("keys", rotate ? "rotate works on the key file: give --data-dir "
                                                   "DIR (the broker may run)"
                                                 : "rewrap works either online "
                                                   "(--bootstrap-server, --command-config) or "
                                                   "offline (--data-dir and its options)");
    if (timeout && !online)
        return sl_cli_usage_error("keys", "--timeout is for the online rewrap");
    if (online) {
        char *end = NULL;
        long secs = timeout ? strtol(timeout, &end, 10) : 3600;
        if (timeout && (!*timeout || *end || secs < 1 || secs > 604800))
            return sl_cli_usage_error("keys", "--timeout %s: seconds, 1 to 604800", timeout);
        return sl_cli_keys_rewrap_online(&t, (int)secs);
    }
    if (!t.data_dir)
        return sl_cli_usage_error("keys", "say where: --data-dir DIR, or for an online rewrap "
                                          "--bootstrap-server HOST:PORT");
    if (rotate && t.keys_command)
        return sl_cli_fail("the keys come from --keys-command: add the new version in the key "
                           "service, then run 'sluice keys rewrap'");
    if (!sl_keys_marker_present(t.data_dir))
        return sl_cli_fail("%s is not encrypted at rest (no %s/%s)", t.data_dir, t.data_dir,
                           SL_ENCRYPTION_MARKER);
    /* rotate: a lock on the key file's directory (two rotations at once
     * would lose a version); the file is replaced by a rename, so the
     * broker, which reads it only at start and at an online rewrap, sees
     * the old or the new file whole. rewrap offline: the broker's own lock,
     * refused while it runs. */
    char lpath[4200], kpath[4200];
    sl_keys_default_path(t.data_dir, t.keys_file, kpath, sizeof(kpath));
    if (rotate)
        snprintf(lpath, sizeof(lpath), "%s", dirname(kpath));
    else
        snprintf(lpath, sizeof(lpath), "%s/.lock", t.data_dir);
    int lock = rotate ? open(lpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                      : open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, rotate ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
        if (lock >= 0)
            close(lock);
        if (rotate)
            return sl_cli_fail("%s: cannot lock: %s", lpath, strerror(errno));
        return sl_cli_fail("%s is in use (is the broker running?): use 'sluice keys rewrap "
                           "--bootstrap-server HOST:PORT' for an online rewrap",
                           t.data_dir);
    }
    sl_log_min_level = SL_LOG_ERROR;
    struct sl_keyring kr = {0};
    char err[1024];
    bool created;
    int rc = SLUICE_CLI_EXIT_FAIL;
    if (sl_keys_load(t.data_dir, t.keys_file, t.keys_command, false, &kr, &created, err,
                     sizeof(err)) < 0) {
        sl_cli_fail("%s", err);
        goto out;
    }
    if (rotate) {
        char path[4200];
        sl_keys_default_path(t.data_dir, t.keys_file, path, sizeof(path));
        if (sl_keyring_add(&kr, err, sizeof(err)) < 0 ||
            sl_keyring_store_file(path, &kr, err, sizeof(err)) < 0) {
            sl_cli_fail("%s", err);
            goto out;
        }
        printf("added key version %u to %s; the broker uses it from its next start or its "
               "next online rewrap; run 'sluice keys rewrap' to move existing data keys to it\n",
               sl_keyring_newest(&kr)->version, path);
        rc = SLUICE_CLI_EXIT_OK;
        goto out;
    }
    struct sl_rewrap_stats st = {0};
    struct sl_fileops_aead *layer = sl_fileops_aead_new(&sl_fileops_posix, &kr);
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/logs", t.data_dir);
    sl_rewrap_tree(layer, log_dir ? log_dir : dir, &st, NULL);
    snprintf(dir, sizeof(dir), "%s/internal", t.data_dir);
    sl_rewrap_tree(layer, dir, &st, NULL);
    sl_fileops_aead_free(layer);
    int m = reseal_meta(t.data_dir, &kr);
    if (m < 0)
        st.failed++;
    printf("rewrapped %lld file(s) under key version %u (%lld already were)%s\n",
           (long long)st.rewrapped,
           sl_keyring_newest(&kr)->version, (long long)st.current,
           m > 0 ? "; resealed the metadata store" : "");
    if (st.failed) {
        sl_cli_fail("%lld file(s) failed: keep the older key versions", (long long)st.failed);
        goto out;
    }
    printf("no file needs a key version older than %u any more\n",
           sl_keyring_newest(&kr)->version);
    rc = SLUICE_CLI_EXIT_OK;
out:
    sl_keyring_free(&kr);
    close(lock);
    return rc;
}
