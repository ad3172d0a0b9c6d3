# SPDX-License-Identifier: Apache-2.0
"""Authorization with Kafka ACLs (issue 6), through real clients.

One broker with allow.everyone.if.no.acl.found=false: a PLAINTEXT listener
whose User:ANONYMOUS is the super user (the administrator: ACLs and users
are created there with confluent-kafka's AdminClient and Kafka's tools), and
a SASL_PLAINTEXT listener where alice and bob authenticate with SCRAM.

The matrix: each row grants alice some ACLs (nothing else), makes her do
one thing with confluent-kafka, and asserts exactly what the client sees
(the error code, or what Metadata lists). ACLs are removed between rows.
Then the same ideas with the Java tools (kafka-acls, console producer and
consumer), ACLs surviving a restart, and a revoked ACL stopping a running
consumer at its next fetch.
"""

from __future__ import annotations

import time
import uuid

import pytest

import sluice_harness as h

PW = "alice-matrix-pw"
BOB_PW = "bob-matrix-pw"


def _add_user(b: h.Broker, user: str, password: str) -> None:
    h.set_scram_user(b.bootstrap_of("PLAINTEXT"), user, password, ("SCRAM-SHA-256",))


@pytest.fixture(scope="module")
def ab(tmp_path_factory):
    h.only_on_sluice("Kafka's ACL behaviour is the reference these rows were written from; "
                     "the harness starts Kafka without an authorizer")
    b = h.Broker(tmp_path_factory.mktemp("authz"), config={
        "allow.everyone.if.no.acl.found": "false",
        "super.users": "User:ANONYMOUS",
        "sasl.enabled.mechanisms": "SCRAM-SHA-256",
        "auto.create.topics.enable": "true",
    }, listeners=["PLAINTEXT", "SASL_PLAINTEXT"]).start()
    _add_user(b, "alice", PW)
    _add_user(b, "bob", BOB_PW)
    for t in ("t-main", "t-other", "pre-x1"):
        h.create_topic(b.bootstrap_of("PLAINTEXT"), t)
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def admin(b):
    return h.admin_client(b.bootstrap_of("PLAINTEXT"))


def conf(b, user="alice", password=PW) -> dict:
    return {"bootstrap.servers": b.bootstrap_of("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": user, "sasl.password": password,
            "socket.timeout.ms": 10000}


def acl(spec: str):
    """'ALLOW alice WRITE TOPIC LITERAL t-main [host]' -> AclBinding."""
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
    parts = spec.split()
    perm, who, op, rtype, pat, name = parts[:6]
    host = parts[6] if len(parts) > 6 else "*"
    principal = "User:*" if who == "*" else f"User:{who}"
    rtype = "BROKER" if rtype == "CLUSTER" else rtype  # confluent-kafka's name for code 4
    return AclBinding(ResourceType[rtype], name, ResourcePatternType[pat], principal, host,
                      AclOperation[op], AclPermissionType[perm])


def set_acls(b, specs: list[str]) -> None:
    """Replaces every ACL with `specs` (through the super user)."""
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType,
                                       ResourcePatternType, ResourceType)
    a = admin(b)
    every = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                             AclOperation.ANY, AclPermissionType.ANY)
    for f in a.delete_acls([every], request_timeout=20).values():
        f.result(timeout=30)
    if specs:
        for f in a.create_acls([acl(s) for s in specs], request_timeout=20).values():
            assert f.result(timeout=30) is None


def err_name(e) -> str:
    """A KafkaError (or exception wrapping one) as its code name."""
    from confluent_kafka import KafkaException
    if isinstance(e, KafkaException):
        e = e.args[0]
    return e.name() if e is not None else "OK"


# -- actions by alice, each returning what the client saw

def do_produce(b, topic="t-main", idempotent=False) -> str:
    from confluent_kafka import Producer
    p = Producer(dict(conf(b), **{"enable.idempotence": idempotent, "message.timeout.ms": 15000,
                                  "linger.ms": 0}))
    res = []
    p.produce(topic, b"v", on_delivery=lambda e, m: res.append(e))
    p.flush(30)
    assert res, "no delivery report"
    return err_name(res[0])


def do_fetch(b, topic="t-main") -> str:
    """kafka-python without a group (no coordinator involved): the Fetch
    answer alone decides."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError
    c = KafkaConsumer(bootstrap_servers=b.bootstrap_of("SASL_PLAINTEXT"), security_protocol="SASL_PLAINTEXT",
                      sasl_mechanism="SCRAM-SHA-256", sasl_plain_username="alice", sasl_plain_password=PW,
                      group_id=None, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        c.seek(tp, 0)
        deadline = time.monotonic() + 20 * h.SLOWDOWN
        while time.monotonic() < deadline:
            try:
                got = c.poll(timeout_ms=500)
            except KafkaError as e:
                return type(e).__name__
            if got:
                return "OK"
        return "NOTHING"
    finally:
        c.close()


def do_list_topics(b) -> set[str]:
    from confluent_kafka.admin import AdminClient
    md = AdminClient(conf(b)).list_topics(timeout=10)
    return {n for n, t in md.topics.items() if t.error is None}


def do_describe_topic(b, topic) -> str:
    from confluent_kafka.admin import AdminClient
    md = AdminClient(conf(b)).list_topics(topic=topic, timeout=10)
    t = md.topics[topic]
    return "OK" if t.error is None else t.error.name()


def do_create_topic(b, name) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient(conf(b))  # referenced until its futures resolve
    fs = a.create_topics([NewTopic(name, 1, 1)], request_timeout=15)
    try:
        fs[name].result(timeout=30)
        return "OK"
    except Exception as e:  # noqa: BLE001 - the client's error is the answer
        return err_name(e)


def do_delete_topic(b, name) -> str:
    from confluent_kafka.admin import AdminClient
    a = AdminClient(conf(b))
    fs = a.delete_topics([name], request_timeout=15)
    try:
        fs[name].result(timeout=30)
        return "OK"
    except Exception as e:  # noqa: BLE001
        return err_name(e)


def do_describe_configs(b, topic) -> str:
    from confluent_kafka.admin import AdminClient, ConfigResource
    r = ConfigResource("topic", topic)
    a = AdminClient(conf(b))
    fs = a.describe_configs([r], request_timeout=15)
    try:
        list(fs.values())[0].result(timeout=30)
        return "OK"
    except Exception as e:  # noqa: BLE001
        return err_name(e)


def do_group_consume(b, group, topic="t-main") -> str:
    from confluent_kafka import Consumer
    c = Consumer(dict(conf(b), **{"group.id": group, "auto.offset.reset": "earliest",
                                  "session.timeout.ms": 6000}))
    c.subscribe([topic])
    deadline = time.monotonic() + 30 * h.SLOWDOWN
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                return m.error().name()
            return "OK"
        return "TIMEOUT"
    finally:
        c.close()


def alice_properties(b) -> str:
    """A Java client properties file for alice (written once per broker)."""
    p = b.workdir / "alice.properties"
    if not p.exists():
        p.write_text(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="alice" password="{PW}";\n')
    return str(p)


def do_describe_acls(b) -> str:
    """kafka-acls --list as alice (the Java admin client's describeAcls).
    (confluent-kafka 2.x returns an empty list for a DescribeAcls answer
    carrying CLUSTER_AUTHORIZATION_FAILED instead of raising, so the Java
    client is the judge here.)"""
    r = h.kafka_tool("kafka-acls", "--bootstrap-server", b.bootstrap_of("SASL_PLAINTEXT"),
                     "--command-config", alice_properties(b), "--list", check=False)
    out = r.stdout + r.stderr
    if b"ClusterAuthorizationException" in out:
        return "CLUSTER_AUTHORIZATION_FAILED"
    return "OK" if r.returncode == 0 else out.decode(errors="replace")[-500:]


# -- the matrix: (ACLs for alice, action, expected)

MATRIX = [
    # Produce: WRITE on the topic
    ("produce allowed", ["ALLOW alice WRITE TOPIC LITERAL t-main"], do_produce, "OK"),
    ("produce no ACL at all", [], do_produce, "TOPIC_AUTHORIZATION_FAILED"),
    ("produce ACL for another topic", ["ALLOW alice WRITE TOPIC LITERAL t-other"], do_produce,
     "TOPIC_AUTHORIZATION_FAILED"),
    ("produce DENY beats ALLOW", ["ALLOW alice WRITE TOPIC LITERAL t-main",
                                  "DENY alice WRITE TOPIC LITERAL t-main"], do_produce,
     "TOPIC_AUTHORIZATION_FAILED"),
    ("produce DENY for User:* beats ALLOW for alice", ["ALLOW alice WRITE TOPIC LITERAL t-main",
                                                       "DENY * WRITE TOPIC LITERAL t-main"], do_produce,
     "TOPIC_AUTHORIZATION_FAILED"),
    ("produce PREFIXED", ["ALLOW alice WRITE TOPIC PREFIXED t-"], do_produce, "OK"),
    ("produce PREFIXED not matching", ["ALLOW alice WRITE TOPIC PREFIXED x-"], do_produce,
     "TOPIC_AUTHORIZATION_FAILED"),
    ("produce LITERAL *", ["ALLOW alice WRITE TOPIC LITERAL *"], do_produce, "OK"),
    ("produce User:*", ["ALLOW * WRITE TOPIC LITERAL t-main"], do_produce, "OK"),
    ("produce ACL for bob only", ["ALLOW bob WRITE TOPIC LITERAL t-main"], do_produce,
     "TOPIC_AUTHORIZATION_FAILED"),
    ("produce host matches", ["ALLOW alice WRITE TOPIC LITERAL t-main 127.0.0.1"], do_produce, "OK"),
    ("produce host mismatch", ["ALLOW alice WRITE TOPIC LITERAL t-main 10.9.8.7"], do_produce,
     "TOPIC_AUTHORIZATION_FAILED"),
    ("produce with ALL", ["ALLOW alice ALL TOPIC LITERAL t-main"], do_produce, "OK"),
    ("produce READ is not WRITE", ["ALLOW alice READ TOPIC LITERAL t-main"], do_produce,
     "TOPIC_AUTHORIZATION_FAILED"),
    # Idempotent producer: KIP-679, WRITE on a topic is enough
    ("idempotent produce with WRITE", ["ALLOW alice WRITE TOPIC LITERAL t-main"],
     lambda b: do_produce(b, idempotent=True), "OK"),
    # Fetch: READ on the topic
    ("fetch allowed", ["ALLOW alice READ TOPIC LITERAL t-main"], do_fetch, "OK"),
    ("fetch with WRITE only", ["ALLOW alice WRITE TOPIC LITERAL t-main"], do_fetch,
     "TopicAuthorizationFailedError"),
    ("fetch DENY READ", ["ALLOW alice ALL TOPIC LITERAL t-main", "DENY alice READ TOPIC LITERAL t-main"],
     do_fetch, "TopicAuthorizationFailedError"),
    # Metadata: all-topics listing filtered, named topics hide existence
    ("metadata lists only describable topics", ["ALLOW alice DESCRIBE TOPIC LITERAL t-main"],
     do_list_topics, {"t-main"}),
    ("metadata implied DESCRIBE from READ", ["ALLOW alice READ TOPIC PREFIXED pre-"], do_list_topics,
     {"pre-x1"}),
    ("metadata DENY DESCRIBE hides a topic ALL allows",
     ["ALLOW alice ALL TOPIC LITERAL *", "DENY alice DESCRIBE TOPIC LITERAL t-other"], do_list_topics,
     # The wildcard ACL covers the internal topic of the audit log too (as
     # Kafka's wildcard covers __consumer_offsets): ACLs may grant it.
     {"t-main", "pre-x1", "__sluice_audit"}),
    ("metadata DENY READ does not deny DESCRIBE",
     ["ALLOW alice DESCRIBE TOPIC LITERAL t-main", "DENY alice READ TOPIC LITERAL t-main"],
     do_list_topics, {"t-main"}),
    ("metadata nothing", [], do_list_topics, set()),
    ("describe named topic without DESCRIBE", [], lambda b: do_describe_topic(b, "t-main"),
     "TOPIC_AUTHORIZATION_FAILED"),
    ("describe missing topic without DESCRIBE hides existence", [],
     lambda b: do_describe_topic(b, "no-such-topic-xyz"), "TOPIC_AUTHORIZATION_FAILED"),
    # CreateTopics: CREATE on the cluster or the topic
    ("create topic without CREATE", ["ALLOW alice DESCRIBE TOPIC LITERAL *"],
     lambda b: do_create_topic(b, f"c-{uuid.uuid4().hex[:6]}"), "TOPIC_AUTHORIZATION_FAILED"),
    ("create topic with CREATE on the cluster", ["ALLOW alice CREATE CLUSTER LITERAL kafka-cluster"],
     lambda b: do_create_topic(b, f"c-{uuid.uuid4().hex[:6]}"), "OK"),
    ("create topic with PREFIXED CREATE", ["ALLOW alice CREATE TOPIC PREFIXED c-"],
     lambda b: do_create_topic(b, f"c-{uuid.uuid4().hex[:6]}"), "OK"),
    # DeleteTopics: DESCRIBE hides, DELETE decides
    ("delete topic without DESCRIBE", [], lambda b: do_delete_topic(b, "t-other"),
     "TOPIC_AUTHORIZATION_FAILED"),
    ("delete missing topic with DESCRIBE", ["ALLOW alice DESCRIBE TOPIC LITERAL *"],
     lambda b: do_delete_topic(b, "no-such-topic-xyz"), "UNKNOWN_TOPIC_OR_PART"),
    ("delete topic with DESCRIBE, no DELETE", ["ALLOW alice DESCRIBE TOPIC LITERAL t-other"],
     lambda b: do_delete_topic(b, "t-other"), "TOPIC_AUTHORIZATION_FAILED"),
    # DescribeConfigs: DESCRIBE_CONFIGS (ALTER_CONFIGS implies it)
    ("describe configs without ACL", [], lambda b: do_describe_configs(b, "t-main"),
     "TOPIC_AUTHORIZATION_FAILED"),
    ("describe configs implied by ALTER_CONFIGS", ["ALLOW alice ALTER_CONFIGS TOPIC LITERAL t-main"],
     lambda b: do_describe_configs(b, "t-main"), "OK"),
    # Groups: READ on the group and on the topic
    ("group consume without group ACL", ["ALLOW alice READ TOPIC LITERAL t-main"],
     lambda b: do_group_consume(b, "g-matrix-1"), "GROUP_AUTHORIZATION_FAILED"),
    ("group consume allowed", ["ALLOW alice READ TOPIC LITERAL t-main",
                               "ALLOW alice READ GROUP PREFIXED g-matrix"],
     lambda b: do_group_consume(b, "g-matrix-2"), "OK"),
    # ACL APIs: DESCRIBE / ALTER on the cluster
    ("describe ACLs without cluster DESCRIBE", ["ALLOW alice ALL TOPIC LITERAL *"], do_describe_acls,
     "CLUSTER_AUTHORIZATION_FAILED"),
    ("describe ACLs with cluster DESCRIBE", ["ALLOW alice DESCRIBE CLUSTER LITERAL kafka-cluster"],
     do_describe_acls, "OK"),
]


@pytest.mark.parametrize("name,acls,action,want", MATRIX, ids=[r[0] for r in MATRIX])
def test_matrix(ab, name, acls, action, want):
    set_acls(ab, acls)
    got = action(ab)
    assert got == want, f"{name}: got {got!r}, want {want!r}"
    ab.check_alive()


def test_super_user_needs_no_acl(ab):
    """ANONYMOUS on PLAINTEXT is the super user: no ACL, everything works."""
    from confluent_kafka import Producer
    set_acls(ab, [])
    p = Producer({"bootstrap.servers": ab.bootstrap_of("PLAINTEXT")})
    res = []
    p.produce("t-main", b"x", on_delivery=lambda e, m: res.append(e))
    p.flush(30)
    assert res == [None]


def test_denials_are_logged_like_kafkas_authorizer(ab):
    set_acls(ab, [])
    assert do_produce(ab) == "TOPIC_AUTHORIZATION_FAILED"
    h.wait_for(lambda: "Principal = User:alice is Denied operation = WRITE" in ab.log_text(), 10,
               "the denial in the broker log")


def test_create_acl_validation(ab):
    """CreateAcls refuses what Kafka refuses, per creation (INVALID_REQUEST)."""
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
    set_acls(ab, [])
    bad = AclBinding(ResourceType.BROKER, "not-the-cluster", ResourcePatternType.LITERAL, "User:alice",
                     "*", AclOperation.ALTER, AclPermissionType.ALLOW)
    good = acl("ALLOW alice READ TOPIC LITERAL t-main")
    a = admin(ab)
    fs = a.create_acls([bad, good], request_timeout=20)
    with pytest.raises(Exception) as ei:
        fs[bad].result(timeout=30)
    assert "INVALID_REQUEST" in str(ei.value) or "InvalidRequest" in str(ei.value), ei.value
    assert fs[good].result(timeout=30) is None
    assert do_fetch(ab) == "OK"  # the valid one of the request was stored


def test_java_kafka_acls_add_list_remove_and_console_clients(ab, tmp_path):
    """kafka-acls.sh (the Java admin client) adds, lists and removes ACLs; the
    Java console producer (idempotent, as Java producers are by default) is
    refused while alice may write no topic at all (KIP-679: no
    IDEMPOTENT_WRITE on the cluster and no WRITE anywhere is
    ClusterAuthorizationException from InitProducerId, as in Kafka), then
    allowed, then refused again."""
    set_acls(ab, [])
    admin_bs = ab.bootstrap_of("PLAINTEXT")
    props = alice_properties(ab)

    def produce_java(tag: str):
        return h.kafka_tool("kafka-console-producer", "--bootstrap-server", ab.bootstrap_of("SASL_PLAINTEXT"),
                            "--producer.config", props, "--topic", "t-main",
                            "--producer-property", "max.block.ms=15000",
                            "--producer-property", "delivery.timeout.ms=15000",
                            "--producer-property", "request.timeout.ms=10000",
                            input=f"{tag}\n".encode(), check=False, timeout=120)

    # No ACL at all: the producer's Metadata (TOPIC_AUTHORIZATION_FAILED) and
    # InitProducerId (CLUSTER_AUTHORIZATION_FAILED) race; either ends it.
    r = produce_java("denied-1")
    out = r.stdout + r.stderr
    assert b"ClusterAuthorizationException" in out or b"TopicAuthorizationException" in out, out[-2000:]

    h.kafka_tool("kafka-acls", "--bootstrap-server", admin_bs, "--add", "--allow-principal", "User:alice",
                 "--operation", "Write", "--operation", "Describe", "--topic", "t-main")
    listed = h.kafka_tool("kafka-acls", "--bootstrap-server", admin_bs, "--list", "--topic", "t-main").stdout
    assert b"principal=User:alice" in listed and b"operation=WRITE" in listed, listed
    assert b"operation=DESCRIBE" in listed

    r = produce_java("allowed-1")
    assert r.returncode == 0 and b"Exception" not in r.stderr, r.stderr[-2000:]

    h.kafka_tool("kafka-acls", "--bootstrap-server", admin_bs, "--remove", "--force", "--allow-principal",
                 "User:alice", "--operation", "Write", "--topic", "t-main")
    listed = h.kafka_tool("kafka-acls", "--bootstrap-server", admin_bs, "--list", "--topic", "t-main").stdout
    assert b"operation=WRITE" not in listed and b"operation=DESCRIBE" in listed, listed
    r = produce_java("denied-2")
    assert b"ClusterAuthorizationException" in r.stdout + r.stderr, r.stderr[-2000:]
    # With WRITE on another topic the producer gets its id, and the topic
    # itself is refused.
    h.kafka_tool("kafka-acls", "--bootstrap-server", admin_bs, "--add", "--allow-principal", "User:alice",
                 "--operation", "Write", "--topic", "t-other")
    r = produce_java("denied-3")
    assert b"TopicAuthorizationException" in r.stdout + r.stderr, r.stderr[-2000:]


def test_acls_survive_restart(ab):
    set_acls(ab, ["ALLOW alice WRITE TOPIC LITERAL t-main", "DENY bob READ GROUP PREFIXED g-"])
    ab.restart()
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType,
                                       ResourcePatternType, ResourceType)
    f = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                         AclPermissionType.ANY)
    a = admin(ab)
    got = a.describe_acls(f, request_timeout=20).result(timeout=30)
    seen = {(str(x.restype), x.name, str(x.resource_pattern_type), x.principal, str(x.operation),
             str(x.permission_type)) for x in got}
    assert len(seen) == 2, seen
    assert any(s[1] == "t-main" and s[3] == "User:alice" and "WRITE" in s[4] for s in seen), seen
    assert any(s[1] == "g-" and "PREFIXED" in s[2] and "DENY" in s[5] for s in seen), seen
    assert do_produce(ab) == "OK"


def test_revoking_read_stops_a_running_consumer(ab):
    """A consumer keeps reading while allowed; deleting its ACL stops it at
    its next fetch (every connection's next request sees the change)."""
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AclBindingFilter
    set_acls(ab, ["ALLOW alice READ TOPIC LITERAL t-revoke"])
    h.create_topic(ab.bootstrap_of("PLAINTEXT"), "t-revoke")
    p = Producer({"bootstrap.servers": ab.bootstrap_of("PLAINTEXT")})
    c = Consumer(dict(conf(ab), **{"group.id": "unused", "enable.auto.commit": False,
                                   "fetch.wait.max.ms": 100}))
    c.assign([TopicPartition("t-revoke", 0, 0)])
    try:
        p.produce("t-revoke", b"before")
        p.flush(10)
        m = h.wait_for(lambda: (lambda x: x if x is not None and not x.error() else None)(c.poll(0.2)),
                       20 * h.SLOWDOWN, "the first record")
        assert m.value() == b"before"
        b = acl("ALLOW alice READ TOPIC LITERAL t-revoke")
        flt = AclBindingFilter(b.restype, b.name, b.resource_pattern_type, b.principal, b.host,
                               b.operation, b.permission_type)
        a = admin(ab)
        deleted = a.delete_acls([flt], request_timeout=20)[flt].result(timeout=30)
        assert len(deleted) == 1
        p.produce("t-revoke", b"after")
        p.flush(10)

        def denied():
            x = c.poll(0.2)
            if x is not None and not x.error():
                assert x.value() != b"after", "read a record after its ACL was deleted"
            return x is not None and x.error() is not None and \
                x.error().name() == "TOPIC_AUTHORIZATION_FAILED"
        h.wait_for(denied, 20 * h.SLOWDOWN, "TOPIC_AUTHORIZATION_FAILED after the revocation")
    finally:
        c.close()


def test_authorized_operations(ab):
    """The authorized-operations bitfields (DescribeCluster, Metadata v8+
    topics, DescribeGroups v3+) show exactly what the ACLs allow, with the
    implied operations (READ implies DESCRIBE)."""
    from confluent_kafka import TopicCollection
    from confluent_kafka.admin import AclOperation, AdminClient
    set_acls(ab, ["ALLOW alice DESCRIBE CLUSTER LITERAL kafka-cluster",
                  "ALLOW alice READ TOPIC LITERAL t-main",
                  "ALLOW alice DESCRIBE_CONFIGS TOPIC LITERAL t-main",
                  "ALLOW alice READ GROUP LITERAL g-ops"])
    a = AdminClient(conf(ab))
    cl = a.describe_cluster(include_authorized_operations=True, request_timeout=15).result(timeout=30)
    assert set(cl.authorized_operations) == {AclOperation.DESCRIBE}, cl.authorized_operations
    td = a.describe_topics(TopicCollection(["t-main"]), include_authorized_operations=True,
                           request_timeout=15)["t-main"].result(timeout=30)
    assert set(td.authorized_operations) == {AclOperation.READ, AclOperation.DESCRIBE,
                                             AclOperation.DESCRIBE_CONFIGS}, td.authorized_operations
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": ab.bootstrap_of("PLAINTEXT")})  # the super user
    p.produce("t-main", b"for g-ops")
    assert p.flush(30) == 0
    assert do_group_consume(ab, "g-ops") == "OK"
    gd = a.describe_consumer_groups(["g-ops"], include_authorized_operations=True,
                                    request_timeout=15)["g-ops"].result(timeout=30)
    assert set(gd.authorized_operations) == {AclOperation.READ, AclOperation.DESCRIBE}, gd.authorized_operations


def _audit_records(b) -> list[dict]:
    return h.audit_records(b.data_dir / "audit")


def _authz(records, decision, op, name, principal="User:alice"):
    return [r for r in records if r["type"] == "io.sluice.authorization"
            and r["data"].get("decision") == decision and r["data"].get("operation") == op
            and r["data"].get("resource_name") == name and r["data"].get("principal") == principal]


def test_denial_is_audited_before_the_answer(ab):
    """A denial's audit record is durable before its response leaves: once
    the client has its TOPIC_AUTHORIZATION_FAILED, the record is on disk,
    with the principal, resource, operation and the default decision."""
    set_acls(ab, [])
    topic = f"audited-{uuid.uuid4().hex[:6]}"
    assert do_describe_topic(ab, topic) == "TOPIC_AUTHORIZATION_FAILED"
    got = _authz(_audit_records(ab), "deny", "DESCRIBE", topic)  # no wait: it must be there already
    assert got, "no authorization record for the denial"
    d = got[0]["data"]
    assert d["resource_type"] == "TOPIC" and d.get("api") == "Metadata", d
    assert "acl" not in d or d["acl"] is None, d


def test_allowed_decisions_first_per_session(ab):
    """At the default level (first) an allowed decision is recorded once per
    connection, resource and operation, with the ACL that allowed it."""
    set_acls(ab, ["ALLOW alice WRITE TOPIC LITERAL t-main"])
    # Only this broker run's records from here on: connection ids start again at each start of
    # the broker, which the module's tests restart.
    mark = max(r["sluiceseq"] for r in _audit_records(ab))
    from confluent_kafka import Producer
    p = Producer(dict(conf(ab), **{"linger.ms": 0}))
    res = []
    for i in range(20):
        p.produce("t-main", b"x", on_delivery=lambda e, m: res.append(e))
        p.flush(30)
    assert res == [None] * 20
    recs = h.wait_for(lambda: _authz([r for r in _audit_records(ab) if r["sluiceseq"] > mark],
                                     "allow", "WRITE", "t-main") or None, 20,
                      "the allowed WRITE in the audit log")
    acl_texts = {r["data"].get("acl") for r in recs}
    assert any("principal=User:alice" in (t or "") and "operation=WRITE" in (t or "") for t in acl_texts), acl_texts
    conns = [r["data"]["connection_id"] for r in recs]
    assert len(conns) == len(set(conns)), f"recorded more than once per connection: {conns}"
    assert len(recs) < 20


def test_audit_chain_verifies_after_authorization(ab, tmp_path):
    r = h.sluice_cli("audit", "verify", str(ab.data_dir / "audit"), "--key-file",
                     str(ab.data_dir / "keys" / "audit.key"), check=False)
    assert r.returncode == 0, r.stdout + r.stderr


# -- the rest of the served APIs, through confluent-kafka's admin client

def _first_result(fs):
    """The first future's outcome of an admin call: "OK" or the error's name."""
    f = fs if hasattr(fs, "result") else list(fs.values())[0]
    try:
        f.result(timeout=30)
        return "OK"
    except Exception as e:  # noqa: BLE001 - the client's error is the answer
        return err_name(e)


def _admin_call(b, name, *args, **kw):
    from confluent_kafka.admin import AdminClient
    a = AdminClient(conf(b))  # referenced until the futures resolve
    out = _first_result(getattr(a, name)(*args, request_timeout=15, **kw))
    del a
    return out


def do_list_offsets(b):
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import OffsetSpec
    return _admin_call(b, "list_offsets", {TopicPartition("t-main", 0): OffsetSpec.latest()})


def do_create_partitions(b):
    from confluent_kafka.admin import NewPartitions
    return _admin_call(b, "create_partitions", [NewPartitions("t-other", 2)])


def do_delete_records(b):
    from confluent_kafka import TopicPartition
    return _admin_call(b, "delete_records", [TopicPartition("t-other", 0, 0)])


def do_incremental_alter(b):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource
    r = ConfigResource("topic", "t-main", incremental_configs=[
        ConfigEntry("retention.ms", "86400000", incremental_operation=AlterConfigOpType.SET)])
    return _admin_call(b, "incremental_alter_configs", [r])


def do_describe_group(b):
    return _admin_call(b, "describe_consumer_groups", ["g-matrix-2"])


def do_delete_group(b):
    return _admin_call(b, "delete_consumer_groups", ["g-matrix-2"])


def do_list_groups(b):
    from confluent_kafka.admin import AdminClient
    a = AdminClient(conf(b))
    res = a.list_consumer_groups(request_timeout=15).result(timeout=30)
    return {g.group_id for g in res.valid}


def do_create_acl_as_alice(b):
    return _admin_call(b, "create_acls", [acl("ALLOW alice ALL TOPIC LITERAL *")])


def do_offset_commit(b):
    """A group member commits an offset of a topic it may not read."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer(dict(conf(b), **{"group.id": "g-commit", "enable.auto.commit": False}))
    try:
        res = c.commit(offsets=[TopicPartition("t-other", 0, 1)], asynchronous=False)
        errs = [p.error for p in res if p.error]
        return err_name(errs[0]) if errs else "OK"
    except Exception as e:  # noqa: BLE001
        return err_name(e)
    finally:
        c.close()


MORE = [
    # (A ListOffsets denial is not reachable through confluent-kafka: its
    # admin client learns from Metadata that the topic is not describable and
    # fails locally with _NOENT before sending ListOffsets.)
    ("ListOffsets implied by READ", ["ALLOW alice READ TOPIC LITERAL t-main"], do_list_offsets, "OK"),
    ("CreatePartitions without ALTER", ["ALLOW alice DESCRIBE TOPIC LITERAL t-other"],
     do_create_partitions, "TOPIC_AUTHORIZATION_FAILED"),
    ("DeleteRecords without DELETE", ["ALLOW alice DESCRIBE TOPIC LITERAL t-other"], do_delete_records,
     "TOPIC_AUTHORIZATION_FAILED"),
    ("IncrementalAlterConfigs with DESCRIBE_CONFIGS only",
     ["ALLOW alice DESCRIBE_CONFIGS TOPIC LITERAL t-main"], do_incremental_alter, "TOPIC_AUTHORIZATION_FAILED"),
    ("DescribeGroups without DESCRIBE", ["ALLOW alice DESCRIBE GROUP LITERAL g-other"], do_describe_group,
     "GROUP_AUTHORIZATION_FAILED"),
    ("DeleteGroups with READ only", ["ALLOW alice READ GROUP LITERAL g-matrix-2"], do_delete_group,
     "GROUP_AUTHORIZATION_FAILED"),
    ("ListGroups shows only describable groups", ["ALLOW alice DESCRIBE GROUP LITERAL g-matrix-2"],
     do_list_groups, {"g-matrix-2"}),
    ("CreateAcls without ALTER on the cluster", ["ALLOW alice DESCRIBE CLUSTER LITERAL kafka-cluster"],
     do_create_acl_as_alice, "CLUSTER_AUTHORIZATION_FAILED"),
    ("OffsetCommit of a topic without READ", ["ALLOW alice READ GROUP LITERAL g-commit"],
     do_offset_commit, "TOPIC_AUTHORIZATION_FAILED"),
]


@pytest.mark.parametrize("name,acls,action,want", MORE, ids=[r[0] for r in MORE])
def test_matrix_more_apis(ab, name, acls, action, want):
    """Runs after test_matrix (which created g-matrix-2 and g-matrix-1)."""
    set_acls(ab, acls)
    got = action(ab)
    assert got == want, f"{name}: got {got!r}, want {want!r}"
    ab.check_alive()
