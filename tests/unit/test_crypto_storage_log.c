/* SPDX-License-Identifier: Apache-2.0
 *
 * The partition log tests of test_storage_log.c, run on the sealing file
 * layer (encryption at rest) instead of plain POSIX files: every append,
 * read, roll, retention, recovery, fault and concurrency case must behave
 * the same when each batch is a sealed frame and reads go through pread.
 * The two tests that damage plaintext batch bytes on purpose are left out
 * (test_crypto_fileops.c and tests/integration/19-encryption-at-rest.py
 * damage sealed files instead).
 */
#include <stdlib.h>

#include "crypto/fileops_aead.h"
#include "crypto/keyring.h"
#include "storage/fileops.h"

static const struct sl_fileops *sealed_ops(void)
{
    static struct sl_keyring kr;
    static struct sl_fileops_aead *a;
    if (!a) {
        char err[128];
        if (sl_keyring_add(&kr, err, sizeof(err)) < 0)
            abort();
        a = sl_fileops_aead_new(&sl_fileops_posix, &kr);
    }
    return sl_fileops_aead_ops(a);
}

#define SL_TEST_BASE_OPS sealed_ops()
#define SL_TEST_PLAIN_FILES 0
#include "test_storage_log.c"
