/* SPDX-License-Identifier: Apache-2.0
 *
 * Kafka's ssl.principal.mapping.rules: maps the subject DN of a client
 * certificate (RFC 2253, as tls/tls_dn.h writes it) to the principal name
 * that ACLs and quotas see. Semantics of Kafka 4.1 (apache/kafka
 * SslPrincipalMapper, DefaultKafkaPrincipalBuilder, SocketServer):
 *
 * Syntax. The spec is trimmed (characters <= U+0020 at both ends), then cut
 * into rules at commas. A rule is DEFAULT or RULE:pattern/replacement/ with
 * an optional L or U after the last slash. A '/' or a backslash inside the
 * pattern or the replacement is written escaped (\/ or \\); commas need no
 * escape, because a RULE: rule runs to its third unescaped '/' and only then
 * looks for the comma, so "RULE:^CN=(.*?),OU=(.*?)$/$1/L, DEFAULT" is two
 * rules. Blanks (space, \t, \n, \v, \f, \r) around a rule and around each
 * comma are dropped; blanks inside a pattern or replacement are kept. Empty
 * rules (",,", a leading or trailing comma) are ignored, so "" and "," are
 * valid specs with no rules: every DN then fails to map. Text after the
 * L/U flag, a lower-case "default" or "rule:", or a RULE: with fewer than
 * three slashes is an error. Kafka's quirk is kept: a line break is no
 * separator, and when one sits outside a pattern and replacement before the
 * next comma, the text before it is silently dropped ("DEFAULT\nRULE:a/b/"
 * is the one rule RULE:a/b/).
 *
 * Mapping. Rules are tried in order and the first that applies wins. DEFAULT
 * applies to every DN and yields it unchanged (it takes no L/U). A RULE
 * applies when its pattern matches the whole DN (Java's Matcher.matches());
 * the result is then Java's dn.replaceAll(pattern, replacement): every match
 * of the pattern found by scanning from the left is replaced, so a pattern
 * without ^...$ can give a surprising result, e.g. "CN=(.*?)" with "$1" maps
 * "CN=a,O=b" to "a,O=b", and "(.*)" with "x$1" maps "abc" to "xabcx".
 * The replacement uses Java's syntax: $n (digits are taken while they name
 * a group), ${name}, and \c for a literal c. Before replacing, Kafka turns a
 * $n whose number exceeds the pattern's group count into a literal "$n"
 * (after dropping trailing digits while they name no group), but only when the
 * pattern has at least one group; that rewrite is reproduced, including its
 * misplaced backslash when a replacement holds two or more such references.
 * L or U then lower- or upper-cases the whole result as Java's
 * String.toLowerCase/toUpperCase(Locale.ENGLISH) do (Unicode simple case
 * mappings, U+0130 to "i\u0307", the one-to-many upper-case mappings such as
 * "ß" to "SS"; Greek final sigma is not special-cased).
 *
 * Failure. If no rule applies, Kafka's mapper throws NoMatchingRule; the
 * principal builder turns it into a KafkaException, and the broker's network
 * thread catches it when the connection's first request is read, logs
 * "Exception while processing request from ...", and closes the connection
 * without a response. The TLS handshake itself has succeeded. A replacement
 * that Java rejects when the rule applies ("$" at the end, "$x", an unknown
 * ${name}, a $n the rewrite leaves alone though no group has that number:
 * any $n in a pattern without groups, the second of two such references)
 * has the same outcome, and so does a match that runs past the backtracking
 * limit here. sl_principal_rules_apply returns -1 for all of them; the
 * caller must then close the connection. A client that sends no certificate
 * is ANONYMOUS in Kafka and is never mapped.
 *
 * Patterns are Java regexes compiled with PCRE2 in UTF mode: the constructs
 * people write in these rules (classes, lazy and possessive quantifiers,
 * groups, named groups, look-around, \s \d \w \b, (?i), ^ $) mean the same.
 * Known differences: Java-only syntax (\p{Alpha}, \p{javaLowerCase}, \uXXXX,
 * class intersection [a&&b]) is refused at parse time, while a few patterns
 * Java refuses are accepted (a '{' that starts no quantifier is a literal,
 * "\x" without two hex digits is NUL); (?i) also folds non-ASCII letters,
 * which Java does only with (?u); '.' and '$' also treat \v and \f as line
 * ends. Text is UTF-8 (Kafka reads server.properties as ISO-8859-1 and so
 * needs \uXXXX escapes for non-ASCII; Sluice's properties parser reads UTF-8
 * and decodes \uXXXX itself); no pattern matches ill-formed UTF-8 in a DN.
 */
#ifndef SL_SECURITY_AUTHN_PRINCIPAL_RULES_H
#define SL_SECURITY_AUTHN_PRINCIPAL_RULES_H

#include <stddef.h>

/* A parsed, compiled rule list. Immutable once parsed: any number of threads
 * may call sl_principal_rules_apply on one object at the same time. */
struct sl_principal_rules;

/* Parses spec (borrowed, NUL-terminated; NULL means Kafka's default,
 * "DEFAULT") and compiles its patterns. Returns a new rule list (caller frees
 * with sl_principal_rules_free), or NULL with err set to
 * "rule N 'TEXT': reason", N counting the non-empty rules from 1 (for
 * instance "rule 2 'RULE:^CN=(.*$/$1/': bad pattern at offset 9: missing
 * closing parenthesis"). Allocations that fail abort (sl_xmalloc). Any
 * thread. */
struct sl_principal_rules *sl_principal_rules_parse(const char *spec, char *err, size_t errlen);

/* Maps dn (borrowed, NUL-terminated UTF-8, normally from sl_tls_subject_dn)
 * to a principal name written NUL-terminated into out[0..outlen). Returns 0,
 * or -1 when the DN must be refused: no rule applies, the applying rule's
 * replacement is invalid, the match exceeds the backtracking limit, or the
 * name does not fit in outlen. On -1, out holds a reason for the log (never
 * a principal). Allocates only temporary memory. Thread-safe. */
int sl_principal_rules_apply(const struct sl_principal_rules *r, const char *dn, char *out,
                             size_t outlen);

/* Writes the rule list as Kafka's SslPrincipalMapper.toString() shows it,
 * e.g. "[RULE:^CN=(.*?),OU=(.*?)$/$1/L, DEFAULT]" (a rule without a flag
 * prints without its last '/'), for start-up logs. Returns 0, or -1 if it
 * was cut to fit outlen. Thread-safe. */
int sl_principal_rules_format(const struct sl_principal_rules *r, char *out, size_t outlen);

/* Frees r (taken; NULL is fine). */
void sl_principal_rules_free(struct sl_principal_rules *r);

#endif
