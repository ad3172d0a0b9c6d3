# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the integration suite: `broker` (one per test) and
`shared_broker` (one per module). See sluice_harness.py for the environment
variables (SLUICED, SLUICE_TARGET, SLUICE_SANITIZED, ...)."""

from __future__ import annotations

import os

import pytest

import sluice_harness as h


def pytest_report_header(config):
    what = f"target={h.TARGET}"
    if h.TARGET == "sluice":
        what += f" SLUICED={h.SLUICED}"
    if h.SANITIZED:
        what += " (sanitized)"
    return [what, f"kafka tools: {h.KAFKA_BIN}"]


def pytest_sessionfinish(session, exitstatus):
    # "No tests ran" (5) must fail CI and `make test` like any other failure:
    # an empty run proves nothing.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _new_broker(tmp_path_factory, name: str) -> h.Broker:
    return h.Broker(tmp_path_factory.mktemp(name))


@pytest.fixture
def broker(tmp_path_factory, request):
    """A fresh broker (own data dir and port) for one test. Teardown fails the
    test if it died unexpectedly, did not stop cleanly, or (sanitized) logged
    a sanitizer report."""
    b = _new_broker(tmp_path_factory, "broker")
    request.node._sluice_brokers = getattr(request.node, "_sluice_brokers", []) + [b]
    b.start()
    yield b
    try:
        b.finish()
    finally:
        b.kill()


@pytest.fixture(scope="module")
def shared_broker(tmp_path_factory, request):
    """One broker for all tests of a module; tests must use distinct topic names."""
    b = _new_broker(tmp_path_factory, "shared")
    request.module._sluice_shared = b
    b.start()
    yield b
    try:
        b.finish()
    finally:
        b.kill()


@pytest.fixture
def broker_factory(tmp_path_factory, request):
    """Makes extra brokers (not started) with given config; all are checked and
    stopped at teardown like `broker`."""
    made: list[h.Broker] = []

    def make(config=None, **kw) -> h.Broker:
        b = h.Broker(tmp_path_factory.mktemp("broker"), config=config, **kw)
        made.append(b)
        request.node._sluice_brokers = getattr(request.node, "_sluice_brokers", []) + [b]
        return b

    yield make
    errors = []
    for b in made:
        if b.proc is None:
            continue
        try:
            b.finish()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            b.kill()
    if errors:
        raise AssertionError("\n\n".join(errors))


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A test PKI (CA, unrelated CA, server and client certificates, expired and
    revoked ones, a CRL; PEM, encrypted PEM and PKCS#12), made once per session:
    see pki.py."""
    import pki as pki_mod

    return pki_mod.make_pki(tmp_path_factory.mktemp("pki"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # On a failure, append the tail of each broker log the test used.
    report = yield
    if report.failed:
        brokers = list(getattr(item, "_sluice_brokers", []))
        shared = getattr(item.module, "_sluice_shared", None) if item.module else None
        if shared is not None:
            brokers.append(shared)
        for b in brokers:
            report.sections.append((f"broker log {b.bootstrap}", b.log_tail(80)))
    return report
