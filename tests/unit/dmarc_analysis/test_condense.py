"""Readiness lists the largest failing sources one by one and adds up the rest per kind:
the verdict, the volumes and the blocking sources must not change by it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from todoke.dmarc.analysis.classify import CLASSIFICATION_KINDS
from todoke.dmarc.analysis.readiness import (
    LISTED_BLOCKERS,
    SourceSummary,
    condense,
    find_blockers,
    legitimate_volumes,
)

summaries = st.lists(
    st.builds(
        lambda index, kind, messages, passing: SourceSummary(
            f"192.0.2.{index}", kind, None, messages, min(passing, messages)
        ),
        st.integers(0, 10_000),
        st.sampled_from(CLASSIFICATION_KINDS),
        st.integers(0, 50_000),
        st.integers(0, 50_000),
    ),
    max_size=80,
    unique_by=lambda summary: summary.source,
)


@settings(max_examples=300, deadline=None)
@given(summaries)
def test_condensing_keeps_volumes_and_blockers_and_is_stable(found: list[SourceSummary]) -> None:
    condensed = condense(found)
    assert legitimate_volumes(condensed) == legitimate_volumes(found)
    for kind in CLASSIFICATION_KINDS:
        assert sum(s.messages for s in condensed if s.kind == kind) == sum(
            s.messages for s in found if s.kind == kind
        )
        assert sum(s.sources for s in condensed if s.kind == kind) == sum(
            s.sources for s in found if s.kind == kind
        )
    blocking = {b.source for b in find_blockers(found) if b.blocking}
    every_blocker = [s for s in found if s.kind != "spoofing_suspected" and s.failing > 0]
    listed = {s.source for s in condensed if s.sources == 1 and s in every_blocker}
    assert blocking <= listed
    assert len(listed) <= LISTED_BLOCKERS + len(blocking)
    assert condense(condensed) == condensed


def test_the_smaller_failing_sources_are_added_up_per_kind() -> None:
    many = [SourceSummary(f"198.51.100.{n}", "forwarded", None, 100 + n, 100) for n in range(1, 31)]
    condensed = condense(many)
    singles = [s for s in condensed if s.sources == 1]
    [group] = [s for s in condensed if s.sources > 1]
    assert {s.source for s in singles} == {f"198.51.100.{n}" for n in range(11, 31)}
    assert group.source == "(forwarded)"
    assert group.sources == 10
    assert group.failing == sum(range(1, 11))
    blockers = find_blockers(many)
    assert len(blockers) == LISTED_BLOCKERS + 1
    assert not any(b.blocking for b in blockers)
