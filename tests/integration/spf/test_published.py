"""published_networks(): the ranges an SPF tree authorises, with what cannot be a range."""

from __future__ import annotations

import asyncio
from ipaddress import ip_network

import pytest

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.domains.spf import PublishedNetworks, published_networks

ZONE = """
$ORIGIN example.test.
@        IN SOA ns1 hostmaster 1 3600 600 86400 120
@        IN TXT ( "v=spf1 ip4:192.0.2.0/25 -ip4:192.0.2.128/25 include:_esp.example.test mx "
                  "a:web.example.test/28 redirect=_ignored.example.test -all" )
_esp     IN TXT ( "v=spf1 ip6:2001:db8:e5::/48 include:_esp2.example.test ptr "
                  "exists:%{i}.bl.example.test ~all" )
_esp2    IN TXT "v=spf1 ip4:203.0.113.7 ip4:192.0.2.0/25"
_ignored IN TXT "v=spf1 ip4:198.51.100.0/24"
@        IN MX 10 mx
mx       IN A 192.0.2.200
mx       IN AAAA 2001:db8::25
web      IN A 198.51.100.77
redir    IN TXT "v=spf1 redirect=_esp2.example.test"
loop     IN TXT "v=spf1 include:loop.example.test"
macro    IN TXT "v=spf1 include:%{d}.x.example.test ip4:192.0.2.9"
missing  IN TXT "v=spf1 include:none.example.test"
"""


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


def published(
    resolver_factory: ResolverFactory, domain: str, *, resolve_hosts: bool = False
) -> PublishedNetworks:
    return asyncio.run(published_networks(domain, resolver_factory(), resolve_hosts=resolve_hosts))


def test_pass_ranges_are_collected_through_includes_once_each(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = published(resolver_factory, "example.test")
    assert found.networks == [
        ip_network("192.0.2.0/25"),
        ip_network("2001:db8:e5::/48"),
        ip_network("203.0.113.7/32"),
    ]


def test_client_dependent_terms_are_reported(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    problems = published(resolver_factory, "example.test").problems
    assert any("'ptr'" in problem for problem in problems)
    assert any("exists:%{i}.bl.example.test" in problem for problem in problems)


def test_hosts_of_a_and_mx_are_added_on_request_with_their_prefixes(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = published(resolver_factory, "example.test", resolve_hosts=True)
    assert ip_network("192.0.2.200/32") in found.networks
    assert ip_network("2001:db8::25/128") in found.networks
    assert ip_network("198.51.100.64/28") in found.networks


def test_redirect_is_followed_only_without_all(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    assert ip_network("198.51.100.0/24") not in published(resolver_factory, "example.test").networks
    assert published(resolver_factory, "redir.example.test").networks == [
        ip_network("203.0.113.7/32"),
        ip_network("192.0.2.0/25"),
    ]


def test_include_loop_stops_at_the_lookup_limit(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    found = published(resolver_factory, "loop.example.test")
    assert found.networks == []
    assert any("limit of 10" in problem for problem in found.problems)


@pytest.mark.parametrize(
    ("domain", "problem"),
    [("macro.example.test", "macros"), ("missing.example.test", "none.example.test: 0 SPF")],
)
def test_unfollowable_includes_are_problems_not_failures(
    zone: LocalDNSServer, resolver_factory: ResolverFactory, domain: str, problem: str
) -> None:
    found = published(resolver_factory, domain)
    assert any(problem in text for text in found.problems), found.problems
