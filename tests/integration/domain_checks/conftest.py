"""Fixtures for the domain-check integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rig.https_server import LocalHTTPSServer
from tests.rig.tls import CertificateAuthority

#: every HTTPS name the MTA-STS and BIMI tests serve; one certificate from the test CA covers all
HTTPS_NAMES = (
    "mta-sts.good.test",
    "mta-sts.testing.test",
    "mta-sts.none.test",
    "mta-sts.mismatch.test",
    "mta-sts.slow.test",
    "mta-sts.chunked.test",
    "mta-sts.redirect.test",
    "mta-sts.big.test",
    "mta-sts.noaddress.test",
    "mta-sts.nullmx.test",
    "mta-sts.servfail.test",
    "mta-sts.good.loc",
    "mta-sts.testing.loc",
    "mta-sts.valid-none.loc",
    "mta-sts.fast-expire.loc",
    *(f"mta-sts.bad-policy{number}.loc" for number in range(1, 9)),
    "bimi.good.test",
    "bimi.example.test",
)


@pytest.fixture
def https_server(test_ca: CertificateAuthority) -> Iterator[LocalHTTPSServer]:
    """HTTPS on 127.0.0.1 for HTTPS_NAMES, signed by the test CA; add routes with `serve`.

    Code under test reaches it with `HttpsOptions(port=https_server.port,
    ca_file=test_ca.cert_path)` and names the local DNS server resolves to 127.0.0.1.
    """
    issued = test_ca.issue(HTTPS_NAMES)
    with LocalHTTPSServer(test_ca.server_context(issued)) as server:
        yield server
