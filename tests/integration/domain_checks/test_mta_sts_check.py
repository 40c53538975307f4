"""The MTA-STS section end to end: records on the local DNS server, policies on a local HTTPS
server with test-CA certificates, through `check_domain`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.domain_checks.conftest import HTTPS_NAMES
from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from tests.rig.https_server import LocalHTTPSServer, Route
from tests.rig.tls import CertificateAuthority
from todoke.domains.checks import CheckOptions, DomainCheck, HttpsOptions, Status, check_domain
from todoke.domains.checks.findings import Finding
from todoke.domains.checks.mta_sts import FINDINGS

CONFORMANCE = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "mta-sts"
POLICY = "/.well-known/mta-sts.txt"
GOOD_POLICY = (
    b"version: STSv1\r\nmode: enforce\r\nmx: mx1.good.test\r\nmx: *.backup.good.test\r\n"
    b"max_age: 1209600\r\n"
)

ZONE = """
$ORIGIN test.
@                      IN SOA ns1 hostmaster 1 3600 600 86400 120
_mta-sts.good          IN TXT "v=STSv1; id=20240401T000000;"
good                   IN MX 10 mx1.good.test.
good                   IN MX 20 a.backup.good.test.
mta-sts.good           IN A 127.0.0.1
_mta-sts.mismatch      IN TXT "v=STSv1; id=1;"
mismatch               IN MX 10 mx1.mismatch.test.
mismatch               IN MX 20 deep.mx2.mismatch.test.
mismatch               IN MX 30 mismatch.test.
mta-sts.mismatch       IN A 127.0.0.1
_mta-sts.testing       IN TXT "v=STSv1; id=2;"
testing                IN MX 10 mx.testing.test.
mta-sts.testing        IN A 127.0.0.1
_mta-sts.none          IN TXT "v=STSv1; id=3;"
none                   IN MX 10 mx.none.test.
mta-sts.none           IN A 127.0.0.1
_mta-sts.slow          IN TXT "v=STSv1; id=4;"
mta-sts.slow           IN A 127.0.0.1
_mta-sts.chunked       IN TXT "v=STSv1; id=5;"
chunked                IN MX 0 mx.chunked.test.
mta-sts.chunked        IN A 127.0.0.1
_mta-sts.redirect      IN TXT "v=STSv1; id=6;"
mta-sts.redirect       IN A 127.0.0.1
_mta-sts.big           IN TXT "v=STSv1; id=7;"
mta-sts.big            IN A 127.0.0.1
_mta-sts.noaddress     IN TXT "v=STSv1; id=8;"
_mta-sts.refused       IN TXT "v=STSv1; id=13;"
mta-sts.refused        IN A 127.0.0.2
_mta-sts.twice         IN TXT "v=STSv1; id=9;"
_mta-sts.twice         IN TXT "v=STSv1; id=10;"
_mta-sts.nullmx        IN TXT "v=STSv1; id=11;"
nullmx                 IN MX 0 .
mta-sts.nullmx         IN A 127.0.0.1
_mta-sts.servfail      IN TXT "v=STSv1; id=12;"
servfail               IN MX 10 mx.servfail.test.
mta-sts.servfail       IN A 127.0.0.1
"""


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


def run(
    resolver_factory: ResolverFactory,
    server: LocalHTTPSServer,
    ca: CertificateAuthority,
    domain: str,
    *,
    timeout: float = 3.0,
) -> DomainCheck:
    https = HttpsOptions(port=server.port, ca_file=ca.cert_path, timeout=timeout)
    options = CheckOptions(try_common_selectors=False, https=https)
    result = asyncio.run(
        check_domain(domain, resolver=resolver_factory(), options=options, sections=("mta_sts",))
    )
    for finding in result.findings:
        assert set(finding.values) == FINDINGS[finding.name], finding
    return result


def by_id(result: DomainCheck) -> dict[str, Finding]:
    return {finding.id: finding for finding in result.findings}


def test_enforced_policy_covering_every_mx_passes(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    https_server.serve(f"https://mta-sts.good.test{POLICY}", Route(GOOD_POLICY))
    result = run(resolver_factory, https_server, test_ca, "good.test")
    found = by_id(result)
    assert set(found) == {"mta_sts.enforce", "mta_sts.mx_covered"}
    assert found["mta_sts.enforce"].values == {"id": "20240401T000000", "max_age": 1209600}
    assert found["mta_sts.mx_covered"].status is Status.PASS
    assert "mode: enforce" in found["mta_sts.enforce"].evidence
    assert https_server.requests == [("mta-sts.good.test", POLICY)]


def test_mx_hosts_outside_the_patterns_are_named(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    # *.mismatch.test covers one label only (RFC 8461 §4.1): not the domain, not two labels.
    body = b"version: STSv1\nmode: enforce\nmx: *.mismatch.test\nmax_age: 604800\n"
    https_server.serve(f"https://mta-sts.mismatch.test{POLICY}", Route(body))
    found = by_id(run(resolver_factory, https_server, test_ca, "mismatch.test"))
    mismatch = found["mta_sts.mx_mismatch"]
    assert mismatch.status is Status.FAIL
    assert mismatch.values["hosts"] == "deep.mx2.mismatch.test, mismatch.test"
    assert mismatch.values["count"] == 2


@pytest.mark.parametrize(
    ("domain", "mode", "expected", "status"),
    [
        ("testing.test", "testing", "mta_sts.testing", Status.INFO),
        ("none.test", "none", "mta_sts.mode_none", Status.WARN),
    ],
)
def test_modes_other_than_enforce_are_reported_by_name(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    domain: str,
    mode: str,
    expected: str,
    status: Status,
) -> None:
    body = f"version: STSv1\nmode: {mode}\nmx: mx.{domain}\nmax_age: 604800\n".encode()
    https_server.serve(f"https://mta-sts.{domain}{POLICY}", Route(body))
    found = by_id(run(resolver_factory, https_server, test_ca, domain))
    assert found[expected].status is status
    # mode: none applies to no MX host, so there is nothing to match.
    assert ("mta_sts.mx_covered" in found) == (mode != "none")


def test_chunked_policy_is_read_whole(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    body = b"version: STSv1\nmode: enforce\nmx: mx.chunked.test\nmax_age: 31557600\n"
    https_server.serve(f"https://mta-sts.chunked.test{POLICY}", Route(body, chunked=True))
    found = by_id(run(resolver_factory, https_server, test_ca, "chunked.test"))
    assert found["mta_sts.enforce"].values["max_age"] == 31557600
    assert "mta_sts.mx_covered" in found


@pytest.mark.parametrize(
    ("domain", "route", "expected", "reason"),
    [
        (
            "redirect.test",
            Route(b"", status=301, headers=(("Location", "https://x.test/"),)),
            "mta_sts.policy_unreachable",
            "redirect to https://x.test/",
        ),
        ("big.test", Route(b"x" * 600_000), "mta_sts.policy_invalid", "600000 bytes"),
        (
            "big.test",
            Route(b"x" * 600_000, close_delimited=True),
            "mta_sts.policy_invalid",
            "more than",
        ),
        (
            "good.test",
            Route(GOOD_POLICY, content_type="text/html"),
            "mta_sts.policy_invalid",
            "text/html",
        ),
        (
            "good.test",
            Route(GOOD_POLICY, content_type=None),
            "mta_sts.policy_invalid",
            "no Content-Type",
        ),
        ("good.test", Route(b"not found", status=404), "mta_sts.policy_unreachable", "HTTP 404"),
        (
            "good.test",
            Route(b"version: STSv1\nmode: enforce\nmax_age: 86400\n"),
            "mta_sts.policy_invalid",
            "no mx field",
        ),
    ],
)
def test_policy_problems_say_what_went_wrong(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    domain: str,
    route: Route,
    expected: str,
    reason: str,
) -> None:
    https_server.serve(f"https://mta-sts.{domain}{POLICY}", route)
    result = run(resolver_factory, https_server, test_ca, domain)
    assert [finding.id for finding in result.findings] == [expected]
    assert result.findings[0].status is Status.FAIL
    assert reason in str(result.findings[0].values["reason"])


def test_slow_policy_host_times_out(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    https_server.serve(f"https://mta-sts.slow.test{POLICY}", Route(GOOD_POLICY, delay=3))
    result = run(resolver_factory, https_server, test_ca, "slow.test", timeout=0.5)
    (finding,) = result.findings
    assert finding.id == "mta_sts.policy_unreachable"
    assert "0.5 s" in str(finding.values["reason"])
    assert result.seconds < 2.5


def test_policy_host_without_address_is_unreachable(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    (finding,) = run(resolver_factory, https_server, test_ca, "noaddress.test").findings
    assert finding.id == "mta_sts.policy_unreachable"
    assert "mta-sts.noaddress.test has no A or AAAA record" in str(finding.values["reason"])


def test_policy_host_that_refuses_connections_is_unreachable(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    # The HTTPS server listens on 127.0.0.1 only; 127.0.0.2 is loopback with nothing there.
    (finding,) = run(resolver_factory, https_server, test_ca, "refused.test").findings
    assert finding.id == "mta_sts.policy_unreachable"
    assert "cannot connect to 127.0.0.2" in str(finding.values["reason"])


def test_two_records_are_invalid_and_the_policy_is_not_fetched(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    (finding,) = run(resolver_factory, https_server, test_ca, "twice.test").findings
    assert finding.id == "mta_sts.record_invalid"
    assert "2 records" in str(finding.values["reason"])
    assert len(finding.evidence) == 2
    assert https_server.requests == []


def test_null_mx_leaves_nothing_to_match(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    https_server.serve(f"https://mta-sts.nullmx.test{POLICY}", Route(GOOD_POLICY))
    found = by_id(run(resolver_factory, https_server, test_ca, "nullmx.test"))
    assert found["mta_sts.no_mx"].values == {"domain": "nullmx.test"}


def test_mx_servfail_keeps_the_policy_findings(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    zone.fail("servfail.test", "servfail", "MX")
    https_server.serve(f"https://mta-sts.servfail.test{POLICY}", Route(GOOD_POLICY))
    found = by_id(run(resolver_factory, https_server, test_ca, "servfail.test"))
    assert found["mta_sts.enforce"].status is Status.PASS
    assert found["mta_sts.dns_error"].values["rdtype"] == "MX"


def test_missing_record_is_information(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    (finding,) = run(resolver_factory, https_server, test_ca, "absent.test").findings
    assert (finding.id, finding.status) == ("mta_sts.missing", Status.INFO)
    assert finding.values == {"name": "_mta-sts.absent.test"}


# --- the postfix-mta-sts-resolver conformance domains (shared/testdata/mta-sts, MIT) ----------
#
# Upstream serves these names with nginx and dnsmasq; the facts reproduced here: every domain's
# TXT record is "v=STSv1;id=20180907T090909;", bad-record1..3 publish the broken records below,
# bad-policy3 is served as text/html, bad-policy4 with HTTP 404, bad-cert1 with a certificate
# from another CA and bad-cert2 with a certificate for another name.

LOC_DOMAINS = (
    "good", "testing", "valid-none", "fast-expire", "bad-cert1", "bad-cert2",
    *(f"bad-policy{number}" for number in range(1, 9)),
)  # fmt: skip
BAD_RECORDS = {
    "bad-record1": "id=20180907T090909; v=STSv1;",
    "bad-record2": "azazaza;asdasdasdasd",
    "bad-record3": "v=STSv12;id=20180907T090909;",
}
EXPECTED = {
    "good": {"mta_sts.enforce", "mta_sts.mx_covered", "mta_sts.max_age_low"},
    "testing": {"mta_sts.testing", "mta_sts.mx_covered", "mta_sts.max_age_low"},
    "valid-none": {"mta_sts.mode_none", "mta_sts.max_age_low"},
    "fast-expire": {"mta_sts.enforce", "mta_sts.mx_covered", "mta_sts.max_age_short"},
    "bad-cert1": {"mta_sts.certificate_invalid"},
    "bad-cert2": {"mta_sts.certificate_invalid"},
    "bad-policy3": {"mta_sts.policy_invalid"},
    "bad-policy4": {"mta_sts.policy_unreachable"},
    **{f"bad-policy{n}": {"mta_sts.policy_invalid"} for n in (1, 2, 5, 6, 7, 8)},
    **{name: {"mta_sts.record_invalid"} for name in BAD_RECORDS},
    "no-record": {"mta_sts.missing"},
}


def loc_zone() -> str:
    lines = ["$ORIGIN loc.", "@ IN SOA ns1 hostmaster 1 3600 600 86400 120", "mail IN A 127.0.0.1"]
    for name in (*LOC_DOMAINS, *BAD_RECORDS, "no-record"):
        lines += [f"{name} IN MX 10 mail.loc.", f"mta-sts.{name} IN A 127.0.0.1"]
    lines += [f'_mta-sts.{name} IN TXT "v=STSv1;id=20180907T090909;"' for name in LOC_DOMAINS]
    lines += [f'_mta-sts.{name} IN TXT "{text}"' for name, text in BAD_RECORDS.items()]
    return "\n".join(lines)


@pytest.fixture
def conformance_server(
    dns_server: LocalDNSServer, test_ca: CertificateAuthority, tmp_path: Path
) -> Iterator[LocalHTTPSServer]:
    dns_server.add_zone(loc_zone())
    other_ca = CertificateAuthority(tmp_path / "other-ca", common_name="Untrusted Test CA")
    sni = {
        "mta-sts.bad-cert1.loc": other_ca.server_context(
            other_ca.issue(("mta-sts.bad-cert1.loc",))
        ),
        "mta-sts.bad-cert2.loc": test_ca.server_context(test_ca.issue(("mta-sts.elsewhere.loc",))),
    }
    server = LocalHTTPSServer(test_ca.server_context(test_ca.issue(HTTPS_NAMES)), sni=sni)
    for name in LOC_DOMAINS:
        body = (CONFORMANCE / "policies" / f"mta-sts.{name}.loc.txt").read_bytes()
        route = Route(body)
        if name == "bad-policy3":
            route = Route(body, content_type="text/html")
        elif name == "bad-policy4":
            route = Route(body, status=404)
        server.serve(f"https://mta-sts.{name}.loc{POLICY}", route)
    with server:
        yield server


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_conformance_domains_get_the_expected_findings(
    conformance_server: LocalHTTPSServer,
    resolver_factory: ResolverFactory,
    test_ca: CertificateAuthority,
    name: str,
) -> None:
    result = run(resolver_factory, conformance_server, test_ca, f"{name}.loc")
    assert {finding.id for finding in result.findings} == EXPECTED[name]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("bad-cert1", "unable to get local issuer certificate"), ("bad-cert2", "Hostname mismatch")],
)
def test_certificate_failures_say_which_check_failed(
    conformance_server: LocalHTTPSServer,
    resolver_factory: ResolverFactory,
    test_ca: CertificateAuthority,
    name: str,
    reason: str,
) -> None:
    (finding,) = run(resolver_factory, conformance_server, test_ca, f"{name}.loc").findings
    assert reason in str(finding.values["reason"])
    assert finding.values["url"] == f"https://mta-sts.{name}.loc/.well-known/mta-sts.txt"


def test_domain_too_long_for_the_record_names_has_no_records(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    # 247 characters: a valid domain, but "_mta-sts." or "_smtp._tls." in front is over 255.
    domain = ".".join(("a" * 63, "b" * 63, "c" * 63, "d" * 50, "test"))
    options = CheckOptions(try_common_selectors=False, selectors=("bad..selector",))
    result = asyncio.run(
        check_domain(
            domain,
            resolver=resolver_factory(),
            options=options,
            sections=("mta_sts", "tlsrpt", "bimi"),
        )
    )
    assert [finding.id for finding in result.findings] == [
        "mta_sts.missing",
        "tlsrpt.missing",
        "bimi.missing",
    ]
