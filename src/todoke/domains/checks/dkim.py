"""DKIM section of the domain check: the keys published at `<selector>._domainkey.<domain>`.

DNS cannot list a domain's selectors (a name is found only by asking for it), so the section
asks the selectors the user named and the ones common signers use (`context.selectors`), all
at once over the shared cache. A selector the user named must exist; a common one that is
absent says nothing. A CNAME to an ESP's key is followed by the resolver.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Final

from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.dkim_keys import key_findings
from todoke.domains.checks.findings import Finding, Status, Value
from todoke.domains.dkim_record import DkimKeyRecord, DkimRecordError, KeyType, parse_key_record
from todoke.domains.spf.lookup import DnsLookupError, InvalidDomainName, query_name

#: Every finding this section emits and the values it fills, for the message-file tests.
FINDINGS: Final[dict[str, frozenset[str]]] = {
    "key_found": frozenset({"selector", "name", "key_type", "bits"}),
    "no_key": frozenset({"domain", "count", "selectors"}),
    "selector_missing": frozenset({"selector", "name"}),
    "selector_invalid": frozenset({"selector", "reason"}),
    "multiple_records": frozenset({"selector", "name", "count"}),
    "revoked": frozenset({"selector", "name"}),
    "syntax": frozenset({"selector", "name", "reason"}),
    "sha1_only": frozenset({"selector", "name", "algorithms"}),
    "rsa_weak": frozenset({"selector", "name", "bits"}),
    "rsa_1024": frozenset({"selector", "name"}),
    "rsa_short": frozenset({"selector", "name", "bits"}),
    "rsa_oversize": frozenset({"selector", "name", "bits"}),
    "rsa_pkcs1": frozenset({"selector", "name"}),
    "ed25519_only": frozenset({"selectors"}),
    "testing": frozenset({"selector", "name"}),
    "strict": frozenset({"selector", "name"}),
    "dns_error": frozenset({"name", "rdtype", "reason"}),
}

# A TXT record that looks meant as a key record. At a common selector, other TXT data is
# someone's wildcard (`*.example.jp TXT "v=spf1 ..."`), not a key, and is not reported.
_KEY_HINT = re.compile(rb"(?:^|;)[ \t\r\n]*(?:v[ \t]*=[ \t]*DKIM1|[pk][ \t\r\n]*=)")
# RFC 6376 §3.1 selectors are dot-separated sub-domains; underscores are tolerated because
# DNS allows them and some signers use them.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_SELECTOR = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\Z")
_EVIDENCE_LIMIT: Final = 2048


@dataclass(frozen=True)
class _Selector:
    """What DNS holds at one selector's name."""

    selector: str
    name: str
    user_named: bool
    #: the TXT records that look like key records, strings joined (RFC 6376 §3.6.2.2)
    records: tuple[bytes, ...] = ()
    #: TXT records beside them that do not
    others: int = 0
    problem: Finding | None = None


@dataclass(frozen=True)
class _Parsed:
    selector: _Selector
    evidence: tuple[str, ...]
    record: DkimKeyRecord | None = None
    error: DkimRecordError | None = None


async def check(context: CheckContext) -> list[Finding]:
    named = frozenset(name.strip().lower() for name in context.options.selectors if name.strip())
    selectors = await asyncio.gather(
        *(_lookup(context, selector, selector in named) for selector in context.selectors)
    )
    parsed = [_parse(item, data) for item in selectors for data in item.records]
    usable = [item for item in parsed if item.record and not item.record.revoked]
    findings: list[Finding] = []
    for item in selectors:
        findings += _selector_findings(item, parsed, usable_elsewhere=bool(usable))
    findings += _summary(context, selectors, usable, named)
    return findings


async def _lookup(context: CheckContext, selector: str, user_named: bool) -> _Selector:
    name = f"{selector}._domainkey.{context.domain}"
    reason = _invalid(selector, name)
    if reason is not None:
        invalid = Finding(
            "dkim.selector_invalid", Status.WARN, {"selector": selector, "reason": reason}
        )
        return _Selector(selector, name, user_named, problem=invalid)
    try:
        answer = await context.dns.txt(name)
    except DnsLookupError as error:
        values = {"name": error.name, "rdtype": error.rdtype, "reason": str(error)}
        return _Selector(
            selector, name, user_named, problem=Finding("dkim.dns_error", Status.WARN, values)
        )
    keys = tuple(data for data in answer.values if user_named or _KEY_HINT.search(data))
    return _Selector(selector, name, user_named, keys, len(answer.values) - len(keys))


def _invalid(selector: str, name: str) -> str | None:
    """Why `selector` cannot be looked up, or None when it can."""
    if not _SELECTOR.match(selector):
        return "a selector is DNS labels of letters, digits and hyphens joined by dots"
    try:
        query_name(name)
    except InvalidDomainName as error:
        return str(error)
    return None


def _parse(item: _Selector, data: bytes) -> _Parsed:
    evidence = (f"{item.name} TXT {_display(data)}",)
    try:
        return _Parsed(item, evidence, record=parse_key_record(data))
    except DkimRecordError as error:
        return _Parsed(item, evidence, error=error)


def _selector_findings(
    item: _Selector, parsed: list[_Parsed], *, usable_elsewhere: bool
) -> list[Finding]:
    if item.problem is not None:
        return [item.problem]
    values = {"selector": item.selector, "name": item.name}
    if not item.records:
        if item.user_named:
            return [Finding("dkim.selector_missing", Status.FAIL, values)]
        return []
    found: list[Finding] = []
    if len(item.records) + item.others > 1:
        # RFC 6376 §3.6.2.2 leaves the choice to the verifier; OpenDKIM refuses them all
        # (DKIM_SIGERROR_MULTIREPLY).
        count = len(item.records) + item.others
        found.append(Finding("dkim.multiple_records", Status.WARN, {**values, "count": count}))
    for entry in (entry for entry in parsed if entry.selector is item):
        if entry.error is not None:
            reason = {"reason": entry.error.message}
            found.append(Finding("dkim.syntax", Status.FAIL, values | reason, entry.evidence))
        elif entry.record is not None and entry.record.revoked:
            # A revoked key beside working ones is a finished rotation; alone, or at a
            # selector the user expects to sign with, it is a problem.
            quiet = usable_elsewhere and not item.user_named
            status = Status.INFO if quiet else Status.WARN
            found.append(Finding("dkim.revoked", status, values, entry.evidence))
        elif entry.record is not None:
            found += key_findings(item.selector, item.name, entry.record, entry.evidence)
    return found


def _summary(
    context: CheckContext,
    selectors: list[_Selector],
    usable: list[_Parsed],
    named: frozenset[str],
) -> list[Finding]:
    if any(item.records for item in selectors):
        if usable and all(_is_ed25519(item.record) for item in usable):
            # RFC 8463 §5 has signers sign with RSA too while verifiers catch up: one that
            # does not know the algorithm ignores the signature (RFC 6376 §6.1.1).
            with_key = ", ".join(dict.fromkeys(item.selector.selector for item in usable))
            return [Finding("dkim.ed25519_only", Status.INFO, {"selectors": with_key})]
        return []
    asked = [item for item in selectors if item.problem is None]
    if named or (selectors and not asked):
        # Named selectors that are missing are failures of their own, and when every lookup
        # failed "nothing found" would not be true.
        return []
    values: dict[str, Value] = {
        "domain": context.domain,
        "count": len(asked),
        "selectors": ", ".join(item.selector for item in asked),
    }
    return [Finding("dkim.no_key", Status.WARN, values, tuple(item.name for item in asked))]


def _is_ed25519(record: DkimKeyRecord | None) -> bool:
    return record is not None and record.key_type is KeyType.ED25519


def _display(data: bytes) -> str:
    """The record as a person can read it: control characters escaped, length bounded."""
    text = data.decode("utf-8", "replace")
    shown = "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)
    if len(shown) > _EVIDENCE_LIMIT:
        return shown[:_EVIDENCE_LIMIT] + "…"
    return shown
