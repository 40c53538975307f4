"""The `_smtp._tls` TLS-RPT record (RFC 8460 §3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.domains.checks.mta_sts_record import RecordError
from todoke.domains.checks.tlsrpt import parse_tlsrpt_record


@pytest.mark.parametrize(
    ("text", "rua"),
    [
        ("v=TLSRPTv1; rua=mailto:reports@example.com", ("mailto:reports@example.com",)),
        (
            "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt",
            ("https://reporting.example.com/v1/tlsrpt",),
        ),
        (
            "v=TLSRPTv1; rua=mailto:a@example.jp , https://r.example.jp/x;",
            ("mailto:a@example.jp", "https://r.example.jp/x"),
        ),
        (
            "v=TLSRPTv1; rua=mailto:tls%2Breports@example.jp; ext=1",
            ("mailto:tls%2Breports@example.jp",),
        ),
    ],
)
def test_valid_records_give_their_destinations(text: str, rua: tuple[str, ...]) -> None:
    assert parse_tlsrpt_record(text) == rua


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("v=TLSRPTv1", "must be followed by ';'"),
        ("v=TLSRPTv1; ext=1", "rua field is missing"),
        ("v=TLSRPTv1; rua=mailto:a@example.jp; rua=mailto:b@example.jp", "more than once"),
        ("v=TLSRPTv1; rua=reports@example.jp", "only mailto: and https:"),
        ("v=TLSRPTv1; rua=http://example.jp/r", "only mailto: and https:"),
        ("v=TLSRPTv1; rua=mailto:tls@example.jp!10m", "'!' must be percent-encoded"),
        ("v=TLSRPTv1; rua=mailto:nobody", "not mailto: followed by an email address"),
        ("v=TLSRPTv1; rua=https:///path", "not an https:// URL with a host name"),
        ("v=TLSRPTv1; rua=mailto:a@example.jp,", "empty entry"),
        ("v=tlsrptv1; rua=mailto:a@example.jp", "does not begin with v=TLSRPTv1"),
        ("v=TLSRPTv1 rua=mailto:a@example.jp", "does not begin with v=TLSRPTv1"),
    ],
)
def test_invalid_records_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        parse_tlsrpt_record(text)


@given(st.text(max_size=200))
def test_any_record_parses_or_gives_a_record_error(text: str) -> None:
    try:
        rua = parse_tlsrpt_record(text)
    except RecordError as error:
        problem = str(error)
    else:
        problem = ""
        assert all(uri.lower().startswith(("mailto:", "https:")) for uri in rua)
    assert bool(problem) or text.startswith("v=TLSRPTv1")
