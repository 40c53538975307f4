"""One aggregate <record> element -> AggregateRecord (RFC 7489 Appendix C, RFC 9990 section 4).

This is the innermost loop of report ingest (a mailbox provider's daily report holds thousands
of records), so it is written for speed: one pass over each container, tag names looked up in
a memo rather than split, normalised values memoised in ``values``, and no helper call per
child where an inline loop does. Field semantics are the same everywhere: the first occurrence
of a field wins, except <row>, where the last one does.
"""

from __future__ import annotations

from typing import Protocol

from lxml import etree

from todoke.dmarc.parsing import values
from todoke.dmarc.report_types import (
    AggregateRecord,
    DkimAuthResult,
    PolicyOverride,
    SpfAuthResult,
)

_LOCAL_NAMES: dict[object, str] = {}


class Warner(Protocol):
    """Where a record's warnings go (the report's bounded warning list)."""

    def warn(self, message: str) -> None: ...


def local(tag: object) -> str:
    """``{namespace}name`` -> ``name``, memoised: a report repeats a few dozen tags hundreds of
    thousands of times. Bounded, since a hostile file can invent endless tags. Hot loops read
    _LOCAL_NAMES first to skip the call."""
    if not isinstance(tag, str):
        return ""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL_NAMES) < 1024 and len(tag) < 200:
            _LOCAL_NAMES[tag] = name
    return name


def texts(element: etree._Element) -> dict[str, str | None]:
    """Child local name -> raw text (callers normalise), first occurrence wins."""
    found: dict[str, str | None] = {}
    names = _LOCAL_NAMES
    for child in element:
        name = names.get(child.tag) or local(child.tag)
        if name and name not in found:
            found[name] = child.text
    return found


_AuthResult = DkimAuthResult | SpfAuthResult
#: (kind, domain, selector or scope, result, human_result) as written -> normalised result;
#: the same few signatures and SPF domains recur in every record of a report
_AUTH_CACHE: dict[
    tuple[str, str | None, str | None, str | None, str | None], _AuthResult | None
] = {}


def _auth_entry(
    kind: str, key: tuple[str, str | None, str | None, str | None, str | None]
) -> _AuthResult | None:
    entry_domain, result = values.domain(key[1]), values.token(key[3])
    parsed: _AuthResult | None = None
    if entry_domain is not None and result is not None:
        human_result = values.clean(key[4])
        parsed = (
            DkimAuthResult(entry_domain, values.token(key[2]), result, human_result)
            if kind == "dkim"
            else SpfAuthResult(entry_domain, values.token(key[2]), result, human_result)
        )
    if len(_AUTH_CACHE) < 4096 and sum(len(text or "") for text in key) < 512:
        _AUTH_CACHE[key] = parsed
    return parsed


def _auth_results(
    containers: list[etree._Element], index: int, warner: Warner
) -> tuple[tuple[DkimAuthResult, ...], tuple[SpfAuthResult, ...]]:
    dkim: list[DkimAuthResult] = []
    spf: list[SpfAuthResult] = []
    names = _LOCAL_NAMES
    cache = _AUTH_CACHE
    for container in containers:
        for entry in container:
            kind = names.get(entry.tag) or local(entry.tag)
            if kind != "dkim" and kind != "spf":
                continue
            qualifier_name = "selector" if kind == "dkim" else "scope"
            domain = qualifier = result = human_result = None
            seen: set[str] = set()  # the first occurrence of a field wins
            for child in entry:
                name = names.get(child.tag) or local(child.tag)
                if name in seen:
                    continue
                seen.add(name)
                if name == "domain":
                    domain = child.text
                elif name == "result":
                    result = child.text
                elif name == qualifier_name:
                    qualifier = child.text
                elif name == "human_result":
                    human_result = child.text
            key = (kind, domain, qualifier, result, human_result)
            parsed = cache[key] if key in cache else _auth_entry(kind, key)
            if parsed is None:
                warner.warn(
                    f"record {index}: an auth_results/{kind} lacks domain or result; ignored"
                )
            elif isinstance(parsed, DkimAuthResult):
                dkim.append(parsed)
            else:
                spf.append(parsed)
    return tuple(dkim), tuple(spf)


def _row(
    row: etree._Element,
    fields: dict[str, str | None],
    evaluated: dict[str, str | None],
    reasons: list[etree._Element],
) -> None:
    """Fill row fields, policy_evaluated fields and reason elements in one pass over the row."""
    names = _LOCAL_NAMES
    for child in row:
        name = names.get(child.tag) or local(child.tag)
        if name == "policy_evaluated":
            for verdict in child:
                verdict_name = names.get(verdict.tag) or local(verdict.tag)
                if verdict_name == "reason":
                    reasons.append(verdict)
                elif verdict_name not in evaluated:
                    evaluated[verdict_name] = verdict.text
        elif name not in fields:
            fields[name] = child.text


def _overrides(reasons: list[etree._Element]) -> tuple[PolicyOverride, ...]:
    return tuple(
        PolicyOverride(
            type=values.token(found.get("type")) or "other",
            comment=values.clean(found.get("comment")),
        )
        for reason in reasons
        if (found := texts(reason))
    )


def _verdict(evaluated: dict[str, str | None], name: str, index: int, warner: Warner) -> str:
    verdict = values.token(evaluated.get(name))
    if verdict is not None:
        return verdict
    default = "none" if name == "disposition" else "fail"
    warner.warn(f"record {index}: policy_evaluated/{name} is missing; taken as {default}")
    return default


def read_record(element: etree._Element, index: int, warner: Warner) -> AggregateRecord | None:
    """The record numbered ``index`` (from 1), or None (with a warning) when a value that
    identifies it is unusable."""
    row_texts: dict[str, str | None] = {}
    evaluated: dict[str, str | None] = {}
    reasons: list[etree._Element] = []
    ids: dict[str, str | None] = {}
    auth: list[etree._Element] = []
    names = _LOCAL_NAMES
    for part in element:
        name = names.get(part.tag) or local(part.tag)
        if name == "row":
            # a later <row> replaces an earlier one entirely
            row_texts, evaluated, reasons = {}, {}, []
            _row(part, row_texts, evaluated, reasons)
        elif name == "auth_results":
            auth.append(part)
        elif (name == "identifiers" or name == "identities") and not ids:
            ids = texts(part)  # the pre-RFC draft said identities
    source_ip_text = row_texts.get("source_ip")
    source_ip = values.ip_address(source_ip_text)
    if source_ip is None:
        warner.warn(f"record {index}: source_ip {source_ip_text!r:.60} is not an IP; skipped")
        return None
    count_text = (row_texts.get("count") or "").strip()
    if not (count_text.isascii() and count_text.isdigit()):
        warner.warn(
            f"record {index}: count {count_text!r:.60} is not a non-negative integer; skipped"
        )
        return None
    header_from = values.domain(ids.get("header_from"))
    if header_from is None:
        warner.warn(f"record {index}: identifiers/header_from is missing; skipped")
        return None
    dkim, spf = _auth_results(auth, index, warner) if auth else ((), ())
    return AggregateRecord(
        source_ip=source_ip,
        count=int(count_text),
        disposition=_verdict(evaluated, "disposition", index, warner),
        dkim_aligned=_verdict(evaluated, "dkim", index, warner),
        spf_aligned=_verdict(evaluated, "spf", index, warner),
        header_from=header_from,
        envelope_from=values.domain(ids.get("envelope_from")),
        envelope_to=values.domain(ids.get("envelope_to")),
        overrides=_overrides(reasons) if reasons else (),
        dkim=dkim,
        spf=spf,
    )
