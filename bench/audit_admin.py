# SPDX-License-Identifier: Apache-2.0
"""Latency of administrative requests with the audit intent record (issue 7;
bench/README.md "Audit intent: admin latency").

Three Sluice brokers from the same binary, each on its own data directory
under /tmp, PLAINTEXT, User:ANONYMOUS a super user:

  off     sluice.audit.enable=false
  log     auditing on, sluice.audit.failure.policy=log (no intent: the
          outcome record is the only one waited for)
  reject  auditing on, policy reject (the default: an intent record is made
          durable before the handler runs, then the outcome record)

Each round sends N CreateTopics (one new topic each, one partition) one
after the other on one connection (kwire, so no client retries or batching
blur the figure), then N CreateAcls v1 (one binding each), to each broker in
turn, the order rotating per round. Reported: the median over the rounds of
the total time, and the per-request median and p99 of all rounds.

    python3 bench/audit_admin.py [--n 200] [--rounds 3]     # SLUICED=build/sluiced

Figures only: nothing here passes or fails on a number.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import kwire  # noqa: E402
import sluice_harness as h  # noqa: E402

MODES = {
    "off": {"sluice.audit.enable": "false"},
    "log": {"sluice.audit.failure.policy": "log"},
    "reject": {"sluice.audit.failure.policy": "reject"},
}


def create_acl_body(name: str) -> bytes:
    w = kwire.Writer()
    w.array([0], lambda w_, _: (w_.int8(2).string(name).int8(3).string("User:bench").string("*")
                                .int8(3).int8(3)))
    return w.getvalue()


def run(b: h.Broker, prefix: str, n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"CreateTopics": [], "CreateAcls": []}
    with kwire.Conn(b.host, b.port, timeout=30) as c:
        for i in range(n):
            t0 = time.perf_counter()
            code = c.create_topic(f"{prefix}-{i}", ok_if_exists=False)
            out["CreateTopics"].append(time.perf_counter() - t0)
            assert code == 0, code
        for i in range(n):
            t0 = time.perf_counter()
            c.call(30, 1, create_acl_body(f"{prefix}-{i}"))
            out["CreateAcls"].append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sl-bench-audit-admin-"))
    brokers = {}
    try:
        for m, cfg in MODES.items():
            brokers[m] = h.Broker(tmp / m, config=dict(cfg, **{"super.users": "User:ANONYMOUS"})).start()
        totals: dict[tuple[str, str], list[float]] = {}
        each: dict[tuple[str, str], list[float]] = {}
        names = list(MODES)
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for m in order:
                got = run(brokers[m], f"r{r}", args.n)
                for api, lat in got.items():
                    totals.setdefault((m, api), []).append(sum(lat))
                    each.setdefault((m, api), []).extend(lat)
        print(f"{args.n} requests per API and round, {args.rounds} rounds, one connection, sequential")
        print(f"{'mode':8} {'API':13} {'total s (median)':>17} {'median ms':>10} {'p99 ms':>8}")
        for api in ("CreateTopics", "CreateAcls"):
            for m in names:
                lat = sorted(each[(m, api)])
                p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                print(f"{m:8} {api:13} {statistics.median(totals[(m, api)]):17.3f} "
                      f"{statistics.median(lat) * 1000:10.3f} {p99 * 1000:8.3f}")
    finally:
        for b in brokers.values():
            b.kill()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
