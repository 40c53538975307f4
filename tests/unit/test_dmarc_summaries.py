"""Totals kept with an analysis (tags, spoofing, header-From domains), against sums done here."""

from __future__ import annotations

from todoke.dmarc.analyses import SourceView
from todoke.dmarc.analyses.changes import most_failing
from todoke.dmarc.analyses.summaries import (
    header_from_totals,
    network_of,
    spoofing_totals,
    tag_totals,
)
from todoke.dmarc.analysis import Classification
from todoke.dmarc.shapes import AuthShape, SenderIdentity


def shape(header_from: str, aligned: bool) -> AuthShape:
    return AuthShape(
        header_from=header_from, dkim_aligned=aligned, spf_aligned=False, spf_domain=None,
        spf_result=None, dkim_domain=None, dkim_selector=None, dkim_result=None, override=None,
        disposition="none",
    )  # fmt: skip


def view(
    ip: str, kind: str, shapes: list[tuple[AuthShape, int]], tags: tuple[str, ...] = ()
) -> SourceView:
    sender = SenderIdentity("own", "Own", "自社", "own", "registered", tags) if tags else None
    messages = sum(count for _, count in shapes)
    passing = sum(count for s, count in shapes if s.dkim_aligned)
    return SourceView(
        source_ip=ip, ptr_name=None, sender=sender, messages=messages, dmarc_pass=passing,
        spf_aligned=0, dkim_aligned=passing,
        classification=Classification(
            kind, None, messages, passing, messages - passing, (), "own_source"
        ),  # type: ignore[arg-type]
        shapes=shapes,
    )  # fmt: skip


SOURCES = [
    view("203.0.113.1", "aligned_pass", [(shape("example.jp", True), 500)], ("hq", "mx")),
    view("203.0.113.2", "misconfigured", [(shape("example.jp", False), 300)], ("hq",)),
    view("198.51.100.7", "spoofing_suspected", [(shape("example.jp", False), 200)]),
    view("198.51.100.9", "spoofing_suspected", [(shape("mail.example.jp", False), 150)]),
    view("2001:db8::1", "spoofing_suspected", [(shape("example.jp", False), 10)]),
]


def test_tags_add_up_each_tagged_source() -> None:
    assert tag_totals(SOURCES) == {"hq": [2, 800, 500, 1, 300], "mx": [1, 500, 500, 0, 0]}


def test_spoofing_groups_addresses_by_routed_block() -> None:
    found = spoofing_totals(SOURCES, top=2)
    assert (found["sources"], found["messages"], found["dmarc_fail"]) == (3, 360, 360)
    assert found["networks"] == [["198.51.100.0/24", 2, 350, 350], ["2001:db8::/48", 1, 10, 10]]
    assert found["top_ranks"] == [3, 4]
    assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"


def test_header_from_domains_and_most_failing() -> None:
    assert header_from_totals(SOURCES) == {
        "example.jp": [1010, 500],
        "mail.example.jp": [150, 0],
    }
    assert most_failing(SOURCES) == (2, 3, 4, 5)
