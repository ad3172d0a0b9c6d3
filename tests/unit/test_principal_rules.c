/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of src/security/authn/principal_rules: Kafka's
 * ssl.principal.mapping.rules. Every expected value in the tables below was
 * checked against Kafka 4.1.2's own SslPrincipalMapper (kafka-clients jar):
 * the rule lists as its toString() shows them, which specs it refuses, and
 * what getName() returns for each DN, or whether it throws. The examples of
 * Kafka's documentation and of its SslPrincipalMapperTest are among them.
 * The one case where Sluice differs on purpose (a match that runs past the
 * backtracking limit) has its own test.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/authn/principal_rules.h"
#include "test_help.h"

static int n_cases; // table rows checked, for the summary

/* The example of Kafka's documentation (security.html, "Customizing SSL User
 * Name"). */
#define DOCS_RULES                                                                                 \
    "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,"                                                       \
    "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,"                           \
    "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,"                                                    \
    "DEFAULT"

/* The rule list of Kafka's SslPrincipalMapperTest.testSslPrincipalMapper. */
#define KAFKA_TEST_RULES                                                                           \
    "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, "                                                     \
    "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, "                          \
    "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, "                                         \
    "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, "                                                   \
    "DEFAULT"

/* ---- splitting and parsing ---- */

/* Specs that parse, and the rule list as Kafka's toString() prints it. */
static const struct {
    const char *spec, *list;
} parse_ok[] = {
    {"DEFAULT", "[DEFAULT]"},
    {NULL, "[DEFAULT]"}, // Kafka's default when the key is absent
    {"", "[]"},
    {",   , , ,      , , ,   ", "[]"},
    {"RULE://", "[RULE:/]"},
    {"RULE:/.*/", "[RULE:/.*]"},
    {"RULE:/.*/L", "[RULE:/.*/L]"},
    {"RULE://,DEFAULT", "[RULE:/, DEFAULT]"},
    {"  RULE:// ,  DEFAULT  ", "[RULE:/, DEFAULT]"},
    {"  RULE:   /     / ,  DEFAULT  ", "[RULE:   /     , DEFAULT]"},
    {"  RULE:  /     /U   ,DEFAULT  ", "[RULE:  /     /U, DEFAULT]"},
    {"  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ",
     "[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]"},
    {",,RULE://,,,DEFAULT,,", "[RULE:/, DEFAULT]"},
    {",  , RULE: /   /    ,,,   DEFAULT, ,   ", "[RULE: /   , DEFAULT]"},
    {"     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,", "[RULE:   /  /U, DEFAULT]"},
    /* Escapes: \/ and \\ stay in the pattern and the replacement as written. */
    {"RULE:\\/\\\\\\(\\)\\n\\t/\\/\\//", "[RULE:\\/\\\\\\(\\)\\n\\t/\\/\\/]"},
    {"RULE:\\**\\/+/*/L,RULE:\\/*\\**/**/", "[RULE:\\**\\/+/*/L, RULE:\\/*\\**/**]"},
    /* Commas inside a RULE need no escape: a rule ends at its third '/'. */
    {"RULE:,RULE:,/,RULE:,\\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, "
     "/DEFAULT/,DEFAULT",
     "[RULE:,RULE:,/,RULE:,\\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, "
     "/DEFAULT, DEFAULT]"},
    {"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/", "[RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1]"},
    {"RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/", "[RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1]"},
    {"RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
     "[RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U]"},
    {DOCS_RULES, "[RULE:^CN=(.*?),OU=ServiceUsers.*$/$1, "
                 "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, "
                 "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L, DEFAULT]"},
    /* Blanks, line breaks included, around rules and commas are dropped. */
    {"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,\n  RULE:^CN=(.*?),OU=(.*?)$/$1@$2/L,\n  DEFAULT",
     "[RULE:^CN=(.*?),OU=ServiceUsers.*$/$1, RULE:^CN=(.*?),OU=(.*?)$/$1@$2/L, DEFAULT]"},
    {"\tDEFAULT\r\n", "[DEFAULT]"},
    {"RULE:a/b/\n,DEFAULT", "[RULE:a/b, DEFAULT]"},
    /* ...but a line break is no separator: the text before it is dropped. */
    {"DEFAULT\nRULE:a/b/", "[RULE:a/b]"},
    /* Inside a pattern, a line break is just a character. */
    {"RULE:a\nb/c/", "[RULE:a\nb/c]"},
};

static void test_parse_ok(void)
{
    for (size_t i = 0; i < sizeof parse_ok / sizeof parse_ok[0]; i++, n_cases++) {
        char err[512], list[1024];
        struct sl_principal_rules *r = sl_principal_rules_parse(parse_ok[i].spec, err, sizeof err);
        if (!r)
            fprintf(stderr, "  spec '%s': %s\n", parse_ok[i].spec, err);
        CHECK(r != NULL);
        CHECK(err[0] == '\0');
        CHECK_EQ_INT(sl_principal_rules_format(r, list, sizeof list), 0);
        if (strcmp(list, parse_ok[i].list) != 0)
            fprintf(stderr, "  spec '%s': got %s\n", parse_ok[i].spec, list);
        CHECK(strcmp(list, parse_ok[i].list) == 0);
        sl_principal_rules_free(r);
    }
}

/* Specs Kafka refuses, with the message Sluice gives. */
static const struct {
    const char *spec, *err;
} parse_bad[] = {
    {"default",
     "rule 1 'default': expected DEFAULT or RULE:pattern/replacement/ and an optional L or U"},
    {"DEFAUL", "rule 1 'DEFAUL': expected DEFAULT or RULE:pattern/replacement/ and an optional "
               "L or U"},
    {"DEFAULT/L", "rule 1 'DEFAULT/L': unexpected '/L' after the rule"},
    {"DEFAULT/U", "rule 1 'DEFAULT/U': unexpected '/U' after the rule"},
    {"DEFAULT DEFAULT", "rule 1 'DEFAULT DEFAULT': unexpected ' DEFAULT' after the rule"},
    {"rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
     "rule 1 'rule:^CN=(.*?)': expected DEFAULT or RULE:pattern/replacement/ and an optional L "
     "or U"},
    /* Without its last '/', a RULE ends at the next comma, inside the pattern. */
    {"RULE:CN=(.*?),OU=ServiceUsers.*/$1",
     "rule 1 'RULE:CN=(.*?)': expected RULE:pattern/replacement/ and an optional L or U (a rule "
     "that lacks its third unescaped '/' ends at the next comma)"},
    {"RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
     "rule 1 'RULE:^CN=(.*?)': expected RULE:pattern/replacement/ and an optional L or U (a rule "
     "that lacks its third unescaped '/' ends at the next comma)"},
    {"RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
     "rule 1 'RULE:^CN=(.*?)': expected RULE:pattern/replacement/ and an optional L or U (a rule "
     "that lacks its third unescaped '/' ends at the next comma)"},
    {"RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
     "rule 1 'RULE:^CN=(.*?)': expected RULE:pattern/replacement/ and an optional L or U (a rule "
     "that lacks its third unescaped '/' ends at the next comma)"},
    {"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
     "rule 1 'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U': unexpected '/U' after the rule"},
    {"RULE:a/b/Lxyz, DEFAULT", "rule 1 'RULE:a/b/Lxyz': unexpected 'xyz' after the rule"},
    {"RULE:a/b/ L", "rule 1 'RULE:a/b/ L': unexpected ' L' after the rule"},
    /* A lone backslash at the end cannot escape anything. */
    {"RULE:abc\\",
     "rule 1 'RULE:abc\\': expected RULE:pattern/replacement/ and an optional L or U (a rule "
     "that lacks its third unescaped '/' ends at the next comma)"},
    {"RULE:a/b\\/",
     "rule 1 'RULE:a/b\\/': expected RULE:pattern/replacement/ and an optional L or U (a rule "
     "that lacks its third unescaped '/' ends at the next comma)"},
    /* Numbering counts the rules, empty ones left out; the pattern is PCRE2's. */
    {",, DEFAULT, RULE:^CN=(.*$/$1/",
     "rule 2 'RULE:^CN=(.*$/$1/': bad pattern at offset 8: missing closing parenthesis"},
    {"RULE:^CN=(?<1x>a)$/$1/",
     "rule 1 'RULE:^CN=(?<1x>a)$/$1/': bad pattern at offset 7: subpattern name must start with "
     "a non-digit"},
    {"RULE:[z-a]/x/", "rule 1 'RULE:[z-a]/x/': bad pattern at offset 3: range out of order in "
                      "character class"},
};

static void test_parse_bad(void)
{
    for (size_t i = 0; i < sizeof parse_bad / sizeof parse_bad[0]; i++, n_cases++) {
        char err[512];
        struct sl_principal_rules *r = sl_principal_rules_parse(parse_bad[i].spec, err, sizeof err);
        CHECK(r == NULL);
        if (strcmp(err, parse_bad[i].err) != 0)
            fprintf(stderr, "  spec '%s': got \"%s\"\n", parse_bad[i].spec, err);
        CHECK(strcmp(err, parse_bad[i].err) == 0);
    }
    /* A message cut to a small buffer is still NUL-terminated. */
    char small[16];
    CHECK(sl_principal_rules_parse("RULE:x", small, sizeof small) == NULL);
    CHECK(strcmp(small, "rule 1 'RULE:x'") == 0);
    CHECK(sl_principal_rules_parse("RULE:x", NULL, 0) == NULL);
}

/* ---- mapping ---- */

#define NOMATCH ((const char *)0) // Kafka throws NoMatchingRule
#define REFUSED ((const char *)1) // Kafka throws another exception: same outcome

static const struct {
    const char *spec, *dn, *want;
} maps[] = {
    /* Kafka's documentation. */
    {DOCS_RULES, "CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown,ST=Unknown,C=Unknown",
     "serviceuser"},
    {DOCS_RULES, "CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown",
     "adminuser@admin"},
    {DOCS_RULES, "CN=Bob.Smith,O=Example", "bob.smith"},
    {DOCS_RULES, "OU=NoCommonName,O=Example", "OU=NoCommonName,O=Example"},
    /* Kafka's SslPrincipalMapperTest. */
    {KAFKA_TEST_RULES, "CN=Duke,OU=ServiceUsers,O=Org,C=US", "duke"},
    {KAFKA_TEST_RULES, "CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", "duke@sme"},
    {KAFKA_TEST_RULES, "cn=duke,ou=sme,dc=mycp,dc=com", "DUKE@SME"},
    {KAFKA_TEST_RULES, "cN=duke,OU=JavaSoft,O=Sun Microsystems", "DUKE"},
    {KAFKA_TEST_RULES, "OU=JavaSoft,O=Sun Microsystems,C=US",
     "OU=JavaSoft,O=Sun Microsystems,C=US"},
    {"RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/,DEFAULT", "CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz",
     "Tkac\\, Adam"},
    /* DEFAULT: the DN as it is. */
    {"DEFAULT", "CN=a\\,b\\+c,O=x", "CN=a\\,b\\+c,O=x"},
    {"DEFAULT", "", ""},
    {"DEFAULT", "CN=Zo\xc3\xab,O=\xce\xa9\xf0\x9f\x98\x80",
     "CN=Zo\xc3\xab,O=\xce\xa9\xf0\x9f\x98\x80"},
    /* First applying rule wins; no rule applying is a refusal. */
    {"RULE:^CN=([^,]+).*$/$1/", "CN=kafka-client,OU=Clients,O=Acme", "kafka-client"},
    {"RULE:^CN=([^,]+).*$/$1/", "CN=kafka-client", "kafka-client"},
    {"RULE:^CN=([^,]+).*$/$1/", "OU=Clients,O=Acme", NOMATCH},
    {"RULE:^CN=([^,]+).*$/$1/L, RULE:^OU=([^,]+).*$/ou-$1/U", "CN=MiXeD,O=x", "mixed"},
    {"RULE:^CN=([^,]+).*$/$1/L, RULE:^OU=([^,]+).*$/ou-$1/U", "OU=team,O=x", "OU-TEAM"},
    {"RULE:^CN=([^,]+).*$/$1/L, RULE:^OU=([^,]+).*$/ou-$1/U", "O=x", NOMATCH},
    {"RULE:^CN=a$/A/", "CN=a", "A"},
    {"RULE:^CN=a$/A/", "CN=b", NOMATCH},
    {"RULE:^CN=a$/A/", "CN=a,O=x", NOMATCH},
    {"", "CN=a", NOMATCH},
    {",", "CN=a", NOMATCH},
    /* The pattern must match the whole DN (matches()), then replaceAll()
     * replaces every match found from the left. */
    {"RULE:x*/-/", "xxy", NOMATCH},
    {"RULE:CN=(.*?)/$1/", "CN=a,O=b", "a,O=b"},
    {"RULE:(.*)/x$1/", "abc", "xabcx"},
    {"RULE:.*/X/", "abc", "XX"},
    {"RULE:.*/X/", "", "X"},
    {"RULE:^(.*)$/$0$0/", "ab", "abab"},
    /* Java's replacement syntax: \c is c, $n takes digits while they name a
     * group, ${name}. */
    {"RULE:^.*$/\\\\$0\\$/", "ab", "\\ab$"},
    {"RULE:(?<user>[^@]+)@(?<realm>.*)/${realm}\\/${user}/", "alice@EXAMPLE.COM",
     "EXAMPLE.COM/alice"},
    {"RULE:(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)?/$11-$10-$1-$111/", "abcdefghij", "-j-a-1"},
    /* Kafka's rewrite of references beyond the group count: with one group,
     * $2 is the text "$2", $12 is "$1" then "2"; $01 is group 0 then "1". */
    {"RULE:^CN=(x)$/$2/", "CN=x", "$2"},
    {"RULE:(.*)/$12/", "abc", "abc22"},
    {"RULE:(.*)/[$01]/", "abc", "[abc][]"},
    /* Its second insertion lands one character early: "$2$3" becomes
     * "\$\2$3", and $3 names no group. */
    {"RULE:(.*)/$2$3/", "abc", REFUSED},
    /* No rewrite without groups; invalid replacements. */
    {"RULE:.*/$1/", "abc", REFUSED},
    {"RULE:(.*)/$/", "abc", REFUSED},
    {"RULE:(.*)/$x/", "abc", REFUSED},
    {"RULE:(.*)/${nope}/", "abc", REFUSED},
    {"RULE:(.*)/$99999999999/", "abc", REFUSED},
    /* An invalid replacement refuses even when a later rule would apply. */
    {"RULE:(.*)/$/, DEFAULT", "abc", REFUSED},
    /* Case flags, as Java's toLowerCase/toUpperCase(Locale.ENGLISH). */
    {"RULE:(?i)^cn=([^,]+).*$/$1/U", "cn=alice,o=x", "ALICE"},
    {"RULE:(?i)^cn=([^,]+).*$/$1/U", "Cn=bob", "BOB"},
    {"RULE:^CN=([^,]+).*$/$1/U", "CN=stra\xc3\x9f" "e", "STRASSE"},
    {"RULE:^CN=([^,]+).*$/$1/U", "CN=\xef\xac\x81le", "FILE"},
    {"RULE:^CN=([^,]+).*$/$1/L", "CN=\xc4\xb0STANBUL", "i\xcc\x87stanbul"},
    {"RULE:^CN=([^,]+).*$/$1/L", "CN=\xc3\x80\xc3\x89\xc3\x8e", "\xc3\xa0\xc3\xa9\xc3\xae"},
    {"RULE:^CN=([^,]+).*$/$1/U", "CN=\xce\xb1\xce\xb2\xe1\xbe\x80", // αβᾀ
     "\xce\x91\xce\x92\xe1\xbc\x88\xce\x99"},                      // ΑΒἈΙ
};

static void test_map(void)
{
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++, n_cases++) {
        char err[512], out[1024];
        struct sl_principal_rules *r = sl_principal_rules_parse(maps[i].spec, err, sizeof err);
        if (!r)
            fprintf(stderr, "  spec '%s': %s\n", maps[i].spec, err);
        CHECK(r != NULL);
        int rc = sl_principal_rules_apply(r, maps[i].dn, out, sizeof out);
        sl_principal_rules_free(r);
        const char *want = maps[i].want;
        bool ok = want == NOMATCH   ? rc == -1 && strstr(out, "no principal mapping rule matches")
                  : want == REFUSED ? rc == -1 && strstr(out, "principal mapping rule 1 '")
                                    : rc == 0 && strcmp(out, want) == 0;
        if (!ok)
            fprintf(stderr, "  spec '%s' dn '%s': rc %d, '%s'\n", maps[i].spec, maps[i].dn, rc,
                    out);
        CHECK(ok);
    }
}

/* The reasons written on refusal name the rule, the cause and the DN. */
static void test_refusal_reasons(void)
{
    char err[256], out[512];
    struct sl_principal_rules *r = sl_principal_rules_parse("RULE:^CN=(x)$/$1/", err, sizeof err);
    CHECK(r != NULL);
    CHECK_EQ_INT(sl_principal_rules_apply(r, "CN=y,O=z", out, sizeof out), -1);
    CHECK(strcmp(out, "no principal mapping rule matches (DN 'CN=y,O=z')") == 0);
    sl_principal_rules_free(r);

    r = sl_principal_rules_parse("RULE:^CN=x$/$1/, DEFAULT", err, sizeof err);
    CHECK(r != NULL);
    CHECK_EQ_INT(sl_principal_rules_apply(r, "CN=x", out, sizeof out), -1);
    CHECK(strcmp(out, "principal mapping rule 1 'RULE:^CN=x$/$1/': replacement refers to a "
                      "group the pattern does not have (DN 'CN=x')") == 0);
    /* A DN the rule does not match goes on to DEFAULT. */
    CHECK_EQ_INT(sl_principal_rules_apply(r, "CN=y", out, sizeof out), 0);
    CHECK(strcmp(out, "CN=y") == 0);
    sl_principal_rules_free(r);
}

/* Kafka has no limit; Java even memoizes this loop and falls through to
 * DEFAULT. Sluice stops after a fixed amount of backtracking and refuses the
 * DN rather than guess. A sane rule on the same DN is unaffected. */
static void test_backtracking_limit(void)
{
    char err[256], out[512], dn[64];
    memset(dn, 'a', 40);
    strcpy(dn + 40, "b");
    struct sl_principal_rules *r = sl_principal_rules_parse("RULE:^(a+)+$/$1/, DEFAULT", err,
                                                            sizeof err);
    CHECK(r != NULL);
    CHECK_EQ_INT(sl_principal_rules_apply(r, dn, out, sizeof out), -1);
    CHECK(strstr(out, "exceeded the backtracking limit") != NULL);
    CHECK_EQ_INT(sl_principal_rules_apply(r, "aaaa", out, sizeof out), 0);
    CHECK(strcmp(out, "aaaa") == 0);
    sl_principal_rules_free(r);

    r = sl_principal_rules_parse("RULE:^(a+)$/$1/", err, sizeof err);
    CHECK(r != NULL);
    CHECK_EQ_INT(sl_principal_rules_apply(r, dn, out, sizeof out), -1);
    CHECK(strstr(out, "no principal mapping rule matches") != NULL);
    sl_principal_rules_free(r);
}

/* The output buffer: an exact fit works, one byte less is a refusal, for
 * DEFAULT and for a RULE; a replacement that multiplies the DN is capped. */
static void test_output_limits(void)
{
    char err[256], out[8], big[200];
    struct sl_principal_rules *r = sl_principal_rules_parse("RULE:^x(.*)$/$1/, DEFAULT", err,
                                                            sizeof err);
    CHECK(r != NULL);
    CHECK_EQ_INT(sl_principal_rules_apply(r, "x1234567", out, sizeof out), 0);
    CHECK(strcmp(out, "1234567") == 0);
    CHECK_EQ_INT(sl_principal_rules_apply(r, "x12345678", out, sizeof out), -1);
    CHECK(strlen(out) == sizeof out - 1); // a reason, cut to fit
    CHECK_EQ_INT(sl_principal_rules_apply(r, "1234567", out, sizeof out), 0);
    CHECK(strcmp(out, "1234567") == 0);
    CHECK_EQ_INT(sl_principal_rules_apply(r, "12345678", out, sizeof out), -1);
    CHECK_EQ_INT(sl_principal_rules_apply(r, "12345678", big, sizeof big), 0);
    CHECK(strcmp(big, "12345678") == 0);
    sl_principal_rules_free(r);

    /* Every empty match of x* is replaced: 1001 copies of 100 bytes. */
    char dn[1001], rep[200] = "RULE:x*/";
    memset(dn, 'x', 1000);
    dn[1000] = '\0';
    memset(rep + 8, 'y', 100);
    strcpy(rep + 108, "/");
    r = sl_principal_rules_parse(rep, err, sizeof err);
    CHECK(r != NULL);
    CHECK_EQ_INT(sl_principal_rules_apply(r, dn, big, sizeof big), -1);
    CHECK(strstr(big, "mapped name too long") != NULL);
    sl_principal_rules_free(r);
}

/* format: exact fit and truncation. */
static void test_format(void)
{
    char err[64], buf[32];
    struct sl_principal_rules *r = sl_principal_rules_parse("RULE:a/b/U,DEFAULT", err, sizeof err);
    CHECK(r != NULL);
    CHECK_EQ_INT(sl_principal_rules_format(r, buf, sizeof buf), 0);
    CHECK(strcmp(buf, "[RULE:a/b/U, DEFAULT]") == 0);
    CHECK_EQ_INT(sl_principal_rules_format(r, buf, 22), 0);
    CHECK_EQ_INT(sl_principal_rules_format(r, buf, 21), -1);
    CHECK(strcmp(buf, "[RULE:a/b/U, DEFAULT") == 0);
    sl_principal_rules_free(r);
    sl_principal_rules_free(NULL);
}

/* Ill-formed UTF-8 in a DN (tls_dn never writes it, but the API takes any
 * string): no pattern matches such bytes, so only DEFAULT applies. */
static void test_invalid_utf8_dn(void)
{
    char err[64], out[64];
    struct sl_principal_rules *r = sl_principal_rules_parse("RULE:^CN=(.*)$/$1/U", err,
                                                            sizeof err);
    CHECK(r != NULL);
    int rc = sl_principal_rules_apply(r, "CN=a\xff" "b", out, sizeof out);
    sl_principal_rules_free(r);
    CHECK_EQ_INT(rc, -1);
    CHECK(strstr(out, "no principal mapping rule matches") != NULL);

    r = sl_principal_rules_parse("RULE:^CN=(.*)$/$1/U, DEFAULT", err, sizeof err);
    CHECK(r != NULL);
    rc = sl_principal_rules_apply(r, "CN=a\xff" "b", out, sizeof out);
    sl_principal_rules_free(r);
    CHECK_EQ_INT(rc, 0);
    CHECK(strcmp(out, "CN=a\xff" "b") == 0);
}

int main(void)
{
    TEST_RUN(test_parse_ok);
    TEST_RUN(test_parse_bad);
    TEST_RUN(test_map);
    TEST_RUN(test_refusal_reasons);
    TEST_RUN(test_backtracking_limit);
    TEST_RUN(test_output_limits);
    TEST_RUN(test_format);
    TEST_RUN(test_invalid_utf8_dn);
    fprintf(stderr, "%d table cases\n", n_cases);
    TEST_REPORT();
}
