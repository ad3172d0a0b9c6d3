/* SPDX-License-Identifier: Apache-2.0
 *
 * Encryption at rest at broker start and stop (see encryption.h). The
 * warnings are deliberately loud: a key next to the data it protects only
 * protects against a stolen disk image that leaves the key file out.
 */
#include "server/encryption.h"

#include <inttypes.h>
#include <string.h>

#include "config/config.h"
#include "core/logging.h"
#include "core/mem.h"
#include "crypto/fileops_aead.h"
#include "crypto/key_provider.h"
#include "crypto/readahead.h"
#include "server/broker.h"
#include "server/key_rewrap.h"
#include "storage/fileops.h"

_Static_assert(SL_RA_SLOT_BYTES == 4u << 20, "sluice.encryption.readahead.bytes documents 4 MiB buffers");

int sl_broker_encryption_start(struct sl_broker *b, char *err, size_t errlen)
{
    const struct sl_config *cfg = b->cfg;
    b->fops = &sl_fileops_posix;
    if (!cfg->encryption_enable) {
        if (sl_keys_marker_present(cfg->data_dir)) {
            snprintf(err, errlen, "the data in %s is encrypted at rest (%s/%s), but "
                                  "sluice.encryption.enable=false: refusing to start",
                     cfg->data_dir, cfg->data_dir, SL_ENCRYPTION_MARKER);
            return -1;
        }
        SL_WARN("crypto", "ENCRYPTION AT REST IS OFF (sluice.encryption.enable=false): records, "
                          "offsets and producer state are written to %s in the clear",
                cfg->data_dir);
        return 0;
    }
    b->keyring = sl_xcalloc(1, sizeof(*b->keyring));
    bool created = false;
    if (sl_keys_load(cfg->data_dir, cfg->keys_file, cfg->keys_command, true, b->keyring,
                     &created, err, errlen) < 0)
        return -1;
    char path[4200];
    sl_keys_default_path(cfg->data_dir, cfg->keys_file, path, sizeof(path));
    bool by_command = cfg->keys_command && cfg->keys_command[0];
    if (created)
        SL_WARN("crypto", "created a new keyring %s with one random key: back it up; without it "
                          "the data cannot be read",
                path);
    if (!by_command && strncmp(path, cfg->data_dir, strlen(cfg->data_dir)) == 0)
        SL_WARN("crypto", "THE ENCRYPTION KEYS ARE IN THE DATA DIRECTORY (%s): anyone with a copy "
                          "of the volume has the keys too. In production keep the keyring on "
                          "another volume (sluice.keys.file) or in a key service "
                          "(sluice.keys.command)",
                path);
    /* The first start with encryption on may find plaintext written
     * before (a metadata store made by `sluice user add --data-dir`): it is
     * read once and rewritten sealed. Later, plaintext there is refused. */
    b->enc_first_start = !sl_keys_marker_present(cfg->data_dir);
    if (b->enc_first_start && sl_keys_marker_write(cfg->data_dir, err, errlen) < 0)
        return -1;
    b->aead = sl_fileops_aead_new(&sl_fileops_posix, b->keyring);
    sl_fileops_aead_set_readahead(b->aead, (size_t)cfg->encryption_readahead_bytes);
    b->fops = sl_fileops_aead_ops(b->aead);
    sl_key_rewrap_init(b);
    SL_INFO("crypto", "encryption at rest on: AES-256-GCM per batch, data keys wrapped by key "
                      "version %u of %zu (%s)",
            sl_keyring_newest(b->keyring)->version, b->keyring->n,
            by_command ? "from sluice.keys.command" : path);
    return 0;
}

void sl_broker_encryption_stop(struct sl_broker *b)
{
    struct sl_ra_stats st;
    if (b->aead && sl_fileops_aead_readahead_stats(b->aead, &st))
        SL_INFO("crypto", "read-ahead: %" PRIu64 " runs queued, %" PRIu64 " decrypted ahead, %" PRIu64
                          " MiB served from them, %" PRIu64 " taken over by a reader, %" PRIu64
                          " waited for, %" PRIu64 " idle buffers given back",
                st.queued, st.filled, st.hit_bytes >> 20, st.cancelled, st.waited, st.given_back);
    sl_key_rewrap_free(b); /* the keyrings it loaded: the layer's users are gone */
    sl_fileops_aead_free(b->aead);
    b->aead = NULL;
    if (b->keyring) {
        sl_keyring_free(b->keyring);
        sl_free(&b->keyring);
    }
    b->fops = &sl_fileops_posix;
}
