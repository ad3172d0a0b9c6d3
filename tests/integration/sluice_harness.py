# SPDX-License-Identifier: Apache-2.0
"""Integration-test harness: start a broker on a free loopback port, drive it
with real clients (Kafka's Java CLI tools, kcat, confluent-kafka, kafka-python).

Environment:
  SLUICED            the broker binary (absolute path; default <repo>/build/sluiced)
  SLUICE_CLI         the admin CLI binary `sluice` (default: next to SLUICED)
  SLUICE_TARGET      "sluice" (default) or "kafka": run the same tests against
                     Apache Kafka 4.x from .cache/kafka (KRaft, single node), the
                     reference a differential test compares with
  SLUICE_SANITIZED   "1" when SLUICED is an ASan/UBSan build: longer deadlines,
                     and every broker log is checked for sanitizer reports
  SLUICE_KAFKA_HOME  where install-deps.sh put Kafka (default <repo>/.cache/kafka)
  SLUICE_EXTRA_CONFIG  extra broker properties for every broker, "k=v" separated
                     by newlines or ';'

Listeners: a Broker has one PLAINTEXT listener unless given `listeners` (e.g.
["SSL"], or ["PLAINTEXT", "SSL"]); SSL listeners need `tls`, the TlsClient its
readiness probe connects with. The client helpers take `tls=` too.

Nothing here sleeps a fixed time: every wait is a condition with a deadline.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, TypeVar

REPO = Path(__file__).resolve().parents[2]
SLUICED = Path(os.environ.get("SLUICED") or REPO / "build" / "sluiced")
SLUICE_CLI = Path(os.environ.get("SLUICE_CLI") or SLUICED.parent / "sluice")
TARGET = os.environ.get("SLUICE_TARGET", "sluice")
SANITIZED = os.environ.get("SLUICE_SANITIZED") == "1"
KAFKA_HOME = Path(os.environ.get("SLUICE_KAFKA_HOME") or REPO / ".cache" / "kafka")
KAFKA_BIN = KAFKA_HOME / "bin"
KAFKA_TOOL = REPO / "scripts" / "kafka-tool"

# Deadlines scale with how slow the broker under test is.
SLOWDOWN = 3.0 if SANITIZED else 1.0
START_TIMEOUT = float(os.environ.get("SLUICE_START_TIMEOUT", 90 if TARGET == "kafka" else 30 * SLOWDOWN))
STOP_TIMEOUT = 30 * SLOWDOWN

SANITIZER_PATTERNS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
)

T = TypeVar("T")


# --------------------------------------------------------------------------
# waiting


def wait_for(cond: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Polls cond() until it returns something truthy (returned) or the deadline
    passes (AssertionError naming `what`). Exceptions from cond() count as not yet."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    while True:
        try:
            r = cond()
            if r:
                return r
        except Exception as e:  # noqa: BLE001 - reported below if it never succeeds
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:.0f}s waiting for {what}"
            if last_exc is not None:
                msg += f" (last error: {last_exc!r})"
            raise AssertionError(msg)
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# raw protocol: ApiVersions v0, the readiness probe


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def api_versions(host: str, port: int, timeout: float = 2.0,
                 ssl_context: Optional[ssl.SSLContext] = None) -> dict[int, tuple[int, int]]:
    """Sends ApiVersions v0 and returns {api_key: (min, max)}; raises on any
    connection or protocol problem, or a non-zero error code. With ssl_context,
    over TLS (server name `host`)."""
    corr = random.randrange(1, 2**31)
    client_id = b"sluice-harness"
    body = struct.pack(">hhih", 18, 0, corr, len(client_id)) + client_id
    with socket.create_connection((host, port), timeout=timeout) as raw:
        raw.settimeout(timeout)
        # wrap_socket takes over the descriptor; the TLS socket's `with` closes it.
        with ssl_context.wrap_socket(raw, server_hostname=host) if ssl_context else raw as s:
            s.sendall(struct.pack(">i", len(body)) + body)
            (size,) = struct.unpack(">i", _recv_exact(s, 4))
            if not 6 <= size <= 1 << 20:
                raise ValueError(f"ApiVersions response size {size}")
            resp = _recv_exact(s, size)
    rcorr, err, n = struct.unpack(">ihi", resp[:10])
    if rcorr != corr:
        raise ValueError(f"ApiVersions correlation id {rcorr}, sent {corr}")
    if err != 0:
        raise ValueError(f"ApiVersions error_code {err}")
    out = {}
    for i in range(n):
        k, lo, hi = struct.unpack(">hhh", resp[10 + 6 * i : 16 + 6 * i])
        out[k] = (lo, hi)
    return out


# --------------------------------------------------------------------------
# TLS: what a client needs to reach an SSL listener (tests/integration/pki.py makes them)


@dataclass(frozen=True)
class TlsClient:
    """A client's TLS settings: the CA it trusts (PEM, and as a Java PKCS#12
    trust store) and, for mutual TLS, its certificate and key (PEM with the key
    encrypted with `password`, and as a PKCS#12 key store). Server certificates
    are verified, host name (here the IP 127.0.0.1) included, by every client."""

    ca_pem: Path
    truststore_p12: Path
    password: str
    cert_pem: Optional[Path] = None
    key_pem: Optional[Path] = None
    keystore_p12: Optional[Path] = None
    name: str = "anonymous"

    def ssl_context(self) -> ssl.SSLContext:
        """Python's ssl: TLS 1.2 or 1.3, the CA, and the certificate if any."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=str(self.ca_pem))
        if self.cert_pem:
            ctx.load_cert_chain(str(self.cert_pem), str(self.key_pem), password=self.password)
        return ctx

    def librdkafka(self) -> dict[str, str]:
        """confluent-kafka and kcat (-X) properties."""
        c = {
            "security.protocol": "ssl",
            "ssl.ca.location": str(self.ca_pem),
            "ssl.endpoint.identification.algorithm": "https",
        }
        if self.cert_pem:
            c.update({
                "ssl.certificate.location": str(self.cert_pem),
                "ssl.key.location": str(self.key_pem),
                "ssl.key.password": self.password,
            })
        return c

    def kafka_python(self) -> dict[str, object]:
        c: dict[str, object] = {"security_protocol": "SSL", "ssl_cafile": str(self.ca_pem),
                                "ssl_check_hostname": True}
        if self.cert_pem:
            c.update({"ssl_certfile": str(self.cert_pem), "ssl_keyfile": str(self.key_pem),
                      "ssl_password": self.password})
        return c

    def java_properties(self) -> Path:
        """A client properties file for Kafka's Java tools (PKCS#12 stores),
        written next to the trust store."""
        lines = [
            "security.protocol=SSL",
            "ssl.truststore.type=PKCS12",
            f"ssl.truststore.location={self.truststore_p12}",
            f"ssl.truststore.password={self.password}",
        ]
        if self.keystore_p12:
            lines += [
                "ssl.keystore.type=PKCS12",
                f"ssl.keystore.location={self.keystore_p12}",
                f"ssl.keystore.password={self.password}",
                f"ssl.key.password={self.password}",
            ]
        path = self.truststore_p12.parent / f"java-client-{self.name}-{self.truststore_p12.stem}.properties"
        path.write_text("".join(_prop_escape(x) + "\n" for x in lines))
        return path


def _prop_escape(line: str) -> str:
    """A Java properties line with backslashes and line breaks escaped."""
    return line.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def only_on_sluice(why: str) -> None:
    """Skips the calling test when the target is Apache Kafka, for a Sluice-only
    feature (why: what Kafka lacks). Against Sluice it does nothing: such a test
    runs and must pass there, never skip."""
    if TARGET == "kafka":
        import pytest

        pytest.skip(f"not applicable to Apache Kafka: {why}")


def only_on_kafka(why: str) -> None:
    """Skips the calling test unless the target is Apache Kafka (why: what it
    checks that only Kafka can show, e.g. with its authorizer)."""
    if TARGET != "kafka":
        import pytest

        pytest.skip(f"Apache Kafka only: {why}")


def tls_refusal(host: str, port: int, ctx: ssl.SSLContext, timeout: float = 10 * SLOWDOWN) -> str:
    """Connects over TLS expecting the broker to refuse this client, and returns
    how: the reason of the TLS alert received, as OpenSSL names it (e.g.
    "TLSV1_ALERT_UNKNOWN_CA"), "eof" (closed without an alert) or "reset".
    Fails if the broker answers ApiVersions instead, or neither refuses nor
    answers by the deadline.

    TLS 1.3 finishes the client's side of the handshake before the server has
    judged the client's certificate: so after it, this first waits (up to the
    deadline) for the server's verdict without writing, so that a refusal alert
    is not lost to a reset caused by data the server never read."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                version = s.version()
                try:
                    data = s.recv(1)
                except socket.timeout:
                    data = None
                if data == b"":
                    return "eof"
                # No verdict by the deadline: is it serving this client?
                corr = random.randrange(1, 2**31)
                body = struct.pack(">hhih", 18, 0, corr, 4) + b"tls?"
                s.sendall(struct.pack(">i", len(body)) + body)
                head = (data or b"") + _recv_exact(s, 4 - len(data or b""))
                raise AssertionError(
                    f"TLS client not refused: handshake done ({version}), then "
                    + ("the broker sent data unasked" if data else f"ApiVersions answered ({head.hex()}...)"))
    except ssl.SSLEOFError:
        return "eof"
    except ssl.SSLError as e:
        return e.reason or str(e)
    except ConnectionResetError:
        return "reset"
    except ConnectionError as e:
        if "connection closed" in str(e):
            return "eof"
        raise
    except socket.timeout:
        raise AssertionError(f"TLS connection to {host}:{port} neither refused nor served within {timeout:.0f}s")


# --------------------------------------------------------------------------
# the broker


def _extra_config_from_env() -> dict[str, str]:
    raw = os.environ.get("SLUICE_EXTRA_CONFIG", "")
    out = {}
    for item in re.split(r"[;\n]", raw):
        item = item.strip()
        if item:
            k, _, v = item.partition("=")
            out[k.strip()] = v.strip()
    return out


def kafka_cluster_id(random_uuid=uuid.uuid4) -> str:
    """A cluster id for `kafka-storage format`, drawn like Kafka's
    Uuid.randomUuid: never one that starts with '-', which the tool's argument
    parser would read as an option (1 draw in 64)."""
    while True:
        cid = base64.urlsafe_b64encode(random_uuid().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class BrokerError(AssertionError):
    pass


class Broker:
    """One broker process on 127.0.0.1:port with its own data directory.

    start() / stop() (SIGTERM) / kill() (SIGKILL) / start() again reuses the
    same data directory and port. Its stderr (and stdout) go to `log_path`,
    appended across restarts with a marker line per start.

    listeners: listener names, each either NAME whose security protocol is the
    same word (PLAINTEXT or SSL) or a (NAME, PROTOCOL) pair; default one
    PLAINTEXT. The first is on `port` (`bootstrap`), each other on a port of its
    own (`ports[NAME]`, `bootstrap_of(NAME)`). A listener other than the single
    default PLAINTEXT one also writes listener.security.protocol.map. The
    ssl.* keys come from `config` like any other. tls: the TlsClient the
    readiness probe uses on SSL listeners."""

    def __init__(
        self,
        workdir: Path | str,
        config: Optional[dict[str, object]] = None,
        port: Optional[int] = None,
        target: str = TARGET,
        binary: Optional[Path] = None,
        listeners: Optional[Iterable[str | tuple[str, str]]] = None,
        tls: Optional[TlsClient] = None,
    ):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.config_path = self.workdir / "broker.properties"
        self.log_path = self.workdir / "broker.log"
        self.target = target
        self.binary = Path(binary) if binary else SLUICED
        self.port = port or free_port()
        ls = [(x, x) if isinstance(x, str) else tuple(x) for x in (listeners or ["PLAINTEXT"])]
        names = [n.upper() for n, _ in ls]
        if len(set(names)) != len(names) or "CONTROLLER" in names:
            raise ValueError(f"listener names {names}: must be distinct, and not CONTROLLER")
        self.listeners: list[tuple[str, str]] = [(n.upper(), p.upper()) for n, p in ls]
        self.ports: dict[str, int] = {n: (self.port if i == 0 else free_port())
                                      for i, (n, _) in enumerate(self.listeners)}
        self.tls = tls
        self.controller_port = free_port() if target == "kafka" else None
        self.extra = {k: str(v) for k, v in (config or {}).items()}
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0
        self.exits: list[int] = []  # return codes of earlier runs, in order
        self._stopping = False  # the test stopped or killed it on purpose
        self._formatted = False
        # Extra arguments of `kafka-storage format` (Kafka only), e.g.
        # ["--add-scram", "SCRAM-SHA-512=[name=admin,password=...]"].
        self.kafka_format_args: list[str] = []

    # -- facts
    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def bootstrap_of(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener.upper()]}"

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def config(self) -> dict[str, str]:
        listener = ",".join(f"{n}://127.0.0.1:{self.ports[n]}" for n, _ in self.listeners)
        protomap = ",".join(f"{n}:{p}" for n, p in self.listeners)
        if self.target == "kafka":
            cp = self.controller_port
            base = {
                "process.roles": "broker,controller",
                "node.id": "1",
                "controller.quorum.voters": f"1@127.0.0.1:{cp}",
                "listeners": f"{listener},CONTROLLER://127.0.0.1:{cp}",
                "advertised.listeners": listener,
                "controller.listener.names": "CONTROLLER",
                "listener.security.protocol.map": f"{protomap},CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name": self.listeners[0][0],
                "log.dirs": str(self.data_dir / "kafka-logs"),
                "offsets.topic.replication.factor": "1",
                "transaction.state.log.replication.factor": "1",
                "transaction.state.log.min.isr": "1",
                "share.coordinator.state.topic.replication.factor": "1",
                "share.coordinator.state.topic.min.isr": "1",
                "group.initial.rebalance.delay.ms": "0",
                "num.partitions": "1",
            }
        else:
            base = {
                "listeners": listener,
                "advertised.listeners": listener,
                "node.id": "1",
                "num.partitions": "1",
                # Tests of other features run as Kafka does without an
                # authorizer; authorization tests set this to "false" (the
                # broker's default) and grant what they need with ACLs.
                "allow.everyone.if.no.acl.found": "true",
            }
            if self.listeners != [("PLAINTEXT", "PLAINTEXT")]:
                base["listener.security.protocol.map"] = protomap
        base.update(_extra_config_from_env())
        base.update(self.extra)
        # Sluice refuses a weakened set-up unless told to accept it (issue 10):
        # the harness's allow.everyone default is one, so it says so; tests
        # that weaken something else (encryption or audit off) say so themselves.
        if (self.target == "sluice" and base.get("allow.everyone.if.no.acl.found") == "true"
                and "sluice.allow.insecure" not in base):
            base["sluice.allow.insecure"] = "true"
        return base

    def _write_config(self) -> None:
        lines = ["# written by tests/integration/sluice_harness.py"]
        lines += [_prop_escape(f"{k}={v}") for k, v in self.config().items()]
        self.config_path.write_text("\n".join(lines) + "\n")

    def _command(self) -> list[str]:
        if self.target == "kafka":
            return [str(KAFKA_TOOL), "kafka-server-start", str(self.config_path)]
        return [str(self.binary), "--config", str(self.config_path), "--data-dir", str(self.data_dir)]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if SANITIZED:
            env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:halt_on_error=1")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if self.target == "kafka":
            env.setdefault("KAFKA_HEAP_OPTS", "-Xmx1G -Xms512M")
            env["SLUICE_KAFKA_HOME"] = str(KAFKA_HOME)
        return env

    def _format_kafka(self) -> None:
        if self._formatted or (self.data_dir / "kafka-logs" / "meta.properties").exists():
            self._formatted = True
            return
        r = subprocess.run(
            [str(KAFKA_TOOL), "kafka-storage", "format", f"--cluster-id={kafka_cluster_id()}",
             "-c", str(self.config_path),
             *self.kafka_format_args],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=120, env=self._env(),
        )
        if r.returncode != 0:
            raise BrokerError(f"kafka-storage format failed: {r.stdout.decode()} {r.stderr.decode()}")
        self._formatted = True

    # -- lifecycle
    def start(self, timeout: float = START_TIMEOUT) -> "Broker":
        if self.running():
            raise BrokerError("start(): broker already running")
        if self.target == "sluice" and not os.access(self.binary, os.X_OK):
            raise BrokerError(f"broker binary {self.binary} missing or not executable (run `make build`)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        if self.target == "kafka":
            self._format_kafka()
        self.starts += 1
        self._stopping = False
        with open(self.log_path, "ab") as log:
            log.write(f"=== harness: start #{self.starts}: {' '.join(self._command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self._env(), start_new_session=True,
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until every listener accepts a connection and ApiVersions gets a good
        reply (over TLS with `tls` on an SSL listener)."""
        ctx = None
        if any(p in ("SSL", "SASL_SSL") for _, p in self.listeners):
            if self.tls is None:
                raise BrokerError("an SSL listener needs Broker(tls=...) for the readiness probe")
            ctx = self.tls.ssl_context()

        def ready() -> bool:
            if self.proc is None or self.proc.poll() is not None:
                raise BrokerError(
                    f"broker exited with code {self.proc.returncode if self.proc else None} while starting\n"
                    + self.log_tail()
                )
            for n, p in self.listeners:
                api_versions(self.host, self.ports[n], timeout=2.0, ssl_context=ctx if p in ("SSL", "SASL_SSL") else None)
            return True

        deadline = time.monotonic() + timeout
        last: Optional[BaseException] = None
        while True:
            try:
                ready()
                return
            except BrokerError:
                raise
            except Exception as e:  # noqa: BLE001
                last = e
            if time.monotonic() >= deadline:
                self.kill()
                raise BrokerError(
                    f"broker not ready on {self.bootstrap} after {timeout:.0f}s (last probe: {last!r})\n"
                    + self.log_tail()
                )
            time.sleep(0.05)

    def _reap(self, timeout: float) -> Optional[int]:
        assert self.proc is not None
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.exits.append(rc)
        return rc

    def stop(self, timeout: float = STOP_TIMEOUT, check: bool = True) -> int:
        """SIGTERM and wait. With check, a non-clean exit (non-zero, other than
        the JVM's 143 for the Kafka reference) or a hang is an error."""
        if self.proc is None or self.proc.poll() is not None:
            raise BrokerError(
                f"stop(): broker is not running (exit code {self.proc.returncode if self.proc else None})\n"
                + self.log_tail()
            )
        self._stopping = True
        self.proc.send_signal(signal.SIGTERM)
        rc = self._reap(timeout)
        if rc is None:
            self.proc.kill()
            self._reap(10)
            raise BrokerError(f"broker did not exit within {timeout:.0f}s of SIGTERM\n" + self.log_tail())
        ok = rc == 0 or (self.target == "kafka" and rc == 143)
        if check and not ok:
            raise BrokerError(f"broker exited with code {rc} after SIGTERM\n" + self.log_tail())
        return rc

    def kill(self) -> None:
        """SIGKILL (a crash as far as the broker can tell) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self._stopping = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the JVM under kafka-tool too
            except ProcessLookupError:
                pass
            self._reap(30)

    def restart(self, timeout: float = START_TIMEOUT) -> "Broker":
        self.stop()
        return self.start(timeout)

    # -- inspection
    def log_text(self) -> str:
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        tail = self.log_text().splitlines()[-lines:]
        return f"--- last {len(tail)} lines of {self.log_path} ---\n" + "\n".join(tail)

    def sanitizer_reports(self) -> list[str]:
        return [ln for ln in self.log_text().splitlines() if any(p in ln for p in SANITIZER_PATTERNS)]

    def check_alive(self) -> None:
        if self.proc is None:
            raise BrokerError("broker was never started")
        if self.proc.poll() is not None:
            raise BrokerError(f"broker died unexpectedly (exit code {self.proc.returncode})\n" + self.log_tail())

    def finish(self) -> None:
        """Fixture teardown: the broker must still be running unless the test
        stopped it; it must then stop cleanly; a sanitized build must have
        reported nothing."""
        problems = []
        if self.proc is not None:
            if self.proc.poll() is not None and not self._stopping:
                self._stopping = True
                problems.append(f"broker died unexpectedly (exit code {self.proc.returncode})")
            elif self.running():
                try:
                    self.stop()
                except BrokerError as e:
                    problems.append(str(e).splitlines()[0])
        if SANITIZED:
            reports = self.sanitizer_reports()
            if reports:
                problems.append("sanitizer reports in the broker log:\n  " + "\n  ".join(reports[:20]))
        if problems:
            raise BrokerError("\n".join(problems) + "\n" + self.log_tail(100))


# --------------------------------------------------------------------------
# external tools


class ToolError(AssertionError):
    pass


def _tail(b: bytes, n: int = 3000) -> str:
    s = b.decode("utf-8", "replace") if isinstance(b, (bytes, bytearray)) else str(b or "")
    return s if len(s) <= n else "..." + s[-n:]


def run(
    argv: list[str],
    *,
    input: bytes | None = None,
    stdin_path: Path | None = None,
    timeout: float = 120,
    check: bool = True,
    env: Optional[dict[str, str]] = None,
) -> subprocess.CompletedProcess:
    """Runs argv to completion with a deadline; raises ToolError (with the
    output's tail) on timeout, or on a non-zero exit when check."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    stdin = open(stdin_path, "rb") if stdin_path else (subprocess.PIPE if input is not None else subprocess.DEVNULL)
    try:
        p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=full_env, start_new_session=True)
        try:
            out, err = p.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            raise ToolError(
                f"{' '.join(argv[:3])}... timed out after {timeout:.0f}s\nstderr: {_tail(err)}\nstdout: {_tail(out, 1000)}"
            )
    finally:
        if stdin_path:
            stdin.close()
    r = subprocess.CompletedProcess(argv, p.returncode, out, err)
    if check and r.returncode != 0:
        raise ToolError(
            f"{' '.join(argv)} exited with {r.returncode}\nstderr: {_tail(err)}\nstdout: {_tail(out, 1000)}"
        )
    return r


def audit_lines(audit_dir: Path) -> list[bytes]:
    """Every line of the audit files in audit_dir (a broker's <data>/audit), in order."""
    return [line for f in sorted(Path(audit_dir).glob("audit-*.jsonl"))
            for line in f.read_bytes().split(b"\n") if line]


def audit_records(audit_dir: Path, skip_unparsable: bool = False) -> list[dict]:
    """The audit records in audit_dir, parsed. skip_unparsable drops a line
    that is not JSON (a record cut by a full disk) instead of failing."""
    out = []
    for line in audit_lines(audit_dir):
        try:
            out.append(json.loads(line))
        except ValueError:
            if not skip_unparsable:
                raise
    return out


def sluice_cli(*args: str, input: bytes | None = None, check: bool = True, timeout: float = 60,
               **kw) -> subprocess.CompletedProcess:
    """Runs the admin CLI (SLUICE_CLI) with a deadline; with check, a
    non-zero exit raises ToolError. Under ASan its own leaks and errors fail
    it too (same options as the broker)."""
    if not os.access(SLUICE_CLI, os.X_OK):
        raise ToolError(f"CLI binary {SLUICE_CLI} missing or not executable (run `make build`)")
    env = {}
    if SANITIZED:
        env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1:halt_on_error=1",
               "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    r = run([str(SLUICE_CLI), *args], input=input, check=check, timeout=timeout * SLOWDOWN, env=env, **kw)
    if SANITIZED and any(p.encode() in r.stderr for p in SANITIZER_PATTERNS):
        raise ToolError(f"sanitizer report from sluice {' '.join(args[:2])}:\n{_tail(r.stderr)}")
    return r


def kafka_tool(name: str, *args: str, timeout: float = 180, **kw) -> subprocess.CompletedProcess:
    """Runs one of Kafka's CLI tools (e.g. "kafka-topics") from .cache/kafka/bin."""
    script = KAFKA_BIN / f"{name}.sh"
    if not script.exists():
        raise ToolError(f"{script} missing: run scripts/install-deps.sh all")
    return run([str(script), *args], timeout=timeout, **kw)


def set_scram_user(bootstrap: str, user: str, password: str, mechs: Iterable[str] = ("SCRAM-SHA-512",),
                   iterations: int = 4096, command_config: Optional[Path] = None) -> None:
    """Creates (or changes) a user's SCRAM credentials the way Kafka's users do: kafka-configs
    --alter --add-config (through command_config, a client properties file, when given)."""
    spec = ",".join(f"{m}=[iterations={iterations},password={password}]" for m in mechs)
    cc = ["--command-config", str(command_config)] if command_config else []
    r = kafka_tool("kafka-configs", "--bootstrap-server", bootstrap, *cc, "--alter", "--add-config", spec,
                   "--entity-type", "users", "--entity-name", user)
    assert b"Completed updating config for user" in r.stdout, r.stdout + r.stderr


def kcat(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return run(["kcat", *args], timeout=timeout, **kw)


# --------------------------------------------------------------------------
# admin through confluent-kafka


def admin_client(bootstrap: str, tls: Optional[TlsClient] = None):
    from confluent_kafka.admin import AdminClient

    conf = {"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000}
    conf.update(tls.librdkafka() if tls else {})
    return AdminClient(conf)


def topic_partitions(bootstrap: str, topic: Optional[str] = None, timeout: float = 10,
                     tls: Optional[TlsClient] = None) -> dict[str, dict[int, int]]:
    """Metadata: {topic: {partition: leader}} (all topics, or just `topic`)."""
    md = admin_client(bootstrap, tls).list_topics(topic=topic, timeout=timeout)
    out = {}
    for name, t in md.topics.items():
        if t.error is not None:
            continue
        out[name] = {p.id: p.leader for p in t.partitions.values()}
    return out


def create_topic(bootstrap: str, name: str, partitions: int = 1, config: Optional[dict] = None,
                 timeout: float = 30, tls: Optional[TlsClient] = None) -> None:
    """CreateTopics via confluent-kafka's AdminClient, then waits until Metadata
    shows every partition with a leader."""
    from confluent_kafka.admin import NewTopic

    a = admin_client(bootstrap, tls)
    fut = a.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=dict(config or {}))],
        operation_timeout=timeout, request_timeout=timeout,
    )
    fut[name].result(timeout=timeout)
    wait_for_topic(bootstrap, name, partitions, timeout, tls=tls)


def wait_for_topic(bootstrap: str, name: str, partitions: int, timeout: float = 30,
                   tls: Optional[TlsClient] = None) -> None:
    def ok():
        parts = topic_partitions(bootstrap, name, tls=tls).get(name, {})
        return len(parts) == partitions and all(leader >= 0 for leader in parts.values())

    wait_for(ok, timeout, f"topic {name} with {partitions} partitions and leaders in Metadata")


# --------------------------------------------------------------------------
# records: deterministic payloads and checking what came back


@dataclass(frozen=True)
class Rec:
    key: bytes
    value: bytes
    headers: tuple[tuple[str, Optional[bytes]], ...] = field(default_factory=tuple)
    partition: Optional[int] = None  # where the producer was told to put it (None: its partitioner)


def record_id(value: bytes) -> int:
    """Every generated value starts with b"#<index>|"."""
    if not value.startswith(b"#"):
        raise ValueError(f"value without an id prefix: {value[:40]!r}")
    return int(value[1 : value.index(b"|")])


_TEXT_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=+/@äöüßéñ€中文"


def make_records(
    n: int,
    seed: int,
    partitions: Optional[int] = None,
    *,
    text: bool = False,
    forbid: bytes = b"",
    header_values_text: bool = False,
    max_value: int = 400,
) -> list[Rec]:
    """n distinct records: keys and values of varying length, 1-3 headers each
    (repeated header keys included, as Kafka allows). Binary content uses every
    byte value except those in `forbid` (for line-oriented tools); text=True
    gives printable UTF-8 without tabs, commas, colons or newlines.
    With `partitions`, record i is assigned partition i % partitions."""
    rng = random.Random(seed)
    table = bytes(b if bytes([b]) not in forbid else 0x41 + (b % 26) for b in range(256))

    def blob(lo: int, hi: int, textual: bool) -> bytes:
        k = rng.randint(lo, hi)
        if textual:
            return "".join(rng.choices(_TEXT_ALPHABET, k=k)).encode()
        raw = rng.randbytes(k)
        if forbid:
            raw = raw.translate(table)
        return raw

    out = []
    for i in range(n):
        key = f"k{i % 977}:".encode() + blob(0, 24, text)
        value = f"#{i}|".encode() + blob(0, max_value, text)
        hs = []
        for j in range(rng.randint(1, 3)):
            hk = rng.choice(["trace", "src", "seq", "x-bin", "trace"])
            hv = f"{i}.{j}".encode() + blob(0, 16, text or header_values_text)
            hs.append((hk, hv))
        out.append(Rec(key, value, tuple(hs), (i % partitions) if partitions else None))
    return out


@dataclass
class Got:
    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    headers: tuple[tuple[str, Optional[bytes]], ...]


def check_consumed(
    produced: list[Rec],
    consumed: Iterable[Got],
    partitions: int,
    *,
    check_headers: bool = True,
    expect_partition: bool = True,
) -> None:
    """Every produced record came back exactly once, byte for byte; per
    partition, offsets are 0,1,2,... and records are in produce order; where
    the producer chose the partition, the record is there."""
    by_part: dict[int, list[Got]] = {p: [] for p in range(partitions)}
    for g in consumed:
        if g.partition not in by_part:
            raise AssertionError(f"record from unexpected partition {g.partition}")
        by_part[g.partition].append(g)
    seen: dict[int, Got] = {}
    errors: list[str] = []
    for p, gots in by_part.items():
        offsets = [g.offset for g in gots]
        if offsets != list(range(len(gots))):
            bad = next(i for i, o in enumerate(offsets) if o != i)
            errors.append(f"partition {p}: offsets not contiguous from 0: index {bad} has offset {offsets[bad]}")
        last = -1
        for g in gots:
            try:
                rid = record_id(g.value or b"")
            except ValueError as e:
                errors.append(f"partition {p} offset {g.offset}: {e}")
                continue
            if rid in seen:
                errors.append(f"record #{rid} consumed twice (p{seen[rid].partition}@{seen[rid].offset} and p{p}@{g.offset})")
                continue
            seen[rid] = g
            if rid <= last:
                errors.append(f"partition {p} offset {g.offset}: record #{rid} after #{last} (out of produce order)")
            last = rid
            if not 0 <= rid < len(produced):
                errors.append(f"partition {p} offset {g.offset}: unknown record #{rid}")
                continue
            want = produced[rid]
            if expect_partition and want.partition is not None and want.partition != p:
                errors.append(f"record #{rid} in partition {p}, produced to {want.partition}")
            if g.key != want.key:
                errors.append(f"record #{rid} key differs: got {g.key[:60]!r}, want {want.key[:60]!r}")
            if g.value != want.value:
                errors.append(f"record #{rid} value differs: got {g.value[:60]!r}..., want {want.value[:60]!r}...")
            if check_headers and tuple(g.headers) != tuple(want.headers):
                errors.append(f"record #{rid} headers differ: got {g.headers!r}, want {want.headers!r}")
            if len(errors) > 20:
                break
    missing = len(produced) - len(seen)
    if missing:
        ids = [i for i in range(len(produced)) if i not in seen]
        errors.append(f"{missing} of {len(produced)} records missing, e.g. #{ids[:10]}")
    if errors:
        raise AssertionError(f"{len(errors)} problem(s) in consumed data:\n  " + "\n  ".join(errors[:25]))
    used = [p for p, g in by_part.items() if g]
    assert len(used) == partitions, f"records landed in partitions {used} only, expected all {partitions}"


# ==========================================================================
# Produce and consume with each real client the suite uses, in one shape:
#
#   produce_<client>(bootstrap, topic, records, workdir)  (asserts every send succeeded)
#   consume_<client>(bootstrap, topic, partitions, total, workdir) -> list[Got]
#
# Consumers use explicit partition assignment from the earliest offset (no
# consumer group), and stop once `total` records arrived or at a deadline.
# Producers run with enable.idempotence=false (the Java client is idempotent
# by default, which needs InitProducerId).
CONSUME_TIMEOUT = 180 * SLOWDOWN
PRODUCE_TIMEOUT = 300 * SLOWDOWN


# --------------------------------------------------------------------------
# Apache Kafka's Java CLI tools (line-oriented text)

JAVA_PRODUCER_PROPS = [
    "enable.idempotence=false",
    "acks=all",
    "linger.ms=20",
    "batch.size=262144",
    "max.in.flight.requests.per.connection=5",
]


def _java_line(r: Rec) -> bytes:
    assert not any(c in r.key + r.value for c in b"\t\n"), r
    assert not any(c in k.encode() + (v or b"") for k, v in r.headers for c in b"\t\n,:"), r
    hdrs = b",".join(k.encode() + b":" + (v or b"") for k, v in r.headers)
    return hdrs + b"\t" + r.key + b"\t" + r.value + b"\n"


def _java_client_config(flag: str, tls: Optional[TlsClient]) -> list[str]:
    """[flag, properties file] for a TLS client, else nothing."""
    return [flag, str(tls.java_properties())] if tls else []


def java_create_topic(bootstrap: str, topic: str, partitions: int, tls: Optional[TlsClient] = None) -> None:
    r = kafka_tool("kafka-topics", "--bootstrap-server", bootstrap, "--create", "--topic", topic,
                     "--partitions", str(partitions), "--replication-factor", "1",
                     *_java_client_config("--command-config", tls))
    assert f"Created topic {topic}" in r.stdout.decode(), r.stdout
    wait_for_topic(bootstrap, topic, partitions, tls=tls)


def produce_java(bootstrap: str, topic: str, records: list[Rec], workdir: Path,
                 tls: Optional[TlsClient] = None) -> None:
    assert all(r.partition is None for r in records), "the console producer cannot choose partitions"
    src = workdir / f"{topic}.java-in.txt"
    with open(src, "wb") as f:
        for r in records:
            f.write(_java_line(r))
    args = ["--bootstrap-server", bootstrap, "--topic", topic,
            "--property", "parse.key=true", "--property", "parse.headers=true"]
    for p in JAVA_PRODUCER_PROPS:
        args += ["--producer-property", p]
    args += _java_client_config("--producer.config", tls)
    r = kafka_tool("kafka-console-producer", *args, stdin_path=src, timeout=PRODUCE_TIMEOUT)
    # The console producer logs send failures but may still exit 0.
    err = r.stderr.decode("utf-8", "replace")
    assert "ERROR" not in err and "Exception" not in err, f"console producer reported errors:\n{err[-3000:]}"


def java_end_offsets(bootstrap: str, topic: str, tls: Optional[TlsClient] = None) -> dict[int, int]:
    r = kafka_tool("kafka-get-offsets", "--bootstrap-server", bootstrap, "--topic", topic, "--time", "-1",
                   *_java_client_config("--command-config", tls))
    out = {}
    for line in r.stdout.decode().split():
        t, p, o = line.rsplit(":", 2)
        assert t == topic, line
        out[int(p)] = int(o)
    return out


def consume_java(bootstrap: str, topic: str, partitions: int, total: int, workdir: Path,
                 tls: Optional[TlsClient] = None) -> list[Got]:
    ends = java_end_offsets(bootstrap, topic, tls)
    assert sorted(ends) == list(range(partitions)), f"kafka-get-offsets: {ends}"
    assert sum(ends.values()) == total, f"end offsets {ends} sum to {sum(ends.values())}, produced {total}"
    got: list[Got] = []
    for p in range(partitions):
        if ends[p] == 0:
            continue
        r = kafka_tool(
            "kafka-console-consumer", "--bootstrap-server", bootstrap, "--topic", topic,
            "--partition", str(p), "--offset", "earliest", "--max-messages", str(ends[p]),
            "--timeout-ms", str(int(60000 * SLOWDOWN)),
            "--property", "print.partition=true", "--property", "print.offset=true",
            "--property", "print.key=true", "--property", "print.headers=true",
            *_java_client_config("--consumer.config", tls),
            timeout=CONSUME_TIMEOUT,
        )
        for line in r.stdout.split(b"\n"):
            if not line:
                continue
            fields = line.split(b"\t")
            assert len(fields) == 5, f"unexpected console consumer line {line[:200]!r}"
            part, off, hdrs, key, value = fields
            headers = ()
            if hdrs != b"NO_HEADERS":
                headers = tuple(
                    (k.decode(), v) for k, _, v in (x.partition(b":") for x in hdrs.split(b","))
                )
            got.append(Got(int(part.split(b":")[1]), int(off.split(b":")[1]), key, value, headers))
    return got


# --------------------------------------------------------------------------
# confluent-kafka (librdkafka, bundled in the wheel)


def produce_confluent(bootstrap: str, topic: str, records: list[Rec], workdir: Optional[Path] = None,
                      extra: Optional[dict] = None, tls: Optional[TlsClient] = None) -> list[tuple[int, int]]:
    """Returns (partition, offset) of each record, from the delivery reports."""
    from confluent_kafka import Producer

    conf = {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": False,
        "acks": "all",
        "linger.ms": 10,
        "batch.num.messages": 10000,
        "queue.buffering.max.messages": 200000,
        "message.timeout.ms": int(120000 * SLOWDOWN),
    }
    conf.update(tls.librdkafka() if tls else {})
    conf.update(extra or {})
    p = Producer(conf)
    reports: list[Optional[tuple[int, int]]] = [None] * len(records)
    errors: list[str] = []

    def on_delivery(i):
        def cb(err, msg):
            if err is not None:
                errors.append(f"record #{i}: {err}")
            else:
                reports[i] = (msg.partition(), msg.offset())
        return cb

    deadline = time.monotonic() + PRODUCE_TIMEOUT
    for i, r in enumerate(records):
        kw = {} if r.partition is None else {"partition": r.partition}
        while True:
            try:
                p.produce(topic, key=r.key, value=r.value, headers=list(r.headers), on_delivery=on_delivery(i), **kw)
                break
            except BufferError:
                p.poll(0.05)
                assert time.monotonic() < deadline, "confluent-kafka: produce queue never drained"
        if i % 1000 == 0:
            p.poll(0)
    left = p.flush(max(1.0, deadline - time.monotonic()))
    assert left == 0, f"confluent-kafka: {left} records still undelivered at the deadline"
    assert not errors, f"{len(errors)} delivery errors, e.g. {errors[:5]}"
    assert all(x is not None for x in reports)
    return reports  # type: ignore[return-value]


def consume_confluent(bootstrap: str, topic: str, partitions: int, total: int,
                      workdir: Optional[Path] = None, extra: Optional[dict] = None,
                      tls: Optional[TlsClient] = None) -> list[Got]:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": "sluice-test-unused",  # required by the client; assign() never joins it
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "fetch.message.max.bytes": 1 << 20,
    }
    conf.update(tls.librdkafka() if tls else {})
    conf.update(extra or {})
    c = Consumer(conf)
    got: list[Got] = []
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        deadline = time.monotonic() + CONSUME_TIMEOUT
        while len(got) < total:
            assert time.monotonic() < deadline, f"confluent-kafka: {len(got)} of {total} records by the deadline"
            for m in c.consume(num_messages=5000, timeout=0.5):
                if m.error() is not None:
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise AssertionError(f"confluent-kafka consumer error: {m.error()}")
                got.append(Got(m.partition(), m.offset(), m.key(), m.value(), tuple(m.headers() or ())))
    finally:
        c.close()
    return got


# --------------------------------------------------------------------------
# kafka-python (pure Python)


def produce_kafka_python(bootstrap: str, topic: str, records: list[Rec], workdir: Optional[Path] = None,
                         tls: Optional[TlsClient] = None) -> list[tuple[int, int]]:
    from kafka import KafkaProducer

    p = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,
        linger_ms=10,
        batch_size=256 * 1024,
        request_timeout_ms=int(60000 * SLOWDOWN),
        delivery_timeout_ms=int(120000 * SLOWDOWN) + 60000,
        max_block_ms=int(60000 * SLOWDOWN),
        **(tls.kafka_python() if tls else {}),
    )
    futs = []
    try:
        for r in records:
            futs.append(p.send(topic, key=r.key, value=r.value, headers=list(r.headers), partition=r.partition))
        p.flush(timeout=PRODUCE_TIMEOUT)
        out = []
        for i, f in enumerate(futs):
            md = f.get(timeout=10)
            out.append((md.partition, md.offset))
    finally:
        p.close(timeout=10)
    return out


def consume_kafka_python(bootstrap: str, topic: str, partitions: int, total: int,
                         workdir: Optional[Path] = None, tls: Optional[TlsClient] = None) -> list[Got]:
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=1 << 20,
        request_timeout_ms=int(30000 * SLOWDOWN),
        **(tls.kafka_python() if tls else {}),
    )
    got: list[Got] = []
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        deadline = time.monotonic() + CONSUME_TIMEOUT
        while len(got) < total:
            assert time.monotonic() < deadline, f"kafka-python: {len(got)} of {total} records by the deadline"
            for tp, msgs in c.poll(timeout_ms=500, max_records=10000).items():
                for m in msgs:
                    got.append(Got(m.partition, m.offset, m.key, m.value, tuple(m.headers or ())))
    finally:
        c.close()
    return got


# --------------------------------------------------------------------------
# kcat (Debian's, librdkafka 2.0.2): lines in, one fixed header set for all records

KCAT_HEADERS = (("trace", b"kcat-1"), ("src", b"kcat"), ("trace", b"kcat-2"))
KCAT_FORBID = b"\n\t"


def _kcat_x(props: dict) -> list[str]:
    """librdkafka properties as kcat's -X arguments."""
    return [a for k, v in props.items() for a in ("-X", f"{k}={v}")]


def _kcat_tls(tls: Optional[TlsClient]) -> list[str]:
    return _kcat_x(tls.librdkafka() if tls else {})


def produce_kcat(bootstrap: str, topic: str, records: list[Rec], workdir: Path,
                 tls: Optional[TlsClient] = None) -> None:
    src = workdir / f"{topic}.kcat-in.bin"
    with open(src, "wb") as f:
        for r in records:
            assert r.headers == KCAT_HEADERS, "kcat sends one header set for all records"
            assert not any(c in r.key + r.value for c in KCAT_FORBID), r
            f.write(r.key + b"\t" + r.value + b"\n")
    args = ["-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-z", "none",
            "-X", "acks=all", "-X", "enable.idempotence=false", "-X", "linger.ms=10",
            "-X", "batch.num.messages=10000", "-X", "queue.buffering.max.messages=200000",
            *_kcat_tls(tls)]
    parts = {r.partition for r in records}
    if parts != {None}:
        assert len(parts) == 1, "kcat: one partition per run"
        args += ["-p", str(parts.pop())]
    for k, v in KCAT_HEADERS:
        args += ["-H", f"{k}={v.decode()}"]
    r = kcat(*args, stdin_path=src, timeout=PRODUCE_TIMEOUT)
    err = r.stderr.decode("utf-8", "replace")
    assert "ERROR" not in err and "fail" not in err.lower(), f"kcat producer reported errors:\n{err[-3000:]}"


def _parse_kcat(out: bytes) -> list[Got]:
    # Format "R<p> <o> <keylen> <valuelen> <headers>\n<key><value>\n"
    got = []
    i = 0
    while i < len(out):
        nl = out.index(b"\n", i)
        head = out[i:nl]
        assert head.startswith(b"R"), f"kcat output out of step at byte {i}: {out[i:i+80]!r}"
        p, o, kl, vl, *rest = head[1:].split(b" ", 4)
        kl, vl = int(kl), int(vl)
        pos = nl + 1
        key = out[pos:pos + kl] if kl >= 0 else None
        pos += max(kl, 0)
        value = out[pos:pos + vl] if vl >= 0 else None
        pos += max(vl, 0)
        assert out[pos:pos + 1] == b"\n", f"kcat record p{p.decode()}@{o.decode()} not terminated"
        headers = ()
        if rest and rest[0]:
            headers = tuple((k.decode(), v) for k, _, v in (x.partition(b"=") for x in rest[0].split(b",")))
        got.append(Got(int(p), int(o), key, value, headers))
        i = pos + 1
    return got


def consume_kcat(bootstrap: str, topic: str, partitions: int, total: int, workdir: Optional[Path] = None,
                 tls: Optional[TlsClient] = None, extra: Optional[dict] = None) -> list[Got]:
    """extra: more librdkafka properties (-X), e.g. SASL's."""
    got: list[Got] = []
    for p in range(partitions):
        r = kcat("-C", "-b", bootstrap, "-t", topic, "-p", str(p), "-o", "beginning", "-e", "-q",
                   "-f", "R%p %o %K %S %h\n%k%s\n", *_kcat_tls(tls), *_kcat_x(extra or {}), timeout=CONSUME_TIMEOUT)
        got += _parse_kcat(r.stdout)
    assert len(got) == total, f"kcat consumed {len(got)} records, expected {total}"
    return got


def end_offsets(bootstrap: str, topic: str, partitions: int, timeout: float = 10) -> dict[int, int]:
    """High watermark of each partition (ListOffsets latest), via confluent-kafka."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "sluice-test-unused", "enable.auto.commit": False})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1] for p in range(partitions)}
    finally:
        c.close()


def consume_all_confluent(bootstrap: str, topic: str, partitions: int) -> dict[int, list[Got]]:
    """Everything up to the current high watermarks, by partition; asserts
    offsets run 0, 1, 2, ... up to the watermark with no gap."""
    ends = end_offsets(bootstrap, topic, partitions)
    got = consume_confluent(bootstrap, topic, partitions, sum(ends.values()))
    by_part: dict[int, list[Got]] = {p: [] for p in range(partitions)}
    for g in got:
        by_part[g.partition].append(g)
    for p, gs in by_part.items():
        offs = [g.offset for g in gs]
        assert offs == list(range(ends[p])), (
            f"{topic}/{p}: consumed offsets are not 0..{ends[p] - 1} "
            f"(got {len(offs)} records, first/last {offs[:1]}/{offs[-1:]})"
        )
    return by_part


# ---- a small real filesystem that fills up (audit fail-closed tests) ----

@contextlib.contextmanager
def small_fs(path: Path, size: str = "2m"):
    """A tmpfs of size mounted at path for the block (root only: CI runs as root)."""
    if os.geteuid() != 0:
        import pytest
        pytest.fail("this test mounts a tmpfs: run it as root (CI does)")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                   check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_fs(fs: Path) -> Path:
    """Writes fs/filler until the filesystem is full; returns its path. A writer
    with a file open there is not told: its next write fails, or the one after,
    when the last page of its file still had room."""
    f = fs / "filler"
    with open(f, "wb", buffering=0) as out:  # unbuffered: nothing left to flush at close
        for size in (65536, 1024):
            with contextlib.suppress(OSError):
                while out.write(b"\0" * size) == size:
                    pass
    return f


# ---- sealed files (encryption at rest, docs/ENCRYPTION.md "File format") ----

SEALED_HDR = 128


SEALED_FRAME_HDR = 32  # "SLFR", length, logical position, nonce, CRC-32C
SEALED_TAG = 16


def sealed_frames(path: Path) -> list[tuple[int, int, int]]:
    """(physical position, plaintext length, logical position) of each frame of a sealed file;
    asserts the file walks as frames to its last byte."""
    data = path.read_bytes()
    assert data[:8] == b"SLUICEAE", f"{path}: not a sealed file"
    out, pos = [], SEALED_HDR
    while pos + SEALED_FRAME_HDR <= len(data):
        magic, n, lpos = struct.unpack(">IIQ", data[pos:pos + 16])
        assert magic == 0x534C4652, f"{path}: bad frame magic at {pos}"
        out.append((pos, n, lpos))
        pos += SEALED_FRAME_HDR + n + SEALED_TAG
    assert pos == len(data), f"{path}: {len(data) - pos} stray bytes"
    return out


def flip_byte(path: Path, at: int) -> None:
    """Flips one bit of the byte at position `at` of a file, in place."""
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x40]))


def audit_integrity(b: "Broker") -> list[dict]:
    """The data of every io.sluice.storage.integrity record in b's audit log so far."""
    return [r["data"] for r in audit_records(b.data_dir / "audit")
            if r["type"] == "io.sluice.storage.integrity"]


def start_fails(b: "Broker", *needles: str) -> str:
    """Starting b must fail (the process exits) and its log must contain every needle; returns
    the log of that start."""
    import pytest
    before = len(b.log_text())
    with pytest.raises(BrokerError):
        b.start()
    b._stopping = True  # the harness must not report the expected exit as a crash
    text = b.log_text()[before:]
    for n in needles:
        assert n in text, f"expected {n!r} in the broker log:\n{text[-3000:]}"
    return text


def sealed_kek_version(path: Path) -> int:
    """The KEK version of a sealed file's valid key slot with the highest sequence number
    (0: none, e.g. both slots shredded)."""
    import kwire
    hdr = path.read_bytes()[:SEALED_HDR]
    best = (0, 0)
    for at in (16, 68):
        seq, ver = struct.unpack(">II", hdr[at:at + 8])
        (crc,) = struct.unpack(">I", hdr[at + 48:at + 52])
        if seq and crc == kwire.crc32c(hdr[at:at + 48]) and seq > best[0]:
            best = (seq, ver)
    return best[1]
