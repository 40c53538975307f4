"""What a DMARC record's tags say: malformed or unknown tags, policy strength, pct, test mode,
subdomain policies, alignment and psd. Pure: a parsed record in, findings out.

Receivers ignore unknown tags and replace bad values by defaults (RFC 7489 §6.3, RFC 9989), so
each problem is reported with what receivers will do instead. RFC 9989 removed pct, rf and ri
and added t and psd; both generations of receivers are in service, so the advice names both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from todoke.domains.checks.findings import Finding, Status, Value
from todoke.domains.dmarc_record import POLICIES, REMOVED_TAGS, DmarcRecord, Policy, TagProblem

#: policy strength, for "sp= is weaker than p="
STRENGTH: Final[dict[Policy, int]] = {policy: rank for rank, policy in enumerate(POLICIES)}
POLICY_TAGS: Final = frozenset({"p", "sp", "np"})


def dmarc_finding(
    name: str, status: Status, evidence: Iterable[str] = (), /, **values: Value
) -> Finding:
    return Finding(f"dmarc.{name}", status, values, tuple(evidence))


def problem_findings(domain: str, record: DmarcRecord) -> list[Finding]:
    """One finding per problem the parser found, in record order."""
    return [_problem(domain, record, problem) for problem in record.problems]


def _problem(domain: str, record: DmarcRecord, problem: TagProblem) -> Finding:
    evidence = (problem.message, record.text)
    if problem.kind == "unknown_tag":
        known = problem.expected
        return dmarc_finding(
            "unknown_tag", Status.WARN, evidence, domain=domain, tag=problem.tag, known=known
        )
    if problem.kind == "duplicate_tag":
        return dmarc_finding("duplicate_tag", Status.WARN, evidence, domain=domain, tag=problem.tag)
    if problem.kind == "bad_value":
        status = Status.FAIL if problem.tag in POLICY_TAGS else Status.WARN
        return dmarc_finding(
            "bad_value",
            status,
            evidence,
            domain=domain,
            tag=problem.tag,
            value=problem.value,
            expected=problem.expected,
        )
    if problem.tag == "p":
        return dmarc_finding("p_position", Status.INFO, evidence, domain=domain)
    status = Status.FAIL if problem.severity == "error" else Status.WARN
    return dmarc_finding("syntax", status, evidence, domain=domain, term=problem.value)


def policy_findings(
    domain: str, found_at: str, record: DmarcRecord, applied: Policy | None, tag: str
) -> list[Finding]:
    """How strongly receivers are asked to treat mail from `domain` that fails DMARC."""
    findings: list[Finding] = []
    if record.p is None:
        # RFC 7489 §6.6.3, RFC 9989: no valid p= counts as p=none only with a usable rua=.
        status = Status.WARN if applied is not None else Status.FAIL
        findings.append(dmarc_finding("policy_invalid", status, (record.text,), domain=found_at))
    if applied is None:
        return findings
    name, status = {
        "none": ("policy_none", Status.WARN),
        "quarantine": ("policy_quarantine", Status.INFO),
        "reject": ("policy_reject", Status.PASS),
    }[applied]
    values: dict[str, Value] = {"domain": domain, "policy": applied, "tag": tag}
    findings.append(dmarc_finding(name, status, (record.text,), found_at=found_at, **values))
    if record.testing:
        # RFC 9989 t=y: the policy one level below applies; no effect on p=none.
        testing = Status.INFO if applied == "none" else Status.WARN
        findings.append(
            dmarc_finding("testing", testing, (record.text,), domain=found_at, policy=applied)
        )
    return findings


def pct_findings(found_at: str, record: DmarcRecord) -> list[Finding]:
    """pct under 100 (RFC 7489 §6.3), and the tags RFC 9989 removed (pct, rf, ri)."""
    findings: list[Finding] = []
    pct = 100 if record.pct is None else record.pct
    sampled = pct < 100
    if sampled:
        findings.append(dmarc_finding("pct", Status.WARN, (record.text,), domain=found_at, pct=pct))
    # A sampling pct has its own finding, which already says RFC 9989 removed it.
    shown = sorted(REMOVED_TAGS - {"pct"} if sampled else REMOVED_TAGS)
    removed = ", ".join(f"{name}={record.tag_map[name]}" for name in shown if record.has(name))
    if removed:
        findings.append(
            dmarc_finding(
                "removed_tags", Status.INFO, (record.text,), domain=found_at, tags=removed
            )
        )
    return findings


def subdomain_findings(found_at: str, record: DmarcRecord) -> list[Finding]:
    """sp= or np= weaker than the policy they stand beside: subdomains are the easier target."""
    if record.p is None:
        return []
    findings: list[Finding] = []
    base: Policy = record.sp or record.p
    for tag, value, against, against_tag in (
        ("sp", record.sp, record.p, "p"),
        ("np", record.np, base, "sp" if record.sp else "p"),
    ):
        if value is not None and STRENGTH[value] < STRENGTH[against]:
            findings.append(
                dmarc_finding(
                    "subdomain_policy",
                    Status.WARN,
                    (record.text,),
                    domain=found_at,
                    tag=tag,
                    value=value,
                    policy=against,
                    policy_tag=against_tag,
                )
            )
    return findings


def alignment_findings(found_at: str, record: DmarcRecord) -> list[Finding]:
    """Strict alignment (RFC 7489 §3.1) fails mail signed or bounced by a subdomain."""
    if record.adkim != "s" and record.aspf != "s":
        return []
    return [
        dmarc_finding(
            "alignment",
            Status.INFO,
            (record.text,),
            domain=found_at,
            adkim=record.adkim,
            aspf=record.aspf,
        )
    ]


def psd_findings(domain: str, found_at: str, record: DmarcRecord) -> list[Finding]:
    """psd=y belongs to public suffix operators (RFC 9989); on an ordinary domain it makes every
    subdomain an organisation of its own, breaking relaxed alignment."""
    if found_at != domain or not record.has("psd") or record.psd == "u":
        return []
    status = Status.WARN if record.psd == "y" else Status.INFO
    return [dmarc_finding("psd", status, (record.text,), domain=found_at, psd=record.psd)]
