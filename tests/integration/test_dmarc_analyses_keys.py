"""Address keys make a CIDR filter a key range: an address is inside a network exactly when
its key lies in one of the network's key ranges, for IPv4, IPv6 and IPv4-mapped IPv6;
and the standard windows are recognised only when they end today."""

from __future__ import annotations

from datetime import date, timedelta
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.dmarc.analyses import ip_key, network_keys, standard_days, window_ending

addresses = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: str(IPv4Address(n))),
    st.integers(0, 2**128 - 1).map(lambda n: IPv6Address(n).compressed),
)


def _network(address: str, prefix: int) -> str:
    parsed = ip_address(address)
    length = min(prefix, parsed.max_prefixlen)
    return str(ip_network(f"{parsed}/{length}", strict=False))


def _contains(network: str, address: str) -> bool:
    """As identification matches: an IPv4-mapped address is its IPv4 address, and the two
    families never match each other."""
    net, addr = ip_network(network), ip_address(address)
    mapped = addr.ipv4_mapped if isinstance(addr, IPv6Address) else None
    if mapped is not None:
        return net.version == 4 and mapped in net
    return addr.version == net.version and addr in net


@given(address=addresses, anchor=addresses, prefix=st.integers(0, 128))
def test_an_address_is_in_a_network_exactly_when_its_key_is_in_range(
    address: str, anchor: str, prefix: int
) -> None:
    network = _network(anchor, prefix)
    key = ip_key(address)
    assert key is not None
    inside = any(first <= key <= last for first, last in network_keys(network))
    assert inside == _contains(network, address)


@given(n=st.integers(0, 2**32 - 1))
def test_an_ipv4_mapped_address_has_the_ipv4_key(n: int) -> None:
    ipv4 = IPv4Address(n)
    assert ip_key(f"::ffff:{ipv4}") == ip_key(str(ipv4))


@pytest.mark.parametrize("text", ["", "not-an-ip", "300.1.1.1", "1.2.3", "::g", "1.2.3.4/24"])
def test_what_is_no_address_has_no_key(text: str) -> None:
    assert ip_key(text) is None


@pytest.mark.parametrize("text", ["203.0.113.0/33", "example.jp", "2001:db8::/129", ""])
def test_a_bad_network_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an IP network"):
        network_keys(text)


def test_standard_windows_are_the_last_14_30_90_days_up_to_today() -> None:
    today = date(2026, 11, 23)
    for days in (14, 30, 90):
        window = window_ending(days, today)
        assert standard_days(window.since, window.until, today) == days
        assert window.recent_since == max(window.since, today - timedelta(days=13))
    assert standard_days(today - timedelta(days=29), today - timedelta(days=1), today) is None
    assert standard_days(today - timedelta(days=20), today, today) is None
