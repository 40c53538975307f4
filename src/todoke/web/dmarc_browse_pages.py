"""DMARC pages that browse what was received: TLS reports, failure reports (personal data
only for `dmarc.view_personal_data`, decided by the engine), and one source's records with the
reports they came from. Thin: every answer is a `dmarc.browse` read model."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from todoke.core.errors import InvalidInput
from todoke.dmarc import browse
from todoke.web import dmarc_views as views
from todoke.web.context import UserContext, check_csrf
from todoke.web.dmarc_pages import Days, Page, _period, _today
from todoke.web.error_text import worded
from todoke.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

PER_PAGE = 50


@router.get("/dmarc/tls-reports")
def tls_reports(ctx: UserContext, page: Page = 1) -> Response:
    with ctx.reading() as session:
        found = browse.tls_reports(
            session, org=ctx.org, acting_user=ctx.actor, page=page, per_page=PER_PAGE
        )
    return render(ctx, "dmarc/tls_reports.html", found=found)


@router.get("/dmarc/failure-reports")
def failure_reports(ctx: UserContext, page: Page = 1) -> Response:
    with ctx.reading() as session:
        found = browse.failure_reports(
            session, org=ctx.org, acting_user=ctx.actor, page=page, per_page=PER_PAGE
        )
    return render(ctx, "dmarc/failure_reports.html", found=found)


@router.get("/dmarc/failure-reports/{report_id}")
def failure_report(ctx: UserContext, report_id: int) -> Response:
    with ctx.reading() as session:
        found = browse.failure_report(
            session, org=ctx.org, report_id=report_id, acting_user=ctx.actor
        )
    return render(ctx, "dmarc/failure_report.html", report=found)


@router.get("/dmarc/domains/{domain}/sources/{source_ip}")
def source_records(
    ctx: UserContext,
    domain: str,
    source_ip: str,
    days: Days = views.DEFAULT_DAYS,
    page: Page = 1,
) -> Response:
    days = _period(days)
    try:
        with ctx.reading() as session:
            found = browse.source_records(
                session, org=ctx.org, domain=domain, source_ip=source_ip,
                acting_user=ctx.actor, since=views.since_for(_today(ctx), days), page=page,
                per_page=PER_PAGE,
            )  # fmt: skip
    except InvalidInput as problem:
        return render(ctx, "dmarc/source_records.html", status_code=422, found=None,
                      error=worded(problem, ctx.locale), domain=domain, days=days)  # fmt: skip
    link = views.Linker(f"/dmarc/domains/{found.domain}/sources/{found.source_ip}", {"days": days})
    return render(
        ctx,
        "dmarc/source_records.html",
        found=found,
        domain=found.domain,
        days=days,
        periods=views.PERIODS,
        link=link,
        error=None,
        percent=views.percent,
    )
