"""DKIM key records (RFC 6376 §3.6.1, RFC 8463): what is read, and what is refused with reason."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from todoke.domains.dkim_record import (
    DkimKeyRecord,
    DkimRecordError,
    KeyType,
    parse_key_record,
    parse_tag_list,
)

VECTORS = Path("/work/shared/testdata/dkim")


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes().strip()


# The key of RFC 8463 Appendix A (RFC 8032 §7.1 TEST 1), from its private seed.
_SEED = base64.b64decode(vector("rfc8032_7_1.key"))
RFC8463_KEY = base64.b64encode(
    ed25519.Ed25519PrivateKey.from_private_bytes(_SEED).public_key().public_bytes_raw()
).decode()


def spki(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def rsa_1024() -> rsa.RSAPublicKey:
    return rsa.generate_private_key(65537, 1024).public_key()


@pytest.mark.parametrize(
    ("name", "key_type", "bits"),
    [
        ("2048_testkey_wo_markers.pub.txt", KeyType.RSA, 2048),
        ("test.txt", KeyType.RSA, 1024),
        ("ed25519test.dns", KeyType.ED25519, 256),
    ],
)
def test_published_test_vectors_parse_to_their_key_type_and_size(
    name: str, key_type: KeyType, bits: int
) -> None:
    record = parse_key_record(vector(name))
    assert (record.key_type, record.bits, record.revoked) == (key_type, bits, False)


def test_ed25519_key_is_the_raw_32_bytes_of_p() -> None:
    record = parse_key_record(f"v=DKIM1; k=ed25519; p={RFC8463_KEY}")
    assert isinstance(record.public_key, ed25519.Ed25519PublicKey)
    assert record.public_key.public_bytes_raw() == base64.b64decode(RFC8463_KEY)


def test_folding_white_space_inside_p_is_ignored() -> None:
    text = vector("test.txt").decode()
    head, key = text.split("p=")
    folded = head + "p=" + " \t".join(key[i : i + 30] for i in range(0, len(key), 30))
    assert parse_key_record(folded).key_data == parse_key_record(text).key_data


def test_empty_p_means_revoked() -> None:
    record = parse_key_record(b"v=DKIM1; k=rsa; p=")
    assert (record.revoked, record.bits, record.key_data) == (True, 0, b"")


def test_flags_hashes_services_and_unknown_tags_are_kept() -> None:
    record = parse_key_record(
        "v=DKIM1; h=sha1 : sha256; s=email:*; t=y:s:x; n=notes here; zz=unknown; p="
    )
    assert record.hash_algorithms == ("sha1", "sha256")
    assert record.accepts_hash("sha256")
    assert (record.testing, record.strict, "x" in record.flags) == (True, True, True)
    assert record.service_types == ("email", "*")
    assert (record.notes, record.tags["zz"]) == ("notes here", "unknown")


def test_empty_t_is_no_flag_but_empty_h_is_an_error() -> None:
    assert parse_key_record("t=; p=").flags == frozenset()
    with pytest.raises(DkimRecordError, match="h="):
        parse_key_record("h=; p=")


def test_absent_h_accepts_every_hash() -> None:
    assert parse_key_record("p=").accepts_hash("sha256")
    assert not parse_key_record("h=sha1; p=").accepts_hash("sha256")


def test_bare_rsa_public_key_is_read_and_marked_pkcs1(rsa_1024: rsa.RSAPublicKey) -> None:
    der = rsa_1024.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    record = parse_key_record(f"p={base64.b64encode(der).decode()}")
    assert (record.rsa_encoding, record.bits) == ("pkcs1", 1024)
    assert parse_key_record(f"p={spki(rsa_1024)}").rsa_encoding == "spki"


def test_empty_tag_specs_are_skipped_like_verifiers_do() -> None:
    assert parse_tag_list(" v=DKIM1;; k=rsa ; p=abc;") == {"v": "DKIM1", "k": "rsa", "p": "abc"}


ED25519_SPKI = "MCowBQYDK2VwAyEAY/tRmmSfMW22DUXr2tZ943zzbeULwbr2xBISXQv/kYQ="


@pytest.mark.parametrize(
    ("text", "tag", "words"),
    [
        ("v=DKIM1; k=rsa", "p", "required p="),
        ("v=DKIM1; p=; p=", "p", "more than once"),
        ("k=rsa; v=DKIM1; p=", "v", "first tag"),
        ("v=DKIM2; p=", "v", "not v=DKIM1"),
        ("v=spf1 include:_spf.example.jp ~all", "v", "not v=DKIM1"),
        ("k=RSA; p=", "k", "case-sensitive"),
        ("k=dsa; p=", "k", "not a key type"),
        ("s=tlsrpt; p=", "s", "does not include email"),
        ("h=sha 256; p=", "h", "not a word"),
        ("p=MIGf*MA0", "p", "not base64"),
        ("p=MIGfMA0GCSqGSIb3D", "p", "not valid base64"),
        ("p=bm90IGEga2V5", "p", "DER-encoded"),
        (f"k=ed25519; p={ED25519_SPKI}", "p", "drop the first 12 bytes"),
        ("k=ed25519; p=bm90IGEga2V5", "p", "32 bytes"),
        ("1v=DKIM1; p=", "1v", "not a valid tag name"),
        ("v=DKIM1; garbage", None, "not a tag=value pair"),
    ],
)
def test_unusable_records_are_refused_naming_the_tag(
    text: str, tag: str | None, words: str
) -> None:
    with pytest.raises(DkimRecordError) as caught:
        parse_key_record(text)
    assert caught.value.tag == tag
    assert words in caught.value.message


def test_key_of_another_algorithm_under_k_rsa_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(DkimRecordError, match="k= says rsa"):
        parse_key_record(f"k=rsa; p={spki(key)}")


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _rsa_spki(modulus: int, exponent: int) -> str:
    """A SubjectPublicKeyInfo written by hand, for keys cryptography would not build."""
    integers = b"".join(
        _der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big")) for v in (modulus, exponent)
    )
    algorithm = _der(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")
    info = _der(0x30, algorithm + _der(0x03, b"\x00" + _der(0x30, integers)))
    return base64.b64encode(info).decode()


@pytest.mark.parametrize(("factor", "exponent"), [(2, 65537), (1, 4), (1, 1)])
def test_rsa_key_with_impossible_numbers_is_refused(
    rsa_1024: rsa.RSAPublicKey, factor: int, exponent: int
) -> None:
    modulus = rsa_1024.public_numbers().n * factor
    with pytest.raises(DkimRecordError) as caught:
        parse_key_record(f"p={_rsa_spki(modulus, exponent)}")
    assert caught.value.tag == "p"


def test_hand_written_spki_of_a_sound_key_is_read(rsa_1024: rsa.RSAPublicKey) -> None:
    numbers = rsa_1024.public_numbers()
    assert parse_key_record(f"p={_rsa_spki(numbers.n, numbers.e)}").public_key == rsa_1024


# Pieces real records are made of, so generated lists reach past the tag-list syntax.
_PIECES = st.sampled_from(
    [
        "v=DKIM1",
        "v=DKIM2",
        "k=rsa",
        "k=ed25519",
        "k=",
        "h=sha256",
        "h=sha1",
        "h=:",
        "s=email",
        "s=*",
        "t=y",
        "t=s:y",
        "t=",
        "p=",
        f"p={RFC8463_KEY}",
        f"p={ED25519_SPKI}",
        f"p={vector('test.txt').decode().split('p=')[1]}",
        "p=AAAA",
        "p=====",
        "n=a note",
        " ",
        "=",
        "\x00",
        "é=1",
    ]
)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=8))
def test_tag_lists_parse_or_fail_with_the_parsers_own_error(pieces: list[str]) -> None:
    try:
        record = parse_key_record(";".join(pieces))
    except DkimRecordError as error:
        message = error.message
    else:
        assert isinstance(record, DkimKeyRecord)
        assert record.revoked == (record.public_key is None)
        return
    assert message


@given(st.binary(max_size=600))
def test_any_bytes_parse_or_fail_with_the_parsers_own_error(data: bytes) -> None:
    for record in (b"p=" + data, data):
        try:
            parse_key_record(record)
        except DkimRecordError:
            continue


@given(st.binary(min_size=0, max_size=300))
def test_any_decoded_key_data_parses_or_fails_cleanly(key: bytes) -> None:
    encoded = base64.b64encode(key).decode()
    for key_type in ("rsa", "ed25519"):
        try:
            record = parse_key_record(f"k={key_type}; p={encoded}")
        except DkimRecordError:
            continue
        assert record.key_data == key


@given(st.lists(st.sampled_from(["", " ", "\t", "\r\n "]), min_size=1, max_size=40))
def test_ed25519_key_survives_any_folding(spaces: list[str]) -> None:
    chars = list(RFC8463_KEY)
    folded = "".join(char + spaces[i % len(spaces)] for i, char in enumerate(chars))
    record = parse_key_record(f"v=DKIM1;\tk=ed25519 ;\r\n p={folded}")
    assert record.key_data == base64.b64decode(RFC8463_KEY)
