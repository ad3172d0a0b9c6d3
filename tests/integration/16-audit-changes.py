# SPDX-License-Identifier: Apache-2.0
"""Audit log: change events (issue 7), caused by Kafka's own tools.

One broker: a PLAINTEXT listener whose User:ANONYMOUS is a super user (it
creates the administrator), and a SASL_PLAINTEXT listener where User:admin
(a super user, SCRAM-SHA-256) runs every change with Kafka's CLI tools and
confluent-kafka: kafka-topics create / alter --partitions / delete,
kafka-configs on a topic, kafka-acls add / remove, kafka-configs on users
(SCRAM add and delete), kafka-consumer-groups --reset-offsets --execute,
--delete-offsets and --delete, kafka-delete-records, and one failed change
(a topic that exists already). Each test asserts the matching record: type,
principal, resource, outcome and what changed; no record holds the password
of a SCRAM user; each change record links the intent record its request
wrote before it ran (same request, naming the resource); and after a clean stop `sluice audit verify` accepts the
whole log.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

import sluice_harness as h

ADMIN_PW = "admin-changes-pw"
CAROL_PW = "carol-secret-pw-7731"


def records(b: h.Broker) -> list[dict]:
    return h.audit_records(b.data_dir / "audit")


def change(b: h.Broker, what: str, subject: str, pred=lambda r: True, timeout: float = 20) -> dict:
    """The first io.sluice.change.<what> record about subject that pred accepts.
    The response of a change leaves only once its record is durable, so the
    record is on disk when the tool returns: no waiting is needed, but a
    short deadline keeps a failure readable."""
    t = "io.sluice.change." + what

    def find():
        for r in records(b):
            if r["type"] == t and r.get("subject") == subject and pred(r):
                return r
        return None
    r = h.wait_for(find, timeout * h.SLOWDOWN, f"{t} record for {subject}")
    assert_intent(records(b), r)
    return r


def assert_intent(recs: list[dict], r: dict) -> None:
    """The intent record the change links (intent_seq, policy reject): written
    before it by the same request, naming its resource."""
    d = r["data"]
    seq = d["intent_seq"]
    (i,) = [x for x in recs if x["sluiceseq"] == seq]
    assert i["type"] == "io.sluice.change.intent" and seq < r["sluiceseq"], i
    for k in ("principal", "client_address", "connection_id", "api", "correlation_id", "client_id"):
        assert i["data"].get(k) == d.get(k), (k, i, r)
    assert d["resource_name"] in [x["resource_name"] for x in i["data"]["resources"]], (i, r)


@pytest.fixture(scope="module")
def ab(tmp_path_factory):
    h.only_on_sluice("the audit log is Sluice's")
    b = h.Broker(tmp_path_factory.mktemp("auditchg"), config={
        "super.users": "User:ANONYMOUS;User:admin",
        "allow.everyone.if.no.acl.found": "false",
        "sasl.enabled.mechanisms": "SCRAM-SHA-256",
    }, listeners=["PLAINTEXT", "SASL_PLAINTEXT"]).start()
    h.set_scram_user(b.bootstrap_of("PLAINTEXT"), "admin", ADMIN_PW, ("SCRAM-SHA-256",))
    yield b
    try:
        b.finish()
    finally:
        b.kill()


@pytest.fixture(scope="module")
def cc(ab, tmp_path_factory) -> Path:
    """--command-config for the Java tools: SCRAM as admin."""
    p = tmp_path_factory.mktemp("cc") / "admin.properties"
    p.write_text("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n"
                 "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                 f'username="admin" password="{ADMIN_PW}";\n')
    return p


def tool(ab, cc, name: str, *args: str, cfg_flag: str = "--command-config") -> bytes:
    r = h.kafka_tool(name, "--bootstrap-server", ab.bootstrap_of("SASL_PLAINTEXT"), cfg_flag, str(cc),
                     *args)
    return r.stdout + r.stderr


def confluent_conf(ab) -> dict:
    return {"bootstrap.servers": ab.bootstrap_of("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "admin", "sasl.password": ADMIN_PW,
            "socket.timeout.ms": 10000}


def assert_ctx(r: dict, api: str) -> None:
    d = r["data"]
    assert d["principal"] == "User:admin", r
    assert d["listener"] == "SASL_PLAINTEXT" and d["security_protocol"] == "SASL_PLAINTEXT"
    assert d["client_address"].startswith("127.0.0.1:")
    assert d["api"] == api, r
    assert isinstance(d["correlation_id"], int) and d["correlation_id"] >= 0
    assert "client_id" in d
    assert d["decision"] == "allow"


def test_user_created_by_anonymous(ab):
    r = change(ab, "user.alter", "USER:admin")
    assert r["data"]["principal"] == "User:ANONYMOUS"
    assert r["data"]["api"] == "AlterUserScramCredentials"
    assert r["data"]["outcome"] == "success" and r["data"]["error_code"] == 0
    assert r["data"]["detail"] == {"mechanism": "SCRAM-SHA-256", "iterations": 4096}
    assert r["data"]["resource_type"] == "USER" and r["data"]["operation"] == "ALTER"


def test_topic_create_alter_partitions_configs(ab, cc):
    out = tool(ab, cc, "kafka-topics", "--create", "--topic", "chg-a", "--partitions", "1",
               "--config", "retention.ms=86400000")
    assert b"Created topic chg-a" in out, out
    r = change(ab, "topic.create", "TOPIC:chg-a")
    assert_ctx(r, "CreateTopics")
    d = r["data"]
    assert d["resource_name"] == "chg-a" and d["pattern_type"] == "LITERAL"
    assert d["operation"] == "CREATE" and d["outcome"] == "success"
    assert d["detail"]["num_partitions"] == 1
    assert d["detail"]["configs"] == {"retention.ms": "86400000"}

    tool(ab, cc, "kafka-topics", "--alter", "--topic", "chg-a", "--partitions", "3")
    r = change(ab, "partitions.create", "TOPIC:chg-a")
    assert_ctx(r, "CreatePartitions")
    assert r["data"]["operation"] == "ALTER" and r["data"]["outcome"] == "success"
    assert r["data"]["detail"] == {"new_partition_count": 3}

    out = tool(ab, cc, "kafka-configs", "--alter", "--entity-type", "topics", "--entity-name", "chg-a",
               "--add-config", "retention.ms=5000,max.message.bytes=200000")
    assert b"Completed updating config" in out, out
    r = change(ab, "config.alter", "TOPIC:chg-a", lambda r: "retention.ms" in r["data"]["detail"]["configs"])
    assert_ctx(r, "IncrementalAlterConfigs")
    d = r["data"]
    assert d["operation"] == "ALTER_CONFIGS" and d["outcome"] == "success"
    assert d["detail"]["incremental"] is True
    assert d["detail"]["configs"] == {"retention.ms": "5000", "max.message.bytes": "200000"}
    assert d["detail"]["operations"] == {"retention.ms": "SET", "max.message.bytes": "SET"}

    tool(ab, cc, "kafka-configs", "--alter", "--entity-type", "topics", "--entity-name", "chg-a",
         "--delete-config", "max.message.bytes")
    r = change(ab, "config.alter", "TOPIC:chg-a",
               lambda r: r["data"]["detail"]["operations"].get("max.message.bytes") == "DELETE")
    assert r["data"]["detail"]["configs"] == {"max.message.bytes": None}


def test_failed_change_is_recorded(ab):
    """A change that fails is recorded with its outcome and Kafka's error."""
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient(confluent_conf(ab))
    h.create_topic(ab.bootstrap_of("PLAINTEXT"), "chg-dup")
    f = a.create_topics([NewTopic("chg-dup", num_partitions=1, replication_factor=1)],
                        request_timeout=30)["chg-dup"]
    with pytest.raises(Exception) as e:
        f.result(timeout=30)
    assert "TOPIC_ALREADY_EXISTS" in str(e.value) or "already exists" in str(e.value)
    r = change(ab, "topic.create", "TOPIC:chg-dup", lambda r: r["data"]["outcome"] == "failure")
    assert r["data"]["principal"] == "User:admin"
    assert r["data"]["error_code"] == 36  # TOPIC_ALREADY_EXISTS
    assert "exists" in r["data"]["error_message"]


def test_acls_add_remove(ab, cc):
    out = tool(ab, cc, "kafka-acls", "--add", "--allow-principal", "User:bob", "--operation", "Read",
               "--topic", "chg-a")
    assert b"Adding ACLs" in out, out
    r = change(ab, "acl.create", "TOPIC:chg-a")
    assert_ctx(r, "CreateAcls")
    d = r["data"]
    assert d["pattern_type"] == "LITERAL" and d["outcome"] == "success"
    assert d["detail"] == {"acl_principal": "User:bob", "acl_host": "*", "acl_operation": "READ",
                           "acl_permission_type": "ALLOW"}
    tool(ab, cc, "kafka-acls", "--add", "--allow-principal", "User:bob", "--operation", "Write",
         "--topic", "chg-", "--resource-pattern-type", "prefixed")
    r = change(ab, "acl.create", "TOPIC:chg-")
    assert r["data"]["pattern_type"] == "PREFIXED"

    tool(ab, cc, "kafka-acls", "--remove", "--force", "--allow-principal", "User:bob", "--operation",
         "Read", "--topic", "chg-a")
    r = change(ab, "acl.delete", "TOPIC:chg-a")
    assert_ctx(r, "DeleteAcls")
    assert r["data"]["outcome"] == "success"
    assert r["data"]["detail"]["acl_operation"] == "READ"


def test_users_add_delete_no_secret(ab, cc):
    out = tool(ab, cc, "kafka-configs", "--alter", "--add-config",
               f"SCRAM-SHA-512=[iterations=8192,password={CAROL_PW}]", "--entity-type", "users",
               "--entity-name", "carol")
    assert b"Completed updating config for user carol" in out, out
    r = change(ab, "user.alter", "USER:carol")
    assert_ctx(r, "AlterUserScramCredentials")
    assert r["data"]["detail"] == {"mechanism": "SCRAM-SHA-512", "iterations": 8192}
    out = tool(ab, cc, "kafka-configs", "--alter", "--delete-config", "SCRAM-SHA-512",
               "--entity-type", "users", "--entity-name", "carol")
    assert b"Completed updating config for user carol" in out, out
    r = change(ab, "user.delete", "USER:carol")
    assert r["data"]["outcome"] == "success"
    assert r["data"]["detail"] == {"mechanism": "SCRAM-SHA-512"}
    # Nothing secret anywhere in the log: neither the password nor a salt.
    for f in (ab.data_dir / "audit").glob("audit-*.jsonl"):
        raw = f.read_bytes()
        assert CAROL_PW.encode() not in raw and ADMIN_PW.encode() not in raw
        assert b"salt" not in raw and b"salted" not in raw


def test_group_offsets_reset_delete_and_group_delete(ab, cc):
    from confluent_kafka import Consumer, Producer
    topic, group = "chg-g", "chg-group-" + uuid.uuid4().hex[:6]
    h.create_topic(ab.bootstrap_of("PLAINTEXT"), topic)
    p = Producer(confluent_conf(ab))
    for i in range(10):
        p.produce(topic, value=b"v%d" % i)
    assert p.flush(30) == 0
    # A member consumes and commits (not recorded: a member's commit), then leaves.
    c = Consumer(dict(confluent_conf(ab), **{"group.id": group, "auto.offset.reset": "earliest",
                                              "enable.auto.commit": False}))
    c.subscribe([topic])
    got = 0
    deadline = time.monotonic() + 60 * h.SLOWDOWN
    while got < 10:
        assert time.monotonic() < deadline, f"consumed {got} of 10"
        m = c.poll(1.0)
        if m is not None and m.error() is None:
            got += 1
    c.commit(asynchronous=False)
    c.close()
    assert not [r for r in records(ab) if r["type"] == "io.sluice.change.offsets.reset"
                and r["subject"] == f"GROUP:{group}"], "a member's commit was recorded as a reset"

    out = tool(ab, cc, "kafka-consumer-groups", "--group", group, "--reset-offsets", "--to-offset", "3",
               "--topic", topic, "--execute")
    assert b"NEW-OFFSET" in out, out
    r = change(ab, "offsets.reset", f"GROUP:{group}")
    assert_ctx(r, "OffsetCommit")
    d = r["data"]
    assert d["resource_type"] == "GROUP" and d["outcome"] == "success"
    assert d["detail"] == {"topic": topic, "partitions": [{"partition": 0, "offset": 3, "error_code": 0}]}

    out = tool(ab, cc, "kafka-consumer-groups", "--group", group, "--delete-offsets", "--topic", topic)
    r = change(ab, "offsets.delete", f"GROUP:{group}")
    assert_ctx(r, "OffsetDelete")
    assert r["data"]["operation"] == "DELETE" and r["data"]["outcome"] == "success", out
    assert r["data"]["detail"] == {"topic": topic, "partitions": [{"partition": 0, "error_code": 0}]}

    out = tool(ab, cc, "kafka-consumer-groups", "--group", group, "--delete")
    r = change(ab, "group.delete", f"GROUP:{group}")
    assert_ctx(r, "DeleteGroups")
    assert r["data"]["operation"] == "DELETE"
    # The group's offsets were deleted just before: with no offsets and no
    # members the group may be gone already (GROUP_ID_NOT_FOUND), which is
    # recorded as the outcome either way.
    assert r["data"]["outcome"] in ("success", "failure")
    assert (r["data"]["outcome"] == "success") == (r["data"]["error_code"] == 0)


def test_delete_records(ab, cc, tmp_path):
    topic = "chg-dr"
    h.create_topic(ab.bootstrap_of("PLAINTEXT"), topic)
    from confluent_kafka import Producer
    p = Producer(confluent_conf(ab))
    for i in range(5):
        p.produce(topic, value=b"x")
    assert p.flush(30) == 0
    spec = tmp_path / "dr.json"
    spec.write_text(json.dumps({"partitions": [{"topic": topic, "partition": 0, "offset": 2}],
                                "version": 1}))
    out = tool(ab, cc, "kafka-delete-records", "--offset-json-file", str(spec))
    assert b"low_watermark: 2" in out, out
    r = change(ab, "records.delete", f"TOPIC:{topic}")
    assert_ctx(r, "DeleteRecords")
    assert r["data"]["operation"] == "DELETE" and r["data"]["outcome"] == "success"
    assert r["data"]["detail"] == {"partition": 0, "offset": 2, "low_watermark": 2}


def test_topic_delete(ab, cc):
    tool(ab, cc, "kafka-topics", "--delete", "--topic", "chg-a")
    r = change(ab, "topic.delete", "TOPIC:chg-a")
    assert_ctx(r, "DeleteTopics")
    assert r["data"]["operation"] == "DELETE" and r["data"]["outcome"] == "success"
    assert len(r["data"]["detail"]["topic_id"]) == 32


def test_every_change_record_is_durable_and_verifies(ab):
    """Last: stop (seal), then the verifier accepts the whole chain."""
    ab.stop()
    adir = ab.data_dir / "audit"
    key = ab.data_dir / "keys" / "audit.key"
    recs = records(ab)
    assert sum(1 for r in recs if r["type"].startswith("io.sluice.change.")) >= 14
    last = recs[-1]
    assert last["type"] == "io.sluice.audit.seal"
    ok = h.sluice_cli("audit", "verify", str(adir), "--key-file", str(key),
                      "--expect-seq", str(last["sluiceseq"]), check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
