"""`todoke config`, `todoke user`, `todoke audit`."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from todoke.accounts.services import add_user, first_organisation, get_organisation, list_users
from todoke.audit import verify_chains
from todoke.authz import CLI_ACTOR, ROLE_NAMES
from todoke.cli.common import (
    EXIT_BROKEN,
    console,
    ensure_migrated,
    fail,
    load_settings,
    print_json,
    runtime,
)

config_app = typer.Typer(help="Effective configuration.", no_args_is_help=True)
user_app = typer.Typer(help="Users of an organisation.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@config_app.command("show")
def config_show(as_json: JsonFlag = False) -> None:
    """Print every setting with its effective value; secrets are redacted."""
    shown = load_settings().redacted()
    if as_json:
        print_json(shown)
        return
    table = Table("setting", "value", "environment variable")
    for name, value in shown.items():
        table.add_row(name, str(value), f"TODOKE_{name.upper()}")
    console.print(table)


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The user's email address (their login).")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLE_NAMES)}.")] = "viewer",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    org: Annotated[str, typer.Option(help="Organisation slug (default: the first).")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    locale: Annotated[
        str | None, typer.Option(help="ja or en; default: follow the browser.")
    ] = None,
) -> None:
    """Add a user; the password is asked for (or read from stdin), never taken as an argument."""
    password = (
        typer.get_text_stream("stdin").readline().rstrip("\n")
        if password_stdin
        else getpass.getpass("Password (12+ characters): ")
    )
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session, session.begin():
            organisation = get_organisation(session, org) if org else first_organisation(session)
            if organisation is None:
                fail("no organisation yet: run `todoke init` first")
            user = add_user(
                session,
                org=organisation,
                email=email,
                display_name=name or email,
                password=password,
                role_name=role,
                locale=locale,
                acting_user=CLI_ACTOR,
            )
            console.print(f"added {user.email} as {role} in {organisation.slug}")


@user_app.command("list")
def user_list(
    org: Annotated[str, typer.Option(help="Organisation slug (default: the first).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """List the users of an organisation."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            organisation = get_organisation(session, org) if org else first_organisation(session)
            if organisation is None:
                fail("no organisation yet: run `todoke init` first")
            rows: list[dict[str, str | bool | None]] = [
                {
                    "email": u.email,
                    "name": u.display_name,
                    "role": u.role.name,
                    "active": u.is_active,
                    "locale": u.locale,
                    "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
                }
                for u in list_users(session, org=organisation, acting_user=CLI_ACTOR)
            ]
    if as_json:
        print_json(rows)
        return
    table = Table("email", "name", "role", "active", "last login (UTC)")
    for row in rows:
        table.add_row(
            str(row["email"]),
            str(row["name"]),
            str(row["role"]),
            "yes" if row["active"] else "no",
            str(row["last_login_at"] or "never"),
        )
    console.print(table)


@audit_app.command("verify")
def audit_verify(as_json: JsonFlag = False) -> None:
    """Recompute every hash chain; exit 5 at the first broken link, naming it."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            result = verify_chains(session)
    broken = result.broken
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "events_checked": result.events_checked,
                "chains": result.chains,
                "broken": broken.__dict__ if broken else None,
            }
        )
    elif broken is None:
        console.print(
            f"audit trail intact: {result.events_checked} events in "
            f"{len(result.chains)} chain(s) recomputed"
        )
    else:
        where = f"event id {broken.event_id}" if broken.event_id is not None else "chain head"
        fail(
            f"audit trail broken in chain {broken.chain} at seq {broken.seq} ({where}): "
            f"{broken.reason}",
            EXIT_BROKEN,
        )
    if broken is not None:
        raise typer.Exit(EXIT_BROKEN)
