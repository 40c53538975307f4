"""Longest-prefix lookups in NetworkIndex, checked against the ipaddress module."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Network, IPv6Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todoke.dmarc.identify.networks import NetworkIndex, parse_network


def test_most_specific_network_wins_whatever_the_order() -> None:
    pairs = [("192.0.2.0/24", "wide"), ("192.0.2.128/25", "half"), ("192.0.2.200/32", "host")]
    for ordering in (pairs, pairs[::-1]):
        index = NetworkIndex.build(ordering)
        assert index.lookup("192.0.2.1") == "wide"
        assert index.lookup("192.0.2.129") == "half"
        assert index.lookup("192.0.2.200") == "host"
        assert index.lookup("192.0.2.201") == "half"
        assert index.lookup("192.0.3.0") is None
        assert index.lookup("192.0.1.255") is None


def test_value_resumes_after_a_nested_network_ends() -> None:
    index = NetworkIndex.build([("10.0.0.0/8", "a"), ("10.1.0.0/16", "b"), ("10.1.2.0/24", "c")])
    assert [index.lookup(ip) for ip in ("10.1.2.255", "10.1.3.0", "10.2.0.0")] == ["c", "b", "a"]


def test_first_registration_of_a_duplicate_network_wins() -> None:
    index = NetworkIndex.build([("198.51.100.0/24", "first"), ("198.51.100.0/24", "second")])
    assert index.lookup("198.51.100.7") == "first"
    assert len(index) == 2


def test_ipv6_longest_prefix() -> None:
    index = NetworkIndex.build([("2001:db8::/32", "doc"), ("2001:db8:1::/48", "site")])
    assert index.lookup("2001:db8:1::25") == "site"
    assert index.lookup("2001:db8:2::25") == "doc"
    assert index.lookup("2001:db9::1") is None


def test_ipv4_and_ipv6_with_equal_integers_are_not_confused() -> None:
    # ::c000:201 has the same integer value as 192.0.2.1.
    index = NetworkIndex.build([("192.0.2.0/24", "v4"), ("::c000:200/120", "v6-compat")])
    assert index.lookup("192.0.2.1") == "v4"
    assert index.lookup("::c000:201") == "v6-compat"
    assert NetworkIndex.build([("::/0", "all-v6")]).lookup("192.0.2.1") is None
    assert NetworkIndex.build([("0.0.0.0/0", "all-v4")]).lookup("::1") is None


def test_ipv4_mapped_ipv6_is_the_ipv4_address_it_carries() -> None:
    index = NetworkIndex.build([("192.0.2.0/24", "v4"), ("::ffff:198.51.100.0/120", "mapped")])
    assert index.lookup("::ffff:192.0.2.9") == "v4"
    assert index.lookup(ipaddress.ip_address("::ffff:192.0.2.9")) == "v4"
    assert index.lookup("198.51.100.4") == "mapped"
    assert parse_network("::ffff:198.51.100.0/120") == IPv4Network("198.51.100.0/24")


def test_host_bits_in_a_network_are_masked_as_spf_does() -> None:
    index = NetworkIndex.build([("203.0.113.77/24", "x")])
    assert index.lookup("203.0.113.1") == "x"


@pytest.mark.parametrize("bad", ["", "192.0.2", "192.0.2.256", "example.com", "::g", "1.2.3.4/32"])
def test_lookup_of_a_non_address_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        NetworkIndex.build([("0.0.0.0/0", 1)]).lookup(bad)


def test_build_names_a_bad_network() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33'"):
        NetworkIndex.build([("10.0.0.0/33", 1)])


def test_empty_index_finds_nothing() -> None:
    assert NetworkIndex.empty().lookup("127.0.0.1") is None


def _v4_networks() -> st.SearchStrategy[IPv4Network]:
    # A narrow address space so that random networks nest and overlap often.
    return st.builds(
        lambda address, prefix: IPv4Network((address << 20, prefix), strict=False),
        st.integers(0, 15),
        st.integers(20, 32),
    )


def _v6_networks() -> st.SearchStrategy[IPv6Network]:
    return st.builds(
        lambda address, prefix: IPv6Network(
            ((0x20010DB8 << 96) | (address << 100), prefix), strict=False
        ),
        st.integers(0, 15),
        st.integers(32, 128),
    )


def _brute_force(
    pairs: list[tuple[IPv4Network | IPv6Network, int]],
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> int | None:
    best: tuple[int, int] | None = None
    for position, (network, value) in enumerate(pairs):
        if ip.version != network.version or ip not in network:
            continue
        # Longer prefix wins; among equals, the first registered.
        if best is None or network.prefixlen > pairs[best[0]][0].prefixlen:
            best = (position, value)
    return None if best is None else best[1]


@settings(max_examples=150, deadline=None)
@given(
    networks=st.lists(st.one_of(_v4_networks(), _v6_networks()), max_size=30),
    probes=st.lists(
        st.one_of(
            st.integers(0, (16 << 20) - 1).map(ipaddress.IPv4Address),
            st.integers(0, (16 << 100) - 1).map(
                lambda n: ipaddress.IPv6Address((0x20010DB8 << 96) | n)
            ),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_lookup_agrees_with_brute_force(
    networks: list[IPv4Network | IPv6Network],
    probes: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> None:
    pairs = [(network, position) for position, network in enumerate(networks)]
    index = NetworkIndex.build(pairs)
    # Probe network edges too: that is where a flattening mistake would show.
    edges = [net.network_address for net in networks] + [net.broadcast_address for net in networks]
    for ip in [*probes, *edges]:
        assert index.lookup(str(ip)) == _brute_force(pairs, ip), ip
