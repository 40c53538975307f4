"""The logo inside a mark certificate: the RFC 3709 logotype extension (id-pe-logotype).

A VMC or CMC carries its SVG as the subject logotype, a `data:image/svg+xml;base64,` URI of the
gzipped SVG, with a hash of the image beside it. RFC 3709's module uses IMPLICIT tags, so
`direct [0] LogotypeData` replaces the SEQUENCE tag; some issuers' tooling wrote it EXPLICIT. We
accept both by looking for LogotypeDetails (IA5String mediaType, SEQUENCE OF HashAlgAndValue,
SEQUENCE OF IA5String) under subjectLogo, instead of insisting on one tagging.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import zlib
from dataclasses import dataclass
from typing import Final

from todoke.domains.bimi.der import (
    IA5_STRING,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    SEQUENCE,
    DerError,
    Tlv,
    oid_text,
    read_one,
)

LOGOTYPE_OID: Final = "1.3.6.1.5.5.7.1.12"
SUBJECT_LOGO: Final = 0xA2
#: hash algorithms by OID, as hashlib names
HASHES: Final = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
DATA_URI_PREFIX: Final = "data:image/svg+xml;base64,"
#: an embedded logo larger than this once decompressed is refused (BIMI logos are ~32 KB)
MAX_LOGO_BYTES: Final = 1024 * 1024
_MAX_DEPTH: Final = 6


class LogotypeError(ValueError):
    """The extension or its image cannot be read; the message says which part."""


@dataclass(frozen=True, slots=True)
class LogotypeImage:
    media_type: str
    #: (hash algorithm OID, hash value)
    hashes: tuple[tuple[str, bytes], ...]
    uris: tuple[str, ...]


def subject_images(extension_der: bytes) -> tuple[LogotypeImage, ...]:
    """The subject logotype images of a LogotypeExtn (the whole extension when it has no [2])."""
    try:
        top = read_one(extension_der)
        if top.tag != SEQUENCE:
            raise LogotypeError("the logotype extension is not a SEQUENCE")
        subject = [child for child in top.children() if child.tag == SUBJECT_LOGO]
        found: list[LogotypeImage] = []
        _collect(subject[0] if subject else top, 0, found)
    except DerError as error:
        raise LogotypeError(f"the logotype extension is malformed: {error}") from None
    return tuple(found)


def _collect(node: Tlv, depth: int, found: list[LogotypeImage]) -> None:
    if depth > _MAX_DEPTH or not node.constructed:
        return
    children = node.children()
    if node.tag == SEQUENCE and _is_details(children):
        found.append(_details(children))
        return
    for child in children:
        _collect(child, depth + 1, found)


def _is_details(children: list[Tlv]) -> bool:
    tags = [child.tag for child in children]
    return tags[:3] == [IA5_STRING, SEQUENCE, SEQUENCE]


def _details(children: list[Tlv]) -> LogotypeImage:
    media_type = children[0].content.decode("ascii", errors="replace")
    hashes: list[tuple[str, bytes]] = []
    for item in children[1].children():
        parts = item.children()
        if len(parts) != 2 or parts[0].tag != SEQUENCE or parts[1].tag != OCTET_STRING:
            raise LogotypeError("a logotype hash is not (AlgorithmIdentifier, OCTET STRING)")
        algorithm = parts[0].children()
        if not algorithm or algorithm[0].tag != OBJECT_IDENTIFIER:
            raise LogotypeError("a logotype hash algorithm has no OID")
        hashes.append((oid_text(algorithm[0].content), parts[1].content))
    uris = tuple(
        item.content.decode("ascii", errors="replace")
        for item in children[2].children()
        if item.tag == IA5_STRING
    )
    return LogotypeImage(media_type=media_type, hashes=tuple(hashes), uris=uris)


@dataclass(frozen=True, slots=True)
class EmbeddedLogo:
    #: the image as carried in the data: URI (usually gzip)
    raw: bytes
    #: the SVG itself, decompressed when it was gzipped
    svg: bytes
    #: whether a hash in the certificate matches the image (RFC 3709 §4.1)
    hash_matches: bool
    #: the hash algorithms the certificate names (hashlib names, or the OID when unknown)
    algorithms: tuple[str, ...]


def embedded_logo(image: LogotypeImage) -> EmbeddedLogo:
    """The SVG of `image`, from its first data: URI, with its hash checked."""
    uri = next((uri for uri in image.uris if uri.lower().startswith("data:")), None)
    if uri is None:
        raise LogotypeError("the logotype has no data: URI (a VMC embeds its logo)")
    if not uri.startswith(DATA_URI_PREFIX):
        raise LogotypeError(f"the logotype URI does not start with {DATA_URI_PREFIX}")
    try:
        raw = base64.b64decode(uri[len(DATA_URI_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise LogotypeError("the logotype data: URI is not valid base64") from None
    svg = gunzip_bounded(raw) if raw[:2] == b"\x1f\x8b" else raw
    algorithms = tuple(HASHES.get(oid, oid) for oid, _ in image.hashes)
    return EmbeddedLogo(raw, svg, _hash_matches(image.hashes, (raw, svg)), algorithms)


def _hash_matches(hashes: tuple[tuple[str, bytes], ...], candidates: tuple[bytes, ...]) -> bool:
    # Issuers hash the image as carried (gzip); accept the decompressed SVG too, so an issuer
    # reading RFC 6170 the other way is not reported as a broken certificate.
    for oid, value in hashes:
        name = HASHES.get(oid)
        if name and any(hashlib.new(name, data).digest() == value for data in candidates):
            return True
    return False


def gunzip_bounded(data: bytes, limit: int = MAX_LOGO_BYTES) -> bytes:
    """Decompress gzip data, refusing output over `limit` (a gzip bomb stays small here)."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as error:
        raise LogotypeError(f"the gzip data is corrupt: {error}") from None
    if len(out) > limit:
        raise LogotypeError(f"the image decompresses to more than {limit} bytes")
    if not decompressor.eof:
        raise LogotypeError("the gzip data is truncated")
    return out


def data_uri(svg: bytes) -> str:
    """The data: URI a mark certificate carries for `svg` (gzipped, base64)."""
    return DATA_URI_PREFIX + base64.b64encode(gzip.compress(svg, mtime=0)).decode("ascii")
