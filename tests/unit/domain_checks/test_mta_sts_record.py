"""The `_mta-sts` TXT record (RFC 8461 §3.1) and the field list it shares with TLS-RPT."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todoke.domains.checks.mta_sts_record import (
    STS_VERSION,
    RecordError,
    begins_with,
    parse_sts_record,
    select,
)


@pytest.mark.parametrize(
    ("text", "record_id", "extensions"),
    [
        ("v=STSv1; id=20160831085700Z;", "20160831085700Z", {}),
        ("v=STSv1;id=20180907T090909;", "20180907T090909", {}),
        ("v=STSv1; id=abc", "abc", {}),
        # Erratum 6285: white space before the ";" is allowed by the ABNF.
        ("v=STSv1 ; id=abc ;", "abc", {}),
        ("v=STSv1; id=1; ext.1=val-ue", "1", {"ext.1": "val-ue"}),
    ],
)
def test_valid_records_give_their_id(text: str, record_id: str, extensions: dict[str, str]) -> None:
    record = parse_sts_record(text)
    assert (record.id, dict(record.extensions)) == (record_id, extensions)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # bad-record1..3 of postfix-mta-sts-resolver's test DNS data
        ("id=20180907T090909; v=STSv1;", "does not begin with v=STSv1"),
        ("azazaza;asdasdasdasd", "does not begin with v=STSv1"),
        ("v=STSv12;id=20180907T090909;", "does not begin with v=STSv1"),
        ("v=STSv1;", "no fields"),
        ("v=STSv1", "must be followed by ';'"),
        ("v=STSv1; ext=1", "id field is missing"),
        ("v=STSv1; id=abc; id=def", "more than once"),
        ("v=STSv1; id=not-alnum", "1 to 32 letters and digits"),
        ("v=STSv1; id=" + "a" * 33, "1 to 32 letters and digits"),
        ("v=STSv1; id", "not a name=value field"),
        ("v=STSv1; id=a b", "empty value or one with spaces"),
    ],
)
def test_invalid_records_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        parse_sts_record(text)


def test_records_not_beginning_with_the_version_are_not_selected() -> None:
    texts = ["google-site-verification=x", "v=STSv1; id=1;", "v=STSv10; id=2"]
    assert select(texts, STS_VERSION) == ["v=STSv1; id=1;"]


@given(st.text(max_size=200))
def test_any_record_parses_or_gives_a_record_error(text: str) -> None:
    try:
        record = parse_sts_record(text)
    except RecordError as error:
        problem = str(error)
    else:
        problem = ""
        assert 1 <= len(record.id) <= 32
    assert bool(problem) or begins_with(text, STS_VERSION)


@given(st.from_regex(r"[A-Za-z0-9]{1,32}", fullmatch=True), st.sampled_from(["", ";", " ; "]))
def test_any_valid_id_reads_back(record_id: str, end: str) -> None:
    assert parse_sts_record(f"v=STSv1; id={record_id}{end}").id == record_id
