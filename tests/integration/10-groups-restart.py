# SPDX-License-Identifier: Apache-2.0
"""Committed offsets and group state across broker restarts: after a clean
stop (SIGTERM) and after kill -9, a consumer of the same group resumes right
after its last acknowledged commit (no record lost, none read twice); a
member that stays up through a restart keeps consuming (its group is loaded
from the offsets log with its generation); and the internal log is neither a
topic nor visible in Metadata."""

from __future__ import annotations

import time

import sluice_harness as h

FAST = {"group.initial.rebalance.delay.ms": 0}


def _consumer(bs: str, group: str):
    from confluent_kafka import Consumer

    return Consumer({
        "bootstrap.servers": bs,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 500,
    })


def _read(bs: str, group: str, topic: str, count: int | None, idle_s: float = 3.0) -> set:
    """Reads `count` records (or until idle_s of silence once assigned) as a
    member of group, commits synchronously, closes. Returns (partition, offset)s."""
    c = _consumer(bs, group)
    c.subscribe([topic])
    seen: set = set()
    try:
        deadline = time.monotonic() + 120 * h.SLOWDOWN
        quiet = None
        while count is None or len(seen) < count:
            assert time.monotonic() < deadline, f"{group}: {len(seen)} records by the deadline"
            m = c.poll(0.2)
            if m is None:
                if count is None and c.assignment():
                    quiet = quiet or time.monotonic()
                    if time.monotonic() - quiet > idle_s * h.SLOWDOWN:
                        break
                continue
            quiet = None
            assert m.error() is None, m.error()
            key = (m.partition(), m.offset())
            assert key not in seen, f"{key} delivered twice"
            seen.add(key)
        if seen:
            c.commit(asynchronous=False)
    finally:
        c.close()
    return seen


def test_resume_after_sigterm_and_kill9(broker_factory):
    b = broker_factory(FAST).start()
    bs, topic, parts = b.bootstrap, "grp-restart", 3
    h.create_topic(bs, topic, parts)
    h.produce_confluent(bs, topic, h.make_records(300, seed=3001, partitions=parts))

    first = _read(bs, "restart-group", topic, 150)
    b.stop()
    b.start()
    second = _read(bs, "restart-group", topic, None)
    assert not first & second, "records read again after a clean restart"
    assert len(first | second) == 300

    h.produce_confluent(bs, topic, h.make_records(600, seed=3001, partitions=parts)[300:])
    third = _read(bs, "restart-group", topic, 200)  # commit acknowledged, then crash
    b.kill()
    b.start()
    fourth = _read(bs, "restart-group", topic, None)
    assert not third & fourth, "acknowledged commits lost by kill -9"
    assert len(third | fourth) == 300
    assert not (first | second) & (third | fourth)

    # The offsets log is internal: not a topic.
    assert not [t for t in h.topic_partitions(bs) if "consumer_offsets" in t]
    out = h.kafka_tool("kafka-consumer-groups", "--bootstrap-server", bs, "--describe",
                       "--group", "restart-group").stdout.decode()
    lags = [int(ln.split()[5]) for ln in out.splitlines() if ln.startswith("restart-group")]
    assert lags == [0, 0, 0], out


def test_member_survives_broker_restart(broker_factory):
    b = broker_factory(FAST).start()
    bs, topic, parts = b.bootstrap, "grp-live", 2
    h.create_topic(bs, topic, parts)
    recs = h.make_records(400, seed=3002, partitions=parts)
    h.produce_confluent(bs, topic, recs[:200])
    c = _consumer(bs, "live-group")
    c.subscribe([topic])
    seen: dict = {}

    def pump(n: int, what: str):
        deadline = time.monotonic() + 120 * h.SLOWDOWN
        while len(seen) < n:
            assert time.monotonic() < deadline, f"{what}: {len(seen)} of {n}"
            for m in c.consume(num_messages=500, timeout=0.2):
                if m.error() is not None:
                    continue  # transport errors while the broker is down
                k = (m.partition(), m.offset())
                seen[k] = seen.get(k, 0) + 1

    try:
        pump(200, "before the restart")
        c.commit(asynchronous=False)
        b.stop()
        b.start()
        h.produce_confluent(bs, topic, recs[200:])
        pump(400, "after the restart")
        assert set(seen.values()) == {1}, "records read twice across the restart"
        c.commit(asynchronous=False)
    finally:
        c.close()
    committed = _consumer(bs, "live-group")
    try:
        from confluent_kafka import TopicPartition

        tps = committed.committed([TopicPartition(topic, p) for p in range(parts)], timeout=10)
        assert {tp.partition: tp.offset for tp in tps} == {0: 200, 1: 200}
    finally:
        committed.close()
