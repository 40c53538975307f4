"""`todoke dmarc ...`: ingest report files and folders, list stored reports, analyse a domain."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from todoke.authz import CLI_ACTOR
from todoke.cli.common import (
    EXIT_INVALID,
    JsonFlag,
    OrgOption,
    console,
    ensure_migrated,
    errors,
    fail,
    print_json,
    resolve_org,
    runtime,
)
from todoke.dmarc import queries
from todoke.dmarc.intake import (
    BatchIngestor,
    IngestSummary,
    iter_input_files,
    limits_from,
    missing_paths,
)

dmarc_app = typer.Typer(help="DMARC aggregate, failure and SMTP TLS reports.", no_args_is_help=True)

#: Exit code when some files were refused but the rest were ingested.
EXIT_PARTIAL = 6


@dmarc_app.command("ingest")
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Report files and folders (searched deeply).")
    ],
    as_json: JsonFlag = False,
    org: OrgOption = "",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Processes parsing in parallel. Worth it on machines with spare cores; each "
            "worker costs about 100 MB.",
        ),
    ] = 1,
    max_decompressed_mb: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Refuse an input whose decompressed content exceeds this many MB "
            "(default: the report_max_decompressed_mb setting).",
        ),
    ] = None,
) -> None:
    """Import reports: .xml, .gz, .zip, .json and e-mail (.eml), in any mix.

    A file that cannot be read is listed with the reason; the rest are still imported. The exit
    code is 0 when every file was imported, 6 when some were refused.
    """
    missing = missing_paths(paths)
    if missing:
        fail(f"no such file or folder: {', '.join(map(str, missing))}", EXIT_INVALID)
    files = list(iter_input_files(paths))
    with runtime() as current:
        ensure_migrated(current)
        limits = limits_from(current.settings)
        if max_decompressed_mb is not None:
            limits = replace(limits, max_decompressed_bytes=max_decompressed_mb * 2**20)
        with current.session() as session:
            organisation_id = resolve_org(session, org).id
        progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[records]:,} records"),
            TimeElapsedColumn(),
            console=errors,
            transient=as_json,
        )
        with progress:
            task = progress.add_task("ingesting", total=len(files), records=0)

            def advance(summary: IngestSummary) -> None:
                progress.update(task, completed=summary.files, records=summary.records)

            ingestor = BatchIngestor(
                current.session,
                organisation_id=organisation_id,
                acting_user=CLI_ACTOR,
                channel="folder",
                limits=limits,
                on_file_done=advance,
            )
            ingestor.check_permission()
            summary = ingestor.add_paths(files, workers=workers if len(files) > 1 else 1)
            progress.update(task, completed=summary.files, records=summary.records)
    _print_summary(summary, as_json)
    if summary.errors:
        raise typer.Exit(EXIT_PARTIAL)


def _print_summary(summary: IngestSummary, as_json: bool) -> None:
    if as_json:
        print_json(summary.as_json())
        return
    reports = summary.reports
    console.print(
        f"{summary.files:,} files: {reports['aggregate']:,} aggregate, {reports['failure']:,} "
        f"failure and {reports['tls']:,} TLS reports stored; {summary.records:,} records, "
        f"{summary.messages:,} messages; {summary.duplicates:,} duplicates skipped."
    )
    for error in summary.errors:
        errors.print(f"[red]refused[/] {error.file}: {error.message}", highlight=False)


@dmarc_app.command("reports")
def list_reports(
    as_json: JsonFlag = False,
    org: OrgOption = "",
    domain: Annotated[str | None, typer.Option(help="Only reports about this domain.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
) -> None:
    """Stored aggregate reports, newest first."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            organisation = resolve_org(session, org)
            rows = queries.list_reports(
                session, org=organisation, domain=domain, limit=limit, acting_user=CLI_ACTOR
            )
    if as_json:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    if not rows:
        console.print("No reports yet. Import some with `todoke dmarc ingest PATH`.")
        return
    table = Table("reporter", "report id", "domain", "from", "to", "records", "messages")
    for row in rows:
        table.add_row(
            row.reporter,
            row.report_id,
            row.domain,
            row.begin.isoformat(timespec="minutes"),
            row.end.isoformat(timespec="minutes"),
            f"{row.records:,}",
            f"{row.messages:,}",
        )
    console.print(table)


@dmarc_app.command("receiver")
def receiver() -> None:
    """Run the built-in SMTP receiver for reports (point `rua=mailto:` at it)."""
    import threading

    from todoke.dmarc.intake import limits_from
    from todoke.dmarc.receiver import ReceiverConfig, make_controller
    from todoke.domains.test_inbox import TestMailbox

    with runtime() as current:
        ensure_migrated(current)
        settings = current.settings
        test_mailbox = TestMailbox(
            current.session,
            secret_key=settings.secret_key_bytes(),
            receiver_domain=settings.receiver_domain,
            resolver=current.resolver,
            tls_offered=False,
        )
        config = ReceiverConfig(
            domain=settings.receiver_domain,
            max_message_bytes=settings.receiver_max_message_mb * 2**20,
            limits=limits_from(settings),
            extra_mailboxes=(test_mailbox,),
        )
        controller = make_controller(
            current.session, config, host=settings.receiver_host, port=settings.receiver_port
        )
        controller.start()
        console.print(
            f"receiving reports for dmarc@{settings.receiver_domain} on "
            f"{settings.receiver_host}:{settings.receiver_port} (Ctrl-C to stop)"
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
