# SPDX-License-Identifier: Apache-2.0
"""TLS listeners (issue 4): every real client produces and consumes over SSL,
with server authentication only and with mutual TLS; the broker's key store in
each format; the principal a client certificate maps to.

Clients: Kafka's Java console producer/consumer, kafka-topics and
kafka-get-offsets (PKCS#12 key and trust stores in a client properties file),
confluent-kafka and kcat (librdkafka: CA and certificate PEM, key PEM encrypted
with PBES2), kafka-python (Python's ssl, same PEM files). Every client verifies
the broker's certificate and its host name (127.0.0.1, an IP SAN).

Broker configurations (the listener is SSL://127.0.0.1:PORT, protocol map SSL:SSL):

  server-auth   ssl.keystore.type=PKCS12, ssl.keystore.location=server.p12,
                ssl.keystore.password, ssl.key.password,
                ssl.truststore.type=PKCS12, ssl.truststore.location=ca.truststore.p12,
                ssl.truststore.password; ssl.client.auth unset (none)
  mutual        ssl.keystore.type=PEM, ssl.keystore.location=server.keystore.pem (an
                encrypted PKCS#8 key, PBE-SHA1-3DES, then the chain), ssl.key.password,
                ssl.truststore.type=PEM, ssl.truststore.location=ca.pem;
                ssl.client.auth=required
  INLINE        ssl.keystore.type=PEM with ssl.keystore.key, ssl.keystore.certificate.chain
                and ssl.truststore.certificates as PEM text (newlines as \\n in the file)
  principal     mutual + ssl.principal.mapping.rules=RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/L,DEFAULT

Run against Apache Kafka (SLUICE_TARGET=kafka) everything here passes but the
Sluice-only tests (principal log line, a PBES2-encrypted PEM key store), which
are skipped there; Kafka's half of the principal check uses its authorizer
(super.users) to show that the expected names are Kafka's.
"""

from __future__ import annotations

import dataclasses
import os
import re

import pytest

import sluice_harness as h

N = int(os.environ.get("SLUICE_TLS_TEST_RECORDS", "20000"))
PARTS = 3

MODES = {
    # mode: (broker key store format, ssl.client.auth, client identity)
    "server-auth": ("PKCS12", None, None),
    "mutual": ("PEM", "required", "alice"),
}


class _Brokers:
    """This module's TLS brokers, one per mode, each started on first use."""

    def __init__(self, tmp_path_factory, pki):
        self.tmp_path_factory = tmp_path_factory
        self.pki = pki
        self.made: dict[str, h.Broker] = {}

    def get(self, mode: str) -> h.Broker:
        if mode not in self.made:
            store, auth, _ = MODES[mode]
            b = h.Broker(self.tmp_path_factory.mktemp(f"tls-{mode}"),
                         config=self.pki.broker_ssl_config(store=store, client_auth=auth),
                         listeners=["SSL"], tls=self.pki.client("probe"))
            self.made[mode] = b
            b.start()
        return self.made[mode]


@pytest.fixture(scope="module")
def brokers(tmp_path_factory, pki):
    bs = _Brokers(tmp_path_factory, pki)
    yield bs
    errors = []
    for b in bs.made.values():
        try:
            b.finish()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            b.kill()
    if errors:
        raise AssertionError("\n\n".join(errors))


@pytest.fixture(params=list(MODES))
def tls_env(request, brokers, pki):
    """(broker, client TlsClient) for one mode; the broker's log is attached to a failure."""
    mode = request.param
    b = brokers.get(mode)
    request.node._sluice_brokers = getattr(request.node, "_sluice_brokers", []) + [b]
    return b, pki.client(MODES[mode][2])


def assert_offsets_in_order(records, reports, partitions):
    nxt = {p: 0 for p in range(partitions)}
    for i, (r, (p, off)) in enumerate(zip(records, reports)):
        if r.partition is not None:
            assert p == r.partition, f"record #{i} acknowledged in partition {p}, sent to {r.partition}"
        assert off == nxt[p], f"record #{i} acknowledged at p{p}@{off}, expected offset {nxt[p]}"
        nxt[p] += 1


def test_java_console_tools(tls_env, tmp_path):
    """kafka-topics --create --command-config, kafka-console-producer
    --producer.config, kafka-get-offsets --command-config, kafka-console-consumer
    --consumer.config: PKCS#12 key and trust stores."""
    b, tls = tls_env
    topic = f"tls-java-{tls.name}"
    h.java_create_topic(b.bootstrap, topic, PARTS, tls=tls)
    recs = h.make_records(N, seed=12001, text=True)
    h.produce_java(b.bootstrap, topic, recs, tmp_path, tls=tls)
    got = h.consume_java(b.bootstrap, topic, PARTS, len(recs), tmp_path, tls=tls)
    h.check_consumed(recs, got, PARTS)


def test_confluent_kafka(tls_env):
    b, tls = tls_env
    topic = f"tls-confluent-{tls.name}"
    h.create_topic(b.bootstrap, topic, PARTS, tls=tls)
    recs = h.make_records(N, seed=12002, partitions=PARTS)
    reports = h.produce_confluent(b.bootstrap, topic, recs, tls=tls)
    assert_offsets_in_order(recs, reports, PARTS)
    got = h.consume_confluent(b.bootstrap, topic, PARTS, len(recs), tls=tls)
    h.check_consumed(recs, got, PARTS)


def test_kafka_python(tls_env):
    b, tls = tls_env
    topic = f"tls-kafka-python-{tls.name}"
    h.create_topic(b.bootstrap, topic, PARTS, tls=tls)
    recs = h.make_records(N, seed=12003, partitions=PARTS)
    reports = h.produce_kafka_python(b.bootstrap, topic, recs, tls=tls)
    assert_offsets_in_order(recs, reports, PARTS)
    got = h.consume_kafka_python(b.bootstrap, topic, PARTS, len(recs), tls=tls)
    h.check_consumed(recs, got, PARTS)


def test_kcat(tls_env, tmp_path):
    """Debian's kcat (librdkafka 2.0.2), binary keys and values."""
    b, tls = tls_env
    topic = f"tls-kcat-{tls.name}"
    h.create_topic(b.bootstrap, topic, PARTS, tls=tls)
    recs = [dataclasses.replace(r, headers=h.KCAT_HEADERS)
            for r in h.make_records(N, seed=12004, forbid=h.KCAT_FORBID)]
    h.produce_kcat(b.bootstrap, topic, recs, tmp_path, tls=tls)
    got = h.consume_kcat(b.bootstrap, topic, PARTS, len(recs), tls=tls)
    h.check_consumed(recs, got, PARTS)


def test_java_to_kcat_mutual(brokers, pki, tmp_path, request):
    """What the Java producer wrote (alice's PKCS#12) kcat reads back (bob's PEM, an EC key)."""
    b = brokers.get("mutual")
    request.node._sluice_brokers = [b]
    topic = "tls-java-to-kcat"
    h.create_topic(b.bootstrap, topic, PARTS, tls=pki.client("alice"))
    recs = [dataclasses.replace(r, headers=h.KCAT_HEADERS) for r in h.make_records(3000, seed=12005, text=True)]
    h.produce_java(b.bootstrap, topic, recs, tmp_path, tls=pki.client("alice"))
    got = h.consume_kcat(b.bootstrap, topic, PARTS, len(recs), tls=pki.client("bob"))
    h.check_consumed(recs, got, PARTS)


# --------------------------------------------------------------------------
# the broker's key store in each format


@pytest.mark.parametrize("store", ["PKCS12", "PEM", "INLINE"])
def test_broker_key_store_formats(broker_factory, pki, store):
    """ssl.client.auth=required with the broker's key and trust stores as
    PKCS#12 files, PEM files, or PEM text in the configuration; a client with
    a certificate round-trips records, one without is refused."""
    b = broker_factory(config=pki.broker_ssl_config(store=store, client_auth="required"),
                       listeners=["SSL"], tls=pki.client("probe")).start()
    topic = f"tls-store-{store.lower()}"
    tls = pki.client("bob")
    h.create_topic(b.bootstrap, topic, 2, tls=tls)
    recs = h.make_records(500, seed=12010, partitions=2)
    h.produce_confluent(b.bootstrap, topic, recs, tls=tls)
    h.check_consumed(recs, h.consume_confluent(b.bootstrap, topic, 2, len(recs), tls=tls), 2)
    how = h.tls_refusal(b.host, b.port, pki.client(None).ssl_context())
    assert how, how


def test_pem_key_store_with_pbes2_key(broker_factory, pki, tmp_path):
    """A PEM key store whose key is PKCS#8 encrypted with PBES2/AES-256 (what
    `openssl pkcs8 -topk8` writes by default). Sluice reads it with OpenSSL;
    Apache Kafka on Java 17 cannot ("PBES2 SecretKeyFactory not available")."""
    h.only_on_sluice("Kafka's PEM key store cannot decrypt a PBES2 key on Java 17")
    ks = tmp_path / "server-pbes2.keystore.pem"
    ks.write_bytes(pki.server.key_encrypted.read_bytes() + pki.server.chain.read_bytes())
    cfg = pki.broker_ssl_config(store="PEM", client_auth="required")
    cfg["ssl.keystore.location"] = str(ks)
    b = broker_factory(config=cfg, listeners=["SSL"], tls=pki.client("probe")).start()
    v = h.api_versions(b.host, b.port, timeout=10, ssl_context=pki.client("alice").ssl_context())
    assert 18 in v, v


# --------------------------------------------------------------------------
# the principal of a client certificate

PRINCIPAL_RULES = "RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/L,DEFAULT"


def expected_principals(pki) -> dict[str, str]:
    """identity -> user name under PRINCIPAL_RULES. carol's DN starts with her
    emailAddress (as Java writes it: OID=#hex), so the rule does not match and
    DEFAULT keeps the whole DN."""
    c = pki.clients
    return {
        "alice": "alice@eng",
        "bob": "bob@ops",
        "dave": "dave@sre",       # CN=Dave,OU=SRE: /L lower-cases
        "carol": c["carol"].subject,
    }


def _tls_api_versions(b, tls: h.TlsClient) -> None:
    v = h.api_versions(b.host, b.port, timeout=10, ssl_context=tls.ssl_context())
    assert 18 in v, v


def test_principal_logged(broker_factory, pki):
    """Sluice logs, at INFO, `principal User:<name>` for each mutual-TLS
    connection, name mapped by ssl.principal.mapping.rules."""
    h.only_on_sluice("Kafka does not log the principal of a connection")
    assert pki.clients["carol"].subject.startswith("1.2.840.113549.1.9.1=#16"), pki.clients["carol"].subject
    cfg = pki.broker_ssl_config(store="PEM", client_auth="required")
    cfg["ssl.principal.mapping.rules"] = PRINCIPAL_RULES
    b = broker_factory(config=cfg, listeners=["SSL"], tls=pki.client("probe")).start()
    for who, name in expected_principals(pki).items():
        _tls_api_versions(b, pki.client(who))
        pat = re.compile(r"principal User:" + re.escape(name) + r"(\s|$)", re.M)
        h.wait_for(lambda: pat.search(b.log_text()), 10 * h.SLOWDOWN,
                   f"a log line with 'principal User:{name}' for {who} ({pki.clients[who].subject})")
    # The probe's own connections (CN=probe,OU=harness) map to probe@harness.
    assert re.search(r"principal User:probe@harness(\s|$)", b.log_text(), re.M)
    # A real client: confluent-kafka with dave's certificate.
    mark = len(b.log_text())
    h.create_topic(b.bootstrap, "tls-principal", 1, tls=pki.client("dave"))
    h.wait_for(lambda: re.search(r"principal User:dave@sre(\s|$)", b.log_text()[mark:], re.M),
               10 * h.SLOWDOWN, "a log line with 'principal User:dave@sre' for confluent-kafka")


def test_principal_names_are_kafkas(broker_factory, pki):
    """The names expected above are the ones Apache Kafka derives: with its
    authorizer, only super users may create topics, and each identity can
    because its expected name is listed; probe (probe@harness) is not listed and
    cannot. The same on Sluice, whose authorizer is always on."""
    names = expected_principals(pki)
    cfg = pki.broker_ssl_config(store="PEM", client_auth="required")
    if h.TARGET == "kafka":
        cfg["authorizer.class.name"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    cfg.update({
        "ssl.principal.mapping.rules": PRINCIPAL_RULES,
        "allow.everyone.if.no.acl.found": "false",
        # ANONYMOUS: the broker's own requests to its controller (PLAINTEXT).
        "super.users": ";".join(["User:ANONYMOUS"] + [f"User:{n}" for n in names.values()]),
    })
    b = broker_factory(config=cfg, listeners=["SSL"], tls=pki.client("probe")).start()
    from confluent_kafka import KafkaException

    for who in names:
        h.create_topic(b.bootstrap, f"tls-principal-{who}", 1, tls=pki.client(who))
    with pytest.raises(KafkaException) as e:
        h.create_topic(b.bootstrap, "tls-principal-probe", 1, tls=pki.client("probe"))
    assert "TOPIC_AUTHORIZATION_FAILED" in str(e.value), e.value


def test_principal_without_matching_rule_is_refused(broker_factory, pki):
    """Rules without DEFAULT: a certificate that no rule maps cannot use the
    broker (Kafka fails its authentication); one that maps can."""
    cfg = pki.broker_ssl_config(store="PEM", client_auth="required")
    cfg["ssl.principal.mapping.rules"] = "RULE:^CN=(.*?),OU=harness,.*$/$1/L,RULE:^CN=(.*?),OU=eng,.*$/$1/L"
    b = broker_factory(config=cfg, listeners=["SSL"], tls=pki.client("probe")).start()
    _tls_api_versions(b, pki.client("alice"))
    how = h.tls_refusal(b.host, b.port, pki.client("bob").ssl_context())
    assert how, how
    _tls_api_versions(b, pki.client("alice"))
