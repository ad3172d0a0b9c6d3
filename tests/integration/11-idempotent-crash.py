# SPDX-License-Identifier: Apache-2.0
"""Exactly once, in order, through a broker crash: real idempotent producers
with their defaults (the Java console producer: idempotence on, acks=all;
kafka-python 3.x: idempotent by default) keep sending while the broker is
killed with SIGKILL and restarted on the same port. The producers retry what
was not acknowledged; the broker's producer state (rebuilt from the log and
its snapshot at start) drops the retries of batches that did reach the disk.
At the end the partition holds every record exactly once, in send order."""

import threading
import time

import pytest

import sluice_harness as h

N_JAVA = 300000
N_KP = 150000
KILL_AT = 5000


def end_offset(bs, topic):
    return h.end_offsets(bs, topic, 1)[0]


def crash_when(broker, topic, threshold, done):
    """Kills the broker once the partition holds `threshold` records (or the
    producer finished), restarts it, and returns the end offset seen before."""
    seen = h.wait_for(lambda: done.is_set() or end_offset(broker.bootstrap, topic) >= threshold,
                      120 * h.SLOWDOWN, f"{threshold} records in {topic}")
    # The point is a crash in the middle of the stream.
    assert not done.is_set(), "the producer finished before the broker could be killed"
    broker.kill()
    broker.start()
    return seen


def check_exactly_once_in_order(bs, topic, expected):
    got = h.consume_all_confluent(bs, topic, 1)[0]
    values = [g.value for g in got]
    dups = len(values) - len(set(values))
    assert dups == 0, f"{dups} records written twice"
    assert values == expected, (
        f"{len(values)} records; first difference at "
        f"{next((i for i, (a, b) in enumerate(zip(values, expected)) if a != b), min(len(values), len(expected)))}")


@pytest.mark.slow
def test_java_producer_defaults_exactly_once_across_kill(broker, tmp_path):
    topic = "idem-crash-java"
    h.create_topic(broker.bootstrap, topic, 1)
    lines = [f"java-{i:06d}" for i in range(N_JAVA)]
    data = tmp_path / "in.txt"
    data.write_text("".join(l + "\n" for l in lines))
    done = threading.Event()
    errors = []

    def produce():
        try:
            # Defaults: enable.idempotence=true, acks=all, retries until delivery.timeout.ms.
            h.kafka_tool("kafka-console-producer", "--bootstrap-server", broker.bootstrap, "--topic", topic,
                         "--producer-property", "linger.ms=5", stdin_path=data, timeout=300)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            done.set()

    t = threading.Thread(target=produce)
    t.start()
    crash_when(broker, topic, KILL_AT, done)
    t.join(timeout=330)
    assert not t.is_alive() and not errors, errors
    check_exactly_once_in_order(broker.bootstrap, topic, [l.encode() for l in lines])


@pytest.mark.slow
def test_kafka_python_idempotent_exactly_once_across_kill(broker):
    from kafka import KafkaProducer

    topic = "idem-crash-kp"
    h.create_topic(broker.bootstrap, topic, 1)
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5, retries=2**31 - 1,
                      request_timeout_ms=5000, delivery_timeout_ms=120000,
                      reconnect_backoff_ms=100)
    assert p.config["enable_idempotence"], "kafka-python 3.x producers are idempotent by default"
    done = threading.Event()
    futures = []

    def produce():
        try:
            for i in range(N_KP):
                futures.append(p.send(topic, value=b"kp-%06d" % i, partition=0))
            p.flush(timeout=150)
        finally:
            done.set()

    t = threading.Thread(target=produce)
    t.start()
    crash_when(broker, topic, KILL_AT, done)
    t.join(timeout=200)
    assert not t.is_alive()
    offsets = [f.get(timeout=1).offset for f in futures]
    p.close()
    assert offsets == list(range(N_KP)), "acknowledged offsets are not 0..N-1"
    check_exactly_once_in_order(broker.bootstrap, topic, [b"kp-%06d" % i for i in range(N_KP)])
