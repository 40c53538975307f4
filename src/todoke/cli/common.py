"""Helpers shared by the command groups: runtime, JSON output, error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from todoke.core.errors import TodokeError
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
