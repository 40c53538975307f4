"""What an input is, judged by its bytes: names and Content-Types lie too often to trust."""

from __future__ import annotations

import re
from typing import Literal

Format = Literal["gzip", "zip", "xml", "json", "email", "empty", "unknown"]

_HEAD = 8 * 1024
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
#: RFC 5322 section 2.2: a field name is printable ASCII except colon, then a colon
_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")
#: an mbox separator line ("From addr date") that mail saved from a mailbox starts with
_MBOX_FROM = re.compile(rb"^From \S+")
_MAIL_FIELDS = frozenset(
    {
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"content-type",
        b"mime-version",
        b"received",
        b"return-path",
        b"delivered-to",
        b"dkim-signature",
        b"authentication-results",
    }
)


def _looks_like_email(head: bytes) -> bool:
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    if lines and _MBOX_FROM.match(lines[0]):
        lines = lines[1:]
    if not lines or not _HEADER_LINE.match(lines[0]):
        return False
    known = 0
    for line in lines:
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue  # folded continuation of the previous field
        if not _HEADER_LINE.match(line):
            return False
        if line.split(b":", 1)[0].strip().lower() in _MAIL_FIELDS:
            known += 1
    return known > 0


def sniff(data: bytes) -> Format:
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    head = data[:_HEAD]
    for bom in _BOMS:
        if head.startswith(bom):
            if bom != _BOMS[0]:
                # UTF-16 text: only XML is expected in it; the XML parser reads the BOM itself.
                return (
                    "xml"
                    if head[len(bom) :].replace(b"\x00", b"").lstrip()[:1] == b"<"
                    else ("unknown")
                )
            head = head[len(bom) :]
    stripped = head.lstrip()
    if not stripped:
        return "empty" if not data[_HEAD:].strip() else "unknown"
    if stripped.startswith(b"<") or stripped.startswith(b"\x00<"):
        return "xml"
    if stripped[:1] in (b"{", b"["):
        return "json"
    if _looks_like_email(stripped):
        return "email"
    return "unknown"
