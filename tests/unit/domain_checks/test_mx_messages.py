"""Every MX and reputation finding has ja and en words naming only values the section fills."""

from __future__ import annotations

import re

import pytest

from todoke.core.texts import load_file, placeholders, text
from todoke.domains.checks.findings import MESSAGES_DIR, Finding, Status, describe
from todoke.domains.checks.mx import FINDINGS

SECTION = "mx"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def words_for(name: str) -> dict[str, object]:
    data = load_file(MESSAGES_DIR / f"{SECTION}.toml")
    return data if name in data else load_file(MESSAGES_DIR / "common.toml")


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("name", sorted(FINDINGS))
def test_every_finding_has_message_and_advice_naming_only_filled_values(
    name: str, locale: str
) -> None:
    for part in ("message", "advice"):
        words = text(words_for(name), name, locale, part)
        assert words.strip(), f"{SECTION}.{name} {locale}.{part} is empty"
        assert placeholders(words) <= FINDINGS[name], f"{SECTION}.{name} {locale}.{part}"
        if locale == "ja":
            assert JAPANESE.search(words), f"{SECTION}.{name} ja.{part} is not Japanese"


def test_message_file_has_no_words_for_findings_never_emitted() -> None:
    names = set(load_file(MESSAGES_DIR / f"{SECTION}.toml")) - {"fallback"}
    assert names <= set(FINDINGS)


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("name", sorted(FINDINGS))
def test_described_finding_has_every_placeholder_filled(name: str, locale: str) -> None:
    values = {key: f"<{key}>" for key in FINDINGS[name]}
    described = describe(Finding(f"{SECTION}.{name}", Status.INFO, values), locale)
    assert "{" not in described.message + described.advice
