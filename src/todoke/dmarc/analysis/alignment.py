"""Identifier alignment: does an authenticated domain speak for the header-From domain?

DMARC passes only when SPF or DKIM passes *for a domain aligned with the RFC 5322 From domain*
(RFC 7489 §3.1, kept by RFC 9989). Relaxed mode (the default, `adkim=r` / `aspf=r`)
accepts any domain with the same organisational domain; strict mode wants the exact name.

The organisational domain comes from the Public Suffix List, as RFC 7489 §3.2 defines it.
RFC 9989 replaced the list with a DNS tree walk; analysis here is pure (no DNS), and the list
gives the same answer for every registrable domain a small organisation uses. Receivers that
walk the tree report it in `discovery_method`; their verdicts in the report stay authoritative,
this module only explains them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from publicsuffixlist import PublicSuffixList

from todoke.dmarc.shapes import AuthShape

AlignmentMode = Literal["r", "s"]
Mechanism = Literal["spf", "dkim"]
IdentifierSituation = Literal[
    "aligned_pass", "missing", "other_domain", "strict_mismatch", "failed"
]


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # Building the list parses ~10,000 rules (about 0.1 s); one instance serves every call.
    return PublicSuffixList()


def _normalise(domain: str) -> str:
    return domain.strip().rstrip(".").lower()


@lru_cache(maxsize=4096)
def organizational_domain(domain: str) -> str:
    """The registrable domain (`mail.example.co.jp` -> `example.co.jp`).

    A public suffix itself, or a name the list cannot place, is its own organisational domain,
    so two different suffixes never align by accident.
    """
    name = _normalise(domain)
    return _psl().privatesuffix(name) or name


def aligned(identifier_domain: str | None, header_from: str, mode: AlignmentMode = "r") -> bool:
    """Whether an SPF or DKIM identifier aligns with the header-From domain in `mode`."""
    if not identifier_domain or not header_from:
        return False
    identifier = _normalise(identifier_domain)
    author = _normalise(header_from)
    if mode == "s":
        return identifier == author
    return organizational_domain(identifier) == organizational_domain(author)


@dataclass(frozen=True, slots=True)
class IdentifierCheck:
    """One mechanism's evidence in a shape, as a person would read it."""

    mechanism: Mechanism
    #: the domain SPF checked or DKIM's d= domain; None when the reporter gave none
    domain: str | None
    #: the raw result (pass, fail, softfail, none, ...); None when not reported
    result: str | None
    #: the receiver's alignment verdict for this mechanism (policy_evaluated)
    aligned_pass: bool
    #: whether `domain` aligns with the header-From domain in relaxed mode
    same_organisation: bool

    @property
    def passed(self) -> bool:
        return self.result == "pass"

    @property
    def situation(self) -> IdentifierSituation:
        if self.aligned_pass:
            return "aligned_pass"
        if self.domain is None or self.result in (None, "none"):
            return "missing"
        if self.passed:
            # Relaxed-aligned but not aligned per the receiver: the record asks for strict mode.
            return "strict_mismatch" if self.same_organisation else "other_domain"
        return "failed"


def explain_shape(shape: AuthShape) -> tuple[IdentifierCheck, IdentifierCheck]:
    """SPF's and DKIM's evidence in a shape, ready for `describe_check` or a table row."""
    spf = IdentifierCheck(
        mechanism="spf",
        domain=shape.spf_domain,
        result=shape.spf_result,
        aligned_pass=shape.spf_aligned,
        same_organisation=aligned(shape.spf_domain, shape.header_from),
    )
    dkim = IdentifierCheck(
        mechanism="dkim",
        domain=shape.dkim_domain,
        result=shape.dkim_result,
        aligned_pass=shape.dkim_aligned,
        same_organisation=aligned(shape.dkim_domain, shape.header_from),
    )
    return spf, dkim
