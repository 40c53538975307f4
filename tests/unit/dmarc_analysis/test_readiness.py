"""The policy staircase: each step, what holds it back, and the record to publish next."""

from __future__ import annotations

import re

import pytest

from tests.unit.dmarc_analysis.factories import DOMAIN, sender
from todoke.dmarc.analysis.classify import ClassificationKind
from todoke.dmarc.analysis.readiness import (
    REASON_IDS,
    Readiness,
    Reason,
    SourceSummary,
    assess_readiness,
    percent,
    reason_text,
)
from todoke.dmarc.report_types import PolicyPublished

RUA = "mailto:dmarc@reports.example.jp"
RECORD_NONE = f"v=DMARC1; p=none; rua={RUA}; ruf=mailto:f@example.jp; adkim=s; fo=1"
OWN = SourceSummary("192.0.2.1", "aligned_pass", sender("own"), messages=10_000, passing=10_000)


def summary(
    kind: ClassificationKind, messages: int, passing: int, ip: str = "198.51.100.7"
) -> SourceSummary:
    return SourceSummary(ip, kind, None, messages=messages, passing=passing)


def assess(
    policy: PolicyPublished | None,
    sources: list[SourceSummary],
    *,
    days: int = 30,
    recent: list[SourceSummary] | None = None,
    current_record: str | None = None,
    report_uri: str | None = RUA,
) -> Readiness:
    return assess_readiness(
        policy,
        domain=DOMAIN,
        last_14=sources if recent is None else recent,
        last_30=sources,
        days_with_data=days,
        current_record=current_record,
        report_uri=report_uri,
    )


def policy(p: str, **tags: object) -> PolicyPublished:
    return PolicyPublished(domain=DOMAIN, p=p, **tags)  # type: ignore[arg-type]


def ids(readiness: Readiness) -> list[str]:
    return [reason.id for reason in readiness.reasons]


def test_no_record_starts_with_p_none_and_the_report_address() -> None:
    readiness = assess(None, [])
    assert readiness.stage == "no_policy"
    assert readiness.next_record is not None
    assert readiness.next_record.record == f"v=DMARC1; p=none; rua={RUA}"
    assert ids(readiness) == ["no_policy"]


def test_without_a_report_address_the_proposal_says_so() -> None:
    readiness = assess(None, [], report_uri=None)
    assert readiness.next_record is not None
    assert readiness.next_record.record == "v=DMARC1; p=none"
    assert "no_report_address" in ids(readiness)


def test_less_than_14_days_of_data_is_not_enough() -> None:
    readiness = assess(policy("none"), [OWN], days=13)
    assert (readiness.stage, readiness.ready, readiness.enough_data) == ("monitoring", False, False)
    assert readiness.next_record is None
    assert ids(readiness) == ["insufficient_data"]
    assert reason_text(readiness.reasons[0], locale="en").startswith("The reports cover only 13")


def test_p_none_with_clean_mail_is_ready_for_gradual_quarantine_in_both_wordings() -> None:
    readiness = assess(policy("none"), [OWN], days=14, current_record=RECORD_NONE)
    assert (readiness.stage, readiness.ready) == ("ready_for_quarantine", True)
    proposal = readiness.next_record
    assert proposal is not None
    assert proposal.step == "quarantine_gradual"
    rest = f"rua={RUA}; ruf=mailto:f@example.jp; adkim=s; fo=1"
    assert proposal.record == f"v=DMARC1; p=quarantine; pct=25; {rest}"
    assert proposal.alternative == f"v=DMARC1; p=quarantine; t=y; {rest}"
    assert ids(readiness) == ["ready_quarantine", "wording_pct_or_testing"]


def test_report_policy_is_the_base_when_the_published_record_is_unknown() -> None:
    readiness = assess(policy("none", adkim="s", aspf="r", pct=100), [OWN])
    assert readiness.next_record is not None
    assert readiness.next_record.record == f"v=DMARC1; p=quarantine; pct=25; adkim=s; rua={RUA}"


def test_a_low_legitimate_pass_rate_keeps_monitoring() -> None:
    failing_own = SourceSummary("192.0.2.9", "aligned_pass", None, messages=1000, passing=970)
    readiness = assess(policy("none"), [failing_own])
    assert (readiness.stage, readiness.next_record) == ("monitoring", None)
    assert readiness.pass_rate_30 == pytest.approx(0.97)
    assert ids(readiness) == ["pass_rate_low", "pass_rate_low"]
    text = reason_text(readiness.reasons[0], locale="ja")
    assert "97.0%" in text
    assert "98.0%" in text


def test_a_recent_drop_in_the_14_day_window_holds_the_step_back() -> None:
    recent = [SourceSummary("192.0.2.1", "misconfigured", None, messages=100, passing=90)]
    readiness = assess(policy("none"), [OWN], recent=recent)
    assert not readiness.ready
    assert ("window", "14") in readiness.reasons[0].values


def test_spoofing_and_unknown_failures_do_not_count_against_legitimate_mail() -> None:
    sources = [
        OWN,
        summary("spoofing_suspected", 50_000, 0, "203.0.113.1"),
        summary("unknown", 3000, 100, "203.0.113.2"),
    ]
    readiness = assess(policy("none"), sources)
    assert readiness.ready
    assert readiness.legitimate_messages_30 == 10_100
    assert readiness.pass_rate_30 == 1.0


def test_a_misconfigured_source_with_real_volume_blocks_quarantine() -> None:
    newsletter = SourceSummary(
        "198.51.100.20", "third_party_unaligned", sender("esp"), messages=100, passing=0
    )
    readiness = assess(policy("none"), [OWN, newsletter])
    assert readiness.pass_rate_30 is not None
    assert readiness.pass_rate_30 > 0.98
    assert not readiness.ready
    assert ids(readiness) == ["blockers"]
    assert [blocker.source for blocker in readiness.blockers if blocker.blocking] == [
        "198.51.100.20"
    ]


def test_small_forwarded_and_unknown_losses_are_listed_but_do_not_block() -> None:
    sources = [
        OWN,
        summary("misconfigured", 5, 0, "198.51.100.1"),
        summary("forwarded", 400, 330, "198.51.100.2"),
        summary("unknown", 300, 0, "198.51.100.3"),
        summary("spoofing_suspected", 900, 0, "198.51.100.4"),
    ]
    readiness = assess(policy("none"), sources)
    assert readiness.ready
    listed = [(blocker.source, blocker.failing, blocker.blocking) for blocker in readiness.blockers]
    assert listed == [
        ("198.51.100.3", 300, False),
        ("198.51.100.2", 70, False),
        ("198.51.100.1", 5, False),
    ]


def test_no_legitimate_mail_is_not_ready() -> None:
    readiness = assess(policy("none"), [summary("spoofing_suspected", 100, 0)])
    assert not readiness.ready
    assert ids(readiness) == ["no_legitimate_mail"]


@pytest.mark.parametrize("partial", [{"pct": 25}, {"testing": True}])
def test_partial_quarantine_moves_to_full_quarantine(partial: dict[str, object]) -> None:
    readiness = assess(policy("quarantine", **partial), [OWN])
    assert (readiness.stage, readiness.ready) == ("quarantine_partial", True)
    assert readiness.next_record is not None
    assert readiness.next_record.record == f"v=DMARC1; p=quarantine; rua={RUA}"
    assert readiness.next_record.alternative is None


def test_full_quarantine_moves_to_reject_when_99_percent_passes() -> None:
    current = f"v=DMARC1; p=quarantine; rua={RUA}; aspf=s"
    readiness = assess(policy("quarantine"), [OWN], current_record=current)
    assert readiness.stage == "ready_for_reject"
    assert readiness.next_record is not None
    assert readiness.next_record.record == f"v=DMARC1; p=reject; rua={RUA}; aspf=s"


def test_reject_needs_more_than_the_quarantine_threshold() -> None:
    own = SourceSummary("192.0.2.1", "aligned_pass", None, messages=1000, passing=985)
    readiness = assess(policy("quarantine"), [own])
    assert (readiness.stage, readiness.ready) == ("quarantine", False)
    assert ids(readiness)[0] == "mail_being_lost"
    assert "pass_rate_low" in ids(readiness)


def test_partial_reject_moves_to_full_reject() -> None:
    readiness = assess(policy("reject", pct=50), [OWN])
    assert readiness.stage == "reject_partial"
    assert readiness.next_record is not None
    assert readiness.next_record.record == f"v=DMARC1; p=reject; rua={RUA}"


def test_reject_with_weaker_subdomain_policies_proposes_sp_and_np_reject() -> None:
    current = f"v=DMARC1; p=reject; sp=none; np=quarantine; rua={RUA}"
    readiness = assess(policy("reject", sp="none", np="quarantine"), [OWN], current_record=current)
    assert readiness.stage == "enforced"
    assert readiness.next_record is not None
    assert readiness.next_record.step == "subdomains"
    assert readiness.next_record.record == f"v=DMARC1; p=reject; sp=reject; np=reject; rua={RUA}"
    assert ids(readiness) == ["subdomains"]


def test_full_reject_is_the_end_of_the_staircase() -> None:
    readiness = assess(policy("reject"), [OWN])
    assert (readiness.stage, readiness.next_record) == ("enforced", None)
    assert ids(readiness) == ["enforced"]


def test_enforced_policy_losing_own_mail_says_so() -> None:
    broken = SourceSummary("192.0.2.5", "misconfigured", sender("own"), messages=500, passing=0)
    readiness = assess(policy("reject"), [OWN, broken])
    assert ids(readiness)[:2] == ["mail_being_lost", "pass_rate_low"]
    assert readiness.next_record is None


def test_an_unknown_policy_word_counts_as_none() -> None:
    assert assess(policy("bogus"), [OWN]).stage == "ready_for_quarantine"


def test_percent_floors_so_it_never_rounds_up_to_the_threshold() -> None:
    assert percent(0.97996) == "97.9%"
    assert percent(1.0) == "100.0%"


@pytest.mark.parametrize("reason", REASON_IDS)
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_reason_reads_without_placeholders(reason: str, locale: str) -> None:
    rendered = reason_text(Reason(reason), locale=locale)  # type: ignore[arg-type]
    assert rendered
    assert not re.search(r"\{[a-z_]+\}", rendered)
