# SPDX-License-Identifier: Apache-2.0
"""Sluice against Apache Kafka on this machine, in one run (issue 9):
`make bench-compare` (QUICK=1: a few seconds a case).

Each configuration is a broker profile of tests/integration/broker_profiles.py,
started fresh on its own data directory, one after the other, driven by the
same clients with the same settings (Kafka's kafka-producer-perf-test and
kafka-consumer-perf-test, through bench/bench.py's runners):

  Kafka PLAINTEXT, Sluice PLAINTEXT   (Sluice keeps audit and encryption at rest on)
  Kafka SASL_SSL, Sluice SASL_SSL     (TLS + SCRAM-SHA-512, no authorization)
  Kafka secure, Sluice secure         (+ ACLs, deny by default: a non-super user with
                                       PREFIXED ACLs; for Sluice that is its default
                                       configuration: every security feature on)

Per configuration: produce throughput (acks=1 and acks=all, 100 B and 1 KiB,
one partition, full speed), produce latency p50/p99/p99.9 at a fixed rate,
consume throughput (consumer group), resident memory (VmRSS idle, the highest
VmRSS and RssAnon sampled under load, VmHWM; the JVM for Kafka), CPU seconds (utime+stime)
per GB moved, and the time from starting the process to the first acknowledged
produce. Writes <out>/<date>-comparison.md, -comparison-raw.md and PNG plots.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
import bench as core  # noqa: E402
import broker_profiles as bp  # noqa: E402
import pki as pki_mod  # noqa: E402
import sluice_harness as h  # noqa: E402

CONFIGS = [
    # (label, target, profile)
    ("Kafka PLAINTEXT", "kafka", "plaintext"),
    ("Sluice PLAINTEXT", "sluice", "plaintext"),
    ("Kafka SASL_SSL", "kafka", "sasl_ssl"),
    ("Sluice SASL_SSL", "sluice", "sasl_ssl"),
    ("Kafka secure", "kafka", "secure"),
    ("Sluice secure (all on)", "sluice", "secure"),
]
SIZES = (100, 1024)
ACKS = ("1", "all")
BENCH_USER, BENCH_PW = "bench", "bench-secret-pw"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Mode:
    def __init__(self, quick: bool):
        self.quick = quick
        self.records = {100: 40_000, 1024: 15_000} if quick else {100: 500_000, 1024: 150_000}
        self.latency_rate = 2000 if quick else 5000
        self.latency_secs = 2 if quick else 10


# -- /proc


def proc_status(pid: int, key: str) -> int:
    """VmRSS / VmHWM / RssAnon in KiB (0 when the process is gone)."""
    try:
        for ln in open(f"/proc/{pid}/status"):
            if ln.startswith(key + ":"):
                return int(ln.split()[1])
    except OSError:
        pass
    return 0


def cpu_secs(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.peak_anon, self.stop_ = pid, 0, 0, threading.Event()

    def run(self):
        while not self.stop_.wait(0.2):
            self.peak = max(self.peak, proc_status(self.pid, "VmRSS"))
            # Private memory only: VmRSS also counts page-cache pages of files the process maps
            # (Sluice reads sealed segments through a read-only mapping), which the kernel
            # shares and can drop.
            self.peak_anon = max(self.peak_anon, proc_status(self.pid, "RssAnon"))


# -- one configuration


def first_produce(c: bp.Client, topic: str, deadline: float) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    while True:
        try:
            a = AdminClient(c.librdkafka())
            a.create_topics([NewTopic(topic, 1, 1)], request_timeout=10)[topic].result(timeout=15)
            p = Producer(dict(c.librdkafka(), **{"linger.ms": 0, "message.timeout.ms": 10000}))
            res = []
            p.produce(topic, b"first", on_delivery=lambda e, m: res.append(e))
            p.flush(15)
            if res == [None]:
                return
        except Exception:  # noqa: BLE001 - not up yet; retried until the deadline
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no successful produce to {c.bootstrap} by the deadline")
        time.sleep(0.02)


def grant_bench_user(pb: bp.ProfileBroker) -> None:
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient,
                                       ResourcePatternType, ResourceType)
    pb.add_user(BENCH_USER, BENCH_PW)
    a = AdminClient(pb.admin.librdkafka())
    acls = [AclBinding(rt, "bench-", ResourcePatternType.PREFIXED, f"User:{BENCH_USER}", "*",
                       AclOperation.ALL, AclPermissionType.ALLOW) for rt in (ResourceType.TOPIC, ResourceType.GROUP)]
    for f in a.create_acls(acls, request_timeout=30).values():
        f.result(timeout=60)


def run_config(label: str, target: str, profile: str, mode: Mode, pki, raw: core.Raw) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"sluice-compare-{target}-{profile}-", dir="/tmp"))
    pb = bp.make(work, profile, target=target, pki=pki)
    b = pb.broker
    out: dict = {"label": label, "target": target, "profile": profile, "cases": {}}
    print(f"== {label}: {b.bootstrap}, data in {b.data_dir}", flush=True)
    pb.prepare()  # admin user, Kafka's format: before the clock starts
    t0 = time.monotonic()
    b.start(timeout=300)
    first_produce(pb.admin, "bench-first", time.monotonic() + 300)
    out["startup_s"] = time.monotonic() - t0
    try:
        client = pb.admin
        if profile == "secure":
            grant_bench_user(pb)
            client = pb.client(BENCH_USER, BENCH_PW)
        out["rss_idle_kib"] = proc_status(b.pid, "VmRSS")
        sampler = RssSampler(b.pid)
        sampler.start()
        cpu = {"produce": [0.0, 0], "consume": [0.0, 0]}  # seconds, bytes
        for size in SIZES:
            n = mode.records[size]
            for acks in ACKS:
                topic = f"bench-{size}-acks{acks}"
                _create(client, topic)
                print(f"   produce {n} x {size} B acks={acks}", flush=True)
                c0 = cpu_secs(b.pid)
                r = core.produce(b, topic, size, n, acks, raw, client=client, label=label)
                cpu["produce"][0] += cpu_secs(b.pid) - c0
                cpu["produce"][1] += n * size if r.get("ok") else 0
                out["cases"][("produce", size, acks)] = r
                lt = f"{topic}-latency"
                _create(client, lt)
                nl = mode.latency_rate * mode.latency_secs
                print(f"   latency {nl} x {size} B at {mode.latency_rate}/s acks={acks}", flush=True)
                out["cases"][("latency", size, acks)] = core.produce(
                    b, lt, size, nl, acks, raw, rate=mode.latency_rate, client=client, label=label)
                b.check_alive()
            print(f"   consume {n} x {size} B", flush=True)
            c0 = cpu_secs(b.pid)
            r = core.consume_perf(b, f"bench-{size}-acks1", size, n, raw, client=client, label=label,
                                  group=f"bench-consumer-{size}")
            cpu["consume"][0] += cpu_secs(b.pid) - c0
            cpu["consume"][1] += n * size if r.get("ok") else 0
            out["cases"][("consume", size, "-")] = r
            b.check_alive()
        sampler.stop_.set()
        sampler.join()
        out["rss_load_kib"] = sampler.peak
        out["anon_load_kib"] = sampler.peak_anon
        out["hwm_kib"] = proc_status(b.pid, "VmHWM")
        out["cpu_s_per_gb"] = {k: (s / (by / 1e9) if by else None) for k, (s, by) in cpu.items()}
    finally:
        log = b.log_tail(30)
        try:
            pb.finish()
        except AssertionError as e:
            out["error"] = str(e).splitlines()[0]
            print(f"!! {label}: {out['error']}", flush=True)
        raw.parts.append(f"## {label}: broker log tail\n\n```\n{log}\n```\n")
        shutil.rmtree(work, ignore_errors=True)
    return out


def _create(c: bp.Client, topic: str) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient(c.librdkafka())
    a.create_topics([NewTopic(topic, 1, 1)], request_timeout=30)[topic].result(timeout=60)
    h.wait_for(lambda: topic in a.list_topics(topic, timeout=10).topics and
               a.list_topics(topic, timeout=10).topics[topic].error is None, 60, f"topic {topic}")


def write_report(results: list[dict], mode: Mode, out: Path, started: str, load: tuple[str, str]) -> Path:
    from compare_report import report
    return report(results, mode, out, started, load, core.machine())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a few seconds per case (make bench-compare QUICK=1)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--only", default="", help="comma-separated labels' first words+profile, e.g. sluice:plaintext")
    args = ap.parse_args()
    mode = Mode(args.quick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load_before = open("/proc/loadavg").read().strip()
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    pki = pki_mod.make_pki(Path(tempfile.mkdtemp(prefix="sluice-compare-pki-", dir="/tmp")))
    raw = core.Raw()
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    results = []
    for label, target, profile in CONFIGS:
        if only and f"{target}:{profile}" not in only:
            continue
        try:
            results.append(run_config(label, target, profile, mode, pki, raw))
        except AssertionError as e:
            print(f"!! {label}: {e}", flush=True)
            results.append({"label": label, "target": target, "profile": profile, "cases": {},
                            "error": str(e).splitlines()[0]})
    load_after = open("/proc/loadavg").read().strip()
    md = write_report(results, mode, out, started, (load_before, load_after))
    (out / md.name.replace(".md", "-raw.md")).write_text(f"# Raw output for {md.name}\n\n" + "\n".join(raw.parts))
    print(f"wrote {md}")
    bad = [r["label"] for r in results if r.get("error") or not r["cases"] or
           not all(c.get("ok") for c in r["cases"].values())]
    if bad:
        print(f"failed cases in: {', '.join(bad)}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
