# SPDX-License-Identifier: Apache-2.0
"""SASL cost benchmark (see bench/README.md). Run through bench/run-sasl.sh.

One Sluice broker with a PLAINTEXT and a SASL_SSL listener side by side (same
process, same minutes), users created with kafka-configs over PLAINTEXT:

(a) connection set-up rate: W worker processes (Python, OpenSSL through the
    ssl module, a hand-written SCRAM client) each open connections one after
    the other for a fixed time; a connection counts once it has completed its
    layers and one Metadata round trip, then it is closed:
      tcp            PLAINTEXT listener: TCP, Metadata
      tls            an SSL listener (same broker): TCP, TLS 1.3, Metadata
      sasl-plain     SASL_SSL: TLS 1.3, SaslHandshake, SaslAuthenticate (PLAIN), Metadata
      scram-sha-256  SASL_SSL: TLS 1.3, SaslHandshake, 2 x SaslAuthenticate, Metadata
      scram-sha-512  the same with SHA-512
    For each: connections/s, and the CPU seconds the broker (utime+stime from
    /proc/<pid>/stat) and the client workers (getrusage) spent, per connection.
    Every full TLS handshake is new (no session resumption). The SCRAM client
    caches SaltedPassword per (salt, iterations) as RFC 5802 allows, so the
    client's PBKDF2 is paid once; its cost per call is printed separately.
(b) throughput, 1 KiB records, acks=1, one partition: kafka-producer-perf-test
    and kcat / kafka-consumer-perf-test, over PLAINTEXT and over SASL_SSL with
    SCRAM-SHA-512, alternating case by case; SASL_SSL / PLAINTEXT ratio.
(c) other clients during a flood of set-ups: one client with an open
    PLAINTEXT connection sends a Metadata request every 2 ms and times each
    round trip, first alone, then while W workers open connections as in (a)
    (TLS only, TLS + PLAIN, TLS + SCRAM-SHA-512). PLAIN's PBKDF2 runs on the
    broker's authentication threads, so a PLAIN flood should delay the
    other client about as much as a flood of bare TLS handshakes does; run it
    with an older binary (SLUICED=...) to see the time PBKDF2 held a network
    thread.

Prints the figures, writes bench/results/<date>-sasl.md and -sasl-raw.md.
Figures only: nothing here passes or fails on a number.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import multiprocessing as mp
import os
import resource
import secrets
import shutil
import socket
import ssl
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
import sluice_harness as h  # noqa: E402
from bench import PERF_RE, Raw, machine, run_timed  # noqa: E402
from tls import make_pki  # noqa: E402

USER, PASSWORD = "bench", "bench-secret-pw"
ITERATIONS = 4096
SIZE = 1024
RECORDS = 600_000
CONN_SECS = 10.0
CONN_CASES = ["tcp", "tls", "sasl-plain", "scram-sha-256", "scram-sha-512"]

# --------------------------------------------------------------------------
# the connection client: just enough Kafka wire for SASL and one Metadata

API_METADATA, API_SASL_HANDSHAKE, API_SASL_AUTHENTICATE = 3, 17, 36


def _frame(api: int, ver: int, corr: int, body: bytes) -> bytes:
    hdr = struct.pack(">hhih", api, ver, corr, 5) + b"bench"  # request header v1
    return struct.pack(">i", len(hdr) + len(body)) + hdr + body


def _recv(s, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def _call(s, api: int, ver: int, corr: int, body: bytes) -> bytes:
    s.sendall(_frame(api, ver, corr, body))
    (n,) = struct.unpack(">i", _recv(s, 4))
    resp = _recv(s, n)
    (rc,) = struct.unpack(">i", resp[:4])
    if rc != corr:
        raise ValueError(f"correlation id {rc}, sent {corr}")
    return resp[4:]


def _bytes(b: bytes) -> bytes:
    return struct.pack(">i", len(b)) + b


def _authenticate(s, corr: int, token: bytes) -> bytes:
    """SaslAuthenticate v1 (non-flexible): error, message, auth bytes, lifetime."""
    r = _call(s, API_SASL_AUTHENTICATE, 1, corr, _bytes(token))
    (err,) = struct.unpack(">h", r[:2])
    (ml,) = struct.unpack(">h", r[2:4])
    pos = 4 + max(ml, 0)
    if err:
        raise PermissionError(f"SaslAuthenticate error {err}: {r[4:pos].decode(errors='replace')}")
    (bl,) = struct.unpack(">i", r[pos:pos + 4])
    return r[pos + 4:pos + 4 + bl]


_SALTED: dict[tuple[str, bytes, int], bytes] = {}


def _scram(s, corr: int, mech: str) -> int:
    hname = "sha256" if mech == "SCRAM-SHA-256" else "sha512"
    cnonce = base64.b64encode(secrets.token_bytes(18)).decode()
    first_bare = f"n={USER},r={cnonce}"
    server_first = _authenticate(s, corr, ("n,," + first_bare).encode()).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    nonce, salt, it = attrs["r"], base64.b64decode(attrs["s"]), int(attrs["i"])
    if not nonce.startswith(cnonce):
        raise ValueError("server nonce does not extend the client's")
    key = (hname, salt, it)
    if key not in _SALTED:
        _SALTED[key] = hashlib.pbkdf2_hmac(hname, PASSWORD.encode(), salt, it)
    salted = _SALTED[key]
    client_key = hmac.digest(salted, b"Client Key", hname)
    stored_key = hashlib.new(hname, client_key).digest()
    without_proof = f"c=biws,r={nonce}"
    auth_msg = f"{first_bare},{server_first},{without_proof}".encode()
    sig = hmac.digest(stored_key, auth_msg, hname)
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, sig))).decode()
    final = _authenticate(s, corr + 1, f"{without_proof},p={proof}".encode()).decode()
    server_sig = hmac.digest(hmac.digest(salted, b"Server Key", hname), auth_msg, hname)
    if final != "v=" + base64.b64encode(server_sig).decode():
        raise ValueError(f"bad server signature {final!r}")
    return corr + 2


def _handshake(s, corr: int, mech: str) -> None:
    r = _call(s, API_SASL_HANDSHAKE, 1, corr, struct.pack(">h", len(mech)) + mech.encode())
    (err,) = struct.unpack(">h", r[:2])
    if err:
        raise PermissionError(f"SaslHandshake {mech}: error {err}")


def one_connection(case: str, port: int, ctx: ssl.SSLContext | None) -> None:
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1") if ctx else raw
    try:
        corr = 1
        if case.startswith("sasl-") or case.startswith("scram-"):
            mech = "PLAIN" if case == "sasl-plain" else case.upper()
            _handshake(s, corr, mech)
            if mech == "PLAIN":
                _authenticate(s, corr + 1, f"\0{USER}\0{PASSWORD}".encode())
                corr += 2
            else:
                corr = _scram(s, corr + 1, mech)
        r = _call(s, API_METADATA, 1, corr, struct.pack(">i", 0))  # Metadata v1, no topics
        if struct.unpack(">i", r[:4])[0] < 1:
            raise ValueError("Metadata without brokers")
    finally:
        s.close()


def _worker(case: str, port: int, ca: str | None, secs: float, start_at: float, q) -> None:
    ctx = None
    if ca:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(cafile=ca)
    # The SCRAM client's one PBKDF2 per mechanism happens here, before the clock.
    if case.startswith("scram-"):
        one_connection(case, port, ctx)
    while time.time() < start_at:
        time.sleep(0.001)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    end = time.monotonic() + secs
    ok = errors = 0
    last_err = ""
    while time.monotonic() < end:
        try:
            one_connection(case, port, ctx)
            ok += 1
        except Exception as e:  # noqa: BLE001 - counted and reported
            errors += 1
            last_err = repr(e)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    q.put((ok, errors, last_err, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)))


def proc_cpu(pid: int) -> float:
    """utime + stime of a process, all its threads, in seconds."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def conn_rate(case: str, port: int, ca: str | None, workers: int, secs: float, broker_pid: int) -> dict:
    q: mp.Queue = mp.Queue()
    start_at = time.time() + 0.5 + 0.1 * workers  # after every worker's warm-up connection
    ps = [mp.Process(target=_worker, args=(case, port, ca, secs, start_at, q)) for _ in range(workers)]
    for p in ps:
        p.start()
    while time.time() < start_at:
        time.sleep(0.005)
    b0, t0 = proc_cpu(broker_pid), time.monotonic()
    res = [q.get(timeout=secs + 120) for _ in ps]
    b1, t1 = proc_cpu(broker_pid), time.monotonic()
    for p in ps:
        p.join(30)
    ok = sum(r[0] for r in res)
    errors = sum(r[1] for r in res)
    client_cpu = sum(r[3] for r in res)
    broker_cpu = b1 - b0
    return {"ok": ok > 0 and errors == 0, "why": next((r[2] for r in res if r[2]), ""), "conns": ok,
            "errors": errors, "rate": ok / secs, "broker_cpu": broker_cpu, "client_cpu": client_cpu,
            "wall": t1 - t0, "broker_us": broker_cpu / max(ok, 1) * 1e6,
            "client_us": client_cpu / max(ok, 1) * 1e6}


STALL_CASES = ["none", "tls", "sasl-plain", "scram-sha-512"]
PROBE_EVERY = 0.002


def _probe(port: int, secs: float, start_at: float, q) -> None:
    """Metadata v1 round trips on one open connection, one every PROBE_EVERY s: their times, s."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lats: list[float] = []
    corr = 1
    try:
        _call(s, API_METADATA, 1, corr, struct.pack(">i", 0))  # warm
        while time.time() < start_at:
            time.sleep(0.001)
        end = time.monotonic() + secs
        nxt = time.monotonic()
        while time.monotonic() < end:
            corr += 1
            t = time.perf_counter()
            _call(s, API_METADATA, 1, corr, struct.pack(">i", 0))
            lats.append(time.perf_counter() - t)
            nxt += PROBE_EVERY
            pause = nxt - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                nxt = time.monotonic()
    finally:
        s.close()
    q.put(lats)


def stall(case: str, ports: dict[str, int], ca: str, workers: int, secs: float) -> dict:
    """The probe's round trips alone (case "none") or during a flood of set-ups of case."""
    q: mp.Queue = mp.Queue()
    pq: mp.Queue = mp.Queue()
    start_at = time.time() + 0.5 + 0.1 * workers
    flood = [] if case == "none" else [
        mp.Process(target=_worker, args=(case, ports[case], ca, secs, start_at, q)) for _ in range(workers)]
    probe = mp.Process(target=_probe, args=(ports["tcp"], secs, start_at, pq))
    for p in flood + [probe]:
        p.start()
    lats = sorted(pq.get(timeout=secs + 120))
    res = [q.get(timeout=secs + 120) for _ in flood]
    for p in flood + [probe]:
        p.join(30)
    errors = sum(r[1] for r in res)

    def pct(x: float) -> float:
        return lats[min(len(lats) - 1, int(x * len(lats)))] * 1000 if lats else float("nan")
    return {"ok": bool(lats) and errors == 0, "why": next((r[2] for r in res if r[2]), ""),
            "n": len(lats), "p50": pct(0.50), "p99": pct(0.99), "max": lats[-1] * 1000 if lats else float("nan"),
            "setups": sum(r[0] for r in res) / secs}


def pbkdf2_ms(hname: str) -> float:
    t = time.perf_counter()
    for _ in range(5):
        hashlib.pbkdf2_hmac(hname, PASSWORD.encode(), b"0123456789abcdef", ITERATIONS)
    return (time.perf_counter() - t) / 5 * 1000


# --------------------------------------------------------------------------
# throughput with Kafka's tools and kcat


def java_props(sec: str, pki: dict[str, Path]) -> dict[str, str]:
    if sec == "PLAINTEXT":
        return {}
    return {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
                                f'username="{USER}" password="{PASSWORD}";',
            "ssl.truststore.type": "PEM", "ssl.truststore.location": str(pki["ca"])}


def kcat_props(sec: str, pki: dict[str, Path]) -> list[str]:
    if sec == "PLAINTEXT":
        return []
    x = {"security.protocol": "sasl_ssl", "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": USER,
         "sasl.password": PASSWORD, "ssl.ca.location": str(pki["ca"])}
    return [a for k, v in x.items() for a in ("-X", f"{k}={v}")]


def props_file(work: Path, props: dict[str, str]) -> Path:
    p = work / f"client-{len(list(work.glob('client-*')))}.properties"
    p.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    return p


def produce(bootstrap: str, props: dict, work: Path, topic: str, n: int, raw: Raw, title: str) -> dict:
    argv = [str(h.KAFKA_BIN / "kafka-producer-perf-test.sh"), "--topic", topic, "--num-records", str(n),
            "--record-size", str(SIZE), "--throughput", "-1", "--producer-props",
            f"bootstrap.servers={bootstrap}", "acks=1", "enable.idempotence=false",
            "--producer.config", str(props_file(work, props))]
    r, secs = run_timed(argv, timeout=900)
    raw.add(title, argv, r, secs)
    m = None
    for line in (r.stdout or b"").decode().splitlines():
        m = PERF_RE.search(line) or m
    if r.returncode != 0 or m is None or int(m.group(1)) != n:
        return {"ok": False, "why": f"exit {r.returncode}"}
    return {"ok": True, "mbs": float(m.group(3))}


def consume_kcat(bootstrap: str, x: list[str], topic: str, n: int, raw: Raw, title: str) -> dict:
    argv = ["kcat", "-C", "-b", bootstrap, *x, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
            "-c", str(n), "-f", "%o\n"]
    r, secs = run_timed(argv, timeout=600)
    count = (r.stdout or b"").count(b"\n")
    shown = [a if "password" not in a else a.split("=")[0] + "=..." for a in argv]
    raw.add(title, shown, r if r.returncode else None, secs, note=f"({count} records)")
    if r.returncode != 0 or count != n:
        return {"ok": False, "why": f"exit {r.returncode}, {count} of {n}"}
    return {"ok": True, "mbs": n * SIZE / secs / 2**20}


def consume_perf(bootstrap: str, props: dict, work: Path, topic: str, n: int, raw: Raw, title: str) -> dict:
    argv = [str(h.KAFKA_BIN / "kafka-consumer-perf-test.sh"), "--bootstrap-server", bootstrap,
            "--topic", topic, "--messages", str(n), "--timeout", "30000", "--hide-header",
            "--consumer.config", str(props_file(work, props))]
    r, secs = run_timed(argv, timeout=600)
    raw.add(title, argv, r, secs)
    lines = [ln for ln in (r.stdout or b"").decode().splitlines() if ln.count(",") >= 9]
    if r.returncode != 0 or not lines:
        return {"ok": False, "why": f"exit {r.returncode}"}
    f = [x.strip() for x in lines[-1].split(",")]
    if int(float(f[4])) < n:
        return {"ok": False, "why": f"{f[4]} of {n}"}
    return {"ok": True, "mbs": float(f[8])}


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")),
                    help="multiply record counts and connection-test seconds (default 1; QUICK=1 means 0.1)")
    ap.add_argument("--workers", type=int, default=4, help="connection workers (processes, default 4)")
    ap.add_argument("--part", choices=["all", "connections", "throughput", "stall"], default="all",
                    help="run only (a), (b) or (c) (default: all)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    if os.environ.get("QUICK") == "1":
        args.scale = min(args.scale, 0.1)
    secs = max(1.0, CONN_SECS * args.scale)
    n = max(5000, int(RECORDS * args.scale))
    raw = Raw()
    failed = False
    load0 = os.getloadavg()

    work = Path(tempfile.mkdtemp(prefix="sluice-bench-sasl-", dir="/tmp"))
    pki = make_pki(work)
    # The readiness probe's TLS client needs only the CA (PEM).
    probe = h.TlsClient(ca_pem=pki["ca"], truststore_p12=pki["ca"], password="")
    b = h.Broker(work, target="sluice", listeners=["PLAINTEXT", "SSL", "SASL_SSL"], tls=probe)
    b.extra.update({"ssl.keystore.type": "PEM", "ssl.keystore.location": str(pki["keystore"]),
                    "super.users": "User:ANONYMOUS",
                    "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"})
    print(f"== sluice: PLAINTEXT {b.bootstrap}, SSL {b.bootstrap_of('SSL')}, "
          f"SASL_SSL {b.bootstrap_of('SASL_SSL')}", flush=True)
    b.start()
    conn: dict[str, dict] = {}
    stalls: dict[str, dict] = {}
    thr: dict[str, dict[str, dict]] = {"PLAINTEXT": {}, "SASL_SSL": {}}
    try:
        spec = ",".join(f"{m}=[iterations={ITERATIONS},password={PASSWORD}]"
                        for m in ("SCRAM-SHA-256", "SCRAM-SHA-512"))
        r = h.kafka_tool("kafka-configs", "--bootstrap-server", b.bootstrap, "--alter", "--add-config", spec,
                         "--entity-type", "users", "--entity-name", USER)
        assert b"Completed updating config" in r.stdout, r.stdout + r.stderr

        # The listener each kind of connection goes to, for (a) and (c).
        ports = {case: b.ports["SASL_SSL"] for case in CONN_CASES}
        ports.update({"tcp": b.port, "tls": b.ports["SSL"]})

        # (a) connection set-up
        for case in CONN_CASES if args.part in ("all", "connections") else []:
            port = ports[case]
            ca = None if case == "tcp" else str(pki["ca"])
            print(f"   connections: {case}, {args.workers} workers, {secs:.0f} s ...", flush=True)
            res = conn_rate(case, port, ca, args.workers, secs, b.pid)
            conn[case] = res
            failed |= not res["ok"]
            print(f"      {res['rate']:.0f}/s, broker {res['broker_us']:.0f} us/conn, "
                  f"client {res['client_us']:.0f} us/conn"
                  + (f", {res['errors']} errors: {res['why']}" if res["errors"] else ""), flush=True)
            raw.parts.append(f"## connections: {case}\n\n```\n{res}\n```\n")
            b.check_alive()

        # (c) other clients during a flood
        for case in STALL_CASES if args.part in ("all", "stall") else []:
            print(f"   stall: Metadata every {PROBE_EVERY * 1000:.0f} ms, flood {case} ...", flush=True)
            res = stall(case, ports, str(pki["ca"]), args.workers, secs)
            stalls[case] = res
            failed |= not res["ok"]
            print(f"      p50 {res['p50']:.2f} ms, p99 {res['p99']:.2f} ms, max {res['max']:.1f} ms "
                  f"({res['n']} round trips, {res['setups']:.0f} set-ups/s)"
                  + (f", flood errors: {res['why']}" if res["why"] else ""), flush=True)
            raw.parts.append(f"## stall: {case}\n\n```\n{res}\n```\n")
            b.check_alive()

        # (b) throughput
        for sec in ("PLAINTEXT", "SASL_SSL"):
            h.create_topic(b.bootstrap, f"sasl-{sec}".lower(), 1)
        eps = {"PLAINTEXT": b.bootstrap, "SASL_SSL": b.bootstrap_of("SASL_SSL")}
        for case in ("produce", "kcat", "perf") if args.part in ("all", "throughput") else []:
            for sec in ("PLAINTEXT", "SASL_SSL"):
                title = f"{sec}: {case}"
                print(f"   {title} ...", flush=True)
                topic, ep = f"sasl-{sec}".lower(), eps[sec]
                if case == "produce":
                    res = produce(ep, java_props(sec, pki), work, topic, n, raw, title)
                elif case == "kcat":
                    res = consume_kcat(ep, kcat_props(sec, pki), topic, n, raw, title)
                else:
                    res = consume_perf(ep, java_props(sec, pki), work, topic, n, raw, title)
                thr[sec][case] = res
                failed |= not res["ok"]
                b.check_alive()
    finally:
        log = b.log_tail(30)
        try:
            b.finish()
        except AssertionError as e:
            print(f"!! {str(e).splitlines()[0]}", flush=True)
            failed = True
        b.kill()
        raw.parts.append(f"## broker log tail\n\n```\n{log}\n```\n")
        shutil.rmtree(work, ignore_errors=True)

    ncpu = os.cpu_count() or 1
    load1 = os.getloadavg()
    load = (f"Load average (1 min) at start {load0[0]:.2f}, at end {load1[0]:.2f}: on a {ncpu}-core machine, "
            "more than this benchmark's own load means other work shared the cores.")
    lines = [f"| connection | set-ups/s | broker CPU per set-up, µs | client CPU per set-up, µs | "
             f"broker CPU use (of {ncpu} cores) | client CPU use | broker-bound ceiling, set-ups/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    labels = {"tcp": "TCP (PLAINTEXT listener)", "tls": "TCP + TLS 1.3 (SSL listener)",
              "sasl-plain": "TLS 1.3 + SASL PLAIN", "scram-sha-256": "TLS 1.3 + SCRAM-SHA-256",
              "scram-sha-512": "TLS 1.3 + SCRAM-SHA-512"}
    for case in CONN_CASES:
        r = conn.get(case)
        if r is None:
            continue
        if not r["ok"]:
            lines.append(f"| {labels[case]} | failed: {r['errors']} errors, {r['why'][:80]} | | | | | |")
            continue
        lines.append(f"| {labels[case]} | {r['rate']:,.0f} | {r['broker_us']:,.0f} | {r['client_us']:,.0f} | "
                     f"{r['broker_cpu'] / r['wall']:.2f} | {r['client_cpu'] / r['wall']:.2f} | "
                     f"{ncpu / (r['broker_us'] / 1e6):,.0f} |")
    ctable = "\n".join(lines)

    def val(r: dict | None) -> str:
        if not r:
            return "-"
        return f"{r['mbs']:.1f}" if r.get("ok") else f"failed: {r.get('why')}"

    tl = ["| case | PLAINTEXT | SASL_SSL (SCRAM-SHA-512) | SASL_SSL / PLAINTEXT |", "|---|---:|---:|---:|"]
    tlabels = {"produce": f"produce {n:,} x 1 KiB acks=1, MB/s", "kcat": "consume kcat, MB/s",
               "perf": "consume perf-test (group), MB/s"}
    for case, label in tlabels.items():
        p, s = thr["PLAINTEXT"].get(case), thr["SASL_SSL"].get(case)
        ratio = f"{s['mbs'] / p['mbs']:.2f}" if p and s and p.get("ok") and s.get("ok") and p["mbs"] else "-"
        tl.append(f"| {label} | {val(p)} | {val(s)} | {ratio} |")
    ttable = "\n".join(tl)
    hi = f"client PBKDF2 (Hi, {ITERATIONS} iterations, Python's hashlib): " \
         f"SHA-256 {pbkdf2_ms('sha256'):.1f} ms, SHA-512 {pbkdf2_ms('sha512'):.1f} ms per call"
    sl = ["| flood (set-ups by " f"{args.workers} workers) | set-ups/s | Metadata round trip p50, ms | p99, ms | max, ms | round trips |",
          "|---|---:|---:|---:|---:|---:|"]
    slabels = {"none": "none (the client alone)", "tls": "TLS 1.3 (SSL listener)", "sasl-plain": "TLS 1.3 + SASL PLAIN",
               "scram-sha-512": "TLS 1.3 + SCRAM-SHA-512"}
    for case in STALL_CASES:
        r = stalls.get(case)
        if r is None:
            continue
        lab = slabels[case] + ("" if r["ok"] else f" (failed: {r['why'][:60]})")
        sl.append(f"| {lab} | {r['setups']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.1f} | {r['n']:,} |")
    stable = "\n".join(sl)
    show_c, show_t, show_s = (args.part in ("all", "connections"), args.part in ("all", "throughput"),
                              args.part in ("all", "stall"))
    print("\n" + (ctable + "\n\n" + hi + "\n\n" if show_c else "") + (stable + "\n\n" if show_s else "")
          + (ttable + "\n" if show_t else ""))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    md = out / f"{now:%Y-%m-%d}-sasl.md"
    rawf = out / f"{now:%Y-%m-%d}-sasl-raw.md"
    md.write_text(
        f"# SASL cost benchmark, {now:%Y-%m-%d %H:%M}\n\n{machine()}\n\n"
        f"Run: `bench/run-sasl.sh --scale {args.scale:g} --workers {args.workers}"
        f"{'' if args.part == 'all' else ' --part ' + args.part}` "
        "(bench/README.md). One Sluice broker with PLAINTEXT, SSL and SASL_SSL listeners "
        "(P-256 server certificate, TLS 1.3, server authentication only; SCRAM credentials "
        f"with {ITERATIONS} iterations). Compare figures of one run only. {load}\n\n"
        + (f"## Connection set-up ({args.workers} client processes, {secs:.0f} s per row)\n\n"
           "A set-up is connect, the layers named, one Metadata v1 round trip, close; every TLS "
           "handshake is a full one. CPU use is CPU seconds over wall seconds (1.0 = one core busy). "
           "The ceiling is what the broker's CPU per set-up would allow with every core to itself "
           "(an extrapolation: here the clients share the cores).\n\n"
           f"{ctable}\n\n{hi}; the benchmark's SCRAM client pays it once per mechanism (cached "
           "SaltedPassword), a Java client pays it on every connection.\n\n" if show_c else "")
        + (f"## Other clients during a flood of set-ups ({secs:.0f} s per row)\n\n"
           f"One client on the PLAINTEXT listener sends Metadata v1 every {PROBE_EVERY * 1000:.0f} ms on an "
           "open connection and times each round trip, alone and then while the workers open connections "
           "as in the set-up table. The broker runs as many network threads as cores; PLAIN's PBKDF2 "
           "runs on its authentication threads.\n\n"
           f"{stable}\n\n" if show_s else "")
        + (f"## Throughput\n\n{ttable}\n\n" if show_t else "")
        + f"Raw output: [{rawf.name}]({rawf.name})\n")
    rawf.write_text(f"# Raw output for {md.name}\n\n" + "\n".join(raw.parts))
    print(load)
    print(f"wrote {md}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
