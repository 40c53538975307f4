"""Just enough DER (X.690 §10) to read a certificate extension the cryptography package leaves
opaque: the RFC 3709 logotype of a mark certificate.

Bounded by construction: lengths are checked against the bytes actually present, tags above 30
and indefinite lengths (not DER) are refused, so hostile input gives a DerError, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SEQUENCE: Final = 0x30
OCTET_STRING: Final = 0x04
OBJECT_IDENTIFIER: Final = 0x06
IA5_STRING: Final = 0x16
_CONSTRUCTED: Final = 0x20


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


@dataclass(frozen=True, slots=True)
class Tlv:
    #: the identifier octet as is (0x30 SEQUENCE, 0xA2 [2] constructed, ...)
    tag: int
    content: bytes

    @property
    def constructed(self) -> bool:
        return bool(self.tag & _CONSTRUCTED)

    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise DerError(f"tag 0x{self.tag:02x} is primitive, it has no children")
        return read_all(self.content)


def read_all(data: bytes) -> list[Tlv]:
    """Every TLV in `data`, which they must fill exactly."""
    items: list[Tlv] = []
    offset = 0
    while offset < len(data):
        item, offset = _read(data, offset)
        items.append(item)
    return items


def read_one(data: bytes) -> Tlv:
    items = read_all(data)
    if len(items) != 1:
        raise DerError(f"expected one DER value, found {len(items)}")
    return items[0]


def _read(data: bytes, offset: int) -> tuple[Tlv, int]:
    if offset + 2 > len(data):
        raise DerError("truncated DER header")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte DER tags are not used here")
    first = data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise DerError("indefinite or oversized DER length")
        if offset + count > len(data):
            raise DerError("truncated DER length")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    end = offset + length
    if end > len(data):
        raise DerError(f"DER value of {length} bytes runs past the end")
    return Tlv(tag, data[offset:end]), end


def oid_text(content: bytes) -> str:
    """Dotted form of an OBJECT IDENTIFIER's content octets."""
    if not content or content[-1] & 0x80:
        raise DerError("malformed OBJECT IDENTIFIER")
    numbers: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    first = min(numbers[0] // 40, 2)
    return ".".join(str(n) for n in (first, numbers[0] - 40 * first, *numbers[1:]))
