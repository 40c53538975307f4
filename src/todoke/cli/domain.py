"""`todoke domain ...`: check a domain's published records (and, later, fix and keep them)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from todoke.cli.common import (
    EXIT_INVALID,
    LangOption,
    NameserverOption,
    console,
    fail,
    load_settings,
    print_json,
)
from todoke.core.dns import Nameserver, make_resolver, parse_nameserver
from todoke.core.errors import InvalidInput
from todoke.domains.checks import check_domain
from todoke.domains.checks.options import options_from
from todoke.domains.checks.schemas import check_out
from todoke.domains.record_schemas import plan_out
from todoke.domains.records import plan_records, profile_from
from todoke.domains.services import normalise_domain
from todoke.domains.spf.lookup import DnsCache, DnsLookupError

domain_app = typer.Typer(help="Check SPF, DKIM, DMARC, BIMI, MTA-STS and MX.", no_args_is_help=True)

#: the domain's nameservers did not answer (SERVFAIL, timeout)
EXIT_DNS = 7
_STATUS_STYLE = {"pass": "green", "info": "cyan", "warn": "yellow", "fail": "bold red"}


def nameservers_from(texts: list[str] | None) -> list[Nameserver] | None:
    """`--nameserver` values, else the settings' nameservers, else None (the system's)."""
    chosen = texts or load_settings().dns_nameservers
    try:
        return [parse_nameserver(text) for text in chosen] if chosen else None
    except ValueError as error:
        fail(f"--nameserver: {error}", EXIT_INVALID)


def domain_name(text: str) -> str:
    """The domain as typed, normalised, or an exit naming what is wrong with it."""
    try:
        return normalise_domain(text)
    except InvalidInput as error:
        fail(error.message, EXIT_INVALID)


@domain_app.command("check")
def check(
    domain: Annotated[str, typer.Argument(help="The domain, e.g. example.jp")],
    selector: Annotated[
        list[str] | None,
        typer.Option("--selector", help="DKIM selector to check; repeatable."),
    ] = None,
    nameserver: NameserverOption = None,
    lang: LangOption = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check SPF, DKIM, DMARC, BIMI, MTA-STS, TLS-RPT and MX for DOMAIN, with advice."""
    name = domain_name(domain)
    resolver = make_resolver(nameservers_from(nameserver))
    options = options_from(load_settings(), selectors=tuple(selector or ()))
    result = check_out(asyncio.run(check_domain(name, resolver=resolver, options=options)), lang)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    table = Table(title=f"{result.domain}: {result.status.value}", show_lines=True)
    table.add_column("status")
    table.add_column("id")
    table.add_column("finding")
    for item in result.findings:
        style = _STATUS_STYLE[item.status.value]
        table.add_row(f"[{style}]{item.status.value}[/]", item.id, f"{item.message}\n{item.advice}")
    console.print(table)
    console.print(
        f"{len(result.findings)} findings, {result.dns_queries} DNS queries, "
        f"{result.seconds:.2f} s",
        highlight=False,
    )


@domain_app.command("records")
def records(
    domain: Annotated[str, typer.Argument(help="The domain, e.g. example.jp")],
    never_sends: Annotated[
        bool,
        typer.Option("--never-sends", help="Records for a domain that never sends mail."),
    ] = False,
    bimi_logo: Annotated[
        str | None, typer.Option("--bimi-logo", help="HTTPS URL of the SVG Tiny PS logo.")
    ] = None,
    bimi_certificate: Annotated[
        str | None, typer.Option("--bimi-certificate", help="HTTPS URL of the VMC/CMC (PEM).")
    ] = None,
    nameserver: NameserverOption = None,
    lang: LangOption = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The DNS records DOMAIN should publish, merged with what it publishes now."""
    name = domain_name(domain)
    settings = load_settings()
    resolver = make_resolver(nameservers_from(nameserver))
    profile = profile_from(settings, bimi_logo=bimi_logo, bimi_certificate=bimi_certificate)
    try:
        plan = asyncio.run(
            plan_records(
                name,
                dns=DnsCache(resolver),
                sends_mail=not never_sends,
                profile=profile,
                locale=lang,
                now=datetime.now(UTC),
            )
        )
    except DnsLookupError as error:
        fail(f"{error}; the records could not be compared with what is published", EXIT_DNS)
    result = plan_out(plan)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    for record in result.records:
        if record.action == "later":
            console.print(f"# later ({record.purpose}): {record.note}", highlight=False)
            continue
        console.print(
            f"# {record.action} ({record.purpose}): {record.note}".rstrip(": "),
            highlight=False,
            markup=False,
        )
        console.print(record.zone_line, highlight=False, markup=False, soft_wrap=True)
    for url, content in result.files:
        console.print(f"# serve at {url}:", highlight=False, markup=False)
        console.print(content, highlight=False, markup=False)
