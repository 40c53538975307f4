"""`todoke auth ...`: authenticate a message's identities the way a receiver would."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from todoke.cli.common import EXIT_INVALID, console, fail, print_json
from todoke.core.dns import make_resolver, parse_nameserver
from todoke.domains.spf import check_mail_from, client_address

auth_app = typer.Typer(
    help="Check SPF (and later DKIM, DMARC) as a receiver would.", no_args_is_help=True
)


@auth_app.command("spf")
def spf(
    ip: Annotated[str, typer.Option("--ip", help="Address of the sending client.")],
    mail_from: Annotated[
        str, typer.Option("--mail-from", help="MAIL FROM address; empty for the null sender.")
    ],
    helo: Annotated[str, typer.Option("--helo", help="HELO/EHLO name the client gave.")],
    nameserver: Annotated[
        list[str] | None,
        typer.Option("--nameserver", help="HOST, HOST:PORT or [IPv6]:PORT; repeatable."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Evaluate SPF (RFC 7208) for a client address, MAIL FROM and HELO name."""
    try:
        address = client_address(ip)
    except ValueError:
        fail(f"--ip {ip!r} is not an IPv4 or IPv6 address", EXIT_INVALID)
    if not helo.strip():
        fail("--helo must not be empty", EXIT_INVALID)
    try:
        servers = [parse_nameserver(text) for text in nameserver] if nameserver else None
    except ValueError as error:
        fail(f"--nameserver: {error}", EXIT_INVALID)
    resolver = make_resolver(servers)
    outcome = asyncio.run(check_mail_from(address, mail_from, helo=helo.strip(), resolver=resolver))
    if as_json:
        print_json(
            {
                "result": outcome.result,
                "explanation": outcome.explanation,
                "domain": outcome.domain,
                "mechanism": outcome.mechanism,
                "mechanism_domain": outcome.mechanism_domain,
                "lookups": outcome.lookups,
                "void_lookups": outcome.void_lookups,
            }
        )
        return
    console.print(
        f"spf={outcome.result} domain={outcome.domain} ip={address}: {outcome.explanation}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
