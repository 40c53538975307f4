"""Error patterns of a domain's sources: volumes and affected sources (language-free), then
the advice in the reader's language.

Volumes are the classification's (`Classification.pattern_volumes`: shapes with no messages
count for nothing). Order is part of the answer, and the same whether the sources come live or
from a stored analysis: patterns by failing messages, largest first; a pattern's sources by
its messages in it, largest first; equal volumes in the order the sources table lists them
(messages descending, then address) and, within a source, as its classification lists them.
The example shape a pattern's advice names is its largest single shape, the first in that order
(a source's shapes largest first, then by shape id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from todoke.dmarc.analyses.compute import SourceView
from todoke.dmarc.analysis import Advice, PatternId, advise, pattern_of
from todoke.dmarc.analysis.texts import as_locale
from todoke.dmarc.identify import Catalogue
from todoke.dmarc.shapes import AuthShape, SenderIdentity

#: affected sources kept per pattern, largest first; a big domain's spoofing pattern has a
#: hundred thousand, which no page should list (the sources table pages through them)
AFFECTED_LISTED: Final = 20


@dataclass(frozen=True, slots=True)
class AffectedSource:
    source_ip: str
    sender: SenderIdentity | None
    messages: int


@dataclass(frozen=True, slots=True)
class PatternTally:
    pattern_id: PatternId
    messages: int
    #: the AFFECTED_LISTED largest
    sources: list[AffectedSource]
    example_shape: AuthShape
    example_sender: SenderIdentity | None
    #: every affected source
    source_count: int
    #: the known senders among every affected source, in the order of the sources
    senders: tuple[SenderIdentity, ...]


@dataclass
class PatternView:
    pattern_id: PatternId
    messages: int
    #: the AFFECTED_LISTED largest
    sources: list[AffectedSource]
    source_count: int
    advice: Advice
    #: the concrete fix for each known sender among the sources, in the asked language
    sender_fixes: list[tuple[str, str]]


def tally_patterns(sources: Sequence[SourceView]) -> list[PatternTally]:
    volumes: dict[PatternId, int] = {}
    affected: dict[PatternId, list[AffectedSource]] = {}
    example: dict[PatternId, tuple[int, AuthShape, SenderIdentity | None]] = {}
    # Shapes are shared objects and senders few: one pattern_of per distinct pair.
    known: dict[tuple[int, SenderIdentity | None], PatternId | None] = {}
    for view in sources:
        if not view.classification.pattern_volumes:
            continue
        for pattern, count in view.classification.pattern_volumes:
            volumes[pattern] = volumes.get(pattern, 0) + count
            affected.setdefault(pattern, []).append(
                AffectedSource(view.source_ip, view.sender, count)
            )
        for shape, count in view.shapes:
            key = (id(shape), view.sender)
            if key not in known:
                known[key] = pattern_of(shape, view.sender)
            found = known[key]
            if found is not None and count > 0 and example.get(found, (0,))[0] < count:
                example[found] = (count, shape, view.sender)
    # sorted() is stable, so equal volumes keep the order they were first met in.
    tallies = []
    for pattern, messages in sorted(volumes.items(), key=lambda item: -item[1]):
        _, shape, sender = example[pattern]
        ordered = sorted(affected[pattern], key=lambda source: -source.messages)
        tallies.append(
            PatternTally(
                pattern_id=pattern,
                messages=messages,
                sources=ordered[:AFFECTED_LISTED],
                example_shape=shape,
                example_sender=sender,
                source_count=len(ordered),
                senders=known_senders(ordered),
            )
        )
    return tallies


def known_senders(sources: Sequence[AffectedSource]) -> tuple[SenderIdentity, ...]:
    found: dict[SenderIdentity, None] = {}
    for source in sources:
        if source.sender is not None:
            found.setdefault(source.sender, None)
    return tuple(found)


def advise_patterns(
    tallies: Sequence[PatternTally], *, domain: str, locale: str, catalogue: Catalogue
) -> list[PatternView]:
    lang = as_locale(locale)
    views = []
    for tally in tallies:
        sender = tally.example_sender
        entry = catalogue.get(sender.key) if sender else None
        fixes: dict[str, str] = {}
        for known in tally.senders:
            known_entry = catalogue.get(known.key)
            if known_entry:
                name = known.name_ja if lang == "ja" else known.name
                fixes.setdefault(name, known_entry.fix(lang, domain))
        views.append(
            PatternView(
                pattern_id=tally.pattern_id,
                messages=tally.messages,
                sources=list(tally.sources),
                source_count=tally.source_count,
                advice=advise(
                    tally.pattern_id,
                    locale=lang,
                    domain=domain,
                    sender=sender,
                    shape=tally.example_shape,
                    sender_fix=entry.fix(lang, domain) if entry else None,
                ),
                sender_fixes=sorted(fixes.items()),
            )
        )
    return views
