# SPDX-License-Identifier: Apache-2.0
"""Recovery of a torn or damaged log tail after a crash (DESIGN.md principle 3, PROTOCOL.md §3.1).

Scenario: produce a few MiB with acks=all into a one-partition topic with 1 MiB segments (the
smallest log.segment.bytes both Sluice and Kafka 4.x accept; so there are several segments),
SIGKILL the broker (no clean-shutdown marker), keep a pristine copy of the data directory, and
then, once per case, restore the copy, damage the LAST segment file in a chosen way, restart
and check:

  * the broker starts;
  * every batch wholly before the first damaged byte is served with its original offsets and
    exactly its original bytes (compared with what Fetch returned before the crash);
  * nothing from the damaged batch on is served, and a Fetch never returns a partial batch
    at the end of the log;
  * the high watermark (ListOffsets latest, and Fetch's high_watermark) is the end of the last
    intact batch (or the segment's base offset when nothing of it is intact);
  * new produces continue from there.

The expected cut is computed here from the segment bytes: the file is parsed as v2 batches and
validated (length, magic 2, CRC-32C) the way Kafka's LogSegment.recover does; the first batch
that is incomplete or fails validation, and everything after it, is what recovery removes.

Segment files are found by globbing `<data_dir>/**/<topic>-0/<20-digit base offset>.log` (the
Kafka layout: topic-partition directories under log.dirs), not by a hard-coded path.
SLUICE_TARGET=kafka runs the same cases against Apache Kafka 4.1 (which passes them).
Random choices are seeded (SLUICE_TEST_SEED, default below) and the seed is in every message.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import kwire as k
import sluice_harness as h

TOPIC = "torn"
SEGMENT_BYTES = 1 << 20
TOTAL_BYTES = int(3.5 * SEGMENT_BYTES)   # about three and a half segments
RECORDS_PER_BATCH = 5
VALUE_SIZE = 2000
SEED = int(os.environ.get("SLUICE_TEST_SEED", "20261128"))
READY_TIMEOUT = 60 * h.SLOWDOWN

CONFIG = {
    "log.segment.bytes": SEGMENT_BYTES,
    "auto.create.topics.enable": "false",
}
if h.TARGET != "kafka":
    # These cases parse and damage the plaintext batch format on disk, so they
    # run with encryption at rest off; 19-encryption-at-rest.py tears and
    # damages sealed segments instead.
    CONFIG["sluice.encryption.enable"] = "false"
    CONFIG["sluice.allow.insecure"] = "true"  # encryption off is a weakened set-up

SEGMENT_NAME = re.compile(r"^(\d{20})\.log$")


@dataclass
class Pristine:
    broker: h.Broker
    copy: Path                      # pristine copy of broker.data_dir
    served: dict                    # base offset -> Batch as fetched before the crash
    end: int                        # log end offset before the crash


def partition_dir(data_dir: Path) -> Path:
    found = [p for p in data_dir.rglob(f"{TOPIC}-0") if p.is_dir()]
    assert len(found) == 1, f"expected one {TOPIC}-0 directory under {data_dir}, found {found}"
    return found[0]


def segments(pdir: Path) -> list[tuple[int, Path]]:
    out = []
    for p in pdir.iterdir():
        m = SEGMENT_NAME.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    out.sort()
    return out


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, request):
    b = h.Broker(tmp_path_factory.mktemp("torn-tail"), config=CONFIG)
    request.module._sluice_shared = b
    b.start()
    rng = random.Random(SEED)
    try:
        with k.Conn(b.host, b.port, timeout=30) as c:
            k.create_topic_ready(c, TOPIC)
            produced = 0
            expect_offset = 0
            while produced < TOTAL_BYTES:
                recs = [k.Record(key=b"k%d" % (expect_offset + i), value=rng.randbytes(VALUE_SIZE),
                                 headers=[("n", b"%d" % (expect_offset + i))])
                        for i in range(RECORDS_PER_BATCH)]
                batch = k.build_batch(recs)
                p = k.produce_retrying(c, TOPIC, 0, batch, acks=-1)
                assert p["error_code"] == k.NONE and p["base_offset"] == expect_offset, p
                expect_offset += RECORDS_PER_BATCH
                produced += len(batch)
            served, hw = k.fetch_all(c, TOPIC, 0)
            assert hw == expect_offset, (hw, expect_offset)
            assert [x.base_offset for x in served] == list(range(0, expect_offset, RECORDS_PER_BATCH))
        b.kill()  # SIGKILL: no clean shutdown
        copy = tmp_path_factory.mktemp("torn-pristine") / "data"
        shutil.copytree(b.data_dir, copy, symlinks=True)
        segs = segments(partition_dir(copy))
        assert len(segs) >= 3, f"expected several segments with log.segment.bytes={SEGMENT_BYTES}: {segs}"
        # The segments hold exactly the batches that were served, in order, byte for byte.
        by_base = {x.base_offset: x for x in served}
        next_base = 0
        for base, path in segs:
            data = path.read_bytes()
            batches, valid = k.valid_prefix(data)
            assert base == next_base, f"segment {path.name} starts at {base}, previous ended at {next_base}"
            assert batches, f"{path}: no valid v2 batch at the start (is the file a plain Kafka log?)"
            assert data[valid:].strip(b"\x00") == b"", \
                f"{path}: {len(data) - valid} bytes after the last valid batch in a clean log"
            for bt in batches:
                assert bt.raw == by_base[bt.base_offset].raw, \
                    f"{path.name}: batch {bt.base_offset} on disk differs from what Fetch served"
            next_base = batches[-1].next_offset
        assert next_base == hw
        yield Pristine(b, copy, by_base, hw)
    finally:
        try:
            b.finish()
        finally:
            b.kill()


# ------------------------------------------------------------------------------------------
# damage


def _damage(mode: str, data: bytes, rng: random.Random, next_offset: int) -> bytes:
    """Returns the damaged content of the last segment."""
    batches, valid = k.valid_prefix(data)
    assert len(batches) >= 3, f"last segment has only {len(batches)} batches"
    data = data[:valid]  # drop any zero fill (none expected, but keep the test exact)

    def pick(lo_index=0, hi_index=None):
        hi_index = len(batches) - 1 if hi_index is None else hi_index
        return batches[rng.randint(lo_index, hi_index)]

    if mode == "truncate-mid-batch":
        bt = pick()
        return data[:rng.randint(bt.position + k.BATCH_HEADER_SIZE, bt.end - 1)]
    if mode == "truncate-in-header":
        bt = pick(1)
        return data[:rng.randint(bt.position + 1, bt.position + k.BATCH_HEADER_SIZE - 1)]
    if mode == "truncate-at-boundary":
        return data[:pick(0, len(batches) - 2).end]
    if mode == "truncate-to-empty":
        return b""
    if mode in ("flip-bytes", "flip-last-batch"):
        bt = batches[-1] if mode == "flip-last-batch" else pick()
        n = rng.randint(1, 4)  # a burst of <= 32 bits: CRC-32C detects every one
        # from the magic byte on: everything there is covered by the CRC or is the CRC/magic
        pos = rng.randint(bt.position + 16, bt.end - n)
        out = bytearray(data)
        for i in range(n):
            out[pos + i] ^= rng.randint(1, 255)
        return bytes(out)
    if mode == "zero-tail":
        bt = pick(1)
        pos = rng.randint(bt.position, bt.end - 1)
        return data[:pos] + b"\x00" * (len(data) - pos)
    if mode == "torn-append":
        # a crash in the middle of appending the next batch: a prefix of a real batch
        nb = k.build_batch([k.Record(value=rng.randbytes(VALUE_SIZE))] * RECORDS_PER_BATCH,
                           base_offset=next_offset, partition_leader_epoch=batches[-1].partition_leader_epoch)
        return data + nb[:rng.randint(1, len(nb) - 1)]
    if mode == "garbage-append":
        return data + rng.randbytes(rng.randint(1, 300))
    raise ValueError(mode)


def _first_difference(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


CASES = [
    ("truncate-mid-batch", 0), ("truncate-mid-batch", 1), ("truncate-in-header", 0),
    ("truncate-at-boundary", 0), ("truncate-to-empty", 0), ("flip-bytes", 0), ("flip-bytes", 1),
    ("flip-last-batch", 0), ("zero-tail", 0), ("torn-append", 0), ("garbage-append", 0),
]


@pytest.mark.parametrize("mode,trial", CASES, ids=[f"{m}-{t}" for m, t in CASES])
def test_torn_tail_recovery(pristine, mode, trial):
    b = pristine.broker
    seed = SEED * 1000 + CASES.index((mode, trial))
    rng = random.Random(seed)
    ctx = f"[mode {mode}, seed {seed}]"

    # restore the crashed state, then damage the last segment
    assert not b.running()
    shutil.rmtree(b.data_dir)
    shutil.copytree(pristine.copy, b.data_dir, symlinks=True)
    segs = segments(partition_dir(b.data_dir))
    seg_base, seg_path = segs[-1]
    original = seg_path.read_bytes()
    damaged = _damage(mode, original, rng, pristine.end)
    seg_path.write_bytes(damaged)

    # what recovery must keep: the valid prefix of the damaged file, which must also be
    # exactly the batches that end before the first changed byte (a check on this test)
    keep, keep_bytes = k.valid_prefix(damaged)
    cut = _first_difference(original, damaged)
    orig_batches, _ = k.valid_prefix(original)
    assert [x.base_offset for x in keep] == [x.base_offset for x in orig_batches if x.end <= cut], ctx
    expected_end = keep[-1].next_offset if keep else seg_base
    ctx += (f" segment {seg_path.name}: {len(original)} -> {len(damaged)} bytes, first change at byte {cut}, "
            f"{len(keep)} of {len(orig_batches)} batches intact, expected log end {expected_end}")

    print(ctx)  # shown with -rP, and on failure
    try:
        b.start(timeout=READY_TIMEOUT)
        with k.Conn(b.host, b.port, timeout=30) as c:
            k.wait_for_leader(c, TOPIC, 0, READY_TIMEOUT)

            def latest():
                p = c.list_offsets(TOPIC, 0, k.LATEST)
                return p if p["error_code"] == k.NONE else None

            lo = k.wait_until(latest, READY_TIMEOUT, what="ListOffsets after restart")
            assert lo["offset"] == expected_end, f"{ctx}: ListOffsets latest = {lo['offset']}"
            earliest = c.list_offsets(TOPIC, 0, k.EARLIEST)
            assert earliest["error_code"] == k.NONE and earliest["offset"] == 0, f"{ctx}: earliest {earliest}"

            # everything before the cut, byte for byte; nothing after
            served, hw = k.fetch_all(c, TOPIC, 0)
            assert hw == expected_end, f"{ctx}: Fetch high watermark {hw}"
            want = [bt for base, bt in sorted(pristine.served.items()) if bt.next_offset <= expected_end]
            assert [x.base_offset for x in served] == [x.base_offset for x in want], \
                (f"{ctx}: served bases ...{[x.base_offset for x in served][-5:]}, "
                 f"want ...{[x.base_offset for x in want][-5:]}")
            for got, exp in zip(served, want):
                assert got.raw == exp.raw, f"{ctx}: batch {exp.base_offset} served with different bytes"

            # the tail of the log: no partial batch after the last intact one
            if want:
                f = c.fetch_one(TOPIC, 0, want[-1].base_offset, partition_max_bytes=8 << 20)
                tail, used = k.parse_batches(f["records"] or b"")
                assert used == len(f["records"] or b""), \
                    (f"{ctx}: {len(f['records']) - used} bytes of a partial batch served after offset "
                     f"{want[-1].base_offset}")
                assert tail[-1].next_offset == expected_end, ctx
            f = c.fetch_one(TOPIC, 0, expected_end)
            assert f["error_code"] == k.NONE and (f["records"] or b"") == b"", f"{ctx}: fetch at the end: {f}"
            assert f["high_watermark"] == expected_end, f"{ctx}: {f}"
            resp = c.fetch(TOPIC, 0, expected_end + 1)
            pe = resp["responses"][0]["partitions"][0]
            assert pe["error_code"] == 1, f"{ctx}: fetch past the end must be OFFSET_OUT_OF_RANGE: {pe}"

            # new produces continue from the cut
            for i in range(2):
                val = b"after-recovery-%d-" % i + rng.randbytes(16)
                p = k.produce_retrying(c, TOPIC, 0, k.build_batch([val, val]), acks=-1)
                assert p["error_code"] == k.NONE, f"{ctx}: produce after recovery: {p}"
                assert p["base_offset"] == expected_end + 2 * i, f"{ctx}: produce after recovery at {p}"
                f = c.fetch_one(TOPIC, 0, p["base_offset"])
                got = k.parse_batches(f["records"])[0]
                assert got and got[0].base_offset == p["base_offset"], ctx
                assert [r["value"] for r in got[0].records()] == [val, val], ctx
            assert c.list_offsets(TOPIC, 0, k.LATEST)["offset"] == expected_end + 4, ctx
        b.check_alive()
    finally:
        b.kill()
