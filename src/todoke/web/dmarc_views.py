"""What the DMARC pages show, composed from the engine's read models (no queries here).

Every figure on a page comes from `queries`, `insights` or `posture` unchanged; this module only
puts several answers side by side (one row per domain, days added up across domains) so the
tests can check the page against the same functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor
from todoke.dmarc import insights, posture, presenters, queries
from todoke.dmarc.analyses import SourceFilter
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
class DomainRow:
    summary: DomainSummary
    readiness: ReadinessOut
    #: registered / subdomain / unregistered, from the inventory; None if not in it
    status: str | None


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
    """Every domain reports were received for, its figures and readiness, and the sources
    failing the most mail across them."""
    names = queries.reported_domains(session, org=org, acting_user=acting_user)
    statuses = posture.registration_statuses(
        session, org=org, acting_user=acting_user, domains=names
    )
    rows: list[DomainRow] = []
    failing: list[FailingSource] = []
    for name in names:
        summary = queries.domain_summary(
            session, org=org, domain=name, acting_user=acting_user, since=since
        )
        judged = readiness(
            session, org=org, domain=name, acting_user=acting_user, locale=locale,
            receiver_domain=receiver_domain,
        )  # fmt: skip
        rows.append(DomainRow(summary=summary, readiness=judged, status=statuses.get(name)))
        found = insights.domain_sources(
            session, org=org, domain=name, acting_user=acting_user, since=since,
            per_page=TOP_FAILING, wanted=SourceFilter(result="fail"),
        )  # fmt: skip
        failing.extend(FailingSource(name, presenters.source_out(row)) for row in found.sources)
    failing.sort(key=lambda item: (-item.source.dmarc_fail, item.domain, item.source.rank))
    rows.sort(key=lambda row: (-row.summary.messages, row.summary.domain))
    start = rows[0].summary.since if rows else None
    end = rows[0].summary.until if rows else None
    days = add_days([row.summary for row in rows])
    return Overview(rows, days, failing[:TOP_FAILING], start, end)


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
