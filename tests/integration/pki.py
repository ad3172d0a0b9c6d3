# SPDX-License-Identifier: Apache-2.0
"""A test PKI, generated at test time with the `cryptography` package
(tests/requirements.txt), for the TLS tests (12-tls-*.py).

    pki = make_pki(directory)       # the session fixture `pki` in conftest.py does this once

What it makes, all in `directory`:

  ca            "CN=Sluice Test CA,O=Sluice": signs everything below except `stranger`
  other_ca      "CN=Unrelated Test CA,O=Elsewhere": an unrelated CA; signs only `stranger`
  crl           a PEM CRL from `ca` listing `revoked` (and nothing else)
  server        CN=localhost, SAN IP:127.0.0.1 and DNS:localhost, serverAuth and clientAuth; RSA 2048
                (an RSA key, so ECDHE-RSA-* suites are the ones a listener offers)
  server_renewed  the same names, another key and serial (for certificate reload)
  clients       (clientAuth, signed by `ca` unless said otherwise)
    alice     CN=alice,OU=eng,O=Sluice,C=US           RSA 2048
    bob       CN=bob,OU=ops,O=Sluice                  EC P-256
    carol     CN=carol,OU=qa,O=Sluice + emailAddress  EC P-256 (the email attribute comes
              last in the Name, so it leads the RFC 2253 string)
    dave      CN=Dave,OU=SRE,O=Sluice,C=DE            EC P-256 (upper case, for the /L flag)
    probe     CN=probe,OU=harness,O=Sluice            the harness's readiness probe
    stranger  CN=mallory,OU=eng,O=Elsewhere           signed by `other_ca`
    expired   CN=expired,OU=eng,O=Sluice              expired yesterday
    revoked   CN=revoked,OU=eng,O=Sluice              listed in `crl`

Every identity (server and clients) is written as: the certificate (PEM), the
chain (PEM: certificate, then the CA), the private key in PEM unencrypted
(PKCS#8) and encrypted with `password` twice: PKCS#8 with PBES2/AES-256 (what
OpenSSL 3 writes by default; Java 17, and so Apache Kafka's PEM key stores,
cannot read it: "PBES2 SecretKeyFactory not available") and PKCS#8 with
PBE-SHA1-3DES (which Java reads; made with the openssl command, as cryptography
writes only PBES2), a PEM key store file (the Java-readable encrypted key
followed by the chain: Kafka's ssl.keystore.type=PEM file layout) and a PKCS#12
key store (key, certificate, CA; `password`). Each CA
is written as PEM and as a Java trust store: PKCS#12 whose CA entry carries the
attribute Java needs to treat it as a trusted certificate entry (what
`keytool -importcert -storetype PKCS12` makes; cryptography's
serialize_java_truststore writes the same).

Identity.subject is the RFC 2253 string as Java (and so Kafka) writes it, which
is what ssl.principal.mapping.rules are applied to; for carol it shows how
Java writes an attribute without an RFC 2253 keyword (emailAddress): as its
OID and '#' followed by the hex of its DER encoding.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import sluice_harness as h

PASSWORD = "sluice-test-pw"

# Kafka's ssl.cipher.suites names (IANA) of the suites with forward secrecy and
# AEAD: what Sluice offers by default. Apache Kafka's (Java's) default list also
# has CBC suites; tests that check "no CBC" give Kafka this list (and leave
# Sluice at its default).
AEAD_FS_CIPHER_SUITES = ",".join([
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
])


@dataclass(frozen=True)
class Identity:
    name: str
    subject: str          # RFC 2253, as Java's X500Principal.getName() writes it
    cert: Path            # the certificate, PEM
    chain: Path           # certificate then issuing CA, PEM
    key: Path             # private key, PKCS#8 PEM, unencrypted
    key_encrypted: Path   # private key, PKCS#8 PEM, PBES2/AES-256 with `password`
    key_encrypted_java: Path  # private key, PKCS#8 PEM, PBE-SHA1-3DES with `password`
    keystore_pem: Path    # key_encrypted_java + chain in one file (ssl.keystore.type=PEM)
    p12: Path             # PKCS#12: key, certificate, CA; `password`
    password: str
    serial: int


@dataclass(frozen=True)
class CA:
    name: str
    subject: str
    cert: Path            # PEM
    key: Path             # PEM, unencrypted
    truststore_p12: Path  # Java trust store (PKCS#12, trusted certificate entry); `password`
    password: str


@dataclass(frozen=True)
class Pki:
    dir: Path
    password: str
    ca: CA
    other_ca: CA
    crl: Path             # PEM CRL from `ca`, listing `revoked`
    server: Identity
    server_renewed: Identity
    clients: dict[str, Identity] = field(default_factory=dict)

    # -- what a client needs
    def client(self, who: Optional[str | Identity] = None, ca: Optional[CA] = None) -> h.TlsClient:
        """TLS settings of a client that trusts `ca` (default: the test CA) and,
        with `who`, presents that identity's certificate (mutual TLS)."""
        ca = ca or self.ca
        ident = self.clients[who] if isinstance(who, str) else who
        return h.TlsClient(
            ca_pem=ca.cert, truststore_p12=ca.truststore_p12, password=self.password,
            cert_pem=ident.cert if ident else None,
            key_pem=ident.key_encrypted if ident else None,
            keystore_p12=ident.p12 if ident else None,
            name=ident.name if ident else "anonymous",
        )

    # -- what the broker needs
    def broker_ssl_config(self, store: str = "PKCS12", client_auth: Optional[str] = None,
                          prefix: str = "", server: Optional[Identity] = None,
                          crl: bool = False) -> dict[str, str]:
        """The broker's ssl.* keys for an SSL listener with `server`'s certificate,
        trusting the test CA. store: "PKCS12" (.p12 key and trust stores with
        passwords), "PEM" (a PEM key store file with an encrypted key and
        ssl.key.password, a PEM trust store file) or "INLINE" (ssl.keystore.key,
        ssl.keystore.certificate.chain and ssl.truststore.certificates as PEM
        text). PEM keys are the PBE-SHA1-3DES ones, which Kafka reads too.
        client_auth: ssl.client.auth, unset when None. prefix: e.g.
        "listener.name.ssl." for one listener only. crl: also Sluice's
        sluice.ssl.crl.location (Kafka has no such key)."""
        s = server or self.server
        if store == "PKCS12":
            c = {
                "ssl.keystore.type": "PKCS12",
                "ssl.keystore.location": str(s.p12),
                "ssl.keystore.password": self.password,
                "ssl.key.password": self.password,
                "ssl.truststore.type": "PKCS12",
                "ssl.truststore.location": str(self.ca.truststore_p12),
                "ssl.truststore.password": self.password,
            }
        elif store == "PEM":
            c = {
                "ssl.keystore.type": "PEM",
                "ssl.keystore.location": str(s.keystore_pem),
                "ssl.key.password": self.password,
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": str(self.ca.cert),
            }
        elif store == "INLINE":
            c = {
                "ssl.keystore.type": "PEM",
                "ssl.keystore.key": s.key_encrypted_java.read_text(),
                "ssl.keystore.certificate.chain": s.chain.read_text(),
                "ssl.key.password": self.password,
                "ssl.truststore.type": "PEM",
                "ssl.truststore.certificates": self.ca.cert.read_text(),
            }
        else:
            raise ValueError(f"store {store!r}")
        if client_auth is not None:
            c["ssl.client.auth"] = client_auth
        if crl:
            c["sluice.ssl.crl.location"] = str(self.crl)
        return {prefix + k: v for k, v in c.items()}

    def write_crl(self, path: Path | str, revoked: list[Identity], number: int = 2) -> Path:
        """A CRL from the test CA listing `revoked` (PEM), written to path
        atomically (a temporary file renamed over it, as tools that rotate
        certificate files do)."""
        ca_key = serialization.load_pem_private_key(self.ca.key.read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate(self.ca.cert.read_bytes())
        data = _crl(ca_key, ca_cert, [i.serial for i in revoked], number)
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        return path


# --------------------------------------------------------------------------
# generation

def _name(*attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    """attrs in RFC 2253 order (most specific first); the Name's DER order is the reverse."""
    return x509.Name([x509.NameAttribute(oid, v) for oid, v in reversed(attrs)])


def _java_rfc2253(name: x509.Name) -> str:
    """Java's X500Principal.getName() for the simple names used here: RFC 2253
    keywords CN, OU, O, C, ...; any other attribute as OID=#<hex DER>."""
    keywords = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
                NameOID.ORGANIZATION_NAME: "O", NameOID.COUNTRY_NAME: "C",
                NameOID.LOCALITY_NAME: "L", NameOID.STATE_OR_PROVINCE_NAME: "ST"}
    parts = []
    for rdn in reversed(name.rdns):
        (a,) = list(rdn)
        if a.oid in keywords:
            assert not any(c in a.value for c in ',+"\\<>;=#'), a.value
            parts.append(f"{keywords[a.oid]}={a.value}")
        else:
            # Java writes OID=#<hex of the value's DER>. Here only emailAddress,
            # which cryptography encodes as an IA5String (tag 0x16), short.
            assert a.oid == NameOID.EMAIL_ADDRESS, a.oid
            raw = a.value.encode()
            assert len(raw) < 128
            parts.append(f"{a.oid.dotted_string}=#{bytes([0x16, len(raw)]).hex()}{raw.hex()}")
    return ",".join(parts)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _pem_cert(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.PEM)


def _key(kind: str):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _make_ca(d: Path, slug: str, subject: x509.Name, password: str) -> tuple[CA, object, x509.Certificate]:
    key = _key("rsa")
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    enc = serialization.BestAvailableEncryption(password.encode())
    ca = CA(
        name=slug,
        subject=_java_rfc2253(subject),
        cert=_write(d / f"{slug}.pem", _pem_cert(cert)),
        key=_write(d / f"{slug}.key.pem", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        truststore_p12=_write(d / f"{slug}.truststore.p12", pkcs12.serialize_java_truststore(
            [pkcs12.PKCS12Certificate(cert, slug.encode())], enc)),
        password=password,
    )
    return ca, key, cert


def _issue(d: Path, slug: str, subject: x509.Name, ca_key, ca_cert: x509.Certificate, *,
           server: bool, key_kind: str, password: str,
           not_before: Optional[dt.datetime] = None, not_after: Optional[dt.datetime] = None) -> Identity:
    key = _key(key_kind)
    now = _now()
    serial = x509.random_serial_number()
    b = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=key_kind == "rsa", data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        # A broker certificate has clientAuth too: with ssl.client.auth=required,
        # Apache Kafka refuses to start unless its own certificate could also
        # pass as a client one (it test-connects its key store to itself).
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH] if server
            else [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    )
    if server:
        b = b.add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
    cert = b.sign(ca_key, hashes.SHA256())
    enc = serialization.BestAvailableEncryption(password.encode())
    key_plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    key_enc = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    key_path = _write(d / f"{slug}.key.pem", key_plain)
    java_path = d / f"{slug}.key.enc-java.pem"
    r = subprocess.run(["openssl", "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", str(key_path),
                        "-passout", "env:SLUICE_PKI_PW", "-out", str(java_path)],
                       capture_output=True, env={**os.environ, "SLUICE_PKI_PW": password}, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl pkcs8 -v1 PBE-SHA1-3DES failed: {r.stderr.decode(errors='replace')}")
    chain = _pem_cert(cert) + _pem_cert(ca_cert)
    return Identity(
        name=slug,
        subject=_java_rfc2253(subject),
        cert=_write(d / f"{slug}.pem", _pem_cert(cert)),
        chain=_write(d / f"{slug}.chain.pem", chain),
        key=key_path,
        key_encrypted=_write(d / f"{slug}.key.enc.pem", key_enc),
        key_encrypted_java=java_path,
        keystore_pem=_write(d / f"{slug}.keystore.pem", java_path.read_bytes() + chain),
        p12=_write(d / f"{slug}.p12", pkcs12.serialize_key_and_certificates(
            slug.encode(), key, cert, [ca_cert], enc)),
        password=password,
        serial=serial,
    )


def _crl(ca_key, ca_cert: x509.Certificate, serials: list[int], number: int) -> bytes:
    now = _now()
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=30))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    )
    for serial in serials:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - dt.timedelta(hours=1))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build())
    return b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def make_pki(directory: Path | str, password: str = PASSWORD) -> Pki:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    N = NameOID
    ca, ca_key, ca_cert = _make_ca(d, "ca", _name((N.COMMON_NAME, "Sluice Test CA"), (N.ORGANIZATION_NAME, "Sluice")),
                                   password)
    other, other_key, other_cert = _make_ca(
        d, "other-ca", _name((N.COMMON_NAME, "Unrelated Test CA"), (N.ORGANIZATION_NAME, "Elsewhere")), password)

    def issue(slug, subject, *, signer=(ca_key, ca_cert), server=False, key_kind="ec", **kw):
        return _issue(d, slug, subject, signer[0], signer[1], server=server, key_kind=key_kind,
                      password=password, **kw)

    server_name = _name((N.COMMON_NAME, "localhost"), (N.ORGANIZATION_NAME, "Sluice"))
    server = issue("server", server_name, server=True, key_kind="rsa")
    server_renewed = issue("server-renewed", server_name, server=True, key_kind="rsa")
    now = _now()
    clients = {
        "alice": issue("alice", _name((N.COMMON_NAME, "alice"), (N.ORGANIZATIONAL_UNIT_NAME, "eng"),
                                      (N.ORGANIZATION_NAME, "Sluice"), (N.COUNTRY_NAME, "US")), key_kind="rsa"),
        "bob": issue("bob", _name((N.COMMON_NAME, "bob"), (N.ORGANIZATIONAL_UNIT_NAME, "ops"),
                                  (N.ORGANIZATION_NAME, "Sluice"))),
        "carol": issue("carol", _name((N.EMAIL_ADDRESS, "carol@example.com"), (N.COMMON_NAME, "carol"),
                                      (N.ORGANIZATIONAL_UNIT_NAME, "qa"), (N.ORGANIZATION_NAME, "Sluice"))),
        "dave": issue("dave", _name((N.COMMON_NAME, "Dave"), (N.ORGANIZATIONAL_UNIT_NAME, "SRE"),
                                    (N.ORGANIZATION_NAME, "Sluice"), (N.COUNTRY_NAME, "DE"))),
        "probe": issue("probe", _name((N.COMMON_NAME, "probe"), (N.ORGANIZATIONAL_UNIT_NAME, "harness"),
                                      (N.ORGANIZATION_NAME, "Sluice"))),
        "stranger": issue("stranger", _name((N.COMMON_NAME, "mallory"), (N.ORGANIZATIONAL_UNIT_NAME, "eng"),
                                            (N.ORGANIZATION_NAME, "Elsewhere")), signer=(other_key, other_cert)),
        "expired": issue("expired", _name((N.COMMON_NAME, "expired"), (N.ORGANIZATIONAL_UNIT_NAME, "eng"),
                                          (N.ORGANIZATION_NAME, "Sluice")),
                         not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)),
        "revoked": issue("revoked", _name((N.COMMON_NAME, "revoked"), (N.ORGANIZATIONAL_UNIT_NAME, "eng"),
                                          (N.ORGANIZATION_NAME, "Sluice"))),
    }
    crl_path = _write(d / "ca.crl.pem", _crl(ca_key, ca_cert, [clients["revoked"].serial], 1))
    return Pki(dir=d, password=password, ca=ca, other_ca=other, crl=crl_path,
               server=server, server_renewed=server_renewed, clients=clients)
