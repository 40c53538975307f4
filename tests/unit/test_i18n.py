"""Catalogues are complete and language negotiation is robust."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from todoke.i18n import LOCALE_DIR, negotiate_locale

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _source_messages() -> set[str]:
    method_map = [("src/todoke/**.py", "python"), ("src/todoke/web/templates/**.html", "jinja2")]
    options = {"src/todoke/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map=options, keywords={"_": None, "N_": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_has_a_japanese_translation() -> None:
    catalog = _catalog("ja")
    translated = {message.id: message.string for message in catalog if message.id}
    missing = sorted(m for m in _source_messages() if not translated.get(m))
    assert missing == [], f"run `make messages` and translate: {missing}"


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A message's singular and plural forms (ngettext entries are tuples)."""
    return (text,) if isinstance(text, str) else tuple(text)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_translations_keep_their_placeholders(locale: str) -> None:
    checked = 0
    for message in _catalog(locale):
        if not message.id:
            continue
        wanted = set(PLACEHOLDER.findall(_forms(message.id)[0]))
        for form in _forms(message.string):
            if form:
                assert set(PLACEHOLDER.findall(form)) == wanted, message.id
                checked += 1
    assert checked > 0 or locale == "en"  # en falls back to the msgids


@pytest.mark.parametrize(
    ("user_locale", "header", "expected"),
    [
        ("en", "ja", "en"),
        (None, "ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        (None, "fr-FR,en;q=0.5,ja;q=0.7", "ja"),
        (None, "fr-FR,de;q=0.9", "ja"),
        (None, "en-US", "en"),
        (None, "ja;q=0, en", "en"),
        (None, None, "ja"),
    ],
)
def test_negotiation(user_locale: str | None, header: str | None, expected: str) -> None:
    assert negotiate_locale(user_locale, header, "ja") == expected


@given(st.text(max_size=300), st.sampled_from([None, "ja", "en", "xx"]))
def test_negotiation_never_fails_on_any_header(header: str, user_locale: str | None) -> None:
    assert negotiate_locale(user_locale, header, "en") in ("ja", "en")
