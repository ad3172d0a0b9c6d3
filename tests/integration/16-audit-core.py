# SPDX-License-Identifier: Apache-2.0
"""Audit log core (issue 7): real clients cause events, the records are there.

One SASL_SSL broker (the set-up of 13-sasl-clients.py: a PLAINTEXT
administration listener where kafka-configs adds the user, a SASL_SSL
listener with PLAIN and SCRAM). kcat authenticates (success), confluent-kafka
authenticates with a wrong password and with a hostile user name (failures),
and connects to the PLAINTEXT listener (a connection); a SIGHUP reloads the
TLS material (reload records). The test reads the
JSON lines of <data>/audit/, asserts the matching records (type, principal,
decision, reason), checks that no line holds the password and that every line
is one JSON object, then stops the broker and runs the verifier (the
`sluice audit verify`): exit 0,
and after one byte of one record is edited, non-zero naming the file and line.
"""

from __future__ import annotations

import json
import time

import pytest

import sluice_harness as h

PASSWORD = "alice-audit-pw"
WRONG = "not-the-password-42"
HOSTILE = 'eve"\n\x01\\x'


@pytest.fixture(scope="module")
def ab(tmp_path_factory, pki):
    h.only_on_sluice("the audit log is Sluice's")
    cfg = pki.broker_ssl_config(store="PKCS12", prefix="listener.name.sasl_ssl.")
    cfg.update({
        "super.users": "User:ANONYMOUS",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        # 0: a failed authentication is answered at once, through the
        # dispatcher's audit hold (13-sasl-clients covers the delayed path).
        "connection.failed.authentication.delay.ms": "0",
    })
    b = h.Broker(tmp_path_factory.mktemp("audit"), config=cfg,
                 listeners=["PLAINTEXT", "SASL_SSL"], tls=pki.client())
    b.start()
    h.set_scram_user(b.bootstrap_of("PLAINTEXT"), "alice", PASSWORD)
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def records(b: h.Broker) -> list[dict]:
    return h.audit_records(b.data_dir / "audit")


def wait_record(b: h.Broker, what: str, pred, timeout: float = 20) -> dict:
    def find():
        for r in records(b):
            if pred(r):
                return r
        return None
    return h.wait_for(find, timeout * h.SLOWDOWN, what)


def confluent_auth_error(conf: dict) -> str:
    from confluent_kafka import Producer
    errors: list[str] = []
    p = Producer(dict(conf, error_cb=lambda e: errors.append(e.str())))
    deadline = time.monotonic() + 20 * h.SLOWDOWN
    while not any("SASL" in e or "Authentication" in e for e in errors):
        assert time.monotonic() < deadline, f"no authentication error, only {errors}"
        p.poll(0.2)
    p.purge()
    return " ".join(errors)


def sasl_conf(b: h.Broker, pki, user: str, password: str, mech: str = "SCRAM-SHA-512") -> dict:
    return {"bootstrap.servers": b.bootstrap_of("SASL_SSL"), "security.protocol": "sasl_ssl",
            "sasl.mechanism": mech, "sasl.username": user, "sasl.password": password,
            "ssl.ca.location": str(pki.client().ca_pem)}


def test_broker_start_posture(ab):
    r = wait_record(ab, "broker start record", lambda r: r["type"] == "io.sluice.broker.start")
    names = {ls["name"]: ls for ls in r["data"]["listeners"]}
    assert names["SASL_SSL"]["encrypted"] and names["SASL_SSL"]["authenticated"]
    assert "TLSv1.2" in names["SASL_SSL"]["tls_versions"]
    assert "SCRAM-SHA-512" in names["SASL_SSL"]["sasl_mechanisms"]
    assert not names["PLAINTEXT"]["encrypted"]
    assert r["data"]["secure"] is False  # PLAINTEXT was allowed explicitly
    assert any("PLAINTEXT" in s for s in r["data"]["insecure_settings"])
    assert r["specversion"] == "1.0" and r["datacontenttype"] == "application/json"
    assert isinstance(r["sluiceseq"], int) and len(r["sluicemac"]) == 64


def test_successful_authentication_kcat(ab, pki):
    topic = "audit-kcat"
    x = []
    for k, v in sasl_conf(ab, pki, "alice", PASSWORD).items():
        if k != "bootstrap.servers":
            x += ["-X", f"{k}={v}"]
    h.kcat("-P", "-b", ab.bootstrap_of("SASL_SSL"), *x, "-t", topic, input=b"one\n")
    r = wait_record(ab, "authentication success", lambda r: r["type"] == "io.sluice.authentication"
                    and r["data"]["decision"] == "success")
    assert r["data"]["principal"] == "User:alice"
    assert r["subject"] == "User:alice"
    assert r["data"]["mechanism"] == "SCRAM-SHA-512"
    assert r["data"]["listener"] == "SASL_SSL"
    assert r["data"]["security_protocol"] == "SASL_SSL"
    conn = r["data"]["connection_id"]
    tls = wait_record(ab, "TLS record", lambda r: r["type"] == "io.sluice.connection.tls"
                      and r["data"]["connection_id"] == conn)
    assert tls["data"]["outcome"] == "success"
    assert tls["data"]["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert tls["data"]["cipher"]
    wait_record(ab, "close record", lambda r: r["type"] == "io.sluice.connection.closed"
                and r["data"]["connection_id"] == conn)


def test_failed_authentication_confluent(ab, pki):
    err = confluent_auth_error(sasl_conf(ab, pki, "alice", WRONG))
    assert "Authentication failed" in err
    r = wait_record(ab, "authentication failure", lambda r: r["type"] == "io.sluice.authentication"
                    and r["data"]["decision"] == "failure" and r["data"].get("attempted_user") == "alice")
    assert r["data"]["reason"] == "invalid_credentials"
    assert r["data"]["mechanism"] == "SCRAM-SHA-512"
    assert r["data"]["principal"] == "User:ANONYMOUS"  # nobody was authenticated
    for f in (ab.data_dir / "audit").glob("*.jsonl"):
        assert WRONG.encode() not in f.read_bytes() and PASSWORD.encode() not in f.read_bytes()


def test_hostile_user_name_stays_in_one_record(ab, pki):
    confluent_auth_error(sasl_conf(ab, pki, HOSTILE, WRONG, mech="PLAIN"))
    r = wait_record(ab, "hostile-name failure", lambda r: r["type"] == "io.sluice.authentication"
                    and r["data"]["decision"] == "failure" and r["data"]["mechanism"] == "PLAIN")
    assert r["data"]["attempted_user"] == HOSTILE  # escaped on disk, intact once parsed
    # Every line of every file is exactly one JSON object.
    for f in (ab.data_dir / "audit").glob("*.jsonl"):
        for line in f.read_bytes().split(b"\n")[:-1]:
            assert isinstance(json.loads(line), dict)


def test_plain_connection(ab):
    from confluent_kafka.admin import AdminClient
    a = AdminClient({"bootstrap.servers": ab.bootstrap_of("PLAINTEXT")})
    a.list_topics(timeout=10 * h.SLOWDOWN)
    r = wait_record(ab, "PLAINTEXT connection", lambda r: r["type"] == "io.sluice.connection.accepted"
                    and r["data"]["listener"] == "PLAINTEXT")
    assert r["data"]["security_protocol"] == "PLAINTEXT"
    assert r["data"]["client_address"].startswith("127.0.0.1:")


def test_reload_recorded(ab):
    import os
    import signal
    os.kill(ab.pid, signal.SIGHUP)
    wait_record(ab, "SIGHUP record", lambda r: r["type"] == "io.sluice.broker.reload"
                and r["data"]["what"] == "sighup")
    r = wait_record(ab, "TLS reload record", lambda r: r["type"] == "io.sluice.broker.reload"
                    and r["data"]["what"] == "tls")
    assert r["data"]["listener"] == "SASL_SSL" and r["data"]["outcome"] == "success"


def test_verify_then_tamper(ab, tmp_path):
    """Last in the module: stops the broker (the seal), verifies, edits."""
    ab.stop()
    adir = ab.data_dir / "audit"
    key = ab.data_dir / "keys" / "audit.key"
    assert (key.stat().st_mode & 0o777) == 0o600
    last = records(ab)[-1]
    assert last["type"] == "io.sluice.audit.seal" and last["data"]["reason"] == "shutdown"
    ok = h.sluice_cli("audit", "verify", str(adir), "--key-file", str(key),
                      "--expect-seq", str(last["sluiceseq"]), check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert b"OK " in ok.stdout
    # One byte of one record in the middle.
    f = sorted(adir.glob("audit-*.jsonl"))[-1]
    lines = f.read_bytes().split(b"\n")
    n = len(lines) // 2
    i = lines[n].index(b'"client_address":"127.0.0.1:') + len(b'"client_address":"12')
    lines[n] = lines[n][:i] + b"8" + lines[n][i + 1:]
    f.write_bytes(b"\n".join(lines))
    bad = h.sluice_cli("audit", "verify", str(adir), "--key-file", str(key), check=False)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"{f.name} line {n + 1} ".encode() in bad.stdout, bad.stdout
    assert b"mac does not match" in bad.stdout
