/* SPDX-License-Identifier: Apache-2.0
 *
 * A certificate's subject as the string Kafka builds principals from: Java's
 * X500Principal.getName(), i.e. getName(X500Principal.RFC2253), which the
 * JDK produces in sun.security.x509 (X500Name, RDN, AVA). The rules, which
 * differ from OpenSSL's X509_NAME_print_ex(XN_FLAG_RFC2253) in several ways:
 *
 *  - RDNs most specific first (the reverse of the encoding), joined by ','
 *    with no spaces; the attributes of a multi-valued RDN in their encoded
 *    order, joined by '+'.
 *  - Keywords only for CN, C, L, ST, O, OU, STREET, DC and UID. Every other
 *    type, emailAddress and serialNumber included, is its dotted OID
 *    (1.2.840.113549.1.9.1, 2.5.4.5), and its value is then always '#'
 *    followed by the DER encoding (tag, length, contents) in lower-case hex.
 *  - A value with a keyword is text when its tag is UTF8String,
 *    PrintableString, T61String, IA5String, GeneralString or BMPString; the
 *    contents bytes are decoded as UTF-8 whatever the tag says (a BMPString
 *    "AB" becomes "\00A\00B"), ill-formed bytes becoming U+FFFD. Any other
 *    tag (NumericString, VisibleString, UniversalString, ...) gives #hex.
 *  - Text escapes: a backslash before each of , = + < > # ; " \ anywhere in
 *    the value, NUL as \00, a backslash before each space or CR in the
 *    leading and the trailing run of spaces and CRs. Every other character,
 *    control characters included, is copied as it is.
 */
#ifndef SL_TLS_TLS_DN_H
#define SL_TLS_TLS_DN_H

#include <stddef.h>

#include <openssl/x509.h>

/* Writes cert's subject (cert borrowed) NUL-terminated into out[0..outlen) as
 * Java's X500Principal.getName() does (see above). An empty subject gives
 * "". Returns 0, or -1 if cert is NULL, the name's DER does not parse (Java
 * would not have accepted the certificate either), or the string does not
 * fit in outlen. Thread-safe. */
int sl_tls_subject_dn(const X509 *cert, char *out, size_t outlen);

/* The same from a DER-encoded Name, der[0..derlen) (borrowed): what
 * X500Principal(byte[]) followed by getName() gives. Returns 0 or -1 as
 * above; -1 also for BER lengths (indefinite, or long form where the short
 * form fits) and for bytes after the Name, which Java would accept. On -1,
 * out holds "". Thread-safe. */
int sl_tls_dn_from_der(const unsigned char *der, size_t derlen, char *out, size_t outlen);

#endif
