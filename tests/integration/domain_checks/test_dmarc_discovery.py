"""DMARC policy discovery (RFC 9989 DNS Tree Walk and RFC 7489 PSL) against the local DNS server."""

from __future__ import annotations

import asyncio

import pytest

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.domains.checks.context import CheckContext, CheckOptions
from todoke.domains.checks.dmarc_discovery import (
    Discovery,
    DmarcPolicy,
    discover,
    discover_policy,
    walk_names,
)
from todoke.domains.spf.lookup import DnsCache, DnsLookupError

# One zone at the top-level domain, so the walk can reach _dmarc.test as RFC 9989 requires.
ZONE = """
$ORIGIN test.
@                     IN SOA ns1 hostmaster 1 3600 600 86400 120
_dmarc.own            IN TXT "v=DMARC1; p=reject; rua=mailto:d@own.test"
_dmarc.inherit        IN TXT "v=DMARC1; p=reject; sp=quarantine; pct=50; t=y"
_dmarc.both           IN TXT "v=DMARC1; p=reject"
_dmarc.sub.both       IN TXT "v=DMARC1; p=none"
_dmarc.sub.split      IN TXT "v=DMARC1; p=quarantine"
_dmarc.bank           IN TXT "v=DMARC1; p=reject; psd=y"
_dmarc.giant.bank     IN TXT "v=DMARC1; p=none"
_dmarc.multi          IN TXT "v=DMARC1; p=reject"
_dmarc.multi          IN TXT "v=DMARC1; p=none"
_dmarc.badp-rua       IN TXT "v=DMARC1; p=block; rua=mailto:d@badp-rua.test"
_dmarc.badp           IN TXT "v=DMARC1; p=block"
_dmarc.lower          IN TXT "v=dmarc1; p=reject"
_dmarc.noise          IN TXT "google-site-verification=abc"
_dmarc.noise          IN TXT "v=DMARC1; p=quarantine"
_dmarc.stop           IN TXT "v=DMARC1; p=reject; psd=n"
_dmarc.deep           IN TXT "v=DMARC1; p=quarantine"
"""


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


def context(resolver_factory: ResolverFactory, domain: str) -> CheckContext:
    return CheckContext(domain=domain, dns=DnsCache(resolver_factory()), options=CheckOptions())


def policy(resolver_factory: ResolverFactory, domain: str) -> DmarcPolicy | None:
    return asyncio.run(discover_policy(context(resolver_factory, domain), domain))


def discovery(resolver_factory: ResolverFactory, domain: str) -> Discovery:
    return asyncio.run(discover(context(resolver_factory, domain), domain))


def test_own_record_applies_with_its_tags(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = policy(resolver_factory, "own.test")
    assert found == DmarcPolicy(
        record="v=DMARC1; p=reject; rua=mailto:d@own.test",
        tags={"v": "DMARC1", "p": "reject", "rua": "mailto:d@own.test"},
        found_at="own.test",
        organisational_domain="own.test",
        p="reject",
        sp=None,
        np=None,
        pct=100,
        testing=False,
    )


def test_subdomain_without_record_inherits_the_organisational_policy(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = policy(resolver_factory, "mail.inherit.test")
    assert found is not None
    assert (found.found_at, found.organisational_domain) == ("inherit.test", "inherit.test")
    assert (found.p, found.sp, found.pct, found.testing) == ("reject", "quarantine", 50, True)


def test_no_record_anywhere_means_no_policy(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    assert policy(resolver_factory, "nothing.test") is None


def test_organisational_record_applies_not_the_nearest_parent(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    # RFC 9989: the walk does not stop at sub.both; the shortest name with a record wins.
    found = discovery(resolver_factory, "a.sub.both.test")
    assert (found.organisational_domain, found.policy_domain) == ("both.test", "both.test")
    assert (found.psl_organisational_domain, found.psl_policy_domain) == (
        "both.test",
        "both.test",
    )


def test_tree_walk_and_public_suffix_list_can_disagree(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = discovery(resolver_factory, "a.sub.split.test")
    assert (found.organisational_domain, found.policy_domain) == (
        "sub.split.test",
        "sub.split.test",
    )
    assert (found.psl_organisational_domain, found.psl_policy_domain) == ("split.test", None)


def test_psd_record_makes_the_name_below_it_the_organisational_domain(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    giant = discovery(resolver_factory, "mail.giant.bank.test")
    assert (giant.organisational_domain, giant.policy_domain) == (
        "giant.bank.test",
        "giant.bank.test",
    )
    assert [item.domain for item in giant.walk] == [
        "mail.giant.bank.test",
        "giant.bank.test",
        "bank.test",
    ]
    mega = discovery(resolver_factory, "mail.mega.bank.test")
    # The organisational domain has no record, so the public suffix domain's record applies.
    assert (mega.organisational_domain, mega.policy_domain) == ("mega.bank.test", "bank.test")


def test_psd_n_stops_the_walk_before_the_top_level_domain(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("_dmarc.test", "servfail")
    found = discovery(resolver_factory, "x.stop.test")
    assert [item.domain for item in found.walk] == ["x.stop.test", "stop.test"]
    assert found.organisational_domain == "stop.test"


def test_several_records_are_all_discarded(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = discovery(resolver_factory, "multi.test")
    assert len(found.own.records) == 2
    assert (found.policy_domain, found.psl_policy_domain) == (None, None)


def test_other_txt_records_at_dmarc_name_are_ignored(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = policy(resolver_factory, "noise.test")
    assert found is not None
    assert found.p == "quarantine"


def test_lower_case_version_is_not_a_dmarc_record(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    assert policy(resolver_factory, "lower.test") is None


def test_invalid_policy_counts_as_none_only_with_a_usable_rua(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    with_rua = policy(resolver_factory, "badp-rua.test")
    assert with_rua is not None
    assert with_rua.p == "none"
    assert policy(resolver_factory, "badp.test") is None


def test_long_names_jump_to_seven_labels_and_ask_at_most_eight_names(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    domain = "a.b.c.d.e.f.g.h.deep.test"
    found = policy(resolver_factory, domain)
    assert found is not None
    assert found.found_at == "deep.test"
    asked = {name for name, qtype in zone.queries if qtype == "TXT"}
    assert asked == {f"_dmarc.{name}." for name in walk_names(domain)}
    assert len(asked) == 8
    assert "_dmarc.b.c.d.e.f.g.h.deep.test." not in asked


def test_walk_names_follow_rfc_9989() -> None:
    assert walk_names("a.mail.example.com") == (
        "a.mail.example.com",
        "mail.example.com",
        "example.com",
        "com",
    )
    assert walk_names("a.b.c.d.e.f.g.h.i.j.mail.example.com")[:3] == (
        "a.b.c.d.e.f.g.h.i.j.mail.example.com",
        "g.h.i.j.mail.example.com",
        "h.i.j.mail.example.com",
    )
    assert len(walk_names("a.b.c.d.e.f.g.h.i.j.mail.example.com")) == 8


def test_dns_failure_at_the_domain_raises(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("_dmarc.own.test", "servfail")
    with pytest.raises(DnsLookupError):
        policy(resolver_factory, "own.test")
