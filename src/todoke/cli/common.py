"""Helpers shared by the command groups: runtime, JSON output, error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.accounts.services import first_organisation, get_organisation
from todoke.core.errors import TodokeError
from todoke.db import migrate
from todoke.runtime import Runtime
from todoke.settings import Settings

console = Console()
errors = Console(stderr=True)

EXIT_INVALID = 2
EXIT_NOT_FOUND = 3
EXIT_DENIED = 4
EXIT_BROKEN = 5


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except (ValidationError, FileNotFoundError, ValueError) as exc:
        fail(f"configuration is invalid: {exc}", EXIT_INVALID)


@contextmanager
def runtime() -> Iterator[Runtime]:
    current = Runtime.from_settings(load_settings())
    try:
        yield current
    except TodokeError as exc:
        exit_code = {"not_found": EXIT_NOT_FOUND, "permission_denied": EXIT_DENIED}.get(
            exc.code, EXIT_INVALID
        )
        fail(exc.message, exit_code)
    finally:
        current.close()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def ensure_migrated(current: Runtime) -> None:
    if not migrate.is_up_to_date(current.engine):
        fail("the database is not initialised or not up to date: run `todoke init` first")


def resolve_org(session: Session, slug: str) -> Organisation:
    """The organisation named by `--org`, or the first one when the option is left out."""
    organisation = get_organisation(session, slug) if slug else first_organisation(session)
    if organisation is None:
        fail(f"no organisation {slug!r}" if slug else "no organisation yet: run `todoke init`")
    return organisation


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OrgOption = Annotated[str, typer.Option("--org", help="Organisation slug (default: the first).")]
NameserverOption = Annotated[
    list[str] | None,
    typer.Option("--nameserver", help="HOST, HOST:PORT or [IPv6]:PORT; repeatable."),
]
LangOption = Annotated[str, typer.Option("--lang", help="ja or en")]
