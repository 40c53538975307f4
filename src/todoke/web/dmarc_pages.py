"""DMARC pages: the overview, a domain's error patterns and readiness, and the reports with
their upload (the domain page itself: `dmarc_domain_pages`). Thin: the engine checks
`dmarc.view` and `dmarc.ingest`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, UploadFile
from starlette.responses import Response

from todoke import i18n
from todoke.core.errors import TodokeError
from todoke.dmarc import insights, policy_history, presenters, queries
from todoke.dmarc.analyses.wording import wording
from todoke.dmarc.intake import upload_ingestor
from todoke.dmarc.schemas import IngestResult
from todoke.web import dmarc_views as views
from todoke.web.context import UserContext, check_csrf
from todoke.web.error_text import worded, worded_result
from todoke.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

Days = Annotated[int, Query(ge=1, le=366)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
REPORTS_PER_PAGE = 50


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
        trend_text=lambda current, previous: _trend_text(views.trend(current, previous)),
        rate_change=views.rate_change,
    )


def _trend_text(value: str) -> str:
    return i18n.gettext("new") if value == "new" else value


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
        history = policy_history.policy_history(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor
        )
    return render(
        ctx,
        "dmarc/readiness.html",
        domain=found.domain,
        found=found,
        current=views.record_text(summary.published_policy),
        history=history,
        record_text=views.record_text,
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
    ingestor = upload_ingestor(
        lambda: ctx.runtime.session(client_ip=ctx.client_ip),
        organisation_id=ctx.org.id,
        acting_user=ctx.actor,
        settings=ctx.runtime.settings,
    )
    try:
        ingestor.check_permission()
    except TodokeError as problem:
        return _reports_page(
            ctx, page=1, error=worded(problem, ctx.locale), status=problem.http_status
        )
    summary = await ingestor.add_uploads(files)
    return _reports_page(ctx, page=1, outcome=worded_result(summary, ctx.locale))
