"""Every finding any check section can emit has Japanese and English words that name only the
values the section fills; no words exist for findings that are never emitted."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

from todoke.core.texts import load_file, placeholders, text
from todoke.domains.checks import bimi, dkim, dmarc, mta_sts, mx, spf, tlsrpt
from todoke.domains.checks.findings import MESSAGES_DIR, SECTIONS, Finding, Status, describe

MODULES: dict[str, ModuleType] = {
    "spf": spf,
    "dkim": dkim,
    "dmarc": dmarc,
    "bimi": bimi,
    "mta_sts": mta_sts,
    "tlsrpt": tlsrpt,
    "mx": mx,
}
CASES = [
    (section, name, values)
    for section, module in MODULES.items()
    for name, values in sorted(module.FINDINGS.items())
]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def words(section: str, name: str) -> dict[str, object]:
    data = load_file(MESSAGES_DIR / f"{section}.toml")
    return data if name in data else load_file(MESSAGES_DIR / "common.toml")


def test_every_section_is_covered() -> None:
    assert set(MODULES) == set(SECTIONS)


@pytest.mark.parametrize(("section", "name", "values"), CASES)
@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("part", ["message", "advice"])
def test_finding_has_words_using_only_filled_values(
    section: str, name: str, values: frozenset[str], locale: str, part: str
) -> None:
    template = text(words(section, name), name, locale, part)
    assert template.strip(), f"{section}.{name} {locale}.{part} is empty"
    assert placeholders(template) <= values, f"{section}.{name} {locale}.{part}"
    if locale == "ja":
        assert JAPANESE.search(template), f"{section}.{name} ja.{part} is not Japanese"


@pytest.mark.parametrize("section", sorted(MODULES))
def test_message_file_has_no_words_for_findings_never_emitted(section: str) -> None:
    data = load_file(MESSAGES_DIR / f"{section}.toml")
    assert set(data) - {"fallback"} <= set(MODULES[section].FINDINGS)


@pytest.mark.parametrize(("section", "name", "values"), CASES)
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_described_finding_has_every_placeholder_filled(
    section: str, name: str, values: frozenset[str], locale: str
) -> None:
    finding = Finding(f"{section}.{name}", Status.INFO, {key: f"<{key}>" for key in values})
    described = describe(finding, locale)
    assert not re.search(r"\{[a-z_]+\}", described.message + described.advice)


NO_CERTIFICATE = Finding(
    "bimi.record_ok", Status.PASS, {"name": "n", "location": "l", "authority": ""}
)
NO_DMARC = Finding("bimi.dmarc_not_enforced", Status.FAIL, {"domain": "d", "policy": ""})


@pytest.mark.parametrize(
    ("finding", "locale", "phrase"),
    [
        (NO_CERTIFICATE, "en", "certificate none"),
        (NO_CERTIFICATE, "ja", "証明書 なし"),
        (NO_DMARC, "ja", "適用される DMARC レコードなし"),
    ],
)
def test_empty_values_read_as_the_files_fallback_phrase(
    finding: Finding, locale: str, phrase: str
) -> None:
    assert phrase in describe(finding, locale).message
