/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of src/tls/tls_dn: certificate subjects in the RFC 2253 form of
 * Java's X500Principal.getName(). Certificates are built in memory with
 * OpenSSL; one goes through a signature and DER round trip as a received
 * certificate would. Each expected string was checked against Java 17
 * (new X500Principal(subjectDer).getName()) on the same DER bytes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "security/authn/principal_rules.h"
#include "test_help.h"
#include "tls/tls_dn.h"

/* One attribute of a subject: short name or OID, ASN.1 type (MBSTRING_UTF8
 * lets OpenSSL pick, as `openssl req` does), value and its length (-1:
 * strlen), and set = -1 to join the previous RDN (a multi-valued RDN). */
struct attr {
    const char *type;
    int asn1;
    const char *value;
    int len;
    int set;
};

#define UTF8(t, v) {t, MBSTRING_UTF8, v, -1, 0}
#define PLUS(t, v) {t, MBSTRING_UTF8, v, -1, -1}

/* Returns a new certificate (caller frees) whose subject holds attrs in
 * order, encoding order being the reverse of the printed order. */
static X509 *make_cert(const struct attr *attrs, int n)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    if (!x || !name)
        abort();
    for (int i = 0; i < n; i++) {
        const struct attr *a = &attrs[i];
        if (!X509_NAME_add_entry_by_txt(name, a->type, a->asn1, (const unsigned char *)a->value,
                                        a->len, -1, a->set))
            abort();
    }
    if (!X509_set_subject_name(x, name))
        abort();
    X509_NAME_free(name);
    return x;
}

/* Compares cert's subject string with want; prints what came out and the
 * DER on a mismatch. */
static bool dn_is(const X509 *x, const char *want)
{
    char out[1024];
    int rc = sl_tls_subject_dn(x, out, sizeof out);
    if (rc == 0 && strcmp(out, want) == 0)
        return true;
    const unsigned char *der;
    size_t len;
    X509_NAME_get0_der(X509_get_subject_name(x), &der, &len);
    fprintf(stderr, "  rc %d, got \"%s\"\n  want \"%s\"\n  DER ", rc, out, want);
    for (size_t i = 0; i < len; i++)
        fprintf(stderr, "%02x", der[i]);
    fprintf(stderr, "\n");
    return false;
}

#define CHECK_SUBJECT(want, ...)                                                                   \
    do {                                                                                           \
        const struct attr _a[] = {__VA_ARGS__};                                                    \
        X509 *_x = make_cert(_a, (int)(sizeof _a / sizeof _a[0]));                                 \
        bool _ok = dn_is(_x, want);                                                                \
        X509_free(_x);                                                                             \
        CHECK(_ok);                                                                                \
    } while (0)

/* Most specific first, ',' without spaces, Java's keywords. */
static void test_order_and_keywords(void)
{
    CHECK_SUBJECT("CN=alice,OU=Kafka Clients,O=Example Corp,L=Paris,ST=\xc3\x8e"
                  "le-de-France,C=FR",
                  UTF8("C", "FR"), UTF8("ST", "\xc3\x8e" "le-de-France"), UTF8("L", "Paris"),
                  UTF8("O", "Example Corp"), UTF8("OU", "Kafka Clients"), UTF8("CN", "alice"));
    CHECK_SUBJECT("UID=u1,STREET=1 Main St.,DC=example,DC=com", UTF8("DC", "com"),
                  UTF8("DC", "example"), UTF8("street", "1 Main St."), UTF8("UID", "u1"));
    CHECK_SUBJECT("CN=a", UTF8("CN", "a"));
}

/* Every other attribute type is its OID, with the value as #DER in
 * lower-case hex: emailAddress, serialNumber, title, SN, GN... */
static void test_oid_types(void)
{
    CHECK_SUBJECT("1.2.840.113549.1.9.1=#16116361726f6c406578616d706c652e636f6d,CN=carol",
                  UTF8("CN", "carol"), UTF8("emailAddress", "carol@example.com"));
    CHECK_SUBJECT("2.5.4.12=#0c074d616e61676572,2.5.4.5=#13053132333435,2.5.4.4=#0c03446f65,"
                  "2.5.4.42=#0c044a6f686e",
                  UTF8("GN", "John"), UTF8("SN", "Doe"), UTF8("serialNumber", "12345"),
                  UTF8("title", "Manager"));
    CHECK_SUBJECT("1.3.6.1.4.1.311.60.2.1.3=#13024652,CN=x", UTF8("CN", "x"),
                  UTF8("1.3.6.1.4.1.311.60.2.1.3", "FR"));
    /* A keyword with a type that is not text: NumericString. */
    CHECK_SUBJECT("CN=#1203313233", {"CN", V_ASN1_NUMERICSTRING, "123", -1, 0});
}

/* A multi-valued RDN: its attributes joined by '+' in encoded order, which
 * OpenSSL sorts as DER wants a SET OF (test_raw_der has an unsorted one). */
static void test_multi_valued(void)
{
    CHECK_SUBJECT("CN=bob+UID=b42,O=Example", UTF8("O", "Example"), UTF8("UID", "b42"),
                  PLUS("CN", "bob"));
    CHECK_SUBJECT("OU=eng+OU=ops+CN=carol,O=Example", UTF8("O", "Example"), UTF8("CN", "carol"),
                  PLUS("OU", "ops"), PLUS("OU", "eng"));
    CHECK_SUBJECT("CN=x+1.2.840.113549.1.9.1=#1603614062,O=y", UTF8("O", "y"),
                  UTF8("emailAddress", "a@b"), PLUS("CN", "x"));
}

/* Escapes: , = + < > # ; " \ anywhere, NUL as \00, leading and trailing
 * spaces and CRs; everything else as it is. */
static void test_escaping(void)
{
    CHECK_SUBJECT("CN=\\ \\#lead\\,a\\=b\\+c\\<d\\>e\\;f\\\"g\\\\h*@_/\\ ",
                  UTF8("CN", " #lead,a=b+c<d>e;f\"g\\h*@_/ "));
    CHECK_SUBJECT("CN=a\\#b", UTF8("CN", "a#b"));
    CHECK_SUBJECT("CN=\\ \\ \\ ", UTF8("CN", "   "));
    CHECK_SUBJECT("CN=\\\r\\ x y\\ \\\r", UTF8("CN", "\r x y \r"));
    CHECK_SUBJECT("CN=", {"CN", V_ASN1_UTF8STRING, "", 0, 0});
    CHECK_SUBJECT("CN=a\\00b\tc\nd", {"CN", V_ASN1_UTF8STRING, "a\0b\tc\nd", 7, 0});
    CHECK_SUBJECT("CN=Zo\xc3\xab \xf0\x9f\x98\x80,O=\xe6\x97\xa5\xe6\x9c\xac",
                  UTF8("O", "\xe6\x97\xa5\xe6\x9c\xac"), UTF8("CN", "Zo\xc3\xab \xf0\x9f\x98\x80"));
}

/* Text tags are all decoded as UTF-8, as Java does: a BMPString's NULs show
 * as \00, an ill-formed byte as U+FFFD. */
static void test_string_types(void)
{
    CHECK_SUBJECT("CN=\\00A\\00B", {"CN", V_ASN1_BMPSTRING, "\0A\0B", 4, 0});
    CHECK_SUBJECT("CN=ia5,O=t61", {"O", V_ASN1_T61STRING, "t61", -1, 0},
                  {"CN", V_ASN1_IA5STRING, "ia5", -1, 0});
    CHECK_SUBJECT("CN=a\xef\xbf\xbd" "b", {"CN", V_ASN1_T61STRING, "a\xe9" "b", -1, 0});
}

/* An empty subject, a NULL certificate, the output buffer's bounds. */
static void test_edges(void)
{
    char out[16];
    X509 *x = make_cert(NULL, 0);
    CHECK_EQ_INT(sl_tls_subject_dn(x, out, sizeof out), 0);
    CHECK(strcmp(out, "") == 0);
    X509_free(x);
    CHECK_EQ_INT(sl_tls_subject_dn(NULL, out, sizeof out), -1);

    /* A value long enough for a two-byte DER length. */
    char longv[201], want[205] = "CN=";
    memset(longv, 'x', 200);
    longv[200] = '\0';
    strcat(want, longv);
    const struct attr l[] = {{"CN", V_ASN1_UTF8STRING, longv, -1, 0}};
    x = make_cert(l, 1);
    bool ok = dn_is(x, want);
    X509_free(x);
    CHECK(ok);

    const struct attr a[] = {UTF8("O", "o"), UTF8("CN", "abcdefgh")}; // "CN=abcdefgh,O=o"
    x = make_cert(a, 2);
    CHECK_EQ_INT(sl_tls_subject_dn(x, out, 16), 0);
    CHECK(strcmp(out, "CN=abcdefgh,O=o") == 0);
    CHECK_EQ_INT(sl_tls_subject_dn(x, out, 15), -1);
    CHECK(out[0] == '\0');
    CHECK_EQ_INT(sl_tls_subject_dn(x, out, 0), -1);
    X509_free(x);
}

/* A received certificate: signed, encoded, decoded again. Its subject keeps
 * the bytes it was signed with. */
static void test_round_trip(void)
{
    const struct attr a[] = {UTF8("C", "US"), UTF8("O", "Acme, Inc."), UTF8("OU", "ServiceUsers"),
                             UTF8("CN", "svc-orders")};
    X509 *x = make_cert(a, 4);
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    CHECK(key != NULL);
    CHECK(X509_set_version(x, X509_VERSION_3));
    CHECK(X509_set_issuer_name(x, X509_get_subject_name(x)));
    CHECK(X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL);
    CHECK(X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL);
    CHECK(X509_set_pubkey(x, key));
    CHECK(X509_sign(x, key, EVP_sha256()) > 0);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    CHECK(len > 0);
    const unsigned char *p = der;
    X509 *y = d2i_X509(NULL, &p, len);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(key);
    CHECK(y != NULL);
    char dn[256], name[256];
    int rc = sl_tls_subject_dn(y, dn, sizeof dn);
    X509_free(y);
    CHECK_EQ_INT(rc, 0);
    CHECK(strcmp(dn, "CN=svc-orders,OU=ServiceUsers,O=Acme\\, Inc.,C=US") == 0);

    /* ...and on to a principal with the rules of Kafka's documentation. */
    char err[256];
    struct sl_principal_rules *r = sl_principal_rules_parse(
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,"
        "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,"
        "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT",
        err, sizeof err);
    CHECK(r != NULL);
    rc = sl_principal_rules_apply(r, dn, name, sizeof name);
    sl_principal_rules_free(r);
    CHECK_EQ_INT(rc, 0);
    CHECK(strcmp(name, "svc-orders") == 0);
}

/* Converts hex to bytes in buf; returns the length. */
static size_t unhex(const char *hex, unsigned char *buf)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        buf[n++] = (unsigned char)v;
    }
    return n;
}

/* Hand-made DER: what OpenSSL would not write but another CA might. */
static const struct {
    const char *der, *want; // want NULL: refused
} raw[] = {
    /* A SET OF left unsorted prints in encoded order, as in Java. */
    {"301f311d300f060a0992268993f22c6401010c0162300a060355040b0c036f7073", "UID=b+OU=ops"},
    {"301f311d300a060355040b0c036f7073300f060a0992268993f22c6401010c0162", "OU=ops+UID=b"},
    /* Empty RDNs print as nothing between their commas. */
    {"3010310a300806035504030c016131003100", ",,CN=a"},
    {"3000", ""},
    /* Values that are not text: INTEGER, NULL, SEQUENCE, VisibleString,
     * UniversalString, a constructed UTF8String. */
    {"300d310b3009060355040302020100", "CN=#02020100"},
    {"300b3109300706035504030500", "CN=#0500"},
    {"3010310e300c0603550403300502010a0500", "CN=#300502010a0500"},
    {"300e310c300a06035504031a03766973", "CN=#1a03766973"},
    {"300f310d300b06035504031c0400000041", "CN=#1c0400000041"},
    {"300e310c300a06035504032c030c0141", "CN=#2c030c0141"},
    /* Ill-formed UTF-8: one U+FFFD where Java's decoder puts one (an
     * encoded surrogate is one; E2 82, F0 90 80, C0, AF are four). */
    {"3010310e300c06035504030c0561eda08062", "CN=a\xef\xbf\xbd" "b"},
    {"30133111300f06035504030c08e28241f09080c0af",
     "CN=\xef\xbf\xbd" "A\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    /* An OID arc beyond 64 bits (a UUID OID). */
    {"301d311b301906146983f09da7ebcfdee0c7a1a7b2c0948cc8f9d776020101",
     "2.25.329800735698586629295641978511506172918=#020101"},
    /* Refused, where Java accepts: a long-form length that fits the short
     * form, an indefinite length, bytes after the Name, no bytes at all. */
    {"3081023100", NULL},
    {"3080310a300806035504030c01410000", NULL},
    {"300031", NULL},
    {"", NULL},
    /* Refused, as by Java: a multi-byte tag, a length past the end, an empty
     * OID, bytes after the value, an RDN that is not a SET, an attribute
     * that is not a SEQUENCE, an OID arc padded with 0x80. */
    {"300c310a300806035504031f2101", NULL},
    {"300c310a300806035504030c0541", NULL},
    {"30093107300506000c0141", NULL},
    {"300f310d300b06035504030c01410c0142", NULL},
    {"300c300a300806035504030c0161", NULL},
    {"300c310a310806035504030c0161", NULL},
    {"300c310a300806035580040c0161", NULL},
};

static void test_raw_der(void)
{
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        unsigned char der[256];
        char out[256];
        size_t n = unhex(raw[i].der, der);
        int rc = sl_tls_dn_from_der(der, n, out, sizeof out);
        bool ok = raw[i].want ? rc == 0 && strcmp(out, raw[i].want) == 0 : rc == -1;
        if (!ok)
            fprintf(stderr, "  DER %s: rc %d \"%s\"\n", raw[i].der, rc, rc == 0 ? out : "");
        CHECK(ok);
    }
}

int main(void)
{
    TEST_RUN(test_order_and_keywords);
    TEST_RUN(test_oid_types);
    TEST_RUN(test_multi_valued);
    TEST_RUN(test_escaping);
    TEST_RUN(test_string_types);
    TEST_RUN(test_edges);
    TEST_RUN(test_round_trip);
    TEST_RUN(test_raw_der);
    TEST_REPORT();
}
