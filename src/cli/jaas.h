/* SPDX-License-Identifier: Apache-2.0
 *
 * A parser for the one JAAS login module entry of Kafka's client property
 * sasl.jaas.config, as Kafka's JaasConfig reads it:
 *
 *   <LoginModuleClass> <flag> [<key>=<value>]... ;
 *
 * flag is required, requisite, sufficient or optional; a value is a word
 * or a double-quoted string in which a backslash escapes the next
 * character (\" \\, and \n \t \r as in Java's StreamTokenizer). Exactly one
 * entry (Kafka refuses more). Of the options only username and password
 * are kept; the others are accepted and ignored (Kafka passes them to the
 * module). The text is untrusted user input, bounded by its length.
 */
#ifndef SL_CLI_JAAS_H
#define SL_CLI_JAAS_H

#include <stddef.h>

/* Limit on the text (bytes). */
#define SL_JAAS_MAX 16384

/* A parsed entry; strings are new memory (sl_jaas_clear frees them, and
 * wipes the password). */
struct sl_jaas {
    char *module;   /* e.g. org.apache.kafka.common.security.scram.ScramLoginModule */
    char *flag;     /* required | requisite | sufficient | optional */
    char *username; /* NULL when absent */
    char *password; /* NULL when absent */
};

/* Parses text[0..len) (borrowed) into *out (zeroed first). Returns 0, or
 * -1 with err saying what is wrong and where (never echoing the password);
 * *out is cleared on failure. */
int sl_jaas_parse(const char *text, size_t len, struct sl_jaas *out, char *err, size_t errlen);

/* Frees the strings of j (wiping the password) and zeroes it. */
void sl_jaas_clear(struct sl_jaas *j);

#endif
