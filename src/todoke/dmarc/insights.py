"""Per-domain analyses from the roll-ups: sources with their classification, error patterns
with advice. Reads `dmarc_source_day` (never raw records), then applies the pure analysis of
`dmarc.analysis` to each source's shapes."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.dmarc.analysis import Advice, Classification, PatternId, advise, classify_source
from todoke.dmarc.analysis import pattern_of as _pattern_of
from todoke.dmarc.analysis.texts import as_locale
from todoke.dmarc.identification import identity_of, own_sources_index
from todoke.dmarc.identify import Catalogue, load_catalogue
from todoke.dmarc.models import DmarcShape, DmarcSource, DmarcSourceDay
from todoke.dmarc.queries import DEFAULT_PERIOD_DAYS, period
from todoke.dmarc.shapes import AuthShape, SenderIdentity

IN_CHUNK = 5_000


@dataclass
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
    #: the shapes seen from this address, largest first; `recent` volumes are in the last
    #: part of the period when the caller asked for a split (readiness: 14 of 30 days)
    shapes: list[tuple[AuthShape, int]] = field(default_factory=list)
    recent_messages: int = 0
    recent_pass: int = 0


def _shape(row: DmarcShape) -> AuthShape:
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


def _chunks(values: Sequence[str] | Sequence[int]) -> Iterable[Sequence[str] | Sequence[int]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _shapes_by_id(session: Session, ids: Sequence[int]) -> dict[int, AuthShape]:
    found: dict[int, AuthShape] = {}
    for chunk in _chunks(ids):
        for row in session.scalars(select(DmarcShape).where(DmarcShape.id.in_(chunk))):
            found[row.id] = _shape(row)
    return found


class _Known(NamedTuple):
    """What identification stored about an address (the columns dashboards read)."""

    ptr_name: str | None
    sender_key: str | None
    matched_by: str | None


def _sources_by_ip(session: Session, org: Organisation, ips: Sequence[str]) -> dict[str, _Known]:
    # Plain columns, not ORM objects: a big domain has hundreds of thousands of sources in a
    # quarter, and building an entity (with its UTC timestamp) per address cost more than the
    # query.
    found: dict[str, _Known] = {}
    source = DmarcSource
    for chunk in _chunks(ips):
        rows = session.execute(
            select(source.source_ip, source.ptr_name, source.sender_key, source.matched_by).where(
                source.organisation_id == org.id, source.source_ip.in_(chunk)
            )
        )
        found.update((ip, _Known(ptr, key, matched)) for ip, ptr, key, matched in rows)
    return found


def load_sources(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    since: date,
    until: date,
    recent_since: date | None = None,
    catalogue: Catalogue | None = None,
) -> list[SourceView]:
    """Every source of `domain` in [since, until], classified, largest first (no permission
    check: callers check)."""
    catalogue = catalogue or load_catalogue()
    recent_from = recent_since or since
    table = DmarcSourceDay
    recent = func.sum(case((table.day >= recent_from, table.messages), else_=0))
    rows = session.execute(
        select(table.source_ip, table.shape_id, func.sum(table.messages), recent)
        .where(
            table.organisation_id == org.id,
            table.domain == domain,
            table.day >= since,
            table.day <= until,
        )
        .group_by(table.source_ip, table.shape_id)
    ).all()
    shapes = _shapes_by_id(session, sorted({row[1] for row in rows}))
    per_ip: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for ip, shape_id, messages, recent_messages in rows:
        per_ip[ip].append((shape_id, int(messages), int(recent_messages)))
    known = _sources_by_ip(session, org, sorted(per_ip))
    own = own_sources_index(session, org.id)
    # Most addresses of a big domain are one-off spoofers with one shape and a message or two,
    # so the same classification input recurs thousands of times in one call; it is computed
    # once per distinct input (shape ids and counts, sender) and shared, Classification being
    # frozen.
    classified: dict[tuple[tuple[tuple[int, int], ...], SenderIdentity | None], Classification]
    classified = {}
    views = []
    for ip, entries in per_ip.items():
        stored = known.get(ip)
        sender = identity_of(stored, ip, own, catalogue)
        entries.sort(key=lambda entry: -entry[1])
        key = (tuple((shape_id, count) for shape_id, count, _ in entries), sender)
        pairs = [(shapes[shape_id], count) for shape_id, count, _ in entries]
        classification = classified.get(key)
        if classification is None:
            classification = classified[key] = classify_source(pairs, sender)
        views.append(_view(ip, stored, sender, pairs, entries, classification))
    views.sort(key=lambda view: (-view.messages, view.source_ip))
    return views


def _view(
    ip: str,
    stored: _Known | None,
    sender: SenderIdentity | None,
    pairs: list[tuple[AuthShape, int]],
    entries: list[tuple[int, int, int]],
    classification: Classification,
) -> SourceView:
    messages = passing = spf_aligned = dkim_aligned = recent_pass = 0
    for (shape, count), (_, _, recent) in zip(pairs, entries, strict=True):
        messages += count
        if shape.spf_aligned:
            spf_aligned += count
        if shape.dkim_aligned:
            dkim_aligned += count
        if shape.dmarc_pass:
            passing += count
            recent_pass += recent
    return SourceView(
        source_ip=ip,
        ptr_name=stored.ptr_name if stored else None,
        sender=sender,
        messages=messages,
        dmarc_pass=passing,
        spf_aligned=spf_aligned,
        dkim_aligned=dkim_aligned,
        classification=classification,
        shapes=pairs,
        recent_messages=sum(recent for _, _, recent in entries),
        recent_pass=recent_pass,
    )


def domain_sources(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
    until: date | None = None,
) -> tuple[date, date, list[SourceView]]:
    require(acting_user, "dmarc.view", org=org)
    start, end = period(session, since, until, DEFAULT_PERIOD_DAYS)
    domain = domain.lower().rstrip(".")
    return start, end, load_sources(session, org=org, domain=domain, since=start, until=end)


@dataclass
class AffectedSource:
    source_ip: str
    sender: SenderIdentity | None
    messages: int


@dataclass
class PatternView:
    pattern_id: PatternId
    messages: int
    sources: list[AffectedSource]
    advice: Advice
    #: the concrete fix for each known sender among the sources, in the asked language
    sender_fixes: list[tuple[str, str]]


def patterns_from_sources(
    sources: Sequence[SourceView], *, domain: str, locale: str, catalogue: Catalogue
) -> list[PatternView]:
    volumes: Counter[PatternId] = Counter()
    affected: dict[PatternId, Counter[str]] = defaultdict(Counter)
    example: dict[PatternId, tuple[int, AuthShape, SenderIdentity | None]] = {}
    senders = {view.source_ip: view.sender for view in sources}
    for view in sources:
        for shape, count in view.shapes:
            pattern = _pattern_of(shape, view.sender)
            if pattern is None:
                continue
            volumes[pattern] += count
            affected[pattern][view.source_ip] += count
            if pattern not in example or example[pattern][0] < count:
                example[pattern] = (count, shape, view.sender)
    views = []
    for pattern, messages in volumes.most_common():
        _, shape, sender = example[pattern]
        entry = catalogue.get(sender.key) if sender else None
        lang = as_locale(locale)
        fixes: dict[str, str] = {}
        for ip in affected[pattern]:
            known = senders[ip]
            known_entry = catalogue.get(known.key) if known else None
            if known and known_entry:
                name = known.name_ja if lang == "ja" else known.name
                fixes.setdefault(name, known_entry.fix(lang, domain))
        views.append(
            PatternView(
                pattern_id=pattern,
                messages=messages,
                sources=[
                    AffectedSource(ip, senders[ip], count)
                    for ip, count in affected[pattern].most_common()
                ],
                advice=advise(
                    pattern,
                    locale=lang,
                    domain=domain,
                    sender=sender,
                    shape=shape,
                    sender_fix=entry.fix(lang, domain) if entry else None,
                ),
                sender_fixes=sorted(fixes.items()),
            )
        )
    return views


def domain_patterns(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    locale: str,
    since: date | None = None,
    until: date | None = None,
) -> tuple[date, date, list[PatternView]]:
    """Every failing shape of the period grouped into its error pattern, with advice."""
    start, end, sources = domain_sources(
        session, org=org, domain=domain, acting_user=acting_user, since=since, until=until
    )
    catalogue = load_catalogue()
    domain = domain.lower().rstrip(".")
    return (
        start,
        end,
        patterns_from_sources(sources, domain=domain, locale=locale, catalogue=catalogue),
    )
