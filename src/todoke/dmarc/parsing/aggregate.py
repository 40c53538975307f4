"""DMARC aggregate reports (RFC 7489 Appendix C, RFC 9990, and the pre-RFC draft) from XML.

The document is read as a stream: each <record> is turned into an AggregateRecord and its
element freed at once, so a 50,000-record report never exists as one tree. Field by field the
parser is lenient where reporters differ in harmless ways (case, whitespace, missing optional
fields, several <auth_results>) and strict where a value would be a guess: a record with an
unusable source_ip or count is skipped with a warning, and a report without the fields that
identify it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from todoke.dmarc.parsing import values
from todoke.dmarc.parsing.errors import ParseRefused
from todoke.dmarc.parsing.xmlsafe import iter_ends, root_name
from todoke.dmarc.report_types import (
    AggregateRecord,
    AggregateReport,
    AggregateSchema,
    DkimAuthResult,
    PolicyOverride,
    PolicyPublished,
    SpfAuthResult,
)

RFC9990_NAMESPACE = "urn:ietf:params:xml:ns:dmarc-2.0"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_TAGS = ("{*}report_metadata", "{*}policy_published", "{*}record", "{*}version")
#: elements RFC 9990 introduced; their presence marks a report as RFC 9990 even when the
#: reporter left out the namespace
_RFC9990_POLICY_FIELDS = frozenset({"np", "testing", "discovery_method"})
_MAX_WARNINGS = 100


_LOCAL_NAMES: dict[object, str] = {}


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


@dataclass(slots=True)
class _Metadata:
    org_name: str
    report_id: str
    begin: datetime
    end: datetime
    email: str | None
    extra_contact_info: str | None
    generator: str | None
    reporter_errors: list[str]
    xml_lang: str | None


@dataclass(slots=True)
class _State:
    max_records: int
    metadata: _Metadata | None = None
    policy: PolicyPublished | None = None
    version: str | None = None
    rfc9990_fields: bool = False
    records: list[AggregateRecord] = field(default_factory=list)
    record_index: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(message)
        elif len(self.warnings) == _MAX_WARNINGS:
            self.warnings.append("further warnings were left out")


def _texts(element: etree._Element) -> dict[str, str | None]:
    """Child local name -> raw text (callers normalise), first occurrence wins."""
    found: dict[str, str | None] = {}
    for child in element:
        name = _LOCAL_NAMES.get(child.tag) or local(child.tag)
        if name and name not in found:
            found[name] = child.text
    return found


def _children(element: etree._Element | None, name: str) -> list[etree._Element]:
    if element is None:
        return []
    return [child for child in element if local(child.tag) == name]


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _required(value: str | None, path: str) -> str:
    if value is None:
        raise ParseRefused(
            "report.missing_field", f"The aggregate report has no value for <{path}>."
        )
    return value


def _cleaned(element: etree._Element) -> dict[str, str | None]:
    return {name: values.clean(text) for name, text in _texts(element).items()}


def _metadata(element: etree._Element) -> _Metadata:
    texts = _cleaned(element)
    date_range = _child(element, "date_range")
    if date_range is None:
        raise ParseRefused(
            "report.missing_field", "The aggregate report has no <report_metadata/date_range>."
        )
    bounds = _cleaned(date_range)
    begin_text = _required(bounds.get("begin"), "report_metadata/date_range/begin")
    end_text = _required(bounds.get("end"), "report_metadata/date_range/end")
    begin, end = values.epoch(begin_text), values.epoch(end_text)
    if begin is None or end is None:
        bad = ("begin", begin_text) if begin is None else ("end", end_text)
        raise ParseRefused(
            "report.invalid_field",
            f"<report_metadata/date_range/{bad[0]}> is {bad[1][:40]!r}, not seconds since "
            "the epoch.",
        )
    # RFC 9990 allows xml:lang on the root and on free-text elements; the first one wins.
    parent = element.getparent()
    lang = parent.get(_XML_LANG) if parent is not None else None
    for descendant in element.iter():
        lang = lang or descendant.get(_XML_LANG)
    return _Metadata(
        org_name=_required(texts.get("org_name"), "report_metadata/org_name"),
        report_id=_required(texts.get("report_id"), "report_metadata/report_id"),
        begin=begin,
        end=end,
        email=texts.get("email"),
        extra_contact_info=texts.get("extra_contact_info"),
        generator=texts.get("generator"),
        reporter_errors=[
            text for error in _children(element, "error") if (text := values.clean(error.text))
        ],
        xml_lang=values.clean(lang),
    )


def _policy(element: etree._Element, state: _State) -> PolicyPublished:
    texts = _cleaned(element)
    state.rfc9990_fields = not _RFC9990_POLICY_FIELDS.isdisjoint(texts)
    policy_domain = values.domain(texts.get("domain"))
    if policy_domain is None:
        raise ParseRefused(
            "report.missing_field", "The aggregate report has no <policy_published/domain>."
        )
    pct: int | None = None
    if (pct_text := texts.get("pct")) is not None:
        try:
            pct = int(pct_text)
        except ValueError:
            state.warn(f"policy_published/pct {pct_text[:40]!r} is not an integer; ignored")
    p = values.token(texts.get("p"))
    if p is None:
        state.warn("policy_published has no <p>; taken as none")
    testing = values.token(texts.get("testing"))
    return PolicyPublished(
        domain=policy_domain,
        p=p or "none",
        sp=values.token(texts.get("sp")),
        np=values.token(texts.get("np")),
        adkim=values.token(texts.get("adkim")),
        aspf=values.token(texts.get("aspf")),
        pct=pct,
        fo=values.clean(texts.get("fo")),
        testing={"y": True, "n": False}.get(testing) if testing else None,
        discovery_method=values.token(texts.get("discovery_method")),
        psd=values.token(texts.get("psd")),
    )


_AuthResult = DkimAuthResult | SpfAuthResult
#: (kind, domain, selector or scope, result, human_result) as written -> normalised result;
#: the same few signatures and SPF domains recur in every record of a report
_AUTH_CACHE: dict[
    tuple[str, str | None, str | None, str | None, str | None], _AuthResult | None
] = {}


def _auth_entry(kind: str, entry: etree._Element) -> _AuthResult | None:
    texts = _texts(entry)
    qualifier = texts.get("selector" if kind == "dkim" else "scope")
    key = (kind, texts.get("domain"), qualifier, texts.get("result"), texts.get("human_result"))
    if key in _AUTH_CACHE:
        return _AUTH_CACHE[key]
    entry_domain, result = values.domain(key[1]), values.token(key[3])
    parsed: _AuthResult | None = None
    if entry_domain is not None and result is not None:
        human_result = values.clean(key[4])
        parsed = (
            DkimAuthResult(entry_domain, values.token(qualifier), result, human_result)
            if kind == "dkim"
            else SpfAuthResult(entry_domain, values.token(qualifier), result, human_result)
        )
    if len(_AUTH_CACHE) < 4096 and sum(len(text or "") for text in key) < 512:
        _AUTH_CACHE[key] = parsed
    return parsed


def _auth_results(
    containers: list[etree._Element], index: int, state: _State
) -> tuple[tuple[DkimAuthResult, ...], tuple[SpfAuthResult, ...]]:
    dkim: list[DkimAuthResult] = []
    spf: list[SpfAuthResult] = []
    for container in containers:
        for entry in container:
            kind = _LOCAL_NAMES.get(entry.tag) or local(entry.tag)
            if kind not in ("dkim", "spf"):
                continue
            parsed = _auth_entry(kind, entry)
            if isinstance(parsed, DkimAuthResult):
                dkim.append(parsed)
            elif isinstance(parsed, SpfAuthResult):
                spf.append(parsed)
            else:
                state.warn(
                    f"record {index}: an auth_results/{kind} lacks domain or result; ignored"
                )
    return tuple(dkim), tuple(spf)


def _row(
    row: etree._Element,
) -> tuple[dict[str, str | None], dict[str, str | None], list[etree._Element]]:
    """(row fields, policy_evaluated fields, reason elements) in one pass over the row."""
    fields: dict[str, str | None] = {}
    evaluated: dict[str, str | None] = {}
    reasons: list[etree._Element] = []
    for child in row:
        name = _LOCAL_NAMES.get(child.tag) or local(child.tag)
        if name == "policy_evaluated":
            for verdict in child:
                verdict_name = _LOCAL_NAMES.get(verdict.tag) or local(verdict.tag)
                if verdict_name == "reason":
                    reasons.append(verdict)
                elif verdict_name not in evaluated:
                    evaluated[verdict_name] = verdict.text
        elif name not in fields:
            fields[name] = child.text
    return fields, evaluated, reasons


def _overrides(reasons: list[etree._Element]) -> tuple[PolicyOverride, ...]:
    return tuple(
        PolicyOverride(
            type=values.token(texts.get("type")) or "other",
            comment=values.clean(texts.get("comment")),
        )
        for reason in reasons
        if (texts := _texts(reason))
    )


def _verdict(evaluated: dict[str, str | None], name: str, index: int, state: _State) -> str:
    verdict = values.token(evaluated.get(name))
    if verdict is not None:
        return verdict
    default = "none" if name == "disposition" else "fail"
    state.warn(f"record {index}: policy_evaluated/{name} is missing; taken as {default}")
    return default


def _record(element: etree._Element, state: _State) -> AggregateRecord | None:
    state.record_index += 1
    index = state.record_index
    row_texts: dict[str, str | None] = {}
    evaluated: dict[str, str | None] = {}
    reasons: list[etree._Element] = []
    ids: dict[str, str | None] = {}
    auth: list[etree._Element] = []
    for part in element:
        name = _LOCAL_NAMES.get(part.tag) or local(part.tag)
        if name == "row":
            row_texts, evaluated, reasons = _row(part)
        elif name in ("identifiers", "identities") and not ids:  # the draft said identities
            ids = _texts(part)
        elif name == "auth_results":
            auth.append(part)
    source_ip_text = row_texts.get("source_ip")
    source_ip = values.ip_address(source_ip_text)
    if source_ip is None:
        state.warn(f"record {index}: source_ip {source_ip_text!r:.60} is not an IP; skipped")
        return None
    count_text = (row_texts.get("count") or "").strip()
    if not (count_text.isascii() and count_text.isdigit()):
        state.warn(
            f"record {index}: count {count_text!r:.60} is not a non-negative integer; skipped"
        )
        return None
    header_from = values.domain(ids.get("header_from"))
    if header_from is None:
        state.warn(f"record {index}: identifiers/header_from is missing; skipped")
        return None
    dkim, spf = _auth_results(auth, index, state) if auth else ((), ())
    return AggregateRecord(
        source_ip=source_ip,
        count=int(count_text),
        disposition=_verdict(evaluated, "disposition", index, state),
        dkim_aligned=_verdict(evaluated, "dkim", index, state),
        spf_aligned=_verdict(evaluated, "spf", index, state),
        header_from=header_from,
        envelope_from=values.domain(ids.get("envelope_from")),
        envelope_to=values.domain(ids.get("envelope_to")),
        overrides=_overrides(reasons) if reasons else (),
        dkim=dkim,
        spf=spf,
    )


def _consume(element: etree._Element, root: etree._Element, state: _State) -> None:
    name = local(element.tag)
    if name == "record":
        record = _record(element, state)
        if record is not None:
            if len(state.records) >= state.max_records:
                raise ParseRefused(
                    "report.too_many_records",
                    f"The aggregate report has more than {state.max_records} records.",
                )
            state.records.append(record)
    elif name == "report_metadata":
        state.metadata = _metadata(element)
    elif name == "policy_published":
        state.policy = _policy(element, state)
    elif name == "version":
        state.version = values.clean(element.text)
    # Free what was read: this element's subtree and every sibling before it.
    element.clear()
    while element.getprevious() is not None:
        del root[0]


def _schema(namespace: str | None, state: _State) -> AggregateSchema:
    metadata = state.metadata
    if namespace == RFC9990_NAMESPACE or state.rfc9990_fields or (metadata and metadata.generator):
        return "rfc9990"
    # RFC 7489 Appendix C added <version>; reports without it follow the earlier draft
    # (the layout parsedmarc also calls "draft").
    return "rfc7489" if state.version is not None else "draft"


def parse_aggregate(data: bytes, *, max_records: int) -> AggregateReport:
    name, namespace = root_name(data)
    if name != "feedback":
        raise ParseRefused(
            "xml.wrong_root",
            f"The XML root element is <{name[:60]}>, not <feedback>; it is not a DMARC "
            "aggregate report.",
        )
    state = _State(max_records=max_records)
    root: etree._Element | None = None
    for element in iter_ends(data, _TAGS):
        parent = element.getparent()
        if root is None:
            root = element.getroottree().getroot()
        if parent is root:
            _consume(element, root, state)
    if state.metadata is None:
        raise ParseRefused("report.missing_field", "The aggregate report has no <report_metadata>.")
    if state.policy is None:
        raise ParseRefused(
            "report.missing_field", "The aggregate report has no <policy_published>."
        )
    metadata = state.metadata
    warnings = [f"reporter error: {text}" for text in metadata.reporter_errors] + state.warnings
    return AggregateReport(
        schema=_schema(namespace, state),
        org_name=metadata.org_name,
        report_id=metadata.report_id,
        begin=metadata.begin,
        end=metadata.end,
        policy=state.policy,
        records=state.records,
        email=metadata.email,
        extra_contact_info=metadata.extra_contact_info,
        generator=metadata.generator,
        errors=tuple(warnings),
        xml_lang=metadata.xml_lang,
    )
