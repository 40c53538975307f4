"""The printable monthly DMARC digest, as a page and as a PDF (WeasyPrint).

The PDF is laid out from the same HTML with nothing fetched: styles are inline, charts are
inline SVG, fonts come from the system (Noto Sans CJK JP) and the URL fetcher refuses every
URL, so a hostile value in a report can never make the server reach out.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from markupsafe import Markup
from starlette.responses import Response

from todoke import i18n
from todoke.dmarc import digest
from todoke.dmarc.analyses.wording import freshness
from todoke.dmarc.schemas import DomainSummary
from todoke.web import dmarc_views as views
from todoke.web.context import UserContext, check_csrf
from todoke.web.svg_charts import Series, stacked_bars
from todoke.web.templating import render, templates

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

Month = Annotated[str | None, Query(max_length=7)]
Domain = Annotated[str | None, Query(max_length=253)]
PASS_COLOUR = "#2e7d32"  # noqa: S105  # a colour, not a password
FAIL_COLOUR = "#c62828"


def _month(ctx: UserContext, month: str | None) -> date:
    """The month asked for; by default the last complete one, the usual month to report on."""
    if month:
        return digest.parse_month(month)
    return digest.previous_month(ctx.runtime.clock.now().date().replace(day=1))


def _chart(summary: DomainSummary, title: str) -> Markup:
    """Every day of the period gets its place, so a day without reports reads as a gap."""
    found = {point.day: point for point in summary.days}
    days = [
        summary.since + timedelta(days=n) for n in range((summary.until - summary.since).days + 1)
    ]
    passing = [found[day].dmarc_pass if day in found else 0 for day in days]
    failing = [found[day].dmarc_fail if day in found else 0 for day in days]
    series = [
        Series(i18n.gettext("DMARC pass"), PASS_COLOUR, passing),
        Series(i18n.gettext("DMARC fail"), FAIL_COLOUR, failing),
    ]
    labels = [day.strftime("%m-%d") for day in days]
    # stacked_bars escapes every text it writes, so its SVG is safe to insert as is.
    return Markup(stacked_bars(labels, series, title=title))  # noqa: S704


def _variables(ctx: UserContext, month: str | None, domain: str | None) -> dict[str, Any]:
    first = _month(ctx, month)
    name = (domain or "").strip() or None
    with ctx.reading() as session:
        found = digest.month_digest(
            session, org=ctx.org, acting_user=ctx.actor, month=first, locale=ctx.locale,
            domain=name, report_uri=views.report_uri(ctx.runtime.settings.receiver_domain),
        )  # fmt: skip
    i18n.set_locale(ctx.locale)
    charts = {
        item.summary.domain: _chart(
            item.summary,
            i18n.gettext("Messages passing and failing DMARC by day, %(domain)s")
            % {"domain": item.summary.domain},
        )
        for item in found.domains
    }
    query = urlencode({"month": f"{first:%Y-%m}", **({"domain": name} if name else {})})
    return {
        "found": found,
        "charts": charts,
        "domain": name,
        "query": query,
        # Stored digests say when they were computed; the oldest one speaks for the page.
        "as_of": freshness(found.computed_at, ctx.locale, digest=True) if found.domains else "",
        "earlier": f"{digest.previous_month(first):%Y-%m}",
        "later": f"{digest.next_month(first):%Y-%m}" if found.until < _today(ctx) else None,
        "percent": views.percent,
        "record_text": views.record_text,
        "first_line": first_line,
    }


def _today(ctx: UserContext) -> date:
    return ctx.runtime.clock.now().date()


def first_line(text: str) -> str:
    """The first sentence of an advice text, for a digest that only points the way."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    for end in ("。", ". "):
        if end in line:
            return line.split(end, 1)[0] + end.strip()
    return line


@router.get("/dmarc/digest")
def digest_page(ctx: UserContext, month: Month = None, domain: Domain = None) -> Response:
    nonce = secrets.token_urlsafe(16)
    variables = _variables(ctx, month, domain)
    # Styles are inline so the PDF needs nothing else; the nonce admits only this page's.
    policy = f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; " + (
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return render(
        ctx,
        "dmarc/digest.html",
        headers={"Content-Security-Policy": policy},
        nonce=nonce,
        for_pdf=False,
        **variables,
    )


@router.get("/dmarc/digest.pdf")
def digest_pdf(ctx: UserContext, month: Month = None, domain: Domain = None) -> Response:
    from todoke.web.pdf import html_to_pdf  # WeasyPrint loads Pango: only when a PDF is asked

    variables = _variables(ctx, month, domain)
    i18n.set_locale(ctx.locale)
    html = templates.get_template("dmarc/digest.html").render(
        locale=ctx.locale, nonce="", for_pdf=True, **variables
    )
    first = variables["found"].month
    return Response(
        html_to_pdf(html),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="dmarc-digest-{first:%Y-%m}.pdf"'},
    )
