"""The address ranges a domain's SPF tree authorises, for naming senders in DMARC reports.

Only what passes counts: "+" ip4:/ip6: terms, followed through "+" include: and through
redirect= when the record has no "all" (RFC 7208 §5.1, §6.1). Terms that depend on the
connecting client (ptr, exists, macros) cannot become ranges and are reported as problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network

import dns.asyncresolver

from todoke.domains.spf.lookup import DnsCache, DnsLookupError, InvalidDomainName
from todoke.domains.spf.macros import SpfSyntaxError, domain_for_query
from todoke.domains.spf.record import Mechanism, SpfRecord, is_spf_record, parse_record

Network = IPv4Network | IPv6Network


@dataclass
class PublishedNetworks:
    networks: list[Network] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class _Walk:
    dns: DnsCache
    resolve_hosts: bool
    max_lookups: int
    found: PublishedNetworks = field(default_factory=PublishedNetworks)
    lookups: int = 0

    def add(self, network: Network) -> None:
        if network not in self.found.networks:
            self.found.networks.append(network)

    def spend(self, term: str, domain: str) -> bool:
        self.lookups += 1
        if self.lookups > self.max_lookups:
            self.found.problems.append(
                f"{domain}: {term!r} exceeds the limit of {self.max_lookups} DNS-querying terms "
                "(RFC 7208 §4.6.4); receivers return permerror here"
            )
            return False
        return True

    async def record(self, domain: str) -> SpfRecord | None:
        try:
            answer = await self.dns.txt(domain)
        except (DnsLookupError, InvalidDomainName) as error:
            self.found.problems.append(f"{domain}: {error}")
            return None
        texts = [text for text in answer.values if is_spf_record(text)]
        if len(texts) != 1:
            self.found.problems.append(f"{domain}: {len(texts)} SPF records (need exactly 1)")
            return None
        try:
            return parse_record(texts[0].decode("ascii"))
        except (UnicodeDecodeError, SpfSyntaxError) as error:
            self.found.problems.append(f"{domain}: invalid SPF record: {error}")
            return None

    async def walk(self, domain: str) -> None:
        record = await self.record(domain)
        if record is None:
            return
        for mechanism in record.mechanisms:
            if mechanism.qualifier != "+":
                continue
            if mechanism.costs_lookup and not self.spend(mechanism.text, domain):
                return
            await self.mechanism(mechanism, domain)
        has_all = any(mechanism.kind == "all" for mechanism in record.mechanisms)
        if record.redirect is not None and not has_all:
            target = self.literal_target(record.redirect.value.text, record.redirect.text, domain)
            if target is not None and self.spend(record.redirect.text, domain):
                await self.walk(target)

    def literal_target(self, spec: str | None, term: str, domain: str) -> str | None:
        if spec is None:
            return domain
        if "%" in spec:
            self.found.problems.append(
                f"{domain}: {term!r} depends on the message (macros); its ranges are unknown"
            )
            return None
        return domain_for_query(spec)

    async def mechanism(self, mechanism: Mechanism, domain: str) -> None:
        kind = mechanism.kind
        if mechanism.network is not None:
            self.add(mechanism.network)
        elif kind in ("ptr", "exists"):
            self.found.problems.append(
                f"{domain}: {mechanism.text!r} depends on the client, not on a range"
            )
        elif kind in ("include", "a", "mx"):
            spec = mechanism.domain_spec.text if mechanism.domain_spec else None
            target = self.literal_target(spec, mechanism.text, domain)
            if target is None:
                return
            if kind == "include":
                await self.walk(target)
            elif self.resolve_hosts:
                await self.hosts(mechanism, target)

    async def hosts(self, mechanism: Mechanism, target: str) -> None:
        try:
            names = [target]
            if mechanism.kind == "mx":
                names = [name for name in (await self.dns.mx(target)).values if name != "."]
            # RFC 7208 §4.6.4: receivers look at no more than ten MX hosts.
            for name in names[:10]:
                for version, length in ((4, mechanism.cidr4), (6, mechanism.cidr6)):
                    for address in (await self.dns.addresses(name, version)).values:
                        self.add(ip_network((address, length), strict=False))
        except (DnsLookupError, InvalidDomainName) as error:
            self.found.problems.append(f"{target}: {mechanism.text!r}: {error}")


async def published_networks(
    domain: str,
    resolver: dns.asyncresolver.Resolver,
    *,
    resolve_hosts: bool = False,
    max_lookups: int = 10,
) -> PublishedNetworks:
    """The ranges `domain`'s SPF record authorises through ip4:, ip6:, include: and redirect=.

    With `resolve_hosts`, a and mx terms add their addresses with the term's prefix lengths
    (/32 and /128 unless written otherwise). The walk stops at `max_lookups` DNS-querying
    terms, as a receiver would.
    """
    walk = _Walk(DnsCache(resolver), resolve_hosts, max_lookups)
    await walk.walk(domain.rstrip("."))
    return walk.found
