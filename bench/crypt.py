# SPDX-License-Identifier: Apache-2.0
"""Encryption-at-rest cost benchmark (issue 8; see bench/README.md). Run through
bench/run-crypt.sh.

Two Sluice brokers in the same run, one with encryption at rest on (the
default) and one with it off, started side by side on their own data
directories:
  * produce 1 KiB records at full speed, acks=1 (kafka-producer-perf-test);
  * produce latency at a fixed 5,000 records/s, acks=all (p50/p99);
  * consume what was produced with kcat and with kafka-consumer-perf-test;
each case on both brokers, back to back, one busy at a time; --rounds N
repeats the whole set N times, the broker order swapped every round. Prints
the medians over the rounds, the on/off ratio of each round and their median
(the issue's goal: at least 0.9), and writes bench/results/<date>-crypt.md.
On this shared machine one run of a case swings by 2x (bench/README.md):
only the median of several rounds says anything. Each consume case starts
after a sync(2), so that the writeback of what the produce cases wrote does
not run inside it.

--ab-readahead adds a third broker, sealed with read-ahead off
(sluice.encryption.readahead.bytes=0), and reports its consume cases against
encryption off too: what read-ahead (docs/ENCRYPTION.md) does, in the same run.

--consume-only produces the records once and then runs only the consume
cases, round after round (bench/results/<date>-crypt-consume.md): a catch-up
read of 600 MB takes under a second here, and the produce cases around it in
the full set (their writeback, the page cache they fill) add noise to such
short runs.

--listener SASL_SSL runs the clients over the secure default instead (TLS 1.3
with a bench CA, SCRAM-SHA-256 as a super user created offline before the first
start), written to bench/results/<date>-crypt-sasl_ssl.md: there the broker
reads and copies in user space with encryption off too (no sendfile under TLS,
no kernel TLS here: docs/MACHINE.md), so the ratio shows what sealing adds on
top of TLS.
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
from bench import Raw, machine  # noqa: E402
from tls import consume_kcat, consume_perf, make_pki, produce  # noqa: E402  (the same cases, 1 KiB records)

RECORDS = 600_000
LAT_RATE = 5000
LAT_SECS = 15
MODES = ("plain", "sealed")
NORA = "sealed-no-readahead"  # --ab-readahead: a third broker, sealed with read-ahead off
BENCH_PW = "bench-secret-pw"


def broker_cpu_s(b: h.Broker) -> float:
    """CPU time (user + system) the broker process has used so far, in seconds: on a shared,
    loaded machine the broker's CPU per case is steadier than the clients' throughput."""
    st = Path(f"/proc/{b.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--listener", default="PLAINTEXT", choices=("PLAINTEXT", "SASL_SSL"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ab-readahead", action="store_true",
                    help="also run a sealed broker with sluice.encryption.readahead.bytes=0, to show "
                         "what read-ahead does to the consume cases in the same run")
    ap.add_argument("--consume-only", action="store_true",
                    help="produce once, then only the consume cases, every round: no produce, "
                         "latency run or writeback between the consume runs")
    args = ap.parse_args()
    cases = ("kcat", "perf") if args.consume_only else ("produce", "latency", "kcat", "perf")
    modes = MODES + ((NORA,) if args.ab_readahead else ())
    raw = Raw()
    load0 = os.popen("uptime").read().strip()
    n = max(1000, int(RECORDS * args.scale))
    nl = max(1000, int(LAT_RATE * LAT_SECS * min(1.0, args.scale)))
    failed = False
    work = Path(tempfile.mkdtemp(prefix="sluice-bench-crypt-", dir="/tmp"))
    brokers = {}
    props: dict[str, str] = {}
    eps: dict[str, str] = {}
    if args.listener == "SASL_SSL":
        pki = make_pki(work)
        props = {"security.protocol": "SASL_SSL", "ssl.truststore.type": "PEM",
                 "ssl.truststore.location": str(pki["ca"]), "sasl.mechanism": "SCRAM-SHA-256",
                 "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
                                     f'required username="bench" password="{BENCH_PW}";'}
    for mode in modes:
        cfg = {"sluice.encryption.enable": "false" if mode == "plain" else "true"}
        if mode == NORA:
            cfg["sluice.encryption.readahead.bytes"] = "0"
        if args.listener == "SASL_SSL":
            cfg.update({"ssl.keystore.type": "PEM", "ssl.keystore.location": str(pki["keystore"]),
                        "sasl.enabled.mechanisms": "SCRAM-SHA-256", "super.users": "User:bench"})
            b = h.Broker(work / mode, config=cfg, listeners=["PLAINTEXT", "SASL_SSL"],
                         tls=h.TlsClient(ca_pem=pki["ca"], truststore_p12=pki["ca"], password=""))
            b.data_dir.mkdir(parents=True, exist_ok=True)
            h.sluice_cli("user", "add", "bench", "--mechanism", "SCRAM-SHA-256", "--password-stdin",
                         "--data-dir", str(b.data_dir),
                         input=BENCH_PW.encode() + b"\n")
            eps[mode] = b.bootstrap_of("SASL_SSL")
        else:
            b = h.Broker(work / mode, config=cfg)
            eps[mode] = b.bootstrap
        brokers[mode] = b
    res: dict[str, dict[str, list[dict]]] = {m: {} for m in modes}
    try:
        for mode, b in brokers.items():
            b.start()
            print(f"== {mode}: {b.bootstrap}", flush=True)
            h.create_topic(b.bootstrap, "crypt", 1)
            h.create_topic(b.bootstrap, "crypt-lat", 1)
            if args.consume_only:
                r = produce(eps[mode], props, "crypt", n, "1", -1, raw, f"{mode}: the records to consume")
                failed |= not r["ok"]
        # Alternate the two brokers case by case, so drift hits both; only one
        # is busy at a time; the order swaps every round. Consumers read the
        # first n records (the produce of round 1).
        for rnd in range(args.rounds):
            order = list(brokers.items()) if rnd % 2 == 0 else list(brokers.items())[::-1]
            for case in cases:
                for mode, b in order:
                    title = f"round {rnd + 1}: {mode}: {case}"
                    print(f"   {title} ...", flush=True)
                    ep = eps[mode]
                    if case in ("kcat", "perf"):
                        # The produce cases leave gigabytes of dirty pages; their writeback
                        # (kernel threads on the same two cores) must not fall inside a
                        # consume run of under a second on one broker and not the other.
                        os.sync()
                    cpu0 = broker_cpu_s(b)
                    if case == "produce":
                        r = produce(ep, props, "crypt", n, "1", -1, raw, title)
                    elif case == "latency":
                        r = produce(ep, props, "crypt-lat", nl, "all", LAT_RATE, raw, title)
                    elif case == "kcat":
                        r = consume_kcat(ep, props, "crypt", n, raw, title)
                    else:
                        r = consume_perf(ep, props, "crypt", n, work, raw, title)
                    r["cpu_s"] = broker_cpu_s(b) - cpu0
                    res[mode].setdefault(case, []).append(r)
                    failed |= not r["ok"]
                    b.check_alive()
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

    def key(case: str) -> str:
        return "p99" if case == "latency" else "mbs"

    def med(rs: list[dict], k: str):
        xs = [r[k] for r in rs if r.get("ok")]
        return statistics.median(xs) if xs else None

    def ratios(case: str, k: str, off_over_on: bool, sealed: str = "sealed") -> list[float]:
        """The ratio of each round (both brokers measured back to back)."""
        out = []
        for p, s_ in zip(res["plain"].get(case, []), res[sealed].get(case, [])):
            if p.get("ok") and s_.get("ok") and p[k] and s_[k]:
                out.append(p[k] / s_[k] if off_over_on else s_[k] / p[k])
        return out

    labels = {"produce": f"produce {n:,} x 1 KiB acks=1, MB/s",
              "latency": f"produce p99 at {LAT_RATE}/s acks=all, ms",
              "kcat": "consume kcat, MB/s", "perf": "consume perf-test (group), MB/s"}
    lines = ["| case | encryption off (median) | encryption on (median) | on / off, each round | "
             "on / off (median of rounds) |", "|---|---:|---:|---|---:|"]
    labels = {c: v for c, v in labels.items() if c in cases}
    for case, label in labels.items():
        k = key(case)
        p, s = med(res["plain"].get(case, []), k), med(res["sealed"].get(case, []), k)
        rs = ratios(case, k, case == "latency")
        each = ", ".join(f"{x:.2f}" for x in rs) or "-"
        mr = f"{statistics.median(rs):.2f}" if rs else "-"
        if case == "latency":
            mr += " (off / on: lower is worse)"
        fmt = (lambda v: "failed" if v is None else (f"{v:.0f}" if k == "p99" else f"{v:.1f}"))
        lines.append(f"| {label} | {fmt(p)} | {fmt(s)} | {each} | {mr} |")
    lines += ["", "Broker CPU time per case (user + system, s, median over the rounds; the ratio is off / on: "
              "1.0 means sealing costs the broker nothing, 0.5 that it doubles its work):", "",
              "| case | encryption off | encryption on | off / on (median of rounds) |", "|---|---:|---:|---:|"]
    for case, label in labels.items():
        p, s_ = med(res["plain"].get(case, []), "cpu_s"), med(res["sealed"].get(case, []), "cpu_s")
        rs = ratios(case, "cpu_s", True)
        if p is not None and s_ is not None:
            short = {"produce": "produce, acks=1", "latency": f"produce at {LAT_RATE}/s, acks=all",
                     "kcat": "consume, kcat", "perf": "consume, perf-test"}[case]
            lines.append(f"| {short} | {p:.2f} | {s_:.2f} | {statistics.median(rs):.2f} |" if rs else
                         f"| {short} | {p:.2f} | {s_:.2f} | - |")
    if args.ab_readahead:
        lines += ["", "The same, sealed with read-ahead off (`sluice.encryption.readahead.bytes=0`, "
                      "the third broker of `--ab-readahead`), against encryption off:", "",
                  "| case | read-ahead off (median) | on / off, each round | on / off (median of rounds) | "
                  "broker CPU off / on (median) |", "|---|---:|---|---:|---:|"]
        for case in ("kcat", "perf"):
            k = key(case)
            v = med(res[NORA].get(case, []), k)
            rs = ratios(case, k, False, NORA)
            cs = ratios(case, "cpu_s", True, NORA)
            lines.append(f"| {labels[case]} | {'failed' if v is None else f'{v:.1f}'} | "
                         f"{', '.join(f'{x:.2f}' for x in rs) or '-'} | "
                         f"{f'{statistics.median(rs):.2f}' if rs else '-'} | "
                         f"{f'{statistics.median(cs):.2f}' if cs else '-'} |")
    table = "\n".join(lines)
    print("\n" + table + "\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sfx = ("-consume" if args.consume_only else "") + \
        ("" if args.listener == "PLAINTEXT" else "-" + args.listener.lower())
    md = out / f"{dt.datetime.now():%Y-%m-%d}-crypt{sfx}.md"
    rawf = out / f"{dt.datetime.now():%Y-%m-%d}-crypt{sfx}-raw.md"
    md.write_text(
        f"# Encryption at rest benchmark, {dt.datetime.now():%Y-%m-%d %H:%M}\n\n{machine()}\n\n"
        f"`bench/run-crypt.sh --scale {args.scale:g} --rounds {args.rounds} --listener {args.listener}"
        f"{' --ab-readahead' if args.ab_readahead else ''}{' --consume-only' if args.consume_only else ''}`: "
        f"clients on a {args.listener} listener; load before the run: {load0}; after: "
        f"{os.popen('uptime').read().strip()}.\n\n"
        "Two brokers side by side, one with sluice.encryption.enable=true (every batch sealed "
        "with AES-256-GCM; fetches decrypt from a mapping of the segment, the next run of a "
        "catch-up read decrypted ahead by the read-ahead thread), one with it false "
        "(fetches by sendfile); each case runs on both, back to back, one broker busy at a "
        "time. The ratio is on over off for throughput; for p99 latency it is off over on, so "
        "1.0 means no cost either way. Compare figures of one run only (bench/README.md).\n\n"
        f"{table}\n\nRaw output: [{rawf.name}]({rawf.name})\n")
    rawf.write_text(f"# Raw output for {md.name}\n\n" + "\n".join(raw.parts))
    print(f"wrote {md}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
