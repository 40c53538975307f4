"""pytest fixtures for the real-network rig.

Enabled for the whole suite by `pytest_plugins = ["tests.rig.fixtures"]` in tests/conftest.py,
or for one run with `pytest -p tests.rig.fixtures`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import dns.asyncresolver
import pytest

from tests.rig.dns_server import LocalDNSServer
from tests.rig.imap_server import DOVECOT, DovecotServer
from tests.rig.smtp_sink import SMTPSink
from tests.rig.tls import CertificateAuthority
from todoke.core.dns import make_resolver


class ResolverFactory(Protocol):
    def __call__(
        self, *, timeout: float = ..., lifetime: float = ...
    ) -> dns.asyncresolver.Resolver: ...


@pytest.fixture
def dns_server() -> Iterator[LocalDNSServer]:
    """A running authoritative server with no zones; load them with `add_zone(text)`."""
    with LocalDNSServer() as server:
        yield server


@pytest.fixture
def resolver_factory(dns_server: LocalDNSServer) -> ResolverFactory:
    """Makes resolvers that ask only `dns_server`, as code under test receives them."""

    def factory(*, timeout: float = 3.0, lifetime: float = 5.0) -> dns.asyncresolver.Resolver:
        return make_resolver([dns_server.nameserver], timeout=timeout, lifetime=lifetime)

    return factory


# Named through the decorator so pytest never mistakes the function for a test.
@pytest.fixture(scope="session", name="test_ca")
def _test_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """One CA per session; trust it with `ssl.create_default_context(cafile=test_ca.cert_path)`."""
    return CertificateAuthority(tmp_path_factory.mktemp("test-ca"))


@pytest.fixture
def smtp_sink(test_ca: CertificateAuthority) -> Iterator[SMTPSink]:
    """A running SMTP sink offering STARTTLS with a test CA certificate for localhost,
    127.0.0.1 and mx.example.test."""
    with SMTPSink(test_ca.server_context()) as sink:
        yield sink


@pytest.fixture(scope="session")
def imap_server() -> Iterator[DovecotServer]:
    """A private Dovecot on loopback for the whole session; tests add their own accounts."""
    if not Path(DOVECOT).exists():
        pytest.fail(f"{DOVECOT} is missing: `make test` installs dovecot-imapd")
    # Not under pytest's tmp_path: its parents are private to us, and Dovecot's unprivileged
    # mail user must reach the Maildirs.
    root = Path(tempfile.mkdtemp(prefix="todoke-imap-"))
    server = DovecotServer(root)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
