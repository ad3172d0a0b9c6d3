# SPDX-License-Identifier: Apache-2.0
"""`sluice client-config` and `sluice posture` (issue 10), over real TLS and
real SASL (SCRAM-SHA-512, certificates from pki.py, an admin super user).

client-config: the printed Java properties drive Kafka's Java console
producer and the printed librdkafka conf drives kcat and confluent-kafka;
the new user is denied (TOPIC_AUTHORIZATION_FAILED) until `sluice acl add`
allows it; the printed CA fingerprint is the CA's; --output-dir files are
0600 and the password is not printed then.

posture: a broker set up like the secure default (SASL_SSL only, deny by
default, audit on, encryption on, one super user) has no weak point and
exit 0; each weakened setting is reported with its severity and exit code.
Weakened brokers set sluice.allow.insecure=true, which issue 10's refusal
of insecure set-ups will require.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import threading
import uuid
import warnings
from pathlib import Path

import pytest

import sluice_harness as h

ADMIN_PW = "admin-posture-pw"


def admin_properties(path: Path, pki, bootstrap: str) -> Path:
    """The admin's command-config with a PEM trust store (as the first start
    writes data/admin-client.properties)."""
    lines = [f"bootstrap.servers={bootstrap}", "security.protocol=SASL_SSL",
             "sasl.mechanism=SCRAM-SHA-512",
             "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
             f'username="admin" password="{ADMIN_PW}";',
             "ssl.truststore.type=PEM", f"ssl.truststore.location={pki.ca.cert}"]
    path.write_text("".join(h._prop_escape(x) + "\n" for x in lines))
    return path


def secure_config(pki, server=None) -> dict:
    cfg = pki.broker_ssl_config(store="PKCS12", server=server)
    cfg.update({"super.users": "User:admin", "allow.everyone.if.no.acl.found": "false"})
    return cfg


def start_with_admin(b: h.Broker) -> h.Broker:
    h.sluice_cli("user", "add", "admin", "--password-stdin", "--data-dir", str(b.data_dir),
                 input=(ADMIN_PW + "\n").encode())
    return b.start()


@pytest.fixture
def secure(broker_factory, pki, tmp_path):
    h.only_on_sluice("the sluice CLI and Sluice's status entries")
    b = start_with_admin(broker_factory(secure_config(pki), listeners=[("SASL_SSL", "SASL_SSL")],
                                        tls=pki.client()))
    return b, admin_properties(tmp_path / "admin.properties", pki, b.bootstrap)


# ---------------------------------------------------------------- client-config

def section(out: str, name: str) -> str:
    m = re.search(rf"# ---- BEGIN {name} ----\n(.*?)# ---- END {name} ----\n", out, re.S)
    assert m, out
    return m.group(1)


def conf_dict(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def ca_fingerprint(pki) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    c = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    return ":".join(f"{b:02X}" for b in c.fingerprint(hashes.SHA256()))


def confluent_produce(conf: dict, topic: str) -> str:
    from confluent_kafka import Producer
    p = Producer(dict(conf, **{"message.timeout.ms": 15000, "linger.ms": 0}))
    res = []
    p.produce(topic, b"v", on_delivery=lambda e, m: res.append(e))
    p.flush(30)
    assert res, "no delivery report"
    return "OK" if res[0] is None else res[0].name()


def java_produce(props: Path, bootstrap: str, topic: str, lines: list[str]):
    return h.kafka_tool("kafka-console-producer", "--bootstrap-server", bootstrap, "--topic", topic,
                        "--producer.config", str(props), "--producer-property", "max.block.ms=20000",
                        input=("\n".join(lines) + "\n").encode(), check=False)


def acl_add(b, adm, user, topic):
    h.sluice_cli("acl", "add", "--allow-principal", f"User:{user}", "--operation", "WRITE",
                 "--operation", "READ", "--operation", "DESCRIBE", "--topic", topic,
                 "--bootstrap-server", b.bootstrap, "--command-config", str(adm))


def test_client_config_denied_until_acl_then_java_and_kcat(secure, pki, tmp_path):
    b, adm = secure
    topic = "enrolled-" + uuid.uuid4().hex[:6]
    h.kafka_tool("kafka-topics", "--bootstrap-server", b.bootstrap, "--command-config", str(adm),
                 "--create", "--topic", topic, "--partitions", "1")
    r = h.sluice_cli("client-config", "--user", "carol", "--command-config", str(adm))
    out = r.stdout.decode()
    java, rdk = section(out, "Java client properties"), section(out, "librdkafka client conf")
    jc, rc = conf_dict(java), conf_dict(rdk)
    # The fingerprint printed is the CA's; the CA is referenced by absolute path.
    assert f"CA SHA-256 fingerprint: {ca_fingerprint(pki)}" in out
    assert jc["ssl.truststore.location"] == str(Path(pki.ca.cert).resolve())
    assert rc["ssl.ca.location"] == str(Path(pki.ca.cert).resolve())
    assert jc["security.protocol"] == rc["security.protocol"] == "SASL_SSL"
    assert jc["bootstrap.servers"] == rc["bootstrap.servers"] == b.bootstrap
    pw = rc["sasl.password"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", pw), "32 random bytes, URL-safe"
    assert f'password="{pw}"' in jc["sasl.jaas.config"]
    assert pw.encode() not in r.stderr and pw not in b.log_text()
    users = h.sluice_cli("user", "list", "--bootstrap-server", b.bootstrap, "--command-config", str(adm))
    assert "carol SCRAM-SHA-512 iterations=4096" in users.stdout.decode().splitlines()
    # A second run for the same user refuses to change its password.
    again = h.sluice_cli("client-config", "--user", "carol", "--command-config", str(adm), check=False)
    assert again.returncode == 1 and b"exists already" in again.stderr

    jprops = tmp_path / "carol.properties"
    jprops.write_text(java)
    rconf = tmp_path / "carol.conf"
    rconf.write_text(rdk)
    ck = {k: v for k, v in rc.items()}
    # Authenticated, but no ACL yet: denied by default.
    assert confluent_produce(ck, topic) == "TOPIC_AUTHORIZATION_FAILED"
    denied = java_produce(jprops, b.bootstrap, topic, ["nope"])
    assert b"TopicAuthorizationException" in denied.stdout + denied.stderr, denied.stderr[-2000:]

    acl_add(b, adm, "carol", topic)
    ok = java_produce(jprops, b.bootstrap, topic, ["java-1", "java-2"])
    assert ok.returncode == 0 and b"Exception" not in ok.stderr, ok.stderr[-2000:]
    assert confluent_produce(ck, topic) == "OK"
    got = h.kcat("-F", str(rconf), "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q")
    assert got.stdout.decode().split() == ["java-1", "java-2", "v"]


def test_client_config_output_dir_0600_and_embedded_ca(secure, pki, tmp_path):
    b, adm = secure
    topic = "embedded-" + uuid.uuid4().hex[:6]
    h.kafka_tool("kafka-topics", "--bootstrap-server", b.bootstrap, "--command-config", str(adm),
                 "--create", "--topic", topic, "--partitions", "1")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    r = h.sluice_cli("client-config", "--user", "dave", "--command-config", str(adm),
                     "--mechanism", "SCRAM-SHA-256", "--ca", str(pki.ca.cert), "--embed-ca",
                     "--output-dir", str(out_dir))
    jp, rp = out_dir / "dave-client.properties", out_dir / "dave-client.conf"
    for p in (jp, rp):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, oct(p.stat().st_mode)
    rc = conf_dict(rp.read_text())
    assert rc["sasl.password"] not in r.stdout.decode(), "the password only goes to the files"
    assert f"CA SHA-256 fingerprint: {ca_fingerprint(pki)}" in r.stdout.decode()
    text = jp.read_text()
    assert "ssl.truststore.certificates=-----BEGIN CERTIFICATE-----" in text
    assert "ssl.truststore.location" not in text and "sasl.mechanism=SCRAM-SHA-256" in text
    acl_add(b, adm, "dave", topic)
    ok = java_produce(jp, b.bootstrap, topic, ["embedded-1"])
    assert ok.returncode == 0 and b"Exception" not in ok.stderr, ok.stderr[-2000:]
    got = h.kcat("-F", str(rp), "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q")
    assert got.stdout.decode().split() == ["embedded-1"]


def test_client_config_defaults_to_data_admin_file(secure, pki, tmp_path):
    """Without --command-config, ./data/admin-client.properties (what the
    first start writes) is the admin, and its bootstrap.servers the target."""
    b, adm = secure
    work = tmp_path / "cwd"
    (work / "data").mkdir(parents=True)
    (work / "data" / "admin-client.properties").write_text(adm.read_text())
    env = dict(os.environ)
    if h.SANITIZED:
        env.update(ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    r = subprocess.run([str(h.SLUICE_CLI), "client-config", "--user", "erin"], cwd=work, env=env,
                       capture_output=True, timeout=120 * h.SLOWDOWN)
    assert r.returncode == 0, r.stderr
    assert not any(x.encode() in r.stderr for x in h.SANITIZER_PATTERNS), r.stderr
    rc = conf_dict(section(r.stdout.decode(), "librdkafka client conf"))
    assert rc["bootstrap.servers"] == b.bootstrap and rc["sasl.username"] == "erin"
    # Nowhere to find an admin: a usage error naming the default.
    r = subprocess.run([str(h.SLUICE_CLI), "client-config", "--user", "erin"], cwd=tmp_path, env=env,
                       capture_output=True, timeout=120 * h.SLOWDOWN)
    assert r.returncode == 2 and b"./data/admin-client.properties" in r.stderr


# ---------------------------------------------------------------- posture

def posture(b: h.Broker, adm: Path, *extra: str, bootstrap: str | None = None):
    r = h.sluice_cli("posture", "--bootstrap-server", bootstrap or b.bootstrap, "--command-config",
                     str(adm), "--json", *extra, check=False)
    assert r.returncode in (0, 2), r.stderr.decode()
    doc = json.loads(r.stdout)
    return r.returncode, doc


def weak(doc) -> dict[str, str]:
    return {f["check"]: f["severity"] for f in doc["findings"] if f["severity"] != "info"}


def test_posture_secure_default_has_no_weak_point(secure):
    b, adm = secure
    code, doc = posture(b, adm)
    assert code == 0 and weak(doc) == {}, doc["findings"]
    (l,) = doc["listeners"]
    assert l["security_protocol"] == "SASL_SSL" and l["tls"] and l["kafka"]
    assert l["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert l["sasl_mechanisms"] == ["SCRAM-SHA-256", "SCRAM-SHA-512"]
    assert l["certificates"] and 80 <= l["certificates"][0]["days_left"] <= 90
    assert doc["audit"]["status"] == "intact" and doc["encryption"]["status"] == "enabled"
    assert doc["encryption"]["key_version"] == 1 and doc["encryption"]["key_age_ms"] >= 0
    assert doc["super_users"] == ["User:admin"] and doc["users"] == 1 and doc["acls"] == 0
    assert doc["allow_everyone_if_no_acl_found"] is False
    # The text report says the same, and kafka-configs.sh still describes the broker.
    text = h.sluice_cli("posture", "--bootstrap-server", b.bootstrap, "--command-config", str(adm))
    assert b"0 critical, 0 warning(s)" in text.stdout
    r = h.kafka_tool("kafka-configs", "--bootstrap-server", b.bootstrap, "--command-config", str(adm),
                     "--describe", "--entity-type", "brokers", "--entity-name", "1", "--all")
    out = r.stdout.decode()
    assert "sluice.audit.status=intact" in out and "sluice.encryption.status=enabled" in out, out
    assert re.search(r"sluice\.encryption\.key\.age\.ms=\d+", out), out
    assert "super.users=User:admin" in out
    r = h.kafka_tool("kafka-configs", "--bootstrap-server", b.bootstrap, "--command-config", str(adm),
                     "--describe", "--entity-type", "brokers", "--entity-name", "1")
    assert r.returncode == 0 and b"Dynamic configs for broker 1" in r.stdout


def test_posture_key_age_limit(secure):
    b, adm = secure
    # The key was written moments ago: a 0-day limit makes it "old".
    code, doc = posture(b, adm, "--key-max-age-days", "0")
    assert code == 0 and weak(doc) == {"key-old": "warning"}, doc["findings"]


INSECURE = {"sluice.allow.insecure": "true"}
WEAKENED = [  # (id, settings, weak points expected besides insecure-override, exit status)
    ("allow-everyone", {"allow.everyone.if.no.acl.found": "true"}, {"allow-everyone": "critical"}, 2),
    ("encryption-off", {"sluice.encryption.enable": "false"}, {"encryption-off": "critical"}, 2),
    ("audit-off", {"sluice.audit.enable": "false"}, {"audit-off": "critical"}, 2),
    ("audit-policy-log", {"sluice.audit.failure.policy": "log"}, {"audit-policy-log": "warning"}, 0),
    ("two-super-users", {"super.users": "User:admin;User:ops"}, {"super-users-many": "warning"}, 0),
    ("anonymous-super-user", {"super.users": "User:admin;User:ANONYMOUS"},
     {"super-user-anonymous": "warning", "super-users-many": "warning"}, 0),
    ("plain-over-tls", {"sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512"}, {"sasl-plain": "warning"}, 0),
]


@pytest.mark.parametrize("name,extra,expected,code", WEAKENED, ids=[w[0] for w in WEAKENED])
def test_posture_weakened_setting(broker_factory, pki, tmp_path, name, extra, expected, code):
    h.only_on_sluice("the sluice CLI")
    cfg = dict(secure_config(pki), **INSECURE)
    cfg.update(extra)
    b = start_with_admin(broker_factory(cfg, listeners=[("SASL_SSL", "SASL_SSL")], tls=pki.client()))
    adm = admin_properties(tmp_path / "admin.properties", pki, b.bootstrap)
    got_code, doc = posture(b, adm)
    found = weak(doc)
    assert found.pop("insecure-override") == "warning"
    assert (got_code, found) == (code, expected), doc["findings"]


def test_posture_audit_chain_broken(broker_factory, pki, tmp_path):
    """A damaged audit file found at start: the broker goes on in a new file
    that records the break, and posture calls it critical."""
    h.only_on_sluice("the sluice CLI")
    b = start_with_admin(broker_factory(secure_config(pki), listeners=[("SASL_SSL", "SASL_SSL")],
                                        tls=pki.client()))
    adm = admin_properties(tmp_path / "admin.properties", pki, b.bootstrap)
    assert posture(b, adm)[0] == 0
    b.stop()
    newest = sorted((b.data_dir / "audit").glob("audit-*.jsonl"))[-1]
    with open(newest, "ab") as f:
        f.write(b'{"specversion":"1.0","not":"chained"}\n')
    b.start()
    code, doc = posture(b, adm)
    assert code == 2 and weak(doc) == {"audit-chain-broken": "critical"}, doc["findings"]
    assert doc["audit"]["status"] == "broken"


def test_posture_plaintext_on_all_interfaces(broker_factory, pki, tmp_path):
    h.only_on_sluice("the sluice CLI")
    cfg = dict(secure_config(pki), **INSECURE)
    b = broker_factory(cfg, listeners=[("SASL_SSL", "SASL_SSL"), ("PLAIN", "PLAINTEXT")], tls=pki.client())
    # Bound to every interface; the test (and posture's probe) connect via 127.0.0.1.
    b.extra["listeners"] = f"SASL_SSL://127.0.0.1:{b.port},PLAIN://0.0.0.0:{b.ports['PLAIN']}"
    start_with_admin(b)
    adm = admin_properties(tmp_path / "admin.properties", pki, b.bootstrap)
    code, doc = posture(b, adm)
    found = weak(doc)
    assert code == 2 and found == {"plaintext-listener": "critical", "insecure-override": "warning"}, \
        doc["findings"]
    plain = next(x for x in doc["listeners"] if x["name"] == "PLAIN")
    assert plain["bind_host"] == "" and plain["probed_host"] == "127.0.0.1"
    assert plain["kafka"] and not plain["tls"] and not plain["loopback"]


@pytest.mark.parametrize("anonymous_super", [False, True])
def test_posture_plaintext_on_loopback_is_a_warning(broker_factory, pki, tmp_path, anonymous_super):
    """PLAINTEXT on loopback alone is a warning; with User:ANONYMOUS a super
    user, every local process is one: critical."""
    h.only_on_sluice("the sluice CLI")
    cfg = secure_config(pki)
    if anonymous_super:
        cfg["super.users"] = "User:ANONYMOUS"
    b = start_with_admin(broker_factory(cfg, tls=pki.client(),
                                        listeners=[("SASL_SSL", "SASL_SSL"), ("PLAIN", "PLAINTEXT")]))
    adm = admin_properties(tmp_path / "admin.properties", pki, b.bootstrap)
    if anonymous_super:  # the admin asks through the PLAINTEXT listener (it is the super user);
        # the trust store serves posture's probe of the SASL_SSL listener.
        adm.write_text(f"bootstrap.servers={b.bootstrap_of('PLAIN')}\nssl.truststore.type=PEM\n"
                       f"ssl.truststore.location={pki.ca.cert}\n")
    code, doc = posture(b, adm, bootstrap=b.bootstrap_of("PLAIN") if anonymous_super else None)
    expected = {"plaintext-loopback": "warning"}
    if anonymous_super:
        expected["super-user-anonymous"] = "critical"
    assert (code, weak(doc)) == (2 if anonymous_super else 0, expected), doc["findings"]


def test_posture_certificate_expiring_soon(broker_factory, pki, tmp_path):
    h.only_on_sluice("the sluice CLI")
    import pki as pki_mod
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID
    ca_key = serialization.load_pem_private_key(pki.ca.key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    now = dt.datetime.now(dt.timezone.utc)
    soon = pki_mod._issue(tmp_path, "soon", pki_mod._name((NameOID.COMMON_NAME, "localhost")), ca_key,
                          ca_cert, server=True, key_kind="rsa", password=pki.password,
                          not_after=now + dt.timedelta(days=10))
    b = start_with_admin(broker_factory(secure_config(pki, server=soon), tls=pki.client(),
                                        listeners=[("SASL_SSL", "SASL_SSL")]))
    adm = admin_properties(tmp_path / "admin.properties", pki, b.bootstrap)
    code, doc = posture(b, adm)
    assert code == 0 and weak(doc) == {"certificate-expiring": "warning"}, doc["findings"]
    assert doc["listeners"][0]["certificates"][0]["days_left"] in (9, 10)
    # A stricter monitoring threshold does not make it critical; an expired one would.
    code, doc = posture(b, adm, "--cert-warn-days", "5")
    assert code == 0 and weak(doc) == {}, doc["findings"]


def test_posture_legacy_tls_behind_a_proxy(broker_factory, pki, tmp_path):
    """Sluice itself refuses ssl.enabled.protocols below TLS 1.2 at start, so
    TLS 1.1 can only be accepted in front of it: a TLS-terminating proxy that
    allows TLS 1.1 forwards to a SASL_PLAINTEXT loopback listener. posture
    probes the endpoint it was given too, and finds TLS 1.1 accepted."""
    h.only_on_sluice("the sluice CLI")
    srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 on purpose
            srv.minimum_version = ssl.TLSVersion.TLSv1_1
        srv.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as e:
        pytest.skip(f"this OpenSSL cannot offer TLS 1.1 ({e})")
    if not ssl.HAS_TLSv1_1:
        pytest.skip("this OpenSSL has no TLS 1.1")
    srv.load_cert_chain(str(pki.server.cert), str(pki.server.key))
    refused = broker_factory(dict(secure_config(pki), **INSECURE, **{"ssl.enabled.protocols": "TLSv1.1,TLSv1.2"}),
                             listeners=[("SASL_SSL", "SASL_SSL")], tls=pki.client())
    with pytest.raises(h.BrokerError):
        refused.start(timeout=20)
    assert "ssl.enabled.protocols" in refused.log_text()
    refused.proc = None

    b = start_with_admin(broker_factory(secure_config(pki), tls=pki.client(),
                                        listeners=[("SASL_SSL", "SASL_SSL"), ("INNER", "SASL_PLAINTEXT")]))
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    stop = threading.Event()

    def pump(a, c):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            for s in (a, c):
                try:
                    s.close()
                except OSError:
                    pass

    def serve():
        lsock.settimeout(0.2)
        while not stop.is_set():
            try:
                raw, _ = lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                raw.settimeout(10)
                t = srv.wrap_socket(raw, server_side=True)
                t.settimeout(None)
                up = socket.create_connection(("127.0.0.1", b.ports["INNER"]))
            except (OSError, ssl.SSLError):
                raw.close()
                continue
            threading.Thread(target=pump, args=(t, up), daemon=True).start()
            threading.Thread(target=pump, args=(up, t), daemon=True).start()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        adm = admin_properties(tmp_path / "admin.properties", pki, f"127.0.0.1:{port}")
        code, doc = posture(b, adm, bootstrap=f"127.0.0.1:{port}")
    finally:
        stop.set()
        th.join(5)
        lsock.close()
    front = next(x for x in doc["listeners"] if x["name"] == "bootstrap")
    assert "TLSv1.1" in front["tls_versions"], front
    found = weak(doc)
    assert code == 2 and found.get("tls-legacy") == "critical", doc["findings"]
    assert found.get("plaintext-loopback") == "warning"


def test_posture_usage_and_connection_errors(tmp_path):
    h.only_on_sluice("the sluice CLI")
    for bad in (["--bogus"], ["--cert-warn-days", "x"], []):
        r = h.sluice_cli("posture", *bad, check=False)
        assert r.returncode == 1 and b"Try 'sluice posture --help'" in r.stderr, bad
    r = h.sluice_cli("posture", "--bootstrap-server", f"127.0.0.1:{h.free_port()}", check=False)
    assert r.returncode == 1 and b"cannot connect" in r.stderr
