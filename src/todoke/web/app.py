"""The FastAPI application: pages, /api/v1, static files, health and metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from todoke import __version__
from todoke.api.dmarc import router as dmarc_api_router
from todoke.api.domains import router as domains_api_router
from todoke.api.errors import error_payload
from todoke.api.routes import router as api_router
from todoke.core.errors import TodokeError
from todoke.runtime import Runtime
from todoke.web import (
    dmarc_digest_pages,
    dmarc_domain_pages,
    dmarc_manage_pages,
    dmarc_pages,
    domain_pages,
    error_text,
    observability,
    pages,
)
from todoke.web.context import CSRFRejected, LoginRequired
from todoke.web.security import PRELOGIN_COOKIE, SecurityHeadersMiddleware, set_host_cookie

STATIC_DIR = Path(__file__).with_name("static")
PRELOGIN_MAX_AGE = 2 * 3600


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class PreloginCookieMiddleware(BaseHTTPMiddleware):
    """Hands a browser its CSRF binding cookie the first time it is needed."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        value = getattr(request.state, "new_prelogin", None)
        if value:
            set_host_cookie(response, PRELOGIN_COOKIE, value, max_age=PRELOGIN_MAX_AGE)
        return response


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse(error_payload("login_required", "log in first"), status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(CSRFRejected)
    async def _csrf(_request: Request, exc: CSRFRejected) -> Response:
        return JSONResponse(error_payload("csrf_rejected", str(exc)), status_code=403)

    # Sync: a page answer reads the signed-in user from the database (run in a thread).
    @app.exception_handler(TodokeError)
    def _domain_error(request: Request, exc: TodokeError) -> Response:
        page = error_text.error_page(request, exc)
        if page is not None:
            return page
        headers = {}
        if getattr(exc, "retry_after_seconds", None):
            headers["Retry-After"] = str(exc.details["retry_after_seconds"])
        return JSONResponse(
            error_payload(exc.code, exc.message), status_code=exc.http_status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid value')}" if where else "invalid input"
        return JSONResponse(error_payload("invalid_input", message), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_payload(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Todoke API",
        version=__version__,
        description="Email delivery and DMARC intelligence. Errors are "
        '`{"error": {"code": "...", "message": "..."}}`.',
        docs_url=None,  # Swagger UI loads scripts from a CDN, which our CSP forbids
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.runtime = runtime
    _install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(dmarc_api_router)
    app.include_router(domains_api_router)
    app.include_router(observability.router)
    app.include_router(pages.router)
    app.include_router(domain_pages.router)
    app.include_router(dmarc_pages.router)
    app.include_router(dmarc_domain_pages.router)
    app.include_router(dmarc_manage_pages.router)
    app.include_router(dmarc_digest_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(PreloginCookieMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(observability.MetricsMiddleware)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=runtime.settings.trusted_proxies)
    return app
