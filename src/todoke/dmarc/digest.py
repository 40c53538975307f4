"""The monthly digest: per domain, the month's figures, readiness, failing sources and error
patterns, and what changed since the month before; every answer checks `dmarc.view`.

Months are calendar months in UTC, like the day roll-ups. A domain's digest is computed from
`dmarc_source_day` with the same code as the sources table (`digest_compute`), stored without
language (`digest_data`) and read back as long as its data has not changed (`digest_store`);
the worker keeps the last complete month and the running one current (`digest_job`). Advice and
readiness are made from the stored data when read, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.context import clock_of
from todoke.dmarc import queries
from todoke.dmarc.analyses import AnalysedSource, PatternView, advise_patterns
from todoke.dmarc.digest_compute import compute_digest
from todoke.dmarc.digest_data import (
    TOP,
    DigestData,
    month_period,
    next_month,
    parse_month,
    previous_month,
)
from todoke.dmarc.digest_store import current_digest
from todoke.dmarc.identify import Catalogue, load_catalogue
from todoke.dmarc.posture import DomainReadiness
from todoke.dmarc.schemas import DomainSummary

__all__ = [
    "TOP",
    "Changes",
    "DomainDigest",
    "MonthDigest",
    "month_digest",
    "next_month",
    "parse_month",
    "previous_month",
]


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
    #: every error pattern, largest first, each with its TOP largest sources and the first of
    #: every other known sender (all its advice needs)
    patterns: list[PatternView]
    changes: Changes
    #: when the digest was computed (stored, or for this request)
    computed_at: datetime | None = None


@dataclass(frozen=True)
class MonthDigest:
    month: date
    since: date
    #: the month's last day, or today while the month is running
    until: date
    previous_since: date
    previous_until: date
    domains: list[DomainDigest]

    @property
    def computed_at(self) -> datetime | None:
        """The figures are as of this time: the oldest computation among the domains."""
        times = [item.computed_at for item in self.domains if item.computed_at is not None]
        return min(times) if times else None


def month_digest(
    session: Session,
    *,
    org: Organisation,
    acting_user: Actor,
    month: date,
    locale: str,
    domain: str | None = None,
    report_uri: str | None = None,
    live: bool = False,
) -> MonthDigest:
    """The digest of `month` for every reported domain, or only `domain`: stored digests where
    they are current, else computed now and stored (the caller commits to keep them); `live`
    computes every one now and stores nothing."""
    require(acting_user, "dmarc.view", org=org)
    period = month_period(month, clock_of(session).now().date())
    if domain is not None:
        names = [domain.lower().rstrip(".")]
    else:
        names = queries.reported_domains(session, org=org, acting_user=acting_user)
    catalogue = load_catalogue()
    digests = []
    for name in names:
        if live:
            computed = compute_digest(
                session, org=org, domain=name, period=period, acting_user=acting_user,
                catalogue=catalogue,
            )  # fmt: skip
            data, computed_at = computed.data, computed.computed_at
        else:
            data, computed_at = current_digest(
                session, org=org, domain=name, period=period, acting_user=acting_user,
                catalogue=catalogue,
            )  # fmt: skip
        digests.append(
            present(data, computed_at, locale=locale, report_uri=report_uri, catalogue=catalogue)
        )
    digests.sort(key=lambda item: (-item.summary.messages, item.summary.domain))
    return MonthDigest(
        period.month, period.month, period.until, period.previous_since, period.previous_until,
        digests,
    )  # fmt: skip


def present(
    data: DigestData,
    computed_at: datetime | None,
    *,
    locale: str,
    report_uri: str | None,
    catalogue: Catalogue,
) -> DomainDigest:
    """The digest in the reader's language, with the installation's report address."""
    patterns = advise_patterns(
        data.patterns, domain=data.domain, locale=locale, catalogue=catalogue
    )
    new = set(data.new_patterns)
    kept = data.readiness
    readiness = kept.judge(data.domain, report_uri)
    return DomainDigest(
        summary=data.summary,
        previous=data.previous,
        readiness=DomainReadiness(readiness, kept.since, kept.until, computed_at),
        failing=data.failing,
        failing_total=data.failing_total,
        patterns=patterns,
        changes=Changes(
            new_sources=data.new_sources,
            new_sources_total=data.new_sources_total,
            new_failures=data.new_failures,
            new_failures_total=data.new_failures_total,
            new_patterns=[pattern for pattern in patterns if pattern.pattern_id in new],
        ),
        computed_at=computed_at,
    )
