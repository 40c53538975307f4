"""Sources of a domain over one or more windows, classified: the computation behind the
sources table, the error patterns and the readiness, live or materialised.

One aggregate query reads `dmarc_source_day` once for the widest window, with a conditional sum
per narrower window ending on the same day, and joins what identification stored about each
address; Python then classifies each address per window (`dmarc.analysis`). Profiled on 10
million records (365,000 addresses in 90 days): looking the addresses up in `dmarc_source` in
chunks of IN lists cost more than the aggregate on PostgreSQL, so it is a join; the windows of
the worker share one scan of the roll-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Subquery, and_, case, cast, func, select
from sqlalchemy.orm import Session

from todoke.dmarc.analysis import Classification, classify_source
from todoke.dmarc.identification import identity_of
from todoke.dmarc.identify import Catalogue, NetworkIndex, OwnSource
from todoke.dmarc.models import DmarcShape, DmarcSource, DmarcSourceDay
from todoke.dmarc.shapes import AuthShape, SenderIdentity

IN_CHUNK = 5_000


@dataclass(slots=True)
class SourceView:
    """One sending address for one domain over a period."""

    source_ip: str
    ptr_name: str | None
    sender: SenderIdentity | None
    messages: int
    dmarc_pass: int
    spf_aligned: int
    dkim_aligned: int
    classification: Classification
    #: the shapes seen from this address, largest first (ties by shape id); `recent` volumes
    #: are in the last part of the period when the caller asked for a split (readiness: 14 of
    #: 30 days)
    shapes: list[tuple[AuthShape, int]] = field(default_factory=list)
    recent_messages: int = 0
    recent_pass: int = 0
    #: identification as stored for the address (`dmarc_source`), to notice it changing
    known_sender_key: str | None = None
    known_matched_by: str | None = None


class Known(NamedTuple):
    """What identification stored about an address (the columns dashboards read)."""

    ptr_name: str | None
    sender_key: str | None
    matched_by: str | None


#: (shape id, [messages in the widest window, then per narrower window: messages, rows])
Entry = tuple[int, tuple[int, ...]]


@dataclass(slots=True)
class AddressGroup:
    known: Known
    entries: list[Entry]


def shape_of_row(row: DmarcShape) -> AuthShape:
    return AuthShape(
        header_from=row.header_from,
        dkim_aligned=row.dkim_aligned,
        spf_aligned=row.spf_aligned,
        spf_domain=row.spf_domain,
        spf_result=row.spf_result,
        dkim_domain=row.dkim_domain,
        dkim_selector=row.dkim_selector,
        dkim_result=row.dkim_result,
        override=row.override,
        disposition=row.disposition,
    )


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def shapes_by_id(session: Session, ids: Iterable[int]) -> dict[int, AuthShape]:
    found: dict[int, AuthShape] = {}
    for chunk in _chunks(sorted(set(ids))):
        for row in session.scalars(select(DmarcShape).where(DmarcShape.id.in_(chunk))):
            found[row.id] = shape_of_row(row)
    return found


def cut_columns(ip: Any, shape_id: Any, day: Any, messages: Any, cuts: Sequence[date]) -> list[Any]:
    """The columns of an aggregate grouped by address and shape: messages over the whole
    range, then per later cut the messages and rows from that day on."""
    columns: list[Any] = [
        ip.label("ip"),
        shape_id.label("shape_id"),
        cast(func.sum(messages), BigInteger).label("m0"),
    ]
    for index, cut in enumerate(cuts[1:], start=1):
        inside = day >= cut
        columns.append(
            cast(func.sum(case((inside, messages), else_=0)), BigInteger).label(f"m{index}")
        )
        columns.append(func.sum(case((inside, 1), else_=0)).label(f"n{index}"))
    return columns


def read_groups(
    session: Session, *, org_id: int, grouped: Subquery, cuts: Sequence[date]
) -> dict[str, AddressGroup]:
    """The rows of an aggregate built with `cut_columns`, with what identification stored
    about each address."""
    source = DmarcSource
    query = select(grouped, source.ptr_name, source.sender_key, source.matched_by).outerjoin(
        source, and_(source.organisation_id == org_id, source.source_ip == grouped.c.ip)
    )
    width = 2 * len(cuts) - 1
    groups: dict[str, AddressGroup] = {}
    for row in session.connection().execute(query):
        group = groups.get(row[0])
        if group is None:
            group = groups[row[0]] = AddressGroup(Known(*row[-3:]), [])
        group.entries.append((row[1], tuple(int(value) for value in row[2 : 2 + width])))
    return groups


def aggregate(
    session: Session, *, org_id: int, domain: str, until: date, cuts: Sequence[date]
) -> dict[str, AddressGroup]:
    """Per address and shape: messages from `cuts[0]` to `until`, and for every later cut the
    messages and roll-up rows from that day on (rows, because a record may count 0 messages
    and still make its source appear)."""
    table = DmarcSourceDay
    columns = cut_columns(table.source_ip, table.shape_id, table.day, table.messages, cuts)
    grouped = (
        select(*columns)
        .where(
            table.organisation_id == org_id,
            table.domain == domain,
            table.day >= cuts[0],
            table.day <= until,
        )
        .group_by(table.source_ip, table.shape_id)
        .subquery()
    )
    return read_groups(session, org_id=org_id, grouped=grouped, cuts=cuts)


def analyse(
    groups: dict[str, AddressGroup],
    *,
    slot: int,
    recent_slot: int,
    shapes: dict[int, AuthShape],
    own: NetworkIndex[OwnSource],
    catalogue: Catalogue,
    senders: dict[str, SenderIdentity | None] | None = None,
) -> list[SourceView]:
    """The addresses seen in window `slot` (an index into the aggregate's cuts), classified,
    largest first; `recent_*` volumes come from window `recent_slot`. `senders` caches
    identities across calls on the same groups."""
    count_at = 2 * slot - 1 if slot else 0
    present_at = 2 * slot if slot else 0
    recent_at = 2 * recent_slot - 1 if recent_slot else 0
    senders = {} if senders is None else senders
    # Most addresses of a big domain are one-off spoofers with one shape and a message or two,
    # so the same classification input recurs thousands of times in one call; it is computed
    # once per distinct input (shape ids and counts, sender) and shared, Classification being
    # frozen.
    classified: dict[tuple[tuple[tuple[int, int], ...], SenderIdentity | None], Classification]
    classified = {}
    views = []
    for ip, group in groups.items():
        entries = [
            (shape_id, values[count_at], values[recent_at])
            for shape_id, values in group.entries
            if not present_at or values[present_at] > 0
        ]
        if not entries:
            continue
        if ip in senders:
            sender = senders[ip]
        else:
            sender = senders[ip] = identity_of(group.known, ip, own, catalogue)
        if len(entries) > 1:
            entries.sort(key=lambda entry: (-entry[1], entry[0]))
        key = (tuple((shape_id, count) for shape_id, count, _ in entries), sender)
        pairs = [(shapes[shape_id], count) for shape_id, count, _ in entries]
        classification = classified.get(key)
        if classification is None:
            classification = classified[key] = classify_source(pairs, sender)
        views.append(_view(ip, group.known, sender, pairs, entries, classification))
    views.sort(key=lambda view: (-view.messages, view.source_ip))
    return views


def _view(
    ip: str,
    known: Known,
    sender: SenderIdentity | None,
    pairs: list[tuple[AuthShape, int]],
    entries: list[tuple[int, int, int]],
    classification: Classification,
) -> SourceView:
    messages = passing = spf_aligned = dkim_aligned = recent_messages = recent_pass = 0
    for (shape, count), (_, _, recent) in zip(pairs, entries, strict=True):
        messages += count
        recent_messages += recent
        if shape.spf_aligned:
            spf_aligned += count
        if shape.dkim_aligned:
            dkim_aligned += count
        if shape.spf_aligned or shape.dkim_aligned:
            passing += count
            recent_pass += recent
    return SourceView(
        source_ip=ip,
        ptr_name=known.ptr_name,
        sender=sender,
        messages=messages,
        dmarc_pass=passing,
        spf_aligned=spf_aligned,
        dkim_aligned=dkim_aligned,
        classification=classification,
        shapes=pairs,
        recent_messages=recent_messages,
        recent_pass=recent_pass,
        known_sender_key=known.sender_key,
        known_matched_by=known.matched_by,
    )
