# SPDX-License-Identifier: Apache-2.0
"""The audit records in the internal topic __sluice_audit (issue 7, test 4).

One broker with allow.everyone.if.no.acl.found=false: a PLAINTEXT listener
whose User:ANONYMOUS is the super user, and a SASL_PLAINTEXT listener where
alice (READ on __sluice_audit and on her group) and bob (no ACL) log in
with SCRAM.

  * Metadata lists __sluice_audit with one partition, is_internal=true;
  * alice consumes it with confluent-kafka and finds the records of what she
    just did (her authentication, a denial she caused); each record's key
    is the event type and its value is exactly the line of the audit file;
  * bob gets TOPIC_AUTHORIZATION_FAILED;
  * the super user reads it with kcat;
  * nobody, not even the super user, may produce to it, delete it, add
    partitions, change its configuration or delete its records: Kafka's
    INVALID_TOPIC_EXCEPTION, as for Kafka's internal topics; each attempt
    but produce is recorded as a failed change;
  * on a broker with allow.everyone.if.no.acl.found=true, bob still cannot
    read it; with sluice.audit.topic.enable=false there is no topic and a
    client cannot create one by that name.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

import kwire
import sluice_harness as h

TOPIC = "__sluice_audit"
ALICE_PW = "alice-topic-pw"
BOB_PW = "bob-topic-pw"
INVALID_TOPIC_EXCEPTION = 17


def _add_user(b: h.Broker, user: str, password: str) -> None:
    h.set_scram_user(b.bootstrap_of("PLAINTEXT"), user, password, ("SCRAM-SHA-256",))


def _broker(tmp, **extra) -> h.Broker:
    cfg = {"allow.everyone.if.no.acl.found": "false", "super.users": "User:ANONYMOUS",
           "sasl.enabled.mechanisms": "SCRAM-SHA-256", "auto.create.topics.enable": "false"}
    cfg.update(extra)
    return h.Broker(tmp, config=cfg, listeners=["PLAINTEXT", "SASL_PLAINTEXT"]).start()


@pytest.fixture(scope="module")
def ab(tmp_path_factory):
    h.only_on_sluice("__sluice_audit is Sluice's")
    b = _broker(tmp_path_factory.mktemp("audittopic"))
    _add_user(b, "alice", ALICE_PW)
    _add_user(b, "bob", BOB_PW)
    r = h.kafka_tool("kafka-acls", "--bootstrap-server", b.bootstrap_of("PLAINTEXT"), "--add",
                     "--allow-principal", "User:alice", "--operation", "Read", "--topic", TOPIC,
                     "--group", "audit-readers")
    assert b"Adding ACLs" in r.stdout, r.stdout + r.stderr
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def sasl(b, user, pw) -> dict:
    return {"bootstrap.servers": b.bootstrap_of("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": user, "sasl.password": pw,
            "socket.timeout.ms": 10000}


def audit_lines(b: h.Broker) -> set[bytes]:
    return set(h.audit_lines(b.data_dir / "audit"))


def consume_until(conf: dict, pred, what: str, timeout: float = 60):
    """Consumes __sluice_audit from the start until pred(record dict, msg) holds;
    returns (msg, all messages seen). Raises on a consumer error."""
    from confluent_kafka import Consumer, KafkaException
    c = Consumer(dict(conf, **{"group.id": conf.get("group.id", "audit-readers"),
                               "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    c.subscribe([TOPIC])
    seen = []
    deadline = time.monotonic() + timeout * h.SLOWDOWN
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                raise KafkaException(m.error())
            seen.append(m)
            if pred(json.loads(m.value()), m):
                return m, seen
        raise AssertionError(f"no {what} in {len(seen)} records of {TOPIC}")
    finally:
        c.close()


def test_metadata_internal_one_partition(ab):
    with kwire.Conn(ab.host, ab.port) as c:
        md = c.metadata([TOPIC])
    (t,) = md["topics"]
    assert t["error_code"] == 0 and t["name"] == TOPIC
    assert t["is_internal"] is True
    assert len(t["partitions"]) == 1


def test_reader_with_acl_finds_what_it_did(ab):
    from confluent_kafka import Producer
    # Something alice does: a produce she may not make (a denial, recorded and held).
    errs = []
    p = Producer(dict(sasl(ab, "alice", ALICE_PW), **{"message.timeout.ms": 20000}))
    target = "no-acl-" + uuid.uuid4().hex[:6]
    p.produce(target, b"x", on_delivery=lambda e, m: errs.append(e))
    p.flush(30)
    assert errs and errs[0] is not None and errs[0].code() != 0, errs
    files = audit_lines(ab)

    def mine(r, m):
        return (r["type"] == "io.sluice.authorization" and r["data"]["principal"] == "User:alice"
                and r["data"]["decision"] == "deny" and r["data"]["resource_name"] == target)
    m, seen = consume_until(sasl(ab, "alice", ALICE_PW), mine, "denial of alice")
    assert m.key() == b"io.sluice.authorization"
    assert m.value() in audit_lines(ab), "the value is not a line of the audit files"
    auth = [x for x in seen if x.key() == b"io.sluice.authentication"
            and json.loads(x.value())["data"].get("principal") == "User:alice"]
    assert auth, "alice's authentication is not in the topic"
    # Every record is a line of the files, in chain order.
    seqs = [json.loads(x.value())["sluiceseq"] for x in seen]
    assert seqs == sorted(seqs)
    assert all(x.value() in files or x.value() in audit_lines(ab) for x in seen)


def test_reader_without_acl_is_refused(ab):
    from confluent_kafka import KafkaException
    with pytest.raises(KafkaException) as e:
        consume_until(dict(sasl(ab, "bob", BOB_PW), **{"group.id": "bob-group"}), lambda r, m: True,
                      "anything", timeout=30)
    assert "TOPIC_AUTHORIZATION_FAILED" in str(e.value) or "GROUP_AUTHORIZATION_FAILED" in str(e.value), e.value
    # With a group bob may use, the topic itself is what is refused.
    h.kafka_tool("kafka-acls", "--bootstrap-server", ab.bootstrap_of("PLAINTEXT"), "--add",
                 "--allow-principal", "User:bob", "--operation", "Read", "--group", "bob-group")
    with pytest.raises(KafkaException) as e:
        consume_until(dict(sasl(ab, "bob", BOB_PW), **{"group.id": "bob-group"}), lambda r, m: True,
                      "anything", timeout=30)
    assert "TOPIC_AUTHORIZATION_FAILED" in str(e.value), e.value


def test_super_user_reads_with_kcat(ab):
    h.create_topic(ab.bootstrap_of("PLAINTEXT"), "seen-by-super")

    def has_create():
        out = h.kcat("-C", "-b", ab.bootstrap_of("PLAINTEXT"), "-t", TOPIC, "-o", "beginning", "-e",
                     "-f", "%k\t%s\n").stdout
        return any(line.startswith(b"io.sluice.change.topic.create\t") and b'"seen-by-super"' in line
                   for line in out.split(b"\n"))
    h.wait_for(has_create, 30 * h.SLOWDOWN, "the topic.create record read by kcat")


def test_nobody_may_change_it(ab):
    from confluent_kafka import KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions
    a = h.admin_client(ab.bootstrap_of("PLAINTEXT"))  # the super user
    with kwire.Conn(ab.host, ab.port) as c:
        r = c.produce_one(TOPIC, 0, kwire.build_batch([b"forged"]))
        assert r["error_code"] == INVALID_TOPIC_EXCEPTION, r
    errs = []
    p = Producer({"bootstrap.servers": ab.bootstrap_of("PLAINTEXT"), "message.timeout.ms": 10000})
    p.produce(TOPIC, b"forged", on_delivery=lambda e, m: errs.append(e))
    p.flush(20)
    assert errs and errs[0] is not None and errs[0].code() != 0, errs
    for what, fut in (
        ("delete", a.delete_topics([TOPIC], request_timeout=20)[TOPIC]),
        ("partitions", a.create_partitions([NewPartitions(TOPIC, 2)], request_timeout=20)[TOPIC]),
        ("configs", list(a.incremental_alter_configs([ConfigResource("TOPIC", TOPIC, incremental_configs=[
            ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET)])]).values())[0]),
        ("records", list(a.delete_records([TopicPartition(TOPIC, 0, 1)]).values())[0]),
        ("legacy configs", list(a.alter_configs([ConfigResource("TOPIC", TOPIC, set_config={
            "retention.ms": "2"})]).values())[0]),
    ):
        with pytest.raises(KafkaException) as e:
            fut.result(timeout=30)
        assert e.value.args[0].code() == INVALID_TOPIC_EXCEPTION, (what, e.value)
    with kwire.Conn(ab.host, ab.port) as c:
        (t,) = c.metadata([TOPIC])["topics"]
        assert t["error_code"] == 0 and len(t["partitions"]) == 1
    # Each attempt is in the audit log, as a failed change.
    recs = [json.loads(x) for x in audit_lines(ab)]

    def failed(what, pred=lambda r: True):
        return [r for r in recs if r["type"] == "io.sluice.change." + what and r["data"]["resource_name"] == TOPIC
                and r["data"]["outcome"] == "failure" and r["data"]["error_code"] == INVALID_TOPIC_EXCEPTION
                and pred(r)]
    assert failed("topic.delete")
    assert failed("partitions.create")
    assert failed("records.delete")
    assert failed("config.alter", lambda r: r["data"]["api"] == "IncrementalAlterConfigs"
                  and r["data"]["detail"]["configs"] == {"retention.ms": "1"})
    assert failed("config.alter", lambda r: r["data"]["api"] == "AlterConfigs"
                  and r["data"]["detail"]["configs"] == {"retention.ms": "2"})


def test_allow_everyone_does_not_open_it(tmp_path):
    h.only_on_sluice("__sluice_audit is Sluice's")
    from confluent_kafka import KafkaException
    b = _broker(tmp_path / "open", **{"allow.everyone.if.no.acl.found": "true"})
    try:
        _add_user(b, "bob", BOB_PW)
        with pytest.raises(KafkaException) as e:
            consume_until(dict(sasl(b, "bob", BOB_PW), **{"group.id": "bob-any"}), lambda r, m: True,
                          "anything", timeout=30)
        assert "TOPIC_AUTHORIZATION_FAILED" in str(e.value), e.value
        b.finish()
    finally:
        b.kill()


def test_topic_disabled(tmp_path):
    h.only_on_sluice("__sluice_audit is Sluice's")
    b = _broker(tmp_path / "off", **{"sluice.audit.topic.enable": "false"})
    try:
        with kwire.Conn(b.host, b.port) as c:
            (t,) = c.metadata([TOPIC])["topics"]
            assert t["error_code"] == 3, t  # UNKNOWN_TOPIC_OR_PARTITION
            r = c.create_topics([{"name": TOPIC, "partitions": 1, "replication_factor": 1, "configs": {}}])
            assert r["topics"][0]["error_code"] == INVALID_TOPIC_EXCEPTION, r
        b.finish()
    finally:
        b.kill()
