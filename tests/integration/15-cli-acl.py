# SPDX-License-Identifier: Apache-2.0
"""The `sluice acl` CLI (issue 6): ACLs added, listed and removed through
CreateAcls / DescribeAcls / DeleteAcls over SASL_SSL as a super user, each
change checked independently with confluent-kafka's AdminClient
(describe_acls), and surviving a restart; and offline on a stopped broker's
data directory, to set up the first ACLs before a broker ever runs.
"""

from __future__ import annotations

import pytest

import sluice_harness as h

ADMIN_PW = "admin-secret-pw"


@pytest.fixture
def acl_broker(broker_factory, pki, tmp_path):
    h.only_on_sluice("the sluice CLI and Sluice's SASL keys")
    cfg = pki.broker_ssl_config(store="PKCS12", prefix="listener.name.sasl_ssl.")
    cfg.update({"super.users": "User:admin", "sasl.enabled.mechanisms": "SCRAM-SHA-512",
                "allow.everyone.if.no.acl.found": "false"})
    b = broker_factory(cfg, listeners=[("SASL_SSL", "SASL_SSL")], tls=pki.client())
    h.sluice_cli("user", "add", "admin", "--password-stdin", "--data-dir", str(b.data_dir),
                 input=(ADMIN_PW + "\n").encode())
    b.start()
    tc = pki.client()
    props = tmp_path / "admin.properties"
    props.write_text("".join(h._prop_escape(x) + "\n" for x in [
        "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required '
        f'username="admin" password="{ADMIN_PW}";',
        "ssl.truststore.type=PKCS12", f"ssl.truststore.location={tc.truststore_p12}",
        f"ssl.truststore.password={tc.password}"]))
    return b, props


def acl(b: h.Broker, props, *args: str, check: bool = True):
    return h.sluice_cli("acl", *args, "--bootstrap-server", b.bootstrap, "--command-config", str(props),
                        check=check)


def rows(r) -> list[tuple[str, ...]]:
    return [tuple(line.split("\t")) for line in r.stdout.decode().splitlines()]


def admin_view(b: h.Broker, pki) -> set[tuple[str, ...]]:
    """Every binding as confluent-kafka's AdminClient.describe_acls sees it."""
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType, AdminClient,
                                       ResourcePatternType, ResourceType)
    a = AdminClient({"bootstrap.servers": b.bootstrap, "security.protocol": "sasl_ssl",
                     "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "admin",
                     "sasl.password": ADMIN_PW, "ssl.ca.location": str(pki.client().ca_pem)})
    f = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                         AclOperation.ANY, AclPermissionType.ANY)
    got = a.describe_acls(f, request_timeout=30 * h.SLOWDOWN).result(timeout=60 * h.SLOWDOWN)
    # confluent-kafka calls resource type 4 (the cluster) BROKER.
    return {(x.restype.name.replace("BROKER", "CLUSTER"), x.resource_pattern_type.name, x.name, x.principal, x.host,
             x.operation.name, x.permission_type.name) for x in got}


def test_acl_add_list_remove(acl_broker, pki):
    b, props = acl_broker
    r = acl(b, props, "add", "--allow-principal", "User:alice", "--operation", "READ", "--operation",
            "DESCRIBE", "--topic", "orders", "--group", "billing")
    assert len(rows(r)) == 4 and all(x[0] == "added" for x in rows(r)), r.stdout
    acl(b, props, "add", "--deny-principal", "User:mallory", "--deny-host", "10.0.0.9",
        "--operation", "WRITE", "--topic", "pay-", "--resource-pattern-type", "PREFIXED")
    acl(b, props, "add", "--allow-principal", "User:ops", "--cluster", "--operation", "ALTER")
    want = {
        ("TOPIC", "LITERAL", "orders", "User:alice", "*", "READ", "ALLOW"),
        ("TOPIC", "LITERAL", "orders", "User:alice", "*", "DESCRIBE", "ALLOW"),
        ("GROUP", "LITERAL", "billing", "User:alice", "*", "READ", "ALLOW"),
        ("GROUP", "LITERAL", "billing", "User:alice", "*", "DESCRIBE", "ALLOW"),
        ("TOPIC", "PREFIXED", "pay-", "User:mallory", "10.0.0.9", "WRITE", "DENY"),
        ("CLUSTER", "LITERAL", "kafka-cluster", "User:ops", "*", "ALTER", "ALLOW"),
    }
    assert set(rows(acl(b, props, "list"))) == want
    assert admin_view(b, pki) == want
    assert set(rows(acl(b, props, "list", "--topic", "orders"))) == {w for w in want if w[2] == "orders"}
    assert set(rows(acl(b, props, "list", "--principal", "User:ops"))) == {w for w in want if w[3] == "User:ops"}
    assert set(rows(acl(b, props, "list", "--topic", "pay-now", "--resource-pattern-type", "MATCH"))) == \
        {w for w in want if w[2] == "pay-"}

    b.restart()
    assert admin_view(b, pki) == want

    r = acl(b, props, "remove", "--allow-principal", "User:alice", "--operation", "READ", "--topic", "orders")
    assert rows(r) == [("removed", "TOPIC", "LITERAL", "orders", "User:alice", "*", "READ", "ALLOW")]
    r = acl(b, props, "remove", "--group", "billing", check=False)
    assert r.returncode == 2 and b"--force" in r.stderr  # nothing removed without --force
    acl(b, props, "remove", "--group", "billing", "--force")
    left = want - {("TOPIC", "LITERAL", "orders", "User:alice", "*", "READ", "ALLOW")} - \
        {w for w in want if w[0] == "GROUP"}
    assert set(rows(acl(b, props, "list"))) == left
    b.restart()
    assert admin_view(b, pki) == left


def test_acl_refusals(acl_broker, pki, tmp_path):
    b, props = acl_broker
    h.sluice_cli("user", "add", "bob", "--password-stdin", "--bootstrap-server", b.bootstrap,
                 "--command-config", str(props), input=b"bob-pw\n")
    bob = tmp_path / "bob.properties"
    bob.write_text(props.read_text().replace('username="admin"', 'username="bob"')
                   .replace(ADMIN_PW, "bob-pw"))
    r = acl(b, bob, "add", "--allow-principal", "User:bob", "--topic", "t", check=False)
    assert r.returncode == 1 and b"not allowed" in r.stderr, r.stderr
    r = acl(b, props, "add", "--allow-principal", "User:a", "--group", "g", "--operation", "WRITE",
            check=False)
    assert r.returncode == 2 and b"does not apply to GROUP" in r.stderr
    assert admin_view(b, pki) == set()


def test_offline_acls_before_first_start(broker_factory, tmp_path):
    """Deny by default, no super user: ACLs written offline before the first
    start are what lets kcat (User:ANONYMOUS on PLAINTEXT) use one topic and
    nothing else; a running broker locks the offline mode out."""
    h.only_on_sluice("the sluice CLI")
    b = broker_factory({"allow.everyone.if.no.acl.found": "false", "auto.create.topics.enable": "true"})
    r = h.sluice_cli("acl", "add", "--data-dir", str(b.data_dir), "--allow-principal", "User:ANONYMOUS",
                     "--operation", "Write", "--operation", "Read", "--operation", "Create",
                     "--topic", "demo-")
    assert len(r.stdout.decode().splitlines()) == 3, r.stdout
    r = h.sluice_cli("acl", "add", "--data-dir", str(b.data_dir), "--allow-principal", "User:ANONYMOUS",
                     "--operation", "All", "--topic", "demo", "--resource-pattern-type", "prefixed")
    assert r.stdout.decode().split("\t")[:3] == ["added", "TOPIC", "PREFIXED"], r.stdout
    listed = rows(h.sluice_cli("acl", "list", "--data-dir", str(b.data_dir)))
    assert ("TOPIC", "PREFIXED", "demo", "User:ANONYMOUS", "*", "ALL", "ALLOW") in listed, listed
    b.start()
    src = tmp_path / "in.txt"
    src.write_text("one\ntwo\n")
    h.kcat("-P", "-b", b.bootstrap, "-t", "demo-1", "-l", str(src))
    got = h.kcat("-C", "-b", b.bootstrap, "-t", "demo-1", "-o", "beginning", "-e", "-q").stdout
    assert got.decode().split() == ["one", "two"]
    denied = h.kcat("-P", "-b", b.bootstrap, "-t", "other", "-l", str(src), check=False)
    assert denied.returncode != 0 and b"authorization" in denied.stderr.lower(), denied.stderr[-500:]
    locked = h.sluice_cli("acl", "list", "--data-dir", str(b.data_dir), check=False)
    assert locked.returncode == 1 and b"broker stopped" in locked.stderr, locked.stderr
