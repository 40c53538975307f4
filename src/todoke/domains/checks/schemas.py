"""A domain check as it crosses the boundary (API responses, `todoke domain check --json`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from todoke.domains.checks.findings import Finding, Status, Value, describe
from todoke.domains.checks.runner import DomainCheck


class FindingOut(BaseModel):
    id: str = Field(description="Stable identifier, e.g. spf.lookup_limit")
    section: str
    status: Status
    message: str
    advice: str
    values: dict[str, Value]
    evidence: list[str]


class DomainCheckOut(BaseModel):
    domain: str
    status: Status = Field(description="The worst status among the findings")
    checked_at: datetime
    seconds: float
    dns_queries: int
    findings: list[FindingOut]


class DomainCheckIn(BaseModel):
    domain: str = Field(min_length=3, max_length=253, examples=["example.jp"])
    selectors: list[str] = Field(default_factory=list, max_length=20)


def finding_out(finding: Finding, locale: str) -> FindingOut:
    words = describe(finding, locale)
    return FindingOut(
        id=finding.id,
        section=finding.section,
        status=finding.status,
        message=words.message,
        advice=words.advice,
        values=dict(finding.values),
        evidence=list(finding.evidence),
    )


def check_out(check: DomainCheck, locale: str) -> DomainCheckOut:
    return DomainCheckOut(
        domain=check.domain,
        status=check.status,
        checked_at=check.checked_at,
        seconds=round(check.seconds, 3),
        dns_queries=check.dns_queries,
        findings=[finding_out(item, locale) for item in check.findings],
    )
