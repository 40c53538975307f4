"""Run every section of a domain check concurrently over one DNS cache."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import dns.asyncresolver

from todoke.domains.checks import bimi, dkim, dmarc, mta_sts, mx, spf, tlsrpt
from todoke.domains.checks.context import CheckContext, CheckOptions
from todoke.domains.checks.findings import SECTIONS, Finding, Status, worst
from todoke.domains.spf.lookup import DnsCache, DnsLookupError, InvalidDomainName

SectionCheck = Callable[[CheckContext], Awaitable[list[Finding]]]

SECTION_CHECKS: Final[dict[str, SectionCheck]] = {
    "spf": spf.check,
    "dkim": dkim.check,
    "dmarc": dmarc.check,
    "bimi": bimi.check,
    "mta_sts": mta_sts.check,
    "tlsrpt": tlsrpt.check,
    "mx": mx.check,
}


@dataclass(frozen=True)
class DomainCheck:
    domain: str
    checked_at: datetime
    findings: tuple[Finding, ...]
    seconds: float
    dns_queries: int

    @property
    def status(self) -> Status:
        return worst(self.findings)

    def section(self, name: str) -> tuple[Finding, ...]:
        return tuple(item for item in self.findings if item.section == name)


async def check_domain(
    domain: str,
    *,
    resolver: dns.asyncresolver.Resolver,
    options: CheckOptions | None = None,
    sections: tuple[str, ...] = SECTIONS,
) -> DomainCheck:
    """Check `domain`'s published records; `domain` must already be normalised (A-labels)."""
    unknown = set(sections) - set(SECTION_CHECKS)
    if unknown:
        raise ValueError(f"unknown check sections: {', '.join(sorted(unknown))}")
    context = CheckContext(domain=domain, dns=DnsCache(resolver), options=options or CheckOptions())
    started = time.perf_counter()
    results = await asyncio.gather(*(_run(name, context) for name in sections))
    findings = tuple(item for section in results for item in section)
    return DomainCheck(
        domain=domain,
        checked_at=context.now,
        findings=findings,
        seconds=time.perf_counter() - started,
        dns_queries=context.dns.queries,
    )


async def _run(name: str, context: CheckContext) -> list[Finding]:
    """One section; a DNS failure becomes a finding of that section, not a crashed check."""
    try:
        return await SECTION_CHECKS[name](context)
    except DnsLookupError as error:
        return [
            Finding(
                id=f"{name}.dns_error",
                status=Status.WARN,
                values={"name": error.name, "rdtype": error.rdtype, "reason": error.reason},
            )
        ]
    except InvalidDomainName as error:
        # A name built from the domain (e.g. a selector in front) is too long to look up.
        reason = str(error)
        return [
            Finding(
                id=f"{name}.dns_error",
                status=Status.WARN,
                values={"name": context.domain, "rdtype": "-", "reason": reason},
            )
        ]
