"""Relaxed and strict identifier alignment (RFC 7489 §3.1) over the Public Suffix List."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.dmarc_analysis.factories import NOTHING, shape
from todoke.dmarc.analysis.alignment import aligned, explain_shape, organizational_domain

LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("mail.example.co.jp", "example.co.jp"),
        ("Example.JP.", "example.jp"),
        ("bounces.sendgrid.net", "sendgrid.net"),
        ("a.b.c.example.com", "example.com"),
        ("co.jp", "co.jp"),  # a public suffix is its own organisational domain
    ],
)
def test_organizational_domain_follows_the_public_suffix_list(domain: str, expected: str) -> None:
    assert organizational_domain(domain) == expected


def test_relaxed_mode_aligns_a_subdomain_with_its_parent() -> None:
    assert aligned("bounce.example.jp", "example.jp", "r")


def test_strict_mode_wants_the_exact_domain() -> None:
    assert not aligned("bounce.example.jp", "example.jp", "s")
    assert aligned("EXAMPLE.jp.", "example.jp", "s")


def test_sibling_registrations_under_a_public_suffix_do_not_align() -> None:
    assert not aligned("other.co.jp", "example.co.jp")
    assert not aligned("co.jp", "example.co.jp")


def test_missing_identifier_never_aligns() -> None:
    assert not aligned(None, "example.jp")
    assert not aligned("", "example.jp")


@given(org=LABEL, sub=LABEL, other=LABEL)
def test_relaxed_alignment_is_organisational_equality(org: str, sub: str, other: str) -> None:
    # Under co.jp every second-level label is its own organisation.
    author = f"{org}.co.jp"
    assert aligned(f"{sub}.{author}", author)
    assert aligned(f"{sub}.{author}", f"{other}.{author}")
    assert aligned(f"{sub}.{other}.co.jp", author) == (other == org)


@given(left=LABEL, right=LABEL)
def test_strict_alignment_implies_relaxed_alignment(left: str, right: str) -> None:
    first, second = f"{left}.example.jp", f"{right}.example.jp"
    if aligned(first, second, "s"):
        assert aligned(first, second, "r")


def test_explain_shape_says_spf_passed_for_another_domain() -> None:
    spf, dkim = explain_shape(shape(spf=("bounces.sendgrid.net", "pass"), dkim=NOTHING))
    assert (spf.situation, spf.domain, spf.same_organisation) == (
        "other_domain",
        "bounces.sendgrid.net",
        False,
    )
    assert dkim.situation == "missing"


def test_explain_shape_recognises_strict_mode_mismatch() -> None:
    strict = shape(dkim=("mail.example.jp", "pass"), dkim_aligned=False, spf=NOTHING)
    _, dkim = explain_shape(strict)
    assert dkim.situation == "strict_mismatch"


def test_explain_shape_reports_failures_and_aligned_passes() -> None:
    spf, dkim = explain_shape(shape(spf=("example.jp", "softfail"), dkim=("example.jp", "pass")))
    assert (spf.situation, dkim.situation) == ("failed", "aligned_pass")
