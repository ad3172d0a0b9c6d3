# SPDX-License-Identifier: Apache-2.0
"""Consumer groups with librdkafka (confluent-kafka, kcat) and kafka-python:
two members split a topic's partitions and the survivor takes them all when
one leaves (a rebalance), committed offsets let a restarted consumer resume
exactly after its last commit, and each client library consumes a topic as a
group member and commits what it read."""

from __future__ import annotations

import time

import sluice_harness as h

FAST = {"group.initial.rebalance.delay.ms": 0}


def _consumer(bs: str, group: str, **extra):
    from confluent_kafka import Consumer

    conf = {
        "bootstrap.servers": bs,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 500,
    }
    conf.update(extra)
    return Consumer(conf)


def _drain(consumers, want: int, got: dict, deadline_s: float, what: str):
    """Polls every consumer until `want` records were read in total;
    got[(partition, offset)] counts how often each record came back."""
    deadline = time.monotonic() + deadline_s * h.SLOWDOWN
    while sum(got.values()) < want:
        assert time.monotonic() < deadline, f"{what}: {sum(got.values())} of {want} records"
        for c in consumers:
            for m in c.consume(num_messages=1000, timeout=0.2):
                assert m.error() is None, f"{what}: consumer error {m.error()}"
                key = (m.partition(), m.offset())
                got[key] = got.get(key, 0) + 1


def _assignment(c) -> set[int]:
    return {tp.partition for tp in c.assignment()}


def _committed(bs: str, group: str, topic: str, parts: int) -> dict[int, int]:
    from confluent_kafka import TopicPartition

    c = _consumer(bs, group)
    try:
        tps = c.committed([TopicPartition(topic, p) for p in range(parts)], timeout=10 * h.SLOWDOWN)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


def test_two_members_split_then_one_leaves(broker_factory):
    b = broker_factory(FAST).start()
    bs, topic, parts = b.bootstrap, "grp-split", 4
    h.create_topic(bs, topic, parts)

    c1, c2 = _consumer(bs, "split-group"), _consumer(bs, "split-group")
    c1.subscribe([topic])
    c2.subscribe([topic])
    try:
        got: dict = {}

        def split():
            for c in (c1, c2):
                for m in c.consume(num_messages=1000, timeout=0.2):
                    assert m.error() is None, m.error()
                    k = (m.partition(), m.offset())
                    got[k] = got.get(k, 0) + 1
            a1, a2 = _assignment(c1), _assignment(c2)
            return len(a1) == 2 and len(a2) == 2 and not (a1 & a2)

        h.wait_for(split, 90 * h.SLOWDOWN, "both members to own two partitions each", interval=0)
        # Records arrive once the group is split, so neither member reads
        # the other's partitions (no commits are needed to avoid doubles).
        h.produce_confluent(bs, topic, h.make_records(400, seed=2001, partitions=parts))
        _drain([c1, c2], 400, got, 60, "two members")
        assert len(got) == 400 and set(got.values()) == {1}, "records read twice across the split"
        c1.commit(asynchronous=False)
        c2.commit(asynchronous=False)
        c2.close()  # LeaveGroup: the survivor takes every partition

        def all_to_c1():
            c1.consume(num_messages=100, timeout=0.2)
            return _assignment(c1) == set(range(parts))

        h.wait_for(all_to_c1, 90 * h.SLOWDOWN, "the remaining member to own all partitions", interval=0)
        h.produce_confluent(bs, topic, h.make_records(600, seed=2001, partitions=parts)[400:])
        after: dict = {}
        _drain([c1], 200, after, 60, "after the rebalance")
        # c2's commits hold: nothing it read comes back.
        assert not (set(after) & set(got)), "records re-read after the rebalance despite commits"
        assert len(after) == 200
        c1.commit(asynchronous=False)
        assert _committed(bs, "split-group", topic, parts) == {p: 150 for p in range(parts)}
    finally:
        c1.close()


def test_commits_survive_consumer_restart(broker_factory):
    b = broker_factory(FAST).start()
    bs, topic, parts = b.bootstrap, "grp-resume", 3
    h.create_topic(bs, topic, parts)
    h.produce_confluent(bs, topic, h.make_records(600, seed=2002, partitions=parts))
    first: dict = {}
    c = _consumer(bs, "resume-group")
    c.subscribe([topic])
    try:
        deadline = time.monotonic() + 90 * h.SLOWDOWN
        while len(first) < 250:
            assert time.monotonic() < deadline, "first consumer stalled"
            m = c.poll(0.2)
            if m is None:
                continue
            assert m.error() is None, m.error()
            first[(m.partition(), m.offset())] = 1
        c.commit(asynchronous=False)
    finally:
        c.close()
    second: dict = {}
    c = _consumer(bs, "resume-group")
    c.subscribe([topic])
    try:
        _drain([c], 600 - len(first), second, 90, "restarted consumer")
        time.sleep(1)  # nothing more may arrive
        for m in c.consume(num_messages=1000, timeout=0.5):
            second[(m.partition(), m.offset())] = second.get((m.partition(), m.offset()), 0) + 1
    finally:
        c.close()
    assert not (set(first) & set(second)), "a committed record was delivered again"
    assert len(first) + len(second) == 600 and set(second.values()) == {1}


def test_kafka_python_group_consumer(broker_factory):
    from kafka import KafkaConsumer

    b = broker_factory(FAST).start()
    bs, topic, parts, n = b.bootstrap, "grp-kpy", 2, 500
    h.create_topic(bs, topic, parts)
    recs = h.make_records(n, seed=2003, partitions=parts)
    h.produce_confluent(bs, topic, recs)

    def run() -> list[h.Got]:
        c = KafkaConsumer(topic, bootstrap_servers=bs, group_id="kpy-group",
                          auto_offset_reset="earliest", enable_auto_commit=False,
                          session_timeout_ms=10000, heartbeat_interval_ms=1000,
                          request_timeout_ms=int(30000 * h.SLOWDOWN))
        got: list[h.Got] = []
        try:
            deadline = time.monotonic() + 60 * h.SLOWDOWN
            quiet_since = None
            while True:
                batch = c.poll(timeout_ms=500)
                for msgs in batch.values():
                    for m in msgs:
                        got.append(h.Got(m.partition, m.offset, m.key, m.value, tuple(m.headers or ())))
                if len(got) >= n or time.monotonic() > deadline:
                    break
                if c.assignment() and not batch:
                    quiet_since = quiet_since or time.monotonic()
                    if got == [] and len(c.assignment()) == parts and time.monotonic() - quiet_since > 5:
                        break  # assigned everything, nothing left to read
                else:
                    quiet_since = None
            c.commit()
        finally:
            c.close()
        return got

    h.check_consumed(recs, run(), parts)
    assert _committed(bs, "kpy-group", topic, parts) == {p: n // parts for p in range(parts)}
    assert run() == [], "a second member of the group re-read committed records"


def test_kcat_balanced_consumer(broker_factory):
    b = broker_factory(FAST).start()
    bs, topic, parts, n = b.bootstrap, "grp-kcat", 3, 300
    h.create_topic(bs, topic, parts)
    h.produce_confluent(bs, topic, h.make_records(n, seed=2004, partitions=parts))
    r = h.kcat("-b", bs, "-G", "kcat-group", topic, "-o", "beginning", "-e", "-q",
               "-f", "%p %o\n", "-X", "auto.offset.reset=earliest", timeout=h.CONSUME_TIMEOUT)
    seen = {tuple(map(int, ln.split())) for ln in r.stdout.decode().splitlines() if ln}
    assert len(seen) == n, f"kcat -G read {len(seen)} distinct records of {n}"
    # kcat commits what it read (auto commit, and on close).
    h.wait_for(lambda: _committed(bs, "kcat-group", topic, parts) == {p: n // parts for p in range(parts)},
               30 * h.SLOWDOWN, "kcat's committed offsets")


def test_three_members_churn_while_producing(broker_factory):
    """Three members share six partitions while a producer writes; members
    leave and join mid-stream. Every record is consumed; duplicates (allowed
    by at-least-once delivery around a rebalance) are counted and reported,
    and stay a small fraction."""
    import threading
    from collections import Counter

    b = broker_factory(FAST).start()
    bs, topic, parts, n = b.bootstrap, "grp-churn", 6, 6000
    h.create_topic(bs, topic, parts)
    recs = h.make_records(n, seed=2005, partitions=parts, max_value=60)
    seen: Counter = Counter()
    lock = threading.Lock()
    errors: list[str] = []

    def member(stop: threading.Event):
        c = _consumer(bs, "churn-group", **{"enable.auto.commit": True,
                                             "auto.commit.interval.ms": 500})
        c.subscribe([topic])
        try:
            while not stop.is_set():
                for m in c.consume(num_messages=500, timeout=0.2):
                    if m.error() is not None:
                        errors.append(str(m.error()))
                        continue
                    with lock:
                        seen[(m.partition(), m.offset())] += 1
        finally:
            c.close()  # commits what it consumed and leaves

    def start():
        ev = threading.Event()
        t = threading.Thread(target=member, args=(ev,), daemon=True)
        t.start()
        return ev, t

    def stop(m):
        m[0].set()
        m[1].join(60 * h.SLOWDOWN)

    producer = threading.Thread(
        target=lambda: [h.produce_confluent(bs, topic, recs[i:i + 500]) or time.sleep(0.5)
                        for i in range(0, n, 500)], daemon=True)
    m1, m2 = start(), start()
    producer.start()
    time.sleep(2)
    m3 = start()                 # joins mid-stream
    time.sleep(2)
    stop(m1)                     # leaves mid-stream
    time.sleep(2)
    m1 = start()                 # and comes back
    producer.join(120 * h.SLOWDOWN)
    assert not producer.is_alive(), "producer did not finish"
    deadline = time.monotonic() + 120 * h.SLOWDOWN
    while len(seen) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    for m in (m1, m2, m3):
        stop(m)
    assert not errors, errors[:5]
    missing = n - len(seen)
    dups = sum(v - 1 for v in seen.values())
    print(f"churn: {n} records, {missing} missing, {dups} duplicates")
    assert missing == 0, f"{missing} records never consumed"
    assert dups <= n // 10, f"{dups} duplicates out of {n}"
