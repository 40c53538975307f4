"""Report emails (RFC 5322 / MIME): find the report a reporter attached, however it was
wrapped, or read the failure report the email itself is.

The stdlib parser is used with the compat32 policy: it never raises on malformed header
values (the default policy's structured headers can), and reporters' mail is full of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.errors import MessageError
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32

from todoke.dmarc.parsing import failure
from todoke.dmarc.parsing.errors import ParseRefused
from todoke.dmarc.parsing.limits import Budget
from todoke.dmarc.report_types import FailureReport
from todoke.i18n import N_

#: MIME nesting a real report never comes close to; deeper is an attack on the parser
_MAX_MIME_DEPTH = 32
_REPORT_TYPES = frozenset(
    {
        "application/zip",
        "application/x-zip-compressed",
        "application/x-zip",
        "application/gzip",
        "application/x-gzip",
        "application/octet-stream",
        "application/xml",
        "text/xml",
        "application/json",
        "application/tlsrpt+json",  # RFC 8460 section 5.3
        "application/tlsrpt+gzip",
    }
)
#: attachments that are never reports (signatures, keys) and would only produce noise errors
_NEVER_REPORTS = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-keys",
    }
)
_EXTENSIONS = {
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/x-zip": "zip",
    "application/gzip": "gz",
    "application/x-gzip": "gz",
    "application/tlsrpt+gzip": "gz",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/json": "json",
    "application/tlsrpt+json": "json",
}
_SAFE_EXTENSION = re.compile(r"^[a-z0-9]{1,8}$")
_MESSAGE_ERRORS = (
    ValueError,
    LookupError,
    TypeError,
    UnicodeError,
    IndexError,
    AttributeError,
    MessageError,
)


@dataclass(slots=True)
class Attachment:
    name: str
    payload: bytes


@dataclass(slots=True)
class EmailContents:
    failure: FailureReport | None = None
    attachments: list[Attachment] = field(default_factory=list)


def _parse(data: bytes) -> Message:
    try:
        return BytesParser(policy=compat32).parsebytes(data)
    except (RecursionError, *_MESSAGE_ERRORS) as error:
        raise ParseRefused(
            "email.malformed", N_("The email cannot be parsed: %(reason)s."), reason=str(error)
        ) from None


def _walk(part: Message, depth: int = 0) -> Iterator[Message]:
    """Every part, containers first, like Message.walk() but with a depth bound."""
    if depth > _MAX_MIME_DEPTH:
        raise ParseRefused(
            "email.too_deep",
            N_("The email nests MIME parts more than %(depth)s deep."),
            depth=_MAX_MIME_DEPTH,
        )
    yield part
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _walk(sub, depth + 1)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except _MESSAGE_ERRORS:
        return "application/octet-stream"


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except _MESSAGE_ERRORS:
        return None
    return str(name) if name else None


def _decoded(part: Message, budget: Budget) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except _MESSAGE_ERRORS:
        payload = None
    data = payload if isinstance(payload, bytes) else b""
    budget.spend(
        len(data),
        code="email.too_large",
        what=N_(
            "The email's decoded parts decompress to more than the limit of %(limit)s bytes "
            "for one input file."
        ),
    )
    return data


def _text(part: Message, data: bytes) -> str:
    try:
        charset = part.get_content_charset() or "utf-8"
        return data.decode(charset, errors="replace")
    except _MESSAGE_ERRORS:
        return data.decode("utf-8", errors="replace")


def _headers_message(part: Message, budget: Budget) -> Message | None:
    """The returned original: message/rfc822 carries a parsed message, text/rfc822-headers
    only the header block (RFC 6591 section 3.1)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        first = payload[0] if payload else None
        return first if isinstance(first, Message) else None
    return BytesHeaderParser(policy=compat32).parsebytes(_decoded(part, budget))


def _arf(message: Message, parts: list[Message], budget: Budget) -> FailureReport:
    feedback_part = next(p for p in parts if _content_type(p) == "message/feedback-report")
    fields = _headers_message(feedback_part, budget) or Message()
    feedback_type = failure.header(fields, "Feedback-Type") or "(none)"
    if feedback_type.lower() != "auth-failure":
        raise ParseRefused(
            "failure.unsupported_feedback_type",
            N_(
                "The feedback report is of type %(type)r, not auth-failure; it is not a DMARC "
                "failure report."
            ),
            type=feedback_type[:40],
        )
    original_part = next(
        (
            p
            for p in parts
            if _content_type(p) in ("message/rfc822", "text/rfc822-headers")
            and p is not feedback_part
        ),
        None,
    )
    original = _headers_message(original_part, budget) if original_part is not None else None
    return failure.from_arf(message, fields, original)


def _is_candidate(part: Message, content_type: str) -> bool:
    if part.is_multipart() or content_type in _NEVER_REPORTS:
        return False
    if content_type in _REPORT_TYPES or content_type.startswith("application/"):
        return True
    return _filename(part) is not None and not content_type.startswith("message/")


def _extension(part: Message, content_type: str) -> str:
    filename = _filename(part)
    if filename and "." in filename:
        suffix = filename.rsplit(".", 1)[1].lower()
        if _SAFE_EXTENSION.match(suffix):
            return suffix
    return _EXTENSIONS.get(content_type, "bin")


def read_email(data: bytes, name: str, budget: Budget, max_parts: int) -> EmailContents:
    message = _parse(data)
    parts = list(_walk(message))
    if any(_content_type(p) == "message/feedback-report" for p in parts):
        return EmailContents(failure=_arf(message, parts, budget))
    contents = EmailContents()
    plain_texts: list[str] = []
    leaves = [p for p in parts if not p.is_multipart()]
    for number, part in enumerate(leaves, start=1):
        content_type = _content_type(part)
        if _is_candidate(part, content_type):
            if len(contents.attachments) >= max_parts:
                raise ParseRefused(
                    "email.too_many_parts",
                    N_("The email has more than %(count)s attachments."),
                    count=max_parts,
                )
            contents.attachments.append(
                Attachment(
                    f"{name}!part-{number}.{_extension(part, content_type)}",
                    _decoded(part, budget),
                )
            )
        elif content_type == "text/plain":
            body = _decoded(part, budget)
            if body.lstrip().startswith((b"<?xml", b"<feedback")):
                # A few reporters put the XML straight into the body.
                contents.attachments.append(Attachment(f"{name}!part-{number}.xml", body))
            else:
                plain_texts.append(_text(part, body))
    if not contents.attachments:
        for text in plain_texts:
            contents.failure = failure.from_plain_text(message, text)
            if contents.failure is not None:
                break
    if not contents.attachments and contents.failure is None:
        seen = ", ".join(sorted({_content_type(p) for p in leaves})) or "no parts"
        raise ParseRefused(
            "email.no_report",
            N_("The email contains no DMARC or TLS report (its parts are: %(parts)s)."),
            parts=seen[:200],
        )
    return contents
