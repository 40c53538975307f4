"""DMARC pages: the overview, one domain with its sources, error patterns and readiness, and
the reports with their upload. Thin: the engine checks `dmarc.view` and `dmarc.ingest`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, UploadFile
from sqlalchemy.orm import Session
from starlette.responses import Response

from todoke.core.errors import InvalidInput, TodokeError
from todoke.dmarc import insights, presenters, queries
from todoke.dmarc.analyses import ResultFilter, SourceFilter
from todoke.dmarc.analyses.wording import wording
from todoke.dmarc.analysis import ClassificationKind
from todoke.dmarc.insights import SourcesPage
from todoke.dmarc.intake import BatchIngestor, limits_from
from todoke.dmarc.schemas import IngestResult
from todoke.web import dmarc_views as views
from todoke.web.context import UserContext, check_csrf
from todoke.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

Days = Annotated[int, Query(ge=1, le=366)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PER_PAGE = 25
REPORTS_PER_PAGE = 50
KINDS: tuple[ClassificationKind, ...] = (
    "aligned_pass", "forwarded", "misconfigured", "third_party_unaligned",
    "spoofing_suspected", "unknown",
)  # fmt: skip


RESULTS: tuple[ResultFilter, ...] = ("fail", "pass")
_T = TypeVar("_T", bound=str)


def _period(days: int) -> int:
    """One of the windows the stored analyses answer; anything else is the default."""
    return days if days in views.PERIODS else views.DEFAULT_DAYS


def _today(ctx: UserContext) -> date:
    return ctx.runtime.clock.now().date()


def _as_of(ctx: UserContext, computed_at: datetime | None) -> str:
    if computed_at is None:
        return wording("live", ctx.locale)
    return wording("as_of", ctx.locale, time=computed_at.strftime("%Y-%m-%d %H:%M UTC"))


@router.get("/dmarc")
def overview(ctx: UserContext, days: Days = views.DEFAULT_DAYS) -> Response:
    receiver = ctx.runtime.settings.receiver_domain
    days = _period(days)
    with ctx.reading() as session:
        found = views.overview(
            session, org=ctx.org, acting_user=ctx.actor, locale=ctx.locale,
            receiver_domain=receiver, since=views.since_for(_today(ctx), days),
        )  # fmt: skip
    return render(
        ctx,
        "dmarc/overview.html",
        overview=found,
        chart=views.chart_data(found.days),
        days=days,
        periods=views.PERIODS,
        address=views.receiver_address(receiver),
        percent=views.percent,
    )


@router.get("/dmarc/domains/{domain}")
def domain(
    ctx: UserContext,
    domain: str,
    days: Days = views.DEFAULT_DAYS,
    page: Page = 1,
    result: Annotated[str | None, Query(max_length=10)] = None,
    classification: Annotated[str | None, Query(max_length=40)] = None,
    network: Annotated[str | None, Query(max_length=49)] = None,
) -> Response:
    days = _period(days)
    since = views.since_for(_today(ctx), days)
    # A plain form sends "" for "all"; anything else unknown lists everything too.
    kind = _choice(classification, KINDS)
    outcome = _choice(result, RESULTS)
    network = (network or "").strip() or None
    wanted = SourceFilter(kind=kind, result=outcome, network=network)
    with ctx.reading() as session:
        summary = queries.domain_summary(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor, since=since
        )
        found, error = _sources(ctx, session, domain, since, page, wanted)
    sources = presenters.sources_out(found)
    filters = {
        "days": days, "result": outcome, "classification": kind,
        "network": network if error is None else None,
    }  # fmt: skip
    variables: dict[str, Any] = {
        "summary": summary,
        "sources": sources,
        "filters": {**filters, "network": network},
        "link": views.Linker(f"/dmarc/domains/{summary.domain}", filters),
        "error": error,
        "kinds": KINDS,
        "as_of": _as_of(ctx, sources.computed_at),
        "page_text": wording(
            "page", ctx.locale, page=sources.page, pages=sources.pages, total=sources.total
        ),
        "percent": views.percent,
    }  # fmt: skip
    if ctx.request.headers.get("hx-target") == "sources":
        # htmx swaps only 2xx answers; the error is shown inside the table's region.
        return render(ctx, "dmarc/_sources.html", **variables)
    return render(
        ctx,
        "dmarc/domain.html",
        status_code=422 if error else 200,
        chart=views.chart_data(summary.days),
        periods=views.PERIODS,
        **variables,
    )


def _choice(value: str | None, allowed: tuple[_T, ...]) -> _T | None:
    for choice in allowed:
        if value == choice:
            return choice
    return None


def _sources(
    ctx: UserContext,
    session: Session,
    domain: str,
    since: date | None,
    page: int,
    wanted: SourceFilter,
) -> tuple[SourcesPage, str | None]:
    """A page of sources; a network filter that is no address or range is named in an error
    and the page shows the table without it."""
    try:
        found = insights.domain_sources(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor, since=since,
            page=page, per_page=PER_PAGE, wanted=wanted,
        )  # fmt: skip
    except InvalidInput as problem:
        without = SourceFilter(kind=wanted.kind, result=wanted.result)
        return _sources(ctx, session, domain, since, page, without)[0], problem.message
    return found, None


@router.get("/dmarc/domains/{domain}/patterns")
def patterns(ctx: UserContext, domain: str) -> Response:
    with ctx.reading() as session:
        answer = insights.domain_patterns(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor, locale=ctx.locale
        )
    name = domain.lower().rstrip(".")
    found = presenters.patterns_out(name, answer, ctx.locale)
    return render(
        ctx,
        "dmarc/patterns.html",
        domain=name,
        found=found,
        as_of=_as_of(ctx, found.computed_at),
        no_failures=wording("no_failures", ctx.locale, domain=name),
    )


@router.get("/dmarc/domains/{domain}/readiness")
def readiness(ctx: UserContext, domain: str) -> Response:
    receiver = ctx.runtime.settings.receiver_domain
    with ctx.reading() as session:
        found = views.readiness(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor, locale=ctx.locale,
            receiver_domain=receiver,
        )  # fmt: skip
        summary = queries.domain_summary(session, org=ctx.org, domain=domain, acting_user=ctx.actor)
    return render(
        ctx,
        "dmarc/readiness.html",
        domain=found.domain,
        found=found,
        current=views.record_text(summary.published_policy),
        as_of=_as_of(ctx, found.computed_at),
        address=views.receiver_address(receiver),
    )


def _reports_page(
    ctx: UserContext,
    *,
    page: int,
    outcome: IngestResult | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    with ctx.reading() as session:
        rows = queries.list_reports(
            session, org=ctx.org, acting_user=ctx.actor,
            limit=REPORTS_PER_PAGE + 1, offset=(page - 1) * REPORTS_PER_PAGE,
        )  # fmt: skip
        total = queries.count_reports(session, org=ctx.org)
    return render(
        ctx,
        "dmarc/reports.html",
        status_code=status,
        reports=rows[:REPORTS_PER_PAGE],
        page=page,
        has_next=len(rows) > REPORTS_PER_PAGE,
        total=total,
        outcome=outcome,
        error=error,
        address=views.receiver_address(ctx.runtime.settings.receiver_domain),
        max_mb=ctx.runtime.settings.report_max_file_mb,
    )


@router.get("/dmarc/reports")
def reports(ctx: UserContext, page: Page = 1) -> Response:
    return _reports_page(ctx, page=page)


@router.post("/dmarc/reports")
async def upload(ctx: UserContext, files: list[UploadFile]) -> Response:
    limits = limits_from(ctx.runtime.settings)
    ingestor = BatchIngestor(
        lambda: ctx.runtime.session(client_ip=ctx.client_ip),
        organisation_id=ctx.org.id,
        acting_user=ctx.actor,
        channel="upload",
        limits=limits,
    )
    try:
        ingestor.check_permission()
    except TodokeError as problem:
        return _reports_page(ctx, page=1, error=problem.message, status=problem.http_status)
    summary = await ingestor.add_uploads(files)
    return _reports_page(ctx, page=1, outcome=IngestResult.model_validate(summary.as_json()))
