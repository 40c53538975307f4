"""A domain's sources as one reporter saw them, and the reporters seen for a domain.

The roll-up (`dmarc_source_day`) has no reporter, so this reads the raw records of that
reporter's reports: the reports come from `ix_dmarc_report_org_domain_end`, their records from
`ix_dmarc_record_report_pk`, and the sums per address and shape feed the same classification as
the roll-up (`insights.classify_groups`). Its cost grows with the reporter's records in the
period (measured in docs/dmarc.md, "Pages"), never with the other reporters'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.dmarc import insights
from todoke.dmarc.analyses import SourceFilter, window_ending
from todoke.dmarc.analyses.compute import AddressGroup, cut_columns, read_groups
from todoke.dmarc.insights import SourcesPage
from todoke.dmarc.models import DmarcRecord, DmarcReport
from todoke.dmarc.queries import DEFAULT_PERIOD_DAYS, period

__all__ = ["reporter_sources", "reporters_seen"]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _in_period(org_id: int, domain: str, since: date, until: date) -> list[ColumnElement[bool]]:
    """The reports whose records fall in [since, until]: a record's day is its report's first
    day (ingest), so the report began in the range; that it ended after the range began is
    implied, and bounds the range of `ix_dmarc_report_org_domain_end` read."""
    report = DmarcReport
    return [
        report.organisation_id == org_id,
        report.domain == domain,
        report.end_at >= _start_of(since),
        report.begin_at >= _start_of(since),
        report.begin_at < _start_of(until + timedelta(days=1)),
    ]


def reporters_seen(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
    until: date | None = None,
) -> list[str]:
    """Every reporter with a report on `domain` in the period (default: the last 30 days),
    alphabetically."""
    require(acting_user, "dmarc.view", org=org)
    domain = domain.lower().rstrip(".")
    start, end = period(session, since, until, DEFAULT_PERIOD_DAYS)
    query = (
        select(DmarcReport.reporter_org)
        .where(*_in_period(org.id, domain, start, end))
        .group_by(DmarcReport.reporter_org)
        .order_by(DmarcReport.reporter_org)
    )
    return list(session.scalars(query))


def _aggregate(
    session: Session,
    *,
    org_id: int,
    domain: str,
    reporter: str,
    until: date,
    cuts: Sequence[date],
) -> dict[str, AddressGroup]:
    """`analyses.compute.aggregate` over the raw records of one reporter's reports: per
    address and shape the messages from `cuts[0]` to `until`, and for every later cut the
    messages and records from that day on."""
    record = DmarcRecord
    columns = cut_columns(record.source_ip, record.shape_id, record.day, record.message_count, cuts)
    reports = select(DmarcReport.id).where(
        *_in_period(org_id, domain, cuts[0], until), DmarcReport.reporter_org == reporter
    )
    grouped = (
        select(*columns)
        .where(
            record.report_pk.in_(reports),
            record.day >= cuts[0],
            record.day <= until,
        )
        .group_by(record.source_ip, record.shape_id)
        .subquery()
    )
    return read_groups(session, org_id=org_id, grouped=grouped, cuts=cuts)


def reporter_sources(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    reporter: str,
    acting_user: Actor,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = insights.DEFAULT_PER_PAGE,
    wanted: SourceFilter | None = None,
) -> SourcesPage:
    """A page of the sources of `domain` counting only the records `reporter` sent, largest
    first, always computed live (`computed_at` None); ranks, totals and filters as
    `insights.domain_sources` gives them for all reporters."""
    require(acting_user, "dmarc.view", org=org)
    wanted = insights.checked_request(page, per_page, wanted)
    domain = domain.lower().rstrip(".")
    start, end = period(session, since, until, DEFAULT_PERIOD_DAYS)
    # The same "recent" split as the roll-up's answer, so rows read alike either way.
    cuts = insights.window_cuts(start, window_ending((end - start).days + 1, end).recent_since)
    groups = _aggregate(
        session, org_id=org.id, domain=domain, reporter=reporter, until=end, cuts=cuts
    )
    views = insights.classify_groups(session, org=org, groups=groups, cuts=cuts)
    return insights.page_from_views(domain, start, end, None, views, wanted, page, per_page)
