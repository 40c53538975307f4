"""`todoke`: init, serve, worker, demo, and one command group per area."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from todoke import __version__
from todoke.bootstrap import initialise
from todoke.cli import (
    dmarc_analysis,  # noqa: F401 - its commands join the dmarc group
    domain_keys,  # noqa: F401 - its commands join the domain group
)
from todoke.cli.admin import audit_app, config_app, user_app
from todoke.cli.auth import auth_app
from todoke.cli.common import console, print_json, runtime
from todoke.cli.dmarc import dmarc_app
from todoke.cli.domain import domain_app
from todoke.runtime import Runtime

app = typer.Typer(
    help="Todoke: security-first email delivery with DMARC intelligence.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_app, name="config")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(dmarc_app, name="dmarc")
app.add_typer(auth_app, name="auth")
app.add_typer(domain_app, name="domain")


def _print_version(value: bool) -> None:
    if value:
        console.print(__version__)
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Todoke: security-first email delivery with DMARC intelligence."""


@app.command()
def init(
    org_name: Annotated[str, typer.Option(help="Name of the first organisation.")] = (
        "My organisation"
    ),
    org_slug: Annotated[str, typer.Option(help="Short id of the first organisation.")] = "default",
    owner_email: Annotated[str, typer.Option(help="Login of the first owner.")] = (
        "owner@example.com"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create or migrate the database; create the first organisation and owner. Idempotent."""
    with runtime() as current:
        result = initialise(current, org_name=org_name, org_slug=org_slug, owner_email=owner_email)
    if as_json:
        print_json(result.__dict__)
        return
    console.print(
        f"database at revision {result.migrated_to} (was {result.migrated_from or 'empty'})"
    )
    if result.owner_email:
        console.print(
            f"created owner [bold]{result.owner_email}[/] with password "
            f"[bold]{result.owner_password}[/] (change it after the first login)"
        )
    else:
        console.print("organisation and users already exist; nothing else changed")


def _serve(current: Runtime, host: str | None, port: int | None) -> None:
    import uvicorn

    from todoke.web.app import create_app

    settings = current.settings
    uvicorn.run(
        create_app(current),
        host=host or settings.web_host,
        port=port or settings.web_port,
        proxy_headers=False,
        log_level=settings.log_level.lower(),
        server_header=False,
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (TODOKE_WEB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TODOKE_WEB_PORT).")] = None,
) -> None:
    """Serve the web UI and the API."""
    with runtime() as current:
        _serve(current, host, port)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Run due jobs once and exit.")] = False,
) -> None:
    """Run periodic jobs (and, as their issues land, delivery and ingest jobs)."""
    from todoke.worker.jobs import builtin_jobs
    from todoke.worker.scheduler import Scheduler

    with runtime() as current:
        logging.basicConfig(
            level=current.settings.log_level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        scheduler = Scheduler(current, builtin_jobs())
        if once:
            ran = scheduler.run_due()
            console.print(f"ran: {', '.join(ran) or 'nothing due'}")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        scheduler.loop(stop, current.settings.worker_tick_seconds)


@app.command()
def demo(
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve afterwards.")] = (
        True
    ),
) -> None:
    """Initialise, load demo data, print the login, and serve the web UI."""
    from todoke.demo import load_demo

    with runtime() as current:
        credentials = load_demo(current)
        settings = current.settings
        console.rule("Todoke demo")
        console.print(f"Open  http://{settings.web_host}:{settings.web_port}/")
        console.print(
            f"Login [bold]{credentials.email}[/]  password [bold]{credentials.password}[/]"
        )
        console.print(f"Other demo users (same password): {', '.join(credentials.others)}")
        console.rule()
        if serve_after:
            _serve(current, None, None)
