"""MX and reputation section of the domain check.

Where mail for the domain goes (MX records, RFC 5321 §5.1; null MX, RFC 7505), whether those
hosts can be reached, and how receivers see the organisation's senders: forward-confirmed
reverse DNS of the sending IPs and DNS blocklist listings of the IPs and the domain.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from ipaddress import ip_address
from typing import Final

from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding, Status, Value
from todoke.domains.checks.mx_blocklists import blocklist_findings
from todoke.domains.checks.mx_fcrdns import dns_error, fcrdns_findings
from todoke.domains.spf.lookup import (
    Answer,
    DnsCache,
    DnsLookupError,
    InvalidDomainName,
    IPAddress,
)

#: Every finding this section emits and the values it fills, for the message-file tests.
FINDINGS: Final[dict[str, frozenset[str]]] = {
    "ok": frozenset({"domain", "exchanges", "count"}),
    "missing": frozenset({"domain", "addresses"}),
    "missing_no_address": frozenset({"domain"}),
    "null": frozenset({"domain"}),
    "null_mixed": frozenset({"domain", "exchanges"}),
    "host_unresolvable": frozenset({"host"}),
    "ip_literal": frozenset({"host"}),
    "no_sending_ips": frozenset({"domain"}),
    "fcrdns_ok": frozenset({"ip", "ptr"}),
    "fcrdns_missing": frozenset({"ip"}),
    "fcrdns_mismatch": frozenset({"ip", "ptr", "addresses"}),
    "ip_listed": frozenset({"ip", "zone", "codes", "reason"}),
    "domain_listed": frozenset({"domain", "zone", "codes", "reason"}),
    "blocklist_unusable": frozenset({"subject", "zone", "answer"}),
    "not_listed": frozenset({"zones", "count"}),
    "dns_error": frozenset({"name", "rdtype", "reason"}),
}

_NULL_MX: Final = "."


async def check(context: CheckContext) -> list[Finding]:
    parts = await asyncio.gather(
        _exchange_findings(context), fcrdns_findings(context), blocklist_findings(context)
    )
    return [finding for part in parts for finding in part]


async def _exchange_findings(context: CheckContext) -> list[Finding]:
    domain = context.domain
    try:
        answer = await context.dns.mx(domain)
    except DnsLookupError as error:
        return [dns_error(error)]
    exchanges = tuple(dict.fromkeys(answer.values))
    if not exchanges:
        return await _implicit_mx(context.dns, domain)
    evidence = tuple(f"{domain} MX {name}" for name in exchanges)
    hosts = tuple(name for name in exchanges if name != _NULL_MX)
    if not hosts:
        return [Finding("mx.null", Status.INFO, {"domain": domain}, evidence)]
    values: dict[str, Value] = {
        "domain": domain,
        "exchanges": ", ".join(hosts),
        "count": len(hosts),
    }
    if _NULL_MX in exchanges:
        # RFC 7505 §3: a domain with a null MX MUST NOT advertise any other MX.
        mixed: dict[str, Value] = {"domain": domain, "exchanges": values["exchanges"]}
        found = [Finding("mx.null_mixed", Status.FAIL, mixed, evidence)]
    else:
        found = [Finding("mx.ok", Status.PASS, values, evidence)]
    return found + await _host_findings(context.dns, hosts)


async def _implicit_mx(dns: DnsCache, domain: str) -> list[Finding]:
    """RFC 5321 §5.1: without MX records, mail goes to the domain's own address records."""
    try:
        answers = await asyncio.gather(dns.addresses(domain, 4), dns.addresses(domain, 6))
    except DnsLookupError as error:
        return [dns_error(error)]
    addresses = [str(address) for answer in answers for address in answer.values]
    if not addresses:
        return [Finding("mx.missing_no_address", Status.FAIL, {"domain": domain})]
    values = {"domain": domain, "addresses": ", ".join(addresses)}
    evidence = (f"{domain} MX: none", *(f"{domain} A/AAAA {text}" for text in addresses))
    return [Finding("mx.missing", Status.WARN, values, evidence)]


async def _host_findings(dns: DnsCache, hosts: tuple[str, ...]) -> list[Finding]:
    results = await asyncio.gather(*(_host_problem(dns, host) for host in hosts))
    problems = [finding for finding in results if finding is not None]
    if len(problems) == len(hosts) and all(item.id != "mx.dns_error" for item in problems):
        # No exchange can take mail: it bounces or waits in senders' queues.
        return [replace(item, status=Status.FAIL) for item in problems]
    return problems


async def _host_problem(dns: DnsCache, host: str) -> Finding | None:
    if _is_ip_literal(host):
        # RFC 5321 §5.1 and RFC 7505 §3: an MX names a host; MTAs do not read it as an address.
        return Finding("mx.ip_literal", Status.FAIL, {"host": host}, (f"MX {host}",))
    try:
        answers: tuple[Answer[IPAddress], ...] = tuple(
            await asyncio.gather(dns.addresses(host, 4), dns.addresses(host, 6))
        )
    except DnsLookupError as error:
        return dns_error(error)
    except InvalidDomainName:
        answers = ()
    if any(answer.values for answer in answers):
        return None
    gone = any(answer.nxdomain for answer in answers)
    evidence = (f"{host} A/AAAA: {'NXDOMAIN' if gone else 'no address records'}",)
    return Finding("mx.host_unresolvable", Status.WARN, {"host": host}, evidence)


def _is_ip_literal(host: str) -> bool:
    text = host.replace("\\", "").strip("[]")
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
