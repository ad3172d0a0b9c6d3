# SPDX-License-Identifier: Apache-2.0
"""A broker's CPU profile during one benchmark run, for the benchmarks that
ask "what share of the broker's work is feature X" (bench/audit.py,
bench/authz.py): a share of samples is steadier on a shared machine than a
throughput ratio between two runs, since both sides come from the same
process in the same seconds.

  prof = Profile(pid, path)      # perf record -e cpu-clock, DWARF call graphs
  ... run the load ...
  prof.stop()
  share = chain_share(path, frame_pred, comm_pred)
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Callable


class Profile:
    """perf record attached to pid until stop()."""

    def __init__(self, pid: int, data: Path):
        self.data = data
        self.p = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "--call-graph",
                                   "dwarf,16384", "-p", str(pid), "-o", str(data)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached before the first request

    def stop(self) -> None:
        self.p.send_signal(signal.SIGINT)
        self.p.wait(60)


def samples(data: Path) -> list[tuple[str, list[str]]]:
    """Every sample of a perf.data file: (thread name, frames leaf first)."""
    sc = subprocess.run(["perf", "script", "-i", str(data), "-F", "comm,ip,sym"], capture_output=True,
                        timeout=600)
    out = []
    for block in sc.stdout.decode(errors="replace").split("\n\n"):
        lines = [ln for ln in block.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        comm = lines[0].split()[0]
        frames = [ln.split(None, 1)[1].rsplit("+", 1)[0] for ln in lines[1:] if len(ln.split(None, 1)) == 2]
        out.append((comm, frames))
    return out


def chain_share(data: Path, frame_pred: Callable[[str], bool],
                comm_pred: Callable[[str], bool] = lambda c: False) -> dict:
    """The share of samples taken on a thread comm_pred accepts or whose call
    chain has a frame frame_pred accepts, with the leaf functions of those
    samples (a libc leaf with its caller)."""
    total = under = 0
    leaves: dict[str, int] = {}
    for comm, frames in samples(data):
        total += 1
        if comm_pred(comm) or any(frame_pred(f) for f in frames):
            under += 1
            if frames:
                key = frames[0] if not frames[0].startswith("__") or len(frames) < 2 else \
                    f"{frames[0]} <- {frames[1]}"
            else:
                key = f"[{comm}]"
            leaves[key] = leaves.get(key, 0) + 1
    breakdown = "\n".join(f"{v / max(total, 1) * 100:6.2f}%  {k}" for k, v in
                          sorted(leaves.items(), key=lambda kv: -kv[1])[:15])
    return {"share": under / max(total, 1) * 100, "under": under, "total": total, "leaves": breakdown}
