# SPDX-License-Identifier: Apache-2.0
"""Audit log cost benchmark (issue 7; see bench/README.md). Run through
bench/run-audit.sh.

Four Sluice brokers side by side on their own data directories, all with a
PLAINTEXT listener whose User:ANONYMOUS is a super user (every Produce is
authorized: one allowed decision per request):

  off    sluice.audit.enable=false
  none   auditing on, sluice.audit.authz.level=none  (connections only)
  first  auditing on, level first (the default: one record per session,
         resource and operation)
  all    auditing on, level all (one record per Produce request, each
         through the group-committed writer and the __sluice_audit copy)

Cases: produce 1 KiB records at full speed with acks=1 and with acks=all
(kafka-producer-perf-test, the producer of bench/tls.py). Each round runs
every case on every broker, one broker busy at a time, the broker order
rotating each round so that drift spreads over all of them. Reported per
broker: the median MB/s over the rounds, the median broker CPU seconds per
GB of record values (utime + stime of the process, bench/authz.py's
proc_cpu), the audit records written, and the ratio to "off". The goal of
the issue: the default level (first) costs less than 3%.

With --perf, one more acks=1 run per broker after the rounds, under perf
record (bench/perfprof.py): the share of the broker's CPU samples spent on
auditing, i.e. taken on the audit writer thread (sl-audit: formatting, HMAC,
write, fsync, the __sluice_audit copy) or with an audit function
(sl_audit_*, sl_aj_*) in the call chain (the authorizer's hook, connection
events). A share within one process and one run is steadier on a shared
machine than a throughput ratio between runs; "off" is the control (0).

Prints the table, writes bench/results/<date>-audit.md and -audit-raw.md.
Figures only: nothing here passes or fails on a number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
import sluice_harness as h  # noqa: E402
from authz import proc_cpu  # noqa: E402
from bench import Raw, machine  # noqa: E402
from perfprof import Profile, chain_share  # noqa: E402
from tls import produce  # noqa: E402  (1 KiB records, any client properties)

RECORDS = 600_000
MODES = {
    "off": {"sluice.audit.enable": "false"},
    "none": {"sluice.audit.authz.level": "none"},
    "first": {"sluice.audit.authz.level": "first"},
    "all": {"sluice.audit.authz.level": "all"},
}
CASES = ("acks=1", "acks=all")


def audit_records(b: h.Broker) -> int:
    n = 0
    for f in (b.data_dir / "audit").glob("audit-*.jsonl"):
        n += f.read_bytes().count(b"\n")
    return n


def is_audit_frame(f: str) -> bool:
    return f.startswith("sl_audit") or f.startswith("sl_aj_")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--perf", action="store_true", help="profile one more acks=1 run per broker (needs perf)")
    args = ap.parse_args()
    raw = Raw()
    n = max(1000, int(RECORDS * args.scale))
    load = [os.getloadavg()]
    failed = False
    work = Path(tempfile.mkdtemp(prefix="sluice-bench-audit-", dir="/tmp"))
    brokers = {m: h.Broker(work / m, config={"super.users": "User:ANONYMOUS", **extra})
               for m, extra in MODES.items()}
    mbs: dict[str, dict[str, list[float]]] = {m: {c: [] for c in CASES} for m in MODES}
    cpu: dict[str, dict[str, list[float]]] = {m: {c: [] for c in CASES} for m in MODES}
    recs: dict[str, int] = {}
    shares: dict[str, dict] = {}
    try:
        for mode, b in brokers.items():
            b.start()
            print(f"== {mode}: {b.bootstrap}", flush=True)
            for c in CASES:
                h.create_topic(b.bootstrap, f"audit-{c.replace('=', '-')}", 1)
        order = list(MODES)
        for rnd in range(args.rounds):
            for case in CASES:
                for mode in order:
                    b = brokers[mode]
                    title = f"round {rnd + 1}: {mode}: produce 1 KiB {case}"
                    print(f"   {title} ...", flush=True)
                    c0 = sum(proc_cpu(b.pid))
                    r = produce(b.bootstrap, {}, f"audit-{case.replace('=', '-')}", n,
                                case.split("=")[1], -1, raw, title)
                    c1 = sum(proc_cpu(b.pid))
                    if not r["ok"]:
                        failed = True
                        print(f"!! {title}: {r['why']}", flush=True)
                        continue
                    mbs[mode][case].append(r["mbs"])
                    cpu[mode][case].append((c1 - c0) / (n * 1024 / 1e9))
                    b.check_alive()
            order = order[1:] + order[:1]
            load.append(os.getloadavg())
        if args.perf and shutil.which("perf"):
            for mode, b in brokers.items():
                title = f"profile: {mode}: produce 1 KiB acks=1"
                print(f"   {title} ...", flush=True)
                prof = Profile(b.pid, work / f"perf-{mode}.data")
                r = produce(b.bootstrap, {}, "audit-acks-1", n, "1", -1, raw, title)
                prof.stop()
                failed |= not r["ok"]
                shares[mode] = chain_share(prof.data, is_audit_frame, lambda c: c == "sl-audit")
                raw.parts.append(f"## perf: {title}\n\n$ perf record -e cpu-clock -F 999 --call-graph dwarf,16384 "
                                 f"-p <broker>\n\nsamples on sl-audit or under an audit function: "
                                 f"{shares[mode]['under']} of {shares[mode]['total']} "
                                 f"({shares[mode]['share']:.2f}%), by leaf function:\n\n```\n"
                                 f"{shares[mode]['leaves']}\n```\n")
        for mode, b in brokers.items():
            recs[mode] = audit_records(b)
    finally:
        for mode, b in brokers.items():
            log = b.log_tail(20)
            try:
                b.finish()
            except AssertionError as e:
                print(f"!! {mode}: {str(e).splitlines()[0]}", flush=True)
                failed = True
            b.kill()
            raw.parts.append(f"## {mode}: broker log tail\n\n```\n{log}\n```\n")
        shutil.rmtree(work, ignore_errors=True)

    def med(xs):
        return statistics.median(xs) if xs else None

    lines = ["| broker | case | MB/s (median) | runs | / off | CPU s per GB (median) | / off |",
             "|---|---|---:|---|---:|---:|---:|"]
    for case in CASES:
        base, base_cpu = med(mbs["off"][case]), med(cpu["off"][case])
        for mode in MODES:
            m, c = med(mbs[mode][case]), med(cpu[mode][case])
            runs = ", ".join(f"{x:.1f}" for x in mbs[mode][case])
            ratio = f"{m / base:.3f}" if m and base else "-"
            cratio = f"{c / base_cpu:.3f}" if c and base_cpu else "-"
            lines.append(f"| {mode} | 1 KiB {case} | {m:.1f} | {runs} | {ratio} | {c:.2f} | {cratio} |"
                         if m and c else f"| {mode} | 1 KiB {case} | failed | {runs} | - | - | - |")
    table = "\n".join(lines)
    if shares:
        table += ("\n\nShare of the broker's CPU samples spent on auditing (one more acks=1 run per broker "
                  "under perf record, --perf):\n\n| broker | samples | auditing | share |\n|---|---:|---:|---:|\n" +
                  "\n".join(f"| {m} | {s['total']} | {s['under']} | {s['share']:.2f}% |" for m, s in shares.items()))
    rec_line = ", ".join(f"{m}: {recs.get(m, '?')}" for m in MODES)
    loads = "; ".join(" ".join(f"{x:.2f}" for x in la) for la in load)
    print("\n" + table + f"\n\naudit records written: {rec_line}\nload averages: {loads}\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now()
    md = out / f"{stamp:%Y-%m-%d}-audit.md"
    rawf = out / f"{stamp:%Y-%m-%d}-audit-raw.md"
    md.write_text(
        f"# Audit log cost benchmark, {stamp:%Y-%m-%d %H:%M}\n\n{machine()}\n\n"
        f"`bench/run-audit.sh --scale {args.scale} --rounds {args.rounds}{' --perf' if args.perf else ''}`: {n:,} records of 1 KiB per "
        "run. Four brokers side by side (auditing off; on at authz level none, first (the "
        "default), all), PLAINTEXT, User:ANONYMOUS a super user, one partition; each round "
        "runs every case on every broker, one busy at a time, the order rotating. Medians over "
        "the rounds; ratios to \"off\" from this run only (bench/README.md). The issue's goal: "
        "level first costs less than 3%.\n\n"
        f"{table}\n\nAudit records written over the whole run: {rec_line}.\n\n"
        f"Load averages (1, 5, 15 min) at the start and after each round: {loads}.\n\n"
        f"Raw output: [{rawf.name}]({rawf.name})\n")
    rawf.write_text(f"# Raw output for {md.name}\n\n" + "\n".join(raw.parts))
    print(f"wrote {md}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
