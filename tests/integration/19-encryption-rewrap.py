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
import subprocess
import threading
import time
from pathlib import Path

import pytest

import kwire as k
import sluice_harness as h

ADMIN_PW = "admin-rewrap-pw-1"
BOB_PW = "bob-rewrap-pw-2"
CAROL_PW = "carol-rewrap-pw-3"
DELAY_ENV = "SLUICE_TEST_REWRAP_DELAY_MS"
CLUSTER_AUTHORIZATION_FAILED = 31
INVALID_CONFIG = 40


def setup_module(module):
    h.only_on_sluice("encryption at rest is a Sluice feature")


def sealed_files(data_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(data_dir)): h.sealed_kek_version(p) for p in data_dir.rglob("*")
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


def produce_until_segments(b: h.Broker, topic: str, partition: int, want: int,
                           tag: bytes) -> tuple[int, int]:
    """One-batch produce requests until the partition has at least want segments (segment.ms=1
    rolls only when a batch comes 1 ms or more after the segment's first: how many batches
    that takes depends on the machine's speed). Returns (segments, batches produced)."""
    d = b.data_dir / "logs" / f"{topic}-{partition}"
    deadline = time.monotonic() + 60
    i = 0
    with k.Conn(b.host, b.port, timeout=30) as c:
        while (n := len(list(d.glob("*.log")))) < want:
            assert time.monotonic() < deadline, f"{topic}-{partition}: {n} segments after {i} batches"
            batch = k.build_batch([k.Record(key=b"k%d" % i, value=tag + b"-%d" % i)])
            p = k.produce_retrying(c, topic, partition, batch, acks=-1)
            assert p["error_code"] == k.NONE, p
            i += 1
    return n, i


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
    n_rolled, n_seg_batches = produce_until_segments(b, "rolled", 0, 6, b"seg")
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

    # A producer writes (50 records, then waits for their acknowledgement) until the rewrap is done,
    # however long that takes: its supply of distinct records grows as it goes.
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
            supply = more
            while not stop.is_set():
                if len(sent) == len(supply):  # the same records, and more (make_records: a prefix)
                    supply = h.make_records(600 + 2 * len(supply), seed=81, partitions=3)[600:]
                r = supply[len(sent)]
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
    assert at_start < at_end, (at_start, at_end, "no production during the rewrap")

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
    ok = h.sluice_cli("audit", "verify", str(b.data_dir / "audit"), "--key-file",
                      str(b.data_dir / "keys" / "audit.key"), check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    keyring = b.data_dir / "keys" / "keyring"
    keyring.write_text("\n".join(ln for ln in keyring.read_text().splitlines()
                                 if not ln.startswith("key 1 ")) + "\n")
    os.chmod(keyring, 0o600)
    before = len(b.log_text())
    b.start()
    log = b.log_text()[before:]
    assert "producer state snapshot unusable" not in log and "QUARANTINED" not in log, log[-3000:]
    produced = orders + sent
    assert produced == h.make_records(len(produced), seed=81, partitions=3)
    h.check_consumed(produced, h.consume_confluent(b.bootstrap, "orders", 3, len(produced)), 3)
    rolled = h.consume_confluent(b.bootstrap, "rolled", 1, n_seg_batches)
    assert [g.value for g in rolled] == [b"seg-%d" % i for i in range(n_seg_batches)]
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


def test_kafka_configs_starts_a_rewrap(broker):
    """Kafka's own tool, as a Kafka user would try it: --entity-default, then --entity-name 1."""
    b = broker
    b.start()
    h.create_topic(b.bootstrap, "kc", partitions=2)
    produce_segments(b, "kc", 0, 3, b"kc")
    for n, entity in ((2, ["--entity-default"]), (3, ["--entity-name", "1"])):
        assert rotate(b) == n
        r = h.kafka_tool("kafka-configs", "--bootstrap-server", b.bootstrap, "--alter",
                         "--entity-type", "brokers", *entity, "--add-config",
                         "sluice.keys.rewrap=now")
        out = (r.stdout + r.stderr).decode()
        assert "Completed updating" in out, out
        status = wait_rewrap_outcome(b)
        assert status.startswith("done:") and f"key version {n}" in status, status
        assert set(sealed_files(b.data_dir).values()) == {n}
    # --describe shows the status among the broker's entries.
    r = h.kafka_tool("kafka-configs", "--bootstrap-server", b.bootstrap, "--describe",
                     "--entity-type", "brokers", "--entity-name", "1", "--all")
    out = r.stdout.decode()
    assert "sluice.encryption.rewrap.status=done:" in out and "sluice.encryption.key.version=3" in out


@pytest.mark.filterwarnings("ignore:alter_configs has been deprecated")
def test_refusals(broker, tmp_path, monkeypatch):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource
    from confluent_kafka import KafkaException
    b = broker
    monkeypatch.setenv(DELAY_ENV, "500")  # the first rewrap lasts while the second one is asked
    b.start()
    add_user(b, "admin", ADMIN_PW)
    add_user(b, "bob", BOB_PW)
    h.create_topic(b.bootstrap, "ref", partitions=4)
    for p in range(4):
        produce_segments(b, "ref", p, 1, b"r")
    assert rotate(b) == 2
    bob = sasl_props(tmp_path / "bob.properties", "bob", BOB_PW)
    admin = sasl_props(tmp_path / "admin.properties", "admin", ADMIN_PW)
    sasl = b.bootstrap_of("SASL_PLAINTEXT")

    # Not a super user, no ALTER_CONFIGS on the cluster: refused, nothing starts.
    r = h.sluice_cli("keys", "rewrap", "--bootstrap-server", sasl, "--command-config", str(bob),
                     check=False)
    assert r.returncode == 1 and b"not allowed" in r.stderr, r.stderr
    assert rewrap_status(b) == "idle"

    a = h.admin_client(b.bootstrap)

    def incremental(name: str, value: str, *more: tuple[str, str]) -> None:
        res = ConfigResource(ConfigResource.Type.BROKER, "1", incremental_configs=[
            ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET),
            *[ConfigEntry(n, v, incremental_operation=AlterConfigOpType.SET) for n, v in more]])
        (f,) = a.incremental_alter_configs([res], request_timeout=10).values()
        f.result(timeout=30)

    # A bad value: INVALID_CONFIG; the action mixed with another key: refused too.
    with pytest.raises(KafkaException) as e:
        incremental("sluice.keys.rewrap", "later")
    assert e.value.args[0].code() == INVALID_CONFIG and "only value is 'now'" in str(e.value)
    with pytest.raises(KafkaException) as e:
        incremental("sluice.keys.rewrap", "now", ("log.retention.ms", "1000"))
    assert "send it alone" in str(e.value)
    assert rewrap_status(b) == "idle"
    # bob's refusal and the bad value are audited (denial; failed change); nothing started.
    recs = h.audit_records(b.data_dir / "audit")
    assert any(x["type"] == "io.sluice.authorization" and x["data"].get("principal") == "User:bob"
               and x["data"].get("decision") == "deny" for x in recs)
    bad = [x for x in recs if x["type"] == "io.sluice.change.config.alter"]
    assert any(x["data"]["error_code"] == INVALID_CONFIG
               and x["data"]["detail"]["configs"] == {"sluice.keys.rewrap": "[hidden]"}
               for x in bad), bad
    assert rewrap_records(b) == []

    # The super user starts one (AlterConfigs, the non-incremental API, works too); a second
    # request while it runs is refused with a clear message.
    res = ConfigResource(ConfigResource.Type.BROKER, "1", set_config={"sluice.keys.rewrap": "now"})
    (f,) = a.alter_configs([res], request_timeout=10).values()
    f.result(timeout=30)
    assert rewrap_status(b).startswith("running")
    r = h.sluice_cli("keys", "rewrap", "--bootstrap-server", sasl, "--command-config", str(admin),
                     check=False)
    assert r.returncode == 1 and b"already running" in r.stderr, r.stderr
    status = wait_rewrap_outcome(b)
    assert status.startswith("done:") and "key version 2" in status, status
    # Now the super user's own request goes through and has nothing left to do.
    r = h.sluice_cli("keys", "rewrap", "--bootstrap-server", sasl, "--command-config", str(admin),
                     timeout=120)
    assert r.stdout.startswith(b"done: 0 file(s) rewrapped"), r.stdout


def test_failed_reload_is_reported(broker):
    """A key file that lost the version in use with different bytes under its number: the
    rewrap fails with the reason (CLI exit 1, status, audit), and the broker keeps serving."""
    b = broker
    b.start()
    h.create_topic(b.bootstrap, "fr", partitions=1)
    produce_segments(b, "fr", 0, 2, b"fr")
    keyring = b.data_dir / "keys" / "keyring"
    keyring.write_text("sluice-keyring 1\nkey 1 " + "ab" * 32 + "\n")
    os.chmod(keyring, 0o600)
    r = h.sluice_cli("keys", "rewrap", "--bootstrap-server", b.bootstrap, check=False, timeout=120)
    assert r.returncode == 1 and b"failed: cannot reload the keyring: key version 1 differs" \
        in r.stderr, r.stderr
    (rec,) = rewrap_records(b)
    assert rec["what"] == "failed" and "differs" in rec["reason"], rec
    assert set(sealed_files(b.data_dir).values()) == {1}
    with k.Conn(b.host, b.port, timeout=30) as c:
        got, hw = k.fetch_all(c, "fr", 0)
        assert hw == 2 and len(got) == 2


def test_topic_deleted_during_rewrap_stays_shredded(broker, tmp_path, monkeypatch):
    """The shred/rewrap race. Each file's rewrap pauses 40 ms between reading its header and
    writing the new key slot (the test hook), so a deletion lands while a rewrap holds a segment
    of the topic. Without the exclusion, the rewrap would write a wrapped data key back into a
    segment the deletion just shredded. Hard links keep every segment reachable after the
    deletion: all must have both key slots zeroed."""
    b = broker
    monkeypatch.setenv(DELAY_ENV, "40")
    b.start()
    h.create_topic(b.bootstrap, "doomed", partitions=1, config={"segment.ms": "1"})
    h.create_topic(b.bootstrap, "kept", partitions=1)
    produce_until_segments(b, "doomed", 0, 30, b"doomed")
    produce_segments(b, "kept", 0, 3, b"kept")
    segs = sorted((b.data_dir / "logs" / "doomed-0").glob("*.log"))
    links = tmp_path / "links"
    links.mkdir()
    for s in segs:
        os.link(s, links / s.name)
    assert rotate(b) == 2
    cli = subprocess.Popen([str(h.SLUICE_CLI), "keys", "rewrap", "--bootstrap-server", b.bootstrap],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Delete once the rewrap is inside the topic's directory (a segment moved to version 2).
        h.wait_for(lambda: any(h.sealed_kek_version(p) == 2 for p in links.iterdir()), 60,
                   "the rewrap under way in doomed-0")
        moved = sum(1 for p in links.iterdir() if h.sealed_kek_version(p) == 2)
        admin = h.admin_client(b.bootstrap)
        for f in admin.delete_topics(["doomed"]).values():
            f.result(timeout=30)
        out, err = cli.communicate(timeout=180)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0 and out.startswith(b"done:"), (out, err)
    assert moved < len(segs), "the rewrap had finished the topic before its deletion"
    h.wait_for(lambda: not (b.data_dir / "logs" / "doomed-0").exists(), 30,
               "the partition directory removed")
    # Every segment of the deleted topic: both key slots zero, so no usable wrapped key.
    left = {p.name: p.read_bytes()[16:120] for p in links.iterdir()}
    assert all(v == bytes(104) for v in left.values()), \
        [n for n, v in left.items() if v != bytes(104)]
    assert "cannot destroy its data key" not in b.log_text()
    # The topic that stays was rewrapped.
    assert {h.sealed_kek_version(p) for p in (b.data_dir / "logs" / "kept-0").glob("*.log")} == {2}
