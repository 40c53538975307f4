"""DKIM key records: the TXT data published at `<selector>._domainkey.<domain>`.

RFC 6376 §3.6.1 (tags), §3.2 (tag-list syntax) and RFC 8463 (ed25519 keys). Pure: no DNS, no
clock. The domain check, key publishing and message verification all read `DkimKeyRecord`, so
the parser keeps what the record says (tags as written, the key's encoding) and leaves judging
it (key size, testing mode) to its callers. Anything the parser cannot use raises
`DkimRecordError` and nothing else, whatever the bytes: records come from strangers' DNS.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

VERSION: Final = "DKIM1"
#: RFC 6376 §3.2: tag-name = ALPHA *ALNUMPUNC
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: RFC 6376 §2.2 WSP plus the CR LF of folding white space
_FWS = " \t\r\n"
#: RFC 6376 §3.6.1 key-h-tag-alg / key-s-tag-type / key-t-tag-flag: a hyphenated-word
_WORD = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")
#: DER SubjectPublicKeyInfo header of an Ed25519 key (RFC 8410 §4): SEQUENCE, algorithm
#: id-Ed25519, BIT STRING of 33 octets. Seen when people paste `openssl pkey -pubout`.
_ED25519_SPKI_PREFIX: Final = bytes.fromhex("302a300506032b6570032100")
_ED25519_KEY_BYTES: Final = 32

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


class DkimRecordError(ValueError):
    """The TXT data is not a usable DKIM key record; the message names the tag at fault."""

    def __init__(self, message: str, *, tag: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tag = tag


class KeyType(StrEnum):
    RSA = "rsa"
    ED25519 = "ed25519"


@dataclass(frozen=True, slots=True)
class DkimKeyRecord:
    """A parsed key record. `public_key` is None when the key is revoked (`p=` empty)."""

    key_type: KeyType
    #: the decoded p= value; empty when revoked
    key_data: bytes
    public_key: PublicKey | None
    #: h=, as written; None means every hash algorithm is acceptable (RFC 6376 §3.6.1)
    hash_algorithms: tuple[str, ...] | None = None
    #: s=; the default "*" means any service
    service_types: tuple[str, ...] = ("*",)
    #: t=, e.g. {"y"} for testing, {"s"} for strict identity matching
    flags: frozenset[str] = frozenset()
    notes: str = ""
    #: "spki" (what everyone publishes) or "pkcs1" (a bare RSAPublicKey); None for other keys
    rsa_encoding: Literal["spki", "pkcs1"] | None = None
    #: every tag as written, unknown ones included (they MUST be ignored, §3.2)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def revoked(self) -> bool:
        return self.public_key is None

    @property
    def testing(self) -> bool:
        return "y" in self.flags

    @property
    def strict(self) -> bool:
        return "s" in self.flags

    @property
    def bits(self) -> int:
        """The key size: the RSA modulus length, 256 for ed25519, 0 when revoked."""
        if isinstance(self.public_key, rsa.RSAPublicKey):
            return self.public_key.key_size
        if isinstance(self.public_key, ed25519.Ed25519PublicKey):
            return 8 * _ED25519_KEY_BYTES
        return 0

    def accepts_hash(self, algorithm: str) -> bool:
        """Whether h= allows `algorithm` ("sha256"); names compare case-sensitively (§3.2)."""
        return self.hash_algorithms is None or algorithm in self.hash_algorithms


def parse_tag_list(text: str) -> dict[str, str]:
    """RFC 6376 §3.2 tag=value pairs in order; duplicate or malformed tags are errors."""
    tags: dict[str, str] = {}
    for spec in text.split(";"):
        if not spec.strip(_FWS):
            # Empty specs ("a=1;; b=2") break the grammar but every verifier skips them.
            continue
        name, equals, value = spec.partition("=")
        name = name.strip(_FWS)
        if not equals:
            raise DkimRecordError(f"{_shorten(spec.strip(_FWS))!r} is not a tag=value pair")
        if not _TAG_NAME.match(name):
            raise DkimRecordError(f"{_shorten(name)!r} is not a valid tag name", tag=name)
        if name in tags:
            # §3.2: a duplicated tag makes the entire tag-list invalid.
            raise DkimRecordError(f"tag {name}= appears more than once", tag=name)
        tags[name] = value.strip(_FWS)
    return tags


def parse_key_record(data: bytes | str) -> DkimKeyRecord:
    """Parse the TXT data of a key record (its strings already joined, RFC 6376 §3.6.2.2)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    tags = parse_tag_list(text)
    _check_version(tags)
    key_type = _key_type(tags.get("k", KeyType.RSA.value))
    services = _word_list(tags, "s") or ("*",)
    if "*" not in services and "email" not in services:
        raise DkimRecordError(
            f"s={tags['s']} does not include email or *, so email verifiers ignore this key",
            tag="s",
        )
    if "p" not in tags:
        raise DkimRecordError("the required p= tag (the public key) is missing", tag="p")
    key_data = _base64(tags["p"])
    public_key, encoding = _public_key(key_type, key_data) if key_data else (None, None)
    return DkimKeyRecord(
        key_type=key_type,
        key_data=key_data,
        public_key=public_key,
        hash_algorithms=_word_list(tags, "h"),
        service_types=services,
        # An empty t= breaks the grammar but changes nothing for verifiers, so it is let be.
        flags=frozenset(_word_list(tags, "t", skip_empty=True) or ()),
        notes=tags.get("n", ""),
        rsa_encoding=encoding,
        tags=tags,
    )


def _check_version(tags: dict[str, str]) -> None:
    if "v" not in tags:
        return
    # §3.6.1: v= MUST be first, and records with any other value MUST be discarded.
    if next(iter(tags)) != "v":
        raise DkimRecordError("v= must be the first tag of the record", tag="v")
    if tags["v"] != VERSION:
        raise DkimRecordError(f"v={_shorten(tags['v'])} is not v={VERSION}", tag="v")


def _key_type(value: str) -> KeyType:
    try:
        return KeyType(value)
    except ValueError:
        hint = "; key types are case-sensitive" if value.lower() in set(KeyType) else ""
        raise DkimRecordError(
            f"k={_shorten(value)} is not a key type verifiers know (rsa, ed25519){hint}",
            tag="k",
        ) from None


def _word_list(
    tags: Mapping[str, str], name: str, *, skip_empty: bool = False
) -> tuple[str, ...] | None:
    """A colon-separated list (h=, s=, t=) with folding white space around the colons."""
    if name not in tags:
        return None
    words = tuple(word.strip(_FWS) for word in tags[name].split(":"))
    if skip_empty:
        words = tuple(word for word in words if word)
    for word in words:
        if word != "*" and not _WORD.match(word):
            raise DkimRecordError(
                f"{name}={_shorten(tags[name])} holds {_shorten(word)!r}, not a word", tag=name
            )
    return words


def _base64(value: str) -> bytes:
    # §3.6.1: base64string allows folding white space anywhere between the characters.
    compact = "".join(value.split())
    if not _BASE64.match(compact):
        raise DkimRecordError("p= holds characters that are not base64", tag="p")
    try:
        return base64.b64decode(compact, validate=True)
    except ValueError as error:
        raise DkimRecordError(f"p= is not valid base64 ({error})", tag="p") from None


def _public_key(
    key_type: KeyType, data: bytes
) -> tuple[PublicKey, Literal["spki", "pkcs1"] | None]:
    if key_type is KeyType.ED25519:
        return _ed25519_key(data), None
    return _rsa_key(data)


def _ed25519_key(data: bytes) -> ed25519.Ed25519PublicKey:
    if len(data) != _ED25519_KEY_BYTES:
        if data.startswith(_ED25519_SPKI_PREFIX):
            raise DkimRecordError(
                "p= holds an ed25519 key wrapped in SubjectPublicKeyInfo; RFC 8463 §4.2 "
                "publishes the bare 32-byte key (drop the first 12 bytes)",
                tag="p",
            )
        raise DkimRecordError(
            f"p= holds {len(data)} bytes; an ed25519 key is 32 bytes (RFC 8463 §4.2)", tag="p"
        )
    return ed25519.Ed25519PublicKey.from_public_bytes(data)


def _rsa_key(data: bytes) -> tuple[rsa.RSAPublicKey, Literal["spki", "pkcs1"]]:
    # RFC 6376 §3.6.1 says RSAPublicKey, its Appendix C and every deployed signer publish a
    # SubjectPublicKeyInfo (erratum 3017); cryptography reads both, the caller judges.
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise DkimRecordError("p= does not hold a DER-encoded public key", tag="p") from None
    if not isinstance(key, rsa.RSAPublicKey):
        kind = type(key).__name__.removeprefix("_").removesuffix("PublicKey")
        raise DkimRecordError(f"p= holds a public key of type {kind}, but k= says rsa", tag="p")
    numbers = key.public_numbers()
    if numbers.n % 2 == 0 or numbers.e < 3 or numbers.e % 2 == 0:
        raise DkimRecordError("p= holds an RSA key with an impossible modulus or exponent", tag="p")
    pkcs1 = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return key, "pkcs1" if data == pkcs1 else "spki"


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
