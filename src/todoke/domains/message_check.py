"""Authenticate one message as a receiver would: SPF, DKIM, ARC, DMARC, and which error
pattern applies, for the test-mail check (a mail sent to Todoke's receiver, or an uploaded .eml).

SPF is Todoke's own evaluator; DKIM and ARC signatures are verified by dkimpy (an independent,
widely used implementation) over keys fetched through Todoke's DNS cache, so a test sees the
same DNS as the rest of the product; DMARC discovery is the domain check's.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from ipaddress import ip_address
from typing import Final

import dkim
import dns.asyncresolver

from todoke.core.errors import InvalidInput
from todoke.dmarc.analysis.alignment import aligned
from todoke.dmarc.analysis.patterns import PatternId, pattern_of
from todoke.dmarc.shapes import AuthShape
from todoke.domains.checks.context import CheckContext, CheckOptions
from todoke.domains.checks.dmarc_discovery import DmarcPolicy, discover_policy
from todoke.domains.dkim_record import parse_tag_list
from todoke.domains.spf import SpfResult, check_mail_from
from todoke.domains.spf.lookup import DnsCache, DnsLookupError

MAX_MESSAGE_BYTES: Final = 10 * 2**20
# "from mail.example.jp (mail.example.jp [192.0.2.1])" or "[IPv6:2001:db8::1]"
_RECEIVED_FROM = re.compile(
    r"from\s+(?P<helo>\S+).*?\[(?:IPv6:)?(?P<ip>[0-9A-Fa-f:.]+)\]", re.DOTALL | re.IGNORECASE
)


@dataclass(frozen=True)
class Envelope:
    """What the receiving server saw: client address, HELO name, MAIL FROM."""

    client_ip: str
    helo: str
    mail_from: str


@dataclass(frozen=True)
class SignatureCheck:
    domain: str
    selector: str
    result: str  # pass, fail, permerror, temperror
    aligned: bool
    reason: str = ""


@dataclass(frozen=True)
class MessageVerdict:
    header_from: str
    envelope: Envelope
    envelope_from_domain: str
    spf: SpfResult
    spf_aligned: bool
    dkim: tuple[SignatureCheck, ...]
    arc: str  # none, pass, fail
    arc_reason: str
    policy: DmarcPolicy | None
    dmarc: str  # pass, fail, none (no policy)
    pattern: PatternId | None
    one_click_unsubscribe: bool
    list_unsubscribe: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _headers(data: bytes) -> Message:
    if not data.strip():
        raise InvalidInput("the message is empty")
    if len(data) > MAX_MESSAGE_BYTES:
        raise InvalidInput(f"the message is larger than {MAX_MESSAGE_BYTES // 2**20} MB")
    return BytesHeaderParser(policy=compat32).parsebytes(data)


def header_from_domain(message: Message) -> str:
    """The RFC5322.From domain; exactly one address is required (RFC 7489 §6.6.1)."""
    values = message.get_all("From") or []
    addresses = [address for _, address in getaddresses([str(v) for v in values]) if address]
    if len(values) != 1 or len(addresses) != 1 or "@" not in addresses[0]:
        raise InvalidInput(
            "the message must have exactly one From header with one address; "
            f"found {len(values)} From header(s) and {len(addresses)} address(es)"
        )
    return addresses[0].rsplit("@", 1)[1].strip().rstrip(".>").lower()


def envelope_from_headers(message: Message) -> Envelope:
    """The envelope of a saved message: Return-Path, and the client named by the topmost
    Received header (the one the final receiving server added)."""
    return_path = parseaddr(str(message.get("Return-Path", "")))[1]
    received = message.get_all("Received") or []
    for header in received:
        found = _RECEIVED_FROM.search(str(header))
        if found:
            try:
                ip_address(found["ip"])
            except ValueError:
                continue
            return Envelope(found["ip"], found["helo"].strip("()"), return_path)
    raise InvalidInput(
        "no Received header names the sending server's address; give it (--ip, --helo)"
    )


def _signature_keys(message: Message, header: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for value in message.get_all(header) or []:
        try:
            tags = parse_tag_list(re.sub(r"\s+", "", str(value)))
        except ValueError:
            continue
        domain, selector = tags.get("d", ""), tags.get("s", "")
        if domain and selector:
            found.append((domain.lower(), selector.lower()))
    return found


async def _key_records(dns: DnsCache, names: list[str]) -> dict[str, bytes | None]:
    async def one(name: str) -> bytes | None:
        try:
            answer = await dns.txt(name)
        except DnsLookupError:
            return None
        return answer.values[0] if answer.values else b""

    values = await asyncio.gather(*(one(name) for name in names))
    return dict(zip(names, values, strict=True))


def _dkim_checks(
    data: bytes, message: Message, keys: dict[str, bytes | None], header_from: str
) -> tuple[SignatureCheck, ...]:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:  # noqa: ARG001 - dkimpy's API
        return keys.get(name.decode().rstrip(".").lower())

    checks = []
    for index, (domain, selector) in enumerate(_signature_keys(message, "DKIM-Signature")):
        record = keys.get(f"{selector}._domainkey.{domain}")
        verifier = dkim.DKIM(data)
        try:
            ok = verifier.verify(idx=index, dnsfunc=lookup)
            result, reason = ("pass", "") if ok else ("fail", "the signature does not verify")
        except dkim.KeyFormatError as error:
            result, reason = "permerror", str(error)
        except dkim.ValidationError as error:
            # body hash mismatch, bad signature value: the signature does not verify (§6.1)
            result, reason = "fail", str(error)
        except dkim.DKIMException as error:
            result = "temperror" if record is None else "permerror"
            reason = str(error)
        checks.append(
            SignatureCheck(
                domain, selector, result, result == "pass" and aligned(domain, header_from), reason
            )
        )
    return tuple(checks)


def _arc(data: bytes, keys: dict[str, bytes | None]) -> tuple[str, str]:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:  # noqa: ARG001 - dkimpy's API
        return keys.get(name.decode().rstrip(".").lower())

    try:
        cv, _results, reason = dkim.ARC(data).verify(dnsfunc=lookup)
    except dkim.DKIMException as error:
        return "fail", str(error)
    return cv.decode(), str(reason or "")


async def check_message(
    data: bytes,
    *,
    resolver: dns.asyncresolver.Resolver,
    envelope: Envelope | None = None,
) -> MessageVerdict:
    """Authenticate `data` (a whole RFC 5322 message); `envelope` when the SMTP session is
    known, else it is read from the Return-Path and Received headers."""
    message = _headers(data)
    header_from = header_from_domain(message)
    envelope = envelope or envelope_from_headers(message)
    cache = DnsCache(resolver)
    signed = _signature_keys(message, "DKIM-Signature") + _signature_keys(
        message, "ARC-Message-Signature"
    )
    keys, spf, policy = await asyncio.gather(
        _key_records(cache, sorted({f"{s}._domainkey.{d}" for d, s in signed})),
        check_mail_from(
            envelope.client_ip, envelope.mail_from, helo=envelope.helo, resolver=resolver
        ),
        discover_policy(
            CheckContext(domain=header_from, dns=cache, options=CheckOptions()), header_from
        ),
    )
    signatures = _dkim_checks(data, message, keys, header_from)
    arc, arc_reason = _arc(data, keys) if message.get("ARC-Seal") else ("none", "")
    mode_spf = (policy.tags.get("aspf", "r") if policy else "r").lower()
    mode_dkim = (policy.tags.get("adkim", "r") if policy else "r").lower()
    spf_aligned = spf.result == "pass" and aligned(
        spf.domain, header_from, "s" if mode_spf == "s" else "r"
    )
    dkim_aligned = any(
        item.result == "pass"
        and aligned(item.domain, header_from, "s" if mode_dkim == "s" else "r")
        for item in signatures
    )
    best = next(
        (s for s in signatures if s.result == "pass"), signatures[0] if signatures else None
    )
    shape = AuthShape(
        header_from=header_from,
        dkim_aligned=dkim_aligned,
        spf_aligned=spf_aligned,
        spf_domain=spf.domain,
        spf_result=spf.result,
        dkim_domain=best.domain if best else None,
        dkim_selector=best.selector if best else None,
        dkim_result=best.result if best else None,
        override=None,
        disposition="none",
    )
    passed = spf_aligned or dkim_aligned
    unsubscribe = message.get("List-Unsubscribe")
    one_click = (
        str(message.get("List-Unsubscribe-Post", "")).strip().lower()
        == "list-unsubscribe=one-click"
    )
    return MessageVerdict(
        header_from=header_from,
        envelope=envelope,
        envelope_from_domain=spf.domain,
        spf=spf,
        spf_aligned=spf_aligned,
        dkim=signatures,
        arc=arc,
        arc_reason=arc_reason,
        policy=policy,
        dmarc="pass" if passed else ("fail" if policy else "none"),
        pattern=pattern_of(shape),
        one_click_unsubscribe=one_click and bool(unsubscribe) and "https:" in str(unsubscribe),
        list_unsubscribe=str(unsubscribe) if unsubscribe else None,
    )
