"""Exports of raw records as CSV and JSON, streamed so a year of records never sits in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.dmarc.models import DmarcRecord, DmarcReport, DmarcShape
from todoke.dmarc.queries import DEFAULT_PERIOD_DAYS, period

STREAM_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class ExportRow:
    day: date
    reporter: str
    report_id: str
    domain: str
    source_ip: str
    messages: int
    disposition: str
    dmarc: str
    header_from: str
    envelope_from: str | None
    spf_domain: str | None
    spf_result: str | None
    spf_aligned: bool
    dkim_domain: str | None
    dkim_selector: str | None
    dkim_result: str | None
    dkim_aligned: bool
    override: str | None


COLUMNS = tuple(ExportRow.__dataclass_fields__)


def export_records(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
    until: date | None = None,
) -> Iterator[ExportRow]:
    """The domain's records in the period, oldest first, read in batches from the server."""
    require(acting_user, "dmarc.view", org=org)
    start, end = period(session, since, until, DEFAULT_PERIOD_DAYS)
    query = (
        select(DmarcRecord, DmarcReport.reporter_org, DmarcReport.report_id, DmarcShape)
        .join(DmarcReport, DmarcReport.id == DmarcRecord.report_pk)
        .join(DmarcShape, DmarcShape.id == DmarcRecord.shape_id)
        .where(
            DmarcRecord.organisation_id == org.id,
            DmarcRecord.domain == domain.lower().rstrip("."),
            DmarcRecord.day >= start,
            DmarcRecord.day <= end,
        )
        .order_by(DmarcRecord.day, DmarcRecord.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    for record, reporter, report_id, shape in session.execute(query):
        yield ExportRow(
            day=record.day,
            reporter=reporter,
            report_id=report_id,
            domain=record.domain,
            source_ip=record.source_ip,
            messages=record.message_count,
            disposition=shape.disposition,
            dmarc="pass" if shape.dkim_aligned or shape.spf_aligned else "fail",
            header_from=shape.header_from,
            envelope_from=record.envelope_from,
            spf_domain=shape.spf_domain,
            spf_result=shape.spf_result,
            spf_aligned=shape.spf_aligned,
            dkim_domain=shape.dkim_domain,
            dkim_selector=shape.dkim_selector,
            dkim_result=shape.dkim_result,
            dkim_aligned=shape.dkim_aligned,
            override=shape.override,
        )


def _csv_safe(value: Any) -> Any:
    """Spreadsheet formula injection: a reporter controls these strings, so a leading = + - @
    must not turn a cell into a formula when the export is opened in Excel."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(rows: Iterator[ExportRow]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield "\ufeff".encode() + buffer.getvalue().encode()
    for index, row in enumerate(rows, 1):
        if index == 1 or buffer.tell() == 0:
            buffer.seek(0)
            buffer.truncate()
        writer.writerow([_csv_safe(value) for value in asdict(row).values()])
        if index % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def as_json(rows: Iterator[ExportRow]) -> Iterator[bytes]:
    yield b"["
    for index, row in enumerate(rows):
        prefix = b"," if index else b""
        yield prefix + json.dumps(asdict(row), default=str, ensure_ascii=False).encode()
    yield b"]"
