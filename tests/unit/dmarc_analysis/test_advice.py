"""The advice files are complete in both languages, and filling them never fails."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.dmarc_analysis.factories import DOMAIN, NOTHING, sender, shape
from todoke.dmarc.analysis.advice import (
    ADVICE_FIELDS,
    ADVICE_PLACEHOLDERS,
    ALIGNMENT_FILE,
    ALIGNMENT_PLACEHOLDERS,
    PATTERNS_FILE,
    advise,
    describe_shape,
)
from todoke.dmarc.analysis.patterns import PATTERN_IDS, PatternId
from todoke.dmarc.analysis.readiness import READINESS_FILE, REASON_IDS
from todoke.dmarc.analysis.texts import LOCALES, fallbacks, fill, load, placeholders, text

READINESS_PLACEHOLDERS = {
    "domain", "days", "needed", "rate", "threshold", "window", "count", "messages"
}  # fmt: skip
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
LEFTOVER = re.compile(r"\{[a-z_]+\}")
POLITE_ENDINGS = ("ます", "ません", "ました", "です", "でした", "ください")
TRAILING_NOTE = re.compile(r"（[^（）]*）$")


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [found for value in node.values() for found in _strings(value)]
    return []


@pytest.mark.parametrize("pattern", PATTERN_IDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_pattern_has_every_field_in_both_languages(pattern: str, locale: str) -> None:
    data = load(PATTERNS_FILE)
    for field in ADVICE_FIELDS:
        assert text(data, pattern, locale, field).strip()


@pytest.mark.parametrize(
    ("name", "known"),
    [
        (PATTERNS_FILE, ADVICE_PLACEHOLDERS | {"fix"}),
        (ALIGNMENT_FILE, ALIGNMENT_PLACEHOLDERS),
        (READINESS_FILE, READINESS_PLACEHOLDERS),
    ],
)
def test_files_use_only_known_placeholders_and_have_fallbacks_for_them(
    name: str, known: set[str]
) -> None:
    data = load(name)
    used = set().union(*(placeholders(found) for found in _strings(data)))
    assert used <= known
    for locale in LOCALES:
        assert used - {"fix"} <= set(fallbacks(data, locale))


def test_japanese_texts_are_japanese_sentences_in_desu_masu() -> None:
    data = load(PATTERNS_FILE)
    for pattern in PATTERN_IDS:
        for field in ("meaning", "why", "action"):
            sentence = text(data, pattern, "ja", field)
            assert JAPANESE.search(sentence)
            assert sentence.endswith("。")
            for part in filter(None, sentence.split("。")):
                assert TRAILING_NOTE.sub("", part).endswith(POLITE_ENDINGS), part


def test_every_readiness_reason_has_both_languages() -> None:
    data = load(READINESS_FILE)
    for reason in REASON_IDS:
        assert JAPANESE.search(text(data, reason, "ja"))
        assert not JAPANESE.search(text(data, reason, "en"))


@pytest.mark.parametrize("pattern", PATTERN_IDS)
@pytest.mark.parametrize("locale", ["ja", "en", "ja-JP", "fr"])
def test_advice_without_a_shape_reads_without_placeholders(pattern: PatternId, locale: str) -> None:
    advice = advise(pattern, locale=locale, domain=DOMAIN, sender=None, shape=None, sender_fix=None)
    for part in (advice.title, advice.meaning, advice.why, advice.action):
        assert not LEFTOVER.search(part)
    assert advice.sender_specific is None


def test_advice_names_the_domains_of_the_shape() -> None:
    unconfigured = shape(spf=("bounces.sendgrid.net", "pass"), dkim=("sendgrid.net", "pass"))
    advice = advise(
        "both_unaligned",
        locale="en",
        domain=DOMAIN,
        sender=None,
        shape=unconfigured,
        sender_fix=None,
    )
    assert "bounces.sendgrid.net" in advice.meaning
    assert "sendgrid.net" in advice.meaning
    assert DOMAIN in advice.action


def test_broken_signature_advice_names_the_selector_record() -> None:
    broken = shape(spf=(DOMAIN, "fail"), dkim=(DOMAIN, "fail"), selector="2024a")
    advice = advise(
        "dkim_broken", locale="ja", domain=DOMAIN, sender=None, shape=broken, sender_fix=None
    )
    assert "2024a._domainkey.example.jp" in advice.action


def test_unknown_locale_falls_back_to_english() -> None:
    advice = advise("no_auth", locale="de", domain=DOMAIN, sender=None, shape=None, sender_fix=None)
    assert not JAPANESE.search(advice.title)


def test_sender_specific_fix_is_introduced_with_the_senders_japanese_name() -> None:
    esp = sender("esp", name="SendGrid")
    advice = advise(
        "both_unaligned",
        locale="ja",
        domain=DOMAIN,
        sender=esp,
        shape=None,
        sender_fix="Settings > Sender Authentication で {domain} を認証します。",
    )
    assert advice.sender_specific is not None
    assert esp.name_ja in advice.sender_specific
    assert "で example.jp を認証します。" in advice.sender_specific


def test_sender_fix_with_an_unknown_placeholder_is_kept_as_written() -> None:
    advice = advise(
        "spf_unaligned",
        locale="en",
        domain=DOMAIN,
        sender=None,
        shape=None,
        sender_fix="Open {console} and verify {domain}.",
    )
    assert advice.sender_specific == "Open {console} and verify example.jp."


@given(value=st.text(max_size=40))
def test_values_are_inserted_as_plain_text_never_read_as_templates(value: str) -> None:
    filled = fill("{domain} / {selector}", {"domain": value, "selector": "s1"}, {})
    if value:
        assert filled == f"{value} / s1"


@given(template=st.text(max_size=60))
def test_filling_any_template_never_raises(template: str) -> None:
    assert isinstance(fill(template, {"domain": DOMAIN}, {"sender": "x"}), str)


def test_describe_shape_explains_an_unaligned_spf_pass() -> None:
    spf_line, dkim_line = describe_shape(
        shape(spf=("bounces.sendgrid.net", "pass"), dkim=NOTHING), locale="en"
    )
    assert "bounces.sendgrid.net" in spf_line
    assert "not example.jp" in spf_line
    assert "no DKIM signature" in dkim_line


def test_describe_shape_speaks_japanese() -> None:
    lines = describe_shape(shape(spf=(DOMAIN, "softfail"), dkim=NOTHING), locale="ja")
    assert all(JAPANESE.search(line) and not LEFTOVER.search(line) for line in lines)
    assert "softfail" in lines[0]
