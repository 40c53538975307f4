"""Computing a domain's analyses for standard windows, and storing them (the service).

The computation only reads, so the worker runs it in a read transaction and takes the write
lock (SQLite has one writer) only to replace the rows. Stored analyses are derived data,
recomputed from audited inputs (reports, registered sources), so storing one is not audited;
anyone who may read the analysis may cause it to be stored, since it is what they would have
been shown anyway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.context import clock_of
from todoke.dmarc import bulk
from todoke.dmarc.analyses.changes import previous_since, previous_volumes, window_changes
from todoke.dmarc.analyses.compute import SourceView, aggregate, analyse, shapes_by_id
from todoke.dmarc.analyses.freshness import Watermark, current_watermark
from todoke.dmarc.analyses.rows import ip_key
from todoke.dmarc.analyses.summaries import highlights_json
from todoke.dmarc.analyses.tally import PatternTally, tally_patterns
from todoke.dmarc.analyses.windows import Window
from todoke.dmarc.analysis import ClassificationKind, SourceSummary
from todoke.dmarc.analysis.readiness import condense
from todoke.dmarc.identification import own_sources_index
from todoke.dmarc.identify import Catalogue, load_catalogue
from todoke.dmarc.models import (
    DmarcAnalysedSource,
    DmarcDayStats,
    DmarcSourceAnalysis,
)
from todoke.dmarc.queries import latest_policy
from todoke.dmarc.shapes import SenderIdentity

SOURCE_TABLE = "dmarc_analysed_source"
SOURCE_COLUMNS = (
    "analysis_id", "rank", "source_ip", "ip_key", "ptr_name", "known_sender_key",
    "known_matched_by", "sender_key", "sender_name", "sender_name_ja", "sender_category",
    "sender_matched_by", "sender_tags", "messages", "dmarc_pass", "dmarc_fail", "spf_aligned",
    "dkim_aligned", "recent_messages", "recent_pass", "kind", "rule", "dominant_pattern",
    "failing_patterns", "pattern_volumes",
)  # fmt: skip
#: rows per write transaction: about a quarter of a second of SQLite's write lock
CHUNK_ROWS = 20_000
#: readiness leaves these sources out entirely (`dmarc.analysis.readiness`)
NOT_LEGITIMATE = "spoofing_suspected"


@dataclass
class ComputedAnalysis:
    """One window's analysis, computed and not yet stored."""

    org_id: int
    domain: str
    window: Window
    computed_at: datetime
    compute_ms: int
    watermark: Watermark
    #: largest first: a source's rank is its index + 1
    sources: list[SourceView]
    tallies: list[PatternTally]
    policy: dict[str, Any] | None
    days_with_data: int
    #: as stored in `DmarcSourceAnalysis.highlights` (see `summaries.highlights_json`)
    highlights: dict[str, Any]


def compute_analyses(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    windows: Sequence[Window],
    catalogue: Catalogue | None = None,
) -> list[ComputedAnalysis]:
    """Analyse `domain` over `windows` (all ending the same day) with one scan of the roll-up,
    which also covers the period before each window (for its changes). No permission check:
    it only reads, and callers check."""
    catalogue = catalogue or load_catalogue()
    started = time.perf_counter()
    computed_at = clock_of(session).now()
    # The watermark is read before the data: on PostgreSQL each statement sees its own
    # snapshot, and a report landing in between must make the analysis stale, not be lost.
    watermark = current_watermark(session, org_id=org.id, domain=domain, catalogue=catalogue)
    until = windows[0].until
    cuts = sorted(
        {w.since for w in windows}
        | {w.recent_since for w in windows}
        | {previous_since(w) for w in windows}
    )
    groups = aggregate(session, org_id=org.id, domain=domain, until=until, cuts=cuts)
    shapes = shapes_by_id(session, (shape for g in groups.values() for shape, _ in g.entries))
    own = own_sources_index(session, org.id)
    policy = latest_policy(session, org, domain)
    senders: dict[str, SenderIdentity | None] = {}
    results = []
    for window in windows:
        slot = cuts.index(window.since)
        previous = previous_volumes(
            groups, previous_slot=cuts.index(previous_since(window)), slot=slot, shapes=shapes
        )
        sources = analyse(
            groups,
            slot=slot,
            recent_slot=cuts.index(window.recent_since),
            shapes=shapes,
            own=own,
            catalogue=catalogue,
            senders=senders,
        )
        days = session.scalar(
            select(func.count()).where(
                DmarcDayStats.organisation_id == org.id,
                DmarcDayStats.domain == domain,
                DmarcDayStats.day >= window.since,
                DmarcDayStats.day <= window.until,
            )
        )
        results.append(
            ComputedAnalysis(
                org_id=org.id,
                domain=domain,
                window=window,
                computed_at=computed_at,
                compute_ms=0,
                watermark=watermark,
                sources=sources,
                tallies=tally_patterns(sources),
                policy=policy,
                days_with_data=int(days or 0),
                highlights=highlights_json(sources, window_changes(window, sources, previous)),
            )
        )
    elapsed = round((time.perf_counter() - started) * 1000)
    for result in results:
        result.compute_ms = elapsed
    return results


def _header(org_id: int, analysis: ComputedAnalysis, *, ready: bool) -> DmarcSourceAnalysis:
    header = DmarcSourceAnalysis(
        organisation_id=org_id,
        domain=analysis.domain,
        window_days=analysis.window.days,
        ready=ready,
    )
    _fill_header(header, analysis)
    return header


def store_analysis(
    session: Session, *, org: Organisation, analysis: ComputedAnalysis, acting_user: Actor
) -> DmarcSourceAnalysis:
    """Make `analysis` the current one of its window, in the caller's transaction. The ones
    it replaces stay until `remove_superseded`."""
    require(acting_user, "dmarc.view", org=org)
    header = _header(org.id, analysis, ready=True)
    session.add(header)
    session.flush()
    bulk.insert_rows(session, SOURCE_TABLE, SOURCE_COLUMNS, _source_rows(header.id, analysis))
    return header


def replace_analysis(
    open_session: Callable[[], Session],
    *,
    org: Organisation,
    analysis: ComputedAnalysis,
    acting_user: Actor,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Write `analysis` in short transactions, make it current, remove the ones it replaces;
    the new analysis' id. On SQLite a writer holds the only write lock, so a big domain's
    rows go in chunks that ingest can run between; readers keep the old analysis until the
    new one is `ready`."""
    with open_session() as session, session.begin():
        require(acting_user, "dmarc.view", org=org)
        header = _header(org.id, analysis, ready=False)
        session.add(header)
        session.flush()
        analysis_id = header.id
    rows = _source_rows(analysis_id, analysis)
    for start in range(0, len(rows), chunk_rows):
        with open_session() as session, session.begin():
            bulk.insert_rows(
                session, SOURCE_TABLE, SOURCE_COLUMNS, rows[start : start + chunk_rows]
            )
    with open_session() as session, session.begin():
        session.execute(
            update(DmarcSourceAnalysis)
            .where(DmarcSourceAnalysis.id == analysis_id)
            .values(ready=True)
        )
    remove_superseded(
        open_session, org_id=org.id, domain=analysis.domain, days=analysis.window.days
    )
    return analysis_id


def remove_superseded(
    open_session: Callable[[], Session],
    *,
    org_id: int,
    domain: str,
    days: int | None = None,
    keep_current: bool = True,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Delete the analyses of `domain` (of one window, if `days`) that a newer ready one
    replaced, or all of them without `keep_current`; rows go in chunks. How many went."""
    table = DmarcSourceAnalysis
    query = select(table.id, table.window_days, table.ready, table.sources).where(
        table.organisation_id == org_id, table.domain == domain
    )
    if days is not None:
        query = query.where(table.window_days == days)
    with open_session() as session:
        found = session.execute(query.order_by(table.id.desc())).all()
    current: set[int] = set()
    doomed = []
    for analysis_id, window_days, ready, sources in found:
        if keep_current and window_days not in current and ready:
            current.add(window_days)
        elif not keep_current or window_days in current:
            doomed.append((analysis_id, sources))
    for analysis_id, sources in doomed:
        _delete_analysis(open_session, analysis_id, sources, chunk_rows)
    return len(doomed)


def _delete_analysis(
    open_session: Callable[[], Session], analysis_id: int, sources: int, chunk_rows: int
) -> None:
    row = DmarcAnalysedSource
    for start in range(0, sources, chunk_rows):
        with open_session() as session, session.begin():
            session.execute(
                delete(row).where(
                    row.analysis_id == analysis_id,
                    row.rank > start,
                    row.rank <= start + chunk_rows,
                )
            )
    with open_session() as session, session.begin():
        # Rows past `sources` exist only if a crashed build wrote more than it recorded.
        session.execute(delete(row).where(row.analysis_id == analysis_id))
        session.execute(delete(DmarcSourceAnalysis).where(DmarcSourceAnalysis.id == analysis_id))


def _fill_header(header: DmarcSourceAnalysis, analysis: ComputedAnalysis) -> None:
    window, watermark, sources = analysis.window, analysis.watermark, analysis.sources
    header.since, header.until = window.since, window.until
    header.recent_since = window.recent_since
    header.computed_at = analysis.computed_at
    header.compute_ms = analysis.compute_ms
    header.report_max_id = watermark.report_max_id
    header.report_count = watermark.report_count
    header.identified_until = watermark.identified_until
    header.inputs_digest = watermark.inputs_digest
    header.sources = len(sources)
    header.messages = sum(view.messages for view in sources)
    header.dmarc_pass = sum(view.dmarc_pass for view in sources)
    header.spf_aligned = sum(view.spf_aligned for view in sources)
    header.dkim_aligned = sum(view.dkim_aligned for view in sources)
    header.kinds = _kinds(sources)
    header.patterns = [_pattern_json(tally) for tally in analysis.tallies]
    header.readiness = _readiness_json(analysis)
    header.highlights = analysis.highlights


def listed_for_readiness(view: SourceView) -> bool:
    """Readiness needs this source by itself (a possible blocker), not only in its kind's sum."""
    kind = view.classification.kind
    return kind != NOT_LEGITIMATE and view.messages - view.dmarc_pass > 0


def _kinds(sources: Sequence[SourceView]) -> dict[str, Any]:
    kinds: dict[str, dict[str, int]] = {}
    for view in sources:
        totals = kinds.setdefault(
            view.classification.kind, {"sources": 0, "messages": 0, "passing": 0}
        )
        totals["sources"] += 1
        totals["messages"] += view.messages
        totals["passing"] += view.dmarc_pass
    return kinds


def _readiness_json(analysis: ComputedAnalysis) -> dict[str, Any]:
    unlisted: dict[str, list[int]] = {}
    recent: dict[str, list[int]] = {}
    for view in analysis.sources:
        kind = view.classification.kind
        if kind == NOT_LEGITIMATE:
            continue
        if not listed_for_readiness(view):
            totals = unlisted.setdefault(kind, [0, 0])
            totals[0] += view.messages
            totals[1] += view.dmarc_pass
        if view.recent_messages:
            totals = recent.setdefault(kind, [0, 0])
            totals[0] += view.recent_messages
            totals[1] += view.recent_pass
    failing = [
        SourceSummary(
            view.source_ip, view.classification.kind, view.sender, view.messages,
            view.dmarc_pass, view.classification.dominant_pattern,
        )
        for view in analysis.sources
        if listed_for_readiness(view)
    ]  # fmt: skip
    groups = [
        SourceSummary(f"({kind})", cast(ClassificationKind, kind), None, messages, passing)
        for kind, (messages, passing) in unlisted.items()
    ]
    listed = [summary for summary in condense([*groups, *failing]) if summary.failing > 0]
    return {
        "policy": analysis.policy,
        "days_with_data": analysis.days_with_data,
        "unlisted": unlisted,
        "recent": recent,
        "listed": [_summary_json(summary) for summary in listed],
    }


def _summary_json(summary: SourceSummary) -> dict[str, Any]:
    return {
        "source": summary.source,
        "kind": summary.kind,
        "sender": _sender_json(summary.sender),
        "messages": summary.messages,
        "passing": summary.passing,
        "dominant_pattern": summary.dominant_pattern,
        "sources": summary.sources,
    }


def _sender_json(sender: SenderIdentity | None) -> dict[str, Any] | None:
    return None if sender is None else {**asdict(sender), "tags": list(sender.tags)}


def _pattern_json(tally: PatternTally) -> dict[str, Any]:
    return {
        "pattern": tally.pattern_id,
        "messages": tally.messages,
        "sources": tally.source_count,
        "affected": [
            [source.source_ip, _sender_json(source.sender), source.messages]
            for source in tally.sources
        ],
        "senders": [_sender_json(sender) for sender in tally.senders],
        "example_shape": asdict(tally.example_shape),
        "example_sender": _sender_json(tally.example_sender),
    }


def _source_rows(analysis_id: int, analysis: ComputedAnalysis) -> list[tuple[Any, ...]]:
    rows = []
    for rank, view in enumerate(analysis.sources, start=1):
        sender = view.sender
        identity: tuple[Any, ...] = (None,) * 6
        if sender is not None:
            # NULL rather than "[]": reading JSON costs a parse per row, and most have no tags.
            tags = json.dumps(list(sender.tags), ensure_ascii=False) if sender.tags else None
            identity = (sender.key, sender.name, sender.name_ja, sender.category)
            identity += (sender.matched_by, tags)
        known = (view.ptr_name, view.known_sender_key, view.known_matched_by)
        volumes: tuple[int, ...] = (view.messages, view.dmarc_pass, view.messages - view.dmarc_pass)
        volumes += (view.spf_aligned, view.dkim_aligned, view.recent_messages, view.recent_pass)
        verdict = view.classification
        volumes_by_pattern = verdict.pattern_volumes
        several = json.dumps(volumes_by_pattern) if len(volumes_by_pattern) > 1 else None
        verdicts: tuple[Any, ...] = (verdict.kind, verdict.rule, verdict.dominant_pattern)
        verdicts += (len(volumes_by_pattern), several)
        address = (analysis_id, rank, view.source_ip, ip_key(view.source_ip))
        rows.append((*address, *known, *identity, *volumes, *verdicts))
    return rows
