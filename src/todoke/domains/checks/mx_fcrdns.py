"""Forward-confirmed reverse DNS of the organisation's sending IPs.

Gmail rejects mail from an IP without a PTR record (5.7.25) and Yahoo and most Japanese
carriers distrust it; the PTR name must also resolve back to the same IP, or anyone could claim
any name in their reverse zone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Final

from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding, Status
from todoke.domains.spf.lookup import DnsCache, DnsLookupError, InvalidDomainName, IPAddress

#: A reverse name with more PTR records than this is followed only this far, as SPF does
#: (RFC 7208 §4.6.4); real mail servers have one.
_PTR_LIMIT: Final = 10


@dataclass
class _Forward:
    """The addresses each PTR name resolves to, and the lookups that failed."""

    addresses: dict[str, tuple[IPAddress, ...]] = field(default_factory=dict)
    errors: list[Finding] = field(default_factory=list)


async def fcrdns_findings(context: CheckContext) -> list[Finding]:
    ips = tuple(dict.fromkeys(context.options.sending_ips))
    if not ips:
        return [Finding("mx.no_sending_ips", Status.INFO, {"domain": context.domain})]
    results = await asyncio.gather(*(_confirm(context.dns, ip) for ip in ips))
    return [finding for result in results for finding in result]


async def _confirm(dns: DnsCache, ip: IPAddress) -> list[Finding]:
    try:
        ptr = await dns.ptr(ip)
    except DnsLookupError as error:
        return [dns_error(error)]
    if ptr.void:
        return [Finding("mx.fcrdns_missing", Status.FAIL, {"ip": str(ip)})]
    names = ptr.values[:_PTR_LIMIT]
    forward = _Forward()
    await asyncio.gather(*(_resolve(dns, name, ip.version, forward) for name in names))
    rdtype = "A" if ip.version == 4 else "AAAA"
    evidence = tuple(f"{ip} PTR {name}" for name in names) + tuple(
        f"{name} {rdtype} {', '.join(map(str, forward.addresses[name])) or '-'}"
        for name in names
        if name in forward.addresses
    )
    confirmed = [name for name in names if ip in forward.addresses.get(name, ())]
    if confirmed:
        values = {"ip": str(ip), "ptr": confirmed[0]}
        return [Finding("mx.fcrdns_ok", Status.PASS, values, evidence)]
    if forward.errors and not forward.addresses:
        return forward.errors
    seen = {str(address) for found in forward.addresses.values() for address in found}
    values = {"ip": str(ip), "ptr": ", ".join(names), "addresses": ", ".join(sorted(seen))}
    return [Finding("mx.fcrdns_mismatch", Status.FAIL, values, evidence), *forward.errors]


async def _resolve(dns: DnsCache, name: str, version: int, forward: _Forward) -> None:
    try:
        answer = await dns.addresses(name, version)
    except DnsLookupError as error:
        forward.errors.append(dns_error(error))
        return
    except InvalidDomainName:
        answer_values: tuple[IPAddress, ...] = ()
    else:
        answer_values = answer.values
    forward.addresses[name] = answer_values


def dns_error(error: DnsLookupError) -> Finding:
    """One failed lookup as the section's finding, so the rest of the section still reports."""
    values = {"name": error.name, "rdtype": error.rdtype, "reason": str(error)}
    return Finding("mx.dns_error", Status.WARN, values)
