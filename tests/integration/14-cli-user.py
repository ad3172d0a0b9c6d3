# SPDX-License-Identifier: Apache-2.0
"""The `sluice user` CLI (issue 5): SCRAM users added, changed, listed and
removed offline (on a stopped broker's data directory, like kafka-storage
format --add-scram) and online over SASL_SSL with a Kafka-style
--command-config file, as a super user (super.users=User:admin). Each
change is checked with real clients (confluent-kafka; Kafka's Java
kafka-topics for the first user) and must survive a restart. Also: a
non-super user is refused, a running broker locks out offline mode, a
wrong password in the command config is an authentication error, and a
broker whose certificate the trust store does not vouch for is refused.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import sluice_harness as h

ADMIN_PW = "admin-secret-pw"
MECHS = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"


@pytest.fixture
def make_broker(broker_factory, pki):
    h.only_on_sluice("the sluice CLI and Sluice's SASL keys")

    def make() -> h.Broker:
        cfg = pki.broker_ssl_config(store="PKCS12", prefix="listener.name.sasl_ssl.")
        # The broker's default failed-authentication delay stays on: these
        # tests stop the broker right after failed logins, which also checks
        # that a connection still waiting out that delay is freed at stop.
        cfg.update({"super.users": "User:admin", "sasl.enabled.mechanisms": MECHS,
                    "allow.everyone.if.no.acl.found": "false"})
        return broker_factory(cfg, listeners=[("SASL_SSL", "SASL_SSL")], tls=pki.client())
    return make


def command_config(path: Path, pki, user: str, password: str, mech: str = "SCRAM-SHA-512",
                   ca=None) -> Path:
    """A Kafka client properties file, as kafka-configs.sh takes it."""
    tc = pki.client(ca=ca)
    module = "scram.ScramLoginModule" if mech.startswith("SCRAM") else "plain.PlainLoginModule"
    esc = password.replace("\\", "\\\\").replace('"', '\\"')
    lines = ["security.protocol=SASL_SSL", f"sasl.mechanism={mech}",
             f'sasl.jaas.config=org.apache.kafka.common.security.{module} required '
             f'username="{user}" password="{esc}";',
             "ssl.truststore.type=PKCS12", f"ssl.truststore.location={tc.truststore_p12}",
             f"ssl.truststore.password={tc.password}"]
    path.write_text("".join(h._prop_escape(x) + "\n" for x in lines))
    return path


def cli(b: h.Broker, cfg: Path, *args: str, password: str | None = None, check: bool = True):
    return h.sluice_cli("user", *args, "--bootstrap-server", b.bootstrap, "--command-config", str(cfg),
                        *(["--password-stdin"] if password is not None else []),
                        input=(password + "\n").encode() if password is not None else None,
                        check=check)


def listed(r) -> list[str]:
    return r.stdout.decode().splitlines()


def rdkafka(b: h.Broker, pki, user: str, password: str, mech: str) -> dict:
    return {"bootstrap.servers": b.bootstrap, "security.protocol": "sasl_ssl",
            "sasl.mechanism": mech, "sasl.username": user, "sasl.password": password,
            "ssl.ca.location": str(pki.client().ca_pem)}


def authenticates(b: h.Broker, pki, user: str, password: str, mech: str) -> bool:
    """True when confluent-kafka gets metadata as user; False when it reports
    an authentication failure (each within a deadline)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    errors: list[str] = []
    a = AdminClient(dict(rdkafka(b, pki, user, password, mech), error_cb=lambda e: errors.append(e.str())))
    deadline = time.monotonic() + 30 * h.SLOWDOWN
    while time.monotonic() < deadline:
        a.poll(0.1)  # serves error_cb
        if any("Authentication failed" in e or "SASL" in e for e in errors):
            return False
        try:
            a.list_topics(timeout=1)
            return True
        except KafkaException:
            pass
    raise AssertionError(f"neither metadata nor an authentication error for {user}: {errors}")


def test_offline_first_user_then_real_clients(make_broker, pki, tmp_path):
    b = make_broker()
    r = h.sluice_cli("user", "add", "admin", "--password-stdin", "--data-dir", str(b.data_dir),
                     input=(ADMIN_PW + "\n").encode())
    assert b"set SCRAM-SHA-512 credential of user 'admin'" in r.stdout
    assert ADMIN_PW.encode() not in r.stdout + r.stderr
    r = h.sluice_cli("user", "list", "--data-dir", str(b.data_dir))
    assert listed(r) == ["admin SCRAM-SHA-512 iterations=4096"]
    b.start()
    assert authenticates(b, pki, "admin", ADMIN_PW, "SCRAM-SHA-512")
    assert authenticates(b, pki, "admin", ADMIN_PW, "PLAIN")
    assert not authenticates(b, pki, "admin", "not-the-password", "SCRAM-SHA-512")
    # Kafka's Java tools with the same kind of command-config file.
    cfg = command_config(tmp_path / "admin.properties", pki, "admin", ADMIN_PW)
    h.kafka_tool("kafka-topics", "--bootstrap-server", b.bootstrap, "--command-config", str(cfg),
                 "--create", "--topic", "made-by-admin", "--partitions", "1")
    r = h.kafka_tool("kafka-topics", "--bootstrap-server", b.bootstrap, "--command-config", str(cfg), "--list")
    assert "made-by-admin" in r.stdout.decode().split()


def test_online_add_change_remove_survive_restart(make_broker, pki, tmp_path):
    b = make_broker()
    h.sluice_cli("user", "add", "admin", "--password-file", str(_pwfile(tmp_path, ADMIN_PW)),
                 "--data-dir", str(b.data_dir))
    b.start()
    adm = command_config(tmp_path / "admin.properties", pki, "admin", ADMIN_PW)

    r = cli(b, adm, "add", "alice", "--mechanism", "SCRAM-SHA-256", "--iterations", "8192", password="pw-one")
    assert b"set SCRAM-SHA-256 credential of user 'alice'" in r.stdout
    cli(b, adm, "add", "alice", password="pw-one")  # SCRAM-SHA-512, the default
    assert listed(cli(b, adm, "list")) == ["admin SCRAM-SHA-512 iterations=4096",
                                            "alice SCRAM-SHA-256 iterations=8192",
                                            "alice SCRAM-SHA-512 iterations=4096"]
    assert authenticates(b, pki, "alice", "pw-one", "SCRAM-SHA-256")
    assert authenticates(b, pki, "alice", "pw-one", "SCRAM-SHA-512")

    # Change the password: the old one stops working at once.
    cli(b, adm, "add", "alice", "--mechanism", "SCRAM-SHA-256", "--iterations", "8192", password="pw-two")
    assert authenticates(b, pki, "alice", "pw-two", "SCRAM-SHA-256")
    assert not authenticates(b, pki, "alice", "pw-one", "SCRAM-SHA-256")

    b.restart()
    assert listed(cli(b, adm, "list")) == ["admin SCRAM-SHA-512 iterations=4096",
                                            "alice SCRAM-SHA-256 iterations=8192",
                                            "alice SCRAM-SHA-512 iterations=4096"]
    assert authenticates(b, pki, "alice", "pw-two", "SCRAM-SHA-256")

    r = cli(b, adm, "remove", "alice", "--mechanism", "SCRAM-SHA-256")
    assert b"removed SCRAM-SHA-256 credential of user 'alice'" in r.stdout
    assert not authenticates(b, pki, "alice", "pw-two", "SCRAM-SHA-256")
    assert authenticates(b, pki, "alice", "pw-one", "SCRAM-SHA-512")
    cli(b, adm, "remove", "alice")  # every mechanism left
    assert listed(cli(b, adm, "list")) == ["admin SCRAM-SHA-512 iterations=4096"]
    r = cli(b, adm, "remove", "alice", check=False)
    assert r.returncode == 1 and b"has no SCRAM credential" in r.stderr

    b.restart()
    assert listed(cli(b, adm, "list")) == ["admin SCRAM-SHA-512 iterations=4096"]
    assert not authenticates(b, pki, "alice", "pw-one", "SCRAM-SHA-512")

    # Offline again, with the broker stopped: the same store, the same users.
    b.stop()
    h.sluice_cli("user", "add", "carol", "--mechanism", "SCRAM-SHA-256", "--password-stdin",
                 "--data-dir", str(b.data_dir), input=b"carol-pw\n")
    h.sluice_cli("user", "remove", "admin", "--mechanism", "SCRAM-SHA-512", "--data-dir", str(b.data_dir),
                 check=True)
    h.sluice_cli("user", "add", "admin", "--password-stdin", "--data-dir", str(b.data_dir),
                 input=(ADMIN_PW + "\n").encode())
    b.start()
    assert listed(cli(b, adm, "list")) == ["admin SCRAM-SHA-512 iterations=4096",
                                            "carol SCRAM-SHA-256 iterations=4096"]
    assert authenticates(b, pki, "carol", "carol-pw", "SCRAM-SHA-256")


def _pwfile(d: Path, pw: str) -> Path:
    p = d / "pw.txt"
    p.write_text(pw + "\n")
    p.chmod(0o600)
    return p


def test_non_super_user_refused(make_broker, pki, tmp_path):
    b = make_broker()
    for user, pw in (("admin", ADMIN_PW), ("bob", "bob-pw")):
        h.sluice_cli("user", "add", user, "--password-stdin", "--data-dir", str(b.data_dir),
                     input=(pw + "\n").encode())
    b.start()
    bob = command_config(tmp_path / "bob.properties", pki, "bob", "bob-pw")
    r = cli(b, bob, "list", check=False)
    assert r.returncode == 1, r
    assert b"not allowed: needs DESCRIBE on the cluster (a super user)" in r.stderr, r.stderr
    r = cli(b, bob, "add", "eve", password="eve-pw", check=False)
    assert r.returncode == 1, r
    assert b"not allowed: needs ALTER on the cluster (a super user)" in r.stderr, r.stderr
    adm = command_config(tmp_path / "admin.properties", pki, "admin", ADMIN_PW)
    assert "eve" not in " ".join(listed(cli(b, adm, "list")))


def test_running_broker_locks_out_offline_mode(make_broker, pki, tmp_path):
    b = make_broker()
    h.sluice_cli("user", "add", "admin", "--password-stdin", "--data-dir", str(b.data_dir),
                 input=(ADMIN_PW + "\n").encode())
    b.start()
    r = h.sluice_cli("user", "add", "mallory", "--password-stdin", "--data-dir", str(b.data_dir),
                     input=b"x\n", check=False)
    assert r.returncode == 1, r
    err = r.stderr.decode()
    assert "locked by another process" in err and "needs the broker stopped" in err, err
    r = h.sluice_cli("user", "list", "--data-dir", str(b.data_dir), check=False)
    assert r.returncode == 1 and b"locked" in r.stderr
    b.check_alive()


def test_wrong_password_and_untrusted_broker(make_broker, pki, tmp_path):
    b = make_broker()
    h.sluice_cli("user", "add", "admin", "--password-stdin", "--data-dir", str(b.data_dir),
                 input=(ADMIN_PW + "\n").encode())
    b.start()
    for mech in ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"):
        bad = command_config(tmp_path / f"bad-{mech}.properties", pki, "admin", "wrong-pw", mech=mech)
        r = cli(b, bad, "list", check=False)
        assert r.returncode == 1, r
        assert b"authentication failed" in r.stderr, r.stderr
        assert b"wrong-pw" not in r.stdout + r.stderr
    # A trust store of another CA: the broker's certificate is refused.
    other = command_config(tmp_path / "other-ca.properties", pki, "admin", ADMIN_PW, ca=pki.other_ca)
    r = cli(b, other, "list", check=False)
    assert r.returncode == 1 and b"certificate" in r.stderr, r.stderr
    # Usage errors: exit status 2, nothing sent.
    r = h.sluice_cli("user", "add", "x", "--password", "pw", "--data-dir", str(b.data_dir), check=False)
    assert r.returncode == 2 and b"not taken on the command line" in r.stderr
    r = h.sluice_cli("user", "add", "x", "--password-stdin", "--iterations", "100",
                     "--bootstrap-server", b.bootstrap, check=False, input=b"pw\n")
    assert r.returncode == 2 and b"4096 to 16384" in r.stderr
    r = h.sluice_cli("user", "add", "x", "--password-stdin", "--bootstrap-server", b.bootstrap,
                     "--command-config", str(tmp_path / "admin.properties"), check=False, input=b"\n")
    assert r.returncode != 0
