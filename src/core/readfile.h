/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading a whole small file (configuration, key material, a password)
 * into memory, with a size limit checked before anything large is
 * allocated.
 */
#ifndef SL_CORE_READFILE_H
#define SL_CORE_READFILE_H

#include <stddef.h>

/* Reads the regular file at path (borrowed). Returns new memory (caller
 * frees; wipe it first if it held a secret) of *len bytes plus a NUL, or
 * NULL with err = "PATH: reason" (cannot open, not a regular file, larger
 * than max bytes, read error). */
char *sl_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
