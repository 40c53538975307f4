"""DMARC failure reports: RFC 6591 ARF (auth-failure) and the plain-text reports some receivers
send instead.

Both end up as one FailureReport per message. ARF fields come from the message/feedback-report
part (RFC 6591 section 3); header_from, subject and message_id come from the returned original
message, which RFC 6591 section 3.1 allows to be the full message/rfc822 or just its headers
(text/rfc822-headers).
"""

from __future__ import annotations

import re
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

from todoke.dmarc.parsing import values
from todoke.dmarc.report_types import FailureReport

_HEADER_ERRORS = (
    ValueError,
    LookupError,
    TypeError,
    UnicodeError,
    AttributeError,
    IndexError,
    MessageError,
)
_KEY_VALUE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _-]{1,40}?)\s*:\s*(.*?)\s*$", re.MULTILINE)
#: plain-text report keys seen in the field, mapped to the FailureReport fields they feed
_PLAIN_KEYS = {
    "sender domain": "domain",
    "reported domain": "domain",
    "sender ip address": "source_ip",
    "sender ip": "source_ip",
    "source ip": "source_ip",
    "received date": "arrival_date",
    "arrival date": "arrival_date",
    "spf alignment": "spf_alignment",
    "dkim alignment": "dkim_alignment",
    "dmarc results": "dmarc_result",
    "dmarc result": "dmarc_result",
    "dkim domain": "dkim_domain",
    "dkim selector": "dkim_selector",
    "subject": "subject",
    "message-id": "message_id",
    "from": "from",
}
#: keys that only a DMARC failure report would have; two of them make a text a report
_PLAIN_EVIDENCE = frozenset(
    {"domain", "source_ip", "spf_alignment", "dkim_alignment", "dmarc_result"}
)
_DMARC_TO_DELIVERY = {"reject": "reject", "quarantine": "spam", "none": "delivered"}


def header(message: Message, name: str) -> str | None:
    """A header's value with RFC 2047 encoded-words decoded and folding undone."""
    raw = message.get(name)
    if raw is None:
        return None
    try:
        text = str(make_header(decode_header(str(raw))))
    except _HEADER_ERRORS:
        text = str(raw)
    return values.clean(" ".join(text.split()))


def address_domain(text: str | None) -> str | None:
    """Domain of the first address in a From-like value."""
    if text is None:
        return None
    try:
        address = parseaddr(text)[1] or (getaddresses([text]) or [("", "")])[0][1]
    except _HEADER_ERRORS:
        return None
    return values.domain(address.rpartition("@")[2]) if "@" in address else None


def reporter_of(report_message: Message) -> str:
    return address_domain(header(report_message, "From")) or "unknown"


def _original_text(original: Message) -> str:
    try:
        return original.as_string()
    except (*_HEADER_ERRORS, KeyError):
        # A part the generator cannot re-serialise still has readable headers.
        return "".join(f"{name}: {value}\n" for name, value in original.items())


def from_arf(report_message: Message, feedback: Message, original: Message | None) -> FailureReport:
    def field(name: str) -> str | None:
        return header(feedback, name)

    mail_from = field("Original-Mail-From")
    return FailureReport(
        reporter=reporter_of(report_message),
        feedback_type=values.token(field("Feedback-Type")) or "auth-failure",
        arrival_date=values.mail_date(field("Arrival-Date") or field("Received-Date")),
        source_ip=values.ip_address(field("Source-IP")),
        reported_domain=values.domain(field("Reported-Domain")),
        auth_failure=values.token(field("Auth-Failure")),
        original_mail_from=values.clean(mail_from.strip("<>")) if mail_from else None,
        original_rcpt_to=field("Original-Rcpt-To"),
        delivery_result=values.token(field("Delivery-Result")),
        dkim_domain=values.domain(field("DKIM-Domain")),
        dkim_selector=field("DKIM-Selector"),
        identity_alignment=values.token(field("Identity-Alignment")),
        authentication_results=field("Authentication-Results"),
        header_from=address_domain(header(original, "From")) if original is not None else None,
        subject=header(original, "Subject") if original is not None else None,
        message_id=(header(original, "Message-ID") if original is not None else None)
        or field("Message-ID"),
        original_headers=_original_text(original) if original is not None else None,
        user_agent=field("User-Agent"),
    )


def _plain_fields(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _KEY_VALUE.finditer(text[: 256 * 1024]):
        key = _PLAIN_KEYS.get(" ".join(match.group(1).lower().split()))
        if key is not None and key not in found and match.group(2):
            found[key] = match.group(2)
    return found


def _aligned(text: str | None) -> bool | None:
    if text is None:
        return None
    return text.strip().lower() in ("yes", "pass", "true", "aligned")


def from_plain_text(report_message: Message, text: str) -> FailureReport | None:
    """Best effort over "Key: value" lines; None when the text is not a failure report."""
    found = _plain_fields(text)
    if len(_PLAIN_EVIDENCE.intersection(found)) < 2:
        return None
    alignment = [
        name
        for name, key in (("dkim", "dkim_alignment"), ("spf", "spf_alignment"))
        if _aligned(found.get(key))
    ]
    has_alignment = "dkim_alignment" in found or "spf_alignment" in found
    dmarc_result = values.token(found.get("dmarc_result"))
    reported = values.domain(found.get("domain"))
    return FailureReport(
        reporter=reporter_of(report_message),
        feedback_type="auth-failure",
        arrival_date=values.mail_date(found.get("arrival_date")),
        source_ip=values.ip_address(found.get("source_ip")),
        reported_domain=reported,
        auth_failure="dmarc",
        delivery_result=_DMARC_TO_DELIVERY.get(dmarc_result or "", dmarc_result),
        dkim_domain=values.domain(found.get("dkim_domain")),
        dkim_selector=values.clean(found.get("dkim_selector")),
        identity_alignment=(",".join(alignment) or "none") if has_alignment else None,
        header_from=address_domain(found.get("from")) or reported,
        subject=values.clean(found.get("subject")),
        message_id=values.clean(found.get("message_id")),
    )
