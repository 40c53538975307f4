"""`todoke domain add` and `todoke domain keys ...` end to end, DNS from the local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from todoke.cli.main import app as cli

SOA = "$ORIGIN shop.test.\n@ IN SOA ns1 hostmaster 1 3600 600 86400 120\n"


@pytest.fixture
def env(tmp_path: Path, db_url: str, dns_server: LocalDNSServer) -> dict[str, str]:
    dns_server.add_zone(SOA)
    return {
        "TODOKE_DATABASE_URL": db_url,
        "TODOKE_DATA_DIR": str(tmp_path / "data"),
        "TODOKE_CONFIG_FILE": "",
        "TODOKE_DNS_NAMESERVERS": json.dumps([str(dns_server.nameserver)]),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def test_key_is_generated_published_verified_and_activated(
    env: dict[str, str], dns_server: LocalDNSServer
) -> None:
    assert run(env, "init")[0] == 0
    assert run(env, "domain", "add", "shop.test") == (0, "registered shop.test\n")
    code, output = run(env, "domain", "keys", "generate", "shop.test", "--type", "ed25519")
    assert code == 0, output
    record = output.splitlines()[-1]
    selector = record.split(".", 1)[0]
    code, output = run(env, "domain", "keys", "activate", "shop.test", selector)
    assert code == 2
    assert "only a key verified in DNS can sign" in output
    dns_server.replace_zones(
        SOA
        + record.replace("shop.test. 3600", "", 1).replace(
            f"{selector}._domainkey.", f"{selector}._domainkey ", 1
        )
        + "\n"
    )
    assert run(env, "domain", "keys", "verify", "shop.test", selector)[0] == 0
    assert run(env, "domain", "keys", "activate", "shop.test", selector)[0] == 0
    code, output = run(env, "domain", "keys", "list", "shop.test", "--json")
    (key,) = json.loads(output)
    assert (key["selector"], key["type"], key["bits"], key["state"]) == (
        selector,
        "ed25519",
        256,
        "active",
    )


def test_keys_for_an_unregistered_domain_are_refused(env: dict[str, str]) -> None:
    run(env, "init")
    code, output = run(env, "domain", "keys", "generate", "elsewhere.test")
    assert code == 3
    assert "elsewhere.test is not registered" in output
