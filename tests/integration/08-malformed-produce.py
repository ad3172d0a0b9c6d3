# SPDX-License-Identifier: Apache-2.0
"""Produce requests that parse but carry bad record batches or bad parameters
(PROTOCOL.md §3.6, §7): the answer is a per-partition error code, the connection stays open,
nothing is appended, and the broker keeps serving.

Every expected code was measured on Apache Kafka 4.1.2 with kwire (SLUICE_TARGET=kafka runs
this file against it). Where Kafka's answer depends on an implementation detail, the comment
names the Kafka code path:

  * CRC-32C mismatch -> CORRUPT_MESSAGE (2): UnifiedLog.analyzeAndValidateRecords, batch.isValid.
  * magic: ProduceRequest.validateRecords requires magic 2 -> INVALID_RECORD (87) for magic 0
    and 1 (legacy batches Kafka can still iterate). A magic byte outside 0..2 (3, -1) is
    rejected earlier, by ByteBufferLogInputStream.nextBatchSize while iterating the batches,
    with CorruptRecordException -> CORRUPT_MESSAGE (2). PROTOCOL.md §3.6 says only "magic must
    be 2 => INVALID_RECORD"; Kafka's real answer splits as above, and this file follows Kafka.
  * batch size (12 + BatchLength) > message.max.bytes -> MESSAGE_TOO_LARGE (10); checked
    before the CRC, so an oversized batch with a bad CRC is also 10.
  * LastOffsetDelta + 1 != RecordsCount, RecordsCount <= 0, or a count that disagrees with the
    records present -> INVALID_RECORD (87) (LogValidator.validateBatch / the record iterator's
    "Incorrect declared batch size"); the CRC is recomputed so these are not CRC errors.
  * BaseOffset != 0, two batches for one partition, zero batches (empty records), a control
    batch, a producer id without a base sequence -> INVALID_RECORD (87).
  * a BatchLength that runs past the records bytes -> no complete batch -> INVALID_RECORD (87).
  * a BatchLength below the 49-byte v2 header -> CORRUPT_MESSAGE (2) (the batch is not valid).
  * unknown topic or partition -> UNKNOWN_TOPIC_OR_PARTITION (3): Produce never auto-creates;
    checked before acks.
  * acks not in {-1, 0, 1} -> INVALID_REQUIRED_ACKS (21) for every known partition.
  * acks=0 and any error -> Kafka closes the connection (the client has no other way to learn).

Not tested, Kafka's answer unclear: a Produce v3 whose records field is null (-1). Kafka 4.1.2
sent no response within 10 s and did not close the connection either (measured).
"""

from __future__ import annotations

import pytest

import kwire as k
import sluice_harness as h

MESSAGE_MAX = 100_000
TOPIC = "malformed-produce"
CLOSE_DEADLINE = 5.0 * h.SLOWDOWN


@pytest.fixture(scope="module")
def pb(tmp_path_factory, request):
    b = h.Broker(tmp_path_factory.mktemp("malformed-produce"), config={
        "message.max.bytes": MESSAGE_MAX,
        "auto.create.topics.enable": "false",
    })
    request.module._sluice_shared = b
    b.start()
    with k.Conn(b.host, b.port) as c:
        k.create_topic_ready(c, TOPIC)
        # first produce on a fresh partition (Kafka may answer NOT_LEADER for a moment)
        p = k.produce_retrying(c, TOPIC, 0, k.build_batch([b"first"]))
        assert p["error_code"] == k.NONE, p
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def healthy(b) -> None:
    b.check_alive()
    k.check_healthy(b.host, b.port, topic=TOPIC)


def log_end(c: k.Conn) -> int:
    p = c.list_offsets(TOPIC, 0, -1)
    assert p["error_code"] == k.NONE, p
    return p["offset"]


def _two(**kw) -> bytes:
    return k.build_batch([b"a", b"b"], **kw)


BAD_BATCHES = [
    # (id, records bytes, expected code)
    ("crc-wrong", _two(crc=0x12345678), k.CORRUPT_MESSAGE),
    ("crc-off-by-one", None, k.CORRUPT_MESSAGE),             # filled in below
    ("crc-zero", _two(crc=0), k.CORRUPT_MESSAGE),
    ("magic-0", _two(magic=0), k.INVALID_RECORD),
    ("magic-1", _two(magic=1), k.INVALID_RECORD),
    ("magic-3", _two(magic=3), k.CORRUPT_MESSAGE),
    ("magic-minus-1", _two(magic=-1), k.CORRUPT_MESSAGE),
    ("too-large-by-1", k.batch_of_size(MESSAGE_MAX + 1), k.MESSAGE_TOO_LARGE),
    ("too-large-5x", k.batch_of_size(5 * MESSAGE_MAX), k.MESSAGE_TOO_LARGE),
    ("too-large-and-bad-crc", k.batch_of_size(MESSAGE_MAX + 1, crc=1), k.MESSAGE_TOO_LARGE),
    ("count-3-delta-1", _two(records_count=3), k.INVALID_RECORD),
    ("count-and-delta-3-two-records", _two(records_count=3, last_offset_delta=2), k.INVALID_RECORD),
    ("count-and-delta-1-two-records", _two(records_count=1, last_offset_delta=0), k.INVALID_RECORD),
    ("count-0-empty", k.build_batch([], records_count=0, last_offset_delta=-1), k.INVALID_RECORD),
    ("count-negative", _two(records_count=-2, last_offset_delta=-3), k.INVALID_RECORD),
    ("base-offset-5", k.build_batch([b"a"], base_offset=5), k.INVALID_RECORD),
    ("two-batches", _two() + _two(), k.INVALID_RECORD),
    ("empty-records", b"", k.INVALID_RECORD),
    ("control-batch", k.build_batch([b"a"], attributes=0x20), k.INVALID_RECORD),
    ("producer-id-without-sequence", k.build_batch([b"a"], producer_id=5, producer_epoch=0, base_sequence=-1),
     k.INVALID_RECORD),
    ("batch-length-past-end", k.build_batch([b"a"], batch_length=1000), k.INVALID_RECORD),
    ("batch-length-below-header", k.build_batch([b"a"], batch_length=40), k.CORRUPT_MESSAGE),
]
_good = _two()
_crc = int.from_bytes(_good[17:21], "big")
BAD_BATCHES[1] = ("crc-off-by-one", _good[:17] + ((_crc + 1) & 0xFFFFFFFF).to_bytes(4, "big") + _good[21:],
                  k.CORRUPT_MESSAGE)


@pytest.mark.parametrize("version", [3, 9])
@pytest.mark.parametrize("name,records,code", BAD_BATCHES, ids=[x[0] for x in BAD_BATCHES])
def test_bad_batch_gets_partition_error(pb, name, records, code, version):
    with k.Conn(pb.host, pb.port) as c:
        before = log_end(c)
        p = c.produce_one(TOPIC, 0, records, acks=-1, version=version)
        assert p["error_code"] == code, f"{name}: Produce v{version} -> {p}, expected error {code}"
        assert p["base_offset"] == -1, p
        if version >= 8:
            assert p["record_errors"] == [], p
        # nothing appended, and the connection is still usable
        assert c.api_versions(0)["error_code"] == k.NONE
        assert log_end(c) == before, f"{name}: log end moved from {before} to {log_end(c)}"
    healthy(pb)


@pytest.mark.parametrize("acks", [2, -2, 3, 100, -32768])
def test_invalid_acks(pb, acks):
    with k.Conn(pb.host, pb.port) as c:
        before = log_end(c)
        p = c.produce_one(TOPIC, 0, _two(), acks=acks)
        assert p["error_code"] == k.INVALID_REQUIRED_ACKS, f"acks={acks}: {p}"
        assert p["base_offset"] == -1, p
        assert log_end(c) == before
    healthy(pb)


@pytest.mark.parametrize("topic,partition", [("no-such-topic", 0), (TOPIC, 1), (TOPIC, 5000), (TOPIC, -1)],
                         ids=["unknown-topic", "partition-1", "partition-5000", "partition-minus-1"])
def test_unknown_topic_or_partition(pb, topic, partition):
    """auto.create.topics.enable=false here, but Kafka never auto-creates on Produce anyway;
    the topic must still not exist afterwards."""
    with k.Conn(pb.host, pb.port) as c:
        p = c.produce_one(topic, partition, _two(), acks=-1)
        assert p["error_code"] == k.UNKNOWN_TOPIC_OR_PARTITION, f"{topic}-{partition}: {p}"
        p = c.produce_one(topic, partition, _two(), acks=1, version=9)
        assert p["error_code"] == k.UNKNOWN_TOPIC_OR_PARTITION, f"{topic}-{partition} v9: {p}"
        md = c.metadata(["no-such-topic"])
        assert md["topics"][0]["error_code"] == k.UNKNOWN_TOPIC_OR_PARTITION, md
    healthy(pb)


def test_unknown_topic_checked_before_acks(pb):
    """Kafka checks the topic first (KafkaApis), acks later (ReplicaManager): measured 3."""
    with k.Conn(pb.host, pb.port) as c:
        p = c.produce_one("no-such-topic", 0, _two(), acks=2)
        assert p["error_code"] == k.UNKNOWN_TOPIC_OR_PARTITION, p


def test_errors_are_per_partition(pb):
    """One request, three partitions: a good batch, a bad CRC and an unknown topic. Each gets
    its own answer; the good one is appended."""
    body = k.encode_produce({
        TOPIC: {0: k.build_batch([b"good-in-mixed"])},
        "no-such-topic": {0: _two()},
    }, -1, 10000, 3)
    body_bad = k.encode_produce({TOPIC: {0: _two(crc=7)}}, -1, 10000, 3)
    with k.Conn(pb.host, pb.port) as c:
        before = log_end(c)
        resp = c.call(k.PRODUCE, 3, body, k.parse_produce)
        got = {(t["name"], p["index"]): p for t in resp["responses"] for p in t["partitions"]}
        assert got[(TOPIC, 0)]["error_code"] == k.NONE and got[(TOPIC, 0)]["base_offset"] == before, got
        assert got[("no-such-topic", 0)]["error_code"] == k.UNKNOWN_TOPIC_OR_PARTITION, got
        resp = c.call(k.PRODUCE, 3, body_bad, k.parse_produce)
        assert resp["responses"][0]["partitions"][0]["error_code"] == k.CORRUPT_MESSAGE, resp
        assert log_end(c) == before + 1
    healthy(pb)


@pytest.mark.parametrize("name,records", [
    ("crc", _two(crc=99)), ("magic-1", _two(magic=1)), ("too-large", k.batch_of_size(MESSAGE_MAX + 1)),
    ("unknown-topic", None),
])
def test_acks0_error_closes_connection(pb, name, records):
    """PROTOCOL.md §3.6: with acks=0 any error makes Kafka close the connection (measured for a
    bad CRC). No response is ever sent for acks=0."""
    topic = "no-such-topic" if records is None else TOPIC
    with k.Conn(pb.host, pb.port) as c:
        c.produce(topic, 0, records if records is not None else _two(), acks=0)
        c.assert_closed_without_response(CLOSE_DEADLINE, f"acks=0 produce with {name}")
    healthy(pb)


def test_acks0_good_produce_keeps_connection(pb):
    with k.Conn(pb.host, pb.port) as c:
        before = log_end(c)
        c.produce(TOPIC, 0, k.build_batch([b"acks0-ok"]), acks=0)
        # the next request on the same connection is answered, and the record is there
        k.wait_until(lambda: log_end(c) == before + 1, 10 * h.SLOWDOWN, what="acks=0 record appended")
        f = c.fetch_one(TOPIC, 0, before)
        bt, _ = k.parse_batches(f["records"])
        assert bt[0].records()[0]["value"] == b"acks0-ok"
