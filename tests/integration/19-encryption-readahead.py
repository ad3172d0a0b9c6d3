# SPDX-License-Identifier: Apache-2.0
"""Read-ahead of sealed data (docs/ENCRYPTION.md, "Read-ahead"; sluice.encryption.readahead.bytes):
a consumer reading a sealed partition front to back has its next fetch decrypted by a worker thread
while the current one is out.

  * catch-up consumers: about 20 MB over two partitions, produced by confluent-kafka, consumed from
    the beginning by kcat and by confluent-kafka: every record byte for byte, and the broker's
    shutdown line says read-ahead served part of it. Restarted with read-ahead off
    (sluice.encryption.readahead.bytes=0): the same records, and no read-ahead at all.
  * the same catch-up over SASL_SSL (SCRAM-SHA-512), kcat and confluent-kafka: read-ahead serves
    below the TLS transport as well.
  * a byte flipped, with the broker stopped, in a batch in the middle of a long partition: a real
    consumer reading from the beginning (read-ahead running ahead of it) gets every record before
    that batch, in order, and nothing from it or after it; the failure is logged and audited once.
  * a value that would silently mean no buffer (between 0 and one 4 MiB buffer) stops the start,
    naming the key, the value and the reason.

Sluice only (Apache Kafka has no encryption at rest). Every wait is a condition with a deadline.
"""

from __future__ import annotations

import re
import time

import pytest

import kwire as k
import sluice_harness as h

TOPIC = "ahead"
LINE = re.compile(rb"read-ahead: (\d+) runs queued, (\d+) decrypted ahead, (\d+) MiB served")


def setup_module(module):
    h.only_on_sluice("encryption at rest is a Sluice feature")


@pytest.fixture
def broker(tmp_path):
    b = h.Broker(tmp_path / "b")
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def readahead_lines(b: h.Broker, since: int) -> list[tuple[int, int, int]]:
    """(queued, decrypted ahead, MiB served) of each shutdown line in the log after byte `since`."""
    text = b.log_path.read_bytes()[since:]
    return [tuple(int(x) for x in m.groups()) for m in LINE.finditer(text)]


def test_catch_up_consumers_served_ahead(broker):
    b = broker
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=2)
    recs = h.make_records(20000, seed=81, partitions=2, text=True, max_value=2000)
    h.produce_confluent(b.bootstrap, TOPIC, recs, extra={"linger.ms": 50})
    h.check_consumed(recs, h.consume_kcat(b.bootstrap, TOPIC, 2, len(recs)), 2)
    # A small client-side queue paces confluent-kafka's fetches by its own polling, which gives
    # the worker time to finish each run first even on a slow (sanitized) build.
    h.check_consumed(recs, h.consume_confluent(b.bootstrap, TOPIC, 2, len(recs),
                                               extra={"queued.max.messages.kbytes": 2048}), 2)
    mark = b.log_path.stat().st_size
    b.stop()
    (line,) = readahead_lines(b, mark)
    queued, filled, served = line
    # Two catch-up reads of ~10 MB per partition in 1 MiB fetches: runs were queued, decrypted
    # ahead and served (on a loaded machine readers take some over themselves, hence no exact
    # figure).
    assert queued > 0 and filled > 0 and served >= 1, line
    # Off: the same records, decrypted on the network threads.
    b.extra["sluice.encryption.readahead.bytes"] = "0"
    mark = b.log_path.stat().st_size
    b.start()
    h.check_consumed(recs, h.consume_kcat(b.bootstrap, TOPIC, 2, len(recs)), 2)
    b.stop()
    assert readahead_lines(b, mark) == []
    assert b"stopped cleanly" in b.log_path.read_bytes()[mark:]


def test_catch_up_over_sasl_ssl_served_ahead(tmp_path, pki):
    """The same catch-up through TLS and SCRAM (the default posture): the read-ahead sits below the
    transport, and the records come out of the TLS path byte for byte."""
    cfg = pki.broker_ssl_config(store="PKCS12", prefix="listener.name.sasl_ssl.")
    cfg.update({"sasl.enabled.mechanisms": "SCRAM-SHA-512", "super.users": "User:ANONYMOUS;User:reader"})
    b = h.Broker(tmp_path / "s", config=cfg, listeners=["PLAINTEXT", "SASL_SSL"], tls=pki.client())
    try:
        b.start()
        plain = b.bootstrap_of("PLAINTEXT")
        h.set_scram_user(plain, "reader", "reader-secret-pw")
        h.create_topic(plain, TOPIC, partitions=2)
        recs = h.make_records(16000, seed=83, partitions=2, text=True, max_value=2000)
        h.produce_confluent(plain, TOPIC, recs, extra={"linger.ms": 50})
        sasl = {"security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": "reader", "sasl.password": "reader-secret-pw",
                "ssl.ca.location": str(pki.client().ca_pem)}
        tls_in = b.bootstrap_of("SASL_SSL")
        h.check_consumed(recs, h.consume_kcat(tls_in, TOPIC, 2, len(recs), extra=sasl), 2)
        h.check_consumed(recs, h.consume_confluent(tls_in, TOPIC, 2, len(recs),
                                                   extra=dict(sasl, **{"queued.max.messages.kbytes": 2048})), 2)
        mark = b.log_path.stat().st_size
        b.stop()
        (line,) = readahead_lines(b, mark)
        queued, filled, served = line
        assert queued > 0 and filled > 0 and served >= 1, line
    finally:
        try:
            b.finish()  # stopped cleanly; under a sanitizer, nothing reported
        finally:
            b.kill()


def batch_bases(b: h.Broker, end: int) -> list[int]:
    """Base offset of every batch of partition 0, in log order (one sealed frame per batch)."""
    bases: list[int] = []
    with k.Conn(b.host, b.port, timeout=30) as c:
        off = 0
        while off < end:
            p = c.fetch_one(TOPIC, 0, off)
            assert p["error_code"] == k.NONE, p
            got, _ = k.parse_batches(p["records"] or b"")
            assert got, p
            bases += [x.base_offset for x in got]
            off = got[-1].next_offset
    return bases


def test_tampered_batch_ahead_of_consumer(broker):
    b = broker
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=1)
    recs = h.make_records(12000, seed=82, partitions=1, max_value=2000)
    h.produce_confluent(b.bootstrap, TOPIC, recs, extra={"linger.ms": 50, "batch.size": 65536})
    bases = batch_bases(b, len(recs))
    b.stop()
    (seg,) = sorted((b.data_dir / "logs" / f"{TOPIC}-0").glob("*.log"))
    fr = h.sealed_frames(seg)
    assert len(fr) == len(bases) and len(fr) >= 40, (len(fr), len(bases))
    bad = len(fr) * 3 // 5  # well past the first fetches: read ahead by then
    ppos, n, bad_lpos = fr[bad]
    h.flip_byte(seg, ppos + h.SEALED_FRAME_HDR + n // 2)
    b.start()
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    cons = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused", "enable.auto.commit": False,
                     "fetch.message.max.bytes": 1 << 20})
    got: list[h.Got] = []

    def auth_failures() -> list[dict]:
        return [d for d in h.audit_integrity(b) if d.get("what") == "batch_authentication_failed"]

    def poll() -> bool:
        for m in cons.consume(1000, 0.2):
            if m.error() is None:
                got.append(h.Got(m.partition(), m.offset(), m.key(), m.value(), tuple(m.headers() or ())))
        return len(got) >= bases[bad] and bool(auth_failures())
    try:
        cons.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
        h.wait_for(poll, h.CONSUME_TIMEOUT, "the records before the damaged batch, and its audit record")
        # The broker keeps refusing the damaged batch: a few more polls bring nothing new.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            poll()
    finally:
        cons.close()
    assert [g.offset for g in got] == list(range(bases[bad])), "records other than those before the damaged batch"
    h.check_consumed(recs[:bases[bad]], got, 1)
    text = b.log_text()
    assert "failed authentication" in text
    failures = auth_failures()
    assert len(failures) == 1, failures
    assert failures[0]["path"] == str(seg) and failures[0]["position"] == bad_lpos, failures
    b.check_alive()


def test_readahead_value_below_one_buffer_refused(broker):
    b = broker
    b.extra["sluice.encryption.readahead.bytes"] = "1000"
    h.start_fails(b, "sluice.encryption.readahead.bytes", "1000", "at least 4194304")
