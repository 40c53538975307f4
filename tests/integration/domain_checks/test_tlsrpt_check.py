"""The TLS-RPT section against the local DNS server, through `check_domain` and the CLI."""

from __future__ import annotations

import asyncio
import json

import pytest
import typer
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.cli.domain import domain_app
from todoke.domains.checks import CheckOptions, Status, check_domain
from todoke.domains.checks.findings import Finding
from todoke.domains.checks.tlsrpt import FINDINGS

LONG_RUA = ",".join(f"mailto:tls-{n}@reports.example.test" for n in range(12))
ZONE = f"""
$ORIGIN test.
@                  IN SOA ns1 hostmaster 1 3600 600 86400 120
_smtp._tls.ok      IN TXT "v=TLSRPTv1; rua=mailto:tls@ok.test,https://tls.example.test/r"
_smtp._tls.ok      IN TXT "some-verification=abc"
_smtp._tls.long    IN TXT "v=TLSRPTv1; rua={LONG_RUA}"
_smtp._tls.twice   IN TXT "v=TLSRPTv1; rua=mailto:a@twice.test"
_smtp._tls.twice   IN TXT "v=TLSRPTv1; rua=mailto:b@twice.test"
_smtp._tls.dmarcy  IN TXT "v=TLSRPTv1; rua=mailto:tls@dmarcy.test!10m"
_smtp._tls.other   IN TXT "v=spf1 -all"
_smtp._tls.broken  IN TXT "v=TLSRPTv1; rua=mailto:tls@broken.test"
"""


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


def tlsrpt(resolver_factory: ResolverFactory, domain: str) -> Finding:
    options = CheckOptions(try_common_selectors=False)
    result = asyncio.run(
        check_domain(domain, resolver=resolver_factory(), options=options, sections=("tlsrpt",))
    )
    (finding,) = result.findings
    assert set(finding.values) == FINDINGS[finding.name]
    return finding


def test_valid_record_passes_and_names_its_destinations(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = tlsrpt(resolver_factory, "ok.test")
    assert (finding.id, finding.status) == ("tlsrpt.ok", Status.PASS)
    assert finding.values["rua"] == "mailto:tls@ok.test, https://tls.example.test/r"
    assert "some-verification=abc" in finding.evidence


def test_record_longer_than_one_string_is_read_whole(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = tlsrpt(resolver_factory, "long.test")
    assert finding.id == "tlsrpt.ok"
    assert str(finding.values["rua"]).count("mailto:") == 12


@pytest.mark.parametrize(
    ("domain", "expected", "value", "detail"),
    [
        ("twice.test", "tlsrpt.several", "count", "2"),
        ("dmarcy.test", "tlsrpt.invalid", "reason", "'!' must be percent-encoded"),
        ("other.test", "tlsrpt.invalid", "reason", "does not begin with v=TLSRPTv1"),
    ],
)
def test_unusable_records_fail_with_the_reason(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    domain: str,
    expected: str,
    value: str,
    detail: str,
) -> None:
    finding = tlsrpt(resolver_factory, domain)
    assert (finding.id, finding.status) == (expected, Status.FAIL)
    assert detail in str(finding.values[value])


def test_missing_record_is_information(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = tlsrpt(resolver_factory, "absent.test")
    assert (finding.id, finding.status) == ("tlsrpt.missing", Status.INFO)


def test_servfail_is_reported_as_a_dns_error_of_the_section(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("_smtp._tls.broken.test", "servfail")
    finding = tlsrpt(resolver_factory, "broken.test")
    assert (finding.id, finding.values["rdtype"]) == ("tlsrpt.dns_error", "TXT")


def test_cli_reports_tls_rpt_mta_sts_and_bimi_in_japanese(zone: LocalDNSServer) -> None:
    app = typer.Typer()
    app.add_typer(domain_app, name="domain")
    arguments = ["domain", "check", "ok.test", "--nameserver", str(zone.nameserver)]
    outcome = CliRunner().invoke(app, [*arguments, "--json", "--lang", "ja"])
    assert outcome.exit_code == 0, outcome.output
    found = {item["id"]: item for item in json.loads(outcome.stdout)["findings"]}
    assert found["tlsrpt.ok"]["message"].startswith(
        "_smtp._tls.ok.test に TLS-RPT が公開されています"
    )
    assert (
        found["mta_sts.missing"]["message"] == "_mta-sts.ok.test に MTA-STS レコードがありません。"
    )
    assert found["bimi.missing"]["status"] == "info"
    assert "default._bimi.ok.test" in found["bimi.missing"]["advice"]
