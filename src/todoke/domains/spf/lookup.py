"""DNS for one SPF evaluation: every (name, type) asked once, answers shared.

RFC 7208 needs three outcomes kept apart: data, "nothing there" (NXDOMAIN or NODATA, which
count as void lookups, §4.6.4) and DNS errors (temperror, §2.6.6). A name that cannot be
put on the wire at all (empty or over-long label) is a fourth: the mechanism does not match.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, Generic, TypeVar

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver
import dns.reversename

IPAddress = IPv4Address | IPv6Address
T = TypeVar("T")


class DnsLookupError(Exception):
    """The lookup failed (SERVFAIL, REFUSED, timeout, malformed answer): a temperror."""

    def __init__(self, name: str, rdtype: str, reason: str) -> None:
        super().__init__(f"DNS error looking up {rdtype} {name}: {reason}")
        self.name = name
        self.rdtype = rdtype
        self.reason = reason


class InvalidDomainName(Exception):
    """The name has an empty label or a label or name too long to query (RFC 1035 §2.3.4)."""


@dataclass(frozen=True)
class Answer(Generic[T]):
    values: tuple[T, ...]
    nxdomain: bool = False

    @property
    def void(self) -> bool:
        return not self.values


def query_name(domain: str) -> dns.name.Name:
    """The absolute DNS name for `domain`, taken literally (no master-file escapes)."""
    text = domain[:-1] if domain.endswith(".") else domain
    try:
        return dns.name.Name([label.encode() for label in text.split(".")] + [b""])
    except (dns.name.EmptyLabel, dns.name.LabelTooLong, dns.name.NameTooLong) as error:
        raise InvalidDomainName(f"{domain!r} cannot be looked up: {error}") from None


class DnsCache:
    """Answers for one evaluation; concurrent askers of the same question share one query."""

    def __init__(self, resolver: dns.asyncresolver.Resolver) -> None:
        self._resolver = resolver
        self._pending: dict[tuple[dns.name.Name, str], asyncio.Task[Answer[Any]]] = {}

    @property
    def queries(self) -> int:
        return len(self._pending)

    async def txt(self, domain: str) -> Answer[bytes]:
        """Each TXT record as its strings joined without separator (RFC 7208 §3.3)."""
        return await self._ask(query_name(domain), "TXT", _txt)

    async def addresses(self, domain: str, version: int) -> Answer[IPAddress]:
        return await self._ask(query_name(domain), "A" if version == 4 else "AAAA", _address)

    async def mx(self, domain: str) -> Answer[str]:
        """Exchange names by preference; a null MX (RFC 7505) comes back as "."."""
        answer = await self._ask(query_name(domain), "MX", _exchange)
        # sorted() is stable: equal preferences keep the order DNS gave.
        ordered = sorted(answer.values, key=lambda pair: pair[0])
        return Answer(tuple(name for _, name in ordered), answer.nxdomain)

    async def ptr(self, ip: IPAddress) -> Answer[str]:
        return await self._ask(dns.reversename.from_address(str(ip)), "PTR", _target)

    async def _ask(
        self, name: dns.name.Name, rdtype: str, convert: Callable[[Any], T]
    ) -> Answer[T]:
        key = (name, rdtype)
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(name, rdtype, convert))
            self._pending[key] = task
        answer: Answer[T] = await task
        return answer

    async def _fetch(
        self, name: dns.name.Name, rdtype: str, convert: Callable[[Any], T]
    ) -> Answer[T]:
        try:
            answer = await self._resolver.resolve(name, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return Answer((), nxdomain=True)
        except dns.resolver.NoAnswer:
            return Answer(())
        except dns.exception.DNSException as error:
            text = name.to_text(omit_final_dot=True)
            raise DnsLookupError(text, rdtype, str(error) or type(error).__name__) from None
        return Answer(tuple(convert(rdata) for rdata in answer))


def _txt(rdata: Any) -> bytes:
    return b"".join(rdata.strings)


def _address(rdata: Any) -> IPAddress:
    return ip_address(rdata.address)


def _exchange(rdata: Any) -> tuple[int, str]:
    exchange: dns.name.Name = rdata.exchange
    return int(rdata.preference), exchange.to_text(omit_final_dot=True)


def _target(rdata: Any) -> str:
    target: dns.name.Name = rdata.target
    return target.to_text(omit_final_dot=True)
