"""/api/v1/dmarc: upload and list reports, per-domain analyses, registered sources, exports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import StreamingResponse

from todoke.api.errors import ERRORS
from todoke.dmarc import exports, insights, posture, presenters, queries, services
from todoke.dmarc.analyses import ResultFilter, SourceFilter
from todoke.dmarc.analysis import ClassificationKind
from todoke.dmarc.intake import upload_ingestor
from todoke.dmarc.schemas import (
    DomainSummary,
    IngestResult,
    InventoryOut,
    PatternsOut,
    ReadinessOut,
    ReportRow,
    SourceNetworkIn,
    SourceNetworkOut,
    SourcesOut,
)
from todoke.web.context import UserContext, check_csrf

router = APIRouter(
    prefix="/api/v1/dmarc", tags=["dmarc"], dependencies=[Depends(check_csrf)], responses=ERRORS
)

DomainQuery = Annotated[str, Query(min_length=3, max_length=253, description="e.g. example.jp")]
SinceQuery = Annotated[date | None, Query(description="First day (UTC), default 30 days ago")]
UntilQuery = Annotated[date | None, Query(description="Last day (UTC), default today")]


@router.get("/reports")
def list_reports(
    ctx: UserContext,
    domain: Annotated[str | None, Query(max_length=253)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ReportRow]:
    """Stored aggregate reports, newest first."""
    with ctx.reading() as session:
        return queries.list_reports(
            session,
            org=ctx.org,
            acting_user=ctx.actor,
            domain=domain,
            limit=per_page,
            offset=(page - 1) * per_page,
        )


@router.post("/reports", status_code=200)
async def upload_reports(files: list[UploadFile], ctx: UserContext) -> IngestResult:
    """Upload report files (.xml, .gz, .zip, .json, .eml); refused files are listed by name."""
    ingestor = upload_ingestor(
        lambda: ctx.runtime.session(client_ip=ctx.client_ip),
        organisation_id=ctx.org.id,
        acting_user=ctx.actor,
        settings=ctx.runtime.settings,
    )
    ingestor.check_permission()
    summary = await ingestor.add_uploads(files)
    return IngestResult.model_validate(summary.as_json())


@router.get("/domains")
def reported_domains(ctx: UserContext) -> list[str]:
    """Domains that reports have been received for."""
    with ctx.reading() as session:
        return queries.reported_domains(session, org=ctx.org, acting_user=ctx.actor)


@router.get("/summary")
def summary(
    ctx: UserContext, domain: DomainQuery, since: SinceQuery = None, until: UntilQuery = None
) -> DomainSummary:
    """Messages, DMARC pass and fail, alignment and dispositions by day for one domain."""
    with ctx.reading() as session:
        return queries.domain_summary(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor, since=since, until=until
        )


@router.get("/sources")
def sources_seen(
    ctx: UserContext,
    domain: DomainQuery,
    since: SinceQuery = None,
    until: UntilQuery = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
    classification: Annotated[ClassificationKind | None, Query()] = None,
    result: Annotated[
        ResultFilter | None, Query(description="fail: sources with failing mail; pass: none")
    ] = None,
    network: Annotated[
        str | None, Query(max_length=49, description="An address or CIDR, e.g. 203.0.113.0/24")
    ] = None,
    tag: Annotated[
        str | None, Query(max_length=40, description="A registered source's tag")
    ] = None,
) -> SourcesOut:
    """Who sends as the domain, largest first, a page at a time: each source address with
    sender, volumes and classification. The last 14, 30 and 90 days are read from the stored
    analysis (`computed_at`); other ranges are computed for the request."""
    wanted = SourceFilter(kind=classification, result=result, network=network, tag=tag)
    with ctx.reading() as session:
        found = insights.domain_sources(
            session, org=ctx.org, domain=domain, acting_user=ctx.actor, since=since, until=until,
            page=page, per_page=per_page, wanted=wanted,
        )  # fmt: skip
    return presenters.sources_out(found)


@router.get("/patterns")
def patterns(
    ctx: UserContext, domain: DomainQuery, since: SinceQuery = None, until: UntilQuery = None
) -> PatternsOut:
    """Failures grouped into error patterns, with advice in the user's language."""
    with ctx.reading() as session:
        answer = insights.domain_patterns(
            session,
            org=ctx.org,
            domain=domain,
            acting_user=ctx.actor,
            locale=ctx.locale,
            since=since,
            until=until,
        )
    return presenters.patterns_out(domain.lower().rstrip("."), answer, ctx.locale)


@router.get("/readiness")
def readiness(ctx: UserContext, domain: DomainQuery, until: UntilQuery = None) -> ReadinessOut:
    """Whether the domain is ready for a stricter policy, the blockers, the next record."""
    report_uri = f"mailto:dmarc@{ctx.runtime.settings.receiver_domain}"
    with ctx.reading() as session:
        answer = posture.domain_readiness(
            session,
            org=ctx.org,
            domain=domain,
            acting_user=ctx.actor,
            report_uri=report_uri,
            until=until,
        )
    return presenters.readiness_out(domain.lower().rstrip("."), answer, ctx.locale)


@router.get("/inventory")
def inventory(ctx: UserContext) -> list[InventoryOut]:
    """Every domain seen in reports in the last 90 days, with a recommendation."""
    with ctx.reading() as session:
        entries = posture.inventory(session, org=ctx.org, acting_user=ctx.actor, locale=ctx.locale)
    return [presenters.inventory_out(entry) for entry in entries]


@router.get("/records.csv", response_class=StreamingResponse)
def export_records_csv(
    ctx: UserContext, domain: DomainQuery, since: SinceQuery = None, until: UntilQuery = None
) -> StreamingResponse:
    """Every record of the domain in the period as CSV (UTF-8 with BOM so Excel reads it)."""
    return _export(ctx, domain, since, until, "csv")


@router.get("/records.json", response_class=StreamingResponse)
def export_records_json(
    ctx: UserContext, domain: DomainQuery, since: SinceQuery = None, until: UntilQuery = None
) -> StreamingResponse:
    """Every record of the domain in the period as a JSON array."""
    return _export(ctx, domain, since, until, "json")


def _export(
    ctx: UserContext, domain: str, since: date | None, until: date | None, kind: str
) -> StreamingResponse:
    session = ctx.runtime.session()
    try:
        rows = exports.export_records(
            session, org=ctx.org, domain=domain, since=since, until=until, acting_user=ctx.actor
        )
    except Exception:
        session.close()
        raise
    body = exports.as_csv(rows) if kind == "csv" else exports.as_json(rows)

    def stream() -> Iterator[bytes]:
        try:
            yield from body
        finally:
            session.close()

    filename = f"dmarc-{domain}.{kind}"
    media = "text/csv; charset=utf-8" if kind == "csv" else "application/json"
    return StreamingResponse(
        stream(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/own-sources")
def list_sources(ctx: UserContext) -> list[SourceNetworkOut]:
    """The organisation's registered sending sources (送信元IP管理)."""
    with ctx.reading() as session:
        found = services.list_sources(session, org=ctx.org, acting_user=ctx.actor)
        return [SourceNetworkOut.model_validate(source) for source in found]


@router.post("/own-sources", status_code=201)
def register_source(body: SourceNetworkIn, ctx: UserContext) -> SourceNetworkOut:
    """Register an IP address or CIDR range the organisation sends from, with tags."""
    with ctx.session.begin():
        source = services.register_source(
            ctx.session,
            org=ctx.org,
            cidr=body.network,
            label=body.label,
            tags=body.tags,
            acting_user=ctx.actor,
        )
    return SourceNetworkOut.model_validate(source)


@router.delete("/own-sources/{source_id}", status_code=204)
def remove_source(source_id: int, ctx: UserContext) -> None:
    with ctx.session.begin():
        services.remove_source(ctx.session, org=ctx.org, source_id=source_id, acting_user=ctx.actor)
