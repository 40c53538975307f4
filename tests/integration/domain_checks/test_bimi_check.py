"""The BIMI section end to end: records and DMARC on the local DNS server, logos and mark
certificates (from a test mark CA) on the local HTTPS server, through `check_domain`."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from tests.rig.https_server import LocalHTTPSServer, Route
from tests.rig.tls import CertificateAuthority
from tests.unit.domain_checks.test_bimi_vmc import SAMPLES, SVG, MarkIssuer, logotype_extension
from todoke.domains.checks import CheckOptions, DomainCheck, HttpsOptions, Status, check_domain
from todoke.domains.checks.bimi import FINDINGS
from todoke.domains.checks.findings import Finding

HOST = "https://bimi.example.test"
FM_SVG = (SAMPLES / "valid-FM-good.svg").read_bytes()
EXPIRED = datetime(2026, 1, 2, 12, tzinfo=UTC)

ZONE = """
$ORIGIN test.
@                       IN SOA ns1 hostmaster 1 3600 600 86400 120
bimi.example            IN A 127.0.0.1
_dmarc.good             IN TXT "v=DMARC1; p=reject; rua=mailto:d@good.test"
default._bimi.good      IN TXT "v=BIMI1; l=https://bimi.example.test/good/logo.svg; a=https://bimi.example.test/good/vmc.pem"
default._bimi.noise.good IN TXT "site-verification=0123"
brand._bimi.good        IN TXT "v=BIMI1; l=https://bimi.example.test/brand/logo.svg; a=https://bimi.example.test/brand/vmc.pem"
_dmarc.novmc            IN TXT "v=DMARC1; p=quarantine"
default._bimi.novmc     IN TXT "v=BIMI1; l=https://bimi.example.test/novmc/logo.svgz"
_dmarc.lax              IN TXT "v=DMARC1; p=quarantine; pct=50"
default._bimi.lax       IN TXT "v=BIMI1; l=https://bimi.example.test/novmc/logo.svgz"
_dmarc.monitor          IN TXT "v=DMARC1; p=none"
default._bimi.monitor   IN TXT "v=BIMI1; l=https://bimi.example.test/novmc/logo.svgz"
default._bimi.nodmarc   IN TXT "v=BIMI1; l=https://bimi.example.test/novmc/logo.svgz"
_dmarc.declined         IN TXT "v=DMARC1; p=none"
default._bimi.declined  IN TXT "v=BIMI1; l=; a=;"
_dmarc.twice            IN TXT "v=DMARC1; p=reject"
default._bimi.twice     IN TXT "v=BIMI1; l=https://bimi.example.test/novmc/logo.svgz"
default._bimi.twice     IN TXT "v=BIMI1; l=https://bimi.example.test/other.svg"
_dmarc.raster           IN TXT "v=DMARC1; p=reject"
default._bimi.raster    IN TXT "v=BIMI1; l=https://bimi.example.test/logo.png"
_dmarc.bad              IN TXT "v=DMARC1; p=reject"
default._bimi.bad       IN TXT "v=BIMI1; l=https://bimi.example.test/bad/logo.svg; a=https://bimi.example.test/bad/vmc.pem"
"""


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


@pytest.fixture(scope="module")
def issuer() -> MarkIssuer:
    return MarkIssuer("Todoke Integration Mark Root")


@pytest.fixture
def trust_root(issuer: MarkIssuer, tmp_path: Path) -> Path:
    path = tmp_path / "mark-root.pem"
    path.write_bytes(issuer.root.public_bytes(serialization.Encoding.PEM))
    return path


def vmc(issuer: MarkIssuer, **changes: object) -> Route:
    now = datetime.now(UTC)
    settings: dict[str, object] = {
        "names": ("good.test",),
        "not_before": now - timedelta(days=10),
        "not_after": now + timedelta(days=355),
        **changes,
    }
    leaf = issuer.issue(**settings)  # type: ignore[arg-type]
    return Route(issuer.pem(leaf), content_type="application/pem-certificate-chain")


def svg(data: bytes, content_type: str = "image/svg+xml") -> Route:
    return Route(data, content_type=content_type)


def run(
    resolver_factory: ResolverFactory,
    server: LocalHTTPSServer,
    ca: CertificateAuthority,
    domain: str,
    *,
    roots: tuple[Path, ...] = (),
    selectors: tuple[str, ...] = (),
) -> DomainCheck:
    options = CheckOptions(
        selectors=selectors,
        try_common_selectors=False,
        https=HttpsOptions(port=server.port, ca_file=ca.cert_path, timeout=3.0),
        bimi_trust_roots=roots,
    )
    result = asyncio.run(
        check_domain(domain, resolver=resolver_factory(), options=options, sections=("bimi",))
    )
    for finding in result.findings:
        assert set(finding.values) == FINDINGS[finding.name], finding
    return result


def by_id(result: DomainCheck) -> dict[str, Finding]:
    return {finding.id: finding for finding in result.findings}


def test_complete_bimi_setup_passes_every_step(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    issuer: MarkIssuer,
    trust_root: Path,
) -> None:
    https_server.serve(f"{HOST}/good/logo.svg", svg(SVG))
    https_server.serve(f"{HOST}/good/vmc.pem", vmc(issuer))
    result = run(resolver_factory, https_server, test_ca, "good.test", roots=(trust_root,))
    found = by_id(result)
    assert set(found) == {"bimi.dmarc_enforced", "bimi.record_ok", "bimi.svg_ok", "bimi.vmc_ok"}
    assert all(finding.status is Status.PASS for finding in result.findings)
    assert found["bimi.vmc_ok"].values["kind"] == "VMC"
    assert found["bimi.vmc_ok"].values["mark_type"] == "Registered Mark"
    assert found["bimi.vmc_ok"].values["issuer"] == "CN=Todoke Integration Mark Root"
    assert found["bimi.dmarc_enforced"].values == {"domain": "good.test", "policy": "p=reject"}
    assert found["bimi.svg_ok"].values["title"] == "Example"


@pytest.mark.parametrize("subdomain", ["news.good.test", "noise.good.test"])
def test_subdomain_without_a_record_uses_the_organisational_domains(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    issuer: MarkIssuer,
    trust_root: Path,
    subdomain: str,
) -> None:
    # noise.good.test has a TXT record at its _bimi name, but not a BIMI one (§7.2 step 4).
    https_server.serve(f"{HOST}/good/logo.svg", svg(SVG))
    https_server.serve(f"{HOST}/good/vmc.pem", vmc(issuer))
    found = by_id(run(resolver_factory, https_server, test_ca, subdomain, roots=(trust_root,)))
    assert found["bimi.record_ok"].values["name"] == "default._bimi.good.test"
    assert found["bimi.vmc_ok"].status is Status.PASS
    # The subdomain inherits p=reject as its subdomain policy.
    assert found["bimi.dmarc_enforced"].values["domain"] == "good.test"


def test_named_selector_is_checked_with_its_own_certificate_name(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    issuer: MarkIssuer,
    trust_root: Path,
) -> None:
    for name in ("good", "brand"):
        https_server.serve(f"{HOST}/{name}/logo.svg", svg(SVG))
    https_server.serve(f"{HOST}/good/vmc.pem", vmc(issuer))
    https_server.serve(f"{HOST}/brand/vmc.pem", vmc(issuer, names=("brand._bimi.good.test",)))
    result = run(
        resolver_factory,
        https_server,
        test_ca,
        "good.test",
        roots=(trust_root,),
        selectors=("brand",),
    )
    names = [f.values["name"] for f in result.findings if f.id == "bimi.record_ok"]
    assert names == ["default._bimi.good.test", "brand._bimi.good.test"]
    assert [f.id for f in result.findings].count("bimi.vmc_ok") == 2


@pytest.mark.parametrize(
    ("route", "expected", "value", "detail"),
    [
        ("other-issuer", "bimi.vmc_untrusted", "issuer", "CN=Stranger Mark Root"),
        ("expired", "bimi.vmc_expired", "date", "2026-01-02"),
        ("wrong-name", "bimi.vmc_domain_mismatch", "names", "other.test"),
        ("other-logo", "bimi.vmc_logo_mismatch", "url", "/good/vmc.pem"),
        ("no-eku", "bimi.vmc_eku_missing", "url", "/good/vmc.pem"),
        ("not-pem", "bimi.vmc_invalid", "reason", "not a PEM certificate chain"),
        ("gone", "bimi.vmc_unreachable", "reason", "HTTP 404"),
    ],
)
def test_certificate_problems_are_each_reported(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    issuer: MarkIssuer,
    trust_root: Path,
    route: str,
    expected: str,
    value: str,
    detail: str,
) -> None:
    now, day = datetime.now(UTC), timedelta(days=1)
    stranger = MarkIssuer("Stranger Mark Root")
    foreign = stranger.issue(names=("good.test",), not_before=now - day, not_after=now + 30 * day)
    routes = {
        "other-issuer": Route(stranger.pem(foreign, root=True)),
        "expired": vmc(issuer, not_before=EXPIRED - 365 * day, not_after=EXPIRED),
        "wrong-name": vmc(issuer, names=("other.test",)),
        "other-logo": vmc(issuer, logotype=logotype_extension(FM_SVG)),
        "no-eku": vmc(issuer, eku=()),
        "not-pem": Route(b"<html>certificate coming soon</html>", content_type="text/html"),
    }  # fmt: skip
    https_server.serve(f"{HOST}/good/logo.svg", svg(SVG))
    if route in routes:
        https_server.serve(f"{HOST}/good/vmc.pem", routes[route])
    found = by_id(run(resolver_factory, https_server, test_ca, "good.test", roots=(trust_root,)))
    assert found[expected].status is Status.FAIL
    assert detail in str(found[expected].values[value])
    assert "bimi.vmc_ok" not in found


def test_without_configured_roots_a_test_certificate_is_untrusted(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    issuer: MarkIssuer,
) -> None:
    https_server.serve(f"{HOST}/good/logo.svg", svg(SVG))
    https_server.serve(f"{HOST}/good/vmc.pem", Route(issuer.pem(issuer.issue(), root=True)))
    found = by_id(run(resolver_factory, https_server, test_ca, "good.test"))
    assert found["bimi.vmc_untrusted"].values["issuer"] == "CN=Todoke Integration Mark Root"


def test_svgz_logo_without_certificate_is_checked_and_the_certificate_missing_noted(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    https_server.serve(f"{HOST}/novmc/logo.svgz", svg(gzip.compress(FM_SVG), "text/plain"))
    found = by_id(run(resolver_factory, https_server, test_ca, "novmc.test"))
    assert found["bimi.svg_ok"].values["title"] == "FM-Icon-RGB"
    assert found["bimi.vmc_missing"].status is Status.INFO
    assert found["bimi.logo_content_type"].values["media_type"] == "text/plain"
    assert found["bimi.dmarc_enforced"].values["policy"] == "p=quarantine"


@pytest.mark.parametrize(
    ("domain", "policy"),
    [("lax.test", "p=quarantine; pct=50"), ("monitor.test", "p=none"), ("nodmarc.test", "")],
)
def test_dmarc_short_of_enforcement_fails_bimi(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    domain: str,
    policy: str,
) -> None:
    https_server.serve(f"{HOST}/novmc/logo.svgz", svg(SVG))
    found = by_id(run(resolver_factory, https_server, test_ca, domain))
    assert found["bimi.dmarc_not_enforced"].status is Status.FAIL
    assert found["bimi.dmarc_not_enforced"].values["policy"] == policy


def test_invalid_logo_fails_with_its_problems_named(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    issuer: MarkIssuer,
    trust_root: Path,
) -> None:
    bad = (SAMPLES / "invalid-script.svg").read_bytes()
    https_server.serve(f"{HOST}/bad/logo.svg", svg(bad))
    https_server.serve(
        f"{HOST}/bad/vmc.pem", vmc(issuer, names=("bad.test",), logotype=logotype_extension(bad))
    )
    found = by_id(run(resolver_factory, https_server, test_ca, "bad.test", roots=(trust_root,)))
    invalid = found["bimi.svg_invalid"]
    assert invalid.values["problems"] == "<script>, SVG Tiny PS"
    assert "a <script> element" in invalid.evidence
    # The certificate itself is in order and embeds exactly the logo served.
    assert found["bimi.vmc_ok"].status is Status.PASS


@pytest.mark.parametrize(
    ("domain", "expected", "reason"),
    [
        ("twice.test", "bimi.record_invalid", "2 records begin with v=BIMI1"),
        ("raster.test", "bimi.record_invalid", "raster image"),
        ("declined.test", "bimi.declined", None),
        ("absent.test", "bimi.missing", None),
    ],
)
def test_records_that_ask_for_no_logo_get_no_dmarc_finding(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    domain: str,
    expected: str,
    reason: str | None,
) -> None:
    result = run(resolver_factory, https_server, test_ca, domain)
    assert [finding.id for finding in result.findings] == [expected]
    if reason is not None:
        assert reason in str(result.findings[0].values["reason"])
    assert https_server.requests == []


def test_unreachable_logo_is_a_failure(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    found = by_id(run(resolver_factory, https_server, test_ca, "novmc.test"))
    assert "HTTP 404" in str(found["bimi.logo_unreachable"].values["reason"])
