"""What a monthly digest holds, free of language, and the calendar months it is about.

A digest is stored as this data, not as the page: pattern advice and readiness reasons are
made from it when it is read (`advise_patterns`, `ReadinessData.judge`), in the reader's
language and with the installation's report address (`rua=` of the next record). Storing both
languages instead would double every row and still leave the report address to the reader.

Serialised with pydantic's `TypeAdapter` over these dataclasses and the engine's own
(`AnalysedSource`, `PatternTally`, `SourceSummary`), so the stored JSON cannot drift from the
types; never pickled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from pydantic import TypeAdapter

from todoke.core.errors import InvalidInput
from todoke.dmarc.analyses import AnalysedSource, PatternTally
from todoke.dmarc.analysis import PatternId, Readiness, SourceSummary, assess_readiness
from todoke.dmarc.posture import READINESS_WINDOW_DAYS, RECENT_WINDOW_DAYS, policy_published
from todoke.dmarc.schemas import DomainSummary
from todoke.i18n import N_

#: how many rows each list of the digest shows; the totals are given beside them
TOP: Final = 10
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> date:
    """The first day of the month written YYYY-MM."""
    match = _MONTH.fullmatch(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise InvalidInput(
            N_("month %(month)r is not a month written YYYY-MM, e.g. 2025-04"), month=text
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True, slots=True)
class MonthPeriod:
    """The days a month's digest reads. Months are calendar months in UTC, like the roll-ups."""

    month: date
    #: the month's last day, or today while the month is running
    until: date

    @property
    def previous_since(self) -> date:
        return previous_month(self.month)

    @property
    def previous_until(self) -> date:
        return self.month - timedelta(days=1)

    @property
    def readiness_since(self) -> date:
        """Readiness is judged on the 30 days up to `until`, the last 14 of them apart."""
        return self.until - timedelta(days=READINESS_WINDOW_DAYS - 1)

    @property
    def recent_since(self) -> date:
        return self.until - timedelta(days=RECENT_WINDOW_DAYS - 1)

    @property
    def first_day(self) -> date:
        """The first day any part of the digest reads (the readiness window of a running
        month's first days can reach back past the month before)."""
        return min(self.previous_since, self.readiness_since)

    def running(self, today: date) -> bool:
        return self.until == today


def month_period(month: date, today: date) -> MonthPeriod:
    since = month.replace(day=1)
    if since > today:
        raise InvalidInput(N_("month %(month)s has not begun yet"), month=f"{since:%Y-%m}")
    return MonthPeriod(since, min(next_month(since) - timedelta(days=1), today))


@dataclass(frozen=True)
class ReadinessData:
    """What readiness is judged on, kept without the report address (given when read): the
    sources of the 30 days condensed as readiness condenses them (`condense`: the failing ones
    it lists one by one, the rest summed per kind), those of the last 14 days per kind."""

    since: date
    until: date
    #: the policy the newest report quotes, as the report stores it
    policy: dict[str, Any] | None
    days_with_data: int
    last_14: list[SourceSummary]
    last_30: list[SourceSummary]

    def judge(self, domain: str, report_uri: str | None) -> Readiness:
        return assess_readiness(
            policy_published(self.policy, domain),
            domain=domain,
            last_14=self.last_14,
            last_30=self.last_30,
            days_with_data=self.days_with_data,
            report_uri=report_uri,
        )


@dataclass(frozen=True)
class DigestData:
    """One domain's digest of one month, as stored."""

    domain: str
    month: date
    until: date
    summary: DomainSummary
    previous: DomainSummary
    readiness: ReadinessData
    #: the sources failing the most mail, with their rank in the month's sources table
    failing: list[AnalysedSource]
    failing_total: int
    #: every error pattern of the month, largest first, as the patterns page tallies them
    patterns: list[PatternTally]
    #: addresses sending this month that sent nothing the month before, largest first
    new_sources: list[AnalysedSource]
    new_sources_total: int
    #: addresses failing DMARC this month that failed nothing the month before
    new_failures: list[AnalysedSource]
    new_failures_total: int
    #: error patterns of this month that the month before did not have
    new_patterns: list[PatternId]
    #: addresses sending for the domain in the month: what recomputing the digest costs
    sources: int


DIGEST_DATA: Final = TypeAdapter(DigestData)
