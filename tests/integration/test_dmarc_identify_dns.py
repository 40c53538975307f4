"""PtrResolver and published SPF ranges against the local authoritative DNS server."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network

import dns.asyncresolver
import pytest

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.core.clock import FrozenClock
from todoke.dmarc.identify import (
    Expander,
    OwnSource,
    PtrResolver,
    catalogue_networks,
    identify_source,
    own_index,
    parse_catalogue,
)

REVERSE_V4 = """
    $ORIGIN 2.0.192.in-addr.arpa.
    $TTL 7200
    @   IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
    25  IN PTR mx.example.test.
    26  IN PTR spoof.example.test.
    30  IN TXT "no ptr here"
    40  IN PTR broken.example.test.
    50  IN PTR slow.example.test.
"""
# 2001:db8::25, nibble by nibble (RFC 3596 §2.5).
REVERSE_V6 = """
    $ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
    @ IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
    5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 600 IN PTR MX6.Example.Test.
"""
FORWARD = """
    $ORIGIN example.test.
    @     IN SOA ns1 hostmaster 1 3600 600 86400 300
    mx    IN A 192.0.2.25
    mx6   IN AAAA 2001:db8::25
    spoof IN A 198.51.100.1
"""


def reverse_name(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa."


@pytest.fixture
def zones(dns_server: LocalDNSServer) -> LocalDNSServer:
    for text in (REVERSE_V4, REVERSE_V6, FORWARD):
        dns_server.add_zone(text)
    return dns_server


@pytest.fixture
def resolver(
    zones: LocalDNSServer, resolver_factory: ResolverFactory
) -> dns.asyncresolver.Resolver:
    return resolver_factory(timeout=2.0, lifetime=4.0)


def test_answers_carry_the_status_of_each_lookup(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    zones.fail("40.2.0.192.in-addr.arpa", "servfail")
    ptr = PtrResolver(resolver)
    answers = asyncio.run(
        ptr.lookup_many(
            ["192.0.2.25", "2001:db8::25", "192.0.2.99", "192.0.2.30", "192.0.2.40"],
            deadline_s=5,
        )
    )
    assert {ip: (a.status, a.name) for ip, a in answers.items()} == {
        "192.0.2.25": ("ok", "mx.example.test"),
        "2001:db8::25": ("ok", "mx6.example.test"),
        "192.0.2.99": ("nxdomain", None),
        "192.0.2.30": ("nodata", None),
        "192.0.2.40": ("servfail", None),
    }


def test_silent_nameserver_ends_in_timeout_at_the_deadline(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    zones.fail("50.2.0.192.in-addr.arpa", "timeout")
    ptr = PtrResolver(resolver)
    started = time.monotonic()
    answers = asyncio.run(ptr.lookup_many(["192.0.2.50", "192.0.2.25"], deadline_s=0.5))
    elapsed = time.monotonic() - started
    assert answers["192.0.2.50"].status == "timeout"
    assert answers["192.0.2.25"].status == "ok"
    # The resolver alone would wait its 4 s lifetime.
    assert 0.4 <= elapsed < 1.2


def test_deadline_bounds_queued_lookups_too(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    zones.latency = 0.3
    ptr = PtrResolver(resolver, concurrency=1)
    started = time.monotonic()
    answers = asyncio.run(
        ptr.lookup_many(["192.0.2.25", "192.0.2.26", "192.0.2.99"], deadline_s=0.45)
    )
    elapsed = time.monotonic() - started
    # One query at a time at 0.3 s each: the first finishes, the rest run out of time.
    assert [answers[ip].status for ip in ("192.0.2.25", "192.0.2.26", "192.0.2.99")] == [
        "ok",
        "timeout",
        "timeout",
    ]
    assert elapsed < 1.0


def test_concurrent_queries_are_bounded(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    zones.latency = 0.15
    ips = [f"192.0.2.{n}" for n in range(100, 108)]
    started = time.monotonic()
    asyncio.run(PtrResolver(resolver, concurrency=2).lookup_many(ips, deadline_s=5))
    bounded = time.monotonic() - started
    started = time.monotonic()
    asyncio.run(PtrResolver(resolver, concurrency=8).lookup_many(ips, deadline_s=5))
    wide = time.monotonic() - started
    # Eight lookups two at a time take four rounds; eight at a time, about one.
    assert bounded >= 0.55
    assert wide < bounded


def test_cache_hit_sends_no_second_query(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    ptr = PtrResolver(resolver)
    first = asyncio.run(ptr.lookup_many(["192.0.2.25", "192.0.2.99"], deadline_s=5))
    second = asyncio.run(ptr.lookup_many(["192.0.2.25", "192.0.2.99"], deadline_s=5))
    assert first == second
    assert zones.queries.count((reverse_name("192.0.2.25"), "PTR")) == 1
    assert zones.queries.count((reverse_name("192.0.2.99"), "PTR")) == 1


def test_duplicate_addresses_in_one_call_are_queried_once(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    answers = asyncio.run(
        PtrResolver(resolver).lookup_many(["2001:db8::25", "2001:DB8:0::25"], deadline_s=5)
    )
    assert answers["2001:db8::25"] == answers["2001:DB8:0::25"]
    assert sum(1 for _, qtype in zones.queries if qtype == "PTR") == 1


def test_cached_answer_expires_with_the_records_ttl(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    clock = FrozenClock()
    ptr = PtrResolver(resolver, clock=clock)
    name = (reverse_name("192.0.2.25"), "PTR")
    asyncio.run(ptr.lookup_many(["192.0.2.25"], deadline_s=5))
    clock.advance(timedelta(seconds=7199))
    asyncio.run(ptr.lookup_many(["192.0.2.25"], deadline_s=5))
    assert zones.queries.count(name) == 1
    clock.advance(timedelta(seconds=2))
    asyncio.run(ptr.lookup_many(["192.0.2.25"], deadline_s=5))
    assert zones.queries.count(name) == 2


def test_short_ttl_is_raised_to_the_minimum_and_negative_answers_expire_sooner(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    clock = FrozenClock()
    ptr = PtrResolver(resolver, clock=clock, min_ttl=3600, negative_ttl=900)
    asyncio.run(ptr.lookup_many(["2001:db8::25", "192.0.2.99"], deadline_s=5))
    clock.advance(timedelta(seconds=901))
    asyncio.run(ptr.lookup_many(["2001:db8::25", "192.0.2.99"], deadline_s=5))
    ptr_queries = [q for q in zones.queries if q[1] == "PTR"]
    # The v6 record's TTL is 600 s, held for the 3600 s minimum; the NXDOMAIN for 900 s.
    assert ptr_queries.count((reverse_name("192.0.2.99"), "PTR")) == 2
    assert len(ptr_queries) == 3


def test_offline_mode_sends_no_query_but_serves_the_cache(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    ptr = PtrResolver(resolver)
    asyncio.run(ptr.lookup_many(["192.0.2.25"], deadline_s=5))
    ptr.offline = True
    answers = asyncio.run(ptr.lookup_many(["192.0.2.25", "192.0.2.26"], deadline_s=5))
    assert answers["192.0.2.25"].status == "ok"
    assert answers["192.0.2.26"].status == "offline"
    assert zones.queries == [(reverse_name("192.0.2.25"), "PTR")]


def test_forward_confirmation_checks_the_name_resolves_back(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    ptr = PtrResolver(resolver, forward_confirm=True)
    answers = asyncio.run(
        ptr.lookup_many(["192.0.2.25", "192.0.2.26", "2001:db8::25"], deadline_s=5)
    )
    assert answers["192.0.2.25"].forward_confirmed is True
    assert answers["192.0.2.25"].confirmed_name == "mx.example.test"
    assert answers["2001:db8::25"].forward_confirmed is True
    # spoof.example.test points at another address: the PTR claim is not confirmed.
    assert answers["192.0.2.26"].forward_confirmed is False
    assert answers["192.0.2.26"].confirmed_name is None
    assert ("mx6.example.test.", "AAAA") in zones.queries


def test_invalid_address_is_rejected_before_any_query(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        asyncio.run(PtrResolver(resolver).lookup_many(["192.0.2.25", "mx"], deadline_s=5))
    assert zones.queries == []


# --- published ranges through a tiny SPF reader (test code only: ip4, ip6, include) ---------

SPF_ZONE = """
    $ORIGIN provider.test.
    @        IN SOA ns1 hostmaster 1 3600 600 86400 300
    _spf     IN TXT "v=spf1 include:_netblocks.provider.test include:_v6.provider.test ~all"
    _netblocks IN TXT "v=spf1 ip4:192.0.2.0/25 ip4:198.51.100.0/24 ~all"
    _v6      IN TXT "v=spf1 ip6:2001:db8:5::/48 ~all"
    mailer   IN TXT "v=spf1 ip4:203.0.113.0/24 -all"
    broken   IN TXT "not spf"
"""
CATALOGUE = """
[[sender]]
key = "provider"
name = "Provider"
name_ja = "プロバイダ"
category = "mailbox_provider"
ptr_suffixes = ["provider.test"]
spf_includes = ["_spf.provider.test"]
fix_en = "p {domain}"
fix_ja = "プ {domain}"

[[sender]]
key = "mailer"
name = "Mailer"
name_ja = "メーラー"
category = "esp"
spf_includes = ["mailer.provider.test", "broken.provider.test"]
fix_en = "m {domain}"
fix_ja = "メ {domain}"
"""


def spf_expander(resolver: dns.asyncresolver.Resolver) -> Expander:
    async def expand(domain: str, depth: int = 0) -> list[IPv4Network | IPv6Network]:
        if depth > 10:
            raise RecursionError(f"include loop at {domain}")
        answer = await resolver.resolve(domain, "TXT")
        records = [b"".join(r.strings).decode() for r in answer]
        spf = [text for text in records if text.startswith("v=spf1 ")]
        if len(spf) != 1:
            raise ValueError(f"{domain} has {len(spf)} SPF records")
        networks: list[IPv4Network | IPv6Network] = []
        for term in spf[0].split()[1:]:
            mechanism, _, value = term.partition(":")
            if mechanism in ("ip4", "ip6"):
                networks.append(ip_network(value, strict=False))
            elif mechanism == "include":
                networks.extend(await expand(value, depth + 1))
        return networks

    return expand


def test_published_ranges_identify_senders_over_real_dns(
    dns_server: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    dns_server.add_zone(SPF_ZONE)
    catalogue = parse_catalogue(CATALOGUE)
    published = asyncio.run(catalogue_networks(catalogue, spf_expander(resolver_factory())))
    own = own_index([OwnSource.parse("192.0.2.0/28", "本社", ["office"])])

    def who(ip: str) -> tuple[str, str] | None:
        identity = identify_source(
            ip, ptr_name=None, own=own, published=published, catalogue=catalogue
        )
        return (identity.key, identity.matched_by) if identity else None

    assert who("192.0.2.5") == ("own", "own_source")
    assert who("192.0.2.100") == ("provider", "spf_range")
    assert who("2001:db8:5::1") == ("provider", "spf_range")
    # The mailer's broken include is skipped; its working one is still indexed.
    assert who("203.0.113.7") == ("mailer", "spf_range")
    assert who("192.0.2.200") is None


def test_cache_keeps_at_most_max_entries(
    zones: LocalDNSServer, resolver: dns.asyncresolver.Resolver
) -> None:
    ptr = PtrResolver(resolver, max_entries=2)
    asyncio.run(ptr.lookup_many(["192.0.2.25", "192.0.2.26", "192.0.2.99"], deadline_s=5))
    asyncio.run(ptr.lookup_many(["192.0.2.25", "192.0.2.26", "192.0.2.99"], deadline_s=5))
    # Three answers never fit: at least one of them had to be asked again.
    assert sum(1 for _, qtype in zones.queries if qtype == "PTR") > 3
