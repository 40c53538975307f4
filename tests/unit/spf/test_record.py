"""The SPF record parser: terms, arguments and the precise errors of RFC 7208 §4.6 and §12."""

from __future__ import annotations

import contextlib
import re
from ipaddress import ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.domains.spf import Mechanism, Modifier, SpfSyntaxError, is_spf_record, parse_record


def test_record_parses_into_ordered_terms_with_qualifiers() -> None:
    record = parse_record("v=spf1 ip4:192.0.2.0/24 ~include:_spf.example.net mx -all")
    assert [(m.qualifier, m.kind) for m in record.mechanisms] == [
        ("+", "ip4"),
        ("~", "include"),
        ("+", "mx"),
        ("-", "all"),
    ]
    assert record.mechanisms[0].network == ip_network("192.0.2.0/24")
    assert record.lookup_terms == 2


def test_dual_cidr_lengths_belong_to_a_and_mx() -> None:
    (a, mx) = parse_record("v=spf1 a:mail.example.com/24//64 mx//48").mechanisms
    assert (a.domain_spec is not None and a.domain_spec.text, a.cidr4, a.cidr6) == (
        "mail.example.com",
        24,
        64,
    )
    assert (mx.domain_spec, mx.cidr4, mx.cidr6) == (None, 32, 48)


def test_domain_spec_may_contain_colons_and_slashes() -> None:
    (mechanism,) = parse_record("v=spf1 a:foo:bar/baz.example.com").mechanisms
    assert mechanism.domain_spec is not None
    assert mechanism.domain_spec.text == "foo:bar/baz.example.com"
    assert (mechanism.cidr4, mechanism.cidr6) == (32, 128)


def test_modifiers_are_kept_apart_from_mechanisms() -> None:
    record = parse_record("v=spf1 Redirect=_spf.example.com exp=why.%{d} moo.cow=x")
    assert record.redirect is not None
    assert record.redirect.value.text == "_spf.example.com"
    assert record.explanation is not None
    assert record.explanation.value.letters == {"d"}
    assert [t.name for t in record.terms if isinstance(t, Modifier)] == [
        "redirect",
        "exp",
        "moo.cow",
    ]


def test_version_is_case_insensitive_and_must_end_in_space() -> None:
    assert is_spf_record("V=SpF1 -all")
    assert is_spf_record(b"v=spf1")
    assert not is_spf_record("v=spf10")
    assert not is_spf_record("v=spf1-all")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("v=spf1 ip4:1.2.3.4 -all moo", "unknown mechanism 'moo'"),
        ("v=spf1 redirect:example.com", "redirect is a modifier"),
        ("v=spf1 -all.", "'all' takes no argument"),
        ("v=spf1 ip4:1.2.3", "not a dotted-quad"),
        ("v=spf1 ip4:1.2.3.4/032", "without leading zeros"),
        ("v=spf1 ip6:::1/129", "0-128"),
        ("v=spf1 a:111.222.33.44", "top label"),
        ("v=spf1 a:museum.", "top label"),
        ("v=spf1 include:", "empty domain"),
        ("v=spf1 exp=a.example.com exp=b.example.com", "more than once"),
        ("v=spf1 a:ctrl.example.com\rptr", "U+000D"),
        ("v=spf1 exists:%{r}.example.com", "only allowed in explanation"),
        ("v=spf1 foo=%abc", "must be followed by"),
        ("v=spf1 ptr/0", "ptr takes ':domain' only"),
    ],
)
def test_syntax_errors_name_the_problem(record: str, message: str) -> None:
    with pytest.raises(SpfSyntaxError, match=re.escape(message)):
        parse_record(record)


def test_idn_top_label_with_double_hyphen_is_valid() -> None:
    (mechanism,) = parse_record("v=spf1 a:foo.example.xn--zckzah").mechanisms
    assert isinstance(mechanism, Mechanism)
    assert mechanism.kind == "a"


@given(st.text(max_size=80))
def test_parser_raises_only_its_own_error(text: str) -> None:
    with contextlib.suppress(SpfSyntaxError):
        parse_record("v=spf1 " + text)


_TERM_CHARS = st.sampled_from([*list("aimpx46:./%{}-+~?=_lorsd0123 "), "all", "ip4:", "mx:"])


@given(st.lists(_TERM_CHARS, max_size=40).map("".join))
def test_parser_raises_only_its_own_error_on_spf_like_text(text: str) -> None:
    try:
        record = parse_record("v=spf1 " + text)
    except SpfSyntaxError:
        return
    assert len(record.terms) == len(text.split())
