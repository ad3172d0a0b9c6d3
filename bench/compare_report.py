# SPDX-License-Identifier: Apache-2.0
"""The report of bench/compare.py: <date>-comparison.md (tables, ratios) and
its PNG plots (matplotlib, headless)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

SIZES = (100, 1024)
ACKS = ("1", "all")


def num(x, spec=".1f"):
    return "-" if x is None else format(x, spec)


def _case(r: dict, kind: str, size: int, acks: str) -> dict:
    c = r["cases"].get((kind, size, acks)) or {}
    return c if c.get("ok") else {}


def failures(r: dict) -> str:
    return ", ".join(f"{kind} {size} B acks={acks}: {c.get('why')}"
                     for (kind, size, acks), c in r["cases"].items() if not c.get("ok"))


def _by(results, label):
    return next((r for r in results if r["label"] == label), None)


def ratios(results: list[dict]) -> list[str]:
    """Sluice with everything on against Kafka PLAINTEXT and Kafka SASL_SSL."""
    s = _by(results, "Sluice secure (all on)")
    lines = ["| Sluice all on vs | produce MB/s (100 B / 1 KiB, acks=1 / all) | consume MB/s (100 B / 1 KiB) "
             "| p99 latency (100 B / 1 KiB, acks=all) | RSS under load (all / private) | start-up |",
             "|---|---|---|---|---|---|"]
    if s is None:
        return []
    for other in ("Kafka PLAINTEXT", "Kafka SASL_SSL", "Kafka secure"):
        k = _by(results, other)
        if k is None:
            continue

        def rt(kind, size, acks, field, inverse=False):
            a, b = _case(s, kind, size, acks).get(field), _case(k, kind, size, acks).get(field)
            if not a or not b:
                return "-"
            return f"{(b / a if inverse else a / b):.2f}x"

        prod = " / ".join(rt("produce", sz, ac, "mbs") for sz in SIZES for ac in ACKS)
        cons = " / ".join(rt("consume", sz, "-", "mbs") for sz in SIZES)
        lat = " / ".join(rt("latency", sz, "all", "p99", inverse=True) for sz in SIZES)
        mem = f"{s['rss_load_kib'] / k['rss_load_kib']:.2f}x" if s.get("rss_load_kib") and k.get("rss_load_kib") else "-"
        if s.get("anon_load_kib") and k.get("anon_load_kib"):
            mem += f" / {s['anon_load_kib'] / k['anon_load_kib']:.2f}x"
        start = f"{s['startup_s'] / k['startup_s']:.3f}x" if s.get("startup_s") and k.get("startup_s") else "-"
        lines.append(f"| {other} | {prod} | {cons} | {lat} (Kafka's p99 / Sluice's) | {mem} | {start} |")
    return lines


def plots(results: list[dict], out: Path, stamp: str) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [r["label"] for r in results]
    made = []

    def bars(name, title, ylabel, series):
        fig, ax = plt.subplots(figsize=(10, 4.5))
        width = 0.8 / max(1, len(labels))
        groups = list(series)
        for i, r in enumerate(results):
            ax.bar([g + i * width for g in range(len(groups))],
                   [series[g][i] or 0 for g in groups], width, label=r["label"])
        ax.set_xticks([g + width * (len(labels) - 1) / 2 for g in range(len(groups))])
        ax.set_xticklabels(groups, fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / f"{stamp}-comparison-{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(path.name)

    bars("produce", "Produce throughput (full speed, 1 partition)", "MB/s",
         {f"{sz} B acks={ac}": [_case(r, "produce", sz, ac).get("mbs") for r in results]
          for sz in SIZES for ac in ACKS})
    bars("consume", "Consume throughput (kafka-consumer-perf-test)", "MB/s",
         {f"{sz} B": [_case(r, "consume", sz, "-").get("mbs") for r in results] for sz in SIZES})
    bars("latency", "Produce latency p99 at a fixed rate", "ms",
         {f"{sz} B acks={ac}": [_case(r, "latency", sz, ac).get("p99") for r in results]
          for sz in SIZES for ac in ACKS})
    bars("memory", "Resident memory", "MiB",
         {"idle VmRSS": [(r.get("rss_idle_kib") or 0) / 1024 for r in results],
          "peak VmRSS under load": [(r.get("rss_load_kib") or 0) / 1024 for r in results],
          "peak RssAnon (private) under load": [(r.get("anon_load_kib") or 0) / 1024 for r in results]})
    return made


def report(results: list[dict], mode, out: Path, started: str, load: tuple[str, str], machine: str) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    md = out / f"{stamp}-comparison.md"
    t = ["| configuration | case | MB/s | records/s |", "|---|---|---:|---:|"]
    for r in results:
        for sz in SIZES:
            for ac in ACKS:
                c = _case(r, "produce", sz, ac)
                t.append(f"| {r['label']} | produce {sz} B acks={ac} | {num(c.get('mbs'), '.2f')} "
                         f"| {num(c.get('rps'), ',.0f')} |")
            c = _case(r, "consume", sz, "-")
            t.append(f"| {r['label']} | consume {sz} B | {num(c.get('mbs'), '.2f')} | {num(c.get('rps'), ',.0f')} |")
    lat = ["| configuration | case | p50 ms | p99 ms | p99.9 ms |", "|---|---|---:|---:|---:|"]
    for r in results:
        for sz in SIZES:
            for ac in ACKS:
                c = _case(r, "latency", sz, ac)
                lat.append(f"| {r['label']} | {sz} B acks={ac} | {num(c.get('p50'), 'd')} | "
                           f"{num(c.get('p99'), 'd')} | {num(c.get('p999'), 'd')} |")
    res = ["| configuration | start-up to first produce s | VmRSS idle MiB | VmRSS peak under load MiB "
           "| RssAnon (private) peak under load MiB | VmHWM MiB | CPU s/GB produced | CPU s/GB consumed | errors |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        cpu = r.get("cpu_s_per_gb") or {}
        mib = lambda k: num((r.get(k) or 0) / 1024 or None, ".0f")  # noqa: E731
        res.append(f"| {r['label']} | {num(r.get('startup_s'), '.2f')} | {mib('rss_idle_kib')} | {mib('rss_load_kib')} "
                   f"| {mib('anon_load_kib')} | {mib('hwm_kib')} | {num(cpu.get('produce'), '.1f')} | {num(cpu.get('consume'), '.1f')} "
                   f"| {r.get('error', '') or failures(r)} |")
    pngs = plots(results, out, stamp)
    n100, n1k = mode.records[100], mode.records[1024]
    text = f"""# Sluice and Apache Kafka side by side, {started}

{machine}

Load average (1, 5, 15 min) before: {load[0]}; after: {load[1]}. The machine is shared:
compare ratios within this run only. Mode: {"QUICK (a few seconds a case: figures are noise)" if mode.quick else "full"}.

Reproduce: `make bench-compare` (`QUICK=1` for the short mode), or `python3 bench/compare.py --help`.
Each configuration is a broker profile of tests/integration/broker_profiles.py, started fresh
on /tmp, one after the other; the same Java clients (kafka-producer-perf-test,
kafka-consumer-perf-test) with the same settings drive each: one partition, no compression,
enable.idempotence=false, batch.size 16384, linger.ms 5 (the tool's defaults);
{n100:,} x 100 B and {n1k:,} x 1 KiB records per throughput case; latency at
{mode.latency_rate} records/s for {mode.latency_secs} s (send-to-acknowledgement, as the tool reports).
"secure" adds the ACL authorizer with deny-by-default and a non-super user with PREFIXED
ACLs; Sluice keeps audit and encryption at rest on in every configuration (its defaults).
Kafka fsyncs only on its own schedule (log.flush.* defaults); Sluice fsyncs before
acknowledging acks=all. Memory: VmRSS/VmHWM of the broker process (the JVM for Kafka,
-Xmx1G -Xms512M), and RssAnon, its private part: VmRSS also counts the page-cache pages of
files the process maps (Sluice reads sealed segments through a read-only mapping; Kafka maps
its index files), which the kernel shares and can drop. CPU: utime+stime of the broker process over the cases, per GB of record
payload moved.

## Ratios (Sluice secure = everything on; >1x: Sluice higher)

{chr(10).join(ratios(results))}

## Throughput

{chr(10).join(t)}

## Produce latency at {mode.latency_rate} records/s

{chr(10).join(lat)}

## Start-up, memory, CPU

{chr(10).join(res)}

## Plots

{chr(10).join(f"![{p}]({p})" for p in pngs)}

Raw tool output: [{md.name.replace('.md', '-raw.md')}]({md.name.replace('.md', '-raw.md')})
"""
    md.write_text(text)
    return md
