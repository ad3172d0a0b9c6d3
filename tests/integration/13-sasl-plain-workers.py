# SPDX-License-Identifier: Apache-2.0
"""SASL PLAIN checks a password with PBKDF2 (milliseconds of CPU each); the broker does it on its
authentication threads, not on the network thread that owns the connection, so PLAIN attempts
(wrong passwords included, from anyone who can connect) do not stall the other connections of
that thread.

The broker runs one network thread, and the test hook SLUICE_TEST_AUTH_DELAY_MS makes every PLAIN
check last seconds. While one connection's PLAIN authentication is in progress, another
connection on the same thread gets its answers; then the authentication completes, and the
connection works. A wrong password fails as before, after its own check. A connection closed in
the middle of its check leaves the broker serving (and, under the sanitizers, clean), and so does
a stop of the broker in the middle of one. Real
clients (confluent-kafka, kafka-python with bare v0 tokens, the Java client) authenticate with
PLAIN through the same path in 13-sasl-clients.py.
"""

from __future__ import annotations


import pytest

import kwire as k
import sluice_harness as h

DELAY_ENV = "SLUICE_TEST_AUTH_DELAY_MS"
DELAY_MS = int(3000 * h.SLOWDOWN)
PASSWORD = "plain-secret-pw"
SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36


def setup_module(module):
    h.only_on_sluice("the test hook and the thread count are Sluice's")


@pytest.fixture
def broker(tmp_path, pki, monkeypatch):
    monkeypatch.setenv(DELAY_ENV, str(DELAY_MS))
    cfg = pki.broker_ssl_config(store="PKCS12", prefix="listener.name.sasl_ssl.")
    cfg.update({"sasl.enabled.mechanisms": "PLAIN", "super.users": "User:ANONYMOUS",
                "num.network.threads": "1", "connection.failed.authentication.delay.ms": "100",
                # the whole authentication must end within this; the hook's pauses add up
                "sluice.ssl.handshake.timeout.ms": "120000"})
    b = h.Broker(tmp_path / "b", config=cfg, listeners=["PLAINTEXT", "SASL_SSL"], tls=pki.client())
    b.start()
    h.set_scram_user(b.bootstrap_of("PLAINTEXT"), "alice", PASSWORD)
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def tls_conn(b: h.Broker, pki) -> k.Conn:
    # Room for four checks queued on the one authentication thread, and more.
    c = k.Conn("127.0.0.1", b.ports["SASL_SSL"], timeout=DELAY_MS / 1000 * 6)
    c.sock = pki.client().ssl_context().wrap_socket(c.sock, server_hostname="127.0.0.1")
    return c


def start_plain(c: k.Conn, password: str) -> int:
    """SaslHandshake v1 for PLAIN (answered at once), then SaslAuthenticate v1 sent, not read."""
    r = c.call(SASL_HANDSHAKE, 1, k.Writer().string("PLAIN").getvalue())
    assert r[:2] == b"\x00\x00", r  # error_code NONE
    return c.send_request(SASL_AUTHENTICATE, 1, k.Writer().bytes_(b"\0alice\0" + password.encode()).getvalue())


def authenticate_result(c: k.Conn, corr: int) -> tuple[int, str | None]:
    """(error_code, error_message); Kafka's message on success is "" (the schema's default)."""
    _, r = c.recv_response(SASL_AUTHENTICATE, 1, expect_corr=corr)
    err, msg = r.int16(), r.string(nullable=True)
    r.bytes_()
    r.int64()  # session_lifetime_ms
    return err, msg


def answered(c: k.Conn) -> bool:
    """Whether any response byte is waiting on c (no wait)."""
    try:
        c.recv_exact(1, timeout=0.01)
        return True
    except OSError:  # socket.timeout
        return False


def test_other_connections_served_during_plain_check(broker, pki):
    b = broker
    a = tls_conn(b, pki)
    bad = tls_conn(b, pki)
    try:
        corr = start_plain(a, PASSWORD)
        bad_corr = start_plain(bad, "wrong-password")
        # The only network thread is free: a plaintext client is served, several times over,
        # while both PLAIN checks are still running (each lasts DELAY_MS).
        with k.Conn("127.0.0.1", b.ports["PLAINTEXT"], timeout=DELAY_MS / 1000) as other:
            for _ in range(5):
                md = other.metadata()
                assert md["brokers"], md
        assert not answered(a) and not answered(bad), "a PLAIN check finished before the other client's requests"
        # Then the checks end: the right password authenticates, the wrong one fails.
        assert authenticate_result(a, corr) == (k.NONE, "")
        err, msg = authenticate_result(bad, bad_corr)
        assert err == 58 and msg == "Authentication failed: Invalid username or password", (err, msg)
        assert bad.wait_closed(10)[0], "the failed connection stays open"
        # The authenticated connection is usable.
        assert a.metadata()["brokers"]
    finally:
        a.close()
        bad.close()
    text = b.log_text()
    assert "authenticated PLAIN as User:alice" in text
    assert "PLAIN failed for 'alice': wrong password" in text
    b.check_alive()


def test_connection_closed_during_plain_check(broker, pki):
    b = broker
    for i in range(3):
        c = tls_conn(b, pki)
        start_plain(c, PASSWORD if i % 2 else "wrong-password")
        c.abort()
    # The checks end after their connections went; the broker frees them and keeps serving.
    ok = tls_conn(b, pki)
    try:
        corr = start_plain(ok, PASSWORD)
        assert authenticate_result(ok, corr) == (k.NONE, "")
    finally:
        ok.close()
    h.wait_for(lambda: b.log_text().count("authenticated PLAIN as User:alice") >= 1, 10, "the last authentication")
    b.check_alive()
    # A stop while a check is in progress waits for it, and is clean.
    last = tls_conn(b, pki)
    try:
        start_plain(last, PASSWORD)
        b.stop()
    finally:
        last.close()
    assert "stopped cleanly" in b.log_text()
