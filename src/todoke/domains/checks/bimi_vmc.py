"""The mark certificate (VMC or CMC) at `a=`: fetched over HTTPS and checked as receivers do."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from cryptography import x509

from todoke.domains.bimi import (
    BimiRecord,
    MarkCertificateReport,
    bundled_roots,
    check_mark_certificate,
)
from todoke.domains.bimi.vmc import MAX_PEM_BYTES, MarkProblem, ProblemCode
from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding, Status
from todoke.domains.checks.https_fetch import FetchError, fetch

FINDINGS: Final[dict[str, frozenset[str]]] = {
    "vmc_missing": frozenset({"name"}),
    "vmc_unreachable": frozenset({"url", "reason"}),
    "vmc_invalid": frozenset({"url", "reason"}),
    "vmc_chain_invalid": frozenset({"url", "reason"}),
    "vmc_untrusted": frozenset({"url", "issuer"}),
    "vmc_expired": frozenset({"url", "date"}),
    "vmc_not_yet_valid": frozenset({"url", "date"}),
    "vmc_eku_missing": frozenset({"url"}),
    "vmc_domain_mismatch": frozenset({"url", "names", "expected"}),
    "vmc_mark_type_unknown": frozenset({"url", "mark_type"}),
    "vmc_logo_missing": frozenset({"url"}),
    "vmc_logo_invalid": frozenset({"url", "reason"}),
    "vmc_logo_mismatch": frozenset({"url"}),
    "vmc_ok": frozenset({"url", "kind", "mark_type", "issuer", "date"}),
}

#: problem -> finding name; every one is a failure except an unknown mark type
_NAMES: Final[dict[ProblemCode, str]] = {
    "parse": "vmc_invalid",
    "chain": "vmc_chain_invalid",
    "untrusted": "vmc_untrusted",
    "expired": "vmc_expired",
    "not_yet_valid": "vmc_not_yet_valid",
    "eku": "vmc_eku_missing",
    "domain": "vmc_domain_mismatch",
    "mark_type": "vmc_mark_type_unknown",
    "logo_missing": "vmc_logo_missing",
    "logo_invalid": "vmc_logo_invalid",
    "logo_mismatch": "vmc_logo_mismatch",
}


def _finding(
    kind: str, status: Status, evidence: tuple[str, ...] = (), /, **values: str | int
) -> Finding:
    return Finding(id=f"bimi.{kind}", status=status, values=values, evidence=evidence)


async def check_authority(
    context: CheckContext,
    record: BimiRecord,
    *,
    name: str,
    domain: str,
    selector: str,
    logo: bytes | None,
) -> list[Finding]:
    """Findings about `a=` of the record at `name` (found for `selector` at `domain`)."""
    url = record.authority
    if url is None:
        return [_finding("vmc_missing", Status.INFO, (), name=name)]
    try:
        fetched = await fetch(context.dns, context.options.https, url, max_bytes=MAX_PEM_BYTES)
    except FetchError as error:
        return [_finding("vmc_unreachable", Status.FAIL, (), url=url, reason=error.reason)]
    anchors, notes = trust_anchors(context.options.bimi_trust_roots)
    report = check_mark_certificate(
        fetched.body, domain=domain, selector=selector, now=context.now, anchors=anchors, logo=logo
    )
    evidence = (*notes, *_evidence(report))
    findings = [_problem_finding(url, report, problem, evidence) for problem in report.problems]
    if all(finding.status is not Status.FAIL for finding in findings):
        findings.append(
            _finding(
                "vmc_ok",
                Status.PASS,
                evidence,
                url=url,
                kind=report.kind or "",
                mark_type=report.mark_type,
                issuer=report.anchor,
                date=f"{report.not_after:%Y-%m-%d}" if report.not_after else "",
            )
        )
    return findings


def trust_anchors(paths: tuple[Path, ...]) -> tuple[list[x509.Certificate], list[str]]:
    """The bundled issuer roots plus the configured ones; unreadable files are noted."""
    anchors = list(bundled_roots())
    notes: list[str] = []
    for path in paths:
        try:
            anchors += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as error:
            notes.append(f"trust root {path} could not be read: {error}")
    return anchors, notes


def _problem_finding(
    url: str, report: MarkCertificateReport, problem: MarkProblem, evidence: tuple[str, ...]
) -> Finding:
    name = _NAMES[problem.code]
    status = Status.WARN if problem.code == "mark_type" else Status.FAIL
    details = (problem.detail, *evidence)
    match problem.code:
        case "parse" | "chain" | "logo_invalid":
            return _finding(name, status, details, url=url, reason=problem.detail)
        case "untrusted":
            return _finding(name, status, details, url=url, issuer=report.top_issuer)
        case "expired":
            return _finding(name, status, details, url=url, date=_date(report, after=True))
        case "not_yet_valid":
            return _finding(name, status, details, url=url, date=_date(report, after=False))
        case "domain":
            expected = ", ".join(dict.fromkeys(report.expected_names))
            names = ", ".join(report.names)
            return _finding(name, status, details, url=url, names=names, expected=expected)
        case "mark_type":
            return _finding(name, status, details, url=url, mark_type=report.mark_type)
        case _:
            return _finding(name, status, details, url=url)


def _date(report: MarkCertificateReport, *, after: bool) -> str:
    moment = report.not_after if after else report.not_before
    return f"{moment:%Y-%m-%d}" if moment else ""


def _evidence(report: MarkCertificateReport) -> tuple[str, ...]:
    lines = [f"subject: {report.subject}", f"issuer: {report.issuer}"] if report.subject else []
    if report.names:
        lines.append("subjectAltName: " + ", ".join(report.names))
    if report.not_before and report.not_after:
        lines.append(f"valid: {report.not_before:%Y-%m-%d} to {report.not_after:%Y-%m-%d}")
    return tuple(lines)
