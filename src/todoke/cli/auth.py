"""`todoke auth ...`: authenticate a message's identities the way a receiver would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from todoke.cli.common import EXIT_INVALID, LangOption, NameserverOption, console, fail, print_json
from todoke.core.dns import make_resolver, parse_nameserver
from todoke.core.errors import InvalidInput
from todoke.domains.message_check import Envelope, check_message
from todoke.domains.message_schemas import verdict_out
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
    nameserver: NameserverOption = None,
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


@auth_app.command("message")
def message(
    path: Annotated[
        Path, typer.Argument(help="A saved message (.eml)", exists=True, dir_okay=False)
    ],
    ip: Annotated[
        str | None, typer.Option("--ip", help="Sending client; default: Received")
    ] = None,
    mail_from: Annotated[
        str | None, typer.Option("--mail-from", help="Default: Return-Path")
    ] = None,
    helo: Annotated[str | None, typer.Option("--helo", help="Default: from Received")] = None,
    nameserver: NameserverOption = None,
    lang: LangOption = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check a message's SPF, DKIM, ARC and DMARC as a receiver would, and name the pattern."""
    envelope = None
    if ip or mail_from is not None or helo:
        if not (ip and helo and mail_from is not None):
            fail("--ip, --helo and --mail-from go together", EXIT_INVALID)
        envelope = Envelope(client_ip=ip, helo=helo, mail_from=mail_from)
    try:
        servers = [parse_nameserver(text) for text in nameserver] if nameserver else None
    except ValueError as error:
        fail(f"--nameserver: {error}", EXIT_INVALID)
    try:
        verdict = asyncio.run(
            check_message(path.read_bytes(), resolver=make_resolver(servers), envelope=envelope)
        )
    except InvalidInput as error:
        fail(error.message, EXIT_INVALID)
    result = verdict_out(verdict, lang)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    lines = [
        f"From: {result.header_from}   envelope: {result.envelope_from} ({result.client_ip})",
        f"SPF  {result.spf}{' aligned' if result.spf_aligned else ''}: {result.spf_explanation}",
        *(
            f"DKIM {s.result}{' aligned' if s.aligned else ''} d={s.domain} s={s.selector} "
            f"{s.reason}"
            for s in result.dkim
        ),
        f"ARC  {result.arc} {result.arc_reason}".rstrip(),
        f"DMARC {result.dmarc} ({result.policy or 'no policy'})",
    ]
    if result.pattern:
        lines += [f"{result.pattern.title}", result.pattern.meaning, result.pattern.action]
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
