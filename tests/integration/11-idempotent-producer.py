# SPDX-License-Identifier: Apache-2.0
"""The idempotent producer: InitProducerId and the sequence rules per
partition, on the raw wire (so that retries, gaps and stale epochs can be
sent on purpose), across clean and unclean restarts, and with the real
clients' default idempotent producers (Java console producer, kafka-python)."""

import pytest

import kwire
import sluice_harness as h

INIT_PRODUCER_ID = 22


def init_producer_id(conn, version=1):
    w = kwire.Writer(flexible=version >= 2)
    w.string(None, nullable=True)  # transactional id
    w.int32(60000)
    if version >= 3:
        w.int64(-1).int16(-1)
    if version >= 2:
        w.tags()

    def parse(r, v):
        throttle = r.int32()
        err = r.int16()
        pid = r.int64()
        epoch = r.int16()
        if v >= 2:
            r.tags()
        return {"error_code": err, "producer_id": pid, "producer_epoch": epoch}

    return conn.call(INIT_PRODUCER_ID, version, w.getvalue(), parse)


def batch(pid, epoch, seq, values):
    return kwire.build_batch([v for v in values], producer_id=pid, producer_epoch=epoch,
                             base_sequence=seq)


def values_in(conn, topic):
    batches, _ = kwire.fetch_all(conn, topic, 0)
    out = []
    for b in batches:
        out.extend((r["offset"], r["value"]) for r in b.records())
    return out


def test_producer_ids_are_unique_and_survive_restart(broker):
    seen = set()
    with kwire.Conn(broker.host, broker.port) as c:
        for v in (0, 1, 2, 3, 4):
            r = init_producer_id(c, v)
            assert r["error_code"] == 0, r
            assert r["producer_epoch"] == 0
            seen.add(r["producer_id"])
    assert len(seen) == 5
    broker.kill()  # unclean: the reserved block must still not be reused
    broker.start()
    with kwire.Conn(broker.host, broker.port) as c:
        r = init_producer_id(c)
        assert r["error_code"] == 0
        assert r["producer_id"] not in seen


def test_retry_is_not_written_twice_and_gaps_and_epochs_are_refused(broker):
    topic = "idem-rules"
    with kwire.Conn(broker.host, broker.port) as c:
        kwire.create_topic_ready(c, topic)
        pid = init_producer_id(c)["producer_id"]
        b0 = batch(pid, 0, 0, [b"a", b"b"])
        p = c.produce_one(topic, 0, b0)
        assert p["error_code"] == 0 and p["base_offset"] == 0
        b1 = batch(pid, 0, 2, [b"c"])
        assert c.produce_one(topic, 0, b1)["base_offset"] == 2
        # The same two batches again (a retry after a lost answer): the
        # original offsets, nothing appended.
        r = c.produce_one(topic, 0, b0)
        assert r["error_code"] == 0 and r["base_offset"] == 0, r
        r = c.produce_one(topic, 0, b1)
        assert r["error_code"] == 0 and r["base_offset"] == 2
        # A gap in the sequence.
        r = c.produce_one(topic, 0, batch(pid, 0, 5, [b"gap"]))
        assert r["error_code"] == 45, r  # OUT_OF_ORDER_SEQUENCE_NUMBER
        # A new epoch must start at sequence 0; then the old epoch is fenced.
        assert c.produce_one(topic, 0, batch(pid, 1, 3, [b"x"]))["error_code"] == 45
        assert c.produce_one(topic, 0, batch(pid, 1, 0, [b"d"]))["base_offset"] == 3
        r = c.produce_one(topic, 0, batch(pid, 0, 3, [b"stale"]))
        assert r["error_code"] == 47, r  # INVALID_PRODUCER_EPOCH
        assert [v for _, v in values_in(c, topic)] == [b"a", b"b", b"c", b"d"]


@pytest.mark.parametrize("how", ["clean", "kill"])
def test_duplicates_detected_after_restart(broker, how):
    topic = f"idem-restart-{how}"
    with kwire.Conn(broker.host, broker.port) as c:
        kwire.create_topic_ready(c, topic)
        pid = init_producer_id(c)["producer_id"]
        sent = []
        for seq in range(0, 20, 2):
            b = batch(pid, 0, seq, [b"v%d" % seq, b"v%d" % (seq + 1)])
            r = c.produce_one(topic, 0, b, acks=-1)
            assert r["error_code"] == 0
            sent.append((b, r["base_offset"]))
    if how == "clean":
        broker.stop()
    else:
        broker.kill()
    broker.start()
    with kwire.Conn(broker.host, broker.port) as c:
        # The last batches are still remembered: a retry gets its offset back.
        for b, off in sent[-5:]:
            r = c.produce_one(topic, 0, b)
            assert r["error_code"] == 0 and r["base_offset"] == off, (r, off)
        # And the sequence continues where it was.
        r = c.produce_one(topic, 0, batch(pid, 0, 20, [b"next"]))
        assert r["error_code"] == 0 and r["base_offset"] == 20
        r = c.produce_one(topic, 0, batch(pid, 0, 25, [b"gap"]))
        assert r["error_code"] == 45
        assert len(values_in(c, topic)) == 21


def test_java_console_producer_default_is_idempotent(broker):
    topic = "idem-java"
    lines = "".join(f"line-{i}\n" for i in range(2000))
    with kwire.Conn(broker.host, broker.port) as c:
        kwire.create_topic_ready(c, topic)
    # No enable.idempotence override: the Java producer's default (idempotent, acks=all).
    h.kafka_tool("kafka-console-producer", "--bootstrap-server", broker.bootstrap, "--topic", topic,
                 input=lines.encode(), timeout=120)
    with kwire.Conn(broker.host, broker.port) as c:
        got = values_in(c, topic)
    assert [v for _, v in got] == [f"line-{i}".encode() for i in range(2000)]
    # Every stored batch carries a producer id and contiguous sequences.
    with kwire.Conn(broker.host, broker.port) as c:
        batches, _ = kwire.fetch_all(c, topic, 0)
    assert all(b.producer_id >= 0 for b in batches)
    seqs = [(b.base_sequence, b.base_sequence + b.records_count) for b in batches]
    for (a_start, a_end), (b_start, _) in zip(seqs, seqs[1:]):
        assert b_start == a_end


def test_kafka_python_default_producer_is_idempotent(broker):
    from kafka import KafkaProducer
    topic = "idem-kp"
    with kwire.Conn(broker.host, broker.port) as c:
        kwire.create_topic_ready(c, topic)
    p = KafkaProducer(bootstrap_servers=broker.bootstrap)  # idempotent by default (3.x)
    futs = [p.send(topic, value=b"m%d" % i, partition=0) for i in range(500)]
    offsets = [f.get(timeout=30).offset for f in futs]
    p.close()
    assert offsets == list(range(500))
