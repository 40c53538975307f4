"""What crosses the boundary: API responses and `--json` output of the DMARC area."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ReportRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    reporter: str
    report_id: str
    domain: str
    begin: datetime
    end: datetime
    records: int
    messages: int
    schema_version: str
    policy: dict[str, Any]
    channel: str
    received_at: datetime


class DayPoint(BaseModel):
    day: date
    messages: int
    dmarc_pass: int
    dmarc_fail: int
    spf_aligned: int
    dkim_aligned: int
    quarantined: int
    rejected: int


class DomainSummary(BaseModel):
    domain: str
    since: date
    until: date
    messages: int
    dmarc_pass: int
    dmarc_fail: int
    #: share of messages passing DMARC, 0..1; None when there is no mail in the period
    pass_rate: float | None
    spf_aligned: int
    dkim_aligned: int
    quarantined: int
    rejected: int
    reports: int
    records: int
    #: the policy the newest report quotes (p, sp, np, adkim, aspf, pct, ...); None if no report
    published_policy: dict[str, Any] | None
    days: list[DayPoint]


class FileErrorOut(BaseModel):
    file: str
    code: str
    error: str


class ReportCounts(BaseModel):
    aggregate: int
    failure: int
    tls: int


class IngestResult(BaseModel):
    """The outcome of an ingest: the same shape as `todoke dmarc ingest --json`."""

    files: int
    reports: ReportCounts
    records: int
    messages: int
    duplicates: int
    errors: list[FileErrorOut]


class SourceNetworkIn(BaseModel):
    network: str = Field(description="An IP address or CIDR range, e.g. 203.0.113.0/26")
    label: str = Field("", max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=20)


class SourceNetworkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    network: str
    label: str
    tags: list[str]
    created_at: datetime


class SenderOut(BaseModel):
    key: str
    name: str
    name_ja: str
    category: str
    matched_by: str
    tags: list[str]


class SourceOut(BaseModel):
    #: position in the table over every page: messages descending, then address
    rank: int
    source_ip: str
    ptr_name: str | None
    sender: SenderOut | None
    messages: int
    dmarc_pass: int
    dmarc_fail: int
    spf_aligned: int
    dkim_aligned: int
    classification: str
    #: which rule of the classification decided it (documented in dmarc.analysis.classify)
    rule: str
    dominant_pattern: str | None


class SourcesOut(BaseModel):
    domain: str
    since: date
    until: date
    #: when the stored analysis answering this was computed (the figures are as of then);
    #: None when computed for this request (a range other than the last 14, 30 or 90 days)
    computed_at: datetime | None
    page: int
    per_page: int
    #: sources matching the request over every page, and the number of pages
    total: int
    pages: int
    #: all mail of the period
    messages: int
    dmarc_pass: int
    sources: list[SourceOut]


class AffectedSourceOut(BaseModel):
    source_ip: str
    sender: str | None
    messages: int


class PatternOut(BaseModel):
    pattern: str
    messages: int
    title: str
    meaning: str
    why: str
    action: str
    sender_specific: str | None
    sender_fixes: dict[str, str]
    #: the largest affected sources (at most 20); source_count counts them all
    sources: list[AffectedSourceOut]
    source_count: int


class PatternsOut(BaseModel):
    domain: str
    since: date
    until: date
    #: as in SourcesOut
    computed_at: datetime | None
    patterns: list[PatternOut]


class BlockerOut(BaseModel):
    source_ip: str
    sender: str | None
    classification: str
    messages: int
    failing: int
    dominant_pattern: str | None
    blocking: bool
    #: more than one: the smaller failing sources of this classification added up (then
    #: source_ip is the classification in brackets)
    sources: int = 1


class ReadinessOut(BaseModel):
    domain: str
    #: the 30 days judged (the last 14 of them separately)
    since: date
    until: date
    #: as in SourcesOut
    computed_at: datetime | None
    stage: str
    ready: bool
    enough_data: bool
    days_with_data: int
    pass_rate_14: float | None
    pass_rate_30: float | None
    legitimate_messages_30: int
    next_record: str | None
    next_record_alternative: str | None
    blockers: list[BlockerOut]
    reasons: list[str]


class InventoryOut(BaseModel):
    domain: str
    organizational_domain: str
    status: str
    messages: int
    dmarc_pass: int
    recommendation: str
