# SPDX-License-Identifier: Apache-2.0
"""TLS listeners (issue 4): scan an SSL listener as an auditor would.

sslscan (Debian's 2.0.7, scripts/install-deps.sh) enumerates the protocol
versions and cipher suites the listener accepts (--xml=-); the test fails on
any protocol below TLS 1.2, any accepted suite without forward secrecy
(ECDHE/DHE key exchange; every TLS 1.3 suite has it) or without AEAD (GCM,
ChaCha20-Poly1305, CCM; every TLS 1.3 suite is), TLS compression,
renegotiation, or Heartbleed.

Two of those sslscan cannot judge here, so the test checks them itself:
  - compression: sslscan built against Debian's OpenSSL (no zlib) skips the
    check and prints no <compression> element. The test sends its own TLS 1.2
    ClientHello offering DEFLATE: the ServerHello must pick null compression,
    and a ClientHello offering DEFLATE alone must be refused.
  - renegotiation: sslscan 2.0.7 reports "not supported" even for a server that
    renegotiates (seen with `openssl s_server -client_renegotiation`). The test
    asks for a client-initiated renegotiation over TLS 1.2 with `openssl
    s_client` (its R command) and fails on a second ServerHello. Controls
    against `openssl s_server` with and without renegotiation show that the
    probe tells them apart.

Which configuration is scanned: Sluice with its defaults (no
ssl.cipher.suites, no ssl.enabled.protocols): the defaults must pass. Apache
Kafka's defaults do not (Java enables CBC suites and RSA key exchange, see
test_scan_flags_kafka_default_suites), so against Kafka the scanned broker gets
ssl.cipher.suites=<pki.AEAD_FS_CIPHER_SUITES>; with it Kafka 4.1 passes.
Other broker keys: listeners=SSL://127.0.0.1:PORT, PKCS12 key and trust
stores, ssl.client.auth=none or required.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import xml.etree.ElementTree as ET

import pytest

import pki as pki_mod
import sluice_harness as h

SSLSCAN_TIMEOUT = 300 * h.SLOWDOWN


def sslscan_xml(host: str, port: int) -> str:
    exe = shutil.which("sslscan")
    assert exe, "sslscan is not installed: run scripts/install-deps.sh all"
    # --no-groups: enumerating key exchange groups takes minutes against a JVM
    # and says nothing about the checks here.
    r = h.run([exe, "--xml=-", "--no-colour", "--no-groups", f"{host}:{port}"], timeout=SSLSCAN_TIMEOUT)
    out = r.stdout.decode("utf-8", "replace")
    assert out.lstrip().startswith("<?xml"), f"sslscan printed no XML:\n{out[:2000]}\n{r.stderr.decode()[:2000]}"
    return out


_FS = re.compile(r"^(ECDHE|DHE|EDH)-|^TLS_(ECDHE|DHE)_")
_AEAD = re.compile(r"GCM|CHACHA20.POLY1305|CCM")


def scan_problems(xml_text: str) -> list[str]:
    """What is wrong in sslscan's XML report; [] when all is well."""
    root = ET.fromstring(xml_text)
    test = root.find("ssltest")
    if test is None:
        return ["sslscan reported no <ssltest>: it did not reach the listener"]
    problems = []
    protocols = {(p.get("type"), p.get("version")): p.get("enabled") == "1" for p in test.iter("protocol")}
    for (kind, version), enabled in sorted(protocols.items()):
        if enabled and (kind == "ssl" or version in ("1.0", "1.1")):
            problems.append(f"protocol {kind.upper()} {version} enabled")
    if not protocols.get(("tls", "1.2")) and not protocols.get(("tls", "1.3")):
        problems.append(f"neither TLS 1.2 nor TLS 1.3 reported enabled ({protocols}): the scan did not work")
    accepted = [c for c in test.iter("cipher") if c.get("status") in ("accepted", "preferred")]
    if not accepted:
        problems.append("no accepted cipher suite reported: the scan did not work")
    for c in accepted:
        name, version = c.get("cipher", "?"), c.get("sslversion", "?")
        if version not in ("TLSv1.2", "TLSv1.3"):
            problems.append(f"{name} accepted with {version}")
        if version != "TLSv1.3" and not _FS.search(name):
            problems.append(f"{name} ({version}) accepted: no forward secrecy")
        if version != "TLSv1.3" and not _AEAD.search(name):
            problems.append(f"{name} ({version}) accepted: not AEAD")
    for r in test.iter("renegotiation"):
        if r.get("supported") == "1":
            problems.append(f"renegotiation supported (secure={r.get('secure')})")
    for c in test.iter("compression"):
        if c.get("supported") != "0":
            problems.append(f"TLS compression supported ({c.get('supported')})")
    for hb in test.iter("heartbleed"):
        if hb.get("vulnerable") != "0":
            problems.append(f"Heartbleed ({hb.get('sslversion')}): vulnerable={hb.get('vulnerable')}")
    return problems


# --------------------------------------------------------------------------
# compression: a hand-made TLS 1.2 ClientHello

NULL, DEFLATE = 0, 1


def client_hello_12(compressions: bytes) -> bytes:
    """A TLS 1.2 ClientHello with ECDHE AEAD suites (RSA and ECDSA) and the given
    compression methods."""
    suites = [0xC02F, 0xC030, 0xCCA8, 0xC02B, 0xC02C, 0xCCA9]
    body = b"\x03\x03" + os.urandom(32) + b"\x00"
    cs = b"".join(struct.pack(">H", x) for x in suites)
    body += struct.pack(">H", len(cs)) + cs + bytes([len(compressions)]) + compressions

    def ext(kind: int, data: bytes) -> bytes:
        return struct.pack(">HH", kind, len(data)) + data

    groups = struct.pack(">HH", 0x001D, 0x0017)
    sigs = b"".join(struct.pack(">H", x) for x in (0x0804, 0x0805, 0x0401, 0x0501, 0x0403, 0x0503))
    exts = (ext(0x000A, struct.pack(">H", len(groups)) + groups)   # supported_groups
            + ext(0x000B, b"\x01\x00")                             # ec_point_formats
            + ext(0x000D, struct.pack(">H", len(sigs)) + sigs)     # signature_algorithms
            + ext(0xFF01, b"\x00"))                                # renegotiation_info
    body += struct.pack(">H", len(exts)) + exts
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def server_hello_compression(host: str, port: int, compressions: bytes, timeout: float = 10 * h.SLOWDOWN):
    """Sends the ClientHello; returns the ServerHello's compression method (int),
    or a str: "alert <level>/<description>" or "closed"."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(client_hello_12(compressions))
        hs = b""
        while True:
            try:
                head = h._recv_exact(s, 5)
                body = h._recv_exact(s, struct.unpack(">H", head[3:5])[0])
            except socket.timeout:
                raise AssertionError(f"no ServerHello nor alert within {timeout:.0f}s")
            except OSError:  # closed or reset
                return "closed"
            if head[0] == 21:
                return f"alert {body[0]}/{body[1]}"
            assert head[0] == 22, f"unexpected TLS record type {head[0]} before the ServerHello"
            hs += body
            if len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
                assert hs[0] == 2, f"first handshake message is type {hs[0]}, not ServerHello"
                sid_len = hs[4 + 2 + 32]
                return hs[4 + 2 + 32 + 1 + sid_len + 2]


def check_no_compression(host: str, port: int) -> None:
    """Offered DEFLATE and null, the server picks null. Offered DEFLATE alone it
    must not pick DEFLATE: OpenSSL refuses such a ClientHello; Java (Kafka)
    answers with null anyway, which is lax but not compression."""
    got = server_hello_compression(host, port, bytes([DEFLATE, NULL]))
    assert got == NULL, f"offered DEFLATE and null compression: the server chose {got!r}"
    got = server_hello_compression(host, port, bytes([DEFLATE]))
    assert got == NULL or isinstance(got, str), \
        f"offered only DEFLATE compression: the server chose compression method {got}"


# --------------------------------------------------------------------------
# renegotiation: openssl s_client's R command over TLS 1.2


def renegotiation(host: str, port: int, ca, cert=None, key=None) -> str:
    """"accepted" if the server answers a client-initiated renegotiation with a
    second ServerHello; otherwise how it refused ("refused: ..."). TLS 1.2 (TLS 1.3
    has no renegotiation)."""
    argv = ["openssl", "s_client", "-tls1_2", "-connect", f"{host}:{port}", "-CAfile", str(ca),
            "-verify_return_error", "-msg"]
    if cert:
        argv += ["-cert", str(cert), "-key", str(key)]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    lines: list[str] = []
    server_hello = re.compile(r"^<<< .*Handshake .*, ServerHello$")

    def hellos() -> int:
        return sum(1 for x in list(lines) if server_hello.match(x))

    def reader():
        for raw in p.stdout:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        h.wait_for(lambda: p.poll() is not None or any("Verify return code:" in x for x in lines),
                   30 * h.SLOWDOWN, "openssl s_client's TLS 1.2 handshake")
        assert any("Verify return code: 0 (ok)" in x for x in lines), \
            "s_client handshake failed:\n" + "\n".join(lines[-30:])
        assert hellos() == 1, "\n".join(x for x in lines if x.startswith(("<<<", ">>>")))
        p.stdin.write(b"R\n")
        p.stdin.flush()

        def verdict():
            if hellos() >= 2:
                return "accepted"
            alerts = [x for x in lines if x.startswith("<<<") and "Alert" in x]
            if alerts:
                return "refused: " + alerts[-1]
            if p.poll() is not None:
                t.join(5)
                return "refused: connection closed"
            return None

        return h.wait_for(verdict, 30 * h.SLOWDOWN, "the server's answer to a renegotiation request")
    finally:
        if p.poll() is None:
            os.killpg(p.pid, 9)
        p.wait(10)
        t.join(5)


# --------------------------------------------------------------------------
# the scans


def scanned_broker(broker_factory, pki, client_auth: str, suites=None) -> h.Broker:
    cfg = pki.broker_ssl_config(store="PKCS12", client_auth=client_auth)
    if suites:
        cfg["ssl.cipher.suites"] = suites
    return broker_factory(config=cfg, listeners=["SSL"], tls=pki.client("probe")).start()


@pytest.mark.parametrize("client_auth", ["none", "required"])
def test_listener_scan(broker_factory, pki, client_auth):
    """Sluice's defaults (Kafka: with AEAD_FS_CIPHER_SUITES) pass sslscan,
    the compression probe and the renegotiation probe."""
    b = scanned_broker(broker_factory, pki, client_auth,
                       suites=pki_mod.AEAD_FS_CIPHER_SUITES if h.TARGET == "kafka" else None)
    report = sslscan_xml(b.host, b.port)
    problems = scan_problems(report)
    assert not problems, "sslscan:\n  " + "\n  ".join(problems)
    check_no_compression(b.host, b.port)
    alice = pki.clients["alice"]
    how = renegotiation(b.host, b.port, pki.ca.cert, alice.cert, alice.key)
    assert how != "accepted", "the listener renegotiated a TLS 1.2 session on the client's request"
    b.check_alive()
    v = h.api_versions(b.host, b.port, timeout=10, ssl_context=pki.client("alice").ssl_context())
    assert 18 in v


def test_scan_flags_kafka_default_suites(broker_factory, pki):
    """Against a real listener, the verdict above can fail: Apache Kafka's
    default suites (Java 17's) include CBC and RSA key exchange."""
    h.only_on_kafka("shows the scan failing on Kafka's default cipher suites")
    b = scanned_broker(broker_factory, pki, "none")
    problems = scan_problems(sslscan_xml(b.host, b.port))
    assert any("not AEAD" in p for p in problems), problems
    assert any("no forward secrecy" in p for p in problems), problems
    assert not any("protocol" in p for p in problems), problems


WEAK_REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<document title="SSLScan Results" version="2.0.7" web="http://github.com/rbsec/sslscan">
 <ssltest host="127.0.0.1" sniname="127.0.0.1" port="9093">
  <protocol type="ssl" version="2" enabled="0" />
  <protocol type="ssl" version="3" enabled="0" />
  <protocol type="tls" version="1.0" enabled="1" />
  <protocol type="tls" version="1.1" enabled="0" />
  <protocol type="tls" version="1.2" enabled="1" />
  <protocol type="tls" version="1.3" enabled="1" />
  <renegotiation supported="1" secure="1" />
  <compression supported="1" />
  <heartbleed sslversion="TLSv1.2" vulnerable="0" />
  <cipher status="preferred" sslversion="TLSv1.3" bits="256" cipher="TLS_AES_256_GCM_SHA384" id="0x1302" strength="acceptable" />
  <cipher status="preferred" sslversion="TLSv1.2" bits="256" cipher="ECDHE-RSA-AES256-GCM-SHA384" id="0xC030" strength="strong" />
  <cipher status="accepted" sslversion="TLSv1.2" bits="128" cipher="ECDHE-RSA-AES128-SHA256" id="0xC027" strength="acceptable" />
  <cipher status="accepted" sslversion="TLSv1.2" bits="128" cipher="AES128-GCM-SHA256" id="0x009C" strength="acceptable" />
  <cipher status="accepted" sslversion="TLSv1.0" bits="128" cipher="ECDHE-RSA-AES128-SHA" id="0xC013" strength="acceptable" />
 </ssltest>
</document>
"""


def test_scan_verdict_on_a_weak_report():
    """The verdict on a canned report with one of each fault (no broker)."""
    problems = scan_problems(WEAK_REPORT)
    want = [
        "protocol TLS 1.0 enabled",
        "ECDHE-RSA-AES128-SHA256 (TLSv1.2) accepted: not AEAD",
        "AES128-GCM-SHA256 (TLSv1.2) accepted: no forward secrecy",
        "ECDHE-RSA-AES128-SHA accepted with TLSv1.0",
        "renegotiation supported (secure=1)",
        "TLS compression supported (1)",
    ]
    for w in want:
        assert w in problems, (w, problems)
    assert not any("TLS_AES_256_GCM_SHA384" in p or "ECDHE-RSA-AES256-GCM-SHA384" in p for p in problems), problems
    clean = re.sub(r'<protocol type="tls" version="1.0" enabled="1" />|<renegotiation[^>]*>|<compression[^>]*>'
                   r'|<cipher status="accepted"[^>]*>', "", WEAK_REPORT)
    assert scan_problems(clean) == [], scan_problems(clean)


@pytest.mark.parametrize("allow", [True, False], ids=["renegotiating", "refusing"])
def test_renegotiation_probe_controls(pki, allow):
    """The probe against `openssl s_server` with client renegotiation allowed
    (must say accepted) and with renegotiation disabled (must not)."""
    port = h.free_port()
    argv = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(pki.server.cert),
            "-key", str(pki.server.key), "-rev",
            "-client_renegotiation" if allow else "-no_renegotiation"]
    srv = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        h.wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True,
                   10, "openssl s_server listening")
        how = renegotiation("127.0.0.1", port, pki.ca.cert)
        if allow:
            assert how == "accepted", how
        else:
            assert how.startswith("refused"), how
    finally:
        os.killpg(srv.pid, 9)
        srv.wait(10)
