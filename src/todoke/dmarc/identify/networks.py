"""Longest-prefix lookup of IP addresses in a set of registered networks.

DMARC aggregate reports name sources only by IP address; a busy domain's reports carry millions
of rows, and the networks to test them against (the organisation's own, every sender's published
SPF ranges) number in the tens of thousands. CIDR networks are either nested or disjoint, so the
whole set flattens into disjoint address segments, each carrying the value of the most specific
network covering it; a lookup is then one binary search (`bisect`, in C) instead of one dict probe
per distinct prefix length.
"""

from __future__ import annotations

import socket
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from typing import Generic, TypeVar

V = TypeVar("V")

AnyNetwork = IPv4Network | IPv6Network
_MAPPED_PREFIX = IPv6Network("::ffff:0:0/96")
_MAPPED_BASE = int(_MAPPED_PREFIX.network_address)


class _Missing:
    """Marks an address segment no registered network covers (values may legitimately be None)."""


_MISSING = _Missing()


def parse_network(value: str | AnyNetwork) -> AnyNetwork:
    """A network from text, host bits allowed: SPF records often say "ip4:192.0.2.10/24"
    (RFC 7208 §5.6 masks the address with the prefix)."""
    if isinstance(value, IPv4Network | IPv6Network):
        network: AnyNetwork = value
    else:
        try:
            network = ip_network(value.strip(), strict=False)
        except ValueError as error:
            raise ValueError(f"not an IP network: {value!r} ({error})") from None
    return _unmap(network)


def _unmap(network: AnyNetwork) -> AnyNetwork:
    # RFC 4291 §2.5.5.2: ::ffff:a.b.c.d *is* the IPv4 host a.b.c.d, seen through an IPv6 socket.
    if (
        isinstance(network, IPv6Network)
        and network.prefixlen >= 96
        and network.subnet_of(_MAPPED_PREFIX)
    ):
        address = IPv4Address(int(network.network_address) - _MAPPED_BASE)
        return IPv4Network((address, network.prefixlen - 96))
    return network


@dataclass(frozen=True, slots=True)
class _Segments(Generic[V]):
    """Disjoint segments: starts[i] up to starts[i + 1] - 1 carry values[i]."""

    starts: list[int]
    values: list[V | _Missing]

    def find(self, address: int) -> V | None:
        index = bisect_right(self.starts, address) - 1
        if index < 0:
            return None
        value = self.values[index]
        return None if isinstance(value, _Missing) else value


def _flatten(ranges: Sequence[tuple[int, int, V]]) -> _Segments[V]:
    """Segments from (first, last, value) ranges that nest or are disjoint, never straddle.

    Sorted outermost first, a stack of the enclosing ranges says which value resumes where an
    inner range ends. Of identical networks the first registered wins.
    """
    order = sorted(range(len(ranges)), key=lambda i: (ranges[i][0], -ranges[i][1], i))
    starts: list[int] = []
    values: list[V | _Missing] = []
    stack: list[tuple[int, int, V]] = []

    def emit(position: int, value: V | _Missing) -> None:
        if starts and starts[-1] == position:
            values[-1] = value
        else:
            starts.append(position)
            values.append(value)

    def close_until(position: int | None) -> None:
        while stack and (position is None or stack[-1][1] < position):
            _, last, _ = stack.pop()
            emit(last + 1, stack[-1][2] if stack else _MISSING)

    for index in order:
        first, last, value = ranges[index]
        close_until(first)
        if stack and stack[-1][0] == first and stack[-1][1] == last:
            continue
        emit(first, value)
        stack.append((first, last, value))
    close_until(None)
    return _Segments(starts, values)


class NetworkIndex(Generic[V]):
    """Maps an IP address to the value of the most specific registered network containing it.

    IPv4 and IPv6 are kept apart, so 192.0.2.1 never matches ::c000:201 or ::/0. IPv4-mapped
    IPv6 addresses and networks (::ffff:192.0.2.1) are the IPv4 ones they carry.
    """

    __slots__ = ("_count", "_v4", "_v6")

    def __init__(self, v4: _Segments[V], v6: _Segments[V], count: int) -> None:
        self._v4 = v4
        self._v6 = v6
        self._count = count

    @classmethod
    def build(cls, pairs: Iterable[tuple[str | AnyNetwork, V]]) -> NetworkIndex[V]:
        v4: list[tuple[int, int, V]] = []
        v6: list[tuple[int, int, V]] = []
        for raw, value in pairs:
            network = parse_network(raw)
            target = v4 if network.version == 4 else v6
            target.append((int(network.network_address), int(network.broadcast_address), value))
        return cls(_flatten(v4), _flatten(v6), len(v4) + len(v6))

    @classmethod
    def empty(cls) -> NetworkIndex[V]:
        return cls.build(())

    def __len__(self) -> int:
        """How many networks were registered (duplicates included)."""
        return self._count

    def lookup(self, ip: str | IPv4Address | IPv6Address) -> V | None:
        """The most specific network's value, or None; ValueError if `ip` is not an address."""
        if isinstance(ip, str):
            # inet_pton is several times faster than ipaddress.ip_address and as strict.
            try:
                if ":" in ip:
                    return self._lookup_v6(int.from_bytes(socket.inet_pton(socket.AF_INET6, ip)))
                return self._v4.find(int.from_bytes(socket.inet_pton(socket.AF_INET, ip)))
            except OSError:
                raise ValueError(f"not an IP address: {ip!r}") from None
        if isinstance(ip, IPv4Address):
            return self._v4.find(int(ip))
        return self._lookup_v6(int(ip))

    def _lookup_v6(self, address: int) -> V | None:
        if address >> 32 == _MAPPED_BASE >> 32:
            return self._v4.find(address - _MAPPED_BASE)
        return self._v6.find(address)
