# SPDX-License-Identifier: Apache-2.0
"""No acknowledged write is lost (DESIGN.md principle 3), across kill -9.

A confluent-kafka producer (acks=all, idempotence off) produces in a loop while
the test kills the broker with SIGKILL after a random number of
acknowledgements, with requests still in flight. The broker is started again on
the same data directory; the producer's queued and in-flight records are
retried to it and their delivery reports collected too. Then every record whose
delivery report succeeded must be in the log at exactly the partition and
offset it was acknowledged at, byte for byte, and each partition's offsets must
run 0..high-watermark without a gap. Three rounds on the same log, each
killing at a different point; the checks cover all rounds so far.

SLUICE_CRASH_SEED picks the kill points (printed on failure)."""

from __future__ import annotations

import os
import random
import time

import pytest

import sluice_harness as h

ROUNDS = 3
PARTS = 3
TOPIC = "crash"


class AckLog:
    def __init__(self):
        self.acked: dict[tuple[int, int], bytes] = {}
        self.failed = 0
        self.this_round = 0

    def callback(self, value: bytes):
        def cb(err, msg):
            if err is not None:
                self.failed += 1
                return
            where = (msg.partition(), msg.offset())
            prev = self.acked.get(where)
            assert prev is None or prev == value, (
                f"two different records acknowledged at p{where[0]}@{where[1]}: "
                f"{prev[:40]!r} and {value[:40]!r}"
            )
            self.acked[where] = value
            self.this_round += 1
        return cb


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_acknowledged_records_survive_kill9(broker):
    from confluent_kafka import Producer

    seed = int(os.environ.get("SLUICE_CRASH_SEED", "7007"))
    rng = random.Random(seed)
    h.create_topic(broker.bootstrap, TOPIC, PARTS)
    log = AckLog()
    seq = 0
    for rnd in range(ROUNDS):
        threshold = rng.randint(3000, 40000)
        linger = rng.choice([0, 2, 10])
        ctx = f"seed {seed}, round {rnd}, kill after {threshold} acks, linger.ms={linger}"
        p = Producer({
            "bootstrap.servers": broker.bootstrap,
            "acks": "all",
            "enable.idempotence": False,
            "linger.ms": linger,
            "batch.num.messages": 2000,
            "queue.buffering.max.messages": 20000,
            "message.timeout.ms": int(60000 * h.SLOWDOWN),
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 500,
            "retry.backoff.ms": 50,
        })
        log.this_round = 0
        deadline = time.monotonic() + 300 * h.SLOWDOWN
        while log.this_round < threshold:
            assert time.monotonic() < deadline, f"{ctx}: only {log.this_round} acks by the deadline"
            value = f"#{seq}|r{rnd}|".encode() + rng.randbytes(rng.randint(0, 300))
            try:
                p.produce(TOPIC, value=value, key=str(seq).encode(), partition=seq % PARTS,
                          on_delivery=log.callback(value))
                seq += 1
            except BufferError:
                p.poll(0.01)
                continue
            if seq % 200 == 0:
                p.poll(0)
        in_flight = len(p)
        broker.kill()
        p.poll(0)
        broker.start()
        left = p.flush(120 * h.SLOWDOWN)
        assert left == 0, f"{ctx}: {left} records neither delivered nor failed after the restart"
        del p

        by_part = h.consume_all_confluent(broker.bootstrap, TOPIC, PARTS)
        lost = []
        for (part, off), value in sorted(log.acked.items()):
            recs = by_part[part]
            if off >= len(recs):
                lost.append(f"p{part}@{off} beyond the high watermark {len(recs)}")
            elif recs[off].value != value:
                lost.append(f"p{part}@{off} holds {recs[off].value[:30]!r}, acknowledged {value[:30]!r}")
            if len(lost) >= 10:
                break
        assert not lost, (
            f"{ctx}: acknowledged records lost or changed ({len(log.acked)} acked, "
            f"{in_flight} in flight at the kill):\n  " + "\n  ".join(lost)
        )
        assert len(log.acked) >= threshold, ctx
        print(f"{ctx}: {len(log.acked)} acknowledged so far, {in_flight} queued or in flight at the kill, "
              f"{log.failed} failed deliveries")
    assert log.acked, "nothing was acknowledged"
