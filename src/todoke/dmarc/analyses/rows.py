"""A row of the sources table as pages, API and CLI show it, from a live view or a stored
analysis; and the address keys that make a CIDR filter an index range."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from ipaddress import IPv4Network

from todoke.dmarc.analyses.compute import SourceView
from todoke.dmarc.analysis import ClassificationKind, PatternId
from todoke.dmarc.analysis.classify import ClassificationRule
from todoke.dmarc.identify import parse_network
from todoke.dmarc.identify.networks import AnyNetwork
from todoke.dmarc.shapes import SenderIdentity

# RFC 4291 §2.5.5.2: an IPv4 address is keyed as its IPv4-mapped IPv6 form, so one key space
# holds both families and ::ffff:192.0.2.1 is the same source as 192.0.2.1.
_MAPPED = bytes(10) + b"\xff\xff"
_MAPPED_FIRST = int.from_bytes(_MAPPED + bytes(4), "big")
_MAPPED_LAST = _MAPPED_FIRST + 2**32 - 1


@dataclass(frozen=True, slots=True)
class AnalysedSource:
    """One source address of a domain over a period, classified."""

    #: position in the sources table: messages descending, then address
    rank: int
    source_ip: str
    ptr_name: str | None
    sender: SenderIdentity | None
    messages: int
    dmarc_pass: int
    spf_aligned: int
    dkim_aligned: int
    kind: ClassificationKind
    #: which rule of the classification decided `kind` (dmarc.analysis.classify)
    rule: ClassificationRule
    dominant_pattern: PatternId | None
    #: volumes of the last 14 days of the period (readiness)
    recent_messages: int
    recent_pass: int

    @property
    def dmarc_fail(self) -> int:
        return self.messages - self.dmarc_pass


def from_view(view: SourceView, rank: int) -> AnalysedSource:
    classification = view.classification
    return AnalysedSource(
        rank=rank,
        source_ip=view.source_ip,
        ptr_name=view.ptr_name,
        sender=view.sender,
        messages=view.messages,
        dmarc_pass=view.dmarc_pass,
        spf_aligned=view.spf_aligned,
        dkim_aligned=view.dkim_aligned,
        kind=classification.kind,
        rule=classification.rule,
        dominant_pattern=classification.dominant_pattern,
        recent_messages=view.recent_messages,
        recent_pass=view.recent_pass,
    )


def ip_key(ip: str) -> str | None:
    """32 hex digits of the address (IPv4 mapped into IPv6); None if `ip` is no address."""
    try:
        if ":" in ip:
            packed = socket.inet_pton(socket.AF_INET6, ip)
        else:
            packed = _MAPPED + socket.inet_pton(socket.AF_INET, ip)
    except (OSError, ValueError):
        return None
    return packed.hex()


def network_keys(cidr: str | AnyNetwork) -> tuple[tuple[str, str], ...]:
    """The `ip_key` ranges of a network ("192.0.2.0/24", "2001:db8::/32"), first and last key
    of each. An IPv6 network never holds an IPv4 address, as in identification
    (`NetworkIndex`): one containing the IPv4-mapped block is two ranges around it."""
    network = parse_network(cidr)
    first, last = int(network.network_address), int(network.broadcast_address)
    if isinstance(network, IPv4Network):
        return (_range(_MAPPED_FIRST + first, _MAPPED_FIRST + last),)
    ranges = []
    if first < _MAPPED_FIRST:
        ranges.append(_range(first, min(last, _MAPPED_FIRST - 1)))
    if last > _MAPPED_LAST:
        ranges.append(_range(max(first, _MAPPED_LAST + 1), last))
    return tuple(ranges)


def _range(first: int, last: int) -> tuple[str, str]:
    return f"{first:032x}", f"{last:032x}"
