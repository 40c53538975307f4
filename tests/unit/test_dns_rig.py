"""The DNS half of the rig: a real resolver from `make_resolver` against the local server."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Awaitable
from typing import TypeVar

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.rig.dns_server import LocalDNSServer, parse_zones
from tests.rig.fixtures import ResolverFactory
from todoke.core.dns import Nameserver, make_resolver, parse_nameserver

T = TypeVar("T")

DKIM_KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "q" * 260
ZONE = f"""
    $ORIGIN example.test.
    $TTL 3600
    @          IN SOA ns1 hostmaster 2024010101 3600 600 86400 120
    @          IN A 192.0.2.1
    @          IN AAAA 2001:db8::1
    @          IN MX 10 mx
    @          IN MX 20 mx2.example.net.
    mx         IN A 192.0.2.25
    @          IN TXT "v=spf1 ip4:192.0.2.0/24 " "include:_spf.example.net -all"
    sel._domainkey IN TXT "v=DKIM1; k=rsa; p={DKIM_KEY}"
    deep.a.b   IN A 192.0.2.2
    www        IN CNAME @
    alias      IN CNAME www
    *.wild     IN TXT "wildcard"
"""
BIG_TXT = "\n".join(f'big IN TXT "{i:02d}{"z" * 240}"' for i in range(8))


def run(awaitable: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await awaitable

    return asyncio.run(wrapper())


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


async def raw_query(server: LocalDNSServer, name: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return await dns.asyncquery.udp(query, server.host, port=server.port, timeout=2)


def test_a_and_aaaa_records_resolve(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    resolver = resolver_factory()
    a = run(resolver.resolve("example.test", "A"))
    aaaa = run(resolver.resolve("example.test", "AAAA"))
    assert [r.address for r in a] == ["192.0.2.1"]
    assert [r.address for r in aaaa] == ["2001:db8::1"]


def test_mx_targets_are_absolute(zone: LocalDNSServer, resolver_factory: ResolverFactory) -> None:
    answer = run(resolver_factory().resolve("example.test", "MX"))
    assert sorted((r.preference, r.exchange.to_text()) for r in answer) == [
        (10, "mx.example.test."),
        (20, "mx2.example.net."),
    ]


def test_multi_string_txt_keeps_strings_in_order(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    (record,) = run(resolver_factory().resolve("example.test", "TXT"))
    assert record.strings == (b"v=spf1 ip4:192.0.2.0/24 ", b"include:_spf.example.net -all")
    assert b"".join(record.strings) == b"v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all"


def test_txt_over_255_bytes_is_split_into_strings(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    (record,) = run(resolver_factory().resolve("sel._domainkey.example.test", "TXT"))
    expected = f"v=DKIM1; k=rsa; p={DKIM_KEY}".encode()
    assert [len(s) for s in record.strings] == [255, len(expected) - 255]
    assert b"".join(record.strings) == expected


def test_missing_name_is_nxdomain(zone: LocalDNSServer, resolver_factory: ResolverFactory) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN):
        run(resolver_factory().resolve("nothing.example.test", "A"))


def test_existing_name_without_the_type_is_nodata(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    with pytest.raises(dns.resolver.NoAnswer):
        run(resolver_factory().resolve("mx.example.test", "TXT"))


@pytest.mark.parametrize("name", ["b.example.test", "a.b.example.test"])
def test_empty_non_terminal_is_nodata(
    zone: LocalDNSServer, resolver_factory: ResolverFactory, name: str
) -> None:
    with pytest.raises(dns.resolver.NoAnswer):
        run(resolver_factory().resolve(name, "A"))


@pytest.mark.parametrize(
    ("name", "rcode"), [("nothing.example.test", "NXDOMAIN"), ("mx.example.test", "NOERROR")]
)
def test_negative_answers_are_authoritative_with_soa(
    zone: LocalDNSServer, name: str, rcode: str
) -> None:
    response = run(raw_query(zone, name, "TXT"))
    assert dns.rcode.to_text(response.rcode()) == rcode
    assert response.flags & dns.flags.AA
    assert not response.answer
    (soa,) = response.authority
    # RFC 2308: the negative TTL is min(SOA TTL 3600, SOA minimum 120).
    assert (soa.name.to_text(), soa.rdtype, soa.ttl) == ("example.test.", dns.rdatatype.SOA, 120)


def test_cname_chain_is_chased_within_the_zone(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    answer = run(resolver_factory().resolve("alias.example.test", "A"))
    assert answer.canonical_name.to_text() == "example.test."
    assert [r.address for r in answer] == ["192.0.2.1"]
    assert len(answer.response.answer) == 3


def test_wildcard_answers_names_below_it(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    (record,) = run(resolver_factory().resolve("x.y.wild.example.test", "TXT"))
    assert record.strings == (b"wildcard",)


def test_name_outside_loaded_zones_is_refused(zone: LocalDNSServer) -> None:
    response = run(raw_query(zone, "example.org", "A"))
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.flags & dns.flags.AA


def test_servfail_fault_exhausts_the_nameserver(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("mx.example.test", "servfail")
    resolver = resolver_factory()
    with pytest.raises(dns.resolver.NoNameservers, match="SERVFAIL"):
        run(resolver.resolve("mx.example.test", "A"))
    assert [r.address for r in run(resolver.resolve("example.test", "A"))] == ["192.0.2.1"]


def test_fault_can_target_one_query_type(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("example.test", "servfail", qtype="TXT")
    resolver = resolver_factory()
    with pytest.raises(dns.resolver.NoNameservers):
        run(resolver.resolve("example.test", "TXT"))
    assert len(run(resolver.resolve("example.test", "MX"))) == 2


def test_timeout_fault_ends_in_lifetime_timeout(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("example.test", "timeout")
    resolver = resolver_factory(timeout=0.2, lifetime=0.6)
    started = time.monotonic()
    with pytest.raises(dns.resolver.LifetimeTimeout):
        run(resolver.resolve("example.test", "A"))
    assert 0.6 <= time.monotonic() - started < 1.5


def test_latency_delays_answers_without_serialising_them(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.latency = 0.25
    resolver = resolver_factory()
    names = [f"{n}.wild.example.test" for n in range(6)]

    async def lookup_all() -> float:
        started = time.monotonic()
        await asyncio.gather(*(resolver.resolve(name, "TXT") for name in names))
        return time.monotonic() - started

    elapsed = run(lookup_all())
    # Six answers in sequence would take 1.5 s; in parallel about one latency.
    assert 0.25 <= elapsed < 1.0


def test_truncated_udp_answer_is_retried_over_tcp(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.add_zone(f"$ORIGIN big.test.\n{BIG_TXT}\n")
    answer = run(resolver_factory().resolve("big.big.test", "TXT"))
    assert sorted(r.strings[0][:2] for r in answer) == [f"{i:02d}".encode() for i in range(8)]
    assert len(answer.response.to_wire()) > 1232
    assert zone.queries.count(("big.big.test.", "TXT")) == 2
    assert zone.tcp_queries == [("big.big.test.", "TXT")]


def test_queries_are_recorded_per_lookup(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    resolver = resolver_factory()
    run(resolver.resolve("Example.Test", "MX"))
    run(resolver.resolve("mx.example.test", "A"))
    assert zone.queries == [("example.test.", "MX"), ("mx.example.test.", "A")]


def test_replace_zones_drops_earlier_zones(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.replace_zones("$ORIGIN other.test.\n@ IN A 198.51.100.7\n")
    resolver = resolver_factory()
    assert [r.address for r in run(resolver.resolve("other.test", "A"))] == ["198.51.100.7"]
    with pytest.raises(dns.resolver.NoNameservers, match="REFUSED"):
        run(resolver.resolve("example.test", "A"))


def test_zone_text_without_soa_or_origin_is_rejected() -> None:
    with pytest.raises(ValueError, match="SOA record or an \\$ORIGIN"):
        parse_zones("www.example.test. IN A 192.0.2.1\n")


def test_records_outside_the_zone_are_rejected() -> None:
    with pytest.raises(ValueError, match="outside the zone"):
        parse_zones("$ORIGIN example.test.\nwww.example.org. IN A 192.0.2.1\n")


def test_server_answers_only_while_running() -> None:
    server = LocalDNSServer(ZONE).start()
    nameserver = server.nameserver
    server.stop()
    resolver = make_resolver([nameserver], timeout=0.2, lifetime=0.4)
    with pytest.raises((dns.resolver.LifetimeTimeout, dns.resolver.NoNameservers)):
        run(resolver.resolve("example.test", "A"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.53", Nameserver("192.0.2.53", 53)),
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        ("[2001:db8::53]:5300", Nameserver("2001:db8::53", 5300)),
        ("2001:db8::53", Nameserver("2001:db8::53", 53)),
        (" [::1] ", Nameserver("::1", 53)),
    ],
)
def test_parse_nameserver_accepts_documented_forms(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(
    "text", ["", "ns1.example.test", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:dns", "[::1"]
)
def test_parse_nameserver_rejects_malformed_input(text: str) -> None:
    with pytest.raises(ValueError, match="nameserver"):
        parse_nameserver(text)


@given(
    address=st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)),
    port=st.integers(min_value=1, max_value=65535),
)
def test_nameserver_text_round_trips(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int
) -> None:
    nameserver = Nameserver(str(address), port)
    assert parse_nameserver(str(nameserver)) == nameserver


def test_make_resolver_asks_only_the_given_nameservers() -> None:
    resolver = make_resolver(
        [Nameserver("127.0.0.1", 5353), Nameserver("::1", 53)], timeout=1.5, lifetime=4
    )
    assert [(ns.address, ns.port) for ns in resolver.nameservers] == [  # type: ignore[union-attr]
        ("127.0.0.1", 5353),
        ("::1", 53),
    ]
    assert (resolver.timeout, resolver.lifetime, resolver.search) == (1.5, 4, [])


def test_make_resolver_refuses_an_empty_nameserver_list() -> None:
    with pytest.raises(ValueError, match="empty"):
        make_resolver([])
