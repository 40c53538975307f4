"""The monthly digest: per domain, the month's figures, readiness, failing sources and error
patterns, and what changed since the month before; every answer checks `dmarc.view`.

Months are calendar months in UTC, like the day roll-ups. Sources and patterns are computed
live from `dmarc_source_day` (a month is no stored window) with the same code as the sources
table, so the digest and the domain pages agree on the same dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.context import clock_of
from todoke.core.errors import InvalidInput
from todoke.dmarc import posture, queries
from todoke.dmarc.analyses import AnalysedSource, PatternView, SourceView, from_view
from todoke.dmarc.identify import load_catalogue
from todoke.dmarc.insights import load_sources, patterns_from_sources
from todoke.dmarc.posture import DomainReadiness
from todoke.dmarc.schemas import DomainSummary

#: how many rows each list of the digest shows; the totals are given beside them
TOP = 10
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> date:
    """The first day of the month written YYYY-MM."""
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise InvalidInput(f"month {text!r} is not a month written YYYY-MM, e.g. 2025-04")
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class Changes:
    """What is new in the month against the month before."""

    #: addresses sending for the domain this month that sent nothing the month before
    new_sources: list[AnalysedSource]
    new_sources_total: int
    #: addresses failing DMARC this month that failed nothing the month before (new or not)
    new_failures: list[AnalysedSource]
    new_failures_total: int
    #: error patterns of this month that the month before did not have
    new_patterns: list[PatternView]


@dataclass(frozen=True)
class DomainDigest:
    summary: DomainSummary
    previous: DomainSummary
    #: judged on the 30 days up to the month's last day (or today, within the month)
    readiness: DomainReadiness
    #: the sources failing the most mail, with their rank in the month's sources table
    failing: list[AnalysedSource]
    failing_total: int
    patterns: list[PatternView]
    changes: Changes


@dataclass(frozen=True)
class MonthDigest:
    month: date
    since: date
    #: the month's last day, or today while the month is running
    until: date
    previous_since: date
    previous_until: date
    domains: list[DomainDigest]


def month_digest(
    session: Session,
    *,
    org: Organisation,
    acting_user: Actor,
    month: date,
    locale: str,
    domain: str | None = None,
    report_uri: str | None = None,
) -> MonthDigest:
    """The digest of `month` for every reported domain, or only `domain`."""
    require(acting_user, "dmarc.view", org=org)
    today = clock_of(session).now().date()
    since = month.replace(day=1)
    if since > today:
        raise InvalidInput(f"month {since:%Y-%m} has not begun yet")
    until = min(next_month(since) - timedelta(days=1), today)
    before = previous_month(since)
    before_until = since - timedelta(days=1)
    if domain is not None:
        names = [domain.lower().rstrip(".")]
    else:
        names = queries.reported_domains(session, org=org, acting_user=acting_user)
    digests = []
    for name in names:
        found = _domain_digest(
            session, org, acting_user, name, (since, until), (before, before_until),
            locale=locale, report_uri=report_uri, today=today,
        )  # fmt: skip
        digests.append(found)
    digests.sort(key=lambda item: (-item.summary.messages, item.summary.domain))
    return MonthDigest(since, since, until, before, before_until, digests)


def _domain_digest(
    session: Session,
    org: Organisation,
    acting_user: Actor,
    domain: str,
    period: tuple[date, date],
    previous: tuple[date, date],
    *,
    locale: str,
    report_uri: str | None,
    today: date,
) -> DomainDigest:
    catalogue = load_catalogue()
    summary = queries.domain_summary(
        session, org=org, domain=domain, acting_user=acting_user, since=period[0], until=period[1]
    )
    before = queries.domain_summary(
        session, org=org, domain=domain, acting_user=acting_user,
        since=previous[0], until=previous[1],
    )  # fmt: skip
    views = load_sources(
        session, org=org, domain=domain, since=period[0], until=period[1], catalogue=catalogue
    )
    earlier = load_sources(
        session, org=org, domain=domain, since=previous[0], until=previous[1], catalogue=catalogue
    )
    readiness = posture.domain_readiness(
        session, org=org, domain=domain, acting_user=acting_user, report_uri=report_uri,
        until=None if period[1] == today else period[1],
    )  # fmt: skip
    rows = [from_view(view, rank) for rank, view in enumerate(views, start=1)]
    failing = sorted(
        (row for row in rows if row.dmarc_fail), key=lambda row: (-row.dmarc_fail, row.rank)
    )
    patterns = patterns_from_sources(views, domain=domain, locale=locale, catalogue=catalogue)
    earlier_patterns = patterns_from_sources(
        earlier, domain=domain, locale=locale, catalogue=catalogue
    )
    return DomainDigest(
        summary=summary,
        previous=before,
        readiness=readiness,
        failing=failing[:TOP],
        failing_total=len(failing),
        patterns=patterns,
        changes=_changes(rows, earlier, patterns, earlier_patterns),
    )


def _changes(
    rows: list[AnalysedSource],
    earlier: list[SourceView],
    patterns: list[PatternView],
    earlier_patterns: list[PatternView],
) -> Changes:
    seen = {view.source_ip: view.messages - view.dmarc_pass for view in earlier if view.messages}
    new_sources = [row for row in rows if row.messages and row.source_ip not in seen]
    new_failures = sorted(
        (row for row in rows if row.dmarc_fail and not seen.get(row.source_ip)),
        key=lambda row: (-row.dmarc_fail, row.rank),
    )
    known = {pattern.pattern_id for pattern in earlier_patterns}
    return Changes(
        new_sources=new_sources[:TOP],
        new_sources_total=len(new_sources),
        new_failures=new_failures[:TOP],
        new_failures_total=len(new_failures),
        new_patterns=[pattern for pattern in patterns if pattern.pattern_id not in known],
    )
