# SPDX-License-Identifier: Apache-2.0
"""Consumer-group benchmark (see bench/README.md). Run through bench/run-groups.sh.

For each target broker (sluice, and optionally the Apache Kafka reference),
freshly started on its own data directory under /tmp:
  * end-to-end latency through a group: a confluent-kafka producer (acks=all,
    linger.ms=0) sends records carrying their send time at a fixed rate to a
    3-partition topic; a confluent-kafka consumer that is a group member
    receives them; latency = receive time - send time (same host clock);
  * rebalance time for 1, 3 and 10 members of one group on a 10-partition
    topic: "join" = all members subscribe at once, time until every member
    holds its assignment; "add one" = one more member joins the stable group,
    time until all members hold their new assignment (the old members learn
    of the rebalance from a heartbeat, so the client's heartbeat.interval.ms
    bounds this from below).
Both brokers run with group.initial.rebalance.delay.ms=0 so the figures show
the protocol's own cost, not a configured wait.
Prints a table and writes bench/results/<date>-groups.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
import sluice_harness as h  # noqa: E402
from bench import machine  # noqa: E402

E2E_RATE = 1000          # records/s
E2E_SECS = 20
E2E_SIZE = 512           # bytes per record value
MEMBERS = [1, 3, 10]
HEARTBEAT_MS = 1000      # client heartbeat.interval.ms for the rebalance cases
REPEATS = 3


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


# ---------------------------------------------------------------- end to end

def _e2e_producer(bootstrap: str, topic: str, n: int, rate: int, start_evt) -> None:
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
    pad = b"x" * (E2E_SIZE - 12)
    start_evt.wait(120)
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        while True:
            d = due - time.monotonic()
            if d <= 0:
                break
            p.poll(min(d, 0.01))
        p.produce(topic, struct.pack(">IQ", i, time.time_ns()) + pad)
        p.poll(0)
    p.flush(60)


def e2e(b: h.Broker, scale: float) -> dict:
    from confluent_kafka import Consumer
    topic = "bench-e2e"
    h.create_topic(b.bootstrap, topic, 3)
    n = max(1000, int(E2E_RATE * E2E_SECS * scale))
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "bench-e2e", "auto.offset.reset": "latest",
                  "fetch.wait.max.ms": 500, "enable.auto.commit": True})
    assigned = threading.Event()
    c.subscribe([topic], on_assign=lambda _c, parts: assigned.set() if parts else None)
    deadline = time.monotonic() + 60
    while not assigned.is_set():
        if time.monotonic() > deadline:
            c.close()
            return {"ok": False, "why": "no assignment within 60 s"}
        c.poll(0.1)
    # Positions are resolved on the first fetch; give "latest" a moment to be
    # looked up before the producer starts, by polling until idle.
    for _ in range(5):
        c.poll(0.1)
    evt = mp.Event()
    prod = mp.Process(target=_e2e_producer, args=(b.bootstrap, topic, n, E2E_RATE, evt))
    prod.start()
    evt.set()
    lat: list[float] = []
    seen: set[int] = set()
    deadline = time.monotonic() + n / E2E_RATE + 60
    while len(seen) < n and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        now = time.time_ns()
        i, sent = struct.unpack(">IQ", m.value()[:12])
        if i not in seen:
            seen.add(i)
            lat.append((now - sent) / 1e6)
    c.close()
    prod.join(60)
    if len(seen) < n:
        return {"ok": False, "why": f"{len(seen)} of {n} received"}
    return {"ok": True, "n": n, "p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat),
            "mean": statistics.fmean(lat)}


# ---------------------------------------------------------------- rebalance

class Member:
    """One group member polling on its own thread; records when it last
    received an assignment and what it holds."""

    def __init__(self, bootstrap: str, group: str, topic: str):
        from confluent_kafka import Consumer
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                           "heartbeat.interval.ms": HEARTBEAT_MS, "session.timeout.ms": 10000,
                           "partition.assignment.strategy": "range", "enable.auto.commit": False})
        self.topic = topic
        self.lock = threading.Lock()
        self.assigned_at = 0.0
        self.generation = 0
        self.parts: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_assign(self, _c, parts):
        with self.lock:
            self.parts = sorted(p.partition for p in parts)
            self.assigned_at = time.monotonic()
            self.generation += 1

    def _on_revoke(self, _c, _parts):
        with self.lock:
            self.parts = []

    def start(self) -> None:
        self.c.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.c.poll(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.c.close()


def _settled(members: list[Member], partitions: int, since: float) -> float | None:
    """Time at which every member holds an assignment made after `since` and the
    assignments cover all partitions exactly once; None if not yet."""
    seen: list[int] = []
    last = 0.0
    for m in members:
        with m.lock:
            if m.assigned_at < since or (not m.parts and len(members) <= partitions):
                return None
            seen += m.parts
            last = max(last, m.assigned_at)
    return last if sorted(seen) == list(range(partitions)) else None


def rebalance(b: h.Broker, n: int, rep: int) -> dict:
    topic = "bench-rebalance"
    partitions = 10
    group = f"bench-rb-{n}-{rep}"
    members = [Member(b.bootstrap, group, topic) for _ in range(n)]
    try:
        t0 = time.monotonic()
        for m in members:
            m.start()
        join = h.wait_for(lambda: _settled(members, partitions, t0), 90, f"{n} members to join")
        join_s = join - t0
        extra = Member(b.bootstrap, group, topic)
        members.append(extra)
        t1 = time.monotonic()
        extra.start()
        add = h.wait_for(lambda: _settled(members, partitions, t1), 90, f"{n}+1 members to rebalance")
        return {"ok": True, "join": join_s * 1000, "add": (add - t1) * 1000}
    except AssertionError as e:
        return {"ok": False, "why": str(e).splitlines()[0]}
    finally:
        for m in members:
            m.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=os.environ.get("BENCH_TARGETS", "sluice"),
                    help="comma-separated: sluice, kafka (default: sluice)")
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")),
                    help="multiply the end-to-end record count (default 1)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()

    rows: list[tuple[str, str, str]] = []
    failed = False
    for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
        work = Path(tempfile.mkdtemp(prefix=f"sluice-bench-groups-{target}-", dir="/tmp"))
        b = h.Broker(work, target=target, config={"group.initial.rebalance.delay.ms": "0"})
        print(f"== {target}: starting on {b.bootstrap}", flush=True)
        b.start()
        try:
            print(f"   end-to-end latency at {E2E_RATE}/s ...", flush=True)
            r = e2e(b, args.scale)
            if r["ok"]:
                rows.append((target, f"end-to-end latency, {r['n']:,} x {E2E_SIZE} B at {E2E_RATE}/s, acks=all",
                             f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms"))
            else:
                failed = True
                rows.append((target, "end-to-end latency", f"failed: {r['why']}"))
            h.create_topic(b.bootstrap, "bench-rebalance", 10)
            for n in MEMBERS:
                print(f"   rebalance, {n} member(s) ...", flush=True)
                res = [rebalance(b, n, i) for i in range(REPEATS)]
                bad = [x for x in res if not x["ok"]]
                if bad:
                    failed = True
                    rows.append((target, f"rebalance, {n} member(s)", f"failed: {bad[0]['why']}"))
                    continue
                joins = sorted(x["join"] for x in res)
                adds = sorted(x["add"] for x in res)
                rows.append((target, f"rebalance, {n} member(s)",
                             f"join {statistics.median(joins):.0f} ms (min {joins[0]:.0f}, max {joins[-1]:.0f}); "
                             f"add one {statistics.median(adds):.0f} ms (min {adds[0]:.0f}, max {adds[-1]:.0f})"))
            b.check_alive()
        finally:
            try:
                b.finish()
            except AssertionError as e:
                print(f"!! {target}: {str(e).splitlines()[0]}", flush=True)
                failed = True
            b.kill()
            shutil.rmtree(work, ignore_errors=True)

    table = "| target | case | result |\n|---|---|---|\n" + "\n".join(f"| {a} | {c} | {r} |" for a, c, r in rows)
    print("\n" + table + "\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = out / f"{dt.datetime.now():%Y-%m-%d}-groups.md"
    md.write_text(
        f"# Consumer-group benchmark, {dt.datetime.now():%Y-%m-%d %H:%M}\n\n{machine()}\n\n"
        "confluent-kafka clients; group.initial.rebalance.delay.ms=0 on both brokers. End to end: "
        "send time to receive time of each record through a group member (fetch.wait.max.ms 500, "
        "which a broker that answers a parked fetch as soon as data arrives never waits out). "
        f"Rebalance: median of {REPEATS} groups per size on a 10-partition topic, range assignor, "
        f"heartbeat.interval.ms {HEARTBEAT_MS}; 'join' = all members start together until all hold "
        "their assignment; 'add one' = one member joins a stable group until all hold the new "
        "assignment (bounded below by the heartbeat interval: old members learn of the rebalance "
        "from a heartbeat answer). Compare figures of one run only (bench/README.md).\n\n"
        f"{table}\n")
    print(f"wrote {md}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
