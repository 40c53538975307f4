"""DNS blocklist listings of the sending IPs and of the domain (RFC 5782).

Every (subject, zone) pair is asked at once over the shared cache; a zone that fails or refuses
becomes an info finding of its own and never hides the answers of the others. Lists refuse
queries with answers that look like listings, so those are told apart from real ones.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address
from typing import Final, Literal

from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding, Status, Value
from todoke.domains.spf.lookup import DnsCache, DnsLookupError, InvalidDomainName, IPAddress

#: RFC 5782 §2.1: listings answer with addresses in 127.0.0.0/8; anything else is a resolver
#: rewriting NXDOMAIN (ad servers, captive portals) or a broken list.
_LISTING_RANGE: Final = IPv4Network("127.0.0.0/8")
#: Spamhaus answers 127.255.255.252 (typo in the zone name), .254 (query through a public or
#: open resolver) and .255 (too many queries) from a range it keeps for such errors.
_SPAMHAUS_ERRORS: Final = IPv4Network("127.255.255.0/24")
#: URIBL and SURBL answer 127.0.0.1 when they refuse a query (RFC 5782 §5 keeps it unlisted).
_REFUSED: Final = IPv4Address("127.0.0.1")
_REASON_LIMIT: Final = 300


@dataclass(frozen=True)
class _Query:
    kind: Literal["ip", "domain"]
    subject: str
    zone: str
    name: str


@dataclass(frozen=True)
class _Outcome:
    query: _Query
    codes: tuple[IPv4Address, ...] = ()
    #: the answer that cannot be used (error codes, a DNS error); None when the zone answered
    trouble: str | None = None
    evidence: str = ""
    #: the list's TXT explanation of a listing
    reason: str = ""


def reversed_ip(ip: IPAddress) -> str:
    """The DNSxL key of `ip`: octets reversed (RFC 5782 §2.1), IPv6 as 32 nibbles (§2.4).

    An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is the IPv4 host, asked as such.
    """
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return ".".join(reversed(str(ip).split(".")))
    return ".".join(reversed(ip.exploded.replace(":", "")))


async def blocklist_findings(context: CheckContext) -> list[Finding]:
    queries = _queries(context)
    outcomes = await asyncio.gather(*(_ask(context.dns, query) for query in queries))
    findings = [_listing(item) for item in outcomes if item.trouble is None and item.codes]
    findings += _unusable(outcomes)
    clean = [item.query for item in outcomes if item.trouble is None and not item.codes]
    if clean:
        zones = ", ".join(dict.fromkeys(query.zone for query in clean))
        evidence = tuple(f"{query.name} A: not listed" for query in clean)
        values: dict[str, Value] = {"zones": zones, "count": len(clean)}
        findings.insert(0, Finding("mx.not_listed", Status.PASS, values, evidence))
    return findings


def _queries(context: CheckContext) -> list[_Query]:
    ip_zones = _zones(context.options.ip_blocklists)
    domain_zones = _zones(context.options.domain_blocklists)
    queries = [
        _Query("ip", str(ip), zone, f"{reversed_ip(ip)}.{zone}")
        for ip in dict.fromkeys(context.options.sending_ips)
        for zone in ip_zones
    ]
    queries += [
        _Query("domain", context.domain, zone, f"{context.domain}.{zone}") for zone in domain_zones
    ]
    return queries


def _zones(names: tuple[str, ...]) -> list[str]:
    cleaned = (name.strip().strip(".").lower() for name in names)
    return list(dict.fromkeys(name for name in cleaned if name))


async def _ask(dns: DnsCache, query: _Query) -> _Outcome:
    try:
        answer = await dns.addresses(query.name, 4)
    except (DnsLookupError, InvalidDomainName) as error:
        return _Outcome(query, trouble=str(error), evidence=str(error))
    # NXDOMAIN and NODATA both mean "not listed" (RFC 5782 §2.1).
    codes = tuple(code for code in answer.values if isinstance(code, IPv4Address))
    unusable = ", ".join(str(code) for code in codes if _is_error_code(code))
    if unusable:
        return _Outcome(query, codes, trouble=unusable, evidence=f"{query.name} A {unusable}")
    return _Outcome(query, codes, reason=await _reason(dns, query.name) if codes else "")


def _is_error_code(code: IPv4Address) -> bool:
    return code not in _LISTING_RANGE or code in _SPAMHAUS_ERRORS or code == _REFUSED


async def _reason(dns: DnsCache, name: str) -> str:
    """The list's TXT explanation (RFC 5782 §2.1), if it publishes one and it can be read."""
    try:
        answer = await dns.txt(name)
    except (DnsLookupError, InvalidDomainName):
        return ""
    text = " ".join(data.decode("utf-8", "replace") for data in answer.values)
    shown = "".join(char if char.isprintable() else " " for char in text).strip()
    return shown if len(shown) <= _REASON_LIMIT else shown[:_REASON_LIMIT] + "…"


def _listing(outcome: _Outcome) -> Finding:
    query = outcome.query
    codes = ", ".join(str(code) for code in outcome.codes)
    evidence = [f"{query.name} A {codes}"]
    if outcome.reason:
        evidence.append(f"{query.name} TXT {outcome.reason}")
    values = {"zone": query.zone, "codes": codes, "reason": outcome.reason}
    if query.kind == "ip":
        return Finding(
            "mx.ip_listed", Status.FAIL, {"ip": query.subject, **values}, tuple(evidence)
        )
    return Finding(
        "mx.domain_listed", Status.FAIL, {"domain": query.subject, **values}, tuple(evidence)
    )


def _unusable(outcomes: list[_Outcome]) -> list[Finding]:
    """One finding per zone that failed: a zone that refuses one query refuses them all."""
    by_zone: dict[str, list[_Outcome]] = {}
    for item in outcomes:
        if item.trouble is not None:
            by_zone.setdefault(item.query.zone, []).append(item)
    return [
        Finding(
            "mx.blocklist_unusable",
            Status.INFO,
            {
                "zone": zone,
                "subject": ", ".join(dict.fromkeys(item.query.subject for item in group)),
                "answer": group[0].trouble or "",
            },
            tuple(dict.fromkeys(item.evidence for item in group)),
        )
        for zone, group in by_zone.items()
    ]
