# SPDX-License-Identifier: Apache-2.0
"""Broker profiles: one security set-up, started on either target (Sluice or
Apache Kafka) with the same client-side settings, so that one scenario
function runs against both (tests/integration/18-differential.py,
bench/compare.py, scripts/kafka.sh).

  plaintext  one PLAINTEXT listener; every principal may do everything (Kafka:
             no authorizer; Sluice: allow.everyone.if.no.acl.found=true, which
             needs sluice.allow.insecure=true)
  sasl_ssl   a SASL_SSL listener with SCRAM-SHA-512 (the test PKI's server
             certificate), plus a TLS-only (SSL) listener; no authorization
             (as above); the SCRAM user `admin` exists from the start
  secure     one SASL_SSL listener with SCRAM-SHA-512 and the ACL authorizer
             denying by default (Kafka: StandardAuthorizer,
             allow.everyone.if.no.acl.found=false; Sluice: its defaults);
             super.users=User:admin. Sluice also keeps its defaults of audit
             and encryption at rest on (in every profile).

    pb = make(workdir, "secure", target="kafka", pki=pki).start()
    pb.admin                          # a Client for the super user
    pb.client("alice", "pw")          # the same for another SCRAM user
    pb.add_user("alice", "pw")        # through kafka-configs, as admin

Kafka's only extra: in `secure`, super.users also holds User:ANONYMOUS, the
principal of its PLAINTEXT controller listener (KRaft's broker registers
with its controller through it; no client is given that port).

Command line (scripts/kafka.sh uses it):
    python3 broker_profiles.py write --profile P --dir D [--port N]
writes D/broker.properties for Kafka, D/format.args (kafka-storage format's
extra arguments, one a line), D/client.properties (the admin's Java client
settings) and the test PKI under D/pki, and prints the bootstrap address.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import sluice_harness as h

PROFILES = ("plaintext", "sasl_ssl", "secure")
MECHANISM = "SCRAM-SHA-512"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin-secret-pw"
SCRAM_ITERATIONS = 4096


def _jaas(user: str, password: str) -> str:
    esc = password.replace("\\", "\\\\").replace('"', '\\"')
    return (f'org.apache.kafka.common.security.scram.ScramLoginModule required '
            f'username="{user}" password="{esc}";')


@dataclass(frozen=True)
class Client:
    """What a client needs to reach one listener as one principal: the
    address, the TLS settings (None: no TLS) and SCRAM credentials (None:
    no SASL). Renders itself for each client library."""

    bootstrap: str
    workdir: Path
    tls: Optional[h.TlsClient] = None
    user: Optional[str] = None
    password: Optional[str] = None
    mechanism: str = MECHANISM

    @property
    def protocol(self) -> str:
        if self.user is not None:
            return "SASL_SSL" if self.tls else "SASL_PLAINTEXT"
        return "SSL" if self.tls else "PLAINTEXT"

    def as_user(self, user: Optional[str], password: Optional[str] = None,
                mechanism: str = MECHANISM) -> "Client":
        return replace(self, user=user, password=password, mechanism=mechanism)

    def librdkafka(self) -> dict:
        """confluent-kafka properties, bootstrap.servers included."""
        c: dict = {"bootstrap.servers": self.bootstrap}
        if self.tls:
            c.update(self.tls.librdkafka())
        c["security.protocol"] = self.protocol.lower()
        if self.user is not None:
            c.update({"sasl.mechanism": self.mechanism, "sasl.username": self.user,
                      "sasl.password": self.password})
        return c

    def kafka_python(self) -> dict:
        """kafka-python keyword arguments, bootstrap_servers included."""
        c: dict = {"bootstrap_servers": self.bootstrap}
        if self.tls:
            c.update(self.tls.kafka_python())
        c["security_protocol"] = self.protocol
        if self.user is not None:
            c.update({"sasl_mechanism": self.mechanism, "sasl_plain_username": self.user,
                      "sasl_plain_password": self.password})
        return c

    def java_properties(self, extra: Optional[dict] = None) -> Path:
        """A properties file for Kafka's Java tools (--command-config etc.),
        with `extra` client properties."""
        lines = [f"security.protocol={self.protocol}"]
        lines += [f"{k}={v}" for k, v in (extra or {}).items()]
        if self.tls:
            lines += ["ssl.truststore.type=PKCS12", f"ssl.truststore.location={self.tls.truststore_p12}",
                      f"ssl.truststore.password={self.tls.password}"]
        if self.user is not None:
            lines += [f"sasl.mechanism={self.mechanism}",
                      f"sasl.jaas.config={_jaas(self.user, self.password or '')}"]
        import hashlib
        tag = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]
        path = self.workdir / f"client-{tag}.properties"
        path.write_text("".join(h._prop_escape(x) + "\n" for x in lines))
        return path


def broker_config(profile: str, target: str, pki) -> tuple[list, dict]:
    """(listeners, config) of `profile` on `target`."""
    if profile not in PROFILES:
        raise ValueError(f"profile {profile!r}: one of {', '.join(PROFILES)}")
    if profile == "plaintext":
        cfg = {} if target == "kafka" else {"allow.everyone.if.no.acl.found": "true",
                                            "sluice.allow.insecure": "true"}
        return ["PLAINTEXT"], cfg
    cfg = pki.broker_ssl_config(store="PKCS12")
    cfg["sasl.enabled.mechanisms"] = MECHANISM
    if target == "kafka":
        cfg["sasl.mechanism.inter.broker.protocol"] = MECHANISM
        cfg[f"listener.name.sasl_ssl.{MECHANISM.lower()}.sasl.jaas.config"] = _jaas(ADMIN_USER, ADMIN_PASSWORD)
    if profile == "sasl_ssl":
        if target != "kafka":
            cfg.update({"allow.everyone.if.no.acl.found": "true", "sluice.allow.insecure": "true"})
        return [("SASL_SSL", "SASL_SSL"), ("SSL", "SSL")], cfg
    # secure
    if target == "kafka":
        cfg.update({"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                    "allow.everyone.if.no.acl.found": "false",
                    "super.users": f"User:{ADMIN_USER};User:ANONYMOUS"})
    else:
        cfg.update({"allow.everyone.if.no.acl.found": "false", "super.users": f"User:{ADMIN_USER}"})
    return [("SASL_SSL", "SASL_SSL")], cfg


@dataclass
class ProfileBroker:
    """A Broker started in a profile, with the clients that reach it."""

    broker: h.Broker
    profile: str
    pki: object
    extra: dict = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.broker.target

    @property
    def sasl(self) -> bool:
        return self.profile != "plaintext"

    def client(self, user: Optional[str] = None, password: Optional[str] = None,
               mechanism: str = MECHANISM) -> Client:
        """A client of the main listener: with SASL, as `user` (default the admin)."""
        b = self.broker
        if not self.sasl:
            return Client(b.bootstrap, b.workdir)
        return Client(b.bootstrap, b.workdir, tls=self.pki.client(),
                      user=user or ADMIN_USER, password=password if user else ADMIN_PASSWORD,
                      mechanism=mechanism)

    @property
    def admin(self) -> Client:
        return self.client()

    def tls_only(self) -> Client:
        """A client of the SSL listener (sasl_ssl profile), no SASL."""
        b = self.broker
        return Client(b.bootstrap_of("SSL"), b.workdir, tls=self.pki.client())

    def prepare(self) -> None:
        """What precedes the first start: the admin SCRAM user (Sluice: `sluice
        user add` on the data directory; Kafka: kafka-storage format
        --add-scram) and, for Kafka, formatting the data directory."""
        b = self.broker
        if b.starts or getattr(self, "_prepared", False):
            return
        spec = f"{MECHANISM}=[name={ADMIN_USER},iterations={SCRAM_ITERATIONS},password={ADMIN_PASSWORD}]"
        b.data_dir.mkdir(parents=True, exist_ok=True)
        if b.target == "kafka":
            if self.sasl:
                b.kafka_format_args = ["--add-scram", spec]
            b._write_config()
            b._format_kafka()
        elif self.sasl:
            h.sluice_cli("user", "add", ADMIN_USER, "--password-stdin", "--data-dir", str(b.data_dir),
                         input=(ADMIN_PASSWORD + "\n").encode())
        self._prepared = True

    def start(self, timeout: float = h.START_TIMEOUT) -> "ProfileBroker":
        self.prepare()
        self.broker.start(timeout)
        return self

    def add_user(self, user: str, password: str) -> None:
        """Creates (or changes) a SCRAM-SHA-512 user through kafka-configs as admin."""
        h.set_scram_user(self.broker.bootstrap, user, password, (MECHANISM,), SCRAM_ITERATIONS,
                         command_config=self.admin.java_properties())

    def finish(self) -> None:
        try:
            self.broker.finish()
        finally:
            self.broker.kill()


def make(workdir: Path | str, profile: str, target: str = h.TARGET, pki=None,
         port: Optional[int] = None, config: Optional[dict] = None) -> ProfileBroker:
    """A ProfileBroker, not started. pki: the test PKI (pki.make_pki), needed
    by the SASL profiles. config: extra broker keys on top of the profile's."""
    if profile != "plaintext" and pki is None:
        raise ValueError(f"profile {profile} needs the test PKI")
    listeners, cfg = broker_config(profile, target, pki)
    cfg.update(config or {})
    b = h.Broker(workdir, config=cfg, target=target, port=port, listeners=listeners,
                 tls=pki.client() if profile != "plaintext" else None)
    return ProfileBroker(b, profile, pki, dict(config or {}))


def _write_for_script(args) -> int:
    import pki as pki_mod

    d = Path(args.dir).resolve()
    d.mkdir(parents=True, exist_ok=True)
    the_pki = pki_mod.make_pki(d / "pki") if args.profile != "plaintext" else None
    pb = make(d, args.profile, target="kafka", pki=the_pki, port=args.port)
    pb.broker._write_config()
    fmt = []
    if pb.sasl:
        fmt = ["--add-scram",
               f"{MECHANISM}=[name={ADMIN_USER},iterations={SCRAM_ITERATIONS},password={ADMIN_PASSWORD}]"]
    (d / "format.args").write_text("".join(a + "\n" for a in fmt))
    props = pb.admin.java_properties()
    props.replace(d / "client.properties")
    print(f"bootstrap {pb.broker.bootstrap}")
    for name, port in pb.broker.ports.items():
        print(f"listener {name} 127.0.0.1:{port}")
    print(f"client config {d / 'client.properties'}")
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Writes a Kafka configuration for a broker profile.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("--profile", choices=PROFILES, required=True)
    w.add_argument("--dir", required=True)
    w.add_argument("--port", type=int)
    args = ap.parse_args(argv)
    return _write_for_script(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
