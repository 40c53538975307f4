"""`todoke dmarc summary|sources|patterns|readiness|inventory|identify|export|own-source`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from todoke.authz import CLI_ACTOR
from todoke.cli.common import (
    JsonFlag,
    OrgOption,
    console,
    ensure_migrated,
    print_json,
    resolve_org,
    runtime,
)
from todoke.cli.dmarc import dmarc_app
from todoke.core.dns import make_resolver, parse_nameserver
from todoke.db import read_only
from todoke.dmarc import exports, insights, posture, presenters, queries, services
from todoke.dmarc.analyses import ResultFilter, SourceFilter, refresh_stale_analyses
from todoke.dmarc.analyses.wording import freshness, wording
from todoke.dmarc.analysis import ClassificationKind
from todoke.dmarc.identification import identify_pending
from todoke.runtime import Runtime

DomainOption = Annotated[str, typer.Option("--domain", "-d", help="The domain, e.g. example.jp")]
Since = Annotated[
    str | None, typer.Option("--since", help="First day (YYYY-MM-DD, UTC); default 30 days ago")
]
Until = Annotated[str | None, typer.Option("--until", help="Last day (YYYY-MM-DD); default today")]
Lang = Annotated[
    str | None, typer.Option("--lang", help="ja or en (default: the default_locale setting)")
]

own_source_app = typer.Typer(
    help="The organisation's own sending sources: IPs and CIDRs with tags (送信元IP管理).",
    no_args_is_help=True,
)
dmarc_app.add_typer(own_source_app, name="own-source")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date like 2026-11-23", param_hint=option
        ) from None


def _lang(lang: str | None, default: str) -> str:
    return lang if lang in ("ja", "en") else default


@contextmanager
def _reading(current: Runtime) -> Iterator[Session]:
    """A read transaction that keeps what it stored: an analysis computed on demand."""
    with current.session() as session:
        read_only(session)
        yield session
        session.commit()


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


@dmarc_app.command("summary")
def summary(
    domain: DomainOption,
    since: Since = None,
    until: Until = None,
    as_json: JsonFlag = False,
    org: OrgOption = "",
) -> None:
    """Messages, DMARC pass rate, alignment and dispositions for a domain, by day."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            result = queries.domain_summary(
                session,
                org=resolve_org(session, org),
                domain=domain,
                acting_user=CLI_ACTOR,
                since=_day(since, "--since"),
                until=_day(until, "--until"),
            )
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    console.print(
        f"[bold]{result.domain}[/] {result.since} – {result.until}: {result.messages:,} messages, "
        f"DMARC pass {_percent(result.dmarc_pass, result.messages)}, "
        f"{result.quarantined:,} quarantined, {result.rejected:,} rejected, "
        f"{result.reports:,} reports; policy {result.published_policy or 'not seen'}"
    )
    table = Table("day", "messages", "pass", "fail", "SPF aligned", "DKIM aligned")
    for day in result.days:
        table.add_row(
            str(day.day),
            f"{day.messages:,}",
            f"{day.dmarc_pass:,}",
            f"{day.dmarc_fail:,}",
            f"{day.spf_aligned:,}",
            f"{day.dkim_aligned:,}",
        )
    console.print(table)


@dmarc_app.command("sources")
def sources(
    domain: DomainOption,
    since: Since = None,
    until: Until = None,
    as_json: JsonFlag = False,
    org: OrgOption = "",
    lang: Lang = None,
    page: Annotated[int, typer.Option("--page", min=1, help="Page, from 1")] = 1,
    per_page: Annotated[int, typer.Option("--per-page", min=1, max=5000)] = 50,
    classification: Annotated[
        ClassificationKind | None, typer.Option(help="Only sources classified so")
    ] = None,
    result: Annotated[
        ResultFilter | None,
        typer.Option(help="fail: sources with failing mail; pass: all their mail passed"),
    ] = None,
    network: Annotated[str | None, typer.Option(help="Only an address or CIDR range")] = None,
    tag: Annotated[str | None, typer.Option(help="Only registered sources with this tag")] = None,
) -> None:
    """Who sends as the domain, largest first: each source with its sender, volumes and
    classification (the last 14/30/90 days come from the worker's stored analysis)."""
    wanted = SourceFilter(kind=classification, result=result, network=network, tag=tag)
    with runtime() as current:
        ensure_migrated(current)
        locale = _lang(lang, current.settings.default_locale)
        with _reading(current) as session:
            found = insights.domain_sources(
                session, org=resolve_org(session, org), domain=domain, acting_user=CLI_ACTOR,
                since=_day(since, "--since"), until=_day(until, "--until"), page=page,
                per_page=per_page, wanted=wanted,
            )  # fmt: skip
    out = presenters.sources_out(found)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    console.print(
        f"[bold]{out.domain}[/] {out.since} – {out.until}: {freshness(out.computed_at, locale)}"
    )
    table = Table("#", "source", "sender", "messages", "DMARC pass", "classification", "pattern")
    for row in out.sources:
        table.add_row(
            str(row.rank),
            row.source_ip,
            row.sender.name if row.sender else row.ptr_name or "?",
            f"{row.messages:,}",
            _percent(row.dmarc_pass, row.messages),
            row.classification,
            row.dominant_pattern or "",
        )
    console.print(table)
    console.print(wording("page", locale, page=out.page, pages=out.pages, total=out.total))


@dmarc_app.command("patterns")
def patterns(
    domain: DomainOption,
    since: Since = None,
    until: Until = None,
    as_json: JsonFlag = False,
    org: OrgOption = "",
    lang: Lang = None,
) -> None:
    """Every failure grouped into its error pattern, with what it means and what to do."""
    with runtime() as current:
        ensure_migrated(current)
        locale = _lang(lang, current.settings.default_locale)
        with _reading(current) as session:
            answer = insights.domain_patterns(
                session,
                org=resolve_org(session, org),
                domain=domain,
                acting_user=CLI_ACTOR,
                locale=locale,
                since=_day(since, "--since"),
                until=_day(until, "--until"),
            )
    out = presenters.patterns_out(domain.lower().rstrip("."), answer, locale)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    console.print(
        f"[bold]{out.domain}[/] {out.since} – {out.until}: {freshness(out.computed_at, locale)}"
    )
    if not out.patterns:
        console.print(wording("no_failures", locale, domain=out.domain))
    for row in out.patterns:
        console.print(
            f"\n[bold]{row.title}[/] ({row.pattern}, {row.messages:,} messages, "
            f"{len(row.sources)} sources)"
        )
        console.print(row.meaning)
        console.print(f"[green]→[/] {row.action}")
        for sender, fix in row.sender_fixes.items():
            console.print(f"  [cyan]{sender}[/]: {fix}")


@dmarc_app.command("readiness")
def readiness(
    domain: DomainOption,
    as_json: JsonFlag = False,
    org: OrgOption = "",
    lang: Lang = None,
    until: Until = None,
) -> None:
    """Is the domain ready for quarantine or reject, what blocks it, and what to publish next."""
    with runtime() as current:
        ensure_migrated(current)
        locale = _lang(lang, current.settings.default_locale)
        report_uri = f"mailto:dmarc@{current.settings.receiver_domain}"
        with _reading(current) as session:
            answer = posture.domain_readiness(
                session,
                org=resolve_org(session, org),
                domain=domain,
                acting_user=CLI_ACTOR,
                report_uri=report_uri,
                until=_day(until, "--until"),
            )
    result = presenters.readiness_out(domain.lower().rstrip("."), answer, locale)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    console.print(
        f"[bold]{result.domain}[/]: {result.stage} ({result.days_with_data} days of data); "
        f"{freshness(result.computed_at, locale)}"
    )
    for reason in result.reasons:
        console.print(f"• {reason}")
    if result.next_record:
        console.print(f"\nNext record (_dmarc.{result.domain} TXT):\n  {result.next_record}")
    for blocker in result.blockers[:10]:
        console.print(
            f"  blocker {blocker.source_ip} {blocker.sender or ''}: "
            f"{blocker.failing:,} failing of {blocker.messages:,}"
        )


@dmarc_app.command("inventory")
def inventory(as_json: JsonFlag = False, org: OrgOption = "", lang: Lang = None) -> None:
    """Every domain seen in reports (last 90 days), yours or not, with a recommendation."""
    with runtime() as current:
        ensure_migrated(current)
        locale = _lang(lang, current.settings.default_locale)
        with current.session() as session:
            entries = posture.inventory(
                session, org=resolve_org(session, org), acting_user=CLI_ACTOR, locale=locale
            )
    rows = [presenters.inventory_out(entry) for entry in entries]
    if as_json:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    for row in rows:
        console.print(
            f"[bold]{row.domain}[/] ({row.status}, {row.messages:,} messages): {row.recommendation}"
        )


@dmarc_app.command("identify")
def identify(
    offline: Annotated[bool, typer.Option(help="No DNS: registered sources only.")] = False,
    nameserver: Annotated[list[str] | None, typer.Option(help="HOST[:PORT], repeatable")] = None,
) -> None:
    """Name the sources seen in reports now (the worker also does this every few minutes)."""
    servers = [parse_nameserver(text) for text in nameserver or []]
    with runtime() as current:
        ensure_migrated(current)
        result = asyncio.run(
            identify_pending(
                current.session,
                resolver=make_resolver(servers or None),
                now=current.clock.now,
                offline=offline,
            )
        )
    console.print(
        f"{result.addresses:,} addresses looked at, {result.identified:,} identified, "
        f"{result.ptr_timeouts:,} PTR lookups unanswered"
    )


@dmarc_app.command("analyse")
def analyse_now() -> None:
    """Recompute the stored source analyses that are out of date now (the worker also does
    this every 5 minutes)."""
    with runtime() as current:
        ensure_migrated(current)
        result = refresh_stale_analyses(
            current.session, now=current.clock.now, budget_s=float("inf"), acting_user=CLI_ACTOR
        )
    reasons = ", ".join(f"{reason}: {count}" for reason, count in result.refreshed.items())
    console.print(
        f"{result.domains:,} domains checked, {sum(result.refreshed.values()):,} analyses "
        f"recomputed ({reasons or 'none stale'}), {result.failed:,} failed"
    )


@dmarc_app.command("export")
def export(
    domain: DomainOption,
    since: Since = None,
    until: Until = None,
    org: OrgOption = "",
    output_format: Annotated[Literal["csv", "json"], typer.Option("--format")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="default: stdout")] = None,
) -> None:
    """Write the domain's records for the period as CSV or JSON."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            rows = exports.export_records(
                session,
                org=resolve_org(session, org),
                domain=domain,
                acting_user=CLI_ACTOR,
                since=_day(since, "--since"),
                until=_day(until, "--until"),
            )
            chunks = exports.as_csv(rows) if output_format == "csv" else exports.as_json(rows)
            target = output.open("wb") if output else sys.stdout.buffer
            try:
                for chunk in chunks:
                    target.write(chunk)
            finally:
                if output:
                    target.close()


@own_source_app.command("add")
def own_source_add(
    network: Annotated[str, typer.Argument(help="IP address or CIDR, e.g. 203.0.113.0/26")],
    label: Annotated[str, typer.Option(help="What it is, e.g. 'mail server, Tokyo'")] = "",
    tag: Annotated[list[str] | None, typer.Option(help="A tag; repeatable")] = None,
    org: OrgOption = "",
) -> None:
    """Register an address range the organisation sends from."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session, session.begin():
            source = services.register_source(
                session,
                org=resolve_org(session, org),
                cidr=network,
                label=label,
                tags=tag or [],
                acting_user=CLI_ACTOR,
            )
            console.print(f"registered {source.network} (id {source.id})")


@own_source_app.command("list")
def own_source_list(as_json: JsonFlag = False, org: OrgOption = "") -> None:
    """The registered sources with their tags."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            found = services.list_sources(
                session, org=resolve_org(session, org), acting_user=CLI_ACTOR
            )
    rows = [{"id": s.id, "network": s.network, "label": s.label, "tags": s.tags} for s in found]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        console.print(f"{row['id']:>4}  {row['network']:<20} {row['label']}  {row['tags']}")


@own_source_app.command("remove")
def own_source_remove(source_id: int, org: OrgOption = "") -> None:
    """Remove a registered source by its id (see `list`)."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session, session.begin():
            services.remove_source(
                session, org=resolve_org(session, org), source_id=source_id, acting_user=CLI_ACTOR
            )
    console.print(f"removed source {source_id}")
