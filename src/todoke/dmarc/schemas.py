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
