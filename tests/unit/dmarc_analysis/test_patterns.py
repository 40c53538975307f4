"""Every failing shape falls into exactly one error pattern, by the documented rule."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given

from tests.unit.dmarc_analysis.factories import DOMAIN, NOTHING, SENDERS, any_shape, sender, shape
from todoke.dmarc.analysis.patterns import PATTERN_IDS, PatternId, pattern_of
from todoke.dmarc.shapes import AuthShape, SenderIdentity, shape_of

ESP_SPF = ("bounces.sendgrid.net", "pass")
ESP_DKIM = ("sendgrid.net", "pass")


@pytest.mark.parametrize(
    "passing",
    [
        shape(spf=(DOMAIN, "pass"), dkim=NOTHING),
        shape(spf=ESP_SPF, dkim=(DOMAIN, "pass")),
        shape(spf=(DOMAIN, "fail"), dkim=("mail.example.jp", "pass")),
    ],
)
def test_passing_shapes_have_no_pattern(passing: AuthShape) -> None:
    assert pattern_of(passing) is None


CASES: list[tuple[str, AuthShape, SenderIdentity | None, PatternId]] = [
    ("nothing reported", shape(spf=NOTHING, dkim=NOTHING), None, "no_auth"),
    ("spf none, no dkim", shape(spf=(DOMAIN, "none"), dkim=(None, "none")), None, "no_auth"),
    ("spf neutral asserts nothing", shape(spf=(DOMAIN, "neutral"), dkim=NOTHING), None, "no_auth"),
    ("spf fail", shape(spf=(DOMAIN, "fail"), dkim=NOTHING), None, "spf_fail_no_dkim"),
    ("spf softfail", shape(spf=(DOMAIN, "softfail"), dkim=NOTHING), None, "spf_fail_no_dkim"),
    (
        "spf fail with a foreign failing signature",
        shape(spf=(DOMAIN, "fail"), dkim=("spam.example", "fail")),
        None,
        "spf_fail_no_dkim",
    ),
    ("return-path of the esp", shape(spf=ESP_SPF, dkim=NOTHING), None, "spf_unaligned"),
    (
        "return-path of the esp, foreign signature broken",
        shape(spf=ESP_SPF, dkim=("sendgrid.net", "fail")),
        None,
        "spf_unaligned",
    ),
    ("third-party signature", shape(spf=(DOMAIN, "fail"), dkim=ESP_DKIM), None, "dkim_unaligned"),
    ("unconfigured esp", shape(spf=ESP_SPF, dkim=ESP_DKIM), None, "both_unaligned"),
    (
        "own signature broken, spf fails for own domain",
        shape(spf=(DOMAIN, "softfail"), dkim=(DOMAIN, "fail")),
        None,
        "dkim_broken",
    ),
    (
        "own signature broken at a known esp",
        shape(spf=ESP_SPF, dkim=(DOMAIN, "fail")),
        sender("esp"),
        "dkim_broken",
    ),
    (
        "mailing list: list envelope passes, author signature broken",
        shape(spf=("lists.example.org", "pass"), dkim=(DOMAIN, "fail")),
        None,
        "forwarded",
    ),
    (
        "receiver says forwarded",
        shape(spf=(DOMAIN, "fail"), dkim=NOTHING, override="forwarded"),
        None,
        "forwarded",
    ),
    (
        "known forwarding service",
        shape(spf=(DOMAIN, "fail"), dkim=NOTHING),
        sender("forwarder"),
        "forwarded",
    ),
    ("dns trouble", shape(spf=(DOMAIN, "temperror"), dkim=NOTHING), None, "temporary_error"),
    ("broken key record", shape(spf=NOTHING, dkim=(DOMAIN, "permerror")), None, "temporary_error"),
    (
        "forged foreign signature, spf silent",
        shape(spf=("spam.example", "none"), dkim=("spam.example", "fail")),
        None,
        "no_auth",
    ),
    ("result word nobody defines", shape(spf=(DOMAIN, "hardfail"), dkim=NOTHING), None, "other"),
    (
        "strict adkim: own subdomain signature does not align",
        shape(spf=NOTHING, dkim=("mail.example.jp", "pass"), dkim_aligned=False),
        None,
        "dkim_unaligned",
    ),
]


@pytest.mark.parametrize(
    ("case", "failing", "identity", "expected"), CASES, ids=[case[0] for case in CASES]
)
def test_each_branch_of_the_rule(
    case: str, failing: AuthShape, identity: SenderIdentity | None, expected: PatternId
) -> None:
    assert pattern_of(failing, identity) == expected


def test_receiver_override_comes_before_dns_errors() -> None:
    forwarded = shape(spf=(DOMAIN, "temperror"), dkim=NOTHING, override="mailing_list")
    assert pattern_of(forwarded) == "forwarded"


def test_an_override_that_is_not_about_forwarding_is_ignored() -> None:
    sampled = shape(spf=(DOMAIN, "fail"), dkim=NOTHING, override="sampled_out")
    assert pattern_of(sampled) == "spf_fail_no_dkim"


def test_dns_errors_come_before_a_broken_signature() -> None:
    broken = shape(spf=(DOMAIN, "permerror"), dkim=(DOMAIN, "fail"))
    assert pattern_of(broken) == "temporary_error"


def test_forwarding_service_comes_before_unaligned_passes() -> None:
    relayed = shape(spf=("fwd.example.net", "pass"), dkim=NOTHING)
    assert pattern_of(relayed, sender("forwarder")) == "forwarded"
    assert pattern_of(relayed, None) == "spf_unaligned"


def test_own_server_with_broken_signature_is_not_taken_for_a_mailing_list() -> None:
    own = shape(spf=("relay.example.net", "pass"), dkim=(DOMAIN, "fail"))
    assert pattern_of(own, sender("own")) == "dkim_broken"


@given(any_shape(), SENDERS)
def test_every_shape_maps_to_one_id_and_none_exactly_when_dmarc_passed(
    candidate: AuthShape, identity: SenderIdentity | None
) -> None:
    pattern = pattern_of(candidate, identity)
    assert (pattern is None) == candidate.dmarc_pass
    assert pattern is None or pattern in PATTERN_IDS
    assert pattern_of(candidate, identity) == pattern


def _generator_like_mix(rng: random.Random, count: int) -> list[AuthShape]:
    """Failing traffic in the proportions reports show: unconfigured services, forwarding,
    spoofing, broken keys, DNS hiccups, with the reporter's small variations."""
    scenarios: list[tuple[int, Callable[[], AuthShape]]] = [
        (30, lambda: shape(spf=ESP_SPF, dkim=ESP_DKIM)),
        (10, lambda: shape(spf=ESP_SPF, dkim=NOTHING)),
        (10, lambda: shape(spf=(DOMAIN, "fail"), dkim=("mktg.example.com", "pass"))),
        (15, lambda: shape(spf=(rng.choice([DOMAIN, None]), "softfail"), dkim=NOTHING)),
        (10, lambda: shape(spf=(DOMAIN, rng.choice(["none", "neutral", None])), dkim=NOTHING)),
        (8, lambda: shape(spf=("lists.example.org", "pass"), dkim=(DOMAIN, "fail"))),
        (5, lambda: shape(spf=(DOMAIN, "fail"), dkim=(DOMAIN, rng.choice(["fail", "neutral"])))),
        (5, lambda: shape(spf=(DOMAIN, "fail"), dkim=NOTHING, override="forwarded")),
        (3, lambda: shape(spf=(DOMAIN, rng.choice(["temperror", "permerror"])), dkim=NOTHING)),
        (4, lambda: shape(spf=("spam.example", "fail"), dkim=("spam.example", "fail"))),
    ]
    weights = [weight for weight, _ in scenarios]
    makers = [maker for _, maker in scenarios]
    return [rng.choices(makers, weights)[0]() for _ in range(count)]


def test_generator_like_traffic_rarely_lands_in_other() -> None:
    mix = _generator_like_mix(random.Random(7489), 2000)
    patterns = [pattern_of(item) for item in mix]
    assert None not in patterns
    assert patterns.count("other") / len(patterns) < 0.01


def test_the_report_generators_traffic_rarely_lands_in_other() -> None:
    corpus = pytest.importorskip("todoke.dmarc.corpus")
    volumes: Counter[PatternId | None] = Counter()
    for generated in corpus.generate_reports(corpus.CorpusSpec(reports=60, seed=9989)):
        for record in generated.report.records:
            volumes[pattern_of(shape_of(record))] += record.count
    failing = sum(count for pattern, count in volumes.items() if pattern is not None)
    assert failing > 0
    assert volumes["other"] / failing < 0.01


KNOWN_SPF = {None, "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}
KNOWN_DKIM = {None, "pass", "fail", "neutral", "none", "policy", "temperror", "permerror"}


@given(any_shape(), SENDERS)
def test_only_undefined_result_words_reach_other(
    candidate: AuthShape, identity: SenderIdentity | None
) -> None:
    if pattern_of(candidate, identity) == "other":
        assert candidate.spf_result not in KNOWN_SPF or candidate.dkim_result not in KNOWN_DKIM
