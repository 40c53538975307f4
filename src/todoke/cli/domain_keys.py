"""`todoke domain add|list|remove` and `todoke domain keys ...`: the inventory and DKIM keys."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

import typer
from rich.table import Table

from todoke.authz import CLI_ACTOR
from todoke.cli.common import (
    JsonFlag,
    LangOption,
    OrgOption,
    console,
    ensure_migrated,
    print_json,
    resolve_org,
    runtime,
)
from todoke.cli.domain import domain_app
from todoke.domains import dkim_keys, inventory, overview, services
from todoke.domains.schemas import checklist_item_out, key_out, run_out

keys_app = typer.Typer(
    help="DKIM keys: generate, verify in DNS, activate, rotate, revoke.", no_args_is_help=True
)
domain_app.add_typer(keys_app, name="keys")


@domain_app.command("add")
def add(
    domain: Annotated[str, typer.Argument(help="The domain, e.g. example.jp")],
    never_sends: Annotated[
        bool, typer.Option("--never-sends", help="It never sends mail.")
    ] = False,
    org: OrgOption = "",
) -> None:
    """Register a domain the organisation owns, sending or not."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session, session.begin():
            registered = services.register_domain(
                session,
                org=resolve_org(session, org),
                name=domain,
                sends_mail=not never_sends,
                acting_user=CLI_ACTOR,
            )
            console.print(f"registered {registered.name}", highlight=False)


@domain_app.command("list")
def list_registered(org: OrgOption = "", as_json: JsonFlag = False) -> None:
    """The organisation's registered domains."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            rows = [
                {"domain": item.name, "sends_mail": item.sends_mail}
                for item in services.list_domains(
                    session, org=resolve_org(session, org), acting_user=CLI_ACTOR
                )
            ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        console.print(f"{row['domain']}\t{'sends' if row['sends_mail'] else 'never sends'}")


@keys_app.command("generate")
def generate(
    domain: Annotated[str, typer.Argument(help="A registered domain")],
    key_type: Annotated[
        Literal["rsa", "ed25519"], typer.Option("--type", help="rsa (2048 bits) or ed25519")
    ] = "rsa",
    selector: Annotated[str | None, typer.Option(help="Default: td<yyyymm><r|e>")] = None,
    org: OrgOption = "",
) -> None:
    """Generate a key; publish the TXT record it prints, then `keys verify`."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session, session.begin():
            key = dkim_keys.generate_key(
                session,
                org=resolve_org(session, org),
                domain=domain,
                key_type=key_type,
                secret_key=current.settings.secret_key_bytes(),
                now=current.clock.now(),
                acting_user=CLI_ACTOR,
                selector=selector,
            )
            console.print(f"# publish, then run: todoke domain keys verify {domain} {key.selector}")
            console.print(
                f'{key.selector}._domainkey.{domain}. 3600 IN TXT "{dkim_keys.txt_value(key)}"',
                highlight=False,
                markup=False,
                soft_wrap=True,
            )


@keys_app.command("list")
def list_keys(
    domain: Annotated[str, typer.Argument(help="A registered domain")],
    org: OrgOption = "",
    as_json: JsonFlag = False,
) -> None:
    """The domain's keys and their state."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            keys = dkim_keys.list_keys(
                session, org=resolve_org(session, org), domain=domain, acting_user=CLI_ACTOR
            )
            rows = [key_out(key) for key in keys]
    if as_json:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    table = Table("selector", "type", "state", "created")
    for row in rows:
        table.add_row(
            row.selector, f"{row.type} {row.bits}", row.state, f"{row.created_at:%Y-%m-%d}"
        )
    console.print(table)


@keys_app.command("verify")
def verify(
    domain: Annotated[str, typer.Argument(help="A registered domain")],
    selector: Annotated[str, typer.Argument(help="The key's selector")],
    org: OrgOption = "",
) -> None:
    """Check that DNS publishes the key; only a verified key can be activated."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            organisation = resolve_org(session, org)
        key = asyncio.run(
            dkim_keys.verify_in_dns(
                current.session,
                org=organisation,
                domain=domain,
                selector=selector,
                resolver=current.resolver(),
                now=current.clock.now(),
                acting_user=CLI_ACTOR,
            )
        )
        console.print(f"{key.selector}: published in DNS ({key.state})")


@keys_app.command("activate")
def activate(
    domain: Annotated[str, typer.Argument(help="A registered domain")],
    selector: Annotated[str, typer.Argument(help="The key's selector")],
    org: OrgOption = "",
) -> None:
    """Sign with this key; the key that signed until now is retired (still published)."""
    _transition(dkim_keys.activate_key, domain, selector, org)


@keys_app.command("revoke")
def revoke(
    domain: Annotated[str, typer.Argument(help="A registered domain")],
    selector: Annotated[str, typer.Argument(help="The key's selector")],
    org: OrgOption = "",
) -> None:
    """Revoke a retired key: publish `p=` for it; its private key is destroyed."""
    _transition(dkim_keys.revoke_key, domain, selector, org)


def _transition(action: dkim_keys.KeyTransition, domain: str, selector: str, org: str) -> None:
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session, session.begin():
            key = action(
                session,
                org=resolve_org(session, org),
                domain=domain,
                selector=selector,
                now=current.clock.now(),
                acting_user=CLI_ACTOR,
            )
            console.print(
                f"{key.selector}: {key.state}; TXT: {dkim_keys.txt_value(key)}",
                highlight=False,
                markup=False,
            )


@domain_app.command("history")
def history(
    domain: Annotated[str, typer.Argument(help="A registered domain")],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 30,
    org: OrgOption = "",
    as_json: JsonFlag = False,
) -> None:
    """The domain's scheduled check runs, newest first, with what got worse."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session:
            runs = inventory.check_history(
                session,
                org=resolve_org(session, org),
                domain=domain,
                acting_user=CLI_ACTOR,
                limit=limit,
            )
            rows = [run_out(run, "en") for run in runs]
    if as_json:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    if not rows:
        console.print(f"{domain} has not been checked yet; the worker checks it within a day.")
    for row in rows:
        worse = f" worse: {', '.join(row.worse)}" if row.worse else ""
        console.print(f"{row.checked_at:%Y-%m-%d %H:%M} {row.status.value}{worse}", highlight=False)


@domain_app.command("checklist")
def checklist(
    domain: Annotated[str, typer.Argument(help="A registered domain")],
    lang: LangOption = "en",
    org: OrgOption = "",
    as_json: JsonFlag = False,
) -> None:
    """Gmail's, Yahoo's and Outlook's bulk-sender rules, judged on the latest check and reports."""
    with runtime() as current:
        ensure_migrated(current)
        with current.session() as session, session.begin():
            detail = overview.domain_detail(
                session, org=resolve_org(session, org), domain=domain, acting_user=CLI_ACTOR
            )
            items = [
                checklist_item_out(item) for item in overview.checklist_for(detail, locale=lang)
            ]
    if as_json:
        print_json([item.model_dump(mode="json") for item in items])
        return
    for item in items:
        console.print(
            f"{item.status:8} {item.title}: {item.evidence}", highlight=False, markup=False
        )
