# SPDX-License-Identifier: Apache-2.0
"""ApiVersions (key 18) on the wire, byte for byte (PROTOCOL.md §1.3-§1.5, §2.3, §9).

Kafka's behaviour, checked against Apache Kafka 4.1.2 with kwire (SLUICE_TARGET=kafka runs
this file against it; the Sluice-specific advertised-range test is skipped there):
  * v0..v4 are answered; the response header is v0 (correlation id only) for every version,
    also the flexible v3/v4 whose body uses a compact array and tag blocks (KIP-511).
  * a version newer than the broker knows (5, 99, 32767, even -1) is answered with a
    v0-encoded body: error 35 and the single entry {18, 0, 4}, no throttle field, and the
    connection stays open. Its request header is read as v2 (ApiVersions is flexible from 3,
    open-ended), so the request carries a header tag byte; Kafka does not parse the body.
  * v3/v4 with a ClientSoftwareName or ClientSoftwareVersion that does not match
    [a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])? (including the empty string) is answered with
    error 42 INVALID_REQUEST, an empty api_keys array and throttle 0; the connection stays open.
  * a null client_id in the request header is accepted (treated as "").
"""

from __future__ import annotations

import struct

import pytest

import kwire as k
import sluice_harness as h

# PROTOCOL.md §9 "Advertise" list: what Sluice must advertise when it advertises the key.
EXPECTED_RANGES = {
    0: (0, 11),   # Produce: advertised from 0 (librdkafka compression check), accepted from 3
    1: (4, 12),   # Fetch
    2: (1, 7),    # ListOffsets
    3: (0, 12),   # Metadata
    8: (2, 9),    # OffsetCommit
    9: (1, 9),    # OffsetFetch
    10: (0, 6),   # FindCoordinator
    11: (0, 9),   # JoinGroup
    12: (0, 4),   # Heartbeat
    13: (0, 5),   # LeaveGroup
    14: (0, 5),   # SyncGroup
    15: (0, 6),   # DescribeGroups
    16: (0, 5),   # ListGroups
    17: (0, 1),   # SaslHandshake
    18: (0, 4),   # ApiVersions
    19: (2, 7),   # CreateTopics
    20: (1, 6),   # DeleteTopics
    21: (0, 2),   # DeleteRecords
    22: (0, 5),   # InitProducerId
    23: (2, 4),   # OffsetForLeaderEpoch
    29: (1, 3),   # DescribeAcls
    30: (1, 3),   # CreateAcls
    31: (1, 3),   # DeleteAcls
    32: (1, 4),   # DescribeConfigs
    33: (0, 2),   # AlterConfigs
    36: (0, 2),   # SaslAuthenticate
    37: (0, 3),   # CreatePartitions
    42: (0, 2),   # DeleteGroups
    44: (0, 1),   # IncrementalAlterConfigs
    47: (0, 0),   # OffsetDelete
    50: (0, 0),   # DescribeUserScramCredentials
    51: (0, 0),   # AlterUserScramCredentials
    60: (0, 2),   # DescribeCluster
}
# The core set the broker cannot work without (the lead's first milestone).
REQUIRED = {0, 1, 2, 3, 18, 19, 20}

# Keys a client listener must never advertise (PROTOCOL.md §2.3 last rows): inter-broker and
# KRaft APIs, plus telemetry (71/72: clients use them as soon as they are advertised).
FORBIDDEN = {4, 5, 6, 7, 52, 53, 54, 55, 56, 57, 58, 59, 62, 63, 64, 67, 70, 71, 72, 73, 80, 81, 82}

# Anything else may appear once implemented ("phase 2": transactions, KIP-848, optional admin
# APIs), but never outside the range Kafka 4.1.2 itself advertises (measured with kwire).
KAFKA_41_RANGES = {
    24: (0, 5), 25: (0, 4), 26: (0, 5), 27: (1, 1), 28: (0, 5), 34: (1, 2), 35: (1, 4),
    38: (1, 3), 39: (1, 2), 40: (1, 2), 41: (1, 3), 43: (0, 2), 45: (0, 1), 46: (0, 0),
    48: (0, 1), 49: (0, 1), 61: (0, 0), 65: (0, 0), 66: (0, 2), 68: (0, 1), 69: (0, 1),
    74: (0, 1), 75: (0, 0),
}

V0_FALLBACK_BODY = bytes.fromhex("0023" "00000001" "0012" "0000" "0004")


def _health(b) -> None:
    k.check_healthy(b.host, b.port, topic="apiversions-health")


def _raw_api_versions(c: k.Conn, version: int, corr: int, body: bytes, **hdr) -> bytes:
    """Sends one ApiVersions request and returns the response frame payload (header+body)."""
    c.send_raw(k.request_frame(k.API_VERSIONS, version, corr, body, **hdr))
    return c.recv_frame()


def _parse_strict(payload: bytes, version: int, corr: int) -> dict:
    """Response header v0 (int32 correlation id, no tag block) then the body of `version`;
    every byte must be consumed."""
    r = k.Reader(payload)
    got_corr = r.int32()
    assert got_corr == corr, f"correlation id {got_corr}, sent {corr}"
    out = k.parse_api_versions(r, version)
    r.expect_end()
    return out


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_each_version_answered_with_v0_header(shared_broker, version):
    b = shared_broker
    with k.Conn(b.host, b.port) as c:
        corr = 0x1234 + version
        payload = _raw_api_versions(c, version, corr, k.encode_api_versions(version))
        resp = _parse_strict(payload, version, corr)
        assert resp["error_code"] == k.NONE, resp
        keys = resp["api_key_list"]
        assert keys, "empty api_keys"
        # Layout checks that a parse could hide: byte 4-5 error code, then the array count.
        assert payload[4:6] == b"\x00\x00", payload[:16].hex()
        if version >= 3:
            # compact array: uvarint(count + 1), and each entry ends with an empty tag block
            n = len(keys)
            assert payload[6:6 + len(k.uvarint(n + 1))] == k.uvarint(n + 1), payload[:16].hex()
            assert payload[6 + len(k.uvarint(n + 1)) + 6] == 0, "missing tag block after the first entry"
        else:
            assert struct.unpack(">i", payload[6:10])[0] == len(keys), payload[:16].hex()
        if version >= 1:
            assert resp["throttle_time_ms"] == 0, resp
        # no duplicates, sane ranges, and ApiVersions itself covers 0..4
        assert len({kk for kk, _, _ in keys}) == len(keys), f"duplicate keys: {keys}"
        for kk, lo, hi in keys:
            assert 0 <= lo <= hi, f"key {kk}: bad range {lo}..{hi}"
        assert resp["api_keys"][k.API_VERSIONS] == (0, 4), resp["api_keys"].get(k.API_VERSIONS)
        # the same connection keeps working
        again = c.api_versions(3)
        assert again["error_code"] == k.NONE
        assert again["api_keys"] == resp["api_keys"], "advertised ranges differ between v3 and v%d" % version


def test_all_versions_advertise_the_same_ranges(shared_broker):
    b = shared_broker
    seen = {}
    with k.Conn(b.host, b.port) as c:
        for v in range(5):
            seen[v] = c.api_versions(v)["api_keys"]
    for v in range(1, 5):
        assert seen[v] == seen[0], f"v{v} advertises {seen[v]}, v0 {seen[0]}"


@pytest.mark.parametrize("version,body,label", [
    (99, k.encode_api_versions(3), "v99 with a v3-style body"),
    (99, b"", "v99 with an empty body"),
    (5, k.encode_api_versions(3), "v5 (one past the max)"),
    (32767, b"\xde\xad\xbe\xef" * 8, "v32767 with a garbage body (not parsed)"),
], ids=["v99", "v99-empty", "v5", "v32767-garbage"])
def test_unknown_version_gets_v0_unsupported_version(shared_broker, version, body, label):
    """PROTOCOL.md §1.5 wire example: header v0, error 35, [{18, 0, 4}], no throttle field;
    the request header is v2 (flexible range 3+ is open-ended). The connection stays open."""
    b = shared_broker
    with k.Conn(b.host, b.port) as c:
        payload = _raw_api_versions(c, version, 7, body)
        assert payload == struct.pack(">i", 7) + V0_FALLBACK_BODY, \
            f"{label}: got {payload.hex()}, want {(struct.pack('>i', 7) + V0_FALLBACK_BODY).hex()}"
        # client retries with the advertised max on the same connection (Java, kafka-python)
        resp = c.api_versions(4)
        assert resp["error_code"] == k.NONE, resp
    _health(b)


def test_negative_version_gets_v0_unsupported_version(shared_broker):
    """Kafka 4.1.2 answers ApiVersions v-1 like any unknown version (measured). A negative
    version is not flexible, so the header is read as v1 (no tag byte) -- Kafka's
    requestHeaderVersion() for a version below the flexible range."""
    b = shared_broker
    with k.Conn(b.host, b.port) as c:
        payload = _raw_api_versions(c, -1, 9, b"", header_version=1)
        assert payload == struct.pack(">i", 9) + V0_FALLBACK_BODY, payload.hex()
    _health(b)


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("name,ver", [
    ("-bad-", "1.0"),        # the brief's case: leading and trailing '-'
    ("good", "-bad-"),       # the version is validated the same way
    ("a b", "1.0"),          # space not allowed
    ("", "1.0"),             # empty does not match the pattern (Kafka: 42)
    ("librdkafka", "2.0.2_x"),  # '_' not allowed
], ids=["name-dashes", "version-dashes", "space", "empty", "underscore"])
def test_invalid_client_software_gets_invalid_request(shared_broker, version, name, ver):
    """Kafka: error 42, empty api_keys, throttle 0, body in the requested (flexible) version;
    exact bytes measured on Kafka 4.1.2: corr, 002a, 01 (empty compact array), 00000000, 00."""
    b = shared_broker
    with k.Conn(b.host, b.port) as c:
        payload = _raw_api_versions(c, version, 11, k.encode_api_versions(version, name, ver))
        resp = _parse_strict(payload, version, 11)
        assert resp["error_code"] == k.INVALID_REQUEST, resp
        assert resp["api_key_list"] == [], f"Kafka returns no api keys with INVALID_REQUEST: {resp}"
        assert payload == struct.pack(">i", 11) + bytes.fromhex("002a" "01" "00000000" "00"), payload.hex()
        # librdkafka then retries with v0 on the same connection
        again = c.api_versions(0)
        assert again["error_code"] == k.NONE, again
    _health(b)


@pytest.mark.parametrize("name,ver", [("librdkafka", "2.0.2"), ("apache-kafka-java", "4.1.2"),
                                      ("a", "1"), ("franz-go", "v1.22.3"), ("x.y-z", "0.0.0-SNAPSHOT")])
def test_valid_client_software_accepted(shared_broker, name, ver):
    b = shared_broker
    with k.Conn(b.host, b.port) as c:
        resp = c.api_versions(3, name, ver)
        assert resp["error_code"] == k.NONE, resp


def test_null_client_id_accepted(shared_broker):
    b = shared_broker
    with k.Conn(b.host, b.port, client_id=None) as c:
        for v in (0, 3):
            payload = _raw_api_versions(c, v, 21 + v, k.encode_api_versions(v), client_id=None)
            assert _parse_strict(payload, v, 21 + v)["error_code"] == k.NONE


def test_advertised_ranges(shared_broker):
    """Sluice's advertised table (PROTOCOL.md §9) and nothing it does not implement."""
    if h.TARGET == "kafka":
        pytest.skip("Sluice's own table; Kafka 4.1 advertises e.g. Produce 0-13, Fetch 4-18")
    b = shared_broker
    with k.Conn(b.host, b.port) as c:
        adv = c.api_versions(3)["api_keys"]
    problems = []
    for key in sorted(REQUIRED):
        if key not in adv:
            problems.append(f"key {key} not advertised (required core API)")
    for key, rng in sorted(adv.items()):
        if key in FORBIDDEN:
            problems.append(f"key {key} {rng} advertised: inter-broker/KRaft/telemetry, never on a client listener")
        elif key in EXPECTED_RANGES:
            if rng != EXPECTED_RANGES[key]:
                problems.append(f"key {key}: advertised {rng}, PROTOCOL.md §9 says {EXPECTED_RANGES[key]}")
        elif key in KAFKA_41_RANGES:
            lo, hi = KAFKA_41_RANGES[key]
            if not (lo <= rng[0] <= rng[1] <= hi):
                problems.append(f"key {key}: advertised {rng}, outside Kafka 4.1's {lo}..{hi}")
        else:
            problems.append(f"key {key} {rng} advertised: not an API PROTOCOL.md plans for a client listener")
    assert not problems, "\n".join(problems) + f"\nadvertised: {sorted(adv.items())}"


def test_advertised_versions_are_served(shared_broker):
    """Every version kwire can encode inside the advertised range of the core APIs gets an
    answer (an advertised version that closes the connection breaks clients)."""
    b = shared_broker
    with k.Conn(b.host, b.port) as c:
        adv = c.api_versions(3)["api_keys"]
        k.create_topic_ready(c, "apiversions-served")
    cases = []
    if k.METADATA in adv:
        lo, hi = adv[k.METADATA]
        cases += [(k.METADATA, v, k.encode_metadata(["apiversions-served"], v)) for v in range(lo, min(hi, 8) + 1)]
    if k.PRODUCE in adv:
        lo, hi = adv[k.PRODUCE]
        cases += [(k.PRODUCE, v, k.encode_produce({"apiversions-served": {0: k.build_batch([b"v%d" % v])}},
                                                   -1, 5000, v)) for v in range(max(lo, 3), min(hi, 11) + 1)]
    if k.FETCH in adv:
        lo, hi = adv[k.FETCH]
        cases += [(k.FETCH, v, k.encode_fetch([("apiversions-served", [(0, 0, 1 << 16)])], v))
                  for v in range(lo, min(hi, 12) + 1)]
    if k.LIST_OFFSETS in adv:
        lo, hi = adv[k.LIST_OFFSETS]
        cases += [(k.LIST_OFFSETS, v, k.encode_list_offsets([("apiversions-served", [(0, -1)])], v))
                  for v in range(max(lo, 1), min(hi, 5) + 1)]
    for key, v, body in cases:
        with k.Conn(b.host, b.port) as c:
            corr = c.send_request(key, v, body)
            try:
                got, _ = c.recv_response(key, v, expect_corr=corr)
            except k.Closed as e:
                raise AssertionError(f"api {key} v{v} is advertised but the broker closed the connection: {e}")
    _health(b)
