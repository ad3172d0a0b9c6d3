# SPDX-License-Identifier: Apache-2.0
"""Administration with real tools: topics (create, describe, alter partitions,
delete), configurations (describe, alter, incremental alter, validation),
records (delete records, list offsets by time), the cluster (describe), each
through Kafka's Java CLI tools or librdkafka's admin client (confluent-kafka),
checking what the tool reports and what the broker then serves."""

import json
import time

import pytest
from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions,
                                   NewTopic, OffsetSpec)

import kwire
import sluice_harness as h


def admin(b):
    return h.admin_client(b.bootstrap)


def result(futures, timeout=30):
    return {k: f.result(timeout=timeout) for k, f in futures.items()}


def topic_error(futures, name, timeout=30):
    try:
        futures[name].result(timeout=timeout)
    except KafkaException as e:
        return e.args[0]
    return None


def test_kafka_topics_lifecycle(shared_broker):
    bs = shared_broker.bootstrap
    h.kafka_tool("kafka-topics", "--bootstrap-server", bs, "--create", "--topic", "adm-life",
                 "--partitions", "2", "--config", "retention.ms=123456")
    out = h.kafka_tool("kafka-topics", "--bootstrap-server", bs, "--describe", "--topic",
                       "adm-life").stdout.decode()
    assert "PartitionCount: 2" in out and "retention.ms=123456" in out, out
    # The same name again is refused with Kafka's message.
    r = h.kafka_tool("kafka-topics", "--bootstrap-server", bs, "--create", "--topic", "adm-life",
                     "--partitions", "1", check=False)
    assert r.returncode != 0 and b"already exists" in r.stdout + r.stderr
    h.kafka_tool("kafka-topics", "--bootstrap-server", bs, "--alter", "--topic", "adm-life",
                 "--partitions", "5")
    assert h.topic_partitions(bs, "adm-life")["adm-life"].keys() == {0, 1, 2, 3, 4}
    # Fewer partitions cannot be asked for.
    r = h.kafka_tool("kafka-topics", "--bootstrap-server", bs, "--alter", "--topic", "adm-life",
                     "--partitions", "3", check=False)
    assert r.returncode != 0
    h.kafka_tool("kafka-topics", "--bootstrap-server", bs, "--delete", "--topic", "adm-life")
    listed = h.kafka_tool("kafka-topics", "--bootstrap-server", bs, "--list").stdout.decode().split()
    assert "adm-life" not in listed
    # A deleted name can be created again, empty.
    h.kafka_tool("kafka-topics", "--bootstrap-server", bs, "--create", "--topic", "adm-life",
                 "--partitions", "1")
    assert h.end_offsets(bs, "adm-life", 1) == {0: 0}


def test_create_topics_errors(shared_broker):
    a = admin(shared_broker)
    fs = a.create_topics([NewTopic("adm-rf3", 1, 3), NewTopic("bad name!", 1, 1),
                          NewTopic("adm-badcfg", 1, 1, config={"retention.ms": "soon"}),
                          NewTopic("adm-unknowncfg", 1, 1, config={"no.such.config": "1"}),
                          NewTopic("adm-zero", 0, 1)], request_timeout=15)
    assert topic_error(fs, "adm-rf3").code() == 38           # INVALID_REPLICATION_FACTOR
    assert topic_error(fs, "bad name!").code() == 17         # INVALID_TOPIC_EXCEPTION
    assert topic_error(fs, "adm-badcfg").code() == 40        # INVALID_CONFIG
    assert topic_error(fs, "adm-unknowncfg").code() == 40
    assert topic_error(fs, "adm-zero").code() == 37          # INVALID_PARTITIONS
    # validate_only changes nothing.
    fs = a.create_topics([NewTopic("adm-validate", 3, 1)], validate_only=True)
    assert topic_error(fs, "adm-validate") is None
    assert "adm-validate" not in h.topic_partitions(shared_broker.bootstrap)
    # A name twice in one raw request: INVALID_REQUEST, answered once (as
    # Kafka, whose results are keyed by name), and nothing is created.
    with kwire.Conn(shared_broker.host, shared_broker.port) as c:
        r = c.create_topics([{"name": "adm-dup", "partitions": 1, "replication_factor": 1,
                              "configs": {}}] * 2 +
                            [{"name": "adm-single", "partitions": 1, "replication_factor": 1,
                              "configs": {}}])
    got = [(t["name"], t["error_code"]) for t in r["topics"]]
    assert sorted(got) == [("adm-dup", 42), ("adm-single", 0)]  # clients match results by name
    assert "adm-dup" not in h.topic_partitions(shared_broker.bootstrap)


def test_configs_describe_alter_incremental(shared_broker):
    bs = shared_broker.bootstrap
    h.create_topic(bs, "adm-cfg", 1)
    # kafka-configs uses IncrementalAlterConfigs.
    h.kafka_tool("kafka-configs", "--bootstrap-server", bs, "--entity-type", "topics",
                 "--entity-name", "adm-cfg", "--alter", "--add-config",
                 "retention.ms=86400000,max.message.bytes=2000000")
    out = h.kafka_tool("kafka-configs", "--bootstrap-server", bs, "--entity-type", "topics",
                       "--entity-name", "adm-cfg", "--describe").stdout.decode()
    assert "retention.ms=86400000" in out and "max.message.bytes=2000000" in out, out
    h.kafka_tool("kafka-configs", "--bootstrap-server", bs, "--entity-type", "topics",
                 "--entity-name", "adm-cfg", "--alter", "--delete-config", "retention.ms")
    a = admin(shared_broker)
    res = ConfigResource("topic", "adm-cfg")
    (entries,) = result(a.describe_configs([res])).values()
    assert entries["retention.ms"].value == "604800000"  # back to the broker default
    assert entries["retention.ms"].is_default
    assert entries["max.message.bytes"].value == "2000000"
    assert not entries["max.message.bytes"].is_default
    # Incremental APPEND on a list config, then a bad value is refused.
    res = ConfigResource("topic", "adm-cfg", incremental_configs=[
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND)])
    result(a.incremental_alter_configs([res]))
    (entries,) = result(a.describe_configs([ConfigResource("topic", "adm-cfg")])).values()
    assert set(entries["cleanup.policy"].value.split(",")) == {"delete", "compact"}
    bad = ConfigResource("topic", "adm-cfg", incremental_configs=[
        ConfigEntry("segment.bytes", "-5", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as ei:
        result(a.incremental_alter_configs([bad]))
    assert ei.value.args[0].code() == 40
    # The broker resource describes the static configuration.
    (entries,) = result(a.describe_configs([ConfigResource("broker", "1")])).values()
    assert entries["num.partitions"].value == "1"
    assert entries["auto.create.topics.enable"].value == "true"


def test_max_message_bytes_of_topic_is_enforced(shared_broker):
    bs = shared_broker.bootstrap
    h.create_topic(bs, "adm-small", 1, config={"max.message.bytes": "2000"})
    with kwire.Conn(shared_broker.host, shared_broker.port) as c:
        ok = kwire.build_batch([b"x" * 100])
        assert c.produce_one("adm-small", 0, ok)["error_code"] == 0
        big = kwire.build_batch([b"x" * 3000])
        assert c.produce_one("adm-small", 0, big)["error_code"] == 10  # MESSAGE_TOO_LARGE


def test_delete_records_and_list_offsets(shared_broker, tmp_path):
    bs = shared_broker.bootstrap
    h.create_topic(bs, "adm-recs", 1)
    with kwire.Conn(shared_broker.host, shared_broker.port) as c:
        t0 = int(time.time() * 1000) - 100000
        for i in range(10):
            b = kwire.build_batch([b"r%d" % i], base_timestamp=t0 + i * 1000, max_timestamp=t0 + i * 1000)
            assert c.produce_one("adm-recs", 0, b)["base_offset"] == i
    spec = tmp_path / "del.json"
    spec.write_text(json.dumps({"partitions": [{"topic": "adm-recs", "partition": 0, "offset": 4}],
                                "version": 1}))
    out = h.kafka_tool("kafka-delete-records", "--bootstrap-server", bs, "--offset-json-file",
                       str(spec)).stdout.decode()
    assert "low_watermark: 4" in out, out
    a = admin(shared_broker)
    tp = TopicPartition("adm-recs", 0)
    earliest = result(a.list_offsets({tp: OffsetSpec.earliest()}))[tp].offset
    latest = result(a.list_offsets({tp: OffsetSpec.latest()}))[tp].offset
    by_time = result(a.list_offsets({tp: OffsetSpec.for_timestamp(t0 + 6500)}))[tp].offset
    max_ts = result(a.list_offsets({tp: OffsetSpec.max_timestamp()}))[tp].offset
    assert (earliest, latest, by_time, max_ts) == (4, 10, 7, 9)
    # Reading below the new start is out of range; from it, the records are there.
    with kwire.Conn(shared_broker.host, shared_broker.port) as c:
        assert c.fetch_one("adm-recs", 0, 2)["error_code"] == 1  # OFFSET_OUT_OF_RANGE
        batches, hw = kwire.fetch_all(c, "adm-recs", 0, start=4)
        assert hw == 10 and [r["value"] for bt in batches for r in bt.records()] == \
            [b"r%d" % i for i in range(4, 10)]


def test_describe_cluster_and_metadata(shared_broker):
    a = admin(shared_broker)
    md = a.list_topics(timeout=10)
    assert list(md.brokers) == [1]
    assert md.brokers[1].port == shared_broker.port
    assert md.cluster_id and md.controller_id == 1
    # The Java admin path: DescribeCluster through kafka-broker-api-versions / cluster id.
    out = h.kafka_tool("kafka-cluster", "cluster-id", "--bootstrap-server",
                       shared_broker.bootstrap).stdout.decode()
    assert md.cluster_id in out


def test_auto_create_follows_config(broker_factory):
    b = broker_factory(config={"auto.create.topics.enable": "false"})
    b.start()
    with kwire.Conn(b.host, b.port) as c:
        md = c.metadata(["adm-auto"], version=4)
        (t,) = md["topics"]
        assert t["error_code"] == 3
    b.stop()


def test_timestamps_outside_the_topic_bounds_are_refused(shared_broker):
    h.create_topic(shared_broker.bootstrap, "adm-ts", 1,
                   config={"message.timestamp.before.max.ms": "86400000"})
    now = int(time.time() * 1000)
    with kwire.Conn(shared_broker.host, shared_broker.port) as c:
        ok = kwire.build_batch([b"now"], base_timestamp=now, max_timestamp=now)
        assert c.produce_one("adm-ts", 0, ok)["error_code"] == 0
        # Kafka 4.x default message.timestamp.after.max.ms is one hour.
        future = now + 2 * 3600 * 1000
        b = kwire.build_batch([b"future"], base_timestamp=future, max_timestamp=future)
        assert c.produce_one("adm-ts", 0, b)["error_code"] == 32  # INVALID_TIMESTAMP
        past = now - 2 * 86400 * 1000
        b = kwire.build_batch([b"past"], base_timestamp=past, max_timestamp=past)
        assert c.produce_one("adm-ts", 0, b)["error_code"] == 32
