"""The DKIM section against keys served by the local DNS server, and through the CLI."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from pathlib import Path

import pytest
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.cli import common as cli_common
from todoke.cli.domain import domain_app
from todoke.domains.checks import CheckOptions, Finding, Status, check_domain
from todoke.domains.checks.context import COMMON_SELECTORS
from todoke.domains.checks.dkim import FINDINGS

VECTORS = Path("/work/shared/testdata/dkim")
KEY_2048 = (VECTORS / "2048_testkey_wo_markers.pub.txt").read_text().strip()
KEY_ED25519 = (VECTORS / "ed25519test.dns").read_text().strip()
SOA = "@ IN SOA ns1 hostmaster 1 3600 600 86400 120"


def _probable_prime(bits: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        fermat = all(pow(base, candidate - 1, candidate) == 1 for base in (2, 3, 5, 7, 11, 13))
        if fermat and _miller_rabin(candidate):
            return candidate


def _miller_rabin(n: int, rounds: int = 32) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def rsa_private_key(bits: int) -> rsa.RSAPrivateKey:
    """A real RSA key pair; cryptography generates 1024 bits and up, weaker ones are built."""
    if bits >= 1024:
        return rsa.generate_private_key(65537, bits)
    e = 65537
    while True:
        p, q = _probable_prime(bits // 2), _probable_prime(bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            break
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key()


def p_value(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def weak_keys() -> dict[int, str]:
    return {bits: p_value(rsa_private_key(bits)) for bits in (512, 1024)}


@pytest.fixture
def zone(dns_server: LocalDNSServer, weak_keys: dict[int, str]) -> LocalDNSServer:
    dns_server.add_zone(
        f"""
        $ORIGIN dkim.test.
        {SOA}
        rsa2048._domainkey  TXT "{KEY_2048}"
        rsa1024._domainkey  TXT "v=DKIM1; k=rsa; p={weak_keys[1024]}"
        rsa512._domainkey   TXT "v=DKIM1; k=rsa; p={weak_keys[512]}"
        ed._domainkey       TXT "{KEY_ED25519}"
        revoked._domainkey  TXT "v=DKIM1; k=rsa; p="
        testing._domainkey  TXT "v=DKIM1; t=y; p={weak_keys[1024]}"
        strict._domainkey   TXT "v=DKIM1; t=s; p={KEY_2048.split("p=")[1]}"
        garbage._domainkey  TXT "v=DKIM1; k=rsa; p=Z2FyYmFnZQ=="
        notb64._domainkey   TXT "v=DKIM1; k=rsa; p=%%%garbage%%%"
        sha1._domainkey     TXT "v=DKIM1; h=sha1; p={weak_keys[1024]}"
        double._domainkey   TXT "{KEY_2048}"
        double._domainkey   TXT "v=DKIM1; p={weak_keys[1024]}"
        esp._domainkey      CNAME s1.keys.esp
        s1.keys.esp         TXT "{KEY_2048}"
        """
    )
    return dns_server


def run(
    resolver_factory: ResolverFactory,
    domain: str,
    *selectors: str,
    common: bool = False,
) -> list[Finding]:
    options = CheckOptions(selectors=selectors, try_common_selectors=common)
    result = asyncio.run(
        check_domain(domain, resolver=resolver_factory(), options=options, sections=("dkim",))
    )
    return list(result.findings)


def outcome(findings: list[Finding]) -> list[tuple[str, Status]]:
    return sorted((item.id, item.status) for item in findings)


PASS = ("dkim.key_found", Status.PASS)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("rsa2048", [PASS]),
        ("rsa1024", [PASS, ("dkim.rsa_1024", Status.WARN)]),
        ("rsa512", [PASS, ("dkim.rsa_weak", Status.FAIL)]),
        ("ed", [("dkim.ed25519_only", Status.INFO), PASS]),
        ("revoked", [("dkim.revoked", Status.WARN)]),
        ("testing", [PASS, ("dkim.rsa_1024", Status.WARN), ("dkim.testing", Status.WARN)]),
        ("strict", [PASS, ("dkim.strict", Status.INFO)]),
        ("garbage", [("dkim.syntax", Status.FAIL)]),
        ("notb64", [("dkim.syntax", Status.FAIL)]),
        ("sha1", [PASS, ("dkim.rsa_1024", Status.WARN), ("dkim.sha1_only", Status.FAIL)]),
        ("esp", [PASS]),
        ("absent", [("dkim.selector_missing", Status.FAIL)]),
    ],
)
def test_each_published_key_gets_its_findings(
    zone: LocalDNSServer,
    resolver_factory: ResolverFactory,
    selector: str,
    expected: list[tuple[str, Status]],
) -> None:
    assert outcome(run(resolver_factory, "dkim.test", selector)) == sorted(expected)


def test_key_found_names_the_key_and_shows_the_record(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    findings = {item.id: item for item in run(resolver_factory, "dkim.test", " RSA512 ")}
    key_found = findings["dkim.key_found"]
    assert dict(key_found.values) == {
        "selector": "rsa512",
        "name": "rsa512._domainkey.dkim.test",
        "key_type": "RSA",
        "bits": 512,
    }
    assert key_found.evidence[0].startswith("rsa512._domainkey.dkim.test TXT v=DKIM1; k=rsa;")
    assert findings["dkim.rsa_weak"].values["bits"] == 512


def test_long_key_split_into_strings_is_read_whole(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    (found,) = run(resolver_factory, "dkim.test", "rsa2048")
    assert found.values["bits"] == 2048
    assert found.evidence == (f"rsa2048._domainkey.dkim.test TXT {KEY_2048}",)


def test_garbage_key_names_what_is_wrong(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    (garbage,) = run(resolver_factory, "dkim.test", "garbage")
    (not_base64,) = run(resolver_factory, "dkim.test", "notb64")
    assert "DER-encoded public key" in str(garbage.values["reason"])
    assert "not base64" in str(not_base64.values["reason"])


def test_two_records_at_one_selector_are_reported_with_each_key(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    findings = run(resolver_factory, "dkim.test", "double")
    assert outcome(findings) == [
        PASS,
        PASS,
        ("dkim.multiple_records", Status.WARN),
        ("dkim.rsa_1024", Status.WARN),
    ]
    double = next(item for item in findings if item.id == "dkim.multiple_records")
    assert double.values["count"] == 2


def test_ed25519_beside_rsa_needs_no_dual_signing_advice(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    ids = [item.id for item in run(resolver_factory, "dkim.test", "ed", "rsa2048")]
    assert ids.count("dkim.key_found") == 2
    assert "dkim.ed25519_only" not in ids


def test_common_selector_is_found_without_being_named(
    dns_server: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    dns_server.add_zone(f'$ORIGIN common.test.\n{SOA}\ngoogle._domainkey TXT "{KEY_2048}"')
    findings = run(resolver_factory, "common.test", common=True)
    assert [(item.id, item.values.get("selector")) for item in findings] == [
        ("dkim.key_found", "google")
    ]


def test_no_key_at_any_common_selector_warns_and_asks_for_the_selector(
    dns_server: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    dns_server.add_zone(f"$ORIGIN bare.test.\n{SOA}")
    (finding,) = run(resolver_factory, "bare.test", common=True)
    assert (finding.id, finding.status) == ("dkim.no_key", Status.WARN)
    assert finding.values["count"] == len(COMMON_SELECTORS)
    assert "default._domainkey.bare.test" in finding.evidence


def test_named_selector_missing_fails_without_a_second_no_key_warning(
    dns_server: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    dns_server.add_zone(f"$ORIGIN bare.test.\n{SOA}")
    assert outcome(run(resolver_factory, "bare.test", "s2024", common=True)) == [
        ("dkim.selector_missing", Status.FAIL)
    ]


def test_revoked_key_after_a_rotation_is_information(
    dns_server: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    dns_server.add_zone(
        f'$ORIGIN rotated.test.\n{SOA}\nselector2._domainkey TXT "{KEY_2048}"\n'
        'selector1._domainkey TXT "v=DKIM1; p="'
    )
    assert outcome(run(resolver_factory, "rotated.test", common=True)) == [
        PASS,
        ("dkim.revoked", Status.INFO),
    ]


def test_revoked_key_with_no_other_key_warns(
    dns_server: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    dns_server.add_zone(f'$ORIGIN retired.test.\n{SOA}\ns1._domainkey TXT "v=DKIM1; p="')
    assert outcome(run(resolver_factory, "retired.test", common=True)) == [
        ("dkim.revoked", Status.WARN)
    ]


def test_wildcard_txt_is_not_mistaken_for_a_key_at_common_selectors(
    dns_server: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    dns_server.add_zone(f'$ORIGIN wild.test.\n{SOA}\n* TXT "v=spf1 -all"')
    assert outcome(run(resolver_factory, "wild.test", common=True)) == [
        ("dkim.no_key", Status.WARN)
    ]
    (named,) = run(resolver_factory, "wild.test", "s1")
    assert (named.id, named.status) == ("dkim.syntax", Status.FAIL)
    assert "v=DKIM1" in str(named.values["reason"])


def test_one_failing_selector_lookup_leaves_the_others_checked(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("ed._domainkey.dkim.test", "servfail")
    findings = run(resolver_factory, "dkim.test", "ed", "rsa2048")
    assert outcome(findings) == [("dkim.dns_error", Status.WARN), PASS]
    error = next(item for item in findings if item.id == "dkim.dns_error")
    assert (error.values["name"], error.values["rdtype"]) == ("ed._domainkey.dkim.test", "TXT")


def test_selector_that_is_not_a_dns_name_is_reported_and_not_asked(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    (finding,) = run(resolver_factory, "dkim.test", "bad selector")
    assert (finding.id, finding.status) == ("dkim.selector_invalid", Status.WARN)
    assert not any("bad" in name for name, _ in zone.queries)


def test_selectors_are_asked_concurrently(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.latency = 0.3
    result = asyncio.run(
        check_domain(
            "dkim.test",
            resolver=resolver_factory(),
            options=CheckOptions(try_common_selectors=True),
            sections=("dkim",),
        )
    )
    # Twenty selectors one after another would take six seconds.
    assert result.seconds < 3.0
    assert result.dns_queries == len(COMMON_SELECTORS)


def test_every_finding_fills_exactly_the_values_its_words_name(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("esp._domainkey.dkim.test", "servfail")
    seen = run(
        resolver_factory,
        "dkim.test",
        *("rsa2048", "rsa1024", "rsa512", "ed", "revoked", "testing", "strict"),
        *("garbage", "sha1", "double", "esp", "absent", "bad selector"),
        common=True,
    )
    seen += run(resolver_factory, "dkim.test", "ed")
    assert {item.name for item in seen} >= set(FINDINGS) - {
        "no_key",
        "rsa_short",
        "rsa_oversize",
        "rsa_pkcs1",
    }
    for item in seen:
        assert set(item.values) == FINDINGS[item.name], item.id


def test_cli_reports_a_weak_key_in_japanese(
    zone: LocalDNSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TODOKE_CONFIG_FILE", "")
    monkeypatch.setenv("TODOKE_CHECK_IP_BLOCKLISTS", "[]")
    monkeypatch.setenv("TODOKE_CHECK_DOMAIN_BLOCKLISTS", "[]")
    app = typer.Typer()
    app.add_typer(domain_app, name="domain")
    result = CliRunner().invoke(
        app,
        [
            "domain",
            "check",
            "dkim.test",
            "--selector",
            "rsa512",
            "--nameserver",
            str(zone.nameserver),
            "--json",
            "--lang",
            "ja",
        ],
    )
    assert result.exit_code == 0, result.output
    findings = [item for item in json.loads(result.stdout)["findings"] if item["section"] == "dkim"]
    weak = next(item for item in findings if item["id"] == "dkim.rsa_weak")
    assert weak["status"] == "fail"
    assert weak["message"] == "セレクター rsa512 の DKIM 鍵は 512 ビットしかありません"
    assert "2048 ビット" in weak["advice"]


def test_cli_table_shows_the_finding_in_english(
    zone: LocalDNSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TODOKE_CONFIG_FILE", "")
    monkeypatch.setenv("TODOKE_CHECK_IP_BLOCKLISTS", "[]")
    monkeypatch.setenv("TODOKE_CHECK_DOMAIN_BLOCKLISTS", "[]")
    # The CLI's console takes its width once, from COLUMNS when that is set (pytest-xdist
    # workers run with COLUMNS=80): wide enough that the message is not wrapped.
    monkeypatch.setattr(cli_common.console, "width", 250)
    app = typer.Typer()
    app.add_typer(domain_app, name="domain")
    result = CliRunner().invoke(
        app,
        [
            "domain",
            "check",
            "dkim.test",
            "--selector",
            "testing",
            "--nameserver",
            str(zone.nameserver),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "dkim.testing" in result.stdout
    assert "testing mode (t=y)" in result.stdout
