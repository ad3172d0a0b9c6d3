# SPDX-License-Identifier: Apache-2.0
"""Core produce/consume benchmark (see bench/README.md). Run through bench/run.sh.

For each target broker (sluice, and optionally the Apache Kafka reference),
freshly started on its own data directory under /tmp, and for record sizes of
100 B and 1 KiB:
  * produce with kafka-producer-perf-test, acks=1 and acks=all (idempotence
    off), one partition, a fixed record count: throughput and latency;
  * consume that many records back: with kafka-consumer-perf-test (needs
    consumer groups) and with kcat (explicit partition, no group).
Prints a table and writes bench/results/<date>-core.md plus the raw tool output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import sluice_harness as h  # noqa: E402

# Record counts sized for roughly 10-30 s per produce case on the project's
# 2-core machine; --scale multiplies them.
CASES = [
    # (record size, records)
    (100, 2_000_000),
    (1024, 600_000),
]
ACKS = ["1", "all"]
# Latency at a fixed, moderate rate (records/s, seconds): at full speed the
# perf tool's own send buffer dominates the latency it reports.
LATENCY_RATE = 5000
LATENCY_SECS = 15

PERF_RE = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
    r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th"
)


class Raw:
    def __init__(self):
        self.parts: list[str] = []

    def add(self, title: str, argv: list[str], r: subprocess.CompletedProcess | None, secs: float, note: str = ""):
        out = ""
        if r is not None:
            out = (r.stdout or b"").decode("utf-8", "replace")[-6000:]
            err = (r.stderr or b"").decode("utf-8", "replace")[-3000:]
            if err.strip():
                out += "\n[stderr]\n" + err
        self.parts.append(f"## {title}\n\n$ {' '.join(argv)}\n# exit {r.returncode if r else '-'}, "
                          f"{secs:.1f} s {note}\n\n```\n{out.strip()}\n```\n")


def run_timed(argv: list[str], timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    t = time.monotonic()
    r = h.run(argv, timeout=timeout, check=False)
    return r, time.monotonic() - t


def produce(b: h.Broker, topic: str, size: int, n: int, acks: str, raw: Raw, rate: int = -1,
            client=None, label: str = "") -> dict:
    """kafka-producer-perf-test. client: a broker_profiles.Client (address,
    TLS and SASL settings) instead of b's plaintext bootstrap."""
    argv = [str(h.KAFKA_BIN / "kafka-producer-perf-test.sh"), "--topic", topic, "--num-records", str(n),
            "--record-size", str(size), "--throughput", str(rate), "--producer-props",
            f"bootstrap.servers={client.bootstrap if client else b.bootstrap}", f"acks={acks}",
            "enable.idempotence=false"]
    if client is not None:
        argv += ["--producer.config", str(client.java_properties())]
    r, secs = run_timed(argv, timeout=900)
    raw.add(f"{label or b.target}: produce {size} B acks={acks} at {'full speed' if rate < 0 else f'{rate}/s'}",
            argv, r, secs)
    m = None
    for line in (r.stdout or b"").decode().splitlines():
        m = PERF_RE.search(line) or m
    if r.returncode != 0 or m is None:
        return {"ok": False, "why": f"exit {r.returncode}"}
    sent, rps, mbs, avg, mx, p50, p95, p99, p999 = m.groups()
    ok = int(sent) == n
    return {"ok": ok, "why": "" if ok else f"{sent} of {n} sent", "rps": float(rps), "mbs": float(mbs),
            "p50": int(p50), "p99": int(p99), "p999": int(p999), "avg": float(avg), "max": float(mx),
            "secs": secs}


def consume_perf(b: h.Broker, topic: str, size: int, n: int, raw: Raw, client=None, label: str = "",
                 group: str = "") -> dict:
    argv = [str(h.KAFKA_BIN / "kafka-consumer-perf-test.sh"),
            "--bootstrap-server", client.bootstrap if client else b.bootstrap,
            "--topic", topic, "--messages", str(n), "--timeout", "30000", "--hide-header"]
    if client is not None:
        argv += ["--consumer.config", str(client.java_properties())]
    if group:
        argv += ["--group", group]
    r, secs = run_timed(argv, timeout=600)
    raw.add(f"{label or b.target}: kafka-consumer-perf-test {size} B", argv, r, secs)
    lines = [ln for ln in (r.stdout or b"").decode().splitlines() if ln.count(",") >= 9]
    if r.returncode != 0 or not lines:
        return {"ok": False, "why": f"exit {r.returncode}"}
    f = [x.strip() for x in lines[-1].split(",")]
    # start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    got = int(float(f[4]))
    ok = got >= n
    return {"ok": ok, "why": "" if ok else f"{got} of {n} consumed", "mbs": float(f[8]), "rps": float(f[9]),
            "secs": secs}


def consume_kcat(b: h.Broker, topic: str, size: int, n: int, raw: Raw) -> dict:
    argv = ["kcat", "-C", "-b", b.bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
            "-c", str(n), "-f", "%o\n"]
    r, secs = run_timed(argv, timeout=600)
    count = (r.stdout or b"").count(b"\n")
    raw.add(f"{b.target}: kcat consume {size} B", argv, None, secs, note=f"({count} records)")
    if r.returncode != 0 or count != n:
        return {"ok": False, "why": f"exit {r.returncode}, {count} of {n} records"}
    return {"ok": True, "mbs": n * size / secs / 2**20, "rps": n / secs, "secs": secs}


def machine() -> str:
    cpu = ""
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    kafka = sorted(p.name for p in (h.KAFKA_HOME / "libs").glob("kafka-clients-*.jar"))
    return (f"{os.cpu_count()} cores, {cpu}; {platform.system()} {platform.release()}; "
            f"sluice {rev.stdout.strip() or '(no commit)'} ({h.SLUICED}); Kafka tools {', '.join(kafka)}")


def fmt(x, spec):
    return format(x, spec) if isinstance(x, (int, float)) else str(x)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=os.environ.get("BENCH_TARGETS", "sluice"),
                    help="comma-separated: sluice, kafka, kafka-fsync (Kafka fsyncing every "
                         "append, as Sluice's acks=all does) (default: sluice)")
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")),
                    help="multiply the record counts (default 1)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    raw = Raw()
    rows = []
    for target in targets:
        work = Path(tempfile.mkdtemp(prefix=f"sluice-bench-{target}-", dir="/tmp"))
        if target == "kafka-fsync":
            # Kafka with Sluice's durability: fsync before every acknowledgement
            # (log.flush.interval.messages=1), the fair yardstick for acks=all.
            b = h.Broker(work, target="kafka", config={"log.flush.interval.messages": "1"})
        else:
            b = h.Broker(work, target=target)
        print(f"== {target}: starting on {b.bootstrap}, data in {b.data_dir}", flush=True)
        b.start()
        try:
            for size, base_n in CASES:
                n = max(1000, int(base_n * args.scale))
                for acks in ACKS:
                    topic = f"bench-{size}-acks{acks}"
                    h.create_topic(b.bootstrap, topic, 1)
                    print(f"   produce {n} x {size} B, acks={acks} ...", flush=True)
                    p = produce(b, topic, size, n, acks, raw)
                    rows.append((target, f"produce acks={acks}", size, n, p))
                    b.check_alive()
                for acks in ACKS:
                    topic = f"bench-{size}-acks{acks}-latency"
                    h.create_topic(b.bootstrap, topic, 1)
                    nl = max(1000, int(LATENCY_RATE * LATENCY_SECS * min(1.0, args.scale)))
                    print(f"   produce {nl} x {size} B at {LATENCY_RATE}/s, acks={acks} ...", flush=True)
                    p = produce(b, topic, size, nl, acks, raw, rate=LATENCY_RATE)
                    rows.append((target, f"latency acks={acks} @{LATENCY_RATE}/s", size, nl, p))
                    b.check_alive()
                topic = f"bench-{size}-acks1"
                print(f"   consume {n} x {size} B ...", flush=True)
                rows.append((target, "consume kcat", size, n, consume_kcat(b, topic, size, n, raw)))
                rows.append((target, "consume perf-test", size, n, consume_perf(b, topic, size, n, raw)))
                b.check_alive()
        finally:
            log = b.log_tail(40)
            try:
                b.finish()
            except AssertionError as e:
                print(f"!! {target}: {str(e).splitlines()[0]}", flush=True)
            b.kill()
            raw.parts.append(f"## {target}: broker log tail\n\n```\n{log}\n```\n")
            shutil.rmtree(work, ignore_errors=True)

    head = "| target | case | record | records | MB/s | records/s | p50 ms | p99 ms |\n|---|---|---:|---:|---:|---:|---:|---:|"
    lines = [head]
    for target, case, size, n, r in rows:
        if r.get("ok"):
            lines.append(f"| {target} | {case} | {size} B | {n:,} | {fmt(r['mbs'], '.1f')} | {fmt(r['rps'], ',.0f')} "
                         f"| {fmt(r.get('p50', '-'), 'd')} | {fmt(r.get('p99', '-'), 'd')} |")
        else:
            lines.append(f"| {target} | {case} | {size} B | {n:,} | failed: {r.get('why')} | | | |")
    table = "\n".join(lines)
    print("\n" + table + "\n")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y-%m-%d")
    md = out / f"{stamp}-core.md"
    rawf = out / f"{stamp}-core-raw.md"
    md.write_text(
        f"# Core produce/consume benchmark, {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}\n\n"
        f"{machine()}\n\n"
        "One partition, no compression, plaintext, kafka-producer-perf-test defaults otherwise "
        "(batch.size 16384, linger.ms 5), enable.idempotence=false; p50/p99 are the producer's "
        "send-to-acknowledgement times: at full speed mostly the time records wait in the tool's "
        f"own buffer, at {LATENCY_RATE} records/s the broker's round trip. Consume: kcat (explicit partition, to end of log) and "
        "kafka-consumer-perf-test (consumer group; fetch rate). Compare figures of one run only "
        "(bench/README.md).\n\n"
        f"{table}\n\nRaw output: [{rawf.name}]({rawf.name})\n"
    )
    rawf.write_text(f"# Raw output for {md.name}\n\n" + "\n".join(raw.parts))
    print(f"wrote {md} and {rawf}")
    # kafka-consumer-perf-test needs consumer groups: its failure is shown in
    # the table but does not fail the run; every other case must work.
    return 0 if all(r.get("ok") for _, case, *_, r in rows if case != "consume perf-test") else 1


if __name__ == "__main__":
    sys.exit(main())
