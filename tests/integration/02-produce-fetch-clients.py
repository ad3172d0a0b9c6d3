# SPDX-License-Identifier: Apache-2.0
"""Produce and fetch with every real client: Kafka's Java console tools,
confluent-kafka (librdkafka), kafka-python and kcat (Debian's librdkafka 2.0.2).

Each client creates a 3-partition topic, produces SLUICE_TEST_RECORDS (default
100,000) keyed records with headers, and consumes them all back with explicit
partition assignment: every record must come back exactly once, byte for byte
(key, value, headers), in produce order per partition, at offsets 0, 1, 2, ...
Then a few cross-client pairs: produce with one client, consume with another."""

from __future__ import annotations

import dataclasses
import os
import zlib

import pytest

import sluice_harness as h

N = int(os.environ.get("SLUICE_TEST_RECORDS", "100000"))
PARTS = 3


def assert_offsets_in_order(records, reports, partitions):
    """Delivery reports of a fresh topic: the k-th record sent to a partition got offset k."""
    nxt = {p: 0 for p in range(partitions)}
    for i, (r, (p, off)) in enumerate(zip(records, reports)):
        if r.partition is not None:
            assert p == r.partition, f"record #{i} acknowledged in partition {p}, sent to {r.partition}"
        assert off == nxt[p], f"record #{i} acknowledged at p{p}@{off}, expected offset {nxt[p]}"
        nxt[p] += 1


def test_java_console_tools(broker, tmp_path):
    """kafka-topics --create, kafka-console-producer (parse.key, parse.headers),
    kafka-get-offsets, kafka-console-consumer --partition N --offset earliest."""
    topic = "java-cli"
    h.java_create_topic(broker.bootstrap, topic, PARTS)
    recs = h.make_records(N, seed=2001, text=True)
    h.produce_java(broker.bootstrap, topic, recs, tmp_path)
    got = h.consume_java(broker.bootstrap, topic, PARTS, len(recs), tmp_path)
    h.check_consumed(recs, got, PARTS)


def test_confluent_kafka(broker):
    topic = "confluent"
    h.create_topic(broker.bootstrap, topic, PARTS)
    recs = h.make_records(N, seed=2002, partitions=PARTS)
    reports = h.produce_confluent(broker.bootstrap, topic, recs)
    assert_offsets_in_order(recs, reports, PARTS)
    got = h.consume_confluent(broker.bootstrap, topic, PARTS, len(recs))
    h.check_consumed(recs, got, PARTS)


def test_kafka_python(broker):
    topic = "kafka-python"
    h.create_topic(broker.bootstrap, topic, PARTS)
    recs = h.make_records(N, seed=2003, partitions=PARTS)
    reports = h.produce_kafka_python(broker.bootstrap, topic, recs)
    assert_offsets_in_order(recs, reports, PARTS)
    got = h.consume_kafka_python(broker.bootstrap, topic, PARTS, len(recs))
    h.check_consumed(recs, got, PARTS)


def test_kcat(broker, tmp_path):
    """Binary keys and values (every byte but newline and tab), keyed
    partitioning by librdkafka, one header set for all records (all kcat -P can)."""
    topic = "kcat"
    h.create_topic(broker.bootstrap, topic, PARTS)
    recs = [dataclasses.replace(r, headers=h.KCAT_HEADERS)
            for r in h.make_records(N, seed=2004, forbid=h.KCAT_FORBID)]
    h.produce_kcat(broker.bootstrap, topic, recs, tmp_path)
    got = h.consume_kcat(broker.bootstrap, topic, PARTS, len(recs))
    h.check_consumed(recs, got, PARTS)


# --------------------------------------------------------------------------
# cross-client: what one client wrote, another reads

CROSS_N = 3000

PRODUCERS = {
    "java": lambda b, t, recs, d: h.produce_java(b, t, recs, d),
    "confluent": lambda b, t, recs, d: h.produce_confluent(b, t, recs),
    "kafka-python": lambda b, t, recs, d: h.produce_kafka_python(b, t, recs),
    "kcat": lambda b, t, recs, d: h.produce_kcat(b, t, recs, d),
}
CONSUMERS = {
    "java": h.consume_java,
    "confluent": h.consume_confluent,
    "kafka-python": h.consume_kafka_python,
    "kcat": h.consume_kcat,
}


@pytest.mark.parametrize(
    "producer,consumer",
    [("confluent", "kafka-python"), ("kafka-python", "java"), ("java", "kcat"), ("kcat", "confluent")],
)
def test_cross_client(shared_broker, tmp_path, producer, consumer):
    topic = f"cross-{producer}-to-{consumer}"
    h.create_topic(shared_broker.bootstrap, topic, PARTS)
    # The common ground of all four: line-safe text, and with kcat one header set.
    by_partitioner = producer in ("java", "kcat")
    recs = h.make_records(CROSS_N, seed=zlib.crc32(topic.encode()), text=True,
                          partitions=None if by_partitioner else PARTS)
    if producer == "kcat":
        recs = [dataclasses.replace(r, headers=h.KCAT_HEADERS) for r in recs]
    PRODUCERS[producer](shared_broker.bootstrap, topic, recs, tmp_path)
    got = CONSUMERS[consumer](shared_broker.bootstrap, topic, PARTS, len(recs), tmp_path)
    h.check_consumed(recs, got, PARTS)
    shared_broker.check_alive()
