"""The SPF section end to end: a domain per problem on the local DNS server, through
`check_domain`, cross-checked against pyspf's lookup count, and through the CLI."""

from __future__ import annotations

import asyncio
import json

import dns.resolver
import pytest
import spf as pyspf  # type: ignore[import-untyped]
import typer
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.cli.domain import domain_app
from todoke.domains.checks import DomainCheck, Status, check_domain
from todoke.domains.checks.findings import Finding
from todoke.domains.checks.spf import FINDINGS
from todoke.domains.checks.spf_tree import MAX_RECORDS

LONG_RECORD = "v=spf1 " + " ".join(f"ip4:198.51.100.{n}" for n in range(1, 31)) + " -all"
MANY_MX = "\n".join(f"mxmany IN MX {n} mx{n}.mxmany.test." for n in range(1, 12))
# Each record includes the next one twice: 2**12 records if walked naively.
FAN_OUT = "\n".join(
    f'fan{n} IN TXT "v=spf1 include:fan{n + 1}.test include:fan{n + 1}.test -all"'
    for n in range(12)
)

# A tree of 11 lookups shaped like a real one: the 11th sits two includes deep.
ZONE = f"""
$ORIGIN test.
@               IN SOA ns1 hostmaster 1 3600 600 86400 120
ok              IN TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.provider.test -all"
_spf.provider   IN TXT "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 ~all"
over            IN TXT ( "v=spf1 mx a include:_spf.esp.test include:mail.crm.test "
                         "include:_spf.extra.test include:_spf.g.test ~all" )
over            IN MX 10 mx.over.test.
over            IN A 192.0.2.10
mx.over         IN A 192.0.2.11
_spf.esp        IN TXT "v=spf1 include:_a.esp.test include:_b.esp.test -all"
_a.esp          IN TXT "v=spf1 ip4:203.0.113.0/26 -all"
_b.esp          IN TXT "v=spf1 ip4:203.0.113.64/26 -all"
mail.crm        IN TXT "v=spf1 ip4:203.0.113.128/26 -all"
_spf.extra      IN TXT "v=spf1 ip4:203.0.113.192/26 -all"
_spf.g          IN TXT "v=spf1 include:_nb1.g.test include:_nb2.g.test include:_nb3.g.test ~all"
_nb1.g          IN TXT "v=spf1 ip4:198.18.0.0/24 ~all"
_nb2.g          IN TXT "v=spf1 ip4:198.18.1.0/24 ~all"
_nb3.g          IN TXT "v=spf1 ip4:198.18.2.0/24 ~all"
eight           IN TXT "v=spf1 include:_spf.esp.test include:_spf.g.test include:mail.crm.test -all"
void            IN TXT ( "v=spf1 a:gone1.void.test a:gone2.void.test mx:host.void.test "
                         "exists:gone3.void.test -all" )
host.void       IN A 192.0.2.20
void2           IN TXT "v=spf1 a:gone.void2.test ip4:192.0.2.1 -all"
loop            IN TXT "v=spf1 include:_a.loop.test -all"
_a.loop         IN TXT "v=spf1 include:loop.test ~all"
missing         IN TXT "v=spf1 include:_spf.nowhere.test -all"
redir-missing   IN TXT "v=spf1 redirect=_spf.nowhere.test"
redir           IN TXT "v=spf1 redirect=_spf.provider.test"
multi           IN TXT "v=spf1 ip4:192.0.2.1 -all"
multi           IN TXT "v=spf1 include:_spf.provider.test -all"
syntax          IN TXT "v=spf1 ip4:192.0.2.0/33 -all"
nospf           IN TXT "google-site-verification=abc"
plusall         IN TXT "v=spf1 ip4:192.0.2.1 +all"
neutral         IN TXT "v=spf1 ip4:192.0.2.1 ?all"
noall           IN TXT "v=spf1 ip4:192.0.2.1"
ptr             IN TXT "v=spf1 ptr -all"
broad           IN TXT ( "v=spf1 ip4:10.0.0.0/8 ip4:172.16.0.0/12 ip6:2001:db8::/24 "
                         "-ip4:0.0.0.0/1 -all" )
widea           IN TXT "v=spf1 a/12 -all"
widea           IN A 192.0.2.30
provider-wide   IN TXT "v=spf1 include:_spf.bigcloud.test -all"
_spf.bigcloud   IN TXT "v=spf1 ip4:40.92.0.0/15 -all"
long            IN TXT "{LONG_RECORD}"
incall          IN TXT "v=spf1 include:_spf.lax.test -all"
_spf.lax        IN TXT "v=spf1 +all"
{MANY_MX}
mxmany          IN TXT "v=spf1 mx -all"
{FAN_OUT}
fan12           IN TXT "v=spf1 -all"
macro           IN TXT "v=spf1 exists:%{{i}}._spf.macro.test include:%{{d}}.x.test -all"
ignored         IN TXT "v=spf1 -all ip4:192.0.2.1 redirect=ok.test"
dnserr          IN TXT "v=spf1 include:_spf.broken.test ip4:192.0.2.1 -all"
"""


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


def run(resolver_factory: ResolverFactory, domain: str) -> DomainCheck:
    return asyncio.run(check_domain(domain, resolver=resolver_factory(), sections=("spf",)))


def by_id(check: DomainCheck) -> dict[str, Finding]:
    findings = check.section("spf")
    for finding in findings:
        # Every finding names exactly the values its words may use.
        assert set(finding.values) == FINDINGS[finding.name], finding
    return {finding.id: finding for finding in findings}


def test_clean_record_passes_with_record_and_count(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "ok.test"))
    assert set(found) == {"spf.ok"}
    assert found["spf.ok"].values["lookups"] == 1
    assert found["spf.ok"].evidence == ("v=spf1 ip4:192.0.2.0/24 include:_spf.provider.test -all",)


def test_eleven_lookups_fail_naming_the_chain_of_the_eleventh(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = by_id(run(resolver_factory, "over.test"))["spf.lookup_limit"]
    assert finding.status is Status.FAIL
    assert finding.values["count"] == 11
    assert finding.evidence[10] == (
        "11 (over the limit): over.test -> include:_spf.g.test -> include:_nb3.g.test"
    )
    assert finding.evidence[0] == "1: over.test -> mx"


def test_eight_to_ten_lookups_warn(zone: LocalDNSServer, resolver_factory: ResolverFactory) -> None:
    finding = by_id(run(resolver_factory, "eight.test"))["spf.lookup_limit"]
    assert (finding.status, finding.values["count"]) == (Status.WARN, 8)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    ("domain", "count"), [("over.test", 11), ("eight.test", 8), ("ok.test", 1)]
)
def test_lookup_count_matches_pyspf(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    monkeypatch: pytest.MonkeyPatch,
    domain: str,
    count: int,
) -> None:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [zone.host]
    resolver.port = zone.port
    monkeypatch.setattr(dns.resolver, "default_resolver", resolver)
    # Lax mode keeps counting past 10; an address nothing matches walks the whole tree.
    query = pyspf.query(i="233.252.0.1", s=f"x@{domain}", h="mail.example", strict=False)
    query.check()
    assert query.lookups == count
    found = by_id(run(resolver_factory, domain))
    ours = found["spf.ok"] if "spf.ok" in found else found["spf.lookup_limit"]
    assert ours.values["lookups" if "spf.ok" in found else "count"] == count


def test_more_than_two_void_lookups_fail(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = by_id(run(resolver_factory, "void.test"))["spf.void_lookups"]
    assert (finding.status, finding.values["count"]) == (Status.FAIL, 4)
    assert "void.test -> mx:host.void.test" in finding.evidence


def test_one_void_lookup_warns(zone: LocalDNSServer, resolver_factory: ResolverFactory) -> None:
    finding = by_id(run(resolver_factory, "void2.test"))["spf.void_lookups"]
    assert (finding.status, finding.evidence) == (Status.WARN, ("void2.test -> a:gone.void2.test",))


def test_include_loop_is_detected_with_its_path(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = by_id(run(resolver_factory, "loop.test"))["spf.include_loop"]
    assert finding.status is Status.FAIL
    assert finding.values == {"term": "include:loop.test", "target": "loop.test"}
    assert finding.evidence == ("loop.test -> include:_a.loop.test -> include:loop.test",)


@pytest.mark.parametrize(
    ("domain", "term"),
    [
        ("missing.test", "include:_spf.nowhere.test"),
        ("redir-missing.test", "redirect=_spf.nowhere.test"),
    ],
)
def test_include_or_redirect_without_record_fails(
    zone: LocalDNSServer, resolver_factory: ResolverFactory, domain: str, term: str
) -> None:
    finding = by_id(run(resolver_factory, domain))["spf.include_missing"]
    assert finding.status is Status.FAIL
    assert finding.values == {"domain": domain, "term": term, "target": "_spf.nowhere.test"}


def test_redirect_is_followed_for_the_all_verdict(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = by_id(run(resolver_factory, "redir.test"))
    assert found["spf.all_softfail"].values == {"domain": "_spf.provider.test", "term": "~all"}
    assert "spf.all_missing" not in found


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("nospf.test", {"spf.missing": Status.FAIL}),
        ("multi.test", {"spf.multiple": Status.FAIL}),
        ("syntax.test", {"spf.syntax": Status.FAIL}),
        ("plusall.test", {"spf.all_pass": Status.FAIL}),
        ("neutral.test", {"spf.all_neutral": Status.WARN, "spf.ok": Status.PASS}),
        ("noall.test", {"spf.all_missing": Status.WARN}),
        ("ptr.test", {"spf.ptr": Status.WARN}),
        ("broad.test", {"spf.broad_range": Status.FAIL}),
        ("widea.test", {"spf.broad_range": Status.WARN}),
        ("long.test", {"spf.too_long": Status.WARN}),
        ("incall.test", {"spf.include_pass_all": Status.FAIL}),
        ("mxmany.test", {"spf.mx_limit": Status.FAIL}),
        ("macro.test", {"spf.macros": Status.INFO}),
        ("ignored.test", {"spf.ignored_terms": Status.INFO}),
        ("provider-wide.test", {"spf.ok": Status.PASS}),
    ],
)
def test_each_problem_domain_gets_its_finding(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    domain: str,
    expected: dict[str, Status],
) -> None:
    found = by_id(run(resolver_factory, domain))
    assert {key: found[key].status for key in expected if key in found} == expected
    # spf.ok says receivers get a result: present unless something fails.
    failing = any(finding.status is Status.FAIL for finding in found.values())
    assert ("spf.ok" in found) is not failing


def test_broad_ranges_name_only_pass_ranges(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = by_id(run(resolver_factory, "broad.test"))["spf.broad_range"]
    assert finding.values["terms"] == "ip4:10.0.0.0/8, ip4:172.16.0.0/12, ip6:2001:db8::/24"


def test_syntax_error_names_the_term(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = by_id(run(resolver_factory, "syntax.test"))["spf.syntax"]
    assert "ip4:192.0.2.0/33" in str(finding.values["reason"])


def test_too_long_reports_record_and_answer_size(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = by_id(run(resolver_factory, "long.test"))["spf.too_long"]
    assert finding.values["length"] == len(LONG_RECORD)
    assert finding.values["total"] == len(LONG_RECORD) + len("long.test")


def test_dns_failure_in_an_include_is_reported_and_the_rest_still_checked(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("_spf.broken.test", "servfail")
    found = by_id(run(resolver_factory, "dnserr.test"))
    assert found["spf.dns_error"].values["name"] == "_spf.broken.test"
    assert found["spf.dns_error"].evidence == ("dnserr.test -> include:_spf.broken.test",)
    assert "spf.ok" not in found


def test_hostile_fan_out_tree_is_cut_at_the_record_budget(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    finding = by_id(run(resolver_factory, "fan0.test"))["spf.lookup_limit"]
    assert finding.status is Status.FAIL
    # Each of the records fetched holds two includes; the rest were not fetched.
    assert finding.values["count"] == 2 * MAX_RECORDS
    assert finding.evidence[-1] == (
        f"(the walk stopped after {MAX_RECORDS} records: the count is a minimum)"
    )
    assert finding.evidence[-2].startswith("... and ")
    # The shared cache asks each name once however often the tree names it.
    asked = [name for name, _ in zone.queries if name.startswith("fan")]
    assert len(asked) == len(set(asked)) < 13


def test_cli_reports_the_lookup_limit_in_japanese(zone: LocalDNSServer) -> None:
    app = typer.Typer()
    app.add_typer(domain_app, name="domain")
    result = CliRunner().invoke(
        app,
        [
            "domain",
            "check",
            "over.test",
            "--nameserver",
            str(zone.nameserver),
            "--json",
            "--lang",
            "ja",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    finding = next(item for item in body["findings"] if item["id"] == "spf.lookup_limit")
    assert finding["status"] == "fail"
    assert finding["message"] == (
        "SPF レコードの評価に DNS 問い合わせが 11 回必要です。受信側が認める上限は 10 回です。"
    )
