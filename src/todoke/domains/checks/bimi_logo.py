"""The BIMI logo at `l=`: fetched over HTTPS and checked against SVG Tiny PS."""

from __future__ import annotations

from typing import Final

from todoke.domains.bimi import validate_svg
from todoke.domains.bimi.svg import RECOMMENDED_MAX_BYTES, SvgReport
from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding, Status
from todoke.domains.checks.https_fetch import FetchError, fetch

SVG_MEDIA_TYPE: Final = "image/svg+xml"

FINDINGS: Final[dict[str, frozenset[str]]] = {
    "logo_unreachable": frozenset({"url", "reason"}),
    "logo_content_type": frozenset({"url", "media_type"}),
    "svg_invalid": frozenset({"url", "problems", "count"}),
    "svg_too_large": frozenset({"url", "size", "limit"}),
    "svg_not_square": frozenset({"url", "dimensions"}),
    "svg_ok": frozenset({"url", "title", "size"}),
}


def _finding(
    kind: str, status: Status, evidence: tuple[str, ...] = (), /, **values: str | int
) -> Finding:
    return Finding(id=f"bimi.{kind}", status=status, values=values, evidence=evidence)


async def check_logo(context: CheckContext, url: str) -> tuple[list[Finding], bytes | None]:
    """Findings about the logo, and the SVG itself (decompressed) for comparing with the VMC."""
    try:
        fetched = await fetch(context.dns, context.options.https, url)
    except FetchError as error:
        return [_finding("logo_unreachable", Status.FAIL, (), url=url, reason=error.reason)], None
    findings: list[Finding] = []
    if fetched.media_type != SVG_MEDIA_TYPE:
        media_type = fetched.media_type or "none"
        findings.append(
            _finding("logo_content_type", Status.WARN, (), url=url, media_type=media_type)
        )
    report = validate_svg(fetched.body)
    findings += _svg_findings(url, report)
    return findings, report.svg or None


def _svg_findings(url: str, report: SvgReport) -> list[Finding]:
    findings: list[Finding] = []
    if report.errors:
        labels = list(dict.fromkeys(problem.label for problem in report.errors))
        evidence = tuple(problem.detail for problem in report.errors)
        findings.append(
            _finding(
                "svg_invalid",
                Status.FAIL,
                evidence,
                url=url,
                problems=", ".join(labels),
                count=len(labels),
            )
        )
    for warning in report.warnings:
        if warning.label == "size":
            findings.append(
                _finding(
                    "svg_too_large",
                    Status.WARN,
                    (warning.detail,),
                    url=url,
                    size=report.size,
                    limit=RECOMMENDED_MAX_BYTES,
                )
            )
        else:
            shape = "x".join(f"{side:g}" for side in report.dimensions or ())
            findings.append(
                _finding(
                    "svg_not_square", Status.WARN, (warning.detail,), url=url, dimensions=shape
                )
            )
    if report.valid:
        findings.append(
            _finding("svg_ok", Status.PASS, (), url=url, title=report.title or "", size=report.size)
        )
    return findings
