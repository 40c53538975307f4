"""Read models the report pages browse: one source's records and the reports they came from,
TLS reports and failure reports (personal data masked unless the reader may see it); the
sources page's analyses are in `browse_sources`. Every one checks
`dmarc.view`; a failure report's personal data also needs `dmarc.view_personal_data`.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, has_permission, require
from todoke.core.errors import InvalidInput, NotFound
from todoke.dmarc.models import (
    DmarcFailureReport,
    DmarcRecord,
    DmarcReport,
    DmarcShape,
    TlsReport,
)
from todoke.dmarc.queries import DEFAULT_PERIOD_DAYS, period
from todoke.i18n import N_

#: RFC 6591 §3.1 fields that carry the original message's addresses, subject and headers
PERSONAL_FIELDS = (
    "original_mail_from", "original_rcpt_to", "subject", "message_id", "original_headers",
    "authentication_results",
)  # fmt: skip


_T = TypeVar("_T")


@dataclass(frozen=True)
class Paged(Generic[_T]):
    items: list[_T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _check_page(page: int, per_page: int) -> None:
    if page < 1 or per_page < 1:
        raise InvalidInput(
            N_("page (%(page)s) and per_page (%(per_page)s) start at 1"),
            page=page,
            per_page=per_page,
        )


@dataclass(frozen=True)
class RecordRow:
    day: date
    messages: int
    disposition: str
    dmarc_pass: bool
    header_from: str
    envelope_from: str | None
    spf_domain: str | None
    spf_result: str | None
    spf_aligned: bool
    dkim_domain: str | None
    dkim_selector: str | None
    dkim_result: str | None
    dkim_aligned: bool
    report_pk: int
    reporter: str
    report_id: str


@dataclass(frozen=True)
class SourceReport:
    """A report naming the source: who sent it, its range, and the source's share of it."""

    report_pk: int
    reporter: str
    report_id: str
    begin: datetime
    end: datetime
    records: int
    messages: int


@dataclass(frozen=True)
class SourceRecords:
    domain: str
    source_ip: str
    since: date
    until: date
    records: Paged[RecordRow]
    reports: list[SourceReport]
    messages: int
    dmarc_pass: int


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise InvalidInput(N_("%(address)r is not an IP address"), address=text) from None


def source_records(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    source_ip: str,
    acting_user: Actor,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> SourceRecords:
    """The raw records of one source address for `domain` in the period, newest first, and
    every report they came from (drill-down from the sources table)."""
    require(acting_user, "dmarc.view", org=org)
    _check_page(page, per_page)
    domain = domain.lower().rstrip(".")
    address = _address(source_ip)
    start, end = period(session, since, until, DEFAULT_PERIOD_DAYS)
    where = (
        DmarcRecord.organisation_id == org.id,
        DmarcRecord.domain == domain,
        DmarcRecord.source_ip == address,
        DmarcRecord.day >= start,
        DmarcRecord.day <= end,
    )
    aligned = DmarcShape.dkim_aligned | DmarcShape.spf_aligned
    count, messages = session.execute(
        select(func.count(), func.coalesce(func.sum(DmarcRecord.message_count), 0)).where(*where)
    ).one()
    passing = session.scalar(
        select(func.coalesce(func.sum(DmarcRecord.message_count), 0))
        .join(DmarcShape, DmarcShape.id == DmarcRecord.shape_id)
        .where(*where, aligned)
    )
    rows = session.execute(
        select(DmarcRecord, DmarcShape, DmarcReport.reporter_org, DmarcReport.report_id)
        .join(DmarcShape, DmarcShape.id == DmarcRecord.shape_id)
        .join(DmarcReport, DmarcReport.id == DmarcRecord.report_pk)
        .where(*where)
        .order_by(DmarcRecord.day.desc(), DmarcRecord.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    records = [_record_row(record, shape, reporter, rid) for record, shape, reporter, rid in rows]
    return SourceRecords(
        domain=domain,
        source_ip=address,
        since=start,
        until=end,
        records=Paged(records, page, per_page, int(count)),
        reports=_reports_of(session, where),
        messages=int(messages),
        dmarc_pass=int(passing or 0),
    )


def _record_row(record: DmarcRecord, shape: DmarcShape, reporter: str, rid: str) -> RecordRow:
    return RecordRow(
        day=record.day,
        messages=record.message_count,
        disposition=shape.disposition,
        dmarc_pass=shape.dkim_aligned or shape.spf_aligned,
        header_from=shape.header_from,
        envelope_from=record.envelope_from,
        spf_domain=shape.spf_domain,
        spf_result=shape.spf_result,
        spf_aligned=shape.spf_aligned,
        dkim_domain=shape.dkim_domain,
        dkim_selector=shape.dkim_selector,
        dkim_result=shape.dkim_result,
        dkim_aligned=shape.dkim_aligned,
        report_pk=record.report_pk,
        reporter=reporter,
        report_id=rid,
    )


#: a source's reports listed on its page; one reporter sends one a day, so a quarter fits
MAX_SOURCE_REPORTS = 100


def _reports_of(session: Session, where: tuple[Any, ...]) -> list[SourceReport]:
    rows = session.execute(
        select(
            DmarcReport.id, DmarcReport.reporter_org, DmarcReport.report_id,
            DmarcReport.begin_at, DmarcReport.end_at, func.count(DmarcRecord.id),
            func.sum(DmarcRecord.message_count),
        )
        .join(DmarcReport, DmarcReport.id == DmarcRecord.report_pk)
        .where(*where)
        .group_by(
            DmarcReport.id, DmarcReport.reporter_org, DmarcReport.report_id,
            DmarcReport.begin_at, DmarcReport.end_at,
        )
        .order_by(DmarcReport.end_at.desc(), DmarcReport.id.desc())
        .limit(MAX_SOURCE_REPORTS)
    ).all()  # fmt: skip
    return [
        SourceReport(pk, reporter, rid, begin, end, int(count), int(messages or 0))
        for pk, reporter, rid, begin, end, count, messages in rows
    ]


@dataclass(frozen=True)
class TlsPolicyRow:
    policy_type: str
    policy_domain: str
    successful: int
    failed: int
    #: failure result types (RFC 8460 §4.3) with their session counts, largest first
    failures: list[tuple[str, int]]


@dataclass(frozen=True)
class TlsReportRow:
    id: int
    organization_name: str
    report_id: str
    begin: datetime
    end: datetime
    successful: int
    failed: int
    policies: list[TlsPolicyRow]
    received_at: datetime


def _tls_policy(value: dict[str, Any]) -> TlsPolicyRow:
    counts: dict[str, int] = {}
    for failure in value.get("failures") or ():
        kind = str(failure.get("result_type") or "unknown")
        counts[kind] = counts.get(kind, 0) + int(failure.get("failed_session_count") or 0)
    return TlsPolicyRow(
        policy_type=str(value.get("policy_type") or ""),
        policy_domain=str(value.get("policy_domain") or ""),
        successful=int(value.get("total_successful") or 0),
        failed=int(value.get("total_failure") or 0),
        failures=sorted(counts.items(), key=lambda item: (-item[1], item[0])),
    )


_Row = TypeVar("_Row", TlsReport, DmarcFailureReport)


def _newest_first(
    session: Session,
    model: type[_Row],
    mine: ColumnElement[bool],
    order: tuple[Any, ...],
    page: int,
    per_page: int,
) -> tuple[int, Sequence[_Row]]:
    """(how many reports there are, those of page `page` in `order`)."""
    total = session.scalar(select(func.count()).select_from(model).where(mine))
    query = select(model).where(mine).order_by(*order).offset((page - 1) * per_page)
    return int(total or 0), session.scalars(query.limit(per_page)).all()


def tls_reports(
    session: Session, *, org: Organisation, acting_user: Actor, page: int = 1, per_page: int = 50
) -> Paged[TlsReportRow]:
    """SMTP TLS reports (RFC 8460), newest first, with each policy's result."""
    require(acting_user, "dmarc.view", org=org)
    _check_page(page, per_page)
    total, rows = _newest_first(
        session, TlsReport, TlsReport.organisation_id == org.id,
        (TlsReport.end_at.desc(), TlsReport.id.desc()), page, per_page,
    )  # fmt: skip
    items = [
        TlsReportRow(
            id=row.id,
            organization_name=row.organization_name,
            report_id=row.report_id,
            begin=row.begin_at,
            end=row.end_at,
            successful=row.total_successful,
            failed=row.total_failure,
            policies=[_tls_policy(policy) for policy in row.policies],
            received_at=row.received_at,
        )
        for row in rows
    ]
    return Paged(items, page, per_page, total)


@dataclass(frozen=True)
class FailureReportRow:
    """A failure report (RFC 6591); the personal fields are None unless `personal_shown`."""

    id: int
    reporter: str
    feedback_type: str
    arrival_date: datetime | None
    source_ip: str | None
    reported_domain: str | None
    auth_failure: str | None
    delivery_result: str | None
    header_from: str | None
    dkim_domain: str | None
    dkim_selector: str | None
    received_at: datetime
    personal_shown: bool
    original_mail_from: str | None = None
    original_rcpt_to: str | None = None
    subject: str | None = None
    message_id: str | None = None
    original_headers: str | None = None
    authentication_results: str | None = None


def _failure_row(row: DmarcFailureReport, personal: bool) -> FailureReportRow:
    extra = {name: getattr(row, name) for name in PERSONAL_FIELDS} if personal else {}
    return FailureReportRow(
        id=row.id,
        reporter=row.reporter,
        feedback_type=row.feedback_type,
        arrival_date=row.arrival_date,
        source_ip=row.source_ip,
        reported_domain=row.reported_domain,
        auth_failure=row.auth_failure,
        delivery_result=row.delivery_result,
        header_from=row.header_from,
        dkim_domain=row.dkim_domain,
        dkim_selector=row.dkim_selector,
        received_at=row.received_at,
        personal_shown=personal,
        **extra,
    )


def failure_reports(
    session: Session, *, org: Organisation, acting_user: Actor, page: int = 1, per_page: int = 50
) -> Paged[FailureReportRow]:
    """Failure reports, newest first; personal data only for `dmarc.view_personal_data`."""
    require(acting_user, "dmarc.view", org=org)
    _check_page(page, per_page)
    personal = has_permission(acting_user, "dmarc.view_personal_data", org=org)
    order = (DmarcFailureReport.received_at.desc(), DmarcFailureReport.id.desc())
    total, rows = _newest_first(
        session, DmarcFailureReport, DmarcFailureReport.organisation_id == org.id, order, page,
        per_page,
    )  # fmt: skip
    items = [_failure_row(row, personal) for row in rows]
    return Paged(items, page, per_page, total)


def failure_report(
    session: Session, *, org: Organisation, report_id: int, acting_user: Actor
) -> FailureReportRow:
    require(acting_user, "dmarc.view", org=org)
    row = session.get(DmarcFailureReport, report_id)
    if row is None or row.organisation_id != org.id:
        raise NotFound(N_("no failure report %(id)s"), id=report_id)
    personal = has_permission(acting_user, "dmarc.view_personal_data", org=org)
    return _failure_row(row, personal)
