"""Per-domain analyses: the sources table with each source's classification, and the error
patterns with advice.

The last 14, 30 and 90 days up to today are read from the analyses the worker stores
(`dmarc.analyses`), "as of" when they were computed; any other range is computed live from
`dmarc_source_day` (never raw records) with the same code, which gives the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.core.context import clock_of
from todoke.core.errors import InvalidInput
from todoke.dmarc.analyses import (
    AffectedSource,
    AnalysedSource,
    ComputedAnalysis,
    PatternView,
    SourceFilter,
    SourceView,
    advise_patterns,
    aggregate,
    analyse,
    current_answer,
    from_view,
    matcher,
    network_keys,
    shapes_by_id,
    standard_days,
    stored_page,
    stored_tallies,
    tally_patterns,
    window_ending,
)
from todoke.dmarc.analyses.compute import AddressGroup
from todoke.dmarc.identification import own_sources_index
from todoke.dmarc.identify import Catalogue, load_catalogue
from todoke.dmarc.models import DmarcSourceAnalysis
from todoke.dmarc.queries import DEFAULT_PERIOD_DAYS, period
from todoke.i18n import N_

__all__ = [
    "AffectedSource",
    "PatternView",
    "PatternsAnswer",
    "SourceView",
    "SourcesPage",
    "check_filter",
    "checked_request",
    "classify_groups",
    "domain_patterns",
    "domain_sources",
    "is_dated",
    "load_sources",
    "page_from_views",
    "patterns_from_sources",
    "window_cuts",
]

DEFAULT_PER_PAGE = 50


def load_sources(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    since: date,
    until: date,
    recent_since: date | None = None,
    catalogue: Catalogue | None = None,
) -> list[SourceView]:
    """Every source of `domain` in [since, until], classified, largest first, computed live
    (no permission check: callers check)."""
    cuts = window_cuts(since, recent_since)
    groups = aggregate(session, org_id=org.id, domain=domain, until=until, cuts=cuts)
    return classify_groups(session, org=org, groups=groups, cuts=cuts, catalogue=catalogue)


def window_cuts(since: date, recent_since: date | None) -> list[date]:
    """The cuts an aggregate reads: the period, and its recent part when it is shorter."""
    recent_from = recent_since or since
    return [since] if recent_from <= since else [since, recent_from]


def classify_groups(
    session: Session,
    *,
    org: Organisation,
    groups: dict[str, AddressGroup],
    cuts: Sequence[date],
    catalogue: Catalogue | None = None,
) -> list[SourceView]:
    """The addresses of an aggregate (read over `cuts`), classified, largest first: one code
    path for the roll-up and for the raw records of one reporter (`reporter_sources`)."""
    shapes = shapes_by_id(session, (shape for g in groups.values() for shape, _ in g.entries))
    return analyse(
        groups,
        slot=0,
        recent_slot=len(cuts) - 1,
        shapes=shapes,
        own=own_sources_index(session, org.id),
        catalogue=catalogue or load_catalogue(),
    )


@dataclass(frozen=True)
class SourcesPage:
    """One page of a domain's sources table."""

    domain: str
    since: date
    until: date
    #: when the stored analysis was computed; None when computed live for this request
    computed_at: datetime | None
    page: int
    per_page: int
    #: sources matching the filter, over every page
    total: int
    #: all mail of the period (not only the filtered sources)
    messages: int
    dmarc_pass: int
    sources: list[AnalysedSource]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _page_of(
    views: Sequence[SourceView], wanted: SourceFilter, page: int, per_page: int
) -> tuple[int, list[AnalysedSource]]:
    first = (page - 1) * per_page
    if wanted.empty:
        shown = views[first : first + per_page]
        return len(views), [from_view(view, rank) for rank, view in enumerate(shown, first + 1)]
    rows = [from_view(view, rank) for rank, view in enumerate(views, start=1)]
    rows = list(filter(matcher(wanted), rows))
    return len(rows), rows[first : first + per_page]


def domain_sources(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    wanted: SourceFilter | None = None,
    live: bool = False,
) -> SourcesPage:
    """A page of the sources of `domain` (default: the last 30 days), largest first.

    A standard window comes from its stored analysis, computed and stored first if it never
    was (the caller commits to keep it); `live` computes it now instead.
    """
    require(acting_user, "dmarc.view", org=org)
    wanted = checked_request(page, per_page, wanted)
    domain = domain.lower().rstrip(".")
    start, end = period(session, since, until, DEFAULT_PERIOD_DAYS)
    dated = is_dated(session, since, until)
    found = None if live else standard_answer(session, org, domain, start, end, acting_user, dated)
    if isinstance(found, DmarcSourceAnalysis):
        total, rows = stored_page(session, found, page=page, per_page=per_page, wanted=wanted)
        return SourcesPage(
            domain, found.since, found.until, found.computed_at, page, per_page, total,
            found.messages, found.dmarc_pass, rows,
        )  # fmt: skip
    if found is None:
        # The same "recent" split as a stored analysis, so rows read alike either way.
        recent = window_ending((end - start).days + 1, end).recent_since
        views = load_sources(
            session, org=org, domain=domain, since=start, until=end, recent_since=recent
        )
        computed_at = None
    else:
        views, computed_at = found.sources, found.computed_at
        start, end = found.window.since, found.window.until
    return page_from_views(domain, start, end, computed_at, views, wanted, page, per_page)


def checked_request(page: int, per_page: int, wanted: SourceFilter | None) -> SourceFilter:
    """The filter of a sources page request (none: every source), once the page and the
    filter are known to be usable."""
    if page < 1 or per_page < 1:
        raise InvalidInput(
            N_("page (%(page)s) and per_page (%(per_page)s) start at 1"),
            page=page,
            per_page=per_page,
        )
    wanted = wanted or SourceFilter()
    check_filter(wanted)
    return wanted


def check_filter(wanted: SourceFilter) -> None:
    """Refuse a network filter that is no address or range, naming it."""
    if wanted.network is None:
        return
    try:
        network_keys(wanted.network)
    except ValueError:
        raise InvalidInput(
            N_("network filter %(network)r is not an IP address or CIDR range"),
            network=wanted.network,
        ) from None


def page_from_views(
    domain: str,
    since: date,
    until: date,
    computed_at: datetime | None,
    views: Sequence[SourceView],
    wanted: SourceFilter,
    page: int,
    per_page: int,
) -> SourcesPage:
    """A page of sources computed live (ranked over all of `views`, then filtered)."""
    total, rows = _page_of(views, wanted, page, per_page)
    messages = sum(view.messages for view in views)
    passing = sum(view.dmarc_pass for view in views)
    return SourcesPage(
        domain, since, until, computed_at, page, per_page, total, messages, passing, rows
    )


def is_dated(session: Session, since: date | None, until: date | None) -> bool:
    """Whether a request named dates of its own, rather than "the last N days": an end day,
    or a start day that does not begin a standard window ending today (a page's "last 14
    or 90 days" passes its first day). Just after midnight an undated request is answered
    from the analysis ending yesterday until the worker has moved it on (`analyses.serve`)."""
    if until is not None:
        return True
    if since is None:
        return False
    today = clock_of(session).now().date()
    return standard_days(since, today, today) is None


def standard_answer(
    session: Session,
    org: Organisation,
    domain: str,
    start: date,
    end: date,
    acting_user: Actor,
    dated: bool,
) -> DmarcSourceAnalysis | ComputedAnalysis | None:
    """The analysis answering [start, end]; None for a range that is no standard window."""
    days = standard_days(start, end, clock_of(session).now().date())
    if days is None:
        return None
    return current_answer(
        session, org=org, domain=domain, days=days, since=start, until=end, dated=dated,
        acting_user=acting_user,
    )  # fmt: skip


def patterns_from_sources(
    sources: Sequence[SourceView], *, domain: str, locale: str, catalogue: Catalogue
) -> list[PatternView]:
    return advise_patterns(
        tally_patterns(sources), domain=domain, locale=locale, catalogue=catalogue
    )


@dataclass(frozen=True)
class PatternsAnswer:
    since: date
    until: date
    #: as in SourcesPage
    computed_at: datetime | None
    patterns: list[PatternView]


def domain_patterns(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    locale: str,
    since: date | None = None,
    until: date | None = None,
    live: bool = False,
) -> PatternsAnswer:
    """Every failing shape of the period grouped into its error pattern, with advice."""
    require(acting_user, "dmarc.view", org=org)
    domain = domain.lower().rstrip(".")
    start, end = period(session, since, until, DEFAULT_PERIOD_DAYS)
    catalogue = load_catalogue()
    dated = is_dated(session, since, until)
    found = None if live else standard_answer(session, org, domain, start, end, acting_user, dated)
    if isinstance(found, DmarcSourceAnalysis):
        tallies = stored_tallies(found)
        start, end, computed_at = found.since, found.until, found.computed_at
    elif found is not None:
        tallies = found.tallies
        start, end, computed_at = found.window.since, found.window.until, found.computed_at
    else:
        views = load_sources(session, org=org, domain=domain, since=start, until=end)
        tallies, computed_at = tally_patterns(views), None
    views_out = advise_patterns(tallies, domain=domain, locale=locale, catalogue=catalogue)
    return PatternsAnswer(start, end, computed_at, views_out)
