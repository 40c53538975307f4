"""DMARC checks: which record applies to the domain, what it asks receivers to do, and whether
its reports can arrive.

Discovery (own record, else the organisational domain's) is `dmarc_discovery`, shared with the
BIMI section; the record is read by the validating parser `todoke.domains.dmarc_record`.
"""

from __future__ import annotations

from typing import Final

from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.dmarc_discovery import Discovery, applied_policies, discover
from todoke.domains.checks.dmarc_reports import external_findings, uri_findings
from todoke.domains.checks.dmarc_tags import (
    alignment_findings,
    dmarc_finding,
    pct_findings,
    policy_findings,
    problem_findings,
    psd_findings,
    subdomain_findings,
)
from todoke.domains.checks.findings import Finding, Status
from todoke.domains.dmarc_record import (
    DmarcRecord,
    NotDmarcRecord,
    Policy,
    is_dmarc_record,
    parse_dmarc_record,
)

#: Every finding name this section emits and the values it always fills (the placeholders its
#: words may use); "dns_error" takes its words from common.toml.
FINDINGS: Final[dict[str, frozenset[str]]] = {
    "missing": frozenset({"domain"}),
    "multiple": frozenset({"domain", "count"}),
    "version": frozenset({"domain", "text"}),
    "syntax": frozenset({"domain", "term"}),
    "unknown_tag": frozenset({"domain", "tag", "known"}),
    "bad_value": frozenset({"domain", "tag", "value", "expected"}),
    "duplicate_tag": frozenset({"domain", "tag"}),
    "p_position": frozenset({"domain"}),
    "policy_invalid": frozenset({"domain"}),
    "policy_none": frozenset({"domain", "found_at", "policy", "tag"}),
    "policy_quarantine": frozenset({"domain", "found_at", "policy", "tag"}),
    "policy_reject": frozenset({"domain", "found_at", "policy", "tag"}),
    "testing": frozenset({"domain", "policy"}),
    "pct": frozenset({"domain", "pct"}),
    "removed_tags": frozenset({"domain", "tags"}),
    "subdomain_policy": frozenset({"domain", "tag", "value", "policy", "policy_tag"}),
    "alignment": frozenset({"domain", "adkim", "aspf"}),
    "psd": frozenset({"domain", "psd"}),
    "inherited": frozenset({"domain", "found_at", "organisational_domain"}),
    "discovery_differs": frozenset({"domain", "tree_walk", "psl", "tree_walk_org", "psl_org"}),
    "rua_missing": frozenset({"domain"}),
    "uri_invalid": frozenset({"domain", "tag", "uri"}),
    "uri_unsupported": frozenset({"domain", "tag", "uri"}),
    "uri_size": frozenset({"domain", "tag", "uri", "size"}),
    "external_unauthorised": frozenset({"domain", "tag", "destination", "name"}),
    "external_authorised": frozenset({"domain", "tag", "destination", "name"}),
    "dns_error": frozenset({"name", "rdtype", "reason"}),
}
#: shown for "no policy" in discovery_differs, in either language
NO_POLICY: Final = "-"


async def check(context: CheckContext) -> list[Finding]:
    discovery = await discover(context, context.domain)
    findings = [*_published_problems(discovery), *_discovery_findings(discovery)]
    lookup = discovery.policy_lookup
    if lookup is None or lookup.record is None:
        if not any(item.status is Status.FAIL for item in findings):
            findings.append(dmarc_finding("missing", Status.FAIL, (), domain=discovery.domain))
        return findings
    record = parse_dmarc_record(lookup.record)
    found_at = lookup.domain
    policy, tag = _policy_for_domain(record, inherited=discovery.inherited)
    findings += [
        *problem_findings(found_at, record),
        *policy_findings(discovery.domain, found_at, record, policy, tag),
        *pct_findings(found_at, record),
        *subdomain_findings(found_at, record),
        *alignment_findings(found_at, record),
        *psd_findings(discovery.domain, found_at, record),
        *uri_findings(found_at, record),
        *await external_findings(context, found_at, record),
    ]
    return findings


def _policy_for_domain(record: DmarcRecord, *, inherited: bool) -> tuple[Policy | None, str]:
    """The policy that applies to the checked domain itself and the tag it comes from: p= of its
    own record, or sp= (else p=) of the record it inherits (RFC 7489 §6.6.3, RFC 9989)."""
    applied = applied_policies(record)
    if applied is None:
        return None, "p"
    p, sp, _ = applied
    if inherited and sp is not None:
        return sp, "sp"
    return p, "p"


def _published_problems(discovery: Discovery) -> list[Finding]:
    """Several records anywhere on the walk, and TXT at the domain's _dmarc name that was meant
    as DMARC but does not start with v=DMARC1 (receivers discard both)."""
    findings: list[Finding] = []
    for lookup in discovery.walk:
        if len(lookup.records) > 1:
            findings.append(
                dmarc_finding(
                    "multiple",
                    Status.FAIL,
                    lookup.records,
                    domain=lookup.domain,
                    count=len(lookup.records),
                )
            )
    for text in discovery.own.texts:
        if is_dmarc_record(text) or "dmarc" not in text.lower():
            continue
        try:
            parse_dmarc_record(text)
        except NotDmarcRecord as error:
            findings.append(
                dmarc_finding(
                    "version", Status.FAIL, (error.message,), domain=discovery.domain, text=text
                )
            )
    return findings


def _discovery_findings(discovery: Discovery) -> list[Finding]:
    findings: list[Finding] = []
    if discovery.inherited and discovery.policy_domain is not None:
        findings.append(
            dmarc_finding(
                "inherited",
                Status.INFO,
                _discovery_evidence(discovery),
                domain=discovery.domain,
                found_at=discovery.policy_domain,
                organisational_domain=discovery.organisational_domain,
            )
        )
    found = discovery.policy_domain is not None or discovery.psl_policy_domain is not None
    differs = (discovery.policy_domain != discovery.psl_policy_domain) or (
        found and discovery.organisational_domain != discovery.psl_organisational_domain
    )
    if differs:
        # A receiver that finds no policy applies no DMARC: worse than a different policy.
        one_missing = (discovery.policy_domain is None) != (discovery.psl_policy_domain is None)
        findings.append(
            dmarc_finding(
                "discovery_differs",
                Status.WARN if one_missing else Status.INFO,
                _discovery_evidence(discovery),
                domain=discovery.domain,
                tree_walk=discovery.policy_domain or NO_POLICY,
                psl=discovery.psl_policy_domain or NO_POLICY,
                tree_walk_org=discovery.organisational_domain,
                psl_org=discovery.psl_organisational_domain,
            )
        )
    return findings


def _discovery_evidence(discovery: Discovery) -> tuple[str, ...]:
    """What each name of the walk holds, in query order."""
    lines = []
    for lookup in (*discovery.walk, *discovery.others):
        shown = " | ".join(lookup.records) if lookup.records else "(no DMARC record)"
        lines.append(f"{lookup.name}: {shown}")
    return tuple(lines)
