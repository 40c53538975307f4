"""DMARC pages that manage what reports are read against: registered sources and their tags
(with the tag and spoofing analyses), the inventory of domains seen, the report mailboxes.
Thin: the engine checks `dmarc.view`, `dmarc.manage_sources` and `dmarc.manage_mailboxes`.
The browsing pages (TLS and failure reports, a source's records) are in `dmarc_browse_pages`,
included here so the application adds one router."""

from __future__ import annotations

import imaplib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from todoke.core.errors import InvalidInput, TodokeError
from todoke.dmarc import browse_sources, posture, queries, services
from todoke.dmarc.mailboxes import (
    MailboxSettings,
    add_mailbox,
    check_new_mailbox,
    check_saved_mailbox,
)
from todoke.dmarc.mailboxes import list_mailboxes as mailboxes_of
from todoke.dmarc.mailboxes import remove_mailbox as drop_mailbox
from todoke.web import dmarc_browse_pages
from todoke.web import dmarc_views as views
from todoke.web.context import UserContext, check_csrf
from todoke.web.dmarc_pages import Days, _period, _today
from todoke.web.error_text import connection_failure, stored_connection_failure, worded
from todoke.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
router.include_router(dmarc_browse_pages.router)


@dataclass(frozen=True)
class Failed:
    """What was not done (the template words it in the reader's language) and the engine's
    reason, already in the reader's language."""

    action: Literal["source.register", "source.remove", "mailbox.save", "mailbox.remove"]
    reason: str


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


def _sources_page(
    ctx: UserContext,
    *,
    domain: str | None,
    days: int,
    error: Failed | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    since = views.since_for(_today(ctx), days)
    with ctx.reading() as session:
        registered = services.list_sources(session, org=ctx.org, acting_user=ctx.actor)
        domains = queries.reported_domains(session, org=ctx.org, acting_user=ctx.actor)
        chosen = (domain or "").lower().rstrip(".") or (domains[0] if domains else None)
        tags = spoofing = None
        if chosen:
            tags = browse_sources.tag_analysis(
                session, org=ctx.org, domain=chosen, acting_user=ctx.actor, since=since
            )
            spoofing = browse_sources.spoofing_analysis(
                session, org=ctx.org, domain=chosen, acting_user=ctx.actor, since=since
            )
    return render(
        ctx,
        "dmarc/sources_manage.html",
        status_code=status,
        registered=registered,
        domains=domains,
        domain=chosen,
        days=days,
        periods=views.PERIODS,
        tags=tags,
        spoofing=spoofing,
        error=error,
        form=form or {},
        percent=views.percent,
    )


@router.get("/dmarc/sources")
def sources(
    ctx: UserContext, domain: str | None = None, days: Days = views.DEFAULT_DAYS
) -> Response:
    return _sources_page(ctx, domain=domain, days=_period(days))


@router.post("/dmarc/sources")
def register_source(
    ctx: UserContext,
    network: Annotated[str, Form(max_length=49)],
    label: Annotated[str, Form(max_length=200)] = "",
    tags: Annotated[str, Form(max_length=900)] = "",
) -> Response:
    # Tags are typed as one field, separated by commas (、 too, as Japanese keyboards give).
    names = [tag for tag in tags.replace("、", ",").split(",") if tag.strip()]
    try:
        with ctx.session.begin():
            services.register_source(
                ctx.session, org=ctx.org, cidr=network, label=label, tags=names,
                acting_user=ctx.actor,
            )  # fmt: skip
    except TodokeError as problem:
        message = Failed("source.register", worded(problem, ctx.locale))
        form = {"network": network, "label": label, "tags": tags}
        return _sources_page(
            ctx, domain=None, days=views.DEFAULT_DAYS, error=message,
            status=problem.http_status, form=form,
        )  # fmt: skip
    return _back("/dmarc/sources#registered")


@router.post("/dmarc/sources/{source_id}/remove")
def remove_source(ctx: UserContext, source_id: int) -> Response:
    try:
        with ctx.session.begin():
            services.remove_source(
                ctx.session, org=ctx.org, source_id=source_id, acting_user=ctx.actor
            )
    except TodokeError as problem:
        message = Failed("source.remove", worded(problem, ctx.locale))
        return _sources_page(
            ctx, domain=None, days=views.DEFAULT_DAYS, error=message, status=problem.http_status
        )
    return _back("/dmarc/sources#registered")


@router.get("/dmarc/inventory")
def inventory(ctx: UserContext) -> Response:
    with ctx.reading() as session:
        entries = posture.inventory(session, org=ctx.org, acting_user=ctx.actor, locale=ctx.locale)
    return render(ctx, "dmarc/inventory.html", entries=entries, percent=views.percent)


def _mailboxes_page(
    ctx: UserContext,
    *,
    error: Failed | None = None,
    tested: dict[str, Any] | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
) -> Response:
    with ctx.reading() as session:
        found = mailboxes_of(session, org=ctx.org, acting_user=ctx.actor)
    return render(
        ctx,
        "dmarc/mailboxes.html",
        status_code=status,
        mailboxes=found,
        address=views.receiver_address(ctx.runtime.settings.receiver_domain),
        error=error,
        tested=tested,
        form=form or {"port": 993, "security": "ssl", "folder": "INBOX"},
        poll_failure=lambda reason: stored_connection_failure(reason, ctx.locale),
    )


@router.get("/dmarc/mailboxes")
def mailboxes(ctx: UserContext) -> Response:
    return _mailboxes_page(ctx)


@router.post("/dmarc/mailboxes")
def add_or_test_mailbox(
    ctx: UserContext,
    host: Annotated[str, Form(max_length=253)],
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    port: Annotated[int, Form(ge=1, le=65535)] = 993,
    security: Annotated[Literal["ssl", "starttls", "none"], Form()] = "ssl",
    folder: Annotated[str, Form(max_length=200)] = "INBOX",
    label: Annotated[str, Form(max_length=200)] = "",
    action: Annotated[Literal["save", "test"], Form()] = "save",
) -> Response:
    settings = MailboxSettings(
        label=label, host=host.strip(), port=port, security=security,
        username=username.strip(), password=password, folder=folder.strip() or "INBOX",
    )  # fmt: skip
    # The password is never sent back: a failed form asks for it again.
    form = {"host": host, "port": port, "security": security, "username": username,
            "folder": folder, "label": label}  # fmt: skip
    if action == "test":
        tested = _test(
            lambda: check_new_mailbox(settings, org=ctx.org, acting_user=ctx.actor),
            ctx.locale,
        )
        return _mailboxes_page(ctx, tested=tested, form=form)
    try:
        with ctx.session.begin():
            add_mailbox(
                ctx.session, org=ctx.org, settings=settings,
                secret_key=ctx.runtime.settings.secret_key_bytes(), acting_user=ctx.actor,
            )  # fmt: skip
    except TodokeError as problem:
        message = Failed("mailbox.save", worded(problem, ctx.locale))
        return _mailboxes_page(ctx, error=message, status=problem.http_status, form=form)
    return _back("/dmarc/mailboxes#saved")


def _test(attempt: Callable[[], int], locale: str) -> dict[str, Any]:
    """A connection test's outcome for the page: the unseen count, or what went wrong in the
    reader's words with the server's own answer."""
    try:
        unseen = attempt()
    except InvalidInput as problem:
        return {"ok": False, "reason": worded(problem, locale), "detail": None}
    except (imaplib.IMAP4.error, OSError) as problem:
        reason = connection_failure(type(problem), locale)
        return {"ok": False, "reason": reason, "detail": f"{type(problem).__name__}: {problem}"}
    return {"ok": True, "unseen": unseen}


@router.post("/dmarc/mailboxes/{mailbox_id}/test")
def test_mailbox(ctx: UserContext, mailbox_id: int) -> Response:
    def attempt() -> int:
        with ctx.reading() as session:
            return check_saved_mailbox(
                session, org=ctx.org, mailbox_id=mailbox_id,
                secret_key=ctx.runtime.settings.secret_key_bytes(), acting_user=ctx.actor,
            )  # fmt: skip

    tested = {**_test(attempt, ctx.locale), "mailbox_id": mailbox_id}
    return _mailboxes_page(ctx, tested=tested)


@router.post("/dmarc/mailboxes/{mailbox_id}/remove")
def remove_mailbox(ctx: UserContext, mailbox_id: int) -> Response:
    try:
        with ctx.session.begin():
            drop_mailbox(ctx.session, org=ctx.org, mailbox_id=mailbox_id, acting_user=ctx.actor)
    except TodokeError as problem:
        message = Failed("mailbox.remove", worded(problem, ctx.locale))
        return _mailboxes_page(ctx, error=message, status=problem.http_status)
    return _back("/dmarc/mailboxes#saved")
