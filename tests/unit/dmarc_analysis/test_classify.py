"""Source classification follows the product's definitions, by message volume."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.dmarc_analysis.factories import DOMAIN, NOTHING, SENDERS, any_shape, sender, shape
from todoke.dmarc.analysis.classify import CLASSIFICATION_KINDS, classify_source
from todoke.dmarc.shapes import AuthShape, SenderIdentity

ALIGNED = shape()
SPOOFED = shape(spf=(DOMAIN, "fail"), dkim=NOTHING)
UNSIGNED = shape(spf=(None, "none"), dkim=NOTHING)
UNCONFIGURED_ESP = shape(spf=("bounces.sendgrid.net", "pass"), dkim=("sendgrid.net", "pass"))
FOREIGN_ENVELOPE = shape(spf=("bulk.example.net", "pass"), dkim=NOTHING)
FORWARDED_PASS = shape(spf=(DOMAIN, "fail"), dkim=(DOMAIN, "pass"))
BROKEN_KEY = shape(spf=("bounces.sendgrid.net", "pass"), dkim=(DOMAIN, "fail"))


def test_a_source_passing_98_percent_is_aligned_pass() -> None:
    result = classify_source([(ALIGNED, 98), (SPOOFED, 2)], None)
    assert (result.kind, result.rule) == ("aligned_pass", "pass_share")
    assert (result.messages, result.passing, result.failing) == (100, 98, 2)
    assert result.dominant_pattern == "spf_fail_no_dkim"


def test_just_under_98_percent_is_judged_by_its_failures() -> None:
    result = classify_source([(ALIGNED, 97), (SPOOFED, 3)], sender("own"))
    assert (result.kind, result.rule) == ("misconfigured", "failing_majority")


def test_own_server_passing_by_dkim_while_spf_fails_is_aligned_pass_not_forwarded() -> None:
    assert classify_source([(FORWARDED_PASS, 50)], sender("own")).kind == "aligned_pass"


def test_mailbox_provider_relaying_with_surviving_dkim_is_forwarded() -> None:
    result = classify_source([(FORWARDED_PASS, 40)], sender("mailbox_provider"))
    assert (result.kind, result.rule) == ("forwarded", "pass_share_forwarded")


def test_unrecognised_source_failing_spf_for_the_domain_but_keeping_dkim_is_forwarded() -> None:
    assert classify_source([(FORWARDED_PASS, 40)], None).kind == "forwarded"


def test_mailing_list_breaking_the_signature_is_forwarded() -> None:
    listed = shape(spf=("lists.example.org", "pass"), dkim=(DOMAIN, "fail"))
    result = classify_source([(listed, 30), (FORWARDED_PASS, 10)], None)
    assert result.kind == "forwarded"
    assert result.dominant_pattern == "forwarded"


def test_receiver_override_marks_the_source_forwarded() -> None:
    overridden = shape(spf=(DOMAIN, "fail"), dkim=NOTHING, override="mailing_list")
    assert classify_source([(overridden, 10)], None).kind == "forwarded"


def test_known_forwarding_service_is_forwarded() -> None:
    assert classify_source([(SPOOFED, 10)], sender("forwarder")).kind == "forwarded"


def test_known_esp_authenticating_as_itself_is_third_party_unaligned() -> None:
    result = classify_source([(UNCONFIGURED_ESP, 500)], sender("esp", "sendgrid", "SendGrid"))
    assert result.kind == "third_party_unaligned"
    assert result.dominant_pattern == "both_unaligned"


def test_own_source_authenticating_as_another_domain_is_misconfigured() -> None:
    assert classify_source([(UNCONFIGURED_ESP, 5)], sender("own")).kind == "misconfigured"


def test_known_esp_with_a_broken_key_is_misconfigured() -> None:
    result = classify_source([(BROKEN_KEY, 50)], sender("esp"))
    assert (result.kind, result.dominant_pattern) == ("misconfigured", "dkim_broken")


def test_unknown_source_failing_spf_and_dkim_is_spoofing_suspected() -> None:
    assert classify_source([(SPOOFED, 70), (UNSIGNED, 30)], None).kind == "spoofing_suspected"


def test_unknown_source_authenticating_as_another_domain_is_unknown() -> None:
    assert classify_source([(FOREIGN_ENVELOPE, 70)], None).kind == "unknown"


def test_unknown_source_with_dns_errors_is_unknown() -> None:
    errored = shape(spf=(DOMAIN, "temperror"), dkim=NOTHING)
    assert classify_source([(errored, 3)], None).kind == "unknown"


def test_unknown_source_that_the_spf_record_authorises_is_misconfigured() -> None:
    spf_only = shape(spf=(DOMAIN, "pass"), dkim=NOTHING)
    result = classify_source([(spf_only, 30), (SPOOFED, 70)], None)
    assert (result.kind, result.rule) == ("misconfigured", "authorised_by_spf")


def test_a_source_with_no_messages_is_unknown() -> None:
    result = classify_source([(ALIGNED, 0)], sender("own"))
    assert (result.kind, result.rule, result.messages) == ("unknown", "no_mail", 0)
    assert result.pass_share is None


def test_majority_by_volume_decides_mixed_shapes() -> None:
    assert classify_source([(FOREIGN_ENVELOPE, 40), (SPOOFED, 60)], None).kind == (
        "spoofing_suspected"
    )
    assert classify_source([(FOREIGN_ENVELOPE, 60), (SPOOFED, 40)], None).kind == "unknown"


def test_forwarded_passes_vote_against_a_minority_of_spoof_like_failures() -> None:
    result = classify_source([(FORWARDED_PASS, 85), (SPOOFED, 15)], None)
    assert result.kind == "forwarded"


def test_tie_between_fixable_and_third_party_goes_to_fixable() -> None:
    esp = sender("esp")
    assert classify_source([(UNCONFIGURED_ESP, 50), (SPOOFED, 50)], esp).kind == "misconfigured"


def test_tie_between_unknown_and_spoofing_goes_to_unknown() -> None:
    assert classify_source([(FOREIGN_ENVELOPE, 50), (SPOOFED, 50)], None).kind == "unknown"


def test_dominant_pattern_tie_follows_pattern_order() -> None:
    result = classify_source([(UNCONFIGURED_ESP, 50), (BROKEN_KEY, 50)], sender("esp"))
    assert result.dominant_pattern == "dkim_broken"
    assert result.pattern_volumes == (("dkim_broken", 50), ("both_unaligned", 50))


def test_shapes_repeated_in_the_input_are_added_up() -> None:
    result = classify_source([(SPOOFED, 5), (ALIGNED, 1), (SPOOFED, 5)], None)
    assert result.pattern_volumes == (("spf_fail_no_dkim", 10),)


@given(
    st.lists(st.tuples(any_shape(), st.integers(min_value=-3, max_value=1000)), max_size=8),
    SENDERS,
)
def test_volumes_always_add_up(
    shapes: list[tuple[AuthShape, int]], identity: SenderIdentity | None
) -> None:
    result = classify_source(shapes, identity)
    assert result.kind in CLASSIFICATION_KINDS
    assert result.messages == result.passing + result.failing
    assert sum(volume for _, volume in result.pattern_volumes) == result.failing
    assert (result.dominant_pattern is None) == (result.failing == 0)
