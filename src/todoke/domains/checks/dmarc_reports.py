"""Where DMARC reports go: rua= and ruf= URIs, and whether external destinations agreed.

A destination outside the policy domain's organisational domain receives reports only if it
publishes `<policy domain>._report._dmarc.<destination>` starting with v=DMARC1 (RFC 7489 §7.1,
kept by RFC 9989 and RFC 9990); without it receivers drop the reports silently. Organisational
domains are compared through the Public Suffix List: that needs no DNS and gives the tree walk's
answer for every registrable domain a report consumer uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from todoke.dmarc.analysis.alignment import organizational_domain
from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.dmarc_tags import dmarc_finding
from todoke.domains.checks.findings import Finding, Status
from todoke.domains.dmarc_record import DmarcRecord, ReportUri, is_dmarc_record
from todoke.domains.spf.lookup import DnsLookupError, InvalidDomainName


def uri_findings(found_at: str, record: DmarcRecord) -> list[Finding]:
    """Unusable URIs, schemes receivers need not support, size suffixes, and no rua at all."""
    findings: list[Finding] = []
    for tag, uri in _uris(record):
        evidence = (record.text,)
        if not uri.valid:
            findings.append(
                dmarc_finding(
                    "uri_invalid",
                    Status.WARN,
                    (str(uri.problem), *evidence),
                    domain=found_at,
                    tag=tag,
                    uri=uri.text,
                )
            )
        elif uri.scheme != "mailto":
            findings.append(
                dmarc_finding(
                    "uri_unsupported", Status.WARN, evidence, domain=found_at, tag=tag, uri=uri.text
                )
            )
        if uri.size is not None:
            findings.append(
                dmarc_finding(
                    "uri_size",
                    Status.WARN,
                    evidence,
                    domain=found_at,
                    tag=tag,
                    uri=uri.text,
                    size=uri.size,
                )
            )
    if not any(uri.valid for uri in record.rua):
        findings.append(dmarc_finding("rua_missing", Status.WARN, (record.text,), domain=found_at))
    return findings


async def external_findings(
    context: CheckContext, found_at: str, record: DmarcRecord
) -> list[Finding]:
    """RFC 7489 §7.1 for every mailto: destination outside `found_at`'s organisation."""
    organisation = organizational_domain(found_at)
    destinations: dict[str, list[str]] = {}
    for tag, uri in _uris(record):
        if uri.domain is not None and organizational_domain(uri.domain) != organisation:
            tags = destinations.setdefault(uri.domain, [])
            if tag not in tags:
                tags.append(tag)
    checks = [
        _authorisation(context, found_at, destination, ", ".join(tags))
        for destination, tags in destinations.items()
    ]
    return list(await asyncio.gather(*checks))


async def _authorisation(
    context: CheckContext, found_at: str, destination: str, tags: str
) -> Finding:
    name = f"{found_at}._report._dmarc.{destination}"
    try:
        texts = tuple(text.decode("latin-1") for text in (await context.dns.txt(name)).values)
    except InvalidDomainName:
        texts = ()
    except DnsLookupError as error:
        reason = str(error).removeprefix(f"DNS error looking up {error.rdtype} {error.name}: ")
        values = {"name": error.name, "rdtype": error.rdtype, "reason": reason}
        return dmarc_finding("dns_error", Status.WARN, (), **values)
    values = {"domain": found_at, "tag": tags, "destination": destination, "name": name}
    authorised = [text for text in texts if is_dmarc_record(text)]
    if not authorised:
        return dmarc_finding("external_unauthorised", Status.WARN, texts, **values)
    return dmarc_finding("external_authorised", Status.INFO, authorised, **values)


def _uris(record: DmarcRecord) -> Iterator[tuple[str, ReportUri]]:
    for uri in record.rua:
        yield "rua", uri
    for uri in record.ruf:
        yield "ruf", uri
