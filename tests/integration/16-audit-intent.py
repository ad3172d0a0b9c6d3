# SPDX-License-Identifier: Apache-2.0
"""Audit log: intent records close the fail-closed window (issue 7, test 3).

Under sluice.audit.failure.policy=reject (the default) a changing request
runs only once an io.sluice.change.intent record naming what it will change
is durable. The window this closes: the audit writer finds the disk full
just after a handler checked that the log is writable; without the intent,
the change was made and its only record lost.

test_window_*: the audit directory is a small tmpfs that the test fills
WITHOUT first making the writer notice, then sends one kind of change for
fresh names, one after another on one connection, until one is refused or
the connection is closed. Then the invariant: every topic / ACL / config
value that exists afterwards is named by a durable change record (intent or
outcome) in the audit files, and a refused one does not exist. The space is
freed, the broker recovers, and `sluice audit verify` accepts the chain.
(On a broker without intents these tests fail: the first request caught in
the window is applied and its record is lost.)

Also: the intent of a normal CreateTopics and of a Metadata auto-creation
(well-formed, linked from the outcome by intent_seq, no secret), no intent
under policy log, connections closed while their request waits for its
intent, and a broker stopped while changes wait (no crash, a sealed chain
that verifies, nothing left behind: run under ASan with SLUICE_SANITIZED=1).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import kwire
import sluice_harness as h

POLICY_VIOLATION = 44
CREATE_ACLS = 30
INCREMENTAL_ALTER_CONFIGS = 44
INTENT = "io.sluice.change.intent"


# -- requests kwire does not speak, non-flexible versions --

def encode_create_acl(topic: str, principal: str) -> bytes:
    """CreateAcls v1: ALLOW principal READ on TOPIC topic (LITERAL), host *."""
    w = kwire.Writer()
    w.array([0], lambda w_, _: (w_.int8(2).string(topic).int8(3).string(principal).string("*")
                                .int8(3).int8(3)))
    return w.getvalue()


def parse_create_acls(r: kwire.Reader, version: int) -> dict:
    r.int32()
    return {"results": r.array(lambda rr: {"error_code": rr.int16(),
                                           "error_message": rr.string(nullable=True)})}


def encode_set_config(topic: str, key: str, value: str) -> bytes:
    """IncrementalAlterConfigs v0: SET key=value on TOPIC topic."""
    w = kwire.Writer()
    w.array([0], lambda w_, _: (w_.int8(2).string(topic),
                                w_.array([0], lambda w2, __: w2.string(key).int8(0).string(value, nullable=True))))
    w.boolean(False)
    return w.getvalue()


def parse_alter_configs(r: kwire.Reader, version: int) -> dict:
    r.int32()
    return {"responses": r.array(lambda rr: {"error_code": rr.int16(),
                                             "error_message": rr.string(nullable=True),
                                             "resource_type": rr.int8(), "resource_name": rr.string()})}


# -- the window --

def start_broker(tmp: Path, adir: Path, policy: str = "reject") -> h.Broker:
    b = h.Broker(tmp / "b", config={
        "super.users": "User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
        "auto.create.topics.enable": "false",
        "sluice.audit.dir": str(adir),
        "sluice.audit.failure.policy": policy,
        # Only the requests' own records are written once the disk is full:
        # no allowed decisions, and the connection is open before (below).
        "sluice.audit.authz.level": "none",
    }).start()
    with kwire.Conn(b.host, b.port) as c:
        assert c.create_topic("win-base", ok_if_exists=False) == 0
    return b


def send_until_refused(b: h.Broker, fs: Path, send) -> tuple[list[int], int, str, Path]:
    """Opens a connection (its records are written now), fills fs, then calls
    send(conn, i) for i = 0, 1, ... until an answer is not 0 or the
    connection is closed. Returns (the i answered 0, the i that ended it,
    how: "refused" or "closed", the filler)."""
    done = []
    with kwire.Conn(b.host, b.port) as c:
        c.metadata(["win-base"])
        filler = h.fill_fs(fs)
        for i in range(3000):
            try:
                code = send(c, i)
            except (kwire.Closed, OSError):
                return done, i, "closed", filler
            if code != 0:
                assert code == POLICY_VIOLATION, f"request {i}: error {code}"
                return done, i, "refused", filler
            done.append(i)
    pytest.fail("3000 changes went through on a full filesystem")


def recover(b: h.Broker, filler: Path) -> None:
    filler.unlink()
    h.wait_for(lambda: "audit log writable again" in b.log_text(), 30 * h.SLOWDOWN,
               "the audit log to be writable again")


def change_records(adir: Path) -> list[dict]:
    """Durable records of changes (intents and outcomes): whole lines only."""
    return [r for r in h.audit_records(adir, skip_unparsable=True)
            if r["type"].startswith("io.sluice.change.")]


def named(r: dict) -> list[tuple[str, str, dict]]:
    """(resource type, name, the whole entry) for each resource a change
    record names."""
    d = r["data"]
    if r["type"] == INTENT:
        return [(x["resource_type"], x["resource_name"], x) for x in d["resources"]]
    return [(d["resource_type"], d["resource_name"], d)]


def finish_and_verify(b: h.Broker, adir: Path) -> list[dict]:
    b.stop()
    ok = h.sluice_cli("audit", "verify", str(adir), "--key-file", str(b.data_dir / "keys" / "audit.key"),
                      check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    return change_records(adir)


def existing_topics(b: h.Broker, names: list[str]) -> set[str]:
    with kwire.Conn(b.host, b.port) as c:
        md = c.metadata(names)
    return {t["name"] for t in md["topics"] if t["error_code"] == 0}


def test_window_create_topics(tmp_path):
    h.only_on_sluice("the audit log is Sluice's")
    with h.small_fs(tmp_path / "auditfs") as fs:
        adir = fs / "audit"
        b = start_broker(tmp_path, adir)
        try:
            def send(c, i):
                r = c.create_topics([{"name": f"win-t-{i}", "partitions": 1, "replication_factor": 1,
                                      "configs": {}}])
                return r["topics"][0]["error_code"]
            done, last, how, filler = send_until_refused(b, fs, send)
            recover(b, filler)
            names = [f"win-t-{i}" for i in range(last + 1)]
            exists = existing_topics(b, names)
            assert {f"win-t-{i}" for i in done} <= exists
            if how == "refused":
                assert f"win-t-{last}" not in exists, "a refused CreateTopics created its topic"
            recs = finish_and_verify(b, adir)
            audited = {n for r in recs for (t, n, _) in named(r) if t == "TOPIC"}
            unaudited = sorted(exists - audited)
            assert not unaudited, f"topics exist without a durable audit record ({how} at {last}): {unaudited}"
        finally:
            b.kill()


def test_window_create_acls(tmp_path):
    h.only_on_sluice("the audit log is Sluice's")
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
    with h.small_fs(tmp_path / "auditfs") as fs:
        adir = fs / "audit"
        b = start_broker(tmp_path, adir)
        try:
            def send(c, i):
                r = c.call(CREATE_ACLS, 1, encode_create_acl(f"win-a-{i}", f"User:u{i}"), parse_create_acls)
                return r["results"][0]["error_code"]
            done, last, how, filler = send_until_refused(b, fs, send)
            recover(b, filler)
            a = h.admin_client(b.bootstrap)
            acls = a.describe_acls(AclBindingFilter(ResourceType.TOPIC, None, ResourcePatternType.ANY, None,
                                                    None, AclOperation.ANY, AclPermissionType.ANY),
                                   request_timeout=30).result(timeout=30)
            exists = {(x.name, x.principal) for x in acls if x.name.startswith("win-a-")}
            assert {(f"win-a-{i}", f"User:u{i}") for i in done} <= exists
            if how == "refused":
                assert (f"win-a-{last}", f"User:u{last}") not in exists, "a refused CreateAcls created its ACL"
            recs = finish_and_verify(b, adir)
            audited = set()
            for r in recs:
                for (t, n, x) in named(r):
                    p = x.get("acl_principal") or x.get("detail", {}).get("acl_principal")
                    audited.add((n, p))
            unaudited = sorted(exists - audited)
            assert not unaudited, f"ACLs exist without a durable audit record ({how} at {last}): {unaudited}"
        finally:
            b.kill()


def test_window_alter_configs(tmp_path):
    h.only_on_sluice("the audit log is Sluice's")
    from confluent_kafka.admin import ConfigResource
    with h.small_fs(tmp_path / "auditfs") as fs:
        adir = fs / "audit"
        b = start_broker(tmp_path, adir)
        try:
            def send(c, i):
                r = c.call(INCREMENTAL_ALTER_CONFIGS, 0, encode_set_config("win-base", "retention.ms",
                                                                           str(1000000 + i)),
                           parse_alter_configs)
                return r["responses"][0]["error_code"]
            done, last, how, filler = send_until_refused(b, fs, send)
            recover(b, filler)
            a = h.admin_client(b.bootstrap)
            res = ConfigResource("TOPIC", "win-base")
            cfg = a.describe_configs([res], request_timeout=30)[res].result(timeout=30)
            value = cfg["retention.ms"].value
            if how == "refused":
                assert value != str(1000000 + last), "a refused IncrementalAlterConfigs changed the config"
            if done:
                assert int(value) >= 1000000 + done[-1], value
            ours = {str(1000000 + i) for i in range(last + 1)}
            assert value in ours or not done, value  # the broker's default when nothing was applied
            recs = finish_and_verify(b, adir)
            if value not in ours:
                return
            audited = {x.get("configs", x.get("detail", {}).get("configs", {})).get("retention.ms")
                       for r in recs for (t, n, x) in named(r) if t == "TOPIC" and n == "win-base"}
            assert value in audited, \
                f"retention.ms={value} is set without a durable audit record ({how} at {last})"
        finally:
            b.kill()


# -- intents in the normal case --

@pytest.fixture(scope="module")
def nb(tmp_path_factory):
    h.only_on_sluice("the audit log is Sluice's")
    b = h.Broker(tmp_path_factory.mktemp("intent"), config={
        "super.users": "User:ANONYMOUS",
        "auto.create.topics.enable": "true",
    }).start()
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def records_of(b: h.Broker) -> list[dict]:
    return h.audit_records(b.data_dir / "audit")


def test_intent_precedes_outcome_and_hides_secrets(nb):
    with kwire.Conn(nb.host, nb.port, client_id="intent-client") as c:
        r = c.create_topics([{"name": "int-a", "partitions": 2, "replication_factor": 1,
                              "configs": {"retention.ms": "60000"}},
                             {"name": "int-b", "partitions": 1, "replication_factor": 1,
                              "configs": {"sasl.jaas.password.x": "topsecret-7781"}}])
    codes = {t["name"]: t["error_code"] for t in r["topics"]}
    assert codes["int-a"] == 0 and codes["int-b"] != 0, r  # an unknown config: INVALID_CONFIG
    recs = records_of(nb)
    outcome = next(x for x in recs if x["type"] == "io.sluice.change.topic.create"
                   and x["data"]["resource_name"] == "int-a")
    seq = outcome["data"]["intent_seq"]
    (intent,) = [x for x in recs if x["sluiceseq"] == seq]
    assert intent["type"] == INTENT and intent["sluiceseq"] < outcome["sluiceseq"]
    d = intent["data"]
    for k in ("principal", "client_address", "connection_id", "api", "correlation_id", "client_id"):
        assert d[k] == outcome["data"][k], k
    assert d["api"] == "CreateTopics" and d["client_id"] == "intent-client" and d["change"] == "intent"
    assert d["resources"] == [
        {"resource_type": "TOPIC", "resource_name": "int-a", "num_partitions": 2, "replication_factor": 1,
         "configs": {"retention.ms": "60000"}},
        {"resource_type": "TOPIC", "resource_name": "int-b", "num_partitions": 1, "replication_factor": 1,
         "configs": {"sasl.jaas.password.x": "[hidden]"}}]
    assert intent["subject"] == f"request:{d['connection_id']}/{d['correlation_id']}"
    failed = next(x for x in recs if x["type"] == "io.sluice.change.topic.create"
                  and x["data"]["resource_name"] == "int-b")
    assert failed["data"]["intent_seq"] == seq and failed["data"]["outcome"] == "failure"
    for line in h.audit_lines(nb.data_dir / "audit"):
        assert b"topsecret-7781" not in line


def test_validate_only_has_no_intent(nb):
    with kwire.Conn(nb.host, nb.port) as c:
        r = c.create_topics([{"name": "int-validate", "partitions": 1, "replication_factor": 1,
                              "configs": {}}], validate_only=True)
    assert r["topics"][0]["error_code"] == 0, r
    assert not [x for x in records_of(nb) if x["type"] == INTENT
                and any(y["resource_name"] == "int-validate" for y in x["data"]["resources"])]


def test_metadata_auto_create_intent(nb):
    def created():
        with kwire.Conn(nb.host, nb.port) as c:
            md = c.metadata(["int-auto"], version=4)
        return md["topics"][0]["error_code"] in (0, 5)  # created (LEADER_NOT_AVAILABLE at first)
    h.wait_for(created, 20 * h.SLOWDOWN, "auto-creation of int-auto")
    recs = records_of(nb)
    outcome = next(x for x in recs if x["type"] == "io.sluice.change.topic.create"
                   and x["data"]["resource_name"] == "int-auto")
    assert outcome["data"]["api"] == "Metadata"
    (intent,) = [x for x in recs if x["sluiceseq"] == outcome["data"]["intent_seq"]]
    assert intent["type"] == INTENT
    assert intent["data"]["resources"] == [{"resource_type": "TOPIC", "resource_name": "int-auto",
                                            "auto_create": True}]
    # A Metadata request for existing topics writes no intent (no waiting).
    before = sum(1 for x in records_of(nb) if x["type"] == INTENT)
    with kwire.Conn(nb.host, nb.port) as c:
        c.metadata(["int-auto", "int-a"], version=4)
    assert sum(1 for x in records_of(nb) if x["type"] == INTENT) == before


def verify_live(b: h.Broker) -> None:
    ok = h.sluice_cli("audit", "verify", str(b.data_dir / "audit"), "--key-file",
                      str(b.data_dir / "keys" / "audit.key"), check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def intents_of(b: h.Broker, client_id: str) -> list[dict]:
    return [x for x in records_of(b) if x["type"] == INTENT and x["data"].get("client_id") == client_id]


def test_large_request_is_split_into_parts(nb):
    """A request naming more than one record may hold (the verifier reads at
    most 512 JSON values a line) writes several intent records; the last has
    no "more"; together they name every topic; the chain verifies."""
    names = [f"int-many-{i}" for i in range(70)]
    with kwire.Conn(nb.host, nb.port, client_id="int-many") as c:
        corr = c.send_request(kwire.CREATE_TOPICS, 2, kwire.encode_create_topics(
            [{"name": n, "partitions": 1, "replication_factor": 1, "configs": {"retention.ms": "60000"}}
             for n in names], 10000, False, 2))
        _, r = c.recv_response(kwire.CREATE_TOPICS, 2, expect_corr=corr)
        assert {t["error_code"] for t in kwire.parse_create_topics(r, 2)["topics"]} == {0}
    parts = intents_of(nb, "int-many")
    assert len(parts) >= 2, parts
    assert [p["data"]["part"] for p in parts] == list(range(len(parts)))
    assert all(p["data"].get("more") is True for p in parts[:-1]) and "more" not in parts[-1]["data"]
    assert [x["resource_name"] for p in parts for x in p["data"]["resources"]] == names
    seqs = {x["data"]["intent_seq"] for x in records_of(nb) if x["type"] == "io.sluice.change.topic.create"
            and x["data"]["resource_name"] in names}
    assert seqs == {parts[-1]["sluiceseq"]}  # the request waited for the last part
    verify_live(nb)


def encode_delete_records(topic: str, partitions: list[int]) -> bytes:
    """DeleteRecords v0: offset 0 of each partition."""
    w = kwire.Writer()
    w.array([0], lambda w_, _: (w_.string(topic), w_.array(partitions, lambda w2, p: w2.int32(p).int64(0))))
    w.int32(10000)
    return w.getvalue()


def test_resource_too_large_alone_is_named_without_details(nb):
    with kwire.Conn(nb.host, nb.port, client_id="int-dr") as c:
        corr = c.send_request(21, 0, encode_delete_records("int-a", list(range(300))))
        c.recv_response(21, 0, expect_corr=corr)
    (p,) = intents_of(nb, "int-dr")
    assert p["data"]["resources"] == [{"resource_type": "TOPIC", "resource_name": "int-a", "truncated": True}]
    verify_live(nb)


def test_huge_change_keeps_the_log_verifiable(nb):
    """A config change of 300 keys: its intent is named without details and
    its outcome record leaves the detail out (both would exceed what the
    verifier reads), and the chain still verifies. (Before, one such
    request made `sluice audit verify` report the log BROKEN.)"""
    with kwire.Conn(nb.host, nb.port, client_id="int-huge") as c:
        w = kwire.Writer()
        w.array([0], lambda w_, _: (w_.int8(2).string("int-a"), w_.array(
            list(range(300)), lambda w2, i: w2.string(f"no.such.key.{i}").int8(0).string("5", nullable=True))))
        w.boolean(False)
        r = c.call(INCREMENTAL_ALTER_CONFIGS, 0, w.getvalue(), parse_alter_configs)
    assert r["responses"][0]["error_code"] != 0, r  # unknown keys: INVALID_CONFIG
    (p,) = intents_of(nb, "int-huge")
    assert p["data"]["resources"] == [{"resource_type": "TOPIC", "resource_name": "int-a", "truncated": True}]
    (o,) = [x for x in records_of(nb) if x["type"] == "io.sluice.change.config.alter"
            and x["data"].get("client_id") == "int-huge"]
    assert o["data"]["resource_name"] == "int-a" and o["data"]["outcome"] == "failure"
    assert o["data"]["detail"] == {"truncated": True}
    verify_live(nb)


def test_close_while_waiting_for_intent(nb):
    """Clients that vanish right after sending a change: the broker stays up
    (and a sanitized build reports nothing at the end), and later requests
    on other connections are served."""
    for i in range(40):
        c = kwire.Conn(nb.host, nb.port)
        c.send_request(kwire.CREATE_TOPICS, 2, kwire.encode_create_topics(
            [{"name": f"int-gone-{i}", "partitions": 1, "replication_factor": 1, "configs": {}}], 10000, False, 2))
        c.abort()
    nb.check_alive()
    with kwire.Conn(nb.host, nb.port) as c:
        assert c.create_topic("int-after-gone", ok_if_exists=False) == 0
        # Two changes pipelined on one connection: answered in order.
        c1 = c.send_request(kwire.CREATE_TOPICS, 2, kwire.encode_create_topics(
            [{"name": "int-pipe-1", "partitions": 1, "replication_factor": 1, "configs": {}}], 10000, False, 2))
        c2 = c.send_request(kwire.CREATE_TOPICS, 2, kwire.encode_create_topics(
            [{"name": "int-pipe-2", "partitions": 1, "replication_factor": 1, "configs": {}}], 10000, False, 2))
        for corr in (c1, c2):
            _, r = c.recv_response(kwire.CREATE_TOPICS, 2, expect_corr=corr)
            assert kwire.parse_create_topics(r, 2)["topics"][0]["error_code"] == 0


def test_policy_log_writes_no_intent(tmp_path):
    h.only_on_sluice("the audit log is Sluice's")
    b = h.Broker(tmp_path / "b", config={"super.users": "User:ANONYMOUS",
                                         "sluice.audit.failure.policy": "log"}).start()
    try:
        with kwire.Conn(b.host, b.port) as c:
            assert c.create_topic("int-log", ok_if_exists=False) == 0
        b.stop()
        recs = records_of(b)
        outcome = next(x for x in recs if x["type"] == "io.sluice.change.topic.create"
                       and x["data"]["resource_name"] == "int-log")
        assert "intent_seq" not in outcome["data"]
        assert not [x for x in recs if x["type"] == INTENT]
    finally:
        b.kill()


def test_stop_while_changes_wait(tmp_path):
    """SIGTERM while connections have changes in flight (each waiting for its
    intent, or its outcome): a clean exit, a sealed chain that verifies, and
    every topic that exists named by a durable record."""
    h.only_on_sluice("the audit log is Sluice's")
    b = h.Broker(tmp_path / "b", config={"super.users": "User:ANONYMOUS"}).start()
    conns = []
    try:
        for i in range(20):
            c = kwire.Conn(b.host, b.port)
            for k in range(5):
                c.send_request(kwire.CREATE_TOPICS, 2, kwire.encode_create_topics(
                    [{"name": f"stop-{i}-{k}", "partitions": 1, "replication_factor": 1, "configs": {}}],
                    10000, False, 2))
            conns.append(c)
        b.stop()
        recs = h.audit_records(b.data_dir / "audit")
        assert recs[-1]["type"] == "io.sluice.audit.seal"
        ok = h.sluice_cli("audit", "verify", str(b.data_dir / "audit"), "--key-file",
                          str(b.data_dir / "keys" / "audit.key"), check=False)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        audited = {x["resource_name"] for r in recs if r["type"] == INTENT for x in r["data"]["resources"]}
        made = {p.name[:-2] for p in (b.data_dir / "logs").glob("stop-*-0")}
        assert made <= audited, sorted(made - audited)
        if h.SANITIZED:
            assert not b.sanitizer_reports(), b.sanitizer_reports()
    finally:
        for c in conns:
            c.abort()
        b.kill()
