"""Read models of the DMARC area for pages, API and CLI; every one checks `dmarc.view`.

Summaries read the roll-up tables only, so their cost depends on days and sources in the period,
never on how many raw records are stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.context import clock_of
from todoke.dmarc.models import DmarcDayStats, DmarcReport
from todoke.dmarc.schemas import DayPoint, DomainSummary, ReportRow

DEFAULT_PERIOD_DAYS = 30


def period(
    session: Session, since: date | None, until: date | None, days: int
) -> tuple[date, date]:
    """The inclusive date range asked for; by default the last `days` days up to today (UTC)."""
    end = until or clock_of(session).now().date()
    start = since or end - timedelta(days=days - 1)
    return start, end


def list_reports(
    session: Session,
    *,
    org: Organisation,
    acting_user: Actor,
    domain: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ReportRow]:
    require(acting_user, "dmarc.view", org=org)
    query = (
        select(DmarcReport)
        .where(DmarcReport.organisation_id == org.id)
        .order_by(DmarcReport.end_at.desc(), DmarcReport.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if domain:
        query = query.where(DmarcReport.domain == domain.lower().rstrip("."))
    return [
        ReportRow(
            id=report.id,
            reporter=report.reporter_org,
            report_id=report.report_id,
            domain=report.domain,
            begin=report.begin_at,
            end=report.end_at,
            records=report.record_count,
            messages=report.message_count,
            schema_version=report.schema,
            policy=report.policy,
            channel=report.channel,
            received_at=report.received_at,
        )
        for report in session.scalars(query)
    ]


def latest_policy(session: Session, org: Organisation, domain: str) -> dict[str, Any] | None:
    return session.scalar(
        select(DmarcReport.policy)
        .where(DmarcReport.organisation_id == org.id, DmarcReport.domain == domain)
        .order_by(DmarcReport.end_at.desc())
        .limit(1)
    )


def domain_summary(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
    until: date | None = None,
) -> DomainSummary:
    require(acting_user, "dmarc.view", org=org)
    domain = domain.lower().rstrip(".")
    start, end = period(session, since, until, DEFAULT_PERIOD_DAYS)
    rows = session.scalars(
        select(DmarcDayStats)
        .where(
            DmarcDayStats.organisation_id == org.id,
            DmarcDayStats.domain == domain,
            DmarcDayStats.day >= start,
            DmarcDayStats.day <= end,
        )
        .order_by(DmarcDayStats.day)
    ).all()
    days = [
        DayPoint(
            day=row.day,
            messages=row.messages,
            dmarc_pass=row.dmarc_pass,
            dmarc_fail=row.messages - row.dmarc_pass,
            spf_aligned=row.spf_aligned,
            dkim_aligned=row.dkim_aligned,
            quarantined=row.quarantined,
            rejected=row.rejected,
        )
        for row in rows
    ]
    messages = sum(row.messages for row in rows)
    passing = sum(row.dmarc_pass for row in rows)
    return DomainSummary(
        domain=domain,
        since=start,
        until=end,
        messages=messages,
        dmarc_pass=passing,
        dmarc_fail=messages - passing,
        pass_rate=passing / messages if messages else None,
        spf_aligned=sum(row.spf_aligned for row in rows),
        dkim_aligned=sum(row.dkim_aligned for row in rows),
        quarantined=sum(row.quarantined for row in rows),
        rejected=sum(row.rejected for row in rows),
        reports=sum(row.reports for row in rows),
        records=sum(row.records for row in rows),
        published_policy=latest_policy(session, org, domain),
        days=days,
    )


def reported_domains(session: Session, *, org: Organisation, acting_user: Actor) -> list[str]:
    """Every domain that reports have been received for, alphabetically."""
    require(acting_user, "dmarc.view", org=org)
    return list(
        session.scalars(
            select(DmarcDayStats.domain)
            .where(DmarcDayStats.organisation_id == org.id)
            .group_by(DmarcDayStats.domain)
            .order_by(DmarcDayStats.domain)
        )
    )


def count_reports(session: Session, *, org: Organisation) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(DmarcReport)
            .where(DmarcReport.organisation_id == org.id)
        )
        or 0
    )


def domain_totals(
    session: Session, *, org: Organisation, acting_user: Actor, since: date, until: date
) -> dict[str, tuple[int, int]]:
    """Per domain: (messages, passing DMARC) in [since, until], from one grouped query."""
    require(acting_user, "dmarc.view", org=org)
    rows = session.execute(
        select(
            DmarcDayStats.domain,
            func.sum(DmarcDayStats.messages),
            func.sum(DmarcDayStats.dmarc_pass),
        )
        .where(
            DmarcDayStats.organisation_id == org.id,
            DmarcDayStats.day >= since,
            DmarcDayStats.day <= until,
        )
        .group_by(DmarcDayStats.domain)
    ).all()
    return {domain: (int(messages or 0), int(passing or 0)) for domain, messages, passing in rows}
