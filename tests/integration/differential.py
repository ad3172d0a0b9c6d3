# SPDX-License-Identifier: Apache-2.0
"""The machinery of the differential tests (18-differential.py,
docs/DIFFERENTIAL.md): one Kafka and one Sluice per profile and module,
started on first use; a scenario runs against each and what the client saw
is compared after normalisation; a divergence fails unless
differential_allowlist.py records exactly it, with the reason.

A scenario is `fn(pb: ProfileBroker) -> outcome`, where the outcome is plain
data (str, int, list, dict, tuple) of what the client saw: records, offsets,
error names, exception types, listings. Normalising (cluster and node ids,
ports, timestamps, Kafka's internal topics) is the scenario's job, with the
helpers here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import broker_profiles as bp
import differential_allowlist
import sluice_harness as h

TARGETS = ("kafka", "sluice")
# Each broker's own internal topics, which the other does not have (Kafka's, which
# Sluice does not have or hides, and Sluice's audit copy, issue 7): not compared.
INTERNAL_TOPICS = {"__consumer_offsets", "__transaction_state", "__share_group_state", "__cluster_metadata",
                   "__sluice_audit"}


class Brokers:
    """One broker per (profile, target), started on first use, finished at close()."""

    def __init__(self, tmp_path_factory, pki):
        self.tmp = tmp_path_factory
        self.pki = pki
        self.running: dict[tuple[str, str], bp.ProfileBroker] = {}

    def get(self, profile: str, target: str) -> bp.ProfileBroker:
        key = (profile, target)
        if key not in self.running:
            pb = bp.make(self.tmp.mktemp(f"diff-{profile}-{target}"), profile, target=target, pki=self.pki)
            self.running[key] = pb
            # Kafka takes seconds to start, more on a loaded machine.
            pb.start(timeout=max(h.START_TIMEOUT, 180 if target == "kafka" else 60 * h.SLOWDOWN))
        pb = self.running[key]
        pb.broker.check_alive()
        return pb

    def close(self) -> None:
        errors = []
        for pb in self.running.values():
            try:
                pb.finish()
            except AssertionError as e:
                errors.append(f"{pb.target}/{pb.profile}: {e}")
        if errors:
            raise AssertionError("\n\n".join(errors))


def _show(x) -> str:
    return json.dumps(x, sort_keys=True, default=repr)[:4000]


def differences(a, b, path: str = "") -> dict[str, list]:
    """Where two outcomes differ: {path: [kafka's, sluice's]}, down through
    dicts and through lists of the same length."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, list] = {}
        for k in sorted(set(a) | set(b), key=str):
            out.update(differences(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}/{k}"))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = {}
        for i, (x, y) in enumerate(zip(a, b)):
            out.update(differences(x, y, f"{path}/{i}"))
        return out
    return {} if a == b else {path or "/": [a, b]}


def compare(name: str, brokers: Brokers, profile: str, scenario: Callable[[bp.ProfileBroker], object]) -> None:
    """Runs `scenario` against Kafka, then Sluice, in `profile`, and compares."""
    got = {t: scenario(brokers.get(profile, t)) for t in TARGETS}
    got = json.loads(json.dumps(got, default=repr))  # tuples as lists, as the allowlist writes them
    allowed = differential_allowlist.ALLOWED.get(name)
    diffs = differences(got["kafka"], got["sluice"])
    if not diffs:
        assert allowed is None, (
            f"{name}: Kafka and Sluice now agree ({_show(got['kafka'])}), but the allowlist still "
            f"records a divergence: remove it from differential_allowlist.py and docs/DIFFERENTIAL.md")
        return
    shown = "\n  ".join(f"{p}: Kafka {_show(k)[:600]} | Sluice {_show(v)[:600]}" for p, (k, v) in diffs.items())
    if allowed is not None:
        want = json.loads(json.dumps(allowed.diffs, default=repr))
        if diffs == want:
            return
        raise AssertionError(f"{name}: the divergence is not the one allowed ({allowed.reason})\n"
                             f"allowed: {_show(want)}\ngot:\n  {shown}")
    raise AssertionError(f"{name}: Sluice differs from Kafka\n  {shown}\n"
                         f"Kafka:  {_show(got['kafka'])}\nSluice: {_show(got['sluice'])}")


# --------------------------------------------------------------------------
# what clients surface, as names


def err_name(e) -> str:
    """A confluent-kafka KafkaError (or KafkaException) as its code name."""
    from confluent_kafka import KafkaError, KafkaException
    if isinstance(e, KafkaException):
        e = e.args[0]
    if isinstance(e, KafkaError):
        return e.name()
    return type(e).__name__


def future_outcome(f, timeout: float = 60) -> str:
    try:
        f.result(timeout=timeout)
        return "OK"
    except Exception as e:  # noqa: BLE001 - the client's error is the outcome
        return err_name(e)


_JAVA_EXC = re.compile(rb"org\.apache\.kafka\.common\.errors\.(\w+)")


def java_outcome(r) -> str:
    """A Java tool's run: the first Kafka exception it names, else "OK" (exit
    0) or "exit N"."""
    m = _JAVA_EXC.search(r.stdout + r.stderr)
    if m:
        return m.group(1).decode()
    return "OK" if r.returncode == 0 else f"exit {r.returncode}"


JAVA_TIMEOUTS = {"request.timeout.ms": 15000, "default.api.timeout.ms": 30000}


def java(c: bp.Client, tool: str, *args: str, flag: str = "--command-config", extra=None, **kw):
    """Runs a Kafka CLI tool against c (its settings in a properties file)."""
    props = c.java_properties({**JAVA_TIMEOUTS, **(extra or {})})
    return h.kafka_tool(tool, "--bootstrap-server", c.bootstrap, flag, str(props), *args,
                        check=False, timeout=180, **kw)


def admin(c: bp.Client, errors: list | None = None):
    from confluent_kafka.admin import AdminClient
    conf = dict(c.librdkafka(), **{"socket.timeout.ms": 10000})
    if errors is not None:
        conf["error_cb"] = lambda e: errors.append(e.name())
    return AdminClient(conf)


def user_topics(names) -> list[str]:
    return sorted(n for n in names if n not in INTERNAL_TOPICS)


def write_text(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(x + "\n" for x in lines))
    return path
