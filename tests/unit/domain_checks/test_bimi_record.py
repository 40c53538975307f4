"""BIMI Assertion Records (draft-brand-indicators-for-message-identification §4.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.domains.bimi import BimiRecordError, is_bimi_record, parse_bimi_record

LOGO = "https://bimi.example.jp/logo.svg"
VMC = "https://bimi.example.jp/vmc.pem"


@pytest.mark.parametrize(
    ("text", "location", "authority"),
    [
        (f"v=BIMI1; l={LOGO}; a={VMC}", LOGO, VMC),
        (f"v=BIMI1;l={LOGO};", LOGO, None),
        (f"v = BIMI1 ; l = {LOGO} ; a= ; avp=personal; lps=true", LOGO, None),
        (f"v=BIMI1; a={VMC}; l={LOGO}; x_future=1", LOGO, VMC),
        (f"v=BIMI1; l=; a={VMC}", None, VMC),
    ],
)
def test_valid_records_give_their_locations(
    text: str, location: str | None, authority: str | None
) -> None:
    record = parse_bimi_record(text)
    assert (record.location, record.authority, record.declined) == (location, authority, False)


def test_empty_l_and_a_decline_bimi() -> None:
    assert parse_bimi_record("v=BIMI1; l=; a=;").declined


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"l={LOGO}; v=BIMI1", "must begin with v=BIMI1"),
        ("v=BIMI2; l=", "not BIMI1"),
        (f"v=BIMI1; a={VMC}", "l= tag is missing"),
        ("v=BIMI1; l=http://bimi.example.jp/logo.svg", "not an https:// URI"),
        ("v=BIMI1; l=https://localhost/logo.svg", "no fully qualified host name"),
        (f"v=BIMI1; l={LOGO},{LOGO}", "one URI only"),
        ("v=BIMI1; l=https://bimi.example.jp/logo.png", "raster image"),
        (f"v=BIMI1; l={LOGO}; l={LOGO}", "more than once"),
        (f"v=BIMI1; L={LOGO}", "case-sensitive"),
        (f"v=BIMI1; l={LOGO}; avp=logo", "avp='logo'"),
        (f"v=BIMI1; l={LOGO}; lps=yes", "lps='yes'"),
        (f"v=BIMI1; l={LOGO}; junk", "not a tag=value pair"),
        ("v=BIMI1; l=https://bimi.example.jp/ロゴ.svg", "outside ASCII"),
    ],
)
def test_invalid_records_say_which_tag_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(BimiRecordError, match=reason):
        parse_bimi_record(text)


@pytest.mark.parametrize(
    ("text", "selected"),
    [("v=BIMI1; l=", True), ("v = BIMI1;", True), ("v=BIMI10; l=", False), ("v=DMARC1", False)],
)
def test_records_are_selected_by_their_version_tag(text: str, selected: bool) -> None:
    assert is_bimi_record(text) is selected


@given(st.text(max_size=200))
def test_any_record_parses_or_gives_a_record_error(text: str) -> None:
    try:
        record = parse_bimi_record(text)
    except BimiRecordError as error:
        problem = str(error)
    else:
        problem = ""
        for uri in (record.location, record.authority):
            assert uri is None or uri.lower().startswith("https://")
    assert bool(problem) or is_bimi_record(text)
