"""What changed in a window against the window of the same length just before it: addresses
sending for the domain that sent nothing then, and addresses failing DMARC now that failed
nothing then (the overview's "what changed since the last period"; the monthly digest compares
calendar months by the same rules).

The period before is one more cut of the same roll-up scan (`compute.aggregate`), so knowing
it costs no second query: an address' volume in [cut_j, cut_i) is its volume from cut_j on
minus its volume from cut_i on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from todoke.dmarc.analyses.compute import AddressGroup, SourceView
from todoke.dmarc.analyses.windows import Window
from todoke.dmarc.shapes import AuthShape

#: how many of the largest new sources, new failures and failing sources are kept by rank
LISTED: Final = 10


@dataclass(frozen=True, slots=True)
class WindowChanges:
    previous_since: date
    previous_until: date
    #: addresses with mail in the window and none in the period before
    new_sources: int
    new_source_messages: int
    #: addresses with mail failing DMARC in the window and none failing in the period before
    new_failures: int
    new_failure_messages: int
    #: the largest of each, as ranks of the window's sources table (largest first)
    new_source_ranks: tuple[int, ...]
    new_failure_ranks: tuple[int, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "previous_since": self.previous_since.isoformat(),
            "previous_until": self.previous_until.isoformat(),
            "new_sources": self.new_sources,
            "new_source_messages": self.new_source_messages,
            "new_failures": self.new_failures,
            "new_failure_messages": self.new_failure_messages,
            "new_source_ranks": list(self.new_source_ranks),
            "new_failure_ranks": list(self.new_failure_ranks),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> WindowChanges:
        return cls(
            previous_since=date.fromisoformat(value["previous_since"]),
            previous_until=date.fromisoformat(value["previous_until"]),
            new_sources=int(value["new_sources"]),
            new_source_messages=int(value["new_source_messages"]),
            new_failures=int(value["new_failures"]),
            new_failure_messages=int(value["new_failure_messages"]),
            new_source_ranks=tuple(int(rank) for rank in value["new_source_ranks"]),
            new_failure_ranks=tuple(int(rank) for rank in value["new_failure_ranks"]),
        )


def most_failing(sources: Sequence[SourceView], count: int = LISTED) -> tuple[int, ...]:
    """Ranks of the `count` sources failing the most mail (ties: table order)."""
    failing = [
        (view.dmarc_pass - view.messages, rank)
        for rank, view in enumerate(sources, start=1)
        if view.messages > view.dmarc_pass
    ]
    return tuple(rank for _, rank in sorted(failing)[:count])


def previous_since(window: Window) -> date:
    """The first day of the period of the same length just before `window`."""
    return window.since - timedelta(days=window.days)


def _messages_from(values: tuple[int, ...], slot: int) -> int:
    # aggregate's layout: slot 0 holds messages only; later slots hold messages, then rows
    return values[0] if slot == 0 else values[2 * slot - 1]


def previous_volumes(
    groups: dict[str, AddressGroup],
    *,
    previous_slot: int,
    slot: int,
    shapes: dict[int, AuthShape],
) -> dict[str, tuple[int, int]]:
    """Per address: (messages, messages failing DMARC) from cut `previous_slot` up to the day
    before cut `slot`; addresses without mail then are left out."""
    found: dict[str, tuple[int, int]] = {}
    for ip, group in groups.items():
        messages = failing = 0
        for shape_id, values in group.entries:
            count = _messages_from(values, previous_slot) - _messages_from(values, slot)
            if count <= 0:
                continue
            messages += count
            shape = shapes[shape_id]
            if not (shape.spf_aligned or shape.dkim_aligned):
                failing += count
        if messages:
            found[ip] = (messages, failing)
    return found


def window_changes(
    window: Window, sources: Sequence[SourceView], previous: dict[str, tuple[int, int]]
) -> WindowChanges:
    """`sources` is the window's sources table (largest first, rank = index + 1)."""
    new_sources: list[tuple[int, int]] = []
    new_failures: list[tuple[int, int, int]] = []
    for rank, view in enumerate(sources, start=1):
        before = previous.get(view.source_ip)
        if view.messages and before is None:
            new_sources.append((rank, view.messages))
        failing = view.messages - view.dmarc_pass
        if failing > 0 and (before is None or before[1] == 0):
            new_failures.append((-failing, rank, failing))
    new_failures.sort()
    return WindowChanges(
        previous_since=previous_since(window),
        previous_until=window.since - timedelta(days=1),
        new_sources=len(new_sources),
        new_source_messages=sum(messages for _, messages in new_sources),
        new_failures=len(new_failures),
        new_failure_messages=sum(failing for *_, failing in new_failures),
        new_source_ranks=tuple(rank for rank, _ in new_sources[:LISTED]),
        new_failure_ranks=tuple(rank for _, rank, _ in new_failures[:LISTED]),
    )
