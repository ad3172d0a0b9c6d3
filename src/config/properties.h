/* SPDX-License-Identifier: Apache-2.0
 *
 * A parser for Java .properties text, with the semantics of
 * java.util.Properties.load: natural lines end with \n, \r or \r\n; a line
 * whose first non-blank character is # or ! is a comment; an odd number of
 * backslashes at the end of a line continues it on the next one (whose
 * leading blanks are dropped); the key ends at the first unescaped '=', ':'
 * or blank, optionally followed by blanks and one '=' or ':'; the rest of the
 * line is the value, trailing blanks included. Escapes \t \n \r \f \uXXXX
 * (UTF-16 code units, surrogate pairs combined) and \c = c are decoded in
 * keys and values.
 *
 * Differences from Java, on purpose: the input is treated as UTF-8 bytes
 * (Java's InputStream variant reads ISO-8859-1), and NUL characters (a raw
 * byte or \u0000) and unpaired surrogates are errors, since keys and values
 * become C strings. The input is untrusted: every read is bounded by len.
 */
#ifndef SL_CONFIG_PROPERTIES_H
#define SL_CONFIG_PROPERTIES_H

#include <stddef.h>

#include "sluice/err.h"

/* Receives one key/value pair, in input order. key and value are
 * NUL-terminated and borrowed for the call only; line is the 1-based number
 * of the line where the pair starts. Return SL_ERR_NONE to go on; any other
 * value stops the parse and is returned by sl_properties_parse (the callback
 * writes its own message into err). */
typedef sl_err_t (*sl_properties_cb)(void *arg, const char *key, const char *value, int line,
                                     char *err, size_t errlen);

/* Parses buf[0..len) (borrowed, need not be NUL-terminated) and calls cb for
 * each pair. Returns SL_ERR_NONE, the callback's error, or SL_ERR__INVAL for
 * malformed text with err = "NAME:LINE: reason" (name borrowed, used only in
 * messages). Thread-safe (no shared state). */
sl_err_t sl_properties_parse(const char *name, const char *buf, size_t len, sl_properties_cb cb,
                             void *arg, char *err, size_t errlen);

#endif
