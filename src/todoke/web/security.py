"""Security headers, cookies and CSRF tokens for the web and the JSON API.

CSRF: a token is an HMAC of the secret key over whatever binds the browser: the session cookie
once logged in, a random pre-login cookie before. The cookies are `__Host-` prefixed (Secure, no
Domain, Path=/), so a sibling subdomain cannot plant one; forms carry the token in a hidden field,
scripts in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "__Host-todoke_session"
PRELOGIN_COOKIE = "__Host-todoke_prelogin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def csrf_token(secret: bytes, binding: str) -> str:
    return hmac.new(secret, b"csrf|" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, binding: str | None, presented: str | None) -> bool:
    if not binding or not presented:
        return False
    return hmac.compare_digest(csrf_token(secret, binding), presented)


def csrf_binding(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRELOGIN_COOKIE)


def new_prelogin_value() -> str:
    return secrets.token_urlsafe(24)


def set_host_cookie(response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax"
    )


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if is_https(request):
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.url.path not in ("/healthz",) and not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response
