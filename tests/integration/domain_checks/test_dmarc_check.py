"""The DMARC section end to end: a domain per problem on the local DNS server, through
`check_domain` and through the CLI."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import pytest
import typer
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.cli.domain import domain_app
from todoke.domains.checks import DomainCheck, Status, check_domain
from todoke.domains.checks.dmarc import FINDINGS
from todoke.domains.checks.findings import Finding

ZONE = """
$ORIGIN test.
@                 IN SOA ns1 hostmaster 1 3600 600 86400 120
_dmarc.reject     IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@reject.test"
_dmarc.quarantine IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@quarantine.test"
_dmarc.none       IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@none.test"
nodmarc           IN TXT "v=spf1 -all"
_dmarc.multi      IN TXT "v=DMARC1; p=reject; rua=mailto:a@multi.test"
_dmarc.multi      IN TXT "v=DMARC1; p=none; rua=mailto:a@multi.test"
_dmarc.lower      IN TXT "v=dmarc1; p=reject; rua=mailto:a@lower.test"
_dmarc.inherit    IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@inherit.test"
_dmarc.tags       IN TXT ( "v=DMARC1; p=reject; sp=none; np=reject; adkim=x; aspf=s; foo=bar; "
                           "pct=50; ri=86400; rf=afrf; rua=mailto:d@tags.test" )
_dmarc.dup        IN TXT "v=DMARC1; p=reject; p=none; rua=mailto:d@dup.test"
_dmarc.fullwidth  IN TXT "v=DMARC1; p=reject；rua=mailto:d@fullwidth.test"
_dmarc.testing    IN TXT "v=DMARC1; p=quarantine; t=y; rua=mailto:d@testing.test"
_dmarc.psdy       IN TXT "v=DMARC1; p=reject; psd=y; rua=mailto:d@psdy.test"
_dmarc.norua      IN TXT "v=DMARC1; p=reject"
_dmarc.baduri     IN TXT ( "v=DMARC1; p=reject; rua=dmarc@baduri.test, "
                           "https://reports.baduri.test/x, mailto:d@baduri.test!10m" )
_dmarc.badp       IN TXT "v=DMARC1; p=block; rua=mailto:d@badp.test"
_dmarc.nop        IN TXT "v=DMARC1; rua=mailto:d@nop.test"
_dmarc.late-p     IN TXT "v=DMARC1; rua=mailto:d@late-p.test; p=reject"
_dmarc.ext        IN TXT ( "v=DMARC1; p=reject; rua=mailto:agg@reports.partner.test,"
                           "mailto:d@ext.test,mailto:e@mail.ext.test; "
                           "ruf=mailto:f@forensic.other.test,mailto:agg@reports.partner.test" )
ext.test._report._dmarc.reports.partner IN TXT "v=DMARC1;"
_dmarc.extdns     IN TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.partner.test"
_dmarc.sub.split  IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@split.test"
_dmarc.both       IN TXT "v=DMARC1; p=reject; rua=mailto:d@both.test"
_dmarc.sub.both   IN TXT "v=DMARC1; p=none; rua=mailto:d@both.test"
"""


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


def run(resolver_factory: ResolverFactory, domain: str) -> DomainCheck:
    return asyncio.run(check_domain(domain, resolver=resolver_factory(), sections=("dmarc",)))


def by_id(check: DomainCheck) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = defaultdict(list)
    for finding in check.section("dmarc"):
        # Every finding names exactly the values its words may use.
        assert set(finding.values) == FINDINGS[finding.name], finding
        found[finding.id].append(finding)
    return found


def one(found: dict[str, list[Finding]], finding_id: str) -> Finding:
    (finding,) = found[finding_id]
    return finding


@pytest.mark.parametrize(
    ("domain", "finding_id", "status"),
    [
        ("reject.test", "dmarc.policy_reject", Status.PASS),
        ("quarantine.test", "dmarc.policy_quarantine", Status.INFO),
        ("none.test", "dmarc.policy_none", Status.WARN),
    ],
)
def test_policy_strength_sets_the_status(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    domain: str,
    finding_id: str,
    status: Status,
) -> None:
    check = run(resolver_factory, domain)
    assert [finding.id for finding in check.section("dmarc")] == [finding_id]
    assert check.section("dmarc")[0].status is status


@pytest.mark.parametrize("domain", ["nodmarc.test", "mail.nodmarc.test"])
def test_missing_record_fails_and_says_nothing_else(
    zone: LocalDNSServer, resolver_factory: ResolverFactory, domain: str
) -> None:
    found = by_id(run(resolver_factory, domain))
    assert list(found) == ["dmarc.missing"]
    assert one(found, "dmarc.missing").status is Status.FAIL


def test_several_records_fail_and_show_each(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "multi.test"))
    finding = one(found, "dmarc.multiple")
    assert (finding.status, finding.values["count"]) == (Status.FAIL, 2)
    assert len(finding.evidence) == 2
    assert "dmarc.missing" not in found


def test_lower_case_version_is_reported_as_ignored(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = one(by_id(run(resolver_factory, "lower.test")), "dmarc.version")
    assert finding.status is Status.FAIL
    assert "case-sensitive" in finding.evidence[0]


def test_subdomain_inherits_and_sp_decides(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "mail.inherit.test"))
    inherited = one(found, "dmarc.inherited")
    assert inherited.status is Status.INFO
    assert inherited.values == {
        "domain": "mail.inherit.test",
        "found_at": "inherit.test",
        "organisational_domain": "inherit.test",
    }
    assert inherited.evidence[0] == "_dmarc.mail.inherit.test: (no DMARC record)"
    policy = one(found, "dmarc.policy_quarantine")
    assert (policy.values["tag"], policy.values["found_at"]) == ("sp", "inherit.test")
    assert "dmarc.discovery_differs" not in found


def test_tag_problems_are_each_reported(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "tags.test"))
    assert one(found, "dmarc.unknown_tag").values["tag"] == "foo"
    bad = one(found, "dmarc.bad_value")
    assert (bad.status, bad.values["tag"], bad.values["value"]) == (Status.WARN, "adkim", "x")
    assert one(found, "dmarc.alignment").values == {
        "domain": "tags.test",
        "adkim": "r",
        "aspf": "s",
    }
    assert one(found, "dmarc.pct").values["pct"] == 50
    assert one(found, "dmarc.removed_tags").values["tags"] == "rf=afrf, ri=86400"
    weaker = one(found, "dmarc.subdomain_policy")
    assert (weaker.values["tag"], weaker.values["value"], weaker.values["policy"]) == (
        "sp",
        "none",
        "reject",
    )
    assert one(found, "dmarc.policy_reject").status is Status.PASS


def test_duplicate_tag_warns_and_first_value_counts(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "dup.test"))
    assert one(found, "dmarc.duplicate_tag").values["tag"] == "p"
    assert "dmarc.policy_reject" in found


def test_full_width_semicolon_breaks_the_policy(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "fullwidth.test"))
    assert "U+FF1B" in one(found, "dmarc.syntax").evidence[0]
    # p= was swallowed and no usable rua= remains: receivers apply no DMARC at all.
    assert one(found, "dmarc.policy_invalid").status is Status.FAIL
    assert not any(
        key.startswith("dmarc.policy_") and key != "dmarc.policy_invalid" for key in found
    )


def test_test_mode_warns_when_it_weakens_a_policy(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = one(by_id(run(resolver_factory, "testing.test")), "dmarc.testing")
    assert (finding.status, finding.values["policy"]) == (Status.WARN, "quarantine")


def test_psd_y_on_an_ordinary_domain_warns(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = one(by_id(run(resolver_factory, "psdy.test")), "dmarc.psd")
    assert (finding.status, finding.values["psd"]) == (Status.WARN, "y")


def test_no_rua_warns(zone: LocalDNSServer, resolver_factory: ResolverFactory) -> None:
    assert one(by_id(run(resolver_factory, "norua.test")), "dmarc.rua_missing").status is (
        Status.WARN
    )


def test_report_uris_are_checked_one_by_one(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "baduri.test"))
    invalid = one(found, "dmarc.uri_invalid")
    assert invalid.values["uri"] == "dmarc@baduri.test"
    assert "mailto:dmarc@baduri.test" in invalid.evidence[0]
    assert one(found, "dmarc.uri_unsupported").values["uri"] == "https://reports.baduri.test/x"
    assert one(found, "dmarc.uri_size").values["size"] == "10m"
    assert "dmarc.rua_missing" not in found


def test_invalid_policy_with_rua_counts_as_none(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "badp.test"))
    assert one(found, "dmarc.bad_value").status is Status.FAIL
    assert one(found, "dmarc.policy_invalid").status is Status.WARN
    assert one(found, "dmarc.policy_none").values["policy"] == "none"


def test_missing_p_is_reported(zone: LocalDNSServer, resolver_factory: ResolverFactory) -> None:
    found = by_id(run(resolver_factory, "nop.test"))
    assert one(found, "dmarc.policy_invalid").status is Status.WARN
    assert "dmarc.policy_none" in found


def test_p_after_other_tags_is_noted(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "late-p.test"))
    assert one(found, "dmarc.p_position").status is Status.INFO
    assert "dmarc.policy_reject" in found


def test_external_destinations_need_their_authorisation_record(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "ext.test"))
    authorised = one(found, "dmarc.external_authorised")
    assert authorised.values == {
        "domain": "ext.test",
        "tag": "rua, ruf",
        "destination": "reports.partner.test",
        "name": "ext.test._report._dmarc.reports.partner.test",
    }
    assert authorised.evidence == ("v=DMARC1;",)
    unauthorised = one(found, "dmarc.external_unauthorised")
    assert unauthorised.status is Status.WARN
    assert (unauthorised.values["destination"], unauthorised.values["tag"]) == (
        "forensic.other.test",
        "ruf",
    )


def test_dns_failure_of_the_authorisation_lookup_is_its_own_finding(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("extdns.test._report._dmarc.reports.partner.test", "servfail")
    found = by_id(run(resolver_factory, "extdns.test"))
    assert one(found, "dmarc.dns_error").values["name"] == (
        "extdns.test._report._dmarc.reports.partner.test"
    )
    assert "dmarc.policy_reject" in found


def test_disagreeing_discoveries_warn_when_one_finds_nothing(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "a.sub.split.test"))
    differs = one(found, "dmarc.discovery_differs")
    assert differs.status is Status.WARN
    assert differs.values == {
        "domain": "a.sub.split.test",
        "tree_walk": "sub.split.test",
        "psl": "-",
        "tree_walk_org": "sub.split.test",
        "psl_org": "split.test",
    }
    assert one(found, "dmarc.inherited").values["found_at"] == "sub.split.test"


def test_organisational_record_wins_over_a_nearer_parent(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "a.sub.both.test"))
    assert one(found, "dmarc.inherited").values["found_at"] == "both.test"
    assert one(found, "dmarc.policy_reject").values["tag"] == "p"
    assert "dmarc.discovery_differs" not in found


def test_cli_explains_an_inherited_policy_in_japanese(zone: LocalDNSServer) -> None:
    app = typer.Typer()
    app.add_typer(domain_app, name="domain")
    result = CliRunner().invoke(
        app,
        [
            "domain",
            "check",
            "mail.inherit.test",
            "--nameserver",
            str(zone.nameserver),
            "--json",
            "--lang",
            "ja",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    finding = next(item for item in body["findings"] if item["id"] == "dmarc.inherited")
    assert finding["message"] == (
        "mail.inherit.test には独自の DMARC レコードがなく、inherit.test のレコードが適用されます"
        "（組織ドメイン: inherit.test）。"
    )
