# SPDX-License-Identifier: Apache-2.0
"""TLS listeners (issue 4): what an SSL listener with ssl.client.auth=required
refuses, and that it keeps serving good clients after each refusal.

Refused, each checked with Python's ssl module (the exact TLS alert) and with
real clients (kafka-topics, confluent-kafka): a client certificate from an
unrelated CA, an expired one, a revoked one (Sluice only: CRLs), none at all;
a client offering only TLS 1.1; one offering only a suite without AEAD or
without forward secrecy (TLS 1.2); a plaintext Kafka client on the SSL port.
Sluice only: a client that stays silent (or stops in its ClientHello) is cut
after sluice.ssl.handshake.timeout.ms, and a replaced CRL file is picked up
within sluice.ssl.reload.check.interval.ms.

The module's broker: listeners=SSL://127.0.0.1:PORT,
  ssl.keystore.type=PKCS12, ssl.keystore.location=server.p12, ssl.keystore.password,
  ssl.key.password, ssl.truststore.type=PKCS12,
  ssl.truststore.location=ca.truststore.p12, ssl.truststore.password,
  ssl.client.auth=required
  Sluice also:  sluice.ssl.crl.location=ca.crl.pem (lists `revoked`),
                sluice.ssl.handshake.timeout.ms=1500 (x3 for a sanitized build)
  Kafka also:   ssl.cipher.suites=<pki.AEAD_FS_CIPHER_SUITES> (Java's default list has CBC
                and RSA key exchange suites; Sluice must refuse those by default)

Alerts: in TLS 1.3 the client finishes its handshake before the server has
judged its certificate, so h.tls_refusal waits for the server's verdict before
writing. The alerts differ by implementation; Sluice's are the ones OpenSSL
sends when it verifies the client itself (checked with an OpenSSL 3.0 server):
unknown_ca, certificate_expired, certificate_revoked, and for no certificate
handshake_failure (TLS 1.2) or certificate_required (TLS 1.3). Apache Kafka
4.1 (Java 17) sends certificate_unknown for the first two and bad_certificate
for none, in both versions.
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
import time
import warnings

import pytest

import pki as pki_mod
import sluice_harness as h

CLOSE_DEADLINE = 10 * h.SLOWDOWN
HANDSHAKE_TIMEOUT_MS = int(1500 * h.SLOWDOWN)
V12, V13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


def module_config(pki) -> dict[str, str]:
    cfg = pki.broker_ssl_config(store="PKCS12", client_auth="required", crl=h.TARGET != "kafka")
    if h.TARGET == "kafka":
        cfg["ssl.cipher.suites"] = pki_mod.AEAD_FS_CIPHER_SUITES
    else:
        cfg["sluice.ssl.handshake.timeout.ms"] = str(HANDSHAKE_TIMEOUT_MS)
    return cfg


@pytest.fixture(scope="module")
def rb(tmp_path_factory, pki, request):
    """One broker for the module: every refusal is followed by a good client on the same broker."""
    b = h.Broker(tmp_path_factory.mktemp("tls-rejected"), config=module_config(pki),
                 listeners=["SSL"], tls=pki.client("probe"))
    request.module._sluice_shared = b
    b.start()
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def still_serving(b, pki) -> None:
    """The broker is alive and a good client (alice) gets ApiVersions over TLS."""
    b.check_alive()
    v = h.api_versions(b.host, b.port, timeout=10 * h.SLOWDOWN, ssl_context=pki.client("alice").ssl_context())
    assert 18 in v, v


# --------------------------------------------------------------------------
# bad client certificates, precisely (Python's ssl)

# (identity, TLS version) -> the alert the client receives
ALERTS = {
    "kafka": {
        "stranger": {V12: "SSLV3_ALERT_CERTIFICATE_UNKNOWN", V13: "SSLV3_ALERT_CERTIFICATE_UNKNOWN"},
        "expired": {V12: "SSLV3_ALERT_CERTIFICATE_UNKNOWN", V13: "SSLV3_ALERT_CERTIFICATE_UNKNOWN"},
        None: {V12: "SSLV3_ALERT_BAD_CERTIFICATE", V13: "SSLV3_ALERT_BAD_CERTIFICATE"},
    },
    "sluice": {
        "stranger": {V12: "TLSV1_ALERT_UNKNOWN_CA", V13: "TLSV1_ALERT_UNKNOWN_CA"},
        "expired": {V12: "SSLV3_ALERT_CERTIFICATE_EXPIRED", V13: "SSLV3_ALERT_CERTIFICATE_EXPIRED"},
        "revoked": {V12: "SSLV3_ALERT_CERTIFICATE_REVOKED", V13: "SSLV3_ALERT_CERTIFICATE_REVOKED"},
        None: {V12: "SSLV3_ALERT_HANDSHAKE_FAILURE", V13: "TLSV13_ALERT_CERTIFICATE_REQUIRED"},
    },
}


@pytest.mark.parametrize("version", [V12, V13], ids=["tls1.2", "tls1.3"])
@pytest.mark.parametrize("who", ["stranger", "expired", "revoked", None],
                         ids=["unrelated-ca", "expired", "revoked", "no-certificate"])
def test_bad_client_certificate_refused(rb, pki, who, version):
    """The broker refuses the client with the expected TLS alert (ALERTS), then serves alice."""
    if who == "revoked":
        h.only_on_sluice("Kafka does not check CRLs (sluice.ssl.crl.location is Sluice's)")
    ctx = pki.client(who).ssl_context()
    ctx.maximum_version = version
    how = h.tls_refusal(rb.host, rb.port, ctx)
    want = ALERTS[h.TARGET][who][version]
    assert how == want, f"{pki.client(who).name} over {version.name}: refused with {how}, expected {want}"
    still_serving(rb, pki)


def test_good_certificate_accepted_in_both_versions(rb, pki):
    """The control for the above: the same client code with alice's certificate is served."""
    for version in (V12, V13):
        ctx = pki.client("alice").ssl_context()
        ctx.maximum_version = version
        v = h.api_versions(rb.host, rb.port, timeout=10 * h.SLOWDOWN, ssl_context=ctx)
        assert 18 in v, (version, v)


# --------------------------------------------------------------------------
# bad client certificates, with real clients


def test_java_client_with_unrelated_ca_certificate(rb, pki):
    """kafka-topics --list with mallory's key store (signed by the unrelated CA) fails fast."""
    r = h.kafka_tool("kafka-topics", "--bootstrap-server", rb.bootstrap, "--list",
                     "--command-config", str(pki.client("stranger").java_properties()),
                     check=False, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode != 0, f"kafka-topics --list succeeded with an untrusted certificate: {r.stdout!r}"
    assert "SslAuthenticationException" in err, err[-3000:]
    still_serving(rb, pki)


@pytest.mark.parametrize("who", ["stranger", "expired", "revoked", None],
                         ids=["unrelated-ca", "expired", "revoked", "no-certificate"])
def test_confluent_client_refused(rb, pki, who):
    """confluent-kafka gets no metadata, and its error callback reports the TLS alert."""
    if who == "revoked":
        h.only_on_sluice("Kafka does not check CRLs")
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    errors = []
    conf = {"bootstrap.servers": rb.bootstrap, "socket.timeout.ms": 5000,
            "error_cb": lambda e: errors.append(e.str())}
    conf.update(pki.client(who).librdkafka())
    a = AdminClient(conf)
    with pytest.raises(KafkaException):
        a.list_topics(timeout=5)

    def alert_reported() -> bool:
        a.poll(0.2)  # error callbacks run here
        return any(re.search(r"SSL.*alert", e) for e in errors)

    h.wait_for(alert_reported, 10 * h.SLOWDOWN, f"confluent-kafka reporting the TLS alert (errors: {errors[:3]})")
    still_serving(rb, pki)
    ok = h.admin_client(rb.bootstrap, pki.client("alice")).list_topics(timeout=10)
    assert ok.brokers, ok


# --------------------------------------------------------------------------
# protocol versions and cipher suites


def _legacy_context(pki, lo: ssl.TLSVersion, hi: ssl.TLSVersion) -> ssl.SSLContext:
    """alice's client context allowed to offer old versions (OpenSSL security level 0)."""
    ctx = pki.client("alice").ssl_context()
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ssl.TLSVersion.TLSv1_1
        ctx.minimum_version = lo
        ctx.maximum_version = hi
    return ctx


def test_tls11_only_client_refused(rb, pki):
    """A client offering only TLS 1.1 gets a protocol_version alert from the
    broker (an alert received, not a local failure); the same client allowed
    TLS 1.1-1.2 is served over TLS 1.2."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        v11 = ssl.TLSVersion.TLSv1_1
    how = h.tls_refusal(rb.host, rb.port, _legacy_context(pki, v11, v11))
    assert how == "TLSV1_ALERT_PROTOCOL_VERSION", how
    still_serving(rb, pki)
    ctx = _legacy_context(pki, v11, V12)
    with socket.create_connection((rb.host, rb.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=rb.host) as s:
            assert s.version() == "TLSv1.2", s.version()


@pytest.mark.parametrize("cipher", [
    "ECDHE-RSA-AES128-SHA256",   # forward secrecy, CBC
    "ECDHE-RSA-AES256-SHA",      # forward secrecy, CBC, SHA-1
    "AES128-GCM-SHA256",         # AEAD, RSA key exchange (no forward secrecy)
    "AES256-SHA256",             # neither
])
def test_weak_cipher_only_client_refused(rb, pki, cipher):
    """TLS 1.2 at most and a single suite without AEAD or forward secrecy:
    handshake_failure (no shared suite)."""
    ctx = pki.client("alice").ssl_context()
    ctx.maximum_version = V12
    ctx.set_ciphers(cipher)
    assert [c["name"] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"] == [cipher], ctx.get_ciphers()
    how = h.tls_refusal(rb.host, rb.port, ctx)
    assert how == "SSLV3_ALERT_HANDSHAKE_FAILURE", f"{cipher}: {how}"
    still_serving(rb, pki)


def test_aead_cipher_control(rb, pki):
    """The control: the same client code with ECDHE-RSA-AES128-GCM-SHA256 is served."""
    ctx = pki.client("alice").ssl_context()
    ctx.maximum_version = V12
    ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    with socket.create_connection((rb.host, rb.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=rb.host) as s:
            assert s.cipher()[0] == "ECDHE-RSA-AES128-GCM-SHA256", s.cipher()


# --------------------------------------------------------------------------
# not TLS at all


def read_until_closed(sock: socket.socket, deadline_s: float, what: str) -> bytes:
    """Everything the peer sends until it closes (EOF or reset); fails at the deadline."""
    end = time.monotonic() + deadline_s
    buf = bytearray()
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{what}: connection still open after {deadline_s:.0f}s "
                                 f"(received {bytes(buf[:40]).hex()})")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(buf)
        except socket.timeout:
            continue
        if not chunk:
            return bytes(buf)
        buf += chunk


def assert_only_tls_alerts(data: bytes, what: str) -> None:
    """data is empty or TLS alert records only (content type 21): never a Kafka response."""
    i = 0
    while i < len(data):
        assert len(data) - i >= 5 and data[i] == 21 and data[i + 1] == 3, \
            f"{what}: got something other than TLS alerts: {data[i:i + 40].hex()}"
        (n,) = struct.unpack(">H", data[i + 3:i + 5])
        i += 5 + n
    assert i == len(data), f"{what}: truncated TLS record: {data.hex()}"


def _plain_api_versions_request() -> bytes:
    body = struct.pack(">hhih", 18, 0, 4242, 5) + b"plain"
    return struct.pack(">i", len(body)) + body


def test_plaintext_client_on_ssl_port(rb, pki):
    """A plaintext ApiVersions request to the SSL port: the broker closes the
    connection, sending at most TLS alerts, and keeps serving; a plaintext
    confluent-kafka client gets no metadata."""
    with socket.create_connection((rb.host, rb.port), timeout=10) as s:
        s.sendall(_plain_api_versions_request())
        data = read_until_closed(s, CLOSE_DEADLINE, "plaintext ApiVersions on the SSL port")
    assert_only_tls_alerts(data, "plaintext ApiVersions on the SSL port")
    still_serving(rb, pki)

    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    a = AdminClient({"bootstrap.servers": rb.bootstrap, "security.protocol": "plaintext", "socket.timeout.ms": 5000})
    with pytest.raises(KafkaException):
        a.list_topics(timeout=5)
    still_serving(rb, pki)


@pytest.mark.parametrize("send", [b"", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"],
                         ids=["silent", "partial-client-hello"])
def test_stalled_handshake_cut(rb, pki, send):
    """A client that connects and sends nothing, or stops inside its
    ClientHello, is disconnected after sluice.ssl.handshake.timeout.ms."""
    h.only_on_sluice("Kafka has no TLS handshake timeout (only connections.max.idle.ms, 10 minutes)")
    t0 = time.monotonic()
    with socket.create_connection((rb.host, rb.port), timeout=10) as s:
        s.sendall(send)
        data = read_until_closed(s, HANDSHAKE_TIMEOUT_MS / 1000 + CLOSE_DEADLINE, "a stalled TLS handshake")
    took = time.monotonic() - t0
    assert took >= HANDSHAKE_TIMEOUT_MS / 1000 * 0.8, f"cut after {took:.2f}s, before the handshake timeout"
    assert_only_tls_alerts(data, "a stalled TLS handshake")
    still_serving(rb, pki)


# --------------------------------------------------------------------------
# CRL reload (Sluice only)


def test_crl_reload_revokes_for_new_connections(broker_factory, pki, tmp_path):
    """A CRL file replaced by one that also lists alice: within
    sluice.ssl.reload.check.interval.ms, new connections with alice's
    certificate are refused (certificate_revoked); a connection opened before
    keeps working; bob is still served."""
    h.only_on_sluice("Kafka does not check CRLs")
    crl = tmp_path / "live.crl.pem"
    pki.write_crl(crl, [pki.clients["revoked"]], number=1)
    cfg = pki.broker_ssl_config(store="PEM", client_auth="required")
    cfg.update({"sluice.ssl.crl.location": str(crl), "sluice.ssl.reload.check.interval.ms": "200"})
    b = broker_factory(config=cfg, listeners=["SSL"], tls=pki.client("probe")).start()

    def tls12(who):
        ctx = pki.client(who).ssl_context()
        ctx.maximum_version = V12  # the refusal comes in the handshake: quick to poll
        return ctx

    assert h.tls_refusal(b.host, b.port, tls12("revoked")) == "SSLV3_ALERT_CERTIFICATE_REVOKED"
    early = socket.create_connection((b.host, b.port), timeout=10)
    early_tls = pki.client("alice").ssl_context().wrap_socket(early, server_hostname=b.host)
    try:
        pki.write_crl(crl, [pki.clients["revoked"], pki.clients["alice"]], number=2)
        h.wait_for(lambda: h.tls_refusal(b.host, b.port, tls12("alice"), timeout=2)
                   == "SSLV3_ALERT_CERTIFICATE_REVOKED",
                   10 * h.SLOWDOWN, "alice refused as revoked after the CRL file changed")
        body = struct.pack(">hhih", 18, 0, 99, 5) + b"early"
        early_tls.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", h._recv_exact(early_tls, 4))
        resp = h._recv_exact(early_tls, size)
        assert struct.unpack(">i", resp[:4])[0] == 99, resp[:8].hex()
    finally:
        early_tls.close()
    v = h.api_versions(b.host, b.port, timeout=10, ssl_context=pki.client("bob").ssl_context())
    assert 18 in v


# --------------------------------------------------------------------------


def test_broker_still_serves_real_clients(rb, pki):
    """After all of the above, records round-trip with confluent-kafka (alice)."""
    tls = pki.client("alice")
    topic = "tls-after-refusals"
    h.create_topic(rb.bootstrap, topic, 2, tls=tls)
    recs = h.make_records(1000, seed=12101, partitions=2)
    h.produce_confluent(rb.bootstrap, topic, recs, tls=tls)
    h.check_consumed(recs, h.consume_confluent(rb.bootstrap, topic, 2, len(recs), tls=tls), 2)
    rb.check_alive()
