# SPDX-License-Identifier: Apache-2.0
"""Where Sluice may differ from Apache Kafka in the differential tests
(18-differential.py), each with the reason; docs/DIFFERENTIAL.md lists them
for readers. An entry records exactly where the outcomes differ ({path in
the outcome: [Kafka's, Sluice's]}): another divergence still fails, and so
does an entry whose scenario now agrees (it must then be removed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Divergence:
    reason: str
    diffs: dict


_ELR = {"Elr": ["", "N/A"], "LastKnownElr": ["<absent>", "N/A"]}

ALLOWED: dict[str, Divergence] = {
    "auth no TLS on the TLS port, raw": Divergence(
        "Both close the connection. Kafka's Java SSLEngine first sends a TLS alert record in "
        "answer to bytes that are not TLS; Sluice (OpenSSL) closes without one. Clients see the "
        "same: a closed connection during the handshake.",
        {"/answer": ["tls-alert", ""]}),
    "admin topics CLI": Divergence(
        "Sluice does not implement DescribeTopicPartitions (KIP-966, API 75): kafka-topics "
        "--describe falls back to Metadata, which carries no eligible leader replicas, and "
        "prints N/A where Kafka prints its (empty) ELR lists. A single broker has no ELR.",
        {f"/describe/{i}/{k}": v for i in (1, 2) for k, v in _ELR.items()}),
    "admin configs CLI": Divergence(
        "Synonyms of a topic's retention.ms: Sluice lists the broker default it falls back to "
        "(log.retention.hours=168, DEFAULT_CONFIG); Kafka lists no default synonym for "
        "retention.ms (its first broker synonym, log.retention.ms, has no default). The "
        "value and the source are the same; to be aligned (reported in issue 9).",
        {"/describe/2": ["retention.ms=7200000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=7200000}",
                         "retention.ms=7200000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=7200000, "
                         "DEFAULT_CONFIG:log.retention.hours=168}"]}),
}
