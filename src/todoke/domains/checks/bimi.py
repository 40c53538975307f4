"""BIMI: the assertion record, DMARC enforcement, the SVG logo and the mark certificate.

Receivers show a logo only when all of it holds (draft-brand-indicators-for-message-
identification §7): DMARC at enforcement for the domain and its organisational domain, a valid
`<selector>._bimi` record (the organisational domain's when the domain has none, §7.2), an SVG
Tiny PS logo, and for Gmail and Apple a VMC or CMC embedding that same logo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from todoke.dmarc.analysis.alignment import organizational_domain
from todoke.domains.bimi import BimiRecordError, is_bimi_record, parse_bimi_record
from todoke.domains.checks import bimi_logo, bimi_vmc
from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.dmarc_discovery import Discovery, DmarcPolicy, discover, policy_of
from todoke.domains.checks.findings import Finding, Status
from todoke.domains.checks.mta_sts_record import record_text
from todoke.domains.spf.lookup import DnsLookupError, InvalidDomainName

SECTION: Final = "bimi"
DEFAULT_SELECTOR: Final = "default"

FINDINGS: Final[dict[str, frozenset[str]]] = {
    "missing": frozenset({"name"}),
    "record_invalid": frozenset({"name", "reason"}),
    "declined": frozenset({"name"}),
    "record_ok": frozenset({"name", "location", "authority"}),
    "dmarc_not_enforced": frozenset({"domain", "policy"}),
    "dmarc_enforced": frozenset({"domain", "policy"}),
    "dns_error": frozenset({"name", "rdtype", "reason"}),
    **bimi_logo.FINDINGS,
    **bimi_vmc.FINDINGS,
}


@dataclass(frozen=True, slots=True)
class _Located:
    selector: str
    #: the domain whose `_bimi` name held the records (the organisational domain on fallback)
    domain: str
    texts: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.selector}._bimi.{self.domain}"


def _finding(
    kind: str, status: Status, evidence: tuple[str, ...] = (), /, **values: str | int
) -> Finding:
    return Finding(id=f"{SECTION}.{kind}", status=status, values=values, evidence=evidence)


async def check(context: CheckContext) -> list[Finding]:
    dmarc_findings, organisational = await _dmarc(context)
    findings: list[Finding] = []
    published = False
    for selector in _selectors(context):
        located = await _locate(context, selector, organisational)
        if located is None:
            if selector == DEFAULT_SELECTOR:
                name = f"{selector}._bimi.{context.domain}"
                findings.append(_finding("missing", Status.INFO, (), name=name))
            continue
        record_findings, usable = await _record(context, located)
        findings += record_findings
        published = published or usable
    # DMARC enforcement matters only to a domain that asks for a logo.
    return (dmarc_findings + findings) if published else findings


def _selectors(context: CheckContext) -> tuple[str, ...]:
    named = (name.strip().lower() for name in context.options.selectors)
    return tuple(dict.fromkeys((DEFAULT_SELECTOR, *(name for name in named if name))))


async def _locate(context: CheckContext, selector: str, organisational: str) -> _Located | None:
    """§7.2: the Author Domain's records, else the organisational domain's.

    Records not beginning with v=BIMI1 are discarded before the fallback, as receivers do; when
    neither name has a BIMI record, TXT records found there are still shown as invalid, since
    they were almost certainly meant to be one.
    """
    seen: _Located | None = None
    for domain in dict.fromkeys((context.domain, organisational)):
        try:
            answer = await context.dns.txt(f"{selector}._bimi.{domain}")
        except InvalidDomainName:
            return None  # a selector given by the user that cannot be a DNS name
        texts = tuple(record_text(raw) for raw in answer.values)
        if any(is_bimi_record(text) for text in texts):
            return _Located(selector, domain, texts)
        seen = seen or (_Located(selector, domain, texts) if texts else None)
    return seen


async def _record(context: CheckContext, located: _Located) -> tuple[list[Finding], bool]:
    """Findings for one located record, and whether it asks for a logo."""
    name = located.name
    chosen = [text for text in located.texts if is_bimi_record(text)]
    if len(chosen) > 1:
        reason = f"{len(chosen)} records begin with v=BIMI1; receivers then use none"
        return [
            _finding("record_invalid", Status.FAIL, located.texts, name=name, reason=reason)
        ], False
    try:
        record = parse_bimi_record(chosen[0] if chosen else located.texts[0])
    except BimiRecordError as error:
        return [
            _finding("record_invalid", Status.FAIL, located.texts, name=name, reason=str(error))
        ], False
    if record.declined:
        return [_finding("declined", Status.INFO, located.texts, name=name)], False
    findings = [
        _finding(
            "record_ok",
            Status.PASS,
            located.texts,
            name=name,
            location=record.location or "",
            authority=record.authority or "",
        )
    ]
    logo: bytes | None = None
    if record.location is not None:
        logo_findings, logo = await bimi_logo.check_logo(context, record.location)
        findings += logo_findings
    findings += await bimi_vmc.check_authority(
        context, record, name=name, domain=located.domain, selector=located.selector, logo=logo
    )
    return findings, True


async def _dmarc(context: CheckContext) -> tuple[list[Finding], str]:
    """The DMARC findings BIMI needs, and the organisational domain for record fallback."""
    try:
        discovery = await discover(context, context.domain)
    except DnsLookupError as error:
        finding = _finding(
            "dns_error", Status.WARN, (), name=error.name, rdtype=error.rdtype, reason=str(error)
        )
        return [finding], organizational_domain(context.domain)
    policy = policy_of(discovery)
    reasons = enforcement_gaps(discovery, policy)
    domain = policy.found_at if policy else discovery.organisational_domain
    summary = _summary(policy)
    evidence = ((f"_dmarc.{domain}: {policy.record}",) if policy else ()) + tuple(reasons)
    if reasons:
        return [
            _finding("dmarc_not_enforced", Status.FAIL, evidence, domain=domain, policy=summary)
        ], discovery.organisational_domain
    return [
        _finding("dmarc_enforced", Status.PASS, evidence, domain=domain, policy=summary)
    ], discovery.organisational_domain


def enforcement_gaps(discovery: Discovery, policy: DmarcPolicy | None) -> list[str]:
    """Why DMARC does not meet BIMI's requirement (draft §7.1 steps 7-9), in English; empty
    when it does."""
    if policy is None:
        return ["no DMARC record applies to the domain"]
    gaps: list[str] = []
    applied = policy.p if policy.found_at == discovery.domain else (policy.sp or policy.p)
    if policy.p == "none" or applied == "none":
        gaps.append(f"policy none at {policy.found_at} (p={policy.p}, sp={policy.sp or '-'})")
    elif policy.sp == "none":
        gaps.append(f"sp=none at {policy.found_at}")
    if applied == "quarantine" and policy.pct != 100:
        gaps.append(f"p=quarantine applies to only pct={policy.pct} of failing mail")
    if policy.testing:
        gaps.append("t=y: the policy is in testing mode")
    org = discovery.lookup(discovery.organisational_domain)
    if org is not None and org.domain != policy.found_at:
        org_record = org.parsed
        if org_record is not None and org_record.p == "none":
            gaps.append(f"the organisational domain {org.domain} has p=none")
    return gaps


def _summary(policy: DmarcPolicy | None) -> str:
    if policy is None:
        return ""
    tags = policy.tags
    shown = [f"p={policy.p}"]
    shown += [f"{name}={tags[name]}" for name in ("sp", "pct", "t") if name in tags]
    return "; ".join(shown)
