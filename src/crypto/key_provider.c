/* SPDX-License-Identifier: Apache-2.0
 *
 * Key provider selection and the encryption marker (see key_provider.h).
 */
#include "crypto/key_provider.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void sl_keys_default_path(const char *data_dir, const char *keys_file, char *out, size_t n)
{
    if (keys_file && keys_file[0])
        snprintf(out, n, "%s", keys_file);
    else
        snprintf(out, n, "%s/keys/keyring", data_dir);
}

bool sl_keys_marker_present(const char *data_dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", data_dir, SL_ENCRYPTION_MARKER);
    return access(path, F_OK) == 0;
}

int sl_keys_marker_write(const char *data_dir, char *err, size_t errlen)
{
    char path[4200];
    static const char text[] = "sluice-encryption 1\n";
    snprintf(path, sizeof(path), "%s/%s", data_dir, SL_ENCRYPTION_MARKER);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1) ||
        fsync(fd) < 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

int sl_keys_load(const char *data_dir, const char *keys_file, const char *keys_command,
                 bool create, struct sl_keyring *kr, bool *created, char *err, size_t errlen)
{
    *created = false;
    if (keys_command && keys_command[0])
        return sl_keyring_load_command(keys_command, kr, err, errlen);
    char path[4200];
    sl_keys_default_path(data_dir, keys_file, path, sizeof(path));
    bool marked = sl_keys_marker_present(data_dir);
    int rc = sl_keyring_load_file(path, create && !marked, kr, created, err, errlen);
    if (rc < 0 && marked && access(path, F_OK) != 0) {
        snprintf(err, errlen, "key file %s is missing, but the data in %s is encrypted at rest "
                              "(%s/%s): restore the keyring, or point sluice.keys.file or "
                              "sluice.keys.command at it",
                 path, data_dir, data_dir, SL_ENCRYPTION_MARKER);
    }
    return rc;
}
