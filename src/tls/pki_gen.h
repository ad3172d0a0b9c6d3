/* SPDX-License-Identifier: Apache-2.0
 *
 * Generating the TLS material of a first start (src/server/first_start.c):
 * a private certificate authority and a server certificate it signs, both
 * ECDSA P-256 with SHA-256 signatures, through OpenSSL 3's EVP and X509
 * APIs. The files are PEM, written durably (tmp, fsync, rename, fsync of
 * the directory) with mode 0600:
 *
 *   DIR/ca.key      the CA's private key (PKCS#8)
 *   DIR/ca.crt      the CA certificate: what clients trust
 *   DIR/broker.pem  the server's key store (ssl.keystore.type=PEM): its
 *                   private key, its certificate, then the CA certificate
 *
 * Nothing here prints or logs key material.
 */
#ifndef SL_TLS_PKI_GEN_H
#define SL_TLS_PKI_GEN_H

#include <stdbool.h>
#include <stddef.h>

#define SL_PKI_CA_KEY "ca.key"
#define SL_PKI_CA_CERT "ca.crt"
#define SL_PKI_KEYSTORE "broker.pem"

/* At most this many subject alternative names per server certificate. */
#define SL_PKI_MAX_SANS 16

/* Validity: the CA ten years, the server certificate two. */
#define SL_PKI_CA_DAYS 3650
#define SL_PKI_SERVER_DAYS 730

/* Creates DIR/ca.key and DIR/ca.crt (subject "CN=<cn>, O=Sluice").
 * Borrows everything. Returns 0, or -1 with err. */
int sl_pki_make_ca(const char *dir, const char *cn, char *err, size_t errlen);

/* Creates DIR/broker.pem: a new key and a certificate for cn signed by the
 * CA in DIR (which must exist), with the subject alternative names sans[]:
 * each an IPv4 or IPv6 address (an IP entry) or a host name (a DNS entry);
 * duplicates are dropped. Returns 0, or -1 with err. */
int sl_pki_make_server(const char *dir, const char *cn, const char *const *sans, int n_sans,
                       char *err, size_t errlen);

#endif
