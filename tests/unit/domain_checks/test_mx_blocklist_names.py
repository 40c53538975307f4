"""DNSxL query names (RFC 5782 §2.1 and §2.4)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import dns.reversename
from hypothesis import given
from hypothesis import strategies as st

from todoke.domains.checks.mx_blocklists import reversed_ip


def test_ipv4_octets_are_reversed() -> None:
    assert reversed_ip(ip_address("192.0.2.99")) == "99.2.0.192"


def test_ipv6_is_written_as_32_reversed_nibbles() -> None:
    # The example of RFC 5782 §2.4.
    assert reversed_ip(ip_address("2001:db8:1:2:3:4:567:89ab")) == (
        "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2"
    )


def test_ipv4_mapped_ipv6_address_is_asked_as_ipv4() -> None:
    assert reversed_ip(ip_address("::ffff:192.0.2.99")) == "99.2.0.192"


@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_key_matches_the_reverse_dns_name_of_the_address(ip: IPv4Address | IPv6Address) -> None:
    # dnspython, like our key, treats an IPv4-mapped address as the IPv4 host.
    ipv4 = isinstance(ip, IPv4Address) or ip.ipv4_mapped is not None
    suffix = ".in-addr.arpa." if ipv4 else ".ip6.arpa."
    assert reversed_ip(ip) + suffix == dns.reversename.from_address(str(ip)).to_text()
