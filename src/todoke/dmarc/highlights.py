"""A domain's highlights over a standard window, for the overview: the sources failing the most
mail, and what changed against the period of the same length before (new sources, new
failures). Both are kept with the stored analysis as ranks of its sources table, so reading
them is a handful of primary-key lookups however many sources the domain has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.errors import InvalidInput
from todoke.dmarc.analyses import (
    STANDARD_WINDOWS,
    AnalysedSource,
    ComputedAnalysis,
    WindowChanges,
    from_view,
    stored_ranks,
)
from todoke.dmarc.analyses.summaries import header_from_totals, spoofing_totals, tag_totals
from todoke.dmarc.insights import is_dated, load_sources, standard_answer
from todoke.dmarc.models import DmarcSourceAnalysis
from todoke.dmarc.queries import DEFAULT_PERIOD_DAYS, period
from todoke.i18n import N_


@dataclass(frozen=True)
class Highlights:
    domain: str
    since: date
    until: date
    computed_at: datetime | None
    #: the sources failing the most mail, most first
    most_failing: list[AnalysedSource]
    #: None when the stored analysis predates changes (the worker recomputes it)
    changes: WindowChanges | None
    #: the largest new sources and new failures
    new_sources: list[AnalysedSource]
    new_failures: list[AnalysedSource]


def domain_highlights(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
) -> Highlights:
    """The highlights of the standard window starting `since` (default: the last 30 days)
    up to today."""
    require(acting_user, "dmarc.view", org=org)
    domain = domain.lower().rstrip(".")
    start, end = period(session, since, None, DEFAULT_PERIOD_DAYS)
    dated = is_dated(session, since, None)
    found = standard_answer(session, org, domain, start, end, acting_user, dated)
    if found is None:
        windows = ", ".join(str(days) for days in STANDARD_WINDOWS)
        raise InvalidInput(
            N_("Highlights are kept for the last %(windows)s days up to today only."),
            windows=windows,
        )
    kept = kept_highlights(found)
    changes = WindowChanges.from_json(kept["changes"])
    failing = tuple(kept["most_failing"])
    rows = source_rows(session, found, {*failing, *_ranks(changes)})
    since, until = answer_dates(found)
    return _highlights(domain, since, until, found.computed_at, rows, failing, changes)


def kept_highlights(found: DmarcSourceAnalysis | ComputedAnalysis) -> dict[str, Any]:
    """The highlights of a stored analysis or one just computed, as JSON (see
    `analyses.summaries`)."""
    if isinstance(found, DmarcSourceAnalysis):
        # Written with every analysis; migration 0005 dropped the analyses stored before.
        return cast(dict[str, Any], found.highlights)
    return found.highlights


def answer_dates(found: DmarcSourceAnalysis | ComputedAnalysis) -> tuple[date, date]:
    if isinstance(found, DmarcSourceAnalysis):
        return found.since, found.until
    return found.window.since, found.window.until


def source_rows(
    session: Session, found: DmarcSourceAnalysis | ComputedAnalysis, ranks: Iterable[int]
) -> dict[int, AnalysedSource]:
    """Rows of the analysis' sources table by rank."""
    if isinstance(found, DmarcSourceAnalysis):
        return {row.rank: row for row in stored_ranks(session, found, sorted(set(ranks)))}
    views = found.sources
    return {rank: from_view(views[rank - 1], rank) for rank in set(ranks)}


def _ranks(changes: WindowChanges | None) -> set[int]:
    if changes is None:
        return set()
    return {*changes.new_source_ranks, *changes.new_failure_ranks}


def _highlights(
    domain: str,
    since: date,
    until: date,
    computed_at: datetime | None,
    rows: dict[int, AnalysedSource],
    failing: Sequence[int],
    changes: WindowChanges | None,
) -> Highlights:
    def pick(ranks: Sequence[int]) -> list[AnalysedSource]:
        return [rows[rank] for rank in ranks if rank in rows]

    return Highlights(
        domain=domain,
        since=since,
        until=until,
        computed_at=computed_at,
        most_failing=pick(failing),
        changes=changes,
        new_sources=pick(changes.new_source_ranks) if changes else [],
        new_failures=pick(changes.new_failure_ranks) if changes else [],
    )


@dataclass(frozen=True)
class WindowTotals:
    """Totals kept with a window's analysis (`analyses.summaries`), and its sources by rank."""

    #: "tags", "spoofing" and "header_from" as `analyses.summaries` gives them
    kept: dict[str, Any]
    #: all mail of the window
    messages: int
    rows: Callable[[Iterable[int]], dict[int, AnalysedSource]]


def window_totals(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
) -> WindowTotals:
    """The totals of the window from `since` (default: the last 30 days) up to today: kept
    with a standard window's analysis, computed now from the roll-up for any other range."""
    require(acting_user, "dmarc.view", org=org)
    domain = domain.lower().rstrip(".")
    start, end = period(session, since, None, DEFAULT_PERIOD_DAYS)
    found = standard_answer(
        session, org, domain, start, end, acting_user, is_dated(session, since, None)
    )
    if found is not None:
        messages = (
            found.messages
            if isinstance(found, DmarcSourceAnalysis)
            else sum(view.messages for view in found.sources)
        )
        answer = found
        return WindowTotals(
            kept_highlights(found), messages, lambda ranks: source_rows(session, answer, ranks)
        )
    views = load_sources(session, org=org, domain=domain, since=start, until=end)
    kept = {
        "tags": tag_totals(views),
        "spoofing": spoofing_totals(views),
        "header_from": header_from_totals(views),
    }
    return WindowTotals(
        kept,
        sum(view.messages for view in views),
        lambda ranks: {rank: from_view(views[rank - 1], rank) for rank in set(ranks)},
    )
