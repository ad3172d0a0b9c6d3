# SPDX-License-Identifier: Apache-2.0
"""Clean restart: produce, SIGTERM, start again on the same data directory and
port; every topic (also an empty one) is still there with its partitions, all
records come back byte for byte at the same offsets, and new records continue
the offsets where they left off."""

from __future__ import annotations

import sluice_harness as h

TOPICS = {"restart-three": 3, "restart-one": 1, "restart-empty": 2}
N_THREE = 20000
N_ONE = 5000


def _check_topics(bootstrap):
    md = h.topic_partitions(bootstrap)
    for name, parts in TOPICS.items():
        assert name in md, f"topic {name} missing from Metadata after restart: {sorted(md)}"
        assert sorted(md[name]) == list(range(parts)), f"{name}: partitions {sorted(md[name])}, want {parts}"
        assert all(leader >= 0 for leader in md[name].values()), f"{name}: leaderless partition {md[name]}"


def test_restart_keeps_topics_and_records(broker):
    for name, parts in TOPICS.items():
        h.create_topic(broker.bootstrap, name, parts)
    three = h.make_records(N_THREE, seed=7001, partitions=3)
    one = h.make_records(N_ONE, seed=7002, partitions=1)
    h.produce_confluent(broker.bootstrap, "restart-three", three)
    h.produce_confluent(broker.bootstrap, "restart-one", one)

    broker.stop()  # asserts a clean exit (code 0) within the deadline
    broker.start()

    _check_topics(broker.bootstrap)
    listed = h.kafka_tool("kafka-topics", "--bootstrap-server", broker.bootstrap, "--list").stdout.decode().split()
    assert set(TOPICS) <= set(listed), f"kafka-topics --list after restart: {listed}"

    h.check_consumed(three, h.consume_confluent(broker.bootstrap, "restart-three", 3, N_THREE), 3)
    h.check_consumed(one, h.consume_kafka_python(broker.bootstrap, "restart-one", 1, N_ONE), 1)
    assert h.end_offsets(broker.bootstrap, "restart-empty", 2) == {0: 0, 1: 0}

    # Appends after the restart continue the offsets.
    more = h.make_records(N_THREE + 3000, seed=7001, partitions=3)
    reports = h.produce_confluent(broker.bootstrap, "restart-three", more[N_THREE:])
    for i, (p, off) in enumerate(reports, start=N_THREE):
        assert (p, off) == (i % 3, i // 3), f"record #{i} after restart at p{p}@{off}, expected p{i % 3}@{i // 3}"

    # And a second restart keeps both generations.
    broker.stop()
    broker.start()
    _check_topics(broker.bootstrap)
    h.check_consumed(more, h.consume_confluent(broker.bootstrap, "restart-three", 3, len(more)), 3)


def test_restart_of_an_empty_broker(broker):
    """No topics, nothing written: stop and start must still work."""
    broker.stop()
    broker.start()
    assert not [t for t in h.topic_partitions(broker.bootstrap) if not t.startswith("__")]
