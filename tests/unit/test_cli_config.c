/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the CLI's client configuration (src/cli/client_config.c,
 * src/cli/jaas.c): sasl.jaas.config in Kafka's forms (escapes, unquoted
 * values, extra options), its errors (missing fields, a second entry, an
 * unterminated string) never echoing the password, and properties errors
 * naming the key, the value and why; bootstrap host:port splitting.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/client_config.h"
#include "cli/jaas.h"
#include "cli/kclient.h"
#include "test_help.h"

static int jaas(const char *text, struct sl_jaas *j, char *err)
{
    return sl_jaas_parse(text, strlen(text), j, err, 256);
}

static void test_jaas_forms(void)
{
    struct sl_jaas j;
    char err[256];
    CHECK_EQ_INT(jaas("org.apache.kafka.common.security.scram.ScramLoginModule required "
                      "username=\"alice\" password=\"a\\\"b\\\\c\";",
                      &j, err),
                 0);
    CHECK(strcmp(j.module, "org.apache.kafka.common.security.scram.ScramLoginModule") == 0);
    CHECK(strcmp(j.flag, "required") == 0);
    CHECK(strcmp(j.username, "alice") == 0);
    CHECK(strcmp(j.password, "a\"b\\c") == 0);
    sl_jaas_clear(&j);
    /* Unquoted values, extra options, spacing, the PLAIN module. */
    CHECK_EQ_INT(jaas("  org.apache.kafka.common.security.plain.PlainLoginModule   required\n"
                      "  username = bob tokenauth=\"false\"  password=p;w  ; ",
                      &j, err),
                 -1); /* ';' ends the entry inside an unquoted value: Kafka needs quotes */
    CHECK_EQ_INT(jaas("x.PlainLoginModule required username = bob tokenauth=\"false\" "
                      "password=\"p;w = x\" ;  ",
                      &j, err),
                 0);
    CHECK(strcmp(j.username, "bob") == 0 && strcmp(j.password, "p;w = x") == 0);
    sl_jaas_clear(&j);
    /* Missing password is not a parse error (the config check names it). */
    CHECK_EQ_INT(jaas("M required username=\"u\";", &j, err), 0);
    CHECK(j.password == NULL);
    sl_jaas_clear(&j);
}

static void test_jaas_errors(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"", "login module"},
        {"M", "control flag"},
        {"M mandatory username=\"u\";", "control flag"},
        {"M required username=\"u\" password=\"secretpw\"", "missing ';'"},
        {"M required username=\"u\" password=\"secretpw;", "unterminated"},
        {"M required username=\"u\" password=\"secretpw\"; N required;", "only one entry"},
        {"M required username \"u\";", "'='"},
        {"M required =\"u\";", "option name"},
        {"M required username=;", "option value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sl_jaas j;
        char err[256] = "";
        int rc = jaas(bad[i].text, &j, err);
        if (rc != -1 || !strstr(err, bad[i].want) || strstr(err, "secretpw") || j.module) {
            fprintf(stderr, "  case %zu: rc %d err '%s'\n", i, rc, err);
            CHECK(!"bad jaas text not refused as expected");
        }
    }
}

static int parse(struct sl_client_config *c, const char *text, char *err)
{
    sl_client_config_init(c);
    return sl_client_config_parse(c, "client.properties", text, strlen(text), err, 512);
}

static void test_properties_ok(void)
{
    struct sl_client_config c;
    char err[512];
    CHECK_EQ_INT(parse(&c,
                       "bootstrap.servers=h1:9092,[::1]:9093\n"
                       "security.protocol=sasl_ssl\n"
                       "sasl.mechanism=SCRAM-SHA-256\n"
                       "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                       "required \\\n    username=\"admin\" password=\"pw\";\n"
                       "ssl.truststore.location=/x/ca.p12\nssl.truststore.password=tpw\n"
                       "ssl.endpoint.identification.algorithm=\n"
                       "some.unknown.key=1\n",
                       err),
                 0);
    CHECK(strcmp(c.bootstrap, "h1:9092,[::1]:9093") == 0);
    CHECK_EQ_INT(c.protocol, SL_SEC_SASL_SSL);
    CHECK(strcmp(c.sasl_username, "admin") == 0 && strcmp(c.sasl_password, "pw") == 0);
    CHECK(!c.verify_host);
    CHECK(strcmp(sl_client_config_ssl_get(&c, "ssl.truststore.location"), "/x/ca.p12") == 0);
    CHECK(sl_client_config_ssl_get(&c, "ssl.keystore.location") == NULL);
    CHECK_EQ_INT(sl_client_config_check(&c, err, sizeof err), 0);
    sl_client_config_clear(&c);
}

static void test_properties_errors(void)
{
    static const struct {
        const char *text, *want[3];
    } bad[] = {
        {"security.protocol=TLS\n", {"client.properties:1", "security.protocol=TLS", "not a security protocol"}},
        {"sasl.mechanism=GSSAPI\n", {"sasl.mechanism=GSSAPI", "unsupported", NULL}},
        {"#c\nssl.truststore.type=JKS\n", {":2:", "ssl.truststore.type=JKS", "convert"}},
        {"ssl.endpoint.identification.algorithm=http\n", {"must be https or empty", NULL, NULL}},
        {"request.timeout.ms=0\n", {"request.timeout.ms=0", "1 to 3600000", NULL}},
        {"sasl.jaas.config=M required password=\"hunter2\n", {"sasl.jaas.config=[hidden]", "unterminated", NULL}},
        {"ssl.keystore.password\\u0000=x\n", {"client.properties", NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sl_client_config c;
        char err[512] = "";
        int rc = parse(&c, bad[i].text, err);
        bool ok = rc == -1 && !strstr(err, "hunter2");
        for (int k = 0; k < 3 && bad[i].want[k]; k++)
            ok = ok && strstr(err, bad[i].want[k]);
        sl_client_config_clear(&c);
        if (!ok) {
            fprintf(stderr, "  case %zu: rc %d err '%s'\n", i, rc, err);
            CHECK(!"bad property not refused as expected");
        }
    }
}

static void test_check_errors(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"security.protocol=SSL\n", "--bootstrap-server"},
        {"bootstrap.servers=h:1\nsecurity.protocol=SASL_SSL\n", "needs sasl.mechanism"},
        {"bootstrap.servers=h:1\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n",
         "needs sasl.jaas.config"},
        {"bootstrap.servers=h:1\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
         "sasl.jaas.config=a.ScramLoginModule required username=\"u\" password=\"p\";\n",
         "does not go with"},
        {"bootstrap.servers=h:1\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
         "sasl.jaas.config=a.ScramLoginModule required password=\"p\";\n",
         "username"},
        {"bootstrap.servers=h:1\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
         "sasl.jaas.config=a.ScramLoginModule required username=\"u\";\n",
         "password"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sl_client_config c;
        char err[512] = "";
        int prc = parse(&c, bad[i].text, err);
        int rc = prc == 0 ? sl_client_config_check(&c, err, sizeof err) : -2;
        sl_client_config_clear(&c);
        if (rc != -1 || !strstr(err, bad[i].want)) {
            fprintf(stderr, "  case %zu: rc %d err '%s'\n", i, rc, err);
            CHECK(!"incoherent config not refused as expected");
        }
    }
}

static void test_hostport(void)
{
    char h[64], p[8];
    CHECK_EQ_INT(sl_kclient_split_hostport("localhost:9092", 14, h, sizeof h, p, sizeof p), 0);
    CHECK(strcmp(h, "localhost") == 0 && strcmp(p, "9092") == 0);
    CHECK_EQ_INT(sl_kclient_split_hostport(" [::1]:19092 ", 13, h, sizeof h, p, sizeof p), 0);
    CHECK(strcmp(h, "::1") == 0 && strcmp(p, "19092") == 0);
    static const char *const bad[] = {"host", "host:", ":9092", "h:0", "h:65536", "h:9x",
                                      "::1:9092", "[::1]9092", "[]:1", "h:123456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(sl_kclient_split_hostport(bad[i], strlen(bad[i]), h, sizeof h, p, sizeof p),
                     -1);
}

int main(void)
{
    TEST_RUN(test_jaas_forms);
    TEST_RUN(test_jaas_errors);
    TEST_RUN(test_properties_ok);
    TEST_RUN(test_properties_errors);
    TEST_RUN(test_check_errors);
    TEST_RUN(test_hostport);
    TEST_REPORT();
}
