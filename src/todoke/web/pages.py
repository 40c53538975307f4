"""HTML pages: parse the request, call a service, render. Nothing more."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from todoke.accounts import login as login_service
from todoke.accounts.services import list_users, set_locale
from todoke.audit.queries import list_events, verify_organisation_chain
from todoke.authz import has_permission
from todoke.core.errors import TooManyAttempts
from todoke.dmarc.queries import reported_domains
from todoke.domains.services import list_domains
from todoke.settings import SUPPORTED_LOCALES
from todoke.web.context import LANGUAGE_COOKIE, Context, UserContext, check_csrf
from todoke.web.security import PRELOGIN_COOKIE, SESSION_COOKIE, set_host_cookie
from todoke.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: `//evil.example` and `https://...` would be open redirects."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_page(ctx: Context, next: str | None = None) -> Response:
    if ctx.user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(ctx, "login.html", next=_safe_next(next), email="", error=None)


@router.post("/login")
def login_submit(
    ctx: Context,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    with ctx.session.begin():
        outcome = login_service.attempt_login(
            ctx.session,
            email=email,
            password=password,
            throttle=ctx.runtime.throttle_policy,
            sessions=ctx.runtime.session_policy,
            user_agent=ctx.request.headers.get("user-agent"),
        )
    if outcome.token is None:
        if isinstance(outcome.failure, TooManyAttempts):
            seconds = outcome.failure.retry_after_seconds
            return render(
                ctx,
                "login.html",
                status_code=429,
                error="throttled",
                email=email,
                seconds=seconds,
                next=_safe_next(next),
                headers={"Retry-After": str(seconds)},
            )
        return render(
            ctx,
            "login.html",
            status_code=401,
            email=email,
            next=_safe_next(next),
            error="wrong_credentials",
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    max_age = int(ctx.runtime.session_policy.absolute.total_seconds())
    set_host_cookie(response, SESSION_COOKIE, outcome.token, max_age=max_age)
    response.delete_cookie(PRELOGIN_COOKIE, path="/", secure=True, httponly=True)
    return response


@router.post("/logout")
def logout(ctx: UserContext) -> Response:
    with ctx.session.begin():
        login_service.logout(ctx.session, token=ctx.session_token or "", acting_user=ctx.actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True)
    return response


@router.post("/language")
def choose_language(
    ctx: Context,
    language: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    chosen = language if language in SUPPORTED_LOCALES else None
    if ctx.user is not None:
        with ctx.session.begin():
            set_locale(ctx.session, user=ctx.actor, locale=chosen, acting_user=ctx.actor)
    response = RedirectResponse(_safe_next(next), status_code=303)
    if chosen:
        set_host_cookie(response, LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600)
    return response


@router.get("/")
def dashboard(ctx: UserContext) -> Response:
    recent = None
    reported: list[str] = []
    registered = 0
    with ctx.reading() as session:
        if has_permission(ctx.actor, "audit.view"):
            recent = list_events(session, org=ctx.org, acting_user=ctx.actor, per_page=5).items
        if has_permission(ctx.actor, "dmarc.view"):
            reported = reported_domains(session, org=ctx.org, acting_user=ctx.actor)
        if has_permission(ctx.actor, "domains.view"):
            registered = len(list_domains(session, org=ctx.org, acting_user=ctx.actor))
    return render(
        ctx, "dashboard.html", recent_events=recent, reported=reported, registered=registered
    )


@router.get("/audit")
def audit_log(ctx: UserContext, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    with ctx.reading() as session:
        events = list_events(session, org=ctx.org, acting_user=ctx.actor, page=page)
    return render(ctx, "audit.html", events=events)


@router.get("/audit/verify")
def audit_verify(ctx: UserContext) -> Response:
    with ctx.reading() as session:
        result = verify_organisation_chain(session, org=ctx.org, acting_user=ctx.actor)
    return render(ctx, "audit_verify.html", result=result)


@router.get("/users")
def users(ctx: UserContext) -> Response:
    with ctx.reading() as session:
        members = list_users(session, org=ctx.org, acting_user=ctx.actor)
    return render(ctx, "users.html", members=members)
