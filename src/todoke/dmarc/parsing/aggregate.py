"""DMARC aggregate reports (RFC 7489 Appendix C, RFC 9990, and the pre-RFC draft) from XML.

A typical report (up to xmlsafe.TREE_LIMIT) is parsed once into a tree, which is several
times faster than an event stream; a larger one is streamed: each <record> is turned into an
AggregateRecord and its element freed at once, so a 50,000-record report never exists as one
tree. Both read every document alike (tests/unit/dmarc_parsing/test_fast_paths.py). Field by
field the
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
from todoke.dmarc.parsing.aggregate_records import local, read_record, texts
from todoke.dmarc.parsing.errors import ParseRefused
from todoke.dmarc.parsing.xmlsafe import iter_ends, parse_tree, root_name, split_tag
from todoke.dmarc.report_types import (
    AggregateRecord,
    AggregateReport,
    AggregateSchema,
    PolicyPublished,
)
from todoke.i18n import N_

RFC9990_NAMESPACE = "urn:ietf:params:xml:ns:dmarc-2.0"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_TAGS = ("{*}report_metadata", "{*}policy_published", "{*}record", "{*}version")
#: elements RFC 9990 introduced; their presence marks a report as RFC 9990 even when the
#: reporter left out the namespace
_RFC9990_POLICY_FIELDS = frozenset({"np", "testing", "discovery_method"})
_MAX_WARNINGS = 100


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
            "report.missing_field",
            N_("The aggregate report has no value for <%(element)s>."),
            element=path,
        )
    return value


def _cleaned(element: etree._Element) -> dict[str, str | None]:
    return {name: values.clean(text) for name, text in texts(element).items()}


def _metadata(element: etree._Element) -> _Metadata:
    texts = _cleaned(element)
    date_range = _child(element, "date_range")
    if date_range is None:
        raise ParseRefused(
            "report.missing_field",
            N_("The aggregate report has no <%(element)s>."),
            element="report_metadata/date_range",
        )
    bounds = _cleaned(date_range)
    begin_text = _required(bounds.get("begin"), "report_metadata/date_range/begin")
    end_text = _required(bounds.get("end"), "report_metadata/date_range/end")
    begin, end = values.epoch(begin_text), values.epoch(end_text)
    if begin is None or end is None:
        bad = ("begin", begin_text) if begin is None else ("end", end_text)
        raise ParseRefused(
            "report.invalid_field",
            N_("<report_metadata/date_range/%(field)s> is %(value)r, not seconds since the epoch."),
            field=bad[0],
            value=bad[1][:40],
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
            "report.missing_field",
            N_("The aggregate report has no <%(element)s>."),
            element="policy_published/domain",
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


def _consume(element: etree._Element, state: _State) -> None:
    name = local(element.tag)
    if name == "record":
        state.record_index += 1
        record = read_record(element, state.record_index, state)
        if record is not None:
            if len(state.records) >= state.max_records:
                raise ParseRefused(
                    "report.too_many_records",
                    N_("The aggregate report has more than %(count)s records."),
                    count=state.max_records,
                )
            state.records.append(record)
    elif name == "report_metadata":
        state.metadata = _metadata(element)
    elif name == "policy_published":
        state.policy = _policy(element, state)
    elif name == "version":
        state.version = values.clean(element.text)


def _stream(data: bytes, state: _State) -> str | None:
    """Read a document too large (or too broken) for a tree as a stream of top-level elements,
    each freed once read; the root's namespace."""
    name, namespace = root_name(data)
    _require_feedback(name)
    root: etree._Element | None = None
    for element in iter_ends(data, _TAGS):
        parent = element.getparent()
        if root is None:
            root = element.getroottree().getroot()
        if parent is root:
            _consume(element, state)
            # Free what was read: this element's subtree and every sibling before it.
            element.clear()
            while element.getprevious() is not None:
                del root[0]
    return namespace


def _require_feedback(name: str) -> None:
    if name != "feedback":
        raise ParseRefused(
            "xml.wrong_root",
            N_(
                "The XML root element is <%(element)s>, not <feedback>; it is not a DMARC "
                "aggregate report."
            ),
            element=name[:60],
        )


def _schema(namespace: str | None, state: _State) -> AggregateSchema:
    metadata = state.metadata
    if namespace == RFC9990_NAMESPACE or state.rfc9990_fields or (metadata and metadata.generator):
        return "rfc9990"
    # RFC 7489 Appendix C added <version>; reports without it follow the earlier draft
    # (the layout parsedmarc also calls "draft").
    return "rfc7489" if state.version is not None else "draft"


def parse_aggregate(data: bytes, *, max_records: int) -> AggregateReport:
    state = _State(max_records=max_records)
    root = parse_tree(data)
    if root is None:
        namespace = _stream(data, state)
    else:
        name, namespace = split_tag(root.tag)
        _require_feedback(name)
        for element in root:
            _consume(element, state)
    if state.metadata is None:
        raise ParseRefused(
            "report.missing_field",
            N_("The aggregate report has no <%(element)s>."),
            element="report_metadata",
        )
    if state.policy is None:
        raise ParseRefused(
            "report.missing_field",
            N_("The aggregate report has no <%(element)s>."),
            element="policy_published",
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
