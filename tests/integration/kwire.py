# SPDX-License-Identifier: Apache-2.0
"""kwire: a small raw Kafka wire client for Sluice's integration tests.

Pure Python, standard library only. It exists so tests can send exactly the bytes they
mean to (well-formed or hostile) and read the broker's answer field by field, which real
client libraries do not allow.

What it covers (see docs/PROTOCOL.md in shared/ for the rules):
  * framing (int32 size prefix), request header v1 (non-flexible) and v2 (flexible),
    response header v0/v1 (ApiVersions: always v0);
  * primitive and compact encodings, tagged-field blocks;
  * ApiVersions v0-v4, Metadata v1, CreateTopics v2, Produce v3 and v9, Fetch v4 and v12,
    ListOffsets v1 (request encoders and response parsers);
  * record batch v2 (magic 2) builder with CRC-32C (implemented here), and a parser that
    also reports a torn trailing batch.

Nothing here interprets errors: parsers return plain dicts with the numeric codes so the
tests assert exact values.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple, Union

# ----------------------------------------------------------------------------------------
# API keys and error codes used by the tests
# ----------------------------------------------------------------------------------------

PRODUCE = 0
FETCH = 1
LIST_OFFSETS = 2
METADATA = 3
API_VERSIONS = 18
CREATE_TOPICS = 19
DELETE_TOPICS = 20

# First flexible version per API (KIP-482), for the APIs kwire speaks.
FLEXIBLE_FROM = {
    PRODUCE: 9,
    FETCH: 12,
    LIST_OFFSETS: 6,
    METADATA: 9,
    API_VERSIONS: 3,
    CREATE_TOPICS: 5,
    DELETE_TOPICS: 4,
    22: 2,  # InitProducerId
}

NONE = 0
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_REQUIRED_ACKS = 21
UNSUPPORTED_VERSION = 35
TOPIC_ALREADY_EXISTS = 36
INVALID_REQUEST = 42
INVALID_RECORD = 87

# ----------------------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table driven, slicing-by-8
# (eight 256-entry tables, 8 bytes per step: about 15 MB/s in CPython, enough for tests).
# ----------------------------------------------------------------------------------------


def _make_crc32c_tables() -> List[List[int]]:
    t0 = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t0.append(c)
    tables = [t0]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[n] >> 8) ^ t0[prev[n] & 0xFF] for n in range(256)])
    return tables


_CRC32C_TABLES = _make_crc32c_tables()


def crc32c(data: Union[bytes, bytearray, memoryview], crc: int = 0) -> int:
    """CRC-32C of data; pass a previous result as crc to continue a running checksum."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _CRC32C_TABLES
    data = bytes(data)
    c = crc ^ 0xFFFFFFFF
    n8 = len(data) & ~7
    for a, b in struct.iter_unpack("<II", data[:n8]):
        a ^= c
        c = (t7[a & 0xFF] ^ t6[(a >> 8) & 0xFF] ^ t5[(a >> 16) & 0xFF] ^ t4[a >> 24]
             ^ t3[b & 0xFF] ^ t2[(b >> 8) & 0xFF] ^ t1[(b >> 16) & 0xFF] ^ t0[b >> 24])
    for x in data[n8:]:
        c = t0[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _crc32c_bitwise(data: bytes) -> int:
    """Reference implementation, one bit at a time (used only by the self-check below)."""
    c = 0xFFFFFFFF
    for x in data:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value
assert all(crc32c(bytes(range(n))) == _crc32c_bitwise(bytes(range(n))) for n in range(0, 40, 3))

# ----------------------------------------------------------------------------------------
# Encoding
# ----------------------------------------------------------------------------------------


def uvarint(n: int) -> bytes:
    if n < 0:
        raise ValueError("uvarint of a negative number")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(n: int) -> bytes:
    """Zig-zag signed varint (also used for varlong: Python ints are unbounded)."""
    return uvarint((n << 1) ^ (n >> 63))


class Writer:
    """Builds a request body. `flexible` selects compact strings/arrays/bytes."""

    def __init__(self, flexible: bool = False):
        self.flexible = flexible
        self.buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self.buf)

    def raw(self, b: bytes) -> "Writer":
        self.buf += b
        return self

    def int8(self, v: int) -> "Writer":
        self.buf += struct.pack(">b", v)
        return self

    def boolean(self, v: bool) -> "Writer":
        self.buf.append(1 if v else 0)
        return self

    def int16(self, v: int) -> "Writer":
        self.buf += struct.pack(">h", v)
        return self

    def int32(self, v: int) -> "Writer":
        self.buf += struct.pack(">i", v)
        return self

    def int64(self, v: int) -> "Writer":
        self.buf += struct.pack(">q", v)
        return self

    def uvarint(self, v: int) -> "Writer":
        self.buf += uvarint(v)
        return self

    def string(self, s: Optional[str], nullable: bool = False) -> "Writer":
        """STRING / NULLABLE_STRING, compact in flexible versions."""
        if s is None:
            if not nullable:
                raise ValueError("null for a non-nullable string")
            if self.flexible:
                return self.uvarint(0)
            return self.int16(-1)
        b = s.encode("utf-8")
        if self.flexible:
            self.uvarint(len(b) + 1)
        else:
            self.int16(len(b))
        self.buf += b
        return self

    def plain_string(self, s: Optional[str]) -> "Writer":
        """int16-length nullable string even in flexible versions (request header client_id)."""
        if s is None:
            return self.int16(-1)
        b = s.encode("utf-8")
        self.int16(len(b))
        self.buf += b
        return self

    def bytes_(self, b: Optional[bytes]) -> "Writer":
        """BYTES / NULLABLE_BYTES / RECORDS, compact in flexible versions."""
        if b is None:
            return self.uvarint(0) if self.flexible else self.int32(-1)
        if self.flexible:
            self.uvarint(len(b) + 1)
        else:
            self.int32(len(b))
        self.buf += b
        return self

    def array_len(self, n: Optional[int]) -> "Writer":
        if n is None:
            return self.uvarint(0) if self.flexible else self.int32(-1)
        return self.uvarint(n + 1) if self.flexible else self.int32(n)

    def array(self, items: Optional[Sequence], fn) -> "Writer":
        """fn(writer, item) writes one element; in flexible versions the element's tag block
        is NOT added automatically (struct elements call .tags(), primitives don't)."""
        if items is None:
            return self.array_len(None)
        self.array_len(len(items))
        for it in items:
            fn(self, it)
        return self

    def tags(self, fields: Optional[dict] = None) -> "Writer":
        """Tagged-field block; only written in flexible versions. fields: {tag: bytes}."""
        if not self.flexible:
            return self
        fields = fields or {}
        self.uvarint(len(fields))
        for tag in sorted(fields):
            self.uvarint(tag)
            self.uvarint(len(fields[tag]))
            self.buf += fields[tag]
        return self


# ----------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------


class DecodeError(Exception):
    pass


class Reader:
    def __init__(self, data: bytes, flexible: bool = False):
        self.data = bytes(data)
        self.pos = 0
        self.flexible = flexible

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError(f"need {n} bytes at {self.pos}, have {self.remaining()}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def rest(self) -> bytes:
        return self.take(self.remaining())

    def expect_end(self) -> None:
        if self.remaining():
            raise DecodeError(f"{self.remaining()} trailing bytes at {self.pos}: "
                              f"{self.data[self.pos:self.pos + 32].hex()}")

    def int8(self) -> int:
        return struct.unpack(">b", self.take(1))[0]

    def boolean(self) -> bool:
        return self.take(1) != b"\x00"

    def int16(self) -> int:
        return struct.unpack(">h", self.take(2))[0]

    def int32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def uint32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def int64(self) -> int:
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self) -> int:
        shift = 0
        result = 0
        for i in range(10):
            b = self.take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
        raise DecodeError("varint too long")

    def varint(self) -> int:
        u = self.uvarint()
        return (u >> 1) ^ -(u & 1)

    def string(self, nullable: bool = False) -> Optional[str]:
        if self.flexible:
            n = self.uvarint() - 1
        else:
            n = self.int16()
        if n < 0:
            if not nullable:
                raise DecodeError("null in a non-nullable string")
            return None
        return self.take(n).decode("utf-8")

    def bytes_(self) -> Optional[bytes]:
        n = self.uvarint() - 1 if self.flexible else self.int32()
        if n < 0:
            return None
        return self.take(n)

    def array_len(self) -> Optional[int]:
        n = self.uvarint() - 1 if self.flexible else self.int32()
        if n < 0:
            return None
        if n > self.remaining():  # every element takes at least one byte
            raise DecodeError(f"array count {n} exceeds the {self.remaining()} bytes left")
        return n

    def array(self, fn) -> Optional[list]:
        n = self.array_len()
        if n is None:
            return None
        return [fn(self) for _ in range(n)]

    def tags(self) -> dict:
        if not self.flexible:
            return {}
        out = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            size = self.uvarint()
            out[tag] = self.take(size)
        return out


# ----------------------------------------------------------------------------------------
# Headers and framing
# ----------------------------------------------------------------------------------------


def is_flexible(api_key: int, version: int) -> bool:
    first = FLEXIBLE_FROM.get(api_key)
    return first is not None and version >= first


def request_header(api_key: int, version: int, correlation_id: int,
                   client_id: Optional[str] = "kwire", header_version: Optional[int] = None,
                   header_tags: Optional[dict] = None) -> bytes:
    """Request header v1 (non-flexible) or v2 (flexible). client_id is always an int16 string."""
    if header_version is None:
        header_version = 2 if is_flexible(api_key, version) else 1
    w = Writer()
    w.int16(api_key).int16(version).int32(correlation_id)
    if header_version >= 1:
        w.plain_string(client_id)
    if header_version >= 2:
        w.flexible = True
        w.tags(header_tags)
    return w.getvalue()


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def request_frame(api_key: int, version: int, correlation_id: int, body: bytes, **hdr) -> bytes:
    return frame(request_header(api_key, version, correlation_id, **hdr) + body)


def response_header_flexible(api_key: int, version: int) -> bool:
    """Response header v1 iff the version is flexible, except ApiVersions (always v0)."""
    return api_key != API_VERSIONS and is_flexible(api_key, version)


# ----------------------------------------------------------------------------------------
# Connection
# ----------------------------------------------------------------------------------------


class Closed(Exception):
    """The peer closed the connection (EOF or reset)."""


class Conn:
    """One TCP connection to a broker. Blocking with a timeout on every read."""

    def __init__(self, host: str, port: int, timeout: float = 10.0, client_id: Optional[str] = "kwire"):
        self.host, self.port = host, port
        self.timeout = timeout
        self.client_id = client_id
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._next_corr = 1
        self._rbuf = bytearray()

    # -- context manager --
    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self) -> None:
        """Close with RST (SO_LINGER 0) instead of FIN."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def next_corr(self) -> int:
        c = self._next_corr
        self._next_corr += 1
        return c

    # -- raw I/O --
    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, n: int, deadline: float) -> None:
        while len(self._rbuf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout(f"timed out waiting for {n} bytes (have {len(self._rbuf)})")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self._rbuf)))
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Closed(f"connection reset: {e}") from e
            if not chunk:
                raise Closed(f"EOF after {len(self._rbuf)} buffered bytes")
            self._rbuf += chunk

    def recv_exact(self, n: int, timeout: Optional[float] = None) -> bytes:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(n, deadline)
        out = bytes(self._rbuf[:n])
        del self._rbuf[:n]
        return out

    def recv_frame(self, timeout: Optional[float] = None) -> bytes:
        """One response frame's payload (without the size prefix)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(4, deadline)
        (size,) = struct.unpack(">i", bytes(self._rbuf[:4]))
        if size < 0:
            raise DecodeError(f"negative response size {size}")
        self._fill(4 + size, deadline)
        out = bytes(self._rbuf[4:4 + size])
        del self._rbuf[:4 + size]
        return out

    def wait_closed(self, timeout: float = 5.0) -> Tuple[bool, bytes]:
        """Wait until the peer closes. Returns (closed, bytes_received_meanwhile).
        closed is False if the deadline passed with the connection still open."""
        got = bytes(self._rbuf)
        self._rbuf.clear()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, got
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return True, got
            except OSError as e:
                if e.errno in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
                    return True, got
                raise
            if not chunk:
                return True, got
            got += chunk

    def assert_closed_without_response(self, timeout: float = 5.0, what: str = "") -> None:
        closed, got = self.wait_closed(timeout)
        assert closed, f"{what}: connection still open after {timeout}s (received {got[:64].hex()})"
        assert got == b"", f"{what}: expected no response before close, got {len(got)} bytes: {got[:64].hex()}"

    # -- requests --
    def send_request(self, api_key: int, version: int, body: bytes, correlation_id: Optional[int] = None,
                     **hdr) -> int:
        corr = self.next_corr() if correlation_id is None else correlation_id
        hdr.setdefault("client_id", self.client_id)
        self.send_raw(request_frame(api_key, version, corr, body, **hdr))
        return corr

    def recv_response(self, api_key: int, version: int, expect_corr: Optional[int] = None,
                      timeout: Optional[float] = None) -> Tuple[int, Reader]:
        """Reads one response, checks the correlation id, strips the response header and
        returns (corr, reader positioned at the body; reader.flexible set for the body)."""
        payload = self.recv_frame(timeout)
        flex_hdr = response_header_flexible(api_key, version)
        r = Reader(payload)
        corr = r.int32()
        if flex_hdr:
            r.flexible = True
            r.tags()
        if expect_corr is not None and corr != expect_corr:
            raise DecodeError(f"correlation id {corr} != expected {expect_corr}")
        r.flexible = is_flexible(api_key, version)
        return corr, r

    def call(self, api_key: int, version: int, body: bytes, parse=None, timeout: Optional[float] = None, **hdr):
        corr = self.send_request(api_key, version, body, **hdr)
        _, r = self.recv_response(api_key, version, expect_corr=corr, timeout=timeout)
        if parse is None:
            return r.rest()
        out = parse(r, version)
        r.expect_end()
        return out

    # -- typed helpers --
    def api_versions(self, version: int = 3, software_name: str = "kwire", software_version: str = "1.0",
                     **hdr) -> dict:
        return self.call(API_VERSIONS, version, encode_api_versions(version, software_name, software_version),
                         parse_api_versions, **hdr)

    def metadata(self, topics: Optional[Sequence[str]] = None, version: int = 1) -> dict:
        return self.call(METADATA, version, encode_metadata(topics, version), parse_metadata)

    def create_topics(self, topics: Sequence[dict], timeout_ms: int = 10000, validate_only: bool = False,
                      version: int = 2) -> dict:
        return self.call(CREATE_TOPICS, version, encode_create_topics(topics, timeout_ms, validate_only, version),
                         parse_create_topics)

    def create_topic(self, name: str, partitions: int = 1, replication_factor: int = 1,
                     configs: Optional[dict] = None, ok_if_exists: bool = True) -> int:
        resp = self.create_topics([{"name": name, "partitions": partitions,
                                    "replication_factor": replication_factor, "configs": configs or {}}])
        (t,) = resp["topics"]
        assert t["name"] == name, resp
        if ok_if_exists and t["error_code"] == TOPIC_ALREADY_EXISTS:
            return NONE
        return t["error_code"]

    def produce(self, topic: str, partition: int, records: Optional[bytes], acks: int = -1,
                timeout_ms: int = 10000, version: int = 3, transactional_id: Optional[str] = None) -> dict:
        body = encode_produce({topic: {partition: records}}, acks, timeout_ms, version, transactional_id)
        if acks == 0:
            self.send_request(PRODUCE, version, body)
            return {}
        return self.call(PRODUCE, version, body, parse_produce)

    def produce_one(self, topic: str, partition: int, records: Optional[bytes], **kw) -> dict:
        """Produce to one partition and return that partition's response dict."""
        resp = self.produce(topic, partition, records, **kw)
        (t,) = resp["responses"]
        assert t["name"] == topic, resp
        (p,) = t["partitions"]
        assert p["index"] == partition, resp
        return p

    def fetch(self, topic: str, partition: int, offset: int, version: int = 4, max_wait_ms: int = 0,
              min_bytes: int = 0, max_bytes: int = 0x7FFFFFFF, partition_max_bytes: int = 1 << 20,
              isolation_level: int = 0, timeout: Optional[float] = None) -> dict:
        body = encode_fetch([(topic, [(partition, offset, partition_max_bytes)])], version, max_wait_ms,
                            min_bytes, max_bytes, isolation_level)
        return self.call(FETCH, version, body, parse_fetch, timeout=timeout)

    def fetch_one(self, topic: str, partition: int, offset: int, **kw) -> dict:
        resp = self.fetch(topic, partition, offset, **kw)
        if "error_code" in resp:
            assert resp["error_code"] == NONE, resp
        (t,) = resp["responses"]
        assert t["topic"] == topic, resp
        (p,) = t["partitions"]
        assert p["partition_index"] == partition, resp
        return p

    def list_offsets(self, topic: str, partition: int, timestamp: int = -1, version: int = 1) -> dict:
        body = encode_list_offsets([(topic, [(partition, timestamp)])], version)
        resp = self.call(LIST_OFFSETS, version, body, parse_list_offsets)
        (t,) = resp["topics"]
        (p,) = t["partitions"]
        return p


# ----------------------------------------------------------------------------------------
# ApiVersions (key 18) v0-v4
# ----------------------------------------------------------------------------------------


def encode_api_versions(version: int, software_name: str = "kwire", software_version: str = "1.0") -> bytes:
    if version < 3:
        return b""
    w = Writer(flexible=True)
    w.string(software_name).string(software_version).tags()
    return w.getvalue()


def parse_api_versions(r: Reader, version: int) -> dict:
    """Body parser. Versions >= 3 are flexible (compact array, tag blocks), header always v0."""
    flex = version >= 3
    r.flexible = flex
    out = {"error_code": r.int16(), "api_keys": {}, "throttle_time_ms": None, "tags": {}}

    def one(rr: Reader):
        k, lo, hi = rr.int16(), rr.int16(), rr.int16()
        rr.tags()
        return k, lo, hi

    keys = r.array(one) or []
    out["api_key_list"] = keys
    for k, lo, hi in keys:
        out["api_keys"][k] = (lo, hi)
    if version >= 1:
        out["throttle_time_ms"] = r.int32()
    out["tags"] = r.tags()
    return out


# ----------------------------------------------------------------------------------------
# Metadata (key 3) v0-v12 request; v1 response parser (also v0/v2..v8 non-flexible fields)
# ----------------------------------------------------------------------------------------


def encode_metadata(topics: Optional[Sequence[str]], version: int = 1,
                    allow_auto_topic_creation: bool = True) -> bytes:
    flex = is_flexible(METADATA, version)
    w = Writer(flexible=flex)
    if version >= 10:
        def t(w_, name):
            w_.raw(b"\x00" * 16)  # topic id: zero
            w_.string(name, nullable=True)
            w_.tags()
    else:
        def t(w_, name):
            w_.string(name)
            w_.tags()
    if topics is None and version == 0:
        topics = []  # v0: empty array = all topics
    w.array(topics, t)
    if version >= 4:
        w.boolean(allow_auto_topic_creation)
    if 8 <= version <= 10:
        w.boolean(False)  # include_cluster_authorized_operations
    if version >= 8:
        w.boolean(False)  # include_topic_authorized_operations
    w.tags()
    return w.getvalue()


def parse_metadata(r: Reader, version: int) -> dict:
    if version > 8:
        raise NotImplementedError("kwire parses Metadata responses up to v8")
    out = {}
    if version >= 3:
        out["throttle_time_ms"] = r.int32()

    def broker(rr):
        b = {"node_id": rr.int32(), "host": rr.string(), "port": rr.int32()}
        if version >= 1:
            b["rack"] = rr.string(nullable=True)
        return b

    out["brokers"] = r.array(broker)
    if version >= 2:
        out["cluster_id"] = r.string(nullable=True)
    if version >= 1:
        out["controller_id"] = r.int32()

    def partition(rr):
        p = {"error_code": rr.int16(), "partition_index": rr.int32(), "leader_id": rr.int32()}
        if version >= 7:
            p["leader_epoch"] = rr.int32()
        p["replica_nodes"] = rr.array(lambda x: x.int32())
        p["isr_nodes"] = rr.array(lambda x: x.int32())
        if version >= 5:
            p["offline_replicas"] = rr.array(lambda x: x.int32())
        return p

    def topic(rr):
        t = {"error_code": rr.int16(), "name": rr.string()}
        if version >= 1:
            t["is_internal"] = rr.boolean()
        t["partitions"] = rr.array(partition)
        if version >= 8:
            t["topic_authorized_operations"] = rr.int32()
        return t

    out["topics"] = r.array(topic)
    if version >= 8:
        out["cluster_authorized_operations"] = r.int32()
    return out


# ----------------------------------------------------------------------------------------
# CreateTopics (key 19) v2-v4 (non-flexible)
# ----------------------------------------------------------------------------------------


def encode_create_topics(topics: Sequence[dict], timeout_ms: int = 10000, validate_only: bool = False,
                         version: int = 2) -> bytes:
    if is_flexible(CREATE_TOPICS, version):
        raise NotImplementedError("kwire encodes CreateTopics v2-v4")
    w = Writer()

    def topic(w_, t):
        w_.string(t["name"]).int32(t.get("partitions", 1)).int16(t.get("replication_factor", 1))
        w_.array(t.get("assignments", []), lambda w2, a: (w2.int32(a[0]), w2.array(a[1], lambda w3, b: w3.int32(b))))
        w_.array(sorted((t.get("configs") or {}).items()),
                 lambda w2, kv: (w2.string(kv[0]), w2.string(kv[1], nullable=True)))

    w.array(list(topics), topic)
    w.int32(timeout_ms)
    if version >= 1:
        w.boolean(validate_only)
    return w.getvalue()


def parse_create_topics(r: Reader, version: int) -> dict:
    out = {}
    if version >= 2:
        out["throttle_time_ms"] = r.int32()

    def topic(rr):
        t = {"name": rr.string(), "error_code": rr.int16()}
        if version >= 1:
            t["error_message"] = rr.string(nullable=True)
        return t

    out["topics"] = r.array(topic)
    return out


# ----------------------------------------------------------------------------------------
# Produce (key 0) v3-v11 (v9+ flexible)
# ----------------------------------------------------------------------------------------


def encode_produce(topic_data: dict, acks: int = -1, timeout_ms: int = 10000, version: int = 3,
                   transactional_id: Optional[str] = None) -> bytes:
    """topic_data: {topic: {partition: records_bytes_or_None}} (dict order is kept)."""
    flex = is_flexible(PRODUCE, version)
    w = Writer(flexible=flex)
    if version >= 3:
        w.string(transactional_id, nullable=True)
    w.int16(acks).int32(timeout_ms)

    def part(w_, item):
        idx, recs = item
        w_.int32(idx).bytes_(recs).tags()

    def topic(w_, item):
        name, parts = item
        w_.string(name)
        w_.array(list(parts.items()), part)
        w_.tags()

    w.array(list(topic_data.items()), topic)
    w.tags()
    return w.getvalue()


def parse_produce(r: Reader, version: int) -> dict:
    def record_error(rr):
        e = {"batch_index": rr.int32(), "message": rr.string(nullable=True)}
        rr.tags()
        return e

    def part(rr):
        p = {"index": rr.int32(), "error_code": rr.int16(), "base_offset": rr.int64()}
        if version >= 2:
            p["log_append_time_ms"] = rr.int64()
        if version >= 5:
            p["log_start_offset"] = rr.int64()
        if version >= 8:
            p["record_errors"] = rr.array(record_error)
            p["error_message"] = rr.string(nullable=True)
        p["tags"] = rr.tags()
        return p

    def topic(rr):
        t = {"name": rr.string(), "partitions": rr.array(part)}
        rr.tags()
        return t

    out = {"responses": r.array(topic)}
    if version >= 1:
        out["throttle_time_ms"] = r.int32()
    out["tags"] = r.tags()
    return out


# ----------------------------------------------------------------------------------------
# Fetch (key 1) v4-v12 (v12 flexible)
# ----------------------------------------------------------------------------------------


def encode_fetch(topics: Sequence[Tuple[str, Sequence[Tuple[int, int, int]]]], version: int = 4,
                 max_wait_ms: int = 0, min_bytes: int = 0, max_bytes: int = 0x7FFFFFFF,
                 isolation_level: int = 0) -> bytes:
    """topics: [(name, [(partition, fetch_offset, partition_max_bytes), ...]), ...]"""
    if version > 12:
        raise NotImplementedError("kwire encodes Fetch up to v12 (topic names)")
    flex = is_flexible(FETCH, version)
    w = Writer(flexible=flex)
    w.int32(-1)  # replica_id: consumer
    w.int32(max_wait_ms).int32(min_bytes)
    if version >= 3:
        w.int32(max_bytes)
    if version >= 4:
        w.int8(isolation_level)
    if version >= 7:
        w.int32(0)   # session_id: sessionless
        w.int32(-1)  # session_epoch: full fetch, no session

    def part(w_, p):
        idx, off, pmax = p
        w_.int32(idx)
        if version >= 9:
            w_.int32(-1)  # current_leader_epoch
        w_.int64(off)
        if version >= 12:
            w_.int32(-1)  # last_fetched_epoch
        if version >= 5:
            w_.int64(-1)  # log_start_offset (followers only)
        w_.int32(pmax)
        w_.tags()

    def topic(w_, t):
        w_.string(t[0])
        w_.array(list(t[1]), part)
        w_.tags()

    w.array(list(topics), topic)
    if version >= 7:
        w.array([], lambda *_: None)  # forgotten_topics_data
    if version >= 11:
        w.string("")  # rack_id
    w.tags()
    return w.getvalue()


def parse_fetch(r: Reader, version: int) -> dict:
    out = {}
    if version >= 1:
        out["throttle_time_ms"] = r.int32()
    if version >= 7:
        out["error_code"] = r.int16()
        out["session_id"] = r.int32()

    def aborted(rr):
        a = {"producer_id": rr.int64(), "first_offset": rr.int64()}
        rr.tags()
        return a

    def part(rr):
        p = {"partition_index": rr.int32(), "error_code": rr.int16(), "high_watermark": rr.int64()}
        if version >= 4:
            p["last_stable_offset"] = rr.int64()
        if version >= 5:
            p["log_start_offset"] = rr.int64()
        if version >= 4:
            p["aborted_transactions"] = rr.array(aborted)
        if version >= 11:
            p["preferred_read_replica"] = rr.int32()
        p["records"] = rr.bytes_()
        p["tags"] = rr.tags()
        return p

    def topic(rr):
        t = {"topic": rr.string(), "partitions": rr.array(part)}
        rr.tags()
        return t

    out["responses"] = r.array(topic)
    out["tags"] = r.tags()
    return out


# ----------------------------------------------------------------------------------------
# ListOffsets (key 2) v1-v5 (non-flexible)
# ----------------------------------------------------------------------------------------

LATEST = -1
EARLIEST = -2


def encode_list_offsets(topics: Sequence[Tuple[str, Sequence[Tuple[int, int]]]], version: int = 1,
                        isolation_level: int = 0) -> bytes:
    if is_flexible(LIST_OFFSETS, version) or version < 1:
        raise NotImplementedError("kwire encodes ListOffsets v1-v5")
    w = Writer()
    w.int32(-1)
    if version >= 2:
        w.int8(isolation_level)

    def part(w_, p):
        w_.int32(p[0])
        if version >= 4:
            w_.int32(-1)
        w_.int64(p[1])

    w.array(list(topics), lambda w_, t: (w_.string(t[0]), w_.array(list(t[1]), part)))
    return w.getvalue()


def parse_list_offsets(r: Reader, version: int) -> dict:
    out = {}
    if version >= 2:
        out["throttle_time_ms"] = r.int32()

    def part(rr):
        p = {"partition_index": rr.int32(), "error_code": rr.int16(), "timestamp": rr.int64(),
             "offset": rr.int64()}
        if version >= 4:
            p["leader_epoch"] = rr.int32()
        return p

    out["topics"] = r.array(lambda rr: {"name": rr.string(), "partitions": rr.array(part)})
    return out


# ----------------------------------------------------------------------------------------
# Record batch v2
# ----------------------------------------------------------------------------------------

BATCH_HEADER_SIZE = 61
LOG_OVERHEAD = 12  # base offset + batch length


@dataclass
class Record:
    value: Optional[bytes]
    key: Optional[bytes] = None
    headers: List[Tuple[str, Optional[bytes]]] = field(default_factory=list)
    timestamp_delta: int = 0
    offset_delta: Optional[int] = None  # default: index in the batch
    attributes: int = 0


RecordLike = Union[Record, bytes, Tuple[Optional[bytes], Optional[bytes]]]


def _as_record(r: RecordLike) -> Record:
    if isinstance(r, Record):
        return r
    if isinstance(r, (bytes, bytearray)):
        return Record(value=bytes(r))
    if isinstance(r, tuple):
        return Record(key=r[0], value=r[1])
    raise TypeError(r)


def encode_record(rec: Record, offset_delta: int) -> bytes:
    body = bytearray()
    body.append(rec.attributes & 0xFF)
    body += varint(rec.timestamp_delta)
    body += varint(offset_delta if rec.offset_delta is None else rec.offset_delta)
    for part in (rec.key, rec.value):
        if part is None:
            body += varint(-1)
        else:
            body += varint(len(part)) + part
    body += varint(len(rec.headers))
    for hk, hv in rec.headers:
        kb = hk.encode("utf-8")
        body += varint(len(kb)) + kb
        if hv is None:
            body += varint(-1)
        else:
            body += varint(len(hv)) + hv
    return varint(len(body)) + bytes(body)


def build_batch(records: Iterable[RecordLike], *, base_offset: int = 0, partition_leader_epoch: int = -1,
                magic: int = 2, attributes: int = 0, base_timestamp: Optional[int] = None,
                max_timestamp: Optional[int] = None, producer_id: int = -1, producer_epoch: int = -1,
                base_sequence: int = -1, last_offset_delta: Optional[int] = None,
                records_count: Optional[int] = None, crc: Optional[int] = None,
                records_blob: Optional[bytes] = None, batch_length: Optional[int] = None) -> bytes:
    """One uncompressed record batch (magic 2). Every header field can be overridden, which is
    how the hostile tests build bad batches; the CRC is computed over the final bytes unless
    `crc` forces a value. records_blob replaces the encoded records wholesale."""
    recs = [_as_record(r) for r in records]
    if base_timestamp is None:
        base_timestamp = int(time.time() * 1000)
    if records_blob is None:
        records_blob = b"".join(encode_record(r, i) for i, r in enumerate(recs))
    n = len(recs)
    if last_offset_delta is None:
        last_offset_delta = max(n - 1, 0)
    if records_count is None:
        records_count = n
    if max_timestamp is None:
        max_timestamp = base_timestamp + max([r.timestamp_delta for r in recs] or [0])
    after_crc = struct.pack(">hiqqqhii", attributes, last_offset_delta, base_timestamp, max_timestamp,
                            producer_id, producer_epoch, base_sequence, records_count) + records_blob
    if crc is None:
        crc = crc32c(after_crc)
    tail = struct.pack(">ibI", partition_leader_epoch, magic, crc & 0xFFFFFFFF) + after_crc
    if batch_length is None:
        batch_length = len(tail)
    return struct.pack(">qi", base_offset, batch_length) + tail


def batch_of_size(total_size: int, **kw) -> bytes:
    """A one-record batch whose total size (including the 12-byte log overhead) is exactly
    total_size bytes. The record has a null key and a value of 'x' * n."""
    sizing = dict(kw, crc=0)  # the CRC does not change the size: skip computing it while sizing
    base = len(build_batch([Record(value=b"")], **sizing))
    if total_size < base:
        raise ValueError(f"smallest one-record batch is {base} bytes")
    n = total_size - base
    # The record length varint and the value length varint grow with n; walk down until exact.
    for cand in range(n, max(n - 12, -1), -1):
        if len(build_batch([Record(value=b"x" * cand)], **sizing)) == total_size:
            return build_batch([Record(value=b"x" * cand)], **kw)
    raise ValueError(f"cannot build a batch of exactly {total_size} bytes")


@dataclass
class Batch:
    position: int            # byte position of the batch in the buffer it was parsed from
    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int
    raw: bytes               # the whole batch, 12 + batch_length bytes

    @property
    def size(self) -> int:
        return LOG_OVERHEAD + self.batch_length

    @property
    def end(self) -> int:
        return self.position + self.size

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1

    def crc_ok(self) -> bool:
        return crc32c(self.raw[21:]) == self.crc

    def records(self) -> List[dict]:
        """Decode the records of an uncompressed batch."""
        if self.attributes & 0x7:
            raise NotImplementedError("compressed batch")
        r = Reader(self.raw[BATCH_HEADER_SIZE:])
        out = []
        for _ in range(self.records_count):
            length = r.varint()
            end = r.pos + length
            rec = {"attributes": r.int8(), "timestamp_delta": r.varint(), "offset_delta": r.varint()}
            kl = r.varint()
            rec["key"] = None if kl < 0 else r.take(kl)
            vl = r.varint()
            rec["value"] = None if vl < 0 else r.take(vl)
            hs = []
            for _ in range(r.varint()):
                hkl = r.varint()
                hk = r.take(hkl).decode("utf-8")
                hvl = r.varint()
                hs.append((hk, None if hvl < 0 else r.take(hvl)))
            rec["headers"] = hs
            if r.pos != end:
                raise DecodeError(f"record length {length} disagrees with its content")
            rec["offset"] = self.base_offset + rec["offset_delta"]
            out.append(rec)
        r.expect_end()
        return out


def parse_batch_header(buf: bytes, pos: int = 0) -> Optional[Batch]:
    """The batch at buf[pos:], or None if the bytes there do not hold a complete batch."""
    if len(buf) - pos < BATCH_HEADER_SIZE:
        return None
    (base_offset, batch_length, ple, magic, crc, attrs, lod, bts, mts, pid, pep, bseq, cnt) = \
        struct.unpack_from(">qiibIhiqqqhii", buf, pos)
    if batch_length < BATCH_HEADER_SIZE - LOG_OVERHEAD or pos + LOG_OVERHEAD + batch_length > len(buf):
        return None
    raw = bytes(buf[pos:pos + LOG_OVERHEAD + batch_length])
    return Batch(pos, base_offset, batch_length, ple, magic, crc, attrs, lod, bts, mts, pid, pep, bseq, cnt, raw)


def parse_batches(buf: bytes, strict: bool = False) -> Tuple[List[Batch], int]:
    """Splits concatenated batches. Returns (complete batches, bytes consumed). A trailing
    partial batch (allowed at the end of a Fetch response) is left unconsumed; with strict=True
    it raises instead."""
    out = []
    pos = 0
    while pos < len(buf):
        b = parse_batch_header(buf, pos)
        if b is None:
            if strict:
                raise DecodeError(f"partial or invalid batch at {pos} of {len(buf)}")
            break
        out.append(b)
        pos = b.end
    return out, pos


def valid_prefix(buf: bytes) -> Tuple[List[Batch], int]:
    """What a recovering broker keeps of a segment file: the batches from the start that are
    complete, have magic 2, a sane length and a matching CRC-32C; stops at the first that is not.
    Returns (batches, valid_bytes)."""
    out = []
    pos = 0
    while True:
        b = parse_batch_header(buf, pos)
        if b is None or b.magic != 2 or not b.crc_ok():
            return out, pos
        out.append(b)
        pos = b.end


# ----------------------------------------------------------------------------------------
# Conveniences used by several test files
# ----------------------------------------------------------------------------------------


def wait_until(pred, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Polls pred() until it returns a truthy value or the deadline passes; returns that value."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


def fetch_all(conn: Conn, topic: str, partition: int, start: int = 0, end: Optional[int] = None,
              version: int = 4, partition_max_bytes: int = 1 << 20) -> Tuple[List[Batch], int]:
    """Fetches batches from `start` until the high watermark (or `end`). Returns (batches, hw)."""
    batches: List[Batch] = []
    offset = start
    hw = None
    for _ in range(100000):
        p = conn.fetch_one(topic, partition, offset, version=version, partition_max_bytes=partition_max_bytes)
        assert p["error_code"] == NONE, p
        hw = p["high_watermark"]
        stop = hw if end is None else min(end, hw)
        if offset >= stop:
            break
        got, _ = parse_batches(p["records"] or b"")
        got = [b for b in got if b.next_offset > offset]
        assert got, f"fetch at {offset} below hw {hw} returned no complete batch"
        batches.extend(got)
        offset = got[-1].next_offset
    return batches, hw


RETRIABLE_WHILE_CREATING = {UNKNOWN_TOPIC_OR_PARTITION, 5, 6}  # + LEADER_NOT_AVAILABLE, NOT_LEADER


def wait_for_leader(conn: Conn, topic: str, partition: int = 0, timeout: float = 10.0) -> None:
    """Until Metadata shows the partition with a leader (a just-created topic)."""
    def ok():
        md = conn.metadata([topic])
        (t,) = md["topics"]
        return t["error_code"] == NONE and any(
            p["partition_index"] == partition and p["error_code"] == NONE and p["leader_id"] >= 0
            for p in t["partitions"])
    wait_until(ok, timeout, what=f"{topic}-{partition} with a leader in Metadata")


def produce_retrying(conn: Conn, topic: str, partition: int, records: bytes, timeout: float = 10.0,
                     **kw) -> dict:
    """Produce, retrying only the errors a just-created partition may give while its leader
    comes up (Kafka answers NOT_LEADER_OR_FOLLOWER for a moment after CreateTopics)."""
    deadline = time.monotonic() + timeout
    while True:
        p = conn.produce_one(topic, partition, records, **kw)
        if p["error_code"] not in RETRIABLE_WHILE_CREATING or time.monotonic() >= deadline:
            return p
        time.sleep(0.05)


def create_topic_ready(conn: Conn, topic: str, partitions: int = 1, configs: Optional[dict] = None,
                       timeout: float = 15.0) -> None:
    """CreateTopics (ok if it exists), then wait for leaders and for a Produce path that works."""
    err = conn.create_topic(topic, partitions, 1, configs)
    assert err == NONE, f"CreateTopics {topic}: error {err}"
    for p in range(partitions):
        wait_for_leader(conn, topic, p, timeout)


def unique_value(tag: str = "kwire") -> bytes:
    return f"{tag}-{os.getpid()}-{time.monotonic_ns()}-{os.urandom(4).hex()}".encode()


def check_healthy(host: str, port: int, topic: str = "kwire-health", timeout: float = 10.0) -> None:
    """A well-behaved client on a fresh connection: ApiVersions, (CreateTopics if needed),
    Produce one record with acks=all, Fetch it back by the returned offset."""
    with Conn(host, port, timeout=timeout, client_id="kwire-health") as c:
        av = c.api_versions(3)
        assert av["error_code"] == NONE, av
        assert PRODUCE in av["api_keys"] and FETCH in av["api_keys"], av
        md = c.metadata([topic])
        (t,) = md["topics"]
        if t["error_code"] != NONE or not t["partitions"]:
            err = c.create_topic(topic, 1, 1)
            assert err == NONE, f"CreateTopics {topic}: error {err}"
            wait_for_leader(c, topic, 0, timeout)
        value = unique_value("health")
        p = produce_retrying(c, topic, 0, build_batch([Record(value=value, key=b"k")]), timeout)
        assert p["error_code"] == NONE, f"health produce failed: {p}"
        off = p["base_offset"]
        assert off >= 0, p
        f = c.fetch_one(topic, 0, off)
        assert f["error_code"] == NONE, f
        assert f["high_watermark"] >= off + 1, f
        batches, _ = parse_batches(f["records"] or b"")
        found = [r for b in batches for r in b.records() if r["offset"] == off]
        assert found and found[0]["value"] == value, f"health fetch at {off} did not return the record: {f}"
