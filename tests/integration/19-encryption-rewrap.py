# SPDX-License-Identifier: Apache-2.0
"""Online key rewrap through the running broker (issue 8, docs/ENCRYPTION.md "Rotation and
retirement").

  * the whole procedure with real clients: records over several topics and many segments
    (confluent-kafka), committed offsets, a SCRAM user and an ACL; `sluice keys rotate` while the
    broker runs; `sluice keys rewrap --bootstrap-server` while a producer keeps writing; every
    sealed file (segments, the offsets log, producer state snapshots, the metadata store) is then
    wrapped by the new version; the status and key version are read with DescribeConfigs; the
    audit log has the change and the started/done records; then stop, retire the old version from
    the keyring, start, and consume everything (every record, in order), the offsets, the user
    and the ACL still there.
  * Kafka's own kafka-configs.sh (--entity-default and --entity-name) starts a rewrap too.
  * refusals: a user without ALTER_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED), a bad
    value (INVALID_CONFIG), the action mixed with another key, a second request while one runs.
  * the shred/rewrap race: a topic deleted while a rewrap (slowed by the test hook
    SLUICE_TEST_REWRAP_DELAY_MS inside each file's critical section) walks its segments: every
    segment of the deleted topic (kept reachable by hard links) has both key slots zeroed
    afterwards; no wrapped key was written back.

Sluice only (Apache Kafka has no encryption at rest). Every wait is a condition with a deadline.
"""

from __future__ import annotations

import os
import struct
import subprocess
import threading
from pathlib import Path

import pytest

import kwire as k
import sluice_harness as h

FILE_HDR = 128
ADMIN_PW = "admin-rewrap-pw-1"
BOB_PW = "bob-rewrap-pw-2"
CAROL_PW = "carol-rewrap-pw-3"
DELAY_ENV = "SLUICE_TEST_REWRAP_DELAY_MS"
CLUSTER_AUTHORIZATION_FAILED = 31
INVALID_CONFIG = 40


def setup_module(module):
    h.only_on_sluice("encryption at rest is a Sluice feature")


def active_kek_version(path: Path) -> int:
    """The KEK version of the valid key slot with the highest sequence number (0: none)."""
    hdr = path.read_bytes()[:FILE_HDR]
    best = (0, 0)
    for at in (16, 68):
        seq, ver = struct.unpack(">II", hdr[at:at + 8])
        (crc,) = struct.unpack(">I", hdr[at + 48:at + 52])
        if seq and crc == k.crc32c(hdr[at:at + 48]) and seq > best[0]:
            best = (seq, ver)
    return best[1]


def sealed_files(data_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(data_dir)): active_kek_version(p) for p in data_dir.rglob("*")
            if p.is_file() and p.read_bytes()[:8] == b"SLUICEAE"}


def broker_configs(b: h.Broker, *names: str) -> dict[str, str]:
    from confluent_kafka.admin import ConfigResource
    res = ConfigResource(ConfigResource.Type.BROKER, "1")
    a = h.admin_client(b.bootstrap)
    (f,) = a.describe_configs([res], request_timeout=10).values()
    got = f.result(timeout=30)
    return {n: got[n].value for n in names}


def rewrap_status(b: h.Broker) -> str:
    return broker_configs(b, "sluice.encryption.rewrap.status")["sluice.encryption.rewrap.status"]


def wait_rewrap_outcome(b: h.Broker) -> str:
    return h.wait_for(lambda: (s := rewrap_status(b)).startswith(("done", "failed")) and s, 120,
                      "the rewrap's outcome")


def rewrap_records(b: h.Broker) -> list[dict]:
    return [r["data"] for r in h.audit_records(b.data_dir / "audit")
            if r["type"] == "io.sluice.encryption.rewrap"]


def produce_segments(b: h.Broker, topic: str, partition: int, n: int, tag: bytes) -> None:
    """n batches, one produce request each (the topic rolls a segment per batch: segment.ms=1)."""
    with k.Conn(b.host, b.port, timeout=30) as c:
        for i in range(n):
            batch = k.build_batch([k.Record(key=b"k%d" % i, value=tag + b"-%d" % i)])
            p = k.produce_retrying(c, topic, partition, batch, acks=-1)
            assert p["error_code"] == k.NONE, p


def rotate(b: h.Broker) -> int:
    r = h.sluice_cli("keys", "rotate", "--data-dir", str(b.data_dir))
    out = r.stdout.decode()
    assert "added key version" in out, out
    return int(out.split("added key version ")[1].split()[0])


def sasl_props(path: Path, user: str, pw: str) -> Path:
    path.write_text("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n"
                    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                    f'required username="{user}" password="{pw}";\n')
    return path


@pytest.fixture
def broker(tmp_path, monkeypatch):
    """PLAINTEXT (User:ANONYMOUS, a super user) and SASL_PLAINTEXT (admin: super user, bob: not),
    deny by default, encryption and audit on (the defaults)."""
    monkeypatch.delenv(DELAY_ENV, raising=False)
    b = h.Broker(tmp_path / "b", config={
        "super.users": "User:ANONYMOUS;User:admin",
        "allow.everyone.if.no.acl.found": "false",
        "sasl.enabled.mechanisms": "SCRAM-SHA-256",
    }, listeners=["PLAINTEXT", "SASL_PLAINTEXT"])
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def add_user(b: h.Broker, name: str, pw: str) -> None:
    h.sluice_cli("user", "add", name, "--mechanism", "SCRAM-SHA-256", "--password-stdin",
                 "--bootstrap-server",
                 b.bootstrap_of("PLAINTEXT"), input=(pw + "\n").encode())


def test_online_rewrap_while_producing_then_retire(broker, tmp_path, monkeypatch):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation,
                                       AclPermissionType, ResourcePatternType, ResourceType)
    b = broker
    # Each file's rewrap pauses a little, so that the producer below writes during the rewrap.
    monkeypatch.setenv(DELAY_ENV, "15")
    b.start()
    add_user(b, "carol", CAROL_PW)
    admin = h.admin_client(b.bootstrap)
    acl = AclBinding(ResourceType.TOPIC, "orders", ResourcePatternType.LITERAL, "User:carol", "*",
                     AclOperation.READ, AclPermissionType.ALLOW)
    for f in admin.create_acls([acl]).values():
        f.result(timeout=30)
    h.create_topic(b.bootstrap, "rolled", partitions=1, config={"segment.ms": "1"})
    h.create_topic(b.bootstrap, "orders", partitions=3)
    h.create_topic(b.bootstrap, "audit-trail", partitions=2)
    produce_segments(b, "rolled", 0, 12, b"seg")
    n_rolled = len(list((b.data_dir / "logs" / "rolled-0").glob("*.log")))
    assert n_rolled >= 6, n_rolled  # a roll when a batch comes 1 ms or more after the last
    all_orders = h.make_records(20600, seed=81, partitions=3)
    orders, more = all_orders[:600], all_orders[600:]
    trail = h.make_records(400, seed=82, partitions=2)
    h.produce_confluent(b.bootstrap, "orders", orders)
    h.produce_confluent(b.bootstrap, "audit-trail", trail, extra={"enable.idempotence": True})
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "billing",
                  "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition("orders", 0, 7), TopicPartition("audit-trail", 1, 5)],
             asynchronous=False)
    c.close()
    assert set(sealed_files(b.data_dir).values()) == {1}

    # Rotate while the broker runs: the key file gains version 2 (the data directory is in use).
    assert rotate(b) == 2
    assert broker_configs(b, "sluice.encryption.key.version")["sluice.encryption.key.version"] == "1"
    assert rewrap_status(b) == "idle"

    # A producer writes (50 records, then waits for their acknowledgement) until the rewrap is done.
    stop = threading.Event()
    sent: list[h.Rec] = []
    errors: list[str] = []

    def produce_during():
        def cb(err, msg):
            if err:
                errors.append(str(err))
        try:
            p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5,
                          "enable.idempotence": True})
            for r in more:
                if stop.is_set():
                    break
                p.produce("orders", key=r.key, value=r.value, headers=list(r.headers),
                          partition=r.partition, on_delivery=cb)
                sent.append(r)
                p.poll(0)
                if len(sent) % 50 == 0:
                    p.flush(30)
            p.flush(60)
        except Exception as e:  # reported by the assertions below
            errors.append(repr(e))

    t = threading.Thread(target=produce_during)
    t.start()
    h.wait_for(lambda: len(sent) >= 200 or errors, 60, "the producer under way")
    assert not errors, errors
    at_start = len(sent)
    r = h.sluice_cli("keys", "rewrap", "--bootstrap-server", b.bootstrap, timeout=180)
    at_end = len(sent)
    stop.set()
    out = r.stdout.decode()
    assert out.startswith("done:") and "key version 2" in out, out
    t.join(120)
    assert not t.is_alive() and not errors, errors
    assert at_start < at_end < len(more), (at_start, at_end, "no production during the rewrap")

    cfg = broker_configs(b, "sluice.encryption.key.version", "sluice.encryption.rewrap.status")
    assert cfg["sluice.encryption.key.version"] == "2"
    assert cfg["sluice.encryption.rewrap.status"].startswith("done:"), cfg
    # Every sealed file is wrapped by version 2: segments of both topics, the offsets log,
    # producer state snapshots, the metadata store; including segments created during the run.
    sealed = sealed_files(b.data_dir)
    assert any(p.endswith("producer-state.snapshot") for p in sealed), sealed
    assert any(p.startswith("internal/") for p in sealed) and "meta/sluice.meta" in sealed, sealed
    assert sum(1 for p in sealed if p.startswith("logs/rolled-0/")) >= n_rolled, sealed
    assert set(sealed.values()) == {2}, sealed
    # The audit log: the change (who asked), then started and done with counts.
    recs = h.audit_records(b.data_dir / "audit")
    (chg,) = [x for x in recs if x["type"] == "io.sluice.change.config.alter"
              and x.get("subject") == "CLUSTER:kafka-cluster"]
    assert chg["data"]["outcome"] == "success" and chg["data"]["principal"] == "User:ANONYMOUS"
    assert chg["data"]["detail"]["configs"] == {"sluice.keys.rewrap": "now"}, chg
    started, done = rewrap_records(b)
    assert started["what"] == "started" and started["key_version"] == 2, started
    assert done["what"] == "done" and done["rewrapped"] >= n_rolled + 5 and done["failed"] == 0, done
    assert "online key rewrap done" in b.log_text()

    # Retire version 1, restart, and read everything back.
    b.stop()
    keyring = b.data_dir / "keys" / "keyring"
    keyring.write_text("\n".join(ln for ln in keyring.read_text().splitlines()
                                 if not ln.startswith("key 1 ")) + "\n")
    os.chmod(keyring, 0o600)
    before = len(b.log_text())
    b.start()
    log = b.log_text()[before:]
    assert "producer state snapshot unusable" not in log and "QUARANTINED" not in log, log[-3000:]
    produced = all_orders[:600 + len(sent)]
    h.check_consumed(produced, h.consume_confluent(b.bootstrap, "orders", 3, len(produced)), 3)
    rolled = h.consume_confluent(b.bootstrap, "rolled", 1, 12)
    assert [g.value for g in rolled] == [b"seg-%d" % i for i in range(12)]
    h.check_consumed(trail, h.consume_confluent(b.bootstrap, "audit-trail", 2, len(trail)), 2)
    a = h.admin_client(b.bootstrap)
    from confluent_kafka import ConsumerGroupTopicPartitions
    f = a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(
        "billing", [TopicPartition("orders", 0), TopicPartition("audit-trail", 1)])])
    offs = {(tp.topic, tp.partition): tp.offset
            for tp in f["billing"].result(timeout=30).topic_partitions}
    assert offs == {("orders", 0): 7, ("audit-trail", 1): 5}, offs
    r = h.sluice_cli("user", "list", "--bootstrap-server", b.bootstrap)
    assert b"carol" in r.stdout, r.stdout
    acls = a.describe_acls(AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None,
                                            None, AclOperation.ANY, AclPermissionType.ANY))
    assert acl in acls.result(timeout=30)
    # carol still authenticates (her SCRAM credential survived in the resealed store), and her
    # ACL lets her read.
    cc = Consumer({"bootstrap.servers": b.bootstrap_of("SASL_PLAINTEXT"),
                   "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
                   "sasl.username": "carol", "sasl.password": CAROL_PW, "group.id": "unused"})
    try:
        md = cc.list_topics("orders", timeout=30)
        assert md.topics["orders"].error is None and len(md.topics["orders"].partitions) == 3
    finally:
        cc.close()
