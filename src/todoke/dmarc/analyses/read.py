"""Reading a stored analysis: a page of the sources table (optionally filtered), the sources
readiness judges one by one, and the error patterns with their sources.

Pages are index ranges: the table's order is stored as `rank`, so page N without a filter is
a primary-key range, a classification filter walks `(analysis_id, kind, rank)` and an address
range `(analysis_id, ip_key)`; none depends on how many sources the domain has.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Executable, and_, bindparam, func, or_, select, text
from sqlalchemy.orm import Session

from todoke.dmarc.analyses.rows import AnalysedSource, ip_key, network_keys
from todoke.dmarc.analyses.tally import (
    AFFECTED_LISTED,
    AffectedSource,
    PatternTally,
)
from todoke.dmarc.analysis import (
    ClassificationKind,
    PatternId,
    SourceSummary,
)
from todoke.dmarc.analysis.classify import ClassificationRule
from todoke.dmarc.models import DmarcAnalysedSource
from todoke.dmarc.models import DmarcSourceAnalysis as Header
from todoke.dmarc.shapes import AuthShape, MatchedBy, SenderCategory, SenderIdentity

ResultFilter = Literal["pass", "fail"]
_MaybePattern = PatternId | None
_ROW = DmarcAnalysedSource
_SENDER_COLUMNS = (
    _ROW.sender_key, _ROW.sender_name, _ROW.sender_name_ja, _ROW.sender_category,
    _ROW.sender_matched_by, _ROW.sender_tags,
)  # fmt: skip
_COLUMNS = (
    _ROW.rank, _ROW.source_ip, _ROW.ptr_name, *_SENDER_COLUMNS, _ROW.messages, _ROW.dmarc_pass,
    _ROW.spf_aligned, _ROW.dkim_aligned, _ROW.kind, _ROW.rule, _ROW.dominant_pattern,
    _ROW.recent_messages, _ROW.recent_pass,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SourceFilter:
    """Which sources a page lists; None everywhere lists them all."""

    kind: ClassificationKind | None = None
    #: "fail": sources with mail failing DMARC; "pass": sources whose mail all passed
    result: ResultFilter | None = None
    #: an address or CIDR range ("203.0.113.0/24", "2001:db8::/32")
    network: str | None = None
    #: a tag of the organisation's registered sources
    tag: str | None = None

    @property
    def empty(self) -> bool:
        return self == SourceFilter()


def find_analysis(session: Session, *, org_id: int, domain: str, days: int) -> Header | None:
    """The current analysis of the window: the newest one completely written."""
    return session.scalar(
        select(Header)
        .where(
            Header.organisation_id == org_id,
            Header.domain == domain,
            Header.window_days == days,
            Header.ready.is_(True),
        )
        .order_by(Header.id.desc())
        .limit(1)
    )


def _sender(values: Sequence[Any]) -> SenderIdentity | None:
    if values[0] is None:
        return None
    key, name, name_ja, category, matched_by, tags = values
    return _identity(key, name, name_ja, category, matched_by, tuple(tags or ()))


@lru_cache(maxsize=4096)
def _identity(
    key: str, name: str, name_ja: str, category: str, matched_by: str, tags: tuple[str, ...]
) -> SenderIdentity:
    # A few senders stand behind thousands of rows; SenderIdentity is frozen, so one is shared.
    return SenderIdentity(
        key=key,
        name=name,
        name_ja=name_ja,
        category=cast(SenderCategory, category),
        matched_by=cast(MatchedBy, matched_by),
        tags=tags,
    )


def _source(row: Sequence[Any]) -> AnalysedSource:
    return AnalysedSource(
        rank=row[0],
        source_ip=row[1],
        ptr_name=row[2],
        sender=_sender(row[3:9]),
        messages=int(row[9]),
        dmarc_pass=int(row[10]),
        spf_aligned=int(row[11]),
        dkim_aligned=int(row[12]),
        kind=cast(ClassificationKind, row[13]),
        rule=cast(ClassificationRule, row[14]),
        dominant_pattern=cast(_MaybePattern, row[15]),
        recent_messages=int(row[16]),
        recent_pass=int(row[17]),
    )


def _rows(session: Session, query: Executable) -> Sequence[Any]:
    # Core execution on the session's connection: these are plain column tuples, and the ORM
    # result machinery cost more than the query for a few thousand of them.
    return session.connection().execute(query).all()


def _has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        clause = text("dmarc_analysed_source.sender_tags @> CAST(:tag_json AS JSONB)")
        return clause.bindparams(bindparam("tag_json", _json_list(tag)))  # type: ignore[return-value]
    clause = text(
        "EXISTS (SELECT 1 FROM json_each(dmarc_analysed_source.sender_tags) AS t "
        "WHERE t.value = :tag)"
    )
    return clause.bindparams(bindparam("tag", tag))  # type: ignore[return-value]


def _json_list(value: str) -> str:
    return json.dumps([value], ensure_ascii=False)


def _conditions(session: Session, header: Header, wanted: SourceFilter) -> list[Any]:
    conditions: list[Any] = [_ROW.analysis_id == header.id]
    if wanted.kind is not None:
        conditions.append(_ROW.kind == wanted.kind)
    if wanted.result == "fail":
        conditions.append(_ROW.dmarc_fail > 0)
    elif wanted.result == "pass":
        conditions.append(_ROW.dmarc_fail <= 0)
    if wanted.network is not None:
        ranges = network_keys(wanted.network)
        conditions.append(
            or_(*(and_(_ROW.ip_key >= first, _ROW.ip_key <= last) for first, last in ranges))
        )
    if wanted.tag is not None:
        conditions.append(_has_tag(session, wanted.tag))
    return conditions


def stored_page(
    session: Session,
    header: Header,
    *,
    page: int,
    per_page: int,
    wanted: SourceFilter = SourceFilter(),
) -> tuple[int, list[AnalysedSource]]:
    """(how many sources match, the sources of page `page`, 1-based)."""
    first = (page - 1) * per_page
    query = select(*_COLUMNS)
    if wanted.empty:
        total = header.sources
        query = query.where(
            _ROW.analysis_id == header.id, _ROW.rank > first, _ROW.rank <= first + per_page
        )
    else:
        conditions = _conditions(session, header, wanted)
        if wanted == SourceFilter(kind=wanted.kind):
            total = int(header.kinds.get(str(wanted.kind), {}).get("sources", 0))
        else:
            total = int(session.scalar(select(func.count()).where(*conditions)) or 0)
        query = query.where(*conditions).offset(first).limit(per_page)
    rows = _rows(session, query.order_by(_ROW.rank))
    return total, [_source(row) for row in rows]


def stored_ranks(session: Session, header: Header, ranks: Sequence[int]) -> list[AnalysedSource]:
    """The rows of these ranks, in the order given (primary-key lookups)."""
    if not ranks:
        return []
    rows = _rows(
        session, select(*_COLUMNS).where(_ROW.analysis_id == header.id, _ROW.rank.in_(ranks))
    )
    by_rank = {int(row[0]): _source(row) for row in rows}
    return [by_rank[rank] for rank in ranks if rank in by_rank]


def stored_listed(header: Header) -> list[SourceSummary]:
    """The failing sources readiness lists one by one (condensed), stored with the analysis."""
    return [
        SourceSummary(
            source=entry["source"],
            kind=entry["kind"],
            sender=_sender_from_json(entry["sender"]),
            messages=int(entry["messages"]),
            passing=int(entry["passing"]),
            dominant_pattern=entry["dominant_pattern"],
            sources=int(entry["sources"]),
        )
        for entry in header.readiness["listed"]
    ]


def _sender_from_json(value: dict[str, Any] | None) -> SenderIdentity | None:
    if value is None:
        return None
    return SenderIdentity(**{**value, "tags": tuple(value.get("tags") or ())})


def stored_tallies(header: Header) -> list[PatternTally]:
    """The error patterns as `tally_patterns` gave them when the analysis was computed."""
    tallies = []
    for entry in header.patterns:
        affected = [
            AffectedSource(ip, _sender_from_json(sender), count)
            for ip, sender, count in entry["affected"]
        ]
        senders = tuple(filter(None, map(_sender_from_json, entry["senders"])))
        tallies.append(_tally(entry, affected, senders))
    return tallies


def _tally(
    entry: dict[str, Any], sources: list[AffectedSource], senders: tuple[SenderIdentity, ...]
) -> PatternTally:
    return PatternTally(
        pattern_id=entry["pattern"],
        messages=int(entry["messages"]),
        sources=sources[:AFFECTED_LISTED],
        example_shape=AuthShape(**entry["example_shape"]),
        example_sender=_sender_from_json(entry["example_sender"]),
        source_count=int(entry["sources"]),
        senders=senders,
    )


def matcher(wanted: SourceFilter) -> Callable[[AnalysedSource], bool]:
    """The filter as a predicate, for sources computed live (the same rules as the SQL)."""
    ranges = network_keys(wanted.network) if wanted.network is not None else None

    def matches(source: AnalysedSource) -> bool:
        if wanted.kind is not None and source.kind != wanted.kind:
            return False
        if wanted.result == "fail" and source.dmarc_fail <= 0:
            return False
        if wanted.result == "pass" and source.dmarc_fail > 0:
            return False
        if ranges is not None:
            key = ip_key(source.source_ip)
            if key is None or not any(first <= key <= last for first, last in ranges):
                return False
        return wanted.tag is None or (
            source.sender is not None and wanted.tag in source.sender.tags
        )

    return matches
