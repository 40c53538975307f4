"""The MX and reputation section against zones, reverse zones and blocklists on the local server."""

from __future__ import annotations

import asyncio
import json
from ipaddress import ip_address

import pytest
import typer
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.cli.domain import domain_app
from todoke.domains.checks import CheckOptions, DomainCheck, Finding, Status, check_domain
from todoke.domains.checks.mx import FINDINGS

SOA = "@ IN SOA ns1 hostmaster 1 3600 600 86400 120"
DOMAINS = f"""
$ORIGIN mail.test.
{SOA}
ok           MX 10 mx1.ok
ok           MX 20 mx2.ok
mx1.ok       A 192.0.2.25
mx2.ok       AAAA 2001:db8::25
implicit     A 192.0.2.30
nothing      TXT "no mail here"
null         MX 0 .
mixed        MX 0 .
mixed        MX 10 mx1.ok
dangling     MX 10 gone.dangling
dangling     MX 20 mx1.ok
allgone      MX 10 gone.allgone
literal      MX 10 192.0.2.25.
mail         A 192.0.2.25
liar         A 192.0.2.99
mail6        AAAA 2001:db8::25
"""
REVERSE = """
$ORIGIN 2.0.192.in-addr.arpa.
@  IN SOA ns1.mail.test. hostmaster.mail.test. 1 3600 600 86400 120
25 PTR mail.mail.test.
26 PTR liar.mail.test.
28 PTR nowhere.mail.test.
"""
REVERSE6 = """
$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
@ IN SOA ns1.mail.test. hostmaster.mail.test. 1 3600 600 86400 120
5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 PTR mail6.mail.test.
"""
# Blocklists as operators publish them (RFC 5782): 127.0.0.2 and a TXT reason for a listing.
BLOCKLISTS = f"""
$ORIGIN zen.test.
{SOA}
2.2.0.192         A   127.0.0.2
2.2.0.192         A   127.0.0.4
2.2.0.192         TXT "https://zen.test/query/ip/192.0.2.2"
2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2 A 127.0.0.3
listed.mail.test  A   127.0.1.2
"""
# A list answering every query with Spamhaus' "public resolver" code, one whose resolver
# rewrites NXDOMAIN to an ad server, and a URIBL-style refusal.
REFUSING = f"""
$ORIGIN refusing.test.
{SOA}
*  A 127.255.255.254
"""
HIJACKED = f"""
$ORIGIN hijacked.test.
{SOA}
*  A 198.51.100.7
"""
URIBL = f"""
$ORIGIN uribl.test.
{SOA}
*  A 127.0.0.1
"""


@pytest.fixture
def zones(dns_server: LocalDNSServer) -> LocalDNSServer:
    for text in (DOMAINS, REVERSE, REVERSE6, BLOCKLISTS, REFUSING, HIJACKED, URIBL):
        dns_server.add_zone(text)
    return dns_server


def run(
    resolver_factory: ResolverFactory,
    domain: str,
    *,
    ips: tuple[str, ...] = (),
    ip_lists: tuple[str, ...] = (),
    domain_lists: tuple[str, ...] = (),
) -> DomainCheck:
    options = CheckOptions(
        sending_ips=tuple(ip_address(ip) for ip in ips),
        ip_blocklists=ip_lists,
        domain_blocklists=domain_lists,
    )
    resolver = resolver_factory(timeout=1.0, lifetime=2.0)
    return asyncio.run(check_domain(domain, resolver=resolver, options=options, sections=("mx",)))


def mx_records(result: DomainCheck) -> list[tuple[str, Status]]:
    """The findings about where mail goes, without the no-sending-IPs note."""
    return [(item.id, item.status) for item in result.findings if item.id != "mx.no_sending_ips"]


def only(result: DomainCheck, finding_id: str) -> Finding:
    (found,) = [item for item in result.findings if item.id == finding_id]
    return found


def test_mx_records_pass_with_their_exchanges_in_preference_order(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "ok.mail.test")
    assert mx_records(result) == [("mx.ok", Status.PASS)]
    assert only(result, "mx.ok").values["exchanges"] == "mx1.ok.mail.test, mx2.ok.mail.test"


def test_missing_mx_warns_that_mail_falls_back_to_the_address(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "implicit.mail.test")
    assert mx_records(result) == [("mx.missing", Status.WARN)]
    assert only(result, "mx.missing").values["addresses"] == "192.0.2.30"


@pytest.mark.parametrize("domain", ["nothing.mail.test", "nxdomain.mail.test"])
def test_no_mx_and_no_address_fails(
    zones: LocalDNSServer, resolver_factory: ResolverFactory, domain: str
) -> None:
    assert mx_records(run(resolver_factory, domain)) == [("mx.missing_no_address", Status.FAIL)]


def test_null_mx_is_information(zones: LocalDNSServer, resolver_factory: ResolverFactory) -> None:
    result = run(resolver_factory, "null.mail.test")
    assert mx_records(result) == [("mx.null", Status.INFO)]
    assert only(result, "mx.null").evidence == ("null.mail.test MX .",)


def test_null_mx_beside_other_mx_fails(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "mixed.mail.test")
    assert mx_records(result) == [("mx.null_mixed", Status.FAIL)]
    assert only(result, "mx.null_mixed").values["exchanges"] == "mx1.ok.mail.test"


def test_host_without_address_warns_while_another_host_works(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "dangling.mail.test")
    assert mx_records(result) == [("mx.ok", Status.PASS), ("mx.host_unresolvable", Status.WARN)]
    assert only(result, "mx.host_unresolvable").values["host"] == "gone.dangling.mail.test"


def test_host_without_address_fails_when_no_host_works(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "allgone.mail.test")
    assert mx_records(result) == [("mx.ok", Status.PASS), ("mx.host_unresolvable", Status.FAIL)]


def test_ip_address_as_mx_target_fails(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "literal.mail.test")
    assert mx_records(result) == [("mx.ok", Status.PASS), ("mx.ip_literal", Status.FAIL)]
    assert not any(name.startswith("192.0.2.25.") for name, _ in zones.queries)


def test_mx_lookup_failure_is_a_dns_error_of_the_section(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zones.fail("ok.mail.test", "servfail", "MX")
    result = run(resolver_factory, "ok.mail.test")
    assert mx_records(result) == [("mx.dns_error", Status.WARN)]


def test_without_sending_ips_the_section_says_what_it_did_not_check(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "ok.mail.test", ip_lists=("zen.test",))
    assert only(result, "mx.no_sending_ips").status is Status.INFO
    assert not any(name.endswith(".zen.test.") for name, _ in zones.queries)


@pytest.mark.parametrize(
    ("ip", "finding", "ptr"),
    [
        ("192.0.2.25", "mx.fcrdns_ok", "mail.mail.test"),
        ("2001:db8::25", "mx.fcrdns_ok", "mail6.mail.test"),
        ("192.0.2.26", "mx.fcrdns_mismatch", "liar.mail.test"),
        ("192.0.2.28", "mx.fcrdns_mismatch", "nowhere.mail.test"),
        ("192.0.2.27", "mx.fcrdns_missing", None),
    ],
)
def test_reverse_dns_of_sending_ips_is_forward_confirmed(
    zones: LocalDNSServer,
    resolver_factory: ResolverFactory,
    ip: str,
    finding: str,
    ptr: str | None,
) -> None:
    result = run(resolver_factory, "ok.mail.test", ips=(ip,))
    found = only(result, finding)
    assert found.status is (Status.PASS if finding == "mx.fcrdns_ok" else Status.FAIL)
    assert found.values.get("ptr") == ptr
    assert found.values["ip"] == ip


def test_mismatch_names_where_the_ptr_name_really_points(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "ok.mail.test", ips=("192.0.2.26",))
    mismatch = only(result, "mx.fcrdns_mismatch")
    assert mismatch.values["addresses"] == "192.0.2.99"
    assert mismatch.evidence == ("192.0.2.26 PTR liar.mail.test", "liar.mail.test A 192.0.2.99")


def test_listed_ip_fails_naming_zone_codes_and_reason(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "ok.mail.test", ips=("192.0.2.2",), ip_lists=("zen.test",))
    listed = only(result, "mx.ip_listed")
    assert listed.status is Status.FAIL
    assert dict(listed.values) == {
        "ip": "192.0.2.2",
        "zone": "zen.test",
        "codes": "127.0.0.2, 127.0.0.4",
        "reason": "https://zen.test/query/ip/192.0.2.2",
    }


def test_ipv6_sending_ip_is_asked_by_nibbles(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(resolver_factory, "ok.mail.test", ips=("2001:db8::2",), ip_lists=("zen.test",))
    listed = only(result, "mx.ip_listed")
    assert (listed.values["ip"], listed.values["codes"]) == ("2001:db8::2", "127.0.0.3")
    assert listed.values["reason"] == ""


def test_listed_domain_fails(zones: LocalDNSServer, resolver_factory: ResolverFactory) -> None:
    result = run(resolver_factory, "listed.mail.test", domain_lists=("zen.test",))
    listed = only(result, "mx.domain_listed")
    assert (listed.status, listed.values["domain"], listed.values["codes"]) == (
        Status.FAIL,
        "listed.mail.test",
        "127.0.1.2",
    )


def test_clean_ip_and_domain_pass_naming_the_lists_asked(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = run(
        resolver_factory,
        "ok.mail.test",
        ips=("192.0.2.25",),
        ip_lists=("zen.test",),
        domain_lists=("zen.test.",),
    )
    clean = only(result, "mx.not_listed")
    assert (clean.status, clean.values["zones"], clean.values["count"]) == (
        Status.PASS,
        "zen.test",
        2,
    )
    assert "25.2.0.192.zen.test A: not listed" in clean.evidence


@pytest.mark.parametrize(
    ("zone", "answer"),
    [
        ("refusing.test", "127.255.255.254"),
        ("hijacked.test", "198.51.100.7"),
        ("uribl.test", "127.0.0.1"),
        ("unserved.test", "REFUSED"),
    ],
)
def test_refusals_and_foreign_answers_are_not_listings(
    zones: LocalDNSServer, resolver_factory: ResolverFactory, zone: str, answer: str
) -> None:
    result = run(resolver_factory, "ok.mail.test", ips=("192.0.2.25",), domain_lists=(zone,))
    assert not [item for item in result.findings if item.id.endswith("_listed")]
    unusable = only(result, "mx.blocklist_unusable")
    assert (unusable.status, unusable.values["zone"]) == (Status.INFO, zone)
    assert answer in str(unusable.values["answer"])


def test_one_failing_zone_does_not_spoil_the_others(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zones.fail("2.2.0.192.hijacked.test", "timeout")
    zones.fail("2.2.0.192.refusing.test", "servfail")
    result = run(
        resolver_factory,
        "listed.mail.test",
        ips=("192.0.2.2",),
        ip_lists=("hijacked.test", "refusing.test", "zen.test"),
        domain_lists=("zen.test",),
    )
    assert only(result, "mx.ip_listed").values["zone"] == "zen.test"
    assert only(result, "mx.domain_listed").values["zone"] == "zen.test"
    unusable = [item.values["zone"] for item in result.findings if item.id.endswith("unusable")]
    assert sorted(unusable) == ["hijacked.test", "refusing.test"]


def test_blocklists_are_asked_concurrently(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zones.latency = 0.3
    ips = tuple(f"192.0.2.{number}" for number in range(100, 112))
    result = run(resolver_factory, "ok.mail.test", ips=ips, ip_lists=("zen.test",))
    # The 12 blocklist and 12 PTR lookups one after another would take over seven seconds.
    assert result.seconds < 3.5
    assert only(result, "mx.not_listed").values["count"] == len(ips)


def test_every_finding_fills_exactly_the_values_its_words_name(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zones.fail("ok.mail.test", "servfail", "MX")
    seen: list[Finding] = []
    for domain in (
        "ok.mail.test",
        "implicit.mail.test",
        "nothing.mail.test",
        "null.mail.test",
        "mixed.mail.test",
        "dangling.mail.test",
        "literal.mail.test",
    ):
        seen += run(resolver_factory, domain).findings
    seen += run(
        resolver_factory,
        "listed.mail.test",
        ips=("192.0.2.2", "192.0.2.25", "192.0.2.26", "192.0.2.27"),
        ip_lists=("zen.test", "refusing.test"),
        domain_lists=("zen.test",),
    ).findings
    assert {item.name for item in seen} == set(FINDINGS)
    for item in seen:
        assert set(item.values) == FINDINGS[item.name], item.id


def test_cli_reports_listing_and_reverse_dns_in_japanese(
    zones: LocalDNSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TODOKE_CONFIG_FILE", "")
    monkeypatch.setenv("TODOKE_SENDING_IPS", '["192.0.2.2", "192.0.2.25"]')
    monkeypatch.setenv("TODOKE_CHECK_IP_BLOCKLISTS", '["zen.test"]')
    monkeypatch.setenv("TODOKE_CHECK_DOMAIN_BLOCKLISTS", '["zen.test"]')
    app = typer.Typer()
    app.add_typer(domain_app, name="domain")
    command = ["domain", "check", "listed.mail.test", "--nameserver", str(zones.nameserver)]
    result = CliRunner().invoke(app, [*command, "--json", "--lang", "ja"])
    assert result.exit_code == 0, result.output
    findings = {
        item["id"]: item
        for item in json.loads(result.stdout)["findings"]
        if item["section"] == "mx" and item["values"].get("ip") != "192.0.2.25"
    }
    listed = findings["mx.ip_listed"]
    assert (
        listed["message"]
        == "送信元 IP 192.0.2.2 が zen.test に掲載されています（応答 127.0.0.2, 127.0.0.4）"
    )
    assert "https://zen.test/query/ip/192.0.2.2" in listed["advice"]
    assert findings["mx.fcrdns_missing"]["message"].startswith("送信元 IP 192.0.2.2 に PTR")
    assert findings["mx.domain_listed"]["status"] == "fail"
