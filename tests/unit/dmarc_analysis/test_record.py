"""Reading and rewriting DMARC records keeps what the owner set."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from todoke.dmarc.analysis import record
from todoke.dmarc.report_types import PolicyPublished


def test_parse_keeps_order_and_values() -> None:
    tags = record.parse_record("v=DMARC1;p=none; rua=mailto:a@example.jp ;adkim=s;")
    assert tags == (("v", "DMARC1"), ("p", "none"), ("rua", "mailto:a@example.jp"), ("adkim", "s"))


def test_text_that_is_not_a_dmarc_record_is_refused() -> None:
    assert record.parse_record("v=spf1 -all") is None
    assert record.parse_record("p=none; v=DMARC1") is None
    assert record.parse_record("v=DMARC1; garbage") is None


def test_changes_replace_in_place_remove_and_add_after_p() -> None:
    tags = record.parse_record("v=DMARC1; p=none; rua=mailto:r@x.jp; pct=50; fo=1")
    assert tags is not None
    changed = record.with_changes(tags, {"p": "quarantine", "pct": None, "t": "y", "fo": "d"})
    assert record.render(changed) == "v=DMARC1; p=quarantine; t=y; rua=mailto:r@x.jp; fo=d"


def test_tags_from_a_report_policy_leave_defaults_out() -> None:
    policy = PolicyPublished(domain="x.jp", p="none", adkim="r", aspf="s", pct=100, fo="0")
    assert record.render(record.tags_from_policy(policy)) == "v=DMARC1; p=none; aspf=s"


def test_tags_from_a_testing_policy_say_t_y() -> None:
    policy = PolicyPublished(domain="x.jp", p="quarantine", pct=25, testing=True, np="reject")
    rendered = record.render(record.tags_from_policy(policy))
    assert rendered == "v=DMARC1; p=quarantine; np=reject; pct=25; t=y"


NAMES = st.sampled_from(["rua", "ruf", "adkim", "aspf", "fo", "sp", "np", "pct", "t", "psd"])
VALUES = st.from_regex(r"[a-z0-9:@.,!]{1,20}", fullmatch=True)


@given(st.dictionaries(NAMES, VALUES, max_size=6), st.sampled_from(record.POLICIES))
def test_rendered_records_parse_back_to_the_same_tags(extra: dict[str, str], policy: str) -> None:
    tags = (("v", "DMARC1"), ("p", policy), *extra.items())
    assert record.parse_record(record.render(tags)) == tags
