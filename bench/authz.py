# SPDX-License-Identifier: Apache-2.0
"""Authorizer cost benchmark (see bench/README.md). Run through bench/run-authz.sh.

Sluice's authorizer cannot be switched off, so "authorizer off" is the
cheapest path it has: a super user, whose check returns before the ACL set is
consulted. One broker, one SASL_PLAINTEXT listener (SCRAM-SHA-512), two users
created offline with the sluice CLI before the broker starts:

  root  in super.users                                 -> "super"  (the baseline)
  app   not; allowed by LITERAL ALLOW WRITE ACLs for    -> "acl"
        its topics, inside a set of 10,000 other ACLs

The set (loaded by root with confluent-kafka's AdminClient, CreateAcls) is a
fixed-seed mix in the shape of bench/acl_bench.c: LITERAL and PREFIXED topic
bindings, LITERAL consumer-group bindings, User:* bindings (LITERAL "*"
DESCRIBE, PREFIXED READ), DENY and cluster bindings, all for 500 other
principals; one binding in ten names a host. app's topics live under team
prefixes that other principals' PREFIXED bindings also use, so a decision for
app walks real candidate groups. allow.everyone.if.no.acl.found=false.

Cases, alternating within each round (the order flips every round), each on
the same topics for both users:

  (a) super, one topic     kafka-producer-perf-test, 1 partition
  (b) acl,   one topic     the same; one WRITE decision per Produce request,
                           answered from the connection's decision cache
  (a') super, 256 topics   a confluent-kafka (librdkafka) producer writing
                           round robin to 256 one-partition topics
  (c) acl,   256 topics    the same; 256 topics > the cache's 64 direct-mapped
                           slots, so most decisions run the ACL set lookup

For each: MB/s (2^20 bytes of record values, as the perf tool counts),
records/s, the broker's CPU seconds (utime + stime of all its threads, from
/proc/<pid>/stat; user time separately) per GB (10^9 bytes) of record
values, and the authorizer's own counters (decisions, cache hits) read with
gdb between runs if gdb can attach. Ratios: (b)/(a) and (c)/(a'), and (c)/(a)
for the record. With --perf, one more run of (a') and (c) per size after
the measured rounds, under `perf record -e cpu-clock --call-graph dwarf`:
the share of the broker's samples in the authorizer (authorize.c's check
and its callees) and where in it they fall, in the raw file.

Prints the table, writes bench/results/<date>-authz.md and -authz-raw.md.
Figures only: nothing here passes or fails on a number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import signal
import statistics
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
from perfprof import chain_share  # noqa: E402

MECH = "SCRAM-SHA-512"
USERS = {"root": "root-bench-pw", "app": "app-bench-pw"}
OTHER_ACLS = 10_000
MANY = 256  # topics of the multi-topic cases (> the cache's 64 slots)
SINGLE = "team007.appsvc.events"
MANY_FMT = "team{team:03d}.appsvc.t{i:03d}"
# (record size, records per run at scale 1): about 3-5 s of producing each
# with the Java tool; the librdkafka producer of the 256-topic cases is
# faster and sends MANY_FACTOR times as many, so that its runs last as long.
SIZES = [(1024, 300_000), (100, 1_000_000)]
MANY_FACTOR = 3
CASES = ["a", "b", "am", "c"]
LABEL = {"a": "(a) super user, 1 topic", "b": "(b) ACL, 1 topic",
         "am": "(a') super user, 256 topics", "c": "(c) ACL, 256 topics"}
BASE_LABEL = {"a": "(a)", "am": "(a')"}
USER_OF = {"a": "root", "b": "app", "am": "root", "c": "app"}


# --------------------------------------------------------------------------
# the ACL set


def other_acls(n: int, seed: int = 20261128) -> list[tuple]:
    """n distinct bindings (res, name, pattern, principal, host, op, perm) for
    principals other than root and app, in the mix of bench/acl_bench.c."""
    rnd = random.Random(seed)
    users, teams = max(n // 20, 3), n // 50 + 2
    ops = ["READ", "WRITE", "DESCRIBE", "ALL"]
    out: set[tuple] = set()
    while len(out) < n:
        k, team, svc = rnd.randrange(100), rnd.randrange(teams), rnd.randrange(1000)
        user = f"User:u{rnd.randrange(users):04d}"
        host = "*" if rnd.randrange(10) else f"10.0.{rnd.randrange(256)}.{rnd.randrange(256)}"
        op = ops[rnd.randrange(4)]
        if k < 55:
            b = ("TOPIC", f"team{team:03d}.svc{svc:04d}.events", "LITERAL", user, host, op, "ALLOW")
        elif k < 70:
            b = ("GROUP", f"team{team:03d}.svc{svc:04d}.cg", "LITERAL", user, host,
                 rnd.choice(["READ", "DESCRIBE"]), "ALLOW")
        elif k < 85:
            pfx = f"team{team:03d}." if rnd.randrange(2) else f"team{team:03d}.svc{svc:04d}."
            b = ("TOPIC", pfx, "PREFIXED", user, host, op, "ALLOW")
        elif k < 90:
            b = (("TOPIC", "*", "LITERAL", "User:*", "*", "DESCRIBE", "ALLOW") if rnd.randrange(2) else
                 ("TOPIC", f"team{team:03d}.svc{svc:04d}.", "PREFIXED", "User:*", "*", "READ", "ALLOW"))
        elif k < 95:
            if rnd.randrange(2):
                b = ("TOPIC", f"team{team:03d}.", "PREFIXED", user, "*", rnd.choice(["WRITE", "ALL"]), "DENY")
            else:
                b = ("TOPIC", f"team{team:03d}.svc{svc:04d}.events", "LITERAL", user, host, op, "DENY")
        else:
            b = ("CLUSTER", "kafka-cluster", "LITERAL", user, host,
                 rnd.choice(["DESCRIBE", "CREATE", "IDEMPOTENT_WRITE"]), "ALLOW")
        out.add(b)
    return sorted(out)


def many_topics() -> list[str]:
    return [MANY_FMT.format(team=(i * 7) % 200, i=i) for i in range(MANY)]


def app_acls(topics: list[str]) -> list[tuple]:
    return [("TOPIC", t, "LITERAL", "User:app", "*", "WRITE", "ALLOW") for t in topics]


def admin(bootstrap: str, user: str):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 30000, **rdk_sasl(user)})


def load_acls(a, acls: list[tuple], batch: int) -> float:
    from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
    t = time.monotonic()
    for i in range(0, len(acls), batch):
        bs = [AclBinding(ResourceType["BROKER" if r == "CLUSTER" else r], name, ResourcePatternType[pat], pr, host,
                         AclOperation[op],
                         AclPermissionType[perm]) for r, name, pat, pr, host, op, perm in acls[i:i + batch]]
        for f in a.create_acls(bs, request_timeout=120).values():
            f.result()
    return time.monotonic() - t


def count_acls(a) -> int:
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
    f = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                         AclPermissionType.ANY)
    return len(a.describe_acls(f, request_timeout=60).result())


# --------------------------------------------------------------------------
# clients


def rdk_sasl(user: str) -> dict[str, str]:
    return {"security.protocol": "sasl_plaintext", "sasl.mechanisms": MECH, "sasl.username": user,
            "sasl.password": USERS[user]}


def java_props(work: Path, user: str) -> Path:
    p = work / f"client-{user}.properties"
    p.write_text("security.protocol=SASL_PLAINTEXT\n"
                 f"sasl.mechanism={MECH}\n"
                 "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                 f'username="{user}" password="{USERS[user]}";\n')
    return p


def perf_produce(bootstrap: str, work: Path, user: str, topic: str, size: int, n: int, raw: Raw,
                 title: str) -> dict:
    argv = [str(h.KAFKA_BIN / "kafka-producer-perf-test.sh"), "--topic", topic, "--num-records", str(n),
            "--record-size", str(size), "--throughput", "-1", "--producer-props",
            f"bootstrap.servers={bootstrap}", "acks=1", "enable.idempotence=false",
            "--producer.config", str(java_props(work, user))]
    r, secs = run_timed(argv, timeout=900)
    raw.add(title, argv, r, secs)
    m = None
    for line in (r.stdout or b"").decode().splitlines():
        m = PERF_RE.search(line) or m
    if r.returncode != 0 or m is None or int(m.group(1)) != n:
        return {"ok": False, "why": f"exit {r.returncode}" + ("" if m else ", no summary line")}
    return {"ok": True, "rps": float(m.group(2)), "mbs": float(m.group(3))}


def many_produce(bootstrap: str, user: str, topics: list[str], size: int, n: int, raw: Raw, title: str) -> dict:
    argv = [sys.executable, str(Path(__file__).resolve()), "--produce-many", "--bootstrap", bootstrap,
            "--user", user, "--topics", ",".join(topics), "--size", str(size), "--records", str(n)]
    r, secs = run_timed(argv, timeout=900)
    shown = argv[:argv.index("--topics") + 1] + [f"<{len(topics)} topics: {topics[0]},...>"] + \
        argv[argv.index("--topics") + 2:]
    raw.add(title, shown, r, secs)
    m = re.search(rb"sent (\d+) records in ([\d.]+) s: ([\d.]+) records/sec \(([\d.]+) MB/sec\)", r.stdout or b"")
    if r.returncode != 0 or m is None or int(m.group(1)) != n:
        return {"ok": False, "why": f"exit {r.returncode}" + ("" if m else ", no summary line")}
    return {"ok": True, "rps": float(m.group(3)), "mbs": float(m.group(4))}


def produce_many_main(args) -> int:
    """The multi-topic producer (a child process): librdkafka through
    confluent-kafka, round robin over the topics, Java-like batching
    (batch.size 16384, linger.ms 5, a 32 MiB buffer), acks=1, no idempotence,
    no compression. Times from the first send to the last acknowledgement."""
    from confluent_kafka import Producer
    topics = args.topics.split(",")
    errors = [0]
    p = Producer({"bootstrap.servers": args.bootstrap, **rdk_sasl(args.user), "acks": "1",
                  "enable.idempotence": False, "linger.ms": 5, "batch.size": 16384,
                  "queue.buffering.max.kbytes": 32768, "queue.buffering.max.messages": 10_000_000,
                  "compression.type": "none", "statistics.interval.ms": 0})

    def dr(err, _msg):
        if err is not None:
            errors[0] += 1

    # Metadata for every topic before the clock (perf-test's first send
    # waits for its one topic's metadata, inside its clock; a small difference).
    md = p.list_topics(timeout=30)
    missing = [t for t in topics if t not in md.topics or md.topics[t].error is not None]
    if missing:
        print(f"no metadata for {len(missing)} topics, e.g. {missing[0]}", file=sys.stderr)
        return 2
    value = os.urandom(args.size)
    nt = len(topics)
    produce, poll = p.produce, p.poll
    t0 = time.monotonic()
    for i in range(args.records):
        while True:
            try:
                produce(topics[i % nt], value, on_delivery=dr)
                break
            except BufferError:
                poll(0.001)
        if i & 1023 == 0:
            poll(0)
    left = p.flush(300)
    secs = time.monotonic() - t0
    if left or errors[0]:
        print(f"{left} records unsent, {errors[0]} delivery errors", file=sys.stderr)
        return 1
    print(f"sent {args.records} records in {secs:.3f} s: {args.records / secs:.1f} records/sec "
          f"({args.records * args.size / secs / 2**20:.2f} MB/sec), {nt} topics, {args.size} B")
    return 0


# --------------------------------------------------------------------------
# broker-side measures


def proc_cpu(pid: int) -> tuple[float, float]:
    """(utime, stime) of a process, all its threads, in seconds."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return int(f[11]) / tck, int(f[12]) / tck


def authz_counters(pid: int) -> tuple[int, int] | None:
    """(decisions, cache hits) from the broker's authorize.c counters, with
    gdb attached for a moment (between runs, outside any timing)."""
    if not shutil.which("gdb"):
        return None
    try:
        r = subprocess.run(["gdb", "-nx", "-batch", "-p", str(pid), "-ex", "print *(unsigned long *)&n_decisions",
                            "-ex", "print *(unsigned long *)&n_hits"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    v = re.findall(rb"^\$\d+ = (\d+)", r.stdout, re.M)
    return (int(v[0]), int(v[1])) if len(v) == 2 else None


AUTHZ_SELF_RE = re.compile(r"sl_acl_decide|sl_authz\w*|check_group|check_hosts|check_run|run_of|cache_of\S*|"
                           r"hash_of|decide|check")


def perf_summary(data: Path, title: str, raw: Raw) -> dict:
    """The broker's profile of one run: the top symbols by own samples, the
    authorizer's functions, and the share of all samples under the
    authorizer's entry points (children included: the cache, the ACL set
    lookup, memcmp and the rest below them, by DWARF call graphs)."""
    def report(children: bool) -> list[str]:
        r = subprocess.run(["perf", "report", "-i", str(data), "--children" if children else "--no-children",
                            "--stdio", "--sort", "symbol", "-g", "none", "--percent-limit", "0"],
                           capture_output=True, timeout=600)
        return [ln for ln in r.stdout.decode(errors="replace").splitlines() if ln.strip() and not ln.startswith("#")]

    def sym(ln: str) -> str:
        return ln.split("]", 1)[-1].split()[0] if "]" in ln else ""

    own = report(False)
    incl = report(True)
    authz_own = [ln for ln in own if AUTHZ_SELF_RE.fullmatch(sym(ln) or "-")]
    self_share = sum(float(ln.split("%")[0]) for ln in authz_own)
    entries = [ln for ln in incl if AUTHZ_SELF_RE.fullmatch(sym(ln) or "-")]
    # Children% is the first column. The functions nest (sl_authz jumps to
    # authorize.c's check, which calls sl_acl_decide), so the outermost one's
    # figure is the authorizer's share: the largest.
    incl_share = max((float(ln.split("%")[0]) for ln in entries), default=0.0)
    # Where the time under check goes: the leaf function of every sample
    # whose call chain passes through authorize.c's check.
    ch = chain_share(data, lambda f: f == "check" or f.startswith("sl_authz"))
    total, under, breakdown = ch["total"], ch["under"], ch["leaves"]
    raw.parts.append(f"## perf: {title}\n\n$ perf record -e cpu-clock -F 999 --call-graph dwarf,16384 -p <broker>"
                     " (during the run)\n$ perf report --no-children --stdio --sort symbol\n\ntop symbols by own "
                     "samples:\n\n```\n" + "\n".join(own[:25]) + "\n```\n\nthe authorizer's functions, own "
                     f"samples ({self_share:.2f}% in all):\n\n```\n" + "\n".join(authz_own) + "\n```\n\n"
                     "$ perf report --children ...: the authorizer's functions, callees included; the "
                     "outermost one's figure "
                     f"({incl_share:.2f}% in all):\n\n```\n" + "\n".join(entries) + "\n```\n\n"
                     "$ perf script -F ip,sym: the samples whose call chain passes through the authorizer "
                     f"({under / max(total, 1) * 100:.2f}% of {total}), by the function they were in "
                     "(a libc function with its caller):\n\n```\n"
                     f"{breakdown}\n```\n")
    return {"share": incl_share, "self": self_share, "leaves": breakdown}


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")),
                    help="multiply record counts (default 1; QUICK=1 means 0.3)")
    ap.add_argument("--rounds", type=int, default=0, help="rounds of the four cases (default 3; QUICK=1: 1)")
    ap.add_argument("--sizes", default="1024,100", help="record sizes, among 1024 and 100 (default both)")
    ap.add_argument("--perf", action="store_true",
                    help="after the measured rounds, one more (a') and (c) per size under perf record "
                         "-e cpu-clock: the share of the broker's samples in the authorizer")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    # the child mode: the multi-topic producer
    ap.add_argument("--produce-many", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--bootstrap", help=argparse.SUPPRESS)
    ap.add_argument("--user", help=argparse.SUPPRESS)
    ap.add_argument("--topics", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--records", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.produce_many:
        return produce_many_main(args)
    quick = os.environ.get("QUICK") == "1"
    if quick:
        args.scale = min(args.scale, 0.3)
    rounds = args.rounds or (1 if quick else 3)
    sizes = [(s, max(10_000, int(n * args.scale))) for s, n in SIZES if str(s) in args.sizes.split(",")]
    raw = Raw()
    failed = False
    load0 = os.getloadavg()
    t_start = time.monotonic()

    work = Path(tempfile.mkdtemp(prefix="sluice-bench-authz-", dir="/tmp"))
    b = h.Broker(work, target="sluice", listeners=[("SASL_PLAINTEXT", "SASL_PLAINTEXT")])
    b.extra.update({"sasl.enabled.mechanisms": MECH, "super.users": "User:root",
                    "allow.everyone.if.no.acl.found": "false"})
    b.data_dir.mkdir(parents=True, exist_ok=True)
    for u, pw in USERS.items():
        argv = ["user", "add", u, "--mechanism", MECH, "--password-stdin", "--data-dir", str(b.data_dir)]
        h.sluice_cli(*argv, input=pw.encode() + b"\n")
        raw.parts.append(f"## set-up\n\n$ sluice {' '.join(argv)}  (password on stdin)\n")
    print(f"== sluice: SASL_PLAINTEXT {b.bootstrap}, users root (super) and app", flush=True)
    b.start()
    res: dict[tuple[int, str], list[dict]] = {}
    profiles: dict[tuple[int, str], dict] = {}
    n_acls = 0
    acl_secs = 0.0
    try:
        a = admin(b.bootstrap, "root")
        topics = many_topics()
        from confluent_kafka.admin import NewTopic
        fs = a.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in [SINGLE, *topics]],
                             operation_timeout=120, request_timeout=120)
        for f in fs.values():
            f.result()
        acls = other_acls(OTHER_ACLS) + app_acls([SINGLE, *topics])
        acl_secs = load_acls(a, acls, batch=len(acls))
        n_acls = count_acls(a)
        msg = (f"   {len(acls):,} ACLs ({OTHER_ACLS:,} for other principals, {len(topics) + 1} for app) "
               f"created in one CreateAcls request in {acl_secs:.2f} s; DescribeAcls lists {n_acls:,}")
        print(msg, flush=True)
        raw.parts.append(f"## set-up\n\n{1 + len(topics)} topics created by root; {msg.strip()}\n")

        def run_case(case: str, size: int, n: int, rnd: int, profile: bool = False) -> dict:
            user = USER_OF[case]
            n = n if case in ("a", "b") else n * MANY_FACTOR
            title = (f"{'profile' if profile else f'round {rnd}'}: {LABEL[case]}, {size} B x {n:,} as {user}")
            print(f"   {title} ...", flush=True)
            c0 = authz_counters(b.pid)
            cpu0 = proc_cpu(b.pid)
            prof = None
            if profile:
                data = work / f"perf-{case}-{size}.data"
                prof = (subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "--call-graph",
                                          "dwarf,16384", "-p", str(b.pid), "-o", str(data)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL), data)
                time.sleep(0.5)  # perf attached before the first request
            if case in ("a", "b"):
                r = perf_produce(b.bootstrap, work, user, SINGLE, size, n, raw, title)
            else:
                r = many_produce(b.bootstrap, user, topics, size, n, raw, title)
            cpu1 = proc_cpu(b.pid)
            if prof:
                prof[0].send_signal(signal.SIGINT)
                prof[0].wait(60)
                profiles[(size, case)] = perf_summary(prof[1], title, raw)
            c1 = authz_counters(b.pid)
            gb = n * size / 1e9
            r["bytes"] = n * size
            r["user_per_gb"] = (cpu1[0] - cpu0[0]) / gb
            r["sys_per_gb"] = (cpu1[1] - cpu0[1]) / gb
            r["cpu_per_gb"] = r["user_per_gb"] + r["sys_per_gb"]
            if c0 and c1:
                r["decisions"], r["hits"] = c1[0] - c0[0], c1[1] - c0[1]
            b.check_alive()
            if r["ok"]:
                print(f"      {r['mbs']:.1f} MB/s, {r['rps']:,.0f} records/s, broker {r['cpu_per_gb']:.2f} "
                      f"CPU s/GB (user {r['user_per_gb']:.2f})"
                      + (f", {r['decisions']:,} decisions, {r['hits']:,} cache hits" if "decisions" in r else ""),
                      flush=True)
            else:
                print(f"      failed: {r['why']}", flush=True)
            return r

        for rnd in range(1, rounds + 1):
            for size, n in sizes:
                for pair in (("a", "b"), ("am", "c")):
                    for case in (pair if rnd % 2 else pair[::-1]):
                        r = run_case(case, size, n, rnd)
                        res.setdefault((size, case), []).append(r)
                        failed |= not r["ok"]
        # Profiles in a round of their own, outside the table: perf's
        # sampling costs the broker a little.
        if args.perf and shutil.which("perf"):
            for size, n in sizes:
                for case in ("am", "c"):
                    r = run_case(case, size, n, rounds + 1, profile=True)
                    failed |= not r["ok"]
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
    minutes = (time.monotonic() - t_start) / 60
    load = (f"Load average (1 min) at start {load0[0]:.2f}, at end {load1[0]:.2f} on {ncpu} cores "
            f"(the benchmark itself keeps about 2 busy while producing); {minutes:.1f} minutes in all.")

    def med(size: int, case: str, key: str) -> float | None:
        rs = [r for r in res.get((size, case), []) if r.get("ok") and key in r]
        return statistics.median(r[key] for r in rs) if rs else None

    def f(x, spec):
        return "-" if x is None else format(x, spec)

    lines = ["| record | case | MB/s | records/s | ratio of MB/s | broker CPU s/GB (user + sys) | ratio of CPU/GB | "
             "ratio of user CPU/GB | ACL decisions per run | cache hits |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, n in sizes:
        for case in CASES:
            rs = res.get((size, case), [])
            if rs and not any(r["ok"] for r in rs):
                lines.append(f"| {size} B | {LABEL[case]} | failed: {rs[0]['why']} | | | | | | | |")
                continue
            base = {"a": None, "b": "a", "am": None, "c": "am"}[case]
            mbs, cpu = med(size, case, "mbs"), med(size, case, "cpu_per_gb")
            usr, sys_ = med(size, case, "user_per_gb"), med(size, case, "sys_per_gb")
            ratio = ratio_cpu = ratio_usr = None
            if base and mbs and med(size, base, "mbs"):
                ratio = mbs / med(size, base, "mbs")
                ratio_cpu = cpu / med(size, base, "cpu_per_gb")
                ratio_usr = usr / med(size, base, "user_per_gb")
            dec, hits = med(size, case, "decisions"), med(size, case, "hits")
            lines.append(f"| {size} B | {LABEL[case]} | {f(mbs, '.1f')} | {f(med(size, case, 'rps'), ',.0f')} | "
                         f"{'' if not base else f(ratio, '.3f') + ' of ' + BASE_LABEL[base]} | "
                         f"{f(cpu, '.2f')} ({f(usr, '.2f')} + {f(sys_, '.2f')}) | "
                         f"{'' if not base else f(ratio_cpu, '.3f')} | {'' if not base else f(ratio_usr, '.3f')} | "
                         f"{f(dec, ',.0f')} | {f(hits, ',.0f')} |")
    table = "\n".join(lines)

    per_run = ["| record | case | " + " | ".join(f"round {i}: MB/s, CPU (user) s/GB" for i in range(1, rounds + 1))
               + " |",
               "|---:|---|" + "---:|" * rounds]
    for size, n in sizes:
        for case in CASES:
            cells = [f"{r['mbs']:.1f}, {r['cpu_per_gb']:.2f} ({r['user_per_gb']:.2f})" if r.get("ok") else "failed"
                     for r in res.get((size, case), [])]
            per_run.append(f"| {size} B | {LABEL[case]} | " + " | ".join(cells) + " |")
    per_run_t = "\n".join(per_run)
    extra = []
    for size, n in sizes:
        c, a_ = med(size, "c", "mbs"), med(size, "a", "mbs")
        if c and a_:
            extra.append(f"(c)/(a), {size} B: {c / a_:.3f} of MB/s, "
                         f"{med(size, 'c', 'cpu_per_gb') / med(size, 'a', 'cpu_per_gb'):.3f} of CPU/GB, "
                         f"{med(size, 'c', 'user_per_gb') / med(size, 'a', 'user_per_gb'):.3f} of user CPU/GB")
    for size, n in sizes:
        pa, pc = profiles.get((size, "am")), profiles.get((size, "c"))
        if pa and pc:
            extra.append(f"perf, {size} B, 256 topics, one more run of each under perf record (not in the table): "
                         f"{pc['share']:.2f}% of the broker's cpu-clock samples are in the authorizer "
                         "(authorize.c's check and what it calls, by DWARF call graphs) as app (c), "
                         f"{pa['share']:.2f}% as root (a'); "
                         f"its own functions' self samples {pc['self']:.2f}% and {pa['self']:.2f}%")
    print("\n" + table + "\n\n" + per_run_t + "\n\n" + "\n".join(extra) + "\n")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    md = out / f"{now:%Y-%m-%d}-authz.md"
    rawf = out / f"{now:%Y-%m-%d}-authz-raw.md"
    cmd = "QUICK=1 bench/run-authz.sh" if quick else \
        f"bench/run-authz.sh --scale {args.scale:g} --rounds {rounds}" + (" --perf" if args.perf else "")
    md.write_text(
        f"# Authorizer cost benchmark, {now:%Y-%m-%d %H:%M}\n\n{machine()}\n\n"
        f"Run: `{cmd}` (bench/README.md). One Sluice broker, one SASL_PLAINTEXT listener "
        f"({MECH}), users `root` (in super.users: the check returns before the ACL set, the "
        f"\"authorizer off\" baseline) and `app` (allowed by a LITERAL ALLOW WRITE binding per topic), "
        f"{n_acls:,} ACLs in the set ({OTHER_ACLS:,} for 500 other principals: LITERAL and PREFIXED "
        "topics, groups, User:*, DENY, cluster; bench/authz.py). allow.everyone.if.no.acl.found=false. "
        "acks=1, idempotence off, no compression, batch.size 16384, linger.ms 5. One topic: "
        "kafka-producer-perf-test, one partition. 256 topics: a librdkafka (confluent-kafka) producer "
        "writing round robin to 256 one-partition topics, each with its own ACL for app: more than the "
        "64 slots of the connection's decision cache. Cases alternate within each round (order flipped "
        f"every round); {rounds} round(s); the table shows medians. MB is 2^20 bytes of record values "
        "(the perf tool's unit), GB 10^9; broker CPU is utime + stime of the whole process "
        "(/proc/<pid>/stat) over the run; the authorizer runs in user time, while system time here "
        "is mostly the kernel's (page cache, sockets) and drifts most with the host. Decisions and cache "
        "hits are authorize.c's counters, read "
        "with gdb between runs. Compare figures of one run only. "
        f"{load}\n\n{table}\n\n" + ("".join(f"- {x}\n" for x in extra) + "\n" if extra else "")
        + f"Each run:\n\n{per_run_t}\n\nRaw output: [{rawf.name}]({rawf.name})\n")
    rawf.write_text(f"# Raw output for {md.name}\n\n" + "\n".join(raw.parts))
    print(load)
    print(f"wrote {md}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
