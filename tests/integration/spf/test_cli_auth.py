"""`todoke auth spf` end to end against the local DNS server."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from todoke.cli.auth import auth_app

ZONE = """
$ORIGIN example.test.
@     IN SOA ns1 hostmaster 1 3600 600 86400 120
@     IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
"""

app = typer.Typer()
app.add_typer(auth_app, name="auth")
runner = CliRunner()


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


def spf(zone: LocalDNSServer, ip: str, *extra: str) -> list[str]:
    return [
        "auth",
        "spf",
        "--ip",
        ip,
        "--mail-from",
        "news@example.test",
        "--helo",
        "mail.example.test",
        "--nameserver",
        str(zone.nameserver),
        *extra,
    ]


@pytest.mark.parametrize(("ip", "expected"), [("192.0.2.8", "pass"), ("203.0.113.8", "fail")])
def test_json_output_carries_result_and_explanation(
    zone: LocalDNSServer, ip: str, expected: str
) -> None:
    outcome = runner.invoke(app, spf(zone, ip, "--json"))
    assert outcome.exit_code == 0, outcome.output
    printed = json.loads(outcome.stdout)
    assert printed["result"] == expected
    assert "example.test" in printed["explanation"]
    assert printed["mechanism"] in ("ip4:192.0.2.0/24", "-all")


def test_human_output_is_one_line(zone: LocalDNSServer) -> None:
    outcome = runner.invoke(app, spf(zone, "203.0.113.8"))
    assert outcome.exit_code == 0
    assert outcome.stdout.startswith("spf=fail domain=example.test ip=203.0.113.8:")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--ip", "not-an-ip"], "not an IPv4 or IPv6 address"),
        (["--nameserver", "ns.example.test"], "--nameserver"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    zone: LocalDNSServer, arguments: list[str], message: str
) -> None:
    command = spf(zone, "192.0.2.8")
    for option, value in zip(arguments[::2], arguments[1::2], strict=True):
        command[command.index(option) + 1] = value
    outcome = runner.invoke(app, command)
    assert outcome.exit_code == 2
    assert message in outcome.output
