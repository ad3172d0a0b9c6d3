# SPDX-License-Identifier: Apache-2.0
"""TLS cost benchmark (see bench/README.md). Run through bench/run-tls.sh.

For each target broker (sluice, and optionally the Apache Kafka reference),
one process with a PLAINTEXT and an SSL listener side by side, so both paths
run on the same broker in the same minutes:
  * produce 1 KiB records at full speed, acks=1 (kafka-producer-perf-test);
  * produce latency at a fixed 5,000 records/s, acks=all (p50/p99);
  * consume what was produced with kcat and with kafka-consumer-perf-test;
each once over PLAINTEXT and once over SSL (TLS 1.3, server authentication,
the broker's default cipher choice), alternating. Prints the figures and the
SSL/PLAINTEXT ratio, and writes bench/results/<date>-tls.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
import sluice_harness as h  # noqa: E402
from bench import PERF_RE, Raw, machine, run_timed  # noqa: E402

SIZE = 1024
RECORDS = 600_000
LAT_RATE = 5000
LAT_SECS = 15


def make_pki(d: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 (openssl CLI)."""
    def ssl(*a):
        subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)
    ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA")
    ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    (d / "server-keystore.pem").write_text((d / "server.key").read_text() + (d / "server.pem").read_text())
    return {"ca": d / "ca.pem", "keystore": d / "server-keystore.pem"}


def client_props(sec: str, pki: dict[str, Path]) -> dict[str, str]:
    if sec == "PLAINTEXT":
        return {}
    return {"security.protocol": "SSL", "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(pki["ca"])}


def produce(bootstrap: str, props: dict, topic: str, n: int, acks: str, rate: int, raw: Raw, title: str) -> dict:
    argv = [str(h.KAFKA_BIN / "kafka-producer-perf-test.sh"), "--topic", topic, "--num-records", str(n),
            "--record-size", str(SIZE), "--throughput", str(rate), "--producer-props",
            f"bootstrap.servers={bootstrap}", f"acks={acks}", "enable.idempotence=false"]
    if any("=" in v for v in props.values()):
        # --producer-props cannot hold a value with '=' (a JAAS line): use a file.
        cfg = Path(props["ssl.truststore.location"]).parent / f"producer-{title.replace(' ', '_').replace(':', '')}.properties"
        cfg.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        argv += ["--producer.config", str(cfg)]
    else:
        argv += [f"{k}={v}" for k, v in props.items()]
    r, secs = run_timed(argv, timeout=900)
    raw.add(title, argv, r, secs)
    m = None
    for line in (r.stdout or b"").decode().splitlines():
        m = PERF_RE.search(line) or m
    if r.returncode != 0 or m is None or int(m.group(1)) != n:
        return {"ok": False, "why": f"exit {r.returncode}"}
    return {"ok": True, "mbs": float(m.group(3)), "p50": int(m.group(6)), "p99": int(m.group(8))}


def consume_kcat(bootstrap: str, props: dict, topic: str, n: int, raw: Raw, title: str) -> dict:
    x = []
    for k, v in props.items():
        if k == "security.protocol":
            x += ["-X", f"security.protocol={v.lower()}"]
        elif k == "ssl.truststore.location":
            x += ["-X", f"ssl.ca.location={v}"]
        elif k == "sasl.mechanism":
            x += ["-X", f"sasl.mechanisms={v}"]
        elif k == "sasl.jaas.config":
            import re
            for key in ("username", "password"):
                x += ["-X", f"sasl.{key}=" + re.search(key + r'="([^"]*)"', v).group(1)]
    argv = ["kcat", "-C", "-b", bootstrap, *x, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
            "-c", str(n), "-f", "%o\n"]
    # Timed from kcat's first output to its exit: the records flowing, not the client's start.
    # librdkafka 2.0 sometimes waits 500 ms between its start and its first fetch (seen with
    # `-X debug=fetch`, on a broker with encryption on or off alike); inside a run of under a
    # second that alone made one run of a case twice as slow as the next.
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first, count = None, 0
    try:
        while chunk := p.stdout.read1(1 << 16):
            if first is None:
                first = time.monotonic()
            count += chunk.count(b"\n")
        rc = p.wait(timeout=600)
    finally:
        p.kill()
    end = time.monotonic()
    secs = end - (first or t0)
    raw.add(title, argv, None, end - t0,
            note=f"({count} records; {secs:.3f} s from the first record to the end)")
    if rc != 0 or count != n or secs <= 0:
        return {"ok": False, "why": f"exit {rc}, {count} of {n}"}
    return {"ok": True, "mbs": n * SIZE / secs / 2**20}


def consume_perf(bootstrap: str, props: dict, topic: str, n: int, work: Path, raw: Raw, title: str) -> dict:
    cfg = work / f"consumer-{len(raw.parts)}.properties"
    cfg.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    argv = [str(h.KAFKA_BIN / "kafka-consumer-perf-test.sh"), "--bootstrap-server", bootstrap,
            "--topic", topic, "--messages", str(n), "--timeout", "30000", "--hide-header",
            "--consumer.config", str(cfg)]
    r, secs = run_timed(argv, timeout=600)
    raw.add(title, argv, r, secs)
    lines = [ln for ln in (r.stdout or b"").decode().splitlines() if ln.count(",") >= 9]
    if r.returncode != 0 or not lines:
        return {"ok": False, "why": f"exit {r.returncode}"}
    f = [x.strip() for x in lines[-1].split(",")]
    if int(float(f[4])) < n:
        return {"ok": False, "why": f"{f[4]} of {n}"}
    return {"ok": True, "mbs": float(f[8])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=os.environ.get("BENCH_TARGETS", "sluice"))
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    raw = Raw()
    rows: list[tuple[str, str, dict, dict]] = []
    n = max(1000, int(RECORDS * args.scale))
    nl = max(1000, int(LAT_RATE * LAT_SECS * min(1.0, args.scale)))
    failed = False
    for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
        work = Path(tempfile.mkdtemp(prefix=f"sluice-bench-tls-{target}-", dir="/tmp"))
        pki = make_pki(work)
        b = h.Broker(work, target=target)
        ssl_port = h.free_port()
        lst = f"PLAINTEXT://127.0.0.1:{b.port},SSL://127.0.0.1:{ssl_port}"
        cfg = {"listeners": lst, "advertised.listeners": lst,
               "ssl.keystore.type": "PEM", "ssl.keystore.location": str(pki["keystore"])}
        if target == "kafka":
            cfg["listeners"] = lst + f",CONTROLLER://127.0.0.1:{b.controller_port}"
            cfg["listener.security.protocol.map"] = "PLAINTEXT:PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT"
        b.extra.update(cfg)
        eps = {"PLAINTEXT": b.bootstrap, "SSL": f"127.0.0.1:{ssl_port}"}
        print(f"== {target}: PLAINTEXT {eps['PLAINTEXT']}, SSL {eps['SSL']}", flush=True)
        b.start()
        try:
            res: dict[str, dict[str, dict]] = {"PLAINTEXT": {}, "SSL": {}}
            # Alternate the two protocols case by case, so drift hits both.
            for sec in ("PLAINTEXT", "SSL"):
                h.create_topic(b.bootstrap, f"tls-{sec}", 1)
                h.create_topic(b.bootstrap, f"tls-lat-{sec}", 1)
            for case in ("produce", "latency", "kcat", "perf"):
                for sec in ("PLAINTEXT", "SSL"):
                    props, ep = client_props(sec, pki), eps[sec]
                    title = f"{target} {sec}: {case}"
                    print(f"   {title} ...", flush=True)
                    if case == "produce":
                        r = produce(ep, props, f"tls-{sec}", n, "1", -1, raw, title)
                    elif case == "latency":
                        r = produce(ep, props, f"tls-lat-{sec}", nl, "all", LAT_RATE, raw, title)
                    elif case == "kcat":
                        r = consume_kcat(ep, props, f"tls-{sec}", n, raw, title)
                    else:
                        r = consume_perf(ep, props, f"tls-{sec}", n, work, raw, title)
                    res[sec][case] = r
                    failed |= not r["ok"]
                    b.check_alive()
            labels = {"produce": f"produce {n:,} x 1 KiB acks=1, MB/s",
                      "latency": f"produce p99 at {LAT_RATE}/s acks=all, ms",
                      "kcat": "consume kcat, MB/s", "perf": "consume perf-test (group), MB/s"}
            for case, label in labels.items():
                rows.append((target, label, res["PLAINTEXT"][case], res["SSL"][case]))
        finally:
            log = b.log_tail(30)
            try:
                b.finish()
            except AssertionError as e:
                print(f"!! {target}: {str(e).splitlines()[0]}", flush=True)
                failed = True
            b.kill()
            raw.parts.append(f"## {target}: broker log tail\n\n```\n{log}\n```\n")
            shutil.rmtree(work, ignore_errors=True)

    def val(case: str, r: dict) -> str:
        if not r.get("ok"):
            return f"failed: {r.get('why')}"
        return f"{r['p99']}" if "p99" in case else f"{r['mbs']:.1f}"

    lines = ["| target | case | PLAINTEXT | SSL | SSL / PLAINTEXT |", "|---|---|---:|---:|---:|"]
    for target, case, p, s in rows:
        ratio = "-"
        if p.get("ok") and s.get("ok"):
            if "p99" in case:
                ratio = f"{p['p99'] / s['p99']:.2f} (inverse: lower is better)" if s["p99"] else "-"
            else:
                ratio = f"{s['mbs'] / p['mbs']:.2f}"
        lines.append(f"| {target} | {case} | {val(case, p)} | {val(case, s)} | {ratio} |")
    table = "\n".join(lines)
    print("\n" + table + "\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = out / f"{dt.datetime.now():%Y-%m-%d}-tls.md"
    rawf = out / f"{dt.datetime.now():%Y-%m-%d}-tls-raw.md"
    md.write_text(
        f"# TLS cost benchmark, {dt.datetime.now():%Y-%m-%d %H:%M}\n\n{machine()}\n\n"
        "One broker per target with a PLAINTEXT and an SSL listener; each case runs over both, "
        "back to back. SSL: TLS 1.3 as negotiated by the Java client or librdkafka with the "
        "broker's default suites, server authentication (P-256 certificate), no client "
        "certificate. The ratio is SSL over PLAINTEXT for throughput; for p99 latency it is "
        "PLAINTEXT over SSL, so 1.0 means no cost either way. Compare figures of one run only "
        "(bench/README.md).\n\n"
        f"{table}\n\nRaw output: [{rawf.name}]({rawf.name})\n")
    rawf.write_text(f"# Raw output for {md.name}\n\n" + "\n".join(raw.parts))
    print(f"wrote {md}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
