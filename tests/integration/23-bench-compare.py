# SPDX-License-Identifier: Apache-2.0
"""`make bench-compare QUICK=1` runs to completion (issue 9), so that the
comparative benchmark cannot rot: bench/compare.py --quick against both
brokers in every configuration, writing into a temporary directory. The
figures are not asserted (a loaded 2-core machine makes them noise); the
report and its plots must exist and hold numbers for every configuration.
Marked slow (several minutes: six brokers, some forty JVM tool runs): it
runs on the release build only."""

from __future__ import annotations

import re
import sys

import pytest

import sluice_harness as h


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_bench_compare_quick_runs_to_completion(tmp_path):
    h.only_on_sluice("the benchmark starts both brokers itself")
    out = tmp_path / "results"
    r = h.run([sys.executable, str(h.REPO / "bench" / "compare.py"), "--quick", "--out", str(out)],
              timeout=2100, check=False)
    log = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"bench/compare.py --quick exited {r.returncode}:\n{log[-5000:]}"
    (md,) = out.glob("*-comparison.md")
    text = md.read_text()
    for label in ("Kafka PLAINTEXT", "Sluice PLAINTEXT", "Kafka SASL_SSL", "Sluice SASL_SSL",
                  "Kafka secure", "Sluice secure (all on)"):
        rows = [ln for ln in text.splitlines() if ln.startswith(f"| {label} | produce 100 B acks=all |")]
        assert rows and re.search(r"\| [\d.]+ \| [\d,]+ \|$", rows[0]), f"{label}: no produce figures in {md}"
        res = [ln for ln in text.splitlines() if ln.startswith(f"| {label} | ") and ln.count("|") == 10]
        assert res and re.match(rf"\| {re.escape(label)} \| [\d.]+ \| \d+ \| \d+ \| \d+ \|", res[0]), \
            f"{label}: no start-up/memory figures (VmRSS idle, VmRSS and RssAnon under load)"
    assert re.search(r"\| Kafka PLAINTEXT \| [\d.]+x", text), "no ratios"
    pngs = sorted(out.glob("*-comparison-*.png"))
    assert len(pngs) == 4 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
                                  for p in pngs), pngs
    assert (out / md.name.replace(".md", "-raw.md")).stat().st_size > 0
