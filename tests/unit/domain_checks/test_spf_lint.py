"""SPF lint rules on hand-built trees: range thresholds, the "all" verdict, unreachable terms."""

from __future__ import annotations

import pytest

from todoke.domains.checks.findings import Status
from todoke.domains.checks.spf_lint import (
    all_findings,
    broad_range_finding,
    effective_all,
    ignored_terms_finding,
)
from todoke.domains.checks.spf_tree import SpfNode, Term, literal_target
from todoke.domains.spf.macros import parse_macro_string
from todoke.domains.spf.record import parse_record


def node(domain: str, text: str, *terms: Term) -> SpfNode:
    return SpfNode(domain, (domain,), (text,), record=parse_record(text), terms=list(terms))


@pytest.mark.parametrize(
    ("term", "status"),
    [
        ("ip4:192.0.2.0/16", None),
        ("ip4:192.0.0.0/15", Status.WARN),
        ("ip4:10.0.0.0/9", Status.WARN),
        ("ip4:10.0.0.0/8", Status.FAIL),
        ("ip4:0.0.0.0/0", Status.FAIL),
        ("ip6:2001:db8::/32", None),
        ("ip6:2001:db8::/31", Status.WARN),
        ("ip6:2001::/16", Status.FAIL),
        ("-ip4:10.0.0.0/8", None),
        ("~ip4:10.0.0.0/8", None),
        ("a/24", None),
        ("a/12", Status.WARN),
        ("mx//8", Status.FAIL),
    ],
)
def test_broad_pass_ranges_follow_the_documented_thresholds(
    term: str, status: Status | None
) -> None:
    findings = broad_range_finding([node("example.jp", f"v=spf1 {term} -all")])
    assert [finding.status for finding in findings] == ([status] if status else [])


def test_redirect_target_supplies_the_all_verdict() -> None:
    target = node("_spf.example.jp", "v=spf1 ip4:192.0.2.1 ?all")
    root = node(
        "example.jp",
        "v=spf1 redirect=_spf.example.jp",
        Term("redirect=_spf.example.jp", "redirect", 1, child=target),
    )
    found = effective_all(root)
    assert found is not None
    assert (found[0].domain, found[1].text) == ("_spf.example.jp", "?all")
    assert [finding.id for finding in all_findings(root)] == ["spf.all_neutral"]


def test_minus_all_needs_no_finding() -> None:
    assert all_findings(node("example.jp", "v=spf1 ip4:192.0.2.1 -all")) == []


def test_terms_after_all_and_redirect_beside_all_are_never_read() -> None:
    (finding,) = ignored_terms_finding(
        [node("example.jp", "v=spf1 -all ip4:192.0.2.1 redirect=_spf.example.jp exp=why.jp")]
    )
    assert finding.values["terms"] == "ip4:192.0.2.1 redirect=_spf.example.jp"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, "example.jp"),
        ("_spf.example.net.", "_spf.example.net"),
        ("%{d}._spf.example.net", None),
        ("a%%b.example.net", "a%b.example.net"),
    ],
)
def test_literal_targets_are_followed_and_macros_are_not(
    spec: str | None, expected: str | None
) -> None:
    parsed = None if spec is None else parse_macro_string(spec)
    assert literal_target(parsed, "example.jp") == expected
