# SPDX-License-Identifier: Apache-2.0
"""SASL re-authentication (KIP-368) with Kafka's Java client (issue 5, test 4).

A real KafkaProducer (kafka-clients from .cache/kafka/libs, driven by
java/ReauthProducer.java, which sends one record every 20 ms and prints every
send, acknowledgement and error with its time) over SASL_SSL with
SCRAM-SHA-512 against a broker with connections.max.reauth.ms=1500:

  * it keeps producing across at least three re-authentications, all on the
    connection it produces on (no new connection, no expired session), and
    every record it sent arrives exactly once;
  * when its user is deleted, its next re-authentication fails on that same
    connection within one session lifetime, it gets no acknowledgement after
    that, and a second Java producer of another user in the same JVM keeps
    going (and re-authenticating) throughout.

The broker's log is the witness for the connection-level facts: it logs each
authentication and re-authentication with the connection id, each failure with
the connection id, and credential changes, all with millisecond time stamps
(the Java program prints epoch milliseconds, the same clock).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import sluice_harness as h

LIFETIME_MS = 1500
INTERVAL_MS = 20
MECH = "SCRAM-SHA-512"
JAVA_SRC = Path(__file__).resolve().parent / "java" / "ReauthProducer.java"
# Scheduling slack on top of the protocol's own bounds (a JVM, a sanitized
# broker and the test share two cores).
SLACK_MS = 500 * h.SLOWDOWN

# How long the program gives each producer to finish at the end: ample for a
# live connection; a producer whose user was deleted gives up after it.
CLOSE_MS = 3000 * h.SLOWDOWN

LOG_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z \S+\s+\[(\w+)\] (.*)$")


def _ms(stamp: str) -> int:
    t = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1000)


@dataclass
class AuthEvents:
    """What the broker log says about one user's SASL sessions."""
    auth: list[tuple[int, int]] = field(default_factory=list)     # (ms, conn) first authentications
    reauth: list[tuple[int, int]] = field(default_factory=list)   # (ms, conn) re-authentications
    failed: list[tuple[int, int]] = field(default_factory=list)   # (ms, conn) failed (re-)authentications
    expired: list[int] = field(default_factory=list)              # ms of "session expired" closes
    deleted: list[int] = field(default_factory=list)              # ms of credential deletions


def auth_events(b: h.Broker, user: str) -> AuthEvents:
    ev = AuthEvents()
    ok = re.compile(r"conn (\d+) from \S+ on \S+: (authenticated|re-authenticated) %s as User:%s( |$)"
                    % (MECH, re.escape(user)))
    bad = re.compile(r"conn (\d+) from \S+ on \S+: %s failed for '%s'" % (MECH, re.escape(user)))
    for line in b.log_text().splitlines():
        m = LOG_RE.match(line)
        if not m:
            continue
        t, msg = _ms(m.group(1)), m.group(3)
        if (x := ok.search(msg)):
            (ev.auth if x.group(2) == "authenticated" else ev.reauth).append((t, int(x.group(1))))
        elif (x := bad.search(msg)):
            ev.failed.append((t, int(x.group(1))))
        elif "SASL session expired" in msg and f"(User:{user})" in msg:
            ev.expired.append(t)
        elif f"deleted {MECH} credential of user '{user}'" in msg:
            ev.deleted.append(t)
    return ev


# --------------------------------------------------------------------------
# the broker and its users


@pytest.fixture(scope="module")
def rb(tmp_path_factory, pki):
    h.only_on_sluice("the test broker is configured with Sluice's SASL keys and read through its log")
    cfg = pki.broker_ssl_config(store="PKCS12", prefix="listener.name.sasl_ssl.")
    cfg.update({
        "super.users": "User:ANONYMOUS",  # the PLAINTEXT listener administers users and topics
        "sasl.enabled.mechanisms": MECH,
        "connections.max.reauth.ms": str(LIFETIME_MS),
        "connection.failed.authentication.delay.ms": "100",
    })
    b = h.Broker(tmp_path_factory.mktemp("reauth-java"), config=cfg,
                 listeners=["PLAINTEXT", "SASL_SSL"], tls=pki.client()).start()
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def alter_user(b: h.Broker, user: str, password: str | None) -> None:
    """kafka-configs over the PLAINTEXT listener (super user): add the user's
    SCRAM-SHA-512 credential, or delete it (password None)."""
    if password is None:
        op = ["--delete-config", MECH]
    else:
        op = ["--add-config", f"{MECH}=[iterations=4096,password={password}]"]
    r = h.kafka_tool("kafka-configs", "--bootstrap-server", b.bootstrap_of("PLAINTEXT"), "--alter", *op,
                     "--entity-type", "users", "--entity-name", user)
    assert b"Completed updating config for user" in r.stdout, r.stdout + r.stderr


def client_props(b: h.Broker, tmp: Path, pki, user: str, password: str) -> Path:
    tc = pki.client()
    p = tmp / f"{user}.properties"
    p.write_text("\n".join([
        f"bootstrap.servers={b.bootstrap_of('SASL_SSL')}",
        "security.protocol=SASL_SSL",
        f"sasl.mechanism={MECH}",
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{user}" password="{password}";',
        "ssl.truststore.type=PKCS12",
        f"ssl.truststore.location={tc.truststore_p12}",
        f"ssl.truststore.password={tc.password}",
        # Kafka's defaults otherwise (acks=all, idempotence on); a record every
        # 20 ms goes out on its own.
        "linger.ms=0",
        # send() must not block for a minute once the user is gone.
        "max.block.ms=5000",
    ]) + "\n")
    return p


# --------------------------------------------------------------------------
# the Java producer


@dataclass
class Event:
    kind: str
    label: str
    i: int
    ms: int
    rest: str


class JavaProducers:
    """java/ReauthProducer.java running one producer per (label, props, topic);
    stdout parsed as it arrives, stderr to a file."""

    def __init__(self, workdir: Path, specs: list[tuple[str, Path, str]]):
        self.err_path = workdir / "java-producer.stderr"
        self.events: list[Event] = []
        self.done: dict[str, tuple[int, int, int]] = {}
        self._lock = threading.Lock()
        argv = ["java", "-Xmx256m", "-cp", str(h.KAFKA_HOME / "libs" / "*"),
                "-Dlog4j2.configurationFile=" + str(h.REPO / "tools" / "kafka" / "log4j2-tools.properties"),
                "-Dkafka.tool.loglevel=WARN", str(JAVA_SRC), str(INTERVAL_MS), str(int(CLOSE_MS)),
                *[f"{lab}={props}={topic}" for lab, props, topic in specs]]
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err,
                                     start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            f = raw.decode("utf-8", "replace").rstrip("\n").split(" ", 4)
            with self._lock:
                if f[0] == "DONE":
                    self.done[f[1]] = (int(f[2]), int(f[3]), int(f[4]))
                elif f[0] in ("SENT", "ACK", "ERR"):
                    if f[0] == "ACK":  # ACK label i partition offset ms
                        g = f[4].split(" ")
                        self.events.append(Event("ACK", f[1], int(f[2]), int(g[1]), f"{f[3]} {g[0]}"))
                    else:              # SENT label i ms / ERR label i ms what
                        self.events.append(Event(f[0], f[1], int(f[2]), int(f[3]), f[4] if len(f) > 4 else ""))

    def of(self, kind: str, label: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.kind == kind and e.label == label]

    def stderr(self) -> str:
        return self.err_path.read_bytes().decode("utf-8", "replace")

    def exited(self) -> bool:
        return self.proc.poll() is not None

    def wait_for(self, cond, timeout: float, what: str) -> None:
        """h.wait_for(cond), but fails at once if the program exits early."""
        h.wait_for(lambda: self.exited() or cond(), timeout, what)
        if self.exited():
            raise AssertionError(f"Java producer exited with {self.proc.returncode} while waiting for "
                                 f"{what}:\n{self.stderr()[-3000:]}")

    def stop(self) -> None:
        """Closes stdin (the program's stop signal) and waits for it to finish."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            rc = self.proc.wait(timeout=60 * h.SLOWDOWN)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("Java producer did not finish within its deadline after stdin closed")
        self._reader.join(10)
        assert rc == 0, f"Java producer exited with {rc}:\n{self.stderr()[-3000:]}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._err.close()


def topic_values(b: h.Broker, topic: str) -> list[bytes]:
    """Every record value of the 1-partition topic, read over PLAINTEXT."""
    total = h.end_offsets(b.bootstrap_of("PLAINTEXT"), topic, 1)[0]
    got = h.consume_confluent(b.bootstrap_of("PLAINTEXT"), topic, 1, total)
    assert [g.offset for g in got] == list(range(total))
    return [g.value for g in got]


def producing_conn(ev: AuthEvents) -> int:
    """The connection whose session was renewed most: the one the producer
    writes on (the client's bootstrap connection falls idle after the first
    Metadata and is never re-authenticated)."""
    assert ev.reauth, "no re-authentication at all"
    conns = [c for _, c in ev.reauth]
    return max(set(conns), key=conns.count)


# --------------------------------------------------------------------------
# the tests


def test_java_producer_keeps_producing_across_reauthentications(rb, pki, tmp_path):
    user, topic = "dave", "reauth-java-dave"
    alter_user(rb, user, "dave-pw")
    h.create_topic(rb.bootstrap_of("PLAINTEXT"), topic, 1)
    jp = JavaProducers(tmp_path, [(user, client_props(rb, tmp_path, pki, user, "dave-pw"), topic)])
    try:
        # Three renewals of the producing connection's session, with records
        # acknowledged after the third.
        def three_reauths() -> bool:
            ev = auth_events(rb, user)
            if not ev.reauth:
                return False
            c = producing_conn(ev)
            times = [t for t, x in ev.reauth if x == c]
            return len(times) >= 3 and any(a.ms > times[2] for a in jp.of("ACK", user))

        jp.wait_for(three_reauths, (15 + 8 * LIFETIME_MS / 1000) * h.SLOWDOWN,
                   "three re-authentications of the Java producer's connection, then an acknowledgement")
        jp.stop()
    finally:
        jp.kill()

    errs = jp.of("ERR", user)
    assert not errs, f"{len(errs)} sends failed, e.g. {errs[:3]}\n{jp.stderr()[-3000:]}"
    sent, acked, failed = jp.done[user]
    assert sent == acked and failed == 0, jp.done
    assert "ERROR" not in jp.stderr(), jp.stderr()[-3000:]
    # Every record arrived, once, in order.
    want = [f"{user}-{i}".encode() for i in range(sent)]
    assert topic_values(rb, topic) == want
    acks = jp.of("ACK", user)
    assert [a.i for a in acks] == list(range(sent))

    ev = auth_events(rb, user)
    conn = producing_conn(ev)
    renewals = [t for t, c in ev.reauth if c == conn]
    first = [t for t, c in ev.auth if c == conn]
    # The producing connection authenticated once and its session was renewed
    # on the same connection, paced by session_lifetime_ms (the Java client
    # starts at 85-95% of it; the broker logs the end of each exchange), and
    # never ran out: a request on an expired session closes the connection
    # with a log line.
    assert len(first) == 1, f"conn {conn}: first authentications {first}"
    assert len(renewals) >= 3, renewals
    chain = first + renewals
    gaps = [b - a for a, b in zip(chain, chain[1:])]
    # No renewal comes early (the client paces them by the lifetime the
    # broker announced). No upper bound: a renewal's answer queues behind
    # acks=all produce answers, which wait for fdatasync, and on a shared
    # machine one fdatasync has been seen to take 20 s.
    assert all(g > 0.8 * LIFETIME_MS for g in gaps), \
        f"session renewals {gaps} ms apart, lifetime {LIFETIME_MS} ms"
    assert not ev.expired and not ev.failed, (ev.expired, ev.failed)
    # No other connection was needed: the client's bootstrap connection (used
    # for the first Metadata) and the producing connection, nothing more.
    others = sorted({c for _, c in ev.auth} - {conn})
    assert len(others) <= 1, f"user {user} authenticated on connections {others} besides {conn}"
    assert not any(c != conn for _, c in ev.reauth), ev.reauth
    # Producing went on across the renewals: records were acknowledged
    # before the first renewal and after the last one.
    assert any(x.ms < chain[1] for x in acks) and any(x.ms > chain[-1] for x in acks), \
        (chain, acks[0].ms, acks[-1].ms)


def test_java_producer_cut_off_when_user_deleted(rb, pki, tmp_path):
    victim, other = "victor", "erin"
    alter_user(rb, victim, "victor-pw")
    alter_user(rb, other, "erin-pw")
    for u in (victim, other):
        h.create_topic(rb.bootstrap_of("PLAINTEXT"), f"reauth-java-{u}", 1)
    jp = JavaProducers(tmp_path, [(u, client_props(rb, tmp_path, pki, u, f"{u}-pw"), f"reauth-java-{u}")
                                  for u in (victim, other)])
    try:
        # Both producing, and the victim's session renewed once (re-authentication works for it).
        def running() -> bool:
            return (auth_events(rb, victim).reauth and jp.of("ACK", victim) and jp.of("ACK", other)
                    and jp.of("ACK", victim)[-1].ms > auth_events(rb, victim).reauth[0][0])

        jp.wait_for(running, (15 + 4 * LIFETIME_MS / 1000) * h.SLOWDOWN, "both Java producers producing")
        alter_user(rb, victim, None)
        t_deleted = auth_events(rb, victim).deleted[0]

        def cut_off() -> bool:
            return auth_events(rb, victim).failed and "failed authentication" in jp.stderr()

        jp.wait_for(cut_off, (10 + 2 * LIFETIME_MS / 1000) * h.SLOWDOWN,
                   f"{victim}'s re-authentication to fail, and the Java client to say so")
        t_failed, failed_conn = auth_events(rb, victim).failed[0]

        # The other user's producer goes on: acknowledged records and a
        # renewed session after the victim was cut off.
        def other_goes_on() -> bool:
            ev = auth_events(rb, other)
            return (any(t > t_failed for t, _ in ev.reauth)
                    and any(a.ms > max(t for t, _ in ev.reauth) for a in jp.of("ACK", other)))

        jp.wait_for(other_goes_on, (10 + 3 * LIFETIME_MS / 1000) * h.SLOWDOWN,
                   f"{other} to re-authenticate and be acknowledged after {victim} was cut off")
        jp.stop()
    finally:
        jp.kill()

    ev = auth_events(rb, victim)
    conn = producing_conn(ev)
    # It was the re-authentication on the producing connection that failed,
    # within one session lifetime of the deletion.
    assert failed_conn == conn, f"first failure on conn {failed_conn}, producer on conn {conn}: {ev}"
    assert t_deleted <= t_failed <= t_deleted + LIFETIME_MS + SLACK_MS, \
        f"cut off {t_failed - t_deleted} ms after the deletion, session lifetime {LIFETIME_MS} ms"
    assert not any(t > t_deleted for t, _ in ev.reauth + ev.auth), "authenticated after the deletion"
    # No acknowledgement once cut off (the failure is answered after the
    # failure delay, then the connection closes: what was in flight is lost
    # to the client, and nothing gets through afterwards).
    acks = jp.of("ACK", victim)
    late = [a for a in acks if a.ms > t_failed + SLACK_MS]
    assert not late, f"{len(late)} acknowledgements after the cut-off, e.g. {late[:3]}"
    errs = jp.of("ERR", victim)
    assert errs, "the victim's producer reported no failed record"
    err_text = jp.stderr()
    assert "failed authentication due to: Authentication failed during re-authentication due to " \
        "invalid credentials" in err_text, err_text[-2000:]
    # What reached the log is what was acknowledged, and possibly records in
    # flight at the cut; nothing from after it.
    vals = topic_values(rb, f"reauth-java-{victim}")
    sent = {f"{victim}-{e.i}".encode(): e.ms for e in jp.of("SENT", victim)}
    assert set(vals) >= {f"{victim}-{a.i}".encode() for a in acks}
    assert len(vals) == len(set(vals)) and set(vals) <= set(sent)
    assert all(sent[v] <= t_failed + SLACK_MS for v in vals)

    # The other user: nothing failed, everything arrived, sessions renewed throughout.
    assert not jp.of("ERR", other), jp.of("ERR", other)[:3]
    s, a, f = jp.done[other]
    assert s == a and f == 0, jp.done
    assert topic_values(rb, f"reauth-java-{other}") == [f"{other}-{i}".encode() for i in range(s)]
    eo = auth_events(rb, other)
    assert not eo.failed and not eo.expired
    assert len([t for t, _ in eo.reauth if t > t_failed]) >= 1
    # ... and kept being acknowledged after the cut-off.
    oacks = jp.of("ACK", other)
    assert any(x.ms > t_failed for x in oacks), "no acknowledgement for the other user after the cut-off"
