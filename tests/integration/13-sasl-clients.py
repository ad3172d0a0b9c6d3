# SPDX-License-Identifier: Apache-2.0
"""SASL (issue 5): SCRAM-SHA-256/512 and PLAIN with real clients.

One broker per module with three listeners: PLAINTEXT (the administration
channel: super.users=User:ANONYMOUS, where kafka-configs adds the users),
SASL_PLAINTEXT (SCRAM only: listener.name.sasl_plaintext.sasl.enabled.mechanisms)
and SASL_SSL (PLAIN and both SCRAMs, PKCS12 stores from the test PKI).
Users are created the way Kafka operators do it: kafka-configs --alter
--add-config 'SCRAM-SHA-256=[password=...]' --entity-type users.
"""

from __future__ import annotations

import socket
import struct
import time
import uuid

import pytest

import sluice_harness as h

PASSWORD = "alice-secret-pw"
MECHS_SSL = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"


def sasl_broker(tmp_path_factory, pki, extra: dict | None = None) -> h.Broker:
    h.only_on_sluice("the test broker is configured with Sluice's SASL keys")
    cfg = pki.broker_ssl_config(store="PKCS12", prefix="listener.name.sasl_ssl.")
    cfg.update({
        "super.users": "User:ANONYMOUS",
        "sasl.enabled.mechanisms": MECHS_SSL,
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512",
        "connection.failed.authentication.delay.ms": "100",
    })
    cfg.update(extra or {})
    cfg.setdefault("allow.everyone.if.no.acl.found", "false")
    b = h.Broker(tmp_path_factory.mktemp("sasl"), config=cfg,
                 listeners=["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"], tls=pki.client())
    b.start()
    grant_everyone_topics_and_groups(b)
    return b


def grant_everyone_topics_and_groups(b: h.Broker) -> None:
    """Every authenticated user may use every topic and group (ACLs for
    User:*, created by the super user); the cluster stays the super user's."""
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
    a = h.admin_client(b.bootstrap_of("PLAINTEXT"))
    acls = [AclBinding(rt, "*", ResourcePatternType.LITERAL, "User:*", "*", AclOperation.ALL,
                       AclPermissionType.ALLOW) for rt in (ResourceType.TOPIC, ResourceType.GROUP)]
    for f in a.create_acls(acls, request_timeout=20).values():
        assert f.result(timeout=30) is None


@pytest.fixture(scope="module")
def sb(tmp_path_factory, pki):
    b = sasl_broker(tmp_path_factory, pki)
    add_user(b, "alice", PASSWORD)
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def add_user(b: h.Broker, user: str, password: str, mechs=("SCRAM-SHA-256", "SCRAM-SHA-512")) -> None:
    h.set_scram_user(b.bootstrap_of("PLAINTEXT"), user, password, mechs)


def delete_user(b: h.Broker, user: str) -> None:
    r = h.kafka_tool("kafka-configs", "--bootstrap-server", b.bootstrap_of("PLAINTEXT"), "--alter",
                     "--delete-config", "SCRAM-SHA-256,SCRAM-SHA-512", "--entity-type", "users",
                     "--entity-name", user)
    assert b"Completed updating config for user" in r.stdout, r.stdout + r.stderr


def rdkafka_conf(b: h.Broker, pki, listener: str, mech: str, user="alice", password=PASSWORD) -> dict:
    c = {"bootstrap.servers": b.bootstrap_of(listener), "security.protocol": listener.lower(),
         "sasl.mechanism": mech, "sasl.username": user, "sasl.password": password}
    if listener == "SASL_SSL":
        c["ssl.ca.location"] = str(pki.client().ca_pem)
    return c


def confluent_roundtrip(conf: dict, topic: str, n: int = 300) -> None:
    from confluent_kafka import Consumer, Producer
    p = Producer(dict(conf, **{"linger.ms": 5}))
    delivered = []
    for i in range(n):
        p.produce(topic, f"{topic}-{i}".encode(), on_delivery=lambda e, m: delivered.append(e))
    assert p.flush(60) == 0
    assert len(delivered) == n and all(e is None for e in delivered), delivered[:3]
    c = Consumer(dict(conf, **{"group.id": f"g-{uuid.uuid4().hex[:8]}", "auto.offset.reset": "earliest"}))
    c.subscribe([topic])
    got = set()
    deadline = time.monotonic() + 60 * h.SLOWDOWN
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.add(m.value())
    c.close()
    assert got == {f"{topic}-{i}".encode() for i in range(n)}


@pytest.mark.parametrize("listener,mech", [
    ("SASL_PLAINTEXT", "SCRAM-SHA-256"), ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
    ("SASL_SSL", "PLAIN"), ("SASL_SSL", "SCRAM-SHA-256"), ("SASL_SSL", "SCRAM-SHA-512"),
])
def test_confluent_kafka(sb, pki, listener, mech):
    confluent_roundtrip(rdkafka_conf(sb, pki, listener, mech), f"ck-{listener}-{mech}".lower())
    assert "authenticated %s as User:alice" % mech in sb.log_text()


@pytest.mark.parametrize("listener,mech", [
    ("SASL_PLAINTEXT", "SCRAM-SHA-512"), ("SASL_SSL", "PLAIN"), ("SASL_SSL", "SCRAM-SHA-256"),
])
def test_kcat(sb, pki, listener, mech, tmp_path):
    """Debian's kcat links librdkafka 2.0.2, which sends SCRAM's final nonce
    doubled (PROTOCOL.md §4)."""
    topic = f"kcat-{listener}-{mech}".lower()
    x = []
    for k, v in rdkafka_conf(sb, pki, listener, mech).items():
        if k != "bootstrap.servers":
            x += ["-X", f"{k}={v}"]
    lines = [f"{topic}-{i}" for i in range(200)]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n")
    h.kcat("-P", "-b", sb.bootstrap_of(listener), *x, "-t", topic, "-l", str(src))
    r = h.kcat("-C", "-b", sb.bootstrap_of(listener), *x, "-t", topic, "-o", "beginning", "-e", "-q")
    assert r.stdout.decode().split() == lines


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "PLAIN"])
def test_kafka_python_v0_raw_tokens(sb, pki, mech):
    """An old client's flow: kafka-python told the broker is 0.10.0 sends
    SaslHandshake v0 and then the mechanism's messages as bare
    length-prefixed tokens, not SaslAuthenticate (PROTOCOL.md §4.2). It
    authenticates and lists topics (Metadata v0/v1)."""
    from kafka import KafkaConsumer
    topic = f"v0-visible-{mech.lower()}"
    h.create_topic(sb.bootstrap_of("PLAINTEXT"), topic)
    line = f"authenticated {mech} as User:alice (SaslHandshake v0, bare tokens)"
    before = sb.log_text().count(line)
    c = KafkaConsumer(bootstrap_servers=sb.bootstrap_of("SASL_SSL"), security_protocol="SASL_SSL",
                      ssl_cafile=str(pki.client().ca_pem), sasl_mechanism=mech,
                      sasl_plain_username="alice", sasl_plain_password=PASSWORD, api_version=(0, 10, 0))
    try:
        assert topic in c.topics()
    finally:
        c.close()
    h.wait_for(lambda: sb.log_text().count(line) > before, 10, "the v0 authentication in the broker log")


@pytest.mark.parametrize("listener,mech", [("SASL_PLAINTEXT", "SCRAM-SHA-256"), ("SASL_SSL", "SCRAM-SHA-512"),
                                           ("SASL_SSL", "PLAIN")])
def test_kafka_python(sb, pki, listener, mech):
    from kafka import KafkaConsumer, KafkaProducer
    topic = f"kp-{listener}-{mech}".lower()
    conf = {"bootstrap_servers": sb.bootstrap_of(listener), "security_protocol": listener,
            "sasl_mechanism": mech, "sasl_plain_username": "alice", "sasl_plain_password": PASSWORD}
    if listener == "SASL_SSL":
        conf["ssl_cafile"] = str(pki.client().ca_pem)
    p = KafkaProducer(**conf)
    for i in range(100):
        p.send(topic, f"{topic}-{i}".encode())
    p.flush(60)
    p.close()
    c = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=int(15000 * h.SLOWDOWN), **conf)
    got = {m.value for m in c}
    c.close()
    assert got == {f"{topic}-{i}".encode() for i in range(100)}


@pytest.mark.parametrize("listener,mech", [("SASL_SSL", "SCRAM-SHA-512"), ("SASL_SSL", "PLAIN"),
                                           ("SASL_PLAINTEXT", "SCRAM-SHA-256")])
def test_java_console(sb, pki, listener, mech, tmp_path):
    topic = f"java-{listener}-{mech}".lower()
    module = "scram.ScramLoginModule" if mech.startswith("SCRAM") else "plain.PlainLoginModule"
    props = tmp_path / "client.properties"
    lines = [f"security.protocol={listener}", f"sasl.mechanism={mech}",
             f'sasl.jaas.config=org.apache.kafka.common.security.{module} required '
             f'username="alice" password="{PASSWORD}";']
    if listener == "SASL_SSL":
        tc = pki.client()
        lines += ["ssl.truststore.type=PKCS12", f"ssl.truststore.location={tc.truststore_p12}",
                  f"ssl.truststore.password={tc.password}"]
    props.write_text("\n".join(lines) + "\n")
    bs = sb.bootstrap_of(listener)
    values = [f"{topic}-{i}" for i in range(50)]
    h.kafka_tool("kafka-console-producer", "--bootstrap-server", bs, "--topic", topic,
                 "--producer.config", str(props), input=("\n".join(values) + "\n").encode())
    r = h.kafka_tool("kafka-console-consumer", "--bootstrap-server", bs, "--topic", topic,
                     "--from-beginning", "--max-messages", str(len(values)), "--timeout-ms",
                     str(int(30000 * h.SLOWDOWN)), "--consumer.config", str(props))
    assert sorted(r.stdout.decode().split()) == sorted(values)


def _confluent_error(conf: dict) -> str:
    """The authentication error a librdkafka client reports (error_cb)."""
    from confluent_kafka import Producer
    errors: list[str] = []
    p = Producer(dict(conf, error_cb=lambda e: errors.append(e.str())))
    deadline = time.monotonic() + 20 * h.SLOWDOWN
    while not any("SASL" in e or "Authentication" in e or "mechanism" in e for e in errors):
        assert time.monotonic() < deadline, f"no authentication error, only {errors}"
        p.poll(0.2)
    p.purge()
    return " ".join(errors)


def test_wrong_password_unknown_user_same_answer(sb, pki):
    start = len(sb.log_text())
    wrong = _confluent_error(rdkafka_conf(sb, pki, "SASL_SSL", "SCRAM-SHA-256", password="nope"))
    unknown = _confluent_error(rdkafka_conf(sb, pki, "SASL_SSL", "SCRAM-SHA-256", user="mallory"))
    text = ("Authentication failed during authentication due to invalid credentials with SASL "
            "mechanism SCRAM-SHA-256")
    assert text in wrong and text in unknown, (wrong, unknown)
    plain = _confluent_error(rdkafka_conf(sb, pki, "SASL_SSL", "PLAIN", password="nope"))
    assert "Invalid username or password" in plain, plain
    log = sb.log_text()[start:]
    assert "failed for 'mallory'" in log and "failed for 'alice'" in log
    # The broker keeps serving the others.
    confluent_roundtrip(rdkafka_conf(sb, pki, "SASL_SSL", "SCRAM-SHA-512"), "after-failures", 20)


def test_unsupported_mechanism(sb, pki):
    err = _confluent_error(rdkafka_conf(sb, pki, "SASL_PLAINTEXT", "PLAIN"))
    assert "Unsupported SASL mechanism" in err or "UNSUPPORTED_SASL_MECHANISM" in err or \
        "not enabled" in err or "mechanism" in err.lower(), err


def _frame(api_key: int, version: int, corr: int, body: bytes) -> bytes:
    hdr = struct.pack(">hhi", api_key, version, corr) + struct.pack(">h", 4) + b"test"
    return struct.pack(">i", len(hdr) + len(body)) + hdr + body


def _recv_frame(s: socket.socket) -> bytes:
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf
    n = struct.unpack(">i", exact(4))[0]
    return exact(n)


def test_requests_before_authentication(sb):
    port = sb.ports["SASL_PLAINTEXT"]
    # Metadata v1 before any SASL exchange: the connection is closed.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(_frame(3, 1, 1, struct.pack(">i", -1)))
        with pytest.raises((ConnectionError, OSError)):
            _recv_frame(s)
    # SaslAuthenticate v1 without SaslHandshake: ILLEGAL_SASL_STATE (34), then closed.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(_frame(36, 1, 7, struct.pack(">i", 3) + b"abc"))
        resp = _recv_frame(s)
        corr, err = struct.unpack(">ih", resp[:6])
        assert (corr, err) == (7, 34)
        with pytest.raises((ConnectionError, OSError)):
            _recv_frame(s)
    # A frame larger than sasl.server.max.receive.size before authentication: closed.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack(">i", 600 * 1024) + b"x" * 1024)
        with pytest.raises((ConnectionError, OSError)):
            _recv_frame(s)
    # ApiVersions is served before authentication.
    assert h.api_versions("127.0.0.1", port)[17] == (0, 1)
    sb.check_alive()


def test_user_changes_survive_restart(tmp_path_factory, pki):
    b = sasl_broker(tmp_path_factory, pki)
    try:
        add_user(b, "bob", "bob-pw-1")
        add_user(b, "carol", "carol-pw")
        confluent_roundtrip(rdkafka_conf(b, pki, "SASL_SSL", "SCRAM-SHA-256", "bob", "bob-pw-1"), "bob1", 10)
        add_user(b, "bob", "bob-pw-2")  # change the password
        delete_user(b, "carol")
        b.restart()
        assert "invalid credentials" in _confluent_error(
            rdkafka_conf(b, pki, "SASL_SSL", "SCRAM-SHA-256", "bob", "bob-pw-1"))
        assert "invalid credentials" in _confluent_error(
            rdkafka_conf(b, pki, "SASL_SSL", "SCRAM-SHA-512", "carol", "carol-pw"))
        confluent_roundtrip(rdkafka_conf(b, pki, "SASL_SSL", "SCRAM-SHA-512", "bob", "bob-pw-2"), "bob2", 10)
    finally:
        try:
            b.finish()
        finally:
            b.kill()


def test_kafka_configs_describes_users(sb):
    """kafka-configs --describe --entity-type users (DescribeClientQuotas,
    empty, and DescribeUserScramCredentials) shows alice's mechanisms and
    iterations, never a secret."""
    r = h.kafka_tool("kafka-configs", "--bootstrap-server", sb.bootstrap_of("PLAINTEXT"), "--describe",
                     "--entity-type", "users", "--entity-name", "alice")
    out = r.stdout.decode()
    assert "SCRAM credential configs for user-principal 'alice' are" in out, out + r.stderr.decode()
    assert "SCRAM-SHA-256=iterations=4096" in out and "SCRAM-SHA-512=iterations=4096" in out, out
    assert PASSWORD not in out


def test_only_super_users_manage_credentials(sb, pki, tmp_path):
    props = tmp_path / "alice.properties"
    props.write_text(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="alice" password="{PASSWORD}";\n')
    r = h.kafka_tool("kafka-configs", "--bootstrap-server", sb.bootstrap_of("SASL_PLAINTEXT"),
                     "--command-config", str(props), "--alter", "--add-config",
                     "SCRAM-SHA-256=[password=x1234567]", "--entity-type", "users",
                     "--entity-name", "eve", check=False)
    assert r.returncode != 0 and b"ClusterAuthorization" in r.stdout + r.stderr


def test_reauthentication(tmp_path_factory, pki):
    """connections.max.reauth.ms=1500: a producer keeps going across several
    re-authentications on the same connection; once its user is deleted, the
    next re-authentication fails and the connection is cut."""
    from confluent_kafka import Producer
    b = sasl_broker(tmp_path_factory, pki, {"connections.max.reauth.ms": "1500"})
    try:
        add_user(b, "dave", "dave-pw")
        p = Producer(dict(rdkafka_conf(b, pki, "SASL_SSL", "SCRAM-SHA-512", "dave", "dave-pw"),
                          **{"linger.ms": 0}))
        ok = []
        t_end = time.monotonic() + 6 * h.SLOWDOWN
        i = 0
        while time.monotonic() < t_end:
            p.produce("reauth", str(i).encode(), on_delivery=lambda e, m: ok.append(e is None))
            p.poll(0.05)
            i += 1
        assert p.flush(30) == 0
        assert ok and all(ok), f"{ok.count(False)} failed of {len(ok)}"
        assert b.log_text().count("re-authenticated SCRAM-SHA-512 as User:dave") >= 2
        delete_user(b, "dave")

        def cut() -> bool:
            p.produce("reauth", b"x")
            p.poll(0.2)
            return "SCRAM-SHA-512 failed for 'dave'" in b.log_text()

        h.wait_for(cut, 30 * h.SLOWDOWN, "dave's re-authentication to fail after the deletion")
        p.purge()
    finally:
        try:
            b.finish()
        finally:
            b.kill()
