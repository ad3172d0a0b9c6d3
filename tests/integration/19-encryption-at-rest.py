# SPDX-License-Identifier: Apache-2.0
"""Encryption at rest (issue 8, docs/ENCRYPTION.md): sealed segments on disk, tampering detected,
keys checked at start.

  * markers: records with marker strings in keys, values and headers, produced by confluent-kafka,
    kcat and the Java console producer, a committed consumer-group offset, an offline user with a
    marker name and password; after a clean stop every byte of every file in the data directory is
    searched: no marker anywhere (segments, the consumer offsets log, the metadata store, producer
    snapshots, indexes), no key material outside the keyring; the producer state snapshots of an
    idempotent producer are sealed blobs and open again at restart. After a restart every record is
    consumed again, byte for byte.
  * rotation: `sluice keys rotate`, new data, `sluice keys rewrap`, the old key version removed
    from the keyring: everything is consumed again, users included.
  * crypto-shredding: deleting a topic zeroes each segment's key slots before the file goes.
  * tamper, live: a flipped byte in a sealed batch of partition 0 -> Fetch answers
    KAFKA_STORAGE_ERROR for that batch (the batches before it are served), partition 1 keeps
    serving a real consumer, the broker logs the failure.
  * tamper, at rest (broker stopped cleanly, then restarted): two frames swapped, a segment copied
    from another partition, a segment rolled back to an older copy of itself: each quarantines the
    partition (reported in the log; its fetches and produces get KAFKA_STORAGE_ERROR; nothing on
    disk changes) while the other partition is served; restoring the file serves everything.
  * torn tail: a partial frame after the last one (a crash mid-append) is cut at start.
  * keys: a world-readable keyring, a missing keyring, a wrong key, encryption turned off on an
    encrypted directory: each refuses to start with a clear message; sluice.keys.command works.

Sluice only (Apache Kafka has no encryption at rest). Every wait is a condition with a deadline.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path
from typing import Optional

import pytest

import kwire as k
import sluice_harness as h

TOPIC = "sealed"
STORAGE_ERROR = 56


def setup_module(module):
    h.only_on_sluice("encryption at rest is a Sluice feature")


def seg_files(data_dir: Path, topic: str, partition: int) -> list[Path]:
    return sorted((data_dir / "logs" / f"{topic}-{partition}").glob("*.log"))


def wait_audited(b: h.Broker, what: str, path: Path, position: Optional[int] = None,
                 since: int = 0) -> dict:
    """Waits (with a deadline) for the integrity record of what on path (and position), among the
    records after the first `since`."""
    found: list[dict] = []

    def seen() -> bool:
        found[:] = [d for d in h.audit_integrity(b)[since:] if d.get("what") == what
                    and d.get("path") == str(path)
                    and (position is None or d.get("position") == position)]
        return bool(found)
    h.wait_for(seen, 30, f"an audit record {what} for {path}")
    return found[0]


def produce_batches(b: h.Broker, partition: int, n: int, tag: bytes) -> list[bytes]:
    """n batches of 5 records each through the wire client, acks=all; returns the batch bytes."""
    out = []
    with k.Conn(b.host, b.port, timeout=30) as c:
        for i in range(n):
            recs = [k.Record(key=b"key-%d" % i, value=tag + b"-%d-%d-" % (i, j) + b"v" * 300)
                    for j in range(5)]
            batch = k.build_batch(recs)
            p = k.produce_retrying(c, TOPIC, partition, batch, acks=-1)
            assert p["error_code"] == k.NONE, p
            out.append(batch)
    return out


@pytest.fixture
def broker(tmp_path):
    b = h.Broker(tmp_path / "b", config={"num.partitions": "2"})
    yield b
    try:
        b.finish()
    finally:
        b.kill()


def test_markers_never_on_disk_in_segments(broker, tmp_path):
    b = broker
    password = "PWMARKER-" + os.urandom(6).hex()
    b.data_dir.mkdir(parents=True, exist_ok=True)
    h.sluice_cli("user", "add", "usermarker", "--password-stdin", "--data-dir", str(b.data_dir),
                 input=password.encode() + b"\n")
    b.start()
    assert "THE ENCRYPTION KEYS ARE IN THE DATA DIRECTORY" in b.log_text()
    h.create_topic(b.bootstrap, TOPIC, partitions=2)
    # One marker per client, in keys, values and headers.
    base = h.make_records(300, seed=19, partitions=2, text=True)
    conf = [h.Rec(r.key + b"KEYMARKER-cf", r.value + b"VALMARKER-confluent",
                  r.headers + (("hdr", b"HDRMARKER-cf"),), r.partition) for r in base[:100]]
    # Idempotent: the partitions get producer state, whose snapshots must be sealed too.
    h.produce_confluent(b.bootstrap, TOPIC, conf, extra={"enable.idempotence": True})
    kc = [h.Rec(r.key, r.value + b"VALMARKER-kcat", h.KCAT_HEADERS, 0)
          for r in h.make_records(100, seed=20, text=True)]
    kc = [h.Rec(r.key.replace(b"\t", b"_"), r.value.replace(b"\t", b"_").replace(b"\n", b"_"),
                r.headers, r.partition) for r in kc]
    h.produce_kcat(b.bootstrap, TOPIC, kc, tmp_path)
    jv = [h.Rec(r.key, r.value + b"VALMARKER-java", r.headers, None)
          for r in h.make_records(100, seed=21, text=True)]
    h.produce_java(b.bootstrap, TOPIC, jv, tmp_path)
    total = len(conf) + len(kc) + len(jv)
    # A committed group offset, with the group name as a marker.
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "GRPMARKER-group",
                  "enable.auto.commit": False})
    try:
        c.commit(offsets=[TopicPartition(TOPIC, 0, 7)], asynchronous=False)
    finally:
        c.close()
    got = h.consume_confluent(b.bootstrap, TOPIC, 2, total)
    assert len(got) == total
    b.stop()

    markers = [b"VALMARKER", b"KEYMARKER", b"HDRMARKER", b"GRPMARKER", b"usermarker",
               password.encode()]
    keyring = (b.data_dir / "keys" / "keyring").read_text()
    key_hex = [ln.split()[2].encode() for ln in keyring.splitlines() if ln.startswith("key ")]
    key_raw = [bytes.fromhex(x.decode()) for x in key_hex]
    found: dict[str, list[str]] = {}
    seg_count = 0
    for p in sorted(b.data_dir.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        rel = str(p.relative_to(b.data_dir))
        if p.suffix == ".log":
            seg_count += 1
        for m in markers:
            if m in data:
                found.setdefault(rel, []).append(m.decode())
        if rel != "keys/keyring":
            for x in key_hex + key_raw:
                assert x not in data, f"key material in {rel}"
    print("\nfiles holding markers:", found or "none")
    # The audit log is clear text by design for now (docs/ENCRYPTION.md): it
    # names resources (the group) but never record contents, users' secrets
    # or the user marker's password.
    for rel in [r for r in found if r.startswith("audit/")]:
        assert set(found.pop(rel)) <= {"GRPMARKER", "usermarker"}, rel
    # The metadata store is sealed too (it was written in the clear by the offline
    # `user add` before the first start, and resealed at that start).
    assert not found, f"markers on disk: {found}"
    assert (b.data_dir / "meta" / "sluice.meta").read_bytes()[:8] == b"SLUICEAE"
    assert seg_count >= 3, "expected the partition segments and the offsets log"
    sealed_hits = {rel: ms for rel, ms in found.items() if rel.endswith(".log")}
    assert not sealed_hits, f"markers in sealed files: {sealed_hits}"
    assert not any(password in ms for ms in found.values()), f"the password is on disk: {found}"
    for rel in found:
        assert "VALMARKER" not in found[rel] and "KEYMARKER" not in found[rel] and \
            "HDRMARKER" not in found[rel], f"record contents in {rel}: {found[rel]}"
    for part in (0, 1):
        for seg in seg_files(b.data_dir, TOPIC, part):
            h.sealed_frames(seg)  # every segment walks as sealed frames
        # The idempotent producers' state: a sealed blob, no clear snapshot magic.
        snap = (b.data_dir / "logs" / f"{TOPIC}-{part}" / "producer-state.snapshot").read_bytes()
        assert snap[:8] == b"SLUICEAE" and b"SLPS" not in snap, f"partition {part}: clear snapshot"

    # Restart (recovery reads sealed files) and consume everything again.
    before = len(b.log_text())
    b.start()
    # The sealed snapshots opened (nothing was rebuilt for want of a usable one).
    assert "producer state snapshot unusable" not in b.log_text()[before:]
    again = h.consume_confluent(b.bootstrap, TOPIC, 2, total)
    assert sorted((g.partition, g.offset, g.value) for g in again) == \
        sorted((g.partition, g.offset, g.value) for g in got)


def test_tamper_live_flip(broker):
    b = broker
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=2)
    p0 = produce_batches(b, 0, 6, b"p0")
    produce_batches(b, 1, 6, b"p1")
    (seg,) = seg_files(b.data_dir, TOPIC, 0)
    fr = h.sealed_frames(seg)
    assert len(fr) == 6
    ppos, n, bad_lpos = fr[3]
    h.flip_byte(seg, ppos + h.SEALED_FRAME_HDR + n // 2)
    with k.Conn(b.host, b.port, timeout=30) as c:
        # From 0: the three intact batches before the damaged one are served...
        p = c.fetch_one(TOPIC, 0, 0)
        assert p["error_code"] == k.NONE, p
        got, _ = k.parse_batches(p["records"] or b"")
        assert [x.base_offset for x in got] == [0, 5, 10]
        assert [x.raw[17:] for x in got] == [x[17:] for x in p0[:3]]  # from the CRC on
        # ... and the damaged one never is.
        p = c.fetch_one(TOPIC, 0, 15)
        assert p["error_code"] == STORAGE_ERROR, p
        assert not p["records"], p
        # The other partition keeps serving.
        p = c.fetch_one(TOPIC, 1, 0)
        assert p["error_code"] == k.NONE, p
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    cons = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused",
                     "enable.auto.commit": False})
    got1 = []
    try:
        cons.assign([TopicPartition(TOPIC, 1, OFFSET_BEGINNING)])
        h.wait_for(lambda: got1.extend(m for m in cons.consume(100, 0.2) if m.error() is None)
                   or len(got1) >= 30, 60, "partition 1 consumed whole")
    finally:
        cons.close()
    assert [m.offset() for m in got1] == list(range(30))
    assert "failed authentication" in b.log_text()
    # Audited once (not once per fetch that reached it), naming the file and the position.
    rec = wait_audited(b, "batch_authentication_failed", seg, bad_lpos)
    assert "failed authentication" in rec["detail"], rec
    assert len([d for d in h.audit_integrity(b) if d["what"] == "batch_authentication_failed"]) == 1
    b.check_alive()


def _restart_quarantined(b: h.Broker, needle: str) -> None:
    """Restart: the damaged partition 0 is quarantined (KAFKA_STORAGE_ERROR, reported), partition 1
    is served; nothing on disk is changed."""
    before = len(b.log_text())
    audited = len(h.audit_integrity(b))
    b._stopping = False
    b.start()
    text = b.log_text()[before:]
    for n in (needle, "refusing to serve this partition", "QUARANTINED"):
        assert n in text, f"expected {n!r} in the broker log:\n{text[-3000:]}"
    rec = wait_audited(b, "partition_quarantined", b.data_dir / "logs" / f"{TOPIC}-0",
                       since=audited)
    assert needle in rec["detail"] and "refusing to serve this partition" in rec["detail"], rec
    with k.Conn(b.host, b.port, timeout=30) as c:
        p = c.fetch_one(TOPIC, 0, 0)
        assert p["error_code"] == STORAGE_ERROR and not p["records"], p
        p = c.produce_one(TOPIC, 0, k.build_batch([k.Record(key=b"k", value=b"v")]), acks=-1)
        assert p["error_code"] == STORAGE_ERROR, p
        got, hw = k.fetch_all(c, TOPIC, 1)
        assert hw == 20 and len(got) == 4
    b.stop()


def test_tamper_at_rest(broker, tmp_path):
    b = broker
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=2)
    produce_batches(b, 0, 4, b"p0")
    produce_batches(b, 1, 4, b"p1")
    b.stop()
    (seg0,) = seg_files(b.data_dir, TOPIC, 0)
    (seg1,) = seg_files(b.data_dir, TOPIC, 1)
    good0 = seg0.read_bytes()
    old_copy = tmp_path / "old.log"
    shutil.copy(seg0, old_copy)  # the attacker's older copy, for the rollback below

    # 1. Swap two frames (equal sizes: their headers carry their positions).
    fr = h.sealed_frames(seg0)
    (a, n, _), (bpos, m, _) = fr[1], fr[2]
    assert n == m
    size = h.SEALED_FRAME_HDR + n + h.SEALED_TAG
    data = bytearray(good0)
    data[a:a + size], data[bpos:bpos + size] = good0[bpos:bpos + size], good0[a:a + size]
    seg0.write_bytes(bytes(data))
    _restart_quarantined(b, "sealed-0")
    assert seg0.read_bytes() == bytes(data), "recovery changed a quarantined segment"
    seg0.write_bytes(good0)

    # 2. A segment copied from the other partition.
    seg0.write_bytes(seg1.read_bytes())
    _restart_quarantined(b, "failed authentication")
    seg0.write_bytes(good0)

    # Intact again: starts, serves; more batches make the old copy a rollback.
    b._stopping = False
    b.start()
    produce_batches(b, 0, 3, b"p0-more")
    b.stop()
    current = seg0.read_bytes()
    # 3. Rolled back to the older copy (every frame of it authenticates).
    shutil.copy(old_copy, seg0)
    _restart_quarantined(b, "rolled back")
    seg0.write_bytes(current)
    b._stopping = False
    b.start()
    with k.Conn(b.host, b.port, timeout=30) as c:
        got, hw = k.fetch_all(c, TOPIC, 0)
        assert hw == 35 and len(got) == 7
        got, hw = k.fetch_all(c, TOPIC, 1)
        assert hw == 20 and len(got) == 4


def test_torn_tail_cut(broker):
    b = broker
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=1)
    sent = produce_batches(b, 0, 5, b"torn")
    b.kill()
    (seg,) = seg_files(b.data_dir, TOPIC, 0)
    fr = h.sealed_frames(seg)
    end_l = fr[-1][2] + fr[-1][1]
    # A crash mid-append: a valid frame header whose frame never fully reached the disk.
    hdr = struct.pack(">IIQ", 0x534C4652, 500, end_l) + os.urandom(12)
    hdr += struct.pack(">I", k.crc32c(hdr))
    with open(seg, "ab") as f:
        f.write(hdr + os.urandom(200))
    b._stopping = False
    b.start()
    assert "torn last frame" in b.log_text()
    with k.Conn(b.host, b.port, timeout=30) as c:
        got, hw = k.fetch_all(c, TOPIC, 0)
        assert hw == 25 and [x.raw[17:] for x in got] == [x[17:] for x in sent]
    produce_batches(b, 0, 1, b"after")
    h.sealed_frames(seg)  # the torn bytes were cut: the file walks cleanly


def test_keys_checked_at_start(broker, tmp_path):
    b = broker
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=1)
    produce_batches(b, 0, 2, b"keys")
    b.stop()
    keyring = b.data_dir / "keys" / "keyring"
    saved = keyring.read_bytes()

    os.chmod(keyring, 0o644)
    h.start_fails(b, str(keyring), "0644")
    os.chmod(keyring, 0o600)

    keyring.unlink()
    h.start_fails(b, "is missing")

    keyring.write_bytes(b"sluice-keyring 1\nkey 1 " + os.urandom(32).hex().encode() + b"\n")
    os.chmod(keyring, 0o600)
    h.start_fails(b, "wrong key")

    keyring.write_bytes(saved)
    os.chmod(keyring, 0o600)
    b.extra["sluice.encryption.enable"] = "false"
    b.extra["sluice.allow.insecure"] = "true"  # else refused earlier, as insecure
    h.start_fails(b, "encrypted at rest")
    del b.extra["sluice.encryption.enable"]
    del b.extra["sluice.allow.insecure"]

    # The keys from a command instead of the file (here: the file moved elsewhere).
    elsewhere = tmp_path / "vault-keyring"
    shutil.move(keyring, elsewhere)
    b.extra["sluice.keys.command"] = f"cat {elsewhere}"
    b._stopping = False
    b.start()
    assert str(elsewhere) not in b.log_text()  # the command is never logged
    with k.Conn(b.host, b.port, timeout=30) as c:
        got, hw = k.fetch_all(c, TOPIC, 0)
        assert hw == 10 and len(got) == 2


def test_rotate_rewrap_retire(broker):
    b = broker
    b.data_dir.mkdir(parents=True, exist_ok=True)
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=2)
    produce_batches(b, 0, 3, b"v1")
    b.stop()
    r = h.sluice_cli("keys", "rotate", "--data-dir", str(b.data_dir))
    assert b"added key version 2" in r.stdout, r.stdout
    keyring = b.data_dir / "keys" / "keyring"
    assert (keyring.stat().st_mode & 0o777) == 0o600
    # An offline user on the encrypted store (needs the keys too).
    h.sluice_cli("user", "add", "carol", "--password-stdin", "--data-dir", str(b.data_dir),
                 input=b"carol-secret\n")
    b._stopping = False
    b.start()
    produce_batches(b, 1, 3, b"v2")
    b.stop()
    # A third version just before the rewrap: nothing has been written under it yet, so every
    # sealed file (segments, offsets log, producer state snapshots) must be moved by rewrap.
    r = h.sluice_cli("keys", "rotate", "--data-dir", str(b.data_dir))
    assert b"added key version 3" in r.stdout, r.stdout
    r = h.sluice_cli("keys", "rewrap", "--data-dir", str(b.data_dir))
    assert b"rewrapped" in r.stdout and b"resealed the metadata store" in r.stdout, r.stdout
    # A second run has nothing left to do.
    r = h.sluice_cli("keys", "rewrap", "--data-dir", str(b.data_dir))
    assert b"rewrapped 0 file(s)" in r.stdout, r.stdout
    sealed = {str(p.relative_to(b.data_dir)): h.sealed_kek_version(p)
              for p in b.data_dir.rglob("*") if p.is_file() and p.read_bytes()[:8] == b"SLUICEAE"}
    assert any(r.endswith("producer-state.snapshot") for r in sealed), sealed
    assert set(sealed.values()) == {3}, sealed
    # Retire versions 1 and 2: only version 3 stays.
    lines = keyring.read_text().splitlines()
    keyring.write_text("\n".join(ln for ln in lines
                                 if not ln.startswith(("key 1 ", "key 2 "))) + "\n")
    os.chmod(keyring, 0o600)
    assert "key 1 " not in keyring.read_text() and "key 2 " not in keyring.read_text()
    b._stopping = False
    before = len(b.log_text())
    b.start()
    # The producer state snapshots were rewrapped too: they open under version 3 alone.
    assert "producer state snapshot unusable" not in b.log_text()[before:]
    with k.Conn(b.host, b.port, timeout=30) as c:
        got, hw = k.fetch_all(c, TOPIC, 0)
        assert hw == 15 and len(got) == 3
        got, hw = k.fetch_all(c, TOPIC, 1)
        assert hw == 15 and len(got) == 3
    r = h.sluice_cli("user", "list", "--bootstrap-server", b.bootstrap)
    assert b"carol" in r.stdout, r.stdout
    # While the broker runs, the keys commands refuse.
    r = h.sluice_cli("keys", "rewrap", "--data-dir", str(b.data_dir), check=False)
    assert r.returncode != 0 and b"in use" in r.stderr, r.stderr


def test_topic_deletion_shreds_keys(broker, tmp_path):
    b = broker
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=1)
    produce_batches(b, 0, 3, b"shred")
    (seg,) = seg_files(b.data_dir, TOPIC, 0)
    kept = tmp_path / "kept-link.log"
    os.link(seg, kept)  # what a disk reader might still find after deletion
    assert kept.read_bytes()[16:120] != bytes(104)
    admin = h.admin_client(b.bootstrap)
    for f in admin.delete_topics([TOPIC]).values():
        f.result(timeout=30)
    h.wait_for(lambda: not seg.parent.exists(), 30, "the partition directory removed")
    # The data key existed only in the header's slots: both are zeroed.
    assert kept.read_bytes()[16:120] == bytes(104)
    assert "cannot destroy its data key" not in b.log_text()


def _commit(b: h.Broker, group: str, offset: int) -> None:
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group,
                  "enable.auto.commit": False})
    try:
        c.commit(offsets=[TopicPartition(TOPIC, 0, offset)], asynchronous=False)
    finally:
        c.close()


def _committed(b: h.Broker, group: str):
    """The committed offset of TOPIC-0 for group, or the KafkaError that stopped the lookup."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    f = a.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(TOPIC, 0)])], request_timeout=10)
    try:
        res = f[group].result(timeout=30)
    except KafkaException as e:
        return e.args[0]
    return res.topic_partitions[0].offset


def _find_coordinator_and_offset(b: h.Broker, group: str) -> tuple[int, int, int]:
    """FindCoordinator v1 and OffsetFetch v2 on the wire: (FindCoordinator error, OffsetFetch error,
    committed offset of TOPIC-0 or -1)."""
    with k.Conn(b.host, b.port, timeout=30) as c:
        r = c.call(10, 1, k.Writer().string(group).int8(0).getvalue(), None)
        rd = k.Reader(r)
        rd.int32()
        fc_err = rd.int16()
        body = k.Writer().string(group).array_len(1).string(TOPIC).array_len(1).int32(0)
        rd = k.Reader(c.call(9, 2, body.getvalue(), None))
        offset = -1
        for _ in range(rd.int32()):
            rd.string()
            for _ in range(rd.int32()):
                rd.int32()
                offset = rd.int64()
                rd.string(nullable=True)
                rd.int16()
        of_err = rd.int16()
    return fc_err, of_err, offset


def _offsets_log(b: h.Broker) -> Path:
    (seg,) = sorted((b.data_dir / "internal" / "__consumer_offsets-0").glob("*.log"))
    return seg


def test_offsets_log_torn_tail_and_damage(broker):
    b = broker
    b.start()
    h.create_topic(b.bootstrap, TOPIC, partitions=2)
    produce_batches(b, 0, 2, b"g")
    produce_batches(b, 1, 2, b"g")
    for i in range(4):
        _commit(b, "grp-%d" % i, 3 + i)
    assert _committed(b, "grp-3") == 6
    b.stop()
    seg = _offsets_log(b)
    good = seg.read_bytes()
    fr = h.sealed_frames(seg)
    assert len(fr) >= 4, fr

    # 1. A torn tail (a crash mid-append): cut at start; every group is served.
    end_l = fr[-1][2] + fr[-1][1]
    hdr = struct.pack(">IIQ", 0x534C4652, 400, end_l) + os.urandom(12)
    hdr += struct.pack(">I", k.crc32c(hdr))
    with open(seg, "ab") as f:
        f.write(hdr + os.urandom(100))
    before = len(b.log_text())
    b._stopping = False
    b.start()
    h.wait_for(lambda: "torn last frame" in b.log_text()[before:], 30, "the torn tail reported")
    assert [_committed(b, "grp-%d" % i) for i in range(4)] == [3, 4, 5, 6]
    b.stop()
    assert seg.read_bytes() == good, "the torn tail was not cut exactly"

    # 2. Damage in the middle (a flipped byte in the second frame, flushed data): nothing is cut,
    #    the broker starts and says which file and where; group coordination is refused
    #    (COORDINATOR_NOT_AVAILABLE: no offset from a log that cannot be read whole is served),
    #    while every topic partition is produced to and fetched from as before.
    ppos, n, lpos = fr[1]
    h.flip_byte(seg, ppos + h.SEALED_FRAME_HDR + n // 2)
    damaged = seg.read_bytes()
    before = len(b.log_text())
    b._stopping = False
    b.start()
    h.wait_for(lambda: "group coordination is refused" in b.log_text()[before:], 30,
               "the coordinator reports the quarantined offsets log")
    text = b.log_text()[before:]
    assert f"{seg}: batch failed authentication at position {lpos} (offset 1)" in text, text[-3000:]
    assert "__consumer_offsets-0: partition QUARANTINED" in text, text[-3000:]
    rec = wait_audited(b, "partition_quarantined", seg.parent)
    assert f"batch failed authentication at position {lpos} (offset 1)" in rec["detail"], rec
    wait_audited(b, "batch_authentication_failed", seg, lpos)
    # COORDINATOR_NOT_AVAILABLE (15) from FindCoordinator and from OffsetFetch, no offset.
    assert _find_coordinator_and_offset(b, "grp-3") == (15, 15, -1)
    # A real client gets no offset (it retries the coordinator lookup until its deadline).
    err = _committed(b, "grp-3")
    assert not isinstance(err, int), f"an offset was served from a damaged offsets log: {err}"
    with k.Conn(b.host, b.port, timeout=30) as c:
        for part in (0, 1):
            p = c.produce_one(TOPIC, part, k.build_batch([k.Record(key=b"k", value=b"v")]), acks=-1)
            assert p["error_code"] == k.NONE, p
            got, hw = k.fetch_all(c, TOPIC, part)
            assert hw == 11 and len(got) == 3
    b.check_alive()
    b.stop()
    assert seg.read_bytes() == damaged, "the damaged offsets log was changed"
    # Restoring the file serves the groups again.
    seg.write_bytes(good)
    b._stopping = False
    b.start()
    assert _find_coordinator_and_offset(b, "grp-3") == (0, 0, 6)
    assert [_committed(b, "grp-%d" % i) for i in range(4)] == [3, 4, 5, 6]
