"""Computing one domain's monthly digest from the roll-up, with one scan.

The month, the month before and the readiness window (30 days up to the month's last day, the
last 14 apart) are cuts of one `analyses.aggregate` over `dmarc_source_day`, classified with
the same code as the sources table, so the digest and the domain pages agree on the same
dates. The month before is read as differences of cuts (`analyses.changes.previous_volumes`):
what changed needs its volumes per address and its error patterns, not its classification.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor
from todoke.core.context import clock_of
from todoke.dmarc import queries
from todoke.dmarc.analyses import (
    AnalysedSource,
    SourceView,
    Watermark,
    aggregate,
    analyse,
    from_view,
    listed_for_readiness,
    shapes_by_id,
    tally_patterns,
)
from todoke.dmarc.analyses.changes import previous_volumes
from todoke.dmarc.analyses.compute import AddressGroup
from todoke.dmarc.analysis import PatternId, SourceSummary, pattern_of
from todoke.dmarc.analysis.classify import ClassificationKind
from todoke.dmarc.analysis.readiness import condense
from todoke.dmarc.digest_data import TOP, DigestData, MonthPeriod, ReadinessData
from todoke.dmarc.digest_freshness import month_watermark
from todoke.dmarc.identification import identity_of, own_sources_index
from todoke.dmarc.identify import Catalogue, NetworkIndex, OwnSource, load_catalogue
from todoke.dmarc.models import DmarcDayStats
from todoke.dmarc.shapes import AuthShape, SenderIdentity

#: readiness leaves these sources out entirely (`dmarc.analysis.readiness`)
NOT_LEGITIMATE = "spoofing_suspected"


@dataclass(frozen=True)
class ComputedDigest:
    data: DigestData
    computed_at: datetime
    compute_ms: int
    watermark: Watermark


@dataclass
class _Scan:
    """One aggregate over every day the digest reads, and what classifying it needs."""

    groups: dict[str, AddressGroup]
    cuts: list[date]
    shapes: dict[int, AuthShape]
    own: NetworkIndex[OwnSource]
    catalogue: Catalogue
    #: identities by address, shared by every pass over the groups
    senders: dict[str, SenderIdentity | None]

    def slot(self, day: date) -> int:
        return self.cuts.index(day)

    def sources(self, since: date, recent_since: date) -> list[SourceView]:
        return analyse(
            self.groups, slot=self.slot(since), recent_slot=self.slot(recent_since),
            shapes=self.shapes, own=self.own, catalogue=self.catalogue, senders=self.senders,
        )  # fmt: skip

    def sender(self, ip: str, group: AddressGroup) -> SenderIdentity | None:
        if ip not in self.senders:
            self.senders[ip] = identity_of(group.known, ip, self.own, self.catalogue)
        return self.senders[ip]


def compute_digest(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    period: MonthPeriod,
    acting_user: Actor,
    catalogue: Catalogue | None = None,
) -> ComputedDigest:
    """The digest of `domain` for `period`; it only reads (the summaries check `dmarc.view`)."""
    catalogue = catalogue or load_catalogue()
    started = time.perf_counter()
    computed_at = clock_of(session).now()
    # Read before the data: on PostgreSQL each statement sees its own snapshot, and a report
    # landing in between must make the digest stale, not be lost.
    watermark = month_watermark(session, org=org, domain=domain, period=period, catalogue=catalogue)
    summary = queries.domain_summary(
        session, org=org, domain=domain, acting_user=acting_user, since=period.month,
        until=period.until,
    )  # fmt: skip
    previous = queries.domain_summary(
        session, org=org, domain=domain, acting_user=acting_user,
        since=period.previous_since, until=period.previous_until,
    )  # fmt: skip
    cuts = sorted(
        {period.previous_since, period.month, period.readiness_since, period.recent_since}
    )
    groups = aggregate(session, org_id=org.id, domain=domain, until=period.until, cuts=cuts)
    shapes = shapes_by_id(session, (shape for g in groups.values() for shape, _ in g.entries))
    scan = _Scan(groups, cuts, shapes, own_sources_index(session, org.id), catalogue, {})
    # The digest reads the month as one: its rows' "recent" volumes are the month's own.
    views = scan.sources(period.month, period.month)
    before = previous_volumes(
        groups, previous_slot=scan.slot(period.previous_since), slot=scan.slot(period.month),
        shapes=shapes,
    )  # fmt: skip
    tallies = tally_patterns(views)
    earlier = _patterns_before(scan, scan.slot(period.previous_since), scan.slot(period.month))
    days = session.scalar(
        select(func.count()).where(
            DmarcDayStats.organisation_id == org.id,
            DmarcDayStats.domain == domain,
            DmarcDayStats.day >= period.readiness_since,
            DmarcDayStats.day <= period.until,
        )
    )
    readiness = _readiness(
        scan.sources(period.readiness_since, period.recent_since),
        period,
        policy=summary.published_policy,
        days=int(days or 0),
    )
    ranked = list(enumerate(views, start=1))
    failing = _largest_failing((rank, view) for rank, view in ranked if _failing(view))
    new_sources = [
        (rank, view) for rank, view in ranked if view.messages and view.source_ip not in before
    ]
    new_failures = _largest_failing(
        (rank, view) for rank, view in ranked
        if _failing(view) and not before.get(view.source_ip, (0, 0))[1]
    )  # fmt: skip
    data = DigestData(
        domain=summary.domain,
        month=period.month,
        until=period.until,
        summary=summary,
        previous=previous,
        readiness=readiness,
        failing=_rows(failing),
        failing_total=len(failing),
        patterns=tallies,
        new_sources=_rows(new_sources),
        new_sources_total=len(new_sources),
        new_failures=_rows(new_failures),
        new_failures_total=len(new_failures),
        new_patterns=[tally.pattern_id for tally in tallies if tally.pattern_id not in earlier],
        sources=len(views),
    )
    elapsed = round((time.perf_counter() - started) * 1000)
    return ComputedDigest(data, computed_at, elapsed, watermark)


def _failing(view: SourceView) -> int:
    return view.messages - view.dmarc_pass


def _largest_failing(ranked: Iterable[tuple[int, SourceView]]) -> list[tuple[int, SourceView]]:
    return sorted(ranked, key=lambda item: (-_failing(item[1]), item[0]))


def _rows(ranked: Sequence[tuple[int, SourceView]]) -> list[AnalysedSource]:
    return [from_view(view, rank) for rank, view in ranked[:TOP]]


def _patterns_before(scan: _Scan, previous_slot: int, slot: int) -> set[PatternId]:
    """The error patterns of the days from cut `previous_slot` to the day before cut `slot`:
    those of the shapes with mail then (a classification's volumes are per shape)."""
    found: set[PatternId] = set()
    known: dict[tuple[int, SenderIdentity | None], PatternId | None] = {}
    for ip, group in scan.groups.items():
        for shape_id, values in group.entries:
            if _messages_from(values, previous_slot) - _messages_from(values, slot) <= 0:
                continue
            sender = scan.sender(ip, group)
            key = (shape_id, sender)
            if key not in known:
                known[key] = pattern_of(scan.shapes[shape_id], sender)
            pattern = known[key]
            if pattern is not None:
                found.add(pattern)
    return found


def _messages_from(values: tuple[int, ...], slot: int) -> int:
    # aggregate's layout: slot 0 holds messages only; later slots hold messages, then rows
    return values[0] if slot == 0 else values[2 * slot - 1]


def _readiness(
    sources: Sequence[SourceView],
    period: MonthPeriod,
    *,
    policy: dict[str, Any] | None,
    days: int,
) -> ReadinessData:
    """Readiness' inputs as stored analyses keep them (`analyses.store`): possible blockers
    one by one, everything else summed per kind, then condensed as readiness would."""
    listed = []
    unlisted: dict[ClassificationKind, list[int]] = {}
    recent: dict[ClassificationKind, list[int]] = {}
    for view in sources:
        kind = view.classification.kind
        if kind == NOT_LEGITIMATE:
            continue
        if listed_for_readiness(view):
            listed.append(
                SourceSummary(
                    source=view.source_ip, kind=kind, sender=view.sender,
                    messages=view.messages, passing=view.dmarc_pass,
                    dominant_pattern=view.classification.dominant_pattern,
                )
            )  # fmt: skip
        else:
            _add(unlisted, kind, view.messages, view.dmarc_pass)
        if view.recent_messages:
            _add(recent, kind, view.recent_messages, view.recent_pass)
    return ReadinessData(
        since=period.readiness_since,
        until=period.until,
        policy=dict(policy) if policy is not None else None,
        days_with_data=days,
        last_14=_groups(recent),
        last_30=condense([*_groups(unlisted), *listed]),
    )


def _add(
    totals: dict[ClassificationKind, list[int]], kind: ClassificationKind, messages: int,
    passing: int,
) -> None:  # fmt: skip
    found = totals.setdefault(kind, [0, 0])
    found[0] += messages
    found[1] += passing


def _groups(volumes: dict[ClassificationKind, list[int]]) -> list[SourceSummary]:
    """One summary per kind standing for many sources: readiness only adds them up."""
    return [
        SourceSummary(f"({kind})", kind, None, messages, passing)
        for kind, (messages, passing) in sorted(volumes.items())
    ]
