"""BIMI Assertion Records (draft-brand-indicators-for-message-identification §4.3).

`v=BIMI1; l=https://...svg; a=https://...pem` in DKIM tag=value syntax (RFC 6376 §3.2):
v must come first, l is required but may be empty, a is optional, both empty is a declination
to publish (§4.3.1). Mail receivers must not repair records (§4.3), so neither do we: every
error names the tag and what is wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

VERSION: Final = "BIMI1"
_VERSION_TAG = re.compile(r"v[ \t]*=[ \t]*BIMI1[ \t]*(?:;|\Z)")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: §4.3.2: only SVG is acceptable; a URI ending in another image suffix is a permanent error
_KNOWN_TAGS: Final = ("v", "l", "a", "lps", "avp")
_RASTER_SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".tif")


class BimiRecordError(ValueError):
    """The record does not follow the draft's syntax; the message says which tag, in English."""


@dataclass(frozen=True, slots=True)
class BimiRecord:
    #: l=: the logo URI, None when empty
    location: str | None
    #: a=: the evidence document (VMC/CMC) URI, None when empty or absent
    authority: str | None
    #: every tag as written
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def declined(self) -> bool:
        """`l=` and `a=` both empty: the domain owner declines BIMI (§4.3.1)."""
        return self.location is None and self.authority is None


def is_bimi_record(text: str) -> bool:
    """Whether a TXT record starts with the v=BIMI1 tag, as receivers select them (§7.2)."""
    return bool(_VERSION_TAG.match(text.lstrip(" \t")))


def parse_bimi_record(text: str) -> BimiRecord:
    tags = _tags(text)
    names = list(tags)
    if not names or names[0] != "v":
        raise BimiRecordError("the record must begin with v=BIMI1")
    if tags["v"] != VERSION:
        raise BimiRecordError(f"v={tags['v']!r} is not BIMI1")
    if "l" not in tags:
        raise BimiRecordError("the l= tag is missing (it may be empty only to decline BIMI)")
    location = _uri("l", tags["l"])
    authority = _uri("a", tags.get("a", ""))
    if location is not None and location.lower().split("?", 1)[0].endswith(_RASTER_SUFFIXES):
        raise BimiRecordError(f"l= points to a raster image ({location}); BIMI needs SVG")
    if tags.get("lps", "false") not in ("true", "false"):
        raise BimiRecordError(f"lps={tags['lps']!r} is not true or false")
    if tags.get("avp", "brand") not in ("brand", "personal"):
        raise BimiRecordError(f"avp={tags['avp']!r} is not brand or personal")
    return BimiRecord(location=location, authority=authority, tags=tags)


def _tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in text.split(";"):
        spec = part.strip(" \t\r\n")
        if not spec:
            continue
        name, separator, value = spec.partition("=")
        name = name.strip(" \t\r\n")
        if not separator or not _TAG_NAME.match(name):
            raise BimiRecordError(f"{spec[:40]!r} is not a tag=value pair")
        key = name
        if key != key.lower() and key.lower() in _KNOWN_TAGS:
            raise BimiRecordError(f"tag names are case-sensitive: write {key.lower()}=")
        if key in tags:
            # RFC 6376 §3.2: a tag given twice makes the whole list invalid.
            raise BimiRecordError(f"the {key}= tag is given more than once")
        tags[key] = value.strip(" \t\r\n")
    return tags


def _uri(tag: str, value: str) -> str | None:
    if not value:
        return None
    if "," in value:
        raise BimiRecordError(f"{tag}= holds one URI only (commas must be percent-encoded)")
    if any(ord(char) <= 0x20 or ord(char) >= 0x7F for char in value):
        raise BimiRecordError(f"{tag}= contains spaces or characters outside ASCII")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise BimiRecordError(f"{tag}={value[:80]} is not a valid URI") from None
    if parts.scheme.lower() != "https":
        raise BimiRecordError(f"{tag}={value[:80]} is not an https:// URI")
    if not host or "." not in host.strip("."):
        raise BimiRecordError(f"{tag}={value[:80]} has no fully qualified host name")
    return value
