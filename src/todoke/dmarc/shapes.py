"""The vocabulary shared by storage, identification and analysis.

An aggregate record carries many details; what the dashboards, the classification and the error
patterns need of it is its *authentication shape*: who the mail claimed to be from, which SPF
and DKIM identities were checked with what result, and whether they aligned. Records with the
same shape from the same source on the same day are interchangeable, which is what makes the
roll-ups small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from todoke.dmarc.report_types import AggregateRecord, DkimAuthResult, SpfAuthResult

SenderCategory = Literal["mailbox_provider", "esp", "saas", "forwarder", "own"]
MatchedBy = Literal["own_source", "ptr", "spf_range"]


@dataclass(frozen=True, slots=True)
class AuthShape:
    """What one record says about authentication, reduced to the fields analysis reads."""

    header_from: str
    #: DMARC-aligned verdicts from the receiver's policy_evaluated
    dkim_aligned: bool
    spf_aligned: bool
    #: the domain SPF checked (MAIL FROM, else HELO) and its raw result; None if not reported
    spf_domain: str | None
    spf_result: str | None
    #: the signature that matters most: aligned pass, else any pass, else the first reported
    dkim_domain: str | None
    dkim_selector: str | None
    dkim_result: str | None
    #: the receiver's first policy override reason (forwarded, mailing_list, ...), if any
    override: str | None
    #: none, quarantine, reject — what the receiver did
    disposition: str

    @property
    def dmarc_pass(self) -> bool:
        return self.dkim_aligned or self.spf_aligned


@dataclass(frozen=True, slots=True)
class SenderIdentity:
    """Who a source address belongs to, as far as Todoke can tell."""

    #: catalogue key ("google", "sendgrid") or "own" for the organisation's registered sources
    key: str
    name: str
    name_ja: str
    category: SenderCategory
    matched_by: MatchedBy
    #: tags of the organisation's registered source that matched (own sources only)
    tags: tuple[str, ...] = ()


def _primary_spf(results: tuple[SpfAuthResult, ...]) -> SpfAuthResult | None:
    for result in results:
        if result.scope in (None, "mfrom"):
            return result
    return results[0] if results else None


def _primary_dkim(
    results: tuple[DkimAuthResult, ...], header_from: str, aligned: bool
) -> DkimAuthResult | None:
    passing = [result for result in results if result.result == "pass"]
    if aligned:
        # The exact-domain signature is the one that made DKIM align in the common case; a
        # relaxed match on a parent or child domain is the next best guess.
        for result in passing:
            if result.domain == header_from:
                return result
        for result in passing:
            if header_from.endswith("." + result.domain) or result.domain.endswith(
                "." + header_from
            ):
                return result
    if passing:
        return passing[0]
    return results[0] if results else None


ShapeKey = tuple[
    str, bool, bool, str | None, str | None, str | None, str | None, str | None, str | None, str
]


def shape_key(record: AggregateRecord) -> ShapeKey:
    """The fields of `shape_of(record)` as a plain tuple, in AuthShape's field order: ingest
    groups tens of thousands of records a second by it, and a tuple hashes far faster than a
    frozen dataclass."""
    dkim_aligned = record.dkim_aligned == "pass"
    spf = _primary_spf(record.spf)
    dkim = _primary_dkim(record.dkim, record.header_from, dkim_aligned)
    return (
        record.header_from,
        dkim_aligned,
        record.spf_aligned == "pass",
        spf.domain if spf else record.envelope_from,
        spf.result if spf else None,
        dkim.domain if dkim else None,
        dkim.selector if dkim else None,
        dkim.result if dkim else None,
        record.overrides[0].type if record.overrides else None,
        record.disposition,
    )


def shape_of(record: AggregateRecord) -> AuthShape:
    return AuthShape(*shape_key(record))
