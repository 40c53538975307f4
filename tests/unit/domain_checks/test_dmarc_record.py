"""The validating DMARC record parser: typed values, named problems, and no crash on any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.dmarc.analysis import record as lenient
from todoke.domains.dmarc_record import (
    KNOWN_TAGS_7489,
    NotDmarcRecord,
    ReportUri,
    is_dmarc_record,
    parse_dmarc_record,
    parse_report_uri,
)


def test_full_record_is_read_into_typed_values() -> None:
    record = parse_dmarc_record(
        "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=r; fo=1:d; pct=100; "
        "ri=86400; rf=afrf; t=y; psd=n; rua=mailto:agg@example.jp, mailto:x@example.net!10m; "
        "ruf=mailto:fail@example.jp"
    )
    assert record.problems == ()
    assert (record.p, record.sp, record.np) == ("reject", "quarantine", "reject")
    assert (record.adkim, record.aspf, record.fo) == ("s", "r", ("1", "d"))
    assert (record.pct, record.ri, record.rf, record.testing, record.psd) == (
        100,
        86400,
        ("afrf",),
        True,
        "n",
    )
    assert [(uri.address, uri.domain, uri.size) for uri in record.rua] == [
        ("agg@example.jp", "example.jp", None),
        ("x@example.net", "example.net", "10m"),
    ]
    assert record.ruf[0].uri == "mailto:fail@example.jp"


def test_absent_tags_take_their_defaults() -> None:
    record = parse_dmarc_record("v=DMARC1; p=none")
    assert (record.sp, record.np, record.adkim, record.aspf, record.fo) == (
        None,
        None,
        "r",
        "r",
        ("0",),
    )
    assert (record.pct, record.testing, record.psd, record.rua) == (None, False, "u", ())


def test_tag_names_and_keyword_values_are_case_insensitive() -> None:
    record = parse_dmarc_record("v=DMARC1; P=Reject; ADKIM=S")
    assert (record.p, record.adkim, record.problems) == ("reject", "s", ())
    assert record.tag_map["p"] == "Reject"


def test_white_space_around_separators_is_allowed() -> None:
    record = parse_dmarc_record("v = DMARC1 ;\tp = quarantine ; rua = mailto:a@example.jp ;")
    assert (record.p, record.problems) == ("quarantine", ())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("v=dmarc1; p=reject", "case-sensitive"),
        ("v=DMARC2; p=reject", "'DMARC2'"),
        (" v=DMARC1; p=reject", "white space"),
        ("p=reject; v=DMARC1", "first tag"),
        ("v=DMARC1 p=reject", "'DMARC1'"),
        ("v=spf1 -all", "the version is 'spf1'"),
        ("", "not a DMARC record"),
    ],
)
def test_text_that_does_not_start_with_the_version_is_refused_with_the_reason(
    text: str, reason: str
) -> None:
    assert not is_dmarc_record(text)
    with pytest.raises(NotDmarcRecord, match=reason):
        parse_dmarc_record(text)


@pytest.mark.parametrize(
    ("tag", "value", "expected"),
    [
        ("p", "block", "none, quarantine, reject"),
        ("sp", "", "none, quarantine, reject"),
        ("np", "rejected", "none, quarantine, reject"),
        ("adkim", "strict", "r, s"),
        ("aspf", "x", "r, s"),
        ("t", "yes", "y, n"),
        ("psd", "true", "y, n, u"),
        ("fo", "0:x", "0, 1, d, s separated by ':'"),
        ("pct", "150", "a whole number 0-100"),
        ("pct", "-1", "a whole number 0-100"),
        ("ri", "1h", "a whole number 0-4294967295"),
        ("rf", "iodef", "afrf"),
    ],
)
def test_bad_values_are_named_and_replaced_by_defaults(tag: str, value: str, expected: str) -> None:
    record = parse_dmarc_record(f"v=DMARC1; {tag}={value}")
    (problem,) = record.problems_of("bad_value")
    assert (problem.tag, problem.value, problem.expected) == (tag, value, expected)
    typed = {"p": record.p, "sp": record.sp, "np": record.np, "pct": record.pct, "ri": record.ri}
    assert typed.get(tag) is None


def test_unknown_tag_is_named_with_the_known_ones() -> None:
    (problem,) = parse_dmarc_record("v=DMARC1; p=none; rue=mailto:a@example.jp").problems
    assert (problem.kind, problem.tag) == ("unknown_tag", "rue")
    assert "rua" in problem.expected


def test_repeated_tag_keeps_the_first_value_and_is_reported() -> None:
    record = parse_dmarc_record("v=DMARC1; p=reject; p=none")
    assert record.p == "reject"
    assert [(p.kind, p.tag, p.value) for p in record.problems] == [("duplicate_tag", "p", "none")]


@pytest.mark.parametrize(
    ("text", "code_point"),
    [("v=DMARC1;\u3000p=reject", "U+3000"), ("v=DMARC1; p=none; pct=\uff15\uff10", "U+FF15")],
)
def test_full_width_characters_are_reported_with_their_code_point(
    text: str, code_point: str
) -> None:
    record = parse_dmarc_record(text)
    (problem,) = record.problems
    assert problem.kind == "syntax"
    assert code_point in problem.message
    assert not record.has("p") or not record.has("pct")


def test_term_without_equals_is_a_syntax_problem() -> None:
    (problem,) = parse_dmarc_record("v=DMARC1; p=none; reject").problems
    assert (problem.kind, problem.value, problem.severity) == ("syntax", "reject", "error")


def test_empty_term_and_late_p_are_warnings_only() -> None:
    record = parse_dmarc_record("v=DMARC1; rua=mailto:a@example.jp;; p=none;")
    assert record.p == "none"
    assert [(p.kind, p.severity) for p in record.problems] == [
        ("syntax", "warning"),
        ("syntax", "warning"),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("dmarc@example.jp", "no scheme (write mailto:dmarc@example.jp)"),
        ("mailto:", "not an email address"),
        ("mailto:a b@example.jp", "' ' (U+0020) must be percent-encoded"),
        ("mailto:a@example.jp!x", "'!' must be percent-encoded"),
        ("mailto:a@localhost", "not a valid domain name"),
        ("mailto:a@-bad.example.jp", "not a valid domain name"),
        ("mailto:a%zz@example.jp", "'%' must be followed by two hexadecimal digits"),
        ("mailto:日本@example.jp", "must be percent-encoded"),
    ],
)
def test_unusable_report_uris_say_why(text: str, problem: str) -> None:
    uri = parse_report_uri(text)
    assert not uri.valid
    assert problem in str(uri.problem)


def test_other_schemes_are_valid_uris_without_an_address() -> None:
    uri = parse_report_uri("https://reports.example.jp/dmarc")
    assert (uri.valid, uri.scheme, uri.address, uri.domain) == (True, "https", None, None)


def test_percent_encoded_address_is_decoded() -> None:
    uri = parse_report_uri("mailto:dmarc%2Breports@Example.JP")
    assert (uri.address, uri.domain) == ("dmarc+reports@Example.JP", "example.jp")


def test_empty_rua_list_is_a_bad_value() -> None:
    record = parse_dmarc_record("v=DMARC1; p=none; rua= ")
    assert record.rua == ()
    assert [p.kind for p in record.problems] == ["bad_value"]


# --- properties -------------------------------------------------------------------------------

POLICY = st.sampled_from(["none", "quarantine", "reject"])
LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
DOMAIN = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(LABEL, min_size=1, max_size=3),
    st.sampled_from(["jp", "com", "example"]),
)
ADDRESS = st.builds(
    "{}@{}".format, st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True), DOMAIN
)
URIS = st.lists(ADDRESS, min_size=1, max_size=3)
VALUES = {
    "p": POLICY,
    "sp": POLICY,
    "np": POLICY,
    "adkim": st.sampled_from(["r", "s"]),
    "aspf": st.sampled_from(["r", "s"]),
    "t": st.sampled_from(["y", "n"]),
    "psd": st.sampled_from(["y", "n", "u"]),
    "pct": st.integers(0, 100).map(str),
    "ri": st.integers(0, 2**32 - 1).map(str),
    "fo": st.lists(st.sampled_from(["0", "1", "d", "s"]), min_size=1, max_size=4).map(":".join),
    "rua": URIS.map(lambda items: ",".join(f"mailto:{item}" for item in items)),
    "ruf": URIS.map(lambda items: ",".join(f"mailto:{item}" for item in items)),
}


@st.composite
def valid_records(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    names = draw(st.lists(st.sampled_from(sorted(VALUES)), unique=True).map(sorted))
    tags = {"p": draw(POLICY)} | {name: draw(VALUES[name]) for name in names if name != "p"}
    text = "v=DMARC1; " + "; ".join(f"{name}={value}" for name, value in tags.items())
    return text, tags


@given(st.text())
def test_any_text_is_a_record_or_refused_cleanly(text: str) -> None:
    try:
        record = parse_dmarc_record(text)
    except NotDmarcRecord:
        assert not is_dmarc_record(text)
        return
    assert is_dmarc_record(text)
    assert record.tags[0] == ("v", "DMARC1")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_anything_after_the_version_parses_and_problems_name_present_tags(rest: str) -> None:
    record = parse_dmarc_record("v=DMARC1;" + rest)
    names = {name for name, _ in record.tags}
    assert all(name.isascii() and name.isalpha() and name.islower() for name in names)
    for problem in record.problems:
        if problem.kind in ("unknown_tag", "duplicate_tag", "bad_value"):
            assert problem.tag in names
    assert set(record.tag_map) == names


@given(valid_records())
def test_well_formed_records_parse_without_problems_into_their_values(
    generated: tuple[str, dict[str, str]],
) -> None:
    text, tags = generated
    record = parse_dmarc_record(text)
    assert record.problems == ()
    assert dict(record.tag_map) == {"v": "DMARC1", **tags}
    assert record.p == tags["p"]
    assert record.pct == (int(tags["pct"]) if "pct" in tags else None)
    assert all(uri.valid and uri.scheme == "mailto" for uri in (*record.rua, *record.ruf))


@given(valid_records())
def test_the_lenient_reader_sees_the_same_tags(generated: tuple[str, dict[str, str]]) -> None:
    # todoke.dmarc.analysis.record.parse_record could delegate to this parser: they agree on
    # every well-formed record.
    text, _ = generated
    assert lenient.parse_record(text) == parse_dmarc_record(text).tags


@given(
    st.sampled_from(KNOWN_TAGS_7489),
    st.text(alphabet=st.characters(blacklist_characters=";"), max_size=30),
)
def test_any_value_of_a_known_tag_is_kept_or_reported_against_that_tag(
    tag: str, value: str
) -> None:
    record = parse_dmarc_record(f"v=DMARC1; {tag}={value}")
    for problem in record.problems:
        assert problem.kind == "syntax" or problem.tag == tag
    if not record.problems:
        assert record.tag_map[tag] == value.strip(" \t")


@given(st.text(max_size=80))
def test_report_uri_parsing_is_total(text: str) -> None:
    uri = parse_report_uri(text)
    assert isinstance(uri, ReportUri)
    assert uri.valid == (uri.problem is None)
    if uri.domain is not None:
        assert uri.scheme == "mailto"
        assert uri.domain == uri.domain.lower()


@given(ADDRESS)
def test_generated_mailto_uris_are_valid_and_keep_their_domain(address: str) -> None:
    uri = parse_report_uri(f"mailto:{address}")
    assert uri.valid, uri.problem
    assert uri.domain == address.rpartition("@")[2]
