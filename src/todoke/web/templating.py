"""Jinja2 templates with the i18n extension wired to `todoke.i18n`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from todoke import i18n
from todoke.authz import has_permission
from todoke.web.context import RequestContext
from todoke.web.nav import navigation

TEMPLATE_DIR = Path(__file__).with_name("templates")

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
    undefined=jinja2.StrictUndefined,
)
# Jinja's newstyle gettext fills in the variables itself (escaping them), so the callables it
# gets only look the text up.
_environment.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=i18n.lookup, ngettext=i18n.lookup_plural, newstyle=True
)
templates = Jinja2Templates(env=_environment)
templates.env.globals["current_locale"] = i18n.current_locale


def render(
    ctx: RequestContext,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> Response:
    # Dependencies run in another thread, so the language is set here, where rendering happens.
    i18n.set_locale(ctx.locale)
    user = ctx.user
    context: dict[str, Any] = {
        "ctx": ctx,
        "user": user,
        "locale": ctx.locale,
        "csrf_token": ctx.csrf,
        "nav": navigation(ctx.request.url.path, user),
        "can": (lambda permission: user is not None and has_permission(user, permission)),
        **variables,
    }
    return templates.TemplateResponse(
        ctx.request, template, context, status_code=status_code, headers=headers
    )
