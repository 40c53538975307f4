"""The DMARC page of one domain: its figures over a period and the sources table, filtered by
result, classification, address range, tag and reporter.

A standard period (the last 14, 30 or 90 days) is read from the stored analyses; a date range
of its own is computed live from the roll-up, and a reporter's table live from that reporter's
raw records (`reporter_sources`). Filters are plain GET forms; with htmx the table alone is
swapped (`HX-Target: sources`). Thin: the engine checks `dmarc.view`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session
from starlette.responses import Response

from todoke.core.errors import InvalidInput
from todoke.dmarc import insights, presenters, queries, reporter_sources, services
from todoke.dmarc.analyses import ResultFilter, SourceFilter
from todoke.dmarc.analyses.wording import wording
from todoke.dmarc.analysis import ClassificationKind
from todoke.dmarc.insights import SourcesPage
from todoke.i18n import N_
from todoke.web import dmarc_views as views
from todoke.web.context import UserContext, check_csrf
from todoke.web.dmarc_pages import Days, Page, _as_of, _period, _today
from todoke.web.error_text import worded
from todoke.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

PER_PAGE = 25
#: the longest date range the page computes (a year, leap day included)
MAX_RANGE_DAYS = 366
KINDS: tuple[ClassificationKind, ...] = (
    "aligned_pass", "forwarded", "misconfigured", "third_party_unaligned",
    "spoofing_suspected", "unknown",
)  # fmt: skip
RESULTS: tuple[ResultFilter, ...] = ("fail", "pass")
_T = TypeVar("_T", bound=str)
DateText = Annotated[str | None, Query(max_length=10)]


@dataclass(frozen=True)
class Wanted:
    """What the request asks for, as read from the query string."""

    days: int
    #: a date range of its own; None for the last `days` days
    dates: tuple[date, date] | None
    filter: SourceFilter
    reporter: str | None

    @property
    def since(self) -> date | None:
        return self.dates[0] if self.dates else None

    @property
    def until(self) -> date | None:
        return self.dates[1] if self.dates else None


@router.get("/dmarc/domains/{domain}")
def domain(
    ctx: UserContext,
    domain: str,
    days: Days = views.DEFAULT_DAYS,
    since: DateText = None,
    until: DateText = None,
    page: Page = 1,
    result: Annotated[str | None, Query(max_length=10)] = None,
    classification: Annotated[str | None, Query(max_length=40)] = None,
    network: Annotated[str | None, Query(max_length=49)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    reporter: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    days = _period(days)
    range_error = None
    try:
        dates = date_range(since, until, today=_today(ctx), days=days)
    except InvalidInput as problem:
        # The page shows the standard period instead, and says why.
        dates, range_error = None, worded(problem, ctx.locale)
    # A plain form sends "" for "all"; anything else unknown lists everything too.
    wanted = Wanted(
        days,
        dates,
        SourceFilter(
            kind=_choice(classification, KINDS), result=_choice(result, RESULTS),
            network=_text(network), tag=_text(tag),
        ),
        _text(reporter),
    )  # fmt: skip
    start = wanted.since or views.since_for(_today(ctx), days)
    with ctx.reading() as session:
        summary = queries.domain_summary(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor, since=start,
            until=wanted.until,
        )  # fmt: skip
        found, error = _sources(ctx, session, domain, start, wanted, page)
        choices = _choices(ctx, session, summary.domain, summary.since, summary.until)
    sources = presenters.sources_out(found)
    kept = _query(wanted, network_ok=error is None)
    variables: dict[str, Any] = {
        "summary": summary,
        "sources": sources,
        "filters": {**_query(wanted, network_ok=True), "days": days},
        "kept": kept,
        # a refused range is shown as typed in its fields, and kept nowhere else
        "typed": {"since": _text(since), "until": _text(until)},
        "link": views.Linker(f"/dmarc/domains/{summary.domain}", kept),
        "error": error,
        "range_error": range_error,
        "kinds": KINDS,
        "tags": _with(choices[0], wanted.filter.tag),
        "reporters": _with(choices[1], wanted.reporter),
        "as_of": _as_of(ctx, sources.computed_at),
        "page_text": wording(
            "page", ctx.locale, page=sources.page, pages=sources.pages, total=sources.total
        ),
        "percent": views.percent,
        "periods": views.PERIODS,
        "today": _today(ctx),
    }  # fmt: skip
    if ctx.request.headers.get("hx-target") == "sources":
        # htmx swaps only 2xx answers; errors are shown inside the table's region, and the
        # period forms come along out of band to carry the table's new filters.
        return render(ctx, "dmarc/_sources.html", partial=True, **variables)
    return render(
        ctx,
        "dmarc/domain.html",
        status_code=422 if error or range_error else 200,
        partial=False,
        chart=views.chart_data(summary.days),
        **variables,
    )


def date_range(
    since: str | None, until: str | None, *, today: date, days: int
) -> tuple[date, date] | None:
    """The range [since, until] asked for (YYYY-MM-DD, either may be left out: `until` is
    then today, `since` `days` days before `until`); None when neither was given."""
    since, until = _text(since), _text(until)
    if since is None and until is None:
        return None
    end = _date(until) if until else today
    start = _date(since) if since else end - timedelta(days=days - 1)
    if max(start, end) > today:
        raise InvalidInput(
            N_("%(day)s is in the future: reports cover the days up to today (%(today)s UTC)."),
            day=max(start, end).isoformat(),
            today=today.isoformat(),
        )
    if end < start:
        raise InvalidInput(
            N_("The end date %(until)s is before the start date %(since)s."),
            since=start.isoformat(),
            until=end.isoformat(),
        )
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            N_("A range spans at most %(limit)s days; %(since)s to %(until)s is %(days)s days."),
            limit=MAX_RANGE_DAYS,
            since=start.isoformat(),
            until=end.isoformat(),
            days=(end - start).days + 1,
        )
    return start, end


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(
            N_("%(value)r is not a date: write it as YYYY-MM-DD, e.g. 2025-04-01."), value=text
        ) from None


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _choice(value: str | None, allowed: tuple[_T, ...]) -> _T | None:
    for choice in allowed:
        if value == choice:
            return choice
    return None


def _with(options: list[str], chosen: str | None) -> list[str]:
    """The options of a select, and the chosen value even when the period no longer has it."""
    return options if chosen is None or chosen in options else sorted([*options, chosen])


def _query(wanted: Wanted, *, network_ok: bool) -> dict[str, object]:
    """The query values links keep (a refused network filter is dropped from them)."""
    chosen = wanted.filter
    return {
        "days": wanted.days,
        "since": wanted.since.isoformat() if wanted.since else None,
        "until": wanted.until.isoformat() if wanted.until else None,
        "result": chosen.result,
        "classification": chosen.kind,
        "network": chosen.network if network_ok else None,
        "tag": chosen.tag,
        "reporter": wanted.reporter,
    }


def _choices(
    ctx: UserContext, session: Session, domain: str, since: date, until: date
) -> tuple[list[str], list[str]]:
    """The tags of the organisation's registered sources, and the reporters of the period."""
    registered = services.list_sources(session, org=ctx.org, acting_user=ctx.actor)
    tags = sorted({tag for source in registered for tag in source.tags})
    reporters = reporter_sources.reporters_seen(
        session, org=ctx.org, domain=domain, acting_user=ctx.actor, since=since, until=until
    )
    return tags, reporters


def _sources(
    ctx: UserContext,
    session: Session,
    domain: str,
    since: date | None,
    wanted: Wanted,
    page: int,
) -> tuple[SourcesPage, str | None]:
    """A page of sources; a network filter that is no address or range is named in an error
    and the page shows the table without it."""
    chosen = wanted.filter
    try:
        if wanted.reporter is not None:
            found = reporter_sources.reporter_sources(
                session, org=ctx.org, domain=domain, reporter=wanted.reporter,
                acting_user=ctx.actor, since=since, until=wanted.until, page=page,
                per_page=PER_PAGE, wanted=chosen,
            )  # fmt: skip
        else:
            found = insights.domain_sources(
                session, org=ctx.org, domain=domain, acting_user=ctx.actor, since=since,
                until=wanted.until, page=page, per_page=PER_PAGE, wanted=chosen,
            )  # fmt: skip
    except InvalidInput as problem:
        without = SourceFilter(kind=chosen.kind, result=chosen.result, tag=chosen.tag)
        retry = Wanted(wanted.days, wanted.dates, without, wanted.reporter)
        return _sources(ctx, session, domain, since, retry, page)[0], worded(problem, ctx.locale)
    return found, None
