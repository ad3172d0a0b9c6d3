# SPDX-License-Identifier: Apache-2.0
"""TLS listeners (issue 4): several listeners at once, per-listener settings,
and (Sluice only) a replaced certificate file picked up without a restart.

Configurations:

  plaintext+ssl   listeners=PLAINTEXT://127.0.0.1:P1,SSL://127.0.0.1:P2
                  listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL
                  every ssl.* key with the prefix listener.name.ssl.
                  (PKCS12 key and trust stores; ssl.client.auth unset)
  ssl+mtls        listeners=SSL://127.0.0.1:P1,MTLS://127.0.0.1:P2
                  listener.security.protocol.map=SSL:SSL,MTLS:SSL
                  ssl.* without prefix (PEM key store file and trust store file),
                  listener.name.mtls.ssl.client.auth=required
  reload          listeners=SSL://127.0.0.1:P1, ssl.keystore.location a file the test
                  replaces (renamed over: PKCS12 or PEM), sluice.ssl.reload.check.interval.ms=200
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import struct

import pytest
from cryptography import x509

import sluice_harness as h

PARTS = 2
N = 2000


def metadata_port(bootstrap: str, tls=None) -> int:
    """The port Metadata gives for broker 1, asked through `bootstrap`."""
    md = h.admin_client(bootstrap, tls).list_topics(timeout=10)
    return md.brokers[1].port


def test_plaintext_and_ssl_listeners(broker_factory, pki, tmp_path):
    """One broker, a PLAINTEXT and an SSL listener, used together: each
    advertises itself in Metadata; records written through one are read through
    the other, by different clients; a TLS client on the PLAINTEXT port and a
    plaintext one on the SSL port are refused."""
    cfg = pki.broker_ssl_config(store="PKCS12", prefix="listener.name.ssl.")
    b = broker_factory(config=cfg, listeners=["PLAINTEXT", "SSL"], tls=pki.client("probe")).start()
    plain, secure = b.bootstrap_of("PLAINTEXT"), b.bootstrap_of("SSL")
    tls = pki.client(None)  # server authentication only
    assert metadata_port(plain) == b.ports["PLAINTEXT"]
    assert metadata_port(secure, tls) == b.ports["SSL"]

    # confluent-kafka over PLAINTEXT -> kafka-python over SSL
    h.create_topic(plain, "two-listeners-a", PARTS)
    recs = h.make_records(N, seed=12201, partitions=PARTS)
    h.produce_confluent(plain, "two-listeners-a", recs)
    h.check_consumed(recs, h.consume_kafka_python(secure, "two-listeners-a", PARTS, N, tls=tls), PARTS)

    # kcat over SSL -> Java console consumer over PLAINTEXT
    h.create_topic(secure, "two-listeners-b", PARTS, tls=tls)
    recs = [dataclasses.replace(r, headers=h.KCAT_HEADERS) for r in h.make_records(N, seed=12202, text=True)]
    h.produce_kcat(secure, "two-listeners-b", recs, tmp_path, tls=tls)
    h.check_consumed(recs, h.consume_java(plain, "two-listeners-b", PARTS, N, tmp_path), PARTS)

    # the wrong protocol on each port
    how = h.tls_refusal(b.host, b.ports["PLAINTEXT"], tls.ssl_context())
    assert how in ("eof", "reset"), f"TLS ClientHello on the PLAINTEXT port: {how}"
    with socket.create_connection((b.host, b.ports["SSL"]), timeout=10) as s:
        body = struct.pack(">hhih", 18, 0, 77, 1) + b"p"
        s.sendall(struct.pack(">i", len(body)) + body)
        s.settimeout(10 * h.SLOWDOWN)
        try:
            data = s.recv(4)
        except ConnectionResetError:
            data = b""
        assert data == b"" or data[0] == 21, f"plaintext ApiVersions on the SSL port got {data.hex()}"
    b.check_alive()
    assert 18 in h.api_versions(b.host, b.ports["PLAINTEXT"])
    assert 18 in h.api_versions(b.host, b.ports["SSL"], ssl_context=tls.ssl_context())


def test_client_auth_per_listener(broker_factory, pki):
    """Two SSL listeners sharing the key store; only MTLS requires a client
    certificate (listener.name.mtls.ssl.client.auth=required)."""
    cfg = pki.broker_ssl_config(store="PEM")
    cfg["listener.name.mtls.ssl.client.auth"] = "required"
    b = broker_factory(config=cfg, listeners=["SSL", ("MTLS", "SSL")], tls=pki.client("probe")).start()
    anon, alice = pki.client(None), pki.client("alice")
    ssl_bs, mtls_bs = b.bootstrap_of("SSL"), b.bootstrap_of("MTLS")

    assert 18 in h.api_versions(b.host, b.ports["SSL"], ssl_context=anon.ssl_context())
    how = h.tls_refusal(b.host, b.ports["MTLS"], anon.ssl_context())
    assert how, how
    assert 18 in h.api_versions(b.host, b.ports["MTLS"], ssl_context=alice.ssl_context())
    assert metadata_port(mtls_bs, alice) == b.ports["MTLS"]
    assert metadata_port(ssl_bs, anon) == b.ports["SSL"]

    topic = "per-listener-auth"
    h.create_topic(mtls_bs, topic, PARTS, tls=alice)
    recs = h.make_records(N, seed=12203, partitions=PARTS)
    h.produce_confluent(mtls_bs, topic, recs, tls=alice)
    h.check_consumed(recs, h.consume_confluent(ssl_bs, topic, PARTS, N, tls=anon), PARTS)
    b.check_alive()


# --------------------------------------------------------------------------
# certificate reload (Sluice only)


def served_certificate_serial(host: str, port: int, ctx) -> int:
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            der = s.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).serial_number


@pytest.mark.parametrize("store", ["PKCS12", "PEM"])
def test_replaced_key_store_used_for_new_connections(broker_factory, pki, tmp_path, store):
    """The key store file renamed over by one with a renewed certificate: within
    sluice.ssl.reload.check.interval.ms new connections get the new
    certificate; a connection opened before keeps working."""
    h.only_on_sluice("Kafka reloads key stores only through a dynamic config update, not by watching files")
    src = {"PKCS12": lambda ident: ident.p12, "PEM": lambda ident: ident.keystore_pem}[store]
    live = tmp_path / f"live-keystore.{store.lower()}"
    shutil.copyfile(src(pki.server), live)
    cfg = pki.broker_ssl_config(store=store)
    cfg.update({"ssl.keystore.location": str(live), "sluice.ssl.reload.check.interval.ms": "200"})
    b = broker_factory(config=cfg, listeners=["SSL"], tls=pki.client("probe")).start()
    ctx = pki.client(None).ssl_context()
    assert served_certificate_serial(b.host, b.port, ctx) == pki.server.serial

    early = ctx.wrap_socket(socket.create_connection((b.host, b.port), timeout=10), server_hostname=b.host)
    try:
        tmp = live.with_name(live.name + ".new")
        shutil.copyfile(src(pki.server_renewed), tmp)
        tmp.replace(live)
        h.wait_for(lambda: served_certificate_serial(b.host, b.port, ctx) == pki.server_renewed.serial,
                   10 * h.SLOWDOWN, "new connections served the renewed certificate")
        body = struct.pack(">hhih", 18, 0, 55, 5) + b"early"
        early.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", h._recv_exact(early, 4))
        assert struct.unpack(">i", h._recv_exact(early, size)[:4])[0] == 55
    finally:
        early.close()
    h.create_topic(b.bootstrap, "after-reload", 1, tls=pki.client(None))
    b.check_alive()
