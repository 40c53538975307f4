"""The `_mta-sts` TXT record (RFC 8461 §3.1), and the field list it shares with TLS-RPT.

Both records are a version tag followed by `name=value` fields separated by `;` with optional
white space (RFC 8461 §3.1, RFC 8460 §3). A record that does not parse is one a sender ignores,
so every error says exactly which part is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from todoke.domains.checks.context import CheckContext
from todoke.domains.spf.lookup import InvalidDomainName

STS_VERSION: Final = "v=STSv1"
_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}\Z")
# sts-ext-value / tlsrpt-ext-value: printable ASCII except "=", ";" and space.
_EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+\Z")
_STS_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")


class RecordError(ValueError):
    """The record does not follow the ABNF; the message says where, in English."""


@dataclass(frozen=True, slots=True)
class StsRecord:
    id: str
    extensions: Mapping[str, str] = field(default_factory=dict)


async def txt_records(context: CheckContext, name: str) -> tuple[str, ...]:
    """The TXT records at `name` as text; none when the name is too long to exist in DNS
    (a 250-character domain has no room for "_mta-sts.")."""
    try:
        answer = await context.dns.txt(name)
    except InvalidDomainName:
        return ()
    return tuple(record_text(raw) for raw in answer.values)


def record_text(raw: bytes) -> str:
    """A TXT record's text; bytes that are not UTF-8 are shown, not trusted."""
    return raw.decode("utf-8", errors="backslashreplace")


def begins_with(text: str, version: str) -> bool:
    """Whether `text` starts with the version tag, as senders select records (§3.1)."""
    if not text.startswith(version):
        return False
    rest = text[len(version) :]
    # Erratum 6285 of RFC 8461: the ABNF allows white space before the ";".
    return not rest or rest.lstrip(" \t")[:1] in ("", ";")


def split_fields(
    text: str, version: str, *, free_form: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """The `name=value` fields after `version`, or RecordError naming the bad part.

    Values of the fields named in `free_form` (TLS-RPT's `rua`, a URI list that may hold
    white space around its commas) are left for the caller to check.
    """
    if not begins_with(text, version):
        raise RecordError(f"does not begin with {version};")
    rest = text[len(version) :].strip(" \t")
    if not rest.startswith(";"):
        raise RecordError(f"{version} must be followed by ';' and at least one field")
    fields: list[tuple[str, str]] = []
    for part in rest[1:].split(";"):
        term = part.strip(" \t")
        if not term:
            continue
        name, separator, value = term.partition("=")
        if not separator or not _EXT_NAME.match(name):
            raise RecordError(f"{_quote(term)} is not a name=value field")
        if not value or (name not in free_form and not _EXT_VALUE.match(value)):
            raise RecordError(f"field {name} has an empty value or one with spaces or '='")
        fields.append((name, value))
    if not fields:
        raise RecordError("the record has no fields after the version")
    return fields


def parse_sts_record(text: str) -> StsRecord:
    """An `_mta-sts` record: `v=STSv1; id=...;` plus any extension fields."""
    fields = split_fields(text, STS_VERSION)
    ids = [value for name, value in fields if name == "id"]
    if not ids:
        raise RecordError("the id field is missing (id=1 to 32 letters and digits)")
    if len(ids) > 1:
        raise RecordError("the id field is given more than once")
    if not _STS_ID.match(ids[0]):
        raise RecordError(f"id {_quote(ids[0])} is not 1 to 32 letters and digits")
    return StsRecord(id=ids[0], extensions={n: v for n, v in fields if n != "id"})


def select(texts: Sequence[str], version: str) -> list[str]:
    """The records a sender would consider: those beginning with the version tag."""
    return [text for text in texts if begins_with(text, version)]


def _quote(text: str) -> str:
    return repr(text[:60] + ("..." if len(text) > 60 else ""))
