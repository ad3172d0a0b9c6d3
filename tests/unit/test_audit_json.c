/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the audit log's JSON (security/audit/audit_json.c) and
 * record layout (audit_record.c): escaping of any bytes a peer may choose,
 * the strict line parser, the chained HMAC, the key file checks.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/audit_change.h"
#include "security/audit/audit_json.h"
#include "security/audit/audit_record.h"
#include "test_help.h"

static char out[8192];

/* Escapes s[0..n) into out (NUL-terminated). */
static const char *esc(const char *s, size_t n)
{
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_aj_escape(&w, s, n);
    size_t len = w.len < sizeof out - 1 ? w.len : sizeof out - 1;
    memcpy(out, w.data, len);
    out[len] = '\0';
    sl_wbuf_destroy(&w);
    return out;
}

static void test_escape_plain_and_specials(void)
{
    CHECK(strcmp(esc("alice", 5), "alice") == 0);
    CHECK(strcmp(esc("a\"b\\c", 5), "a\\\"b\\\\c") == 0);
    CHECK(strcmp(esc("l1\nl2\r\t", 7), "l1\\nl2\\r\\t") == 0);
    CHECK(strcmp(esc("\x01\x1f\x7f", 3), "\\u0001\\u001f\\u007f") == 0);
    const char nul[] = {'a', 0, 'b'};
    CHECK(strcmp(esc(nul, 3), "a\\u0000b") == 0);
}

static void test_escape_utf8(void)
{
    /* Well-formed UTF-8 passes as is. */
    CHECK(strcmp(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == 0);
    /* Ill-formed: a stray continuation, an overlong, a truncated sequence,
     * an encoded surrogate: each becomes U+FFFD, nothing breaks the line. */
    CHECK(strcmp(esc("a\x80z", 3), "a\xef\xbf\xbdz") == 0);
    CHECK(strcmp(esc("\xc0\xaf", 2), "\xef\xbf\xbd\xef\xbf\xbd") == 0);
    CHECK(strcmp(esc("x\xe2\x82", 3), "x\xef\xbf\xbd") == 0);
    CHECK(strstr(esc("\xed\xa0\x80", 3), "\xef\xbf\xbd") != NULL);
    /* U+2028 / U+2029 are escaped. */
    CHECK(strcmp(esc("\xe2\x80\xa8", 3), "\\u2028") == 0);
}

static void test_escape_every_byte_parses(void)
{
    /* All 256 byte values in one string: the result is a valid JSON string
     * without a raw newline. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    sl_wbuf_put(&w, "\"", 1);
    sl_aj_escape(&w, all, sizeof all);
    sl_wbuf_put(&w, "\"", 1);
    CHECK(memchr(w.data, '\n', w.len) == NULL);
    struct sl_aj_doc *d = malloc(sizeof *d);
    const char *why = NULL;
    size_t at = 0;
    int rc = sl_aj_parse(d, (const char *)w.data, w.len, &why, &at);
    if (rc)
        fprintf(stderr, "  %s at %zu\n", why, at);
    free(d);
    sl_wbuf_destroy(&w);
    CHECK(rc == 0);
}

static void test_escape_truncates_long(void)
{
    char big[SL_AJ_STR_MAX + 100];
    memset(big, 'x', sizeof big);
    esc(big, sizeof big);
    CHECK(strlen(out) == SL_AJ_STR_MAX + 3);
    CHECK(strcmp(out + SL_AJ_STR_MAX, "...") == 0);
}

static int parse(const char *s);

static void test_builder(void)
{
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    struct sl_aj j;
    sl_aj_init(&j, &w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "a", "x");
    sl_aj_ku64(&j, "n", 42);
    sl_aj_key(&j, "arr");
    sl_aj_arr_begin(&j);
    sl_aj_cstr(&j, "p");
    sl_aj_i64(&j, -1);
    sl_aj_obj_begin(&j);
    sl_aj_kbool(&j, "t", true);
    sl_aj_obj_end(&j);
    sl_aj_arr_end(&j);
    sl_aj_kcstr(&j, "skipped", NULL);
    sl_aj_kraw(&j, "raw", "{\"k\":[1,2]}", 11);
    sl_aj_obj_end(&j);
    sl_wbuf_put(&w, "", 1);
    const char *want = "{\"a\":\"x\",\"n\":42,\"arr\":[\"p\",-1,{\"t\":true}],\"raw\":{\"k\":[1,2]}}";
    if (strcmp((char *)w.data, want) != 0)
        fprintf(stderr, "  got %s\n", (char *)w.data);
    CHECK(strcmp((char *)w.data, want) == 0);
    sl_wbuf_destroy(&w);
}

/* sl_aj_count_values counts what the reader counts, also over strings
 * holding quotes, backslashes, braces and digits. */
static void test_count_values(void)
{
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    struct sl_aj j;
    sl_aj_init(&j, &w);
    sl_aj_obj_begin(&j);
    sl_aj_kcstr(&j, "s", "a\"b\\\"{[1 true");
    sl_aj_ki64(&j, "neg", -12345);
    sl_aj_key(&j, "arr");
    sl_aj_arr_begin(&j);
    for (int i = 0; i < 50; i++) {
        sl_aj_obj_begin(&j);
        sl_aj_kbool(&j, "t", i % 2 == 0);
        sl_aj_key(&j, "n");
        sl_aj_null(&j);
        sl_aj_key_str(&j, "k\"}", 3); /* a peer's key: escaped */
        sl_aj_str(&j, "\x01\xff\"", 3);
        sl_aj_obj_end(&j);
    }
    sl_aj_arr_end(&j);
    sl_aj_obj_end(&j);
    static struct sl_aj_doc doc;
    const char *why = NULL;
    size_t at = 0;
    int rc = sl_aj_parse(&doc, (const char *)w.data, w.len, &why, &at);
    if (rc != 0)
        fprintf(stderr, "  %s at %zu\n", why, at);
    CHECK(rc == 0);
    CHECK_EQ_INT(sl_aj_count_values(w.data, w.len), doc.n);
    sl_wbuf_destroy(&w);
}

/* The "configs" object of a change record: peer-chosen keys escaped,
 * secrets hidden, deletions null; the whole object parses. */
static void test_change_configs(void)
{
    struct sl_wbuf w;
    sl_wbuf_init(&w);
    struct sl_aj j;
    sl_aj_init(&j, &w);
    sl_aj_obj_begin(&j);
    sl_aj_key(&j, "configs");
    sl_aj_obj_begin(&j);
    sl_api_audit_config(&j, "retention.ms", 12, "5000", 4);
    sl_api_audit_config(&j, "ssl.keystore.password", 21, "hunter2", 7);
    sl_api_audit_config(&j, "sasl.jaas.config", 16, "x required password=\"p\";", 24);
    sl_api_audit_config(&j, "k\"e\ny", 5, "v", 1);
    sl_api_audit_config(&j, "max.message.bytes", 17, NULL, -1);
    sl_aj_obj_end(&j);
    sl_aj_obj_end(&j);
    sl_wbuf_put(&w, "", 1);
    const char *got = (const char *)w.data;
    const char *want = "{\"configs\":{\"retention.ms\":\"5000\",\"ssl.keystore.password\":\"[hidden]\","
                       "\"sasl.jaas.config\":\"[hidden]\",\"k\\\"e\\ny\":\"v\","
                       "\"max.message.bytes\":null}}";
    if (strcmp(got, want) != 0)
        fprintf(stderr, "  got  %s\n  want %s\n", got, want);
    CHECK(strcmp(got, want) == 0);
    CHECK(strstr(got, "hunter2") == NULL);
    CHECK(parse(got) == 0);
    sl_wbuf_destroy(&w);
}

static int parse(const char *s)
{
    static struct sl_aj_doc d;
    const char *why;
    size_t at;
    return sl_aj_parse(&d, s, strlen(s), &why, &at);
}

static void test_parser_strict(void)
{
    CHECK(parse("{\"a\":[1,true,false,null,\"s\\u00e9\\n\"],\"b\":{}}") == 0);
    CHECK(parse("{}") == 0);
    CHECK(parse("{\"a\":1,}") < 0);
    CHECK(parse("{\"a\":1} x") < 0);
    CHECK(parse("{\"a\":1.5}") < 0);
    CHECK(parse("{\"a\":01}") < 0);
    CHECK(parse("{\"a\":\"x\ny\"}") < 0);
    CHECK(parse("{\"a\":\"\\x\"}") < 0);
    CHECK(parse("{\"a\":\"\\u12\"}") < 0);
    CHECK(parse("{\"a\":\"\xff\"}") < 0);
    CHECK(parse("{\"a\"") < 0);
    CHECK(parse("{a:1}") < 0);
    CHECK(parse("[[[[[[[[[[1]]]]]]]]]]") < 0); /* deeper than the limit */
    CHECK(parse("[[[[[[[1]]]]]]]") == 0);
    CHECK(parse("") < 0);
    CHECK(parse("{\"a\":123456789012345678901}") < 0);
}

static void test_parser_lookup(void)
{
    static struct sl_aj_doc d;
    const char *why;
    size_t at;
    const char *s = "{\"x\":{\"y\":[1,{\"z\":2}]},\"seq\":18446744073709551615,\"s\":\"v\","
                    "\"e\":\"a\\nb\"}";
    CHECK(sl_aj_parse(&d, s, strlen(s), &why, &at) == 0);
    uint64_t v = 0;
    CHECK(sl_aj_get_u64(&d, sl_aj_get(&d, 0, "seq"), &v) == 0);
    CHECK(v == UINT64_MAX);
    CHECK(sl_aj_streq(&d, sl_aj_get(&d, 0, "s"), "v"));
    const char *p;
    size_t n;
    CHECK(sl_aj_get_raw(&d, sl_aj_get(&d, 0, "e"), &p, &n) < 0); /* escaped */
    CHECK(sl_aj_get(&d, 0, "z") < 0);                              /* not at this level */
    int x = sl_aj_get(&d, 0, "x");
    CHECK(x > 0 && d.tok[x].type == SL_AJ_OBJECT);
    CHECK(sl_aj_get(&d, x, "y") > 0);
}

/* A record line built the way the writer does it. */
static size_t make_line(char *buf, size_t cap, struct sl_audit_hmac *h, const uint8_t prev[32],
                        uint64_t seq, uint8_t mac[32])
{
    int n = snprintf(buf, cap,
                     "{\"specversion\":\"1.0\",\"id\":\"%llu\",\"source\":\"/t\",\"type\":"
                     "\"io.sluice.test\",\"time\":\"2026-01-01T00:00:00.000Z\","
                     "\"datacontenttype\":\"application/json\",\"sluiceseq\":%llu,\"data\":{}",
                     (unsigned long long)seq, (unsigned long long)seq);
    sl_audit_hmac_record(h, prev, buf, (size_t)n, mac);
    char hex[65];
    sl_audit_mac_hex(mac, hex);
    n += snprintf(buf + n, cap - (size_t)n, ",\"sluicemac\":\"%s\"}", hex);
    return (size_t)n;
}

static void test_record_parse_and_mac(void)
{
    uint8_t key[32], prev[32] = {0}, mac[32], mac2[32];
    memset(key, 7, sizeof key);
    struct sl_audit_hmac h;
    CHECK(sl_audit_hmac_init(&h, key) == 0);
    char line[1024];
    size_t n = make_line(line, sizeof line, &h, prev, 5, mac);
    static struct sl_audit_rec r;
    const char *why = NULL;
    int rc = sl_audit_rec_parse(line, n, &r, &why);
    if (rc)
        fprintf(stderr, "  %s\n", why);
    CHECK(rc == 0);
    CHECK(r.seq == 5);
    CHECK(sl_audit_rec_is(&r, "io.sluice.test"));
    CHECK(memcmp(r.mac, mac, 32) == 0);
    CHECK(sl_audit_hmac_record(&h, prev, line, r.body_len, mac2) == 0);
    CHECK(memcmp(mac, mac2, 32) == 0);
    /* The same computation with a one-shot HMAC: HMAC(key, prev || body). */
    uint8_t other_prev[32];
    memset(other_prev, 1, sizeof other_prev);
    CHECK(sl_audit_hmac_record(&h, other_prev, line, r.body_len, mac2) == 0);
    CHECK(memcmp(mac, mac2, 32) != 0);
    /* Damage: the mac member, the tail, an upper-case hex digit. */
    line[n - 3] = 'G';
    CHECK(sl_audit_rec_parse(line, n, &r, &why) < 0);
    CHECK(sl_audit_rec_parse(line, n - 1, &r, &why) < 0);
    sl_audit_hmac_free(&h);
}

static void test_record_rejects_envelope_errors(void)
{
    static struct sl_audit_rec r;
    const char *why;
    const char *tail = ",\"sluicemac\":\"0000000000000000000000000000000000000000000000000000000000000000\"}";
    char line[1024];
    /* no sluiceseq */
    snprintf(line, sizeof line, "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":"
                                "\"t\",\"time\":\"x\",\"datacontenttype\":\"application/json\","
                                "\"data\":{}%s", tail);
    CHECK(sl_audit_rec_parse(line, strlen(line), &r, &why) < 0);
    /* wrong specversion */
    snprintf(line, sizeof line, "{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"s\",\"type\":"
                                "\"t\",\"time\":\"x\",\"datacontenttype\":\"application/json\","
                                "\"sluiceseq\":1,\"data\":{}%s", tail);
    CHECK(sl_audit_rec_parse(line, strlen(line), &r, &why) < 0);
    /* data not an object */
    snprintf(line, sizeof line, "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":"
                                "\"t\",\"time\":\"x\",\"datacontenttype\":\"application/json\","
                                "\"sluiceseq\":1,\"data\":3%s", tail);
    CHECK(sl_audit_rec_parse(line, strlen(line), &r, &why) < 0);
    /* the same, well-formed */
    snprintf(line, sizeof line, "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":"
                                "\"t\",\"time\":\"x\",\"datacontenttype\":\"application/json\","
                                "\"sluiceseq\":1,\"data\":{}%s", tail);
    CHECK(sl_audit_rec_parse(line, strlen(line), &r, &why) == 0);
}

static void test_key_file(void)
{
    char dir[] = "/tmp/sl_test_audit_key_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/keys/audit.key", dir);
    uint8_t k1[32], k2[32];
    char err[512];
    CHECK(sl_audit_key_load(path, false, k1, err, sizeof err) < 0); /* missing, no create */
    CHECK(sl_audit_key_load(path, true, k1, err, sizeof err) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(st.st_size == 32);
    CHECK(sl_audit_key_load(path, true, k2, err, sizeof err) == 0);
    CHECK(memcmp(k1, k2, 32) == 0);
    chmod(path, 0640);
    CHECK(sl_audit_key_load(path, false, k2, err, sizeof err) < 0);
    CHECK(strstr(err, "group or others") != NULL);
    chmod(path, 0600);
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "x", 1) == 1);
    close(fd);
    CHECK(sl_audit_key_load(path, false, k2, err, sizeof err) < 0);
    CHECK(strstr(err, "not 32") != NULL);
    unlink(path);
    snprintf(path, sizeof path, "%s/keys", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    TEST_RUN(test_escape_plain_and_specials);
    TEST_RUN(test_escape_utf8);
    TEST_RUN(test_escape_every_byte_parses);
    TEST_RUN(test_escape_truncates_long);
    TEST_RUN(test_builder);
    TEST_RUN(test_count_values);
    TEST_RUN(test_change_configs);
    TEST_RUN(test_parser_strict);
    TEST_RUN(test_parser_lookup);
    TEST_RUN(test_record_parse_and_mac);
    TEST_RUN(test_record_rejects_envelope_errors);
    TEST_RUN(test_key_file);
    TEST_REPORT();
}
