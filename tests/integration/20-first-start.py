# SPDX-License-Identifier: Apache-2.0
"""Secure by default (issue 10): the first start and the refusal of insecure set-ups.

  defaults    sluiced with only --data-dir on an empty directory: one SASL_SSL
              listener on 127.0.0.1:9093, generated CA and broker certificate,
              the super user admin with a random password, both client files,
              one banner with ready-to-run commands. The kcat commands are run
              exactly as printed; records flow over SASL_SSL as User:admin.
  first       the same with only the port overridden (--override listeners=...)
              so that the slower checks do not hold 9093: the Java console
              producer and consumer as printed, refusal of a TLS client without
              SASL, of a plaintext client and of a wrong password, file modes,
              no secret in any output, a second start with no banner.
  insecure    each weakened set-up stops the start naming the setting, unless
              sluice.allow.insecure=true: then it starts and warns in its log
              and its audit log, at every start.
  readme      (slow) the README's quick start from a clean clone: make run,
              then the printed commands.

These start sluiced directly (no configuration file: the harness always writes
one), from the repository's root, as `make run` does.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import socket
import ssl
import stat
import struct
import subprocess
import time
from pathlib import Path

import pytest

import sluice_harness as h

pytestmark = pytest.mark.skipif(h.TARGET == "kafka", reason="Sluice's first start: not a Kafka feature")

DEFAULT_PORT = 9093


class Sluiced:
    """One sluiced process started with command-line options only; its
    standard output and error go to `log` (appended, one file per run)."""

    def __init__(self, data: Path, *args: str, cwd: Path = h.REPO, binary: Path = h.SLUICED):
        self.data, self.args, self.cwd, self.binary = data, list(args), cwd, binary
        self.proc: subprocess.Popen | None = None
        self.runs: list[Path] = []

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if h.SANITIZED:
            env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:halt_on_error=1")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        return env

    def cmd(self) -> list[str]:
        return [str(self.binary), "--data-dir", str(self.data), *self.args]

    def launch(self) -> Path:
        log = self.data.parent / f"{self.data.name}-run{len(self.runs) + 1}.log"
        self.runs.append(log)
        with open(log, "wb") as f:
            self.proc = subprocess.Popen(self.cmd(), cwd=self.cwd, stdin=subprocess.DEVNULL,
                                         stdout=f, stderr=f, env=self._env(), start_new_session=True)
        return log

    def output(self, run: int = -1) -> str:
        return self.runs[run].read_text(errors="replace")

    def start(self, port: int) -> str:
        """Starts and waits until `ready` is logged and the port takes TLS
        connections (the CA is the generated one); returns the output so far."""
        self.launch()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"sluiced exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            if "[broker] ready" not in self.output():
                return False
            ctx = ssl.create_default_context(cafile=str(self.data / "tls" / "ca.crt"))
            with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                    return True

        h.wait_for(ready, h.START_TIMEOUT, f"sluiced ready on 127.0.0.1:{port}")
        return self.output()

    def fails(self) -> str:
        """Runs expecting the start to fail; returns the output."""
        self.launch()
        try:
            rc = self.proc.wait(timeout=h.START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("sluiced did not refuse to start:\n" + self.output()[-3000:])
        assert rc != 0, self.output()[-3000:]
        self.check_sanitizers()
        return self.output()

    def stop(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, "sluiced is not running:\n" + self.output()[-3000:]
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=h.STOP_TIMEOUT)
        assert rc == 0, f"sluiced exited with {rc} on SIGTERM:\n{self.output()[-3000:]}"
        self.check_sanitizers()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def check_sanitizers(self) -> None:
        text = self.output()
        bad = [p for p in h.SANITIZER_PATTERNS if p in text]
        assert not bad, f"sanitizer report in sluiced's output:\n{text[-6000:]}"


# --------------------------------------------------------------------------
# reading the banner, the audit log, the secrets


def banner_commands(out: str) -> dict[str, str]:
    """The four commands of the banner, by role."""
    lines = [ln.strip() for ln in out.splitlines()]
    kcat = [ln for ln in lines if ln.startswith("kcat -F ")]
    java = [ln for ln in lines if "kafka-console-" in ln and "--bootstrap-server" in ln]
    assert len(kcat) == 2 and len(java) == 2, f"banner commands not found in:\n{out[-4000:]}"
    return {
        "kcat_produce": next(c for c in kcat if c.endswith(" -P")),
        "kcat_consume": next(c for c in kcat if " -C" in c),
        "java_produce": next(c for c in java if "kafka-console-producer" in c),
        "java_consume": next(c for c in java if "kafka-console-consumer" in c),
    }


def audit_records(data: Path) -> list[dict]:
    return h.audit_records(data / "audit")


def secrets_of(data: Path) -> list[str]:
    """Strings that must never appear in any output: the admin password, the
    base64 lines of the private keys, the keyring's keys, the audit key."""
    conf = (data / "admin-client.conf").read_text()
    pw = re.search(r"^sasl\.password=(.+)$", conf, re.M).group(1)
    out = [pw]
    for name in ("tls/ca.key", "tls/broker.pem"):
        text = (data / name).read_text()
        key = text[text.index("-----BEGIN PRIVATE KEY-----"):text.index("-----END PRIVATE KEY-----")]
        out += [ln for ln in key.splitlines()[1:] if len(ln) >= 16]
    for line in (data / "keys" / "keyring").read_text().splitlines():
        if line.startswith("key "):
            out.append(line.split()[-1])
    raw = (data / "keys" / "audit.key").read_bytes()
    out += [raw.hex(), base64.b64encode(raw).decode()]
    return out


def assert_admin_over_sasl_ssl(data: Path, api: str, operation: str, topic: str = "demo") -> None:
    """The audit log holds an allowed `operation` on `topic` by User:admin
    through `api` on the SASL_SSL listener."""
    for r in audit_records(data):
        d = r.get("data", {})
        if (r.get("type") == "io.sluice.authorization" and d.get("api") == api
                and d.get("principal") == "User:admin" and d.get("security_protocol") == "SASL_SSL"
                and d.get("resource_name") == topic and d.get("operation") == operation
                and d.get("decision") == "allow"):
            return
    raise AssertionError(f"no audit record of {api} {operation} on {topic} by User:admin over SASL_SSL")


def run_printed(command: str, input: bytes | None = None, extra: list[str] = (), timeout: float = 180,
                cwd: Path = h.REPO) -> subprocess.CompletedProcess:
    """Runs a printed command as a shell would split it (plus `extra` options)."""
    argv = shlex.split(command) + list(extra)
    r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout * h.SLOWDOWN, cwd=cwd)
    assert r.returncode == 0, f"{command} exited with {r.returncode}:\n{r.stdout.decode()[-2000:]}\n{r.stderr.decode()[-3000:]}"
    return r


def kcat_roundtrip(cmds: dict[str, str], records: list[bytes], want: list[bytes]) -> None:
    run_printed(cmds["kcat_produce"], input=b"\n".join(records) + b"\n")
    r = run_printed(cmds["kcat_consume"])
    got = r.stdout.splitlines()
    assert got == want, f"consumed {got}, expected {want}"


def wait_port_free(port: int) -> None:
    def free():
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            return True
    h.wait_for(free, 120, f"port {port} free (another broker holds it)")


def raw_frame(sock, api_key: int, version: int, body: bytes = b"") -> bytes:
    corr = 7
    cid = b"first-start-test"
    req = struct.pack(">hhih", api_key, version, corr, len(cid)) + cid + body
    sock.sendall(struct.pack(">i", len(req)) + req)
    return sock.recv(4)


# --------------------------------------------------------------------------
# (a) the true defaults: only --data-dir


def test_true_defaults_kcat_as_printed(tmp_path):
    """No configuration at all: SASL_SSL on 127.0.0.1:9093, the banner's kcat
    commands produce and consume as printed, as User:admin."""
    wait_port_free(DEFAULT_PORT)
    b = Sluiced(tmp_path / "data")
    try:
        out = b.start(DEFAULT_PORT)
        assert "listener SASL_SSL://127.0.0.1:9093 (TLS 1.2/1.3, SCRAM-SHA-512)" in out
        assert "listening on SASL_SSL://127.0.0.1:9093 (SASL_SSL)" in out
        cmds = banner_commands(out)
        assert cmds["kcat_produce"] == f"kcat -F {tmp_path}/data/admin-client.conf -t demo -P"
        kcat_roundtrip(cmds, [b"one", b"two"], [b"one", b"two"])
        # The generation is measured and logged, and takes well under a second.
        ms = [float(x) for x in re.findall(r"\[first-start\] (?:generated|created) .* in ([0-9.]+) ms", out)]
        assert len(ms) == 2, out[-3000:]
        print(f"first start generation: TLS {ms[0]:.1f} ms, admin user and files {ms[1]:.1f} ms")
        assert sum(ms) < 1000 * h.SLOWDOWN
        b.stop()
    finally:
        b.kill()
    assert_admin_over_sasl_ssl(tmp_path / "data", "Produce", "WRITE")
    assert_admin_over_sasl_ssl(tmp_path / "data", "Fetch", "READ")


# --------------------------------------------------------------------------
# (a, c) one first start on a free port, shared by the slower checks


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    port = h.free_port()
    root = tmp_path_factory.mktemp("first-start")
    b = Sluiced(root / "data", "--override", f"listeners=SASL_SSL://127.0.0.1:{port}")
    b.port = port
    b.first_output = b.start(port)
    yield b
    try:
        if b.proc is not None and b.proc.poll() is None:
            b.stop()
    finally:
        b.kill()


def test_java_console_tools_as_printed(first):
    """The banner's Java console producer and consumer, as printed, over SASL_SSL."""
    cmds = banner_commands(first.first_output)
    assert f"--bootstrap-server 127.0.0.1:{first.port} --producer.config {first.data}/admin-client.properties" in cmds["java_produce"]
    assert cmds["java_produce"].startswith(str(h.REPO / ".cache" / "kafka" / "bin" / "kafka-console-producer.sh"))
    run_printed(cmds["java_produce"], input=b"java-1\njava-2\n")
    r = run_printed(cmds["java_consume"], extra=["--max-messages", "2", "--timeout-ms", str(int(60000 * h.SLOWDOWN))])
    assert r.stdout.splitlines() == [b"java-1", b"java-2"], r.stdout
    # The producer and the consumer were authorized as User:admin over SASL_SSL.
    assert_admin_over_sasl_ssl(first.data, "Produce", "WRITE")
    assert_admin_over_sasl_ssl(first.data, "Fetch", "READ")


def test_unauthenticated_and_plaintext_refused(first):
    """TLS without SASL: a request other than ApiVersions/SASL closes the
    connection unanswered. Plaintext on the TLS port: no Kafka answer. A wrong
    password: kcat cannot produce."""
    ctx = ssl.create_default_context(cafile=str(first.data / "tls" / "ca.crt"))
    with socket.create_connection(("127.0.0.1", first.port), timeout=10 * h.SLOWDOWN) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.settimeout(10 * h.SLOWDOWN)
            assert raw_frame(s, 3, 1, struct.pack(">i", -1)) == b"", "Metadata answered without SASL"
    with pytest.raises((ConnectionError, ValueError, OSError)):
        h.api_versions("127.0.0.1", first.port, timeout=5 * h.SLOWDOWN)
    # kcat over TLS without SASL, and with a wrong password.
    conf = (first.data / "admin-client.conf").read_text()
    no_sasl = first.data.parent / "no-sasl.conf"
    no_sasl.write_text(re.sub(r"security\.protocol=SASL_SSL", "security.protocol=SSL",
                              re.sub(r"^sasl\..*$", "", conf, flags=re.M)))
    wrong = first.data.parent / "wrong.conf"
    wrong.write_text(re.sub(r"^sasl\.password=.*$", "sasl.password=not-the-password", conf, flags=re.M))
    for f in (no_sasl, wrong):
        r = subprocess.run(["kcat", "-F", str(f), "-t", "demo", "-P", "-m", "10"], input=b"x\n",
                           capture_output=True, timeout=120 * h.SLOWDOWN)
        assert r.returncode != 0, f"kcat with {f.name} produced: {r.stderr.decode()[-1500:]}"
    # The wrong password is an audited authentication failure of admin.
    h.wait_for(lambda: any(r.get("type") == "io.sluice.authentication"
                           and r["data"].get("decision") != "success"
                           and "admin" in json.dumps(r["data"]) for r in audit_records(first.data)),
               30 * h.SLOWDOWN, "an audited authentication failure")


def test_posture_clean_and_client_config_user_denied_until_acl(first):
    """`sluice posture` finds no weak point in what the first start set up,
    and a user enrolled with `sluice client-config` (run where `make run`
    runs: the admin files are found in ./data) is denied until an ACL allows
    it, then produces with its printed librdkafka configuration."""
    adm = first.data / "admin-client.properties"
    r = h.sluice_cli("posture", "--bootstrap-server", f"127.0.0.1:{first.port}",
                     "--command-config", str(adm), "--json", check=False)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    doc = json.loads(r.stdout)
    weak = [f for f in doc["findings"] if f["severity"] != "info"]
    assert weak == [], weak
    assert doc["super_users"] == ["User:admin"] and doc["users"] == 1
    assert doc["audit"]["status"] == "intact" and doc["encryption"]["status"] == "enabled"

    out_dir = first.data.parent / "frank"
    out_dir.mkdir()
    r = subprocess.run([str(h.SLUICE_CLI), "client-config", "--user", "frank", "--output-dir",
                        str(out_dir)], cwd=first.data.parent, capture_output=True,
                       timeout=120 * h.SLOWDOWN)
    assert r.returncode == 0, r.stderr.decode()
    confs = list(out_dir.glob("*.conf"))
    assert len(confs) == 1, list(out_dir.iterdir())

    def kcat_produce() -> subprocess.CompletedProcess:
        return subprocess.run(["kcat", "-F", str(confs[0]), "-t", "frank-topic", "-P"],
                              input=b"from-frank\n", capture_output=True, timeout=120 * h.SLOWDOWN)

    denied = kcat_produce()
    assert b"authoriz" in denied.stderr.lower(), denied.stderr.decode()[-1500:]
    h.sluice_cli("acl", "add", "--bootstrap-server", f"127.0.0.1:{first.port}", "--command-config",
                 str(adm), "--allow-principal", "User:frank", "--operation", "All",
                 "--topic", "frank-topic")
    h.sluice_cli("acl", "add", "--bootstrap-server", f"127.0.0.1:{first.port}", "--command-config",
                 str(adm), "--allow-principal", "User:frank", "--operation", "Create",
                 "--cluster")
    ok = kcat_produce()
    assert ok.returncode == 0 and b"authoriz" not in ok.stderr.lower(), ok.stderr.decode()[-1500:]
    got = subprocess.run(["kcat", "-F", str(confs[0]), "-t", "frank-topic", "-C", "-e", "-q"],
                         capture_output=True, timeout=120 * h.SLOWDOWN)
    assert got.stdout.splitlines() == [b"from-frank"], got.stderr.decode()[-1500:]


def test_files_private_and_no_secret_printed(first):
    """Every generated file is 0600 and every directory 0700; the password
    and keys appear in no output of the broker, in no log, and a second start
    prints no banner."""
    d = first.data
    for name in ("tls/ca.crt", "tls/ca.key", "tls/broker.pem", "admin-client.properties",
                 "admin-client.conf", "keys/keyring", "keys/audit.key", "meta.properties"):
        mode = stat.S_IMODE((d / name).stat().st_mode)
        assert mode == 0o600, f"{name}: mode {mode:o}"
    for p in [d, *[x for x in d.rglob("*") if x.is_dir()]]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o700, f"{p}: mode {stat.S_IMODE(p.stat().st_mode):o}"
    for p in d.rglob("*"):
        if p.is_file():
            assert not p.stat().st_mode & 0o077, f"{p} readable by others"
    props = (d / "admin-client.properties").read_text()
    for line in ("security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512", "ssl.truststore.type=PEM",
                 f"ssl.truststore.location={d}/tls/ca.crt", f"bootstrap.servers=127.0.0.1:{first.port}"):
        assert line in props.splitlines(), line
    assert re.search(r'^sasl\.jaas\.config=org\.apache\.kafka\.common\.security\.scram\.ScramLoginModule '
                     r'required username="admin" password="[A-Za-z0-9]{32}";$', props, re.M)
    conf = (d / "admin-client.conf").read_text().splitlines()
    for line in ("security.protocol=SASL_SSL", "sasl.mechanisms=SCRAM-SHA-512", "sasl.username=admin",
                 f"ssl.ca.location={d}/tls/ca.crt", f"bootstrap.servers=127.0.0.1:{first.port}"):
        assert line in conf, line
    # The certificate: ECDSA P-256, the SANs, signed by the CA.
    text = subprocess.run(["openssl", "x509", "-in", str(d / "tls/broker.pem"), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "NIST CURVE: P-256" in text or "prime256v1" in text
    san = re.search(r"Subject Alternative Name:\s*\n\s*(.*)", text).group(1)
    for name in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", f"DNS:{socket.gethostname()}"):
        assert name in san, san
    leaf = d.parent / "leaf.pem"
    pem = (d / "tls/broker.pem").read_text()
    leaf.write_text(pem[pem.index("-----BEGIN CERTIFICATE-----"):pem.index("-----END CERTIFICATE-----") + 25] + "\n")
    subprocess.run(["openssl", "verify", "-CAfile", str(d / "tls/ca.crt"), str(leaf)], check=True,
                   capture_output=True)

    # A second start: same files, no banner, no secret anywhere.
    before = {n: (d / n).read_bytes() for n in ("tls/ca.key", "tls/broker.pem", "admin-client.conf")}
    first.stop()
    out2 = first.start(first.port)
    assert "first start" not in out2.lower().replace("[first-start] listener", ""), out2[-3000:]
    assert "kcat -F" not in out2 and "=====" not in out2
    assert {n: (d / n).read_bytes() for n in before} == before
    cmds = banner_commands(first.first_output)
    run_printed(cmds["kcat_produce"], input=b"after-restart\n")
    assert b"after-restart" in run_printed(cmds["kcat_consume"]).stdout.splitlines()
    secrets = secrets_of(d)
    outputs = {"first start": first.output(0), "second start": first.output(1)}
    for f in (d / "audit").glob("*.jsonl"):
        outputs[f.name] = f.read_text()
    for where, text in outputs.items():
        for s in secrets:
            assert s not in text, f"a secret ({len(s)} chars) appears in {where}"


# --------------------------------------------------------------------------
# (b) insecure set-ups


def _insecure_cases(port: int) -> list[tuple[str, list[str], str]]:
    """(id, overrides, the KEY=VALUE the refusal names)."""
    return [
        ("plaintext-wildcard", [f"listeners=PLAINTEXT://0.0.0.0:{port}"], f"listeners=PLAINTEXT://0.0.0.0:{port}"),
        ("sasl-plaintext-any", [f"listeners=SASL_PLAINTEXT://:{port}"], f"listeners=SASL_PLAINTEXT://:{port}"),
        ("plain-without-tls", [f"listeners=SASL_PLAINTEXT://127.0.0.1:{port}",
                               "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512",
                               "sluice.sasl.plain.allow.cleartext=true"],
         "sluice.sasl.plain.allow.cleartext=true"),
        ("allow-everyone", [f"listeners=SASL_SSL://127.0.0.1:{port}", "allow.everyone.if.no.acl.found=true"],
         "allow.everyone.if.no.acl.found=true"),
        ("encryption-off", [f"listeners=SASL_SSL://127.0.0.1:{port}", "sluice.encryption.enable=false"],
         "sluice.encryption.enable=false"),
        ("audit-off", [f"listeners=SASL_SSL://127.0.0.1:{port}", "sluice.audit.enable=false"],
         "sluice.audit.enable=false"),
    ]


CASE_IDS = [c[0] for c in _insecure_cases(1)]


@pytest.mark.parametrize("case", CASE_IDS)
def test_insecure_setup_refused_then_allowed(tmp_path, case):
    port = h.free_port()
    _, overrides, named = next(c for c in _insecure_cases(port) if c[0] == case)
    args = [x for o in overrides for x in ("--override", o)]
    b = Sluiced(tmp_path / "data", *args)
    out = b.fails()
    assert named in out, out[-2000:]
    assert "Refusing to start an insecure set-up" in out and "sluice.allow.insecure=true" in out, out[-2000:]
    assert "config --override: " in out  # where it was set

    b.args += ["--override", "sluice.allow.insecure=true"]
    for start in (1, 2):  # warned at every start
        b.start(port) if "SASL_SSL" in overrides[0] else _start_plain(b, port)
        text = b.output()
        assert re.search(r"WARN  \[broker\] INSECURE, allowed by sluice\.allow\.insecure=true: "
                         + re.escape(named), text), text[-3000:]
        if case != "audit-off":
            starts = [r for r in audit_records(b.data) if r.get("type", "").endswith("broker.start")]
            assert len(starts) == start, [r.get("type") for r in audit_records(b.data)]
            data = starts[-1]["data"]
            assert data["allow_insecure"] is True and data["secure"] is False
            assert any(s.startswith(named) and "allowed by sluice.allow.insecure=true" in s
                       for s in data["insecure_settings"]), data["insecure_settings"]
        else:
            assert not list((b.data / "audit").glob("*.jsonl"))
        b.stop()


def _start_plain(b: Sluiced, port: int) -> None:
    """Starts a broker whose listener is not TLS: ready when ApiVersions answers."""
    b.launch()

    def ready():
        if b.proc.poll() is not None:
            raise AssertionError(f"sluiced exited with {b.proc.returncode}:\n{b.output()[-3000:]}")
        return "[broker] ready" in b.output() and h.api_versions("127.0.0.1", port, timeout=2)
    h.wait_for(ready, h.START_TIMEOUT, f"sluiced ready on {port}")


def test_tls_below_1_2_never(tmp_path):
    """TLS 1.1 cannot be enabled, not even with the override."""
    b = Sluiced(tmp_path / "data", "--override", "ssl.enabled.protocols=TLSv1.1,TLSv1.2",
                "--override", "sluice.allow.insecure=true")
    out = b.fails()
    assert "ssl.enabled.protocols=TLSv1.1,TLSv1.2" in out, out[-2000:]


def test_plaintext_on_loopback_allowed_and_reported(tmp_path):
    """The test harness's set-up: PLAINTEXT on 127.0.0.1 needs no override,
    but the log and the audit log's posture still name it."""
    port = h.free_port()
    b = Sluiced(tmp_path / "data", "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}")
    try:
        _start_plain(b, port)
        assert "listener PLAINTEXT is PLAINTEXT on loopback" in b.output()
        start = [r for r in audit_records(b.data) if r.get("type", "").endswith("broker.start")][-1]["data"]
        assert start["secure"] is False and start["allow_insecure"] is False
        assert any("PLAINTEXT on loopback" in s for s in start["insecure_settings"])
        # No SASL listener, explicit listeners: no admin user, no client files, no banner.
        assert not (b.data / "admin-client.conf").exists() and "kcat -F" not in b.output()
        b.stop()
    finally:
        b.kill()


# --------------------------------------------------------------------------
# (d) the README's quick start from a clean clone


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_readme_quick_start_from_a_clean_clone(tmp_path):
    """git clone, `make run` (building in the clone), then the printed kcat
    and Java commands: records produced and consumed over SASL_SSL. The
    clone shares the repository's .cache (Kafka's jars) instead of fetching
    them again; the port is a free one (SLUICED_ARGS) so as not to wait for
    9093."""
    readme = (h.REPO / "README.md").read_text()
    quick = readme[readme.index("```sh"):readme.index("```", readme.index("```sh") + 5)]
    assert "git clone" in quick and "make run" in quick, quick
    head = subprocess.run(["git", "-C", str(h.REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    clone = tmp_path / "sluice"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(h.REPO), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head], check=True)
    os.symlink(h.REPO / ".cache", clone / ".cache")
    port = h.free_port()
    log = tmp_path / "make-run.log"
    t0 = time.monotonic()
    with open(log, "wb") as f:
        proc = subprocess.Popen(["make", "run", f"SLUICED_ARGS=--override listeners=SASL_SSL://127.0.0.1:{port}"],
                                cwd=clone, stdout=f, stderr=f, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        def ready():
            if proc.poll() is not None:
                raise AssertionError(f"make run exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            return "[broker] ready" in log.read_text(errors="replace")
        h.wait_for(ready, 600, "make run: the broker ready")
        print(f"clone to ready: {time.monotonic() - t0:.0f} s")
        out = log.read_text()
        cmds = banner_commands(out)
        assert f"{clone}/data/admin-client.conf" in cmds["kcat_produce"]
        kcat_roundtrip(cmds, [b"readme"], [b"readme"])
        run_printed(cmds["java_produce"], input=b"readme-java\n", cwd=clone)
        r = run_printed(cmds["java_consume"], extra=["--max-messages", "2", "--timeout-ms", "60000"], cwd=clone)
        assert r.stdout.splitlines() == [b"readme", b"readme-java"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
