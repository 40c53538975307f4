"""The test-mail check: messages signed with dkimpy, DNS from the local server."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import dkim
import pytest
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.cli.auth import auth_app
from todoke.core.errors import InvalidInput
from todoke.domains.message_check import Envelope, MessageVerdict, check_message

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


def zones() -> str:
    key = f'"v=DKIM1; k=rsa; p={PUBLIC[:200]}" "{PUBLIC[200:]}"'
    # The DMARC tree walk (RFC 9989) asks _dmarc.test too: serve "test." so it is NXDOMAIN.
    return f"""
$ORIGIN test.
@ IN SOA ns1 hostmaster 1 3600 600 86400 120

$ORIGIN kyokai.test.
@ IN SOA ns1 hostmaster 1 3600 600 86400 120
@ IN TXT "v=spf1 ip4:203.0.113.10 -all"
_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@kyokai.test"
sel1._domainkey IN TXT {key}

$ORIGIN esp.test.
@ IN SOA ns1 hostmaster 1 3600 600 86400 120
bounce IN TXT "v=spf1 ip4:198.51.100.0/24 -all"
esp1._domainkey IN TXT {key}
"""


@pytest.fixture
def served(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(zones())
    return dns_server


def message(*headers: str, body: str = "お知らせです。\r\n") -> bytes:
    lines = [
        *headers,
        "Subject: test",
        "Message-ID: <1@kyokai.test>",
        "Date: Mon, 23 Nov 2026 10:00:00 +0900",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def signed(data: bytes, domain: str, selector: str) -> bytes:
    signature = dkim.sign(
        data,
        selector.encode(),
        domain.encode(),
        PRIVATE_PEM,
        include_headers=[b"from", b"subject", b"date", b"message-id"],
    )
    return bytes(signature) + data


def check(
    resolver_factory: ResolverFactory, data: bytes, ip: str, mail_from: str
) -> MessageVerdict:
    envelope = Envelope(client_ip=ip, helo="mail.example.net", mail_from=mail_from)
    return asyncio.run(check_message(data, resolver=resolver_factory(), envelope=envelope))


def test_aligned_mail_passes_dmarc(
    served: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    data = signed(message("From: 事務局 <office@kyokai.test>"), "kyokai.test", "sel1")
    verdict = check(resolver_factory, data, "203.0.113.10", "bounce@kyokai.test")
    assert (verdict.spf.result, verdict.spf_aligned) == ("pass", True)
    assert [(s.domain, s.result, s.aligned) for s in verdict.dkim] == [
        ("kyokai.test", "pass", True)
    ]
    assert (verdict.dmarc, verdict.pattern, verdict.arc) == ("pass", None, "none")
    assert verdict.policy is not None
    assert verdict.policy.p == "reject"


def test_third_party_sender_is_authenticated_but_not_aligned(
    served: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    data = signed(message("From: office@kyokai.test"), "esp.test", "esp1")
    verdict = check(resolver_factory, data, "198.51.100.7", "x@bounce.esp.test")
    assert verdict.spf.result == "pass"
    assert not verdict.spf_aligned
    assert [(s.result, s.aligned) for s in verdict.dkim] == [("pass", False)]
    assert (verdict.dmarc, verdict.pattern) == ("fail", "both_unaligned")


def test_body_changed_after_signing_breaks_dkim(
    served: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    data = signed(message("From: office@kyokai.test"), "kyokai.test", "sel1")
    tampered = data.replace("お知らせ".encode(), "ご案内".encode())
    verdict = check(resolver_factory, tampered, "192.0.2.66", "office@kyokai.test")
    assert verdict.spf.result == "fail"
    assert [s.result for s in verdict.dkim] == ["fail"]
    assert (verdict.dmarc, verdict.pattern) == ("fail", "dkim_broken")


def test_saved_message_names_its_sender_in_the_received_header(
    served: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    data = signed(message("From: office@kyokai.test"), "kyokai.test", "sel1")
    saved = (
        b"Return-Path: <bounce@kyokai.test>\r\n"
        b"Received: from out.kyokai.test (out.kyokai.test [203.0.113.10])\r\n"
        b"\tby mx.example.net with ESMTPS; Mon, 23 Nov 2026 10:00:01 +0900\r\n" + data
    )
    verdict = asyncio.run(check_message(saved, resolver=resolver_factory()))
    assert verdict.envelope == Envelope("203.0.113.10", "out.kyokai.test", "bounce@kyokai.test")
    assert verdict.dmarc == "pass"


def test_one_click_unsubscribe_needs_both_headers(
    served: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    both = message(
        "From: news@kyokai.test",
        "List-Unsubscribe: <https://kyokai.test/u/1>, <mailto:u@kyokai.test>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    )
    only_link = message("From: news@kyokai.test", "List-Unsubscribe: <https://kyokai.test/u/1>")
    ip, sender = "203.0.113.10", "bounce@kyokai.test"
    assert check(resolver_factory, both, ip, sender).one_click_unsubscribe
    assert not check(resolver_factory, only_link, ip, sender).one_click_unsubscribe


def test_two_from_headers_are_refused_by_name(resolver_factory: ResolverFactory) -> None:
    data = message("From: a@kyokai.test", "From: b@evil.test")
    with pytest.raises(InvalidInput, match="exactly one From header"):
        check(resolver_factory, data, "203.0.113.10", "a@kyokai.test")


def test_cli_explains_the_pattern_in_japanese(served: LocalDNSServer, tmp_path: Path) -> None:
    path = tmp_path / "mail.eml"
    path.write_bytes(signed(message("From: office@kyokai.test"), "esp.test", "esp1"))
    app = typer.Typer()
    app.add_typer(auth_app, name="auth")
    result = CliRunner().invoke(
        app,
        [
            "auth",
            "message",
            str(path),
            "--ip",
            "198.51.100.7",
            "--helo",
            "out.esp.test",
            "--mail-from",
            "x@bounce.esp.test",
            "--nameserver",
            str(served.nameserver),
            "--json",
            "--lang",
            "ja",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["dmarc"], body["pattern"]["id"]) == ("fail", "both_unaligned")
    assert body["envelope_from"] == "bounce.esp.test"
    assert any("\u3042" <= char <= "\u30ff" for char in body["pattern"]["action"])
