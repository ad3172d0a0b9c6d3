# SPDX-License-Identifier: Apache-2.0
"""Audit log fail-closed (issue 7, test 3): a real full filesystem.

sluice.audit.dir is a small tmpfs (mounted by the test: root only; CI runs as
root) that the test fills with a file once the broker is serving. The next
record cannot be written: the broker logs AUDIT LOG UNAVAILABLE. Then, with
sluice.audit.failure.policy=reject (the default):

  * an allowed CreateTopics is answered POLICY_VIOLATION (44) and the topic
    does not exist afterwards;
  * a denied CreateTopics gets no answer at all: its denial record cannot be
    written, so the connection is closed instead of answering;
  * other work goes on: produce of an allowed principal (confluent-kafka)
    succeeds (allowed decisions are not waited for), and is readable;
  * when the filler is removed the broker recovers by itself: the log says
    "audit log writable again", the next CreateTopics succeeds, the new file
    opens with reason sink_failure, and `sluice audit verify` accepts the
    whole chain.

With policy log the same CreateTopics succeeds while the sink is failing and
the broker log says the audit log is unavailable.

ACLs: allow.everyone.if.no.acl.found=false; the PLAINTEXT listener's
User:ANONYMOUS gets ALL on topics prefixed fc-ok- and WRITE/READ/DESCRIBE
on fc-data, granted while it is a super user, which it then stops being (a
restart).
"""

from __future__ import annotations

from pathlib import Path

import kwire
import sluice_harness as h

TOPIC_AUTHORIZATION_FAILED = 29
POLICY_VIOLATION = 44


def records(adir: Path) -> list[dict]:
    return h.audit_records(adir, skip_unparsable=True)


def grant(b: h.Broker) -> None:
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
    a = h.admin_client(b.bootstrap)
    acls = [AclBinding(ResourceType.TOPIC, "fc-ok-", ResourcePatternType.PREFIXED, "User:ANONYMOUS", "*",
                       AclOperation.ALL, AclPermissionType.ALLOW)]
    for op in (AclOperation.WRITE, AclOperation.READ, AclOperation.DESCRIBE):
        acls.append(AclBinding(ResourceType.TOPIC, "fc-data", ResourcePatternType.LITERAL, "User:ANONYMOUS",
                               "*", op, AclPermissionType.ALLOW))
    for f in a.create_acls(acls, request_timeout=30).values():
        f.result(timeout=30)


def start_broker(tmp: Path, adir: Path, policy: str) -> h.Broker:
    b = h.Broker(tmp / "b", config={
        "super.users": "User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
        "auto.create.topics.enable": "false",
        "sluice.audit.dir": str(adir),
        "sluice.audit.failure.policy": policy,
    }).start()
    h.create_topic(b.bootstrap, "fc-data")
    grant(b)
    b.stop()
    b.extra["super.users"] = "User:nobody"
    return b.start()


def break_sink(b: h.Broker) -> None:
    """Causes events until one cannot be written: the audit file's last page
    may still have room for a few records after the filesystem is full."""
    def failed():
        with kwire.Conn(b.host, b.port) as c:
            c.metadata(["fc-data"])
        return "AUDIT LOG UNAVAILABLE" in b.log_text()
    h.wait_for(failed, 30 * h.SLOWDOWN, "the audit log to fail on the full filesystem")


def wait_log(b: h.Broker, text: str) -> None:
    h.wait_for(lambda: text in b.log_text(), 30 * h.SLOWDOWN, f"broker log line {text!r}")


def produce_confluent(b: h.Broker, topic: str, n: int) -> None:
    from confluent_kafka import Producer
    errs = []
    p = Producer({"bootstrap.servers": b.bootstrap, "message.timeout.ms": 30000})
    for i in range(n):
        p.produce(topic, value=b"during-failure-%d" % i,
                  on_delivery=lambda e, m: errs.append(e) if e else None)
    assert p.flush(60) == 0
    assert errs == [], errs


def test_reject_refuses_then_recovers(tmp_path):
    h.only_on_sluice("the audit log is Sluice's")
    with h.small_fs(tmp_path / "auditfs") as fs:
        adir = fs / "audit"
        b = start_broker(tmp_path, adir, "reject")
        try:
            with kwire.Conn(b.host, b.port) as c:
                assert c.create_topic("fc-ok-before", ok_if_exists=False) == 0
            filler = h.fill_fs(fs)
            # Events (a connection is one) until one fails to be written.
            break_sink(b)

            # An allowed mutation: refused, not made.
            with kwire.Conn(b.host, b.port) as c:
                r = c.create_topics([{"name": "fc-ok-during", "partitions": 1, "replication_factor": 1,
                                      "configs": {}}])
                (t,) = r["topics"]
                assert t["error_code"] == POLICY_VIOLATION, r
                assert "audit log" in t["error_message"], r
            # A denied request: no answer (its denial cannot be recorded).
            with kwire.Conn(b.host, b.port) as c:
                c.send_request(kwire.CREATE_TOPICS, 2, kwire.encode_create_topics(
                    [{"name": "fc-no-during", "partitions": 1, "replication_factor": 1, "configs": {}}],
                    10000, False, 2))
                c.assert_closed_without_response(10 * h.SLOWDOWN, "denied CreateTopics during failure")
            wait_log(b, "could not be written")
            # Other work goes on: allowed produce (its allow record is not waited for).
            produce_confluent(b, "fc-data", 5)
            b.check_alive()

            # Recovery: room again.
            filler.unlink()
            wait_log(b, "audit log writable again")
            with kwire.Conn(b.host, b.port) as c:
                md = c.metadata(["fc-ok-during"])
                assert [t["error_code"] for t in md["topics"]] == [3], md  # UNKNOWN_TOPIC_OR_PARTITION
                assert c.create_topic("fc-ok-after", ok_if_exists=False) == 0
                r = c.create_topics([{"name": "fc-no-after", "partitions": 1, "replication_factor": 1,
                                      "configs": {}}])
                assert r["topics"][0]["error_code"] == TOPIC_AUTHORIZATION_FAILED, r
            assert not (b.data_dir / "fc-ok-during-0").exists()
            b.stop()
            recs = records(adir)
            opened = [r for r in recs if r["type"] == "io.sluice.audit.open"
                      and r["data"]["reason"] == "sink_failure"]
            assert opened, [r["type"] for r in recs]
            assert opened[-1]["data"]["dropped_events"] >= 1
            created = {r["data"]["resource_name"] for r in recs if r["type"] == "io.sluice.change.topic.create"}
            assert created == {"fc-ok-before", "fc-ok-after", "fc-data"}, created
            assert any(r["type"] == "io.sluice.authorization" and r["data"]["resource_name"] == "fc-no-after"
                       and r["data"]["decision"] == "deny" for r in recs)
            ok = h.sluice_cli("audit", "verify", str(adir), "--key-file", str(b.data_dir / "keys" / "audit.key"),
                              check=False)
            assert ok.returncode == 0, ok.stdout + ok.stderr
        finally:
            b.kill()


def test_policy_log_goes_on(tmp_path):
    h.only_on_sluice("the audit log is Sluice's")
    with h.small_fs(tmp_path / "auditfs") as fs:
        adir = fs / "audit"
        b = start_broker(tmp_path, adir, "log")
        try:
            filler = h.fill_fs(fs)
            break_sink(b)
            with kwire.Conn(b.host, b.port) as c:
                assert c.create_topic("fc-ok-logged", ok_if_exists=False) == 0
                r = c.create_topics([{"name": "fc-no-logged", "partitions": 1, "replication_factor": 1,
                                      "configs": {}}])
                assert r["topics"][0]["error_code"] == TOPIC_AUTHORIZATION_FAILED, r
            produce_confluent(b, "fc-data", 3)
            filler.unlink()
            wait_log(b, "audit log writable again")
            b.stop()
            ok = h.sluice_cli("audit", "verify", str(adir), "--key-file", str(b.data_dir / "keys" / "audit.key"),
                              check=False)
            assert ok.returncode == 0, ok.stdout + ok.stderr
        finally:
            b.kill()
