"""What the DMARC pages show, composed from the engine's read models (no queries here).

Every figure on a page comes from `queries`, `insights` or `posture` unchanged; this module only
puts several answers side by side (one row per domain, days added up across domains) so the
tests can check the page against the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor
from todoke.dmarc import posture, presenters, queries
from todoke.dmarc.analyses import AnalysedSource
from todoke.dmarc.highlights import Highlights, domain_highlights
from todoke.dmarc.schemas import DayPoint, DomainSummary, ReadinessOut, SourceOut

#: how many failing sources the overview lists, over every domain
TOP_FAILING = 10
#: the windows the stored analyses answer at once (dmarc.analyses); other ranges are slower
PERIODS = (14, 30, 90)
DEFAULT_DAYS: Final = 30
#: tag order of a DMARC record (RFC 7489 §6.3); a report quotes these, never rua/ruf
_RECORD_TAGS = (
    ("p", "p"), ("sp", "sp"), ("np", "np"), ("adkim", "adkim"), ("aspf", "aspf"), ("pct", "pct"),
    ("fo", "fo"), ("testing", "t"), ("psd", "psd"),
)  # fmt: skip


def report_uri(receiver_domain: str) -> str:
    return f"mailto:{receiver_address(receiver_domain)}"


def receiver_address(receiver_domain: str) -> str:
    return f"dmarc@{receiver_domain}"


def since_for(today: date, days: int) -> date | None:
    """The first day of the last `days` days; None for the default, so the stored 30-day
    analysis answers exactly as the API does without dates."""
    return None if days == DEFAULT_DAYS else today - timedelta(days=days - 1)


@dataclass(frozen=True)
class Totals:
    messages: int
    dmarc_pass: int


@dataclass(frozen=True)
class DomainRow:
    summary: DomainSummary
    #: the period of the same length just before
    previous: Totals
    readiness: ReadinessOut
    #: registered / subdomain / unregistered, from the inventory; None if not in it
    status: str | None
    highlights: Highlights


@dataclass(frozen=True)
class FailingSource:
    domain: str
    source: SourceOut


@dataclass(frozen=True)
class Overview:
    rows: list[DomainRow]
    days: list[DayPoint]
    failing: list[FailingSource]
    since: date | None
    until: date | None
    #: the period of the same length just before
    previous_since: date | None
    previous_until: date | None
    #: the largest new failures and new sources over every domain
    new_failures: list[FailingSource]
    new_sources: list[FailingSource]

    @property
    def previous_messages(self) -> int:
        return sum(row.previous.messages for row in self.rows)

    @property
    def previous_pass(self) -> int:
        return sum(row.previous.dmarc_pass for row in self.rows)

    @property
    def changes_pending(self) -> bool:
        """Some domain's changes are not known yet (its analysis predates them)."""
        return any(row.highlights.changes is None for row in self.rows)

    def change_total(self, field: str) -> int:
        return sum(
            getattr(row.highlights.changes, field) for row in self.rows if row.highlights.changes
        )

    @property
    def messages(self) -> int:
        return sum(row.summary.messages for row in self.rows)

    @property
    def dmarc_pass(self) -> int:
        return sum(row.summary.dmarc_pass for row in self.rows)


def add_days(summaries: Sequence[DomainSummary]) -> list[DayPoint]:
    """The days of several domains added up, oldest first."""
    totals: dict[date, dict[str, int]] = {}
    for summary in summaries:
        for point in summary.days:
            into = totals.setdefault(point.day, dict.fromkeys(_DAY_FIELDS, 0))
            for name in _DAY_FIELDS:
                into[name] += getattr(point, name)
    return [DayPoint(day=day, **values) for day, values in sorted(totals.items())]


_DAY_FIELDS = (
    "messages", "dmarc_pass", "dmarc_fail", "spf_aligned", "dkim_aligned", "quarantined",
    "rejected",
)  # fmt: skip


def overview(
    session: Session,
    *,
    org: Organisation,
    acting_user: Actor,
    locale: str,
    receiver_domain: str,
    since: date | None,
) -> Overview:
    """Every domain reports were received for, its figures, trend and readiness, the sources
    failing the most mail across them, and what changed since the period before."""
    names = queries.reported_domains(session, org=org, acting_user=acting_user)
    statuses = posture.registration_statuses(
        session, org=org, acting_user=acting_user, domains=names
    )
    rows: list[DomainRow] = []
    for name in names:
        summary = queries.domain_summary(
            session, org=org, domain=name, acting_user=acting_user, since=since
        )
        judged = readiness(
            session, org=org, domain=name, acting_user=acting_user, locale=locale,
            receiver_domain=receiver_domain,
        )  # fmt: skip
        found = domain_highlights(
            session, org=org, domain=name, acting_user=acting_user, since=since
        )
        rows.append(DomainRow(summary, Totals(0, 0), judged, statuses.get(name), found))
    if not rows:
        return Overview([], [], [], None, None, None, None, [], [])
    start, end = rows[0].summary.since, rows[0].summary.until
    before_since = start - (end - start) - timedelta(days=1)
    before_until = start - timedelta(days=1)
    before = queries.domain_totals(
        session, org=org, acting_user=acting_user, since=before_since, until=before_until
    )
    rows = [replace(row, previous=Totals(*before.get(row.summary.domain, (0, 0)))) for row in rows]
    rows.sort(key=lambda row: (-row.summary.messages, row.summary.domain))
    return Overview(
        rows=rows,
        days=add_days([row.summary for row in rows]),
        failing=_largest(rows, lambda found: found.most_failing, _most_failing),
        since=start,
        until=end,
        previous_since=before_since,
        previous_until=before_until,
        new_failures=_largest(rows, lambda found: found.new_failures, _most_failing),
        new_sources=_largest(rows, lambda found: found.new_sources, _most_messages),
    )


def _largest(
    rows: Sequence[DomainRow],
    listed: Callable[[Highlights], Sequence[AnalysedSource]],
    order: Callable[[FailingSource], tuple[int, str, int]],
) -> list[FailingSource]:
    """The TOP_FAILING first of the domains' lists, in `order`."""
    found = [
        FailingSource(row.summary.domain, presenters.source_out(source))
        for row in rows
        for source in listed(row.highlights)
    ]
    return sorted(found, key=order)[:TOP_FAILING]


def _most_messages(item: FailingSource) -> tuple[int, str, int]:
    return (-item.source.messages, item.domain, item.source.rank)


def _most_failing(item: FailingSource) -> tuple[int, str, int]:
    return (-item.source.dmarc_fail, item.domain, item.source.rank)


def trend(current: int, previous: int) -> str:
    """The change of a volume for people: "+12%", "−3%", "new" or "–" (nothing either time)."""
    if not previous:
        return "new" if current else "–"
    change = round((current - previous) * 100 / previous)
    return f"+{change}%" if change > 0 else f"−{-change}%" if change < 0 else "±0%"


def rate_change(summary: DomainSummary | Totals, previous: DomainSummary | Totals) -> str:
    """How the pass rate moved, in percentage points ("+1.5 pt"); "–" without both rates."""
    if not summary.messages or not previous.messages:
        return "–"
    points = (
        summary.dmarc_pass * 100 / summary.messages - previous.dmarc_pass * 100 / previous.messages
    )
    if abs(points) < 0.05:
        return "±0.0 pt"
    return f"+{points:.1f} pt" if points > 0 else f"−{-points:.1f} pt"


def readiness(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    locale: str,
    receiver_domain: str,
) -> ReadinessOut:
    answer = posture.domain_readiness(
        session, org=org, domain=domain, acting_user=acting_user,
        report_uri=report_uri(receiver_domain),
    )  # fmt: skip
    return presenters.readiness_out(domain.lower().rstrip("."), answer, locale)


def record_text(policy: Mapping[str, Any] | None) -> str | None:
    """The published policy as a report quotes it, written as a record (without rua/ruf,
    which reports do not carry)."""
    if not policy:
        return None
    parts = ["v=DMARC1"]
    for key, tag in _RECORD_TAGS:
        found = policy.get(key)
        if found is None or found == "":
            continue
        if isinstance(found, bool):
            found = "y" if found else "n"
        parts.append(f"{tag}={found}")
    return "; ".join(parts)


def chart_data(days: Sequence[DayPoint]) -> dict[str, list[Any]]:
    """What dmarc-charts.js draws: one label per day and the pass/fail stacks."""
    return {
        "labels": [point.day.isoformat() for point in days],
        "pass": [point.dmarc_pass for point in days],
        "fail": [point.dmarc_fail for point in days],
        "spf": [point.spf_aligned for point in days],
        "dkim": [point.dkim_aligned for point in days],
    }


def percent(part: int, whole: int) -> str:
    """A share for people: one decimal, never "100.0%" for something short of all."""
    if not whole:
        return "–"
    share = part * 100 / whole
    if part < whole and share > 99.9:
        return ">99.9%"
    return f"{share:.1f}%"


@dataclass(frozen=True)
class Linker:
    """Links to the same page with some query values changed (filters kept, page reset)."""

    path: str
    query: Mapping[str, object]

    def __call__(self, **changes: object) -> str:
        merged = {**self.query, "page": None, **changes}
        values = {key: str(value) for key, value in merged.items() if value not in (None, "")}
        return f"{self.path}?{urlencode(values)}" if values else self.path
