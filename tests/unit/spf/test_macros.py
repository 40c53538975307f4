"""Macro expansion (RFC 7208 §7), checked against the examples of §7.4."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.domains.spf import MacroContext, SpfSyntaxError, expand, parse_macro_string
from todoke.domains.spf.macros import domain_for_query

# RFC 7208 §7.4: sender strong-bad@email.example.com, client 192.0.2.3.
CONTEXT = MacroContext(
    sender="strong-bad@email.example.com",
    local_part="strong-bad",
    sender_domain="email.example.com",
    domain="email.example.com",
    ip=ip_address("192.0.2.3"),
    helo="mx.example.org",
    validated_name="mx.example.org",
    receiver="mx.example.com",
    timestamp=1700000000,
)
IPV6 = replace(CONTEXT, ip=ip_address("2001:db8::cb01"))


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
        ("%{h} %{p} %{r} %{t}", "mx.example.org mx.example.org mx.example.com 1700000000"),
        ("%%%_%-", "% %20"),
    ],
)
def test_rfc7208_examples_expand(macro: str, expected: str) -> None:
    assert expand(parse_macro_string(macro, explanation=True), CONTEXT) == expected


def test_ipv6_i_is_nibbles_and_c_is_readable() -> None:
    text = parse_macro_string("%{ir}.%{v}._spf.%{d2} %{c}", explanation=True)
    assert expand(text, IPV6) == (
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        " 2001:db8::cb01"
    )


def test_upper_case_letters_are_url_escaped() -> None:
    context = replace(CONTEXT, local_part="~jack&jill=up-a_b3.c")
    assert expand(parse_macro_string("%{L}"), context) == "~jack%26jill%3Dup-a_b3.c"


def test_unknown_p_expands_to_unknown() -> None:
    context = replace(CONTEXT, validated_name=None)
    assert expand(parse_macro_string("%{p}"), context) == "unknown"


@pytest.mark.parametrize("text", ["%{x}", "%{d0}", "%a", "50%", "%{d", "a b", "%{c}"])
def test_malformed_macro_strings_are_syntax_errors(text: str) -> None:
    with pytest.raises(SpfSyntaxError):
        parse_macro_string(text)


def test_long_expansions_are_cut_from_the_left() -> None:
    name = ".".join(["label"] * 60) + ".example.com."
    cut = domain_for_query(name)
    assert len(cut) <= 253
    assert cut.endswith("label.example.com")
    assert not cut.startswith(".")


@given(st.text(max_size=60), st.booleans())
def test_parse_raises_only_its_own_error(text: str, explanation: bool) -> None:
    try:
        parsed = parse_macro_string(text, explanation=explanation)
    except SpfSyntaxError:
        return
    assert isinstance(expand(parsed, CONTEXT), str)


@given(
    st.sampled_from("slodiphv"),
    st.integers(min_value=1, max_value=9) | st.none(),
    st.booleans(),
    st.text(alphabet=".-+,/_=", max_size=3),
)
def test_expansion_keeps_at_most_the_requested_parts(
    letter: str, parts: int | None, reverse: bool, delimiters: str
) -> None:
    # With "." among the delimiters no kept part contains a dot, so parts can be counted.
    macro = f"%{{{letter}{parts or ''}{'r' if reverse else ''}.{delimiters}}}"
    value = expand(parse_macro_string(macro), CONTEXT)
    if parts is not None:
        assert len(value.split(".")) <= parts
