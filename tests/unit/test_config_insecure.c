/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of config/insecure.c: each weakened set-up is found, the
 * refusable ones stop the start (the message names the key, the value,
 * why and the override) unless sluice.allow.insecure=true, and PLAINTEXT
 * on loopback is reported but allowed.
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/insecure.h"
#include "test_help.h"

struct seen {
    int n, refusable;
    char keys[512];
};

static void collect(void *arg, const struct sl_weakness *w)
{
    struct seen *s = arg;
    s->n++;
    s->refusable += w->refusable;
    size_t at = strlen(s->keys);
    snprintf(s->keys + at, sizeof s->keys - at, "%s%s", at ? " " : "", w->key);
}

/* Loads the given key=value pairs over the defaults and validates. */
static void setup(struct sl_config *c, const char *const *kv)
{
    char err[512];
    sl_config_defaults(c);
    for (; kv && kv[0]; kv += 2)
        CHECK(sl_config_set(c, kv[0], kv[1], err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_validate(c, err, sizeof err) == SL_ERR_NONE);
}

/* One refusable weak point: refused without the override, naming key and
 * value and the override; accepted with it. */
static void refused(const char *const *kv, const char *key_value)
{
    struct sl_config c;
    char err[1024];
    setup(&c, kv);
    struct seen s = {0};
    sl_config_weaknesses(&c, collect, &s);
    CHECK(s.refusable == 1);
    CHECK(sl_config_check_insecure(&c, err, sizeof err) == SL_ERR__INVAL);
    if (!strstr(err, key_value) || !strstr(err, "sluice.allow.insecure=true"))
        fprintf(stderr, "  message: %s\n", err);
    CHECK(strstr(err, key_value) != NULL);
    CHECK(strstr(err, "sluice.allow.insecure=true") != NULL);
    CHECK(strstr(err, "config --override: ") == err); /* where it was set */
    CHECK(sl_config_set(&c, "sluice.allow.insecure", "true", err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_check_insecure(&c, err, sizeof err) == SL_ERR_NONE);
    sl_config_free(&c);
}

static void test_refused(void)
{
    refused((const char *[]){"listeners", "PLAINTEXT://0.0.0.0:9092", NULL},
            "listeners=PLAINTEXT://0.0.0.0:9092: listener PLAINTEXT is PLAINTEXT on every");
    refused((const char *[]){"listeners", "PLAINTEXT://:9092", NULL},
            "listeners=PLAINTEXT://:9092");
    refused((const char *[]){"listeners", "PLAINTEXT://10.1.2.3:9092", NULL},
            "listeners=PLAINTEXT://10.1.2.3:9092");
    refused((const char *[]){"listeners", "SASL_PLAINTEXT://[::]:9092", NULL},
            "listeners=SASL_PLAINTEXT://[::]:9092");
    refused((const char *[]){"listeners", "SASL_PLAINTEXT://127.0.0.1:9092",
                             "sasl.enabled.mechanisms", "PLAIN",
                             "sluice.sasl.plain.allow.cleartext", "true", NULL},
            "sluice.sasl.plain.allow.cleartext=true: PLAIN on listener SASL_PLAINTEXT");
    refused((const char *[]){"allow.everyone.if.no.acl.found", "true", NULL},
            "allow.everyone.if.no.acl.found=true");
    refused((const char *[]){"sluice.encryption.enable", "false", NULL},
            "sluice.encryption.enable=false");
    refused((const char *[]){"sluice.audit.enable", "false", NULL}, "sluice.audit.enable=false");
}

static void test_reported_only(void)
{
    struct sl_config c;
    char err[512];
    struct seen s = {0};
    /* PLAINTEXT on loopback (the test harness's set-up), v4 and v6, and an
     * SSL listener without client certificates: reported, not refused. */
    setup(&c, (const char *[]){"listeners",
                               "PLAINTEXT://127.0.0.1:9092,P6://[::1]:9094,S://localhost:9095",
                               "listener.security.protocol.map",
                               "PLAINTEXT:PLAINTEXT,P6:PLAINTEXT,S:SSL",
                               NULL});
    sl_config_weaknesses(&c, collect, &s);
    CHECK_EQ_INT(s.n, 3);
    CHECK_EQ_INT(s.refusable, 0);
    CHECK(sl_config_check_insecure(&c, err, sizeof err) == SL_ERR_NONE);
    sl_config_free(&c);

    /* Several at once: all found, the first refusable one named. */
    memset(&s, 0, sizeof s);
    setup(&c, (const char *[]){"sluice.audit.enable", "false", "allow.everyone.if.no.acl.found",
                               "true", NULL});
    sl_config_weaknesses(&c, collect, &s);
    CHECK_EQ_INT(s.refusable, 2);
    CHECK(strcmp(s.keys, "allow.everyone.if.no.acl.found sluice.audit.enable") == 0);
    CHECK(sl_config_check_insecure(&c, err, sizeof err) == SL_ERR__INVAL);
    CHECK(strstr(err, "allow.everyone.if.no.acl.found=true") != NULL);
    sl_config_free(&c);

    /* TLS below 1.2 cannot be configured at all, override or not. */
    sl_config_defaults(&c);
    CHECK(sl_config_set(&c, "sluice.allow.insecure", "true", err, sizeof err) == SL_ERR_NONE);
    CHECK(sl_config_set(&c, "ssl.enabled.protocols", "TLSv1.1,TLSv1.2", err, sizeof err) ==
          SL_ERR__INVAL);
    CHECK(strstr(err, "ssl.enabled.protocols=TLSv1.1,TLSv1.2") != NULL);
    sl_config_free(&c);
}

static void test_loopback(void)
{
    CHECK(sl_config_host_is_loopback("127.0.0.1"));
    CHECK(sl_config_host_is_loopback("127.9.8.7"));
    CHECK(sl_config_host_is_loopback("::1"));
    CHECK(sl_config_host_is_loopback("LocalHost"));
    CHECK(!sl_config_host_is_loopback(""));
    CHECK(!sl_config_host_is_loopback("0.0.0.0"));
    CHECK(!sl_config_host_is_loopback("::"));
    CHECK(!sl_config_host_is_loopback("128.0.0.1"));
    CHECK(!sl_config_host_is_loopback("::2"));
    CHECK(!sl_config_host_is_loopback("localhost.example.com"));
    CHECK(!sl_config_host_is_loopback("broker1"));
}

int main(void)
{
    sl_log_min_level = SL_LOG_ERROR;
    TEST_RUN(test_refused);
    TEST_RUN(test_reported_only);
    TEST_RUN(test_loopback);
    TEST_REPORT();
}
