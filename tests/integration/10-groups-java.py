# SPDX-License-Identifier: Apache-2.0
"""Consumer groups with Kafka's own Java tools: kafka-console-consumer with
--group reads everything produced (JoinGroup with MEMBER_ID_REQUIRED, SyncGroup,
OffsetFetch, Heartbeat, OffsetCommit, LeaveGroup), and kafka-consumer-groups
lists the group, describes its members, committed offsets and lag, resets the
offsets to the earliest, deletes committed offsets of a topic and deletes the
group (ListGroups, DescribeGroups, OffsetFetch v9, OffsetCommit from the admin
client, OffsetDelete, DeleteGroups)."""

from __future__ import annotations

import os
import signal
import subprocess

import sluice_harness as h

TOPIC = "grp-java"
PARTS = 3
N = 3000


def _groups(bootstrap: str, *args: str, check: bool = True) -> str:
    r = h.kafka_tool("kafka-consumer-groups", "--bootstrap-server", bootstrap, *args, check=check)
    return r.stdout.decode() + r.stderr.decode()


def _describe_offsets(bootstrap: str, group: str) -> dict[int, tuple[int, int, int]]:
    """{partition: (current offset, log end offset, lag)} from --describe."""
    out = _groups(bootstrap, "--describe", "--group", group)
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == group and f[1] == TOPIC:
            cur = -1 if f[3] == "-" else int(f[3])
            lag = -1 if f[5] == "-" else int(f[5])
            rows[int(f[2])] = (cur, int(f[4]), lag)
    return rows


def _console_consume(bootstrap: str, group: str, count: int, from_beginning: bool) -> list[h.Got]:
    args = ["--bootstrap-server", bootstrap, "--topic", TOPIC, "--group", group,
            "--max-messages", str(count), "--timeout-ms", str(int(60000 * h.SLOWDOWN)),
            "--property", "print.partition=true", "--property", "print.offset=true",
            "--property", "print.key=true", "--property", "print.headers=true"]
    if from_beginning:
        args.append("--from-beginning")
    r = h.kafka_tool("kafka-console-consumer", *args, timeout=h.CONSUME_TIMEOUT)
    got = []
    for line in r.stdout.split(b"\n"):
        if not line:
            continue
        part, off, hdrs, key, value = line.split(b"\t")
        headers = ()
        if hdrs != b"NO_HEADERS":
            headers = tuple((k.decode(), v) for k, _, v in (x.partition(b":") for x in hdrs.split(b",")))
        got.append(h.Got(int(part.split(b":")[1]), int(off.split(b":")[1]), key, value, headers))
    assert len(got) == count, f"console consumer read {len(got)} records, expected {count}"
    return got


def test_console_consumer_group_and_consumer_groups_tool(broker):
    bs = broker.bootstrap
    h.create_topic(bs, TOPIC, PARTS)
    recs = h.make_records(N, seed=1001, partitions=PARTS, text=True, forbid=b"\t\n,:",
                          header_values_text=True)
    h.produce_confluent(bs, TOPIC, recs)

    # A group consumer reads everything, exactly once, and commits on close.
    got = _console_consume(bs, "java-group", N, from_beginning=True)
    h.check_consumed(recs, got, PARTS)

    listed = _groups(bs, "--list").split()
    assert "java-group" in listed, listed
    ends = {p: sum(1 for r in recs if r.partition == p) for p in range(PARTS)}
    rows = _describe_offsets(bs, "java-group")
    assert {p: (c, e) for p, (c, e, _) in rows.items()} == {p: (ends[p], ends[p]) for p in range(PARTS)}, rows
    assert all(lag == 0 for _, _, lag in rows.values()), rows

    # New records show up as lag.
    more = h.make_records(N + 90, seed=1001, partitions=PARTS, text=True, forbid=b"\t\n,:",
                          header_values_text=True)[N:]
    h.produce_confluent(bs, TOPIC, more)
    rows = _describe_offsets(bs, "java-group")
    assert sum(lag for _, _, lag in rows.values()) == 90, rows

    # Reset to the earliest offsets, then the group reads everything again.
    out = _groups(bs, "--group", "java-group", "--reset-offsets", "--to-earliest", "--topic", TOPIC,
                  "--execute")
    assert "java-group" in out, out
    rows = _describe_offsets(bs, "java-group")
    assert all(cur == 0 for cur, _, _ in rows.values()), rows
    again = _console_consume(bs, "java-group", N + 90, from_beginning=False)
    assert len({(g.partition, g.offset) for g in again}) == N + 90

    # Deleting the committed offsets of the topic, then the group itself.
    out = _groups(bs, "--delete-offsets", "--group", "java-group", "--topic", TOPIC)
    assert "Successful" in out and "Error" not in out, out
    rows = _describe_offsets(bs, "java-group")
    assert all(cur == -1 for cur, _, _ in rows.values()), rows
    out = _groups(bs, "--delete", "--group", "java-group")
    assert "successful" in out, out
    assert "java-group" not in _groups(bs, "--list").split()


def test_describe_active_group_and_refuse_delete(broker):
    bs = broker.bootstrap
    h.create_topic(bs, TOPIC, PARTS)
    h.produce_confluent(bs, TOPIC, h.make_records(30, seed=1002, partitions=PARTS))
    script = h.KAFKA_BIN / "kafka-console-consumer.sh"
    proc = subprocess.Popen(
        [str(script), "--bootstrap-server", bs, "--topic", TOPIC, "--group", "busy-group",
         "--from-beginning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def active():
            out = _groups(bs, "--describe", "--group", "busy-group", "--members")
            rows = [ln.split() for ln in out.splitlines() if ln.startswith("busy-group")]
            return rows if rows and rows[0][2] == "/127.0.0.1" and rows[0][4] == str(PARTS) else None

        rows = h.wait_for(active, 90 * h.SLOWDOWN, "the console consumer as an active member")
        assert rows[0][3] == "console-consumer", rows
        state = _groups(bs, "--describe", "--group", "busy-group", "--state")
        assert "Stable" in state and "range" in state, state
        out = _groups(bs, "--delete", "--group", "busy-group", check=False)
        assert "The group is not empty" in out, out
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    # The consumer left (LeaveGroup on close): the group is empty and can go.
    h.wait_for(lambda: "Empty" in _groups(bs, "--describe", "--group", "busy-group", "--state"),
               30 * h.SLOWDOWN, "the group to become Empty")
    assert "successful" in _groups(bs, "--delete", "--group", "busy-group")


def test_unknown_group(broker):
    out = _groups(broker.bootstrap, "--describe", "--group", "no-such-group", check=False)
    assert "GroupIdNotFoundException" in out or "does not exist" in out, out
