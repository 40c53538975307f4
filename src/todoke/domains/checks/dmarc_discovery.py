"""Which DMARC record applies to a domain: its own, else its organisational domain's.

Two rules are in use. RFC 7489 §6.6.3 asks `_dmarc.<domain>` and then `_dmarc.<organisational
domain>`, the organisational domain coming from the Public Suffix List (§3.2). RFC 9989, which
obsoletes it, replaces the list with the DNS Tree Walk: ask the domain, then each parent up to
the top-level domain (a name of eight or more labels jumps to its last seven first, so at most
eight queries), stopping early at a record with psd=y or psd=n. The organisational domain is
then the psd=n domain, the domain just below a psd=y one, or else the shortest name with a
record; the policy is the domain's own record, else the organisational domain's, else the public
suffix domain's. Receivers follow one rule or the other, so `discover` computes both and the
check reports when they part.

All names of the walk are asked concurrently through the shared DNS cache; answers past the
point where the walk stops are ignored, DNS errors there included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from todoke.dmarc.analysis.alignment import organizational_domain
from todoke.domains.checks.context import CheckContext
from todoke.domains.dmarc_record import (
    DmarcRecord,
    Policy,
    is_dmarc_record,
    parse_dmarc_record,
)
from todoke.domains.spf.lookup import Answer, DnsCache, DnsLookupError, InvalidDomainName

#: RFC 9989 DNS Tree Walk: a name of eight or more labels is cut to this many after the first
#: query, which bounds the walk at eight queries.
WALK_SHORTENED_LABELS: Final = 7


@dataclass(frozen=True)
class DmarcPolicy:
    """The DMARC policy that applies to a domain, as receivers read it."""

    #: the TXT record as published
    record: str
    #: lower-case tag names -> values as written
    tags: Mapping[str, str]
    #: domain whose _dmarc record applies (the organisational domain when inherited)
    found_at: str
    organisational_domain: str
    #: none|quarantine|reject; "none" when p= is missing or invalid but rua= is usable
    p: Policy
    sp: Policy | None
    np: Policy | None
    #: 100 when absent
    pct: int
    #: t=y
    testing: bool


@dataclass(frozen=True)
class DmarcLookup:
    """What `_dmarc.<domain>` holds."""

    domain: str
    #: every TXT record there, strings joined, decoded (UTF-8, else Latin-1)
    texts: tuple[str, ...] = ()
    nxdomain: bool = False

    @property
    def name(self) -> str:
        return f"_dmarc.{self.domain}"

    @property
    def records(self) -> tuple[str, ...]:
        """The TXT records that start with v=DMARC1."""
        return tuple(text for text in self.texts if is_dmarc_record(text))

    @property
    def record(self) -> str | None:
        """The DMARC record, when there is exactly one; several are all discarded."""
        records = self.records
        return records[0] if len(records) == 1 else None

    @cached_property
    def parsed(self) -> DmarcRecord | None:
        record = self.record
        return None if record is None else parse_dmarc_record(record)


@dataclass(frozen=True)
class Discovery:
    domain: str
    #: the RFC 9989 walk in query order, the domain itself first, ending where the walk stopped
    walk: tuple[DmarcLookup, ...]
    #: RFC 9989 organisational domain (the domain itself when the walk found no record)
    organisational_domain: str
    #: RFC 9989: where the applying record was found, None when none applies
    policy_domain: str | None
    #: RFC 7489 §3.2 organisational domain, from the Public Suffix List
    psl_organisational_domain: str
    #: RFC 7489 §6.6.3: where the applying record was found, None when none applies
    psl_policy_domain: str | None
    #: lookups outside the walk (the PSL organisational domain when the walk stopped below it)
    others: tuple[DmarcLookup, ...] = ()

    @property
    def own(self) -> DmarcLookup:
        return self.walk[0]

    def lookup(self, domain: str) -> DmarcLookup | None:
        return next((item for item in (*self.walk, *self.others) if item.domain == domain), None)

    @property
    def policy_lookup(self) -> DmarcLookup | None:
        return None if self.policy_domain is None else self.lookup(self.policy_domain)

    @property
    def inherited(self) -> bool:
        return self.policy_domain is not None and self.policy_domain != self.domain


def walk_names(domain: str) -> tuple[str, ...]:
    """The names the RFC 9989 DNS Tree Walk asks, in order, when nothing stops it."""
    labels = domain.split(".")
    names = [domain]
    parent = labels[1:] if len(labels) <= WALK_SHORTENED_LABELS else labels[-WALK_SHORTENED_LABELS:]
    while parent:
        names.append(".".join(parent))
        parent = parent[1:]
    return tuple(names)


async def discover(context: CheckContext, domain: str) -> Discovery:
    """Both discoveries for `domain`; raises DnsLookupError when an answer that decides them
    could not be had."""
    domain = domain.rstrip(".").lower()
    names = walk_names(domain)
    psl_org = organizational_domain(domain)
    wanted = tuple(dict.fromkeys((*names, psl_org)))
    results = await asyncio.gather(
        *(_lookup(context.dns, name) for name in wanted), return_exceptions=True
    )
    answers = dict(zip(wanted, results, strict=True))
    walk: list[DmarcLookup] = []
    for name in names:
        walk.append(_answer(answers[name]))
        parsed = walk[-1].parsed
        if parsed is not None and parsed.psd in ("y", "n"):
            break
    organisational = _organisational_domain(domain, walk)
    others: tuple[DmarcLookup, ...] = ()
    psl_policy = walk[0].domain if walk[0].record is not None else None
    if not walk[0].records and psl_org != domain:
        # RFC 7489 §6.6.3 steps 3-5: only an empty answer sends the receiver to the
        # organisational domain; several records at the domain end discovery.
        org = next((item for item in walk if item.domain == psl_org), None)
        if org is None:
            org = _answer(answers[psl_org])
            others = (org,)
        psl_policy = org.domain if org.record is not None else None
    return Discovery(
        domain=domain,
        walk=tuple(walk),
        organisational_domain=organisational,
        policy_domain=_policy_domain(walk, organisational),
        psl_organisational_domain=psl_org,
        psl_policy_domain=psl_policy,
        others=others,
    )


async def discover_policy(context: CheckContext, domain: str) -> DmarcPolicy | None:
    """The DMARC policy that applies to `domain` (its own record, else its organisational
    domain's), or None when no valid record applies. Raises DnsLookupError on DNS failure.

    Discovery follows RFC 9989 (the DNS Tree Walk); `discover` also gives the RFC 7489 answer.
    """
    return policy_of(await discover(context, domain))


def policy_of(discovery: Discovery) -> DmarcPolicy | None:
    lookup = discovery.policy_lookup
    record = None if lookup is None else lookup.parsed
    if lookup is None or record is None or lookup.record is None:
        return None
    applied = applied_policies(record)
    if applied is None:
        return None
    p, sp, np = applied
    return DmarcPolicy(
        record=lookup.record,
        tags=record.tag_map,
        found_at=lookup.domain,
        organisational_domain=discovery.organisational_domain,
        p=p,
        sp=sp,
        np=np,
        pct=100 if record.pct is None else record.pct,
        testing=record.testing,
    )


def applied_policies(record: DmarcRecord) -> tuple[Policy, Policy | None, Policy | None] | None:
    """(p, sp, np) as receivers apply them, or None when they apply no DMARC at all.

    RFC 7489 §6.6.3 and RFC 9989 policy discovery: without a valid p=, or with an invalid sp= or
    np=, the record counts as p=none if rua= holds a usable URI and is ignored otherwise.
    """
    broken = (
        record.p is None
        or (record.has("sp") and record.sp is None)
        or (record.has("np") and record.np is None)
    )
    if record.p is not None and not broken:
        return record.p, record.sp, record.np
    if any(uri.valid for uri in record.rua):
        return "none", None, None
    return None


async def _lookup(dns: DnsCache, domain: str) -> DmarcLookup:
    try:
        answer: Answer[bytes] = await dns.txt(f"_dmarc.{domain}")
    except InvalidDomainName:
        return DmarcLookup(domain, nxdomain=True)
    return DmarcLookup(domain, tuple(_decode(text) for text in answer.values), answer.nxdomain)


def _decode(data: bytes) -> str:
    # DMARC text is ASCII; decoding as UTF-8 shows a full-width character as itself.
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _answer(result: DmarcLookup | BaseException) -> DmarcLookup:
    if isinstance(result, BaseException):
        raise result
    return result


def _organisational_domain(domain: str, walk: list[DmarcLookup]) -> str:
    """RFC 9989 "Identifier Alignment Evaluation": from the longest name to the shortest."""
    found = [(item.domain, item.parsed) for item in walk]
    with_records = [(name, record) for name, record in found if record is not None]
    for name, record in with_records:
        if record.psd == "n":
            return name
        if record.psd == "y" and name != domain:
            return _one_label_below(name, domain)
    return with_records[-1][0] if with_records else domain


def _one_label_below(ancestor: str, domain: str) -> str:
    labels = domain.split(".")
    return ".".join(labels[-(len(ancestor.split(".")) + 1) :])


def _policy_domain(walk: list[DmarcLookup], organisational: str) -> str | None:
    """RFC 9989 "DMARC Policy Discovery": the domain, its organisational domain, its PSD."""
    if walk[0].record is not None:
        return walk[0].domain
    by_domain = {item.domain: item for item in walk}
    org = by_domain.get(organisational)
    if org is not None and org.record is not None:
        return organisational
    for item in walk:
        parsed = item.parsed
        if parsed is not None and parsed.psd == "y":
            return item.domain
    return None


__all__ = [
    "Discovery",
    "DmarcLookup",
    "DmarcPolicy",
    "DnsLookupError",
    "applied_policies",
    "discover",
    "discover_policy",
    "policy_of",
    "walk_names",
]
