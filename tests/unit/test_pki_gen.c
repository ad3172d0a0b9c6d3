/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of tls/pki_gen.c: the CA and the server certificate verify
 * (chain, purpose serverAuth, host names and IPs of the SANs), the keys are
 * ECDSA P-256, the files are 0600, a missing CA is an error, and a second
 * server certificate from the same CA differs (new key, new serial).
 */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls/pki_gen.h"
#include "test_help.h"

static char dir[64];

static X509 *read_cert(const char *name, int index)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509 *x = NULL;
    for (int i = 0; i <= index; i++) {
        X509_free(x);
        x = PEM_read_X509(f, NULL, NULL, NULL);
    }
    fclose(f);
    return x;
}

static int mode_of(const char *name)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Verifies leaf against ca for purpose serverAuth and, when given, a host
 * name or an IP address. */
static bool verifies(X509 *ca, X509 *leaf, const char *host, const char *ip)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_add_cert(st, ca);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
    if (host)
        X509_VERIFY_PARAM_set1_host(p, host, 0);
    if (ip)
        X509_VERIFY_PARAM_set1_ip_asc(p, ip);
    bool ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return ok;
}

static void test_ca_and_server(void)
{
    char err[512];
    const char *sans[] = {"localhost", "127.0.0.1", "::1", "broker1.example.com", "localhost",
                          "bad name,DNS:evil"};
    CHECK(sl_pki_make_server(dir, "x", sans, 1, err, sizeof err) < 0); /* no CA yet */
    CHECK(strstr(err, "ca.key") != NULL);
    CHECK(sl_pki_make_ca(dir, "Sluice CA test", err, sizeof err) == 0);
    CHECK(sl_pki_make_server(dir, "broker1", sans, 6, err, sizeof err) == 0);
    CHECK_EQ_INT(mode_of(SL_PKI_CA_KEY), 0600);
    CHECK_EQ_INT(mode_of(SL_PKI_CA_CERT), 0600);
    CHECK_EQ_INT(mode_of(SL_PKI_KEYSTORE), 0600);

    X509 *ca = read_cert(SL_PKI_CA_CERT, 0);
    X509 *leaf = read_cert(SL_PKI_KEYSTORE, 0);
    X509 *chain_ca = read_cert(SL_PKI_KEYSTORE, 1);
    CHECK(ca && leaf && chain_ca);
    CHECK(X509_cmp(ca, chain_ca) == 0); /* the key store carries the CA after the leaf */
    CHECK(X509_check_ca(ca) >= 1);
    CHECK(X509_check_ca(leaf) == 0);
    CHECK(verifies(ca, leaf, "localhost", NULL));
    CHECK(verifies(ca, leaf, "broker1.example.com", NULL));
    CHECK(verifies(ca, leaf, NULL, "127.0.0.1"));
    CHECK(verifies(ca, leaf, NULL, "::1"));
    CHECK(!verifies(ca, leaf, "evil", NULL));
    CHECK(!verifies(ca, leaf, NULL, "10.0.0.1"));
    /* The CA cannot pass as a server certificate of its own. */
    CHECK(!verifies(leaf, ca, NULL, NULL));

    EVP_PKEY *pk = X509_get0_pubkey(leaf);
    char group[64] = "";
    size_t gl = 0;
    CHECK(EVP_PKEY_get_group_name(pk, group, sizeof group, &gl) == 1);
    CHECK(strcmp(group, "prime256v1") == 0);

    /* Its private key is in the key store, first, and matches. */
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, SL_PKI_KEYSTORE);
    FILE *f = fopen(path, "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    CHECK(key && X509_check_private_key(leaf, key) == 1);
    EVP_PKEY_free(key);

    /* A second server certificate: new serial, still verifies. */
    CHECK(sl_pki_make_server(dir, "broker1", sans, 3, err, sizeof err) == 0);
    X509 *leaf2 = read_cert(SL_PKI_KEYSTORE, 0);
    CHECK(leaf2 &&
          ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf), X509_get0_serialNumber(leaf2)) != 0);
    CHECK(verifies(ca, leaf2, NULL, "::1"));
    X509_free(leaf2);
    X509_free(ca);
    X509_free(leaf);
    X509_free(chain_ca);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl_test_pki_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    TEST_RUN(test_ca_and_server);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    TEST_REPORT();
}
