"""How one published DKIM key is judged: size (RFC 8301), hashes, flags and encoding."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from todoke.domains.checks.dkim_keys import key_findings
from todoke.domains.checks.findings import Status
from todoke.domains.dkim_record import parse_key_record


def rsa_key_text(bits: int, form: serialization.PublicFormat | None = None) -> str:
    """p= of an RSA public key whose modulus has exactly `bits` bits.

    Judging size needs only the public modulus, so a random odd number of that length stands
    in for the product of two primes (cryptography will not generate keys under 1024 bits).
    """
    modulus = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, form or serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def judged(record_text: str) -> dict[str, Status]:
    record = parse_key_record(record_text)
    found = key_findings("s1", "s1._domainkey.example.jp", record, ("evidence",))
    return {item.id: item.status for item in found}


@pytest.mark.parametrize(
    ("bits", "expected"),
    [
        (512, {"dkim.rsa_weak": Status.FAIL}),
        (1023, {"dkim.rsa_weak": Status.FAIL}),
        (1024, {"dkim.rsa_1024": Status.WARN}),
        (1536, {"dkim.rsa_short": Status.WARN}),
        (2048, {}),
        (4096, {}),
        (4104, {"dkim.rsa_oversize": Status.WARN}),
    ],
)
def test_rsa_key_size_is_judged_by_rfc_8301(bits: int, expected: dict[str, Status]) -> None:
    assert judged(f"v=DKIM1; k=rsa; p={rsa_key_text(bits)}") == {
        "dkim.key_found": Status.PASS,
        **expected,
    }


def test_key_found_names_type_and_size() -> None:
    record = parse_key_record(f"p={rsa_key_text(2048)}")
    (found,) = key_findings("s1", "s1._domainkey.example.jp", record, ())
    assert dict(found.values) == {
        "selector": "s1",
        "name": "s1._domainkey.example.jp",
        "key_type": "RSA",
        "bits": 2048,
    }


def test_ed25519_key_passes_with_256_bits() -> None:
    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    record = parse_key_record(f"k=ed25519; p={base64.b64encode(raw).decode()}")
    (found,) = key_findings("ed", "ed._domainkey.example.jp", record, ())
    assert (found.id, found.status, found.values["key_type"], found.values["bits"]) == (
        "dkim.key_found",
        Status.PASS,
        "Ed25519",
        256,
    )


@pytest.mark.parametrize(
    ("tags", "finding", "status"),
    [
        ("h=sha1", "dkim.sha1_only", Status.FAIL),
        ("h=md5", "dkim.syntax", Status.FAIL),
        ("t=y", "dkim.testing", Status.WARN),
        ("t=s", "dkim.strict", Status.INFO),
    ],
)
def test_tags_that_change_what_receivers_do_are_reported(
    tags: str, finding: str, status: Status
) -> None:
    assert judged(f"v=DKIM1; {tags}; p={rsa_key_text(2048)}").get(finding) == status


def test_sha256_beside_sha1_is_fine() -> None:
    assert judged(f"h=sha1:sha256; p={rsa_key_text(2048)}") == {"dkim.key_found": Status.PASS}


def test_bare_pkcs1_key_fails_because_verifiers_read_spki_only() -> None:
    text = rsa_key_text(2048, serialization.PublicFormat.PKCS1)
    assert judged(f"p={text}").get("dkim.rsa_pkcs1") == Status.FAIL
