"""/healthz for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

from todoke import __version__
from todoke.api.errors import error_payload
from todoke.api.schemas import HealthOut
from todoke.db import migrate
from todoke.web.context import runtime_of

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "todoke_http_requests_total",
    "HTTP requests answered",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "todoke_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    registry=REGISTRY,
)

router = APIRouter(include_in_schema=True, tags=["operations"])


class MetricsMiddleware(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # The route template, not the raw path, keeps label cardinality bounded.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response


@router.get("/healthz")
def healthz(request: Request) -> HealthOut:
    """Liveness and database reachability; 503 when the database is not usable."""
    runtime = runtime_of(request)
    database: str = "ok"
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if not migrate.is_up_to_date(runtime.engine):
            database = "not_migrated"
    except SQLAlchemyError:
        database = "unreachable"
    status = "ok" if database == "ok" else "degraded"
    body = HealthOut(status=status, database=database, version=__version__)
    if status != "ok":
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return body


def _allowed(client: str | None, allowed: list[str]) -> bool:
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowed)


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics, for the addresses in `metrics_allowed_ips` only."""
    client = request.client.host if request.client else None
    if not _allowed(client, runtime_of(request).settings.metrics_allowed_ips):
        return JSONResponse(
            error_payload("forbidden", "metrics are not served to this address"), status_code=403
        )
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
