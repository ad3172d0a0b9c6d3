/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the certificate subject printer (src/tls/tls_dn.c):
 * the input is a DER-encoded X.500 Name, as a peer's certificate carries
 * it. It is printed into a roomy buffer and into small ones; the output must
 * be NUL-terminated within the buffer, and a print that fits must give the
 * same string in every buffer it fits. Seed corpus: fuzz/corpus/tls_dn/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls_dn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char big[1 << 16];
    char small[32];
    int rc = sl_tls_dn_from_der(data, size, big, sizeof big);
    if (strlen(big) >= sizeof big || (rc != 0 && big[0] != '\0'))
        abort();
    int rc2 = sl_tls_dn_from_der(data, size, small, sizeof small);
    if (strlen(small) >= sizeof small)
        abort();
    if (rc2 == 0 && (rc != 0 || strcmp(small, big) != 0))
        abort(); // fitting in the small buffer means fitting in the big one
    if (rc == 0 && strlen(big) < sizeof small && rc2 != 0)
        abort();
    return 0;
}
