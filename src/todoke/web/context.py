"""Per-request context shared by pages and API routes: database session, user, language, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from todoke import i18n
from todoke.accounts.login import find_live_session, touch_due, touch_session
from todoke.accounts.models import Organisation, User
from todoke.db import read_only
from todoke.runtime import Runtime
from todoke.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    csrf_binding,
    csrf_token,
    csrf_valid,
    new_prelogin_value,
)

LANGUAGE_COOKIE = "__Host-todoke_lang"


class LoginRequired(Exception):
    """Raised by `user_context`; pages redirect to /login, the API answers 401."""


class CSRFRejected(Exception):
    """An unsafe request without a valid CSRF token or from another origin."""


@dataclass
class RequestContext:
    request: Request
    runtime: Runtime
    session: Session
    user: User | None
    session_token: str | None
    locale: str
    csrf: str

    @property
    def actor(self) -> User:
        """The signed-in user; routes behind `UserContext` always have one."""
        if self.user is None:
            raise LoginRequired
        return self.user

    @property
    def org(self) -> Organisation:
        return self.actor.organisation

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read transaction (no write lock on SQLite); objects stay usable afterwards."""
        read_only(self.session)
        try:
            yield self.session
        finally:
            self.session.commit()

    @property
    def client_ip(self) -> str | None:
        return self.request.client.host if self.request.client else None


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _load_user(runtime: Runtime, session: Session, token: str | None) -> User | None:
    if not token:
        return None
    read_only(session)
    found = find_live_session(session, token)
    stale = found is not None and touch_due(session, found)
    session.commit()
    if found is None:
        return None
    if stale:
        with session.begin():
            touch_session(session, found, runtime.session_policy)
    return found.user


def request_context(request: Request) -> Iterator[RequestContext]:
    runtime = runtime_of(request)
    client = request.client.host if request.client else None
    session = runtime.session(client_ip=client)
    try:
        token = request.cookies.get(SESSION_COOKIE)
        user = _load_user(runtime, session, token)
        if user is None:
            token = None
        locale = i18n.negotiate_locale(
            user.locale if user else request.cookies.get(LANGUAGE_COOKIE),
            request.headers.get("accept-language"),
            runtime.settings.default_locale,
        )
        i18n.set_locale(locale)
        binding = csrf_binding(request)
        if binding is None:
            binding = new_prelogin_value()
            request.state.new_prelogin = binding
        yield RequestContext(
            request=request,
            runtime=runtime,
            session=session,
            user=user,
            session_token=token,
            locale=locale,
            csrf=csrf_token(runtime.settings.secret_key_bytes(), binding),
        )
    finally:
        session.close()


Context = Annotated[RequestContext, Depends(request_context)]


def user_context(ctx: Context) -> RequestContext:
    if ctx.user is None:
        raise LoginRequired
    return ctx


UserContext = Annotated[RequestContext, Depends(user_context)]


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return origin == f"{request.url.scheme}://{request.url.netloc}"


async def check_csrf(request: Request) -> None:
    """Router dependency: every unsafe request carries a token bound to this browser."""
    if request.method in SAFE_METHODS:
        return
    if not _same_origin(request):
        raise CSRFRejected("request from another origin")
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        presented = field if isinstance(field, str) else None
    secret = runtime_of(request).settings.secret_key_bytes()
    if not csrf_valid(secret, csrf_binding(request), presented):
        raise CSRFRejected("missing or invalid CSRF token")
