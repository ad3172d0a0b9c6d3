/* SPDX-License-Identifier: Apache-2.0
 *
 * CRC-32C (Castagnoli), as record batches v2 use it. Uses the SSE4.2
 * instruction when the CPU has it, a table otherwise.
 */
#ifndef SL_CORE_CRC32C_H
#define SL_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: pass 0 to start. Returns the final (xor-ed) value. */
uint32_t sl_crc32c(uint32_t crc, const void *data, size_t len);

#endif
