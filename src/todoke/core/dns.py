"""The resolver factory: code that looks up DNS receives a resolver made here, never builds one.

Tests point the resolver at the in-process authoritative server of the test rig; production uses
the system configuration or the nameservers named in settings.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.nameserver

# "[2001:db8::1]:5353" or "[2001:db8::1]"; the brackets are the only way to give an IPv6 port.
_BRACKETED = re.compile(r"^\[(?P<host>[^\]]+)\](?::(?P<port>[^:]*))?$")


@dataclass(frozen=True)
class Nameserver:
    """A nameserver reached over plain DNS (UDP with TCP fallback) at an IP address and port."""

    host: str
    port: int = 53

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            # dnspython sends to the address as given; a hostname would need a resolver to
            # find the resolver.
            raise ValueError(f"nameserver host must be an IP address, got {self.host!r}") from None
        if not 1 <= self.port <= 65535:
            raise ValueError(f"nameserver port must be 1-65535, got {self.port}")

    def __str__(self) -> str:
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """Read "HOST", "HOST:PORT", "IPv6" or "[IPv6]:PORT" as written in settings or on a CLI."""
    value = text.strip()
    if not value:
        raise ValueError("nameserver is empty; expected HOST, HOST:PORT or [IPv6]:PORT")
    bracketed = _BRACKETED.match(value)
    if bracketed:
        host, port_text = bracketed["host"], bracketed["port"]
        if ":" not in host:
            raise ValueError(f"brackets are only for IPv6 addresses, got {text!r}")
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    else:
        # No colon, or a bare IPv6 address whose colons cannot carry a port.
        host, port_text = value, None
    if port_text is None:
        port = 53
    elif port_text.isdigit():
        port = int(port_text)
    else:
        raise ValueError(f"nameserver port must be a number in {text!r}")
    try:
        return Nameserver(host, port)
    except ValueError as error:
        raise ValueError(f"invalid nameserver {text!r}: {error}") from None


def make_resolver(
    nameservers: Sequence[Nameserver] | None = None,
    *,
    timeout: float = 3.0,
    lifetime: float = 5.0,
) -> dns.asyncresolver.Resolver:
    """Build an async resolver asking only `nameservers`, or the system's when none are given.

    `timeout` bounds one attempt at one nameserver, `lifetime` the whole lookup including
    retries, so a dead nameserver costs at most `lifetime` seconds.
    """
    if nameservers is None:
        resolver = dns.asyncresolver.Resolver()
    else:
        if not nameservers:
            # An empty list would make every lookup fail with NoNameservers, far from the cause.
            raise ValueError("nameservers is empty; pass None to use the system resolver")
        # configure=False keeps /etc/resolv.conf (search domains, ndots) out of the lookups.
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(server.host, server.port) for server in nameservers
        ]
    resolver.timeout = timeout
    resolver.lifetime = lifetime
    return resolver
