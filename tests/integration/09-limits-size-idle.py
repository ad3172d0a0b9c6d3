# SPDX-License-Identifier: Apache-2.0
"""Size and idle limits at their exact boundaries (PROTOCOL.md §1.1 size table, §3.6).

Kafka (measured on 4.1.2 with kwire; SLUICE_TARGET=kafka runs this file against it):
  * message.max.bytes bounds one record batch including its 12-byte log overhead
    (UnifiedLog: batch.sizeInBytes > maxMessageSize -> RecordTooLargeException): a batch of
    exactly message.max.bytes is appended, one byte more -> MESSAGE_TOO_LARGE (10). The topic
    config max.message.bytes overrides it per topic.
  * socket.request.max.bytes bounds the request frame's size field (the bytes after the
    4-byte prefix): NetworkReceive rejects size > max, so a frame of exactly max is read and
    answered, max+1 closes the connection without a response -- as soon as the size is read.
  * connections.max.idle.ms: the selector closes a connection with no traffic for that long
    (checked on each poll, so a little later than the limit, never earlier).
"""

from __future__ import annotations

import struct
import time

import pytest

import kwire as k
import sluice_harness as h

DEFAULT_MESSAGE_MAX = 1048588


def _start(factory, config):
    b = factory(config=config)
    b.start()
    return b


def _healthy(b, topic):
    b.check_alive()
    k.check_healthy(b.host, b.port, topic=topic)


@pytest.mark.parametrize("message_max", [DEFAULT_MESSAGE_MAX, 65536])
def test_message_max_bytes_boundary(broker_factory, message_max):
    b = _start(broker_factory, {"message.max.bytes": message_max})
    topic = "limits-mmb"
    with k.Conn(b.host, b.port, timeout=30) as c:
        k.create_topic_ready(c, topic)
        exact = k.batch_of_size(message_max)
        assert len(exact) == message_max
        p = k.produce_retrying(c, topic, 0, exact)
        assert p["error_code"] == k.NONE, f"batch of exactly message.max.bytes={message_max}: {p}"
        off = p["base_offset"]
        over = k.batch_of_size(message_max + 1)
        p = c.produce_one(topic, 0, over)
        assert p["error_code"] == k.MESSAGE_TOO_LARGE, f"batch of message.max.bytes+1: {p}"
        assert p["base_offset"] == -1, p
        p = c.produce_one(topic, 0, over, version=9)
        assert p["error_code"] == k.MESSAGE_TOO_LARGE, f"v9, batch of message.max.bytes+1: {p}"
        # The accepted batch comes back whole even with a small partition_max_bytes (KIP-74).
        f = c.fetch_one(topic, 0, off, partition_max_bytes=1024)
        batches, _ = k.parse_batches(f["records"])
        assert batches and batches[0].base_offset == off and batches[0].size == message_max, \
            [(x.base_offset, x.size) for x in batches]
        assert f["high_watermark"] == off + 1
    _healthy(b, topic)


def test_topic_max_message_bytes_overrides(broker_factory):
    b = _start(broker_factory, {})
    topic = "limits-topic-mmb"
    with k.Conn(b.host, b.port) as c:
        k.create_topic_ready(c, topic, configs={"max.message.bytes": "5000"})
        p = k.produce_retrying(c, topic, 0, k.batch_of_size(5000))
        assert p["error_code"] == k.NONE, p
        p = c.produce_one(topic, 0, k.batch_of_size(5001))
        assert p["error_code"] == k.MESSAGE_TOO_LARGE, p
    _healthy(b, topic)


def _produce_frame_of(payload_size: int, topic: str, corr: int) -> bytes:
    """A Produce v3 request frame whose size field (header + body) is exactly payload_size."""
    def payload(records: bytes) -> bytes:
        body = k.encode_produce({topic: {0: records}}, -1, 30000, 3)
        return k.request_header(k.PRODUCE, 3, corr, client_id="limits") + body
    overhead = len(payload(b""))
    records = k.batch_of_size(payload_size - overhead)
    out = payload(records)
    assert len(out) == payload_size, (len(out), payload_size)
    return k.frame(out)


def test_socket_request_max_bytes_boundary(broker_factory):
    limit = 1 << 20
    b = _start(broker_factory, {"socket.request.max.bytes": limit})
    topic = "limits-srmb"
    with k.Conn(b.host, b.port) as c:
        k.create_topic_ready(c, topic)
        assert k.produce_retrying(c, topic, 0, k.build_batch([b"warm-up"]))["error_code"] == k.NONE

    # exactly the limit: read and answered (the batch inside is < message.max.bytes)
    with k.Conn(b.host, b.port, timeout=30) as c:
        c.send_raw(_produce_frame_of(limit, topic, 77))
        corr, r = c.recv_response(k.PRODUCE, 3, expect_corr=77)
        resp = k.parse_produce(r, 3)
        p = resp["responses"][0]["partitions"][0]
        assert p["error_code"] == k.NONE and p["base_offset"] == 1, resp
        assert c.api_versions(0)["error_code"] == k.NONE

    # the size prefix alone, exactly at the limit: the broker must wait for the body
    with k.Conn(b.host, b.port) as c:
        c.send_raw(struct.pack(">i", limit))
        closed, got = c.wait_closed(0.5)
        assert not closed and got == b"", f"size == socket.request.max.bytes was refused: {got.hex()}"

    # one byte more: closed without a response; the size alone is enough
    with k.Conn(b.host, b.port) as c:
        c.send_raw(struct.pack(">i", limit + 1))
        c.assert_closed_without_response(5 * h.SLOWDOWN, "size socket.request.max.bytes+1")
    with k.Conn(b.host, b.port) as c:
        data = _produce_frame_of(limit + 1, topic, 78)
        try:
            c.send_raw(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still writing the body: fine
        c.assert_closed_without_response(5 * h.SLOWDOWN, "whole frame of socket.request.max.bytes+1")
    with k.Conn(b.host, b.port) as c:
        assert c.list_offsets(topic, 0, -1)["offset"] == 2, "the oversized produce was appended"
    _healthy(b, topic)


def test_connections_max_idle_ms(broker_factory):
    idle_ms = 2000
    b = _start(broker_factory, {"connections.max.idle.ms": idle_ms})
    limit = idle_ms / 1000.0
    slack_early = 0.25                   # timer granularity: never much before the limit
    deadline = limit * 3 + 5 * h.SLOWDOWN

    # A: used once, then idle. B: connected, never sends anything. C: busy all along.
    a = k.Conn(b.host, b.port)
    assert a.api_versions(0)["error_code"] == k.NONE
    a_last = time.monotonic()
    bconn = k.Conn(b.host, b.port)
    b_last = time.monotonic()
    c = k.Conn(b.host, b.port)
    try:
        closed_at = {}
        end = time.monotonic() + deadline
        while time.monotonic() < end and len(closed_at) < 2:
            # keep C busy every 300 ms (well under the limit)
            assert c.api_versions(0)["error_code"] == k.NONE, "busy connection failed"
            for name, conn in (("A", a), ("B", bconn)):
                if name in closed_at:
                    continue
                closed, got = conn.wait_closed(0.15)
                assert got == b"", f"idle connection {name} received {got.hex()}"
                if closed:
                    closed_at[name] = time.monotonic()
        assert "A" in closed_at, f"idle connection (after one request) not closed within {deadline:.0f}s"
        assert "B" in closed_at, f"idle connection (never used) not closed within {deadline:.0f}s"
        assert closed_at["A"] - a_last >= limit - slack_early, \
            f"closed after {closed_at['A'] - a_last:.2f}s idle, limit {limit}s"
        assert closed_at["B"] - b_last >= limit - slack_early, \
            f"closed after {closed_at['B'] - b_last:.2f}s idle, limit {limit}s"
        # the busy connection lives on well past the limit while it keeps talking
        while time.monotonic() - b_last < 2 * limit + 0.5:
            assert c.api_versions(3)["error_code"] == k.NONE, "busy connection failed"
            closed, got = c.wait_closed(0.3)  # paces the loop; must stay open and silent
            assert not closed and got == b"", "busy connection was closed"
    finally:
        for conn in (a, bconn, c):
            conn.close()
    _healthy(b, "limits-idle")
