"""The record generator against zones served by the local DNS server, checked by pyspf."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import dns.resolver
import pytest
import spf  # type: ignore[import-untyped]
import typer
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.cli.domain import domain_app
from todoke.domains.records import ProposedRecord, RecordPlan, SendingProfile, plan_records
from todoke.domains.spf.lookup import DnsCache

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
PROFILE = SendingProfile(
    spf_terms=("ip4:203.0.113.10",),
    dkim_keys=(("todoke1", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="),),
    report_address="dmarc@reports.todoke.example",
    tls_report_address="tlsrpt@reports.todoke.example",
)
ZONES = """
$ORIGIN sending.test.
@     IN SOA ns1 hostmaster 1 3600 600 86400 120
@     IN TXT "v=spf1 include:_spf.partner.test ~all"
@     IN MX 10 mx1.sending.test.
@     IN MX 20 mx2.sending.test.
_dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@sending.test; adkim=s"

$ORIGIN partner.test.
@     IN SOA ns1 hostmaster 1 3600 600 86400 120
_spf  IN TXT "v=spf1 ip4:198.51.100.0/24 -all"

$ORIGIN twice.test.
@     IN SOA ns1 hostmaster 1 3600 600 86400 120
@     IN TXT "v=spf1 ip4:192.0.2.1 -all"
@     IN TXT "v=spf1 include:_spf.partner.test -all"

$ORIGIN fresh.test.
@     IN SOA ns1 hostmaster 1 3600 600 86400 120

$ORIGIN parked.test.
@     IN SOA ns1 hostmaster 1 3600 600 86400 120
@     IN TXT "v=spf1 a ~all"
_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@reports.todoke.example"

$ORIGIN inbox-only.test.
@     IN SOA ns1 hostmaster 1 3600 600 86400 120
@     IN MX 10 mx.inbox-only.test.
"""


@pytest.fixture
def zones(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONES)
    return dns_server


def plan(
    resolver_factory: ResolverFactory,
    domain: str,
    *,
    sends_mail: bool = True,
    profile: SendingProfile = PROFILE,
) -> RecordPlan:
    return asyncio.run(
        plan_records(
            domain,
            dns=DnsCache(resolver_factory()),
            sends_mail=sends_mail,
            profile=profile,
            locale="en",
            now=NOW,
        )
    )


def record(result: RecordPlan, purpose: str) -> ProposedRecord:
    (found,) = [item for item in result.records if item.purpose == purpose]
    return found


def pyspf(server: LocalDNSServer, ip: str, domain: str, monkeypatch: pytest.MonkeyPatch) -> str:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    monkeypatch.setattr(dns.resolver, "default_resolver", resolver)
    result, _code, _text = spf.query(i=ip, s=f"news@{domain}", h=f"mail.{domain}").check()
    return str(result)


def test_spf_keeps_other_senders_and_adds_todoke_before_all(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    spf_record = record(plan(resolver_factory, "sending.test"), "spf")
    assert spf_record.action == "replace"
    assert spf_record.value == "v=spf1 include:_spf.partner.test ip4:203.0.113.10 ~all"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_published_merge_passes_both_senders_in_pyspf(
    zones: LocalDNSServer, resolver_factory: ResolverFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged = record(plan(resolver_factory, "twice.test"), "spf")
    zones.replace_zones(
        ZONES.replace('@     IN TXT "v=spf1 ip4:192.0.2.1 -all"\n', "").replace(
            '@     IN TXT "v=spf1 include:_spf.partner.test -all"',
            f'@     IN TXT "{merged.value}"',
        )
    )
    assert [
        pyspf(zones, ip, "twice.test", monkeypatch)
        for ip in ("192.0.2.1", "198.51.100.7", "203.0.113.10", "192.0.2.99")
    ] == ["pass", "pass", "pass", "fail"]
    assert "2 SPF records" in merged.note


def test_dmarc_keeps_the_owners_policy_and_adds_the_report_address(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    dmarc = record(plan(resolver_factory, "sending.test"), "dmarc")
    assert dmarc.action == "replace"
    assert dmarc.value == (
        "v=DMARC1; p=quarantine; rua=mailto:d@sending.test,mailto:dmarc@reports.todoke.example;"
        " adkim=s"
    )


def test_outside_report_address_needs_authorisation_in_its_own_zone(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    authorisation = record(plan(resolver_factory, "sending.test"), "dmarc_authorisation")
    assert authorisation.name == "sending.test._report._dmarc.reports.todoke.example"
    assert authorisation.value == "v=DMARC1"
    inside = SendingProfile(report_address="dmarc@reports.sending.test")
    purposes = {r.purpose for r in plan(resolver_factory, "sending.test", profile=inside).records}
    assert "dmarc_authorisation" not in purposes


def test_mta_sts_policy_lists_the_real_mx_hosts(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = plan(resolver_factory, "sending.test")
    assert result.files == (
        (
            "https://mta-sts.sending.test/.well-known/mta-sts.txt",
            "version: STSv1\nmode: testing\nmx: mx1.sending.test\nmx: mx2.sending.test\n"
            "max_age: 604800\n",
        ),
    )
    assert record(result, "mta_sts").value == "v=STSv1; id=20261123093000"


def test_new_domain_gets_every_record_added(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = plan(resolver_factory, "fresh.test")
    actions = {item.purpose: (item.action, item.value) for item in result.records}
    assert actions["spf"] == ("add", "v=spf1 ip4:203.0.113.10 ~all")
    assert actions["dmarc"] == ("add", "v=DMARC1; p=none; rua=mailto:dmarc@reports.todoke.example")
    assert actions["dkim"][0] == "add"
    assert actions["tlsrpt"] == ("add", "v=TLSRPTv1; rua=mailto:tlsrpt@reports.todoke.example")
    assert actions["bimi"][0] == "later"
    assert "mta_sts" not in actions  # no MX: nothing for MTA-STS to protect
    assert result.files == ()


def test_domain_that_never_sends_is_locked_down(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    result = plan(resolver_factory, "parked.test", sends_mail=False)
    actions = {item.purpose: (item.action, item.value) for item in result.records}
    assert actions["spf"] == ("replace", "v=spf1 -all")
    assert actions["dmarc"] == (
        "replace",
        "v=DMARC1; p=reject; sp=reject; adkim=s; aspf=s; rua=mailto:dmarc@reports.todoke.example",
    )
    assert actions["mx"] == ("add", "0 .")
    assert actions["dkim_revoke"] == ("add", "v=DKIM1; p=")


def test_never_sending_domain_that_receives_mail_keeps_its_mx(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    mx = record(plan(resolver_factory, "inbox-only.test", sends_mail=False), "mx")
    assert mx.action == "keep"
    assert mx.current == ("mx.inbox-only.test",)


def test_published_plan_is_kept_on_the_second_run(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    first = plan(resolver_factory, "parked.test", sends_mail=False)
    lines = [
        f'{item.name}. IN TXT "{item.value}"'
        for item in first.records
        if item.rdtype == "TXT" and item.purpose not in ("dmarc_authorisation", "dkim_revoke")
    ]
    zone = "$ORIGIN parked.test.\n@ IN SOA ns1 hostmaster 1 3600 600 86400 120\n@ IN MX 0 .\n"
    zones.replace_zones(zone + "\n".join(f"$ORIGIN .\n{line}" for line in lines) + "\n")
    second = plan(resolver_factory, "parked.test", sends_mail=False)
    assert {
        item.purpose: item.action for item in second.records if item.purpose != "dkim_revoke"
    } == {
        "spf": "keep",
        "dmarc": "keep",
        "mx": "keep",
        "dmarc_authorisation": "add",
    }


def test_long_txt_values_are_split_into_255_octet_strings() -> None:
    value = "v=DKIM1; k=rsa; p=" + "A" * 400
    line = ProposedRecord("dkim", "s1._domainkey.example.jp", "TXT", value, "add").zone_line
    strings = line.split(" TXT ", 1)[1]
    parts = json.loads("[" + strings.replace('" "', '", "') + "]")
    assert [len(part) for part in parts] == [255, len(value) - 255]
    assert "".join(parts) == value


def test_cli_prints_the_plan_as_json_with_japanese_notes(
    zones: LocalDNSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TODOKE_SENDING_IPS", '["203.0.113.10"]')
    monkeypatch.setenv("TODOKE_RECEIVER_DOMAIN", "reports.todoke.example")
    app = typer.Typer()
    app.add_typer(domain_app, name="domain")
    result = CliRunner().invoke(
        app,
        [
            "domain",
            "records",
            "fresh.test",
            "--nameserver",
            str(zones.nameserver),
            "--json",
            "--lang",
            "ja",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    spf_record = next(item for item in body["records"] if item["purpose"] == "spf")
    assert spf_record["zone_line"] == 'fresh.test. 3600 IN TXT "v=spf1 ip4:203.0.113.10 ~all"'
    assert "SPF レコードがありません" in spf_record["note"]
